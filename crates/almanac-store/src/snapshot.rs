//! Balance-sheet snapshots: one imported file, its accepted positions and its rejected rows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::digest::{is_lower_hex, FieldHasher};
use crate::validate::{require_date, require_non_empty, require_timestamp};
use crate::StoreError;

/// A balance-sheet file to import: what [`Storage::import_snapshot`] takes.
///
/// # Invariants
/// - `content_hash` is 64 lower-case hex digits: the SHA-256 of the input file. It identifies
///   the snapshot: the id is `"bs-"` + its first 16 digits, and importing the same hash again
///   changes nothing.
/// - Contract ids are unique among `positions`.
///
/// [`Storage::import_snapshot`]: crate::Storage::import_snapshot
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSnapshot<'a> {
    /// The balance-sheet date, ISO 8601 (`YYYY-MM-DD`).
    pub as_of: &'a str,
    /// Where the data came from, typically the file name.
    pub source: &'a str,
    /// Lower-case hex SHA-256 of the input file.
    pub content_hash: &'a str,
    /// When the import happened, an ISO 8601 timestamp given by the caller (the store reads
    /// no clock). Listings sort on it as text, so use one format throughout, e.g.
    /// `2026-11-22T09:30:00Z`.
    pub created_at: &'a str,
    /// The accepted positions, in any order; stored and returned in row order.
    pub positions: Vec<StoredPosition>,
    /// The rejected input rows, in any order; stored and returned in row order.
    pub rejects: Vec<Reject>,
    /// Facts about the positions derived by the caller (JSON), kept with them: what a run
    /// that streams the positions needs to know first. Not part of the audit digest (they
    /// are derived from what is).
    pub facts: Option<String>,
}

/// One accepted position of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredPosition {
    /// The source row number (as the ingest reported it; 1-based for a CSV data row).
    pub row: u64,
    /// The contract id, unique within the snapshot.
    pub contract_id: String,
    /// The validated position as JSON; the store keeps it as opaque text.
    pub json: String,
    /// A compact binary form of the position the caller derived from it, opaque to the
    /// store, which its runs may read instead of the JSON
    /// ([`Storage::snapshot_forms_batched`](crate::Storage::snapshot_forms_batched)); covered
    /// by the snapshot's audit digest. Stored when given at import; always `None` in what
    /// [`Storage::snapshot_positions`](crate::Storage::snapshot_positions) returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<u8>>,
}

/// A batch of a snapshot's positions in row order as their compact forms
/// ([`StoredPosition::form`]), from
/// [`Storage::snapshot_forms_batched`](crate::Storage::snapshot_forms_batched).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormBatch {
    /// The forms end to end.
    pub bytes: Vec<u8>,
    /// One entry per position, in row order.
    pub entries: Vec<FormEntry>,
}

/// One position of a [`FormBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormEntry {
    /// Its form: this range of [`FormBatch::bytes`].
    Form(std::ops::Range<usize>),
    /// A position stored without a form: the position itself.
    Json(StoredPosition),
}

impl FormBatch {
    /// The form of entry `entry`, if it has one.
    pub fn form(&self, entry: &FormEntry) -> Option<&[u8]> {
        match entry {
            FormEntry::Form(r) => self.bytes.get(r.clone()),
            FormEntry::Json(_) => None,
        }
    }
}

/// One rejected input row of a snapshot, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reject {
    /// The source row number.
    pub row: u64,
    /// The column that failed validation.
    pub column: String,
    /// The raw value found there.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// The snapshot id: `"bs-"` + the first 16 hex digits of the content hash.
    pub snapshot_id: String,
    /// Positions stored under the snapshot (for an `already_present` import: those stored
    /// the first time).
    pub imported: usize,
    /// Rejected rows stored under the snapshot.
    pub rejected: usize,
    /// The content hash was already imported: nothing was written, no audit entry appended.
    pub already_present: bool,
}

/// A stored snapshot without its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    /// `"bs-"` + the first 16 hex digits of `content_hash`.
    pub id: String,
    /// The balance-sheet date, ISO 8601.
    pub as_of: String,
    /// Where the data came from.
    pub source: String,
    /// Lower-case hex SHA-256 of the input file.
    pub content_hash: String,
    /// When it was imported, as given by the importer.
    pub created_at: String,
    /// Number of stored positions.
    pub positions: usize,
    /// Number of stored rejected rows.
    pub rejected: usize,
}

/// The snapshot id for a content hash: `"bs-"` + its first 16 hex digits (all of a shorter
/// text, which only a damaged store holds).
pub(crate) fn snapshot_id(content_hash: &str) -> String {
    format!("bs-{}", content_hash.get(..16).unwrap_or(content_hash))
}

/// Checks the fields and the uniqueness of contract ids, then sorts positions and rejects by
/// row (stable: equal rows keep the caller's order).
pub(crate) fn prepare(snapshot: &mut NewSnapshot<'_>) -> Result<(), StoreError> {
    require_date("as_of", snapshot.as_of)?;
    require_non_empty("source", snapshot.source)?;
    require_timestamp("created_at", snapshot.created_at)?;
    if !is_lower_hex(snapshot.content_hash, 64) {
        return Err(StoreError::invalid(
            "content_hash",
            format!(
                "{:?} is not 64 lower-case hex digits (a SHA-256)",
                snapshot.content_hash
            ),
        ));
    }
    snapshot.positions.sort_by_key(|p| p.row);
    snapshot.rejects.sort_by_key(|r| r.row);
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(snapshot.positions.len());
    for position in &snapshot.positions {
        require_non_empty("contract_id", &position.contract_id)?;
        if let Some(first_row) = seen.insert(&position.contract_id, position.row) {
            return Err(StoreError::DuplicateContractId {
                contract_id: position.contract_id.clone(),
                first_row,
                second_row: position.row,
            });
        }
    }
    Ok(())
}

/// The digest of a snapshot's rows, recorded in its audit entry so that
/// [`Storage::verify_audit`](crate::Storage::verify_audit) detects an edited row.
///
/// SHA-256 over the field encoding of [`FieldHasher`]: the tag `positions`, then for each
/// position in row order its row, contract id and JSON; then the tag `rejects`, then for each
/// reject its row, column, value and reason.
pub(crate) struct RowsDigest {
    hasher: FieldHasher,
    in_rejects: bool,
    in_forms: bool,
}

impl RowsDigest {
    pub(crate) fn new() -> Self {
        let mut hasher = FieldHasher::new();
        hasher.field(b"positions");
        RowsDigest {
            hasher,
            in_rejects: false,
            in_forms: false,
        }
    }

    pub(crate) fn position(&mut self, row: u64, contract_id: &str, json: &str) {
        debug_assert!(!self.in_rejects, "positions come before rejects");
        self.hasher
            .number(row)
            .field(contract_id.as_bytes())
            .field(json.as_bytes());
    }

    pub(crate) fn reject(&mut self, reject: &Reject) {
        debug_assert!(!self.in_forms, "rejects come before forms");
        if !self.in_rejects {
            self.hasher.field(b"rejects");
            self.in_rejects = true;
        }
        self.hasher
            .number(reject.row)
            .field(reject.column.as_bytes())
            .field(reject.value.as_bytes())
            .field(reject.reason.as_bytes());
    }

    /// The form of the position at `ordinal`, after every reject, in ordinal order. A
    /// snapshot without forms has the digest it had before forms existed.
    pub(crate) fn form(&mut self, ordinal: u64, form: &[u8]) {
        if !self.in_rejects {
            self.hasher.field(b"rejects");
            self.in_rejects = true;
        }
        if !self.in_forms {
            self.hasher.field(b"forms");
            self.in_forms = true;
        }
        self.hasher.number(ordinal).field(form);
    }

    pub(crate) fn finish_hex(mut self) -> String {
        if !self.in_rejects {
            self.hasher.field(b"rejects");
        }
        self.hasher.finish_hex()
    }
}

/// The `detail_json` of an `import_snapshot` audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapshotDetail {
    pub(crate) as_of: String,
    pub(crate) source: String,
    pub(crate) content_hash: String,
    pub(crate) positions: u64,
    pub(crate) rejected: u64,
    /// See [`RowsDigest`].
    pub(crate) rows_sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(row: u64, contract_id: &str) -> StoredPosition {
        StoredPosition {
            row,
            contract_id: contract_id.to_owned(),
            json: "{}".to_owned(),
            form: None,
        }
    }

    fn snapshot(positions: Vec<StoredPosition>) -> NewSnapshot<'static> {
        NewSnapshot {
            as_of: "2026-10-31",
            source: "bank.csv",
            content_hash: "ab".repeat(32).leak(),
            created_at: "2026-11-01T08:00:00Z",
            positions,
            rejects: Vec::new(),
            facts: None,
        }
    }

    #[test]
    fn id_is_bs_and_sixteen_hex_digits() {
        assert_eq!(
            snapshot_id(&"0123456789abcdef".repeat(4)),
            "bs-0123456789abcdef"
        );
    }

    #[test]
    fn prepare_sorts_by_row_and_keeps_ties_in_order() {
        let mut s = snapshot(vec![position(3, "c"), position(1, "a"), position(3, "b")]);
        prepare(&mut s).unwrap();
        let ids: Vec<&str> = s.positions.iter().map(|p| p.contract_id.as_str()).collect();
        assert_eq!(ids, ["a", "c", "b"]);
    }

    #[test]
    fn duplicate_names_both_rows_in_row_order() {
        let mut s = snapshot(vec![position(9, "x"), position(2, "y"), position(4, "x")]);
        match prepare(&mut s) {
            Err(StoreError::DuplicateContractId {
                contract_id,
                first_row,
                second_row,
            }) => assert_eq!((contract_id.as_str(), first_row, second_row), ("x", 4, 9)),
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }

    #[test]
    fn content_hash_must_be_a_lower_case_sha256() {
        let mut s = snapshot(Vec::new());
        s.content_hash = "ABC";
        assert!(matches!(
            prepare(&mut s),
            Err(StoreError::InvalidInput {
                field: "content_hash",
                ..
            })
        ));
    }

    #[test]
    fn rows_digest_separates_positions_from_rejects() {
        let reject = Reject {
            row: 1,
            column: "a".into(),
            value: "b".into(),
            reason: "c".into(),
        };
        let mut with_reject = RowsDigest::new();
        with_reject.reject(&reject);
        let empty = RowsDigest::new();
        assert_ne!(with_reject.finish_hex(), empty.finish_hex());
    }
}
