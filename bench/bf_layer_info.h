/*
 * bf_layer_info: one layer of a forward, as device latency models read it.
 * A plain record with no dependency, shared by the shim (which lists a
 * model's layers, shim/bf_torch.h) and the torch-free device models
 * (bf_device.h, bf_layers.h).
 */
#ifndef BF_LAYER_INFO_H
#define BF_LAYER_INFO_H

#include <stdint.h>

/*
 * Layers, for device latency models. Every convolution, grouped or
 * depthwise convolution and linear layer a forward runs, in order, with its
 * work for one image. Element counts are of the layer's input and output
 * tensors; the bytes a layer moves are 4 x (in + out + params) in fp32.
 * BatchNorm, activations, pooling, additions and concatenations are not
 * listed: a model of them scales with the listed layers' traffic.
 */
enum bf_layer_kind {
    BF_LAYER_CONV = 0,         /* dense convolution (groups == 1) */
    BF_LAYER_CONV_GROUPED = 1, /* grouped or depthwise convolution */
    BF_LAYER_LINEAR = 2,       /* fully connected */
    BF_LAYER_CONV3X3 = 3,      /* dense 3x3 stride 1 (Winograd-eligible) */
};
#define BF_LAYER_KINDS 4

struct bf_layer_info {
    int kind; /* enum bf_layer_kind */
    int stage;
    int64_t macs;
    int64_t params;
    int64_t in_elems;
    int64_t out_elems;
};

#endif /* BF_LAYER_INFO_H */
