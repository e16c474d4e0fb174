/*
 * bf_store_write: the store's writes (runs, cases, samples, aggregates,
 * epochs, accuracy and per-image predictions, checks, artifacts, device
 * rows, calibrations) and resuming a run. See bf_store.h.
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

/* Runs */

int bf_store_run_begin(struct bf_store *store, const struct bf_run_info *info,
                       int64_t *run_id)
{
    sqlite3_stmt *st = store->run_insert;
    char now[ISO_TIME_SIZE];
    sqlite3_int64 seed;
    int rc;

    /* The seed's 64 bits, reinterpreted: SQLite integers are signed. */
    memcpy(&seed, &info->seed, sizeof(seed));
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, now);
    rc = rc ? rc : bind_text(st, 2, info->scenario_path);
    rc = rc ? rc : bind_text(st, 3, info->scenario_name);
    rc = rc ? rc : bind_text(st, 4, info->scenario_sha256);
    rc = rc ? rc : bind_text(st, 5, info->scenario_text);
    rc = rc ? rc : sqlite3_bind_int64(st, 6, seed);
    rc = rc ? rc : bind_text(st, 7, info->git_commit);
    rc = rc ? rc : sqlite3_bind_int(st, 8, info->git_dirty);
    rc = rc ? rc : bind_text(st, 9, info->host);
    rc = rc ? rc : bind_text(st, 10, info->cpu_model);
    rc = rc ? rc : sqlite3_bind_int(st, 11, info->cores_online);
    rc = rc ? rc : bind_text(st, 12, info->libtorch_version);
    rc = rc ? rc : bind_text(st, 13, info->blas);
    rc = rc ? rc : bind_text(st, 14, info->build_type);
    rc = rc ? rc : bind_text(st, 15, info->bfbench_version);
    rc = rc ? rc : bind_text(st, 16, info->input_hashes);
    rc = rc ? rc : bind_text(st, 17, info->command_line);
    rc = rc ? rc : bind_text(st, 18, info->platform);
    rc = rc ? rc : bind_text(st, 19, info->platform_sha256);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the start of a run");
        goto out_reset;
    }
    *run_id = sqlite3_last_insert_rowid(store->db);
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_run_end(struct bf_store *store, int64_t run_id, const char *status)
{
    sqlite3_stmt *st = store->run_end;
    char now[ISO_TIME_SIZE];
    int rc;

    if (!status ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "interrupted") != 0))
        return bf_err_set(BF_EINVAL,
                          "run %lld: end status '%s' is not finished, failed "
                          "or interrupted",
                          (long long)run_id, status ? status : "(null)");
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, status);
    rc = rc ? rc : bind_text(st, 2, now);
    rc = rc ? rc : sqlite3_bind_int64(st, 3, run_id);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the end of run %lld", (long long)run_id);
        goto out_reset;
    }
    if (sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no run %lld to end", store->path,
                        (long long)run_id);
out_reset:
    stmt_done(st);
    return rc;
}

/* Cases */

/* Bind a count that may be unrecorded: 0 and -1 bind SQL NULL. */
static int bind_count_or_null(sqlite3_stmt *stmt, int idx, int64_t v)
{
    if (v == 0 || v == -1)
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_int64(stmt, idx, v);
}

/* The training fields of a case row: -1 and 0 mean not recorded, any
 * other negative number (and a freeze_encoder other than -1, 0, 1) is a
 * bug. */
static int check_case_row(const struct bf_store *store, int64_t run_id,
                          const struct bf_case_row *row)
{
    const struct {
        const char *name;
        int64_t value;
    } counts[] = {
        {"bottleneck_version", row->bottleneck_version},
        {"bottleneck_channels", row->bottleneck_channels},
        {"head_params", row->head_params},
        {"head_macs", row->head_macs},
        {"head_bytes", row->head_bytes},
    };
    size_t i;

    if (row->freeze_encoder < -1 || row->freeze_encoder > 1)
        return bf_err_set(BF_EINVAL,
                          "%s: case %d of run %lld: freeze_encoder is %d "
                          "(1, 0, or -1 for not recorded)",
                          store->path, row->case_index, (long long)run_id,
                          row->freeze_encoder);
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (counts[i].value < -1)
            return bf_err_set(BF_EINVAL,
                              "%s: case %d of run %lld: %s is %lld (0 or "
                              "-1 for not recorded)",
                              store->path, row->case_index, (long long)run_id,
                              counts[i].name, (long long)counts[i].value);
    return 0;
}

int bf_store_case_begin(struct bf_store *store, int64_t run_id,
                        const struct bf_case_row *row, int64_t *case_id)
{
    sqlite3_stmt *st = store->case_insert;
    char now[ISO_TIME_SIZE];
    int trained = row->strategy && row->strategy[0];
    int rc;

    rc = check_case_row(store, run_id, row);
    if (rc)
        return rc;
    bf_clock_utc_iso(now, sizeof(now));
    rc = sqlite3_bind_int64(st, 1, run_id);
    rc = rc ? rc : sqlite3_bind_int(st, 2, row->case_index);
    rc = rc ? rc : bind_text(st, 3, row->config);
    rc = rc ? rc : bind_text(st, 4, row->model);
    rc = rc ? rc : bind_text(st, 5, row->weights);
    rc = rc ? rc : bind_text(st, 6, row->weights_sha256);
    rc = rc ? rc : sqlite3_bind_int(st, 7, row->input_channels);
    rc = rc ? rc : sqlite3_bind_int(st, 8, row->input_h);
    rc = rc ? rc : sqlite3_bind_int(st, 9, row->input_w);
    rc = rc ? rc : sqlite3_bind_int(st, 10, row->batch);
    rc = rc ? rc : sqlite3_bind_int(st, 11, row->threads);
    rc = rc ? rc : sqlite3_bind_int(st, 12, row->fold_bn);
    rc = rc ? rc : sqlite3_bind_int(st, 13, row->channels_last);
    rc = rc ? rc : sqlite3_bind_int(st, 14, row->warmup);
    rc = rc ? rc : sqlite3_bind_int64(st, 15, row->params);
    rc = rc ? rc : sqlite3_bind_int64(st, 16, row->macs);
    rc = rc ? rc : bind_text(st, 17, now);
    rc = rc ? rc : bind_text_or_null(st, 18, row->strategy);
    /* Without a strategy nothing was trained: the 0 of an unset field
     * would read as "encoder not frozen". */
    if (trained && row->freeze_encoder >= 0)
        rc = rc ? rc : sqlite3_bind_int(st, 19, row->freeze_encoder);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 19);
    rc = rc ? rc : bind_count_or_null(st, 20, row->bottleneck_version);
    rc = rc ? rc : bind_count_or_null(st, 21, row->bottleneck_channels);
    rc = rc ? rc : bind_text_or_null(st, 22, row->split_shape);
    rc = rc ? rc : bind_count_or_null(st, 23, row->head_params);
    rc = rc ? rc : bind_count_or_null(st, 24, row->head_macs);
    rc = rc ? rc : bind_count_or_null(st, 25, row->head_bytes);
    rc = rc ? rc : bind_text_or_null(st, 26, row->dataset);
    rc = rc ? rc : bind_text_or_null(st, 27, row->dataset_sha256);
    rc = rc ? rc : bind_text_or_null(st, 28, row->teacher_sha256);
    rc = rc ? rc : bind_text_or_null(st, 29, row->link);
    if (row->link && row->link[0] && row->link_rate_mbps > 0)
        rc = rc ? rc : sqlite3_bind_double(st, 30, row->link_rate_mbps);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 30);
    if (row->link && row->link[0] && row->link_rtt_ms >= 0)
        rc = rc ? rc : sqlite3_bind_double(st, 31, row->link_rtt_ms);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 31);
    if (row->link && row->link[0])
        rc = rc ? rc : sqlite3_bind_int(st, 32, row->background_clients);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 32);
    rc = rc ? rc : bind_text_or_null(st, 33, row->case_hash);
    if (row->seeded)
        rc = rc ? rc : sqlite3_bind_int64(st, 34, (sqlite3_int64)row->seed);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 34);
    if (row->precision && strcmp(row->precision, "fp32") != 0)
        rc = rc ? rc : bind_text_or_null(st, 35, row->precision);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 35);
    if (row->device && strcmp(row->device, "cpu") != 0)
        rc = rc ? rc : bind_text_or_null(st, 36, row->device);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 36);
    if (row->resume_id > 0)
        rc = rc ? rc : sqlite3_bind_int64(st, 37, row->resume_id);
    else
        rc = rc ? rc : sqlite3_bind_null(st, 37);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the start of case %d of run %lld",
                     row->case_index, (long long)run_id);
        goto out_reset;
    }
    *case_id = sqlite3_last_insert_rowid(store->db);
out_reset:
    stmt_done(st);
    return rc;
}

int bf_store_case_end(struct bf_store *store, int64_t case_id,
                      const char *status, const char *error)
{
    sqlite3_stmt *st = store->case_end;
    char now[ISO_TIME_SIZE];
    int rc;

    if (!status ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "skipped") != 0))
        return bf_err_set(BF_EINVAL,
                          "case %lld: end status '%s' is not finished, failed "
                          "or skipped",
                          (long long)case_id, status ? status : "(null)");
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, status);
    rc = rc ? rc : bind_text_or_null(st, 2, error);
    rc = rc ? rc : bind_text(st, 3, now);
    rc = rc ? rc : sqlite3_bind_int64(st, 4, case_id);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "recording the end of case %lld",
                     (long long)case_id);
        goto out_reset;
    }
    if (sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no case %lld to end", store->path,
                        (long long)case_id);
out_reset:
    stmt_done(st);
    return rc;
}

/* Samples and aggregates */

/*
 * Bind an optional measurement: -1 means the stage did not happen and is
 * stored NULL; any other negative value is a caller bug and is refused.
 */
static int bind_optional(sqlite3_stmt *st, int idx, int64_t v, const char *name,
                         int64_t seq, int *bad)
{
    if (v == -1)
        return sqlite3_bind_null(st, idx);
    if (v < 0) {
        *bad = bf_err_set(BF_EINVAL,
                          "sample %lld: %s is %lld (use -1 for "
                          "a stage that did not happen)",
                          (long long)seq, name, (long long)v);
        return SQLITE_MISUSE;
    }
    return sqlite3_bind_int64(st, idx, v);
}

int bf_store_add_samples(struct bf_store *store, int64_t case_id,
                         const struct bf_sample_row *rows, size_t n)
{
    sqlite3_stmt *st = store->sample_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu samples but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "samples of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_sample_row *r = &rows[i];
        int bad = 0;

        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, r->seq);
#define BIND_OPT(idx, field)                                                   \
    rc = rc ? rc : bind_optional(st, idx, r->field, #field, r->seq, &bad)
        BIND_OPT(3, e2e_ns);
        BIND_OPT(4, head_ns);
        BIND_OPT(5, encode_ns);
        BIND_OPT(6, transfer_ns);
        BIND_OPT(7, server_queue_ns);
        BIND_OPT(8, server_decode_ns);
        BIND_OPT(9, tail_ns);
        BIND_OPT(10, reply_ns);
        BIND_OPT(11, bytes_up);
        BIND_OPT(12, bytes_down);
#undef BIND_OPT
        if (bad) {
            rc = bf_err_prefix(bad, "%s: case %lld: ", store->path,
                               (long long)case_id);
            goto out_rollback;
        }
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting sample %lld of case %lld",
                         (long long)r->seq, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_aggregates(struct bf_store *store, int64_t case_id,
                            const struct bf_aggregate_row *rows, size_t n)
{
    sqlite3_stmt *st = store->aggregate_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu aggregates but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "aggregates of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_aggregate_row *r = &rows[i];

        if (!r->metric || !r->metric[0]) {
            rc = bf_err_set(BF_EINVAL,
                            "%s: case %lld: aggregate %zu has no "
                            "metric name",
                            store->path, (long long)case_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->metric);
        rc = rc ? rc : bind_text(st, 3, r->unit);
        rc = rc ? rc : bind_text(st, 4, r->method);
        rc = rc ? rc : sqlite3_bind_int64(st, 5, (sqlite3_int64)r->stats.n);
        rc = rc ? rc : bind_real(st, 6, r->stats.mean);
        rc = rc ? rc : bind_real(st, 7, r->stats.stddev);
        rc = rc ? rc : bind_real(st, 8, r->stats.min);
        rc = rc ? rc : bind_real(st, 9, r->stats.p50);
        rc = rc ? rc : bind_real(st, 10, r->stats.p90);
        rc = rc ? rc : bind_real(st, 11, r->stats.p99);
        rc = rc ? rc : bind_real(st, 12, r->stats.max);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting aggregate '%s' of case %lld",
                         r->metric, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

/* Epochs and accuracy */

int bf_store_add_epochs(struct bf_store *store, int64_t case_id,
                        const struct bf_epoch_row *rows, size_t n)
{
    sqlite3_stmt *st = store->epoch_insert;
    sqlite3_stmt *next = store->epoch_next_seq;
    int64_t seq;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu epochs but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "epochs of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    /* Read inside the write transaction, so no other writer can take the
     * same numbers. */
    rc = sqlite3_bind_int64(next, 1, case_id);
    rc = rc ? rc : sqlite3_step(next);
    if (rc != SQLITE_ROW) {
        rc = db_fail(store, "numbering the epochs of case %lld",
                     (long long)case_id);
        stmt_done(next);
        goto out_rollback;
    }
    seq = sqlite3_column_int64(next, 0);
    stmt_done(next);
    for (i = 0; i < n; i++) {
        const struct bf_epoch_row *r = &rows[i];

        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, seq + (int64_t)i);
        rc = rc ? rc : bind_text(st, 3, r->phase);
        rc = rc ? rc : sqlite3_bind_int(st, 4, r->epoch);
        rc = rc ? rc : bind_real(st, 5, r->lr);
        rc = rc ? rc : bind_real(st, 6, r->train_loss);
        rc = rc ? rc : bind_real(st, 7, r->val_top1);
        rc = rc ? rc : bind_real(st, 8, r->seconds);
        rc = rc ? rc : bind_real(st, 9, r->images_per_s);
        rc = rc ? rc : sqlite3_bind_int(st, 10, r->best ? 1 : 0);
        rc = rc ? rc : bind_real(st, 11, r->train_loss_per_image);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc =
                db_fail(store, "inserting epoch %d of phase '%s' of case %lld",
                        r->epoch, r->phase ? r->phase : "", (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

/* Whether an optional size of an accuracy row is recorded: -1 and NaN
 * mean n/a. */
static int known(double v)
{
    return !isnan(v) && v != -1;
}

/* Bind an optional size: n/a binds SQL NULL. */
static int bind_known(sqlite3_stmt *stmt, int idx, double v)
{
    if (!known(v))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_double(stmt, idx, v);
}

/* Check an accuracy row before it is bound; BF_EINVAL names the field. */
static int check_accuracy_row(const struct bf_store *store, int64_t case_id,
                              size_t i, const struct bf_accuracy_row *r)
{
    const struct {
        const char *name;
        double value;
    } sizes[] = {
        {"payload_bytes", r->payload_bytes},
        {"payload_zstd_bytes", r->payload_zstd_bytes},
        {"transmitted_elements", r->transmitted_elements},
        {"input_elements", r->input_elements},
        {"jpeg_reference_bytes", r->jpeg_reference_bytes},
    };
    const char *variant = r->variant ? r->variant : "";
    size_t k;

    if (!variant[0])
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy row %zu has no variant",
                          store->path, (long long)case_id, i);
    if (!r->split || !r->split[0])
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy row %zu ('%s') has no "
                          "split",
                          store->path, (long long)case_id, i, variant);
    if (strcmp(r->split, "val") == 0)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s' on split 'val': "
                          "validation data selects the model and is not a "
                          "result; evaluate on 'test'",
                          store->path, (long long)case_id, variant);
    if (r->n < 0)
        return bf_err_set(BF_EINVAL, "%s: case %lld: accuracy '%s': n is %lld",
                          store->path, (long long)case_id, variant,
                          (long long)r->n);
    if (!(r->top1 >= 0 && r->top1 <= 100) || !(r->top5 >= 0 && r->top5 <= 100))
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': top-1 %g or top-5 %g "
                          "is not a percentage in [0, 100]",
                          store->path, (long long)case_id, variant, r->top1,
                          r->top5);
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        if (known(sizes[k].value) &&
            !(sizes[k].value >= 0 && isfinite(sizes[k].value)))
            return bf_err_set(BF_EINVAL,
                              "%s: case %lld: accuracy '%s': %s is %g (use "
                              "-1 where it does not apply)",
                              store->path, (long long)case_id, variant,
                              sizes[k].name, sizes[k].value);
    if (r->exit_rule &&
        (!(r->offload_fraction >= 0 && r->offload_fraction <= 1) ||
         !(r->device_macs >= 0 && isfinite(r->device_macs))))
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': offload fraction %g "
                          "is not in [0, 1] or device MACs %g is negative",
                          store->path, (long long)case_id, variant,
                          r->offload_fraction, r->device_macs);
    if (r->jpeg_reference_quality < 0 || r->jpeg_reference_quality > 100)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: accuracy '%s': JPEG reference "
                          "quality %d is not 1..100 (0: n/a)",
                          store->path, (long long)case_id, variant,
                          r->jpeg_reference_quality);
    return 0;
}

/* Pack n flags (nonzero = set) into bits, LSB first; caller frees. */
static unsigned char *pack_bits(const uint8_t *flags, size_t n)
{
    unsigned char *bits = calloc(n / 8 + 1, 1);

    if (bits)
        for (size_t i = 0; i < n; i++)
            if (flags[i])
                bits[i / 8] |= (unsigned char)(1u << (i % 8));
    return bits;
}

/* The per-image results of an accuracy row, inside its transaction. */
static int insert_predictions(struct bf_store *store, int64_t case_id,
                              const struct bf_accuracy_row *r)
{
    sqlite3_stmt *st = store->prediction_insert;
    size_t n = r->n > 0 ? (size_t)r->n : 0;
    unsigned char *classes = NULL, *top1 = NULL, *topk = NULL;
    int rc;

    if (!r->pred_top1 || !r->pred_topk || !r->items_sha256 || n < 1)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: predictions of '%s' lack "
                          "their flags, items digest or count",
                          store->path, (long long)case_id, r->variant);
    classes = malloc(2 * n + 1);
    top1 = pack_bits(r->pred_top1, n);
    topk = pack_bits(r->pred_topk, n);
    if (!classes || !top1 || !topk) {
        rc = bf_err_set(BF_ENOMEM, "predictions of %zu images", n);
        goto out_free;
    }
    for (size_t i = 0; i < n; i++) {
        classes[2 * i] = (unsigned char)(r->pred[i] & 0xff);
        classes[2 * i + 1] = (unsigned char)(r->pred[i] >> 8);
    }
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, r->variant);
    rc = rc ? rc : bind_text(st, 3, r->split);
    rc = rc ? rc : sqlite3_bind_int64(st, 4, r->n);
    rc = rc ? rc : bind_text(st, 5, r->items_sha256);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 6, classes, (int)(2 * n), SQLITE_STATIC);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 7, top1, (int)((n + 7) / 8), SQLITE_STATIC);
    rc = rc ? rc
            : sqlite3_bind_blob(st, 8, topk, (int)((n + 7) / 8), SQLITE_STATIC);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK)
        rc = db_fail(store, "inserting the predictions of '%s' of case %lld",
                     r->variant, (long long)case_id);
    stmt_done(st);
out_free:
    free(classes);
    free(top1);
    free(topk);
    return rc;
}

int bf_store_add_accuracy(struct bf_store *store, int64_t case_id,
                          const struct bf_accuracy_row *rows, size_t n)
{
    sqlite3_stmt *st = store->accuracy_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu accuracy rows but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "accuracy of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_accuracy_row *r = &rows[i];
        double compression = NAN, ratio = NAN;

        rc = check_accuracy_row(store, case_id, i, r);
        if (rc)
            goto out_rollback;
        if (known(r->payload_bytes) && known(r->jpeg_reference_bytes) &&
            r->jpeg_reference_bytes > 0)
            compression = 1.0 - r->payload_bytes / r->jpeg_reference_bytes;
        if (known(r->transmitted_elements) && known(r->input_elements) &&
            r->input_elements > 0)
            ratio = r->transmitted_elements / r->input_elements;
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->variant);
        rc = rc ? rc : bind_text(st, 3, r->split);
        rc = rc ? rc : sqlite3_bind_int64(st, 4, r->n);
        rc = rc ? rc : sqlite3_bind_double(st, 5, r->top1);
        rc = rc ? rc : sqlite3_bind_double(st, 6, r->top5);
        rc = rc ? rc : bind_known(st, 7, r->payload_bytes);
        rc = rc ? rc : bind_known(st, 8, r->payload_zstd_bytes);
        rc = rc ? rc : bind_known(st, 9, r->transmitted_elements);
        rc = rc ? rc : bind_known(st, 10, r->input_elements);
        rc = rc ? rc : bind_known(st, 11, r->jpeg_reference_bytes);
        if (r->jpeg_reference_quality > 0)
            rc = rc ? rc : sqlite3_bind_int(st, 12, r->jpeg_reference_quality);
        else
            rc = rc ? rc : sqlite3_bind_null(st, 12);
        rc = rc ? rc : bind_real(st, 13, compression);
        rc = rc ? rc : bind_real(st, 14, ratio);
        rc = rc ? rc : bind_text(st, 15, r->method);
        if (r->exit_rule) {
            rc = rc ? rc : sqlite3_bind_double(st, 16, r->offload_fraction);
            rc = rc ? rc : sqlite3_bind_double(st, 17, r->device_macs);
        } else {
            rc = rc ? rc : sqlite3_bind_null(st, 16);
            rc = rc ? rc : sqlite3_bind_null(st, 17);
        }
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting accuracy '%s' on '%s' of case %lld",
                         r->variant, r->split, (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
        if (r->pred && (rc = insert_predictions(store, case_id, r)))
            goto out_rollback;
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_checks(struct bf_store *store, int64_t run_id,
                        const struct bf_check_row *rows, size_t n)
{
    sqlite3_stmt *st = store->check_insert;
    int rc;

    if (n && !rows)
        return bf_err_set(BF_EINVAL, "run %lld: %zu checks but no rows",
                          (long long)run_id, n);
    rc = tx_begin(store, "checks");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].name || !rows[i].name[0] || !rows[i].value) {
            rc = bf_err_set(BF_EINVAL,
                            "%s: run %lld: check %zu has no name "
                            "or value",
                            store->path, (long long)run_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, run_id);
        rc = rc ? rc : bind_text(st, 2, rows[i].name);
        rc = rc ? rc : bind_text(st, 3, rows[i].value);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting check '%s' of run %lld",
                         rows[i].name, (long long)run_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, "checks");
    if (rc)
        goto out_rollback;
    return 0;
out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_artifact(struct bf_store *store, int64_t case_id,
                          const struct bf_artifact_row *row)
{
    sqlite3_stmt *st = store->artifact_insert;
    int rc;

    if (!row || !row->kind || !row->kind[0] || !row->path || !row->path[0] ||
        !row->sha256 || strlen(row->sha256) != 64 || row->bytes < 0)
        return bf_err_set(BF_EINVAL,
                          "%s: case %lld: an artifact needs a kind, a "
                          "path, a SHA-256 and a size",
                          store->path, (long long)case_id);
    rc = sqlite3_bind_int64(st, 1, case_id);
    rc = rc ? rc : bind_text(st, 2, row->kind);
    rc = rc ? rc : bind_text(st, 3, row->path);
    rc = rc ? rc : bind_text(st, 4, row->sha256);
    rc = rc ? rc : sqlite3_bind_int64(st, 5, row->bytes);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK)
        rc = db_fail(store, "recording the %s artifact of case %lld", row->kind,
                     (long long)case_id);
    stmt_done(st);
    return rc;
}

/* Cases of a run: all of them, and those finished or skipped. */
static int run_counts(struct bf_store *store, int64_t run_id, int64_t *all,
                      int64_t *complete)
{
    sqlite3_stmt *st = store->run_counts;
    int rc = sqlite3_bind_int64(st, 1, run_id);

    rc = rc ? rc : sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc =
            db_fail(store, "counting the cases of run %lld", (long long)run_id);
    } else {
        *all = sqlite3_column_int64(st, 0);
        *complete = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    stmt_done(st);
    return rc;
}

/* A count with ?1 = run_id. */
static int query_int64(struct bf_store *store, const char *sql, int64_t run_id,
                       int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc =
            db_fail(store, "counting the cases of run %lld", (long long)run_id);
    else
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Unix seconds now, in SQL. */
#define SQL_NOW "((julianday('now') - 2440587.5) * 86400.0)"

/* The cases of run ?1 that are neither finished nor skipped and that no
 * live claim holds. */
#define INCOMPLETE_CASES                                                       \
    "(SELECT id FROM cases WHERE run_id = ?1 AND status NOT IN "               \
    "('finished', 'skipped') AND (case_hash IS NULL OR case_hash NOT IN "      \
    "(SELECT case_hash FROM claims WHERE run_id = ?1 AND lease_until "         \
    "> " SQL_NOW ")))"

/* The incomplete cases of run ?1 with hash ?2. */
#define INCOMPLETE_OF_HASH                                                     \
    "(SELECT id FROM cases WHERE run_id = ?1 AND case_hash = ?2 AND status "   \
    "NOT IN ('finished', 'skipped'))"

/* The rows of the cases that `which` selects, then the cases. */
#define DROP_CASES(which)                                                      \
    "DELETE FROM samples WHERE case_id IN " which,                             \
        "DELETE FROM aggregates WHERE case_id IN " which,                      \
        "DELETE FROM epochs WHERE case_id IN " which,                          \
        "DELETE FROM accuracy WHERE case_id IN " which,                        \
        "DELETE FROM predictions WHERE case_id IN " which,                     \
        "DELETE FROM artifacts WHERE case_id IN " which,                       \
        "DELETE FROM device_results WHERE case_id IN " which,                  \
        "DELETE FROM cases WHERE id IN " which

/* Run each statement with ?1 = run_id and, when hash is set, ?2 = hash. */
static int exec_steps(struct bf_store *store, const char *const *steps,
                      size_t n, int64_t run_id, const char *hash,
                      const char *what)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(store->db, steps[i], -1, &st, NULL) !=
                SQLITE_OK ||
            sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
            (hash && bind_text(st, 2, hash) != SQLITE_OK) ||
            step_done(st) != SQLITE_OK)
            rc = db_fail(store, "%s", what);
        sqlite3_finalize(st);
    }
    return rc;
}

/* The resumes row of a resume of run_id (in the caller's transaction). */
static int insert_resume(struct bf_store *store, int64_t run_id,
                         const struct bf_run_info *info, int64_t kept,
                         int64_t dropped, int64_t *resume_id)
{
    sqlite3_stmt *st = NULL;
    char now[ISO_TIME_SIZE];
    int rc;

    bf_clock_utc_iso(now, sizeof(now));
    rc = sqlite3_prepare_v2(
        store->db,
        "INSERT INTO resumes (run_id, resumed_at, host, cpu_model, "
        "cores_online, git_commit, git_dirty, libtorch_version, blas, "
        "build_type, bfbench_version, command_line, platform, "
        "platform_sha256, cases_kept, cases_dropped) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        -1, &st, NULL);
    rc = rc ? rc : sqlite3_bind_int64(st, 1, run_id);
    rc = rc ? rc : bind_text(st, 2, now);
    rc = rc ? rc : bind_text(st, 3, info->host);
    rc = rc ? rc : bind_text(st, 4, info->cpu_model);
    rc = rc ? rc : sqlite3_bind_int(st, 5, info->cores_online);
    rc = rc ? rc : bind_text(st, 6, info->git_commit);
    rc = rc ? rc : sqlite3_bind_int(st, 7, info->git_dirty);
    rc = rc ? rc : bind_text(st, 8, info->libtorch_version);
    rc = rc ? rc : bind_text(st, 9, info->blas);
    rc = rc ? rc : bind_text(st, 10, info->build_type);
    rc = rc ? rc : bind_text(st, 11, info->bfbench_version);
    rc = rc ? rc : bind_text(st, 12, info->command_line);
    rc = rc ? rc : bind_text_or_null(st, 13, info->platform);
    rc = rc ? rc : bind_text_or_null(st, 14, info->platform_sha256);
    rc = rc ? rc : sqlite3_bind_int64(st, 15, kept);
    rc = rc ? rc : sqlite3_bind_int64(st, 16, dropped);
    rc = rc ? rc : step_done(st);
    if (rc == SQLITE_OK)
        *resume_id = sqlite3_last_insert_rowid(store->db);
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0
                           : db_fail(store, "recording a resume of run %lld",
                                     (long long)run_id);
}

int bf_store_run_resume(struct bf_store *store, int64_t run_id,
                        const struct bf_run_info *info, int64_t *complete,
                        int64_t *dropped, int64_t *resume_id)
{
    static const char *const steps[] = {
        DROP_CASES(INCOMPLETE_CASES),
        "DELETE FROM claims WHERE run_id = ?1 AND lease_until <= " SQL_NOW,
        "UPDATE runs SET status = 'running', finished_at = NULL, resumes = "
        "resumes + 1 WHERE id = ?1"};
    int64_t all = 0;
    int rc;

    if ((rc = tx_begin(store, "resuming a run")))
        return rc;
    if ((rc = run_counts(store, run_id, &all, complete)) == 0) {
        int64_t held = 0;

        rc = query_int64(store,
                         "SELECT count(*) FROM cases WHERE run_id = ?1 AND "
                         "status NOT IN ('finished', 'skipped') AND case_hash "
                         "IN (SELECT case_hash FROM claims WHERE run_id = ?1 "
                         "AND lease_until > " SQL_NOW ")",
                         run_id, &held);
        *dropped = all - *complete - held;
    }
    if (rc == 0) {
        char what[64];

        snprintf(what, sizeof(what), "resuming run %lld", (long long)run_id);
        rc = exec_steps(store, steps, sizeof(steps) / sizeof(steps[0]), run_id,
                        NULL, what);
    }
    /* The last step touched the run's row, or there is no such run. */
    if (rc == 0 && sqlite3_changes(store->db) != 1)
        rc = bf_err_set(BF_ENOENT, "%s: no run %lld to resume", store->path,
                        (long long)run_id);
    if (rc == 0)
        rc = insert_resume(store, run_id, info, *complete, *dropped, resume_id);
    if (rc == 0)
        rc = tx_commit(store, "resuming a run");
    if (rc)
        tx_rollback(store);
    return rc;
}

/* Case claims */

int bf_store_case_claim(struct bf_store *store, int64_t run_id,
                        const char *case_hash, const char *owner,
                        double lease_s, enum bf_claim *out)
{
    static const char *const takeover[] = {DROP_CASES(INCOMPLETE_OF_HASH)};
    sqlite3_stmt *st = NULL;
    int64_t complete = 0;
    int rc, live = 0, mine = 0, held = 0;

    if (!store || !case_hash || !owner || !out)
        return bf_err_set(BF_EINVAL, "bf_store_case_claim: NULL argument");
    if ((rc = tx_begin(store, "claiming a case")))
        return rc;
    rc = sqlite3_prepare_v2(store->db,
                            "SELECT count(*) FROM cases WHERE run_id = ?1 AND "
                            "case_hash = ?2 AND status IN ('finished', "
                            "'skipped')",
                            -1, &st, NULL) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 1, run_id) == SQLITE_OK &&
                 bind_text(st, 2, case_hash) == SQLITE_OK &&
                 sqlite3_step(st) == SQLITE_ROW
             ? 0
             : db_fail(store, "claiming a case of run %lld", (long long)run_id);
    if (rc == 0)
        complete = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0 && complete > 0) {
        *out = BF_CLAIM_DONE;
        goto commit;
    }
    if (rc == 0 &&
        (sqlite3_prepare_v2(store->db,
                            "SELECT owner = ?3, lease_until > " SQL_NOW
                            " FROM claims WHERE run_id = ?1 AND case_hash = ?2",
                            -1, &st, NULL) != SQLITE_OK ||
         sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
         bind_text(st, 2, case_hash) != SQLITE_OK ||
         bind_text(st, 3, owner) != SQLITE_OK))
        rc = db_fail(store, "claiming a case of run %lld", (long long)run_id);
    if (rc == 0) {
        int step = sqlite3_step(st);

        if (step == SQLITE_ROW) {
            held = 1;
            mine = sqlite3_column_int(st, 0);
            live = sqlite3_column_int(st, 1);
        } else if (step != SQLITE_DONE) {
            rc = db_fail(store, "claiming a case of run %lld",
                         (long long)run_id);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0 && held && live && !mine) {
        *out = BF_CLAIM_BUSY;
        goto commit;
    }
    /* Free, or a gone owner's: its leftovers go, then the claim is ours. */
    if (rc == 0 && held && !mine)
        rc = exec_steps(store, takeover, sizeof(takeover) / sizeof(takeover[0]),
                        run_id, case_hash, "taking over a claimed case");
    if (rc == 0 &&
        (sqlite3_prepare_v2(store->db,
                            "INSERT OR REPLACE INTO claims (run_id, case_hash, "
                            "owner, lease_until) VALUES (?1, ?2, ?3, " SQL_NOW
                            " + ?4)",
                            -1, &st, NULL) != SQLITE_OK ||
         sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
         bind_text(st, 2, case_hash) != SQLITE_OK ||
         bind_text(st, 3, owner) != SQLITE_OK ||
         sqlite3_bind_double(st, 4, lease_s) != SQLITE_OK ||
         step_done(st) != SQLITE_OK))
        rc = db_fail(store, "claiming a case of run %lld", (long long)run_id);
    sqlite3_finalize(st);
    if (rc == 0)
        *out = BF_CLAIM_MINE;
commit:
    if (rc == 0)
        rc = tx_commit(store, "claiming a case");
    if (rc)
        tx_rollback(store);
    return rc;
}

/* One statement with ?1 = run_id, ?2 = text, ?3 = x. */
static int exec_one(struct bf_store *store, const char *sql, int64_t run_id,
                    const char *text, double x, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
        bind_text(st, 2, text) != SQLITE_OK ||
        sqlite3_bind_double(st, 3, x) != SQLITE_OK ||
        step_done(st) != SQLITE_OK)
        rc = db_fail(store, "%s", what);
    sqlite3_finalize(st);
    return rc;
}

int bf_store_claims_renew(struct bf_store *store, const char *owner,
                          double lease_s)
{
    if (!store || !owner)
        return bf_err_set(BF_EINVAL, "bf_store_claims_renew: NULL argument");
    return exec_one(store,
                    "UPDATE claims SET lease_until = " SQL_NOW
                    " + ?3 WHERE ?1 = ?1 AND owner = ?2",
                    0, owner, lease_s, "renewing claims");
}

int bf_store_claims_release(struct bf_store *store, int64_t run_id,
                            const char *owner)
{
    if (!store || !owner)
        return bf_err_set(BF_EINVAL, "bf_store_claims_release: NULL");
    return exec_one(store,
                    "DELETE FROM claims WHERE run_id = ?1 AND owner = ?2 AND "
                    "?3 = ?3",
                    run_id, owner, 0, "releasing claims");
}

int bf_store_each_claim_owner(struct bf_store *store,
                              int (*fn)(const char *owner, void *ctx),
                              void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (!store || !fn)
        return bf_err_set(BF_EINVAL, "bf_store_each_claim_owner: NULL");
    if (sqlite3_prepare_v2(store->db,
                           "SELECT DISTINCT owner FROM claims WHERE "
                           "lease_until > " SQL_NOW,
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(store, "reading the claims' owners");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *owner = sqlite3_column_text(st, 0);

        rc = fn(owner ? (const char *)owner : "", ctx);
        if (rc)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(store, "reading the claims' owners");
    sqlite3_finalize(st);
    return rc;
}

int bf_store_claims_expire(struct bf_store *store, const char *owner)
{
    if (!store || !owner)
        return bf_err_set(BF_EINVAL, "bf_store_claims_expire: NULL");
    return exec_one(store,
                    "UPDATE claims SET lease_until = 0 WHERE ?1 = ?1 AND "
                    "owner = ?2 AND ?3 = ?3",
                    0, owner, 0, "ending a gone process's claims");
}

int bf_store_claims_others(struct bf_store *store, int64_t run_id,
                           const char *owner, int64_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (!store || !owner || !n)
        return bf_err_set(BF_EINVAL, "bf_store_claims_others: NULL");
    if (sqlite3_prepare_v2(store->db,
                           "SELECT count(*) FROM claims WHERE run_id = ?1 AND "
                           "owner <> ?2 AND lease_until > " SQL_NOW,
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
        bind_text(st, 2, owner) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        rc = db_fail(store, "counting the claims of run %lld",
                     (long long)run_id);
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Devices */

int bf_store_add_devices(struct bf_store *store, int64_t case_id,
                         const struct bf_device_row *rows, size_t n)
{
    sqlite3_stmt *st = store->device_insert;
    char what[64];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (!rows)
        return bf_err_set(BF_EINVAL, "case %lld: %zu device rows but no rows",
                          (long long)case_id, n);
    snprintf(what, sizeof(what), "devices of case %lld", (long long)case_id);
    rc = tx_begin(store, what);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        const struct bf_device_row *r = &rows[i];
        const double nums[] = {r->host_head_ms, r->head_ms,
                               r->encode_ms,    r->transfer_ms,
                               r->server_ms,    r->e2e_ms,
                               r->e2e_mean_ms,  r->e2e_p90_ms,
                               r->avg_power_mw, r->avg_power_above_idle_mw,
                               r->energy_mj,    r->energy_above_idle_mj};
        const double bounds[] = {r->head_lo_ms,      r->head_hi_ms,
                                 r->e2e_lo_ms,       r->e2e_hi_ms,
                                 r->avg_power_lo_mw, r->avg_power_hi_mw,
                                 r->energy_lo_mj,    r->energy_hi_mj};

        if (!r->device || !r->device[0] || !r->role || !r->latency_method ||
            !r->power_method || r->requests < 0) {
            rc = bf_err_set(BF_EINVAL,
                            "case %lld: device row %zu lacks its device, "
                            "role or methods",
                            (long long)case_id, i);
            goto out_rollback;
        }
        rc = sqlite3_bind_int64(st, 1, case_id);
        rc = rc ? rc : bind_text(st, 2, r->device);
        rc = rc ? rc : bind_text(st, 3, r->role);
        rc = rc ? rc : bind_text(st, 4, r->latency_method);
        rc = rc ? rc : bind_text(st, 5, r->power_method);
        rc = rc ? rc : bind_text_or_null(st, 6, r->radio);
        rc = rc ? rc : sqlite3_bind_int64(st, 7, r->requests);
        for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
            rc = rc ? rc : bind_real(st, 8 + (int)k, nums[k]);
        rc = rc ? rc : bind_text_or_null(st, 20, r->runtime);
        for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++)
            rc = rc ? rc : bind_real(st, 21 + (int)k, bounds[k]);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting device '%s' of case %lld", r->device,
                         (long long)case_id);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, what);
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}

int bf_store_add_calibration(struct bf_store *store,
                             const struct bf_calibration_row *cal,
                             const struct bf_calibration_point_row *points,
                             size_t n, int64_t *id)
{
    sqlite3_stmt *st = store->calibration_insert;
    char now[32];
    size_t i;
    int rc, k;

    if (!store || !cal || (n && !points) || !id)
        return bf_err_set(BF_EINVAL, "bf_store_add_calibration: NULL");
    rc = tx_begin(store, "calibration");
    if (rc)
        return rc;
    bf_clock_utc_iso(now, sizeof(now));
    rc = bind_text(st, 1, cal->profile);
    rc = rc ? rc : bind_text(st, 2, cal->profile_path);
    rc = rc ? rc : bind_text(st, 3, now);
    rc = rc ? rc : bind_text(st, 4, cal->form);
    for (k = 0; k < 6; k++)
        rc = rc ? rc : sqlite3_bind_double(st, 5 + k, cal->value[k]);
    rc = rc ? rc : sqlite3_bind_double(st, 15, cal->value[6]);
    rc = rc ? rc : bind_text_or_null(st, 16, cal->runtime);
    rc = rc ? rc : bind_real(st, 17, cal->interval_log_mean);
    rc = rc ? rc : bind_real(st, 18, cal->interval_log_sd);
    rc = rc ? rc : bind_real(st, 19, cal->interval_factor);
    rc = rc ? rc : bind_text(st, 11, cal->fitted);
    rc = rc ? rc : bind_real(st, 12, cal->fit_rms_pct);
    rc = rc ? rc : bind_real(st, 13, cal->loo_mean_abs_pct);
    rc = rc ? rc : bind_real(st, 14, cal->loo_max_abs_pct);
    rc = rc ? rc : step_done(st);
    if (rc != SQLITE_OK) {
        rc = db_fail(store, "inserting the calibration of %s", cal->profile);
        goto out_rollback;
    }
    stmt_done(st);
    *id = sqlite3_last_insert_rowid(store->db);
    st = store->calibration_point_insert;
    for (i = 0; i < n; i++) {
        const struct bf_calibration_point_row *p = &points[i];

        rc = sqlite3_bind_int64(st, 1, *id);
        rc = rc ? rc : sqlite3_bind_int64(st, 2, (int64_t)i);
        rc = rc ? rc : bind_text(st, 3, p->model);
        rc = rc ? rc : sqlite3_bind_int(st, 4, p->input_px);
        rc = rc ? rc : sqlite3_bind_int64(st, 5, p->macs);
        rc = rc ? rc : sqlite3_bind_int64(st, 6, p->layers);
        rc = rc ? rc : sqlite3_bind_double(st, 7, p->measured_ms);
        rc = rc ? rc : bind_text(st, 8, p->method);
        rc = rc ? rc : sqlite3_bind_double(st, 9, p->predicted_ms);
        rc = rc ? rc : bind_real(st, 10, p->loo_ms);
        rc = rc ? rc : step_done(st);
        if (rc != SQLITE_OK) {
            rc = db_fail(store, "inserting calibration point %s of %s",
                         p->model, cal->profile);
            goto out_rollback;
        }
        stmt_done(st);
    }
    rc = tx_commit(store, "calibration");
    if (rc)
        goto out_rollback;
    return 0;

out_rollback:
    stmt_done(st);
    tx_rollback(store);
    return rc;
}
