// bf_zoo: torchvision-compatible architectures with named stages.
//
// Each builder mirrors torchvision 0.14's module tree (names, shapes and
// initialisation), so parameter counts equal torchvision's and exported
// state dicts load by name. The stage split of every family is:
//   ResNet:    stem = conv1 bn1 relu maxpool; stage1..4 = layer1..4;
//              classifier = avgpool fc
//   DenseNet:  stem = conv0 norm0 relu0 pool0; stage1..3 = denseblockN +
//              transitionN; stage4 = denseblock4; classifier = norm5 relu
//              avgpool classifier
//   MobileNetV2: stem = features.0-1; stage1 = features.2-3; stage2 =
//              features.4-6; stage3 = features.7-13; stage4 = features.14-18;
//              classifier = avgpool classifier
// so that the BottleFit bottleneck (replacing stem..stage2) lands where the
// paper puts it: after layer2 for ResNet, after transition2 for DenseNet.
// The plain feature stacks have no bottleneck (nor has MobileNetV2); they
// split at their max-pools, a pool ending its stage, and AlexNet and
// SqueezeNet, with three pools, also between convolutions or Fire modules:
//   AlexNet:   stem = features.0-2 (conv1 relu pool); stage1 = features.3-5
//              (conv2 relu pool); stage2 = features.6-7 (conv3 relu);
//              stage3 = features.8-9 (conv4 relu); stage4 = features.10-12
//              (conv5 relu pool); classifier = avgpool (6x6) classifier
//   VGG:       stem = block 1 (features.0-2 for vgg11 .. features.0-6 for
//              vgg13_bn and deeper); stage1..4 = blocks 2..5; classifier =
//              avgpool (7x7) classifier
//   SqueezeNet: stem = features.0-2 (conv relu pool); classifier =
//              classifier (dropout, final 1x1 conv, relu, global average
//              pool); 1.0: stage1 = features.3-6 (fire x3, pool), stage2 =
//              features.7-8, stage3 = features.9-11 (fire x2, pool), stage4
//              = features.12; 1.1: stage1 = features.3-5 (fire x2, pool),
//              stage2 = features.6-8 (fire x2, pool), stage3 =
//              features.9-10, stage4 = features.11-12
// The autoencoder and the early exits need nothing but the stages' outputs
// and apply to every family.
#include "bf_zoo.hpp"

#include <ATen/autocast_mode.h>

#include <torch/version.h>

#include <cmath>
#include <stdexcept>

namespace bfzoo
{

namespace nn = torch::nn;
using torch::Tensor;

// MAC counting

static thread_local MacCounter *current_counter = nullptr;

MacCounter::MacCounter(std::vector<LayerRec> *layers)
    : layers_(layers), prev_(current_counter)
{
    current_counter = this;
}

MacCounter::~MacCounter()
{
    current_counter = prev_;
}

void MacCounter::add(const LayerRec &layer)
{
    if (!current_counter)
        return;
    current_counter->total_ += layer.macs;
    if (current_counter->layers_)
        current_counter->layers_->push_back(layer);
}

// Count one layer that read x and wrote y with weight w and bias b;
// per_elem multiply-accumulates happen for each element of per_of (x or y).
static void count_layer(int kind, const Tensor &x, const Tensor &y,
                        const Tensor &w, const Tensor &b, const Tensor &per_of,
                        int64_t per_elem)
{
    if (!current_counter || y.size(0) == 0)
        return;
    int64_t n = y.size(0);
    LayerRec rec;
    rec.kind = kind;
    rec.macs = per_of.numel() / n * per_elem;
    rec.params = w.numel() + (b.defined() ? b.numel() : 0);
    rec.in_elems = x.numel() / n;
    rec.out_elems = y.numel() / n;
    MacCounter::add(rec);
}

Tensor conv_forward(const nn::Conv2d &conv, const Tensor &x)
{
    Tensor y = conv.ptr()->forward(x);
    const Tensor &w = conv->weight;
    const auto &o = conv->options;
    int kind = BF_LAYER_CONV;

    if (o.groups() > 1)
        kind = BF_LAYER_CONV_GROUPED;
    else if (w.size(2) == 3 && w.size(3) == 3 && (*o.stride())[0] == 1 &&
             (*o.stride())[1] == 1)
        kind = BF_LAYER_CONV3X3;
    count_layer(kind, x, y, w, conv->bias, y,
                w.size(1) * w.size(2) * w.size(3));
    return y;
}

// The cast parameters of the Net whose forward_range is running on this
// thread (null outside one, and in fp32).
static thread_local std::unordered_map<const void *, Tensor> *current_cast =
    nullptr;

Tensor param_as(const Tensor &param, const Tensor &x)
{
    if (!param.defined() || param.scalar_type() == x.scalar_type())
        return param;
    if (!current_cast)
        return param.to(x.scalar_type());
    auto it = current_cast->find(param.unsafeGetTensorImpl());
    if (it != current_cast->end())
        return it->second;
    Tensor c = param.detach().to(x.scalar_type());
    current_cast->emplace(param.unsafeGetTensorImpl(), c);
    return c;
}

Tensor bn_forward(const nn::BatchNorm2d &bn, const Tensor &x)
{
    if (x.scalar_type() == bn->weight.scalar_type())
        return bn.ptr()->forward(x);
    // Eval mode only (the folded path): y = x * scale + shift, both from
    // the running statistics in fp32, cast once (keyed by the module's
    // running mean and variance, which no other cast uses).
    Tensor scale, shift;
    const void *k_scale = bn->running_var.unsafeGetTensorImpl();
    const void *k_shift = bn->running_mean.unsafeGetTensorImpl();
    if (current_cast && current_cast->count(k_scale)) {
        scale = current_cast->at(k_scale);
        shift = current_cast->at(k_shift);
    } else {
        torch::NoGradGuard no_grad;
        Tensor s = bn->weight.detach() /
                   torch::sqrt(bn->running_var.detach() + bn->options.eps());
        Tensor b = bn->bias.detach() - bn->running_mean.detach() * s;
        scale = s.to(x.scalar_type()).view({1, -1, 1, 1});
        shift = b.to(x.scalar_type()).view({1, -1, 1, 1});
        if (current_cast) {
            current_cast->emplace(k_scale, scale);
            current_cast->emplace(k_shift, shift);
        }
    }
    return torch::addcmul(shift, x, scale);
}

Tensor linear_forward(const nn::Linear &fc, const Tensor &x)
{
    Tensor y =
        x.scalar_type() == fc->weight.scalar_type()
            ? fc.ptr()->forward(x)
            : torch::linear(x, param_as(fc->weight, x), param_as(fc->bias, x));
    count_layer(BF_LAYER_LINEAR, x, y, fc->weight, fc->bias, y,
                fc->weight.size(1));
    return y;
}

// ConvBn

Tensor ConvBn::plain(const Tensor &x) const
{
    Tensor y = conv_forward(conv, x);
    return bn ? bn.ptr()->forward(y) : y;
}

// The explicit padding of a convolution's options (every convolution here
// has one). The padding variant is c10::variant up to libtorch 2.1 and
// std::variant from 2.2 (c10/util/variant.h went away). Only the 1.13
// branch is compiled on this project's CI; the other is untested there.
static const torch::ExpandingArray<2> &
explicit_padding(const nn::detail::ConvNdOptions<2> &o)
{
#if TORCH_VERSION_MAJOR > 2 ||                                                 \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
    return std::get<torch::ExpandingArray<2>>(o.padding());
#else
    return c10::get<torch::ExpandingArray<2>>(o.padding());
#endif
}

Tensor ConvBn::folded(const Tensor &x) const
{
    const auto &o = conv->options;
    return at::conv2d(x, fused_w, fused_b, o.stride(), explicit_padding(o),
                      o.dilation(), o.groups());
}

void ConvBn::fold(bool channels_last, c10::ScalarType dtype)
{
    torch::NoGradGuard no_grad;
    Tensor w = conv->weight.detach().clone();
    Tensor b = conv->bias.defined() ? conv->bias.detach().clone() : Tensor();
    if (bn) {
        Tensor scale =
            bn->weight.detach() /
            torch::sqrt(bn->running_var.detach() + bn->options.eps());
        w = w * scale.view({-1, 1, 1, 1});
        Tensor shift = bn->bias.detach() - bn->running_mean.detach() * scale;
        b = b.defined() ? b * scale + shift : shift;
    }
    w = w.to(dtype);
    b = b.defined() ? b.to(dtype) : b;
    if (channels_last)
        w = w.contiguous(at::MemoryFormat::ChannelsLast);
    fused_w = w;
    fused_b = b;
}

void ConvBn::unfold()
{
    fused_w = Tensor();
    fused_b = Tensor();
}

// Net

std::shared_ptr<ConvBn> Net::convbn(nn::Conv2d conv, nn::BatchNorm2d bn)
{
    auto cb = std::make_shared<ConvBn>();
    cb->conv = std::move(conv);
    cb->bn = std::move(bn);
    cb->stage = static_cast<int>(stages.size());
    convbns.push_back(cb);
    return cb;
}

void Net::fold(bool use_channels_last, c10::ScalarType dtype)
{
    for (auto &cb : convbns)
        cb->fold(use_channels_last, dtype);
    cast_cache.clear();
    is_folded = true;
    channels_last = use_channels_last;
    fold_dtype = dtype;
}

void Net::unfold()
{
    for (auto &cb : convbns)
        cb->unfold();
    cast_cache.clear();
    is_folded = false;
    channels_last = false;
    fold_dtype = c10::ScalarType::Float;
}

namespace
{
// Installs a Net's cast cache as the thread's for one forward.
class CastScope
{
  public:
    explicit CastScope(std::unordered_map<const void *, Tensor> *cache)
        : prev_(current_cast)
    {
        current_cast = cache;
    }
    ~CastScope()
    {
        current_cast = prev_;
    }
    CastScope(const CastScope &) = delete;
    CastScope &operator=(const CastScope &) = delete;

  private:
    std::unordered_map<const void *, Tensor> *prev_;
};
} // namespace

// libtorch's autocast switched on for one forward on device type dev, and
// restored after (its weight-cast cache cleared when the outermost scope
// ends). The API took a device type from libtorch 2.4; only the 1.13
// branch is compiled on this project's CI.
class AutocastScope
{
  public:
    AutocastScope(c10::DeviceType dev, c10::ScalarType dtype) : dev_(dev)
    {
#if TORCH_VERSION_MAJOR > 2 ||                                                 \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        enabled_ = at::autocast::is_autocast_enabled(dev_);
        dtype_ = at::autocast::get_autocast_dtype(dev_);
        at::autocast::set_autocast_enabled(dev_, true);
        at::autocast::set_autocast_dtype(dev_, dtype);
#else
        if (dev_ == c10::DeviceType::CPU) {
            enabled_ = at::autocast::is_cpu_enabled();
            dtype_ = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_cpu_enabled(true);
            at::autocast::set_autocast_cpu_dtype(dtype);
        } else {
            enabled_ = at::autocast::is_enabled();
            dtype_ = at::autocast::get_autocast_gpu_dtype();
            at::autocast::set_enabled(true);
            at::autocast::set_autocast_gpu_dtype(dtype);
        }
#endif
        at::autocast::increment_nesting();
    }
    ~AutocastScope()
    {
        if (at::autocast::decrement_nesting() == 0)
            at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 ||                                                 \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(dev_, enabled_);
        at::autocast::set_autocast_dtype(dev_, dtype_);
#else
        if (dev_ == c10::DeviceType::CPU) {
            at::autocast::set_cpu_enabled(enabled_);
            at::autocast::set_autocast_cpu_dtype(dtype_);
        } else {
            at::autocast::set_enabled(enabled_);
            at::autocast::set_autocast_gpu_dtype(dtype_);
        }
#endif
    }
    AutocastScope(const AutocastScope &) = delete;
    AutocastScope &operator=(const AutocastScope &) = delete;

  private:
    c10::DeviceType dev_;
    bool enabled_ = false;
    c10::ScalarType dtype_ = c10::ScalarType::Float;
};

Tensor Net::forward_range(const Tensor &x, int first, int last)
{
    bool use_folded = is_folded && !is_training();
    if (!use_folded && autocast_dtype != c10::ScalarType::Float) {
        // Outputs in fp32, as without autocast: losses and the next
        // range see the same types either way.
        Tensor y;
        {
            AutocastScope scope(x.device().type(), autocast_dtype);
            y = x;
            for (int i = first; i <= last; i++)
                y = stages[static_cast<size_t>(i)].plain(y);
        }
        return y.is_floating_point() ? y.to(c10::ScalarType::Float) : y;
    }
    bool low = use_folded && fold_dtype != c10::ScalarType::Float;
    CastScope scope(low ? &cast_cache : nullptr);
    Tensor y = x;
    // A lower precision holds inside the range: inputs and outputs stay
    // fp32 for the caller (the quantizer, the losses, the next range).
    if (low && y.scalar_type() == c10::ScalarType::Float)
        y = y.to(fold_dtype);
    if (use_folded && channels_last && y.dim() == 4)
        y = y.contiguous(at::MemoryFormat::ChannelsLast);
    for (int i = first; i <= last; i++) {
        const Stage &s = stages[static_cast<size_t>(i)];
        y = use_folded ? s.folded(y) : s.plain(y);
    }
    if (use_folded && channels_last && y.dim() == 4)
        y = y.contiguous();
    if (low && y.scalar_type() == fold_dtype)
        y = y.to(c10::ScalarType::Float);
    return y;
}

std::vector<Tensor> Net::forward_each(const Tensor &x, int first, int last)
{
    std::vector<Tensor> ys;
    Tensor y = x;
    bool use_folded = is_folded && !is_training();
    if (use_folded || autocast_dtype == c10::ScalarType::Float) {
        for (int i = first; i <= last; i++) {
            y = forward_range(y, i, i);
            ys.push_back(y);
        }
        return ys;
    }
    AutocastScope scope(x.device().type(), autocast_dtype);
    for (int i = first; i <= last; i++) {
        y = stages[static_cast<size_t>(i)].plain(y);
        ys.push_back(y.is_floating_point() ? y.to(c10::ScalarType::Float) : y);
    }
    return ys;
}

Tensor Net::forward_exit(size_t e, const Tensor &y)
{
    const Stage &ex = exits[e];
    bool use_folded = is_folded && !is_training();
    if (!use_folded && autocast_dtype != c10::ScalarType::Float) {
        Tensor out;
        {
            AutocastScope scope(y.device().type(), autocast_dtype);
            out = ex.plain(y);
        }
        return out.to(c10::ScalarType::Float);
    }
    bool low = use_folded && fold_dtype != c10::ScalarType::Float;
    if (!low)
        return use_folded ? ex.folded(y) : ex.plain(y);
    CastScope scope(&cast_cache);
    return ex.folded(y.to(fold_dtype)).to(c10::ScalarType::Float);
}

// Layer factories with torchvision's initialisation

// Kaiming-normal, fan-out, for ResNet and MobileNetV2 convolutions.
static nn::Conv2d conv_fan_out(int64_t in, int64_t out, int64_t k,
                               int64_t stride, int64_t pad, int64_t groups = 1,
                               bool bias = false)
{
    nn::Conv2d c(nn::Conv2dOptions(in, out, k)
                     .stride(stride)
                     .padding(pad)
                     .groups(groups)
                     .bias(bias));
    torch::NoGradGuard no_grad;
    nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    if (bias)
        nn::init::zeros_(c->bias);
    return c;
}

// Kaiming-normal, fan-in (DenseNet's nn.init.kaiming_normal_ default).
static nn::Conv2d conv_fan_in(int64_t in, int64_t out, int64_t k,
                              int64_t stride, int64_t pad)
{
    nn::Conv2d c(
        nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
    torch::NoGradGuard no_grad;
    nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanIn, torch::kLeakyReLU);
    return c;
}

static nn::BatchNorm2d batchnorm(int64_t channels)
{
    // libtorch initialises weight to 1 and bias to 0, as torchvision sets.
    return nn::BatchNorm2d(channels);
}

static std::shared_ptr<nn::Module> container()
{
    return std::make_shared<nn::Module>();
}

// Stage helpers: a stage is a list of sub-functions applied in order.
using Fn = std::function<Tensor(const Tensor &)>;

static Fn chain(std::vector<Fn> fns)
{
    return [fns = std::move(fns)](const Tensor &x) {
        Tensor y = x;
        for (const Fn &f : fns)
            y = f(y);
        return y;
    };
}

static void add_stage(Net &net, const std::string &name,
                      const std::string &modules,
                      std::vector<std::string> prefixes, std::vector<Fn> plain,
                      std::vector<Fn> folded)
{
    net.stages.push_back(
        {name, modules, chain(std::move(plain)), chain(std::move(folded))});
    net.stage_prefixes.push_back(std::move(prefixes));
}

static Tensor global_pool_flatten(const Tensor &x)
{
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

// ResNet family (BasicBlock, Bottleneck; ResNeXt and wide variants)

struct ResNetCfg {
    bool bottleneck;
    std::vector<int> layers;
    int64_t groups = 1;
    int64_t width_per_group = 64;
    // The small 28x28 family: 3x3 stem without max-pool, narrow widths.
    bool mini = false;
    int64_t base = 64;
};

static void resnet_block(Net &net, nn::Module &layer, int index,
                         int64_t &inplanes, int64_t planes, int64_t stride,
                         const ResNetCfg &cfg, std::vector<Fn> &plain,
                         std::vector<Fn> &folded)
{
    auto blk = container();
    int64_t expansion = cfg.bottleneck ? 4 : 1;
    int64_t out = planes * expansion;
    std::vector<std::shared_ptr<ConvBn>> cbs;

    if (cfg.bottleneck) {
        int64_t width = static_cast<int64_t>(
                            static_cast<double>(planes) *
                            (static_cast<double>(cfg.width_per_group) / 64.0)) *
                        cfg.groups;
        auto c1 = conv_fan_out(inplanes, width, 1, 1, 0);
        auto c2 = conv_fan_out(width, width, 3, stride, 1, cfg.groups);
        auto c3 = conv_fan_out(width, out, 1, 1, 0);
        auto b1 = batchnorm(width), b2 = batchnorm(width), b3 = batchnorm(out);
        blk->register_module("conv1", c1);
        blk->register_module("bn1", b1);
        blk->register_module("conv2", c2);
        blk->register_module("bn2", b2);
        blk->register_module("conv3", c3);
        blk->register_module("bn3", b3);
        cbs = {net.convbn(c1, b1), net.convbn(c2, b2), net.convbn(c3, b3)};
    } else {
        auto c1 = conv_fan_out(inplanes, planes, 3, stride, 1);
        auto c2 = conv_fan_out(planes, planes, 3, 1, 1);
        auto b1 = batchnorm(planes), b2 = batchnorm(planes);
        blk->register_module("conv1", c1);
        blk->register_module("bn1", b1);
        blk->register_module("conv2", c2);
        blk->register_module("bn2", b2);
        cbs = {net.convbn(c1, b1), net.convbn(c2, b2)};
    }
    std::shared_ptr<ConvBn> ds;
    if (stride != 1 || inplanes != out) {
        auto seq = container();
        auto c = conv_fan_out(inplanes, out, 1, stride, 0);
        auto b = batchnorm(out);
        seq->register_module("0", c);
        seq->register_module("1", b);
        blk->register_module("downsample", seq);
        ds = net.convbn(c, b);
    }
    layer.register_module(std::to_string(index), blk);
    inplanes = out;

    plain.push_back([cbs, ds](const Tensor &x) {
        Tensor y = x;
        for (size_t i = 0; i + 1 < cbs.size(); i++)
            y = torch::relu(cbs[i]->plain(y));
        y = cbs.back()->plain(y);
        y = y + (ds ? ds->plain(x) : x);
        return torch::relu(y);
    });
    folded.push_back([cbs, ds](const Tensor &x) {
        Tensor y = x;
        for (size_t i = 0; i + 1 < cbs.size(); i++)
            y = cbs[i]->folded(y).relu_();
        y = cbs.back()->folded(y);
        y.add_(ds ? ds->folded(x) : x);
        return y.relu_();
    });
}

static std::shared_ptr<Net> build_resnet(const ResNetCfg &cfg, int in_ch,
                                         int classes)
{
    auto net = std::make_shared<Net>();
    int64_t inplanes = cfg.base;

    // Stem
    nn::Conv2d conv1 = cfg.mini ? conv_fan_out(in_ch, inplanes, 3, 1, 1)
                                : conv_fan_out(in_ch, inplanes, 7, 2, 3);
    auto bn1 = batchnorm(inplanes);
    net->register_module("conv1", conv1);
    net->register_module("bn1", bn1);
    auto stem = net->convbn(conv1, bn1);
    if (cfg.mini) {
        add_stage(
            *net, "stem", "conv1 bn1 relu", {"conv1", "bn1"},
            {[stem](const Tensor &x) { return torch::relu(stem->plain(x)); }},
            {[stem](const Tensor &x) { return stem->folded(x).relu_(); }});
    } else {
        add_stage(
            *net, "stem", "conv1 bn1 relu maxpool", {"conv1", "bn1"},
            {[stem](const Tensor &x) {
                return torch::max_pool2d(torch::relu(stem->plain(x)), 3, 2, 1);
            }},
            {[stem](const Tensor &x) {
                return torch::max_pool2d(stem->folded(x).relu_(), 3, 2, 1);
            }});
    }

    // Stages
    for (int s = 0; s < 4; s++) {
        std::string lname = "layer" + std::to_string(s + 1);
        auto layer = container();
        int64_t planes = cfg.base << s;
        int64_t stride = s == 0 ? 1 : 2;
        std::vector<Fn> plain, folded;
        for (int b = 0; b < cfg.layers[static_cast<size_t>(s)]; b++)
            resnet_block(*net, *layer, b, inplanes, planes, b == 0 ? stride : 1,
                         cfg, plain, folded);
        net->register_module(lname, layer);
        add_stage(*net, "stage" + std::to_string(s + 1), lname, {lname},
                  std::move(plain), std::move(folded));
    }

    // Classifier
    nn::Linear fc(inplanes, classes);
    net->register_module("fc", fc);
    Fn head = [fc](const Tensor &x) {
        return linear_forward(fc, global_pool_flatten(x));
    };
    add_stage(*net, "classifier", "avgpool fc", {"fc"}, {head}, {head});
    return net;
}

// DenseNet family

struct DenseNetCfg {
    int64_t growth;
    std::vector<int> blocks;
    int64_t init_features;
    int64_t bn_size = 4;
    bool mini = false; // 3x3 stem without max-pool, for 28x28 inputs
};

struct DenseLayer {
    nn::BatchNorm2d norm1{nullptr};
    std::shared_ptr<ConvBn> conv1; // conv1 + norm2, foldable
    nn::Conv2d conv2{nullptr};
};

// One dense block: plain path concatenates as torchvision does; the folded
// path writes every layer's output into one preallocated buffer.
static void dense_block(Net &net, nn::Module &features, int index,
                        int64_t &features_in, const DenseNetCfg &cfg,
                        std::vector<Fn> &plain, std::vector<Fn> &folded)
{
    auto block = container();
    std::vector<DenseLayer> layers;
    int64_t c = features_in;

    for (int i = 0; i < cfg.blocks[static_cast<size_t>(index)]; i++) {
        auto layer = container();
        DenseLayer dl;
        int64_t inter = cfg.bn_size * cfg.growth;
        dl.norm1 = batchnorm(c);
        auto conv1 = conv_fan_in(c, inter, 1, 1, 0);
        auto norm2 = batchnorm(inter);
        dl.conv2 = conv_fan_in(inter, cfg.growth, 3, 1, 1);
        layer->register_module("norm1", dl.norm1);
        layer->register_module("conv1", conv1);
        layer->register_module("norm2", norm2);
        layer->register_module("conv2", dl.conv2);
        dl.conv1 = net.convbn(conv1, norm2);
        block->register_module("denselayer" + std::to_string(i + 1), layer);
        layers.push_back(dl);
        c += cfg.growth;
    }
    features.register_module("denseblock" + std::to_string(index + 1), block);
    auto conv2_cb = std::make_shared<std::vector<std::shared_ptr<ConvBn>>>();
    for (auto &dl : layers)
        conv2_cb->push_back(net.convbn(dl.conv2, nn::BatchNorm2d(nullptr)));
    int64_t total = c;
    int64_t growth = cfg.growth;
    features_in = c;

    plain.push_back([layers](const Tensor &x) {
        std::vector<Tensor> feats{x};
        for (const DenseLayer &dl : layers) {
            Tensor in = torch::cat(feats, 1);
            Tensor y = torch::relu(bn_forward(dl.norm1, in));
            y = torch::relu(dl.conv1->plain(y));
            feats.push_back(conv_forward(dl.conv2, y));
        }
        return torch::cat(feats, 1);
    });
    folded.push_back([layers, conv2_cb, total, growth](const Tensor &x) {
        int64_t c0 = x.size(1);
        Tensor buf =
            torch::empty({x.size(0), total, x.size(2), x.size(3)},
                         x.options().memory_format(x.suggest_memory_format()));
        buf.narrow(1, 0, c0).copy_(x);
        int64_t have = c0;
        for (size_t i = 0; i < layers.size(); i++) {
            const DenseLayer &dl = layers[i];
            Tensor y = bn_forward(dl.norm1, buf.narrow(1, 0, have)).relu_();
            y = dl.conv1->folded(y).relu_();
            y = (*conv2_cb)[i]->folded(y);
            buf.narrow(1, have, growth).copy_(y);
            have += growth;
        }
        return buf;
    });
}

static std::shared_ptr<Net> build_densenet(const DenseNetCfg &cfg, int in_ch,
                                           int classes)
{
    auto net = std::make_shared<Net>();
    auto features = container();
    int64_t c = cfg.init_features;

    nn::Conv2d conv0 = cfg.mini ? conv_fan_in(in_ch, c, 3, 1, 1)
                                : conv_fan_in(in_ch, c, 7, 2, 3);
    auto norm0 = batchnorm(c);
    features->register_module("conv0", conv0);
    features->register_module("norm0", norm0);
    auto stem = net->convbn(conv0, norm0);
    bool mini = cfg.mini;
    add_stage(*net, "stem",
              mini ? "features.conv0 norm0 relu0"
                   : "features.conv0 norm0 relu0 pool0",
              {"features.conv0", "features.norm0"},
              {[stem, mini](const Tensor &x) {
                  Tensor y = torch::relu(stem->plain(x));
                  return mini ? y : torch::max_pool2d(y, 3, 2, 1);
              }},
              {[stem, mini](const Tensor &x) {
                  Tensor y = stem->folded(x).relu_();
                  return mini ? y : torch::max_pool2d(y, 3, 2, 1);
              }});

    size_t nblocks = cfg.blocks.size();
    for (size_t b = 0; b < nblocks; b++) {
        std::vector<Fn> plain, folded;
        std::string bname = "denseblock" + std::to_string(b + 1);
        std::vector<std::string> prefixes{"features." + bname};
        std::string modules = "features." + bname;
        dense_block(*net, *features, static_cast<int>(b), c, cfg, plain,
                    folded);
        if (b + 1 < nblocks) {
            std::string tname = "transition" + std::to_string(b + 1);
            auto trans = container();
            auto norm = batchnorm(c);
            auto conv = conv_fan_in(c, c / 2, 1, 1, 0);
            trans->register_module("norm", norm);
            trans->register_module("conv", conv);
            features->register_module(tname, trans);
            auto tcb = net->convbn(conv, nn::BatchNorm2d(nullptr));
            plain.push_back([norm, conv](const Tensor &x) {
                Tensor y = torch::relu(bn_forward(norm, x));
                return torch::avg_pool2d(conv_forward(conv, y), 2, 2);
            });
            folded.push_back([norm, tcb](const Tensor &x) {
                Tensor y = bn_forward(norm, x).relu_();
                return torch::avg_pool2d(tcb->folded(y), 2, 2);
            });
            prefixes.push_back("features." + tname);
            modules += " " + tname;
            c /= 2;
        }
        add_stage(*net, "stage" + std::to_string(b + 1), modules, prefixes,
                  std::move(plain), std::move(folded));
    }

    auto norm5 = batchnorm(c);
    features->register_module("norm5", norm5);
    net->register_module("features", features);
    nn::Linear fc(c, classes);
    {
        torch::NoGradGuard no_grad;
        nn::init::zeros_(fc->bias);
    }
    net->register_module("classifier", fc);
    Fn head = [norm5, fc](const Tensor &x) {
        Tensor y = torch::relu(bn_forward(norm5, x));
        return linear_forward(fc, global_pool_flatten(y));
    };
    add_stage(*net, "classifier", "features.norm5 relu avgpool classifier",
              {"features.norm5", "classifier"}, {head}, {head});
    return net;
}

// MobileNetV2

static int64_t make_divisible(double v, int64_t divisor)
{
    int64_t nv = std::max(divisor, static_cast<int64_t>(v + divisor / 2.0) /
                                       divisor * divisor);
    if (static_cast<double>(nv) < 0.9 * v)
        nv += divisor;
    return nv;
}

// Conv2dNormActivation with ReLU6, registered as "<name>.0" and "<name>.1".
static std::shared_ptr<ConvBn> conv_norm_act(Net &net, nn::Module &parent,
                                             const std::string &name,
                                             int64_t in, int64_t out, int64_t k,
                                             int64_t stride, int64_t groups)
{
    auto seq = container();
    auto conv = conv_fan_out(in, out, k, stride, (k - 1) / 2, groups);
    auto bn = batchnorm(out);
    seq->register_module("0", conv);
    seq->register_module("1", bn);
    parent.register_module(name, seq);
    return net.convbn(conv, bn);
}

static std::shared_ptr<Net> build_mobilenet_v2(int in_ch, int classes)
{
    auto net = std::make_shared<Net>();
    auto features = container();
    const int setting[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2},
                               {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
                               {6, 320, 1, 1}};
    // features index -> stage (the resolution boundaries, see the top).
    const int stage_end[5] = {1, 3, 6, 13, 18};
    std::vector<Fn> plain[5], folded[5];
    int64_t input_channel = make_divisible(32.0, 8);
    int64_t last_channel = make_divisible(1280.0, 8);
    int idx = 0;

    auto stage_of = [&](int i) {
        int s = 0;
        while (i > stage_end[s])
            s++;
        return s;
    };
    auto relu6 = [](const Tensor &x) { return torch::hardtanh(x, 0.0, 6.0); };
    auto relu6_ = [](Tensor x) { return x.clamp_(0.0, 6.0); };

    auto first = conv_norm_act(*net, *features, std::to_string(idx), in_ch,
                               input_channel, 3, 2, 1);
    plain[0].push_back(
        [first, relu6](const Tensor &x) { return relu6(first->plain(x)); });
    folded[0].push_back(
        [first, relu6_](const Tensor &x) { return relu6_(first->folded(x)); });
    idx++;

    for (const auto &row : setting) {
        int64_t t = row[0];
        int64_t out = make_divisible(row[1], 8);
        for (int i = 0; i < row[2]; i++) {
            int64_t stride = i == 0 ? row[3] : 1;
            int64_t hidden = static_cast<int64_t>(
                std::lround(static_cast<double>(input_channel * t)));
            bool residual = stride == 1 && input_channel == out;
            auto block = container();
            auto conv = container();
            std::vector<std::shared_ptr<ConvBn>> acts;
            int sub = 0;
            if (t != 1)
                acts.push_back(conv_norm_act(*net, *conv, std::to_string(sub++),
                                             input_channel, hidden, 1, 1, 1));
            acts.push_back(conv_norm_act(*net, *conv, std::to_string(sub++),
                                         hidden, hidden, 3, stride, hidden));
            auto pw = conv_fan_out(hidden, out, 1, 1, 0);
            auto pwbn = batchnorm(out);
            conv->register_module(std::to_string(sub++), pw);
            conv->register_module(std::to_string(sub++), pwbn);
            auto project = net->convbn(pw, pwbn);
            block->register_module("conv", conv);
            features->register_module(std::to_string(idx), block);
            int s = stage_of(idx);
            plain[s].push_back(
                [acts, project, residual, relu6](const Tensor &x) {
                    Tensor y = x;
                    for (const auto &a : acts)
                        y = relu6(a->plain(y));
                    y = project->plain(y);
                    return residual ? x + y : y;
                });
            folded[s].push_back(
                [acts, project, residual, relu6_](const Tensor &x) {
                    Tensor y = x;
                    for (const auto &a : acts)
                        y = relu6_(a->folded(y));
                    y = project->folded(y);
                    return residual ? y.add_(x) : y;
                });
            input_channel = out;
            idx++;
        }
    }
    auto last = conv_norm_act(*net, *features, std::to_string(idx),
                              input_channel, last_channel, 1, 1, 1);
    plain[4].push_back(
        [last, relu6](const Tensor &x) { return relu6(last->plain(x)); });
    folded[4].push_back(
        [last, relu6_](const Tensor &x) { return relu6_(last->folded(x)); });
    net->register_module("features", features);

    const char *names[5] = {"stem", "stage1", "stage2", "stage3", "stage4"};
    int begin = 0;
    for (int s = 0; s < 5; s++) {
        std::vector<std::string> prefixes;
        for (int i = begin; i <= stage_end[s]; i++)
            prefixes.push_back("features." + std::to_string(i));
        std::string modules = "features." + std::to_string(begin) + "-" +
                              std::to_string(stage_end[s]);
        add_stage(*net, names[s], modules, prefixes, std::move(plain[s]),
                  std::move(folded[s]));
        begin = stage_end[s] + 1;
    }

    auto classifier = container();
    nn::Linear fc(last_channel, classes);
    {
        torch::NoGradGuard no_grad;
        nn::init::normal_(fc->weight, 0.0, 0.01);
        nn::init::zeros_(fc->bias);
    }
    // classifier.0 is Dropout(0.2): no parameters, identity in eval mode.
    classifier->register_module("1", fc);
    net->register_module("classifier", classifier);
    Net *self = net.get();
    Fn head = [fc, self](const Tensor &x) {
        Tensor y = global_pool_flatten(x);
        y = torch::dropout(y, 0.2, self->is_training());
        return linear_forward(fc, y);
    };
    add_stage(*net, "classifier", "avgpool classifier", {"classifier"}, {head},
              {head});
    return net;
}

// AlexNet, VGG and SqueezeNet: plain feature stacks

// A convolution with PyTorch's default initialisation (AlexNet sets none of
// its own): libtorch's Conv2d draws kaiming-uniform weights with
// a = sqrt(5) and a uniform bias, as PyTorch's does.
static nn::Conv2d conv_default(int64_t in, int64_t out, int64_t k,
                               int64_t stride, int64_t pad)
{
    return nn::Conv2d(
        nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

// Kaiming-uniform, fan-in, a = 0, zero bias (SqueezeNet's
// init.kaiming_uniform_ with its defaults).
static nn::Conv2d conv_uniform(int64_t in, int64_t out, int64_t k,
                               int64_t stride, int64_t pad)
{
    nn::Conv2d c(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
    torch::NoGradGuard no_grad;
    nn::init::kaiming_uniform_(c->weight, 0.0, torch::kFanIn,
                               torch::kLeakyReLU);
    nn::init::zeros_(c->bias);
    return c;
}

// Builds torchvision's nn.Sequential "features" (children "0", "1", ...,
// one index per layer, activations and pools included) stage by stage:
// end_stage() closes a stage with the indices added since the last one.
class FeatureStack
{
  public:
    explicit FeatureStack(Net &net) : net_(net), mod_(container())
    {
        net_.register_module("features", mod_);
    }

    // Conv2d, optionally BatchNorm2d, ReLU: a foldable pair.
    void conv_relu(nn::Conv2d conv, bool bn)
    {
        mod_->register_module(next(), conv);
        nn::BatchNorm2d b{nullptr};
        if (bn) {
            b = batchnorm(conv->options.out_channels());
            mod_->register_module(next(), b);
        }
        next(); // ReLU
        auto cb = net_.convbn(conv, b);
        plain_.push_back(
            [cb](const Tensor &x) { return torch::relu(cb->plain(x)); });
        folded_.push_back(
            [cb](const Tensor &x) { return cb->folded(x).relu_(); });
    }

    void maxpool(int64_t k, int64_t stride, bool ceil_mode)
    {
        next();
        Fn f = [k, stride, ceil_mode](const Tensor &x) {
            return torch::max_pool2d(x, {k, k}, {stride, stride}, {0, 0},
                                     {1, 1}, ceil_mode);
        };
        plain_.push_back(f);
        folded_.push_back(std::move(f));
    }

    // SqueezeNet's Fire module: a 1x1 squeeze and the concatenation of a
    // 1x1 and a 3x3 expansion, each followed by a ReLU.
    void fire(int64_t in, int64_t squeeze, int64_t e1, int64_t e3)
    {
        auto mod = container();
        auto sq = conv_uniform(in, squeeze, 1, 1, 0);
        auto x1 = conv_uniform(squeeze, e1, 1, 1, 0);
        auto x3 = conv_uniform(squeeze, e3, 3, 1, 1);
        mod->register_module("squeeze", sq);
        mod->register_module("expand1x1", x1);
        mod->register_module("expand3x3", x3);
        mod_->register_module(next(), mod);
        nn::BatchNorm2d none{nullptr};
        auto s = net_.convbn(sq, none), a = net_.convbn(x1, none),
             b = net_.convbn(x3, none);
        plain_.push_back([s, a, b](const Tensor &x) {
            Tensor y = torch::relu(s->plain(x));
            return torch::cat(
                {torch::relu(a->plain(y)), torch::relu(b->plain(y))}, 1);
        });
        folded_.push_back([s, a, b](const Tensor &x) {
            Tensor y = s->folded(x).relu_();
            return torch::cat({a->folded(y).relu_(), b->folded(y).relu_()}, 1);
        });
    }

    void end_stage(const std::string &name)
    {
        std::vector<std::string> prefixes;
        for (int i = begin_; i < idx_; i++)
            prefixes.push_back("features." + std::to_string(i));
        std::string modules = "features." + std::to_string(begin_);
        if (idx_ - 1 > begin_)
            modules += "-" + std::to_string(idx_ - 1);
        add_stage(net_, name, modules, std::move(prefixes), std::move(plain_),
                  std::move(folded_));
        plain_.clear();
        folded_.clear();
        begin_ = idx_;
    }

  private:
    std::string next()
    {
        return std::to_string(idx_++);
    }
    Net &net_;
    std::shared_ptr<nn::Module> mod_;
    std::vector<Fn> plain_, folded_;
    int idx_ = 0, begin_ = 0;
};

// The classifier of AlexNet and VGG: adaptive average pooling to pool x
// pool, then three linear layers with ReLU and Dropout(0.5) between them,
// registered as classifier.<index> as torchvision numbers them. AlexNet
// drops out before the first two linear layers ("1", "4", "6"), VGG after
// the first two ReLUs ("0", "3", "6"), and for vgg the linear layers take
// VGG's N(0, 0.01) weights and zero biases instead of PyTorch's defaults.
static void mlp_classifier(Net &net, int64_t channels, int64_t pool,
                           int classes, bool vgg)
{
    const int64_t in = channels * pool * pool;
    nn::Linear fc1(in, 4096), fc2(4096, 4096), fc3(4096, classes);
    if (vgg) {
        torch::NoGradGuard no_grad;
        for (nn::Linear *fc : {&fc1, &fc2, &fc3}) {
            nn::init::normal_((*fc)->weight, 0.0, 0.01);
            nn::init::zeros_((*fc)->bias);
        }
    }
    auto classifier = container();
    classifier->register_module(vgg ? "0" : "1", fc1);
    classifier->register_module(vgg ? "3" : "4", fc2);
    classifier->register_module("6", fc3);
    net.register_module("classifier", classifier);
    Net *self = &net;
    Fn head = [fc1, fc2, fc3, pool, vgg, self](const Tensor &x) {
        // Dropout is the identity in eval mode, as in torchvision.
        const bool train = self->is_training();
        Tensor y = torch::adaptive_avg_pool2d(x, {pool, pool}).flatten(1);
        if (!vgg)
            y = torch::dropout(y, 0.5, train);
        y = torch::relu(linear_forward(fc1, y));
        y = torch::dropout(y, 0.5, train);
        y = torch::relu(linear_forward(fc2, y));
        if (vgg)
            y = torch::dropout(y, 0.5, train);
        return linear_forward(fc3, y);
    };
    add_stage(net, "classifier", "avgpool classifier", {"classifier"}, {head},
              {head});
}

static std::shared_ptr<Net> build_alexnet(int in_ch, int classes)
{
    auto net = std::make_shared<Net>();
    FeatureStack f(*net);
    f.conv_relu(conv_default(in_ch, 64, 11, 4, 2), false);
    f.maxpool(3, 2, false);
    f.end_stage("stem");
    f.conv_relu(conv_default(64, 192, 5, 1, 2), false);
    f.maxpool(3, 2, false);
    f.end_stage("stage1");
    f.conv_relu(conv_default(192, 384, 3, 1, 1), false);
    f.end_stage("stage2");
    f.conv_relu(conv_default(384, 256, 3, 1, 1), false);
    f.end_stage("stage3");
    f.conv_relu(conv_default(256, 256, 3, 1, 1), false);
    f.maxpool(3, 2, false);
    f.end_stage("stage4");
    mlp_classifier(*net, 256, 6, classes, false);
    return net;
}

// cfg as torchvision's cfgs "A", "B", "D", "E": output channels of each
// 3x3 convolution, 0 for a 2x2 max-pool (which ends a stage).
static std::shared_ptr<Net> build_vgg(const std::vector<int> &cfg, bool bn,
                                      int in_ch, int classes)
{
    const char *names[5] = {"stem", "stage1", "stage2", "stage3", "stage4"};
    auto net = std::make_shared<Net>();
    FeatureStack f(*net);
    int64_t c = in_ch;
    size_t stage = 0;
    for (int v : cfg) {
        if (v == 0) {
            if (stage == 5)
                throw std::logic_error("a VGG configuration has five pools");
            f.maxpool(2, 2, false);
            f.end_stage(names[stage++]);
        } else {
            f.conv_relu(conv_fan_out(c, v, 3, 1, 1, 1, true), bn);
            c = v;
        }
    }
    if (stage != 5)
        throw std::logic_error("a VGG configuration has five pools");
    mlp_classifier(*net, c, 7, classes, true);
    return net;
}

static std::shared_ptr<Net> build_squeezenet(bool v1_1, int in_ch, int classes)
{
    auto net = std::make_shared<Net>();
    FeatureStack f(*net);
    if (!v1_1) {
        f.conv_relu(conv_uniform(in_ch, 96, 7, 2, 0), false);
        f.maxpool(3, 2, true);
        f.end_stage("stem");
        f.fire(96, 16, 64, 64);
        f.fire(128, 16, 64, 64);
        f.fire(128, 32, 128, 128);
        f.maxpool(3, 2, true);
        f.end_stage("stage1");
        f.fire(256, 32, 128, 128);
        f.fire(256, 48, 192, 192);
        f.end_stage("stage2");
        f.fire(384, 48, 192, 192);
        f.fire(384, 64, 256, 256);
        f.maxpool(3, 2, true);
        f.end_stage("stage3");
        f.fire(512, 64, 256, 256);
        f.end_stage("stage4");
    } else {
        f.conv_relu(conv_uniform(in_ch, 64, 3, 2, 0), false);
        f.maxpool(3, 2, true);
        f.end_stage("stem");
        f.fire(64, 16, 64, 64);
        f.fire(128, 16, 64, 64);
        f.maxpool(3, 2, true);
        f.end_stage("stage1");
        f.fire(128, 32, 128, 128);
        f.fire(256, 32, 128, 128);
        f.maxpool(3, 2, true);
        f.end_stage("stage2");
        f.fire(256, 48, 192, 192);
        f.fire(384, 48, 192, 192);
        f.end_stage("stage3");
        f.fire(384, 64, 256, 256);
        f.fire(512, 64, 256, 256);
        f.end_stage("stage4");
    }

    // classifier: Dropout(0.5), final_conv, ReLU, AdaptiveAvgPool2d(1).
    nn::Conv2d final_conv(nn::Conv2dOptions(512, classes, 1));
    {
        torch::NoGradGuard no_grad;
        nn::init::normal_(final_conv->weight, 0.0, 0.01);
        nn::init::zeros_(final_conv->bias);
    }
    auto classifier = container();
    classifier->register_module("1", final_conv);
    net->register_module("classifier", classifier);
    auto cb = net->convbn(final_conv, nn::BatchNorm2d(nullptr));
    Net *self = net.get();
    Fn plain = [cb, self](const Tensor &x) {
        Tensor y = torch::dropout(x, 0.5, self->is_training());
        return global_pool_flatten(torch::relu(cb->plain(y)));
    };
    Fn folded = [cb](const Tensor &x) {
        return global_pool_flatten(cb->folded(x).relu_());
    };
    add_stage(*net, "classifier", "classifier", {"classifier"}, {plain},
              {folded});
    return net;
}

// BottleFit bottleneck injection

// Builds an nn.Sequential-like container ("0", "1", ...) and its plain and
// folded forward functions; a convolution directly followed by a
// BatchNorm folds into one.
class SeqBuilder
{
  public:
    SeqBuilder(Net &net, std::shared_ptr<nn::Module> mod)
        : net_(net), mod_(std::move(mod))
    {
    }

    void conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
              bool bn_after, bool bias = false)
    {
        nn::Conv2d c(nn::Conv2dOptions(in, out, k)
                         .stride(stride)
                         .padding(pad)
                         .bias(bias));
        mod_->register_module(next(), c);
        nn::BatchNorm2d b{nullptr};
        if (bn_after) {
            b = batchnorm(out);
            mod_->register_module(next(), b);
        }
        auto cb = net_.convbn(c, b);
        plain_.push_back([cb](const Tensor &x) { return cb->plain(x); });
        folded_.push_back([cb](const Tensor &x) { return cb->folded(x); });
    }
    void bn(int64_t c)
    {
        auto b = batchnorm(c);
        mod_->register_module(next(), b);
        add([b](const Tensor &x) { return bn_forward(b, x); });
    }
    void relu()
    {
        next();
        plain_.push_back([](const Tensor &x) { return torch::relu(x); });
        // In the folded path every ReLU follows a fresh convolution or
        // BatchNorm output, so it may work in place.
        folded_.push_back([](const Tensor &x) { return x.relu_(); });
    }
    void maxpool(int64_t k, int64_t s, int64_t p)
    {
        next();
        add([k, s, p](const Tensor &x) {
            return torch::max_pool2d(x, k, s, p);
        });
    }
    void avgpool(int64_t k, int64_t s)
    {
        next();
        add([k, s](const Tensor &x) { return torch::avg_pool2d(x, k, s); });
    }
    void adaptive(int64_t h, int64_t w)
    {
        next();
        add([h, w](const Tensor &x) {
            return torch::adaptive_avg_pool2d(x, {h, w});
        });
    }
    // Flatten to (batch, in), then a linear layer (counted).
    void linear(int64_t in, int64_t out)
    {
        nn::Linear fc(in, out);
        mod_->register_module(next(), fc);
        add([fc](const Tensor &x) { return linear_forward(fc, x.flatten(1)); });
    }
    void convt(int64_t in, int64_t out, int64_t k, int64_t stride,
               bool bias = false)
    {
        nn::ConvTranspose2d c(
            nn::ConvTranspose2dOptions(in, out, k).stride(stride).bias(bias));
        mod_->register_module(next(), c);
        add([c](const Tensor &x) {
            Tensor y;
            if (x.scalar_type() == c->weight.scalar_type()) {
                y = c.ptr()->forward(x);
            } else if (x.is_cpu() &&
                       x.scalar_type() == c10::ScalarType::BFloat16) {
                // libtorch 1.13's bf16 transposed convolution on the CPU
                // runs as a plain one and fails ("expected input to have
                // <out> channels"): this layer computes in fp32 there.
                y = c.ptr()
                        ->forward(x.to(c->weight.scalar_type()))
                        .to(x.scalar_type());
            } else {
                y = torch::conv_transpose2d(
                    x, param_as(c->weight, x), param_as(c->bias, x),
                    c->options.stride(), explicit_padding(c->options),
                    c->options.output_padding(), c->options.groups(),
                    c->options.dilation());
            }
            const Tensor &w = c->weight; // in x out x kh x kw
            // Each input element meets every kernel tap of every output
            // channel.
            count_layer(BF_LAYER_CONV, x, y, w, c->bias, x,
                        w.size(1) * w.size(2) * w.size(3));
            return y;
        });
    }
    Fn plain()
    {
        return chain(plain_);
    }
    Fn folded()
    {
        return chain(folded_);
    }

  private:
    std::string next()
    {
        return std::to_string(idx_++);
    }
    void add(Fn f)
    {
        plain_.push_back(f);
        folded_.push_back(std::move(f));
    }
    Net &net_;
    std::shared_ptr<nn::Module> mod_;
    std::vector<Fn> plain_, folded_;
    int idx_ = 0;
};

// The output of stages 0..last for one zero image of native_px, computed in
// eval mode without gradients; the model's mode is restored.
static Tensor probe(Net &net, int native_px, int last)
{
    torch::NoGradGuard no_grad;
    bool was_training = net.is_training();
    net.eval();
    Tensor y = net.forward_range(
        torch::zeros({1, net.in_channels, native_px, native_px}), 0, last);
    net.train(was_training);
    return y;
}

// Remove a registered module given its dotted path ("features.conv0").
static void unregister_path(Net &net, const std::string &path)
{
    auto dot = path.rfind('.');
    if (dot == std::string::npos) {
        net.unregister_module(path);
        return;
    }
    std::string parent = path.substr(0, dot);
    for (auto &item : net.named_modules("", false)) {
        if (item.key() == parent) {
            item.value()->unregister_module(path.substr(dot + 1));
            return;
        }
    }
    throw std::logic_error("no module " + parent);
}

void inject_bottleneck(Net &net, const std::string &family, int native_px,
                       int version, int channels)
{
    const bool resnet = family == "resnet", densenet = family == "densenet",
               mini = family == "mini";
    if (net.bottleneck_version || net.autoencoder_channels ||
        !net.exits.empty())
        throw std::invalid_argument(
            "the model already has a bottleneck, an autoencoder or exits");
    if (!resnet && !densenet && !mini)
        throw std::invalid_argument("no BottleFit bottleneck is defined for "
                                    "the " +
                                    family + " family");
    if (version == 0)
        version = 2;
    if (version < 1 || version > 3 || (version != 2 && !resnet))
        throw std::invalid_argument(
            "bottleneck version " + std::to_string(version) +
            (resnet ? " (versions: 1, 2, 3)"
                    : " (this family has version 2 only)"));
    if (channels < 1 || channels > 512)
        throw std::invalid_argument("bottleneck channels " +
                                    std::to_string(channels) +
                                    " outside 1..512");

    // The shape the decoder must reproduce: the teacher's stage2 output.
    Tensor target = probe(net, native_px, 2);
    const int64_t out_c = target.size(1), out_h = target.size(2),
                  out_w = target.size(3), c = channels;

    auto bottleneck = container();
    auto enc = container(), dec = container();
    SeqBuilder e(net, enc);
    // convbns created from here on belong to the encoder (stage 0) or the
    // decoder (stage 1) once the old stages are gone; tag them so.
    size_t first_new = net.convbns.size();
    if (mini) {
        e.conv(net.in_channels, 32, 3, 1, 1, true);
        e.relu();
        e.conv(32, 32, 3, 2, 1, true);
        e.relu();
        e.conv(32, c, 2, 2, 1, false);
    } else if (version == 1) {
        e.conv(net.in_channels, c, 7, 2, 3, true);
        e.relu();
        e.maxpool(3, 2, 1);
    } else {
        e.conv(net.in_channels, 64, 7, 2, 3, true);
        e.relu();
        e.maxpool(3, 2, 1);
        e.bn(64);
        e.relu();
        if (version == 3) {
            e.conv(64, 512, 2, 2, 1, true);
            e.relu();
            e.conv(512, c, 2, 2, 1, false);
        } else {
            e.conv(64, c, 2, 2, 1, false);
        }
    }
    size_t first_dec = net.convbns.size();
    SeqBuilder d(net, dec);
    if (mini) {
        d.bn(c);
        d.relu();
        d.convt(c, 64, 2, 2);
        d.bn(64);
        d.relu();
        d.conv(64, 64, 3, 1, 0, true);
        d.relu();
        d.conv(64, out_c, 1, 1, 0, false);
        d.adaptive(out_h, out_w);
    } else if (resnet && version == 1) {
        d.conv(c, 64, 2, 2, 1, true);
        d.relu();
        d.conv(64, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 512, 2, 1, 0, true);
        d.relu();
        d.conv(512, out_c, 2, 1, 0, false);
        d.avgpool(2, 1);
    } else if (resnet && version == 3) {
        d.bn(c);
        d.relu();
        d.convt(c, 512, 2, 2);
        d.bn(512);
        d.relu();
        d.conv(512, 512, 2, 1, 0, true);
        d.relu();
        d.conv(512, out_c, 2, 1, 0, false);
    } else if (resnet) {
        d.bn(c);
        d.relu();
        d.conv(c, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 512, 2, 1, 0, true);
        d.relu();
        d.conv(512, out_c, 2, 1, 0, false);
        d.avgpool(2, 1);
    } else {
        d.bn(c);
        d.relu();
        d.conv(c, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 512, 2, 1, 1, true);
        d.relu();
        d.conv(512, 256, 2, 1, 0, true);
        d.relu();
        d.conv(256, 256, 2, 1, 0, true);
        d.relu();
        d.conv(256, out_c, 2, 1, 0, false);
        d.avgpool(2, 2);
    }

    // Drop the replaced modules and their foldable pairs.
    for (int s = 0; s <= 2; s++)
        for (const std::string &prefix :
             net.stage_prefixes[static_cast<size_t>(s)])
            unregister_path(net, prefix);
    std::vector<std::shared_ptr<ConvBn>> kept;
    for (size_t i = 0; i < net.convbns.size(); i++) {
        auto &cb = net.convbns[i];
        if (i >= first_dec)
            cb->stage = 1;
        else if (i >= first_new)
            cb->stage = 0;
        else if (cb->stage <= 2)
            continue;
        else
            cb->stage -= 1;
        kept.push_back(cb);
    }
    net.convbns = std::move(kept);
    bottleneck->register_module("encoder", enc);
    bottleneck->register_module("decoder", dec);
    net.register_module("bottleneck", bottleneck);

    std::vector<Stage> stages{
        {"encoder", "bottleneck.encoder", e.plain(), e.folded()},
        {"decoder", "bottleneck.decoder", d.plain(), d.folded()}};
    std::vector<std::vector<std::string>> prefixes{{"bottleneck.encoder"},
                                                   {"bottleneck.decoder"}};
    for (size_t s = 3; s < net.stages.size(); s++) {
        stages.push_back(net.stages[s]);
        prefixes.push_back(net.stage_prefixes[s]);
    }
    net.stages = std::move(stages);
    net.stage_prefixes = std::move(prefixes);
    net.bottleneck_version = version;
    net.bottleneck_channels = channels;

    // Check the decoder against the teacher's stage2 shape now, not at the
    // first training step.
    Tensor y = probe(net, native_px, 1);
    if (y.sizes() != target.sizes())
        throw std::logic_error("bottleneck decoder gives " +
                               c10::str(y.sizes()) + ", the teacher's stage2 " +
                               c10::str(target.sizes()));
}

void inject_autoencoder(Net &net, int native_px, int channels)
{
    if (net.bottleneck_version || net.autoencoder_channels ||
        !net.exits.empty())
        throw std::invalid_argument(
            "the model already has a bottleneck, an autoencoder or exits");
    if (channels < 1 || channels > 512)
        throw std::invalid_argument("autoencoder channels " +
                                    std::to_string(channels) +
                                    " outside 1..512");
    Tensor split = probe(net, native_px, 2);
    const int64_t c_in = split.size(1), c = channels;
    if (split.size(2) < 5 || split.size(3) < 5)
        throw std::invalid_argument("the split tensor " +
                                    c10::str(split.sizes()) +
                                    " is too small for the autoencoder's "
                                    "four 2x2 convolutions");

    // Encoder: four 2x2 convolutions with bias, stride 1, no padding; BN
    // after each, ReLU after all but the last. Decoder: the mirror image
    // with transposed convolutions, ending at c_in without BN or ReLU.
    auto ae = container(), enc = container(), dec = container();
    size_t first_new = net.convbns.size();
    SeqBuilder e(net, enc);
    e.conv(c_in, 128, 2, 1, 0, true, true);
    e.relu();
    e.conv(128, 64, 2, 1, 0, true, true);
    e.relu();
    e.conv(64, 32, 2, 1, 0, true, true);
    e.relu();
    e.conv(32, c, 2, 1, 0, true, true);
    SeqBuilder d(net, dec);
    d.convt(c, 32, 2, 1, true);
    d.bn(32);
    d.relu();
    d.convt(32, 64, 2, 1, true);
    d.bn(64);
    d.relu();
    d.convt(64, 128, 2, 1, true);
    d.bn(128);
    d.relu();
    d.convt(128, c_in, 2, 1, true);
    // HND's initialize_weights (src/models/autoencoder/base.py of
    // head-network-distillation): every Conv2d Kaiming-normal, fan-out,
    // zero bias; BatchNorm weight 1 and bias 0 (libtorch's default too);
    // the transposed convolutions keep the default initialisation.
    {
        torch::NoGradGuard no_grad;
        for (const auto &m : enc->modules(false)) {
            if (auto *conv = m->as<nn::Conv2d>()) {
                nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut,
                                          torch::kReLU);
                nn::init::zeros_(conv->bias);
            }
        }
    }
    for (size_t i = 0; i < net.convbns.size(); i++) {
        auto &cb = net.convbns[i];
        if (i >= first_new)
            cb->stage = 3;
        else if (cb->stage >= 3)
            cb->stage += 2;
    }
    ae->register_module("encoder", enc);
    ae->register_module("decoder", dec);
    net.register_module("autoencoder", ae);
    std::vector<Stage> stages(net.stages.begin(), net.stages.begin() + 3);
    std::vector<std::vector<std::string>> prefixes(
        net.stage_prefixes.begin(), net.stage_prefixes.begin() + 3);
    stages.push_back(
        {"ae_encoder", "autoencoder.encoder", e.plain(), e.folded()});
    stages.push_back(
        {"ae_decoder", "autoencoder.decoder", d.plain(), d.folded()});
    prefixes.push_back({"autoencoder.encoder"});
    prefixes.push_back({"autoencoder.decoder"});
    for (size_t s = 3; s < net.stages.size(); s++) {
        stages.push_back(net.stages[s]);
        prefixes.push_back(net.stage_prefixes[s]);
    }
    net.stages = std::move(stages);
    net.stage_prefixes = std::move(prefixes);
    net.autoencoder_channels = channels;
}

void attach_exits(Net &net, int native_px, const std::vector<int> &after)
{
    if (net.bottleneck_version || net.autoencoder_channels ||
        !net.exits.empty())
        throw std::invalid_argument("early exits need the unmodified model "
                                    "(it has a bottleneck, an autoencoder "
                                    "or exits)");
    const int n_stages = static_cast<int>(net.stages.size());
    if (after.empty() || after.size() > 4)
        throw std::invalid_argument("1 to 4 exits, not " +
                                    std::to_string(after.size()));
    for (size_t i = 0; i < after.size(); i++)
        if (after[i] < 0 || after[i] > n_stages - 2 ||
            (i && after[i] <= after[i - 1]))
            throw std::invalid_argument(
                "exit after stage " + std::to_string(after[i]) +
                ": stages must increase and precede the classifier (0.." +
                std::to_string(n_stages - 2) + ")");
    auto all = container();
    std::vector<Stage> exits;
    for (size_t i = 0; i < after.size(); i++) {
        Tensor y = probe(net, native_px, after[i]);
        if (y.dim() != 4)
            throw std::invalid_argument("stage " + std::to_string(after[i]) +
                                        " does not output feature maps");
        const int64_t c_in = y.size(1);
        const int64_t w =
            std::min<int64_t>(std::max<int64_t>(2 * c_in, 32), 128);
        auto mod = container();
        size_t first_new = net.convbns.size();
        SeqBuilder b(net, mod);
        b.conv(c_in, w, 3, 2, 1, true);
        b.relu();
        b.adaptive(1, 1);
        b.linear(w, net.num_classes);
        for (size_t k = first_new; k < net.convbns.size(); k++)
            net.convbns[k]->stage = -1; // not a stage: never frozen by one
        all->register_module(std::to_string(i), mod);
        exits.push_back({"exit" + std::to_string(i + 1),
                         "exits." + std::to_string(i), b.plain(), b.folded()});
    }
    net.register_module("exits", all);
    net.exits = std::move(exits);
    net.exit_after = after;
}

// Registry

static std::shared_ptr<Net> resnet(bool bottleneck, std::vector<int> layers,
                                   int64_t groups, int64_t wpg, int in_ch,
                                   int classes)
{
    ResNetCfg cfg{bottleneck, std::move(layers), groups, wpg};
    return build_resnet(cfg, in_ch, classes);
}

static std::shared_ptr<Net> densenet(int64_t growth, std::vector<int> blocks,
                                     int64_t init, int in_ch, int classes)
{
    DenseNetCfg cfg{growth, std::move(blocks), init};
    return build_densenet(cfg, in_ch, classes);
}

// torchvision's VGG configurations cfgs["A"], ["B"], ["D"] and ["E"]
// (0: max-pool), for build_vgg.
static std::vector<int> vgg_cfg(char name)
{
    switch (name) {
    case 'A':
        return {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    case 'B':
        return {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    case 'D':
        return {64, 64,  0,   128, 128, 0,   256, 256, 256,
                0,  512, 512, 512, 0,   512, 512, 512, 0};
    case 'E':
        return {64,  64,  0,   128, 128, 0,   256, 256, 256, 256, 0,
                512, 512, 512, 512, 0,   512, 512, 512, 512, 0};
    default:
        throw std::logic_error(std::string("no VGG configuration ") + name);
    }
}

const std::vector<ArchSpec> &archs()
{
    static const std::vector<ArchSpec> table = {
        {"resnet18", "resnet", 224, 3, 1000, "ResNet-18 (torchvision)",
         [](int i, int c) {
             return resnet(false, {2, 2, 2, 2}, 1, 64, i, c);
         }},
        {"resnet34", "resnet", 224, 3, 1000, "ResNet-34 (torchvision)",
         [](int i, int c) {
             return resnet(false, {3, 4, 6, 3}, 1, 64, i, c);
         }},
        {"resnet50", "resnet", 224, 3, 1000, "ResNet-50 (torchvision)",
         [](int i, int c) {
             return resnet(true, {3, 4, 6, 3}, 1, 64, i, c);
         }},
        {"resnet101", "resnet", 224, 3, 1000, "ResNet-101 (torchvision)",
         [](int i, int c) {
             return resnet(true, {3, 4, 23, 3}, 1, 64, i, c);
         }},
        {"resnet152", "resnet", 224, 3, 1000,
         "ResNet-152 (torchvision; BottleFit teacher)",
         [](int i, int c) {
             return resnet(true, {3, 8, 36, 3}, 1, 64, i, c);
         }},
        {"resnext50_32x4d", "resnet", 224, 3, 1000,
         "ResNeXt-50 32x4d (torchvision)",
         [](int i, int c) {
             return resnet(true, {3, 4, 6, 3}, 32, 4, i, c);
         }},
        {"resnext101_32x8d", "resnet", 224, 3, 1000,
         "ResNeXt-101 32x8d (torchvision)",
         [](int i, int c) {
             return resnet(true, {3, 4, 23, 3}, 32, 8, i, c);
         }},
        {"wide_resnet50_2", "resnet", 224, 3, 1000,
         "Wide ResNet-50-2 (torchvision)",
         [](int i, int c) {
             return resnet(true, {3, 4, 6, 3}, 1, 128, i, c);
         }},
        {"densenet121", "densenet", 224, 3, 1000, "DenseNet-121 (torchvision)",
         [](int i, int c) {
             return densenet(32, {6, 12, 24, 16}, 64, i, c);
         }},
        {"densenet169", "densenet", 224, 3, 1000,
         "DenseNet-169 (torchvision; BottleFit teacher)",
         [](int i, int c) {
             return densenet(32, {6, 12, 32, 32}, 64, i, c);
         }},
        {"densenet201", "densenet", 224, 3, 1000,
         "DenseNet-201 (torchvision; BottleFit teacher)",
         [](int i, int c) {
             return densenet(32, {6, 12, 48, 32}, 64, i, c);
         }},
        {"densenet161", "densenet", 224, 3, 1000, "DenseNet-161 (torchvision)",
         [](int i, int c) {
             return densenet(48, {6, 12, 36, 24}, 96, i, c);
         }},
        {"mobilenet_v2", "mobilenet", 224, 3, 1000, "MobileNetV2 (torchvision)",
         [](int i, int c) { return build_mobilenet_v2(i, c); }},
        {"alexnet", "alexnet", 224, 3, 1000, "AlexNet (torchvision)",
         [](int i, int c) { return build_alexnet(i, c); }},
        {"vgg11", "vgg", 224, 3, 1000, "VGG-11 (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('A'), false, i, c); }},
        {"vgg13", "vgg", 224, 3, 1000, "VGG-13 (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('B'), false, i, c); }},
        {"vgg16", "vgg", 224, 3, 1000, "VGG-16 (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('D'), false, i, c); }},
        {"vgg19", "vgg", 224, 3, 1000, "VGG-19 (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('E'), false, i, c); }},
        {"vgg11_bn", "vgg", 224, 3, 1000, "VGG-11 with BatchNorm (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('A'), true, i, c); }},
        {"vgg13_bn", "vgg", 224, 3, 1000, "VGG-13 with BatchNorm (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('B'), true, i, c); }},
        {"vgg16_bn", "vgg", 224, 3, 1000, "VGG-16 with BatchNorm (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('D'), true, i, c); }},
        {"vgg19_bn", "vgg", 224, 3, 1000, "VGG-19 with BatchNorm (torchvision)",
         [](int i, int c) { return build_vgg(vgg_cfg('E'), true, i, c); }},
        {"squeezenet1_0", "squeezenet", 224, 3, 1000,
         "SqueezeNet 1.0 (torchvision)",
         [](int i, int c) { return build_squeezenet(false, i, c); }},
        {"squeezenet1_1", "squeezenet", 224, 3, 1000,
         "SqueezeNet 1.1 (torchvision)",
         [](int i, int c) { return build_squeezenet(true, i, c); }},
        {"resnet_mini", "mini", 28, 1, 10,
         "ResNet-18 layout at widths 16-128, 3x3 stem, no max-pool "
         "(28x28 inputs)",
         [](int i, int c) {
             ResNetCfg cfg{false, {2, 2, 2, 2}, 1, 64, true, 16};
             return build_resnet(cfg, i, c);
         }},
        {"densenet_mini", "mini", 28, 1, 10,
         "DenseNet layout, growth 12, blocks 4-4-4-4, 3x3 stem, no max-pool "
         "(28x28 inputs)",
         [](int i, int c) {
             DenseNetCfg cfg{12, {4, 4, 4, 4}, 24, 4, true};
             return build_densenet(cfg, i, c);
         }},
    };
    return table;
}

const ArchSpec *find_arch(const std::string &name)
{
    for (const ArchSpec &a : archs())
        if (name == a.name)
            return &a;
    return nullptr;
}

} // namespace bfzoo
