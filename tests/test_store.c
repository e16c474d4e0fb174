/* Tests of bf_store: round trip, schema versions and the migration from
 * version 1, durability across a kill, batch atomicity, training epochs and
 * accuracy rows, and every error path the store reports. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_err.h"
#include "bf_log.h"
#include "bf_store.h"
#include "bf_store_compare.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The version 1 schema exactly as bfbench 0.1 created it (a fixture: it
 * must not follow later changes of bf_store.c).
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

/* A temporary directory holding one DB file. */
struct fixture {
    char dir[64];
    char db[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bf_test_store_XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof(f->db), "%s/bench.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    struct fixture *f = *state;
    char path[160];
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Run sql on a plain sqlite3 connection and return the first column of the
 * first row as text (caller frees), or NULL for no row or SQL NULL. */
static char *query_text(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(text);

        out = malloc(len + 1);
        assert_non_null(out);
        memcpy(out, text, len + 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static int64_t query_int(const char *db_path, const char *sql)
{
    char *text = query_text(db_path, sql);
    char *end;
    long long v;

    assert_non_null(text);
    v = strtoll(text, &end, 10);
    assert_true(*end == '\0');
    free(text);
    return v;
}

static void assert_query_text(const char *db_path, const char *sql,
                              const char *expect)
{
    char *text = query_text(db_path, sql);

    if (!expect) {
        assert_null(text);
        return;
    }
    assert_non_null(text);
    assert_string_equal(text, expect);
    free(text);
}

static void exec_sql(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static struct bf_run_info run_info(void)
{
    struct bf_run_info info = {
        .scenario_path = "scenarios/quick.yaml",
        .scenario_name = "quick",
        .scenario_sha256 = "ab12",
        .scenario_text = "name: quick\n",
        .seed = UINT64_MAX - 4, /* does not fit a signed 64-bit integer */
        .git_commit = "0123456789abcdef0123456789abcdef01234567",
        .git_dirty = 1,
        .host = "testhost",
        .cpu_model = "Test CPU",
        .cores_online = 8,
        .libtorch_version = "1.13.1",
        .blas = "openblas",
        .build_type = "Release",
        .bfbench_version = "0.1.0",
        .input_hashes = "{\"weights:resnet18\": \"cd34\"}",
        .command_line = "bfbench run scenarios/quick.yaml",
    };
    return info;
}

static struct bf_case_row case_row(int index)
{
    struct bf_case_row row = {
        .case_index = index,
        .config = "local",
        .model = "resnet18",
        .weights = "/data/resnet18.pt",
        .weights_sha256 = "cd34",
        .input_channels = 3,
        .input_h = 224,
        .input_w = 224,
        .batch = 1,
        .threads = 4,
        .fold_bn = 1,
        .channels_last = 0,
        .warmup = 10,
        .params = 11689512,
        .macs = 1814083584,
    };
    return row;
}

static struct bf_sample_row sample(int64_t seq)
{
    struct bf_sample_row s = {
        .seq = seq,
        .e2e_ns = 1000000 + seq,
        .head_ns = 400000,
        .encode_ns = 1000,
        .transfer_ns = 200000,
        .server_queue_ns = 500,
        .server_decode_ns = 700,
        .tail_ns = 300000,
        .reply_ns = 2000,
        .bytes_up = 4096,
        .bytes_down = 40,
    };
    return s;
}

/* Collects what bf_store_each_result yields. */
struct seen {
    int rows;
    int64_t run_id[8];
    char metric[8][16];
    char run_status[8][16];
    struct bf_result_view first;
    char first_weights[64];
    char first_method[64];
    char first_config[16];
    char first_model[16];
    char first_case_status[16];
    char first_case_error[64];
    char first_unit[8];
    int stop_after;
};

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static int collect(const struct bf_result_view *row, void *ctx)
{
    struct seen *s = ctx;

    if (s->rows < 8) {
        s->run_id[s->rows] = row->run_id;
        copy(s->metric[s->rows], sizeof(s->metric[0]), row->metric);
        copy(s->run_status[s->rows], sizeof(s->run_status[0]), row->run_status);
    }
    if (s->rows == 0) {
        s->first = *row;
        copy(s->first_weights, sizeof(s->first_weights), row->weights);
        copy(s->first_method, sizeof(s->first_method), row->method);
        copy(s->first_config, sizeof(s->first_config), row->config);
        copy(s->first_model, sizeof(s->first_model), row->model);
        copy(s->first_case_status, sizeof(s->first_case_status),
             row->case_status);
        copy(s->first_case_error, sizeof(s->first_case_error), row->case_error);
        copy(s->first_unit, sizeof(s->first_unit), row->unit);
    }
    s->rows++;
    if (s->stop_after && s->rows == s->stop_after)
        return 42;
    return 0;
}

static void test_store_round_trip(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(0);
    struct bf_sample_row samples[3] = {sample(0), sample(1), sample(2)};
    struct bf_aggregate_row aggs[2] = {
        {.metric = "head",
         .unit = "ms",
         .method = "measured:host:CLOCK_MONOTONIC",
         .stats = {3, 0.4, 0.01, 0.39, 0.4, 0.41, 0.42, 0.42}},
        {.metric = "e2e",
         .unit = "ms",
         .method = "measured:host:CLOCK_MONOTONIC",
         .stats = {3, 1.000001, 0.000001, 1.0, 1.000001, 1.0000018, 1.00000198,
                   1.000002}},
    };
    struct seen seen = {0};
    int64_t run_id = 0, case_id = 0, last = 0, count = 0;
    char sql[512];

    /* The third sample is a local request: nothing crossed the network. */
    samples[2].encode_ns = -1;
    samples[2].transfer_ns = -1;
    samples[2].server_queue_ns = -1;
    samples[2].server_decode_ns = -1;
    samples[2].reply_ns = -1;
    samples[2].bytes_up = -1;
    samples[2].bytes_down = -1;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_true(run_id > 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_true(case_id > 0);
    assert_int_equal(bf_store_add_samples(store, case_id, samples, 3), 0);
    assert_int_equal(bf_store_add_samples(store, case_id, samples, 0), 0);
    assert_int_equal(bf_store_add_aggregates(store, case_id, aggs, 2), 0);
    assert_int_equal(bf_store_case_end(store, case_id, "finished", NULL), 0);
    assert_int_equal(bf_store_run_end(store, run_id, "finished"), 0);

    assert_int_equal(bf_store_last_run(store, &last), 0);
    assert_int_equal(last, run_id);
    assert_int_equal(bf_store_count_samples(store, case_id, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(bf_store_count_samples(store, case_id + 100, &count), 0);
    assert_int_equal(count, 0);

    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 2);
    /* Ordered by metric within the case. */
    assert_string_equal(seen.metric[0], "e2e");
    assert_string_equal(seen.metric[1], "head");
    assert_int_equal(seen.first.run_id, run_id);
    assert_int_equal(seen.first.case_id, case_id);
    assert_int_equal(seen.first.case_index, 0);
    assert_string_equal(seen.run_status[0], "finished");
    assert_string_equal(seen.first_case_status, "finished");
    assert_string_equal(seen.first_case_error, "");
    assert_string_equal(seen.first_config, "local");
    assert_string_equal(seen.first_model, "resnet18");
    assert_string_equal(seen.first_weights, "/data/resnet18.pt");
    assert_string_equal(seen.first_unit, "ms");
    assert_string_equal(seen.first_method, "measured:host:CLOCK_MONOTONIC");
    assert_int_equal(seen.first.input_channels, 3);
    assert_int_equal(seen.first.input_h, 224);
    assert_int_equal(seen.first.input_w, 224);
    assert_int_equal(seen.first.batch, 1);
    assert_int_equal(seen.first.threads, 4);
    assert_int_equal(seen.first.fold_bn, 1);
    assert_int_equal(seen.first.channels_last, 0);
    assert_int_equal(seen.first.params, 11689512);
    assert_int_equal(seen.first.macs, 1814083584);
    assert_int_equal(seen.first.stats.n, 3);
    assert_true(seen.first.stats.mean == aggs[1].stats.mean);
    assert_true(seen.first.stats.stddev == aggs[1].stats.stddev);
    assert_true(seen.first.stats.min == aggs[1].stats.min);
    assert_true(seen.first.stats.p50 == aggs[1].stats.p50);
    assert_true(seen.first.stats.p90 == aggs[1].stats.p90);
    assert_true(seen.first.stats.p99 == aggs[1].stats.p99);
    assert_true(seen.first.stats.max == aggs[1].stats.max);

    /* Run 0 means every run: the same rows here. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_result(store, 0, collect, &seen), 0);
    assert_int_equal(seen.rows, 2);
    /* A run without results yields nothing. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_result(store, run_id + 1, collect, &seen),
                     0);
    assert_int_equal(seen.rows, 0);
    bf_store_close(store);

    /* What the columns hold, read without the store. */
    snprintf(sql, sizeof(sql), "SELECT seed FROM runs WHERE id = %lld",
             (long long)run_id);
    assert_int_equal((uint64_t)query_int(f->db, sql), UINT64_MAX - 4);
    snprintf(sql, sizeof(sql),
             "SELECT status || ' ' || git_dirty || ' ' || host || ' ' || "
             "input_hashes FROM runs WHERE id = %lld",
             (long long)run_id);
    assert_query_text(f->db, sql,
                      "finished 1 testhost {\"weights:resnet18\": \"cd34\"}");
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM runs WHERE id = %lld AND finished_at "
             "LIKE '____-__-__T__:__:__Z' AND started_at <= finished_at",
             (long long)run_id);
    assert_int_equal(query_int(f->db, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld AND error IS NULL "
             "AND finished_at IS NOT NULL AND weights_sha256 = 'cd34' AND "
             "warmup = 10",
             (long long)case_id);
    assert_int_equal(query_int(f->db, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT e2e_ns FROM samples WHERE case_id = %lld AND seq = 1",
             (long long)case_id);
    assert_int_equal(query_int(f->db, sql), 1000001);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM samples WHERE case_id = %lld AND seq = 2 "
             "AND head_ns = 400000 AND tail_ns = 300000 AND encode_ns IS "
             "NULL AND transfer_ns IS NULL AND server_queue_ns IS NULL AND "
             "server_decode_ns IS NULL AND reply_ns IS NULL AND bytes_up IS "
             "NULL AND bytes_down IS NULL",
             (long long)case_id);
    assert_int_equal(query_int(f->db, sql), 1);
}

/* A case that failed before measuring: its error is stored, and the walk
 * yields it once, without an aggregate. */
static void test_store_case_error_text(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(3);
    struct seen seen = {0};
    int64_t run_id, case_id;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(
        bf_store_case_end(store, case_id, "failed", "weights: no such file"),
        0);
    assert_int_equal(bf_store_run_end(store, run_id, "failed"), 0);

    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 1);
    assert_int_equal(seen.first.case_id, case_id);
    assert_int_equal(seen.first.case_index, 3);
    assert_string_equal(seen.run_status[0], "failed");
    assert_string_equal(seen.first_case_status, "failed");
    assert_string_equal(seen.first_case_error, "weights: no such file");
    assert_string_equal(seen.first_model, "resnet18");
    assert_string_equal(seen.metric[0], "");
    assert_string_equal(seen.first_unit, "");
    assert_string_equal(seen.first_method, "");
    assert_int_equal(seen.first.stats.n, 0);
    assert_true(seen.first.stats.mean == 0 && seen.first.stats.stddev == 0 &&
                seen.first.stats.min == 0 && seen.first.stats.p50 == 0 &&
                seen.first.stats.p90 == 0 && seen.first.stats.p99 == 0 &&
                seen.first.stats.max == 0);
    bf_store_close(store);
    assert_query_text(f->db, "SELECT status || ': ' || error FROM cases",
                      "failed: weights: no such file");
    assert_query_text(f->db, "SELECT status FROM runs", "failed");
}

/* A DB newer than this bfbench is refused, named, and left as it was. */
static void refuse_newer(const char *db_path, int version)
{
    struct bf_store *store = NULL;
    char sql[64], expect[64];

    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
    exec_sql(db_path, sql);
    store = (struct bf_store *)1;
    bf_err_clear();
    assert_int_equal(bf_store_open(db_path, &store), BF_EVERSION);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), db_path));
    snprintf(expect, sizeof(expect), "schema version %d is newer", version);
    assert_non_null(strstr(bf_last_error(), expect));
    snprintf(expect, sizeof(expect), "(%d)", BF_STORE_SCHEMA_VERSION);
    assert_non_null(strstr(bf_last_error(), expect));
    assert_non_null(strstr(bf_last_error(), "--db"));
    assert_int_equal(query_int(db_path, "PRAGMA user_version"), version);
}

static void test_store_schema_version_refused(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    bf_store_close(store);
    refuse_newer(f->db, BF_STORE_SCHEMA_VERSION + 1);
    refuse_newer(f->db, 99);
    /* Nor does a negative version read as an old one. */
    exec_sql(f->db, "PRAGMA user_version=-1");
    assert_int_equal(bf_store_open(f->db, &store), BF_EVERSION);
    assert_non_null(strstr(bf_last_error(), "version -1 is not one"));
}

static void test_store_not_sqlite(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    FILE *file = fopen(f->db, "w");
    size_t i;

    assert_non_null(file);
    for (i = 0; i < 200; i++)
        assert_true(fputs("this is a text file, not a database\n", file) >= 0);
    assert_int_equal(fclose(file), 0);

    bf_err_clear();
    assert_int_equal(bf_store_open(f->db, &store), BF_EDB);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), f->db));
    assert_non_null(strstr(bf_last_error(), "not an SQLite database"));
}

/* An SQLite DB of another program: refused by writers and readers alike,
 * and left exactly as it was (no bfbench table, no WAL switch). */
static void test_store_foreign_db_untouched(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    char *before, *after;

    FILE *file = fopen(f->db, "wb"); /* an empty file: a new SQLite DB */

    assert_non_null(file);
    assert_int_equal(fclose(file), 0);
    exec_sql(f->db, "PRAGMA journal_mode=DELETE; CREATE TABLE notes(x); "
                    "INSERT INTO notes VALUES ('mine');");
    before = query_text(f->db, "SELECT group_concat(name) FROM sqlite_schema");
    bf_err_clear();
    assert_int_equal(bf_store_open(f->db, &store), BF_EPARSE);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), "not a bfbench results DB"));
    assert_non_null(strstr(bf_last_error(), f->db));
    assert_int_equal(bf_store_open_readonly(f->db, &store), BF_EPARSE);
    assert_null(store);
    after = query_text(f->db, "SELECT group_concat(name) FROM sqlite_schema");
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_query_text(f->db, "PRAGMA journal_mode", "delete");
    assert_int_equal(query_int(f->db, "PRAGMA user_version"), 0);
}

/* Readers open a current DB read-only: its journal mode is not switched
 * and nothing is written; an empty file is no results, left empty. */
static void test_store_readonly_open(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    int64_t run_id, last = 0;
    FILE *empty;
    char path[256];
    struct stat st;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    bf_store_close(store);
    exec_sql(f->db, "PRAGMA journal_mode=DELETE");
    assert_int_equal(bf_store_open_readonly(f->db, &store), 0);
    assert_int_equal(bf_store_last_run(store, &last), 0);
    assert_int_equal(last, run_id);
    /* A write through a read-only handle fails cleanly. */
    assert_int_not_equal(bf_store_run_begin(store, &info, &run_id), 0);
    bf_store_close(store);
    assert_query_text(f->db, "PRAGMA journal_mode", "delete");
    snprintf(path, sizeof(path), "%s/empty.db", f->dir);
    empty = fopen(path, "wb");
    assert_non_null(empty);
    assert_int_equal(fclose(empty), 0);
    assert_int_equal(bf_store_open_readonly(path, &store), BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), "no results yet"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(unlink(path), 0);
}

/*
 * A WAL DB in a directory the reader cannot write (no -shm can be made):
 * readers still open it (immutable: with no WAL frames, the main file is
 * the whole DB). The reader runs as an unprivileged user in a child (as
 * root, directory permissions would not apply).
 */
static void test_store_readonly_directory(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    char dir[192], path[256];
    int64_t run_id;
    int status = -1;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s/ro", f->dir);
    snprintf(path, sizeof(path), "%s/bench.db", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(bf_store_open(path, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    bf_store_close(store);
    assert_query_text(path, "PRAGMA journal_mode", "wal");
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int64_t last = 0;
        sqlite3 *db = NULL;

        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        if (bf_store_open_readonly(path, &store) != 0)
            _exit(3);
        if (bf_store_last_run(store, &last) != 0 || last != run_id)
            _exit(4);
        bf_store_close(store);
        if (bf_store_sqlite_open_readonly(path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "SELECT count(*) FROM runs", NULL, NULL, NULL) !=
                SQLITE_OK)
            _exit(5);
        sqlite3_close(db);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A DB with damaged pages is refused before anything is written (it used
 * to take new results that could not be read back). */
static void test_store_damaged_db_refused(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    int64_t run_id, case_id;
    unsigned char junk[4096];
    FILE *db;
    long size;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    for (int i = 0; i < 200; i++) {
        struct bf_case_row row = case_row(i);

        assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    }
    bf_store_close(store);
    exec_sql(f->db, "PRAGMA journal_mode=DELETE");
    /* Overwrite the last page but one with junk (the header page and the
     * schema stay intact, so the version can be read). */
    memset(junk, 0xA5, sizeof(junk));
    db = fopen(f->db, "r+b");
    assert_non_null(db);
    assert_int_equal(fseek(db, 0, SEEK_END), 0);
    size = ftell(db);
    assert_true(size >= 4 * 4096);
    assert_int_equal(fseek(db, size - 2 * 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), db), sizeof(junk));
    assert_int_equal(fclose(db), 0);
    bf_err_clear();
    assert_int_equal(bf_store_open(f->db, &store), BF_EPARSE);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), "damaged"));
    assert_non_null(strstr(bf_last_error(), f->db));
}

static void test_store_unopenable_path(void **state)
{
    const char *path = "/nonexistent/bf_test_store/bench.db";
    struct bf_store *store = NULL;

    (void)state;
    bf_err_clear();
    assert_int_equal(bf_store_open(path, &store), BF_EDB);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), path));
    assert_non_null(strstr(bf_last_error(), "opening the results DB"));
    assert_int_equal(bf_store_open("", &store), BF_EINVAL);
}

/*
 * A process that dies after committing some work: the child begins a run
 * and a case, adds a batch of samples and then dies without ending or
 * closing anything, either through _exit() or by SIGKILL.
 */
static void killed_run(const char *db_path, int use_sigkill)
{
    struct bf_store *store = NULL;
    struct seen seen = {0};
    int64_t run_id = 0, case_id = 0, count = -1;
    int status;
    char sql[512];
    pid_t pid;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct bf_run_info info = run_info();
        struct bf_case_row row = case_row(0);
        struct bf_sample_row rows[5] = {sample(0), sample(1), sample(2),
                                        sample(3), sample(4)};

        if (bf_store_open(db_path, &store) != 0 ||
            bf_store_run_begin(store, &info, &run_id) != 0 ||
            bf_store_case_begin(store, run_id, &row, &case_id) != 0 ||
            bf_store_add_samples(store, case_id, rows, 5) != 0)
            _exit(3);
        if (use_sigkill)
            kill(getpid(), SIGKILL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (use_sigkill) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    assert_int_equal(bf_store_open(db_path, &store), 0);
    assert_int_equal(bf_store_last_run(store, &run_id), 0);
    snprintf(sql, sizeof(sql),
             "SELECT status || ' ' || ifnull(finished_at, 'none') FROM runs "
             "WHERE id = %lld",
             (long long)run_id);
    assert_query_text(db_path, sql, "running none");
    snprintf(sql, sizeof(sql),
             "SELECT id FROM cases WHERE run_id = %lld AND status = "
             "'running' AND finished_at IS NULL",
             (long long)run_id);
    case_id = query_int(db_path, sql);
    assert_int_equal(bf_store_count_samples(store, case_id, &count), 0);
    assert_int_equal(count, 5);
    /* The case died before its aggregates: reports still walk it once. */
    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 1);
    assert_int_equal(seen.first.case_id, case_id);
    assert_string_equal(seen.run_status[0], "running");
    assert_string_equal(seen.first_case_status, "running");
    assert_string_equal(seen.first_case_error, "");
    assert_string_equal(seen.metric[0], "");
    assert_int_equal(seen.first.stats.n, 0);
    /* The store stays usable: the next run can still be recorded. */
    assert_int_equal(bf_store_run_end(store, run_id, "interrupted"), 0);
    bf_store_close(store);
}

static void test_store_killed_run_exit(void **state)
{
    struct fixture *f = *state;

    killed_run(f->db, 0);
}

static void test_store_killed_run_sigkill(void **state)
{
    struct fixture *f = *state;

    killed_run(f->db, 1);
}

static void test_store_reopen_v1(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    int64_t first = 0, second = 0, last = 0;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &first), 0);
    bf_store_close(store);

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_last_run(store, &last), 0);
    assert_int_equal(last, first);
    assert_int_equal(bf_store_run_begin(store, &info, &second), 0);
    assert_true(second > first);
    assert_int_equal(bf_store_last_run(store, &last), 0);
    assert_int_equal(last, second);
    bf_store_close(store);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM runs"), 2);
}

static void test_store_wal_and_schema(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    bf_store_close(store);
    assert_query_text(f->db, "PRAGMA journal_mode", "wal");
    assert_int_equal(query_int(f->db, "PRAGMA user_version"),
                     BF_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM sqlite_schema "
                                      "WHERE type = 'table' AND name IN "
                                      "('runs', 'cases', 'samples', "
                                      "'aggregates', 'epochs', 'accuracy')"),
                     6);
}

/*
 * Processes opening one new DB at the same moment (`run --resume` racers,
 * `--jobs` workers) all get a store: the switch to WAL, which SQLite
 * answers with SQLITE_BUSY at once under that race, is retried. Eight
 * children per round, released together through a pipe, 20 rounds.
 */
static void test_store_open_race(void **state)
{
    struct fixture *f = *state;
    enum { CHILDREN = 8, ROUNDS = 20 };

    for (int round = 0; round < ROUNDS; round++) {
        char path[160];
        pid_t pids[CHILDREN];
        int go[2];

        snprintf(path, sizeof(path), "%s/race-%d.db", f->dir, round);
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < CHILDREN; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                struct bf_store *store = NULL;
                char byte;

                close(go[1]);
                if (read(go[0], &byte, 1) != 1)
                    _exit(2);
                if (bf_store_open(path, &store) != 0) {
                    fprintf(stderr, "open race: %s\n", bf_last_error());
                    _exit(1);
                }
                bf_store_close(store);
                _exit(0);
            }
        }
        close(go[0]);
        assert_int_equal(write(go[1], "gggggggg", CHILDREN), CHILDREN);
        close(go[1]);
        for (int i = 0; i < CHILDREN; i++) {
            int status = 0;

            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        assert_query_text(path, "PRAGMA journal_mode", "wal");
        for (int k = 0; k < 3; k++) {
            static const char *const suffixes[] = {"", "-wal", "-shm"};
            char file[176];

            snprintf(file, sizeof(file), "%s%s", path, suffixes[k]);
            unlink(file);
        }
    }
}

static void test_store_foreign_keys(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_case_row row = case_row(0);
    struct bf_sample_row s = sample(0);
    int64_t case_id = 0;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    bf_err_clear();
    assert_int_equal(bf_store_case_begin(store, 12345, &row, &case_id), BF_EDB);
    assert_non_null(strstr(bf_last_error(), "FOREIGN KEY"));
    assert_non_null(strstr(bf_last_error(), "case 0 of run 12345"));
    assert_int_equal(bf_store_add_samples(store, 777, &s, 1), BF_EDB);
    assert_non_null(strstr(bf_last_error(), "sample 0 of case 777"));
    bf_store_close(store);
}

static void test_store_batch_is_atomic(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(0);
    struct bf_sample_row rows[4] = {sample(10), sample(11), sample(12),
                                    sample(10)};
    struct bf_aggregate_row aggs[2] = {
        {.metric = "e2e",
         .unit = "ms",
         .method = "m",
         .stats = {1, 1, 0, 1, 1, 1, 1, 1}},
        {.metric = "e2e",
         .unit = "ms",
         .method = "m",
         .stats = {1, 1, 0, 1, 1, 1, 1, 1}},
    };
    struct seen seen = {0};
    int64_t run_id, case_id, count = -1;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);

    /* A duplicate seq fails the whole batch, not just the last row. */
    bf_err_clear();
    assert_int_equal(bf_store_add_samples(store, case_id, rows, 4), BF_EDB);
    assert_non_null(strstr(bf_last_error(), "UNIQUE"));
    assert_non_null(strstr(bf_last_error(), f->db));
    assert_int_equal(bf_store_count_samples(store, case_id, &count), 0);
    assert_int_equal(count, 0);

    /* A negative value other than -1 is a caller bug, refused whole. */
    rows[3].seq = 13;
    rows[2].tail_ns = -5;
    assert_int_equal(bf_store_add_samples(store, case_id, rows, 4), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "tail_ns is -5"));
    assert_int_equal(bf_store_count_samples(store, case_id, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(bf_store_add_samples(store, case_id, NULL, 2), BF_EINVAL);

    /* After the failures the store still takes a good batch. */
    rows[2].tail_ns = 7;
    assert_int_equal(bf_store_add_samples(store, case_id, rows, 4), 0);
    assert_int_equal(bf_store_count_samples(store, case_id, &count), 0);
    assert_int_equal(count, 4);

    assert_int_equal(bf_store_add_aggregates(store, case_id, aggs, 2), BF_EDB);
    assert_non_null(strstr(bf_last_error(), "aggregate 'e2e' of case"));
    /* No aggregate was stored: the case is walked once without one. */
    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 1);
    assert_string_equal(seen.metric[0], "");
    assert_int_equal(seen.first.stats.n, 0);
    aggs[1].metric = "";
    assert_int_equal(bf_store_add_aggregates(store, case_id, aggs, 2),
                     BF_EINVAL);
    aggs[1].metric = "head";
    assert_int_equal(bf_store_add_aggregates(store, case_id, aggs, 2), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 2);
    assert_string_equal(seen.metric[0], "e2e");
    assert_string_equal(seen.metric[1], "head");
    bf_store_close(store);
}

static void test_store_status_checked(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(0);
    int64_t run_id, case_id;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_run_end(store, run_id, "running"), BF_EINVAL);
    assert_int_equal(bf_store_run_end(store, run_id, NULL), BF_EINVAL);
    assert_int_equal(bf_store_run_end(store, run_id + 9, "finished"),
                     BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), "no run"));
    assert_int_equal(bf_store_case_end(store, case_id, "done", NULL),
                     BF_EINVAL);
    assert_int_equal(bf_store_case_end(store, case_id + 9, "skipped", ""),
                     BF_ENOENT);
    assert_int_equal(bf_store_case_end(store, case_id, "skipped", ""), 0);
    bf_store_close(store);
    assert_query_text(f->db, "SELECT status FROM runs", "running");
    assert_query_text(f->db, "SELECT error FROM cases", NULL);
}

static void test_store_empty_db(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct seen seen = {0};
    int64_t run_id = 0;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_last_run(store, &run_id), BF_ENOENT);
    assert_int_equal(bf_store_each_result(store, 0, collect, &seen), 0);
    assert_int_equal(seen.rows, 0);
    assert_int_equal(bf_store_each_result(store, -1, collect, &seen),
                     BF_EINVAL);
    bf_store_close(store);
    bf_store_close(NULL);
}

static void test_store_callback_stops_walk(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(0);
    struct bf_aggregate_row aggs[3] = {
        {.metric = "a", .unit = "ms", .method = "m", .stats = {.n = 1}},
        {.metric = "b", .unit = "ms", .method = "m", .stats = {.n = 1}},
        {.metric = "c", .unit = "ms", .method = "m", .stats = {.n = 1}},
    };
    struct seen seen = {.stop_after = 2};
    int64_t run_id, case_id;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_aggregates(store, case_id, aggs, 3), 0);
    assert_int_equal(bf_store_each_result(store, 0, collect, &seen), 42);
    assert_int_equal(seen.rows, 2);
    /* The statement was reset: a new walk starts from the beginning. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_result(store, run_id, collect, &seen), 0);
    assert_int_equal(seen.rows, 3);
    assert_string_equal(seen.metric[0], "a");
    bf_store_close(store);
}

/* Two runs with several cases come back ordered by run, then case index; a
 * case without aggregates keeps its place. */
static void test_store_result_order(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_aggregate_row agg = {
        .metric = "e2e", .unit = "ms", .method = "m", .stats = {.n = 1}};
    struct seen seen = {0};
    int64_t runs[2], case_id;
    int r, c;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    for (r = 0; r < 2; r++) {
        assert_int_equal(bf_store_run_begin(store, &info, &runs[r]), 0);
        /* Cases inserted in reverse index order. */
        for (c = 2; c >= 0; c--) {
            struct bf_case_row row = case_row(c);

            assert_int_equal(
                bf_store_case_begin(store, runs[r], &row, &case_id), 0);
            if (r == 0 && c == 1)
                continue;
            assert_int_equal(bf_store_add_aggregates(store, case_id, &agg, 1),
                             0);
        }
    }
    assert_int_equal(bf_store_each_result(store, 0, collect, &seen), 0);
    assert_int_equal(seen.rows, 6);
    for (r = 0; r < 6; r++) {
        assert_int_equal(seen.run_id[r], runs[r / 3]);
        assert_string_equal(seen.metric[r], r == 1 ? "" : "e2e");
    }
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_result(store, runs[1], collect, &seen), 0);
    assert_int_equal(seen.rows, 3);
    assert_int_equal(seen.first.case_index, 0);
    assert_int_equal(seen.run_id[2], runs[1]);
    bf_store_close(store);
}

/* The schema as SQLite stores it, for comparing two DBs. */
static char *schema_text(const char *db_path)
{
    return query_text(db_path, "SELECT group_concat(type || ' ' || name || "
                               "': ' || ifnull(sql, ''), char(10)) FROM "
                               "(SELECT * FROM sqlite_schema ORDER BY name)");
}

/* A version 1 DB holding one finished run with one measured case. */
static void make_v1_db(const char *db_path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(db_path, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "PRAGMA user_version = 1;"
            "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', "
            "'2026-01-01T00:01:00Z', 'finished', 's.yaml', 's', 'ab', "
            "'name: s', 7, 'abc', 0, 'h', 'c', 4, '1.13.1', 'openblas', "
            "'Release', '0.1.0', '{}', 'bfbench run s.yaml');"
            "INSERT INTO cases VALUES (1, 1, 0, 'local', 'resnet18', "
            "'random', '', 3, 224, 224, 1, 4, 1, 0, 5, 11689512, "
            "1814083584, 'finished', NULL, '2026-01-01T00:00:01Z', "
            "'2026-01-01T00:00:59Z');"
            "INSERT INTO samples VALUES (1, 0, 1000, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL);"
            "INSERT INTO aggregates VALUES (1, 'e2e', 'ms', 'measured:host', "
            "1, 0.001, 0, 0.001, 0.001, 0.001, 0.001, 0.001);",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
}

static struct bf_accuracy_row accuracy_row(const char *variant)
{
    struct bf_accuracy_row row = {
        .variant = variant,
        .split = "test",
        .n = 10000,
        .top1 = 91.25,
        .top5 = 99.5,
        .payload_bytes = -1,
        .payload_zstd_bytes = -1,
        .transmitted_elements = -1,
        .input_elements = 784,
        .jpeg_reference_bytes = -1,
        .jpeg_reference_quality = 0,
        .method = "measured:host",
    };
    return row;
}

/* A training case of a BottleFit student. */
static struct bf_case_row trained_case(int index)
{
    struct bf_case_row row = case_row(index);

    row.config = "train";
    row.model = "resnet_mini";
    row.strategy = "bottlefit";
    row.freeze_encoder = 1;
    row.bottleneck_version = 2;
    row.bottleneck_channels = 12;
    row.split_shape = "12x7x7";
    row.head_params = 5000;
    row.head_macs = 250000;
    row.head_bytes = 20000;
    row.dataset = "fashion-mnist";
    row.dataset_sha256 = "d5";
    row.teacher_sha256 = "7e";
    return row;
}

/*
 * A version 1 DB is migrated on open: version 2, the old rows intact and
 * readable, the new columns NULL for them, the new tables usable, and the
 * same schema as a DB created at version 2.
 */
static void test_store_migrate_v1(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = trained_case(1);
    struct bf_epoch_row epoch = {.phase = "stage1", .epoch = 1, .best = 1};
    struct bf_accuracy_row acc = accuracy_row("fp32");
    struct seen seen = {0};
    char fresh[160];
    char *migrated_schema, *fresh_schema;
    int64_t count = 0, last = 0, case_id = 0, run_id = 0;

    make_v1_db(f->db);
    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(query_int(f->db, "PRAGMA user_version"),
                     BF_STORE_SCHEMA_VERSION);

    /* The old rows, through the store and as stored. */
    assert_int_equal(bf_store_last_run(store, &last), 0);
    assert_int_equal(last, 1);
    assert_int_equal(bf_store_count_samples(store, 1, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(bf_store_each_result(store, 1, collect, &seen), 0);
    assert_int_equal(seen.rows, 1);
    assert_string_equal(seen.metric[0], "e2e");
    assert_string_equal(seen.first_model, "resnet18");
    assert_int_equal(seen.first.macs, 1814083584);
    assert_query_text(f->db,
                      "SELECT count(*) FROM cases WHERE id = 1 AND strategy "
                      "IS NULL AND freeze_encoder IS NULL AND head_params IS "
                      "NULL AND dataset IS NULL AND teacher_sha256 IS NULL",
                      "1");

    /* The new columns and tables, on the old case and on a new one. */
    assert_int_equal(bf_store_add_epochs(store, 1, &epoch, 1), 0);
    assert_int_equal(bf_store_add_accuracy(store, 1, &acc, 1), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    bf_store_close(store);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM epochs"), 1);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM accuracy"), 1);
    assert_query_text(f->db,
                      "SELECT strategy || ' ' || head_params FROM cases "
                      "WHERE id = 2",
                      "bottlefit 5000");

    /* Migrated and created at version 2: the same schema. */
    snprintf(fresh, sizeof(fresh), "%s/fresh.db", f->dir);
    assert_int_equal(bf_store_open(fresh, &store), 0);
    bf_store_close(store);
    migrated_schema = schema_text(f->db);
    fresh_schema = schema_text(fresh);
    assert_non_null(migrated_schema);
    assert_non_null(fresh_schema);
    assert_string_equal(migrated_schema, fresh_schema);
    free(migrated_schema);
    free(fresh_schema);
    unlink(fresh);
    snprintf(fresh, sizeof(fresh), "%s/fresh.db-wal", f->dir);
    unlink(fresh);
    snprintf(fresh, sizeof(fresh), "%s/fresh.db-shm", f->dir);
    unlink(fresh);
}

/* A migration that fails leaves the version 1 DB exactly as it was. */
static void test_store_migrate_v1_fails_whole(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;

    make_v1_db(f->db);
    /* A table in the way of version 2. */
    exec_sql(f->db, "CREATE TABLE accuracy (x INTEGER)");
    bf_err_clear();
    assert_int_equal(bf_store_open(f->db, &store), BF_EDB);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), f->db));
    assert_non_null(strstr(bf_last_error(), "migrating schema version 1 to 2"));
    assert_non_null(strstr(bf_last_error(), "already exists"));
    assert_int_equal(query_int(f->db, "PRAGMA user_version"), 1);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM pragma_table_info"
                                      "('cases') WHERE name = 'strategy'"),
                     0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM sqlite_schema "
                                      "WHERE name = 'epochs'"),
                     0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM cases"), 1);
}

/* The training fields of a case: stored, or NULL when not recorded. */
static void test_store_case_training_fields(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row trained = trained_case(0);
    struct bf_case_row plain = case_row(1);
    struct bf_case_row naive = trained_case(2);
    struct bf_case_row bad = trained_case(3);
    int64_t run_id, case_id;

    naive.strategy = "naive";
    naive.freeze_encoder = 0;
    naive.bottleneck_version = -1;
    naive.split_shape = "";
    naive.head_bytes = 0;
    naive.teacher_sha256 = NULL;
    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &trained, &case_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &plain, &case_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &naive, &case_id), 0);

    /* Out of range: refused before anything is stored. */
    bad.freeze_encoder = 2;
    bf_err_clear();
    assert_int_equal(bf_store_case_begin(store, run_id, &bad, &case_id),
                     BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "freeze_encoder is 2"));
    bad.freeze_encoder = 1;
    bad.head_macs = -7;
    assert_int_equal(bf_store_case_begin(store, run_id, &bad, &case_id),
                     BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "case 3 of run"));
    assert_non_null(strstr(bf_last_error(), "head_macs is -7"));
    bf_store_close(store);

    assert_query_text(f->db,
                      "SELECT strategy || ' ' || freeze_encoder || ' ' || "
                      "bottleneck_version || ':' || bottleneck_channels || ' "
                      "' || split_shape || ' ' || head_params || ' ' || "
                      "head_macs || ' ' || head_bytes || ' ' || dataset || ' "
                      "' || dataset_sha256 || ' ' || teacher_sha256 FROM "
                      "cases WHERE case_index = 0",
                      "bottlefit 1 2:12 12x7x7 5000 250000 20000 "
                      "fashion-mnist d5 7e");
    /* Designated initialisers leave the training fields 0 and NULL: all
     * stored NULL, freeze_encoder included (nothing was trained). */
    assert_int_equal(
        query_int(f->db,
                  "SELECT count(*) FROM cases WHERE case_index = 1 AND "
                  "strategy IS NULL AND freeze_encoder IS NULL AND "
                  "bottleneck_version IS NULL AND bottleneck_channels IS "
                  "NULL AND split_shape IS NULL AND head_params IS NULL AND "
                  "head_macs IS NULL AND head_bytes IS NULL AND dataset IS "
                  "NULL AND dataset_sha256 IS NULL AND teacher_sha256 IS "
                  "NULL"),
        1);
    /* With a strategy, freeze_encoder 0 is a value. */
    assert_int_equal(
        query_int(f->db,
                  "SELECT count(*) FROM cases WHERE case_index = 2 AND "
                  "freeze_encoder = 0 AND bottleneck_version IS NULL AND "
                  "bottleneck_channels = 12 AND split_shape IS NULL AND "
                  "head_bytes IS NULL AND teacher_sha256 IS NULL"),
        1);
    assert_int_equal(
        query_int(f->db, "SELECT count(*) FROM cases WHERE case_index = 3"), 0);
}

/* Epochs: numbered across calls per case, NaN stored NULL, best 0 or 1. */
static void test_store_epochs_round_trip(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = trained_case(0);
    struct bf_epoch_row first[2] = {
        {"stage1", 1, 1e-3, 2.5, 61.25, 12.5, 4800.0, 1, 0.04},
        {"stage1", 2, 1e-3, 1.75, 60.0, 12.0, 5000.0, 0, 0.03},
    };
    struct bf_epoch_row second = {"stage2", 1,      1e-4, 0.5, NAN,
                                  11.0,     5450.5, 7,    0.25};
    int64_t run_id, case_a, case_b;
    char sql[256];

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_a), 0);
    row.case_index = 1;
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_b), 0);
    assert_int_equal(bf_store_add_epochs(store, case_a, first, 2), 0);
    assert_int_equal(bf_store_add_epochs(store, case_a, first, 0), 0);
    assert_int_equal(bf_store_add_epochs(store, case_b, &second, 1), 0);
    assert_int_equal(bf_store_add_epochs(store, case_a, &second, 1), 0);

    /* Errors: no rows, an unknown case; neither stores anything. */
    assert_int_equal(bf_store_add_epochs(store, case_a, NULL, 1), BF_EINVAL);
    bf_err_clear();
    assert_int_equal(bf_store_add_epochs(store, 999, first, 2), BF_EDB);
    assert_non_null(strstr(bf_last_error(), "FOREIGN KEY"));
    assert_non_null(strstr(bf_last_error(), "epoch 1 of phase 'stage1' of "
                                            "case 999"));
    bf_store_close(store);

    snprintf(sql, sizeof(sql),
             "SELECT group_concat(seq || ' ' || phase || ' ' || epoch || ' ' "
             "|| best || ' ' || ifnull(val_top1, 'NULL'), ', ') FROM (SELECT "
             "* FROM epochs WHERE case_id = %lld ORDER BY seq)",
             (long long)case_a);
    assert_query_text(f->db, sql,
                      "0 stage1 1 1 61.25, 1 stage1 2 0 60.0, "
                      "2 stage2 1 1 NULL");
    snprintf(sql, sizeof(sql),
             "SELECT seq || ' ' || lr || ' ' || train_loss || ' ' || seconds "
             "|| ' ' || images_per_s || ' ' || train_loss_per_image FROM "
             "epochs WHERE case_id = %lld",
             (long long)case_b);
    assert_query_text(f->db, sql, "0 0.0001 0.5 11.0 5450.5 0.25");
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM epochs"), 4);
}

/* Collects what bf_store_each_accuracy yields. */
struct seen_acc {
    int rows;
    struct bf_accuracy_view view[12];
    char variant[12][16];
    char split[12][16];
    char strategy[12][16];
    char split_shape[12][16];
    char dataset[12][16];
    char method[12][16];
    char case_status[12][16];
    char case_error[12][32];
    int stop_after;
};

static int collect_acc(const struct bf_accuracy_view *v, void *ctx)
{
    struct seen_acc *s = ctx;

    if (s->rows < 12) {
        int i = s->rows;

        s->view[i] = *v;
        copy(s->variant[i], sizeof(s->variant[0]), v->acc.variant);
        copy(s->split[i], sizeof(s->split[0]), v->acc.split);
        copy(s->strategy[i], sizeof(s->strategy[0]), v->strategy);
        copy(s->split_shape[i], sizeof(s->split_shape[0]), v->split_shape);
        copy(s->dataset[i], sizeof(s->dataset[0]), v->dataset);
        copy(s->method[i], sizeof(s->method[0]), v->acc.method);
        copy(s->case_status[i], sizeof(s->case_status[0]), v->case_status);
        copy(s->case_error[i], sizeof(s->case_error[0]), v->case_error);
    }
    s->rows++;
    if (s->stop_after && s->rows == s->stop_after)
        return 7;
    return 0;
}

/*
 * Accuracy rows: the fields back as stored, n/a as -1, the compression
 * against JPEG and the element ratio computed on insert (or NULL, read as
 * NaN).
 */
static void test_store_accuracy_round_trip(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = trained_case(0);
    struct bf_accuracy_row rows[3] = {
        accuracy_row("fp32"), accuracy_row("int8"), accuracy_row("jpeg-q90")};
    struct seen_acc seen = {0};
    const struct bf_accuracy_view *v;
    int64_t run_id, case_id;
    char sql[256];

    /* fp32: payload known, no JPEG reference: no compression. */
    rows[0].payload_bytes = 2352;
    rows[0].transmitted_elements = 588;
    /* int8 against the JPEG reference. */
    rows[1].top1 = 90.5;
    rows[1].payload_bytes = 10092;
    rows[1].payload_zstd_bytes = 7001.25;
    rows[1].transmitted_elements = 588;
    rows[1].jpeg_reference_bytes = 44770;
    rows[1].jpeg_reference_quality = 90;
    /* JPEG input: larger than the reference, so the compression is
     * negative; input elements unknown, so no element ratio. */
    rows[2].top1 = 89.0;
    rows[2].top5 = 100;
    rows[2].payload_bytes = 50000;
    rows[2].transmitted_elements = 784;
    rows[2].input_elements = NAN;
    rows[2].jpeg_reference_bytes = 40000;
    rows[2].jpeg_reference_quality = 90;
    rows[2].method = NULL;
    /* An exit-rule operating point on the int8 row. */
    rows[1].exit_rule = 1;
    rows[1].offload_fraction = 0.375;
    rows[1].device_macs = 1.5e7;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_accuracy(store, case_id, rows, 3), 0);
    assert_int_equal(bf_store_add_accuracy(store, case_id, rows, 0), 0);
    assert_int_equal(bf_store_case_end(store, case_id, "finished", NULL), 0);

    assert_int_equal(bf_store_each_accuracy(store, run_id, collect_acc, &seen),
                     0);
    assert_int_equal(seen.rows, 3);
    v = &seen.view[1];
    assert_string_equal(seen.variant[1], "int8");
    assert_int_equal(v->run_id, run_id);
    assert_int_equal(v->case_id, case_id);
    assert_int_equal(v->case_index, 0);
    assert_string_equal(seen.case_status[1], "finished");
    assert_string_equal(seen.case_error[1], "");
    assert_string_equal(seen.strategy[1], "bottlefit");
    assert_int_equal(v->freeze_encoder, 1);
    assert_int_equal(v->bottleneck_version, 2);
    assert_int_equal(v->bottleneck_channels, 12);
    assert_string_equal(seen.split_shape[1], "12x7x7");
    assert_int_equal(v->head_params, 5000);
    assert_int_equal(v->head_macs, 250000);
    assert_int_equal(v->head_bytes, 20000);
    assert_string_equal(seen.dataset[1], "fashion-mnist");
    assert_string_equal(seen.method[1], "measured:host");
    assert_int_equal(v->acc.n, 10000);
    assert_true(v->acc.top1 == 90.5 && v->acc.top5 == 99.5);
    assert_true(v->acc.payload_bytes == 10092);
    assert_true(v->acc.payload_zstd_bytes == 7001.25);
    assert_true(v->acc.transmitted_elements == 588);
    assert_true(v->acc.input_elements == 784);
    assert_true(v->acc.jpeg_reference_bytes == 44770);
    assert_int_equal(v->acc.jpeg_reference_quality, 90);
    assert_true(fabs(v->compression_vs_jpeg - 0.774581192762) < 1e-9);
    assert_true(v->compression_vs_jpeg == 1.0 - 10092.0 / 44770.0);
    assert_true(v->element_ratio == 0.75);
    assert_int_equal(v->acc.exit_rule, 1);
    assert_true(v->acc.offload_fraction == 0.375);
    assert_true(v->acc.device_macs == 1.5e7);

    v = &seen.view[0];
    assert_int_equal(v->acc.exit_rule, 0);
    assert_true(v->acc.offload_fraction == -1 && v->acc.device_macs == -1);
    assert_true(v->acc.payload_zstd_bytes == -1);
    assert_true(v->acc.jpeg_reference_bytes == -1);
    assert_int_equal(v->acc.jpeg_reference_quality, 0);
    assert_true(isnan(v->compression_vs_jpeg));
    assert_true(v->element_ratio == 0.75);

    v = &seen.view[2];
    assert_true(v->compression_vs_jpeg == -0.25);
    assert_true(v->acc.input_elements == -1);
    assert_true(isnan(v->element_ratio));
    assert_string_equal(seen.method[2], "");
    bf_store_close(store);

    /* As stored: n/a is NULL. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM accuracy WHERE case_id = %lld AND "
             "variant = 'fp32' AND payload_zstd_bytes IS NULL AND "
             "jpeg_reference_bytes IS NULL AND jpeg_reference_quality IS "
             "NULL AND compression_vs_jpeg IS NULL AND element_ratio = 0.75",
             (long long)case_id);
    assert_int_equal(query_int(f->db, sql), 1);
    assert_query_text(f->db,
                      "SELECT printf('%.6f', compression_vs_jpeg) FROM "
                      "accuracy WHERE variant = 'int8'",
                      "0.774581");
    assert_query_text(f->db,
                      "SELECT ifnull(input_elements, 'NULL') || ' ' || "
                      "ifnull(element_ratio, 'NULL') FROM accuracy WHERE "
                      "variant = 'jpeg-q90'",
                      "NULL NULL");
    assert_query_text(f->db,
                      "SELECT group_concat(ifnull(offload_fraction, 'NULL') "
                      "|| '/' || ifnull(device_macs, 'NULL'), ' ') FROM "
                      "(SELECT * FROM accuracy ORDER BY variant)",
                      "NULL/NULL 0.375/15000000.0 NULL/NULL");

    /* An out-of-range operating point is refused, naming the variant. */
    assert_int_equal(bf_store_open(f->db, &store), 0);
    rows[1].variant = "exit-t0.9";
    rows[1].offload_fraction = 1.5;
    assert_int_equal(bf_store_add_accuracy(store, case_id, &rows[1], 1),
                     BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "exit-t0.9"));
    bf_store_close(store);
}

/*
 * Order: run, case index, then fp32, int8, jpeg-q<N> by N, the rest by
 * name. A training case without accuracy rows appears once, with variant
 * ""; a case without a strategy or accuracy rows does not appear.
 */
static void test_store_accuracy_order(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    static const char *const scrambled[] = {"jpeg-q90", "int8",     "zstd-raw",
                                            "jpeg-q10", "fp32",     "jpeg-q5",
                                            "jpeg-qx",  "jpeg-q100"};
    static const char *const expect[] = {"fp32",     "int8",     "jpeg-q5",
                                         "jpeg-q10", "jpeg-q90", "jpeg-q100",
                                         "jpeg-qx",  "zstd-raw"};
    struct bf_accuracy_row rows[8];
    struct bf_case_row trained = trained_case(1);
    struct bf_case_row failed = trained_case(0);
    struct bf_case_row plain = case_row(2);
    struct bf_accuracy_row test_set = accuracy_row("fp32");
    struct seen_acc seen = {0};
    int64_t runs[2], case_id;
    size_t i;

    for (i = 0; i < 8; i++)
        rows[i] = accuracy_row(scrambled[i]);
    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &runs[0]), 0);
    /* Case 1 inserted before case 0. */
    assert_int_equal(bf_store_case_begin(store, runs[0], &trained, &case_id),
                     0);
    assert_int_equal(bf_store_add_accuracy(store, case_id, rows, 8), 0);
    assert_int_equal(bf_store_case_begin(store, runs[0], &failed, &case_id), 0);
    assert_int_equal(
        bf_store_case_end(store, case_id, "failed", "teacher diverged"), 0);
    assert_int_equal(bf_store_case_begin(store, runs[0], &plain, &case_id), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &runs[1]), 0);
    trained.case_index = 0;
    assert_int_equal(bf_store_case_begin(store, runs[1], &trained, &case_id),
                     0);
    /* Same variant on another split sorts after. */
    test_set.split = "test-c";
    assert_int_equal(bf_store_add_accuracy(store, case_id, &test_set, 1), 0);
    test_set.split = "test";
    assert_int_equal(bf_store_add_accuracy(store, case_id, &test_set, 1), 0);

    assert_int_equal(bf_store_each_accuracy(store, 0, collect_acc, &seen), 0);
    assert_int_equal(seen.rows, 1 + 8 + 2);
    assert_int_equal(seen.view[0].case_index, 0);
    assert_string_equal(seen.variant[0], "");
    assert_string_equal(seen.case_status[0], "failed");
    assert_string_equal(seen.case_error[0], "teacher diverged");
    assert_string_equal(seen.strategy[0], "bottlefit");
    assert_int_equal(seen.view[0].acc.n, 0);
    assert_true(seen.view[0].acc.top1 == 0);
    assert_true(isnan(seen.view[0].compression_vs_jpeg));
    for (i = 0; i < 8; i++) {
        assert_int_equal(seen.view[1 + i].run_id, runs[0]);
        assert_int_equal(seen.view[1 + i].case_index, 1);
        assert_string_equal(seen.variant[1 + i], expect[i]);
    }
    assert_int_equal(seen.view[9].run_id, runs[1]);
    assert_string_equal(seen.variant[9], "fp32");
    assert_string_equal(seen.variant[10], "fp32");
    assert_string_equal(seen.split[9], "test");
    assert_string_equal(seen.split[10], "test-c");

    /* One run; the walk stops on a nonzero return and can start again. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_accuracy(store, runs[1], collect_acc, &seen),
                     0);
    assert_int_equal(seen.rows, 2);
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 3;
    assert_int_equal(bf_store_each_accuracy(store, 0, collect_acc, &seen), 7);
    assert_int_equal(seen.rows, 3);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(bf_store_each_accuracy(store, 0, collect_acc, &seen), 0);
    assert_int_equal(seen.rows, 11);
    assert_int_equal(bf_store_each_accuracy(store, -2, collect_acc, &seen),
                     BF_EINVAL);
    bf_store_close(store);
}

/* Every refused accuracy row fails its whole batch. */
/*
 * Resume: the finished and skipped cases of a run stay with their rows;
 * the failed one and the one a kill left running go, with theirs.
 */
static void test_store_resume(void **state)
{
    struct fixture *f = *state;
    struct bf_store *st = NULL;
    struct bf_run_info info = run_info();
    static const char *const hashes[] = {"h0", "h1", "h2", "h3"};
    static const char *const ends[] = {"finished", "skipped", "failed", NULL};
    int64_t run, other, found = 0, cases[4], complete = 0, dropped = 0;
    int64_t rid = 0;
    int done = -1;

    (void)state;
    assert_int_equal(bf_store_open(f->db, &st), 0);
    assert_int_equal(bf_store_run_of_scenario(st, info.scenario_sha256, &found),
                     BF_ENOENT);
    assert_int_equal(bf_store_run_begin(st, &info, &run), 0);
    for (int i = 0; i < 4; i++) {
        struct bf_case_row row = case_row(i);
        struct bf_sample_row sm = sample(0);

        row.case_hash = hashes[i];
        assert_int_equal(bf_store_case_begin(st, run, &row, &cases[i]), 0);
        assert_int_equal(bf_store_add_samples(st, cases[i], &sm, 1), 0);
        if (ends[i])
            assert_int_equal(bf_store_case_end(st, cases[i], ends[i], NULL), 0);
    }
    /* A later run of another scenario file is not the one to resume. */
    info.scenario_sha256 = "ff00";
    assert_int_equal(bf_store_run_begin(st, &info, &other), 0);
    assert_int_equal(bf_store_run_end(st, other, "finished"), 0);
    info = run_info();
    assert_int_equal(bf_store_run_of_scenario(st, info.scenario_sha256, &found),
                     0);
    assert_int_equal(found, run);

    assert_int_equal(
        bf_store_run_resume(st, run, &info, &complete, &dropped, &rid), 0);
    assert_int_equal(complete, 2);
    assert_int_equal(dropped, 2);
    assert_true(rid > 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bf_store_case_complete(st, run, hashes[i], &done), 0);
        assert_int_equal(done, i < 2);
    }
    assert_int_equal(bf_store_case_complete(st, other, "h0", &done), 0);
    assert_int_equal(done, 0);
    assert_int_equal(
        bf_store_run_resume(st, 999, &info, &complete, &dropped, &rid),
        BF_ENOENT);
    bf_store_close(st);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM cases WHERE "
                                      "run_id = 1"),
                     2);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM samples"), 2);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM samples WHERE "
                                      "case_id IN (1, 2)"),
                     2);
    assert_query_text(f->db,
                      "SELECT status || ' ' || resumes || ' ' || "
                      "coalesce(finished_at, 'open') FROM runs WHERE id = 1",
                      "running 1 open");
    assert_query_text(f->db, "SELECT case_hash FROM cases WHERE id = 2", "h1");
}

/* bf_store_each_resume's rows, and each run's platform as compare reads
 * it. */
struct resume_seen {
    int n;
    int64_t kept, dropped, recorded;
    char cpu[32], commit[48];
    char platform[4][80]; /* by run id */
};

static int collect_resume(const struct bf_resume_view *v, void *ctx)
{
    struct resume_seen *s = ctx;

    s->n++;
    s->kept = v->kept;
    s->dropped = v->dropped;
    s->recorded = v->recorded;
    snprintf(s->cpu, sizeof(s->cpu), "%s", v->cpu_model);
    snprintf(s->commit, sizeof(s->commit), "%s", v->git_commit);
    return 0;
}

static int collect_platform(const struct bf_run_platform_view *v, void *ctx)
{
    struct resume_seen *s = ctx;

    if (v->run_id >= 0 && v->run_id < 4)
        snprintf(s->platform[v->run_id], sizeof(s->platform[0]), "%s",
                 v->platform_sha256 ? v->platform_sha256 : "(null)");
    return 0;
}

/*
 * A resume on another machine and build: its provenance is a resumes row,
 * the run's row keeps the first process's, the cases recorded after it
 * point at it, and a comparison reads the run's platform as "mixed" once
 * such a case exists (never for a resume on the same platform, or one that
 * recorded nothing).
 */
static void test_store_resume_provenance(void **state)
{
    struct fixture *f = *state;
    struct bf_store *st = NULL;
    struct bf_run_info info = run_info();
    struct bf_run_info other = run_info();
    struct bf_case_row row = case_row(0);
    struct resume_seen seen = {0};
    int64_t run, same_run, c, complete = 0, dropped = 0, rid = 0;

    info.platform = "cpu A";
    info.platform_sha256 = "aaaa";
    other.host = "otherhost";
    other.cpu_model = "Other CPU";
    other.git_commit = "fedcba9876543210fedcba9876543210fedcba98";
    other.git_dirty = 0;
    other.platform = "cpu B";
    other.platform_sha256 = "bbbb";
    assert_int_equal(bf_store_open(f->db, &st), 0);
    assert_int_equal(bf_store_run_begin(st, &info, &run), 0);
    row.case_hash = "h0";
    assert_int_equal(bf_store_case_begin(st, run, &row, &c), 0);
    assert_int_equal(bf_store_case_end(st, c, "finished", NULL), 0);
    /* A second run, resumed on its own platform. */
    info.scenario_sha256 = "cd34";
    assert_int_equal(bf_store_run_begin(st, &info, &same_run), 0);

    /* Resumed elsewhere: nothing recorded there yet, not mixed. */
    assert_int_equal(
        bf_store_run_resume(st, run, &other, &complete, &dropped, &rid), 0);
    assert_int_equal(bf_store_each_run_platform(st, 0, collect_platform, &seen),
                     0);
    assert_string_equal(seen.platform[run], "aaaa");
    row = case_row(1);
    row.case_hash = "h1";
    row.resume_id = rid;
    assert_int_equal(bf_store_case_begin(st, run, &row, &c), 0);
    assert_int_equal(bf_store_case_end(st, c, "finished", NULL), 0);
    row = case_row(0);
    row.case_hash = "h0";
    assert_int_equal(bf_store_case_begin(st, same_run, &row, &c), 0);
    assert_int_equal(
        bf_store_run_resume(st, same_run, &info, &complete, &dropped, &rid), 0);
    row = case_row(1);
    row.case_hash = "h1";
    row.resume_id = rid;
    assert_int_equal(bf_store_case_begin(st, same_run, &row, &c), 0);

    assert_int_equal(bf_store_each_run_platform(st, 0, collect_platform, &seen),
                     0);
    assert_string_equal(seen.platform[run], "mixed");
    assert_string_equal(seen.platform[same_run], "aaaa");
    assert_int_equal(bf_store_each_resume(st, run, collect_resume, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.kept, 1);
    assert_int_equal(seen.dropped, 0);
    assert_int_equal(seen.recorded, 1);
    assert_string_equal(seen.cpu, "Other CPU");
    assert_string_equal(seen.commit, other.git_commit);
    /* same_run's resume dropped its running case h0 (no claim held it). */
    assert_int_equal(bf_store_each_resume(st, same_run, collect_resume, &seen),
                     0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.dropped, 1);
    bf_store_close(st);
    /* The run's row keeps the process that began it. */
    assert_query_text(f->db,
                      "SELECT host || ' ' || cpu_model FROM runs WHERE id = 1",
                      "testhost Test CPU");
    assert_query_text(f->db,
                      "SELECT host || ' ' || git_dirty || ' ' || command_line "
                      "FROM resumes WHERE run_id = 1",
                      "otherhost 0 bfbench run scenarios/quick.yaml");
    assert_query_text(f->db,
                      "SELECT group_concat(coalesce(resume_id, 'NULL'), ',') "
                      "FROM (SELECT resume_id FROM cases WHERE run_id = 1 "
                      "ORDER BY id)",
                      "NULL,1");
}

/*
 * Case claims: one owner at a time; a complete case is done for everyone;
 * a claim whose lease ran out is taken over with its case's leftovers
 * deleted; a resume leaves a live claim's running case alone.
 */
static void test_store_claims(void **state)
{
    struct fixture *f = *state;
    struct bf_store *st = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = case_row(0);
    int64_t run, c0, c1, n = -1, complete = 0, dropped = 0, rid = 0;
    enum bf_claim got = BF_CLAIM_DONE;

    (void)state;
    assert_int_equal(bf_store_open(f->db, &st), 0);
    assert_int_equal(bf_store_run_begin(st, &info, &run), 0);
    assert_int_equal(bf_store_case_claim(st, run, "h0", "A", 60, &got), 0);
    assert_int_equal(got, BF_CLAIM_MINE);
    assert_int_equal(bf_store_case_claim(st, run, "h0", "B", 60, &got), 0);
    assert_int_equal(got, BF_CLAIM_BUSY);
    assert_int_equal(bf_store_case_claim(st, run, "h0", "A", 60, &got), 0);
    assert_int_equal(got, BF_CLAIM_MINE);
    assert_int_equal(bf_store_claims_others(st, run, "B", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bf_store_claims_others(st, run, "A", &n), 0);
    assert_int_equal(n, 0);
    /* A runs h0 to the end: complete for B too. */
    row.case_hash = "h0";
    assert_int_equal(bf_store_case_begin(st, run, &row, &c0), 0);
    assert_int_equal(bf_store_case_end(st, c0, "finished", NULL), 0);
    assert_int_equal(bf_store_case_claim(st, run, "h0", "B", 60, &got), 0);
    assert_int_equal(got, BF_CLAIM_DONE);

    /* A claims h1 and dies mid-case: its lease (here already over) lets B
     * take h1 over; A's unfinished row goes. */
    assert_int_equal(bf_store_case_claim(st, run, "h1", "A", -1, &got), 0);
    assert_int_equal(got, BF_CLAIM_MINE);
    row = case_row(1);
    row.case_hash = "h1";
    assert_int_equal(bf_store_case_begin(st, run, &row, &c1), 0);
    /* A's live claims: h0 only (held until A ends; h1's lease is over). */
    assert_int_equal(bf_store_claims_others(st, run, "B", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bf_store_case_claim(st, run, "h1", "B", 60, &got), 0);
    assert_int_equal(got, BF_CLAIM_MINE);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM cases WHERE "
                                      "case_hash = 'h1'"),
                     0);

    /* B is alive and running h1 (a row, a live claim): a resume keeps it;
     * renewing and releasing touch B's claims only. */
    assert_int_equal(bf_store_case_begin(st, run, &row, &c1), 0);
    assert_int_equal(
        bf_store_run_resume(st, run, &info, &complete, &dropped, &rid), 0);
    assert_int_equal(complete, 1);
    assert_int_equal(dropped, 0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM cases WHERE "
                                      "case_hash = 'h1'"),
                     1);
    assert_int_equal(bf_store_claims_renew(st, "B", 120), 0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM claims WHERE "
                                      "lease_until > (julianday('now') - "
                                      "2440587.5) * 86400.0 + 100"),
                     1);
    assert_int_equal(bf_store_claims_release(st, run, "A"), 0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM claims"), 1);
    assert_int_equal(bf_store_claims_release(st, run, "B"), 0);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM claims"), 0);
    /* Without its claim, the unfinished case is a leftover: dropped. */
    assert_int_equal(
        bf_store_run_resume(st, run, &info, &complete, &dropped, &rid), 0);
    assert_int_equal(dropped, 1);
    bf_store_close(st);
}

static void test_store_accuracy_refused(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = trained_case(0);
    struct bf_accuracy_row rows[2] = {accuracy_row("fp32"),
                                      accuracy_row("int8")};
    int64_t run_id, case_id;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);

#define REFUSED(field, value, code, text)                                      \
    do {                                                                       \
        struct bf_accuracy_row keep = rows[1];                                 \
        rows[1].field = value;                                                 \
        bf_err_clear();                                                        \
        assert_int_equal(bf_store_add_accuracy(store, case_id, rows, 2),       \
                         code);                                                \
        assert_non_null(strstr(bf_last_error(), text));                        \
        rows[1] = keep;                                                        \
    } while (0)
    REFUSED(variant, NULL, BF_EINVAL, "accuracy row 1 has no variant");
    REFUSED(variant, "", BF_EINVAL, "has no variant");
    REFUSED(split, NULL, BF_EINVAL, "('int8') has no split");
    REFUSED(split, "val", BF_EINVAL, "split 'val': validation data");
    REFUSED(n, -1, BF_EINVAL, "n is -1");
    REFUSED(top1, 150, BF_EINVAL, "top-1 150 or top-5 99.5 is not a percent");
    REFUSED(top5, NAN, BF_EINVAL, "not a percentage");
    REFUSED(payload_bytes, -5, BF_EINVAL, "payload_bytes is -5 (use -1");
    REFUSED(jpeg_reference_bytes, INFINITY, BF_EINVAL,
            "jpeg_reference_bytes is inf");
    REFUSED(jpeg_reference_quality, 101, BF_EINVAL, "quality 101 is not");
    REFUSED(variant, "fp32", BF_EDB, "UNIQUE");
#undef REFUSED
    assert_int_equal(bf_store_add_accuracy(store, case_id, NULL, 1), BF_EINVAL);
    assert_int_equal(bf_store_add_accuracy(store, case_id + 5, rows, 2),
                     BF_EDB);
    assert_non_null(strstr(bf_last_error(), "FOREIGN KEY"));
    assert_non_null(strstr(bf_last_error(), "accuracy 'fp32' on 'test'"));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM accuracy"), 0);

    /* After the failures the store still takes the batch. */
    assert_int_equal(bf_store_add_accuracy(store, case_id, rows, 2), 0);
    bf_store_close(store);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM accuracy"), 2);
}

/* Per-image predictions, checks and the platform fingerprint (schema 7). */
static void test_store_predictions_checks_platform(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_case_row row = trained_case(0);
    struct bf_accuracy_row acc = accuracy_row("int8");
    static const uint16_t pred[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 300};
    static const uint8_t top1[10] = {1, 1, 0, 0, 0, 0, 0, 0, 1, 1};
    static const uint8_t topk[10] = {1, 1, 1, 0, 0, 0, 0, 0, 1, 1};
    struct bf_check_row checks[2] = {{"quantize_u8", "aa"}, {"x", "bb"}};
    struct bf_check_row again = {"quantize_u8", "cc"};
    int64_t run_id, case_id;
    char *text;

    info.platform = "cpu.model=x\n";
    info.platform_sha256 = "fp";
    acc.n = 10;
    acc.pred = pred;
    acc.pred_top1 = top1;
    acc.pred_topk = topk;
    acc.items_sha256 = "items";
    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_accuracy(store, case_id, &acc, 1), 0);
    assert_int_equal(bf_store_add_checks(store, run_id, checks, 2), 0);
    assert_int_equal(bf_store_add_checks(store, run_id, &again, 1), 0);
    /* A row without its flags is refused, with the accuracy row. */
    acc.variant = "fp32";
    acc.pred_topk = NULL;
    assert_int_equal(bf_store_add_accuracy(store, case_id, &acc, 1), BF_EINVAL);
    assert_int_equal(bf_store_add_checks(store, run_id, NULL, 1), BF_EINVAL);
    bf_store_close(store);

    text = query_text(f->db, "SELECT hex(classes) || ' ' || hex(top1) || ' ' "
                             "|| hex(topk) || ' ' || items_sha256 FROM "
                             "predictions");
    /* uint16 LE classes; bits LSB first: 0b11 then 0b11 (images 8, 9). */
    assert_string_equal(text, "00000100020003000400050006000700"
                              "08002C01 0303 0703 items");
    free(text);
    text = query_text(f->db, "SELECT count(*) FROM accuracy");
    assert_string_equal(text, "1");
    free(text);
    text = query_text(f->db, "SELECT group_concat(name || '=' || value, ',') "
                             "FROM (SELECT * FROM checks ORDER BY name)");
    assert_string_equal(text, "quantize_u8=cc,x=bb");
    free(text);
    text = query_text(f->db, "SELECT platform || platform_sha256 FROM runs");
    assert_string_equal(text, "cpu.model=x\nfp");
    free(text);
}

static int collect_group(const struct bf_seed_group_view *g, void *ctx)
{
    struct bf_seed_group_view *out = ctx;

    if (out->seeds)
        fail_msg("more than one group: %s %s", g->strategy, g->variant);
    *out = *g;
    out->model = out->strategy = out->variant = out->split = NULL;
    return 0;
}

static int count_artifact(int64_t case_id, const struct bf_artifact_row *row,
                          void *ctx)
{
    int *n = ctx;

    assert_true(case_id > 0);
    assert_string_equal(row->kind, "student");
    assert_int_equal(row->bytes, 1234);
    assert_int_equal(strlen(row->sha256), 64);
    (*n)++;
    return 0;
}

/*
 * Seeds (schema version 8): stored per case, NULL unless seeded; a
 * configuration with several seeds is summarised once, by the store, with
 * its t interval. Reference values (mean, half width, sd) from Python:
 * statistics.mean/stdev and t(0.975, 2) = 0.95 / sqrt(2 * 0.975 * 0.025)
 * (Student's t with 2 degrees of freedom in closed form) =
 * 4.302652729749462:
 *   [84.0, 85.0, 83.5]   84.1666666667 1.8972915168 0.7637626158
 *   [99.0, 99.5, 99.25]  99.2500000000 0.6210344279 0.2500000000
 * Artifacts: recorded per case and kind, read back per run.
 */
static void test_store_seeds_and_artifacts(void **state)
{
    static const double top1[3] = {84.0, 85.0, 83.5};
    static const double top5[3] = {99.0, 99.5, 99.25};
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    struct bf_run_info info = run_info();
    struct bf_seed_group_view g = {0};
    struct bf_artifact_row art = {.kind = "student",
                                  .path =
                                      "cache/student-x-0123456789abcdef.bfw",
                                  .sha256 = "0123456789abcdef0123456789abcdef"
                                            "0123456789abcdef0123456789abcdef",
                                  .bytes = 1234};
    int64_t run_id, case_id = 0;
    int n_art = 0;
    char *text;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    for (int i = 0; i < 3; i++) {
        struct bf_case_row row = trained_case(i);
        struct bf_accuracy_row acc = accuracy_row("fp32");

        row.seeded = 1;
        row.seed = (uint64_t)(11 + i);
        acc.top1 = top1[i];
        acc.top5 = top5[i];
        assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
        assert_int_equal(bf_store_add_accuracy(store, case_id, &acc, 1), 0);
        assert_int_equal(bf_store_add_artifact(store, case_id, &art), 0);
        assert_int_equal(bf_store_case_end(store, case_id, "finished", NULL),
                         0);
    }
    {
        /* An unseeded case (inference) stores NULL and joins no group. */
        struct bf_case_row row = case_row(3);

        assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    }
    assert_int_equal(bf_store_each_seed_group(store, run_id, collect_group, &g),
                     0);
    assert_int_equal(g.seeds, 3);
    assert_true(fabs(g.top1_mean - 84.1666666667) < 1e-6);
    assert_true(fabs(g.top1_half - 1.8972915168) < 1e-6);
    assert_true(fabs(g.top1_sd - 0.7637626158) < 1e-6);
    assert_true(fabs(g.top5_mean - 99.25) < 1e-6);
    assert_true(fabs(g.top5_half - 0.6210344279) < 1e-6);
    assert_int_equal(
        bf_store_each_artifact(store, run_id, count_artifact, &n_art), 0);
    assert_int_equal(n_art, 3);
    /* An artifact without its digest is refused. */
    art.sha256 = "short";
    assert_int_equal(bf_store_add_artifact(store, case_id, &art), BF_EINVAL);
    bf_store_close(store);
    text = query_text(f->db, "SELECT group_concat(coalesce(seed, 'NULL'), ',') "
                             "FROM (SELECT seed FROM cases ORDER BY id)");
    assert_string_equal(text, "11,12,13,NULL");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_case_error_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_schema_version_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_not_sqlite, setup, teardown),
        cmocka_unit_test(test_store_unopenable_path),
        cmocka_unit_test_setup_teardown(test_store_killed_run_exit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_killed_run_sigkill, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_reopen_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_and_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_foreign_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_batch_is_atomic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_status_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_empty_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_callback_stops_walk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_result_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_migrate_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_resume_provenance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_migrate_v1_fails_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_case_training_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_epochs_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_accuracy_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_accuracy_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_accuracy_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_seeds_and_artifacts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_foreign_db_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_readonly_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_damaged_db_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_readonly_directory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_predictions_checks_platform,
                                        setup, teardown),
    };

    bf_log_set_level(BF_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
