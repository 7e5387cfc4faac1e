//! Schedule generation: the dates of a cycle between an anchor and an end date.
//!
//! This follows the ACTUS schedule function S(s, c, T) (technical specification §3.1):
//! regular dates are `anchor + k × period` for k = 0, 1, 2, … while they lie before the end,
//! each computed from the anchor in one step (so month-end clipping does not accumulate), then
//! moved to the month end when the end-of-month convention applies. The end date is appended
//! when asked for. With a long last stub (`L0`) the last regular date before an off-grid end
//! date is dropped, so the final period is longer than one cycle.
//!
//! Dates are unadjusted: business-day shifting is a separate step
//! ([`crate::BusinessDayConvention::adjust`]), because ACTUS accrues on either date.

use crate::{Cycle, Date, Stub};

/// ACTUS end-of-month convention (`endOfMonthConvention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EndOfMonthConvention {
    /// `SD`: keep the anchor's day of month (clipped in short months).
    #[default]
    SameDay,
    /// `EOM`: if the anchor is a month end and the cycle is month-based, every date is a month end.
    EndOfMonth,
}

impl EndOfMonthConvention {
    /// Parses `SD` or `EOM`.
    pub fn from_code(code: &str) -> Result<Self, crate::TimeError> {
        match code.trim() {
            "SD" | "" => Ok(EndOfMonthConvention::SameDay),
            "EOM" => Ok(EndOfMonthConvention::EndOfMonth),
            other => Err(crate::TimeError::UnknownCode {
                kind: "end-of-month convention",
                code: other.to_string(),
            }),
        }
    }
}

/// Whether the end date itself belongs to the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndDate {
    /// Append the end date (interest payment schedules end with a payment at maturity).
    Include,
    /// Stop before the end date (rate resets are not scheduled at maturity).
    Exclude,
}

/// A point in time a schedule can be generated on: a [`Date`] or a [`DateTime`](crate::DateTime) (whose time
/// of day is carried along from the anchor).
pub trait SchedulePoint: Copy + Ord {
    /// The calendar date.
    fn date(self) -> Date;
    /// The same time of day on another date.
    fn with_date(self, date: Date) -> Self;
}

impl SchedulePoint for Date {
    fn date(self) -> Date {
        self
    }
    fn with_date(self, date: Date) -> Date {
        date
    }
}

impl SchedulePoint for crate::DateTime {
    fn date(self) -> Date {
        crate::DateTime::date(self)
    }
    fn with_date(self, date: Date) -> crate::DateTime {
        crate::DateTime::new(date, self.second_of_day()).unwrap_or(crate::DateTime::midnight(date))
    }
}

/// Writes the schedule `S(anchor, cycle, end)` into `out` (cleared first), sorted and without
/// duplicates. `out` is reused so that callers in hot loops do not allocate.
///
/// * `cycle = None` (or a zero period): the schedule is `{anchor, end}` (end only with
///   [`EndDate::Include`]).
/// * An anchor on or after `end` gives just the end date (or nothing).
pub fn generate_into<T: SchedulePoint>(
    out: &mut Vec<T>,
    anchor: T,
    end: T,
    cycle: Option<Cycle>,
    eom: EndOfMonthConvention,
    end_date: EndDate,
) {
    out.clear();
    // A zero period (`P0D`, allowed for settlement periods) never advances: no cycle.
    let cycle = cycle.filter(|c| c.period.count > 0);
    let Some(cycle) = cycle else {
        if end_date == EndDate::Exclude && end == anchor {
            return;
        }
        out.push(anchor);
        if end_date == EndDate::Include && end != anchor {
            out.push(end);
            out.sort_unstable();
        }
        return;
    };
    let anchor_date = anchor.date();
    let to_month_end = eom == EndOfMonthConvention::EndOfMonth
        && anchor_date.is_end_of_month()
        && cycle.period.is_month_based();
    // The k-th date, computed from the anchor in one step; month arithmetic works on the
    // anchor's civil date, converted once.
    let (months, days) = cycle.period.months_and_days();
    let (year, month, day) = anchor_date.to_ymd();
    let base = year * 12 + month as i32 - 1;
    let nth = |k: i32| -> Date {
        if months == 0 {
            return anchor_date.add_days(days * k);
        }
        Date::in_month(base + months * k, day, to_month_end)
    };
    let mut k = 0;
    let mut next = anchor;
    while next < end {
        out.push(next);
        k += 1;
        next = anchor.with_date(nth(k));
    }
    // Long stub: drop the last regular date when the end is off the grid. ACTUS applies the
    // rule to the set *with* the end date when it is included, so a two-date schedule
    // {anchor, end} is left alone in both cases.
    let off_grid = next != end;
    let min_len = if end_date == EndDate::Include { 1 } else { 2 };
    if cycle.stub == Stub::Long && off_grid && out.len() > min_len {
        out.pop();
    }
    if end_date == EndDate::Include {
        out.push(end);
    }
}

/// The schedule as a new vector; see [`generate_into`].
pub fn generate<T: SchedulePoint>(
    anchor: T,
    end: T,
    cycle: Option<Cycle>,
    eom: EndOfMonthConvention,
    end_date: EndDate,
) -> Vec<T> {
    let mut v = Vec::new();
    generate_into(&mut v, anchor, end, cycle, eom, end_date);
    v
}

impl EndOfMonthConvention {
    /// The ACTUS code.
    pub fn code(self) -> &'static str {
        match self {
            EndOfMonthConvention::SameDay => "SD",
            EndOfMonthConvention::EndOfMonth => "EOM",
        }
    }
}

impl serde::Serialize for EndOfMonthConvention {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, dd: u32) -> Date {
        Date::ymd(y, m, dd)
    }

    /// A zero period never advances: it is treated as no cycle instead of looping.
    #[test]
    fn zero_period_is_no_cycle() {
        let c = Cycle::new(crate::Period::new(0, crate::PeriodUnit::Year), Stub::Short);
        let s = generate(
            d(2026, 1, 1),
            d(2030, 1, 1),
            Some(c),
            EndOfMonthConvention::SameDay,
            EndDate::Include,
        );
        assert_eq!(s, vec![d(2026, 1, 1), d(2030, 1, 1)]);
    }

    #[test]
    fn long_and_short_last_stub() {
        // ACTUS pam05: anchor 30 Jan, P1ML0, end 2014-01-01 → …, 2013-11-30, 2014-01-01
        let c: Cycle = "P1ML0".parse().unwrap();
        let s = generate(
            d(2013, 1, 30),
            d(2014, 1, 1),
            Some(c),
            EndOfMonthConvention::SameDay,
            EndDate::Include,
        );
        assert_eq!(s[1], d(2013, 2, 28));
        assert_eq!(s[2], d(2013, 3, 30));
        assert_eq!(&s[s.len() - 2..], &[d(2013, 11, 30), d(2014, 1, 1)]);
        // pam19: P6ML1 from 2013-01-01 to 2014-12-31 keeps every regular date
        let c: Cycle = "P6ML1".parse().unwrap();
        let s = generate(
            d(2013, 1, 1),
            d(2014, 12, 31),
            Some(c),
            EndOfMonthConvention::SameDay,
            EndDate::Include,
        );
        assert_eq!(
            s,
            vec![
                d(2013, 1, 1),
                d(2013, 7, 1),
                d(2014, 1, 1),
                d(2014, 7, 1),
                d(2014, 12, 31)
            ]
        );
    }

    #[test]
    fn end_of_month_convention_sticks_to_month_ends() {
        let c: Cycle = "P1ML1".parse().unwrap();
        let s = generate(
            d(2013, 4, 30),
            d(2013, 8, 1),
            Some(c),
            EndOfMonthConvention::EndOfMonth,
            EndDate::Exclude,
        );
        assert_eq!(
            s,
            vec![
                d(2013, 4, 30),
                d(2013, 5, 31),
                d(2013, 6, 30),
                d(2013, 7, 31)
            ]
        );
        let s = generate(
            d(2013, 4, 30),
            d(2013, 8, 1),
            Some(c),
            EndOfMonthConvention::SameDay,
            EndDate::Exclude,
        );
        assert_eq!(
            s,
            vec![
                d(2013, 4, 30),
                d(2013, 5, 30),
                d(2013, 6, 30),
                d(2013, 7, 30)
            ]
        );
    }

    proptest! {
        #[test]
        fn schedules_are_strictly_increasing_and_cover_the_period(
            a in 10_000i32..20_000, len in 1i32..4_000, n in 1u32..13, u in 0usize..4,
            long in any::<bool>(), eom in any::<bool>()
        ) {
            let unit = [crate::PeriodUnit::Day, crate::PeriodUnit::Week, crate::PeriodUnit::Month,
                crate::PeriodUnit::Year][u];
            let c = Cycle::new(crate::Period::new(n, unit), if long { Stub::Long } else { Stub::Short });
            let anchor = Date::from_days_since_epoch(a);
            let end = anchor.add_days(len);
            let e = if eom { EndOfMonthConvention::EndOfMonth } else { EndOfMonthConvention::SameDay };
            let s = generate(anchor, end, Some(c), e, EndDate::Include);
            prop_assert_eq!(s[0], anchor);
            prop_assert_eq!(*s.last().unwrap(), end);
            prop_assert!(s.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
