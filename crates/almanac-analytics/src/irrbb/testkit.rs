//! Test markets shared by the IRRBB tests.

use almanac_market::{Curve, CurveInterpolation, MarketSnapshot};
use almanac_time::{Date, DayCount};

/// The as-of date of the test markets.
pub(crate) const AS_OF: Date = Date::ymd(2025, 12, 31);

/// A market as of [`AS_OF`] with one EUR discount curve `id` of continuously compounded zero
/// rates at `pillars` (years, ACT/365F).
pub(crate) fn eur_market(
    id: &str,
    interpolation: CurveInterpolation,
    pillars: &[f64],
    zeros: &[f64],
) -> MarketSnapshot {
    let mut m = MarketSnapshot::new(AS_OF);
    m.insert_curve(
        Curve::from_zero_rates(
            id,
            "EUR",
            AS_OF,
            DayCount::Act365Fixed,
            interpolation,
            pillars.to_vec(),
            zeros.to_vec(),
        )
        .unwrap(),
    )
    .unwrap();
    m
}

/// A flat EUR curve `EUR-ESTR` at `rate`.
pub(crate) fn flat(rate: f64) -> MarketSnapshot {
    eur_market(
        "EUR-ESTR",
        CurveInterpolation::LinearZero,
        &[1.0, 30.0],
        &[rate, rate],
    )
}
