#!/usr/bin/env bash
# One prepared check on a GPU machine (issue 18, item 8): build bfbench
# against the machine's CUDA libtorch (the one inside a pip PyTorch), run
# the tests on the CPU and the shim, training and edge tests on the GPU,
# then the GPU peer benchmarks, each step bounded in time, with its log and
# a summary table in OUTDIR. Written for a machine with no reachable
# package manager: the C dependencies come as Debian .deb files from
# scripts/gpu-deps.sh and are unpacked with dpkg -x into a prefix inside
# the build folder, never onto /. See --help.
#
# The steps are functions that the script runs in a child of itself
# (`gpu-check.sh --step NAME`), which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

SELF=$(readlink -f "$0")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd)
ALL_STEPS="env deps build test-cpu test-gpu run latency training"
# test-cpu leaves out: the Slurm cluster (root daemons), the CI suite
# against its libtorch-1.13 baseline (minutes), plot (gnuplot is not
# shipped), and the timing, signal and socket tests that do not touch
# libtorch (cli_timed, net, netns, probe) or run long (cli_student): CPU
# CI runs them all.
CPU_EXCLUDE='^(slurm|ci_suite|ci_suite_timed|plot|cli_student|cli_timed'
CPU_EXCLUDE+='|net|netns|probe)$'
GPU_TESTS='^(torch|shim|shim_train|train|edge)$'

usage() {
    cat <<'EOF'
usage: scripts/gpu-check.sh OUTDIR

Build and check bottlefit-bench on a GPU machine, in the repository root,
within a time budget (default 540 s), writing into OUTDIR:

  env        nvidia-smi, PyTorch (version, CUDA, cuDNN, device), nvcc,
             compilers and CMake (env.log)
  deps       the C dependencies: nothing when pkg-config finds them all
             (yaml-0.1 sqlite3 zlib libpng libturbojpeg libzstd cmocka),
             else gpu-deps/*.deb unpacked with dpkg -x into BUILD/deps;
             Fashion-MNIST from gpu-deps linked at
             /usr/share/datasets/fashion-mnist when that is missing and
             writable (the tests read it there)
  build      cmake (Ninja when present; Release, BF_BUILD_TESTS=ON; Torch
             from python3's torch.utils.cmake_prefix_path) and a build
  test-cpu   ctest on the CPU (BF_TEST_DEVICE unset): the CPU path under
             this libtorch
  test-gpu   ctest of the device tests with BF_TEST_DEVICE=DEVICE
  run        `bfbench run` of the CI suite's two members (scenarios/ci:
             training, then local/edge/split inference) with `device:
             DEVICE`, into OUTDIR/run.db; checks that the cases record the
             device and their peak memory and the run its GPU (report in
             run-report.txt)
  latency    scripts/peer/compare_latency.py --device DEVICE (fp32, fp16,
             bf16; plain, folded, channels-last) -> latency.md
  training   scripts/peer/compare_training.py --device DEVICE, stage-1 and
             stage-2 steps (fp32, then bf16 autocast) -> training-*.md

Each step runs under `timeout`, logs to OUTDIR/STEP.log and the next step
runs whatever happened; OUTDIR/summary.md (rewritten after every step)
has the table step | rc | seconds | what, and the peers' tables. Exit
status: 0 when every selected step ran and passed (a step the budget
skipped counts as failed).

Environment:
  GPU_CHECK_STEPS     steps to run, in this order (default all; aliases:
                      test = test-cpu,test-gpu,run; peers = latency,training)
  GPU_CHECK_DEVICE    cuda:0 (default); cpu is a dry run of the same logic
                      with small settings (Debian's libtorch, on a CPU host)
  GPU_CHECK_BUDGET_S  whole-run budget in seconds (default 540): a step's
                      timeout is cut to what is left; no step starts with
                      under 20 s left
  GPU_CHECK_TIMEOUTS  per-step limits, e.g. "build=300,test-cpu=60"
                      (defaults: env 60, deps 60, build 240, test-cpu 90,
                      test-gpu 100, latency 120, training 150)
  GPU_CHECK_BUILD_DIR build folder (default build-gpu)
  GPU_CHECK_TARGETS   build only these targets (default all)
  GPU_CHECK_JOBS      build and ctest parallelism (default nproc)
  GPU_CHECK_CMAKE_ARGS  more cmake arguments (e.g. -DBF_WERROR=ON)
  GPU_CHECK_PYTHON    the Python with torch (default: the first of python3,
                      /usr/bin/python3 that imports torch and torchvision)
  GPU_CHECK_DEPS      the .deb folder (default gpu-deps)
  GPU_CHECK_FORCE_DEPS=1  unpack the .deb files even when pkg-config finds
                      the system's
  GPU_CHECK_LINK_DATA=0   never link Fashion-MNIST into /usr/share
  GPU_CHECK_FMNIST_DIR    where to link it (default
                      /usr/share/datasets/fashion-mnist, where bfbench reads)
  GPU_CHECK_CPU_TESTS, GPU_CHECK_CPU_EXCLUDE  ctest -R / -E regexes of
                      test-cpu (default all but slurm, ci_suite,
                      ci_suite_timed, plot, cli_student, cli_timed, net,
                      netns, probe: root cluster, the 1.13 baseline suite,
                      gnuplot, libtorch-free timing tests; "" runs all)
  GPU_CHECK_GPU_TESTS ctest -R regex of test-gpu (default
                      ^(torch|shim|shim_train|train|edge)$)
  GPU_CHECK_LATENCY_ARGS, GPU_CHECK_TRAINING_ARGS  replace the peers'
                      model and size arguments
  GPU_CHECK_TRAIN_PRECISIONS  training runs (default "fp32 bf16"; cpu: fp32)
  GPU_CHECK_BFBENCH   the bfbench the peers drive (default BUILD/bfbench)
  GPU_CHECK_COMMIT    the commit to name in the summary (default: git's)
  GPU_CHECK_PACK=DIR  after every step, copy summary.md, the peers' tables
                      and a .tar.gz of OUTDIR into DIR (at most 5 files:
                      for a device run whose $OUT takes 8)

On the project's GPU machine (the folder gpu-deps is git-ignored, so the
run must carry it):

  run(command="GPU_CHECK_PACK=$OUT bash scripts/gpu-check.sh /tmp/gc",
      carry=["gpu-deps"], timeout_s=600)

A dry run on a CPU host (small peer settings; GPU_CHECK_TARGETS and
GPU_CHECK_CPU_TESTS keep the build and the tests short):

  GPU_CHECK_DEVICE=cpu bash scripts/gpu-check.sh /tmp/gc
EOF
}

die() {
    echo "gpu-check: $*" >&2
    exit 2
}

log() {
    echo "gpu-check: $*" >&2
}

# Print "SUMMARY: text"; the summary's "what" column collects these lines.
say() {
    echo "SUMMARY: $*"
}

now() {
    date +%s
}

# ---------------------------------------------------------------- steps ---
# Each runs in a child bash under `timeout`, in ROOT, with the GC_*
# variables exported by main; stdout and stderr go to OUTDIR/STEP.log.

step_env() {
    echo "## host"
    uname -a
    echo "cores: $(nproc)"
    free -g | head -2 || true
    df -h "$ROOT" | tail -1 || true
    echo "## compilers and tools"
    for tool in cc c++ cmake ninja ctest pkg-config dpkg-deb; do
        if command -v "$tool" >/dev/null; then
            printf '%s: %s\n' "$tool" "$("$tool" --version 2>&1 | head -1)"
        else
            echo "$tool: not found"
        fi
    done
    echo "## nvidia-smi"
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi || true
        nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
            --format=csv || true
        say "$(nvidia-smi --query-gpu=name,driver_version \
            --format=csv,noheader 2>/dev/null | head -1 |
            sed 's/, / driver /')"
    else
        echo "nvidia-smi: not found"
    fi
    echo "## nvcc"
    if [ -n "$GC_NVCC" ]; then
        "$GC_NVCC" --version || true
    else
        echo "nvcc: not found"
    fi
    echo "## python (TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-unset})"
    if ! "$GC_PY" - <<'PY'
import sys
import torch
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
      torch.backends.cudnn.version(), "cuda available",
      torch.cuda.is_available())
try:
    import torchvision
    print("torchvision", torchvision.__version__)
except ImportError as exc:
    print("torchvision: missing:", exc)
print("cmake_prefix_path", torch.utils.cmake_prefix_path)
words = [f"torch {torch.__version__}"]
if torch.version.cuda:
    words.append(f"CUDA {torch.version.cuda}, cuDNN "
                 f"{torch.backends.cudnn.version()}")
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"cuda:{i}", p.name, f"{p.total_memory / 2**30:.1f} GiB",
              f"sm_{p.major}{p.minor}")
    print("tf32 matmul", torch.backends.cuda.matmul.allow_tf32,
          "cudnn tf32", torch.backends.cudnn.allow_tf32)
    p = torch.cuda.get_device_properties(0)
    words.append(f"{p.name} {p.total_memory / 2**30:.0f} GiB")
print("SUMMARY: " + ", ".join(words))
PY
    then
        say "$GC_PY cannot import torch"
        return 1
    fi
    echo "## gpu-deps"
    if [ -f "$GC_DEPS/MANIFEST" ]; then
        cat "$GC_DEPS/MANIFEST"
    else
        echo "no $GC_DEPS/MANIFEST"
    fi
    if [ "$GC_DEVICE" != cpu ]; then
        "$GC_PY" -c 'import sys, torch
sys.exit(0 if torch.cuda.is_available() else 1)' ||
            {
                say "PyTorch sees no CUDA device"
                return 1
            }
    fi
}

# Unpack one .deb into a folder: dpkg-deb, or ar and tar where dpkg is
# missing.
unpack_deb() {
    local deb=$1 dest=$2 member flag=()
    if command -v dpkg-deb >/dev/null; then
        dpkg-deb -x "$deb" "$dest"
        return
    fi
    member=$(ar t "$deb" | grep '^data\.tar')
    case "$member" in
    *.xz) flag=(-J) ;;
    *.zst) flag=(--zstd) ;;
    *.gz) flag=(-z) ;;
    esac
    ar p "$deb" "$member" | tar -x "${flag[@]}" -C "$dest"
}

step_deps() {
    local mods=(yaml-0.1 sqlite3 zlib libpng libturbojpeg libzstd cmocka)
    local p=$GC_PREFIX libdir pc deb
    # Where bfbench reads Fashion-MNIST (BF_DATASET_FMNIST_DIR); another
    # path only to try the linking elsewhere.
    local fm=${GPU_CHECK_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
    rm -rf "$p"
    mkdir -p "$p"
    if [ "${GPU_CHECK_FORCE_DEPS:-0}" != 1 ] &&
        command -v pkg-config >/dev/null &&
        pkg-config --exists "${mods[@]}"; then
        say "the system's pkg-config finds ${mods[*]}: nothing unpacked"
    else
        if ! compgen -G "$GC_DEPS/*.deb" >/dev/null; then
            say "no $GC_DEPS/*.deb (run scripts/gpu-deps.sh on a Debian 12" \
                "machine and carry the folder)"
            return 1
        fi
        for deb in "$GC_DEPS"/*.deb; do
            case "$(basename "$deb")" in
            dataset-*) continue ;;
            esac
            echo "unpacking $(basename "$deb")"
            unpack_deb "$deb" "$p"
        done
        # The .pc files name /usr: point them into the prefix, and libdir
        # at the multiarch folder they sit in (libzstd.pc says lib/).
        for pc in "$p"/usr/lib/*/pkgconfig/*.pc "$p"/usr/share/pkgconfig/*.pc; do
            [ -f "$pc" ] || continue
            sed -E -i -e "s#^([A-Za-z_]+)=/usr(/|\$)#\\1=$p/usr\\2#" \
                -e "s#(^|[[:space:]])-([IL])/usr/#\\1-\\2$p/usr/#g" "$pc"
            case "$pc" in
            "$p"/usr/lib/*/pkgconfig/*)
                libdir=$(dirname "$(dirname "$pc")")
                sed -i -e "s#^libdir=.*#libdir=$libdir#" "$pc"
                ;;
            esac
        done
        if [ -x "$p/usr/bin/pkgconf" ]; then
            libdir=$(dirname "$(compgen -G "$p/usr/lib/*/libpkgconf.so.*" |
                head -1)")
            mkdir -p "$p/bin"
            cat >"$p/bin/pkg-config" <<EOF
#!/bin/sh
# pkgconf from gpu-deps, with its library from the prefix.
LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$p/usr/bin/pkgconf" "\$@"
EOF
            chmod +x "$p/bin/pkg-config"
        fi
        touch "$p/.gpu-check-prefix"
        # The same environment main gives the later steps.
        set_prefix_env
        local pkgc=${PKG_CONFIG:-pkg-config}
        echo "PKG_CONFIG=$pkgc"
        echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
        if ! "$pkgc" --exists "${mods[@]}"; then
            say "$pkgc does not find all of ${mods[*]} after unpacking"
            return 1
        fi
        for mod in "${mods[@]}"; do
            echo "$mod $("$pkgc" --modversion "$mod"):" \
                "$("$pkgc" --cflags --libs "$mod")"
        done
        say "unpacked $(compgen -G "$GC_DEPS/*.deb" | grep -vc dataset-)" \
            ".deb files into $p"
    fi
    if [ -e "$fm/train-images-idx3-ubyte.gz" ]; then
        say "Fashion-MNIST present at $fm"
    elif [ -f "$GC_DEPS/dataset-fashion-mnist.deb" ]; then
        unpack_deb "$GC_DEPS/dataset-fashion-mnist.deb" "$p"
        if [ "${GPU_CHECK_LINK_DATA:-1}" = 1 ] &&
            { [ -L "$fm" ] || [ ! -e "$fm" ]; } &&
            mkdir -p "$(dirname "$fm")" 2>/dev/null &&
            ln -sfn "$p/usr/share/datasets/fashion-mnist" "$fm" 2>/dev/null; then
            say "Fashion-MNIST linked: $fm -> $p/usr/share/datasets/fashion-mnist"
        else
            say "Fashion-MNIST unpacked but not linked at $fm: the train" \
                "and CLI training tests will fail"
        fi
    else
        say "no Fashion-MNIST: the train and CLI training tests will fail"
    fi
}

step_build() {
    local b=$GC_BUILD args=() extra=() gen=() keep=() targets=() mode=system
    # A cache made with the other kind of dependencies (system or prefix)
    # keeps stale paths: start that configuration afresh.
    if [ -f "$GC_PREFIX/.gpu-check-prefix" ]; then
        mode=prefix
    fi
    if [ -f "$b/CMakeCache.txt" ] &&
        [ "$(cat "$b/.gpu-check-deps" 2>/dev/null)" != "$mode" ]; then
        echo "dependencies now from the $mode: removing $b/CMakeCache.txt"
        rm -rf "$b/CMakeCache.txt" "$b/CMakeFiles"
    fi
    echo "$mode" >"$b/.gpu-check-deps"
    if [ ! -f "$b/CMakeCache.txt" ] && command -v ninja >/dev/null; then
        gen=(-G Ninja)
    fi
    args=(-S "$ROOT" -B "$b" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release
        -DBF_BUILD_TESTS=ON "-DPython_EXECUTABLE=$GC_PY_PATH"
        "-DPYTHON_EXECUTABLE=$GC_PY_PATH")
    if [ -n "$GC_CMAKE_PREFIX" ]; then
        args+=("-DCMAKE_PREFIX_PATH=$GC_CMAKE_PREFIX")
    fi
    if [ -f "$GC_PREFIX/.gpu-check-prefix" ]; then
        # cmocka has no pkg-config lookup in CMakeLists.txt: its header
        # comes from the prefix's include folder.
        args+=("-DCMAKE_C_FLAGS=-isystem $GC_PREFIX/usr/include"
            "-DCMAKE_CXX_FLAGS=-isystem $GC_PREFIX/usr/include")
        if [ -n "${PKG_CONFIG:-}" ]; then
            args+=("-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG")
        fi
    fi
    if [ "$GC_DEVICE" != cpu ]; then
        if [ -n "$GC_NVCC" ]; then
            local cuda_root
            cuda_root=$(dirname "$(dirname "$GC_NVCC")")
            args+=("-DCUDAToolkit_ROOT=$cuda_root"
                "-DCUDA_TOOLKIT_ROOT_DIR=$cuda_root"
                "-DCMAKE_CUDA_COMPILER=$GC_NVCC")
        fi
        # Keep libtorch_cuda.so linked although no symbol of it is used
        # directly (else torch sees no CUDA at run time).
        args+=("-DCMAKE_EXE_LINKER_FLAGS=-Wl,--no-as-needed")
    fi
    if [ -n "${GPU_CHECK_CMAKE_ARGS:-}" ]; then
        read -r -a extra <<<"$GPU_CHECK_CMAKE_ARGS"
    fi
    echo "+ cmake ${args[*]} ${extra[*]}"
    cmake "${args[@]}" "${extra[@]}"
    # Build on past a failure, so that bfbench exists for the peers even
    # when one test does not compile.
    if grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$b/CMakeCache.txt"; then
        keep=(-k 0)
    else
        keep=(-k)
    fi
    if [ -n "${GPU_CHECK_TARGETS:-}" ]; then
        read -r -a targets <<<"$GPU_CHECK_TARGETS"
        targets=(--target "${targets[@]}")
    fi
    local rc=0
    cmake --build "$b" --parallel "$GC_JOBS" "${targets[@]}" -- "${keep[@]}" ||
        rc=$?
    local cached='Torch_DIR|CMAKE_GENERATOR|CMAKE_CXX_COMPILER|CMOCKA_LIB'
    cached+='|pkgcfg_lib_[A-Z]+_[a-z0-9]+'
    grep -E "^($cached)[:=]" "$b/CMakeCache.txt" || true
    if [ -x "$b/bfbench" ]; then
        local deps missing cuda=no
        deps=$(ldd "$b/bfbench" || true)
        echo "## ldd bfbench"
        grep -E 'torch|c10|cuda|yaml|sqlite|png|jpeg|zstd|libz|not found' \
            <<<"$deps" || true
        missing=$(grep -c 'not found' <<<"$deps" || true)
        if grep -q libtorch_cuda <<<"$deps"; then
            cuda=yes
        fi
        say "bfbench built, libraries not found: $missing," \
            "libtorch_cuda linked: $cuda"
    else
        say "no bfbench"
    fi
    return "$rc"
}

# The ctest result line and the failed tests, for the summary.
ctest_summary() {
    local logf=$1
    grep -E 'tests passed|No tests were found' "$logf" | tail -1 |
        sed 's/^/SUMMARY: /' || true
    sed -n '/The following tests FAILED/,$p' "$logf" |
        grep -E '^[[:space:]]+[0-9]+ - ' | sed 's/^[[:space:]]*/SUMMARY: failed /' || true
}

step_test_cpu() {
    local b=$GC_BUILD rc=0 sel=()
    [ -f "$b/CTestTestfile.cmake" ] || {
        say "no $b/CTestTestfile.cmake (build first)"
        return 1
    }
    if [ -n "${GPU_CHECK_CPU_TESTS:-}" ]; then
        sel+=(-R "$GPU_CHECK_CPU_TESTS")
    fi
    local excl=${GPU_CHECK_CPU_EXCLUDE-$CPU_EXCLUDE}
    if [ -n "$excl" ]; then
        sel+=(-E "$excl")
    fi
    (cd "$b" && env -u BF_TEST_DEVICE OPENBLAS_NUM_THREADS=1 \
        ctest --output-on-failure --no-tests=error -j "$GC_JOBS" "${sel[@]}" \
        2>&1 | tee "$GC_OUT/test-cpu.ctest") || rc=$?
    cp "$b/Testing/Temporary/LastTest.log" "$GC_OUT/test-cpu.LastTest.log" \
        2>/dev/null || true
    ctest_summary "$GC_OUT/test-cpu.ctest"
    return "$rc"
}

# nvidia-smi samples of memory and utilisation every 0.5 s while a step
# runs, into OUTDIR/gpu-STEP.csv; its peak memory goes into the summary.
monitor_start() {
    MONITOR_PID=
    if [ "$GC_DEVICE" != cpu ] && command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used \
            --format=csv,noheader,nounits -lms 500 >"$GC_OUT/gpu-$1.csv" \
            2>/dev/null &
        MONITOR_PID=$!
    fi
}

monitor_stop() {
    if [ -n "${MONITOR_PID:-}" ]; then
        kill "$MONITOR_PID" 2>/dev/null || true
        wait "$MONITOR_PID" 2>/dev/null || true
        awk -F', ' '$3 + 0 > m { m = $3 + 0 } $2 + 0 > u { u = $2 + 0 }
            END { printf "SUMMARY: GPU peak %d MiB used, peak utilisation %d %%\n", m, u }' \
            "$GC_OUT/gpu-$1.csv" || true
    fi
}

step_test_gpu() {
    local b=$GC_BUILD rc=0
    [ -f "$b/CTestTestfile.cmake" ] || {
        say "no $b/CTestTestfile.cmake (build first)"
        return 1
    }
    monitor_start test-gpu
    (cd "$b" && BF_TEST_DEVICE=$GC_DEVICE OPENBLAS_NUM_THREADS=1 \
        ctest --output-on-failure --no-tests=error -j 4 \
        -R "${GPU_CHECK_GPU_TESTS:-$GPU_TESTS}" \
        2>&1 | tee "$GC_OUT/test-gpu.ctest") || rc=$?
    monitor_stop test-gpu
    cp "$b/Testing/Temporary/LastTest.log" "$GC_OUT/test-gpu.LastTest.log" \
        2>/dev/null || true
    ctest_summary "$GC_OUT/test-gpu.ctest"
    return "$rc"
}

step_run() {
    local sc=$GC_OUT/run-scenarios db=$GC_OUT/run.db rc=0 f
    [ -x "$GC_BFBENCH" ] || {
        say "no $GC_BFBENCH (build first)"
        return 1
    }
    rm -rf "$sc" "$db" "$db-wal" "$db-shm"
    mkdir -p "$sc"
    # The CI members as they are, on the device; the teacher's path made
    # absolute (it is relative to scenarios/ci).
    for f in tiny-train tiny-net; do
        sed "s|\.\./\.\./results/|$PWD/results/|" "scenarios/ci/$f.yaml" \
            >"$sc/$f.yaml"
        printf 'device: %s\n' "$GC_DEVICE" >>"$sc/$f.yaml"
    done
    printf 'name: gpu-check\nsuite: [tiny-train.yaml, tiny-net.yaml]\n' \
        >"$sc/suite.yaml"
    monitor_start run
    echo "+ $GC_BFBENCH run $sc/suite.yaml --db $db"
    OPENBLAS_NUM_THREADS=1 "$GC_BFBENCH" run "$sc/suite.yaml" --db "$db" ||
        rc=$?
    monitor_stop run
    "$GC_BFBENCH" report --db "$db" >"$GC_OUT/run-report.txt" 2>&1 || rc=1
    # What must be there: the device in the threads cell, a peak memory
    # row per measured case, and (where a GPU was used) its name.
    if [ "$GC_DEVICE" != cpu ]; then
        grep -q ", $GC_DEVICE" "$GC_OUT/run-report.txt" ||
            { say "report names no $GC_DEVICE case"; rc=1; }
        grep -q 'peak_device_memory' "$GC_OUT/run-report.txt" ||
            { say "no peak_device_memory rows"; rc=1; }
        grep -q '; GPU ' "$GC_OUT/run-report.txt" ||
            { say "the platform line names no GPU"; rc=1; }
    fi
    grep -E 'peak_device_memory|platform|; GPU ' "$GC_OUT/run-report.txt" |
        head -20 || true
    [ "$rc" = 0 ] && say "run.db and run-report.txt"
    return "$rc"
}

step_latency() {
    local args=() rc=0
    if [ -n "${GPU_CHECK_LATENCY_ARGS:-}" ]; then
        read -r -a args <<<"$GPU_CHECK_LATENCY_ARGS"
    elif [ "$GC_DEVICE" = cpu ]; then
        args=(--models mobilenet_v2 --size 64 --precisions fp32 --threads 1
            --warmup 1 --iters 2 --rounds 2)
    else
        args=(--models "resnet152,densenet169,mobilenet_v2"
            --precisions "fp32,fp16,bf16" --peer-cl --warmup 5 --iters 10
            --rounds 4)
    fi
    monitor_start latency
    echo "+ $GC_PY scripts/peer/compare_latency.py --bfbench $GC_BFBENCH" \
        "--device $GC_DEVICE ${args[*]}"
    "$GC_PY" scripts/peer/compare_latency.py --bfbench "$GC_BFBENCH" \
        --device "$GC_DEVICE" --json "$GC_OUT/latency.json" "${args[@]}" \
        >"$GC_OUT/latency.md" || rc=$?
    monitor_stop latency
    cat "$GC_OUT/latency.md"
    [ "$rc" = 0 ] && say "table in latency.md"
    return "$rc"
}

step_training() {
    local args=() rc=0 prec precs
    if [ -n "${GPU_CHECK_TRAINING_ARGS:-}" ]; then
        read -r -a args <<<"$GPU_CHECK_TRAINING_ARGS"
    elif [ "$GC_DEVICE" = cpu ]; then
        args=(--models resnet_mini --batch 8 --threads 1 --warmup 1
            --iters 1 --rounds 1)
    else
        args=(--models "resnet152,densenet169" --batch 64 --channels 12
            --warmup 2 --iters 3 --rounds 3)
    fi
    if [ "$GC_DEVICE" = cpu ]; then
        precs=${GPU_CHECK_TRAIN_PRECISIONS:-fp32}
    else
        precs=${GPU_CHECK_TRAIN_PRECISIONS:-fp32 bf16}
    fi
    monitor_start training
    for prec in $precs; do
        echo "+ $GC_PY scripts/peer/compare_training.py --bfbench" \
            "$GC_BFBENCH --device $GC_DEVICE --precision $prec ${args[*]}"
        if "$GC_PY" scripts/peer/compare_training.py --bfbench "$GC_BFBENCH" \
            --device "$GC_DEVICE" --precision "$prec" \
            --json "$GC_OUT/training-$prec.json" "${args[@]}" \
            >"$GC_OUT/training-$prec.md"; then
            say "$prec: table in training-$prec.md"
        else
            rc=1
            say "$prec: failed"
        fi
        cat "$GC_OUT/training-$prec.md"
    done
    monitor_stop training
    return "$rc"
}

# --------------------------------------------------------- environment ---

# PKG_CONFIG, PKG_CONFIG_PATH and GC_CMAKE_PREFIX (CMake's ';' list) from
# the caller's values (GC_ORIG_*), plus the prefix once it is unpacked.
set_prefix_env() {
    local p=$GC_PREFIX d
    PKG_CONFIG_PATH=$GC_ORIG_PKG_CONFIG_PATH
    PKG_CONFIG=$GC_ORIG_PKG_CONFIG
    GC_CMAKE_PREFIX=$GC_TORCH_CMAKE
    if [ -n "$GC_ORIG_CMAKE_PREFIX_PATH" ]; then
        GC_CMAKE_PREFIX=$GC_CMAKE_PREFIX${GC_CMAKE_PREFIX:+;}${GC_ORIG_CMAKE_PREFIX_PATH//:/;}
    fi
    if [ -f "$p/.gpu-check-prefix" ]; then
        for d in "$p"/usr/share/pkgconfig "$p"/usr/lib/*/pkgconfig; do
            if [ -d "$d" ]; then
                PKG_CONFIG_PATH=$d${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
            fi
        done
        if [ -x "$p/bin/pkg-config" ]; then
            PKG_CONFIG=$p/bin/pkg-config
        fi
        GC_CMAKE_PREFIX=$p/usr${GC_CMAKE_PREFIX:+;$GC_CMAKE_PREFIX}
    fi
    export PKG_CONFIG_PATH GC_CMAKE_PREFIX
    if [ -n "$PKG_CONFIG" ]; then
        export PKG_CONFIG
    else
        unset PKG_CONFIG
    fi
}

# Find Python, torch's CMake folder and nvcc; export what the steps read.
# The prefix's libraries are not put on LD_LIBRARY_PATH: the build tree's
# binaries find them through their RUNPATH (CMake's build RPATH), and
# Debian 12's libz and libzstd must not shadow the system's for cmake, the
# compiler and the linker.
setup_env() {
    local py torch_cmake
    if [ -n "${GPU_CHECK_PYTHON:-}" ]; then
        py=$GPU_CHECK_PYTHON
    else
        for py in python3 /usr/bin/python3 ""; do
            [ -n "$py" ] || break
            if "$py" -c 'import torch, torchvision' >/dev/null 2>&1; then
                break
            fi
        done
        if [ -z "$py" ]; then
            log "no python3 imports torch and torchvision (set" \
                "GPU_CHECK_PYTHON); the steps that need it will fail"
            py=python3
        fi
    fi
    GC_PY=$py
    GC_PY_PATH=$(command -v "$py" || echo "$py")
    GC_TORCH_CMAKE=
    torch_cmake=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)' \
        2>/dev/null || true)
    if [ -n "$torch_cmake" ] && [ -d "$torch_cmake" ]; then
        GC_TORCH_CMAKE=$torch_cmake
    fi
    GC_NVCC=$(command -v nvcc || true)
    if [ -z "$GC_NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
        GC_NVCC=/usr/local/cuda/bin/nvcc
        export PATH=/usr/local/cuda/bin:$PATH
    fi
    # The GPU's architecture for libtorch's CMake files (else they compile
    # and run a probe); e.g. 9.0 on an H100 or H200.
    if [ "$GC_DEVICE" != cpu ] && [ -z "${TORCH_CUDA_ARCH_LIST:-}" ] &&
        command -v nvidia-smi >/dev/null; then
        local cap
        cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader \
            2>/dev/null | head -1 || true)
        if [[ "$cap" =~ ^[0-9]+\.[0-9]+$ ]]; then
            export TORCH_CUDA_ARCH_LIST=$cap
        fi
    fi
    export GC_PY GC_PY_PATH GC_NVCC GC_TORCH_CMAKE
    set_prefix_env
}

# ----------------------------------------------------------- reporting ---

write_summary() {
    local f=$GC_OUT/summary.md t
    {
        echo "# gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        echo "Commit $GC_COMMIT, device $GC_DEVICE, host $(hostname)," \
            "budget ${GC_BUDGET} s, $(($(now) - GC_T0)) s used." \
            "Logs: STEP.log beside this file."
        echo
        echo "| step | rc | seconds | what |"
        echo "| --- | ---: | ---: | --- |"
        cat "$GC_OUT/.rows" 2>/dev/null || true
        for t in latency training-fp32 training-bf16; do
            if [ -s "$GC_OUT/$t.md" ]; then
                echo
                echo "## $t"
                echo
                cat "$GC_OUT/$t.md"
            fi
        done
    } >"$f"
}

# Copy the summary, the tables and a tarball of OUTDIR into GPU_CHECK_PACK.
pack() {
    local dest=${GPU_CHECK_PACK:-} t
    [ -n "$dest" ] || return 0
    mkdir -p "$dest"
    cp "$GC_OUT/summary.md" "$dest/"
    for t in latency training-fp32 training-bf16; do
        [ -s "$GC_OUT/$t.md" ] && cp "$GC_OUT/$t.md" "$dest/"
    done
    tar -czf "$dest/gpu-check-logs.tar.gz.tmp" -C "$(dirname "$GC_OUT")" \
        "$(basename "$GC_OUT")" 2>/dev/null || true
    mv -f "$dest/gpu-check-logs.tar.gz.tmp" "$dest/gpu-check-logs.tar.gz" \
        2>/dev/null || true
}

step_limit() {
    local name=$1 def
    case "$name" in
    env | deps) def=60 ;;
    build) def=240 ;;
    test-cpu) def=90 ;;
    test-gpu) def=100 ;;
    run) def=90 ;;
    latency) def=120 ;;
    training) def=150 ;;
    esac
    local kv list=${GPU_CHECK_TIMEOUTS:-}
    for kv in ${list//,/ }; do
        if [ "${kv%%=*}" = "$name" ]; then
            def=${kv#*=}
        fi
    done
    echo "$def"
}

run_step() {
    local name=$1 what=$2 left limit t0 rc=0 words
    left=$((GC_T0 + GC_BUDGET - $(now)))
    if [ "$left" -lt 20 ]; then
        echo "| $name | skip | 0 | $what: skipped, ${left} s of the budget left |" \
            >>"$GC_OUT/.rows"
        log "$name: skipped (budget)"
        GC_FAILED=1
        return 0
    fi
    limit=$(step_limit "$name")
    if [ "$limit" -gt $((left - 5)) ]; then
        limit=$((left - 5))
    fi
    log "$name: up to $limit s"
    t0=$(now)
    timeout -k 10 "$limit" bash "$SELF" --step "$name" \
        >"$GC_OUT/$name.log" 2>&1 || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "SUMMARY: timed out after $limit s" >>"$GC_OUT/$name.log"
    fi
    words=$(sed -n -e 's/|/\\|/g' -e 's/^SUMMARY: //p' "$GC_OUT/$name.log" |
        awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
    echo "| $name | $rc | $(($(now) - t0)) | $what${words:+: $words} |" \
        >>"$GC_OUT/.rows"
    log "$name: rc $rc, $(($(now) - t0)) s"
    [ "$rc" = 0 ] || GC_FAILED=1
}

what_of() {
    case "$1" in
    env) echo "GPU, driver, PyTorch, CUDA, cuDNN, nvcc" ;;
    deps) echo "C dependencies" ;;
    build) echo "cmake + build in $GC_BUILD" ;;
    test-cpu) echo "ctest on the CPU" ;;
    test-gpu) echo "ctest with BF_TEST_DEVICE=$GC_DEVICE" ;;
    run) echo "bfbench run of the CI suite with device $GC_DEVICE" ;;
    latency) echo "compare_latency.py --device $GC_DEVICE" ;;
    training) echo "compare_training.py --device $GC_DEVICE" ;;
    esac
}

# ---------------------------------------------------------------- main ---

if [ "${1:-}" = --step ]; then
    cd "$ROOT"
    fn=step_${2//-/_}
    declare -F "$fn" >/dev/null || die "unknown step '$2'"
    "$fn"
    exit $?
fi

case "${1:-}" in
-h | --help)
    usage
    exit 0
    ;;
'') die "missing OUTDIR (see --help)" ;;
-*) die "unknown option '$1' (see --help)" ;;
esac
[ $# -eq 1 ] || die "one OUTDIR expected, got $# arguments (see --help)"
mkdir -p "$1" || die "$1: cannot create"
GC_OUT=$(cd "$1" && pwd)
cd "$ROOT"

GC_DEVICE=${GPU_CHECK_DEVICE:-cuda:0}
[[ "$GC_DEVICE" =~ ^(cpu|cuda(:[0-9]+)?)$ ]] ||
    die "GPU_CHECK_DEVICE='$GC_DEVICE': expected cpu, cuda or cuda:N"
GC_BUDGET=${GPU_CHECK_BUDGET_S:-540}
[[ "$GC_BUDGET" =~ ^[0-9]+$ ]] ||
    die "GPU_CHECK_BUDGET_S='$GC_BUDGET' is not whole seconds"
GC_BUILD=$(readlink -m "${GPU_CHECK_BUILD_DIR:-build-gpu}")
GC_PREFIX=$GC_BUILD/deps
GC_DEPS=$(readlink -m "${GPU_CHECK_DEPS:-gpu-deps}")
GC_JOBS=${GPU_CHECK_JOBS:-$(nproc)}
GC_BFBENCH=${GPU_CHECK_BFBENCH:-$GC_BUILD/bfbench}
GC_COMMIT=${GPU_CHECK_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [ "$GC_COMMIT" != unknown ] && [ -z "${GPU_CHECK_COMMIT:-}" ] &&
    [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    GC_COMMIT="$GC_COMMIT (modified)"
fi
GC_ORIG_PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-}
GC_ORIG_PKG_CONFIG=${PKG_CONFIG:-}
GC_ORIG_CMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH:-}
export GC_OUT GC_DEVICE GC_BUILD GC_PREFIX GC_DEPS GC_JOBS GC_BFBENCH \
    GC_ORIG_PKG_CONFIG_PATH GC_ORIG_PKG_CONFIG GC_ORIG_CMAKE_PREFIX_PATH \
    PYTHONUNBUFFERED=1

list=${GPU_CHECK_TIMEOUTS:-}
for kv in ${list//,/ }; do
    case "${kv%%=*}" in
    env | deps | build | test-cpu | test-gpu | run | latency | training) ;;
    *) die "GPU_CHECK_TIMEOUTS: unknown step in '$kv' (steps: $ALL_STEPS)" ;;
    esac
    [[ "$kv" =~ ^[a-z-]+=[0-9]+$ ]] ||
        die "GPU_CHECK_TIMEOUTS: '$kv' is not STEP=SECONDS"
done

steps=
for s in ${GPU_CHECK_STEPS:-all}; do
    for s2 in ${s//,/ }; do
        case "$s2" in
        all) steps="$steps $ALL_STEPS" ;;
        test) steps="$steps test-cpu test-gpu run" ;;
        peers) steps="$steps latency training" ;;
        env | deps | build | test-cpu | test-gpu | run | latency | training)
            steps="$steps $s2"
            ;;
        *) die "GPU_CHECK_STEPS: unknown step '$s2' (steps: $ALL_STEPS)" ;;
        esac
    done
done

GC_T0=$(now)
GC_FAILED=0
rm -f "$GC_OUT/.rows"
setup_env
log "device $GC_DEVICE, python $GC_PY_PATH, build $GC_BUILD, budget $GC_BUDGET s"
log "steps:$steps"
mkdir -p "$GC_BUILD"
for s in $steps; do
    run_step "$s" "$(what_of "$s")"
    if [ "$s" = deps ]; then
        setup_env
    fi
    write_summary
    pack
done
log "summary in $GC_OUT/summary.md"
exit "$GC_FAILED"
