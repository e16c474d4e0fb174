#!/usr/bin/env bash
# Install the Debian packages bottlefit-bench needs, and only those that are
# missing. Idempotent: a second run installs nothing and runs no apt-get
# update. Set BF_SETUP_PEER=1 to also install the optional PyTorch peer
# (python3-torch, python3-torchvision) used by scripts/peer/ and the
# torchvision-parity test, and BF_SETUP_SLURM=1 for Slurm and munge
# (scripts/slurm/, the local-cluster test; its daemons are not started).
set -euo pipefail

required=(
    build-essential cmake pkg-config
    libtorch-dev libopenblas0-pthread
    libsqlite3-dev sqlite3
    gnuplot-nox
    libcmocka-dev
    libturbojpeg0-dev
    libyaml-dev
    zlib1g-dev libzstd-dev libpng-dev
    dataset-fashion-mnist
    xz-utils
)
optional=(python3-torch python3-torchvision)
slurm=(slurmctld slurmd slurm-client munge)

want=("${required[@]}")
if [ "${BF_SETUP_PEER:-0}" = 1 ]; then
    want+=("${optional[@]}")
fi
if [ "${BF_SETUP_SLURM:-0}" = 1 ]; then
    want+=("${slurm[@]}")
fi

missing=()
for pkg in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$pkg") ;;
    esac
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: all ${#want[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: installed ${missing[*]}"
