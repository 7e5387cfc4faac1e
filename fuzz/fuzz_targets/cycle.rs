//! Fuzzes the `FromStr` parsers of `almanac_time`: `Cycle`, `Period`, `DateTime` and `Date`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    // Errors are fine; only a panic (or a hang) is a finding.
    let _ = s.parse::<almanac_time::Cycle>();
    let _ = s.parse::<almanac_time::Period>();
    let _ = s.parse::<almanac_time::DateTime>();
    let _ = s.parse::<almanac_time::Date>();
});
