#!/usr/bin/env bash
# Build with warnings as errors and run every test. CI runs exactly this
# (.ci/run). Installs what is missing from Debian packages first, including
# the optional PyTorch peer so that the torchvision parity test runs
# (BF_SETUP_PEER=0 skips it; the test then reports itself skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

# As root, Slurm and munge too: the Slurm test brings up a local cluster
# (elsewhere it reports itself skipped).
if [ "$(id -u)" -eq 0 ]; then
    default_slurm=1
else
    default_slurm=0
fi
BF_SETUP_PEER=${BF_SETUP_PEER:-1} BF_SETUP_SLURM=${BF_SETUP_SLURM:-$default_slurm} \
    bash scripts/setup.sh

build=${BF_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBF_WERROR=ON \
    -DBF_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
# OpenBLAS must not start its own threads on top of torch's.
export OPENBLAS_NUM_THREADS=1
cd "$build"
# One test per core. The tests that time things or wait on deadlines are
# RUN_SERIAL (CMakeLists.txt): ctest runs them with nothing beside them.
# Every test has its own TIMEOUT; --timeout covers any that lacks one.
ctest --output-on-failure --timeout 900 --parallel "$(nproc)"
