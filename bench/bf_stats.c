/* bf_stats: mean, deviation and percentiles. */
#include "bf_stats.h"

#include "bf_err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

double bf_stats_percentile_sorted(const double *sorted, size_t n, double q)
{
    double rank;
    size_t lo;
    double frac;

    if (n == 0)
        return NAN;
    rank = q / 100.0 * (double)(n - 1);
    lo = (size_t)floor(rank);
    if (lo >= n - 1)
        return sorted[n - 1];
    frac = rank - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int bf_stats_compute(const double *values, size_t n, struct bf_stats *out)
{
    double *sorted;
    double sum = 0.0;
    double sq = 0.0;
    double mean;

    if (n == 0)
        return bf_err_set(BF_EINVAL, "statistics of an empty sample");
    sorted = malloc(n * sizeof(*sorted));
    if (!sorted)
        return bf_err_set(BF_ENOMEM, "statistics of %zu values", n);
    memcpy(sorted, values, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_double);
    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (sorted[i] - mean) * (sorted[i] - mean);
    out->n = n;
    out->mean = mean;
    out->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->p50 = bf_stats_percentile_sorted(sorted, n, 50.0);
    out->p90 = bf_stats_percentile_sorted(sorted, n, 90.0);
    out->p99 = bf_stats_percentile_sorted(sorted, n, 99.0);
    free(sorted);
    return 0;
}
