"""The bfbench side of the peer comparisons: `bfbench bench --lockstep`
driven over its line protocol (after "ready": "run MODEL VARIANT ITERS" is
answered by "times MODEL VARIANT ms ms ...", "quit" ends)."""
import subprocess


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
