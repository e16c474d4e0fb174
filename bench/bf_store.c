/*
 * bf_store: the SQLite results store.
 *
 * One connection per handle. Every statement the store runs is prepared once
 * in bf_store_open() and reused (reset and unbound after each use), so the
 * write path does no SQL parsing. Writes outside bf_store_add_samples() and
 * bf_store_add_aggregates() are single statements in autocommit mode, so
 * each is committed (and durable up to synchronous=NORMAL) when the call
 * returns; the two batch calls wrap their rows in one BEGIN IMMEDIATE ...
 * COMMIT and roll back on any failure, so a batch is stored whole or not at
 * all.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define ISO_TIME_SIZE 32

/*
 * Schema version 1, one SQL text with its comments; column comments sit
 * inside the CREATE statements so that `sqlite3 bench.db .schema` shows
 * them.
 */
static const char schema_v1[] =
    "-- bottlefit-bench results store, schema version 1.\n"
    "-- Times are ISO 8601 UTC text (2026-11-21T08:00:00Z); durations are\n"
    "-- integer nanoseconds; a NULL stage timing means the stage does not\n"
    "-- exist in that configuration (never zero).\n"
    "\n"
    "-- One row per `bfbench run`. Committed as 'running' before any case\n"
    "-- starts, so a killed process leaves status 'running' and\n"
    "-- finished_at NULL, which reports show as unfinished.\n"
    "CREATE TABLE runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    started_at TEXT NOT NULL,\n"
    "    finished_at TEXT, -- NULL until the run ends\n"
    "    status TEXT NOT NULL CHECK (status IN\n"
    "        ('running', 'finished', 'failed', 'interrupted')),\n"
    "    scenario_path TEXT NOT NULL,\n"
    "    scenario_name TEXT NOT NULL,\n"
    "    scenario_sha256 TEXT NOT NULL, -- hex digest of the file bytes\n"
    "    scenario_text TEXT NOT NULL, -- the file itself, for exact replay\n"
    "    seed INTEGER NOT NULL, -- the uint64 seed's bits read as int64\n"
    "    git_commit TEXT NOT NULL, -- 'unknown' outside a git tree\n"
    "    git_dirty INTEGER NOT NULL CHECK (git_dirty IN (-1, 0, 1)),\n"
    "        -- 1 dirty, 0 clean, -1 unknown\n"
    "    host TEXT NOT NULL,\n"
    "    cpu_model TEXT NOT NULL,\n"
    "    cores_online INTEGER NOT NULL,\n"
    "    libtorch_version TEXT NOT NULL,\n"
    "    blas TEXT NOT NULL,\n"
    "    build_type TEXT NOT NULL, -- CMAKE_BUILD_TYPE of bfbench\n"
    "    bfbench_version TEXT NOT NULL,\n"
    "    input_hashes TEXT NOT NULL, -- JSON object: input name -> SHA-256\n"
    "    command_line TEXT NOT NULL\n"
    ");\n"
    "\n"
    "-- One row per expanded case of a run, committed 'running' when the\n"
    "-- case starts.\n"
    "CREATE TABLE cases (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    case_index INTEGER NOT NULL, -- position in the expanded matrix\n"
    "    config TEXT NOT NULL, -- local, edge, ae-split, spinn-split, ...\n"
    "    model TEXT NOT NULL,\n"
    "    weights TEXT NOT NULL, -- 'random' or the weights file path\n"
    "    weights_sha256 TEXT NOT NULL, -- '' for random weights\n"
    "    input_channels INTEGER NOT NULL,\n"
    "    input_h INTEGER NOT NULL,\n"
    "    input_w INTEGER NOT NULL,\n"
    "    batch INTEGER NOT NULL,\n"
    "    threads INTEGER NOT NULL, -- intra-op threads\n"
    "    fold_bn INTEGER NOT NULL, -- 1: batch norm folded into convs\n"
    "    channels_last INTEGER NOT NULL,\n"
    "    warmup INTEGER NOT NULL, -- untimed requests before sampling\n"
    "    params INTEGER NOT NULL,\n"
    "    macs INTEGER NOT NULL, -- per image\n"
    "    status TEXT NOT NULL CHECK (status IN\n"
    "        ('running', 'finished', 'failed', 'skipped')),\n"
    "    error TEXT, -- why it failed or was skipped, else NULL\n"
    "    started_at TEXT NOT NULL,\n"
    "    finished_at TEXT -- NULL until the case ends\n"
    ");\n"
    "-- Reports walk the cases of a run in case order.\n"
    "CREATE INDEX cases_run_case ON cases(run_id, case_index);\n"
    "\n"
    "-- One row per timed request.\n"
    "CREATE TABLE samples (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    seq INTEGER NOT NULL, -- request number within the case\n"
    "    e2e_ns INTEGER,\n"
    "    head_ns INTEGER,\n"
    "    encode_ns INTEGER,\n"
    "    transfer_ns INTEGER,\n"
    "    server_queue_ns INTEGER,\n"
    "    server_decode_ns INTEGER,\n"
    "    tail_ns INTEGER,\n"
    "    reply_ns INTEGER,\n"
    "    bytes_up INTEGER,\n"
    "    bytes_down INTEGER,\n"
    "    PRIMARY KEY (case_id, seq)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "-- Statistics computed in C from the samples, one row per case and\n"
    "-- metric, each with its unit and how it was obtained.\n"
    "CREATE TABLE aggregates (\n"
    "    case_id INTEGER NOT NULL REFERENCES cases(id),\n"
    "    metric TEXT NOT NULL, -- e2e, head, transfer, ...\n"
    "    unit TEXT NOT NULL, -- ms, bytes, mJ, ...\n"
    "    method TEXT NOT NULL,\n"
    "        -- measured:<clock or sensor> or modeled:<profile>:<version>\n"
    "    n INTEGER NOT NULL, -- number of samples summarised\n"
    "    mean REAL,\n"
    "    stddev REAL, -- sample standard deviation, 0 when n < 2\n"
    "    min REAL,\n"
    "    p50 REAL,\n"
    "    p90 REAL,\n"
    "    p99 REAL,\n"
    "    max REAL,\n"
    "    PRIMARY KEY (case_id, metric)\n"
    ") WITHOUT ROWID;\n";

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
    "a.max, c.error FROM cases c JOIN runs r ON r.id = c.run_id "              \
    "LEFT JOIN aggregates a ON a.case_id = c.id "
#define RESULT_ORDER " ORDER BY r.id, c.case_index, c.id, a.metric"

/* X(field, sql): every prepared statement of the store. */
#define STMT_LIST(X)                                                           \
    X(begin, "BEGIN IMMEDIATE")                                                \
    X(commit, "COMMIT")                                                        \
    X(rollback, "ROLLBACK")                                                    \
    X(run_insert,                                                              \
      "INSERT INTO runs (started_at, status, scenario_path, scenario_name, "   \
      "scenario_sha256, scenario_text, seed, git_commit, git_dirty, host, "    \
      "cpu_model, cores_online, libtorch_version, blas, build_type, "          \
      "bfbench_version, input_hashes, command_line) VALUES (?1, 'running', "   \
      "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "    \
      "?17)")                                                                  \
    X(run_end, "UPDATE runs SET status = ?1, finished_at = ?2 WHERE id = ?3")  \
    X(case_insert,                                                             \
      "INSERT INTO cases (run_id, case_index, config, model, weights, "        \
      "weights_sha256, input_channels, input_h, input_w, batch, threads, "     \
      "fold_bn, channels_last, warmup, params, macs, status, started_at) "     \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "  \
      "?15, ?16, 'running', ?17)")                                             \
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
    X(last_run, "SELECT max(id) FROM runs")                                    \
    X(count_samples, "SELECT count(*) FROM samples WHERE case_id = ?1")        \
    X(results_all, RESULT_COLUMNS RESULT_ORDER)                                \
    X(results_run, RESULT_COLUMNS "WHERE r.id = ?1" RESULT_ORDER)

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
static int db_fail(struct bf_store *store, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int db_fail(struct bf_store *store, const char *fmt, ...)
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
static void stmt_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Bind a string; NULL binds as "" so that NOT NULL columns accept it. */
static int bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    return sqlite3_bind_text(stmt, idx, s ? s : "", -1, SQLITE_STATIC);
}

/* Bind a string that may be absent: NULL or "" binds SQL NULL. */
static int bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (!s || !s[0])
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

/* Bind a double; NaN binds SQL NULL explicitly (as SQLite would). */
static int bind_real(sqlite3_stmt *stmt, int idx, double v)
{
    if (isnan(v))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_double(stmt, idx, v);
}

static double column_real(sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(stmt, col);
}

static const char *column_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);

    return s ? (const char *)s : "";
}

/* Run a statement that returns no rows, then ready it again. */
static int step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int tx_begin(struct bf_store *store, const char *what)
{
    int rc = step_done(store->begin);

    sqlite3_reset(store->begin);
    if (rc != SQLITE_OK)
        return db_fail(store, "starting a transaction for %s", what);
    return 0;
}

static int tx_commit(struct bf_store *store, const char *what)
{
    int rc = step_done(store->commit);

    sqlite3_reset(store->commit);
    if (rc != SQLITE_OK)
        return db_fail(store, "committing %s", what);
    return 0;
}

/* Undo the open transaction, if any; leaves the error detail alone. */
static void tx_rollback(struct bf_store *store)
{
    if (sqlite3_get_autocommit(store->db))
        return;
    sqlite3_step(store->rollback);
    sqlite3_reset(store->rollback);
}

/* Read PRAGMA user_version. */
static int read_user_version(struct bf_store *store, int *version)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    rc = sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        int code = sqlite3_errcode(store->db);

        if (code == SQLITE_NOTADB)
            rc = bf_err_set(BF_EDB, "%s: not an SQLite database (%s)",
                            store->path, sqlite3_errmsg(store->db));
        else
            rc = db_fail(store, "reading the schema version");
        sqlite3_finalize(stmt);
        return rc;
    }
    sqlite3_finalize(stmt);
    return 0;
}

/* Callback of PRAGMA journal_mode: the mode now in force. */
static int journal_mode_cb(void *ctx, int ncols, char **values, char **names)
{
    char *mode = ctx;
    size_t len;

    (void)names;
    if (ncols < 1 || !values[0])
        return 0;
    len = strlen(values[0]);
    if (len > 15)
        len = 15;
    memcpy(mode, values[0], len);
    mode[len] = '\0';
    return 0;
}

/* Connection settings: WAL journal, foreign keys, synchronous=NORMAL. */
static int configure(struct bf_store *store)
{
    char mode[16] = "";

    if (sqlite3_exec(store->db, "PRAGMA journal_mode=WAL", journal_mode_cb,
                     mode, NULL) != SQLITE_OK)
        return db_fail(store, "enabling the WAL journal");
    /* SQLite keeps the old mode where WAL is impossible (a network file
     * system, an in-memory DB); the store still works, with weaker
     * concurrency, so this is a warning. */
    if (strcmp(mode, "wal") != 0)
        bf_log_warn("%s: journal mode is '%s', not WAL; keep the results DB "
                    "on a local disk",
                    store->path, mode);
    if (sqlite3_exec(store->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(store, "enabling foreign keys");
    if (sqlite3_exec(store->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK)
        return db_fail(store, "setting synchronous=NORMAL");
    return 0;
}

static int refuse_version(struct bf_store *store, int version)
{
    if (version > BF_STORE_SCHEMA_VERSION)
        return bf_err_set(BF_EVERSION,
                          "%s: results DB schema version %d is newer than "
                          "this bfbench supports (%d); use a newer bfbench "
                          "or another --db",
                          store->path, version, BF_STORE_SCHEMA_VERSION);
    return bf_err_set(BF_EVERSION,
                      "%s: results DB schema version %d is not one bfbench "
                      "knows; use another --db",
                      store->path, version);
}

/*
 * Bring the schema to BF_STORE_SCHEMA_VERSION. The version is read again
 * inside an immediate transaction so that two processes opening a new DB at
 * once do not both create the tables.
 */
static int migrate(struct bf_store *store)
{
    char set_version[64];
    int version = 0;
    int rc;

    if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(store, "starting the schema transaction");
    rc = read_user_version(store, &version);
    if (rc)
        goto out_rollback;
    if (version == BF_STORE_SCHEMA_VERSION)
        goto out_commit;
    if (version != 0) {
        rc = refuse_version(store, version);
        goto out_rollback;
    }
    if (sqlite3_exec(store->db, schema_v1, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(store, "creating schema version %d",
                     BF_STORE_SCHEMA_VERSION);
        goto out_rollback;
    }
    snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d",
             BF_STORE_SCHEMA_VERSION);
    if (sqlite3_exec(store->db, set_version, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(store, "setting the schema version");
        goto out_rollback;
    }
out_commit:
    if (sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(store, "committing the schema");
        goto out_rollback;
    }
    return 0;

out_rollback:
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare_all(struct bf_store *store)
{
#define STMT_PREPARE(name, sql)                                                \
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,      \
                           &store->name, NULL) != SQLITE_OK)                   \
        return db_fail(store, "preparing statement '%s'", #name);
    STMT_LIST(STMT_PREPARE)
#undef STMT_PREPARE
    return 0;
}

int bf_store_open(const char *path, struct bf_store **out)
{
    struct bf_store *store;
    size_t len;
    int version = 0;
    int rc;

    *out = NULL;
    if (!path || !path[0])
        return bf_err_set(BF_EINVAL, "results DB path is empty");
    store = calloc(1, sizeof(*store));
    if (!store)
        return bf_err_set(BF_ENOMEM, "%s: no memory for the store", path);
    len = strlen(path);
    store->path = malloc(len + 1);
    if (!store->path) {
        rc = bf_err_set(BF_ENOMEM, "%s: no memory for the store", path);
        goto out_close;
    }
    memcpy(store->path, path, len + 1);

    if (sqlite3_open_v2(path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        rc = store->db
                 ? db_fail(store, "opening the results DB")
                 : bf_err_set(BF_ENOMEM, "%s: no memory for SQLite", path);
        goto out_close;
    }
    sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);

    /* Read the version before changing anything, so that a foreign file or
     * a newer DB is refused untouched. */
    rc = read_user_version(store, &version);
    if (rc)
        goto out_close;
    if (version != 0 && version != BF_STORE_SCHEMA_VERSION) {
        rc = refuse_version(store, version);
        goto out_close;
    }
    rc = configure(store);
    if (rc)
        goto out_close;
    /* Only a new DB needs the write lock that creating the schema takes;
     * a report opening a DB that a run is writing does not wait. */
    if (version != BF_STORE_SCHEMA_VERSION) {
        rc = migrate(store);
        if (rc)
            goto out_close;
    }
    rc = prepare_all(store);
    if (rc)
        goto out_close;
    *out = store;
    return 0;

out_close:
    /* bf_store_close() copes with a partly built handle. */
    bf_store_close(store);
    return rc;
}

void bf_store_close(struct bf_store *store)
{
    if (!store)
        return;
#define STMT_FINALIZE(name, sql) sqlite3_finalize(store->name);
    STMT_LIST(STMT_FINALIZE)
#undef STMT_FINALIZE
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store);
}

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

int bf_store_case_begin(struct bf_store *store, int64_t run_id,
                        const struct bf_case_row *row, int64_t *case_id)
{
    sqlite3_stmt *st = store->case_insert;
    char now[ISO_TIME_SIZE];
    int rc;

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

/* Reading back */

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
