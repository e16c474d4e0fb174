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

Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3).

  /usr/bin/python3 scripts/peer/compare_latency.py --threads 2
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lockstep import Harness  # noqa: E402

try:
    import torch
    import torchvision
except ImportError as exc:
    sys.exit(f"compare_latency: needs Debian's python3-torchvision "
             f"(/usr/bin/python3): {exc}")

PATHS = ["plain", "fold", "fold-cl"]


def peer_block(model, x, iters):
    times = []
    with torch.inference_mode():
        for _ in range(iters):
            t0 = time.perf_counter_ns()
            model(x)
            times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


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
    ap.add_argument("--json", help="also write the raw samples here")
    args = ap.parse_args()
    models = args.models.split(",")

    torch.set_num_threads(args.threads)
    cmd = [args.bfbench, "-q", "bench", "--lockstep", "--models",
           args.models, "--threads", str(args.threads), "--size",
           str(args.size), "--warmup", str(args.warmup)]
    harness = Harness(cmd, "compare_latency")
    peers = {}
    for name in models:
        torch.manual_seed(1)
        m = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.randn(1, 3, args.size, args.size)
        peer_block(m, x, args.warmup)
        peers[name] = (m, x)

    samples = {name: {k: [] for k in PATHS + ["pytorch"]} for name in models}
    sides = PATHS + ["pytorch"]
    for r in range(args.rounds):
        for name in models:
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for side in order:
                if side == "pytorch":
                    m, x = peers[name]
                    t = peer_block(m, x, args.iters)
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
          f"(measured: host monotonic clocks).\n")
    print("| model | PyTorch eager | bfbench plain | ratio | bfbench fold "
          "| ratio | bfbench fold-cl | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in models:
        peer = statistics.median(samples[name]["pytorch"])
        cells = [f"{peer:.2f}"]
        for path in PATHS:
            med = statistics.median(samples[name][path])
            cells += [f"{med:.2f}", f"{med / peer:.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "samples_ms": samples}, f,
                      indent=1)


if __name__ == "__main__":
    main()
