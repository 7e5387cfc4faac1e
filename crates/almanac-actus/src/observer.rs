//! Risk-factor observer: where contracts read market data.
//!
//! ACTUS keeps contract logic deterministic and reads everything external through an
//! observer: reference rates at resets, scaling indices, FX, prices. Scenario analysis swaps
//! the observer; contract code never changes.

use std::collections::HashMap;

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
