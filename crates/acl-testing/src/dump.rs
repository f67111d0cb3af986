//! Conformance cases for dump and restore (rule D5) and the store call they rest on,
//! [`acl_core::WriteTxn::commit_history`]. Each is generic over the store; the cross-backend
//! round trip, [`d5_round_trip_between`], takes two.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acl_core::Level::{Deny, Manage, Read, Write};
use acl_core::{
    Change, ChangeEntry, ErrorKind, Fence, PrincipalKind, PrincipalRecord, ReadView, Revision,
    Store, Timestamp, WriteTxn,
};
use acl_platform::{
    Limit, Limits, Permission, PlatformStore, Resource, SessionRequest, UserRole, VmShareMode,
    dump_view, restore_into,
};

use crate::admin::new_account;
use crate::folders::folder_name;
use crate::world::{ADMIN, World, name, uri};

/// A world with a row of every kind: users, roles and groups, grants, a forbid, a fence,
/// folders (a user's, a group's), an accepted and a pending invitation, a VM shared to a
/// user, a policy, accounts, a keypair, a running and a stopped session.
pub fn rich_world<S: PlatformStore>(store: S) -> World<S> {
    let w = World::fast_hashing(store);
    w.policy(
        ADMIN,
        "small",
        Limits::unlimited()
            .with(Resource::Cpu, Limit::Max(8))
            .with(Resource::ConcurrentSessions, Limit::Max(3)),
    );
    for (user, role) in [("alice", UserRole::User), ("bob", UserRole::User)] {
        let mut account = new_account(user, role);
        account.policy = "small".into();
        w.engine
            .create_account(&w.by(ADMIN), &account, &mut entropy(user))
            .unwrap();
    }
    w.users(&["carol", "dave"]);
    w.keypair(ADMIN, "alice");
    w.role(ADMIN, "team", PrincipalKind::Group);
    w.engine
        .create_group(&w.by(ADMIN), &name("proj"), "research")
        .unwrap();
    w.role("alice", "alice/roles/readers", PrincipalKind::Role);
    w.grant(ADMIN, "role://team", "alice", Read);
    w.grant(ADMIN, "role://team", "bob", Read);
    w.grant(ADMIN, "role://team", "dave", Read);
    w.grant("alice", "role://alice/roles/readers", "carol", Read);
    w.grant(
        "alice",
        "storage://c/alice/data",
        "alice/roles/readers",
        Read,
    );
    w.grant("alice", "storage://c/alice/data/raw", "dave", Write);
    w.grant("alice", "storage://c/alice/data/secret", "carol", Deny);
    w.engine
        .add_fence(&w.by(ADMIN), &uri("storage://c/projects/x"), &name("team"))
        .unwrap();
    let mine = w.folder("alice", "mine");
    let pending = w.folder("alice", "drafts");
    let invited = w.invite1("alice", &mine, "bob", Permission::ReadWrite);
    w.accept("bob", &invited);
    w.invite1("alice", &pending, "carol", Permission::ReadOnly);
    w.engine
        .create_group_folder(
            &w.by(ADMIN),
            &name("team"),
            &folder_name("shared"),
            "h1",
            Permission::ReadOnly,
        )
        .unwrap();
    let vm = w
        .engine
        .create_vm(&w.by("alice"), &folder_name("gpu"), &name("team"))
        .unwrap()
        .value;
    w.engine
        .share_vm(&w.by("alice"), &vm.id, &name("dave"), VmShareMode::Use)
        .unwrap();
    let request = SessionRequest {
        cpu: 2,
        containers: 1,
        ..SessionRequest::default()
    };
    let first = w
        .engine
        .start_session(&w.by("alice"), &request)
        .unwrap()
        .value;
    w.engine.start_session(&w.by("alice"), &request).unwrap();
    w.engine.stop_session(&w.by("alice"), &first.id).unwrap();
    w
}

fn entropy(seed: &str) -> impl FnMut(&mut [u8]) {
    let mut next = seed
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    move |buf: &mut [u8]| {
        for byte in buf {
            next = next.wrapping_mul(167).wrapping_add(13);
            *byte = next;
        }
    }
}

fn dump_of<S: Store>(store: &S) -> Vec<u8>
where
    for<'a> S::Read<'a>: acl_platform::PlatformView,
{
    let mut out = Vec::new();
    dump_view(&store.read().unwrap(), &mut out).unwrap();
    out
}

fn change(action: &str) -> Change {
    Change {
        at: Timestamp(5),
        actor: Some(name("alice")),
        action: action.into(),
        target: "t".into(),
        detail: "d".into(),
    }
}

/// rule D5: `commit_history` writes the transaction's rows with the entries given, at
/// their revisions; entries out of turn, or none, are refused and nothing is written.
pub fn d5_commit_history<S: PlatformStore>(make: &dyn Fn() -> S) {
    let store = make();
    let entries = |from: u64, n: u64| -> Vec<ChangeEntry> {
        (from..from + n)
            .map(|r| ChangeEntry {
                revision: Revision(r),
                change: change(&format!("op{r}")),
            })
            .collect()
    };
    let carol = PrincipalRecord {
        name: name("carol"),
        kind: PrincipalKind::User,
        active: true,
    };
    for bad in [entries(2, 2), entries(1, 0), {
        let mut gap = entries(1, 3);
        gap.remove(1);
        gap
    }] {
        let mut tx = store.write().unwrap();
        tx.insert_principal(&carol).unwrap();
        let err = tx.commit_history(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let view = store.read().unwrap();
        assert_eq!(view.revision().unwrap(), Revision(0));
        assert_eq!(view.principal(&name("carol")).unwrap(), None);
        assert!(view.changes(Revision(0), None, 10).unwrap().is_empty());
    }
    let mut tx = store.write().unwrap();
    tx.insert_principal(&carol).unwrap();
    assert_eq!(tx.commit_history(&entries(1, 3)).unwrap(), Revision(3));
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap(), Revision(3));
    assert_eq!(view.principal(&name("carol")).unwrap(), Some(carol));
    assert_eq!(view.changes(Revision(0), None, 10).unwrap(), entries(1, 3));
    let by = view.changes(Revision(1), Some(&name("alice")), 10).unwrap();
    assert_eq!(by, entries(2, 2));
    drop(view);
    // an ordinary commit goes on from there
    let mut tx = store.write().unwrap();
    tx.set_fence(
        &Fence {
            uri: uri("storage://c/x"),
            group: name("carol"),
        },
        true,
    )
    .unwrap();
    assert_eq!(tx.commit(change("next")).unwrap(), Revision(4));
}

/// rule D5: a dump restored into an empty store of the same backend and dumped again is
/// the same bytes, and the restored store answers as the original and takes new writes.
pub fn d5_dump_restore_round_trip<S: PlatformStore>(make: &dyn Fn() -> S) {
    d5_round_trip_between(make, make);
}

/// rule D5 across backends: a dump of `from`'s store restored into `into`'s is dumped
/// again as the same bytes; checks answer the same on both.
pub fn d5_round_trip_between<A: PlatformStore, B: PlatformStore>(
    from: &dyn Fn() -> A,
    into: &dyn Fn() -> B,
) {
    let w = rich_world(from());
    let first = dump_of(w.engine.store());
    let target = into();
    let summary = restore_into(&target, &mut first.as_slice()).unwrap();
    let revision = w.engine.reader().unwrap().revision().unwrap();
    assert_eq!(summary.revision, revision);
    // every kind of row but the header is there
    for kind in acl_platform::DUMP_ORDER.iter().skip(1) {
        assert!(
            summary.rows.contains_key(kind),
            "no {kind} rows: {summary:?}"
        );
    }
    let again = dump_of(&target);
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&first)
    );
    let restored = World::adopt(target);
    for (principal, at, level) in [
        ("carol", "storage://c/alice/data/x", Read),
        ("carol", "storage://c/alice/data/secret", Deny),
        ("dave", "storage://c/alice/data/raw", Write),
        ("alice", "storage://c/alice", Manage),
        ("bob", "storage://c/alice/data", Deny),
    ] {
        assert_eq!(w.level(principal, at), level, "{principal} {at}");
        assert_eq!(restored.level(principal, at), level, "{principal} {at}");
    }
    // the restored store goes on at the next revision
    let done = restored
        .engine
        .grant(
            &restored.by("alice"),
            &uri("storage://c/alice/more"),
            &name("bob"),
            Read,
        )
        .unwrap();
    assert_eq!(done.revision, revision.next());
}

/// rule D5: a restore into a store that is not empty, and a dump that is cut short, edited
/// (a bad checksum), out of order, or holding an invalid value, are refused with a typed
/// error naming the problem, and the target is left exactly as it was.
pub fn d5_restore_refuses_and_changes_nothing<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = rich_world(make());
    let good = dump_of(w.engine.store());
    // not empty: the world itself
    let before = dump_of(w.engine.store());
    let err = restore_into(w.engine.store(), &mut good.as_slice()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("empty store"), "{err}");
    assert_eq!(dump_of(w.engine.store()), before);
    let text = String::from_utf8(good.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let join = |lines: &[&str]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let edited = text.replacen(
        "storage://c/alice/data/raw",
        "storage://c/alice/data/rax",
        1,
    );
    let mut swapped = lines.clone();
    let grant = lines
        .iter()
        .position(|l| l.starts_with(r#"{"t":"grant""#))
        .unwrap();
    swapped.swap(1, grant);
    let invalid = text.replacen("\"carol\"", "\"ca rol\"", 1);
    let cases: Vec<(String, &str)> = vec![
        (join(&lines[..lines.len() - 1]), "cut short"),
        (join(&lines[..lines.len() / 2]), "cut short"),
        (edited, "checksum mismatch"),
        (join(&swapped), "a principal line after the grant lines"),
        (invalid, "not a dump line"),
        (text.replacen("acl-dump", "other", 1), "format `other`"),
        (format!("{text}{{}}\n"), "after the checksum line"),
        (String::new(), "cut short"),
    ];
    for (bad, named) in cases {
        let target = make();
        let err = restore_into(&target, &mut bad.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(named), "`{named}` not in: {err}");
        let view = target.read().unwrap();
        assert_eq!(view.revision().unwrap(), Revision(0));
        assert_eq!(view.cluster().unwrap(), None);
        assert!(view.principals(None, 10).unwrap().is_empty());
    }
}
