/*
 * bf_runner_int: what the runner's modules share: bf_runner.c (local
 * timing, the case loop of inference scenarios), bf_runner_train.c (the
 * training pipeline of `task: train` scenarios) and bf_runcase.c (case
 * plumbing, also used by bf_offload). Not for other modules.
 */
#ifndef BF_RUNNER_INT_H
#define BF_RUNNER_INT_H

#include "bf_runcase.h"

/* 1 when the run was asked to stop (SIGINT/SIGTERM). */
int bf_runner_stop_requested(const struct bf_runner_params *p);

/* Every case of a training scenario (bf_runner_run's task: train). */
int bf_runner_train_cases(const struct bf_runner_params *p,
                          struct bf_runner_result *result);

#endif /* BF_RUNNER_INT_H */
