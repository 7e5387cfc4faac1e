//! Opening files: creation, schema version, repeated opening, refusal of unknown files.

use almanac_store::{SqliteStore, Storage, StoreError};

use crate::support::{hash_of, positions, snapshot, TempDir};

fn schema(raw: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut statement = raw
        .prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY name")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn open_creates_the_file_in_wal_mode_and_records_the_version() {
    let dir = TempDir::new("migration-create");
    assert!(!dir.db().exists());
    let store = dir.open();
    assert!(dir.db().exists());
    assert_eq!(store.path(), dir.db());
    let supported = i64::from(SqliteStore::supported_schema_version());
    assert!(supported >= 1);
    assert_eq!(store.schema_version().unwrap(), supported);

    let raw = dir.raw();
    let user_version: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, supported);
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let triggers: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 16, "UPDATE and DELETE triggers on eight tables");
}

#[test]
fn opening_an_existing_file_again_changes_nothing() {
    let dir = TempDir::new("migration-reopen");
    let mut store = dir.open();
    let hash = hash_of("file");
    store
        .import_snapshot(snapshot(&hash, "2026-11-01T08:00:00Z", positions(10)))
        .unwrap();
    drop(store);
    let before = schema(&dir.raw());

    for _ in 0..2 {
        let store = dir.open();
        assert_eq!(
            store.schema_version().unwrap(),
            i64::from(SqliteStore::supported_schema_version())
        );
        assert_eq!(store.snapshots().unwrap().len(), 1);
        assert!(store.verify_audit().unwrap().ok);
    }
    assert_eq!(schema(&dir.raw()), before);

    // Two handles open at once are fine too.
    let first = dir.open();
    let second = dir.open();
    assert_eq!(first.snapshots().unwrap(), second.snapshots().unwrap());
}

#[test]
fn a_file_from_a_newer_build_is_refused() {
    let dir = TempDir::new("migration-newer");
    drop(dir.open());
    dir.raw().pragma_update(None, "user_version", 999).unwrap();
    match SqliteStore::open(&dir.db()) {
        Err(StoreError::SchemaTooNew {
            found: 999,
            supported,
        }) => {
            assert_eq!(supported, SqliteStore::supported_schema_version());
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = TempDir::new("migration-garbage");
    std::fs::write(dir.db(), b"date,amount\n2026-01-01,100\n".repeat(100)).unwrap();
    match SqliteStore::open(&dir.db()) {
        Err(StoreError::Open { path, .. }) => assert_eq!(path, dir.db()),
        other => panic!("expected an open error, got {other:?}"),
    }
}

#[test]
fn a_missing_directory_is_an_open_error() {
    let dir = TempDir::new("migration-missing-dir");
    let path = dir.path().join("no").join("such").join("store.sqlite");
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Open { .. })
    ));
}
