//! Errors of the time crate.

/// An invalid date, code or text given to the time functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The year, month and day do not form a date of the proleptic Gregorian calendar.
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    InvalidDate {
        /// Year.
        year: i32,
        /// Month.
        month: u32,
        /// Day.
        day: u32,
    },
    /// Text that does not have the expected shape.
    #[error("cannot read {input:?}: expected {expected}")]
    Parse {
        /// The text given.
        input: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// A code that is not one of the known values.
    #[error("unknown {kind} code {code:?}")]
    UnknownCode {
        /// Which list of codes (calendar, day count, …).
        kind: &'static str,
        /// The code given.
        code: String,
    },
}
