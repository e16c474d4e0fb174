/*
 * bf_scenario: scenario files (YAML, read with libyaml) -> validated cases.
 *
 * A scenario is one YAML mapping of documented keys (the table returned by
 * bf_scenario_keys(), printed by `bfbench keys`). Loading is strict: an
 * unknown or duplicated key, a wrong type, a value out of range, a bad enum
 * value, an unknown model, a missing file or directory, or a key that does
 * not apply to the scenario's task is an error whose detail names
 * "file:line:column: key 'name': what is wrong" (1-based line and column of
 * the offending node).
 *
 * Tasks. The key `task` says what the cases do: "inference" (the default)
 * times forwards, "train" trains and evaluates models. Every key applies to
 * one task or to both (struct bf_scenario_key.task); giving a key of the
 * other task is an error, wherever `task` appears in the file. Keys of the
 * other task keep their defaults.
 *
 * Lists. Keys marked BF_KEY_LIST_CASES take a scalar or a sequence, and
 * expand into the matrix of cases, the last key varying fastest:
 *
 *   inference  configs x models x input_size_px x batch x threads x
 *              fold_bn x channels_last x bottleneck_channels x
 *              bottleneck_version x link_rate_mbps x background_clients
 *              (key-table order)
 *   train      models x seeds x strategies x bottleneck_version x
 *              bottleneck_channels x freeze_encoder
 *
 * Seeds (train): `seeds` repeats every training case per seed. A case's
 * seed (struct bf_case.seed) drives the student's initialisation, batch
 * order and augmentation; the data split, the training and test subsets
 * and (unless teacher_per_seed) the teacher stay those of `seed`, so that
 * every seed is evaluated on the same test images and two models can be
 * compared image by image. Without `seeds` in the file, the case hashes
 * are those of earlier versions (seed is a setting, not a point).
 *
 * An inference case keeps only the first value of a list its
 * configuration ignores: local has no link rate, background clients or
 * bottleneck; edge and spinn-split have no bottleneck. Cases are numbered
 * after that.
 *
 * Keys marked BF_KEY_LIST_VALUES (jpeg_qualities, exit_thresholds) also take a
 * scalar or a sequence of at most BF_SCENARIO_VALUES_MAX entries, but stay one
 * list in struct bf_scenario and do not multiply the cases. A list is never
 * empty and never holds the same value twice.
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
/* Most entries of a value list (BF_KEY_LIST_VALUES). */
#define BF_SCENARIO_VALUES_MAX 32

enum bf_key_type {
    BF_KEY_INT,    /* integer, strtoll with end and range checks */
    BF_KEY_FLOAT,  /* real number, strtod with end and range checks */
    BF_KEY_BOOL,   /* true/false (YAML 1.2 core schema spellings only) */
    BF_KEY_STRING, /* free text */
    BF_KEY_ENUM,   /* one of a fixed set of words */
    BF_KEY_MODEL,  /* a model architecture name accepted by the zoo */
    BF_KEY_PATH,   /* an existing readable file, relative to the scenario */
    BF_KEY_DIR,    /* an existing readable directory, likewise */
    BF_KEY_WEIGHTS /* mapping model name -> existing weights file */
};

/* Values of struct bf_scenario_key.is_list. */
enum bf_key_list {
    BF_KEY_SCALAR = 0,      /* one value */
    BF_KEY_LIST_CASES = 1,  /* a list that expands into cases */
    BF_KEY_LIST_VALUES = 2, /* a list kept as a list in the scenario */
};

/* What the cases of a scenario do: the values of the key `task`. */
enum bf_task {
    BF_TASK_INFERENCE, /* time forwards */
    BF_TASK_TRAIN,     /* train, then evaluate */
};

/*
 * Where the loader stores a key's value (struct bf_scenario_key.store): the
 * C type of its field, which the key table derives from the field itself.
 */
enum bf_key_store {
    BF_KEY_STORE_NONE = 0, /* no storage: a table error (the tests check) */
    BF_KEY_STORE_HOOK,     /* stored by code of its own: name, weights, task */
    BF_KEY_STORE_INT,      /* int (INT, BOOL) */
    BF_KEY_STORE_INT64,    /* int64_t */
    BF_KEY_STORE_UINT64,   /* uint64_t */
    BF_KEY_STORE_DOUBLE,   /* double */
    BF_KEY_STORE_TEXT,     /* char[size]; PATH, DIR: resolved, "" if absent */
    BF_KEY_STORE_INTS,     /* value list: int[], its count at count_offset */
    BF_KEY_STORE_DOUBLES,  /* value list: double[] */
    BF_KEY_STORE_TEXTS,    /* value list: char[][BF_SCENARIO_NAME_MAX], the
                              word "none" left out */
};

/* One documented scenario key. */
struct bf_scenario_key {
    const char *name;
    enum bf_key_type type;
    int is_list;      /* enum bf_key_list: scalar, expanding or value list */
    int required;     /* must be present */
    const char *task; /* task it applies to: "any", "inference", "train" */
    const char *unit; /* "ms", "px", "" */
    const char *def;  /* default as text, "" when required / none */
    double min;       /* inclusive range for INT and FLOAT */
    double max;
    const char *choices; /* ENUM: words separated by '|' */
    const char *help;    /* one line */
    /*
     * Storage: the field that receives the value, in struct bf_case for a
     * key that expands into cases (one value a case), in struct bf_scenario
     * otherwise: its kind, offsetof and sizeof; a value list also gives the
     * offsetof its size_t count.
     */
    enum bf_key_store store;
    size_t offset;
    size_t size;
    size_t count_offset;
};

/*
 * One case: a point of the expanded matrix. The fields of the other task
 * hold the defaults of their keys in a train case, and ""/0 in an
 * inference case.
 */
struct bf_case {
    int index;                         /* 0-based position in the matrix */
    char config[BF_SCENARIO_NAME_MAX]; /* "local" */
    char model[BF_SCENARIO_NAME_MAX];  /* zoo architecture name */
    int input_size_px;                 /* 0: the model's native size */
    int batch;                         /* images per forward */
    int threads;                       /* intra-op threads, 0: online cores */
    int fold_bn;                       /* BatchNorm folded inference path */
    int channels_last;                 /* NHWC memory format */
    char precision[BF_SCENARIO_NAME_MAX]; /* "fp32", "bf16", "fp16" */
    char weights[BF_SCENARIO_PATH_MAX];   /* "" for random initialisation */
    /* Train task. */
    char strategy[BF_SCENARIO_NAME_MAX]; /* "bottlefit", ...; "" inference */
    int freeze_encoder;                  /* encoder frozen in stage 2 */
    int bottleneck_channels;             /* channels C of the bottleneck */
    int bottleneck_version;              /* placement, 1..3 */
    /* The case's seed: an entry of `seeds` (train), else `seed`. */
    uint64_t seed;
    /* Inference over the network. */
    double link_rate_mbps;  /* uplink (fixed, tbf) */
    int background_clients; /* other devices on the same server */
    /*
     * Identity of the case (resume, compare): SHA-256 hex of the scenario's
     * settings (struct bf_scenario.settings_hash) and this case's matrix
     * point, each value as "key=value" in key-table order.
     */
    char hash[65];
};

struct bf_scenario {
    char path[BF_SCENARIO_PATH_MAX]; /* as given to bf_scenario_load */
    char name[BF_SCENARIO_NAME_MAX];
    uint64_t seed;
    int warmup;              /* untimed iterations per case */
    int min_samples;         /* timed samples: at least this many ... */
    int64_t min_duration_ms; /* ... and at least this long */
    int max_samples;         /* hard cap on timed samples per case */
    int repetitions;         /* rounds over the cases (inference) */
    enum bf_task task;
    /*
     * Train task settings; they hold their keys' defaults when the task is
     * inference.
     */
    char dataset[32];                    /* fashion-mnist, idx, folder */
    char data_dir[BF_SCENARIO_PATH_MAX]; /* resolved; "" when absent */
    double val_fraction;                 /* training split held out */
    int64_t train_subset;                /* training items, 0: all */
    int64_t teacher_train_subset;        /* the teacher's; 0: train_subset */
    int64_t test_subset;                 /* test items, 0: all */
    int teacher_epochs;                  /* of a teacher trained here */
    double teacher_lr;                   /* its SGD learning rate */
    int teacher_batch;                   /* its images per step */
    int teacher_per_seed; /* 1: each seed trains its own teacher */
    int epochs_stage1;    /* GHND stage */
    int epochs_stage2;    /* fine-tuning stage */
    int epochs_baseline;  /* naive, kd, hnd, autoencoders */
    double lr_stage1, lr_stage2, lr_baseline;       /* learning rates */
    int batch_stage1, batch_stage2, batch_baseline; /* images per step */
    double momentum;                                /* SGD phases */
    double weight_decay_stage2;                     /* fine-tuning stage */
    double weight_decay_baseline;                   /* naive and kd */
    double lr_gamma;                                /* lr factor at each step */
    int64_t max_batches;                            /* per epoch, 0: all */
    int frozen_bn_train;   /* frozen stages update BN stats */
    int augment;           /* flip and shift small images */
    double kd_temperature; /* T of the KD loss */
    double kd_alpha;       /* weight of its label term */
    int jpeg_qualities[BF_SCENARIO_VALUES_MAX]; /* in file order */
    size_t n_jpeg_qualities;
    int jpeg_reference_quality; /* compression rates are relative to it */
    /* spinn-split: confidence thresholds of the exit rule, in file order */
    double exit_thresholds[BF_SCENARIO_VALUES_MAX];
    size_t n_exit_thresholds;
    int image_size_px; /* folder data: crop side */
    /* Inference over the network. */
    char link[16];                           /* ideal, fixed, trace, ... */
    double link_rate_mbps;                   /* uplink */
    double link_down_rate_mbps;              /* 0: the uplink's */
    double link_rtt_ms, link_jitter_ms;      /* propagation */
    double link_loss;                        /* per packet */
    char link_trace[BF_SCENARIO_PATH_MAX];   /* resolved; "" when absent */
    char edge_address[BF_SCENARIO_NAME_MAX]; /* direct: host:port */
    int edge_workers, edge_queue;            /* in-process server */
    int background_clients;                  /* other devices */
    int edge_jpeg_quality;                   /* edge configuration */
    int zstd_payload;                        /* entropy-code tensors */
    double exit_threshold;                   /* spinn-split */
    int64_t request_timeout_ms;
    char inputs[16]; /* "synthetic" or "fashion-mnist" */
    /* Device models: profile names or paths, in file order ("none"
     * gives none), and PROFILE:FIELD=VALUE overrides. */
    char devices[BF_SCENARIO_VALUES_MAX][BF_SCENARIO_NAME_MAX];
    size_t n_devices;
    char device_overrides[BF_SCENARIO_VALUES_MAX][BF_SCENARIO_NAME_MAX];
    size_t n_device_overrides;
    char radio[BF_SCENARIO_NAME_MAX];       /* radio power preset */
    char edge_device[BF_SCENARIO_NAME_MAX]; /* "host": server time measured */
    char power_probe[BF_SCENARIO_NAME_MAX]; /* bf_probe spec */
    double power_probe_rate_hz;
    /* Where libtorch computes ("cpu", "cuda", "cuda:N"): the device side,
     * the edge server and training. */
    char device[BF_SCENARIO_NAME_MAX];
    /* Students' training forwards: "fp32" or "bf16" (autocast). */
    char train_precision[BF_SCENARIO_NAME_MAX];

    /*
     * SHA-256 hex of every key that does not expand into cases and whose
     * value differs from its default ("key=value" lines in key-table order;
     * `name` and `repetitions` left out): comments, key order and spelled-out
     * defaults do not change it, nor does a key added to a later version with a
     * default. Values are hashed as written (paths too), not the files they
     * name.
     */
    char settings_hash[65];

    char *text; /* the file's bytes, NUL-terminated */
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
    /*
     * Checks a `weights` file's structure at load (may be NULL: existence
     * only): 0 or an error code with the detail set. The CLI passes the
     * shim's bf_weights_check, so that a garbage or truncated file fails
     * at load, naming file:line:column and the key, not half-way through a
     * run.
     */
    int (*weights_check)(const char *path);
};

/* The key table and its length; static storage. */
const struct bf_scenario_key *bf_scenario_keys(size_t *count);

/*
 * Print the key table for `bfbench keys`: name, task, type ("list of int"
 * for an expanding list, "values: int" for a value list), unit, default,
 * range or choices, help; one key a line under a header.
 */
void bf_scenario_keys_print(FILE *out);

/*
 * Read, validate and expand the scenario at path. On success *out owns a new
 * scenario. On failure returns BF_ENOENT (file missing or unreadable),
 * BF_EPARSE (YAML syntax, unknown/duplicate/missing key, wrong type, bad enum
 * or model, a weights file or data directory that is missing or unreadable,
 * a key of the other task, a dataset that needs data_dir without it),
 * BF_ERANGE (a value out of range, a file over 1 MiB, a string or path too
 * long, more than BF_SCENARIO_CASES_MAX cases or BF_SCENARIO_VALUES_MAX
 * values) or BF_ENOMEM, with the detail set.
 */
int bf_scenario_load(const char *path, const struct bf_scenario_params *params,
                     struct bf_scenario **out);

/* Same as bf_scenario_load on text already in memory; name is for messages. */
int bf_scenario_parse(const char *name, const char *text, size_t len,
                      const struct bf_scenario_params *params,
                      struct bf_scenario **out);

/*
 * Same on text recorded from the file at path (a run's scenario_text):
 * relative paths in it resolve against path's directory, as when loaded.
 */
int bf_scenario_parse_at(const char *path, const char *text, size_t len,
                         const struct bf_scenario_params *params,
                         struct bf_scenario **out);

void bf_scenario_free(struct bf_scenario *scenario);

/*
 * A suite: a YAML mapping of `name` (optional) and `suite`, a list of
 * scenario files relative to the suite file, run in order by `bfbench run`
 * as separate runs.
 */
#define BF_SUITE_MAX 32
struct bf_suite {
    char name[BF_SCENARIO_NAME_MAX]; /* default: the file's base name */
    size_t n;                        /* 0: the file is not a suite */
    char paths[BF_SUITE_MAX][BF_SCENARIO_PATH_MAX];
};

/*
 * Read path as a suite. A file whose top level has no `suite` key (a
 * scenario, or something the scenario loader will reject) gives n = 0 and
 * returns 0. Errors: BF_ENOENT (unreadable), BF_EPARSE (YAML syntax, a key
 * other than name/suite, an empty or malformed list, a member that cannot
 * be opened; file:line:col), BF_ERANGE (too many members, path too long).
 */
int bf_suite_load(const char *path, struct bf_suite *out);

/*
 * What `bfbench run` takes: path read once, as a suite or else as a
 * scenario. A suite fills *suite (suite->n > 0) and leaves *out NULL; a
 * scenario gives suite->n = 0 and *out, as bf_scenario_load would (caller
 * frees it with bf_scenario_free). Errors: those of bf_suite_load, then
 * those of bf_scenario_load.
 */
int bf_scenario_load_or_suite(const char *path,
                              const struct bf_scenario_params *params,
                              struct bf_suite *suite, struct bf_scenario **out);

/*
 * The hash of a case the runner adds to a scenario's matrix (kind "teacher"
 * or "jpeg" for model): SHA-256 hex of the settings hash, kind and model.
 */
void bf_scenario_extra_case_hash(const struct bf_scenario *scenario,
                                 const char *kind, const char *model,
                                 char out[65]);

#endif /* BF_SCENARIO_H */
