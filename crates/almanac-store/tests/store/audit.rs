//! The audit log: one entry per change, hash-chained, and verification against tampering.

use almanac_store::{entry_hash, AuditReport, DocumentKind, Storage, GENESIS_HASH};

use crate::support::{aborted_by_trigger, document, hash_of, positions, run, snapshot, TempDir};

/// A store with one snapshot (entry 1), two document versions (2, 3) and a run (4).
fn populated(tag: &str) -> (TempDir, Vec<String>) {
    let dir = TempDir::new(tag);
    let mut store = dir.open();
    let hash = hash_of(tag);
    let snapshot_id = store
        .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", positions(50)))
        .unwrap()
        .snapshot_id;
    let v1 = store
        .put_document(document(DocumentKind::Market, "eur", "{\"v\":1}", None))
        .unwrap();
    let v2 = store
        .put_document(document(
            DocumentKind::Market,
            "eur",
            "{\"v\":2}",
            Some(&v1),
        ))
        .unwrap();
    let run_id = store
        .record_run(&run("cashflows", "{\"inputs\":[]}", b"date,amount\n"))
        .unwrap()
        .id;
    (dir, vec![snapshot_id, v1, v2, run_id])
}

fn verify(dir: &TempDir) -> AuditReport {
    dir.open().verify_audit().unwrap()
}

fn assert_problem(report: &AuditReport, needle: &str) {
    assert!(!report.ok);
    assert!(
        report.problems.iter().any(|p| p.contains(needle)),
        "no problem mentions {needle:?}: {:#?}",
        report.problems
    );
}

#[test]
fn a_fresh_store_verifies() {
    let dir = TempDir::new("audit-empty");
    let report = verify(&dir);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 0);
    assert_eq!(report.head_hash, None);
}

#[test]
fn every_change_appends_one_chained_entry() {
    let (dir, ids) = populated("audit-chain");
    let store = dir.open();
    let entries = store.audit().unwrap();
    let summary: Vec<(u64, &str, &str)> = entries
        .iter()
        .map(|e| (e.seq, e.action.as_str(), e.object_id.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "import_snapshot", ids[0].as_str()),
            (2, "put_document", ids[1].as_str()),
            (3, "put_document", ids[2].as_str()),
            (4, "record_run", ids[3].as_str()),
        ]
    );
    assert_eq!(entries[0].prev_hash, GENESIS_HASH);
    assert_eq!(entries[0].at, "2026-11-01T08:00:00Z");
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    for e in &entries {
        let detail: serde_json::Value = serde_json::from_str(&e.detail_json).unwrap();
        assert!(detail.is_object());
        assert_eq!(
            e.hash,
            entry_hash(
                &e.prev_hash,
                e.seq,
                &e.at,
                &e.action,
                &e.object_id,
                &e.detail_json
            )
        );
    }
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 4);
    assert_eq!(report.head_hash.as_deref(), Some(entries[3].hash.as_str()));
}

#[test]
fn audit_entries_cannot_be_updated_or_deleted() {
    let (dir, _) = populated("audit-immutable");
    let raw = dir.raw();
    assert!(aborted_by_trigger(
        raw.execute("UPDATE audit_log SET at = 'x'", [])
    ));
    assert!(aborted_by_trigger(
        raw.execute("DELETE FROM audit_log WHERE seq = 4", [])
    ));
}

#[test]
fn an_edited_detail_is_found() {
    let (dir, ids) = populated("audit-edited");
    let raw = dir.raw();
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET detail_json = replace(detail_json, 'alm-team', 'mallory')
         WHERE seq = 2;",
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(&report, "entry 2: hash does not match");
    assert_problem(
        &report,
        &format!("document {} differs from its audit entry 2", ids[1]),
    );
}

#[test]
fn an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() {
    let (dir, _) = populated("audit-rehashed");
    let store = dir.open();
    let entry = store.audit().unwrap().remove(1);
    let forged_at = "2020-01-01T00:00:00Z";
    let forged_hash = entry_hash(
        &entry.prev_hash,
        entry.seq,
        forged_at,
        &entry.action,
        &entry.object_id,
        &entry.detail_json,
    );
    let raw = dir.raw();
    raw.execute_batch("DROP TRIGGER audit_log_no_update;")
        .unwrap();
    raw.execute(
        "UPDATE audit_log SET at = ?1, hash = ?2 WHERE seq = 2",
        [forged_at, forged_hash.as_str()],
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(&report, "entry 3: prev_hash does not match");
    assert!(!report.problems.iter().any(|p| p.starts_with("entry 2:")));
}

#[test]
fn a_deleted_entry_is_found() {
    let (dir, ids) = populated("audit-deleted");
    let raw = dir.raw();
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_delete;
         DELETE FROM audit_log WHERE seq = 2;",
    )
    .unwrap();
    let report = verify(&dir);
    assert_eq!(report.entries, 3);
    assert_problem(&report, "entry 3: expected sequence number 2");
    assert_problem(&report, "entry 3: prev_hash does not match");
    assert_problem(&report, &format!("document {} has no audit entry", ids[1]));
}

#[test]
fn reordered_entries_are_found() {
    let (dir, _) = populated("audit-reordered");
    let raw = dir.raw();
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 100;",
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(&report, "entry 2: prev_hash does not match");
    assert_problem(&report, "entry 2: hash does not match");
    assert_problem(&report, "entry 3: hash does not match");
}

#[test]
fn an_object_without_an_entry_is_found() {
    let (dir, _) = populated("audit-unrecorded");
    let raw = dir.raw();
    // Inserting is not blocked by the triggers: a tool writing behind the store's back.
    raw.execute(
        "INSERT INTO runs (id, kind, created_at, manifest_json, results_hash, results)
         VALUES ('run-ffffffffffffffff', 'eve', '2026-11-09', '{}', 'h', x'')",
        [],
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(&report, "run run-ffffffffffffffff has no audit entry");
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[test]
fn an_entry_without_its_object_is_found() {
    let (dir, ids) = populated("audit-orphan");
    let raw = dir.raw();
    raw.execute_batch("DROP TRIGGER runs_no_delete;").unwrap();
    raw.execute("DELETE FROM runs WHERE id = ?1", [&ids[3]])
        .unwrap();
    let report = verify(&dir);
    assert_problem(
        &report,
        &format!("entry 4: record_run {} is not in the store", ids[3]),
    );
}

#[test]
fn edited_content_is_found_through_the_recorded_digests() {
    let (dir, ids) = populated("audit-content");
    let raw = dir.raw();
    raw.execute_batch(
        "DROP TRIGGER positions_no_update;
         UPDATE positions SET json = '{\"notionalPrincipal\":1e9}' WHERE ordinal = 7;
         DROP TRIGGER runs_no_update;
         UPDATE runs SET results = x'00';
         DROP TRIGGER documents_no_update;
         UPDATE documents SET author = 'mallory';",
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(&report, &format!("snapshot {}: stored rows differ", ids[0]));
    assert_problem(
        &report,
        &format!("run {} differs from its audit entry 4", ids[3]),
    );
    assert_problem(
        &report,
        &format!("document {} differs from its audit entry 2", ids[1]),
    );
    assert_problem(
        &report,
        &format!("document {} differs from its audit entry 3", ids[2]),
    );
}

#[test]
fn a_deleted_position_is_found() {
    let (dir, ids) = populated("audit-deleted-position");
    let raw = dir.raw();
    raw.execute_batch(
        "DROP TRIGGER positions_no_delete;
         DELETE FROM positions WHERE ordinal = 3;",
    )
    .unwrap();
    let report = verify(&dir);
    assert_problem(
        &report,
        &format!("snapshot {} records 50 positions but holds 49", ids[0]),
    );
}
