/*
 * bf_faults: regressions injected at link time, for the tests that prove
 * `bfbench compare` catches them (tests/test_compare.c).
 *
 * The test build links bench/bf_main.c with this file into
 * `bfbench_faults`, wrapping shim and link calls with `-Wl,--wrap`. With
 * BF_FAULT unset every wrapper calls the real function and nothing else,
 * so the binary behaves as bfbench; BF_FAULT names one fault:
 *
 *   quant-level   the wire quantizer's zero point is one level off (every
 *                 transmitted value decodes one step too low)
 *   channels      the bottleneck is built with one channel fewer than the
 *                 scenario (and the case row) records
 *   lr-100x       every optimizer runs at a hundredth of the learning rate
 *                 the schedule asks for (and records)
 *   forward-2x    every inference forward pass runs twice (2x slower)
 *   link-2x       every emulated link takes twice as long: half its
 *                 configured rate and twice its round-trip time
 *
 * Nothing here is linked into bfbench itself.
 */
#include "bf_link.h"
#include "bf_torch.h"

#include <stdlib.h>
#include <string.h>

int __real_bf_tensor_quantize_u8(const bf_tensor *x, uint8_t *q, size_t n,
                                 float *scale, int *zero_point);
int __wrap_bf_tensor_quantize_u8(const bf_tensor *x, uint8_t *q, size_t n,
                                 float *scale, int *zero_point);
int __real_bf_model_inject_bottleneck(
    bf_model *model, const struct bf_bottleneck_params *params);
int __wrap_bf_model_inject_bottleneck(
    bf_model *model, const struct bf_bottleneck_params *params);
int __real_bf_optim_create(bf_model *model,
                           const struct bf_optim_params *params,
                           bf_optim **out);
int __wrap_bf_optim_create(bf_model *model,
                           const struct bf_optim_params *params,
                           bf_optim **out);
int __real_bf_optim_set_lr(bf_optim *optim, double lr);
int __wrap_bf_optim_set_lr(bf_optim *optim, double lr);
int __real_bf_model_forward(bf_model *model, const bf_tensor *input, int first,
                            int last, bf_tensor **out);
int __wrap_bf_model_forward(bf_model *model, const bf_tensor *input, int first,
                            int last, bf_tensor **out);
int __real_bf_link_open(const struct bf_link_params *params,
                        struct bf_link **out);
int __wrap_bf_link_open(const struct bf_link_params *params,
                        struct bf_link **out);

/* Whether BF_FAULT names this fault. */
static int fault(const char *name)
{
    const char *f = getenv("BF_FAULT");

    return f && strcmp(f, name) == 0;
}

int __wrap_bf_tensor_quantize_u8(const bf_tensor *x, uint8_t *q, size_t n,
                                 float *scale, int *zero_point)
{
    int rc = __real_bf_tensor_quantize_u8(x, q, n, scale, zero_point);

    if (rc == 0 && fault("quant-level") && *zero_point < 255)
        *zero_point += 1;
    return rc;
}

int __wrap_bf_model_inject_bottleneck(bf_model *model,
                                      const struct bf_bottleneck_params *params)
{
    struct bf_bottleneck_params p = *params;

    if (fault("channels") && p.channels > 1)
        p.channels--;
    return __real_bf_model_inject_bottleneck(model, &p);
}

int __wrap_bf_optim_create(bf_model *model,
                           const struct bf_optim_params *params, bf_optim **out)
{
    struct bf_optim_params p = *params;

    if (fault("lr-100x"))
        p.lr /= 100.0;
    return __real_bf_optim_create(model, &p, out);
}

int __wrap_bf_optim_set_lr(bf_optim *optim, double lr)
{
    return __real_bf_optim_set_lr(optim, fault("lr-100x") ? lr / 100.0 : lr);
}

int __wrap_bf_model_forward(bf_model *model, const bf_tensor *input, int first,
                            int last, bf_tensor **out)
{
    if (fault("forward-2x")) {
        bf_tensor *waste = NULL;
        int rc = __real_bf_model_forward(model, input, first, last, &waste);

        bf_tensor_free(waste);
        if (rc)
            return rc;
    }
    return __real_bf_model_forward(model, input, first, last, out);
}

int __wrap_bf_link_open(const struct bf_link_params *params,
                        struct bf_link **out)
{
    struct bf_link_params p = *params;

    if (fault("link-2x")) {
        p.rate_mbps /= 2.0;
        p.rtt_ms *= 2.0;
    }
    return __real_bf_link_open(&p, out);
}
