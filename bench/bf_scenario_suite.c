/*
 * bf_scenario_suite.c: suites, files that list scenario files for
 * `bfbench run` to run in order. A file is a suite when its top level is a
 * mapping with a `suite` key; anything else is left to the scenario loader
 * and its messages.
 */
#include "bf_scenario_int.h"

#include "bf_buf.h"

/* Fill out from the suite mapping root (which has a "suite" key). */
static int parse_suite(const struct parse *p, const yaml_node_t *root,
                       struct bf_suite *out)
{
    yaml_node_pair_t *pair;

    for (pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        const char *name = k->type == YAML_SCALAR_NODE ? scalar_text(k) : "";
        yaml_node_item_t *item;

        if (strcmp(name, "name") == 0 && v->type == YAML_SCALAR_NODE &&
            !is_null(v)) {
            if (v->data.scalar.length >= sizeof(out->name))
                return at_error(p, BF_ERANGE, v->start_mark, "name",
                                "longer than %zu bytes", sizeof(out->name) - 1);
            copy_str(out->name, sizeof(out->name), scalar_text(v));
            continue;
        }
        if (strcmp(name, "suite") != 0)
            return at_error(p, BF_EPARSE, k->start_mark, NULL,
                            "a suite file holds only 'name' and 'suite' (a "
                            "list of scenario files), got '%.64s'",
                            name);
        if (v->type != YAML_SEQUENCE_NODE ||
            v->data.sequence.items.start == v->data.sequence.items.top)
            return at_error(p, BF_EPARSE, v->start_mark, "suite",
                            "expected a non-empty list of scenario files");
        for (item = v->data.sequence.items.start;
             item < v->data.sequence.items.top; item++) {
            yaml_node_t *f = yaml_document_get_node(p->doc, *item);
            const char *text;
            const char *problem;
            char *path;
            size_t dir_len;

            if (f->type != YAML_SCALAR_NODE || is_null(f))
                return at_error(p, BF_EPARSE, f->start_mark, "suite",
                                "expected a scenario file name, got %s",
                                node_kind(f));
            if (out->n == BF_SUITE_MAX)
                return at_error(p, BF_ERANGE, f->start_mark, "suite",
                                "more than %d scenario files", BF_SUITE_MAX);
            text = scalar_text(f);
            dir_len = text[0] == '/' ? 0 : p->dir_len;
            if (dir_len + strlen(text) >= BF_SCENARIO_PATH_MAX)
                return at_error(p, BF_ERANGE, f->start_mark, "suite",
                                "path longer than %d bytes",
                                BF_SCENARIO_PATH_MAX - 1);
            path = out->paths[out->n];
            memcpy(path, p->dir, dir_len);
            memcpy(path + dir_len, text, strlen(text) + 1);
            if ((problem = bf__scenario_file_problem(path)))
                return at_error(p, BF_EPARSE, f->start_mark, "suite",
                                "cannot open '%s': %s", path, problem);
            out->n++;
        }
    }
    return 0;
}

/*
 * Read path and load its document into *doc; fill out when it is a suite
 * (out->n = 0 otherwise). p is set up for path. On success *doc and text
 * are the caller's; on failure both are freed.
 */
static int load_suite(const char *path, struct parse *p, struct bf_suite *out,
                      yaml_document_t *doc, struct bf_buf *text)
{
    const char *slash = strrchr(path, '/');
    yaml_node_t *root;
    int rc;

    p->file = path;
    p->dir = path;
    p->dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    memset(out, 0, sizeof(*out));
    bf__scenario_default_name(out->name, sizeof(out->name), path);
    bf_buf_init(text);
    rc = bf_buf_read_file(text, path, TEXT_MAX, "scenario");
    if (rc == 0)
        rc = bf__scenario_load_document(p, bf_buf_str(text), text->len, doc);
    if (rc) {
        bf_buf_free(text);
        return rc;
    }
    p->doc = doc;
    root = yaml_document_get_root_node(doc);
    /* Anything but a mapping with a "suite" key is left to the scenario
     * loader (and its messages). */
    if (root && root->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *pair;

        for (pair = root->data.mapping.pairs.start;
             pair < root->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(doc, pair->key);

            if (k->type == YAML_SCALAR_NODE &&
                strcmp(scalar_text(k), "suite") == 0) {
                rc = parse_suite(p, root, out);
                break;
            }
        }
    }
    if (rc) {
        out->n = 0;
        yaml_document_delete(doc);
        bf_buf_free(text);
    }
    return rc;
}

int bf_suite_load(const char *path, struct bf_suite *out)
{
    struct parse p = {0};
    yaml_document_t doc;
    struct bf_buf text;
    int rc;

    if (!path || !out)
        return bf_err_set(BF_EINVAL, "bf_suite_load: invalid argument");
    rc = load_suite(path, &p, out, &doc, &text);
    if (rc)
        return rc;
    yaml_document_delete(&doc);
    bf_buf_free(&text);
    return 0;
}

int bf_scenario_load_or_suite(const char *path,
                              const struct bf_scenario_params *params,
                              struct bf_suite *suite, struct bf_scenario **out)
{
    struct parse p = {0};
    yaml_document_t doc;
    struct bf_buf text;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !params || !params->model_exists || !suite || !out)
        return bf_err_set(BF_EINVAL,
                          "bf_scenario_load_or_suite: invalid argument");
    rc = load_suite(path, &p, suite, &doc, &text);
    if (rc)
        return rc;
    /* Not a suite: the document is the scenario's, read once. */
    if (suite->n == 0 && (rc = bf__scenario_check_name(path)) == 0) {
        p.params = params;
        rc = bf__scenario_parse_document(&p, &doc, bf_buf_str(&text), text.len,
                                         out);
    }
    yaml_document_delete(&doc);
    bf_buf_free(&text);
    return rc;
}
