//! Several connections on one file: readers never see half a snapshot, and concurrent
//! writers keep one unbroken audit chain.

use std::thread;

use almanac_store::Storage;

use crate::support::{hash_of, positions, run, snapshot, TempDir};

const SNAPSHOTS: usize = 8;
const POSITIONS: usize = 25_000;

#[test]
fn a_reader_never_sees_a_partial_snapshot() {
    let dir = TempDir::new("concurrent-reader");
    drop(dir.open());
    let path = dir.db();
    let writer = thread::spawn(move || {
        let mut store = almanac_store::SqliteStore::open(&path).unwrap();
        let rows = positions(POSITIONS);
        for i in 0..SNAPSHOTS {
            let hash = hash_of(&format!("concurrent-{i}"));
            store
                .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", rows.clone()))
                .unwrap();
        }
    });

    let reader = dir.open();
    let mut passes = 0;
    let mut most_seen = 0;
    loop {
        let done = writer.is_finished();
        let listed = reader.snapshots().unwrap();
        for info in &listed {
            assert_eq!(info.positions, POSITIONS);
            let stored = reader.snapshot_positions(&info.id).unwrap();
            assert_eq!(stored.len(), info.positions, "{} seen partially", info.id);
        }
        assert!(listed.len() >= most_seen, "a snapshot disappeared");
        most_seen = listed.len();
        passes += 1;
        if done {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(most_seen, SNAPSHOTS);
    assert!(passes >= 2);
    assert!(reader.verify_audit().unwrap().ok);
}

#[test]
fn concurrent_writers_keep_one_chain() {
    let dir = TempDir::new("concurrent-writers");
    drop(dir.open());
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let path = dir.db();
            thread::spawn(move || {
                let mut store = almanac_store::SqliteStore::open(&path).unwrap();
                for i in 0..20 {
                    store
                        .record_run(&run(
                            "eve",
                            &format!("{{\"writer\":{w},\"run\":{i}}}"),
                            b"r",
                        ))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = dir.open();
    let report = store.verify_audit().unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.entries, 60);
    assert_eq!(store.runs().unwrap().len(), 60);
}
