//! Run records: the manifest of a run and its results, immutable once recorded.

use serde::{Deserialize, Serialize};

use crate::digest::FieldHasher;
use crate::validate::{require_non_empty, require_timestamp};
use crate::StoreError;

/// A finished run to record: what [`Storage::record_run`] takes.
///
/// [`Storage::record_run`]: crate::Storage::record_run
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// What the run computed, e.g. `cashflows`, `eve`, `lcr`.
    pub kind: String,
    /// The run manifest (input ids and hashes, scenario set, code version) as JSON; the store
    /// keeps it as opaque text.
    pub manifest_json: String,
    /// The results, in whatever format the engine wrote them (CSV, Parquet, JSON).
    pub results: Vec<u8>,
    /// The engine's hash of `results`, kept as given. The store also records its own SHA-256
    /// of the bytes in the audit entry.
    pub results_hash: String,
    /// When the run finished, an ISO 8601 timestamp given by the caller.
    pub created_at: String,
}

/// A recorded run without its manifest and results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// `"run-"` + 16 hex digits.
    pub id: String,
    /// What the run computed.
    pub kind: String,
    /// When it finished, as given by the caller.
    pub created_at: String,
    /// The engine's hash of the results.
    pub results_hash: String,
    /// The size of the results in bytes.
    pub results_len: u64,
}

/// A recorded run with its manifest and results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `"run-"` + 16 hex digits.
    pub id: String,
    /// What the run computed.
    pub kind: String,
    /// When it finished.
    pub created_at: String,
    /// The run manifest as recorded.
    pub manifest_json: String,
    /// The engine's hash of the results.
    pub results_hash: String,
    /// The results, byte for byte.
    pub results: Vec<u8>,
}

pub(crate) fn validate(run: &NewRun) -> Result<(), StoreError> {
    require_non_empty("kind", &run.kind)?;
    require_non_empty("results_hash", &run.results_hash)?;
    require_timestamp("created_at", &run.created_at)
}

/// `"run-"` + the first 16 hex digits of the SHA-256 over the kind, manifest, timestamp and
/// the audit sequence number the run will get. The sequence number is unique in a store, so
/// two identical runs recorded at the same instant still get two ids.
pub(crate) fn run_id(run: &NewRun, audit_seq: u64) -> String {
    let mut hasher = FieldHasher::new();
    hasher
        .field(run.kind.as_bytes())
        .field(run.manifest_json.as_bytes())
        .field(run.created_at.as_bytes())
        .number(audit_seq);
    let hex = hasher.finish_hex();
    format!("run-{}", &hex[..16])
}

/// The `detail_json` of a `record_run` audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunDetail {
    pub(crate) kind: String,
    pub(crate) results_hash: String,
    pub(crate) results_len: u64,
    pub(crate) results_sha256: String,
    pub(crate) manifest_sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_number_separates_identical_runs() {
        let run = NewRun {
            kind: "cashflows".into(),
            manifest_json: "{}".into(),
            results: Vec::new(),
            results_hash: "h".into(),
            created_at: "2026-11-01T00:00:00Z".into(),
        };
        let first = run_id(&run, 1);
        assert_eq!(first.len(), "run-".len() + 16);
        assert_ne!(first, run_id(&run, 2));
        assert_eq!(first, run_id(&run, 1));
    }
}
