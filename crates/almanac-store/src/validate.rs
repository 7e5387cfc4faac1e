//! Shape checks on caller-supplied text. The store parses no payloads; it checks only what
//! its own ordering and identity rely on.

use crate::StoreError;

pub(crate) fn require_non_empty(field: &'static str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// `YYYY-MM-DD` with a month in 1..=12 and a day in 1..=31 (the calendar itself is checked
/// upstream; this guards the text ordering of listings).
pub(crate) fn require_date(field: &'static str, value: &str) -> Result<(), StoreError> {
    if is_iso_date(value) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!("{value:?} is not an ISO 8601 date (YYYY-MM-DD)"),
        ))
    }
}

/// An ISO 8601 date, alone or followed by `T` or a space and a time.
pub(crate) fn require_timestamp(field: &'static str, value: &str) -> Result<(), StoreError> {
    let date_ok = value.get(..10).is_some_and(is_iso_date);
    let rest_ok = matches!(value.as_bytes().get(10), None | Some(b'T' | b' '));
    if date_ok && rest_ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!("{value:?} is not an ISO 8601 timestamp (YYYY-MM-DDThh:mm:ss…)"),
        ))
    }
}

fn is_iso_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        value
            .get(range)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    };
    matches!(
        (digits(0..4), digits(5..7), digits(8..10)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_iso_date("2026-11-30"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("2026-1-01"));
        assert!(!is_iso_date("26-11-30xx"));
        assert!(!is_iso_date("2026-11-3x"));
    }

    #[test]
    fn timestamps() {
        assert!(require_timestamp("t", "2026-11-30T10:00:00Z").is_ok());
        assert!(require_timestamp("t", "2026-11-30 10:00").is_ok());
        assert!(require_timestamp("t", "2026-11-30").is_ok());
        assert!(require_timestamp("t", "2026-11-30X").is_err());
        assert!(require_timestamp("t", "yesterday").is_err());
        assert!(require_timestamp("t", "").is_err());
    }
}
