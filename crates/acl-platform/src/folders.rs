//! The workflows of Backend.AI folder sharing (rules F1 to F9) and VM sharing (rules V1 to
//! V3) on the engine.
//!
//! One mechanism: access is always grants. A folder's owner holds `manage` on
//! `vfolder://C/{id}`; an accepted share is a share row plus the sharee's grant of `read`
//! (ro) or `write` (rw) there, written and removed together; a group folder is the group's
//! grant of its permission, which members inherit through the role graph. A VM's creator
//! holds `manage` on `vm://C/{id}`; `use` is a `write` grant and `co-own` a `manage` grant,
//! under the share scope of rule V2; project tags are fences (rule E4). Every workflow runs
//! in one write transaction and commits one changelog entry; a failed call changes nothing.
//!
//! Ids come from the revision the transaction will commit at (`f{n}` for folders, `i{n}-{k}`
//! for invitations, `v{n}` for VMs), unique because revisions never repeat.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use acl_core::txn::{authorize, canonical_name, remove_grant};
use acl_core::{Applied, Caller, GrantOutcome, Reader, Step, Viewer};

use crate::ALL;
use crate::InvitationEvent;
use crate::account::AccountKey;
use crate::folder::{
    Folder, FolderId, FolderKind, FolderName, FolderStatus, Invitation, InvitationId,
    InvitationKey, Permission, Share, Vm, VmId, VmShareMode,
};
use crate::platform::Platform;
use crate::store::{PlatformStore, PlatformTxn, PlatformView};
use acl_core::Closure;
use acl_core::Level;
use acl_core::Uri;
use acl_core::txn::{closure as closure_of, level as level_with};
use acl_core::{Change, Grant, PrincipalKind};
use acl_core::{ClusterName, PrincipalName, Revision};
use acl_core::{Error, ErrorKind, Result, clip};
use acl_core::{InvitationParty, InvitationState, transition};
use acl_core::{ReadView, ReadViewExt, WriteTxn};

/// The permission a user has on a folder as listed (rule F1 listing): `ro`, `rw` or
/// `owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderAccess {
    /// Read only (a ro share, or a ro group folder).
    #[serde(rename = "ro")]
    ReadOnly,
    /// Read and write (a rw share, or a rw group folder).
    #[serde(rename = "rw")]
    ReadWrite,
    /// The user owns the folder.
    Owner,
}

impl From<Permission> for FolderAccess {
    fn from(permission: Permission) -> FolderAccess {
        match permission {
            Permission::ReadOnly => FolderAccess::ReadOnly,
            Permission::ReadWrite => FolderAccess::ReadWrite,
        }
    }
}

/// A folder as a user sees it in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderEntry {
    /// The folder (id, name, owner, kind, host).
    pub folder: Folder,
    /// Whether the user owns it.
    pub is_owner: bool,
    /// The user's permission: ro, rw or owner.
    pub access: FolderAccess,
}

/// Why one invitee of [`Platform::invite`] was not invited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The invitee, as given.
    pub invitee: String,
    /// The kind of the error.
    pub kind: ErrorKind,
    /// The error's message.
    pub reason: String,
}

/// What [`Platform::invite`] did for each invitee (rule F4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteReport {
    /// The invitations created.
    pub invited: Vec<Invitation>,
    /// Invitees who already had a pending invitation to the folder: that one is returned,
    /// no second row is made.
    pub already_pending: Vec<Invitation>,
    /// The invitees refused, each with its reason.
    pub refused: Vec<Refusal>,
}

impl InviteReport {
    /// When nobody was invited (no invitation made, none already pending) and someone was
    /// refused: the error the whole call fails with, of the first refusal's kind, naming
    /// every refusal. `None` when at least one invitee has an invitation (rule F4).
    pub fn nobody_invited(&self) -> Option<Error> {
        if !self.invited.is_empty() || !self.already_pending.is_empty() {
            return None;
        }
        let first = self.refused.first()?;
        let reasons: Vec<String> = self
            .refused
            .iter()
            .map(|r| format!("`{}`: {}", r.invitee, r.reason))
            .collect();
        let message = format!("nobody was invited: {}", reasons.join("; "));
        Some(match first.kind {
            ErrorKind::InvalidInput | ErrorKind::NoEffect => Error::InvalidInput(message),
            ErrorKind::NotFound => Error::NotFound {
                what: "invitee",
                name: message,
            },
            ErrorKind::Conflict => Error::Conflict(message),
            ErrorKind::Forbidden => Error::NotPermitted(message),
            _ => Error::Storage(message),
        })
    }
}

/// The pending invitations a user received, with their count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedInvitations {
    /// How many are pending.
    pub count: usize,
    /// The pending invitations, in id order.
    pub invitations: Vec<Invitation>,
}

/// What deleting a folder removed with it (rule F9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedFolder {
    /// Pending invitations canceled.
    pub canceled_invitations: usize,
    /// Shares removed.
    pub removed_shares: usize,
    /// Grants on the folder (and below it) removed, the owner's included.
    pub removed_grants: usize,
}

/// Who holds a VM directly (rule V1): its users (`use`: write) and managers (`co-own` and
/// the creator: manage), listed separately, each in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmAccess {
    /// Principals holding `write` directly on the VM.
    pub users: Vec<PrincipalName>,
    /// Principals holding `manage` directly on the VM.
    pub managers: Vec<PrincipalName>,
}

/// The longest host name, in bytes.
const MAX_HOST: usize = 255;

fn validate_host(host: &str) -> Result<()> {
    if host.is_empty() || host.len() > MAX_HOST || host.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "invalid host `{}`: expected 1 to 255 bytes without control characters",
            clip(host)
        )));
    }
    Ok(())
}

fn folder_not_found(id: &FolderId) -> Error {
    Error::not_found("folder", id.as_str())
}

/// The active folder `id`, or not found (a deleted folder is gone for every workflow).
fn active_folder<V: PlatformView + ?Sized>(view: &V, id: &FolderId) -> Result<Folder> {
    match view.folder(id)? {
        Some(folder) if folder.is_active() => Ok(folder),
        _ => Err(folder_not_found(id)),
    }
}

/// The closure of an active acting principal, or forbidden.
fn acting<V: PlatformView + ?Sized>(
    view: &V,
    actor: &PrincipalName,
    action: &'static str,
    uri: &Uri,
) -> Result<Closure> {
    closure_of(view, actor)?.map_err(|_| acl_core::txn::forbidden(actor, action, uri, Level::Read))
}

/// The folders `user` sees (rule F1 listing): owned, shared with it, and the group
/// folders of its groups; active only, in id order.
fn visible_folders<V: PlatformView + ?Sized>(
    view: &V,
    user: &PrincipalName,
) -> Result<Vec<FolderEntry>> {
    let mut out: BTreeMap<FolderId, FolderEntry> = BTreeMap::new();
    for folder in view.folders_of(user)? {
        if folder.is_active() {
            out.insert(
                folder.id.clone(),
                FolderEntry {
                    folder,
                    is_owner: true,
                    access: FolderAccess::Owner,
                },
            );
        }
    }
    for share in view.shares_of_user(user)? {
        if let Some(folder) = view.folder(&share.folder)?
            && folder.is_active()
        {
            out.entry(folder.id.clone()).or_insert(FolderEntry {
                folder,
                is_owner: false,
                access: share.permission.into(),
            });
        }
    }
    if let Ok(closure) = closure_of(view, user)? {
        for name in closure.names() {
            let is_group = closure
                .record(name)
                .is_some_and(|r| r.kind == PrincipalKind::Group);
            if !is_group {
                continue;
            }
            for folder in view.folders_of(name)? {
                if let (true, Some(permission)) = (folder.is_active(), folder.group_permission) {
                    out.entry(folder.id.clone()).or_insert(FolderEntry {
                        folder,
                        is_owner: false,
                        access: permission.into(),
                    });
                }
            }
        }
    }
    Ok(out.into_values().collect())
}

/// Refuses a name taken among `owner`'s active folders (rule F2): creating, creating a
/// group folder and renaming all keep names unique per owner this way.
fn refuse_taken_name<V: PlatformView + ?Sized>(
    view: &V,
    owner: &PrincipalName,
    name: &FolderName,
) -> Result<()> {
    if view
        .folders_of(owner)?
        .iter()
        .any(|f| f.is_active() && &f.name == name)
    {
        return Err(Error::already_exists("folder", format!("{owner}/{name}")));
    }
    Ok(())
}

/// Refuses when `user` already sees a folder named `name` other than `except` (rule F4).
fn refuse_name_clash<V: PlatformView + ?Sized>(
    view: &V,
    user: &PrincipalName,
    name: &FolderName,
    except: &FolderId,
) -> Result<()> {
    let clash = visible_folders(view, user)?
        .into_iter()
        .find(|e| &e.folder.name == name && &e.folder.id != except);
    match clash {
        Some(entry) => Err(Error::Conflict(format!(
            "`{user}` already has a folder named `{name}` (`{}`)",
            entry.folder.id
        ))),
        None => Ok(()),
    }
}

/// The invitee checks of rules F4 and F6, in the order of the error kinds.
fn check_invitee<V: PlatformView + ?Sized>(
    view: &V,
    folder: &Folder,
    actor: &PrincipalName,
    invitee: &PrincipalName,
) -> Result<()> {
    let record = view
        .principal(invitee)?
        .ok_or_else(|| Error::not_found("user", invitee.as_str()))?;
    if record.kind != PrincipalKind::User {
        return Err(Error::InvalidInput(format!(
            "`{invitee}` is not a user: folders are shared with users"
        )));
    }
    if invitee == actor {
        return Err(Error::InvalidInput(format!(
            "`{invitee}` cannot invite itself"
        )));
    }
    if invitee == &folder.owner {
        return Err(Error::InvalidInput(format!(
            "`{invitee}` owns folder `{}`",
            folder.id
        )));
    }
    if !record.active {
        return Err(Error::Conflict(format!("`{invitee}` is inactive")));
    }
    if view
        .shares_of_user(invitee)?
        .iter()
        .any(|s| s.folder == folder.id)
    {
        return Err(Error::already_exists(
            "share",
            format!("{} {invitee}", folder.id),
        ));
    }
    // A share's grant is the sharee's direct grant on the folder: one already there (a
    // forbid above all) is never overwritten by a share.
    if let Some(held) = view
        .grants_at(
            std::slice::from_ref(invitee),
            &[folder.id.uri(&acl_core::txn::cluster(view)?)?],
        )?
        .into_iter()
        .next()
    {
        return Err(Error::Conflict(format!(
            "`{invitee}` holds a direct {} on folder `{}`: revoke it before sharing",
            if held.level == Level::Deny {
                "forbid".to_owned()
            } else {
                format!("{} grant", held.level)
            },
            folder.id
        )));
    }
    refuse_name_clash(view, invitee, &folder.name, &folder.id)
}

/// Refuses sharing a private folder or a group folder (rules F2, F4, F8).
fn refuse_unshareable(folder: &Folder) -> Result<()> {
    if folder.name.is_private() {
        return Err(Error::InvalidInput(format!(
            "folder `{}` is private (`{}`): private folders are never shared",
            folder.id, folder.name
        )));
    }
    if folder.kind == FolderKind::Group {
        return Err(Error::InvalidInput(format!(
            "folder `{}` is a group folder: its group's members share it, with no invitation",
            folder.id
        )));
    }
    Ok(())
}

/// Removes `user`'s shares on the folders of `group` once `user` is no longer in the group
/// (rule F8: a member who leaves the group loses its folders, project shares included).
pub(crate) fn drop_group_shares<T: PlatformTxn + ?Sized>(
    tx: &mut T,
    cluster: &ClusterName,
    group: &PrincipalName,
    user: &PrincipalName,
) -> Result<()> {
    if let Ok(closure) = closure_of(&*tx, user)?
        && closure.contains(group)
    {
        return Ok(());
    }
    for folder in tx.folders_of(group)? {
        if share_of(&*tx, &folder.id, user)?.is_some() {
            tx.delete_share(&folder.id, user)?;
            remove_grant(tx, user, &folder.id.uri(cluster)?)?;
        }
    }
    Ok(())
}

/// The share of `user` on `folder`, if any.
fn share_of<V: PlatformView + ?Sized>(
    view: &V,
    folder: &FolderId,
    user: &PrincipalName,
) -> Result<Option<Share>> {
    Ok(view
        .shares_of_folder(folder)?
        .into_iter()
        .find(|s| &s.user == user))
}

fn change(by: &Caller, actor: PrincipalName, action: &str, target: &str, detail: String) -> Change {
    Change {
        at: by.at,
        actor: Some(actor),
        action: action.into(),
        target: target.into(),
        detail,
    }
}

/// The first of `{base}`, `{base}-2`, `{base}-3`, ... that `taken` says is free. Ids are
/// made from the revision their transaction commits as, which no other commit shares;
/// this keeps apart several made in one transaction (a model import, rule M3), while the
/// one id of a single mutation stays `{base}`.
fn first_free<T>(
    base: &str,
    make: impl Fn(&str) -> Result<T>,
    taken: impl Fn(&T) -> Result<bool>,
) -> Result<T> {
    let mut n = 1u64;
    loop {
        let id = if n == 1 {
            make(base)?
        } else {
            make(&format!("{base}-{n}"))?
        };
        if !taken(&id)? {
            return Ok(id);
        }
        n = n.saturating_add(1);
    }
}

/// The id of a folder created in this transaction: `f{revision it commits as}`, or the
/// first free `f{revision}-{n}` when the transaction made that one already.
fn next_folder_id<V: PlatformView + ?Sized>(view: &V) -> Result<FolderId> {
    first_free(
        &format!("f{}", view.revision()?.next()),
        FolderId::new,
        |id| Ok(view.folder(id)?.is_some()),
    )
}

/// The id of a VM created in this transaction, as [`next_folder_id`] makes folders'.
fn next_vm_id<V: PlatformView + ?Sized>(view: &V) -> Result<VmId> {
    first_free(&format!("v{}", view.revision()?.next()), VmId::new, |id| {
        Ok(view.vm(id)?.is_some())
    })
}

/// The id of the `n`th invitation (from 1) an invite makes in this transaction:
/// `i{revision it commits as}-{n}`, or a later free number when the transaction made that
/// one already.
fn next_invitation_id<V: PlatformView + ?Sized>(
    view: &V,
    next: Revision,
    n: usize,
) -> Result<InvitationId> {
    let mut n = n;
    loop {
        let id = InvitationId::new(&format!("i{next}-{n}"))?;
        if view.invitation(&id)?.is_none() {
            return Ok(id);
        }
        n = n.saturating_add(1);
    }
}

/// Stores a new folder and the grant its owner holds on it (rules F1, F8).
fn insert_folder<T: PlatformTxn + ?Sized>(
    tx: &mut T,
    cluster: &ClusterName,
    folder: &Folder,
    level: Level,
) -> Result<()> {
    tx.put_folder(folder)?;
    tx.put_grant(&Grant {
        holder: folder.owner.clone(),
        uri: folder.id.uri(cluster)?,
        level,
    })
}

impl<S: PlatformStore> Platform<S> {
    fn folder_uri(cluster: &ClusterName, id: &FolderId) -> Result<Uri> {
        id.uri(cluster)
    }

    /// Creates a user folder owned by the caller (rules F1, F2): the caller gets `manage`
    /// on `vfolder://C/{id}`. The name must be new among the caller's active folders.
    pub fn create_folder(
        &self,
        by: &Caller,
        name: &FolderName,
        host: &str,
    ) -> Result<Applied<Folder>> {
        self.transact(|tx| self.create_folder_step(tx, by, name, host))
    }

    /// The body of [`create_folder`](Self::create_folder) in the caller's write
    /// transaction (the same checks and writes) and the step it commits with, for several
    /// mutations in one transaction.
    pub(crate) fn create_folder_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        name: &FolderName,
        host: &str,
    ) -> Result<Step<Folder>> {
        validate_host(host)?;
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let space = Uri::root("vfolder")?.child(cluster.as_str())?;
        let closure = acting(&*tx, &actor, "create folder", &space)?;
        if closure.record(&actor).map(|r| r.kind) != Some(PrincipalKind::User) {
            return Err(Error::InvalidInput(format!(
                "`{actor}` is not a user: group folders are made with create_group_folder"
            )));
        }
        refuse_taken_name(&*tx, &actor, name)?;
        // rule A6: the owner's resource policy admits the folder
        super::admin::admit_folder(&*tx, &actor, host)?;
        let folder = Folder {
            id: next_folder_id(&*tx)?,
            name: name.clone(),
            owner: actor.clone(),
            kind: FolderKind::User,
            host: host.to_owned(),
            status: FolderStatus::Active,
            group_permission: None,
        };
        insert_folder(tx, &cluster, &folder, Level::Manage)?;
        let id = folder.id.clone();
        let detail = format!("{name} on {host}");
        Ok(Step::Changed(
            folder,
            change(by, actor, "folder_create", id.as_str(), detail),
        ))
    }

    /// Creates a group (project) folder owned by `group` (rule F8): only a principal with
    /// `manage` on `vfolder://C` (an admin) may; the group holds `permission` on the folder,
    /// so its members get it through the role graph. Private names are refused (rule F2).
    pub fn create_group_folder(
        &self,
        by: &Caller,
        group: &PrincipalName,
        name: &FolderName,
        host: &str,
        permission: Permission,
    ) -> Result<Applied<Folder>> {
        self.transact(|tx| self.create_group_folder_step(tx, by, group, name, host, permission))
    }

    /// The body of [`create_group_folder`](Self::create_group_folder) in the caller's write
    /// transaction (the same checks and writes) and the step it commits with, for several
    /// mutations in one transaction.
    pub(crate) fn create_group_folder_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        group: &PrincipalName,
        name: &FolderName,
        host: &str,
        permission: Permission,
    ) -> Result<Step<Folder>> {
        validate_host(host)?;
        if name.is_private() {
            return Err(Error::InvalidInput(format!(
                "`{name}` is a private name: a group folder cannot be private"
            )));
        }
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let space = Uri::root("vfolder")?.child(cluster.as_str())?;
        authorize(&*tx, &actor, &space, Level::Manage, "create group folder")?;
        let record = tx
            .principal(group)?
            .ok_or_else(|| Error::not_found("group", group.as_str()))?;
        if record.kind != PrincipalKind::Group {
            return Err(Error::InvalidInput(format!("`{group}` is not a group")));
        }
        refuse_taken_name(&*tx, group, name)?;
        let folder = Folder {
            id: next_folder_id(&*tx)?,
            name: name.clone(),
            owner: group.clone(),
            kind: FolderKind::Group,
            host: host.to_owned(),
            status: FolderStatus::Active,
            group_permission: Some(permission),
        };
        insert_folder(tx, &cluster, &folder, permission.level())?;
        let id = folder.id.clone();
        let detail = format!("{name} on {host} for {group} {permission}");
        Ok(Step::Changed(
            folder,
            change(by, actor, "group_folder_create", id.as_str(), detail),
        ))
    }

    /// Renames a folder (rules F2, F3 `rename`): the caller needs `manage` on it. Grants
    /// survive: the URI holds the id. The new name must be free among the owner's active
    /// folders, and a shared, invited or group folder cannot take a private name.
    pub fn rename_folder(
        &self,
        by: &Caller,
        id: &FolderId,
        name: &FolderName,
    ) -> Result<Applied<Folder>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "rename folder")?;
            let mut folder = active_folder(&*tx, id)?;
            if name.is_private() {
                let shared = folder.kind == FolderKind::Group
                    || !tx.shares_of_folder(id)?.is_empty()
                    || tx
                        .invitations(&InvitationKey::Folder(id.clone()))?
                        .iter()
                        .any(|i| i.state == InvitationState::Pending);
                if shared {
                    return Err(Error::InvalidInput(format!(
                        "`{name}` is a private name, and folder `{id}` is shared"
                    )));
                }
            }
            if &folder.name == name {
                return Err(Error::NoEffect(format!(
                    "folder `{id}` is already `{name}`"
                )));
            }
            refuse_taken_name(&*tx, &folder.owner, name)?;
            let detail = format!("{} -> {name}", folder.name);
            folder.name = name.clone();
            tx.put_folder(&folder)?;
            Ok(Step::Changed(
                folder,
                change(by, actor, "folder_rename", id.as_str(), detail),
            ))
        })
    }

    /// Deletes a folder (rules F3 `delete`, F9): the caller needs `manage` on it. In the
    /// same transaction its pending invitations are canceled and its shares and every
    /// grant on or below it removed; the folder is kept as deleted and frees its name.
    pub fn delete_folder(&self, by: &Caller, id: &FolderId) -> Result<Applied<DeletedFolder>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "delete folder")?;
            let mut folder = active_folder(&*tx, id)?;
            let mut removed = DeletedFolder::default();
            for mut invitation in tx.invitations(&InvitationKey::Folder(id.clone()))? {
                if invitation.state == InvitationState::Pending {
                    invitation.state = InvitationState::Canceled;
                    tx.put_invitation(&invitation)?;
                    removed.canceled_invitations += 1;
                }
            }
            for share in tx.shares_of_folder(id)? {
                tx.delete_share(id, &share.user)?;
                removed.removed_shares += 1;
            }
            for grant in tx.grants_within(&uri, None, ALL)? {
                remove_grant(tx, &grant.holder, &grant.uri)?;
                removed.removed_grants += 1;
            }
            folder.status = FolderStatus::Deleted;
            tx.put_folder(&folder)?;
            let detail = format!(
                "{}: {} invitations canceled, {} shares and {} grants removed",
                folder.name,
                removed.canceled_invitations,
                removed.removed_shares,
                removed.removed_grants
            );
            Ok(Step::Changed(
                removed,
                change(by, actor, "folder_delete", id.as_str(), detail),
            ))
        })
    }

    /// Invites each of `invitees` to folder `id` with `permission` (rule F4). The caller
    /// needs `manage` on the folder, which must be neither private nor a group folder; a
    /// failure there refuses the whole call. Each invitee is then checked on its own: the
    /// report lists who was invited, who already had a pending invitation (returned, never
    /// a second row) and why each other was not.
    pub fn invite(
        &self,
        by: &Caller,
        id: &FolderId,
        invitees: &[PrincipalName],
        permission: Permission,
    ) -> Result<Applied<InviteReport>> {
        self.transact(|tx| self.invite_step(tx, by, id, invitees, permission))
    }

    /// The body of [`invite`](Self::invite) in the caller's write transaction (the
    /// same checks and writes) and the step it commits with, for several mutations in one
    /// transaction.
    pub(crate) fn invite_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        id: &FolderId,
        invitees: &[PrincipalName],
        permission: Permission,
    ) -> Result<Step<InviteReport>> {
        if invitees.is_empty() {
            return Err(Error::InvalidInput("an invitation needs an invitee".into()));
        }
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let uri = Self::folder_uri(&cluster, id)?;
        authorize(&*tx, &actor, &uri, Level::Manage, "invite to folder")?;
        let folder = active_folder(&*tx, id)?;
        refuse_unshareable(&folder)?;
        let next = tx.revision()?.next();
        let mut report = InviteReport::default();
        let mut seen = BTreeSet::new();
        for given in invitees {
            let invitee = canonical_name(&cluster, given);
            if !seen.insert(invitee.clone()) {
                continue;
            }
            let pending = tx
                .invitations(&InvitationKey::Folder(id.clone()))?
                .into_iter()
                .find(|i| i.invitee == invitee && i.state == InvitationState::Pending);
            if let Some(pending) = pending {
                report.already_pending.push(pending);
                continue;
            }
            if let Err(err) = check_invitee(&*tx, &folder, &actor, &invitee) {
                report.refused.push(Refusal {
                    invitee: given.to_string(),
                    kind: err.kind(),
                    reason: err.to_string(),
                });
                continue;
            }
            let invitation = Invitation {
                id: next_invitation_id(&*tx, next, report.invited.len() + 1)?,
                folder: id.clone(),
                inviter: actor.clone(),
                invitee,
                permission,
                state: InvitationState::Pending,
                created: by.at,
            };
            tx.put_invitation(&invitation)?;
            report.invited.push(invitation);
        }
        if report.invited.is_empty() {
            return Ok(Step::Unchanged(report));
        }
        let detail = report
            .invited
            .iter()
            .map(|i| format!("{} {}", i.invitee, i.permission))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Step::Changed(
            report,
            change(by, actor, "invite", id.as_str(), detail),
        ))
    }

    /// Runs one event of the invitation state machine (rule F5) on invitation `id`.
    fn invitation_event(
        &self,
        by: &Caller,
        id: &InvitationId,
        event: InvitationEvent,
    ) -> Result<Applied<Invitation>> {
        self.transact(|tx| self.invitation_event_step(tx, by, id, event))
    }

    /// The body of [`invitation_event`](Self::invitation_event) in the caller's write
    /// transaction (the same checks and writes) and the step it commits with, for several
    /// mutations in one transaction (accept is `InvitationEvent::Accept`).
    pub(crate) fn invitation_event_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        id: &InvitationId,
        event: InvitationEvent,
    ) -> Result<Step<Invitation>> {
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let mut invitation = tx
            .invitation(id)?
            .ok_or_else(|| Error::not_found("invitation", id.as_str()))?;
        let uri = Self::folder_uri(&cluster, &invitation.folder)?;
        let manager = match closure_of(&*tx, &actor)? {
            Ok(closure) => level_with(&*tx, &closure, &uri)? >= Level::Manage,
            Err(_) => false,
        };
        let party = InvitationParty {
            invitee: invitation.invitee == actor,
            inviter: invitation.inviter == actor,
            manager,
        };
        let next = transition(invitation.state, &event, party)?;
        let action = match event {
            InvitationEvent::Accept => "accept",
            InvitationEvent::Reject => "reject",
            InvitationEvent::Cancel => "cancel_invitation",
            InvitationEvent::ChangePermission(_) => "invitation_permission",
        };
        match event {
            InvitationEvent::Accept => {
                // rule F6: re-check everything the invitation was checked for
                let folder = active_folder(&*tx, &invitation.folder)?;
                refuse_unshareable(&folder)?;
                if closure_of(&*tx, &actor)?.is_err() {
                    return Err(Error::Conflict(format!("`{actor}` is inactive")));
                }
                check_invitee(&*tx, &folder, &invitation.inviter, &actor)?;
                tx.put_share(&Share {
                    folder: folder.id.clone(),
                    user: actor.clone(),
                    permission: invitation.permission,
                })?;
                tx.put_grant(&Grant {
                    holder: actor.clone(),
                    uri,
                    level: invitation.permission.level(),
                })?;
            }
            InvitationEvent::ChangePermission(permission) => {
                if permission == invitation.permission {
                    return Err(Error::NoEffect(format!(
                        "invitation `{id}` already offers {permission}"
                    )));
                }
                invitation.permission = permission;
            }
            InvitationEvent::Reject | InvitationEvent::Cancel => {}
        }
        invitation.state = next;
        tx.put_invitation(&invitation)?;
        let detail = format!(
            "{} {} {} {}",
            invitation.folder, invitation.invitee, invitation.permission, invitation.state
        );
        Ok(Step::Changed(
            invitation,
            change(by, actor, action, id.as_str(), detail),
        ))
    }

    /// Accepts an invitation (rules F5, F6): only the invitee may. Atomically re-checks
    /// the folder (active, shareable), the invitee (active, no share yet, no visible folder
    /// of the same name), sets `accepted` and creates exactly one share with its grant.
    pub fn accept_invitation(&self, by: &Caller, id: &InvitationId) -> Result<Applied<Share>> {
        let applied = self.invitation_event(by, id, InvitationEvent::Accept)?;
        Ok(Applied {
            revision: applied.revision,
            value: Share {
                folder: applied.value.folder,
                user: applied.value.invitee,
                permission: applied.value.permission,
            },
        })
    }

    /// Rejects an invitation (rule F5): only the invitee may.
    pub fn reject_invitation(&self, by: &Caller, id: &InvitationId) -> Result<Applied<Invitation>> {
        self.invitation_event(by, id, InvitationEvent::Reject)
    }

    /// Cancels an invitation (rule F5): the inviter or a manager of the folder may.
    pub fn cancel_invitation(&self, by: &Caller, id: &InvitationId) -> Result<Applied<Invitation>> {
        self.invitation_event(by, id, InvitationEvent::Cancel)
    }

    /// Changes a pending invitation's permission (rule F5): only the inviter may.
    pub fn change_invitation_permission(
        &self,
        by: &Caller,
        id: &InvitationId,
        permission: Permission,
    ) -> Result<Applied<Invitation>> {
        self.invitation_event(by, id, InvitationEvent::ChangePermission(permission))
    }

    /// Changes a share's permission (rule F7): the caller needs `manage` on the folder.
    /// The sharee's grant changes with it, so the next check sees the new level.
    pub fn update_share(
        &self,
        by: &Caller,
        id: &FolderId,
        user: &PrincipalName,
        permission: Permission,
    ) -> Result<Applied<Share>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let user = canonical_name(&cluster, user);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "change a share of")?;
            active_folder(&*tx, id)?;
            let mut share = share_of(&*tx, id, &user)?
                .ok_or_else(|| Error::not_found("share", format!("{id} {user}")))?;
            if share.permission == permission {
                return Err(Error::NoEffect(format!(
                    "`{user}` already holds {permission} on folder `{id}`"
                )));
            }
            share.permission = permission;
            tx.put_share(&share)?;
            tx.put_grant(&Grant {
                holder: user.clone(),
                uri,
                level: permission.level(),
            })?;
            Ok(Step::Changed(
                share,
                change(
                    by,
                    actor,
                    "share_permission",
                    id.as_str(),
                    format!("{user} {permission}"),
                ),
            ))
        })
    }

    /// Stops sharing folder `id` with `user` (rule F7): the caller needs `manage` on the
    /// folder. The share and the sharee's grant go together.
    pub fn unshare_folder(
        &self,
        by: &Caller,
        id: &FolderId,
        user: &PrincipalName,
    ) -> Result<Applied<Share>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let user = canonical_name(&cluster, user);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "unshare")?;
            active_folder(&*tx, id)?;
            let share = share_of(&*tx, id, &user)?
                .ok_or_else(|| Error::not_found("share", format!("{id} {user}")))?;
            tx.delete_share(id, &user)?;
            remove_grant(tx, &user, &uri)?;
            Ok(Step::Changed(
                share,
                change(by, actor, "unshare", id.as_str(), user.to_string()),
            ))
        })
    }

    /// Stops sharing folder `id` with each of `users` (rule F7), in one transaction: all or
    /// nothing. The caller needs `manage` on the folder; every user must hold a share.
    pub fn unshare_folder_users(
        &self,
        by: &Caller,
        id: &FolderId,
        users: &[PrincipalName],
    ) -> Result<Applied<Vec<Share>>> {
        if users.is_empty() {
            return Err(Error::InvalidInput(
                "name at least one user to unshare".into(),
            ));
        }
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "unshare")?;
            active_folder(&*tx, id)?;
            let mut removed = Vec::with_capacity(users.len());
            for user in users {
                let user = canonical_name(&cluster, user);
                let share = share_of(&*tx, id, &user)?
                    .ok_or_else(|| Error::not_found("share", format!("{id} {user}")))?;
                tx.delete_share(id, &user)?;
                remove_grant(tx, &user, &uri)?;
                removed.push(share);
            }
            let detail = removed
                .iter()
                .map(|s| s.user.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Step::Changed(
                removed,
                change(by, actor, "unshare", id.as_str(), detail),
            ))
        })
    }

    /// Shares group folder `id` with members of its group at `permission` (Backend.AI's
    /// project-folder share, rule F8), in one transaction: all or nothing. The caller needs
    /// `manage` on the folder; each user must be an active member of the owning group (its
    /// closure holds the group). Each gets a share row and its grant, written and removed
    /// together as every share's (rule F6); levels being inclusive, a share raises a
    /// member's permission above the group's, never lowers it. A member who leaves the
    /// group loses these shares with the membership (rule F8). Sharing a member again at
    /// the permission it holds is [`Error::NoEffect`]; at another, the share changes.
    pub fn share_group_folder(
        &self,
        by: &Caller,
        id: &FolderId,
        users: &[PrincipalName],
        permission: Permission,
    ) -> Result<Applied<Vec<Share>>> {
        if users.is_empty() {
            return Err(Error::InvalidInput(
                "name at least one user to share with".into(),
            ));
        }
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let uri = Self::folder_uri(&cluster, id)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "share")?;
            let folder = active_folder(&*tx, id)?;
            if folder.kind != FolderKind::Group {
                return Err(Error::InvalidInput(format!(
                    "folder `{id}` is a user folder: share it by invitation (rule F4)"
                )));
            }
            let mut shared = Vec::with_capacity(users.len());
            let mut changed = false;
            for user in users {
                let user = canonical_name(&cluster, user);
                let member = match closure_of(&*tx, &user)? {
                    Ok(closure) => {
                        closure.contains(&folder.owner)
                            && closure
                                .record(&user)
                                .is_some_and(|r| r.kind == PrincipalKind::User)
                    }
                    Err(_) => false,
                };
                if !member {
                    return Err(Error::NotFound {
                        what: "member",
                        name: clip(&format!("{user} of group {}", folder.owner)),
                    });
                }
                let share = Share {
                    folder: id.clone(),
                    user: user.clone(),
                    permission,
                };
                if share_of(&*tx, id, &user)?.as_ref() != Some(&share) {
                    changed = true;
                    tx.put_share(&share)?;
                    tx.put_grant(&Grant {
                        holder: user.clone(),
                        uri: uri.clone(),
                        level: permission.level(),
                    })?;
                }
                shared.push(share);
            }
            if !changed {
                return Err(Error::NoEffect(format!(
                    "every user named already holds {permission} on folder `{id}`"
                )));
            }
            let detail = shared
                .iter()
                .map(|s| format!("{} {permission}", s.user))
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Step::Changed(
                shared,
                change(by, actor, "group_share", id.as_str(), detail),
            ))
        })
    }

    /// The caller leaves a folder shared with it (rule F7): its share and grant go. A
    /// group folder cannot be left (rule F8: leave the group), nor an owned one.
    pub fn leave_folder(&self, by: &Caller, id: &FolderId) -> Result<Applied<Share>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let uri = Self::folder_uri(&cluster, id)?;
            let folder = active_folder(&*tx, id)?;
            if folder.kind == FolderKind::Group {
                return Err(Error::InvalidInput(format!(
                    "folder `{id}` is a group folder: members cannot leave it, only the group"
                )));
            }
            if folder.owner == actor {
                return Err(Error::InvalidInput(format!(
                    "`{actor}` owns folder `{id}`: an owner deletes, never leaves"
                )));
            }
            let share = share_of(&*tx, id, &actor)?
                .ok_or_else(|| Error::not_found("share", format!("{id} {actor}")))?;
            tx.delete_share(id, &actor)?;
            remove_grant(tx, &actor, &uri)?;
            Ok(Step::Changed(
                share,
                change(by, actor, "leave", id.as_str(), String::new()),
            ))
        })
    }

    /// Creates a VM in `team` (rule V1): the caller must be an active user in the team,
    /// and gets `manage` on `vm://C/{id}`.
    pub fn create_vm(
        &self,
        by: &Caller,
        name: &FolderName,
        team: &PrincipalName,
    ) -> Result<Applied<Vm>> {
        self.transact(|tx| self.create_vm_step(tx, by, name, team))
    }

    /// The body of [`create_vm`](Self::create_vm) in the caller's write transaction (the
    /// same checks and writes) and the step it commits with, for several mutations in one
    /// transaction.
    pub(crate) fn create_vm_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        name: &FolderName,
        team: &PrincipalName,
    ) -> Result<Step<Vm>> {
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let space = Uri::root("vm")?.child(cluster.as_str())?;
        let closure = acting(&*tx, &actor, "create vm", &space)?;
        let record = tx
            .principal(team)?
            .ok_or_else(|| Error::not_found("team", team.as_str()))?;
        if record.kind != PrincipalKind::Group {
            return Err(Error::InvalidInput(format!(
                "`{team}` is not a team (group)"
            )));
        }
        if !closure.contains(team) {
            return Err(Error::NotPermitted(format!(
                "`{actor}` is not in team `{team}`"
            )));
        }
        let id = next_vm_id(&*tx)?;
        let vm = Vm {
            id: id.clone(),
            name: name.clone(),
            team: team.clone(),
            owner: actor.clone(),
        };
        tx.put_vm(&vm)?;
        tx.put_grant(&Grant {
            holder: actor.clone(),
            uri: id.uri(&cluster)?,
            level: Level::Manage,
        })?;
        Ok(Step::Changed(
            vm,
            change(
                by,
                actor,
                "vm_create",
                id.as_str(),
                format!("{name} in {team}"),
            ),
        ))
    }

    /// Shares a VM (rules V1, V2): `use` grants `write`, `co-own` grants `manage`. The
    /// caller needs `manage` on the VM (a co-owner may share further), and the grantee must
    /// share a team with the caller.
    pub fn share_vm(
        &self,
        by: &Caller,
        id: &VmId,
        grantee: &PrincipalName,
        mode: VmShareMode,
    ) -> Result<Applied<GrantOutcome>> {
        self.transact(|tx| self.share_vm_step(tx, by, id, grantee, mode))
    }

    /// The body of [`share_vm`](Self::share_vm) in the caller's write transaction (the
    /// same checks and writes) and the step it commits with, for several mutations in one
    /// transaction.
    pub(crate) fn share_vm_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        id: &VmId,
        grantee: &PrincipalName,
        mode: VmShareMode,
    ) -> Result<Step<GrantOutcome>> {
        let cluster = self.cluster_in(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let grantee = canonical_name(&cluster, grantee);
        let uri = id.uri(&cluster)?;
        let closure = authorize(&*tx, &actor, &uri, Level::Manage, "share vm")?;
        tx.vm(id)?
            .ok_or_else(|| Error::not_found("vm", id.as_str()))?;
        let record = tx.principal(&grantee)?;
        let outcome = self.grant_in(tx, &closure, &uri, &grantee, record, mode.level())?;
        Ok(match outcome {
            GrantOutcome::Kept { .. } => Step::Unchanged(outcome),
            _ => Step::Changed(
                outcome,
                change(
                    by,
                    actor,
                    "vm_share",
                    id.as_str(),
                    format!("{grantee} {mode}"),
                ),
            ),
        })
    }

    /// Stops sharing a VM with `grantee` (rule V1): the caller needs `manage` on it. The
    /// creator's own grant cannot be removed this way.
    pub fn unshare_vm(
        &self,
        by: &Caller,
        id: &VmId,
        grantee: &PrincipalName,
    ) -> Result<Applied<Level>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let grantee = canonical_name(&cluster, grantee);
            let uri = id.uri(&cluster)?;
            authorize(&*tx, &actor, &uri, Level::Manage, "unshare vm")?;
            let vm = tx
                .vm(id)?
                .ok_or_else(|| Error::not_found("vm", id.as_str()))?;
            if vm.owner == grantee {
                return Err(Error::InvalidInput(format!(
                    "`{grantee}` created vm `{id}`: its grant stays"
                )));
            }
            let removed = remove_grant(tx, &grantee, &uri)?.ok_or_else(|| {
                Error::NoEffect(format!("`{grantee}` holds no grant on vm `{id}`"))
            })?;
            Ok(Step::Changed(
                removed,
                change(by, actor, "vm_unshare", id.as_str(), grantee.to_string()),
            ))
        })
    }
}

/// The platform's reads on a kernel [`Reader`]: folders, shares, invitations and VMs as
/// the reader's one consistent view sees them.
pub trait PlatformReads {
    /// The user a person names: by email (any text with `@`, compared case-insensitively,
    /// rule A1) or by username.
    fn user_named(&self, text: &str) -> Result<PrincipalName>;

    /// The email of `user`'s account if `viewer` may read it (`read` on `user://{user}`:
    /// the user itself and admins, rules A1 and P5); `None` when it may not, or when
    /// `user` has no account.
    fn email_of(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<Option<String>>;

    /// The VM named `name` in one of `user`'s teams (the groups of its closure), or else
    /// the VM whose id is `name`; several of that name are a [`Error::Conflict`] naming
    /// their ids.
    fn vm_named(&self, user: &PrincipalName, name: &str) -> Result<Vm>;

    /// The folders `user` sees (rule F1): owned, shared with it and its groups' folders,
    /// active only, in id order, each with whether the user owns it and its permission.
    fn folders(&self, user: &PrincipalName) -> Result<Vec<FolderEntry>>;

    /// The folder named `name` among those `user` sees (rule F2). Two visible folders of
    /// that name (one owned, one shared) are a [`Error::Conflict`] naming both ids: address
    /// the folder by id then.
    fn folder_by_name(&self, user: &PrincipalName, name: &FolderName) -> Result<Folder>;

    /// The folder `id`, active or deleted.
    fn folder(&self, id: &FolderId) -> Result<Folder>;

    /// The users a folder is shared with, with their permissions, in user order (rule F7).
    fn shares(&self, id: &FolderId) -> Result<Vec<Share>>;

    /// The invitation `id`, in any state.
    fn invitation(&self, id: &InvitationId) -> Result<Invitation>;

    /// The pending invitations `user` received, with their count (rule F4).
    fn received_invitations(&self, user: &PrincipalName) -> Result<ReceivedInvitations>;

    /// The pending invitations `user` sent, in id order (rule F4).
    fn sent_invitations(&self, user: &PrincipalName) -> Result<Vec<Invitation>>;

    /// The VM `id`.
    fn vm(&self, id: &VmId) -> Result<Vm>;

    /// A VM's users and managers, listed separately (rule V1): the direct holders of
    /// `write` and of `manage` on it.
    fn vm_access(&self, id: &VmId) -> Result<VmAccess>;
}

impl<'e, S: PlatformStore + 'e> PlatformReads for Reader<'e, S> {
    fn user_named(&self, text: &str) -> Result<PrincipalName> {
        if !text.contains('@') {
            return PrincipalName::new(text);
        }
        let key = AccountKey::Email(text.to_lowercase());
        match self.view().account_by(&key)? {
            Some(account) => Ok(account.user),
            None => Err(Error::not_found("user", text)),
        }
    }

    fn email_of(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<Option<String>> {
        let user = self.canonical_name(user)?.into_owned();
        if !self.check(viewer, &crate::admin::user_uri(&user)?, Level::Read)? {
            return Ok(None);
        }
        Ok(self
            .view()
            .account(&user)?
            .map(|account| account.email.as_str().to_owned()))
    }

    fn vm_named(&self, user: &PrincipalName, name: &str) -> Result<Vm> {
        let closure = self.closure(user)?;
        let mut found: Vec<Vm> = Vec::new();
        for team in closure.names() {
            if closure
                .record(team)
                .is_some_and(|r| r.kind == PrincipalKind::Group)
            {
                found.extend(
                    self.view()
                        .vms_of(team)?
                        .into_iter()
                        .filter(|vm| vm.name.as_str() == name),
                );
            }
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.dedup_by(|a, b| a.id == b.id);
        if found.len() > 1 {
            let ids: Vec<String> = found.iter().map(|vm| vm.id.to_string()).collect();
            return Err(Error::Conflict(format!(
                "several VMs are named `{name}` ({}): name one by its id",
                ids.join(", ")
            )));
        }
        match found.into_iter().next() {
            Some(vm) => Ok(vm),
            None => match VmId::new(name) {
                Ok(id) => self.vm(&id),
                Err(_) => Err(Error::not_found("vm", name)),
            },
        }
    }

    fn folders(&self, user: &PrincipalName) -> Result<Vec<FolderEntry>> {
        visible_folders(self.view(), &*self.canonical_name(user)?)
    }

    fn folder_by_name(&self, user: &PrincipalName, name: &FolderName) -> Result<Folder> {
        let mut found: Vec<Folder> = self
            .folders(user)?
            .into_iter()
            .filter(|e| &e.folder.name == name)
            .map(|e| e.folder)
            .collect();
        match found.len() {
            0 => Err(Error::not_found("folder", name.as_str())),
            1 => found
                .pop()
                .ok_or_else(|| Error::not_found("folder", name.as_str())),
            _ => Err(Error::Conflict(format!(
                "folder name `{name}` is ambiguous for `{user}`: {}; use an id",
                found
                    .iter()
                    .map(|f| format!("`{}` of `{}`", f.id, f.owner))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn folder(&self, id: &FolderId) -> Result<Folder> {
        self.view().folder(id)?.ok_or_else(|| folder_not_found(id))
    }

    fn shares(&self, id: &FolderId) -> Result<Vec<Share>> {
        self.view().shares_of_folder(id)
    }

    fn invitation(&self, id: &InvitationId) -> Result<Invitation> {
        self.view()
            .invitation(id)?
            .ok_or_else(|| Error::not_found("invitation", id.as_str()))
    }

    fn received_invitations(&self, user: &PrincipalName) -> Result<ReceivedInvitations> {
        let key = InvitationKey::Invitee(self.canonical_name(user)?.into_owned());
        let invitations: Vec<Invitation> = self
            .view()
            .invitations(&key)?
            .into_iter()
            .filter(|i| i.state == InvitationState::Pending)
            .collect();
        Ok(ReceivedInvitations {
            count: invitations.len(),
            invitations,
        })
    }

    fn sent_invitations(&self, user: &PrincipalName) -> Result<Vec<Invitation>> {
        let key = InvitationKey::Inviter(self.canonical_name(user)?.into_owned());
        Ok(self
            .view()
            .invitations(&key)?
            .into_iter()
            .filter(|i| i.state == InvitationState::Pending)
            .collect())
    }

    fn vm(&self, id: &VmId) -> Result<Vm> {
        self.view()
            .vm(id)?
            .ok_or_else(|| Error::not_found("vm", id.as_str()))
    }

    fn vm_access(&self, id: &VmId) -> Result<VmAccess> {
        let vm = self.vm(id)?;
        let uri = vm.id.uri(&self.cluster()?)?;
        let mut access = VmAccess::default();
        for grant in self.view().grants_on(std::slice::from_ref(&uri))? {
            match grant.level {
                Level::Write => access.users.push(grant.holder),
                Level::Manage => access.managers.push(grant.holder),
                _ => {}
            }
        }
        access.users.sort();
        access.managers.sort();
        Ok(access)
    }
}

/// The platform's reads for a [`Viewer`]: authorized for the principal who reads.
pub trait PlatformViewerReads {
    /// A VM's users and managers (rule V1), if the viewer holds `read` on the VM: its
    /// users and managers do.
    fn vm_members(&self, id: &VmId) -> Result<VmAccess>;
}

impl<'e, S: PlatformStore + 'e> PlatformViewerReads for Viewer<'e, S> {
    fn vm_members(&self, id: &VmId) -> Result<VmAccess> {
        let vm = self.reader().vm(id)?;
        let uri = vm.id.uri(&self.reader().cluster()?)?;
        self.require(&uri, Level::Read, "list the members of a VM")?;
        self.reader().vm_access(&vm.id)
    }
}

/// Refuses a direct change of `holder`'s membership grant on `role://G` while `holder`
/// holds a project share on a folder of group `G` ([`Platform::share_group_folder`]): that
/// share lasts only as long as the membership (rule F8), so the membership changes through
/// the group workflow ([`Platform::remove_group_member`]), which drops the share with it.
fn refuse_membership_change_under_shares<V: PlatformView + ?Sized>(
    view: &V,
    uri: &Uri,
    holder: &PrincipalName,
    action: &str,
) -> Result<()> {
    let path: Vec<&str> = uri.segments().collect();
    let Ok(group) = PrincipalName::new(&path.join("/")) else {
        return Ok(());
    };
    if Uri::of_role(&group) != *uri {
        return Ok(());
    }
    for folder in view.folders_of(&group)? {
        if folder.kind == FolderKind::Group
            && folder.is_active()
            && share_of(view, &folder.id, holder)?.is_some()
        {
            return Err(Error::Conflict(format!(
                "`{holder}` holds a project share of folder `{}` of `{group}`: change its \
                 membership with the group's members workflow (which drops the share), or \
                 unshare first, not by {action}",
                folder.id
            )));
        }
    }
    Ok(())
}

/// Refuses a generic grant, forbid or revoke on exactly a folder's URI when the folder
/// workflows own that grant (docs/semantics.md, F6): the owner's grant (of a user or a
/// group folder) and a sharee's grant change only with their rows, through the folder
/// workflows, so a share row never outlives or disagrees with its grant. Any grant on a
/// deleted folder's URI is refused too: a deleted folder gives nobody access (rule F7).
/// Other URIs, and other holders on a live folder, pass untouched.
pub(crate) fn refuse_folder_workflow_grant<V: PlatformView + ?Sized>(
    view: &V,
    cluster: &ClusterName,
    uri: &Uri,
    holder: &PrincipalName,
    action: &str,
) -> Result<()> {
    if uri.scheme() == "role" {
        return refuse_membership_change_under_shares(view, uri, holder, action);
    }
    if uri.scheme() != "vfolder" || uri.depth() != 2 {
        return Ok(());
    }
    let mut segments = uri.segments();
    if segments.next() != Some(cluster.as_str()) {
        return Ok(());
    }
    let Some(Ok(id)) = segments.next().map(FolderId::new) else {
        return Ok(());
    };
    let Some(folder) = view.folder(&id)? else {
        return Ok(());
    };
    if !folder.is_active() {
        return Err(Error::InvalidInput(format!(
            "folder `{id}` is deleted: no {action} on `{uri}`"
        )));
    }
    if &folder.owner == holder {
        return Err(Error::Conflict(format!(
            "`{holder}` owns folder `{id}`: its grant on `{uri}` changes only with the folder \
             (delete it), not by {action}"
        )));
    }
    if let Some(share) = share_of(view, &id, holder)? {
        return Err(Error::Conflict(format!(
            "`{holder}` holds a {} share of folder `{id}`: change it with set-permission or \
             unshare, not by {action}",
            share.permission
        )));
    }
    Ok(())
}
