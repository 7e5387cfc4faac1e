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

#[cfg(test)]
mod tests {
    use super::*;

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
