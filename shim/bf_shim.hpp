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

// t on the device of like (labels meeting a model's outputs).
inline torch::Tensor on_device_of(const torch::Tensor &t,
                                  const torch::Tensor &like)
{
    return t.device() == like.device() ? t : t.to(like.device());
}

} // namespace bfshim

#endif // BF_SHIM_HPP
