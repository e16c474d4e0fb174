/*
 * bf_scenario_int.h: what the scenario loader's files share. Private to
 * bench/bf_scenario*.c: nothing else includes it.
 *
 *   bf_scenario_keys.c    the key table (one row per key, with its storage),
 *                         key lookup and suggestions, `bfbench keys`
 *   bf_scenario_yaml.c    text -> libyaml document, in one pass over the
 *                         text, nesting bounded
 *   bf_scenario_parse.c   the load: values, defaults, checks; the public
 *                         load, parse and free
 *   bf_scenario_expand.c  parsed values -> struct bf_scenario and the case
 *                         matrix, with the settings and case hashes
 *   bf_scenario_suite.c   suites
 *
 * A parse keeps one slot per key of the table, in table order: the values
 * of the key from the file, or from its default. Code refers to a key by
 * table index; the few keys that the loader's own code names (checks,
 * hooks, the train matrix) are listed in NAMED_KEYS and their indices are
 * looked up once per parse (struct parse.k). Every other key is handled by
 * its table row alone.
 */
#ifndef BF_SCENARIO_INT_H
#define BF_SCENARIO_INT_H

#include "bf_err.h"
#include "bf_scenario.h"

#include <yaml.h>

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest scenario or suite text. */
#define TEXT_MAX ((size_t)1 << 20)

/* Most keys the table may hold (checked where the table is defined). */
#define KEYS_MAX 128

/* Longest key name or choice considered for "did you mean". */
#define SUGGEST_LEN_MAX 32

/* The values of the task key and of struct bf_scenario_key.task. */
#define TASK_ANY "any"
#define TASK_INFERENCE "inference"
#define TASK_TRAIN "train"

/* X(id, name): the keys the loader's code refers to by name. */
#define NAMED_KEYS(X)                                                          \
    X(K_NAME, "name")                                                          \
    X(K_SEED, "seed")                                                          \
    X(K_SEEDS, "seeds")                                                        \
    X(K_CONFIGS, "configs")                                                    \
    X(K_MODELS, "models")                                                      \
    X(K_BATCH, "batch")                                                        \
    X(K_THREADS, "threads")                                                    \
    X(K_MIN_SAMPLES, "min_samples")                                            \
    X(K_MAX_SAMPLES, "max_samples")                                            \
    X(K_REPETITIONS, "repetitions")                                            \
    X(K_WEIGHTS, "weights")                                                    \
    X(K_TASK, "task")                                                          \
    X(K_DATASET, "dataset")                                                    \
    X(K_DATA_DIR, "data_dir")                                                  \
    X(K_STRATEGIES, "strategies")                                              \
    X(K_FREEZE_ENCODER, "freeze_encoder")                                      \
    X(K_BOTTLENECK_CHANNELS, "bottleneck_channels")                            \
    X(K_BOTTLENECK_VERSION, "bottleneck_version")                              \
    X(K_LINK, "link")                                                          \
    X(K_LINK_RATE_MBPS, "link_rate_mbps")                                      \
    X(K_LINK_TRACE, "link_trace")                                              \
    X(K_EDGE_ADDRESS, "edge_address")                                          \
    X(K_BACKGROUND_CLIENTS, "background_clients")                              \
    X(K_PRECISION, "precision")                                                \
    X(K_FOLD_BN, "fold_bn")                                                    \
    X(K_DEVICE, "device")

#define NAMED_KEY_ID(id, name) id,
enum key_id { NAMED_KEYS(NAMED_KEY_ID) K_NAMED };
#undef NAMED_KEY_ID

/* One parsed value and the position of the node it came from. */
struct value {
    long long i; /* INT, BOOL */
    double f;    /* FLOAT */
    char *s;     /* STRING, ENUM, MODEL, PATH, DIR as written; WEIGHTS: model */
    char *path;  /* PATH, DIR, WEIGHTS: resolved; NULL for an absent DIR */
    yaml_mark_t mark;
};

/* The values of one key, from the file or from its default. */
struct slot {
    const yaml_node_t *key_node; /* NULL when the file lacks the key */
    const yaml_node_t *node;     /* the value node, NULL when absent */
    size_t n;                    /* values filled in v */
    struct value *v;
};

/* State of one parse (of a scenario; a suite uses the first fields). */
struct parse {
    const char *file; /* name used in messages */
    const char *dir;  /* prefix for relative paths ("" = cwd) */
    size_t dir_len;
    const struct bf_scenario_params *params;
    yaml_document_t *doc;
    yaml_mark_t root_mark;
    int k[K_NAMED];              /* table index of each named key */
    struct slot slots[KEYS_MAX]; /* one per key, in table order */
};

/* Key table: bf_scenario_keys.c */

/* The table and its length. */
extern const struct bf_scenario_key bf__scenario_key_table[];
extern const size_t bf__scenario_key_count;

/* Table index of the key called name, or -1. */
int bf__scenario_find_key(const char *name);

/* Fill k with the table index of every named key. */
void bf__scenario_name_keys(int k[K_NAMED]);

/* The known key closest to word within edit distance 2, or NULL. */
const char *bf__scenario_suggest_key(const char *word);

/*
 * The word of the '|'-separated choices closest to text, within edit
 * distance 2 and less than text's length, copied into buf; NULL when none.
 */
const char *bf__scenario_suggest_choice(const char *choices, const char *text,
                                        char *buf, size_t size);

/* Whether text is one of the '|'-separated words of choices. */
int bf__scenario_is_choice(const char *choices, const char *text);

/* Whether key applies to task ("inference" or "train"). */
int bf__scenario_applies(const struct bf_scenario_key *key, const char *task);

/* YAML: bf_scenario_yaml.c */

/*
 * Load the single YAML document of text into *doc, in one pass over the
 * text; messages name p->file. Returns 0 (*doc is then the caller's, free
 * with yaml_document_delete; it has no root node when the text holds no
 * document), or an error with *doc already deleted: BF_ERANGE for
 * collections nested too deep, BF_EPARSE for YAML syntax, an undefined
 * alias, a duplicate anchor or a second document, BF_ENOMEM.
 */
int bf__scenario_load_document(const struct parse *p, const char *text,
                               size_t len, yaml_document_t *doc);

/* Parse: bf_scenario_parse.c */

/*
 * Why path is not a readable regular file, or NULL when it is. The text is
 * borrowed until the next call.
 */
const char *bf__scenario_file_problem(const char *path);

/*
 * Parse the default of key k into its slot: one value, or the items of a
 * list written "[a,b,c]". An empty default of a PATH or DIR key means
 * absent: the value is "" with no resolved path.
 */
int bf__scenario_parse_default(struct parse *p, int k);

/* BF_ERANGE when a scenario's file name is too long for struct
 * bf_scenario.path, else 0. */
int bf__scenario_check_name(const char *file);

/*
 * Parse the scenario whose text (len bytes) was loaded into doc, as
 * bf_scenario_parse does after loading; p has file, dir and params set.
 * doc stays the caller's.
 */
int bf__scenario_parse_document(struct parse *p, yaml_document_t *doc,
                                const char *text, size_t len,
                                struct bf_scenario **out);

/* The scenario's task, from the slot of `task`. */
enum bf_task bf__scenario_task(const struct parse *p);

/* Expand: bf_scenario_expand.c */

/* The scenario file's base name without its extension, truncated. */
void bf__scenario_default_name(char *out, size_t size, const char *file);

/* Store every value that does not expand into cases into sc. */
void bf__scenario_fill(const struct parse *p, struct bf_scenario *sc);

/*
 * Expand the task's lists into sc->cases and compute sc->settings_hash and
 * every case's hash. Errors: BF_ERANGE (too many cases), BF_ENOMEM.
 */
int bf__scenario_expand(const struct parse *p, struct bf_scenario *sc);

/* Helpers */

/*
 * Record "file:line:col: key 'name': what" (or "file:line:col: what" when
 * key is NULL) and return code.
 */
static inline int at_error(const struct parse *p, int code, yaml_mark_t mark,
                           const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static inline int at_error(const struct parse *p, int code, yaml_mark_t mark,
                           const char *key, const char *fmt, ...)
{
    char what[BF_ERR_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (key)
        return bf_err_set(code, "%s:%zu:%zu: key '%s': %s", p->file,
                          mark.line + 1, mark.column + 1, key, what);
    return bf_err_set(code, "%s:%zu:%zu: %s", p->file, mark.line + 1,
                      mark.column + 1, what);
}

static inline char *dup_bytes(const char *bytes, size_t len)
{
    char *s = malloc(len + 1);

    if (!s)
        return NULL;
    memcpy(s, bytes, len);
    s[len] = '\0';
    return s;
}

/* Copy a string whose length was checked against size when parsed. */
static inline void copy_str(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);

    assert(len < size);
    memcpy(dst, src, len + 1);
    (void)size;
}

static inline const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "a scalar";
    }
}

static inline const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static inline int is_quoted(const yaml_node_t *node)
{
    return node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
           node->data.scalar.style != YAML_ANY_SCALAR_STYLE;
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
static inline int is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    size_t i;

    if (node->type != YAML_SCALAR_NODE || is_quoted(node))
        return 0;
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp(scalar_text(node), nulls[i]) == 0)
            return 1;
    return 0;
}

/* The slot of named key id. */
static inline const struct slot *named_slot(const struct parse *p,
                                            enum key_id id)
{
    return &p->slots[p->k[id]];
}

/* The table row of named key id. */
static inline const struct bf_scenario_key *named_key(const struct parse *p,
                                                      enum key_id id)
{
    return &bf__scenario_key_table[p->k[id]];
}

#endif /* BF_SCENARIO_INT_H */
