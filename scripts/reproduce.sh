#!/usr/bin/env bash
# The main job: install what is missing (Debian packages), build, run the
# suite, then print the claims table of the BottleFit abstract next to the
# harness's values and render the figures.
#
#   scripts/reproduce.sh [quick|paper|SCENARIO] [--force]
#
#   quick      scenarios/quick.yaml (the default): everything, small;
#              about 20 minutes on 2 cores
#   paper      scenarios/paper.yaml: the paper's epochs and channel sweep
#              on a Fashion-MNIST subset, three seeds where the claims
#              use them, both network sweeps; about 3 h 45 min on 2 cores
#   SCENARIO   any scenario or suite file
#   --force    run every case again in a new run; without it a rerun
#              resumes the newest run of each scenario file in the DB:
#              cases already complete (by case hash) are skipped, and a
#              run killed or interrupted (Ctrl-C) continues where it
#              stopped
#
# Environment: BF_DB (default results/<name>.db for quick and paper, so
# that the claims and figures read that suite's runs only; else
# results/bench.db), BF_THREADS (default: the scenario's), BF_BUILD_DIR
# (default build), BF_FIGURES (default results/figures/<name> or
# results/figures).
set -euo pipefail
cd "$(dirname "$0")/.."

target=quick
force=0
for arg in "$@"; do
    case "$arg" in
    --force) force=1 ;;
    -h | --help)
        sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "reproduce: unknown option '$arg' (try --help)" >&2
        exit 2
        ;;
    *) target=$arg ;;
    esac
done
case "$target" in
quick | paper)
    scenario=scenarios/$target.yaml
    db=${BF_DB:-results/$target.db}
    figures=${BF_FIGURES:-results/figures/$target}
    ;;
*)
    scenario=$target
    db=${BF_DB:-results/bench.db}
    figures=${BF_FIGURES:-results/figures}
    ;;
esac
if [ ! -r "$scenario" ]; then
    echo "reproduce: cannot read scenario '$scenario'" >&2
    exit 2
fi
build=${BF_BUILD_DIR:-build}

bash scripts/setup.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target bfbench

# OpenBLAS must not start its own threads on top of torch's.
export OPENBLAS_NUM_THREADS=1
args=(run "$scenario" --db "$db")
if [ "$force" = 0 ]; then
    args+=(--resume)
fi
if [ -n "${BF_THREADS:-}" ]; then
    args+=(--threads "$BF_THREADS")
fi
status=0
"$build/bfbench" "${args[@]}" || status=$?
if [ "$status" = 130 ]; then
    echo "reproduce: interrupted; the DB is consistent, rerun to resume" >&2
    exit "$status"
fi

echo
"$build/bfbench" report --paper --db "$db" || status=$?
echo
echo "reproduce: figures:"
"$build/bfbench" plot --db "$db" --out "$figures" || status=$?
echo
echo "reproduce: results DB: $db (tables: $build/bfbench report --db $db" \
    "--run all)"
exit "$status"
