/*
 * bf_stats: descriptive statistics, distributions, tests and intervals.
 *
 * The special functions are written here rather than taken from libm's
 * lgamma (which sets the global signgam) so that the module keeps no state:
 * log_gamma() uses Stirling's series above 10 and the recurrence below it,
 * and the binomial mass uses Loader's saddle-point form (as R's dbinom), so
 * that no result comes from the difference of two large logarithms.
 */
#include "bf_stats.h"

#include "bf_err.h"
#include "bf_rng.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define SQRT1_2 0.70710678118654752440     /* 1 / sqrt(2) */
#define SQRT_2PI 2.50662827463100050242    /* sqrt(2 pi) */
#define LN_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */
#define LN_2PI 1.83787706640934548356      /* log(2 pi) */
#define LN_SQRT_PI 0.57236494292470008707  /* log(sqrt(pi)) */
#define LN_2 0.69314718055994530942

/* Iteration caps; the loops converge long before them. */
#define BETA_CF_MAX_ITER 100000
#define T_QUANTILE_MAX_ITER 400

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static bool has_nan(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return true;
    return false;
}

static bool conf_ok(double conf)
{
    return conf > 0.0 && conf < 1.0;
}

/* Descriptive statistics. */

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

/* Special functions. */

/*
 * The remainder of Stirling's series, log Gamma(x) - ((x - 0.5) log x - x +
 * log sqrt(2 pi)), for x >= 10 (truncation error below 1e-15 there).
 */
static double stirling_tail(double x)
{
    /* B_2k / (2k (2k - 1)) for k = 1..6. */
    static const double c[] = {1.0 / 12,    -1.0 / 360, 1.0 / 1260,
                               -1.0 / 1680, 1.0 / 1188, -691.0 / 360360};
    double r = 1.0 / (x * x);
    double sum = c[5];

    for (int k = 4; k >= 0; k--)
        sum = sum * r + c[k];
    return sum / x;
}

/* log Gamma(x) for x > 0, absolute error a few ulps of the result's scale. */
static double log_gamma(double x)
{
    double prod = 1.0;

    if (x >= 10.0)
        return (x - 0.5) * log(x) - x + LN_SQRT_2PI + stirling_tail(x);
    while (x < 10.0) {
        prod *= x;
        x += 1.0;
    }
    return (x - 0.5) * log(x) - x + LN_SQRT_2PI + stirling_tail(x) - log(prod);
}

/* log Gamma(a + 1/2) - log Gamma(a) for a > 0, without cancellation. */
static double log_gamma_ratio_half(double a)
{
    if (a < 10.0)
        return log_gamma(a + 0.5) - log_gamma(a);
    return a * log1p(0.5 / a) - 0.5 + 0.5 * log(a) + stirling_tail(a + 0.5) -
           stirling_tail(a);
}

/* log B(a, b); stable for large a when b is 1/2 (Student's t). */
static double log_beta(double a, double b)
{
    if (b == 0.5)
        return LN_SQRT_PI - log_gamma_ratio_half(a);
    if (a == 0.5)
        return LN_SQRT_PI - log_gamma_ratio_half(b);
    return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

/*
 * The continued fraction of the incomplete beta function (modified Lentz),
 * converging fast for x < (a + 1) / (a + b + 2).
 */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0;
    double d = 1.0 - (a + b) * x / (a + 1.0);
    double h;

    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    h = d;
    for (int m = 1; m <= BETA_CF_MAX_ITER; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
        double del;

        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < DBL_EPSILON)
            break;
    }
    return h;
}

/*
 * The regularized incomplete beta function I_x(a, b), given x, y = 1 - x
 * and their logarithms, each computed by the caller without cancellation.
 */
static double inc_beta(double a, double b, double x, double y, double lx,
                       double ly)
{
    double front;

    if (x <= 0.0)
        return 0.0;
    if (y <= 0.0)
        return 1.0;
    front = exp(a * lx + b * ly - log_beta(a, b));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, y) / b;
}

/*
 * x = df / (df + t^2), y = t^2 / (df + t^2) and their logarithms, for
 * t >= 0 and finite; t^2 may overflow.
 */
static void t_beta_args(double t, double df, double *x, double *y, double *lx,
                        double *ly)
{
    double tt = t * t;

    if (isinf(tt)) {
        *lx = log(df) - 2.0 * log(t);
        *x = exp(*lx);
        *y = 1.0;
        *ly = log1p(-*x);
        return;
    }
    *x = df / (df + tt);
    *y = tt / (df + tt);
    *lx = *y < 0.5 ? log1p(-*y) : log(*x);
    *ly = *x < 0.5 ? log1p(-*x) : log(*y);
}

/*
 * I_x(a, 1/2) by its power series x^a / (a B(a, 1/2)) * sum over j >= 0 of
 * (1/2)_j / j! * a / (a + j) * x^j: positive terms, for x <= 0.7.
 */
static double inc_beta_half_series(double a, double x, double lx)
{
    double coef = 1.0;
    double xj = 1.0;
    double sum = 1.0;

    for (int j = 1; j < 2000; j++) {
        double term;

        coef *= (j - 0.5) / j;
        xj *= x;
        term = coef * xj * a / (a + j);
        sum += term;
        if (term <= sum * DBL_EPSILON * 0.5)
            break;
    }
    return exp(a * lx - log_beta(a, 0.5)) / a * sum;
}

/*
 * I_x(a, 1/2) for a >= 15 and x >= 0.7 (lx = log x): the asymptotic
 * expansion in 1/a of DiDonato and Morris (1992, ACM TOMS 708, section 9),
 * whose leading term is the incomplete gamma ratio Q(1/2, z) = erfc(sqrt
 * z), z = -(a - 1/4) log x. Returns -1 when the expansion fails (then the
 * caller uses the continued fraction).
 */
static double inc_beta_half_large_a(double a, double lx)
{
    const double b = 0.5;
    double nu = a - 0.25;
    double z = -nu * lx;
    double c[30], d[30];
    double r, u, j, sum, v, t2;
    double t = 1.0;
    double cn = 1.0;
    double n2 = 0.0;

    if (!(z > 0.0))
        return -1.0;
    /* r = exp(-z) z^b / Gamma(b); u = r Gamma(a + b) / (Gamma(a) nu^b). */
    r = exp(-z + 0.5 * log(z) - LN_SQRT_PI);
    if (r == 0.0)
        return 0.0; /* the result underflows too */
    u = r * exp(log_gamma_ratio_half(a) - 0.5 * log(nu));
    j = erfc(sqrt(z)) / r;
    sum = j;
    v = 0.25 / (nu * nu);
    t2 = 0.25 * lx * lx;
    for (int n = 1; n <= 30; n++) {
        double bp2n = b + n2;
        double s = 0.0;
        double coef = b - n;
        double dj;

        j = (bp2n * (bp2n + 1.0) * j + (z + bp2n + 1.0) * t) * v;
        n2 += 2.0;
        t *= t2;
        cn /= n2 * (n2 + 1.0);
        c[n - 1] = cn;
        for (int i = 1; i < n; i++) {
            s += coef * c[i - 1] * d[n - i - 1];
            coef += b;
        }
        d[n - 1] = (b - 1.0) * cn + s / n;
        dj = d[n - 1] * j;
        sum += dj;
        if (sum <= 0.0)
            return -1.0;
        if (fabs(dj) <= DBL_EPSILON * sum)
            return u * sum;
    }
    return -1.0;
}

/*
 * P(T > t) for t >= 0: 0.5 * I_x(df / 2, 1/2), x = df / (df + t^2). The
 * method follows ACM TOMS 708's choice for these parameters: the power
 * series when x <= 0.7, the large-a expansion when df >= 30 (the continued
 * fraction loses digits there as a grows), else the continued fraction.
 */
static double t_upper_tail(double t, double df)
{
    double a = 0.5 * df;
    double x, y, lx, ly;

    if (t == 0.0)
        return 0.5;
    t_beta_args(t, df, &x, &y, &lx, &ly);
    if (y >= 0.3)
        return 0.5 * inc_beta_half_series(a, x, lx);
    if (a >= 15.0) {
        double w = inc_beta_half_large_a(a, lx);

        if (w >= 0.0)
            return 0.5 * w;
    }
    return 0.5 * inc_beta(a, 0.5, x, y, lx, ly);
}

/*
 * P(T <= t) - q for t <= 0 and 0 < q < 1/2. Near the centre (q > 1/4 and
 * t^2 below about 1) it is taken as (1/2 - q) - P(t < T < 0), the central
 * mass from the power series of I_y(1/2, df / 2) (y = t^2 / (df + t^2),
 * terms of size (df y / 2)^j / j!), so that a quantile close to 0 keeps
 * its relative accuracy; 1/2 - q is exact there.
 */
static double t_lower_residual(double t, double df, double q)
{
    double a = 0.5 * df;
    double x, y, lx, ly;
    double coef = 1.0;
    double yj = 1.0;
    double sum = 1.0;

    if (q <= 0.25 || t == 0.0)
        return bf_stats_t_cdf(t, df) - q;
    t_beta_args(-t, df, &x, &y, &lx, &ly);
    if (!(y < 0.1 && a * y <= 0.49))
        return bf_stats_t_cdf(t, df) - q;
    for (int j = 1; j < 200; j++) {
        double term;

        coef *= (j - a) / j;
        yj *= y;
        term = coef * yj * 0.5 / (0.5 + j);
        sum += term;
        if (fabs(term) <= fabs(sum) * DBL_EPSILON * 0.5)
            break;
    }
    /* P(t < T < 0) = I_y(1/2, a) / 2. */
    return (0.5 - q) - exp(0.5 * ly - log_beta(a, 0.5)) * sum;
}

/* The density of Student's t. */
static double t_pdf(double t, double df)
{
    double tt = t * t;
    double l1p = isinf(tt) ? 2.0 * log(fabs(t)) - log(df) : log1p(tt / df);

    return exp(-log_beta(0.5 * df, 0.5) - 0.5 * log(df) -
               0.5 * (df + 1.0) * l1p);
}

/* Distributions. */

double bf_stats_normal_cdf(double z)
{
    return 0.5 * erfc(-z * SQRT1_2);
}

/* Acklam's approximation for 0 < p <= 0.5 (relative error 1.15e-9). */
static double acklam_lower(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    double q, r;

    if (p < 0.02425) {
        q = sqrt(-2.0 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
                c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    q = p - 0.5;
    r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
            a[5]) *
           q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

double bf_stats_normal_quantile(double p)
{
    double q, x, pdf;

    if (isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    if (p == 0.5)
        return 0.0;
    /* Work in the lower tail: 1 - p is exact for p >= 0.5. */
    q = p < 0.5 ? p : 1.0 - p;
    x = acklam_lower(q);
    /*
     * One Halley step on the exact cdf. Near the centre the residual is
     * taken as erf(x / sqrt 2) / 2 - (q - 1/2), both terms exact to a few
     * ulps of themselves, so that a small x keeps its relative accuracy.
     */
    pdf = exp(-0.5 * x * x) / SQRT_2PI;
    if (pdf > 0.0) {
        double e = q > 0.25 ? 0.5 * erf(x * SQRT1_2) - (q - 0.5)
                            : bf_stats_normal_cdf(x) - q;
        double u = e / pdf;

        x -= u / (1.0 + 0.5 * x * u);
    }
    return p < 0.5 ? x : -x;
}

double bf_stats_t_cdf(double t, double df)
{
    double tail;

    if (isnan(t) || isnan(df) || df <= 0.0)
        return NAN;
    if (isinf(df))
        return bf_stats_normal_cdf(t);
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    tail = t_upper_tail(fabs(t), df);
    return t < 0 ? tail : 1.0 - tail;
}

/* A point strictly inside (lo, hi), hi <= 0: geometric when far apart. */
static double t_bisect(double lo, double hi)
{
    if (hi < 0.0 && lo / hi > 4.0)
        return -sqrt(lo * hi);
    return 0.5 * (lo + hi);
}

/* The t < 0 with P(T <= t) = q, for 0 < q < 0.5 and finite df. */
static double t_lower_quantile(double q, double df)
{
    double z, t, lo, hi, f;

    if (df == 1.0)
        return q < 0.25 ? -1.0 / tan(PI * q) : tan(PI * (q - 0.5));
    if (df == 2.0)
        return (2.0 * q - 1.0) / sqrt(2.0 * q * (1.0 - q));
    /* Start from the Cornish-Fisher expansion (Abramowitz-Stegun 26.7.5). */
    z = bf_stats_normal_quantile(q);
    t = z + (z * z * z + z) / (4.0 * df) +
        (5.0 * pow(z, 5) + 16.0 * z * z * z + 3.0 * z) / (96.0 * df * df);
    if (!(t < 0.0) || !isfinite(t))
        t = z;
    /* Bracket the root: cdf(lo) < q < cdf(hi). */
    hi = 0.0;
    f = t_lower_residual(t, df, q);
    if (f == 0.0)
        return t;
    if (f < 0.0) {
        lo = t;
    } else {
        hi = t;
        lo = 2.0 * t;
        while ((f = t_lower_residual(lo, df, q)) > 0.0) {
            hi = lo;
            lo *= 2.0;
            if (isinf(lo))
                return -INFINITY;
        }
        if (f == 0.0)
            return lo;
        t = lo;
    }
    /* Newton's method, falling back to bisection outside the bracket. */
    for (int i = 0; i < T_QUANTILE_MAX_ITER; i++) {
        double next;

        f = t_lower_residual(t, df, q);
        if (f == 0.0)
            return t;
        if (f < 0.0)
            lo = t;
        else
            hi = t;
        next = t - f / t_pdf(t, df);
        if (!(next > lo && next < hi))
            next = t_bisect(lo, hi);
        if (fabs(next - t) <= 2.0 * DBL_EPSILON * fabs(t) ||
            hi - lo <= 2.0 * DBL_EPSILON * fabs(lo))
            return next;
        t = next;
    }
    return t;
}

double bf_stats_t_quantile(double p, double df)
{
    double t;

    if (isnan(p) || isnan(df) || df <= 0.0 || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    if (p == 0.5)
        return 0.0;
    if (isinf(df))
        return bf_stats_normal_quantile(p);
    /* 1 - p is exact for p >= 0.5; the distribution is symmetric. */
    t = t_lower_quantile(p < 0.5 ? p : 1.0 - p, df);
    return p < 0.5 ? t : -t;
}

/* McNemar's test. */

/* Stirling's error log(n!) - log(sqrt(2 pi n) (n/e)^n) for an integer n. */
static double stirling_error(double n)
{
    double fact = 1.0;

    if (n > 15.0)
        return stirling_tail(n);
    /* n! is exact in a double for n <= 15. */
    for (int i = 2; i <= (int)n; i++)
        fact *= i;
    return log(fact) - (n + 0.5) * log(n) + n - LN_SQRT_2PI;
}

/* x log(x / np) + np - x without cancellation (Loader's bd0). */
static double deviance_term(double x, double np)
{
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np);
        double s = (x - np) * v;
        double ej = 2.0 * x * v;

        v = v * v;
        for (int j = 1; j < 1000; j++) {
            double s1;

            ej *= v;
            s1 = s + ej / (2 * j + 1);
            if (s1 == s)
                return s1;
            s = s1;
        }
        return s;
    }
    return x * log(x / np) + np - x;
}

/* log P(B = x) for B ~ Binomial(n, 1/2) (Loader 2000, "Fast and accurate
 * computation of binomial probabilities"). */
static double log_binom_half_pmf(double x, double n)
{
    double lc, lf;

    if (x == 0.0 || x == n)
        return -n * LN_2;
    lc = stirling_error(n) - stirling_error(x) - stirling_error(n - x) -
         deviance_term(x, 0.5 * n) - deviance_term(n - x, 0.5 * n);
    lf = LN_2PI + log(x) + log1p(-x / n);
    return lc - 0.5 * lf;
}

int bf_stats_mcnemar_exact(uint64_t b, uint64_t c, double *p)
{
    uint64_t k = b < c ? b : c;
    uint64_t n;
    double sum = 1.0;
    double term = 1.0;
    double pv;

    if (!p)
        return bf_err_set(BF_EINVAL, "mcnemar: no output");
    if (b > UINT64_MAX - c)
        return bf_err_set(BF_EINVAL, "mcnemar: b + c overflows");
    n = b + c;
    if (n == 0 || b == c) {
        *p = 1.0;
        return 0;
    }
    /*
     * P(B <= k) = P(B = k) * sum over i <= k of P(B = i) / P(B = k). With
     * k < n / 2 the mass grows with i, so the terms fall from 1 and the sum
     * stops once they no longer change it.
     */
    for (uint64_t i = k; i > 0; i--) {
        term *= (double)i / (double)(n - i + 1);
        sum += term;
        if (term < sum * 0x1p-60)
            break;
    }
    pv = 2.0 * exp(log_binom_half_pmf((double)k, (double)n)) * sum;
    *p = pv < 1.0 ? pv : 1.0;
    return 0;
}

/* Mann-Whitney U. */

struct ranked {
    double v;
    int in_y;
};

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const struct ranked *)a)->v,
                      &((const struct ranked *)b)->v);
}

/* Largest degree of the intermediate polynomials of mwu_exact_sf. */
#define MWU_MAX_DEG                                                            \
    (BF_STATS_MWU_EXACT_MAX * BF_STATS_MWU_EXACT_MAX + BF_STATS_MWU_EXACT_MAX)

/*
 * P(U >= u) under the null hypothesis for sample sizes m and n (both at
 * most BF_STATS_MWU_EXACT_MAX). The number of arrangements with U = k is
 * the coefficient of q^k in the Gaussian binomial coefficient [m + n, m]_q
 * = prod over i = 1..m of (1 - q^(n + i)) / (1 - q^i), built up one factor
 * at a time in exact integers.
 */
static double mwu_exact_sf(unsigned m, unsigned n, double u)
{
    int64_t c[MWU_MAX_DEG + 1] = {1};
    unsigned deg = 0;
    int64_t total = 0;
    int64_t tail = 0;

    for (unsigned i = 1; i <= m; i++) {
        unsigned up = n + i;

        /* Multiply by 1 - q^(n + i). */
        for (unsigned k = deg + up; k >= up; k--)
            c[k] -= c[k - up];
        deg += up;
        /* Divide by 1 - q^i (exact: the quotient is a polynomial). */
        for (unsigned k = i; k <= deg; k++)
            c[k] += c[k - i];
        deg -= i;
    }
    for (unsigned k = 0; k <= deg; k++) {
        total += c[k];
        if ((double)k >= u)
            tail += c[k];
    }
    return (double)tail / (double)total;
}

int bf_stats_mann_whitney(const double *x, size_t nx, const double *y,
                          size_t ny, struct bf_stats_mwu *out)
{
    size_t n = nx + ny;
    struct ranked *all;
    double *xs, *ys;
    size_t ix = 0, iy = 0;
    double r1 = 0.0;
    double tie_term = 0.0;
    bool ties = false;
    double u1, u2, u, p;
    int exact;

    if (!x || !y || !out)
        return bf_err_set(BF_EINVAL, "mann-whitney: NULL argument");
    if (nx == 0 || ny == 0)
        return bf_err_set(BF_EINVAL, "mann-whitney: empty sample (%zu, %zu)",
                          nx, ny);
    if (has_nan(x, nx) || has_nan(y, ny))
        return bf_err_set(BF_EINVAL, "mann-whitney: NaN in a sample");
    all = malloc(n * sizeof(*all));
    if (!all)
        return bf_err_set(BF_ENOMEM, "mann-whitney of %zu values", n);
    xs = malloc(n * sizeof(*xs));
    if (!xs) {
        free(all);
        return bf_err_set(BF_ENOMEM, "mann-whitney of %zu values", n);
    }
    ys = xs + nx;
    for (size_t i = 0; i < nx; i++)
        all[i] = (struct ranked){.v = x[i], .in_y = 0};
    for (size_t i = 0; i < ny; i++)
        all[nx + i] = (struct ranked){.v = y[i], .in_y = 1};
    qsort(all, n, sizeof(*all), cmp_ranked);

    /* Average ranks over runs of equal values; sorted copies of each side. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double t, rank;

        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        t = (double)(j - i + 1);
        rank = 0.5 * ((double)(i + 1) + (double)(j + 1));
        if (j > i) {
            ties = true;
            tie_term += t * t * t - t;
        }
        for (size_t k = i; k <= j; k++) {
            if (all[k].in_y) {
                ys[iy++] = all[k].v;
            } else {
                xs[ix++] = all[k].v;
                r1 += rank;
            }
        }
        i = j + 1;
    }

    u1 = r1 - (double)nx * ((double)nx + 1.0) / 2.0;
    u2 = (double)nx * (double)ny - u1;
    u = u1 > u2 ? u1 : u2;
    exact =
        !ties && nx <= BF_STATS_MWU_EXACT_MAX && ny <= BF_STATS_MWU_EXACT_MAX;
    if (exact) {
        p = 2.0 * mwu_exact_sf((unsigned)nx, (unsigned)ny, u);
    } else {
        /* Normal approximation, tie and continuity corrected (as scipy). */
        double dn = (double)n;
        double mu = (double)nx * (double)ny / 2.0;
        double var = (double)nx * (double)ny / 12.0 *
                     ((dn + 1.0) - tie_term / (dn * (dn - 1.0)));
        double s = var > 0.0 ? sqrt(var) : 0.0;

        /* With no spread every value is equal and U is its mean. */
        p = s > 0.0 ? 2.0 * bf_stats_normal_cdf(-(u - mu - 0.5) / s) : 1.0;
    }
    out->u = u1;
    out->p = p < 1.0 ? p : 1.0;
    out->exact = exact;
    out->superiority = u1 / ((double)nx * (double)ny);
    out->median_x = bf_stats_percentile_sorted(xs, nx, 50.0);
    out->median_y = bf_stats_percentile_sorted(ys, ny, 50.0);
    out->median_ratio = out->median_y / out->median_x;
    free(xs);
    free(all);
    return 0;
}

/* Holm-Bonferroni. */

struct indexed {
    double p;
    size_t i;
};

static int cmp_indexed(const void *a, const void *b)
{
    return cmp_double(&((const struct indexed *)a)->p,
                      &((const struct indexed *)b)->p);
}

int bf_stats_holm(const double *p, size_t n, double *adjusted)
{
    struct indexed *s;
    double running = 0.0;

    if (!p || !adjusted)
        return bf_err_set(BF_EINVAL, "holm: NULL argument");
    if (n == 0)
        return bf_err_set(BF_EINVAL, "holm: no p-values");
    for (size_t i = 0; i < n; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return bf_err_set(BF_EINVAL, "holm: p[%zu] = %g is not in [0, 1]",
                              i, p[i]);
    s = malloc(n * sizeof(*s));
    if (!s)
        return bf_err_set(BF_ENOMEM, "holm: %zu p-values", n);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct indexed){.p = p[i], .i = i};
    qsort(s, n, sizeof(*s), cmp_indexed);
    /* Ties need no stable order: their running maximum is the same. */
    for (size_t j = 0; j < n; j++) {
        double v = (double)(n - j) * s[j].p;

        if (v > running)
            running = v;
        adjusted[s[j].i] = running < 1.0 ? running : 1.0;
    }
    free(s);
    return 0;
}

/* Intervals. */

int bf_stats_wilson(uint64_t k, uint64_t n, double conf, double *lo, double *hi)
{
    double dn, q, crit, crit2, denom, center, dist;

    if (!lo || !hi)
        return bf_err_set(BF_EINVAL, "wilson: NULL argument");
    if (n == 0 || k > n)
        return bf_err_set(BF_EINVAL, "wilson: %llu successes of %llu trials",
                          (unsigned long long)k, (unsigned long long)n);
    if (!conf_ok(conf))
        return bf_err_set(BF_EINVAL, "wilson: confidence %g not in (0, 1)",
                          conf);
    /* The same operations, in the same order, as statsmodels. */
    dn = (double)n;
    q = (double)k / dn;
    crit = -bf_stats_normal_quantile((1.0 - conf) / 2.0);
    crit2 = crit * crit;
    denom = 1.0 + crit2 / dn;
    center = (q + crit2 / (2.0 * dn)) / denom;
    dist = crit * sqrt(q * (1.0 - q) / dn + crit2 / (4.0 * dn * dn)) / denom;
    *lo = center - dist > 0.0 ? center - dist : 0.0;
    *hi = center + dist < 1.0 ? center + dist : 1.0;
    return 0;
}

int bf_stats_t_interval(const double *v, size_t n, double conf, double *mean,
                        double *half_width)
{
    double sum = 0.0;
    double sq = 0.0;
    double m, sd;

    if (!v || !mean || !half_width)
        return bf_err_set(BF_EINVAL, "t interval: NULL argument");
    if (n == 0)
        return bf_err_set(BF_EINVAL, "t interval of an empty sample");
    if (!conf_ok(conf))
        return bf_err_set(BF_EINVAL, "t interval: confidence %g not in (0, 1)",
                          conf);
    if (has_nan(v, n))
        return bf_err_set(BF_EINVAL, "t interval: NaN in the sample");
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    m = sum / (double)n;
    *mean = m;
    if (n < 2) {
        *half_width = NAN;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        sq += (v[i] - m) * (v[i] - m);
    sd = sqrt(sq / (double)(n - 1));
    *half_width = -bf_stats_t_quantile((1.0 - conf) / 2.0, (double)(n - 1)) *
                  sd / sqrt((double)n);
    return 0;
}

/* Bootstrap. */

/* Fill dst with n values drawn with replacement from src, sorted. */
static void resample_sorted(struct bf_rng *rng, const double *src, size_t n,
                            double *dst)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[bf_rng_below(rng, n)];
    qsort(dst, n, sizeof(*dst), cmp_double);
}

/* The percentile interval of iters bootstrap statistics (sorted here). */
static void percentile_interval(double *stat, unsigned iters, double conf,
                                double *lo, double *hi)
{
    qsort(stat, iters, sizeof(*stat), cmp_double);
    *lo = bf_stats_percentile_sorted(stat, iters, 50.0 * (1.0 - conf));
    *hi = bf_stats_percentile_sorted(stat, iters, 50.0 * (1.0 + conf));
}

int bf_stats_bootstrap_percentile(const double *v, size_t n, double q,
                                  unsigned iters, uint64_t seed, double conf,
                                  double *lo, double *hi)
{
    struct bf_rng rng;
    double *buf, *stat;

    if (!v || !lo || !hi)
        return bf_err_set(BF_EINVAL, "bootstrap: NULL argument");
    if (n == 0 || iters == 0)
        return bf_err_set(BF_EINVAL, "bootstrap: %zu values, %u iterations", n,
                          iters);
    if (!(q >= 0.0 && q <= 100.0))
        return bf_err_set(BF_EINVAL,
                          "bootstrap: percentile %g not in "
                          "[0, 100]",
                          q);
    if (!conf_ok(conf))
        return bf_err_set(BF_EINVAL, "bootstrap: confidence %g not in (0, 1)",
                          conf);
    if (has_nan(v, n))
        return bf_err_set(BF_EINVAL, "bootstrap: NaN in the sample");
    buf = malloc((n + iters) * sizeof(*buf));
    if (!buf)
        return bf_err_set(BF_ENOMEM, "bootstrap: %zu values, %u iterations", n,
                          iters);
    stat = buf + n;
    bf_rng_init(&rng, seed, BF_STATS_RNG_STREAM);
    for (unsigned it = 0; it < iters; it++) {
        resample_sorted(&rng, v, n, buf);
        stat[it] = bf_stats_percentile_sorted(buf, n, q);
    }
    percentile_interval(stat, iters, conf, lo, hi);
    free(buf);
    return 0;
}

int bf_stats_bootstrap_median_ratio(const double *x, size_t nx, const double *y,
                                    size_t ny, unsigned iters, uint64_t seed,
                                    double conf, double *lo, double *hi)
{
    struct bf_rng rx, ry;
    double *buf, *bx, *by, *stat;
    int rc = 0;

    if (!x || !y || !lo || !hi)
        return bf_err_set(BF_EINVAL, "bootstrap: NULL argument");
    if (nx == 0 || ny == 0 || iters == 0)
        return bf_err_set(BF_EINVAL,
                          "bootstrap: %zu and %zu values, %u iterations", nx,
                          ny, iters);
    if (!conf_ok(conf))
        return bf_err_set(BF_EINVAL, "bootstrap: confidence %g not in (0, 1)",
                          conf);
    if (has_nan(x, nx) || has_nan(y, ny))
        return bf_err_set(BF_EINVAL, "bootstrap: NaN in a sample");
    buf = malloc((nx + ny + iters) * sizeof(*buf));
    if (!buf)
        return bf_err_set(BF_ENOMEM,
                          "bootstrap: %zu and %zu values, %u iterations", nx,
                          ny, iters);
    bx = buf;
    by = bx + nx;
    stat = by + ny;
    /* One stream per side, so that each side's draws do not depend on the
     * other's size. */
    bf_rng_init(&rx, seed, BF_STATS_RNG_STREAM);
    bf_rng_init(&ry, seed, BF_STATS_RNG_STREAM + 1);
    for (unsigned it = 0; it < iters; it++) {
        double mx, my;

        resample_sorted(&rx, x, nx, bx);
        resample_sorted(&ry, y, ny, by);
        mx = bf_stats_percentile_sorted(bx, nx, 50.0);
        my = bf_stats_percentile_sorted(by, ny, 50.0);
        stat[it] = my / mx;
        if (!isfinite(stat[it])) {
            rc = bf_err_set(BF_ERANGE,
                            "bootstrap: median ratio %g / %g in resample %u",
                            my, mx, it);
            goto out_free;
        }
    }
    percentile_interval(stat, iters, conf, lo, hi);
out_free:
    free(buf);
    return rc;
}
