//! Group commit: write transactions that queue for the writer connection share one SQLite
//! `COMMIT` (one fsync), each still its own revision with its own changelog entry (DESIGN
//! rule M3), each all or nothing on its own, and each acknowledged only once that `COMMIT`
//! succeeded.

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use acl_core::{ErrorKind, PrincipalKind, ReadView, Result, Revision, WriteTxn};

use super::{change, fixture, g, raw_dump, record};
use crate::{SqliteOptions, SqliteStore, Store, lock};

/// Writers now queued in `store.write()`.
fn waiting(store: &SqliteStore) -> usize {
    lock(&store.writer).waiting
}

/// What a queued writer does with its transaction.
type Body = fn(&mut crate::SqliteWrite<'_>, usize) -> Result<&'static str>;

/// A grant on a URI of its own; commits with action `grant`.
fn grant_body(txn: &mut crate::SqliteWrite<'_>, i: usize) -> Result<&'static str> {
    txn.put_grant(&g(&format!("alice storage://c/g{i} read")))?;
    Ok("grant")
}

/// Holds the writer connection with a transaction of its own while `bodies` queue behind
/// it (each on its thread), then commits the held one: the queued bodies run and commit
/// one after the other in the held transaction's group. Answers the held commit's result
/// and each body's, in the bodies' order.
fn run_group(
    store: &SqliteStore,
    held_action: &str,
    bodies: &[Body],
) -> (Result<Revision>, Vec<Result<Revision>>) {
    let mut held = store.write().unwrap();
    held.put_grant(&g("alice storage://c/held read")).unwrap();
    thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                scope.spawn(move || {
                    let mut txn = store.write()?;
                    let action = body(&mut txn, i)?;
                    txn.commit(change(action, Some("alice")))
                })
            })
            .collect();
        while waiting(store) < bodies.len() {
            thread::sleep(Duration::from_millis(1));
        }
        let first = held.commit(change(held_action, Some("alice")));
        let rest = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (first, rest)
    })
}

#[test]
fn queued_commits_share_one_sqlite_commit_each_with_its_own_revision_m3() {
    let store = fixture();
    let commits = store.commits();
    let bodies: Vec<Body> = vec![grant_body; 6];
    let (first, rest) = run_group(&store, "held", &bodies);
    let mut revisions: BTreeSet<u64> = rest.into_iter().map(|r| r.unwrap().0).collect();
    revisions.insert(first.unwrap().0);
    // seven distinct, consecutive revisions after the fixture's two
    assert_eq!(revisions, (3..=9).collect());
    // one COMMIT (one fsync) for the seven
    assert_eq!(store.commits() - commits, 1);
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(9));
    let changes = view.changes(Revision(2), None, 100).unwrap();
    let logged: Vec<u64> = changes.iter().map(|c| c.revision.0).collect();
    assert_eq!(logged, (3..=9).collect::<Vec<_>>());
    assert_eq!(changes[0].change.action, "held");
    for i in 0..6 {
        let uri = super::u(&format!("storage://c/g{i}"));
        assert_eq!(
            view.grants_at(&[super::n("alice")], &[uri]).unwrap().len(),
            1
        );
    }
}

#[test]
fn with_max_group_one_each_commit_is_its_own_sqlite_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        max_group: 1,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.path().join("acl.db"), options).unwrap();
    super::fill(&store);
    let commits = store.commits();
    let bodies: Vec<Body> = vec![grant_body; 4];
    let (first, rest) = run_group(&store, "held", &bodies);
    first.unwrap();
    assert!(rest.iter().all(Result::is_ok), "{rest:?}");
    assert_eq!(store.commits() - commits, 5);
    assert_eq!(store.read().unwrap().revision().unwrap(), Revision(7));
}

#[test]
fn a_failing_body_in_a_group_writes_nothing_and_the_others_commit_m3() {
    let store = fixture();
    let commits = store.commits();
    fn failing(txn: &mut crate::SqliteWrite<'_>, _: usize) -> Result<&'static str> {
        // a write, then an error: the write must go with it
        txn.put_grant(&g("alice storage://c/failed read"))?;
        txn.insert_principal(&record("alice", PrincipalKind::User, true))?; // taken
        Ok("never")
    }
    let bodies: Vec<Body> = vec![grant_body, failing, grant_body];
    let (first, rest) = run_group(&store, "held", &bodies);
    first.unwrap();
    assert_eq!(rest[1].as_ref().unwrap_err().kind(), ErrorKind::Conflict);
    let mut revisions: BTreeSet<u64> = [&rest[0], &rest[2]]
        .into_iter()
        .map(|r| r.as_ref().unwrap().0)
        .collect();
    revisions.insert(3);
    assert_eq!(revisions, (3..=5).collect());
    assert_eq!(store.commits() - commits, 1);
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(5));
    let alice = [super::n("alice")];
    for (uri, held) in [
        ("storage://c/held", 1),
        ("storage://c/g0", 1),
        ("storage://c/g2", 1),
        ("storage://c/failed", 0),
    ] {
        let found = view.grants_at(&alice, &[super::u(uri)]).unwrap();
        assert_eq!(found.len(), held, "{uri}");
    }
    let actions: Vec<String> = view
        .changes(Revision(2), None, 100)
        .unwrap()
        .into_iter()
        .map(|c| c.change.action)
        .collect();
    assert_eq!(actions, ["held", "grant", "grant"]);
}

#[test]
fn a_failed_group_commit_fails_every_member_and_writes_nothing_m3() {
    let store = fixture();
    // A deferred foreign key that a `poison` changelog entry breaks: checked at COMMIT.
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE poison (p INTEGER REFERENCES principals (id) DEFERRABLE INITIALLY DEFERRED, q);
         CREATE TRIGGER poisoned AFTER INSERT ON changelog WHEN NEW.action = 'poison'
         BEGIN INSERT INTO poison VALUES (-1, 0); END;",
    )
    .unwrap();
    drop(conn);
    let before = raw_dump(&store);
    let commits = store.commits();
    fn poison(txn: &mut crate::SqliteWrite<'_>, i: usize) -> Result<&'static str> {
        grant_body(txn, i)?;
        Ok("poison")
    }
    let bodies: Vec<Body> = vec![grant_body, poison, grant_body];
    let (first, rest) = run_group(&store, "held", &bodies);
    for result in std::iter::once(&first).chain(&rest) {
        let err = result.as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
        assert!(err.to_string().contains("committing"), "{err}");
    }
    assert_eq!(store.commits() - commits, 1);
    assert_eq!(raw_dump(&store), before);
    assert_eq!(store.read().unwrap().revision().unwrap(), Revision(2));
    // the store goes on: the next commit is revision 3
    let mut txn = store.write().unwrap();
    grant_body(&mut txn, 9).unwrap();
    assert_eq!(txn.commit(change("grant", None)).unwrap(), Revision(3));
}

#[test]
fn many_threads_committing_at_once_get_distinct_consecutive_revisions_m3() {
    let dir = tempfile::tempdir().unwrap();
    // a file store, fsyncing every COMMIT
    let store = SqliteStore::open(dir.path().join("acl.db")).unwrap();
    super::fill(&store);
    let commits = store.commits();
    let (threads, each) = (8, 25);
    let revisions: Vec<u64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = &store;
                scope.spawn(move || {
                    (0..each)
                        .map(|i| {
                            let mut txn = store.write().unwrap();
                            grant_body(&mut txn, t * 1000 + i).unwrap();
                            txn.commit(change("grant", None)).unwrap().0
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let total = threads * each;
    let distinct: BTreeSet<u64> = revisions.iter().copied().collect();
    assert_eq!(distinct, (3..3 + total as u64).collect());
    assert!(store.commits() - commits <= total as u64);
    let view = store.read().unwrap();
    let logged: Vec<u64> = view
        .changes(Revision(2), None, 1000)
        .unwrap()
        .iter()
        .map(|c| c.revision.0)
        .collect();
    assert_eq!(logged, (3..3 + total as u64).collect::<Vec<_>>());
    let grants = view
        .grants_of(
            &super::n("alice"),
            Some(&super::u("storage://c")),
            None,
            1000,
        )
        .unwrap();
    // the fixture's own grants under storage://c and the 200 new ones
    assert_eq!(
        grants
            .iter()
            .filter(|g| g.uri.to_string().starts_with("storage://c/g"))
            .count(),
        total
    );
}
