//! ACTUS contracts for Almanac: terms, event schedules, payoffs and state transitions.
//!
//! ACTUS (Algorithmic Contract Types Unified Standards) defines each financial contract as a
//! deterministic state machine driven by dated events. This crate is the cash-flow core of
//! Almanac: every balance-sheet figure (gaps, EVE, NII, ladders, LCR, FTP) is computed from
//! the events it produces. It is pure: no I/O, no clock, no global state. Market data comes in
//! through a [`RiskFactorObserver`], unscheduled events as [`ObservedEvent`]s.
//!
//! Sign convention (ACTUS): payoffs and signed states are from the point of view of the
//! record's creator; the contract role gives the sign (RPA asset +1, RPL liability −1).
//! Rates are decimals per year; amounts are in the contract currency.
//!
//! ```
//! use almanac_actus::{evaluate, ContractTerms, EvalContext, NoMarketData};
//! let terms: ContractTerms = serde_json::from_str(r#"{
//!     "contractType": "PAM", "contractID": "bond-1", "contractRole": "RPA",
//!     "statusDate": "2024-12-31", "initialExchangeDate": "2025-01-01",
//!     "maturityDate": "2027-01-01", "notionalPrincipal": 1000, "currency": "EUR",
//!     "nominalInterestRate": 0.05, "cycleOfInterestPayment": "P1YL1",
//!     "dayCountConvention": "30E360"
//! }"#).unwrap();
//! let ctx = EvalContext { observer: &NoMarketData, observed_events: &[], to: None };
//! let events = evaluate(&terms, &ctx).unwrap();
//! // IED pays out 1000; two annual coupons of 50 (the first at IED is zero); MD repays 1000.
//! let total: f64 = events.iter().map(|e| e.payoff).sum();
//! assert!((total - 100.0).abs() < 1e-9);
//! ```
#![deny(clippy::unwrap_used, clippy::print_stdout)]

mod codes;
mod compact;
pub mod conformance;
mod contracts;
mod error;
mod event;
mod observer;
mod terms;

pub use almanac_time::{Date, DateTime};
pub use codes::*;
pub use compact::{CompactError, FORMAT as COMPACT_FORMAT};
pub use contracts::{
    evaluate, evaluate_each, evaluate_each_into, evaluate_into, EvalContext, EventSink,
};
pub use error::{ContractError, TermError};
pub use event::{ContractEvent, EventHead, EventType, States};
pub use observer::{MarketData, NoMarketData, ObservedEvent, RiskFactorObserver, SnapshotObserver};
pub use terms::{
    canonical_term_name, CalendarCode, ContractReference, ContractTerms, DayCountCode, RawTerms,
    ReferenceObject, TermsFromJson, TermsSeed,
};
