//! Numerical building blocks for Almanac's calculation core: interpolation on pillars,
//! one-dimensional root finding, order statistics and a reproducible random number generator.
//!
//! Everything here is pure (no I/O, no clock, no globals) and allocation-free on its hot paths.
//! The algorithms are the textbook ones, written for this crate and tested against hand
//! computations and properties; each module says which published method it follows.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

pub mod interpolation;
pub mod random;
pub mod root;

pub use interpolation::{Interpolation, InterpolationError, Interpolator};
pub use root::{brent, RootError};
