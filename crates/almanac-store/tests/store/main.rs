//! Integration tests of the store against real database files in temp dirs.
//!
//! One test binary (several modules) so that the crash test can re-run this binary as its
//! child process and the suite links once.

mod audit;
mod concurrency;
mod crash;
mod document;
mod migration;
mod run;
mod snapshot;
mod support;
