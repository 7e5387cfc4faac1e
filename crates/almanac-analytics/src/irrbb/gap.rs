//! The repricing gap (spec §5): rate-sensitive assets and liabilities per bucket, the gap,
//! the cumulative gap and the simple earnings-at-risk approximation for the first year.

use super::buckets::{bucket_of, BCBS_BUCKETS};

/// One bucket of the gap report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GapRow {
    /// Bucket label.
    pub bucket: &'static str,
    /// Midpoint in years.
    pub midpoint: f64,
    /// Rate-sensitive assets (repricing notional, positive).
    pub rsa: f64,
    /// Rate-sensitive liabilities (repricing notional, positive).
    pub rsl: f64,
    /// `rsa − rsl`.
    pub gap: f64,
    /// Running sum of the gaps.
    pub cumulative: f64,
    /// `gap × shift × (1 − t_k)` for buckets within one year, else 0: the management
    /// earnings-at-risk approximation (not the regulatory ΔNII).
    pub earnings_at_risk: f64,
}

/// The gap from repricing flows `(t in years, notional)`: positive notional for assets,
/// negative for liabilities; `shift` is the parallel rate change for the earnings column.
pub fn repricing_gap(flows: impl IntoIterator<Item = (f64, f64)>, shift: f64) -> Vec<GapRow> {
    let mut rsa = [0.0; 19];
    let mut rsl = [0.0; 19];
    for (t, n) in flows {
        let k = bucket_of(t);
        if n >= 0.0 {
            rsa[k] += n;
        } else {
            rsl[k] -= n;
        }
    }
    let mut cumulative = 0.0;
    BCBS_BUCKETS
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let gap = rsa[k] - rsl[k];
            cumulative += gap;
            GapRow {
                bucket: b.label,
                midpoint: b.midpoint,
                rsa: rsa[k],
                rsl: rsl[k],
                gap,
                cumulative,
                earnings_at_risk: if b.midpoint <= 1.0 {
                    gap * shift * (1.0 - b.midpoint)
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// The event-level statement of the repricing rule, kept as the reference the engine's
/// [`super::flows::Flows::repricing`] is tested against (the same flows, by day).
///
/// Notional repricing flows of one contract's events after `as_of` (SRP31.98, 31.101), as
/// `(t in years on ACT/365F, amount)` with assets positive: principal repayments (PR, MD, and
/// principal at termination) at their dates, and for a floating-rate contract the whole
/// outstanding principal at its first rate reset after the as-of date (nothing after it).
pub fn repricing_flows(
    events: &[almanac_actus::ContractEvent],
    as_of: almanac_time::DateTime,
) -> Vec<(f64, f64)> {
    use almanac_actus::EventType;
    let t_of = |e: &almanac_actus::ContractEvent| {
        f64::from(as_of.date().days_until(e.event_time.date())) / 365.0
    };
    let mut out = Vec::new();
    let mut notional_before = None;
    for e in events.iter().filter(|e| e.event_time > as_of) {
        match e.event_type {
            EventType::Rr | EventType::Rrf => {
                // The principal outstanding before the reset reprices now.
                let n = notional_before.unwrap_or(e.states.notional_principal);
                if n != 0.0 {
                    out.push((t_of(e), n));
                }
                return out;
            }
            EventType::Pr | EventType::Md if e.payoff != 0.0 => {
                out.push((t_of(e), e.payoff));
            }
            _ => {}
        }
        notional_before = Some(e.states.notional_principal);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_actus::{evaluate, ContractTerms, EvalContext, MarketData};

    fn flows_of(json: &str) -> Vec<(f64, f64)> {
        let t: ContractTerms = serde_json::from_str(json).unwrap();
        let mut md = MarketData::default();
        md.insert("IDX", vec![("2025-01-01T00:00:00".parse().unwrap(), 0.02)]);
        let ctx = EvalContext {
            observer: &md,
            observed_events: &[],
            to: None,
        };
        repricing_flows(
            &evaluate(&t, &ctx).unwrap(),
            "2025-12-31T00:00:00".parse().unwrap(),
        )
    }

    /// Fixed linear loan: its principal repayments; floating loan: its whole principal at
    /// the first reset; a deposit (liability) reprices negative.
    #[test]
    fn repricing_flows_fixed_floating_and_liability() {
        let lam = flows_of(
            r#"{"contractType":"LAM","contractID":"l","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-06-30","maturityDate":"2027-06-30",
            "notionalPrincipal":400,"nominalInterestRate":0.03,"dayCountConvention":"A365",
            "cycleAnchorDateOfPrincipalRedemption":"2025-12-31","cycleOfPrincipalRedemption":"P6ML1",
            "nextPrincipalRedemptionPayment":100}"#,
        );
        let amounts: Vec<f64> = lam.iter().map(|f| f.1).collect();
        // The redemption on the status date itself has not happened for the model: 400 remain.
        assert_eq!(amounts, [100.0, 100.0, 200.0]);
        assert!((lam[0].0 - 181.0 / 365.0).abs() < 1e-12);
        let frn = flows_of(
            r#"{"contractType":"PAM","contractID":"f","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-06-30","maturityDate":"2030-06-30",
            "notionalPrincipal":1000,"nominalInterestRate":0.03,"dayCountConvention":"A365",
            "cycleOfInterestPayment":"P3ML1","cycleAnchorDateOfRateReset":"2025-06-30",
            "cycleOfRateReset":"P3ML1","marketObjectCodeOfRateReset":"IDX"}"#,
        );
        assert_eq!(frn.len(), 1);
        assert_eq!(frn[0].1, 1000.0);
        // First reset after the as-of date: 2025-06-30 + 9 months = 2026-03-30, 89 days.
        assert!((frn[0].0 - 89.0 / 365.0).abs() < 1e-12, "{frn:?}");
        let dep = flows_of(
            r#"{"contractType":"PAM","contractID":"d","contractRole":"RPL","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-06-30","maturityDate":"2026-06-30",
            "notionalPrincipal":50,"nominalInterestRate":0.01,"dayCountConvention":"A365"}"#,
        );
        assert_eq!(dep.len(), 1);
        assert_eq!(dep[0].1, -50.0);
    }

    /// Spec §6.9: the first-year gap and its earnings approximation under +200 bp.
    #[test]
    fn worked_example_6_9() {
        let flows = [
            (0.0028, -100.0),
            (0.0417, 50.0),
            (0.0417, -30.0),
            (0.1667, 200.0),
            (0.1667, -40.0),
            (0.375, 30.0),
            (0.375, -150.0),
            (0.625, 20.0),
            (0.625, -20.0),
            (0.875, 40.0),
            (0.875, -10.0),
        ];
        let rows = repricing_gap(flows, 0.02);
        let gaps: Vec<f64> = rows[..6].iter().map(|r| r.gap).collect();
        assert_eq!(gaps, [-100.0, 20.0, 160.0, -120.0, 0.0, 30.0]);
        assert_eq!(rows[5].cumulative, -10.0);
        let ear: f64 = rows.iter().map(|r| r.earnings_at_risk).sum();
        assert!((ear - -0.3695).abs() < 1e-4, "{ear}");
        assert!((rows[0].earnings_at_risk - -1.9944).abs() < 1e-4);
        assert!((rows[2].earnings_at_risk - 2.6666).abs() < 1e-4);
    }
}
