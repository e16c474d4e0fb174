#!/usr/bin/env bash
# The BottleFit-against-baselines table of the advantage suite
# (scenarios/advantage.yaml, training-fidelity issue item 4) as Markdown,
# from its results DB: per member run (one model, one budget), per
# baseline and C, the 8-bit bottleneck's test top-1 of BottleFit and of the
# baseline over the seeds, the paired difference with its 95 % interval
# and p-value (`bfbench report --versus`: paired t over seeds, McNemar on
# the test images where one seed is in so far), the bytes
# each sends per image and each head's parameters.
#
#   scripts/advantage-table.sh [DB]    (default results/advantage.db)
#
# Reads the DB only. A paper member is compared inside its run; an
# equal-budget member (baselines only) against the BottleFit cases of the
# same model's paper member (`--versus bottlefit@P BASELINE@E`, run
# "P+E"): BottleFit's 10 + 10 epochs against the baselines' 20, the same
# SGD steps. Rows with fewer than three seeds are marked: the suite is
# still running, or a case failed. A second table pairs BottleFit with the
# autoencoder split at about equal bytes (`--match bytes`: the split's C of
# nearest bytes per image, as it sends C x 10 x 10 against C x 8 x 8).
set -euo pipefail
cd "$(dirname "$0")/.."

db=${1:-results/advantage.db}
bf=${BFBENCH:-build/bfbench}
if [[ "$db" == -h || "$db" == --help ]]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
if [[ ! -f "$db" ]]; then
    echo "advantage-table: $db: no such results DB" >&2
    exit 3
fi
runs=$(sqlite3 -readonly "$db" "SELECT id || ' ' || scenario_name FROM runs
    WHERE scenario_name LIKE 'advantage-%' ORDER BY id")
if [[ -z "$runs" ]]; then
    echo "advantage-table: $db has no advantage-* run" >&2
    exit 3
fi
echo "| member (run) | model | C | baseline | seeds | BottleFit top-1 | baseline top-1 | BottleFit - baseline | 95 % interval | p (test) | verdict at 0.05 | bytes/image BottleFit / baseline | head params BottleFit / baseline |"
echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |"
# One comparison's rows: run selection, side A, side B, member label,
# then "bytes" to pair at the nearest bytes (the C column then reads
# "BottleFit C / baseline C").
rows() {
    local match=c
    [[ "${5:-}" == bytes ]] && match=bytes
    "$bf" -q report --db "$db" --run "$1" --versus "$2" "$3" --format csv \
        --match "$match" 2>/dev/null |
        awk -F, -v member="$4" -v match_bytes="$match" '
            { sub(/\r$/, "") }  # CSV records end in CRLF
            NR > 1 && $5 == "int8" {
                mark = ($8 < 3) ? " (of 3)" : ""
                v = $16
                sub(/^A better$/, "BottleFit better", v)
                sub(/^B better$/, "baseline better", v)
                c = (match_bytes == "bytes") ? $4 " / " $21 : $4
                printf "| %s | %s | %s | %s | %s%s | %s | %s | %s | [%s, %s] | %s (%s) | %s | %s / %s | %s / %s |\n",
                    member, $3, c, $2, $8, mark, $9, $10, $11, $12,
                    $13, $15, $14, v, $17, $18, $19, $20
            }' || true
}

# An equal-budget member holds only baselines: they meet the BottleFit
# cases of the same model's paper member (10 + 10 epochs at batch 64, the
# same SGD steps), that run's side pinned with STRATEGY@RUN.
declare -A paper_run
while read -r id name; do
    [[ "$name" == *-paper ]] && paper_run[${name%-paper}]=$id
done <<<"$runs"
while read -r id name; do
    if [[ "$name" == *-equal ]]; then
        p=${paper_run[${name%-equal}]:-}
        [[ -n "$p" ]] || continue
        for b in naive kd hnd ae-split; do
            rows all "bottlefit@$p" "$b@$id" "${name#advantage-} ($p+$id)"
        done
    else
        for b in naive kd hnd ghnd-ft ae-split; do
            rows "$id" bottlefit "$b" "${name#advantage-} ($id)"
        done
    fi
done <<<"$runs"

# BottleFit against the autoencoder split at about equal bytes.
echo
echo "| member (run) | model | C BottleFit / ae-split | baseline | seeds | BottleFit top-1 | baseline top-1 | BottleFit - baseline | 95 % interval | p (test) | verdict at 0.05 | bytes/image BottleFit / baseline | head params BottleFit / baseline |"
echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |"
while read -r id name; do
    if [[ "$name" == *-equal ]]; then
        p=${paper_run[${name%-equal}]:-}
        [[ -n "$p" ]] || continue
        rows all "bottlefit@$p" "ae-split@$id" "${name#advantage-} ($p+$id)" bytes
    else
        rows "$id" bottlefit ae-split "${name#advantage-} ($id)" bytes
    fi
done <<<"$runs"
