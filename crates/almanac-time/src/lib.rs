//! Time for Almanac: dates, holiday calendars, business-day conventions, day counts, ACTUS
//! cycles and schedules.
//!
//! This crate sits at the bottom of the pure calculation core: it has no I/O, no clock and no
//! global state. Everything above it (ACTUS contracts, curves, metrics) measures time with
//! these types.
//!
//! * [`Date`] — a calendar date as days since 1970-01-01 (`i32`, Arrow `Date32`-compatible);
//!   [`DateTime`] adds the second of day that ACTUS timestamps carry.
//! * [`Calendar`] and [`BusinessDayConvention`] — business days and how dates move to them.
//! * [`DayCount`] — year fractions (`f64` years) under the ACTUS day-count codes.
//! * [`Cycle`] and [`schedule::generate`] — ACTUS cycles `P<n><unit>L<stub>` and their dates.
//!
//! ```
//! use almanac_time::{Date, DayCount};
//! let start = Date::ymd(2003, 11, 1);
//! let end = Date::ymd(2004, 5, 1);
//! // ISDA's Actual/Actual example: 61/365 + 121/366
//! let yf = DayCount::ActActIsda.year_fraction(start, end);
//! assert!((yf - 0.497724380567).abs() < 1e-12);
//! ```
#![deny(clippy::unwrap_used, clippy::print_stdout)]

mod calendar;
mod cycle;
mod date;
mod day_count;
mod error;
pub mod schedule;

pub use calendar::{adjust, easter_sunday, BusinessDayConvention, Calendar, Shift};
pub use cycle::{Cycle, Period, PeriodUnit, Stub};
pub use date::{days_in_month, is_leap_year, Date, DateTime, Weekday};
pub use day_count::{DayCount, YearFractionWalk};
pub use error::TimeError;
pub use schedule::{EndDate, EndOfMonthConvention, SchedulePoint};
