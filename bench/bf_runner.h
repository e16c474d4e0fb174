/*
 * bf_runner: runs the cases of a scenario and hands every record to a sink.
 *
 * This version runs `local` cases on the host: build the model (seeded
 * random weights, or the scenario's weights file), describe it (params,
 * MACs), apply the inference path (folded BatchNorm, channels-last), run
 * `warmup` untimed forwards, then timed forwards of one batch until both
 * min_samples and min_duration_ms are met (or max_samples is reached).
 * Timing uses bf_clock (CLOCK_MONOTONIC); nothing is handed to the sink
 * inside a timed window. Per case the sink receives: case_begin, then the
 * samples in one batch, the aggregates (mean, p50, p90, p99 in ms, computed
 * in C) and case_end.
 *
 * A failing case (bad weights, an input too small for the model) is
 * recorded as failed with its message and the run goes on; a sink failure
 * (the DB) stops the run. A nonzero *stop (set from a signal handler) ends
 * the current case after its current sample, keeps what was measured, and
 * returns BF_EINTR.
 *
 * Train scenarios (task: train) run training cases instead: per model a
 * teacher (the scenario's weights, else a cached checkpoint keyed by a hash
 * of everything that determines it, else trained here; recorded as an
 * auxiliary case with index -1 and strategy "teacher"), the JPEG
 * input-compression baseline with that teacher (auxiliary case, strategy
 * "jpeg", config "edge": top-1 on decoded JPEGs at every quality and the
 * mean bytes), then one case per (strategy, bottleneck version, channels,
 * freeze_encoder): the student is the teacher with the bottleneck
 * injected (for "ae-split": the unmodified teacher with the autoencoder
 * inserted after stage2), trained by the strategy's phases (bf_train),
 * evaluated on the test items in fp32 and with the 8-bit split tensor
 * (payload C*H*W + 5 bytes: a float32 scale and a uint8 zero point; with
 * zstd as an extension). The head recorded is every stage the device runs.
 * "spinn-split" is recorded as skipped (not implemented yet), as is a case
 * that differs from an earlier one only in a freeze_encoder value its
 * strategy ignores. Every epoch is handed to the sink as it ends.
 */
#ifndef BF_RUNNER_H
#define BF_RUNNER_H

#include "bf_runcase.h"

/*
 * Run every case. Returns 0 when every case ran (some may have failed: see
 * *result), BF_EINTR when stopped, or the sink's error.
 */
int bf_runner_run(const struct bf_runner_params *params,
                  struct bf_runner_result *result);

#endif /* BF_RUNNER_H */
