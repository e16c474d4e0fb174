#!/usr/bin/env bash
# Run a scenario (or suite) as a Slurm array job, one task per shard, after
# a job that trains its teachers, and merge the shards when every task has
# succeeded.
#
#   scripts/slurm/sweep.sh SCENARIO [OPTIONS] [-- RUN_OPTIONS...]
#
#   --shards N          array tasks (default 4): task K runs
#                       `bfbench run SCENARIO --shard K/N` into its own DB
#   --cpus-per-task C   CPUs of each task, and its libtorch threads (default 2)
#   --gpu               ask each task for one GPU (--gres=gpu:1)
#   --partition P       the partition (default: the cluster's default)
#   --time T            a task's time limit (sbatch --time; default none)
#   --out DIR           where shards, logs and the merged DB go (default
#                       results/slurm/NAME-YYYYmmdd-HHMMSS)
#   --bfbench PATH      the binary (default build/bfbench)
#   --sbatch-arg ARG    one more sbatch argument for every job (repeatable)
#   --dry-run           print the sbatch commands, submit nothing
#   RUN_OPTIONS         passed to every `bfbench run` (e.g. --repetitions 1)
#
# What it assumes: this checkout, the build, DIR and the caches
# (DIR/cache for teachers, $XDG_CACHE_HOME/bfbench for device fits)
# are on a file system every node sees at the same path; the jobs start in
# this checkout's root (--chdir). A first job runs `bfbench run SCENARIO
# --teachers-only` (DIR/teachers.db): the teachers of a training scenario
# are trained once, into DIR/cache, which every shard then loads (an
# inference scenario has nothing to do there). The array depends on it
# (afterok); each task writes DIR/shard-K.db (SQLite on a network file
# system is fine for one writer); the merge job, submitted with
# --dependency=afterok on the whole array (--kill-on-invalid-dep=yes: it
# is cancelled if a task fails), runs `bfbench merge` into DIR/merged.db.
# Exit codes: 0 submitted, 2 bad command line, 3 no such scenario or
# binary, 1 sbatch failed.
set -euo pipefail

usage() {
    sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'
}

scenario=""
shards=4
cpus=2
gpu=0
partition=""
time_limit=""
out=""
bfbench=build/bfbench
dry=0
sbatch_extra=()
run_extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --shards | --cpus-per-task | --partition | --time | --out | \
            --bfbench | --sbatch-arg)
            if [[ $# -lt 2 ]]; then
                echo "sweep.sh: $1 needs a value" >&2
                exit 2
            fi
            case "$1" in
                --shards) shards=$2 ;;
                --cpus-per-task) cpus=$2 ;;
                --partition) partition=$2 ;;
                --time) time_limit=$2 ;;
                --out) out=$2 ;;
                --bfbench) bfbench=$2 ;;
                --sbatch-arg) sbatch_extra+=("$2") ;;
            esac
            shift 2
            ;;
        --gpu)
            gpu=1
            shift
            ;;
        --dry-run)
            dry=1
            shift
            ;;
        --)
            shift
            run_extra=("$@")
            break
            ;;
        -*)
            echo "sweep.sh: unknown option '$1' (--help lists them)" >&2
            exit 2
            ;;
        *)
            if [[ -n "$scenario" ]]; then
                echo "sweep.sh: one SCENARIO only ('$scenario', '$1')" >&2
                exit 2
            fi
            scenario=$1
            shift
            ;;
    esac
done
if [[ -z "$scenario" ]]; then
    usage >&2
    exit 2
fi
for v in "$shards" "$cpus"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]] || ((v > 10000)); then
        echo "sweep.sh: '$v' is not a count in 1..10000" >&2
        exit 2
    fi
done
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [[ ! -f "$scenario" ]]; then
    echo "sweep.sh: $scenario: no such scenario file (paths are relative" \
        "to $root)" >&2
    exit 3
fi
if [[ ! -x "$bfbench" ]]; then
    echo "sweep.sh: $bfbench: no bfbench binary (build it, or --bfbench)" >&2
    exit 3
fi
# The scenario must load here (a bad one fails now, not in every task).
if ! "$bfbench" -q run "$scenario" --shard "1/$shards" --dry-run >/dev/null; then
    echo "sweep.sh: $scenario does not load (above)" >&2
    exit 3
fi
name=$(basename "$scenario" .yaml)
out=${out:-results/slurm/$name-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
bfbench=$(cd "$(dirname "$bfbench")" && pwd)/$(basename "$bfbench")

common=(--chdir="$root" --job-name="bf-$name")
[[ -n "$partition" ]] && common+=(--partition="$partition")
[[ -n "$time_limit" ]] && common+=(--time="$time_limit")
common+=("${sbatch_extra[@]}")
task=(--array="1-$shards" --cpus-per-task="$cpus"
    --output="$out/logs/shard-%a.out")
teach=(--cpus-per-task="$cpus" --output="$out/logs/teachers.out")
if ((gpu)); then
    task+=(--gres=gpu:1)
    teach+=(--gres=gpu:1)
fi
# Quoted once for the job's shell: q, words each followed by a space
# (nothing for none); w, one word.
q() { (($#)) && printf '%q ' "$@"; return 0; }
w() { printf '%q' "$1"; }
task_cmd="export OPENBLAS_NUM_THREADS=1; exec $(w "$bfbench") run \
$(w "$scenario") --shard \"\$SLURM_ARRAY_TASK_ID/$shards\" --threads $cpus \
--resume --db $(w "$out")/shard-\$SLURM_ARRAY_TASK_ID.db $(q "${run_extra[@]}")"
teach_cmd="export OPENBLAS_NUM_THREADS=1; exec $(w "$bfbench") run \
$(w "$scenario") --teachers-only --threads $cpus --resume \
--db $(w "$out")/teachers.db $(q "${run_extra[@]}")"
dbs=()
for ((k = 1; k <= shards; k++)); do
    dbs+=("$out/shard-$k.db")
done
merge_cmd="exec $(w "$bfbench") merge $(q "${dbs[@]}")--into $(w "$out")/merged.db"

if ((dry)); then
    echo "sbatch --parsable $(q "${common[@]}" "${teach[@]}")--wrap $(q "$teach_cmd")"
    echo "sbatch --parsable --dependency=afterok:TEACHERS_JOB_ID" \
        "--kill-on-invalid-dep=yes $(q "${common[@]}" "${task[@]}")--wrap $(q "$task_cmd")"
    echo "sbatch --parsable --dependency=afterok:ARRAY_JOB_ID" \
        "--kill-on-invalid-dep=yes $(q "${common[@]}")--output=$out/logs/merge.out" \
        "--wrap $(q "$merge_cmd")"
    exit 0
fi
if ! teach_id=$(sbatch --parsable "${common[@]}" "${teach[@]}" \
    --wrap "$teach_cmd"); then
    echo "sweep.sh: sbatch refused the teachers job" >&2
    exit 1
fi
teach_id=${teach_id%%;*}
if ! array_id=$(sbatch --parsable --dependency="afterok:$teach_id" \
    --kill-on-invalid-dep=yes "${common[@]}" "${task[@]}" \
    --wrap "$task_cmd"); then
    echo "sweep.sh: sbatch refused the array job; cancel the teachers job" \
        "with 'scancel $teach_id'" >&2
    exit 1
fi
array_id=${array_id%%;*}
if ! merge_id=$(sbatch --parsable --dependency="afterok:$array_id" \
    --kill-on-invalid-dep=yes "${common[@]}" \
    --output="$out/logs/merge.out" --wrap "$merge_cmd"); then
    echo "sweep.sh: sbatch refused the merge job; cancel the others with" \
        "'scancel $teach_id $array_id'" >&2
    exit 1
fi
merge_id=${merge_id%%;*}
printf 'teachers_job=%s\narray_job=%s\nmerge_job=%s\nshards=%s\nscenario=%s\n' \
    "$teach_id" "$array_id" "$merge_id" "$shards" "$scenario" >"$out/jobs.txt"
cat <<EOF
submitted $scenario as $shards shard(s): teachers job $teach_id, array job $array_id, merge job $merge_id
  teachers:   $out/cache (their runs in $out/teachers.db)
  shards:     $out/shard-K.db (K = 1..$shards)
  logs:       $out/logs/teachers.out, $out/logs/shard-K.out, $out/logs/merge.out
  merged DB:  $out/merged.db (after every shard succeeded)
  job ids:    $out/jobs.txt
follow them:
  squeue -j $teach_id,$array_id,$merge_id
  scontrol show job $merge_id | grep JobState
  tail -f $out/logs/shard-1.out
then:
  $bfbench report --db $out/merged.db --run all
if a shard fails, rerun it (it resumes) and merge by hand:
  sbatch --array=K ... (the command in $out/logs/shard-K.out's job), then
  $bfbench merge $out/shard-*.db --into $out/merged.db
EOF
