//! Group commit through the engine on a durable SQLite file: concurrent mutations, some
//! refused, each committed alone or with others in one SQLite `COMMIT` (one fsync), each
//! its own revision with its own changelog entry (DESIGN rule M3), the refused ones
//! writing nothing (rule M4: a failed call changes nothing), and the closure cache right
//! after all of them (section 9 "under writes", rule E7).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::thread;

use acl_core::{
    Caller, Engine, ErrorKind, Level, PrincipalKind, PrincipalName, ReadView, Revision, Schema,
    Store, Timestamp, Uri,
};
use acl_sqlite::SqliteStore;
use acl_testing::differential::Setup;

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn uri(text: &str) -> Uri {
    Uri::parse(text).unwrap()
}

#[test]
fn concurrent_mutations_each_get_their_own_revision_and_refused_ones_write_nothing_m3() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::standard();
    let engine = Engine::new(
        SqliteStore::open(dir.path().join("acl.db")).unwrap(),
        Schema::standard(),
    );
    engine
        .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        .unwrap();
    let admin = Caller::new(setup.admin.clone(), Timestamp(1));
    for user in ["alice", "bob", "carol"] {
        engine.create_user(&admin, &name(user)).unwrap();
    }
    engine
        .add_role(&admin, &name("c/g0"), PrincipalKind::Group)
        .unwrap();
    let start = engine.reader().unwrap().revision().unwrap();
    let commits = engine.store().commits();
    let bob = Caller::new(name("bob"), Timestamp(2));
    let (granters, each) = (6, 20);
    let results: Vec<(bool, Result<u64, ErrorKind>)> = thread::scope(|scope| {
        let mut handles = Vec::new();
        for t in 0..granters {
            let (engine, admin) = (&engine, &admin);
            handles.push(scope.spawn(move || {
                (0..each)
                    .map(|i| {
                        let target = uri(&format!("storage://c/alice/t{t}/{i}"));
                        let done = engine.grant(admin, &target, &name("alice"), Level::Read);
                        // a reader between writes fills the closure cache
                        engine.check(&name("alice"), &target, Level::Read).unwrap();
                        (true, done.map(|a| a.revision.0).map_err(|e| e.kind()))
                    })
                    .collect::<Vec<_>>()
            }));
        }
        // bob has no `manage` on alice's folder: every grant of his is refused
        let (engine, bob) = (&engine, &bob);
        handles.push(scope.spawn(move || {
            (0..each)
                .map(|i| {
                    let target = uri(&format!("storage://c/alice/bob/{i}"));
                    let done = engine.grant(bob, &target, &name("bob"), Level::Write);
                    (false, done.map(|a| a.revision.0).map_err(|e| e.kind()))
                })
                .collect()
        }));
        // membership changes among the grants: alice joins and leaves c/g0
        let admin = &admin;
        handles.push(scope.spawn(move || {
            (0..each)
                .map(|i| {
                    let group = uri("role://c/g0");
                    let done = if i % 2 == 0 {
                        engine
                            .grant(admin, &group, &name("alice"), Level::Read)
                            .map(|a| a.revision)
                    } else {
                        engine
                            .revoke(admin, &group, &name("alice"))
                            .map(|a| a.revision)
                    };
                    (true, done.map(|r| r.0).map_err(|e| e.kind()))
                })
                .collect()
        }));
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut revisions = BTreeSet::new();
    for (allowed, result) in &results {
        match (allowed, result) {
            (true, Ok(revision)) => assert!(revisions.insert(*revision), "{revision} twice"),
            (false, Err(kind)) => assert_eq!(*kind, ErrorKind::Forbidden),
            other => panic!("unexpected {other:?}"),
        }
    }
    let applied = (granters + 1) * each;
    assert_eq!(
        revisions,
        (start.0 + 1..=start.0 + applied as u64).collect::<BTreeSet<_>>()
    );
    // never more SQLite commits (fsyncs) than mutations
    assert!(engine.store().commits() - commits <= applied as u64);
    let view = engine.reader().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(start.0 + applied as u64));
    let changes = engine
        .store()
        .read()
        .unwrap()
        .changes(start, None, 10_000)
        .unwrap();
    let logged: Vec<u64> = changes.iter().map(|c| c.revision.0).collect();
    assert_eq!(logged, revisions.iter().copied().collect::<Vec<_>>());
    assert!(
        changes
            .iter()
            .all(|c| c.change.actor.as_ref() != Some(&name("bob")))
    );
    for t in 0..granters {
        for i in 0..each {
            let target = uri(&format!("storage://c/alice/t{t}/{i}"));
            assert!(engine.check(&name("alice"), &target, Level::Read).unwrap());
        }
    }
    assert!(
        !engine
            .check(&name("bob"), &uri("storage://c/alice/bob/0"), Level::Write)
            .unwrap()
    );
    let audit = engine.audit_cache().unwrap();
    assert!(audit.wrong.is_empty(), "{audit:?}");
    engine.store().check_integrity().unwrap();
}
