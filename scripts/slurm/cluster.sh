#!/usr/bin/env bash
# A real single-node Slurm cluster on 127.0.0.1, for testing sweep.sh (and
# trying Slurm without one): munged, slurmctld and slurmd started directly
# (no systemd), each with its own PID file, everything under one state
# directory.
#
#   scripts/slurm/cluster.sh up DIR     bring it up (root; Debian's
#                                       slurmctld, slurmd, slurm-client and
#                                       munge installed)
#   scripts/slurm/cluster.sh down DIR   stop the daemons by their PID files
#   scripts/slurm/cluster.sh env DIR    print the export line clients need
#
# Then: eval "$(scripts/slurm/cluster.sh env DIR)"; sbatch/squeue/scontrol
# talk to it. Choices, each for a failure seen without it (Debian 12,
# Slurm 22.05, munge 0.5.15, no systemd):
#   - proctrack/linuxproc and task/none: the cgroup plugins fail in a
#     container, and a job then reads COMPLETED 0:0 although it never ran;
#   - DefMemPerCPU: without it an array's tasks run one at a time;
#   - CPUs and memory from `slurmd -C`: other values make the node INVALID;
#   - munged's own socket in a world-executable directory, named to Slurm
#     by AuthInfo=socket=...;
#   - DependencyParameters=kill_invalid_depend: a job whose dependency
#     failed is cancelled rather than pending for ever;
#   - no accounting daemon: job states come from `scontrol show job`.
# Ports: 16817 (slurmctld) and 16818 (slurmd) unless BF_SLURM_PORT is set
# (slurmctld's; slurmd's is the next one).
set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

cmd=${1:-}
dir=${2:-}
case "$cmd" in
    -h | --help | help)
        usage
        exit 0
        ;;
    up | down | env) ;;
    *)
        usage >&2
        exit 2
        ;;
esac
if [[ -z "$dir" ]]; then
    echo "cluster.sh $cmd: the state directory DIR is required" >&2
    exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"

if [[ "$cmd" == env ]]; then
    echo "export SLURM_CONF='$conf'"
    exit 0
fi

# Stop a daemon by its PID file, waiting for it to go.
stop_pid() {
    local pidfile=$1 pid i
    [[ -s "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

if [[ "$cmd" == down ]]; then
    stop_pid "$dir/slurmd.pid"
    stop_pid "$dir/slurmctld.pid"
    stop_pid "$dir/munge/munged.pid"
    echo "cluster in $dir: down"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "cluster.sh up: needs root (slurmd runs jobs as their users)" >&2
    exit 77
fi
for prog in munged mungekey slurmctld slurmd sbatch scontrol; do
    if ! command -v "$prog" >/dev/null; then
        echo "cluster.sh up: $prog missing: apt-get install" \
            "--no-install-recommends slurmctld slurmd slurm-client munge" >&2
        exit 3
    fi
done

port=${BF_SLURM_PORT:-16817}
host=$(hostname -s)
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 0755 "$dir" "$dir/munge" # munged's socket directory: world-executable
chmod 0700 "$dir/state" "$dir/spool"
[[ -s "$dir/munge/munge.key" ]] ||
    mungekey --create --keyfile="$dir/munge/munge.key" --bits=1024
chmod 0400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.socket" \
    --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

# The node as slurmd sees it (CPUs, sockets, cores, threads, memory).
node=$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=$host/")
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
cat >"$conf" <<EOF
# Written by scripts/slurm/cluster.sh: a single-node test cluster.
ClusterName=bfbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$((mem / cpus / 2))
DependencyParameters=kill_invalid_depend
ReturnToService=2
SlurmdTimeout=60
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$conf" -i
slurmd -f "$conf"
export SLURM_CONF="$conf"
# Ready when the node is idle (bounded: 20 s).
for ((i = 0; i < 100; i++)); do
    state=$(scontrol show node "$host" 2>/dev/null |
        sed -n 's/.*State=\([A-Z+_]*\).*/\1/p' | head -n 1)
    [[ "$state" == IDLE* ]] && break
    sleep 0.2
done
if [[ "$state" != IDLE* ]]; then
    echo "cluster.sh up: node $host is '${state:-unknown}', not IDLE" \
        "after 20 s; logs in $dir/log" >&2
    exit 1
fi
echo "cluster in $dir: up (node $host, $cpus CPUs, $mem MB, port $port)"
echo "clients: eval \"\$($0 env $dir)\""
