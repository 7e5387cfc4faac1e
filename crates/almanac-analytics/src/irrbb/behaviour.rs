//! Behavioural parameters of the standardised IRRBB framework (regulatory-metrics spec
//! §1.10–1.12): scenario-dependent prepayment (CPR) and term-deposit early-redemption (TDRR)
//! rates, and the split of non-maturity deposits (NMD) into non-core (overnight) and core
//! (slotted by the bank within caps on share and average maturity).
//!
//! Rates are decimals per year. These are the parameters; applying them to cash flows is the
//! behaviour engine's job.

use almanac_scenario::irrbb::Scenario;

/// Basel SRP31.119 Table 5 / EU RTS 2024/857 Art 9(3): prepayment multiplier γ per scenario.
pub fn cpr_multiplier(s: Scenario) -> f64 {
    match s {
        Scenario::ParallelUp | Scenario::Steepener | Scenario::ShortUp => 0.8,
        Scenario::ParallelDown | Scenario::Flattener | Scenario::ShortDown => 1.2,
    }
}

/// Scenario prepayment rate `min(1, γ · CPR₀)` (SRP31.119).
pub fn cpr(base: f64, s: Scenario) -> f64 {
    (cpr_multiplier(s) * base).min(1.0)
}

/// Basel SRP31.125 Table 6 / EU Art 10(5): early-redemption multiplier u per scenario (keyed
/// on the direction of short rates).
pub fn tdrr_multiplier(s: Scenario) -> f64 {
    match s {
        Scenario::ParallelUp | Scenario::Flattener | Scenario::ShortUp => 1.2,
        Scenario::ParallelDown | Scenario::Steepener | Scenario::ShortDown => 0.8,
    }
}

/// Scenario early-redemption rate `min(1, u · TDRR₀)` (SRP31.125).
pub fn tdrr(base: f64, s: Scenario) -> f64 {
    (tdrr_multiplier(s) * base).min(1.0)
}

/// NMD categories of SRP31.110 Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NmdCategory {
    /// Retail, transactional (regular transactions or non-interest-bearing).
    RetailTransactional,
    /// Retail, non-transactional.
    RetailNonTransactional,
    /// Wholesale.
    Wholesale,
}

impl NmdCategory {
    /// Caps of SRP31.110 Table 4: (largest core share, largest average maturity of the core
    /// in years).
    pub fn caps(self) -> (f64, f64) {
        match self {
            NmdCategory::RetailTransactional => (0.90, 5.0),
            NmdCategory::RetailNonTransactional => (0.70, 4.5),
            NmdCategory::Wholesale => (0.50, 4.0),
        }
    }

    /// EU simplified standardised approach (RTS 2024/857 Art 25): fixed core proportions
    /// (baseline, short-rate-down scenarios, short-rate-up scenarios). Baseline = cap / 1.3;
    /// up = baseline × 0.7 (the retail non-transactional and wholesale up values are inferred
    /// that way in the spec, status U).
    pub fn eu_simplified_core(self) -> (f64, f64, f64) {
        let cap = self.caps().0;
        let baseline = cap / 1.3;
        (baseline, cap, baseline * 0.7)
    }
}

/// An NMD balance split into non-core (overnight) and core slotted over time.
#[derive(Debug, Clone, PartialEq)]
pub struct NmdSplit {
    /// Core amount (after the cap).
    pub core: f64,
    /// Non-core amount, repricing overnight.
    pub non_core: f64,
    /// Core slots `(t in years, amount)`.
    pub slots: Vec<(f64, f64)>,
    /// Average maturity of the core in years.
    pub average_maturity: f64,
}

/// Why a split is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NmdError {
    /// The slotting profile's weights do not sum to 1 or are negative.
    #[error("the core slotting weights must be non-negative and sum to 1 (they sum to {sum})")]
    Weights {
        /// Their sum.
        sum: f64,
    },
    /// The core's average maturity exceeds the category's cap.
    #[error("the core's average maturity {average} years exceeds the cap of {cap} years")]
    AverageMaturity {
        /// The profile's average maturity.
        average: f64,
        /// The cap.
        cap: f64,
    },
}

/// Splits an NMD balance (SRP31.108–31.111): core = min(estimated core, cap × balance),
/// non-core = the rest (overnight); the core is slotted by `profile` = `(t, weight)` pairs
/// whose weights sum to 1, and its average maturity must not exceed the category's cap.
pub fn nmd_split(
    balance: f64,
    category: NmdCategory,
    estimated_core: f64,
    profile: &[(f64, f64)],
) -> Result<NmdSplit, NmdError> {
    let (share_cap, maturity_cap) = category.caps();
    let sum: f64 = profile.iter().map(|p| p.1).sum();
    if (sum - 1.0).abs() > 1e-12 || profile.iter().any(|p| p.1 < 0.0) {
        return Err(NmdError::Weights { sum });
    }
    let average: f64 = profile.iter().map(|(t, w)| t * w).sum();
    if average > maturity_cap + 1e-12 {
        return Err(NmdError::AverageMaturity {
            average,
            cap: maturity_cap,
        });
    }
    let core = estimated_core.min(share_cap * balance).max(0.0);
    Ok(NmdSplit {
        core,
        non_core: balance - core,
        slots: profile.iter().map(|(t, w)| (*t, w * core)).collect(),
        average_maturity: average,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §6.5, every figure.
    #[test]
    fn worked_example_6_5() {
        let s = nmd_split(
            1000.0,
            NmdCategory::RetailTransactional,
            950.0,
            &[(3.5, 0.5), (6.5, 0.5)],
        )
        .unwrap();
        assert_eq!((s.core, s.non_core), (900.0, 100.0));
        assert_eq!(s.slots, vec![(3.5, 450.0), (6.5, 450.0)]);
        assert!((s.average_maturity - 5.0).abs() < 1e-12);
        let e = nmd_split(
            1000.0,
            NmdCategory::RetailTransactional,
            950.0,
            &[(3.7, 0.5), (6.5, 0.5)],
        )
        .unwrap_err();
        assert!(matches!(e, NmdError::AverageMaturity { .. }), "{e}");
        for (scen, c, t) in [
            (Scenario::ParallelUp, 0.08, 0.06),
            (Scenario::ParallelDown, 0.12, 0.04),
            (Scenario::Steepener, 0.08, 0.04),
            (Scenario::Flattener, 0.12, 0.06),
            (Scenario::ShortUp, 0.08, 0.06),
            (Scenario::ShortDown, 0.12, 0.04),
        ] {
            assert!((cpr(0.10, scen) - c).abs() < 1e-15, "{scen}");
            assert!((tdrr(0.05, scen) - t).abs() < 1e-15, "{scen}");
        }
        assert_eq!(cpr(0.9, Scenario::ParallelDown), 1.0);
        let (base, down, up) = NmdCategory::RetailTransactional.eu_simplified_core();
        assert!((1000.0 * base - 692.3).abs() < 0.05);
        assert!((1000.0 * down - 900.0).abs() < 1e-9);
        assert!((1000.0 * up - 484.6).abs() < 0.05);
        assert!(matches!(
            nmd_split(10.0, NmdCategory::Wholesale, 5.0, &[(1.0, 0.7)]),
            Err(NmdError::Weights { .. })
        ));
    }
}
