//! Fixtures shared by the store's integration tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use almanac_store::{
    DocumentKind, NewDocument, NewRun, NewSnapshot, Reject, SqliteStore, StoredPosition,
};
use sha2::{Digest, Sha256};

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "almanac-store-test-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The database file of this directory.
    pub(crate) fn db(&self) -> PathBuf {
        self.0.join("almanac.sqlite")
    }

    pub(crate) fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.db()).unwrap()
    }

    /// A plain SQLite connection on the file, for checking and tampering.
    pub(crate) fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Lower-case hex SHA-256 of `seed`: a stand-in for the hash of an input file.
pub(crate) fn hash_of(seed: &str) -> String {
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn position(row: u64, contract_id: &str) -> StoredPosition {
    StoredPosition {
        row,
        contract_id: contract_id.to_owned(),
        json: format!(r#"{{"contractID":"{contract_id}","notionalPrincipal":{row}}}"#),
        form: None,
    }
}

/// `count` positions on rows 2, 3, … (row 1 is the header of a CSV file).
pub(crate) fn positions(count: usize) -> Vec<StoredPosition> {
    (0..count)
        .map(|i| position(i as u64 + 2, &format!("c{i:07}")))
        .collect()
}

pub(crate) fn reject(row: u64, reason: &str) -> Reject {
    Reject {
        row,
        column: "notionalPrincipal".to_owned(),
        value: "abc".to_owned(),
        reason: reason.to_owned(),
    }
}

pub(crate) fn snapshot<'a>(
    content_hash: &'a str,
    created_at: &'a str,
    positions: Vec<StoredPosition>,
) -> NewSnapshot<'a> {
    NewSnapshot {
        as_of: "2026-10-31",
        source: "bank.csv",
        content_hash,
        created_at,
        positions,
        rejects: Vec::new(),
        facts: None,
    }
}

pub(crate) fn document(
    kind: DocumentKind,
    name: &str,
    body: &str,
    parent: Option<&str>,
) -> NewDocument {
    NewDocument {
        kind,
        name: name.to_owned(),
        body: body.to_owned(),
        parent: parent.map(str::to_owned),
        author: "alm-team".to_owned(),
        created_at: "2026-11-02T10:00:00Z".to_owned(),
        reason: format!("update {name}"),
    }
}

pub(crate) fn run(kind: &str, manifest_json: &str, results: &[u8]) -> NewRun {
    NewRun {
        kind: kind.to_owned(),
        manifest_json: manifest_json.to_owned(),
        results: results.to_vec(),
        results_hash: hash_of(&String::from_utf8_lossy(results)),
        created_at: "2026-11-03T12:00:00Z".to_owned(),
    }
}

/// Whether a raw SQL statement fails because a trigger aborted it.
pub(crate) fn aborted_by_trigger(result: rusqlite::Result<usize>) -> bool {
    match result {
        Err(rusqlite::Error::SqliteFailure(error, Some(message))) => {
            error.code == rusqlite::ErrorCode::ConstraintViolation
                && (message.contains("immutable") || message.contains("append-only"))
        }
        _ => false,
    }
}
