#!/usr/bin/env bash
# The quick suite's training recipe on a second data set it was not tuned
# on: "glyph digits" (scripts/data/make_glyph_idx.py: the digits 0-9 drawn
# in the 22 DejaVu faces with random size, rotation, shear, shift, stroke
# width, blur, noise and an occluding stroke; 28x28 grey, IDX files).
#
#   scripts/other-dataset.sh [--threads N]
#
# Makes the data under results/data/glyphs (once), writes
# results/data/glyphs/quick-train.yaml: scenarios/quick/train.yaml with
# only `name`, `dataset: idx` and `data_dir` changed, runs it into
# results/glyphs.db (resuming), then prints the report. About 15 minutes
# on 2 cores. Environment: BF_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

threads=()
while [ $# -gt 0 ]; do
    case "$1" in
    --threads)
        [ $# -ge 2 ] || { echo "other-dataset: --threads needs a value" >&2; exit 2; }
        threads=(--threads "$2")
        shift 2
        ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "other-dataset: unknown argument '$1' (try --help)" >&2
        exit 2
        ;;
    esac
done
build=${BF_BUILD_DIR:-build}
data=results/data/glyphs
if [ ! -x "$build/bfbench" ]; then
    echo "other-dataset: $build/bfbench missing: run scripts/test.sh or" \
        "scripts/reproduce.sh first" >&2
    exit 2
fi
if [ ! -s "$data/t10k-labels-idx1-ubyte.gz" ]; then
    /usr/bin/python3 scripts/data/make_glyph_idx.py --out "$data"
fi
sed -e 's/^name: .*/name: glyphs-quick-train/' \
    -e 's/^dataset: .*/dataset: idx\ndata_dir: ./' \
    scenarios/quick/train.yaml >"$data/quick-train.yaml"
grep -q '^dataset: idx' "$data/quick-train.yaml" || {
    echo "other-dataset: scenarios/quick/train.yaml has no dataset line" >&2
    exit 1
}
export OPENBLAS_NUM_THREADS=1
"$build/bfbench" run "$data/quick-train.yaml" --db results/glyphs.db \
    --resume "${threads[@]}"
"$build/bfbench" report --db results/glyphs.db
