//! Economic value of equity: contract present values on a discount curve, the standardised
//! method on bucketed flows, aggregation across currencies and the outlier test.
//!
//! Conventions: discount factors `DF(t) = exp(−r(t)·t)` on the scenario's risk-free curve
//! (regulatory-metrics spec §0.2, SRP31.129(2)); values from the bank's side (assets
//! positive); changes in the EU sense `EVE_i − EVE_0` (negative = decline).

use std::collections::BTreeMap;

use almanac_actus::ContractEvent;
use almanac_market::Curve;
use almanac_time::DateTime;

use super::buckets::BCBS_BUCKETS;

/// Present value of a contract's cash flows after `as_of` on `curve` (run-off view: every
/// scheduled payoff, discounted from its payment date). Payoffs are from the bank's side.
pub fn contract_pv(events: &[ContractEvent], as_of: DateTime, curve: &Curve) -> f64 {
    events
        .iter()
        .filter(|e| e.event_time > as_of && e.payoff != 0.0)
        .map(|e| e.payoff * curve.discount_at(e.event_time.date()))
        .sum()
}

/// The standardised method (SRP31.95): net flows per bucket (19 values, index = bucket),
/// each discounted at its bucket midpoint with the zero rate `rate(t)`.
pub fn eve_standardised(bucket_flows: &[f64; 19], rate: impl Fn(f64) -> f64) -> f64 {
    bucket_flows
        .iter()
        .zip(BCBS_BUCKETS.iter())
        .map(|(cf, b)| cf * (-rate(b.midpoint) * b.midpoint).exp())
        .sum()
}

/// How changes are added up across currencies (§1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// BCBS standardised framework: only currencies with a decline count; gains are ignored.
    BcbsLossesOnly,
    /// EU: declines in full, gains weighted by 50 %.
    EuHalfGains,
}

/// The aggregate change of one scenario from per-currency changes (EU sign).
pub fn aggregate(changes: &BTreeMap<String, f64>, how: Aggregation) -> f64 {
    let losses: f64 = changes.values().filter(|c| **c < 0.0).sum();
    let gains: f64 = changes.values().filter(|c| **c > 0.0).sum();
    match how {
        Aggregation::BcbsLossesOnly => losses,
        Aggregation::EuHalfGains => losses + 0.5 * gains,
    }
}

/// The EVE supervisory outlier test (SRP31.82; EU CRD Art 98(5)): the worst change against
/// Tier 1 capital.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutlierTest {
    /// Scenario with the largest decline.
    pub worst_scenario: String,
    /// Its change (EU sign; negative = decline).
    pub worst_change: f64,
    /// Tier 1 capital.
    pub tier1: f64,
    /// `worst_change / tier1`.
    pub ratio: f64,
    /// The threshold (−0.15).
    pub threshold: f64,
    /// True when the decline exceeds 15 % of Tier 1.
    pub outlier: bool,
}

/// The outlier test over scenario changes (EU sign). `None` when there is no scenario.
pub fn outlier_test(changes: &BTreeMap<String, f64>, tier1: f64) -> Option<OutlierTest> {
    let (name, worst) = changes
        .iter()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(n, c)| (n.clone(), *c))?;
    let ratio = worst / tier1;
    Some(OutlierTest {
        worst_scenario: name,
        worst_change: worst,
        tier1,
        ratio,
        threshold: -0.15,
        outlier: ratio < -0.15,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_scenario::irrbb::{shift, shock_sizes, Calibration, Scenario};

    /// Spec §6.2: −90 overnight, +100 in bucket 11, EUR flat 2 % continuous.
    #[test]
    fn worked_example_6_2() {
        let mut flows = [0.0; 19];
        flows[0] = -90.0;
        flows[10] = 100.0;
        let eve0 = eve_standardised(&flows, |_| 0.02);
        assert!((eve0 - 1.398158).abs() < 1e-6, "{eve0}");
        let sizes = shock_sizes(Calibration::Bcbs2016, "EUR").unwrap();
        let expected = [
            (Scenario::ParallelUp, -6.462899, 7.861058),
            (Scenario::ParallelDown, 10.0, -8.601842),
            (Scenario::Steepener, 1.064609, 0.333549),
            (Scenario::Flattener, 0.404794, 0.993365),
            (Scenario::ShortUp, -1.873312, 3.271471),
            (Scenario::ShortDown, 4.791557, -3.393398),
        ];
        let mut changes = BTreeMap::new();
        for (s, eve, basel_loss) in expected {
            let e = eve_standardised(&flows, |t| 0.02 + shift(s, &sizes, t));
            assert!((e - eve).abs() < 1e-6, "{s}: {e}");
            assert!(((eve0 - e) - basel_loss).abs() < 1e-6, "{s}");
            changes.insert(s.name().to_string(), e - eve0);
        }
        let t = outlier_test(&changes, 60.0).unwrap();
        assert_eq!(t.worst_scenario, "parallel_up");
        assert!((t.ratio - -0.1310).abs() < 1e-4 && !t.outlier);
        assert!(outlier_test(&changes, 50.0).unwrap().outlier);
    }

    /// Spec §6.3: EUR −7.861058, USD +4.
    #[test]
    fn worked_example_6_3() {
        let changes = BTreeMap::from([("EUR".to_string(), -7.861058), ("USD".to_string(), 4.0)]);
        assert!((aggregate(&changes, Aggregation::BcbsLossesOnly) - -7.861058).abs() < 1e-12);
        assert!((aggregate(&changes, Aggregation::EuHalfGains) - -5.861058).abs() < 1e-12);
    }
}
