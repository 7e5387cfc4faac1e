//! ΔNII over a horizon under an instantaneous parallel shock, constant balance sheet
//! (regulatory-metrics spec §1.9, RTS 2024/856 Art 4): every notional that reprices within the
//! horizon — at maturity or at a rate reset — is replaced by the same amount, repricing period
//! and spread, so from its repricing time on it earns (or costs) the shifted rate:
//! `ΔNII = Σ_{t_k < H} N_k · Δr · (H − t_k)`, assets positive, liabilities negative.
//!
//! This is exact for a parallel shift when no floor binds and the replacement earns the same
//! spread; it is the measure of the EU NII outlier test (parallel up and down only).

/// ΔNII of repricing flows `(t in years, notional)` under a parallel shift `shift` (decimal)
/// over `horizon` years.
pub fn delta_nii(flows: &[(f64, f64)], shift: f64, horizon: f64) -> f64 {
    flows
        .iter()
        .filter(|(t, _)| *t < horizon)
        .map(|(t, n)| n * shift * (horizon - t.max(0.0)))
        .sum()
}

/// The EU NII outlier test (RTS 2024/856 Art 5(1)): the worse of the two parallel scenarios'
/// ΔNII against 5 % of Tier 1.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NiiOutlierTest {
    /// The worse (lower) ΔNII of parallel up and down.
    pub worst_delta: f64,
    /// Tier 1 capital.
    pub tier1: f64,
    /// `worst_delta / tier1`.
    pub ratio: f64,
    /// −0.05.
    pub threshold: f64,
    /// True when the decline exceeds 5 % of Tier 1.
    pub breach: bool,
}

/// The NII outlier test from ΔNII under parallel up and down.
pub fn nii_outlier_test(up: f64, down: f64, tier1: f64) -> NiiOutlierTest {
    let worst = up.min(down);
    let ratio = worst / tier1;
    NiiOutlierTest {
        worst_delta: worst,
        tier1,
        ratio,
        threshold: -0.05,
        breach: ratio < -0.05,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §6.4: floating loan 100 repricing at 0.25, term deposit 80 at 0.5, ±200 bp.
    #[test]
    fn worked_example_6_4() {
        let flows = [(0.25, 100.0), (0.5, -80.0), (2.0, 500.0)];
        let up = delta_nii(&flows, 0.02, 1.0);
        let down = delta_nii(&flows, -0.02, 1.0);
        assert!((up - 0.70).abs() < 1e-12 && (down + 0.70).abs() < 1e-12);
        let t = nii_outlier_test(up, down, 60.0);
        assert!(!t.breach && (t.worst_delta + 0.70).abs() < 1e-12);
        assert!(nii_outlier_test(up, down, 10.0).breach);
    }
}
