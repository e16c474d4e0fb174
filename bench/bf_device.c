/* bf_device: device profiles, latency and energy models (see bf_device.h). */
#define _POSIX_C_SOURCE 200809L
#include "bf_device.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_stats.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Profile files are small; a bigger one is a mistake. */
#define FILE_MAX (256 * 1024)

static const char *const param_names[BF_DEVICE_PARAMS] = {
    "conv_gmacs",        "grouped_gmacs", "linear_gmacs", "bandwidth_gbs",
    "layer_overhead_us", "conv3x3_gmacs", "sublinear_us",
};

const char *bf_device_param_name(int param)
{
    if (param < 0 || param >= BF_DEVICE_PARAMS)
        return NULL;
    return param_names[param];
}

/* Field tables: one entry per scalar key of a file. */

enum ftype { F_STR, F_ENUM, F_NUM, F_INT, F_BOOL };

struct field {
    const char *key; /* dotted path */
    enum ftype type;
    size_t off;  /* into the struct being filled */
    size_t size; /* F_STR: buffer size */
    int required;
    double min, max;     /* F_NUM, F_INT, inclusive */
    const char *choices; /* F_ENUM: words separated by '|' (index stored) */
};

#define PF(k, t, member, req, lo, hi, ch)                                      \
    {                                                                          \
        k, t, offsetof(struct bf_device_profile, member),                      \
            sizeof(((struct bf_device_profile *)0)->member), req, lo, hi, ch   \
    }

/* The smallest positive rate accepted; a zero would divide. */
#define POS 1e-9

static const struct field profile_fields[] = {
    PF("name", F_STR, name, 1, 0, 0, NULL),
    PF("role", F_STR, role, 0, 0, 0, "device|edge"),
    PF("description", F_STR, description, 0, 0, 0, NULL),
    PF("detect", F_STR, detect, 0, 0, 0, NULL),
    PF("runtime", F_STR, runtime, 1, 0, 0, NULL),
    PF("latency.form", F_ENUM, latency.form, 0, 0, 0, "roofline|additive"),
    PF("latency.conv_gmacs", F_NUM, latency.value[0], 1, POS, 1e6, NULL),
    PF("latency.grouped_gmacs", F_NUM, latency.value[1], 1, POS, 1e6, NULL),
    /* 0: as conv_gmacs. */
    PF("latency.linear_gmacs", F_NUM, latency.value[2], 1, 0, 1e6, NULL),
    PF("latency.conv3x3_gmacs", F_NUM, latency.value[5], 1, 0, 1e6, NULL),
    PF("latency.bandwidth_gbs", F_NUM, latency.value[3], 1, POS, 1e5, NULL),
    PF("latency.layer_overhead_us", F_NUM, latency.value[4], 1, 0, 1e6, NULL),
    PF("latency.sublinear_us", F_NUM, latency.value[6], 0, 0, 1e6, NULL),
    PF("latency.prior_weight", F_NUM, latency.prior_weight, 0, 0, 1e6, NULL),
    PF("latency.interval_log_sd", F_NUM, latency.interval_log_sd, 0, 0, 5,
       NULL),
    PF("power.idle_mw", F_NUM, power.idle_mw, 1, 0, 1e7, NULL),
    PF("power.compute_mw", F_NUM, power.compute_mw, 1, 0, 1e7, NULL),
};

#define PTF(k, t, member, req, lo, hi)                                         \
    {                                                                          \
        k, t, offsetof(struct bf_device_point, member),                        \
            sizeof(((struct bf_device_point *)0)->member), req, lo, hi, NULL   \
    }

static const struct field point_fields[] = {
    PTF("model", F_STR, model, 1, 0, 0),
    PTF("input_px", F_INT, input_px, 0, 8, 8192),
    PTF("latency_ms", F_NUM, latency_ms, 0, POS, 1e9),
    PTF("measure", F_BOOL, measure, 0, 0, 0),
    PTF("source", F_STR, source, 0, 0, 0),
};

#define RF(k, t, member, req, lo, hi)                                          \
    {                                                                          \
        k, t, offsetof(struct bf_radio, member),                               \
            sizeof(((struct bf_radio *)0)->member), req, lo, hi, NULL          \
    }

static const struct field radio_fields[] = {
    RF("name", F_STR, name, 1, 0, 0),
    RF("description", F_STR, description, 0, 0, 0),
    RF("base_mw", F_NUM, base_mw, 1, 0, 1e6),
    RF("up_mw_per_mbps", F_NUM, up_mw_per_mbps, 1, 0, 1e6),
    RF("down_mw_per_mbps", F_NUM, down_mw_per_mbps, 1, 0, 1e6),
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define FIELDS_MAX 32

/* Index of word in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *word)
{
    size_t len = strlen(word);
    int i = 0;
    const char *c = choices;

    while (*c) {
        const char *end = strchr(c, '|');
        size_t n = end ? (size_t)(end - c) : strlen(c);

        if (n == len && strncmp(c, word, n) == 0)
            return i;
        if (!end)
            break;
        c = end + 1;
        i++;
    }
    return -1;
}

/*
 * Store text into field f of base. On error write why (without position)
 * and return the code.
 */
static int set_field(const struct field *f, void *base, const char *text,
                     char *why, size_t why_size)
{
    char *p = (char *)base + f->off;
    char *end;
    double d;
    long long ll;

    switch (f->type) {
    case F_STR:
        if (strlen(text) >= f->size) {
            snprintf(why, why_size, "longer than %zu characters", f->size - 1);
            return BF_ERANGE;
        }
        if (f->choices && choice_index(f->choices, text) < 0) {
            snprintf(why, why_size, "'%s' is not one of %s", text, f->choices);
            return BF_EPARSE;
        }
        memcpy(p, text, strlen(text) + 1);
        return 0;
    case F_ENUM: {
        int idx = choice_index(f->choices, text);

        if (idx < 0) {
            snprintf(why, why_size, "'%s' is not one of %s", text, f->choices);
            return BF_EPARSE;
        }
        *(int *)(void *)p = idx;
        return 0;
    }
    case F_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            *(int *)(void *)p = text[0] == 't';
            return 0;
        }
        snprintf(why, why_size, "expected true or false, got '%s'", text);
        return BF_EPARSE;
    case F_INT:
        errno = 0;
        ll = strtoll(text, &end, 10);
        if (end == text || *end || errno) {
            snprintf(why, why_size, "expected an integer, got '%s'", text);
            return BF_EPARSE;
        }
        if ((double)ll < f->min || (double)ll > f->max) {
            snprintf(why, why_size, "%lld outside %g..%g", ll, f->min, f->max);
            return BF_ERANGE;
        }
        *(int *)(void *)p = (int)ll;
        return 0;
    case F_NUM:
        errno = 0;
        d = strtod(text, &end);
        if (end == text || *end || errno || !isfinite(d)) {
            snprintf(why, why_size, "expected a number, got '%s'", text);
            return BF_EPARSE;
        }
        if (d < f->min || d > f->max) {
            if (f->min == POS)
                snprintf(why, why_size, "%g must be above 0 and at most %g", d,
                         f->max);
            else
                snprintf(why, why_size, "%g outside %g..%g", d, f->min, f->max);
            return BF_ERANGE;
        }
        *(double *)(void *)p = d;
        return 0;
    }
    return BF_EINTERNAL;
}

/* YAML walking */

struct walk {
    const char *file;
    yaml_document_t *doc;
    const struct field *fields;
    size_t n_fields;
    void *base;
    int seen[FIELDS_MAX];
    /* Sequences by key; NULL for a file without any. */
    int (*sequence)(struct walk *w, const char *key, yaml_node_t *node);
    void *ctx;
};

static int at(const struct walk *w, int code, yaml_mark_t m, const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));

static int at(const struct walk *w, int code, yaml_mark_t m, const char *fmt,
              ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return bf_err_set(code, "%s:%zu:%zu: %s", w->file, m.line + 1, m.column + 1,
                      what);
}

static int has_prefix_field(const struct walk *w, const char *prefix)
{
    size_t len = strlen(prefix);
    size_t i;

    for (i = 0; i < w->n_fields; i++)
        if (strncmp(w->fields[i].key, prefix, len) == 0 &&
            w->fields[i].key[len] == '.')
            return 1;
    return 0;
}

static int walk_mapping(struct walk *w, yaml_node_t *node, const char *prefix)
{
    yaml_node_pair_t *pair;

    if (node->type != YAML_MAPPING_NODE)
        return at(w, BF_EPARSE, node->start_mark, "%s%sexpected a mapping",
                  prefix, prefix[0] ? ": " : "");
    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
        char key[128];
        char why[256];
        size_t i;
        int rc;

        if (k->type != YAML_SCALAR_NODE)
            return at(w, BF_EPARSE, k->start_mark, "keys must be words");
        snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "",
                 (const char *)k->data.scalar.value);
        if (v->type == YAML_MAPPING_NODE && has_prefix_field(w, key)) {
            rc = walk_mapping(w, v, key);
            if (rc)
                return rc;
            continue;
        }
        if (v->type == YAML_SEQUENCE_NODE && w->sequence) {
            rc = w->sequence(w, key, v);
            if (rc == 0)
                continue;
            if (rc != BF_ENOENT)
                return rc;
        }
        for (i = 0; i < w->n_fields; i++)
            if (strcmp(w->fields[i].key, key) == 0)
                break;
        if (i == w->n_fields)
            return at(w, BF_EPARSE, k->start_mark, "unknown key '%s'", key);
        if (w->seen[i])
            return at(w, BF_EPARSE, k->start_mark, "key '%s' given twice", key);
        if (v->type != YAML_SCALAR_NODE)
            return at(w, BF_EPARSE, v->start_mark,
                      "key '%s': expected a single value", key);
        rc = set_field(&w->fields[i], w->base,
                       (const char *)v->data.scalar.value, why, sizeof(why));
        if (rc)
            return at(w, rc, v->start_mark, "key '%s': %s", key, why);
        w->seen[i] = 1;
    }
    return 0;
}

static int check_required(const struct walk *w, yaml_mark_t m)
{
    size_t i;

    for (i = 0; i < w->n_fields; i++)
        if (w->fields[i].required && !w->seen[i])
            return at(w, BF_EPARSE, m, "required key '%s' is missing",
                      w->fields[i].key);
    return 0;
}

/* Load text's single document and walk its root mapping with w. */
static int walk_text(struct walk *w, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    int rc;

    if (len > FILE_MAX)
        return bf_err_set(BF_ERANGE, "%s: %zu bytes, at most %d", w->file, len,
                          FILE_MAX);
    if (!yaml_parser_initialize(&parser))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", w->file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = bf_err_set(BF_EPARSE, "%s:%zu:%zu: YAML: %s", w->file,
                        parser.problem_mark.line + 1,
                        parser.problem_mark.column + 1,
                        parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        return rc;
    }
    w->doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = bf_err_set(BF_EPARSE, "%s: empty file", w->file);
    else
        rc = walk_mapping(w, root, "");
    if (!rc)
        rc = check_required(w, root->start_mark);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* Profile sequences: latency.fit and calibration. */
static int profile_sequence(struct walk *w, const char *key, yaml_node_t *node)
{
    struct bf_device_profile *p = w->base;
    yaml_node_item_t *it;

    if (strcmp(key, "latency.fit") == 0) {
        p->latency.fit_mask = 0;
        for (it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            yaml_node_t *v = yaml_document_get_node(w->doc, *it);
            int i;

            if (v->type != YAML_SCALAR_NODE)
                return at(w, BF_EPARSE, v->start_mark,
                          "latency.fit: expected parameter names");
            for (i = 0; i < BF_DEVICE_PARAMS; i++)
                if (strcmp(param_names[i],
                           (const char *)v->data.scalar.value) == 0)
                    break;
            if (i == BF_DEVICE_PARAMS)
                return at(w, BF_EPARSE, v->start_mark,
                          "latency.fit: unknown parameter '%s' (conv_gmacs, "
                          "conv3x3_gmacs, grouped_gmacs, linear_gmacs, "
                          "bandwidth_gbs, layer_overhead_us)",
                          (const char *)v->data.scalar.value);
            p->latency.fit_mask |= 1u << i;
        }
        return 0;
    }
    if (strcmp(key, "calibration") == 0) {
        for (it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            yaml_node_t *v = yaml_document_get_node(w->doc, *it);
            struct bf_device_point *pt;
            struct walk pw = {.file = w->file,
                              .doc = w->doc,
                              .fields = point_fields,
                              .n_fields = N_OF(point_fields)};
            int rc;

            if (p->n_points == BF_DEVICE_POINTS_MAX)
                return at(w, BF_ERANGE, v->start_mark,
                          "calibration: more than %d points",
                          BF_DEVICE_POINTS_MAX);
            pt = &p->points[p->n_points];
            memset(pt, 0, sizeof(*pt));
            pt->input_px = 224;
            pw.base = pt;
            rc = walk_mapping(&pw, v, "");
            if (!rc)
                rc = check_required(&pw, v->start_mark);
            if (rc)
                return rc;
            if (!pt->measure && pt->latency_ms <= 0)
                return at(w, BF_EPARSE, v->start_mark,
                          "calibration point %s: latency_ms is required "
                          "(or measure: true)",
                          pt->model);
            if (pt->measure && pt->latency_ms > 0)
                return at(w, BF_EPARSE, v->start_mark,
                          "calibration point %s: latency_ms and measure: "
                          "true exclude each other",
                          pt->model);
            p->n_points++;
        }
        return 0;
    }
    return BF_ENOENT;
}

int bf_device_profile_parse(const char *file, const char *text, size_t len,
                            struct bf_device_profile **out)
{
    struct bf_device_profile *p;
    struct walk w = {.file = file,
                     .fields = profile_fields,
                     .n_fields = N_OF(profile_fields),
                     .sequence = profile_sequence};
    int rc;

    if (!file || !text || !out)
        return bf_err_set(BF_EINVAL, "bf_device_profile_parse: NULL argument");
    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", file);
    memcpy(p->role, "device", sizeof("device"));
    p->latency.form = BF_DEVICE_ROOFLINE;
    p->latency.prior_weight = 0.05;
    p->latency.fit_mask = (1u << BF_DEVICE_CONV_GMACS) |
                          (1u << BF_DEVICE_BANDWIDTH_GBS) |
                          (1u << BF_DEVICE_OVERHEAD_US);
    snprintf(p->path, sizeof(p->path), "%s", file);
    w.base = p;
    rc = walk_text(&w, text, len);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* "a, b, c": the .yaml files of dir, sorted, without extension. */
static void list_names(const char *dir, char *out, size_t size)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    size_t used = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *s = names[i]->d_name;
        size_t len = strlen(s);

        if (len > 5 && strcmp(s + len - 5, ".yaml") == 0 && used < size) {
            int k = snprintf(out + used, size - used, "%s%.*s",
                             used ? ", " : "", (int)(len - 5), s);
            if (k > 0)
                used += (size_t)k;
        }
        free(names[i]);
    }
    free(names);
}

/* Resolve name to a readable path; what is "device profile" or "radio". */
static int resolve(const char *name, const char *const *dirs, size_t n_dirs,
                   const char *what, char *path, size_t size)
{
    size_t len = strlen(name);
    char avail[512] = "";
    size_t i;

    if (strchr(name, '/') ||
        (len > 5 && strcmp(name + len - 5, ".yaml") == 0)) {
        if ((size_t)snprintf(path, size, "%s", name) >= size)
            return bf_err_set(BF_ERANGE, "%s path too long: %s", what, name);
        return 0;
    }
    for (i = 0; i < n_dirs; i++) {
        FILE *f;

        if ((size_t)snprintf(path, size, "%s/%s.yaml", dirs[i], name) >= size)
            continue;
        f = fopen(path, "rb");
        if (f) {
            fclose(f);
            return 0;
        }
        if (!avail[0])
            list_names(dirs[i], avail, sizeof(avail));
    }
    return bf_err_set(BF_ENOENT, "unknown %s '%s'%s%s", what, name,
                      avail[0] ? "; known: " : "", avail);
}

int bf_device_profile_open(const char *name, const char *const *dirs,
                           size_t n_dirs, struct bf_device_profile **out)
{
    char path[1024];
    struct bf_buf text;
    int rc;

    if (!name || !out || (n_dirs && !dirs))
        return bf_err_set(BF_EINVAL, "bf_device_profile_open: NULL argument");
    rc = resolve(name, dirs, n_dirs, "device profile", path, sizeof(path));
    if (rc)
        return rc;
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, FILE_MAX, "device profile");
    if (rc == 0)
        rc = bf_device_profile_parse(path, bf_buf_str(&text), text.len, out);
    bf_buf_free(&text);
    return rc;
}

void bf_device_profile_free(struct bf_device_profile *profile)
{
    free(profile);
}

int bf_device_profile_set(struct bf_device_profile *profile, const char *field,
                          const char *value)
{
    char why[256];
    size_t i;
    int rc;

    if (!profile || !field || !value)
        return bf_err_set(BF_EINVAL, "bf_device_profile_set: NULL argument");
    for (i = 0; i < N_OF(profile_fields); i++)
        if (strcmp(profile_fields[i].key, field) == 0)
            break;
    if (i == N_OF(profile_fields) || strcmp(field, "name") == 0)
        return bf_err_set(BF_ENOENT,
                          "%s: no field '%s' to override (e.g. power.idle_mw, "
                          "latency.conv_gmacs)",
                          profile->name, field);
    rc = set_field(&profile_fields[i], profile, value, why, sizeof(why));
    if (rc)
        return bf_err_set(rc, "%s: %s: %s", profile->name, field, why);
    return 0;
}

int bf_device_profile_override(struct bf_device_profile *profile,
                               const char *override)
{
    const char *colon, *eq;
    char field[128];
    size_t len;
    int rc;

    if (!profile || !override)
        return bf_err_set(BF_EINVAL, "bf_device_profile_override: NULL");
    colon = strchr(override, ':');
    eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || !eq || eq == colon + 1 || !eq[1])
        return bf_err_set(BF_EPARSE,
                          "device override '%s': expected PROFILE:FIELD=VALUE",
                          override);
    if ((size_t)(colon - override) != strlen(profile->name) ||
        strncmp(override, profile->name, (size_t)(colon - override)) != 0)
        return 0;
    len = (size_t)(eq - colon - 1);
    if (len >= sizeof(field))
        return bf_err_set(BF_ERANGE, "device override '%s': field too long",
                          override);
    memcpy(field, colon + 1, len);
    field[len] = '\0';
    rc = bf_device_profile_set(profile, field, eq + 1);
    if (rc)
        return bf_err_prefix(rc, "device override '%s': ", override);
    return 0;
}

/* Radio presets */

int bf_radio_parse(const char *file, const char *text, size_t len,
                   struct bf_radio *out)
{
    struct walk w = {
        .file = file, .fields = radio_fields, .n_fields = N_OF(radio_fields)};

    if (!file || !text || !out)
        return bf_err_set(BF_EINVAL, "bf_radio_parse: NULL argument");
    memset(out, 0, sizeof(*out));
    w.base = out;
    return walk_text(&w, text, len);
}

int bf_radio_open(const char *name, const char *const *dirs, size_t n_dirs,
                  struct bf_radio *out)
{
    char path[1024];
    struct bf_buf text;
    int rc;

    if (!name || !out || (n_dirs && !dirs))
        return bf_err_set(BF_EINVAL, "bf_radio_open: NULL argument");
    rc = resolve(name, dirs, n_dirs, "radio preset", path, sizeof(path));
    if (rc)
        return rc;
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, FILE_MAX, "radio preset");
    if (rc == 0)
        rc = bf_radio_parse(path, bf_buf_str(&text), text.len, out);
    bf_buf_free(&text);
    return rc;
}

/* Latency model */

/* Per-layer coefficients in milliseconds per unit of each variable. */
struct coef {
    double compute; /* ms x GMAC/s: macs * 1e-6 */
    double memory;  /* ms x GB/s: bytes * 1e-6 */
    double root;    /* ms per us of sublinear_us: sqrt(macs / 1e6) * 1e-3 */
    int kind;
};

static struct coef layer_coef(const struct bf_layer_info *l)
{
    struct coef c;
    double bytes = 4.0 * (double)(l->in_elems + l->out_elems + l->params);

    c.compute = (double)l->macs * 1e-6;
    c.memory = bytes * 1e-6;
    c.root = sqrt((double)l->macs * 1e-6) * 1e-3;
    /* The throughput parameter of the layer's kind. */
    switch (l->kind) {
    case BF_LAYER_CONV_GROUPED:
        c.kind = BF_DEVICE_GROUPED_GMACS;
        break;
    case BF_LAYER_LINEAR:
        c.kind = BF_DEVICE_LINEAR_GMACS;
        break;
    case BF_LAYER_CONV3X3:
        c.kind = BF_DEVICE_CONV3X3_GMACS;
        break;
    default:
        c.kind = BF_DEVICE_CONV_GMACS;
        break;
    }
    return c;
}

/* The throughput parameter that times kind under m: a 3x3 or linear
 * throughput of 0 means conv_gmacs's. */
static int rate_of(const struct bf_device_latency *m, int kind)
{
    if ((kind == BF_DEVICE_CONV3X3_GMACS || kind == BF_DEVICE_LINEAR_GMACS) &&
        !(m->value[kind] > 0))
        return BF_DEVICE_CONV_GMACS;
    return kind;
}

/* Time of one layer under m (ms); *compute_bound says which bound won. */
static double layer_ms(const struct bf_device_latency *m, struct coef c,
                       int *compute_bound)
{
    double tc = c.compute / m->value[rate_of(m, c.kind)];
    double tm = c.memory / m->value[BF_DEVICE_BANDWIDTH_GBS];
    double oh = m->value[BF_DEVICE_OVERHEAD_US] * 1e-3 +
                m->value[BF_DEVICE_SUBLINEAR_US] * c.root;

    if (compute_bound)
        *compute_bound = tc >= tm;
    if (m->form == BF_DEVICE_ADDITIVE)
        return tc + tm + oh;
    return (tc >= tm ? tc : tm) + oh;
}

double bf_device_predict_ms(const struct bf_device_latency *model,
                            const struct bf_layer_info *layers, size_t n)
{
    double t = 0;
    size_t i;

    if (!model || !layers)
        return 0;
    for (i = 0; i < n; i++)
        t += layer_ms(model, layer_coef(&layers[i]), NULL);
    return t;
}

/*
 * The model is linear in x = (1/conv, 1/grouped, 1/linear, 1/bandwidth,
 * overhead_us, 1/conv3x3, sublinear_us): time = row . x, given each
 * layer's bound (roofline) or not (additive).
 */
static void design_row(const struct bf_device_latency *m,
                       const struct bf_device_sample *s,
                       double row[BF_DEVICE_PARAMS])
{
    size_t i;

    memset(row, 0, sizeof(double) * BF_DEVICE_PARAMS);
    for (i = 0; i < s->n_layers; i++) {
        struct coef c = layer_coef(&s->layers[i]);
        int cb, rate = rate_of(m, c.kind);

        layer_ms(m, c, &cb);
        if (m->form == BF_DEVICE_ADDITIVE) {
            row[rate] += c.compute;
            row[BF_DEVICE_BANDWIDTH_GBS] += c.memory;
        } else if (cb) {
            row[rate] += c.compute;
        } else {
            row[BF_DEVICE_BANDWIDTH_GBS] += c.memory;
        }
        row[BF_DEVICE_OVERHEAD_US] += 1e-3;
        row[BF_DEVICE_SUBLINEAR_US] += c.root;
    }
}

/* Times (overhead, sublinear) enter the model as they are, rates as
 * their reciprocals. */
static int is_time(int p)
{
    return p == BF_DEVICE_OVERHEAD_US || p == BF_DEVICE_SUBLINEAR_US;
}

static double to_var(int p, double value)
{
    if (is_time(p))
        return value;
    return value > 0 ? 1.0 / value : 0;
}

static double from_var(int p, double x)
{
    return is_time(p) ? x : 1.0 / x;
}

/* Solve the k x k system a x = b (Gaussian elimination, partial pivoting). */
static int solve(double a[BF_DEVICE_PARAMS][BF_DEVICE_PARAMS],
                 double b[BF_DEVICE_PARAMS], int k)
{
    int i, j, r;

    for (i = 0; i < k; i++) {
        int piv = i;

        for (r = i + 1; r < k; r++)
            if (fabs(a[r][i]) > fabs(a[piv][i]))
                piv = r;
        if (fabs(a[piv][i]) < 1e-300)
            return -1;
        if (piv != i) {
            for (j = 0; j < k; j++) {
                double t = a[i][j];
                a[i][j] = a[piv][j];
                a[piv][j] = t;
            }
            double t = b[i];
            b[i] = b[piv];
            b[piv] = t;
        }
        for (r = i + 1; r < k; r++) {
            double f = a[r][i] / a[i][i];

            for (j = i; j < k; j++)
                a[r][j] -= f * a[i][j];
            b[r] -= f * b[i];
        }
    }
    for (i = k - 1; i >= 0; i--) {
        for (j = i + 1; j < k; j++)
            b[i] -= a[i][j] * b[j];
        b[i] /= a[i][i];
    }
    return 0;
}

/*
 * One weighted least-squares solve with the bounds of cur: free
 * variables (mask) scaled by their prior, relative residuals, ridge
 * towards the prior. Variables that come out non-positive are pinned at
 * a thousandth of their prior and the rest solved again.
 */
static int solve_once(const struct bf_device_latency *prior,
                      const struct bf_device_latency *cur,
                      const struct bf_device_sample *s, size_t n,
                      struct bf_device_latency *next)
{
    unsigned mask = prior->fit_mask;
    double x0[BF_DEVICE_PARAMS], pinned[BF_DEVICE_PARAMS] = {0};
    int p, attempt;

    for (p = 0; p < BF_DEVICE_PARAMS; p++)
        x0[p] = to_var(p, prior->value[p]);
    *next = *cur;
    for (attempt = 0; attempt <= BF_DEVICE_PARAMS; attempt++) {
        double a[BF_DEVICE_PARAMS][BF_DEVICE_PARAMS] = {{0}};
        double b[BF_DEVICE_PARAMS] = {0};
        int idx[BF_DEVICE_PARAMS], k = 0, bad = 0, i, j;
        size_t si;

        for (p = 0; p < BF_DEVICE_PARAMS; p++)
            if ((mask >> p) & 1u && !pinned[p])
                idx[k++] = p;
        if (k == 0)
            break;
        for (si = 0; si < n; si++) {
            double row[BF_DEVICE_PARAMS], fixed = 0, z[BF_DEVICE_PARAMS];
            double y = s[si].measured_ms;

            design_row(cur, &s[si], row);
            for (p = 0; p < BF_DEVICE_PARAMS; p++) {
                int free_p = 0;

                for (i = 0; i < k; i++)
                    free_p |= idx[i] == p;
                if (!free_p)
                    fixed += row[p] *
                             (pinned[p] ? pinned[p] : to_var(p, cur->value[p]));
            }
            /* Variables scaled by the prior: z_i = x_i / x0_i. */
            for (i = 0; i < k; i++)
                z[i] = row[idx[i]] * x0[idx[i]] / y;
            for (i = 0; i < k; i++) {
                for (j = 0; j < k; j++)
                    a[i][j] += z[i] * z[j];
                b[i] += z[i] * (y - fixed) / y;
            }
        }
        for (i = 0; i < k; i++) {
            a[i][i] += prior->prior_weight;
            b[i] += prior->prior_weight;
        }
        if (solve(a, b, k))
            return bf_err_set(BF_ERANGE,
                              "calibration: the points cannot determine the "
                              "fitted parameters; give prior_weight > 0 or "
                              "fit fewer");
        for (i = 0; i < k; i++) {
            double x = b[i] * x0[idx[i]];

            if (x <= 0) {
                pinned[idx[i]] = x0[idx[i]] * 1e-3;
                bad = 1;
            } else {
                next->value[idx[i]] = from_var(idx[i], x);
            }
        }
        if (!bad)
            break;
        for (p = 0; p < BF_DEVICE_PARAMS; p++)
            if (pinned[p])
                next->value[p] = from_var(p, pinned[p]);
    }
    return 0;
}

int bf_device_fit(const struct bf_device_latency *prior,
                  const struct bf_device_sample *samples, size_t n,
                  struct bf_device_latency *fit)
{
    struct bf_device_latency cur;
    size_t i;
    int p, iter, rc;

    if (!prior || !fit || (n && !samples))
        return bf_err_set(BF_EINVAL, "bf_device_fit: NULL argument");
    for (p = 0; p < BF_DEVICE_PARAMS; p++) {
        int fitted = (prior->fit_mask >> p) & 1u;
        /* Times may be 0 when not fitted; a 3x3 or linear rate of 0 is
         * conv_gmacs's and cannot be fitted on its own. */
        int zero_ok = !fitted && (is_time(p) || p == BF_DEVICE_CONV3X3_GMACS ||
                                  p == BF_DEVICE_LINEAR_GMACS);

        if (!(prior->value[p] > 0) && !zero_ok)
            return bf_err_set(BF_EINVAL,
                              "calibration: prior %s must be above 0 to be "
                              "fitted or used",
                              param_names[p]);
    }
    for (i = 0; i < n; i++)
        if (!samples[i].layers || !samples[i].n_layers ||
            !(samples[i].measured_ms > 0))
            return bf_err_set(BF_EINVAL,
                              "calibration sample %zu: no layers or a time "
                              "that is not positive",
                              i);
    cur = *prior;
    if (n == 0) {
        *fit = cur;
        return 0;
    }
    /* Alternate bounds and solves; additive converges in one step. */
    for (iter = 0; iter < 50; iter++) {
        struct bf_device_latency next;
        int same = 1;

        rc = solve_once(prior, &cur, samples, n, &next);
        if (rc)
            return rc;
        for (p = 0; p < BF_DEVICE_PARAMS; p++)
            if (fabs(next.value[p] - cur.value[p]) >
                1e-9 * fabs(cur.value[p]) + 1e-15)
                same = 0;
        cur = next;
        if (same)
            break;
    }
    *fit = cur;
    return 0;
}

int bf_device_leave_one_out(const struct bf_device_latency *prior,
                            const struct bf_device_sample *samples, size_t n,
                            double *loo_ms)
{
    struct bf_device_sample *rest;
    size_t i, j, k;
    int rc = 0;

    if (!prior || !loo_ms || (n && !samples))
        return bf_err_set(BF_EINVAL, "bf_device_leave_one_out: NULL");
    if (n == 0)
        return 0;
    rest = calloc(n, sizeof(*rest));
    if (!rest)
        return bf_err_set(BF_ENOMEM, "leave-one-out: out of memory");
    for (i = 0; i < n && !rc; i++) {
        struct bf_device_latency fit;

        for (j = 0, k = 0; j < n; j++)
            if (j != i)
                rest[k++] = samples[j];
        rc = bf_device_fit(prior, rest, k, &fit);
        if (!rc)
            loo_ms[i] = bf_device_predict_ms(&fit, samples[i].layers,
                                             samples[i].n_layers);
    }
    free(rest);
    return rc;
}

/* Prediction intervals */

/* z_{0.95}: the factor of a stated spread (no sample behind it). */
#define Z_95 1.6448536269514722

int bf_device_error_model(const struct bf_device_latency *prior,
                          const double *measured_ms, const double *loo_ms,
                          size_t n, struct bf_device_error *out)
{
    double sum = 0, sq = 0;
    size_t i;

    if (!prior || !out || (n && (!measured_ms || !loo_ms)))
        return bf_err_set(BF_EINVAL, "bf_device_error_model: NULL argument");
    memset(out, 0, sizeof(*out));
    if (n < 3) {
        if (prior->interval_log_sd > 0) {
            out->log_sd = prior->interval_log_sd;
            out->factor = Z_95;
            out->stated = 1;
        }
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!(measured_ms[i] > 0) || !(loo_ms[i] > 0))
            return bf_err_set(BF_EINVAL,
                              "prediction interval: point %zu has a time "
                              "that is not positive",
                              i);
        sum += log(measured_ms[i] / loo_ms[i]);
    }
    out->log_mean = sum / (double)n;
    for (i = 0; i < n; i++) {
        double d = log(measured_ms[i] / loo_ms[i]) - out->log_mean;

        sq += d * d;
    }
    out->log_sd = sqrt(sq / (double)(n - 1));
    out->n = n;
    out->factor = bf_stats_t_quantile(0.95, (double)(n - 1)) *
                  sqrt(1.0 + 1.0 / (double)n);
    return 0;
}

void bf_device_interval(const struct bf_device_error *e, double t, double *lo,
                        double *hi)
{
    double half;

    if (lo)
        *lo = t;
    if (hi)
        *hi = t;
    if (!e || !(e->factor > 0) || !isfinite(t))
        return;
    half = e->factor * e->log_sd;
    if (lo)
        *lo = t * exp(e->log_mean - half);
    if (hi)
        *hi = t * exp(e->log_mean + half);
}

/* Energy */

void bf_device_energy(const struct bf_device_power *power,
                      const struct bf_radio *radio,
                      const struct bf_device_timeline *t,
                      struct bf_device_energy *out)
{
    double idle = power->idle_mw;
    double tx = idle, rx = idle, wait = idle;
    double uj, uj_above;

    if (radio) {
        tx += radio->base_mw + radio->up_mw_per_mbps * t->up_mbps;
        rx += radio->base_mw + radio->down_mw_per_mbps * t->down_mbps;
        wait += radio->base_mw;
    }
    /* mW x ms = uJ. */
    uj = power->compute_mw * t->compute_ms + tx * t->tx_ms + rx * t->rx_ms +
         wait * t->wait_ms;
    out->e2e_ms = t->compute_ms + t->tx_ms + t->rx_ms + t->wait_ms;
    uj_above = uj - idle * out->e2e_ms;
    out->energy_mj = uj * 1e-3;
    out->energy_above_idle_mj = uj_above * 1e-3;
    out->avg_power_mw = out->e2e_ms > 0 ? uj / out->e2e_ms : 0;
    out->avg_power_above_idle_mw = out->e2e_ms > 0 ? uj_above / out->e2e_ms : 0;
}
