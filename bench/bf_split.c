/* bf_split: a configuration's model cut into device and edge parts. */
#define _POSIX_C_SOURCE 200809L
#include "bf_split.h"

#include "bf_artifact.h"
#include "bf_clock.h"
#include "bf_codec.h"
#include "bf_dataset.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_rng.h"
#include "bf_torch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum config {
    CONFIG_LOCAL,
    CONFIG_EDGE,
    CONFIG_BOTTLEFIT,
    CONFIG_AE,
    CONFIG_SPINN,
};

static const char *const config_names[] = {
    [CONFIG_LOCAL] = "local",         [CONFIG_EDGE] = "edge",
    [CONFIG_BOTTLEFIT] = "bottlefit", [CONFIG_AE] = "ae-split",
    [CONFIG_SPINN] = "spinn-split",
};

#define N_CONFIGS (sizeof(config_names) / sizeof(config_names[0]))

struct bf_split {
    enum config config;
    int null_model;
    bf_model *model; /* NULL for the null model */
    int n_stages;
    int split; /* last device stage; -1: none (edge), n-1 (local) */
    double exit_threshold;
    int n_exits;
    int zstd_send; /* entropy-code the 8-bit tensor */
    struct bf_split_info info;
    int64_t tx_shape[3]; /* transmitted tensor, C x H x W */
    struct bf_codec *jpeg;
    struct bf_codec *zstd;
    float *scratch; /* normalised input, in_c x in_h x in_w */
    struct bf_buf decoded;
};

int bf_split_config_known(const char *config)
{
    for (size_t i = 0; i < N_CONFIGS; i++)
        if (config && strcmp(config, config_names[i]) == 0)
            return 1;
    return 0;
}

static int parse_config(const char *name, enum config *out)
{
    for (size_t i = 0; i < N_CONFIGS; i++)
        if (name && strcmp(name, config_names[i]) == 0) {
            *out = (enum config)i;
            return 0;
        }
    return bf_err_set(BF_EINVAL,
                      "unknown configuration '%s' (known: local, edge, "
                      "bottlefit, ae-split, spinn-split)",
                      name ? name : "(null)");
}

int bf_split_precision(const char *name)
{
    int precision = BF_PRECISION_FP32;

    if (name && name[0] && bf_precision_parse(name, &precision))
        bf_err_clear();
    return precision;
}

/* The configured model: modification, weights, inference path. */
static int build_model(struct bf_split *s, const struct bf_split_params *p)
{
    struct bf_model_params mp = {.arch = p->model, .seed = p->seed};
    struct bf_infer_params ip = {.fold_bn = p->fold_bn,
                                 .channels_last = p->channels_last,
                                 .precision = p->precision};
    int rc = bf_model_create(&mp, &s->model);

    if (rc)
        return rc;
    switch (s->config) {
    case CONFIG_BOTTLEFIT: {
        struct bf_bottleneck_params bp = {.version = p->bottleneck_version,
                                          .channels = p->bottleneck_channels};

        rc = bf_model_inject_bottleneck(s->model, &bp);
        break;
    }
    case CONFIG_AE:
        rc = bf_model_inject_autoencoder(s->model, p->bottleneck_channels);
        break;
    case CONFIG_SPINN:
        rc = bf_split_attach_spinn_exits(s->model);
        s->n_exits = 2;
        break;
    default:
        break;
    }
    if (rc)
        return rc;
    if (p->weights && p->weights[0]) {
        rc = bf_artifact_verify(p->weights);
        if (rc == 0)
            rc = bf_model_load(s->model, p->weights);
        if (rc)
            return rc;
    }
    if (p->device && p->device[0]) {
        rc = bf_model_to_device(s->model, p->device);
        if (rc)
            return rc;
    }
    rc = bf_model_stage_count(s->model, &s->n_stages);
    if (rc)
        return rc;
    if (s->config == CONFIG_LOCAL)
        s->split = s->n_stages - 1;
    else if (s->config == CONFIG_EDGE)
        s->split = -1;
    else if ((rc = bf_model_split_stage(s->model, &s->split)) != 0)
        return rc;
    return bf_model_set_inference(s->model, &ip);
}

int bf_split_attach_spinn_exits(bf_model *model)
{
    int after[2];
    int rc = bf_model_stage_find(model, "stage1", &after[0]);

    if (rc == 0)
        rc = bf_model_stage_find(model, "stage2", &after[1]);
    if (rc == 0)
        rc = bf_model_attach_exits(model, after, 2);
    return rc;
}

/* Parameters, MACs and the transmitted shape, from the stage table. */
static int describe(struct bf_split *s)
{
    struct bf_stage_info st[BF_MODEL_MAX_STAGES];
    struct bf_split_info *in = &s->info;
    int n = 0;
    int rc = bf_model_describe(s->model, in->in_h, in->in_w, st,
                               BF_MODEL_MAX_STAGES, &n);

    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        in->params += st[i].params;
        in->macs += st[i].macs;
        if (i <= s->split) {
            in->head_params += st[i].params;
            in->head_macs += st[i].macs;
        }
    }
    if (s->n_exits) {
        struct bf_exit_info ex[BF_MODEL_MAX_EXITS];
        int ne = 0;

        rc = bf_model_describe_exits(s->model, in->in_h, in->in_w, ex, &ne);
        if (rc)
            return rc;
        for (int i = 0; i < ne; i++) {
            in->params += ex[i].params;
            in->head_params += ex[i].params;
            in->head_macs += ex[i].macs;
        }
    }
    if (s->split >= 0 && s->split < n - 1) {
        const struct bf_stage_info *o = &st[s->split];

        if (o->out_ndim != 3)
            return bf_err_set(BF_ESHAPE, "split output of rank %d",
                              o->out_ndim);
        for (int d = 0; d < 3; d++)
            s->tx_shape[d] = o->out_shape[d];
    }
    return 0;
}

int bf_split_open(const struct bf_split_params *p, struct bf_split **out)
{
    struct bf_split *s;
    int rc;

    if (!p || !p->model || !out)
        return bf_err_set(BF_EINVAL, "bf_split_open: NULL argument");
    s = calloc(1, sizeof(*s));
    if (!s)
        return bf_err_set(BF_ENOMEM, "split");
    bf_buf_init(&s->decoded);
    rc = parse_config(p->config, &s->config);
    if (rc)
        goto fail;
    s->exit_threshold = p->exit_threshold;
    s->null_model = strcmp(p->model, BF_SPLIT_NULL_MODEL) == 0;
    if (s->null_model) {
        int size = p->input_size_px ? p->input_size_px : 100;

        s->info.in_channels = 1;
        s->info.in_h = s->info.in_w = size;
        s->split = s->config == CONFIG_EDGE ? -1 : 0;
        s->n_stages = 1;
        if (s->config != CONFIG_LOCAL && s->config != CONFIG_EDGE) {
            s->tx_shape[0] = 1;
            s->tx_shape[1] = s->tx_shape[2] = size;
        }
    } else {
        struct bf_arch_info arch;

        rc = bf_arch_find(p->model, &arch);
        if (rc)
            goto fail;
        s->info.in_channels = arch.in_channels;
        s->info.in_h = s->info.in_w =
            p->input_size_px ? p->input_size_px : arch.native_size_px;
        rc = build_model(s, p);
        if (rc)
            goto fail;
        rc = describe(s);
        if (rc)
            goto fail;
    }
    s->info.offloads = s->config != CONFIG_LOCAL;
    if (s->tx_shape[0])
        snprintf(s->info.split_shape, sizeof(s->info.split_shape),
                 "%lldx%lldx%lld", (long long)s->tx_shape[0],
                 (long long)s->tx_shape[1], (long long)s->tx_shape[2]);
    if (s->config == CONFIG_EDGE) {
        struct bf_codec_params cp = {.quality = p->jpeg_quality};

        rc = bf_codec_open("jpeg", &cp, &s->jpeg);
        if (rc)
            goto fail;
    }
    if (s->tx_shape[0]) {
        struct bf_codec_params cp = {
            .max_decoded_bytes =
                (size_t)(s->tx_shape[0] * s->tx_shape[1] * s->tx_shape[2])};

        rc = bf_codec_open("zstd", &cp, &s->zstd);
        if (rc)
            goto fail;
    }
    s->zstd_send = p->zstd != 0;
    s->scratch = malloc((size_t)s->info.in_channels * s->info.in_h *
                        s->info.in_w * sizeof(*s->scratch));
    if (!s->scratch) {
        rc = bf_err_set(BF_ENOMEM, "split input buffer");
        goto fail;
    }
    /* On a GPU the weights' upload and folding are queued on this thread's
     * stream: done before an edge worker's own stream reads them. */
    if (!s->null_model && (rc = bf_model_sync(s->model)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    bf_split_close(s);
    return rc;
}

void bf_split_close(struct bf_split *s)
{
    if (!s)
        return;
    bf_model_free(s->model);
    bf_codec_close(s->jpeg);
    bf_codec_close(s->zstd);
    bf_buf_free(&s->decoded);
    free(s->scratch);
    free(s);
}

void bf_split_get_info(const struct bf_split *s, struct bf_split_info *out)
{
    *out = s->info;
}

/* Pixels (h x w x c) -> a normalised 1 x c x h x w tensor. */
static int to_tensor(struct bf_split *s, const uint8_t *px, bf_tensor **out)
{
    static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
    static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
    int c = s->info.in_channels, h = s->info.in_h, w = s->info.in_w;
    int64_t shape[4] = {1, c, h, w};

    for (int k = 0; k < c; k++) {
        float mean = c == 1 ? BF_DATASET_FMNIST_MEAN : imagenet_mean[k];
        float inv = 1.0f / (c == 1 ? BF_DATASET_FMNIST_STD : imagenet_std[k]);
        float *dst = s->scratch + (size_t)k * h * w;

        for (int i = 0; i < h * w; i++)
            dst[i] = ((float)px[(size_t)i * c + k] / 255.0f - mean) * inv;
    }
    return bf_tensor_from_f32(shape, 4, s->scratch, out);
}

/* The transmitted tensor as an 8-bit request, zstd-coded when asked. */
static int encode_tensor(struct bf_split *s, const bf_tensor *x,
                         struct bf_proto_request *req, struct bf_buf *payload)
{
    size_t n = (size_t)(s->tx_shape[0] * s->tx_shape[1] * s->tx_shape[2]);
    float scale;
    int zp;
    char *q;
    int rc = bf_buf_extend(payload, n, &q);

    if (rc)
        return rc;
    rc = bf_tensor_quantize_u8(x, (uint8_t *)q, n, &scale, &zp);
    if (rc)
        return rc;
    if (s->zstd_send) {
        struct bf_payload in = {.data = (const uint8_t *)q, .len = n};

        bf_buf_reset(&s->decoded);
        rc = bf_codec_encode(s->zstd, &in, &s->decoded);
        if (rc)
            return rc;
        bf_buf_reset(payload);
        rc = bf_buf_append(payload, s->decoded.data, s->decoded.len);
        if (rc)
            return rc;
    }
    req->kind = s->zstd_send ? BF_PROTO_U8_ZSTD : BF_PROTO_U8;
    req->ndim = 3;
    for (int d = 0; d < 3; d++)
        req->shape[d] = (uint32_t)s->tx_shape[d];
    req->scale = scale;
    req->zero_point = zp;
    req->payload_len = (uint32_t)payload->len;
    return 0;
}

/* Device answer from logits (local, an early exit): its top-k. */
static int answer(const bf_tensor *logits, struct bf_split_device_result *r)
{
    int64_t shape[BF_TENSOR_MAX_DIMS];
    float score[BF_SPLIT_TOPK];
    int64_t classes = 1;
    int nd = 0;
    int rc = bf_tensor_shape(logits, shape, BF_TENSOR_MAX_DIMS, &nd);

    for (int d = 1; rc == 0 && d < nd; d++)
        classes *= shape[d];
    if (rc)
        return rc;
    r->k = classes < BF_SPLIT_TOPK ? (int)classes : BF_SPLIT_TOPK;
    rc = bf_tensor_topk(logits, r->k, r->topk, score);
    if (rc == 0) {
        r->cls = r->topk[0];
        r->score = score[0];
    }
    return rc;
}

/* spinn-split: the first exit confident enough answers. */
static int spinn_head(struct bf_split *s, const bf_tensor *x, bf_tensor **y,
                      struct bf_split_device_result *r)
{
    bf_tensor *logits[BF_MODEL_MAX_EXITS] = {0};
    int rc = bf_model_forward_exits(s->model, x, s->split, logits, y);

    for (int i = 0; rc == 0 && i < s->n_exits && r->offload; i++) {
        struct bf_split_device_result e = *r;

        rc = answer(logits[i], &e);
        if (rc == 0 && e.score >= s->exit_threshold) {
            *r = e;
            r->offload = 0;
            r->exit_index = i;
        }
    }
    for (int i = 0; i < BF_MODEL_MAX_EXITS; i++)
        bf_tensor_free(logits[i]);
    return rc;
}

int bf_split_device(struct bf_split *s, const uint8_t *pixels,
                    uint32_t config_id, uint64_t request_id,
                    struct bf_proto_request *req, struct bf_buf *payload,
                    struct bf_split_device_result *out)
{
    struct bf_split_device_result r = {.offload = s->info.offloads,
                                       .head_ns = -1,
                                       .encode_ns = -1,
                                       .exit_index = -1};
    bf_tensor *x = NULL, *y = NULL;
    int64_t t0 = bf_clock_now_ns(), t1;
    int rc = 0;

    memset(req, 0, sizeof(*req));
    req->config_id = config_id;
    req->request_id = request_id;
    bf_buf_reset(payload);
    if (s->config == CONFIG_EDGE) {
        struct bf_payload in = {.data = pixels,
                                .len = (size_t)s->info.in_h * s->info.in_w *
                                       s->info.in_channels,
                                .width = s->info.in_w,
                                .height = s->info.in_h,
                                .channels = s->info.in_channels};

        rc = bf_codec_encode(s->jpeg, &in, payload);
        if (rc)
            return rc;
        req->kind = BF_PROTO_JPEG;
        req->payload_len = (uint32_t)payload->len;
        r.encode_ns = bf_clock_now_ns() - t0;
        *out = r;
        return 0;
    }
    rc = to_tensor(s, pixels, &x);
    if (rc)
        goto out;
    if (s->null_model)
        y = x, x = NULL;
    else if (s->config == CONFIG_SPINN)
        rc = spinn_head(s, x, &y, &r);
    else
        rc = bf_model_forward(s->model, x, 0, s->split, &y);
    if (rc == 0 && !s->null_model)
        rc = bf_model_sync(s->model); /* a GPU's queued work is the head's */
    if (rc)
        goto out;
    if (s->config == CONFIG_LOCAL) {
        rc = answer(y, &r);
        if (rc)
            goto out;
    }
    t1 = bf_clock_now_ns();
    r.head_ns = t1 - t0;
    if (r.offload) {
        rc = encode_tensor(s, y, req, payload);
        if (rc)
            goto out;
        r.encode_ns = bf_clock_now_ns() - t1;
    }
    *out = r;
out:
    bf_tensor_free(x);
    bf_tensor_free(y);
    return rc;
}

/* The tail's input from a request: JPEG pixels or an 8-bit tensor. */
static int edge_input(struct bf_split *s, const struct bf_proto_request *req,
                      const uint8_t *payload, bf_tensor **x)
{
    int64_t shape[4] = {1, s->tx_shape[0], s->tx_shape[1], s->tx_shape[2]};
    const uint8_t *q = payload;
    struct bf_payload dec;
    size_t n;
    int rc;

    if (s->config == CONFIG_EDGE) {
        if (req->kind != BF_PROTO_JPEG)
            return bf_err_set(BF_EPROTO,
                              "edge expects a JPEG request, got "
                              "kind %d",
                              req->kind);
        bf_buf_reset(&s->decoded);
        rc = bf_codec_decode(s->jpeg, payload, req->payload_len, &s->decoded,
                             &dec);
        if (rc)
            return bf_err_set(BF_EPROTO, "JPEG payload: %s", bf_last_error());
        if (dec.width != s->info.in_w || dec.height != s->info.in_h ||
            dec.channels != s->info.in_channels)
            return bf_err_set(BF_EPROTO,
                              "JPEG is %dx%dx%d, the model takes %dx%dx%d",
                              dec.width, dec.height, dec.channels, s->info.in_w,
                              s->info.in_h, s->info.in_channels);
        return to_tensor(s, dec.data, x);
    }
    if (req->kind != BF_PROTO_U8 && req->kind != BF_PROTO_U8_ZSTD)
        return bf_err_set(BF_EPROTO, "%s expects an 8-bit tensor, got kind %d",
                          config_names[s->config], req->kind);
    if (req->ndim != 3 || req->shape[0] != (uint32_t)s->tx_shape[0] ||
        req->shape[1] != (uint32_t)s->tx_shape[1] ||
        req->shape[2] != (uint32_t)s->tx_shape[2])
        return bf_err_set(BF_EPROTO,
                          "tensor %ux%ux%u (ndim %d), the split "
                          "sends %s",
                          req->shape[0], req->shape[1], req->shape[2],
                          req->ndim, s->info.split_shape);
    n = (size_t)(s->tx_shape[0] * s->tx_shape[1] * s->tx_shape[2]);
    if (req->kind == BF_PROTO_U8_ZSTD) {
        bf_buf_reset(&s->decoded);
        rc = bf_codec_decode(s->zstd, payload, req->payload_len, &s->decoded,
                             &dec);
        if (rc)
            return bf_err_set(BF_EPROTO, "zstd payload: %s", bf_last_error());
        if (dec.len != n)
            return bf_err_set(BF_EPROTO,
                              "zstd payload decodes to %zu bytes, "
                              "the shape says %zu",
                              dec.len, n);
        q = dec.data;
    }
    return bf_tensor_dequantize_u8(q, shape, 4, req->scale, req->zero_point, x);
}

int bf_split_edge(struct bf_split *s, const struct bf_proto_request *req,
                  const uint8_t *payload, struct bf_proto_reply *reply)
{
    bf_tensor *x = NULL, *y = NULL;
    uint32_t cls[BF_SPLIT_TOPK];
    float score[BF_SPLIT_TOPK];
    int64_t t0, t1;
    int k;
    int rc;

    if (!s->info.offloads)
        return bf_err_set(BF_EPROTO, "configuration local serves nothing");
    /* On a GPU, this worker's own stream (nothing on the CPU); outside
     * the timed window, since a thread's first bind waits for the GPU. */
    rc = s->null_model ? 0 : bf_model_bind_thread(s->model);
    if (rc)
        return rc;
    t0 = bf_clock_now_ns();
    rc = edge_input(s, req, payload, &x);
    if (rc)
        goto out;
    t1 = bf_clock_now_ns();
    reply->decode_ns = (uint64_t)(t1 - t0);
    if (s->null_model)
        y = x, x = NULL;
    else
        rc = bf_model_forward(s->model, x, s->split + 1, s->n_stages - 1, &y);
    if (rc)
        goto out;
    {
        int64_t shape[BF_TENSOR_MAX_DIMS];
        int nd = 0;
        int64_t classes = 1;

        rc = bf_tensor_shape(y, shape, BF_TENSOR_MAX_DIMS, &nd);
        if (rc)
            goto out;
        for (int d = 1; d < nd; d++)
            classes *= shape[d];
        k = classes < BF_SPLIT_TOPK ? (int)classes : BF_SPLIT_TOPK;
    }
    rc = bf_tensor_topk(y, k, cls, score);
    if (rc)
        goto out;
    reply->status = BF_PROTO_OK;
    reply->k = (uint8_t)k;
    for (int i = 0; i < k; i++) {
        reply->topk[i].cls = cls[i];
        reply->topk[i].score = score[i];
    }
    reply->tail_ns = (uint64_t)(bf_clock_now_ns() - t1);
out:
    bf_tensor_free(x);
    bf_tensor_free(y);
    return rc;
}

void bf_split_synthetic_image(uint64_t seed, int h, int w, int channels,
                              uint8_t *pixels)
{
    struct bf_rng rng;
    double fx[3], fy[3], ph[3], bx[4], by[4], br[4], bv[4];

    bf_rng_init(&rng, seed, 0x51a7);
    for (int k = 0; k < 3; k++) {
        fx[k] = 0.5 + 3.0 * bf_rng_uniform(&rng);
        fy[k] = 0.5 + 3.0 * bf_rng_uniform(&rng);
        ph[k] = 6.283185307 * bf_rng_uniform(&rng);
    }
    for (int b = 0; b < 4; b++) {
        bx[b] = bf_rng_uniform(&rng);
        by[b] = bf_rng_uniform(&rng);
        br[b] = 0.05 + 0.2 * bf_rng_uniform(&rng);
        bv[b] = bf_rng_uniform(&rng) - 0.5;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (double)x / w, v = (double)y / h;

            for (int c = 0; c < channels; c++) {
                double val = 0.5 + 0.25 * sin(6.283185307 * fx[c] * u + ph[c]) *
                                       cos(6.283185307 * fy[c] * v);

                for (int b = 0; b < 4; b++) {
                    double dx = u - bx[b], dy = v - by[b];

                    if (dx * dx + dy * dy < br[b] * br[b])
                        val += bv[b] * (0.6 + 0.1 * c);
                }
                val += 0.04 * (bf_rng_uniform(&rng) - 0.5);
                val = val < 0 ? 0 : val > 1 ? 1 : val;
                pixels[((size_t)y * w + x) * channels + c] =
                    (uint8_t)lrint(val * 255.0);
            }
        }
}

int bf_split_layers(struct bf_split *s, int which_edge,
                    struct bf_layer_info **layers, size_t *n)
{
    int first, last;

    if (!s || !layers || !n)
        return bf_err_set(BF_EINVAL, "bf_split_layers: NULL argument");
    *layers = NULL;
    *n = 0;
    first = which_edge ? s->split + 1 : 0;
    last = which_edge ? s->n_stages - 1 : s->split;
    if (s->null_model || first > last)
        return 0;
    return bf_model_layers_alloc(s->model, s->info.in_h, s->info.in_w, first,
                                 last, layers, n);
}

/* Known-answer checks */

/* Fixed inputs: n floats in [-3, 5) with a few exact ties and a spike. */
static void known_input(float *x, size_t n, uint64_t stream)
{
    struct bf_rng rng;

    bf_rng_init(&rng, 0x6b6e6f776eULL, stream);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(8.0 * bf_rng_uniform(&rng) - 3.0);
    x[0] = -3.0f; /* the minimum lands on the grid */
    x[n / 2] = 0.0f;
    x[n - 1] = 5.0f;
}

/* Append v's IEEE bits, little-endian, to the hash. */
static void hash_f32(struct bf_sha256 *h, float v)
{
    uint32_t u;
    unsigned char le[4];

    memcpy(&u, &v, sizeof(u));
    for (int i = 0; i < 4; i++)
        le[i] = (unsigned char)(u >> (8 * i));
    bf_sha256_update(h, le, sizeof(le));
}

/* Digest the float contents of a tensor of n elements. */
static int hash_tensor(const bf_tensor *t, size_t n, float *scratch,
                       struct bf_sha256 *h)
{
    int rc = bf_tensor_copy_f32(t, scratch, n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        hash_f32(h, scratch[i]);
    return rc;
}

int bf_split_known_answers(struct bf_check_row rows[BF_SPLIT_CHECKS],
                           char digests[BF_SPLIT_CHECKS][65])
{
    enum { C = 4, H = 7, W = 7, N = C * H * W };
    static const int64_t one[4] = {1, C, H, W}, two[4] = {2, C, H, W};
    float x[2 * N], back[2 * N];
    uint8_t q[N];
    float scale = 0.0f;
    int zp = 0;
    bf_tensor *t = NULL, *d = NULL;
    struct bf_sha256 h;
    int rc;

    known_input(x, N, 1);
    known_input(x + N, N, 2);
    for (size_t i = N; i < 2 * N; i++)
        x[i] *= 0.01f; /* a second sample with another range */
    rc = bf_tensor_from_f32(one, 4, x, &t);
    if (rc == 0)
        rc = bf_tensor_quantize_u8(t, q, N, &scale, &zp);
    if (rc)
        goto out;
    bf_sha256_init(&h);
    bf_sha256_update(&h, q, N);
    hash_f32(&h, scale);
    hash_f32(&h, (float)zp);
    bf_sha256_final(&h, digests[0]);
    rc = bf_tensor_dequantize_u8(q, one + 1, 3, scale, zp, &d);
    if (rc)
        goto out;
    bf_sha256_init(&h);
    rc = hash_tensor(d, N, back, &h);
    if (rc)
        goto out;
    bf_sha256_final(&h, digests[1]);
    bf_tensor_free(t);
    bf_tensor_free(d);
    t = d = NULL;
    rc = bf_tensor_from_f32(two, 4, x, &t);
    if (rc == 0)
        rc = bf_tensor_fake_quantize_u8(t, &d);
    if (rc)
        goto out;
    bf_sha256_init(&h);
    rc = hash_tensor(d, 2 * N, back, &h);
    if (rc)
        goto out;
    bf_sha256_final(&h, digests[2]);
    rows[0] = (struct bf_check_row){"quantize_u8", digests[0]};
    rows[1] = (struct bf_check_row){"dequantize_u8", digests[1]};
    rows[2] = (struct bf_check_row){"fake_quantize_u8", digests[2]};
out:
    bf_tensor_free(t);
    bf_tensor_free(d);
    return rc;
}
