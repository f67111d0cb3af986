//! Readers and one writer on threads: readers never observe a partial transaction, nor a
//! dropped one, and the final revision is the number of commits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use acl_core::{Level, PrincipalKind, ReadView, Revision, Store, WriteTxn};
use acl_memory::MemoryStore;
use common::*;

const ROUNDS: usize = 300;
const READERS: usize = 4;

/// Every round writes the same two grants (alice and bob on one URI); even rounds commit,
/// odd ones drop after writing a third grant that must never be seen.
fn writer(store: &MemoryStore) -> u64 {
    let mut commits = 0;
    for round in 0..ROUNDS {
        let mut txn = store.write().unwrap();
        let at = format!("storage://c/r{round}");
        txn.put_grant(&grant(&format!("alice {at} read"))).unwrap();
        std::thread::yield_now(); // give readers every chance to look in between
        txn.put_grant(&grant(&format!("bob {at} write"))).unwrap();
        if round % 2 == 0 {
            txn.commit(change(Some("alice"), "pair")).unwrap();
            commits += 1;
        } else {
            txn.put_grant(&grant("carol storage://c/dropped manage"))
                .unwrap();
            drop(txn);
        }
    }
    commits
}

/// Checks one view: alice's and bob's grants come in pairs, one pair per commit, and
/// nothing of a dropped transaction shows.
fn check_view(view: &impl ReadView) -> u64 {
    let revision = view.revision().unwrap();
    let all = view
        .grants_within(&uri("storage://c"), None, usize::MAX)
        .unwrap();
    // one commit (the fixture) before the writer started
    let commits = revision.0 - 1;
    assert_eq!(all.len() as u64, 2 * commits, "at {revision}: {all:?}");
    for pair in all.chunks(2) {
        let [a, b] = pair else {
            panic!("odd grant count at {revision}: {all:?}")
        };
        assert_eq!(a.uri, b.uri);
        assert_eq!((a.holder.as_str(), a.level), ("alice", Level::Read));
        assert_eq!((b.holder.as_str(), b.level), ("bob", Level::Write));
    }
    let log = view.changes(Revision(0), None, usize::MAX).unwrap();
    assert_eq!(log.len() as u64, revision.0);
    assert_eq!(
        view.grants_of(&name("carol"), None, None, usize::MAX)
            .unwrap(),
        vec![]
    );
    revision.0
}

#[test]
fn readers_see_whole_transactions_only() {
    let store = MemoryStore::new();
    let mut txn = store.write().unwrap();
    for who in ["alice", "bob", "carol"] {
        txn.insert_principal(&record(who, PrincipalKind::User, true))
            .unwrap();
    }
    txn.commit(change(None, "init")).unwrap();

    let done = AtomicBool::new(false);
    let views = AtomicUsize::new(0);
    let commits = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut last = 0;
                    while !done.load(Ordering::Acquire) {
                        let view = store.read().unwrap();
                        let seen = check_view(&view);
                        // a later view never goes back in time
                        assert!(seen >= last, "revision went from {last} to {seen}");
                        last = seen;
                        views.fetch_add(1, Ordering::Relaxed);
                        drop(view);
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        let commits = scope.spawn(|| writer(&store)).join().unwrap();
        done.store(true, Ordering::Release);
        for reader in readers {
            reader.join().unwrap();
        }
        commits
    });

    assert_eq!(commits, ROUNDS.div_ceil(2) as u64);
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(commits + 1));
    assert_eq!(check_view(&view), commits + 1);
    assert!(views.load(Ordering::Relaxed) > 0);
}
