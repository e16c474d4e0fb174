#!/usr/bin/env bash
# The benchmark behind `bfbench compare`'s thresholds (REPRODUCE.md, "CI
# regression checks"): how far the CI suite's numbers move across kernel
# settings and seeds, how often compare raises a false alarm over unchanged
# reruns, and whether it catches each injected regression.
#
#   scripts/ci_compare_bench.sh [--reruns N] [--out DIR] [--build DIR]
#                               [--steps reruns,seeds,faults]
#
#   1. BASE: the CI suite (scenarios/ci/tiny.yaml) with this machine's
#      kernels.
#   2. For each kernel setting (this machine's; ATen default + OpenBLAS
#      Sandybridge; ATen AVX2 + oneDNN AVX2 + OpenBLAS Haswell), N
#      unchanged reruns (default 10), each compared with BASE in auto mode
#      (exact for this machine's setting, timings judged; statistical for
#      the others). The suite's teacher is a committed checkpoint: only
#      the students train.
#   3. The training member with `seeds: [1, 2, 3]` (one run, the same test
#      images): the spread across seeds, as `bfbench report` summarises it.
#   4. Each regression bfbench_faults injects (tests/bf_faults.c) and a
#      dropped case, compared with BASE in statistical mode.
#
# Prints Markdown tables; every DB stays under DIR (default
# /tmp/bf-ci-bench). --steps runs only the steps named (BASE is kept in DIR
# and reused when present). Needs a build with tests (scripts/test.sh
# makes one).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

reruns=10
out=/tmp/bf-ci-bench
build=build
steps=reruns,seeds,faults
while [ $# -gt 0 ]; do
    case "$1" in
    --reruns) reruns=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "ci_compare_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$reruns" in
'' | *[!0-9]*) echo "ci_compare_bench: --reruns: '$reruns' is not a count" >&2; exit 2 ;;
esac
bf=$build/bfbench
faults=$build/bfbench_faults
for b in "$bf" "$faults"; do
    [ -x "$b" ] || { echo "ci_compare_bench: $b missing: run scripts/test.sh first" >&2; exit 3; }
done
export OPENBLAS_NUM_THREADS=1
step() { case ",$steps," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for s in ${steps//,/ }; do
    case "$s" in reruns | seeds | faults) ;; *) echo "ci_compare_bench: --steps: unknown step '$s'" >&2; exit 2 ;; esac
done
if step reruns; then rm -rf "$out"; fi
mkdir -p "$out"

settings=(native isa-default isa-avx2)
setting_env() {
    case "$1" in
    native) echo "" ;;
    isa-default) echo "ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Sandybridge" ;;
    isa-avx2) echo "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell" ;;
    esac
}
run_suite() { # env-assignments db scenario [fault]
    local envs=$1 db=$2 scenario=$3 fault=${4:-}
    mkdir -p "$(dirname "$db")"
    if [ -n "$fault" ]; then
        env $envs BF_FAULT="$fault" "$faults" -q run --db "$db" "$scenario" >"$db.log" 2>&1
    else
        env $envs "$bf" -q run --db "$db" "$scenario" >"$db.log" 2>&1
    fi
}
verdict() { # compare output -> "PASS|REGRESSION mode worse slower differ"
    sed -n 's/^compare: \([a-z]*\) mode.* \([0-9]*\) differ, [0-9]* judged ok, \([0-9]*\) worse, \([0-9]*\) slower.*result: \([A-Z]*\)$/\5 \1 \3 \4 \2/p'
}

if [ ! -f "$out/base/ci.db" ]; then
    echo "ci_compare_bench: BASE" >&2
    run_suite "" "$out/base/ci.db" scenarios/ci/tiny.yaml
fi

if step reruns; then
echo
echo "## False alarms: $reruns unchanged reruns per kernel setting, against BASE"
echo
echo "| setting | reruns | mode | PASS | false alarms | worse | slower | differ | largest timing ratio, either way (medians >= 0.1 ms) |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for s in "${settings[@]}"; do
    pass=0 alarms=0 worse=0 slower=0 differ=0 mode=- maxratio=0
    for r in $(seq 1 "$reruns"); do
        echo "ci_compare_bench: $s rerun $r/$reruns" >&2
        db=$out/$s/r$r.db
        run_suite "$(setting_env "$s")" "$db" scenarios/ci/tiny.yaml
        set +e
        "$bf" compare "$out/base/ci.db" "$db" >"$db.compare" 2>"$db.compare.err"
        set -e
        read -r res mode w sl d < <(verdict <"$db.compare")
        if [ "$res" = PASS ]; then pass=$((pass + 1)); else alarms=$((alarms + 1)); fi
        worse=$((worse + w)) slower=$((slower + sl)) differ=$((differ + d))
        # The largest ratio of medians, either way, of a timing row over
        # 0.1 ms (the noise that time.ratio must stay above).
        maxratio=$(awk -v m="$maxratio" '/ time\.(reps|mwu) / && $4 + 0 >= 0.1 { for (i = 1; i <= NF; i++) if ($i ~ /^x[0-9.]+$/) { r = substr($i, 2) + 0; if (r > 0 && r < 1) r = 1 / r; if (r > m) m = r } } END { printf "%.2f", m }' "$db.compare")
    done
    echo "| $s \`$(setting_env "$s")\` | $reruns | $mode | $pass | $alarms | $worse | $slower | $differ | x$maxratio |"
done

fi

if step seeds; then
echo
echo "## Spread across seeds (test top-1 and top-5, %; one run, seeds 1, 2, 3, the same 1,000 test images)"
echo
echo "ci_compare_bench: seeds 1, 2, 3" >&2
# The teacher's path made absolute: the copy lives under DIR.
sed -e "s|^seed: 1$|seed: 1\nseeds: [1, 2, 3]|" scenarios/ci/tiny-train.yaml \
    -e "s|\.\./\.\./results/|$PWD/results/|" >"$out/seeds.yaml"
run_suite "" "$out/seeds/train.db" "$out/seeds.yaml"
"$bf" report --db "$out/seeds/train.db" --format md 2>/dev/null |
    sed -n '/^accuracy across seeds/,/^$/p'
fi

if step faults; then
echo
echo "## Injected regressions, compared with BASE in statistical mode"
echo
echo "| regression | caught | rules that fired |"
echo "| --- | --- | --- |"
for f in quant-level channels lr-100x forward-2x link-2x dropped-case; do
    echo "ci_compare_bench: fault $f" >&2
    db=$out/base/fault-$f.db
    if [ "$f" = dropped-case ]; then
        mkdir -p "$(dirname "$db")"
        cp "$out/native/r1.db" "$db"
        sqlite3 "$db" "CREATE TEMP TABLE gone AS SELECT id FROM cases WHERE config = 'ae-split' AND strategy IS NULL; DELETE FROM samples WHERE case_id IN gone; DELETE FROM aggregates WHERE case_id IN gone; DELETE FROM accuracy WHERE case_id IN gone; DELETE FROM device_results WHERE case_id IN gone; DELETE FROM cases WHERE id IN gone;"
    else
        run_suite "" "$db" scenarios/ci/tiny.yaml "$f"
    fi
    set +e
    "$bf" compare --mode statistical "$out/base/ci.db" "$db" >"$db.compare" 2>&1
    rc=$?
    set -e
    rules=$(grep -E ' (DIFFERS|WORSE|OFF|SLOWER|MISSING)$' "$db.compare" | awk '{ print $(NF-1) ":" $NF }' | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
    echo "| $f | $([ $rc = 1 ] && echo yes || echo "NO (exit $rc)") | ${rules:-none} |"
done
fi
echo
echo "ci_compare_bench: done in $(( $(date +%s) - started )) s; DBs and compare outputs in $out" >&2
