//! Errors of the market-data crate. Input errors name the file, line and field; curve errors
//! name the curve.

/// A curve that cannot be built or a quote that cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CurveError {
    /// The curve's definition is inconsistent.
    #[error("curve {curve}: {reason}")]
    Invalid {
        /// Curve identifier.
        curve: String,
        /// What is wrong.
        reason: String,
    },
    /// A quote could not be repriced by any zero rate.
    #[error("curve {curve}: cannot fit quote {quote}: {reason}")]
    Bootstrap {
        /// Curve identifier.
        curve: String,
        /// The quote (instrument and tenor).
        quote: String,
        /// Why.
        reason: String,
    },
}

/// A market-data input that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    /// A value in a file is wrong.
    #[error("{file}, line {line}, field {field}: {reason}")]
    Field {
        /// File name as given.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Field (column or key) name.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The file is not well-formed (CSV or TOML syntax).
    #[error("{file}, line {line}: {reason}")]
    Syntax {
        /// File name as given.
        file: String,
        /// 1-based line number (0 when unknown).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A curve built from the file is invalid.
    #[error("{file}: {source}")]
    Curve {
        /// File name as given.
        file: String,
        /// The curve error.
        #[source]
        source: CurveError,
    },
    /// A reference to something the snapshot does not hold.
    #[error("{what} {name} is not in the market snapshot")]
    Unknown {
        /// Kind of object (curve, index, FX pair).
        what: &'static str,
        /// Its name.
        name: String,
    },
}
