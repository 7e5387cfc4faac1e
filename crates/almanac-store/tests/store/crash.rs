//! Crash safety: a process killed in the middle of imports leaves only whole snapshots.
//!
//! The test re-runs this test binary as a child (`--exact` on this test, with
//! `ALMANAC_STORE_CHILD` set). The child imports large snapshots in a loop and reports each
//! commit on stdout; the parent kills it at a varying moment, then opens the file and checks
//! that the audit log verifies and every listed snapshot has exactly its recorded positions.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use almanac_store::{NewSnapshot, SqliteStore, Storage};

use crate::support::{hash_of, positions, reject, TempDir};

const CHILD_ENV: &str = "ALMANAC_STORE_CHILD";
const CHILD_DB_ENV: &str = "ALMANAC_STORE_CHILD_DB";
/// Positions per snapshot: large enough that a commit takes a while, so kills land inside
/// transactions.
const POSITIONS: usize = 200_000;
/// Kill moments, one per child: during open and migration, during the first import, and
/// after at least one commit.
const ROUNDS: [Moment; 5] = [
    Moment::DuringOpen,
    Moment::AfterCommit,
    Moment::DuringFirstImport,
    Moment::AfterCommit,
    Moment::AfterCommit,
];
/// An orphaned child stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
enum Moment {
    DuringOpen,
    DuringFirstImport,
    AfterCommit,
}

/// The name libtest knows this test by: the module path without the crate name.
fn test_name() -> &'static str {
    let full = concat!(
        module_path!(),
        "::killed_imports_leave_only_whole_snapshots"
    );
    full.split_once("::").map_or(full, |(_, rest)| rest)
}

#[test]
fn killed_imports_leave_only_whole_snapshots() {
    if let Some(path) =
        std::env::var_os(CHILD_DB_ENV).filter(|_| std::env::var_os(CHILD_ENV).is_some())
    {
        child(Path::new(&path));
        return;
    }
    let dir = TempDir::new("crash");
    let db = dir.db();
    let mut committed = 0;
    for (round, moment) in ROUNDS.into_iter().enumerate() {
        let mut child = KillOnDrop(spawn_child(&db));
        let lines = read_lines(&mut child.0);
        let jitter = jitter(round);
        match moment {
            Moment::DuringOpen => thread::sleep(Duration::from_millis(jitter % 20)),
            Moment::DuringFirstImport => {
                wait_for(&lines, "importing");
                thread::sleep(Duration::from_millis(jitter % 250));
            }
            Moment::AfterCommit => {
                wait_for(&lines, "ready");
                let started = Instant::now();
                wait_for(&lines, "committed");
                committed += 1;
                // Somewhere inside the next import, which takes about as long as the first.
                let import_ms = started.elapsed().as_millis().max(1) as u64;
                thread::sleep(Duration::from_millis(jitter % import_ms));
            }
        }
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        committed += lines
            .try_iter()
            .filter(|l| l.starts_with("committed"))
            .count();

        let store = SqliteStore::open(&db).unwrap();
        check_whole(&store, round, moment);
        assert!(
            store.snapshots().unwrap().len() >= committed,
            "a reported commit was lost"
        );
    }
    let store = SqliteStore::open(&db).unwrap();
    let stored = store.snapshots().unwrap().len();
    assert!(
        stored >= 3 && stored >= committed,
        "{stored} snapshots stored, {committed} commits reported"
    );
}

fn check_whole(store: &SqliteStore, round: usize, moment: Moment) {
    let report = store.verify_audit().unwrap();
    assert!(
        report.ok,
        "round {round} ({moment:?}): {:#?}",
        report.problems
    );
    let snapshots = store.snapshots().unwrap();
    assert_eq!(report.entries, snapshots.len());
    for info in snapshots {
        assert_eq!(info.positions, POSITIONS, "round {round}: {}", info.id);
        let stored = store.snapshot_positions(&info.id).unwrap();
        assert_eq!(stored.len(), info.positions, "round {round}: {}", info.id);
        assert_eq!(
            store.snapshot_rejects(&info.id).unwrap().len(),
            info.rejected
        );
    }
}

/// The child's work: open the store, then import snapshots until killed.
fn child(path: &Path) {
    let mut out = std::io::stdout();
    let mut store = SqliteStore::open(path).unwrap();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    let template = positions(POSITIONS);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < CHILD_LIFETIME {
        writeln!(out, "importing {i}").unwrap();
        out.flush().unwrap();
        let hash = hash_of(&format!("child-{}-{i}", std::process::id()));
        let outcome = store
            .import_snapshot(NewSnapshot {
                as_of: "2026-10-31",
                source: "large.csv",
                content_hash: &hash,
                created_at: "2026-11-01T08:00:00Z",
                positions: template.clone(),
                rejects: vec![reject(1, "header"), reject(2, "bad")],
                facts: None,
            })
            .unwrap();
        writeln!(out, "committed {}", outcome.snapshot_id).unwrap();
        out.flush().unwrap();
        i += 1;
    }
}

fn spawn_child(db: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name(), "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(CHILD_DB_ENV, PathBuf::from(db))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The child's stdout, line by line, through a channel (closed when the child dies).
fn read_lines(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

fn wait_for(lines: &Receiver<String>, prefix: &str) {
    let deadline = Duration::from_secs(30);
    loop {
        match lines.recv_timeout(deadline) {
            Ok(line) if line.contains(prefix) => return,
            Ok(_) => {}
            Err(e) => panic!("the child never printed {prefix:?}: {e}"),
        }
    }
}

/// A varying number: the clock's nanoseconds and the round, mixed by SplitMix64.
fn jitter(round: usize) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mut z = (u64::from(nanos) ^ ((round as u64) << 32)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
