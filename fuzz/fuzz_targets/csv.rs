//! Fuzzes the CSV route into `ContractTerms::from_raw`: header row → term names, cells → strings.
#![no_main]

use almanac_actus::{ContractTerms, RawTerms};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // Reader settings as in almanac-cli's CSV input: strict row lengths, trimmed cells.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(data);
    let Ok(headers) = reader.headers().cloned() else {
        return;
    };
    for record in reader.records() {
        // An unreadable row (wrong length, invalid UTF-8) is skipped, as the CLI does.
        let Ok(record) = record else {
            continue;
        };
        let mut map = RawTerms::new();
        for (name, cell) in headers.iter().zip(record.iter()) {
            if !cell.is_empty() {
                map.insert(name.to_owned(), Value::String(cell.to_owned()));
            }
        }
        let _ = ContractTerms::from_raw(&map, "fuzz");
    }
});
