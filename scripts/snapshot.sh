#!/usr/bin/env bash
# Save a results DB that is still being written, with the teachers its
# cases distil from, as files to commit or copy; restore them on another
# machine so that `bfbench run --resume` carries the run on there (the
# resume is recorded with that machine's provenance in the DB's resumes
# table). For suites longer than one sitting on one machine.
#
#   scripts/snapshot.sh save DB DIR
#       DIR/NAME.db.xz: a consistent copy of DB (SQLite VACUUM INTO, safe
#       while a run writes it; a case still running in it runs again on
#       resume), NAME being DB's file name without .db; DIR/cache/*.bfw.xz:
#       every teacher the DB's runs trained into its cache (dirname DB/cache;
#       artifacts of kind teacher) that is still there. xz -9; files
#       already there are replaced.
#   scripts/snapshot.sh restore DIR/NAME.db.xz DB
#       DB's cache directory (dirname DB/cache, where bfbench run --db DB
#       looks) from DIR/cache/, each teacher checked against the SHA-256
#       the DB recorded for it (a checkpoint already in the cache is left
#       alone), then DB from the snapshot; refused if DB exists, and no DB
#       written when a teacher fails its check.
#
# Exit codes: 0 done, 2 bad command line, 3 bad input (no such DB or
# snapshot, not a results DB, a teacher whose SHA-256 differs, DB exists).
set -euo pipefail

die() {
    echo "snapshot: $2" >&2
    exit "$1"
}
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

[[ "${1:-}" == -h || "${1:-}" == --help ]] && {
    usage
    exit 0
}
[[ $# -eq 3 ]] || {
    usage >&2
    exit 2
}
for prog in sqlite3 xz sha256sum; do
    command -v "$prog" >/dev/null ||
        die 3 "$prog is missing (scripts/setup.sh installs it)"
done
cmd=$1

# The teachers a DB's runs trained into their cache (not weights files a
# scenario names: a resume reads those where the scenario says), as
# "SHA256 PATH" lines.
teachers() {
    sqlite3 -readonly "$1" "SELECT DISTINCT sha256 || ' ' || path FROM
        artifacts WHERE kind = 'teacher' AND path LIKE '%cache/teacher-%'
        ORDER BY path" 2>/dev/null ||
        die 3 "$1: not a bfbench results DB (no artifacts table)"
}

case "$cmd" in
save)
    db=$2
    dir=$3
    [[ -f "$db" ]] || die 3 "$db: no such results DB"
    name=$(basename "$db" .db)
    mkdir -p "$dir/cache"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    list=$(teachers "$db")
    sqlite3 "$db" "VACUUM INTO '$tmp/$name.db'" ||
        die 3 "$db: cannot copy it (sqlite3 VACUUM INTO failed)"
    sqlite3 "$tmp/$name.db" "PRAGMA journal_mode = DELETE" >/dev/null
    xz -9 -T1 -c "$tmp/$name.db" >"$dir/$name.db.xz"
    echo "snapshot: $dir/$name.db.xz ($(stat -c %s "$dir/$name.db.xz") bytes)"
    # The DB's cache is beside it, whatever the run's directory was.
    while read -r sha path; do
        [[ -n "$path" ]] || continue
        src="$(dirname "$db")/cache/$(basename "$path")"
        if [[ ! -f "$src" ]]; then
            echo "snapshot: $src is gone: not saved" >&2
            continue
        fi
        [[ "$(sha256sum <"$src" | cut -d' ' -f1)" == "$sha" ]] ||
            die 3 "$src: SHA-256 differs from the one $db recorded"
        out="$dir/cache/$(basename "$path").xz"
        xz -9 -T1 -c "$src" >"$out"
        echo "snapshot: $out ($(stat -c %s "$out") bytes)"
    done <<<"$list"
    ;;
restore)
    snap=$2
    db=$3
    [[ -f "$snap" ]] || die 3 "$snap: no such snapshot"
    [[ ! -e "$db" ]] || die 3 "$db exists: move it aside first"
    mkdir -p "$(dirname "$db")/cache"
    xz -dc "$snap" >"$db.part" || {
        rm -f "$db.part"
        die 3 "$snap: not an xz file"
    }
    if ! list=$(teachers "$db.part"); then
        rm -f "$db.part"
        exit 3
    fi
    cache=$(dirname "$db")/cache
    while read -r sha path; do
        [[ -n "$path" ]] || continue
        src="$(dirname "$snap")/cache/$(basename "$path").xz"
        dst="$cache/$(basename "$path")"
        if [[ -f "$dst" ]]; then
            echo "snapshot: $dst is there already: kept"
        elif [[ -f "$src" ]]; then
            xz -dc "$src" >"$dst.part"
            [[ "$(sha256sum <"$dst.part" | cut -d' ' -f1)" == "$sha" ]] || {
                rm -f "$dst.part" "$db.part"
                die 3 "$src: SHA-256 differs from the one $snap recorded"
            }
            mv "$dst.part" "$dst"
            echo "snapshot: $dst"
        else
            echo "snapshot: no $src: a resume trains that teacher again" >&2
        fi
    done <<<"$list"
    mv "$db.part" "$db"
    echo "snapshot: $db restored; carry on with bfbench run SCENARIO --resume --db $db"
    ;;
*)
    usage >&2
    exit 2
    ;;
esac
