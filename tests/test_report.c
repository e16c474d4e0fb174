/*
 * Tests of bf_report: text, CSV and Markdown tables compared with golden
 * files (latency runs, training runs with accuracy, both together),
 * unfinished runs and cases, failed cases and their errors, filters and the
 * empty cases.
 *
 * To regenerate the golden files after an intended change of the format,
 * run this binary with BF_UPDATE_GOLDEN=1 and review the diff by eye.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_golden.h"

#include "bf_err.h"
#include "bf_log.h"
#include "bf_report.h"
#include "bf_store.h"
#include "bf_versus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BF_FIXTURES_DIR
#define BF_FIXTURES_DIR "tests/fixtures"
#endif

#define METHOD_HOST "measured:host:CLOCK_MONOTONIC"

struct fixture {
    char dir[64];
    char db[128];
    struct bf_store *store;
    int64_t finished_run;
    int64_t unfinished_run;
    int64_t failed_run;
};

static struct bf_run_info run_info(void)
{
    struct bf_run_info info = {
        .scenario_path = "scenarios/quick.yaml",
        .scenario_name = "quick",
        .scenario_sha256 = "",
        .scenario_text = "",
        .seed = 42,
        .git_commit = "unknown",
        .git_dirty = -1,
        .host = "h",
        .cpu_model = "c",
        .cores_online = 4,
        .libtorch_version = "1.13.1",
        .blas = "openblas",
        .build_type = "Release",
        .bfbench_version = "0.1.0",
        .input_hashes = "{}",
        .command_line = "bfbench run",
    };
    return info;
}

static struct bf_aggregate_row agg(const char *metric, const char *method,
                                   size_t n, double mean, double p50,
                                   double p90, double p99)
{
    struct bf_aggregate_row row = {
        .metric = metric,
        .unit = "ms",
        .method = method,
        .stats = {.n = n,
                  .mean = mean,
                  .stddev = 0.5,
                  .min = p50 / 2,
                  .p50 = p50,
                  .p90 = p90,
                  .p99 = p99,
                  .max = p99 * 2},
    };
    return row;
}

/*
 * The known DB: run 1 finished with two cases (random weights and a weights
 * file, in reverse insertion order); run 2 killed during its second case,
 * before that case stored aggregates (run and case still "running"); run 3
 * failed: its first case failed on a missing weights file, its second was
 * skipped, its third finished.
 */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct bf_run_info info = run_info();
    struct bf_case_row local = {
        .case_index = 0,
        .config = "local",
        .model = "resnet18",
        .weights = "random",
        .weights_sha256 = "",
        .input_channels = 3,
        .input_h = 224,
        .input_w = 224,
        .batch = 1,
        .threads = 4,
        .fold_bn = 1,
        .warmup = 5,
        .params = 11689512,
        .macs = 1814083584,
    };
    struct bf_case_row split = local;
    struct bf_aggregate_row local_aggs[2] = {
        agg("head", METHOD_HOST, 200, 12.3456, 12.1, 13.98765, 15.5),
        agg("e2e", METHOD_HOST, 200, 12.4004, 12.2, 14.0004, 15.6016),
    };
    struct bf_aggregate_row split_aggs[3] = {
        agg("e2e", METHOD_HOST, 200, 25.0, 24.5, 27.25, 31.125),
        agg("head", "modeled:jetson-nano:v1", 200, 4.2, 4.2, 4.2, 4.2),
        agg("transfer", METHOD_HOST, 200, 9.8766, 9.5, 11.0, 14.0),
    };
    struct bf_aggregate_row mobile_aggs[1] = {
        agg("e2e", METHOD_HOST, 50, 7.0, 6.9, 7.5, 8.25),
    };
    struct bf_case_row missing, edge;
    int64_t case_id;

    split.case_index = 1;
    split.config = "bottlefit";
    split.weights = "/data/weights/resnet18_bottlefit_c12.pt";
    split.weights_sha256 = "00ff";
    split.threads = 2;
    split.fold_bn = 0;
    split.params = 11805352;
    split.macs = 1910000000;

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bf_test_report_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/bench.db", f->dir);
    if (bf_store_open(f->db, &f->store))
        return -1;

    if (bf_store_run_begin(f->store, &info, &f->finished_run) ||
        bf_store_case_begin(f->store, f->finished_run, &split, &case_id) ||
        bf_store_add_aggregates(f->store, case_id, split_aggs, 3) ||
        bf_store_case_end(f->store, case_id, "finished", NULL) ||
        bf_store_case_begin(f->store, f->finished_run, &local, &case_id) ||
        bf_store_add_aggregates(f->store, case_id, local_aggs, 2) ||
        bf_store_case_end(f->store, case_id, "finished", NULL) ||
        bf_store_run_end(f->store, f->finished_run, "finished"))
        return -1;

    local.model = "mobilenet_v2";
    local.params = 3504872;
    local.macs = 300774272;
    if (bf_store_run_begin(f->store, &info, &f->unfinished_run) ||
        bf_store_case_begin(f->store, f->unfinished_run, &local, &case_id) ||
        bf_store_add_aggregates(f->store, case_id, mobile_aggs, 1) ||
        bf_store_case_end(f->store, case_id, "finished", NULL) ||
        bf_store_case_begin(f->store, f->unfinished_run, &split, &case_id))
        return -1;

    missing = split;
    missing.case_index = 0;
    missing.weights = "/data/weights/resnet18_bottlefit_c6.pt";
    edge = local;
    edge.case_index = 1;
    edge.config = "edge";
    local.case_index = 2;
    if (bf_store_run_begin(f->store, &info, &f->failed_run) ||
        bf_store_case_begin(f->store, f->failed_run, &missing, &case_id) ||
        bf_store_case_end(f->store, case_id, "failed",
                          "weights: /data/weights/resnet18_bottlefit_c6.pt: "
                          "No such file or directory") ||
        bf_store_case_begin(f->store, f->failed_run, &edge, &case_id) ||
        bf_store_case_end(f->store, case_id, "skipped",
                          "config 'edge' needs a server (--server)") ||
        bf_store_case_begin(f->store, f->failed_run, &local, &case_id) ||
        bf_store_add_aggregates(f->store, case_id, mobile_aggs, 1) ||
        bf_store_case_end(f->store, case_id, "finished", NULL) ||
        bf_store_run_end(f->store, f->failed_run, "failed"))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    struct fixture *f = *state;
    char path[160];
    size_t i;

    bf_store_close(f->store);
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Run the report into memory; returns the status, *text is caller-freed. */
static int report(struct bf_store *store, int64_t run_id,
                  enum bf_report_format format, const char *metric, char **text)
{
    struct bf_report_params params = {
        .run_id = run_id, .format = format, .metric = metric};
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    int rc;

    assert_non_null(out);
    rc = bf_report_write(store, &params, out);
    assert_int_equal(fclose(out), 0);
    return rc;
}

static void assert_golden(const char *actual, const char *name)
{
    golden_assert(actual, "report", name);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_report_text_golden(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;

    assert_int_equal(report(f->store, 0, BF_REPORT_TEXT, NULL, &text), 0);
    assert_golden(text, "basic.txt");
    free(text);
}

static void test_report_csv_golden(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;

    assert_int_equal(report(f->store, 0, BF_REPORT_CSV, NULL, &text), 0);
    assert_golden(text, "basic.csv");
    free(text);
}

static void test_report_markdown_golden(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;

    assert_int_equal(report(f->store, 0, BF_REPORT_MARKDOWN, NULL, &text), 0);
    assert_golden(text, "basic.md");
    free(text);
}

static void test_report_unfinished_run(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    char *line;

    assert_int_equal(
        report(f->store, f->unfinished_run, BF_REPORT_CSV, NULL, &text), 0);
    /* Header, the finished case of run 2 and the one it was killed in. */
    assert_int_equal(count_lines(text), 3);
    line = strchr(text, '\n') + 1;
    assert_true(
        strncmp(line, "2,unfinished,0,finished,local,mobilenet_v2,random,",
                strlen("2,unfinished,0,finished,local,mobilenet_v2,random,")) ==
        0);
    line = strchr(line, '\n') + 1;
    assert_string_equal(line, "2,unfinished,1,unfinished,bottlefit,resnet18,"
                              "resnet18_bottlefit_c12.pt,3x224x224,1,2,no,-,"
                              "11805352,1.91,-,-,-,-,-,-,-,-,-,\r\n");
    free(text);

    /* The finished run alone has no unfinished row. */
    assert_int_equal(
        report(f->store, f->finished_run, BF_REPORT_TEXT, NULL, &text), 0);
    assert_null(strstr(text, "unfinished"));
    assert_int_equal(count_lines(text), 2 + 5);
    free(text);
}

/*
 * A run killed during its first case, before any aggregate: the report
 * shows the case (it used to say that the DB had no results).
 */
static void test_report_killed_first_case(void **state)
{
    struct fixture *f = *state;
    struct bf_run_info info = run_info();
    struct bf_case_row row = {
        .case_index = 0,
        .config = "local",
        .model = "resnet50",
        .weights = "random",
        .input_channels = 3,
        .input_h = 224,
        .input_w = 224,
        .batch = 1,
        .threads = 1,
        .params = 25557032,
        .macs = 4089184256,
    };
    struct bf_store *store = NULL;
    char path[160];
    int64_t run_id, case_id;
    char *text = NULL;

    snprintf(path, sizeof(path), "%s/killed.db", f->dir);
    assert_int_equal(bf_store_open(path, &store), 0);
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);

    assert_int_equal(report(store, 0, BF_REPORT_CSV, NULL, &text), 0);
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "\r\n1,unfinished,0,unfinished,local,"
                                 "resnet50,random,3x224x224,1,1,no,-,25557032,"
                                 "4.09,-,-,-,-,-,-,-,-,-,\r\n"));
    free(text);

    assert_int_equal(report(store, run_id, BF_REPORT_TEXT, NULL, &text), 0);
    assert_int_equal(count_lines(text), 3);
    assert_non_null(strstr(text, "  1  unfinished     0  unfinished   local"));
    free(text);

    /* A metric filter does not hide it: it has no metric to filter on. */
    assert_int_equal(report(store, run_id, BF_REPORT_MARKDOWN, "e2e", &text),
                     0);
    assert_int_equal(count_lines(text), 3);
    assert_non_null(strstr(text, "| unfinished  "));
    free(text);

    bf_store_close(store);
    unlink(path);
    snprintf(path, sizeof(path), "%s/killed.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/killed.db-shm", f->dir);
    unlink(path);
}

/* Failed and skipped cases without aggregates get a row each; the error of
 * a failed case is listed under the table (text, Markdown) or in the
 * case_error column (CSV). */
static void test_report_failed_cases(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;

    assert_int_equal(
        report(f->store, f->failed_run, BF_REPORT_TEXT, NULL, &text), 0);
    /* Header, rule, three cases, a blank line and one error. */
    assert_int_equal(count_lines(text), 2 + 3 + 2);
    assert_non_null(strstr(text, "\n  3  failed     0  failed       "));
    assert_non_null(strstr(text, "\n  3  failed     1  skipped      "));
    assert_non_null(strstr(text, "  0.30  -       -      -      -      -      "
                                 "      -      -      -  -\n"));
    assert_non_null(strstr(text, "\n\nrun 3 case 0 (resnet18): weights: "
                                 "/data/weights/resnet18_bottlefit_c6.pt: "
                                 "No such file or directory\n"));
    /* Only failures are listed; a skipped case's reason is in the CSV. */
    assert_null(strstr(text, "needs a server"));
    free(text);

    assert_int_equal(
        report(f->store, f->failed_run, BF_REPORT_CSV, NULL, &text), 0);
    assert_int_equal(count_lines(text), 1 + 3);
    assert_non_null(strstr(text, ",-,-,-,-,-,-,-,-,weights: /data/weights/"
                                 "resnet18_bottlefit_c6.pt: No such file or "
                                 "directory\r\n"));
    assert_non_null(strstr(text, ",-,-,-,-,-,-,-,-,config 'edge' needs a "
                                 "server (--server)\r\n"));
    assert_non_null(strstr(text, ",measured:host:CLOCK_MONOTONIC,\r\n"));
    free(text);

    /* A filter keeps the cases without aggregates. */
    assert_int_equal(
        report(f->store, f->failed_run, BF_REPORT_CSV, "energy", &text), 0);
    assert_int_equal(count_lines(text), 1 + 2);
    assert_null(strstr(text, ",e2e,"));
    free(text);
}

static void test_report_metric_filter(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    const char *p;
    size_t rows = 0;

    /* Four e2e rows, and the three cases without aggregates. */
    assert_int_equal(report(f->store, 0, BF_REPORT_CSV, "e2e", &text), 0);
    assert_int_equal(count_lines(text), 1 + 4 + 3);
    for (p = strstr(text, ",e2e,"); p; p = strstr(p + 1, ",e2e,"))
        rows++;
    assert_int_equal(rows, 4);
    assert_null(strstr(text, ",head,"));
    free(text);

    bf_err_clear();
    assert_int_equal(
        report(f->store, f->finished_run, BF_REPORT_TEXT, "energy", &text),
        BF_ENOENT);
    assert_string_equal(bf_last_error(),
                        "no results for run 1 (metric 'energy')");
    assert_string_equal(text, "");
    free(text);
}

/* A case computed on a GPU: the threads cell names the device, its peak
 * memory is an aggregate row, and the platform line names the GPU. */
static void test_report_gpu_case(void **state)
{
    struct fixture *f = *state;
    struct bf_run_info info = run_info();
    struct bf_case_row row = {
        .case_index = 0,
        .config = "local",
        .model = "resnet152",
        .weights = "random",
        .weights_sha256 = "",
        .input_channels = 3,
        .input_h = 224,
        .input_w = 224,
        .batch = 1,
        .threads = 2,
        .fold_bn = 1,
        .params = 60192808,
        .macs = 11514780000,
        .device = "cuda:0",
    };
    struct bf_aggregate_row aggs[2] = {
        agg("e2e", METHOD_HOST, 20, 6.5, 6.4, 6.9, 7.0),
        agg("peak_device_memory", "measured:cuda:0:caching-allocator-peak", 1,
            250.5, 250.5, 250.5, 250.5),
    };
    int64_t run_id = 0, case_id = 0;
    char *text = NULL;

    (void)state;
    aggs[1].unit = "MiB";
    info.platform = "blas.core=Zen\ncuda.cudnn=91002\ncuda.device0.memory_"
                    "mib=143771\ncuda.device0.name=NVIDIA H200\ncuda.devices="
                    "1\ncuda.driver_api=13.0\ncuda.runtime=13.0\ncuda.tf32="
                    "off\ncpu.model=AMD EPYC\ntorch.version=2.11.0\n";
    info.platform_sha256 = "ab12ab12ab12ab12ab12";
    assert_int_equal(bf_store_run_begin(f->store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(f->store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_aggregates(f->store, case_id, aggs, 2), 0);
    assert_int_equal(bf_store_case_end(f->store, case_id, "finished", NULL), 0);
    assert_int_equal(bf_store_run_end(f->store, run_id, "finished"), 0);
    assert_int_equal(report(f->store, run_id, BF_REPORT_TEXT, NULL, &text), 0);
    if (!strstr(text, "  2, cuda:0  ") || !strstr(text, "peak_device_memory") ||
        !strstr(text, "MiB") ||
        !strstr(text, "GPU NVIDIA H200; MiB 143771; driver API 13.0; CUDA "
                      "13.0; cuDNN 91002; TF32 off"))
        fail_msg("report of a GPU case:\n%s", text);
    free(text);
    /* A CPU run's platform line names no GPU. */
    assert_int_equal(
        report(f->store, f->finished_run, BF_REPORT_TEXT, NULL, &text), 0);
    assert_null(strstr(text, "GPU"));
    assert_null(strstr(text, "cuda"));
    free(text);
}

static void test_report_no_results(void **state)
{
    struct fixture *f = *state;
    struct bf_run_info info = run_info();
    char path[160];
    struct bf_store *empty = NULL;
    char *text = NULL;
    char expect[64];
    int64_t run_id;

    bf_err_clear();
    assert_int_equal(report(f->store, 99, BF_REPORT_TEXT, NULL, &text),
                     BF_ENOENT);
    assert_string_equal(bf_last_error(), "no results for run 99");
    free(text);

    /* A run that ended before its first case has nothing to show. */
    assert_int_equal(bf_store_run_begin(f->store, &info, &run_id), 0);
    assert_int_equal(bf_store_run_end(f->store, run_id, "failed"), 0);
    assert_int_equal(report(f->store, run_id, BF_REPORT_CSV, NULL, &text),
                     BF_ENOENT);
    snprintf(expect, sizeof(expect), "no results for run %lld",
             (long long)run_id);
    assert_string_equal(bf_last_error(), expect);
    assert_string_equal(text, "");
    free(text);

    snprintf(path, sizeof(path), "%s/empty.db", f->dir);
    assert_int_equal(bf_store_open(path, &empty), 0);
    assert_int_equal(report(empty, 0, BF_REPORT_MARKDOWN, NULL, &text),
                     BF_ENOENT);
    assert_string_equal(bf_last_error(), "the DB has no results");
    assert_string_equal(text, "");
    free(text);
    bf_store_close(empty);
    unlink(path);
    snprintf(path, sizeof(path), "%s/empty.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/empty.db-shm", f->dir);
    unlink(path);
}

/* Awkward strings: CSV quotes them, Markdown escapes pipes in the table and
 * punctuation in the error list, text stays on one line; a missing
 * statistic (SQL NULL) prints "-"; a failed case with several aggregates
 * has its error listed once. */
static void test_report_escaping_and_missing(void **state)
{
    struct fixture *f = *state;
    struct bf_run_info info = run_info();
    struct bf_case_row row = {
        .case_index = 0,
        .config = "odd \"x\", y",
        .model = "a|b",
        .weights = "dir/",
        .input_channels = 1,
        .input_h = 28,
        .input_w = 28,
        .batch = 8,
        .threads = 1,
        .params = 10,
        .macs = 6000000,
    };
    struct bf_case_row bad = row;
    struct bf_aggregate_row a = agg("e2e", "line\nbreak", 3, 1, 1, 1, 1);
    struct bf_aggregate_row two[2] = {
        agg("e2e", "m", 1, 1, 1, 1, 1),
        agg("head", "m", 1, 1, 1, 1, 1),
    };
    int64_t run_id, case_id;
    char *text = NULL;

    bad.case_index = 1;
    bad.model = "m_*x*_<y>";
    a.stats.p99 = NAN;
    assert_int_equal(bf_store_run_begin(f->store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(f->store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_aggregates(f->store, case_id, &a, 1), 0);
    assert_int_equal(bf_store_case_begin(f->store, run_id, &bad, &case_id), 0);
    assert_int_equal(bf_store_add_aggregates(f->store, case_id, two, 2), 0);
    assert_int_equal(bf_store_case_end(f->store, case_id, "failed",
                                       "bad\nweights, `x` [y] a|b & _z_ \\"),
                     0);
    assert_int_equal(bf_store_run_end(f->store, run_id, "interrupted"), 0);

    assert_int_equal(report(f->store, run_id, BF_REPORT_CSV, NULL, &text), 0);
    assert_non_null(strstr(text, "\r\n4,interrupted,0,unfinished,"
                                 "\"odd \"\"x\"\", y\",a|b,dir/,1x28x28,8,1,"
                                 "no,-,10,0.01,e2e,ms,3,1.000,1.000,-,1.000,-,"
                                 "line break,\r\n"));
    assert_non_null(
        strstr(text, ",m,\"bad weights, `x` [y] a|b & _z_ \\\"\r\n"));
    assert_int_equal(count_lines(text), 1 + 3);
    free(text);

    assert_int_equal(report(f->store, run_id, BF_REPORT_MARKDOWN, NULL, &text),
                     0);
    assert_non_null(strstr(text, "| a\\|b "));
    /* Header, rule, three rows, a blank line and one error. */
    assert_int_equal(count_lines(text), 2 + 3 + 2);
    assert_non_null(strstr(text,
                           " |\n\n- run 4 case 1 (m\\_\\*x\\*\\_\\<y\\>): "
                           "bad weights, \\`x\\` \\[y\\] a|b \\& "
                           "\\_z\\_ \\\\\n"));
    free(text);

    assert_int_equal(report(f->store, run_id, BF_REPORT_TEXT, NULL, &text), 0);
    assert_int_equal(count_lines(text), 2 + 3 + 2);
    assert_non_null(strstr(text, "  -  line break\n"));
    assert_non_null(strstr(text, "\n\nrun 4 case 1 (m_*x*_<y>): bad weights, "
                                 "`x` [y] a|b & _z_ \\\n"));
    free(text);
}

/* An accuracy row; sizes n/a unless set. */
static struct bf_accuracy_row acc(const char *variant, double top1, double top5)
{
    struct bf_accuracy_row row = {
        .variant = variant,
        .split = "test",
        .n = 10000,
        .top1 = top1,
        .top5 = top5,
        .payload_bytes = -1,
        .payload_zstd_bytes = -1,
        .transmitted_elements = -1,
        .input_elements = 784,
        .jpeg_reference_bytes = 694.3,
        .jpeg_reference_quality = 90,
        .method = "measured:host",
    };
    return row;
}

/*
 * Training runs as bfbench records them (cases with a strategy, accuracy
 * rows, no latency aggregates), added to store: a finished run with the
 * teacher, a BottleFit student (fp32 and int8 bottleneck), a naive student
 * whose training failed, a skipped case and the JPEG baseline (variants
 * stored out of order); then a run killed while training its first case.
 * *first is the id of the first run.
 */
static int add_training_runs(struct bf_store *store, int64_t *first)
{
    struct bf_run_info info = run_info();
    struct bf_case_row teacher = {
        .case_index = 0,
        .config = "train",
        .model = "resnet_mini",
        .weights = "cache/teacher-5e1f.pt",
        .weights_sha256 = "5e1f",
        .input_channels = 1,
        .input_h = 28,
        .input_w = 28,
        .batch = 64,
        .threads = 4,
        .params = 2797610,
        .macs = 56150016,
        .strategy = "teacher",
        .freeze_encoder = -1,
        .dataset = "fashion-mnist",
        .dataset_sha256 = "d5",
    };
    struct bf_case_row bottlefit = teacher, naive, skipped, jpeg, spinn;
    struct bf_accuracy_row teacher_acc = acc("fp32", 92.41, 99.83);
    struct bf_accuracy_row student_acc[2] = {acc("fp32", 91.2, 99.8),
                                             acc("int8", 91.17, 99.79)};
    struct bf_accuracy_row jpeg_acc[3] = {acc("jpeg-q90", 92.38, 99.83),
                                          acc("jpeg-q10", 84.6, 98.95),
                                          acc("jpeg-q50", 91.75, 99.8)};
    struct bf_accuracy_row exit_acc = acc("exit-t0.9", 90.85, 99.7);
    struct bf_epoch_row epoch = {"stage1", 1,     1e-3, 0.42, 88.5,
                                 3.5,      15000, 1,    0.42};
    int64_t run_id, case_id;

    bottlefit.case_index = 1;
    bottlefit.weights = "cache/bottlefit-c12.pt";
    bottlefit.weights_sha256 = "b0";
    bottlefit.params = 2810126;
    bottlefit.macs = 58912256;
    bottlefit.strategy = "bottlefit";
    bottlefit.freeze_encoder = 1;
    bottlefit.bottleneck_version = 2;
    bottlefit.bottleneck_channels = 12;
    bottlefit.split_shape = "12x7x7";
    bottlefit.head_params = 31040;
    bottlefit.head_macs = 1520640;
    bottlefit.head_bytes = 124160;
    bottlefit.teacher_sha256 = "5e1f";
    naive = bottlefit;
    naive.case_index = 2;
    naive.strategy = "naive";
    naive.freeze_encoder = 0;
    naive.teacher_sha256 = NULL;
    skipped = naive;
    skipped.case_index = 3;
    skipped.strategy = "ghnd-kd";
    skipped.bottleneck_version = 1;
    skipped.bottleneck_channels = 6;
    skipped.split_shape = "6x7x7";
    skipped.head_params = 15200;
    jpeg = teacher;
    jpeg.case_index = 4;
    jpeg.strategy = "jpeg";
    jpeg.teacher_sha256 = "5e1f";
    /* SPINN-style exits: 37.5 % of the images reach the split. */
    spinn = teacher;
    spinn.case_index = 5;
    spinn.strategy = "spinn-split";
    spinn.split_shape = "32x14x14";
    spinn.head_params = 66820;
    spinn.teacher_sha256 = "5e1f";
    exit_acc.payload_bytes = 0.375 * 6277;
    exit_acc.exit_rule = 1;
    exit_acc.offload_fraction = 0.375;
    exit_acc.device_macs = 14250000;

    /* fp32 sends 4 bytes per element; int8 one, plus scale and offset. */
    student_acc[0].payload_bytes = 2352;
    student_acc[0].transmitted_elements = 588;
    student_acc[1].payload_bytes = 593;
    student_acc[1].payload_zstd_bytes = 412.625;
    student_acc[1].transmitted_elements = 588;
    jpeg_acc[0].payload_bytes = 694.3;
    jpeg_acc[1].payload_bytes = 312.4;
    jpeg_acc[2].payload_bytes = 478.6;
    teacher_acc.jpeg_reference_bytes = -1;
    teacher_acc.jpeg_reference_quality = 0;

    if (bf_store_run_begin(store, &info, first) ||
        bf_store_case_begin(store, *first, &teacher, &case_id) ||
        bf_store_add_epochs(store, case_id, &epoch, 1) ||
        bf_store_add_accuracy(store, case_id, &teacher_acc, 1) ||
        bf_store_case_end(store, case_id, "finished", NULL) ||
        bf_store_case_begin(store, *first, &bottlefit, &case_id) ||
        bf_store_add_accuracy(store, case_id, student_acc, 2) ||
        bf_store_case_end(store, case_id, "finished", NULL) ||
        bf_store_case_begin(store, *first, &naive, &case_id) ||
        bf_store_case_end(store, case_id, "failed",
                          "training diverged: train loss is NaN in epoch "
                          "3 of phase 'naive'") ||
        bf_store_case_begin(store, *first, &skipped, &case_id) ||
        bf_store_case_end(store, case_id, "skipped",
                          "bottleneck v1 needs 224x224 input") ||
        bf_store_case_begin(store, *first, &jpeg, &case_id) ||
        bf_store_add_accuracy(store, case_id, jpeg_acc, 3) ||
        bf_store_case_end(store, case_id, "finished", NULL) ||
        bf_store_case_begin(store, *first, &spinn, &case_id) ||
        bf_store_add_accuracy(store, case_id, &exit_acc, 1) ||
        bf_store_case_end(store, case_id, "finished", NULL) ||
        bf_store_run_end(store, *first, "finished"))
        return -1;
    bottlefit.case_index = 0;
    if (bf_store_run_begin(store, &info, &run_id) ||
        bf_store_case_begin(store, run_id, &bottlefit, &case_id) ||
        bf_store_add_epochs(store, case_id, &epoch, 1))
        return -1;
    return 0;
}

/* A second DB in the fixture's directory, removed with its WAL files. */
static struct bf_store *open_side_db(const struct fixture *f, const char *name)
{
    struct bf_store *store = NULL;
    char path[160];

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    assert_int_equal(bf_store_open(path, &store), 0);
    return store;
}

static void close_side_db(const struct fixture *f, struct bf_store *store,
                          const char *name)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[160];
    size_t i;

    bf_store_close(store);
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s%s", f->dir, name, suffixes[i]);
        unlink(path);
    }
}

/* Whether needle occurs in text before end. */
static int occurs_before(const char *text, const char *end, const char *needle)
{
    const char *hit = strstr(text, needle);

    return hit && hit < end;
}

/* A training DB: only the accuracy table, in every format. */
static void test_report_training_golden(void **state)
{
    static const struct {
        enum bf_report_format format;
        const char *golden;
    } formats[] = {
        {BF_REPORT_TEXT, "training.txt"},
        {BF_REPORT_CSV, "training.csv"},
        {BF_REPORT_MARKDOWN, "training.md"},
    };
    struct fixture *f = *state;
    struct bf_store *store = open_side_db(f, "train.db");
    int64_t first;
    char *text = NULL;
    size_t i;

    assert_int_equal(add_training_runs(store, &first), 0);
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        assert_int_equal(report(store, 0, formats[i].format, NULL, &text), 0);
        assert_golden(text, formats[i].golden);
        /* No latency table: nothing was timed. */
        assert_null(strstr(text, "metric"));
        free(text);
    }
    close_side_db(f, store, "train.db");
}

/*
 * Latency and training runs in one DB: the latency table, then the
 * accuracy table; a training case without aggregates only in the latter;
 * every failed case's error once, in run order, under the last table.
 */
static void test_report_mixed_golden(void **state)
{
    struct fixture *f = *state;
    struct bf_run_info info = run_info();
    struct bf_case_row row = {
        .case_index = 0,
        .config = "bottlefit",
        .model = "resnet_mini",
        .weights = "cache/bottlefit-c12.pt",
        .input_channels = 1,
        .input_h = 28,
        .input_w = 28,
        .batch = 1,
        .threads = 4,
        .params = 2810126,
        .macs = 58912256,
        .strategy = "bottlefit",
        .freeze_encoder = 1,
        .bottleneck_version = 2,
        .bottleneck_channels = 12,
        .split_shape = "12x7x7",
        .head_params = 31040,
        .link = "fixed 5 Mbit/s RTT 20 ms jitter 0 ms loss 0 (emulated in "
                "user space)",
        .link_rate_mbps = 5,
        .link_rtt_ms = 20,
        .background_clients = 2,
    };
    struct bf_aggregate_row e2e =
        agg("e2e", METHOD_HOST, 100, 1.25, 1.2, 1.5, 1.75);
    struct bf_accuracy_row fp32 = acc("fp32", 91.2, 99.8);
    int64_t first, run_id, case_id;
    const char *p;
    char *text = NULL;

    assert_int_equal(add_training_runs(f->store, &first), 0);
    /* A case timed and evaluated, which then failed: in both tables, its
     * error listed once. */
    assert_int_equal(bf_store_run_begin(f->store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(f->store, run_id, &row, &case_id), 0);
    assert_int_equal(bf_store_add_aggregates(f->store, case_id, &e2e, 1), 0);
    assert_int_equal(bf_store_add_accuracy(f->store, case_id, &fp32, 1), 0);
    assert_int_equal(bf_store_case_end(f->store, case_id, "failed",
                                       "int8: quantizer: out of memory"),
                     0);
    assert_int_equal(bf_store_run_end(f->store, run_id, "failed"), 0);

    assert_int_equal(report(f->store, 0, BF_REPORT_TEXT, NULL, &text), 0);
    assert_golden(text, "mixed.txt");
    p = strstr(text, "\n\nrun  case  seed  case status  model");
    assert_non_null(p);
    /* The latency table: run 1 to 3 as before, and the timed case of run
     * 6; no row of the training runs 4 and 5. */
    assert_false(occurs_before(text, p, "\n  4  "));
    assert_false(occurs_before(text, p, "\n  5  "));
    assert_true(occurs_before(text, p, "\n  6  failed "));
    /* The errors: once each, in run order. */
    p = strstr(text, "\n\nrun 3 case 0 (resnet18): weights: ");
    assert_non_null(p);
    p = strstr(p, "\nrun 4 case 2 (resnet_mini): training diverged");
    assert_non_null(p);
    p = strstr(p, "\nrun 6 case 0 (resnet_mini): int8: quantizer: out of "
                  "memory\n");
    assert_non_null(p);
    assert_string_equal(strchr(p + 1, '\n'), "\n");
    free(text);

    /* CSV: both tables, an empty record between them. */
    assert_int_equal(report(f->store, run_id, BF_REPORT_CSV, NULL, &text), 0);
    assert_string_equal(
        text,
        "run_id,run_status,case_index,case_status,config,model,weights,"
        "input,batch,threads,fold_bn,link,params,gmacs,metric,unit,n,mean,"
        "p50,p50_ci95,p90,p99,method,case_error\r\n"
        "6,failed,0,failed,bottlefit,resnet_mini,bottlefit-c12.pt,1x28x28,"
        "1,4,no,fixed 5M 20ms +2bg,2810126,0.06,e2e,ms,100,1.250,1.200,-,"
        "1.500,1.750,"
        "measured:host:CLOCK_MONOTONIC,int8: quantizer: out of memory\r\n"
        "\r\n"
        "run_id,case_index,seed,case_status,model,strategy,freeze_encoder,"
        "bottleneck,split_shape,variant,n,top1,top5,payload_bytes,"
        "payload_zstd_bytes,vs_jpeg,offload_fraction,device_macs,"
        "head_params,method,case_error\r\n"
        "6,0,-,failed,resnet_mini,bottlefit,yes,2:12,12x7x7,fp32,10000,91.20,"
        "99.80,-,-,-,-,-,31040,measured:host,int8: quantizer: out of "
        "memory\r\n");
    free(text);

    /* Markdown: two tables, then the error list. */
    assert_int_equal(report(f->store, run_id, BF_REPORT_MARKDOWN, NULL, &text),
                     0);
    assert_int_equal(count_lines(text), 3 + 1 + 3 + 2);
    assert_non_null(strstr(text, " |\n\n| run | case | seed | case status |"));
    assert_non_null(strstr(text, " |\n\n- run 6 case 0 (resnet\\_mini): int8: "
                                 "quantizer: out of memory\n"));
    free(text);
}

/*
 * Which tables a selection gets: a training run only the accuracy table,
 * also under a metric filter; a training run without any accuracy row (it
 * failed) the latency table, so that its cases are still listed.
 */
static void test_report_training_selection(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = open_side_db(f, "train.db");
    struct bf_run_info info = run_info();
    struct bf_case_row row = {
        .case_index = 0,
        .config = "train",
        .model = "resnet_mini",
        .weights = "random",
        .input_channels = 1,
        .input_h = 28,
        .input_w = 28,
        .strategy = "hnd",
    };
    int64_t first, run_id, case_id;
    char *text = NULL;

    assert_int_equal(add_training_runs(store, &first), 0);
    assert_int_equal(report(store, first, BF_REPORT_TEXT, "e2e", &text), 0);
    assert_true(strncmp(text, "run  case  seed  case status", 28) == 0);
    /* Header, rule, 1 + 2 + 1 + 1 + 3 + 1 rows, a blank line and one
     * error. */
    assert_int_equal(count_lines(text), 2 + 9 + 2);
    free(text);

    /* The killed run: its training case, unfinished, without accuracy:
     * listed by the latency table as a case without results. */
    assert_int_equal(report(store, first + 1, BF_REPORT_CSV, NULL, &text), 0);
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "\r\n2,unfinished,0,unfinished,train,"
                                 "resnet_mini,bottlefit-c12.pt,1x28x28,"));
    free(text);

    /* A training run whose only case failed. */
    assert_int_equal(bf_store_run_begin(store, &info, &run_id), 0);
    assert_int_equal(bf_store_case_begin(store, run_id, &row, &case_id), 0);
    assert_int_equal(
        bf_store_case_end(store, case_id, "failed", "dataset: not found"), 0);
    assert_int_equal(report(store, run_id, BF_REPORT_TEXT, NULL, &text), 0);
    assert_non_null(strstr(text, "config"));
    assert_non_null(strstr(text, "\n\nrun 3 case 0 (resnet_mini): dataset: "
                                 "not found\n"));
    free(text);

    bf_err_clear();
    assert_int_equal(report(store, 99, BF_REPORT_MARKDOWN, NULL, &text),
                     BF_ENOENT);
    assert_string_equal(bf_last_error(), "no results for run 99");
    free(text);
    close_side_db(f, store, "train.db");
}

/*
 * The p50 column's 95 % bootstrap interval, from the per-request samples:
 * e2e of 1..21 ms (median 11) gives an interval around 11 that excludes
 * the extremes (aggregates without samples give "-": the goldens).
 */
static void test_report_p50_interval(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = open_side_db(f, "p50.db");
    struct bf_run_info info = run_info();
    struct bf_case_row row = {.case_index = 0,
                              .config = "local",
                              .model = "resnet18",
                              .weights = "random",
                              .weights_sha256 = "",
                              .input_channels = 3,
                              .input_h = 224,
                              .input_w = 224,
                              .batch = 1,
                              .threads = 1};
    struct bf_sample_row samples[21];
    struct bf_aggregate_row aggs[] = {
        agg("e2e", METHOD_HOST, 21, 11, 11, 19, 21),
        agg("head", METHOD_HOST, 21, 5, 5, 6, 7)};
    int64_t run, id;
    double lo = 0, hi = 0;
    char *text, *cell;

    for (int i = 0; i < 21; i++) {
        struct bf_sample_row r = {.seq = i,
                                  .e2e_ns = (int64_t)(i + 1) * 1000000};

        samples[i] = r;
    }
    assert_int_equal(bf_store_run_begin(store, &info, &run), 0);
    assert_int_equal(bf_store_case_begin(store, run, &row, &id), 0);
    assert_int_equal(bf_store_add_samples(store, id, samples, 21), 0);
    assert_int_equal(bf_store_add_aggregates(store, id, aggs, 2), 0);
    assert_int_equal(bf_store_case_end(store, id, "finished", NULL), 0);
    assert_int_equal(report(store, run, BF_REPORT_CSV, NULL, &text), 0);
    cell = strstr(text, ",e2e,ms,21,11.000,11.000,\"[");
    assert_non_null(cell);
    assert_int_equal(sscanf(strchr(cell, '[') + 1, "%lf, %lf", &lo, &hi), 2);
    assert_true(lo < 11.0 && hi > 11.0);
    assert_true(lo > 1.0 && hi < 21.0);
    free(text);
    close_side_db(f, store, "p50.db");
}

/* A finished training case of strategy at C = 2 with a seed, and its fp32
 * accuracy row (with per-image results, one flag per image, when top1_bits
 * is not NULL). */
/* What versus_case_at() records: strategy at C with seed, bytes per image
 * and top-1. */
struct vcase {
    const char *strategy;
    int seeded;
    uint64_t seed;
    int channels;
    double bytes;
    double top1;
};

static void versus_case_at(struct bf_store *store, int64_t run, int index,
                           const struct vcase *v, const uint8_t *top1_bits,
                           size_t n)
{
    static uint16_t pred[100];
    struct bf_case_row row = {.case_index = index,
                              .config = "bottlefit",
                              .model = "resnet_mini",
                              .weights = "t.bfw",
                              .weights_sha256 = "",
                              .input_channels = 1,
                              .input_h = 28,
                              .input_w = 28,
                              .batch = 1,
                              .threads = 1,
                              .strategy = v->strategy,
                              .freeze_encoder = -1,
                              .bottleneck_version = 2,
                              .bottleneck_channels = v->channels,
                              .head_params = 10016,
                              .seeded = v->seeded,
                              .seed = v->seed};
    struct bf_accuracy_row a = acc("fp32", v->top1, 99.0);
    int64_t id;

    a.payload_bytes = v->bytes;

    if (top1_bits) {
        a.n = (int64_t)n;
        a.pred = pred;
        a.pred_top1 = top1_bits;
        a.pred_topk = top1_bits;
        a.items_sha256 = "items";
    }
    assert_int_equal(bf_store_case_begin(store, run, &row, &id), 0);
    assert_int_equal(bf_store_add_accuracy(store, id, &a, 1), 0);
    assert_int_equal(bf_store_case_end(store, id, "finished", NULL), 0);
}

static void versus_case(struct bf_store *store, int64_t run, int index,
                        const char *strategy, int seeded, uint64_t seed,
                        double top1, const uint8_t *top1_bits, size_t n)
{
    struct vcase v = {.strategy = strategy,
                      .seeded = seeded,
                      .seed = seed,
                      .channels = 2,
                      .bytes = strcmp(strategy, "naive") == 0 ? 49 : 98,
                      .top1 = top1};

    versus_case_at(store, run, index, &v, top1_bits, n);
}

/* The output of a versus table that must succeed (the caller frees). */
static char *versus_out(struct bf_store *store,
                        const struct bf_versus_params *vp)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    assert_int_equal(bf_versus_write(store, vp, out), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

static char *versus_text(struct bf_store *store, int64_t run)
{
    struct bf_versus_params vp = {.run_id = run,
                                  .a = "bottlefit",
                                  .b = "naive",
                                  .format = BF_REPORT_TEXT};

    return versus_out(store, &vp);
}

/*
 * report --versus: over three seeds, the paired t interval and test of the
 * per-seed differences; on one seed, McNemar on the images. Reference
 * values from Python (closed forms, no scipy on this machine):
 *   differences (84.0-80.0, 85.5-80.5, 84.5-81.5) = (4.0, 5.0, 3.0): mean
 *   4.00, sd 1.00, t(0.975, 2) = 4.302652729749462, half width 2.48,
 *   t = 6.928, p = 2 * (0.5 - t / (2 sqrt(2 + t^2))) = 0.0202;
 *   100 images, b = 10 (A right, B wrong), c = 2: difference +8.00, Wald
 *   +8 -/+ 1.959964 * sqrt(12 - 64 / 100) = [+1.39, +14.61], McNemar p =
 *   2 * (1 + 12 + 66) / 4096 = 0.0386 (statsmodels mcnemar(exact=True)).
 */
static void test_report_versus(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = open_side_db(f, "versus.db");
    struct bf_run_info info = run_info();
    static const double a[3] = {84.0, 85.5, 84.5}, b[3] = {80.0, 80.5, 81.5};
    uint8_t right_a[100] = {0}, right_b[100] = {0};
    int64_t run1, run2;
    char *text;

    assert_int_equal(bf_store_run_begin(store, &info, &run1), 0);
    for (int s = 0; s < 3; s++) {
        versus_case(store, run1, 2 * s, "bottlefit", 1, (uint64_t)s + 1, a[s],
                    NULL, 0);
        versus_case(store, run1, 2 * s + 1, "naive", 1, (uint64_t)s + 1, b[s],
                    NULL, 0);
    }
    /* The accuracy table names each case's seed. */
    assert_int_equal(report(store, run1, BF_REPORT_CSV, NULL, &text), 0);
    assert_non_null(strstr(text, "\r\n1,2,2,finished,resnet_mini,bottlefit,"));
    assert_non_null(strstr(text, "\r\n1,5,3,finished,resnet_mini,naive,"));
    free(text);
    text = versus_text(store, run1);
    assert_non_null(strstr(text, "+4.00"));
    assert_non_null(strstr(text, "+1.52"));
    assert_non_null(strstr(text, "+6.48"));
    assert_non_null(strstr(text, "paired t"));
    assert_non_null(strstr(text, "0.0202"));
    assert_non_null(strstr(text, "A better"));
    /* Beside it, what each side sends and its head's size. */
    assert_non_null(strstr(text, "A B/img"));
    assert_non_null(strstr(text, " 98 "));
    assert_non_null(strstr(text, " 49 "));
    assert_non_null(strstr(text, "10016"));
    free(text);
    /* One seed, 100 images: A right on 0..59, B right on 0..49 and 60..61
     * (b = 10, c = 2). */
    for (int i = 0; i < 100; i++) {
        right_a[i] = i < 60;
        right_b[i] = i < 50 || i == 60 || i == 61;
    }
    assert_int_equal(bf_store_run_begin(store, &info, &run2), 0);
    versus_case(store, run2, 0, "bottlefit", 1, 1, 60.0, right_a, 100);
    versus_case(store, run2, 1, "naive", 1, 1, 52.0, right_b, 100);
    text = versus_text(store, run2);
    assert_non_null(strstr(text, "+8.00"));
    assert_non_null(strstr(text, "+1.39"));
    assert_non_null(strstr(text, "+14.61"));
    assert_non_null(strstr(text, "McNemar"));
    assert_non_null(strstr(text, "0.0386"));
    free(text);
    /* Every run: each run holds both strategies, so each is compared on
     * its own (one budget each), never pooled: both results, run by run. */
    text = versus_text(store, 0);
    assert_non_null(strstr(text, "+4.00"));
    assert_non_null(strstr(text, "+8.00"));
    assert_null(strstr(text, "\n1+2 "));
    assert_non_null(strstr(text, "\n1 "));
    assert_non_null(strstr(text, "\n2 "));
    free(text);
    {
        /* Pinned sides: BottleFit of run 1 against naive of run 2 (an
         * equal-budget member against another run's BottleFit), pooled as
         * 1+2: seed 1 pairs 84.0 with 52.0, +32.00 (one pair, and run 1
         * stored no per-image results: the difference alone). */
        struct bf_versus_params vp = {.run_id = 0,
                                      .a = "bottlefit",
                                      .b = "naive",
                                      .a_run = run1,
                                      .b_run = run2,
                                      .format = BF_REPORT_TEXT};

        text = versus_out(store, &vp);
        assert_non_null(strstr(text, "\n1+2 "));
        assert_non_null(strstr(text, "+32.00"));
        assert_null(strstr(text, "+4.00"));
        assert_null(strstr(text, "+8.00"));
        free(text);
        /* A pin to a run without that strategy: nothing to compare. */
        vp.b_run = 99;
        assert_int_equal(bf_versus_write(store, &vp, stdout), BF_ENOENT);
    }
    {
        /* Strategies never run side by side: BF_ENOENT naming both. */
        struct bf_versus_params vp = {.run_id = run2,
                                      .a = "bottlefit",
                                      .b = "kd",
                                      .format = BF_REPORT_TEXT};

        assert_int_equal(bf_versus_write(store, &vp, stdout), BF_ENOENT);
        assert_non_null(strstr(bf_last_error(), "'kd'"));
    }
    close_side_db(f, store, "versus.db");
}

/* The CSV record of text holding needle ends in ",last". */
static void assert_record_ends(const char *text, const char *needle,
                               const char *last)
{
    const char *at = strstr(text, needle);
    const char *end;
    size_t n = strlen(last);

    assert_non_null(at);
    end = strstr(at, "\r\n");
    assert_non_null(end);
    assert_true((size_t)(end - at) > n);
    assert_memory_equal(end - n, last, n);
    assert_int_equal(end[-(long)n - 1], ',');
}

/*
 * report --versus --match bytes: BottleFit at C = 1-4 (69, 133, 197, 155
 * B per image) meets the autoencoder split's C of nearest bytes (C = 1:
 * 105 B, C = 2: 205 B): C 1 -> 1, 2 -> 1, 3 -> 2, and 4 -> 1, a tie
 * (50 B either way) going to the fewer bytes. Means over seeds 1-3:
 * BottleFit 81, 87, 90, 71; ae-split 85.67 (C = 1), 88.33 (C = 2).
 */
static void test_report_versus_match_bytes(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = open_side_db(f, "match.db");
    struct bf_run_info info = run_info();
    static const double a_bytes[4] = {69, 133, 197, 155};
    static const double a_base[4] = {80, 86, 89, 70};
    static const double b_top1[2][3] = {{85, 85.5, 86.5}, {88, 88, 89}};
    struct bf_versus_params vp = {.run_id = 0,
                                  .a = "bottlefit",
                                  .b = "ae-split",
                                  .match_bytes = 1,
                                  .format = BF_REPORT_CSV};
    char *text;
    int64_t run;
    int index = 0;

    assert_int_equal(bf_store_run_begin(store, &info, &run), 0);
    for (int s = 0; s < 3; s++) {
        for (int c = 0; c < 4; c++) {
            struct vcase v = {.strategy = "bottlefit",
                              .seeded = 1,
                              .seed = (uint64_t)s + 1,
                              .channels = c + 1,
                              .bytes = a_bytes[c],
                              .top1 = a_base[c] + s};

            versus_case_at(store, run, index++, &v, NULL, 0);
        }
        for (int c = 0; c < 2; c++) {
            struct vcase v = {.strategy = "ae-split",
                              .seeded = 1,
                              .seed = (uint64_t)s + 1,
                              .channels = c + 1,
                              .bytes = c ? 205 : 105,
                              .top1 = b_top1[c][s]};

            versus_case_at(store, run, index++, &v, NULL, 0);
        }
    }
    text = versus_out(store, &vp);
    assert_non_null(strstr(text, "b_bottleneck_channels"));
    assert_record_ends(text, "-4.67", "1");  /* C 1 against C 1 */
    assert_record_ends(text, "+1.33", "1");  /* C 2 against C 1 */
    assert_record_ends(text, "+1.67", "2");  /* C 3 against C 2 */
    assert_record_ends(text, "-14.67", "1"); /* C 4, the tie: C 1 */
    free(text);
    /* The same C (the default): C 2 against C 2, -1.33; C 3 and 4 have
     * no ae-split partner. */
    vp.match_bytes = 0;
    vp.format = BF_REPORT_TEXT;
    text = versus_out(store, &vp);
    assert_non_null(strstr(text, "-1.33"));
    assert_null(strstr(text, "+1.33"));
    assert_null(strstr(text, "-14.67"));
    assert_null(strstr(text, "B C"));
    free(text);
    close_side_db(f, store, "match.db");
}

static void test_report_bad_format(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;

    assert_int_equal(
        report(f->store, 0, (enum bf_report_format)42, NULL, &text), BF_EINVAL);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report_text_golden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_csv_golden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_markdown_golden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_unfinished_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_killed_first_case, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_failed_cases, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_metric_filter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_gpu_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_no_results, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_escaping_and_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_versus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_versus_match_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_p50_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_bad_format, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_training_golden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_mixed_golden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_training_selection, setup,
                                        teardown),
    };

    bf_log_set_level(BF_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
