//! The embedded store: balance-sheet snapshots, documents (market data, scenario sets,
//! assumption sets) with git-like history, run records and a hash-chained audit log, behind
//! a storage interface.
//!
//! # Place in the layers
//! An edge crate. It depends on no model crate: positions, document bodies and run manifests
//! are opaque JSON text (results are bytes), so ingest, the engine and the CLI decide their
//! shape and the store only keeps them, proves they did not change, and says who stored what
//! and when. It reads no clock: every timestamp comes from the caller.
//!
//! # Main types
//! - [`Storage`]: the interface, with [`SqliteStore`] as its implementation on one SQLite
//!   file (see `docs/adr/0001-embedded-store.md` for why SQLite and how it is set up).
//! - Snapshots: [`NewSnapshot`] in, [`ImportOutcome`] out; [`SnapshotInfo`],
//!   [`StoredPosition`], [`Reject`]. A snapshot is identified by the SHA-256 of its input file,
//!   so importing the same file twice stores it once.
//! - Documents: [`NewDocument`], [`Document`], [`DocumentInfo`], [`DocumentKind`]. A document
//!   is identified by its kind and body ([`document_id`]); versions of one name link to their
//!   parent, like git commits, and [`Storage::history`] walks the links.
//! - Runs: [`NewRun`], [`Run`], [`RunInfo`].
//! - Audit: [`AuditEntry`], [`AuditReport`], [`entry_hash`].
//! - Errors: [`StoreError`].
//!
//! # Example
//! ```
//! use almanac_store::{NewSnapshot, SqliteStore, Storage, StoredPosition};
//!
//! let dir = std::env::temp_dir().join(format!("almanac-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let mut store = SqliteStore::open(&dir.join("almanac.sqlite"))?;
//!
//! let position = |row: u64, id: &str| StoredPosition {
//!     row,
//!     contract_id: id.to_owned(),
//!     json: format!(r#"{{"contractID":"{id}"}}"#),
//!     form: None,
//! };
//! let hash = "5e".repeat(32); // the SHA-256 of the input file, computed by the caller
//! let snapshot = NewSnapshot {
//!     as_of: "2026-10-31",
//!     source: "bank.csv",
//!     content_hash: &hash,
//!     created_at: "2026-11-01T08:00:00Z",
//!     positions: vec![position(2, "loan-1"), position(3, "deposit-7")],
//!     rejects: Vec::new(),
//!     facts: None,
//! };
//! let outcome = store.import_snapshot(snapshot.clone())?;
//! assert_eq!(outcome.snapshot_id, "bs-5e5e5e5e5e5e5e5e");
//! assert_eq!(outcome.imported, 2);
//!
//! // The same file again changes nothing.
//! assert!(store.import_snapshot(snapshot)?.already_present);
//! let report = store.verify_audit()?;
//! assert!(report.ok);
//! assert_eq!(report.entries, 1);
//! # drop(store);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design decisions
//! - **Append-only, enforced by the file.** Snapshots, positions, rejects, documents, runs and
//!   audit entries are never updated or deleted; SQL triggers abort any `UPDATE` or `DELETE`,
//!   so a careless tool cannot change history either. A correction is a new snapshot or a new
//!   document version.
//! - **One transaction per call.** A snapshot with all its rows and its audit entry commits
//!   together or not at all: a crash or a kill mid-import leaves no half snapshot, and a
//!   concurrent reader never sees one.
//! - **Content addressing.** Snapshot ids come from the input file's SHA-256, document ids
//!   from the body's, so re-importing is harmless and an id says what it holds.
//! - **A hash chain for the audit log.** Each entry hashes its predecessor, and its detail
//!   records digests of the rows, body or results it covers; [`Storage::verify_audit`]
//!   recomputes all of it, so tampering that bypasses the triggers is found. A chain cannot
//!   show that its newest entries were cut off together with their objects: keep
//!   [`AuditReport::head_hash`] outside the store for that.
//! - **Migrations by `PRAGMA user_version`**: embedded SQL scripts, one transaction each. No
//!   migration framework: the store needs a counter and a list, nothing more.
//! - **Opaque back-end errors.** [`StoreError`] carries SQLite's error only as a boxed
//!   source, so the [`Storage`] trait does not mention SQLite and a PostgreSQL back end can
//!   implement it unchanged.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

mod audit;
mod digest;
mod document;
mod error;
mod migration;
mod run;
mod snapshot;
mod sqlite;
mod storage;
mod validate;

pub use audit::{entry_hash, AuditEntry, AuditReport, GENESIS_HASH};
pub use document::{document_id, Document, DocumentInfo, DocumentKind, NewDocument};
pub use error::{BackendError, ObjectKind, StoreError};
pub use run::{EncodedResults, NewRun, ResultsWriter, Run, RunInfo};
pub use snapshot::{
    FormBatch, FormEntry, ImportOutcome, NewSnapshot, Reject, SnapshotInfo, StoredPosition,
};
pub use sqlite::SqliteStore;
pub use storage::Storage;
