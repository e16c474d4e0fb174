#!/usr/bin/python3
"""Fidelity benchmark: bfbench's training against the PyTorch peer
(scripts/peer/train_reference.py), strategy by strategy, over seeds.

For each seed, one bfbench train run (a generated scenario: `seed` fixes
the data split and subsets for every seed, `seeds: [SEED]` and
`teacher_per_seed: true` give the teacher and the students that seed) and
one peer run with the same settings on the same items. Then, for each
(strategy, C), the test top-1 (fp32) of each side over the seeds, the
difference of the means (bfbench - peer) with its 95 % interval (Welch's
t by default, Student's pooled t with --pooled), and the verdict against
the target: the interval contains 0 and |difference| <= --tolerance
(0.5 points). Parameter counts of both sides are checked against each
other, and the epoch the validation split chose is listed per side.

The t quantile is computed here: Student's t CDF through the regularized
incomplete beta function (continued fraction), inverted by bisection;
--self-test checks it against tabulated quantiles.

Budgets (--budget; the per-key options override them):

  smoke   500 training items, 500 test items, teacher 1 epoch, stages
          1 + 1, baselines 1 epoch: a check that both sides run and parse
  small   10,000 training items (1,112 validation), all 10,000 test
          items, teacher 6 epochs, stages 2 + 2, baselines 4 epochs (both
          sides scale the reference's lr milestones to the epochs alike,
          floor(epochs x k / parts)): teacher, naive, ghnd-ft,
          bottlefit and ae-split at one C, 3 seeds, about an hour on 2
          cores with --jobs 2 --threads 1
  paper   all 54,000 training items and 10,000 test items, teacher 15
          epochs, stages 10 + 10, baselines 20 (the reference's epochs)

Teachers (--shared-teacher, the default): the peer trains
the teacher of each seed, and bfbench loads it (exported to its weights
format as WORKDIR/teacher-sN.bfw), so that both sides' students distil
from the same model and their differences are the student recipes',
compared by seed with a paired t interval; the teacher row then checks
that both evaluate that one model alike. --no-shared-teacher: each side
trains its own teachers (the teacher recipe is compared too), and the
sides are independent samples (Welch interval): the teachers' spread
then dominates every student row.

Jobs (one per side and seed) run --jobs at a time, each with --threads
intra-op threads, under `nice -n --nice`. Everything goes to --workdir:
the scenarios, one results DB per seed (their teachers cached in
WORKDIR/cache), the peer's JSON lines and teacher checkpoints, the logs.
A rerun with the same options resumes: finished bfbench cases and
complete peer outputs are kept. --report-only reads what is there.

  /usr/bin/python3 scripts/peer/fidelity.py --budget small \\
      --workdir results/peer/fidelity-small
"""
import argparse
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "train_reference.py")
PYTHON = "/usr/bin/python3"
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
STUDENTS = ["naive", "kd", "hnd", "ghnd", "ghnd-ft", "ghnd-kd", "bottlefit",
            "ae-split"]
BUDGETS = {
    "smoke": dict(train_subset=500, test_subset=500, teacher_epochs=1,
                  epochs_stage1=1, epochs_stage2=1, epochs_baseline=1),
    "small": dict(train_subset=10000, test_subset=0, teacher_epochs=6,
                  epochs_stage1=2, epochs_stage2=2, epochs_baseline=4),
    "paper": dict(train_subset=0, test_subset=0, teacher_epochs=15,
                  epochs_stage1=10, epochs_stage2=10, epochs_baseline=20),
}
BUDGET_KEYS = list(BUDGETS["small"])


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# Student's t distribution

def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (modified
    Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) +
           a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """The p quantile (p > 0.5) of Student's t with df (real) degrees of
    freedom, by bisection on the CDF."""
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# 0.975 quantiles of Student's t (as tabulated, e.g. NIST/SEMATECH
# e-Handbook 1.3.6.7.2, here to 12 digits), for --self-test.
T975 = {1: 12.7062047362, 2: 4.30265272975, 3: 3.18244630528,
        4: 2.77644510520, 5: 2.57058183564, 6: 2.44691185114,
        8: 2.30600413520, 10: 2.22813885199, 20: 2.08596344727,
        30: 2.04227245630, 100: 1.98397151852}


def self_test():
    worst = 0.0
    for df, want in T975.items():
        got = t_quantile(0.975, df)
        worst = max(worst, abs(got - want))
        print(f"t(0.975, df={df}) = {got:.10f} (table {want:.10f})")
    ok = worst < 1e-8
    print(f"largest error {worst:.2e}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def mean_sd(xs):
    n = len(xs)
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    return m, sd


def diff_interval(a, b, pooled, conf=0.95):
    """Difference of means a - b, its interval and degrees of freedom;
    None for the interval when a side has fewer than 2 values."""
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    na, nb = len(a), len(b)
    diff = ma - mb
    if na < 2 or nb < 2:
        return diff, None, None
    if pooled:
        df = na + nb - 2
        sp2 = ((na - 1) * sa ** 2 + (nb - 1) * sb ** 2) / df
        se = math.sqrt(sp2 * (1.0 / na + 1.0 / nb))
    else:
        va, vb = sa ** 2 / na, sb ** 2 / nb
        se = math.sqrt(va + vb)
        den = va ** 2 / (na - 1) + vb ** 2 / (nb - 1)
        df = (va + vb) ** 2 / den if den > 0 else float(na + nb - 2)
    if se == 0.0:
        return diff, (diff, diff), df
    q = t_quantile(1.0 - (1.0 - conf) / 2.0, df)
    return diff, (diff - q * se, diff + q * se), df


def paired_interval(d, conf=0.95):
    """Mean of the paired differences d, its Student t interval, df."""
    n = len(d)
    if n == 0:
        return float("nan"), None, None
    m, sd = mean_sd(d)
    if n < 2:
        return m, None, None
    if sd == 0.0:
        return m, (m, m), n - 1
    q = t_quantile(1.0 - (1.0 - conf) / 2.0, n - 1)
    half = q * sd / math.sqrt(n)
    return m, (m - half, m + half), n - 1


# Jobs

def scenario_text(args, seed):
    students = [s for s in args.strategies if s != "teacher"]
    lines = [
        "# Generated by scripts/peer/fidelity.py (the harness side of the",
        "# fidelity benchmark); regenerated byte for byte on a rerun.",
        f"name: fidelity-{args.model}-s{seed}",
        "task: train",
        f"seed: {args.split_seed}",
        f"seeds: [{seed}]",
        "dataset: fashion-mnist",
    ]
    if args.data_dir != DEFAULT_DATA:
        lines.append(f"data_dir: {os.path.abspath(args.data_dir)}")
    lines += [
        f"models: [{args.model}]",
        f"strategies: [{', '.join(students)}]",
        f"freeze_encoder: {'true' if args.freeze_encoder else 'false'}",
        f"bottleneck_channels: [{', '.join(map(str, args.channels))}]",
        "bottleneck_version: 2",
        f"threads: {args.threads}",
        "val_fraction: 0.1",
        f"train_subset: {args.train_subset}",
        f"test_subset: {args.test_subset}",
        f"teacher_epochs: {args.teacher_epochs}",
        "teacher_lr: 0.1",
        "teacher_batch: 128",
    ]
    if args.shared_teacher:
        lines.append(f"weights: {{{args.model}: "
                     f"{os.path.basename(shared_teacher_bfw(args, seed))}}}")
    else:
        lines.append("teacher_per_seed: true")
    lines += [
        f"epochs_stage1: {args.epochs_stage1}",
        f"epochs_stage2: {args.epochs_stage2}",
        f"epochs_baseline: {args.epochs_baseline}",
        f"frozen_bn_train: "
        f"{'true' if args.harness_frozen_bn_train else 'false'}",
        "augment: true",
        "jpeg_qualities: [90]",
    ]
    return "\n".join(lines) + "\n"


def peer_command(args, seed):
    return [PYTHON, PEER, "--model", args.model,
            "--strategies", ",".join(args.strategies),
            "--channels", ",".join(map(str, args.channels)),
            "--seed", str(seed), "--split-seed", str(args.split_seed),
            "--train-subset", str(args.train_subset),
            "--test-subset", str(args.test_subset),
            "--teacher-epochs", str(args.teacher_epochs),
            "--epochs-stage1", str(args.epochs_stage1),
            "--epochs-stage2", str(args.epochs_stage2),
            "--epochs-baseline", str(args.epochs_baseline),
            "--bn-policy", args.bn_policy,
            "--freeze-encoder" if args.freeze_encoder
            else "--no-freeze-encoder",
            "--threads", str(args.threads), "--data-dir", args.data_dir,
            "--bfbench", args.bfbench,
            "--teacher-in", peer_teacher(args, seed),
            "--teacher-out", peer_teacher(args, seed)]


def peer_teacher(args, seed):
    return os.path.join(args.workdir, f"peer-teacher-s{seed}.pt")


def shared_teacher_bfw(args, seed):
    return os.path.join(args.workdir, f"teacher-s{seed}.bfw")


# The peer's state names (scripts/peer/compare_training.py, stages of a
# Staged chain) as bfbench names them (torchvision's), per model.
MODEL_NAMES = {
    "resnet_mini": ((r"^stages\.0\.0\.", "conv1."), (r"^stages\.0\.1\.", "bn1."),
                    (r"^stages\.([1-4])\.", r"layer\1."),
                    (r"^stages\.5\.2\.", "fc.")),
    # stem (conv0, norm0, relu0), stage1-3 (denseblockN, transitionN),
    # stage4 (denseblock4), classifier (norm5, relu, pool, flatten, fc).
    "densenet_mini": ((r"^stages\.0\.0\.", "features.conv0."),
                      (r"^stages\.0\.1\.", "features.norm0."),
                      (r"^stages\.([1-3])\.0\.", r"features.denseblock\1."),
                      (r"^stages\.([1-3])\.1\.", r"features.transition\1."),
                      (r"^stages\.4\.", "features.denseblock4."),
                      (r"^stages\.5\.0\.", "features.norm5."),
                      (r"^stages\.5\.4\.", "classifier.")),
}


def export_shared_teacher(args, seed):
    """The peer's teacher of `seed` in bfbench's weights format (BFW1,
    shim/bf_weights.md), so that both sides distil from the same model.
    bfbench names any missing or wrongly shaped entry when it loads it."""
    import torch  # the peer's torch (/usr/bin/python3)
    ck = torch.load(peer_teacher(args, seed))
    tensors = []
    for name, t in ck["state_dict"].items():
        new = None
        for pat, rep in MODEL_NAMES[args.model]:
            if re.match(pat, name):
                new = re.sub(pat, rep, name)
                break
        if new is None:
            raise SystemExit(f"fidelity: {peer_teacher(args, seed)}: no "
                             f"bfbench name for {name!r}")
        tensors.append((new, t))
    sys.path.insert(0, os.path.dirname(HERE))
    from export_torchvision import write_bfw  # noqa: E402
    tmp = shared_teacher_bfw(args, seed) + ".tmp"
    write_bfw(tmp, {"arch": args.model, "num_classes": 10, "in_channels": 1,
                    "bottleneck": "none", "source": "peer"}, tensors)
    os.replace(tmp, shared_teacher_bfw(args, seed))


def peer_out(args, seed):
    return os.path.join(args.workdir, f"peer-s{seed}.jsonl")


def harness_db(args, seed):
    return os.path.join(args.workdir, f"harness-s{seed}.db")


def wanted(args):
    """The (strategy, C) rows each side must produce per seed."""
    rows = []
    for s in args.strategies:
        if s == "teacher":
            rows.append(("teacher", None))
        else:
            rows += [(s, c) for c in args.channels]
    return rows


def peer_complete(args, seed):
    got = {(r["strategy"], r["channels"]) for r in read_peer(args, seed)}
    return all(w in got for w in wanted(args))


class Job:
    def __init__(self, side, seed, cmd, out_path, log_path, after=None,
                 before=None):
        self.side, self.seed, self.cmd = side, seed, cmd
        self.out_path, self.log_path = out_path, log_path
        self.after = after    # a Job that must finish first (rc 0)
        self.before = before  # called just before the launch
        self.proc = None
        self.start = None
        self.rc = None

    def launch(self, nice):
        if self.before:
            self.before()
        out = open(self.out_path, "w") if self.out_path else \
            subprocess.DEVNULL
        log = open(self.log_path, "w")
        cmd = (["nice", "-n", str(nice)] if nice else []) + self.cmd
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=log,
                                     stdin=subprocess.DEVNULL)
        self.start = time.time()
        say(f"started {self.side} seed {self.seed} (pid {self.proc.pid}, "
            f"log {self.log_path})")

    def last_line(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 4096))
                tail = f.read().decode(errors="replace")
        except OSError:
            return ""
        parts = [p.strip() for p in tail.replace("\r", "\n").split("\n")]
        parts = [p for p in parts if p]
        return parts[-1][:150] if parts else ""


def make_jobs(args):
    """Per seed a peer job and a harness job; with --shared-teacher the
    peer's runs first (it trains the teacher) and the harness's loads its
    teacher. Peer jobs are listed first."""
    jobs, peer_jobs = [], {}
    for seed in args.seeds:
        if "peer" in args.sides:
            if os.path.exists(peer_out(args, seed)) and \
                    peer_complete(args, seed):
                say(f"peer seed {seed}: complete in {peer_out(args, seed)}, "
                    f"not rerun")
            else:
                job = Job("peer", seed, peer_command(args, seed),
                          peer_out(args, seed), os.path.join(
                              args.workdir, f"peer-s{seed}.log"))
                jobs.append(job)
                peer_jobs[seed] = job
    for seed in args.seeds:
        if "harness" in args.sides:
            scen = os.path.join(args.workdir, f"harness-s{seed}.yaml")
            text = scenario_text(args, seed)
            old = open(scen).read() if os.path.exists(scen) else None
            if old != text:
                with open(scen, "w") as f:
                    f.write(text)
            cmd = [args.bfbench, "run", scen, "--db", harness_db(args, seed)]
            if os.path.exists(harness_db(args, seed)):
                cmd.append("--resume")
            if harness_complete(args, seed):
                say(f"harness seed {seed}: complete in "
                    f"{harness_db(args, seed)}, not rerun")
            else:
                before = None
                if args.shared_teacher:
                    def before(seed=seed):
                        export_shared_teacher(args, seed)
                    if not os.path.exists(peer_teacher(args, seed)) and \
                            seed not in peer_jobs:
                        sys.exit(f"fidelity: harness seed {seed} needs the "
                                 f"peer's teacher {peer_teacher(args, seed)}"
                                 f" (run the peer side too)")
                jobs.append(Job("harness", seed, cmd, None, os.path.join(
                    args.workdir, f"harness-s{seed}.log"),
                    after=peer_jobs.get(seed) if args.shared_teacher
                    else None, before=before))
    if not args.shared_teacher:
        # Alternate the sides, as before: seed 1's pair runs first.
        jobs.sort(key=lambda j: (j.seed, j.side))
    return jobs


def check_settings(args, write=True):
    """Keep a workdir to one set of settings, so that a rerun resumes
    rather than mixing results of different budgets (and a report reads
    them with the settings that made them)."""
    keys = BUDGET_KEYS + ["model", "split_seed", "freeze_encoder",
                          "bn_policy", "harness_frozen_bn_train",
                          "data_dir", "shared_teacher"]
    now = {k: getattr(args, k) for k in keys}
    path = os.path.join(args.workdir, "settings.json")
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        if old != now:
            sys.exit(f"fidelity: {args.workdir} holds results of other "
                     f"settings ({path}: {json.dumps(old)}); use another "
                     f"--workdir, or those settings")
        return
    if not write:
        return
    with open(path, "w") as f:
        json.dump(now, f, indent=1)


def run_jobs(args, jobs):
    pending, running, failed = list(jobs), [], []
    t0 = time.time()
    last_status = time.time()
    while pending or running:
        for job in list(pending):
            if job.after is not None and job.after.rc not in (None, 0):
                pending.remove(job)
                failed.append(job)
                say(f"{job.side} seed {job.seed}: not run, "
                    f"{job.after.side} seed {job.after.seed} failed")
        while len(running) < args.jobs:
            ready = [j for j in pending
                     if j.after is None or j.after.rc == 0]
            if not ready:
                break
            job = ready[0]
            pending.remove(job)
            job.launch(args.nice)
            running.append(job)
        if not running and pending:
            break
        time.sleep(2)
        for job in list(running):
            rc = job.proc.poll()
            if rc is None:
                continue
            job.rc = rc
            running.remove(job)
            secs = time.time() - job.start
            done = len(jobs) - len(pending) - len(running)
            say(f"{job.side} seed {job.seed} finished, rc {rc}, "
                f"{secs / 60:.1f} min ({done}/{len(jobs)} jobs done, "
                f"{(time.time() - t0) / 60:.1f} min so far)")
            if rc != 0:
                failed.append(job)
                say(f"  last log line: {job.last_line()}")
        if running and time.time() - last_status >= args.status_every:
            last_status = time.time()
            for job in running:
                say(f"  {job.side} seed {job.seed} "
                    f"({(time.time() - job.start) / 60:.1f} min): "
                    f"{job.last_line()}")
    return failed


# Results

def read_peer(args, seed):
    rows = {}
    path = peer_out(args, seed)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            rows[(r["strategy"], r["channels"])] = r
    return list(rows.values())


def harness_complete(args, seed):
    got = {(r["strategy"], r["channels"]) for r in read_harness(args, seed)}
    return all(w in got for w in wanted(args))


def read_harness(args, seed):
    path = harness_db(args, seed)
    if not os.path.exists(path):
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = db.execute(
            "SELECT c.id, c.strategy, c.bottleneck_channels, c.seed, "
            "c.params, c.head_params, a.top1, a.n FROM cases c "
            "JOIN accuracy a ON a.case_id = c.id "
            "WHERE c.status = 'finished' AND a.variant = 'fp32' "
            "AND a.split = 'test' AND c.model = ? ORDER BY c.id",
            (args.model,))
        rows = {}
        for cid, strategy, ch, s, params, head, top1, n in cur.fetchall():
            if strategy == "teacher" and args.shared_teacher:
                # The loaded teacher's row carries the scenario's seed.
                s = seed
            if strategy not in args.strategies or s != seed:
                continue
            channels = None if strategy == "teacher" else ch
            if channels is not None and channels not in args.channels:
                continue
            best = db.execute(
                "SELECT phase, epoch FROM epochs WHERE case_id = ? AND "
                "best = 1 ORDER BY seq DESC LIMIT 1", (cid,)).fetchone()
            q = db.execute(
                "SELECT top1 FROM accuracy WHERE case_id = ? AND variant = "
                "'int8' AND split = 'test'", (cid,)).fetchone()
            rows[(strategy, channels)] = {
                "side": "harness", "strategy": strategy, "channels": channels,
                "seed": s, "params": params, "head_params": head,
                "top1_fp32": top1, "top1_int8": q[0] if q else None,
                "n_test": n, "chosen_phase": best[0] if best else None,
                "chosen_epoch": best[1] if best else None}
    except sqlite3.Error as exc:
        say(f"harness seed {seed}: cannot read {path}: {exc}")
        return []
    finally:
        db.close()
    return list(rows.values())


def zoo_params(args):
    """The model's parameter count in `bfbench models` (None when bfbench
    is not there)."""
    if not os.path.exists(args.bfbench):
        return None
    out = subprocess.run([args.bfbench, "-q", "models"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        words = line.split()
        if len(words) > 3 and words[0] == args.model:
            return int(words[3])
    return None


def fmt(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def report(args):
    results = {"harness": {}, "peer": {}}
    for seed in args.seeds:
        for r in read_harness(args, seed):
            results["harness"].setdefault(
                (r["strategy"], r["channels"]), []).append(r)
        for r in read_peer(args, seed):
            if r["strategy"] in args.strategies and (
                    r["channels"] is None or r["channels"] in args.channels):
                results["peer"].setdefault(
                    (r["strategy"], r["channels"]), []).append(r)
    budget = {k: getattr(args, k) for k in BUDGET_KEYS}
    how = ("paired interval over the seeds (both sides distil from the "
           "same teacher per seed, the peer's, loaded by bfbench; the "
           "teacher row compares the two evaluations of that one model)"
           if args.shared_teacher else
           "Student (pooled) interval" if args.pooled else
           "Welch interval (each side trains its own teachers)")
    print()
    print(f"Fidelity: bfbench against the PyTorch peer, {args.model}, seeds "
          f"{','.join(map(str, args.seeds))} (split seed {args.split_seed}), "
          f"budget {args.budget} {json.dumps(budget)}, peer bn policy "
          f"{args.bn_policy}, bfbench frozen_bn_train "
          f"{str(args.harness_frozen_bn_train).lower()}, freeze_encoder "
          f"{str(args.freeze_encoder).lower()}; test top-1 (fp32, %); "
          f"difference = bfbench - peer with its 95 % "
          f"{how}; "
          f"target: the interval contains 0 and |difference| <= "
          f"{args.tolerance}.")
    print()
    print("| strategy | C | n bfbench | n peer | bfbench mean (sd) "
          "| peer mean (sd) | difference | 95 % interval | df | verdict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: "
          "| --- |")
    summary = []
    for key in wanted(args):
        h = [r["top1_fp32"] for r in results["harness"].get(key, [])]
        p = [r["top1_fp32"] for r in results["peer"].get(key, [])]
        strategy, c = key
        row = {"strategy": strategy, "channels": c, "harness": h, "peer": p}
        if not h or not p:
            verdict = "missing results"
            print(f"| {strategy} | {c or '-'} | {len(h)} | {len(p)} | "
                  f"{fmt(mean_sd(h)[0]) if h else '-'} | "
                  f"{fmt(mean_sd(p)[0]) if p else '-'} | - | - | - | "
                  f"{verdict} |")
            row["verdict"] = verdict
            summary.append(row)
            continue
        if args.shared_teacher:
            hs = {r["seed"]: r["top1_fp32"]
                  for r in results["harness"].get(key, [])}
            ps = {r["seed"]: r["top1_fp32"]
                  for r in results["peer"].get(key, [])}
            diff, ci, df = paired_interval(
                [hs[k] - ps[k] for k in sorted(hs) if k in ps])
        else:
            diff, ci, df = diff_interval(h, p, args.pooled)
        if ci is None:
            verdict = "too few seeds for an interval"
        elif not ci[0] <= 0.0 <= ci[1]:
            verdict = "misses target: interval excludes 0"
        elif abs(diff) > args.tolerance:
            verdict = f"misses target: difference beyond +/-{args.tolerance}"
        else:
            verdict = "meets target"
        mh, sh = mean_sd(h)
        mp, sp = mean_sd(p)
        print(f"| {strategy} | {c or '-'} | {len(h)} | {len(p)} | "
              f"{mh:.2f} ({sh:.2f}) | {mp:.2f} ({sp:.2f}) | {diff:+.2f} | "
              f"{'-' if ci is None else f'[{ci[0]:+.2f}, {ci[1]:+.2f}]'} | "
              f"{fmt(df, 1)} | {verdict} |")
        row.update(difference=diff, interval=ci, df=df, verdict=verdict)
        summary.append(row)

    print()
    print("Per seed (test top-1 %, chosen phase/epoch), bfbench | peer:")
    print()
    print("| strategy | C | seed | bfbench | peer |")
    print("| --- | ---: | ---: | --- | --- |")
    for key in wanted(args):
        by_seed = {}
        for side in ("harness", "peer"):
            for r in results[side].get(key, []):
                by_seed.setdefault(r["seed"], {})[side] = r
        for seed in sorted(by_seed):
            cells = []
            for side in ("harness", "peer"):
                r = by_seed[seed].get(side)
                cells.append("-" if not r else
                             f"{r['top1_fp32']:.2f} ({r['chosen_phase']} "
                             f"{r['chosen_epoch']})")
            print(f"| {key[0]} | {key[1] or '-'} | {seed} | {cells[0]} | "
                  f"{cells[1]} |")

    print()
    print("Parameter counts (total / head on the device), bfbench | peer:")
    print()
    print("| strategy | C | bfbench | peer | same |")
    print("| --- | ---: | --- | --- | --- |")
    mismatches = 0
    for key in wanted(args):
        h = results["harness"].get(key, [])
        p = results["peer"].get(key, [])
        if not h or not p:
            continue
        hc = (h[0]["params"], h[0]["head_params"])
        if key[0] == "teacher" and not hc[0]:
            # The teacher's case row carries no counts: `bfbench models`.
            hc = (zoo_params(args), None)
        pc = (p[0]["params"], p[0]["head_params"])
        comparable = [(a, b) for a, b in zip(hc, pc)
                      if a not in (None, 0, -1) and b is not None]
        same = all(a == b for a, b in comparable)
        mismatches += 0 if same else 1
        print(f"| {key[0]} | {key[1] or '-'} | {hc[0]} / {hc[1]} | "
              f"{pc[0]} / {pc[1]} | "
              f"{('yes' if same else 'NO') if comparable else 'n/a'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"budget": budget, "seeds": args.seeds,
                       "model": args.model, "rows": summary,
                       "parameter_mismatches": mismatches}, f, indent=1)
    return summary, mismatches


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bfbench", default="build/bfbench")
    ap.add_argument("--model", default="resnet_mini",
                    choices=["resnet_mini", "densenet_mini"])
    ap.add_argument("--strategies",
                    default="teacher,naive,ghnd-ft,bottlefit,ae-split",
                    help="comma list: teacher and any of " +
                    ", ".join(STUDENTS) + " (default teacher, naive, "
                    "ghnd-ft, bottlefit, ae-split)")
    ap.add_argument("--channels", default="3",
                    help="comma list of bottleneck channels (default 3)")
    ap.add_argument("--seeds", default="1,2,3",
                    help="comma list of training seeds (default 1,2,3)")
    ap.add_argument("--split-seed", type=int, default=1,
                    help="the scenarios' `seed`: data split and subsets, "
                    "the same for every seed (default 1)")
    ap.add_argument("--budget", default="small", choices=list(BUDGETS))
    for k in BUDGET_KEYS:
        ap.add_argument("--" + k.replace("_", "-"), type=int,
                        help=f"override the budget's {k}")
    ap.add_argument("--freeze-encoder", default=True,
                    action=argparse.BooleanOptionalAction,
                    help="ghnd-ft / ghnd-kd with the encoder frozen in "
                    "stage 2 (default; the reference's *-finetune)")
    ap.add_argument("--bn-policy", default="reference",
                    choices=["reference", "all-train", "frozen-eval"],
                    help="the peer's BatchNorm policy (default reference)")
    ap.add_argument("--harness-frozen-bn-train", default=True,
                    action=argparse.BooleanOptionalAction,
                    help="bfbench's frozen_bn_train (default true, its own "
                    "default)")
    ap.add_argument("--shared-teacher", default=True,
                    action=argparse.BooleanOptionalAction,
                    help="both sides distil from the peer's teacher of each "
                    "seed (exported to bfbench's format), "
                    "so that the students' differences are the recipes', "
                    "paired by seed (default); --no-shared-teacher: each "
                    "side trains its own teacher and the sides are "
                    "compared as independent samples (Welch)")
    ap.add_argument("--data-dir", default=DEFAULT_DATA)
    ap.add_argument("--workdir", default="results/peer/fidelity",
                    help="outputs (default results/peer/fidelity, ignored by git)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="jobs at a time (default 2)")
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads per job (default 1)")
    ap.add_argument("--nice", type=int, default=10,
                    help="nice level of the jobs (default 10; 0: none)")
    ap.add_argument("--sides", default="harness,peer",
                    help="which sides to run (default both)")
    ap.add_argument("--tolerance", type=float, default=0.5,
                    help="largest |difference| that meets the target, "
                    "points (default 0.5)")
    ap.add_argument("--pooled", action="store_true",
                    help="Student's pooled-variance interval instead of "
                    "Welch's")
    ap.add_argument("--status-every", type=float, default=120.0,
                    help="seconds between progress lines (default 120)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: report what --workdir holds")
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--self-test", action="store_true",
                    help="check the t quantiles and exit")
    args = ap.parse_args(argv)
    if args.self_test:
        return args
    for k in BUDGET_KEYS:
        if getattr(args, k) is None:
            setattr(args, k, BUDGETS[args.budget][k])
        if getattr(args, k) < 0:
            ap.error(f"--{k.replace('_', '-')}: not negative")
    args.strategies = [s for s in args.strategies.split(",") if s]
    for s in args.strategies:
        if s != "teacher" and s not in STUDENTS:
            ap.error(f"--strategies: {s!r} is not teacher or one of "
                     f"{', '.join(STUDENTS)}")
    if not any(s != "teacher" for s in args.strategies):
        ap.error("--strategies: at least one student strategy (bfbench "
                 "trains its teacher for its students)")
    try:
        args.channels = [int(c) for c in args.channels.split(",") if c]
        args.seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        ap.error("--channels and --seeds are comma lists of integers")
    if not args.channels or not args.seeds:
        ap.error("--channels and --seeds need at least one value")
    args.sides = [s for s in args.sides.split(",") if s]
    if not set(args.sides) <= {"harness", "peer"} or not args.sides:
        ap.error("--sides: harness and/or peer")
    if args.jobs < 1 or args.threads < 1:
        ap.error("--jobs and --threads: at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.report_only:
        if "harness" in args.sides and not os.path.exists(args.bfbench):
            sys.exit(f"fidelity: {args.bfbench} not found (build it, or "
                     f"--bfbench PATH)")
        os.makedirs(args.workdir, exist_ok=True)
        check_settings(args)
        jobs = make_jobs(args)
        names = ", ".join(f"{j.side} seed {j.seed}" for j in jobs)
        say(f"{len(jobs)} job(s): {names or 'none'}; "
            f"{args.jobs} at a time, {args.threads} thread(s) each, "
            f"budget {args.budget}, workdir {args.workdir}")
        failed = run_jobs(args, jobs)
        for job in failed:
            say(f"FAILED: {job.side} seed {job.seed}, see {job.log_path}")
    else:
        check_settings(args, write=False)
    summary, mismatches = report(args)
    missing = any(r["verdict"] == "missing results" for r in summary)
    return 2 if missing or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
