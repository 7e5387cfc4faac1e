//! [`SqliteStore`]: the [`Storage`] interface on an embedded SQLite file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::audit::{verify_chain, AuditAction};
use crate::digest::sha256_hex;
use crate::document::{self, DocumentDetail};
use crate::migration;
use crate::run::{self, EncodedResults, RunDetail};
use crate::snapshot::{self, RowsDigest, SnapshotDetail};
use crate::{
    AuditEntry, AuditReport, Document, DocumentInfo, DocumentKind, FormBatch, FormEntry,
    ImportOutcome, NewDocument, NewRun, NewSnapshot, ObjectKind, Reject, Run, RunInfo,
    SnapshotInfo, Storage, StoreError, StoredPosition, GENESIS_HASH,
};

/// How long a call waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The store on one SQLite file, through one connection.
///
/// Open as many as needed, in one process or several: SQLite's write-ahead log lets readers
/// work while one writer commits, and each writer waits (up to 10 s) for the lock. Every
/// reader sees whole committed calls only.
///
/// # Settings
/// `journal_mode = WAL`, `synchronous = FULL` (a committed call survives a power cut, not
/// only a crash), `foreign_keys = ON`, a 10 s busy timeout.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file if it is missing, and brings its schema up
    /// to date.
    ///
    /// # Errors
    /// [`StoreError::Open`] if the file cannot be opened or set up (missing directory, not a
    /// database, WAL refused); [`StoreError::Migration`] if a migration fails (the file keeps
    /// its previous version); [`StoreError::SchemaTooNew`] for a file written by a newer build.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source: rusqlite::Error| StoreError::Open {
            path: path.to_owned(),
            source: Box::new(source),
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: path.to_owned(),
                source: format!("the file refused WAL mode (journal mode is {mode})").into(),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        migration::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// The file this store was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file (`PRAGMA user_version`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the database fails.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migration::schema_version(&self.conn)
            .map_err(StoreError::backend("reading the schema version"))
    }

    /// The schema version this build creates and understands.
    pub fn supported_schema_version() -> u32 {
        migration::latest_version()
    }

    fn write_transaction(
        &mut self,
        operation: &'static str,
    ) -> Result<Transaction<'_>, StoreError> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::backend(operation))
    }

    /// A read transaction, so that several queries see one state of the file.
    fn read_transaction(&self, operation: &'static str) -> Result<Transaction<'_>, StoreError> {
        self.conn
            .unchecked_transaction()
            .map_err(StoreError::backend(operation))
    }

    /// Records a run whose results are encoded (the work of [`Storage::record_run`] and
    /// [`Storage::record_encoded_run`] after their checks).
    fn insert_run(&mut self, new: &NewRun, results: EncodedResults) -> Result<RunInfo, StoreError> {
        let results_hash = if new.results_hash.is_empty() {
            results.sha256.clone()
        } else {
            new.results_hash.clone()
        };
        let results_len = i64::try_from(results.len)
            .map_err(|_| StoreError::invalid("results", "larger than 2^63 bytes"))?;
        let tx = self.write_transaction(RECORDING)?;
        let seq = next_audit_seq(&tx, RECORDING)?;
        let id = run::run_id(new, seq);
        tx.execute(
            "INSERT INTO runs (id, kind, created_at, manifest_json, results_hash, results,
                               results_encoding, results_len)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                new.kind,
                new.created_at,
                new.manifest_json,
                results_hash,
                results.stored,
                results.encoding.name(),
                results_len,
            ],
        )
        .map_err(StoreError::backend(RECORDING))?;
        let detail = RunDetail {
            kind: new.kind.clone(),
            results_hash: results_hash.clone(),
            results_len: results.len,
            results_sha256: results.sha256,
            manifest_sha256: sha256_hex(new.manifest_json.as_bytes()),
        };
        append_audit(
            &tx,
            &new.created_at,
            AuditAction::RecordRun,
            &id,
            &to_detail_json(&detail)?,
            RECORDING,
        )?;
        tx.commit().map_err(StoreError::backend(RECORDING))?;
        Ok(RunInfo {
            id,
            kind: new.kind.clone(),
            created_at: new.created_at.clone(),
            results_hash,
            results_len: results.len,
        })
    }
}

const IMPORTING: &str = "importing a snapshot";
const PUTTING: &str = "storing a document";
const RECORDING: &str = "recording a run";
const READING_SNAPSHOTS: &str = "reading snapshots";
const READING_DOCUMENTS: &str = "reading documents";
const READING_RUNS: &str = "reading runs";
const READING_AUDIT: &str = "reading the audit log";

impl Storage for SqliteStore {
    fn import_snapshot(
        &mut self,
        mut snapshot: NewSnapshot<'_>,
    ) -> Result<ImportOutcome, StoreError> {
        snapshot::prepare(&mut snapshot)?;
        let id = snapshot::snapshot_id(snapshot.content_hash);
        let db = StoreError::backend(IMPORTING);
        let tx = self.write_transaction(IMPORTING)?;

        let existing = tx
            .query_row(
                "SELECT content_hash, positions, rejected FROM snapshots WHERE id = ?1",
                [&id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        if let Some((existing_hash, positions, rejected)) = existing {
            if existing_hash != snapshot.content_hash {
                return Err(StoreError::SnapshotIdCollision {
                    id,
                    existing_hash,
                    new_hash: snapshot.content_hash.to_owned(),
                });
            }
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(ImportOutcome {
                snapshot_id: id,
                imported: count_from_sql(positions, "snapshots.positions")?,
                rejected: count_from_sql(rejected, "snapshots.rejected")?,
                already_present: true,
            });
        }

        let positions = snapshot.positions.len();
        let rejected = snapshot.rejects.len();
        tx.execute(
            "INSERT INTO snapshots (id, as_of, source, content_hash, created_at, positions, rejected)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                snapshot.as_of,
                snapshot.source,
                snapshot.content_hash,
                snapshot.created_at,
                count_to_sql(positions)?,
                count_to_sql(rejected)?,
            ],
        )
        .map_err(StoreError::backend(IMPORTING))?;
        let key = tx.last_insert_rowid();

        let mut digest = RowsDigest::new();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO positions (snapshot_key, ordinal, source_row, contract_id, json)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(StoreError::backend(IMPORTING))?;
            for (ordinal, position) in snapshot.positions.iter().enumerate() {
                insert
                    .execute(params![
                        key,
                        count_to_sql(ordinal)?,
                        row_to_sql(position.row)?,
                        position.contract_id,
                        position.json,
                    ])
                    .map_err(StoreError::backend(IMPORTING))?;
                digest.position(position.row, &position.contract_id, &position.json);
            }
            let mut insert = tx
                .prepare(
                    "INSERT INTO rejects (snapshot_key, ordinal, source_row, column_name, value, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(StoreError::backend(IMPORTING))?;
            for (ordinal, reject) in snapshot.rejects.iter().enumerate() {
                insert
                    .execute(params![
                        key,
                        count_to_sql(ordinal)?,
                        row_to_sql(reject.row)?,
                        reject.column,
                        reject.value,
                        reject.reason,
                    ])
                    .map_err(StoreError::backend(IMPORTING))?;
                digest.reject(reject);
            }
            let mut insert = tx
                .prepare(
                    "INSERT INTO position_forms (snapshot_key, ordinal, form) VALUES (?1, ?2, ?3)",
                )
                .map_err(StoreError::backend(IMPORTING))?;
            for (ordinal, position) in snapshot.positions.iter().enumerate() {
                if let Some(form) = &position.form {
                    insert
                        .execute(params![key, count_to_sql(ordinal)?, form])
                        .map_err(StoreError::backend(IMPORTING))?;
                    digest.form(ordinal as u64, form);
                }
            }
        }

        if let Some(facts) = &snapshot.facts {
            tx.execute(
                "INSERT INTO snapshot_facts (snapshot_key, facts) VALUES (?1, ?2)",
                params![key, facts],
            )
            .map_err(StoreError::backend(IMPORTING))?;
        }
        let detail = SnapshotDetail {
            as_of: snapshot.as_of.to_owned(),
            source: snapshot.source.to_owned(),
            content_hash: snapshot.content_hash.to_owned(),
            positions: positions as u64,
            rejected: rejected as u64,
            rows_sha256: digest.finish_hex(),
        };
        append_audit(
            &tx,
            snapshot.created_at,
            AuditAction::ImportSnapshot,
            &id,
            &to_detail_json(&detail)?,
            IMPORTING,
        )?;
        tx.commit().map_err(StoreError::backend(IMPORTING))?;
        Ok(ImportOutcome {
            snapshot_id: id,
            imported: positions,
            rejected,
            already_present: false,
        })
    }

    fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let db = StoreError::backend;
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, as_of, source, content_hash, created_at, positions, rejected
                 FROM snapshots ORDER BY created_at, id",
            )
            .map_err(db(READING_SNAPSHOTS))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    SnapshotInfo {
                        id: row.get(0)?,
                        as_of: row.get(1)?,
                        source: row.get(2)?,
                        content_hash: row.get(3)?,
                        created_at: row.get(4)?,
                        positions: 0,
                        rejected: 0,
                    },
                    row.get::<_, i64>(5)?,
                    row.get::<_, i64>(6)?,
                ))
            })
            .map_err(db(READING_SNAPSHOTS))?;
        let mut out = Vec::new();
        for row in rows {
            let (mut info, positions, rejected) = row.map_err(db(READING_SNAPSHOTS))?;
            info.positions = count_from_sql(positions, "snapshots.positions")?;
            info.rejected = count_from_sql(rejected, "snapshots.rejected")?;
            out.push(info);
        }
        Ok(out)
    }

    fn snapshot_positions(&self, id: &str) -> Result<Vec<StoredPosition>, StoreError> {
        let tx = self.read_transaction(READING_SNAPSHOTS)?;
        let key = snapshot_key(&tx, id)?;
        read_positions(&tx, key)
    }

    fn snapshot_positions_batched(
        &self,
        id: &str,
        batch: usize,
        each: &mut dyn FnMut(Vec<StoredPosition>),
    ) -> Result<(), StoreError> {
        let tx = self.read_transaction(READING_SNAPSHOTS)?;
        let key = snapshot_key(&tx, id)?;
        read_positions_into(&tx, key, batch.max(1), each)
    }

    fn snapshot_forms_batched(
        &self,
        id: &str,
        batch: usize,
        each: &mut dyn FnMut(FormBatch),
    ) -> Result<bool, StoreError> {
        let tx = self.read_transaction(READING_SNAPSHOTS)?;
        let key = snapshot_key(&tx, id)?;
        read_forms_into(&tx, key, batch.max(1), each)
    }

    fn snapshot_facts(&self, id: &str) -> Result<Option<String>, StoreError> {
        let tx = self.read_transaction(READING_SNAPSHOTS)?;
        let key = snapshot_key(&tx, id)?;
        tx.query_row(
            "SELECT facts FROM snapshot_facts WHERE snapshot_key = ?1",
            [key],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::backend(READING_SNAPSHOTS))
    }

    fn snapshot_rejects(&self, id: &str) -> Result<Vec<Reject>, StoreError> {
        let tx = self.read_transaction(READING_SNAPSHOTS)?;
        let key = snapshot_key(&tx, id)?;
        read_rejects(&tx, key)
    }

    fn put_document(&mut self, new: NewDocument) -> Result<String, StoreError> {
        document::validate(&new)?;
        let id = document::document_id(new.kind, &new.body);
        let db = StoreError::backend(PUTTING);
        let tx = self.write_transaction(PUTTING)?;
        let exists = tx
            .query_row("SELECT 1 FROM documents WHERE id = ?1", [&id], |_| Ok(()))
            .optional()
            .map_err(db)?
            .is_some();
        if exists {
            return Ok(id);
        }
        if let Some(parent) = &new.parent {
            let found = tx
                .query_row(
                    "SELECT kind, name FROM documents WHERE id = ?1",
                    [parent],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .optional()
                .map_err(StoreError::backend(PUTTING))?;
            let Some((parent_kind, parent_name)) = found else {
                return Err(StoreError::ParentNotFound {
                    parent: parent.clone(),
                });
            };
            if parent_kind != new.kind.as_str() || parent_name != new.name {
                return Err(StoreError::ParentMismatch {
                    parent: parent.clone(),
                    parent_kind,
                    parent_name,
                    kind: new.kind.as_str().to_owned(),
                    name: new.name.clone(),
                });
            }
        }
        tx.execute(
            "INSERT INTO documents (id, kind, name, parent, author, created_at, reason, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                new.kind.as_str(),
                new.name,
                new.parent,
                new.author,
                new.created_at,
                new.reason,
                new.body,
            ],
        )
        .map_err(StoreError::backend(PUTTING))?;
        let detail = DocumentDetail {
            kind: new.kind.as_str().to_owned(),
            name: new.name.clone(),
            parent: new.parent.clone(),
            author: new.author.clone(),
            reason: new.reason.clone(),
            body_sha256: sha256_hex(new.body.as_bytes()),
        };
        append_audit(
            &tx,
            &new.created_at,
            AuditAction::PutDocument,
            &id,
            &to_detail_json(&detail)?,
            PUTTING,
        )?;
        tx.commit().map_err(StoreError::backend(PUTTING))?;
        Ok(id)
    }

    fn document(&self, id: &str) -> Result<Document, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {DOCUMENT_COLUMNS}, body FROM documents WHERE id = ?1"),
                [id],
                |row| Ok((read_document_info(row)?, row.get::<_, String>(7)?)),
            )
            .optional()
            .map_err(StoreError::backend(READING_DOCUMENTS))?
            .ok_or_else(|| StoreError::NotFound {
                object: ObjectKind::Document,
                id: id.to_owned(),
            })
            .and_then(|(info, body)| {
                Ok(Document {
                    info: info.into_info()?,
                    body,
                })
            })
    }

    fn documents(&self, kind: Option<DocumentKind>) -> Result<Vec<DocumentInfo>, StoreError> {
        let db = StoreError::backend;
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents
                 WHERE ?1 IS NULL OR kind = ?1 ORDER BY created_at, id"
            ))
            .map_err(db(READING_DOCUMENTS))?;
        let rows = statement
            .query_map([kind.map(DocumentKind::as_str)], read_document_info)
            .map_err(db(READING_DOCUMENTS))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(db(READING_DOCUMENTS))?.into_info()?);
        }
        Ok(out)
    }

    fn history(&self, id: &str) -> Result<Vec<DocumentInfo>, StoreError> {
        let tx = self.read_transaction(READING_DOCUMENTS)?;
        let mut statement = tx
            .prepare(&format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?1"
            ))
            .map_err(StoreError::backend(READING_DOCUMENTS))?;
        let mut out: Vec<DocumentInfo> = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(id.to_owned());
        while let Some(current) = next {
            if !seen.insert(current.clone()) {
                return Err(StoreError::internal(format!(
                    "the parent links of document {id} form a cycle at {current}"
                )));
            }
            let info = statement
                .query_row([&current], read_document_info)
                .optional()
                .map_err(StoreError::backend(READING_DOCUMENTS))?;
            let Some(info) = info else {
                return Err(match out.last() {
                    None => StoreError::NotFound {
                        object: ObjectKind::Document,
                        id: id.to_owned(),
                    },
                    Some(child) => StoreError::internal(format!(
                        "document {} names parent {current}, which is missing",
                        child.id
                    )),
                });
            };
            let info = info.into_info()?;
            next = info.parent.clone();
            out.push(info);
        }
        Ok(out)
    }

    fn record_run(&mut self, new: &NewRun) -> Result<RunInfo, StoreError> {
        run::validate(new)?;
        let results = EncodedResults::encode(&new.results)?;
        self.insert_run(new, results)
    }

    fn record_encoded_run(
        &mut self,
        new: &NewRun,
        results: EncodedResults,
    ) -> Result<RunInfo, StoreError> {
        run::validate(new)?;
        if !new.results.is_empty() {
            return Err(StoreError::invalid(
                "results",
                "given twice: as bytes in the run and encoded",
            ));
        }
        self.insert_run(new, results)
    }

    fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        let db = StoreError::backend;
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, kind, created_at, results_hash,
                        coalesce(results_len, length(results))
                 FROM runs ORDER BY created_at, id",
            )
            .map_err(db(READING_RUNS))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    RunInfo {
                        id: row.get(0)?,
                        kind: row.get(1)?,
                        created_at: row.get(2)?,
                        results_hash: row.get(3)?,
                        results_len: 0,
                    },
                    row.get::<_, i64>(4)?,
                ))
            })
            .map_err(db(READING_RUNS))?;
        let mut out = Vec::new();
        for row in rows {
            let (mut info, len) = row.map_err(db(READING_RUNS))?;
            info.results_len = count_from_sql(len, "runs.results_len")? as u64;
            out.push(info);
        }
        Ok(out)
    }

    fn run(&self, id: &str) -> Result<Run, StoreError> {
        let (mut run, encoding, len): (Run, String, Option<i64>) = self
            .conn
            .query_row(
                "SELECT id, kind, created_at, manifest_json, results_hash, results,
                        results_encoding, results_len
                 FROM runs WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        Run {
                            id: row.get(0)?,
                            kind: row.get(1)?,
                            created_at: row.get(2)?,
                            manifest_json: row.get(3)?,
                            results_hash: row.get(4)?,
                            results: row.get(5)?,
                        },
                        row.get(6)?,
                        row.get(7)?,
                    ))
                },
            )
            .optional()
            .map_err(StoreError::backend(READING_RUNS))?
            .ok_or_else(|| StoreError::NotFound {
                object: ObjectKind::Run,
                id: id.to_owned(),
            })?;
        let encoding = run::Encoding::from_name(id, &encoding)?;
        let len = len
            .map(|n| count_from_sql(n, "runs.results_len").map(|n| n as u64))
            .transpose()?;
        run.results = run::decode(id, encoding, std::mem::take(&mut run.results), len)?;
        Ok(run)
    }

    fn audit(&self) -> Result<Vec<AuditEntry>, StoreError> {
        read_audit(&self.conn)
    }

    fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let tx = self.read_transaction(READING_AUDIT)?;
        let entries = read_audit(&tx)?;
        let mut problems = verify_chain(&entries);
        let mut coverage = Coverage::new(&entries, &mut problems);

        for snapshot in stored_snapshots(&tx)? {
            let entry = coverage.take(
                &mut problems,
                AuditAction::ImportSnapshot,
                ObjectKind::Snapshot,
                &snapshot.id,
            );
            if let Some(entry) = entry {
                verify_snapshot(&tx, &snapshot, entry, &mut problems)?;
            }
        }
        for document in stored_documents(&tx)? {
            let entry = coverage.take(
                &mut problems,
                AuditAction::PutDocument,
                ObjectKind::Document,
                &document.id,
            );
            if let Some(entry) = entry {
                verify_document(&document, entry, &mut problems);
            }
        }
        for run in stored_runs(&tx)? {
            let entry = coverage.take(
                &mut problems,
                AuditAction::RecordRun,
                ObjectKind::Run,
                &run.id,
            );
            if let Some(entry) = entry {
                verify_run(&run, entry, &mut problems);
            }
        }
        coverage.report_missing_objects(&mut problems);

        Ok(AuditReport {
            entries: entries.len(),
            ok: problems.is_empty(),
            problems,
            head_hash: entries.last().map(|e| e.hash.clone()),
        })
    }
}

/// Matches audit entries to the objects they record: each object needs exactly one entry,
/// and each entry an object.
struct Coverage<'e> {
    /// (action, object id) → the entries that record it, in log order.
    by_object: HashMap<(String, String), Vec<&'e AuditEntry>>,
}

impl<'e> Coverage<'e> {
    fn new(entries: &'e [AuditEntry], problems: &mut Vec<String>) -> Self {
        let mut by_object: HashMap<(String, String), Vec<&'e AuditEntry>> = HashMap::new();
        for entry in entries {
            if AuditAction::parse(&entry.action).is_none() {
                problems.push(format!(
                    "entry {}: unknown action {:?}",
                    entry.seq, entry.action
                ));
                continue;
            }
            by_object
                .entry((entry.action.clone(), entry.object_id.clone()))
                .or_default()
                .push(entry);
        }
        Coverage { by_object }
    }

    /// The entry recording an object, reporting a missing or repeated entry.
    fn take(
        &mut self,
        problems: &mut Vec<String>,
        action: AuditAction,
        object: ObjectKind,
        id: &str,
    ) -> Option<&'e AuditEntry> {
        let Some(list) = self
            .by_object
            .remove(&(action.as_str().to_owned(), id.to_owned()))
        else {
            problems.push(format!("{object} {id} has no audit entry"));
            return None;
        };
        if list.len() > 1 {
            let seqs: Vec<String> = list.iter().map(|e| e.seq.to_string()).collect();
            problems.push(format!(
                "{object} {id} has {} audit entries ({})",
                list.len(),
                seqs.join(", ")
            ));
        }
        list.first().copied()
    }

    /// Entries left over record objects that are not in the store.
    fn report_missing_objects(self, problems: &mut Vec<String>) {
        let mut left: Vec<&AuditEntry> = self.by_object.into_values().flatten().collect();
        left.sort_by_key(|entry| entry.seq);
        for entry in left {
            problems.push(format!(
                "entry {}: {} {} is not in the store",
                entry.seq, entry.action, entry.object_id
            ));
        }
    }
}

// ── audit log ──────────────────────────────────────────────────────────────────────────────

fn next_audit_seq(tx: &Transaction<'_>, operation: &'static str) -> Result<u64, StoreError> {
    Ok(last_audit(tx, operation)?.map_or(1, |(seq, _)| seq + 1))
}

fn last_audit(
    tx: &Transaction<'_>,
    operation: &'static str,
) -> Result<Option<(u64, String)>, StoreError> {
    let last = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()
        .map_err(StoreError::backend(operation))?;
    match last {
        None => Ok(None),
        Some((seq, hash)) => Ok(Some((seq_from_sql(seq)?, hash))),
    }
}

/// Appends one entry, in the caller's transaction.
fn append_audit(
    tx: &Transaction<'_>,
    at: &str,
    action: AuditAction,
    object_id: &str,
    detail_json: &str,
    operation: &'static str,
) -> Result<(), StoreError> {
    let (seq, prev_hash) = match last_audit(tx, operation)? {
        None => (1, GENESIS_HASH.to_owned()),
        Some((seq, hash)) => (seq + 1, hash),
    };
    let hash = crate::entry_hash(&prev_hash, seq, at, action.as_str(), object_id, detail_json);
    tx.execute(
        "INSERT INTO audit_log (seq, at, action, object_id, detail_json, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq_to_sql(seq)?,
            at,
            action.as_str(),
            object_id,
            detail_json,
            prev_hash,
            hash
        ],
    )
    .map_err(StoreError::backend(operation))?;
    Ok(())
}

fn read_audit(conn: &Connection) -> Result<Vec<AuditEntry>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare(
            "SELECT seq, at, action, object_id, detail_json, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )
        .map_err(db(READING_AUDIT))?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                AuditEntry {
                    seq: 0,
                    at: row.get(1)?,
                    action: row.get(2)?,
                    object_id: row.get(3)?,
                    detail_json: row.get(4)?,
                    prev_hash: row.get(5)?,
                    hash: row.get(6)?,
                },
            ))
        })
        .map_err(db(READING_AUDIT))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, mut entry) = row.map_err(db(READING_AUDIT))?;
        entry.seq = seq_from_sql(seq)?;
        out.push(entry);
    }
    Ok(out)
}

fn to_detail_json(detail: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(detail)
        .map_err(|e| StoreError::internal(format!("an audit detail did not serialise: {e}")))
}

fn parse_detail<T: serde::de::DeserializeOwned>(
    entry: &AuditEntry,
    problems: &mut Vec<String>,
) -> Option<T> {
    match serde_json::from_str(&entry.detail_json) {
        Ok(detail) => Some(detail),
        Err(e) => {
            problems.push(format!("entry {}: unreadable detail_json ({e})", entry.seq));
            None
        }
    }
}

// ── verification of objects against their entries ─────────────────────────────────────────

struct StoredSnapshot {
    key: i64,
    id: String,
    as_of: String,
    source: String,
    content_hash: String,
    positions: i64,
    rejected: i64,
}

fn stored_snapshots(conn: &Connection) -> Result<Vec<StoredSnapshot>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare(
            "SELECT key, id, as_of, source, content_hash, positions, rejected
             FROM snapshots ORDER BY key",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let rows = statement
        .query_map([], |row| {
            Ok(StoredSnapshot {
                key: row.get(0)?,
                id: row.get(1)?,
                as_of: row.get(2)?,
                source: row.get(3)?,
                content_hash: row.get(4)?,
                positions: row.get(5)?,
                rejected: row.get(6)?,
            })
        })
        .map_err(db(READING_SNAPSHOTS))?;
    rows.collect::<Result<_, _>>()
        .map_err(db(READING_SNAPSHOTS))
}

fn verify_snapshot(
    conn: &Connection,
    snapshot: &StoredSnapshot,
    entry: &AuditEntry,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let positions = read_positions(conn, snapshot.key)?;
    let rejects = read_rejects(conn, snapshot.key)?;
    let name = &snapshot.id;
    if i64::try_from(positions.len()) != Ok(snapshot.positions) {
        problems.push(format!(
            "snapshot {name} records {} positions but holds {}",
            snapshot.positions,
            positions.len()
        ));
    }
    if i64::try_from(rejects.len()) != Ok(snapshot.rejected) {
        problems.push(format!(
            "snapshot {name} records {} rejected rows but holds {}",
            snapshot.rejected,
            rejects.len()
        ));
    }
    if snapshot.id != snapshot::snapshot_id(&snapshot.content_hash) {
        problems.push(format!(
            "snapshot {name}: id does not match its content hash {}",
            snapshot.content_hash
        ));
    }
    let Some(detail) = parse_detail::<SnapshotDetail>(entry, problems) else {
        return Ok(());
    };
    let mut digest = RowsDigest::new();
    for position in &positions {
        digest.position(position.row, &position.contract_id, &position.json);
    }
    for reject in &rejects {
        digest.reject(reject);
    }
    for (ordinal, form) in read_forms(conn, snapshot.key)? {
        match u64::try_from(ordinal) {
            Ok(o) if ordinal < snapshot.positions => digest.form(o, &form),
            _ => problems.push(format!(
                "snapshot {name} holds a form for position {ordinal}, which it does not have"
            )),
        }
    }
    let differs = detail.as_of != snapshot.as_of
        || detail.source != snapshot.source
        || detail.content_hash != snapshot.content_hash
        || i64::try_from(detail.positions) != Ok(snapshot.positions)
        || i64::try_from(detail.rejected) != Ok(snapshot.rejected);
    if differs {
        problems.push(format!(
            "snapshot {name} differs from its audit entry {}",
            entry.seq
        ));
    }
    if detail.rows_sha256 != digest.finish_hex() {
        problems.push(format!(
            "snapshot {name}: stored rows differ from those recorded in audit entry {}",
            entry.seq
        ));
    }
    Ok(())
}

struct StoredDocument {
    id: String,
    kind: String,
    name: String,
    parent: Option<String>,
    author: String,
    reason: String,
    body_sha256: String,
}

fn stored_documents(conn: &Connection) -> Result<Vec<StoredDocument>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare("SELECT id, kind, name, parent, author, reason, body FROM documents ORDER BY id")
        .map_err(db(READING_DOCUMENTS))?;
    let rows = statement
        .query_map([], |row| {
            Ok(StoredDocument {
                id: row.get(0)?,
                kind: row.get(1)?,
                name: row.get(2)?,
                parent: row.get(3)?,
                author: row.get(4)?,
                reason: row.get(5)?,
                body_sha256: sha256_hex(row.get_ref(6)?.as_str()?.as_bytes()),
            })
        })
        .map_err(db(READING_DOCUMENTS))?;
    rows.collect::<Result<_, _>>()
        .map_err(db(READING_DOCUMENTS))
}

fn verify_document(document: &StoredDocument, entry: &AuditEntry, problems: &mut Vec<String>) {
    let id = &document.id;
    let expected_id = document
        .kind
        .parse::<DocumentKind>()
        .map(|kind| format!("{}{}", kind.id_prefix(), document.body_sha256));
    if expected_id.as_deref().ok() != Some(id.as_str()) {
        problems.push(format!(
            "document {id}: id does not match its kind and body"
        ));
    }
    let Some(detail) = parse_detail::<DocumentDetail>(entry, problems) else {
        return;
    };
    let recorded = DocumentDetail {
        kind: document.kind.clone(),
        name: document.name.clone(),
        parent: document.parent.clone(),
        author: document.author.clone(),
        reason: document.reason.clone(),
        body_sha256: document.body_sha256.clone(),
    };
    if detail != recorded {
        problems.push(format!(
            "document {id} differs from its audit entry {}",
            entry.seq
        ));
    }
}

struct StoredRun {
    id: String,
    /// What the audit entry should say, or why the results cannot be read back.
    detail: Result<RunDetail, String>,
}

fn stored_runs(conn: &Connection) -> Result<Vec<StoredRun>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare(
            "SELECT id, kind, results_hash, results, manifest_json, results_encoding,
                    results_len
             FROM runs ORDER BY id",
        )
        .map_err(db(READING_RUNS))?;
    let mut rows = statement.query([]).map_err(db(READING_RUNS))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db(READING_RUNS))? {
        let read = |row: &rusqlite::Row<'_>| -> rusqlite::Result<_> {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Vec<u8>>(3)?,
                sha256_hex(row.get_ref(4)?.as_str()?.as_bytes()),
                row.get::<_, String>(5)?,
                row.get::<_, Option<i64>>(6)?,
            ))
        };
        let (id, kind, results_hash, stored, manifest_sha256, encoding, len) =
            read(row).map_err(db(READING_RUNS))?;
        // Audited as given: the hash and length are of the decoded results. Results that
        // cannot be decoded are a finding of the audit, not a failure to run it.
        let decoded = run::Encoding::from_name(&id, &encoding)
            .and_then(|encoding| {
                let len = len
                    .map(|n| count_from_sql(n, "runs.results_len").map(|n| n as u64))
                    .transpose()?;
                run::decode(&id, encoding, stored, len)
            })
            .map_err(|e| e.to_string());
        out.push(StoredRun {
            detail: decoded.map(|results| RunDetail {
                kind,
                results_hash,
                results_len: results.len() as u64,
                results_sha256: sha256_hex(&results),
                manifest_sha256,
            }),
            id,
        });
    }
    Ok(out)
}

fn verify_run(run: &StoredRun, entry: &AuditEntry, problems: &mut Vec<String>) {
    let Some(detail) = parse_detail::<RunDetail>(entry, problems) else {
        return;
    };
    let stored = match &run.detail {
        Ok(d) => d,
        Err(reason) => {
            problems.push(format!("run {}: {reason}", run.id));
            return;
        }
    };
    if detail != *stored {
        problems.push(format!(
            "run {} differs from its audit entry {}",
            run.id, entry.seq
        ));
    }
}

// ── rows ───────────────────────────────────────────────────────────────────────────────────

fn snapshot_key(conn: &Connection, id: &str) -> Result<i64, StoreError> {
    conn.query_row("SELECT key FROM snapshots WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .optional()
    .map_err(StoreError::backend(READING_SNAPSHOTS))?
    .ok_or_else(|| StoreError::NotFound {
        object: ObjectKind::Snapshot,
        id: id.to_owned(),
    })
}

fn read_positions(conn: &Connection, key: i64) -> Result<Vec<StoredPosition>, StoreError> {
    let mut out = Vec::new();
    read_positions_into(conn, key, usize::MAX, &mut |mut batch| {
        out.append(&mut batch)
    })?;
    Ok(out)
}

/// The positions of snapshot `key` in row order, in batches of `batch`.
fn read_positions_into(
    conn: &Connection,
    key: i64,
    batch: usize,
    each: &mut dyn FnMut(Vec<StoredPosition>),
) -> Result<(), StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare_cached(
            "SELECT source_row, contract_id, json FROM positions
             WHERE snapshot_key = ?1 ORDER BY ordinal",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let rows = statement
        .query_map([key], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
        })
        .map_err(db(READING_SNAPSHOTS))?;
    let mut out = Vec::new();
    for row in rows {
        let (source_row, contract_id, json) = row.map_err(db(READING_SNAPSHOTS))?;
        out.push(StoredPosition {
            row: row_from_sql(source_row)?,
            contract_id,
            json,
            form: None,
        });
        if out.len() == batch {
            each(std::mem::take(&mut out));
        }
    }
    if !out.is_empty() {
        each(out);
    }
    Ok(())
}

/// The forms of snapshot `key` in row order, in batches of `batch`, the positions without
/// one in their places; `false` if the snapshot has no forms.
fn read_forms_into(
    conn: &Connection,
    key: i64,
    batch: usize,
    each: &mut dyn FnMut(FormBatch),
) -> Result<bool, StoreError> {
    let db = StoreError::backend;
    let any: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM position_forms WHERE snapshot_key = ?1)",
            [key],
            |row| row.get(0),
        )
        .map_err(db(READING_SNAPSHOTS))?;
    if !any {
        return Ok(false);
    }
    let total: i64 = conn
        .query_row(
            "SELECT positions FROM snapshots WHERE key = ?1",
            [key],
            |row| row.get(0),
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let mut forms = conn
        .prepare_cached(
            "SELECT ordinal, form FROM position_forms WHERE snapshot_key = ?1 ORDER BY ordinal",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let mut between = conn
        .prepare_cached(
            "SELECT source_row, contract_id, json FROM positions
             WHERE snapshot_key = ?1 AND ordinal >= ?2 AND ordinal < ?3 ORDER BY ordinal",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let mut out = FormBatch::default();
    // The positions from ordinal `next` up to `end` (exclusive), which have no form.
    let mut whole = |next: i64,
                     end: i64,
                     out: &mut FormBatch,
                     each: &mut dyn FnMut(FormBatch)|
     -> Result<(), StoreError> {
        if next >= end {
            return Ok(());
        }
        let rows = between
            .query_map(params![key, next, end], |row| {
                Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(db(READING_SNAPSHOTS))?;
        for row in rows {
            let (source_row, contract_id, json) = row.map_err(db(READING_SNAPSHOTS))?;
            out.entries.push(FormEntry::Json(StoredPosition {
                row: row_from_sql(source_row)?,
                contract_id,
                json,
                form: None,
            }));
            if out.entries.len() >= batch {
                each(std::mem::take(out));
            }
        }
        Ok(())
    };
    let mut next: i64 = 0;
    let mut rows = forms.query([key]).map_err(db(READING_SNAPSHOTS))?;
    while let Some(row) = rows.next().map_err(db(READING_SNAPSHOTS))? {
        let ordinal: i64 = row.get(0).map_err(db(READING_SNAPSHOTS))?;
        if ordinal >= total {
            // Only a change behind the store's back does this (`audit verify` names it).
            return Err(StoreError::internal(format!(
                "the snapshot holds a form for position {ordinal} but has {total} positions"
            )));
        }
        whole(next, ordinal, &mut out, each)?;
        let form = row
            .get_ref(1)
            .and_then(|v| v.as_blob().map_err(Into::into))
            .map_err(db(READING_SNAPSHOTS))?;
        let start = out.bytes.len();
        out.bytes.extend_from_slice(form);
        out.entries.push(FormEntry::Form(start..out.bytes.len()));
        if out.entries.len() >= batch {
            each(std::mem::take(&mut out));
        }
        next = ordinal + 1;
    }
    whole(next, total, &mut out, each)?;
    if !out.entries.is_empty() {
        each(out);
    }
    Ok(true)
}

/// The forms of snapshot `key` by ordinal, for the audit digest.
fn read_forms(conn: &Connection, key: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare_cached(
            "SELECT ordinal, form FROM position_forms WHERE snapshot_key = ?1 ORDER BY ordinal",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let rows = statement
        .query_map([key], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(db(READING_SNAPSHOTS))?;
    rows.collect::<Result<_, _>>()
        .map_err(db(READING_SNAPSHOTS))
}

fn read_rejects(conn: &Connection, key: i64) -> Result<Vec<Reject>, StoreError> {
    let db = StoreError::backend;
    let mut statement = conn
        .prepare_cached(
            "SELECT source_row, column_name, value, reason FROM rejects
             WHERE snapshot_key = ?1 ORDER BY ordinal",
        )
        .map_err(db(READING_SNAPSHOTS))?;
    let rows = statement
        .query_map([key], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .map_err(db(READING_SNAPSHOTS))?;
    let mut out = Vec::new();
    for row in rows {
        let (source_row, column, value, reason) = row.map_err(db(READING_SNAPSHOTS))?;
        out.push(Reject {
            row: row_from_sql(source_row)?,
            column,
            value,
            reason,
        });
    }
    Ok(out)
}

const DOCUMENT_COLUMNS: &str = "id, kind, name, parent, author, created_at, reason";

/// A document row as stored, before its kind is parsed.
struct DocumentRow {
    id: String,
    kind: String,
    name: String,
    parent: Option<String>,
    author: String,
    created_at: String,
    reason: String,
}

impl DocumentRow {
    fn into_info(self) -> Result<DocumentInfo, StoreError> {
        let kind = self.kind.parse().map_err(|_| {
            StoreError::internal(format!(
                "document {} has unknown kind {:?}",
                self.id, self.kind
            ))
        })?;
        Ok(DocumentInfo {
            id: self.id,
            kind,
            name: self.name,
            parent: self.parent,
            author: self.author,
            created_at: self.created_at,
            reason: self.reason,
        })
    }
}

fn read_document_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<DocumentRow> {
    Ok(DocumentRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        parent: row.get(3)?,
        author: row.get(4)?,
        created_at: row.get(5)?,
        reason: row.get(6)?,
    })
}

// ── integer conversions: SQLite stores signed 64-bit integers ──────────────────────────────

fn row_to_sql(row: u64) -> Result<i64, StoreError> {
    i64::try_from(row)
        .map_err(|_| StoreError::invalid("row", format!("{row} is larger than {}", i64::MAX)))
}

fn row_from_sql(row: i64) -> Result<u64, StoreError> {
    u64::try_from(row)
        .map_err(|_| StoreError::internal(format!("stored row number {row} is negative")))
}

fn count_to_sql(count: usize) -> Result<i64, StoreError> {
    i64::try_from(count).map_err(|_| StoreError::invalid("positions", "too many rows"))
}

fn count_from_sql(count: i64, column: &str) -> Result<usize, StoreError> {
    usize::try_from(count)
        .map_err(|_| StoreError::internal(format!("{column} holds {count}, not a count")))
}

fn seq_to_sql(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::internal("the audit sequence number overflowed"))
}

fn seq_from_sql(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq)
        .map_err(|_| StoreError::internal(format!("audit sequence number {seq} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_can_move_to_another_thread_and_hide_behind_the_trait() {
        fn is_send<T: Send>() {}
        is_send::<SqliteStore>();
        fn takes_dyn(_: Option<&dyn Storage>) {}
        takes_dyn(None);
    }

    #[test]
    fn integer_conversions_refuse_what_sqlite_cannot_hold() {
        assert!(row_to_sql(u64::MAX).is_err());
        assert_eq!(row_to_sql(7).unwrap(), 7);
        assert!(row_from_sql(-1).is_err());
        assert!(count_from_sql(-1, "c").is_err());
        assert!(seq_from_sql(-5).is_err());
    }
}
