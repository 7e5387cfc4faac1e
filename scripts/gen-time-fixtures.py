#!/usr/bin/env python3
"""Writes the QuantLib reference fixtures for crates/almanac-time (day counts, TARGET,
business-day conventions, schedules).

Generated with QuantLib-Python 1.44 (`pip install QuantLib==1.44`). The output is
deterministic (fixed seed, no clock), so rerunning with the same QuantLib version rewrites the
same bytes:

    pip install QuantLib==1.44
    python3 scripts/gen-time-fixtures.py      # from the repository root

The CSVs are committed; `crates/almanac-time/tests/quantlib_fixtures.rs` reads them, so CI
never needs Python. Files (in crates/almanac-time/tests/fixtures/), each starting with `#`
comment lines and a header row:

* day_counts.csv   start,end,maturity and the QuantLib year fraction (Python repr, i.e. the
                   shortest string that round-trips the f64) for
                     a360          Actual360                        -> DayCount::Act360
                     a365f         Actual365Fixed                   -> DayCount::Act365Fixed
                     aa_isda       ActualActual(ISDA)               -> DayCount::ActActIsda
                     e30_360       Thirty360(EurobondBasis)         -> DayCount::ThirtyE360
                     e30_360_isda  Thirty360(German, maturity)      -> DayCount::ThirtyE360Isda
                     b252_target   Business252(TARGET())            -> DayCount::Business252(Target)
                   An empty maturity means "no maturity" (QuantLib: null Date, Rust: None).
                   An empty value cell means "not compared" (see exclusions).
* business_days.csv  date and the QuantLib TARGET adjustment under Unadjusted, Following,
                   ModifiedFollowing, Preceding, ModifiedPreceding (Rust: NOS, SCF/CSF,
                   SCMF/CSMF, SCP/CSP, SCMP/CSMP). Dates: every TARGET holiday of 1999-2060
                   (and 1 Jan, 1 May, 25/26 Dec on weekends) +-2 days, and the last three and
                   first three days of every month of 2022-2026; none before 1999-01-04.
* target_holidays.csv  every weekday that QuantLib's TARGET() closes, 1999-01-01..2060-12-31.
                   The test checks is_business_day for every day of that range both ways.
* schedules.csv    anchor,end,tenor,eom and the QuantLib Schedule (DateGeneration.Forward,
                   NullCalendar, Unadjusted/Unadjusted, endOfMonth = eom == "EOM") joined by
                   ';'. Rust: schedule::generate_into(anchor, end, P<tenor>L1 (short stub),
                   EOM or SD, EndDate::Include).

Exclusions (cases where QuantLib and ACTUS/Almanac conventions differ, so not compared):

* Year fractions with end < start: Almanac defines every day count as anti-symmetric
  (yf(e, s) = -yf(s, e)); ACTUS only defines start <= end. QuantLib agrees for Actual360,
  Actual365Fixed, ActualActual(ISDA) and 30E/360, which the reversed rows do test, but not for
  Business252 (QuantLib counts (end, start] instead of [end, start)) nor for 30E/360 ISDA (the
  maturity rule applies to QuantLib's second argument, i.e. the earlier date), so those two
  cells are left empty on reversed rows.
* Equal start and end dates for 30E/360 ISDA: Almanac's year fraction of an empty period is
  0 for every day count (several events fall on one day and must not accrue); QuantLib gives
  -1/360 when the day is a February month end that is also the maturity. The cell is empty.
* Dates before 1999: TARGET did not exist (it opened on Monday 1999-01-04); QuantLib closes
  1998-12-31 and opens 26 December before 2000, Almanac closes 26 December in every year and
  not 1998-12-31. No fixture date is before 1999, and business-day rows start on 1999-01-04 so
  that Preceding never reaches back into 1998 (QuantLib: 1999-01-01 -> 1998-12-30).
* Schedules with anchor >= end: QuantLib's Schedule requires effective < termination (Almanac
  returns just the end date).
* Schedules with endOfMonth and a 2W tenor are generated as they are: QuantLib ignores
  endOfMonth for tenors under one month, which is the ACTUS rule (EOM only for month-based
  cycles), so they are compared. No schedule case had to be excluded for semantics: with
  Forward generation, NullCalendar and Unadjusted, QuantLib computes anchor + k x tenor from the
  anchor in one step, moves every intermediate date to its month end only when endOfMonth is set
  and the anchor is a month end, keeps regular dates <= termination and appends the termination
  date when it is off the grid -- the ACTUS short-stub (L1) schedule S(s, c, T) with T included.
  Long stubs (L0) have no QuantLib Forward equivalent and are not generated.
"""
import datetime as dt
import os
import random

import QuantLib as ql

QL_VERSION = ql.__version__
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "almanac-time",
                   "tests", "fixtures")
FIRST, LAST = dt.date(1999, 1, 1), dt.date(2060, 12, 31)
ONE = dt.timedelta(days=1)
TARGET_OPEN = dt.date(1999, 1, 4)  # first TARGET business day


def qd(d):
    return ql.Date(d.day, d.month, d.year)


def pd(q):
    return dt.date(q.year(), q.month(), q.dayOfMonth())


def days_in_month(y, m):
    return ((dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.date(y, m, 1)).days


def month_end(d):
    return dt.date(d.year, d.month, days_in_month(d.year, d.month))


def is_leap(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def header(f, what):
    f.write(f"# {what}\n")
    f.write(f"# Generated by scripts/gen-time-fixtures.py with QuantLib {QL_VERSION}; "
            "do not edit by hand.\n")


def special_dates(y):
    """Month ends, 30ths, Feb 28/29, firsts of Jan and Mar of year y."""
    out = [dt.date(y, 1, 1), dt.date(y, 3, 1), dt.date(y, 2, 28)]
    for m in range(1, 13):
        out.append(month_end(dt.date(y, m, 1)))
        if days_in_month(y, m) == 31:
            out.append(dt.date(y, m, 30))
    return sorted(set(out))


# ---------------------------------------------------------------------------------------------
# Day counts
# ---------------------------------------------------------------------------------------------

def day_count_pairs(rng):
    d = dt.date
    hand = [
        (d(2003, 11, 1), d(2004, 5, 1)), (d(1999, 1, 15), d(1999, 7, 15)),
        (d(1999, 9, 30), d(2000, 9, 30)), (d(2007, 2, 28), d(2007, 3, 31)),
        (d(2007, 8, 31), d(2008, 2, 29)), (d(2007, 1, 31), d(2007, 2, 28)),
        (d(2008, 2, 29), d(2008, 3, 31)), (d(2008, 2, 28), d(2008, 2, 29)),
        (d(2008, 2, 29), d(2009, 2, 28)), (d(2011, 8, 31), d(2012, 2, 29)),
        (d(2012, 2, 29), d(2012, 2, 29)), (d(2013, 1, 31), d(2013, 1, 31)),
        (d(2010, 12, 31), d(2011, 1, 1)), (d(2011, 12, 31), d(2012, 12, 31)),
        (d(2013, 3, 30), d(2013, 3, 31)), (d(2013, 3, 31), d(2013, 4, 30)),
        (d(2013, 5, 31), d(2043, 5, 31)), (d(2000, 1, 1), d(2030, 1, 1)),
        (d(2000, 2, 29), d(2030, 2, 28)), (d(1999, 12, 31), d(2000, 1, 1)),
        (d(2099, 12, 31), d(2100, 2, 28)), (d(2100, 2, 28), d(2100, 3, 31)),
        (d(2096, 2, 29), d(2100, 2, 28)), (d(2099, 2, 28), d(2100, 3, 1)),
        (d(2070, 1, 31), d(2100, 2, 28)), (d(2024, 3, 28), d(2024, 4, 2)),
        (d(2024, 12, 24), d(2025, 1, 2)), (d(1999, 1, 1), d(2029, 1, 1)),
    ]
    pairs = list(hand)
    lo, hi = FIRST.toordinal(), d(2059, 12, 31).toordinal()

    def feb_end(y):
        return d(y, 2, 29 if is_leap(y) else 28)

    # February month ends on either side (where 30E/360 and 30E/360 ISDA part ways)
    for _ in range(40):
        y1 = rng.randrange(1999, 2060)
        y2 = y1 + rng.choice([0, 1, 1, 2, 4, rng.randrange(0, 31)])
        start = feb_end(y1) if rng.random() < 0.6 else rng.choice(special_dates(y1))
        end = feb_end(y2) if rng.random() < 0.8 else rng.choice(special_dates(y2))
        if end >= start:
            pairs.append((start, end))
    while len(pairs) < 360:
        if rng.random() < 0.5:
            start = rng.choice(special_dates(rng.randrange(1999, 2060)))
        else:
            start = d.fromordinal(rng.randrange(lo, hi + 1))
        u = rng.random()
        if u < 0.06:
            span = 0
        elif u < 0.3:
            span = rng.randrange(1, 63)
        elif u < 0.55:
            span = rng.randrange(63, 800)
        else:
            span = rng.randrange(800, 30 * 365 + 8)
        end = start + dt.timedelta(days=span)
        if span > 0 and rng.random() < 0.4:
            # snap to a month end, a Feb month end or a 30th of the end's year
            cands = [c for c in special_dates(end.year) if c >= start]
            if cands:
                end = rng.choice(cands)
        pairs.append((start, end))
    return pairs


def maturity_for(rng, start, end):
    feb_end = end.month == 2 and end.day == days_in_month(end.year, 2)
    u = rng.random()
    if u < (0.6 if feb_end else 0.3):
        return end
    if u < (0.8 if feb_end else 0.65):
        return None
    # another date: a later month end or a Feb month end that is not the end date
    y = rng.randrange(end.year, end.year + 5)
    m = dt.date(y, 2, 29 if is_leap(y) else 28)
    if m == end:
        m = month_end(end + dt.timedelta(days=40))
    return m


def gen_day_counts(rng):
    a360, a365 = ql.Actual360(), ql.Actual365Fixed()
    aa, e30 = ql.ActualActual(ql.ActualActual.ISDA), ql.Thirty360(ql.Thirty360.EurobondBasis)
    b252 = ql.Business252(ql.TARGET())
    rows = []
    for start, end in day_count_pairs(rng):
        mat = maturity_for(rng, start, end)
        s, e = qd(start), qd(end)
        isda = ql.Thirty360(ql.Thirty360.German, qd(mat) if mat else ql.Date())
        vals = [repr(v) for v in (
            a360.yearFraction(s, e), a365.yearFraction(s, e), aa.yearFraction(s, e),
            e30.yearFraction(s, e), isda.yearFraction(s, e), b252.yearFraction(s, e))]
        if start == end:
            # A period of no time: Almanac gives 0 for every day count. QuantLib's 30E/360
            # ISDA gives -1/360 when the date is a February month end and the maturity (the
            # start moves to day 30, the end does not), so that cell is not compared.
            vals[4] = ""
        rows.append([start.isoformat(), end.isoformat(), mat.isoformat() if mat else ""]
                    + vals)
    # Reversed pairs (end < start): only the conventions where QuantLib is anti-symmetric.
    for start, end in day_count_pairs(random.Random(7))[::8]:
        if start == end:
            continue
        s, e = qd(end), qd(start)
        vals = [a360.yearFraction(s, e), a365.yearFraction(s, e), aa.yearFraction(s, e),
                e30.yearFraction(s, e)]
        rows.append([end.isoformat(), start.isoformat(), ""] + [repr(v) for v in vals]
                    + ["", ""])
    with open(os.path.join(OUT, "day_counts.csv"), "w") as f:
        header(f, "Year fractions from QuantLib; empty cells are not compared "
                  "(reversed rows: B252 and 30E360ISDA differ by convention).")
        f.write("start,end,maturity,a360,a365f,aa_isda,e30_360,e30_360_isda,b252_target\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    return len(rows)


# ---------------------------------------------------------------------------------------------
# TARGET holidays and business-day conventions
# ---------------------------------------------------------------------------------------------

def target_weekday_holidays():
    t = ql.TARGET()
    out, d = [], FIRST
    while d <= LAST:
        if d.weekday() < 5 and not t.isBusinessDay(qd(d)):
            out.append(d)
        d += ONE
    return out


def gen_target_holidays():
    hols = target_weekday_holidays()
    with open(os.path.join(OUT, "target_holidays.csv"), "w") as f:
        header(f, f"Weekdays closed in QuantLib TARGET(), {FIRST} to {LAST} (inclusive).")
        f.write("date\n")
        for h in hols:
            f.write(h.isoformat() + "\n")
    return len(hols)


def gen_business_days():
    t = ql.TARGET()
    dates = set()
    # every day QuantLib closes in the range (weekday holidays and the ones on weekends)
    d = FIRST
    while d <= LAST:
        q = qd(d)
        if t.isHoliday(q) and not t.isWeekend(q.weekday()):
            for k in range(-2, 3):
                dates.add(d + dt.timedelta(days=k))
        elif (d.month, d.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
            for k in range(-2, 3):
                dates.add(d + dt.timedelta(days=k))
        d += ONE
    for y in range(2022, 2027):
        for m in range(1, 13):
            e = month_end(dt.date(y, m, 1))
            for k in range(-2, 4):
                dates.add(e + dt.timedelta(days=k))
    dates = sorted(x for x in dates if TARGET_OPEN <= x <= LAST)
    convs = [ql.Unadjusted, ql.Following, ql.ModifiedFollowing, ql.Preceding,
             ql.ModifiedPreceding]
    with open(os.path.join(OUT, "business_days.csv"), "w") as f:
        header(f, "QuantLib TARGET().adjust(date, convention); "
                  "NOS, SCF/CSF, SCMF/CSMF, SCP/CSP, SCMP/CSMP in Almanac.")
        f.write("date,unadjusted,following,modified_following,preceding,modified_preceding\n")
        for x in dates:
            q = qd(x)
            f.write(",".join([x.isoformat()] + [pd(t.adjust(q, c)).isoformat() for c in convs])
                    + "\n")
    return len(dates)


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------

TENORS = {"1M": "P1M", "3M": "P3M", "6M": "P6M", "1Y": "P1Y", "2W": "P2W"}
# how many periods a schedule may span per tenor (keeps rows short)
MAX_PERIODS = {"1M": 14, "3M": 8, "6M": 6, "1Y": 6, "2W": 10}


def ql_schedule(anchor, end, tenor, eom):
    s = ql.Schedule(qd(anchor), qd(end), ql.Period(tenor), ql.NullCalendar(), ql.Unadjusted,
                    ql.Unadjusted, ql.DateGeneration.Forward, eom)
    return [pd(x) for x in s]


def grid_date(anchor, tenor, k, eom):
    """anchor + k x tenor in one step (with the ACTUS EOM rule), for choosing end dates."""
    if tenor.endswith("W"):
        return anchor + dt.timedelta(days=7 * int(tenor[:-1]) * k)
    months = int(tenor[:-1]) * (12 if tenor.endswith("Y") else 1) * k
    t = anchor.year * 12 + anchor.month - 1 + months
    y, m = divmod(t, 12)
    m += 1
    d = dt.date(y, m, min(anchor.day, days_in_month(y, m)))
    if eom and anchor == month_end(anchor):
        d = month_end(d)
    return d


def gen_schedules(rng):
    d = dt.date
    anchors = [d(2013, 1, 31), d(2013, 1, 30), d(2013, 1, 29), d(2012, 2, 29), d(2013, 2, 28),
               d(2012, 2, 28), d(2013, 4, 30), d(2015, 3, 31), d(2015, 8, 31), d(2019, 12, 31),
               d(2014, 1, 15), d(2020, 5, 1), d(2023, 11, 30), d(2024, 2, 29)]
    rows = []
    for anchor in anchors:
        for tenor, cycle in TENORS.items():
            ends = set()
            for k in (1, rng.randrange(2, MAX_PERIODS[tenor] + 1)):
                for eom in (False, True):
                    g = grid_date(anchor, tenor, k, eom)
                    ends.add(g)  # on the grid (of this EOM flag)
                    ends.add(g + dt.timedelta(days=rng.randrange(1, 6)))  # short stub after
                    off = g - dt.timedelta(days=rng.randrange(1, 6))
                    if k > 1:
                        ends.add(off)  # short stub before the k-th date
            ends.add(month_end(grid_date(anchor, tenor, MAX_PERIODS[tenor] // 2, False)))
            for end in sorted(ends):
                for eom in (False, True):
                    dates = ql_schedule(anchor, end, tenor, eom)
                    rows.append([anchor.isoformat(), end.isoformat(), cycle,
                                 "EOM" if eom else "SD", ";".join(x.isoformat() for x in dates)])
    with open(os.path.join(OUT, "schedules.csv"), "w") as f:
        header(f, "QuantLib Schedule(anchor, end, tenor, NullCalendar, Unadjusted, Unadjusted, "
                  "Forward, endOfMonth = eom == EOM).")
        f.write("anchor,end,tenor,eom,dates\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    return len(rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20240531)
    counts = {
        "day_counts.csv": gen_day_counts(rng),
        "target_holidays.csv": gen_target_holidays(),
        "business_days.csv": gen_business_days(),
        "schedules.csv": gen_schedules(rng),
    }
    for name, n in counts.items():
        size = os.path.getsize(os.path.join(OUT, name))
        print(f"{name}: {n} rows, {size} bytes (QuantLib {QL_VERSION})")


if __name__ == "__main__":
    main()
