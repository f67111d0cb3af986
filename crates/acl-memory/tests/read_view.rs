//! Every `ReadView` method on the hand-built fixture of `common`: one `check` helper, one
//! line per case. The URIs include the root and the `storage://c/u` versus
//! `storage://c/ux` (and `c/u-x`, `c/u0`) edges of `Uri::descendant_bounds`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acl_core::ReadViewExt;
use std::fmt::Debug;

use acl_core::{
    ChangeEntry, ClusterName, Fence, Grant, PrincipalKind, PrincipalRecord, ReadView, Result,
    Revision, Store,
};
use acl_memory::{MemoryRead, MemoryStore};
use common::*;

const MAX: usize = usize::MAX;

/// Asserts that a lookup succeeded with `want`; reports the line of the case on failure.
#[track_caller]
fn check<T: PartialEq + Debug>(got: Result<T>, want: T) {
    match got {
        Ok(got) => assert_eq!(got, want),
        Err(err) => panic!("lookup failed: {err}"),
    }
}

fn with_fixture(test: impl FnOnce(&MemoryRead<'_>)) {
    let store = MemoryStore::new();
    fixture(&store);
    test(&store.read().unwrap());
}

/// `(left, right name)` pairs, sorted, from a `roles_of`/`members_of` answer.
fn pairs(got: Result<Vec<(acl_core::PrincipalName, PrincipalRecord)>>) -> Result<Vec<String>> {
    got.map(|v| {
        sorted(
            v.into_iter()
                .map(|(a, r)| format!("{a} {}", r.name))
                .collect(),
        )
    })
}

fn strs(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

/// `"{revision} {actor or -} {action}"` for each entry.
fn entries(got: Result<Vec<ChangeEntry>>) -> Result<Vec<String>> {
    got.map(|v| {
        v.iter()
            .map(|e| {
                let actor = e.change.actor.as_ref().map_or("-", |a| a.as_str());
                format!("{} {actor} {}", e.revision, e.change.action)
            })
            .collect()
    })
}

#[test]
fn revision_and_cluster() {
    with_fixture(|v| {
        check(v.revision(), Revision(4));
        check(v.cluster(), Some(ClusterName::new("c").unwrap()));
    });
    let empty = MemoryStore::new();
    let v = empty.read().unwrap();
    check(v.revision(), Revision(0));
    check(v.cluster(), None);
    check(v.principals(None, MAX), vec![]);
    check(v.changes(Revision(0), None, MAX), vec![]);
    check(v.grants_within(&uri("storage://"), None, MAX), vec![]);
    check(v.fences(None, None, MAX), vec![]);
}

#[test]
fn principal_and_principals() {
    with_fixture(|v| {
        let p = |n: &str| v.principal(&name(n));
        check(p("alice"), Some(record("alice", PrincipalKind::User, true)));
        check(
            p("carol"),
            Some(record("carol", PrincipalKind::User, false)),
        );
        check(p("eng"), Some(record("eng", PrincipalKind::Group, true)));
        check(p("nobody"), None);

        let page = |after: Option<&str>, limit| {
            v.principals(after.map(name).as_ref(), limit)
                .map(|rs| rs.into_iter().map(|r| r.name.to_string()).collect())
        };
        let all = ["alice", "bob", "carol", "dave", "eng", "readers"];
        check(page(None, MAX), strs(&all));
        check(page(None, 2), strs(&["alice", "bob"]));
        check(page(Some("bob"), 2), strs(&["carol", "dave"]));
        check(page(Some("b"), 1), strs(&["bob"]));
        check(page(Some("readers"), MAX), strs(&[]));
        check(page(Some("zzz"), MAX), strs(&[]));
        check(page(None, 0), strs(&[]));
    });
}

#[test]
fn roles_of_and_members_of() {
    with_fixture(|v| {
        let roles = |ms: &[&str]| pairs(v.roles_of(&names(ms)));
        check(roles(&["alice"]), strs(&["alice eng", "alice readers"]));
        check(
            roles(&["alice", "eng"]),
            strs(&["alice eng", "alice readers", "eng readers"]),
        );
        check(
            roles(&["alice", "alice"]),
            strs(&["alice eng", "alice readers"]),
        );
        check(roles(&["carol"]), strs(&[]));
        check(roles(&["readers"]), strs(&[]));
        check(roles(&["nobody"]), strs(&[]));
        check(roles(&[]), strs(&[]));

        let members = |rs: &[&str]| pairs(v.members_of(&names(rs)));
        check(
            members(&["readers"]),
            strs(&["readers alice", "readers eng"]),
        );
        check(members(&["eng"]), strs(&["eng alice", "eng bob"]));
        check(
            members(&["eng", "readers"]),
            strs(&["eng alice", "eng bob", "readers alice", "readers eng"]),
        );
        check(members(&["alice"]), strs(&[]));
        check(members(&[]), strs(&[]));

        // the whole record comes back, not just the name
        let eng = record("eng", PrincipalKind::Group, true);
        let got = v.members_of(&names(&["readers"])).unwrap();
        assert!(got.contains(&(name("readers"), eng)), "{got:?}");
    });
}

#[test]
fn grants_at_and_grants_on() {
    with_fixture(|v| {
        let at = |hs: &[&str], us: &[&str]| v.grants_at(&names(hs), &uris(us)).map(sorted_grants);
        check(
            at(&["alice", "bob"], &["storage://c/u", "storage://c/u/x"]),
            grants(&[
                "alice storage://c/u manage",
                "bob storage://c/u deny",
                "alice storage://c/u/x deny",
                "bob storage://c/u/x read",
            ]),
        );
        check(
            at(&["alice"], &["storage://"]),
            grants(&["alice storage:// list"]),
        );
        check(
            at(&["alice", "alice"], &["storage://c/u", "storage://c/u"]),
            grants(&["alice storage://c/u manage"]),
        );
        check(at(&["alice"], &["storage://c"]), vec![]);
        check(at(&["dave"], &["storage://c/u"]), vec![]);
        check(at(&["carol", "nobody"], &["storage://c/u"]), vec![]);
        check(at(&[], &["storage://c/u"]), vec![]);
        check(at(&["alice"], &[]), vec![]);

        let on = |us: &[&str]| v.grants_on(&uris(us)).map(sorted_grants);
        check(
            on(&["storage://c/u/x"]),
            grants(&["alice storage://c/u/x deny", "bob storage://c/u/x read"]),
        );
        check(
            on(&["storage://c/ux", "storage://"]),
            grants(&[
                "alice storage:// list",
                "alice storage://c/ux read",
                "dave storage://c/ux read",
            ]),
        );
        check(
            on(&["storage://c/u0", "storage://c/u0"]),
            grants(&["dave storage://c/u0 read"]),
        );
        check(on(&["storage://c"]), vec![]);
        check(on(&[]), vec![]);
    });
}

#[test]
fn grant_below_cases() {
    with_fixture(|v| {
        let below = |hs: &[&str], u: &str| v.grant_below(&names(hs), &uri(u));
        let some = |g: &str| Some(grant(g));
        // the first allow grant in (URI, holder) order; forbids are skipped
        check(
            below(&["alice"], "storage://c/u"),
            some("alice storage://c/u/x/y write"),
        );
        check(
            below(&["bob"], "storage://c/u"),
            some("bob storage://c/u/x read"),
        );
        check(
            below(&["alice", "bob"], "storage://c/u"),
            some("bob storage://c/u/x read"),
        );
        check(
            below(&["alice", "alice", "bob"], "storage://c/u"),
            some("bob storage://c/u/x read"),
        );
        check(below(&["bob"], "storage://c/u/x"), None);
        check(below(&["alice"], "storage://c/u/x/y"), None);
        // `c/ux`, `c/u-x` and `c/u0` are not below `c/u`
        check(below(&["dave"], "storage://c/u"), None);
        check(below(&["alice"], "storage://c/u-x"), None);
        check(
            below(&["eng", "dave"], "storage://c"),
            some("dave storage://c/u-x write"),
        );
        // the root: its own grant is not below it; other schemes are not either
        check(
            below(&["alice"], "storage://"),
            some("alice storage://c/u manage"),
        );
        check(below(&["eng"], "role://"), some("eng role://readers read"));
        check(below(&["alice"], "role://"), None);
        check(below(&["carol"], "storage://"), None);
        check(below(&[], "storage://c/u"), None);
    });
}

#[test]
fn grants_of_cases() {
    with_fixture(|v| {
        let of = |h: &str, within: Option<&str>, after: Option<&str>, limit| {
            v.grants_of(
                &name(h),
                within.map(uri).as_ref(),
                after.map(uri).as_ref(),
                limit,
            )
        };
        let alice_storage = [
            "alice storage:// list",
            "alice storage://c/u manage",
            "alice storage://c/u-x list",
            "alice storage://c/u/x deny",
            "alice storage://c/u/x/y write",
            "alice storage://c/ux read",
        ];
        let mut alice_all = vec!["alice job://c/a read", "alice storage-x://c read"];
        alice_all.extend(alice_storage);
        alice_all.push("alice storagex://c read");

        check(of("alice", None, None, MAX), grants(&alice_all));
        check(
            of("alice", Some("storage://"), None, MAX),
            grants(&alice_storage),
        );
        check(
            of("alice", Some("storage://"), Some("storage://"), MAX),
            grants(alice_storage.get(1..).unwrap()),
        );
        check(
            of("alice", Some("storage://c"), None, MAX),
            grants(alice_storage.get(1..).unwrap()),
        );
        check(
            of("alice", Some("storage://c/u"), None, MAX),
            grants(&[
                "alice storage://c/u manage",
                "alice storage://c/u/x deny",
                "alice storage://c/u/x/y write",
            ]),
        );
        check(
            of("alice", Some("storage://c/u"), Some("storage://c/u"), 1),
            grants(&["alice storage://c/u/x deny"]),
        );
        // `after` between the URI and its descendants' range
        check(
            of("alice", Some("storage://c/u"), Some("storage://c/u-x"), MAX),
            grants(&[
                "alice storage://c/u/x deny",
                "alice storage://c/u/x/y write",
            ]),
        );
        check(
            of(
                "alice",
                Some("storage://c/u"),
                Some("storage://c/u/x/y"),
                MAX,
            ),
            vec![],
        );
        check(
            of("alice", Some("storage://c/u"), Some("storage://c/z"), MAX),
            vec![],
        );
        check(
            of("alice", Some("storage://c/ux"), None, MAX),
            grants(&["alice storage://c/ux read"]),
        );
        check(
            of("alice", None, Some("storage://c/u/x"), 2),
            grants(&["alice storage://c/u/x/y write", "alice storage://c/ux read"]),
        );
        check(of("alice", Some("storage://c/u"), None, 0), vec![]);
        check(of("dave", Some("storage://c/u"), None, MAX), vec![]);
        check(
            of("eng", Some("role://"), None, MAX),
            grants(&["eng role://readers read"]),
        );
        check(of("carol", None, None, MAX), vec![]);
        check(of("nobody", None, None, MAX), vec![]);
    });
}

#[test]
fn grants_within_cases() {
    with_fixture(|v| {
        let within = |w: &str, after: Option<(&str, &str)>, limit| {
            let after = after.map(|(u, h)| (uri(u), name(h)));
            v.grants_within(&uri(w), after.as_ref().map(|(u, h)| (u, h)), limit)
        };
        let under_u = [
            "alice storage://c/u manage",
            "bob storage://c/u deny",
            "alice storage://c/u/x deny",
            "bob storage://c/u/x read",
            "alice storage://c/u/x/y write",
            "bob storage://c/u/x/y deny",
            "eng storage://c/u/z write",
        ];
        let g = |range: std::ops::RangeFrom<usize>| -> Vec<Grant> {
            grants(under_u.get(range).unwrap())
        };
        check(within("storage://c/u", None, MAX), g(0..));
        check(
            within("storage://c/u", Some(("storage://c/u", "alice")), MAX),
            g(1..),
        );
        check(
            within("storage://c/u", Some(("storage://c/u", "bob")), MAX),
            g(2..),
        );
        check(
            within("storage://c/u", Some(("storage://c/u/x", "alice")), 2),
            grants(&["bob storage://c/u/x read", "alice storage://c/u/x/y write"]),
        );
        // a key between the URI and its descendants' range
        check(
            within("storage://c/u", Some(("storage://c/u-x", "zzz")), MAX),
            g(2..),
        );
        check(
            within("storage://c/u", Some(("storage://c/u/z", "eng")), MAX),
            vec![],
        );
        check(
            within("storage://c/u", Some(("storage://d", "a")), MAX),
            vec![],
        );
        check(within("storage://c/u", None, 0), vec![]);
        check(
            within("storage://c/u/x/y", None, MAX),
            grants(&[
                "alice storage://c/u/x/y write",
                "bob storage://c/u/x/y deny",
            ]),
        );
        check(
            within("storage://c/ux", None, MAX),
            grants(&["alice storage://c/ux read", "dave storage://c/ux read"]),
        );
        check(within("storage://c/nothing", None, MAX), vec![]);
        // the root: its own row first, no other scheme
        let mut all_storage = vec!["alice storage:// list"];
        all_storage.extend(&under_u[..2]);
        all_storage.extend(["alice storage://c/u-x list", "dave storage://c/u-x write"]);
        all_storage.extend(&under_u[2..]);
        all_storage.extend([
            "dave storage://c/u0 read",
            "alice storage://c/ux read",
            "dave storage://c/ux read",
        ]);
        check(within("storage://", None, MAX), grants(&all_storage));
        check(
            within("storage://", Some(("storage://", "alice")), 3),
            grants(&[
                "alice storage://c/u manage",
                "bob storage://c/u deny",
                "alice storage://c/u-x list",
            ]),
        );
        check(
            within("role://", None, MAX),
            grants(&["eng role://readers read"]),
        );
        check(
            within("job://c", None, MAX),
            grants(&["alice job://c/a read"]),
        );
    });
}

#[test]
fn fence_cases() {
    with_fixture(|v| {
        let at = |us: &[&str]| v.fences_at(&uris(us)).map(sorted);
        check(
            at(&["storage://c/u", "storage://"]),
            sorted(fences(&["storage:// eng", "storage://c/u eng"])),
        );
        check(
            at(&["storage://c/u/x"]),
            fences(&["storage://c/u/x readers"]),
        );
        check(
            at(&["storage://c/u", "storage://c/u"]),
            fences(&["storage://c/u eng"]),
        );
        check(at(&["storage://c"]), vec![]);
        check(at(&[]), vec![]);

        let list = |within: Option<&str>, after: Option<&str>, limit| {
            v.fences(within.map(uri).as_ref(), after.map(fence).as_ref(), limit)
        };
        let all = fences(&[
            "job://c eng",
            "storage:// eng",
            "storage://c/u eng",
            "storage://c/u/x readers",
            "storage://c/ux eng",
        ]);
        let from = |i: usize| -> Vec<Fence> { all.get(i..).unwrap().to_vec() };
        check(list(None, None, MAX), from(0));
        check(list(None, None, 0), vec![]);
        check(
            list(None, Some("storage://c/u eng"), 1),
            fences(&["storage://c/u/x readers"]),
        );
        check(list(Some("storage://"), None, MAX), from(1));
        check(
            list(Some("storage://"), Some("storage:// eng"), MAX),
            from(2),
        );
        check(
            list(Some("storage://"), Some("storage:// aaa"), 1),
            fences(&["storage:// eng"]),
        );
        check(
            list(Some("storage://c/u"), None, MAX),
            fences(&["storage://c/u eng", "storage://c/u/x readers"]),
        );
        check(
            list(Some("storage://c/u"), Some("storage://c/u/x readers"), MAX),
            vec![],
        );
        check(
            list(Some("storage://c/ux"), None, MAX),
            fences(&["storage://c/ux eng"]),
        );
        check(list(Some("job://"), None, MAX), fences(&["job://c eng"]));
        check(list(Some("role://"), None, MAX), vec![]);

        let of = |g: &str| v.fences_of_group(&name(g));
        check(
            of("eng"),
            fences(&[
                "job://c eng",
                "storage:// eng",
                "storage://c/u eng",
                "storage://c/ux eng",
            ]),
        );
        check(of("readers"), fences(&["storage://c/u/x readers"]));
        check(of("alice"), vec![]);
        check(of("nobody"), vec![]);
    });
}

#[test]
fn changes_cases() {
    with_fixture(|v| {
        let ch = |after: u64, actor: Option<&str>, limit| {
            entries(v.changes(Revision(after), actor.map(name).as_ref(), limit))
        };
        let all = [
            "1 - init",
            "2 alice grant",
            "3 bob add_role",
            "4 alice fence",
        ];
        check(ch(0, None, MAX), strs(&all));
        check(ch(2, None, MAX), strs(&all[2..]));
        check(ch(0, None, 1), strs(&all[..1]));
        check(ch(0, None, 0), strs(&[]));
        check(ch(4, None, MAX), strs(&[]));
        check(ch(100, None, MAX), strs(&[]));
        check(
            ch(0, Some("alice"), MAX),
            strs(&["2 alice grant", "4 alice fence"]),
        );
        check(ch(2, Some("alice"), MAX), strs(&["4 alice fence"]));
        check(ch(1, Some("alice"), 1), strs(&["2 alice grant"]));
        check(ch(0, Some("bob"), MAX), strs(&["3 bob add_role"]));
        check(ch(3, Some("bob"), MAX), strs(&[]));
        check(ch(0, Some("carol"), MAX), strs(&[]));

        // the entries come back whole
        check(
            v.changes(Revision(0), None, 1),
            vec![ChangeEntry {
                revision: Revision(1),
                change: change(None, "init"),
            }],
        );
    });
}

// The snapshot helper sees the whole fixture (the other suites rely on it).
#[test]
fn snapshot_sees_every_row() {
    let store = MemoryStore::new();
    fixture(&store);
    let snap = snapshot_of(&store);
    assert_eq!(snap.principals.len(), PRINCIPALS.len());
    assert_eq!(snap.grants.len(), GRANTS.len());
    assert_eq!(snap.edges.len(), EDGES.len());
    assert_eq!(snap.fences.len(), FENCES.len());
    assert_eq!(snap.changes.len(), 4);
    assert_eq!(snap.grants, sorted_grants(grants(GRANTS)));
    // and the write transaction reads the same state as a view before it writes
    let txn = store.write().unwrap();
    assert_eq!(snapshot(&txn), snap);
}
