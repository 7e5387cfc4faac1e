//! Fuzzes the market-data and scenario readers: the zero-curve CSV, the TOML snapshot (with
//! its bootstrap) and the TOML scenario set, then applies every scenario of a set that reads.
#![no_main]

use almanac_market::format::{read_snapshot_toml, read_zero_curves_csv};
use almanac_market::CurveInterpolation;
use almanac_scenario::set::read_set;
use almanac_time::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = read_zero_curves_csv(text, "fuzz.csv", Some(Date::ymd(2025, 12, 31)), CurveInterpolation::MonotoneConvex);
    let _ = read_zero_curves_csv(text, "fuzz.csv", None, CurveInterpolation::LinearZero);
    let snapshot = read_snapshot_toml(text, "fuzz.toml");
    if let Ok(set) = read_set(text, "fuzz.toml") {
        if let Ok(base) = read_snapshot_toml(SNAPSHOT, "base.toml") {
            let load = |_: &str| Err("no files while fuzzing".to_string());
            for s in &set.scenarios {
                let _ = set.apply(s, &base, 6.0, &load);
            }
        }
    }
    drop(snapshot);
});

const SNAPSHOT: &str = r#"
as_of = "2025-12-31"
[[curve]]
id = "EUR-ESTR"
currency = "EUR"
zero_rates = [["1M", 0.019], ["1Y", 0.02], ["10Y", 0.025]]
[[spread]]
id = "EUR-FUNDING"
currency = "EUR"
zero_rates = [["1Y", 0.004]]
[[fx]]
pair = "EUR/USD"
rate = 1.08
"#;
