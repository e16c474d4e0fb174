#!/usr/bin/python3
"""Export a torchvision model's state dict to bfbench's weights format (BFW1).

Optional helper: runs only where Debian's python3-torchvision is installed
(use /usr/bin/python3). The harness itself never needs Python.

  # weights you already have as a torchvision state dict (.pth):
  /usr/bin/python3 scripts/export_torchvision.py --arch resnet152 \\
      --state-dict resnet152-f82ba261.pth --out resnet152.bfw
  # random initialisation (for tests and timing), with a sample input and
  # its logits for a parity check:
  /usr/bin/python3 scripts/export_torchvision.py --arch resnet18 --random \\
      --seed 3 --out r18.bfw --sample r18.io.bfw

The format is described in shim/bf_weights.md. Every state-dict entry is
written under its torchvision name, so `bfbench` loads it by name and names
any missing, unexpected or wrongly shaped entry.
"""
import argparse
import struct
import sys

try:
    import torch
    import torchvision
except ImportError as exc:  # pragma: no cover - environment check
    sys.exit(f"export_torchvision: needs Debian's python3-torchvision "
             f"(/usr/bin/python3): {exc}")

DTYPES = {torch.float32: 1, torch.int64: 2}


def write_bfw(path, meta, tensors):
    """Write (name, tensor) pairs with a key=value header to path."""
    header = "".join(f"{k}={v}\n" for k, v in meta.items()).encode()
    with open(path, "wb") as f:
        f.write(b"BFW1")
        f.write(struct.pack("<I", len(header)))
        f.write(header)
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            t = t.detach().contiguous().cpu()
            if t.dtype not in DTYPES:
                raise SystemExit(f"export_torchvision: {name} has dtype "
                                 f"{t.dtype}; only float32 and int64")
            raw = name.encode()
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
            f.write(struct.pack("<BB", DTYPES[t.dtype], t.dim()))
            f.write(struct.pack(f"<{t.dim()}q", *t.shape))
            f.write(t.numpy().tobytes())


def perturb_batchnorm(model, gen):
    """Move BatchNorm statistics and affine terms off their initial values
    so that a parity check exercises them (random exports only)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)


def perturb_biases(model, gen):
    """Give every convolution and linear bias random values (torchvision
    initialises many to zero, VGG's and SqueezeNet's all) so that a parity
    check exercises them, folded into BatchNorm too (random exports only)."""
    with torch.no_grad():
        for m in model.modules():
            if (isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
                    and m.bias is not None):
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True,
                    help="torchvision architecture name, e.g. resnet152")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--state-dict", metavar="PTH",
                     help="a torchvision state dict saved with torch.save")
    src.add_argument("--random", action="store_true",
                     help="random initialisation (seeded), BatchNorm "
                          "statistics and biases perturbed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--out", required=True, help="BFW1 file to write")
    ap.add_argument("--sample", metavar="FILE",
                    help="also write a seeded input and the model's eval "
                         "logits (entries 'input', 'logits')")
    ap.add_argument("--size", type=int, default=224,
                    help="sample input height = width (default 224)")
    args = ap.parse_args()

    if not hasattr(torchvision.models, args.arch):
        sys.exit(f"export_torchvision: unknown architecture '{args.arch}'")
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.arch)(
        weights=None, num_classes=args.num_classes)
    if args.state_dict:
        state = torch.load(args.state_dict, map_location="cpu")
        model.load_state_dict(state)  # strict: names and shapes checked
    else:
        gen = torch.Generator().manual_seed(args.seed)
        perturb_batchnorm(model, gen)
        perturb_biases(model, gen)
    model.eval()
    meta = {"arch": args.arch, "num_classes": args.num_classes,
            "source": f"torchvision-{torchvision.__version__}",
            "init": "state-dict" if args.state_dict else
                    f"random-seed-{args.seed}"}
    write_bfw(args.out, meta, list(model.state_dict().items()))
    if args.sample:
        gen = torch.Generator().manual_seed(args.seed + 1)
        x = torch.randn(1, 3, args.size, args.size, generator=gen)
        with torch.no_grad():
            y = model(x)
        write_bfw(args.sample, {"arch": args.arch, "kind": "sample"},
                  [("input", x), ("logits", y)])
    print(f"export_torchvision: wrote {args.out}"
          + (f" and {args.sample}" if args.sample else ""))


if __name__ == "__main__":
    main()
