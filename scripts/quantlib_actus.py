"""ACTUS contract terms as QuantLib cash flows, valued the way Almanac values them.

Shared by scripts/gen-quantlib-fixtures.py (the QuantLib reference PVs of the analytics tests)
and scripts/quantlib-eve.py (the QuantLib side of the IRRBB benchmark, issue #5). Requires
QuantLib-Python 1.44 (`pip install QuantLib==1.44`); `require_quantlib()` refuses any other
version.

What QuantLib does here, and what is written out in Python:

* QuantLib: every date step (ql.Date + ql.Period, end-of-month rules), every schedule of the
  fixture generator (ql.Schedule), every accrual (FixedRateCoupon on the contract's ql day
  counter), every index forecast (ql.IborIndex on the scenario's forecast curve), every curve
  (ql.ZeroCurve, linear in the zero rate) and every discount (ql.CashFlows.npv).
* Python: the ACTUS schedule rules (anchor + k x cycle, short/long stubs; the same rule as
  almanac_time::schedule::generate), the amortisation rules (linear amortiser, annuity sizing)
  and which events exist, read from the contract terms. Nothing is read from Almanac's output.

Conventions (Almanac's documented ones; docs/market-data.md, crates/almanac-market,
crates/almanac-actus/src/contracts):

* PV = every flow dated strictly after the valuation date, discounted to it on the discount
  curve of its currency, bank's side (RPA/RF +1, RPL/PF -1). Cash (CSH) is worth its balance.
  A non-maturity deposit (UMP) is repayable on demand (contractual view): its balance flows one
  day after the valuation date.
* Curves: continuously compounded zero rates at pillars (tenor pillar = as-of + tenor,
  unadjusted, day clipped at month end; time on the curve's day count, ACT/365F by default),
  linear in the zero rate, flat zero rate before the first and after the last pillar. QuantLib:
  ql.ZeroCurve(Linear, Continuous) with extra nodes at the as-of date (first rate) and 100 years
  out (last rate), because QuantLib's own extrapolation is flat forward, not flat zero.
* Standardised shocks, pillar mode (Almanac's default, almanac_scenario::standard::ShockMode::
  Pillars): the shift s(t_i) is added to each pillar's zero rate at its pillar time and the
  curve is re-interpolated; every curve of the currency (discount and forecast) is shocked;
  fixings are not.
* Running contracts ("tape style": statusDate after the initial exchange) start from their
  terms at the status date: notionalPrincipal = outstanding, nominalInterestRate = rate in
  force, accruedInterest = accrued since the last payment (0 when not given, as in the ACTUS
  reference implementation: then the first coupon only counts interest from the status date).
  Events on or before the status date do not happen.
* Missing cycle anchors default to the initial exchange date (ACTUS; the first event of the
  cycle is then IED + cycle, events on or before the status date being dropped).
* No business-day adjustment (calendar NC, convention NOS): NullCalendar, Unadjusted.
* Floating resets at the unadjusted reset date, no fixing lag: up to the valuation date the
  stored fixing (the last on or before the date), after it the simple forward over
  [d, d + index tenor] of the index's forecast curve on the index day count (ql.IborIndex with
  0 fixing days, NullCalendar, Unadjusted). New rate = multiplier x rate + spread, the change
  limited by periodFloor/periodCap and the result by lifeFloor/lifeCap.
* Interest accrues on the outstanding notional between consecutive events (interest payment,
  redemption, reset), each sub-period on the contract day count, and is paid at the next
  interest payment date (at maturity in any case when an interest schedule exists; a contract
  with neither an interest cycle nor an interest anchor pays no interest, as in ACTUS).
* LAM: nextPrincipalRedemptionPayment per redemption date (capped at the outstanding), else
  outstanding / number of remaining redemption dates including maturity. ANN: the level
  instalment repaying the outstanding (plus accrued interest) on the remaining redemption
  dates, re-sized after every reset (ACTUS PRF); a given nextPrincipalRedemptionPayment is the
  instalment until the first reset.
* SWPPV (plain vanilla swap, gross settlement): fixed leg at nominalInterestRate against a
  floating leg starting at nominalInterestRate2 and reset from the index, on one notional
  that is never exchanged, both legs on the interest payment dates.
"""
import bisect
import math

import QuantLib as ql

REQUIRED_QL = "1.44"
NULL = ql.NullCalendar()
UNADJ = ql.Unadjusted


def require_quantlib():
    if ql.__version__ != REQUIRED_QL:
        raise SystemExit(f"QuantLib {REQUIRED_QL} required (pip install QuantLib=={REQUIRED_QL}), "
                         f"found {ql.__version__}")


# ---------------------------------------------------------------------------------------------
# Dates, cycles, day counts


def iso(d):
    return f"{d.year():04d}-{d.month():02d}-{d.dayOfMonth():02d}"


def parse_date(s):
    """An ACTUS date (`2025-12-31` or `2025-12-31T00:00:00`) as a ql.Date (the time of day is
    ignored)."""
    return ql.Date(int(s[8:10]), int(s[5:7]), int(s[0:4]))


def add_months(d, n):
    return d + ql.Period(n, ql.Months)


def cycle_code(months, long_stub=False):
    stub = "L0" if long_stub else "L1"
    if months % 12 == 0:
        return f"P{months // 12}Y{stub}"
    return f"P{months}M{stub}"


class Cycle:
    """An ACTUS cycle `PnXLs`: n units of D, W, M, Q, H or Y, stub L0 (long) or L1 (short)."""

    __slots__ = ("months", "days", "long_stub")

    def __init__(self, code):
        c = code.strip().upper()
        if not c.startswith("P"):
            raise ValueError(f"cycle {code!r}: expected PnXL0/PnXL1")
        body, stub = c[1:], "L1"
        if len(body) > 2 and body[-2] == "L":
            body, stub = body[:-2], body[-2:]
        n, unit = int(body[:-1]), body[-1]
        self.long_stub = stub == "L0"
        self.months, self.days = 0, 0
        if unit in "MQHY":
            self.months = n * {"M": 1, "Q": 3, "H": 6, "Y": 12}[unit]
        elif unit in "DW":
            self.days = n * (7 if unit == "W" else 1)
        else:
            raise ValueError(f"cycle {code!r}: unknown unit {unit}")

    def period(self):
        if self.months:
            return ql.Period(self.months, ql.Months)
        return ql.Period(self.days, ql.Days)


def day_counter(code, maturity):
    return {
        "A360": lambda: ql.Actual360(),
        "A365": lambda: ql.Actual365Fixed(),
        "AA": lambda: ql.ActualActual(ql.ActualActual.ISDA),
        "30E360": lambda: ql.Thirty360(ql.Thirty360.European),
        "30E360ISDA": lambda: ql.Thirty360(ql.Thirty360.German, maturity),
    }[code]()


def grid(anchor, end, months, eom=False):
    """anchor + k x months (k >= 0) strictly before `end`, each from the anchor in one step
    (QuantLib date arithmetic: day clipped at month end; moved to month end under EOM when the
    anchor is one)."""
    out = []
    k = 0
    to_eom = eom and ql.Date.isEndOfMonth(anchor)
    while True:
        d = anchor + ql.Period(months * k, ql.Months)
        if to_eom:
            d = ql.Date.endOfMonth(d)
        if d >= end:
            return out, d == end
        out.append(d)
        k += 1


def schedule(start, end, months, first=None, eom=False, long_last=False):
    """The QuantLib schedule of a payment cycle from `start` (initial exchange) to `end`
    (maturity): first regular date `first` (an odd first period when off the grid from
    `start`), short last stub, or long last stub with `long_last` (ACTUS L0)."""
    seed = first if first is not None else start
    next_to_last = ql.Date()
    if long_last:
        regular, on_grid = grid(seed, end, months, eom)
        if not on_grid and len(regular) > 1:
            next_to_last = regular[-2]
    first_date = first if (first is not None and first != start) else ql.Date()
    s = ql.Schedule(start, end, ql.Period(months, ql.Months), NULL, UNADJ, UNADJ,
                    ql.DateGeneration.Forward, eom, first_date, next_to_last)
    return list(s)


def actus_schedule(anchor, end, cycle, eom, include_end):
    """The dates of an ACTUS cycle, as almanac_time::schedule::generate makes them: anchor +
    k x cycle (each from the anchor in one step; day clipped at month end, or moved to month
    end under EOM for a month-end anchor) strictly before `end`; with a long stub (L0) the
    last regular date is dropped when `end` is off the grid; then `end` when included. Without
    a cycle: {anchor, end}. Month cycles are generated by ql.Schedule (Forward from the anchor,
    NullCalendar, Unadjusted), whose dates are exactly these."""
    if cycle is None:
        if not include_end and end == anchor:
            return []
        out = [anchor]
        if include_end and end != anchor:
            out.append(end)
            out.sort()
        return out
    if anchor >= end:
        return [end] if include_end else []
    if cycle.months:
        dates = list(ql.Schedule(anchor, end, ql.Period(cycle.months, ql.Months), NULL, UNADJ,
                                 UNADJ, ql.DateGeneration.Forward, eom))
        out = dates[:-1]  # the regular dates before `end` (the last date is `end`)
        on_grid = None
        if cycle.long_stub:
            g = anchor + ql.Period(cycle.months * len(out), ql.Months)
            if eom and ql.Date.isEndOfMonth(anchor):
                g = ql.Date.endOfMonth(g)
            on_grid = g == end
    else:
        out, k, nxt = [], 0, anchor
        while nxt < end:
            out.append(nxt)
            k += 1
            nxt = anchor + cycle.days * k
        on_grid = nxt == end
    min_len = 1 if include_end else 2
    if cycle.long_stub and not on_grid and len(out) > min_len:
        out.pop()
    if include_end:
        out.append(end)
    return out


# ---------------------------------------------------------------------------------------------
# Amortisation and cash flows


def annuity(dc, balance, start, rate, dates, accrued=0.0):
    """Constant instalment A repaying `balance` (at `start`, with `accrued` interest already
    accrued) on `dates` (the last = maturity) with simple interest per period on the day count
    `dc`: (balance x g_1 + accrued) x prod_{k>1}(g_k) = A x sum_k prod_{j>k} g_j, with
    g_k = 1 + rate x tau_k."""
    growth, prev = [], start
    for d in dates:
        growth.append(1.0 + rate * dc.yearFraction(prev, d))
        prev = d
    total = math.prod(growth)
    weights, tail = 0.0, 1.0
    for g in reversed(growth):
        weights += tail
        tail *= g
    if accrued:
        return (balance * growth[0] + accrued) * (total / growth[0]) / weights
    return balance * total / weights


def build_leg(product, dc, start, md, notional, rate, ips, prs, resets=(), pr_amount=None,
              ied_flow=None, accrued=0.0, pay_at_maturity=True, ann_dates=None):
    """The QuantLib cash flows of a PAM / LAM / ANN from `start` on, from the lender's side
    (the role sign gives the bank's).

    start      the date the state is known at: the initial exchange, or the status date of a
               running contract (outstanding `notional`, `rate` in force, `accrued` interest)
    ips        interest payment dates (a set or a list; those in (start, md] are used); with
               `pay_at_maturity` interest is also paid at `md`, else only on `ips`, and interest
               accrued after the last of them is never paid (a contract without any interest
               schedule, as in ACTUS)
    prs        scheduled redemption dates (LAM, ANN; those in (start, md) are used)
    resets     [(date, new rate)]: a reset on `start` sets the first period's rate
    pr_amount  LAM amount / ANN instalment (nextPrincipalRedemptionPayment), else computed
    ied_flow   the initial exchange (lender side, e.g. -(notional + premium)) at `start`
    ann_dates  the dates an annuity is sized over (default: the redemption dates after
               `start`, then maturity)

    Every sub-period between events is a ql.FixedRateCoupon on `dc`, paid at the next interest
    payment date; principal flows are ql.SimpleCashFlow.
    """
    # Dates are handled as serial numbers (ints: fast to sort, compare and hash); the
    # ql.Date objects are kept for the cash flows.
    date = {}

    def key(d):
        k = d.serialNumber()
        date[k] = d
        return k

    s0, smd = key(start), key(md)
    ip_set = {key(d) for d in ips}
    pay_set = ip_set | {smd} if pay_at_maturity else ip_set
    pr_keys = [k for k in map(key, prs) if s0 < k < smd]
    pr_set = set(pr_keys)
    reset_at = {key(d): r for d, r in resets}
    leg = []
    if ied_flow is not None:
        leg.append(ql.SimpleCashFlow(ied_flow, start))
    cut = sorted(k for k in ip_set | pr_set | set(reset_at) | {s0, smd} if s0 <= k <= smd)
    balance = notional
    instalment = None
    ann = pr_keys + [smd] if ann_dates is None else [key(d) for d in ann_dates]
    if product == "LAM" and pr_amount is None:
        instalment = notional / len(ann)
    elif product in ("LAM", "ANN") and pr_amount is not None:
        instalment = pr_amount
    if product == "ANN" and pr_amount is None:
        first_rate = reset_at.get(s0, rate)
        instalment = annuity(dc, notional, start, first_rate, [date[k] for k in ann], accrued)
    extra = accrued  # interest accrued before `start`, paid with the first interest payment
    pending = []  # (start, end, notional, rate) of the current interest period
    for a, b in zip(cut, cut[1:]):
        qb = date[b]
        if a in reset_at:
            rate = reset_at[a]
            if product == "ANN" and a != s0:
                # Re-sized after the reset on what is outstanding (and accrued, when the reset
                # is not on a payment date).
                acc = extra + sum(ql.FixedRateCoupon(qb, n, r, dc, s, e).amount()
                                  for s, e, n, r in pending)
                instalment = annuity(dc, balance, date[a], rate,
                                     [date[k] for k in ann if k > a], acc)
        pending.append((date[a], qb, balance, rate))
        interest = None
        if b in pay_set:
            # Every sub-period of the interest period is paid at b.
            coupons = [ql.FixedRateCoupon(qb, n, r, dc, s, e) for s, e, n, r in pending]
            if product == "ANN" and b in pr_set:
                interest = sum(c.amount() for c in coupons)
            leg.extend(coupons)
            if extra:
                if interest is not None:
                    interest += extra
                leg.append(ql.SimpleCashFlow(extra, qb))
                extra = 0.0
            pending = []
        if b in pr_set:
            if product == "LAM":
                red = min(instalment, balance)
            else:
                if interest is None:
                    # A redemption without an interest payment: the instalment less all the
                    # interest accrued so far (paid later).
                    interest = extra + sum(ql.FixedRateCoupon(qb, n, r, dc, s, e).amount()
                                           for s, e, n, r in pending)
                red = min(instalment - interest, balance)
            leg.append(ql.SimpleCashFlow(red, qb))
            balance -= red
    leg.append(ql.SimpleCashFlow(balance, md))
    return leg, bool(pending)


# ---------------------------------------------------------------------------------------------
# Curves and market snapshots


def zero_curve(as_of, dates, rates, dc=None):
    """A ql.ZeroCurve through continuously compounded zero `rates` at pillar `dates`, linear in
    the zero rate, flat zero rate before the first and after the last pillar (extra nodes at
    `as_of` and 100 years out)."""
    dates = [as_of] + list(dates) + [as_of + ql.Period(100, ql.Years)]
    zs = [rates[0]] + list(rates) + [rates[-1]]
    c = ql.ZeroCurve(dates, zs, dc if dc is not None else ql.Actual365Fixed(), NULL, ql.Linear(),
                     ql.Continuous, ql.Annual)
    c.enableExtrapolation()
    return c


def parse_tenor(s):
    """`1D`, `2W`, `3M`, `10Y` as a ql.Period; None when `s` is not a tenor."""
    s = s.strip().upper()
    if len(s) < 2 or not s[:-1].isdigit() or s[-1] not in "DWMY":
        return None
    n = int(s[:-1])
    return ql.Period(n, {"D": ql.Days, "W": ql.Weeks, "M": ql.Months, "Y": ql.Years}[s[-1]])


# BCBS 2016 calibration = EU RTS 2024/856 Annex Part A (spec table 1.3a): parallel, short, long bp.
BCBS_2016 = {
    "ARS": (400, 500, 300), "AUD": (300, 450, 200), "BGN": (250, 350, 150),
    "BRL": (400, 500, 300), "CAD": (200, 300, 150), "CHF": (100, 150, 100),
    "CNY": (250, 300, 150), "CZK": (200, 250, 100), "DKK": (200, 250, 150),
    "EUR": (200, 250, 100), "GBP": (250, 300, 150), "HKD": (200, 250, 100),
    "HUF": (300, 450, 200), "IDR": (400, 500, 350), "INR": (400, 500, 300),
    "JPY": (100, 100, 100), "KRW": (300, 400, 200), "MXN": (400, 500, 300),
    "PLN": (250, 350, 150), "RON": (350, 500, 250), "RUB": (400, 500, 300),
    "SAR": (200, 300, 150), "SEK": (200, 300, 150), "SGD": (150, 200, 100),
    "TRY": (400, 500, 300), "USD": (200, 300, 150), "ZAR": (400, 500, 300),
}
SCENARIOS = ["parallel_up", "parallel_down", "steepener", "flattener", "short_up", "short_down"]


def bcbs_shift(scenario, sizes, t, decay=4.0):
    """ΔR(t) of a standardised scenario as a decimal (SRP31.91; spec §1.2), sizes in bp."""
    p, s, l = (x / 10_000.0 for x in sizes)
    short = abs(s * math.exp(-t / decay))
    long_ = abs(l * -math.expm1(-t / decay))
    return {
        "parallel_up": p,
        "parallel_down": -p,
        "steepener": -0.65 * short + 0.9 * long_,
        "flattener": 0.8 * short - 0.6 * long_,
        "short_up": short,
        "short_down": -short,
    }[scenario]


class CurveDef:
    """A curve of a market snapshot: pillar dates and times, continuous zero rates."""

    def __init__(self, cid, ccy, dc_code, interpolation, dates, times, zeros):
        self.id, self.ccy, self.dc_code = cid, ccy, dc_code
        self.interpolation = interpolation
        self.dates, self.times, self.zeros = dates, times, zeros


class Snapshot:
    """A market snapshot TOML (docs/market-data.md): curves given as zero rates or discount
    factors, indices and fixings. Quote-bootstrapped curves and FX are not read."""

    def __init__(self, doc, source="market"):
        self.source = source
        self.as_of = parse_date(str(doc["as_of"]))
        self.curves = []
        self.discount = {}
        self.warnings = []
        for c in doc.get("curve", []):
            cid, ccy = c["id"], c["currency"]
            dc_code = c.get("day_count", "A365")
            dc = day_counter(dc_code, ql.Date())
            interp = c.get("interpolation", "linear_zero")
            if interp != "linear_zero":
                self.warnings.append(
                    f"{source}: curve {cid} has interpolation {interp!r}; valued with linear_zero "
                    f"instead, so values will differ slightly from Almanac's on this market")
            comp = c.get("compounding", "continuous")
            if "zero_rates" in c:
                rows, is_df = c["zero_rates"], False
            elif "discount_factors" in c:
                rows, is_df = c["discount_factors"], True
            else:
                raise SystemExit(f"{source}: curve {cid}: only zero_rates or discount_factors "
                                 f"curves are supported (not bootstrapped quotes)")
            dates, times, zeros = [], [], []
            for p, r in rows:
                tenor = parse_tenor(str(p))
                d = self.as_of + tenor if tenor is not None else parse_date(str(p))
                t = dc.yearFraction(self.as_of, d)
                if is_df:
                    z = -math.log(r) / t
                elif comp == "continuous":
                    z = float(r)
                elif comp == "simple":
                    z = math.log1p(r * t) / t
                else:
                    n = {"annual": 1, "semiannual": 2, "quarterly": 4, "monthly": 12}[comp]
                    z = n * math.log1p(r / n)
                dates.append(d)
                times.append(t)
                zeros.append(z)
            self.curves.append(CurveDef(cid, ccy, dc_code, interp, dates, times, zeros))
            if c.get("discount", False):
                self.discount[ccy] = cid
        for cd in self.curves:
            self.discount.setdefault(cd.ccy, cd.id)
        self.indices = {}
        for ix in doc.get("index", []):
            self.indices[ix["name"]] = (ix["currency"], ix["forecast_curve"],
                                        parse_tenor(ix["tenor"]), ix["day_count"])
        self.fixings = {}
        for f in doc.get("fixing", []):
            self.fixings.setdefault(f["index"], []).append(
                (parse_date(str(f["date"])).serialNumber(), float(f["rate"])))
        for v in self.fixings.values():
            v.sort()

    def fixing(self, index, d):
        """The stored fixing of `index`: the last on or before `d`."""
        series = self.fixings.get(index)
        if not series:
            raise KeyError(f"no fixings of index {index}")
        i = bisect.bisect_right(series, (d.serialNumber(), math.inf))
        if i == 0:
            raise KeyError(f"no fixing of {index} on or before {iso(d)}")
        return series[i - 1][1]

    def market(self, name="base", scenario=None, sizes=None, mode="pillars"):
        """The QuantLib market of this snapshot, under a standardised `scenario` (shock sizes
        by currency in `sizes`) or the base."""
        return Market(self, name, scenario, sizes or BCBS_2016, mode)


class Market:
    """QuantLib curves and indices of one scenario."""

    def __init__(self, snap, name, scenario, sizes, mode):
        self.snap, self.name, self.as_of = snap, name, snap.as_of
        self.curves = {}
        for cd in snap.curves:
            dc = day_counter(cd.dc_code, ql.Date())
            if scenario is None:
                self.curves[cd.id] = zero_curve(snap.as_of, cd.dates, cd.zeros, dc)
                continue
            if cd.ccy not in sizes:
                raise SystemExit(f"no shock sizes for currency {cd.ccy}")
            sz = sizes[cd.ccy]
            if mode == "pillars":
                zs = [z + bcbs_shift(scenario, sz, t) for t, z in zip(cd.times, cd.zeros)]
                self.curves[cd.id] = zero_curve(snap.as_of, cd.dates, zs, dc)
            else:
                # Continuous: the shift at any time, approximated on a dense grid (the pillars
                # and every month to 60 years), linear in the zero rate between nodes.
                base = zero_curve(snap.as_of, cd.dates, cd.zeros, dc)
                nodes = sorted(set(cd.dates) | {snap.as_of + ql.Period(m, ql.Months)
                                                 for m in range(1, 721)})
                zs = []
                for d in nodes:
                    t = dc.yearFraction(snap.as_of, d)
                    zs.append(base.zeroRate(d, dc, ql.Continuous).rate()
                              + bcbs_shift(scenario, sz, t))
                c = ql.ZeroCurve([snap.as_of] + nodes, [zs[0]] + zs, dc, NULL, ql.Linear(),
                                 ql.Continuous, ql.Annual)
                c.enableExtrapolation()
                self.curves[cd.id] = c
        self.discount = {ccy: self.curves[cid] for ccy, cid in snap.discount.items()}
        self.indices = {}
        for iname, (ccy, fc, tenor, dcc) in snap.indices.items():
            if fc not in self.curves:
                continue
            self.indices[iname] = ql.IborIndex(
                iname, tenor, 0, ql.Currency(), NULL, UNADJ, False, day_counter(dcc, ql.Date()),
                ql.YieldTermStructureHandle(self.curves[fc]))

    def index_rate(self, index, d):
        """The stored fixing (last on or before d) up to the valuation date, else QuantLib's
        forecast of the index (simple forward over the index tenor on its forecast curve)."""
        if d <= self.as_of:
            return self.snap.fixing(index, d)
        ix = self.indices.get(index)
        if ix is None:
            raise KeyError(f"unknown index {index}")
        return ix.fixing(d)


# ---------------------------------------------------------------------------------------------
# ACTUS terms


class Unsupported(Exception):
    """A contract (or a term of it) this module does not value."""


SIGN = {"RPA": 1.0, "RFL": 1.0, "RF": 1.0, "BUY": 1.0, "COL": 1.0, "CNO": 1.0, "UDL": 1.0,
        "UDLP": 1.0, "OBL": 1.0, "LG": 1.0,
        "RPL": -1.0, "PFL": -1.0, "PF": -1.0, "SEL": -1.0, "UDLM": -1.0, "GUA": -1.0, "ST": -1.0}
UNSUPPORTED_TERMS = [
    "purchaseDate", "terminationDate", "capitalizationEndDate", "cycleOfFee", "feeRate",
    "scalingEffect", "cycleOfScalingIndex", "cycleOfInterestCalculationBase",
    "amortizationDate", "cycleOfDividend", "interestCalculationBaseAmount",
]
# A term whose presence is fine only with one of these values.
ALLOWED_VALUES = {
    "businessDayConvention": {"NOS", "NULL"},
    "calendar": {"NC", "NOCALENDAR", "NULL"},
    "interestCalculationBase": {"NT"},
    "deliverySettlement": {"D"},
}


class Contract:
    """One contract read from its ACTUS terms.

    kind: "leg" (PAM/LAM/ANN), "swap" (SWPPV), "cash" (CSH), "on_demand" (UMP), "matured"
    (maturity on or before the status date: no flows).
    `reads_market`: its flows depend on the scenario (resets forecast after the valuation
    date); otherwise its flows are built once and discounted on every scenario."""

    def __init__(self, t, as_of, derive_accrued=False):
        self.id = t.get("contractID", "?")
        ct = t.get("contractType")
        self.type = ct
        self.ccy = t.get("currency") or ""
        role = t.get("contractRole") or "RPA"
        if role not in SIGN:
            raise Unsupported(f"contractRole {role}")
        self.sign = SIGN[role]
        self.as_of = as_of
        for k in UNSUPPORTED_TERMS:
            if t.get(k) not in (None, "", 0, 0.0):
                raise Unsupported(f"term {k}")
        for k, ok in ALLOWED_VALUES.items():
            v = t.get(k)
            if v not in (None, "") and str(v).upper() not in ok:
                raise Unsupported(f"{k} = {v}")
        self.sd = parse_date(t["statusDate"]) if t.get("statusDate") else as_of
        self.notional = float(t.get("notionalPrincipal") or 0.0)
        self.reads_market = False
        if ct == "CSH":
            self.kind = "cash"
            return
        if ct == "UMP":
            self.kind = "on_demand"
            if self.sd < as_of:
                raise Unsupported("UMP with a status date before the valuation date")
            return
        if ct not in ("PAM", "LAM", "ANN", "SWPPV"):
            raise Unsupported(f"contractType {ct}")
        self.kind = "swap" if ct == "SWPPV" else "leg"
        self.eom = (t.get("endOfMonthConvention") or "SD").upper() == "EOM"
        self.ied = parse_date(t["initialExchangeDate"])
        if not t.get("maturityDate"):
            raise Unsupported("no maturityDate")
        self.md = parse_date(t["maturityDate"])
        if self.md <= self.sd:
            # Matured: no event after the status date, worth nothing.
            self.kind = "matured"
            return
        self.dc = day_counter(t.get("dayCountConvention") or "A365", self.md)
        self.rate = float(t.get("nominalInterestRate") or 0.0)
        self.accrued = float(t.get("accruedInterest") or 0.0)
        cyc = lambda k: Cycle(t[k]) if t.get(k) else None
        anchor = lambda k: parse_date(t[k]) if t.get(k) else None
        ip_cycle, ip_anchor = cyc("cycleOfInterestPayment"), anchor(
            "cycleAnchorDateOfInterestPayment")
        if ip_anchor is None and ip_cycle is not None:
            ip_anchor = self.ied
        self.ips = ([] if ip_anchor is None else
                    actus_schedule(ip_anchor, self.md, ip_cycle, self.eom, True))
        running = self.sd >= self.ied
        self.start = self.sd if running else self.ied
        # Events strictly after the status date (those on it or before do not happen).
        sd_key = self.sd.serialNumber()
        after = lambda ds: [d for d in ds if d.serialNumber() > sd_key]
        self.ips = after(self.ips)
        # Rate resets.
        rr_cycle, rr_anchor = cyc("cycleOfRateReset"), anchor("cycleAnchorDateOfRateReset")
        if rr_anchor is None and rr_cycle is not None:
            rr_anchor = self.ied
        self.reset_dates = ([] if rr_anchor is None else
                            after(actus_schedule(rr_anchor, self.md, rr_cycle, self.eom, False)))
        self.index = t.get("marketObjectCodeOfRateReset")
        if self.reset_dates and not self.index:
            raise Unsupported("rate resets without marketObjectCodeOfRateReset")
        self.spread = float(t.get("rateSpread") or 0.0)
        self.multiplier = float(t.get("rateMultiplier") if t.get("rateMultiplier") is not None
                                else 1.0)
        lim = lambda k, dflt: float(t[k]) if t.get(k) is not None else dflt
        self.period_floor, self.period_cap = lim("periodFloor", -math.inf), lim("periodCap",
                                                                              math.inf)
        self.life_floor, self.life_cap = lim("lifeFloor", -math.inf), lim("lifeCap", math.inf)
        self.next_reset_rate = (float(t["nextResetRate"]) if t.get("nextResetRate") is not None
                                else None)
        self.reads_market = any(d > as_of for d in self.reset_dates)
        if self.kind == "swap":
            self.rate2 = float(t["nominalInterestRate2"])
            if not running:
                raise Unsupported("forward-starting SWPPV")
            return
        # Principal redemption (LAM, ANN).
        self.prs, self.ann_dates = [], None
        self.npr = (float(t["nextPrincipalRedemptionPayment"])
                    if t.get("nextPrincipalRedemptionPayment") is not None else None)
        if ct in ("LAM", "ANN"):
            pr_cycle = cyc("cycleOfPrincipalRedemption")
            pr_anchor = anchor("cycleAnchorDateOfPrincipalRedemption") or self.ied
            if pr_cycle is None and anchor("cycleAnchorDateOfPrincipalRedemption") is None:
                raise Unsupported(f"{ct} without a principal redemption cycle")
            prs = after(actus_schedule(pr_anchor, self.md, pr_cycle, self.eom, False))
            if not running and prs and prs[0] <= self.ied:
                raise Unsupported("principal redemption on or before the initial exchange")
            self.prs = prs
            self.ann_dates = after(actus_schedule(pr_anchor, self.md, pr_cycle, self.eom, True))
            start_key = self.start.serialNumber()
            self.ann_dates = [d for d in self.ann_dates if d.serialNumber() > start_key]
            if not self.ann_dates:
                raise Unsupported("no redemption date after the status date")
        # The initial exchange (forward-starting), and interest accrued before it (PAM with an
        # interest anchor before the initial exchange, ACTUS).
        self.ied_flow = None
        if not running:
            premium = float(t.get("premiumDiscountAtIED") or 0.0)
            self.ied_flow = -(self.notional + premium)
            if ct == "PAM" and ip_anchor is not None and ip_anchor < self.ied:
                self.accrued += self.notional * self.rate * self.dc.yearFraction(ip_anchor,
                                                                                 self.ied)
        elif derive_accrued and t.get("accruedInterest") is None and self.sd >= self.ied:
            # ACTUS (technical specification, PAM state Nac) and Almanac: Y(t-, t0) x Nvl x Nrt
            # with t- the last interest payment date up to the status date (a payment on it is
            # made); the schedule starts at the anchor, else one cycle after the initial
            # exchange; nothing before the first payment date.
            explicit = anchor("cycleAnchorDateOfInterestPayment")
            start = explicit if explicit is not None else self.ied
            last = None
            if ip_cycle is not None and start <= self.sd:
                short = Cycle("P1ML1")
                short.months, short.days = ip_cycle.months, ip_cycle.days
                past = actus_schedule(start, self.sd + 1, short, self.eom, False)
                if explicit is None:
                    past = past[1:]  # the initial exchange is not a payment date
                past = [d for d in past if d <= self.sd]
                if past:
                    last = past[-1]
            if last is not None and last < self.sd:
                self.accrued = self.notional * self.rate * self.dc.yearFraction(last, self.sd)

    # -- rates ---------------------------------------------------------------------------------

    def resets(self, mkt):
        """(date, rate in force from it) for every reset after the status date."""
        out, rate = [], self.rate
        for k, d in enumerate(self.reset_dates):
            if k == 0 and self.next_reset_rate is not None:
                # ACTUS RRF: the given rate as is.
                rate = self.next_reset_rate
            else:
                target = self.multiplier * mkt.index_rate(self.index, d) + self.spread
                delta = min(max(target - rate, self.period_floor), self.period_cap)
                rate = min(max(rate + delta, self.life_floor), self.life_cap)
            out.append((d, rate))
        return out

    # -- cash flows ----------------------------------------------------------------------------

    def leg(self, mkt):
        """QuantLib cash flows (lender side, or receive-fixed side for a swap) on market `mkt`."""
        if self.kind == "swap":
            return self.swap_leg(mkt)
        resets = self.resets(mkt) if self.reset_dates else ()
        leg, _unpaid = build_leg(self.type, self.dc, self.start, self.md, self.notional,
                                 self.rate, self.ips, self.prs, resets, self.npr,
                                 ied_flow=self.ied_flow, accrued=self.accrued,
                                 pay_at_maturity=False, ann_dates=self.ann_dates)
        return leg

    def swap_leg(self, mkt):
        """SWPPV, gross settlement: per sub-period between events, the fixed coupon received
        and the floating coupon paid, both at the next interest payment date."""
        resets = dict(self.resets(mkt)) if self.reset_dates else {}
        ip_set = set(self.ips)
        cut = sorted(ip_set | set(resets) | {self.start, self.md})
        cut = [d for d in cut if self.start <= d <= self.md]
        leg, pending, floating = [], [], self.rate2
        n, extra = self.notional, self.accrued
        for a, b in zip(cut, cut[1:]):
            if a in resets:
                floating = resets[a]
            pending.append((a, b, floating))
            if b in ip_set:
                for s, e, f in pending:
                    leg.append(ql.FixedRateCoupon(b, n, self.rate, self.dc, s, e))
                    leg.append(ql.FixedRateCoupon(b, -n, f, self.dc, s, e))
                if extra:
                    leg.append(ql.SimpleCashFlow(extra, b))
                    extra = 0.0
                pending = []
        return leg


def read_contract(t, as_of, derive_accrued=False):
    """A Contract, or the reason it cannot be valued (a string)."""
    try:
        return Contract(t, as_of, derive_accrued)
    except Unsupported as e:
        return f"{t.get('contractType')}: {e}"
    except (KeyError, ValueError, RuntimeError) as e:
        return f"{t.get('contractType')}: cannot read the terms ({e})"


def pv(contract, leg, mkt):
    """PV of `leg` (lender side) on `mkt`, bank's side: QuantLib discounts every flow after the
    valuation date on the currency's discount curve."""
    curve = mkt.discount[contract.ccy]
    return contract.sign * ql.CashFlows.npv(ql.Leg(leg), curve, False, mkt.as_of, mkt.as_of)


def value_on(contract, markets):
    """The contract's PV on each market (a list, same order): flows built once unless they read
    the market, then discounted by QuantLib on each market's discount curve."""
    if contract.kind == "cash":
        return [contract.sign * contract.notional] * len(markets)
    if contract.kind == "matured":
        return [0.0] * len(markets)
    if contract.kind == "on_demand":
        flow = ql.Leg([ql.SimpleCashFlow(contract.notional, contract.as_of + 1)])
        return [contract.sign * ql.CashFlows.npv(flow, m.discount[contract.ccy], False, m.as_of,
                                                 m.as_of) for m in markets]
    if contract.reads_market:
        return [pv(contract, contract.leg(m), m) for m in markets]
    leg = ql.Leg(contract.leg(markets[0]))
    return [contract.sign * ql.CashFlows.npv(leg, m.discount[contract.ccy], False, m.as_of,
                                             m.as_of) for m in markets]
