/*
 * bf_torch: the libtorch boundary of bottlefit-bench, a pure C11 API.
 *
 * Everything torch lives behind this header: a model zoo built natively in
 * C++ with torchvision's module and parameter names, forward over named
 * stages, parameter and multiply-accumulate counts, checkpoints and
 * torchvision weight import, and the few tensor operations the harness
 * needs. No torch header leaks into it; it compiles as C11.
 *
 * Contract of every entry point:
 * - returns an int status: 0, or a negative BF_E* code from bench/bf_err.h;
 *   the detail is in bf_last_error() (exceptions from libtorch are caught,
 *   std::exception and anything else, and their text copied there);
 * - fills its outputs only on success;
 * - every *_free accepts NULL.
 * Handles are opaque and distinct per kind. bf_torch_live_handles() counts
 * handles created and not yet freed, so tests can prove nothing leaks.
 *
 * Stages: every model is a chain of named stages (stem, stage1 .. stage4,
 * classifier); a forward runs any contiguous, inclusive range of them, and
 * running 0..n-1 equals the whole model. Stage inputs and outputs are NCHW
 * float32 tensors (the classifier's output is N x classes).
 *
 * Threads: a model call runs on the intra-op thread count last set with
 * bf_torch_set_threads() (libtorch's own default here is 1). Calls on one
 * model are not thread safe; distinct models may be used from distinct
 * threads.
 */
#ifndef BF_TORCH_H
#define BF_TORCH_H

#include "bf_err.h"
#include "bf_layer_info.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_model bf_model;
typedef struct bf_tensor bf_tensor;

/* Largest tensor rank the API passes around. */
#define BF_TENSOR_MAX_DIMS 8
/* Longest stage name and stage module list, NUL included. */
#define BF_STAGE_NAME_MAX 32
#define BF_STAGE_MODULES_MAX 160
/* Most stages a model has. */
#define BF_MODEL_MAX_STAGES 16

/* Library */

/*
 * Set the intra-op thread count (0: online cores) and pin OpenBLAS to one
 * thread so that it does not oversubscribe the cores torch already uses.
 */
int bf_torch_set_threads(int threads);

/* The intra-op thread count in force. */
int bf_torch_get_threads(int *threads);

/* Version of the linked libtorch ("1.13.1"), static storage. */
const char *bf_torch_version(void);

/*
 * The BLAS and oneDNN in use, as "openblas-pthread 0.3.21; onednn on", read
 * from the process's mapped libraries. Writes at most size bytes.
 */
int bf_torch_backend_info(char *out, size_t size);

/*
 * What selects this process's floating-point kernels, as sorted
 * "key=value" lines (each ending in a newline): blas.library, blas.core
 * and blas.config (OpenBLAS's core type and build), onednn.version,
 * onednn.isa (the ISA oneDNN dispatches to, after ONEDNN_MAX_CPU_ISA),
 * torch.cpu_capability (ATen's vectorised kernel set, after
 * ATEN_CPU_CAPABILITY) and torch.version; "unknown" where a library does
 * not say. Where libtorch has CUDA and sees a GPU, also cuda.driver_api,
 * cuda.runtime, cuda.cudnn, cuda.devices, cuda.deviceN.name, .capability,
 * .memory_mib and .multiprocessors, and cuda.tf32. BF_ERANGE when it does
 * not fit in size bytes.
 */
int bf_torch_platform_info(char *out, size_t size);

/* Handles created and not yet freed, every kind together. */
long bf_torch_live_handles(void);

/* Architectures */

struct bf_arch_info {
    const char *name;        /* "resnet152" */
    const char *family;      /* "resnet", "densenet", "mobilenet", "mini" */
    int native_size_px;      /* 224, or 28 for the small family */
    int in_channels;         /* default input channels */
    int num_classes;         /* default classes */
    const char *description; /* one line */
};

/* Number of architectures in the zoo. */
int bf_arch_count(void);

/* Information on architecture i (0 <= i < bf_arch_count()); static. */
int bf_arch_get(int i, struct bf_arch_info *out);

/* Information on a named architecture; BF_ENOENT lists the known names. */
int bf_arch_find(const char *name, struct bf_arch_info *out);

/* Nonzero when name is a zoo architecture (for scenario validation). */
int bf_arch_exists(const char *name);

/* Models */

struct bf_model_params {
    const char *arch; /* a zoo name */
    int num_classes;  /* 0: the architecture's default */
    int in_channels;  /* 0: the architecture's default */
    uint64_t seed;    /* random initialisation (torchvision's scheme) */
};

/* Build a model in eval mode. Caller owns, free with bf_model_free. */
int bf_model_create(const struct bf_model_params *params, bf_model **out);
void bf_model_free(bf_model *model);

/* Architecture name of a model; borrowed until the model is freed. */
int bf_model_arch(const bf_model *model, const char **name);

/* Number of stages. */
int bf_model_stage_count(const bf_model *model, int *count);

/* Index of the stage called name; BF_ENOENT lists the stage names. */
int bf_model_stage_find(const bf_model *model, const char *name, int *index);

/* One stage, as described for a given input size. */
struct bf_stage_info {
    char name[BF_STAGE_NAME_MAX];       /* "stage2" */
    char modules[BF_STAGE_MODULES_MAX]; /* "layer2" (torchvision modules) */
    int out_ndim;
    int64_t out_shape[BF_TENSOR_MAX_DIMS]; /* for a batch of one */
    int64_t params;                        /* parameters owned by the stage */
    int64_t macs; /* multiply-accumulates of its convolutions and linear
                     layers for one image, from the layer shapes */
};

/*
 * Describe every stage for an input of in_h x in_w (a forward of one zero
 * image through the plain path, counting). stages must hold max entries;
 * *count receives the number of stages. BF_ERANGE when max is too small,
 * BF_ESHAPE when the input size is too small for the architecture.
 */
int bf_model_describe(bf_model *model, int64_t in_h, int64_t in_w,
                      struct bf_stage_info *stages, int max, int *count);

/* Layers, for device latency models: bf_layer_info.h. */

/*
 * The layers of stages first..last (and of any attached exit whose stage
 * is in that range, as the device runs it) for an input of in_h x in_w.
 * With layers NULL only *count is set; otherwise layers must hold max
 * entries (BF_ERANGE when fewer than *count).
 */
int bf_model_layers(bf_model *model, int64_t in_h, int64_t in_w, int first,
                    int last, struct bf_layer_info *layers, int max,
                    int *count);

/*
 * The same list in a new array: *layers (caller owns, free with free(); NULL
 * when there are none) and *n.
 */
int bf_model_layers_alloc(bf_model *model, int64_t in_h, int64_t in_w,
                          int first, int last, struct bf_layer_info **layers,
                          size_t *n);

/* Total number of parameters (not buffers), as torchvision counts them. */
int bf_model_param_count(const bf_model *model, int64_t *count);

/*
 * Inference path options. fold_bn folds every BatchNorm that follows a
 * convolution into that convolution's weight and bias (from the current
 * running statistics: call after loading weights); channels_last runs
 * convolutions in NHWC. Both only affect eval-mode forwards; any load or
 * switch to train mode drops the folded weights. Outputs agree with the
 * plain path within floating-point reassociation (tested at 1e-4).
 * precision other than fp32 runs the folded path in bf16 or fp16: the
 * BatchNorms are folded in fp32 and the fused weights then cast, the other
 * modules' parameters are cast once per fold, inputs and outputs stay fp32
 * (cast on entry and exit of each forward). It needs fold_bn (BF_EINVAL
 * otherwise); fp16 needs a CUDA device (BF_EUNSUPPORTED on the CPU, where
 * libtorch has no fp16 convolutions). bf16 runs on every x86-64 CPU, fast
 * where oneDNN finds AVX512-BF16 or AMX (bf_torch_platform_info's
 * onednn.isa), emulated and slower elsewhere.
 */
enum bf_precision {
    BF_PRECISION_FP32 = 0,
    BF_PRECISION_BF16 = 1,
    BF_PRECISION_FP16 = 2
};
struct bf_infer_params {
    int fold_bn;
    int channels_last;
    int precision; /* enum bf_precision: the folded path's compute type */
};
int bf_model_set_inference(bf_model *model, const struct bf_infer_params *p);

/*
 * Autocast for the plain path (training forwards, and eval forwards that
 * are not folded): BF_PRECISION_BF16 runs libtorch's autocast in bf16 on
 * the model's device type (convolutions and linear layers in bf16,
 * BatchNorm and losses in fp32; outputs cast back to fp32),
 * BF_PRECISION_FP32 turns it off. fp16 is refused (BF_EUNSUPPORTED):
 * libtorch's C++ API has no gradient scaler.
 */
int bf_model_set_autocast(bf_model *model, int precision);

/* "fp32", "bf16" or "fp16" (static; "?" for another value). */
const char *bf_precision_name(int precision);

/* The precision called name; BF_EINVAL naming the choices. */
int bf_precision_parse(const char *name, int *precision);

/* Devices */

/*
 * Check that name ("cpu", "cuda" for cuda:0, "cuda:N") is a device this
 * libtorch can compute on. BF_EINVAL for a malformed name;
 * BF_EUNSUPPORTED when CUDA is missing (a CPU-only libtorch such as
 * Debian's, no driver or no GPU) or N is beyond the GPUs present, naming
 * what there is. On CUDA it also sets cuDNN's benchmark mode on and TF32
 * off (bf_torch_set_tf32 turns it on).
 */
int bf_torch_device_check(const char *name);

/* TF32 matrix products and convolutions on CUDA (off by default: it breaks
 * the 1e-4 parity of the folded paths). */
int bf_torch_set_tf32(int on);

/*
 * Move model (parameters, buffers, folded weights) to device name (see
 * bf_torch_device_check). Call after any injection and before creating an
 * optimizer. Forwards then move their inputs to that device and leave
 * their outputs there; losses move labels to the logits; every read into
 * C memory (bf_tensor_copy_f32, the quantizer, top-k, classify, saving)
 * copies to the host first, so the 8-bit payload is the CPU path's.
 */
int bf_model_to_device(bf_model *model, const char *name);

/* The model's device as "cpu" or "cuda:N" into out (size bytes). */
int bf_model_device(const bf_model *model, char *out, size_t size);

/* Wait until the calling thread's stream on the model's device has
 * finished its queued work (nothing to do on the CPU): call before reading
 * a clock that times a forward. Only this thread's work is waited for, so
 * one edge worker's timing never includes another's kernels. */
int bf_model_sync(const bf_model *model);

/*
 * The most bytes libtorch's caching allocator held for tensors on device
 * since the last reset (reset != 0 starts a new interval after reading).
 * *bytes = -1 on the CPU (not measured; returns 0) and where libtorch has
 * no CUDA (BF_EUNSUPPORTED, as for any unavailable device).
 */
int bf_torch_peak_memory(const char *device, int reset, int64_t *bytes);

/*
 * Make the calling thread compute the model's work on a GPU stream of its
 * own: the thread's current device becomes the model's, and its current
 * stream one taken from libtorch's pool for it, kept for the thread's life
 * (the edge server calls this in each worker before each tail, so
 * concurrent tails overlap on the GPU instead of queueing on one stream).
 * The first call in a thread waits for the device's queued work (the
 * model's setup on the default stream). Nothing to do on the CPU.
 */
int bf_model_bind_thread(const bf_model *model);

/* Train (1) or eval (0) mode; models are created in eval mode. */
int bf_model_set_train(bf_model *model, int train);

/*
 * Forward stages first..last (inclusive) on input. Eval mode runs without
 * autograd. *out receives a new tensor the caller owns (bf_tensor_free).
 * BF_ERANGE for a bad range, BF_ESHAPE for an input of the wrong shape.
 */
int bf_model_forward(bf_model *model, const bf_tensor *input, int first,
                     int last, bf_tensor **out);

/* BottleFit bottleneck */

/*
 * Replace stem..stage2 of a model with a BottleFit bottleneck (an encoder
 * that runs on the device and whose output is transmitted, and a decoder
 * that reproduces the teacher's stage2 output shape at the native input
 * size). The stages become encoder, decoder, stage3, stage4, classifier;
 * the tail keeps its weights, the new layers start from PyTorch's default
 * initialisation. version: 0 (default) or 2 for every family; 1 and 3 for
 * ResNets (reference section 2.2; the layers of versions 1 and 3 beyond the
 * published shapes are this project's assumption). channels: 1..512.
 * BF_EUNSUPPORTED for a family without a bottleneck (MobileNetV2),
 * BF_EINVAL for a bad version or channel count or a second injection.
 */
struct bf_bottleneck_params {
    int version;
    int channels;
};
int bf_model_inject_bottleneck(bf_model *model,
                               const struct bf_bottleneck_params *params);

/* The injected bottleneck's version and channels (both 0 when none). */
int bf_model_bottleneck(const bf_model *model, int *version, int *channels);

/*
 * The autoencoder-split baseline (reference section 4): insert an
 * autoencoder after stage2 of an unmodified model. Its encoder (four 2x2
 * convolutions with BatchNorm) shrinks the split tensor to channels x
 * (H-4) x (W-4); its decoder (transposed convolutions) reconstructs it.
 * Stages become stem, stage1, stage2, ae_encoder, ae_decoder, stage3,
 * stage4, classifier; the device runs stem..ae_encoder. BF_EINVAL for a
 * second injection, bad channels or a split tensor smaller than 5x5.
 */
int bf_model_inject_autoencoder(bf_model *model, int channels);

/*
 * The SPINN-style baseline: attach an early-exit classifier after each
 * stage in after[0..n) of an unmodified model (1 to BF_MODEL_MAX_EXITS
 * exits, stages strictly increasing and before the classifier). Exit i
 * classifies stage after[i]'s output: a 3x3 stride-2 convolution to
 * clamp(2 * c_in, 32, 128) channels, BatchNorm, ReLU, global average
 * pooling, a linear layer (an assumed design: the reference does not give
 * SPINN's). The exits are modules "exits.<i>", saved and loaded with the
 * model, never frozen by bf_model_freeze_stages, and in the mode of the last
 * bf_model_set_train. Load a teacher's weights before attaching. The split
 * (bf_model_split_stage) is then after[n - 1]. BF_EINVAL for a bad list or
 * a model that already has a bottleneck, an autoencoder or exits.
 */
#define BF_MODEL_MAX_EXITS 4
int bf_model_attach_exits(bf_model *model, const int *after, int n);

struct bf_exit_info {
    int after_stage; /* the stage whose output the exit classifies */
    int64_t params;
    int64_t macs; /* per image, for the input size given */
};

/* The attached exits (*count = 0 when none), with parameters and MACs for
 * an input of in_h x in_w. exits must hold BF_MODEL_MAX_EXITS entries. */
int bf_model_describe_exits(bf_model *model, int64_t in_h, int64_t in_w,
                            struct bf_exit_info *exits, int *count);

/*
 * Forward stages 0..last and every exit attached at or before last:
 * logits[i] receives exit i's logits (NULL for exits after last), *out (if
 * out is not NULL) the output of stage last; new tensors the caller owns.
 * In train mode the outputs carry autograd history.
 */
int bf_model_forward_exits(bf_model *model, const bf_tensor *input, int last,
                           bf_tensor *logits[BF_MODEL_MAX_EXITS],
                           bf_tensor **out);

/*
 * The stage whose output crosses the network: 0 (encoder) with a
 * bottleneck, 3 (ae_encoder) with an autoencoder, the last exit's stage
 * with exits; BF_ENOENT without any of them.
 */
int bf_model_split_stage(const bf_model *model, int *stage);

/* Checkpoints and weights */

/*
 * Save every parameter and buffer by its torchvision name in the project's
 * weights format ("BFW1", described in shim/bf_weights.md), with the
 * architecture in the header.
 */
int bf_model_save(const bf_model *model, const char *path);

/*
 * Load weights saved by bf_model_save or written by
 * scripts/export_torchvision.py. All-or-nothing: a missing, unexpected or
 * wrongly shaped entry is an error naming it (BF_ESHAPE / BF_EPARSE), a
 * truncated or foreign file is BF_EPARSE naming the file, and the model is
 * left unchanged.
 */
int bf_model_load(bf_model *model, const char *path);

/*
 * Check that path is a whole bfbench weights file (magic, header, every
 * entry's name, dtype and shape, sizes that fit the file) without loading
 * it: 0, BF_ENOENT / BF_EIO when unreadable, BF_EPARSE naming the path and
 * what is wrong. The scenario loader calls it for `weights` files.
 */
int bf_weights_check(const char *path);

/* Training */

typedef struct bf_optim bf_optim;

/*
 * Freeze (frozen = 1: no gradients, no optimizer updates) or unfreeze the
 * parameters of stages first..last. Create optimizers after freezing: they
 * take the parameters that require gradients at creation.
 */
int bf_model_freeze_stages(bf_model *model, int first, int last, int frozen);

/*
 * Train (1) or eval (0) mode for the modules of stages first..last only,
 * after bf_model_set_train for the whole model: a frozen part in train mode
 * keeps updating its BatchNorm running statistics (what the published code
 * does), in eval mode it does not.
 */
int bf_model_set_train_stages(bf_model *model, int first, int last, int train);

/*
 * A 64-bit fingerprint (FNV-1a) of the raw bytes of the parameters of one
 * stage, and of its buffers (BatchNorm statistics) when with_buffers is
 * set: equal fingerprints mean bit-identical values. For tests and checks
 * that frozen parts stayed frozen.
 */
int bf_model_stage_fingerprint(const bf_model *model, int stage,
                               int with_buffers, uint64_t *fingerprint);

/* Number of parameters that require gradients. */
int bf_model_trainable_count(const bf_model *model, int64_t *count);

/*
 * Forward stages first..last and return every stage's output: outs must
 * hold last - first + 1 entries, each receiving a new tensor the caller
 * owns. In train mode the outputs carry autograd history.
 */
int bf_model_forward_all(bf_model *model, const bf_tensor *input, int first,
                         int last, bf_tensor **outs);

struct bf_optim_params {
    const char *kind;    /* "sgd" or "adam" */
    double lr;           /* learning rate */
    double momentum;     /* sgd only */
    double weight_decay; /* L2, both */
};

/* An optimizer over the model's parameters that require gradients now.
 * BF_EINVAL when there are none. Caller owns, free with bf_optim_free. */
int bf_optim_create(bf_model *model, const struct bf_optim_params *params,
                    bf_optim **out);
void bf_optim_free(bf_optim *optim);
int bf_optim_set_lr(bf_optim *optim, double lr);
int bf_optim_zero_grad(bf_optim *optim);
int bf_optim_step(bf_optim *optim);

/* Losses: each returns a new scalar tensor the caller owns. */

/* Sum of squared differences (MSE with reduction "sum"). */
int bf_loss_mse_sum(const bf_tensor *a, const bf_tensor *b, bf_tensor **out);

/* Cross-entropy of logits (N x K) against int64 labels (N), batch mean. */
int bf_loss_cross_entropy(const bf_tensor *logits, const bf_tensor *labels,
                          bf_tensor **out);

/*
 * Knowledge distillation: alpha * CE(student, labels) + (1 - alpha) * T^2 *
 * KL(softmax(teacher / T) || softmax(student / T)), KL averaged over the
 * batch. The paper: T = 1, alpha = 0.5.
 */
int bf_loss_kd(const bf_tensor *student, const bf_tensor *teacher,
               const bf_tensor *labels, double temperature, double alpha,
               bf_tensor **out);

/* a + b (same shape, e.g. loss terms). */
int bf_tensor_add(const bf_tensor *a, const bf_tensor *b, bf_tensor **out);

/* Back-propagate from a scalar. */
int bf_tensor_backward(const bf_tensor *loss);

/* The value of a one-element tensor. */
int bf_tensor_item(const bf_tensor *tensor, double *value);

/* Samples whose label is among the k largest logits (top-k correct). */
int bf_tensor_topk_correct(const bf_tensor *logits, const bf_tensor *labels,
                           int k, int64_t *correct);

/*
 * Per sample of a (batch, classes) logits tensor: confidence[i] = the
 * largest softmax probability, top1[i] / topk[i] = 1 when the label is the
 * arg-max / among the k largest logits. Arrays hold n = batch entries.
 */
int bf_tensor_classify(const bf_tensor *logits, const bf_tensor *labels, int k,
                       float *confidence, uint8_t *top1, uint8_t *topk,
                       size_t n);

/*
 * Per sample of a (batch, classes) logits tensor with at most 65536
 * classes: cls[i] = the predicted class (arg-max), top1[i] / topk[i] = 1
 * when the label is the arg-max / among the k largest logits. Arrays hold
 * n = batch entries; filled only on success.
 */
int bf_tensor_predict(const bf_tensor *logits, const bf_tensor *labels, int k,
                      uint16_t *cls, uint8_t *top1, uint8_t *topk, size_t n);

/*
 * The k most probable classes of the first sample of logits (its dimensions
 * after the first flattened), by softmax probability, most probable first:
 * cls[k] and score[k]. BF_ERANGE when k is not 1..classes.
 */
int bf_tensor_topk(const bf_tensor *logits, int k, uint32_t *cls, float *score);

/* Quantization of the bottleneck (reference section 2.3): post-training,
 * asymmetric uint8, scale = (max - min) / 255, zero_point = clamp(int(-min /
 * scale), 0, 255), q = round(clamp(zero_point + x / scale, 0, 255)),
 * x' = scale * (q - zero_point). Within the grid the round-trip error is
 * at most scale / 2; because the zero point truncates, values within one
 * step of the minimum may clip with an error up to one scale (as in the
 * published code). A constant tensor (max == min, where the formula
 * divides by zero) is put at one end of the grid and round-trips exactly;
 * an all-zero tensor gets scale 1. */

/* Quantize all of x (one sample) into q[n] with its scale and zero point. */
int bf_tensor_quantize_u8(const bf_tensor *x, uint8_t *q, size_t n,
                          float *scale, int *zero_point);

/* The tensor of the given shape that q, scale and zero_point encode. */
int bf_tensor_dequantize_u8(const uint8_t *q, const int64_t *shape, int ndim,
                            float scale, int zero_point, bf_tensor **out);

/* Quantize every sample (dim 0, rows of them) of x with its own range, on
 * x's device, into q[n] (n = all elements, sample after sample), scales[rows]
 * and zero_points[rows]. The bytes equal bf_tensor_quantize_u8's of each
 * sample on the host: the division is a true division by a tensor on x's
 * device, never a multiplication by a reciprocal (which CUDA does for a
 * host scalar divisor, moving rounding ties). bf_tensor_quantize_u8 takes
 * this path for a tensor on a GPU. */
int bf_tensor_quantize_u8_rows(const bf_tensor *x, uint8_t *q, size_t n,
                               float *scales, int *zero_points, size_t rows);

/* Quantize and dequantize every sample (dim 0) of x with its own range, as
 * batch-1 transmission would (on x's device, the same codes as
 * bf_tensor_quantize_u8_rows). Caller owns the result. */
int bf_tensor_fake_quantize_u8(const bf_tensor *x, bf_tensor **out);

/* Tensors */

/*
 * A new float32 tensor of the given shape, copied from data (count =
 * product of shape), or zeros when data is NULL. Caller owns.
 */
int bf_tensor_from_f32(const int64_t *shape, int ndim, const float *data,
                       bf_tensor **out);

/* A new int64 tensor (labels) copied from data. Caller owns. */
int bf_tensor_from_i64(const int64_t *shape, int ndim, const int64_t *data,
                       bf_tensor **out);

/* A new float32 tensor of standard-normal values from seed. Caller owns. */
int bf_tensor_randn(const int64_t *shape, int ndim, uint64_t seed,
                    bf_tensor **out);

/* A copy of t on device ("cpu", "cuda", "cuda:N"; the checks of
 * bf_torch_device_check, exit-3 class errors as BF_EUNSUPPORTED). Caller
 * owns. */
int bf_tensor_to_device(const bf_tensor *t, const char *device,
                        bf_tensor **out);

/* Read the tensor called name from a weights-format file. Caller owns. */
int bf_tensor_load(const char *path, const char *name, bf_tensor **out);

void bf_tensor_free(bf_tensor *tensor);

/* Shape of a tensor: *ndim dimensions into shape[max]. */
int bf_tensor_shape(const bf_tensor *tensor, int64_t *shape, int max,
                    int *ndim);

/* Copy a float32 tensor's elements out; count must equal its numel. */
int bf_tensor_copy_f32(const bf_tensor *tensor, float *data, size_t count);

/* Largest absolute elementwise difference of two same-shape tensors. */
int bf_tensor_max_abs_diff(const bf_tensor *a, const bf_tensor *b, double *out);

#ifdef __cplusplus
}
#endif

#endif /* BF_TORCH_H */
