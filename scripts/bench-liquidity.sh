#!/usr/bin/env bash
# Liquidity benchmark of issue #6: the sample bank with N contracts (default 1,000,000), the
# full liquidity run from the store — every position classified through the ACTUS engine, LCR,
# NSFR, the C 66.01 contractual ladder, counterbalancing capacity and survival horizon, and the
# three stress scenarios of examples/scenarios/liquidity.toml (one of them joint with the BCBS
# parallel-up rate shock) — the report written and stored; then the same with the sample
# bank's assumption set (behavioural ladder, stresses from the behavioural view). Timed with
# GNU time (wall, CPU, peak RSS). RUNS (default 3) repetitions of each.
#
#   scripts/bench-liquidity.sh [N]      # work files in target/bench/liquidity-N/
#
# Uses the existing target/release/almanac (`cargo build --release -p almanac-cli` first).
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${RUNS:-3}
A=$PWD/target/release/almanac
dir=target/bench/liquidity-$n
[ -x "$A" ] || { echo "bench-liquidity: $A not found: cargo build --release -p almanac-cli" >&2; exit 2; }
mkdir -p "$dir"
rm -f "$dir"/almanac.db "$dir"/almanac.db-* "$dir"/liquidity*.json
step() { local name=$1; shift; /usr/bin/time -v -o "$dir/time-$name.txt" "$A" "$@"; }
report() {
    local f=$dir/time-$1.txt
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$f")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$f")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.2f", $2/1048576}' "$f")
    printf '%-28s wall %s  cpu %ss  peak %s GB\n' "$1" "$wall" "$cpu" "$rss"
}
echo "== sample bank: $n contracts (seed 1) -> $dir"
step sample-bank sample-bank --contracts "$n" --seed 1 --out "$dir" >/dev/null
echo "== import"
step import import "$dir/tape.csv" --mapping "$dir/mapping.toml" --db "$dir/almanac.db"
for i in $(seq 1 "$runs"); do
    step "stress-$i" run liquidity --snapshot latest --market "$dir/market.toml" \
        --scenarios examples/scenarios/liquidity.toml --db "$dir/almanac.db" \
        --out "$dir/liquidity.json" >/dev/null
    report "stress-$i"
    step "stress-behaviour-$i" run liquidity --snapshot latest --market "$dir/market.toml" \
        --scenarios examples/scenarios/liquidity.toml --assumptions "$dir/assumptions.toml" \
        --db "$dir/almanac.db" --out "$dir/liquidity-behavioural.json" >/dev/null
    report "stress-behaviour-$i"
done
step base run liquidity --snapshot latest --market "$dir/market.toml" --db "$dir/almanac.db" \
    --out "$dir/liquidity-base.json" >/dev/null
report base
python3 - "$dir/liquidity.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"LCR {100 * d['lcr']['ratio']:.1f} %, NSFR {100 * d['nsfr']['ratio']:.1f} %")
for s in d["stresses"]:
    h = d["survival_horizon"][s["name"]]
    e = s["effects"]
    horizon = "beyond the last bucket" if h["beyond_last_bucket"] else f"{h['days']} days ({h['interpolated_days']:.1f})"
    print(f"{s['name']:<22} runoff {e['runoff'] / 1e6:9.1f} M  capacity {e['initial_capacity'] / 1e6:9.1f} M "
          f"(change {e['initial_capacity_change'] / 1e6:8.1f} M)  survival {horizon}")
PY
