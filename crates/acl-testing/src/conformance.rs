//! The Store conformance suite: every rule of docs/semantics.md, checked through the
//! engine over any backend. A backend runs it with
//! `acl_testing::conformance_tests!(MyStore::new());`, which expands to one `#[test]` per case.
//!
//! Each case builds its own fresh store with `make`, so cases are independent.

use std::collections::BTreeSet;

use crate::counting::CountingStore;
use crate::world::{ADMIN, World, name, uri};
use acl_core::Level::{self, Deny, List, Manage, Read, Write};
use acl_core::PageRequest;
use acl_core::Reason;
use acl_core::{Error, ErrorKind};
use acl_core::{GrantOutcome, ListFilter, RemovedRole};
use acl_core::{PrincipalKind, Revision};
use acl_core::{WriteOp, WriteOutcome};
use acl_platform::PlatformStore;

pub use crate::admin::{
    a1_a2_boundaries_at_the_engine, a1_create_account_validates_every_field, a1_list_accounts,
    a1_update_account, a3_deactivation, a4_groups, a4_roles_are_memberships, a5_b1_sealed_secrets,
    a5_keypairs, a6_folder_admission, a6_policies, a6_session_admission, a6_sessions_on_behalf,
    a7_csv_export, audit_trail, init_with_account,
};
pub use crate::dump::{
    d5_commit_history, d5_dump_restore_round_trip, d5_restore_refuses_and_changes_nothing,
};
pub use crate::folders::{
    bug_history_folders, f1_f2_folders_names_and_listing, f2_folder_by_name_and_ambiguity,
    f3_folder_actions, f4_invite, f5_invitation_states, f6_accept_rechecks,
    f6_share_grants_follow_the_folder_workflows, f7_share_changes_and_leave, f8_b1_project_shares,
    f8_group_folders, f9_delete_and_mount, store_folder_rows, v1_v2_vm_sharing, v3_project_tags,
};

/// Expands to one `#[test]` per conformance case, each calling the case with a fresh store
/// made by `$make`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            l1_levels_are_inclusive, u1_u2_u3_uris_at_the_engine, u4_ancestry_is_by_segment,
            p1_user_alias, p2_membership_is_read_on_the_role,
            p2_manage_on_role_ancestor_changes_the_role, p3_cycles_are_refused_and_named,
            p3_closure_is_transitive, p4_removing_a_role_cascades, p5_init_and_home_namespaces,
            e1_unknown_and_inactive_principals, e2_implicit_list, e3_forbid_beats_every_allow,
            e4_fences, e5_actions, e6_explain_names_the_deciding_grant, e6_tree,
            e6_list_filters_and_pages, e6_shared, e6_who, e6_reads_for_a_viewer, e7_check_cost_ignores_unrelated_grants,
            m1_grant_outcomes, m1_grant_many_authorizes_every_grant,
            m1_grant_many_matches_single_grants, m2_revoke, m3_revisions_and_changelog,
            m3_write_batch_is_one_revision, m4_write_batch_refused_writes_nothing,
            m4_failed_calls_change_nothing, d3_every_kernel_write_is_noted, v2_share_scope,
            f1_f2_folders_names_and_listing, f2_folder_by_name_and_ambiguity, f3_folder_actions,
            f4_invite, f5_invitation_states, f6_accept_rechecks,
            f6_share_grants_follow_the_folder_workflows, f7_share_changes_and_leave,
            f8_group_folders, f8_b1_project_shares, f9_delete_and_mount, bug_history_folders, v1_v2_vm_sharing,
            v3_project_tags, store_folder_rows,
            a1_create_account_validates_every_field, a1_a2_boundaries_at_the_engine,
            a1_update_account, a1_list_accounts, a3_deactivation, a4_roles_are_memberships,
            a5_keypairs, a5_b1_sealed_secrets, a4_groups, a6_policies, a6_session_admission, a6_sessions_on_behalf,
            a6_folder_admission,
            a7_csv_export, audit_trail, init_with_account,
            d5_commit_history, d5_dump_restore_round_trip, d5_restore_refuses_and_changes_nothing);
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::$case(&|| $make);
            }
        )*
    };
}

fn world<S: PlatformStore>(make: &dyn Fn() -> S) -> World<S> {
    World::new(make())
}

/// rule L1: holding a level implies every lower one, and no higher.
pub fn l1_levels_are_inclusive<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/x", "bob", Write);
    w.expect(&[
        ("bob", "storage://c/alice/x", Write),
        ("bob", "storage://c/alice/x/deeper", Write),
        ("alice", "storage://c/alice/x", Manage),
    ]);
    let reader = w.engine.reader().unwrap();
    for (level, want) in [(List, true), (Read, true), (Write, true), (Manage, false)] {
        assert_eq!(
            reader
                .check(&name("bob"), &uri("storage://c/alice/x"), level)
                .unwrap(),
            want,
            "{level}"
        );
    }
    // deny is not something to check for
    let err = reader
        .check(&name("bob"), &uri("storage://c/alice/x"), Deny)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// rules U1, U2, U3: the engine refuses unknown schemes, resolves short forms against the
/// store's cluster and treats `scheme:` as the root.
pub fn u1_u2_u3_uris_at_the_engine<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.try_grant(ADMIN, "ftp://c/alice/x", "bob", Read)
    });
    assert!(err.to_string().contains("not in the schema"), "{err}");
    // U2: short forms resolve against the cluster and the user
    let alice = name("alice");
    let short = w.engine.uri_for("storage:data/x", &alice).unwrap();
    assert_eq!(short.as_str(), "storage://c/alice/data/x");
    let from_cluster = w.engine.uri_for("storage:/bob", &alice).unwrap();
    assert_eq!(from_cluster.as_str(), "storage://c/bob");
    let err = w.engine.uri_for("role:alice/roles/x", &alice).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // U1: `storage:` is the root; the admin holds manage on it
    let root = w.engine.uri_for("storage:", &alice).unwrap();
    assert_eq!(root.as_str(), "storage://");
    assert_eq!(w.level(ADMIN, "storage://"), Manage);
    assert_eq!(w.level(ADMIN, "storage://c/anything/below"), Manage);
}

/// rule U4: a grant on `storage://c/u` covers `storage://c/u/x`, never `storage://c/ux`.
pub fn u4_ancestry_is_by_segment<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/data", "bob", Read);
    w.expect(&[
        ("bob", "storage://c/alice/data", Read),
        ("bob", "storage://c/alice/data/x/y", Read),
        ("bob", "storage://c/alice/datax", Deny),
        ("bob", "storage://c/alice/data-x", Deny),
        ("alice", "storage://c/alicex", Deny),
    ]);
}

/// rule P1: `{C}/users/u` is an alias of user u, wherever a principal is named.
pub fn p1_user_alias<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/x", "c/users/bob", Read);
    w.expect(&[
        ("bob", "storage://c/alice/x", Read),
        ("c/users/bob", "storage://c/alice/x", Read),
        ("c/users/alice", "storage://c/alice", Manage),
    ]);
    // the alias and the name answer alike whichever one a check met first (an engine's
    // caches are keyed by canonical names), and an unknown user's alias is denied (E1)
    w.expect(&[
        ("c/users/alice", "storage://c/alice/x", Manage),
        ("alice", "storage://c/alice/x", Manage),
        ("c/users/bob", "storage://c/alice/x", Read),
        ("c/users/ghost", "storage://c/alice/x", Deny),
    ]);
    // a grant on role://c/users/bob is a grant on role://bob: membership of bob's role
    w.grant(ADMIN, "role://c/users/bob", "alice", Read);
    assert_eq!(w.level("alice", "storage://c/bob"), Manage);
    // roles cannot be created in the alias space
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .add_role(&w.by(ADMIN), &name("c/users/ghost"), PrincipalKind::Role)
    });
}

/// rule P2: read or more directly on exactly role://R is membership; list is not.
pub fn p2_membership_is_read_on_the_role<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    w.role("alice", "alice/roles/readers", PrincipalKind::Role);
    w.grant(
        "alice",
        "storage://c/alice/shared",
        "alice/roles/readers",
        Read,
    );
    w.grant("alice", "role://alice/roles/readers", "bob", List);
    w.expect(&[("bob", "storage://c/alice/shared", Deny)]);
    assert_eq!(
        w.grant("alice", "role://alice/roles/readers", "bob", Read),
        GrantOutcome::Raised { from: List }
    );
    w.expect(&[("bob", "storage://c/alice/shared", Read)]);
    // membership is direct: a grant on an ancestor of role://R is not membership
    w.grant(ADMIN, "role://alice/roles", "carol", Read);
    w.expect(&[("carol", "storage://c/alice/shared", Deny)]);
    // a member cannot extend the role's membership (needs manage on role://R)
    w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant("bob", "role://alice/roles/readers", "carol", Read)
    });
    // revoking the membership ends it at the next check
    w.revoke("alice", "role://alice/roles/readers", "bob");
    w.expect(&[("bob", "storage://c/alice/shared", Deny)]);
    // Neu.ro's flow: list a role's grants with `list -u role`
    assert_eq!(
        w.list("alice/roles/readers"),
        vec![("storage://c/alice/shared".to_owned(), Read)]
    );
}

/// rule P2: manage on role://R or an ancestor is the right to change R.
pub fn p2_manage_on_role_ancestor_changes_the_role<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role("alice", "alice/roles/r", PrincipalKind::Role);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .add_role(&w.by("bob"), &name("alice/roles/z"), PrincipalKind::Role)
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.remove_role(&w.by("bob"), &name("alice/roles/r"))
    });
    // alice lends bob the management of her roles namespace
    w.grant("alice", "role://alice/roles", "bob", Manage);
    w.role("bob", "alice/roles/z", PrincipalKind::Role);
    w.grant("bob", "role://alice/roles/r", "bob", Read);
    w.engine
        .remove_role(&w.by("bob"), &name("alice/roles/z"))
        .unwrap();
}

/// rule P3: a grant that would close a cycle is refused with an error naming it.
pub fn p3_cycles_are_refused_and_named<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    for role in ["a", "b", "x"] {
        w.role(ADMIN, role, PrincipalKind::Role);
    }
    w.grant(ADMIN, "role://b", "a", Read); // a is a member of b
    w.grant(ADMIN, "role://x", "b", Read); // b is a member of x
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.try_grant(ADMIN, "role://a", "x", Read)
    });
    assert_eq!(
        err,
        Error::Cycle {
            path: vec!["x".into(), "a".into(), "b".into(), "x".into()]
        }
    );
    assert!(
        err.to_string().contains("`x` -> `a` -> `b` -> `x`"),
        "{err}"
    );
    // a role cannot be a member of itself
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.try_grant(ADMIN, "role://a", "a", Read)
    });
    assert!(matches!(err, Error::Cycle { .. }));
    // list on role://a is not membership, so it closes no cycle
    w.grant(ADMIN, "role://a", "x", List);
    // raising it to read would
    w.refused(ErrorKind::Conflict, |w| {
        w.try_grant(ADMIN, "role://a", "x", Write)
    });
}

/// rule P3: closure(p) is p and every role reachable from it; grants flow through it.
pub fn p3_closure_is_transitive<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    for role in ["r1", "r2", "r3"] {
        w.role(ADMIN, role, PrincipalKind::Role);
    }
    w.grant(ADMIN, "role://r1", "bob", Read);
    w.grant(ADMIN, "role://r2", "r1", Read);
    w.grant(ADMIN, "role://r3", "r2", Write);
    w.grant(ADMIN, "job://c/alice/j1", "r3", Write);
    w.expect(&[("bob", "job://c/alice/j1", Write)]);
    let decision = w.explain("bob", "job://c/alice/j1");
    match decision.reason {
        Reason::Grant { grant, path } => {
            assert_eq!(grant.holder, name("r3"));
            assert_eq!(path, vec![name("bob"), name("r1"), name("r2"), name("r3")]);
        }
        other => panic!("unexpected reason {other:?}"),
    }
    let reader = w.engine.reader().unwrap();
    let closure: BTreeSet<String> = reader
        .closure(&name("bob"))
        .unwrap()
        .names()
        .map(ToString::to_string)
        .collect();
    assert_eq!(closure, ["bob", "r1", "r2", "r3"].map(String::from).into());
}

/// rule P4: removing a role removes its grants, its memberships both ways and its forbids,
/// atomically; users and cluster roles cannot be removed; a fence group cannot either.
pub fn p4_removing_a_role_cascades<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "team", PrincipalKind::Role);
    w.role(ADMIN, "outer", PrincipalKind::Role);
    w.grant(ADMIN, "storage://c/alice/x", "team", Read);
    w.grant(ADMIN, "storage://c/alice/x/secret", "team", Deny);
    w.grant(ADMIN, "role://team", "bob", Read);
    w.grant(ADMIN, "role://outer", "team", Read);
    w.grant(ADMIN, "role://team", "alice", Manage);
    w.expect(&[("bob", "storage://c/alice/x", Read)]);
    let removed = w
        .engine
        .remove_role(&w.by(ADMIN), &name("team"))
        .unwrap()
        .value;
    assert_eq!(
        removed,
        RemovedRole {
            grants_held: 3,
            grants_on_role: 2,
            // team in outer; bob and alice (manage includes read) in team
            edges: 3
        }
    );
    let dump = w.dump();
    assert!(dump.principals.iter().all(|p| p.name != name("team")));
    assert!(dump.grants.iter().all(|g| g.holder != name("team")));
    assert!(dump.grants.iter().all(|g| g.uri != uri("role://team")));
    assert!(
        dump.edges
            .iter()
            .all(|(m, r)| *m != name("team") && *r != name("team"))
    );
    w.expect(&[("bob", "storage://c/alice/x", Deny)]);
    // users and the cluster roles stay
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("bob"))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("c/admin"))
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("team"))
    });
    // a role that is a fence's group stays until the fence goes
    w.role(ADMIN, "project", PrincipalKind::Group);
    w.engine
        .add_fence(&w.by(ADMIN), &uri("vm://c/v1"), &name("project"))
        .unwrap();
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("project"))
    });
    assert!(err.to_string().contains("vm://c/v1"), "{err}");
}

/// rule P5: init makes the cluster roles; a new user gets its home namespaces.
pub fn p5_init_and_home_namespaces<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    let reader = w.engine.reader().unwrap();
    for role in ["c/admin", "c/manager"] {
        let record = reader.principal(&name(role)).unwrap().unwrap();
        assert_eq!(record.kind, PrincipalKind::Role);
    }
    for scheme in w.engine.schema().scheme_names() {
        assert_eq!(w.level(ADMIN, &format!("{scheme}://")), Manage, "{scheme}");
    }
    drop(reader);
    w.users(&["alice"]);
    assert_eq!(
        w.list("alice"),
        [
            ("blob://c/alice", Manage),
            ("disk://c/alice", Manage),
            ("image://c/alice", Manage),
            ("job://c/alice", Manage),
            ("role://alice/roles", Manage),
            ("secret://c/alice", Manage),
            ("storage://c/alice", Manage),
            ("user://alice", Read),
        ]
        .map(|(u, l)| (u.to_owned(), l))
    );
    // users may add roles under u/roles/, and nowhere else
    w.role("alice", "alice/roles/mine", PrincipalKind::Role);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .add_role(&w.by("alice"), &name("bob/roles/x"), PrincipalKind::Role)
    });
    // init runs once
    let cluster = acl_core::ClusterName::new("other").unwrap();
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.init(&cluster, None, acl_core::Timestamp(9))
    });
    // only admins create users; names are one segment
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.create_user(&w.by("alice"), &name("mallory"))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.create_user(&w.by(ADMIN), &name("a/b"))
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.create_user(&w.by(ADMIN), &name("alice"))
    });
}

/// rule E1: unknown principals and inactive users get deny; an inactive user contributes no
/// grants to anyone's closure.
pub fn e1_unknown_and_inactive_principals<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    assert_eq!(
        w.explain("nobody", "storage://c/alice").reason,
        Reason::UnknownPrincipal
    );
    // carol is a member of bob's role and so holds bob's grants
    w.grant(ADMIN, "role://bob", "carol", Read);
    w.expect(&[("carol", "storage://c/bob", Manage)]);
    w.engine
        .set_active(&w.by(ADMIN), &name("bob"), false)
        .unwrap();
    assert_eq!(
        w.explain("bob", "storage://c/bob").reason,
        Reason::InactiveUser
    );
    w.expect(&[
        ("bob", "storage://c/bob", Deny),
        ("carol", "storage://c/bob", Deny),
        ("carol", "storage://c/carol", Manage),
    ]);
    // an inactive user cannot act
    w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant("bob", "storage://c/bob/x", "alice", Read)
    });
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.set_active(&w.by(ADMIN), &name("bob"), false)
    });
    w.engine
        .set_active(&w.by(ADMIN), &name("bob"), true)
        .unwrap();
    w.expect(&[("carol", "storage://c/bob", Manage)]);
    // only managers of user://u change its state; roles have no state
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.set_active(&w.by("alice"), &name("bob"), false)
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.set_active(&w.by(ADMIN), &name("c/admin"), false)
    });
}

/// rule E2: a grant below U makes U listable, and nothing more.
pub fn e2_implicit_list<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/a/b", "bob", Read);
    w.expect(&[
        ("bob", "storage://c/alice/a/b", Read),
        ("bob", "storage://c/alice/a", List),
        ("bob", "storage://c/alice", List),
        ("bob", "storage://c", List),
        ("bob", "storage://", List),
        ("bob", "storage://c/alice/other", Deny),
        ("bob", "job://c/alice", Deny),
    ]);
    match w.explain("bob", "storage://c/alice").reason {
        Reason::ImplicitList { grant, path } => {
            assert_eq!(grant.uri, uri("storage://c/alice/a/b"));
            assert_eq!(path, vec![name("bob")]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// rule E3: a forbid anywhere in the closure on U or an ancestor beats every allow and the
/// implicit list; forbids are not allowed on role:// URIs.
pub fn e3_forbid_beats_every_allow<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "staff", PrincipalKind::Role);
    w.grant(ADMIN, "role://staff", "bob", Read);
    w.grant(ADMIN, "storage://c/alice", "staff", Write);
    w.grant(ADMIN, "storage://c/alice/secret", "bob", Deny);
    w.expect(&[
        ("bob", "storage://c/alice", Write),
        ("bob", "storage://c/alice/secret", Deny),
        ("bob", "storage://c/alice/secret/deep", Deny),
    ]);
    match w.explain("bob", "storage://c/alice/secret/deep").reason {
        Reason::Forbid { grant, path } => {
            assert_eq!(grant.holder, name("bob"));
            assert_eq!(grant.uri, uri("storage://c/alice/secret"));
            assert_eq!(path, vec![name("bob")]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // a forbid held by a role applies to its members
    w.grant(ADMIN, "job://c/alice", "staff", Deny);
    w.grant(ADMIN, "job://c/alice/j", "bob", Manage);
    w.expect(&[("bob", "job://c/alice/j", Deny)]);
    // forbid beats the implicit list
    w.grant("alice", "image://c/alice/x", "bob", Read);
    w.grant(ADMIN, "image://c/alice", "bob", Deny);
    w.expect(&[("bob", "image://c", List), ("bob", "image://c/alice", Deny)]);
    // not on role:// URIs
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.try_grant(ADMIN, "role://staff", "alice", Deny)
    });
    assert!(err.to_string().contains("forbids are not allowed"), "{err}");
    // a forbid and a grant never replace each other silently
    w.refused(ErrorKind::Conflict, |w| {
        w.try_grant(ADMIN, "storage://c/alice/secret", "bob", Read)
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.try_grant(ADMIN, "storage://c/alice", "staff", Deny)
    });
    // revoking the forbid restores access
    w.revoke(ADMIN, "storage://c/alice/secret", "bob");
    w.expect(&[("bob", "storage://c/alice/secret", Write)]);
}

/// rule E4: a fence denies everything under U to principals whose closure lacks the group;
/// adding or removing one needs manage on the scheme root.
pub fn e4_fences<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "project", PrincipalKind::Group);
    w.role(ADMIN, "other", PrincipalKind::Group);
    // everyone shares a team, so the vm share scope (V2) is not what is tested here
    w.role(ADMIN, "staff", PrincipalKind::Group);
    for member in [ADMIN, "alice", "bob"] {
        w.grant(ADMIN, "role://staff", member, Read);
    }
    w.grant(ADMIN, "role://project", "alice", Read);
    w.grant(ADMIN, "vm://c/v1", "alice", Write);
    w.grant(ADMIN, "vm://c/v1", "bob", Write);
    let v1 = uri("vm://c/v1");
    w.engine
        .add_fence(&w.by(ADMIN), &v1, &name("project"))
        .unwrap();
    w.expect(&[
        ("alice", "vm://c/v1", Write),
        ("alice", "vm://c/v1/drive", Write),
        ("bob", "vm://c/v1", Deny),
        ("bob", "vm://c/v1/drive", Deny),
        // no role overrides a fence, not even the admin's
        (ADMIN, "vm://c/v1", Deny),
        (ADMIN, "vm://c/v2", Manage),
    ]);
    match w.explain("bob", "vm://c/v1/drive").reason {
        Reason::Fence { fence } => {
            assert_eq!(fence.uri, v1);
            assert_eq!(fence.group, name("project"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // every fence on the path must be passed
    w.engine
        .add_fence(&w.by(ADMIN), &uri("vm://c/v1/drive"), &name("other"))
        .unwrap();
    w.expect(&[
        ("alice", "vm://c/v1", Write),
        ("alice", "vm://c/v1/drive", Deny),
    ]);
    // joining the group opens it
    w.grant(ADMIN, "role://project", "bob", Read);
    w.expect(&[("bob", "vm://c/v1", Write)]);
    // manage on the scheme root is needed, not on the URI
    w.grant(ADMIN, "vm://c/v9", "alice", Manage);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .add_fence(&w.by("alice"), &uri("vm://c/v9"), &name("project"))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .add_fence(&w.by(ADMIN), &uri("role://project"), &name("project"))
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.add_fence(&w.by(ADMIN), &v1, &name("project"))
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.add_fence(&w.by(ADMIN), &v1, &name("ghost"))
    });
    w.engine
        .remove_fence(&w.by(ADMIN), &v1, &name("project"))
        .unwrap();
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.remove_fence(&w.by(ADMIN), &v1, &name("project"))
    });
    w.expect(&[(ADMIN, "vm://c/v1", Manage)]);
    let fences = w.engine.reader().unwrap().fences(None).unwrap();
    assert_eq!(fences.len(), 1);
}

/// rule E5: actions map to levels through the schema; an unknown action is an error.
pub fn e5_actions<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant(ADMIN, "vfolder://c/f1", "alice", Manage);
    w.grant("alice", "vfolder://c/f1", "bob", Write);
    let reader = w.engine.reader().unwrap();
    let can = |who: &str, action: &str| {
        reader
            .check_action(&name(who), &uri("vfolder://c/f1"), action)
            .unwrap()
    };
    for (action, bob) in [
        ("list", true),
        ("read", true),
        ("mount-ro", true),
        ("write", true),
        ("mount-rw", true),
        ("delete-file", false),
        ("rename", false),
        ("delete", false),
        ("share", false),
    ] {
        assert_eq!(can("bob", action), bob, "bob {action}");
        assert!(can("alice", action), "alice {action}");
    }
    let err = reader
        .check_action(&name("bob"), &uri("vfolder://c/f1"), "launch")
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAction { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// rule E6: explain names the deciding grant, its holder and a shortest membership path;
/// among equal levels the nearest holder wins; among shortest paths, the first in name order.
pub fn e6_explain_names_the_deciding_grant<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "near", PrincipalKind::Role);
    w.role(ADMIN, "far", PrincipalKind::Role);
    w.grant(ADMIN, "role://near", "bob", Read);
    w.grant(ADMIN, "role://far", "near", Read);
    w.grant(ADMIN, "storage://c/alice/x", "far", Write);
    w.grant(ADMIN, "storage://c/alice", "near", Read);
    // the highest level decides, even through the longer path
    let d = w.explain("bob", "storage://c/alice/x/y");
    assert_eq!(d.level, Write);
    match &d.reason {
        Reason::Grant { grant, path } => {
            assert_eq!(
                (grant.holder.as_str(), grant.uri.as_str(), grant.level),
                ("far", "storage://c/alice/x", Write)
            );
            assert_eq!(*path, vec![name("bob"), name("near"), name("far")]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // at equal levels, the nearest holder is named
    w.grant(ADMIN, "storage://c/alice/x", "bob", Write);
    match w.explain("bob", "storage://c/alice/x").reason {
        Reason::Grant { grant, path } => {
            assert_eq!(grant.holder, name("bob"));
            assert_eq!(path, vec![name("bob")]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(w.explain("bob", "secret://c/alice").reason, Reason::NoGrant);
    assert_eq!(Reason::NoGrant.kind(), "no_grant");
    // two shortest paths to the holder: the one through the role first in name order,
    // whatever order the memberships were made in (every store names the same path, D1)
    w.role(ADMIN, "zeta", PrincipalKind::Role);
    w.role(ADMIN, "alpha", PrincipalKind::Role);
    w.role(ADMIN, "top", PrincipalKind::Role);
    w.grant(ADMIN, "role://zeta", "alice", Read);
    w.grant(ADMIN, "role://alpha", "alice", Read);
    w.grant(ADMIN, "role://top", "zeta", Read);
    w.grant(ADMIN, "role://top", "alpha", Read);
    w.grant(ADMIN, "storage://c/shared", "top", Read);
    match w.explain("alice", "storage://c/shared").reason {
        Reason::Grant { path, .. } => {
            assert_eq!(path, vec![name("alice"), name("alpha"), name("top")]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// rule E6: tree(p, U, depth) shows U's subtree of effective levels.
pub fn e6_tree<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/a/b/c", "bob", Read);
    w.grant("alice", "storage://c/alice/a/z", "bob", Write);
    w.grant(ADMIN, "storage://c/alice/a/z/hidden", "bob", Deny);
    let reader = w.engine.reader().unwrap();
    let tree = |depth| {
        reader
            .tree(&name("bob"), &uri("storage://c/alice"), depth)
            .unwrap()
            .into_iter()
            .map(|n| (n.uri.to_string(), n.depth, n.level))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tree(2),
        vec![
            ("storage://c/alice".to_owned(), 0, List),
            ("storage://c/alice/a".to_owned(), 1, List),
            ("storage://c/alice/a/b".to_owned(), 2, List),
            ("storage://c/alice/a/z".to_owned(), 2, Write),
        ]
    );
    assert_eq!(tree(3).len(), 6);
    assert!(tree(3).contains(&("storage://c/alice/a/z/hidden".to_owned(), 3, Deny)));
    assert_eq!(tree(0), vec![("storage://c/alice".to_owned(), 0, List)]);
}

/// rule E6: list gives what p holds, directly or through roles, filtered by scheme or
/// prefix, paginated by cursor.
pub fn e6_list_filters_and_pages<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role("alice", "alice/roles/r", PrincipalKind::Role);
    w.grant("alice", "role://alice/roles/r", "bob", Read);
    w.grant("alice", "storage://c/alice/shared", "alice/roles/r", Read);
    w.grant("alice", "job://c/alice/j1", "bob", Write);
    w.grant(ADMIN, "storage://c/alice/shared/no", "bob", Deny);
    w.grant("alice", "storage://c/alice/shared/no/x", "bob", Read);
    let reader = w.engine.reader().unwrap();
    let list = |filter: &ListFilter| -> Vec<(String, Level)> {
        reader
            .list(&name("bob"), filter, &PageRequest::all())
            .unwrap()
            .items
            .into_iter()
            .map(|(u, l)| (u.to_string(), l))
            .collect()
    };
    let all = list(&ListFilter::all());
    let names: Vec<&str> = all.iter().map(|(u, _)| u.as_str()).collect();
    assert!(names.contains(&"storage://c/alice/shared"), "{all:?}");
    assert!(names.contains(&"job://c/alice/j1"));
    assert!(names.contains(&"role://alice/roles/r"));
    // a forbid hides what it covers
    assert!(!names.contains(&"storage://c/alice/shared/no/x"));
    assert_eq!(
        list(&ListFilter::scheme("job").unwrap()),
        vec![
            ("job://c/alice/j1".to_owned(), Write),
            ("job://c/bob".to_owned(), Manage)
        ]
    );
    assert_eq!(
        list(&ListFilter::under(uri("storage://c/alice"))),
        vec![("storage://c/alice/shared".to_owned(), Read)]
    );
    // pages walk the whole answer exactly once
    let mut paged = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = reader
            .list(&name("bob"), &ListFilter::all(), &request)
            .unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items.into_iter().map(|(u, l)| (u.to_string(), l)));
        match page.next {
            Some(cursor) => request = PageRequest::after(cursor, 2),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let bad = reader.list(&name("bob"), &ListFilter::all(), &PageRequest::first(0));
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidInput);
    // an unknown principal lists nothing
    let none = reader
        .list(&name("ghost"), &ListFilter::all(), &PageRequest::all())
        .unwrap();
    assert!(none.items.is_empty());
}

/// rule E6: shared(p) gives the grants others hold on what p manages.
pub fn e6_shared<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    w.role("alice", "alice/roles/r", PrincipalKind::Role);
    w.grant("alice", "storage://c/alice/x", "bob", Read);
    w.grant("alice", "job://c/alice/j", "carol", Write);
    w.grant("alice", "storage://c/alice/y", "alice/roles/r", Read);
    w.grant("bob", "storage://c/bob/z", "alice", Read);
    let reader = w.engine.reader().unwrap();
    let shared: Vec<(String, String, Level)> = reader
        .shared(&name("alice"), &PageRequest::all())
        .unwrap()
        .items
        .into_iter()
        .map(|g| (g.uri.to_string(), g.holder.to_string(), g.level))
        .collect();
    assert_eq!(
        shared,
        vec![
            ("job://c/alice/j".to_owned(), "carol".to_owned(), Write),
            ("storage://c/alice/x".to_owned(), "bob".to_owned(), Read),
            (
                "storage://c/alice/y".to_owned(),
                "alice/roles/r".to_owned(),
                Read
            ),
        ]
    );
    let first = reader
        .shared(&name("alice"), &PageRequest::first(1))
        .unwrap();
    assert_eq!(first.items.len(), 1);
    let rest = reader
        .shared(&name("alice"), &PageRequest::after(first.next.unwrap(), 10))
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next.is_none());
}

/// rules E6, P5 (reads for a viewer, docs/semantics.md): a viewer sees its own
/// permissions and those of principals it holds `read` on (`user://P`, `role://P`); `who`
/// needs `manage` on the URI; a refusal names the viewer, the read, the URI and the level.
pub fn e6_reads_for_a_viewer<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "team", PrincipalKind::Role);
    w.grant(ADMIN, "role://team", "bob", Read);
    w.grant("alice", "storage://c/alice/x", "bob", Write);
    let x = uri("storage://c/alice/x");
    let bob = w.engine.viewer(&name("bob")).unwrap();
    // its own permissions, under its alias too (rule P1)
    assert!(bob.check(&name("bob"), &x, Write).unwrap());
    assert!(bob.check(&name("c/users/bob"), &x, Write).unwrap());
    assert_eq!(bob.explain(&name("bob"), &x).unwrap().level, Write);
    // another user's: refused, naming what was needed
    let err = bob.check(&name("alice"), &x, Read).unwrap_err();
    assert_eq!(
        err,
        Error::Forbidden {
            actor: "bob".into(),
            action: "read another principal's permissions",
            uri: "user://alice".into(),
            needed: Read,
        }
    );
    assert_eq!(
        bob.list(&name("alice"), &ListFilter::all(), &PageRequest::all())
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(
        bob.tree(&name("alice"), &x, 1).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
    // a role it is a member of (read on role://team): allowed; an unknown name is a role
    assert!(!bob.check(&name("team"), &x, Read).unwrap());
    let err = bob.explain(&name("nobody"), &x).unwrap_err();
    assert!(err.to_string().contains("role://nobody"), "{err}");
    // who: manage on the URI
    assert_eq!(
        bob.who(&x, Read, &PageRequest::all()).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
    let alice = w.engine.viewer(&name("alice")).unwrap();
    assert!(
        alice
            .who(&x, Write, &PageRequest::all())
            .unwrap()
            .items
            .contains(&name("bob"))
    );
    // the admin sees everyone (manage on every scheme root, rule P5)
    let admin = w.engine.viewer(&name(ADMIN)).unwrap();
    assert!(admin.check(&name("bob"), &x, Write).unwrap());
    assert_eq!(admin.roles_of(&name("bob")).unwrap().len(), 1);
    assert_eq!(
        bob.roles_of(&name("alice")).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
    // roles listed are those the viewer holds list on; fences those it may change
    let names = |v: &acl_core::Viewer<'_, S>| -> Vec<String> {
        v.roles(&PageRequest::all(), |_| true)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.name.to_string())
            .collect()
    };
    assert_eq!(names(&bob), vec!["team"]);
    assert!(
        names(&admin).contains(&"team".to_owned()) && names(&admin).contains(&"c/admin".to_owned())
    );
    assert!(names(&alice).is_empty());
    // short forms resolve against the viewer (rule U2)
    assert_eq!(
        bob.uri("storage:data").unwrap(),
        uri("storage://c/bob/data")
    );
}

/// rule E6: who(U, L) finds the users at or above L on U, through roles.
pub fn e6_who<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol", "dave", "erin"]);
    w.role(ADMIN, "team", PrincipalKind::Role);
    w.grant(ADMIN, "role://team", "carol", Read);
    w.grant(ADMIN, "role://team", "dave", Read);
    w.grant("alice", "storage://c/alice/x", "team", Read);
    w.grant("alice", "storage://c/alice/x", "bob", Write);
    w.grant(ADMIN, "storage://c/alice/x", "dave", Deny);
    w.grant("alice", "storage://c/alice/x/deep", "erin", Read);
    let reader = w.engine.reader().unwrap();
    let who = |level| -> Vec<String> {
        reader
            .who(&uri("storage://c/alice/x"), level, &PageRequest::all())
            .unwrap()
            .items
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    };
    assert_eq!(who(Manage), vec!["admin", "alice"]);
    assert_eq!(who(Write), vec!["admin", "alice", "bob"]);
    assert_eq!(who(Read), vec!["admin", "alice", "bob", "carol"]);
    assert_eq!(who(List), vec!["admin", "alice", "bob", "carol", "erin"]);
    let page = reader
        .who(&uri("storage://c/alice/x"), Read, &PageRequest::first(3))
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let rest = reader
        .who(
            &uri("storage://c/alice/x"),
            Read,
            &PageRequest::after(page.next.unwrap(), 3),
        )
        .unwrap();
    assert_eq!(rest.items, vec![name("carol")]);
    drop(reader);
    // deactivated users drop out
    w.engine
        .set_active(&w.by(ADMIN), &name("bob"), false)
        .unwrap();
    let reader = w.engine.reader().unwrap();
    let writers = reader
        .who(&uri("storage://c/alice/x"), Write, &PageRequest::all())
        .unwrap();
    assert_eq!(writers.items, vec![name("admin"), name("alice")]);
}

/// rule E7: the rows a check touches do not grow with unrelated grants.
pub fn e7_check_cost_ignores_unrelated_grants<S: PlatformStore + 'static>(make: &dyn Fn() -> S) {
    let touched = |unrelated: usize| {
        let w = World::new(CountingStore::new(make()));
        w.users(&["alice", "bob", "filler"]);
        w.role(ADMIN, "team", PrincipalKind::Role);
        w.grant(ADMIN, "role://team", "bob", Read);
        w.grant("alice", "storage://c/alice/x", "team", Read);
        let batch: Vec<_> = (0..unrelated)
            .map(|i| {
                (
                    uri(&format!("storage://c/filler/d{}/f{i}", i % 7)),
                    name("filler"),
                    Read,
                )
            })
            .collect();
        w.engine.grant_many(&w.by(ADMIN), &batch).unwrap();
        let store = w.engine.store();
        store.take();
        for (at, want) in [
            ("storage://c/alice/x/y/z", Read),
            ("storage://c/alice", List),
            ("storage://c/filler/d1", Deny),
        ] {
            assert_eq!(w.level("bob", at), want, "{at}");
        }
        store.take()
    };
    let small = touched(10);
    let large = touched(2_000);
    assert_eq!(
        small, large,
        "a check touched more with more unrelated grants"
    );
    assert!(small.rows < 40, "{small:?}");
}

/// rule M1: grant needs manage on U; the grantee must exist; a higher grant is kept.
pub fn m1_grant_outcomes<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    let at = "storage://c/alice/x";
    assert_eq!(w.grant("alice", at, "bob", Read), GrantOutcome::Created);
    assert_eq!(
        w.grant("alice", at, "bob", Write),
        GrantOutcome::Raised { from: Read }
    );
    let before = w.dump().revision;
    let kept = w.try_grant("alice", at, "bob", Read).unwrap();
    assert_eq!(kept.value, GrantOutcome::Kept { existing: Write });
    assert_eq!(kept.revision, before, "a kept grant changes nothing");
    assert_eq!(w.dump().revision, before);
    w.expect(&[("bob", at, Write)]);
    w.refused(ErrorKind::NotFound, |w| {
        w.try_grant("alice", at, "ghost", Read)
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant("bob", "storage://c/alice/y", "bob", Read)
    });
    // write is not enough to share
    w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant("bob", at, "admin", Read)
    });
    let err = w
        .try_grant("bob", "storage://c/alice/y", "bob", Read)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`bob` may not grant: it needs manage on `storage://c/alice/y`"
    );
}

/// rule M1 in a batch: every grant of `grant_many` is authorized on its own URI, however
/// many grants before it passed under the same ancestor.
pub fn m1_grant_many_authorizes_every_grant<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "g", PrincipalKind::Group);
    w.grant(ADMIN, "storage://c/alice/locked", "alice", Deny);
    w.engine
        .add_fence(&w.by(ADMIN), &uri("storage://c/alice/fenced"), &name("g"))
        .unwrap();
    let batch =
        |items: &[&str]| -> Vec<_> { items.iter().map(|u| (uri(u), name("bob"), Read)).collect() };
    // a forbid below an ancestor that earlier grants of the batch passed through
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.grant_many(
            &w.by("alice"),
            &batch(&[
                "storage://c/alice/a/x",
                "storage://c/alice/a/y",
                "storage://c/alice/locked/z",
            ]),
        )
    });
    // a fence below it
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.grant_many(
            &w.by("alice"),
            &batch(&["storage://c/alice/b/x", "storage://c/alice/fenced/z"]),
        )
    });
    // the actor forbids itself mid-batch: what follows below that URI is refused
    let own = vec![
        (uri("storage://c/alice/q/r"), name("bob"), Read),
        (uri("storage://c/alice/q"), name("alice"), Deny),
        (uri("storage://c/alice/q/s"), name("bob"), Read),
    ];
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.grant_many(&w.by("alice"), &own)
    });
    // and a clean batch passes whole
    let applied = w
        .engine
        .grant_many(
            &w.by("alice"),
            &batch(&["storage://c/alice/a/x", "storage://c/alice/a/y/z"]),
        )
        .unwrap();
    assert_eq!(applied.value.len(), 2);
    w.expect(&[("bob", "storage://c/alice/a/y/z", Read)]);
}

/// rule M1 for a batch longer than what `grant_many` reads ahead at once: its outcomes and
/// the grants it leaves are exactly those of the same grants made one by one, with keys
/// repeated within and across its chunks (created, raised, kept), a grant existing before,
/// and grants to the actor's own role (what the actor holds changes mid-batch).
pub fn m1_grant_many_matches_single_grants<S: PlatformStore>(make: &dyn Fn() -> S) {
    let setup = |w: &World<S>| {
        w.users(&["alice", "bob", "carol"]);
        w.role("alice", "alice/roles/team", PrincipalKind::Role);
        w.grant("alice", "storage://c/alice/p0", "bob", Write);
    };
    let levels = [List, Read, Write, Manage];
    let mut batch = Vec::new();
    for i in 0..700usize {
        let (holder, at) = match i % 7 {
            0 => ("alice/roles/team", format!("storage://c/alice/t{}", i % 5)),
            1..=3 => ("bob", format!("storage://c/alice/p{}", i % 300)),
            _ => ("carol", format!("storage://c/alice/p{}/q{}", i % 40, i % 3)),
        };
        batch.push((uri(&at), name(holder), levels[(i * 5 / 7) % 4]));
    }
    // alice joins her own role in the middle of the batch (her closure changes), bob
    // joins it earlier (hers does not)
    batch.insert(350, (uri("role://alice/roles/team"), name("alice"), Read));
    batch.insert(100, (uri("role://alice/roles/team"), name("bob"), Read));
    let one = world(make);
    setup(&one);
    let applied = one.engine.grant_many(&one.by("alice"), &batch).unwrap();
    let other = world(make);
    setup(&other);
    let single: Vec<GrantOutcome> = batch
        .iter()
        .map(|(at, holder, level)| {
            other
                .engine
                .grant(&other.by("alice"), at, holder, *level)
                .unwrap()
                .value
        })
        .collect();
    assert_eq!(applied.value, single);
    for kind in ["created", "raised", "kept"] {
        assert!(
            single
                .iter()
                .any(|o| format!("{o:?}").to_lowercase().starts_with(kind)),
            "no {kind} outcome: the batch does not test it"
        );
    }
    assert_eq!(one.dump().grants, other.dump().grants);
    assert_eq!(one.dump().edges, other.dump().edges);
}

/// rules M1 to M3 in a mixed batch: grants, a forbid, a new role and revokes (one of a
/// grant made earlier in the same batch) are ONE revision with one `batch` changelog entry.
pub fn m3_write_batch_is_one_revision<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    w.grant("alice", "storage://c/alice/old", "carol", Read);
    let before = w.dump().revision;
    let ops = vec![
        WriteOp::Grant {
            uri: uri("storage://c/alice/x"),
            grantee: name("bob"),
            level: Write,
        },
        WriteOp::Grant {
            uri: uri("storage://c/alice/tmp"),
            grantee: name("bob"),
            level: Read,
        },
        WriteOp::Forbid {
            uri: uri("storage://c/alice/x/secret"),
            grantee: name("bob"),
        },
        WriteOp::Revoke {
            uri: uri("storage://c/alice/tmp"),
            grantee: name("bob"),
        },
        WriteOp::Revoke {
            uri: uri("storage://c/alice/old"),
            grantee: name("carol"),
        },
        WriteOp::Grant {
            uri: uri("storage://c/alice/x"),
            grantee: name("bob"),
            level: Read,
        },
    ];
    let applied = w.engine.write_batch(&w.by("alice"), &ops).unwrap();
    assert_eq!(
        applied.revision,
        before.next(),
        "one revision for the batch"
    );
    assert_eq!(
        applied.value,
        vec![
            WriteOutcome::Granted(GrantOutcome::Created),
            WriteOutcome::Granted(GrantOutcome::Created),
            WriteOutcome::Granted(GrantOutcome::Created),
            WriteOutcome::Revoked(Read),
            WriteOutcome::Revoked(Read),
            WriteOutcome::Granted(GrantOutcome::Kept { existing: Write }),
        ]
    );
    w.expect(&[
        ("bob", "storage://c/alice/x", Write),
        ("bob", "storage://c/alice/x/secret", Deny),
        ("bob", "storage://c/alice/tmp", Deny),
        ("carol", "storage://c/alice/old", Deny),
    ]);
    let dump = w.dump();
    assert_eq!(dump.revision, applied.revision);
    let last = dump.changes.last().unwrap();
    assert_eq!(last.revision, applied.revision);
    assert_eq!(last.change.action, "batch");
    assert_eq!(last.change.actor, Some(name("alice")));
    assert_eq!(last.change.target, "6 operations");
    assert_eq!(
        last.change.detail,
        "3 grants, 1 forbids, 2 revokes, 0 roles; 5 changed"
    );
    // a role added in a batch is usable by the operations after it
    let applied = w
        .engine
        .write_batch(
            &w.by(ADMIN),
            &[
                WriteOp::AddRole {
                    name: name("team"),
                    kind: PrincipalKind::Group,
                },
                WriteOp::Grant {
                    uri: uri("role://team"),
                    grantee: name("bob"),
                    level: Read,
                },
                WriteOp::Grant {
                    uri: uri("storage://c/alice/shared"),
                    grantee: name("team"),
                    level: Read,
                },
            ],
        )
        .unwrap();
    assert_eq!(applied.revision, dump.revision.next());
    assert_eq!(applied.value[0], WriteOutcome::RoleAdded);
    w.expect(&[("bob", "storage://c/alice/shared", Read)]);
    // only kept grants: nothing committed, the revision stays
    let kept = w
        .engine
        .write_batch(
            &w.by("alice"),
            &[WriteOp::Grant {
                uri: uri("storage://c/alice/x"),
                grantee: name("bob"),
                level: Read,
            }],
        )
        .unwrap();
    assert_eq!(kept.revision, applied.revision);
    assert_eq!(w.dump().revision, applied.revision);
}

/// rule M4 in a mixed batch: the first refused operation fails the whole batch, names its
/// index (`Error::InBatch`, of the refusal's kind), and the store is exactly as before (grants made earlier in the batch included).
pub fn m4_write_batch_refused_writes_nothing<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    let batch = |ops: Vec<WriteOp>| {
        move |w: &World<S>| {
            w.engine
                .write_batch(&w.by("alice"), &ops)
                .map_err(|err| match err {
                    acl_core::Error::InBatch { index, source } => (Some(index), *source),
                    err => (None, err),
                })
        }
    };
    let grant = |at: &str| WriteOp::Grant {
        uri: uri(at),
        grantee: name("bob"),
        level: Read,
    };
    let mut index = None;
    let err = w.refused(ErrorKind::Forbidden, |w| {
        batch(vec![
            grant("storage://c/alice/a"),
            grant("storage://c/alice/b"),
            grant("storage://c/bob/not-hers"),
        ])(w)
        .map_err(|(i, e)| {
            index = i;
            e
        })
    });
    assert_eq!(index, Some(2));
    assert!(
        err.to_string().contains("storage://c/bob/not-hers"),
        "{err}"
    );
    // a revoke of nothing, after a grant: no effect, nothing written
    let err = w.refused(ErrorKind::NoEffect, |w| {
        batch(vec![
            grant("storage://c/alice/a"),
            WriteOp::Revoke {
                uri: uri("storage://c/alice/none"),
                grantee: name("bob"),
            },
        ])(w)
        .map_err(|(i, e)| {
            index = i;
            e
        })
    });
    assert_eq!(index, Some(1));
    assert!(err.to_string().contains("no direct grant"), "{err}");
    // a forbid over a grant made earlier in the batch is a conflict
    w.refused(ErrorKind::Conflict, |w| {
        batch(vec![
            grant("storage://c/alice/a"),
            WriteOp::Forbid {
                uri: uri("storage://c/alice/a"),
                grantee: name("bob"),
            },
        ])(w)
        .map_err(|(_, e)| e)
    });
    // an empty batch is invalid input
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        batch(Vec::new())(w).map_err(|(i, e)| {
            index = i;
            e
        })
    });
    assert_eq!(index, None);
    assert!(err.to_string().contains("at least one"), "{err}");
    w.expect(&[("bob", "storage://c/alice/a", Deny)]);
}

/// rule M2: revoke removes the direct grant on exactly U; descendants stay.
pub fn m2_revoke<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice", "bob", Read);
    w.grant("alice", "storage://c/alice/x", "bob", Write);
    w.revoke("alice", "storage://c/alice", "bob");
    w.expect(&[
        ("bob", "storage://c/alice", List),
        ("bob", "storage://c/alice/x", Write),
    ]);
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .revoke(&w.by("alice"), &uri("storage://c/alice"), &name("bob"))
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .revoke(&w.by("bob"), &uri("storage://c/alice/x"), &name("bob"))
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .revoke(&w.by("alice"), &uri("storage://c/alice/x"), &name("ghost"))
    });
}

/// rule M3: every mutation raises the revision by one and appends a changelog entry; reads
/// can demand a revision.
pub fn m3_revisions_and_changelog<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    let start = w.dump().revision;
    assert_eq!(start, Revision(1), "init is the first revision");
    w.users(&["alice", "bob"]);
    w.grant("alice", "storage://c/alice/x", "bob", Read);
    w.revoke("alice", "storage://c/alice/x", "bob");
    let dump = w.dump();
    assert_eq!(dump.revision, Revision(5));
    let actions: Vec<(u64, &str, Option<String>)> = dump
        .changes
        .iter()
        .map(|c| {
            (
                c.revision.0,
                c.change.action.as_str(),
                c.change.actor.as_ref().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (1, "init", None),
            (2, "create_user", Some("admin".to_owned())),
            (3, "create_user", Some("admin".to_owned())),
            (4, "grant", Some("alice".to_owned())),
            (5, "revoke", Some("alice".to_owned())),
        ]
    );
    let grant = &dump.changes[3].change;
    assert_eq!(grant.target, "storage://c/alice/x");
    assert_eq!(grant.detail, "bob read");
    assert!(
        dump.changes
            .windows(2)
            .all(|p| p[0].change.at <= p[1].change.at)
    );
    // filtered by actor, paginated
    let reader = w.engine.reader().unwrap();
    let by_alice = reader
        .changes(Revision(0), Some(&name("alice")), &PageRequest::first(1))
        .unwrap();
    assert_eq!(by_alice.items.len(), 1);
    assert_eq!(by_alice.items[0].revision, Revision(4));
    let rest = reader
        .changes(
            Revision(0),
            Some(&name("alice")),
            &PageRequest::after(by_alice.next.unwrap(), 5),
        )
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].revision, Revision(5));
    drop(reader);
    // consistency tokens
    assert!(w.engine.reader_at_least(Revision(5)).is_ok());
    let err = w.engine.reader_at_least(Revision(6)).err().unwrap();
    assert_eq!(
        err,
        Error::RevisionNotReached {
            wanted: 6,
            current: 5
        }
    );
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

/// rule D3 (and the Store contract's "changed rows"): every kind of kernel write a commit
/// makes is reported by `changed_rows` for the commits after the one before it, and only
/// from there on; a dropped transaction notes nothing. What a follower index re-reads and
/// the closure caches forget entries by.
pub fn d3_every_kernel_write_is_noted<S: PlatformStore>(make: &dyn Fn() -> S) {
    use acl_core::{
        Change, ClusterName, Edge, Fence, Grant, PrincipalRecord, ReadView, RowKey, Timestamp,
        WriteTxn,
    };
    let store = make();
    let change = |action: &str| Change {
        at: Timestamp(0),
        actor: None,
        action: action.into(),
        target: String::new(),
        detail: String::new(),
    };
    let record = |who: &str, kind| PrincipalRecord {
        name: name(who),
        kind,
        active: true,
    };
    let edge = Edge {
        member: name("bob"),
        role: name("r/team"),
    };
    let fence = Fence {
        uri: uri("storage://c/data/secret"),
        group: name("r/team"),
    };
    let grant = Grant {
        holder: name("r/team"),
        uri: uri("storage://c/data"),
        level: Read,
    };
    let keys = |after: u64| -> BTreeSet<RowKey> {
        let view = store.read().unwrap();
        match view.changed_rows(Revision(after)).unwrap() {
            Some(keys) => keys.into_iter().collect(),
            None => panic!("a fresh store keeps the notes of its first commits"),
        }
    };
    let mut txn = store.write().unwrap();
    txn.set_cluster(&ClusterName::new("c").unwrap()).unwrap();
    txn.insert_principal(&record("bob", PrincipalKind::User))
        .unwrap();
    txn.insert_principal(&record("r/team", PrincipalKind::Group))
        .unwrap();
    txn.set_edge(&edge, true).unwrap();
    txn.put_grant(&grant).unwrap();
    txn.set_fence(&fence, true).unwrap();
    let first = txn.commit(change("first")).unwrap();
    let written = [
        RowKey::Cluster,
        RowKey::Principal(name("bob")),
        RowKey::Principal(name("r/team")),
        RowKey::Edge {
            member: name("bob"),
            role: name("r/team"),
        },
        RowKey::Grant {
            holder: name("r/team"),
            uri: uri("storage://c/data"),
        },
        RowKey::Fence {
            uri: uri("storage://c/data/secret"),
            group: name("r/team"),
        },
    ];
    let noted = keys(0);
    for key in &written {
        assert!(noted.contains(key), "{key:?} noted in {noted:?}");
    }
    assert!(keys(first.0).is_empty(), "nothing after the last commit");

    // A dropped transaction notes nothing, whatever it wrote.
    let mut txn = store.write().unwrap();
    txn.insert_principal(&record("carol", PrincipalKind::User))
        .unwrap();
    txn.put_grant(&Grant {
        holder: name("carol"),
        uri: uri("storage://c/other"),
        level: Write,
    })
    .unwrap();
    txn.delete_grant(&grant.holder, &grant.uri).unwrap();
    drop(txn);
    assert!(
        keys(first.0).is_empty(),
        "a dropped transaction notes nothing"
    );

    // Removals and updates are noted too, under the later commit only.
    let mut txn = store.write().unwrap();
    txn.update_principal(&PrincipalRecord {
        active: false,
        ..record("bob", PrincipalKind::User)
    })
    .unwrap();
    txn.set_fence(&fence, false).unwrap();
    txn.delete_grant(&grant.holder, &grant.uri).unwrap();
    txn.set_edge(&edge, false).unwrap();
    txn.delete_principal(&name("r/team")).unwrap();
    let second = txn.commit(change("second")).unwrap();
    let noted = keys(first.0);
    for key in written.iter().skip(1) {
        assert!(noted.contains(key), "{key:?} noted in {noted:?}");
    }
    assert!(keys(second.0).is_empty());
    let view = store.read().unwrap();
    assert_eq!(
        view.changed_rows(Revision(0))
            .unwrap()
            .map(|k| k.into_iter().collect::<BTreeSet<_>>()),
        Some(keys(0)),
        "the same answer from any view at the same revision"
    );
}

/// rule M4 and M3: every failed call, whatever its kind, leaves the store exactly as it
/// was; a batch fails whole.
pub fn m4_failed_calls_change_nothing<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "a", PrincipalKind::Role);
    w.role(ADMIN, "b", PrincipalKind::Role);
    w.grant(ADMIN, "role://b", "a", Read);
    // a batch whose last grant closes a cycle applies none of its grants
    let batch = vec![
        (uri("storage://c/alice/1"), name("bob"), Read),
        (uri("storage://c/alice/2"), name("bob"), Read),
        (uri("role://a"), name("b"), Read),
    ];
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.grant_many(&w.by(ADMIN), &batch)
    });
    w.expect(&[("bob", "storage://c/alice/1", Deny)]);
    // a batch with one unauthorized grant applies none
    let batch = vec![
        (uri("storage://c/alice/1"), name("bob"), Read),
        (uri("storage://c/bob/1"), name("alice"), Read),
    ];
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.grant_many(&w.by("alice"), &batch)
    });
    // each kind of refusal
    w.refused(ErrorKind::InvalidInput, |w| {
        w.try_grant(ADMIN, "nope://c/x", "bob", Read)
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.try_grant(ADMIN, "storage://c/x", "nobody", Read)
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .add_role(&w.by(ADMIN), &name("a"), PrincipalKind::Role)
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .add_role(&w.by("bob"), &name("z"), PrincipalKind::Role)
    });
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .revoke(&w.by(ADMIN), &uri("storage://c/x"), &name("bob"))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .add_role(&w.by(ADMIN), &name("u"), PrincipalKind::User)
    });
    // and a successful batch applies every grant in one revision
    let before = w.dump().revision;
    let batch = vec![
        (uri("storage://c/alice/1"), name("bob"), Read),
        (uri("storage://c/alice/2"), name("bob"), Write),
    ];
    let applied = w.engine.grant_many(&w.by("alice"), &batch).unwrap();
    assert_eq!(applied.revision, before.next());
    w.expect(&[
        ("bob", "storage://c/alice/1", Read),
        ("bob", "storage://c/alice/2", Write),
    ]);
}

/// rule V2: on `vm`, grantee and granter must share a group.
pub fn v2_share_scope<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    w.role(ADMIN, "team", PrincipalKind::Group);
    w.role(ADMIN, "club", PrincipalKind::Role);
    w.grant(ADMIN, "role://team", "alice", Read);
    w.grant(ADMIN, "role://team", "bob", Read);
    w.grant(ADMIN, "role://club", "carol", Read);
    w.grant(ADMIN, "role://club", "alice", Read);
    // the admin is bound by the scope too: it joins the team to hand out the VM
    w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant(ADMIN, "vm://c/v1", "alice", Manage)
    });
    w.grant(ADMIN, "role://team", ADMIN, Read);
    w.grant(ADMIN, "vm://c/v1", "alice", Manage);
    w.grant("alice", "vm://c/v1", "bob", Write);
    // a shared plain role is not a team
    let err = w.refused(ErrorKind::Forbidden, |w| {
        w.try_grant("alice", "vm://c/v1", "carol", Write)
    });
    assert!(err.to_string().contains("shares no group"), "{err}");
    // other schemes are not scoped
    w.grant("alice", "storage://c/alice/x", "carol", Read);
    // a forbid is not sharing
    w.grant("alice", "vm://c/v1/drive", "carol", Deny);
}
