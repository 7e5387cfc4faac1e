//! Liquidity risk (issue #6): the LCR and the NSFR from classified amounts, on factor tables
//! held as configuration per regime ([`factors`]).
//!
//! This is the calculation core: a position's amounts arrive classified (section or side,
//! category of the factor table, amount in units). Classifying the balance sheet's contracts
//! — from their cash flows and the data model's deposit, counterparty, HQLA and encumbrance
//! attributes —, the maturity ladder, the counterbalancing capacity and the survival horizon
//! build on it.

pub mod classify;
pub mod factors;
pub mod ladder;
pub mod lcr;
pub mod nsfr;
pub mod run;
pub mod stress;

/// A liquidity calculation that cannot be done as asked (a category the factor table does not
/// have, a negative amount), said in words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("liquidity: {0}")]
pub struct LiquidityError(pub String);

/// Amounts summed by (section or side, category), in key order; a negative or non-finite
/// amount is an error naming it.
pub(crate) fn sum_by_category<'a, P: Ord + Copy + std::fmt::Debug>(
    items: impl IntoIterator<Item = (P, &'a str, f64)>,
) -> Result<std::collections::BTreeMap<(P, &'a str), f64>, LiquidityError> {
    let mut sums = std::collections::BTreeMap::new();
    for (part, category, amount) in items {
        if !(amount.is_finite() && amount >= 0.0) {
            return Err(LiquidityError(format!(
                "{part:?} {category}: amount {amount} is not a non-negative number"
            )));
        }
        *sums.entry((part, category)).or_insert(0.0) += amount;
    }
    Ok(sums)
}
