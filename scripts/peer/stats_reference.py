#!/usr/bin/python3
"""Reference values for tests/test_stats.c, from scipy and statsmodels.

Prints C initialisers (the tables of tests/test_stats.c between the lines
"BEGIN stats_reference.py" and "END stats_reference.py"), computed with the
implementations that bench/bf_stats.h names:

  McNemar exact     statsmodels mcnemar(exact=True), checked against
                    scipy.stats.binomtest(min(b, c), b + c, 0.5)
  Mann-Whitney U    scipy.stats.mannwhitneyu(x, y, alternative='two-sided',
                    method='exact' when both sides have <= 8 values and no
                    value repeats, else 'asymptotic'), use_continuity=True
  Wilson            statsmodels proportion_confint(method='wilson')
  t interval        scipy.stats.t.ppf(1 - (1 - conf) / 2, n - 1) * sem
  distributions     scipy.stats.norm.cdf/ppf, scipy.stats.t.cdf/ppf; the t
                    quantiles also to 40 digits with mpmath (scipy 1.10's
                    t.ppf, cdflib's stdtrit, is accurate to about 1e-9
                    only)
  Holm              statsmodels multipletests(method='holm')[1]

Needs Debian's python3-scipy, python3-statsmodels and python3-mpmath:

  /usr/bin/python3 scripts/peer/stats_reference.py
"""
import math
import sys

try:
    import mpmath
    import numpy as np
    import scipy
    import statsmodels
    from scipy import stats
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint
except ImportError as exc:
    sys.exit(f"stats_reference: needs Debian's python3-scipy, "
             f"python3-statsmodels and python3-mpmath (/usr/bin/python3): "
             f"{exc}")

MWU_EXACT_MAX = 8


def c(v):
    """A double as a C literal that parses back to the same value."""
    v = float(v)
    if not math.isfinite(v):
        sys.exit(f"stats_reference: non-finite reference value {v}")
    return repr(v)


def c_array(vals):
    return "{" + ", ".join(c(v) for v in vals) + "}"


def table(name, ctype, rows):
    print(f"static const {ctype} {name}[] = {{")
    for r in rows:
        print(f"    {{{', '.join(r)}}},")
    print("};")
    print()


def mcnemar_rows():
    pairs = [(0, 0), (0, 1), (1, 0), (3, 3), (2, 8), (8, 2), (5, 20),
             (0, 25), (10, 3), (50, 80), (400, 460), (1000, 1100),
             (9000, 11000), (9950, 10050), (9990, 10010), (49000, 51000),
             (0, 1000), (3, 900)]
    rows = []
    for b, cc in pairs:
        p = mcnemar([[0, b], [cc, 0]], exact=True).pvalue
        if b + cc > 0:
            q = stats.binomtest(min(b, cc), b + cc, 0.5).pvalue
            if abs(p - q) > 1e-12 * max(p, 1e-300):
                sys.exit(f"stats_reference: mcnemar {b} {cc}: {p} != {q}")
        rows.append((f"{b}", f"{cc}", c(p)))
    table("mcnemar_ref", "struct mcnemar_case", rows)


def mwu_samples():
    """Named (x, y) pairs: exact and asymptotic, with and without ties."""
    rng = np.random.default_rng(20240611)
    big_x = np.round(rng.lognormal(2.0, 0.3, 40), 3)
    big_y = np.round(rng.lognormal(2.1, 0.3, 55), 3)
    return [
        ("exact_small", [1.1, 2.3, 0.4, 5.5, 3.3],
         [4.4, 6.1, 7.2, 2.9, 8.8, 9.0]),
        ("exact_8x8", [1, 3, 5, 7, 9, 11, 13, 15],
         [2, 4, 6, 8, 10, 12, 14, 16.5]),
        ("exact_separated", [1, 2, 3], [4, 5, 6, 7]),
        ("exact_1x1", [2.0], [1.0]),
        ("asym_3x10", [0.5, 4.5, 9.5],
         [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("ties_small", [1, 2, 2, 3], [2, 3, 3, 4, 5]),
        ("ties_quantised", [i % 5 for i in range(30)],
         [(i * 3) % 7 for i in range(25)]),
        ("all_equal", [5, 5, 5], [5, 5]),
        ("lognormal_40x55", list(big_x), list(big_y)),
    ]


def mwu_rows():
    rows = []
    for name, x, y in mwu_samples():
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        xy = np.concatenate([x, y])
        exact = (len(x) <= MWU_EXACT_MAX and len(y) <= MWU_EXACT_MAX
                 and len(np.unique(xy)) == len(xy))
        method = "exact" if exact else "asymptotic"
        r = stats.mannwhitneyu(x, y, alternative="two-sided",
                               use_continuity=True, method=method)
        mx, my = np.median(x), np.median(y)
        print(f"static const double mwu_{name}_x[] = {c_array(x)};")
        print(f"static const double mwu_{name}_y[] = {c_array(y)};")
        rows.append((f"\"{name}\"", f"mwu_{name}_x", f"{len(x)}",
                     f"mwu_{name}_y", f"{len(y)}", c(r.statistic),
                     c(r.pvalue), f"{int(exact)}", c(mx), c(my),
                     c(r.statistic / (len(x) * len(y)))))
    print()
    table("mwu_ref", "struct mwu_case", rows)


def wilson_rows():
    cases = [(0, 10, 0.95), (10, 10, 0.95), (5, 10, 0.95), (1, 1000, 0.95),
             (761, 1000, 0.95), (7613, 10000, 0.95), (9999, 10000, 0.99),
             (50, 100, 0.5), (0, 1, 0.9), (1, 1, 0.9), (3, 7, 0.999)]
    rows = []
    for k, n, conf in cases:
        lo, hi = proportion_confint(k, n, alpha=1 - conf, method="wilson")
        rows.append((f"{k}", f"{n}", c(conf), c(max(lo, 0.0)),
                     c(min(hi, 1.0))))
    table("wilson_ref", "struct wilson_case", rows)


def t_interval_rows():
    rng = np.random.default_rng(7)
    samples = [
        ("two", [1.0, 2.0], 0.95),
        ("five", [3.1, 2.9, 3.4, 3.0, 3.2], 0.95),
        ("five_99", [3.1, 2.9, 3.4, 3.0, 3.2], 0.99),
        ("five_50", [3.1, 2.9, 3.4, 3.0, 3.2], 0.5),
        ("thirty", list(np.round(rng.normal(71.3, 0.8, 30), 4)), 0.95),
    ]
    rows = []
    for name, v, conf in samples:
        v = np.asarray(v, dtype=float)
        n = len(v)
        half = stats.t.ppf(1 - (1 - conf) / 2, n - 1) * stats.sem(v)
        print(f"static const double tint_{name}[] = {c_array(v)};")
        rows.append((f"tint_{name}", f"{n}", c(conf), c(np.mean(v)),
                     c(half)))
    print()
    table("t_interval_ref", "struct t_interval_case", rows)


def t_cdf_exact(t, df):
    """P(T <= t) with mpmath, from the regularized incomplete beta."""
    t = mpmath.mpf(t)
    df = mpmath.mpf(df)
    x = df / (df + t * t)
    tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, x,
                          regularized=True) / 2
    return tail if t < 0 else 1 - tail


def t_quantile_exact(q, df, start):
    """The t quantile with mpmath (lower tail, by symmetry for q > 0.5)."""
    with mpmath.workdps(40):
        q = mpmath.mpf(q)  # the double's exact value
        lower = q if q < 0.5 else 1 - q
        guess = -abs(mpmath.mpf(start))
        t = mpmath.findroot(lambda s: t_cdf_exact(s, df) / lower - 1, guess)
        return t if q < 0.5 else -t


def distribution_rows():
    zs = [-38.0, -10.0, -3.0, -1.0, -0.1, 0.0, 0.5, 2.0, 8.0]
    table("normal_cdf_ref", "struct xy_case",
          [(c(z), c(stats.norm.cdf(z))) for z in zs])
    ps = [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.02425, 0.025, 0.3, 0.5,
          0.7, 0.975, 0.999999]
    table("normal_quantile_ref", "struct xy_case",
          [(c(p), c(stats.norm.ppf(p))) for p in ps])
    dfs = [1, 2, 2.5, 3, 4, 5, 7, 10, 30, 100, 1000, 1e6]
    ts = [-50.0, -5.0, -2.0, -0.5, 0.1, 1.0, 3.0, 30.0]
    table("t_cdf_ref", "struct txy_case",
          [(c(df), c(t), c(stats.t.cdf(t, df))) for df in dfs for t in ts])
    qs = [1e-10, 1e-4, 0.025, 0.1, 0.4, 0.6, 0.975, 0.9999]
    rows = []
    for df in dfs:
        for q in qs:
            ppf = stats.t.ppf(q, df)
            rows.append((c(df), c(q), c(ppf), c(t_quantile_exact(q, df, ppf))))
    table("t_quantile_ref", "struct t_quantile_case", rows)


def holm_rows():
    cases = [
        ("mixed", [0.01, 0.04, 0.03, 0.005, 0.5, 0.04]),
        ("clipped", [0.6, 0.9, 0.01]),
        ("single", [0.03]),
        ("zeros", [0.0, 0.0, 1.0]),
    ]
    rows = []
    for name, p in cases:
        adj = multipletests(p, method="holm")[1]
        print(f"static const double holm_{name}_p[] = {c_array(p)};")
        print(f"static const double holm_{name}_adj[] = {c_array(adj)};")
        rows.append((f"holm_{name}_p", f"holm_{name}_adj", f"{len(p)}"))
    print()
    table("holm_ref", "struct holm_case", rows)


def main():
    print("/* BEGIN stats_reference.py: /usr/bin/python3 "
          "scripts/peer/stats_reference.py */")
    print(f"/* scipy {scipy.__version__}, statsmodels "
          f"{statsmodels.__version__}, numpy {np.__version__}, mpmath "
          f"{mpmath.__version__} */")
    print()
    mcnemar_rows()
    mwu_rows()
    wilson_rows()
    t_interval_rows()
    distribution_rows()
    holm_rows()
    print("/* END stats_reference.py */")


if __name__ == "__main__":
    main()
