#!/usr/bin/env bash
# The Slurm path end to end on a real single-node cluster on 127.0.0.1
# (scripts/slurm/cluster.sh): the CI suite submitted by
# scripts/slurm/sweep.sh as a teachers job, a 3-task array after it and
# the merge job that depends on the array; the merged DB must hold the
# same cases as the unsharded baseline (results/reference/ci-tiny.db, one
# run of the same suite) and
# pass `bfbench compare` against it (exact where the platform is the
# baseline's, else judged by compare's rules; timings not judged: three
# tasks share two cores). Outputs are checked, not only job states (a job
# whose plugins failed can read COMPLETED without having run).
#
#   tests/test_slurm.sh BFBENCH
#
# Exit 77 (ctest: skipped, shown as such) where not root; 1 on a failure.
set -euo pipefail

bfbench=${1:?usage: tests/test_slurm.sh BFBENCH}
bfbench=$(cd "$(dirname "$bfbench")" && pwd)/$(basename "$bfbench")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIPPED: the Slurm test needs root (slurmd, munged)"
    exit 77
fi
for prog in munged slurmctld slurmd sbatch scontrol sqlite3; do
    if ! command -v "$prog" >/dev/null; then
        echo "FAILED: $prog missing; BF_SETUP_SLURM=1 scripts/setup.sh" \
            "installs slurmctld, slurmd, slurm-client and munge" >&2
        exit 1
    fi
done

tmp=$(mktemp -d /tmp/bf_test_slurm.XXXXXX)
cleanup() {
    bash scripts/slurm/cluster.sh down "$tmp/cluster" >/dev/null 2>&1 || true
    if [[ -z "${BF_KEEP_TMP:-}" ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() {
    echo "FAILED: $*" >&2
    for f in "$tmp"/sweep/logs/*.out "$tmp"/cluster/log/*.log; do
        [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

start=$SECONDS
# A port of its own, so that a cluster left over elsewhere is not hit.
export BF_SLURM_PORT=$((20000 + RANDOM % 20000))
bash scripts/slurm/cluster.sh up "$tmp/cluster" || fail "cluster up"
eval "$(bash scripts/slurm/cluster.sh env "$tmp/cluster")"
up=$((SECONDS - start))

bash scripts/slurm/sweep.sh scenarios/ci/tiny.yaml --shards 3 \
    --cpus-per-task 1 --out "$tmp/sweep" --bfbench "$bfbench" \
    -- --repetitions 1 || fail "sweep.sh"
# shellcheck disable=SC1091
source "$tmp/sweep/jobs.txt"

# Wait for the merge job to end (bounded: 600 s).
state=""
for ((i = 0; i < 1200; i++)); do
    state=$(scontrol show job "$merge_job" 2>/dev/null |
        sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1)
    case "$state" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
            break
            ;;
    esac
    sleep 0.5
done
[[ "$state" == COMPLETED ]] || fail "merge job $merge_job: '${state:-gone}'"
[[ -s "$tmp/sweep/teachers.db" ]] || fail "the teachers job wrote no DB"
for ((k = 1; k <= shards; k++)); do
    [[ -s "$tmp/sweep/shard-$k.db" ]] || fail "shard $k wrote no DB"
done
grep -q "^merged into" "$tmp/sweep/logs/merge.out" ||
    fail "the merge job did not merge"
merged=$tmp/sweep/merged.db

# Case for case the unsharded run: the same case hashes.
hashes="SELECT group_concat(h, ',') FROM (SELECT DISTINCT case_hash AS h
        FROM cases WHERE status = 'finished' ORDER BY h)"
base_hashes=$(sqlite3 results/reference/ci-tiny.db "$hashes")
merged_hashes=$(sqlite3 "$merged" "$hashes")
[[ -n "$base_hashes" && "$base_hashes" == "$merged_hashes" ]] ||
    fail "case hashes differ: baseline $base_hashes, merged $merged_hashes"
runs=$(sqlite3 "$merged" "SELECT count(*) FROM runs WHERE status = 'finished'")
[[ "$runs" == 2 ]] || fail "$runs finished runs in the merged DB, not 2"
sources=$(sqlite3 "$merged" "SELECT count(*) FROM merges")
[[ "$sources" == $((2 * shards)) ]] ||
    fail "$sources merges rows, not $((2 * shards)) (2 runs x $shards shards)"
"$bfbench" compare --timings skip results/reference/ci-tiny.db "$merged" \
    >"$tmp/compare.txt" 2>&1 || {
    cat "$tmp/compare.txt" >&2
    fail "bfbench compare: the merged run is not the baseline's"
}
# Read as one run: the report names its sources, figures and the paper's
# claims come from it.
"$bfbench" report --db "$merged" --run all >"$tmp/report.txt" 2>&1 ||
    fail "report of the merged DB"
grep -q "merged from" "$tmp/report.txt" || fail "the report names no sources"
"$bfbench" plot --db "$merged" --out "$tmp/figs" >/dev/null 2>&1 ||
    fail "plot of the merged DB"
"$bfbench" report --paper --db "$merged" >/dev/null 2>&1 ||
    fail "report --paper of the merged DB"
echo "slurm: cluster up in ${up} s; teachers job, $shards-task array and merge in" \
    "$((SECONDS - start - up)) s; $(tail -n 1 "$tmp/compare.txt")"
echo "PASSED"
