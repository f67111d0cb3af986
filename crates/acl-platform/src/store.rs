//! The platform's Store contract: the rows of folders, shares, invitations, VMs, accounts,
//! keypairs, groups, resource policies and sessions (rules F1 to A7), as an
//! extension of the kernel's [`ReadView`] and [`WriteTxn`]. A store that implements these
//! too keeps the platform's rows in the same transactions as the ACL's, so a share and its
//! grant commit together or not at all.
//!
//! The rows are records only: checks read grants, never these tables. The same contract
//! as the kernel's holds (isolation, one writer, atomicity, no semantics, one error type).

use crate::account::{AccessKey, Account, AccountKey, GroupInfo, Keypair};
use crate::folder::{Folder, FolderId, Invitation, InvitationId, InvitationKey, Share, Vm, VmId};
use crate::policy::{PolicyName, ResourcePolicy, Session, SessionId};
use acl_core::PrincipalName;
use acl_core::Result;
use acl_core::{ReadView, Store, WriteTxn};

/// The platform's lookups, on the same consistent state as the kernel's [`ReadView`].
pub trait PlatformView: ReadView {
    /// The folder with id `id`, active or deleted, if it exists (rule F1).
    fn folder(&self, id: &FolderId) -> Result<Option<Folder>>;

    /// Every folder `owner` owns, deleted ones included, in id order.
    fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>>;

    /// The shares of folder `folder`, in user order (rule F7).
    fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>>;

    /// The shares `user` holds, in folder id order.
    fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>>;

    /// The invitation with id `id`, in any state, if it exists (rule F5).
    fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>>;

    /// The invitations, in any state, sent to a user, sent by a user, or of a folder, as
    /// `key` says, in id order.
    fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>>;

    /// The VM with id `id`, if it exists (rule V1).
    fn vm(&self, id: &VmId) -> Result<Option<Vm>>;

    /// The VMs created in team `team`, in id order.
    fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>>;

    /// The account (profile) of user `user`, if it has one (rule A1).
    fn account(&self, user: &PrincipalName) -> Result<Option<Account>>;

    /// The account whose lowercase email or lowercase username is the key's text (rule A1:
    /// uniqueness is case-insensitive), if any.
    fn account_by(&self, key: &AccountKey) -> Result<Option<Account>>;

    /// Accounts with user names after `after` (exclusive), in name order, at most `limit`.
    fn accounts(&self, after: Option<&PrincipalName>, limit: usize) -> Result<Vec<Account>>;

    /// The users whose account uses policy `policy`, in name order, at most `limit`.
    fn accounts_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<PrincipalName>>;

    /// The keypair with access key `key`, if it exists (rule A5).
    fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>>;

    /// The keypairs of `user`, in access-key order.
    fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>>;

    /// Keypairs with access keys after `after` (exclusive), in key order, at most `limit`.
    fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>>;

    /// The access keys of the keypairs using policy `policy`, in key order, at most `limit`.
    fn keypairs_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<AccessKey>>;

    /// The resource policy named `name`, if it exists (rule A6).
    fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>>;

    /// Every resource policy, in name order.
    fn policies(&self) -> Result<Vec<ResourcePolicy>>;

    /// The session `id` of the ledger, running or stopped, if it exists (rule A6).
    fn session(&self, id: &SessionId) -> Result<Option<Session>>;

    /// Every session of `user`, running or stopped, in id order.
    fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>>;

    /// Sessions with ids after `after` (exclusive), in id order, at most `limit`.
    fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>>;

    /// The attributes of group `name`, if recorded.
    fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>>;
}

/// The platform's row writes, in the kernel's write transaction.
pub trait PlatformTxn: WriteTxn + PlatformView {
    /// Adds a folder, or replaces the one with its id. Its owner must be a principal; the
    /// core keeps active names unique per owner (rule F2), and a store may enforce it.
    fn put_folder(&mut self, folder: &Folder) -> Result<()>;

    /// Adds a share, or replaces the one of its (folder, user): at most one per pair. The
    /// folder must exist and the user be a principal.
    fn put_share(&mut self, share: &Share) -> Result<()>;

    /// Removes the share of `user` on `folder`; whether there was one.
    fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool>;

    /// Adds an invitation, or replaces the one with its id. The folder must exist and the
    /// inviter and invitee be principals; at most one is pending per (folder, invitee).
    fn put_invitation(&mut self, invitation: &Invitation) -> Result<()>;

    /// Adds a VM, or replaces the one with its id. Its team and owner must be principals.
    fn put_vm(&mut self, vm: &Vm) -> Result<()>;

    /// Adds an account, or replaces the one of its user. The user must be a principal and
    /// the policy exist; lowercase emails and lowercase usernames are unique (a store may
    /// enforce it). Accounts are never removed (rule A3).
    fn put_account(&mut self, account: &Account) -> Result<()>;

    /// Adds a keypair, or replaces the one with its access key. The user must be a
    /// principal and the policy exist.
    fn put_keypair(&mut self, keypair: &Keypair) -> Result<()>;

    /// Adds a resource policy, or replaces the one with its name.
    fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()>;

    /// Removes a resource policy; whether it was there. The core first makes sure no
    /// account or keypair uses it (rule A6).
    fn delete_policy(&mut self, name: &PolicyName) -> Result<bool>;

    /// Adds a session, or replaces the one with its id. The user must be a principal.
    fn put_session(&mut self, session: &Session) -> Result<()>;

    /// Adds or replaces the attributes of a group. The group must be a principal.
    fn put_group_info(&mut self, info: &GroupInfo) -> Result<()>;

    /// Removes the attributes of a group; whether they were there.
    fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool>;
}

/// A store whose views and transactions also keep the platform's rows.
pub trait PlatformStore: for<'a> Store<Read<'a>: PlatformView, Write<'a>: PlatformTxn> {}

impl<S> PlatformStore for S where S: for<'a> Store<Read<'a>: PlatformView, Write<'a>: PlatformTxn> {}
