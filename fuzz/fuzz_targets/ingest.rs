//! Fuzzes ingestion: the input is split at the first NUL byte into a mapping file (TOML) and a
//! tape (CSV); both readers must report problems, never panic, and account for every row.
#![no_main]

use almanac_ingest::{ingest_csv, Mapping};
use almanac_time::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mapping, tape) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let mapping = std::str::from_utf8(mapping)
        .ok()
        .and_then(|m| Mapping::from_toml(m, "fuzz.toml").ok());
    if let Ok(out) = ingest_csv(tape, "fuzz.csv", mapping.as_ref(), Date::ymd(2025, 12, 31)) {
        // Every row is imported or rejected.
        assert_eq!(out.positions.len() as u64 + out.rejected_rows, out.rows);
    }
});
