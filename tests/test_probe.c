/*
 * Tests of bf_probe. bf_probe_integrate is checked against hand-computed
 * energies. The sysfs backends run against the fixture trees in
 * tests/fixtures/probe/ (static files: detection, naming, which rail is
 * read); tests that change values, delete files or wrap counters work on
 * a copy in a mkdtemp directory, replacing value files atomically
 * (write a temporary file, rename it) while windows are open. The command
 * backend runs small /bin/sh loops.
 *
 * Tolerances are for scheduling jitter, not for arithmetic: a constant
 * power must come out within 1 %; where the power changes during a
 * window, the error is at most the change times the gap between the
 * sampler's readings around it, so the bound allows the sampler to be
 * late by tens of milliseconds.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MS 1000000LL
#define FIX BF_FIXTURES_DIR "/probe/"

/* Helpers */

/* |a - b| <= eps, printing both on failure. */
static void check_near(double a, double b, double eps, const char *file,
                       int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.9g is not %.9g within %g\n", a, b, eps);
        _fail(file, line);
    }
}

#define assert_near(a, b, eps) check_near((a), (b), (eps), __FILE__, __LINE__)

static void sleep_ms(int64_t ms)
{
    bf_clock_sleep_until_ns(bf_clock_now_ns() + ms * MS);
}

static void path_join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s%s", a, b);

    assert_true(n > 0 && (size_t)n < size);
}

/* Replace the file at path with text, atomically. */
static void write_value(const char *path, const char *text)
{
    char tmp[PATH_MAX];
    FILE *f;

    path_join(tmp, sizeof(tmp), path, ".tmp-new");
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void write_int(const char *path, long long v)
{
    char text[32];

    snprintf(text, sizeof(text), "%lld\n", v);
    write_value(path, text);
}

/* Copy the tree src into the existing directory dst. */
static void copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char from[PATH_MAX], to[PATH_MAX], buf[4096];
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        assert_true(snprintf(from, sizeof(from), "%s/%s", src, e->d_name) <
                    (int)sizeof(from));
        assert_true(snprintf(to, sizeof(to), "%s/%s", dst, e->d_name) <
                    (int)sizeof(to));
        assert_int_equal(stat(from, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            assert_true(mkdir(to, 0755) == 0 || errno == EEXIST);
            copy_tree(from, to);
        } else {
            FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
            size_t n;

            assert_non_null(in);
            assert_non_null(out);
            while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                assert_int_equal(fwrite(buf, 1, n, out), n);
            fclose(in);
            assert_int_equal(fclose(out), 0);
        }
    }
    closedir(d);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch directory per test, removed by the teardown. */
struct scratch {
    char dir[64];
};

static int scratch_setup(void **state)
{
    struct scratch *s = calloc(1, sizeof(*s));

    if (!s)
        return -1;
    snprintf(s->dir, sizeof(s->dir), "/tmp/bfp-XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int scratch_teardown(void **state)
{
    struct scratch *s = *state;

    remove_tree(s->dir);
    free(s);
    return 0;
}

/* A copy of fixture tree name in the scratch directory; its root. */
static const char *scratch_copy(void **state, const char *name)
{
    struct scratch *s = *state;
    char src[PATH_MAX];

    path_join(src, sizeof(src), FIX, name);
    copy_tree(src, s->dir);
    return s->dir;
}

static struct bf_probe *open_ok(const char *spec, const char *root,
                                double rate_hz)
{
    struct bf_probe_params params = {
        .spec = spec, .root = root, .rate_hz = rate_hz};
    struct bf_probe *p = NULL;
    int rc = bf_probe_open(&params, &p);

    if (rc != 0)
        print_error("bf_probe_open(%s): %s: %s\n", spec, bf_strerror(rc),
                    bf_last_error());
    assert_int_equal(rc, 0);
    assert_non_null(p);
    return p;
}

/* Open with spec and root, expecting failure code; the probe stays NULL. */
static void open_fails(const char *spec, const char *root, double rate_hz,
                       int code, const char *detail_has)
{
    struct bf_probe_params params = {
        .spec = spec, .root = root, .rate_hz = rate_hz};
    struct bf_probe *p = (struct bf_probe *)&params; /* not NULL */
    int rc = bf_probe_open(&params, &p);

    if (rc != code || !strstr(bf_last_error(), detail_has))
        print_error("bf_probe_open(%s): got %s '%s', wanted %s with '%s'\n",
                    spec ? spec : "(null)", bf_err_name(rc), bf_last_error(),
                    bf_err_name(code), detail_has);
    assert_int_equal(rc, code);
    assert_null(p);
    assert_non_null(strstr(bf_last_error(), detail_has));
}

/* A window of ms milliseconds. */
static struct bf_probe_reading measure(struct bf_probe *p, int64_t ms)
{
    struct bf_probe_window w;
    struct bf_probe_reading r;

    assert_int_equal(bf_probe_window_begin(p, &w), 0);
    sleep_ms(ms);
    assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    return r;
}

/*
 * A window of constant power mw, status 0 and no note, covered at least
 * min_cover of its duration (the rest: the sampler or the command late
 * past the hold of the last reading).
 */
static void assert_power(const struct bf_probe_reading *r, double mw,
                         double min_cover)
{
    if (r->status != 0 || fabs(r->avg_power_mw - mw) > mw * 0.01 + 1e-9 ||
        r->covered_ms < r->duration_ms * min_cover)
        print_error("reading: %.3f mJ, %.3f mW, %.3f of %.3f ms, %lld "
                    "samples, status %d, note '%s'\n",
                    r->energy_mj, r->avg_power_mw, r->covered_ms,
                    r->duration_ms, (long long)r->samples, r->status, r->note);
    assert_int_equal(r->status, 0);
    assert_string_equal(r->note, "");
    assert_true(fabs(r->avg_power_mw - mw) <= mw * 0.01 + 1e-9);
    assert_true(r->covered_ms >= r->duration_ms * min_cover);
    assert_true(r->covered_ms <= r->duration_ms);
    assert_true(fabs(r->energy_mj - mw * r->covered_ms * 1e-3) <=
                mw * r->covered_ms * 1e-5 + 1e-9);
}

/* The same for a sysfs sensor, read on the sampler's clock. */
static void assert_constant(const struct bf_probe_reading *r, double mw)
{
    assert_power(r, mw, 0.9);
}

/* bf_probe_integrate */

static const int64_t t10[] = {0,       10 * MS, 20 * MS, 30 * MS,
                              40 * MS, 50 * MS, 60 * MS, 70 * MS,
                              80 * MS, 90 * MS, 100 * MS};

static void test_probe_integrate_constant(void **state)
{
    double p[11], e, c;

    (void)state;
    for (int i = 0; i < 11; i++)
        p[i] = 1000.0;
    /* 1 W for 100 ms is 100 mJ. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 0, 100 * MS, &e, &c), 0);
    assert_near(e, 100.0, 1e-9);
    assert_near(c, 100e6, 1e-3);
    /* 30 ms of it, edges on samples: 30 mJ. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 20 * MS, 50 * MS, &e, &c),
                     0);
    assert_near(e, 30.0, 1e-9);
    assert_near(c, 30e6, 1e-3);
}

static void test_probe_integrate_ramp(void **state)
{
    double p[11], e, c;

    (void)state;
    for (int i = 0; i < 11; i++)
        p[i] = 100.0 * i; /* 10 mW per ms: 0 .. 1000 mW */
    /* A triangle: 1000 mW * 0.1 s / 2 = 50 mJ. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 0, 100 * MS, &e, &c), 0);
    assert_near(e, 50.0, 1e-9);
    /* 25 .. 75 ms, edges between samples: 10 * (75^2 - 25^2) / 2 mW ms
     * = 25000 mW ms = 25 mJ, exact since the trace is linear. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 25 * MS, 75 * MS, &e, &c),
                     0);
    assert_near(e, 25.0, 1e-9);
    assert_near(c, 50e6, 1e-3);
}

static void test_probe_integrate_window_edges(void **state)
{
    const int64_t t[] = {0, 10 * MS, 20 * MS};
    const double p[] = {0.0, 1000.0, 1000.0};
    double e, c;

    (void)state;
    /* 5 .. 10 ms: 500 -> 1000 mW, mean 750 mW * 5 ms = 3.75 mJ; 10 .. 15
     * ms: 1000 mW * 5 ms = 5 mJ. */
    assert_int_equal(bf_probe_integrate(t, p, 3, 5 * MS, 15 * MS, &e, &c), 0);
    assert_near(e, 8.75, 1e-9);
    assert_near(c, 10e6, 1e-3);
    /* 0 .. 5 ms: 0 -> 500 mW, mean 250 mW * 5 ms = 1.25 mJ. */
    assert_int_equal(bf_probe_integrate(t, p, 3, 0, 5 * MS, &e, &c), 0);
    assert_near(e, 1.25, 1e-9);
    /* An empty window inside the data. */
    assert_int_equal(bf_probe_integrate(t, p, 3, 7 * MS, 7 * MS, &e, &c), 0);
    assert_near(e, 0.0, 0.0);
    assert_near(c, 0.0, 0.0);
}

static void test_probe_integrate_beyond_data(void **state)
{
    double p[11], e, c;

    (void)state;
    for (int i = 0; i < 11; i++)
        p[i] = 1000.0;
    /* -50 .. 150 ms over data at 0 .. 100 ms: nothing is extrapolated. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, -50 * MS, 150 * MS, &e, &c),
                     0);
    assert_near(e, 100.0, 1e-9);
    assert_near(c, 100e6, 1e-3);
    /* Half inside: 95 .. 120 ms covers 5 ms. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 95 * MS, 120 * MS, &e, &c),
                     0);
    assert_near(e, 5.0, 1e-9);
    assert_near(c, 5e6, 1e-3);
    /* Entirely after the data. */
    assert_int_equal(bf_probe_integrate(t10, p, 11, 200 * MS, 300 * MS, &e, &c),
                     0);
    assert_near(e, 0.0, 0.0);
    assert_near(c, 0.0, 0.0);
    /* One sample spans nothing; no samples at all is valid too. */
    assert_int_equal(bf_probe_integrate(t10, p, 1, -MS, MS, &e, &c), 0);
    assert_near(c, 0.0, 0.0);
    assert_int_equal(bf_probe_integrate(NULL, NULL, 0, 0, MS, &e, &c), 0);
    assert_near(e, 0.0, 0.0);
}

static void test_probe_integrate_invalid(void **state)
{
    const int64_t back[] = {0, 20 * MS, 10 * MS};
    const double p[] = {1.0, 1.0, 1.0}, nan_p[] = {1.0, NAN, 1.0};
    double e = -1, c = -1;

    (void)state;
    assert_int_equal(bf_probe_integrate(t10, p, 3, 10, 5, &e, &c), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "before it begins"));
    assert_int_equal(bf_probe_integrate(back, p, 3, 0, MS, &e, &c), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "sample 2: time goes back"));
    assert_int_equal(bf_probe_integrate(t10, nan_p, 3, 0, MS, &e, &c),
                     BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "sample 1"));
    assert_int_equal(bf_probe_integrate(NULL, p, 3, 0, MS, &e, &c), BF_EINVAL);
    assert_int_equal(bf_probe_integrate(t10, p, 3, 0, MS, NULL, &c), BF_EINVAL);
    /* Outputs are untouched on failure. */
    assert_near(e, -1.0, 0.0);
    assert_near(c, -1.0, 0.0);
}

/* Specs and parameters */

static void test_probe_spec_invalid(void **state)
{
    struct bf_probe_params params = {.spec = "auto"};
    struct bf_probe_window w;
    struct bf_probe_reading r;

    (void)state;
    open_fails("bogus", NULL, 0, BF_EINVAL, "'bogus': unknown backend");
    open_fails("", NULL, 0, BF_EINVAL, "'': unknown backend");
    open_fails("hwmonx:/x", NULL, 0, BF_EINVAL, "'hwmonx:/x'");
    open_fails("ina3221:", NULL, 0, BF_EINVAL, "'ina3221:': empty");
    open_fails("command", NULL, 0, BF_EINVAL, "'command': command needs");
    open_fails("auto:/sys", NULL, 0, BF_EINVAL, "'auto:/sys': auto takes");
    open_fails("none:x", NULL, 0, BF_EINVAL, "'none:x'");
    open_fails(NULL, NULL, 0, BF_EINVAL, "NULL spec");
    open_fails("ina3221:" FIX "no-sensors/sys/class/hwmon/hwmon0/name", NULL, 0,
               BF_EINVAL, "neither");
    assert_int_equal(bf_probe_open(NULL, NULL), BF_EINVAL);
    assert_int_equal(bf_probe_open(&params, NULL), BF_EINVAL);
    assert_int_equal(bf_probe_window_begin(NULL, &w), BF_EINVAL);
    assert_int_equal(bf_probe_window_end(NULL, &w, &r), BF_EINVAL);
}

static void test_probe_rate_invalid(void **state)
{
    const double bad[] = {-1.0, 0.5, 10000.5, 1e9, NAN, INFINITY};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        open_fails("hwmon", FIX "pi-ina219", bad[i], BF_EINVAL,
                   "power probe 'hwmon': rate_hz");
    /* The limits themselves are accepted. */
    bf_probe_close(open_ok("hwmon", FIX "pi-ina219", 1.0));
    bf_probe_close(open_ok("hwmon", FIX "pi-ina219", 10000.0));
}

static void test_probe_none(void **state)
{
    struct bf_probe_params params = {.spec = "none", .root = "/nonexistent"};
    struct bf_probe *p = (struct bf_probe *)&params;

    (void)state;
    assert_int_equal(bf_probe_open(&params, &p), 0);
    assert_null(p);
    assert_string_equal(bf_probe_describe(NULL), "none");
    bf_probe_close(NULL);
}

static void test_probe_auto_no_sensors(void **state)
{
    const char *roots[] = {FIX "no-sensors", "/nonexistent-bf-root"};

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct bf_probe_params params = {.spec = "auto", .root = roots[i]};
        struct bf_probe *p = (struct bf_probe *)&params;

        assert_int_equal(bf_probe_open(&params, &p), 0);
        assert_null(p);
    }
}

static void test_probe_explicit_absent(void **state)
{
    const char *root = FIX "no-sensors";

    (void)state;
    open_fails("ina3221", root, 0, BF_ENOENT,
               FIX "no-sensors/sys/bus/i2c/drivers/ina3221x/*/iio:device*/"
                   "rail_name_*");
    open_fails("ina3221", root, 0, BF_ENOENT,
               FIX "no-sensors/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*/"
                   "in*_label");
    open_fails("hwmon", root, 0, BF_ENOENT,
               FIX "no-sensors/sys/class/hwmon/hwmon*/power*_input");
    open_fails("rapl", root, 0, BF_ENOENT,
               FIX "no-sensors/sys/class/powercap/intel-rapl:*");
    open_fails("hwmon:/nonexistent-bf/power1_input", NULL, 0, BF_ENOENT,
               "/nonexistent-bf/power1_input: No such file or directory");
    open_fails("rapl:/nonexistent-bf/intel-rapl:0", NULL, 0, BF_ENOENT,
               "/nonexistent-bf/intel-rapl:0");
    open_fails("ina3221:/nonexistent-bf/in_power0_input", NULL, 0, BF_ENOENT,
               "/nonexistent-bf/in_power0_input");
    /* A directory holding no rail or meter names what it searched. */
    open_fails("hwmon:" FIX "no-sensors/sys/class/hwmon/hwmon0", NULL, 0,
               BF_ENOENT, "hwmon0/power*_input");
}

static void test_probe_explicit_unreadable(void **state)
{
    struct scratch *s = *state;
    char path[PATH_MAX], dir[PATH_MAX], spec[PATH_MAX + 16];

    /* power1_input is a directory: present but unreadable. */
    path_join(dir, sizeof(dir), s->dir, "/hwmon5");
    assert_int_equal(mkdir(dir, 0755), 0);
    path_join(path, sizeof(path), dir, "/power1_input");
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(spec, sizeof(spec), "hwmon:%s", dir);
    open_fails(spec, NULL, 0, BF_EIO, "power1_input: Is a directory");
    /* Garbage in the value file: malformed, naming the file. */
    assert_int_equal(rmdir(path), 0);
    write_value(path, "n/a\n");
    snprintf(spec, sizeof(spec), "hwmon:%s", path);
    open_fails(spec, NULL, 0, BF_EPARSE, "power1_input: malformed value 'n/a'");
}

/* Backends on the static fixtures */

static void test_probe_ina3221_l4t32(void **state)
{
    const char *root = FIX "jetson-nano-l4t32";
    char want[PATH_MAX * 2];
    struct bf_probe *p;
    struct bf_probe_reading r;

    (void)state;
    snprintf(want, sizeof(want),
             "ina3221 POM_5V_IN %s/sys/bus/i2c/drivers/ina3221x/6-0040/"
             "iio:device0/in_power0_input @100 Hz",
             root);
    /* Explicit and auto find the same rail: POM_5V_IN alone, 2345 mW, not
     * the sum of the three rails (3590 mW). */
    p = open_ok("ina3221", root, 0);
    assert_string_equal(bf_probe_describe(p), want);
    r = measure(p, 100);
    assert_constant(&r, 2345.0);
    assert_true(r.samples >= 3 && r.samples <= 12);
    bf_probe_close(p);
    p = open_ok("auto", root, 0);
    assert_string_equal(bf_probe_describe(p), want);
    bf_probe_close(p);
    /* A directory picks the board rail; a file picks that rail. */
    p = open_ok("ina3221:" FIX "jetson-nano-l4t32/sys/bus/i2c/drivers/"
                "ina3221x/6-0040/iio:device0",
                NULL, 0);
    assert_non_null(strstr(bf_probe_describe(p), "POM_5V_IN"));
    bf_probe_close(p);
    p = open_ok("ina3221:" FIX "jetson-nano-l4t32/sys/bus/i2c/drivers/"
                "ina3221x/6-0040/iio:device0/in_power1_input",
                NULL, 0);
    assert_non_null(strstr(bf_probe_describe(p), "ina3221 POM_5V_GPU "));
    r = measure(p, 30);
    assert_constant(&r, 456.0);
    bf_probe_close(p);
}

static void test_probe_ina3221_tx2_board_rail(void **state)
{
    struct bf_probe *p;
    struct bf_probe_reading r;

    (void)state;
    /* The second INA3221 carries VDD_IN; the first one's rail 0 is the
     * GPU. */
    p = open_ok("auto", FIX "jetson-tx2-l4t32", 200);
    assert_non_null(strstr(bf_probe_describe(p),
                           "ina3221 VDD_IN " FIX "jetson-tx2-l4t32/sys/bus/"
                           "i2c/drivers/ina3221x/0-0041/iio:device1/"
                           "in_power0_input @200 Hz"));
    r = measure(p, 50);
    assert_constant(&r, 3812.0);
    bf_probe_close(p);
}

static void test_probe_ina3221_hwmon_layout(void **state)
{
    const char *root = FIX "jetson-l4t35-hwmon";
    char want[PATH_MAX * 2];
    struct bf_probe *p;
    struct bf_probe_reading r;

    (void)state;
    snprintf(want, sizeof(want),
             "ina3221 VDD_IN %s/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/"
             "hwmon1/{curr1_input,in1_input} @100 Hz",
             root);
    p = open_ok("ina3221", root, 0);
    assert_string_equal(bf_probe_describe(p), want);
    r = measure(p, 50);
    assert_constant(&r, 1200.0 * 4992.0 / 1000.0);
    bf_probe_close(p);
    p = open_ok("ina3221:" FIX "jetson-l4t35-hwmon/sys/bus/i2c/drivers/"
                "ina3221/1-0040/hwmon/hwmon1/curr2_input",
                NULL, 0);
    assert_non_null(strstr(bf_probe_describe(p), "ina3221 VDD_CPU_GPU_CV "));
    r = measure(p, 30);
    assert_constant(&r, 400.0 * 5000.0 / 1000.0);
    bf_probe_close(p);
}

static void test_probe_hwmon(void **state)
{
    const char *root = FIX "pi-ina219";
    char want[PATH_MAX * 2];
    struct bf_probe *p;
    struct bf_probe_reading r;

    (void)state;
    /* hwmon2 comes before hwmon10 (version order); hwmon0 has no meter. */
    snprintf(want, sizeof(want),
             "hwmon ina219 %s/sys/class/hwmon/hwmon2/power1_input @100 Hz",
             root);
    p = open_ok("hwmon", root, 0);
    assert_string_equal(bf_probe_describe(p), want);
    r = measure(p, 60);
    assert_constant(&r, 3100.0);
    bf_probe_close(p);
    p = open_ok("hwmon:" FIX "pi-ina219/sys/class/hwmon/hwmon10/power1_input",
                NULL, 50);
    assert_non_null(strstr(bf_probe_describe(p), "hwmon ina226 "));
    assert_non_null(strstr(bf_probe_describe(p), "@50 Hz"));
    r = measure(p, 60);
    assert_constant(&r, 999.0);
    bf_probe_close(p);
}

static void test_probe_rapl(void **state)
{
    const char *root = FIX "x86-rapl";
    char want[PATH_MAX * 2];
    struct bf_probe *p;
    struct bf_probe_reading r;

    (void)state;
    snprintf(want, sizeof(want),
             "rapl package-0 %s/sys/class/powercap/intel-rapl:0/energy_uj "
             "@100 Hz",
             root);
    p = open_ok("rapl", root, 0);
    assert_string_equal(bf_probe_describe(p), want);
    /* A counter that does not move: no energy, but covered. */
    r = measure(p, 60);
    assert_int_equal(r.status, 0);
    assert_near(r.energy_mj, 0.0, 1e-9);
    assert_true(r.covered_ms >= r.duration_ms * 0.9);
    bf_probe_close(p);
    p = open_ok("rapl:" FIX "x86-rapl/sys/class/powercap/intel-rapl:0:0", NULL,
                0);
    assert_non_null(strstr(bf_probe_describe(p), "rapl core "));
    bf_probe_close(p);
}

static void test_probe_auto_order(void **state)
{
    const char *root = scratch_copy(state, "jetson-nano-l4t32");
    char path[PATH_MAX];
    struct bf_probe *p;
    struct bf_probe_params none = {.spec = "auto", .root = root};

    scratch_copy(state, "pi-ina219");
    scratch_copy(state, "x86-rapl");
    p = open_ok("auto", root, 0);
    assert_true(strncmp(bf_probe_describe(p), "ina3221 ", 8) == 0);
    bf_probe_close(p);
    path_join(path, sizeof(path), root, "/sys/bus");
    remove_tree(path);
    p = open_ok("auto", root, 0);
    assert_true(strncmp(bf_probe_describe(p), "hwmon ina219 ", 13) == 0);
    bf_probe_close(p);
    path_join(path, sizeof(path), root, "/sys/class/hwmon");
    remove_tree(path);
    p = open_ok("auto", root, 0);
    assert_true(strncmp(bf_probe_describe(p), "rapl package-0 ", 15) == 0);
    bf_probe_close(p);
    path_join(path, sizeof(path), root, "/sys/class/powercap");
    remove_tree(path);
    p = (struct bf_probe *)&none;
    assert_int_equal(bf_probe_open(&none, &p), 0);
    assert_null(p);
}

/* Live values */

static void test_probe_hwmon_live_change(void **state)
{
    const char *root = scratch_copy(state, "pi-ina219");
    char path[PATH_MAX];
    struct bf_probe_window w;
    struct bf_probe_reading r;
    struct bf_probe *p;
    int64_t t_switch;
    double want;

    path_join(path, sizeof(path), root, "/sys/class/hwmon/hwmon2/power1_input");
    write_int(path, 1000000); /* 1 W */
    p = open_ok("hwmon", root, 200);
    sleep_ms(20);
    assert_int_equal(bf_probe_window_begin(p, &w), 0);
    sleep_ms(200);
    write_int(path, 3000000); /* 3 W */
    t_switch = bf_clock_now_ns();
    sleep_ms(200);
    assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    want =
        1000.0 * (double)(t_switch - w.t0_ns) * 1e-9 +
        3000.0 * (r.duration_ms * 1e-3 - (double)(t_switch - w.t0_ns) * 1e-9);
    /* About 800 mJ; the step is smeared over one sampling gap (5 ms at
     * 200 Hz: 5 mJ), 40 mJ allows the sampler to be 40 ms late. */
    if (fabs(r.energy_mj - want) > 40.0)
        print_error("energy %.3f mJ, want %.3f mJ\n", r.energy_mj, want);
    assert_true(fabs(r.energy_mj - want) <= 40.0);
    assert_int_equal(r.status, 0);
    assert_true(r.covered_ms >= r.duration_ms * 0.9);
    assert_true(r.samples >= 20 && r.samples <= 90);
    bf_probe_close(p);
}

/* End window w again every 5 ms until its energy is want_mj, for 2 s. */
static void wait_energy(struct bf_probe *p, const struct bf_probe_window *w,
                        double want_mj, struct bf_probe_reading *r)
{
    int64_t deadline = bf_clock_now_ns() + 2000 * MS;

    do {
        assert_int_equal(bf_probe_window_end(p, w, r), 0);
        if (fabs(r->energy_mj - want_mj) <= 1e-6)
            return;
        sleep_ms(5);
    } while (bf_clock_now_ns() < deadline);
    print_error("energy %.6f mJ, want %.6f mJ\n", r->energy_mj, want_mj);
    fail();
}

static void test_probe_rapl_live_wraparound(void **state)
{
    const char *root = scratch_copy(state, "x86-rapl");
    const long long range = 2000000; /* wraps at 2 J */
    char zone[PATH_MAX], path[PATH_MAX];
    struct bf_probe_window w;
    struct bf_probe_reading r;
    struct bf_probe *p;
    long long uj = 1800000;

    path_join(zone, sizeof(zone), root, "/sys/class/powercap/intel-rapl:0");
    path_join(path, sizeof(path), zone, "/max_energy_range_uj");
    write_int(path, range);
    path_join(path, sizeof(path), zone, "/energy_uj");
    write_int(path, uj);
    p = open_ok("rapl", root, 200);
    /* The counter stands still around both edges, so the window's energy
     * is the counter's difference whatever the sampler's timing: wait
     * for two readings inside the window before moving it. */
    assert_int_equal(bf_probe_window_begin(p, &w), 0);
    do {
        sleep_ms(5);
        assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    } while (r.samples < 2);
    assert_near(r.energy_mj, 0.0, 0.0);
    /* 1 J in ten steps 20 ms apart (5 W), wrapping after the second. */
    for (int i = 0; i < 10; i++) {
        uj = (uj + 100000) % range;
        write_int(path, uj);
        sleep_ms(20);
    }
    assert_true(uj == 800000);
    /* 1000 mJ once the sampler has read the last value, exactly. */
    wait_energy(p, &w, 1000.0, &r);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.note, "");
    assert_true(r.covered_ms >= r.duration_ms * 0.9);
    /* The counter keeps moving after a wrap: 0.3 J more. */
    uj += 300000;
    write_int(path, uj);
    wait_energy(p, &w, 1300.0, &r);
    bf_probe_close(p);
}

/* The command backend */

static void test_probe_command_constant(void **state)
{
    const char *spec = "command:while :; do echo 2.5; sleep 0.01; done";
    struct bf_probe_reading r;
    struct bf_probe *p;
    int64_t t;

    (void)state;
    p = open_ok(spec, NULL, 0);
    assert_string_equal(bf_probe_describe(p),
                        "command 'while :; do echo 2.5; sleep 0.01; done' "
                        "(readings as printed)");
    sleep_ms(20);
    r = measure(p, 300);
    assert_power(&r, 2500.0, 0.7);
    assert_true(r.samples >= 5);
    /* Close ends the loop and reaps it promptly. */
    t = bf_clock_now_ns();
    bf_probe_close(p);
    assert_true(bf_clock_now_ns() - t < 500 * MS);
}

static void test_probe_command_bad_line(void **state)
{
    const char *spec = "command:i=0; while :; do i=$((i+1)); "
                       "if [ $i -eq 8 ]; then echo 'oops 2.5 W'; "
                       "else echo 2.5; fi; sleep 0.01; done";
    struct bf_probe_reading r;
    struct bf_probe *p;

    (void)state;
    p = open_ok(spec, NULL, 0);
    r = measure(p, 400); /* the 8th line comes ~0.1 s in */
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.note, "1 malformed reading skipped"));
    assert_non_null(strstr(r.note, "malformed line 'oops 2.5 W'"));
    assert_true(fabs(r.avg_power_mw - 2500.0) <= 25.0);
    assert_true(r.covered_ms >= r.duration_ms * 0.7);
    /* Later windows are clean. */
    r = measure(p, 200);
    assert_power(&r, 2500.0, 0.7);
    bf_probe_close(p);
}

static void test_probe_command_exits(void **state)
{
    const char *spec = "command:i=0; while [ $i -lt 10 ]; do echo 2.0; "
                       "sleep 0.01; i=$((i+1)); done; exit 3";
    struct bf_probe_reading r;
    struct bf_probe *p;

    (void)state;
    p = open_ok(spec, NULL, 0);
    r = measure(p, 600);
    assert_int_equal(r.status, BF_EIO);
    assert_non_null(strstr(r.note, "sensor vanished "));
    assert_non_null(strstr(r.note, "s into the window: command 'i=0; "));
    assert_non_null(strstr(r.note, "exited with status 3"));
    assert_true(r.covered_ms > 50 && r.covered_ms < r.duration_ms - 100);
    assert_true(fabs(r.energy_mj - 2.0 * r.covered_ms) <=
                0.01 * 2.0 * r.covered_ms);
    bf_probe_close(p);
}

static void test_probe_command_no_reading(void **state)
{
    (void)state;
    open_fails("command:exit 7", NULL, 0, BF_EIO,
               "command 'exit 7' exited with status 7 before its first "
               "valid reading");
    open_fails("command:echo 'no watts here'", NULL, 0, BF_EIO,
               "exited with status 0 before");
}

/* A sensor lost mid-run */

static void test_probe_sensor_deleted(void **state)
{
    const char *root = scratch_copy(state, "pi-ina219");
    char path[PATH_MAX];
    struct bf_probe_window w;
    struct bf_probe_reading r;
    struct bf_probe *p;
    double before_ms;

    path_join(path, sizeof(path), root, "/sys/class/hwmon/hwmon2/power1_input");
    p = open_ok("hwmon", root, 200);
    assert_int_equal(bf_probe_window_begin(p, &w), 0);
    sleep_ms(200);
    assert_int_equal(unlink(path), 0);
    before_ms = (double)(bf_clock_now_ns() - w.t0_ns) * 1e-6;
    sleep_ms(200);
    assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    if (r.status != BF_EIO || !strstr(r.note, path))
        print_error("note '%s'\n", r.note);
    assert_int_equal(r.status, BF_EIO);
    assert_non_null(strstr(r.note, "sensor vanished 0."));
    assert_non_null(strstr(r.note, path));
    assert_non_null(strstr(r.note, "No such file or directory"));
    /* The valid part ends at the last reading before the deletion. */
    assert_true(r.covered_ms <= before_ms + 1.0);
    assert_true(r.covered_ms >= before_ms - 40.0);
    assert_true(r.covered_ms < r.duration_ms - 150.0);
    assert_true(fabs(r.energy_mj - 3.1 * r.covered_ms) <=
                0.01 * 3.1 * r.covered_ms);
    assert_true(fabs(r.avg_power_mw - 3100.0) <= 31.0);
    assert_true(r.samples >= 10);
    /* A window begun while the sensor is gone covers nothing. */
    r = measure(p, 30);
    assert_int_equal(r.status, BF_EIO);
    assert_non_null(strstr(r.note, "s before the window: "));
    assert_near(r.covered_ms, 0.0, 0.0);
    assert_near(r.energy_mj, 0.0, 0.0);
    assert_near(r.avg_power_mw, 0.0, 0.0);
    bf_probe_close(p);
}

static void test_probe_sensor_unreadable_then_back(void **state)
{
    const char *root = scratch_copy(state, "pi-ina219");
    char path[PATH_MAX], dir[PATH_MAX], link[PATH_MAX];
    struct bf_probe_window w;
    struct bf_probe_reading r;
    struct bf_probe *p;

    path_join(path, sizeof(path), root, "/sys/class/hwmon/hwmon2/power1_input");
    path_join(dir, sizeof(dir), root, "/a-directory");
    path_join(link, sizeof(link), path, ".link");
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(symlink(dir, link), 0);
    p = open_ok("hwmon", root, 200);
    assert_int_equal(bf_probe_window_begin(p, &w), 0);
    sleep_ms(100);
    /* chmod 000 does not stop root; a directory in the file's place does.
     * A symlink to one is renamed over the file, so that no reading sees
     * the file missing in between. */
    assert_int_equal(rename(link, path), 0);
    sleep_ms(100);
    assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    assert_int_equal(r.status, BF_EIO);
    assert_non_null(strstr(r.note, "sensor unreadable 0."));
    assert_non_null(strstr(r.note, path));
    assert_non_null(strstr(r.note, "Is a directory"));
    assert_true(r.covered_ms < r.duration_ms - 50.0);
    /* The file comes back (2 W); the probe retries once per second. */
    write_int(path, 2000000);
    sleep_ms(1200);
    r = measure(p, 100);
    assert_constant(&r, 2000.0);
    /* The first window, ended again, spans the loss and the recovery. */
    assert_int_equal(bf_probe_window_end(p, &w, &r), 0);
    assert_int_equal(r.status, BF_EIO);
    assert_non_null(strstr(r.note, "sensor unreadable 0."));
    assert_true(r.covered_ms > 150.0 && r.covered_ms < r.duration_ms - 800.0);
    bf_probe_close(p);
}

/* Windows */

static void test_probe_windows_nested(void **state)
{
    struct bf_probe_window outer, inner;
    struct bf_probe_reading r_outer, r_inner, r_again;
    struct bf_probe *p;

    (void)state;
    p = open_ok("hwmon", FIX "pi-ina219", 0);
    assert_int_equal(bf_probe_window_begin(p, &outer), 0);
    sleep_ms(40);
    assert_int_equal(bf_probe_window_begin(p, &inner), 0);
    sleep_ms(60);
    assert_int_equal(bf_probe_window_end(p, &inner, &r_inner), 0);
    sleep_ms(40);
    assert_int_equal(bf_probe_window_end(p, &outer, &r_outer), 0);
    assert_int_equal(bf_probe_window_end(p, &inner, &r_again), 0);
    assert_constant(&r_inner, 3100.0);
    assert_constant(&r_outer, 3100.0);
    assert_true(r_inner.duration_ms >= 60.0 &&
                r_inner.duration_ms < r_outer.duration_ms - 60.0);
    /* Ending a window again measures from its begin to the new end. */
    assert_true(r_again.duration_ms > r_inner.duration_ms + 30.0);
    assert_constant(&r_again, 3100.0);
    bf_probe_close(p);
}

static void test_probe_long_window_past_history(void **state)
{
    struct bf_probe_reading r;
    struct bf_probe *p;

    (void)state;
    /* At 10 kHz, a 1 s window outlives the history ring when the sampler
     * keeps up beyond ~4.1 kHz; its begin edge then comes from the
     * estimate taken at begin. Either way the energy is right. */
    p = open_ok("hwmon", FIX "pi-ina219", 10000);
    r = measure(p, 1000);
    assert_constant(&r, 3100.0);
    if (r.samples <= BF_PROBE_HISTORY_SAMPLES)
        print_message("note: %lld samples, history ring not exceeded\n",
                      (long long)r.samples);
    assert_true(r.samples > 1000);
    bf_probe_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_integrate_constant),
        cmocka_unit_test(test_probe_integrate_ramp),
        cmocka_unit_test(test_probe_integrate_window_edges),
        cmocka_unit_test(test_probe_integrate_beyond_data),
        cmocka_unit_test(test_probe_integrate_invalid),
        cmocka_unit_test(test_probe_spec_invalid),
        cmocka_unit_test(test_probe_rate_invalid),
        cmocka_unit_test(test_probe_none),
        cmocka_unit_test(test_probe_auto_no_sensors),
        cmocka_unit_test(test_probe_explicit_absent),
        cmocka_unit_test_setup_teardown(test_probe_explicit_unreadable,
                                        scratch_setup, scratch_teardown),
        cmocka_unit_test(test_probe_ina3221_l4t32),
        cmocka_unit_test(test_probe_ina3221_tx2_board_rail),
        cmocka_unit_test(test_probe_ina3221_hwmon_layout),
        cmocka_unit_test(test_probe_hwmon),
        cmocka_unit_test(test_probe_rapl),
        cmocka_unit_test_setup_teardown(test_probe_auto_order, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_probe_hwmon_live_change,
                                        scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_probe_rapl_live_wraparound,
                                        scratch_setup, scratch_teardown),
        cmocka_unit_test(test_probe_command_constant),
        cmocka_unit_test(test_probe_command_bad_line),
        cmocka_unit_test(test_probe_command_exits),
        cmocka_unit_test(test_probe_command_no_reading),
        cmocka_unit_test_setup_teardown(test_probe_sensor_deleted,
                                        scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_probe_sensor_unreadable_then_back,
                                        scratch_setup, scratch_teardown),
        cmocka_unit_test(test_probe_windows_nested),
        cmocka_unit_test(test_probe_long_window_past_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
