// bf_train: the training half of shim/bf_torch.h: freezing, per-stage
// modes, multi-output forwards, optimizers, losses and the bottleneck
// quantizer. Training schedules live in C (bench/bf_train.c); this file
// only offers the model-level operations they need.
#include "bf_shim.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstring>

using bfshim::guarded;
using bfshim::live_handles;
using bfshim::new_tensor;
using bfshim::refold;

namespace
{

int check_range(const bf_model *m, int first, int last, const char *fn)
{
    int n = static_cast<int>(m->net->stages.size());
    if (first < 0 || last >= n || first > last)
        return bf_err_set(BF_ERANGE,
                          "%s: stage range %d..%d invalid for %s "
                          "(0..%d)",
                          fn, first, last, m->spec.name, n - 1);
    return 0;
}

bool owned_by(const std::string &name, const std::vector<std::string> &pre)
{
    for (const std::string &p : pre)
        if (name.size() > p.size() && name.compare(0, p.size(), p) == 0 &&
            name[p.size()] == '.')
            return true;
    return false;
}

// The modules registered under the prefixes of stages first..last.
std::vector<std::shared_ptr<torch::nn::Module>>
stage_modules(bfzoo::Net &net, int first, int last)
{
    std::vector<std::shared_ptr<torch::nn::Module>> mods;
    for (auto &item : net.named_modules("", false))
        for (int s = first; s <= last; s++)
            for (const std::string &p :
                 net.stage_prefixes[static_cast<size_t>(s)])
                if (item.key() == p)
                    mods.push_back(item.value());
    return mods;
}

// Quantization parameters of one sample (reference section 2.3).
void qparams(float lo, float hi, float *scale, int *zp)
{
    if (!(hi > lo)) {
        // A constant tensor, where the formula divides by zero: put the
        // constant at one end of the grid so that it is represented
        // exactly; an all-zero tensor gets scale 1.
        if (lo == 0.0f || !std::isfinite(lo)) {
            *scale = 1.0f;
            *zp = 0;
        } else {
            *scale = std::fabs(lo) / 255.0f;
            *zp = lo < 0.0f ? 255 : 0;
        }
        return;
    }
    float s = (hi - lo) / 255.0f;
    int z = static_cast<int>(-lo / s);
    *scale = s;
    *zp = std::min(std::max(z, 0), 255);
}

// Per-sample 8-bit quantization of flat (samples x elements, float) on its
// own device: the codes (as float, 0..255) and each row's scale and zero
// point, computed with the host loops' formula in the same float
// operations. The divisor is a tensor on flat's device, never a host
// scalar: CUDA divides by a host scalar by multiplying with its
// reciprocal, which can move a value off a rounding tie, so the bytes
// would differ from the host's (a test holds them equal on ties).
struct RowCodes {
    torch::Tensor q;     // float codes, flat's shape and device
    torch::Tensor scale; // samples x 1, flat's device
    torch::Tensor zero;  // samples x 1, float, flat's device
    std::vector<float> scales;
    std::vector<int> zeros;
};

RowCodes quantize_rows(const torch::Tensor &flat)
{
    RowCodes r;
    auto range = torch::aminmax(flat, 1);
    torch::Tensor lo = bfshim::host(std::get<0>(range)).contiguous();
    torch::Tensor hi = bfshim::host(std::get<1>(range)).contiguous();
    int64_t rows = flat.size(0);
    std::vector<float> zf(static_cast<size_t>(rows));
    r.scales.resize(static_cast<size_t>(rows));
    r.zeros.resize(static_cast<size_t>(rows));
    for (size_t i = 0; i < r.scales.size(); i++) {
        qparams(lo.data_ptr<float>()[i], hi.data_ptr<float>()[i], &r.scales[i],
                &r.zeros[i]);
        zf[i] = static_cast<float>(r.zeros[i]);
    }
    auto opts = torch::TensorOptions().dtype(torch::kFloat);
    r.scale = torch::tensor(r.scales, opts).reshape({rows, 1});
    r.zero = torch::tensor(zf, opts).reshape({rows, 1});
    r.scale = r.scale.to(flat.device());
    r.zero = r.zero.to(flat.device());
    r.q = torch::round(torch::clamp(r.zero + flat / r.scale, 0, 255));
    return r;
}

// The float codes q (n of them, on any device) as bytes into out.
void copy_codes(const torch::Tensor &q, uint8_t *out, size_t n)
{
    torch::Tensor b = bfshim::host(q.to(torch::kUInt8)).contiguous();
    std::memcpy(out, b.data_ptr<uint8_t>(), n);
}

} // namespace

extern "C" int bf_model_freeze_stages(bf_model *model, int first, int last,
                                      int frozen)
{
    return guarded("bf_model_freeze_stages", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_freeze_stages: NULL");
        int rc = check_range(model, first, last, "bf_model_freeze_stages");
        if (rc)
            return rc;
        auto &net = *model->net;
        for (auto &p : net.named_parameters(true))
            for (int s = first; s <= last; s++)
                if (owned_by(p.key(),
                             net.stage_prefixes[static_cast<size_t>(s)]))
                    p.value().set_requires_grad(!frozen);
        return 0;
    });
}

extern "C" int bf_model_set_train_stages(bf_model *model, int first, int last,
                                         int train)
{
    return guarded("bf_model_set_train_stages", [&] {
        if (!model)
            return bf_err_set(BF_EINVAL, "bf_model_set_train_stages: NULL");
        int rc = check_range(model, first, last, "bf_model_set_train_stages");
        if (rc)
            return rc;
        for (auto &m : stage_modules(*model->net, first, last))
            m->train(train != 0);
        return 0;
    });
}

extern "C" int bf_model_stage_fingerprint(const bf_model *model, int stage,
                                          int with_buffers,
                                          uint64_t *fingerprint)
{
    return guarded("bf_model_stage_fingerprint", [&] {
        if (!model || !fingerprint)
            return bf_err_set(BF_EINVAL, "bf_model_stage_fingerprint: NULL");
        int rc = check_range(model, stage, stage, "bf_model_stage_fingerprint");
        if (rc)
            return rc;
        auto &net = *model->net;
        const auto &prefixes = net.stage_prefixes[static_cast<size_t>(stage)];
        uint64_t h = 1469598103934665603ULL;
        auto mix = [&](const torch::Tensor &t) {
            torch::Tensor c = bfshim::host(t.detach()).contiguous();
            const auto *b = static_cast<const unsigned char *>(c.data_ptr());
            for (size_t i = 0; i < c.nbytes(); i++)
                h = (h ^ b[i]) * 1099511628211ULL;
        };
        for (const auto &p : net.named_parameters(true))
            if (owned_by(p.key(), prefixes))
                mix(p.value());
        if (with_buffers)
            for (const auto &b : net.named_buffers(true))
                if (owned_by(b.key(), prefixes))
                    mix(b.value());
        *fingerprint = h;
        return 0;
    });
}

extern "C" int bf_model_trainable_count(const bf_model *model, int64_t *count)
{
    return guarded("bf_model_trainable_count", [&] {
        if (!model || !count)
            return bf_err_set(BF_EINVAL, "bf_model_trainable_count: NULL");
        int64_t n = 0;
        for (const auto &p : model->net->parameters(true))
            if (p.requires_grad())
                n += p.numel();
        *count = n;
        return 0;
    });
}

extern "C" int bf_model_forward_all(bf_model *model, const bf_tensor *input,
                                    int first, int last, bf_tensor **outs)
{
    return guarded("bf_model_forward_all", [&] {
        if (!model || !input || !outs)
            return bf_err_set(BF_EINVAL, "bf_model_forward_all: NULL");
        int rc = check_range(model, first, last, "bf_model_forward_all");
        if (rc)
            return rc;
        auto &net = *model->net;
        std::vector<torch::Tensor> ys;
        {
            // Gradients only in train mode; never inference mode, so that
            // eval outputs (a teacher's) can meet a student's in a loss.
            torch::AutoGradMode mode(net.is_training());
            ys = net.forward_each(bfshim::to_device(input->t, model->device),
                                  first, last);
        }
        for (size_t i = 0; i < ys.size(); i++)
            new_tensor(std::move(ys[i]), &outs[i]);
        return 0;
    });
}

extern "C" int bf_model_forward_exits(bf_model *model, const bf_tensor *input,
                                      int last,
                                      bf_tensor *logits[BF_MODEL_MAX_EXITS],
                                      bf_tensor **out)
{
    return guarded("bf_model_forward_exits", [&] {
        if (!model || !input || !logits)
            return bf_err_set(BF_EINVAL, "bf_model_forward_exits: NULL");
        int rc = check_range(model, 0, last, "bf_model_forward_exits");
        if (rc)
            return rc;
        auto &net = *model->net;
        if (net.exits.empty())
            return bf_err_set(BF_EINVAL, "%s has no exits", model->spec.name);
        std::vector<torch::Tensor> ys(net.exits.size());
        torch::Tensor y = bfshim::to_device(input->t, model->device);
        {
            torch::AutoGradMode mode(net.is_training());
            size_t e = 0;
            for (int s = 0; s <= last; s++) {
                y = net.forward_range(y, s, s);
                for (; e < net.exits.size() && net.exit_after[e] == s; e++)
                    ys[e] = net.forward_exit(e, y);
            }
        }
        for (size_t i = 0; i < BF_MODEL_MAX_EXITS; i++)
            logits[i] = nullptr;
        for (size_t i = 0; i < ys.size(); i++)
            if (ys[i].defined())
                new_tensor(std::move(ys[i]), &logits[i]);
        if (out)
            new_tensor(std::move(y), out);
        return 0;
    });
}

// Optimizers

extern "C" int bf_optim_create(bf_model *model,
                               const struct bf_optim_params *params,
                               bf_optim **out)
{
    return guarded("bf_optim_create", [&] {
        if (!model || !params || !params->kind || !out)
            return bf_err_set(BF_EINVAL, "bf_optim_create: NULL argument");
        std::vector<torch::Tensor> trainable;
        for (const auto &p : model->net->parameters(true))
            if (p.requires_grad())
                trainable.push_back(p);
        if (trainable.empty())
            return bf_err_set(BF_EINVAL, "%s: no trainable parameters",
                              model->spec.name);
        if (!(params->lr > 0.0) || params->weight_decay < 0.0 ||
            params->momentum < 0.0)
            return bf_err_set(BF_ERANGE,
                              "optimizer: lr %g, momentum %g, "
                              "weight decay %g",
                              params->lr, params->momentum,
                              params->weight_decay);
        auto o = std::make_unique<bf_optim>();
        o->kind = params->kind;
        if (o->kind == "sgd") {
            o->opt = std::make_unique<torch::optim::SGD>(
                trainable, torch::optim::SGDOptions(params->lr)
                               .momentum(params->momentum)
                               .weight_decay(params->weight_decay));
        } else if (o->kind == "adam") {
            o->opt = std::make_unique<torch::optim::Adam>(
                trainable, torch::optim::AdamOptions(params->lr)
                               .weight_decay(params->weight_decay));
        } else {
            return bf_err_set(BF_EINVAL,
                              "unknown optimizer '%s' (known: "
                              "sgd, adam)",
                              params->kind);
        }
        live_handles++;
        *out = o.release();
        return 0;
    });
}

extern "C" void bf_optim_free(bf_optim *optim)
{
    if (!optim)
        return;
    delete optim;
    live_handles--;
}

extern "C" int bf_optim_set_lr(bf_optim *optim, double lr)
{
    return guarded("bf_optim_set_lr", [&] {
        if (!optim || !(lr > 0.0))
            return bf_err_set(BF_EINVAL, "bf_optim_set_lr: bad argument");
        for (auto &group : optim->opt->param_groups()) {
            if (optim->kind == "sgd")
                static_cast<torch::optim::SGDOptions &>(group.options()).lr(lr);
            else
                static_cast<torch::optim::AdamOptions &>(group.options())
                    .lr(lr);
        }
        return 0;
    });
}

extern "C" int bf_optim_zero_grad(bf_optim *optim)
{
    return guarded("bf_optim_zero_grad", [&] {
        if (!optim)
            return bf_err_set(BF_EINVAL, "bf_optim_zero_grad: NULL");
        optim->opt->zero_grad();
        return 0;
    });
}

extern "C" int bf_optim_step(bf_optim *optim)
{
    return guarded("bf_optim_step", [&] {
        if (!optim)
            return bf_err_set(BF_EINVAL, "bf_optim_step: NULL");
        optim->opt->step();
        return 0;
    });
}

// Losses

extern "C" int bf_loss_mse_sum(const bf_tensor *a, const bf_tensor *b,
                               bf_tensor **out)
{
    return guarded("bf_loss_mse_sum", [&] {
        if (!a || !b || !out)
            return bf_err_set(BF_EINVAL, "bf_loss_mse_sum: NULL argument");
        if (a->t.sizes() != b->t.sizes())
            return bf_err_set(BF_ESHAPE, "mse: shapes %s and %s",
                              c10::str(a->t.sizes()).c_str(),
                              c10::str(b->t.sizes()).c_str());
        return new_tensor(torch::mse_loss(a->t, b->t, at::Reduction::Sum), out);
    });
}

static int check_logits(const bf_tensor *logits, const bf_tensor *labels,
                        const char *fn)
{
    if (logits->t.dim() != 2 || labels->t.dim() != 1 ||
        logits->t.size(0) != labels->t.size(0) ||
        labels->t.scalar_type() != torch::kLong)
        return bf_err_set(BF_ESHAPE, "%s: logits %s and labels %s (%s)", fn,
                          c10::str(logits->t.sizes()).c_str(),
                          c10::str(labels->t.sizes()).c_str(),
                          c10::toString(labels->t.scalar_type()));
    return 0;
}

extern "C" int bf_loss_cross_entropy(const bf_tensor *logits,
                                     const bf_tensor *labels, bf_tensor **out)
{
    return guarded("bf_loss_cross_entropy", [&] {
        if (!logits || !labels || !out)
            return bf_err_set(BF_EINVAL, "bf_loss_cross_entropy: NULL");
        int rc = check_logits(logits, labels, "cross-entropy");
        if (rc)
            return rc;
        return new_tensor(
            torch::cross_entropy_loss(
                logits->t, bfshim::on_device_of(labels->t, logits->t)),
            out);
    });
}

extern "C" int bf_loss_kd(const bf_tensor *student, const bf_tensor *teacher,
                          const bf_tensor *labels, double temperature,
                          double alpha, bf_tensor **out)
{
    return guarded("bf_loss_kd", [&] {
        if (!student || !teacher || !labels || !out)
            return bf_err_set(BF_EINVAL, "bf_loss_kd: NULL argument");
        int rc = check_logits(student, labels, "kd");
        if (rc)
            return rc;
        if (student->t.sizes() != teacher->t.sizes())
            return bf_err_set(BF_ESHAPE, "kd: student %s, teacher %s",
                              c10::str(student->t.sizes()).c_str(),
                              c10::str(teacher->t.sizes()).c_str());
        if (!(temperature > 0.0) || alpha < 0.0 || alpha > 1.0)
            return bf_err_set(BF_ERANGE, "kd: temperature %g, alpha %g",
                              temperature, alpha);
        torch::Tensor ce = torch::cross_entropy_loss(
            student->t, bfshim::on_device_of(labels->t, student->t));
        torch::Tensor kl =
            torch::kl_div(torch::log_softmax(student->t / temperature, 1),
                          torch::softmax(teacher->t.detach() / temperature, 1),
                          at::Reduction::Sum) /
            student->t.size(0);
        torch::Tensor loss =
            alpha * ce + (1.0 - alpha) * temperature * temperature * kl;
        return new_tensor(std::move(loss), out);
    });
}

extern "C" int bf_tensor_add(const bf_tensor *a, const bf_tensor *b,
                             bf_tensor **out)
{
    return guarded("bf_tensor_add", [&] {
        if (!a || !b || !out)
            return bf_err_set(BF_EINVAL, "bf_tensor_add: NULL argument");
        return new_tensor(a->t + b->t, out);
    });
}

extern "C" int bf_tensor_backward(const bf_tensor *loss)
{
    return guarded("bf_tensor_backward", [&] {
        if (!loss)
            return bf_err_set(BF_EINVAL, "bf_tensor_backward: NULL");
        if (loss->t.numel() != 1 || !loss->t.requires_grad())
            return bf_err_set(BF_EINVAL, "backward needs a scalar with "
                                         "autograd history");
        loss->t.backward();
        return 0;
    });
}

extern "C" int bf_tensor_item(const bf_tensor *tensor, double *value)
{
    return guarded("bf_tensor_item", [&] {
        if (!tensor || !value)
            return bf_err_set(BF_EINVAL, "bf_tensor_item: NULL argument");
        if (tensor->t.numel() != 1)
            return bf_err_set(BF_ESHAPE, "item of a tensor of %ld elements",
                              static_cast<long>(tensor->t.numel()));
        *value = tensor->t.item<double>();
        return 0;
    });
}

extern "C" int bf_tensor_topk_correct(const bf_tensor *logits,
                                      const bf_tensor *labels, int k,
                                      int64_t *correct)
{
    return guarded("bf_tensor_topk_correct", [&] {
        if (!logits || !labels || !correct)
            return bf_err_set(BF_EINVAL, "bf_tensor_topk_correct: NULL");
        int rc = check_logits(logits, labels, "top-k");
        if (rc)
            return rc;
        if (k < 1 || k > logits->t.size(1))
            return bf_err_set(BF_ERANGE, "top-%d of %ld classes", k,
                              static_cast<long>(logits->t.size(1)));
        torch::NoGradGuard no_grad;
        torch::Tensor idx = std::get<1>(logits->t.topk(k, 1));
        torch::Tensor hit =
            idx.eq(bfshim::on_device_of(labels->t, idx).unsqueeze(1)).any(1);
        *correct = hit.sum().item<int64_t>();
        return 0;
    });
}

extern "C" int bf_tensor_classify(const bf_tensor *logits,
                                  const bf_tensor *labels, int k,
                                  float *confidence, uint8_t *top1,
                                  uint8_t *topk, size_t n)
{
    return guarded("bf_tensor_classify", [&] {
        if (!logits || !labels || !confidence || !top1 || !topk)
            return bf_err_set(BF_EINVAL, "bf_tensor_classify: NULL");
        int rc = check_logits(logits, labels, "classify");
        if (rc)
            return rc;
        if (k < 1 || k > logits->t.size(1))
            return bf_err_set(BF_ERANGE, "top-%d of %ld classes", k,
                              static_cast<long>(logits->t.size(1)));
        if (static_cast<size_t>(logits->t.size(0)) != n)
            return bf_err_set(BF_ESHAPE, "classify: %ld samples, room for %zu",
                              static_cast<long>(logits->t.size(0)), n);
        torch::NoGradGuard no_grad;
        torch::Tensor l = bfshim::host(logits->t.detach()).to(torch::kFloat);
        torch::Tensor conf =
            std::get<0>(torch::softmax(l, 1).max(1)).contiguous();
        torch::Tensor idx = std::get<1>(l.topk(k, 1));
        torch::Tensor hits = idx.eq(bfshim::host(labels->t).unsqueeze(1));
        torch::Tensor h1 = hits.select(1, 0).to(torch::kUInt8).contiguous();
        torch::Tensor hk = hits.any(1).to(torch::kUInt8).contiguous();
        std::memcpy(confidence, conf.data_ptr<float>(), n * sizeof(float));
        std::memcpy(top1, h1.data_ptr<uint8_t>(), n);
        std::memcpy(topk, hk.data_ptr<uint8_t>(), n);
        return 0;
    });
}

extern "C" int bf_tensor_predict(const bf_tensor *logits,
                                 const bf_tensor *labels, int k, uint16_t *cls,
                                 uint8_t *top1, uint8_t *topk, size_t n)
{
    return guarded("bf_tensor_predict", [&] {
        if (!logits || !labels || !cls || !top1 || !topk)
            return bf_err_set(BF_EINVAL, "bf_tensor_predict: NULL");
        int rc = check_logits(logits, labels, "predict");
        if (rc)
            return rc;
        if (k < 1 || k > logits->t.size(1))
            return bf_err_set(BF_ERANGE, "top-%d of %ld classes", k,
                              static_cast<long>(logits->t.size(1)));
        if (logits->t.size(1) > 65536)
            return bf_err_set(BF_ERANGE, "predict: %ld classes, at most 65536",
                              static_cast<long>(logits->t.size(1)));
        if (static_cast<size_t>(logits->t.size(0)) != n)
            return bf_err_set(BF_ESHAPE, "predict: %ld samples, room for %zu",
                              static_cast<long>(logits->t.size(0)), n);
        torch::NoGradGuard no_grad;
        // The predicted class is topk's first index, so the class and the
        // top-1 hit agree by construction.
        torch::Tensor idx =
            std::get<1>(bfshim::host(logits->t.detach()).topk(k, 1));
        torch::Tensor hits = idx.eq(bfshim::host(labels->t).unsqueeze(1));
        torch::Tensor best = idx.select(1, 0).to(torch::kInt32).contiguous();
        torch::Tensor h1 = hits.select(1, 0).to(torch::kUInt8).contiguous();
        torch::Tensor hk = hits.any(1).to(torch::kUInt8).contiguous();
        const int32_t *b = best.data_ptr<int32_t>();
        for (size_t i = 0; i < n; i++)
            cls[i] = static_cast<uint16_t>(b[i]);
        std::memcpy(top1, h1.data_ptr<uint8_t>(), n);
        std::memcpy(topk, hk.data_ptr<uint8_t>(), n);
        return 0;
    });
}

extern "C" int bf_tensor_topk(const bf_tensor *logits, int k, uint32_t *cls,
                              float *score)
{
    return guarded("bf_tensor_topk", [&] {
        if (!logits || !cls || !score)
            return bf_err_set(BF_EINVAL, "bf_tensor_topk: NULL");
        if (logits->t.dim() < 1 || logits->t.size(0) < 1)
            return bf_err_set(BF_ESHAPE, "top-k of an empty tensor");
        torch::NoGradGuard no_grad;
        torch::Tensor l =
            bfshim::host(logits->t.detach()[0]).reshape({-1}).to(torch::kFloat);
        if (k < 1 || k > l.size(0))
            return bf_err_set(BF_ERANGE, "top-%d of %ld classes", k,
                              static_cast<long>(l.size(0)));
        auto best = torch::softmax(l, 0).topk(k);
        torch::Tensor p = std::get<0>(best).contiguous();
        torch::Tensor idx = std::get<1>(best).contiguous();
        for (int i = 0; i < k; i++) {
            score[i] = p.data_ptr<float>()[i];
            cls[i] = static_cast<uint32_t>(idx.data_ptr<int64_t>()[i]);
        }
        return 0;
    });
}

// Quantization

extern "C" int bf_tensor_quantize_u8(const bf_tensor *x, uint8_t *q, size_t n,
                                     float *scale, int *zero_point)
{
    return guarded("bf_tensor_quantize_u8", [&] {
        if (!x || !q || !scale || !zero_point)
            return bf_err_set(BF_EINVAL, "bf_tensor_quantize_u8: NULL");
        torch::NoGradGuard no_grad;
        if (static_cast<size_t>(x->t.numel()) != n || n == 0)
            return bf_err_set(BF_ESHAPE,
                              "quantize: tensor has %ld elements, "
                              "buffer %zu",
                              static_cast<long>(x->t.numel()), n);
        if (!x->t.device().is_cpu()) {
            // On its device: a quarter of the float bytes cross to the
            // host, and the codes equal the loops' below.
            RowCodes r =
                quantize_rows(x->t.detach().to(torch::kFloat).reshape({1, -1}));
            copy_codes(r.q, q, n);
            *scale = r.scales[0];
            *zero_point = r.zeros[0];
            return 0;
        }
        torch::Tensor t = x->t.detach().to(torch::kFloat).contiguous();
        // One sample is small: plain loops beat dispatching torch ops
        // (about 10x at 10,000 elements). Same formula as quantize_rows(), in
        // float, rounding half to even as torch::round does; a test holds
        // the two equal.
        const float *v = t.data_ptr<float>();
        float lo = v[0], hi = v[0];
        for (size_t i = 1; i < n; i++) {
            lo = std::min(lo, v[i]);
            hi = std::max(hi, v[i]);
        }
        float s;
        int z;
        qparams(lo, hi, &s, &z);
        // Adding and removing 2^23 rounds a float in 0..255 to the
        // nearest integer, ties to even (IEEE default rounding), without a
        // libm call per element.
        const float magic = 8388608.0f;
        for (size_t i = 0; i < n; i++) {
            float y = static_cast<float>(z) + v[i] / s;
            y = std::min(std::max(y, 0.0f), 255.0f);
            q[i] = static_cast<uint8_t>((y + magic) - magic);
        }
        *scale = s;
        *zero_point = z;
        return 0;
    });
}

extern "C" int bf_tensor_dequantize_u8(const uint8_t *q, const int64_t *shape,
                                       int ndim, float scale, int zero_point,
                                       bf_tensor **out)
{
    return guarded("bf_tensor_dequantize_u8", [&] {
        if (!q || !shape || !out || ndim < 1 || ndim > BF_TENSOR_MAX_DIMS)
            return bf_err_set(BF_EINVAL, "bf_tensor_dequantize_u8: bad "
                                         "argument");
        if (!(scale > 0.0f) || !std::isfinite(scale) || zero_point < 0 ||
            zero_point > 255)
            return bf_err_set(BF_ERANGE,
                              "dequantize: scale %g, zero point "
                              "%d",
                              static_cast<double>(scale), zero_point);
        std::vector<int64_t> dims(shape, shape + ndim);
        for (int64_t d : dims)
            if (d < 0)
                return bf_err_set(BF_EINVAL, "dequantize: negative dimension");
        torch::Tensor x = torch::empty(dims, torch::kFloat);
        float *v = x.data_ptr<float>();
        const float zp = static_cast<float>(zero_point);
        for (int64_t i = 0, n = x.numel(); i < n; i++)
            v[i] = scale * (static_cast<float>(q[i]) - zp);
        return new_tensor(std::move(x), out);
    });
}

extern "C" int bf_tensor_quantize_u8_rows(const bf_tensor *x, uint8_t *q,
                                          size_t n, float *scales,
                                          int *zero_points, size_t rows)
{
    return guarded("bf_tensor_quantize_u8_rows", [&] {
        if (!x || !q || !scales || !zero_points)
            return bf_err_set(BF_EINVAL, "bf_tensor_quantize_u8_rows: NULL");
        if (x->t.dim() < 1 || x->t.size(0) == 0 ||
            static_cast<size_t>(x->t.size(0)) != rows ||
            static_cast<size_t>(x->t.numel()) != n)
            return bf_err_set(BF_ESHAPE,
                              "quantize rows: tensor %s, room for %zu "
                              "samples of %zu elements in all",
                              c10::str(x->t.sizes()).c_str(), rows, n);
        torch::NoGradGuard no_grad;
        RowCodes r = quantize_rows(
            x->t.detach().to(torch::kFloat).reshape({x->t.size(0), -1}));
        copy_codes(r.q, q, n);
        std::memcpy(scales, r.scales.data(), rows * sizeof(float));
        std::memcpy(zero_points, r.zeros.data(), rows * sizeof(int));
        return 0;
    });
}

extern "C" int bf_tensor_fake_quantize_u8(const bf_tensor *x, bf_tensor **out)
{
    return guarded("bf_tensor_fake_quantize_u8", [&] {
        if (!x || !out)
            return bf_err_set(BF_EINVAL, "bf_tensor_fake_quantize_u8: NULL");
        torch::NoGradGuard no_grad;
        torch::Tensor t = x->t.detach().to(torch::kFloat);
        if (t.dim() < 1 || t.size(0) == 0)
            return bf_err_set(BF_ESHAPE, "fake quantize: empty tensor");
        RowCodes r = quantize_rows(t.reshape({t.size(0), -1}));
        return new_tensor((r.scale * (r.q - r.zero)).reshape(t.sizes()), out);
    });
}
