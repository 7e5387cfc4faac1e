#!/usr/bin/env python3
"""The EVE part of the IRRBB benchmark (issue #5) done by QuantLib-Python, for a side-by-side
timing with `almanac run irrbb`: every contract (or a deterministic sample) valued on the base
curve and the six BCBS standardised shocked curves.

    python3 scripts/quantlib-eve.py CONTRACTS.json MARKET.toml --as-of 2025-12-31 \\
        [--sample N] [--json OUT]

CONTRACTS.json: an array of ACTUS term objects (as `almanac snapshots export` writes them).
MARKET.toml: a market snapshot (docs/market-data.md) with zero-rate or discount-factor curves;
curves with another interpolation than linear_zero are valued as linear_zero, with a warning
(the values then differ slightly from Almanac's on that market).

The work, and how it mirrors Almanac's (scripts/quantlib_actus.py has the conventions):

* 7 markets: the base and the six standardised scenarios (BCBS 2016 sizes, EUR 200/250/100 bp,
  decay x = 4, no floor), each a set of ql.ZeroCurve (linear zero, flat extrapolation). As in
  Almanac's default pillar mode the shift is added to every curve's zero rates at the pillar
  times and the curve re-interpolated (`--shock-mode continuous` instead evaluates the shift on
  a monthly grid to 60 years: close to Almanac's continuous mode, not exact).
* Per contract, QuantLib cash flows are built once (ql.Schedule dates, FixedRateCoupon
  accruals on the contract's day counter, SimpleCashFlow principal) and discounted by
  ql.CashFlows.npv on each market's discount curve. Contracts whose flows depend on the
  market (resets after the valuation date: floating PAM, resetting ANN, swaps) are rebuilt on
  each market, the forecasts coming from ql.IborIndex on that market's forecast curve — as
  Almanac re-evaluates exactly those contracts per scenario.
* Cash (CSH) is worth its balance; a non-maturity deposit (UMP) is repaid on demand, its
  balance discounted one day (Almanac's contractual view). Swaps (SWPPV) are valued as a fixed
  and a floating leg. Anything else is skipped, counted and listed.

Timings (time.perf_counter): reading the files apart; "EVE" = building the 7 markets, reading
each contract's terms, building its flows and valuing them on the 7 markets, and adding up.
With --sample N, N contracts evenly spread over the file are valued (contract floor(i x total /
N) for i < N: every k-th for k = total / N) and the time for all of them is extrapolated from
the time per contract.
"""
import argparse
import json
import os
import sys
import time
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import QuantLib as ql  # noqa: F401
except ImportError:
    raise SystemExit("QuantLib-Python is not installed: pip install QuantLib==1.44")

import quantlib_actus as qa  # noqa: E402

NAMES = ["base"] + qa.SCENARIOS


def self_check():
    """The shock shapes against the spec's worked example §6.1 (EUR, bp)."""
    rows = [(0.0028, -162.3233, 199.8181, 249.8251), (0.375, -139.9039, 176.7327, 227.6276),
            (3.5, -15.2577, 48.3841, 104.2155), (25, 89.5126, -59.4981, 0.4826)]
    eur = qa.BCBS_2016["EUR"]
    for t, steep, flat, short in rows:
        for name, want in (("steepener", steep), ("flattener", flat), ("short_up", short),
                           ("short_down", -short), ("parallel_up", 200), ("parallel_down", -200)):
            got = qa.bcbs_shift(name, eur, t) * 10_000
            assert abs(got - want) < 1e-4, (name, t, got, want)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("contracts")
    ap.add_argument("market")
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--sample", type=int, default=0,
                    help="value every k-th contract, N in all (0: every contract)")
    ap.add_argument("--json", help="write the results (totals, timings, per-contract PVs)")
    ap.add_argument("--shock-mode", choices=["pillars", "continuous"], default="pillars")
    ap.add_argument("--zero-missing-accrued", action="store_true",
                    help="running contracts without accruedInterest start from 0 accrued "
                         "(by default it is derived as ACTUS and Almanac do: from the last "
                         "interest payment date up to the status date)")
    args = ap.parse_args()
    qa.require_quantlib()
    self_check()

    t0 = time.perf_counter()
    with open(args.contracts, "rb") as f:
        terms = json.load(f)
    if isinstance(terms, dict):
        terms = terms.get("contracts", [])
    terms = [t.get("terms", t) for t in terms]
    with open(args.market, "rb") as f:
        market_doc = tomllib.load(f)
    t_read = time.perf_counter() - t0

    as_of = qa.parse_date(args.as_of)
    total = len(terms)
    if args.sample and args.sample < total:
        # Evenly spread over the file (which is in product order): contract floor(i x total / N).
        step = total / args.sample
        chosen = [i * total // args.sample for i in range(args.sample)]
    else:
        step = 1
        chosen = range(total)

    # ---- EVE ---------------------------------------------------------------------------------
    t1 = time.perf_counter()
    ql.Settings.instance().evaluationDate = as_of
    snap = qa.Snapshot(market_doc, args.market)
    if snap.as_of != as_of:
        raise SystemExit(f"{args.market} is as of {qa.iso(snap.as_of)}, not {args.as_of}")
    markets = [snap.market("base")] + [snap.market(s, s, mode=args.shock_mode)
                                       for s in qa.SCENARIOS]
    t_markets = time.perf_counter() - t1
    totals = {}  # ccy -> [7]
    per_contract = []
    skipped = {}
    skipped_ids = []
    kinds = {}
    failed = []
    t2 = time.perf_counter()
    for i in chosen:
        t = terms[i]
        c = qa.read_contract(t, as_of, not args.zero_missing_accrued)
        if isinstance(c, str):
            skipped[c] = skipped.get(c, 0) + 1
            skipped_ids.append(t.get("contractID"))
            continue
        try:
            pvs = qa.value_on(c, markets)
        except (KeyError, RuntimeError) as e:
            failed.append((c.id, str(e)))
            continue
        key = c.type + (" (matured)" if c.kind == "matured" else
                        " (floating)" if c.reads_market else "")
        kinds[key] = kinds.get(key, 0) + 1
        acc = totals.setdefault(c.ccy, [0.0] * len(NAMES))
        for k, v in enumerate(pvs):
            acc[k] += v
        per_contract.append((c.id, pvs))
    t_contracts = time.perf_counter() - t2
    t_eve = t_markets + t_contracts
    n = len(chosen)
    full = t_markets + t_contracts * total / n if n else t_markets

    for w in snap.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"QuantLib {ql.__version__} EVE, as of {args.as_of}: {total} contracts in "
          f"{args.contracts}" + (f", sample of {n} (one in {step:.2f})" if step > 1 else ""))
    print(f"  read files           {t_read:10.3f} s (not counted)")
    print(f"  build 7 markets      {t_markets:10.3f} s")
    print(f"  value contracts      {t_contracts:10.3f} s  ({n} contracts x 7 markets, "
          f"{n / t_contracts if t_contracts else 0:,.0f} contracts/s)")
    print(f"  EVE total            {t_eve:10.3f} s")
    if step > 1:
        print(f"  extrapolated to all {total} contracts: {full:,.1f} s")
    print(f"  valued by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    if skipped:
        print(f"  SKIPPED {sum(skipped.values())} contracts (not in the totals):")
        for r, k in sorted(skipped.items()):
            print(f"    {k:8d}  {r}")
    if failed:
        print(f"  FAILED {len(failed)} contracts (not in the totals), e.g. {failed[:3]}")
    for ccy, acc in sorted(totals.items()):
        print(f"  EVE {ccy} (sum over the valued contracts):")
        for name, v in zip(NAMES, acc):
            d = "" if name == "base" else f"  change {v - acc[0]:18.2f}"
            print(f"    {name:14s} {v:20.2f}{d}")
    if args.json:
        doc = {
            "quantlib_version": ql.__version__,
            "as_of": args.as_of,
            "market": args.market,
            "shock_mode": args.shock_mode,
            "calibration": "bcbs2016",
            "floor": "none",
            "contracts_total": total,
            "contracts_chosen": n,
            "sample_every": step,
            "contracts_valued": len(per_contract),
            "seconds": {"read": t_read, "markets": t_markets, "contracts": t_contracts,
                        "eve": t_eve, "eve_extrapolated_to_all": full},
            "contracts_per_second": n / t_contracts if t_contracts else None,
            "valued_by_kind": kinds,
            "skipped": skipped,
            "skipped_ids": skipped_ids,
            "failed": [{"contract_id": i, "reason": r} for i, r in failed],
            "eve": {ccy: dict(zip(NAMES, acc)) for ccy, acc in totals.items()},
            "contracts": [{"contract_id": i, "pv": dict(zip(NAMES, v))}
                          for i, v in per_contract],
        }
        with open(args.json, "w") as f:
            json.dump(doc, f)
            f.write("\n")


if __name__ == "__main__":
    main()
