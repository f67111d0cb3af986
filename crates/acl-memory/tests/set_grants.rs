//! `Engine::set_grants` (Neu.ro's "set permissions", rule N1): the direct grants of a
//! principal replaced in one transaction, each revoke and grant authorized as alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acl_core::{
    Caller, ClusterName, Engine, ErrorKind, GrantsSet, Level, PrincipalKind, PrincipalName,
    ReadView, Schema, Store, Timestamp, Uri,
};
use acl_memory::MemoryStore;

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn uri(text: &str) -> Uri {
    Uri::parse(text).unwrap()
}

fn held(engine: &Engine<MemoryStore>, who: &str) -> Vec<(String, Level)> {
    engine
        .store()
        .read()
        .unwrap()
        .grants_of(&name(who), None, None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|g| (g.uri.to_string(), g.level))
        .collect()
}

fn engine() -> (Engine<MemoryStore>, Caller) {
    let engine = Engine::new(MemoryStore::new(), Schema::standard());
    engine
        .init(
            &ClusterName::new("c").unwrap(),
            Some(&name("admin")),
            Timestamp(1),
        )
        .unwrap();
    let admin = Caller::new(name("admin"), Timestamp(2));
    engine.create_user(&admin, &name("alice")).unwrap();
    engine
        .add_role(&admin, &name("team"), PrincipalKind::Role)
        .unwrap();
    (engine, admin)
}

// rule N1 (set), M1, M2: the new set replaces the old exactly, a lower level included
#[test]
fn set_grants_replaces_the_direct_grants() {
    let (engine, admin) = engine();
    engine
        .grant(&admin, &uri("storage://c/a"), &name("team"), Level::Manage)
        .unwrap();
    engine
        .grant(&admin, &uri("job://c/x"), &name("team"), Level::Read)
        .unwrap();
    let done = engine
        .set_grants(
            &admin,
            &name("team"),
            &[
                (uri("storage://c/a"), Level::Read),
                (uri("job://c/x"), Level::Read),
                (uri("image://c/i"), Level::Write),
            ],
        )
        .unwrap();
    assert_eq!(
        done.value,
        GrantsSet {
            revoked: 1,
            granted: 2
        }
    );
    assert_eq!(
        held(&engine, "team"),
        vec![
            ("image://c/i".to_owned(), Level::Write),
            ("job://c/x".to_owned(), Level::Read),
            ("storage://c/a".to_owned(), Level::Read),
        ]
    );
    // The same set again changes nothing and keeps the revision.
    let again = engine
        .set_grants(
            &admin,
            &name("team"),
            &[
                (uri("storage://c/a"), Level::Read),
                (uri("job://c/x"), Level::Read),
                (uri("image://c/i"), Level::Write),
            ],
        )
        .unwrap();
    assert_eq!(again.revision, done.revision);
    assert_eq!(again.value, GrantsSet::default());
}

// rule M3: a refusal anywhere changes nothing; rule M4: the kinds
#[test]
fn set_grants_is_all_or_nothing() {
    let (engine, admin) = engine();
    engine
        .grant(&admin, &uri("storage://c/a"), &name("team"), Level::Read)
        .unwrap();
    let before = (
        held(&engine, "team"),
        engine.store().read().unwrap().revision().unwrap(),
    );
    let alice = Caller::new(name("alice"), Timestamp(3));
    // alice manages storage://c/alice, not storage://c/a (which the set would revoke).
    let err = engine
        .set_grants(
            &alice,
            &name("team"),
            &[(uri("storage://c/alice/x"), Level::Read)],
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let twice = engine
        .set_grants(
            &admin,
            &name("team"),
            &[
                (uri("job://c/x"), Level::Read),
                (uri("job://c/x/"), Level::Write),
            ],
        )
        .unwrap_err();
    assert_eq!(twice.kind(), ErrorKind::InvalidInput);
    let missing = engine
        .set_grants(&admin, &name("nobody"), &[(uri("job://c/x"), Level::Read)])
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(
        engine
            .set_grants(&admin, &name("nobody"), &[])
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let after = (
        held(&engine, "team"),
        engine.store().read().unwrap().revision().unwrap(),
    );
    assert_eq!(before, after);
}
