/*
 * bf_versus: "does strategy A beat strategy B at each C?" (`bfbench report
 * --versus A B`). For every model, bottleneck channels C and accuracy
 * variant that both strategies were evaluated at in the selected run(s),
 * the difference of test top-1 A - B in points, its 95 % interval and a
 * paired test:
 *
 *   seeds   two or more seeds on both sides, paired by seed: the mean of
 *           the per-seed differences, its Student t interval and the paired
 *           t test (scipy.stats.ttest_rel);
 *   images  one seed: McNemar's exact test on the images one model got
 *           right and the other wrong (the same test items, per-image
 *           results stored), with the Wald interval of a paired difference
 *           of proportions, (b - c) / n +/- z sqrt(b + c - (b - c)^2 / n) / n;
 *   -       neither (no per-image results, other items): the difference
 *           alone, no test.
 *
 * Beside each pair: the bytes each side sends per image (the variant's
 * payload: an int8 bottleneck's, or fp32's) and each head's parameters,
 * "-" where they do not apply (no split).
 *
 * Comparisons stay inside a run where one run holds both strategies'
 * configuration (a run is one budget: the paper's epochs and an equal
 * budget are never pooled), one row per such run (column `run`); where no
 * run holds both (the strategies come from different scenarios, as in
 * the paper suite), the runs selected are pooled (`run` A+B).
 *
 * With match_bytes, each A configuration meets instead the B
 * configuration (of each B strategy) of the same model and variant whose
 * bytes per image are nearest its own, ties to the fewer bytes (column
 * `B C`): a comparison at (about) equal bytes where the two strategies
 * send other tensor shapes at the same C (the autoencoder split's C x 10 x
 * 10 against BottleFit's C x 8 x 8); rows without a payload are left out.
 *
 * Cases are matched on model, C, variant and split "test"; a strategy
 * without a bottleneck version (the autoencoder split) matches any
 * version. Only finished cases count.
 */
#ifndef BF_VERSUS_H
#define BF_VERSUS_H

#include "bf_report.h"
#include "bf_store.h"

#include <stdint.h>
#include <stdio.h>

struct bf_versus_params {
    /* 0: every run; -1: the newest run of each scenario name */
    int64_t run_id;
    const char *a; /* strategy A ("bottlefit") */
    const char *b; /* strategy B ("naive"); NULL: every other but teacher */
    /* > 0: that side's rows come from this run only (`--versus
     * bottlefit@1 naive@2`: an equal-budget member whose baselines are in
     * another run than the BottleFit cases they are compared with). The
     * two runs are then pooled as "1+2". 0: any run selected. */
    int64_t a_run, b_run;
    /* 1: pair A with B's configuration of nearest bytes per image
     * (`--match bytes`) instead of the same C */
    int match_bytes;
    enum bf_report_format format;
};

/* One member of a side of a paired comparison: an accuracy row. */
struct bf_paired_member {
    int64_t case_id;
    const char *variant; /* of the accuracy row (its per-image bits) */
    int seeded;
    uint64_t seed;
    double top1; /* % */
};

/* A - B over the pairs, in points; NaN where there is none. */
struct bf_paired_result {
    size_t pairs;
    double a_mean, b_mean; /* top-1 % over the pairs */
    double diff, lo, hi;   /* the difference and its 95 % interval */
    double p;              /* two-sided p of the test */
    const char *test;      /* "paired t", "McNemar" or "-" (static) */
};

/*
 * Pair a[0..na) with b[0..nb) by seed (with shared, a lone member on
 * either side pairs with every member of the other: a teacher that every
 * seed shares) and test A - B as described above: two or more pairs the
 * paired t test, one pair McNemar's exact test on the per-image bits
 * (no test when the two rows have no bits of the same items).
 */
int bf_versus_paired(struct bf_store *store, const struct bf_paired_member *a,
                     size_t na, const struct bf_paired_member *b, size_t nb,
                     int shared, struct bf_paired_result *out);

/* Write the table (text, CSV or Markdown) to out; BF_ENOENT naming both
 * strategies when no configuration has both. */
int bf_versus_write(struct bf_store *store, const struct bf_versus_params *p,
                    FILE *out);

#endif /* BF_VERSUS_H */
