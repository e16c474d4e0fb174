#!/usr/bin/python3
"""Training images/s of BottleFit's two steps: bfbench's shim against
PyTorch eager, alternating in one invocation.

Starts `bfbench bench --train --lockstep` as a child process and builds the
same models here in PyTorch eager: the teacher (resnet_mini, optionally
densenet_mini: the project's small 28x28 single-channel family; or a
torchvision ResNet or DenseNet, e.g. resnet152 and densenet169 at 3x224x224
with 1000 classes) and, per step kind, a student that is the teacher with
BottleFit's bottleneck (version 2: encoder + decoder, as bfbench builds it)
in place of stem..stage2. The step kinds, as bfbench
runs them (one step = forwards, loss, zero_grad, backward, optimizer step
on a fixed random batch; students in train mode, the teacher in eval mode
without autograd):

  stage1  GHND: encoder and decoder trained, the rest frozen; Adam lr 1e-3;
          loss = MSE-sum(decoder, teacher stage2) + MSE-sum(stage3, teacher
          stage3) + MSE-sum(stage4, teacher stage4)
  stage2  KD: all but the encoder trained; SGD lr 1e-3, momentum 0.9,
          weight decay 5e-4; loss = 0.5 CE + 0.5 T^2 KL(batchmean), T = 1

Then, round after round, it times a block of steps on each side in turn
(the order rotates every round), so that the shared machine's noise falls
on both alike. Only one side runs at a time: the other waits on a pipe.
Prints a Markdown table of images/s (batch / median step time) and the
ratio bfbench / PyTorch (1.0 or more: the harness is at least as fast).
Weights and data are random on both sides: timing does not depend on them.

--device cuda (or cuda:N) runs both sides on that GPU: models, optimizer
state and the batch live on the device, cuDNN's benchmark mode is on, TF32
is off (as in bfbench; --tf32 turns it on here), and every clock read
here follows a torch.cuda.synchronize(). --precision bf16 runs the
forwards and losses under torch.autocast(dtype=torch.bfloat16) here and
passes --precision bf16 to `bfbench bench --train` (refused when that
bfbench has no --precision); no fp16: libtorch has no C++ gradient
scaler. --device and --precision are passed only where `bfbench bench
--help` lists them; a bfbench without them runs the cpu/fp32 default.

Needs PyTorch and torchvision: Debian's python3-torch and
python3-torchvision (/usr/bin/python3), or any Python with torch and
torchvision (a CUDA build for --device cuda).

  /usr/bin/python3 scripts/peer/compare_training.py --threads 2
  python3 scripts/peer/compare_training.py --bfbench build-gpu/bfbench \
      --device cuda --models resnet152,densenet169 --channels 12
"""
import argparse
import contextlib
import copy
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lockstep import (  # noqa: E402
    Harness, bench_options, parse_device, setup_torch)

try:
    import torch
    import torch.nn.functional as F
    import torchvision
    from torch import nn
    from torchvision.models.resnet import BasicBlock
except ImportError as exc:
    sys.exit(f"compare_training: needs torch and torchvision (Debian's "
             f"python3-torchvision with /usr/bin/python3): {exc}")

STEPS = ["stage1", "stage2"]
# torchvision's counting of the small teachers (bfbench models).
TEACHER_PARAMS = {"resnet_mini": 701_178, "densenet_mini": 140_332}
# torchvision's ImageNet families this script builds students for.
IMAGENET = re.compile(r"(resnet(18|34|50|101|152)|densenet(121|161|169|201))")
KD_T = 1.0
KD_ALPHA = 0.5


class Staged(nn.Module):
    """A chain of named stages, as bfbench splits its models."""

    def __init__(self, names, stages):
        super().__init__()
        self.names = list(names)
        self.stages = nn.ModuleList(stages)

    def forward_all(self, x, last):
        """Every stage's output, stages 0..last."""
        outs = []
        for stage in self.stages[:last + 1]:
            x = stage(x)
            outs.append(x)
        return outs

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


def torchvision_init(module):
    """torchvision's ResNet initialisation of convolutions and BatchNorms."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                    nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def resnet_mini(classes=10):
    """torchvision's ResNet-18 layout at widths 16..128: BasicBlocks
    [2, 2, 2, 2], 3x3 stem 1->16 stride 1 without max-pool, global average
    pool, fc 128->classes (bfbench's resnet_mini)."""
    inplanes = 16
    stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(16), nn.ReLU(inplace=True))
    layers = []
    for i, planes in enumerate([16, 32, 64, 128]):
        stride = 1 if i == 0 else 2
        down = None
        if stride != 1 or inplanes != planes:
            down = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))
        layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride, down),
                                    BasicBlock(planes, planes)))
        inplanes = planes
    head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1),
                         nn.Linear(128, classes))
    model = Staged(["stem", "stage1", "stage2", "stage3", "stage4",
                    "classifier"], [stem] + layers + [head])
    torchvision_init(model)
    return model


def densenet_mini(classes=10):
    """torchvision's DenseNet with growth 12, blocks 4-4-4-4, 24 initial
    features, a 3x3 stem 1->24 and no max-pool (bfbench's densenet_mini)."""
    net = torchvision.models.DenseNet(growth_rate=12,
                                      block_config=(4, 4, 4, 4),
                                      num_init_features=24, bn_size=4,
                                      num_classes=classes)
    f = net.features
    f.conv0 = nn.Conv2d(1, 24, 3, 1, 1, bias=False)
    nn.init.kaiming_normal_(f.conv0.weight)
    stages = [nn.Sequential(f.conv0, f.norm0, f.relu0),
              nn.Sequential(f.denseblock1, f.transition1),
              nn.Sequential(f.denseblock2, f.transition2),
              nn.Sequential(f.denseblock3, f.transition3),
              f.denseblock4,
              nn.Sequential(f.norm5, nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
                            nn.Flatten(1), net.classifier)]
    return Staged(["stem", "stage1", "stage2", "stage3", "stage4",
                   "classifier"], stages)


def imagenet_teacher(name):
    """A torchvision ResNet or DenseNet as bfbench stages it: ResNet stem =
    conv1 bn1 relu maxpool, stage1..4 = layer1..4, classifier = avgpool fc;
    DenseNet stem = conv0 norm0 relu0 pool0, stage1..3 = denseblockN +
    transitionN, stage4 = denseblock4, classifier = norm5 relu avgpool
    classifier. torchvision's own initialisation."""
    net = getattr(torchvision.models, name)(weights=None)
    names = ["stem", "stage1", "stage2", "stage3", "stage4", "classifier"]
    if name.startswith("resnet"):
        stages = [nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool),
                  net.layer1, net.layer2, net.layer3, net.layer4,
                  nn.Sequential(net.avgpool, nn.Flatten(1), net.fc)]
    else:
        f = net.features
        stages = [nn.Sequential(f.conv0, f.norm0, f.relu0, f.pool0),
                  nn.Sequential(f.denseblock1, f.transition1),
                  nn.Sequential(f.denseblock2, f.transition2),
                  nn.Sequential(f.denseblock3, f.transition3),
                  f.denseblock4,
                  nn.Sequential(f.norm5, nn.ReLU(),
                                nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1),
                                net.classifier)]
    return Staged(names, stages)


def arch_of(name):
    """Builder, input channels, input size and classes of a teacher."""
    if name == "resnet_mini":
        return resnet_mini, 1, 28, 10
    if name == "densenet_mini":
        return densenet_mini, 1, 28, 10
    if IMAGENET.fullmatch(name):
        return (lambda: imagenet_teacher(name)), 3, 224, 1000
    raise SystemExit(f"compare_training: --models: {name!r} is not one of "
                     f"resnet_mini, densenet_mini, torchvision's "
                     f"resnet18..152 or densenet121..201")


def conv_bn(cin, cout, k, stride, pad):
    """A convolution without bias, then BatchNorm (bfbench's conv with
    bn_after)."""
    return [nn.Conv2d(cin, cout, k, stride, pad, bias=False),
            nn.BatchNorm2d(cout)]


def imagenet_bottleneck(family, in_ch, c, out_c):
    """bfbench's version-2 bottleneck of the ImageNet families: the encoder
    (7x7 stem, max-pool, BatchNorm, 2x2 stride-2 convolution to C
    channels) and the family's decoder back to the teacher's stage2
    shape."""
    relu = nn.ReLU
    encoder = nn.Sequential(
        *conv_bn(in_ch, 64, 7, 2, 3), relu(inplace=True),
        nn.MaxPool2d(3, 2, 1), nn.BatchNorm2d(64), relu(inplace=True),
        nn.Conv2d(64, c, 2, 2, 1, bias=False))
    if family == "resnet":
        decoder = nn.Sequential(
            nn.BatchNorm2d(c), relu(inplace=True),
            *conv_bn(c, 512, 2, 1, 1), relu(inplace=True),
            *conv_bn(512, 512, 2, 1, 1), relu(inplace=True),
            *conv_bn(512, 512, 2, 1, 0), relu(inplace=True),
            nn.Conv2d(512, out_c, 2, 1, 0, bias=False),
            nn.AvgPool2d(2, 1))
    else:
        decoder = nn.Sequential(
            nn.BatchNorm2d(c), relu(inplace=True),
            *conv_bn(c, 512, 2, 1, 1), relu(inplace=True),
            *conv_bn(512, 512, 2, 1, 1), relu(inplace=True),
            *conv_bn(512, 256, 2, 1, 0), relu(inplace=True),
            *conv_bn(256, 256, 2, 1, 0), relu(inplace=True),
            nn.Conv2d(256, out_c, 2, 1, 0, bias=False),
            nn.AvgPool2d(2, 2))
    return encoder, decoder


def bottleneck_student(teacher, channels, size=28, in_ch=1, family="mini"):
    """The teacher with BottleFit's bottleneck (version 2) in place of
    stem..stage2; the tail keeps the teacher's weights. Small family:
    encoder -> C x 8 x 8; ImageNet families: C x 29 x 29 at 224. The
    decoder reproduces the teacher's stage2 output shape."""
    with torch.no_grad():
        teacher.eval()
        target = teacher.forward_all(torch.zeros(1, in_ch, size, size), 2)[2]
    out_c, out_h, out_w = target.shape[1:]
    c = channels
    if family != "mini":
        encoder, decoder = imagenet_bottleneck(family, in_ch, c, out_c)
    else:
        encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, c, 2, 2, 1, bias=False))
        decoder = nn.Sequential(
            nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c, 64, 2, 2, bias=False), nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, bias=False), nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, out_c, 1, bias=False),
            nn.AdaptiveAvgPool2d((out_h, out_w)))
    tail = [copy.deepcopy(s) for s in teacher.stages[3:]]
    student = Staged(["encoder", "decoder"] + teacher.names[3:],
                     [encoder, decoder] + tail)
    with torch.no_grad():
        got = student.forward_all(torch.zeros(1, in_ch, size, size), 1)[1]
    assert got.shape == target.shape, (got.shape, target.shape)
    return student


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def bfbench_param_count(bfbench, arch, channels=None):
    """The total of `bfbench models --arch ARCH`, with `--bottleneck 2
    --channels C` when channels is given."""
    cmd = [bfbench, "-q", "models", "--arch", arch]
    if channels is not None:
        cmd += ["--bottleneck", "2", "--channels", str(channels)]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        words = line.split()
        if words and words[0] == "total":
            return int(words[1])
    raise SystemExit(f"compare_training: no total in bfbench models:\n{out}")


class Peer:
    """The PyTorch side: a teacher and one student per step kind, on dev;
    autocast is the context each forward and loss runs in."""

    def __init__(self, name, channels, batch, dev, autocast, sync):
        build, in_ch, size, classes = arch_of(name)
        family = ("mini" if name.endswith("_mini") else
                  "resnet" if name.startswith("resnet") else "densenet")
        torch.manual_seed(1)
        self.teacher = build()
        n = param_count(self.teacher)
        assert name not in TEACHER_PARAMS or n == TEACHER_PARAMS[name], \
            (name, n)
        self.teacher.eval()
        self.student = {}
        students = {step: bottleneck_student(self.teacher, channels, size,
                                             in_ch, family)
                    for step in STEPS}
        self.teacher.to(dev)
        self.optim = {}
        for step in STEPS:
            s = students[step].to(dev)
            last = len(s.stages) - 1
            frozen = range(2, last + 1) if step == "stage1" else range(0, 1)
            for i in frozen:
                s.stages[i].requires_grad_(False)
            s.train()
            params = [p for p in s.parameters() if p.requires_grad]
            if step == "stage1":
                self.optim[step] = torch.optim.Adam(params, lr=1e-3)
            else:
                self.optim[step] = torch.optim.SGD(params, lr=1e-3,
                                                   momentum=0.9,
                                                   weight_decay=5e-4)
            self.student[step] = s
        torch.manual_seed(7)
        self.x = torch.randn(batch, in_ch, size, size).to(dev)
        self.y = torch.randint(0, classes, (batch,)).to(dev)
        self.autocast = autocast
        self.sync = sync
        self.shape = f"{in_ch}x{size}x{size}"

    def ghnd_loss(self, s):
        last = len(s.stages) - 2  # stage4
        outs = s.forward_all(self.x, last)
        with torch.no_grad():
            t = self.teacher.forward_all(self.x, last + 1)
        loss = F.mse_loss(outs[1], t[2], reduction="sum")
        for i in range(2, last + 1):
            loss = loss + F.mse_loss(outs[i], t[i + 1], reduction="sum")
        return loss

    def kd_loss(self, s):
        logits = s(self.x)
        with torch.no_grad():
            t = self.teacher(self.x)
        kl = F.kl_div(F.log_softmax(logits / KD_T, 1),
                      F.softmax(t / KD_T, 1), reduction="batchmean")
        return (KD_ALPHA * F.cross_entropy(logits, self.y) +
                (1.0 - KD_ALPHA) * KD_T * KD_T * kl)

    def block(self, step, iters):
        s, opt = self.student[step], self.optim[step]
        loss_fn = self.ghnd_loss if step == "stage1" else self.kd_loss
        times = []
        for _ in range(iters):
            self.sync()
            t0 = time.perf_counter_ns()
            with self.autocast():
                loss = loss_fn(s)
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.sync()
            times.append((time.perf_counter_ns() - t0) / 1e6)
        return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bfbench", default="build/bfbench")
    ap.add_argument("--models", default="resnet_mini",
                    help="resnet_mini, densenet_mini, or torchvision's "
                         "resnet18..152, densenet121..201")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", type=int, default=2,
                    help="bottleneck channels of the students")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5, help="steps per block")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--device", default="cpu",
                    help="cpu (default), cuda or cuda:N, for both sides")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                    help="fp32 (default) or bf16 autocast")
    ap.add_argument("--tf32", action="store_true",
                    help="allow TF32 on the PyTorch side (CUDA)")
    ap.add_argument("--json", help="also write the raw samples here")
    args = ap.parse_args()
    models = args.models.split(",")
    for name in models:
        arch_of(name)
    dev = parse_device("compare_training", args.device)

    opts = bench_options("compare_training", args.bfbench)
    cmd = [args.bfbench, "-q", "bench", "--train", "--lockstep", "--models",
           args.models, "--threads", str(args.threads), "--batch",
           str(args.batch), "--channels", str(args.channels), "--warmup",
           str(args.warmup)]
    if "--device" in opts:
        cmd += ["--device", args.device]
    elif args.device != "cpu":
        sys.exit(f"compare_training: {args.bfbench} has no 'bench --device' "
                 f"(built before the CUDA work): rebuild it, or run with "
                 f"--device cpu")
    if "--precision" in opts:
        cmd += ["--precision", args.precision]
    elif args.precision != "fp32":
        sys.exit(f"compare_training: {args.bfbench} has no 'bench "
                 f"--precision': rebuild it, or run with --precision fp32")

    sync = setup_torch(dev, args.threads, args.tf32)
    if args.precision == "bf16":
        def autocast():
            return torch.autocast(dev.type, dtype=torch.bfloat16)
    else:
        autocast = contextlib.nullcontext
    peers = {}
    for name in models:
        peer = Peer(name, args.channels, args.batch, dev, autocast, sync)
        want = bfbench_param_count(args.bfbench, name)
        got = param_count(peer.teacher)
        if got != want:
            raise SystemExit(f"compare_training: {name} teacher has {got} "
                             f"parameters here, {want} in bfbench")
        want = bfbench_param_count(args.bfbench, name, args.channels)
        for step in STEPS:
            got = param_count(peer.student[step])
            if got != want:
                raise SystemExit(f"compare_training: {name} student has "
                                 f"{got} parameters here, {want} in bfbench")
            peer.block(step, args.warmup)
        peers[name] = peer
    harness = Harness(cmd, "compare_training")

    sides = ["bfbench", "pytorch"]
    samples = {name: {step: {side: [] for side in sides} for step in STEPS}
               for name in models}
    for r in range(args.rounds):
        for name in models:
            for step in STEPS:
                order = sides[r % len(sides):] + sides[:r % len(sides)]
                for side in order:
                    if side == "pytorch":
                        t = peers[name].block(step, args.iters)
                    else:
                        t = harness.run(name, step, args.iters)
                    samples[name][step][side].extend(t)
        print(f"compare_training: round {r + 1}/{args.rounds} done",
              file=sys.stderr)
    harness.close()

    shapes = ", ".join(sorted({p.shape for p in peers.values()}))
    extra = ""
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        extra += (f" On {dev} ({props.name}, CUDA {torch.version.cuda}, "
                  f"cuDNN {torch.backends.cudnn.version()}; cuDNN benchmark "
                  f"mode, TF32 {'on' if args.tf32 else 'off'} on the "
                  f"PyTorch side; synchronised before each clock read).")
    if args.precision != "fp32":
        extra += f" Both sides under {args.precision} autocast."
    print(f"Training steps, batch {args.batch} of {shapes}, bottleneck "
          f"{args.channels} channels, {args.threads} threads, {args.rounds} "
          f"rounds x {args.iters} steps per side, {args.warmup} warm-up; "
          f"PyTorch {torch.__version__} eager vs bfbench through libtorch; "
          f"host {platform.node()}; images/s = batch / median step time, "
          f"ratio = bfbench / PyTorch (measured: host monotonic clocks)."
          f"{extra}\n")
    print("| model | step | PyTorch images/s | bfbench images/s "
          "| ratio bfbench/PyTorch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in models:
        for step in STEPS:
            rate = {side: args.batch * 1e3 /
                    statistics.median(samples[name][step][side])
                    for side in sides}
            print(f"| {name} | {step} | {rate['pytorch']:.1f} "
                  f"| {rate['bfbench']:.1f} "
                  f"| {rate['bfbench'] / rate['pytorch']:.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "samples_ms": samples}, f,
                      indent=1)


if __name__ == "__main__":
    main()
