/*
 * The CI regression suite (scenarios/ci/tiny.yaml) run for real, and what
 * `bfbench compare` makes of it, in two groups (`test_ci_suite untimed`,
 * `test_ci_suite timed`; no argument runs both):
 *
 * untimed: the numbers, with timings listed but not judged (--timings
 * skip), so that ctest can run it beside other tests; one round of the
 * network member (`run --repetitions 1`: its hashes and numbers are those
 * of five). Suite A is run once in the group setup.
 *   - against the committed baseline results/reference/ci-tiny.db: passes
 *     on this machine, whatever its CPU (exact mode on the baseline's
 *     platform, statistical mode elsewhere);
 *   - rerun on the same platform: exact mode, every number identical;
 *   - rerun under other kernels (ATen's default capability, OpenBLAS's
 *     Sandybridge core): statistical mode, passes, against A and against
 *     the baseline;
 *   - regressions injected one at a time through bfbench_faults
 *     (tests/bf_faults.c) and a dropped case: each caught in statistical
 *     mode, by the rule that should catch it.
 *
 * timed (ctest runs it alone): the network member's timings, over its five
 * rounds (time.reps: the rounds' medians). Its group setup runs the
 * network member once (suite N).
 *   - against the baseline's network run, timings held to 3x (they come
 *     from another process, host or time);
 *   - a forward pass 2x slower and a link 2x slower: caught by time.reps at
 *     the default rules.
 *
 * The suite's teacher is a committed checkpoint (scenarios/ci/teacher.yaml),
 * the same bits on every CPU; the students train in every run.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* bf_spawn.h runs the binary named by BF_BFBENCH_PATH: make it a variable,
 * so that the injected-fault build can be run through the same helpers. */
static const char *const bfbench_real = BF_BFBENCH_PATH;
static const char *bench_path = BF_BFBENCH_PATH;
#undef BF_BFBENCH_PATH
#define BF_BFBENCH_PATH bench_path
#include "bf_spawn.h"

#include <sqlite3.h>
#include <sys/stat.h>

#define SUITE BF_SOURCE_DIR "/scenarios/ci/tiny.yaml"
#define SUITE_TRAIN BF_SOURCE_DIR "/scenarios/ci/tiny-train.yaml"
#define SUITE_NET BF_SOURCE_DIR "/scenarios/ci/tiny-net.yaml"
#define REFERENCE BF_SOURCE_DIR "/results/reference/ci-tiny.db"

/* Cases of the suite: teacher, JPEG, two students; four network ones. */
#define SUITE_CASES "8 cases matched"

static char db_a[512]; /* suite A: runs 1 (training) and 2 (network) */
static char db_n[512]; /* suite N: the network member alone, run 1 */

static void expect_in(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("'%s' not in:\n%s\n(stderr:\n%s)", what, text, err_text);
}

/*
 * A compare whose exit code is not want: fail with the rows that made it
 * so (a verdict other than ok, a difference, a missing case) and the
 * summary, rather than the whole table (cut at cmocka's message size).
 */
static void expect_compare(int code, int want, const char *where)
{
    static const char *const marks[] = {" WORSE",  " OFF",    " SLOWER",
                                        " differ", "missing", "result:"};
    static char rows[8192];
    const char *p = out_text;
    size_t len = 0;

    if (code == want)
        return;
    rows[0] = '\0';
    while (*p && len < sizeof(rows) - 1) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        int keep = 0;

        snprintf(line, sizeof(line), "%.*s", (int)n, p);
        for (size_t k = 0; k < sizeof(marks) / sizeof(*marks); k++)
            keep |= strstr(line, marks[k]) != NULL;
        if (keep)
            len += (size_t)snprintf(rows + len, sizeof(rows) - len, "%.*s\n",
                                    (int)n, p);
        p = nl ? nl + 1 : p + n;
    }
    fail_msg("%s: exit %d, want %d; the rows that decided it:\n%s", where, code,
             want, rows);
}

/* Rounds of the network member: one where timings are not judged (the
 * untimed group: its cases' numbers are the same every round), the
 * scenario's five where they are. */
static const char *rounds = "1";

/* Run a scenario into db with bfbench, or with bfbench_faults and BF_FAULT
 * set to fault (not NULL). */
static void run_scenario(const char *scenario, const char *db,
                         const char *fault, const char *where)
{
    if (fault) {
        setenv("BF_FAULT", fault, 1);
        bench_path = BF_FAULTS_PATH;
    }
    expect(RUN("-q", "run", "--repetitions", rounds, "--db", db, scenario), 0,
           where);
    bench_path = bfbench_real;
    unsetenv("BF_FAULT");
}

/* Tests */

static void test_ci_suite_against_baseline(void **state)
{
    struct stat st;

    (void)state;
    if (stat(REFERENCE, &st) != 0)
        fail_msg("%s is missing: regenerate it (results/reference/README.md)",
                 REFERENCE);
    expect_compare(RUN("compare", "--timings", "skip", REFERENCE, db_a), 0,
                   "the suite against its baseline");
    expect_in(out_text, SUITE_CASES);
    expect_in(out_text, " 0 differ, ");
    expect_in(out_text, "result: PASS");
}

/* The network member's timings against the baseline's network run: on the
 * baseline's platform they are judged, held to 3x and 0.5 ms of growth (a
 * gross slowdown: a debug build, a lost kernel); elsewhere listed. Whole
 * processes differ by up to 2.4x on the sub-millisecond heads
 * (REPRODUCE.md, "CI regression checks"), and the baseline is one process
 * of another time: BottleFit's 0.14 ms head was measured at 3.01x (0.43
 * ms) beside a training run, and failed one clean-clone CI run on a
 * quiet machine, hence the floor. A debug build (about 10x) still
 * fails. */
static void test_ci_suite_timings_against_baseline(void **state)
{
    (void)state;
    expect_compare(RUN("compare", "--rule", "time.ratio=3", "--rule",
                       "time.floor_ms=0.5", REFERENCE ":2", db_n),
                   0, "the network member against the baseline's");
    expect_in(out_text, "4 cases matched");
    expect_in(out_text, " 0 differ, ");
    expect_in(out_text, "result: PASS");
}

static void test_ci_suite_rerun_is_exact(void **state)
{
    char db[512];

    (void)state;
    tmp_path(db, sizeof(db), "a/rerun.db");
    run_scenario(SUITE, db, NULL, "the suite again, same platform");
    expect(RUN("compare", "--timings", "skip", db_a, db), 0,
           "a rerun on the same platform");
    expect_in(out_text, "exact mode (platforms equal)");
    expect_in(out_text, SUITE_CASES);
    expect_in(out_text, " 0 differ, ");
}

static void test_ci_suite_other_isa(void **state)
{
    char db[512];

    (void)state;
    tmp_path(db, sizeof(db), "b/ci.db");
    /* ATen's scalar kernels and another OpenBLAS core; oneDNN capped at
     * AVX as well would double the time (scripts/ci_compare_bench.sh runs
     * that setting). */
    setenv("ATEN_CPU_CAPABILITY", "default", 1);
    setenv("OPENBLAS_CORETYPE", "Sandybridge", 1);
    run_scenario(SUITE, db, NULL, "the suite under other kernels");
    unsetenv("ATEN_CPU_CAPABILITY");
    if (getenv("BF_TEST_CORETYPE"))
        setenv("OPENBLAS_CORETYPE", getenv("BF_TEST_CORETYPE"), 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    expect(RUN("compare", db_a, db), 0, "other kernels against suite A");
    expect_in(out_text, "statistical mode (platforms differ)");
    expect_in(out_text, SUITE_CASES);
    expect_in(out_text, " 0 differ, ");
    expect_in(out_text, " 0 worse, ");
    expect_in(out_text, "timings not judged (~: platforms differ)");
    expect_in(err_text, "platform blas.core:");
    expect_in(err_text, "platform torch.cpu_capability:");
    expect(RUN("compare", REFERENCE, db), 0,
           "other kernels against the "
           "committed baseline");
    expect_in(out_text, "statistical mode");
    expect_in(out_text, "result: PASS");
}

/* A fault injected into the network member, compared in statistical mode
 * against suite A's network run: a regression naming metric and verdict. */
static void net_fault(const char *fault, const char *metric,
                      const char *verdict, const char *base,
                      const char *timings)
{
    char db[512], name[64];

    snprintf(name, sizeof(name), "fault-%s/net.db", fault);
    tmp_path(db, sizeof(db), name);
    run_scenario(SUITE_NET, db, fault, fault);
    expect(
        RUN("compare", "--mode", "statistical", "--timings", timings, base, db),
        1, fault);
    expect_in(out_text, metric);
    expect_in(out_text, verdict);
    expect_in(out_text, "result: REGRESSION");
}

/* Suite A's network run. */
static const char *a_net(void)
{
    static char spec[600];

    snprintf(spec, sizeof(spec), "%s:2", db_a);
    return spec;
}

static void test_ci_suite_catches_quantizer_off_by_one(void **state)
{
    (void)state;
    net_fault("quant-level", "check.quantize_u8", "DIFFERS", a_net(), "skip");
}

static void test_ci_suite_catches_fewer_channels(void **state)
{
    (void)state;
    net_fault("channels", "case.split_shape", "DIFFERS", a_net(), "skip");
}

static void test_ci_suite_catches_slower_forward(void **state)
{
    (void)state;
    net_fault("forward-2x", "time.head.median_ms", "SLOWER", db_n, "judge");
    expect_in(out_text, "time.reps");
}

static void test_ci_suite_catches_slower_link(void **state)
{
    (void)state;
    net_fault("link-2x", "time.transfer.median_ms", "SLOWER", db_n, "judge");
    expect_in(out_text, "time.reps");
}

static void test_ci_suite_catches_small_learning_rate(void **state)
{
    char db[512], base[600];

    (void)state;
    /* The students train with a hundredth of the learning rate they
     * record. */
    tmp_path(db, sizeof(db), "a/lr.db");
    snprintf(base, sizeof(base), "%s:1", db_a);
    run_scenario(SUITE_TRAIN, db, "lr-100x", "lr-100x");
    expect(
        RUN("compare", "--mode", "statistical", "--timings", "skip", base, db),
        1, "lr-100x");
    expect_in(out_text, "accuracy.paired");
    expect_in(out_text, "WORSE");
    /* The recorded schedule is the same: the accuracy test catches it. */
    assert_null(strstr(out_text, ".lr "));
}

static void test_ci_suite_catches_dropped_case(void **state)
{
    char db[512];
    sqlite3 *h = NULL;
    FILE *in, *out;
    char buf[8192];
    size_t n;

    (void)state;
    tmp_path(db, sizeof(db), "a/dropped.db");
    in = fopen(db_a, "rb");
    out = fopen(db, "wb");
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h,
                     "CREATE TEMP TABLE gone AS SELECT id FROM cases WHERE "
                     "config = 'ae-split' AND run_id = 2; "
                     "DELETE FROM samples WHERE case_id IN gone; "
                     "DELETE FROM aggregates WHERE case_id IN gone; "
                     "DELETE FROM accuracy WHERE case_id IN gone; "
                     "DELETE FROM device_results WHERE case_id IN gone; "
                     "DELETE FROM cases WHERE id IN gone;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    expect(
        RUN("compare", "--mode", "statistical", "--timings", "skip", db_a, db),
        1, "a dropped case");
    expect_in(out_text, "MISSING");
    expect_in(out_text, "1 missing");
}

/* Run a scenario for a group setup into db (a path under the temporary
 * directory). */
static int setup_run(const char *scenario, char *db, size_t size,
                     const char *name)
{
    if (tmpdir_make("bf_ci_suite_"))
        return -1;
    /* OpenBLAS must not start its own threads on top of torch's; the
     * other-ISA test restores the core type it changes. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (getenv("OPENBLAS_CORETYPE"))
        setenv("BF_TEST_CORETYPE", getenv("OPENBLAS_CORETYPE"), 1);
    tmp_path(db, size, name);
    if (RUN("-q", "run", "--repetitions", rounds, "--db", db, scenario) != 0) {
        fprintf(stderr, "%s failed:\n%s\n%s\n", scenario, out_text, err_text);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return setup_run(SUITE, db_a, sizeof(db_a), "a/ci.db");
}

static int setup_timed(void **state)
{
    (void)state;
    rounds = "5";
    return setup_run(SUITE_NET, db_n, sizeof(db_n), "n/net.db");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest untimed[] = {
        cmocka_unit_test(test_ci_suite_against_baseline),
        cmocka_unit_test(test_ci_suite_rerun_is_exact),
        cmocka_unit_test(test_ci_suite_other_isa),
        cmocka_unit_test(test_ci_suite_catches_quantizer_off_by_one),
        cmocka_unit_test(test_ci_suite_catches_fewer_channels),
        cmocka_unit_test(test_ci_suite_catches_small_learning_rate),
        cmocka_unit_test(test_ci_suite_catches_dropped_case),
    };
    const struct CMUnitTest timed[] = {
        cmocka_unit_test(test_ci_suite_timings_against_baseline),
        cmocka_unit_test(test_ci_suite_catches_slower_forward),
        cmocka_unit_test(test_ci_suite_catches_slower_link),
    };
    const char *group = argc > 1 ? argv[1] : "";
    int rc = 0;

    if (argc > 2 || (argc == 2 && strcmp(group, "untimed") != 0 &&
                     strcmp(group, "timed") != 0)) {
        fprintf(stderr, "usage: test_ci_suite [untimed|timed]\n");
        return 2;
    }
    if (strcmp(group, "timed") != 0)
        rc |= cmocka_run_group_tests_name("untimed", untimed, setup, teardown);
    if (strcmp(group, "untimed") != 0)
        rc |=
            cmocka_run_group_tests_name("timed", timed, setup_timed, teardown);
    return rc;
}
