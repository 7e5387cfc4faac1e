//! The hash-chained audit log.
//!
//! Every successful mutating call appends one entry in the same transaction as the change it
//! records, so a change and its entry are stored together or not at all. Entries are numbered
//! `1, 2, 3, …` without gaps; each carries the hash of the one before it (`prev_hash`, 64 zeros
//! for the first, [`GENESIS_HASH`]) and its own hash:
//!
//! ```text
//! hash = hex(sha256(prev_hash ++ "\n" ++ canonical))
//! canonical = JSON array [seq, at, action, object_id, detail_json]
//! ```
//!
//! where `canonical` is written by `serde_json` without spaces (see [`entry_hash`]). Editing,
//! deleting or reordering an entry therefore breaks the chain at that entry. The chain alone
//! cannot show that its newest entries were cut off together with their objects: keep the
//! [`AuditReport::head_hash`] somewhere else (a report, a ticket) to detect that.

use serde::Serialize;

use crate::digest::sha256_hex;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit log entry.
///
/// `action` is one of `import_snapshot` (object: a snapshot id), `put_document` (a document
/// id) or `record_run` (a run id). `detail_json` is a JSON object with what was recorded,
/// including digests of the stored content that [`Storage::verify_audit`] checks again.
///
/// [`Storage::verify_audit`]: crate::Storage::verify_audit
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// 1, 2, 3, … in the order of the changes.
    pub seq: u64,
    /// When, as the caller gave it with the change (`created_at`).
    pub at: String,
    /// What was done.
    pub action: String,
    /// The id of the object created.
    pub object_id: String,
    /// What was recorded, as a JSON object.
    pub detail_json: String,
    /// The hash of the previous entry, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// This entry's hash; see [`entry_hash`].
    pub hash: String,
}

/// The result of [`Storage::verify_audit`].
///
/// [`Storage::verify_audit`]: crate::Storage::verify_audit
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// Number of entries in the log.
    pub entries: usize,
    /// No problem found.
    pub ok: bool,
    /// One line per problem, naming the entry or object.
    pub problems: Vec<String>,
    /// The hash of the newest entry (`None` for an empty log). Record it outside the store to
    /// detect a later truncation of the log.
    pub head_hash: Option<String>,
}

/// The mutating actions, as written in [`AuditEntry::action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuditAction {
    ImportSnapshot,
    PutDocument,
    RecordRun,
}

impl AuditAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AuditAction::ImportSnapshot => "import_snapshot",
            AuditAction::PutDocument => "put_document",
            AuditAction::RecordRun => "record_run",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            AuditAction::ImportSnapshot,
            AuditAction::PutDocument,
            AuditAction::RecordRun,
        ]
        .into_iter()
        .find(|action| action.as_str() == text)
    }
}

/// The hash of an entry: `hex(sha256(prev_hash ++ "\n" ++ canonical))`, where `canonical` is
/// the JSON array `[seq, at, action, object_id, detail_json]` without spaces.
///
/// ```
/// use almanac_store::{entry_hash, GENESIS_HASH};
/// let hash = entry_hash(GENESIS_HASH, 1, "2026-11-01T00:00:00Z", "record_run", "run-1", "{}");
/// assert_eq!(hash.len(), 64);
/// assert_ne!(hash, entry_hash(GENESIS_HASH, 2, "2026-11-01T00:00:00Z", "record_run", "run-1", "{}"));
/// ```
pub fn entry_hash(
    prev_hash: &str,
    seq: u64,
    at: &str,
    action: &str,
    object_id: &str,
    detail_json: &str,
) -> String {
    let canonical = serde_json::to_string(&(seq, at, action, object_id, detail_json))
        .expect("a tuple of an integer and strings always serialises");
    let mut bytes = Vec::with_capacity(prev_hash.len() + 1 + canonical.len());
    bytes.extend_from_slice(prev_hash.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(canonical.as_bytes());
    sha256_hex(&bytes)
}

/// Checks numbering, links and hashes of `entries` (in stored `seq` order); one line per
/// problem.
pub(crate) fn verify_chain(entries: &[AuditEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected_seq = 1;
    let mut expected_prev = GENESIS_HASH;
    for entry in entries {
        if entry.seq != expected_seq {
            problems.push(format!(
                "entry {}: expected sequence number {expected_seq}; an entry is missing or out of place",
                entry.seq
            ));
        }
        if entry.prev_hash != expected_prev {
            problems.push(format!(
                "entry {}: prev_hash does not match the hash of the entry before it (an entry was \
                 deleted, inserted or moved)",
                entry.seq
            ));
        }
        let recomputed = entry_hash(
            &entry.prev_hash,
            entry.seq,
            &entry.at,
            &entry.action,
            &entry.object_id,
            &entry.detail_json,
        );
        if recomputed != entry.hash {
            problems.push(format!(
                "entry {}: hash does not match its content (the entry was edited)",
                entry.seq
            ));
        }
        expected_seq = entry.seq.saturating_add(1);
        expected_prev = &entry.hash;
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev_hash = entries
                .last()
                .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            let object_id = format!("run-{seq}");
            let hash = entry_hash(
                &prev_hash,
                seq,
                "2026-11-01",
                "record_run",
                &object_id,
                "{}",
            );
            entries.push(AuditEntry {
                seq,
                at: "2026-11-01".into(),
                action: "record_run".into(),
                object_id,
                detail_json: "{}".into(),
                prev_hash,
                hash,
            });
        }
        entries
    }

    #[test]
    fn an_intact_chain_has_no_problem() {
        assert!(verify_chain(&chain(5)).is_empty());
        assert!(verify_chain(&[]).is_empty());
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut entries = chain(4);
        entries[2].detail_json = r#"{"x":1}"#.into();
        let problems = verify_chain(&entries);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("entry 3: hash"));
    }

    #[test]
    fn a_deleted_entry_breaks_numbering_and_link() {
        let mut entries = chain(4);
        entries.remove(1);
        let problems = verify_chain(&entries);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.starts_with("entry 3:")));
    }

    #[test]
    fn swapped_entries_are_detected() {
        let mut entries = chain(4);
        entries.swap(1, 2);
        assert!(!verify_chain(&entries).is_empty());
        // Renumbering after the swap does not help: the hashes cover the numbers.
        entries[1].seq = 2;
        entries[2].seq = 3;
        assert!(!verify_chain(&entries).is_empty());
    }

    #[test]
    fn the_canonical_form_is_a_compact_json_array() {
        let by_hand =
            sha256_hex(format!("{GENESIS_HASH}\n[1,\"a\",\"b\",\"c\",\"{{}}\"]").as_bytes());
        assert_eq!(entry_hash(GENESIS_HASH, 1, "a", "b", "c", "{}"), by_hand);
    }
}
