/*
 * bf_perf: the shim's forward-latency benchmark (`bfbench bench`).
 *
 * For each model it builds the architecture once (seeded random weights),
 * checks that the folded inference paths match the plain path, warms every
 * path up, then times batch-1 forwards in rounds that alternate models and
 * paths so that machine noise spreads evenly over them. Paths:
 *   plain    torchvision's computation, eval mode, inference mode
 *   fold     BatchNorm folded into convolutions, in-place activations
 *   fold-cl  fold with channels-last (NHWC) memory format
 * The report gives the median, p10 and p90 per model and path and the
 * speed-up of each path over plain, and the largest difference of its
 * output from plain relative to the largest plain output.
 *
 * Lockstep mode serves the same timings to a driver over stdin/stdout so
 * that scripts/peer/compare_latency.py can alternate this harness with
 * PyTorch eager in one invocation: after "ready", each line
 * "run MODEL PATH ITERS" is answered by "times MODEL PATH ms ms ..." and
 * "quit" ends; a bad line is answered by "error <detail>".
 */
#ifndef BF_PERF_H
#define BF_PERF_H

#include <stddef.h>
#include <stdio.h>

struct bf_perf_params {
    const char *const *models; /* zoo names */
    size_t n_models;
    int size_px;  /* input height = width; 0: each model's native size */
    int threads;  /* intra-op threads, 0: online cores */
    int warmup;   /* untimed forwards per model and path */
    int iters;    /* timed forwards per model, path and round */
    int rounds;   /* alternation rounds */
    int lockstep; /* serve a driver on in/out instead of reporting */
    FILE *in;
    FILE *out;
};

/* Run the benchmark. Returns 0 or a BF_E* code with the detail set. */
int bf_perf_run(const struct bf_perf_params *params);

#endif /* BF_PERF_H */
