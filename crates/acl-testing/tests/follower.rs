//! Property test of the follower index (DESIGN rule D3): after random operation sequences
//! on an engine over a memory or a SQLite source, with catch-ups at random points, the
//! follower's store has exactly the source's kernel rows, changelog and revision, and the
//! engine over it decides every query as the source's engine does.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256 per source).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use acl_core::{
    Change, Grant, Level, PrincipalName, ReadView, Revision, Store, Timestamp, Uri, WriteTxn,
};
use acl_memory::{Follower, MemoryStore, kernel_rows};
use acl_platform::{Platform, PlatformStore};
use acl_sqlite::SqliteStore;
use acl_testing::differential::{Setup, apply_to_engine};
use acl_testing::ops::Op;
use acl_testing::strategies::{Universe, model, query};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The follower's store equals the source's, and both engines decide `queries` alike.
fn same<S: PlatformStore>(
    engine: &Platform<S>,
    follower: &Follower,
    queries: &[(PrincipalName, Uri, Level)],
    when: &str,
) {
    let source = engine.store().read().unwrap();
    let replica = follower.engine().store().read().unwrap();
    let revision = source.revision().unwrap();
    assert_eq!(replica.revision().unwrap(), revision, "{when}: revision");
    assert_eq!(follower.applied(), revision, "{when}: applied");
    assert_eq!(
        kernel_rows(&replica).unwrap(),
        kernel_rows(&source).unwrap(),
        "{when}: rows"
    );
    assert_eq!(
        replica.changes(Revision(0), None, 100_000).unwrap(),
        source.changes(Revision(0), None, 100_000).unwrap(),
        "{when}: changelog"
    );
    drop((source, replica));
    for (principal, uri, level) in queries {
        let want = engine.check(principal, uri, *level);
        let got = follower.engine().check(principal, uri, *level);
        match (want, got) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{when}: check({principal}, {uri}, {level})"),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{when}: {a} / {b}"),
            (a, b) => panic!("{when}: check({principal}, {uri}, {level}): {a:?} / {b:?}"),
        }
        let want = engine.explain(principal, uri).map(|d| d.level);
        let got = follower.engine().explain(principal, uri).map(|d| d.level);
        assert_eq!(want.ok(), got.ok(), "{when}: explain({principal}, {uri})");
    }
}

/// Runs `ops` on an engine over `store`, a follower built before init catching up after
/// each op whose `catch` flag is set, and compares them there and at the end.
fn run<S: PlatformStore>(
    store: S,
    ops: &[Op],
    catch: &[bool],
    queries: &[(PrincipalName, Uri, Level)],
) {
    let setup = Setup::standard();
    let engine = Platform::new(store, setup.schema.clone());
    let follower = Follower::build(
        engine.store(),
        setup.schema.clone(),
        engine.engine().options(),
    )
    .unwrap();
    engine
        .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        .unwrap();
    for (step, op) in ops.iter().enumerate() {
        let at = Timestamp(i64::try_from(step).unwrap() + 1);
        let _ = apply_to_engine(engine.engine(), op, at);
        if catch.get(step).copied().unwrap_or(false) {
            follower.catch_up(engine.store()).unwrap();
            same(
                &engine,
                &follower,
                queries,
                &format!("after op {step} {op:?}"),
            );
        }
    }
    follower.catch_up(engine.store()).unwrap();
    same(&engine, &follower, queries, "at the end");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rule D3: a follower of a memory store is its exact replica at every catch-up
    #[test]
    fn follower_of_memory_is_exact_d3(
        ops in model(&Universe::small()),
        catch in vec(any::<bool>(), 40),
        queries in vec(query(&Universe::small()), 1..8),
    ) {
        run(MemoryStore::new(), &ops, &catch, &queries);
    }

    // rule D3: a follower of a SQLite store is its exact replica at every catch-up
    #[test]
    fn follower_of_sqlite_is_exact_d3(
        ops in model(&Universe::small()),
        catch in vec(any::<bool>(), 40),
        queries in vec(query(&Universe::small()), 1..8),
    ) {
        run(SqliteStore::open_in_memory().unwrap(), &ops, &catch, &queries);
    }
}

/// A commit of more rows than the source keeps notes of, between two catch-ups.
fn bulk(store: &impl Store, grants: usize) {
    let mut txn = store.write().unwrap();
    let admin = PrincipalName::new("admin").unwrap();
    txn.delete_grant(&admin, &Uri::parse("storage://c/admin").unwrap())
        .unwrap();
    for i in 0..grants {
        txn.put_grant(&Grant {
            holder: admin.clone(),
            uri: Uri::parse(&format!("storage://c/bulk/{i}")).unwrap(),
            level: Level::Read,
        })
        .unwrap();
    }
    txn.commit(Change {
        at: Timestamp(1),
        actor: None,
        action: "bulk".into(),
        target: String::new(),
        detail: String::new(),
    })
    .unwrap();
}

fn rebuilds<S: PlatformStore>(store: S) {
    let setup = Setup::standard();
    let engine = Platform::new(store, setup.schema.clone());
    engine
        .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        .unwrap();
    let follower = Follower::build(
        engine.store(),
        setup.schema.clone(),
        engine.engine().options(),
    )
    .unwrap();
    bulk(engine.store(), 5_000);
    let after = engine
        .store()
        .read()
        .unwrap()
        .changed_rows(Revision(1))
        .unwrap();
    assert!(after.is_none(), "a 5,000-row commit keeps no notes");
    follower.catch_up(engine.store()).unwrap();
    assert_eq!(follower.status().rebuilds, 1);
    let admin = PrincipalName::new("admin").unwrap();
    let queries = vec![
        (
            admin.clone(),
            Uri::parse("storage://c/bulk/4999").unwrap(),
            Level::Read,
        ),
        (
            admin,
            Uri::parse("storage://c/admin/x").unwrap(),
            Level::Read,
        ),
    ];
    same(&engine, &follower, &queries, "after the rebuild");
}

// rule D3: past the notes a source keeps, the follower rebuilds and is exact again
#[test]
fn follower_rebuilds_past_the_notes_on_memory_d3() {
    rebuilds(MemoryStore::new());
}

// rule D3: past the notes a source keeps, the follower rebuilds and is exact again
#[test]
fn follower_rebuilds_past_the_notes_on_sqlite_d3() {
    rebuilds(SqliteStore::open_in_memory().unwrap());
}
