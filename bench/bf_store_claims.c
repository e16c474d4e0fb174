/*
 * bf_store_claims: the queries of the claims table (bf_store_claims.h).
 * Each is prepared when called: report --paper runs each once.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store_claims.h"

#include "bf_err.h"
#include "bf_store_int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The run selection on a run id column, as SQL. */
static void runs_filter(int64_t run_sel, const char *column, char *out,
                        size_t size)
{
    if (run_sel > 0)
        snprintf(out, size, "%s = %lld", column, (long long)run_sel);
    else if (run_sel == 0)
        snprintf(out, size, "1");
    else
        snprintf(out, size,
                 "%s IN (SELECT max(id) FROM runs GROUP BY scenario_name)",
                 column);
}

/* Prepare sql and bind the strings texts[0..n) as ?1, ?2, ... */
static int prepare(struct bf_store *store, const char *sql,
                   const char *const *texts, int n, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(store->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(store, "claims query");
    for (int i = 0; i < n; i++)
        if (bind_text(*st, i + 1, texts[i]) != SQLITE_OK) {
            int rc = db_fail(store, "claims query");

            sqlite3_finalize(*st);
            return rc;
        }
    return 0;
}

/* After the last step: SQLITE_DONE is success. */
static int finish(struct bf_store *store, sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc == SQLITE_ROW)
        rc = 0; /* stopped early by the caller's rule */
    else if (rc > 0)
        rc = db_fail(store, "claims query");
    sqlite3_finalize(st);
    return rc;
}

static int64_t column_count(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? 0
               : sqlite3_column_int64(st, col);
}

int bf_store_each_run(struct bf_store *store, int64_t run_sel,
                      int (*fn)(const struct bf_run_view *view, void *ctx),
                      void *ctx)
{
    char filter[160], sql[320];
    sqlite3_stmt *st;
    int rc;

    runs_filter(run_sel, "id", filter, sizeof(filter));
    snprintf(sql, sizeof(sql),
             "SELECT id, scenario_name, status FROM runs WHERE %s ORDER BY id",
             filter);
    if ((rc = prepare(store, sql, NULL, 0, &st)))
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_run_view v = {.id = sqlite3_column_int64(st, 0),
                                .scenario_name = column_text(st, 1),
                                .status = column_text(st, 2)};
        int frc = fn(&v, ctx);

        if (frc) {
            sqlite3_finalize(st);
            return frc;
        }
    }
    return finish(store, st, rc);
}

int bf_store_each_teacher_pair(struct bf_store *store, int64_t run_sel,
                               const char *strategy, const char *variants,
                               int (*fn)(const struct bf_teacher_pair_view *v,
                                         void *ctx),
                               void *ctx)
{
    const char *texts[2] = {strategy, variants};
    char filter[160], sql[2048];
    sqlite3_stmt *st;
    int rc;

    runs_filter(run_sel, "c.run_id", filter, sizeof(filter));
    /* The teacher of the student's seed, else (one teacher for every
     * seed) the run's teacher of the model. */
    snprintf(sql, sizeof(sql),
             "SELECT c.run_id, c.model, coalesce(c.dataset, ''), "
             "coalesce(c.bottleneck_channels, 0), c.seed, a.variant, c.id, "
             "tc.id, a.top1, t.top1, a.payload_bytes, a.jpeg_reference_bytes, "
             "coalesce(a.jpeg_reference_quality, 0), a.compression_vs_jpeg, "
             "a.offload_fraction FROM cases c "
             "JOIN accuracy a ON a.case_id = c.id "
             "JOIN cases tc ON tc.run_id = c.run_id AND tc.model = c.model "
             "AND tc.strategy = 'teacher' AND tc.status = 'finished' AND "
             "(tc.seed IS c.seed OR NOT EXISTS (SELECT 1 FROM cases t2 WHERE "
             "t2.run_id = c.run_id AND t2.model = c.model AND t2.strategy = "
             "'teacher' AND t2.status = 'finished' AND t2.seed IS c.seed)) "
             "JOIN accuracy t ON t.case_id = tc.id AND t.variant = 'fp32' "
             "AND t.split = a.split "
             "WHERE c.strategy = ?1 AND a.variant GLOB ?2 AND a.split = "
             "'test' AND c.status = 'finished' AND %s "
             "ORDER BY c.run_id, c.case_index, a.variant, tc.id",
             filter);
    if ((rc = prepare(store, sql, texts, 2, &st)))
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_teacher_pair_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .dataset = column_text(st, 2),
            .bottleneck_channels = sqlite3_column_int(st, 3),
            .seeded = sqlite3_column_type(st, 4) != SQLITE_NULL,
            .seed = (uint64_t)sqlite3_column_int64(st, 4),
            .variant = column_text(st, 5),
            .case_id = sqlite3_column_int64(st, 6),
            .teacher_case_id = sqlite3_column_int64(st, 7),
            .top1 = sqlite3_column_double(st, 8),
            .teacher_top1 = sqlite3_column_double(st, 9),
            .payload_bytes = column_real(st, 10),
            .jpeg_reference_bytes = column_real(st, 11),
            .jpeg_reference_quality = sqlite3_column_int(st, 12),
            .compression_vs_jpeg = column_real(st, 13),
            .offload_fraction = column_real(st, 14),
        };
        int frc = fn(&v, ctx);

        if (frc) {
            sqlite3_finalize(st);
            return frc;
        }
    }
    return finish(store, st, rc);
}

int bf_store_largest_split(struct bf_store *store, int64_t run_sel, int input_h,
                           int (*fn)(const struct bf_split_view *v, void *ctx),
                           void *ctx)
{
    char filter[160], sql[640];
    sqlite3_stmt *st;
    int rc;

    runs_filter(run_sel, "run_id", filter, sizeof(filter));
    snprintf(sql, sizeof(sql),
             "SELECT run_id, model, bottleneck_channels, input_h, split_shape "
             "FROM cases WHERE config = 'bottlefit' AND status = 'finished' "
             "AND input_h = %d AND split_shape IS NOT NULL AND %s ORDER BY "
             "bottleneck_channels DESC, run_id DESC, model LIMIT 1",
             input_h, filter);
    if ((rc = prepare(store, sql, NULL, 0, &st)))
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        struct bf_split_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .bottleneck_channels = sqlite3_column_int(st, 2),
            .input_h = sqlite3_column_int(st, 3),
            .split_shape = column_text(st, 4),
        };

        rc = fn(&v, ctx);
        sqlite3_finalize(st);
        return rc;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return BF_ENOENT;
    }
    return finish(store, st, rc);
}

int bf_store_each_device_pair(struct bf_store *store, int64_t run_sel,
                              const char *base, const char *device_glob,
                              int (*fn)(const struct bf_device_pair_view *v,
                                        void *ctx),
                              void *ctx)
{
    const char *texts[2] = {base, device_glob};
    char filter[160], sql[2400];
    sqlite3_stmt *st;
    int rc;

    runs_filter(run_sel, "cb.run_id", filter, sizeof(filter));
    snprintf(sql, sizeof(sql),
             "SELECT cb.run_id, cb.model, coalesce(cb.bottleneck_channels, 0), "
             "db.device, cb.link_rate_mbps, db.avg_power_mw, dx.avg_power_mw, "
             "db.e2e_ms, dx.e2e_ms, db.latency_method GLOB 'modeled*' OR "
             "dx.latency_method GLOB 'modeled*', db.power_method GLOB "
             "'modeled*' OR dx.power_method GLOB 'modeled*', "
             "db.avg_power_lo_mw, dx.avg_power_lo_mw, db.avg_power_hi_mw, "
             "dx.avg_power_hi_mw, db.e2e_lo_ms, dx.e2e_lo_ms, db.e2e_hi_ms, "
             "dx.e2e_hi_ms, db.runtime "
             "FROM cases cb JOIN device_results db ON db.case_id = cb.id "
             "JOIN cases cx ON cx.run_id = cb.run_id AND cx.model = cb.model "
             "AND cx.config = ?1 AND cx.status = 'finished' AND cx.batch = "
             "cb.batch AND (?1 = 'local' OR (cx.link_rate_mbps IS "
             "cb.link_rate_mbps AND cx.background_clients IS "
             "cb.background_clients)) AND (?1 <> 'ae-split' OR "
             "cx.bottleneck_channels IS cb.bottleneck_channels) "
             "JOIN device_results dx ON dx.case_id = cx.id AND dx.device = "
             "db.device "
             "WHERE cb.config = 'bottlefit' AND cb.status = 'finished' AND "
             "db.device GLOB ?2 AND %s "
             "ORDER BY cb.run_id, cb.case_index, db.device",
             filter);
    if ((rc = prepare(store, sql, texts, 2, &st)))
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_device_pair_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .bottleneck_channels = sqlite3_column_int(st, 2),
            .device = column_text(st, 3),
            .link_rate_mbps = column_real(st, 4),
            .power_mw = column_real(st, 5),
            .base_power_mw = column_real(st, 6),
            .e2e_ms = column_real(st, 7),
            .base_e2e_ms = column_real(st, 8),
            .latency_modeled = sqlite3_column_int(st, 9),
            .power_modeled = sqlite3_column_int(st, 10),
            .power_lo_mw = column_real(st, 11),
            .base_power_lo_mw = column_real(st, 12),
            .power_hi_mw = column_real(st, 13),
            .base_power_hi_mw = column_real(st, 14),
            .e2e_lo_ms = column_real(st, 15),
            .base_e2e_lo_ms = column_real(st, 16),
            .e2e_hi_ms = column_real(st, 17),
            .base_e2e_hi_ms = column_real(st, 18),
            .runtime = sqlite3_column_type(st, 19) == SQLITE_NULL
                           ? NULL
                           : column_text(st, 19),
        };
        int frc = fn(&v, ctx);

        if (frc) {
            sqlite3_finalize(st);
            return frc;
        }
    }
    return finish(store, st, rc);
}

int bf_store_each_head_pair(struct bf_store *store, int64_t run_sel,
                            int (*fn)(const struct bf_head_pair_view *v,
                                      void *ctx),
                            void *ctx)
{
    char filter[160], sql[1400];
    sqlite3_stmt *st;
    int rc;

    runs_filter(run_sel, "cb.run_id", filter, sizeof(filter));
    snprintf(sql, sizeof(sql),
             "SELECT cb.run_id, cb.model, coalesce(cb.bottleneck_channels, "
             "0), max(cb.head_params), max(cx.head_params) FROM cases cb "
             "JOIN cases cx ON cx.run_id = cb.run_id AND cx.model = cb.model "
             "AND cx.bottleneck_channels IS cb.bottleneck_channels AND "
             "(cx.strategy IS NULL) = (cb.strategy IS NULL) AND "
             "coalesce(cx.strategy, cx.config) = 'ae-split' AND cx.status = "
             "'finished' AND cx.head_params > 0 "
             "WHERE coalesce(cb.strategy, cb.config) = 'bottlefit' AND "
             "cb.status = 'finished' AND cb.head_params > 0 AND %s "
             "GROUP BY cb.run_id, cb.model, cb.bottleneck_channels "
             "ORDER BY cb.run_id, cb.model, cb.bottleneck_channels",
             filter);
    if ((rc = prepare(store, sql, NULL, 0, &st)))
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bf_head_pair_view v = {
            .run_id = sqlite3_column_int64(st, 0),
            .model = column_text(st, 1),
            .bottleneck_channels = sqlite3_column_int(st, 2),
            .bottlefit_params = column_count(st, 3),
            .ae_params = column_count(st, 4),
        };
        int frc = fn(&v, ctx);

        if (frc) {
            sqlite3_finalize(st);
            return frc;
        }
    }
    return finish(store, st, rc);
}
