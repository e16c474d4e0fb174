#!/usr/bin/env bash
# The main job: install what is missing (Debian packages), build, run the
# default scenario, print the summary and where the results DB is.
#
#   scripts/reproduce.sh [SCENARIO]     default: scenarios/host-local.yaml
#
# Environment: BF_DB (default results/bench.db), BF_THREADS (default: the
# scenario's), BF_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=${1:-scenarios/host-local.yaml}
db=${BF_DB:-results/bench.db}
build=${BF_BUILD_DIR:-build}

bash scripts/setup.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target bfbench

# OpenBLAS must not start its own threads on top of torch's.
export OPENBLAS_NUM_THREADS=1
args=(run "$scenario" --db "$db")
if [ -n "${BF_THREADS:-}" ]; then
    args+=(--threads "$BF_THREADS")
fi
status=0
"$build/bfbench" "${args[@]}" || status=$?
echo
echo "reproduce: results DB: $db (tables: bfbench report --db $db)"
exit "$status"
