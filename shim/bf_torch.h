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

/* Total number of parameters (not buffers), as torchvision counts them. */
int bf_model_param_count(const bf_model *model, int64_t *count);

/*
 * Inference path options. fold_bn folds every BatchNorm that follows a
 * convolution into that convolution's weight and bias (from the current
 * running statistics: call after loading weights); channels_last runs
 * convolutions in NHWC. Both only affect eval-mode forwards; any load or
 * switch to train mode drops the folded weights. Outputs agree with the
 * plain path within floating-point reassociation (tested at 1e-4).
 */
struct bf_infer_params {
    int fold_bn;
    int channels_last;
};
int bf_model_set_inference(bf_model *model, const struct bf_infer_params *p);

/* Train (1) or eval (0) mode; models are created in eval mode. */
int bf_model_set_train(bf_model *model, int train);

/*
 * Forward stages first..last (inclusive) on input. Eval mode runs without
 * autograd. *out receives a new tensor the caller owns (bf_tensor_free).
 * BF_ERANGE for a bad range, BF_ESHAPE for an input of the wrong shape.
 */
int bf_model_forward(bf_model *model, const bf_tensor *input, int first,
                     int last, bf_tensor **out);

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

/* Tensors */

/*
 * A new float32 tensor of the given shape, copied from data (count =
 * product of shape), or zeros when data is NULL. Caller owns.
 */
int bf_tensor_from_f32(const int64_t *shape, int ndim, const float *data,
                       bf_tensor **out);

/* A new float32 tensor of standard-normal values from seed. Caller owns. */
int bf_tensor_randn(const int64_t *shape, int ndim, uint64_t seed,
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
