/*
 * Tests of bf_claims (`bfbench report --paper`): every claim recomputed
 * from a small DB whose rows give known answers, the maxima located, the
 * run selection (newest run per scenario), modeled labels, and "no data"
 * for claims whose rows are absent.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_claims.h"
#include "bf_err.h"
#include "bf_store.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char db[96];
    struct bf_store *store;
};

/*
 * Two training runs of one scenario (the newer one counts) and a network
 * run. Older run: teacher 95 %, BottleFit 8-bit at C=2 94.3 % at 50 B
 * against 500 B of JPEG (90 %, 0.7 points lost: outside the paper's 0.6)
 * and at C=1 93.5 % at 25 B (95 %, 1.5 points). Newest training run:
 * teacher 90 %, BottleFit 8-bit at C=2 89 % at 100 B (80 % compression, 1
 * point lost), at C=3 89.5 % at 60 B (88 %, 0.5 points), at C=6 89.8 % at
 * 150 B (70 %, 0.2 points), at C=9 89.4 % at 55 B (89 %, 0.6 points: on
 * the bound, which counts as within it); SPINN's
 * exit rule at t=0.5 sends 80 B with 85 % (5 points, its largest loss),
 * at t=0.9 300 B with 89.5 %. Heads: BottleFit
 * 1,000 params, ae-split 50,000 (50x). Network run, devices jetson-a and
 * raspberry-b: BottleFit at 5 Mbit/s against local, edge and ae-split.
 */
static const char fixture_sql[] =
    "INSERT INTO runs (id, started_at, status, scenario_path, "
    "scenario_name, scenario_sha256, scenario_text, seed, git_commit, "
    "git_dirty, host, cpu_model, cores_online, libtorch_version, blas, "
    "build_type, bfbench_version, input_hashes, command_line) VALUES "
    "(1, 't', 'finished', 'a', 'train', 'x', '', 1, 'c', 0, 'h', 'cpu', 2, "
    "'1', 'b', 'Release', '0', '{}', 'bfbench'), "
    "(2, 't', 'finished', 'a', 'train', 'x', '', 1, 'c', 0, 'h', 'cpu', 2, "
    "'1', 'b', 'Release', '0', '{}', 'bfbench'), "
    "(3, 't', 'finished', 'n', 'net', 'y', '', 1, 'c', 0, 'h', 'cpu', 2, "
    "'1', 'b', 'Release', '0', '{}', 'bfbench');\n"
    /* cases: id, run, index, config, model, strategy, C, head, rate */
    "CREATE TEMP TABLE k (id, run, i, config, model, strategy, c, head, "
    "rate, h);\n"
    "INSERT INTO k VALUES "
    "(1, 1, -1, 'local', 'm1', 'teacher', NULL, NULL, NULL, 28), "
    "(2, 1, 0, 'bottlefit', 'm1', 'bottlefit', 2, 1000, NULL, 28), "
    "(9, 1, 1, 'bottlefit', 'm1', 'bottlefit', 1, 1000, NULL, 28), "
    "(3, 2, -1, 'local', 'm1', 'teacher', NULL, NULL, NULL, 28), "
    "(4, 2, 0, 'bottlefit', 'm1', 'bottlefit', 2, 1000, NULL, 28), "
    "(5, 2, 1, 'bottlefit', 'm1', 'spinn-split', NULL, 9000, NULL, 28), "
    "(6, 2, 2, 'bottlefit', 'm1', 'ae-split', 2, 50000, NULL, 28), "
    "(7, 2, 3, 'bottlefit', 'm1', 'bottlefit', 3, 1000, NULL, 28), "
    "(8, 2, 4, 'bottlefit', 'm1', 'bottlefit', 6, 1000, NULL, 28), "
    "(15, 2, 5, 'bottlefit', 'm1', 'bottlefit', 9, 1000, NULL, 28), "
    "(10, 3, 0, 'local', 'big', NULL, NULL, NULL, NULL, 224), "
    "(11, 3, 1, 'edge', 'big', NULL, NULL, NULL, 5, 224), "
    "(12, 3, 2, 'bottlefit', 'big', NULL, 12, 300, 5, 224), "
    "(13, 3, 3, 'ae-split', 'big', NULL, 12, 600, 5, 224), "
    "(14, 3, 4, 'bottlefit', 'big', NULL, 12, 300, 20, 224);\n"
    "INSERT INTO cases (id, run_id, case_index, config, model, weights, "
    "weights_sha256, input_channels, input_h, input_w, batch, threads, "
    "fold_bn, channels_last, warmup, params, macs, status, started_at, "
    "strategy, bottleneck_channels, head_params, split_shape, "
    "link_rate_mbps, background_clients, link) SELECT id, run, i, config, "
    "model, 'random', '', 3, h, h, 1, 1, 1, 0, 0, 1, 1, 'finished', 't', "
    "strategy, c, head, CASE WHEN c IS NOT NULL THEN c || 'x29x29' END, "
    "rate, CASE WHEN rate IS NOT NULL THEN 0 END, CASE WHEN rate IS NOT "
    "NULL THEN 'fixed' END FROM k;\n"
    "INSERT INTO accuracy (case_id, variant, split, n, top1, top5, "
    "payload_bytes, jpeg_reference_bytes, jpeg_reference_quality, "
    "compression_vs_jpeg, method) VALUES "
    "(1, 'fp32', 'test', 10, 95, 99, NULL, NULL, NULL, NULL, 'm'), "
    "(2, 'int8', 'test', 10, 94.3, 99, 50, 500, 90, 0.9, 'm'), "
    "(9, 'int8', 'test', 10, 93.5, 99, 25, 500, 90, 0.95, 'm'), "
    "(3, 'fp32', 'test', 10, 90, 99, NULL, NULL, NULL, NULL, 'm'), "
    "(4, 'int8', 'test', 10, 89, 99, 100, 500, 90, 0.8, 'm'), "
    "(7, 'int8', 'test', 10, 89.5, 99, 60, 500, 90, 0.88, 'm'), "
    "(8, 'int8', 'test', 10, 89.8, 99, 150, 500, 90, 0.7, 'm'), "
    "(15, 'int8', 'test', 10, 89.4, 99, 55, 500, 90, 0.89, 'm'), "
    "(5, 'exit-t0.5', 'test', 10, 85, 99, 80, NULL, NULL, NULL, 'm'), "
    "(5, 'exit-t0.9', 'test', 10, 89.5, 99, 300, NULL, NULL, NULL, 'm');\n"
    /* device rows: case, device, power mW, e2e ms */
    "CREATE TEMP TABLE d (c, dev, p, e, lm);\n"
    "INSERT INTO d VALUES "
    "(10, 'jetson-a', 4000, 100, 'modeled:x'), "
    "(10, 'raspberry-b', 3000, 400, 'modeled:x'), "
    "(11, 'jetson-a', 2000, 50, 'modeled:x'), "
    "(11, 'raspberry-b', 2000, 60, 'modeled:x'), "
    "(12, 'jetson-a', 1000, 20, 'modeled:x'), "
    "(12, 'raspberry-b', 1500, 48, 'modeled:x'), "
    "(13, 'jetson-a', 1250, 40, 'modeled:x'), "
    "(13, 'raspberry-b', 2000, 60, 'modeled:x'), "
    "(14, 'jetson-a', 2000, 10, 'modeled:x'), "
    "(14, 'raspberry-b', 2000, 200, 'modeled:x');\n"
    "INSERT INTO device_results (case_id, device, role, latency_method, "
    "power_method, requests, e2e_ms, avg_power_mw) SELECT c, dev, "
    "'device', lm, 'modeled:p', 5, e, p FROM d;\n"
    /* Prediction interval bounds of the jetson's local row (case 10) and
     * its BottleFit row at 20 Mbit/s (case 14), with its runtime. */
    "UPDATE device_results SET e2e_lo_ms = 70, e2e_hi_ms = 140, runtime = "
    "'rt-x' WHERE case_id = 10 AND device = 'jetson-a';\n"
    "UPDATE device_results SET e2e_lo_ms = 8, e2e_hi_ms = 13, runtime = "
    "'rt-x' WHERE case_id = 14 AND device = 'jetson-a';\n";

/*
 * Hand-computed answers. Jetson vs local: power 1 - 1000/4000 = 75 % (rate
 * 5), latency 1 - 10/100 = 90 % (rate 20). Raspberry vs local: power
 * 50 %, latency 88 %. Edge (same rate 5 only): power max(50 %, 25 %),
 * latency max(60 %, 20 %). ae-split, jet: 20 %, 50 %; raspberry: 25 %,
 * 20 %. Head: 600 / 300 = 2 (net) and 50,000 / 1,000 = 50 (train).
 * ImageNet: 1 - 12*29*29 / 44,770 = 77.46 %. The latency row's interval
 * from the bounds: 1 - 8/70 = 88.57 %, 1 - 13/140 = 90.71 %.
 */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    sqlite3 *db = NULL;

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bf_test_claims_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/bench.db", f->dir);
    if (bf_store_open(f->db, &f->store))
        return -1;
    if (sqlite3_open(f->db, &db) != SQLITE_OK ||
        sqlite3_exec(db, fixture_sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_close(db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    struct fixture *f = *state;
    char path[128];

    bf_store_close(f->store);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The claims as text (caller frees). */
static char *claims(struct bf_store *store, int64_t run_id,
                    enum bf_report_format format, int *rc)
{
    struct bf_claims_params p = {.run_id = run_id, .format = format};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    *rc = bf_claims_write(store, &p, out);
    fclose(out);
    return buf;
}

/* The line of claim number n ("%2d  ..."). */
static const char *line_of(const char *text, int n)
{
    char tag[8];
    const char *p;

    snprintf(tag, sizeof(tag), "\n%2d  ", n);
    p = strstr(text, tag);
    assert_non_null(p);
    return p + 1;
}

static void assert_line_has(const char *text, int n, const char *needle)
{
    const char *line = line_of(text, n);
    const char *end = strchr(line, '\n');
    char buf[512];

    snprintf(buf, sizeof(buf), "%.*s", (int)(end - line), line);
    if (!strstr(buf, needle))
        fail_msg("claim %d: '%s' lacks '%s'", n, buf, needle);
}

static void test_claims_values_and_where(void **state)
{
    struct fixture *f = *state;
    int rc;
    char *t = claims(f->store, -1, BF_REPORT_TEXT, &rc);

    assert_int_equal(rc, 0);
    /* Newest run per scenario: run 2 (not 1) and run 3. */
    assert_non_null(strstr(t, "run 2 train, run 3 net"));
    /* The highest compression within 0.6 points: C=9, on the bound, not
     * C=3 (less compression), C=6 (the smallest loss) or C=2 (outside). */
    assert_line_has(t, 1, "89.0 % (55 B vs 500 B JPEG q90)");
    assert_line_has(t, 1, "m1 C=9 (run 2, 1 seed)");
    assert_line_has(t, 2, "77.5 % (10092 B vs 44770 B)");
    assert_line_has(t, 3, "0.60 points");
    assert_line_has(t, 4,
                    "5.00 points (1 seed); 80 B sent per image; "
                    "BottleFit 55 B");
    assert_line_has(t, 4, "exit-t0.5");
    assert_line_has(t, 5, "75.0 % (modeled)");
    assert_line_has(t, 5, "big C=12 jetson-a 5 Mbit/s (run 3)");
    assert_line_has(t, 6, "90.0 % (modeled, 88.6-90.7 %)");
    assert_line_has(t, 6, "jetson-a (rt-x) 20 Mbit/s");
    assert_line_has(t, 7, "50.0 %");
    assert_line_has(t, 7, "jetson-a 5 Mbit/s");
    assert_line_has(t, 8, "60.0 %");
    assert_line_has(t, 9, "20.0 %");
    assert_line_has(t, 10, "50.0 %");
    assert_line_has(t, 11, "25.0 %");
    assert_line_has(t, 11, "raspberry-b");
    assert_line_has(t, 12, "20.0 %");
    assert_line_has(t, 13, "50.0 times");
    assert_line_has(t, 13, "50000 vs 1000 params");
    free(t);

    /* Every run: run 1's higher compressions are outside the bound, so
     * run 2's C=9 still wins. */
    t = claims(f->store, 0, BF_REPORT_TEXT, &rc);
    assert_int_equal(rc, 0);
    assert_line_has(t, 1, "89.0 % (55 B vs 500 B JPEG q90)");
    assert_line_has(t, 1, "(run 2, ");
    free(t);

    /* Run 1 alone: no row within the bound, so the smallest loss (C=2),
     * not the highest compression (C=1). */
    t = claims(f->store, 1, BF_REPORT_TEXT, &rc);
    assert_int_equal(rc, 0);
    assert_line_has(t, 1, "90.0 % (50 B vs 500 B JPEG q90)");
    assert_line_has(t, 3, "0.70 points");
    free(t);
}

/* Markdown row n (its "#" column is 3 wide) with its cells trimmed and
 * joined by "|": "1|data compression by BottleFit|77.1 %|...". */
static void md_row(const char *text, int n, char *out, size_t size)
{
    char tag[16];
    const char *p, *end, *bar;
    size_t len = 0;

    snprintf(tag, sizeof(tag), "\n| %3d |", n);
    p = strstr(text, tag);
    assert_non_null(p);
    p += 2; /* past the line break and the opening pipe */
    end = strchr(p, '\n');
    assert_non_null(end);
    out[0] = '\0';
    while ((bar = memchr(p, '|', (size_t)(end - p))) && len + 1 < size) {
        const char *a = p, *b = bar;

        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? "|" : "",
                                (int)(b - a), a);
        p = bar + 1;
    }
}

static void test_claims_no_data_and_markdown(void **state)
{
    struct fixture *f = *state;
    int rc;
    char row[1024];
    char *t = claims(f->store, 3, BF_REPORT_MARKDOWN, &rc);

    /* Run 3 alone has no training rows. */
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, "| --: | ---"));
    md_row(t, 1, row, sizeof(row));
    assert_non_null(strstr(row, "1|data compression by BottleFit|77.1 %|"
                                "no data|run a training scenario"));
    md_row(t, 6, row, sizeof(row));
    assert_non_null(strstr(row, "6|latency reduction vs local computing|"
                                "up to 89 %|90.0 % (modeled, 88.6-90.7 %)|"));
    md_row(t, 13, row, sizeof(row));
    assert_non_null(strstr(row, "13|head smaller than autoencoder split's|"
                                "83 times|2.0 times|"));
    free(t);

    /* CSV: the table alone, with the "how" column. */
    t = claims(f->store, 3, BF_REPORT_CSV, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(strncmp(t, "n,claim,paper,harness,where,how\r\n", 33), 0);
    assert_non_null(strstr(t, "\r\n13,head smaller than autoencoder "
                              "split's,83 times,2.0 times,"));
    assert_null(strstr(t, "ImageNet results on real boards"));
    free(t);

    t = claims(f->store, 99, BF_REPORT_TEXT, &rc);
    assert_int_equal(rc, BF_ENOENT);
    free(t);
}

/*
 * Run 4 ("seeded"): one teacher (seed 1, 90 %) shared by three seeds.
 * BottleFit 8-bit at C=4 (40 B, 92 % compression): 89.5, 89.0, 89.6 %,
 * losses 0.5, 1.0, 0.4, mean 0.633: outside the paper's 0.6 although its
 * seed 1 alone (0.5) is inside; at C=8 (80 B, 84 %): 89.6, 89.4, 89.5 %,
 * losses 0.4, 0.6, 0.5, mean 0.5: inside. SPINN's exit at t=0.5: 85, 86,
 * 84 % (losses 5, 4, 6). naive at C=8: 89.0, 89.1, 88.9 % (BottleFit -
 * naive 0.6, 0.3, 0.6).
 */
static const char seeded_sql[] =
    "INSERT INTO runs (id, started_at, status, scenario_path, "
    "scenario_name, scenario_sha256, scenario_text, seed, git_commit, "
    "git_dirty, host, cpu_model, cores_online, libtorch_version, blas, "
    "build_type, bfbench_version, input_hashes, command_line) VALUES "
    "(4, 't', 'finished', 's', 'seeded', 'z', '', 1, 'c', 0, 'h', 'cpu', 2, "
    "'1', 'b', 'Release', '0', '{}', 'bfbench');\n"
    "CREATE TEMP TABLE k2 (id, i, strategy, c, seed, top1, variant, bytes, "
    "compression);\n"
    "INSERT INTO k2 VALUES "
    "(40, 0, 'teacher', NULL, 1, 90, 'fp32', NULL, NULL), "
    "(41, 1, 'bottlefit', 4, 1, 89.5, 'int8', 40, 0.92), "
    "(42, 2, 'bottlefit', 4, 2, 89.0, 'int8', 40, 0.92), "
    "(43, 3, 'bottlefit', 4, 3, 89.6, 'int8', 40, 0.92), "
    "(44, 4, 'bottlefit', 8, 1, 89.6, 'int8', 80, 0.84), "
    "(45, 5, 'bottlefit', 8, 2, 89.4, 'int8', 80, 0.84), "
    "(46, 6, 'bottlefit', 8, 3, 89.5, 'int8', 80, 0.84), "
    "(47, 7, 'spinn-split', NULL, 1, 85, 'exit-t0.5', 70, NULL), "
    "(48, 8, 'spinn-split', NULL, 2, 86, 'exit-t0.5', 70, NULL), "
    "(49, 9, 'spinn-split', NULL, 3, 84, 'exit-t0.5', 70, NULL), "
    "(50, 10, 'naive', 8, 1, 89.0, 'int8', 80, 0.84), "
    "(51, 11, 'naive', 8, 2, 89.1, 'int8', 80, 0.84), "
    "(52, 12, 'naive', 8, 3, 88.9, 'int8', 80, 0.84), "
    "(53, -3, 'teacher', NULL, 1, 90, 'fp32', NULL, NULL), "
    "(54, -2, 'bottlefit', 8, 1, 89.8, 'int8', 80, 0.84), "
    "(55, -1, 'bottlefit', 8, 2, 89.9, 'int8', 80, 0.84);\n"
    "INSERT INTO cases (id, run_id, case_index, config, model, weights, "
    "weights_sha256, input_channels, input_h, input_w, batch, threads, "
    "fold_bn, channels_last, warmup, params, macs, status, started_at, "
    "strategy, bottleneck_channels, bottleneck_version, seed) SELECT id, 4, "
    "i, 'bottlefit', CASE WHEN i < 0 THEN 'm3' ELSE 'm2' END, 'random', "
    "'', 1, 28, 28, 1, 1, 1, 0, 0, 1, 1, "
    "'finished', 't', strategy, c, CASE WHEN c IS NOT NULL THEN 2 END, "
    "seed FROM k2;\n"
    "INSERT INTO accuracy (case_id, variant, split, n, top1, top5, "
    "payload_bytes, jpeg_reference_bytes, jpeg_reference_quality, "
    "compression_vs_jpeg, method) SELECT id, variant, 'test', 1000, top1, "
    "99, bytes, CASE WHEN compression IS NOT NULL THEN 500 END, CASE WHEN "
    "compression IS NOT NULL THEN 90 END, compression, 'm' FROM k2;\n";

/*
 * Reference values (Student t, df = 2, closed form F(t) = 1/2 + t / (2
 * sqrt(2 + t^2)); t_0.975 = 4.302652729911275), from
 *   /usr/bin/python3 -c "import math; v=[0.4,0.6,0.5]; ..."
 * losses 0.4, 0.6, 0.5: mean 0.5, 95 % CI 0.251586 to 0.748414, p 0.01307;
 * 5, 4, 6: 5, 2.515862 to 7.484138, p 0.01307; differences 0.6, 0.3, 0.6:
 * 0.5, 0.069735 to 0.930265, p 0.03775.
 */
static void test_claims_seeds_decide(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;
    int rc;
    char *t;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (sqlite3_exec(db, seeded_sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("seeded fixture: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    t = claims(f->store, 4, BF_REPORT_TEXT, &rc);
    assert_int_equal(rc, 0);
    /* C=8: its mean loss is within the bound, C=4's is not; m3's equal
     * compression has fewer seeds. */
    assert_line_has(t, 1, "84.0 % (80 B vs 500 B JPEG q90)");
    assert_line_has(t, 1, "m2 C=8 (run 4, 3 seeds)");
    assert_line_has(t, 3,
                    "0.50 points (95 % CI 0.25 to 0.75, paired t "
                    "p = 0.013, 3 seeds)");
    assert_line_has(t, 4,
                    "5.00 points (95 % CI 2.52 to 7.48, paired t "
                    "p = 0.013, 3 seeds); 70 B sent per image; "
                    "BottleFit 40 B");
    assert_line_has(t, 4, "m2 exit-t0.5 (run 4, 3 seeds)");
    /* BottleFit against naive at C=8, paired by seed. */
    assert_non_null(strstr(t, "BottleFit against the other strategies"));
    assert_non_null(strstr(t, "naive"));
    assert_non_null(strstr(t, "+0.50"));
    assert_non_null(strstr(t, "+0.07"));
    assert_non_null(strstr(t, "+0.93"));
    assert_non_null(strstr(t, "0.0377"));
    assert_non_null(strstr(t, "A better"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims_values_and_where, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claims_no_data_and_markdown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claims_seeds_decide, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
