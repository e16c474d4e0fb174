/*
 * bf_store_compare: the readers of bf_store_compare.h. Each statement is
 * prepared when its function is called (compare runs a handful per case)
 * and chosen by the DB's schema version where the versions differ, so
 * that a baseline of an older version is read as recorded.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store_compare.h"

#include "bf_err.h"
#include "bf_store_int.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* As bf_store.c: how long a reader waits for a writer's lock. */
#define BUSY_TIMEOUT_MS 5000

/* Opening */

/*
 * A failure of the connection while opening, worded as compare has always
 * worded it: a file SQLite does not recognise is not a results DB.
 */
static int open_fail(struct bf_store *store, const char *what)
{
    if (!store->db)
        return bf_err_set(BF_ENOMEM, "'%s': no memory for SQLite", store->path);
    if (sqlite3_errcode(store->db) == SQLITE_NOTADB)
        return bf_err_set(BF_EPARSE, "'%s' is not a results DB: %s",
                          store->path, sqlite3_errmsg(store->db));
    return bf_err_set(BF_EDB, "'%s': %s: %s", store->path, what,
                      sqlite3_errmsg(store->db));
}

/*
 * PRAGMA user_version of the store's DB into *version. A failure is worded
 * by open_fail() while opening, else by db_fail().
 */
static int user_version(struct bf_store *store, int opening, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = opening ? open_fail(store, "reading the schema version")
                     : db_fail(store, "reading the schema version");
    else
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* The statements of STMT_LIST whose tables and columns every schema
 * version has: those an older DB's handle prepares. */
static int any_version(const char *name)
{
    return strcmp(name, "last_run") == 0 || strcmp(name, "case_samples") == 0;
}

static int prepare_any_version(struct bf_store *store)
{
#define PREPARE_ANY_VERSION(name, sql)                                         \
    if (any_version(#name) &&                                                  \
        sqlite3_prepare_v2(store->db, sql, -1, &store->name, NULL) !=          \
            SQLITE_OK)                                                         \
        return db_fail(store, "preparing statement '%s'", #name);
    STMT_LIST(PREPARE_ANY_VERSION)
#undef PREPARE_ANY_VERSION
    return 0;
}

int bf_store_open_as_recorded(const char *path, struct bf_store **out)
{
    struct bf_store *store;
    struct stat st;
    int version = 0;
    int rc;

    if (!out)
        return bf_err_set(BF_EINVAL, "bf_store_open_as_recorded: NULL "
                                     "argument");
    *out = NULL;
    if (!path || !path[0])
        return bf_err_set(BF_EINVAL, "no results DB given");
    if (stat(path, &st) != 0)
        return bf_err_set(BF_ENOENT, "no results DB at '%s': %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bf_err_set(BF_EPARSE, "'%s' is not a file", path);
    store = calloc(1, sizeof(*store));
    if (!store || !(store->path = strdup(path))) {
        free(store);
        return bf_err_set(BF_ENOMEM, "%s: no memory for the store", path);
    }
    /* Without SQLITE_OPEN_CREATE and query_only: nothing is written. */
    if (bf_store_sqlite_open_readonly(path, &store->db) != SQLITE_OK) {
        rc = open_fail(store, "opening");
        goto out_close;
    }
    sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
    if (sqlite3_exec(store->db, "PRAGMA query_only = 1", NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = open_fail(store, "opening");
        goto out_close;
    }
    rc = user_version(store, 1, &version);
    if (rc)
        goto out_close;
    if (version <= 0) {
        rc = bf_err_set(BF_EPARSE,
                        "'%s' is not a bfbench results DB (schema version %d)",
                        path, version);
        goto out_close;
    }
    if (version > BF_STORE_SCHEMA_VERSION) {
        rc = bf_err_set(BF_EVERSION,
                        "'%s' has schema version %d, newer than this "
                        "bfbench's %d; use a newer bfbench",
                        path, version, BF_STORE_SCHEMA_VERSION);
        goto out_close;
    }
    if (version == BF_STORE_SCHEMA_VERSION) {
        /* Nothing to migrate: the store's own read-only handle. */
        bf_store_close(store);
        return bf_store_open_readonly(path, out);
    }
    rc = prepare_any_version(store);
    if (rc)
        goto out_close;
    *out = store;
    return 0;

out_close:
    bf_store_close(store);
    return rc;
}

/* Statements */

/* Prepare sql and bind id as ?1; what names the query in a failure. */
static int prepare_id(struct bf_store *store, const char *sql, int64_t id,
                      const char *what, sqlite3_stmt **st)
{
    int rc = 0;

    if (sqlite3_prepare_v2(store->db, sql, -1, st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(*st, 1, id) != SQLITE_OK) {
        rc = db_fail(store, "%s", what);
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return rc;
}

/* The caller's callback, by the view it takes. */
struct walk {
    union {
        int (*run)(const struct bf_run_platform_view *v, void *ctx);
        int (*hashed)(const struct bf_hashed_case_view *v, void *ctx);
        int (*accuracy)(const struct bf_case_accuracy_view *v, void *ctx);
        int (*aggregate)(const struct bf_aggregate_row *row, void *ctx);
        int (*sample)(const struct bf_sample_row *row, void *ctx);
        int (*device)(const struct bf_device_row *row, void *ctx);
        int (*epoch)(const struct bf_epoch_row *row, void *ctx);
        int (*check)(const struct bf_check_row *row, void *ctx);
    } fn;
    void *ctx;
};

/*
 * Step st to its end, handing each row to row() (which reads it into a
 * view and calls the walk's callback), then finalize it. A nonzero return
 * from row() stops the walk and is returned.
 */
static int walk_rows(struct bf_store *store, sqlite3_stmt *st,
                     int (*row)(sqlite3_stmt *st, const struct walk *w),
                     const struct walk *w, const char *what)
{
    int rc = 0;
    int step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = row(st, w)))
            break;
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(store, "%s", what);
    sqlite3_finalize(st);
    return rc;
}

/* Prepare sql with id as ?1 and walk its rows. */
static int walk_query(struct bf_store *store, const char *sql, int64_t id,
                      int (*row)(sqlite3_stmt *st, const struct walk *w),
                      const struct walk *w, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare_id(store, sql, id, what, &st);

    return rc ? rc : walk_rows(store, st, row, w, what);
}

/* An optional integer: SQL NULL reads as absent. */
static int64_t column_int64_or(sqlite3_stmt *st, int col, int64_t absent)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_int64(st, col);
}

/* Runs */

static int run_platform_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_run_platform_view v = {
        .run_id = sqlite3_column_int64(st, 0),
        .cpu_model = column_text(st, 1),
        .platform = column_text(st, 2),
        .platform_sha256 = column_text(st, 3),
    };

    return w->fn.run(&v, w->ctx);
}

int bf_store_each_run_platform(struct bf_store *store, int64_t run_id,
                               int (*fn)(const struct bf_run_platform_view *v,
                                         void *ctx),
                               void *ctx)
{
    const struct walk w = {.fn.run = fn, .ctx = ctx};
    int version = 0;
    int rc = user_version(store, 0, &version);

    if (rc)
        return rc;
    return walk_query(
        store,
        version >= 14 ? "SELECT id, cpu_model, platform, " RUN_PLATFORM_SHA(
                            "", "runs") " FROM runs WHERE ?1 = 0 OR id = "
                                        "?1 ORDER BY id"
        : version >= 7 ? "SELECT id, cpu_model, platform, platform_sha256 "
                         "FROM runs WHERE ?1 = 0 OR id = ?1 ORDER BY id"
                       : "SELECT id, cpu_model, NULL, NULL FROM runs "
                         "WHERE ?1 = 0 OR id = ?1 ORDER BY id",
        run_id, run_platform_row, &w, "reading the platforms");
}

/* Cases by hash */

int bf_store_count_unhashed_cases(struct bf_store *store, int64_t run_id,
                                  size_t *count)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    int rc = user_version(store, 0, &version);

    if (rc == 0)
        rc = prepare_id(store,
                        version >= 6
                            ? "SELECT count(*) FROM cases WHERE case_hash IS "
                              "NULL AND (?1 = 0 OR run_id = ?1)"
                            : "SELECT count(*) FROM cases WHERE ?1 = 0 OR "
                              "run_id = ?1",
                        run_id, "counting cases", &st);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(store, "counting cases");
    sqlite3_finalize(st);
    return rc;
}

static int hashed_case_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_hashed_case_view v = {
        .case_id = sqlite3_column_int64(st, 0),
        .run_id = sqlite3_column_int64(st, 1),
        .case_index = sqlite3_column_int(st, 2),
        .case_hash = column_text(st, 3),
        .status = column_text(st, 4),
        .error = column_text(st, 5),
        .config = column_text(st, 6),
        .model = column_text(st, 7),
        .strategy = column_text(st, 8),
        .bottleneck_channels = sqlite3_column_int(st, 9),
        .freeze_encoder = (int)column_int64_or(st, 10, -1),
        .link_rate_mbps = column_real(st, 11),
        .background_clients = sqlite3_column_int(st, 12),
        .params = sqlite3_column_int64(st, 13),
        .macs = sqlite3_column_int64(st, 14),
        .head_params = column_int64_or(st, 15, -1),
        .head_macs = column_int64_or(st, 16, -1),
        .head_bytes = column_int64_or(st, 17, -1),
        .split_shape = column_text(st, 18),
        .input_channels = sqlite3_column_int(st, 19),
        .input_h = sqlite3_column_int(st, 20),
        .input_w = sqlite3_column_int(st, 21),
        .threads = sqlite3_column_int(st, 22),
    };

    return w->fn.hashed(&v, w->ctx);
}

int bf_store_each_hashed_case(struct bf_store *store, int64_t run_id,
                              int (*fn)(const struct bf_hashed_case_view *v,
                                        void *ctx),
                              void *ctx)
{
    const struct walk w = {.fn.hashed = fn, .ctx = ctx};
    int version = 0;
    int rc = user_version(store, 0, &version);

    if (rc || version < 6)
        return rc;
    return walk_query(
        store,
        "SELECT id, run_id, case_index, case_hash, status, error, config, "
        "model, strategy, bottleneck_channels, freeze_encoder, "
        "link_rate_mbps, background_clients, params, macs, head_params, "
        "head_macs, head_bytes, split_shape, input_channels, input_h, "
        "input_w, threads FROM cases WHERE case_hash IS NOT NULL AND (?1 = 0 "
        "OR run_id = ?1) ORDER BY case_hash, status IN ('finished', "
        "'skipped') DESC, id DESC",
        run_id, hashed_case_row, &w, "reading cases");
}

/* The rows of one case */

static int case_accuracy_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_case_accuracy_view v = {
        .variant = column_text(st, 0),
        .split = column_text(st, 1),
        .n = sqlite3_column_int64(st, 2),
        .top1 = column_real(st, 3),
        .top5 = column_real(st, 4),
        .payload_bytes = column_real(st, 5),
        .payload_zstd_bytes = column_real(st, 6),
        .transmitted_elements = column_real(st, 7),
        .input_elements = column_real(st, 8),
        .jpeg_reference_bytes = column_real(st, 9),
        .offload_fraction = column_real(st, 10),
        .device_macs = column_real(st, 11),
        .predictions = sqlite3_column_type(st, 12) != SQLITE_NULL,
        .items_sha256 = column_text(st, 12),
    };

    if (v.predictions) {
        v.classes = sqlite3_column_blob(st, 13);
        v.classes_bytes = (size_t)sqlite3_column_bytes(st, 13);
        v.top1_bits = sqlite3_column_blob(st, 14);
        v.top1_bytes = (size_t)sqlite3_column_bytes(st, 14);
        v.topk_bits = sqlite3_column_blob(st, 15);
        v.topk_bytes = (size_t)sqlite3_column_bytes(st, 15);
    }
    return w->fn.accuracy(&v, w->ctx);
}

int bf_store_each_case_accuracy(struct bf_store *store, int64_t case_id,
                                int (*fn)(const struct bf_case_accuracy_view *v,
                                          void *ctx),
                                void *ctx)
{
    const struct walk w = {.fn.accuracy = fn, .ctx = ctx};
    int version = 0;
    int rc = user_version(store, 0, &version);

    if (rc)
        return rc;
    /* Per-image results from version 7 on. */
    return walk_query(
        store,
        version >= 7
            ? "SELECT a.variant, a.split, a.n, a.top1, a.top5, "
              "a.payload_bytes, a.payload_zstd_bytes, a.transmitted_elements, "
              "a.input_elements, a.jpeg_reference_bytes, a.offload_fraction, "
              "a.device_macs, p.items_sha256, p.classes, p.top1, p.topk FROM "
              "accuracy a LEFT JOIN predictions p ON p.case_id = a.case_id "
              "AND p.variant = a.variant AND p.split = a.split WHERE "
              "a.case_id = ?1 ORDER BY a.variant, a.split"
            : "SELECT variant, split, n, top1, top5, payload_bytes, "
              "payload_zstd_bytes, transmitted_elements, input_elements, "
              "jpeg_reference_bytes, offload_fraction, device_macs, NULL, "
              "NULL, NULL, NULL FROM accuracy WHERE case_id = ?1 ORDER BY "
              "variant, split",
        case_id, case_accuracy_row, &w, "reading the accuracy of a case");
}

static int case_aggregate_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_aggregate_row row = {
        .metric = column_text(st, 0),
        .unit = column_text(st, 1),
        .method = column_text(st, 2),
        .stats = {.n = (size_t)sqlite3_column_int64(st, 3),
                  .mean = column_real(st, 4),
                  .stddev = column_real(st, 5),
                  .min = column_real(st, 6),
                  .p50 = column_real(st, 7),
                  .p90 = column_real(st, 8),
                  .p99 = column_real(st, 9),
                  .max = column_real(st, 10)},
    };

    return w->fn.aggregate(&row, w->ctx);
}

int bf_store_each_case_aggregate(struct bf_store *store, int64_t case_id,
                                 int (*fn)(const struct bf_aggregate_row *row,
                                           void *ctx),
                                 void *ctx)
{
    const struct walk w = {.fn.aggregate = fn, .ctx = ctx};

    return walk_query(store,
                      "SELECT metric, unit, method, n, mean, stddev, min, p50, "
                      "p90, p99, max FROM aggregates WHERE case_id = ?1 ORDER "
                      "BY metric",
                      case_id, case_aggregate_row, &w,
                      "reading the aggregates of a case");
}

static int case_sample_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_sample_row row = {
        .seq = sqlite3_column_int64(st, 0),
        .e2e_ns = column_int64_or(st, 1, -1),
        .head_ns = column_int64_or(st, 2, -1),
        .encode_ns = column_int64_or(st, 3, -1),
        .transfer_ns = column_int64_or(st, 4, -1),
        .server_queue_ns = column_int64_or(st, 5, -1),
        .server_decode_ns = column_int64_or(st, 6, -1),
        .tail_ns = column_int64_or(st, 7, -1),
        .reply_ns = column_int64_or(st, 8, -1),
        .bytes_up = column_int64_or(st, 9, -1),
        .bytes_down = column_int64_or(st, 10, -1),
    };

    return w->fn.sample(&row, w->ctx);
}

int bf_store_each_case_sample(struct bf_store *store, int64_t case_id,
                              int (*fn)(const struct bf_sample_row *row,
                                        void *ctx),
                              void *ctx)
{
    const struct walk w = {.fn.sample = fn, .ctx = ctx};

    return walk_query(store,
                      "SELECT seq, e2e_ns, head_ns, encode_ns, transfer_ns, "
                      "server_queue_ns, server_decode_ns, tail_ns, reply_ns, "
                      "bytes_up, bytes_down FROM samples WHERE case_id = ?1 "
                      "ORDER BY seq",
                      case_id, case_sample_row, &w,
                      "reading the samples of a case");
}

static int case_device_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_device_row row = {
        .device = column_text(st, 0),
        .role = column_text(st, 1),
        .latency_method = column_text(st, 2),
        .power_method = column_text(st, 3),
        .radio = column_text(st, 4),
        .requests = sqlite3_column_int64(st, 5),
        .host_head_ms = column_real(st, 6),
        .head_ms = column_real(st, 7),
        .encode_ms = column_real(st, 8),
        .transfer_ms = column_real(st, 9),
        .server_ms = column_real(st, 10),
        .e2e_ms = column_real(st, 11),
        .e2e_mean_ms = column_real(st, 12),
        .e2e_p90_ms = column_real(st, 13),
        .avg_power_mw = column_real(st, 14),
        .avg_power_above_idle_mw = column_real(st, 15),
        .energy_mj = column_real(st, 16),
        .energy_above_idle_mj = column_real(st, 17),
    };

    return w->fn.device(&row, w->ctx);
}

int bf_store_each_case_device(struct bf_store *store, int64_t case_id,
                              int (*fn)(const struct bf_device_row *row,
                                        void *ctx),
                              void *ctx)
{
    const struct walk w = {.fn.device = fn, .ctx = ctx};

    return walk_query(
        store,
        "SELECT device, role, latency_method, power_method, radio, requests, "
        "host_head_ms, head_ms, encode_ms, transfer_ms, server_ms, e2e_ms, "
        "e2e_mean_ms, e2e_p90_ms, avg_power_mw, avg_power_above_idle_mw, "
        "energy_mj, energy_above_idle_mj FROM device_results WHERE case_id = "
        "?1 ORDER BY device",
        case_id, case_device_row, &w, "reading the device rows of a case");
}

static int case_epoch_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_epoch_row row = {
        .phase = column_text(st, 0),
        .epoch = sqlite3_column_int(st, 1),
        .lr = column_real(st, 2),
        .train_loss = column_real(st, 3),
        .val_top1 = column_real(st, 4),
        .seconds = column_real(st, 5),
        .images_per_s = column_real(st, 6),
        .best = sqlite3_column_int(st, 7),
    };

    return w->fn.epoch(&row, w->ctx);
}

int bf_store_each_case_epoch(struct bf_store *store, int64_t case_id,
                             int (*fn)(const struct bf_epoch_row *row,
                                       void *ctx),
                             void *ctx)
{
    const struct walk w = {.fn.epoch = fn, .ctx = ctx};

    return walk_query(store,
                      "SELECT phase, epoch, lr, train_loss, val_top1, "
                      "seconds, images_per_s, best FROM epochs WHERE case_id "
                      "= ?1 ORDER BY seq",
                      case_id, case_epoch_row, &w,
                      "reading the epochs of a case");
}

/* Checks */

static int check_row(sqlite3_stmt *st, const struct walk *w)
{
    struct bf_check_row row = {.name = column_text(st, 0),
                               .value = column_text(st, 1)};

    return w->fn.check(&row, w->ctx);
}

int bf_store_each_check(struct bf_store *store, int64_t run_id,
                        int (*fn)(const struct bf_check_row *row, void *ctx),
                        void *ctx)
{
    const struct walk w = {.fn.check = fn, .ctx = ctx};
    int version = 0;
    int rc = user_version(store, 0, &version);

    if (rc)
        return rc;
    if (version < 7)
        return BF_ENOENT; /* no checks table: no detail */
    /* Per name the newest run's value among the runs asked for. */
    return walk_query(store,
                      "SELECT name, value FROM checks c WHERE run_id = "
                      "(SELECT max(run_id) FROM checks d WHERE d.name = "
                      "c.name AND (?1 = 0 OR d.run_id = ?1)) ORDER BY name",
                      run_id, check_row, &w, "reading the checks");
}
