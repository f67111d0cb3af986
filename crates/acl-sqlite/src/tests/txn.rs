//! Transactions: rollback on drop (and on error and panic), commit raising the revision by
//! one, snapshot isolation, one writer at a time in a process and across stores.

use acl_core::WriteTxnExt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acl_core::{ClusterName, ErrorKind, PrincipalKind, ReadView, Result, Revision, WriteTxn};
use acl_testing::world::dump;

use super::{change, edge, f, fixture, g, n, raw_dump, record, u};
use crate::{SqliteOptions, SqliteStore, Store};

/// Every kind of write, leaving the transaction with changes in every table.
fn scribble(txn: &mut crate::SqliteWrite<'_>) -> Result<()> {
    txn.set_cluster(&ClusterName::new("other")?)?;
    txn.insert_principal(&record("dave", PrincipalKind::Group, true))?;
    txn.update_principal(&record("bob", PrincipalKind::User, true))?;
    txn.put_grant(&g("dave storage://c/dave manage"))?;
    txn.put_grant(&g("alice storage://c/alice deny"))?;
    assert!(txn.delete_grant(&n("alice"), &u("storage://"))?);
    txn.insert_edge(&edge("carol", "dave"))?;
    assert!(txn.delete_edge(&edge("alice", "g/team"))?);
    txn.insert_fence(&f("storage://c/dave dave"))?;
    assert!(txn.delete_fence(&f("job://c r/readers"))?);
    assert!(txn.delete_grant(&n("carol"), &u("storage://c/alice/docs/a/b/c"))?);
    txn.delete_principal(&n("carol")).unwrap_err();
    assert!(txn.delete_edge(&edge("carol", "dave"))?);
    txn.delete_principal(&n("carol"))?;
    Ok(())
}

#[test]
fn dropping_a_transaction_rolls_everything_back() {
    let store = fixture();
    let before = raw_dump(&store);
    let logical = dump(&store.read().unwrap()).unwrap();
    {
        let mut txn = store.write().unwrap();
        scribble(&mut txn).unwrap();
        // The transaction sees its own writes.
        assert!(txn.principal(&n("carol")).unwrap().is_none());
        assert_eq!(txn.cluster().unwrap().unwrap().as_str(), "other");
    }
    assert_eq!(raw_dump(&store), before);
    let view = store.read().unwrap();
    assert_eq!(dump(&view).unwrap(), logical);
    assert_eq!(view.revision().unwrap(), Revision(2));
    assert_eq!(view.changes(Revision(0), None, 100).unwrap().len(), 2);
}

#[test]
fn an_error_mid_transaction_rolls_back() {
    let store = fixture();
    let before = raw_dump(&store);
    let attempt = || -> Result<Revision> {
        let mut txn = store.write()?;
        txn.put_grant(&g("alice storage://c/new read"))?;
        txn.insert_principal(&record("alice", PrincipalKind::User, true))?; // taken
        txn.commit(change("never", None))
    };
    assert_eq!(attempt().unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(raw_dump(&store), before);
}

#[test]
fn a_panic_mid_transaction_rolls_back_and_frees_the_writer() {
    let store = fixture();
    let before = raw_dump(&store);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut txn = store.write().unwrap();
        scribble(&mut txn).unwrap();
        panic!("boom");
    }));
    assert!(outcome.is_err());
    assert_eq!(raw_dump(&store), before);
    let txn = store.write().unwrap();
    assert_eq!(
        txn.commit(change("after panic", None)).unwrap(),
        Revision(3)
    );
}

#[test]
fn each_commit_raises_the_revision_by_one() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(store.read().unwrap().revision().unwrap(), Revision(0));
    assert!(store.read().unwrap().cluster().unwrap().is_none());
    for i in 1..=5u64 {
        let mut txn = store.write().unwrap();
        if i % 2 == 0 {
            txn.insert_principal(&record(&format!("p{i}"), PrincipalKind::User, true))
                .unwrap();
        }
        // An empty transaction commits too: the changelog records it.
        assert_eq!(txn.revision().unwrap(), Revision(i - 1));
        assert_eq!(
            txn.commit(change(&format!("c{i}"), None)).unwrap(),
            Revision(i)
        );
        let view = store.read().unwrap();
        assert_eq!(view.revision().unwrap(), Revision(i));
        let log = view.changes(Revision(0), None, 100).unwrap();
        let revisions: Vec<u64> = log.iter().map(|e| e.revision.0).collect();
        assert_eq!(revisions, (1..=i).collect::<Vec<_>>());
        assert_eq!(log.last().unwrap().change, change(&format!("c{i}"), None));
    }
}

#[test]
fn a_read_view_keeps_its_snapshot() {
    let store = fixture();
    let old = store.read().unwrap();
    let old_dump = dump(&old).unwrap();
    {
        let mut txn = store.write().unwrap();
        scribble(&mut txn).unwrap();
        // Uncommitted writes are invisible to views, old and new.
        let during = store.read().unwrap();
        assert_eq!(dump(&during).unwrap(), old_dump);
        txn.commit(change("scribble", None)).unwrap();
    }
    let mut txn = store.write().unwrap();
    txn.put_grant(&g("alice storage://c/more read")).unwrap();
    txn.commit(change("more", None)).unwrap();
    // The old view still sees revision 2, even after two commits.
    assert_eq!(dump(&old).unwrap(), old_dump);
    assert_eq!(old.revision().unwrap(), Revision(2));
    let new = store.read().unwrap();
    assert_eq!(new.revision().unwrap(), Revision(4));
    assert!(new.principal(&n("carol")).unwrap().is_none());
    assert!(old.principal(&n("carol")).unwrap().is_some());
}

#[test]
fn many_read_views_at_once() {
    let store = fixture();
    let views: Vec<_> = (0..40).map(|_| store.read().unwrap()).collect();
    let txn = store.write().unwrap();
    txn.commit(change("while reading", None)).unwrap();
    for view in &views {
        assert_eq!(view.revision().unwrap(), Revision(2));
    }
    drop(views);
    assert_eq!(store.read().unwrap().revision().unwrap(), Revision(3));
}

#[test]
fn a_second_writer_waits_for_the_first() {
    let store = fixture();
    let (started, wait_started) = mpsc::channel();
    std::thread::scope(|s| {
        let mut first = store.write().unwrap();
        first.put_grant(&g("alice storage://c/first read")).unwrap();
        let second = s.spawn(|| {
            started.send(()).unwrap();
            let txn = store.write().unwrap();
            // It opens only after the first committed, and sees its write.
            let seen = txn.revision().unwrap();
            let has_first = !txn
                .grants_at(&[n("alice")], &[u("storage://c/first")])
                .unwrap()
                .is_empty();
            (seen, has_first, txn.commit(change("second", None)).unwrap())
        });
        wait_started.recv().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(!second.is_finished());
        assert_eq!(first.commit(change("first", None)).unwrap(), Revision(3));
        assert_eq!(second.join().unwrap(), (Revision(3), true, Revision(4)));
    });
}

#[test]
fn write_times_out_while_another_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acl.db");
    let options = SqliteOptions {
        busy_timeout: Duration::from_millis(150),
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(&path, options.clone()).unwrap();
    // Another store on the same file stands for another process.
    let other = SqliteStore::open_with(&path, options).unwrap();

    let held = store.write().unwrap();
    // Same store: the in-process queue times out.
    let start = Instant::now();
    let err = store.write().err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(start.elapsed() >= Duration::from_millis(140));
    // Other store: SQLite's write lock (BEGIN IMMEDIATE) times out.
    let start = Instant::now();
    let err = other.write().err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(start.elapsed() >= Duration::from_millis(140));
    // Readers of both are not blocked.
    assert_eq!(other.read().unwrap().revision().unwrap(), Revision(0));
    held.commit(change("held", None)).unwrap();
    // Now both can write, in turn, and each sees the other's commits.
    let txn = other.write().unwrap();
    assert_eq!(txn.revision().unwrap(), Revision(1));
    txn.commit(change("other", None)).unwrap();
    assert_eq!(store.write().unwrap().revision().unwrap(), Revision(2));
}

#[test]
fn committed_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acl.db");
    let before = {
        let store = SqliteStore::open(&path).unwrap();
        super::fill(&store);
        dump(&store.read().unwrap()).unwrap()
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(dump(&store.read().unwrap()).unwrap(), before);
    store.check_integrity().unwrap();
    assert_eq!(store.path(), path);
}

#[test]
fn the_store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SqliteStore>();
    fn assert_send<T: Send>() {}
    assert_send::<crate::SqliteRead<'static>>();
    assert_send::<crate::SqliteWrite<'static>>();
}

#[test]
fn the_temporary_store_removes_its_files() {
    let store = SqliteStore::open_in_memory().unwrap();
    let dir = store.path().parent().unwrap().to_owned();
    super::fill(&store);
    assert!(dir.exists());
    drop(store);
    assert!(!dir.exists());
}
