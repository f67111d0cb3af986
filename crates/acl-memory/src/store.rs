//! [`MemoryStore`] and its read view and write transaction.

use std::fmt;
use std::sync::TryLockError;

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Error, Fence, Grant, Index, InvitationState, Level,
    PrincipalName, PrincipalRecord, ReadView, Result, Revision, RoleGraph, RowKey, Store, Uri,
    WriteTxn,
};
use acl_platform::{
    AccessKey, Account, AccountKey, GroupInfo, Keypair, PolicyName, ResourcePolicy, Session,
    SessionId,
};
use acl_platform::{
    Folder, FolderId, Invitation, InvitationId, InvitationKey, Permission, PlatformTxn,
    PlatformView, Share, Vm, VmId,
};

use crate::state::State;

/// An in-memory [`Store`]: every row in indexed maps behind one [`ShardedLock`] (a
/// reader-writer lock whose readers each lock their own thread's shard).
///
/// Read views hold the read lock, write transactions the write lock; see the
/// [crate documentation](crate) for the design and its consequences.
#[derive(Default)]
pub struct MemoryStore {
    pub(crate) state: ShardedLock<State>,
}

impl MemoryStore {
    /// An empty store at revision 0, with no cluster set.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("MemoryStore");
        match self.state.try_read() {
            Ok(state) => out.field("revision", &state.revision().ok()),
            Err(TryLockError::WouldBlock) => out.field("revision", &format_args!("<locked>")),
            Err(TryLockError::Poisoned(_)) => out.field("revision", &format_args!("<poisoned>")),
        };
        out.finish_non_exhaustive()
    }
}

pub(crate) fn poisoned() -> Error {
    Error::storage("memory store lock poisoned by a panic in an earlier writer")
}

impl Store for MemoryStore {
    type Read<'a> = MemoryRead<'a>;
    type Write<'a> = MemoryWrite<'a>;

    /// Takes the read lock, waiting while a write transaction is open. Do not call it on a
    /// thread that holds a [`MemoryWrite`] of the same store: it would wait forever.
    fn read(&self) -> Result<MemoryRead<'_>> {
        let state = self.state.read().map_err(|_| poisoned())?;
        Ok(MemoryRead { state })
    }

    /// Takes the write lock, waiting for the open write transaction and every open read
    /// view to end. Do not call it on a thread that holds a [`MemoryRead`] (or another
    /// [`MemoryWrite`]) of the same store: it would wait forever.
    fn write(&self) -> Result<MemoryWrite<'_>> {
        let state = self.state.write().map_err(|_| poisoned())?;
        Ok(MemoryWrite {
            state,
            undo: Vec::new(),
        })
    }
}

/// A read view of a [`MemoryStore`]: holds the read lock, so it sees one committed state
/// for its whole life and no write transaction can open until it is dropped.
pub struct MemoryRead<'a> {
    state: ShardedLockReadGuard<'a, State>,
}

/// The write transaction of a [`MemoryStore`]: holds the write lock.
///
/// Each write is applied to the state at once (so the transaction reads its own writes)
/// and its inverse pushed onto an undo log. [`WriteTxn::commit`] appends the changelog
/// entry and forgets the log; dropping the transaction without committing replays the
/// log backwards, leaving the store exactly as it was.
///
/// A write that fails (a taken or missing principal, a broken invariant) changes nothing,
/// and the transaction stays usable.
pub struct MemoryWrite<'a> {
    pub(crate) state: ShardedLockWriteGuard<'a, State>,
    /// The inverse of every write so far, oldest first.
    pub(crate) undo: Vec<Undo>,
}

impl fmt::Debug for MemoryRead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRead")
            .field("revision", &self.state.revision().ok())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for MemoryWrite<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryWrite")
            .field("revision", &self.state.revision().ok())
            .field("writes", &self.undo.len())
            .finish_non_exhaustive()
    }
}

impl Undo {
    /// The kernel row this write notes for [`ReadView::changed_rows`]; `None` for the
    /// platform's rows.
    pub(crate) fn noted(&self) -> Option<RowKey> {
        match self {
            Undo::Cluster(_) => Some(RowKey::Cluster),
            Undo::Principal { name, .. } => Some(RowKey::Principal(name.clone())),
            Undo::Grant { holder, uri, .. } => Some(RowKey::Grant {
                holder: holder.clone(),
                uri: uri.clone(),
            }),
            Undo::Edge { edge, .. } => Some(RowKey::Edge {
                member: edge.member.clone(),
                role: edge.role.clone(),
            }),
            Undo::Fence { fence, .. } => Some(RowKey::Fence {
                uri: fence.uri.clone(),
                group: fence.group.clone(),
            }),
            _ => None,
        }
    }
}

/// The inverse of one write: what to put back.
#[derive(Debug)]
pub(crate) enum Undo {
    /// Restore the cluster name.
    Cluster(Option<ClusterName>),
    /// Restore the principal `name` to `before` (`None`: remove it).
    Principal {
        name: PrincipalName,
        before: Option<PrincipalRecord>,
    },
    /// Restore the grant of `holder` on `uri` to `before` (`None`: remove it).
    Grant {
        holder: PrincipalName,
        uri: Uri,
        before: Option<Level>,
    },
    /// Restore an edge's presence.
    Edge { edge: Edge, present: bool },
    /// Restore a fence's presence.
    Fence { fence: Fence, present: bool },
    /// Restore a folder row (`None`: remove it).
    Folder {
        id: FolderId,
        before: Option<Folder>,
    },
    /// Restore a share (`None`: remove it).
    Share {
        folder: FolderId,
        user: PrincipalName,
        before: Option<Permission>,
    },
    /// Restore an invitation row (`None`: remove it).
    Invitation {
        id: InvitationId,
        before: Option<Invitation>,
    },
    /// Restore an account (`None`: remove it).
    Account {
        user: PrincipalName,
        before: Option<Account>,
    },
    /// Restore a keypair (`None`: remove it).
    Keypair {
        key: AccessKey,
        before: Option<Keypair>,
    },
    /// Restore a policy (`None`: remove it).
    Policy {
        name: PolicyName,
        before: Option<ResourcePolicy>,
    },
    /// Restore a session (`None`: remove it).
    Session {
        id: SessionId,
        before: Option<Session>,
    },
    /// Restore a group's attributes (`None`: remove them).
    GroupInfo {
        name: PrincipalName,
        before: Option<GroupInfo>,
    },
    /// Restore a VM row (`None`: remove it).
    Vm { id: VmId, before: Option<Vm> },
}

impl Undo {
    /// Puts back what one write changed. Cannot fail: it restores a row that existed, whose
    /// principals existed then and still do (the log is replayed newest first), or removes
    /// one that was added; so the results of the index's checks are dropped.
    fn revert(self, state: &mut State) {
        match self {
            Undo::Cluster(before) => {
                state.set_cluster(before);
            }
            Undo::Principal { name, before } => {
                let _restored = match before {
                    Some(record) => state.put_principal(record),
                    None => state.remove_principal(&name),
                };
            }
            Undo::Grant {
                holder,
                uri,
                before,
            } => {
                let _restored = state.set_grant(&holder, &uri, before);
            }
            Undo::Edge { edge, present } => {
                let _restored = state.set_edge(&edge, present);
            }
            Undo::Fence { fence, present } => {
                let _restored = state.set_fence(&fence, present);
            }
            Undo::Folder { id, before } => {
                state.set_folder(&id, before);
            }
            Undo::Share {
                folder,
                user,
                before,
            } => {
                state.set_share(&folder, &user, before);
            }
            Undo::Invitation { id, before } => {
                state.set_invitation(&id, before);
            }
            Undo::Vm { id, before } => {
                state.set_vm(&id, before);
            }
            Undo::Account { user, before } => {
                state.set_account(&user, before);
            }
            Undo::Keypair { key, before } => {
                state.set_keypair(&key, before);
            }
            Undo::Policy { name, before } => {
                state.set_policy(&name, before);
            }
            Undo::Session { id, before } => {
                state.set_session(&id, before);
            }
            Undo::GroupInfo { name, before } => {
                state.set_group_info(&name, before);
            }
        }
    }
}

impl Drop for MemoryWrite<'_> {
    /// Rolls back every write not committed, newest first. Runs during unwinding too, so
    /// even a panicking writer leaves the state as it found it (though the lock is then
    /// poisoned, and the store refuses further use with [`Error::Storage`]).
    fn drop(&mut self) {
        while let Some(step) = self.undo.pop() {
            step.revert(&mut self.state);
        }
    }
}

impl MemoryWrite<'_> {
    /// Fails unless policy `name` exists, naming the row that needs it.
    fn require_policy(&self, name: &PolicyName, row: &str) -> Result<()> {
        if self.state.has_policy(name) {
            Ok(())
        } else {
            Err(Error::storage(format!(
                "{row} names a missing resource policy `{name}`"
            )))
        }
    }

    /// Fails unless `name` is an existing principal, naming the row that needs it.
    fn require_principal(&self, name: &PrincipalName, role: &str) -> Result<()> {
        if self.state.has_principal(name) {
            Ok(())
        } else {
            Err(Error::storage(format!(
                "{role} `{name}` is not a principal"
            )))
        }
    }
}

impl WriteTxn for MemoryWrite<'_> {
    fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()> {
        let before = self.state.set_cluster(Some(cluster.clone()));
        if before.as_ref() != Some(cluster) {
            self.undo.push(Undo::Cluster(before));
        }
        Ok(())
    }

    fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        if self.state.has_principal(&record.name) {
            return Err(Error::already_exists("principal", &record.name));
        }
        self.state.put_principal(record.clone())?;
        self.undo.push(Undo::Principal {
            name: record.name.clone(),
            before: None,
        });
        Ok(())
    }

    fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        if !self.state.has_principal(&record.name) {
            return Err(Error::not_found("principal", &record.name));
        }
        let before = self.state.put_principal(record.clone())?;
        self.undo.push(Undo::Principal {
            name: record.name.clone(),
            before,
        });
        Ok(())
    }

    fn delete_principal(&mut self, name: &PrincipalName) -> Result<()> {
        if !self.state.has_principal(name) {
            return Err(Error::not_found("principal", name));
        }
        if let Some(rows) = self.state.references_to(name) {
            return Err(Error::storage(format!(
                "principal `{name}` still has {rows}: remove them first"
            )));
        }
        let before = self.state.remove_principal(name)?;
        self.undo.push(Undo::Principal {
            name: name.clone(),
            before,
        });
        Ok(())
    }

    fn put_grant(&mut self, grant: &Grant) -> Result<()> {
        self.require_principal(&grant.holder, "grant holder")?;
        let before = self
            .state
            .set_grant(&grant.holder, &grant.uri, Some(grant.level))?;
        if before != Some(grant.level) {
            self.undo.push(Undo::Grant {
                holder: grant.holder.clone(),
                uri: grant.uri.clone(),
                before,
            });
        }
        Ok(())
    }

    fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
        let before = self.state.set_grant(holder, uri, None)?;
        if before.is_some() {
            self.undo.push(Undo::Grant {
                holder: holder.clone(),
                uri: uri.clone(),
                before,
            });
        }
        Ok(before.is_some())
    }

    fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        if present {
            self.require_principal(&edge.member, "edge member")?;
            self.require_principal(&edge.role, "edge role")?;
        }
        let was = self.state.set_edge(edge, present)?;
        if was != present {
            self.undo.push(Undo::Edge {
                edge: edge.clone(),
                present: was,
            });
        }
        Ok(was)
    }

    fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        if present {
            self.require_principal(&fence.group, "fence group")?;
        }
        let was = self.state.set_fence(fence, present)?;
        if was != present {
            self.undo.push(Undo::Fence {
                fence: fence.clone(),
                present: was,
            });
        }
        Ok(was)
    }

    fn commit(mut self, change: Change) -> Result<Revision> {
        // Every write is already in place: appending the entry, noting the principals
        // whose record or edges changed, and forgetting the undo log is the whole commit.
        // Only a full changelog refuses the entry, and then dropping `self` rolls the
        // writes back. The undo log holds exactly the writes that changed a row, so the
        // notes are read off it.
        let noted = self.undo.iter().filter_map(Undo::noted).collect();
        let revision = self.state.append_change(change)?;
        self.state.note(revision, noted);
        self.undo.clear();
        Ok(revision)
    }

    fn commit_history(mut self, history: &[ChangeEntry]) -> Result<Revision> {
        acl_core::check_history(self.state.revision()?, history)?;
        let noted = self.undo.iter().filter_map(Undo::noted).collect();
        let revision = self.state.append_history(history)?;
        self.state.note(revision, noted);
        self.undo.clear();
        Ok(revision)
    }
}

impl PlatformTxn for MemoryWrite<'_> {
    fn put_folder(&mut self, folder: &Folder) -> Result<()> {
        self.require_principal(&folder.owner, "folder owner")?;
        let clash = folder.is_active()
            && self
                .state
                .folders_of(&folder.owner)?
                .iter()
                .any(|f| f.is_active() && f.id != folder.id && f.name == folder.name);
        if clash {
            return Err(Error::storage(format!(
                "`{}` already has an active folder named `{}`",
                folder.owner, folder.name
            )));
        }
        let before = self.state.set_folder(&folder.id, Some(folder.clone()));
        if before.as_ref() != Some(folder) {
            self.undo.push(Undo::Folder {
                id: folder.id.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_share(&mut self, share: &Share) -> Result<()> {
        self.require_principal(&share.user, "share user")?;
        if !self.state.has_folder(&share.folder) {
            return Err(Error::storage(format!(
                "share of `{}` names a missing folder `{}`",
                share.user, share.folder
            )));
        }
        let before = self
            .state
            .set_share(&share.folder, &share.user, Some(share.permission));
        if before != Some(share.permission) {
            self.undo.push(Undo::Share {
                folder: share.folder.clone(),
                user: share.user.clone(),
                before,
            });
        }
        Ok(())
    }

    fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool> {
        let before = self.state.set_share(folder, user, None);
        if before.is_some() {
            self.undo.push(Undo::Share {
                folder: folder.clone(),
                user: user.clone(),
                before,
            });
        }
        Ok(before.is_some())
    }

    fn put_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        self.require_principal(&invitation.inviter, "invitation inviter")?;
        self.require_principal(&invitation.invitee, "invitation invitee")?;
        if !self.state.has_folder(&invitation.folder) {
            return Err(Error::storage(format!(
                "invitation `{}` names a missing folder `{}`",
                invitation.id, invitation.folder
            )));
        }
        if invitation.state == InvitationState::Pending {
            let other = self
                .state
                .invitations_by(&InvitationKey::Folder(invitation.folder.clone()))?
                .into_iter()
                .any(|i| {
                    i.id != invitation.id
                        && i.invitee == invitation.invitee
                        && i.state == InvitationState::Pending
                });
            if other {
                return Err(Error::storage(format!(
                    "`{}` already has a pending invitation to folder `{}`",
                    invitation.invitee, invitation.folder
                )));
            }
        }
        let before = self
            .state
            .set_invitation(&invitation.id, Some(invitation.clone()));
        if before.as_ref() != Some(invitation) {
            self.undo.push(Undo::Invitation {
                id: invitation.id.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_vm(&mut self, vm: &Vm) -> Result<()> {
        self.require_principal(&vm.team, "vm team")?;
        self.require_principal(&vm.owner, "vm owner")?;
        let before = self.state.set_vm(&vm.id, Some(vm.clone()));
        if before.as_ref() != Some(vm) {
            self.undo.push(Undo::Vm {
                id: vm.id.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        self.require_principal(&account.user, "account user")?;
        self.require_policy(&account.policy, "account")?;
        for (key, what) in [
            (AccountKey::Email(account.email.key()), "email"),
            (AccountKey::Username(account.username_key()), "username"),
        ] {
            if let Some(other) = self.state.account_by(&key)?
                && other.user != account.user
            {
                return Err(Error::storage(format!(
                    "account `{}` repeats the {what} of `{}`",
                    account.user, other.user
                )));
            }
        }
        let before = self.state.set_account(&account.user, Some(account.clone()));
        if before.as_ref() != Some(account) {
            self.undo.push(Undo::Account {
                user: account.user.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_keypair(&mut self, keypair: &Keypair) -> Result<()> {
        self.require_principal(&keypair.user, "keypair user")?;
        self.require_policy(&keypair.policy, "keypair")?;
        let before = self
            .state
            .set_keypair(&keypair.access_key, Some(keypair.clone()));
        if before.as_ref() != Some(keypair) {
            self.undo.push(Undo::Keypair {
                key: keypair.access_key.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()> {
        let before = self.state.set_policy(&policy.name, Some(policy.clone()));
        if before.as_ref() != Some(policy) {
            self.undo.push(Undo::Policy {
                name: policy.name.clone(),
                before,
            });
        }
        Ok(())
    }

    fn delete_policy(&mut self, name: &PolicyName) -> Result<bool> {
        if self.state.policy_in_use(name) {
            return Err(Error::storage(format!(
                "resource policy `{name}` is still used by accounts or keypairs"
            )));
        }
        let before = self.state.set_policy(name, None);
        let was = before.is_some();
        if was {
            self.undo.push(Undo::Policy {
                name: name.clone(),
                before,
            });
        }
        Ok(was)
    }

    fn put_session(&mut self, session: &Session) -> Result<()> {
        self.require_principal(&session.user, "session user")?;
        let before = self.state.set_session(&session.id, Some(session.clone()));
        if before.as_ref() != Some(session) {
            self.undo.push(Undo::Session {
                id: session.id.clone(),
                before,
            });
        }
        Ok(())
    }

    fn put_group_info(&mut self, info: &GroupInfo) -> Result<()> {
        self.require_principal(&info.name, "group")?;
        let before = self.state.set_group_info(&info.name, Some(info.clone()));
        if before.as_ref() != Some(info) {
            self.undo.push(Undo::GroupInfo {
                name: info.name.clone(),
                before,
            });
        }
        Ok(())
    }

    fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool> {
        let before = self.state.set_group_info(name, None);
        let was = before.is_some();
        if was {
            self.undo.push(Undo::GroupInfo {
                name: name.clone(),
                before,
            });
        }
        Ok(was)
    }
}

/// Implements [`ReadView`] for a type whose `state` field derefs to [`State`], forwarding
/// each lookup.
macro_rules! forward_read_view {
    ($ty:ident) => {
        impl ReadView for $ty<'_> {
            fn revision(&self) -> Result<Revision> {
                self.state.revision()
            }

            fn cluster(&self) -> Result<Option<ClusterName>> {
                self.state.cluster()
            }

            fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
                self.state.principal(name)
            }

            fn index(&self) -> Option<&Index> {
                Some(self.state.index())
            }

            fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>> {
                Ok(self.state.changed_rows(after))
            }

            fn principals(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<PrincipalRecord>> {
                self.state.principals(after, limit)
            }

            fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph> {
                self.state.reachable_graph(start)
            }

            fn members_of(
                &self,
                roles: &[PrincipalName],
            ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
                self.state.members_of(roles)
            }

            fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
                self.state.grants_at(holders, uris)
            }

            fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
                acl_core::grants_on_pairs_each(self, pairs)
            }

            fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>> {
                self.state.grant_below(holders, uri)
            }

            fn grants_of(
                &self,
                holder: &PrincipalName,
                within: Option<&Uri>,
                after: Option<&Uri>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                self.state.grants_of(holder, within, after, limit)
            }

            fn grants_within(
                &self,
                within: &Uri,
                after: Option<(&Uri, &PrincipalName)>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                self.state.grants_within(within, after, limit)
            }

            fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
                self.state.fences_at(uris)
            }

            fn fences(
                &self,
                within: Option<&Uri>,
                after: Option<&Fence>,
                limit: usize,
            ) -> Result<Vec<Fence>> {
                self.state.fences(within, after, limit)
            }

            fn changes(
                &self,
                after: Revision,
                actor: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<ChangeEntry>> {
                self.state.changes(after, actor, limit)
            }
        }

        impl PlatformView for $ty<'_> {
            fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
                self.state.folder(id)
            }

            fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
                self.state.folders_of(owner)
            }

            fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
                self.state.shares_of_folder(folder)
            }

            fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
                self.state.shares_of_user(user)
            }

            fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
                self.state.invitation(id)
            }

            fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
                self.state.invitations_by(key)
            }

            fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
                self.state.vm(id)
            }

            fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
                self.state.vms_of(team)
            }

            fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
                self.state.account(user)
            }

            fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
                self.state.account_by(key)
            }

            fn accounts(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<Account>> {
                self.state.accounts(after, limit)
            }

            fn accounts_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<PrincipalName>> {
                self.state.accounts_of_policy(policy, limit)
            }

            fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
                self.state.keypair(key)
            }

            fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
                self.state.keypairs_of(user)
            }

            fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
                self.state.keypairs(after, limit)
            }

            fn keypairs_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<AccessKey>> {
                self.state.keypairs_of_policy(policy, limit)
            }

            fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
                self.state.policy(name)
            }

            fn policies(&self) -> Result<Vec<ResourcePolicy>> {
                self.state.policies()
            }

            fn session(&self, id: &SessionId) -> Result<Option<Session>> {
                self.state.session(id)
            }

            fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
                self.state.sessions_of(user)
            }

            fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
                self.state.sessions(after, limit)
            }

            fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
                self.state.group_info(name)
            }
        }
    };
}

forward_read_view!(MemoryRead);
forward_read_view!(MemoryWrite);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use acl_core::{PrincipalKind, Timestamp, WriteTxnExt};

    use super::*;

    fn name(text: &str) -> PrincipalName {
        PrincipalName::new(text).unwrap()
    }

    fn uri(text: &str) -> Uri {
        Uri::parse(text).unwrap()
    }

    fn record(text: &str, kind: PrincipalKind) -> PrincipalRecord {
        PrincipalRecord {
            name: name(text),
            kind,
            active: true,
        }
    }

    fn change(action: &str) -> Change {
        Change {
            at: Timestamp(7),
            actor: Some(name("alice")),
            action: action.into(),
            target: String::new(),
            detail: String::new(),
        }
    }

    fn snapshot(store: &MemoryStore) -> State {
        store.state.read().unwrap().clone()
    }

    /// A store with a little of everything, committed.
    fn seeded() -> MemoryStore {
        let store = MemoryStore::new();
        let mut txn = store.write().unwrap();
        txn.set_cluster(&ClusterName::new("c").unwrap()).unwrap();
        for (n, kind) in [
            ("alice", PrincipalKind::User),
            ("bob", PrincipalKind::User),
            ("eng", PrincipalKind::Group),
        ] {
            txn.insert_principal(&record(n, kind)).unwrap();
        }
        for (holder, u, level) in [
            ("alice", "storage://c/alice", Level::Manage),
            ("bob", "storage://c/alice", Level::Read),
            ("eng", "storage://", Level::List),
        ] {
            txn.put_grant(&Grant {
                holder: name(holder),
                uri: uri(u),
                level,
            })
            .unwrap();
        }
        txn.insert_edge(&Edge {
            member: name("alice"),
            role: name("eng"),
        })
        .unwrap();
        txn.insert_fence(&Fence {
            uri: uri("storage://c/alice"),
            group: name("eng"),
        })
        .unwrap();
        txn.commit(change("seed")).unwrap();
        store
    }

    // Dropping a transaction restores the state field by field: every index, the
    // changelog and its actor index, the revision.
    #[test]
    fn drop_restores_the_state_exactly() {
        let store = seeded();
        let before = snapshot(&store);
        {
            let mut txn = store.write().unwrap();
            txn.set_cluster(&ClusterName::new("other").unwrap())
                .unwrap();
            txn.insert_principal(&record("carol", PrincipalKind::Role))
                .unwrap();
            txn.update_principal(&PrincipalRecord {
                active: false,
                ..record("bob", PrincipalKind::User)
            })
            .unwrap();
            txn.put_grant(&Grant {
                holder: name("carol"),
                uri: uri("storage://c/carol"),
                level: Level::Write,
            })
            .unwrap();
            txn.put_grant(&Grant {
                holder: name("alice"),
                uri: uri("storage://c/alice"),
                level: Level::Deny,
            })
            .unwrap();
            assert!(
                txn.delete_grant(&name("bob"), &uri("storage://c/alice"))
                    .unwrap()
            );
            assert!(txn.delete_grant(&name("eng"), &uri("storage://")).unwrap());
            assert!(
                txn.delete_edge(&Edge {
                    member: name("alice"),
                    role: name("eng"),
                })
                .unwrap()
            );
            txn.insert_edge(&Edge {
                member: name("carol"),
                role: name("eng"),
            })
            .unwrap();
            assert!(
                txn.delete_fence(&Fence {
                    uri: uri("storage://c/alice"),
                    group: name("eng"),
                })
                .unwrap()
            );
            txn.insert_fence(&Fence {
                uri: uri("storage://c"),
                group: name("carol"),
            })
            .unwrap();
            // bob has no grants, edges or fences left: it can go
            txn.delete_principal(&name("bob")).unwrap();
            assert_ne!(*txn.state, before);
        }
        assert_eq!(snapshot(&store), before);
    }

    #[test]
    fn commit_keeps_the_writes_and_appends_one_entry() {
        let store = seeded();
        let mut txn = store.write().unwrap();
        txn.insert_principal(&record("carol", PrincipalKind::Role))
            .unwrap();
        assert_eq!(txn.commit(change("add")).unwrap(), Revision(2));
        let state = snapshot(&store);
        assert_eq!(state.revision().unwrap(), Revision(2));
        assert!(state.has_principal(&name("carol")));
        let actor = Some(name("alice"));
        let entries = state.changes(Revision(0), actor.as_ref(), 10).unwrap();
        let revisions: Vec<u64> = entries.iter().map(|e| e.revision.0).collect();
        assert_eq!(revisions, [1, 2]);
    }

    // A panic while writing poisons the lock; the store then refuses with a storage error,
    // but the rollback in `Drop` still ran during unwinding.
    #[test]
    fn a_panicking_writer_poisons_the_store() {
        let store = seeded();
        let before = snapshot(&store);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut txn = store.write().unwrap();
            txn.insert_principal(&record("carol", PrincipalKind::Role))
                .unwrap();
            panic!("writer fails mid-transaction");
        }));
        assert!(result.is_err());
        assert!(matches!(store.read().map(|_| ()), Err(Error::Storage(_))));
        assert!(matches!(store.write().map(|_| ()), Err(Error::Storage(_))));
        let after = match store.state.read() {
            Ok(guard) => guard.clone(),
            Err(poison) => poison.into_inner().clone(),
        };
        assert_eq!(after, before);
        assert_eq!(
            format!("{store:?}"),
            "MemoryStore { revision: <poisoned>, .. }"
        );
    }
}
