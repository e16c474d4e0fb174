/*
 * Tests of bf_report: text, CSV and Markdown tables compared with golden
 * files, unfinished runs and cases, failed cases and their errors, filters
 * and the empty cases.
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

#include "bf_err.h"
#include "bf_log.h"
#include "bf_report.h"
#include "bf_store.h"

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

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long size;

    if (!f)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    return text;
}

static void assert_golden(const char *actual, const char *name)
{
    char path[512];
    char *expect;

    snprintf(path, sizeof(path), "%s/report/%s", BF_FIXTURES_DIR, name);
    if (getenv("BF_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fputs(actual, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
    }
    expect = read_file(path);
    if (!expect)
        fail_msg("golden file %s is missing", path);
    if (strcmp(actual, expect) != 0) {
        fprintf(stderr, "--- expected %s\n%s--- actual\n%s", path, expect,
                actual);
        fail_msg("output differs from %s", path);
    }
    free(expect);
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
                              "resnet18_bottlefit_c12.pt,3x224x224,1,2,no,"
                              "11805352,1.91,-,-,-,-,-,-,-,-,\r\n");
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
                                 "resnet50,random,3x224x224,1,1,no,25557032,"
                                 "4.09,-,-,-,-,-,-,-,-,\r\n"));
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
                                 "-      -  -\n"));
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
                                 "no,10,0.01,e2e,ms,3,1.000,1.000,1.000,-,"
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
        cmocka_unit_test_setup_teardown(test_report_no_results, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_escaping_and_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_report_bad_format, setup,
                                        teardown),
    };

    bf_log_set_level(BF_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
