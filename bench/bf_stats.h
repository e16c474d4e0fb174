/*
 * bf_stats: statistics of measurements and results, computed in C (the DB
 * stores both the samples and these aggregates; the comparator and the
 * reports draw their verdicts from the tests below).
 *
 * Descriptive statistics. Percentiles use linear interpolation between
 * closest ranks (the definition of numpy.percentile's default), so p50 of
 * {1, 2, 3, 4} is 2.5. Every percentile and median in this module, the
 * bootstrap's included, uses that one definition.
 *
 * Inference. Each test or interval names the reference implementation it
 * matches; tests/test_stats.c holds reference numbers computed with it
 * (scripts/peer/stats_reference.py prints them). Probabilities are plain
 * fractions in [0, 1], confidence levels too (0.95, not 95).
 *
 * Conventions. Fallible functions return 0 or a negative BF_E* code from
 * bf_err.h with the detail in bf_last_error(): BF_EINVAL for a NULL pointer,
 * an empty sample, a NaN in a sample, a probability or a confidence level
 * outside its range; BF_ENOMEM when a working copy cannot be allocated.
 * Nothing is written to the outputs on failure. Inputs are never modified.
 * The distribution functions (bf_stats_normal_*, bf_stats_t_*) are pure
 * functions in the manner of libm: they return NaN for arguments outside
 * their domain instead of an error code.
 *
 * Randomness. The bootstrap draws from bf_rng streams derived from the
 * caller's seed (BF_STATS_RNG_STREAM and the stream after it), so that the
 * same seed gives the same interval on any machine and a bootstrap does not
 * shift another consumer's stream.
 *
 * Layer 1: pure C, depends on bf_rng and bf_err only. Thread-safe (no state
 * besides bf_err's thread-local detail).
 */
#ifndef BF_STATS_H
#define BF_STATS_H

#include <stddef.h>
#include <stdint.h>

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

/* The bf_rng stream of the bootstrap; the stream after it is used too. */
#define BF_STATS_RNG_STREAM 0x62667374ULL /* "bfst" */

/*
 * Largest sample size on either side for which bf_stats_mann_whitney uses
 * the exact distribution of U (when there are no ties).
 */
#define BF_STATS_MWU_EXACT_MAX 8

/* The result of a Mann-Whitney U test of x against y. */
struct bf_stats_mwu {
    double u;  /* U of x: R1 - nx(nx+1)/2, R1 the rank sum of x */
    double p;  /* two-sided p-value */
    int exact; /* 1: exact distribution of U; 0: normal approximation */
    double superiority; /* u / (nx * ny): P(X > Y) + P(X = Y) / 2 */
    double median_x;
    double median_y;
    double median_ratio; /* median_y / median_x (inf or NaN if median_x 0) */
};

/* Descriptive statistics. */

/*
 * Summarise n values. The values are not modified. Returns 0, BF_EINVAL for
 * n == 0, or BF_ENOMEM.
 */
int bf_stats_compute(const double *values, size_t n, struct bf_stats *out);

/* The q-th percentile (0 <= q <= 100) of n values already sorted ascending. */
double bf_stats_percentile_sorted(const double *sorted, size_t n, double q);

/* Distributions (matching scipy.stats.norm and scipy.stats.t). */

/* P(Z <= z) for a standard normal Z, as erfc(-z / sqrt 2) / 2. */
double bf_stats_normal_cdf(double z);

/*
 * The z with P(Z <= z) = p: Acklam's rational approximation refined by one
 * Halley step, relative error below 1e-15 (scipy.stats.norm.ppf). Returns
 * -inf for p == 0, +inf for p == 1 and NaN outside [0, 1].
 */
double bf_stats_normal_quantile(double p);

/*
 * P(T <= t) for Student's t with df > 0 degrees of freedom (df may be
 * fractional; +inf gives the normal): 0.5 * I_x(df / 2, 1/2), x = df / (df
 * + t^2), the regularized incomplete beta function evaluated as ACM TOMS
 * 708 does for these parameters (power series, the large-df asymptotic
 * expansion, or the continued fraction). Relative error below 1e-13 for df
 * from 0.3 to 1e8 (checked against mpmath; scipy.stats.t.cdf). NaN for
 * df <= 0 or a NaN argument.
 */
double bf_stats_t_cdf(double t, double df);

/*
 * The t with P(T <= t) = p for Student's t with df > 0 degrees of freedom:
 * closed forms for df 1 and 2, otherwise Newton's method on bf_stats_t_cdf
 * inside a bisection bracket. Relative error below 1e-13 for df from 0.3 to
 * 1e8 and p from 1e-300 (checked against mpmath; scipy 1.10's
 * scipy.stats.t.ppf is itself off by up to 2e-9). Returns -inf for p == 0
 * (or a quantile beyond the double range), +inf for p == 1 and NaN outside
 * [0, 1] or for df <= 0.
 */
double bf_stats_t_quantile(double p, double df);

/* Tests. */

/*
 * McNemar's exact test of two classifiers on the same items: b items only
 * the first got right, c items only the second. Writes the two-sided
 * p = min(1, 2 * P(B <= min(b, c))) for B ~ Binomial(b + c, 1/2), and 1 when
 * b + c == 0 (statsmodels mcnemar(exact=True), scipy.stats.binomtest(min(b,
 * c), b + c, 0.5)). The binomial mass is computed with Loader's saddle-point
 * formula and summed from its largest term, so p keeps a relative error
 * near 1e-13 for b + c in the millions. Returns 0 or BF_EINVAL (p NULL,
 * b + c beyond UINT64_MAX).
 */
int bf_stats_mcnemar_exact(uint64_t b, uint64_t c, double *p);

/*
 * The Mann-Whitney U test of x (nx values) against y (ny values), two-sided
 * (scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method=M)). M is
 * 'exact' when nx and ny are both at most BF_STATS_MWU_EXACT_MAX and no
 * value occurs twice in x and y together: the exact null distribution of U
 * (out->exact = 1). Otherwise M is 'asymptotic': the normal approximation
 * with the tie correction and the continuity correction (out->exact = 0).
 * (scipy's method='auto' chooses 'exact' already when one side is at most
 * 8; pass method explicitly to compare.) When all values are equal p is 1.
 * Ties get average ranks. Also fills the medians and the effect size, see
 * struct bf_stats_mwu. Returns 0, BF_EINVAL (NULL, nx or ny 0, a NaN) or
 * BF_ENOMEM.
 */
int bf_stats_mann_whitney(const double *x, size_t nx, const double *y,
                          size_t ny, struct bf_stats_mwu *out);

/*
 * Holm-Bonferroni adjusted p-values of n p-values (statsmodels
 * multipletests(p, method='holm')[1]): sorted ascending, the i-th
 * (0-based) becomes the running maximum of min(1, (n - i) * p), written back
 * in the input's order. adjusted may be p itself. Returns 0, BF_EINVAL
 * (NULL, n == 0, a p outside [0, 1] or NaN) or BF_ENOMEM.
 */
int bf_stats_holm(const double *p, size_t n, double *adjusted);

/* Intervals. */

/*
 * The Wilson score interval of the proportion k / n at confidence level
 * conf (statsmodels proportion_confint(k, n, alpha=1-conf,
 * method='wilson')), clamped to [0, 1]. Returns 0 or BF_EINVAL (NULL,
 * n == 0, k > n, conf outside (0, 1)).
 */
int bf_stats_wilson(uint64_t k, uint64_t n, double conf, double *lo,
                    double *hi);

/*
 * The mean of n values and the half width of its Student t interval at
 * confidence level conf: t(1 - (1 - conf) / 2, n - 1) * sd / sqrt(n), sd
 * the sample standard deviation (scipy.stats.t.interval(conf, n - 1,
 * loc=mean, scale=scipy.stats.sem(v))). With n == 1 the half width is NaN
 * (no spread can be estimated); that is not an error. Returns 0 or
 * BF_EINVAL (NULL, n == 0, a NaN, conf outside (0, 1)).
 */
int bf_stats_t_interval(const double *v, size_t n, double conf, double *mean,
                        double *half_width);

/*
 * The bootstrap percentile interval at confidence level conf of the q-th
 * percentile (0 <= q <= 100, as bf_stats_percentile_sorted) of n values:
 * iters resamples of n values drawn with replacement, and the
 * (1 - conf) / 2 and (1 + conf) / 2 percentiles of their q-th percentiles.
 * Deterministic for a given seed. Returns 0, BF_EINVAL (NULL, n == 0,
 * iters == 0, a NaN, q or conf out of range) or BF_ENOMEM.
 */
int bf_stats_bootstrap_percentile(const double *v, size_t n, double q,
                                  unsigned iters, uint64_t seed, double conf,
                                  double *lo, double *hi);

/*
 * The bootstrap percentile interval at confidence level conf of the ratio
 * median(y) / median(x) (a slowdown of y against x when above 1): each of
 * the iters rounds resamples x and y independently, with replacement.
 * Deterministic for a given seed. Returns 0, BF_EINVAL (NULL, nx or ny 0,
 * iters == 0, a NaN, conf out of range), BF_ERANGE when a resampled ratio
 * is not finite (a median of x of 0) or BF_ENOMEM.
 */
int bf_stats_bootstrap_median_ratio(const double *x, size_t nx, const double *y,
                                    size_t ny, unsigned iters, uint64_t seed,
                                    double conf, double *lo, double *hi);

#endif /* BF_STATS_H */
