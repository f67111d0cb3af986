//! A write transaction's queue of grants: every read of the transaction sees the queued
//! grants (`grants_at` through the queue, every other read after sending it), a later
//! write of the same key wins, and a rollback drops them with the rest.

use acl_core::{
    Change, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Store,
    Timestamp, Uri, WriteTxn,
};

use crate::testing::Cluster;
use crate::{PgOptions, PgStore, QUEUED_GRANTS};

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn uri(text: &str) -> Uri {
    Uri::parse(text).unwrap()
}

fn grant(holder: &str, at: &str, level: Level) -> Grant {
    Grant {
        holder: name(holder),
        uri: uri(at),
        level,
    }
}

fn change() -> Change {
    Change {
        at: Timestamp(1),
        actor: None,
        action: "queue-test".to_owned(),
        target: String::new(),
        detail: String::new(),
    }
}

#[test]
fn the_transaction_reads_its_queued_grants_and_a_rollback_drops_them() {
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let store = PgStore::open_with(&cluster.url(&db), PgOptions::default()).unwrap();
    let mut tx = store.write().unwrap();
    for holder in ["alice", "bob"] {
        tx.insert_principal(&PrincipalRecord {
            name: name(holder),
            kind: PrincipalKind::User,
            active: true,
        })
        .unwrap();
    }
    tx.commit(change()).unwrap();

    let mut tx = store.write().unwrap();
    tx.put_grant(&grant("alice", "storage://c/a", Level::Read))
        .unwrap();
    tx.put_grant(&grant("bob", "storage://c/a", Level::Write))
        .unwrap();
    // Through the queue: the last level of a key wins.
    tx.put_grant(&grant("alice", "storage://c/a", Level::Manage))
        .unwrap();
    let mut at = tx
        .grants_at(&[name("alice"), name("bob")], &[uri("storage://c/a")])
        .unwrap();
    at.sort_by(|a, b| a.holder.cmp(&b.holder));
    assert_eq!(
        at,
        vec![
            grant("alice", "storage://c/a", Level::Manage),
            grant("bob", "storage://c/a", Level::Write)
        ]
    );
    // Pairs, through the queue too (a pair asked twice answered once).
    let mut on_pairs = tx
        .grants_on_pairs(&[
            (name("alice"), uri("storage://c/a")),
            (name("bob"), uri("storage://c/b")),
            (name("bob"), uri("storage://c/a")),
            (name("alice"), uri("storage://c/a")),
        ])
        .unwrap();
    on_pairs.sort_by(|a, b| a.holder.cmp(&b.holder));
    assert_eq!(on_pairs, at);
    // Only the keys asked about.
    assert_eq!(
        tx.grants_at(&[name("bob")], &[uri("storage://c/a")])
            .unwrap(),
        vec![grant("bob", "storage://c/a", Level::Write)]
    );
    assert!(
        tx.grants_at(&[name("alice")], &[uri("storage://c/b")])
            .unwrap()
            .is_empty()
    );
    // Another read sends the queue first.
    assert_eq!(
        tx.grants_of(&name("alice"), None, None, 10).unwrap(),
        vec![grant("alice", "storage://c/a", Level::Manage)]
    );
    // A delete after queued writes of its key removes them.
    tx.put_grant(&grant("bob", "storage://c/b", Level::Read))
        .unwrap();
    assert!(
        tx.delete_grant(&name("bob"), &uri("storage://c/b"))
            .unwrap()
    );
    assert!(
        tx.grants_at(&[name("bob")], &[uri("storage://c/b")])
            .unwrap()
            .is_empty()
    );
    // More than the queue holds: sent on the way, every one there.
    for i in 0..QUEUED_GRANTS + 100 {
        tx.put_grant(&grant("bob", &format!("storage://c/many/{i}"), Level::Read))
            .unwrap();
    }
    assert_eq!(
        tx.grants_within(&uri("storage://c/many"), None, usize::MAX)
            .unwrap()
            .len(),
        QUEUED_GRANTS + 100
    );
    // Dropped: nothing of it stays, queued or sent.
    drop(tx);
    let read = store.read().unwrap();
    assert!(
        read.grants_of(&name("alice"), None, None, 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        read.grants_of(&name("bob"), None, None, 10)
            .unwrap()
            .is_empty()
    );
    drop(read);

    // Committed with grants still queued: all of them land, with their notes.
    let mut tx = store.write().unwrap();
    tx.put_grant(&grant("alice", "storage://c/x", Level::List))
        .unwrap();
    let revision = tx.commit(change()).unwrap();
    let read = store.read().unwrap();
    assert_eq!(
        read.grants_of(&name("alice"), None, None, 10).unwrap(),
        vec![grant("alice", "storage://c/x", Level::List)]
    );
    let noted = read
        .changed_rows(acl_core::Revision(revision.0 - 1))
        .unwrap()
        .unwrap();
    assert!(
        noted.contains(&acl_core::RowKey::Grant {
            holder: name("alice"),
            uri: uri("storage://c/x")
        }),
        "{noted:?}"
    );
    drop(read);
    drop(store);
    cluster.drop_database(&db).unwrap();
}
