/*
 * bf_shard: a deterministic, cost-balanced split of a scenario's cases
 * into N shards (`bfbench run --shard K/N`). Each case gets a cost
 * estimate: its model's multiply-accumulates per image times the images it
 * processes (training: items x epochs; inference: samples x batch x
 * rounds). Cases are taken by cost, largest first (ties by case hash), and
 * each goes to the shard with the least cost so far (ties: the lowest
 * shard), so every process that splits the same scenario the same way
 * gets the same shards, and shards take similar time.
 */
#ifndef BF_SHARD_H
#define BF_SHARD_H

#include "bf_scenario.h"

#include <stddef.h>
#include <stdint.h>

/*
 * shard_of[i] (0..n-1) for every case of sc, from cost[i] (> 0, one per
 * case; NULL: the work factor alone, as bf_shard_work). BF_EINVAL for n < 1.
 */
int bf_shard_assign(const struct bf_scenario *sc, const double *cost, int n,
                    int *shard_of);

/* A case's images processed (the cost without the model's MACs). */
double bf_shard_work(const struct bf_scenario *sc, const struct bf_case *c);

/* Parse "K/N" (1 <= K <= N <= 1024) into k and n: 0, or -1. */
int bf_shard_parse(const char *text, int *k, int *n);

#endif /* BF_SHARD_H */
