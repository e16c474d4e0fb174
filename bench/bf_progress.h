/*
 * bf_progress: how much of a long run is left, and about how long it will
 * take (`bfbench run` logs it after every training case). Work is in any
 * unit proportional to a case's time (bf_shard_work: images x epochs);
 * the rate is that of the cases run by this process so far, so cases
 * skipped (resumed, another process's) count as passed but not as timed.
 *
 * Ownership: the struct is the caller's, plain data; no function fails.
 */
#ifndef BF_PROGRESS_H
#define BF_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct bf_progress {
    double work_total;  /* every case's */
    double work_passed; /* of the cases behind: run here or skipped */
    double work_timed;  /* of the cases run here */
    int64_t ns_timed;   /* their time */
};

/* Start with work_total (>= 0) ahead. */
void bf_progress_init(struct bf_progress *p, double work_total);

/* A case of this work passed without running here. */
void bf_progress_skip(struct bf_progress *p, double work);

/* A case of this work ran here in ns nanoseconds. */
void bf_progress_done(struct bf_progress *p, double work, int64_t ns);

/* Seconds the work not yet passed takes at the rate so far; -1 before
 * any timed case (or with no time or work measured). */
double bf_progress_left_s(const struct bf_progress *p);

/* A duration for a log line: "45 s", "3 min 05 s", "2 h 07 min"; "?" for
 * a negative one. */
void bf_progress_format(double seconds, char *out, size_t out_size);

#endif /* BF_PROGRESS_H */
