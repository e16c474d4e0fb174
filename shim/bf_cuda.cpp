// bf_cuda: what only a CUDA build of libtorch can tell: the GPUs' names,
// memory, compute capability, driver, CUDA runtime and cuDNN versions (for
// the run's platform text) and the caching allocator's peak memory (per
// case). CMake defines BF_TORCH_CUDA when the libtorch it found links CUDA;
// Debian's libtorch (CPU only) compiles the other branch, which reports
// that there is no GPU to describe.
#include "bf_shim.hpp"

#include <torch/torch.h>

#include <cstdio>
#include <string>

#if BF_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace bfshim
{

#if BF_TORCH_CUDA

// "12.4" from CUDA's 12040-style version numbers.
static std::string cuda_version(int v)
{
    return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

std::string cuda_platform_info()
{
    if (!torch::cuda::is_available())
        return "";
    std::string text;
    int driver = 0, runtime = 0;
    if (cudaDriverGetVersion(&driver) == cudaSuccess)
        text += "cuda.driver_api=" + cuda_version(driver) + "\n";
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
        text += "cuda.runtime=" + cuda_version(runtime) + "\n";
    const auto &hooks = at::detail::getCUDAHooks();
    text += "cuda.cudnn=" +
            (hooks.hasCuDNN() ? std::to_string(hooks.versionCuDNN())
                              : std::string("none")) +
            "\n";
    int64_t n = static_cast<int64_t>(torch::cuda::device_count());
    text += "cuda.devices=" + std::to_string(n) + "\n";
    for (int64_t i = 0; i < n; i++) {
        const cudaDeviceProp *p =
            at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
        std::string key = "cuda.device" + std::to_string(i) + ".";
        char mib[32];
        std::snprintf(mib, sizeof(mib), "%zu",
                      static_cast<size_t>(p->totalGlobalMem >> 20));
        text += key + "name=" + p->name + "\n";
        text += key + "capability=" + std::to_string(p->major) + "." +
                std::to_string(p->minor) + "\n";
        text += key + "memory_mib=" + mib + "\n";
        text += key +
                "multiprocessors=" + std::to_string(p->multiProcessorCount) +
                "\n";
    }
    // What decides the numbers beside the hardware.
    text += std::string("cuda.tf32=") +
            (at::globalContext().allowTF32CuDNN() ? "on" : "off") + "\n";
    return text;
}

int device_peak_memory(const torch::Device &d, bool reset, int64_t *bytes)
{
    namespace alloc = c10::cuda::CUDACachingAllocator;
    auto stats = alloc::getDeviceStats(d.index());
    // Index 0: every pool together (StatType::AGGREGATE).
    *bytes = stats.allocated_bytes[0].peak;
    if (reset)
        alloc::resetPeakStats(d.index());
    return 0;
}

#else

std::string cuda_platform_info()
{
    return "";
}

int device_peak_memory(const torch::Device &d, bool reset, int64_t *bytes)
{
    (void)reset;
    *bytes = -1;
    return bf_err_set(BF_EUNSUPPORTED,
                      "peak memory of %s: this libtorch (%s) has no CUDA",
                      d.str().c_str(), TORCH_VERSION);
}

#endif

} // namespace bfshim
