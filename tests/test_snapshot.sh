#!/usr/bin/env bash
# scripts/snapshot.sh: save and restore a results DB with its cached
# teachers. A copy of the committed CI baseline gets a teacher artifact in
# its cache (random bytes, their SHA-256 recorded as a run records it);
# save then restore elsewhere must give the same rows and the same
# teacher bytes, and `bfbench report` must read the restored DB. Bad input
# must fail with the documented codes and leave nothing half written:
# an existing DB, a teacher whose bytes differ, no DB, a bad command line.
#
#   tests/test_snapshot.sh BFBENCH
set -euo pipefail

bfbench=${1:?usage: tests/test_snapshot.sh BFBENCH}
root=$(cd "$(dirname "$0")/.." && pwd)
snap="$root/scripts/snapshot.sh"
tmp=$(mktemp -d /tmp/bf_test_snapshot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAILED: $*" >&2
    exit 1
}
# expect CODE DESCRIPTION COMMAND...: the command exits with CODE.
expect() {
    local want=$1 what=$2 got=0
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
    [[ $got -eq $want ]] || {
        cat "$tmp/out" "$tmp/err" >&2
        fail "$what: exit $got, not $want"
    }
}

mkdir -p "$tmp/a/cache" "$tmp/b"
cp "$root/results/reference/ci-tiny.db" "$tmp/a/run.db"
head -c 100000 /dev/urandom >"$tmp/a/cache/teacher-resnet_mini-0123.bfw"
sha=$(sha256sum <"$tmp/a/cache/teacher-resnet_mini-0123.bfw" | cut -d' ' -f1)
# As the runner records it: the path it wrote, relative to its directory.
sqlite3 "$tmp/a/run.db" "INSERT INTO artifacts (case_id, kind, path, sha256,
    bytes) VALUES (2, 'teacher', 'results/cache/teacher-resnet_mini-0123.bfw',
    '$sha', 100000)"

expect 0 "save" bash "$snap" save "$tmp/a/run.db" "$tmp/snap"
[[ -f "$tmp/snap/run.db.xz" ]] || fail "save wrote no run.db.xz"
[[ -f "$tmp/snap/cache/teacher-resnet_mini-0123.bfw.xz" ]] ||
    fail "save left the teacher out"
# The CI teacher is a weights file the scenario names: not saved.
[[ $(find "$tmp/snap/cache" -type f | wc -l) -eq 1 ]] ||
    fail "save saved more than the cached teacher"

expect 0 "restore" bash "$snap" restore "$tmp/snap/run.db.xz" "$tmp/b/run.db"
cmp "$tmp/a/cache/teacher-resnet_mini-0123.bfw" \
    "$tmp/b/cache/teacher-resnet_mini-0123.bfw" ||
    fail "the restored teacher differs"
for q in "SELECT count(*) FROM cases" "SELECT count(*) FROM accuracy" \
    "SELECT group_concat(sha256) FROM artifacts" "PRAGMA user_version"; do
    [[ "$(sqlite3 "$tmp/a/run.db" "$q")" == "$(sqlite3 "$tmp/b/run.db" "$q")" ]] ||
        fail "restored DB differs: $q"
done
expect 0 "report of the restored DB" "$bfbench" report --db "$tmp/b/run.db"

# Bad input.
expect 3 "restore onto an existing DB" \
    bash "$snap" restore "$tmp/snap/run.db.xz" "$tmp/b/run.db"
grep -q "exists: move it aside" "$tmp/err" || fail "no reason given: $(cat "$tmp/err")"
mkdir -p "$tmp/c"
head -c 100 /dev/urandom | xz -c >"$tmp/snap/cache/teacher-resnet_mini-0123.bfw.xz"
expect 3 "restore of a teacher whose bytes differ" \
    bash "$snap" restore "$tmp/snap/run.db.xz" "$tmp/c/run.db"
grep -q "SHA-256 differs" "$tmp/err" || fail "no reason given: $(cat "$tmp/err")"
[[ ! -e "$tmp/c/cache/teacher-resnet_mini-0123.bfw" ]] ||
    fail "a teacher whose bytes differ was left in the cache"
[[ ! -e "$tmp/c/run.db" && ! -e "$tmp/c/run.db.part" ]] ||
    fail "a DB was written though its teacher failed the check"
expect 3 "save of no DB" bash "$snap" save "$tmp/none.db" "$tmp/snap"
echo "not sqlite" >"$tmp/junk.db"
expect 3 "save of a file that is no results DB" \
    bash "$snap" save "$tmp/junk.db" "$tmp/snap2"
expect 3 "restore of no snapshot" \
    bash "$snap" restore "$tmp/none.db.xz" "$tmp/d/run.db"
expect 2 "a bad command line" bash "$snap" copy a b
expect 0 "--help" bash "$snap" --help
echo "snapshot: all checks passed"
