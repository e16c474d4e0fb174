/*
 * Tests of bf_compare and `bfbench compare`: a fixture DB written through
 * bf_store and copies of it with one thing changed in SQL (an accuracy, a
 * byte count, every timing, a case missing or failed, no hashes, a newer
 * schema), compared through the CLI for the exit codes and messages and
 * through the library for the counts and a golden table; bad arguments;
 * exact and statistical modes, and what each rule catches. The CI suite
 * itself is run by tests/test_ci_suite.c.
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

/* The fixture's platform; OTHER_PLATFORM_SQL moves a copy to another. */
#define PLATFORM_A "cpu.model=cpu\nonednn.isa=avx2 (0x7)\n"
#define OTHER_PLATFORM_SQL                                                     \
    "UPDATE runs SET platform_sha256 = 'fp-b', platform = "                    \
    "'cpu.model=cpu' || char(10) || 'onednn.isa=avx512_core (0x27)' || "       \
    "char(10); "

/* Test images of the training case's accuracy rows. */
#define N_TEST 500

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
        .platform = PLATFORM_A,
        .platform_sha256 = "fp-a",
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
        {"stage1", 1, 0.001, 8.5e5, 12.5, 2.3, 400, 1, 8.5e5 / 64},
        {"stage2", 1, 0.001, 0.62, 21.43, 2.4, 380, 1, 0.62},
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
    static uint16_t pred[N_TEST];
    static uint8_t top1[2][N_TEST], top5[N_TEST];
    int64_t id;

    /* Images 0..91 right in fp32 (18.4 %), 0..92 in int8 (18.6 %); every
     * label among the top 5 of the first 340 (68 %). */
    for (int i = 0; i < N_TEST; i++) {
        pred[i] = (uint16_t)(i % 10);
        top1[0][i] = i < 92;
        top1[1][i] = i < 93;
        top5[i] = i < 340;
    }
    for (int v = 0; v < 2; v++) {
        acc[v].pred = pred;
        acc[v].pred_top1 = top1[v];
        acc[v].pred_topk = top5;
        acc[v].items_sha256 = "items";
    }
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
    {
        struct bf_check_row checks[] = {{"quantize_u8", "q1"},
                                        {"dequantize_u8", "d1"}};

        assert_int_equal(bf_store_add_checks(s, run, checks, 2), 0);
    }
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
                                  .mode = BF_COMPARE_AUTO,
                                  .rules = BF_COMPARE_RULES_DEFAULT,
                                  .format = format};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    p.rules.time_ratio = tolerance;
    assert_non_null(out);
    assert_int_equal(bf_compare_write(&p, out, sum), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void assert_golden(const char *actual, const char *name)
{
    golden_assert(actual, "compare", name);
}

/* Every timing of a DB twice as long (aggregates and samples), training
 * three times slower. */
#define SLOWDOWN_SQL                                                           \
    "UPDATE aggregates SET mean = mean * 2, min = min * 2, p50 = p50 * 2, "    \
    "p90 = p90 * 2, p99 = p99 * 2, max = max * 2 WHERE unit = 'ms'; "          \
    "UPDATE samples SET e2e_ns = e2e_ns * 2, head_ns = head_ns * 2, "          \
    "encode_ns = encode_ns * 2, transfer_ns = transfer_ns * 2, "               \
    "server_queue_ns = server_queue_ns * 2, server_decode_ns = "               \
    "server_decode_ns * 2, tail_ns = tail_ns * 2, reply_ns = reply_ns * 2; "   \
    "UPDATE epochs SET images_per_s = images_per_s / 3, "                      \
    "seconds = seconds * 3;"

/* Tests */

static void test_compare_identical_pass(void **state)
{
    char copy[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    variant(copy, sizeof(copy), "same.db", NULL);
    expect(RUN("compare", base_db, copy), 0, "identical");
    expect_in(out_text, "exact mode (platforms equal)");
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
     * device head; the training case's 2 x 12 accuracy fields (with the
     * items digest and the predicted classes), epoch count and 2 x 4
     * epoch fields; the run's 2 checks. */
    assert_int_equal(sum.exact_equal,
                     3 * (1 + 8) + (4 + 3 + 1) + (24 + 1 + 8) + 2);
    /* e2e, head, server_queue; e2e; stage1 and stage2 throughput. */
    assert_int_equal(sum.judged_ok, 6);
    assert_int_equal(sum.mode, BF_COMPARE_EXACT);
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
    expect_in(out_text, "time.mwu");
    expect_in(out_text, "time.ratio");
    expect_in(out_text, "throughput.ratio");
    expect(RUN("compare", base_db, path, "--time-tolerance", "2.5", "--rule",
               "throughput.ratio=3.5"),
           0, "2x slower, --time-tolerance 2.5");
    expect(RUN("compare", base_db, path, "--rule", "time.ratio=2.5", "--rule",
               "throughput.ratio=3.5"),
           0, "2x slower, ratio rules 2.5 and 3.5");
    expect_in(out_text, "0 slower");
    /* Timings listed but not judged: the runner is shared. */
    expect(RUN("compare", base_db, path, "--timings", "skip"), 0,
           "2x slower, --timings skip");
    expect_in(out_text, "exact mode (platforms equal)");
    expect_in(out_text, "0 slower");
    expect_in(out_text, "6 timings not judged (~: --timings skip)");
    expect(RUN("compare", base_db, path, "--timings", "judge"), 1,
           "2x slower, --timings judge");
    expect(RUN("compare", base_db, path, "--timings", "off"), 2,
           "--timings off");
    expect_in(err_text, "--timings: 'off' is not judge or skip");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    /* server_queue (0.3 us) doubled is under the floor. */
    assert_int_equal(sum.timings_slower, 5);
    assert_int_equal(sum.judged_ok, 1);
    assert_int_equal(sum.exact_differ, 0);
    free(text);
    /* Faster is reported, never a failure. */
    expect(RUN("compare", path, base_db), 0, "2x faster");
    expect_in(out_text, "faster");
    expect_in(out_text, "5 better");
}

/* Another platform: statistical mode; what varies with float rounding is
 * judged by its rule, what is exact by construction stays exact. */
static void test_compare_statistical_mode(void **state)
{
    char path[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    /* Rounding-sized changes: two images lost and two won in int8, losses
     * 3 % off, the zstd size 2 % off, a modeled time in its last digits. */
    variant(path, sizeof(path), "isa.db",
            OTHER_PLATFORM_SQL
            "UPDATE predictions SET top1 = CAST("
            "X'FF' || substr(top1, 2, 10) || X'7C' || substr(top1, 13) "
            "AS BLOB) WHERE variant = 'int8'; "
            "UPDATE epochs SET train_loss = train_loss * 1.03, val_top1 = 30, "
            "best = 0; "
            "UPDATE accuracy SET payload_zstd_bytes = payload_zstd_bytes * "
            "1.02; "
            "UPDATE device_results SET head_ms = head_ms * (1 + 1e-12);");
    expect(RUN("compare", base_db, path), 0, "another platform");
    expect_in(out_text, "statistical mode (platforms differ)");
    expect_in(out_text, "+0.00 pts (-2/+2) p=1  accuracy.paired");
    expect_in(err_text, "platform onednn.isa: BASE avx2 (0x7), NEW "
                        "avx512_core (0x27)");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    assert_int_equal(sum.mode, BF_COMPARE_STATISTICAL);
    assert_int_equal(sum.regression, 0);
    assert_int_equal(sum.exact_differ, 0);
    assert_int_equal(sum.worse, 0);
    /* McNemar on 4 accuracies and 3 Mann-Whitney tests. */
    assert_int_equal(sum.tests, 4 + 3);
    free(text);
    /* Forced exact, the same numbers differ. */
    expect(RUN("compare", "--mode", "exact", base_db, path), 1, "forced exact");
    expect_in(out_text, "exact mode (forced; platforms differ)");
    expect_in(out_text, "epoch.stage1.1.train_loss");
    /* Forced statistical on the same platform passes. */
    expect(RUN("compare", "--mode", "statistical", base_db, base_db), 0,
           "forced statistical");
    expect_in(out_text, "statistical mode (forced; platforms equal)");
}

/* Regressions statistical mode must still catch. */
static void test_compare_statistical_catches(void **state)
{
    char path[512];

    (void)state;
    /* 40 of the 93 int8-correct images lost (8 points). */
    variant(path, sizeof(path), "drop.db",
            OTHER_PLATFORM_SQL
            "UPDATE predictions SET top1 = CAST(zeroblob(5) || "
            "substr(top1, 6) AS BLOB) WHERE variant = 'int8'; "
            "UPDATE accuracy SET top1 = top1 - 8 WHERE variant = 'int8';");
    expect(RUN("compare", base_db, path), 1, "an accuracy drop");
    expect_in(out_text, "acc.int8.top1");
    expect_in(out_text, "WORSE");
    expect_in(out_text, "-8.00 pts (-40/+0)");
    expect(RUN("compare", base_db, path, "--rule", "accuracy.min_drop_pts=10"),
           0, "the drop under a larger minimum effect");
    /* Without per-image results the unpaired test judges. */
    variant(path, sizeof(path), "unpaired.db",
            OTHER_PLATFORM_SQL "DELETE FROM predictions; "
                               "UPDATE accuracy SET top1 = top1 - 8 WHERE "
                               "variant = 'int8';");
    expect(RUN("compare", base_db, path), 1, "an unpaired drop");
    expect_in(out_text, "accuracy.unpaired");
    /* Training losses far off. */
    variant(path, sizeof(path), "loss.db",
            OTHER_PLATFORM_SQL
            "UPDATE epochs SET train_loss = train_loss * 3;");
    expect(RUN("compare", base_db, path), 1, "losses 3x");
    expect_in(out_text, "loss.rel");
    expect_in(out_text, "OFF");
    /* The learning-rate schedule is exact by construction. */
    variant(path, sizeof(path), "lr.db",
            OTHER_PLATFORM_SQL "UPDATE epochs SET lr = lr / 100;");
    expect(RUN("compare", base_db, path), 1, "lr / 100");
    expect_in(out_text, "epoch.stage1.1.lr");
    expect_in(out_text, "DIFFERS");
    /* So are the known-answer checks and the payload bytes. */
    variant(path, sizeof(path), "check.db",
            OTHER_PLATFORM_SQL "UPDATE checks SET value = 'q2' WHERE name = "
                               "'quantize_u8';");
    expect(RUN("compare", base_db, path), 1, "a check digest");
    expect_in(out_text, "(run)");
    expect_in(out_text, "check.quantize_u8");
    variant(path, sizeof(path), "payload2.db",
            OTHER_PLATFORM_SQL "UPDATE accuracy SET payload_bytes = 101 WHERE "
                               "variant = 'int8';");
    expect(RUN("compare", base_db, path), 1, "payload bytes");
    expect_in(out_text, "acc.int8.payload_bytes");
    /* A modeled device time beyond its tolerance. */
    variant(path, sizeof(path), "model.db",
            OTHER_PLATFORM_SQL "UPDATE device_results SET head_ms = head_ms * "
                               "1.01;");
    expect(RUN("compare", base_db, path), 1, "a modeled time");
    expect_in(out_text, "model.rel");
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
    expect(RUN("compare", "--mode", "fuzzy", base_db, base_db), 2, "bad mode");
    expect_in(err_text, "'fuzzy' is not auto, exact or statistical");
    expect(RUN("compare", "--rule", "accuracy.beta=1", base_db, base_db), 2,
           "unknown rule");
    expect_in(err_text, "unknown rule");
    expect(RUN("compare", "--rule", "time.alpha=2", base_db, base_db), 2,
           "rule out of range");
    expect_in(err_text, "--rule time.alpha: '2' is not a number in");
    expect(RUN("compare", "--rule", "loss.rel", base_db, base_db), 2,
           "rule without a value");
    expect_in(err_text, "expected NAME=VALUE");
    expect(RUN("compare", "--help"), 0, "--help");
    expect_in(out_text, "usage: bfbench compare BASE NEW");
    expect_in(out_text, "accuracy.min_drop_pts=");
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

/* The head time of every request of run r of a DB, in ns, times factor
 * (a run's requests share its speed; runs differ by a few percent). */
static void set_run_speed(const char *path, int run, double factor)
{
    char sql[512];
    sqlite3 *db = NULL;
    char *msg = NULL;

    snprintf(sql, sizeof(sql),
             "UPDATE samples SET head_ns = CAST((450000 + 4000 * %d) * %g "
             "AS INTEGER) WHERE case_id IN (SELECT id FROM cases WHERE "
             "run_id = %d)",
             run, factor, run);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/*
 * Repetitions (time.reps): five runs a side, judged on the runs' medians.
 * One run twice as slow (a slow spell of the machine) is noise; every run
 * twice as slow is a regression (p = 2/252 for five against five, all
 * apart).
 */
static void test_compare_repetitions(void **state)
{
    char base[512], spell[512], slow[512];

    (void)state;
    tmp_path(base, sizeof(base), "reps-base.db");
    tmp_path(spell, sizeof(spell), "reps-spell.db");
    tmp_path(slow, sizeof(slow), "reps-slow.db");
    for (int r = 1; r <= 5; r++)
        write_fixture(base);
    for (int r = 1; r <= 5; r++)
        set_run_speed(base, r, 1.0);
    copy_file(base, spell);
    copy_file(base, slow);
    set_run_speed(spell, 3, 2.0);
    for (int r = 1; r <= 5; r++)
        set_run_speed(slow, r, 2.0);
    expect(RUN("compare", base, spell), 0, "one slow run of five");
    expect_in(out_text, "time.reps");
    expect_in(out_text, "0 slower");
    expect(RUN("compare", base, slow), 1, "five slow runs of five");
    expect_in(out_text, "time.head.median_ms");
    expect_in(out_text, "x2.00 p=0.0079  time.reps         SLOWER");
    /* One run on a side: the requests of the newest (time.mwu). */
    expect(RUN("compare", base_db, slow), 1, "one run against five");
    expect_in(out_text, "time.mwu");
}

/* The schema steps undone, newest first: a copy of the fixture at an
 * older version, as a bfbench of that version recorded it. */
#define TO_V7_SQL                                                              \
    "DROP TABLE artifacts; ALTER TABLE cases DROP COLUMN seed; "               \
    "PRAGMA user_version = 7; "
#define TO_V6_SQL                                                              \
    TO_V7_SQL "DROP TABLE predictions; DROP TABLE checks; ALTER TABLE runs "   \
              "DROP COLUMN platform; ALTER TABLE runs DROP COLUMN "            \
              "platform_sha256; PRAGMA user_version = 6; "
#define TO_V5_SQL                                                              \
    TO_V6_SQL "DROP INDEX cases_hash; ALTER TABLE cases DROP COLUMN "          \
              "case_hash; ALTER TABLE runs DROP COLUMN resumes; PRAGMA "       \
              "user_version = 5; "

/* Whether two files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;

    while (same) {
        int ca = getc(fa), cb = getc(fb);

        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Compare, as BASE and as NEW, a DB made by sql, and check that neither
 * run changed a byte of it. */
static void expect_as_recorded(const char *name, const char *sql, int as_base,
                               int as_new)
{
    char path[512], orig[600];

    variant(path, sizeof(path), name, sql);
    snprintf(orig, sizeof(orig), "%s.orig", path);
    copy_file(path, orig);
    expect(RUN("compare", path, base_db), as_base, name);
    expect_in(err_text, "BASE: ");
    expect(RUN("compare", base_db, path), as_new, name);
    if (!same_bytes(path, orig))
        fail_msg("%s changed by compare", name);
}

/*
 * A baseline of an older schema version is read as recorded, never
 * migrated: what its version lacks (per-image results, checks and
 * platform fingerprints before version 7, case hashes before version 6)
 * is absent, not an error.
 */
static void test_compare_older_schema_as_recorded(void **state)
{
    char path[512];
    struct bf_compare_summary sum;
    char *text;

    (void)state;
    expect_as_recorded("v7.db", TO_V7_SQL, 0, 0);
    expect_in(out_text, "exact mode (platforms equal)");
    expect_in(out_text, "3 cases matched");
    expect_in(out_text, " 0 differ, ");
    expect_as_recorded("v6.db", TO_V6_SQL, 0, 0);
    expect_in(out_text, "statistical mode (NEW has no platform fingerprint)");
    expect_in(out_text, "3 cases matched");
    expect_in(out_text, "accuracy.unpaired");
    variant(path, sizeof(path), "v6-drop.db",
            TO_V6_SQL "UPDATE accuracy SET top1 = top1 - 8 WHERE variant = "
                      "'int8';");
    text = compare_text(base_db, path, BF_REPORT_TEXT, 1.3, &sum);
    assert_int_equal(sum.matched, 3);
    assert_int_equal(sum.worse, 1);
    assert_int_equal(sum.exact_differ, 0);
    assert_non_null(strstr(text, "acc.int8.top1"));
    free(text);
    /* Before version 6 no case has a hash: nothing to compare against,
     * and everything missing from NEW. */
    expect_as_recorded("v5.db", TO_V5_SQL, 3, 1);
    expect_in(out_text, "0 cases matched, 3 missing");
    tmp_path(path, sizeof(path), "v5.db");
    expect(RUN("compare", path, base_db), 3, "a version 5 BASE");
    expect_in(err_text, "its cases predate schema version 6");
    /* An SQLite DB of another program at the current version number. */
    variant(path, sizeof(path), "foreign.db", "DROP TABLE cases");
    expect(RUN("compare", base_db, path), 3, "a foreign DB");
    expect_in(err_text, "NEW: ");
    expect_in(err_text, "not a bfbench results DB");
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
        cmocka_unit_test(test_compare_repetitions),
        cmocka_unit_test(test_compare_statistical_mode),
        cmocka_unit_test(test_compare_statistical_catches),
        cmocka_unit_test(test_compare_missing_case_fails),
        cmocka_unit_test(test_compare_failed_case_fails),
        cmocka_unit_test(test_compare_runs),
        cmocka_unit_test(test_compare_unhashed_cases),
        cmocka_unit_test(test_compare_bad_inputs),
        cmocka_unit_test(test_compare_formats),
        cmocka_unit_test(test_compare_older_schema_as_recorded),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
