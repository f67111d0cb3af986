//! Property test of the folder workflows (rules F4 to F9): random interleavings of invite,
//! accept, reject, cancel, permission changes, unshare, leave, rename, delete and group
//! membership changes, over any store. After every operation:
//!
//! - a failed call changed nothing;
//! - every share has an accepted invitation for its (folder, user), belongs to an active
//!   folder, and no (folder, user) has two shares;
//! - at most one invitation is pending per (folder, invitee);
//! - an invitation in an end state never changes again;
//! - every user's effective level on every folder is exactly what the rows say: manage for
//!   the owner, the share's level for a sharee, the group's level for a member, deny for
//!   everyone else and on a deleted folder. So no access survives leaving, unsharing or
//!   deletion, and a ro share never writes.
//!
//! Backends run [`run_folder_ops`] with [`folder_ops`] from their own proptest suites.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::world::{ADMIN, World, name, uri};
use acl_core::Caller;
use acl_core::InvitationState;
use acl_core::Level;
use acl_core::PrincipalKind;
use acl_core::Timestamp;
use acl_platform::{FolderId, FolderKind, FolderName, InvitationId, InvitationKey, Permission};
use acl_platform::{PlatformStore, PlatformView};

/// The users of the test; index [`USERS`]`.len()` in an actor slot is the admin.
pub const USERS: &[&str] = &["u0", "u1", "u2"];
/// The folder names used; `.p` is private.
pub const NAMES: &[&str] = &["a", "b", ".p"];
/// The project group.
pub const GROUP: &str = "proj";

/// One generated operation; indices pick among users, names, and the folders and
/// invitations made so far (modulo their count).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum FolderOp {
    Create {
        owner: usize,
        name: usize,
    },
    CreateGroup {
        name: usize,
        rw: bool,
    },
    Invite {
        actor: usize,
        folder: usize,
        invitees: Vec<usize>,
        rw: bool,
    },
    Accept {
        actor: usize,
        invitation: usize,
    },
    Reject {
        actor: usize,
        invitation: usize,
    },
    Cancel {
        actor: usize,
        invitation: usize,
    },
    ChangeInvitation {
        actor: usize,
        invitation: usize,
        rw: bool,
    },
    UpdateShare {
        actor: usize,
        folder: usize,
        user: usize,
        rw: bool,
    },
    Unshare {
        actor: usize,
        folder: usize,
        user: usize,
    },
    Leave {
        actor: usize,
        folder: usize,
    },
    Rename {
        actor: usize,
        folder: usize,
        name: usize,
    },
    Delete {
        actor: usize,
        folder: usize,
    },
    Join {
        user: usize,
    },
    LeaveGroup {
        user: usize,
    },
}

/// A strategy for one operation.
pub fn folder_op() -> impl Strategy<Value = FolderOp> {
    let actor = 0..=USERS.len();
    let user = 0..USERS.len();
    let idx = 0usize..16;
    prop_oneof![
        1 => (user.clone(), 0..NAMES.len()).prop_map(|(owner, name)| FolderOp::Create { owner, name }),
        1 => (0..NAMES.len(), any::<bool>()).prop_map(|(name, rw)| FolderOp::CreateGroup { name, rw }),
        3 => (actor.clone(), idx.clone(), proptest::collection::vec(user.clone(), 1..3), any::<bool>())
            .prop_map(|(actor, folder, invitees, rw)| FolderOp::Invite { actor, folder, invitees, rw }),
        3 => (actor.clone(), idx.clone())
            .prop_map(|(actor, invitation)| FolderOp::Accept { actor, invitation }),
        1 => (actor.clone(), idx.clone())
            .prop_map(|(actor, invitation)| FolderOp::Reject { actor, invitation }),
        1 => (actor.clone(), idx.clone())
            .prop_map(|(actor, invitation)| FolderOp::Cancel { actor, invitation }),
        1 => (actor.clone(), idx.clone(), any::<bool>()).prop_map(|(actor, invitation, rw)| {
            FolderOp::ChangeInvitation { actor, invitation, rw }
        }),
        1 => (actor.clone(), idx.clone(), user.clone(), any::<bool>())
            .prop_map(|(actor, folder, user, rw)| FolderOp::UpdateShare { actor, folder, user, rw }),
        1 => (actor.clone(), idx.clone(), user.clone())
            .prop_map(|(actor, folder, user)| FolderOp::Unshare { actor, folder, user }),
        1 => (actor.clone(), idx.clone()).prop_map(|(actor, folder)| FolderOp::Leave { actor, folder }),
        1 => (actor.clone(), idx.clone(), 0..NAMES.len())
            .prop_map(|(actor, folder, name)| FolderOp::Rename { actor, folder, name }),
        1 => (actor, idx).prop_map(|(actor, folder)| FolderOp::Delete { actor, folder }),
        1 => user.clone().prop_map(|user| FolderOp::Join { user }),
        1 => user.prop_map(|user| FolderOp::LeaveGroup { user }),
    ]
}

/// A strategy for an interleaving of up to `max` operations.
pub fn folder_ops(max: usize) -> impl Strategy<Value = Vec<FolderOp>> {
    proptest::collection::vec(folder_op(), 1..max)
}

fn actor_name(index: usize) -> &'static str {
    USERS.get(index).copied().unwrap_or(ADMIN)
}

fn perm(rw: bool) -> Permission {
    if rw {
        Permission::ReadWrite
    } else {
        Permission::ReadOnly
    }
}

fn pick<T: Clone>(items: &[T], index: usize) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(index % items.len()).cloned()
    }
}

/// The folders and invitations a run of [`FolderOp`]s has made so far, in order: what an
/// op's indices pick among.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRun {
    /// Every folder created, in order.
    pub folders: Vec<FolderId>,
    /// Every invitation made, in order.
    pub invitations: Vec<InvitationId>,
}

impl FolderRun {
    /// Applies `op` to `w`'s engine at `clock`, as the actor it names, recording what it
    /// made. `None` when the op names a folder or an invitation and none exists yet.
    pub fn apply<S: PlatformStore>(
        &mut self,
        w: &World<S>,
        clock: i64,
        op: &FolderOp,
    ) -> Option<acl_core::Result<()>> {
        let by = |actor: usize| Caller::new(name(actor_name(actor)), Timestamp(clock));
        let folder = pick(&self.folders, op_folder(op));
        let invitation = pick(&self.invitations, op_invitation(op));
        let fname = |i: usize| FolderName::new(NAMES.get(i).copied().unwrap_or("a")).unwrap();
        let group_uri = || uri(&format!("role://{GROUP}"));
        let e = &w.engine;
        match op.clone() {
            FolderOp::Create { owner, name: n } => Some(
                e.create_folder(&by(owner), &fname(n), "h")
                    .map(|a| self.folders.push(a.value.id)),
            ),
            FolderOp::CreateGroup { name: n, rw } => Some(
                e.create_group_folder(&by(USERS.len()), &name(GROUP), &fname(n), "h", perm(rw))
                    .map(|a| self.folders.push(a.value.id)),
            ),
            FolderOp::Invite {
                actor,
                invitees,
                rw,
                ..
            } => folder.map(|f| {
                let invitees: Vec<_> = invitees.iter().map(|&i| name(actor_name(i))).collect();
                e.invite(&by(actor), &f, &invitees, perm(rw)).map(|a| {
                    for i in a.value.invited {
                        self.invitations.push(i.id);
                    }
                })
            }),
            FolderOp::Accept { actor, .. } => {
                invitation.map(|i| e.accept_invitation(&by(actor), &i).map(|_| ()))
            }
            FolderOp::Reject { actor, .. } => {
                invitation.map(|i| e.reject_invitation(&by(actor), &i).map(|_| ()))
            }
            FolderOp::Cancel { actor, .. } => {
                invitation.map(|i| e.cancel_invitation(&by(actor), &i).map(|_| ()))
            }
            FolderOp::ChangeInvitation { actor, rw, .. } => invitation.map(|i| {
                e.change_invitation_permission(&by(actor), &i, perm(rw))
                    .map(|_| ())
            }),
            FolderOp::UpdateShare {
                actor, user, rw, ..
            } => folder.map(|f| {
                e.update_share(&by(actor), &f, &name(actor_name(user)), perm(rw))
                    .map(|_| ())
            }),
            FolderOp::Unshare { actor, user, .. } => folder.map(|f| {
                e.unshare_folder(&by(actor), &f, &name(actor_name(user)))
                    .map(|_| ())
            }),
            FolderOp::Leave { actor, .. } => {
                folder.map(|f| e.leave_folder(&by(actor), &f).map(|_| ()))
            }
            FolderOp::Rename { actor, name: n, .. } => {
                folder.map(|f| e.rename_folder(&by(actor), &f, &fname(n)).map(|_| ()))
            }
            FolderOp::Delete { actor, .. } => {
                folder.map(|f| e.delete_folder(&by(actor), &f).map(|_| ()))
            }
            FolderOp::Join { user } => Some(
                e.grant(
                    &by(USERS.len()),
                    &group_uri(),
                    &name(USERS[user % USERS.len()]),
                    Level::Read,
                )
                .map(|_| ()),
            ),
            FolderOp::LeaveGroup { user } => Some(
                e.revoke(
                    &by(USERS.len()),
                    &group_uri(),
                    &name(USERS[user % USERS.len()]),
                )
                .map(|_| ()),
            ),
        }
    }
}

/// The index of the folder `op` names (0 for an op that names none).
fn op_folder(op: &FolderOp) -> usize {
    match op {
        FolderOp::Invite { folder, .. }
        | FolderOp::UpdateShare { folder, .. }
        | FolderOp::Unshare { folder, .. }
        | FolderOp::Leave { folder, .. }
        | FolderOp::Rename { folder, .. }
        | FolderOp::Delete { folder, .. } => *folder,
        _ => 0,
    }
}

/// The index of the invitation `op` names (0 for an op that names none).
fn op_invitation(op: &FolderOp) -> usize {
    match op {
        FolderOp::Accept { invitation, .. }
        | FolderOp::Reject { invitation, .. }
        | FolderOp::Cancel { invitation, .. }
        | FolderOp::ChangeInvitation { invitation, .. } => *invitation,
        _ => 0,
    }
}

/// A fresh world over `store` as the folder operations expect it: the standard world, the
/// users [`USERS`] and the project group [`GROUP`].
pub fn folder_world<S: PlatformStore>(store: S) -> World<S> {
    let w = World::new(store);
    w.users(USERS);
    w.role(ADMIN, GROUP, PrincipalKind::Group);
    w
}

/// Runs `ops` on a fresh world over `make()`, checking the invariants of the module
/// documentation after every operation.
pub fn run_folder_ops<S: PlatformStore>(make: impl Fn() -> S, ops: &[FolderOp]) {
    let w = folder_world(make());
    let mut run = FolderRun::default();
    let mut ended: BTreeMap<InvitationId, (InvitationState, Permission)> = BTreeMap::new();
    for (clock, op) in (1_000_001_i64..).zip(ops) {
        let before = w.dump();
        let result = run.apply(&w, clock, op);
        if let Some(Err(err)) = &result {
            assert_eq!(
                before,
                w.dump(),
                "{op:?} failed ({err}) but changed the store"
            );
        }
        check_invariants(&w, &run.folders, &mut ended, op);
    }
}

fn check_invariants<S: PlatformStore>(
    w: &World<S>,
    folders: &[FolderId],
    ended: &mut BTreeMap<InvitationId, (InvitationState, Permission)>,
    op: &FolderOp,
) {
    let reader = w.engine.reader().unwrap();
    let view = reader.view();
    let members: BTreeSet<&str> = USERS
        .iter()
        .copied()
        .filter(|u| reader.closure(&name(u)).unwrap().contains(&name(GROUP)))
        .collect();
    for id in folders {
        let folder = view.folder(id).unwrap().unwrap();
        let shares = view.shares_of_folder(id).unwrap();
        let invitations = view
            .invitations(&InvitationKey::Folder(id.clone()))
            .unwrap();
        let mut sharees = BTreeSet::new();
        for share in &shares {
            assert!(
                folder.is_active(),
                "{op:?}: share {share:?} on deleted {id}"
            );
            assert!(
                sharees.insert(share.user.clone()),
                "{op:?}: two shares {share:?}"
            );
            assert!(
                invitations
                    .iter()
                    .any(|i| i.invitee == share.user && i.state == InvitationState::Accepted),
                "{op:?}: share {share:?} without an accepted invitation"
            );
        }
        let mut pending = BTreeSet::new();
        for invitation in &invitations {
            if invitation.state == InvitationState::Pending {
                assert!(
                    folder.is_active(),
                    "{op:?}: pending {invitation:?} on deleted folder"
                );
                assert!(
                    pending.insert(invitation.invitee.clone()),
                    "{op:?}: two pending"
                );
            } else {
                let now = (invitation.state, invitation.permission);
                let first = *ended.entry(invitation.id.clone()).or_insert(now);
                assert_eq!(first, now, "{op:?}: end state of {} changed", invitation.id);
            }
        }
        let at = uri(&format!("vfolder://c/{id}"));
        for user in USERS {
            let mut want = Level::Deny;
            if folder.is_active() {
                if folder.owner.as_str() == *user {
                    want = Level::Manage;
                }
                if let Some(share) = shares.iter().find(|s| s.user.as_str() == *user) {
                    want = want.max(share.permission.level());
                }
                if folder.kind == FolderKind::Group && members.contains(user) {
                    want = want.max(folder.group_permission.unwrap().level());
                }
            }
            let got = reader.explain(&name(user), &at).unwrap().level;
            assert_eq!(got, want, "{op:?}: {user} on {id} ({folder:?}, {shares:?})");
            if want < Level::Write {
                assert!(
                    !reader.check_action(&name(user), &at, "mount-rw").unwrap(),
                    "{op:?}: {user} mounts {id} rw"
                );
            }
        }
    }
}
