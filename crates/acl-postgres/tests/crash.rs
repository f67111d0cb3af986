//! Crash safety on PostgreSQL (DESIGN rule D2, issue 19 item 7): a client process killed
//! with SIGKILL in the middle of its writes. Every write it saw acknowledged is in the
//! database, whole; the one it may have been committing when it died is there whole or
//! not at all; no partial transaction survives, and the revisions stay dense.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use acl_core::{
    Change, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Revision, Store,
    Timestamp, Uri, WriteTxn,
};
use acl_postgres::PgStore;
use acl_postgres::testing::Cluster;

/// The environment variable that makes the test a writer child.
const CHILD: &str = "ACL_PG_CRASH_WRITER";

/// Grants per transaction: a transaction is many statements, so the kill most likely
/// lands inside one.
const GRANTS: usize = 40;

/// Acknowledged writes the parent waits for before it kills the child.
const ACKED_BEFORE_KILL: usize = 25;

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn grant_uri(i: u64, j: usize) -> Uri {
    Uri::parse(&format!("storage://c/w-{i}/{j}")).unwrap()
}

/// Commits, in one transaction, the user `holder` with a read grant on each of `uris`;
/// the revision the commit answered.
fn commit_user(store: &PgStore, holder: &PrincipalName, uris: &[Uri], at: i64) -> Revision {
    let mut txn = store.write().unwrap();
    txn.insert_principal(&PrincipalRecord {
        name: holder.clone(),
        kind: PrincipalKind::User,
        active: true,
    })
    .unwrap();
    for uri in uris {
        txn.put_grant(&Grant {
            holder: holder.clone(),
            uri: uri.clone(),
            level: Level::Read,
        })
        .unwrap();
    }
    txn.commit(Change {
        at: Timestamp(at),
        actor: None,
        action: "crash-test".to_owned(),
        target: holder.to_string(),
        detail: String::new(),
    })
    .unwrap()
}

/// The child: commits users `w-{i}` with their [`GRANTS`] grants until it is killed,
/// printing `acked {i} {revision}` after each commit returned.
fn write_until_killed(url: &str) {
    let store = PgStore::open(url).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let uris: Vec<Uri> = (0..GRANTS).map(|j| grant_uri(i, j)).collect();
        let at = i64::try_from(i).unwrap();
        let revision = commit_user(&store, &name(&format!("w-{i}")), &uris, at);
        writeln!(out, "acked {i} {}", revision.0).unwrap();
        out.flush().unwrap();
    }
}

// rule D2: a write is acknowledged only once durable, and a transaction is whole or absent
#[test]
fn a_writer_killed_mid_write_leaves_every_acknowledged_write_and_no_partial_one() {
    if let Ok(url) = std::env::var(CHILD) {
        write_until_killed(&url);
        return;
    }
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let url = cluster.url(&db);
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "a_writer_killed_mid_write_leaves_every_acknowledged_write_and_no_partial_one",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked: Vec<(u64, u64)> = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("acked ") {
            let (i, revision) = rest.split_once(' ').unwrap();
            acked.push((i.parse().unwrap(), revision.parse().unwrap()));
            if acked.len() == ACKED_BEFORE_KILL {
                // Child::kill sends SIGKILL on Unix: no destructor, no rollback by the client.
                child.kill().unwrap();
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer was killed, not finished");
    assert_eq!(acked.len(), ACKED_BEFORE_KILL, "the writer stopped early");

    let store = PgStore::open(&url).unwrap();
    let view = store.read().unwrap();
    let revision = view.revision().unwrap();
    let present: BTreeSet<u64> = view
        .principals(None, 10_000)
        .unwrap()
        .into_iter()
        .filter_map(|p| p.name.as_str().strip_prefix("w-")?.parse().ok())
        .collect();
    let acked_ids: BTreeSet<u64> = acked.iter().map(|(i, _)| *i).collect();
    // revisions dense: one per committed write, one changelog entry each
    assert_eq!(revision, Revision(present.len() as u64));
    let changes = view.changes(Revision(0), None, 10_000).unwrap();
    let revisions: Vec<u64> = changes.iter().map(|c| c.revision.0).collect();
    assert_eq!(revisions, (1..=revision.0).collect::<Vec<_>>());
    // every acknowledged write is there, at the revision its commit answered
    assert!(
        acked_ids.is_subset(&present),
        "acknowledged {acked_ids:?}, present {present:?}"
    );
    for (i, answered) in &acked {
        // dense, so revision r is the changelog's r-th entry
        let entry = &changes[usize::try_from(answered - 1).unwrap()];
        assert_eq!(entry.revision, Revision(*answered));
        assert_eq!(entry.change.target, format!("w-{i}"));
    }
    // at most the one write in flight at the kill committed without its acknowledgement
    let next = acked_ids.iter().max().unwrap() + 1;
    let extra: Vec<u64> = present.difference(&acked_ids).copied().collect();
    assert!(
        extra.is_empty() || extra == [next],
        "unexpected writes {extra:?}"
    );
    // no partial transaction: each present principal has all its grants, and nothing else
    // of the writer is there
    for i in &present {
        let grants = view
            .grants_of(&name(&format!("w-{i}")), None, None, GRANTS + 10)
            .unwrap();
        assert_eq!(grants.len(), GRANTS, "w-{i} has a partial transaction");
        for j in 0..GRANTS {
            assert!(
                grants.iter().any(|g| g.uri == grant_uri(*i, j)),
                "w-{i} {j}"
            );
        }
    }
    drop(view);
    // the database takes writes again at the next revision
    let after = commit_user(&store, &name("after"), &[], 0);
    assert_eq!(after, revision.next());
    drop(store);
    cluster.drop_database(&db).unwrap();
}
