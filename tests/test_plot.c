/*
 * Tests of bf_plot: the figures of a fixture DB (rows of a real training
 * run and a real network run, tests/fixtures/plot/fixture.sql) compared
 * with golden SVG files byte for byte, a second render byte-identical to
 * the first (SVG, PNG and data files), the PNG signature, the paths
 * printed, the run selection (given, or the newest per model), the rate,
 * the error bars (a configuration with several seeds: the mean and the
 * half width of its t interval; one seed: Wilson; measured latency: the
 * bootstrap interval of the median, modeled: none) and the keys outside
 * the plot area, the training curves (losses per image, or as reduced
 * and said so; the lowest seed of a configuration; skipped without epoch
 * rows), and the error paths: no rows, no DB, a file that is not
 * a DB, an unknown run, gnuplot missing, gnuplot failing. The store's
 * figure queries (bf_store_figures.h) that feed the figures are tested
 * here too: their argument checks, a failing query, a callback stopping a
 * walk.
 *
 * Needs gnuplot on PATH (Debian gnuplot-nox, a required dependency that
 * scripts/test.sh installs); without it the test fails. The golden SVGs depend
 * on the gnuplot version (5.4 of Debian 12). To regenerate them after an
 * intended change of a figure, run this binary with BF_UPDATE_GOLDEN=1
 * and review the new figures by eye (git diff, or open the SVGs).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_plot.h"
#include "bf_store.h"
#include "bf_store_figures.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BF_FIXTURES_DIR
#define BF_FIXTURES_DIR "tests/fixtures"
#endif
#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "."
#endif

#define PLOT_FIXTURES BF_FIXTURES_DIR "/plot"
#define SCRIPTS_DIR BF_SOURCE_DIR "/scripts/plots"
#define MAX_FILE_BYTES (4u << 20)

/* The figures of the fixture DB, in the order they are written. */
static const char *const figures[] = {
    "accuracy-resnet_mini",  "latency-resnet_mini", "energy-resnet_mini",
    "breakdown-resnet_mini", "head-resnet_mini",
};
#define N_FIGURES (sizeof(figures) / sizeof(figures[0]))

struct fixture {
    char dir[64];
    char db[128];    /* the fixture DB */
    char empty[128]; /* a DB without rows */
};

/* Files and directories */

/* Remove dir and everything in it (two levels: outputs and their files). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void read_file(const char *path, struct bf_buf *buf)
{
    int rc = bf_buf_read_file(buf, path, MAX_FILE_BYTES, "file");

    if (rc)
        fail_msg("%s", bf_last_error());
}

/* Report the first line where two texts differ, and fail. */
static void fail_first_difference(const char *what, const char *a,
                                  const char *b)
{
    const char *line_a = a, *line_b = b;
    int line = 1;

    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            line_a = a + 1;
            line_b = b + 1;
        }
        a++;
        b++;
    }
    fail_msg("%s differs at line %d:\n  expected: %.*s\n  actual:   %.*s", what,
             line, (int)strcspn(line_a, "\n"), line_a,
             (int)strcspn(line_b, "\n"), line_b);
}

static void assert_same_file(const char *expected_path, const char *actual_path)
{
    struct bf_buf expected, actual;

    bf_buf_init(&expected);
    bf_buf_init(&actual);
    read_file(expected_path, &expected);
    read_file(actual_path, &actual);
    if (expected.len != actual.len ||
        memcmp(bf_buf_str(&expected), bf_buf_str(&actual), actual.len) != 0)
        fail_first_difference(actual_path, bf_buf_str(&expected),
                              bf_buf_str(&actual));
    bf_buf_free(&expected);
    bf_buf_free(&actual);
}

static void assert_golden(const char *out_dir, const char *figure)
{
    char actual[256], golden[256];

    snprintf(actual, sizeof(actual), "%s/%s.svg", out_dir, figure);
    snprintf(golden, sizeof(golden), "%s/golden/%s.svg", PLOT_FIXTURES, figure);
    if (getenv("BF_UPDATE_GOLDEN")) {
        struct bf_buf text;
        FILE *fp;

        bf_buf_init(&text);
        read_file(actual, &text);
        fp = fopen(golden, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(bf_buf_str(&text), 1, text.len, fp), text.len);
        assert_int_equal(fclose(fp), 0);
        bf_buf_free(&text);
        return;
    }
    if (access(golden, R_OK) != 0)
        fail_msg("golden file %s is missing (BF_UPDATE_GOLDEN=1 writes it)",
                 golden);
    assert_same_file(golden, actual);
}

static int file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/*
 * Whether text holds needle once the caption's line breaks (the
 * two characters backslash n of the by-hand command) read as spaces.
 */
static int has_unwrapped(const char *text, const char *needle)
{
    size_t n = strlen(text);
    char *flat = malloc(n + 1);
    size_t k = 0;
    int found;

    assert_non_null(flat);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\\' && text[i + 1] == 'n') {
            flat[k++] = ' ';
            i++;
        } else {
            flat[k++] = text[i];
        }
    }
    flat[k] = '\0';
    found = strstr(flat, needle) != NULL;
    free(flat);
    return found;
}

/* Rendering */

struct render {
    int rc;
    char *printed; /* what bf_plot_render printed */
    size_t printed_len;
};

static void render(const char *db, const struct bf_plot_params *pp,
                   struct render *r)
{
    FILE *out = open_memstream(&r->printed, &r->printed_len);

    assert_non_null(out);
    bf_err_clear();
    r->rc = bf_plot_render(db, pp, out);
    assert_int_equal(fclose(out), 0);
}

static struct bf_plot_params params(const char *out_dir)
{
    struct bf_plot_params pp = {
        .out_dir = out_dir,
        .scripts_dir = SCRIPTS_DIR,
    };
    return pp;
}

/* The fixture */

/*
 * A DB at path created by bf_store_open() (the current schema) with the
 * fixture's rows, then extra SQL (may be NULL). 0 or -1 (printed).
 */
static int make_db(const char *path, const char *extra)
{
    struct bf_store *store = NULL;
    struct bf_buf sql;
    char *err = NULL;
    int rc = -1;

    bf_buf_init(&sql);
    if (bf_buf_read_file(&sql, PLOT_FIXTURES "/fixture.sql", MAX_FILE_BYTES,
                         "fixture") != 0 ||
        bf_store_open(path, &store) != 0) {
        fprintf(stderr, "make_db: %s\n", bf_last_error());
        goto out;
    }
    if (sqlite3_exec(bf_store_db(store), bf_buf_str(&sql), NULL, NULL, &err) !=
            SQLITE_OK ||
        (extra && sqlite3_exec(bf_store_db(store), extra, NULL, NULL, &err) !=
                      SQLITE_OK)) {
        fprintf(stderr, "make_db: %s: %s\n", path, err ? err : "?");
        sqlite3_free(err);
        goto out;
    }
    rc = 0;
out:
    bf_store_close(store);
    bf_buf_free(&sql);
    return rc;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct bf_store *store = NULL;

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bf_test_plot_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/fixture.db", f->dir);
    snprintf(f->empty, sizeof(f->empty), "%s/empty.db", f->dir);
    if (make_db(f->db, NULL) != 0)
        return -1;
    if (bf_store_open(f->empty, &store) != 0)
        return -1;
    bf_store_close(store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f);
    return 0;
}

/* Tests */

static void test_plot_golden_and_rerun(void **state)
{
    struct fixture *f = *state;
    char first[128], second[128], expected[4096];
    struct bf_plot_params pp;
    struct render r1 = {0}, r2 = {0};
    static const char *const exts[] = {"tsv", "svg", "png"};
    size_t off = 0;

    /* A missing output directory is created with its parents. */
    snprintf(first, sizeof(first), "%s/a/figures", f->dir);
    snprintf(second, sizeof(second), "%s/b", f->dir);
    pp = params(first);
    render(f->db, &pp, &r1);
    if (r1.rc)
        fail_msg("render: %s", bf_last_error());
    pp = params(second);
    render(f->db, &pp, &r2);
    assert_int_equal(r2.rc, 0);

    for (size_t i = 0; i < N_FIGURES; i++) {
        for (size_t e = 0; e < 3; e++) {
            char a[256], b[256];

            snprintf(a, sizeof(a), "%s/%s.%s", first, figures[i], exts[e]);
            snprintf(b, sizeof(b), "%s/%s.%s", second, figures[i], exts[e]);
            off += (size_t)snprintf(expected + off, sizeof(expected) - off,
                                    "%s\n", a);
            /* Rerun: byte-identical, whatever the output directory. */
            assert_same_file(a, b);
            if (e == 2) {
                static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
                                                     '\r', '\n', 0x1a, '\n'};
                struct bf_buf png;

                bf_buf_init(&png);
                read_file(a, &png);
                assert_true(png.len > sizeof(sig));
                assert_memory_equal(png.data, sig, sizeof(sig));
                bf_buf_free(&png);
            }
        }
        assert_golden(first, figures[i]);
    }
    /* Every path written, one per line, in order. */
    assert_string_equal(r1.printed, expected);
    free(r1.printed);
    free(r2.printed);
}

static void test_plot_data_file(void **state)
{
    struct fixture *f = *state;
    char out[128], path[256];
    struct bf_plot_params pp;
    struct render r = {0};
    struct bf_buf text;

    snprintf(out, sizeof(out), "%s/data", f->dir);
    pp = params(out);
    pp.run_ids = (const int64_t[]){2};
    pp.n_run_ids = 1;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, 0);
    free(r.printed);
    snprintf(path, sizeof(path), "%s/latency-resnet_mini.tsv", out);
    bf_buf_init(&text);
    read_file(path, &text);
    /* The by-hand command on top, then the first block: local, drawn at
     * every rate of the figure. */
    assert_non_null(strstr(bf_buf_str(&text),
                           "#   gnuplot -e 'datafile=\"latency-resnet_mini."
                           "tsv\"; outfile=\"latency-resnet_mini.svg\"; "));
    assert_non_null(
        strstr(bf_buf_str(&text),
               "\nlocal\trate_mbps\te2e_ms\tstyle\tpanel\tdevice\tcases\t"
               "e2e_lo_ms\te2e_hi_ms\tseries\tpanel_title\n"
               "1.000\t7.0223\t1\t1\tjetson-nano-10w\t3\tNaN\tNaN\tlocal\t"
               "jetson-nano-10w (modeled, no interval)\n"
               "5.000\t7.0223\t1\t1\tjetson-nano-10w\t3\tNaN\tNaN\tlocal\t"
               "jetson-nano-10w (modeled, no interval)\n"
               "20.000\t7.0223\t1\t1\tjetson-nano-10w\t3\tNaN\tNaN\tlocal\t"
               "jetson-nano-10w (modeled, no interval)\n\n\nedge\t"));
    bf_buf_free(&text);
}

static void test_plot_run_selection(void **state)
{
    struct fixture *f = *state;
    char out[128], path[256];
    struct bf_plot_params pp;
    struct render r = {0};
    int64_t train_run = 1;

    /* The training run has accuracy rows and no device rows. */
    snprintf(out, sizeof(out), "%s/run1", f->dir);
    pp = params(out);
    pp.run_ids = &train_run;
    pp.n_run_ids = 1;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, 0);
    snprintf(path, sizeof(path), "%s/accuracy-resnet_mini.svg", out);
    assert_true(file_exists(path));
    snprintf(path, sizeof(path), "%s/latency-resnet_mini.svg", out);
    assert_false(file_exists(path));
    free(r.printed);
}

static void test_plot_rate(void **state)
{
    struct fixture *f = *state;
    char out[128], path[256];
    struct bf_plot_params pp;
    struct render r = {0};
    struct bf_buf text;

    snprintf(out, sizeof(out), "%s/rate5", f->dir);
    pp = params(out);
    pp.rate_mbps = 5.0;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, 0);
    free(r.printed);
    snprintf(path, sizeof(path), "%s/energy-resnet_mini.tsv", out);
    bf_buf_init(&text);
    read_file(path, &text);
    assert_non_null(strstr(bf_buf_str(&text), "at 5 Mbit/s uplink"));
    bf_buf_free(&text);

    /* A rate no case had: those two figures are skipped, not an error. */
    snprintf(out, sizeof(out), "%s/rate7", f->dir);
    pp = params(out);
    pp.rate_mbps = 7.0;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, 0);
    free(r.printed);
    snprintf(path, sizeof(path), "%s/energy-resnet_mini.svg", out);
    assert_false(file_exists(path));
    snprintf(path, sizeof(path), "%s/breakdown-resnet_mini.svg", out);
    assert_false(file_exists(path));
    snprintf(path, sizeof(path), "%s/latency-resnet_mini.svg", out);
    assert_true(file_exists(path));
}

/*
 * A suite's DB: a third run, newer, with another model's local cases
 * only. By default each model's figures read the newest run with its
 * rows: resnet_mini's still come from run 2.
 */
/* The fixture DB changed by extra (SQL), as <dir>/<name>.db, rendered
 * with the default parameters into out = <dir>/<name>. */
static void render_variant(const struct fixture *f, const char *name,
                           const char *extra, char *out, size_t size)
{
    char db[160];
    struct bf_plot_params pp;
    struct render r = {0};

    snprintf(db, sizeof(db), "%s/%s.db", f->dir, name);
    snprintf(out, size, "%s/%s", f->dir, name);
    assert_int_equal(make_db(db, extra), 0);
    pp = params(out);
    render(db, &pp, &r);
    assert_int_equal(r.rc, 0);
    free(r.printed);
}

static void test_plot_newest_run_per_model(void **state)
{
    static const char extra[] =
        "CREATE TEMP TABLE r AS SELECT * FROM runs WHERE id = 2;"
        "UPDATE r SET id = 3, scenario_name = 'tiny';"
        "INSERT INTO runs SELECT * FROM r;"
        "CREATE TEMP TABLE c AS SELECT * FROM cases WHERE run_id = 2 AND "
        "config = 'local';"
        "UPDATE c SET id = id + 1000, run_id = 3, model = 'tiny_model';"
        "INSERT INTO cases SELECT * FROM c;"
        "CREATE TEMP TABLE d AS SELECT * FROM device_results WHERE case_id "
        "IN (SELECT id - 1000 FROM c);"
        "UPDATE d SET case_id = case_id + 1000;"
        "INSERT INTO device_results SELECT * FROM d;";
    struct fixture *f = *state;
    char out[128], path[256];
    struct bf_buf text;

    render_variant(f, "suite", extra, out, sizeof(out));
    bf_buf_init(&text);
    snprintf(path, sizeof(path), "%s/latency-resnet_mini.svg", out);
    assert_true(file_exists(path));
    /* The new model: no emulated rate, so no latency figure. */
    snprintf(path, sizeof(path), "%s/latency-tiny_model.svg", out);
    assert_false(file_exists(path));
    snprintf(path, sizeof(path), "%s/head-tiny_model.tsv", out);
    read_file(path, &text);
    assert_non_null(strstr(bf_buf_str(&text), "Results DB run 3 (tiny)."));
    snprintf(path, sizeof(path), "%s/head-resnet_mini.tsv", out);
    bf_buf_reset(&text);
    read_file(path, &text);
    assert_non_null(strstr(bf_buf_str(&text), "Results DB run 2 (net-small)."));
    bf_buf_free(&text);
}

/*
 * A model's accuracy figure reads the newest run of each training
 * scenario: run 1 (plot-train) is replaced by its rerun 4, whose
 * bottlefit top-1 differs, and run 5 (plot-baselines, a naive case)
 * joins it.
 */
static void test_plot_accuracy_runs_per_scenario(void **state)
{
    static const char extra[] =
        "CREATE TEMP TABLE r AS SELECT * FROM runs WHERE id = 1;"
        "UPDATE r SET id = 4;"
        "INSERT INTO runs SELECT * FROM r;"
        "UPDATE r SET id = 5, scenario_name = 'plot-baselines';"
        "INSERT INTO runs SELECT * FROM r;"
        "CREATE TEMP TABLE c AS SELECT * FROM cases WHERE run_id = 1;"
        "UPDATE c SET id = id + 1000, run_id = 4;"
        "INSERT INTO cases SELECT * FROM c;"
        "CREATE TEMP TABLE a AS SELECT * FROM accuracy WHERE case_id IN "
        "(SELECT id - 1000 FROM c);"
        "UPDATE a SET case_id = case_id + 1000, top1 = 12.5 WHERE case_id IN "
        "(SELECT id - 1000 FROM c WHERE strategy = 'bottlefit');"
        "UPDATE a SET case_id = case_id + 1000 WHERE case_id < 1000;"
        "INSERT INTO accuracy SELECT * FROM a;"
        "CREATE TEMP TABLE n AS SELECT * FROM cases WHERE id = 3;"
        "UPDATE n SET id = 2000, run_id = 5, strategy = 'naive';"
        "INSERT INTO cases SELECT * FROM n;"
        "CREATE TEMP TABLE na AS SELECT * FROM accuracy WHERE case_id = 3;"
        "UPDATE na SET case_id = 2000;"
        "INSERT INTO accuracy SELECT * FROM na;";
    struct fixture *f = *state;
    char out[128], path[256];
    struct bf_buf text;

    render_variant(f, "runs", extra, out, sizeof(out));
    bf_buf_init(&text);
    snprintf(path, sizeof(path), "%s/accuracy-resnet_mini.tsv", out);
    read_file(path, &text);
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "Results DB runs 4 (plot-train), 5 "
                              "(plot-baselines)."));
    assert_non_null(strstr(bf_buf_str(&text), "naive"));
    assert_non_null(strstr(bf_buf_str(&text), "12.5"));
    bf_buf_free(&text);
}

static void test_plot_no_rows(void **state)
{
    struct fixture *f = *state;
    char out[128];
    struct bf_plot_params pp;
    struct render r = {0};

    snprintf(out, sizeof(out), "%s/none", f->dir);
    pp = params(out);
    render(f->empty, &pp, &r);
    assert_int_equal(r.rc, BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), f->empty));
    assert_non_null(strstr(bf_last_error(), "nothing to plot"));
    assert_string_equal(r.printed, "");
    assert_false(file_exists(out));
    free(r.printed);
}

static void test_plot_missing_db(void **state)
{
    struct fixture *f = *state;
    char db[160], out[128];
    struct bf_plot_params pp;
    struct render r = {0};

    snprintf(db, sizeof(db), "%s/no-such.db", f->dir);
    snprintf(out, sizeof(out), "%s/missing", f->dir);
    pp = params(out);
    render(db, &pp, &r);
    assert_int_equal(r.rc, BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), db));
    /* Nothing created: neither a DB nor the output directory. */
    assert_false(file_exists(db));
    assert_false(file_exists(out));
    free(r.printed);
}

static void test_plot_not_a_db(void **state)
{
    struct fixture *f = *state;
    char db[160], out[128];
    struct bf_plot_params pp;
    struct render r = {0};
    FILE *fp;

    snprintf(db, sizeof(db), "%s/garbage.db", f->dir);
    fp = fopen(db, "wb");
    assert_non_null(fp);
    fputs("this is not an SQLite database, but it is long enough to be "
          "read as a header by SQLite, which wants 100 bytes or more.\n",
          fp);
    assert_int_equal(fclose(fp), 0);
    snprintf(out, sizeof(out), "%s/garbage", f->dir);
    pp = params(out);
    render(db, &pp, &r);
    assert_int_equal(r.rc, BF_EDB);
    assert_non_null(strstr(bf_last_error(), db));
    free(r.printed);
}

static void test_plot_unknown_run(void **state)
{
    struct fixture *f = *state;
    char out[128];
    struct bf_plot_params pp;
    struct render r = {0};
    int64_t runs[2] = {2, 99};

    snprintf(out, sizeof(out), "%s/run99", f->dir);
    pp = params(out);
    pp.run_ids = runs;
    pp.n_run_ids = 2;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "no run 99"));
    free(r.printed);
    /* 0 is no run id (for the store, "every run"). */
    runs[1] = 0;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, BF_ERANGE);
    assert_non_null(strstr(bf_last_error(), "no run 0"));
    free(r.printed);
}

static void test_plot_no_gnuplot(void **state)
{
    struct fixture *f = *state;
    char out[128];
    struct bf_plot_params pp;
    struct render r = {0};

    snprintf(out, sizeof(out), "%s/nognuplot", f->dir);
    pp = params(out);
    pp.gnuplot = "bf-no-such-gnuplot";
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), "gnuplot not found"));
    assert_non_null(strstr(bf_last_error(), "bf-no-such-gnuplot"));
    free(r.printed);
}

static void test_plot_gnuplot_fails(void **state)
{
    struct fixture *f = *state;
    char scripts[128], script[192], out[128];
    struct bf_plot_params pp;
    struct render r = {0};
    FILE *fp;

    /* A scripts directory whose accuracy script has an error. */
    snprintf(scripts, sizeof(scripts), "%s/badscripts", f->dir);
    assert_int_equal(mkdir(scripts, 0755), 0);
    snprintf(script, sizeof(script), "%s/accuracy.gp", scripts);
    fp = fopen(script, "wb");
    assert_non_null(fp);
    fputs("set terminal svg\nplot no_such_variable_here\n", fp);
    assert_int_equal(fclose(fp), 0);
    snprintf(out, sizeof(out), "%s/badout", f->dir);
    pp = params(out);
    pp.scripts_dir = scripts;
    render(f->db, &pp, &r);
    assert_int_equal(r.rc, BF_EIO);
    assert_non_null(strstr(bf_last_error(), "gnuplot failed"));
    assert_non_null(strstr(bf_last_error(), "accuracy.gp"));
    /* gnuplot's own message. */
    assert_non_null(strstr(bf_last_error(), "undefined variable"));
    free(r.printed);
}

/* Error bars and keys */

/*
 * Run 1's bottlefit cases (C = 1 and 2) trained with three seeds, their
 * top-1 1.0 and 2.4 points apart: seed groups of three. The naive C=1 case
 * evaluated twice without a seed: an average that is no seed group.
 */
static const char seeds_sql[] =
    "UPDATE cases SET seed = 1 WHERE run_id = 1 AND strategy = 'bottlefit';"
    "CREATE TEMP TABLE s AS SELECT * FROM cases WHERE run_id = 1 AND "
    "strategy = 'bottlefit';"
    "UPDATE s SET id = id + 100, seed = 2;"
    "INSERT INTO cases SELECT * FROM s;"
    "UPDATE s SET id = id + 100, seed = 3;"
    "INSERT INTO cases SELECT * FROM s;"
    "CREATE TEMP TABLE sa AS SELECT * FROM accuracy WHERE case_id IN (5, 6);"
    "UPDATE sa SET case_id = case_id + 100, top1 = top1 + 0.8;"
    "INSERT INTO accuracy SELECT * FROM sa;"
    "UPDATE sa SET case_id = case_id + 100, top1 = top1 + 1.4;"
    "INSERT INTO accuracy SELECT * FROM sa;"
    "CREATE TEMP TABLE n AS SELECT * FROM cases WHERE id = 3;"
    "UPDATE n SET id = 300;"
    "INSERT INTO cases SELECT * FROM n;"
    "CREATE TEMP TABLE na AS SELECT * FROM accuracy WHERE case_id = 3;"
    "UPDATE na SET case_id = 300, top1 = 72.0;"
    "INSERT INTO accuracy SELECT * FROM na;";

/*
 * Run 2's raspberry-pi-4 rows become a device measured on this host
 * ("host"), and every case of run 2 gets 30 end-to-end samples spread
 * around that device's median.
 */
static const char measured_sql[] =
    "UPDATE device_results SET device = 'host', latency_method = "
    "'measured:host:CLOCK_MONOTONIC (this machine is host)' WHERE device = "
    "'raspberry-pi-4';"
    "WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE "
    "x < 29) INSERT INTO samples (case_id, seq, e2e_ns) SELECT d.case_id, "
    "k.x, CAST(d.e2e_ms * 1e6 * (0.85 + 0.3 * ((k.x * 37) % 30) / 30.0) AS "
    "INTEGER) FROM device_results d, k WHERE d.device = 'host';";

/* The text of <out>/<name>. */
static void read_output(const char *out, const char *name, struct bf_buf *text)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", out, name);
    bf_buf_reset(text);
    read_file(path, text);
}

/*
 * The extent in x of the closed paths (boxes) an SVG draws with stroke:
 * the smallest left and the largest right edge. Returns their number.
 */
static int svg_boxes(const char *svg, const char *stroke, double *left,
                     double *right)
{
    char pattern[64];
    const char *at = svg;
    int n = 0;

    snprintf(pattern, sizeof(pattern), "<path stroke='%s'  d='", stroke);
    *left = INFINITY;
    *right = -INFINITY;
    while ((at = strstr(at, pattern)) != NULL) {
        const char *d = at + strlen(pattern);
        const char *end = strchr(d, '\'');

        at = d;
        if (!end || !memchr(d, 'Z', (size_t)(end - d)))
            continue;
        for (const char *c = d; c < end; c++) {
            if (*c == 'M' || *c == 'L') {
                double x = strtod(c + 1, NULL);

                *left = x < *left ? x : *left;
                *right = x > *right ? x : *right;
            }
        }
        n++;
    }
    return n;
}

/* The key's box (common.gp: #cccccc) right of every plot border
 * (#444444): the key hides no point. */
static void assert_key_outside(const char *out, const char *figure)
{
    double border_left, border_right, key_left, key_right;
    char name[128];
    struct bf_buf svg;

    bf_buf_init(&svg);
    snprintf(name, sizeof(name), "%s.svg", figure);
    read_output(out, name, &svg);
    assert_true(svg_boxes(bf_buf_str(&svg), "rgb( 68,  68,  68)", &border_left,
                          &border_right) >= 1);
    assert_int_equal(svg_boxes(bf_buf_str(&svg), "rgb(204, 204, 204)",
                               &key_left, &key_right),
                     1);
    if (!(key_left > border_right))
        fail_msg("%s: key box at x %.2f..%.2f, plot borders end at %.2f",
                 figure, key_left, key_right, border_right);
    bf_buf_free(&svg);
}

/* The fixture's figures (the golden files, which every render of the
 * fixture matches): every key outside the plots. */
static void test_plot_keys_outside(void **state)
{
    (void)state;
    assert_key_outside(PLOT_FIXTURES "/golden", "accuracy-resnet_mini");
    assert_key_outside(PLOT_FIXTURES "/golden", "latency-resnet_mini");
}

struct group_find {
    const char *strategy;
    int channels;
    double mean, half;
    size_t seeds;
};

static int find_group(const struct bf_seed_group_view *v, void *ctx)
{
    struct group_find *g = ctx;

    if (strcmp(v->strategy, g->strategy) == 0 &&
        v->bottleneck_channels == g->channels &&
        strcmp(v->variant, "int8") == 0 && strcmp(v->split, "test") == 0) {
        g->mean = v->top1_mean;
        g->half = v->top1_half;
        g->seeds = v->seeds;
    }
    return 0;
}

static void test_plot_seed_error_bars(void **state)
{
    struct fixture *f = *state;
    struct group_find g = {.strategy = "bottlefit", .channels = 1};
    struct bf_store *store = NULL;
    char out[128], db[160], row[128];
    struct bf_buf text;

    render_variant(f, "seeds", seeds_sql, out, sizeof(out));
    bf_buf_init(&text);
    read_output(out, "accuracy-resnet_mini.tsv", &text);
    /* Three seeds: mean 70.2 of 69.2, 70.0, 71.4, sd 1.1136, half width
     * t(0.975, 2) * sd / sqrt(3) = 2.77. */
    assert_non_null(
        strstr(bf_buf_str(&text),
               "\nbottlefit fe (8-bit)\tpayload_bytes\ttop1_pct\tstyle\tlabel\t"
               "top1_half_pct\ttop1_lo_pct\ttop1_hi_pct\tseeds\tcases\n"
               "69.0\t70.20\t3\tC=1\t2.77\t67.43\t72.97\t3\t3\n"
               "133.0\t75.60\t3\tC=2\t2.77\t72.83\t78.37\t3\t3\n"));
    /* The same numbers as the store's seed groups. */
    snprintf(db, sizeof(db), "%s/seeds.db", f->dir);
    assert_int_equal(bf_store_open_readonly(db, &store), 0);
    assert_int_equal(bf_store_each_seed_group(store, 1, find_group, &g), 0);
    bf_store_close(store);
    assert_int_equal(g.seeds, 3);
    snprintf(row, sizeof(row), "\n69.0\t%.2f\t3\tC=1\t%.2f\t%.2f\t%.2f\t3\t3\n",
             g.mean, g.half, g.mean - g.half, g.mean + g.half);
    assert_non_null(strstr(bf_buf_str(&text), row));
    /* One seed: Wilson over 500 images (365 of 500 right), no half
     * width; two evaluations without a seed (73.0 and 72.0): no bar. */
    assert_non_null(
        strstr(bf_buf_str(&text),
               "\n133.0\t73.80\t6\tC=2\tNaN\t69.77\t77.46\t0\t1\n"));
    assert_non_null(strstr(bf_buf_str(&text),
                           "\n69.0\t72.50\t6\tC=1\tNaN\tNaN\tNaN\t0\t2\n"));
    /* The key says what the bars are, the caption too. */
    assert_non_null(strstr(bf_buf_str(&text),
                           "keytitle=\"bars: mean of 3 seeds, 95 % t "
                           "interval\\none seed: 95 % Wilson interval\\nover "
                           "500 test images\\nno bar: mean of evaluations\\n"
                           "that form no seed group\""));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "at the mean top-1 of its 3 seeds with the 95 % "
                              "Student t interval of that mean."));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "Without a bar: the mean of evaluations that "
                              "form no seed group"));
    assert_key_outside(out, "accuracy-resnet_mini");
    bf_buf_free(&text);
}

/* Modeled rows with the device model's prediction interval: the latency
 * panel draws it and says so, the energy block carries its ends. */
static const char predicted_sql[] =
    "UPDATE device_results SET e2e_lo_ms = e2e_ms * 0.8, e2e_hi_ms = "
    "e2e_ms * 1.25, energy_lo_mj = energy_mj * 0.9, energy_hi_mj = "
    "energy_mj * 1.2 WHERE device = 'jetson-nano-10w';";

static void test_plot_predicted_intervals(void **state)
{
    struct fixture *f = *state;
    char out[128];
    struct bf_buf text;

    render_variant(f, "predicted", predicted_sql, out, sizeof(out));
    bf_buf_init(&text);
    read_output(out, "latency-resnet_mini.tsv", &text);
    /* 7.0223 x 0.8 and x 1.25 (the fixture's stored e2e may carry more
     * digits than shown: compare to 3 decimals). */
    assert_non_null(strstr(bf_buf_str(&text),
                           "\n1.000\t7.0223\t1\t1\tjetson-nano-10w\t3\t5.617"));
    assert_non_null(strstr(bf_buf_str(&text),
                           "\tlocal\tjetson-nano-10w (modeled, 90 % PI)\n"));
    assert_non_null(strstr(bf_buf_str(&text), "keytitle=\"bars: 90 % "
                                              "prediction\\ninterval of the "
                                              "model\""));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "Error bars (modeled device time): the 90 % "
                              "prediction interval of the device model"));
    read_output(out, "energy-resnet_mini.tsv", &text);
    assert_non_null(strstr(bf_buf_str(&text),
                           "\tjetson-nano-10w\tjetson-nano-10w lo\t"
                           "jetson-nano-10w hi\t"));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "Energy bars: the energy with the modeled "
                              "device compute time at either end"));
    bf_buf_free(&text);
}

static void test_plot_latency_intervals(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    char out[128], db[160], row[256];
    double *s = NULL, lo, hi;
    struct bf_buf text;
    size_t n = 0;

    render_variant(f, "measured", measured_sql, out, sizeof(out));
    bf_buf_init(&text);
    read_output(out, "latency-resnet_mini.tsv", &text);
    /* Edge at 1 Mbit/s on the measured device is case 14 alone: its bars
     * are the 95 % bootstrap interval of the median of its samples (1,000
     * resamples, the case id as seed), as report's "p50 95 % CI". */
    snprintf(db, sizeof(db), "%s/measured.db", f->dir);
    assert_int_equal(bf_store_open_readonly(db, &store), 0);
    assert_int_equal(bf_store_case_samples(store, 14, "e2e", &s, &n), 0);
    bf_store_close(store);
    assert_int_equal(n, 30);
    assert_int_equal(
        bf_stats_bootstrap_percentile(s, n, 50, 1000, 14, 0.95, &lo, &hi), 0);
    free(s);
    snprintf(row, sizeof(row),
             "\n1.000\t28.9756\t2\t1\thost\t1\t%.4f\t%.4f\tedge\thost "
             "(measured)\n",
             lo, hi);
    assert_non_null(strstr(bf_buf_str(&text), row));
    /* The modeled device: no bar, and its panel says so. */
    assert_non_null(strstr(bf_buf_str(&text),
                           "\n1.000\t7.0223\t1\t2\tjetson-nano-10w\t3\tNaN\t"
                           "NaN\tlocal\tjetson-nano-10w (modeled, no "
                           "interval)\n"));
    assert_non_null(strstr(bf_buf_str(&text), "keytitle=\"bars: 95 % "
                                              "bootstrap\\ninterval of the "
                                              "median\""));
    assert_key_outside(out, "latency-resnet_mini");
    /* The breakdown's end-to-end dot of that case: the same interval. */
    read_output(out, "breakdown-resnet_mini.tsv", &text);
    assert_non_null(strstr(bf_buf_str(&text), "\thost\t"));
    assert_null(strstr(bf_buf_str(&text), "\thost\tNaN"));
    assert_non_null(strstr(bf_buf_str(&text), "\tjetson-nano-10w\tNaN\tNaN\n"));
    bf_buf_free(&text);
}

/* Training curves */

/*
 * Epoch rows of run 1: the naive C=1 case (seed 1) recorded before
 * per-image losses (NULL: its loss as reduced), the bottlefit C=1 case
 * (seed 1) with them, over two phases, and a second bottlefit C=1 case
 * (seed 2) that the figure does not draw.
 */
static const char epochs_sql[] =
    "UPDATE cases SET seed = 1 WHERE id IN (3, 5);"
    "CREATE TEMP TABLE s2 AS SELECT * FROM cases WHERE id = 5;"
    "UPDATE s2 SET id = 3005, seed = 2;"
    "INSERT INTO cases SELECT * FROM s2;"
    "INSERT INTO epochs (case_id, seq, phase, epoch, lr, train_loss, "
    "val_top1, seconds, images_per_s, best, train_loss_per_image) VALUES "
    "(3, 0, 'naive', 1, 0.001, 0.9, 70.0, 1.0, 100.0, 1, NULL),"
    "(3, 1, 'naive', 2, 0.001, 0.6, 72.5, 1.0, 100.0, 1, NULL),"
    "(5, 0, 'stage1', 1, 0.001, 51200.0, 60.5, 1.0, 100.0, 1, 1600.0),"
    "(5, 1, 'stage1', 2, 0.0001, 25600.0, 65.25, 1.0, 100.0, 1, 800.0),"
    "(5, 2, 'stage2', 1, 0.001, 0.75, 68.0, 1.0, 100.0, 1, 0.75),"
    "(3005, 0, 'stage1', 1, 0.001, 99999.0, 10.0, 1.0, 100.0, 1, 4321.0);";

/* A walk of epoch rows stopped by its callback. */
static int stop_epoch(const struct bf_epoch_point_view *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 42;
}

/* Render db with pp, stderr (the log lines) kept in log. */
static void render_logged(const char *db, const struct bf_plot_params *pp,
                          const char *log_path, struct bf_buf *log)
{
    struct render r = {0};
    int saved, fd;
    FILE *fp;

    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    fp = fopen(log_path, "wb");
    assert_non_null(fp);
    fd = fileno(fp);
    assert_true(dup2(fd, 2) == 2);
    bf_log_set_level(BF_LOG_INFO);
    render(db, pp, &r);
    bf_log_set_level(BF_LOG_ERROR);
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    assert_int_equal(fclose(fp), 0);
    if (r.rc)
        fail_msg("render: %s", bf_last_error());
    free(r.printed);
    bf_buf_reset(log);
    read_file(log_path, log);
}

static void test_plot_train_curves(void **state)
{
    struct fixture *f = *state;
    char out[128], path[256], db[160], log_path[192];
    struct bf_store *store = NULL;
    struct bf_plot_params pp;
    struct bf_buf text;

    render_variant(f, "epochs", epochs_sql, out, sizeof(out));
    bf_buf_init(&text);
    read_output(out, "train-resnet_mini.tsv", &text);
    /* A block per configuration, the paper's order: naive, then
     * bottlefit; its loss as reduced (marked), per image (not marked);
     * a single blank line between two phases. */
    assert_non_null(strstr(
        bf_buf_str(&text),
        "\nnaive C=1 (loss as reduced)\tepoch\tloss\tval_top1_pct\tstyle\t"
        "phase\tphase_epoch\tloss_per_image\tlr\tbest\n"
        "1\t0.9\t70.00\t6\tnaive\t1\t0\t0.001\t1\n"
        "2\t0.6\t72.50\t6\tnaive\t2\t0\t0.001\t1\n\n\n"
        "bottlefit fe C=1: stage1 | stage2\tepoch\tloss\tval_top1_pct\tstyle\t"
        "phase\tphase_epoch\tloss_per_image\tlr\tbest\n"
        "1\t1600\t60.50\t3\tstage1\t1\t1\t0.001\t1\n"
        "2\t800\t65.25\t3\tstage1\t2\t1\t0.0001\t1\n\n"
        "3\t0.75\t68.00\t3\tstage2\t1\t1\t0.001\t1\n"));
    /* Two lines: the seed-2 case is not drawn. */
    assert_null(strstr(bf_buf_str(&text), "4321"));
    assert_null(strstr(bf_buf_str(&text), "\n\n\n\n"));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "its case with the lowest seed (seed 1; other "
                              "seeds not shown)."));
    assert_true(has_unwrapped(bf_buf_str(&text),
                              "Lines marked (loss as reduced): loss as "
                              "reduced (per batch), recorded before "
                              "per-image losses"));
    assert_true(
        has_unwrapped(bf_buf_str(&text), "Results DB run 1 (plot-train)."));
    /* No apostrophe in the key or the caption (shell-quoted on top). */
    {
        const char *cap = strstr(bf_buf_str(&text), "keytitle=");
        const char *end = cap ? strstr(cap, "\"' ") : NULL;

        assert_non_null(end);
        for (const char *c = cap; c < end; c++)
            assert_true(*c != '\'');
    }
    assert_golden(out, "train-resnet_mini");
    assert_key_outside(out, "train-resnet_mini");

    /* The store's walk: stopped by fn. */
    snprintf(db, sizeof(db), "%s/epochs.db", f->dir);
    assert_int_equal(bf_store_open_readonly(db, &store), 0);
    assert_int_equal(bf_store_each_epoch_point(store, NULL, 0, "resnet_mini",
                                               stop_epoch, NULL),
                     42);
    bf_store_close(store);

    /* A run without epoch rows (the network run): no training curves,
     * and the log says why. */
    snprintf(out, sizeof(out), "%s/epochs-run2", f->dir);
    snprintf(log_path, sizeof(log_path), "%s/epochs-run2.log", f->dir);
    pp = params(out);
    pp.run_ids = (const int64_t[]){2};
    pp.n_run_ids = 1;
    render_logged(db, &pp, log_path, &text);
    assert_non_null(strstr(bf_buf_str(&text),
                           "plot: training-curve figures skipped: no epoch "
                           "rows in the runs given\n"));
    snprintf(path, sizeof(path), "%s/train-resnet_mini.tsv", out);
    assert_false(file_exists(path));
    snprintf(path, sizeof(path), "%s/latency-resnet_mini.svg", out);
    assert_true(file_exists(path));
    bf_buf_free(&text);
}

/* The fixture has no epoch rows: no training curves, said so. */
static void test_plot_train_skipped(void **state)
{
    struct fixture *f = *state;
    char out[128], path[256], log_path[192];
    struct bf_plot_params pp;
    struct bf_buf log;

    snprintf(out, sizeof(out), "%s/noepochs", f->dir);
    snprintf(log_path, sizeof(log_path), "%s/noepochs.log", f->dir);
    pp = params(out);
    bf_buf_init(&log);
    render_logged(f->db, &pp, log_path, &log);
    assert_non_null(strstr(bf_buf_str(&log),
                           "bfbench: info: plot: training-curve figures "
                           "skipped: no epoch rows\n"));
    snprintf(path, sizeof(path), "%s/train-resnet_mini.svg", out);
    assert_false(file_exists(path));
    bf_buf_free(&log);
}

/* The store's figure queries */

static int count_model(const char *model, void *ctx)
{
    (void)model;
    (*(int *)ctx)++;
    return 0;
}

static int count_run(int64_t run_id, void *ctx)
{
    (void)run_id;
    (*(int *)ctx)++;
    return 0;
}

static int stop_model(const char *model, void *ctx)
{
    (void)model;
    (void)ctx;
    return 42;
}

static int stop_run(int64_t run_id, void *ctx)
{
    (void)run_id;
    (void)ctx;
    return 42;
}

static int stop_accuracy(const struct bf_accuracy_point_view *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 42;
}

static int stop_device(const struct bf_device_point_view *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 42;
}

static int stop_head(const struct bf_head_size_view *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 42;
}

static int stop_text(const char *device, const char *text, void *ctx)
{
    (void)device;
    (void)text;
    (void)ctx;
    return 42;
}

/* Every walker's result with these arguments, in one array (rc[0] for
 * the interval of case 14's samples, the others stopped by fn; rc[7], the
 * epoch rows, of which the fixture has none). */
#define N_WALKERS 8

static void walk_all(struct bf_store *store, const int64_t *runs, size_t n,
                     int rc[N_WALKERS])
{
    double lo, hi;

    rc[0] = bf_store_p50_interval(store, (const int64_t[]){14}, n ? 1 : 0,
                                  "e2e", &lo, &hi, NULL);
    rc[1] = bf_store_each_figure_model(store, BF_STORE_FIGURE_ACCURACY, runs, n,
                                       stop_model, NULL);
    rc[2] = bf_store_each_figure_run(store, BF_STORE_FIGURE_DEVICES,
                                     "resnet_mini", stop_run, NULL);
    rc[3] = bf_store_each_accuracy_point(store, runs, n, "resnet_mini",
                                         stop_accuracy, NULL);
    rc[4] = bf_store_each_device_point(store, runs, n, "resnet_mini",
                                       stop_device, NULL);
    rc[5] =
        bf_store_each_head_size(store, runs, n, "resnet_mini", stop_head, NULL);
    rc[6] = bf_store_each_figure_text(store, BF_STORE_TEXT_LINKS, runs, n,
                                      "resnet_mini", stop_text, NULL);
    rc[7] = bf_store_each_epoch_point(store, runs, n, "resnet_mini", stop_epoch,
                                      NULL);
}

static void test_plot_store_queries(void **state)
{
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    const int64_t runs[] = {2, 99};
    double lo = 0, hi = 0;
    size_t samples = 1;
    int rc[N_WALKERS], count = 0;

    assert_int_equal(bf_store_open_readonly(f->db, &store), 0);
    /* A nonzero return of fn stops the walk and is returned (the epoch
     * walker's: test_plot_train_curves). */
    walk_all(store, NULL, 0, rc);
    assert_int_equal(rc[0], BF_EINVAL); /* no case */
    for (size_t i = 1; i < 7; i++)
        assert_int_equal(rc[i], 42);
    assert_int_equal(rc[7], 0); /* no epoch rows: fn never called */
    /* An id the DB lacks is passed over. */
    assert_int_equal(bf_store_each_figure_model(store, BF_STORE_FIGURE_DEVICES,
                                                runs, 2, count_model, &count),
                     0);
    assert_int_equal(count, 1);
    count = 0;
    assert_int_equal(bf_store_each_figure_run(store, BF_STORE_FIGURE_ACCURACY,
                                              "no_such_model", count_run,
                                              &count),
                     0);
    assert_int_equal(count, 0);
    /* No samples in the fixture: no interval, not an error. */
    assert_int_equal(bf_store_p50_interval(store, (const int64_t[]){14, 15}, 2,
                                           "e2e", &lo, &hi, &samples),
                     0);
    assert_int_equal(samples, 0);
    assert_true(isnan(lo) && isnan(hi));

    /* Arguments: NULL store, NULL run list with a length, bad kinds. */
    walk_all(NULL, NULL, 0, rc);
    for (size_t i = 0; i < N_WALKERS; i++)
        assert_int_equal(rc[i], BF_EINVAL);
    walk_all(store, NULL, 1, rc);
    assert_int_equal(rc[0], 0);  /* case 14: no samples, no interval */
    assert_int_equal(rc[2], 42); /* no run list */
    for (size_t i = 3; i < N_WALKERS; i++)
        assert_int_equal(rc[i], BF_EINVAL);
    assert_int_equal(rc[1], BF_EINVAL);
    assert_int_equal(bf_store_p50_interval(store, (const int64_t[]){14}, 0,
                                           "e2e", &lo, &hi, NULL),
                     BF_EINVAL);
    assert_int_equal(bf_store_each_figure_model(store,
                                                (enum bf_store_figure_rows)7,
                                                NULL, 0, count_model, &count),
                     BF_EINVAL);
    assert_int_equal(bf_store_each_figure_run(store,
                                              (enum bf_store_figure_rows)7,
                                              "resnet_mini", count_run, &count),
                     BF_EINVAL);
    assert_int_equal(
        bf_store_each_figure_text(store, (enum bf_store_figure_text)99, NULL, 0,
                                  "resnet_mini", stop_text, NULL),
        BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "bf_store_each_figure_text"));
    bf_store_close(store);
}

/* A query that fails is BF_EDB naming the DB and SQLite's reason. */
static void test_plot_store_queries_db_error(void **state)
{
    static const char drop[] = "DROP TABLE predictions; DROP TABLE accuracy; "
                               "DROP TABLE device_results; DROP TABLE epochs;";
    struct fixture *f = *state;
    struct bf_store *store = NULL;
    const int64_t runs[] = {2};
    char db[160];
    int rc[N_WALKERS];

    snprintf(db, sizeof(db), "%s/dropped.db", f->dir);
    assert_int_equal(make_db(db, NULL), 0);
    assert_int_equal(bf_store_open(db, &store), 0);
    assert_int_equal(sqlite3_exec(bf_store_db(store), "PRAGMA foreign_keys=OFF",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(bf_store_db(store), drop, NULL, NULL, NULL),
                     SQLITE_OK);
    walk_all(store, runs, 1, rc);
    assert_int_equal(rc[0], 0); /* the samples are still there */
    for (size_t i = 1; i < N_WALKERS; i++) {
        if (rc[i] != BF_EDB)
            fail_msg("walker %zu: %d, not BF_EDB", i, rc[i]);
    }
    /* The last one's message (the epoch walker's). */
    assert_non_null(strstr(bf_last_error(), db));
    assert_non_null(strstr(bf_last_error(), "no such table"));
    bf_store_close(store);
}

/* gnuplot on PATH, as bf_plot looks for it. */
static int have_gnuplot(void)
{
    const char *path = getenv("PATH");

    while (path && *path) {
        size_t n = strcspn(path, ":");
        char exe[1024];

        snprintf(exe, sizeof(exe), "%.*s/gnuplot", (int)n, path);
        if (n > 0 && access(exe, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_golden_and_rerun),
        cmocka_unit_test(test_plot_data_file),
        cmocka_unit_test(test_plot_run_selection),
        cmocka_unit_test(test_plot_rate),
        cmocka_unit_test(test_plot_newest_run_per_model),
        cmocka_unit_test(test_plot_accuracy_runs_per_scenario),
        cmocka_unit_test(test_plot_no_rows),
        cmocka_unit_test(test_plot_missing_db),
        cmocka_unit_test(test_plot_not_a_db),
        cmocka_unit_test(test_plot_unknown_run),
        cmocka_unit_test(test_plot_no_gnuplot),
        cmocka_unit_test(test_plot_gnuplot_fails),
        cmocka_unit_test(test_plot_keys_outside),
        cmocka_unit_test(test_plot_seed_error_bars),
        cmocka_unit_test(test_plot_predicted_intervals),
        cmocka_unit_test(test_plot_latency_intervals),
        cmocka_unit_test(test_plot_train_curves),
        cmocka_unit_test(test_plot_train_skipped),
        cmocka_unit_test(test_plot_store_queries),
        cmocka_unit_test(test_plot_store_queries_db_error),
    };

    if (!have_gnuplot()) {
        fprintf(stderr, "test_plot: gnuplot not on PATH (install "
                        "gnuplot-nox, or run scripts/setup.sh)\n");
        return 1;
    }
    bf_log_set_level(BF_LOG_ERROR);
    return cmocka_run_group_tests(tests, setup, teardown);
}
