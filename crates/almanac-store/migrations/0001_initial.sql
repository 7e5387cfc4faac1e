-- Schema version 1: balance-sheet snapshots, documents, runs and the audit log.
--
-- Applied once, in one transaction, by `migration::migrate`, which then sets
-- `PRAGMA user_version = 1`. Never edit this file after it has been released: add a new
-- migration instead (see `crates/almanac-store/src/migration.rs`).
--
-- Every table is append-only. The triggers at the end abort any UPDATE or DELETE, so
-- immutability holds for every client of the file, not only for this crate.

-- One row per imported balance-sheet file. `key` is an internal surrogate key that keeps the
-- position rows small; `id` ("bs-" + 16 hex of `content_hash`) is the public identifier.
CREATE TABLE snapshots (
    key          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    as_of        TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    content_hash TEXT    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    positions    INTEGER NOT NULL CHECK (positions >= 0),
    rejected     INTEGER NOT NULL CHECK (rejected >= 0)
) STRICT;

CREATE INDEX snapshots_by_time ON snapshots (created_at, id);

-- The accepted positions of a snapshot. `ordinal` is the 0-based place in row order (stable:
-- equal source rows keep the caller's order); contract ids are unique within a snapshot.
CREATE TABLE positions (
    snapshot_key INTEGER NOT NULL REFERENCES snapshots (key),
    ordinal      INTEGER NOT NULL,
    source_row   INTEGER NOT NULL,
    contract_id  TEXT    NOT NULL,
    json         TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX positions_by_ordinal ON positions (snapshot_key, ordinal);
CREATE UNIQUE INDEX positions_by_contract ON positions (snapshot_key, contract_id);

-- The rejected input rows of a snapshot, with the reason, in row order.
CREATE TABLE rejects (
    snapshot_key INTEGER NOT NULL REFERENCES snapshots (key),
    ordinal      INTEGER NOT NULL,
    source_row   INTEGER NOT NULL,
    column_name  TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    PRIMARY KEY (snapshot_key, ordinal)
) STRICT;

-- Content-addressed, versioned documents: `id` = kind prefix + sha256 of `body`; `parent`
-- is the previous version of the same kind and name (NULL for a first version).
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('market', 'scenario_set', 'assumptions')),
    name       TEXT NOT NULL,
    parent     TEXT REFERENCES documents (id),
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reason     TEXT NOT NULL,
    body       TEXT NOT NULL
) STRICT;

CREATE INDEX documents_by_kind ON documents (kind, created_at, id);
CREATE INDEX documents_by_time ON documents (created_at, id);

-- Recorded runs: the manifest that describes the inputs and the results blob.
CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    manifest_json TEXT NOT NULL,
    results_hash  TEXT NOT NULL,
    results       BLOB NOT NULL
) STRICT;

CREATE INDEX runs_by_time ON runs (created_at, id);

-- The hash-chained audit log: hash = sha256(prev_hash || canonical entry); see `audit.rs`.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    at          TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_by_object ON audit_log (object_id);

-- Immutability. Named <table>_no_update / <table>_no_delete.
CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
CREATE TRIGGER snapshots_no_delete BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;

CREATE TRIGGER positions_no_update BEFORE UPDATE ON positions
BEGIN SELECT RAISE(ABORT, 'positions are immutable'); END;
CREATE TRIGGER positions_no_delete BEFORE DELETE ON positions
BEGIN SELECT RAISE(ABORT, 'positions are immutable'); END;

CREATE TRIGGER rejects_no_update BEFORE UPDATE ON rejects
BEGIN SELECT RAISE(ABORT, 'rejects are immutable'); END;
CREATE TRIGGER rejects_no_delete BEFORE DELETE ON rejects
BEGIN SELECT RAISE(ABORT, 'rejects are immutable'); END;

CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are immutable'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are immutable'); END;

CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'runs are immutable'); END;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
