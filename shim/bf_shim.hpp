// bf_shim: what the translation units behind shim/bf_torch.h share
// (internal C++): the handle structs, the live-handle counter and guarded(),
// the wrapper that turns every C++ exception into a BF_E* status.
#ifndef BF_SHIM_HPP
#define BF_SHIM_HPP

#include "bf_torch.h"
#include "bf_zoo.hpp"

#include <torch/torch.h>

#include <atomic>
#include <memory>
#include <new>
#include <string>

struct bf_model {
    std::shared_ptr<bfzoo::Net> net;
    bfzoo::ArchSpec spec;
    bool fold_requested = false;
    bool channels_last = false;
    int precision = BF_PRECISION_FP32;
    // Where its parameters live (bf_model_to_device); inputs are moved
    // here, outputs stay here.
    torch::Device device{torch::kCPU};
};

struct bf_tensor {
    torch::Tensor t;
};

struct bf_optim {
    std::unique_ptr<torch::optim::Optimizer> opt;
    std::string kind;
};

namespace bfshim
{

// Handles created and not yet freed, every kind together.
extern std::atomic<long> live_handles;

// Run body, converting every exception into a status with its message.
template <typename F> int guarded(const char *fn, F &&body)
{
    try {
        return body();
    } catch (const c10::Error &e) {
        return bf_err_set(BF_ETORCH, "%s: %s", fn, e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return bf_err_set(BF_ENOMEM, "%s: out of memory", fn);
    } catch (const std::exception &e) {
        return bf_err_set(BF_ETORCH, "%s: %s", fn, e.what());
    } catch (...) {
        return bf_err_set(BF_EINTERNAL, "%s: unknown C++ exception", fn);
    }
}

// Wrap t in a new handle the caller owns.
int new_tensor(torch::Tensor t, bf_tensor **out);

// Recompute or drop the folded weights after a change of weights or mode.
void refold(bf_model *m);

// t on the host: itself when it is there, else a copy (which waits for
// the device). Every read into C memory goes through it.
inline torch::Tensor host(const torch::Tensor &t)
{
    return t.device().is_cpu() ? t : t.to(torch::kCPU);
}

// t on device d: itself when it is there. From the host to a GPU it goes
// through pinned (page-locked) staging and a non-blocking copy on the
// thread's current stream: the caching host allocator keeps the staging
// block until that copy is done, and the kernels that read the result run
// after it on the same stream. Everything else is a plain copy.
inline torch::Tensor to_device(const torch::Tensor &t, const torch::Device &d)
{
    if (t.device() == d)
        return t;
    if (t.device().is_cpu() && d.is_cuda()) {
        torch::Tensor staged =
            torch::empty(t.sizes(), t.options().pinned_memory(true),
                         t.suggest_memory_format());
        staged.copy_(t);
        return staged.to(d, /*non_blocking=*/true);
    }
    return t.to(d);
}

// t on the device of like (labels meeting a model's outputs).
inline torch::Tensor on_device_of(const torch::Tensor &t,
                                  const torch::Tensor &like)
{
    return to_device(t, like.device());
}

// bf_cuda.cpp: the GPUs' "cuda.*=value" platform lines ("" without CUDA),
// and the caching allocator's peak bytes on d since the last reset
// (BF_EUNSUPPORTED, *bytes = -1, without CUDA).
std::string cuda_platform_info();
int device_peak_memory(const torch::Device &d, bool reset, int64_t *bytes);

} // namespace bfshim

#endif // BF_SHIM_HPP
