/*
 * Tests of the training half of the shim: BottleFit bottleneck injection
 * (shapes and head sizes from the reference), freezing and per-stage modes,
 * one optimizer step changing exactly the parameters it should, losses,
 * top-k, and the 8-bit bottleneck quantizer.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_test_device.h"

#include "bf_torch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_leaks(void **state)
{
    (void)state;
    assert_int_equal(bf_torch_live_handles(), 0);
    return 0;
}

static bf_model *make(const char *arch, uint64_t seed)
{
    struct bf_model_params p = {.arch = arch, .seed = seed};
    bf_model *m = NULL;

    if (bf_model_create(&p, &m))
        fail_msg("create %s: %s", arch, bf_last_error());
    bf_test_to_device(m);
    return m;
}

static bf_model *student(const char *arch, int version, int channels)
{
    bf_model *m = make(arch, 1);
    struct bf_bottleneck_params bp = {.version = version, .channels = channels};

    if (bf_model_inject_bottleneck(m, &bp))
        fail_msg("inject %s v%d C%d: %s", arch, version, channels,
                 bf_last_error());
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

static void expect_shape(const struct bf_stage_info *st, int64_t c, int64_t h,
                         int64_t w)
{
    if (st->out_ndim != 3 || st->out_shape[0] != c || st->out_shape[1] != h ||
        st->out_shape[2] != w)
        fail_msg("stage %s: %lldx%lldx%lld, want %lldx%lldx%lld", st->name,
                 (long long)st->out_shape[0], (long long)st->out_shape[1],
                 (long long)st->out_shape[2], (long long)c, (long long)h,
                 (long long)w);
}

/* The shapes of the reference's section 2.2 for every placement. */
static void test_shim_train_bottleneck_shapes(void **state)
{
    static const struct {
        const char *arch;
        int version, channels, size;
        int64_t enc[3], dec[3];
    } cases[] = {
        {"resnet152", 2, 12, 224, {12, 29, 29}, {512, 28, 28}},
        {"resnet152", 1, 3, 224, {3, 56, 56}, {512, 28, 28}},
        {"resnet152", 3, 6, 224, {6, 15, 15}, {512, 28, 28}},
        {"densenet169", 2, 9, 224, {9, 29, 29}, {256, 14, 14}},
        {"densenet201", 0, 3, 224, {3, 29, 29}, {256, 14, 14}},
        {"resnet_mini", 2, 3, 28, {3, 8, 8}, {32, 14, 14}},
        {"densenet_mini", 2, 2, 28, {2, 8, 8}, {42, 7, 7}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *m =
            student(cases[i].arch, cases[i].version, cases[i].channels);
        struct bf_stage_info st[BF_MODEL_MAX_STAGES];
        int n = 0, v = 0, c = 0;

        assert_int_equal(bf_model_describe(m, cases[i].size, cases[i].size, st,
                                           BF_MODEL_MAX_STAGES, &n),
                         0);
        assert_int_equal(n, 5);
        assert_string_equal(st[0].name, "encoder");
        assert_string_equal(st[1].name, "decoder");
        assert_string_equal(st[2].name, "stage3");
        expect_shape(&st[0], cases[i].enc[0], cases[i].enc[1], cases[i].enc[2]);
        expect_shape(&st[1], cases[i].dec[0], cases[i].dec[1], cases[i].dec[2]);
        assert_int_equal(bf_model_bottleneck(m, &v, &c), 0);
        assert_int_equal(v, cases[i].version ? cases[i].version : 2);
        assert_int_equal(c, cases[i].channels);
        bf_model_free(m);
    }
}

/*
 * The version-2 encoder: Conv 3->64 k7 (9,408), BN (128), BN (128),
 * Conv 64->C k2 (256 C) parameters; the tail keeps the teacher's weights.
 */
static void test_shim_train_head_size_and_tail(void **state)
{
    bf_model *t = make("resnet152", 1);
    bf_model *s = student("resnet152", 2, 12);
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    bf_tensor *x = randn4(1, 3, 224, 224, 3);
    bf_tensor *mid = NULL, *yt = NULL, *ys = NULL;
    int n = 0, s3 = -1;
    double d = -1;
    int64_t total_t = 0, total_s = 0;

    (void)state;
    assert_int_equal(bf_model_describe(s, 224, 224, st, 16, &n), 0);
    assert_int_equal(st[0].params, 9408 + 128 + 128 + 256 * 12);
    assert_int_equal(bf_model_param_count(t, &total_t), 0);
    assert_int_equal(bf_model_param_count(s, &total_s), 0);
    assert_true(total_s != total_t);
    /* The same layer3 input gives the same logits through both tails. */
    assert_int_equal(bf_model_forward(t, x, 0, 2, &mid), 0);
    assert_int_equal(bf_model_stage_find(s, "stage3", &s3), 0);
    assert_int_equal(bf_model_forward(t, mid, 3, 5, &yt), 0);
    assert_int_equal(bf_model_forward(s, mid, s3, 4, &ys), 0);
    assert_int_equal(bf_tensor_max_abs_diff(yt, ys, &d), 0);
    assert_true(d == 0.0);
    bf_tensor_free(mid);
    bf_tensor_free(yt);
    bf_tensor_free(ys);
    bf_tensor_free(x);
    bf_model_free(s);
    bf_model_free(t);
}

/* The autoencoder of the reference's section 4 at the split of the
 * unmodified model: shapes, the split stage, and exclusivity. */
static void test_shim_train_autoencoder(void **state)
{
    static const struct {
        const char *arch;
        int channels, size;
        int64_t split[3], code[3];
    } cases[] = {
        {"resnet_mini", 4, 28, {32, 14, 14}, {4, 10, 10}},
        {"resnet152", 6, 224, {512, 28, 28}, {6, 24, 24}},
        {"densenet169", 3, 224, {256, 14, 14}, {3, 10, 10}},
    };
    struct bf_bottleneck_params bp = {.channels = 2};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *m = make(cases[i].arch, 1);
        struct bf_stage_info st[BF_MODEL_MAX_STAGES];
        int n = 0, split = -1;

        assert_int_equal(bf_model_split_stage(m, &split), BF_ENOENT);
        assert_int_equal(bf_model_inject_autoencoder(m, cases[i].channels), 0);
        assert_int_equal(bf_model_split_stage(m, &split), 0);
        assert_int_equal(split, 3);
        assert_int_equal(bf_model_describe(m, cases[i].size, cases[i].size, st,
                                           BF_MODEL_MAX_STAGES, &n),
                         0);
        assert_int_equal(n, 8);
        assert_string_equal(st[3].name, "ae_encoder");
        assert_string_equal(st[4].name, "ae_decoder");
        assert_string_equal(st[5].name, "stage3");
        expect_shape(&st[2], cases[i].split[0], cases[i].split[1],
                     cases[i].split[2]);
        expect_shape(&st[3], cases[i].code[0], cases[i].code[1],
                     cases[i].code[2]);
        expect_shape(&st[4], cases[i].split[0], cases[i].split[1],
                     cases[i].split[2]);
        assert_int_equal(bf_model_inject_autoencoder(m, 2), BF_EINVAL);
        assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EINVAL);
        bf_model_free(m);
    }
    {
        bf_model *m = make("densenet_mini", 1); /* split 42x7x7 */

        assert_int_equal(bf_model_inject_autoencoder(m, 2), 0);
        bf_model_free(m);
        m = make("resnet_mini", 1);
        assert_int_equal(bf_model_inject_autoencoder(m, 0), BF_EINVAL);
        bf_model_free(m);
    }
}

/*
 * SPINN-style exits: sizes from the layer shapes (resnet_mini: exit 1 on
 * 16x28x28 = conv 3x3/2 16->32 + BN + linear 32->10; exit 2 on 32x14x14 =
 * 32->64), logits per exit, the split, checkpoints and the errors.
 */
static void test_shim_train_exits(void **state)
{
    bf_model *m = make("resnet_mini", 1);
    struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
    bf_tensor *x = randn4(3, 1, 28, 28, 5);
    bf_tensor *logits[BF_MODEL_MAX_EXITS], *out = NULL;
    struct bf_bottleneck_params bp = {.channels = 2};
    const int after[2] = {1, 2}, backwards[2] = {2, 1}, last[1] = {5};
    int64_t shape[BF_TENSOR_MAX_DIMS];
    int n = -1, nd = 0, split = -1;
    char path[64];

    (void)state;
    assert_int_equal(bf_model_describe_exits(m, 28, 28, ex, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bf_model_attach_exits(m, backwards, 2), BF_EINVAL);
    assert_int_equal(bf_model_attach_exits(m, last, 1), BF_EINVAL);
    assert_int_equal(bf_model_attach_exits(m, after, 0), BF_EINVAL);
    assert_int_equal(bf_model_attach_exits(m, after, 2), 0);
    assert_int_equal(bf_model_attach_exits(m, after, 2), BF_EINVAL);
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EINVAL);
    assert_int_equal(bf_model_split_stage(m, &split), 0);
    assert_int_equal(split, 2);
    assert_int_equal(bf_model_describe_exits(m, 28, 28, ex, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ex[0].after_stage, 1);
    assert_int_equal(ex[0].params, 16 * 32 * 9 + 2 * 32 + 32 * 10 + 10);
    assert_int_equal(ex[0].macs, 14 * 14 * 32 * 16 * 9 + 32 * 10);
    assert_int_equal(ex[1].params, 32 * 64 * 9 + 2 * 64 + 64 * 10 + 10);
    assert_int_equal(ex[1].macs, 7 * 7 * 64 * 32 * 9 + 64 * 10);

    assert_int_equal(bf_model_set_train(m, 0), 0);
    assert_int_equal(bf_model_forward_exits(m, x, 2, logits, &out), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bf_tensor_shape(logits[i], shape, 8, &nd), 0);
        assert_int_equal(nd, 2);
        assert_true(shape[0] == 3 && shape[1] == 10);
        bf_tensor_free(logits[i]);
    }
    assert_null(logits[2]);
    assert_int_equal(bf_tensor_shape(out, shape, 8, &nd), 0);
    assert_true(nd == 4 && shape[1] == 32 && shape[2] == 14);
    bf_tensor_free(out);
    /* Up to stage 1 only the first exit runs. */
    assert_int_equal(bf_model_forward_exits(m, x, 1, logits, NULL), 0);
    assert_non_null(logits[0]);
    assert_null(logits[1]);
    bf_tensor_free(logits[0]);

    /* The exits travel with the checkpoint; a model without them refuses
     * it by name. */
    snprintf(path, sizeof(path), "/tmp/bf_test_exits_%d.bfw", (int)getpid());
    assert_int_equal(bf_model_save(m, path), 0);
    {
        bf_model *again = make("resnet_mini", 9);
        bf_model *plain = make("resnet_mini", 9);
        bf_tensor *a[BF_MODEL_MAX_EXITS], *b[BF_MODEL_MAX_EXITS];
        double diff = 1.0;

        assert_int_equal(bf_model_attach_exits(again, after, 2), 0);
        assert_int_equal(bf_model_load(again, path), 0);
        assert_int_equal(bf_model_set_train(again, 0), 0);
        assert_int_equal(bf_model_forward_exits(m, x, 2, a, NULL), 0);
        assert_int_equal(bf_model_forward_exits(again, x, 2, b, NULL), 0);
        assert_int_equal(bf_tensor_max_abs_diff(a[1], b[1], &diff), 0);
        assert_true(diff == 0.0);
        for (int i = 0; i < 2; i++) {
            bf_tensor_free(a[i]);
            bf_tensor_free(b[i]);
        }
        assert_int_equal(bf_model_load(plain, path), BF_EPARSE);
        assert_non_null(strstr(bf_last_error(), "exits:1,2"));
        assert_int_equal(bf_model_forward_exits(plain, x, 2, a, NULL),
                         BF_EINVAL);
        bf_model_free(again);
        bf_model_free(plain);
    }
    remove(path);
    bf_tensor_free(x);
    bf_model_free(m);
}

/* Per-sample confidence and hits from known logits. */
static void test_shim_train_classify(void **state)
{
    const float lv[6] = {2, 1, 0, 0, 0, 5};
    const int64_t lab[2] = {1, 2}, ls[2] = {2, 3}, ys[1] = {2};
    bf_tensor *logits = NULL, *labels = NULL;
    float conf[2];
    uint8_t t1[2], tk[2];

    (void)state;
    assert_int_equal(bf_tensor_from_f32(ls, 2, lv, &logits), 0);
    assert_int_equal(bf_tensor_from_i64(ys, 1, lab, &labels), 0);
    assert_int_equal(bf_tensor_classify(logits, labels, 2, conf, t1, tk, 2), 0);
    assert_true(fabs(conf[0] - exp(2.0) / (exp(2.0) + exp(1.0) + 1.0)) < 1e-6);
    assert_true(fabs(conf[1] - exp(5.0) / (exp(5.0) + 2.0)) < 1e-6);
    assert_true(t1[0] == 0 && t1[1] == 1);
    assert_true(tk[0] == 1 && tk[1] == 1);
    assert_int_equal(bf_tensor_classify(logits, labels, 4, conf, t1, tk, 2),
                     BF_ERANGE);
    assert_int_equal(bf_tensor_classify(logits, labels, 1, conf, t1, tk, 3),
                     BF_ESHAPE);
    bf_tensor_free(logits);
    bf_tensor_free(labels);
}

static void test_shim_train_bottleneck_errors(void **state)
{
    bf_model *m = make("mobilenet_v2", 1);
    struct bf_bottleneck_params bp = {.version = 2, .channels = 3};

    (void)state;
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EUNSUPPORTED);
    assert_non_null(strstr(bf_last_error(), "mobilenet"));
    bf_model_free(m);
    m = make("densenet_mini", 1);
    bp.version = 1;
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "version 1"));
    bp.version = 2;
    bp.channels = 0;
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EINVAL);
    bp.channels = 4;
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), 0);
    assert_int_equal(bf_model_inject_bottleneck(m, &bp), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "already"));
    bf_model_free(m);
}

/* Teacher weights do not load into a student and vice versa; a student's
 * checkpoint round-trips; the folded path of a student matches. */
static void test_shim_train_student_checkpoints(void **state)
{
    char dir[] = "/tmp/bf_test_train.XXXXXX";
    char tpath[300], spath[300];
    bf_model *t = make("resnet_mini", 1);
    bf_model *s = student("resnet_mini", 2, 3);
    bf_model *s2 = student("resnet_mini", 2, 3);
    bf_tensor *x = randn4(2, 1, 28, 28, 5), *a = NULL, *b = NULL;
    struct bf_infer_params ip = {.fold_bn = 1};
    double d = -1;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(tpath, sizeof(tpath), "%s/t.bfw", dir);
    snprintf(spath, sizeof(spath), "%s/s.bfw", dir);
    assert_int_equal(bf_model_save(t, tpath), 0);
    assert_int_equal(bf_model_save(s, spath), 0);
    assert_int_equal(bf_model_load(s2, tpath), BF_EPARSE);
    assert_non_null(strstr(bf_last_error(), "bottleneck"));
    assert_int_equal(bf_model_load(t, spath), BF_EPARSE);
    assert_int_equal(bf_model_load(s2, spath), 0);
    assert_int_equal(bf_model_forward(s, x, 0, 4, &a), 0);
    assert_int_equal(bf_model_set_inference(s2, &ip), 0);
    assert_int_equal(bf_model_forward(s2, x, 0, 4, &b), 0);
    assert_int_equal(bf_tensor_max_abs_diff(a, b, &d), 0);
    assert_true(d <= 1e-4);
    bf_tensor_free(a);
    bf_tensor_free(b);
    bf_tensor_free(x);
    bf_model_free(t);
    bf_model_free(s);
    bf_model_free(s2);
    unlink(tpath);
    unlink(spath);
    rmdir(dir);
}

static void fingerprints(const bf_model *m, int with_buffers, uint64_t *fp,
                         int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(bf_model_stage_fingerprint(m, i, with_buffers, &fp[i]),
                         0);
}

/*
 * One optimizer step trains exactly the unfrozen stages: frozen parameters
 * stay bit-identical; with frozen stages in eval mode their BatchNorm
 * statistics stay too, in train mode they move.
 */
static void test_shim_train_step_changes_only_trainable(void **state)
{
    (void)state;
    for (int frozen_bn_train = 0; frozen_bn_train <= 1; frozen_bn_train++) {
        bf_model *s = student("resnet_mini", 2, 3);
        bf_model *t = make("resnet_mini", 1);
        struct bf_optim_params op = {.kind = "adam", .lr = 1e-3};
        bf_optim *o = NULL;
        bf_tensor *x = randn4(8, 1, 28, 28, 9);
        bf_tensor *so[5] = {0}, *to[6] = {0}, *loss = NULL;
        uint64_t before[5], after[5], bbuf[5], abuf[5];
        int64_t trainable = 0;

        /* Stage 1 of BottleFit: only the bottleneck trains. */
        assert_int_equal(bf_model_freeze_stages(s, 2, 4, 1), 0);
        assert_int_equal(bf_model_set_train(s, 1), 0);
        assert_int_equal(bf_model_set_train_stages(s, 2, 4, frozen_bn_train),
                         0);
        assert_int_equal(bf_model_trainable_count(s, &trainable), 0);
        assert_true(trainable > 0);
        assert_int_equal(bf_optim_create(s, &op, &o), 0);
        fingerprints(s, 0, before, 5);
        fingerprints(s, 1, bbuf, 5);
        assert_int_equal(bf_model_forward_all(s, x, 0, 4, so), 0);
        assert_int_equal(bf_model_forward_all(t, x, 0, 5, to), 0);
        /* Decoder output against the teacher's stage2 output. */
        assert_int_equal(bf_loss_mse_sum(so[1], to[2], &loss), 0);
        assert_int_equal(bf_optim_zero_grad(o), 0);
        assert_int_equal(bf_tensor_backward(loss), 0);
        assert_int_equal(bf_optim_step(o), 0);
        fingerprints(s, 0, after, 5);
        fingerprints(s, 1, abuf, 5);
        assert_true(before[0] != after[0]);
        assert_true(before[1] != after[1]);
        for (int i = 2; i < 5; i++)
            assert_true(before[i] == after[i]);
        /* stage3's BatchNorm statistics move only in train mode. */
        assert_int_equal(bbuf[2] != abuf[2], frozen_bn_train);
        bf_tensor_free(loss);
        for (int i = 0; i < 5; i++)
            bf_tensor_free(so[i]);
        for (int i = 0; i < 6; i++)
            bf_tensor_free(to[i]);
        bf_tensor_free(x);
        bf_optim_free(o);
        bf_model_free(t);
        bf_model_free(s);
    }
}

/*
 * bf16 autocast in training: a BottleFit stage-1 step trains under it
 * (outputs fp32, losses fp32, gradients reach the bottleneck), its forward
 * stays within 5 % of fp32's and differs from it (bf16 really ran); the
 * exits run in the folded bf16 path too; fp16 autocast is refused.
 */
static void test_shim_train_autocast_bf16(void **state)
{
    bf_model *s = student("resnet_mini", 2, 3);
    bf_model *t = make("resnet_mini", 1);
    struct bf_optim_params op = {.kind = "adam", .lr = 1e-3};
    bf_optim *o = NULL;
    bf_tensor *x = randn4(8, 1, 28, 28, 9);
    bf_tensor *so[5] = {0}, *to[6] = {0}, *ref[5] = {0}, *loss = NULL;
    uint64_t before[5], after[5];
    double d = -1.0, m = -1.0, v = 0.0;

    (void)state;
    assert_int_equal(bf_model_set_autocast(s, BF_PRECISION_FP16),
                     BF_EUNSUPPORTED);
    assert_non_null(strstr(bf_last_error(), "gradient scaler"));
    assert_int_equal(bf_model_freeze_stages(s, 2, 4, 1), 0);
    assert_int_equal(bf_model_set_train(s, 0), 0);
    assert_int_equal(bf_model_forward_all(s, x, 0, 4, ref), 0);
    assert_int_equal(bf_model_set_autocast(s, BF_PRECISION_BF16), 0);
    assert_int_equal(bf_model_forward_all(s, x, 0, 4, so), 0);
    assert_int_equal(bf_tensor_max_abs_diff(ref[4], so[4], &d), 0);
    {
        /* Stage by stage (the outputs handed out fp32, the chain kept
         * in bf16) as one forward over the range. */
        bf_tensor *whole = NULL;
        double w = -1.0;

        assert_int_equal(bf_model_forward(s, x, 0, 4, &whole), 0);
        assert_int_equal(bf_tensor_max_abs_diff(whole, so[4], &w), 0);
        assert_true(w == 0.0);
        bf_tensor_free(whole);
    }
    {
        bf_tensor *zero = NULL;
        int64_t shape[2] = {8, 10};

        assert_int_equal(bf_tensor_from_f32(shape, 2, NULL, &zero), 0);
        assert_int_equal(bf_tensor_max_abs_diff(ref[4], zero, &m), 0);
        bf_tensor_free(zero);
    }
    if (!(d > 1e-6 * m && d < 5e-2 * m))
        fail_msg("autocast bf16 logits: max diff %g of max %g", d, m);
    for (int i = 0; i < 5; i++) {
        bf_tensor_free(so[i]);
        bf_tensor_free(ref[i]);
    }
    assert_int_equal(bf_model_set_train(s, 1), 0);
    assert_int_equal(bf_model_set_train_stages(s, 2, 4, 0), 0);
    assert_int_equal(bf_optim_create(s, &op, &o), 0);
    fingerprints(s, 0, before, 5);
    assert_int_equal(bf_model_forward_all(s, x, 0, 4, so), 0);
    assert_int_equal(bf_model_forward_all(t, x, 0, 5, to), 0);
    assert_int_equal(bf_loss_mse_sum(so[1], to[2], &loss), 0);
    assert_int_equal(bf_tensor_item(loss, &v), 0);
    assert_true(v > 0.0 && v < 1e12);
    assert_int_equal(bf_optim_zero_grad(o), 0);
    assert_int_equal(bf_tensor_backward(loss), 0);
    assert_int_equal(bf_optim_step(o), 0);
    fingerprints(s, 0, after, 5);
    assert_true(before[0] != after[0]);
    assert_true(before[1] != after[1]);
    for (int i = 2; i < 5; i++)
        assert_true(before[i] == after[i]);
    bf_tensor_free(loss);
    for (int i = 0; i < 5; i++)
        bf_tensor_free(so[i]);
    for (int i = 0; i < 6; i++)
        bf_tensor_free(to[i]);
    bf_optim_free(o);
    /* SPINN's exits in the folded bf16 path, against fp32. */
    {
        bf_model *e = make("resnet_mini", 1);
        const int after_stages[2] = {1, 2};
        struct bf_infer_params fp = {.fold_bn = 1};
        struct bf_infer_params bf = {.fold_bn = 1,
                                     .precision = BF_PRECISION_BF16};
        bf_tensor *a[BF_MODEL_MAX_EXITS], *b[BF_MODEL_MAX_EXITS];

        assert_int_equal(bf_model_attach_exits(e, after_stages, 2), 0);
        assert_int_equal(bf_model_set_inference(e, &fp), 0);
        assert_int_equal(bf_model_forward_exits(e, x, 2, a, NULL), 0);
        assert_int_equal(bf_model_set_inference(e, &bf), 0);
        assert_int_equal(bf_model_forward_exits(e, x, 2, b, NULL), 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(bf_tensor_max_abs_diff(a[i], b[i], &d), 0);
            assert_true(d > 0.0 && d < 0.5);
            bf_tensor_free(a[i]);
            bf_tensor_free(b[i]);
        }
        bf_model_free(e);
    }
    bf_tensor_free(x);
    bf_model_free(t);
    bf_model_free(s);
}

static void test_shim_train_optim_errors(void **state)
{
    bf_model *m = make("resnet_mini", 1);
    struct bf_optim_params op = {.kind = "rmsprop", .lr = 1e-3};
    bf_optim *o = NULL;

    (void)state;
    assert_int_equal(bf_optim_create(m, &op, &o), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "rmsprop"));
    op.kind = "sgd";
    op.lr = 0;
    assert_int_equal(bf_optim_create(m, &op, &o), BF_ERANGE);
    op.lr = 0.1;
    assert_int_equal(bf_model_freeze_stages(m, 0, 5, 1), 0);
    assert_int_equal(bf_optim_create(m, &op, &o), BF_EINVAL);
    assert_int_equal(bf_model_freeze_stages(m, 0, 9, 1), BF_ERANGE);
    assert_int_equal(bf_model_freeze_stages(m, 5, 5, 0), 0);
    assert_int_equal(bf_optim_create(m, &op, &o), 0);
    assert_int_equal(bf_optim_set_lr(o, 0.01), 0);
    assert_int_equal(bf_optim_set_lr(o, -1), BF_EINVAL);
    bf_optim_free(o);
    bf_optim_free(NULL);
    bf_model_free(m);
}

static bf_tensor *f32(const int64_t *shape, int nd, const float *v)
{
    bf_tensor *t = NULL;

    assert_int_equal(bf_tensor_from_f32(shape, nd, v, &t), 0);
    return t;
}

static double item(bf_tensor *t)
{
    double v = NAN;

    assert_int_equal(bf_tensor_item(t, &v), 0);
    bf_tensor_free(t);
    return v;
}

static void test_shim_train_losses(void **state)
{
    const int64_t s2[2] = {2, 3}, s1[1] = {2};
    const float a[6] = {1, 2, 3, 0.5f, 0, 0}, b[6] = {1, 0, 3, 1, 1, 1};
    const int64_t lab[2] = {2, 1};
    bf_tensor *ta = f32(s2, 2, a), *tb = f32(s2, 2, b), *tl = NULL;
    bf_tensor *out = NULL;
    int64_t correct = 0;
    double ce, expect;

    (void)state;
    assert_int_equal(bf_tensor_from_i64(s1, 1, lab, &tl), 0);
    assert_int_equal(bf_loss_mse_sum(ta, tb, &out), 0);
    assert_float_equal(item(out), 4.0 + 0.25 + 1.0 + 1.0, 1e-6);
    /* CE by hand: -log softmax(a)[label], batch mean. */
    expect =
        (-(3 - log(exp(1) + exp(2) + exp(3))) - (0 - log(exp(0.5) + 2.0))) / 2;
    assert_int_equal(bf_loss_cross_entropy(ta, tl, &out), 0);
    ce = item(out);
    assert_float_equal(ce, expect, 1e-6);
    /* KD with alpha 1 is CE; against itself with alpha 0 it is 0. */
    assert_int_equal(bf_loss_kd(ta, tb, tl, 1.0, 1.0, &out), 0);
    assert_float_equal(item(out), ce, 1e-6);
    assert_int_equal(bf_loss_kd(ta, ta, tl, 1.0, 0.0, &out), 0);
    assert_float_equal(item(out), 0.0, 1e-6);
    assert_int_equal(bf_loss_kd(ta, tb, tl, 0.0, 0.5, &out), BF_ERANGE);
    assert_int_equal(bf_tensor_topk_correct(ta, tl, 1, &correct), 0);
    assert_int_equal(correct, 1); /* row 0 right, row 1 wrong */
    assert_int_equal(bf_tensor_topk_correct(ta, tl, 3, &correct), 0);
    assert_int_equal(correct, 2);
    assert_int_equal(bf_tensor_topk_correct(ta, tl, 4, &correct), BF_ERANGE);
    assert_int_equal(bf_loss_cross_entropy(ta, ta, &out), BF_ESHAPE);
    bf_tensor_free(ta);
    bf_tensor_free(tb);
    bf_tensor_free(tl);
}

/* The quantizer's loops equal the torch-op fake quantizer bit for bit. */
static void test_shim_train_quantizer_matches_torch_ops(void **state)
{
    enum { N = 16 * 32 * 32 };
    static uint8_t q[N];
    static float a[N], b[N];
    int64_t shape[4] = {1, 16, 32, 32};

    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        bf_tensor *x = randn4(1, 16, 32, 32, seed), *fake = NULL, *back = NULL;
        float scale;
        int zp;

        assert_int_equal(bf_tensor_fake_quantize_u8(x, &fake), 0);
        assert_int_equal(bf_tensor_quantize_u8(x, q, N, &scale, &zp), 0);
        assert_int_equal(bf_tensor_dequantize_u8(q, shape, 4, scale, zp, &back),
                         0);
        assert_int_equal(bf_tensor_copy_f32(fake, a, N), 0);
        assert_int_equal(bf_tensor_copy_f32(back, b, N), 0);
        assert_memory_equal(a, b, sizeof(a));
        bf_tensor_free(x);
        bf_tensor_free(fake);
        bf_tensor_free(back);
    }
}

/* The test's own quantizer: the reference formula (section 2.3), dividing
 * (recip 0) or multiplying by the reciprocal (recip 1, what CUDA does for a
 * host scalar divisor). */
static uint8_t ref_code(float x, float s, int z, int recip)
{
    float y = (float)z + (recip ? x * (1.0f / s) : x / s);

    y = y < 0.0f ? 0.0f : y > 255.0f ? 255.0f : y;
    return (uint8_t)nearbyintf(y); /* ties to even, the default mode */
}

static void ref_params(float lo, float hi, float *s, int *z)
{
    int zi;

    *s = (hi - lo) / 255.0f;
    zi = (int)(-lo / *s);
    *z = zi < 0 ? 0 : zi > 255 ? 255 : zi;
}

/*
 * Rounding ties: values at (and one or two floats beside) the midpoints
 * between codes, where dividing and multiplying by the reciprocal round
 * differently for some of them. Every quantizer path (the host loops, the
 * torch-op rows path, both on the test device, the fake quantizer) must
 * give the dividing reference's codes; the test first checks that its
 * inputs really contain values the reciprocal would move.
 */
static void test_shim_train_quantizer_ties(void **state)
{
    enum { N = 4096, ROWS = 3 };
    static float x[ROWS * N], back[ROWS * N];
    static uint8_t want[ROWS * N], got[ROWS * N];
    static const float his[ROWS] = {0.7f, 2.9f, 3.14159f};
    float scales[ROWS], s_one;
    int zps[ROWS], z_one, moved = 0, ties = 0;
    int64_t shape[2] = {ROWS, N}, one[2] = {1, N};
    const char *dev = bf_test_device();
    bf_tensor *host = NULL, *on_dev = NULL, *row = NULL, *fake = NULL;

    (void)state;
    for (int r = 0; r < ROWS; r++) {
        float *v = x + r * N, s, lo = -1.0f - (float)r;
        int z, i = 2;

        ref_params(lo, his[r], &s, &z);
        v[0] = lo;
        v[1] = his[r];
        for (int k = 0; k < 255 && i + 5 <= N; k++) {
            float mid = ((float)k + 0.5f - (float)z) * s;

            for (int d = -2; d <= 2; d++) {
                float c = mid;

                for (int j = 0; j < (d < 0 ? -d : d); j++)
                    c = nextafterf(c, d < 0 ? -INFINITY : INFINITY);
                if (c < lo || c > his[r])
                    c = 0.0f;
                v[i++] = c;
            }
        }
        for (; i < N; i++)
            v[i] = 0.25f;
        for (i = 0; i < N; i++) {
            float y = (float)z + v[i] / s;

            want[r * N + i] = ref_code(v[i], s, z, 0);
            moved += want[r * N + i] != ref_code(v[i], s, z, 1);
            ties += y == floorf(y) + 0.5f;
        }
    }
    print_message("quantizer ties: %d exact ties, %d codes a reciprocal "
                  "would move (device %s)\n",
                  ties, moved, dev);
    assert_true(ties > 100);
    assert_true(moved > 0);

    assert_int_equal(bf_tensor_from_f32(shape, 2, x, &host), 0);
    assert_int_equal(bf_tensor_to_device(host, dev, &on_dev), 0);
    for (int pass = 0; pass < 2; pass++) {
        bf_tensor *t = pass ? on_dev : host;

        memset(got, 0, sizeof(got));
        assert_int_equal(
            bf_tensor_quantize_u8_rows(t, got, ROWS * N, scales, zps, ROWS), 0);
        assert_memory_equal(got, want, sizeof(want));
        for (int r = 0; r < ROWS; r++) {
            float s;
            int z;

            ref_params(-1.0f - (float)r, his[r], &s, &z);
            assert_memory_equal(&scales[r], &s, sizeof(s));
            assert_int_equal(zps[r], z);
        }
        /* bf_tensor_quantize_u8, one sample: host loops or device ops. */
        assert_int_equal(bf_tensor_from_f32(one, 2, x + N, &row), 0);
        if (pass) {
            bf_tensor *moved_row = NULL;

            assert_int_equal(bf_tensor_to_device(row, dev, &moved_row), 0);
            bf_tensor_free(row);
            row = moved_row;
        }
        memset(got, 0, N);
        assert_int_equal(bf_tensor_quantize_u8(row, got, N, &s_one, &z_one), 0);
        assert_memory_equal(got, want + N, N);
        assert_int_equal(z_one, zps[1]);
        bf_tensor_free(row);
        row = NULL;
        /* The fake quantizer: the same codes, dequantized. */
        assert_int_equal(bf_tensor_fake_quantize_u8(t, &fake), 0);
        assert_int_equal(bf_tensor_copy_f32(fake, back, ROWS * N), 0);
        for (int i = 0; i < ROWS * N; i++) {
            float d = scales[i / N] * ((float)want[i] - (float)zps[i / N]);

            if (memcmp(&back[i], &d, sizeof(d)) != 0)
                fail_msg("fake quantizer, element %d: %.9g, want %.9g", i,
                         (double)back[i], (double)d);
        }
        bf_tensor_free(fake);
        fake = NULL;
    }
    assert_int_equal(
        bf_tensor_quantize_u8_rows(host, got, ROWS * N - 1, scales, zps, ROWS),
        BF_ESHAPE);
    assert_int_equal(
        bf_tensor_quantize_u8_rows(host, got, ROWS * N, scales, zps, 2),
        BF_ESHAPE);
    assert_int_equal(bf_tensor_to_device(host, "gpu", &row), BF_EINVAL);
    bf_tensor_free(host);
    bf_tensor_free(on_dev);
}

/* Quantize/dequantize round trip: error at most scale / 2; a constant is
 * exact; the fake quantizer equals per-sample quantization. */
static void test_shim_train_quantizer(void **state)
{
    bf_tensor *x = randn4(3, 4, 5, 5, 11);
    uint8_t q[100];
    float scale = 0;
    int zp = -1;
    int64_t one[4] = {1, 4, 5, 5};
    bf_tensor *fake = NULL;

    (void)state;
    assert_int_equal(bf_tensor_fake_quantize_u8(x, &fake), 0);
    for (int i = 0; i < 3; i++) {
        float xs[100], fs[300];
        bf_tensor *xi, *back = NULL;
        float vals[300];
        double d = -1;

        assert_int_equal(bf_tensor_copy_f32(x, vals, 300), 0);
        memcpy(xs, vals + 100 * i, sizeof(xs));
        xi = f32(one, 4, xs);
        assert_int_equal(bf_tensor_quantize_u8(xi, q, 100, &scale, &zp), 0);
        assert_true(scale > 0 && zp >= 0 && zp <= 255);
        assert_int_equal(bf_tensor_dequantize_u8(q, one, 4, scale, zp, &back),
                         0);
        assert_int_equal(bf_tensor_max_abs_diff(xi, back, &d), 0);
        assert_true(d <= scale * (1 + 1e-5));
        /*
         * Within the grid the error is at most scale / 2. The reference's
         * zero point truncates (int(-min / scale)), so values within one
         * step of the minimum can clip to q = 0 with an error up to one
         * scale: the bound the published quantizer really has.
         */
        assert_int_equal(bf_tensor_copy_f32(back, vals, 100), 0);
        for (int k = 0; k < 100; k++) {
            double err = fabs((double)vals[k] - (double)xs[k]);

            if ((double)zp + (double)xs[k] / scale >= -0.5 &&
                !(err <= scale / 2 * (1 + 1e-4)))
                fail_msg("sample %d element %d: error %g > scale/2 %g", i, k,
                         err, scale / 2.0);
        }
        assert_int_equal(bf_tensor_copy_f32(fake, fs, 300), 0);
        assert_int_equal(bf_tensor_copy_f32(back, vals, 100), 0);
        for (int k = 0; k < 100; k++)
            assert_float_equal(fs[100 * i + k], vals[k], 1e-6);
        bf_tensor_free(back);
        bf_tensor_free(xi);
    }
    {
        float c[100];
        bf_tensor *ct, *back = NULL;
        double d = -1;

        for (int k = 0; k < 100; k++)
            c[k] = -2.5f;
        ct = f32(one, 4, c);
        assert_int_equal(bf_tensor_quantize_u8(ct, q, 100, &scale, &zp), 0);
        assert_int_equal(bf_tensor_dequantize_u8(q, one, 4, scale, zp, &back),
                         0);
        assert_int_equal(bf_tensor_max_abs_diff(ct, back, &d), 0);
        assert_true(d < 1e-6);
        assert_int_equal(bf_tensor_quantize_u8(ct, q, 99, &scale, &zp),
                         BF_ESHAPE);
        assert_int_equal(bf_tensor_dequantize_u8(q, one, 4, 0.0f, 0, &back),
                         BF_ERANGE);
        bf_tensor_free(back);
        bf_tensor_free(ct);
    }
    bf_tensor_free(fake);
    bf_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_shim_train_bottleneck_shapes,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_head_size_and_tail,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_bottleneck_errors,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_autoencoder, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_exits, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_autocast_bf16, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_classify, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_student_checkpoints,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_step_changes_only_trainable,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_optim_errors, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_losses, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_quantizer, check_leaks),
        cmocka_unit_test_teardown(test_shim_train_quantizer_matches_torch_ops,
                                  check_leaks),
        cmocka_unit_test_teardown(test_shim_train_quantizer_ties, check_leaks),
    };

    bf_torch_set_threads(2);
    bf_test_device_banner("test_shim_train");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
