/*
 * Tests of bf_compare and `bfbench compare`: a fixture DB written through
 * bf_store and copies of it with one thing changed in SQL (an accuracy, a
 * byte count, every timing, a case missing or failed, no hashes, a newer
 * schema), compared through the CLI for the exit codes and messages and
 * through the library for the counts and a golden table; bad arguments;
 * and the CI suite (scenarios/ci/tiny.yaml) run afresh against its
 * committed baseline results/reference/ci-tiny.db.
 *
 * To regenerate the golden file after an intended change of the format,
 * run this binary with BF_UPDATE_GOLDEN=1 and review the diff by eye.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_golden.h"
#include "bf_spawn.h"

#include "bf_compare.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_store.h"

#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BF_FIXTURES_DIR
#define BF_FIXTURES_DIR "tests/fixtures"
#endif

#define HOST "measured:host:CLOCK_MONOTONIC"
#define HASH_NET                                                               \
    "aaaa000000000000000000000000000000000000000000000000000000000000"
#define HASH_TRAIN                                                             \
    "bbbb000000000000000000000000000000000000000000000000000000000000"
#define HASH_LOCAL                                                             \
    "cccc000000000000000000000000000000000000000000000000000000000000"

static char base_db[512]; /* the fixture: one run */

/* The fixture DB */

static struct bf_run_info run_info(void)
{
    struct bf_run_info info = {
        .scenario_path = "scenarios/fixture.yaml",
        .scenario_name = "fixture",
        .scenario_sha256 = "",
        .scenario_text = "",
        .seed = 1,
        .git_commit = "unknown",
        .git_dirty = -1,
        .host = "h",
        .cpu_model = "cpu",
        .cores_online = 2,
        .libtorch_version = "1.13.1",
        .blas = "openblas",
        .build_type = "Release",
        .bfbench_version = "0.1.0",
        .input_hashes = "{}",
        .command_line = "bfbench run scenarios/fixture.yaml",
    };

    return info;
}

static struct bf_stats stats_of(double v, size_t n)
{
    struct bf_stats st = {.n = n,
                          .mean = v,
                          .min = v * 0.9,
                          .p50 = v,
                          .p90 = v * 1.1,
                          .p99 = v * 1.2,
                          .max = v * 1.2};

    return st;
}

/* An offloaded inference case: samples, aggregates, devices. */
static void add_net_case(struct bf_store *s, int64_t run)
{
    struct bf_case_row row = {.case_index = 0,
                              .case_hash = HASH_NET,
                              .config = "bottlefit",
                              .model = "resnet_mini",
                              .weights = "random",
                              .weights_sha256 = "",
                              .input_channels = 1,
                              .input_h = 28,
                              .input_w = 28,
                              .batch = 1,
                              .threads = 1,
                              .fold_bn = 1,
                              .params = 708142,
                              .macs = 20000000,
                              .bottleneck_version = 2,
                              .bottleneck_channels = 2,
                              .split_shape = "2x8x8",
                              .head_params = 9888,
                              .head_macs = 500000,
                              .head_bytes = 39552,
                              .link = "fixed 5 Mbit/s RTT 10 ms",
                              .link_rate_mbps = 5,
                              .link_rtt_ms = 10};
    struct bf_sample_row samples[5];
    struct bf_aggregate_row aggs[] = {
        {"bytes_up", "bytes", "counted:host", stats_of(176, 5)},
        {"busy_retries", "requests", "counted:host", stats_of(0, 5)},
        {"e2e", "ms", HOST, stats_of(12.5, 5)},
        {"head", "ms", HOST, stats_of(0.45, 5)},
        {"server_queue", "ms", HOST, stats_of(0.0003, 5)},
    };
    struct bf_device_row devs[] = {
        {.device = "host",
         .role = "device",
         .latency_method = "measured:host:CLOCK_MONOTONIC (this machine)",
         .power_method = "modeled:power states",
         .radio = "wifi",
         .requests = 5,
         .host_head_ms = 0.45,
         .head_ms = 0.45,
         .energy_mj = 30},
        {.device = "jetson-nano-10w",
         .role = "device",
         .latency_method = "modeled:roofline per-layer model (/x/j.yaml)",
         .power_method = "modeled:power states",
         .radio = "wifi",
         .requests = 5,
         .host_head_ms = 0.45,
         .head_ms = 0.99,
         .energy_mj = 30},
    };
    int64_t id;

    for (int i = 0; i < 5; i++) {
        struct bf_sample_row r = {.seq = i,
                                  .e2e_ns = 12500000 + i,
                                  .head_ns = 450000,
                                  .encode_ns = 9000,
                                  .transfer_ns = 5500000,
                                  .server_queue_ns = 300,
                                  .server_decode_ns = 25000,
                                  .tail_ns = 1500000,
                                  .reply_ns = 5141000,
                                  .bytes_up = 176,
                                  .bytes_down = 88};

        samples[i] = r;
    }
    assert_int_equal(bf_store_case_begin(s, run, &row, &id), 0);
    assert_int_equal(bf_store_add_samples(s, id, samples, 5), 0);
    assert_int_equal(
        bf_store_add_aggregates(s, id, aggs, sizeof(aggs) / sizeof(*aggs)), 0);
    assert_int_equal(bf_store_add_devices(s, id, devs, 2), 0);
    assert_int_equal(bf_store_case_end(s, id, "finished", NULL), 0);
}

/* A training case: epochs and accuracy rows. */
static void add_train_case(struct bf_store *s, int64_t run)
{
    struct bf_case_row row = {.case_index = 1,
                              .case_hash = HASH_TRAIN,
                              .config = "local",
                              .model = "resnet_mini",
                              .weights = "random",
                              .weights_sha256 = "",
                              .input_channels = 1,
                              .input_h = 28,
                              .input_w = 28,
                              .batch = 64,
                              .threads = 1,
                              .params = 708142,
                              .macs = 20000000,
                              .strategy = "bottlefit",
                              .freeze_encoder = 1,
                              .bottleneck_version = 2,
                              .bottleneck_channels = 2,
                              .split_shape = "2x8x8",
                              .head_params = 9888,
                              .head_macs = 500000,
                              .dataset = "fashion-mnist"};
    struct bf_epoch_row epochs[] = {
        {"stage1", 1, 0.001, 8.5e5, 12.5, 2.3, 400, 1},
        {"stage2", 1, 0.001, 0.62, 21.43, 2.4, 380, 1},
    };
    struct bf_accuracy_row acc[] = {
        {.variant = "fp32",
         .split = "test",
         .n = 500,
         .top1 = 18.4,
         .top5 = 68,
         .payload_bytes = 512,
         .payload_zstd_bytes = -1,
         .transmitted_elements = 128,
         .input_elements = 784,
         .jpeg_reference_bytes = 735.9,
         .jpeg_reference_quality = 90,
         .method = "measured:host"},
        {.variant = "int8",
         .split = "test",
         .n = 500,
         .top1 = 18.6,
         .top5 = 68,
         .payload_bytes = 133,
         .payload_zstd_bytes = 136.3,
         .transmitted_elements = 128,
         .input_elements = 784,
         .jpeg_reference_bytes = 735.9,
         .jpeg_reference_quality = 90,
         .method = "measured:host"},
    };
    int64_t id;

    assert_int_equal(bf_store_case_begin(s, run, &row, &id), 0);
    assert_int_equal(bf_store_add_epochs(s, id, epochs, 2), 0);
    assert_int_equal(bf_store_add_accuracy(s, id, acc, 2), 0);
    assert_int_equal(bf_store_case_end(s, id, "finished", NULL), 0);
}

/* A local case, and one without a hash when unhashed is set. */
static void add_local_case(struct bf_store *s, int64_t run, int index,
                           const char *hash)
{
    struct bf_case_row row = {.case_index = index,
                              .case_hash = hash,
                              .config = "local",
                              .model = "resnet_mini",
                              .weights = "random",
                              .weights_sha256 = "",
                              .input_channels = 1,
                              .input_h = 28,
                              .input_w = 28,
                              .batch = 1,
                              .threads = 1,
                              .fold_bn = 1,
                              .params = 701178,
                              .macs = 30000000};
    struct bf_aggregate_row aggs[] = {{"e2e", "ms", HOST, stats_of(1.3, 5)}};
    int64_t id;

    assert_int_equal(bf_store_case_begin(s, run, &row, &id), 0);
    assert_int_equal(bf_store_add_aggregates(s, id, aggs, 1), 0);
    assert_int_equal(bf_store_case_end(s, id, "finished", NULL), 0);
}

/* Append one run of the fixture to the DB at path. */
static void write_fixture(const char *path)
{
    struct bf_run_info info = run_info();
    struct bf_store *s = NULL;
    int64_t run;

    assert_int_equal(bf_store_open(path, &s), 0);
    assert_int_equal(bf_store_run_begin(s, &info, &run), 0);
    add_net_case(s, run);
    add_train_case(s, run);
    add_local_case(s, run, 2, HASH_LOCAL);
    assert_int_equal(bf_store_run_end(s, run, "finished"), 0);
    bf_store_close(s);
}

/* Helpers */

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    char buf[8192];
    size_t n;

    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* A copy of the fixture named name, changed by sql (may be NULL). */
static void variant(char *path, size_t size, const char *name, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    tmp_path(path, size, name);
    copy_file(base_db, path);
    if (!sql)
        return;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void expect_in(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("'%s' not in:\n%s\n(stderr:\n%s)", what, text, err_text);
}

/* The library's output for base vs path, and its summary. */
static char *compare_text(const char *base, const char *path,
                          enum bf_report_format format, double tolerance,
                          struct bf_compare_summary *sum)
{
    struct bf_compare_params p = {.base = {.path = base},
                                  .candidate = {.path = path},
                                  .time_tolerance = tolerance,
                                  .time_floor_ms = BF_COMPARE_FLOOR_MS,
                                  .format = format};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    assert_int_equal(bf_compare_write(&p, out, sum), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void assert_golden(const char *actual, const char *name)
{
    golden_assert(actual, "compare", name);
}

/* Every timing of a DB twice as long, training half as fast. */
#define SLOWDOWN_SQL                                                           \
    "UPDATE aggregates SET mean = mean * 2, min = min * 2, p50 = p50 * 2, "    \
    "p90 = p90 * 2, p99 = p99 * 2, max = max * 2 WHERE unit = 'ms'; "          \
    "UPDATE epochs SET images_per_s = images_per_s / 2, "                      \
    "seconds = seconds * 2;"

/* Tests */

static void test_compare_identical_pass(void **state)
{
    char copy[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    variant(copy, sizeof(copy), "same.db", NULL);
    expect(RUN("compare", base_db, copy), 0, "identical");
    expect_in(out_text, "3 cases matched");
    expect_in(out_text, " 0 differ, ");
    expect_in(out_text, "result: PASS");
    expect_in(err_text, "every run: 3 case(s) with a hash");
    /* The DB itself compared with itself, and nothing left beside it. */
    expect(RUN("compare", base_db, base_db), 0, "itself");
    {
        char wal[600];
        struct stat st;

        snprintf(wal, sizeof(wal), "%s-wal", base_db);
        assert_int_not_equal(stat(wal, &st), 0);
    }
    text = compare_text(base_db, copy, BF_REPORT_TEXT, 1.3, &sum);
    assert_int_equal(sum.matched, 3);
    assert_int_equal(sum.exact_differ, 0);
    /* Status and 8 shape facts of every case; the offloaded case's 4
     * bytes_up statistics, request count, bytes up and down, modeled
     * device head; the training case's 2 x 10 accuracy fields, epoch
     * count and 2 x 4 epoch fields. */
    assert_int_equal(sum.exact_equal, 3 * (1 + 8) + (4 + 3 + 1) + (20 + 1 + 8));
    /* e2e, head, server_queue; e2e; stage1 and stage2 throughput. */
    assert_int_equal(sum.timings_within, 6);
    assert_int_equal(sum.regression, 0);
    free(text);
}

static void test_compare_accuracy_change_fails(void **state)
{
    char path[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    variant(path, sizeof(path), "acc.db",
            "UPDATE accuracy SET top1 = top1 + 0.01 WHERE variant = 'int8'");
    expect(RUN("compare", base_db, path), 1, "accuracy changed");
    expect_in(out_text, "acc.int8.top1");
    expect_in(out_text, "DIFFERS");
    expect_in(out_text, "result: REGRESSION");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    assert_int_equal(sum.exact_differ, 1);
    assert_int_equal(sum.regression, 1);
    free(text);
}

static void test_compare_bytes_change_fails(void **state)
{
    char path[512];

    (void)state;
    variant(path, sizeof(path), "bytes.db",
            "UPDATE samples SET bytes_up = bytes_up + 1 WHERE seq = 2");
    expect(RUN("compare", base_db, path), 1, "bytes_up changed");
    expect_in(out_text, "samples.bytes_up");
    expect_in(out_text, "request 2");
    variant(path, sizeof(path), "payload.db",
            "UPDATE accuracy SET payload_bytes = payload_bytes + 1 "
            "WHERE variant = 'fp32'");
    expect(RUN("compare", base_db, path), 1, "payload_bytes changed");
    expect_in(out_text, "acc.fp32.payload_bytes");
    variant(path, sizeof(path), "aggbytes.db",
            "UPDATE aggregates SET mean = 177 WHERE metric = 'bytes_up'");
    expect(RUN("compare", base_db, path), 1, "bytes aggregate changed");
    expect_in(out_text, "agg.bytes_up.mean");
    /* A counted aggregate that is not bytes (busy_retries) is not
     * compared: it depends on timing. */
    variant(path, sizeof(path), "busy.db",
            "UPDATE aggregates SET mean = 3 WHERE metric = 'busy_retries'");
    expect(RUN("compare", base_db, path), 0, "busy_retries changed");
}

static void test_compare_slowdown_tolerance(void **state)
{
    char path[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    variant(path, sizeof(path), "slow.db", SLOWDOWN_SQL);
    expect(RUN("compare", base_db, path), 1, "2x slower, default tolerance");
    expect_in(out_text, "SLOWER");
    expect_in(out_text, "agg.e2e.p50_ms");
    expect_in(out_text, "train.stage1.images_per_s");
    expect(RUN("compare", base_db, path, "--time-tolerance", "2.5"), 0,
           "2x slower, tolerance 2.5");
    expect_in(out_text, "within 2.5x");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    /* server_queue (0.3 us) doubled is under the floor. */
    assert_int_equal(sum.timings_slower, 5);
    assert_int_equal(sum.timings_within, 1);
    assert_int_equal(sum.exact_differ, 0);
    free(text);
    /* Faster is reported, never a failure. */
    expect(RUN("compare", path, base_db), 0, "2x faster");
    expect_in(out_text, "faster");
    expect_in(out_text, "5 faster");
}

static void test_compare_missing_case_fails(void **state)
{
    char path[512];

    (void)state;
    variant(path, sizeof(path), "missing.db",
            "DELETE FROM aggregates WHERE case_id = 3; "
            "DELETE FROM cases WHERE case_hash = '" HASH_LOCAL "'");
    expect(RUN("compare", base_db, path), 1, "a case missing");
    expect_in(out_text, "MISSING");
    expect_in(out_text, "2 cases matched, 1 missing");
    /* The other way round, the case is new: listed, not a failure. */
    expect(RUN("compare", path, base_db), 0, "a new case");
    expect_in(out_text, "not in BASE");
    expect_in(out_text, "2 cases matched, 1 new");
    expect_in(out_text, "result: PASS");
}

static void test_compare_failed_case_fails(void **state)
{
    char path[512];

    (void)state;
    variant(path, sizeof(path), "failed.db",
            "UPDATE cases SET status = 'failed', error = 'shim: out of "
            "memory' WHERE case_hash = '" HASH_TRAIN "'");
    expect(RUN("compare", base_db, path), 1, "a case failed");
    expect_in(out_text, "status");
    expect_in(out_text, "shim: out of memory");
    /* Failed in BASE: not compared, no regression. */
    expect(RUN("compare", path, base_db), 0, "failed in BASE");
    expect_in(out_text, "note");
}

static void test_compare_runs(void **state)
{
    char two[512], spec[600], spec2[600];
    sqlite3 *db = NULL;

    (void)state;
    tmp_path(two, sizeof(two), "two.db");
    write_fixture(two);
    write_fixture(two);
    expect(RUN("compare", "--db", two, "1", "2"), 0, "--db with two runs");
    expect_in(out_text, "3 cases matched");
    expect_in(err_text, "run 2: 3 case(s)");
    snprintf(spec, sizeof(spec), "%s:1", two);
    snprintf(spec2, sizeof(spec2), "%s:last", two);
    expect(RUN("compare", spec, spec2), 0, "DB:RUN");
    expect(RUN("compare", base_db, two), 0, "every run of a DB");
    /* The newest run fails a case: over every run, the older finished
     * case is compared; naming the run shows the failure. */
    assert_int_equal(sqlite3_open(two, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE cases SET status = 'failed' WHERE "
                                  "run_id = 2 AND case_index = 0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    expect(RUN("compare", base_db, two), 0, "newest complete case");
    expect(RUN("compare", base_db, spec2), 1, "the last run");
    expect(RUN("compare", "--db", two, "1", "last"), 1, "--db last");
}

static void test_compare_unhashed_cases(void **state)
{
    char path[512];

    (void)state;
    variant(path, sizeof(path), "nohash1.db",
            "UPDATE cases SET case_hash = NULL WHERE case_index = 2");
    expect(RUN("compare", path, base_db), 0, "one case without a hash");
    expect_in(err_text, "BASE: 1 case(s)");
    expect_in(err_text, "cannot be matched");
    expect_in(out_text, "1 new");
    expect(RUN("compare", base_db, path), 1, "NEW lacks a hash");
    expect_in(out_text, "MISSING");
    variant(path, sizeof(path), "nohash.db",
            "UPDATE cases SET case_hash = NULL");
    expect(RUN("compare", path, base_db), 3, "no hash at all in BASE");
    expect_in(err_text, "no case with a case hash");
}

static void test_compare_bad_inputs(void **state)
{
    char path[512], spec[600], text_file[512], empty[512];
    FILE *f;

    (void)state;
    tmp_path(path, sizeof(path), "absent.db");
    expect(RUN("compare", base_db, path), 3, "missing NEW");
    expect_in(err_text, "NEW: no results DB at");
    expect_in(err_text, "absent.db");
    expect(RUN("compare", path, base_db), 3, "missing BASE");
    expect_in(err_text, "BASE: no results DB at");

    tmp_path(text_file, sizeof(text_file), "notes.txt");
    f = fopen(text_file, "w");
    assert_non_null(f);
    fputs("this is not a database, just some words long enough to fill a "
          "header page of an SQLite file, or nearly so: "
          "lorem ipsum dolor sit amet\n",
          f);
    fclose(f);
    expect(RUN("compare", base_db, text_file), 3, "a text file");
    expect_in(err_text, "notes.txt' is not a results DB");

    tmp_path(empty, sizeof(empty), "empty.db");
    f = fopen(empty, "w");
    assert_non_null(f);
    fclose(f);
    expect(RUN("compare", empty, base_db), 3, "an empty file");
    expect_in(err_text, "is not a bfbench results DB");

    variant(path, sizeof(path), "future.db", "PRAGMA user_version = 99");
    expect(RUN("compare", base_db, path), 3, "a newer schema");
    expect_in(err_text, "schema version 99");

    snprintf(spec, sizeof(spec), "%s:9", base_db);
    expect(RUN("compare", base_db, spec), 3, "unknown run");
    expect_in(err_text, "NEW: no run 9 in");
    expect(RUN("compare", "--db", base_db, "1", "x"), 2, "bad run id");
    expect_in(err_text, "'x' is not a run id");
    expect(RUN("compare", "--db", base_db, "1", "7"), 3, "--db unknown run");
    expect(RUN("compare", base_db), 2, "one argument");
    expect(RUN("compare", base_db, base_db, base_db), 2, "three arguments");
    expect(RUN("compare", "--time-tolerance", "0.5", base_db, base_db), 2,
           "tolerance below 1");
    expect(RUN("compare", "--time-tolerance", "x", base_db, base_db), 2,
           "tolerance not a number");
    expect(RUN("compare", "--format", "xml", base_db, base_db), 2,
           "bad format");
    expect(RUN("compare", "--help"), 0, "--help");
    expect_in(out_text, "usage: bfbench compare BASE NEW");
}

static void test_compare_formats(void **state)
{
    char path[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    variant(path, sizeof(path), "golden.db",
            SLOWDOWN_SQL
            "UPDATE accuracy SET top1 = top1 + 0.01 WHERE variant = 'int8'; "
            "UPDATE device_results SET head_ms = 1.5, host_head_ms = 9 "
            "WHERE device <> ''; "
            "UPDATE cases SET status = 'failed', error = 'boom' "
            "WHERE case_hash = '" HASH_LOCAL "'");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    /* The measured device head (host) is not compared, the modeled one
     * is. */
    assert_null(strstr(text, "device.host"));
    assert_non_null(strstr(text, "device.jetson-nano-10w.head_ms"));
    assert_golden(text, "regression.txt");
    free(text);
    text = compare_text(base_db, path, BF_REPORT_MARKDOWN, 1.3, &sum);
    assert_golden(text, "regression.md");
    free(text);
    text = compare_text(base_db, path, BF_REPORT_CSV, 1.3, &sum);
    assert_golden(text, "regression.csv");
    free(text);
    expect(RUN("compare", "--format", "csv", base_db, path), 1, "csv");
    assert_int_equal(strncmp(out_text, "case,case_hash,metric,", 22), 0);
    assert_null(strstr(out_text, "result:"));
    expect_in(err_text, "result: REGRESSION");
}

/* The CI suite run now against its committed baseline: every exact metric
 * equal; timings with a loose tolerance (a shared machine is noisy). */
static void test_compare_ci_suite_matches_reference(void **state)
{
    char db[512];
    const char *ref = BF_SOURCE_DIR "/results/reference/ci-tiny.db";
    struct stat st;

    (void)state;
    if (stat(ref, &st) != 0)
        fail_msg("%s is missing: regenerate it (results/reference/README.md)",
                 ref);
    tmp_path(db, sizeof(db), "ci/ci-tiny.db");
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    expect(
        RUN("-q", "run", "--db", db, BF_SOURCE_DIR "/scenarios/ci/tiny.yaml"),
        0, "bfbench run scenarios/ci/tiny.yaml");
    expect(RUN("compare", ref, db, "--time-tolerance", "10"), 0,
           "the CI suite against its baseline");
    expect_in(out_text, " 0 differ, ");
    expect_in(out_text, "8 cases matched");
}

static int setup(void **state)
{
    (void)state;
    if (tmpdir_make("bf_compare_"))
        return -1;
    bf_log_set_level(BF_LOG_ERROR);
    tmp_path(base_db, sizeof(base_db), "base.db");
    write_fixture(base_db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_identical_pass),
        cmocka_unit_test(test_compare_accuracy_change_fails),
        cmocka_unit_test(test_compare_bytes_change_fails),
        cmocka_unit_test(test_compare_slowdown_tolerance),
        cmocka_unit_test(test_compare_missing_case_fails),
        cmocka_unit_test(test_compare_failed_case_fails),
        cmocka_unit_test(test_compare_runs),
        cmocka_unit_test(test_compare_unhashed_cases),
        cmocka_unit_test(test_compare_bad_inputs),
        cmocka_unit_test(test_compare_formats),
        cmocka_unit_test(test_compare_ci_suite_matches_reference),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
