/*
 * bf_rng: the harness's deterministic random numbers (xoshiro256**, seeded
 * through splitmix64). A scenario's `seed` drives every random choice; each
 * consumer derives its own stream with bf_rng_init(seed, stream) so that
 * adding a consumer does not shift the others.
 */
#ifndef BF_RNG_H
#define BF_RNG_H

#include <stdint.h>

struct bf_rng {
    uint64_t s[4];
};

/* Seed a generator from (seed, stream); equal arguments give equal streams. */
void bf_rng_init(struct bf_rng *rng, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
uint64_t bf_rng_next(struct bf_rng *rng);

/* A uniform double in [0, 1). */
double bf_rng_uniform(struct bf_rng *rng);

/* A uniform integer in [0, bound), bound > 0, without modulo bias. */
uint64_t bf_rng_below(struct bf_rng *rng, uint64_t bound);

#endif /* BF_RNG_H */
