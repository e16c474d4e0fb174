// bf_zoo: the model zoo behind shim/bf_torch.h (C++17, internal).
//
// Every architecture is a Net: a torch::nn::Module whose registered
// submodules carry torchvision's names (so state dicts exported from
// torchvision load by name), plus a list of stages. A stage is a function
// from tensor to tensor that calls the registered submodules; a forward over
// stages [first, last] chains them.
//
// Two evaluation paths share the modules:
// - the plain path calls the modules as torchvision does;
// - the folded path (Net::fold) uses precomputed convolution weights with
//   the following BatchNorm folded in, in-place activations and, for
//   DenseNet, a preallocated concatenation buffer.
// Multiply-accumulates are counted by the conv/linear helpers when a
// MacCounter is active on the thread (bf_model_describe).
#ifndef BF_ZOO_HPP
#define BF_ZOO_HPP

#include <torch/torch.h>

#include "bf_torch.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace bfzoo
{

// One counted layer (per image), as bf_model_layers reports it.
struct LayerRec {
    int kind; // BF_LAYER_*
    int64_t macs;
    int64_t params;
    int64_t in_elems;
    int64_t out_elems;
};

// Counts multiply-accumulates of conv and linear layers run on this thread
// while alive (per image: the counts divide by the batch size), and when
// given a list, appends every counted layer to it.
class MacCounter
{
  public:
    explicit MacCounter(std::vector<LayerRec> *layers = nullptr);
    ~MacCounter();
    MacCounter(const MacCounter &) = delete;
    MacCounter &operator=(const MacCounter &) = delete;
    int64_t total() const
    {
        return total_;
    }
    static void add(const LayerRec &layer);

  private:
    int64_t total_ = 0;
    std::vector<LayerRec> *layers_;
    MacCounter *prev_;
};

// A convolution optionally followed by a BatchNorm, foldable into one
// convolution. The modules are registered by their owner under torchvision
// names; ConvBn only points at them.
struct ConvBn {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr}; // may stay null
    torch::Tensor fused_w;              // defined once folded
    torch::Tensor fused_b;
    int stage = -1; // index of the stage that owns it

    torch::Tensor plain(const torch::Tensor &x) const;
    torch::Tensor folded(const torch::Tensor &x) const;
    // Fold in fp32, then cast the fused weights to dtype (the folded
    // path's compute type).
    void fold(bool channels_last, c10::ScalarType dtype);
    void unfold();
};

// Parameters of modules outside a ConvBn (standalone BatchNorm, Linear,
// transposed convolutions) in the dtype of the activations they meet: the
// folded path may compute in bf16 or fp16 while the modules keep fp32
// parameters. A Net's forward_range installs its cache for the call, so
// each parameter is cast once per fold; without one (or in fp32) the
// parameter itself is used.
torch::Tensor param_as(const torch::Tensor &param, const torch::Tensor &x);

// An eval-mode BatchNorm on x in x's dtype: the module's own forward in
// fp32, else scale and shift computed in fp32 and cast (cached).
torch::Tensor bn_forward(const torch::nn::BatchNorm2d &bn,
                         const torch::Tensor &x);

// Convolution through the counting helper (plain path).
torch::Tensor conv_forward(const torch::nn::Conv2d &conv,
                           const torch::Tensor &x);
// Linear layer through the counting helper.
torch::Tensor linear_forward(const torch::nn::Linear &fc,
                             const torch::Tensor &x);

struct Stage {
    std::string name;    // "stage2"
    std::string modules; // "layer2"
    std::function<torch::Tensor(const torch::Tensor &)> plain;
    std::function<torch::Tensor(const torch::Tensor &)> folded;
};

class Net : public torch::nn::Module
{
  public:
    std::string arch;
    int in_channels = 3;
    int num_classes = 1000;
    std::vector<Stage> stages;
    // Every ConvBn of the model, for folding.
    std::vector<std::shared_ptr<ConvBn>> convbns;
    // Module-name prefixes owned by each stage, for per-stage param counts.
    std::vector<std::vector<std::string>> stage_prefixes;
    bool is_folded = false;
    bool channels_last = false;
    // The folded path's compute type (fp32, bf16 or fp16) and the
    // parameters cast to it for the modules outside a ConvBn.
    c10::ScalarType fold_dtype = c10::ScalarType::Float;
    // Autocast of the plain path (training): Float = off, else the lower
    // precision libtorch's autocast computes its listed ops in.
    c10::ScalarType autocast_dtype = c10::ScalarType::Float;
    std::unordered_map<const void *, torch::Tensor> cast_cache;
    // The injected bottleneck (0: none), see inject_bottleneck().
    int bottleneck_version = 0;
    int bottleneck_channels = 0;
    // The autoencoder of the autoencoder-split baseline (0: none).
    int autoencoder_channels = 0;
    // SPINN-style early-exit classifiers (see attach_exits()): exit i
    // classifies the output of stage exit_after[i]. Not stages: a forward
    // over stages never runs them.
    std::vector<Stage> exits;
    std::vector<int> exit_after;

    std::shared_ptr<ConvBn> convbn(torch::nn::Conv2d conv,
                                   torch::nn::BatchNorm2d bn);
    void fold(bool channels_last, c10::ScalarType dtype);
    void unfold();
    torch::Tensor forward_range(const torch::Tensor &x, int first, int last);
    // Every stage's output of first..last, each fp32 for the caller (the
    // losses). Under autocast the chain itself stays in the lower
    // precision, as PyTorch's autocast keeps activations between modules;
    // otherwise as forward_range one stage at a time.
    std::vector<torch::Tensor> forward_each(const torch::Tensor &x, int first,
                                            int last);
    // Exit e on y (the output of stage exit_after[e]), in the precision
    // forward_range computes in; fp32 in and out.
    torch::Tensor forward_exit(size_t e, const torch::Tensor &y);
};

struct ArchSpec {
    const char *name;
    const char *family;
    int native_size_px;
    int in_channels;
    int num_classes;
    const char *description;
    std::function<std::shared_ptr<Net>(int in_channels, int num_classes)> build;
};

const std::vector<ArchSpec> &archs();

// Replace stem..stage2 of net (family "resnet", "densenet" or "mini") by a
// BottleFit bottleneck module "bottleneck" with stages "encoder" (runs on
// the device; its output is what is transmitted) and "decoder" (reproduces
// the teacher's stage2 output shape for an input of native_px). Versions 1
// and 3 exist for ResNets only; the small family has one version (2).
// Throws std::invalid_argument on a bad combination.
void inject_bottleneck(Net &net, const std::string &family, int native_px,
                       int version, int channels);

// Insert the autoencoder of the autoencoder-split baseline (reference
// section 4) after stage2 of the unmodified net: stages "ae_encoder" (on
// the device, its output transmitted) and "ae_decoder" (reproduces the
// stage2 output). Throws std::invalid_argument on a bad combination.
void inject_autoencoder(Net &net, int native_px, int channels);

// Attach an early-exit classifier after each stage in after (strictly
// increasing, each before the classifier stage) of the unmodified net, for
// the SPINN-style baseline: modules "exits.<i>", each a 3x3 stride-2
// convolution to clamp(2 * c_in, 32, 128) channels, BatchNorm, ReLU, global
// average pooling and a linear layer to num_classes. The exit design is an
// assumption (the reference does not specify SPINN's). Throws
// std::invalid_argument on a bad combination.
void attach_exits(Net &net, int native_px, const std::vector<int> &after);

const ArchSpec *find_arch(const std::string &name);

} // namespace bfzoo

#endif // BF_ZOO_HPP
