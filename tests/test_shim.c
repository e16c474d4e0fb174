/*
 * Tests of the libtorch shim (shim/bf_torch.h): the model zoo against
 * torchvision's parameter and MAC counts, stage chaining, stage-range
 * forwards, the folded inference path, checkpoints and every weight-file
 * error, and the live-handle counter after each test.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_test_device.h"

#include "bf_split.h"
#include "bf_torch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static int setup_all(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bf_test_shim.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return bf_torch_set_threads(2);
}

static int teardown_all(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Every test must leave no handle behind. */
static int check_leaks(void **state)
{
    (void)state;
    assert_int_equal(bf_torch_live_handles(), 0);
    return 0;
}

static bf_model *make(const char *arch, int classes, uint64_t seed)
{
    struct bf_model_params p = {
        .arch = arch, .num_classes = classes, .seed = seed};
    bf_model *m = NULL;
    int rc = bf_model_create(&p, &m);

    if (rc)
        fail_msg("bf_model_create(%s): %s", arch, bf_last_error());
    bf_test_to_device(m);
    return m;
}

static bf_tensor *randn4(int64_t n, int64_t c, int64_t h, int64_t w,
                         uint64_t seed)
{
    int64_t shape[4] = {n, c, h, w};
    bf_tensor *t = NULL;

    assert_int_equal(bf_tensor_randn(shape, 4, seed, &t), 0);
    return t;
}

static bf_tensor *forward(bf_model *m, const bf_tensor *x, int first, int last)
{
    bf_tensor *y = NULL;
    int rc = bf_model_forward(m, x, first, last, &y);

    if (rc)
        fail_msg("forward %d..%d: %s", first, last, bf_last_error());
    return y;
}

static double diff(const bf_tensor *a, const bf_tensor *b)
{
    double d = -1.0;

    assert_int_equal(bf_tensor_max_abs_diff(a, b, &d), 0);
    return d;
}

/* torchvision 0.14.1: sum(p.numel() for p in model.parameters()). */
static const struct {
    const char *arch;
    int64_t params;
} torchvision_params[] = {
    {"resnet18", 11689512},         {"resnet34", 21797672},
    {"resnet50", 25557032},         {"resnet101", 44549160},
    {"resnet152", 60192808},        {"resnext50_32x4d", 25028904},
    {"resnext101_32x8d", 88791336}, {"wide_resnet50_2", 68883240},
    {"densenet121", 7978856},       {"densenet169", 14149480},
    {"densenet201", 20013928},      {"mobilenet_v2", 3504872},
    {"alexnet", 61100840},          {"vgg11", 132863336},
    {"vgg13", 133047848},           {"vgg16", 138357544},
    {"vgg19", 143667240},           {"vgg11_bn", 132868840},
    {"vgg13_bn", 133053736},        {"vgg16_bn", 138365992},
    {"vgg19_bn", 143678248},        {"squeezenet1_0", 1248424},
    {"squeezenet1_1", 1235496},     {"densenet161", 28681000},
};

/* torchvision's documented GFLOPS (really GMACs of conv and linear layers)
 * at 224x224, to two decimals. */
static const struct {
    const char *arch;
    double gmacs;
} torchvision_gmacs[] = {
    {"resnet50", 4.09},     {"resnet152", 11.51},   {"densenet169", 3.36},
    {"densenet201", 4.29},  {"mobilenet_v2", 0.30}, {"alexnet", 0.71},
    {"vgg11", 7.61},        {"vgg13", 11.31},       {"vgg16", 15.47},
    {"vgg19", 19.63},       {"vgg11_bn", 7.61},     {"vgg13_bn", 11.31},
    {"vgg16_bn", 15.47},    {"vgg19_bn", 19.63},    {"squeezenet1_0", 0.82},
    {"squeezenet1_1", 0.35}};

#define N_PARAMS (sizeof(torchvision_params) / sizeof(torchvision_params[0]))
#define N_GMACS (sizeof(torchvision_gmacs) / sizeof(torchvision_gmacs[0]))

/* The MACs of one model at 224x224 against torchvision's figure, and its
 * stage parameters summing to its total. */
static void check_gmacs(bf_model *m, const char *arch, double gmacs)
{
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    int n = 0;
    int64_t macs = 0, params = 0, total = 0;

    assert_int_equal(
        bf_model_describe(m, 224, 224, st, BF_MODEL_MAX_STAGES, &n), 0);
    for (int s = 0; s < n; s++) {
        macs += st[s].macs;
        params += st[s].params;
    }
    assert_int_equal(bf_model_param_count(m, &total), 0);
    assert_int_equal(params, total);
    if (fabs(round(macs / 1e7) / 100.0 - gmacs) > 1e-9)
        fail_msg("%s: %.4f GMACs, torchvision says %.2f", arch, macs / 1e9,
                 gmacs);
}

/*
 * Every architecture builds with six stages; its parameter count and its
 * MACs match torchvision's where the tables above have them. One model of
 * each is built (they take most of this binary's time).
 */
static void test_shim_every_arch_matches_torchvision(void **state)
{
    size_t params_seen = 0, gmacs_seen = 0;

    (void)state;
    assert_true(bf_arch_count() >= 25);
    for (int i = 0; i < bf_arch_count(); i++) {
        struct bf_arch_info info;
        bf_model *m;
        int stages = 0;
        int64_t n = 0;

        assert_int_equal(bf_arch_get(i, &info), 0);
        assert_true(bf_arch_exists(info.name));
        m = make(info.name, 0, 1);
        assert_int_equal(bf_model_stage_count(m, &stages), 0);
        assert_int_equal(stages, 6);
        for (size_t k = 0; k < N_PARAMS; k++) {
            if (strcmp(torchvision_params[k].arch, info.name) != 0)
                continue;
            assert_int_equal(bf_model_param_count(m, &n), 0);
            if (n != torchvision_params[k].params)
                fail_msg("%s: %lld parameters, torchvision has %lld", info.name,
                         (long long)n, (long long)torchvision_params[k].params);
            params_seen++;
        }
        for (size_t k = 0; k < N_GMACS; k++) {
            if (strcmp(torchvision_gmacs[k].arch, info.name) == 0) {
                check_gmacs(m, info.name, torchvision_gmacs[k].gmacs);
                gmacs_seen++;
            }
        }
        bf_model_free(m);
    }
    /* Every row of both tables names an architecture that exists. */
    assert_int_equal(params_seen, N_PARAMS);
    assert_int_equal(gmacs_seen, N_GMACS);
    assert_false(bf_arch_exists("resnet153"));
    assert_false(bf_arch_exists(NULL));
}

/*
 * The stage outputs described chain into each other through forwards; the
 * plain feature stacks at torchvision's smallest input sizes (AlexNet 63,
 * VGG 32, SqueezeNet 1.0 21 and 1.1 17), where the adaptive average pool
 * still gives 1000 logits.
 */
static void test_shim_stage_shapes_chain(void **state)
{
    static const struct {
        const char *arch;
        int size;
    } cases[] = {{"resnet18", 96},      {"densenet121", 96},
                 {"mobilenet_v2", 96},  {"resnet_mini", 28},
                 {"densenet_mini", 28}, {"resnext50_32x4d", 64},
                 {"alexnet", 63},       {"vgg11_bn", 32},
                 {"squeezenet1_0", 21}, {"squeezenet1_1", 17}};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *m = make(cases[i].arch, 0, 2);
        struct bf_arch_info info;
        struct bf_stage_info st[BF_MODEL_MAX_STAGES];
        int n = 0;
        bf_tensor *x;

        assert_int_equal(bf_arch_find(cases[i].arch, &info), 0);
        assert_int_equal(bf_model_describe(m, cases[i].size, cases[i].size, st,
                                           BF_MODEL_MAX_STAGES, &n),
                         0);
        x = randn4(1, info.in_channels, cases[i].size, cases[i].size, 3);
        for (int s = 0; s < n; s++) {
            int64_t shape[BF_TENSOR_MAX_DIMS];
            int nd = 0;
            bf_tensor *y = forward(m, x, s, s);

            assert_int_equal(bf_tensor_shape(y, shape, 8, &nd), 0);
            assert_int_equal(nd - 1, st[s].out_ndim);
            for (int d = 0; d < st[s].out_ndim; d++)
                assert_int_equal(shape[d + 1], st[s].out_shape[d]);
            assert_true(st[s].macs > 0);
            bf_tensor_free(x);
            x = y;
        }
        assert_int_equal(st[n - 1].out_shape[0], info.num_classes);
        bf_tensor_free(x);
        bf_model_free(m);
    }
}

/* Running [0, k] then [k+1, n-1] equals running [0, n-1], exactly. */
static void test_shim_range_forward_equals_whole(void **state)
{
    const char *archs[] = {"resnet18",    "densenet121",   "mobilenet_v2",
                           "resnet_mini", "densenet_mini", "alexnet",
                           "vgg11",       "squeezenet1_1"};

    (void)state;
    for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
        struct bf_arch_info info;
        bf_model *m = make(archs[i], 0, 4);
        int size, n = 0;
        bf_tensor *x, *whole;

        assert_int_equal(bf_arch_find(archs[i], &info), 0);
        size = info.native_size_px == 28 ? 28 : 64;
        x = randn4(2, info.in_channels, size, size, 5);
        assert_int_equal(bf_model_stage_count(m, &n), 0);
        whole = forward(m, x, 0, n - 1);
        for (int k = 0; k < n - 1; k++) {
            bf_tensor *head = forward(m, x, 0, k);
            bf_tensor *tail = forward(m, head, k + 1, n - 1);

            assert_true(diff(whole, tail) == 0.0);
            bf_tensor_free(head);
            bf_tensor_free(tail);
        }
        bf_tensor_free(whole);
        bf_tensor_free(x);
        bf_model_free(m);
    }
}

/*
 * The folded path (BatchNorm folded, in-place activations, DenseNet's
 * preallocated buffer; with and without channels-last) matches the plain
 * path within 1e-4 on the logits, after BatchNorm statistics were moved
 * away from their initial values by a few training-mode forwards. VGG-11
 * with BatchNorm folds convolutions that have a bias; AlexNet and
 * SqueezeNet run plain biased convolutions on the folded path.
 */
static void test_shim_fold_matches_plain(void **state)
{
    const char *archs[] = {"resnet18",     "resnet50",    "densenet121",
                           "mobilenet_v2", "resnet_mini", "densenet_mini",
                           "vgg11_bn",     "alexnet",     "squeezenet1_1"};

    (void)state;
    for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
        struct bf_arch_info info;
        bf_model *m = make(archs[i], 0, 6);
        int size, n = 0;
        bf_tensor *x, *plain;

        assert_int_equal(bf_arch_find(archs[i], &info), 0);
        size = info.native_size_px == 28 ? 28 : 64;
        assert_int_equal(bf_model_stage_count(m, &n), 0);
        assert_int_equal(bf_model_set_train(m, 1), 0);
        for (int k = 0; k < 3; k++) {
            bf_tensor *b = randn4(4, info.in_channels, size, size, 10 + k);
            bf_tensor_free(forward(m, b, 0, n - 1));
            bf_tensor_free(b);
        }
        assert_int_equal(bf_model_set_train(m, 0), 0);
        x = randn4(2, info.in_channels, size, size, 7);
        plain = forward(m, x, 0, n - 1);
        for (int cl = 0; cl <= 1; cl++) {
            struct bf_infer_params ip = {.fold_bn = 1, .channels_last = cl};
            bf_tensor *folded;
            double d;

            assert_int_equal(bf_model_set_inference(m, &ip), 0);
            folded = forward(m, x, 0, n - 1);
            d = diff(plain, folded);
            if (!(d <= 1e-4))
                fail_msg("%s fold (channels_last %d): max diff %g", archs[i],
                         cl, d);
            bf_tensor_free(folded);
        }
        bf_tensor_free(plain);
        bf_tensor_free(x);
        bf_model_free(m);
    }
}

/*
 * The folded path in bf16: BatchNorm folded in fp32 then cast, the
 * standalone BatchNorms (DenseNet), linear layers and the autoencoder's
 * transposed convolutions in bf16 too. The output differs from plain
 * (it really computes in bf16) by less than 5 % of the largest plain
 * output (bf16 keeps 8 bits of mantissa: ~0.4 % per rounding), and
 * switching back to fp32 restores fp32's agreement. fp16 needs CUDA; a
 * lower precision needs the folded path.
 */
static void test_shim_fold_bf16(void **state)
{
    static const struct {
        const char *arch;
        int size;
        int modify; /* 0: none, 1: bottleneck, 2: autoencoder */
    } cases[] = {{"resnet_mini", 28, 0},   {"densenet_mini", 28, 0},
                 {"mobilenet_v2", 64, 0},  {"resnet18", 64, 0},
                 {"resnet_mini", 28, 1},   {"resnet_mini", 28, 2},
                 {"densenet_mini", 28, 1}, {"vgg11_bn", 64, 0}};
    struct bf_infer_params fp32 = {.fold_bn = 1, .channels_last = 0};
    int prec = -1;

    (void)state;
    assert_string_equal(bf_precision_name(BF_PRECISION_BF16), "bf16");
    assert_int_equal(bf_precision_parse("fp16", &prec), 0);
    assert_int_equal(prec, BF_PRECISION_FP16);
    assert_int_equal(bf_precision_parse("fp64", &prec), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "fp32, bf16, fp16"));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bf_arch_info info;
        bf_model *m = make(cases[i].arch, 0, 6);
        int size = cases[i].size, n = 0;
        bf_tensor *x, *plain, *y;
        double ref, d;

        assert_int_equal(bf_arch_find(cases[i].arch, &info), 0);
        if (cases[i].modify == 1) {
            struct bf_bottleneck_params bp = {.version = 0, .channels = 3};

            assert_int_equal(bf_model_inject_bottleneck(m, &bp), 0);
        } else if (cases[i].modify == 2) {
            assert_int_equal(bf_model_inject_autoencoder(m, 4), 0);
        }
        assert_int_equal(bf_model_stage_count(m, &n), 0);
        x = randn4(2, info.in_channels, size, size, 7);
        plain = forward(m, x, 0, n - 1);
        {
            bf_tensor *zero = NULL;
            int64_t shape[BF_TENSOR_MAX_DIMS];
            int nd = 0;

            assert_int_equal(
                bf_tensor_shape(plain, shape, BF_TENSOR_MAX_DIMS, &nd), 0);
            assert_int_equal(bf_tensor_from_f32(shape, nd, NULL, &zero), 0);
            ref = diff(plain, zero);
            bf_tensor_free(zero);
        }
        for (int cl = 0; cl <= 1; cl++) {
            struct bf_infer_params ip = {.fold_bn = 1,
                                         .channels_last = cl,
                                         .precision = BF_PRECISION_BF16};

            assert_int_equal(bf_model_set_inference(m, &ip), 0);
            y = forward(m, x, 0, n - 1);
            d = diff(plain, y) / ref;
            if (!(d > 1e-6 && d < 5e-2))
                fail_msg("%s (modify %d) bf16 (channels_last %d): relative "
                         "diff %g",
                         cases[i].arch, cases[i].modify, cl, d);
            bf_tensor_free(y);
            /* A split range: fp32 in and out of each part. */
            if (n > 2) {
                bf_tensor *a = forward(m, x, 0, 1);
                bf_tensor *b = forward(m, a, 2, n - 1);

                d = diff(plain, b) / ref;
                if (!(d < 5e-2))
                    fail_msg("%s split bf16: relative diff %g", cases[i].arch,
                             d);
                bf_tensor_free(b);
                bf_tensor_free(a);
            }
        }
        assert_int_equal(bf_model_set_inference(m, &fp32), 0);
        y = forward(m, x, 0, n - 1);
        d = diff(plain, y) / ref;
        if (!(d <= 1e-5))
            fail_msg("%s back to fp32: relative diff %g", cases[i].arch, d);
        bf_tensor_free(y);
        bf_tensor_free(plain);
        bf_tensor_free(x);
        bf_model_free(m);
    }
    {
        bf_model *m = make("resnet_mini", 0, 6);
        struct bf_infer_params fp16 = {.fold_bn = 1,
                                       .precision = BF_PRECISION_FP16};
        struct bf_infer_params unfolded = {.fold_bn = 0,
                                           .precision = BF_PRECISION_BF16};
        struct bf_infer_params bad = {.fold_bn = 1, .precision = 7};

        assert_int_equal(bf_model_set_inference(m, &fp16), BF_EUNSUPPORTED);
        assert_non_null(strstr(bf_last_error(), "needs a CUDA device"));
        assert_int_equal(bf_model_set_inference(m, &unfolded), BF_EINVAL);
        assert_non_null(strstr(bf_last_error(), "needs the folded path"));
        assert_int_equal(bf_model_set_inference(m, &bad), BF_EINVAL);
        bf_model_free(m);
    }
}

/*
 * AlexNet, VGG and SqueezeNet at 224x224: every convolution and linear
 * layer is listed, SqueezeNet's final convolution included, with MACs
 * summing exactly to a count from torchvision's modules (forward hooks on
 * every Conv2d and Linear, out elements x in features x kernel area).
 */
static void test_shim_plain_stacks_layers(void **state)
{
    static const struct {
        const char *arch;
        int layers;
        int last_kind;
        int64_t macs;
    } cases[] = {{"alexnet", 8, BF_LAYER_LINEAR, 714188480},
                 {"vgg11_bn", 11, BF_LAYER_LINEAR, 7609090048},
                 {"squeezenet1_1", 26, BF_LAYER_CONV, 349151936}};
    /* squeezenet1_1's last layer is a 1x1 convolution. */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *m = make(cases[i].arch, 0, 1);
        struct bf_layer_info layers[32];
        int n = 0, count = 0;
        int64_t macs = 0;

        assert_int_equal(bf_model_stage_count(m, &n), 0);
        assert_int_equal(
            bf_model_layers(m, 224, 224, 0, n - 1, layers, 32, &count), 0);
        if (count != cases[i].layers)
            fail_msg("%s: %d layers, want %d", cases[i].arch, count,
                     cases[i].layers);
        for (int k = 0; k < count; k++)
            macs += layers[k].macs;
        assert_int_equal(layers[count - 1].kind, cases[i].last_kind);
        assert_int_equal(layers[count - 1].stage, n - 1);
        /* VGG's convolutions are all 3x3 stride 1 (Winograd-eligible);
         * AlexNet's are not (11x11 stride 4, 5x5, then 3x3 stride 1). */
        if (strcmp(cases[i].arch, "vgg11_bn") == 0)
            for (int k = 0; k < 8; k++)
                assert_int_equal(layers[k].kind, BF_LAYER_CONV3X3);
        if (strcmp(cases[i].arch, "alexnet") == 0) {
            assert_int_equal(layers[0].kind, BF_LAYER_CONV);
            assert_int_equal(layers[2].kind, BF_LAYER_CONV3X3);
        }
        if (macs != cases[i].macs)
            fail_msg("%s: %lld MACs, torchvision's modules %lld", cases[i].arch,
                     (long long)macs, (long long)cases[i].macs);
        bf_model_free(m);
    }
}

/*
 * AlexNet, VGG and SqueezeNet have no BottleFit bottleneck: BF_EUNSUPPORTED
 * naming the family, the model unchanged. The autoencoder and the early
 * exits, which need only the stages' outputs, attach to them.
 */
static void test_shim_plain_stacks_baselines(void **state)
{
    static const struct {
        const char *arch, *family;
    } cases[] = {{"alexnet", "alexnet"},
                 {"vgg11", "vgg"},
                 {"vgg11_bn", "vgg"},
                 {"squeezenet1_0", "squeezenet"}};
    struct bf_bottleneck_params bp = {.version = 2, .channels = 4};
    const int after[2] = {1, 3};
    bf_tensor *logits[BF_MODEL_MAX_EXITS], *x, *y;
    int64_t shape[BF_TENSOR_MAX_DIMS];
    int n = 0, nd = 0, version = -1, channels = -1, split = -1;
    bf_model *m;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m = make(cases[i].arch, 0, 1);
        assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EUNSUPPORTED);
        if (!strstr(bf_last_error(), cases[i].family))
            fail_msg("%s: '%s' does not name the family", cases[i].arch,
                     bf_last_error());
        assert_int_equal(bf_model_bottleneck(m, &version, &channels), 0);
        assert_true(version == 0 && channels == 0);
        assert_int_equal(bf_model_stage_count(m, &n), 0);
        assert_int_equal(n, 6);
        bf_model_free(m);
    }

    /* The autoencoder after stage2 of SqueezeNet 1.1 (256 x 13 x 13 at
     * 224); at 96 the split is 5 x 5, the smallest it accepts. Its new
     * layers start in train mode. */
    m = make("squeezenet1_1", 0, 2);
    assert_int_equal(bf_model_inject_autoencoder(m, 8), 0);
    assert_int_equal(bf_model_set_train(m, 0), 0);
    assert_int_equal(bf_model_stage_count(m, &n), 0);
    assert_int_equal(n, 8);
    assert_int_equal(bf_model_split_stage(m, &split), 0);
    assert_int_equal(split, 3);
    x = randn4(1, 3, 96, 96, 3);
    y = forward(m, x, 0, n - 1);
    assert_int_equal(bf_tensor_shape(y, shape, 8, &nd), 0);
    assert_true(nd == 2 && shape[0] == 1 && shape[1] == 1000);
    bf_tensor_free(y);
    bf_model_free(m);

    /* Early exits after stage1 and stage3 of AlexNet. */
    m = make("alexnet", 0, 3);
    assert_int_equal(bf_model_attach_exits(m, after, 2), 0);
    assert_int_equal(bf_model_set_train(m, 0), 0);
    assert_int_equal(bf_model_forward_exits(m, x, 5, logits, &y), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bf_tensor_shape(logits[i], shape, 8, &nd), 0);
        assert_true(nd == 2 && shape[0] == 1 && shape[1] == 1000);
        bf_tensor_free(logits[i]);
    }
    assert_int_equal(bf_tensor_shape(y, shape, 8, &nd), 0);
    assert_true(nd == 2 && shape[1] == 1000);
    bf_tensor_free(y);
    bf_tensor_free(x);
    bf_model_free(m);
}

static void test_shim_bad_names_and_ranges(void **state)
{
    struct bf_model_params p = {.arch = "resnet153"};
    bf_model *m = NULL;
    bf_tensor *x, *y = NULL;
    int idx = -1;

    (void)state;
    assert_int_equal(bf_model_create(&p, &m), BF_ENOENT);
    assert_null(m);
    assert_non_null(strstr(bf_last_error(), "resnet153"));
    assert_non_null(strstr(bf_last_error(), "resnet152"));

    m = make("resnet_mini", 0, 1);
    assert_int_equal(bf_model_stage_find(m, "stage2", &idx), 0);
    assert_int_equal(idx, 2);
    assert_int_equal(bf_model_stage_find(m, "layer9", &idx), BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), "layer9"));
    x = randn4(1, 1, 28, 28, 1);
    assert_int_equal(bf_model_forward(m, x, 3, 2, &y), BF_ERANGE);
    assert_int_equal(bf_model_forward(m, x, 0, 6, &y), BF_ERANGE);
    assert_int_equal(bf_model_forward(m, x, -1, 2, &y), BF_ERANGE);
    assert_null(y);
    bf_tensor_free(x);
    x = randn4(1, 3, 28, 28, 1);
    assert_int_equal(bf_model_forward(m, x, 0, 5, &y), BF_ESHAPE);
    assert_non_null(strstr(bf_last_error(), "1 x H x W"));
    assert_null(y);
    bf_tensor_free(x);
    p.arch = "resnet_mini";
    p.num_classes = -3;
    assert_int_equal(bf_model_create(&p, &m), BF_ERANGE);
    bf_model_free(m);
    bf_model_free(NULL);
    bf_tensor_free(NULL);
}

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void test_shim_save_load_round_trip(void **state)
{
    char path[512];
    bf_model *a = make("densenet_mini", 0, 11);
    bf_model *b = make("densenet_mini", 0, 12);
    bf_tensor *x = randn4(2, 1, 28, 28, 13);
    bf_tensor *ya, *yb;

    (void)state;
    path_in_tmp(path, sizeof(path), "dm.bfw");
    assert_int_equal(bf_model_save(a, path), 0);
    ya = forward(a, x, 0, 5);
    yb = forward(b, x, 0, 5);
    assert_true(diff(ya, yb) > 0.0);
    bf_tensor_free(yb);
    assert_int_equal(bf_model_load(b, path), 0);
    yb = forward(b, x, 0, 5);
    assert_true(diff(ya, yb) == 0.0);
    bf_tensor_free(ya);
    bf_tensor_free(yb);
    bf_tensor_free(x);
    bf_model_free(a);
    bf_model_free(b);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void *read_all(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    void *data;

    assert_non_null(f);
    *n = file_size(path);
    data = malloc((size_t)*n + 64);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return data;
}

/* The float32 values of entry `name` of a saved BFW1 file (the layout of
 * shim/bf_weights.md); *n their count. NULL when absent. */
static const float *bfw_entry(const unsigned char *p, long size,
                              const char *name, int64_t *n)
{
    uint32_t len, count;
    long at = 4;

    memcpy(&len, p + at, 4);
    at += 4 + (long)len;
    memcpy(&count, p + at, 4);
    at += 4;
    for (uint32_t i = 0; i < count && at < size; i++) {
        uint8_t dtype, ndim;
        int64_t elems = 1;
        int match;

        memcpy(&len, p + at, 4);
        at += 4;
        match = len == strlen(name) && memcmp(p + at, name, len) == 0;
        at += (long)len;
        dtype = p[at];
        ndim = p[at + 1];
        at += 2;
        for (int d = 0; d < ndim; d++) {
            int64_t dim;

            memcpy(&dim, p + at, 8);
            at += 8;
            elems *= dim;
        }
        if (match) {
            *n = elems;
            return dtype == 1 ? (const float *)(p + at) : NULL;
        }
        at += (long)elems * (dtype == 1 ? 4 : 8);
    }
    return NULL;
}

/*
 * The autoencoder's initialisation is HND's (initialize_weights): its
 * encoder's convolutions Kaiming-normal with fan-out and zero bias, the
 * decoder's transposed convolutions PyTorch's default (uniform bias, not
 * zero). The last encoder convolution 32 -> 4, 2x2: fan-out 16, standard
 * deviation sqrt(2 / 16) = 0.354 (the default would give about 0.05).
 */
static void test_shim_autoencoder_init(void **state)
{
    char path[512];
    bf_model *m = make("resnet_mini", 0, 31);
    unsigned char *data;
    const float *v;
    long size;
    int64_t n = 0;
    double sum = 0.0, sq = 0.0, sd;

    (void)state;
    assert_int_equal(bf_model_inject_autoencoder(m, 4), 0);
    path_in_tmp(path, sizeof(path), "ae-init.bfw");
    assert_int_equal(bf_model_save(m, path), 0);
    data = read_all(path, &size);
    v = bfw_entry(data, size, "autoencoder.encoder.0.bias", &n);
    assert_non_null(v);
    assert_int_equal(n, 128);
    for (int64_t i = 0; i < n; i++)
        assert_true(v[i] == 0.0f);
    v = bfw_entry(data, size, "autoencoder.encoder.9.weight", &n);
    assert_non_null(v);
    assert_int_equal(n, 4 * 32 * 2 * 2);
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        sq += (double)v[i] * v[i];
    }
    sd = sqrt(sq / (double)n - (sum / (double)n) * (sum / (double)n));
    if (fabs(sd - sqrt(2.0 / 16.0)) > 0.1 * sqrt(2.0 / 16.0))
        fail_msg("encoder.9 weight sd %g, want about %g", sd, sqrt(2.0 / 16.0));
    v = bfw_entry(data, size, "autoencoder.decoder.0.bias", &n);
    assert_non_null(v);
    sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += fabs(v[i]);
    assert_true(sum > 0.0);
    free(data);
    bf_model_free(m);
}

/* Load path into a fresh resnet_mini and expect code and a detail naming
 * want; the model's outputs must be unchanged by the failed load. */
static void expect_load_error(const char *path, int code, const char *want)
{
    bf_model *m = make("resnet_mini", 0, 21);
    bf_tensor *x = randn4(1, 1, 28, 28, 22);
    bf_tensor *before = forward(m, x, 0, 5), *after;
    int rc = bf_model_load(m, path);

    if (rc != code || !strstr(bf_last_error(), want))
        fail_msg("load %s: got %d '%s', want %d with '%s'", path, rc,
                 bf_last_error(), code, want);
    after = forward(m, x, 0, 5);
    assert_true(diff(before, after) == 0.0);
    bf_tensor_free(before);
    bf_tensor_free(after);
    bf_tensor_free(x);
    bf_model_free(m);
}

static void test_shim_bad_weight_files(void **state)
{
    char good[512], bad[512];
    bf_model *m = make("resnet_mini", 0, 1);
    struct bf_model_params p = {.arch = "resnet_mini", .num_classes = 5};
    bf_model *five = NULL;
    unsigned char *data;
    long n;
    uint32_t meta_len, count;

    (void)state;
    path_in_tmp(good, sizeof(good), "rm.bfw");
    assert_int_equal(bf_model_save(m, good), 0);
    bf_model_free(m);
    data = read_all(good, &n);

    /* Missing file. */
    path_in_tmp(bad, sizeof(bad), "absent.bfw");
    expect_load_error(bad, BF_ENOENT, "absent.bfw");

    /* Foreign file. */
    path_in_tmp(bad, sizeof(bad), "foreign.bfw");
    write_bytes(bad, "PK\3\4 not ours at all", 20);
    expect_load_error(bad, BF_EPARSE, "not a bfbench weights file");

    /* Truncated in the middle of the data. */
    path_in_tmp(bad, sizeof(bad), "truncated.bfw");
    write_bytes(bad, data, (size_t)n / 2);
    expect_load_error(bad, BF_EPARSE, "truncated");

    /* Trailing garbage. */
    path_in_tmp(bad, sizeof(bad), "trailing.bfw");
    memcpy(data + n, "XXXX", 4);
    write_bytes(bad, data, (size_t)n + 4);
    expect_load_error(bad, BF_EPARSE, "unexpected bytes");

    /* Wrong architecture in the header. */
    p.arch = "densenet_mini";
    p.num_classes = 0;
    assert_int_equal(bf_model_create(&p, &five), 0);
    path_in_tmp(bad, sizeof(bad), "densenet.bfw");
    assert_int_equal(bf_model_save(five, bad), 0);
    bf_model_free(five);
    expect_load_error(bad, BF_EPARSE, "architecture 'densenet_mini'");

    /* Wrong shape: the same architecture with 5 classes. */
    p.arch = "resnet_mini";
    p.num_classes = 5;
    assert_int_equal(bf_model_create(&p, &five), 0);
    path_in_tmp(bad, sizeof(bad), "five.bfw");
    assert_int_equal(bf_model_save(five, bad), 0);
    bf_model_free(five);
    expect_load_error(bad, BF_ESHAPE, "'fc.weight' has shape [5, 128]");

    /* Missing parameters: only the first entry kept (count set to 1 and
     * the file cut after that entry). */
    memcpy(&meta_len, data + 4, 4);
    memcpy(&count, data + 8 + meta_len, 4);
    {
        size_t off = 12 + meta_len;
        uint32_t name_len;
        unsigned char ndim;
        uint64_t numel = 1;
        uint32_t one = 1;

        memcpy(&name_len, data + off, 4);
        off += 4 + name_len;
        ndim = data[off + 1];
        off += 2;
        for (int d = 0; d < ndim; d++) {
            int64_t dim;

            memcpy(&dim, data + off, 8);
            numel *= (uint64_t)dim;
            off += 8;
        }
        off += numel * 4;
        memcpy(data + 8 + meta_len, &one, 4);
        path_in_tmp(bad, sizeof(bad), "missing.bfw");
        write_bytes(bad, data, off);
        expect_load_error(bad, BF_EPARSE, "missing parameter 'bn1.weight'");

        /* Unexpected parameter: the whole file plus a copy of the first
         * entry renamed to "extra.weight" (same name length not needed). */
        count += 1;
        memcpy(data + 8 + meta_len, &count, 4);
        {
            unsigned char *big = malloc((size_t)n + off + 64);
            size_t first = off - (12 + meta_len);
            const char *nm = "extra.weight";
            uint32_t nl = (uint32_t)strlen(nm);
            size_t at = (size_t)n;

            assert_non_null(big);
            memcpy(big, data, (size_t)n);
            memcpy(big + at, &nl, 4);
            memcpy(big + at + 4, nm, nl);
            memcpy(big + at + 4 + nl, data + 12 + meta_len + 4 + name_len,
                   first - 4 - name_len);
            at += 4 + nl + first - 4 - name_len;
            path_in_tmp(bad, sizeof(bad), "extra.bfw");
            write_bytes(bad, big, at);
            free(big);
            expect_load_error(bad, BF_EPARSE,
                              "unexpected parameter 'extra.weight'");
        }
    }
    free(data);
}

static void test_shim_threads_and_info(void **state)
{
    int t = 0;
    char info[256];

    (void)state;
    assert_int_equal(bf_torch_set_threads(1), 0);
    assert_int_equal(bf_torch_get_threads(&t), 0);
    assert_int_equal(t, 1);
    assert_int_equal(bf_torch_set_threads(2), 0);
    assert_int_equal(bf_torch_get_threads(&t), 0);
    assert_int_equal(t, 2);
    assert_int_equal(bf_torch_set_threads(-1), BF_ERANGE);
    assert_int_equal(bf_torch_backend_info(info, sizeof(info)), 0);
    assert_non_null(strstr(info, "onednn"));
    /* "1.13.1", "2.11.0+cu130": whichever libtorch was linked. */
    assert_true(bf_torch_version()[0] >= '1' && bf_torch_version()[0] <= '9');
    assert_non_null(strchr(bf_torch_version(), '.'));
}

/* The kernels this process runs, as the platform fingerprint reads them. */
static void test_shim_platform_info(void **state)
{
    char info[4096], tiny[8], want[64];
    int gpu = strcmp(bf_test_device(), "cpu") != 0;

    (void)state;
    assert_int_equal(bf_torch_platform_info(info, sizeof(info)), 0);
    snprintf(want, sizeof(want), "torch.version=%s\n", bf_torch_version());
    assert_non_null(strstr(info, want));
    /* GPU lines exactly where the tests compute on a GPU (a CPU's text,
     * and so its fingerprint, has none). */
    assert_int_equal(strstr(info, "cuda.device0.name=") != NULL, gpu);
    assert_int_equal(strstr(info, "cuda.cudnn=") != NULL, gpu);
    assert_non_null(strstr(info, "torch.cpu_capability="));
    assert_non_null(strstr(info, "onednn.isa="));
    assert_non_null(strstr(info, "blas.core="));
    assert_int_equal(info[strlen(info) - 1], '\n');
    assert_int_equal(bf_torch_platform_info(tiny, sizeof(tiny)), BF_ERANGE);
    assert_int_equal(bf_torch_platform_info(NULL, 1), BF_EINVAL);
}

struct stream_worker {
    bf_model *m;
    const bf_tensor *x;
    bf_tensor *y;
    int rc;
};

static void *stream_worker_main(void *arg)
{
    struct stream_worker *w = arg;

    w->rc = bf_model_bind_thread(w->m);
    if (w->rc == 0)
        w->rc = bf_model_bind_thread(w->m); /* again: the same stream */
    if (w->rc == 0)
        w->rc = bf_model_forward(w->m, w->x, 0, 3, &w->y);
    if (w->rc == 0)
        w->rc = bf_model_sync(w->m);
    return NULL;
}

/*
 * Edge workers: two threads, each bound to its own stream on the test
 * device (nothing on the CPU), compute what the main thread computes, at
 * the same time. Then the peak device memory over the test: -1 on the CPU,
 * at least the weights on a GPU.
 */
static void test_shim_thread_streams_and_peak(void **state)
{
    struct stream_worker w[2];
    pthread_t th[2];
    bf_tensor *x = randn4(4, 1, 28, 28, 3), *want;
    bf_model *ref = make("resnet_mini", 0, 9);
    const char *dev = bf_test_device();
    int64_t bytes = 0, params = 0;

    (void)state;
    assert_int_equal(bf_model_set_train(ref, 0), 0);
    assert_int_equal(bf_torch_peak_memory(dev, 1, &bytes), 0);
    want = forward(ref, x, 0, 3);
    for (int i = 0; i < 2; i++) {
        w[i] = (struct stream_worker){.m = make("resnet_mini", 0, 9), .x = x};
        assert_int_equal(bf_model_set_train(w[i].m, 0), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            pthread_create(&th[i], NULL, stream_worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (w[i].rc)
            fail_msg("worker %d on %s: %s", i, dev, bf_last_error());
        assert_true(diff(w[i].y, want) <= 1e-5);
        bf_tensor_free(w[i].y);
        bf_model_free(w[i].m);
    }
    assert_int_equal(bf_model_param_count(ref, &params), 0);
    assert_int_equal(bf_torch_peak_memory(dev, 0, &bytes), 0);
    print_message("peak memory on %s: %lld bytes (weights %lld)\n", dev,
                  (long long)bytes, (long long)(params * 4));
    if (strcmp(dev, "cpu") == 0)
        assert_int_equal(bytes, -1);
    else
        assert_true(bytes >= params * 4);
    assert_int_equal(bf_model_bind_thread(NULL), BF_EINVAL);
    assert_int_equal(bf_torch_peak_memory("gpu", 0, &bytes), BF_EINVAL);
    assert_int_equal(bf_torch_peak_memory("cpu", 0, NULL), BF_EINVAL);
    bf_tensor_free(want);
    bf_tensor_free(x);
    bf_model_free(ref);
}

/* Per-image predictions agree with the top-k counts. */
static void test_shim_predict(void **state)
{
    static const float logits[3 * 4] = {0.1f, 0.9f, 0.0f, 0.0f,  /* 1 */
                                        2.0f, 1.0f, 3.0f, 0.5f,  /* 2 */
                                        0.0f, 0.1f, 0.2f, 0.3f}; /* 3 */
    const int64_t shape[2] = {3, 4}, lshape[1] = {3};
    const int64_t labels[3] = {1, 0, 2};
    bf_tensor *l = NULL, *y = NULL;
    uint16_t cls[3];
    uint8_t top1[3], top2[3];

    (void)state;
    assert_int_equal(bf_tensor_from_f32(shape, 2, logits, &l), 0);
    assert_int_equal(bf_tensor_from_i64(lshape, 1, labels, &y), 0);
    assert_int_equal(bf_tensor_predict(l, y, 2, cls, top1, top2, 3), 0);
    assert_int_equal(cls[0], 1);
    assert_int_equal(cls[1], 2);
    assert_int_equal(cls[2], 3);
    assert_int_equal(top1[0], 1);
    assert_int_equal(top1[1], 0);
    assert_int_equal(top1[2], 0);
    assert_int_equal(top2[0], 1);
    assert_int_equal(top2[1], 1); /* label 0 is second best */
    assert_int_equal(top2[2], 1); /* label 2 is second best */
    assert_int_equal(bf_tensor_predict(l, y, 2, cls, top1, top2, 2), BF_ESHAPE);
    assert_int_equal(bf_tensor_predict(l, y, 5, cls, top1, top2, 3), BF_ERANGE);
    bf_tensor_free(l);
    bf_tensor_free(y);
}

/*
 * The known-answer checks of the 8-bit path give these digests on every
 * CPU (recorded on an AVX-512 machine; an AVX2-only one must agree): the
 * claim that lets `bfbench compare` hold them exact across platforms.
 */
static void test_shim_known_answers_are_platform_free(void **state)
{
    struct bf_check_row rows[BF_SPLIT_CHECKS];
    char digests[BF_SPLIT_CHECKS][65];

    (void)state;
    assert_int_equal(bf_split_known_answers(rows, digests), 0);
    assert_string_equal(rows[0].name, "quantize_u8");
    assert_string_equal(
        rows[0].value,
        "765d7daec958161b189c887ef9295e662dd4ea9893c12829f98c77b8da362040");
    assert_string_equal(rows[1].name, "dequantize_u8");
    assert_string_equal(
        rows[1].value,
        "35d4a349d2a7ea406d343a08fa345599d4909b1bef8ef530510aba1f43ca4f14");
    assert_string_equal(rows[2].name, "fake_quantize_u8");
    assert_string_equal(
        rows[2].value,
        "6f7c01c5524983e172d81da123c859abfb78765d3b039eec211d4822ab8a9acb");
}

static void test_shim_describe_errors(void **state)
{
    /* DenseNet's transitions halve the size: 8x8 dies in transition2. */
    bf_model *m = make("densenet121", 0, 1);
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    int n = 0;

    (void)state;
    assert_int_equal(bf_model_describe(m, 224, 224, st, 3, &n), BF_ERANGE);
    assert_int_equal(bf_model_describe(m, 8, 8, st, BF_MODEL_MAX_STAGES, &n),
                     BF_ESHAPE);
    assert_non_null(strstr(bf_last_error(), "too small"));
    bf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_shim_every_arch_matches_torchvision,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_stage_shapes_chain, check_leaks),
        cmocka_unit_test_teardown(test_shim_range_forward_equals_whole,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_fold_matches_plain, check_leaks),
        cmocka_unit_test_teardown(test_shim_fold_bf16, check_leaks),
        cmocka_unit_test_teardown(test_shim_plain_stacks_layers, check_leaks),
        cmocka_unit_test_teardown(test_shim_plain_stacks_baselines,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_bad_names_and_ranges, check_leaks),
        cmocka_unit_test_teardown(test_shim_save_load_round_trip, check_leaks),
        cmocka_unit_test_teardown(test_shim_autoencoder_init, check_leaks),
        cmocka_unit_test_teardown(test_shim_bad_weight_files, check_leaks),
        cmocka_unit_test_teardown(test_shim_threads_and_info, check_leaks),
        cmocka_unit_test_teardown(test_shim_describe_errors, check_leaks),
        cmocka_unit_test_teardown(test_shim_platform_info, check_leaks),
        cmocka_unit_test_teardown(test_shim_thread_streams_and_peak,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_predict, check_leaks),
        cmocka_unit_test_teardown(test_shim_known_answers_are_platform_free,
                                  check_leaks),
    };

    bf_test_device_banner("test_shim");
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
