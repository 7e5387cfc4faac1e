//! Risk-factor observer: where contracts read market data.
//!
//! ACTUS keeps contract logic deterministic and reads everything external through an
//! observer: reference rates at resets, scaling indices, FX, prices. Scenario analysis swaps
//! the observer; contract code never changes.

use std::collections::HashMap;

use almanac_market::MarketSnapshot;
use almanac_time::DateTime;

use crate::event::EventType;

/// Source of market observations for contracts.
pub trait RiskFactorObserver: Sync {
    /// The value of the series `market_object_code` at `time` (a rate as a decimal, an index
    /// level, a price or an FX rate), or `None` when it is not known.
    fn observe(&self, market_object_code: &str, time: DateTime) -> Option<f64>;
}

/// An observer with no data: every look-up fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMarketData;

impl RiskFactorObserver for NoMarketData {
    fn observe(&self, _market_object_code: &str, _time: DateTime) -> Option<f64> {
        None
    }
}

/// Time series keyed by market object code. A look-up returns the value stamped exactly at the
/// time asked for, else the last value before it (carry forward), else `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketData {
    series: HashMap<String, Vec<(DateTime, f64)>>,
}

impl MarketData {
    /// An empty set of series.
    pub fn new() -> MarketData {
        MarketData::default()
    }

    /// Adds (or replaces) a series; the points may come in any order.
    pub fn insert(&mut self, market_object_code: &str, mut points: Vec<(DateTime, f64)>) {
        points.sort_by_key(|p| p.0);
        self.series.insert(market_object_code.to_string(), points);
    }

    /// True when there is no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl RiskFactorObserver for MarketData {
    fn observe(&self, market_object_code: &str, time: DateTime) -> Option<f64> {
        let s = self.series.get(market_object_code)?;
        let i = s.partition_point(|(t, _)| *t <= time);
        if i == 0 {
            None
        } else {
            Some(s[i - 1].1)
        }
    }
}

/// Market data read from a [`MarketSnapshot`]: the scenario-aware observer.
///
/// * An index code (`EURIBOR3M`, as in `marketObjectCodeOfRateReset`) gives the index's
///   stored fixing for times up to the snapshot's as-of date, and its forward rate over the
///   index tenor from the forecast curve after it ([`MarketSnapshot::index_rate`]).
/// * A code `BASE/QUOTE` (ACTUS writes `<currency2>/<currency>` for FX outrights) gives the
///   spot FX rate, units of QUOTE per unit of BASE, at every time (no forward points).
///
/// Under a scenario the snapshot is the scenario's, so floating resets and FX settlements
/// follow the scenario's curves without any change to the contracts.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotObserver<'a> {
    snapshot: &'a MarketSnapshot,
}

impl<'a> SnapshotObserver<'a> {
    /// An observer over `snapshot`.
    pub fn new(snapshot: &'a MarketSnapshot) -> SnapshotObserver<'a> {
        SnapshotObserver { snapshot }
    }
}

impl RiskFactorObserver for SnapshotObserver<'_> {
    fn observe(&self, market_object_code: &str, time: DateTime) -> Option<f64> {
        if let Some((base, quote)) = market_object_code.split_once('/') {
            return self.snapshot.fx(base, quote).ok();
        }
        self.snapshot
            .index_rate(market_object_code, time.date())
            .ok()
    }
}

/// An event that happens outside the contract's schedule and is observed: a call notice
/// (XD), a prepayment (PP), a credit event (CE), a monitoring date (AD).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedEvent {
    /// When it happens.
    pub time: DateTime,
    /// What kind of event it is.
    pub event_type: EventType,
    /// Its amount (for PP, deposits and withdrawals), else 0.
    pub value: f64,
    /// The contract it belongs to (credit events on covered contracts), if given.
    pub contract_id: Option<String>,
    /// The contract performance it reports (credit events), if given.
    pub contract_performance: Option<crate::codes::ContractPerformance>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{evaluate, ContractTerms, EvalContext, EventType};
    use almanac_market::format::read_snapshot_toml;

    const SNAPSHOT: &str = r#"
as_of = "2025-12-31"
[[curve]]
id = "EUR-EURIBOR3M"
currency = "EUR"
zero_rates = [["3M", 0.020], ["1Y", 0.022], ["5Y", 0.026]]
[[index]]
name = "EURIBOR3M"
currency = "EUR"
forecast_curve = "EUR-EURIBOR3M"
tenor = "3M"
day_count = "A360"
[[fixing]]
index = "EURIBOR3M"
date = "2025-12-30"
rate = 0.0205
[[fx]]
pair = "EUR/USD"
rate = 1.08
"#;

    /// A floating loan under a snapshot: the reset on the as-of date uses the fixing, later
    /// resets the forward rates of the forecast curve (plus the spread).
    #[test]
    fn floating_resets_follow_the_snapshot() {
        let snap = read_snapshot_toml(SNAPSHOT, "s.toml").unwrap();
        let terms: ContractTerms = serde_json::from_str(
            r#"{"contractType":"PAM","contractID":"frn","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-30","initialExchangeDate":"2025-12-31","maturityDate":"2026-12-31",
            "notionalPrincipal":1000000,"nominalInterestRate":0.0,"dayCountConvention":"A360",
            "cycleOfInterestPayment":"P3ML1","cycleAnchorDateOfRateReset":"2025-12-31",
            "cycleOfRateReset":"P3ML1","marketObjectCodeOfRateReset":"EURIBOR3M","rateSpread":0.01}"#,
        )
        .unwrap();
        let obs = SnapshotObserver::new(&snap);
        let ctx = EvalContext {
            observer: &obs,
            observed_events: &[],
            to: None,
        };
        let events = evaluate(&terms, &ctx).unwrap();
        let resets: Vec<_> = events
            .iter()
            .filter(|e| e.event_type == EventType::Rr)
            .collect();
        assert_eq!(resets.len(), 4);
        assert!((resets[0].states.nominal_interest_rate - 0.0305).abs() < 1e-15);
        let curve = snap.curve("EUR-EURIBOR3M").unwrap();
        for r in &resets[1..] {
            let start = r.schedule_time.date();
            let end = start.add_months(3);
            let fwd = curve.simple_forward(start, end, f64::from(start.days_until(end)) / 360.0);
            assert!((r.states.nominal_interest_rate - (fwd + 0.01)).abs() < 1e-15);
        }
        assert_eq!(obs.observe("EUR/USD", resets[0].schedule_time), Some(1.08));
        assert!(
            (obs.observe("USD/EUR", resets[0].schedule_time).unwrap() - 1.0 / 1.08).abs() < 1e-15
        );
        assert_eq!(obs.observe("NOPE", resets[0].schedule_time), None);
    }
}
