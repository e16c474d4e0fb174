/*
 * bf_split: one split-computing configuration of a model, cut where it
 * crosses the network into its device part (preprocess, head, encode) and
 * its edge part (decode, tail). The client runs the device part, the edge
 * server the edge part; each side opens its own bf_split from the same
 * parameters, so random weights (seeded) agree on both sides.
 *
 * Configurations (the names of scenarios and the DB):
 *   local        the whole model on the device; nothing is sent.
 *   edge         the input image is JPEG-encoded on the device (no head);
 *                the server decodes it and runs the whole model.
 *   bottlefit    a BottleFit bottleneck injected (bottleneck_version,
 *                bottleneck_channels): the encoder runs on the device, its
 *                output crosses as an 8-bit tensor.
 *   ae-split     the unmodified model cut after stage2 with an autoencoder
 *                (bottleneck_channels): the head is stem..ae_encoder.
 *   spinn-split  the unmodified model cut after stage2 with early exits
 *                after stage1 and stage2: the device answers when an exit's
 *                softmax confidence reaches exit_threshold, else sends the
 *                stage2 output as an 8-bit tensor.
 * The model "null" is the identity (no torch model): the device sends the
 * input itself (8-bit, or JPEG for `edge`) and the server answers with the
 * top-k of what it decoded. With the ideal link it measures the harness's
 * own cost per request.
 *
 * Inputs are images as 8-bit pixels, height x width x channels (the
 * split's input geometry, bf_split_info); they are normalised with
 * Fashion-MNIST's mean and std (1 channel) or ImageNet's (3 channels). Batch
 * size is 1.
 *
 * Weights: NULL or "" is a seeded random initialisation; otherwise a
 * weights file of the model as configured (a BottleFit student checkpoint
 * for bottlefit, an autoencoder-split or SPINN-style checkpoint for those,
 * the plain model for local and edge), loaded after the modification.
 *
 * A bf_split is not thread safe: one caller at a time (the edge server
 * holds a lock per endpoint).
 */
#ifndef BF_SPLIT_H
#define BF_SPLIT_H

#include "bf_buf.h"
#include "bf_proto.h"
#include "bf_record.h"
#include "bf_torch.h"

struct bf_layer_info;

#include <stddef.h>
#include <stdint.h>

/* The model name of the identity. */
#define BF_SPLIT_NULL_MODEL "null"
/* Classes in a reply's top-k. */
#define BF_SPLIT_TOPK 5

struct bf_split_params {
    const char *config;      /* "local", "edge", "bottlefit", ... */
    const char *model;       /* zoo architecture or "null" */
    const char *weights;     /* NULL or "": seeded random */
    uint64_t seed;           /* random weights */
    int input_size_px;       /* 0: the model's native size */
    int bottleneck_version;  /* bottlefit: 0 (the default) .. 3 */
    int bottleneck_channels; /* bottlefit, ae-split: channels at the split */
    int fold_bn;             /* the folded inference path */
    int channels_last;       /* NHWC */
    int jpeg_quality;        /* edge: 1..100 */
    int zstd;                /* entropy-code the 8-bit tensor */
    double exit_threshold;   /* spinn-split: confidence to leave early */
    int precision;           /* enum bf_precision of the folded path */
    const char *device;      /* where it computes; NULL or "": cpu */
};

/* The enum bf_precision called name (a case's `precision`, validated when
 * the scenario loaded): fp32 for NULL, "" or an unknown name. */
int bf_split_precision(const char *name);

/* What a split is, for the case row. */
struct bf_split_info {
    int offloads; /* 0 for local: nothing is ever sent */
    int in_channels, in_h, in_w;
    int64_t params, macs;           /* the whole configured model */
    int64_t head_params, head_macs; /* the device part (0 for edge) */
    char split_shape[64];           /* "12x29x29", "" when no tensor crosses */
};

/* What the device part did with one image. */
struct bf_split_device_result {
    int offload;       /* 1: the request must be sent; 0: answered here */
    int64_t head_ns;   /* preprocessing and head forward, -1: none */
    int64_t encode_ns; /* quantization / JPEG / zstd, -1: none */
    int exit_index;    /* spinn-split: the exit that answered, -1: none */
    uint32_t cls;      /* the device's answer when offload is 0 */
    float score;
    int k;                        /* classes in topk (device answers) */
    uint32_t topk[BF_SPLIT_TOPK]; /* most probable first; topk[0] = cls */
};

struct bf_split;

/*
 * Build the configured model. BF_EINVAL names a bad config or parameter,
 * BF_EUNSUPPORTED a configuration the model's family lacks (MobileNetV2
 * has no bottleneck); shim errors pass through. Caller owns *out, free
 * with bf_split_close.
 */
int bf_split_open(const struct bf_split_params *params, struct bf_split **out);

/* Accepts NULL. */
void bf_split_close(struct bf_split *s);

void bf_split_get_info(const struct bf_split *s, struct bf_split_info *out);

/*
 * The SPINN-style baseline's exits: after stage1 and stage2, so that the
 * split is after stage2, where BottleFit's bottleneck hands over to the
 * tail. Training (bf_runner) and the network path share it, so that a
 * trained checkpoint loads into the network's model.
 */
int bf_split_attach_spinn_exits(bf_model *model);

/*
 * Known-answer checks of the split tensor's 8-bit path (schema version 7's
 * checks table): the wire quantizer (bf_tensor_quantize_u8: bytes, scale,
 * zero point), its inverse (bf_tensor_dequantize_u8) and the evaluation's
 * per-sample fake quantizer, each run on fixed inputs drawn from bf_rng
 * and digested with SHA-256. The inputs and the arithmetic (min, max, one
 * IEEE division, rounding) do not depend on the CPU's vector width, so
 * the digests are equal on every platform until the code changes. Fills
 * rows[0..BF_SPLIT_CHECKS) with names in static storage and values in
 * digests. Returns 0 or the shim's error.
 */
#define BF_SPLIT_CHECKS 3
int bf_split_known_answers(struct bf_check_row rows[BF_SPLIT_CHECKS],
                           char digests[BF_SPLIT_CHECKS][65]);

/* 1 when config names a configuration, else 0. */
int bf_split_config_known(const char *config);

/*
 * Device part on one image (pixels: in_h x in_w x in_channels bytes). When
 * out->offload is 1, *req (config_id, request_id filled in) and payload
 * (reset first) hold the request to send.
 */
int bf_split_device(struct bf_split *s, const uint8_t *pixels,
                    uint32_t config_id, uint64_t request_id,
                    struct bf_proto_request *req, struct bf_buf *payload,
                    struct bf_split_device_result *out);

/*
 * Edge part: decode the payload of *req, run the tail and fill reply's
 * top-k, decode_ns and tail_ns (status OK). A payload that does not fit
 * the split (kind, shape, a corrupt JPEG or zstd frame) is BF_EPROTO with
 * the detail saying why; the caller answers BAD_REQUEST.
 */
int bf_split_edge(struct bf_split *s, const struct bf_proto_request *req,
                  const uint8_t *payload, struct bf_proto_reply *reply);

/*
 * The layers of the device part (which_edge 0: stages 0..split with the
 * exits the device runs; local: the whole model) or of the edge part
 * (which_edge 1: the stages after the split; edge: the whole model), for
 * device latency models. *layers is NULL with *n 0 when that part runs no
 * layers (the null model, the device side of edge). Caller owns *layers,
 * free with free().
 */
int bf_split_layers(struct bf_split *s, int which_edge,
                    struct bf_layer_info **layers, size_t *n);

/*
 * A seeded synthetic image for inputs without a data set: smooth gradients
 * and blobs with mild noise, pixels h x w x channels. Labelled
 * "synthetic" wherever it is used: its JPEG size is not a photograph's.
 */
void bf_split_synthetic_image(uint64_t seed, int h, int w, int channels,
                              uint8_t *pixels);

#endif /* BF_SPLIT_H */
