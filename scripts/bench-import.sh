#!/usr/bin/env bash
# End-to-end benchmark of the store path: a generated bank of N contracts (default 1,000,000)
# is imported, its cash flows run and replayed, and the audit log verified. Prints wall time
# and peak memory of each step (GNU time). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
cargo build --release --locked -p almanac-cli -q
A=$PWD/target/release/almanac
cd "$dir"
rm -f bench.db bench.db-*
[ -f "bank-$n/tape.csv" ] || "$A" sample-bank --contracts "$n" --out "bank-$n" >/dev/null
step() { /usr/bin/time -f "$1: %e s, peak %M KiB" "${@:2}"; }
step import "$A" import "bank-$n/tape.csv" --mapping "bank-$n/mapping.toml" --db bench.db
step run "$A" run cashflows --snapshot latest --market "bank-$n/market.toml" --db bench.db
run=$("$A" runs list --db bench.db --json | sed -n 's/.*"id": "\(run-[0-9a-f]*\)".*/\1/p' | head -1)
step replay "$A" runs replay "$run" --db bench.db
step audit "$A" audit verify --db bench.db
ls -l bench.db
