/*
 * Tests of bf_train: the strategy table, one step of every strategy
 * changing exactly the stages it should (frozen ones bit-identical), and a
 * tiny end-to-end teacher + BottleFit run on Fashion-MNIST that must land
 * well above chance in seconds, in fp32 and with the 8-bit bottleneck.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bf_test_device.h"

#include "bf_dataset.h"
#include "bf_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct bf_dataset *train_ds, *test_ds;
static uint32_t *train_idx, *val_idx;
static size_t n_train, n_val;
static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    bf_torch_set_threads(2);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bf_test_train.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    if (bf_dataset_open_fmnist(NULL, 1, &train_ds) ||
        bf_dataset_open_fmnist(NULL, 0, &test_ds)) {
        fprintf(stderr, "Fashion-MNIST: %s\n", bf_last_error());
        return -1;
    }
    return bf_dataset_split(60000, 0.1, 1, &train_idx, &n_train, &val_idx,
                            &n_val);
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    bf_dataset_close(train_ds);
    bf_dataset_close(test_ds);
    free(train_idx);
    free(val_idx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 && bf_torch_live_handles() == 0 ? 0 : -1;
}

static void test_train_strategy_table(void **state)
{
    struct bf_train_phase ph[2];
    size_t n = 0;

    (void)state;
    assert_int_equal(bf_train_strategy("bottlefit", 0, 5, ph, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ph[0].loss, BF_TRAIN_LOSS_GHND);
    assert_int_equal(ph[0].train_first, 0);
    assert_int_equal(ph[0].train_last, 1);
    assert_string_equal(ph[0].schedule.optimizer, "adam");
    assert_int_equal(ph[1].loss, BF_TRAIN_LOSS_KD);
    assert_int_equal(ph[1].train_first, 1); /* encoder frozen */
    assert_string_equal(ph[1].schedule.optimizer, "sgd");
    assert_true(ph[1].schedule.weight_decay == 5e-4);
    assert_int_equal(bf_train_strategy("ghnd-ft", 0, 5, ph, &n), 0);
    assert_int_equal(ph[1].loss, BF_TRAIN_LOSS_CE);
    assert_int_equal(ph[1].train_first, 0);
    assert_int_equal(bf_train_strategy("ghnd-ft", 1, 5, ph, &n), 0);
    assert_int_equal(ph[1].train_first, 1);
    assert_int_equal(bf_train_strategy("naive", 0, 5, ph, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ph[0].schedule.epochs, 20);
    assert_int_equal(ph[0].schedule.batch, 32);
    assert_int_equal(bf_train_strategy("hnd", 0, 5, ph, &n), 0);
    assert_int_equal(ph[0].loss, BF_TRAIN_LOSS_HND);
    assert_int_equal(bf_train_strategy("ghnd", 0, 5, ph, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bf_train_strategy("ae-split", 0, 8, ph, &n), 0);
    assert_int_equal(ph[0].loss, BF_TRAIN_LOSS_RECON);
    assert_int_equal(ph[0].train_first, 3);
    assert_int_equal(ph[0].train_last, 4);
    assert_int_equal(bf_train_strategy("distill", 0, 5, ph, &n), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "ghnd-kd"));
}

static bf_model *model(const char *arch, int channels)
{
    struct bf_model_params p = {.arch = arch, .seed = 3};
    struct bf_bottleneck_params bp = {.channels = channels};
    bf_model *m = NULL;

    assert_int_equal(bf_model_create(&p, &m), 0);
    bf_test_to_device(m);
    if (channels)
        assert_int_equal(bf_model_inject_bottleneck(m, &bp), 0);
    return m;
}

static void fingerprints(const bf_model *m, int buffers, uint64_t fp[5])
{
    for (int i = 0; i < 5; i++)
        assert_int_equal(bf_model_stage_fingerprint(m, i, buffers, &fp[i]), 0);
}

/*
 * One batch of phase ph of student s (teacher t) as its own training run,
 * so that best-epoch selection cannot hide it; which of its five stages
 * changed (their weights, and with buffers their BatchNorm statistics
 * too) must be expect[]; `what` names the case in a failure.
 */
static void one_step(bf_model *s, bf_model *t, struct bf_train_phase *ph,
                     int frozen_bn_train, int buffers, const char *what,
                     const int expect[5])
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 64,
                                   .val_idx = val_idx,
                                   .n_val = 64};
    struct bf_train_params p = {.split = &split,
                                .student = s,
                                .teacher = t,
                                .phases = ph,
                                .n_phases = 1,
                                .frozen_bn_train = frozen_bn_train,
                                .kd_temperature = 1.0,
                                .kd_alpha = 0.5,
                                .seed = 1};
    uint64_t before[5], after[5];
    struct bf_train_result res;
    char ckpt[128];

    snprintf(ckpt, sizeof(ckpt), "%s/step.bfw", tmpdir);
    p.checkpoint_path = ckpt;
    ph->schedule.epochs = 1;
    ph->schedule.batch = 32;
    ph->schedule.max_batches = 1;
    fingerprints(s, buffers, before);
    if (bf_train_run(&p, &res))
        fail_msg("%s: %s", what, bf_last_error());
    fingerprints(s, buffers, after);
    for (int j = 0; j < 5; j++)
        if ((before[j] != after[j]) != expect[j])
            fail_msg("%s phase %s: stage %d %s", what, ph->name, j,
                     expect[j] ? "did not change" : "changed but is frozen");
}

/*
 * One batch of each phase of each strategy, run as its own training run so
 * that best-epoch selection cannot hide it: which of encoder, decoder,
 * stage3, stage4 and classifier the phase may change.
 */
static void test_train_one_step_per_strategy(void **state)
{
    static const int all[5] = {1, 1, 1, 1, 1}, head[5] = {1, 1, 0, 0, 0},
                     no_enc[5] = {0, 1, 1, 1, 1};
    static const struct {
        const char *name;
        int fe;
        const int *changes[2];
    } cases[] = {
        {"naive", 0, {all}},
        {"kd", 0, {all}},
        {"hnd", 0, {head}},
        {"ghnd", 0, {head}},
        {"ghnd-ft", 0, {head, all}},
        {"ghnd-ft", 1, {head, no_enc}},
        {"ghnd-kd", 0, {head, all}},
        {"ghnd-kd", 1, {head, no_enc}},
        {"bottlefit", 0, {head, no_enc}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *t = model("resnet_mini", 0);
        bf_model *s = model("resnet_mini", 2);
        struct bf_train_phase ph[2];
        size_t n = 0;
        char what[64];

        assert_int_equal(
            bf_train_strategy(cases[i].name, cases[i].fe, 5, ph, &n), 0);
        snprintf(what, sizeof(what), "%s fe=%d", cases[i].name, cases[i].fe);
        for (size_t k = 0; k < n; k++)
            one_step(s, t, &ph[k], 1, 0, what, cases[i].changes[k]);
        bf_model_free(s);
        bf_model_free(t);
    }
}

/* The autoencoder baseline trains only the autoencoder's two stages; the
 * teacher's head and tail keep their BatchNorm statistics too (the head
 * runs in eval mode, the tail not at all, as in the published runner),
 * frozen_bn_train notwithstanding. */
static void test_train_autoencoder_step(void **state)
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 64,
                                   .val_idx = val_idx,
                                   .n_val = 64};
    struct bf_model_params mp = {.arch = "resnet_mini", .seed = 3};
    bf_model *s = NULL;
    struct bf_train_phase ph[2];
    size_t n = 0;
    uint64_t before[8], after[8];
    struct bf_train_result res;
    char ckpt[128];

    (void)state;
    snprintf(ckpt, sizeof(ckpt), "%s/ae.bfw", tmpdir);
    assert_int_equal(bf_model_create(&mp, &s), 0);
    bf_test_to_device(s);
    assert_int_equal(bf_model_inject_autoencoder(s, 4), 0);
    assert_int_equal(bf_train_strategy("ae-split", 0, 8, ph, &n), 0);
    ph[0].schedule.epochs = 1;
    ph[0].schedule.max_batches = 2;
    for (int i = 0; i < 8; i++)
        assert_int_equal(bf_model_stage_fingerprint(s, i, 1, &before[i]), 0);
    {
        struct bf_train_params p = {.split = &split,
                                    .student = s,
                                    .phases = ph,
                                    .n_phases = 1,
                                    .frozen_bn_train = 1,
                                    .seed = 1,
                                    .checkpoint_path = ckpt};

        assert_int_equal(bf_train_run(&p, &res), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(bf_model_stage_fingerprint(s, i, 1, &after[i]), 0);
        if ((before[i] != after[i]) != (i == 3 || i == 4))
            fail_msg("autoencoder step: stage %d %s", i,
                     i == 3 || i == 4 ? "did not change" : "changed");
    }
    bf_model_free(s);
}

/*
 * spinn-split trains only the exits: every stage of the backbone, its
 * BatchNorm statistics included, stays bit-identical (even with
 * frozen_bn_train set), while the exits' logits change.
 */
static void test_train_spinn_exits_only(void **state)
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 64,
                                   .val_idx = val_idx,
                                   .n_val = 64};
    const int after[2] = {1, 2};
    bf_model *s = model("resnet_mini", 0);
    struct bf_train_phase ph[2];
    struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
    size_t n = 0;
    uint64_t before[6], later[6];
    int64_t trainable = 0;
    int n_ex = 0;
    struct bf_train_result res;
    bf_tensor *x = NULL, *a[BF_MODEL_MAX_EXITS], *b[BF_MODEL_MAX_EXITS];
    int64_t shape[4] = {4, 1, 28, 28};
    double diff = 0.0;
    char ckpt[128];

    (void)state;
    snprintf(ckpt, sizeof(ckpt), "%s/spinn.bfw", tmpdir);
    assert_int_equal(bf_model_attach_exits(s, after, 2), 0);
    assert_int_equal(bf_train_strategy("spinn-split", 0, 6, ph, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ph[0].loss, BF_TRAIN_LOSS_EXITS);
    ph[0].schedule.epochs = 1;
    ph[0].schedule.max_batches = 2;
    assert_int_equal(bf_tensor_randn(shape, 4, 7, &x), 0);
    assert_int_equal(bf_model_set_train(s, 0), 0);
    assert_int_equal(bf_model_forward_exits(s, x, 2, a, NULL), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(bf_model_stage_fingerprint(s, i, 1, &before[i]), 0);
    {
        struct bf_train_params p = {.split = &split,
                                    .student = s,
                                    .phases = ph,
                                    .n_phases = 1,
                                    .frozen_bn_train = 1,
                                    .seed = 1,
                                    .checkpoint_path = ckpt};

        assert_int_equal(bf_train_run(&p, &res), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(bf_model_stage_fingerprint(s, i, 1, &later[i]), 0);
        assert_true(before[i] == later[i]);
    }
    assert_int_equal(bf_model_trainable_count(s, &trainable), 0);
    assert_int_equal(bf_model_describe_exits(s, 28, 28, ex, &n_ex), 0);
    assert_int_equal(trainable, ex[0].params + ex[1].params);
    assert_int_equal(bf_model_forward_exits(s, x, 2, b, NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bf_tensor_max_abs_diff(a[i], b[i], &diff), 0);
        assert_true(diff > 0.0);
        bf_tensor_free(a[i]);
        bf_tensor_free(b[i]);
    }
    bf_tensor_free(x);
    bf_model_free(s);
}

/*
 * Which stages' BatchNorm statistics a phase moves (fingerprints with
 * buffers), as the published code runs them: HND runs only encoder and
 * decoder; GHND runs up to stage4, its frozen stage3 and stage4 in train
 * mode with frozen_bn_train and in eval mode without; the classifier is
 * never run by either.
 */
static void test_train_frozen_bn_as_reference(void **state)
{
    static const int hnd[5] = {1, 1, 0, 0, 0}, ghnd_train[5] = {1, 1, 1, 1, 0},
                     ghnd_eval[5] = {1, 1, 0, 0, 0};
    static const struct {
        const char *name;
        int frozen_bn_train;
        const int *changes;
    } cases[] = {
        {"hnd", 1, hnd},
        {"ghnd", 1, ghnd_train},
        {"ghnd", 0, ghnd_eval},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bf_model *t = model("densenet_mini", 0);
        bf_model *s = model("densenet_mini", 2);
        struct bf_train_phase ph[2];
        size_t n = 0;
        char what[64];

        assert_int_equal(bf_train_strategy(cases[i].name, 0, 5, ph, &n), 0);
        snprintf(what, sizeof(what), "%s frozen_bn_train=%d", cases[i].name,
                 cases[i].frozen_bn_train);
        one_step(s, t, &ph[0], cases[i].frozen_bn_train, 1, what,
                 cases[i].changes);
        bf_model_free(s);
        bf_model_free(t);
    }
}

/*
 * The learning rate steps at the reference's milestones scaled to the
 * epochs (floor(epochs * k / parts)): [5] of 10 and [5, 10, 15] of 20 as
 * the configs; [1, 3, 4] of a 6-epoch baseline, three steps and not five;
 * [7] of a 15-epoch stage, one step and not two.
 */
static void test_train_lr_milestones(void **state)
{
    static const struct {
        int epochs, parts, step;
        int steps[20]; /* the number of steps taken before each epoch */
    } cases[] = {
        {10, 2, 0, {0, 0, 0, 0, 0, 1, 1, 1, 1, 1}},
        {20, 4, 0, {0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
                    2, 2, 2, 2, 2, 3, 3, 3, 3, 3}},
        {6, 4, 0, {0, 1, 1, 2, 3, 3}},
        {15, 2, 0, {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}},
        {2, 2, 0, {0, 1}},
        {3, 4, 0, {0, 1, 2}},
        {1, 4, 0, {0}},
        {9, 0, 3, {0, 0, 0, 1, 1, 1, 2, 2, 2}},
        {4, 0, 0, {0, 0, 0, 0}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bf_train_schedule s = {.lr = 0.5,
                                      .epochs = cases[i].epochs,
                                      .lr_parts = cases[i].parts,
                                      .lr_step_epochs = cases[i].step,
                                      .lr_gamma = 0.1};

        for (int e = 1; e <= cases[i].epochs; e++) {
            double want = 0.5 * pow(0.1, cases[i].steps[e - 1]);
            double got = bf_train_lr_at(&s, e);

            if (fabs(got - want) > 1e-12 * want)
                fail_msg("epochs %d parts %d step %d: epoch %d lr %g, want %g",
                         cases[i].epochs, cases[i].parts, cases[i].step, e, got,
                         want);
        }
    }
}

/* Stage 2 of BottleFit alone keeps the encoder bit-identical. */
static void test_train_frozen_encoder_stays(void **state)
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 64,
                                   .val_idx = val_idx,
                                   .n_val = 64};
    bf_model *t = model("densenet_mini", 0);
    bf_model *s = model("densenet_mini", 3);
    struct bf_train_phase ph[2];
    size_t n = 0;
    uint64_t before[5], after[5];
    struct bf_train_result res;
    char ckpt[128];

    (void)state;
    snprintf(ckpt, sizeof(ckpt), "%s/fe.bfw", tmpdir);
    assert_int_equal(bf_train_strategy("bottlefit", 0, 5, ph, &n), 0);
    ph[1].schedule.epochs = 1;
    ph[1].schedule.max_batches = 2;
    fingerprints(s, 0, before);
    {
        struct bf_train_params p = {.split = &split,
                                    .student = s,
                                    .teacher = t,
                                    .phases = &ph[1],
                                    .n_phases = 1,
                                    .frozen_bn_train = 0,
                                    .kd_temperature = 1.0,
                                    .kd_alpha = 0.5,
                                    .seed = 1,
                                    .checkpoint_path = ckpt};

        assert_int_equal(bf_train_run(&p, &res), 0);
    }
    fingerprints(s, 0, after);
    assert_true(before[0] == after[0]);
    for (int k = 1; k < 5; k++)
        assert_true(before[k] != after[k]);
    /* With frozen stages in eval mode their BatchNorm stats stay too. */
    {
        uint64_t b0 = 0, a0 = 0;

        assert_int_equal(bf_model_stage_fingerprint(s, 0, 1, &a0), 0);
        bf_model_free(s);
        s = model("densenet_mini", 3);
        assert_int_equal(bf_model_stage_fingerprint(s, 0, 1, &b0), 0);
        assert_true(a0 == b0);
    }
    bf_model_free(s);
    bf_model_free(t);
}

/*
 * A seconds-long run: a teacher trained on 4,000 images for 2 epochs, then
 * BottleFit's two stages on the same images; both must be far above chance
 * (10 %) on 2,000 test images, and the 8-bit bottleneck must cost little.
 */
/* Epoch records of a training run, kept by its hook. */
struct epochs_seen {
    struct bf_train_epoch rec[16];
    char phase[16][16];
    int n;
};

static int keep_epoch(void *ctx, const struct bf_train_epoch *rec)
{
    struct epochs_seen *es = ctx;

    if (es->n < 16) {
        es->rec[es->n] = *rec;
        snprintf(es->phase[es->n], sizeof(es->phase[0]), "%s", rec->phase);
        es->n++;
    }
    return 0;
}

static void test_train_end_to_end_tiny(void **state)
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 4000,
                                   .val_idx = val_idx,
                                   .n_val = 500};
    struct bf_train_phase teach = {.name = "teacher",
                                   .loss = BF_TRAIN_LOSS_CE,
                                   .train_first = 0,
                                   .train_last = 5,
                                   .schedule = {.optimizer = "sgd",
                                                .lr = 0.05,
                                                .momentum = 0.9,
                                                .weight_decay = 5e-4,
                                                .epochs = 2,
                                                .batch = 64}};
    struct bf_train_phase ph[2];
    size_t n = 0;
    bf_model *t = model("resnet_mini", 0);
    bf_model *s;
    struct bf_train_result res;
    struct bf_eval_result ev, evq, evt;
    uint32_t test_idx[2000];
    char ckpt[128];

    (void)state;
    for (uint32_t i = 0; i < 2000; i++)
        test_idx[i] = i;
    snprintf(ckpt, sizeof(ckpt), "%s/teacher.bfw", tmpdir);
    {
        struct bf_train_params p = {.split = &split,
                                    .student = t,
                                    .phases = &teach,
                                    .n_phases = 1,
                                    .seed = 2,
                                    .augment = 1,
                                    .checkpoint_path = ckpt};

        assert_int_equal(bf_train_run(&p, &res), 0);
    }
    assert_int_equal(
        bf_train_evaluate(t, test_ds, test_idx, 2000, 250, -1, &evt), 0);
    print_message("teacher: val %.2f %%, test top-1 %.2f %%, top-5 %.2f %%\n",
                  res.best_val_top1, evt.top1, evt.top5);
    assert_true(evt.top1 > 60.0);
    bf_eval_result_free(&evt);

    /* SPINN-style exits on the trained teacher, one epoch. The exit rule
     * at threshold 0 leaves everything at exit 1; above 1 it never leaves
     * early, which is the 8-bit offloaded teacher. */
    s = model("resnet_mini", 0);
    assert_int_equal(bf_model_load(s, ckpt), 0);
    {
        const int after[2] = {1, 2};
        const double thr[3] = {0.0, 0.9, 1.5};
        struct bf_exit_point pt[3];
        struct bf_exit_eval ee;
        struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
        int n_ex = 0;

        assert_int_equal(bf_model_attach_exits(s, after, 2), 0);
        assert_int_equal(bf_train_strategy("spinn-split", 0, 6, ph, &n), 0);
        ph[0].schedule.epochs = 1;
        snprintf(ckpt, sizeof(ckpt), "%s/spinn-e2e.bfw", tmpdir);
        {
            struct bf_train_params p = {.split = &split,
                                        .student = s,
                                        .phases = ph,
                                        .n_phases = 1,
                                        .seed = 4,
                                        .checkpoint_path = ckpt};

            assert_int_equal(bf_train_run(&p, &res), 0);
        }
        assert_int_equal(bf_train_evaluate_exits(s, test_ds, test_idx, 2000,
                                                 250, thr, 3, pt, &ee),
                         0);
        assert_int_equal(bf_model_describe_exits(s, 28, 28, ex, &n_ex), 0);
        print_message("spinn: exits %.2f %% / %.2f %%, final 8-bit %.2f %%; "
                      "at 0.9: %.2f %%, %.1f %% offloaded\n",
                      ee.exit_top1[0], ee.exit_top1[1], ee.final_top1,
                      pt[1].top1, 100.0 * pt[1].offload_fraction);
        assert_int_equal(ee.n, 2000);
        assert_int_equal(ee.n_exits, 2);
        assert_true(ee.exit_top1[1] > 40.0);
        assert_true(pt[0].exit_fraction[0] == 1.0);
        assert_true(pt[0].offload_fraction == 0.0);
        assert_true(pt[0].top1 == ee.exit_top1[0]);
        assert_true(pt[0].payload_bytes == 0.0);
        assert_true(pt[2].offload_fraction == 1.0);
        assert_true(pt[2].top1 == ee.final_top1);
        assert_true(pt[2].top5 == ee.final_top5);
        assert_true(pt[2].payload_bytes == 32 * 14 * 14 + 5);
        assert_true(fabs(ee.final_top1 - evt.top1) < 3.0);
        /* Leaving early saves device work. */
        assert_true(pt[0].device_macs < pt[1].device_macs ||
                    pt[1].offload_fraction == 0.0);
        assert_true(pt[1].device_macs <= pt[2].device_macs);
        assert_true(pt[2].device_macs == ee.offload_macs);
        assert_true(pt[1].exit_fraction[0] + pt[1].exit_fraction[1] +
                        pt[1].offload_fraction >
                    0.999999);
        /* Offloading costs stage2 (6,422,528 MACs) and exit 2 more than
         * leaving at exit 1. */
        assert_true(pt[2].device_macs - pt[0].device_macs ==
                    6422528.0 + (double)ex[1].macs);
    }
    bf_model_free(s);
    snprintf(ckpt, sizeof(ckpt), "%s/teacher.bfw", tmpdir);

    s = model("resnet_mini", 0);
    assert_int_equal(bf_model_load(s, ckpt), 0);
    {
        struct bf_bottleneck_params bp = {.channels = 2};

        assert_int_equal(bf_model_inject_bottleneck(s, &bp), 0);
    }
    assert_int_equal(bf_train_strategy("bottlefit", 0, 5, ph, &n), 0);
    ph[0].schedule.epochs = 2;
    ph[1].schedule.epochs = 1;
    ph[1].schedule.lr = 0.01;
    snprintf(ckpt, sizeof(ckpt), "%s/student.bfw", tmpdir);
    {
        struct epochs_seen es = {.n = 0};
        struct bf_train_hooks hooks = {.ctx = &es, .epoch = keep_epoch};
        struct bf_train_params p = {.split = &split,
                                    .student = s,
                                    .teacher = t,
                                    .phases = ph,
                                    .n_phases = n,
                                    .frozen_bn_train = 1,
                                    .kd_temperature = 1.0,
                                    .kd_alpha = 0.5,
                                    .seed = 3,
                                    .hooks = &hooks,
                                    .checkpoint_path = ckpt};
        double batches = ceil(4000.0 / ph[0].schedule.batch);

        assert_int_equal(bf_train_run(&p, &res), 0);
        /* Readable losses: GHND sums over the batch's images, so per image
         * it is the batch sums over the 4,000 images; KD is a mean already
         * (per image: the batch means weighted by their images). */
        assert_int_equal(es.n, 3);
        assert_string_equal(es.phase[0], "stage1");
        assert_true(fabs(es.rec[0].train_loss_per_image -
                         es.rec[0].train_loss * batches / 4000.0) <=
                    1e-9 * es.rec[0].train_loss);
        assert_true(es.rec[0].train_loss_per_image <
                    es.rec[0].train_loss / 16.0);
        assert_string_equal(es.phase[2], "stage2");
        assert_true(fabs(es.rec[2].train_loss_per_image -
                         es.rec[2].train_loss) < 0.2 * es.rec[2].train_loss);
    }
    assert_int_equal(
        bf_train_evaluate(s, test_ds, test_idx, 2000, 250, -1, &ev), 0);
    assert_int_equal(
        bf_train_evaluate(s, test_ds, test_idx, 2000, 250, 0, &evq), 0);
    print_message("bottlefit C=2: best %s epoch %d, test top-1 %.2f %% fp32, "
                  "%.2f %% 8-bit\n",
                  res.best_phase, res.best_epoch, ev.top1, evq.top1);
    assert_true(ev.top1 > 50.0);
    bf_eval_result_free(&ev);
    bf_eval_result_free(&evq);
    assert_true(evq.top1 > ev.top1 - 3.0);
    bf_model_free(s);
    bf_model_free(t);
}

static void test_train_bad_parameters(void **state)
{
    struct bf_train_split split = {.data = train_ds,
                                   .train_idx = train_idx,
                                   .n_train = 64,
                                   .val_idx = val_idx,
                                   .n_val = 64};
    struct bf_train_phase ph = {
        .name = "x",
        .loss = BF_TRAIN_LOSS_GHND,
        .train_first = 0,
        .train_last = 1,
        .schedule = {.optimizer = "adam", .lr = 1e-3, .epochs = 1, .batch = 8}};
    bf_model *t = model("resnet_mini", 0);
    struct bf_train_result res;
    struct bf_eval_result ev;
    struct bf_train_params p = {.split = &split,
                                .student = t,
                                .teacher = t,
                                .phases = &ph,
                                .n_phases = 1,
                                .checkpoint_path = "/nonexistent/x.bfw"};

    (void)state;
    assert_int_equal(bf_train_run(&p, &res), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "bottleneck"));
    p.teacher = NULL;
    assert_int_equal(bf_train_run(&p, &res), BF_EINVAL);
    assert_non_null(strstr(bf_last_error(), "teacher"));
    ph.loss = BF_TRAIN_LOSS_CE;
    ph.train_last = 9;
    assert_int_equal(bf_train_run(&p, &res), BF_ERANGE);
    assert_int_equal(bf_train_evaluate(t, test_ds, NULL, 0, 16, 5, &ev),
                     BF_ERANGE);
    bf_model_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_strategy_table),
        cmocka_unit_test(test_train_one_step_per_strategy),
        cmocka_unit_test(test_train_frozen_encoder_stays),
        cmocka_unit_test(test_train_autoencoder_step),
        cmocka_unit_test(test_train_frozen_bn_as_reference),
        cmocka_unit_test(test_train_lr_milestones),
        cmocka_unit_test(test_train_spinn_exits_only),
        cmocka_unit_test(test_train_bad_parameters),
        cmocka_unit_test(test_train_end_to_end_tiny),
    };

    bf_test_device_banner("test_train");
    return cmocka_run_group_tests(tests, setup, teardown);
}
