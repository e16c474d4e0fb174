/* Tests of bf_store: round trip, schema versions, durability across a kill,
 * batch atomicity and every error path the store reports. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_err.h"
#include "bf_log.h"
#include "bf_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void test_store_schema_version_refused(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;

    assert_int_equal(bf_store_open(f->db, &store), 0);
    bf_store_close(store);
    exec_sql(f->db, "PRAGMA user_version=99");

    store = (struct bf_store *)1;
    bf_err_clear();
    assert_int_equal(bf_store_open(f->db, &store), BF_EVERSION);
    assert_null(store);
    assert_non_null(strstr(bf_last_error(), f->db));
    assert_non_null(strstr(bf_last_error(), "schema version 99 is newer"));
    assert_non_null(strstr(bf_last_error(), "(1)"));
    assert_non_null(strstr(bf_last_error(), "--db"));
    /* The refused DB is left as it was. */
    assert_int_equal(query_int(f->db, "PRAGMA user_version"), 99);
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
                                      "'aggregates')"),
                     4);
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
    };

    bf_log_set_level(BF_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
