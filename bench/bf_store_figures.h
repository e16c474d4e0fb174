/*
 * bf_store_figures: the store's queries of the figures (bf_plot), part of
 * the store (bench/bf_store_figures.c reaches the connection through
 * bf_store_int.h): every number a figure draws is read, averaged and given
 * its interval here, so that the plot module holds no SQL.
 *
 * The rows a figure reads: finished cases of a set of runs and one model.
 * A run set is an array of run ids and its length; a length of 0 means
 * every run of the DB. The runs themselves (scenario names) are read with
 * bf_store_each_run() (bf_store_claims.h). Accuracy rows are those of the test
 * split of cases that recorded a training strategy; device rows those of role
 * "device"; epoch rows (the training curves) those of cases that recorded a
 * training strategy.
 *
 * Uncertainty. Every averaged number says what it stands for (cases,
 * seeds) and, where the data holds one, its 95 % interval:
 *   - an accuracy point that is one training configuration evaluated with
 *     several seeds in one run (a seed group, bf_store_each_seed_group) gets
 *     the mean over the seeds and its Student t interval; a single
 *     evaluation gets the Wilson score interval of its top-1 over its test
 *     images; an average of evaluations that form no seed group (the same
 *     configuration in two runs, or repeated without a seed) gets none;
 *   - a device point whose device time is measured gets the bootstrap
 *     percentile interval of the median of its cases' per-request
 *     end-to-end samples (bf_store_p50_interval, the interval report shows
 *     as "p50 95 % CI"); a modeled one gets its device model's 90 %
 *     prediction interval (its end-to-end time and energy with the device
 *     compute time at either end, bf_device.h), where the model has one.
 *
 * Conventions, as bf_store.h: fallible functions return 0 or a negative
 * BF_E* code with the detail in bf_last_error() ("<db>: <what>: <sqlite
 * message>" for BF_EDB); a walker calls fn once per row, a nonzero return
 * from fn stops the walk and is returned; a view's strings are borrowed for
 * the callback. Missing numbers (SQL NULL, an interval that does not apply)
 * read as NaN.
 */
#ifndef BF_STORE_FIGURES_H
#define BF_STORE_FIGURES_H

#include "bf_store.h"

#include <stddef.h>
#include <stdint.h>

/* Which rows a model's figures come from. */
enum bf_store_figure_rows {
    BF_STORE_FIGURE_ACCURACY, /* accuracy rows (the accuracy figure) */
    BF_STORE_FIGURE_DEVICES,  /* device rows (latency, energy, ...) */
    BF_STORE_FIGURE_EPOCHS,   /* epoch rows (the training curves) */
};

/* Runs and models */

/* Call fn for every model with rows of that kind in the runs, by name. */
int bf_store_each_figure_model(struct bf_store *store,
                               enum bf_store_figure_rows rows,
                               const int64_t *run_ids, size_t n_runs,
                               int (*fn)(const char *model, void *ctx),
                               void *ctx);

/*
 * Call fn, in id order, for the runs a model's figures read when no runs
 * are given: for accuracy rows, per scenario name the newest run with
 * accuracy rows of the model other than those over the network (the
 * members of a suite together, as report --paper reads them); for device
 * rows, the newest run with device rows of the model; for epoch rows, per
 * scenario name the newest run with epoch rows of the model.
 */
int bf_store_each_figure_run(struct bf_store *store,
                             enum bf_store_figure_rows rows, const char *model,
                             int (*fn)(int64_t run_id, void *ctx), void *ctx);

/* Accuracy */

/* Which interval a point carries. */
enum bf_store_interval {
    BF_STORE_INTERVAL_NONE,   /* none: NaN bounds */
    BF_STORE_INTERVAL_T,      /* mean of seeds, 95 % Student t interval */
    BF_STORE_INTERVAL_WILSON, /* one evaluation, 95 % Wilson over images */
};

/*
 * The accuracy rows of one configuration (strategy, encoder frozen or not,
 * bottleneck channels, variant) in the runs, averaged over its cases.
 */
struct bf_accuracy_point_view {
    const char *strategy;
    int freeze_encoder;      /* 0 when not recorded */
    int bottleneck_channels; /* 0 when not recorded */
    const char *variant;     /* "int8", "exit-t0.5", "jpeg-q90", "fp32" */
    size_t cases;            /* evaluations averaged */
    size_t seeds;            /* distinct seeds among them, 0: none recorded */
    int64_t n_min, n_max;    /* test images per evaluation */
    double payload_bytes;    /* mean payload per image; NaN: not recorded */
    double top1_pct;         /* mean top-1 over the cases */
    enum bf_store_interval interval;
    /* BF_STORE_INTERVAL_T: the seed group's half width of the 95 % t
     * interval and sample standard deviation across seeds; else NaN. */
    double top1_half_pct;
    double top1_sd_pct;
    /* The 95 % interval of top1_pct: mean -/+ half width (T), the Wilson
     * bounds (WILSON), NaN (NONE). */
    double top1_lo_pct;
    double top1_hi_pct;
};

/*
 * Call fn for every configuration with accuracy rows of model in the runs,
 * ordered by strategy, freeze_encoder, bottleneck channels and variant.
 * Seed groups come from bf_store_each_seed_group(): the statistics across
 * seeds are computed there, once for every reader.
 */
int bf_store_each_accuracy_point(
    struct bf_store *store, const int64_t *run_ids, size_t n_runs,
    const char *model,
    int (*fn)(const struct bf_accuracy_point_view *view, void *ctx), void *ctx);

/* Training curves */

/*
 * One epoch row of the case drawn for a training configuration (strategy,
 * encoder frozen or not, bottleneck channels): among the configuration's
 * finished cases with epoch rows in the runs, the one with the lowest
 * seed (cases without a seed after those with one; then the lowest case
 * id). The configuration's fields repeat on each of its rows.
 */
struct bf_epoch_point_view {
    const char *strategy;
    int freeze_encoder;      /* 0 when not recorded */
    int bottleneck_channels; /* 0 when not recorded */
    size_t cases;            /* the configuration's cases with epoch rows */
    int64_t case_id;         /* the case drawn */
    int has_seed;            /* the case recorded a seed */
    uint64_t seed;           /* its seed; 0 when not recorded */
    int64_t seq;             /* 0, 1, ... across the phases of the case */
    const char *phase;       /* "teacher", "stage1", "stage2", ... */
    int epoch;               /* 1-based within the phase */
    double lr;
    /* The mean over the epoch's batches as the loss reduces it (summed
     * over the batch for HND, GHND and autoencoder losses), and the loss
     * per training image (NaN: recorded before schema 12). */
    double train_loss;
    double train_loss_per_image;
    double val_top1_pct; /* validation split; NaN when not recorded */
    int best;            /* the best validation top-1 so far */
};

/*
 * Call fn for every epoch row of the case drawn for each configuration of
 * model in the runs, ordered by strategy, freeze_encoder, bottleneck
 * channels, then seq.
 */
int bf_store_each_epoch_point(struct bf_store *store, const int64_t *run_ids,
                              size_t n_runs, const char *model,
                              int (*fn)(const struct bf_epoch_point_view *view,
                                        void *ctx),
                              void *ctx);

/* Device rows */

/*
 * The device rows of one device and configuration (bottleneck channels,
 * background clients, link or none, uplink rate) in the runs, averaged over
 * its cases.
 */
struct bf_device_point_view {
    const char *device;
    const char *config;
    int bottleneck_channels; /* 0 when not recorded */
    int background_clients;  /* 0 when not recorded */
    int sent;                /* 0: the cases sent nothing (no link) */
    double link_rate_mbps;   /* NaN: not emulated */
    size_t cases;
    int measured; /* every row's device time is measured, not modeled */
    /* Device rows: means over the cases of their medians (times), of
     * their energy per inference and of their average power. */
    double e2e_ms, head_ms, encode_ms, transfer_ms;
    double energy_mj, power_mw;
    /* The edge server's stages: mean over the cases of their p50. */
    double queue_ms, decode_ms, tail_ms;
    /* measured: bf_store_p50_interval() of the cases' "e2e" samples (NaN
     * with fewer than BF_STORE_P50_MIN_SAMPLES samples); modeled: the mean
     * over the cases of the device model's 90 % prediction interval (NaN
     * when the model has none). */
    double e2e_lo_ms, e2e_hi_ms;
    size_t e2e_samples; /* samples behind the interval, 0 when modeled */
    /* modeled: energy per inference at the interval's ends; else NaN */
    double energy_lo_mj, energy_hi_mj;
};

/*
 * Call fn for every device point of model in the runs, ordered by device,
 * configuration, bottleneck channels, background clients, sent, rate (an
 * unemulated rate first).
 */
int bf_store_each_device_point(
    struct bf_store *store, const int64_t *run_ids, size_t n_runs,
    const char *model,
    int (*fn)(const struct bf_device_point_view *view, void *ctx), void *ctx);

/* What runs on the device, per configuration, over the cases with device
 * rows. */
struct bf_head_size_view {
    const char *config;
    int bottleneck_channels; /* 0 when not recorded */
    int sent;                /* some case sent something */
    /* Means over the cases: the whole model for a case that sent nothing,
     * else its head; NaN when not recorded. */
    double params;
    double macs;
};

/* Call fn for every configuration and bottleneck, in that order. */
int bf_store_each_head_size(struct bf_store *store, const int64_t *run_ids,
                            size_t n_runs, const char *model,
                            int (*fn)(const struct bf_head_size_view *view,
                                      void *ctx),
                            void *ctx);

/* How the numbers were obtained, for captions */

enum bf_store_figure_text {
    BF_STORE_TEXT_DATASETS,         /* data sets of the accuracy rows */
    BF_STORE_TEXT_ACCURACY_METHODS, /* methods of the accuracy rows */
    BF_STORE_TEXT_LATENCY_METHODS,  /* per device: device time's method */
    BF_STORE_TEXT_POWER_METHODS,    /* per device: power's method */
    BF_STORE_TEXT_HOST_METHODS,     /* encode, transfer and server stages */
    BF_STORE_TEXT_LINKS,            /* the links of the cases that sent */
};

/*
 * Call fn for every distinct non-empty text of that kind among the rows of
 * model in the runs (device rows for all but the first two), ordered by
 * device, then text. device is the device row's device for the per-device
 * kinds, else "".
 */
int bf_store_each_figure_text(
    struct bf_store *store, enum bf_store_figure_text what,
    const int64_t *run_ids, size_t n_runs, const char *model,
    int (*fn)(const char *device, const char *text, void *ctx), void *ctx);

/* Intervals of timed stages */

/* The bootstrap of bf_store_p50_interval: 1,000 resamples, fewer for
 * many samples (at most BF_STORE_P50_BOOTSTRAP_DRAWS values drawn, at least
 * BF_STORE_P50_BOOTSTRAP_MIN_ITERS resamples), so that long runs stay
 * quick; no interval below BF_STORE_P50_MIN_SAMPLES samples. */
#define BF_STORE_P50_BOOTSTRAP_ITERS 1000
#define BF_STORE_P50_BOOTSTRAP_MIN_ITERS 200
#define BF_STORE_P50_BOOTSTRAP_DRAWS 4000000.0
#define BF_STORE_P50_MIN_SAMPLES 5

/*
 * The 95 % bootstrap percentile interval of the median of the per-request
 * samples of a timed stage (metric, as bf_store_case_samples) of the cases
 * case_ids, pooled in the order given; the bootstrap's seed is the first
 * case id, so that the same DB gives the same interval (for one case, the
 * interval report shows as "p50 95 % CI"). *n_samples (may be NULL) gets
 * the samples pooled; *lo and *hi are NaN with fewer than
 * BF_STORE_P50_MIN_SAMPLES. Returns 0, BF_EINVAL (NULL arguments, no case)
 * or a store error.
 */
int bf_store_p50_interval(struct bf_store *store, const int64_t *case_ids,
                          size_t n_cases, const char *metric, double *lo,
                          double *hi, size_t *n_samples);

#endif /* BF_STORE_FIGURES_H */
