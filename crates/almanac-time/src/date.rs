//! Calendar dates and date-times.
//!
//! [`Date`] is a proleptic-Gregorian calendar date stored as the number of days since
//! 1970-01-01 in an `i32` — the same representation as Arrow's `Date32`, so columns move
//! between the engine and Arrow/Parquet without conversion. Arithmetic on days is a single
//! integer operation; month arithmetic converts through the civil calendar with the
//! algorithms of H. Hinnant (public-domain "chrono-compatible low-level date algorithms").
//!
//! [`DateTime`] adds a second of the day. ACTUS timestamps are date-times, and the test suite
//! uses both `00:00:00` and `23:59:59` (which the ACTUS technical specification reads as the
//! end of that day); everything else in Almanac works on whole dates.

use std::fmt;
use std::str::FromStr;

use crate::TimeError;

/// Day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// True for Saturday and Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Saturday | Weekday::Sunday)
    }
}

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
///
/// Valid for years 1 to 9999. Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(i32);

/// Days from 1970-01-01 to the civil date `y-m-d` (Hinnant's `days_from_civil`).
#[inline]
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32; // [0, 399]
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe as i32 - 719_468
}

/// First year of the civil-date tables.
const TABLE_FIRST_YEAR: i32 = 1900;
/// Years covered by the civil-date tables (1900 to 2299).
const TABLE_YEARS: usize = 400;

/// Day number of January 1st of each year the tables cover, and of the year after.
const YEAR_STARTS: [i32; TABLE_YEARS + 1] = {
    let mut out = [0; TABLE_YEARS + 1];
    let mut k = 0;
    while k <= TABLE_YEARS {
        out[k] = days_from_civil(TABLE_FIRST_YEAR + k as i32, 1, 1);
        k += 1;
    }
    out
};

/// Day number of the first of each month the tables cover (January 1900 is entry 0), and of
/// the month after the last.
static MONTH_STARTS: [i32; TABLE_YEARS * 12 + 1] = {
    let mut out = [0; TABLE_YEARS * 12 + 1];
    let mut k = 0;
    while k <= TABLE_YEARS * 12 {
        out[k] = days_from_civil(TABLE_FIRST_YEAR + (k / 12) as i32, (k % 12) as u32 + 1, 1);
        k += 1;
    }
    out
};

/// Month (1–12) and day of month of each day of the year (0-based), common and leap years,
/// packed as `month << 5 | day`.
const MONTH_DAYS: [[u16; 366]; 2] = {
    let mut out = [[0u16; 366]; 2];
    let mut leap = 0;
    while leap < 2 {
        let mut doy = 0;
        let mut m = 1;
        while m <= 12 {
            let len = days_in_month(if leap == 1 { 2000 } else { 2001 }, m);
            let mut d = 1;
            while d <= len {
                out[leap][doy] = ((m << 5) | d) as u16;
                doy += 1;
                d += 1;
            }
            m += 1;
        }
        leap += 1;
    }
    out
};

/// Civil date of a day count since 1970-01-01: from the tables for 1900–2299 (every date a
/// balance sheet holds, a few table reads instead of a chain of divisions), else
/// [`civil_from_days_computed`]. The two agree on every day of the table range (tested).
#[inline]
const fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let first = YEAR_STARTS[0];
    if z < first || z >= YEAR_STARTS[TABLE_YEARS] {
        return civil_from_days_computed(z);
    }
    // An estimate of the year (off by at most one), then corrected.
    let mut k = ((z - first) as i64 * 400 / 146_097) as usize;
    if k >= TABLE_YEARS {
        k = TABLE_YEARS - 1;
    }
    while YEAR_STARTS[k] > z {
        k -= 1;
    }
    while YEAR_STARTS[k + 1] <= z {
        k += 1;
    }
    let doy = (z - YEAR_STARTS[k]) as usize;
    let leap = (YEAR_STARTS[k + 1] - YEAR_STARTS[k] == 366) as usize;
    let md = MONTH_DAYS[leap][doy];
    (
        TABLE_FIRST_YEAR + k as i32,
        (md >> 5) as u32,
        (md & 31) as u32,
    )
}

/// Civil date of a day count since 1970-01-01 (Hinnant's `civil_from_days`), any year.
#[inline]
const fn civil_from_days_computed(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// True when `year` is a Gregorian leap year.
#[inline]
pub const fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`.
#[inline]
pub const fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap_year(year) {
                29
            } else {
                28
            }
        }
    }
}

impl Date {
    /// The earliest supported date, 0001-01-01.
    pub const MIN: Date = Date(days_from_civil(1, 1, 1));
    /// The latest supported date, 9999-12-31.
    pub const MAX: Date = Date(days_from_civil(9999, 12, 31));

    /// Builds a date from year, month (1–12) and day, checking that it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, TimeError> {
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(TimeError::InvalidDate { year, month, day });
        }
        Ok(Date(days_from_civil(year, month, day)))
    }

    /// Builds a date that is known to be valid at compile time or by construction.
    ///
    /// # Panics
    /// Panics if the date does not exist; use [`Date::from_ymd`] for data.
    pub const fn ymd(year: i32, month: u32, day: u32) -> Date {
        assert!(month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month));
        Date(days_from_civil(year, month, day))
    }

    /// Day `day` (1-based, clipped to the month's length) of the month `month_index` months
    /// after January of year 0 (`year * 12 + month - 1`), or its last day with
    /// `month_end`: the k-th date of a monthly schedule in one step. From the tables for
    /// 1900–2299 (two reads), else computed; the same date either way (tested).
    #[inline]
    pub(crate) fn in_month(month_index: i32, day: u32, month_end: bool) -> Date {
        let k = month_index - TABLE_FIRST_YEAR * 12;
        if (0..(TABLE_YEARS * 12) as i32).contains(&k) {
            let start = MONTH_STARTS[k as usize];
            let len = (MONTH_STARTS[k as usize + 1] - start) as u32;
            let d = if month_end { len } else { day.min(len) };
            return Date(start + d as i32 - 1);
        }
        let (y, m) = (
            month_index.div_euclid(12),
            month_index.rem_euclid(12) as u32 + 1,
        );
        let last = days_in_month(y, m);
        Date(days_from_civil(
            y,
            m,
            if month_end { last } else { day.min(last) },
        ))
    }

    /// The date `days` days after 1970-01-01 (Arrow `Date32` value).
    #[inline]
    pub const fn from_days_since_epoch(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01 (Arrow `Date32` value).
    #[inline]
    pub const fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// (year, month, day).
    #[inline]
    pub const fn to_ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Calendar year.
    #[inline]
    pub const fn year(self) -> i32 {
        civil_from_days(self.0).0
    }

    /// Month, 1–12.
    #[inline]
    pub const fn month(self) -> u32 {
        civil_from_days(self.0).1
    }

    /// Day of the month, 1–31.
    #[inline]
    pub const fn day(self) -> u32 {
        civil_from_days(self.0).2
    }

    /// Day of the week.
    pub const fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match self.0.rem_euclid(7) {
            0 => Weekday::Thursday,
            1 => Weekday::Friday,
            2 => Weekday::Saturday,
            3 => Weekday::Sunday,
            4 => Weekday::Monday,
            5 => Weekday::Tuesday,
            _ => Weekday::Wednesday,
        }
    }

    /// Day of the year, 1–366.
    pub const fn day_of_year(self) -> u32 {
        (self.0 - days_from_civil(self.year(), 1, 1) + 1) as u32
    }

    /// The date `n` days later (earlier for negative `n`).
    #[must_use]
    #[inline]
    pub const fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// Signed number of days from `self` to `other` (`other − self`).
    #[inline]
    pub const fn days_until(self, other: Date) -> i32 {
        other.0 - self.0
    }

    /// The date `n` months later (earlier for negative `n`), keeping the day of the month and
    /// clipping it to the last day of a shorter month (31 Jan + 1M = 28/29 Feb).
    #[must_use]
    #[inline]
    pub fn add_months(self, n: i32) -> Date {
        let (y, m, d) = self.to_ymd();
        let total = y * 12 + (m as i32 - 1) + n;
        let ny = total.div_euclid(12);
        let nm = (total.rem_euclid(12) + 1) as u32;
        let nd = d.min(days_in_month(ny, nm));
        Date(days_from_civil(ny, nm, nd))
    }

    /// True when the date is the last day of its month.
    #[inline]
    pub fn is_end_of_month(self) -> bool {
        let (y, m, d) = self.to_ymd();
        d == days_in_month(y, m)
    }

    /// The last day of this date's month.
    #[must_use]
    #[inline]
    pub fn end_of_month(self) -> Date {
        let (y, m, _) = self.to_ymd();
        Date(days_from_civil(y, m, days_in_month(y, m)))
    }

    /// True for leap years.
    pub fn is_in_leap_year(self) -> bool {
        is_leap_year(self.year())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.to_ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn parse_fixed_digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s.iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')),
    )
}

impl FromStr for Date {
    type Err = TimeError;

    /// Parses an ISO 8601 calendar date `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, TimeError> {
        let b = s.as_bytes();
        let bad = || TimeError::Parse {
            input: s.to_string(),
            expected: "an ISO date YYYY-MM-DD",
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let y = parse_fixed_digits(&b[0..4]).ok_or_else(bad)?;
        let m = parse_fixed_digits(&b[5..7]).ok_or_else(bad)?;
        let d = parse_fixed_digits(&b[8..10]).ok_or_else(bad)?;
        Date::from_ymd(y as i32, m, d)
    }
}

/// A date with a second of the day, as ACTUS timestamps are written (`YYYY-MM-DDThh:mm[:ss]`).
///
/// Ordering is chronological. `23:59:59` is kept as written (so it prints back unchanged);
/// [`DateTime::accrual_date`] gives the date that year fractions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime {
    date: Date,
    second_of_day: u32,
}

impl DateTime {
    /// Midnight at the start of `date`.
    #[inline]
    pub const fn midnight(date: Date) -> DateTime {
        DateTime {
            date,
            second_of_day: 0,
        }
    }

    /// `date` at `second_of_day` seconds after midnight (0–86399).
    pub fn new(date: Date, second_of_day: u32) -> Result<DateTime, TimeError> {
        if second_of_day >= 86_400 {
            return Err(TimeError::Parse {
                input: format!("{date}+{second_of_day}s"),
                expected: "a second of the day below 86400",
            });
        }
        Ok(DateTime {
            date,
            second_of_day,
        })
    }

    /// The calendar date.
    #[inline]
    pub const fn date(self) -> Date {
        self.date
    }

    /// Seconds after midnight.
    #[inline]
    pub const fn second_of_day(self) -> u32 {
        self.second_of_day
    }

    /// True when the time is 23:59:59, which ACTUS reads as the end of the day (24:00).
    #[inline]
    pub const fn is_end_of_day(self) -> bool {
        self.second_of_day == 86_399
    }

    /// The date used for day counting: the same date, or the next day for `23:59:59`
    /// (ACTUS technical specification §2: 23:59:59 stands for 24:00).
    #[inline]
    pub const fn accrual_date(self) -> Date {
        // Times are rounded to the hour (from :30 up) before whole days are counted, so
        // anything from 23:30 on counts as the next day.
        if self.second_of_day >= 23 * 3600 + 30 * 60 {
            self.date.add_days(1)
        } else {
            self.date
        }
    }
}

impl From<Date> for DateTime {
    fn from(date: Date) -> DateTime {
        DateTime::midnight(date)
    }
}

impl DateTime {
    /// `YYYY-MM-DDThh:mm:ss` as ASCII bytes, without going through the formatter (for
    /// writers of millions of rows). Years outside 0–9999 keep only their last four digits;
    /// [`fmt::Display`] prints them in full.
    pub fn iso_bytes(self) -> [u8; 19] {
        let (y, m, d) = self.date.to_ymd();
        let y = y.rem_euclid(10_000) as u32;
        let s = self.second_of_day;
        let (hh, mm, ss) = (s / 3600, (s / 60) % 60, s % 60);
        let digit = |v: u32| b'0' + (v % 10) as u8;
        [
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
            b'T',
            digit(hh / 10),
            digit(hh),
            b':',
            digit(mm / 10),
            digit(mm),
            b':',
            digit(ss / 10),
            digit(ss),
        ]
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.second_of_day;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date,
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
    }
}

impl FromStr for DateTime {
    type Err = TimeError;

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDThh:mm` or `YYYY-MM-DDThh:mm:ss` (surrounding spaces
    /// are ignored).
    fn from_str(s: &str) -> Result<DateTime, TimeError> {
        let t = s.trim();
        let bad = || TimeError::Parse {
            input: s.to_string(),
            expected: "an ISO date-time YYYY-MM-DD[Thh:mm[:ss]]",
        };
        if t.len() < 10 || !t.is_char_boundary(10) {
            return Err(bad());
        }
        let date: Date = match t[..10].parse() {
            Ok(d) => d,
            Err(e @ TimeError::InvalidDate { .. }) => return Err(e),
            Err(_) => return Err(bad()),
        };
        let rest = &t.as_bytes()[10..];
        if rest.is_empty() {
            return Ok(DateTime::midnight(date));
        }
        if rest[0] != b'T' && rest[0] != b' ' {
            return Err(bad());
        }
        let time = &rest[1..];
        let (h, mi, sec) = match time.len() {
            5 if time[2] == b':' => (&time[0..2], &time[3..5], None),
            8 if time[2] == b':' && time[5] == b':' => {
                (&time[0..2], &time[3..5], Some(&time[6..8]))
            }
            _ => return Err(bad()),
        };
        let h = parse_fixed_digits(h).ok_or_else(bad)?;
        let mi = parse_fixed_digits(mi).ok_or_else(bad)?;
        let sec = match sec {
            Some(x) => parse_fixed_digits(x).ok_or_else(bad)?,
            None => 0,
        };
        if h > 23 || mi > 59 || sec > 59 {
            return Err(bad());
        }
        DateTime::new(date, h * 3600 + mi * 60 + sec)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.trim().parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DateTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates_from_the_tables_agree_with_the_computation() {
        let from = super::YEAR_STARTS[0] - 800;
        let to = super::YEAR_STARTS[super::TABLE_YEARS] + 800;
        for z in from..to {
            assert_eq!(
                super::civil_from_days(z),
                super::civil_from_days_computed(z),
                "day {z}"
            );
        }
        for z in [i32::MIN / 2, -1_000_000, 1_000_000, 2_932_896] {
            assert_eq!(
                super::civil_from_days(z),
                super::civil_from_days_computed(z)
            );
        }
    }

    #[test]
    fn month_dates_from_the_tables_agree_with_the_computation() {
        // Every month from 1800 to 2399 (the table covers 1900–2299), every day, both rules.
        for index in 1800 * 12..2400 * 12 {
            let (y, m) = (index / 12, (index % 12) as u32 + 1);
            let last = super::days_in_month(y, m);
            for day in 1..=31 {
                for month_end in [false, true] {
                    let d = if month_end { last } else { day.min(last) };
                    assert_eq!(
                        super::Date::in_month(index, day, month_end),
                        super::Date::ymd(y, m, d),
                        "{y}-{m} day {day} month end {month_end}"
                    );
                }
            }
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Date::ymd(1970, 1, 1).days_since_epoch(), 0);
        assert_eq!(Date::ymd(2000, 3, 1).days_since_epoch(), 11_017);
        assert_eq!(Date::ymd(1969, 12, 31).days_since_epoch(), -1);
        assert_eq!(Date::ymd(2024, 2, 29).weekday(), Weekday::Thursday);
        assert_eq!(Date::ymd(2026, 11, 22).weekday(), Weekday::Sunday);
        assert_eq!(Date::ymd(2024, 12, 31).day_of_year(), 366);
    }

    #[test]
    fn month_arithmetic_clips_to_month_end() {
        assert_eq!(Date::ymd(2013, 1, 31).add_months(1), Date::ymd(2013, 2, 28));
        assert_eq!(Date::ymd(2012, 1, 31).add_months(1), Date::ymd(2012, 2, 29));
        assert_eq!(
            Date::ymd(2013, 3, 31).add_months(-1),
            Date::ymd(2013, 2, 28)
        );
        assert_eq!(
            Date::ymd(2013, 11, 15).add_months(14),
            Date::ymd(2015, 1, 15)
        );
        assert_eq!(
            Date::ymd(2013, 1, 15).add_months(-13),
            Date::ymd(2011, 12, 15)
        );
    }

    #[test]
    fn parse_and_print() {
        let d: Date = "2013-01-01".parse().unwrap();
        assert_eq!(d.to_string(), "2013-01-01");
        assert!("2013-02-29".parse::<Date>().is_err());
        assert!("2013-1-01".parse::<Date>().is_err());
        let t: DateTime = "2013-12-31T23:59:59".parse().unwrap();
        assert!(t.is_end_of_day());
        assert_eq!(t.accrual_date(), Date::ymd(2014, 1, 1));
        assert_eq!(t.to_string(), "2013-12-31T23:59:59");
        let u: DateTime = " 2013-08-01T00:00".parse().unwrap();
        assert_eq!(u, DateTime::midnight(Date::ymd(2013, 8, 1)));
        assert!("2013-08-01T25:00".parse::<DateTime>().is_err());
        assert!("2013-08-01X00:00".parse::<DateTime>().is_err());
        assert!("2013-08-0€".parse::<DateTime>().is_err());
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in Date::MIN.days_since_epoch()..=Date::MAX.days_since_epoch()) {
            let d = Date::from_days_since_epoch(days);
            let (y, m, dd) = d.to_ymd();
            prop_assert_eq!(Date::from_ymd(y, m, dd).unwrap(), d);
            prop_assert_eq!(d.add_days(1).days_since_epoch(), days + 1);
            let s = d.to_string();
            prop_assert_eq!(s.parse::<Date>().unwrap(), d);
            let t = DateTime::new(d, (u64::from(days.unsigned_abs()) * 7919 % 86_400) as u32).unwrap();
            let iso = t.iso_bytes();
            prop_assert_eq!(std::str::from_utf8(&iso).unwrap(), t.to_string());
        }

        #[test]
        fn datetime_parser_never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<DateTime>();
        }
    }
}
