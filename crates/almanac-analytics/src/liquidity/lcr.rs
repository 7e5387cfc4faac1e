//! Liquidity coverage ratio (Basel LCR20–LCR40; spec `regulatory-metrics.md` §2) from
//! classified amounts: HQLA at market value by category, outflows by category on the balance
//! or amount due within 30 days, inflows by category on the amount due within 30 days.
//!
//! `LCR = HQLA / (outflows − min(inflows, cap × outflows))`, HQLA after haircuts and the caps on
//! Level 2 assets. Amounts are in one currency's units (or a reporting currency), positive.

use std::collections::BTreeMap;

use serde::Serialize;

use super::factors::{CapMethod, Factor, FactorTable, Level, Status};
use super::LiquidityError;

/// The part of the LCR a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// High-quality liquid assets.
    Hqla,
    /// Cash outflows.
    Outflow,
    /// Cash inflows.
    Inflow,
}

/// One classified amount: what it is and how much (units, positive). HQLA at market value,
/// outflows at the balance or amount due, inflows at the amount contractually due within 30
/// days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item<'a> {
    /// Section.
    pub section: Section,
    /// Category of the factor table.
    pub category: &'a str,
    /// Amount, units, not negative.
    pub amount: f64,
}

/// One line of the LCR: a category's amount, factor and weighted amount.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Section.
    pub section: Section,
    /// Category.
    pub category: String,
    /// What the category holds.
    pub label: String,
    /// Sum of the amounts classified in it (units).
    pub amount: f64,
    /// The factor (HQLA: `1 − haircut`; outflows and inflows: the rate).
    pub factor: f64,
    /// `amount × factor`.
    pub weighted: f64,
    /// Where the factor comes from.
    pub source: String,
    /// How sure we are of it.
    pub status: Status,
}

/// The LCR and its lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lcr {
    /// HQLA after haircuts and caps.
    pub hqla: f64,
    /// HQLA after haircuts, before the caps.
    pub hqla_before_caps: f64,
    /// What the caps on Level 2 took off (`hqla_before_caps − hqla`).
    pub cap_adjustment: f64,
    /// The change of the stock by level, after haircuts, if the secured funding, secured
    /// lending and collateral released within 30 days were unwound (LCR30.34): the caps are
    /// computed on the stock plus this.
    pub unwind: HqlaStock,
    /// Weighted outflows.
    pub outflows: f64,
    /// Weighted inflows.
    pub inflows: f64,
    /// Inflows after the cap (`min(inflows, cap × outflows)`).
    pub inflows_capped: f64,
    /// The US maturity-mismatch add-on (12 CFR 249.30(b); 0 elsewhere), units, weighted at
    /// the run-off and inflow rates.
    pub maturity_mismatch_addon: f64,
    /// The share of net cash outflows that counts (12 CFR 249.30(c); 1 elsewhere).
    pub outflow_adjustment: f64,
    /// Net cash outflows: `(outflows − inflows_capped + maturity_mismatch_addon) ×
    /// outflow_adjustment`.
    pub net_outflows: f64,
    /// `hqla / net_outflows`; `None` when there are no net outflows.
    pub ratio: Option<f64>,
    /// The lines, by section then category.
    pub lines: Vec<Line>,
}

/// The LCR of `items` under `table`, nothing to unwind.
///
/// # Errors
/// A category the table does not have, or a negative or non-finite amount.
pub fn lcr<'a>(
    items: impl IntoIterator<Item = Item<'a>>,
    table: &FactorTable,
) -> Result<Lcr, LiquidityError> {
    lcr_unwound(items, HqlaStock::default(), &[], table)
}

/// The LCR of `items` under `table`, the caps computed on the stock after `unwind` (the
/// post-haircut change by level if the secured transactions maturing within 30 days were
/// unwound: cash repaid on secured funding out of Level 1, collateral released back at its
/// level, cash received on secured lending into Level 1).
///
/// # Errors
/// As [`lcr`].
///
/// `maturity` are the weighted net maturity outflows by day (index 0 = day 1, up to 30) of
/// the US maturity-mismatch add-on, used when the table asks for it.
pub fn lcr_unwound<'a>(
    items: impl IntoIterator<Item = Item<'a>>,
    unwind: HqlaStock,
    maturity: &[f64],
    table: &FactorTable,
) -> Result<Lcr, LiquidityError> {
    let sums = super::sum_by_category(
        items
            .into_iter()
            .map(|it| (it.section, it.category, it.amount)),
    )?;
    let mut lines = Vec::with_capacity(sums.len());
    // Post-haircut stock by level.
    let mut by_level: BTreeMap<Level, f64> = BTreeMap::new();
    let (mut outflows, mut inflows) = (0.0, 0.0);
    for ((section, category), amount) in sums {
        let missing = || {
            LiquidityError(format!(
                "the {} factor table has no {section:?} category {category:?}",
                table.regime
            ))
        };
        let (factor, level): (&Factor, Option<Level>) = match section {
            Section::Hqla => {
                let h = table.hqla.get(category).ok_or_else(missing)?;
                (&h.factor, Some(h.level))
            }
            Section::Outflow => (table.outflow.get(category).ok_or_else(missing)?, None),
            Section::Inflow => (table.inflow.get(category).ok_or_else(missing)?, None),
        };
        let weighted = amount * factor.factor;
        match (section, level) {
            (Section::Hqla, Some(l)) => *by_level.entry(l).or_default() += weighted,
            (Section::Outflow, _) => outflows += weighted,
            (Section::Inflow, _) => inflows += weighted,
            (Section::Hqla, None) => {}
        }
        lines.push(Line {
            section,
            category: category.to_string(),
            label: factor.label.clone(),
            amount,
            factor: factor.factor,
            weighted,
            source: factor.source.clone(),
            status: factor.status,
        });
    }
    let at = |l: Level| by_level.get(&l).copied().unwrap_or(0.0);
    let stock = HqlaStock {
        l1: at(Level::L1),
        l1_covered: at(Level::L1Ehqcb),
        l2a: at(Level::L2a),
        l2b: at(Level::L2b),
    };
    let hqla_before_caps = stock.total();
    // The adjusted stock: as held plus the unwind, no level below 0 (collateral received in
    // secured lending that the stock did not hold comes back to nothing).
    let unwind = if table.caps.unwind {
        unwind
    } else {
        HqlaStock::default()
    };
    let adjusted = stock.plus(&unwind);
    let adjusted = HqlaStock {
        l1: adjusted.l1.max(0.0),
        l1_covered: adjusted.l1_covered.max(0.0),
        l2a: adjusted.l2a.max(0.0),
        l2b: adjusted.l2b.max(0.0),
    };
    let hqla = capped_hqla(&stock, &adjusted, table);
    let inflows_capped = inflows.min(table.caps.inflows.factor * outflows);
    let addon = if table.caps.maturity_mismatch_addon {
        maturity_mismatch_addon(maturity)
    } else {
        0.0
    };
    let adjustment = table.caps.outflow_adjustment.factor;
    let net_outflows = (outflows - inflows_capped + addon) * adjustment;
    Ok(Lcr {
        hqla,
        hqla_before_caps,
        cap_adjustment: hqla_before_caps - hqla,
        unwind,
        maturity_mismatch_addon: addon,
        outflow_adjustment: adjustment,
        outflows,
        inflows,
        inflows_capped,
        net_outflows,
        ratio: (net_outflows > 0.0).then(|| hqla / net_outflows),
        lines,
    })
}

/// The US maturity-mismatch add-on (12 CFR 249.30(b)) from the weighted net maturity outflows
/// by day (`daily[0]` = day 1): the largest cumulative net outflow over the 30 days less the
/// day-30 cumulative net outflow (each at least 0). The rule's text was read in part (research
/// note A3): status U.
pub fn maturity_mismatch_addon(daily: &[f64]) -> f64 {
    let mut cumulative = 0.0_f64;
    let mut peak = 0.0_f64;
    for x in daily.iter().take(30) {
        cumulative += x;
        peak = peak.max(cumulative);
    }
    (peak - cumulative.max(0.0)).max(0.0)
}

/// Post-haircut HQLA by level (units).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct HqlaStock {
    /// Level 1 other than covered bonds.
    pub l1: f64,
    /// Level 1 extremely high quality covered bonds.
    pub l1_covered: f64,
    /// Level 2A.
    pub l2a: f64,
    /// Level 2B.
    pub l2b: f64,
}

impl HqlaStock {
    /// The stock before caps.
    pub fn total(&self) -> f64 {
        self.l1 + self.l1_covered + self.l2a + self.l2b
    }

    /// Level by level `self + other`.
    pub fn plus(&self, other: &HqlaStock) -> HqlaStock {
        HqlaStock {
            l1: self.l1 + other.l1,
            l1_covered: self.l1_covered + other.l1_covered,
            l2a: self.l2a + other.l2a,
            l2b: self.l2b + other.l2b,
        }
    }

    /// Adds `amount` at `level`.
    pub fn add(&mut self, level: Level, amount: f64) {
        match level {
            Level::L1 => self.l1 += amount,
            Level::L1Ehqcb => self.l1_covered += amount,
            Level::L2a => self.l2a += amount,
            Level::L2b => self.l2b += amount,
        }
    }

    /// Every level × `rate`.
    pub fn scale(&mut self, rate: f64) {
        for x in [
            &mut self.l1,
            &mut self.l1_covered,
            &mut self.l2a,
            &mut self.l2b,
        ] {
            *x *= rate;
        }
    }
}

/// HQLA after the caps on Level 2 assets: the held stock `h` less the excess the caps find in
/// the adjusted stock `s` (the held stock after unwinding the secured transactions maturing
/// within 30 days, LCR30.34–30.37; `s = h` when there is nothing to unwind).
pub fn capped_hqla(h: &HqlaStock, s: &HqlaStock, table: &FactorTable) -> f64 {
    let caps = &table.caps;
    match caps.method {
        CapMethod::Basel => {
            // LCR30.35–30.36 (spec §2.3): the 15 % cap on Level 2B, then the 40 % cap on
            // Level 2; covered bonds, which Basel does not know, count as Level 1.
            let l1 = s.l1 + s.l1_covered;
            let (c2, c2b) = (caps.level2.factor, caps.level2b.factor);
            let adj15 = (s.l2b - c2b / (1.0 - c2b) * (l1 + s.l2a))
                .max(s.l2b - c2b / (1.0 - c2) * l1)
                .max(0.0);
            let adj40 = (s.l2a + s.l2b - adj15 - c2 / (1.0 - c2) * l1).max(0.0);
            (h.total() - adj15 - adj40).max(0.0)
        }
        CapMethod::EuAnnexI => {
            // LCRDR Annex I: the buffer is the stock less its excess over the largest stock
            // the floors allow — Level 1 without covered bonds at least `level1_non_covered`,
            // Level 1 at least 1 − level2, Level 1 and 2A at least 1 − level2b.
            // The excess is measured on the adjusted stock and taken off the held one.
            let floor_nc = caps
                .level1_non_covered
                .as_ref()
                .map_or(f64::INFINITY, |f| s.l1 / f.factor);
            let total = s.total();
            let allowed = total
                .min(floor_nc)
                .min((s.l1 + s.l1_covered) / (1.0 - caps.level2.factor))
                .min((s.l1 + s.l1_covered + s.l2a) / (1.0 - caps.level2b.factor));
            let excess = (total - allowed).max(0.0);
            (h.total() - excess).max(0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liquidity::factors::Regime;
    use proptest::prelude::*;

    fn item(section: Section, category: &str, amount: f64) -> Item<'_> {
        Item {
            section,
            category,
            amount,
        }
    }

    /// The worked example of spec §6.6, classified.
    fn example() -> Vec<Item<'static>> {
        use Section::*;
        vec![
            item(Hqla, "l1_securities", 60.0),
            item(Hqla, "l2a", 60.0),
            item(Hqla, "l2b_corporate", 40.0),
            item(Outflow, "retail_stable", 800.0),
            item(Outflow, "retail_less_stable", 200.0),
            item(Outflow, "operational", 80.0),
            item(Outflow, "non_operational_non_financial", 50.0),
            item(Outflow, "unsecured_financial", 20.0),
            item(Outflow, "facility_credit_non_financial", 100.0),
            item(Outflow, "facility_liquidity_non_financial", 20.0),
            item(Outflow, "secured_l1", 150.0),
            item(Outflow, "secured_l2a", 40.0),
            item(Outflow, "derivatives_net", 18.0),
            item(Inflow, "retail", 30.0),
            item(Inflow, "non_financial_wholesale", 40.0),
            item(Inflow, "financial", 25.0),
            item(Inflow, "reverse_repo_l2a", 50.0),
            item(Inflow, "reverse_repo_other", 12.5),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn worked_example_6_6_formula() {
        let t = FactorTable::builtin(Regime::Basel);
        let r = lcr(example(), &t).unwrap();
        assert!(close(r.hqla_before_caps, 131.0), "{}", r.hqla_before_caps);
        assert!(close(r.hqla, 100.0), "{}", r.hqla);
        assert!(close(r.outflows, 160.0) && close(r.inflows, 80.0));
        assert!(close(r.inflows_capped, 80.0) && close(r.net_outflows, 80.0));
        assert!(close(r.ratio.unwrap(), 1.25));
        // The variant: 60 more of bank placements; the inflow cap binds.
        let mut items = example();
        items.push(item(Section::Inflow, "financial", 60.0));
        let r = lcr(items, &t).unwrap();
        assert!(close(r.inflows, 140.0) && close(r.inflows_capped, 120.0));
        assert!(close(r.ratio.unwrap(), 2.5));
        // The EU caps give the same HQLA without covered bonds.
        let eu = lcr(example(), &FactorTable::builtin(Regime::Eu)).unwrap();
        assert!(close(eu.hqla, 100.0), "{}", eu.hqla);
        // One line per category, each weighted by its factor.
        let l = r
            .lines
            .iter()
            .find(|l| l.category == "l2b_corporate")
            .unwrap();
        assert_eq!((l.amount, l.factor, l.weighted), (40.0, 0.5, 20.0));
    }

    #[test]
    fn unknown_categories_and_bad_amounts_are_errors() {
        let t = FactorTable::builtin(Regime::Basel);
        let e = lcr([item(Section::Outflow, "retail_stabel", 1.0)], &t).unwrap_err();
        assert!(e.0.contains("retail_stabel"), "{e}");
        let e = lcr([item(Section::Hqla, "l1_ehqcb", 1.0)], &t).unwrap_err();
        assert!(e.0.contains("basel") && e.0.contains("l1_ehqcb"), "{e}");
        for bad in [-1.0, f64::NAN] {
            assert!(lcr([item(Section::Inflow, "retail", bad)], &t).is_err());
        }
        // No outflows: no ratio rather than a division by zero.
        let r = lcr([item(Section::Hqla, "l1_cash", 5.0)], &t).unwrap();
        assert_eq!(r.ratio, None);
    }

    #[test]
    fn eu_covered_bonds_are_capped_at_seventy_percent() {
        let eu = FactorTable::builtin(Regime::Eu);
        // 100 of EHQCB after haircut and 10 of other Level 1: Level 1 without covered bonds
        // must be 30 % of the buffer, so the buffer is 10 / 0.3.
        let s = HqlaStock {
            l1: 10.0,
            l1_covered: 100.0,
            ..HqlaStock::default()
        };
        assert!(close(capped_hqla(&s, &s, &eu), 10.0 / 0.3));
    }

    /// The caps after the unwind (LCR30.34): Level 1 of 30 of which 20 was borrowed in a repo
    /// against Level 2A collateral worth 21.25 after haircut, maturing within 30 days, and 51
    /// of free Level 2A. Held: the 40 % cap leaves 30 + 20 = 50. Unwound: adjusted Level 1 is
    /// 10 and Level 2A 72.25, so the excess is 72.25 − ⅔ × 10 and HQLA 81 − 65.583 = 15.417.
    #[test]
    fn caps_apply_after_unwinding_secured_funding() {
        let t = FactorTable::builtin(Regime::Basel);
        let held = HqlaStock {
            l1: 30.0,
            l2a: 51.0,
            ..HqlaStock::default()
        };
        assert!(close(capped_hqla(&held, &held, &t), 50.0));
        let unwind = HqlaStock {
            l1: -20.0,
            l2a: 21.25,
            ..HqlaStock::default()
        };
        let expected = 81.0 - (72.25 - 2.0 / 3.0 * 10.0);
        assert!(close(capped_hqla(&held, &held.plus(&unwind), &t), expected));
        let eu = FactorTable::builtin(Regime::Eu);
        assert!(close(
            capped_hqla(&held, &held.plus(&unwind), &eu),
            expected
        ));
        // Through the lines: the stock as held, the unwind reported.
        let items = [
            item(Section::Hqla, "l1_cash", 30.0),
            item(Section::Hqla, "l2a", 60.0),
            item(Section::Outflow, "unsecured_financial", 10.0),
        ];
        let r = lcr_unwound(items, unwind, &[], &t).unwrap();
        assert!(close(r.hqla, expected));
        assert!(close(r.hqla_before_caps, 81.0));
        assert_eq!(r.unwind, unwind);
    }

    proptest! {
        /// Without covered bonds the EU Annex I formula and the Basel adjustments agree (the
        /// research note's check, docs/research/liquidity-factors.md §1), and the capped stock
        /// respects the caps.
        #[test]
        fn basel_and_eu_caps_agree_without_covered_bonds(
            l1 in 0.0f64..1000.0, l2a in 0.0f64..1000.0, l2b in 0.0f64..1000.0,
            u1 in -100.0f64..100.0, u2a in 0.0f64..100.0, u2b in 0.0f64..100.0,
        ) {
            let s = HqlaStock { l1, l1_covered: 0.0, l2a, l2b };
            let basel = capped_hqla(&s, &s, &FactorTable::builtin(Regime::Basel));
            let eu = capped_hqla(&s, &s, &FactorTable::builtin(Regime::Eu));
            prop_assert!((basel - eu).abs() <= 1e-9 * basel.max(1.0), "{basel} {eu}");
            prop_assert!(basel <= s.total() + 1e-9);
            prop_assert!(basel + 1e-9 >= l1);
            // Level 2 at most 40 %: the buffer is at most L1 / 0.6.
            prop_assert!(basel <= l1 / 0.6 + 1e-6);
            // After an unwind the two still agree, and an unwind never raises the buffer
            // above the held stock.
            let u = HqlaStock { l1: u1.max(-l1), l1_covered: 0.0, l2a: u2a, l2b: u2b };
            let a = s.plus(&u);
            let basel = capped_hqla(&s, &a, &FactorTable::builtin(Regime::Basel));
            let eu = capped_hqla(&s, &a, &FactorTable::builtin(Regime::Eu));
            prop_assert!((basel - eu).abs() <= 1e-9 * basel.max(1.0), "{basel} {eu}");
            prop_assert!(basel <= s.total() + 1e-9);
        }
    }
}
