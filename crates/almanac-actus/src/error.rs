//! Errors of the ACTUS crate.

/// A term whose value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("contract {contract_id}: term {term} = {value:?}: {reason}")]
pub struct TermError {
    /// The contract's identifier.
    pub contract_id: String,
    /// The ACTUS term name as given.
    pub term: String,
    /// The value as given.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

/// A contract that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// A term could not be read.
    #[error(transparent)]
    Term(#[from] TermError),
    /// A term the contract type requires is missing.
    #[error("contract {contract_id}: term {term} is required for {contract_type} but missing")]
    MissingTerm {
        /// The contract's identifier.
        contract_id: String,
        /// The ACTUS term name.
        term: &'static str,
        /// The contract type.
        contract_type: &'static str,
    },
    /// Terms that contradict each other (e.g. maturity before initial exchange).
    #[error("contract {contract_id}: term {term} = {value}: {reason}")]
    Inconsistent {
        /// The contract's identifier.
        contract_id: String,
        /// The ACTUS term name.
        term: &'static str,
        /// The value given.
        value: String,
        /// Why it is inconsistent.
        reason: String,
    },
    /// Market data the contract needs is not available.
    #[error("contract {contract_id}: no observation of {market_object_code} at {time}")]
    MissingObservation {
        /// The contract's identifier.
        contract_id: String,
        /// The market object code.
        market_object_code: String,
        /// The time asked for.
        time: String,
    },
}
