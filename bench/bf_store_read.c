/*
 * bf_store_read: the store's readers of results (runs, cases, samples,
 * per-image predictions, accuracy and its seed groups, device rows). See
 * bf_store.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store_int.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reading back */

int bf_store_case_samples(struct bf_store *store, int64_t case_id,
                          const char *metric, double **out, size_t *n)
{
    sqlite3_stmt *st = store->case_samples;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, metric);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading samples");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue; /* not a per-request stage, or not measured */
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            double *grown = realloc(*out, ncap * sizeof(*grown));

            if (!grown) {
                rc = bf_err_set(BF_ENOMEM, "%zu samples", ncap);
                goto out_reset;
            }
            *out = grown;
            cap = ncap;
        }
        (*out)[(*n)++] = (double)sqlite3_column_int64(st, 0) / 1e6;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading samples");
out_reset:
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    stmt_done(st);
    return rc;
}

int bf_store_prediction_bits(struct bf_store *store, int64_t case_id,
                             const char *variant, const char *split,
                             struct bf_prediction_bits *out)
{
    sqlite3_stmt *st = store->prediction_bits;
    const void *blob;
    size_t bytes;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, variant);
    rc = rc ? rc : bind_text(st, 3, split);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading predictions");
        goto out_reset;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = BF_ENOENT; /* none kept: no detail, not an error to report */
        goto out_reset;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "reading predictions");
        goto out_reset;
    }
    out->n = sqlite3_column_int64(st, 0);
    snprintf(out->items_sha256, sizeof(out->items_sha256), "%s",
             column_text(st, 1));
    blob = sqlite3_column_blob(st, 2);
    bytes = (size_t)sqlite3_column_bytes(st, 2);
    if (out->n < 0 || bytes != ((size_t)out->n + 7) / 8) {
        rc = bf_err_set(BF_EPARSE,
                        "%s: case %lld %s: %zu bytes of top-1 bits for %lld "
                        "images",
                        store->path, (long long)case_id, variant, bytes,
                        (long long)out->n);
        goto out_reset;
    }
    out->top1 = malloc(bytes ? bytes : 1);
    if (!out->top1) {
        rc = bf_err_set(BF_ENOMEM, "%zu bytes", bytes);
        goto out_reset;
    }
    if (bytes)
        memcpy(out->top1, blob, bytes);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_artifact(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t case_id,
                                     const struct bf_artifact_row *row,
                                     void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = store->artifacts_of_run;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading artifacts");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_artifact_row row = {
            .kind = (const char *)sqlite3_column_text(st, 1),
            .path = (const char *)sqlite3_column_text(st, 2),
            .sha256 = (const char *)sqlite3_column_text(st, 3),
            .bytes = sqlite3_column_int64(st, 4)};

        rc = fn(sqlite3_column_int64(st, 0), &row, ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading artifacts");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_platform(struct bf_store *store, int64_t run_id,
                           int (*fn)(int64_t run_id, const char *platform,
                                     const char *sha256, void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = store->run_platforms;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "reading platforms");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "reading platforms");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_last_run(struct bf_store *store, int64_t *run_id)
{
    sqlite3_stmt *st = store->last_run;
    int rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "finding the newest run");
        goto out_reset;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        rc = bf_err_set(BF_ENOENT, "%s: the DB has no runs", store->path);
        goto out_reset;
    }
    *run_id = sqlite3_column_int64(st, 0);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_run_of_scenario(struct bf_store *store, const char *sha256,
                             int64_t *run_id)
{
    sqlite3_stmt *st = store->run_by_sha;
    int rc = bind_text(st, 1, sha256);

    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "finding the last run of a scenario");
        goto out_reset;
    }
    rc = 0;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        rc = BF_ENOENT; /* not an error: no detail */
    else
        *run_id = sqlite3_column_int64(st, 0);
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_case_complete(struct bf_store *store, int64_t run_id,
                           const char *case_hash, int *complete)
{
    sqlite3_stmt *st = store->case_complete;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    rc = rc ? rc : bind_text(st, 2, case_hash);
    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "looking up a case of run %lld", (long long)run_id);
    } else {
        *complete = sqlite3_column_int64(st, 0) > 0;
        rc = 0;
    }
    stmt_done(st);
    return rc;
}

int bf_store_each_result(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_result_view *row, void *ctx),
                         void *ctx)
{
    sqlite3_stmt *st = run_id ? store->results_run : store->results_all;
    struct bf_result_view v;
    int rc = 0;
    int step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (run_id && sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the results of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.run_status = column_text(st, 1);
        v.case_id = sqlite3_column_int64(st, 2);
        v.case_index = sqlite3_column_int(st, 3);
        v.case_status = column_text(st, 4);
        v.config = column_text(st, 5);
        v.model = column_text(st, 6);
        v.weights = column_text(st, 7);
        v.input_channels = sqlite3_column_int(st, 8);
        v.input_h = sqlite3_column_int(st, 9);
        v.input_w = sqlite3_column_int(st, 10);
        v.batch = sqlite3_column_int(st, 11);
        v.threads = sqlite3_column_int(st, 12);
        v.fold_bn = sqlite3_column_int(st, 13);
        v.channels_last = sqlite3_column_int(st, 14);
        v.params = sqlite3_column_int64(st, 15);
        v.macs = sqlite3_column_int64(st, 16);
        v.metric = column_text(st, 17);
        v.unit = column_text(st, 18);
        v.method = column_text(st, 19);
        /* aggregates.metric is NOT NULL: NULL means no aggregate, whose
         * statistics stay 0 rather than reading as missing (NaN). */
        if (sqlite3_column_type(st, 17) != SQLITE_NULL) {
            v.stats.n = (size_t)sqlite3_column_int64(st, 20);
            v.stats.mean = column_real(st, 21);
            v.stats.stddev = column_real(st, 22);
            v.stats.min = column_real(st, 23);
            v.stats.p50 = column_real(st, 24);
            v.stats.p90 = column_real(st, 25);
            v.stats.p99 = column_real(st, 26);
            v.stats.max = column_real(st, 27);
        }
        v.case_error = column_text(st, 28);
        v.link = column_text(st, 29);
        v.link_rate_mbps = sqlite3_column_type(st, 30) == SQLITE_NULL
                               ? -1
                               : sqlite3_column_double(st, 30);
        v.link_rtt_ms = sqlite3_column_type(st, 31) == SQLITE_NULL
                            ? -1
                            : sqlite3_column_double(st, 31);
        v.background_clients = sqlite3_column_int(st, 32);
        v.precision = column_text(st, 33);
        v.device = column_text(st, 34);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading results");
out_reset:
    stmt_done(st);
    return rc;
}

/* An optional number read back: SQL NULL reads as absent. */
static int64_t column_int64_or(sqlite3_stmt *stmt, int col, int64_t absent)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_int64(stmt, col);
}

static double column_real_or(sqlite3_stmt *stmt, int col, double absent)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_double(stmt, col);
}

/* The count values (at most max) of a space-separated list into v. */
static size_t parse_reals(const char *text, double *v, size_t max)
{
    size_t n = 0;
    char *end;

    while (text && *text && n < max) {
        double x = strtod(text, &end);

        if (end == text)
            break;
        v[n++] = x;
        text = end;
    }
    return n;
}

int bf_store_each_seed_group(struct bf_store *store, int64_t run_id,
                             int (*fn)(const struct bf_seed_group_view *view,
                                       void *ctx),
                             void *ctx)
{
    sqlite3_stmt *st = store->seed_groups;
    double *v1 = NULL, *v5 = NULL;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    if (rc != SQLITE_OK) {
        rc = db_fail(store, "grouping accuracies across seeds");
        goto out_reset;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_seed_group_view g = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .strategy = column_text(st, 2),
            .freeze_encoder = sqlite3_column_int(st, 3),
            .bottleneck_version = sqlite3_column_int(st, 4),
            .bottleneck_channels = sqlite3_column_int(st, 5),
            .variant = column_text(st, 6),
            .split = column_text(st, 7),
            .seeds = (size_t)sqlite3_column_int64(st, 8),
            .n_min = sqlite3_column_int64(st, 9),
            .n_max = sqlite3_column_int64(st, 10)};
        size_t n1, n5;

        free(v1);
        free(v5);
        v1 = malloc(g.seeds * sizeof(*v1));
        v5 = malloc(g.seeds * sizeof(*v5));
        if (!v1 || !v5) {
            rc = bf_err_set(BF_ENOMEM, "%zu seeds", g.seeds);
            goto out_reset;
        }
        n1 = parse_reals(column_text(st, 11), v1, g.seeds);
        n5 = parse_reals(column_text(st, 12), v5, g.seeds);
        if (n1 != g.seeds || n5 != g.seeds) {
            rc = bf_err_set(BF_EPARSE,
                            "%s: run %lld: %s %s: %zu seeds but %zu "
                            "accuracies",
                            store->path, (long long)g.run_id, g.model,
                            g.strategy, g.seeds, n1);
            goto out_reset;
        }
        if ((rc = bf_stats_t_interval(v1, n1, 0.95, &g.top1_mean,
                                      &g.top1_half)) ||
            (rc =
                 bf_stats_t_interval(v5, n5, 0.95, &g.top5_mean, &g.top5_half)))
            goto out_reset;
        for (size_t i = 0; i < n1; i++)
            g.top1_sd += (v1[i] - g.top1_mean) * (v1[i] - g.top1_mean);
        g.top1_sd = sqrt(g.top1_sd / (double)(n1 - 1));
        rc = fn(&g, ctx);
        if (rc)
            goto out_reset;
    }
    rc = rc == SQLITE_DONE ? 0
                           : db_fail(store, "grouping accuracies across seeds");
out_reset:
    free(v1);
    free(v5);
    stmt_done(st);
    return rc;
}

int bf_store_each_accuracy(struct bf_store *store, int64_t run_id,
                           int (*fn)(const struct bf_accuracy_view *view,
                                     void *ctx),
                           void *ctx)
{
    sqlite3_stmt *st = run_id ? store->accuracy_run : store->accuracy_all;
    struct bf_accuracy_view v;
    int rc = 0;
    int step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (run_id && sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the accuracy of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.run_status = column_text(st, 1);
        v.case_id = sqlite3_column_int64(st, 2);
        v.case_index = sqlite3_column_int(st, 3);
        v.case_status = column_text(st, 4);
        v.case_error = column_text(st, 5);
        v.model = column_text(st, 6);
        v.strategy = column_text(st, 7);
        v.freeze_encoder = (int)column_int64_or(st, 8, -1);
        v.bottleneck_version = (int)column_int64_or(st, 9, 0);
        v.bottleneck_channels = (int)column_int64_or(st, 10, 0);
        v.split_shape = column_text(st, 11);
        v.head_params = column_int64_or(st, 12, -1);
        v.head_macs = column_int64_or(st, 13, -1);
        v.head_bytes = column_int64_or(st, 14, -1);
        v.dataset = column_text(st, 15);
        v.acc.variant = column_text(st, 16);
        v.acc.split = column_text(st, 17);
        v.acc.method = column_text(st, 27);
        /* accuracy.variant is NOT NULL: NULL means no accuracy row, whose
         * numbers stay 0 rather than reading as n/a. */
        if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
            v.acc.n = sqlite3_column_int64(st, 18);
            v.acc.top1 = column_real(st, 19);
            v.acc.top5 = column_real(st, 20);
            v.acc.payload_bytes = column_real_or(st, 21, -1);
            v.acc.payload_zstd_bytes = column_real_or(st, 22, -1);
            v.acc.transmitted_elements = column_real_or(st, 23, -1);
            v.acc.input_elements = column_real_or(st, 24, -1);
            v.acc.jpeg_reference_bytes = column_real_or(st, 25, -1);
            v.acc.jpeg_reference_quality = (int)column_int64_or(st, 26, 0);
            v.acc.exit_rule = sqlite3_column_type(st, 30) != SQLITE_NULL;
            v.acc.offload_fraction = column_real_or(st, 30, -1);
            v.acc.device_macs = column_real_or(st, 31, -1);
        }
        v.compression_vs_jpeg = column_real(st, 28);
        v.element_ratio = column_real(st, 29);
        v.seeded = sqlite3_column_type(st, 32) != SQLITE_NULL;
        v.seed = (uint64_t)sqlite3_column_int64(st, 32);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading accuracy results");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_count_samples(struct bf_store *store, int64_t case_id,
                           int64_t *count)
{
    sqlite3_stmt *st = store->count_samples;
    int rc = sqlite3_bind_int64(st, 1, case_id);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "counting the samples of case %lld",
                     (long long)case_id);
        goto out_reset;
    }
    *count = sqlite3_column_int64(st, 0);
    rc = 0;
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_device(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_device_view *view,
                                   void *ctx),
                         void *ctx)
{
    sqlite3_stmt *st = store->devices_run;
    struct bf_device_view v;
    int rc = 0, step;

    if (run_id < 0)
        return bf_err_set(BF_EINVAL, "run id %lld is negative",
                          (long long)run_id);
    if (sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        rc = db_fail(store, "selecting the devices of run %lld",
                     (long long)run_id);
        goto out_reset;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&v, 0, sizeof(v));
        v.run_id = sqlite3_column_int64(st, 0);
        v.case_index = sqlite3_column_int(st, 1);
        v.config = column_text(st, 2);
        v.model = column_text(st, 3);
        v.link_rate_mbps = column_real(st, 4);
        v.bottleneck_channels = (int)column_int64_or(st, 5, 0);
        v.row.device = column_text(st, 6);
        v.row.role = column_text(st, 7);
        v.row.latency_method = column_text(st, 8);
        v.row.power_method = column_text(st, 9);
        v.row.radio = column_text(st, 10);
        v.row.requests = sqlite3_column_int64(st, 11);
        v.row.host_head_ms = column_real(st, 12);
        v.row.head_ms = column_real(st, 13);
        v.row.encode_ms = column_real(st, 14);
        v.row.transfer_ms = column_real(st, 15);
        v.row.server_ms = column_real(st, 16);
        v.row.e2e_ms = column_real(st, 17);
        v.row.e2e_mean_ms = column_real(st, 18);
        v.row.e2e_p90_ms = column_real(st, 19);
        v.row.avg_power_mw = column_real(st, 20);
        v.row.avg_power_above_idle_mw = column_real(st, 21);
        v.row.energy_mj = column_real(st, 22);
        v.row.energy_above_idle_mj = column_real(st, 23);
        v.background_clients = (int)column_int64_or(st, 24, 0);
        v.case_status = column_text(st, 25);
        v.row.runtime = sqlite3_column_type(st, 26) == SQLITE_NULL
                            ? NULL
                            : column_text(st, 26);
        v.row.head_lo_ms = column_real(st, 27);
        v.row.head_hi_ms = column_real(st, 28);
        v.row.e2e_lo_ms = column_real(st, 29);
        v.row.e2e_hi_ms = column_real(st, 30);
        v.row.avg_power_lo_mw = column_real(st, 31);
        v.row.avg_power_hi_mw = column_real(st, 32);
        v.row.energy_lo_mj = column_real(st, 33);
        v.row.energy_hi_mj = column_real(st, 34);
        rc = fn(&v, ctx);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(store, "reading device results");
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_each_resume(struct bf_store *store, int64_t run_id,
                         int (*fn)(const struct bf_resume_view *v, void *ctx),
                         void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(
            store->db,
            "SELECT r.run_id, r.resumed_at, r.host, r.cpu_model, "
            "r.git_commit, r.git_dirty, coalesce(r.platform_sha256, ''), "
            "r.cases_kept, r.cases_dropped, (SELECT count(*) FROM cases c "
            "WHERE c.resume_id = r.id) FROM resumes r WHERE ?1 = 0 OR "
            "r.run_id = ?1 ORDER BY r.run_id, r.id",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(store, "reading the resumes");
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_resume_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .resumed_at = (const char *)sqlite3_column_text(st, 1),
            .host = (const char *)sqlite3_column_text(st, 2),
            .cpu_model = (const char *)sqlite3_column_text(st, 3),
            .git_commit = (const char *)sqlite3_column_text(st, 4),
            .git_dirty = sqlite3_column_int(st, 5),
            .platform_sha256 = (const char *)sqlite3_column_text(st, 6),
            .kept = sqlite3_column_int64(st, 7),
            .dropped = sqlite3_column_int64(st, 8),
            .recorded = sqlite3_column_int64(st, 9)};

        rc = fn(&v, ctx);
        if (rc)
            break;
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = db_fail(store, "reading the resumes");
    sqlite3_finalize(st);
    return rc;
}
