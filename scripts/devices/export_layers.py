#!/usr/bin/python3
"""Write the layer lists of calibration-only architectures for bfbench.

A device profile's calibration points name architectures. Those in the
model zoo (`bfbench models`) get their layer lists from the shim; published
tables also time networks the zoo does not build (MobileNet v1 and v3,
ShuffleNet v2, MnasNet, EfficientNet-B0, RegNetY-400MF, GoogLeNet). This
script writes their lists, counted the way the shim counts them
(shim/bf_zoo.cpp count_layer), into scenarios/devices/layers/ARCH-PX.txt,
which bfbench reads for any calibration architecture outside the zoo.

Each layer is one convolution or linear layer of one image's forward:

  kind stage macs params in_elems out_elems

kind 0 dense convolution, 1 grouped or depthwise, 2 linear, 3 dense 3x3
stride 1; stage is 0; macs = output elements x (input channels per group x
kernel area) for a convolution, output elements x input features for a
linear layer; params = weight + bias elements; in/out = elements of the
layer's input and output tensors.

Optional helper: needs Debian's python3-torchvision (/usr/bin/python3); the
harness itself never runs Python. The files are committed, so nothing here
runs at bench time.

  /usr/bin/python3 scripts/devices/export_layers.py            # all
  /usr/bin/python3 scripts/devices/export_layers.py --check    # zoo archs:
      # print totals to compare with `bfbench models` (same counting)
"""
import argparse
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torchvision
    import torchvision.models as tvm
except ImportError as exc:  # pragma: no cover - environment check
    sys.exit(f"export_layers: needs Debian's python3-torchvision "
             f"(/usr/bin/python3): {exc}")

MAGIC = "bfbench layer list 1"


def mobilenet_v1(width=1.0):
    """MobileNet v1 (Howard et al. 2017, Table 1): the Caffe model that
    ncnn's benchmark runs as `mobilenet`."""
    def conv_bn(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    def dw_pw(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
                nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
                nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    def c(n):
        return int(n * width)

    plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2),
            (256, 256, 1), (256, 512, 2)] + [(512, 512, 1)] * 5 + \
        [(512, 1024, 2), (1024, 1024, 1)]
    layers = conv_bn(3, c(32), 2)
    for cin, cout, stride in plan:
        layers += dw_pw(c(cin), c(cout), stride)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c(1024), 1000)]
    return nn.Sequential(*layers)


# name -> (constructor, note on how it relates to the published network)
ARCHS = {
    "mobilenet_v1": (mobilenet_v1, "MobileNet v1 1.0 (paper Table 1)"),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, "torchvision"),
    "shufflenet_v2_x1_0": (tvm.shufflenet_v2_x1_0, "torchvision"),
    "mnasnet1_0": (tvm.mnasnet1_0, "torchvision"),
    "efficientnet_b0": (tvm.efficientnet_b0, "torchvision"),
    "regnet_y_400mf": (tvm.regnet_y_400mf, "torchvision"),
    "googlenet": (lambda: tvm.googlenet(init_weights=False, aux_logits=False),
                  "torchvision (BatchNorm, 3x3 in the 5x5 branch)"),
}
# Zoo architectures, for --check only (bfbench builds these itself).
CHECK = {
    "resnet18": tvm.resnet18,
    "mobilenet_v2": tvm.mobilenet_v2,
    "squeezenet1_1": tvm.squeezenet1_1,
    "densenet121": tvm.densenet121,
}


def layer_list(model, px):
    """The shim's per-layer records of one image's forward at px x px."""
    rows = []

    def hook(mod, inp, out):
        x = inp[0]
        n = out.shape[0]
        w = mod.weight
        params = w.numel() + (mod.bias.numel() if mod.bias is not None else 0)
        if isinstance(mod, nn.Conv2d):
            if mod.groups > 1:
                kind = 1
            elif mod.kernel_size == (3, 3) and mod.stride == (1, 1):
                kind = 3
            else:
                kind = 0
            per = w.shape[1] * w.shape[2] * w.shape[3]
        else:
            kind = 2
            per = w.shape[1]
        rows.append((kind, 0, out.numel() // n * per, params,
                     x.numel() // n, out.numel() // n))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, px, px))
    for h in handles:
        h.remove()
    return rows


def write(path, arch, px, note, rows):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{MAGIC}\nsource {note}; torch {torch.__version__}, "
                f"torchvision {torchvision.__version__}\n"
                f"arch {arch} px {px}\nlayers {len(rows)}\n")
        for r in rows:
            f.write(" ".join(str(v) for v in r) + "\n")
        f.write("end\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="scenarios/devices/layers",
                    help="directory (default scenarios/devices/layers)")
    ap.add_argument("--px", type=int, default=224, help="input side (224)")
    ap.add_argument("--check", action="store_true",
                    help="print zoo architectures' totals instead")
    args = ap.parse_args()
    torch.manual_seed(1)
    if args.check:
        for arch, make in CHECK.items():
            rows = layer_list(make(), args.px)
            print(f"{arch:16s} layers {len(rows):4d} "
                  f"GMACs {sum(r[2] for r in rows) / 1e9:.3f} "
                  f"params {sum(r[3] for r in rows)}")
        return
    os.makedirs(args.out, exist_ok=True)
    for arch, (make, note) in ARCHS.items():
        rows = layer_list(make(), args.px)
        path = os.path.join(args.out, f"{arch}-{args.px}.txt")
        write(path, arch, args.px, note, rows)
        print(f"{path}: {len(rows)} layers, "
              f"{sum(r[2] for r in rows) / 1e9:.3f} GMACs", file=sys.stderr)


if __name__ == "__main__":
    main()
