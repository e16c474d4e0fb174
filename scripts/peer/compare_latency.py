#!/usr/bin/python3
"""Batch-1 forward latency: bfbench's shim against PyTorch eager, alternating
in one invocation.

Starts `bfbench bench --lockstep` as a child process and builds the same
torchvision models here in PyTorch eager (eval mode, torch.inference_mode,
the same thread count). Then, round after round, it times a block of
forwards on each side in turn (the order rotates every round), so that the
shared machine's noise falls on both alike. Only one side runs at a time:
the other waits on a pipe. Prints a Markdown table of medians and the ratio
bfbench / PyTorch (below 1.0: the harness is faster). Weights are random
on both sides: timing does not depend on them.

--device cuda (or cuda:N) runs both sides on that GPU: models and input
live on the device, cuDNN's benchmark mode is on, TF32 is off (as in
bfbench; --tf32 turns it on here) and every clock read here follows a
torch.cuda.synchronize(). --precisions picks the precisions, one table
each: fp32 (bfbench paths plain, fold, fold-cl), bf16 (fold-bf16,
fold-cl-bf16) and fp16 (fold-fp16, fold-cl-fp16; CUDA only). bfbench folds
BatchNorm in fp32 and then casts; the PyTorch side is torchvision's eager
model cast with model.to(dtype) (BatchNorm not folded: what a PyTorch user
runs), timed from the fp32 input to the fp32 output, as bfbench's reduced
precision paths are. Its "rel. error" column is the largest difference of
its output from the fp32 eager output on the same device, relative to the
largest fp32 output. --peer-cl adds PyTorch eager in channels-last; the
ratios are then against the faster of the two PyTorch layouts. --device
and --paths go to bfbench only where `bfbench bench --help` lists them; a
bfbench without them runs the cpu/fp32 default and refuses the rest.

Needs PyTorch and torchvision: Debian's python3-torch and
python3-torchvision (/usr/bin/python3), or any Python with torch and
torchvision (a CUDA build for --device cuda).

  /usr/bin/python3 scripts/peer/compare_latency.py --threads 2
  python3 scripts/peer/compare_latency.py --bfbench build-gpu/bfbench \\
      --device cuda --precisions fp32,fp16,bf16 --peer-cl
"""
import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lockstep import (  # noqa: E402
    Harness, bench_options, parse_device, setup_torch)

try:
    import torch
    import torchvision
except ImportError as exc:
    sys.exit(f"compare_latency: needs torch and torchvision (Debian's "
             f"python3-torchvision with /usr/bin/python3): {exc}")

# bfbench's inference paths per precision, in table order.
PATHS = {"fp32": ["plain", "fold", "fold-cl"],
         "bf16": ["fold-bf16", "fold-cl-bf16"],
         "fp16": ["fold-fp16", "fold-cl-fp16"]}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16,
          "fp16": torch.float16}


def peer_names(precision, peer_cl):
    """The PyTorch sides of one precision (sample keys and table order)."""
    base = "pytorch" if precision == "fp32" else f"pytorch-{precision}"
    names = [base]
    if peer_cl:
        names.append("pytorch-cl" if precision == "fp32"
                     else f"pytorch-cl-{precision}")
    return names


def parse_precisions(text, dev):
    precs = text.split(",")
    for p in precs:
        if p not in PATHS:
            sys.exit(f"compare_latency: --precisions: {p!r} is not one of "
                     f"{', '.join(PATHS)}")
    if len(set(precs)) != len(precs):
        sys.exit(f"compare_latency: --precisions {text!r}: a precision "
                 f"named twice")
    if "fp16" in precs and dev.type != "cuda":
        sys.exit("compare_latency: --precisions fp16 needs --device cuda "
                 "(bfbench's fp16 paths run on CUDA only)")
    return precs


def harness_command(args, paths):
    """`bfbench bench --lockstep ...`; --device and --paths only where this
    bfbench has them, and only the defaults run without them."""
    opts = bench_options("compare_latency", args.bfbench)
    cmd = [args.bfbench, "-q", "bench", "--lockstep", "--models",
           args.models, "--threads", str(args.threads), "--size",
           str(args.size), "--warmup", str(args.warmup)]
    if "--device" in opts:
        cmd += ["--device", args.device]
    elif args.device != "cpu":
        sys.exit(f"compare_latency: {args.bfbench} has no 'bench --device' "
                 f"(built before the CUDA work): rebuild it, or run with "
                 f"--device cpu")
    if "--paths" in opts:
        cmd += ["--paths", ",".join(paths)]
    elif paths != PATHS["fp32"]:
        sys.exit(f"compare_latency: {args.bfbench} has no 'bench --paths' "
                 f"(built before the bf16/fp16 paths): rebuild it, or run "
                 f"with --precisions fp32")
    return cmd


def peer_block(forward, iters, sync):
    """Time iters calls of forward(); milliseconds each. sync() waits for
    the device before each clock read (nothing on the CPU)."""
    times = []
    with torch.inference_mode():
        for _ in range(iters):
            sync()
            t0 = time.perf_counter_ns()
            forward()
            sync()
            times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


def build_peers(name, args, dev, precs):
    """The PyTorch sides of one model: name -> forward(), and the relative
    output error of each reduced-precision side against fp32 eager."""
    torch.manual_seed(1)
    m = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(1, 3, args.size, args.size)
    m32 = m.to(dev)
    x32 = x.to(dev)
    cl = torch.channels_last
    sides, errors = {}, {}
    for p in precs:
        dtype = DTYPES[p]
        for side in peer_names(p, args.peer_cl):
            channels_last = "-cl" in side
            if p == "fp32" and not channels_last:
                sides[side] = (lambda mm=m32, xx=x32: mm(xx))
                continue
            mp = copy.deepcopy(m32).to(dtype=dtype)
            if channels_last:
                mp = mp.to(memory_format=cl)
                sides[side] = (lambda mm=mp, d=dtype:
                               mm(x32.to(dtype=d).contiguous(
                                   memory_format=cl)).float())
            else:
                sides[side] = (lambda mm=mp, d=dtype:
                               mm(x32.to(dtype=d)).float())
            if p != "fp32":
                with torch.inference_mode():
                    ref = m32(x32)
                    got = sides[side]()
                    errors[side] = float((got - ref).abs().max() /
                                         ref.abs().max())
    return sides, errors


def device_words(dev):
    """What the header says about the device and its settings."""
    if dev.type != "cuda":
        return ""
    props = torch.cuda.get_device_properties(dev)
    tf32 = "on" if torch.backends.cudnn.allow_tf32 else "off"
    return (f" On {dev} ({props.name}, CUDA {torch.version.cuda}, cuDNN "
            f"{torch.backends.cudnn.version()}; cuDNN benchmark mode, TF32 "
            f"{tf32} on the PyTorch side; synchronised before each clock "
            f"read).")


def print_table(name_list, prec, args, samples, errors):
    paths = PATHS[prec]
    peers = peer_names(prec, args.peer_cl)
    label = "" if prec == "fp32" else f" {prec}"
    head = ["model"] + [f"PyTorch eager{label}"]
    if args.peer_cl:
        head.append(f"PyTorch eager-cl{label}")
    for path in paths:
        head += [f"bfbench {path}", "ratio"]
    if prec != "fp32":
        head.append("PyTorch rel. error")
    print("| " + " | ".join(head) + " |")
    print("| --- |" + " ---: |" * (len(head) - 1))
    for name in name_list:
        meds = [statistics.median(samples[name][s]) for s in peers]
        peer = min(meds)
        cells = [f"{v:.2f}" for v in meds]
        for path in paths:
            med = statistics.median(samples[name][path])
            cells += [f"{med:.2f}", f"{med / peer:.3f}"]
        if prec != "fp32":
            cells.append(", ".join(f"{errors[name][s]:.4f}" for s in peers))
        print(f"| {name} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bfbench", default="build/bfbench")
    ap.add_argument("--models", default="resnet152,densenet169,mobilenet_v2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5,
                    help="forwards per block")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--device", default="cpu",
                    help="cpu (default), cuda or cuda:N, for both sides")
    ap.add_argument("--precisions", default="fp32",
                    help="comma-separated: fp32 (default), bf16, fp16 "
                         "(CUDA only)")
    ap.add_argument("--peer-cl", action="store_true",
                    help="also time PyTorch eager in channels-last")
    ap.add_argument("--tf32", action="store_true",
                    help="allow TF32 on the PyTorch side (CUDA)")
    ap.add_argument("--json", help="also write the raw samples here")
    args = ap.parse_args()
    models = args.models.split(",")
    dev = parse_device("compare_latency", args.device)
    precs = parse_precisions(args.precisions, dev)
    paths = [path for p in precs for path in PATHS[p]]

    sync = setup_torch(dev, args.threads, args.tf32)
    cmd = harness_command(args, paths)
    harness = Harness(cmd, "compare_latency")
    peers, errors = {}, {}
    for name in models:
        peers[name], errors[name] = build_peers(name, args, dev, precs)
        for forward in peers[name].values():
            peer_block(forward, args.warmup, sync)

    sides = [s for p in precs
             for s in PATHS[p] + peer_names(p, args.peer_cl)]
    samples = {name: {k: [] for k in sides} for name in models}
    for r in range(args.rounds):
        for name in models:
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for side in order:
                if side.startswith("pytorch"):
                    t = peer_block(peers[name][side], args.iters, sync)
                else:
                    t = harness.run(name, side, args.iters)
                samples[name][side].extend(t)
        print(f"compare_latency: round {r + 1}/{args.rounds} done",
              file=sys.stderr)
    harness.close()

    print(f"Batch 1, {args.size}x{args.size}, {args.threads} threads, "
          f"{args.rounds} rounds x {args.iters} forwards per side, "
          f"{args.warmup} warm-up; PyTorch {torch.__version__} eager "
          f"(inference_mode) vs bfbench through libtorch; host "
          f"{platform.node()}; medians in ms, ratio = bfbench / PyTorch "
          f"(measured: host monotonic clocks)."
          + device_words(dev)
          + (" Ratios against the faster PyTorch layout."
             if args.peer_cl else "") + "\n")
    for i, prec in enumerate(precs):
        if len(precs) > 1:
            print(("\n" if i else "") + f"{prec}:\n")
        print_table(models, prec, args, samples, errors)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "samples_ms": samples,
                       "rel_error": errors}, f, indent=1)


if __name__ == "__main__":
    main()
