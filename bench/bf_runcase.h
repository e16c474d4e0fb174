/*
 * bf_runcase: what every case runner shares: where records go (the sink),
 * the run's parameters and counts, the power probe's window over a timed
 * loop, the device rows of a case, and how a case ends or is claimed. Used
 * by the local runner and the training pipeline (bf_runner) and by
 * offloaded cases (bf_offload), which bf_runner calls: the one lower module
 * they both build on, so that neither includes the other's header both
 * ways.
 */
#ifndef BF_RUNCASE_H
#define BF_RUNCASE_H

#include "bf_probe.h"
#include "bf_record.h"
#include "bf_scenario.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Where records go (the CLI wires this to bf_store). */
struct bf_runner_sink {
    void *ctx;
    int (*case_begin)(void *ctx, const struct bf_case_row *row,
                      int64_t *case_id);
    int (*samples)(void *ctx, int64_t case_id, const struct bf_sample_row *rows,
                   size_t n);
    int (*aggregates)(void *ctx, int64_t case_id,
                      const struct bf_aggregate_row *rows, size_t n);
    /* status: "finished", "failed" or "skipped"; error may be NULL. */
    int (*case_end)(void *ctx, int64_t case_id, const char *status,
                    const char *error);
    /* Training cases: one call per epoch, then the accuracy rows. */
    int (*epochs)(void *ctx, int64_t case_id, const struct bf_epoch_row *rows,
                  size_t n);
    int (*accuracy)(void *ctx, int64_t case_id,
                    const struct bf_accuracy_row *rows, size_t n);
    /* Inference cases: one row per device model (may be NULL). */
    int (*devices)(void *ctx, int64_t case_id, const struct bf_device_row *rows,
                   size_t n);
    /*
     * Claiming (may be NULL: every case runs), before a case of this hash
     * (bf_case.hash, or bf_scenario_extra_case_hash for a teacher or JPEG
     * case) runs: *done = 0, the case is this process's to run; 1, the run
     * already holds a complete case of this hash; 2, another process runs
     * it now; 3, another shard's case (--shard). None but 0 is run here.
     */
    int (*complete)(void *ctx, const char *case_hash, int *done);
    /* A file a case produced (student checkpoints; may be NULL). */
    int (*artifact)(void *ctx, int64_t case_id,
                    const struct bf_artifact_row *row);
};

struct bf_devmodel;
struct bf_devmodel_case;

struct bf_runner_params {
    const struct bf_scenario *scenario;
    const struct bf_runner_sink *sink;
    int threads_override;         /* >= 0 replaces every case's threads */
    const char *cache_dir;        /* trained teachers; must exist (train) */
    volatile sig_atomic_t *stop;  /* may be NULL */
    struct bf_devmodel *devmodel; /* device rows per case; may be NULL */
    struct bf_probe *probe;       /* this host's power sensor; may be NULL */
    /* > 0: intra-op threads while training a teacher (a worker of --jobs
     * trains a teacher with every core while the others wait for it). */
    int teacher_threads;
};

struct bf_runner_result {
    int finished;
    int failed;
    int skipped;
    int resumed;      /* complete already in the resumed run: not run again */
    int elsewhere;    /* claimed by another process on the same DB */
    int other_shards; /* --shard: another shard's cases, not run here */
};

/* The method string stored with every host-measured number. */
#define BF_RUNNER_METHOD_HOST "measured:host:CLOCK_MONOTONIC"

/*
 * Open a case with the sink (sink->case_begin). On a GPU it also starts the
 * case's peak-memory interval (bf_torch_peak_memory), so that every case
 * kind, inference, offloaded or training, records its own peak.
 */
int bf_runner_case_begin(const struct bf_runner_params *params,
                         const struct bf_case_row *row, int64_t *case_id);

/*
 * Close a case with the sink (sink->case_end) with status and error. A
 * finished or failed case on a GPU first gets the aggregate
 * "peak_device_memory" (MiB, n = 1): the most bytes libtorch's caching
 * allocator held on the scenario's device over the case, this process's
 * tensors only (weights included; the allocator's cache and the CUDA
 * context not). Nothing is added on the CPU.
 */
int bf_runner_case_finish(const struct bf_runner_params *params,
                          int64_t case_id, const char *status,
                          const char *error);

/*
 * Close a timed case whose samples were already handed to the sink: failed
 * with error when error is not NULL, failed as "interrupted" when a stop
 * was requested, else finished; result counts it. Returns the sink's
 * status.
 */
int bf_runner_case_end(const struct bf_runner_params *params, int64_t case_id,
                       const char *error, struct bf_runner_result *result);

/*
 * The power probe's window over a case's timed loop: begin just before
 * the first timed request, end just after the last. Without a probe both
 * do nothing and have is 0.
 */
struct bf_runner_power {
    int have;
    int64_t t0_ns;
    double energy_mj; /* over the window (extrapolated when partial) */
    double window_ms;
    char method[512]; /* "measured:<probe> ..." */
    struct bf_probe_window window;
};
void bf_runner_power_begin(const struct bf_runner_params *params,
                           struct bf_runner_power *pw);
void bf_runner_power_end(const struct bf_runner_params *params,
                         struct bf_runner_power *pw);

/*
 * Hand the device rows of a case to the sink: dc describes the case's
 * device and edge parts (its probe fields are filled from pw), rows its
 * timed requests. Nothing when there is no device model, no devices sink
 * or no request.
 */
int bf_runner_devices(const struct bf_runner_params *params, int64_t case_id,
                      struct bf_devmodel_case *dc,
                      const struct bf_runner_power *pw,
                      const struct bf_sample_row *rows, size_t n);

/* The sink's complete() for case_hash; *done = 0 without one. */
int bf_runner_case_done(const struct bf_runner_params *params,
                        const char *case_hash, int *done);

#endif /* BF_RUNCASE_H */
