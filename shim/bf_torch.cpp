// bf_torch: the C API of shim/bf_torch.h over libtorch and the model zoo.
//
// Every exported function runs its body through guarded(), which catches
// c10::Error, std::bad_alloc, std::exception and anything else and turns
// them into a BF_E* status with the message in bf_last_error(). Outputs are
// assigned only after every fallible step succeeded.
#include "bf_torch.h"

#include "bf_shim.hpp"
#include "bf_weights.hpp"
#include "bf_zoo.hpp"

#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/Version.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

std::atomic<long> bfshim::live_handles{0};

int bfshim::new_tensor(torch::Tensor t, bf_tensor **out)
{
    auto *h = new bf_tensor{std::move(t)};
    live_handles++;
    *out = h;
    return 0;
}

static c10::ScalarType precision_dtype(int precision)
{
    switch (precision) {
    case BF_PRECISION_BF16:
        return c10::ScalarType::BFloat16;
    case BF_PRECISION_FP16:
        return c10::ScalarType::Half;
    default:
        return c10::ScalarType::Float;
    }
}

void bfshim::refold(bf_model *m)
{
    if (m->fold_requested && !m->net->is_training())
        m->net->fold(m->channels_last, precision_dtype(m->precision));
    else
        m->net->unfold();
}

using bfshim::guarded;
using bfshim::live_handles;
using bfshim::new_tensor;
using bfshim::refold;

namespace
{

std::string arch_names()
{
    std::string s;
    for (const auto &a : bfzoo::archs())
        s += (s.empty() ? "" : ", ") + std::string(a.name);
    return s;
}

int check_shape(const int64_t *shape, int ndim, const char *fn)
{
    if (!shape || ndim < 1 || ndim > BF_TENSOR_MAX_DIMS)
        return bf_err_set(BF_EINVAL, "%s: rank %d outside 1..%d", fn, ndim,
                          BF_TENSOR_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return bf_err_set(BF_EINVAL, "%s: negative dimension %d", fn, i);
    return 0;
}

} // namespace

// Library

extern "C" int bf_torch_set_threads(int threads)
{
    return guarded("bf_torch_set_threads", [&] {
        if (threads < 0 || threads > 1024)
            return bf_err_set(BF_ERANGE, "thread count %d outside 0..1024",
                              threads);
        int n = threads;
        if (n == 0) {
            long online = sysconf(_SC_NPROCESSORS_ONLN);
            n = online > 0 ? static_cast<int>(online) : 1;
        }
        // OpenBLAS would otherwise start its own pool of threads on top of
        // torch's intra-op threads.
        using set_fn = void (*)(int);
        auto openblas_set = reinterpret_cast<set_fn>(
            dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
        if (openblas_set)
            openblas_set(1);
        at::set_num_threads(n);
        return 0;
    });
}

extern "C" int bf_torch_get_threads(int *threads)
{
    return guarded("bf_torch_get_threads", [&] {
        if (!threads)
            return bf_err_set(BF_EINVAL, "bf_torch_get_threads: NULL output");
        *threads = at::get_num_threads();
        return 0;
    });
}

extern "C" const char *bf_torch_version(void)
{
    return TORCH_VERSION;
}

extern "C" int bf_torch_backend_info(char *out, size_t size)
{
    return guarded("bf_torch_backend_info", [&] {
        if (!out || size == 0)
            return bf_err_set(BF_EINVAL, "bf_torch_backend_info: no buffer");
        // The BLAS actually mapped: Debian's alternatives decide which
        // libblas.so.3 is loaded, so read the resolved path.
        std::string blas = "unknown";
        std::ifstream maps("/proc/self/maps");
        std::string line;
        while (std::getline(maps, line)) {
            auto pos = line.find('/');
            if (pos == std::string::npos)
                continue;
            std::string path = line.substr(pos);
            if (path.find("libopenblas") != std::string::npos ||
                path.find("libblas.so") != std::string::npos ||
                path.find("libmkl") != std::string::npos) {
                blas = path;
                if (path.find("openblas") != std::string::npos)
                    break;
            }
        }
        snprintf(out, size, "blas %s; onednn %s", blas.c_str(),
                 at::hasMKLDNN() ? "on" : "off");
        return 0;
    });
}

namespace
{

// oneDNN's dnnl_version_t begins with these three fields (oneDNN 1.x-3.x).
struct dnnl_version_head {
    int major;
    int minor;
    int patch;
};

// Names of oneDNN's dnnl_cpu_isa_t values (dnnl_types.h, 2.x); others are
// shown in hex alone.
const char *dnnl_isa_name(int isa)
{
    switch (isa) {
    case 0x0:
        return "all";
    case 0x1:
        return "sse41";
    case 0x3:
        return "avx";
    case 0x7:
        return "avx2";
    case 0x407:
        return "avx2_vnni";
    case 0xf:
        return "avx512_mic";
    case 0x1f:
        return "avx512_mic_4ops";
    case 0x27:
        return "avx512_core";
    case 0x67:
        return "avx512_core_vnni";
    case 0xe7:
        return "avx512_core_bf16";
    case 0x3e7:
        return "avx512_core_amx";
    default:
        return "";
    }
}

// The value after "CPU capability usage:" in at::show_config(): the
// vectorised kernel set ATen dispatches to on this CPU.
std::string aten_capability()
{
    std::string cfg = at::show_config();
    const std::string key = "CPU capability usage:";
    auto pos = cfg.find(key);
    if (pos == std::string::npos)
        return "unknown";
    pos += key.size();
    auto end = cfg.find('\n', pos);
    std::string v = cfg.substr(pos, end == std::string::npos ? end : end - pos);
    v.erase(0, v.find_first_not_of(" \t"));
    return v.empty() ? "unknown" : v;
}

} // namespace

extern "C" int bf_torch_platform_info(char *out, size_t size)
{
    return guarded("bf_torch_platform_info", [&] {
        if (!out || size == 0)
            return bf_err_set(BF_EINVAL, "bf_torch_platform_info: no buffer");
        char backend[512];
        int rc = bf_torch_backend_info(backend, sizeof(backend));
        if (rc)
            return rc;
        std::string blas = backend;
        // backend reads "blas PATH; onednn on|off": keep the path.
        if (blas.rfind("blas ", 0) == 0)
            blas = blas.substr(5, blas.find(';') - 5);
        std::string text = "blas.library=" + blas + "\n";
        // OpenBLAS picks its kernels by core type (OPENBLAS_CORETYPE caps
        // it); the functions exist only when OpenBLAS is the BLAS loaded.
        using cstr_fn = char *(*)();
        auto corename = reinterpret_cast<cstr_fn>(
            dlsym(RTLD_DEFAULT, "openblas_get_corename"));
        auto config = reinterpret_cast<cstr_fn>(
            dlsym(RTLD_DEFAULT, "openblas_get_config"));
        text += std::string("blas.core=") +
                (corename && corename() ? corename() : "unknown") + "\n";
        std::string cfg = config && config() ? config() : "unknown";
        while (!cfg.empty() && (cfg.back() == ' ' || cfg.back() == '\n'))
            cfg.pop_back();
        text += "blas.config=" + cfg + "\n";
        // GPU lines only where CUDA is there, so a CPU's text (and the
        // fingerprint a CPU baseline is compared by) stays as it was.
        text += bfshim::cuda_platform_info();
        using isa_fn = int (*)();
        using version_fn = const dnnl_version_head *(*)();
        auto isa = reinterpret_cast<isa_fn>(
            dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
        auto version =
            reinterpret_cast<version_fn>(dlsym(RTLD_DEFAULT, "dnnl_version"));
        if (version && version()) {
            const dnnl_version_head *v = version();
            text += "onednn.version=" + std::to_string(v->major) + "." +
                    std::to_string(v->minor) + "." + std::to_string(v->patch) +
                    "\n";
        } else {
            text += "onednn.version=unknown\n";
        }
        if (isa) {
            int value = isa();
            char hex[32];
            snprintf(hex, sizeof(hex), "0x%x", static_cast<unsigned>(value));
            const char *name = dnnl_isa_name(value);
            text += std::string("onednn.isa=") + (name[0] ? name : "?") + " (" +
                    hex + ")\n";
        } else {
            text += "onednn.isa=unknown\n";
        }
        text += "torch.cpu_capability=" + aten_capability() + "\n";
        text += std::string("torch.version=") + TORCH_VERSION + "\n";
        if (text.size() >= size)
            return bf_err_set(BF_ERANGE,
                              "bf_torch_platform_info: %zu bytes, room for %zu",
                              text.size() + 1, size);
        std::memcpy(out, text.c_str(), text.size() + 1);
        return 0;
    });
}

extern "C" long bf_torch_live_handles(void)
{
    return live_handles.load();
}

// Architectures

static void fill_arch(const bfzoo::ArchSpec &a, struct bf_arch_info *out)
{
    out->name = a.name;
    out->family = a.family;
    out->native_size_px = a.native_size_px;
    out->in_channels = a.in_channels;
    out->num_classes = a.num_classes;
    out->description = a.description;
}

extern "C" int bf_arch_count(void)
{
    try {
        return static_cast<int>(bfzoo::archs().size());
    } catch (...) {
        return 0;
    }
}

extern "C" int bf_arch_get(int i, struct bf_arch_info *out)
{
    return guarded("bf_arch_get", [&] {
        if (!out || i < 0 || i >= bf_arch_count())
            return bf_err_set(BF_ERANGE, "architecture index %d outside 0..%d",
                              i, bf_arch_count() - 1);
        fill_arch(bfzoo::archs()[static_cast<size_t>(i)], out);
        return 0;
    });
}

extern "C" int bf_arch_find(const char *name, struct bf_arch_info *out)
{
    return guarded("bf_arch_find", [&] {
        if (!name || !out)
            return bf_err_set(BF_EINVAL, "bf_arch_find: NULL argument");
        const bfzoo::ArchSpec *a = bfzoo::find_arch(name);
        if (!a)
            return bf_err_set(BF_ENOENT,
                              "unknown architecture '%s' (known: %s)", name,
                              arch_names().c_str());
        fill_arch(*a, out);
        return 0;
    });
}

extern "C" int bf_arch_exists(const char *name)
{
    try {
        return name && bfzoo::find_arch(name) != nullptr;
    } catch (...) {
        return 0;
    }
}

// Models

extern "C" int bf_model_create(const struct bf_model_params *params,
                               bf_model **out)
{
    return guarded("bf_model_create", [&] {
        if (!params || !params->arch || !out)
            return bf_err_set(BF_EINVAL, "bf_model_create: NULL argument");
        const bfzoo::ArchSpec *a = bfzoo::find_arch(params->arch);
        if (!a)
            return bf_err_set(BF_ENOENT,
                              "unknown architecture '%s' (known: %s)",
                              params->arch, arch_names().c_str());
        int classes =
            params->num_classes ? params->num_classes : a->num_classes;
        int in_ch = params->in_channels ? params->in_channels : a->in_channels;
        if (classes < 1 || classes > 1000000)
            return bf_err_set(BF_ERANGE, "num_classes %d outside 1..1000000",
                              classes);
        if (in_ch < 1 || in_ch > 4096)
            return bf_err_set(BF_ERANGE, "in_channels %d outside 1..4096",
                              in_ch);
        torch::manual_seed(params->seed);
        auto net = a->build(in_ch, classes);
        net->arch = a->name;
        net->in_channels = in_ch;
        net->num_classes = classes;
        net->eval();
        auto *m = new bf_model{net, *a};
        live_handles++;
        *out = m;
        return 0;
    });
}

extern "C" void bf_model_free(bf_model *model)
{
    if (!model)
        return;
    delete model;
    live_handles--;
}

extern "C" int bf_model_arch(const bf_model *model, const char **name)
{
    if (!model || !name)
        return bf_err_set(BF_EINVAL, "bf_model_arch: NULL argument");
    *name = model->spec.name;
    return 0;
}

extern "C" int bf_model_stage_count(const bf_model *model, int *count)
{
    if (!model || !count)
        return bf_err_set(BF_EINVAL, "bf_model_stage_count: NULL argument");
    *count = static_cast<int>(model->net->stages.size());
    return 0;
}

extern "C" int bf_model_stage_find(const bf_model *model, const char *name,
                                   int *index)
{
    return guarded("bf_model_stage_find", [&] {
        if (!model || !name || !index)
            return bf_err_set(BF_EINVAL, "bf_model_stage_find: NULL argument");
        std::string known;
        const auto &stages = model->net->stages;
        for (size_t i = 0; i < stages.size(); i++) {
            if (stages[i].name == name) {
                *index = static_cast<int>(i);
                return 0;
            }
            known += (i ? ", " : "") + stages[i].name;
        }
        return bf_err_set(BF_ENOENT, "%s has no stage '%s' (stages: %s)",
                          model->spec.name, name, known.c_str());
    });
}

// Parameters under a module-name prefix ("layer2", "exits.0").
static int64_t prefix_params(const bfzoo::Net &net, const std::string &prefix)
{
    int64_t n = 0;
    for (const auto &p : net.named_parameters(true)) {
        const std::string &k = p.key();
        if (k.size() > prefix.size() &&
            k.compare(0, prefix.size(), prefix) == 0 && k[prefix.size()] == '.')
            n += p.value().numel();
    }
    return n;
}

static int64_t stage_params(const bfzoo::Net &net, size_t stage)
{
    int64_t n = 0;
    for (const std::string &prefix : net.stage_prefixes[stage])
        n += prefix_params(net, prefix);
    return n;
}

extern "C" int bf_model_describe(bf_model *model, int64_t in_h, int64_t in_w,
                                 struct bf_stage_info *stages, int max,
                                 int *count)
{
    return guarded("bf_model_describe", [&] {
        if (!model || !stages || !count)
            return bf_err_set(BF_EINVAL, "bf_model_describe: NULL argument");
        auto &net = *model->net;
        int n = static_cast<int>(net.stages.size());
        if (max < n)
            return bf_err_set(BF_ERANGE, "%s has %d stages, room for %d",
                              model->spec.name, n, max);
        if (in_h < 1 || in_w < 1 || in_h > 8192 || in_w > 8192)
            return bf_err_set(BF_ERANGE, "input size %ldx%ld outside 1..8192",
                              static_cast<long>(in_h), static_cast<long>(in_w));
        bool was_training = net.is_training();
        net.eval();
        torch::NoGradGuard no_grad;
        torch::Tensor y = torch::zeros({1, net.in_channels, in_h, in_w},
                                       torch::TensorOptions(model->device));
        std::vector<bf_stage_info> info(static_cast<size_t>(n));
        for (int i = 0; i < n; i++) {
            const auto &s = net.stages[static_cast<size_t>(i)];
            bfzoo::MacCounter counter;
            try {
                y = s.plain(y);
            } catch (const c10::Error &e) {
                if (was_training)
                    net.train();
                return bf_err_set(BF_ESHAPE,
                                  "%s: input %ldx%ld too small at stage '%s': "
                                  "%s",
                                  model->spec.name, static_cast<long>(in_h),
                                  static_cast<long>(in_w), s.name.c_str(),
                                  e.what_without_backtrace());
            }
            bf_stage_info &si = info[static_cast<size_t>(i)];
            snprintf(si.name, sizeof(si.name), "%s", s.name.c_str());
            snprintf(si.modules, sizeof(si.modules), "%s", s.modules.c_str());
            si.out_ndim = static_cast<int>(y.dim()) - 1;
            for (int d = 1; d < y.dim(); d++)
                si.out_shape[d - 1] = y.size(d);
            si.params = stage_params(net, static_cast<size_t>(i));
            si.macs = counter.total();
        }
        if (was_training)
            net.train();
        for (int i = 0; i < n; i++)
            stages[i] = info[static_cast<size_t>(i)];
        *count = n;
        return 0;
    });
}

extern "C" int bf_model_param_count(const bf_model *model, int64_t *count)
{
    return guarded("bf_model_param_count", [&] {
        if (!model || !count)
            return bf_err_set(BF_EINVAL, "bf_model_param_count: NULL argument");
        int64_t n = 0;
        for (const auto &p : model->net->parameters(true))
            n += p.numel();
        *count = n;
        return 0;
    });
}

extern "C" int bf_model_set_inference(bf_model *model,
                                      const struct bf_infer_params *p)
{
    return guarded("bf_model_set_inference", [&] {
        if (!model || !p)
            return bf_err_set(BF_EINVAL, "bf_model_set_inference: NULL");
        if (p->precision < BF_PRECISION_FP32 ||
            p->precision > BF_PRECISION_FP16)
            return bf_err_set(BF_EINVAL,
                              "precision %d unknown (fp32, bf16, "
                              "fp16)",
                              p->precision);
        if (p->precision != BF_PRECISION_FP32 && !p->fold_bn)
            return bf_err_set(BF_EINVAL,
                              "precision %s needs the folded path (fold_bn)",
                              bf_precision_name(p->precision));
        if (p->precision == BF_PRECISION_FP16 && model->device.is_cpu())
            return bf_err_set(BF_EUNSUPPORTED,
                              "precision fp16 needs a CUDA device: libtorch "
                              "has no fp16 convolutions on the CPU (bf16 "
                              "runs there)");
        model->fold_requested = p->fold_bn != 0;
        model->channels_last = p->channels_last != 0;
        model->precision = p->precision;
        refold(model);
        return 0;
    });
}

// Devices

// Parse "cpu", "cuda", "cuda:N" (N 0..99) into *out; BF_EINVAL otherwise.
static int parse_device(const char *name, torch::Device *out)
{
    if (!name)
        return bf_err_set(BF_EINVAL, "device: NULL name");
    if (std::strcmp(name, "cpu") == 0) {
        *out = torch::Device(torch::kCPU);
        return 0;
    }
    if (std::strcmp(name, "cuda") == 0) {
        *out = torch::Device(torch::kCUDA, 0);
        return 0;
    }
    if (std::strncmp(name, "cuda:", 5) == 0 && name[5] >= '0' &&
        name[5] <= '9' &&
        (name[6] == '\0' ||
         (name[6] >= '0' && name[6] <= '9' && name[7] == '\0'))) {
        *out = torch::Device(torch::kCUDA,
                             static_cast<c10::DeviceIndex>(atoi(name + 5)));
        return 0;
    }
    return bf_err_set(BF_EINVAL,
                      "device '%s' unknown (cpu, cuda, cuda:N with N "
                      "0..99)",
                      name);
}

static int check_device(const torch::Device &d, const char *name)
{
    if (d.is_cpu())
        return 0;
    if (!torch::cuda::is_available())
        return bf_err_set(BF_EUNSUPPORTED,
                          "device '%s': CUDA is not available to this "
                          "libtorch (%s): a CPU-only build (Debian's "
                          "libtorch-dev is one), no NVIDIA driver or no "
                          "GPU; build against a CUDA libtorch (README, "
                          "\"GPUs\") or use device cpu",
                          name, TORCH_VERSION);
    size_t n = torch::cuda::device_count();
    if (static_cast<size_t>(d.index()) >= n)
        return bf_err_set(BF_EUNSUPPORTED,
                          "device '%s': this machine has %zu CUDA device%s "
                          "(cuda:0..cuda:%zu)",
                          name, n, n == 1 ? "" : "s", n - 1);
    // Autotuned convolutions (shapes repeat); TF32 off until asked.
    at::globalContext().setBenchmarkCuDNN(true);
    return 0;
}

// name parsed and present on this machine (parse_device, check_device).
static int usable_device(const char *name, torch::Device *out)
{
    int rc = parse_device(name, out);
    return rc ? rc : check_device(*out, name);
}

extern "C" int bf_torch_device_check(const char *name)
{
    return guarded("bf_torch_device_check", [&] {
        torch::Device d(torch::kCPU);
        return usable_device(name, &d);
    });
}

extern "C" int bf_torch_set_tf32(int on)
{
    return guarded("bf_torch_set_tf32", [&] {
        at::globalContext().setAllowTF32CuBLAS(on != 0);
        at::globalContext().setAllowTF32CuDNN(on != 0);
        return 0;
    });
}

extern "C" int bf_model_to_device(bf_model *model, const char *name)
{
    return guarded("bf_model_to_device", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_to_device: NULL model");
        torch::Device d(torch::kCPU);
        int rc = usable_device(name, &d);
        if (rc)
            return rc;
        if (d != model->device) {
            model->net->to(d);
            model->device = d;
            refold(model);
        }
        return 0;
    });
}

extern "C" int bf_tensor_to_device(const bf_tensor *t, const char *device,
                                   bf_tensor **out)
{
    return guarded("bf_tensor_to_device", [&] {
        if (!t || !out)
            return bf_err_set(BF_EINVAL, "bf_tensor_to_device: NULL");
        torch::Device d(torch::kCPU);
        int rc = usable_device(device, &d);
        if (rc)
            return rc;
        torch::Tensor moved = bfshim::to_device(t->t, d);
        if (moved.is_same(t->t))
            moved = moved.clone();
        return new_tensor(std::move(moved), out);
    });
}

extern "C" int bf_model_device(const bf_model *model, char *out, size_t size)
{
    return guarded("bf_model_device", [&] {
        if (!model || !out || size == 0)
            return bf_err_set(BF_EINVAL, "bf_model_device: bad argument");
        std::string s = model->device.str();
        if (s.size() >= size)
            return bf_err_set(BF_ERANGE, "bf_model_device: %zu bytes",
                              s.size() + 1);
        std::memcpy(out, s.c_str(), s.size() + 1);
        return 0;
    });
}

extern "C" int bf_model_sync(const bf_model *model)
{
    return guarded("bf_model_sync", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_sync: NULL model");
        if (model->device.is_cuda()) {
            c10::impl::VirtualGuardImpl impl(model->device.type());
            impl.synchronizeStream(impl.getStream(model->device));
        }
        return 0;
    });
}

extern "C" int bf_torch_peak_memory(const char *device, int reset,
                                    int64_t *bytes)
{
    return guarded("bf_torch_peak_memory", [&] {
        if (!bytes)
            return bf_err_set(BF_EINVAL, "bf_torch_peak_memory: NULL");
        *bytes = -1;
        torch::Device d(torch::kCPU);
        int rc = usable_device(device, &d);
        if (rc || d.is_cpu())
            return rc;
        return bfshim::device_peak_memory(d, reset != 0, bytes);
    });
}

extern "C" int bf_model_bind_thread(const bf_model *model)
{
    return guarded("bf_model_bind_thread", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_bind_thread: NULL model");
        if (!model->device.is_cuda())
            return 0;
        // This thread's pool stream per device index.
        thread_local std::map<int, c10::Stream> streams;
        c10::impl::VirtualGuardImpl impl(model->device.type());
        impl.setDevice(model->device);
        auto it = streams.find(model->device.index());
        if (it == streams.end()) {
            torch::cuda::synchronize(model->device.index());
            c10::Stream st = impl.getStreamFromGlobalPool(model->device);
            it = streams.emplace(model->device.index(), st).first;
        }
        impl.exchangeStream(it->second);
        return 0;
    });
}

extern "C" int bf_model_set_autocast(bf_model *model, int precision)
{
    return guarded("bf_model_set_autocast", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_set_autocast: NULL model");
        if (precision == BF_PRECISION_FP16)
            return bf_err_set(BF_EUNSUPPORTED,
                              "autocast fp16: libtorch's C++ API has no "
                              "gradient scaler (bf16 needs none)");
        if (precision != BF_PRECISION_FP32 && precision != BF_PRECISION_BF16)
            return bf_err_set(BF_EINVAL, "autocast precision %d unknown",
                              precision);
        model->net->autocast_dtype = precision_dtype(precision);
        return 0;
    });
}

extern "C" const char *bf_precision_name(int precision)
{
    switch (precision) {
    case BF_PRECISION_FP32:
        return "fp32";
    case BF_PRECISION_BF16:
        return "bf16";
    case BF_PRECISION_FP16:
        return "fp16";
    default:
        return "?";
    }
}

extern "C" int bf_precision_parse(const char *name, int *precision)
{
    for (int p = BF_PRECISION_FP32; p <= BF_PRECISION_FP16; p++)
        if (name && precision && std::strcmp(name, bf_precision_name(p)) == 0) {
            *precision = p;
            return 0;
        }
    return bf_err_set(BF_EINVAL, "precision '%s' unknown (fp32, bf16, fp16)",
                      name ? name : "(null)");
}

extern "C" int bf_model_set_train(bf_model *model, int train)
{
    return guarded("bf_model_set_train", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_set_train: NULL model");
        model->net->train(train != 0);
        refold(model);
        return 0;
    });
}

extern "C" int bf_model_forward(bf_model *model, const bf_tensor *input,
                                int first, int last, bf_tensor **out)
{
    return guarded("bf_model_forward", [&] {
        if (!model || !input || !out)
            return bf_err_set(BF_EINVAL, "bf_model_forward: NULL argument");
        auto &net = *model->net;
        int n = static_cast<int>(net.stages.size());
        if (first < 0 || last >= n || first > last)
            return bf_err_set(BF_ERANGE,
                              "stage range %d..%d invalid for %s (0..%d)",
                              first, last, model->spec.name, n - 1);
        // Inputs come from C memory on the host: to the model's device.
        const torch::Tensor x = bfshim::to_device(input->t, model->device);
        if (first == 0 && (x.dim() != 4 || x.size(1) != net.in_channels))
            return bf_err_set(
                BF_ESHAPE, "%s expects N x %d x H x W input, got %s",
                model->spec.name, net.in_channels, c10::str(x.sizes()).c_str());
        torch::Tensor y;
        if (net.is_training()) {
            y = net.forward_range(x, first, last);
        } else if (model->fold_requested) {
            // The fast path; its outputs cannot enter autograd later.
            c10::InferenceMode guard;
            y = net.forward_range(x, first, last);
        } else {
            // Plain eval outputs may meet a student's outputs in a loss
            // (teachers), which inference-mode tensors cannot.
            torch::NoGradGuard no_grad;
            y = net.forward_range(x, first, last);
        }
        return new_tensor(std::move(y), out);
    });
}

// BottleFit bottleneck

extern "C" int
bf_model_inject_bottleneck(bf_model *model,
                           const struct bf_bottleneck_params *params)
{
    return guarded("bf_model_inject_bottleneck", [&] {
        if (!model || !params)
            return bf_err_set(BF_EINVAL,
                              "bf_model_inject_bottleneck: NULL argument");
        // The bottleneck is defined for the paper's ResNet and DenseNet
        // teachers and the small family; MobileNetV2, AlexNet, VGG and
        // SqueezeNet have none.
        const std::string family = model->spec.family;
        if (family != "resnet" && family != "densenet" && family != "mini")
            return bf_err_set(BF_EUNSUPPORTED,
                              "%s: no BottleFit bottleneck is defined for "
                              "the %s family (only resnet, densenet and "
                              "mini)",
                              model->spec.name, family.c_str());
        try {
            bfzoo::inject_bottleneck(*model->net, family,
                                     model->spec.native_size_px,
                                     params->version, params->channels);
        } catch (const std::invalid_argument &e) {
            return bf_err_set(BF_EINVAL, "%s: %s", model->spec.name, e.what());
        }
        // New modules start on the CPU in training mode: they take the
        // model's device and mode.
        if (!model->device.is_cpu())
            model->net->to(model->device);
        model->net->train(model->net->is_training());
        refold(model);
        return 0;
    });
}

extern "C" int bf_model_bottleneck(const bf_model *model, int *version,
                                   int *channels)
{
    if (!model || !version || !channels)
        return bf_err_set(BF_EINVAL, "bf_model_bottleneck: NULL argument");
    *version = model->net->bottleneck_version;
    *channels = model->net->bottleneck_channels;
    return 0;
}

extern "C" int bf_model_inject_autoencoder(bf_model *model, int channels)
{
    return guarded("bf_model_inject_autoencoder", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL,
                              "bf_model_inject_autoencoder: NULL model");
        try {
            bfzoo::inject_autoencoder(*model->net, model->spec.native_size_px,
                                      channels);
        } catch (const std::invalid_argument &e) {
            return bf_err_set(BF_EINVAL, "%s: %s", model->spec.name, e.what());
        }
        // New modules start on the CPU in training mode: they take the
        // model's device and mode.
        if (!model->device.is_cpu())
            model->net->to(model->device);
        model->net->train(model->net->is_training());
        refold(model);
        return 0;
    });
}

extern "C" int bf_model_attach_exits(bf_model *model, const int *after, int n)
{
    return guarded("bf_model_attach_exits", [&] {
        if (!model || !after || n < 1 || n > BF_MODEL_MAX_EXITS)
            return bf_err_set(BF_EINVAL,
                              "bf_model_attach_exits: NULL model or list, or "
                              "%d exits (1..%d)",
                              n, BF_MODEL_MAX_EXITS);
        try {
            bfzoo::attach_exits(*model->net, model->spec.native_size_px,
                                std::vector<int>(after, after + n));
        } catch (const std::invalid_argument &e) {
            return bf_err_set(BF_EINVAL, "%s: %s", model->spec.name, e.what());
        }
        // New modules start on the CPU in training mode: they take the
        // model's device and mode.
        if (!model->device.is_cpu())
            model->net->to(model->device);
        model->net->train(model->net->is_training());
        refold(model);
        return 0;
    });
}

extern "C" int bf_model_describe_exits(bf_model *model, int64_t in_h,
                                       int64_t in_w, struct bf_exit_info *exits,
                                       int *count)
{
    return guarded("bf_model_describe_exits", [&] {
        if (!model || !exits || !count)
            return bf_err_set(BF_EINVAL, "bf_model_describe_exits: NULL");
        if (in_h < 1 || in_w < 1 || in_h > 8192 || in_w > 8192)
            return bf_err_set(BF_ERANGE, "input size %ldx%ld outside 1..8192",
                              static_cast<long>(in_h), static_cast<long>(in_w));
        auto &net = *model->net;
        bool was_training = net.is_training();
        net.eval();
        torch::NoGradGuard no_grad;
        torch::Tensor y = torch::zeros({1, net.in_channels, in_h, in_w},
                                       torch::TensorOptions(model->device));
        int stage = 0;
        for (size_t i = 0; i < net.exits.size(); i++) {
            for (; stage <= net.exit_after[i]; stage++)
                y = net.stages[static_cast<size_t>(stage)].plain(y);
            bfzoo::MacCounter counter;
            net.exits[i].plain(y);
            exits[i].after_stage = net.exit_after[i];
            exits[i].params = prefix_params(net, net.exits[i].modules);
            exits[i].macs = counter.total();
        }
        if (was_training)
            net.train();
        *count = static_cast<int>(net.exits.size());
        return 0;
    });
}

extern "C" int bf_model_layers(bf_model *model, int64_t in_h, int64_t in_w,
                               int first, int last,
                               struct bf_layer_info *layers, int max,
                               int *count)
{
    return guarded("bf_model_layers", [&] {
        if (!model || !count || (!layers && max != 0))
            return bf_err_set(BF_EINVAL, "bf_model_layers: NULL argument");
        auto &net = *model->net;
        int n = static_cast<int>(net.stages.size());
        if (first < 0 || last >= n || first > last)
            return bf_err_set(BF_ERANGE,
                              "stage range %d..%d invalid for %s (0..%d)",
                              first, last, model->spec.name, n - 1);
        if (in_h < 1 || in_w < 1 || in_h > 8192 || in_w > 8192)
            return bf_err_set(BF_ERANGE, "input size %ldx%ld outside 1..8192",
                              static_cast<long>(in_h), static_cast<long>(in_w));
        bool was_training = net.is_training();
        net.eval();
        torch::NoGradGuard no_grad;
        torch::Tensor y = torch::zeros({1, net.in_channels, in_h, in_w},
                                       torch::TensorOptions(model->device));
        std::vector<bfzoo::LayerRec> recs;
        std::vector<int> rec_stage;
        for (int i = 0; i <= last; i++) {
            const auto &st = net.stages[static_cast<size_t>(i)];
            bfzoo::MacCounter counter(i >= first ? &recs : nullptr);
            try {
                y = st.plain(y);
                for (size_t e = 0; e < net.exits.size(); e++)
                    if (net.exit_after[e] == i)
                        net.exits[e].plain(y);
            } catch (const c10::Error &e) {
                if (was_training)
                    net.train();
                return bf_err_set(BF_ESHAPE,
                                  "%s: input %ldx%ld too small at stage '%s': "
                                  "%s",
                                  model->spec.name, static_cast<long>(in_h),
                                  static_cast<long>(in_w), st.name.c_str(),
                                  e.what_without_backtrace());
            }
            rec_stage.resize(recs.size(), i);
        }
        if (was_training)
            net.train();
        int total = static_cast<int>(recs.size());
        *count = total;
        if (!layers)
            return 0;
        if (max < total)
            return bf_err_set(BF_ERANGE,
                              "%s has %d layers in stages %d..%d, "
                              "room for %d",
                              model->spec.name, total, first, last, max);
        for (int i = 0; i < total; i++) {
            const bfzoo::LayerRec &r = recs[static_cast<size_t>(i)];
            layers[i].kind = r.kind;
            layers[i].stage = rec_stage[static_cast<size_t>(i)];
            layers[i].macs = r.macs;
            layers[i].params = r.params;
            layers[i].in_elems = r.in_elems;
            layers[i].out_elems = r.out_elems;
        }
        return 0;
    });
}

extern "C" int bf_model_layers_alloc(bf_model *model, int64_t in_h,
                                     int64_t in_w, int first, int last,
                                     struct bf_layer_info **layers, size_t *n)
{
    struct bf_layer_info *out;
    int count = 0;
    int rc;

    if (!layers || !n)
        return bf_err_set(BF_EINVAL, "bf_model_layers_alloc: NULL argument");
    *layers = nullptr;
    *n = 0;
    rc = bf_model_layers(model, in_h, in_w, first, last, nullptr, 0, &count);
    if (rc || count == 0)
        return rc;
    out = static_cast<struct bf_layer_info *>(
        calloc(static_cast<size_t>(count), sizeof(*out)));
    if (!out)
        return bf_err_set(BF_ENOMEM, "%d layers", count);
    rc = bf_model_layers(model, in_h, in_w, first, last, out, count, &count);
    if (rc) {
        free(out);
        return rc;
    }
    *layers = out;
    *n = static_cast<size_t>(count);
    return 0;
}

extern "C" int bf_model_split_stage(const bf_model *model, int *stage)
{
    if (!model || !stage)
        return bf_err_set(BF_EINVAL, "bf_model_split_stage: NULL argument");
    if (model->net->bottleneck_version)
        *stage = 0;
    else if (model->net->autoencoder_channels)
        *stage = 3;
    else if (!model->net->exit_after.empty())
        *stage = model->net->exit_after.back();
    else
        return bf_err_set(BF_ENOENT,
                          "%s has no bottleneck, autoencoder or exits",
                          model->spec.name);
    return 0;
}

// Checkpoints

static std::string bottleneck_tag(const bfzoo::Net &net)
{
    if (net.autoencoder_channels)
        return "ae:" + std::to_string(net.autoencoder_channels);
    if (!net.exit_after.empty()) {
        std::string tag = "exits:";
        for (size_t i = 0; i < net.exit_after.size(); i++)
            tag += (i ? "," : "") + std::to_string(net.exit_after[i]);
        return tag;
    }
    if (!net.bottleneck_version)
        return "none";
    return std::to_string(net.bottleneck_version) + ":" +
           std::to_string(net.bottleneck_channels);
}

static std::vector<std::pair<std::string, torch::Tensor>>
state_of(const bfzoo::Net &net)
{
    std::vector<std::pair<std::string, torch::Tensor>> state;
    for (const auto &p : net.named_parameters(true))
        state.emplace_back(p.key(), p.value());
    for (const auto &b : net.named_buffers(true))
        state.emplace_back(b.key(), b.value());
    return state;
}

extern "C" int bf_model_save(const bf_model *model, const char *path)
{
    return guarded("bf_model_save", [&] {
        if (!model || !path)
            return bf_err_set(BF_EINVAL, "bf_model_save: NULL argument");
        std::string meta =
            std::string("arch=") + model->spec.name +
            "\nnum_classes=" + std::to_string(model->net->num_classes) +
            "\nin_channels=" + std::to_string(model->net->in_channels) +
            "\nbottleneck=" + bottleneck_tag(*model->net) +
            "\nsource=bfbench\n";
        return bfweights::write(path, meta, state_of(*model->net));
    });
}

extern "C" int bf_weights_check(const char *path)
{
    return guarded("bf_weights_check", [&] {
        if (!path)
            return bf_err_set(BF_EINVAL, "bf_weights_check: NULL path");
        bfweights::File file;
        return bfweights::read_index(path, &file);
    });
}

extern "C" int bf_model_load(bf_model *model, const char *path)
{
    return guarded("bf_model_load", [&] {
        if (!model || !path)
            return bf_err_set(BF_EINVAL, "bf_model_load: NULL argument");
        bfweights::File file;
        int rc = bfweights::read_index(path, &file);
        if (rc)
            return rc;
        auto it = file.meta.find("arch");
        if (it != file.meta.end() && it->second != model->spec.name)
            return bf_err_set(BF_EPARSE,
                              "%s: weights are for architecture '%s', the "
                              "model is '%s'",
                              path, it->second.c_str(), model->spec.name);
        it = file.meta.find("bottleneck");
        std::string have = bottleneck_tag(*model->net);
        if (it != file.meta.end() ? it->second != have : have != "none")
            return bf_err_set(
                BF_EPARSE,
                "%s: weights have bottleneck '%s', the model "
                "has '%s' (version:channels)",
                path, it != file.meta.end() ? it->second.c_str() : "none",
                have.c_str());
        rc = bfweights::load_into(path, file, state_of(*model->net));
        if (rc)
            return rc;
        refold(model);
        return 0;
    });
}

// Tensors

extern "C" int bf_tensor_from_f32(const int64_t *shape, int ndim,
                                  const float *data, bf_tensor **out)
{
    return guarded("bf_tensor_from_f32", [&] {
        int rc = check_shape(shape, ndim, "bf_tensor_from_f32");
        if (rc)
            return rc;
        if (!out)
            return bf_err_set(BF_EINVAL, "bf_tensor_from_f32: NULL output");
        std::vector<int64_t> dims(shape, shape + ndim);
        torch::Tensor t = torch::zeros(dims);
        if (data)
            std::memcpy(t.data_ptr<float>(), data,
                        static_cast<size_t>(t.numel()) * sizeof(float));
        return new_tensor(std::move(t), out);
    });
}

extern "C" int bf_tensor_from_i64(const int64_t *shape, int ndim,
                                  const int64_t *data, bf_tensor **out)
{
    return guarded("bf_tensor_from_i64", [&] {
        int rc = check_shape(shape, ndim, "bf_tensor_from_i64");
        if (rc)
            return rc;
        if (!out || !data)
            return bf_err_set(BF_EINVAL, "bf_tensor_from_i64: NULL argument");
        std::vector<int64_t> dims(shape, shape + ndim);
        torch::Tensor t = torch::empty(dims, torch::kLong);
        std::memcpy(t.data_ptr<int64_t>(), data,
                    static_cast<size_t>(t.numel()) * sizeof(int64_t));
        return new_tensor(std::move(t), out);
    });
}

extern "C" int bf_tensor_randn(const int64_t *shape, int ndim, uint64_t seed,
                               bf_tensor **out)
{
    return guarded("bf_tensor_randn", [&] {
        int rc = check_shape(shape, ndim, "bf_tensor_randn");
        if (rc)
            return rc;
        if (!out)
            return bf_err_set(BF_EINVAL, "bf_tensor_randn: NULL output");
        auto gen = at::detail::createCPUGenerator(seed);
        std::vector<int64_t> dims(shape, shape + ndim);
        return new_tensor(torch::randn(dims, gen), out);
    });
}

extern "C" int bf_tensor_load(const char *path, const char *name,
                              bf_tensor **out)
{
    return guarded("bf_tensor_load", [&] {
        if (!path || !name || !out)
            return bf_err_set(BF_EINVAL, "bf_tensor_load: NULL argument");
        torch::Tensor t;
        int rc = bfweights::read_one(path, name, &t);
        if (rc)
            return rc;
        return new_tensor(std::move(t), out);
    });
}

extern "C" void bf_tensor_free(bf_tensor *tensor)
{
    if (!tensor)
        return;
    delete tensor;
    live_handles--;
}

extern "C" int bf_tensor_shape(const bf_tensor *tensor, int64_t *shape, int max,
                               int *ndim)
{
    if (!tensor || !shape || !ndim)
        return bf_err_set(BF_EINVAL, "bf_tensor_shape: NULL argument");
    int n = static_cast<int>(tensor->t.dim());
    if (n > max)
        return bf_err_set(BF_ERANGE, "tensor has rank %d, room for %d", n, max);
    for (int i = 0; i < n; i++)
        shape[i] = tensor->t.size(i);
    *ndim = n;
    return 0;
}

extern "C" int bf_tensor_copy_f32(const bf_tensor *tensor, float *data,
                                  size_t count)
{
    return guarded("bf_tensor_copy_f32", [&] {
        if (!tensor || !data)
            return bf_err_set(BF_EINVAL, "bf_tensor_copy_f32: NULL argument");
        const torch::Tensor &t = tensor->t;
        if (t.scalar_type() != torch::kFloat)
            return bf_err_set(BF_EINVAL, "tensor is %s, not float32",
                              c10::toString(t.scalar_type()));
        if (static_cast<size_t>(t.numel()) != count)
            return bf_err_set(BF_ESHAPE, "tensor has %ld elements, asked %zu",
                              static_cast<long>(t.numel()), count);
        torch::Tensor c = bfshim::host(t).contiguous();
        std::memcpy(data, c.data_ptr<float>(), count * sizeof(float));
        return 0;
    });
}

extern "C" int bf_tensor_max_abs_diff(const bf_tensor *a, const bf_tensor *b,
                                      double *out)
{
    return guarded("bf_tensor_max_abs_diff", [&] {
        if (!a || !b || !out)
            return bf_err_set(BF_EINVAL, "bf_tensor_max_abs_diff: NULL");
        if (a->t.sizes() != b->t.sizes())
            return bf_err_set(BF_ESHAPE, "shapes differ: %s vs %s",
                              c10::str(a->t.sizes()).c_str(),
                              c10::str(b->t.sizes()).c_str());
        torch::NoGradGuard no_grad;
        torch::Tensor d = (bfshim::host(a->t).to(torch::kDouble) -
                           bfshim::host(b->t).to(torch::kDouble))
                              .abs()
                              .max();
        *out = d.item<double>();
        return 0;
    });
}
