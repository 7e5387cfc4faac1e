#!/usr/bin/env bash
# IRRBB benchmark of issue #5: the sample bank with N contracts (default 1,000,000), base + six
# standardised shocks, EVE with per-contract PVs, 19-bucket gap and 1-year NII, timed with GNU
# time (wall time, peak RSS) RUNS times (default 3; the figure is their median: this
# machine's speed drifts by a fifth within the hour); then the EVE part done by QuantLib-Python on the same contracts
# and the same curves (scripts/quantlib-eve.py, on a deterministic sample of QL_SAMPLE
# contracts, default 20,000, extrapolated to N), and one summary: timings, ratio, and the
# relative difference of EVE per scenario between the two engines.
#
#   scripts/bench-irrbb.sh [N]          # from anywhere; work files in target/bench/irrbb-N/
#   QL_SAMPLE=0 scripts/bench-irrbb.sh 20000   # QuantLib on every contract
#
# Uses the existing target/release/almanac (it does not build; `cargo build --release -p
# almanac-cli` first). Needs QuantLib-Python 1.44: pip install QuantLib==1.44. Not part of CI.
#
# Both engines value on the same curves: market-linear.toml is the sample bank's market.toml
# with every curve interpolated linear in the zero rate (the only interpolation the QuantLib
# side reproduces exactly).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
sample=${QL_SAMPLE:-20000}
runs=${RUNS:-3}
as_of=2025-12-31
A=$PWD/target/release/almanac
dir=target/bench/irrbb-$n

die() { echo "bench-irrbb: $*" >&2; exit 2; }

# QuantLib first: fail before the long steps.
if ! python3 -c 'import QuantLib' 2>/dev/null; then
    die "QuantLib-Python is not installed. Install it with: pip install QuantLib==1.44"
fi
qlv=$(python3 -c 'import QuantLib; print(QuantLib.__version__)')
[ "$qlv" = "1.44" ] || die "QuantLib 1.44 required, found $qlv. Install it with: pip install QuantLib==1.44"

# The binary may be being rebuilt by someone else: wait for it briefly before each step.
binary() {
    local i
    for i in $(seq 1 30); do
        [ -x "$A" ] && return 0
        sleep 2
    done
    die "$A not found: cargo build --release -p almanac-cli"
}
binary
"$A" run irrbb --help >/dev/null 2>&1 || die "this almanac has no 'run irrbb' command (rebuild target/release/almanac)"
"$A" snapshots export --help >/dev/null 2>&1 || die "this almanac has no 'snapshots export' command (rebuild target/release/almanac)"

bin_stamp=$(stat -c %y "$A")
mkdir -p "$dir"
# (imported.db: scripts/compare-irrbb.sh's store as imported, of the tape written below.)
rm -f "$dir"/almanac.db "$dir"/almanac.db-* "$dir"/imported.db "$dir"/irrbb*.json "$dir"/contracts.json "$dir"/quantlib.json
# step NAME ARGS...: runs the almanac binary under GNU time (wall time, peak RSS in time-NAME.txt).
step() { local name=$1; shift; binary; /usr/bin/time -v -o "$dir/time-$name.txt" "$A" "$@"; }
# settle: the import's 1.4 GB (and each run's report) written back to disk first, so that a
# timed run does not compete with the kernel's write-back of the step before it.
settle() { sync; sleep 2; }

echo "== sample bank: $n contracts (seed 1) -> $dir"
step sample-bank sample-bank --contracts "$n" --seed 1 --out "$dir" >/dev/null
echo "== import"
step import import "$dir/tape.csv" --mapping "$dir/mapping.toml" --db "$dir/almanac.db"

# The market with every curve linear in the zero rate (same pillars and rates).
python3 - "$dir/market.toml" "$dir/market-linear.toml" <<'EOF'
import re, sys
src, out = sys.argv[1], sys.argv[2]
lines = []
for line in open(src).read().splitlines():
    if re.match(r"\s*interpolation\s*=", line):
        continue
    lines.append(line)
    if re.match(r"\s*\[\[(curve|spread)\]\]\s*$", line):
        lines.append('interpolation = "linear_zero"')
open(out, "w").write("\n".join(lines) + "\n")
EOF

echo "== almanac run irrbb: the issue's scope (EVE base + 6 shocks with per-contract PVs and"
echo "   the KAO add-on, 19-bucket gap, 1-year NII; no sensitivities), $runs times"
for k in $(seq 1 "$runs"); do
    settle
    step "irrbb-run$k" run irrbb --snapshot latest --market "$dir/market-linear.toml" \
        --no-sensitivities \
        --per-contract --out "$dir/irrbb.json" --db "$dir/almanac.db" > "$dir/irrbb-run$k.txt"
done
cat "$dir/irrbb-run1.txt" | tee "$dir/irrbb.txt"
echo "== almanac run irrbb: everything (the same plus PV01, key rates, duration, convexity)"
settle
step irrbb-full run irrbb --snapshot latest --market "$dir/market-linear.toml" \
    --per-contract --out "$dir/irrbb-full.json" --db "$dir/almanac.db" >/dev/null
echo "== almanac run irrbb with caps and floors at intrinsic value (for the QuantLib comparison)"
# QuantLib applies caps and floors to the projected rates: the per-contract PVs compare like
# for like at intrinsic value (with the default KAO, EVE holds the contracts without them).
settle
step irrbb-intrinsic run irrbb --snapshot latest --market "$dir/market-linear.toml" \
    --automatic-options intrinsic --no-sensitivities \
    --per-contract --out "$dir/irrbb-intrinsic.json" --db "$dir/almanac.db" >/dev/null

echo "== export the snapshot's contracts"
step export snapshots export latest --out "$dir/contracts.json" --db "$dir/almanac.db"

echo "== QuantLib-Python EVE (sample ${sample:-all})"
python3 scripts/quantlib-eve.py "$dir/contracts.json" "$dir/market-linear.toml" --as-of "$as_of" \
    --sample "$sample" --json "$dir/quantlib.json" | tee "$dir/quantlib.txt"

binary
bin_after=$(stat -c %y "$A")
python3 - "$dir" "$n" "$bin_stamp" "$bin_after" "$runs" <<'EOF'
import json, os, re, statistics, sys
d, n, stamp, after, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])


def gnu_time(name):
    text = open(f"{d}/time-{name}.txt").read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return secs, rss / 1024


def cpu(name):
    text = open(f"{d}/time-{name}.txt").read()
    user = float(re.search(r"User time \(seconds\): (\S+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", text).group(1))
    pct = re.search(r"Percent of CPU this job got: (\S+)", text).group(1)
    return user + system, pct


al = json.load(open(f"{d}/irrbb-intrinsic.json"))
ql = json.load(open(f"{d}/quantlib.json"))
names = ["base", "parallel_up", "parallel_down", "steepener", "flattener", "short_up",
         "short_down"]
per = {c["contract_id"]: c["pv"] for c in al.get("contracts", [])}
timed = sorted((gnu_time(f"irrbb-run{k}"), k) for k in range(1, runs + 1))
# The median run (the lower middle one of an even number).
(t_run, rss_run), median_k = timed[(len(timed) - 1) // 2]
t_full, rss_full = gnu_time("irrbb-full")
t_imp, rss_imp = gnu_time("import")
t_gen, _ = gnu_time("sample-bank")
t_exp, _ = gnu_time("export")
count = len(per) or ql["contracts_total"]
ql_s = ql["seconds"]
ql_full = ql_s["eve_extrapolated_to_all"]
print()
print(f"==== IRRBB benchmark, sample bank of {n} requested contracts ({count} valued by Almanac, "
      f"{ql['contracts_total']} exported), as of {ql['as_of']}")
print(f"  binary target/release/almanac of {stamp[:19]}"
      + ("" if after == stamp else f" -- REBUILT during the run (now {after[:19]}): "
         f"the steps may have used different builds"))
print(f"  sample-bank {t_gen:.1f} s, import {t_imp:.1f} s (peak {rss_imp:,.0f} MB), "
      f"export {t_exp:.1f} s")
print(f"  Almanac  run irrbb        {t_run:9.2f} s wall   {count / t_run:12,.0f} contracts/s   "
      f"peak RSS {rss_run:,.0f} MB   (median of {runs} runs: "
      + ", ".join(f"{gnu_time(f'irrbb-run{k}')[0]:.2f}" for k in range(1, runs + 1))
      + " s, in order)")
cpu_run, pct_run = cpu(f"irrbb-run{median_k}")
print(f"           CPU {cpu_run:.1f} s (user + system), {pct_run} of one core; load average "
      f"now {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores")
print(f"           (EVE base + 6 shocks with per-contract PVs and KAO, 19-bucket gap, 1-year "
      f"NII, reading the snapshot, storing the run and writing the JSON)")
cpu_full, _ = cpu("irrbb-full")
print(f"  Almanac  with sensitivities {t_full:7.2f} s wall   {count / t_full:12,.0f} contracts/s   "
      f"peak RSS {rss_full:,.0f} MB, CPU {cpu_full:.1f} s")
k = ql["contracts_chosen"]
print(f"  QuantLib EVE only         {ql_s['eve']:9.2f} s for {k} contracts "
      f"({ql['contracts_per_second']:,.0f} contracts/s)"
      + (f", extrapolated to {ql['contracts_total']}: {ql_full:,.1f} s" if k < ql["contracts_total"]
         else ""))
ratio = ql_full / t_run
print(f"  ratio QuantLib EVE / Almanac whole run: {ratio:,.0f}x")
print(f"  targets: whole run < 10 s: {'met' if t_run < 10 else 'NOT met'} ({t_run:.2f} s, the median); "
      f">= 100x faster than QuantLib: {'met' if ratio >= 100 else 'NOT met'} ({ratio:,.0f}x)")
if ql["skipped"]:
    print(f"  QuantLib skipped {sum(ql['skipped'].values())} contracts: {ql['skipped']}")
if ql["failed"]:
    print(f"  QuantLib failed on {len(ql['failed'])} contracts, e.g. {ql['failed'][:3]}")
if al.get("failed"):
    print(f"  Almanac failed on {len(al['failed'])} contracts, e.g. {al['failed'][:3]}")
# Agreement: QuantLib's totals against Almanac's per-contract PVs of the same contracts.
ids = [c["contract_id"] for c in ql["contracts"]]
missing = [i for i in ids if i not in per]
if missing:
    print(f"  {len(missing)} contracts valued by QuantLib have no Almanac PV, e.g. {missing[:3]}")
ids = [i for i in ids if i in per]
ql_by = {c["contract_id"]: c["pv"] for c in ql["contracts"]}
print(f"  agreement on the {len(ids)} contracts QuantLib valued (sum of Almanac's per-contract "
      f"PVs of the same contracts):")
print(f"    {'scenario':14s} {'Almanac':>20s} {'QuantLib':>20s} {'relative diff':>14s}")
for s in names:
    a = sum(per[i][s] for i in ids)
    q = sum(ql_by[i][s] for i in ids)
    print(f"    {s:14s} {a:20.2f} {q:20.2f} {abs(a - q) / max(abs(a), 1e-300):14.2e}")
worst, where, over = 0.0, None, 0
for i in ids:
    for s in names:
        a, q = per[i][s], ql_by[i][s]
        r = abs(a - q) / max(abs(a), abs(q), 1.0)
        if r > 1e-9:
            over += 1
        if r > worst:
            worst, where = r, (i, s, a, q)
print(f"    per contract: worst relative difference {worst:.2e} {where if worst > 1e-9 else ''}; "
      f"{over} contract-scenario values differ by more than 1e-9")
ccy = al.get("currency")
if k == ql["contracts_total"] and al.get("eve") and ccy in ql["eve"]:
    print(f"  whole portfolio, {ccy} EVE as reported by each engine:")
    for s in names:
        a = al["eve"]["base"] if s == "base" else al["eve"]["scenarios"][s]["value"]
        q = ql["eve"][ccy][s]
        print(f"    {s:14s} {a:20.2f} {q:20.2f} {abs(a - q) / max(abs(a), 1e-300):14.2e}")
EOF
