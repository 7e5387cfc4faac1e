//! Snapshot import, listing and reading.

use almanac_store::{FormEntry, NewSnapshot, ObjectKind, Storage, StoreError, StoredPosition};

use crate::support::{aborted_by_trigger, hash_of, position, positions, reject, snapshot, TempDir};

#[test]
fn import_round_trips_positions_and_rejects_in_row_order() {
    let dir = TempDir::new("snapshot-round-trip");
    let mut store = dir.open();
    let hash = hash_of("file-1");
    let mut new = snapshot(
        &hash,
        "2026-11-01T08:00:00Z",
        vec![position(7, "c"), position(2, "a"), position(5, "b")],
    );
    new.rejects = vec![reject(6, "not a number"), reject(3, "missing")];

    let outcome = store.import_snapshot(new).unwrap();
    assert_eq!(outcome.snapshot_id, format!("bs-{}", &hash[..16]));
    assert_eq!((outcome.imported, outcome.rejected), (3, 2));
    assert!(!outcome.already_present);

    let stored = store.snapshot_positions(&outcome.snapshot_id).unwrap();
    assert_eq!(
        stored,
        vec![position(2, "a"), position(5, "b"), position(7, "c")]
    );
    let rejects = store.snapshot_rejects(&outcome.snapshot_id).unwrap();
    assert_eq!(
        rejects,
        vec![reject(3, "missing"), reject(6, "not a number")]
    );

    let list = store.snapshots().unwrap();
    assert_eq!(list.len(), 1);
    let info = &list[0];
    assert_eq!(info.id, outcome.snapshot_id);
    assert_eq!(info.as_of, "2026-10-31");
    assert_eq!(info.source, "bank.csv");
    assert_eq!(info.content_hash, hash);
    assert_eq!(info.created_at, "2026-11-01T08:00:00Z");
    assert_eq!((info.positions, info.rejected), (3, 2));

    // A second handle on the file sees the same.
    drop(store);
    let reopened = dir.open();
    assert_eq!(reopened.snapshots().unwrap(), list);
    assert_eq!(reopened.snapshot_positions(&info.id).unwrap(), stored);
}

#[test]
fn an_empty_snapshot_is_a_snapshot() {
    let dir = TempDir::new("snapshot-empty");
    let mut store = dir.open();
    let hash = hash_of("empty");
    let outcome = store
        .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", Vec::new()))
        .unwrap();
    assert_eq!(outcome.imported, 0);
    assert!(store
        .snapshot_positions(&outcome.snapshot_id)
        .unwrap()
        .is_empty());
    assert!(store.verify_audit().unwrap().ok);
}

#[test]
fn snapshots_are_listed_by_created_at_then_id() {
    let dir = TempDir::new("snapshot-order");
    let mut store = dir.open();
    let hashes: Vec<String> = (0..4).map(|i| hash_of(&format!("file-{i}"))).collect();
    let times = [
        "2026-11-03T00:00:00Z",
        "2026-11-01T00:00:00Z",
        "2026-11-02T00:00:00Z",
        "2026-11-01T00:00:00Z",
    ];
    for (hash, time) in hashes.iter().zip(times) {
        store
            .import_snapshot(snapshot(hash, time, positions(3)))
            .unwrap();
    }
    let listed: Vec<(String, String)> = store
        .snapshots()
        .unwrap()
        .into_iter()
        .map(|s| (s.created_at, s.id))
        .collect();
    let mut expected = listed.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(listed[3].0, "2026-11-03T00:00:00Z");
}

#[test]
fn importing_the_same_content_hash_again_changes_nothing() {
    let dir = TempDir::new("snapshot-idempotent");
    let mut store = dir.open();
    let hash = hash_of("file-1");
    let mut first = snapshot(&hash, "2026-11-01T08:00:00Z", positions(5));
    first.rejects = vec![reject(9, "bad")];
    let outcome = store.import_snapshot(first).unwrap();

    // Same content hash, other rows and time: the stored snapshot wins.
    let again = store
        .import_snapshot(snapshot(&hash, "2026-11-05T08:00:00Z", positions(2)))
        .unwrap();
    assert!(again.already_present);
    assert_eq!(again.snapshot_id, outcome.snapshot_id);
    assert_eq!((again.imported, again.rejected), (5, 1));

    assert_eq!(store.snapshots().unwrap().len(), 1);
    assert_eq!(
        store.snapshots().unwrap()[0].created_at,
        "2026-11-01T08:00:00Z"
    );
    assert_eq!(
        store
            .snapshot_positions(&outcome.snapshot_id)
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        store.audit().unwrap().len(),
        1,
        "no audit entry for a repeat"
    );
}

#[test]
fn a_duplicate_contract_id_rolls_back_the_whole_import() {
    let dir = TempDir::new("snapshot-duplicate");
    let mut store = dir.open();
    let hash = hash_of("file-dup");
    let mut rows = positions(1000);
    rows.push(position(5000, "c0000042"));
    let error = store
        .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", rows))
        .unwrap_err();
    match &error {
        StoreError::DuplicateContractId {
            contract_id,
            first_row,
            second_row,
        } => {
            assert_eq!(contract_id, "c0000042");
            assert_eq!((*first_row, *second_row), (44, 5000));
        }
        other => panic!("expected a duplicate contract id, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("c0000042") && message.contains("44") && message.contains("5000"));

    assert!(store.snapshots().unwrap().is_empty());
    assert!(store.audit().unwrap().is_empty());
    let raw = dir.raw();
    for table in ["snapshots", "positions", "rejects", "audit_log"] {
        let rows: i64 = raw
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "{table} must be empty");
    }
    // The store is still usable, and the corrected file imports.
    let outcome = store
        .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", positions(1000)))
        .unwrap();
    assert_eq!(outcome.imported, 1000);
    assert!(store.verify_audit().unwrap().ok);
}

#[test]
fn malformed_fields_are_refused_before_anything_is_written() {
    let dir = TempDir::new("snapshot-invalid");
    let mut store = dir.open();
    let hash = hash_of("file");
    type Spoil = Box<dyn Fn(&mut NewSnapshot<'_>)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("as_of", Box::new(|s| s.as_of = "31/10/2026")),
        ("created_at", Box::new(|s| s.created_at = "now")),
        ("content_hash", Box::new(|s| s.content_hash = "abc123")),
        ("source", Box::new(|s| s.source = " ")),
        ("row", Box::new(|s| s.positions[0].row = u64::MAX)),
        (
            "contract_id",
            Box::new(|s| s.positions[0].contract_id.clear()),
        ),
    ];
    for (field, spoil) in cases {
        let mut new = snapshot(&hash, "2026-11-01T08:00:00Z", positions(3));
        spoil(&mut new);
        match store.import_snapshot(new) {
            Err(StoreError::InvalidInput { field: found, .. }) => assert_eq!(found, field),
            other => panic!("{field}: expected invalid input, got {other:?}"),
        }
    }
    assert!(store.snapshots().unwrap().is_empty());
    assert!(store.audit().unwrap().is_empty());
}

#[test]
fn an_unknown_snapshot_is_not_found() {
    let dir = TempDir::new("snapshot-missing");
    let store = dir.open();
    for result in [
        store.snapshot_positions("bs-0000000000000000").map(|_| ()),
        store.snapshot_rejects("bs-0000000000000000").map(|_| ()),
    ] {
        assert!(matches!(
            result,
            Err(StoreError::NotFound {
                object: ObjectKind::Snapshot,
                ..
            })
        ));
    }
}

#[test]
fn snapshot_rows_cannot_be_updated_or_deleted() {
    let dir = TempDir::new("snapshot-immutable");
    let mut store = dir.open();
    let hash = hash_of("file");
    let mut new = snapshot(&hash, "2026-11-01T08:00:00Z", positions(3));
    new.rejects = vec![reject(10, "bad")];
    store.import_snapshot(new).unwrap();
    let raw = dir.raw();
    for statement in [
        "UPDATE snapshots SET as_of = '2020-01-01'",
        "DELETE FROM snapshots",
        "UPDATE positions SET json = '{}'",
        "DELETE FROM positions",
        "UPDATE rejects SET reason = 'fine'",
        "DELETE FROM rejects",
    ] {
        assert!(
            aborted_by_trigger(raw.execute(statement, [])),
            "{statement} must be refused"
        );
    }
    assert!(store.verify_audit().unwrap().ok);
}

/// The batched reader hands over the same positions in the same order, in batches of the
/// size asked (the last shorter), and nothing for an empty snapshot; an unknown id is an error.
#[test]
fn positions_read_in_batches_are_the_positions() {
    let dir = TempDir::new("snapshot-batches");
    let mut store = dir.open();
    let outcome = store
        .import_snapshot(snapshot(
            &hash_of("batches"),
            "2026-11-01T08:00:00Z",
            (1..=7).map(|r| position(r, &format!("c{r}"))).collect(),
        ))
        .unwrap();
    let whole = store.snapshot_positions(&outcome.snapshot_id).unwrap();
    assert_eq!(whole.len(), 7);
    for size in [1, 3, 7, 100] {
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        store
            .snapshot_positions_batched(&outcome.snapshot_id, size, &mut |b| {
                sizes.push(b.len());
                all.extend(b);
            })
            .unwrap();
        assert_eq!(all, whole, "batch {size}");
        let expected: Vec<usize> = (0..7).step_by(size).map(|k| size.min(7 - k)).collect();
        assert_eq!(sizes, expected, "batch {size}");
    }
    let empty = store
        .import_snapshot(snapshot(
            &hash_of("none"),
            "2026-11-01T08:00:00Z",
            Vec::new(),
        ))
        .unwrap();
    let mut calls = 0;
    store
        .snapshot_positions_batched(&empty.snapshot_id, 3, &mut |_| calls += 1)
        .unwrap();
    assert_eq!(calls, 0);
    assert!(matches!(
        store.snapshot_positions_batched("bs-0000000000000000", 3, &mut |_| {}),
        Err(StoreError::NotFound { .. })
    ));
}

/// Facts stored with a snapshot read back as given; a snapshot without them has none; they
/// cannot be changed afterwards.
#[test]
fn facts_are_kept_with_their_snapshot() {
    let dir = TempDir::new("snapshot-facts");
    let mut store = dir.open();
    let (h1, h2) = (hash_of("with-facts"), hash_of("without"));
    let mut new = snapshot(&h1, "2026-11-01T08:00:00Z", positions(3));
    new.facts = Some(r#"{"segments":["A","B"]}"#.to_string());
    let with = store.import_snapshot(new).unwrap().snapshot_id;
    let without = store
        .import_snapshot(snapshot(&h2, "2026-11-01T08:01:00Z", positions(2)))
        .unwrap()
        .snapshot_id;
    assert_eq!(
        store.snapshot_facts(&with).unwrap().as_deref(),
        Some(r#"{"segments":["A","B"]}"#)
    );
    assert_eq!(store.snapshot_facts(&without).unwrap(), None);
    assert!(matches!(
        store.snapshot_facts("bs-0000000000000000"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(aborted_by_trigger(
        dir.raw()
            .execute("UPDATE snapshot_facts SET facts = '{}'", [])
    ));
    assert!(aborted_by_trigger(
        dir.raw().execute("DELETE FROM snapshot_facts", [])
    ));
}

/// Forms given at import come back in row order, in batches of the size asked, with the
/// positions that have none in their places (whole); a snapshot without forms says so; forms
/// cannot be changed afterwards, and `audit verify` finds one that was.
#[test]
fn forms_are_read_in_row_order_with_the_positions_without_one_in_place() {
    let dir = TempDir::new("snapshot-forms");
    let mut store = dir.open();
    // Given out of row order; rows 3 and 6 and the last (8) have no form.
    let mut given: Vec<StoredPosition> = [5u64, 2, 8, 3, 7, 4, 6]
        .iter()
        .map(|&r| {
            let mut p = position(r, &format!("c{r}"));
            if ![3, 6, 8].contains(&r) {
                p.form = Some(vec![r as u8; r as usize]);
            }
            p
        })
        .collect();
    let with = store
        .import_snapshot(snapshot(
            &hash_of("forms"),
            "2026-11-01T08:00:00Z",
            given.clone(),
        ))
        .unwrap()
        .snapshot_id;
    given.sort_by_key(|p| p.row);
    for size in [1, 2, 3, 7, 100] {
        let mut sizes = Vec::new();
        let mut seen: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
        let has = store
            .snapshot_forms_batched(&with, size, &mut |b| {
                sizes.push(b.entries.len());
                for e in &b.entries {
                    seen.push(match e {
                        FormEntry::Form(_) => {
                            let f = b.form(e).unwrap().to_vec();
                            (u64::from(f[0]), Some(f))
                        }
                        FormEntry::Json(p) => {
                            assert!(p.form.is_none());
                            assert_eq!(p.json, position(p.row, &p.contract_id).json);
                            (p.row, None)
                        }
                    });
                }
            })
            .unwrap();
        assert!(has);
        let expected: Vec<(u64, Option<Vec<u8>>)> =
            given.iter().map(|p| (p.row, p.form.clone())).collect();
        assert_eq!(seen, expected, "batch {size}");
        let batches: Vec<usize> = (0..7).step_by(size).map(|k| size.min(7 - k)).collect();
        assert_eq!(sizes, batches, "batch {size}");
    }
    // What snapshot_positions returns has no forms, and the JSON as given.
    let whole = store.snapshot_positions(&with).unwrap();
    assert!(whole.iter().all(|p| p.form.is_none()));
    let without = store
        .import_snapshot(snapshot(
            &hash_of("no forms"),
            "2026-11-01T08:01:00Z",
            positions(3),
        ))
        .unwrap()
        .snapshot_id;
    let mut calls = 0;
    assert!(!store
        .snapshot_forms_batched(&without, 2, &mut |_| calls += 1)
        .unwrap());
    assert_eq!(calls, 0);
    assert!(matches!(
        store.snapshot_forms_batched("bs-0000000000000000", 3, &mut |_| {}),
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.verify_audit().unwrap().ok);
    assert!(aborted_by_trigger(
        dir.raw()
            .execute("UPDATE position_forms SET form = x'00'", [])
    ));
    assert!(aborted_by_trigger(
        dir.raw().execute("DELETE FROM position_forms", [])
    ));
    // A changed form breaks the snapshot's digest.
    dir.raw()
        .execute_batch(
            "DROP TRIGGER position_forms_no_update;
             UPDATE position_forms SET form = x'0505050506' WHERE ordinal = 3;",
        )
        .unwrap();
    let report = store.verify_audit().unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&format!("snapshot {with}: stored rows differ"))),
        "{:#?}",
        report.problems
    );
    // A form for a position the snapshot does not have: the reader refuses it, the audit
    // names it.
    dir.raw()
        .execute(
            "INSERT INTO position_forms (snapshot_key, ordinal, form)
             SELECT key, 7, x'07' FROM snapshots WHERE id = ?1",
            [&with],
        )
        .unwrap();
    let e = store
        .snapshot_forms_batched(&with, 100, &mut |_| {})
        .unwrap_err();
    assert!(e.to_string().contains("position 7"), "{e}");
    let report = store.verify_audit().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("form for position 7")),
        "{:#?}",
        report.problems
    );
}
