//! Day-count conventions: the year fraction between two dates.
//!
//! Year fractions are plain `f64` years (1.0 = one year). Every convention here is an ACTUS
//! `dayCountConvention` code; the enum variants are spelled after the ISDA 2006 definitions
//! and map to the ACTUS codes in [`DayCount::from_code`] / [`DayCount::code`].
//!
//! Two conventions need more than the two dates: 30E/360 ISDA treats the last day of February
//! differently when it is the maturity date, and Business/252 counts business days of a
//! calendar. [`DayCount`] carries that context.

use crate::{Calendar, Date, TimeError};

/// A day-count convention with the context it needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DayCount {
    /// `A360`: actual days / 360.
    Act360,
    /// `A365`: actual days / 365 (Actual/365 Fixed).
    #[default]
    Act365Fixed,
    /// `AA`: Actual/Actual ISDA — days in each calendar year divided by that year's length.
    ActActIsda,
    /// `30E360`: 30E/360 (Eurobond basis, ISDA 2006 4.16(g)); day 31 becomes 30 on both ends.
    ThirtyE360,
    /// `30E360ISDA`: 30E/360 ISDA (ISDA 2006 4.16(h)); month-ends become 30, except the end
    /// date when it is the maturity date and falls on the last day of February.
    ThirtyE360Isda {
        /// Contract maturity date, if any.
        maturity: Option<Date>,
    },
    /// `28E336`: 28 days a month, 336 a year; month-ends count as day 28.
    TwentyEightE336,
    /// `B252`: business days in `[start, end)` of the calendar / 252.
    Business252(Calendar),
}

fn thirty_360(y1: i32, m1: u32, d1: u32, y2: i32, m2: u32, d2: u32, basis: f64) -> f64 {
    let days_per_month = basis / 12.0;
    (basis * f64::from(y2 - y1)
        + days_per_month * (f64::from(m2) - f64::from(m1))
        + (f64::from(d2) - f64::from(d1)))
        / basis
}

/// Year fractions along a sequence of dates; see [`DayCount::walk`].
#[derive(Debug, Clone)]
pub struct YearFractionWalk<'a> {
    dc: &'a DayCount,
    prev: Date,
    /// The civil date of `prev`, once known.
    prev_ymd: Option<(i32, u32, u32)>,
}

impl YearFractionWalk<'_> {
    /// The year fraction from the previous date to `d`; `d` becomes the previous date.
    #[inline]
    pub fn to(&mut self, d: Date) -> f64 {
        if d == self.prev {
            return 0.0;
        }
        let basis = match self.dc {
            DayCount::ThirtyE360 | DayCount::ThirtyE360Isda { .. } => 360.0,
            DayCount::TwentyEightE336 => 336.0,
            dc => {
                let y = dc.year_fraction(self.prev, d);
                self.prev = d;
                return y;
            }
        };
        let ymd = d.to_ymd();
        let y = if d < self.prev {
            self.dc.year_fraction(self.prev, d)
        } else {
            let start = self.prev_ymd.unwrap_or_else(|| self.prev.to_ymd());
            let (y1, m1, d1) = self.thirty(start, None);
            let (y2, m2, d2) = self.thirty(ymd, Some(d));
            thirty_360(y1, m1, d1, y2, m2, d2, basis)
        };
        self.prev = d;
        self.prev_ymd = Some(ymd);
        y
    }

    /// A civil date with the 30/360 family's day adjustment; `end` is the date when it is the
    /// end of the period (30E/360 ISDA treats a February maturity date differently there).
    #[inline]
    fn thirty(&self, (y, m, d): (i32, u32, u32), end: Option<Date>) -> (i32, u32, u32) {
        let eom = || d == crate::date::days_in_month(y, m);
        match self.dc {
            DayCount::ThirtyE360 => (y, m, d.min(30)),
            DayCount::ThirtyE360Isda { maturity } => {
                let feb_maturity = m == 2 && end.is_some() && end == *maturity;
                (y, m, if eom() && !feb_maturity { 30 } else { d })
            }
            _ => (y, m, if d > 28 || eom() { 28 } else { d }),
        }
    }
}

impl DayCount {
    /// Parses an ACTUS code. `B252` takes `calendar`; `30E360ISDA` takes `maturity`.
    pub fn from_code(
        code: &str,
        calendar: &Calendar,
        maturity: Option<Date>,
    ) -> Result<DayCount, TimeError> {
        Ok(match code.trim() {
            "A360" | "AA360" => DayCount::Act360,
            "A365" | "AA365" => DayCount::Act365Fixed,
            "AA" | "AAISDA" => DayCount::ActActIsda,
            "30E360" => DayCount::ThirtyE360,
            "30E360ISDA" => DayCount::ThirtyE360Isda { maturity },
            "28E336" => DayCount::TwentyEightE336,
            "B252" => DayCount::Business252(calendar.clone()),
            other => {
                return Err(TimeError::UnknownCode {
                    kind: "day-count convention",
                    code: other.to_string(),
                })
            }
        })
    }

    /// The ACTUS code.
    pub fn code(&self) -> &'static str {
        match self {
            DayCount::Act360 => "A360",
            DayCount::Act365Fixed => "A365",
            DayCount::ActActIsda => "AA",
            DayCount::ThirtyE360 => "30E360",
            DayCount::ThirtyE360Isda { .. } => "30E360ISDA",
            DayCount::TwentyEightE336 => "28E336",
            DayCount::Business252(_) => "B252",
        }
    }

    /// Year fractions between consecutive dates into `out` (cleared first):
    /// `out[i] = year_fraction(dates[i], dates[i + 1])`, bit for bit, for any dates (see
    /// [`DayCount::walk`]).
    pub fn year_fractions(&self, dates: &[Date], out: &mut Vec<f64>) {
        out.clear();
        let Some((&first, rest)) = dates.split_first() else {
            return;
        };
        let mut walk = self.walk(first);
        out.extend(rest.iter().map(|&d| walk.to(d)));
    }

    /// A walk along dates from `start`: [`YearFractionWalk::to`] gives the year fraction from
    /// the previous date to the next one, equal bit for bit to [`DayCount::year_fraction`],
    /// but the 30/360 family converts each date to its civil date once instead of twice and a
    /// repeated date costs nothing: what a state loop over a schedule needs.
    pub fn walk(&self, start: Date) -> YearFractionWalk<'_> {
        YearFractionWalk {
            dc: self,
            prev: start,
            prev_ymd: None,
        }
    }

    /// Year fraction from `start` to `end` in years. Negative when `end < start`
    /// (anti-symmetric for every convention).
    pub fn year_fraction(&self, start: Date, end: Date) -> f64 {
        if end <= start {
            // Equal dates (several events on one day) are the common case: no civil dates.
            return if end == start {
                0.0
            } else {
                -self.year_fraction(end, start)
            };
        }
        match self {
            DayCount::Act360 => f64::from(start.days_until(end)) / 360.0,
            DayCount::Act365Fixed => f64::from(start.days_until(end)) / 365.0,
            DayCount::ActActIsda => {
                let (y1, y2) = (start.year(), end.year());
                if y1 == y2 {
                    let len = if start.is_in_leap_year() {
                        366.0
                    } else {
                        365.0
                    };
                    return f64::from(start.days_until(end)) / len;
                }
                let year_len = |y: i32| if crate::is_leap_year(y) { 366.0 } else { 365.0 };
                let first = f64::from(start.days_until(Date::ymd(y1 + 1, 1, 1))) / year_len(y1);
                let last = f64::from(Date::ymd(y2, 1, 1).days_until(end)) / year_len(y2);
                first + f64::from(y2 - y1 - 1) + last
            }
            DayCount::ThirtyE360 => {
                let (y1, m1, d1) = start.to_ymd();
                let (y2, m2, d2) = end.to_ymd();
                thirty_360(y1, m1, d1.min(30), y2, m2, d2.min(30), 360.0)
            }
            DayCount::ThirtyE360Isda { maturity } => {
                let (y1, m1, mut d1) = start.to_ymd();
                let (y2, m2, mut d2) = end.to_ymd();
                if start.is_end_of_month() {
                    d1 = 30;
                }
                let end_is_feb_maturity = m2 == 2 && Some(end) == *maturity;
                if end.is_end_of_month() && !end_is_feb_maturity {
                    d2 = 30;
                }
                thirty_360(y1, m1, d1, y2, m2, d2, 360.0)
            }
            DayCount::TwentyEightE336 => {
                let (y1, m1, mut d1) = start.to_ymd();
                let (y2, m2, mut d2) = end.to_ymd();
                if start.is_end_of_month() || d1 > 28 {
                    d1 = 28;
                }
                if end.is_end_of_month() || d2 > 28 {
                    d2 = 28;
                }
                thirty_360(y1, m1, d1, y2, m2, d2, 336.0)
            }
            DayCount::Business252(cal) => f64::from(cal.business_days_between(start, end)) / 252.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, dd: u32) -> Date {
        Date::ymd(y, m, dd)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14
    }

    /// ISDA's own Actual/Actual examples ("EMU and market conventions", ISDA 1998, §3.2):
    /// period 1 Nov 2003 – 1 May 2004 gives 61/365 + 121/366.
    #[test]
    fn act_act_isda_published_example() {
        let yf = DayCount::ActActIsda.year_fraction(d(2003, 11, 1), d(2004, 5, 1));
        assert!(close(yf, 61.0 / 365.0 + 121.0 / 366.0), "{yf}");
        // 15 Jan 1999 – 15 Jul 1999 (ISDA 1998 example 3.2.b regular period)
        let yf = DayCount::ActActIsda.year_fraction(d(1999, 1, 15), d(1999, 7, 15));
        assert!(close(yf, 181.0 / 365.0));
        // Long period across a leap year: 30 Sep 1999 – 30 Sep 2000
        let yf = DayCount::ActActIsda.year_fraction(d(1999, 9, 30), d(2000, 9, 30));
        assert!(close(yf, 93.0 / 365.0 + 273.0 / 366.0));
    }

    /// ISDA 2006 §4.16 30E/360 vs 30E/360 (ISDA) examples around February month-ends.
    #[test]
    fn thirty_e_conventions_at_month_ends() {
        let e = DayCount::ThirtyE360;
        // 28 Feb 2007 – 31 Mar 2007: 30E/360 counts 28→30 = 32 days
        assert!(close(
            e.year_fraction(d(2007, 2, 28), d(2007, 3, 31)),
            32.0 / 360.0
        ));
        // 30E/360 ISDA: 28 Feb 2007 is a month end → 30, so 30 days
        let isda = DayCount::ThirtyE360Isda { maturity: None };
        assert!(close(
            isda.year_fraction(d(2007, 2, 28), d(2007, 3, 31)),
            30.0 / 360.0
        ));
        // End date 29 Feb 2008 as maturity stays 29
        let isda_m = DayCount::ThirtyE360Isda {
            maturity: Some(d(2008, 2, 29)),
        };
        assert!(close(
            isda_m.year_fraction(d(2007, 8, 31), d(2008, 2, 29)),
            179.0 / 360.0
        ));
        assert!(close(
            isda.year_fraction(d(2007, 8, 31), d(2008, 2, 29)),
            180.0 / 360.0
        ));
        // 31 Jan – 28 Feb 2007 (not leap): 30E/360 = 28 days, ISDA = 30 days
        assert!(close(
            e.year_fraction(d(2007, 1, 31), d(2007, 2, 28)),
            28.0 / 360.0
        ));
        assert!(close(
            isda.year_fraction(d(2007, 1, 31), d(2007, 2, 28)),
            30.0 / 360.0
        ));
    }

    #[test]
    fn simple_actual_conventions() {
        assert!(close(
            DayCount::Act360.year_fraction(d(2013, 1, 1), d(2013, 4, 1)),
            90.0 / 360.0
        ));
        assert!(close(
            DayCount::Act365Fixed.year_fraction(d(2012, 1, 1), d(2013, 1, 1)),
            366.0 / 365.0
        ));
        assert!(close(
            DayCount::TwentyEightE336.year_fraction(d(2013, 1, 31), d(2013, 2, 28)),
            28.0 / 336.0
        ));
        let b = DayCount::Business252(Calendar::MondayToFriday);
        // 2013-01-07 (Mon) to 2013-01-14 (Mon): five business days
        assert!(close(
            b.year_fraction(d(2013, 1, 7), d(2013, 1, 14)),
            5.0 / 252.0
        ));
    }

    /// An empty period accrues nothing under every convention, including 30E/360 ISDA on a
    /// February month end that is the maturity (where the formula alone would give −1/360).
    #[test]
    fn empty_period_is_zero() {
        let feb = d(2012, 2, 29);
        for dc in [
            DayCount::Act360,
            DayCount::Act365Fixed,
            DayCount::ActActIsda,
            DayCount::ThirtyE360,
            DayCount::ThirtyE360Isda {
                maturity: Some(feb),
            },
            DayCount::TwentyEightE336,
            DayCount::Business252(Calendar::Target),
        ] {
            assert_eq!(dc.year_fraction(feb, feb), 0.0, "{dc:?}");
        }
    }

    proptest! {
        /// Where the day count is additive, adjacent periods add up.
        #[test]
        fn year_fractions_are_additive(a in 0i32..30_000, l1 in 0i32..2_000, l2 in 0i32..2_000) {
            let s = Date::from_days_since_epoch(a);
            let m = s.add_days(l1);
            let e = m.add_days(l2);
            for dc in [DayCount::Act360, DayCount::Act365Fixed, DayCount::ActActIsda,
                DayCount::Business252(Calendar::Target)] {
                let whole = dc.year_fraction(s, e);
                let parts = dc.year_fraction(s, m) + dc.year_fraction(m, e);
                prop_assert!((whole - parts).abs() < 1e-12);
            }
        }

        #[test]
        fn consecutive_year_fractions_equal_pairwise(
            a in 0i32..30_000,
            steps in proptest::collection::vec(-40i32..400, 0..40),
            m in 0i32..30_000,
        ) {
            let mut dates = vec![Date::from_days_since_epoch(a)];
            for s in steps {
                let last = *dates.last().unwrap();
                dates.push(last.add_days(s));
            }
            let maturity = Some(Date::from_days_since_epoch(m));
            let mut out = Vec::new();
            for dc in [DayCount::Act360, DayCount::Act365Fixed, DayCount::ActActIsda,
                DayCount::ThirtyE360, DayCount::ThirtyE360Isda { maturity },
                DayCount::ThirtyE360Isda { maturity: dates.last().copied() },
                DayCount::TwentyEightE336, DayCount::Business252(Calendar::Target)] {
                dc.year_fractions(&dates, &mut out);
                prop_assert_eq!(out.len(), dates.len() - 1);
                for (w, y) in dates.windows(2).zip(&out) {
                    prop_assert_eq!(y.to_bits(), dc.year_fraction(w[0], w[1]).to_bits());
                }
            }
        }

        #[test]
        fn year_fractions_are_antisymmetric(a in 0i32..30_000, b in 0i32..30_000) {
            let (s, e) = (Date::from_days_since_epoch(a), Date::from_days_since_epoch(b));
            for dc in [DayCount::ThirtyE360, DayCount::TwentyEightE336, DayCount::ActActIsda] {
                prop_assert!((dc.year_fraction(s, e) + dc.year_fraction(e, s)).abs() < 1e-12);
            }
        }
    }
}
