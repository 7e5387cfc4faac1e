//! Fuzzes `ContractTerms::from_raw` on arbitrary JSON objects, then `evaluate` on what parses.
#![no_main]

use almanac_actus::{evaluate, ContractTerms, EvalContext, NoMarketData, RawTerms};
use libfuzzer_sys::fuzz_target;

/// Contracts whose initial exchange and maturity lie further apart than this are parsed but
/// not evaluated: a daily cycle over millennia is a slow input, not a bug.
const MAX_SPAN_YEARS: i64 = 200;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = serde_json::from_slice::<RawTerms>(data) else {
        return;
    };
    let Ok(terms) = ContractTerms::from_raw(&map, "fuzz") else {
        return;
    };
    if let (Some(ied), Some(md)) = (terms.initial_exchange_date, terms.maturity_date) {
        let span = i64::from(md.date().year()) - i64::from(ied.date().year());
        if span.abs() > MAX_SPAN_YEARS {
            return;
        }
    }
    let ctx = EvalContext {
        observer: &NoMarketData,
        observed_events: &[],
        to: None,
    };
    let _ = evaluate(&terms, &ctx);
});
