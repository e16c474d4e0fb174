"""The bfbench side of the peer comparisons: `bfbench bench --lockstep`
driven over its line protocol (after "ready": "run MODEL VARIANT ITERS" is
answered by "times MODEL VARIANT ms ms ...", "quit" ends)."""
import os
import re
import subprocess
import sys


class Harness:
    """A running `bfbench ... --lockstep`, one block of timings at a time."""

    def __init__(self, cmd, who):
        self.who = who
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"{who}: bfbench did not start (said "
                             f"{line!r}); command: {' '.join(cmd)}")

    def run(self, model, variant, iters):
        """Time iters repetitions of variant on model; milliseconds each."""
        self.proc.stdin.write(f"run {model} {variant} {iters}\n")
        self.proc.stdin.flush()
        words = self.proc.stdout.readline().split()
        if not words or words[0] != "times":
            raise SystemExit(f"{self.who}: bfbench said {words!r}")
        return [float(w) for w in words[3:]]

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def bench_options(who, bfbench):
    """The long options `bfbench bench --help` lists (who names the script
    in errors)."""
    if not os.access(bfbench, os.X_OK):
        sys.exit(f"{who}: --bfbench {bfbench}: not an executable (build it "
                 f"first: cmake --build build)")
    out = subprocess.run([bfbench, "bench", "--help"], capture_output=True,
                         text=True).stdout
    return set(re.findall(r"--[a-z][a-z0-9-]*", out))


def parse_device(who, text):
    """torch.device for --device, or exit naming the problem."""
    import torch

    if not re.fullmatch(r"cpu|cuda(:[0-9]+)?", text):
        sys.exit(f"{who}: --device {text!r}: expected cpu, cuda or cuda:N")
    dev = torch.device(text)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit(f"{who}: --device {text}: this PyTorch "
                     f"({torch.__version__}, CUDA {torch.version.cuda}) "
                     f"sees no usable CUDA device")
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            sys.exit(f"{who}: --device {text}: only "
                     f"{torch.cuda.device_count()} CUDA device(s)")
        dev = torch.device("cuda", index)
    return dev


def setup_torch(dev, threads, tf32):
    """PyTorch's side set up like the harness's: threads; on CUDA the
    device, cuDNN benchmark mode and TF32 as asked. Returns the function
    to call before each clock read (waits for the GPU; nothing on the
    CPU)."""
    import torch

    torch.set_num_threads(threads)
    if dev.type != "cuda":
        return lambda: None
    torch.cuda.set_device(dev)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    return lambda: torch.cuda.synchronize(dev)
