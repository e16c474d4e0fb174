/*
 * bf_store_claims: the store's queries behind `bfbench report --paper`
 * (bf_claims). Part of the store: the claims module reads the DB through
 * these walkers only.
 *
 * Every walker takes a run selection: > 0 that run, 0 every run, -1
 * (BF_STORE_NEWEST_RUNS) the newest run of each scenario name, so that the
 * members of a suite count once however often it ran. Rows are views whose
 * strings are borrowed for the duration of the callback; a nonzero return
 * from the callback stops the walk and is returned. SQL NULL reads as NaN
 * for doubles, 0 for counts and "" for strings.
 */
#ifndef BF_STORE_CLAIMS_H
#define BF_STORE_CLAIMS_H

#include "bf_store.h"

#include <stdint.h>

/* The run selection "the newest run of each scenario name". */
#define BF_STORE_NEWEST_RUNS (-1)

/* One run of the selection. */
struct bf_run_view {
    int64_t id;
    const char *scenario_name;
    const char *status; /* running, finished, failed, interrupted */
};

int bf_store_each_run(struct bf_store *store, int64_t run_sel,
                      int (*fn)(const struct bf_run_view *view, void *ctx),
                      void *ctx);

/*
 * A student's finished test accuracy row next to its teacher's fp32 row of
 * the same run, model and split: the teacher trained with the student's
 * seed when the run has one (teacher_per_seed), else the run's teacher of
 * that model.
 */
struct bf_teacher_pair_view {
    int64_t run_id;
    const char *model;
    const char *dataset;
    int bottleneck_channels; /* 0: none */
    int seeded;
    uint64_t seed;
    const char *variant; /* "int8", "exit-t0.5", ... */
    int64_t case_id, teacher_case_id;
    double top1, teacher_top1; /* % */
    double payload_bytes;
    double jpeg_reference_bytes;
    int jpeg_reference_quality; /* 0: none */
    double compression_vs_jpeg; /* NaN: not recorded */
    double offload_fraction;    /* NaN: not recorded */
};

/*
 * Call fn for every pair whose student has `strategy` and an accuracy
 * variant matching the GLOB pattern `variants`, in run, case and variant
 * order.
 */
int bf_store_each_teacher_pair(struct bf_store *store, int64_t run_sel,
                               const char *strategy, const char *variants,
                               int (*fn)(const struct bf_teacher_pair_view *v,
                                         void *ctx),
                               void *ctx);

/* A finished BottleFit inference case's split tensor, for sizes. */
struct bf_split_view {
    int64_t run_id;
    const char *model;
    int bottleneck_channels;
    int input_h;
    const char *split_shape; /* "CxHxW" */
};

/*
 * The BottleFit inference case at input_h with the largest C (then the
 * newest run, then the model name) into fn, once; BF_ENOENT without a
 * detail when there is none.
 */
int bf_store_largest_split(struct bf_store *store, int64_t run_sel, int input_h,
                           int (*fn)(const struct bf_split_view *v, void *ctx),
                           void *ctx);

/*
 * A device row of a finished BottleFit inference case next to the row of
 * the same device for the `base` configuration of the same run, model and
 * batch (and, unless base is "local", the same rate and background
 * clients; for "ae-split" also the same C).
 */
struct bf_device_pair_view {
    int64_t run_id;
    const char *model;
    int bottleneck_channels;
    const char *device;
    double link_rate_mbps; /* NaN: none */
    double power_mw, base_power_mw;
    double e2e_ms, base_e2e_ms;
    /* Both sides again with the devices' modeled compute times at the low
     * and the high end of their 90 % prediction interval (NaN: none). */
    double power_lo_mw, base_power_lo_mw, power_hi_mw, base_power_hi_mw;
    double e2e_lo_ms, base_e2e_lo_ms, e2e_hi_ms, base_e2e_hi_ms;
    const char *runtime; /* the device profile's, NULL: not recorded */
    int latency_modeled, power_modeled; /* either side */
};

int bf_store_each_device_pair(struct bf_store *store, int64_t run_sel,
                              const char *base, const char *device_glob,
                              int (*fn)(const struct bf_device_pair_view *v,
                                        void *ctx),
                              void *ctx);

/*
 * The device part of BottleFit and of the autoencoder split with the same
 * run, model and C (training and inference cases alike), one row per run,
 * model and C.
 */
struct bf_head_pair_view {
    int64_t run_id;
    const char *model;
    int bottleneck_channels;
    int64_t bottlefit_params, ae_params;
};

int bf_store_each_head_pair(struct bf_store *store, int64_t run_sel,
                            int (*fn)(const struct bf_head_pair_view *v,
                                      void *ctx),
                            void *ctx);

#endif /* BF_STORE_CLAIMS_H */
