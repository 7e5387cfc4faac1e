//! Market snapshots for one as-of date: discount and forecast curves per currency and index,
//! credit and funding spread curves, FX spot rates, historical index fixings and index
//! volatilities, with curve bootstrapping from market quotes.
//!
//! A [`MarketSnapshot`] is immutable once built; scenarios (crate `almanac-scenario`) map a
//! snapshot to a new one, and every metric reads only the snapshot it is given.
//!
//! Conventions: rates are decimals; curve times are years from the as-of date under the
//! curve's day count; zero rates are held continuously compounded (see [`curve`]); FX rates
//! are quoted as units of the quote currency per one unit of the base currency (`EUR/USD =
//! 1.08` means 1 EUR = 1.08 USD).
#![deny(clippy::unwrap_used, clippy::print_stdout)]

pub mod bootstrap;
pub mod currency;
pub mod curve;
mod error;
pub mod format;
pub mod snapshot;
pub mod volatility;

pub use bootstrap::{bootstrap, Quote, QuoteKind};
pub use curve::{Compounding, Curve, CurveInterpolation, Floor, Overlay, Shift};
pub use error::{CurveError, MarketError};
pub use snapshot::{IndexDefinition, MarketSnapshot};
pub use volatility::{Volatility, VolatilityModel};
