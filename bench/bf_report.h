/*
 * bf_report: tables from the store. Reports read only the DB, never the
 * runner's memory. Each row says how its number was obtained (the method
 * column), and a run or case that never finished is shown as "unfinished".
 * Every case of the selected runs appears, including one that failed or was
 * skipped before measuring or was killed while it ran: it has one row with
 * "-" for its results.
 */
#ifndef BF_REPORT_H
#define BF_REPORT_H

#include "bf_store.h"

#include <stdint.h>
#include <stdio.h>

enum bf_report_format {
    BF_REPORT_TEXT, /* aligned columns for a terminal */
    BF_REPORT_CSV,  /* RFC 4180, header row first; tables apart by an
                       empty line */
    BF_REPORT_MARKDOWN
};

struct bf_report_params {
    int64_t run_id; /* 0: every run; see bf_store_last_run for the newest */
    enum bf_report_format format;
    const char *metric; /* only this metric ("e2e"), NULL for all */
};

/*
 * Write the tables of the selected runs to out: the latency table, then
 * the accuracy table; each only when it has rows, separated by an empty
 * line.
 *
 * Latency: one row per aggregate of a case (one row with "-" in metric,
 * unit, n, mean, p50, p90, p99 and method for a case without aggregates),
 * columns: run, status (of the run), case, case status, config, model,
 * weights (random / file), input CxHxW, batch, threads, fold, params,
 * GMACs, metric, unit, n, mean, p50, p90, p99 (in the unit), method. The
 * metric filter applies to this table only and keeps the rows of cases
 * without aggregates.
 *
 * Accuracy, when the selection has accuracy rows: one row per accuracy row
 * (variants in the store's order: fp32, int8, jpeg-q<N> by N), and one row
 * with "-" from variant to vs JPEG for a training case (one with a
 * strategy) without any; columns: run, case, case status, model, strategy,
 * fe (encoder frozen: yes / no), C (bottleneck version:channels, "2:12"),
 * split shape, variant, n, top-1, top-5 (percent, 2 decimals), payload
 * bytes, zstd bytes (means, 1 decimal), vs JPEG (compression against the
 * JPEG reference, "77.5 %"), head params, method; "-" where not recorded.
 * A case without aggregates that this table shows is left out of the
 * latency table.
 *
 * A status "running" prints as "unfinished". CSV adds a case_error column
 * to each table; text and Markdown instead list "run R case I (model):
 * error" once for every failed case with an error, in run and case order,
 * after a blank line under the last table (Markdown as a list). Returns 0,
 * BF_ENOENT when there is nothing to show ("no results for run N", "the
 * DB has no results": no case, or no case with the filtered metric and no
 * accuracy row), BF_EINVAL for an unknown format, or a store error.
 */
int bf_report_write(struct bf_store *store,
                    const struct bf_report_params *params, FILE *out);

#endif /* BF_REPORT_H */
