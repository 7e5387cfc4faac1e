//! The one error type of the store.

use std::fmt;
use std::path::PathBuf;

/// The error of a storage back end (SQLite today), kept opaque so that the [`Storage`] trait
/// does not tie its callers to one database library.
///
/// [`Storage`]: crate::Storage
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of stored object an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A balance-sheet snapshot (`bs-…`).
    Snapshot,
    /// A document: market data, a scenario set or an assumption set.
    Document,
    /// A recorded run (`run-…`).
    Run,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Snapshot => "snapshot",
            ObjectKind::Document => "document",
            ObjectKind::Run => "run",
        })
    }
}

/// Everything that can go wrong in the store.
///
/// Input errors ([`DuplicateContractId`](Self::DuplicateContractId),
/// [`InvalidInput`](Self::InvalidInput), [`NotFound`](Self::NotFound),
/// [`ParentNotFound`](Self::ParentNotFound), [`ParentMismatch`](Self::ParentMismatch),
/// [`SnapshotIdCollision`](Self::SnapshotIdCollision)) are the caller's to fix. Back-end errors
/// ([`Open`](Self::Open), [`Backend`](Self::Backend), [`Migration`](Self::Migration),
/// [`SchemaTooNew`](Self::SchemaTooNew)) come from the database file or the disk.
/// [`Internal`](Self::Internal) means a broken invariant: a bug, or a store edited behind the
/// store's back. A failed mutating call changes nothing: its transaction is rolled back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or set up (WAL mode, pragmas).
    #[error("cannot open the store at {path}")]
    Open {
        /// The file that was being opened.
        path: PathBuf,
        /// The back end's error.
        #[source]
        source: BackendError,
    },
    /// The back end failed during an operation (disk full, I/O error, lock timeout…).
    #[error("the storage back end failed while {operation}")]
    Backend {
        /// What the store was doing, e.g. "importing a snapshot".
        operation: &'static str,
        /// The back end's error.
        #[source]
        source: BackendError,
    },
    /// A schema migration failed; the file stays at the version before it.
    #[error("schema migration to version {version} failed")]
    Migration {
        /// The version the migration would have produced.
        version: u32,
        /// The back end's error.
        #[source]
        source: BackendError,
    },
    /// The file was written by a newer build with a schema this build does not know.
    #[error(
        "the store has schema version {found}, newer than the {supported} this build supports"
    )]
    SchemaTooNew {
        /// The file's schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// A contract id occurs twice in one snapshot.
    #[error(
        "contract id {contract_id:?} occurs twice in the snapshot, at rows {first_row} and {second_row}"
    )]
    DuplicateContractId {
        /// The repeated contract id.
        contract_id: String,
        /// The source row of its first occurrence.
        first_row: u64,
        /// The source row of its second occurrence.
        second_row: u64,
    },
    /// An argument is malformed (an empty name, a hash that is not hex, a row number too big).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field, e.g. "content_hash".
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Two different content hashes share the 16 hex digits of a snapshot id.
    #[error("snapshot id {id} already belongs to content hash {existing_hash}, not {new_hash}")]
    SnapshotIdCollision {
        /// The snapshot id both hashes map to.
        id: String,
        /// The content hash already stored under that id.
        existing_hash: String,
        /// The content hash of the rejected import.
        new_hash: String,
    },
    /// No object with this id.
    #[error("{object} {id:?} not found")]
    NotFound {
        /// What kind of object was looked up.
        object: ObjectKind,
        /// The id that was looked up.
        id: String,
    },
    /// A document names a parent that is not in the store.
    #[error("parent document {parent:?} not found")]
    ParentNotFound {
        /// The parent id given.
        parent: String,
    },
    /// A document names a parent of another kind or name.
    #[error(
        "parent document {parent} is {parent_kind} {parent_name:?}, but the new document is {kind} {name:?}"
    )]
    ParentMismatch {
        /// The parent id given.
        parent: String,
        /// The parent's kind.
        parent_kind: String,
        /// The parent's name.
        parent_name: String,
        /// The new document's kind.
        kind: String,
        /// The new document's name.
        name: String,
    },
    /// A broken invariant: a bug in the store, or a file edited behind its back.
    #[error("internal error (a bug or a damaged store): {invariant}")]
    Internal {
        /// The invariant that does not hold.
        invariant: String,
    },
}

impl StoreError {
    /// Wraps a back-end error with what the store was doing.
    pub(crate) fn backend(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> Self {
        move |source| StoreError::Backend {
            operation,
            source: Box::new(source),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn internal(invariant: impl Into<String>) -> Self {
        StoreError::Internal {
            invariant: invariant.into(),
        }
    }
}
