/*
 * bf_compare: a results DB (or one run of it) against a baseline, for CI
 * regression checks (`bfbench compare BASE NEW`).
 *
 * Matching. Cases are matched across the two DBs by cases.case_hash (schema
 * version 6: the SHA-256 of the case's scenario settings and matrix point,
 * so the same scenario file gives the same hashes in any DB). A side is
 * every run of its DB, or one run: over every run, each hash is the newest
 * complete (finished or skipped) case of that hash, else the newest case of
 * any status; with a run, only that run's cases. Cases without a hash
 * (recorded before schema 6) cannot be matched: they are counted and named
 * in a warning, never compared. A BASE case that NEW lacks is a regression;
 * a NEW case that BASE lacks is listed, not a failure.
 *
 * What is compared, per matched case:
 *
 *   exact     must be equal: integers exactly, reals within a relative
 *             BF_COMPARE_EXACT_REL (1e-9; NULL equals only NULL). The case
 *             status (finished in BASE, anything else in NEW is a
 *             regression; when BASE did not finish, nothing else of the
 *             case is compared); the case's shape (params, MACs, head
 *             params, MACs and bytes, split shape, input CxHxW, intra-op
 *             threads: `run --threads` overrides them outside the case
 *             hash, and trained results depend on them); every
 *             accuracy row (n, top-1, top-5, payload and zstd bytes,
 *             transmitted and input elements, JPEG reference bytes,
 *             offloaded share, device MACs), a row missing in NEW too; the
 *             number of timed requests and their bytes up and down,
 *             request by request; the aggregates with unit "bytes" (n,
 *             mean, min, max); each training epoch's learning rate, loss,
 *             validation top-1 and best flag; and a device's head time
 *             when both sides modeled it (latency_method "modeled:...": a
 *             pure function of the layers and the profile). A metric that
 *             one side has and the other lacks differs.
 *   timed     the p50 of every aggregate with a time unit (ns, us, ms, s),
 *             in ms, as the ratio NEW / BASE; and training throughput (the
 *             mean images/s of each phase), as the ratio BASE / NEW, so
 *             that above 1 is slower in both. Slower when the ratio exceeds
 *             the tolerance and the p50 grew by more than the floor (a
 *             microsecond stage doubling is noise); faster (reported, never
 *             a failure) when the ratio is below 1 / tolerance by more than
 *             the floor.
 *   ignored   everything that depends on the host or the clock and is not
 *             a timing: other counted aggregates (busy_retries), measured
 *             device numbers, energies, methods (they hold paths), run
 *             provenance. A device head time measured on either side is
 *             not compared.
 *
 * Results depend on the CPU's floating-point kernels: a baseline made on
 * another CPU may differ in trained accuracies. The CPUs of both sides are
 * logged (info) and a difference is warned about.
 *
 * Output: one table row per exact metric that differs and per timed metric
 * (columns case, hash, metric, base, new, change, verdict), then, in text
 * and Markdown, the summary line of bf_compare_summary_line(). Provenance
 * (paths, runs, CPUs) goes to the log, so that the table holds nothing that
 * changes between two comparisons of the same DBs.
 *
 * The DBs are opened without SQLITE_OPEN_CREATE and with query_only on,
 * with their own queries rather than through bf_store (which creates and
 * migrates): a baseline is never modified, whatever its schema version.
 */
#ifndef BF_COMPARE_H
#define BF_COMPARE_H

#include "bf_report.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Relative tolerance of exact real comparisons. */
#define BF_COMPARE_EXACT_REL 1e-9
/* Default timing tolerance (ratio) and floor (ms). */
#define BF_COMPARE_TOLERANCE 1.3
#define BF_COMPARE_FLOOR_MS 0.05

/* Which run of the DB: every run, its newest, or one by id (> 0). */
#define BF_COMPARE_ALL_RUNS 0
#define BF_COMPARE_LAST_RUN (-1)

/* One side of a comparison. */
struct bf_compare_side {
    const char *path; /* results DB file */
    int64_t run_id;   /* BF_COMPARE_ALL_RUNS, BF_COMPARE_LAST_RUN or an id */
};

struct bf_compare_params {
    struct bf_compare_side base;      /* BASE: the baseline */
    struct bf_compare_side candidate; /* NEW: what is checked */
    double time_tolerance;            /* ratio above which it is slower */
    double time_floor_ms;             /* smaller p50 changes are noise */
    enum bf_report_format format;
};

/* Counts of one comparison. */
struct bf_compare_summary {
    size_t matched;       /* cases in both */
    size_t missing;       /* BASE cases NEW lacks */
    size_t new_only;      /* NEW cases BASE lacks */
    size_t base_unhashed; /* cases without a hash, not compared */
    size_t new_unhashed;
    size_t exact_equal; /* exact metrics */
    size_t exact_differ;
    size_t timings_within; /* timed metrics */
    size_t timings_slower;
    size_t timings_faster;
    int regression; /* 1: exact_differ, timings_slower or missing > 0 */
};

/*
 * Compare params->candidate against params->base and write the table (and
 * in text and Markdown the summary line) to out; *summary gets the counts.
 * Returns 0 whether or not there is a regression (see summary->regression),
 * or: BF_ENOENT when a DB file or the named run does not exist, or BASE has
 * no case with a hash; BF_EPARSE when a file is not a bfbench results DB;
 * BF_EVERSION when its schema is newer than this build's; BF_EINVAL for
 * bad parameters; BF_EDB, BF_ENOMEM. Messages name the side ("BASE",
 * "NEW") and the file.
 */
int bf_compare_write(const struct bf_compare_params *params, FILE *out,
                     struct bf_compare_summary *summary);

/*
 * The summary as one line, without a newline: "compare: N cases matched, X
 * exact metrics equal, Y differ, Z timings within 1.3x, W slower, V
 * faster; result: PASS" (or REGRESSION), with ", M missing" and ", K new"
 * after the cases when there are any. Truncated to size.
 */
void bf_compare_summary_line(const struct bf_compare_summary *summary,
                             double time_tolerance, char *buf, size_t size);

#endif /* BF_COMPARE_H */
