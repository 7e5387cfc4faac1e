//! Scenarios for every view of the balance sheet: the six standardised IRRBB interest-rate
//! shocks, user-defined and historical shifts, and stochastic short-rate paths. A scenario maps
//! a market snapshot to a *new* snapshot; every metric then reads only the snapshot it is given,
//! so ALM, liquidity and FTP are computed under exactly the same market.
//!
//! * [`irrbb`]: the regulatory shock tables, shapes, floors and calibration from history.
//! * [`standard`]: those shocks applied to a [`almanac_market::MarketSnapshot`].
//! * [`set`]: scenario sets from TOML (user, standard and historical scenarios), hashed.
//! * [`hull_white`]: Hull–White one-factor short-rate paths fitted to a curve.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

pub mod hull_white;
pub mod irrbb;
pub mod set;
pub mod standard;
