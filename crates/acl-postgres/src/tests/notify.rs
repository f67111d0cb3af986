//! Commits announce their revision to listeners (rule D4: a wake-up hint, the changelog
//! stays the truth), and only commits do.

use std::time::Duration;

use acl_core::{
    Change, PrincipalKind, PrincipalName, PrincipalRecord, Revision, Store, Timestamp, WriteTxn,
};

use crate::sql;
use crate::testing::Cluster;
use crate::{PgOptions, PgStore};

fn user_txn<'s>(store: &'s PgStore, name: &str) -> crate::PgWrite<'s> {
    let mut txn = store.write().unwrap();
    txn.insert_principal(&PrincipalRecord {
        name: PrincipalName::new(name).unwrap(),
        kind: PrincipalKind::User,
        active: true,
    })
    .unwrap();
    txn
}

fn change(name: &str) -> Change {
    Change {
        at: Timestamp(1),
        actor: None,
        action: "notify-test".to_owned(),
        target: name.to_owned(),
        detail: String::new(),
    }
}

#[test]
fn a_commit_on_one_store_wakes_the_listener_of_another_d4() {
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let writer = PgStore::open_with(&cluster.url(&db), PgOptions::default()).unwrap();
    let follower = PgStore::open_with(&cluster.url(&db), PgOptions::default()).unwrap();
    let mut listener = follower
        .listen()
        .unwrap()
        .expect("PostgreSQL delivers notifications");

    // Nothing committed yet: the wait times out.
    assert_eq!(listener.wait(Duration::from_millis(100)).unwrap(), None);

    let first = user_txn(&writer, "alice").commit(change("alice")).unwrap();
    assert_eq!(
        listener.wait(Duration::from_secs(10)).unwrap(),
        Some(first),
        "the commit announces its revision"
    );

    // A transaction rolled back (dropped) announces nothing.
    drop(user_txn(&writer, "bob"));
    assert_eq!(listener.wait(Duration::from_millis(200)).unwrap(), None);

    // Several commits before the listener looks: one wake-up, the highest revision.
    let mut last = Revision(0);
    for name in ["carol", "dave", "erin"] {
        last = user_txn(&writer, name).commit(change(name)).unwrap();
    }
    assert_eq!(last, Revision(first.0 + 3));
    // Notifications of one transaction arrive together; wait until the last has come.
    let mut seen = Revision(0);
    while seen < last {
        seen = listener
            .wait(Duration::from_secs(10))
            .unwrap()
            .expect("every commit is announced");
    }
    assert_eq!(seen, last);
    assert_eq!(listener.wait(Duration::from_millis(100)).unwrap(), None);

    drop(listener);
    drop((writer, follower));
    cluster.drop_database(&db).unwrap();
}

#[test]
fn the_channel_is_the_one_notify_names() {
    assert!(sql::NOTIFY.contains(&format!("'{}'", sql::CHANNEL)));
    assert!(sql::LISTEN.ends_with(sql::CHANNEL));
    assert!(sql::PROBE_LISTEN.contains(sql::LISTEN));
}
