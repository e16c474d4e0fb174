/*
 * bf_store_int.h: what the store's files share (bf_store.c: schema, open and
 * close; bf_store_write.c: the writes; bf_store_read.c: the readers of
 * results; bf_store_claims.c, bf_store_figures.c and bf_store_compare.c: the
 * queries of report --paper, plot and compare). Private to
 * bench/bf_store*.c: nothing else includes it.
 *
 * Every statement of STMT_LIST is prepared once when the store opens and
 * reset and unbound after each use (stmt_done).
 */
#ifndef BF_STORE_INT_H
#define BF_STORE_INT_H

#include "bf_err.h"
#include "bf_store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>

/* Room for a UTC ISO 8601 time (bf_clock). */
#define ISO_TIME_SIZE 32
/*
 * The columns every result query returns, in bf_result_view order, then
 * cases.error. Cases LEFT JOIN aggregates, so that a case without
 * aggregates still yields one row (with a NULL metric).
 */
#define RESULT_COLUMNS                                                         \
    "SELECT r.id, r.status, c.id, c.case_index, c.status, c.config, "          \
    "c.model, c.weights, c.input_channels, c.input_h, c.input_w, c.batch, "    \
    "c.threads, c.fold_bn, c.channels_last, c.params, c.macs, a.metric, "      \
    "a.unit, a.method, a.n, a.mean, a.stddev, a.min, a.p50, a.p90, a.p99, "    \
    "a.max, c.error, c.link, c.link_rate_mbps, c.link_rtt_ms, "                \
    "c.background_clients, coalesce(c.precision, 'fp32'), "                    \
    "coalesce(c.device, 'cpu') FROM cases c JOIN "                             \
    "runs r ON r.id = c.run_id "                                               \
    "LEFT JOIN aggregates a ON a.case_id = c.id "
#define RESULT_ORDER " ORDER BY r.id, c.case_index, c.id, a.metric"

/*
 * The columns every accuracy query returns, in bf_accuracy_view order.
 * Cases LEFT JOIN accuracy, keeping a case without accuracy rows only when
 * it recorded a strategy (a training case that failed or was killed).
 */
#define ACCURACY_COLUMNS                                                       \
    "SELECT r.id, r.status, c.id, c.case_index, c.status, c.error, c.model, "  \
    "c.strategy, c.freeze_encoder, c.bottleneck_version, "                     \
    "c.bottleneck_channels, c.split_shape, c.head_params, c.head_macs, "       \
    "c.head_bytes, c.dataset, a.variant, a.split, a.n, a.top1, a.top5, "       \
    "a.payload_bytes, a.payload_zstd_bytes, a.transmitted_elements, "          \
    "a.input_elements, a.jpeg_reference_bytes, a.jpeg_reference_quality, "     \
    "a.method, a.compression_vs_jpeg, a.element_ratio, a.offload_fraction, "   \
    "a.device_macs, c.seed FROM cases c "                                      \
    "JOIN runs r ON r.id = c.run_id "                                          \
    "LEFT JOIN accuracy a ON a.case_id = c.id "                                \
    "WHERE (a.case_id IS NOT NULL OR c.strategy IS NOT NULL) "
/* "jpeg-q" followed by digits only. */
#define JPEG_VARIANT                                                           \
    "(a.variant GLOB 'jpeg-q[0-9]*' AND "                                      \
    "substr(a.variant, 7) NOT GLOB '*[^0-9]*')"
/* Variants in reading order: fp32, int8, jpeg-q<N> by N, then by name. */
#define ACCURACY_ORDER                                                         \
    " ORDER BY r.id, c.case_index, c.id, CASE WHEN a.variant = 'fp32' THEN 0 " \
    "WHEN a.variant = 'int8' THEN 1 WHEN " JPEG_VARIANT " THEN 2 ELSE 3 END, " \
    "CASE WHEN " JPEG_VARIANT " THEN CAST(substr(a.variant, 7) AS INTEGER) "   \
    "END, a.variant, a.split"

/*
 * A run's platform fingerprint as comparisons and merges read it: its
 * row's platform_sha256 ("" when none), or "mixed" when a resume of it on
 * another platform recorded cases (schema version 14). db is "" or a
 * schema prefix such as "src.", run the runs table's name or alias.
 */
#define RUN_PLATFORM_SHA(db, run)                                              \
    "CASE WHEN EXISTS (SELECT 1 FROM " db "resumes s JOIN " db "cases k ON "   \
    "k.resume_id = s.id WHERE s.run_id = " run ".id AND "                      \
    "coalesce(s.platform_sha256, '') != coalesce(" run ".platform_sha256, "    \
    "'')) THEN 'mixed' ELSE coalesce(" run ".platform_sha256, '') END"

/* X(field, sql): every prepared statement of the store. */
#define STMT_LIST(X)                                                           \
    X(begin, "BEGIN IMMEDIATE")                                                \
    X(commit, "COMMIT")                                                        \
    X(rollback, "ROLLBACK")                                                    \
    X(run_insert,                                                              \
      "INSERT INTO runs (started_at, status, scenario_path, scenario_name, "   \
      "scenario_sha256, scenario_text, seed, git_commit, git_dirty, host, "    \
      "cpu_model, cores_online, libtorch_version, blas, build_type, "          \
      "bfbench_version, input_hashes, command_line, platform, "                \
      "platform_sha256) VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, "   \
      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)")                 \
    X(run_end, "UPDATE runs SET status = ?1, finished_at = ?2 WHERE id = ?3")  \
    X(case_insert,                                                             \
      "INSERT INTO cases (run_id, case_index, config, model, weights, "        \
      "weights_sha256, input_channels, input_h, input_w, batch, threads, "     \
      "fold_bn, channels_last, warmup, params, macs, status, started_at, "     \
      "strategy, freeze_encoder, bottleneck_version, bottleneck_channels, "    \
      "split_shape, head_params, head_macs, head_bytes, dataset, "             \
      "dataset_sha256, teacher_sha256, link, link_rate_mbps, link_rtt_ms, "    \
      "background_clients, case_hash, seed, precision, device, resume_id) "    \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "  \
      "?15, ?16, 'running', ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "     \
      "?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37)")           \
    X(case_end, "UPDATE cases SET status = ?1, error = ?2, finished_at = ?3 "  \
                "WHERE id = ?4")                                               \
    X(sample_insert,                                                           \
      "INSERT INTO samples (case_id, seq, e2e_ns, head_ns, encode_ns, "        \
      "transfer_ns, server_queue_ns, server_decode_ns, tail_ns, reply_ns, "    \
      "bytes_up, bytes_down) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "     \
      "?10, ?11, ?12)")                                                        \
    X(aggregate_insert,                                                        \
      "INSERT INTO aggregates (case_id, metric, unit, method, n, mean, "       \
      "stddev, min, p50, p90, p99, max) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "  \
      "?8, ?9, ?10, ?11, ?12)")                                                \
    X(epoch_next_seq,                                                          \
      "SELECT coalesce(max(seq) + 1, 0) FROM epochs WHERE case_id = ?1")       \
    X(epoch_insert,                                                            \
      "INSERT INTO epochs (case_id, seq, phase, epoch, lr, train_loss, "       \
      "val_top1, seconds, images_per_s, best, train_loss_per_image) VALUES "   \
      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                        \
    X(accuracy_insert,                                                         \
      "INSERT INTO accuracy (case_id, variant, split, n, top1, top5, "         \
      "payload_bytes, payload_zstd_bytes, transmitted_elements, "              \
      "input_elements, jpeg_reference_bytes, jpeg_reference_quality, "         \
      "compression_vs_jpeg, element_ratio, method, offload_fraction, "         \
      "device_macs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "    \
      "?12, ?13, ?14, ?15, ?16, ?17)")                                         \
    X(prediction_insert,                                                       \
      "INSERT INTO predictions (case_id, variant, split, n, items_sha256, "    \
      "classes, top1, topk) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")          \
    X(artifact_insert,                                                         \
      "INSERT OR REPLACE INTO artifacts (case_id, kind, path, sha256, bytes) " \
      "VALUES (?1, ?2, ?3, ?4, ?5)")                                           \
    X(artifacts_of_run,                                                        \
      "SELECT a.case_id, a.kind, a.path, a.sha256, a.bytes FROM artifacts a "  \
      "JOIN cases c ON c.id = a.case_id WHERE ?1 = 0 OR c.run_id = ?1 ORDER "  \
      "BY a.case_id, a.kind")                                                  \
    X(case_samples,                                                            \
      "SELECT CASE ?2 WHEN 'e2e' THEN e2e_ns WHEN 'head' THEN head_ns WHEN "   \
      "'encode' THEN encode_ns WHEN 'transfer' THEN transfer_ns WHEN "         \
      "'server_queue' THEN server_queue_ns WHEN 'server_decode' THEN "         \
      "server_decode_ns WHEN 'tail' THEN tail_ns WHEN 'reply' THEN reply_ns "  \
      "END FROM samples WHERE case_id = ?1 ORDER BY seq")                      \
    X(prediction_bits,                                                         \
      "SELECT n, items_sha256, top1 FROM predictions WHERE case_id = ?1 AND "  \
      "variant = ?2 AND split = ?3")                                           \
    X(check_insert,                                                            \
      "INSERT OR REPLACE INTO checks (run_id, name, value) VALUES (?1, ?2, "   \
      "?3)")                                                                   \
    X(device_insert,                                                           \
      "INSERT INTO device_results (case_id, device, role, latency_method, "    \
      "power_method, radio, requests, host_head_ms, head_ms, encode_ms, "      \
      "transfer_ms, server_ms, e2e_ms, e2e_mean_ms, e2e_p90_ms, "              \
      "avg_power_mw, avg_power_above_idle_mw, energy_mj, "                     \
      "energy_above_idle_mj, runtime, head_lo_ms, head_hi_ms, e2e_lo_ms, "     \
      "e2e_hi_ms, avg_power_lo_mw, avg_power_hi_mw, energy_lo_mj, "            \
      "energy_hi_mj) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "   \
      "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, " \
      "?26, ?27, ?28)")                                                        \
    X(devices_run,                                                             \
      "SELECT r.id, c.case_index, c.config, c.model, c.link_rate_mbps, "       \
      "c.bottleneck_channels, d.device, d.role, d.latency_method, "            \
      "d.power_method, d.radio, d.requests, d.host_head_ms, d.head_ms, "       \
      "d.encode_ms, d.transfer_ms, d.server_ms, d.e2e_ms, d.e2e_mean_ms, "     \
      "d.e2e_p90_ms, d.avg_power_mw, d.avg_power_above_idle_mw, "              \
      "d.energy_mj, d.energy_above_idle_mj, c.background_clients, c.status, "  \
      "d.runtime, d.head_lo_ms, d.head_hi_ms, d.e2e_lo_ms, d.e2e_hi_ms, "      \
      "d.avg_power_lo_mw, d.avg_power_hi_mw, d.energy_lo_mj, d.energy_hi_mj "  \
      "FROM "                                                                  \
      "device_results d JOIN cases c ON c.id = d.case_id JOIN runs r ON "      \
      "r.id = c.run_id WHERE (?1 = 0 OR r.id = ?1) ORDER BY r.id, "            \
      "c.case_index, c.id, d.device")                                          \
    X(calibration_insert,                                                      \
      "INSERT INTO calibrations (profile, profile_path, created_at, form, "    \
      "conv_gmacs, grouped_gmacs, linear_gmacs, bandwidth_gbs, "               \
      "layer_overhead_us, conv3x3_gmacs, fitted, fit_rms_pct, "                \
      "loo_mean_abs_pct, loo_max_abs_pct, sublinear_us, runtime, "             \
      "interval_log_mean, interval_log_sd, interval_factor) VALUES (?1, ?2, "  \
      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "   \
      "?18, ?19)")                                                             \
    X(calibration_point_insert,                                                \
      "INSERT INTO calibration_points (calibration_id, seq, model, "           \
      "input_px, macs, layers, measured_ms, method, predicted_ms, loo_ms) "    \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")                      \
    X(last_run, "SELECT max(id) FROM runs")                                    \
    X(run_platforms,                                                           \
      "SELECT id, platform, coalesce(platform_sha256, '') FROM runs WHERE "    \
      "(?1 = 0 OR id = ?1) AND platform IS NOT NULL AND platform <> '' "       \
      "ORDER BY id")                                                           \
    X(run_by_sha, "SELECT max(id) FROM runs WHERE scenario_sha256 = ?1")       \
    X(case_complete,                                                           \
      "SELECT count(*) FROM cases WHERE run_id = ?1 AND case_hash = ?2 AND "   \
      "status IN ('finished', 'skipped')")                                     \
    X(run_counts,                                                              \
      "SELECT count(*), coalesce(sum(status IN ('finished', 'skipped')), 0) "  \
      "FROM cases WHERE run_id = ?1")                                          \
    X(count_samples, "SELECT count(*) FROM samples WHERE case_id = ?1")        \
    X(results_all, RESULT_COLUMNS RESULT_ORDER)                                \
    X(results_run, RESULT_COLUMNS "WHERE r.id = ?1" RESULT_ORDER)              \
    X(seed_groups,                                                             \
      "SELECT c.run_id, c.model, c.strategy, coalesce(c.freeze_encoder, -1), " \
      "coalesce(c.bottleneck_version, 0), coalesce(c.bottleneck_channels, "    \
      "0), "                                                                   \
      "a.variant, a.split, count(DISTINCT c.seed), min(a.n), max(a.n), "       \
      "group_concat(a.top1, ' '), group_concat(a.top5, ' ') FROM accuracy a "  \
      "JOIN cases c ON c.id = a.case_id WHERE c.seed IS NOT NULL AND "         \
      "c.strategy IS NOT NULL AND "                                            \
      "c.status = 'finished' AND (?1 = 0 OR c.run_id = ?1) GROUP BY "          \
      "c.run_id, c.model, c.strategy, c.freeze_encoder, "                      \
      "c.bottleneck_version, c.bottleneck_channels, a.variant, a.split "       \
      "HAVING count(DISTINCT c.seed) >= 2 AND count(*) = count(DISTINCT "      \
      "c.seed) ORDER BY c.run_id, min(c.case_index), a.variant, a.split")      \
    X(accuracy_all, ACCURACY_COLUMNS ACCURACY_ORDER)                           \
    X(accuracy_run, ACCURACY_COLUMNS "AND r.id = ?1" ACCURACY_ORDER)

struct bf_store {
    sqlite3 *db;
    char *path; /* for messages */
#define STMT_FIELD(name, sql) sqlite3_stmt *name;
    STMT_LIST(STMT_FIELD)
#undef STMT_FIELD
};

/*
 * Record a database failure: "<path>: <what>: <sqlite message>". Call it
 * before anything else touches the connection (a rollback would replace
 * the message).
 */
static inline int db_fail(struct bf_store *store, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline int db_fail(struct bf_store *store, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return bf_err_set(BF_EDB, "%s: %s: %s", store->path, what,
                      sqlite3_errmsg(store->db));
}

/* Ready a statement for its next use. */
static inline void stmt_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Bind a string; NULL binds as "" so that NOT NULL columns accept it. */
static inline int bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    return sqlite3_bind_text(stmt, idx, s ? s : "", -1, SQLITE_STATIC);
}

/* Bind a string that may be absent: NULL or "" binds SQL NULL. */
static inline int bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (!s || !s[0])
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

/* Bind a double; NaN binds SQL NULL explicitly (as SQLite would). */
static inline int bind_real(sqlite3_stmt *stmt, int idx, double v)
{
    if (isnan(v))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_double(stmt, idx, v);
}

static inline double column_real(sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(stmt, col);
}

static inline const char *column_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);

    return s ? (const char *)s : "";
}

/* Run a statement that returns no rows, then ready it again. */
static inline int step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static inline int tx_begin(struct bf_store *store, const char *what)
{
    int rc = step_done(store->begin);

    sqlite3_reset(store->begin);
    if (rc != SQLITE_OK)
        return db_fail(store, "starting a transaction for %s", what);
    return 0;
}

static inline int tx_commit(struct bf_store *store, const char *what)
{
    int rc = step_done(store->commit);

    sqlite3_reset(store->commit);
    if (rc != SQLITE_OK)
        return db_fail(store, "committing %s", what);
    return 0;
}

/* Undo the open transaction, if any; leaves the error detail alone. */
static inline void tx_rollback(struct bf_store *store)
{
    if (sqlite3_get_autocommit(store->db))
        return;
    sqlite3_step(store->rollback);
    sqlite3_reset(store->rollback);
}

#endif /* BF_STORE_INT_H */
