//! Risk metrics computed from contract cash flows and market snapshots. Pure: no I/O.
//!
//! * [`irrbb`]: interest-rate risk in the banking book — the 19 BCBS time buckets, repricing
//!   gaps, economic value of equity (EVE) under the standardised scenarios, aggregation across
//!   currencies by regime and the supervisory outlier test.
//! * [`liquidity`]: the LCR and the NSFR from classified amounts on per-regime factor tables.
//!
//! Sign conventions (regulatory-metrics spec §0.2): values are from the bank's side (assets
//! positive, liabilities negative); a change is stored in the EU sense, `EVE_i − EVE_0`
//! (negative = decline); the Basel "loss" is its negation.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

pub mod irrbb;
pub mod liquidity;
