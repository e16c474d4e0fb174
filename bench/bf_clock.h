/*
 * bf_clock: the harness's clocks. Every timing the harness stores comes from
 * bf_clock_now_ns() (CLOCK_MONOTONIC), named BF_CLOCK_NAME in the DB so that a
 * reader knows what measured it; wall-clock time is only for provenance.
 */
#ifndef BF_CLOCK_H
#define BF_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define BF_CLOCK_NAME "CLOCK_MONOTONIC"

/* Monotonic time in nanoseconds from an arbitrary origin. */
int64_t bf_clock_now_ns(void);

/* Sleep until bf_clock_now_ns() reaches t_ns (at once if it has). */
void bf_clock_sleep_until_ns(int64_t t_ns);

/*
 * Format the current UTC wall-clock time as ISO 8601
 * ("2026-11-21T08:00:00Z") into out (at least 21 bytes).
 */
void bf_clock_utc_iso(char *out, size_t out_size);

#endif /* BF_CLOCK_H */
