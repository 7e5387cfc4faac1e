//! Schema migrations: an ordered list of SQL scripts embedded in the binary, tracked with
//! `PRAGMA user_version`.
//!
//! Script `n` takes the schema from version `n − 1` to `n`. Each runs in its own `BEGIN
//! IMMEDIATE` transaction together with the `user_version` update, so a crash or a failing
//! script leaves the file at the previous version, and two processes opening a new file at
//! once apply each script once (the second waits for the write lock, then re-reads the
//! version). Released scripts are never edited; a change of schema is a new script.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// One migration script.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The schema version after the script: 1, 2, 3, … in list order.
    pub(crate) version: u32,
    /// The SQL, applied with `execute_batch`.
    pub(crate) sql: &'static str,
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_compressed_results.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_snapshot_facts.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_position_forms.sql"),
    },
];

/// The schema version this build writes.
pub(crate) fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Reads `PRAGMA user_version`.
pub(crate) fn schema_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Applies the migrations the file lacks; returns the resulting version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &mut Connection, migrations: &[Migration]) -> Result<u32, StoreError> {
    let latest = migrations.last().map_or(0, |m| m.version);
    for migration in migrations {
        let fail = |source: rusqlite::Error| StoreError::Migration {
            version: migration.version,
            source: Box::new(source),
        };
        // Cheap check outside a transaction, so opening an up-to-date store takes no write lock.
        let current = schema_version(conn).map_err(fail)?;
        check_not_newer(current, latest)?;
        if current >= i64::from(migration.version) {
            continue;
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        // Another process may have migrated while we waited for the lock.
        let current = schema_version(&tx).map_err(fail)?;
        if current >= i64::from(migration.version) {
            continue;
        }
        if current != i64::from(migration.version) - 1 {
            return Err(StoreError::internal(format!(
                "schema version {current} cannot be migrated by script {}",
                migration.version
            )));
        }
        tx.execute_batch(migration.sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    let current =
        schema_version(conn).map_err(StoreError::backend("reading the schema version"))?;
    check_not_newer(current, latest)?;
    u32::try_from(current)
        .map_err(|_| StoreError::internal(format!("schema version {current} is negative")))
}

fn check_not_newer(found: i64, supported: u32) -> Result<(), StoreError> {
    if found > i64::from(supported) {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A fresh database file in the system temp dir, removed (with its WAL files) on drop.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "almanac-store-unit-{}-{name}.sqlite",
                std::process::id()
            ));
            let db = TempDb(path);
            db.remove();
            db
        }

        fn open(&self) -> Connection {
            Connection::open(&self.0).unwrap()
        }

        fn remove(&self) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = self.0.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove();
        }
    }

    fn table_exists(conn: &Connection, name: &str) -> bool {
        conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    }

    #[test]
    fn versions_are_consecutive_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1);
        }
        assert_eq!(latest_version() as usize, MIGRATIONS.len());
    }

    #[test]
    fn every_script_applies_once() {
        let db = TempDb::new("apply-once");
        let mut conn = db.open();
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        assert!(table_exists(&conn, "audit_log"));
    }

    #[test]
    fn a_failing_script_leaves_the_previous_version() {
        let db = TempDb::new("failing-script");
        let mut conn = db.open();
        let scripts = [
            Migration {
                version: 1,
                sql: "CREATE TABLE one (x INTEGER);",
            },
            Migration {
                version: 2,
                sql: "CREATE TABLE two (x INTEGER); SELECT * FROM missing;",
            },
        ];
        match migrate_with(&mut conn, &scripts) {
            Err(StoreError::Migration { version: 2, .. }) => {}
            other => panic!("expected migration 2 to fail, got {other:?}"),
        }
        drop(conn);
        let conn = db.open();
        assert_eq!(schema_version(&conn).unwrap(), 1);
        assert!(table_exists(&conn, "one"));
        assert!(!table_exists(&conn, "two"));
    }

    #[test]
    fn a_newer_file_is_refused() {
        let db = TempDb::new("newer");
        let mut conn = db.open();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}
