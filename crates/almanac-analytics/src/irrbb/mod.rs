//! Interest-rate risk in the banking book.

pub mod assumptions;
pub mod automatic_options;
pub mod behaviour;
pub mod buckets;
pub mod engine;
pub mod eve;
pub mod flows;
pub mod gap;
pub mod nii;
pub mod per_contract;
pub mod projection;
pub mod run;
pub mod sensitivity;
#[cfg(test)]
pub(crate) mod testkit;

pub use assumptions::{AssumptionError, Behaviour};
pub use automatic_options::{AutomaticOptions, KaoReport, KaoScenario, OptionValues};
pub use buckets::{Bucket, BCBS_BUCKETS};
pub use engine::{
    analyse, analyse_scenarios, Analysis, ContractInput, DayAmounts, Explained, ExplainedFlow,
    GapBySegment, NiiProjection, Options, ScenarioMarket, View,
};
pub use eve::{aggregate, contract_pv, eve_standardised, outlier_test, Aggregation, OutlierTest};
pub use gap::{repricing_flows, repricing_gap, GapRow};
pub use nii::{delta_nii, nii_outlier_test, NiiOutlierTest};
pub use per_contract::{ContractTable, ContractValues};
pub use run::{
    contract_values, eve_standard, ContractPv, CurrencyEve, EveError, EveResult, ScenarioValue,
};
pub use sensitivity::{sensitivities, Sensitivities};
