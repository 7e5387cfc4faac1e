//! Holiday calendars and business-day conventions.
//!
//! A [`Calendar`] answers one question: is this date a business day? ACTUS names two
//! calendars (`NC`, no holidays, and `MF`, Monday to Friday); banks also need TARGET (the
//! euro-area payment system calendar) and explicit holiday lists (upstream ACTUS case lam34
//! passes one as `holidays` with calendar `MFH`).
//!
//! A [`BusinessDayConvention`] says how a scheduled date that is not a business day moves,
//! and whether accruals are calculated on the moved date (`SC…`: shift, then calculate) or on
//! the scheduled one (`CS…`: calculate, then shift only the payment).

use std::sync::Arc;

use crate::{Date, TimeError, Weekday};

/// Which dates are business days.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Calendar {
    /// Every day is a business day (ACTUS `NC`, also written `NOCALENDAR`).
    #[default]
    NoHolidays,
    /// Monday to Friday are business days, no holidays (ACTUS `MF`).
    MondayToFriday,
    /// The TARGET2 calendar: weekends, 1 January, Good Friday, Easter Monday, 1 May,
    /// 25 and 26 December (and 31 December in 1999–2001).
    Target,
    /// Monday to Friday less an explicit, sorted list of holidays (ACTUS `MFH` + `holidays`).
    MondayToFridayWithHolidays(Arc<[Date]>),
}

/// Easter Sunday of `year` (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Date {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::ymd(year, month as u32, day as u32)
}

fn is_target_holiday(date: Date) -> bool {
    let (y, m, d) = date.to_ymd();
    if (m == 1 && d == 1) || (m == 12 && (d == 25 || d == 26)) {
        return true;
    }
    if y >= 2000 && m == 5 && d == 1 {
        return true;
    }
    if (1999..=2001).contains(&y) && m == 12 && d == 31 {
        return true;
    }
    if y >= 2000 && (3..=4).contains(&m) {
        let easter = easter_sunday(y);
        if date == easter.add_days(-2) || date == easter.add_days(1) {
            return true;
        }
    }
    false
}

impl Calendar {
    /// Builds a Monday-to-Friday calendar with extra holidays (any order, duplicates allowed).
    pub fn with_holidays(mut holidays: Vec<Date>) -> Calendar {
        holidays.sort_unstable();
        holidays.dedup();
        Calendar::MondayToFridayWithHolidays(holidays.into())
    }

    /// Parses an ACTUS calendar code: `NC`/`NOCALENDAR`, `MF`, `TARGET`; `MFH` needs a holiday
    /// list and is built with [`Calendar::with_holidays`].
    pub fn from_code(code: &str) -> Result<Calendar, TimeError> {
        match code.trim() {
            "NC" | "NOCALENDAR" | "" => Ok(Calendar::NoHolidays),
            "MF" | "MONDAYTOFRIDAY" => Ok(Calendar::MondayToFriday),
            "TARGET" | "TGT" => Ok(Calendar::Target),
            "MFH" => Ok(Calendar::with_holidays(Vec::new())),
            other => Err(TimeError::UnknownCode {
                kind: "calendar",
                code: other.to_string(),
            }),
        }
    }

    /// True when `date` is a business day.
    #[inline]
    pub fn is_business_day(&self, date: Date) -> bool {
        match self {
            Calendar::NoHolidays => true,
            Calendar::MondayToFriday => !date.weekday().is_weekend(),
            Calendar::Target => !date.weekday().is_weekend() && !is_target_holiday(date),
            Calendar::MondayToFridayWithHolidays(h) => {
                !date.weekday().is_weekend() && h.binary_search(&date).is_err()
            }
        }
    }

    /// The first business day on or after `date`.
    pub fn following(&self, date: Date) -> Date {
        let mut d = date;
        while !self.is_business_day(d) {
            d = d.add_days(1);
        }
        d
    }

    /// The last business day on or before `date`.
    pub fn preceding(&self, date: Date) -> Date {
        let mut d = date;
        while !self.is_business_day(d) {
            d = d.add_days(-1);
        }
        d
    }

    /// Number of business days in `[start, end)`; negative when `end < start`.
    pub fn business_days_between(&self, start: Date, end: Date) -> i32 {
        if end < start {
            return -self.business_days_between(end, start);
        }
        match self {
            Calendar::NoHolidays => start.days_until(end),
            _ => {
                // Whole weeks hold exactly five weekdays; count the remainder day by day and
                // subtract holidays that fall on weekdays.
                let total = start.days_until(end);
                let weeks = total / 7;
                let mut count = weeks * 5;
                let mut d = start.add_days(weeks * 7);
                while d < end {
                    if !d.weekday().is_weekend() {
                        count += 1;
                    }
                    d = d.add_days(1);
                }
                match self {
                    Calendar::Target => {
                        for y in start.year()..=end.year() {
                            for h in target_holidays_of_year(y) {
                                if h >= start && h < end && !h.weekday().is_weekend() {
                                    count -= 1;
                                }
                            }
                        }
                    }
                    Calendar::MondayToFridayWithHolidays(hs) => {
                        let lo = hs.partition_point(|h| *h < start);
                        let hi = hs.partition_point(|h| *h < end);
                        count -= hs[lo..hi]
                            .iter()
                            .filter(|h| !h.weekday().is_weekend())
                            .count() as i32;
                    }
                    _ => {}
                }
                count
            }
        }
    }
}

fn target_holidays_of_year(y: i32) -> Vec<Date> {
    let mut v = vec![
        Date::ymd(y, 1, 1),
        Date::ymd(y, 12, 25),
        Date::ymd(y, 12, 26),
    ];
    if y >= 2000 {
        let e = easter_sunday(y);
        v.extend([e.add_days(-2), e.add_days(1), Date::ymd(y, 5, 1)]);
    }
    if (1999..=2001).contains(&y) {
        v.push(Date::ymd(y, 12, 31));
    }
    v
}

/// Direction in which a non-business day is moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shift {
    /// No shift.
    Unadjusted,
    /// Next business day.
    Following,
    /// Next business day, unless that is in the next month: then the previous one.
    ModifiedFollowing,
    /// Previous business day.
    Preceding,
    /// Previous business day, unless that is in the previous month: then the next one.
    ModifiedPreceding,
}

/// ACTUS business-day convention (`businessDayConvention`, acronym BDC).
///
/// `Sc*` conventions shift the date and calculate accruals to the shifted date; `Cs*`
/// conventions calculate to the scheduled date and shift only the payment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BusinessDayConvention {
    /// `NOS`: no shift.
    #[default]
    NoShift,
    /// `SCF`: shift/calculate following.
    ShiftCalculateFollowing,
    /// `SCMF`: shift/calculate modified following.
    ShiftCalculateModifiedFollowing,
    /// `CSF`: calculate/shift following.
    CalculateShiftFollowing,
    /// `CSMF`: calculate/shift modified following.
    CalculateShiftModifiedFollowing,
    /// `SCP`: shift/calculate preceding.
    ShiftCalculatePreceding,
    /// `SCMP`: shift/calculate modified preceding.
    ShiftCalculateModifiedPreceding,
    /// `CSP`: calculate/shift preceding.
    CalculateShiftPreceding,
    /// `CSMP`: calculate/shift modified preceding.
    CalculateShiftModifiedPreceding,
}

impl BusinessDayConvention {
    /// Parses the ACTUS code (`NOS`, `SCF`, `SCMF`, `CSF`, `CSMF`, `SCP`, `SCMP`, `CSP`, `CSMP`).
    pub fn from_code(code: &str) -> Result<Self, TimeError> {
        use BusinessDayConvention::*;
        Ok(match code.trim() {
            "NOS" | "" => NoShift,
            "SCF" => ShiftCalculateFollowing,
            "SCMF" => ShiftCalculateModifiedFollowing,
            "CSF" => CalculateShiftFollowing,
            "CSMF" => CalculateShiftModifiedFollowing,
            "SCP" => ShiftCalculatePreceding,
            "SCMP" => ShiftCalculateModifiedPreceding,
            "CSP" => CalculateShiftPreceding,
            "CSMP" => CalculateShiftModifiedPreceding,
            other => {
                return Err(TimeError::UnknownCode {
                    kind: "business-day convention",
                    code: other.to_string(),
                })
            }
        })
    }

    /// The ACTUS code.
    pub fn code(self) -> &'static str {
        use BusinessDayConvention::*;
        match self {
            NoShift => "NOS",
            ShiftCalculateFollowing => "SCF",
            ShiftCalculateModifiedFollowing => "SCMF",
            CalculateShiftFollowing => "CSF",
            CalculateShiftModifiedFollowing => "CSMF",
            ShiftCalculatePreceding => "SCP",
            ShiftCalculateModifiedPreceding => "SCMP",
            CalculateShiftPreceding => "CSP",
            CalculateShiftModifiedPreceding => "CSMP",
        }
    }

    /// The direction of the shift.
    #[inline]
    pub fn shift(self) -> Shift {
        use BusinessDayConvention::*;
        match self {
            NoShift => Shift::Unadjusted,
            ShiftCalculateFollowing | CalculateShiftFollowing => Shift::Following,
            ShiftCalculateModifiedFollowing | CalculateShiftModifiedFollowing => {
                Shift::ModifiedFollowing
            }
            ShiftCalculatePreceding | CalculateShiftPreceding => Shift::Preceding,
            ShiftCalculateModifiedPreceding | CalculateShiftModifiedPreceding => {
                Shift::ModifiedPreceding
            }
        }
    }

    /// True for the `CS…` conventions, which calculate accruals on the unshifted date.
    #[inline]
    pub fn calculates_on_scheduled_date(self) -> bool {
        use BusinessDayConvention::*;
        matches!(
            self,
            CalculateShiftFollowing
                | CalculateShiftModifiedFollowing
                | CalculateShiftPreceding
                | CalculateShiftModifiedPreceding
        )
    }

    /// The payment (event) date for a scheduled date.
    #[inline]
    pub fn adjust(self, date: Date, calendar: &Calendar) -> Date {
        adjust(date, self.shift(), calendar)
    }

    /// The date accruals are calculated to: the shifted date for `SC…`/`NOS`, the scheduled
    /// date for `CS…`.
    #[inline]
    pub fn calculation_date(self, date: Date, calendar: &Calendar) -> Date {
        if self.calculates_on_scheduled_date() {
            date
        } else {
            self.adjust(date, calendar)
        }
    }
}

/// Moves `date` to a business day of `calendar` in the direction `shift`.
#[inline]
pub fn adjust(date: Date, shift: Shift, calendar: &Calendar) -> Date {
    match shift {
        Shift::Unadjusted => date,
        Shift::Following => calendar.following(date),
        Shift::Preceding => calendar.preceding(date),
        Shift::ModifiedFollowing => {
            let f = calendar.following(date);
            if f.month() == date.month() {
                f
            } else {
                calendar.preceding(date)
            }
        }
        Shift::ModifiedPreceding => {
            let p = calendar.preceding(date);
            if p.month() == date.month() {
                p
            } else {
                calendar.following(date)
            }
        }
    }
}

impl Weekday {
    /// Short English name.
    pub fn short_name(self) -> &'static str {
        match self {
            Weekday::Monday => "Mon",
            Weekday::Tuesday => "Tue",
            Weekday::Wednesday => "Wed",
            Weekday::Thursday => "Thu",
            Weekday::Friday => "Fri",
            Weekday::Saturday => "Sat",
            Weekday::Sunday => "Sun",
        }
    }
}

impl serde::Serialize for BusinessDayConvention {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn easter_dates_match_published_tables() {
        // Published Gregorian Easter Sundays.
        for (y, m, d) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), Date::ymd(y, m, d), "{y}");
        }
    }

    #[test]
    fn target_holidays() {
        let t = Calendar::Target;
        assert!(!t.is_business_day(Date::ymd(2024, 3, 29))); // Good Friday
        assert!(!t.is_business_day(Date::ymd(2024, 4, 1))); // Easter Monday
        assert!(!t.is_business_day(Date::ymd(2024, 5, 1)));
        assert!(!t.is_business_day(Date::ymd(2024, 12, 26)));
        assert!(t.is_business_day(Date::ymd(2024, 12, 24)));
        assert!(!t.is_business_day(Date::ymd(2024, 12, 28))); // Saturday
                                                              // 2024 has 256 TARGET business days (366 days − 104 weekend days − 6 weekday holidays).
        assert_eq!(
            t.business_days_between(Date::ymd(2024, 1, 1), Date::ymd(2025, 1, 1)),
            256
        );
    }

    #[test]
    fn modified_following_stays_in_month() {
        let mf = Calendar::MondayToFriday;
        // 2015-08-30 is a Sunday; following would be 2015-08-31 (Mon).
        assert_eq!(
            adjust(Date::ymd(2015, 8, 30), Shift::ModifiedFollowing, &mf),
            Date::ymd(2015, 8, 31)
        );
        // 2015-10-31 is a Saturday; following is 2 Nov, so modified following goes back to 30 Oct.
        assert_eq!(
            adjust(Date::ymd(2015, 10, 31), Shift::ModifiedFollowing, &mf),
            Date::ymd(2015, 10, 30)
        );
        // 2015-08-01 is a Saturday; preceding is 31 Jul, so modified preceding goes to 3 Aug.
        assert_eq!(
            adjust(Date::ymd(2015, 8, 1), Shift::ModifiedPreceding, &mf),
            Date::ymd(2015, 8, 3)
        );
    }

    proptest! {
        #[test]
        fn adjustment_is_idempotent_and_lands_on_business_days(
            days in 0i32..40_000, which in 0usize..4
        ) {
            let d = Date::from_days_since_epoch(days);
            let cals = [Calendar::NoHolidays, Calendar::MondayToFriday, Calendar::Target,
                Calendar::with_holidays(vec![Date::ymd(2020, 1, 2)])];
            let cal = &cals[which];
            for s in [Shift::Following, Shift::ModifiedFollowing, Shift::Preceding,
                Shift::ModifiedPreceding] {
                let a = adjust(d, s, cal);
                prop_assert!(cal.is_business_day(a));
                prop_assert_eq!(adjust(a, s, cal), a);
                prop_assert!((a.days_until(d)).abs() <= 7);
            }
        }

        #[test]
        fn business_day_count_matches_naive_count(start in 0i32..30_000, len in 0i32..800) {
            let s = Date::from_days_since_epoch(start);
            let e = s.add_days(len);
            for cal in [Calendar::MondayToFriday, Calendar::Target] {
                let mut naive = 0;
                let mut d = s;
                while d < e { if cal.is_business_day(d) { naive += 1; } d = d.add_days(1); }
                prop_assert_eq!(cal.business_days_between(s, e), naive);
            }
        }
    }
}
