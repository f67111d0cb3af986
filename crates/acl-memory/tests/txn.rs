//! Write transactions: commit raises the revision by one and appends the entry; dropping
//! rolls back every kind of write; the documented errors; the invariant checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use acl_core::{ReadViewExt, WriteTxnExt};
use std::time::Duration;

use acl_core::{ClusterName, Error, ErrorKind, PrincipalKind, ReadView, Revision, Store, WriteTxn};
use acl_memory::MemoryStore;
use common::*;

fn fixture_store() -> MemoryStore {
    let store = MemoryStore::new();
    fixture(&store);
    store
}

#[test]
fn commit_raises_the_revision_by_one_and_appends_the_entry() {
    let store = MemoryStore::new();
    for expected in 1..=5u64 {
        let mut txn = store.write().unwrap();
        let who = format!("p{expected}");
        txn.insert_principal(&record(&who, PrincipalKind::Role, true))
            .unwrap();
        let revision = txn.commit(change(Some(&who), "add")).unwrap();
        assert_eq!(revision, Revision(expected));

        let view = store.read().unwrap();
        assert_eq!(view.revision().unwrap(), Revision(expected));
        let log = view.changes(Revision(0), None, usize::MAX).unwrap();
        assert_eq!(log.len() as u64, expected);
        let last = log.last().unwrap();
        assert_eq!(last.revision, Revision(expected));
        assert_eq!(last.change, change(Some(&who), "add"));
    }
}

// A commit with no writes is still a mutation for the changelog.
#[test]
fn an_empty_commit_still_counts() {
    let store = fixture_store();
    let before = snapshot_of(&store);
    let revision = store.write().unwrap().commit(change(None, "noop")).unwrap();
    assert_eq!(revision, Revision(5));
    let after = snapshot_of(&store);
    assert_eq!(after.revision, Revision(5));
    assert_eq!(after.changes.len(), 5);
    assert_eq!(
        Snapshot {
            revision: before.revision,
            changes: before.changes.clone(),
            ..after
        },
        before
    );
}

/// Writes of every kind, including no-ops and failures, checking the transaction reads
/// its own writes.
fn write_everything(txn: &mut impl WriteTxn) {
    txn.set_cluster(&ClusterName::new("elsewhere").unwrap())
        .unwrap();
    txn.insert_principal(&record("erin", PrincipalKind::Role, true))
        .unwrap();
    txn.update_principal(&record("alice", PrincipalKind::User, false))
        .unwrap();
    txn.update_principal(&record("eng", PrincipalKind::Role, true))
        .unwrap();
    // new, replaced, unchanged, deleted and absent grants
    txn.put_grant(&grant("erin storage://c/erin manage"))
        .unwrap();
    txn.put_grant(&grant("alice storage://c/u read")).unwrap();
    txn.put_grant(&grant("bob storage://c/u deny")).unwrap();
    assert!(
        txn.delete_grant(&name("bob"), &uri("storage://c/u/x"))
            .unwrap()
    );
    assert!(
        !txn.delete_grant(&name("bob"), &uri("storage://c/u/x"))
            .unwrap()
    );
    assert!(
        txn.delete_grant(&name("alice"), &uri("storage://"))
            .unwrap()
    );
    // a grant added then deleted, and one deleted then re-added
    txn.put_grant(&grant("erin storage://tmp write")).unwrap();
    assert!(
        txn.delete_grant(&name("erin"), &uri("storage://tmp"))
            .unwrap()
    );
    assert!(
        txn.delete_grant(&name("dave"), &uri("storage://c/u0"))
            .unwrap()
    );
    txn.put_grant(&grant("dave storage://c/u0 write")).unwrap();
    // edges
    txn.insert_edge(&edge("erin eng")).unwrap();
    txn.insert_edge(&edge("alice eng")).unwrap(); // present already
    assert!(txn.delete_edge(&edge("bob eng")).unwrap());
    assert!(!txn.delete_edge(&edge("bob eng")).unwrap());
    // fences
    txn.insert_fence(&fence("storage://c/erin erin")).unwrap();
    txn.insert_fence(&fence("storage://c/u eng")).unwrap(); // present already
    assert!(txn.delete_fence(&fence("storage:// eng")).unwrap());
    assert!(!txn.delete_fence(&fence("storage:// eng")).unwrap());
    // failures change nothing
    assert!(
        txn.insert_principal(&record("bob", PrincipalKind::User, true))
            .is_err()
    );
    assert!(txn.delete_principal(&name("nobody")).is_err());
    assert!(txn.put_grant(&grant("nobody storage://c/u read")).is_err());
    // carol has no rows: she can go
    txn.delete_principal(&name("carol")).unwrap();

    // the transaction reads its own writes
    assert_eq!(
        txn.cluster().unwrap(),
        Some(ClusterName::new("elsewhere").unwrap())
    );
    assert_eq!(txn.principal(&name("carol")).unwrap(), None);
    assert!(!txn.principal(&name("alice")).unwrap().unwrap().active);
    assert_eq!(
        txn.grants_on(&uris(&["storage://c/u"]))
            .map(sorted_grants)
            .unwrap(),
        grants(&["alice storage://c/u read", "bob storage://c/u deny"])
    );
    assert_eq!(
        txn.grants_of(&name("erin"), None, None, usize::MAX)
            .unwrap(),
        grants(&["erin storage://c/erin manage"])
    );
    assert_eq!(
        txn.members_of(&names(&["eng"])).unwrap().len(),
        2, // alice and erin
    );
    assert_eq!(
        txn.fences_of_group(&name("erin")).unwrap(),
        fences(&["storage://c/erin erin"])
    );
    assert_eq!(txn.revision().unwrap(), Revision(4));
}

// Several writes of every kind, dropped: every query, the revision and the changelog are
// as before.
#[test]
fn dropping_rolls_back_every_kind_of_write() {
    let store = fixture_store();
    let before = snapshot_of(&store);
    let mut txn = store.write().unwrap();
    write_everything(&mut txn);
    assert_ne!(snapshot(&txn), before);
    drop(txn);
    assert_eq!(snapshot_of(&store), before);

    // and the next commit lands at the next revision, with the same writes
    let mut txn = store.write().unwrap();
    write_everything(&mut txn);
    assert_eq!(
        txn.commit(change(Some("alice"), "all")).unwrap(),
        Revision(5)
    );
    let after = snapshot_of(&store);
    assert_eq!(after.revision, Revision(5));
    assert_eq!(after.changes.len(), 5);
    assert_eq!(after.changes.get(..4), Some(before.changes.as_slice()));
}

// The path the core takes on an error: a write fails, the transaction is dropped.
#[test]
fn an_error_mid_transaction_then_drop_leaves_no_trace() {
    let store = fixture_store();
    let before = snapshot_of(&store);
    let result = (|| {
        let mut txn = store.write()?;
        txn.put_grant(&grant("alice storage://c/new write"))?;
        txn.insert_principal(&record("alice", PrincipalKind::User, true))?; // fails
        txn.commit(change(None, "never"))
    })();
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(snapshot_of(&store), before);
}

#[test]
fn documented_errors() {
    let store = fixture_store();
    let mut txn = store.write().unwrap();
    let kind = |r: acl_core::Result<()>| r.unwrap_err();

    assert_eq!(
        kind(txn.insert_principal(&record("alice", PrincipalKind::Role, true))),
        Error::already_exists("principal", "alice")
    );
    assert_eq!(
        kind(txn.update_principal(&record("nobody", PrincipalKind::Role, true))),
        Error::not_found("principal", "nobody")
    );
    assert_eq!(
        kind(txn.delete_principal(&name("nobody"))),
        Error::not_found("principal", "nobody")
    );
    // the failed insert did not overwrite alice
    assert_eq!(
        txn.principal(&name("alice")).unwrap(),
        Some(record("alice", PrincipalKind::User, true))
    );
    // set inserts and upserts do not fail on present rows
    txn.insert_edge(&edge("alice eng")).unwrap();
    txn.insert_fence(&fence("storage://c/u eng")).unwrap();
    txn.put_grant(&grant("alice storage://c/u read")).unwrap();
    assert_eq!(
        txn.grants_at(&names(&["alice"]), &uris(&["storage://c/u"]))
            .unwrap(),
        grants(&["alice storage://c/u read"])
    );
    // deletes of absent rows say so
    assert!(
        !txn.delete_grant(&name("carol"), &uri("storage://c/u"))
            .unwrap()
    );
    assert!(!txn.delete_edge(&edge("carol eng")).unwrap());
    assert!(!txn.delete_fence(&fence("storage://c/u readers")).unwrap());
}

// The store checks the invariants the core keeps and refuses, changing nothing, a write
// that would break one.
#[test]
fn broken_invariants_are_refused() {
    let store = fixture_store();
    let before = snapshot_of(&store);
    let mut txn = store.write().unwrap();
    let refused = |r: acl_core::Result<()>| {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
        let text = err.to_string();
        assert!(!text.ends_with('.'), "{text}");
        text
    };
    refused(txn.put_grant(&grant("nobody storage://c/u read")));
    refused(txn.insert_edge(&edge("nobody eng")));
    refused(txn.insert_edge(&edge("alice nobody")));
    refused(txn.insert_fence(&fence("storage://c/u nobody")));
    // a principal still named by rows
    for (who, rows) in [
        ("alice", "grants"),
        ("readers", "membership edges"),
        ("eng", "grants"),
    ] {
        let text = refused(txn.delete_principal(&name(who)));
        assert!(text.contains(rows), "{text}");
    }
    assert_eq!(snapshot(&txn), before);

    // once its rows are gone, it can be deleted
    for g in txn.grants_of(&name("eng"), None, None, usize::MAX).unwrap() {
        assert!(txn.delete_grant(&g.holder, &g.uri).unwrap());
    }
    for e in ["alice eng", "bob eng", "eng readers"] {
        assert!(txn.delete_edge(&edge(e)).unwrap());
    }
    let text = refused(txn.delete_principal(&name("eng")));
    assert!(text.contains("fences"), "{text}");
    for f in txn.fences_of_group(&name("eng")).unwrap() {
        assert!(txn.delete_fence(&f).unwrap());
    }
    txn.delete_principal(&name("eng")).unwrap();
    assert_eq!(txn.principal(&name("eng")).unwrap(), None);
    drop(txn);
    assert_eq!(snapshot_of(&store), before);
}

// A view keeps seeing the state it opened on: a writer waits for it to end.
#[test]
fn a_view_sees_one_state_and_the_writer_waits_for_it() {
    let store = fixture_store();
    let view = store.read().unwrap();
    let before = snapshot(&view);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            started_tx.send(()).unwrap();
            let mut txn = store.write().unwrap();
            txn.put_grant(&grant("bob storage://c/new read")).unwrap();
            txn.commit(change(Some("bob"), "grant")).unwrap()
        });
        started_rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(!writer.is_finished());
        assert_eq!(snapshot(&view), before);
        drop(view);
        assert_eq!(writer.join().unwrap(), Revision(5));
    });
    let after = snapshot_of(&store);
    assert_eq!(after.revision, Revision(5));
    assert!(after.grants.contains(&grant("bob storage://c/new read")));
}

// Readers run side by side.
#[test]
fn views_are_concurrent() {
    let store = fixture_store();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let view = store.read().unwrap();
                // every reader holds its view while the others open theirs
                barrier.wait();
                assert_eq!(view.revision().unwrap(), Revision(4));
            });
        }
    });
}
