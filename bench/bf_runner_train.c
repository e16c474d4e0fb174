/* bf_runner_train: the training pipeline of `task: train` scenarios
 * (teachers, the JPEG baseline, students), its cases handed to the sink. */
#define _POSIX_C_SOURCE 200809L
#include "bf_runner.h"
#include "bf_runner_int.h"

#include "bf_artifact.h"
#include "bf_buf.h"
#include "bf_clock.h"
#include "bf_codec.h"
#include "bf_dataset.h"
#include "bf_devmodel.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_log.h"
#include "bf_probe.h"
#include "bf_progress.h"
#include "bf_shard.h"
#include "bf_split.h"
#include "bf_stats.h"
#include "bf_torch.h"
#include "bf_train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Training cases (task: train) */

/* What a train run shares between its cases. */
struct train_run {
    const struct bf_runner_params *p;
    struct bf_dataset *train; /* training items, train transforms */
    struct bf_dataset *val;   /* the same items, eval transforms */
    struct bf_dataset *test;
    struct bf_dataset_info info;
    uint32_t *train_idx, *val_idx, *test_idx;
    size_t n_train, n_val, n_test;
    size_t n_teacher_train; /* the first of train_idx a teacher trains on */
    char dataset_sha[BF_HASH_HEX_SIZE];
    /* The evaluated test items: the data set's digest, then their indexes
     * as uint32 LE, hashed (predictions rows pair by it). */
    char test_items_sha[BF_HASH_HEX_SIZE];
    double jpeg_ref_bytes; /* mean JPEG bytes at the reference quality */
    /* The teacher of the current model. */
    char teacher_arch[BF_SCENARIO_NAME_MAX];
    uint64_t teacher_seed; /* of the teacher in memory */
    char teacher_path[BF_SCENARIO_PATH_MAX];
    char teacher_sha[BF_HASH_HEX_SIZE];
    bf_model *teacher;
    int threads;
};

static void train_run_free(struct train_run *tr)
{
    bf_model_free(tr->teacher);
    if (tr->val != tr->train)
        bf_dataset_close(tr->val);
    bf_dataset_close(tr->train);
    bf_dataset_close(tr->test);
    free(tr->train_idx);
    free(tr->val_idx);
    free(tr->test_idx);
    memset(tr, 0, sizeof(*tr));
}

/* Open the data sets and carve the splits. */
static int train_run_open(struct train_run *tr)
{
    const struct bf_scenario *sc = tr->p->scenario;
    const char *dir = sc->data_dir[0] ? sc->data_dir : NULL;
    size_t n_test_all;
    int rc;

    if (strcmp(sc->dataset, "folder") == 0) {
        char root[BF_SCENARIO_PATH_MAX + 8];
        struct bf_dataset_folder_params fp = {
            .seed = sc->seed,
            .threads = 1,
            .crop = sc->image_size_px,
            .resize = (sc->image_size_px * 256 + 112) / 224};

        snprintf(root, sizeof(root), "%s/train", sc->data_dir);
        fp.root = root;
        fp.train = 1;
        rc = bf_dataset_open_folder(&fp, &tr->train);
        if (rc == 0) {
            fp.train = 0;
            rc = bf_dataset_open_folder(&fp, &tr->val);
        }
        if (rc == 0) {
            snprintf(root, sizeof(root), "%s/val", sc->data_dir);
            rc = bf_dataset_open_folder(&fp, &tr->test);
        }
    } else {
        /* Fashion-MNIST or any MNIST-format IDX directory. */
        rc = bf_dataset_open_fmnist(dir, 1, &tr->train);
        if (rc == 0)
            rc = bf_dataset_open_fmnist(dir, 0, &tr->test);
        tr->val = tr->train;
    }
    if (rc)
        return rc;
    rc = bf_dataset_info(tr->train, &tr->info);
    if (rc == 0)
        rc = bf_dataset_hash(tr->train, tr->dataset_sha);
    if (rc == 0)
        rc = bf_dataset_split(tr->info.n, sc->val_fraction, sc->seed,
                              &tr->train_idx, &tr->n_train, &tr->val_idx,
                              &tr->n_val);
    if (rc)
        return rc;
    /* A subset of the training items (random: folders are class-sorted);
     * the validation items shrink in proportion. A teacher trained here
     * may see more of them (teacher_train_subset): the first items of the
     * same random order, so the students' are among its own. */
    {
        size_t n_all = tr->n_train;
        int sub = sc->train_subset > 0 && (size_t)sc->train_subset < n_all;
        int tsub = sc->teacher_train_subset > 0 &&
                   (size_t)sc->teacher_train_subset < n_all;

        if (sub || tsub)
            bf_dataset_shuffle(tr->train_idx, tr->n_train, sc->seed, 0);
        if (sub) {
            size_t n_val =
                (size_t)ceil((double)sc->train_subset * sc->val_fraction /
                             (1.0 - sc->val_fraction));

            bf_dataset_shuffle(tr->val_idx, tr->n_val, sc->seed, 1);
            tr->n_train = (size_t)sc->train_subset;
            if (n_val < tr->n_val)
                tr->n_val = n_val ? n_val : 1;
        }
        tr->n_teacher_train = tsub ? (size_t)sc->teacher_train_subset
                              : sc->teacher_train_subset > 0 ? n_all
                                                             : tr->n_train;
    }
    {
        struct bf_dataset_info ti;

        rc = bf_dataset_info(tr->test, &ti);
        if (rc)
            return rc;
        n_test_all = ti.n;
    }
    tr->test_idx = malloc(n_test_all * sizeof(*tr->test_idx));
    if (!tr->test_idx)
        return bf_err_set(BF_ENOMEM, "%zu test indices", n_test_all);
    for (size_t i = 0; i < n_test_all; i++)
        tr->test_idx[i] = (uint32_t)i;
    tr->n_test = n_test_all;
    if (sc->test_subset > 0 && (size_t)sc->test_subset < n_test_all) {
        bf_dataset_shuffle(tr->test_idx, n_test_all, sc->seed, 2);
        tr->n_test = (size_t)sc->test_subset;
    }
    {
        struct bf_sha256 h;

        bf_sha256_init(&h);
        bf_sha256_update(&h, tr->dataset_sha, strlen(tr->dataset_sha));
        for (size_t i = 0; i < tr->n_test; i++) {
            unsigned char le[4] = {(unsigned char)tr->test_idx[i],
                                   (unsigned char)(tr->test_idx[i] >> 8),
                                   (unsigned char)(tr->test_idx[i] >> 16),
                                   (unsigned char)(tr->test_idx[i] >> 24)};

            bf_sha256_update(&h, le, sizeof(le));
        }
        bf_sha256_final(&h, tr->test_items_sha);
    }
    tr->jpeg_ref_bytes = -1.0;
    bf_log_info("data: %s, %zu training, %zu validation, %zu test items "
                "(%dx%dx%d, %d classes)",
                sc->dataset, tr->n_train, tr->n_val, tr->n_test,
                tr->info.channels, tr->info.height, tr->info.width,
                tr->info.num_classes);
    if (tr->n_teacher_train != tr->n_train)
        bf_log_info("data: a teacher trained here sees %zu training items",
                    tr->n_teacher_train);
    return 0;
}

/* Forward an epoch record to the sink. */
struct epoch_hook {
    const struct bf_runner_sink *sink;
    int64_t case_id;
};

static int on_epoch(void *ctx, const struct bf_train_epoch *e)
{
    struct epoch_hook *h = ctx;
    struct bf_epoch_row row = {.phase = e->phase,
                               .epoch = e->epoch,
                               .lr = e->lr,
                               .train_loss = e->train_loss,
                               .train_loss_per_image = e->train_loss_per_image,
                               .val_top1 = e->val_top1,
                               .seconds = e->seconds,
                               .images_per_s = e->images_per_s,
                               .best = e->best};

    return h->sink->epochs(h->sink->ctx, h->case_id, &row, 1);
}

/* The teacher's key: everything that determines a teacher trained here. */
static void teacher_key(const struct train_run *tr, const char *arch,
                        uint64_t seed, char hex[BF_HASH_HEX_SIZE])
{
    const struct bf_scenario *sc = tr->p->scenario;
    char text[1024];

    snprintf(text, sizeof(text),
             "teacher-v1|%s|%s|%s|val %.6f|subset %lld|epochs %d|lr %.9g|"
             "batch %d|augment %d|seed %llu|classes %d",
             arch, sc->dataset, tr->dataset_sha, sc->val_fraction,
             (long long)sc->train_subset, sc->teacher_epochs, sc->teacher_lr,
             sc->teacher_batch, sc->augment, (unsigned long long)seed,
             tr->info.num_classes);
    /* Only when set, so that the teachers cached before it stay valid. */
    if (sc->teacher_train_subset > 0) {
        size_t len = strlen(text);

        snprintf(text + len, sizeof(text) - len, "|teacher items %zu",
                 tr->n_teacher_train);
    }
    bf_hash_buffer(text, strlen(text), hex);
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");

    if (!f)
        return 0;
    fclose(f);
    return 1;
}

/* The fields every test-split accuracy row of this run shares. */
static void fill_test_row(const struct train_run *tr,
                          struct bf_accuracy_row *row)
{
    row->split = "test";
    row->input_elements =
        (double)tr->info.channels * tr->info.height * tr->info.width;
    row->jpeg_reference_bytes = tr->jpeg_ref_bytes;
    row->jpeg_reference_quality = tr->p->scenario->jpeg_reference_quality;
    row->method = "measured:host";
}

/* Evaluate on the test items and hand the accuracy row to the sink. */
static int record_eval(struct train_run *tr, int64_t case_id, bf_model *m,
                       struct bf_accuracy_row *row, int quantize_after)
{
    const struct bf_runner_sink *sink = tr->p->sink;
    struct bf_eval_result ev;
    int rc = bf_train_evaluate(m, tr->test, tr->test_idx, tr->n_test, 256,
                               quantize_after, &ev);

    if (rc)
        return rc;
    fill_test_row(tr, row);
    row->n = ev.n;
    row->top1 = ev.top1;
    row->top5 = ev.top5;
    row->pred = ev.pred;
    row->pred_top1 = ev.top1_ok;
    row->pred_topk = ev.topk_ok;
    row->items_sha256 = tr->test_items_sha;
    bf_log_info("  %s: test top-1 %.2f %%, top-5 %.2f %% (n=%lld)",
                row->variant, ev.top1, ev.top5, (long long)ev.n);
    rc = sink->accuracy(sink->ctx, case_id, row, 1);
    row->pred = NULL;
    row->pred_top1 = NULL;
    row->pred_topk = NULL;
    bf_eval_result_free(&ev);
    return rc;
}

/* The seed of case c's teacher: the scenario's, or with teacher_per_seed
 * the case's own. */
static uint64_t teacher_seed_of(const struct bf_scenario *sc,
                                const struct bf_case *c)
{
    return sc->teacher_per_seed ? c->seed : sc->seed;
}

/* The hash of an auxiliary case (teacher, jpeg) of case c's model: with
 * teacher_per_seed one per seed, else one per model (the hashes of
 * earlier versions). */
static void extra_hash(const struct bf_scenario *sc, const char *kind,
                       const struct bf_case *c, char hash[BF_HASH_HEX_SIZE])
{
    char text[64];

    if (!sc->teacher_per_seed) {
        bf_scenario_extra_case_hash(sc, kind, c->model, hash);
        return;
    }
    snprintf(text, sizeof(text), "%s\nseed=%llu", kind,
             (unsigned long long)c->seed);
    bf_scenario_extra_case_hash(sc, text, c->model, hash);
}

/*
 * Make tr->teacher the teacher of case c: the scenario's weights, a cached
 * checkpoint, or one trained now (with teacher_seed_of()). Records the
 * auxiliary teacher case.
 */
static int ensure_teacher(struct train_run *tr, const struct bf_case *c,
                          struct bf_runner_result *result)
{
    const struct bf_scenario *sc = tr->p->scenario;
    const struct bf_runner_sink *sink = tr->p->sink;
    struct bf_model_params mp = {.arch = c->model,
                                 .num_classes = tr->info.num_classes,
                                 .in_channels = tr->info.channels,
                                 .seed = teacher_seed_of(sc, c)};
    char key[BF_HASH_HEX_SIZE], hash[BF_HASH_HEX_SIZE];
    int64_t case_id = 0;
    int trained = 0, done = 0;
    int rc, crc;

    if (tr->teacher && strcmp(tr->teacher_arch, c->model) == 0 &&
        tr->teacher_seed == mp.seed)
        return 0;
    extra_hash(sc, "teacher", c, hash);
    if ((rc = bf_runner_case_done(tr->p, hash, &done)))
        return rc;
    /* Another process trains this teacher now: wait until its case is
     * complete (then load it), or until that process is gone and the claim
     * is ours. */
    if (done == 2)
        bf_log_info("teacher %s: another process trains it; waiting", c->model);
    while (done == 2) {
        struct timespec pause = {.tv_sec = 2, .tv_nsec = 0};

        if (bf_runner_stop_requested(tr->p))
            return bf_err_set(BF_EINTR, "run interrupted");
        nanosleep(&pause, NULL);
        if ((rc = bf_runner_case_done(tr->p, hash, &done)))
            return rc;
    }
    bf_model_free(tr->teacher);
    tr->teacher = NULL;
    snprintf(tr->teacher_arch, sizeof(tr->teacher_arch), "%s", c->model);
    tr->teacher_seed = mp.seed;
    if (c->weights[0]) {
        snprintf(tr->teacher_path, sizeof(tr->teacher_path), "%s", c->weights);
    } else {
        teacher_key(tr, c->model, mp.seed, key);
        snprintf(tr->teacher_path, sizeof(tr->teacher_path),
                 "%s/teacher-%s-%.16s.bfw", tr->p->cache_dir, c->model, key);
    }
    crc = bf_model_create(&mp, &tr->teacher);
    if (crc == 0)
        crc = bf_model_to_device(tr->teacher, sc->device);
    if (crc == 0 && done && file_exists(tr->teacher_path) &&
        bf_model_load(tr->teacher, tr->teacher_path) == 0 &&
        bf_hash_file(tr->teacher_path, tr->teacher_sha) == 0) {
        /* Resumed: the teacher's case is recorded already. */
        bf_log_info("teacher %s loaded (its case is complete)", c->model);
        return 0;
    }
    bf_err_clear();
    /* Given weights with a content-addressed name must still match it. */
    if (crc == 0 && c->weights[0] && file_exists(c->weights))
        crc = bf_artifact_verify(c->weights);
    if (crc == 0 && file_exists(tr->teacher_path)) {
        crc = bf_model_load(tr->teacher, tr->teacher_path);
    } else if (crc == 0 && c->weights[0]) {
        crc = bf_err_set(BF_ENOENT, "teacher weights '%s' missing", c->weights);
    } else if (crc == 0) {
        trained = 1;
    }
    {
        struct bf_case_row row = {
            .case_index = -1,
            .case_hash = hash,
            .config = "local",
            .model = c->model,
            .weights = tr->teacher_path,
            .weights_sha256 = "",
            .input_channels = tr->info.channels,
            .input_h = tr->info.height,
            .input_w = tr->info.width,
            .batch = sc->teacher_batch,
            .threads = tr->p->teacher_threads > 0 ? tr->p->teacher_threads
                                                  : tr->threads,
            .strategy = "teacher",
            .device = sc->device,
            .freeze_encoder = -1,
            .dataset = sc->dataset,
            .dataset_sha256 = tr->dataset_sha,
            .seeded = 1,
            .seed = mp.seed,
        };

        rc = bf_runner_case_begin(tr->p, &row, &case_id);
        if (rc)
            return rc;
    }
    if (crc == 0 && trained) {
        struct bf_train_phase ph = {
            .name = "teacher",
            .loss = BF_TRAIN_LOSS_CE,
            .train_first = 0,
            .schedule = {.optimizer = "sgd",
                         .lr = sc->teacher_lr,
                         .momentum = 0.9,
                         .weight_decay = 5e-4,
                         .epochs = sc->teacher_epochs,
                         .batch = sc->teacher_batch,
                         .lr_step_epochs = (sc->teacher_epochs + 2) / 3,
                         .lr_gamma = 0.1,
                         .max_batches = (int)sc->max_batches}};
        struct bf_train_split split = {.data = tr->train,
                                       .val_data = tr->val,
                                       .train_idx = tr->train_idx,
                                       .n_train = tr->n_teacher_train,
                                       .val_idx = tr->val_idx,
                                       .n_val = tr->n_val};
        struct epoch_hook hook = {.sink = sink, .case_id = case_id};
        struct bf_train_hooks hooks = {.ctx = &hook, .epoch = on_epoch};
        struct bf_train_result res;
        char tmp[sizeof(tr->teacher_path) + 32];
        int n_stages = 0;

        /* Checkpoints go to a file of this process's; the cache file
         * appears by rename when training is done, so that no other
         * process (or run) ever loads a teacher half-trained. */
        snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", tr->teacher_path,
                 (long)getpid());
        crc = bf_model_stage_count(tr->teacher, &n_stages);
        ph.train_last = n_stages - 1;
        if (crc == 0) {
            struct bf_train_params tp = {.split = &split,
                                         .student = tr->teacher,
                                         .phases = &ph,
                                         .n_phases = 1,
                                         .augment = sc->augment &&
                                                    tr->info.height <= 64,
                                         .seed = mp.seed,
                                         .checkpoint_path = tmp,
                                         .hooks = &hooks,
                                         .stop = tr->p->stop};

            bf_log_info("teacher %s: training %d epochs into %s", c->model,
                        sc->teacher_epochs, tr->teacher_path);
            if (tr->p->teacher_threads > 0 &&
                tr->p->teacher_threads != tr->threads)
                crc = bf_torch_set_threads(tr->p->teacher_threads);
            if (crc == 0)
                crc = bf_train_run(&tp, &res);
            if (tr->p->teacher_threads > 0 &&
                tr->p->teacher_threads != tr->threads)
                bf_torch_set_threads(tr->threads);
        }
        if (crc == 0 && rename(tmp, tr->teacher_path) != 0)
            crc = bf_err_set(BF_EIO, "cannot rename '%s' to '%s': %s", tmp,
                             tr->teacher_path, strerror(errno));
        if (crc)
            unlink(tmp);
    }
    if (crc == 0)
        crc = bf_hash_file(tr->teacher_path, tr->teacher_sha);
    if (crc == 0 && sink->artifact) {
        struct stat st;
        struct bf_artifact_row art = {.kind = "teacher",
                                      .path = tr->teacher_path,
                                      .sha256 = tr->teacher_sha};

        if (stat(tr->teacher_path, &st) == 0) {
            art.bytes = (int64_t)st.st_size;
            rc = sink->artifact(sink->ctx, case_id, &art);
            if (rc)
                return rc;
        }
    }
    if (crc == 0) {
        struct bf_accuracy_row acc = {.variant = "fp32",
                                      .payload_bytes = -1,
                                      .payload_zstd_bytes = -1,
                                      .transmitted_elements = -1};

        bf_log_info("teacher %s (%s)", c->model,
                    trained ? "trained now" : "loaded");
        crc = record_eval(tr, case_id, tr->teacher, &acc, -1);
    }
    if (crc) {
        char msg[BF_ERR_DETAIL_MAX];

        snprintf(msg, sizeof(msg), "%s", bf_last_error());
        bf_model_free(tr->teacher);
        tr->teacher = NULL;
        tr->teacher_arch[0] = '\0';
        result->failed++;
        rc = bf_runner_case_finish(tr->p, case_id, "failed", msg);
        return rc ? rc : crc;
    }
    result->finished++;
    return bf_runner_case_finish(tr->p, case_id, "finished", NULL);
}

/*
 * Encode test item pixels as JPEG at quality q into bytes; optionally
 * decode and normalise into images (NCHW floats of n items).
 */
static int jpeg_batch(struct train_run *tr, struct bf_codec *jpeg,
                      const uint32_t *idx, size_t n, float *images,
                      int64_t *labels, double *bytes_sum)
{
    const struct bf_dataset_info *in = &tr->info;
    size_t px = (size_t)in->height * (size_t)in->width;
    size_t per = px * (size_t)in->channels;
    uint8_t *raw = malloc(per);
    struct bf_buf enc, dec;
    int rc = 0;

    if (!raw)
        return bf_err_set(BF_ENOMEM, "JPEG scratch");
    bf_buf_init(&enc);
    bf_buf_init(&dec);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct bf_payload pl = {.len = per,
                                .width = in->width,
                                .height = in->height,
                                .channels = in->channels};
        struct bf_payload out;

        rc = bf_dataset_raw_u8(tr->test, idx[i], raw, per, &labels[i]);
        if (rc)
            break;
        pl.data = raw;
        bf_buf_reset(&enc);
        rc = bf_codec_encode(jpeg, &pl, &enc);
        if (rc)
            break;
        *bytes_sum += (double)enc.len;
        if (!images)
            continue;
        bf_buf_reset(&dec);
        rc = bf_codec_decode(jpeg, (const uint8_t *)enc.data, enc.len, &dec,
                             &out);
        if (rc == 0 && out.len != per)
            rc = bf_err_set(BF_EINTERNAL,
                            "JPEG decoded to %zu bytes, not "
                            "%zu",
                            out.len, per);
        for (size_t k = 0; rc == 0 && k < px; k++)
            for (int ch = 0; ch < in->channels; ch++)
                images[(i * (size_t)in->channels + (size_t)ch) * px + k] =
                    ((float)out.data[k * (size_t)in->channels + (size_t)ch] /
                         255.0f -
                     in->mean[ch]) /
                    in->std[ch];
    }
    bf_buf_free(&enc);
    bf_buf_free(&dec);
    free(raw);
    return rc;
}

static int jpeg_mean_bytes(struct train_run *tr, int quality, double *mean)
{
    struct bf_codec_params cp = {.quality = quality};
    struct bf_codec *jpeg = NULL;
    int64_t *labels = malloc(tr->n_test * sizeof(*labels));
    double sum = 0.0;
    int rc;

    if (!labels)
        return bf_err_set(BF_ENOMEM, "labels");
    rc = bf_codec_open("jpeg", &cp, &jpeg);
    if (rc == 0)
        rc = jpeg_batch(tr, jpeg, tr->test_idx, tr->n_test, NULL, labels, &sum);
    if (rc == 0)
        *mean = sum / (double)tr->n_test;
    bf_codec_close(jpeg);
    free(labels);
    return rc;
}

/* The input-compression baseline: the teacher on decoded JPEGs. */
static int run_jpeg_case(struct train_run *tr, const struct bf_case *c,
                         struct bf_runner_result *result)
{
    const struct bf_scenario *sc = tr->p->scenario;
    const struct bf_runner_sink *sink = tr->p->sink;
    const struct bf_dataset_info *in = &tr->info;
    size_t per = (size_t)in->channels * (size_t)in->height * (size_t)in->width;
    const size_t batch = 250;
    float *images = malloc(batch * per * sizeof(*images));
    int64_t *labels = malloc(batch * sizeof(*labels));
    char hash[BF_HASH_HEX_SIZE];
    struct bf_case_row row = {.case_index = -1,
                              .case_hash = hash,
                              .config = "edge",
                              .model = c->model,
                              .weights = tr->teacher_path,
                              .weights_sha256 = tr->teacher_sha,
                              .input_channels = in->channels,
                              .input_h = in->height,
                              .input_w = in->width,
                              .batch = (int)batch,
                              .threads = tr->threads,
                              .device = tr->p->scenario->device,
                              .strategy = "jpeg",
                              .freeze_encoder = -1,
                              .dataset = sc->dataset,
                              .dataset_sha256 = tr->dataset_sha,
                              .teacher_sha256 = tr->teacher_sha,
                              .seeded = 1,
                              .seed = tr->teacher_seed};
    int64_t case_id = 0;
    int n_stages = 0;
    int rc, crc = 0;

    extra_hash(sc, "jpeg", c, hash);
    rc = bf_runner_case_begin(tr->p, &row, &case_id);
    if (rc)
        goto out;
    if (!images || !labels)
        crc = bf_err_set(BF_ENOMEM, "JPEG baseline batch");
    if (crc == 0)
        crc = bf_model_stage_count(tr->teacher, &n_stages);
    if (crc == 0 && tr->jpeg_ref_bytes < 0)
        crc = jpeg_mean_bytes(tr, sc->jpeg_reference_quality,
                              &tr->jpeg_ref_bytes);
    for (size_t qi = 0; crc == 0 && qi < sc->n_jpeg_qualities; qi++) {
        struct bf_codec_params cp = {.quality = sc->jpeg_qualities[qi]};
        struct bf_codec *jpeg = NULL;
        double bytes = 0.0;
        int64_t top1 = 0, top5 = 0;
        int k5 = in->num_classes < 5 ? in->num_classes : 5;
        char variant[32];

        crc = bf_codec_open("jpeg", &cp, &jpeg);
        for (size_t at = 0; crc == 0 && at < tr->n_test; at += batch) {
            size_t m = tr->n_test - at < batch ? tr->n_test - at : batch;
            int64_t shape[4] = {(int64_t)m, in->channels, in->height,
                                in->width};
            int64_t lshape[1] = {(int64_t)m};
            bf_tensor *x = NULL, *y = NULL, *logits = NULL;
            int64_t c1 = 0, c5 = 0;

            crc = jpeg_batch(tr, jpeg, tr->test_idx + at, m, images, labels,
                             &bytes);
            if (crc == 0)
                crc = bf_tensor_from_f32(shape, 4, images, &x);
            if (crc == 0)
                crc = bf_tensor_from_i64(lshape, 1, labels, &y);
            if (crc == 0)
                crc =
                    bf_model_forward(tr->teacher, x, 0, n_stages - 1, &logits);
            if (crc == 0)
                crc = bf_tensor_topk_correct(logits, y, 1, &c1);
            if (crc == 0)
                crc = bf_tensor_topk_correct(logits, y, k5, &c5);
            top1 += c1;
            top5 += c5;
            bf_tensor_free(x);
            bf_tensor_free(y);
            bf_tensor_free(logits);
        }
        bf_codec_close(jpeg);
        if (crc)
            break;
        snprintf(variant, sizeof(variant), "jpeg-q%d", cp.quality);
        {
            struct bf_accuracy_row acc = {
                .variant = variant,
                .split = "test",
                .n = (int64_t)tr->n_test,
                .top1 = 100.0 * (double)top1 / (double)tr->n_test,
                .top5 = 100.0 * (double)top5 / (double)tr->n_test,
                .payload_bytes = bytes / (double)tr->n_test,
                .payload_zstd_bytes = -1,
                .transmitted_elements = (double)per,
                .input_elements = (double)per,
                .jpeg_reference_bytes = tr->jpeg_ref_bytes,
                .jpeg_reference_quality = sc->jpeg_reference_quality,
                .method = "measured:host"};

            bf_log_info("  %s: %.1f bytes, teacher top-1 %.2f %%", variant,
                        acc.payload_bytes, acc.top1);
            rc = sink->accuracy(sink->ctx, case_id, &acc, 1);
            if (rc)
                goto out;
        }
    }
    if (crc) {
        char msg[BF_ERR_DETAIL_MAX];

        snprintf(msg, sizeof(msg), "%s", bf_last_error());
        result->failed++;
        rc = bf_runner_case_finish(tr->p, case_id, "failed", msg);
    } else {
        result->finished++;
        rc = bf_runner_case_finish(tr->p, case_id, "finished", NULL);
    }
out:
    free(images);
    free(labels);
    return rc;
}

/* Mean zstd bytes of the 8-bit split tensor over the test items. */
static int zstd_payload(struct train_run *tr, bf_model *m, int split,
                        double *mean)
{
    const struct bf_dataset_info *in = &tr->info;
    size_t per = (size_t)in->channels * (size_t)in->height * (size_t)in->width;
    enum { BATCH = 250 };
    const size_t batch = BATCH;
    float *images = malloc(batch * per * sizeof(*images));
    int64_t *labels = malloc(batch * sizeof(*labels));
    uint8_t *q = NULL;
    float scales[BATCH];
    int zps[BATCH];
    struct bf_codec *zstd = NULL;
    struct bf_buf out;
    double sum = 0.0;
    int rc;

    bf_buf_init(&out);
    if (!images || !labels) {
        rc = bf_err_set(BF_ENOMEM, "zstd payload batch");
        goto out;
    }
    rc = bf_codec_open("zstd", NULL, &zstd);
    for (size_t at = 0; rc == 0 && at < tr->n_test; at += batch) {
        size_t m_items = tr->n_test - at < batch ? tr->n_test - at : batch;
        int64_t shape[4] = {(int64_t)m_items, in->channels, in->height,
                            in->width};
        int64_t fshape[BF_TENSOR_MAX_DIMS];
        bf_tensor *x = NULL, *f = NULL;
        int nd = 0;
        size_t each;

        rc = bf_dataset_batch(tr->test, tr->test_idx + at, m_items, images,
                              labels);
        if (rc == 0)
            rc = bf_tensor_from_f32(shape, 4, images, &x);
        if (rc == 0)
            rc = bf_model_forward(m, x, 0, split, &f);
        if (rc == 0)
            rc = bf_tensor_shape(f, fshape, BF_TENSOR_MAX_DIMS, &nd);
        each = rc == 0 ? (size_t)(fshape[1] * fshape[2] * fshape[3]) : 0;
        if (rc == 0 && !q) {
            q = malloc(batch * each);
            if (!q)
                rc = bf_err_set(BF_ENOMEM, "bottleneck scratch");
        }
        /* Each item with its own range, as batch-1 transmission would, on
         * the model's device (the codes are the host loops'). */
        if (rc == 0)
            rc = bf_tensor_quantize_u8_rows(f, q, m_items * each, scales, zps,
                                            m_items);
        for (size_t i = 0; rc == 0 && i < m_items; i++) {
            struct bf_payload pl = {.data = q + i * each, .len = each};

            bf_buf_reset(&out);
            if (rc == 0)
                rc = bf_codec_encode(zstd, &pl, &out);
            sum += (double)out.len + 5.0;
        }
        bf_tensor_free(x);
        bf_tensor_free(f);
    }
    if (rc == 0)
        *mean = sum / (double)tr->n_test;
out:
    bf_codec_close(zstd);
    bf_buf_free(&out);
    free(images);
    free(labels);
    free(q);
    return rc;
}

/* Override a reference schedule's epochs; its lr milestones stay in
 * proportion (lr_parts: the paper steps at half of a stage, at every
 * quarter of a baseline). */
static void scale_schedule(struct bf_train_schedule *s, int epochs,
                           int64_t max_batches)
{
    s->epochs = epochs;
    s->max_batches = (int)max_batches;
}

/* Whether freeze_encoder changes what a strategy trains ("bottlefit"
 * always freezes the encoder; the others have no stage 2). */
static int fe_applies(const char *strategy)
{
    return strcmp(strategy, "ghnd-ft") == 0 || strcmp(strategy, "ghnd-kd") == 0;
}

/* A case whose only difference from an earlier one is a setting that does
 * not apply to its strategy: freeze_encoder, or for spinn-split (no
 * bottleneck) the bottleneck's version and channels. */
static int repeats_earlier_case(const struct bf_scenario *sc,
                                const struct bf_case *c)
{
    int spinn = strcmp(c->strategy, "spinn-split") == 0;

    if (fe_applies(c->strategy))
        return 0;
    for (const struct bf_case *e = sc->cases; e < c; e++)
        if (strcmp(e->model, c->model) == 0 &&
            strcmp(e->strategy, c->strategy) == 0 && e->seed == c->seed &&
            (spinn || (e->bottleneck_version == c->bottleneck_version &&
                       e->bottleneck_channels == c->bottleneck_channels)))
            return 1;
    return 0;
}

/* The exit rule's accuracy and device cost at every threshold. */
static int record_exit_points(struct train_run *tr, int64_t case_id,
                              bf_model *m)
{
    const struct bf_scenario *sc = tr->p->scenario;
    struct bf_exit_point pts[BF_SCENARIO_VALUES_MAX];
    struct bf_accuracy_row rows[BF_SCENARIO_VALUES_MAX];
    char names[BF_SCENARIO_VALUES_MAX][32];
    struct bf_exit_eval ev;
    size_t n = sc->n_exit_thresholds;
    int rc = bf_train_evaluate_exits(m, tr->test, tr->test_idx, tr->n_test, 256,
                                     sc->exit_thresholds, n, pts, &ev);

    if (rc)
        return rc;
    for (int e = 0; e < ev.n_exits; e++)
        bf_log_info("  exit %d alone: test top-1 %.2f %%", e + 1,
                    ev.exit_top1[e]);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "exit-t%g", pts[i].threshold);
        rows[i] = (struct bf_accuracy_row){
            .variant = names[i],
            .n = ev.n,
            .top1 = pts[i].top1,
            .top5 = pts[i].top5,
            .payload_bytes = pts[i].payload_bytes,
            .payload_zstd_bytes = -1,
            .transmitted_elements = pts[i].offload_fraction * ev.split_elements,
            .exit_rule = 1,
            .offload_fraction = pts[i].offload_fraction,
            .device_macs = pts[i].device_macs};
        fill_test_row(tr, &rows[i]);
        bf_log_info("  exit rule at %g: test top-1 %.2f %%, %.1f %% "
                    "offloaded, %.2f MMAC on the device",
                    pts[i].threshold, pts[i].top1,
                    100.0 * pts[i].offload_fraction, pts[i].device_macs / 1e6);
    }
    return tr->p->sink->accuracy(tr->p->sink->ctx, case_id, rows, n);
}

/*
 * Give the finished file at path (size bytes) its content-addressed name
 * in the cache directory, put that name in path and record it with the
 * case when the sink keeps artifacts.
 */
static int keep_artifact(struct train_run *tr, int64_t case_id,
                         const char *kind, const char *model, char *path,
                         size_t size)
{
    const struct bf_runner_sink *sink = tr->p->sink;
    char tmp[BF_SCENARIO_PATH_MAX + 64], sha[BF_HASH_HEX_SIZE];
    struct bf_artifact_row row = {.kind = kind, .sha256 = sha};
    int rc;

    snprintf(tmp, sizeof(tmp), "%s", path);
    rc = bf_artifact_commit(tmp, tr->p->cache_dir, kind, model, path, size, sha,
                            &row.bytes);
    if (rc)
        return rc;
    row.path = path;
    return sink->artifact ? sink->artifact(sink->ctx, case_id, &row) : 0;
}

/* One student case: inject, train by strategy, evaluate. */
static int run_student_case(struct train_run *tr, const struct bf_case *c,
                            struct bf_runner_result *result)
{
    const struct bf_scenario *sc = tr->p->scenario;
    const struct bf_runner_sink *sink = tr->p->sink;
    struct bf_model_params mp = {.arch = c->model,
                                 .num_classes = tr->info.num_classes,
                                 .in_channels = tr->info.channels,
                                 .seed = c->seed};
    struct bf_bottleneck_params bp = {.version = c->bottleneck_version,
                                      .channels = c->bottleneck_channels};
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    struct bf_train_phase ph[2];
    size_t n_phases = 0;
    char shape[64] = "", ckpt[BF_SCENARIO_PATH_MAX + 64] = "";
    bf_model *s = NULL;
    struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
    int n_stages = 0, n_exits = 0, duplicate, autoencoder, spinn, split = 0;
    int64_t case_id = 0;
    struct bf_case_row row = {.case_index = c->index,
                              .case_hash = c->hash,
                              .config = "bottlefit",
                              .model = c->model,
                              .weights = tr->teacher_path,
                              .weights_sha256 = tr->teacher_sha,
                              .input_channels = tr->info.channels,
                              .input_h = tr->info.height,
                              .input_w = tr->info.width,
                              .threads = tr->threads,
                              .device = tr->p->scenario->device,
                              .strategy = c->strategy,
                              .freeze_encoder = c->freeze_encoder,
                              .bottleneck_version = c->bottleneck_version,
                              .bottleneck_channels = c->bottleneck_channels,
                              .dataset = sc->dataset,
                              .dataset_sha256 = tr->dataset_sha,
                              .teacher_sha256 = tr->teacher_sha,
                              .head_params = -1,
                              .head_macs = -1,
                              .head_bytes = -1,
                              .seeded = 1,
                              .seed = c->seed};
    int rc, crc;

    autoencoder = strcmp(c->strategy, "ae-split") == 0;
    spinn = strcmp(c->strategy, "spinn-split") == 0;
    if (autoencoder || spinn) {
        row.config = c->strategy;
        row.bottleneck_version = -1;
    }
    if (spinn)
        row.bottleneck_channels = -1;
    duplicate = repeats_earlier_case(sc, c);
    if (strcmp(c->strategy, "bottlefit") == 0)
        row.freeze_encoder = 1;
    else if (!fe_applies(c->strategy))
        row.freeze_encoder = -1;
    crc = bf_model_create(&mp, &s);
    if (crc == 0)
        crc = bf_model_load(s, tr->teacher_path);
    if (crc == 0)
        crc = autoencoder
                  ? bf_model_inject_autoencoder(s, c->bottleneck_channels)
              : spinn ? bf_split_attach_spinn_exits(s)
                      : bf_model_inject_bottleneck(s, &bp);
    /* Moved once complete, before any optimizer exists. */
    if (crc == 0)
        crc = bf_model_to_device(s, tr->p->scenario->device);
    if (crc == 0)
        crc = bf_model_split_stage(s, &split);
    if (crc == 0)
        crc = bf_model_describe(s, tr->info.height, tr->info.width, st,
                                BF_MODEL_MAX_STAGES, &n_stages);
    if (crc == 0)
        crc = bf_model_describe_exits(s, tr->info.height, tr->info.width, ex,
                                      &n_exits);
    if (crc == 0) {
        /* The head is everything the device runs: stages 0..split. */
        snprintf(shape, sizeof(shape), "%lldx%lldx%lld",
                 (long long)st[split].out_shape[0],
                 (long long)st[split].out_shape[1],
                 (long long)st[split].out_shape[2]);
        row.split_shape = shape;
        row.head_params = 0;
        row.head_macs = 0;
        row.params = 0;
        for (int i = 0; i < n_stages; i++) {
            if (i <= split) {
                row.head_params += st[i].params;
                row.head_macs += st[i].macs;
            }
            row.params += st[i].params;
            row.macs += st[i].macs;
        }
        /* Early exits run on the device too. */
        for (int i = 0; i < n_exits; i++) {
            row.head_params += ex[i].params;
            row.head_macs += ex[i].macs;
            row.params += ex[i].params;
        }
        row.head_bytes = row.head_params * 4;
    }
    if (crc == 0 && !duplicate)
        crc = bf_train_strategy(c->strategy, c->freeze_encoder, n_stages, ph,
                                &n_phases);
    for (size_t i = 0; crc == 0 && i < n_phases; i++) {
        /* naive, kd, hnd and the autoencoder: the 20-epoch baselines. */
        int baseline = n_phases == 1 && ph[i].loss != BF_TRAIN_LOSS_GHND;

        struct bf_train_schedule *sch = &ph[i].schedule;
        int sgd = strcmp(sch->optimizer, "sgd") == 0;

        if (baseline) {
            scale_schedule(sch, sc->epochs_baseline, sc->max_batches);
            sch->lr = sc->lr_baseline;
            sch->batch = sc->batch_baseline;
            if (sgd)
                sch->weight_decay = sc->weight_decay_baseline;
        } else {
            scale_schedule(sch, i == 0 ? sc->epochs_stage1 : sc->epochs_stage2,
                           sc->max_batches);
            sch->lr = i == 0 ? sc->lr_stage1 : sc->lr_stage2;
            sch->batch = i == 0 ? sc->batch_stage1 : sc->batch_stage2;
            if (sgd)
                sch->weight_decay = sc->weight_decay_stage2;
        }
        if (sgd)
            sch->momentum = sc->momentum;
        sch->lr_gamma = sc->lr_gamma;
        row.batch = ph[i].schedule.batch;
    }
    rc = bf_runner_case_begin(tr->p, &row, &case_id);
    if (rc)
        goto out;
    if (crc == 0 && duplicate) {
        result->skipped++;
        rc = bf_runner_case_finish(
            tr->p, case_id, "skipped",
            spinn ? "spinn-split has no bottleneck: same as "
                    "an earlier case"
                  : "freeze_encoder does not apply to this "
                    "strategy: same as an earlier case");
        goto out;
    }
    if (crc == 0) {
        struct bf_train_split data = {.data = tr->train,
                                      .val_data = tr->val,
                                      .train_idx = tr->train_idx,
                                      .n_train = tr->n_train,
                                      .val_idx = tr->val_idx,
                                      .n_val = tr->n_val};
        struct epoch_hook hook = {.sink = sink, .case_id = case_id};
        struct bf_train_hooks hooks = {.ctx = &hook, .epoch = on_epoch};
        struct bf_train_params tp = {.split = &data,
                                     .student = s,
                                     .teacher = tr->teacher,
                                     .phases = ph,
                                     .n_phases = n_phases,
                                     .frozen_bn_train = sc->frozen_bn_train,
                                     .kd_temperature = sc->kd_temperature,
                                     .kd_alpha = sc->kd_alpha,
                                     .augment =
                                         sc->augment && tr->info.height <= 64,
                                     .seed = c->seed + (uint64_t)c->index,
                                     .checkpoint_path = ckpt,
                                     .hooks = &hooks,
                                     .stop = tr->p->stop};
        struct bf_train_result res;

        /* Trained under a name no other process uses, then renamed after
         * its contents (bf_artifact): nothing can overwrite it. */
        snprintf(ckpt, sizeof(ckpt), "%s/.student-%.16s-%ld.part",
                 tr->p->cache_dir, c->hash, (long)getpid());
        crc = bf_model_set_autocast(
            s, bf_split_precision(tr->p->scenario->train_precision));
        if (crc == 0)
            crc = bf_train_run(&tp, &res);
        /* Evaluated in fp32 whatever it trained in. */
        if (crc == 0)
            crc = bf_model_set_autocast(s, BF_PRECISION_FP32);
    }
    if (crc == 0) {
        int64_t elems = st[split].out_shape[0] * st[split].out_shape[1] *
                        st[split].out_shape[2];
        struct bf_accuracy_row fp = {.variant = "fp32",
                                     .payload_bytes = (double)elems * 4.0,
                                     .payload_zstd_bytes = -1,
                                     .transmitted_elements = (double)elems};
        struct bf_accuracy_row q8 = {.variant = "int8",
                                     .payload_bytes = (double)elems + 5.0,
                                     .payload_zstd_bytes = -1,
                                     .transmitted_elements = (double)elems};

        if (tr->jpeg_ref_bytes < 0)
            crc = jpeg_mean_bytes(tr, sc->jpeg_reference_quality,
                                  &tr->jpeg_ref_bytes);
        if (crc == 0)
            crc = record_eval(tr, case_id, s, &fp, -1);
        if (crc == 0)
            crc = zstd_payload(tr, s, split, &q8.payload_zstd_bytes);
        if (crc == 0)
            crc = record_eval(tr, case_id, s, &q8, split);
        if (crc == 0 && spinn)
            crc = record_exit_points(tr, case_id, s);
        /* Kept: the weights of this configuration for inference cases
         * (`weights` of a bottlefit, ae-split or spinn-split case). */
        if (crc == 0)
            crc = keep_artifact(tr, case_id, "student", c->model, ckpt,
                                sizeof(ckpt));
        if (crc == 0)
            bf_log_info("case %d: student weights kept in %s", c->index + 1,
                        ckpt);
    }
    if (crc) {
        char msg[BF_ERR_DETAIL_MAX];

        snprintf(msg, sizeof(msg), "%s", bf_last_error());
        bf_log_error("case %d (%s %s C=%d): %s", c->index + 1, c->model,
                     c->strategy, c->bottleneck_channels, msg);
        /* A checkpoint that never got its content-addressed name goes. */
        if (strstr(ckpt, ".part"))
            remove(ckpt);
        result->failed++;
        rc = bf_runner_case_finish(tr->p, case_id, "failed", msg);
        if (rc == 0 && crc == BF_EINTR)
            rc = crc;
    } else {
        result->finished++;
        rc = bf_runner_case_finish(tr->p, case_id, "finished", NULL);
    }
out:
    bf_model_free(s);
    return rc;
}

/* Case i ran in ns: log its time and about how long the cases after it
 * take at this process's rate so far. */
static void log_progress(struct bf_progress *progress,
                         const struct bf_scenario *sc, size_t i, int64_t ns)
{
    char took[32], left[32];

    bf_progress_done(progress, bf_shard_work(sc, &sc->cases[i]), ns);
    if (i + 1 >= sc->n_cases)
        return;
    bf_progress_format((double)ns * 1e-9, took, sizeof(took));
    bf_progress_format(bf_progress_left_s(progress), left, sizeof(left));
    bf_log_info("case %zu/%zu took %s; about %s left for the %zu after it "
                "(at this process's rate, images x epochs; teachers not "
                "counted)",
                i + 1, sc->n_cases, took, left, sc->n_cases - i - 1);
}

int bf_runner_train_cases(const struct bf_runner_params *p,
                          struct bf_runner_result *result)
{
    const struct bf_scenario *sc = p->scenario;
    struct train_run tr = {.p = p};
    char last_jpeg_model[BF_SCENARIO_NAME_MAX] = "";
    uint64_t last_jpeg_seed = 0;
    struct bf_progress progress;
    double work_total = 0;
    int rc;

    if (!p->cache_dir || !p->sink->epochs || !p->sink->accuracy)
        return bf_err_set(BF_EINVAL, "train run: no cache directory or "
                                     "training sink");
    rc = bf_torch_set_threads(p->threads_override >= 0 ? p->threads_override
                              : sc->n_cases > 0        ? sc->cases[0].threads
                                                       : 0);
    if (rc == 0)
        rc = bf_torch_get_threads(&tr.threads);
    if (rc == 0)
        rc = train_run_open(&tr);
    for (size_t i = 0; i < sc->n_cases; i++)
        work_total += bf_shard_work(sc, &sc->cases[i]);
    bf_progress_init(&progress, work_total);
    for (size_t i = 0; rc == 0 && i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];
        int done = 0;

        if (bf_runner_stop_requested(p))
            break;
        bf_log_info("case %zu/%zu: %s %s C=%d v%d fe=%d", i + 1, sc->n_cases,
                    c->model, c->strategy, c->bottleneck_channels,
                    c->bottleneck_version, c->freeze_encoder);
        /* The JPEG baseline once per teacher: per model, or per model and
         * seed with teacher_per_seed. */
        if (strcmp(last_jpeg_model, c->model) != 0 ||
            (sc->teacher_per_seed && last_jpeg_seed != c->seed)) {
            char hash[BF_HASH_HEX_SIZE];

            snprintf(last_jpeg_model, sizeof(last_jpeg_model), "%s", c->model);
            last_jpeg_seed = c->seed;
            extra_hash(sc, "jpeg", c, hash);
            rc = bf_runner_case_done(p, hash, &done);
            if (rc == 0 && !done)
                rc = ensure_teacher(&tr, c, result);
            if (rc == 0 && !done)
                rc = run_jpeg_case(&tr, c, result);
        }
        if (rc == 0)
            rc = bf_runner_case_done(p, c->hash, &done);
        if (rc == 0 && done) {
            bf_log_info("case %zu/%zu: %s, skipped", i + 1, sc->n_cases,
                        done == 1   ? "complete already"
                        : done == 2 ? "run by another process"
                                    : "not this process's (--shard, "
                                      "--teachers-only)");
            if (done == 1)
                result->resumed++;
            else if (done == 2)
                result->elsewhere++;
            else
                result->other_shards++;
            bf_progress_skip(&progress, bf_shard_work(sc, c));
            continue;
        }
        if (rc == 0)
            rc = ensure_teacher(&tr, c, result);
        if (rc == 0) {
            int64_t t0 = bf_clock_now_ns(); /* the student: teachers cache */

            rc = run_student_case(&tr, c, result);
            if (rc != BF_EINTR && rc != BF_EDB)
                log_progress(&progress, sc, i, bf_clock_now_ns() - t0);
        }
        /* A case that failed is recorded; only sink errors and
         * interruptions end the run. */
        if (rc && rc != BF_EINTR && rc != BF_EDB) {
            bf_err_clear();
            rc = 0;
        }
    }
    train_run_free(&tr);
    return rc;
}
