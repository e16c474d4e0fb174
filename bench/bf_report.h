/*
 * bf_report: tables from the store. Reports read only the DB, never the
 * runner's memory. Each row says how its number was obtained (the method
 * column), and a run that never finished is shown as "unfinished".
 */
#ifndef BF_REPORT_H
#define BF_REPORT_H

#include "bf_store.h"

#include <stdint.h>
#include <stdio.h>

enum bf_report_format {
    BF_REPORT_TEXT, /* aligned columns for a terminal */
    BF_REPORT_CSV,  /* RFC 4180, header row first */
    BF_REPORT_MARKDOWN
};

struct bf_report_params {
    int64_t run_id; /* 0: every run; see bf_store_last_run for the newest */
    enum bf_report_format format;
    const char *metric; /* only this metric ("e2e"), NULL for all */
};

/*
 * Write the latency table of the selected runs to out: run, status, case,
 * config, model, weights (random / file), input CxHxW, batch, threads,
 * fold, params, GMACs, metric, n, mean, p50, p90, p99 (ms), method.
 * Returns 0, BF_ENOENT when nothing matches, or a store error.
 */
int bf_report_write(struct bf_store *store,
                    const struct bf_report_params *params, FILE *out);

#endif /* BF_REPORT_H */
