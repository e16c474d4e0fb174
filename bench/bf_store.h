/*
 * bf_store: the SQLite results store, the only input of reports, comparisons
 * and figures.
 *
 * Schema versioned with PRAGMA user_version (BF_STORE_SCHEMA_VERSION); a DB
 * with a newer version is refused with BF_EVERSION and a message naming both
 * versions; an older one is migrated in one transaction (version 1 to 2
 * adds the training columns of cases and the epochs and accuracy tables,
 * 2 to 3 the early-exit columns of accuracy, 3 to 4 the network columns of
 * cases, 4 to 5 the device tables, 5 to 6 cases.case_hash and
 * runs.resumes, 6 to 7 runs.platform and platform_sha256, the predictions
 * table (per-image results of an accuracy row) and the checks table
 * (known-answer checks of a run)), 7 to 8 cases.seed and artifacts, 8 to
 * 9 device runtimes and intervals, 9 to 10 claims, 10 to 11 merges and
 * cases.merge_id (bf_store_merge.h), 11 to 12
 * epochs.train_loss_per_image,
 * and a new DB is created at the current version in one transaction by the
 * same steps, so that a migrated and a new DB have the same schema. WAL
 * journal, foreign keys on, prepared statements kept for the life of the
 * handle. Tables: runs (provenance and status), cases (what ran, including
 * how its model was trained), samples (one row per timed request, per-stage
 * timings in ns and bytes), aggregates (statistics computed in C, one row
 * per case and metric, each with its unit and how it was obtained), epochs
 * (one row per training epoch of a case), accuracy (one row per evaluation
 * of a case's model: variant and split, with payload sizes and the
 * compression against JPEG computed in C).
 *
 * Durability: a run row is committed with status "running" before any case
 * starts; each batch of samples is one transaction. A process killed
 * mid-run therefore leaves a readable DB whose run, and the case that was
 * running, read "running" with no end time: reports show both as
 * unfinished, even when the case stored no aggregate. Nothing is written
 * inside a timed window: the runner hands over samples after timing.
 *
 * Ownership: bf_store_open() returns a handle the caller closes with
 * bf_store_close() (accepts NULL). Strings in the row structs are borrowed
 * for the duration of the call.
 */
#ifndef BF_STORE_H
#define BF_STORE_H

#include "bf_record.h"
#include "bf_stats.h"

#include <stddef.h>
#include <stdint.h>

#define BF_STORE_SCHEMA_VERSION 14

struct bf_store;

/* Provenance of a run (all strings may be "" but not NULL). */
struct bf_run_info {
    const char *scenario_path;
    const char *scenario_name;
    const char *scenario_sha256; /* hex digest of the scenario file bytes */
    const char *scenario_text;   /* the file itself, for exact replay */
    uint64_t seed;
    const char *git_commit;
    int git_dirty; /* 1 dirty, 0 clean, -1 unknown */
    const char *host;
    const char *cpu_model;
    int cores_online;
    const char *libtorch_version;
    const char *blas;
    const char *build_type;
    const char *bfbench_version;
    const char *input_hashes; /* JSON object: {"weights:resnet18": "..."} */
    const char *command_line;
    /* The platform fingerprint (bf_sysinfo_platform) and its SHA-256. */
    const char *platform;
    const char *platform_sha256;
};

/*
 * Open (creating and migrating as needed) the DB at path. An existing DB is
 * checked first (PRAGMA quick_check): a damaged one is refused with
 * BF_EPARSE before anything is written. An SQLite file of another program
 * (tables but not bfbench's) is refused untouched with BF_EPARSE, a newer
 * schema with BF_EVERSION.
 */
int bf_store_open(const char *path, struct bf_store **out);
/*
 * The same for readers (report, plot): a DB at the current version is
 * opened for reading only (bf_store_sqlite_open_readonly and query_only: no
 * journal switch, no write; a missing file is an SQLite error, BF_EDB; an
 * empty one BF_ENOENT, left empty); an older one of bfbench's is migrated
 * as bf_store_open does; a foreign one is refused untouched.
 */
int bf_store_open_readonly(const char *path, struct bf_store **out);
void bf_store_close(struct bf_store *store);

/* Runs */
int bf_store_run_begin(struct bf_store *store, const struct bf_run_info *info,
                       int64_t *run_id);
/* status: "finished", "failed" or "interrupted". */
int bf_store_run_end(struct bf_store *store, int64_t run_id,
                     const char *status);

/* Cases */
int bf_store_case_begin(struct bf_store *store, int64_t run_id,
                        const struct bf_case_row *row, int64_t *case_id);
/* status: "finished", "failed" or "skipped"; error may be "" or NULL. */
int bf_store_case_end(struct bf_store *store, int64_t case_id,
                      const char *status, const char *error);

/*
 * Samples, aggregates, epochs and accuracy rows, each call one transaction:
 * the rows are stored whole or not at all. A row with a value out of range
 * is refused with BF_EINVAL naming it; a duplicate key is BF_EDB.
 */
int bf_store_add_samples(struct bf_store *store, int64_t case_id,
                         const struct bf_sample_row *rows, size_t n);
int bf_store_add_aggregates(struct bf_store *store, int64_t case_id,
                            const struct bf_aggregate_row *rows, size_t n);
/* Epochs are numbered (seq) after those the case already has, from 0, so
 * that a training loop can store each epoch as it ends. */
int bf_store_add_epochs(struct bf_store *store, int64_t case_id,
                        const struct bf_epoch_row *rows, size_t n);
/*
 * One row per (variant, split) of a case. variant and split must be set,
 * split must not be "val" (validation data selects the model; it is not a
 * result), top1 and top5 are percent in [0, 100], jpeg_reference_quality is
 * 0 or 1..100. Stores compression_vs_jpeg = 1 - payload_bytes /
 * jpeg_reference_bytes and element_ratio = transmitted_elements /
 * input_elements where both operands are known (denominator > 0), else
 * NULL. A row with pred set also stores its per-image results (the
 * predictions table) in the same transaction.
 */
int bf_store_add_accuracy(struct bf_store *store, int64_t case_id,
                          const struct bf_accuracy_row *rows, size_t n);

/* Known-answer checks of a run, one transaction; a name stored before is
 * replaced (a resumed run checks again). */
int bf_store_add_checks(struct bf_store *store, int64_t run_id,
                        const struct bf_check_row *rows, size_t n);

/* A file a case produced (schema version 8), replacing the case's earlier
 * row of that kind; a single statement (no transaction of its own). */
int bf_store_add_artifact(struct bf_store *store, int64_t case_id,
                          const struct bf_artifact_row *row);

/* Reading back (reports, tests) */

/*
 * Call fn for every artifact of run_id's cases (every run when 0), by case
 * id and kind; the row's strings are borrowed for the callback. A nonzero
 * return from fn stops the walk and is returned.
 */
int bf_store_each_artifact(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t case_id,
                                     const struct bf_artifact_row *row,
                                     void *ctx),
                           void *ctx);

/* Resuming a run */

/*
 * The newest run of the scenario whose file bytes hash to sha256, or
 * BF_ENOENT (no detail set) when there is none.
 */
int bf_store_run_of_scenario(struct bf_store *store, const char *sha256,
                             int64_t *run_id);
/*
 * Reopen run_id for more cases, in one transaction: its cases that are
 * neither finished nor skipped (failed, or left running by a killed
 * process) and that no live claim holds (another process running them
 * now) are deleted with their rows, as are claims whose lease has run
 * out; the run reads "running" again and its resumes count grows by one.
 * The resuming process's provenance (info's machine and build fields; the
 * scenario fields are the run's) becomes a resumes row, *resume_id; the
 * cases it records carry that id (bf_case_row.resume_id). The run's row
 * keeps the provenance of the process that began it.
 * *complete gets the cases kept, *dropped those deleted.
 */
int bf_store_run_resume(struct bf_store *store, int64_t run_id,
                        const struct bf_run_info *info, int64_t *complete,
                        int64_t *dropped, int64_t *resume_id);

/* One resumes row (schema version 14), as bf_store_each_resume reads it;
 * the strings are borrowed for the callback. */
struct bf_resume_view {
    int64_t run_id;
    const char *resumed_at;
    const char *host;
    const char *cpu_model;
    const char *git_commit;
    int git_dirty;
    const char *platform_sha256; /* "" when none was recorded */
    int64_t kept, dropped;       /* cases when it resumed */
    int64_t recorded;            /* cases it recorded since */
};

/*
 * Call fn for every resumes row of run_id (every run when 0), by run and
 * row id; a nonzero return from fn stops the walk and is returned.
 */
int bf_store_each_resume(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_resume_view *v, void *ctx),
                         void *ctx);
/* *complete = 1 when run_id has a finished or skipped case of that hash. */
int bf_store_case_complete(struct bf_store *store, int64_t run_id,
                           const char *case_hash, int *complete);

/* Case claims (schema version 10) */

enum bf_claim {
    BF_CLAIM_MINE = 0, /* claimed (or renewed) by owner: run it */
    BF_CLAIM_DONE = 1, /* the run holds a complete case of that hash */
    BF_CLAIM_BUSY = 2, /* another owner holds a live claim */
};

/*
 * Claim case_hash of run_id for owner with a lease of lease_s seconds, in
 * one immediate transaction. A claim whose lease has run out (its owner is
 * gone) is taken over: the case's incomplete rows are deleted first, so
 * that it runs again from the start. *out says what happened.
 */
int bf_store_case_claim(struct bf_store *store, int64_t run_id,
                        const char *case_hash, const char *owner,
                        double lease_s, enum bf_claim *out);

/* Extend every claim of owner to now + lease_s. */
int bf_store_claims_renew(struct bf_store *store, const char *owner,
                          double lease_s);

/* Drop every claim of owner in run_id (its cases are complete or failed). */
int bf_store_claims_release(struct bf_store *store, int64_t run_id,
                            const char *owner);

/*
 * Call fn with every owner that holds a live claim (any run); a nonzero
 * return stops the walk and is returned.
 */
int bf_store_each_claim_owner(struct bf_store *store,
                              int (*fn)(const char *owner, void *ctx),
                              void *ctx);

/* End every claim of owner now (its process is known to be gone). */
int bf_store_claims_expire(struct bf_store *store, const char *owner);

/* *n = live claims of run_id held by owners other than owner. */
int bf_store_claims_others(struct bf_store *store, int64_t run_id,
                           const char *owner, int64_t *n);

/*
 * Call fn for every run of run_id (every run when 0) that recorded a
 * platform fingerprint (schema version 7), in id order, with the platform
 * text and its SHA-256 (borrowed for the callback). A nonzero return from
 * fn stops the walk and is returned.
 */
int bf_store_each_platform(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t run_id, const char *platform,
                                     const char *sha256, void *ctx),
                           void *ctx);

/* The id of the newest run, or BF_ENOENT when the DB has no run. */
int bf_store_last_run(struct bf_store *store, int64_t *run_id);

/*
 * One case of a run with one of its aggregates, as reports read it. A case
 * without aggregates (it failed or was skipped before measuring, or the
 * process was killed while it ran) appears once with metric, unit and
 * method "" and every statistic 0 (stats.n == 0).
 */
struct bf_result_view {
    int64_t run_id;
    const char *run_status; /* "running" reads as unfinished */
    int64_t case_id;
    int case_index;
    const char *case_status; /* "running" reads as unfinished */
    const char *case_error;  /* why it failed or was skipped, else "" */
    const char *config;
    const char *model;
    const char *weights;
    int input_channels;
    int input_h;
    int input_w;
    int batch;
    int threads;
    int fold_bn;
    int channels_last;
    const char *precision; /* "fp32", "bf16", "fp16" (schema 13) */
    const char *device;    /* "cpu", "cuda:0"... (schema 13) */
    int64_t params;
    int64_t macs;
    const char *metric; /* "" when the case has no aggregate */
    const char *unit;
    const char *method;
    struct bf_stats stats;
    /* The network (schema 4): "" / -1 / 0 when the case sent nothing. */
    const char *link;
    double link_rate_mbps;
    double link_rtt_ms;
    int background_clients;
};

/*
 * Call fn for every case of run_id (every run when run_id is 0): once per
 * aggregate of the case, or once with no aggregate when it has none.
 * Ordered by run, case index, case id and metric. Strings are borrowed for
 * the duration of the callback. A nonzero return from fn stops the walk and
 * is returned.
 */
int bf_store_each_result(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_result_view *row, void *ctx),
                         void *ctx);

/*
 * One accuracy row of a case with the case's training context, as reports
 * read it. SQL NULL reads as "" for strings, 0 for bottleneck_version,
 * bottleneck_channels and acc.jpeg_reference_quality, -1 for
 * freeze_encoder, the head_* numbers and the n/a doubles of acc (as
 * bf_accuracy_row has them), and NaN for compression_vs_jpeg and
 * element_ratio (which can be negative). A case that recorded a strategy
 * but has no accuracy row (it failed, was skipped or was killed before
 * evaluating) appears once with acc.variant, acc.split and acc.method ""
 * and the other numbers of acc 0.
 */
struct bf_accuracy_view {
    int64_t run_id;
    const char *run_status; /* "running" reads as unfinished */
    int64_t case_id;
    int case_index;
    const char *case_status; /* "running" reads as unfinished */
    const char *case_error;  /* why it failed or was skipped, else "" */
    const char *model;
    const char *strategy;
    int freeze_encoder;
    int bottleneck_version;
    int bottleneck_channels;
    const char *split_shape;
    int64_t head_params;
    int64_t head_macs;
    int64_t head_bytes;
    const char *dataset;
    struct bf_accuracy_row acc;
    double compression_vs_jpeg;
    double element_ratio;
    int seeded;    /* the case has a seed (schema version 8) */
    uint64_t seed; /* its seed when seeded */
};

/* The top-1 correctness of each image of one accuracy row (schema 7). */
struct bf_prediction_bits {
    int64_t n;             /* images */
    char items_sha256[65]; /* which items, in which order */
    unsigned char *top1;   /* bit i (LSB first): image i right; free() */
};

/*
 * The per-request samples of one timed stage of case_id ("e2e", "head",
 * "encode", "transfer", "server_queue", "server_decode", "tail", "reply"),
 * in ms and request order, into *out (the caller frees; NULL and 0 for
 * another metric or a case without samples).
 */
int bf_store_case_samples(struct bf_store *store, int64_t case_id,
                          const char *metric, double **out, size_t *n);

/*
 * The per-image top-1 bits of case_id's accuracy row (variant, split) into
 * out (the caller frees out->top1). BF_ENOENT without a detail when the row
 * kept none (JPEG rows, DBs before schema 7).
 */
int bf_store_prediction_bits(struct bf_store *store, int64_t case_id,
                             const char *variant, const char *split,
                             struct bf_prediction_bits *out);

/*
 * Call fn for every accuracy row of run_id (every run when run_id is 0),
 * and once for every case with a strategy but no accuracy row. Ordered by
 * run, case index, case id, then variant: "fp32", "int8", "jpeg-q<N>" by
 * ascending N, then any other variant by name; then split. Strings are
 * borrowed for the duration of the callback. A nonzero return from fn
 * stops the walk and is returned.
 */
int bf_store_each_accuracy(struct bf_store *store, int64_t run_id,
                           int (*fn)(const struct bf_accuracy_view *view,
                                     void *ctx),
                           void *ctx);

/*
 * One training configuration evaluated with several seeds (schema version
 * 8): the accuracy rows of a run's finished cases that share model,
 * strategy, freeze_encoder, bottleneck, variant and split and differ only
 * in their seed, summarised. Aggregation across seeds happens here, once,
 * for every reader.
 */
struct bf_seed_group_view {
    int64_t run_id;
    const char *model;
    const char *strategy;
    int freeze_encoder; /* -1: not recorded */
    int bottleneck_version;
    int bottleneck_channels;
    const char *variant;
    const char *split;
    size_t seeds;         /* cases, one per seed (at least 2) */
    int64_t n_min, n_max; /* images per evaluation */
    /* Top-1 and top-5 in %: mean over the seeds and the half width of its
     * 95 % Student t interval (bf_stats_t_interval); sd: sample standard
     * deviation across seeds. */
    double top1_mean, top1_half, top1_sd;
    double top5_mean, top5_half;
};

/*
 * Call fn for every group of run_id (every run when 0) with at least two
 * seeds, in case order. Strings are borrowed for the callback; a nonzero
 * return from fn stops the walk and is returned.
 */
int bf_store_each_seed_group(struct bf_store *store, int64_t run_id,
                             int (*fn)(const struct bf_seed_group_view *view,
                                       void *ctx),
                             void *ctx);

/* Device rows of a case (schema version 5), in one transaction. */
int bf_store_add_devices(struct bf_store *store, int64_t case_id,
                         const struct bf_device_row *rows, size_t n);

/* A device row with its case's context, as reports read it; SQL NULL
 * reads as NaN for numbers and "" for strings. */
struct bf_device_view {
    int64_t run_id;
    int case_index;
    const char *config;
    const char *model;
    double link_rate_mbps; /* NaN: not emulated */
    int bottleneck_channels;
    int background_clients;
    const char *case_status;
    struct bf_device_row row;
};

/*
 * Call fn for every device row of run_id (every run when 0), ordered by
 * run, case index and device. Strings are borrowed for the callback; a
 * nonzero return stops the walk and is returned.
 */
int bf_store_each_device(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_device_view *view,
                                   void *ctx),
                         void *ctx);

/* A calibration of a device profile and its points. */
struct bf_calibration_row {
    const char *profile;
    const char *profile_path;
    const char *form;    /* "roofline" */
    const char *runtime; /* "pytorch-fp16" */
    double value[7];     /* conv, grouped, linear GMAC/s, GB/s, us, conv3x3,
                            sublinear us */
    double interval_log_mean, interval_log_sd, interval_factor; /* NaN */
    const char *fitted; /* "conv_gmacs,bandwidth_gbs" */
    double fit_rms_pct;
    double loo_mean_abs_pct; /* NaN: n/a */
    double loo_max_abs_pct;
};

struct bf_calibration_point_row {
    const char *model;
    int input_px;
    int64_t macs;
    int64_t layers;
    double measured_ms;
    const char *method; /* the source, or "measured:host" */
    double predicted_ms;
    double loo_ms; /* NaN: n/a */
};

/* Store a calibration and its points in one transaction; *id its id. */
int bf_store_add_calibration(struct bf_store *store,
                             const struct bf_calibration_row *cal,
                             const struct bf_calibration_point_row *points,
                             size_t n, int64_t *id);

/* Number of sample rows stored for a case (tests, reports). */
int bf_store_count_samples(struct bf_store *store, int64_t case_id,
                           int64_t *count);

/*
 * The SQLite connection of the store, for tests that load fixture rows;
 * every reader in bench/ goes through the store's walkers (bf_store.h,
 * bf_store_claims.h, bf_store_figures.h, bf_store_compare.h). Borrowed
 * until bf_store_close(); do not close it or change the schema through it.
 */
struct sqlite3 *bf_store_db(struct bf_store *store);

/*
 * Open the SQLite file at path for reading only (the store's read-only
 * opens use it: bf_store_open_readonly, bf_store_open_as_recorded):
 * read-write with query_only where the file
 * and directory allow it (a WAL DB's -wal and -shm go away on close, as
 * after a writer), else read-only; a WAL DB without WAL frames in a
 * directory the reader cannot write (no -shm can be made there) is opened
 * immutable.
 * Returns SQLite's code; *out is set either way (close it).
 */
int bf_store_sqlite_open_readonly(const char *path, struct sqlite3 **out);

#endif /* BF_STORE_H */
