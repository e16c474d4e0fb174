/*
 * bf_report: tables from the store. Reports read only the DB, never the
 * runner's memory. Each row says how its number was obtained (the method
 * column), and a run or case that never finished is shown as "unfinished".
 * Every case of the selected runs appears, including one that failed or was
 * skipped before measuring or was killed while it ran: it has one row with
 * "-" for its metric and statistics.
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
 * Write the latency table of the selected runs to out, one row per
 * aggregate of a case (one row with "-" in metric, unit, n, mean, p50, p90,
 * p99 and method for a case without aggregates), columns: run, status (of
 * the run), case, case status, config, model, weights (random / file),
 * input CxHxW, batch, threads, fold, params, GMACs, metric, unit, n, mean,
 * p50, p90, p99 (in the unit), method. A status "running" prints as
 * "unfinished". CSV adds a case_error column; text and Markdown instead
 * list "run R case I (model): error" under the table for every failed case
 * with an error (Markdown as a list). The metric filter keeps the rows of
 * cases without aggregates. Returns 0, BF_ENOENT when no case matches
 * ("no results for run N", "the DB has no results"), or a store error.
 */
int bf_report_write(struct bf_store *store,
                    const struct bf_report_params *params, FILE *out);

#endif /* BF_REPORT_H */
