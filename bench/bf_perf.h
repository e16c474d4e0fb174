/*
 * bf_perf: the shim's benchmarks (`bfbench bench`): forward latency of the
 * inference paths, and throughput of BottleFit's two training steps.
 *
 * Both time a set of subjects (models) times variants (inference paths or
 * training step kinds). For each model the architecture is built once
 * (seeded random weights: timing does not depend on them) and every
 * variant warmed up; then blocks of iters runs are timed in rounds that
 * alternate models and variants, the variant order rotating every round,
 * so that machine noise spreads evenly over them.
 *
 * Inference (the default) times batch-1 forwards on the selected paths
 * (default plain, fold, fold-cl):
 *   plain         torchvision's computation, eval mode, inference mode
 *   fold          BatchNorm folded into convolutions, in-place activations
 *   fold-cl       fold with channels-last (NHWC) memory format
 *   fold-bf16     fold computed in bf16 (fp32 in and out), and
 *   fold-cl-bf16  with channels-last
 *   fold-fp16,    the same in fp16 (CUDA only)
 *   fold-cl-fp16
 * The report gives the median, mean and p90 per model and path, the
 * speed-up of each path over plain, and the largest difference of its
 * output from plain relative to the largest plain output.
 *
 * Training (train = 1) builds a teacher and, per step kind, a student: the
 * teacher with a BottleFit bottleneck of the given channels injected (so
 * only families with a bottleneck qualify, at their native input size).
 * One step on a fixed batch of standard-normal images and uniform labels
 * is forward, loss, zero_grad, backward and the optimizer's step:
 *   stage1   GHND: encoder and decoder trained (the rest frozen), Adam lr
 *            1e-3; loss = sum of MSE-sum of the decoder, stage3 and stage4
 *            outputs against the teacher's stage2, stage3 and stage4
 *   stage2   KD: everything but the encoder trained, SGD lr 1e-3,
 *            momentum 0.9, weight decay 5e-4; loss = bf_loss_kd with T = 1,
 *            alpha = 0.5 against the teacher's logits
 * The student is in train mode throughout (frozen BatchNorms keep moving,
 * as in the published code), the teacher in eval mode without autograd.
 * Every step frees all it creates: bf_torch_live_handles() is the same
 * before and after (asserted in debug builds). The report gives the step
 * time and images/s (batch / median step time) per model and step kind.
 *
 * Lockstep mode serves the same timings to a driver over in/out so that
 * scripts/peer/compare_latency.py (inference) and compare_training.py
 * (training) can alternate this harness with PyTorch eager in one
 * invocation: after "ready", each line "run MODEL VARIANT ITERS" is
 * answered by "times MODEL VARIANT ms ms ..." (one per run) and "quit"
 * ends; a bad line is answered by "error <detail>".
 *
 * Ownership: everything in the parameters is borrowed for the call.
 */
#ifndef BF_PERF_H
#define BF_PERF_H

#include <stddef.h>
#include <stdio.h>

struct bf_perf_params {
    const char *const *models; /* zoo names */
    size_t n_models;
    int size_px;         /* inference input height = width; 0: native size */
    int threads;         /* intra-op threads, 0: online cores */
    int warmup;          /* untimed runs per model and variant */
    int iters;           /* timed runs per model, variant and round */
    int rounds;          /* alternation rounds */
    int lockstep;        /* serve a driver on in/out instead of reporting */
    int train;           /* time training steps instead of forwards */
    int batch;           /* training batch size, 0: 64 */
    int channels;        /* bottleneck channels of the students, 0: 2 */
    const char *paths;   /* inference paths, comma-separated; NULL: default */
    const char *device;  /* "cpu" (NULL), "cuda", "cuda:N" */
    int train_precision; /* training: enum bf_precision of autocast */
    FILE *in;
    FILE *out;
};

/* The inference paths run when none are named. */
extern const char *const bf_perf_default_paths;

/* Every inference path's name, comma-separated, into out (BF_ERANGE when
 * it does not fit in size bytes). */
int bf_perf_path_names(char *out, size_t size);

/* 0 when list names known paths, each once; else BF_EINVAL with the
 * detail (the unknown or repeated name and the choices). */
int bf_perf_check_paths(const char *list);

/* Run the benchmark. Returns 0 or a BF_E* code with the detail set. */
int bf_perf_run(const struct bf_perf_params *params);

#endif /* BF_PERF_H */
