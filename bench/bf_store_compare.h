/*
 * bf_store_compare: the store's readers behind `bfbench compare`
 * (bf_compare). Part of the store: the compare module reads its two DBs
 * through these functions, bf_store_last_run() and bf_store_case_samples()
 * only, and holds no SQL.
 *
 * A baseline is read as it was recorded. bf_store_open_as_recorded() opens
 * a DB of any schema version bfbench knows for reading only and never
 * migrates it (bf_store_open_readonly() migrates an older DB, which writes
 * to the baseline, and fails where its directory is not writable). Every
 * reader below reads each version it supports as recorded: what an older
 * version lacks (platform fingerprints, per-image results and checks before
 * version 7, case hashes before version 6) reads as absent.
 *
 * Conventions, as bf_store.h: fallible functions return 0 or a negative
 * BF_E* code with the detail in bf_last_error() ("<db>: <what>: <sqlite
 * message>" for BF_EDB); a walker calls fn once per row, a nonzero return
 * from fn stops the walk and is returned; a view's strings and bytes are
 * borrowed for the callback. SQL NULL reads as NaN for doubles, "" for
 * strings and as the record's "none" where a view is a record of
 * bf_record.h (-1 for a sample's stage or bytes). Each statement is
 * prepared when its function is called.
 */
#ifndef BF_STORE_COMPARE_H
#define BF_STORE_COMPARE_H

#include "bf_record.h"
#include "bf_store.h"

#include <stddef.h>
#include <stdint.h>

/* Opening */

/*
 * Open the results DB at path for reading only, as recorded: never created,
 * migrated or written, whatever its schema version. At the current version
 * the handle is bf_store_open_readonly()'s and serves every reader. At an
 * older version (1 to BF_STORE_SCHEMA_VERSION - 1) it serves the readers of
 * this header, bf_store_last_run() and bf_store_case_samples() only (the
 * other statements of bf_store.h need tables and columns of the current
 * version). Close it with bf_store_close().
 *
 * Errors, worded for a caller that prefixes which DB it is: BF_EINVAL (no
 * path), BF_ENOENT (no file at path), BF_EPARSE (not a regular file, not an
 * SQLite DB, or schema version 0 or less: not a bfbench results DB),
 * BF_EVERSION (a newer schema), BF_EDB, BF_ENOMEM.
 */
int bf_store_open_as_recorded(const char *path, struct bf_store **out);

/* Runs */

/* A run's machine: what decides whether two runs' numbers can be equal. */
struct bf_run_platform_view {
    int64_t run_id;
    const char *cpu_model;
    /* The platform fingerprint (bf_sysinfo_platform) and its SHA-256; ""
     * when the run recorded none (every run before schema version 7). */
    const char *platform;
    const char *platform_sha256;
};

/*
 * Call fn for run_id (every run when run_id is 0), in id order: unlike
 * bf_store_each_platform(), runs without a fingerprint too, and DBs of
 * every version. fn is not called for a run_id the DB does not have.
 */
int bf_store_each_run_platform(struct bf_store *store, int64_t run_id,
                               int (*fn)(const struct bf_run_platform_view *v,
                                         void *ctx),
                               void *ctx);

/* Cases by hash */

/*
 * *count gets the cases of run_id (every run when 0) recorded without a
 * case hash: every case of a DB before schema version 6.
 */
int bf_store_count_unhashed_cases(struct bf_store *store, int64_t run_id,
                                  size_t *count);

/* A case with a case hash: what identifies it, labels it and its shape. */
struct bf_hashed_case_view {
    int64_t case_id;
    int64_t run_id;
    int case_index;
    const char *case_hash;
    const char *status; /* running, finished, failed, skipped */
    const char *error;  /* why it failed or was skipped, else "" */
    const char *config;
    const char *model;
    const char *strategy;    /* "" without training */
    int bottleneck_channels; /* 0: none */
    int freeze_encoder;      /* 1 frozen, 0 not, -1 not recorded */
    double link_rate_mbps;   /* NaN: not emulated */
    int background_clients;  /* 0: none */
    int64_t params;
    int64_t macs;
    int64_t head_params; /* the device-side head; -1: not recorded */
    int64_t head_macs;
    int64_t head_bytes;
    const char *split_shape; /* "" not recorded */
    int input_channels;
    int input_h;
    int input_w;
    int threads;
};

/*
 * Call fn for every case of run_id (every run when 0) that has a case hash,
 * ordered by hash; within a hash complete cases (finished or skipped)
 * first, then the newest first, so that a reader takes the first case of
 * each hash. Nothing before schema version 6.
 */
int bf_store_each_hashed_case(struct bf_store *store, int64_t run_id,
                              int (*fn)(const struct bf_hashed_case_view *v,
                                        void *ctx),
                              void *ctx);

/* The rows of one case (DBs of schema version 6 and later) */

/*
 * An accuracy row of a case with its per-image results. The sizes, element
 * counts and exit numbers are NaN where they do not apply.
 */
struct bf_case_accuracy_view {
    const char *variant;
    const char *split;
    int64_t n;
    double top1, top5; /* % */
    double payload_bytes;
    double payload_zstd_bytes;
    double transmitted_elements;
    double input_elements;
    double jpeg_reference_bytes;
    double offload_fraction;
    double device_macs;
    /* The per-image results (schema version 7), when predictions is 1:
     * the items' digest, the predicted classes (uint16 LE per image) and
     * the top-1 and top-k correctness (bit i, LSB first: image i), as
     * stored; "", NULL and 0 otherwise. */
    int predictions;
    const char *items_sha256;
    const unsigned char *classes;
    size_t classes_bytes;
    const unsigned char *top1_bits;
    size_t top1_bytes;
    const unsigned char *topk_bits;
    size_t topk_bytes;
};

/* Call fn for every accuracy row of case_id, by variant, then split (byte
 * order). */
int bf_store_each_case_accuracy(struct bf_store *store, int64_t case_id,
                                int (*fn)(const struct bf_case_accuracy_view *v,
                                          void *ctx),
                                void *ctx);

/* Call fn for every aggregate of case_id, by metric (byte order). */
int bf_store_each_case_aggregate(struct bf_store *store, int64_t case_id,
                                 int (*fn)(const struct bf_aggregate_row *row,
                                           void *ctx),
                                 void *ctx);

/* Call fn for every timed request of case_id, in request order; a stage
 * or byte count that was not recorded reads -1. */
int bf_store_each_case_sample(struct bf_store *store, int64_t case_id,
                              int (*fn)(const struct bf_sample_row *row,
                                        void *ctx),
                              void *ctx);

/* Call fn for every device row of case_id, by device (byte order). */
int bf_store_each_case_device(struct bf_store *store, int64_t case_id,
                              int (*fn)(const struct bf_device_row *row,
                                        void *ctx),
                              void *ctx);

/* Call fn for every training epoch of case_id, in the order stored. */
int bf_store_each_case_epoch(struct bf_store *store, int64_t case_id,
                             int (*fn)(const struct bf_epoch_row *row,
                                       void *ctx),
                             void *ctx);

/* Checks */

/*
 * Call fn for every known-answer check of run_id, by name; with run_id 0,
 * for every name the value of the newest run that checked it. BF_ENOENT
 * without a detail, and fn never called, for a DB before schema version 7
 * (no checks table: nothing to hold another DB's checks to).
 */
int bf_store_each_check(struct bf_store *store, int64_t run_id,
                        int (*fn)(const struct bf_check_row *row, void *ctx),
                        void *ctx);

#endif /* BF_STORE_COMPARE_H */
