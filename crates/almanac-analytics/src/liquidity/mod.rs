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

/// A liquidity calculation that cannot be done as asked (a category the factor table does not
/// have, a negative amount), said in words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("liquidity: {0}")]
pub struct LiquidityError(pub String);
