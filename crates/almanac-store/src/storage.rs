//! The storage interface that every back end implements.

use crate::{
    AuditEntry, AuditReport, Document, DocumentInfo, DocumentKind, EncodedResults, FormBatch,
    ImportOutcome, NewDocument, NewRun, NewSnapshot, Reject, Run, RunInfo, SnapshotInfo,
    StoreError, StoredPosition,
};

/// The store's interface: append-only snapshots, documents and runs, and the audit log that
/// records each of them.
///
/// [`SqliteStore`](crate::SqliteStore) implements it on an embedded SQLite file; a PostgreSQL
/// back end can implement it later with the same semantics.
///
/// # Contract for implementations
/// - Each mutating call is one transaction: the object, its rows and its audit entry are all
///   stored, or none is. A failed call changes nothing.
/// - Stored objects and audit entries never change or disappear.
/// - Readers see only committed calls: a snapshot's position count always equals the number
///   of positions it returns.
/// - The store reads no clock: every timestamp comes from the caller.
/// - Lists are ordered by `created_at`, then id, unless stated otherwise.
pub trait Storage {
    /// Imports a balance-sheet snapshot with its positions and rejected rows.
    ///
    /// The id is `"bs-"` + the first 16 hex digits of `content_hash`. If that content hash is
    /// already stored, returns the stored snapshot with `already_present = true` and writes
    /// nothing, not even an audit entry.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a malformed date, timestamp, source or content hash;
    /// [`StoreError::DuplicateContractId`] naming the id and both rows;
    /// [`StoreError::SnapshotIdCollision`] if another content hash has the same 16 digits;
    /// [`StoreError::Backend`] if the database fails. Nothing is stored on error.
    fn import_snapshot(&mut self, snapshot: NewSnapshot<'_>) -> Result<ImportOutcome, StoreError>;

    /// All snapshots, by `created_at` then id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the database fails.
    fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError>;

    /// The positions of a snapshot, in row order.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Backend`].
    fn snapshot_positions(&self, id: &str) -> Result<Vec<StoredPosition>, StoreError>;

    /// The positions of a snapshot in row order, handed to `each` in batches of `batch`
    /// (the last may be shorter) as they are read: a caller can work on one batch while the
    /// next is read, without holding every position twice.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Backend`].
    fn snapshot_positions_batched(
        &self,
        id: &str,
        batch: usize,
        each: &mut dyn FnMut(Vec<StoredPosition>),
    ) -> Result<(), StoreError>;

    /// The positions of a snapshot in row order as their compact forms
    /// ([`StoredPosition::form`]), handed to `each` in batches of `batch` as they are read;
    /// a position stored without a form comes whole, in its place. Returns `false`, without
    /// calling `each`, for a snapshot that has no forms at all (imported before forms
    /// existed, or without them): read its positions instead.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Backend`].
    fn snapshot_forms_batched(
        &self,
        id: &str,
        batch: usize,
        each: &mut dyn FnMut(FormBatch),
    ) -> Result<bool, StoreError>;

    /// The facts stored with a snapshot at import (`NewSnapshot::facts`), if any.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Backend`].
    fn snapshot_facts(&self, id: &str) -> Result<Option<String>, StoreError>;

    /// The rejected rows of a snapshot, in row order.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Backend`].
    fn snapshot_rejects(&self, id: &str) -> Result<Vec<Reject>, StoreError>;

    /// Stores a document version and returns its id (kind prefix + SHA-256 of the body).
    ///
    /// Idempotent on content: if a document of this kind with this body exists, returns its
    /// id and writes nothing, whatever the name, parent and author of the new call (the first
    /// record of a body wins, as in a content-addressed store).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an empty name, author or reason or a malformed
    /// timestamp; [`StoreError::ParentNotFound`]; [`StoreError::ParentMismatch`] if the
    /// parent has another kind or name; [`StoreError::Backend`].
    fn put_document(&mut self, document: NewDocument) -> Result<String, StoreError>;

    /// One document with its body.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    fn document(&self, id: &str) -> Result<Document, StoreError>;

    /// The documents of one kind, or of all kinds, without bodies, by `created_at` then id.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn documents(&self, kind: Option<DocumentKind>) -> Result<Vec<DocumentInfo>, StoreError>;

    /// A document and its ancestors, newest first: the document, its parent, grandparent….
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    fn history(&self, id: &str) -> Result<Vec<DocumentInfo>, StoreError>;

    /// Records a finished run and returns what was recorded: its id (`"run-"` + 16 hex
    /// digits, unique in the store) and its results hash (as given, or the store's SHA-256
    /// of the results when none was given). Runs are immutable once recorded.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an empty kind or a malformed timestamp;
    /// [`StoreError::Backend`].
    fn record_run(&mut self, run: &NewRun) -> Result<RunInfo, StoreError>;

    /// [`Storage::record_run`] with the results already encoded ([`EncodedResults`]: by a
    /// [`ResultsWriter`](crate::ResultsWriter) as they were produced, so they were never held
    /// whole); `run.results` must be empty. The run recorded is the one `record_run` would
    /// record with those results as bytes.
    ///
    /// # Errors
    /// As [`Storage::record_run`]; [`StoreError::InvalidInput`] if `run.results` is not empty.
    fn record_encoded_run(
        &mut self,
        run: &NewRun,
        results: EncodedResults,
    ) -> Result<RunInfo, StoreError>;

    /// All runs without manifests and results, by `created_at` then id.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn runs(&self) -> Result<Vec<RunInfo>, StoreError>;

    /// One run with its manifest and results.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    fn run(&self, id: &str) -> Result<Run, StoreError>;

    /// The audit log, by sequence number.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn audit(&self) -> Result<Vec<AuditEntry>, StoreError>;

    /// Checks the audit log and the objects against it. Finds an edited entry (its hash does
    /// not match), a deleted, inserted or reordered entry (a gap in the numbering or a broken
    /// `prev_hash` link), an object with no entry or with more than one, an entry whose
    /// object is missing, and an object whose stored content differs from what its entry
    /// recorded (counts, metadata, SHA-256 of rows, bodies and results).
    ///
    /// Reads every stored row, so it takes time proportional to the size of the store.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the database cannot be read; problems found in the data are
    /// reported in the [`AuditReport`], not as errors.
    fn verify_audit(&self) -> Result<AuditReport, StoreError>;
}
