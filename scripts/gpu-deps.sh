#!/usr/bin/env bash
# Download, on a Debian 12 machine with apt, the .deb files of the C
# dependencies that scripts/gpu-check.sh needs on a GPU machine whose
# package manager reaches nothing (issue 18, item 8): the -dev packages the
# build needs (CMakeLists.txt: pkg-config modules yaml-0.1, sqlite3, zlib,
# libpng, libturbojpeg, libzstd; cmocka for the tests; pkgconf itself), the
# runtime libraries behind them, and Fashion-MNIST, which the training and
# CLI tests read. Nothing is installed: gpu-check.sh unpacks the files with
# `dpkg -x` into DIR/prefix on the GPU machine, never onto /.
#
# DIR (default gpu-deps/ in the checkout) is git-ignored, so it travels to
# the device machine only when named in the run's `carry` list. The whole
# working tree that travels is capped at 64 MiB; this script refuses to
# leave more than GPU_DEPS_MAX_MIB (default 40) MiB in DIR.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/gpu-deps.sh [--no-data] [DIR]

Download (apt-get download, no install) into DIR (default gpu-deps/) the
Debian 12 packages that scripts/gpu-check.sh unpacks on a GPU machine
without a reachable package manager:

  build:    libsqlite3-dev libyaml-dev libturbojpeg0-dev libzstd-dev
            zlib1g-dev libpng-dev libcmocka-dev pkgconf pkgconf-bin
  runtime:  libsqlite3-0 libyaml-0-2 libturbojpeg0 libzstd1 zlib1g
            libpng16-16 libcmocka0 libpkgconf3
  data:     dataset-fashion-mnist (about 30 MiB; test_train and the CLI
            training tests read it; --no-data leaves it out)

Earlier .deb files in DIR are removed first; each file is saved as
PACKAGE.deb and DIR/MANIFEST lists package, version and SHA-256. Prints
each file and the total, checks that every package's dependencies are in
the set or assumed present on any glibc system (libc6, libc6-dev), and
fails when the total exceeds GPU_DEPS_MAX_MIB (default 40) MiB. gnuplot
is left out: only `bfbench plot` and the plot test need it.

The device run must name the folder in its carry list (it is git-ignored).
EOF
}

data=1
dir=
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help)
        usage
        exit 0
        ;;
    --no-data)
        data=0
        ;;
    -*)
        echo "gpu-deps: unknown option '$1' (see --help)" >&2
        exit 2
        ;;
    *)
        if [ -n "$dir" ]; then
            echo "gpu-deps: more than one DIR ('$dir', '$1')" >&2
            exit 2
        fi
        dir=$1
        ;;
    esac
    shift
done

cd "$(dirname "$0")/.."
dir=${dir:-gpu-deps}
max_mib=${GPU_DEPS_MAX_MIB:-40}
case "$max_mib" in
'' | *[!0-9]*)
    echo "gpu-deps: GPU_DEPS_MAX_MIB='$max_mib' is not a whole number" >&2
    exit 2
    ;;
esac

if ! command -v apt-get >/dev/null; then
    echo "gpu-deps: needs apt-get (a Debian 12 machine)" >&2
    exit 1
fi

build=(libsqlite3-dev libyaml-dev libturbojpeg0-dev libzstd-dev zlib1g-dev
    libpng-dev libcmocka-dev pkgconf pkgconf-bin)
runtime=(libsqlite3-0 libyaml-0-2 libturbojpeg0 libzstd1 zlib1g libpng16-16
    libcmocka0 libpkgconf3)
want=("${build[@]}" "${runtime[@]}")
if [ "$data" = 1 ]; then
    want+=(dataset-fashion-mnist)
fi
# Present on any glibc system with a compiler; never shipped.
assumed=" libc6 libc6-dev libc-dev "

mkdir -p "$dir"
if [ ! -w "$dir" ]; then
    echo "gpu-deps: $dir: not writable" >&2
    exit 1
fi
rm -f "$dir"/*.deb
# apt-get download writes into the current directory. As root it warns
# that the _apt user cannot write there; the download is unaffected.
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
if ! (cd "$dir" && apt-get -q download "${want[@]}" 2>"$errs"); then
    cat "$errs" >&2
    echo "gpu-deps: apt-get download failed (apt-get update first?)" >&2
    exit 1
fi
grep -v "unsandboxed as root" "$errs" >&2 || true
# Plain names (PACKAGE.deb): apt's names carry '%', '~' and '+', which
# not every file transfer keeps. MANIFEST records what each file holds.
missing=()
: >"$dir/MANIFEST"
for pkg in "${want[@]}"; do
    files=("$dir/${pkg}"_*.deb)
    if [ ! -e "${files[0]}" ]; then
        missing+=("$pkg")
        continue
    fi
    mv "${files[0]}" "$dir/$pkg.deb"
    printf '%s %s %s\n' "$pkg" \
        "$(dpkg-deb -f "$dir/$pkg.deb" Version)" \
        "$(sha256sum "$dir/$pkg.deb" | cut -d' ' -f1)" >>"$dir/MANIFEST"
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "gpu-deps: not downloaded: ${missing[*]} (apt-get update?)" >&2
    exit 1
fi

# Every dependency of every package must be in the set or assumed.
status=0
for deb in "$dir"/*.deb; do
    deps=$(dpkg-deb -f "$deb" Depends Pre-Depends 2>/dev/null |
        sed -e 's/^[A-Za-z-]*: //' | tr ',' '\n' |
        sed -e 's/([^)]*)//g' -e 's/:any//g' -e 's/^ *//' -e 's/ *$//')
    while IFS= read -r alt; do
        [ -n "$alt" ] || continue
        ok=0
        for name in $(echo "$alt" | tr '|' ' '); do
            case " ${want[*]} $assumed" in
            *" $name "*) ok=1 ;;
            esac
        done
        if [ "$ok" = 0 ]; then
            echo "gpu-deps: $(basename "$deb") depends on '$alt', not" \
                "downloaded" >&2
            status=1
        fi
    done <<<"$deps"
done

# Anything else in DIR travels too when the run carries it.
if [ -n "$(find "$dir" -mindepth 1 -maxdepth 1 ! -name '*.deb' \
    ! -name MANIFEST)" ]; then
    echo "gpu-deps: warning: $dir also holds (and a carry would send):" >&2
    find "$dir" -mindepth 1 -maxdepth 1 ! -name '*.deb' ! -name MANIFEST \
        -exec du -sh {} + >&2
fi

total=0
for deb in "$dir"/*.deb; do
    size=$(stat -c %s "$deb")
    total=$((total + size))
    printf '%10d  %s\n' "$size" "$(basename "$deb")"
done
mib=$(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "gpu-deps: ${#want[@]} packages, $total bytes ($mib MiB) in $dir/"
if [ "$total" -gt $((max_mib * 1048576)) ]; then
    echo "gpu-deps: $mib MiB exceeds GPU_DEPS_MAX_MIB=$max_mib (the working" \
        "tree that travels is capped at 64 MiB); try --no-data" >&2
    exit 1
fi
exit "$status"
