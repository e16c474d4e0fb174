/*
 * bf_scenario_yaml.c: the text of a scenario or suite -> a libyaml
 * document, in one pass over the text.
 *
 * libyaml's loader (yaml_parser_load) has no bound on nesting, and its
 * parser slows down sharply on deep nesting (100k nested sequences took a
 * minute). So the document is composed here from the parser's events, with
 * the nodes, marks, anchors and messages of yaml_parser_load, and a
 * collection nested deeper than DEPTH_MAX is refused when it opens. No
 * scenario nests more than a few levels.
 *
 * Errors come in the order of a depth check over the whole stream followed
 * by the loads of the first two documents: a level too deep anywhere before
 * a syntax error; else the first error of the first document (syntax,
 * undefined alias, duplicate anchor); else that of a second document; else
 * the second document itself. Events after the second document are only
 * counted for depth.
 */
#include "bf_scenario_int.h"

/* Deepest nesting of collections in a scenario or suite. */
#define DEPTH_MAX 32

/* An anchor of the document being composed. */
struct anchor {
    char *name;
    int id; /* the node it names */
    yaml_mark_t mark;
};

/* State of the document being composed. */
struct composer {
    const struct parse *p;
    yaml_document_t *doc; /* NULL: events are only counted */
    int open[DEPTH_MAX]; /* node ids of the open collections, outermost first */
    int key[DEPTH_MAX];  /* an open mapping's key awaiting its value, or 0 */
    size_t n_open;
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
};

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

/* "file:line:col: problem (context at line n)", as libyaml words them. */
static int yaml_error(const struct parse *p, const char *problem, size_t line,
                      size_t column, const char *context,
                      yaml_mark_t context_mark)
{
    if (context)
        return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s (%s at line %zu)", p->file,
                          line, column, problem, context,
                          context_mark.line + 1);
    return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s", p->file, line, column,
                      problem);
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
    return yaml_error(p, problem, line, column, parser->context,
                      parser->context_mark);
}

static int no_memory(const struct composer *c)
{
    return bf_err_set(BF_ENOMEM, "%s: out of memory", c->p->file);
}

static void anchors_clear(struct composer *c)
{
    for (size_t i = 0; i < c->n_anchors; i++)
        free(c->anchors[i].name);
    c->n_anchors = 0;
}

/* Start composing into doc (NULL: compose nothing). */
static void composer_start(struct composer *c, yaml_document_t *doc)
{
    anchors_clear(c);
    c->doc = doc;
    c->n_open = 0;
}

/* Remember anchor (may be NULL) as naming node id. */
static int add_anchor(struct composer *c, const yaml_char_t *anchor, int id)
{
    const char *name = (const char *)anchor;
    yaml_mark_t mark = c->doc->nodes.start[id - 1].start_mark;
    struct anchor *a;

    if (!name)
        return 0;
    for (size_t i = 0; i < c->n_anchors; i++)
        if (strcmp(c->anchors[i].name, name) == 0)
            return yaml_error(
                c->p, "second occurrence", mark.line + 1, mark.column + 1,
                "found duplicate anchor; first occurrence", c->anchors[i].mark);
    if (c->n_anchors == c->cap_anchors) {
        size_t cap = c->cap_anchors ? 2 * c->cap_anchors : 8;

        a = realloc(c->anchors, cap * sizeof(*a));
        if (!a)
            return no_memory(c);
        c->anchors = a;
        c->cap_anchors = cap;
    }
    a = &c->anchors[c->n_anchors];
    a->name = dup_bytes(name, strlen(name));
    if (!a->name)
        return no_memory(c);
    a->id = id;
    a->mark = mark;
    c->n_anchors++;
    return 0;
}

/* Add node id to the innermost open collection (none: id is the root). */
static int attach(struct composer *c, int id)
{
    size_t top;
    int parent;

    if (c->n_open == 0)
        return 0;
    top = c->n_open - 1;
    parent = c->open[top];
    if (c->doc->nodes.start[parent - 1].type == YAML_SEQUENCE_NODE)
        return yaml_document_append_sequence_item(c->doc, parent, id)
                   ? 0
                   : no_memory(c);
    if (!c->key[top]) {
        c->key[top] = id;
        return 0;
    }
    if (!yaml_document_append_mapping_pair(c->doc, parent, c->key[top], id))
        return no_memory(c);
    c->key[top] = 0;
    return 0;
}

/* A tag as the loader keeps it: none and "!" give the default. */
static const yaml_char_t *tag_of(const yaml_char_t *tag)
{
    return tag && strcmp((const char *)tag, "!") == 0 ? NULL : tag;
}

/* Compose one node event (scalar, alias, collection start or end). */
static int compose(struct composer *c, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL;
    yaml_node_t *node;
    int id, rc;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        for (size_t i = 0; i < c->n_anchors; i++)
            if (strcmp(c->anchors[i].name,
                       (const char *)ev->data.alias.anchor) == 0)
                return attach(c, c->anchors[i].id);
        return yaml_error(c->p, "found undefined alias",
                          ev->start_mark.line + 1, ev->start_mark.column + 1,
                          NULL, ev->start_mark);
    case YAML_SCALAR_EVENT:
        id = yaml_document_add_scalar(
            c->doc, tag_of(ev->data.scalar.tag), ev->data.scalar.value,
            (int)ev->data.scalar.length, ev->data.scalar.style);
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        id = yaml_document_add_sequence(c->doc,
                                        tag_of(ev->data.sequence_start.tag),
                                        ev->data.sequence_start.style);
        anchor = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        id = yaml_document_add_mapping(c->doc,
                                       tag_of(ev->data.mapping_start.tag),
                                       ev->data.mapping_start.style);
        anchor = ev->data.mapping_start.anchor;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        assert(c->n_open > 0);
        c->n_open--;
        c->doc->nodes.start[c->open[c->n_open] - 1].end_mark = ev->end_mark;
        return 0;
    default:
        return 0;
    }
    if (!id)
        return no_memory(c);
    node = &c->doc->nodes.start[id - 1];
    node->start_mark = ev->start_mark;
    node->end_mark = ev->end_mark;
    if ((rc = add_anchor(c, anchor, id)) || (rc = attach(c, id)))
        return rc;
    if (node->type != YAML_SCALAR_NODE) {
        /* The depth check refused deeper nesting before this event. */
        assert(c->n_open < DEPTH_MAX);
        c->open[c->n_open] = id;
        c->key[c->n_open] = 0;
        c->n_open++;
    }
    return 0;
}

int bf__scenario_load_document(const struct parse *p, const char *text,
                               size_t len, yaml_document_t *doc)
{
    struct composer c = {.p = p};
    yaml_parser_t parser;
    yaml_document_t extra;
    int depth = 0, n_docs = 0, done = 0;
    int pending = 0; /* the documents' first error, unless too deep */
    int rc;

    if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    memset(&extra, 0, sizeof(extra));
    if (!yaml_parser_initialize(&parser)) {
        yaml_document_delete(doc);
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&parser, &ev)) {
            if (!pending)
                pending = syntax_error(p, &parser, text, len);
            break;
        }
        if (ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > DEPTH_MAX) {
                rc = at_error(p, BF_ERANGE, ev.start_mark, NULL,
                              "collections nested deeper than %d levels",
                              DEPTH_MAX);
                yaml_event_delete(&ev);
                goto out;
            }
        } else if (ev.type == YAML_SEQUENCE_END_EVENT ||
                   ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        if (pending) {
            /* Only the depth of the rest matters. */
        } else if (ev.type == YAML_DOCUMENT_START_EVENT) {
            /* The first document is the result, a second one an error
             * once it is read (its own errors come first). */
            if (++n_docs == 2 &&
                !yaml_document_initialize(&extra, NULL, NULL, NULL, 1, 1))
                pending = bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
            composer_start(&c, n_docs == 1 ? doc : &extra);
        } else if (ev.type == YAML_DOCUMENT_END_EVENT) {
            if (n_docs == 2)
                pending = at_error(
                    p, BF_EPARSE,
                    yaml_document_get_root_node(&extra)->start_mark, NULL,
                    "a scenario is one YAML document, found "
                    "another");
            composer_start(&c, NULL);
        } else if (c.doc) {
            pending = compose(&c, &ev);
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    rc = pending;

out:
    anchors_clear(&c);
    free(c.anchors);
    yaml_document_delete(&extra); /* a zeroed document is empty */
    yaml_parser_delete(&parser);
    if (rc)
        yaml_document_delete(doc);
    return rc;
}
