/* Tests for bf_device: profiles, the latency model, fitting, energy. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_device.h"
#include "bf_err.h"
#include "bf_layers.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char good_profile[] =
    "# a test profile\n"
    "name: testdev\n"
    "description: a device for tests\n"
    "runtime: test-fp32\n"
    "latency:\n"
    "  form: additive\n"
    "  conv_gmacs: 10      # assumption\n"
    "  conv3x3_gmacs: 20\n"
    "  grouped_gmacs: 2\n"
    "  linear_gmacs: 1\n"
    "  bandwidth_gbs: 4\n"
    "  layer_overhead_us: 50\n"
    "  fit: [conv_gmacs, layer_overhead_us]\n"
    "power:\n"
    "  idle_mw: 1000\n"
    "  compute_mw: 5000\n"
    "calibration:\n"
    "  - {model: resnet50, latency_ms: 245, source: \"a README\"}\n"
    "  - model: mobilenet_v2\n"
    "    input_px: 160\n"
    "    latency_ms: 30\n";

static struct bf_device_profile *parse_ok(const char *text)
{
    struct bf_device_profile *p = NULL;
    int rc = bf_device_profile_parse("t.yaml", text, strlen(text), &p);

    if (rc)
        fail_msg("parse failed: %s", bf_last_error());
    return p;
}

/* Parse text expecting code; the detail must contain needle. */
static void parse_fails(const char *text, int code, const char *needle)
{
    struct bf_device_profile *p = NULL;
    int rc = bf_device_profile_parse("t.yaml", text, strlen(text), &p);

    assert_int_equal(rc, code);
    assert_null(p);
    if (!strstr(bf_last_error(), needle))
        fail_msg("'%s' not in '%s'", needle, bf_last_error());
}

/* good_profile with from replaced by to (one occurrence). */
static char *edited(const char *from, const char *to)
{
    const char *at = strstr(good_profile, from);
    size_t n = strlen(good_profile) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);

    assert_non_null(at);
    assert_non_null(s);
    snprintf(s, n, "%.*s%s%s", (int)(at - good_profile), good_profile, to,
             at + strlen(from));
    return s;
}

static void test_device_profile_parses(void **state)
{
    struct bf_device_profile *p = parse_ok(good_profile);

    (void)state;
    assert_string_equal(p->name, "testdev");
    assert_string_equal(p->role, "device");
    assert_int_equal(p->latency.form, BF_DEVICE_ADDITIVE);
    assert_true(p->latency.value[BF_DEVICE_CONV_GMACS] == 10);
    assert_true(p->latency.value[BF_DEVICE_OVERHEAD_US] == 50);
    assert_int_equal(p->latency.fit_mask, (1u << BF_DEVICE_CONV_GMACS) |
                                              (1u << BF_DEVICE_OVERHEAD_US));
    assert_true(p->power.idle_mw == 1000);
    assert_int_equal(p->n_points, 2);
    assert_string_equal(p->points[0].model, "resnet50");
    assert_int_equal(p->points[0].input_px, 224);
    assert_string_equal(p->points[0].source, "a README");
    assert_int_equal(p->points[1].input_px, 160);
    assert_true(p->points[1].latency_ms == 30);
    bf_device_profile_free(p);
    bf_device_profile_free(NULL);
}

static void test_device_profile_rejects_bad(void **state)
{
    char *t;

    (void)state;
    /* A missing required number, named with where the mapping starts. */
    t = edited("  idle_mw: 1000\n", "");
    parse_fails(t, BF_EPARSE, "required key 'power.idle_mw' is missing");
    free(t);
    t = edited("  bandwidth_gbs: 4\n", "");
    parse_fails(t, BF_EPARSE, "latency.bandwidth_gbs");
    free(t);
    /* Out of range, with line and column. */
    t = edited("conv_gmacs: 10", "conv_gmacs: -3");
    parse_fails(t, BF_ERANGE, "t.yaml:7:15: key 'latency.conv_gmacs'");
    free(t);
    /* The runtime is part of what a profile describes. */
    t = edited("runtime: test-fp32\n", "");
    parse_fails(t, BF_EPARSE, "required key 'runtime' is missing");
    free(t);
    t = edited("conv_gmacs: 10", "conv_gmacs: fast");
    parse_fails(t, BF_EPARSE, "expected a number, got 'fast'");
    free(t);
    t = edited("idle_mw: 1000", "idel_mw: 1000");
    parse_fails(t, BF_EPARSE, "unknown key 'power.idel_mw'");
    free(t);
    t = edited("form: additive", "form: linear");
    parse_fails(t, BF_EPARSE, "'linear' is not one of roofline|additive");
    free(t);
    t = edited("fit: [conv_gmacs,", "fit: [conv_gflops,");
    parse_fails(t, BF_EPARSE, "unknown parameter 'conv_gflops'");
    free(t);
    t = edited("    latency_ms: 30\n", "");
    parse_fails(t, BF_EPARSE, "mobilenet_v2: latency_ms is required");
    free(t);
    t = edited("input_px: 160", "input_px: 2");
    parse_fails(t, BF_ERANGE, "key 'input_px': 2 outside 8..8192");
    free(t);
    t = edited("name: testdev\n", "name: testdev\nname: again\n");
    parse_fails(t, BF_EPARSE, "key 'name' given twice");
    free(t);
    parse_fails("name: [\n", BF_EPARSE, "t.yaml:");
    parse_fails("", BF_EPARSE, "empty");
}

static void test_device_profile_override(void **state)
{
    struct bf_device_profile *p = parse_ok(good_profile);

    (void)state;
    assert_int_equal(
        bf_device_profile_override(p, "testdev:power.idle_mw=1500"), 0);
    assert_true(p->power.idle_mw == 1500);
    /* Another profile's override changes nothing. */
    assert_int_equal(bf_device_profile_override(p, "other:power.idle_mw=1"), 0);
    assert_true(p->power.idle_mw == 1500);
    assert_int_equal(
        bf_device_profile_override(p, "testdev:latency.form=roofline"), 0);
    assert_int_equal(p->latency.form, BF_DEVICE_ROOFLINE);
    assert_int_equal(bf_device_profile_override(p, "testdev:power.idle=1"),
                     BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), "testdev:power.idle=1"));
    assert_int_equal(bf_device_profile_override(p, "testdev:power.idle_mw=x"),
                     BF_EPARSE);
    assert_int_equal(bf_device_profile_override(p, "testdev power.idle_mw"),
                     BF_EPARSE);
    assert_non_null(strstr(bf_last_error(), "PROFILE:FIELD=VALUE"));
    bf_device_profile_free(p);
}

/* Every shipped profile and radio preset parses; each profile says where
 * its calibration points come from. */
static void test_device_shipped_files_parse(void **state)
{
    const char *dirs[] = {BF_SOURCE_DIR "/scenarios/devices"};
    const char *rdirs[] = {BF_SOURCE_DIR "/scenarios/channels"};
    const char *names[] = {"jetson-nano-10w",
                           "jetson-nano-10w-tensorrt",
                           "jetson-nano-5w",
                           "raspberry-pi-4",
                           "host",
                           "edge-server"};
    const char *radios[] = {"wifi", "lte"};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct bf_device_profile *p = NULL;
        int rc = bf_device_profile_open(names[i], dirs, 1, &p);

        if (rc)
            fail_msg("%s: %s", names[i], bf_last_error());
        assert_string_equal(p->name, names[i]);
        assert_true(p->runtime[0] != '\0');
        for (j = 0; j < p->n_points; j++)
            assert_true(p->points[j].measure || p->points[j].source[0]);
        bf_device_profile_free(p);
    }
    for (i = 0; i < sizeof(radios) / sizeof(radios[0]); i++) {
        struct bf_radio r;

        if (bf_radio_open(radios[i], rdirs, 1, &r))
            fail_msg("%s: %s", radios[i], bf_last_error());
        assert_true(r.base_mw > 0);
    }
    {
        struct bf_device_profile *p = NULL;

        assert_int_equal(bf_device_profile_open("jetson-nano", dirs, 1, &p),
                         BF_ENOENT);
        assert_non_null(strstr(bf_last_error(), "jetson-nano-10w"));
    }
}

static struct bf_layer_info layer(int kind, int64_t macs, int64_t params,
                                  int64_t in, int64_t out)
{
    struct bf_layer_info l = {.kind = kind,
                              .macs = macs,
                              .params = params,
                              .in_elems = in,
                              .out_elems = out};
    return l;
}

/* Hand-computed: conv 2e9 MACs at 10 GMAC/s = 200 ms; its 4 x 250e6 bytes
 * = 1e9 at 4 GB/s = 250 ms; linear 1e8 MACs at 1 GMAC/s = 100 ms vs 4 x
 * 1.25e6 bytes = 1.25 ms; overhead 50 us each. */
static void test_device_predict_arithmetic(void **state)
{
    struct bf_layer_info ls[2] = {
        layer(BF_LAYER_CONV, 2000000000, 50000000, 100000000, 100000000),
        layer(BF_LAYER_LINEAR, 100000000, 1000000, 200000, 50000),
    };
    struct bf_device_latency m = {.form = BF_DEVICE_ROOFLINE,
                                  .value = {10, 2, 1, 4, 50, 10}};

    (void)state;
    assert_float_equal(bf_device_predict_ms(&m, ls, 2), 250 + 0.05 + 100 + 0.05,
                       1e-9);
    m.form = BF_DEVICE_ADDITIVE;
    assert_float_equal(bf_device_predict_ms(&m, ls, 2),
                       200 + 250 + 0.05 + 100 + 1.25 + 0.05, 1e-9);
    ls[0].kind = BF_LAYER_CONV_GROUPED; /* 2e9 at 2 GMAC/s = 1000 ms */
    m.form = BF_DEVICE_ROOFLINE;
    assert_float_equal(bf_device_predict_ms(&m, ls, 2),
                       1000 + 0.05 + 100 + 0.05, 1e-9);
    assert_float_equal(bf_device_predict_ms(&m, ls, 0), 0, 0);
}

/* Synthetic networks: n_nets layer lists of different mixes. */
#define NETS 16
#define LAYERS 12
static struct bf_layer_info nets[NETS][LAYERS];

/* Layers of every kind whose work and traffic vary independently, so
 * that every parameter matters somewhere (compute- and memory-bound
 * layers of each kind). */
static void make_nets(void)
{
    unsigned seed = 7;
    int i, j;

    for (i = 0; i < NETS; i++)
        for (j = 0; j < LAYERS; j++) {
            int kind = BF_LAYER_CONV;
            int64_t macs, elems;

            if ((j + i) % 5 == 0)
                kind = BF_LAYER_CONV_GROUPED;
            else if (j == LAYERS - 1)
                kind = BF_LAYER_LINEAR;
            else if ((j + 2 * i) % 3 == 0)
                kind = BF_LAYER_CONV3X3;
            seed = seed * 1103515245u + 12345u;
            macs = (1 + (int64_t)(seed % 1000u)) * 100000 *
                   (1 + (i * 7 + j * 3) % 11);
            seed = seed * 1103515245u + 12345u;
            elems =
                (1 + (int64_t)(seed % 1000u)) * 1000 * (1 + (i * 5 + j) % 13);
            nets[i][j] = layer(kind, macs, elems / 8, elems, elems);
        }
}

static void recover(int form)
{
    struct bf_device_latency truth = {.form = form,
                                      .value = {40, 3, 2, 6, 120, 90}};
    struct bf_device_latency prior = {
        .form = form,
        .value = {80, 3, 2, 12, 60, 50},
        .fit_mask =
            (1u << BF_DEVICE_CONV_GMACS) | (1u << BF_DEVICE_CONV3X3_GMACS) |
            (1u << BF_DEVICE_BANDWIDTH_GBS) | (1u << BF_DEVICE_OVERHEAD_US),
        .prior_weight = 0};
    struct bf_device_sample s[NETS];
    struct bf_device_latency fit;
    double loo[NETS];
    int i;

    make_nets();
    for (i = 0; i < NETS; i++) {
        s[i].layers = nets[i];
        s[i].n_layers = LAYERS;
        s[i].measured_ms = bf_device_predict_ms(&truth, nets[i], LAYERS);
    }
    assert_int_equal(bf_device_fit(&prior, s, NETS, &fit), 0);
    for (i = 0; i < BF_DEVICE_PARAMS; i++)
        if (fabs(fit.value[i] / truth.value[i] - 1) > 1e-6)
            fail_msg("form %d: %s fitted %g, truth %g", form,
                     bf_device_param_name(i), fit.value[i], truth.value[i]);
    assert_int_equal(bf_device_leave_one_out(&prior, s, NETS, loo), 0);
    for (i = 0; i < NETS; i++)
        assert_float_equal(loo[i] / s[i].measured_ms, 1.0, 1e-3);
}

static void test_device_fit_recovers_additive(void **state)
{
    (void)state;
    recover(BF_DEVICE_ADDITIVE);
}

static void test_device_fit_recovers_roofline(void **state)
{
    (void)state;
    recover(BF_DEVICE_ROOFLINE);
}

/* With no points the fit is the prior; a strong prior barely moves; bad
 * input is refused. */
static void test_device_fit_prior_and_errors(void **state)
{
    struct bf_device_latency prior = {.form = BF_DEVICE_ADDITIVE,
                                      .value = {80, 3, 2, 12, 60, 50},
                                      .fit_mask = 1u,
                                      .prior_weight = 1e6};
    struct bf_device_sample s;
    struct bf_device_latency fit;

    (void)state;
    make_nets();
    assert_int_equal(bf_device_fit(&prior, NULL, 0, &fit), 0);
    assert_true(fit.value[0] == 80);
    s.layers = nets[0];
    s.n_layers = LAYERS;
    s.measured_ms = 10 * bf_device_predict_ms(&prior, nets[0], LAYERS);
    assert_int_equal(bf_device_fit(&prior, &s, 1, &fit), 0);
    assert_float_equal(fit.value[0] / 80, 1.0, 1e-3);
    prior.prior_weight = 0;
    assert_int_equal(bf_device_fit(&prior, &s, 1, &fit), 0);
    /* Ten times slower needs a far lower throughput (overhead fixed). */
    assert_true(fit.value[0] < 80);
    assert_float_equal(
        bf_device_predict_ms(&fit, nets[0], LAYERS) / s.measured_ms, 1.0, 1e-6);
    s.measured_ms = 0;
    assert_int_equal(bf_device_fit(&prior, &s, 1, &fit), BF_EINVAL);
    prior.value[0] = 0;
    s.measured_ms = 1;
    assert_int_equal(bf_device_fit(&prior, &s, 1, &fit), BF_EINVAL);
}

/* The sublinear term and tied rates, by hand: additive, conv 1e9 MACs
 * (1000 MMAC, sqrt 31.62...) at 10 GMAC/s = 100 ms, linear 1e8 at conv's
 * rate (linear 0) = 10 ms, 3x3 4e8 at conv's rate (3x3 0) = 40 ms; no
 * bytes; overhead 50 us and sublinear 100 us x sqrt(MMAC) per layer. */
static void test_device_predict_sublinear_tied(void **state)
{
    struct bf_layer_info ls[3] = {
        layer(BF_LAYER_CONV, 1000000000, 0, 0, 0),
        layer(BF_LAYER_LINEAR, 100000000, 0, 0, 0),
        layer(BF_LAYER_CONV3X3, 400000000, 0, 0, 0),
    };
    struct bf_device_latency m = {.form = BF_DEVICE_ADDITIVE,
                                  .value = {10, 2, 0, 4, 50, 0, 100}};
    double fixed = 3 * 0.05 + 0.1 * (sqrt(1000.0) + sqrt(100.0) + sqrt(400.0));

    (void)state;
    assert_float_equal(bf_device_predict_ms(&m, ls, 3), 100 + 10 + 40 + fixed,
                       1e-9);
    m.value[BF_DEVICE_CONV3X3_GMACS] = 20; /* 3x3 on its own rate: 20 ms */
    assert_float_equal(bf_device_predict_ms(&m, ls, 3), 100 + 10 + 20 + fixed,
                       1e-9);
}

/* A fit recovers the sublinear term and a rate tied to conv_gmacs. */
static void test_device_fit_recovers_sublinear(void **state)
{
    struct bf_device_latency truth = {.form = BF_DEVICE_ADDITIVE,
                                      .value = {40, 3, 0, 6, 120, 0, 30}};
    struct bf_device_latency prior = {
        .form = BF_DEVICE_ADDITIVE,
        .value = {80, 3, 0, 12, 60, 0, 10},
        .fit_mask =
            (1u << BF_DEVICE_CONV_GMACS) | (1u << BF_DEVICE_BANDWIDTH_GBS) |
            (1u << BF_DEVICE_OVERHEAD_US) | (1u << BF_DEVICE_SUBLINEAR_US),
        .prior_weight = 0};
    struct bf_device_sample s[NETS];
    struct bf_device_latency fit;
    int i;

    (void)state;
    make_nets();
    for (i = 0; i < NETS; i++) {
        s[i].layers = nets[i];
        s[i].n_layers = LAYERS;
        s[i].measured_ms = bf_device_predict_ms(&truth, nets[i], LAYERS);
    }
    assert_int_equal(bf_device_fit(&prior, s, NETS, &fit), 0);
    for (i = 0; i < BF_DEVICE_PARAMS; i++)
        if (fabs(fit.value[i] - truth.value[i]) > 1e-6 * truth.value[i])
            fail_msg("%s fitted %g, truth %g", bf_device_param_name(i),
                     fit.value[i], truth.value[i]);
    /* A tied rate cannot be fitted on its own. */
    prior.fit_mask |= 1u << BF_DEVICE_LINEAR_GMACS;
    assert_int_equal(bf_device_fit(&prior, s, NETS, &fit), BF_EINVAL);
}

/* Log ratios 0.1, -0.1, 0.2, -0.2 (mean 0, sd sqrt(0.1/3)): the interval
 * is t exp(-+ t_{0.95,3} sd sqrt(1.25)); a stated spread uses z; fewer
 * than 3 points and none stated: no interval. */
static void test_device_error_model_interval(void **state)
{
    double loo[4] = {100, 100, 100, 100};
    double measured[4] = {100 * exp(0.1), 100 * exp(-0.1), 100 * exp(0.2),
                          100 * exp(-0.2)};
    struct bf_device_latency prior = {.form = BF_DEVICE_ADDITIVE};
    struct bf_device_error e;
    double sd = sqrt(0.1 / 3), half, lo, hi;

    (void)state;
    assert_int_equal(bf_device_error_model(&prior, measured, loo, 4, &e), 0);
    assert_float_equal(e.log_mean, 0, 1e-12);
    assert_float_equal(e.log_sd, sd, 1e-12);
    assert_float_equal(e.factor, 2.353363434801823 * sqrt(1.25), 1e-6);
    half = e.factor * sd;
    bf_device_interval(&e, 50, &lo, &hi);
    assert_float_equal(lo, 50 * exp(-half), 1e-9);
    assert_float_equal(hi, 50 * exp(half), 1e-9);
    /* A biased fit moves the interval, not the point. */
    for (int i = 0; i < 4; i++)
        measured[i] *= 2;
    assert_int_equal(bf_device_error_model(&prior, measured, loo, 4, &e), 0);
    bf_device_interval(&e, 50, &lo, &hi);
    assert_float_equal(lo, 100 * exp(-half), 1e-9);
    assert_float_equal(hi, 100 * exp(half), 1e-9);
    /* Under 3 points: the stated spread, or nothing. */
    assert_int_equal(bf_device_error_model(&prior, measured, loo, 2, &e), 0);
    assert_true(e.factor == 0);
    bf_device_interval(&e, 50, &lo, &hi);
    assert_true(lo == 50 && hi == 50);
    prior.interval_log_sd = 0.3;
    assert_int_equal(bf_device_error_model(&prior, measured, loo, 0, &e), 0);
    assert_true(e.stated);
    bf_device_interval(&e, 50, &lo, &hi);
    assert_float_equal(hi, 50 * exp(1.6448536269514722 * 0.3), 1e-9);
    loo[1] = 0;
    assert_int_equal(bf_device_error_model(&prior, measured, loo, 4, &e),
                     BF_EINVAL);
}

/* Write text to dir/name; the path into path. */
static void write_text(const char *dir, const char *name, const char *text,
                       char *path, size_t size)
{
    FILE *f;

    snprintf(path, size, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Layer list files: a good one reads; each damage names file and line. */
static void test_device_layer_file(void **state)
{
    static const char good[] = "bfbench layer list 1\n"
                               "source a test\n"
                               "arch tinynet px 224\n"
                               "layers 2\n"
                               "3 0 1000 90 300 400\n"
                               "2 0 20 21 400 10\n"
                               "end\n";
    static const struct {
        const char *from, *to, *needle;
    } bad[] = {
        {"bfbench layer list 1", "bfbench layer list 2", "t.txt:1:"},
        {"arch tinynet px 224", "arch othernet px 224", "t.txt:3: describes"},
        {"layers 2", "layers 0", "t.txt:4:"},
        {"3 0 1000 90 300 400", "3 0 1000 90 300", "t.txt:5:"},
        {"2 0 20 21 400 10", "9 0 20 21 400 10", "t.txt:6:"},
        {"3 0 1000", "3 0 -1000", "t.txt:5:"},
        {"end\n", "", "t.txt:7: expected 'end'"},
        {"2 0 20 21 400 10\nend\n", "", "t.txt:6: the file ends"},
        {"end\n", "end\nmore\n", "t.txt:8: text after"},
    };
    char dir[] = "/tmp/bf-layers-XXXXXX", path[512], text[1024];
    struct bf_layer_info *ls = NULL;
    size_t n = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    write_text(dir, "t.txt", good, path, sizeof(path));
    assert_int_equal(bf_layer_file_read(path, "tinynet", 0, &ls, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ls[0].kind, BF_LAYER_CONV3X3);
    assert_true(ls[0].macs == 1000 && ls[0].params == 90 &&
                ls[0].in_elems == 300 && ls[0].out_elems == 400);
    assert_int_equal(ls[1].kind, BF_LAYER_LINEAR);
    free(ls);
    assert_int_equal(bf_layer_file_read(path, "tinynet", 227, &ls, &n),
                     BF_EPARSE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *at = strstr(good, bad[i].from);
        int rc;

        assert_non_null(at);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good,
                 bad[i].to, at + strlen(bad[i].from));
        write_text(dir, "t.txt", text, path, sizeof(path));
        rc = bf_layer_file_read(path, "tinynet", 224, &ls, &n);
        if (rc != BF_EPARSE || !strstr(bf_last_error(), bad[i].needle))
            fail_msg("case %zu: rc %d, '%s' (want '%s')", i, rc,
                     bf_last_error(), bad[i].needle);
        assert_null(ls);
    }
    assert_int_equal(bf_layer_file_path(dir, "tinynet", 0, path, sizeof(path)),
                     0);
    assert_non_null(strstr(path, "/tinynet-224.txt"));
    unlink(path);
    assert_int_equal(bf_layer_file_read(path, "tinynet", 0, &ls, &n),
                     BF_ENOENT);
    unlink(strcat(strcpy(text, dir), "/t.txt"));
    rmdir(dir);
}

/* 10 ms compute at 5 W, 4 ms sending at 8 Mbit/s, 1 ms receiving at 2
 * Mbit/s, 5 ms waiting; idle 1 W; radio 100 mW + 50 mW per Mbit/s up, 10
 * down. */
static void test_device_energy_states(void **state)
{
    struct bf_device_power pw = {.idle_mw = 1000, .compute_mw = 5000};
    struct bf_radio r = {
        .base_mw = 100, .up_mw_per_mbps = 50, .down_mw_per_mbps = 10};
    struct bf_device_timeline t = {.compute_ms = 10,
                                   .tx_ms = 4,
                                   .rx_ms = 1,
                                   .wait_ms = 5,
                                   .up_mbps = 8,
                                   .down_mbps = 2};
    struct bf_device_energy e;
    double uj = 5000 * 10 + (1000 + 100 + 400) * 4 + (1000 + 100 + 20) * 1 +
                (1000 + 100) * 5;

    (void)state;
    bf_device_energy(&pw, &r, &t, &e);
    assert_float_equal(e.e2e_ms, 20, 1e-12);
    assert_float_equal(e.energy_mj, uj / 1000, 1e-12);
    assert_float_equal(e.energy_above_idle_mj, (uj - 1000 * 20) / 1000, 1e-12);
    assert_float_equal(e.avg_power_mw, uj / 20, 1e-9);
    assert_float_equal(e.avg_power_above_idle_mw, (uj - 20000) / 20, 1e-9);
    /* Local: compute only, no radio. */
    memset(&t, 0, sizeof(t));
    t.compute_ms = 30;
    bf_device_energy(&pw, NULL, &t, &e);
    assert_float_equal(e.avg_power_mw, 5000, 1e-12);
    assert_float_equal(e.energy_mj, 150, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_profile_parses),
        cmocka_unit_test(test_device_profile_rejects_bad),
        cmocka_unit_test(test_device_profile_override),
        cmocka_unit_test(test_device_shipped_files_parse),
        cmocka_unit_test(test_device_predict_arithmetic),
        cmocka_unit_test(test_device_fit_recovers_additive),
        cmocka_unit_test(test_device_fit_recovers_roofline),
        cmocka_unit_test(test_device_fit_prior_and_errors),
        cmocka_unit_test(test_device_predict_sublinear_tied),
        cmocka_unit_test(test_device_fit_recovers_sublinear),
        cmocka_unit_test(test_device_error_model_interval),
        cmocka_unit_test(test_device_layer_file),
        cmocka_unit_test(test_device_energy_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
