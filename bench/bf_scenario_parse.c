/*
 * bf_scenario_parse.c: loading a scenario. The text is loaded into a
 * libyaml document (bf_scenario_yaml.c); the top-level mapping is then
 * walked in file order, each key checked against the key table and its
 * value parsed into the key's slot. Absent keys take their default, parsed
 * from the table's text by the same code as the file's values (a list
 * default is written "[a,b,c]"). Checks that depend on keys that may come
 * later in the file run after the walk: that every key given applies to
 * the task, the weights mapping (it refers to the models), and those that
 * span keys. bf_scenario_expand.c then stores the values and expands the
 * cases.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_scenario_int.h"

#include "bf_buf.h"
#include "bf_link.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

static const struct bf_scenario_key *const keys = bf__scenario_key_table;

/* What a value of this type looks like, for "expected ..." messages. */
static const char *type_what(enum bf_key_type type)
{
    switch (type) {
    case BF_KEY_INT:
        return "an integer";
    case BF_KEY_FLOAT:
        return "a number";
    case BF_KEY_BOOL:
        return "true or false";
    case BF_KEY_STRING:
        return "a string";
    case BF_KEY_ENUM:
        return "a word";
    case BF_KEY_MODEL:
        return "a model name";
    case BF_KEY_PATH:
        return "a file path";
    case BF_KEY_DIR:
        return "a directory path";
    case BF_KEY_WEIGHTS:
        return "a mapping of model name to weights file";
    }
    return "a value";
}

const char *bf__scenario_file_problem(const char *path)
{
    struct stat st;
    FILE *f;

    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISREG(st.st_mode))
        return "not a regular file";
    f = fopen(path, "rb");
    if (!f)
        return strerror(errno);
    fclose(f);
    return NULL;
}

/* Why path is not a readable directory, or NULL when it is; as above. */
static const char *dir_problem(const char *path)
{
    struct stat st;
    DIR *d;

    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "not a directory";
    d = opendir(path);
    if (!d)
        return strerror(errno);
    closedir(d);
    return NULL;
}

/*
 * Resolve text against the scenario's directory and check that it names a
 * readable directory (DIR keys) or file (the others). what_prefix goes
 * before the problem in messages ("" or "model 'x': ").
 */
static int resolve_path(const struct parse *p, int k, const char *text,
                        yaml_mark_t mark, const char *what_prefix, char **out)
{
    size_t len = strlen(text);
    size_t dir_len = text[0] == '/' ? 0 : p->dir_len;
    const char *problem;
    char *path;

    if (dir_len + len >= BF_SCENARIO_PATH_MAX)
        return at_error(p, BF_ERANGE, mark, keys[k].name,
                        "%spath longer than %d bytes", what_prefix,
                        BF_SCENARIO_PATH_MAX - 1);
    path = malloc(dir_len + len + 1);
    if (!path)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    memcpy(path, p->dir, dir_len);
    memcpy(path + dir_len, text, len + 1);
    problem = keys[k].type == BF_KEY_DIR ? dir_problem(path)
                                         : bf__scenario_file_problem(path);
    if (problem) {
        int rc = at_error(p, BF_EPARSE, mark, keys[k].name,
                          "%scannot open '%s': %s", what_prefix, path, problem);
        free(path);
        return rc;
    }
    *out = path;
    return 0;
}

static int parse_int(const struct parse *p, int k, const char *text,
                     yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' ||
        !(text[0] == '-' || text[0] == '+' ||
          (text[0] >= '0' && text[0] <= '9')))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "expected an integer, got '%.64s'", text);
    if (errno == ERANGE || v < (long long)key->min || v > (long long)key->max)
        return at_error(p, BF_ERANGE, mark, key->name,
                        "%.64s is out of range %.0f..%.0f", text, key->min,
                        key->max);
    out->i = v;
    return 0;
}

static int parse_float(const struct parse *p, int k, const char *text,
                       yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' ||
        !(text[0] == '-' || text[0] == '+' || text[0] == '.' ||
          (text[0] >= '0' && text[0] <= '9')))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "expected a number, got '%.64s'", text);
    if (errno == ERANGE || !isfinite(v) || v < key->min || v > key->max)
        return at_error(p, BF_ERANGE, mark, key->name,
                        "%.64s is out of range %g..%g", text, key->min,
                        key->max);
    out->f = v;
    return 0;
}

static int parse_bool(const struct parse *p, int k, const char *text,
                      yaml_mark_t mark, struct value *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    size_t i;

    for (i = 0; i < 3; i++) {
        if (strcmp(text, yes[i]) == 0) {
            out->i = 1;
            return 0;
        }
        if (strcmp(text, no[i]) == 0) {
            out->i = 0;
            return 0;
        }
    }
    return at_error(p, BF_EPARSE, mark, keys[k].name,
                    "expected true or false, got '%.64s'", text);
}

/* The text-valued types: STRING, ENUM, MODEL, PATH, DIR. */
static int parse_text_value(const struct parse *p, int k, const char *text,
                            size_t len, yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];

    if (memchr(text, '\0', len))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "value contains a NUL byte");
    switch (key->type) {
    case BF_KEY_STRING:
        if (len >= BF_SCENARIO_NAME_MAX)
            return at_error(p, BF_ERANGE, mark, key->name,
                            "value longer than %d bytes",
                            BF_SCENARIO_NAME_MAX - 1);
        break;
    case BF_KEY_ENUM:
        if (!bf__scenario_is_choice(key->choices, text)) {
            char buf[SUGGEST_LEN_MAX + 1];
            const char *guess = bf__scenario_suggest_choice(key->choices, text,
                                                            buf, sizeof(buf));

            return at_error(p, BF_EPARSE, mark, key->name,
                            "unknown value '%.64s' (%s%s%schoices: %s)", text,
                            guess ? "did you mean '" : "", guess ? guess : "",
                            guess ? "'? " : "", key->choices);
        }
        break;
    case BF_KEY_MODEL:
        if (len >= BF_SCENARIO_NAME_MAX || !p->params->model_exists(text))
            return at_error(p, BF_EPARSE, mark, key->name,
                            "unknown model '%.64s' (see `bfbench models`)",
                            text);
        break;
    case BF_KEY_PATH:
    case BF_KEY_DIR: {
        int rc;

        if (len == 0)
            return at_error(p, BF_EPARSE, mark, key->name,
                            "expected %s, got an empty string",
                            type_what(key->type));
        rc = resolve_path(p, k, text, mark, "", &out->path);
        if (rc)
            return rc;
        break;
    }
    default:
        assert(0 && "not a text type");
    }
    out->s = dup_bytes(text, len);
    if (!out->s)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    return 0;
}

/*
 * Parse one scalar of key k. quoted: the scalar was quoted in the file,
 * which makes it a string in YAML and so a type error for numbers and bools.
 */
static int parse_scalar(const struct parse *p, int k, const char *text,
                        size_t len, int quoted, yaml_mark_t mark,
                        struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];

    out->mark = mark;
    switch (key->type) {
    case BF_KEY_INT:
    case BF_KEY_FLOAT:
    case BF_KEY_BOOL:
        if (quoted)
            return at_error(p, BF_EPARSE, mark, key->name,
                            "expected %s, got the quoted string '%.64s'",
                            type_what(key->type), text);
        if (key->type == BF_KEY_INT)
            return parse_int(p, k, text, mark, out);
        if (key->type == BF_KEY_FLOAT)
            return parse_float(p, k, text, mark, out);
        return parse_bool(p, k, text, mark, out);
    case BF_KEY_WEIGHTS:
        assert(0 && "weights are a mapping");
        return BF_EINTERNAL;
    default:
        return parse_text_value(p, k, text, len, mark, out);
    }
}

static int values_equal(enum bf_key_type type, const struct value *a,
                        const struct value *b)
{
    switch (type) {
    case BF_KEY_INT:
    case BF_KEY_BOOL:
        return a->i == b->i;
    case BF_KEY_FLOAT:
        return a->f == b->f;
    case BF_KEY_PATH:
    case BF_KEY_DIR:
        return strcmp(a->path, b->path) == 0;
    default:
        return strcmp(a->s, b->s) == 0;
    }
}

/* Parse one scalar node of key k into the next value of its slot. */
static int parse_node(struct parse *p, int k, const yaml_node_t *node)
{
    struct slot *s = &p->slots[k];
    struct value *v;
    size_t i;
    int rc;

    if (node->type != YAML_SCALAR_NODE)
        return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                        "expected %s in the list, got %s",
                        type_what(keys[k].type), node_kind(node));
    if (is_null(node))
        return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                        "missing value (expected %s)", type_what(keys[k].type));
    v = &s->v[s->n++];
    rc = parse_scalar(p, k, scalar_text(node), node->data.scalar.length,
                      is_quoted(node), node->start_mark, v);
    if (rc)
        return rc;
    for (i = 0; i + 1 < s->n; i++)
        if (values_equal(keys[k].type, &s->v[i], v))
            return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                            "duplicate value '%.64s' (first at line %zu, "
                            "column %zu)",
                            scalar_text(node), s->v[i].mark.line + 1,
                            s->v[i].mark.column + 1);
    return 0;
}

/* Parse the value node of key k (anything but the weights mapping). */
static int parse_key(struct parse *p, int k, const yaml_node_t *node)
{
    const struct bf_scenario_key *key = &keys[k];
    struct slot *s = &p->slots[k];
    const char *what = type_what(key->type);
    size_t n = 1;
    size_t i;
    int rc;

    if (node->type == YAML_MAPPING_NODE ||
        (node->type == YAML_SEQUENCE_NODE && !key->is_list))
        return at_error(
            p, BF_EPARSE, node->start_mark, key->name, "expected %s%s, got %s",
            what, key->is_list ? " or a list of them" : "", node_kind(node));
    if (node->type == YAML_SEQUENCE_NODE) {
        n = (size_t)(node->data.sequence.items.top -
                     node->data.sequence.items.start);
        if (n == 0)
            return at_error(p, BF_EPARSE, node->start_mark, key->name,
                            "empty list");
        if (key->is_list == BF_KEY_LIST_VALUES && n > BF_SCENARIO_VALUES_MAX)
            return at_error(p, BF_ERANGE, node->start_mark, key->name,
                            "%zu values, at most %d", n,
                            BF_SCENARIO_VALUES_MAX);
    }
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (node->type == YAML_SCALAR_NODE)
        return parse_node(p, k, node);
    for (i = 0; i < n; i++) {
        const yaml_node_t *item =
            yaml_document_get_node(p->doc, node->data.sequence.items.start[i]);

        rc = parse_node(p, k, item);
        if (rc)
            return rc;
    }
    return 0;
}

static int in_models(const struct parse *p, const char *model)
{
    const struct slot *s = named_slot(p, K_MODELS);
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, model) == 0)
            return 1;
    return 0;
}

/* The weights mapping; runs after the models are known. */
static int parse_weights(struct parse *p)
{
    struct slot *s = &p->slots[p->k[K_WEIGHTS]];
    const char *name = named_key(p, K_WEIGHTS)->name;
    const yaml_node_t *node = s->node;
    size_t n, i, j;

    if (!node)
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return at_error(p, BF_EPARSE, node->start_mark, name,
                        "expected %s, got %s", type_what(BF_KEY_WEIGHTS),
                        is_null(node) ? "nothing" : node_kind(node));
    n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (n == 0)
        return 0;
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    for (i = 0; i < n; i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *vn = yaml_document_get_node(p->doc, pair->value);
        struct value *v = &s->v[s->n++];
        char prefix[BF_SCENARIO_NAME_MAX + 16];
        const char *model;
        int rc;

        if (kn->type != YAML_SCALAR_NODE)
            return at_error(p, BF_EPARSE, kn->start_mark, name,
                            "expected a model name, got %s", node_kind(kn));
        model = scalar_text(kn);
        if (!in_models(p, model))
            return at_error(p, BF_EPARSE, kn->start_mark, name,
                            "model '%.64s' is not in models", model);
        for (j = 0; j + 1 < s->n; j++)
            if (strcmp(s->v[j].s, model) == 0)
                return at_error(p, BF_EPARSE, kn->start_mark, name,
                                "duplicate model '%s' (first at line %zu, "
                                "column %zu)",
                                model, s->v[j].mark.line + 1,
                                s->v[j].mark.column + 1);
        v->mark = kn->start_mark;
        v->s = dup_bytes(model, strlen(model));
        if (!v->s)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        snprintf(prefix, sizeof(prefix), "model '%s': ", model);
        if (vn->type != YAML_SCALAR_NODE || is_null(vn))
            return at_error(p, BF_EPARSE, vn->start_mark, name,
                            "%sexpected a file path, got %s", prefix,
                            is_null(vn) ? "nothing" : node_kind(vn));
        if (memchr(scalar_text(vn), '\0', vn->data.scalar.length))
            return at_error(p, BF_EPARSE, vn->start_mark, name,
                            "%spath contains a NUL byte", prefix);
        rc = resolve_path(p, p->k[K_WEIGHTS], scalar_text(vn), vn->start_mark,
                          prefix, &v->path);
        if (rc)
            return rc;
        if (p->params->weights_check && v->path &&
            (rc = p->params->weights_check(v->path))) {
            char detail[BF_ERR_DETAIL_MAX];

            snprintf(detail, sizeof(detail), "%s", bf_last_error());
            return at_error(p, rc == BF_ENOMEM ? BF_ENOMEM : BF_EPARSE,
                            vn->start_mark, name, "%s%s", prefix, detail);
        }
    }
    return 0;
}

/* Walk the top-level mapping in file order. */
static int parse_mapping(struct parse *p, const yaml_node_t *root)
{
    const yaml_node_pair_t *pair;
    int rc;

    for (pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *vn = yaml_document_get_node(p->doc, pair->value);
        const char *name;
        int k;

        if (kn->type != YAML_SCALAR_NODE)
            return at_error(p, BF_EPARSE, kn->start_mark, NULL,
                            "expected a key name, got %s", node_kind(kn));
        name = scalar_text(kn);
        k = bf__scenario_find_key(name);
        if (k < 0) {
            const char *guess = bf__scenario_suggest_key(name);

            return at_error(p, BF_EPARSE, kn->start_mark, NULL,
                            "unknown key '%.64s'%s%s%s", name,
                            guess ? " (did you mean '" : "", guess ? guess : "",
                            guess ? "'?)" : "");
        }
        if (p->slots[k].key_node)
            return at_error(p, BF_EPARSE, kn->start_mark, keys[k].name,
                            "duplicate key (first at line %zu, column %zu)",
                            p->slots[k].key_node->start_mark.line + 1,
                            p->slots[k].key_node->start_mark.column + 1);
        p->slots[k].key_node = kn;
        p->slots[k].node = vn;
        if (keys[k].type == BF_KEY_WEIGHTS)
            continue;
        rc = parse_key(p, k, vn);
        if (rc)
            return rc;
    }
    return 0;
}

int bf__scenario_parse_default(struct parse *p, int k)
{
    const char *def = keys[k].def;
    struct slot *s = &p->slots[k];
    size_t n = 1;
    const char *c;

    /* `seeds` defaults to the one value of `seed` (given or default: its
     * slot comes first in the table). */
    if (k == p->k[K_SEEDS]) {
        s->v = calloc(1, sizeof(*s->v));
        if (!s->v)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        s->v[0].mark = p->root_mark;
        s->v[0].i = named_slot(p, K_SEED)->v[0].i;
        s->n = 1;
        return 0;
    }

    if (def[0] == '[')
        for (c = def; *c; c++)
            n += *c == ',';
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (!def[0] &&
        (keys[k].type == BF_KEY_PATH || keys[k].type == BF_KEY_DIR)) {
        s->v[0].mark = p->root_mark;
        s->v[0].s = dup_bytes("", 0);
        if (!s->v[0].s)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        s->n = 1;
        return 0;
    }
    if (def[0] != '[') {
        s->n = 1;
        return parse_scalar(p, k, def, strlen(def), 0, p->root_mark, &s->v[0]);
    }
    for (c = def + 1; s->n < n;) {
        char item[32];
        size_t len = strcspn(c, ",]");
        int rc;

        /* The table's defaults are literals; only a typo can fail here. */
        assert(len < sizeof(item) && c[len] != '\0');
        memcpy(item, c, len);
        item[len] = '\0';
        rc = parse_scalar(p, k, item, len, 0, p->root_mark, &s->v[s->n++]);
        assert(rc == 0);
        if (rc)
            return rc;
        c += len + 1;
    }
    return 0;
}

/* Give every absent key its default, parsed from the table's text. */
static int apply_defaults(struct parse *p)
{
    int k;
    int rc;

    for (k = 0; k < (int)bf__scenario_key_count; k++) {
        struct slot *s = &p->slots[k];

        if (s->key_node || keys[k].type == BF_KEY_WEIGHTS)
            continue;
        if (keys[k].required)
            return at_error(p, BF_EPARSE, p->root_mark, keys[k].name,
                            "required key is missing");
        rc = bf__scenario_parse_default(p, k);
        if (rc)
            return rc;
    }
    return 0;
}

enum bf_task bf__scenario_task(const struct parse *p)
{
    return strcmp(named_slot(p, K_TASK)->v[0].s, TASK_TRAIN) == 0
               ? BF_TASK_TRAIN
               : BF_TASK_INFERENCE;
}

/*
 * Every key given must apply to the task, which may come anywhere in the
 * file; the first offender in file order is reported.
 */
static int check_task(const struct parse *p)
{
    const char *task = named_slot(p, K_TASK)->v[0].s;
    const yaml_node_t *first = NULL;
    int first_k = -1;
    int k;

    for (k = 0; k < (int)bf__scenario_key_count; k++) {
        const yaml_node_t *kn = p->slots[k].key_node;

        if (kn && !bf__scenario_applies(&keys[k], task) &&
            (!first || kn->start_mark.index < first->start_mark.index)) {
            first = kn;
            first_k = k;
        }
    }
    if (!first) {
        const struct slot *t = named_slot(p, K_THREADS);

        if (strcmp(task, TASK_TRAIN) == 0 && t->n > 1)
            return at_error(p, BF_EPARSE, t->v[1].mark,
                            named_key(p, K_THREADS)->name,
                            "a train scenario takes one thread count");
        return 0;
    }
    return at_error(p, BF_EPARSE, first->start_mark, keys[first_k].name,
                    "applies to task '%s' (this scenario's task is '%s')",
                    keys[first_k].task, task);
}

/* 1 when a configuration other than local is listed. */
static int offloads(const struct parse *p)
{
    const struct slot *s = named_slot(p, K_CONFIGS);

    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, "local") != 0)
            return 1;
    return 0;
}

static long long max_batch(const struct parse *p)
{
    const struct slot *s = named_slot(p, K_BATCH);
    long long m = 0;

    for (size_t i = 0; i < s->n; i++)
        m = s->v[i].i > m ? s->v[i].i : m;
    return m;
}

/*
 * A lower precision runs the folded path only, and fp16 needs a CUDA
 * device.
 */
static int check_precision(const struct parse *p)
{
    const struct slot *prec = named_slot(p, K_PRECISION);
    const struct slot *fold = named_slot(p, K_FOLD_BN);

    for (size_t i = 0; i < prec->n; i++) {
        const struct value *v = &prec->v[i];

        if (strcmp(v->s, "fp32") == 0)
            continue;
        if (strcmp(v->s, "fp16") == 0 &&
            strcmp(named_slot(p, K_DEVICE)->v[0].s, "cpu") == 0)
            return at_error(p, BF_EPARSE, v->mark,
                            named_key(p, K_PRECISION)->name,
                            "'fp16' needs device: cuda (libtorch has no "
                            "fp16 convolutions on the CPU; bf16 runs there)");
        for (size_t j = 0; j < fold->n; j++)
            if (!fold->v[j].i)
                return at_error(p, BF_EPARSE, v->mark,
                                named_key(p, K_PRECISION)->name,
                                "'%s' runs the folded path: it needs "
                                "fold_bn: true, and fold_bn lists false",
                                v->s);
    }
    return 0;
}

/* `device` spelled cpu, cuda or cuda:N (whether it is there is checked
 * when a command uses it: bf_torch_device_check). */
static int check_device(const struct parse *p)
{
    const struct value *v = &named_slot(p, K_DEVICE)->v[0];
    const char *s = v->s;
    size_t n = strlen(s);

    if (strcmp(s, "cpu") == 0 || strcmp(s, "cuda") == 0)
        return 0;
    if (n >= 6 && n <= 7 && strncmp(s, "cuda:", 5) == 0 &&
        strspn(s + 5, "0123456789") == n - 5)
        return 0;
    return at_error(p, BF_EPARSE, v->mark, named_key(p, K_DEVICE)->name,
                    "'%s' is not a device (cpu, cuda or cuda:N)", s);
}

/* Checks that involve more than one key. */
static int check_across(const struct parse *p)
{
    const struct value *min = &named_slot(p, K_MIN_SAMPLES)->v[0];
    const struct value *max = &named_slot(p, K_MAX_SAMPLES)->v[0];
    const struct value *dataset = &named_slot(p, K_DATASET)->v[0];
    int rc = check_device(p);

    if (rc)
        return rc;
    /* Only fashion-mnist has a default directory. */
    if (bf__scenario_task(p) == BF_TASK_TRAIN &&
        strcmp(dataset->s, "fashion-mnist") != 0 &&
        !named_slot(p, K_DATA_DIR)->v[0].path)
        return at_error(p, BF_EPARSE, dataset->mark,
                        named_key(p, K_DATASET)->name, "'%s' needs data_dir",
                        dataset->s);
    if (bf__scenario_task(p) == BF_TASK_INFERENCE) {
        const struct value *link = &named_slot(p, K_LINK)->v[0];

        const struct value *trace = &named_slot(p, K_LINK_TRACE)->v[0];

        if (strcmp(link->s, "trace") == 0 && !trace->path)
            return at_error(p, BF_EPARSE, link->mark,
                            named_key(p, K_LINK)->name,
                            "'trace' needs link_trace");
        /* The trace's rows are read now, not when the first case opens its
         * link: a malformed row fails the load, naming file:line. */
        if (strcmp(link->s, "trace") == 0) {
            struct bf_link_params lp = {.kind = "trace",
                                        .trace_path = trace->path};
            struct bf_link *l = NULL;

            rc = bf_link_open(&lp, &l);

            bf_link_close(l);
            if (rc) {
                char detail[BF_ERR_DETAIL_MAX];

                snprintf(detail, sizeof(detail), "%s", bf_last_error());
                return at_error(p, rc == BF_ENOMEM ? BF_ENOMEM : BF_EPARSE,
                                trace->mark, named_key(p, K_LINK_TRACE)->name,
                                "%s", detail);
            }
        }
        if (strcmp(link->s, "direct") == 0 &&
            !named_slot(p, K_EDGE_ADDRESS)->v[0].s[0])
            return at_error(p, BF_EPARSE, link->mark,
                            named_key(p, K_LINK)->name,
                            "'direct' needs edge_address (host:port)");
        rc = check_precision(p);
        if (rc)
            return rc;
        if (offloads(p) && max_batch(p) > 1)
            return at_error(p, BF_ERANGE, named_slot(p, K_BATCH)->v[0].mark,
                            named_key(p, K_BATCH)->name,
                            "offloading configurations run batch 1");
    }
    if (max->i >= min->i)
        return 0;
    if (named_slot(p, K_MAX_SAMPLES)->key_node)
        return at_error(p, BF_ERANGE, max->mark,
                        named_key(p, K_MAX_SAMPLES)->name,
                        "%lld is less than min_samples (%lld)", max->i, min->i);
    return at_error(p, BF_ERANGE, min->mark, named_key(p, K_MIN_SAMPLES)->name,
                    "%lld is greater than max_samples (%lld)", min->i, max->i);
}

static void slots_free(struct parse *p)
{
    size_t i;
    int k;

    for (k = 0; k < (int)bf__scenario_key_count; k++) {
        struct slot *s = &p->slots[k];

        for (i = 0; i < s->n; i++) {
            free(s->v[i].s);
            free(s->v[i].path);
        }
        free(s->v);
        s->v = NULL;
        s->n = 0;
    }
}

int bf__scenario_parse_document(struct parse *p, yaml_document_t *doc,
                                const char *text, size_t len,
                                struct bf_scenario **out)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    struct bf_scenario *sc;
    int rc;

    bf__scenario_name_keys(p->k);
    p->doc = doc;
    if (!root || is_null(root))
        return bf_err_set(BF_EPARSE, "%s:1:1: empty scenario", p->file);
    p->root_mark = root->start_mark;
    if (root->type != YAML_MAPPING_NODE)
        return at_error(p, BF_EPARSE, root->start_mark, NULL,
                        "a scenario is a mapping of keys, got %s",
                        node_kind(root));
    rc = parse_mapping(p, root);
    if (rc)
        goto out_slots;
    rc = apply_defaults(p);
    if (rc)
        goto out_slots;
    rc = check_task(p);
    if (rc)
        goto out_slots;
    rc = parse_weights(p);
    if (rc)
        goto out_slots;
    rc = check_across(p);
    if (rc)
        goto out_slots;

    sc = calloc(1, sizeof(*sc));
    if (!sc) {
        rc = bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        goto out_slots;
    }
    copy_str(sc->path, sizeof(sc->path), p->file);
    bf__scenario_fill(p, sc);
    rc = bf__scenario_expand(p, sc);
    if (rc)
        goto out_sc;
    sc->text = dup_bytes(text, len);
    if (!sc->text) {
        rc = bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        goto out_sc;
    }
    sc->text_len = len;
    *out = sc;
    goto out_slots;

out_sc:
    bf_scenario_free(sc);
out_slots:
    slots_free(p);
    return rc;
}

/* Parse text; dir is the prefix for relative paths. */
static int parse_scenario(const char *file, const char *dir, size_t dir_len,
                          const char *text, size_t len,
                          const struct bf_scenario_params *params,
                          struct bf_scenario **out)
{
    struct parse p = {
        .file = file, .dir = dir, .dir_len = dir_len, .params = params};
    yaml_document_t doc;
    int rc;

    if ((rc = bf__scenario_check_name(file)))
        return rc;
    if (len > TEXT_MAX)
        return bf_err_set(BF_ERANGE, "%s: scenario larger than %zu bytes", file,
                          TEXT_MAX);
    rc = bf__scenario_load_document(&p, text, len, &doc);
    if (rc)
        return rc;
    rc = bf__scenario_parse_document(&p, &doc, text, len, out);
    yaml_document_delete(&doc);
    return rc;
}

int bf__scenario_check_name(const char *file)
{
    if (strlen(file) >= BF_SCENARIO_PATH_MAX)
        return bf_err_set(BF_ERANGE, "scenario path longer than %d bytes",
                          BF_SCENARIO_PATH_MAX - 1);
    return 0;
}

int bf_scenario_parse(const char *name, const char *text, size_t len,
                      const struct bf_scenario_params *params,
                      struct bf_scenario **out)
{
    if (out)
        *out = NULL;
    if (!name || (!text && len) || !params || !params->model_exists || !out)
        return bf_err_set(BF_EINVAL, "bf_scenario_parse: invalid argument");
    return parse_scenario(name, "", 0, text ? text : "", len, params, out);
}

int bf_scenario_load(const char *path, const struct bf_scenario_params *params,
                     struct bf_scenario **out)
{
    const char *slash;
    struct bf_buf text;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !params || !params->model_exists || !out)
        return bf_err_set(BF_EINVAL, "bf_scenario_load: invalid argument");
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, TEXT_MAX, "scenario");
    if (rc == 0) {
        slash = strrchr(path, '/');
        rc = parse_scenario(path, path, slash ? (size_t)(slash - path) + 1 : 0,
                            bf_buf_str(&text), text.len, params, out);
    }
    bf_buf_free(&text);
    return rc;
}

int bf_scenario_parse_at(const char *path, const char *text, size_t len,
                         const struct bf_scenario_params *params,
                         struct bf_scenario **out)
{
    const char *slash;

    if (out)
        *out = NULL;
    if (!path || (!text && len) || !params || !params->model_exists || !out)
        return bf_err_set(BF_EINVAL, "bf_scenario_parse_at: invalid argument");
    slash = strrchr(path, '/');
    return parse_scenario(path, path, slash ? (size_t)(slash - path) + 1 : 0,
                          text ? text : "", len, params, out);
}

void bf_scenario_free(struct bf_scenario *scenario)
{
    if (!scenario)
        return;
    free(scenario->text);
    free(scenario->cases);
    free(scenario);
}
