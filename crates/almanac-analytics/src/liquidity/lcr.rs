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
    /// Weighted outflows.
    pub outflows: f64,
    /// Weighted inflows.
    pub inflows: f64,
    /// Inflows after the cap (`min(inflows, cap × outflows)`).
    pub inflows_capped: f64,
    /// Net cash outflows.
    pub net_outflows: f64,
    /// `hqla / net_outflows`; `None` when there are no net outflows.
    pub ratio: Option<f64>,
    /// The lines, by section then category.
    pub lines: Vec<Line>,
}

/// The LCR of `items` under `table`.
///
/// # Errors
/// A category the table does not have, or a negative or non-finite amount.
pub fn lcr<'a>(
    items: impl IntoIterator<Item = Item<'a>>,
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
    let hqla = capped_hqla(&stock, table);
    let inflows_capped = inflows.min(table.caps.inflows.factor * outflows);
    let net_outflows = outflows - inflows_capped;
    Ok(Lcr {
        hqla,
        hqla_before_caps,
        cap_adjustment: hqla_before_caps - hqla,
        outflows,
        inflows,
        inflows_capped,
        net_outflows,
        ratio: (net_outflows > 0.0).then(|| hqla / net_outflows),
        lines,
    })
}

/// Post-haircut HQLA by level (units).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
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
}

/// HQLA after the caps on Level 2 assets (no unwind of secured transactions yet: the stock is
/// taken as held).
pub fn capped_hqla(s: &HqlaStock, table: &FactorTable) -> f64 {
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
            l1 + s.l2a + s.l2b - adj15 - adj40
        }
        CapMethod::EuAnnexI => {
            // LCRDR Annex I: the buffer is the stock less its excess over the largest stock
            // the floors allow — Level 1 without covered bonds at least `level1_non_covered`,
            // Level 1 at least 1 − level2, Level 1 and 2A at least 1 − level2b.
            let floor_nc = caps
                .level1_non_covered
                .as_ref()
                .map_or(f64::INFINITY, |f| s.l1 / f.factor);
            let total = s.total();
            let allowed = total
                .min(floor_nc)
                .min((s.l1 + s.l1_covered) / (1.0 - caps.level2.factor))
                .min((s.l1 + s.l1_covered + s.l2a) / (1.0 - caps.level2b.factor));
            total - (total - allowed).min(total)
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
        assert!(close(capped_hqla(&s, &eu), 10.0 / 0.3));
    }

    proptest! {
        /// Without covered bonds the EU Annex I formula and the Basel adjustments agree (the
        /// research note's check, docs/research/liquidity-factors.md §1), and the capped stock
        /// respects the caps.
        #[test]
        fn basel_and_eu_caps_agree_without_covered_bonds(
            l1 in 0.0f64..1000.0, l2a in 0.0f64..1000.0, l2b in 0.0f64..1000.0,
        ) {
            let s = HqlaStock { l1, l1_covered: 0.0, l2a, l2b };
            let basel = capped_hqla(&s, &FactorTable::builtin(Regime::Basel));
            let eu = capped_hqla(&s, &FactorTable::builtin(Regime::Eu));
            prop_assert!((basel - eu).abs() <= 1e-9 * basel.max(1.0), "{basel} {eu}");
            prop_assert!(basel <= s.total() + 1e-9);
            prop_assert!(basel + 1e-9 >= l1);
            // Level 2 at most 40 %: the buffer is at most L1 / 0.6.
            prop_assert!(basel <= l1 / 0.6 + 1e-6);
        }
    }
}
