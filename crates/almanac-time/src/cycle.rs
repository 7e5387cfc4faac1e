//! Periods (`P3M`) and ACTUS cycles (`P3ML1`).
//!
//! An ACTUS cycle is an ISO 8601 duration with one unit, followed by `L0` (long last stub:
//! the last regular date before the end is dropped, so the final period is longer than one
//! cycle) or `L1` (short last stub: every regular date is kept). Units are D (days), W (weeks),
//! M (months), Q (quarters), H (half-years) and Y (years).

use std::fmt;
use std::str::FromStr;

use crate::{Date, TimeError};

/// The unit of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    /// Calendar days.
    Day,
    /// Weeks of seven days.
    Week,
    /// Calendar months.
    Month,
    /// Quarters (three months).
    Quarter,
    /// Half-years (six months).
    HalfYear,
    /// Years (twelve months).
    Year,
}

impl PeriodUnit {
    fn letter(self) -> char {
        match self {
            PeriodUnit::Day => 'D',
            PeriodUnit::Week => 'W',
            PeriodUnit::Month => 'M',
            PeriodUnit::Quarter => 'Q',
            PeriodUnit::HalfYear => 'H',
            PeriodUnit::Year => 'Y',
        }
    }
}

/// A length of time in one unit, such as `P3M` or `P2D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// How many units (may be zero: `P0D`).
    pub count: u32,
    /// The unit.
    pub unit: PeriodUnit,
}

impl Period {
    /// A period of `count` units.
    pub const fn new(count: u32, unit: PeriodUnit) -> Period {
        Period { count, unit }
    }

    /// True for month-based periods (M, Q, H, Y), where end-of-month rules apply.
    pub fn is_month_based(self) -> bool {
        !matches!(self.unit, PeriodUnit::Day | PeriodUnit::Week)
    }

    /// The period as (months, days); exactly one is non-zero unless the period is empty.
    #[inline]
    pub fn months_and_days(self) -> (i32, i32) {
        let n = self.count as i32;
        match self.unit {
            PeriodUnit::Day => (0, n),
            PeriodUnit::Week => (0, 7 * n),
            PeriodUnit::Month => (n, 0),
            PeriodUnit::Quarter => (3 * n, 0),
            PeriodUnit::HalfYear => (6 * n, 0),
            PeriodUnit::Year => (12 * n, 0),
        }
    }

    /// `date` plus `multiple` times this period, computed from `date` in one step (so month
    /// ends clip once: 31 Jan + 2×P1M = 31 Mar, not 28 Mar).
    #[inline]
    pub fn add_to(self, date: Date, multiple: i32) -> Date {
        let (months, days) = self.months_and_days();
        if months != 0 {
            date.add_months(months * multiple)
        } else {
            date.add_days(days * multiple)
        }
    }

    /// Approximate length in years (months/12 or days/365.25): for sorting tenors, not for
    /// accrual.
    pub fn approx_years(self) -> f64 {
        let (m, d) = self.months_and_days();
        f64::from(m) / 12.0 + f64::from(d) / 365.25
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}{}", self.count, self.unit.letter())
    }
}

impl FromStr for Period {
    type Err = TimeError;

    /// Parses `P<n><unit>`; a trailing stub (`L0`/`L1`) is accepted and ignored, as the
    /// suite writes `settlementPeriod` both ways. Also accepts a bare tenor such as `3M`.
    fn from_str(s: &str) -> Result<Period, TimeError> {
        parse_cycle_parts(s).map(|(p, _)| p)
    }
}

/// Which end of the schedule takes the odd period when the end date is off the cycle grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stub {
    /// `L0`: long last stub; the last regular date before the end is dropped.
    Long,
    /// `L1`: short last stub; every regular date is kept (the ACTUS default).
    #[default]
    Short,
}

/// An ACTUS cycle: a period and a stub rule, written `P<n><unit>L<0|1>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cycle {
    /// The period between regular dates.
    pub period: Period,
    /// The last-stub rule.
    pub stub: Stub,
}

impl Cycle {
    /// A cycle from its parts.
    pub const fn new(period: Period, stub: Stub) -> Cycle {
        Cycle { period, stub }
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.stub {
            Stub::Long => 0,
            Stub::Short => 1,
        };
        write!(f, "{}L{s}", self.period)
    }
}

/// Largest count accepted in a period or cycle (keeps date arithmetic far from overflow).
const MAX_COUNT: u32 = 9999;

fn parse_cycle_parts(input: &str) -> Result<(Period, Option<Stub>), TimeError> {
    let bad = |why: &'static str| TimeError::Parse {
        input: input.to_string(),
        expected: why,
    };
    let s = input.trim();
    let s = s.strip_prefix('P').unwrap_or(s);
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return Err(bad("a cycle P<n><D|W|M|Q|H|Y>[L0|L1]"));
    }
    let count: u32 = s[..digits_end]
        .parse()
        .ok()
        .filter(|n| *n <= MAX_COUNT)
        .ok_or_else(|| bad("a cycle count of at most 9999"))?;
    let rest = &s[digits_end..];
    let mut chars = rest.chars();
    let unit = match chars.next() {
        Some('D') => PeriodUnit::Day,
        Some('W') => PeriodUnit::Week,
        Some('M') => PeriodUnit::Month,
        Some('Q') => PeriodUnit::Quarter,
        Some('H') => PeriodUnit::HalfYear,
        Some('Y') => PeriodUnit::Year,
        _ => return Err(bad("a cycle unit D, W, M, Q, H or Y")),
    };
    let stub = match chars.as_str() {
        "" => None,
        "L0" | "-" => Some(Stub::Long),
        "L1" | "+" => Some(Stub::Short),
        _ => return Err(bad("a stub L0 (long) or L1 (short)")),
    };
    Ok((Period::new(count, unit), stub))
}

impl FromStr for Cycle {
    type Err = TimeError;

    /// Parses `P<n><unit>L<s>`; without a stub suffix the stub is short (`L1`).
    fn from_str(s: &str) -> Result<Cycle, TimeError> {
        let (period, stub) = parse_cycle_parts(s)?;
        if period.count == 0 {
            return Err(TimeError::Parse {
                input: s.to_string(),
                expected: "a cycle with a positive count",
            });
        }
        Ok(Cycle::new(period, stub.unwrap_or_default()))
    }
}

impl serde::Serialize for Cycle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_actus_cycles() {
        let c: Cycle = "P3ML1".parse().unwrap();
        assert_eq!(
            c,
            Cycle::new(Period::new(3, PeriodUnit::Month), Stub::Short)
        );
        let c: Cycle = "P1YL0".parse().unwrap();
        assert_eq!(c.stub, Stub::Long);
        assert_eq!(c.to_string(), "P1YL0");
        let p: Period = "P5DL0".parse().unwrap();
        assert_eq!(p, Period::new(5, PeriodUnit::Day));
        assert_eq!("P0D".parse::<Period>().unwrap().count, 0);
        assert!("P0ML1".parse::<Cycle>().is_err());
        assert!("P1XL1".parse::<Cycle>().is_err());
        assert!("P1ML2".parse::<Cycle>().is_err());
        assert!("".parse::<Cycle>().is_err());
        assert!("P4000000000ML1".parse::<Cycle>().is_err());
        assert!("P10000D".parse::<Period>().is_err());
        assert_eq!("P9999D".parse::<Period>().unwrap().count, 9999);
    }

    proptest! {
        #[test]
        fn cycle_parser_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<Cycle>();
            let _ = s.parse::<Period>();
        }

        #[test]
        fn cycle_round_trips(n in 1u32..1000, u in 0usize..6, long in any::<bool>()) {
            let unit = [PeriodUnit::Day, PeriodUnit::Week, PeriodUnit::Month, PeriodUnit::Quarter,
                PeriodUnit::HalfYear, PeriodUnit::Year][u];
            let c = Cycle::new(Period::new(n, unit), if long { Stub::Long } else { Stub::Short });
            prop_assert_eq!(c.to_string().parse::<Cycle>().unwrap(), c);
        }
    }
}
