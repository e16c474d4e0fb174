#!/usr/bin/python3
"""Training images/s of BottleFit's two steps: bfbench's shim against
PyTorch eager, alternating in one invocation.

Starts `bfbench bench --train --lockstep` as a child process and builds the
same models here in PyTorch eager: the teacher (resnet_mini, optionally
densenet_mini: the project's small 28x28 single-channel family) and, per
step kind, a student that is the teacher with BottleFit's bottleneck
(encoder + decoder) in place of stem..stage2. The step kinds, as bfbench
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

Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3).

  /usr/bin/python3 scripts/peer/compare_training.py --threads 2
"""
import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lockstep import Harness  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
    import torchvision
    from torch import nn
    from torchvision.models.resnet import BasicBlock
except ImportError as exc:
    sys.exit(f"compare_training: needs Debian's python3-torchvision "
             f"(/usr/bin/python3): {exc}")

STEPS = ["stage1", "stage2"]
# torchvision's counting of the teachers (bfbench models).
TEACHER_PARAMS = {"resnet_mini": 701_178, "densenet_mini": 140_332}
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


def bottleneck_student(teacher, channels, size=28):
    """The teacher with BottleFit's small-family bottleneck (version 2) in
    place of stem..stage2; the tail keeps the teacher's weights.
    Encoder -> C x 8 x 8; the decoder reproduces the teacher's stage2
    output shape."""
    with torch.no_grad():
        teacher.eval()
        target = teacher.forward_all(torch.zeros(1, 1, size, size), 2)[2]
    out_c, out_h, out_w = target.shape[1:]
    c = channels
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
        got = student.forward_all(torch.zeros(1, 1, size, size), 1)[1]
    assert got.shape == target.shape, (got.shape, target.shape)
    return student


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def bfbench_param_count(bfbench, arch, channels):
    """The total of `bfbench models --arch ARCH --bottleneck 2`."""
    out = subprocess.run([bfbench, "-q", "models", "--arch", arch,
                          "--bottleneck", "2", "--channels", str(channels)],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        words = line.split()
        if words and words[0] == "total":
            return int(words[1])
    raise SystemExit(f"compare_training: no total in bfbench models:\n{out}")


class Peer:
    """The PyTorch side: a teacher and one student per step kind."""

    def __init__(self, name, channels, batch):
        torch.manual_seed(1)
        self.teacher = {"resnet_mini": resnet_mini,
                        "densenet_mini": densenet_mini}[name]()
        n = param_count(self.teacher)
        assert n == TEACHER_PARAMS[name], (name, n)
        self.teacher.eval()
        self.student = {}
        self.optim = {}
        for step in STEPS:
            s = bottleneck_student(self.teacher, channels)
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
        self.x = torch.randn(batch, 1, 28, 28)
        self.y = torch.randint(0, 10, (batch,))

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
            t0 = time.perf_counter_ns()
            loss = loss_fn(s)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append((time.perf_counter_ns() - t0) / 1e6)
        return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bfbench", default="build/bfbench")
    ap.add_argument("--models", default="resnet_mini",
                    help="resnet_mini and/or densenet_mini")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", type=int, default=2,
                    help="bottleneck channels of the students")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5, help="steps per block")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json", help="also write the raw samples here")
    args = ap.parse_args()
    models = args.models.split(",")
    for name in models:
        if name not in TEACHER_PARAMS:
            ap.error(f"--models: {name!r} is not one of "
                     f"{', '.join(TEACHER_PARAMS)}")

    torch.set_num_threads(args.threads)
    peers = {}
    for name in models:
        peer = Peer(name, args.channels, args.batch)
        want = bfbench_param_count(args.bfbench, name, args.channels)
        for step in STEPS:
            got = param_count(peer.student[step])
            if got != want:
                raise SystemExit(f"compare_training: {name} student has "
                                 f"{got} parameters here, {want} in bfbench")
            peer.block(step, args.warmup)
        peers[name] = peer
    cmd = [args.bfbench, "-q", "bench", "--train", "--lockstep", "--models",
           args.models, "--threads", str(args.threads), "--batch",
           str(args.batch), "--channels", str(args.channels), "--warmup",
           str(args.warmup)]
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

    print(f"Training steps, batch {args.batch} of 1x28x28, bottleneck "
          f"{args.channels} channels, {args.threads} threads, {args.rounds} "
          f"rounds x {args.iters} steps per side, {args.warmup} warm-up; "
          f"PyTorch {torch.__version__} eager vs bfbench through libtorch; "
          f"host {platform.node()}; images/s = batch / median step time, "
          f"ratio = bfbench / PyTorch (measured: host monotonic clocks).\n")
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
