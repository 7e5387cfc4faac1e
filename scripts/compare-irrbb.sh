#!/usr/bin/env bash
# Compares almanac binaries on the stored IRRBB run of issue #5, alternating them round by
# round on copies of one store, so that the host's drift (a fifth within the hour on the
# 2-core CI machine) falls on all of them alike. Prints, per run: wall time, user and system
# CPU, peak RSS, the analysis time, and the first 16 hex digits of the report's SHA-256 (a
# change that should not move results must keep it).
#
#   scripts/compare-irrbb.sh [ROUNDS] BINARY...     # default 3 rounds
#
# Needs the store and market of `scripts/bench-irrbb.sh 1000000` (target/bench/irrbb-1000000;
# BENCH_DIR= another). Each run gets a fresh copy of the store as imported: the first run's
# store is saved once as imported.db (later runs of bench-irrbb.sh add runs to almanac.db).
# Copy a binary aside before rebuilding (cp target/release/almanac /tmp/almanac-before).
# Work files in $TMPDIR (default /tmp), removed at the end. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    rounds=$1
    shift
fi
[ $# -ge 1 ] || { echo "usage: scripts/compare-irrbb.sh [ROUNDS] BINARY..." >&2; exit 2; }
dir=${BENCH_DIR:-target/bench/irrbb-1000000}
market=$dir/market-linear.toml
[ -f "$market" ] && [ -f "$dir/tape.csv" ] || {
    echo "compare-irrbb: no $dir: run scripts/bench-irrbb.sh 1000000 first" >&2
    exit 2
}
for b in "$@"; do
    [ -x "$b" ] || { echo "compare-irrbb: $b is not an executable" >&2; exit 2; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-irrbb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A store as imported, without the runs bench-irrbb.sh recorded in almanac.db.
if [ ! -f "$dir/imported.db" ]; then
    echo "== importing $dir/tape.csv once into $dir/imported.db"
    "$1" import "$dir/tape.csv" --mapping "$dir/mapping.toml" --db "$dir/imported.db" >/dev/null
fi
for r in $(seq 1 "$rounds"); do
    for b in "$@"; do
        rm -f "$tmp"/run.db*
        cp "$dir/imported.db" "$tmp/run.db"
        sync
        sleep 2
        start=$(date +%s.%N)
        ALMANAC_TIMINGS=1 /usr/bin/time -f "%U %S %M" -o "$tmp/time" "$b" run irrbb \
            --snapshot latest --market "$market" --per-contract --no-sensitivities \
            --db "$tmp/run.db" --out "$tmp/report.json" >/dev/null 2>"$tmp/err"
        end=$(date +%s.%N)
        read -r user sys rss <"$tmp/time"
        analysis=$(sed -n 's/^timing: analyse[^:]*: //p' "$tmp/err" | head -1)
        sha=$(sha256sum "$tmp/report.json" | cut -c1-16)
        printf '%-40s round %d  wall %6.2f s  user %6.2f s  sys %5.2f s  rss %5d MB  analysis %s  report %s\n' \
            "$b" "$r" "$(echo "$end - $start" | bc)" "$user" "$sys" $((rss / 1024)) "$analysis" "$sha"
    done
done
