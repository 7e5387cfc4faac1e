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
    let id = store.record_run(&new).unwrap().id;
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

/// Results encoded as they were written record the run `record_run` records with them as
/// bytes: the same results, hash and length read back, and the audit chain verifies. Results
/// given both ways are refused.
#[test]
fn a_run_with_results_encoded_as_written_is_the_same_run() {
    use std::io::Write;
    let dir = TempDir::new("run-encoded");
    let mut store = dir.open();
    let results: Vec<u8> = (0..3_000_000u32)
        .map(|i| b"{}[],:0123456789"[(i % 17 % 16) as usize])
        .collect();
    let mut new = run("irrbb", r#"{"snapshot":"bs-1"}"#, &results);
    new.results_hash = String::new();
    let whole = store.record_run(&new).unwrap();
    let mut w = almanac_store::ResultsWriter::new();
    for piece in results.chunks(65_536) {
        w.write_all(piece).unwrap();
    }
    let encoded = w.finish().unwrap();
    assert!(matches!(
        store.record_encoded_run(&new, encoded.clone()),
        Err(StoreError::InvalidInput {
            field: "results",
            ..
        })
    ));
    new.results.clear();
    let streamed = store.record_encoded_run(&new, encoded).unwrap();
    assert_eq!(streamed.results_hash, whole.results_hash);
    assert_eq!(streamed.results_len, whole.results_len);
    assert_ne!(streamed.id, whole.id, "two runs");
    let back = store.run(&streamed.id).unwrap();
    assert!(back.results == results, "results differ");
    assert_eq!(back.results_hash, whole.results_hash);
    let audit = store.verify_audit().unwrap();
    assert!(audit.ok, "{audit:?}");
}

#[test]
fn identical_runs_get_distinct_ids() {
    let dir = TempDir::new("run-distinct");
    let mut store = dir.open();
    let new = run("eve", "{}", b"x");
    let first = store.record_run(&new).unwrap().id;
    let second = store.record_run(&new).unwrap().id;
    assert_ne!(first, second);
    assert_eq!(store.runs().unwrap().len(), 2);
}

#[test]
fn runs_cannot_be_updated_or_deleted() {
    let dir = TempDir::new("run-immutable");
    let mut store = dir.open();
    let id = store.record_run(&run("eve", "{}", b"original")).unwrap().id;
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
        store.record_run(&no_kind),
        Err(StoreError::InvalidInput { field: "kind", .. })
    ));
    assert!(store.runs().unwrap().is_empty());
    assert!(store.audit().unwrap().is_empty());
}

/// Results of `n` bytes that look like a JSON report (they compress as one does).
fn report_like(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 64);
    let mut k = 0u64;
    while out.len() < n {
        k = k.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let line = format!(
            "{{\"contract_id\":\"MORT-{:07}\",\"pv\":{{\"base\":{}}}}},\n",
            out.len() / 60,
            (k >> 11) as f64 / 1e6
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(n);
    out
}

#[test]
fn large_results_are_stored_compressed_and_read_back_as_given() {
    let dir = TempDir::new("run-compressed");
    let mut store = dir.open();
    let results = report_like(3 << 20);
    let id = store.record_run(&run("irrbb", "{}", &results)).unwrap().id;
    let (stored, encoding, len): (i64, String, i64) = dir
        .raw()
        .query_row(
            "SELECT length(results), results_encoding, results_len FROM runs WHERE id = ?1",
            [&id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(encoding, "zstd");
    assert_eq!(len, results.len() as i64);
    assert!(stored < len / 2, "{stored} bytes stored for {len}");
    assert!(store.run(&id).unwrap().results == results, "results differ");
    assert_eq!(store.runs().unwrap()[0].results_len, results.len() as u64);
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{:#?}", report.problems);
}

#[test]
fn damaged_compressed_results_are_an_error_and_an_audit_finding() {
    let dir = TempDir::new("run-damaged");
    let mut store = dir.open();
    let id = store
        .record_run(&run("irrbb", "{}", &report_like(2 << 20)))
        .unwrap()
        .id;
    let raw = dir.raw();
    raw.execute_batch("DROP TRIGGER runs_no_update;").unwrap();
    raw.execute(
        "UPDATE runs SET results = substr(results, 1, 1000) WHERE id = ?1",
        [&id],
    )
    .unwrap();
    let err = store.run(&id).unwrap_err();
    assert!(matches!(err, StoreError::Internal { .. }), "{err:?}");
    assert!(err.to_string().contains(&id), "{err}");
    let report = store.verify_audit().unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with(&format!("run {id}: ")) && p.contains("damaged")),
        "{:#?}",
        report.problems
    );
}

#[test]
fn runs_recorded_by_schema_version_1_read_back_after_the_upgrade() {
    let dir = TempDir::new("run-v1");
    {
        // A file as version 1 left it, with a run recorded then.
        let raw = dir.raw();
        raw.execute_batch(include_str!("../../migrations/0001_initial.sql"))
            .unwrap();
        raw.pragma_update(None, "user_version", 1).unwrap();
        raw.execute(
            "INSERT INTO runs (id, kind, created_at, manifest_json, results_hash, results)
             VALUES ('run-0000000000000001', 'eve', '2026-01-01T00:00:00Z', '{}', 'h', ?1)",
            [b"{\"eve\":1}".as_slice()],
        )
        .unwrap();
    }
    let store = dir.open();
    assert_eq!(
        store.schema_version().unwrap(),
        i64::from(almanac_store::SqliteStore::supported_schema_version())
    );
    let r = store.run("run-0000000000000001").unwrap();
    assert_eq!(r.results, b"{\"eve\":1}");
    assert_eq!(store.runs().unwrap()[0].results_len, 9);
}

/// A run recorded without a hash of its own gets the store's SHA-256 of its results, the one
/// the audit entry records, and `audit verify` finds nothing wrong with it.
#[test]
fn a_run_without_a_hash_gets_the_stores_sha256() {
    let dir = TempDir::new("run-store-hash");
    let mut store = dir.open();
    let mut new = run("irrbb", "{}", b"abc");
    new.results_hash.clear();
    let info = store.record_run(&new).unwrap();
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(info.results_hash, abc);
    assert_eq!(info.results_len, 3);
    assert_eq!(store.run(&info.id).unwrap().results_hash, abc);
    assert_eq!(store.runs().unwrap(), vec![info]);
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{report:?}");
}
