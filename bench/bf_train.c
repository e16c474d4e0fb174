/* bf_train: training phases, checkpoint selection and evaluation. */
#define _POSIX_C_SOURCE 200809L
#include "bf_train.h"

#include "bf_clock.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Student stage of the split point's output (the decoder) and the offset
 * from a student stage to the teacher stage it mimics. */
#define DECODER_STAGE 1
#define TEACHER_OFFSET 1

/* A batch of host memory and its tensors. */
struct batch {
    float *images;
    int64_t *labels;
    uint32_t *idx;
    size_t cap;
    int64_t shape[4];
    bf_tensor *x;
    bf_tensor *y;
};

static int batch_init(struct batch *b, const struct bf_dataset_info *info,
                      size_t cap)
{
    size_t per =
        (size_t)info->channels * (size_t)info->height * (size_t)info->width;

    memset(b, 0, sizeof(*b));
    b->images = malloc(cap * per * sizeof(*b->images));
    b->labels = malloc(cap * sizeof(*b->labels));
    b->idx = malloc(cap * sizeof(*b->idx));
    if (!b->images || !b->labels || !b->idx)
        return bf_err_set(BF_ENOMEM, "batch of %zu images", cap);
    b->cap = cap;
    b->shape[1] = info->channels;
    b->shape[2] = info->height;
    b->shape[3] = info->width;
    return 0;
}

static void batch_release_tensors(struct batch *b)
{
    bf_tensor_free(b->x);
    bf_tensor_free(b->y);
    b->x = NULL;
    b->y = NULL;
}

static void batch_free(struct batch *b)
{
    batch_release_tensors(b);
    free(b->images);
    free(b->labels);
    free(b->idx);
    memset(b, 0, sizeof(*b));
}

/*
 * Random horizontal flip and a shift of up to two pixels in each
 * direction, the vacated pixels filled with black (normalised), per image.
 */
static void augment(float *img, size_t n, const struct bf_dataset_info *info,
                    struct bf_rng *rng)
{
    int c = info->channels, h = info->height, w = info->width;
    size_t plane = (size_t)h * (size_t)w;
    float *tmp = malloc(plane * sizeof(*tmp));

    if (!tmp)
        return; /* augmentation is best effort: a batch stays unaugmented */
    for (size_t i = 0; i < n; i++) {
        int flip = (int)bf_rng_below(rng, 2);
        int dy = (int)bf_rng_below(rng, 5) - 2;
        int dx = (int)bf_rng_below(rng, 5) - 2;

        for (int ch = 0; ch < c; ch++) {
            float *p = img + (i * (size_t)c + (size_t)ch) * plane;
            float fill = (0.0f - info->mean[ch]) / info->std[ch];

            memcpy(tmp, p, plane * sizeof(*tmp));
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int sy = y - dy, sx = x - dx;

                    if (flip)
                        sx = w - 1 - sx;
                    p[y * w + x] = (sy < 0 || sy >= h || sx < 0 || sx >= w)
                                       ? fill
                                       : tmp[sy * w + sx];
                }
            }
        }
    }
    free(tmp);
}

/* Load items idx[0..n) into b's tensors. */
static int batch_load(struct batch *b, struct bf_dataset *ds,
                      const struct bf_dataset_info *info, const uint32_t *idx,
                      size_t n, struct bf_rng *aug)
{
    int64_t lshape[1] = {(int64_t)n};
    int rc;

    batch_release_tensors(b);
    rc = bf_dataset_batch(ds, idx, n, b->images, b->labels);
    if (rc)
        return rc;
    if (aug)
        augment(b->images, n, info, aug);
    b->shape[0] = (int64_t)n;
    rc = bf_tensor_from_f32(b->shape, 4, b->images, &b->x);
    if (rc == 0)
        rc = bf_tensor_from_i64(lshape, 1, b->labels, &b->y);
    return rc;
}

/* Evaluation */

int bf_train_evaluate(bf_model *model, struct bf_dataset *data,
                      const uint32_t *idx, size_t n, int batch,
                      int quantize_after, struct bf_eval_result *out)
{
    struct bf_dataset_info info;
    struct batch b;
    int64_t top1 = 0, top5 = 0, start = bf_clock_now_ns();
    int n_stages = 0, k5;
    int rc;

    if (!model || !data || !out || batch < 1)
        return bf_err_set(BF_EINVAL, "bf_train_evaluate: bad arguments");
    memset(out, 0, sizeof(*out));
    rc = bf_dataset_info(data, &info);
    if (rc)
        return rc;
    if (!idx)
        n = info.n;
    out->pred = malloc((n ? n : 1) * sizeof(*out->pred));
    out->top1_ok = malloc(n ? n : 1);
    out->topk_ok = malloc(n ? n : 1);
    if (!out->pred || !out->top1_ok || !out->topk_ok) {
        bf_eval_result_free(out);
        return bf_err_set(BF_ENOMEM, "evaluation of %zu images", n);
    }
    k5 = info.num_classes < 5 ? info.num_classes : 5;
    rc = bf_model_stage_count(model, &n_stages);
    if (rc)
        return rc;
    if (quantize_after >= n_stages - 1)
        return bf_err_set(BF_ERANGE, "quantize after stage %d of %d",
                          quantize_after, n_stages);
    rc = batch_init(&b, &info, (size_t)batch);
    if (rc)
        goto out;
    rc = bf_model_set_train(model, 0);
    for (size_t at = 0; rc == 0 && at < n; at += (size_t)batch) {
        size_t m = n - at < (size_t)batch ? n - at : (size_t)batch;
        bf_tensor *logits = NULL;
        int64_t c1 = 0, c5 = 0;

        for (size_t i = 0; i < m; i++)
            b.idx[i] = idx ? idx[at + i] : (uint32_t)(at + i);
        rc = batch_load(&b, data, &info, b.idx, m, NULL);
        if (rc)
            break;
        if (quantize_after < 0) {
            rc = bf_model_forward(model, b.x, 0, n_stages - 1, &logits);
        } else {
            bf_tensor *head = NULL, *q = NULL;

            rc = bf_model_forward(model, b.x, 0, quantize_after, &head);
            if (rc == 0)
                rc = bf_tensor_fake_quantize_u8(head, &q);
            if (rc == 0)
                rc = bf_model_forward(model, q, quantize_after + 1,
                                      n_stages - 1, &logits);
            bf_tensor_free(head);
            bf_tensor_free(q);
        }
        if (rc == 0)
            rc = bf_tensor_predict(logits, b.y, k5, out->pred + at,
                                   out->top1_ok + at, out->topk_ok + at, m);
        for (size_t i = 0; rc == 0 && i < m; i++) {
            c1 += out->top1_ok[at + i];
            c5 += out->topk_ok[at + i];
        }
        bf_tensor_free(logits);
        top1 += c1;
        top5 += c5;
    }
    if (rc)
        bf_eval_result_free(out);
    if (rc == 0) {
        out->n = (int64_t)n;
        out->top1 = n ? 100.0 * (double)top1 / (double)n : 0.0;
        out->top5 = n ? 100.0 * (double)top5 / (double)n : 0.0;
        out->seconds = (double)(bf_clock_now_ns() - start) / 1e9;
    }
out:
    batch_free(&b);
    return rc;
}

void bf_eval_result_free(struct bf_eval_result *result)
{
    if (!result)
        return;
    free(result->pred);
    free(result->top1_ok);
    free(result->topk_ok);
    result->pred = NULL;
    result->top1_ok = NULL;
    result->topk_ok = NULL;
}

/* Device MACs up to each exit and of an offloaded image. */
static int exit_costs(bf_model *model, const struct bf_dataset_info *info,
                      int split, double at_exit[BF_MODEL_MAX_EXITS],
                      struct bf_exit_eval *out)
{
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
    int n_st = 0, n_ex = 0;
    int rc = bf_model_describe(model, info->height, info->width, st,
                               BF_MODEL_MAX_STAGES, &n_st);
    double exits_so_far = 0.0;

    if (rc == 0)
        rc = bf_model_describe_exits(model, info->height, info->width, ex,
                                     &n_ex);
    if (rc == 0 && n_ex == 0)
        rc = bf_err_set(BF_EINVAL, "evaluate exits: the model has no exits");
    if (rc)
        return rc;
    for (int i = 0; i < n_ex; i++) {
        double stages = 0.0;

        exits_so_far += (double)ex[i].macs;
        for (int k = 0; k <= ex[i].after_stage; k++)
            stages += (double)st[k].macs;
        at_exit[i] = stages + exits_so_far;
    }
    out->offload_macs = exits_so_far;
    for (int k = 0; k <= split; k++)
        out->offload_macs += (double)st[k].macs;
    out->split_elements = 1.0;
    for (int d = 0; d < st[split].out_ndim; d++)
        out->split_elements *= (double)st[split].out_shape[d];
    out->n_exits = n_ex;
    return 0;
}

int bf_train_evaluate_exits(bf_model *model, struct bf_dataset *data,
                            const uint32_t *idx, size_t n, int batch,
                            const double *thresholds, size_t n_thresholds,
                            struct bf_exit_point *points,
                            struct bf_exit_eval *out)
{
    struct bf_dataset_info info;
    struct batch b;
    double at_exit[BF_MODEL_MAX_EXITS] = {0};
    int64_t exit_hits[BF_MODEL_MAX_EXITS] = {0}, final1 = 0, final5 = 0;
    float *conf = NULL;
    uint8_t *hit1 = NULL, *hit5 = NULL;
    int n_stages = 0, split = 0, k5, n_ex;
    int rc;

    if (!model || !data || !out || batch < 1 || (n_thresholds && !points) ||
        (n_thresholds && !thresholds))
        return bf_err_set(BF_EINVAL, "bf_train_evaluate_exits: bad arguments");
    memset(out, 0, sizeof(*out));
    rc = bf_dataset_info(data, &info);
    if (rc == 0)
        rc = bf_model_stage_count(model, &n_stages);
    if (rc == 0)
        rc = bf_model_split_stage(model, &split);
    if (rc == 0)
        rc = exit_costs(model, &info, split, at_exit, out);
    if (rc)
        return rc;
    if (!idx)
        n = info.n;
    n_ex = out->n_exits;
    k5 = info.num_classes < 5 ? info.num_classes : 5;
    for (size_t t = 0; t < n_thresholds; t++)
        points[t] = (struct bf_exit_point){.threshold = thresholds[t]};
    /* Per image of a batch: confidence and hits at each exit, then of the
     * final classifier (row n_ex). */
    conf = malloc((size_t)(n_ex + 1) * (size_t)batch * sizeof(*conf));
    hit1 = malloc((size_t)(n_ex + 1) * (size_t)batch);
    hit5 = malloc((size_t)(n_ex + 1) * (size_t)batch);
    rc = batch_init(&b, &info, (size_t)batch);
    if (rc == 0 && (!conf || !hit1 || !hit5))
        rc = bf_err_set(BF_ENOMEM, "exit evaluation of %d images", batch);
    if (rc == 0)
        rc = bf_model_set_train(model, 0);
    for (size_t at = 0; rc == 0 && at < n; at += (size_t)batch) {
        size_t m = n - at < (size_t)batch ? n - at : (size_t)batch;
        bf_tensor *logits[BF_MODEL_MAX_EXITS + 1] = {0};
        bf_tensor *head = NULL, *q = NULL;

        for (size_t i = 0; i < m; i++)
            b.idx[i] = idx ? idx[at + i] : (uint32_t)(at + i);
        rc = batch_load(&b, data, &info, b.idx, m, NULL);
        if (rc == 0)
            rc = bf_model_forward_exits(model, b.x, split, logits, &head);
        if (rc == 0)
            rc = bf_tensor_fake_quantize_u8(head, &q);
        if (rc == 0)
            rc = bf_model_forward(model, q, split + 1, n_stages - 1,
                                  &logits[n_ex]);
        for (int e = 0; rc == 0 && e <= n_ex; e++)
            rc = bf_tensor_classify(logits[e], b.y, k5, conf + (size_t)e * m,
                                    hit1 + (size_t)e * m, hit5 + (size_t)e * m,
                                    m);
        for (int e = 0; e <= BF_MODEL_MAX_EXITS; e++)
            bf_tensor_free(logits[e]);
        bf_tensor_free(head);
        bf_tensor_free(q);
        if (rc)
            break;
        for (size_t i = 0; i < m; i++) {
            for (int e = 0; e < n_ex; e++)
                exit_hits[e] += hit1[(size_t)e * m + i];
            final1 += hit1[(size_t)n_ex * m + i];
            final5 += hit5[(size_t)n_ex * m + i];
            for (size_t t = 0; t < n_thresholds; t++) {
                struct bf_exit_point *pt = &points[t];
                int e = 0;

                while (e < n_ex && conf[(size_t)e * m + i] < pt->threshold)
                    e++;
                pt->top1 += hit1[(size_t)e * m + i];
                pt->top5 += hit5[(size_t)e * m + i];
                if (e < n_ex) {
                    pt->exit_fraction[e] += 1.0;
                    pt->device_macs += at_exit[e];
                } else {
                    pt->offload_fraction += 1.0;
                    pt->device_macs += out->offload_macs;
                }
            }
        }
    }
    if (rc == 0 && n > 0) {
        double dn = (double)n;

        out->n = (int64_t)n;
        for (int e = 0; e < n_ex; e++)
            out->exit_top1[e] = 100.0 * (double)exit_hits[e] / dn;
        out->final_top1 = 100.0 * (double)final1 / dn;
        out->final_top5 = 100.0 * (double)final5 / dn;
        for (size_t t = 0; t < n_thresholds; t++) {
            struct bf_exit_point *pt = &points[t];

            pt->top1 = 100.0 * pt->top1 / dn;
            pt->top5 = 100.0 * pt->top5 / dn;
            for (int e = 0; e < n_ex; e++)
                pt->exit_fraction[e] /= dn;
            pt->offload_fraction /= dn;
            pt->device_macs /= dn;
            pt->payload_bytes =
                pt->offload_fraction * (out->split_elements + 5.0);
        }
    }
    batch_free(&b);
    free(conf);
    free(hit1);
    free(hit5);
    return rc;
}

/* Training */

static int stop_requested(const struct bf_train_params *p)
{
    return p->stop && *p->stop;
}

/* The last student stage a phase's training forward runs: as far as its
 * loss reads (see bf_train.h). */
static int run_last(const struct bf_train_phase *ph, int n_stages)
{
    switch (ph->loss) {
    case BF_TRAIN_LOSS_HND:
        return DECODER_STAGE;
    case BF_TRAIN_LOSS_GHND:
        return n_stages - 2;
    case BF_TRAIN_LOSS_RECON:
        return ph->train_last;
    default:
        return n_stages - 1;
    }
}

/* Freeze everything but the phase's stages; set train/eval modes (see
 * bf_train.h). */
static int prepare_phase(const struct bf_train_params *p,
                         const struct bf_train_phase *ph, int n_stages)
{
    int rc = bf_model_freeze_stages(p->student, 0, n_stages - 1, 1);
    int last = run_last(ph, n_stages);
    /* Frozen stages before the trained ones: the autoencoder's runner
     * keeps the teacher's head in eval mode. */
    int head_train = ph->loss == BF_TRAIN_LOSS_RECON ? 0 : p->frozen_bn_train;

    if (ph->loss == BF_TRAIN_LOSS_EXITS) {
        /* Only the exits learn; the backbone stays the teacher. */
        if (rc == 0)
            rc = bf_model_set_train(p->student, 1);
        if (rc == 0)
            rc = bf_model_set_train_stages(p->student, 0, n_stages - 1, 0);
        return rc;
    }
    if (rc == 0)
        rc = bf_model_freeze_stages(p->student, ph->train_first, ph->train_last,
                                    0);
    if (rc == 0)
        rc = bf_model_set_train(p->student, 1);
    if (rc == 0 && ph->train_first > 0)
        rc = bf_model_set_train_stages(p->student, 0, ph->train_first - 1,
                                       head_train);
    if (rc == 0 && ph->train_last < last)
        rc = bf_model_set_train_stages(p->student, ph->train_last + 1, last,
                                       p->frozen_bn_train);
    /* Stages the forward does not reach: eval, as they are never run. */
    if (rc == 0 && last < n_stages - 1)
        rc = bf_model_set_train_stages(p->student, last + 1, n_stages - 1, 0);
    return rc;
}

double bf_train_lr_at(const struct bf_train_schedule *s, int e)
{
    int steps = 0;

    if (s->lr_parts > 1) {
        int prev = 0;

        /* floor(epochs * k / parts) never falls as k rises: each distinct
         * milestone (0 is none) below e is one step. */
        for (int k = 1; k < s->lr_parts; k++) {
            int m = (int)((int64_t)s->epochs * k / s->lr_parts);

            steps += m > prev && e > m;
            prev = m;
        }
    } else if (s->lr_step_epochs > 0) {
        steps = (e - 1) / s->lr_step_epochs;
    }
    return s->lr * pow(s->lr_gamma, steps);
}

/* Sum of the exits' cross-entropies: a forward up to the split only. */
static int exits_loss(bf_model *student, const bf_tensor *x, const bf_tensor *y,
                      bf_tensor **loss)
{
    bf_tensor *logits[BF_MODEL_MAX_EXITS] = {0};
    int split = 0;
    int rc = bf_model_split_stage(student, &split);

    if (rc == 0)
        rc = bf_model_forward_exits(student, x, split, logits, NULL);
    for (int i = 0; rc == 0 && i < BF_MODEL_MAX_EXITS && logits[i]; i++) {
        bf_tensor *term = NULL, *sum = NULL;

        rc = bf_loss_cross_entropy(logits[i], y, &term);
        if (rc == 0 && *loss) {
            rc = bf_tensor_add(*loss, term, &sum);
            bf_tensor_free(term);
            bf_tensor_free(*loss);
            *loss = sum;
        } else if (rc == 0) {
            *loss = term;
        }
    }
    for (int i = 0; i < BF_MODEL_MAX_EXITS; i++)
        bf_tensor_free(logits[i]);
    if (rc == 0 && !*loss)
        rc = bf_err_set(BF_EINVAL, "the student has no exits");
    if (rc) {
        bf_tensor_free(*loss);
        *loss = NULL;
    }
    return rc;
}

int bf_train_batch_loss(bf_model *student, bf_model *teacher,
                        const struct bf_train_phase *ph, const bf_tensor *x,
                        const bf_tensor *y, double kd_temperature,
                        double kd_alpha, bf_tensor **loss)
{
    bf_tensor *s[BF_MODEL_MAX_STAGES] = {0};
    bf_tensor *t[BF_MODEL_MAX_STAGES] = {0};
    int n_stages = 0, t_last = 0;
    int rc;

    if (!student || !ph || !x || !y || !loss)
        return bf_err_set(BF_EINVAL, "bf_train_batch_loss: NULL argument");
    *loss = NULL;
    rc = bf_model_stage_count(student, &n_stages);
    if (rc)
        return rc;
    if (ph->loss == BF_TRAIN_LOSS_EXITS)
        return exits_loss(student, x, y, loss);
    rc = bf_model_forward_all(student, x, 0, run_last(ph, n_stages), s);
    if (rc)
        return rc;
    if (ph->loss != BF_TRAIN_LOSS_CE && ph->loss != BF_TRAIN_LOSS_RECON) {
        if (!teacher) {
            rc = bf_err_set(BF_EINVAL, "phase %s: its loss needs a teacher",
                            ph->name);
            goto out;
        }
        t_last = ph->loss == BF_TRAIN_LOSS_KD ? n_stages - 1 + TEACHER_OFFSET
                 : ph->loss == BF_TRAIN_LOSS_HND
                     ? DECODER_STAGE + TEACHER_OFFSET
                     : n_stages - 2 + TEACHER_OFFSET;
        rc = bf_model_forward_all(teacher, x, 0, t_last, t);
        if (rc)
            goto out;
    }
    switch (ph->loss) {
    case BF_TRAIN_LOSS_CE:
        rc = bf_loss_cross_entropy(s[n_stages - 1], y, loss);
        break;
    case BF_TRAIN_LOSS_KD:
        rc = bf_loss_kd(s[n_stages - 1], t[t_last], y, kd_temperature, kd_alpha,
                        loss);
        break;
    case BF_TRAIN_LOSS_HND:
        rc = bf_loss_mse_sum(s[DECODER_STAGE],
                             t[DECODER_STAGE + TEACHER_OFFSET], loss);
        break;
    case BF_TRAIN_LOSS_RECON:
        rc = bf_loss_mse_sum(s[ph->train_last], s[ph->train_first - 1], loss);
        break;
    case BF_TRAIN_LOSS_EXITS: /* handled above */
        break;
    case BF_TRAIN_LOSS_GHND:
        rc = bf_loss_mse_sum(s[DECODER_STAGE],
                             t[DECODER_STAGE + TEACHER_OFFSET], loss);
        for (int i = DECODER_STAGE + 1; rc == 0 && i <= n_stages - 2; i++) {
            bf_tensor *term = NULL, *sum = NULL;

            rc = bf_loss_mse_sum(s[i], t[i + TEACHER_OFFSET], &term);
            if (rc == 0)
                rc = bf_tensor_add(*loss, term, &sum);
            bf_tensor_free(term);
            if (rc == 0) {
                bf_tensor_free(*loss);
                *loss = sum;
            }
        }
        break;
    }
out:
    for (int i = 0; i < BF_MODEL_MAX_STAGES; i++) {
        bf_tensor_free(s[i]);
        bf_tensor_free(t[i]);
    }
    if (rc) {
        bf_tensor_free(*loss);
        *loss = NULL;
    }
    return rc;
}

static int check_phase(const struct bf_train_params *p,
                       const struct bf_train_phase *ph, int n_stages)
{
    const struct bf_train_schedule *s = &ph->schedule;
    int bottleneck = 0, channels = 0;

    if (ph->loss == BF_TRAIN_LOSS_EXITS
            ? ph->train_first != -1 || ph->train_last != -1
            : ph->train_first < 0 || ph->train_last >= n_stages ||
                  ph->train_first > ph->train_last)
        return bf_err_set(BF_ERANGE, "phase %s: stages %d..%d of %d", ph->name,
                          ph->train_first, ph->train_last, n_stages);
    if (s->epochs < 0 || s->batch < 1 || !(s->lr > 0.0))
        return bf_err_set(BF_ERANGE, "phase %s: epochs %d, batch %d, lr %g",
                          ph->name, s->epochs, s->batch, s->lr);
    if (ph->loss == BF_TRAIN_LOSS_RECON && ph->train_first < 1)
        return bf_err_set(BF_EINVAL,
                          "phase %s: reconstruction needs the "
                          "stage before the autoencoder",
                          ph->name);
    if (ph->loss != BF_TRAIN_LOSS_CE && ph->loss != BF_TRAIN_LOSS_RECON &&
        ph->loss != BF_TRAIN_LOSS_EXITS && !p->teacher)
        return bf_err_set(BF_EINVAL, "phase %s: its loss needs a teacher",
                          ph->name);
    bf_model_bottleneck(p->student, &bottleneck, &channels);
    if ((ph->loss == BF_TRAIN_LOSS_HND || ph->loss == BF_TRAIN_LOSS_GHND) &&
        !bottleneck)
        return bf_err_set(BF_EINVAL,
                          "phase %s: head distillation needs a "
                          "bottleneck-injected student",
                          ph->name);
    return 0;
}

/* The selection metric on the validation items (see bf_train.h). */
static int validate(const struct bf_train_params *p,
                    const struct bf_train_phase *ph, double *top1)
{
    struct bf_dataset *data =
        p->split->val_data ? p->split->val_data : p->split->data;
    int batch = p->eval_batch ? p->eval_batch : 256;
    int rc;

    if (ph->loss == BF_TRAIN_LOSS_EXITS) {
        struct bf_exit_eval ev = {0};

        rc =
            bf_train_evaluate_exits(p->student, data, p->split->val_idx,
                                    p->split->n_val, batch, NULL, 0, NULL, &ev);
        *top1 = 0.0;
        for (int i = 0; rc == 0 && i < ev.n_exits; i++)
            *top1 += ev.exit_top1[i] / ev.n_exits;
    } else {
        struct bf_eval_result ev = {0};

        rc = bf_train_evaluate(p->student, data, p->split->val_idx,
                               p->split->n_val, batch, -1, &ev);
        *top1 = ev.top1;
        bf_eval_result_free(&ev);
    }
    return rc;
}

/* Whether a phase's loss sums over the batch's images (the reference's
 * reduction for its distillation and reconstruction losses). */
static int sums_images(enum bf_train_loss loss)
{
    return loss == BF_TRAIN_LOSS_HND || loss == BF_TRAIN_LOSS_GHND ||
           loss == BF_TRAIN_LOSS_RECON;
}

static int run_phase(const struct bf_train_params *p,
                     const struct bf_train_phase *ph, int n_stages,
                     const struct bf_dataset_info *info, uint32_t *order,
                     struct bf_train_result *res, int *epochs_done)
{
    const struct bf_train_schedule *s = &ph->schedule;
    struct bf_optim_params op = {.kind = s->optimizer,
                                 .lr = s->lr,
                                 .momentum = s->momentum,
                                 .weight_decay = s->weight_decay};
    struct bf_optim *opt = NULL;
    struct batch b;
    struct bf_rng aug;
    size_t n_batches =
        (p->split->n_train + (size_t)s->batch - 1) / (size_t)s->batch;
    int64_t images = 0;
    int rc;

    if (s->max_batches > 0 && (size_t)s->max_batches < n_batches)
        n_batches = (size_t)s->max_batches;
    rc = batch_init(&b, info, (size_t)s->batch);
    if (rc)
        goto out;
    rc = prepare_phase(p, ph, n_stages);
    if (rc == 0)
        rc = bf_optim_create(p->student, &op, &opt);
    for (int e = 1; rc == 0 && e <= s->epochs; e++) {
        double lr = bf_train_lr_at(s, e);
        double loss_sum = 0.0, loss_images = 0.0;
        int64_t t0 = bf_clock_now_ns(), t1;
        struct bf_eval_result val = {0};
        struct bf_train_epoch rec;
        char label[96];

        rc = bf_optim_set_lr(opt, lr);
        if (rc == 0)
            rc = prepare_phase(p, ph, n_stages);
        memcpy(order, p->split->train_idx, p->split->n_train * sizeof(*order));
        bf_dataset_shuffle(order, p->split->n_train, p->seed,
                           (uint64_t)(*epochs_done + e));
        bf_dataset_set_epoch(p->split->data, (uint32_t)(*epochs_done + e));
        bf_rng_init(&aug, p->seed, 1000 + (uint64_t)(*epochs_done + e));
        snprintf(label, sizeof(label), "train %s epoch %d/%d", ph->name, e,
                 s->epochs);
        for (size_t k = 0; rc == 0 && k < n_batches; k++) {
            size_t at = k * (size_t)s->batch;
            size_t m = p->split->n_train - at < (size_t)s->batch
                           ? p->split->n_train - at
                           : (size_t)s->batch;
            bf_tensor *loss = NULL;
            double v = 0.0;

            if (stop_requested(p)) {
                rc = bf_err_set(BF_EINTR, "training interrupted");
                break;
            }
            rc = batch_load(&b, p->split->data, info, order + at, m,
                            p->augment ? &aug : NULL);
            /* Decoding of the next batch overlaps this one's step
             * (ImageFolder data; a no-op for IDX). */
            if (rc == 0 && k + 1 < n_batches) {
                size_t next = at + (size_t)s->batch;
                size_t nm = p->split->n_train - next < (size_t)s->batch
                                ? p->split->n_train - next
                                : (size_t)s->batch;

                rc = bf_dataset_prefetch(p->split->data, order + next, nm);
            }
            if (rc == 0)
                rc = bf_train_batch_loss(p->student, p->teacher, ph, b.x, b.y,
                                         p->kd_temperature, p->kd_alpha, &loss);
            if (rc == 0)
                rc = bf_optim_zero_grad(opt);
            if (rc == 0)
                rc = bf_tensor_backward(loss);
            if (rc == 0)
                rc = bf_optim_step(opt);
            if (rc == 0)
                rc = bf_tensor_item(loss, &v);
            bf_tensor_free(loss);
            loss_sum += v;
            /* The batch's loss summed over its images. */
            loss_images += sums_images(ph->loss) ? v : v * (double)m;
            images += (int64_t)m;
            if (rc == 0 && (k % 20 == 0 || k + 1 == n_batches)) {
                char detail[64];

                snprintf(detail, sizeof(detail), "loss %.4g per image",
                         sums_images(ph->loss) ? v / (double)m : v);
                bf_log_progress(label, (long)k + 1, (long)n_batches, detail);
            }
        }
        bf_log_progress_done();
        if (rc)
            break;
        t1 = bf_clock_now_ns();
        rc = validate(p, ph, &val.top1);
        if (rc)
            break;
        rec = (struct bf_train_epoch){
            .phase = ph->name,
            .epoch = e,
            .lr = lr,
            .train_loss = loss_sum / (double)n_batches,
            .train_loss_per_image =
                images > 0 ? loss_images / (double)images : NAN,
            .val_top1 = val.top1,
            .seconds = (double)(t1 - t0) / 1e9,
            .images_per_s = (double)images / ((double)(t1 - t0) / 1e9),
            .best = val.top1 > res->best_val_top1 || !res->best_phase,
        };
        images = 0;
        if (rec.best) {
            res->best_val_top1 = val.top1;
            res->best_phase = ph->name;
            res->best_epoch = e;
            rc = bf_model_save(p->student, p->checkpoint_path);
            if (rc)
                break;
        }
        bf_log_info("%s epoch %d/%d: loss %.4g per image, val top-1 %.2f "
                    "%%%s, %.0f images/s",
                    ph->name, e, s->epochs, rec.train_loss_per_image,
                    rec.val_top1, rec.best ? " (best)" : "", rec.images_per_s);
        if (p->hooks && p->hooks->epoch &&
            p->hooks->epoch(p->hooks->ctx, &rec)) {
            rc = bf_err_set(BF_EINTR, "training stopped by its caller");
            break;
        }
    }
    *epochs_done += s->epochs;
out:
    bf_optim_free(opt);
    batch_free(&b);
    return rc;
}

int bf_train_strategy(const char *name, int freeze_encoder, int n_stages,
                      struct bf_train_phase phases[2], size_t *n_phases)
{
    static const struct bf_train_schedule ghnd = {.optimizer = "adam",
                                                  .lr = 1e-3,
                                                  .epochs = 10,
                                                  .batch = 64,
                                                  .lr_parts = 2,
                                                  .lr_gamma = 0.1};
    static const struct bf_train_schedule stage2 = {.optimizer = "sgd",
                                                    .lr = 1e-3,
                                                    .momentum = 0.9,
                                                    .weight_decay = 5e-4,
                                                    .epochs = 10,
                                                    .batch = 64,
                                                    .lr_parts = 2,
                                                    .lr_gamma = 0.1};
    static const struct bf_train_schedule baseline_sgd = {.optimizer = "sgd",
                                                          .lr = 1e-3,
                                                          .momentum = 0.9,
                                                          .weight_decay = 1e-4,
                                                          .epochs = 20,
                                                          .batch = 32,
                                                          .lr_parts = 4,
                                                          .lr_gamma = 0.1};
    static const struct bf_train_schedule hnd = {.optimizer = "adam",
                                                 .lr = 1e-3,
                                                 .epochs = 20,
                                                 .batch = 32,
                                                 .lr_parts = 4,
                                                 .lr_gamma = 0.1};
    const int last = n_stages - 1;
    int fe = freeze_encoder;

    if (!name || !phases || !n_phases || n_stages < 3)
        return bf_err_set(BF_EINVAL, "bf_train_strategy: bad arguments");
    if (strcmp(name, "bottlefit") == 0) {
        name = "ghnd-kd";
        fe = 1;
    }
    if (strcmp(name, "naive") == 0 || strcmp(name, "kd") == 0) {
        int kd = name[0] == 'k';

        phases[0] = (struct bf_train_phase){.name = kd ? "kd" : "naive",
                                            .loss = kd ? BF_TRAIN_LOSS_KD
                                                       : BF_TRAIN_LOSS_CE,
                                            .train_first = 0,
                                            .train_last = last,
                                            .schedule = baseline_sgd};
        *n_phases = 1;
        return 0;
    }
    if (strcmp(name, "ae-split") == 0) {
        /* ae_encoder and ae_decoder precede stage3, stage4, classifier. */
        phases[0] = (struct bf_train_phase){.name = "autoencoder",
                                            .loss = BF_TRAIN_LOSS_RECON,
                                            .train_first = n_stages - 5,
                                            .train_last = n_stages - 4,
                                            .schedule = hnd};
        *n_phases = 1;
        return 0;
    }
    if (strcmp(name, "spinn-split") == 0) {
        phases[0] = (struct bf_train_phase){.name = "exits",
                                            .loss = BF_TRAIN_LOSS_EXITS,
                                            .train_first = -1,
                                            .train_last = -1,
                                            .schedule = hnd};
        *n_phases = 1;
        return 0;
    }
    if (strcmp(name, "hnd") == 0) {
        phases[0] = (struct bf_train_phase){.name = "hnd",
                                            .loss = BF_TRAIN_LOSS_HND,
                                            .train_first = 0,
                                            .train_last = DECODER_STAGE,
                                            .schedule = hnd};
        *n_phases = 1;
        return 0;
    }
    if (strcmp(name, "ghnd") == 0 || strcmp(name, "ghnd-ft") == 0 ||
        strcmp(name, "ghnd-kd") == 0) {
        phases[0] = (struct bf_train_phase){.name = "stage1",
                                            .loss = BF_TRAIN_LOSS_GHND,
                                            .train_first = 0,
                                            .train_last = DECODER_STAGE,
                                            .schedule = ghnd};
        *n_phases = 1;
        if (strcmp(name, "ghnd") == 0)
            return 0;
        phases[1] = (struct bf_train_phase){
            .name = "stage2",
            .loss = name[5] == 'k' ? BF_TRAIN_LOSS_KD : BF_TRAIN_LOSS_CE,
            .train_first = fe ? 1 : 0,
            .train_last = last,
            .schedule = stage2};
        *n_phases = 2;
        return 0;
    }
    return bf_err_set(
        BF_EINVAL, "unknown strategy '%s' (known: %s)", name,
        "naive, kd, hnd, ghnd, ghnd-ft, ghnd-kd, bottlefit, ae-split, "
        "spinn-split");
}

int bf_train_run(const struct bf_train_params *p,
                 struct bf_train_result *result)
{
    struct bf_dataset_info info;
    struct bf_train_result res = {0};
    uint32_t *order = NULL;
    int64_t start = bf_clock_now_ns();
    int n_stages = 0, epochs_done = 0;
    int rc;

    if (!p || !p->split || !p->student || !p->phases || !result ||
        !p->checkpoint_path || !p->split->data || p->split->n_train == 0 ||
        p->split->n_val == 0)
        return bf_err_set(BF_EINVAL, "bf_train_run: missing parameters or "
                                     "an empty training or validation split");
    rc = bf_dataset_info(p->split->data, &info);
    if (rc == 0)
        rc = bf_model_stage_count(p->student, &n_stages);
    for (size_t i = 0; rc == 0 && i < p->n_phases; i++)
        rc = check_phase(p, &p->phases[i], n_stages);
    if (rc)
        return rc;
    order = malloc(p->split->n_train * sizeof(*order));
    if (!order)
        return bf_err_set(BF_ENOMEM, "training order of %zu items",
                          p->split->n_train);
    if (p->teacher)
        rc = bf_model_set_train(p->teacher, 0);
    for (size_t i = 0; rc == 0 && i < p->n_phases; i++)
        rc = run_phase(p, &p->phases[i], n_stages, &info, order, &res,
                       &epochs_done);
    /* Keep the best epoch, also after an interruption. */
    if (res.best_phase) {
        int lrc = bf_model_load(p->student, p->checkpoint_path);

        if (rc == 0)
            rc = lrc;
    }
    if (rc == 0 || rc == BF_EINTR) {
        res.seconds = (double)(bf_clock_now_ns() - start) / 1e9;
        *result = res;
    }
    free(order);
    bf_model_set_train(p->student, 0);
    return rc;
}
