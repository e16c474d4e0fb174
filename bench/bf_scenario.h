/*
 * bf_scenario: scenario files (YAML, read with libyaml) -> validated cases.
 *
 * A scenario is one YAML mapping of documented keys (the table returned by
 * bf_scenario_keys(), printed by `bfbench keys`). Loading is strict: an
 * unknown or duplicated key, a wrong type, a value out of range, a bad enum
 * value, an unknown model or a missing file is an error whose detail names
 * "file:line:column: key 'name': what is wrong" (1-based line and column of
 * the offending node). Keys marked as lists take a scalar or a sequence;
 * every list expands into the matrix of cases, in key-table order, the last
 * key varying fastest.
 *
 * Ownership: bf_scenario_load() allocates the scenario; the caller frees it
 * with bf_scenario_free() (which accepts NULL). Strings inside are owned by
 * the scenario.
 */
#ifndef BF_SCENARIO_H
#define BF_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest model name, path and free-text value, terminating NUL included. */
#define BF_SCENARIO_NAME_MAX 64
#define BF_SCENARIO_PATH_MAX 1024
/* Most cases one scenario may expand into. */
#define BF_SCENARIO_CASES_MAX 10000

enum bf_key_type {
    BF_KEY_INT,    /* integer, strtoll with end and range checks */
    BF_KEY_FLOAT,  /* real number, strtod with end and range checks */
    BF_KEY_BOOL,   /* true/false (YAML 1.2 core schema spellings only) */
    BF_KEY_STRING, /* free text */
    BF_KEY_ENUM,   /* one of a fixed set of words */
    BF_KEY_MODEL,  /* a model architecture name accepted by the zoo */
    BF_KEY_PATH,   /* an existing readable file, relative to the scenario */
    BF_KEY_WEIGHTS /* mapping model name -> existing weights file */
};

/* One documented scenario key. */
struct bf_scenario_key {
    const char *name;
    enum bf_key_type type;
    int is_list;      /* accepts a sequence that expands into cases */
    int required;     /* must be present */
    const char *unit; /* "ms", "px", "" */
    const char *def;  /* default as text, "" when required / none */
    double min;       /* inclusive range for INT and FLOAT */
    double max;
    const char *choices; /* ENUM: words separated by '|' */
    const char *help;    /* one line */
};

/* One case: a point of the expanded matrix. */
struct bf_case {
    int index;                          /* 0-based position in the matrix */
    char config[BF_SCENARIO_NAME_MAX];  /* "local" */
    char model[BF_SCENARIO_NAME_MAX];   /* zoo architecture name */
    int input_size_px;                  /* 0: the model's native size */
    int batch;                          /* images per forward */
    int threads;                        /* intra-op threads, 0: online cores */
    int fold_bn;                        /* BatchNorm folded inference path */
    int channels_last;                  /* NHWC memory format */
    char weights[BF_SCENARIO_PATH_MAX]; /* "" for random initialisation */
};

struct bf_scenario {
    char path[BF_SCENARIO_PATH_MAX]; /* as given to bf_scenario_load */
    char name[BF_SCENARIO_NAME_MAX];
    uint64_t seed;
    int warmup;              /* untimed iterations per case */
    int min_samples;         /* timed samples: at least this many ... */
    int64_t min_duration_ms; /* ... and at least this long */
    int max_samples;         /* hard cap on timed samples per case */
    char *text;              /* the file's bytes, NUL-terminated */
    size_t text_len;
    size_t n_cases;
    struct bf_case *cases;
};

struct bf_scenario_params {
    /*
     * Returns nonzero when name is a model the zoo can build. Required: the
     * CLI passes the shim's bf_model_arch_exists; tests pass a fake.
     */
    int (*model_exists)(const char *name);
};

/* The key table and its length; static storage. */
const struct bf_scenario_key *bf_scenario_keys(size_t *count);

/*
 * Print the key table for `bfbench keys`: name, type (with "list of"), unit,
 * default, range or choices, help; one key a line under a header.
 */
void bf_scenario_keys_print(FILE *out);

/*
 * Read, validate and expand the scenario at path. On success *out owns a new
 * scenario. On failure returns BF_ENOENT (file missing or unreadable),
 * BF_EPARSE (YAML syntax, unknown/duplicate/missing key, wrong type, bad enum
 * or model, a weights file that is missing or unreadable), BF_ERANGE (a
 * value out of range, a file over 1 MiB, a string or path too long, more
 * than BF_SCENARIO_CASES_MAX cases) or BF_ENOMEM, with the detail set.
 */
int bf_scenario_load(const char *path, const struct bf_scenario_params *params,
                     struct bf_scenario **out);

/* Same as bf_scenario_load on text already in memory; name is for messages. */
int bf_scenario_parse(const char *name, const char *text, size_t len,
                      const struct bf_scenario_params *params,
                      struct bf_scenario **out);

void bf_scenario_free(struct bf_scenario *scenario);

#endif /* BF_SCENARIO_H */
