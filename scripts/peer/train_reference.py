#!/usr/bin/python3
"""The BottleFit training recipe in PyTorch eager: a peer of bfbench's
training, written from the published code, for the fidelity benchmark
(scripts/peer/fidelity.py).

Trains, on the same Fashion-MNIST items as a bfbench train scenario, the
teacher and the students of one model (resnet_mini or densenet_mini, the
definitions of scripts/peer/compare_training.py) with the strategies of the
reference, and prints one JSON line per trained model: test top-1 (fp32,
and with the split tensor 8-bit quantized), parameter counts, the epoch the
validation split chose, wall time.

The recipe, as the published code defines it (repositories and paths; the
authority where anything below disagrees with bfbench):

  bottlefit-split_computing (BF), torchdistill v0.3.2 (TD),
  head-network-distillation (HND):

  ghnd-*, stage 1   BF config/ghnd_*/custom_*-3ch.yaml `train.stage1`:
    10 epochs, batch 64, Adam lr 1e-3, MultiStepLR milestones [5] gamma
    0.1. Student run as the sequence (bottleneck, layer3, layer4)
    [DenseNet: bottleneck, denseblock3, transition3, denseblock4], with
    layer3/layer4 frozen (requires_grad False, TD models/util.py
    redesign_model). Loss (TD losses/custom.py GeneralizedCustomLoss, org
    factor 0): MSE-sum(bottleneck, teacher layer2) + MSE-sum(layer3,
    teacher layer3) + MSE-sum(layer4, teacher layer4), factor 1 each.
    TD core/distillation.py pre_process: teacher.eval(), the redesigned
    student .train(): the frozen layer3/layer4 run in train mode, so their
    BatchNorm statistics move; the classifier is not run.
  ghnd-*, stage 2   `train.stage2`: 10 epochs, SGD lr 1e-3 momentum 0.9
    weight decay 5e-4, milestones [5]; a new optimizer and scheduler (TD
    distillation.py advance_to_next_stage -> setup). The whole student in
    train mode; frozen_modules ['bottleneck.encoder'] in the *-finetune
    configs (FE), [] otherwise. Loss: CrossEntropyLoss (ghnd_vanilla*,
    "ghnd-ft") or KDLoss T 1, alpha 0.5, batchmean (ghnd_kd*, "ghnd-kd";
    TD losses/single.py KDLoss: alpha CE + (1 - alpha) T^2 KL). bfbench's
    "bottlefit" is ghnd-kd with FE.
  selection   BF image_classification.py: after every epoch of both
    stages, top-1 of the whole student (eval mode) on the validation
    loader; kept when strictly above the best so far (initially 0.0);
    the kept weights are loaded for the test.
  naive, kd   HND config/official/imagenet/{naive,kd}/*-ver2b-*ch.yaml:
    the whole student (the same bottleneck head + the teacher's tail)
    trained in train mode, 20 epochs, batch 32, SGD lr 1e-3 momentum 0.9
    weight decay 1e-4, MultiStepLR [5, 10, 15]; CE, or KD T 1 alpha 0.5
    (HND src/model_runner.py, src/model_distiller.py).
  hnd   HND config/.../hnd/*.yaml, src/mimic_runner.py: only the head
    (encoder + decoder) runs and trains (train mode), MSE-sum against the
    teacher's layer2 (eval), Adam 1e-3, 20 epochs, batch 32, [5, 10, 15];
    validated with the teacher's untouched tail.
  ae-split   HND config/.../ae/middle_ae4*.yaml, src/autoencoder_runner.py:
    the teacher's head up to layer2 in eval mode (frozen, its BatchNorm
    statistics fixed), only the autoencoder runs in train mode,
    MSE-sum(reconstruction, head output), Adam 1e-3, 20 epochs, batch 32,
    [5, 10, 15]; the tail is not run in training. Autoencoder
    (src/models/autoencoder/middle_ae.py): four 2x2 convolutions with
    bias and BN (ReLU but after the last), the mirror with transposed
    convolutions; base.py initialize_weights: Conv2d Kaiming-normal
    fan-out, bias 0, BN 1/0; transposed convolutions keep PyTorch's
    default.

What the reference does not define, taken from bfbench so that both sides
train the same thing: the data (Fashion-MNIST, normalised with mean 0.2860
and std 0.3530), the held-out validation split (the reference validates on
its test set; bfbench holds out val_fraction of the training split: the
same items here, drawn with bfbench's own generator), the augmentation
(random horizontal flip and a shift of up to 2 pixels, black fill; the
reference's RandomResizedCrop is for 224 px), the small models and their
28x28 bottleneck, and the teacher's training (bfbench's: SGD lr 0.1,
momentum 0.9, weight decay 5e-4, batch 128, lr / 10 every (epochs + 2) / 3
epochs, best validation epoch kept; the reference starts from torchvision's
ImageNet weights instead).

Epoch overrides: the lr milestones scale with the epochs, at
floor(epochs * k / parts) for k = 1 .. parts - 1 (parts 2 for a stage, 4
for a baseline): [5] at 10 epochs, [5, 10, 15] at 20, as the configs.

Data items: the training/validation split, the training subset and the
test subset are those of a bfbench scenario with `seed: SPLIT_SEED`,
`val_fraction`, `train_subset` and `test_subset` (bench/bf_dataset.c
bf_dataset_split and bf_dataset_shuffle, reimplemented with the same
xoshiro256** generator, bench/bf_rng.c; bench/bf_runner.c train_run_open).
--dump-items prints them so that the two can be compared.

Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3).

  /usr/bin/python3 scripts/peer/train_reference.py --model resnet_mini \\
      --strategies teacher,naive,ghnd-ft,bottlefit,ae-split --channels 3 \\
      --seed 1 --train-subset 500 --teacher-epochs 1 --epochs-stage1 1 \\
      --epochs-stage2 1 --epochs-baseline 1 --threads 1
"""
import argparse
import copy
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_training import (TEACHER_PARAMS, Staged,  # noqa: E402
                              bottleneck_student, densenet_mini,
                              param_count, resnet_mini)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

STRATEGIES = ["teacher", "naive", "kd", "hnd", "ghnd", "ghnd-ft", "ghnd-kd",
              "bottlefit", "ae-split"]
MODELS = {"resnet_mini": resnet_mini, "densenet_mini": densenet_mini}
FMNIST_MEAN = np.float32(0.2860)  # bench/bf_dataset.h BF_DATASET_FMNIST_*
FMNIST_STD = np.float32(0.3530)
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
ENCODER, DECODER = 0, 1  # student stages after bottleneck injection
SPLIT_STAGE = 2  # the teacher stage the bottleneck replaces up to
EVAL_BATCH = 256

# bfbench's random streams (bench/bf_dataset.c).
STREAM_SPLIT = 0x73706C6974
STREAM_SHUFFLE = 0x7368756600000000
M64 = (1 << 64) - 1


def log(msg):
    print(f"train_reference: {msg}", file=sys.stderr, flush=True)


# bfbench's generator: xoshiro256** seeded by splitmix64 (bench/bf_rng.c).

class BfRng:
    def __init__(self, seed, stream):
        x = (seed ^ (stream * 0xD1B54A32D192ED03)) & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def below(self, bound):
        """Uniform in [0, bound), by rejection as bf_rng_below."""
        limit = (1 << 64) % bound
        while True:
            r = self.next()
            if r >= limit:
                return r % bound


def bf_split(n, val_fraction, seed):
    """bf_dataset_split: (training indexes, validation indexes), each in
    ascending order."""
    nv = min(n, int(math.floor(n * val_fraction + 0.5)))
    perm = list(range(n))
    in_val = bytearray(n)
    rng = BfRng(seed, STREAM_SPLIT)
    for i in range(nv):
        j = i + rng.below(n - i)
        perm[i], perm[j] = perm[j], perm[i]
        in_val[perm[i]] = 1
    train = [i for i in range(n) if not in_val[i]]
    val = [i for i in range(n) if in_val[i]]
    return train, val


def bf_shuffle(idx, seed, epoch):
    """bf_dataset_shuffle, in place."""
    n = len(idx)
    if n < 2:
        return
    rng = BfRng(seed, (STREAM_SHUFFLE + epoch) & M64)
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        idx[i], idx[j] = idx[j], idx[i]


def scenario_items(n_train_all, n_test_all, split_seed, val_fraction,
                   train_subset, test_subset):
    """The training, validation and test items of a bfbench train run
    (bench/bf_runner.c train_run_open)."""
    train, val = bf_split(n_train_all, val_fraction, split_seed)
    if 0 < train_subset < len(train):
        n_val = int(math.ceil(train_subset * val_fraction /
                              (1.0 - val_fraction)))
        bf_shuffle(train, split_seed, 0)
        bf_shuffle(val, split_seed, 1)
        train = train[:train_subset]
        if n_val < len(val):
            val = val[:max(n_val, 1)]
    test = list(range(n_test_all))
    if 0 < test_subset < n_test_all:
        bf_shuffle(test, split_seed, 2)
        test = test[:test_subset]
    return train, val, test


# Data

def read_idx(path, magic, ndims):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    got, = struct.unpack(">I", data[:4])
    if got != magic:
        raise SystemExit(f"train_reference: {path}: magic {got:#x}, "
                         f"expected {magic:#x}")
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims)
    if arr.size != int(np.prod(dims)):
        raise SystemExit(f"train_reference: {path}: {arr.size} bytes of "
                         f"data for dimensions {dims}")
    return arr.reshape(dims)


class Data:
    """Fashion-MNIST as uint8, normalised per batch through a table of the
    same float32 arithmetic as bfbench (v / 255 - mean) / std."""

    def __init__(self, root):
        self.train_x = torch.from_numpy(read_idx(
            f"{root}/train-images-idx3-ubyte", 0x803, 3).copy())
        self.train_y = torch.from_numpy(read_idx(
            f"{root}/train-labels-idx1-ubyte", 0x801, 1).astype(np.int64))
        self.test_x = torch.from_numpy(read_idx(
            f"{root}/t10k-images-idx3-ubyte", 0x803, 3).copy())
        self.test_y = torch.from_numpy(read_idx(
            f"{root}/t10k-labels-idx1-ubyte", 0x801, 1).astype(np.int64))
        v = np.arange(256, dtype=np.float32)
        lut = (v / np.float32(255.0) - FMNIST_MEAN) / FMNIST_STD
        self.lut = torch.from_numpy(lut.astype(np.float32))
        self.fill = float(self.lut[0])  # black, normalised

    def batch(self, images, labels, idx):
        x = self.lut[images[idx].long()].unsqueeze(1)
        return x, labels[idx]


def augment(x, gen, fill):
    """Random horizontal flip, then a shift by dy, dx in [-2, 2] with the
    vacated pixels black, per image (bench/bf_train.c augment)."""
    n, _, h, w = x.shape
    flip = torch.randint(0, 2, (n,), generator=gen)
    dy = torch.randint(-2, 3, (n,), generator=gen)
    dx = torch.randint(-2, 3, (n,), generator=gen)
    x = torch.where(flip.view(n, 1, 1, 1).bool(), x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2), value=fill)
    out = torch.empty_like(x)
    for i in range(n):
        y0, x0 = 2 - int(dy[i]), 2 - int(dx[i])
        out[i] = padded[i, :, y0:y0 + h, x0:x0 + w]
    return out


# Models

def autoencoder_student(teacher, channels, init, size=28):
    """The teacher cut after stage2 with HND's MiddleAutoencoder in between
    (stages stem, stage1, stage2, ae_encoder, ae_decoder, stage3, stage4,
    classifier); every teacher stage copied with its weights."""
    with torch.no_grad():
        teacher.eval()
        c_in = teacher.forward_all(torch.zeros(1, 1, size, size),
                                   SPLIT_STAGE)[SPLIT_STAGE].shape[1]
    c = channels
    enc = nn.Sequential(
        nn.Conv2d(c_in, 128, 2), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
        nn.Conv2d(128, 64, 2), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        nn.Conv2d(64, 32, 2), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
        nn.Conv2d(32, c, 2), nn.BatchNorm2d(c))
    dec = nn.Sequential(
        nn.ConvTranspose2d(c, 32, 2), nn.BatchNorm2d(32),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(32, 64, 2), nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(64, 128, 2), nn.BatchNorm2d(128),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(128, c_in, 2))
    if init == "reference":
        # HND src/models/autoencoder/base.py initialize_weights.
        for m in list(enc.modules()) + list(dec.modules()):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                        nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
    stages = [copy.deepcopy(s) for s in teacher.stages]
    names = list(teacher.names)
    return Staged(names[:3] + ["ae_encoder", "ae_decoder"] + names[3:],
                  stages[:3] + [enc, dec] + stages[3:])


def split_stage(strategy):
    if strategy == "teacher":
        return None
    return 3 if strategy == "ae-split" else ENCODER


def bfbench_counts(bfbench, arch, channels):
    """(total, head) parameters of `bfbench models --bottleneck 2`."""
    out = subprocess.run([bfbench, "-q", "models", "--arch", arch,
                          "--bottleneck", "2", "--channels", str(channels)],
                         check=True, capture_output=True, text=True).stdout
    total = head = None
    for line in out.splitlines():
        words = line.split()
        if words[:1] == ["total"]:
            total = int(words[1])
        if line.startswith("head (encoder"):
            head = int(line.split(":")[1].split()[0])
    if total is None or head is None:
        raise SystemExit(f"train_reference: cannot read bfbench models:\n"
                         f"{out}")
    return total, head


# Schedules and phases

def milestones(epochs, parts):
    """The reference's milestones scaled to `epochs`."""
    return sorted({epochs * k // parts for k in range(1, parts)} - {0})


class Phase:
    """One training phase: which stages learn, how far the training forward
    runs, which stages are in train mode, loss, optimizer and schedule."""

    def __init__(self, name, loss, trainable, run_last, train_mode,
                 optimizer, lr, batch, epochs, momentum=0.0,
                 weight_decay=0.0, milestones_=None, step_every=0):
        self.name = name
        self.loss = loss
        self.trainable = list(trainable)
        self.run_last = run_last
        self.train_mode = list(train_mode)
        self.optimizer = optimizer
        self.lr = lr
        self.batch = batch
        self.epochs = epochs
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.milestones = milestones_ or []
        self.step_every = step_every

    def lr_at(self, epoch, gamma):
        """Learning rate of 1-based epoch."""
        if self.step_every:
            return self.lr * gamma ** ((epoch - 1) // self.step_every)
        return self.lr * gamma ** sum(1 for m in self.milestones
                                      if epoch > m)


def phases_of(strategy, n, args):
    """The phases of a strategy on a student of n stages (reference
    recipe), with bn-policy adjustments."""
    last = n - 1
    every = range(n)
    if strategy == "teacher":
        e = args.teacher_epochs
        return [Phase("teacher", "ce", every, last, every, "sgd",
                      args.teacher_lr, args.teacher_batch, e, momentum=0.9,
                      weight_decay=args.teacher_weight_decay,
                      step_every=max((e + 2) // 3, 1))]
    base = dict(lr=1e-3, batch=args.batch_baseline,
                epochs=args.epochs_baseline,
                milestones_=milestones(args.epochs_baseline, 4))
    if strategy in ("naive", "kd"):
        return [Phase(strategy, "ce" if strategy == "naive" else "kd",
                      every, last, every, "sgd", momentum=0.9,
                      weight_decay=1e-4, **base)]
    if strategy == "hnd":
        return [Phase("hnd", "hnd", [ENCODER, DECODER], DECODER,
                      [ENCODER, DECODER], "adam", **base)]
    if strategy == "ae-split":
        return [Phase("autoencoder", "recon", [3, 4], 4, [3, 4], "adam",
                      **base)]
    kd = strategy in ("ghnd-kd", "bottlefit")
    fe = args.freeze_encoder or strategy == "bottlefit"
    stage1 = Phase("stage1", "ghnd", [ENCODER, DECODER], n - 2,
                   range(n - 1), "adam", 1e-3, args.batch_stage1,
                   args.epochs_stage1,
                   milestones_=milestones(args.epochs_stage1, 2))
    if strategy == "ghnd":
        return [stage1]
    stage2 = Phase("stage2", "kd" if kd else "ce",
                   range(1 if fe else 0, n), last, every, "sgd", 1e-3,
                   args.batch_stage2, args.epochs_stage2, momentum=0.9,
                   weight_decay=5e-4,
                   milestones_=milestones(args.epochs_stage2, 2))
    return [stage1, stage2]


def apply_bn_policy(ph, n, policy):
    """Alternatives to the reference: frozen stages in eval mode (bfbench's
    frozen_bn_train false; running the whole student then changes
    nothing), or the whole student run forward in every phase with every
    stage in train mode (bfbench before its fidelity fixes)."""
    if policy == "reference" or ph.name == "teacher":
        return ph
    ph.run_last = n - 1
    ph.train_mode = (list(range(n)) if policy == "all-train"
                     else list(ph.trainable))
    return ph


# Training

def forward_all(model, x, last):
    return model.forward_all(x, last)


def batch_loss(ph, model, teacher, x, y, args):
    outs = forward_all(model, x, ph.run_last)
    if ph.loss == "ce":
        return F.cross_entropy(outs[-1], y)
    if ph.loss == "recon":
        # The autoencoder's output against its input (the frozen head's).
        return F.mse_loss(outs[4], outs[2].detach(), reduction="sum")
    n_t = len(teacher.stages)
    with torch.no_grad():
        t_last = {"kd": n_t - 1, "hnd": SPLIT_STAGE,
                  "ghnd": n_t - 2}[ph.loss]
        t = teacher.forward_all(x, t_last)
    if ph.loss == "kd":
        s, tl, temp = outs[-1], t[-1], args.kd_temperature
        kl = F.kl_div(F.log_softmax(s / temp, 1), F.softmax(tl / temp, 1),
                      reduction="batchmean")
        return (args.kd_alpha * F.cross_entropy(s, y) +
                (1.0 - args.kd_alpha) * temp * temp * kl)
    if ph.loss == "hnd":
        return F.mse_loss(outs[DECODER], t[SPLIT_STAGE], reduction="sum")
    # GHND: decoder vs teacher stage2, then stage i vs teacher stage i + 1
    # up to stage4.
    loss = F.mse_loss(outs[DECODER], t[SPLIT_STAGE], reduction="sum")
    for i in range(DECODER + 1, n_t - 2):
        loss = loss + F.mse_loss(outs[i], t[i + 1], reduction="sum")
    return loss


def fake_quantize_u8(x):
    """Per sample asymmetric uint8 (reference section 2.3; bfbench
    shim/bf_train.cpp qparams, quantize)."""
    rows = []
    for v in x.reshape(x.shape[0], -1):
        lo, hi = float(v.min()), float(v.max())
        if not hi > lo:
            if lo == 0.0 or not math.isfinite(lo):
                s, z = 1.0, 0
            else:
                s, z = abs(lo) / 255.0, 255 if lo < 0 else 0
        else:
            s = float(np.float32(np.float32(hi) - np.float32(lo)) /
                      np.float32(255.0))
            z = min(max(int(-lo / s), 0), 255)
        q = torch.round(torch.clamp(z + v / s, 0, 255))
        rows.append(s * (q - z))
    return torch.stack(rows).reshape(x.shape)


@torch.no_grad()
def evaluate(model, data, images, labels, idx, quantize_after=None):
    model.eval()
    correct = 0
    n_stages = len(model.stages)
    for at in range(0, len(idx), EVAL_BATCH):
        x, y = data.batch(images, labels, idx[at:at + EVAL_BATCH])
        if quantize_after is None:
            logits = model(x)
        else:
            h = model.forward_all(x, quantize_after)[-1]
            h = fake_quantize_u8(h)
            for s in model.stages[quantize_after + 1:n_stages]:
                h = s(h)
            logits = h
        correct += int((logits.argmax(1) == y).sum())
    return 100.0 * correct / max(len(idx), 1)


def train(model, teacher, phases, data, items, args, gen, label):
    """Run the phases; keep and load the best validation epoch. Returns
    the per-epoch records and the chosen (phase, epoch, val top-1)."""
    train_idx = torch.tensor(items["train"], dtype=torch.long)
    val_idx = torch.tensor(items["val"], dtype=torch.long)
    best_val, best_state, chosen = 0.0, None, None
    records = []
    if teacher is not None:
        teacher.eval()
        teacher.requires_grad_(False)
    for ph in phases:
        model.requires_grad_(False)
        for i in ph.trainable:
            model.stages[i].requires_grad_(True)
        params = [p for p in model.parameters() if p.requires_grad]
        if ph.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=ph.lr)
        else:
            opt = torch.optim.SGD(params, lr=ph.lr, momentum=ph.momentum,
                                  weight_decay=ph.weight_decay)
        for epoch in range(1, ph.epochs + 1):
            lr = ph.lr_at(epoch, args.lr_gamma)
            for group in opt.param_groups:
                group["lr"] = lr
            model.eval()
            for i in ph.train_mode:
                model.stages[i].train()
            order = train_idx[torch.randperm(len(train_idx), generator=gen)]
            n_batches = (len(order) + ph.batch - 1) // ph.batch
            t0 = time.perf_counter()
            loss_sum = 0.0
            for k in range(n_batches):
                x, y = data.batch(data.train_x, data.train_y,
                                  order[k * ph.batch:(k + 1) * ph.batch])
                if args.augment:
                    x = augment(x, gen, data.fill)
                loss = batch_loss(ph, model, teacher, x, y, args)
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_sum += float(loss)
            seconds = time.perf_counter() - t0
            val = evaluate(model, data, data.train_x, data.train_y, val_idx)
            best = val > best_val
            if best:
                best_val, chosen = val, (ph.name, epoch)
                best_state = copy.deepcopy(model.state_dict())
            records.append({"phase": ph.name, "epoch": epoch, "lr": lr,
                            "train_loss": loss_sum / max(n_batches, 1),
                            "val_top1": val, "seconds": seconds,
                            "best": best})
            log(f"{label} {ph.name} epoch {epoch}/{ph.epochs}: loss "
                f"{loss_sum / max(n_batches, 1):.4g}, val top-1 {val:.2f} %"
                f"{' (best)' if best else ''}, {seconds:.0f} s")
    # As the reference, a model that never beat 0.0 keeps its last weights.
    if best_state is not None:
        model.load_state_dict(best_state)
    model.requires_grad_(True)
    model.eval()
    return records, chosen, best_val


def run_seed(args):
    return zlib.crc32(f"{args.seed}".encode())


def student_seed(args, strategy, channels):
    return zlib.crc32(f"{args.seed}|{strategy}|{channels}".encode())


def make_student(teacher, strategy, channels, args):
    torch.manual_seed(student_seed(args, strategy, channels))
    if strategy == "ae-split":
        return autoencoder_student(teacher, channels, args.ae_init)
    return bottleneck_student(teacher, channels)


def result_line(args, strategy, channels, model, records, chosen, best_val,
                items, data, seconds):
    split = split_stage(strategy)
    head = (sum(param_count(s) for s in model.stages[:split + 1])
            if split is not None else None)
    top1 = evaluate(model, data, data.test_x, data.test_y,
                    torch.tensor(items["test"], dtype=torch.long))
    top1_q = (evaluate(model, data, data.test_x, data.test_y,
                       torch.tensor(items["test"], dtype=torch.long), split)
              if split is not None else None)
    return {"side": "peer", "model": args.model, "strategy": strategy,
            "channels": channels if strategy != "teacher" else None,
            "seed": args.seed, "split_seed": args.split_seed,
            "freeze_encoder": (1 if strategy == "bottlefit" else
                               int(args.freeze_encoder)
                               if strategy in ("ghnd-ft", "ghnd-kd")
                               else None),
            "bn_policy": args.bn_policy, "n_train": len(items["train"]),
            "n_val": len(items["val"]), "n_test": len(items["test"]),
            "top1_fp32": top1, "top1_int8": top1_q,
            "params": param_count(model), "head_params": head,
            "chosen_phase": chosen[0] if chosen else None,
            "chosen_epoch": chosen[1] if chosen else None,
            "best_val_top1": best_val, "epochs": records,
            "threads": torch.get_num_threads(), "seconds": seconds,
            "torch": torch.__version__}


def emit(line, out):
    text = json.dumps(line, sort_keys=True)
    print(text, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")


def get_teacher(args, data, items, out):
    build = MODELS[args.model]
    torch.manual_seed(run_seed(args))
    teacher = build()
    n = param_count(teacher)
    if n != TEACHER_PARAMS[args.model]:
        raise SystemExit(f"train_reference: {args.model} has {n} "
                         f"parameters here, {TEACHER_PARAMS[args.model]} in "
                         f"bfbench")
    if args.teacher_in and os.path.exists(args.teacher_in):
        ck = torch.load(args.teacher_in)
        teacher.load_state_dict(ck["state_dict"])
        log(f"teacher {args.model} loaded from {args.teacher_in}")
        if "teacher" not in args.strategies:
            return teacher
        # Asked for its line: report the loaded teacher's test accuracy.
        emit(result_line(args, "teacher", None, teacher, ck["epochs"],
                         tuple(ck["chosen"]) if ck["chosen"] else None,
                         ck["best_val_top1"], items, data, ck["seconds"]),
             out)
        return teacher
    gen = torch.Generator().manual_seed(run_seed(args))
    t0 = time.perf_counter()
    records, chosen, best_val = train(
        teacher, None, phases_of("teacher", len(teacher.stages), args), data,
        items, args, gen, f"seed {args.seed} teacher")
    seconds = time.perf_counter() - t0
    if args.teacher_out:
        torch.save({"model": args.model, "seed": args.seed,
                    "state_dict": teacher.state_dict(), "epochs": records,
                    "chosen": chosen, "best_val_top1": best_val,
                    "seconds": seconds}, args.teacher_out)
    emit(result_line(args, "teacher", None, teacher, records, chosen,
                     best_val, items, data, seconds), out)
    return teacher


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet_mini", choices=list(MODELS))
    ap.add_argument("--strategies", default="teacher",
                    help="comma list of " + ", ".join(STRATEGIES) +
                    " (default teacher); every student needs a teacher: "
                    "--teacher-in, or one trained first")
    ap.add_argument("--channels", default="3",
                    help="comma list of bottleneck channels C (default 3)")
    ap.add_argument("--seed", type=int, default=1,
                    help="training seed: initialisation, batch order, "
                    "augmentation, and the teacher's (default 1)")
    ap.add_argument("--split-seed", type=int, default=1,
                    help="the bfbench scenario's `seed`: the data split and "
                    "subsets (default 1)")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--train-subset", type=int, default=0,
                    help="training items, 0 = all (default 0)")
    ap.add_argument("--test-subset", type=int, default=0,
                    help="test items, 0 = all (default 0)")
    ap.add_argument("--teacher-epochs", type=int, default=15)
    ap.add_argument("--teacher-lr", type=float, default=0.1)
    ap.add_argument("--teacher-batch", type=int, default=128)
    ap.add_argument("--teacher-weight-decay", type=float, default=5e-4)
    ap.add_argument("--epochs-stage1", type=int, default=10)
    ap.add_argument("--epochs-stage2", type=int, default=10)
    ap.add_argument("--epochs-baseline", type=int, default=20)
    ap.add_argument("--batch-stage1", type=int, default=64)
    ap.add_argument("--batch-stage2", type=int, default=64)
    ap.add_argument("--batch-baseline", type=int, default=32)
    ap.add_argument("--lr-gamma", type=float, default=0.1)
    ap.add_argument("--kd-temperature", type=float, default=1.0)
    ap.add_argument("--kd-alpha", type=float, default=0.5)
    ap.add_argument("--freeze-encoder", default=True,
                    action=argparse.BooleanOptionalAction,
                    help="encoder frozen in stage 2 of ghnd-ft and ghnd-kd "
                    "(the reference's *-finetune configs; bottlefit always)")
    ap.add_argument("--augment", default=True,
                    action=argparse.BooleanOptionalAction,
                    help="random flip and 2-pixel shift of training images")
    ap.add_argument("--bn-policy", default="reference",
                    choices=["reference", "all-train", "frozen-eval"],
                    help="reference: the published code's modes and "
                    "forwards (default; bfbench's frozen_bn_train true); "
                    "frozen-eval: every frozen stage in eval mode (bfbench's "
                    "frozen_bn_train false); all-train: the whole student "
                    "runs forward with every stage in train mode (bfbench "
                    "before the fidelity fixes)")
    ap.add_argument("--ae-init", default="reference",
                    choices=["reference", "default"],
                    help="autoencoder convolutions: HND's Kaiming-normal "
                    "fan-out with zero bias, or PyTorch's default")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=DEFAULT_DATA)
    ap.add_argument("--teacher-in", help="teacher checkpoint to load when "
                    "it exists (else one is trained)")
    ap.add_argument("--teacher-out", help="save a trained teacher here")
    ap.add_argument("--bfbench", default="build/bfbench",
                    help="check the students' parameter counts against "
                    "`bfbench models` when this exists")
    ap.add_argument("--out", help="also append the JSON lines to this file")
    ap.add_argument("--dump-items", action="store_true",
                    help="print the training, validation and test items "
                    "as JSON and exit")
    args = ap.parse_args(argv)
    args.strategies = [s for s in args.strategies.split(",") if s]
    for s in args.strategies:
        if s not in STRATEGIES:
            ap.error(f"--strategies: {s!r} is not one of "
                     f"{', '.join(STRATEGIES)}")
    try:
        args.channels = [int(c) for c in args.channels.split(",") if c]
    except ValueError:
        ap.error(f"--channels: {args.channels!r} is not a list of integers")
    if not args.channels or any(c < 1 or c > 512 for c in args.channels):
        ap.error("--channels: values in 1..512")
    if not 0.01 <= args.val_fraction <= 0.5:
        ap.error("--val-fraction: 0.01 .. 0.5 (as bfbench)")
    if args.threads < 1:
        ap.error("--threads: at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    data = Data(args.data_dir)
    train_idx, val_idx, test_idx = scenario_items(
        len(data.train_y), len(data.test_y), args.split_seed,
        args.val_fraction, args.train_subset, args.test_subset)
    items = {"train": train_idx, "val": val_idx, "test": test_idx}
    if args.dump_items:
        print(json.dumps(items))
        return
    log(f"{args.model}: {len(train_idx)} training, {len(val_idx)} "
        f"validation, {len(test_idx)} test items; seed {args.seed}, split "
        f"seed {args.split_seed}, {args.threads} thread(s), bn policy "
        f"{args.bn_policy}")
    check = os.path.exists(args.bfbench)
    if not check:
        log(f"{args.bfbench} not found: parameter counts not checked "
            f"against bfbench models")
    teacher = get_teacher(args, data, items, args.out)
    for strategy in args.strategies:
        if strategy == "teacher":
            continue
        for c in args.channels:
            label = f"seed {args.seed} {strategy} C={c}"
            student = make_student(teacher, strategy, c, args)
            if check and strategy != "ae-split":
                want, want_head = bfbench_counts(args.bfbench, args.model, c)
                got = param_count(student)
                got_head = param_count(student.stages[ENCODER])
                if (got, got_head) != (want, want_head):
                    raise SystemExit(
                        f"train_reference: {label}: {got} parameters "
                        f"({got_head} in the encoder) here, {want} "
                        f"({want_head}) in bfbench")
            n = len(student.stages)
            phases = [apply_bn_policy(ph, n, args.bn_policy)
                      for ph in phases_of(strategy, n, args)]
            gen = torch.Generator().manual_seed(
                student_seed(args, strategy, c))
            t0 = time.perf_counter()
            records, chosen, best_val = train(student, teacher, phases, data,
                                              items, args, gen, label)
            seconds = time.perf_counter() - t0
            emit(result_line(args, strategy, c, student, records, chosen,
                             best_val, items, data, seconds), args.out)


if __name__ == "__main__":
    main()
