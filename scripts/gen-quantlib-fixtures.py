#!/usr/bin/env python3
"""Writes the QuantLib reference fixtures for contract present values
(crates/almanac-analytics/tests/fixtures/quantlib/), read by
crates/almanac-analytics/tests/quantlib_pv.rs (issue #5: an independent check of contract values).

Generated with QuantLib-Python 1.44 (`pip install QuantLib==1.44`; the script refuses any other
version). Everything is deterministic (fixed seed, no clock) except the `generated_on` field of
the metadata, which is today's date unless SOURCE_DATE_EPOCH is set; with it the output is
byte-identical on every run:

    pip install QuantLib==1.44
    SOURCE_DATE_EPOCH=1767139200 python3 scripts/gen-quantlib-fixtures.py   # from the repo root

Files written:

* contracts.json      the portfolio: an array of ACTUS term objects (PAM fixed / floating /
                      zero-coupon / interest at maturity, LAM, ANN, floating LAM and ANN; RPA and
                      RPL; day counts A360, A365, AA, 30E360, 30E360ISDA; monthly, quarterly,
                      semi-annual and annual cycles; forward-starting, seasoned from origination
                      and seasoned "tape style"; odd first periods, long last stubs, EOM).
* market-<name>.toml  one market snapshot per curve set (docs/market-data.md format): base,
                      parallel_up_200, parallel_down_200, steepener. Every curve is given as
                      explicit continuously compounded zero rates (the shocked ones too: the
                      shift is applied here, at the pillars, and the shifted rates are written).
* expected.json       {"metadata": {...}, "pv": {contract_id: {market_name: pv}}}, and per
                      contract a one-line description of what it covers.

The independent valuer is QuantLib: each contract is turned into QuantLib cash flows
(ql.Schedule for every date grid, FixedRateCoupon / IborCoupon / ql.IborLeg for interest,
SimpleCashFlow for principal, ql day counters for every accrual) and discounted with
ql.CashFlows.npv on a ql.ZeroCurve. Nothing is read from Almanac's output. The amortisation
rules (linear amortiser, annuity sizing) are written out from their contractual meaning in
scripts/quantlib_actus.py (build_leg, annuity), shared with scripts/quantlib-eve.py, which
values the ACTUS terms written here the same way (it reproduces expected.json; the KNOWN-
contract without accruedInterest only with --derive-missing-accrued).

Conventions, mirrored from Almanac's documented ones (docs/market-data.md,
crates/almanac-market/src/curve.rs, crates/almanac-market/src/snapshot.rs,
crates/almanac-actus/src/observer.rs):

* Valuation date 2025-12-31. PV = sum of every flow dated strictly after it, discounted to it,
  from the bank's side (RPA +1, RPL -1). A forward-starting contract's initial exchange (after
  the valuation date) is a flow and counts.
* Curves: continuously compounded zero rates at tenor pillars (pillar date = as-of + tenor,
  unadjusted, day clipped at month end), time = ACT/365F from the as-of date, linear in the zero
  rate between pillars, flat zero rate before the first pillar and after the last one.
  QuantLib: ql.ZeroCurve(Actual365Fixed, Linear, Continuous) with an extra node at the as-of
  date carrying the first pillar's rate and one 100 years out carrying the last pillar's rate,
  because QuantLib's own extrapolation beyond the last node is flat *forward*, not flat zero.
* Each currency discounts on its discount curve (EUR-ESTR, USD-SOFR).
* Floating resets: ACTUS RR at the unadjusted reset date d, no fixing lag. For d on or before
  the valuation date the rate is the stored fixing (written to every market file; identical in
  all markets); after it, the simple forward over [d, d + index tenor] of the index's forecast
  curve on the index day count, (DF(d)/DF(d + tenor) - 1) / tau. QuantLib: an IborIndex with 0
  fixing days, NullCalendar, Unadjusted, no end-of-month rule, and
  IborCoupon.createIndexedCoupons() (the forward spans the index tenor, not the coupon period).
  New rate = fixing + rateSpread (multiplier 1, no caps or floors).
* No business-day adjustment (ACTUS NOS, calendar NC), so QuantLib schedules use NullCalendar
  and Unadjusted. Date grids are anchor + k x cycle from the anchor, day clipped at month end
  (endOfMonthConvention SD) or moved to month end (EOM), a short last stub for L1 cycles, a long
  one for L0 (QuantLib: nextToLastDate). An anchor off the grid from the initial exchange gives
  an odd first period (QuantLib: firstDate).
* Day counts: A360 = Actual360, A365 = Actual365Fixed, AA = ActualActual(ISDA),
  30E360 = Thirty360(Eurobond), 30E360ISDA = Thirty360(German, maturity date).
* LAM: nextPrincipalRedemptionPayment per redemption date (the last one capped at what is
  left, the maturity repays the rest); when it is not given, notional / number of redemption
  dates including maturity. Interest on the outstanding notional, split at every redemption.
* ANN: constant instalment (interest + principal) on the redemption dates, sized so that the
  loan is repaid on the last date (maturity), with exact day-count fractions per period; given
  as nextPrincipalRedemptionPayment (then the maturity pays what is left) or computed. Floating
  annuities are re-sized after every reset on the outstanding notional, the new rate and the
  remaining dates (ACTUS PRF).
* "Tape style" seasoned contracts are described as of the valuation date (statusDate
  2025-12-31): notionalPrincipal = outstanding, nominalInterestRate = rate in force,
  accruedInterest = interest accrued since the last payment (QuantLib accruedAmount), anchors =
  the next dates. Their contractual flows are the same as those of the originated contract.

Known disagreements are not hidden here: every contract is valued from its contractual terms.
The Rust test lists the contracts on which Almanac disagrees and why.
"""
import datetime as dt
import json
import math
import os
import random
import sys

import QuantLib as ql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The ACTUS -> QuantLib construction shared with scripts/quantlib-eve.py.
from quantlib_actus import (NULL, UNADJ, add_months, annuity, build_leg,  # noqa: E402
                            cycle_code, day_counter, grid, iso, require_quantlib, schedule,
                            zero_curve)

require_quantlib()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates",
                   "almanac-analytics", "tests", "fixtures", "quantlib")
SEED = 20251231
AS_OF = ql.Date(31, 12, 2025)
ql.Settings.instance().evaluationDate = AS_OF
ql.IborCoupon.createIndexedCoupons()

# ---------------------------------------------------------------------------------------------
# Market data

PILLARS = ["1M", "3M", "6M", "1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "20Y", "30Y"]
BASE_CURVES = [
    # id, currency, discount curve of the currency, zero rates at PILLARS
    ("EUR-ESTR", "EUR", True,
     [0.0190, 0.0192, 0.0195, 0.0198, 0.0205, 0.0212, 0.0225, 0.0236, 0.0250, 0.0265, 0.0272,
      0.0268]),
    ("EUR-EURIBOR3M", "EUR", False,
     [0.0201, 0.0204, 0.0207, 0.0211, 0.0219, 0.0226, 0.0239, 0.0250, 0.0263, 0.0277, 0.0283,
      0.0279]),
    ("EUR-EURIBOR6M", "EUR", False,
     [0.0208, 0.0211, 0.0215, 0.0219, 0.0228, 0.0235, 0.0248, 0.0259, 0.0272, 0.0286, 0.0291,
      0.0287]),
    ("USD-SOFR", "USD", True,
     [0.0395, 0.0390, 0.0383, 0.0375, 0.0362, 0.0358, 0.0364, 0.0373, 0.0389, 0.0405, 0.0416,
      0.0421]),
]
# name, currency, forecast curve, tenor (months), day count code
INDICES = [
    ("EURIBOR1M", "EUR", "EUR-EURIBOR3M", 1, "A360"),
    ("EURIBOR3M", "EUR", "EUR-EURIBOR3M", 3, "A360"),
    ("EURIBOR6M", "EUR", "EUR-EURIBOR6M", 6, "A360"),
    ("EURIBOR12M", "EUR", "EUR-EURIBOR6M", 12, "A360"),
    ("EUROIS1Y", "EUR", "EUR-ESTR", 12, "A365"),
    ("EURSWAP5Y", "EUR", "EUR-EURIBOR6M", 60, "30E360"),
    ("USDTERM3M", "USD", "USD-SOFR", 3, "A360"),
]
INDEX = {i[0]: i for i in INDICES}
FIXING_LEVEL = {"EURIBOR1M": 0.0195, "EURIBOR3M": 0.0200, "EURIBOR6M": 0.0210,
                "EURIBOR12M": 0.0220, "EUROIS1Y": 0.0190, "EURSWAP5Y": 0.0240,
                "USDTERM3M": 0.0430}


def tenor_period(s):
    n, unit = int(s[:-1]), s[-1]
    return ql.Period(n, {"M": ql.Months, "Y": ql.Years}[unit])


def steepener_shift(t):
    """The steepener of this fixture set (explicit, not the BCBS one): -65 bp at the short end
    rising to +90 bp at the long end, -0.0065 e^(-t/4) + 0.0090 (1 - e^(-t/4)), rounded to
    0.01 bp at each pillar."""
    w = math.exp(-t / 4.0)
    return round(-0.0065 * w + 0.0090 * (1.0 - w), 6)


def pillar_time(tenor):
    return ql.Actual365Fixed().yearFraction(AS_OF, AS_OF + tenor_period(tenor))


SHOCKS = {
    "base": lambda t: 0.0,
    "parallel_up_200": lambda t: 0.02,
    "parallel_down_200": lambda t: -0.02,
    "steepener": steepener_shift,
}


def market_curves(shock):
    out = []
    for cid, ccy, disc, rates in BASE_CURVES:
        shifted = [round(r + shock(pillar_time(p)), 10) for p, r in zip(PILLARS, rates)]
        out.append((cid, ccy, disc, shifted))
    return out


def ql_curve(rates):
    return zero_curve(AS_OF, [AS_OF + tenor_period(p) for p in PILLARS], rates)


def check_curve(curve, rates):
    """The QuantLib curve is Almanac's documented curve (hand formula at a few dates)."""
    ts = [pillar_time(p) for p in PILLARS]
    dc = ql.Actual365Fixed()
    for d in [AS_OF + 3, AS_OF + 45, ql.Date(17, 8, 2031), ql.Date(1, 3, 2044),
              ql.Date(30, 6, 2058), ql.Date(31, 12, 2070)]:
        t = dc.yearFraction(AS_OF, d)
        if t <= ts[0]:
            z = rates[0]
        elif t >= ts[-1]:
            z = rates[-1]
        else:
            i = max(k for k in range(len(ts)) if ts[k] <= t)
            z = rates[i] + (rates[i + 1] - rates[i]) * (t - ts[i]) / (ts[i + 1] - ts[i])
        want = math.exp(-z * t)
        got = curve.discount(d)
        assert abs(got - want) <= 1e-15, (d, got, want)


class Market:
    def __init__(self, name, shock):
        self.name = name
        self.curves = market_curves(shock)
        self.ql = {}
        for cid, ccy, disc, rates in self.curves:
            c = ql_curve(rates)
            check_curve(c, rates)
            self.ql[cid] = c
        self.discount = {ccy: self.ql[cid] for cid, ccy, disc, _ in self.curves if disc}
        self.indices = {}
        for name_, ccy, fc, months, dcc in INDICES:
            self.indices[name_] = ql.IborIndex(
                name_, ql.Period(months, ql.Months), 0,
                ql.EURCurrency() if ccy == "EUR" else ql.USDCurrency(), NULL, UNADJ, False,
                day_counter(dcc, ql.Date()), ql.YieldTermStructureHandle(self.ql[fc]))

    def index_rate(self, name, d):
        """QuantLib's fixing: the stored one up to today, else its forecast."""
        return self.indices[name].fixing(d)

    def check_forward(self, name, d):
        """Cross-check QuantLib's forecast against the documented formula."""
        _, _, fc, months, dcc = INDEX[name]
        end = d + ql.Period(months, ql.Months)
        c = self.ql[fc]
        tau = day_counter(dcc, ql.Date()).yearFraction(d, end)
        want = (c.discount(d) / c.discount(end) - 1.0) / tau
        got = self.index_rate(name, d)
        assert abs(got - want) <= 1e-15, (name, d, got, want)


# ---------------------------------------------------------------------------------------------
# Fixings (identical in every market): one per index and reset date on or before the as-of date.

FIXINGS = {}  # (index, ql.Date) -> rate
_fix_rng = random.Random(SEED + 1)


def fixing(index, d):
    assert d <= AS_OF
    key = (index, d)
    if key not in FIXINGS:
        FIXINGS[key] = round(FIXING_LEVEL[index] + _fix_rng.uniform(-0.0040, 0.0040), 6)
        for ix in ALL_QL_INDICES[index]:
            ix.addFixing(d, FIXINGS[key], True)
    return FIXINGS[key]


ALL_QL_INDICES = {name: [] for name in INDEX}

# ---------------------------------------------------------------------------------------------
# Contracts


class Deal:
    """A contract's economic terms; `actus()` writes them as ACTUS terms and `flows()` as
    QuantLib cash flows."""

    def __init__(self, cid, product, **kw):
        self.id = cid
        self.product = product  # PAM, ZCB, ZIM, LAM, ANN
        self.ccy = kw.pop("ccy", "EUR")
        self.role = kw.pop("role", "RPA")
        self.dc = kw.pop("dc")
        self.ied = kw.pop("ied")
        self.md = kw.pop("md")
        self.notional = kw.pop("notional")
        self.rate = kw.pop("rate", 0.0)
        self.ip_months = kw.pop("ip_months", None)
        self.ip_first = kw.pop("ip_first", None)  # an odd first payment date, if any
        self.ip_anchor_given = kw.pop("ip_anchor_given", True)
        self.long_last = kw.pop("long_last", False)
        self.eom = kw.pop("eom", False)
        self.pr_months = kw.pop("pr_months", None)
        self.pr_first = kw.pop("pr_first", None)
        self.pr_amount = kw.pop("pr_amount", None)  # LAM amount / ANN instalment, if given
        self.index = kw.pop("index", None)
        self.spread = kw.pop("spread", 0.0)
        self.rr_months = kw.pop("rr_months", None)
        self.rr_first = kw.pop("rr_first", None)
        self.premium = kw.pop("premium", None)
        self.style = kw.pop("style", "origination")  # origination | tape
        self.sd_offset = kw.pop("sd_offset", 1)  # origination: statusDate = IED - offset days
        self.omit_accrued = kw.pop("omit_accrued", False)
        self.desc = kw.pop("desc")
        keep_md = kw.pop("keep_md", False)
        assert not kw, kw
        # Keep every contract alive past the valuation date (whole years added to maturity, so
        # the date grids stay the same).
        while not keep_md and self.md <= AS_OF + 400:
            self.md = self.md + ql.Period(1, ql.Years)
        self.sign = 1.0 if self.role == "RPA" else -1.0
        # The dates the grids are generated from (ACTUS anchors): every grid is anchor + k x
        # cycle from its anchor, so a regular grid is anchored one cycle after the initial
        # exchange (moved to the month end under EOM), or at the initial exchange itself when
        # no interest anchor is written (the ACTUS default; this keeps the day of month of a
        # 29th-31st initial exchange, which a clipped anchor would lose).
        self.ip_seed = self.ip_first
        if self.ip_seed is None and self.ip_months is not None:
            self.ip_seed = (self.regular_first(self.ip_months) if self.ip_anchor_given
                            else self.ied)
        self.pr_seed = self.pr_first
        if self.pr_seed is None and self.pr_months is not None:
            self.pr_seed = self.regular_first(self.pr_months)
        self.rr_seed = self.rr_first if self.rr_first is not None else self.ied
        self.qdc = day_counter(self.dc, self.md)

    # -- dates ---------------------------------------------------------------------------------

    def regular_first(self, months):
        d = add_months(self.ied, months)
        if self.eom and ql.Date.isEndOfMonth(self.ied):
            d = ql.Date.endOfMonth(d)
        return d

    def ip_dates(self):
        """Interest payment dates, the initial exchange first."""
        if self.product == "ZIM":
            return [self.ied, self.md]
        if self.ip_months is None:
            return []
        return schedule(self.ied, self.md, self.ip_months, self.ip_seed, self.eom,
                        self.long_last)

    def pr_dates(self):
        """Scheduled redemption dates before maturity (LAM, ANN)."""
        if self.product not in ("LAM", "ANN"):
            return []
        s = schedule(self.ied, self.md, self.pr_months, self.pr_seed, self.eom)
        return [d for d in s if self.ied < d < self.md]

    def reset_dates(self):
        if self.index is None:
            return []
        s = schedule(self.ied, self.md, self.rr_months, self.rr_seed, self.eom)
        return [d for d in s if self.rr_seed <= d < self.md]

    # -- rates ---------------------------------------------------------------------------------

    def reset_rates(self, mkt):
        """Rate in force from each reset date on: fixing (past) or forecast, plus spread."""
        out = []
        for d in self.reset_dates():
            if d <= AS_OF:
                fixing(self.index, d)
            else:
                mkt.check_forward(self.index, d)
            out.append((d, mkt.index_rate(self.index, d) + self.spread))
        return out

    # -- cash flows -------------------------------------------------------------------------------

    def flows(self, mkt):
        """The QuantLib cash flows of the contract's whole life (those up to the valuation date
        are dropped by CashFlows.npv), from the lender's side: the role sign gives the bank's.
        Built by quantlib_actus.build_leg from the initial exchange: interest on every
        sub-period between payments, redemptions and resets, paid at the next payment date."""
        ied_flow = None
        if self.premium is not None or self.ied > AS_OF:
            ied_flow = -(self.notional + (self.premium or 0.0))
        leg, unpaid = build_leg(self.product, self.qdc, self.ied, self.md, self.notional,
                                self.rate, self.ip_dates(), self.pr_dates(),
                                self.reset_rates(mkt), self.pr_amount, ied_flow=ied_flow)
        assert not unpaid
        return leg

    def annuity(self, balance, start, rate, dates):
        """Constant instalment repaying `balance` (at `start`, nothing accrued) on `dates` (the
        last = maturity) with simple interest per period on the contract's day count."""
        return annuity(self.qdc, balance, start, rate, dates)

    def pv(self, mkt):
        leg = ql.Leg(self.flows(mkt))
        npv = ql.CashFlows.npv(leg, mkt.discount[self.ccy], False, AS_OF, AS_OF)
        return self.sign * npv

    def pv_ibor_leg(self, mkt):
        """PAM floaters resetting at every coupon start: the same PV from ql.IborLeg (a
        self-check of the sub-period construction above)."""
        s = ql.Schedule(self.ip_dates(), NULL, UNADJ)
        leg = ql.IborLeg([self.notional], s, mkt.indices[self.index], self.qdc, UNADJ, [0],
                         [1.0], [self.spread])
        flows = list(leg) + [ql.SimpleCashFlow(self.notional, self.md)]
        if self.ied > AS_OF:
            flows.append(ql.SimpleCashFlow(-self.notional, self.ied))
        return self.sign * ql.CashFlows.npv(ql.Leg(flows), mkt.discount[self.ccy], False, AS_OF,
                                            AS_OF)

    # -- the state at the valuation date (tape style) ------------------------------------------

    def state_at_as_of(self, mkt):
        """Outstanding notional, rate in force, interest accrued since the last payment, and
        the next interest / redemption / reset dates, as of the valuation date."""
        flows = self.flows(mkt)
        paid = [cf for cf in flows if isinstance(cf, ql.SimpleCashFlow) and cf.date() <= AS_OF
                and cf.date() > self.ied]
        outstanding = self.notional - sum(cf.amount() for cf in paid)
        accrued = 0.0
        for cf in flows:
            c = ql.as_fixed_rate_coupon(cf)
            if c is not None and c.date() > AS_OF and c.accrualStartDate() < AS_OF:
                accrued += c.accruedAmount(AS_OF)
        rate = self.rate
        for d, r in self.reset_rates(mkt):
            if d <= AS_OF:
                rate = r
        nxt = lambda ds: min(d for d in ds if d > AS_OF)
        return {
            "outstanding": outstanding,
            "rate": rate,
            "accrued": accrued,
            "next_ip": nxt(self.ip_dates() or [self.md]),
            "next_pr": nxt(self.pr_dates()) if self.pr_dates() else None,
            "next_rr": nxt(self.reset_dates()) if any(d > AS_OF for d in self.reset_dates())
            else None,
        }

    # -- ACTUS terms ---------------------------------------------------------------------------

    def actus(self, base):
        t = {
            "contractType": {"ZCB": "PAM", "ZIM": "PAM"}.get(self.product, self.product),
            "contractID": self.id,
            "contractRole": self.role,
            "currency": self.ccy,
            "statusDate": None,
            "initialExchangeDate": iso(self.ied),
            "maturityDate": iso(self.md),
            "notionalPrincipal": self.notional,
            "nominalInterestRate": self.rate,
            "dayCountConvention": self.dc,
        }
        if self.eom:
            t["endOfMonthConvention"] = "EOM"
        if self.premium is not None:
            t["premiumDiscountAtIED"] = self.premium
        if self.product == "ZIM":
            t["cycleAnchorDateOfInterestPayment"] = iso(self.md)
        elif self.ip_months is not None:
            if self.ip_seed != self.ied:
                t["cycleAnchorDateOfInterestPayment"] = iso(self.ip_seed)
            t["cycleOfInterestPayment"] = cycle_code(self.ip_months, self.long_last)
        if self.product in ("LAM", "ANN"):
            t["cycleAnchorDateOfPrincipalRedemption"] = iso(self.pr_seed)
            t["cycleOfPrincipalRedemption"] = cycle_code(self.pr_months)
            if self.pr_amount is not None:
                t["nextPrincipalRedemptionPayment"] = self.pr_amount
        if self.index is not None:
            t["cycleAnchorDateOfRateReset"] = iso(self.rr_seed)
            t["cycleOfRateReset"] = cycle_code(self.rr_months)
            t["marketObjectCodeOfRateReset"] = self.index
            t["rateSpread"] = self.spread
        if self.style == "origination":
            # Described at origination (the day before the initial exchange), or as of the
            # valuation date when that is earlier (forward-starting).
            t["statusDate"] = iso(min(self.ied - self.sd_offset, AS_OF))
        else:
            assert self.ied < AS_OF < self.md
            st = self.state_at_as_of(base)
            t["statusDate"] = iso(AS_OF)
            t["notionalPrincipal"] = st["outstanding"]
            t["nominalInterestRate"] = st["rate"]
            if not self.omit_accrued:
                t["accruedInterest"] = st["accrued"]
            if "cycleAnchorDateOfInterestPayment" in t or "cycleOfInterestPayment" in t:
                t["cycleAnchorDateOfInterestPayment"] = iso(st["next_ip"])
            if st["next_pr"] is not None:
                t["cycleAnchorDateOfPrincipalRedemption"] = iso(st["next_pr"])
            if self.index is not None:
                assert st["next_rr"] is not None
                t["cycleAnchorDateOfRateReset"] = iso(st["next_rr"])
            if self.product == "LAM" and self.pr_amount is None:
                # The original amount (notional / number of dates) carries on.
                t["nextPrincipalRedemptionPayment"] = self.notional / (len(self.pr_dates()) + 1)
        return t


# ---------------------------------------------------------------------------------------------
# The portfolio

DCS = ["A360", "A365", "AA", "30E360", "30E360ISDA"]
CYCLES = [1, 3, 6, 12]
IBOR_FOR = {1: "EURIBOR1M", 3: "EURIBOR3M", 6: "EURIBOR6M", 12: "EURIBOR12M"}


def build_portfolio():
    rng = random.Random(SEED)
    deals = []

    def day(y, m, dmax=28):
        return ql.Date(rng.randint(1, dmax), m, y)

    def any_day(y, m):
        # Include month ends (29, 30, 31) so that clipping and 30/360 rules are exercised.
        last = ql.Date.endOfMonth(ql.Date(1, m, y)).dayOfMonth()
        return ql.Date(rng.choice([rng.randint(1, 28), last, min(30, last), min(29, last)]), m, y)

    def notional():
        return float(rng.choice([50_000, 250_000, 1_000_000, 2_500_000, 10_000_000]) +
                     rng.randint(0, 99) * 1_000)

    def rate(lo=0.005, hi=0.065):
        return round(rng.uniform(lo, hi), 5)

    def role(i, k):
        return "RPA" if (i + k) % 2 == 0 else "RPL"

    for i, dc in enumerate(DCS):
        c = lambda k: CYCLES[(i + k) % 4]
        # ---- PAM fixed -----------------------------------------------------------------------
        ied = any_day(rng.randint(2021, 2024), rng.randint(1, 12))
        m = c(0)
        first = add_months(ied, m) - rng.randint(1, 20) if i % 2 == 0 else None
        deals.append(Deal(f"PAM-FIX-SEAS-{dc}", "PAM", dc=dc, role=role(i, 0), ied=ied,
                          md=add_months(ied, 12 * rng.randint(3, 9)), notional=notional(),
                          rate=rate(), ip_months=m, ip_first=first,
                          ip_anchor_given=(i % 3 != 1),
                          desc=f"PAM fixed seasoned from origination, {cycle_code(m)}"
                               + (", short first period" if first else "")))
        ied = any_day(2026, rng.randint(1, 12))
        m = c(1)
        long_last = i in (1, 3)
        md = add_months(ied, 12 * rng.randint(2, 15)) + (rng.randint(20, 80) if long_last else 0)
        first = add_months(ied, m) + rng.randint(5, 25) if i == 2 else None
        deals.append(Deal(f"PAM-FIX-FWD-{dc}", "PAM", dc=dc, role=role(i, 1), ied=ied, md=md,
                          notional=notional(), rate=rate(), ip_months=m, ip_first=first,
                          long_last=long_last,
                          desc=f"PAM fixed forward-starting, {cycle_code(m, long_last)}"
                               + (", long last stub" if long_last else "")
                               + (", long first period" if first else "")))
        ied = day(rng.randint(2020, 2025), rng.randint(1, 11))
        m = c(2)
        deals.append(Deal(f"PAM-FIX-TAPE-{dc}", "PAM", dc=dc, role="RPA", ied=ied,
                          md=add_months(ied, 12 * rng.randint(2, 12)), notional=notional(),
                          rate=rate(), ip_months=m, style="tape",
                          desc=f"PAM fixed seasoned, tape style (statusDate = as-of, accrued "
                               f"given), {cycle_code(m)}"))
        # ---- PAM floating --------------------------------------------------------------------
        ied = day(rng.randint(2022, 2025), rng.randint(1, 11))
        m = c(0)
        deals.append(Deal(f"PAM-FLT-SEAS-{dc}", "PAM", dc=dc, role=role(i, 1), ied=ied,
                          md=add_months(ied, 12 * rng.randint(3, 8)), notional=notional(),
                          rate=rate(0.01, 0.04), ip_months=m, index=IBOR_FOR[m], rr_months=m,
                          spread=round(rng.uniform(0.001, 0.025), 4),
                          desc=f"PAM floating seasoned from origination, {IBOR_FOR[m]} reset "
                               f"at every coupon start from the initial exchange, "
                               f"{cycle_code(m)}"))
        ied = day(2026, rng.randint(1, 12))
        m = c(3)
        deals.append(Deal(f"PAM-FLT-FWD-{dc}", "PAM", dc=dc, role=role(i, 0), ied=ied,
                          md=add_months(ied, 12 * rng.randint(2, 10)), notional=notional(),
                          rate=0.0, ip_months=m, index=IBOR_FOR[m], rr_months=m,
                          spread=round(rng.uniform(-0.002, 0.02), 4),
                          desc=f"PAM floating forward-starting, {IBOR_FOR[m]} reset at every "
                               f"coupon start, {cycle_code(m)}"))
        # first period fixed at nominalInterestRate; the reset cycle differs from the coupon one
        ied = day(rng.randint(2023, 2025), rng.randint(1, 10))
        ipm, rrm = [(6, 3), (3, 6), (12, 3), (6, 12), (3, 1)][i]
        deals.append(Deal(f"PAM-FLT-MIX-{dc}", "PAM", dc=dc, role=role(i, 0), ied=ied,
                          md=add_months(ied, 12 * rng.randint(3, 7)), notional=notional(),
                          rate=rate(0.01, 0.04), ip_months=ipm, index=IBOR_FOR[rrm],
                          rr_months=rrm, rr_first=add_months(ied, rrm),
                          spread=round(rng.uniform(0.0, 0.015), 4),
                          desc=f"PAM floating seasoned, first period at nominalInterestRate, "
                               f"coupons {cycle_code(ipm)} and resets {cycle_code(rrm)} on "
                               f"{IBOR_FOR[rrm]}"))
        if i % 2 == 0:
            ied = day(rng.randint(2022, 2025), rng.randint(1, 11))
            m = c(1)
            deals.append(Deal(f"PAM-FLT-TAPE-{dc}", "PAM", dc=dc, role="RPA", ied=ied,
                              md=add_months(ied, 12 * rng.randint(2, 6)), notional=notional(),
                              rate=rate(0.01, 0.04), ip_months=m, index=IBOR_FOR[m],
                              rr_months=m, spread=round(rng.uniform(0.001, 0.02), 4),
                              style="tape",
                              desc=f"PAM floating seasoned, tape style (rate in force and accrued "
                                   f"given, next reset as anchor), {IBOR_FOR[m]}, "
                                   f"{cycle_code(m)}"))
        # ---- zero coupon and interest at maturity --------------------------------------------
        ied = day(2026, rng.randint(1, 12)) if i % 2 == 0 else day(2024, rng.randint(1, 12))
        n = notional()
        price = round(rng.uniform(0.80, 0.98), 4)
        deals.append(Deal(f"ZCB-{dc}", "ZCB", dc=dc, role=role(i, 1), ied=ied,
                          md=add_months(ied, 12 * rng.randint(1, 12) + rng.randint(0, 11)),
                          notional=n, rate=0.0, premium=round(-n * (1 - price), 2),
                          desc="zero-coupon PAM (rate 0, bought at a discount via "
                               "premiumDiscountAtIED)"
                               + (", forward-starting" if i % 2 == 0 else ", seasoned")))
        ied = any_day(rng.randint(2025, 2026), rng.randint(1, 12))
        deals.append(Deal(f"ZIM-{dc}", "ZIM", dc=dc, role=role(i, 0), ied=ied,
                          md=add_months(ied, rng.choice([3, 6, 9, 12, 18, 24])) + rng.randint(0, 9),
                          notional=notional(), rate=rate(0.01, 0.04),
                          desc="PAM with interest paid at maturity only (term deposit style: "
                               "cycleAnchorDateOfInterestPayment = maturityDate, no cycle)"))
        # ---- LAM -----------------------------------------------------------------------------
        ied = any_day(rng.randint(2021, 2025), rng.randint(1, 10))
        m = c(2)
        md = add_months(ied, 12 * rng.randint(4, 10))
        n = notional()
        count = len(grid(add_months(ied, m), md, m)[0]) + 1
        deals.append(Deal(f"LAM-SEAS-{dc}", "LAM", dc=dc, role=role(i, 0), ied=ied, md=md,
                          notional=n, rate=rate(), ip_months=m, pr_months=m,
                          pr_amount=float(round(n / count * 1.013, -2)),
                          desc=f"LAM seasoned from origination, redemption and interest "
                               f"{cycle_code(m)}, fixed amount (balloon at maturity)"))
        ied = day(2026, rng.randint(1, 12))
        ipm, prm = [(3, 6), (1, 3), (6, 12), (6, 3), (3, 12)][i]
        deals.append(Deal(f"LAM-FWD-{dc}", "LAM", dc=dc, role=role(i, 1), ied=ied,
                          md=add_months(ied, 12 * rng.randint(3, 12)), notional=notional(),
                          rate=rate(), ip_months=ipm, pr_months=prm,
                          desc=f"LAM forward-starting, interest {cycle_code(ipm)}, redemption "
                               f"{cycle_code(prm)}, amount computed (notional / number of "
                               f"redemptions)"))
        ied = day(rng.randint(2021, 2024), rng.randint(1, 12))
        m = c(3)
        md = add_months(ied, 12 * rng.randint(5, 10))
        n = notional()
        count = len(grid(add_months(ied, m), md, m)[0]) + 1
        deals.append(Deal(f"LAM-TAPE-{dc}", "LAM", dc=dc, role="RPA", ied=ied, md=md,
                          notional=n, rate=rate(), ip_months=m, pr_months=m,
                          pr_amount=float(round(n / count, -1)), style="tape",
                          desc=f"LAM seasoned, tape style (outstanding and accrued given), "
                               f"{cycle_code(m)}"))
        # ---- ANN -----------------------------------------------------------------------------
        ied = any_day(rng.randint(2020, 2025), rng.randint(1, 10))
        m = c(0)
        deals.append(Deal(f"ANN-SEAS-{dc}", "ANN", dc=dc, role=role(i, 1), ied=ied,
                          md=add_months(ied, 12 * rng.randint(5, 25)), notional=notional(),
                          rate=rate(0.01, 0.05), ip_months=m, pr_months=m,
                          desc=f"ANN seasoned from origination, instalment computed, "
                               f"{cycle_code(m)}"))
        ied = day(2026, rng.randint(1, 12))
        m = c(1)
        dd = Deal(f"ANN-FWD-{dc}", "ANN", dc=dc, role=role(i, 0), ied=ied,
                  md=add_months(ied, 12 * rng.randint(5, 30)), notional=notional(),
                  rate=rate(0.01, 0.05), ip_months=m, pr_months=m,
                  desc=f"ANN forward-starting, instalment given rounded to cents (residual at "
                       f"maturity), {cycle_code(m)}")
        dd.pr_amount = round(dd.annuity(dd.notional, dd.ied, dd.rate, dd.pr_dates() + [dd.md]), 2)
        deals.append(dd)
        ied = day(rng.randint(2019, 2024), rng.randint(1, 12))
        m = c(2)
        deals.append(Deal(f"ANN-TAPE-{dc}", "ANN", dc=dc, role=role(i, 1), ied=ied,
                          md=add_months(ied, 12 * rng.randint(8, 25)), notional=notional(),
                          rate=rate(0.01, 0.05), ip_months=m, pr_months=m, style="tape",
                          desc=f"ANN seasoned, tape style (outstanding and accrued given, "
                               f"instalment re-computed by the engine), {cycle_code(m)}"))

    # ---- specific cases ----------------------------------------------------------------------
    deals += [
        Deal("ANN-FLT-12M", "ANN", dc="30E360", role="RPA", ied=ql.Date(15, 6, 2023),
             md=ql.Date(15, 6, 2043), notional=320_000.0, rate=0.0375, ip_months=1,
             pr_months=1, index="EURIBOR12M", rr_months=12, rr_first=ql.Date(15, 6, 2024),
             spread=0.0135,
             desc="floating ANN, monthly instalments re-sized after yearly EURIBOR12M resets "
                  "(two past fixings)"),
        Deal("ANN-FLT-5Y", "ANN", dc="A360", role="RPA", ied=ql.Date(1, 3, 2026),
             md=ql.Date(1, 3, 2046), notional=180_000.0, rate=0.0325, ip_months=1, pr_months=1,
             index="EURSWAP5Y", rr_months=60, rr_first=ql.Date(1, 3, 2031), spread=0.012,
             desc="floating ANN forward-starting, fixed 5 years then 5-yearly resets on a 5Y "
                  "index with a 30E360 day count"),
        Deal("LAM-FLT-3M", "LAM", dc="A360", role="RPL", ied=ql.Date(30, 9, 2024),
             md=ql.Date(30, 9, 2030), notional=6_000_000.0, rate=0.031, ip_months=3,
             pr_months=3, pr_amount=250_000.0, index="EURIBOR3M", rr_months=3,
             spread=0.0085,
             desc="floating LAM (RPL funding), quarterly EURIBOR3M resets from the initial "
                  "exchange, anchors on the 30th"),
        Deal("PAM-FLT-OIS-A365", "PAM", dc="A365", role="RPA", ied=ql.Date(10, 2, 2025),
             md=ql.Date(10, 2, 2032), notional=4_000_000.0, rate=0.02, ip_months=12,
             index="EUROIS1Y", rr_months=12, spread=0.004,
             desc="PAM floating on an index projected from the discount curve itself, A365 "
                  "index day count"),
        Deal("PAM-FLT-RESET-ON-ASOF", "PAM", dc="A360", role="RPA", ied=ql.Date(31, 12, 2024),
             md=ql.Date(31, 12, 2028), notional=7_500_000.0, rate=0.0, ip_months=3,
             ip_anchor_given=False, index="EURIBOR3M", rr_months=3, spread=0.0095,
             desc="PAM floating with a reset (and a coupon) on the valuation date itself: the "
                  "stored fixing applies, the coupon is not counted"),
        Deal("USD-PAM-FIX", "PAM", ccy="USD", dc="30E360", role="RPA",
             ied=ql.Date(15, 5, 2025), md=ql.Date(15, 5, 2035), notional=5_000_000.0,
             rate=0.0425, ip_months=6, desc="USD fixed bond, discounted on the USD curve"),
        Deal("USD-PAM-FLT", "PAM", ccy="USD", dc="A360", role="RPL", ied=ql.Date(20, 1, 2026),
             md=ql.Date(20, 1, 2031), notional=3_000_000.0, rate=0.0, ip_months=3,
             index="USDTERM3M", rr_months=3, spread=0.011,
             desc="USD floating liability forward-starting, USDTERM3M"),
        Deal("USD-ANN", "ANN", ccy="USD", dc="A365", role="RPA", ied=ql.Date(5, 8, 2024),
             md=ql.Date(5, 8, 2054), notional=450_000.0, rate=0.0615, ip_months=1, pr_months=1,
             desc="USD 30-year annuity"),
        Deal("PAM-EOM-30E360", "PAM", dc="30E360", role="RPA", ied=ql.Date(15, 1, 2026),
             md=ql.Date(30, 4, 2031), notional=2_000_000.0, rate=0.0333, ip_months=1,
             ip_first=ql.Date(28, 2, 2026), eom=True,
             desc="PAM endOfMonthConvention EOM, monthly from 28 Feb (every month end), short "
                  "first period"),
        Deal("ANN-EOM-AA", "ANN", dc="AA", role="RPA", ied=ql.Date(30, 11, 2025),
             md=ql.Date(31, 5, 2040), notional=275_000.0, rate=0.0289, ip_months=1,
             pr_months=1, eom=True,
             desc="ANN EOM from 30 Nov (payments every month end), ACT/ACT ISDA, first "
                  "redemption one month after a valuation-date-adjacent start"),
        Deal("PAM-30E360ISDA-FEB", "PAM", dc="30E360ISDA", role="RPL",
             ied=ql.Date(31, 8, 2023), md=ql.Date(29, 2, 2028), notional=1_500_000.0,
             rate=0.041, ip_months=6, ip_anchor_given=False,
             desc="30E360ISDA maturing on 29 Feb (the maturity-date rule), coupons 31 Aug / "
                  "end Feb"),
        Deal("PAM-30E360-31ST", "PAM", dc="30E360", role="RPA", ied=ql.Date(31, 3, 2025),
             md=ql.Date(31, 3, 2030), notional=1_000_000.0, rate=0.037, ip_months=3,
             ip_anchor_given=False,
             desc="30E360 from the 31st, no interest anchor (SD: 30 Jun, 30 Sep, 31 Dec ...)"),
        Deal("ANN-LONG-40Y", "ANN", dc="30E360", role="RPA", ied=ql.Date(1, 2, 2026),
             md=ql.Date(1, 2, 2066), notional=400_000.0, rate=0.034, ip_months=1, pr_months=1,
             desc="40-year annuity: flows beyond the last 30Y pillar (flat zero extrapolation)"),
        Deal("PAM-PAY-ON-ASOF", "PAM", dc="A360", role="RPA", ied=ql.Date(31, 3, 2025),
             md=ql.Date(31, 12, 2027), notional=800_000.0, rate=0.029, ip_months=3,
             ip_anchor_given=False,
             desc="coupon due exactly on the valuation date (excluded: flows strictly after)"),
        Deal("PAM-SD-EQ-IED", "PAM", dc="AA", role="RPL", ied=ql.Date(1, 7, 2024),
             md=ql.Date(1, 7, 2029), notional=2_200_000.0, rate=0.0305, ip_months=12,
             sd_offset=0, desc="statusDate equal to the initial exchange date"),
        Deal("PAM-SHORT-1M", "PAM", dc="A365", role="RPL", ied=ql.Date(5, 12, 2025),
             md=ql.Date(5, 1, 2026), notional=10_000_000.0, rate=0.0188, ip_months=1, keep_md=True,
             desc="one-month deposit maturing before the first curve pillar (flat zero "
                  "before it)"),
        # Tape-style contracts on which Almanac is known to disagree (see the Rust test).
        Deal("KNOWN-PAM-TAPE-RPL-ACCRUED", "PAM", dc="30E360", role="RPL",
             ied=ql.Date(15, 8, 2025), md=ql.Date(15, 8, 2028), notional=1_000_000.0,
             rate=0.04, ip_months=6, style="tape",
             desc="RPL PAM described as of the valuation date with accruedInterest (unsigned, "
                  "as every term)"),
        Deal("KNOWN-LAM-TAPE-RPL-ACCRUED", "LAM", dc="A360", role="RPL",
             ied=ql.Date(15, 4, 2025), md=ql.Date(15, 4, 2029), notional=2_000_000.0,
             rate=0.035, ip_months=3, pr_months=3, pr_amount=125_000.0, style="tape",
             desc="RPL LAM described as of the valuation date with accruedInterest"),
        Deal("KNOWN-PAM-TAPE-NO-ACCRUED", "PAM", dc="A365", role="RPA",
             ied=ql.Date(15, 9, 2025), md=ql.Date(15, 9, 2030), notional=1_000_000.0,
             rate=0.05, ip_months=6, style="tape", omit_accrued=True,
             desc="PAM described as of the valuation date without accruedInterest (the ACTUS "
                  "default derives it from the last interest payment date)"),
    ]
    ids = [d.id for d in deals]
    assert len(ids) == len(set(ids)), "duplicate contract ids"
    return deals


# ---------------------------------------------------------------------------------------------
# Output


def toml_market(name, mkt, fixings):
    lines = [
        f"# Market '{name}' for the QuantLib PV check (scripts/gen-quantlib-fixtures.py).",
        "# Continuously compounded zero rates, ACT/365F time from as_of, linear in the zero rate,",
        "# flat beyond the pillars. Do not edit: regenerate.",
        f'as_of = "{iso(AS_OF)}"',
    ]
    for cid, ccy, disc, rates in mkt.curves:
        lines += ["", "[[curve]]", f'id = "{cid}"', f'currency = "{ccy}"']
        if disc:
            lines.append("discount = true")
        lines += ['day_count = "A365"', 'interpolation = "linear_zero"',
                  'compounding = "continuous"', "zero_rates = ["]
        lines += [f'  ["{p}", {r!r}],' for p, r in zip(PILLARS, rates)]
        lines.append("]")
    for nm, ccy, fc, months, dcc in INDICES:
        tenor = f"{months // 12}Y" if months % 12 == 0 else f"{months}M"
        lines += ["", "[[index]]", f'name = "{nm}"', f'currency = "{ccy}"',
                  f'forecast_curve = "{fc}"', f'tenor = "{tenor}"', f'day_count = "{dcc}"']
    for (ix, d), r in sorted(fixings.items(), key=lambda kv: (kv[0][0], kv[0][1].serialNumber())):
        lines += ["", "[[fixing]]", f'index = "{ix}"', f'date = "{iso(d)}"', f"rate = {r!r}"]
    return "\n".join(lines) + "\n"


def main():
    deals = build_portfolio()
    markets = [Market(name, shock) for name, shock in SHOCKS.items()]
    for m in markets:
        for name, ix in m.indices.items():
            ALL_QL_INDICES[name].append(ix)
    base = markets[0]
    # Register every fixing first (reset_rates creates them), then value.
    for d in deals:
        for m in markets:
            d.reset_rates(m)
    contracts = [d.actus(base) for d in deals]
    pv = {}
    for d in deals:
        pv[d.id] = {}
        for m in markets:
            v = d.pv(m)
            if (d.product == "PAM" and d.index is not None
                    and d.reset_dates() == d.ip_dates()[:-1]):
                w = d.pv_ibor_leg(m)
                assert abs(v - w) <= 1e-9 * max(1.0, abs(v)), (d.id, m.name, v, w)
            pv[d.id][m.name] = v
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "contracts.json"), "w") as f:
        json.dump(contracts, f, indent=1)
        f.write("\n")
    for m in markets:
        with open(os.path.join(OUT, f"market-{m.name}.toml"), "w") as f:
            f.write(toml_market(m.name, m, FIXINGS))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    today = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date() if epoch
             else dt.date.today())
    expected = {
        "metadata": {
            "generator": "scripts/gen-quantlib-fixtures.py",
            "quantlib_version": ql.__version__,
            "generated_on": today.isoformat(),
            "seed": SEED,
            "as_of": iso(AS_OF),
            "markets": {m.name: f"market-{m.name}.toml" for m in markets},
            "pv": "sum of the flows strictly after as_of discounted to as_of on the discount "
                  "curve of their currency, bank's side (RPA +, RPL -), in currency units",
            "curves": "continuously compounded zero rates at tenor pillars, ACT/365F time from "
                      "as_of, linear in the zero rate, flat zero rate before the first and "
                      "after the last pillar (QuantLib ZeroCurve with extra flat nodes at t=0 "
                      "and +100Y: QuantLib's own extrapolation is flat forward)",
            "shocks": {
                "parallel_up_200": "+200 bp at every pillar of every curve",
                "parallel_down_200": "-200 bp at every pillar of every curve",
                "steepener": "-0.0065 e^(-t/4) + 0.0090 (1 - e^(-t/4)) at pillar time t, "
                             "rounded to 1e-6, every curve",
            },
            "floating": "reset on the unadjusted reset date, no fixing lag: stored fixing on or "
                        "before as_of, else simple forward (DF(d)/DF(d+tenor)-1)/tau(index day "
                        "count) of the forecast curve; rate = fixing + rateSpread (QuantLib "
                        "IborIndex with 0 fixing days, NullCalendar, indexed coupons)",
            "schedules": "no business-day adjustment (NullCalendar, Unadjusted); anchor + k x "
                         "cycle from the anchor; L1 short / L0 long last stub; SD or EOM",
            "day_counts": {"A360": "Actual360", "A365": "Actual365Fixed",
                           "AA": "ActualActual(ISDA)", "30E360": "Thirty360(European)",
                           "30E360ISDA": "Thirty360(German, maturity date)"},
            "amortisation": "LAM: fixed amount per redemption (or notional / number of "
                            "redemptions incl. maturity), capped at the outstanding, rest at "
                            "maturity. ANN: level instalment solving for a zero balance at "
                            "maturity with the period day-count fractions, re-sized after every "
                            "reset; a given instalment is used as is (residual at maturity)",
            "tape_style": "statusDate = as_of; notionalPrincipal = outstanding, "
                          "nominalInterestRate = rate in force, accruedInterest = QuantLib "
                          "accruedAmount(as_of) of the current period, anchors = next dates",
            "actus_mapping": "a regular grid is written with its anchor one cycle after the "
                             "initial exchange; a grid that must keep a 29th-31st day of month "
                             "is written without an interest anchor (ACTUS default: the initial "
                             "exchange), since a clipped anchor (30 Jun from 31 Mar) moves "
                             "every later date; QuantLib schedules start from the same anchor",
            "known_discrepancies": "contracts whose id starts with KNOWN- are valued from "
                                   "their contractual terms like the others, but Almanac "
                                   "disagrees with them today: see KNOWN_DISCREPANCIES in "
                                   "crates/almanac-analytics/tests/quantlib_pv.rs",
            "descriptions": {d.id: d.desc for d in deals},
        },
        "pv": pv,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"{len(deals)} contracts x {len(markets)} markets, {len(FIXINGS)} fixings -> {OUT}")


if __name__ == "__main__":
    main()
