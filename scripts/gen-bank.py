#!/usr/bin/env python3
"""Writes a synthetic bank of N contracts as ACTUS-term CSV (for the end-to-end benchmark).

Usage: gen-bank.py N OUT.csv   (deterministic: the same N gives the same file)
Mix: 40 % monthly annuity mortgages (10-30 y), 20 % quarterly linear loans, 20 % fixed bullet
bonds/deposits (annual or quarterly coupons, RPA or RPL), 20 % term deposits (RPL, bullet).
"""
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
cols = ["contractID", "contractType", "contractRole", "currency", "statusDate",
        "initialExchangeDate", "maturityDate", "notionalPrincipal", "nominalInterestRate",
        "dayCountConvention", "cycleAnchorDateOfInterestPayment", "cycleOfInterestPayment",
        "cycleAnchorDateOfPrincipalRedemption", "cycleOfPrincipalRedemption",
        "nextPrincipalRedemptionPayment"]
with open(out, "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(n):
        y0 = 2026 + rng.randrange(0, 2)
        m0 = 1 + rng.randrange(12)
        ied = f"{y0}-{m0:02d}-01"
        nxt = f"{y0 + (m0 // 12)}-{m0 % 12 + 1:02d}-01"
        u = rng.random()
        rate = f"{rng.uniform(0.005, 0.06):.5f}"
        if u < 0.4:
            years = rng.choice([10, 15, 20, 25, 30])
            row = [f"M{i}", "ANN", "RPA", "EUR", "2025-12-31", ied, f"{y0 + years}-{m0:02d}-01",
                   str(rng.randrange(50, 500) * 1000), rate, "30E360", nxt, "P1ML1", nxt,
                   "P1ML1", ""]
        elif u < 0.6:
            years = rng.choice([3, 5, 7, 10])
            notional = rng.randrange(10, 200) * 10000
            row = [f"L{i}", "LAM", "RPA", "EUR", "2025-12-31", ied, f"{y0 + years}-{m0:02d}-01",
                   str(notional), rate, "A360", "", "P3ML1", "", "P3ML1",
                   str(notional / (4 * years))]
        elif u < 0.8:
            years = rng.choice([2, 5, 7, 10])
            row = [f"B{i}", "PAM", rng.choice(["RPA", "RPL"]), "EUR", "2025-12-31", ied,
                   f"{y0 + years}-{m0:02d}-01", str(rng.randrange(1, 100) * 100000), rate,
                   "AA", "", rng.choice(["P1YL1", "P3ML1"]), "", "", ""]
        else:
            row = [f"D{i}", "PAM", "RPL", "EUR", "2025-12-31", ied,
                   f"{y0 + 1}-{m0:02d}-01", str(rng.randrange(1, 50) * 1000), rate, "A365",
                   "", "", "", "", ""]
        f.write(",".join(row) + "\n")
