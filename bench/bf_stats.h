/*
 * bf_stats: summary statistics of a sample of measurements, computed in C
 * (the DB stores both the samples and these aggregates).
 *
 * Percentiles use linear interpolation between closest ranks (the
 * definition of numpy.percentile's default), so p50 of {1, 2, 3, 4} is 2.5.
 */
#ifndef BF_STATS_H
#define BF_STATS_H

#include <stddef.h>

struct bf_stats {
    size_t n;
    double mean;
    double stddev; /* sample standard deviation, 0 when n < 2 */
    double min;
    double p50;
    double p90;
    double p99;
    double max;
};

/*
 * Summarise n values. The values are not modified. Returns 0, BF_EINVAL for
 * n == 0, or BF_ENOMEM.
 */
int bf_stats_compute(const double *values, size_t n, struct bf_stats *out);

/* The q-th percentile (0 <= q <= 100) of n values already sorted ascending. */
double bf_stats_percentile_sorted(const double *sorted, size_t n, double q);

#endif /* BF_STATS_H */
