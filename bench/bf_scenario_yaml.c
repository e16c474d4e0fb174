/*
 * bf_scenario_yaml.c: the text of a scenario or suite -> a libyaml
 * document, nesting bounded.
 */
#include "bf_scenario_int.h"

/* Line and column (1-based) of a byte offset, for reader errors. */
static void offset_position(const char *text, size_t len, size_t offset,
                            size_t *line, size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static int syntax_error(const struct parse *p, const yaml_parser_t *parser,
                        const char *text, size_t len)
{
    const char *problem = parser->problem ? parser->problem : "syntax error";
    size_t line = parser->problem_mark.line + 1;
    size_t column = parser->problem_mark.column + 1;

    if (parser->error == YAML_MEMORY_ERROR)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (parser->error == YAML_READER_ERROR)
        offset_position(text, len, parser->problem_offset, &line, &column);
    if (parser->context)
        return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s (%s at line %zu)", p->file,
                          line, column, problem, parser->context,
                          parser->context_mark.line + 1);
    return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s", p->file, line, column,
                      problem);
}

/*
 * Refuse collections nested deeper than DEPTH_MAX before building the
 * document: libyaml's loader slows down sharply on deep nesting (100k
 * nested sequences took a minute), and no scenario nests more than a few
 * levels. Reads events only up to the first level too deep. A syntax error
 * is left to the loader, which reports it.
 */
#define DEPTH_MAX 32
static int check_depth(const struct parse *p, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0, rc = 0, done = 0;

    if (!yaml_parser_initialize(&parser))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && rc == 0 && yaml_parser_parse(&parser, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > DEPTH_MAX)
                rc = at_error(p, BF_ERANGE, ev.start_mark, NULL,
                              "collections nested deeper than %d levels",
                              DEPTH_MAX);
        } else if (ev.type == YAML_SEQUENCE_END_EVENT ||
                   ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int bf__scenario_load_document(const struct parse *p, const char *text,
                               size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    yaml_node_t *extra_root;
    int rc = check_depth(p, text, len);

    if (rc)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        rc = syntax_error(p, &parser, text, len);
        goto out_parser;
    }
    if (!yaml_document_get_root_node(doc))
        goto out_parser;
    /* A second document, or a syntax error after the first, is an error. */
    if (!yaml_parser_load(&parser, &extra)) {
        rc = syntax_error(p, &parser, text, len);
        goto out_doc;
    }
    extra_root = yaml_document_get_root_node(&extra);
    if (extra_root)
        rc = at_error(p, BF_EPARSE, extra_root->start_mark, NULL,
                      "a scenario is one YAML document, found another");
    yaml_document_delete(&extra);
    if (rc)
        goto out_doc;
    goto out_parser;

out_doc:
    yaml_document_delete(doc);
out_parser:
    yaml_parser_delete(&parser);
    return rc;
}
