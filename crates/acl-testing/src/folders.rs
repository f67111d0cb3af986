//! Conformance cases for Backend.AI folders and invitations (rules F1 to F9) and VM
//! sharing (rules V1 to V3), run by every store through [`crate::conformance_tests!`].
//! The cases named `bug_*` replay Backend.AI's own bug history.

use acl_core::GrantOutcome;
use acl_platform::PlatformReads;

use crate::world::{ADMIN, World, name, uri};
use acl_core::InvitationState;
use acl_core::Level::{self, Deny, List, Manage, Read, Write};
use acl_core::PageRequest;
use acl_core::PrincipalKind;
use acl_core::ReadView;
use acl_core::{ErrorKind, Result};
use acl_platform::FolderAccess;
use acl_platform::Permission::{ReadOnly, ReadWrite};
use acl_platform::{
    Folder, FolderId, FolderKind, FolderName, InvitationId, Permission, VmId, VmShareMode,
};
use acl_platform::{PlatformStore, PlatformTxn, PlatformView};

fn world<S: PlatformStore>(make: &dyn Fn() -> S) -> World<S> {
    World::new(make())
}

/// A folder name, panicking on an invalid one.
pub fn folder_name(text: &str) -> FolderName {
    FolderName::new(text).unwrap_or_else(|e| panic!("bad test folder name {text:?}: {e}"))
}

/// `vfolder://c/{id}`.
pub fn furi(id: &FolderId) -> String {
    format!("vfolder://c/{id}")
}

impl<S: PlatformStore> World<S> {
    /// `owner` creates a user folder named `folder` on host `h1`.
    pub fn folder(&self, owner: &str, folder: &str) -> FolderId {
        self.engine
            .create_folder(&self.by(owner), &folder_name(folder), "h1")
            .unwrap_or_else(|e| panic!("{owner} create folder {folder}: {e}"))
            .value
            .id
    }

    /// `actor` invites one user and the invitation must be created.
    pub fn invite1(
        &self,
        actor: &str,
        folder: &FolderId,
        invitee: &str,
        p: Permission,
    ) -> InvitationId {
        let report = self
            .engine
            .invite(&self.by(actor), folder, &[name(invitee)], p)
            .unwrap_or_else(|e| panic!("{actor} invite {invitee}: {e}"))
            .value;
        assert!(report.refused.is_empty(), "{report:?}");
        report
            .invited
            .first()
            .or(report.already_pending.first())
            .unwrap_or_else(|| panic!("nobody invited: {report:?}"))
            .id
            .clone()
    }

    /// `actor` accepts and it must succeed.
    pub fn accept(&self, actor: &str, id: &InvitationId) {
        self.engine
            .accept_invitation(&self.by(actor), id)
            .unwrap_or_else(|e| panic!("{actor} accept {id}: {e}"));
    }

    /// `owner` shares `folder` with `user`: invite and accept.
    pub fn share(&self, owner: &str, folder: &FolderId, user: &str, p: Permission) {
        let id = self.invite1(owner, folder, user, p);
        self.accept(user, &id);
    }

    /// The folders `user` sees, as (name, owner, access).
    pub fn seen(&self, user: &str) -> Vec<(String, String, FolderAccess)> {
        self.engine
            .reader()
            .unwrap()
            .folders(&name(user))
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.folder.name.to_string(),
                    e.folder.owner.to_string(),
                    e.access,
                )
            })
            .collect()
    }

    /// Whether `user` may do `action` on `folder`.
    pub fn may(&self, user: &str, folder: &FolderId, action: &str) -> bool {
        self.engine
            .check_action(&name(user), &uri(&furi(folder)), action)
            .unwrap()
    }

    /// Asserts `user`'s effective level on the folder through every read path: check,
    /// explain, list, tree and who (rule F7).
    #[track_caller]
    pub fn folder_level(&self, user: &str, folder: &FolderId, want: Level) {
        let at = furi(folder);
        self.expect(&[(user, at.as_str(), want)]);
        let reader = self.engine.reader().unwrap();
        let listed = self
            .list(user)
            .into_iter()
            .find(|(u, _)| u == &at)
            .map(|(_, l)| l);
        let want_listed = want.is_allow().then_some(want);
        assert_eq!(listed, want_listed, "list({user}) on {at}");
        let tree = reader.tree(&name(user), &uri(&at), 0).unwrap();
        assert_eq!(
            tree.first().map(|n| n.level),
            Some(want),
            "tree({user}, {at})"
        );
        for level in [List, Read, Write, Manage] {
            let who = reader.who(&uri(&at), level, &PageRequest::all()).unwrap();
            assert_eq!(
                who.items.contains(&name(user)),
                want >= level,
                "who({at}, {level}) for {user}"
            );
        }
    }
}

fn folder_of<S: PlatformStore>(w: &World<S>, id: &FolderId) -> Folder {
    w.engine.reader().unwrap().folder(id).unwrap()
}

fn ok<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// rules F1, F2: a folder has an id, a name, an owner, a host and a status; its owner holds
/// manage on `vfolder://c/{id}`; names follow F2 and are unique per owner; a rename keeps
/// every grant; the listing shows name, owner, ownership, permission, type and host.
pub fn f1_f2_folders_names_and_listing<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    let data = w.folder("alice", "data");
    let folder = folder_of(&w, &data);
    assert_eq!(folder.owner, name("alice"));
    assert_eq!(folder.kind, FolderKind::User);
    assert_eq!(folder.host, "h1");
    assert!(folder.is_active());
    w.folder_level("alice", &data, Manage);
    // rule F2: unique among the owner's folders; others may reuse it
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .create_folder(&w.by("alice"), &folder_name("data"), "h1")
    });
    assert!(err.to_string().contains("data"), "{err}");
    let carols = w.folder("carol", "data");
    assert_ne!(carols, data);
    w.folder("bob", "own");
    // rule F2: names are validated by the type; a bad host is refused
    assert!(FolderName::new("a/b").is_err());
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .create_folder(&w.by("alice"), &folder_name("x"), "")
    });
    // unknown principals cannot create folders
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .create_folder(&w.by("ghost"), &folder_name("x"), "h1")
    });
    // rename: only the owner or an admin (F3 `rename` is manage); grants survive
    w.share("alice", &data, "bob", ReadOnly);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .rename_folder(&w.by("bob"), &data, &folder_name("mine"))
    });
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .rename_folder(&w.by("alice"), &data, &folder_name("data"))
    });
    // a shared folder cannot become private (rule F2)
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .rename_folder(&w.by("alice"), &data, &folder_name(".hidden"))
    });
    ok(w.engine
        .rename_folder(&w.by("alice"), &data, &folder_name("renamed")));
    w.folder_level("bob", &data, Read);
    w.folder_level("alice", &data, Manage);
    ok(w.engine
        .rename_folder(&w.by(ADMIN), &data, &folder_name("by-admin")));
    // the listing, as each user sees it
    assert_eq!(
        w.seen("alice"),
        vec![("by-admin".into(), "alice".into(), FolderAccess::Owner)]
    );
    let mut bob_sees = w.seen("bob");
    bob_sees.sort();
    assert_eq!(
        bob_sees,
        vec![
            ("by-admin".into(), "alice".into(), FolderAccess::ReadOnly),
            ("own".into(), "bob".into(), FolderAccess::Owner),
        ]
    );
    let entries = w.engine.reader().unwrap().folders(&name("bob")).unwrap();
    assert!(entries.iter().all(|e| e.folder.host == "h1"));
    assert_eq!(entries.iter().filter(|e| e.is_owner).count(), 1);
    // every workflow logs one entry
    let last = w
        .engine
        .reader()
        .unwrap()
        .changes(acl_core::Revision(0), None, &PageRequest::all())
        .unwrap();
    assert!(
        last.items
            .iter()
            .any(|c| c.change.action == "folder_rename")
    );
    assert!(
        last.items
            .iter()
            .any(|c| c.change.action == "folder_create")
    );
}

/// rule F2: addressing a folder by name among those a user sees; two of the same name
/// (one owned, one shared) are a clear ambiguity error naming both.
pub fn f2_folder_by_name_and_ambiguity<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    let a = w.folder("alice", "data");
    let reader = w.engine.reader().unwrap();
    assert_eq!(
        reader
            .folder_by_name(&name("alice"), &folder_name("data"))
            .unwrap()
            .id,
        a
    );
    let err = reader
        .folder_by_name(&name("bob"), &folder_name("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop(reader);
    // bob sees alice's `data` through a share; then a group folder `data` also reaches him
    w.share("alice", &a, "bob", ReadOnly);
    w.role(ADMIN, "proj", PrincipalKind::Group);
    w.grant(ADMIN, "role://proj", "bob", Read);
    let g = ok(w.engine.create_group_folder(
        &w.by(ADMIN),
        &name("proj"),
        &folder_name("data"),
        "h1",
        ReadOnly,
    ))
    .value
    .id;
    let reader = w.engine.reader().unwrap();
    let err = reader
        .folder_by_name(&name("bob"), &folder_name("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let text = err.to_string();
    assert!(
        text.contains("ambiguous") && text.contains(a.as_str()) && text.contains(g.as_str()),
        "{text}"
    );
}

/// rule F3: folder actions by name through `check`: ro allows list, read, mount-ro; rw adds
/// write and mount-rw; delete-file, rename, delete and share need manage (the owner or an
/// admin).
pub fn f3_folder_actions<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "ro", "rw", "eve"]);
    let f = w.folder("alice", "data");
    w.share("alice", &f, "ro", ReadOnly);
    w.share("alice", &f, "rw", ReadWrite);
    let table: &[(&str, [bool; 5])] = &[
        // user:  (read-ish, write, mount-rw, manage actions, mount-ro)
        ("alice", [true, true, true, true, true]),
        (ADMIN, [true, true, true, true, true]),
        ("rw", [true, true, true, false, true]),
        ("ro", [true, false, false, false, true]),
        ("eve", [false, false, false, false, false]),
    ];
    for (user, [read, write, mount_rw, manage, mount_ro]) in table {
        for action in ["list", "read"] {
            assert_eq!(w.may(user, &f, action), *read, "{user} {action}");
        }
        assert_eq!(w.may(user, &f, "mount-ro"), *mount_ro, "{user} mount-ro");
        assert_eq!(w.may(user, &f, "write"), *write, "{user} write");
        assert_eq!(w.may(user, &f, "mount-rw"), *mount_rw, "{user} mount-rw");
        for action in ["delete-file", "rename", "delete", "share"] {
            assert_eq!(w.may(user, &f, action), *manage, "{user} {action}");
        }
    }
    let err = w
        .engine
        .check_action(&name("ro"), &uri(&furi(&f)), "format")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// rule F4: invite checks the actor (manage), the folder (not private, not a group
/// folder) and each invitee (exists, a user, active, not the actor nor the owner, no share
/// yet, no visible folder of the same name); several invitees at once, each reported; a
/// second invite while one is pending returns the pending one.
pub fn f4_invite<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol", "dave", "erin", "frank"]);
    let f = w.folder("alice", "data");
    // the actor needs manage: a stranger, then a rw sharee, are refused
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .invite(&w.by("bob"), &f, &[name("carol")], ReadOnly)
    });
    w.share("alice", &f, "frank", ReadWrite);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .invite(&w.by("frank"), &f, &[name("carol")], ReadOnly)
    });
    // a private folder is never shared
    let private = w.folder("alice", ".secret");
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .invite(&w.by("alice"), &private, &[name("bob")], ReadOnly)
    });
    assert!(err.to_string().contains("private"), "{err}");
    // an unknown folder
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.invite(
            &w.by(ADMIN),
            &FolderId::new("nope").unwrap(),
            &[name("bob")],
            ReadOnly,
        )
    });
    // each invitee is checked; the valid ones are invited in one transaction
    w.engine
        .set_active(&w.by(ADMIN), &name("erin"), false)
        .unwrap();
    w.folder("dave", "data");
    w.role(ADMIN, "team", PrincipalKind::Group);
    let report = ok(w.engine.invite(
        &w.by("alice"),
        &f,
        &[
            name("bob"),
            name("ghost"),
            name("alice"),
            name("dave"),
            name("erin"),
            name("frank"),
            name("team"),
            name("carol"),
        ],
        ReadOnly,
    ))
    .value;
    let invited: Vec<String> = report
        .invited
        .iter()
        .map(|i| i.invitee.to_string())
        .collect();
    assert_eq!(invited, ["bob", "carol"]);
    let refused: Vec<(&str, ErrorKind)> = report
        .refused
        .iter()
        .map(|r| (r.invitee.as_str(), r.kind))
        .collect();
    assert_eq!(
        refused,
        [
            ("ghost", ErrorKind::NotFound),
            ("alice", ErrorKind::InvalidInput),
            ("dave", ErrorKind::Conflict),
            ("erin", ErrorKind::Conflict),
            ("frank", ErrorKind::Conflict),
            ("team", ErrorKind::InvalidInput),
        ]
    );
    assert!(report.refused.iter().all(|r| !r.reason.is_empty()));
    // a second invite returns the pending one: never two rows
    let before = w.dump();
    let again = ok(w
        .engine
        .invite(&w.by("alice"), &f, &[name("bob")], ReadWrite))
    .value;
    assert!(again.invited.is_empty());
    assert_eq!(again.already_pending, vec![report.invited[0].clone()]);
    assert_eq!(w.dump(), before, "a repeated invite wrote something");
    // received (with a count) and sent
    let reader = w.engine.reader().unwrap();
    let received = reader.received_invitations(&name("bob")).unwrap();
    assert_eq!(received.count, 1);
    assert_eq!(received.invitations[0].permission, ReadOnly);
    assert_eq!(reader.sent_invitations(&name("alice")).unwrap().len(), 2);
    assert_eq!(reader.received_invitations(&name("dave")).unwrap().count, 0);
    // an admin (manage through the root) may invite too: the inviter is the admin
    drop(reader);
    w.users(&["gina"]);
    let by_admin = w.invite1(ADMIN, &f, "gina", ReadOnly);
    let reader = w.engine.reader().unwrap();
    assert_eq!(reader.invitation(&by_admin).unwrap().inviter, name(ADMIN));
}

/// rule F5: the invitation state machine through the engine: accept and reject by the
/// invitee only, cancel by the inviter or a folder manager, a permission change by the
/// inviter only; end states are final.
pub fn f5_invitation_states<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol", "mallory"]);
    let f = w.folder("alice", "data");
    let i = w.invite1("alice", &f, "bob", ReadOnly);
    // only the invitee accepts or rejects
    for actor in ["alice", "mallory", ADMIN] {
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine.accept_invitation(&w.by(actor), &i)
        });
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine.reject_invitation(&w.by(actor), &i)
        });
    }
    // only the inviter changes the permission
    for actor in ["bob", "mallory", ADMIN] {
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine
                .change_invitation_permission(&w.by(actor), &i, ReadWrite)
        });
    }
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .change_invitation_permission(&w.by("alice"), &i, ReadOnly)
    });
    let changed = ok(w
        .engine
        .change_invitation_permission(&w.by("alice"), &i, ReadWrite))
    .value;
    assert_eq!(
        (changed.state, changed.permission),
        (InvitationState::Pending, ReadWrite)
    );
    // the invitee and strangers cannot cancel; a folder manager (the admin) can
    for actor in ["bob", "mallory"] {
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine.cancel_invitation(&w.by(actor), &i)
        });
    }
    let canceled = ok(w.engine.cancel_invitation(&w.by(ADMIN), &i)).value;
    assert_eq!(canceled.state, InvitationState::Canceled);
    // end states are final
    for (actor, kind) in [
        ("bob", "accept"),
        ("bob", "reject"),
        ("alice", "cancel"),
        ("alice", "change"),
    ] {
        w.refused(ErrorKind::Conflict, |w| match kind {
            "accept" => w.engine.accept_invitation(&w.by(actor), &i).map(|_| ()),
            "reject" => w.engine.reject_invitation(&w.by(actor), &i).map(|_| ()),
            "cancel" => w.engine.cancel_invitation(&w.by(actor), &i).map(|_| ()),
            _ => w
                .engine
                .change_invitation_permission(&w.by(actor), &i, ReadOnly)
                .map(|_| ()),
        });
    }
    // reject: final too, and no share
    let j = w.invite1("alice", &f, "carol", ReadOnly);
    let rejected = ok(w.engine.reject_invitation(&w.by("carol"), &j)).value;
    assert_eq!(rejected.state, InvitationState::Rejected);
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("carol"), &j)
    });
    w.folder_level("carol", &f, Deny);
    // a new invitation after an end state is a new row
    let k = w.invite1("alice", &f, "carol", ReadOnly);
    assert_ne!(k, j);
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .accept_invitation(&w.by("carol"), &InvitationId::new("i999").unwrap())
    });
}

/// rule F6: accept is atomic: it re-checks the name rule, the invitee and the folder, then
/// creates exactly one share with its grant.
pub fn f6_accept_rechecks<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    let f = w.folder("alice", "data");
    let i = w.invite1("alice", &f, "bob", ReadWrite);
    // bob made a folder of the same name since: accept is refused
    let own = w.folder("bob", "data");
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("bob"), &i)
    });
    assert!(err.to_string().contains("data"), "{err}");
    ok(w.engine
        .rename_folder(&w.by("bob"), &own, &folder_name("mine")));
    w.accept("bob", &i);
    let reader = w.engine.reader().unwrap();
    assert_eq!(
        reader.invitation(&i).unwrap().state,
        InvitationState::Accepted
    );
    let shares = reader.shares(&f).unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        (shares[0].user.as_str(), shares[0].permission),
        ("bob", ReadWrite)
    );
    drop(reader);
    w.folder_level("bob", &f, Write);
    // a direct grant or forbid on the folder is never overwritten by a share
    w.users(&["dave"]);
    let k = w.invite1("alice", &f, "dave", ReadWrite);
    w.grant(ADMIN, &furi(&f), "dave", Deny);
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("dave"), &k)
    });
    assert!(err.to_string().contains("forbid"), "{err}");
    w.folder_level("dave", &f, Deny);
    // an inactive invitee cannot accept
    w.users(&["carol"]);
    let j = w.invite1("alice", &f, "carol", ReadOnly);
    w.engine
        .set_active(&w.by(ADMIN), &name("carol"), false)
        .unwrap();
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("carol"), &j)
    });
}

/// rule F7: the owner changes a share (ro <-> rw) or stops it; the sharee leaves; access
/// ends at the next check on every read path.
pub fn f7_share_changes_and_leave<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    let f = w.folder("alice", "data");
    w.share("alice", &f, "bob", ReadOnly);
    w.share("alice", &f, "carol", ReadWrite);
    let shares = w.engine.reader().unwrap().shares(&f).unwrap();
    let listed: Vec<(&str, Permission)> = shares
        .iter()
        .map(|s| (s.user.as_str(), s.permission))
        .collect();
    assert_eq!(listed, [("bob", ReadOnly), ("carol", ReadWrite)]);
    // change: only a manager
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .update_share(&w.by("carol"), &f, &name("bob"), ReadWrite)
    });
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .update_share(&w.by("alice"), &f, &name("bob"), ReadOnly)
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .update_share(&w.by("alice"), &f, &name(ADMIN), ReadOnly)
    });
    ok(w.engine
        .update_share(&w.by("alice"), &f, &name("bob"), ReadWrite));
    w.folder_level("bob", &f, Write);
    ok(w.engine
        .update_share(&w.by("alice"), &f, &name("bob"), ReadOnly));
    w.folder_level("bob", &f, Read);
    // stop sharing
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.unshare_folder(&w.by("carol"), &f, &name("bob"))
    });
    ok(w.engine.unshare_folder(&w.by("alice"), &f, &name("bob")));
    w.folder_level("bob", &f, Deny);
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.unshare_folder(&w.by("alice"), &f, &name("bob"))
    });
    // leave
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.leave_folder(&w.by("alice"), &f)
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.leave_folder(&w.by("bob"), &f)
    });
    ok(w.engine.leave_folder(&w.by("carol"), &f));
    w.folder_level("carol", &f, Deny);
    assert!(w.engine.reader().unwrap().shares(&f).unwrap().is_empty());
    assert_eq!(w.seen("carol"), vec![]);
    // after leaving, a new invitation works again
    w.share("alice", &f, "carol", ReadOnly);
    w.folder_level("carol", &f, Read);
}

/// rule F6 (docs/semantics.md): the grants the folder workflows own (the owner's, a
/// group folder's, a sharee's) change only through them: a generic grant, forbid, revoke
/// or bulk grant on the folder's URI for those holders is refused, so no share row outlives
/// its grant; other holders are plain grants; a deleted folder takes no grant at all.
pub fn f6_share_grants_follow_the_folder_workflows<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    let f = w.folder("alice", "data");
    w.share("alice", &f, "bob", ReadOnly);
    let at = uri(&furi(&f));
    for level in [Write, Read, Deny] {
        let err = w.refused(ErrorKind::Conflict, |w| {
            w.engine.grant(&w.by(ADMIN), &at, &name("bob"), level)
        });
        assert!(err.to_string().contains("set-permission"), "{err}");
    }
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.revoke(&w.by("alice"), &at, &name("bob"))
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .grant_many(&w.by(ADMIN), &[(at.clone(), name("bob"), Write)])
    });
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.revoke(&w.by(ADMIN), &at, &name("alice"))
    });
    assert!(err.to_string().contains("owns folder"), "{err}");
    w.folder_level("bob", &f, Read);
    // a holder with no share is an ordinary grant, both ways
    w.grant(ADMIN, &furi(&f), "carol", Read);
    w.folder_level("carol", &f, Read);
    ok(w.engine.revoke(&w.by(ADMIN), &at, &name("carol")));
    w.folder_level("carol", &f, Deny);
    // a group folder's grant belongs to the folder
    w.role(ADMIN, "proj", PrincipalKind::Group);
    let g = ok(w.engine.create_group_folder(
        &w.by(ADMIN),
        &name("proj"),
        &folder_name("shared"),
        "h1",
        ReadWrite,
    ))
    .value
    .id;
    w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .revoke(&w.by(ADMIN), &uri(&furi(&g)), &name("proj"))
    });
    // once deleted, the folder's URI takes no grant
    ok(w.engine.delete_folder(&w.by("alice"), &f));
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.grant(&w.by(ADMIN), &at, &name("carol"), Read)
    });
    assert!(err.to_string().contains("deleted"), "{err}");
    w.folder_level("carol", &f, Deny);
    w.folder_level("bob", &f, Deny);
}

/// rule F8: group folders: only admins create them; members get the folder's permission
/// through the group with no invitation and lose it on leaving the group; leave is refused;
/// they cannot be private nor shared by invitation.
pub fn f8_group_folders<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol"]);
    w.role(ADMIN, "proj", PrincipalKind::Group);
    w.grant(ADMIN, "role://proj", "alice", Read);
    w.grant(ADMIN, "role://proj", "bob", Read);
    let create = |w: &World<S>, actor: &str, group: &str, n: &str| {
        w.engine
            .create_group_folder(&w.by(actor), &name(group), &folder_name(n), "h1", ReadWrite)
    };
    w.refused(ErrorKind::Forbidden, |w| {
        create(w, "alice", "proj", "shared")
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        create(w, ADMIN, "proj", ".hidden")
    });
    w.refused(ErrorKind::NotFound, |w| {
        create(w, ADMIN, "nogroup", "shared")
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        create(w, ADMIN, "alice", "shared")
    });
    let g = ok(create(&w, ADMIN, "proj", "shared")).value.id;
    assert_eq!(folder_of(&w, &g).kind, FolderKind::Group);
    w.refused(ErrorKind::Conflict, |w| create(w, ADMIN, "proj", "shared"));
    w.folder_level("alice", &g, Write);
    w.folder_level("bob", &g, Write);
    w.folder_level("carol", &g, Deny);
    assert!(w.may("bob", &g, "mount-rw"));
    assert!(!w.may("bob", &g, "delete"));
    assert_eq!(
        w.seen("bob"),
        vec![("shared".into(), "proj".into(), FolderAccess::ReadWrite)]
    );
    // members cannot leave it, nor be invited to it
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.leave_folder(&w.by("bob"), &g)
    });
    assert!(err.to_string().contains("group folder"), "{err}");
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .invite(&w.by(ADMIN), &g, &[name("carol")], ReadOnly)
    });
    // joining and leaving the group
    w.grant(ADMIN, "role://proj", "carol", Read);
    w.folder_level("carol", &g, Write);
    w.revoke(ADMIN, "role://proj", "bob");
    w.folder_level("bob", &g, Deny);
    assert_eq!(w.seen("bob"), vec![]);
    // the owning group cannot be removed while its folder rows exist (rule P4 meets F1)
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("proj"))
    });
    assert!(err.to_string().contains(g.as_str()), "{err}");
}

/// rule F9: deleting a folder cancels its pending invitations and removes its shares and
/// grants in one transaction; a mount above the effective permission is refused.
pub fn f9_delete_and_mount<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol", "dave"]);
    let f = w.folder("alice", "data");
    w.share("alice", &f, "bob", ReadOnly);
    w.share("alice", &f, "carol", ReadWrite);
    let pending = w.invite1("alice", &f, "dave", ReadOnly);
    // rule F9: mounts
    assert!(w.may("bob", &f, "mount-ro"));
    assert!(!w.may("bob", &f, "mount-rw"));
    assert!(w.may("carol", &f, "mount-rw"));
    assert!(!w.may("dave", &f, "mount-ro"));
    // only a manager deletes: a rw sharee cannot
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.delete_folder(&w.by("carol"), &f)
    });
    let rev = w.engine.reader().unwrap().revision().unwrap();
    let removed = ok(w.engine.delete_folder(&w.by("alice"), &f));
    assert_eq!(removed.revision, rev.next(), "one transaction");
    assert_eq!(removed.value.canceled_invitations, 1);
    assert_eq!(removed.value.removed_shares, 2);
    assert_eq!(removed.value.removed_grants, 3);
    for user in ["alice", "bob", "carol", "dave"] {
        w.folder_level(user, &f, Deny);
        assert_eq!(w.seen(user), vec![]);
    }
    let reader = w.engine.reader().unwrap();
    assert_eq!(
        reader.invitation(&pending).unwrap().state,
        InvitationState::Canceled
    );
    assert!(reader.shares(&f).unwrap().is_empty());
    assert!(!reader.folder(&f).unwrap().is_active());
    drop(reader);
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("dave"), &pending)
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.delete_folder(&w.by(ADMIN), &f)
    });
    // the name is free again
    w.folder("alice", "data");
}

/// Backend.AI bug history, each a test: only the invitee can accept (not any caller holding
/// the id); accepting twice fails cleanly and leaves one share; a ro share never allows a
/// write through any path; a deleted folder with the same name does not block an
/// invitation; a Read & Write sharee cannot delete the folder; deleting a folder leaves no
/// invitation or share behind.
pub fn bug_history_folders<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "mallory"]);
    let f = w.folder("alice", "data");
    let i = w.invite1("alice", &f, "bob", ReadOnly);
    // rule F5: only the invitee, even for a caller holding the id
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.accept_invitation(&w.by("mallory"), &i)
    });
    w.folder_level("mallory", &f, Deny);
    // rule F6: accepting twice fails cleanly and leaves one share
    w.accept("bob", &i);
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.accept_invitation(&w.by("bob"), &i)
    });
    assert_eq!(w.engine.reader().unwrap().shares(&f).unwrap().len(), 1);
    // rule F3: a ro share never writes, through any path
    w.folder_level("bob", &f, Read);
    for action in [
        "write",
        "mount-rw",
        "delete-file",
        "rename",
        "delete",
        "share",
    ] {
        assert!(!w.may("bob", &f, action), "ro sharee may {action}");
    }
    assert!(
        !w.engine
            .check(&name("bob"), &uri(&format!("{}/sub/file", furi(&f))), Write)
            .unwrap()
    );
    // rule F4: a deleted folder of the same name does not block an invitation
    let old = w.folder("mallory", "data2");
    ok(w.engine.delete_folder(&w.by("mallory"), &old));
    let g = w.folder("alice", "data2");
    w.share("alice", &g, "mallory", ReadWrite);
    // rule F3: a Read & Write sharee cannot delete, rename or share the folder
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.delete_folder(&w.by("mallory"), &g)
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .rename_folder(&w.by("mallory"), &g, &folder_name("x"))
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .invite(&w.by("mallory"), &g, &[name("bob")], ReadOnly)
    });
    // rule F9: deleting leaves no invitation or share behind
    w.invite1("alice", &g, "bob", ReadWrite);
    ok(w.engine.delete_folder(&w.by("alice"), &g));
    let reader = w.engine.reader().unwrap();
    assert!(reader.shares(&g).unwrap().is_empty());
    assert_eq!(reader.received_invitations(&name("bob")).unwrap().count, 0);
    assert!(reader.sent_invitations(&name("alice")).unwrap().is_empty());
    assert!(
        reader
            .view()
            .grants_within(&uri(&furi(&g)), None, usize::MAX)
            .unwrap()
            .is_empty()
    );
}

/// rules V1, V2: VMs are created in a team; `use` is write (launch, no drives), `co-own` is
/// manage (drives, sharing); grantees outside the sharer's teams are refused, also when a
/// co-owner shares further; users and managers are listed separately.
pub fn v1_v2_vm_sharing<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob", "carol", "dave"]);
    w.role(ADMIN, "team-a", PrincipalKind::Group);
    w.role(ADMIN, "team-b", PrincipalKind::Group);
    for (team, user) in [
        ("team-a", "alice"),
        ("team-a", "bob"),
        ("team-a", "carol"),
        ("team-b", "bob"),
        ("team-b", "dave"),
    ] {
        w.grant(ADMIN, &format!("role://{team}"), user, Read);
    }
    let create = |w: &World<S>, actor: &str, team: &str| {
        w.engine
            .create_vm(&w.by(actor), &folder_name("vm1"), &name(team))
    };
    w.refused(ErrorKind::Forbidden, |w| create(w, "dave", "team-a"));
    w.refused(ErrorKind::NotFound, |w| create(w, "alice", "nope"));
    w.refused(ErrorKind::InvalidInput, |w| create(w, "alice", "bob"));
    let vm = ok(create(&w, "alice", "team-a")).value;
    let at = format!("vm://c/{}", vm.id);
    assert_eq!(
        w.engine.reader().unwrap().vm(&vm.id).unwrap().team,
        name("team-a")
    );
    w.expect(&[("alice", at.as_str(), Manage), ("bob", at.as_str(), Deny)]);
    // use: launch, no drives
    assert_eq!(
        ok(w.engine
            .share_vm(&w.by("alice"), &vm.id, &name("carol"), VmShareMode::Use))
        .value,
        GrantOutcome::Created
    );
    let may = |u: &str, action: &str| w.engine.check_action(&name(u), &uri(&at), action).unwrap();
    assert!(may("carol", "launch"));
    assert!(!may("carol", "access-drives"));
    assert!(!may("carol", "share"));
    assert!(
        !w.engine
            .check(&name("carol"), &uri(&format!("{at}/drive0")), Manage)
            .unwrap()
    );
    // a user cannot share further
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .share_vm(&w.by("carol"), &vm.id, &name("bob"), VmShareMode::Use)
    });
    // rule V2: dave shares no team with alice
    let err = w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .share_vm(&w.by("alice"), &vm.id, &name("dave"), VmShareMode::Use)
    });
    assert!(err.to_string().contains("shares no group"), "{err}");
    // co-own: drives and sharing; a co-owner shares within its own teams
    ok(w.engine
        .share_vm(&w.by("alice"), &vm.id, &name("bob"), VmShareMode::CoOwn));
    assert!(may("bob", "access-drives") && may("bob", "share"));
    ok(w.engine
        .share_vm(&w.by("bob"), &vm.id, &name("dave"), VmShareMode::Use));
    assert!(may("dave", "launch"));
    // the scope holds for the co-owner too: a user in none of bob's teams is refused
    w.users(&["erin"]);
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .share_vm(&w.by("bob"), &vm.id, &name("erin"), VmShareMode::CoOwn)
    });
    // users and managers listed separately
    let access = w.engine.reader().unwrap().vm_access(&vm.id).unwrap();
    assert_eq!(access.users, [name("carol"), name("dave")]);
    assert_eq!(access.managers, [name("alice"), name("bob")]);
    // unshare
    ok(w.engine.unshare_vm(&w.by("alice"), &vm.id, &name("dave")));
    assert!(!may("dave", "launch"));
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.unshare_vm(&w.by("alice"), &vm.id, &name("dave"))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.unshare_vm(&w.by("bob"), &vm.id, &name("alice"))
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.share_vm(
            &w.by(ADMIN),
            &VmId::new("v999").unwrap(),
            &name("bob"),
            VmShareMode::Use,
        )
    });
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("team-a"))
    });
}

/// rule V3: a project tag is a fence: outside the project no role opens the VM, not even
/// co-ownership or the admin role.
pub fn v3_project_tags<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "team", PrincipalKind::Group);
    w.role(ADMIN, "project", PrincipalKind::Group);
    w.grant(ADMIN, "role://team", "alice", Read);
    w.grant(ADMIN, "role://team", "bob", Read);
    w.grant(ADMIN, "role://project", "alice", Read);
    let vm = ok(w
        .engine
        .create_vm(&w.by("alice"), &folder_name("gpu"), &name("team")))
    .value;
    let at = format!("vm://c/{}", vm.id);
    ok(w.engine
        .share_vm(&w.by("alice"), &vm.id, &name("bob"), VmShareMode::CoOwn));
    w.expect(&[("bob", at.as_str(), Manage)]);
    w.engine
        .add_fence(&w.by(ADMIN), &uri(&at), &name("project"))
        .unwrap();
    w.expect(&[
        ("alice", at.as_str(), Manage),
        ("bob", at.as_str(), Deny),
        (ADMIN, at.as_str(), Deny),
    ]);
    assert!(
        !w.engine
            .check_action(&name("bob"), &uri(&at), "launch")
            .unwrap()
    );
    // bob joins the project: the fence lets him through
    w.grant(ADMIN, "role://project", "bob", Read);
    w.expect(&[("bob", at.as_str(), Manage)]);
}

/// The Store contract for the folder, share, invitation and VM rows: every lookup answers
/// what was written, in the documented order; a dropped transaction leaves no trace of
/// them; the invariants a store enforces (one pending invitation per folder and invitee,
/// rows naming existing principals and folders, one active name per owner) are refused as
/// storage errors.
pub fn store_folder_rows<S: PlatformStore>(make: &dyn Fn() -> S) {
    use acl_core::Timestamp;
    use acl_core::WriteTxn;
    use acl_platform::{FolderStatus, Invitation, InvitationKey, Share, Vm};
    let w = world(make);
    w.users(&["alice", "bob"]);
    w.role(ADMIN, "team", PrincipalKind::Group);
    let fid = |t: &str| FolderId::new(t).unwrap();
    let folder = |id: &str, n: &str, status: FolderStatus| Folder {
        id: fid(id),
        name: folder_name(n),
        owner: name("alice"),
        kind: FolderKind::User,
        host: "h".into(),
        status,
        group_permission: None,
    };
    let invitation = |id: &str, f: &str, state: InvitationState| Invitation {
        id: InvitationId::new(id).unwrap(),
        folder: fid(f),
        inviter: name("alice"),
        invitee: name("bob"),
        permission: ReadOnly,
        state,
        created: Timestamp(7),
    };
    let share = |f: &str| Share {
        folder: fid(f),
        user: name("bob"),
        permission: ReadWrite,
    };
    let vm = Vm {
        id: VmId::new("v1").unwrap(),
        name: folder_name("gpu"),
        team: name("team"),
        owner: name("alice"),
    };
    let write_all = |tx: &mut S::Write<'_>| {
        tx.put_folder(&folder("f2", "b", FolderStatus::Active))
            .unwrap();
        tx.put_folder(&folder("f1", "a", FolderStatus::Active))
            .unwrap();
        tx.put_folder(&folder("f3", "a", FolderStatus::Deleted))
            .unwrap();
        tx.put_share(&share("f2")).unwrap();
        tx.put_share(&share("f1")).unwrap();
        tx.put_invitation(&invitation("i2", "f1", InvitationState::Pending))
            .unwrap();
        tx.put_invitation(&invitation("i1", "f1", InvitationState::Accepted))
            .unwrap();
        tx.put_vm(&vm).unwrap();
        assert!(tx.delete_share(&fid("f2"), &name("bob")).unwrap());
        assert!(!tx.delete_share(&fid("f2"), &name("bob")).unwrap());
    };
    // a dropped transaction leaves nothing
    let before = w.dump();
    {
        let mut tx = w.engine.store().write().unwrap();
        write_all(&mut tx);
        assert_eq!(
            tx.folders_of(&name("alice")).unwrap().len(),
            3,
            "own writes seen"
        );
    }
    assert_eq!(w.dump(), before, "a dropped transaction left rows");
    // committed, every lookup answers, in order
    let mut tx = w.engine.store().write().unwrap();
    write_all(&mut tx);
    tx.commit(acl_core::Change {
        at: Timestamp(9),
        actor: None,
        action: "test".into(),
        target: String::new(),
        detail: String::new(),
    })
    .unwrap();
    let view = w.engine.store().read().unwrap();
    let ids = |v: Vec<Folder>| v.into_iter().map(|f| f.id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(view.folders_of(&name("alice")).unwrap()),
        ["f1", "f2", "f3"]
    );
    assert!(view.folders_of(&name("bob")).unwrap().is_empty());
    assert_eq!(
        view.folder(&fid("f3")).unwrap().unwrap().status,
        FolderStatus::Deleted
    );
    assert_eq!(view.folder(&fid("f9")).unwrap(), None);
    assert_eq!(view.shares_of_user(&name("bob")).unwrap(), [share("f1")]);
    assert_eq!(view.shares_of_folder(&fid("f1")).unwrap(), [share("f1")]);
    assert!(view.shares_of_folder(&fid("f2")).unwrap().is_empty());
    let inv_ids = |key: InvitationKey| {
        view.invitations(&key)
            .unwrap()
            .into_iter()
            .map(|i| i.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(inv_ids(InvitationKey::Invitee(name("bob"))), ["i1", "i2"]);
    assert_eq!(inv_ids(InvitationKey::Inviter(name("alice"))), ["i1", "i2"]);
    assert_eq!(inv_ids(InvitationKey::Folder(fid("f1"))), ["i1", "i2"]);
    assert!(inv_ids(InvitationKey::Folder(fid("f2"))).is_empty());
    assert_eq!(
        view.invitation(&InvitationId::new("i2").unwrap()).unwrap(),
        Some(invitation("i2", "f1", InvitationState::Pending))
    );
    assert_eq!(view.vm(&vm.id).unwrap(), Some(vm.clone()));
    assert_eq!(
        view.vms_of(&name("team")).unwrap(),
        std::slice::from_ref(&vm)
    );
    drop(view);
    // invariants a store refuses, each leaving the store as it was
    let refused = |what: &str, write: &dyn Fn(&mut S::Write<'_>) -> acl_core::Result<()>| {
        let before = w.dump();
        {
            let mut tx = w.engine.store().write().unwrap();
            let err = write(&mut tx).expect_err(what);
            assert_eq!(err.kind(), ErrorKind::Storage, "{what}: {err}");
        }
        assert_eq!(w.dump(), before, "{what}");
    };
    refused("a second pending invitation", &|tx| {
        tx.put_invitation(&invitation("i3", "f1", InvitationState::Pending))
    });
    refused("a share of a missing folder", &|tx| {
        tx.put_share(&share("f9"))
    });
    refused("an invitation to a missing folder", &|tx| {
        tx.put_invitation(&invitation("i4", "f9", InvitationState::Rejected))
    });
    refused("a folder of a missing owner", &|tx| {
        let mut f = folder("f5", "z", FolderStatus::Active);
        f.owner = name("ghost");
        tx.put_folder(&f)
    });
    refused("two active folders of one name", &|tx| {
        tx.put_folder(&folder("f6", "a", FolderStatus::Active))
    });
    refused("a vm of a missing team", &|tx| {
        let mut v = vm.clone();
        v.team = name("ghost");
        tx.put_vm(&v)
    });
}

/// rules F8, F7, B1: a project folder is shared with members of its project only, by a
/// manager of the folder, all or nothing; the share raises the member's level and goes
/// when the member leaves the group through the group workflow, while a direct change of
/// that membership is refused; unsharing several users is all or nothing; a viewer reads
/// an email only where it may read the account (rule A1).
pub fn f8_b1_project_shares<S: PlatformStore>(make: &dyn Fn() -> S) {
    use acl_platform::UserRole;
    let w = world(make);
    for user in ["alice", "bob", "carol"] {
        w.account(ADMIN, user, UserRole::User);
    }
    ok(w.engine
        .create_group(&w.by(ADMIN), &name("proj"), "default"));
    for user in ["alice", "bob"] {
        ok(w.engine
            .add_group_member(&w.by(ADMIN), &name("proj"), &name(user)));
    }
    let g = ok(w.engine.create_group_folder(
        &w.by(ADMIN),
        &name("proj"),
        &folder_name("data"),
        "h1",
        ReadOnly,
    ))
    .value
    .id;
    let own = w.folder("alice", "mine");
    w.folder_level("bob", &g, Read);
    let share = |w: &World<S>, actor: &str, id: &FolderId, users: &[&str], p: Permission| {
        let users: Vec<_> = users.iter().map(|u| name(u)).collect();
        w.engine.share_group_folder(&w.by(actor), id, &users, p)
    };
    w.refused(ErrorKind::Forbidden, |w| {
        share(w, "alice", &g, &["bob"], ReadWrite)
    });
    w.refused(ErrorKind::NotFound, |w| {
        share(w, ADMIN, &g, &["carol"], ReadWrite)
    });
    // all or nothing: bob is not shared when carol cannot be
    w.refused(ErrorKind::NotFound, |w| {
        share(w, ADMIN, &g, &["bob", "carol"], ReadWrite)
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        share(w, "alice", &own, &["bob"], ReadWrite)
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        share(w, ADMIN, &g, &[], ReadWrite)
    });
    let shared = ok(share(&w, ADMIN, &g, &["bob"], ReadWrite)).value;
    assert_eq!(shared.len(), 1);
    w.folder_level("bob", &g, Write);
    w.folder_level("alice", &g, Read);
    w.refused(ErrorKind::NoEffect, |w| {
        share(w, ADMIN, &g, &["bob"], ReadWrite)
    });
    // the membership under a project share changes only through the group workflow
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .engine()
            .revoke(&w.by(ADMIN), &uri("role://proj"), &name("bob"))
    });
    assert!(err.to_string().contains("project share"), "{err}");
    // unsharing several users is all or nothing
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .unshare_folder_users(&w.by(ADMIN), &g, &[name("bob"), name("alice")])
    });
    w.folder_level("bob", &g, Write);
    ok(share(&w, ADMIN, &g, &["alice"], ReadWrite));
    let removed = ok(w
        .engine
        .unshare_folder_users(&w.by(ADMIN), &g, &[name("alice")]))
    .value;
    assert_eq!(removed.len(), 1);
    w.folder_level("alice", &g, Read);
    // leaving the group takes the share with it (rule F8)
    ok(w.engine
        .remove_group_member(&w.by(ADMIN), &name("proj"), &name("bob")));
    w.folder_level("bob", &g, Deny);
    assert!(ok(w.engine.reader().and_then(|r| r.shares(&g))).is_empty());
    // emails: the user itself and admins read them, others do not
    let reader = ok(w.engine.reader());
    assert_eq!(
        ok(reader.email_of(&name("bob"), &name("bob"))).as_deref(),
        Some("bob@example.org")
    );
    assert_eq!(
        ok(reader.email_of(&name(ADMIN), &name("bob"))).as_deref(),
        Some("bob@example.org")
    );
    assert_eq!(ok(reader.email_of(&name("alice"), &name("bob"))), None);
}
