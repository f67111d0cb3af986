//! Several processes on one database file: crash safety under SIGKILL, and concurrent
//! writers in threads and processes.
//!
//! The child processes are this test binary itself, re-invoked to run only
//! [`child_process`] with `ACL_SQLITE_CHILD` naming what to do. Run normally, that test
//! does nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use acl_core::{
    Change, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Revision, Store,
    Timestamp, Uri, WriteTxn,
};
use acl_sqlite::{SqliteOptions, SqliteStore};

const MODE: &str = "ACL_SQLITE_CHILD";
const DB: &str = "ACL_SQLITE_DB";
const WRITER: &str = "ACL_SQLITE_WRITER";
const COUNT: &str = "ACL_SQLITE_COUNT";

/// Patient options: in these tests writers queue behind many others.
fn options() -> SqliteOptions {
    SqliteOptions {
        busy_timeout: Duration::from_secs(60),
        ..SqliteOptions::default()
    }
}

/// The principal a write creates, and its grant's URI.
fn written(name: &str) -> (PrincipalName, Uri) {
    (
        PrincipalName::new(name).unwrap(),
        Uri::parse(&format!("storage://c/{name}")).unwrap(),
    )
}

/// One transaction of two rows: a principal and its grant. Returns the revision.
fn write_pair(store: &SqliteStore, name: &str) -> Revision {
    let (principal, uri) = written(name);
    let mut txn = store.write().unwrap();
    txn.insert_principal(&PrincipalRecord {
        name: principal.clone(),
        kind: PrincipalKind::User,
        active: true,
    })
    .unwrap();
    txn.put_grant(&Grant {
        holder: principal,
        uri,
        level: Level::Read,
    })
    .unwrap();
    txn.commit(Change {
        at: Timestamp(0),
        actor: None,
        action: "pair".into(),
        target: name.to_owned(),
        detail: String::new(),
    })
    .unwrap()
}

/// Checks, on one snapshot, that every transaction is whole: as many principals as
/// grants as changelog entries as the revision, each principal with its grant. Returns
/// the principal names.
fn check_whole(view: &impl ReadView) -> BTreeSet<String> {
    let revision = view.revision().unwrap();
    let principals = view.principals(None, usize::MAX).unwrap();
    let changes = view.changes(Revision(0), None, usize::MAX).unwrap();
    assert_eq!(
        principals.len() as u64,
        revision.0,
        "one principal per commit"
    );
    assert_eq!(
        changes.len() as u64,
        revision.0,
        "one changelog entry per commit"
    );
    let names: Vec<PrincipalName> = principals.iter().map(|p| p.name.clone()).collect();
    let mut uris = Vec::new();
    for name in &names {
        uris.push(written(name.as_str()).1);
    }
    let grants = view.grants_at(&names, &uris).unwrap();
    assert_eq!(grants.len(), names.len(), "each principal has its grant");
    for (i, entry) in changes.iter().enumerate() {
        assert_eq!(entry.revision.0, i as u64 + 1);
    }
    let targets: BTreeSet<String> = changes.iter().map(|e| e.change.target.clone()).collect();
    let set: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
    assert_eq!(targets, set, "each commit names its own pair");
    set
}

/// The body of a child process, selected by `ACL_SQLITE_CHILD`; a no-op in a normal run.
#[test]
fn child_process() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let path = PathBuf::from(std::env::var(DB).unwrap());
    let store = SqliteStore::open_with(&path, options()).unwrap();
    match mode.as_str() {
        // Commits forever, printing each acknowledged revision, until killed.
        "crash-writer" => loop {
            let next = store.read().unwrap().revision().unwrap().0 + 1;
            let revision = write_pair(&store, &format!("p{next}"));
            println!("ACK {}", revision.0);
        },
        // Commits `COUNT` pairs named `{WRITER}-{i}`, checking a snapshot after each.
        "counted-writer" => {
            let writer = std::env::var(WRITER).unwrap();
            let count: usize = std::env::var(COUNT).unwrap().parse().unwrap();
            for i in 0..count {
                write_pair(&store, &format!("{writer}-{i}"));
                check_whole(&store.read().unwrap());
            }
            println!("DONE {writer}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn_child(mode: &str, db: &Path, env: &[(&str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(DB, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

/// Forwards the child's stdout lines to a channel from a thread.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// A pseudo-random number from the clock: the kill moments need not be reproducible.
fn jitter(max: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(nanos.wrapping_mul(2_654_435_761)) % max
}

/// A writer killed with SIGKILL at a random moment loses nothing it acknowledged and leaves
/// no partial transaction; five times over on the same file.
#[test]
fn a_killed_writer_loses_no_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    drop(SqliteStore::open(&db).unwrap());
    let mut acknowledged: u64 = 0;
    for round in 0..5 {
        let mut child = spawn_child("crash-writer", &db, &[]);
        let lines = lines_of(&mut child);
        // Wait for the first acknowledgement, then let it run a random while.
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the child acknowledges a first commit");
        let mut acks = vec![first];
        std::thread::sleep(Duration::from_millis(20 + jitter(300)));
        child.kill().unwrap();
        child.wait().unwrap();
        acks.extend(lines.iter());
        let round_acks: Vec<u64> = acks
            .iter()
            // libtest may print `test child_process ... ` before the first line.
            .filter_map(|line| line.split("ACK ").nth(1))
            .map(|n| n.trim().parse().unwrap())
            .collect();
        assert!(!round_acks.is_empty(), "round {round}: {acks:?}");
        acknowledged = acknowledged.max(*round_acks.iter().max().unwrap());

        // Reopen after the crash: sound, every acknowledged commit there, none partial.
        let store = SqliteStore::open(&db).unwrap();
        store.check_integrity().unwrap();
        let view = store.read().unwrap();
        let revision = view.revision().unwrap().0;
        assert!(
            revision >= acknowledged,
            "round {round}: revision {revision} < acknowledged {acknowledged}"
        );
        let names = check_whole(&view);
        println!(
            "round {round}: {} acknowledged this round, last {acknowledged}, revision {revision}",
            round_acks.len()
        );
        for k in 1..=revision {
            assert!(names.contains(&format!("p{k}")), "round {round}: p{k} lost");
        }
    }
    assert!(acknowledged >= 5);
}

/// Four threads of this process and two child processes write at once; every write ends
/// up present exactly once and the revision equals the number of writes.
#[test]
fn threads_and_processes_write_at_once() {
    const PER_WRITER: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let store = SqliteStore::open_with(&db, options()).unwrap();
    let mut children: Vec<(Child, mpsc::Receiver<String>)> = ["proc0", "proc1"]
        .iter()
        .map(|writer| {
            let mut child = spawn_child(
                "counted-writer",
                &db,
                &[
                    (WRITER, (*writer).to_owned()),
                    (COUNT, PER_WRITER.to_string()),
                ],
            );
            let lines = lines_of(&mut child);
            (child, lines)
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = &store;
            s.spawn(move || {
                for i in 0..PER_WRITER {
                    write_pair(store, &format!("thread{t}-{i}"));
                    check_whole(&store.read().unwrap());
                }
            });
        }
    });
    for (child, lines) in &mut children {
        let status = child.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
        let output: Vec<String> = lines.iter().collect();
        assert!(
            output.iter().any(|line| line.contains("DONE ")),
            "{output:?}"
        );
    }
    let total = 6 * PER_WRITER;
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(total as u64));
    let names = check_whole(&view);
    let mut expected = BTreeSet::new();
    for writer in ["proc0", "proc1", "thread0", "thread1", "thread2", "thread3"] {
        for i in 0..PER_WRITER {
            expected.insert(format!("{writer}-{i}"));
        }
    }
    assert_eq!(names, expected);
    drop(view);
    store.check_integrity().unwrap();
}
