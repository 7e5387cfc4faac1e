//! Net stable funding ratio (Basel NSF20–NSF30; spec `regulatory-metrics.md` §3) from
//! classified carrying values: liabilities and capital by ASF category, assets and off-balance
//! items by RSF category (the category names carry the residual-maturity bucket).
//!
//! `NSFR = Σ amount × ASF factor / Σ amount × RSF factor`. Amounts in one currency's units,
//! positive.

use serde::Serialize;

use super::factors::{Factor, FactorTable, Status};
use super::LiquidityError;

/// The side of the NSFR a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Available stable funding (liabilities and capital).
    Asf,
    /// Required stable funding (assets and off-balance items).
    Rsf,
}

/// One classified carrying value (units, positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item<'a> {
    /// Side.
    pub side: Side,
    /// Category of the factor table.
    pub category: &'a str,
    /// Carrying value (undrawn amount for a facility), units, not negative.
    pub amount: f64,
}

/// One line of the NSFR.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Side.
    pub side: Side,
    /// Category.
    pub category: String,
    /// What the category holds.
    pub label: String,
    /// Sum of the amounts classified in it (units).
    pub amount: f64,
    /// The ASF or RSF factor.
    pub factor: f64,
    /// `amount × factor`.
    pub weighted: f64,
    /// Where the factor comes from.
    pub source: String,
    /// How sure we are of it.
    pub status: Status,
}

/// The NSFR and its lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nsfr {
    /// Available stable funding.
    pub asf: f64,
    /// Required stable funding.
    pub rsf: f64,
    /// `asf / rsf`; `None` when nothing requires stable funding.
    pub ratio: Option<f64>,
    /// The lines, ASF then RSF, by category.
    pub lines: Vec<Line>,
}

/// The NSFR of `items` under `table`.
///
/// # Errors
/// A category the table does not have, or a negative or non-finite amount.
pub fn nsfr<'a>(
    items: impl IntoIterator<Item = Item<'a>>,
    table: &FactorTable,
) -> Result<Nsfr, LiquidityError> {
    let sums = super::sum_by_category(
        items
            .into_iter()
            .map(|it| (it.side, it.category, it.amount)),
    )?;
    let (mut asf, mut rsf) = (0.0, 0.0);
    let mut lines = Vec::with_capacity(sums.len());
    for ((side, category), amount) in sums {
        let map = match side {
            Side::Asf => &table.asf,
            Side::Rsf => &table.rsf,
        };
        let f: &Factor = map.get(category).ok_or_else(|| {
            LiquidityError(format!(
                "the {} factor table has no {side:?} category {category:?}",
                table.regime
            ))
        })?;
        let weighted = amount * f.factor;
        match side {
            Side::Asf => asf += weighted,
            Side::Rsf => rsf += weighted,
        }
        lines.push(Line {
            side,
            category: category.to_string(),
            label: f.label.clone(),
            amount,
            factor: f.factor,
            weighted,
            source: f.source.clone(),
            status: f.status,
        });
    }
    Ok(Nsfr {
        asf,
        rsf,
        ratio: (rsf > 0.0).then(|| asf / rsf),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liquidity::factors::Regime;

    /// The worked example of spec §6.7, classified.
    fn example() -> Vec<Item<'static>> {
        let i = |side, category, amount| Item {
            side,
            category,
            amount,
        };
        use Side::*;
        vec![
            i(Asf, "capital", 100.0),
            i(Asf, "retail_stable", 500.0),
            i(Asf, "retail_less_stable", 300.0),
            i(Asf, "non_financial_under_1y", 200.0),
            i(Asf, "financial_under_6m", 50.0),
            i(Asf, "funding_1y_plus", 100.0),
            i(Rsf, "cash_and_reserves", 50.0),
            i(Rsf, "l1_unencumbered", 200.0),
            i(Rsf, "l2a_unencumbered", 50.0),
            i(Rsf, "financial_loans_under_6m", 100.0),
            i(Rsf, "mortgages_1y_low_rw", 400.0),
            i(Rsf, "loans_1y_high_rw", 300.0),
            i(Rsf, "non_hqla_under_1y", 100.0),
            i(Rsf, "other", 50.0),
            i(Rsf, "facilities_undrawn", 200.0),
        ]
    }

    #[test]
    fn worked_example_6_7_formula() {
        let r = nsfr(example(), &FactorTable::builtin(Regime::Basel)).unwrap();
        assert!((r.asf - 1045.0).abs() < 1e-9 && (r.rsf - 657.5).abs() < 1e-9);
        assert!(
            (r.ratio.unwrap() - 1.589_353_612).abs() < 1e-9,
            "{:?}",
            r.ratio
        );
        // EU: Level 1 at 0 % RSF.
        let r = nsfr(example(), &FactorTable::builtin(Regime::Eu)).unwrap();
        assert!((r.rsf - 647.5).abs() < 1e-9);
        assert!(
            (r.ratio.unwrap() - 1.613_899_614).abs() < 1e-9,
            "{:?}",
            r.ratio
        );
        let e = nsfr(
            [Item {
                side: Side::Rsf,
                category: "gold",
                amount: 1.0,
            }],
            &FactorTable::builtin(Regime::Basel),
        )
        .unwrap_err();
        assert!(e.0.contains("gold"), "{e}");
    }
}
