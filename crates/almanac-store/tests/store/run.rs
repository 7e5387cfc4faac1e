//! Run records.

use almanac_store::{ObjectKind, Storage, StoreError};

use crate::support::{aborted_by_trigger, run, TempDir};

#[test]
fn a_run_round_trips_with_its_results() {
    let dir = TempDir::new("run-round-trip");
    let mut store = dir.open();
    let results: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let new = run(
        "cashflows",
        r#"{"snapshot":"bs-1","market":"mkt-2"}"#,
        &results,
    );
    let id = store.record_run(new.clone()).unwrap();
    assert!(id.starts_with("run-") && id.len() == 4 + 16);

    let stored = store.run(&id).unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.kind, "cashflows");
    assert_eq!(stored.manifest_json, new.manifest_json);
    assert_eq!(stored.results_hash, new.results_hash);
    assert_eq!(stored.created_at, new.created_at);
    assert!(stored.results == results, "results differ");

    let list = store.runs().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].results_len, 1_000_000);
    assert_eq!(list[0].results_hash, new.results_hash);
}

#[test]
fn identical_runs_get_distinct_ids() {
    let dir = TempDir::new("run-distinct");
    let mut store = dir.open();
    let new = run("eve", "{}", b"x");
    let first = store.record_run(new.clone()).unwrap();
    let second = store.record_run(new).unwrap();
    assert_ne!(first, second);
    assert_eq!(store.runs().unwrap().len(), 2);
}

#[test]
fn runs_cannot_be_updated_or_deleted() {
    let dir = TempDir::new("run-immutable");
    let mut store = dir.open();
    let id = store.record_run(run("eve", "{}", b"original")).unwrap();
    let raw = dir.raw();
    assert!(aborted_by_trigger(raw.execute(
        "UPDATE runs SET results = x'00' WHERE id = ?1",
        [&id]
    )));
    assert!(aborted_by_trigger(
        raw.execute("UPDATE runs SET kind = 'nii'", [])
    ));
    assert!(aborted_by_trigger(raw.execute("DELETE FROM runs", [])));
    assert_eq!(store.run(&id).unwrap().results, b"original");
}

#[test]
fn an_unknown_run_is_not_found_and_bad_input_is_refused() {
    let dir = TempDir::new("run-errors");
    let mut store = dir.open();
    assert!(matches!(
        store.run("run-0000000000000000"),
        Err(StoreError::NotFound {
            object: ObjectKind::Run,
            ..
        })
    ));
    let mut no_kind = run("", "{}", b"");
    no_kind.kind.clear();
    assert!(matches!(
        store.record_run(no_kind),
        Err(StoreError::InvalidInput { field: "kind", .. })
    ));
    assert!(store.runs().unwrap().is_empty());
    assert!(store.audit().unwrap().is_empty());
}
