#!/usr/bin/env bash
# End-to-end benchmark: `almanac cashflows` over N generated contracts streamed to a file.
# Prints wall time, contracts per second and peak memory (from /usr/bin/time or /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
[ -f "$dir/bank-$n.csv" ] || python3 scripts/gen-bank.py "$n" "$dir/bank-$n.csv"
cargo build --release --locked -p almanac-cli -q
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v ./target/release/almanac cashflows --contracts "$dir/bank-$n.csv" \
    --out "$dir/cashflows-$n.csv" 2> "$dir/time.txt" || { cat "$dir/time.txt"; exit 1; }
  peak=$(grep "Maximum resident" "$dir/time.txt" | awk '{print $6}')
else
  ./target/release/almanac cashflows --contracts "$dir/bank-$n.csv" --out "$dir/cashflows-$n.csv"
  peak="?"
fi
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc -l)
rows=$(($(wc -l < "$dir/cashflows-$n.csv") - 1))
echo "contracts=$n events=$rows seconds=$secs contracts_per_second=$(echo "$n / $secs" | bc) peak_rss_kib=$peak cores=$(nproc)"
