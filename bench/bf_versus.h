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
    int64_t run_id; /* 0: every run */
    const char *a;  /* strategy A ("bottlefit") */
    const char *b;  /* strategy B ("naive") */
    enum bf_report_format format;
};

/* Write the table (text, CSV or Markdown) to out; BF_ENOENT naming both
 * strategies when no configuration has both. */
int bf_versus_write(struct bf_store *store, const struct bf_versus_params *p,
                    FILE *out);

#endif /* BF_VERSUS_H */
