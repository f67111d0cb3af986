//! The rows, their indexes and the lookups of [`acl_core::ReadView`] on them.
//!
//! Every grant is kept twice (by holder and by URI), every edge twice (both directions),
//! every fence twice (by URI and by group). The mutators below keep the two copies in step
//! and drop an inner collection as soon as it empties, so that undoing a write gives back a
//! state equal, field by field, to the one before it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// The hash maps of the state: foldhash instead of SipHash, since every check hashes a
/// handful of short keys and SipHash was a measurable part of it. The seed is random per
/// process, which keeps crafted keys from colliding on purpose.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::ops::Bound;

use acl_core::Index;

use crate::changelog::{Changelog, ChangelogMark};
use acl_core::RoleGraph;
use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Fence, Grant, Level, PrincipalName, PrincipalRecord,
    Result, Revision, RowKey, Uri,
};
use acl_platform::{
    AccessKey, Account, AccountKey, GroupInfo, Keypair, PolicyName, ResourcePolicy, Session,
    SessionId,
};
use acl_platform::{
    Folder, FolderId, Invitation, InvitationId, InvitationKey, Permission, Share, Vm, VmId,
};

/// How many noted row keys the store keeps for `ReadView::changed_rows`: a few hundred
/// KiB at most, under 4 bytes per grant on the medium workload. An engine refreshes its
/// cache after each of its own commits and a follower catches up after each write it
/// serves, so neither is usually that far behind; one further behind (a view opened before
/// four thousand row writes, a bulk import) empties its cache or rebuilds instead.
pub(crate) const NOTES_KEPT: usize = 4_096;

/// One committed (or, inside a write transaction, in-progress) state of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct State {
    /// The number of commits so far.
    revision: Revision,
    /// Set at init.
    cluster: Option<ClusterName>,
    /// Principals, membership edges, grants and fences, interned (acl_core::Index).
    index: Index,
    /// Entry `i` has revision `i + 1`, with its index by actor.
    changelog: Changelog,
    /// The kernel rows the latest commits wrote (`ReadView::changed_rows`), by revision,
    /// oldest first: at most [`NOTES_KEPT`] keys.
    notes: VecDeque<(Revision, RowKey)>,
    /// The notes of this revision and older ones may be partly forgotten: asking after an
    /// older revision gets `None`.
    notes_from: Revision,
    /// Folders by id.
    folders: BTreeMap<FolderId, Folder>,
    /// Folder ids by owner.
    folders_by_owner: HashMap<PrincipalName, BTreeSet<FolderId>>,
    /// Shares by folder, then user.
    shares_by_folder: HashMap<FolderId, BTreeMap<PrincipalName, Permission>>,
    /// Shares by user, then folder.
    shares_by_user: HashMap<PrincipalName, BTreeMap<FolderId, Permission>>,
    /// Invitations by id.
    invitations: BTreeMap<InvitationId, Invitation>,
    /// Invitation ids by invitee.
    invitations_by_invitee: HashMap<PrincipalName, BTreeSet<InvitationId>>,
    /// Invitation ids by inviter.
    invitations_by_inviter: HashMap<PrincipalName, BTreeSet<InvitationId>>,
    /// Invitation ids by folder.
    invitations_by_folder: HashMap<FolderId, BTreeSet<InvitationId>>,
    /// VMs by id.
    vms: BTreeMap<VmId, Vm>,
    /// VM ids by team.
    vms_by_team: HashMap<PrincipalName, BTreeSet<VmId>>,
    /// Accounts by user.
    accounts: BTreeMap<PrincipalName, Account>,
    /// Users by lowercase email.
    accounts_by_email: HashMap<String, PrincipalName>,
    /// Users by lowercase username.
    accounts_by_username: HashMap<String, PrincipalName>,
    /// Users by policy.
    accounts_by_policy: HashMap<PolicyName, BTreeSet<PrincipalName>>,
    /// Keypairs by access key.
    keypairs: BTreeMap<AccessKey, Keypair>,
    /// Access keys by user.
    keypairs_by_user: HashMap<PrincipalName, BTreeSet<AccessKey>>,
    /// Access keys by policy.
    keypairs_by_policy: HashMap<PolicyName, BTreeSet<AccessKey>>,
    /// Resource policies by name.
    policies: BTreeMap<PolicyName, ResourcePolicy>,
    /// Sessions by id.
    sessions: BTreeMap<SessionId, Session>,
    /// Session ids by user.
    sessions_by_user: HashMap<PrincipalName, BTreeSet<SessionId>>,
    /// Group attributes by group.
    groups: BTreeMap<PrincipalName, GroupInfo>,
}

// ---------------------------------------------------------------------------------------
// Lookups. They mirror `ReadView` one for one; the store's view types forward to them.
// ---------------------------------------------------------------------------------------

impl State {
    pub(crate) fn revision(&self) -> Result<Revision> {
        Ok(self.revision)
    }

    pub(crate) fn cluster(&self) -> Result<Option<ClusterName>> {
        Ok(self.cluster.clone())
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub(crate) fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        Ok(self.index.principal(name.as_str()).cloned())
    }

    pub(crate) fn principals(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<PrincipalRecord>> {
        Ok(self.index.principals(after, limit))
    }

    pub(crate) fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph> {
        Ok(RoleGraph::from_pairs(
            start,
            self.index.reachable_roles(start.as_str()),
        ))
    }

    pub(crate) fn members_of(
        &self,
        roles: &[PrincipalName],
    ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        Ok(self.index.members_of(roles))
    }

    pub(crate) fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
        Ok(self.index.grants_at(holders, uris))
    }

    pub(crate) fn grant_below(
        &self,
        holders: &[PrincipalName],
        uri: &Uri,
    ) -> Result<Option<Grant>> {
        Ok(self.index.grant_below(holders, uri))
    }

    pub(crate) fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        Ok(self.index.grants_of(holder, within, after, limit))
    }

    pub(crate) fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        Ok(self.index.grants_within(within, after, limit))
    }

    pub(crate) fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
        Ok(self.index.fences_at(uris))
    }

    pub(crate) fn fences(
        &self,
        within: Option<&Uri>,
        after: Option<&Fence>,
        limit: usize,
    ) -> Result<Vec<Fence>> {
        Ok(self.index.fences(within, after, limit))
    }

    pub(crate) fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>> {
        self.changelog.changes(after, actor, limit)
    }
}

// ---------------------------------------------------------------------------------------
// Mutators. Each is infallible, changes both copies of a row, and returns what was there
// before so the caller can record the inverse.
// ---------------------------------------------------------------------------------------

impl State {
    /// Sets (or clears) the cluster name; returns the previous one.
    pub(crate) fn set_cluster(&mut self, cluster: Option<ClusterName>) -> Option<ClusterName> {
        std::mem::replace(&mut self.cluster, cluster)
    }

    /// Whether a principal of that name exists.
    pub(crate) fn has_principal(&self, name: &PrincipalName) -> bool {
        self.index.principal(name.as_str()).is_some()
    }

    /// Inserts or replaces a principal; returns the previous record.
    pub(crate) fn put_principal(
        &mut self,
        record: PrincipalRecord,
    ) -> Result<Option<PrincipalRecord>> {
        self.index.put_principal(record)
    }

    /// Removes a principal nothing refers to; returns its record.
    pub(crate) fn remove_principal(
        &mut self,
        name: &PrincipalName,
    ) -> Result<Option<PrincipalRecord>> {
        self.index.remove_principal(name.as_str())
    }

    /// What still refers to `name` (grants it holds, edges at either end, fences of it as
    /// group), if anything.
    pub(crate) fn references_to(&self, name: &PrincipalName) -> Option<&'static str> {
        if let Some(rows) = self.index.references(name.as_str()) {
            Some(rows)
        } else if self.folders_by_owner.contains_key(name) || self.shares_by_user.contains_key(name)
        {
            Some("folders or shares")
        } else if self.invitations_by_invitee.contains_key(name)
            || self.invitations_by_inviter.contains_key(name)
        {
            Some("invitations")
        } else if self.accounts.contains_key(name)
            || self.keypairs_by_user.contains_key(name)
            || self.sessions_by_user.contains_key(name)
            || self.groups.contains_key(name)
        {
            Some("an account, keypairs, sessions or group attributes")
        } else if self.vms_by_team.contains_key(name) || self.vms.values().any(|v| &v.owner == name)
        {
            Some("vms")
        } else {
            None
        }
    }

    /// Sets the level of `holder` on `uri`, or removes the grant when `level` is `None`;
    /// returns the previous level.
    pub(crate) fn set_grant(
        &mut self,
        holder: &PrincipalName,
        uri: &Uri,
        level: Option<Level>,
    ) -> Result<Option<Level>> {
        self.index.set_grant(holder, uri, level)
    }

    /// Adds (`present`) or removes an edge; returns whether it was there before.
    pub(crate) fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        self.index.set_edge(edge, present)
    }

    /// Adds (`present`) or removes a fence; returns whether it was there before.
    pub(crate) fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        self.index.set_fence(fence, present)
    }

    /// Keeps the row keys commit `revision` noted, forgetting the oldest notes beyond
    /// [`NOTES_KEPT`].
    pub(crate) fn note(&mut self, revision: Revision, mut keys: Vec<RowKey>) {
        keys.sort_unstable();
        keys.dedup();
        self.notes.extend(keys.into_iter().map(|k| (revision, k)));
        while self.notes.len() > NOTES_KEPT {
            if let Some((forgotten, _)) = self.notes.pop_front() {
                self.notes_from = self.notes_from.max(forgotten);
            }
        }
    }

    /// The row keys noted by the commits after `after`, or `None` if some are forgotten.
    pub(crate) fn changed_rows(&self, after: Revision) -> Option<Vec<RowKey>> {
        if after < self.notes_from {
            return None;
        }
        Some(
            self.notes
                .iter()
                .rev()
                .take_while(|(revision, _)| *revision > after)
                .map(|(_, key)| key.clone())
                .collect(),
        )
    }

    /// Appends `change` at the next revision and moves to it. Fails, changing nothing,
    /// only when the changelog is full.
    pub(crate) fn append_change(&mut self, change: Change) -> Result<Revision> {
        let revision = self.changelog.append(change)?;
        self.revision = revision;
        Ok(revision)
    }

    /// Appends `history`, entry by entry, all or none; the caller checked its revisions
    /// follow the store's ([`acl_core::check_history`]). What both a restore
    /// (`WriteTxn::commit_history`) and a replica batch commit with.
    pub(crate) fn append_history(&mut self, history: &[ChangeEntry]) -> Result<Revision> {
        let mark = self.changes_mark();
        for entry in history {
            if let Err(err) = self.append_change(entry.change.clone()) {
                self.truncate_changes(mark);
                return Err(err);
            }
        }
        Ok(self.revision)
    }

    /// Where the changelog ends now: what [`State::truncate_changes`] goes back to.
    pub(crate) fn changes_mark(&self) -> (Revision, ChangelogMark) {
        (self.revision, self.changelog.mark())
    }

    /// Forgets the entries appended since `mark` was taken, and their revisions.
    pub(crate) fn truncate_changes(&mut self, (revision, mark): (Revision, ChangelogMark)) {
        self.changelog.truncate(mark);
        self.revision = revision;
    }
}

impl State {
    pub(crate) fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
        Ok(self.folders.get(id).cloned())
    }

    pub(crate) fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
        Ok(self
            .folders_by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.folders.get(id).cloned())
            .collect())
    }

    pub(crate) fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
        Ok(self
            .shares_by_folder
            .get(folder)
            .into_iter()
            .flatten()
            .map(|(user, &permission)| Share {
                folder: folder.clone(),
                user: user.clone(),
                permission,
            })
            .collect())
    }

    pub(crate) fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
        Ok(self
            .shares_by_user
            .get(user)
            .into_iter()
            .flatten()
            .map(|(folder, &permission)| Share {
                folder: folder.clone(),
                user: user.clone(),
                permission,
            })
            .collect())
    }

    pub(crate) fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
        Ok(self.invitations.get(id).cloned())
    }

    pub(crate) fn invitations_by(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
        let ids = match key {
            InvitationKey::Invitee(user) => self.invitations_by_invitee.get(user),
            InvitationKey::Inviter(user) => self.invitations_by_inviter.get(user),
            InvitationKey::Folder(folder) => self.invitations_by_folder.get(folder),
        };
        Ok(ids
            .into_iter()
            .flatten()
            .filter_map(|id| self.invitations.get(id).cloned())
            .collect())
    }

    pub(crate) fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
        Ok(self.vms.get(id).cloned())
    }

    pub(crate) fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
        Ok(self
            .vms_by_team
            .get(team)
            .into_iter()
            .flatten()
            .filter_map(|id| self.vms.get(id).cloned())
            .collect())
    }

    /// Whether a folder with that id exists.
    pub(crate) fn has_folder(&self, id: &FolderId) -> bool {
        self.folders.contains_key(id)
    }

    /// Sets (or, with `None`, removes) the folder `id`, keeping the owner index in step;
    /// returns the previous row.
    pub(crate) fn set_folder(&mut self, id: &FolderId, folder: Option<Folder>) -> Option<Folder> {
        let before = match folder {
            Some(folder) => {
                set_insert(&mut self.folders_by_owner, &folder.owner, id);
                self.folders.insert(id.clone(), folder)
            }
            None => self.folders.remove(id),
        };
        if let Some(old) = &before {
            let kept = self.folders.get(id).is_some_and(|f| f.owner == old.owner);
            if !kept {
                set_remove(&mut self.folders_by_owner, &old.owner, id);
            }
        }
        before
    }

    /// Sets (or removes) the share of `user` on `folder`; returns the previous permission.
    pub(crate) fn set_share(
        &mut self,
        folder: &FolderId,
        user: &PrincipalName,
        permission: Option<Permission>,
    ) -> Option<Permission> {
        match permission {
            Some(permission) => {
                nested_insert(&mut self.shares_by_folder, folder, user, permission);
                nested_insert(&mut self.shares_by_user, user, folder, permission)
            }
            None => {
                nested_remove(&mut self.shares_by_folder, folder, user);
                nested_remove(&mut self.shares_by_user, user, folder)
            }
        }
    }

    /// Sets (or removes) the invitation `id`, keeping its three indexes in step; returns
    /// the previous row.
    pub(crate) fn set_invitation(
        &mut self,
        id: &InvitationId,
        invitation: Option<Invitation>,
    ) -> Option<Invitation> {
        let before = self.invitations.remove(id);
        if let Some(old) = &before {
            set_remove(&mut self.invitations_by_invitee, &old.invitee, id);
            set_remove(&mut self.invitations_by_inviter, &old.inviter, id);
            set_remove(&mut self.invitations_by_folder, &old.folder, id);
        }
        if let Some(new) = invitation {
            set_insert(&mut self.invitations_by_invitee, &new.invitee, id);
            set_insert(&mut self.invitations_by_inviter, &new.inviter, id);
            set_insert(&mut self.invitations_by_folder, &new.folder, id);
            self.invitations.insert(id.clone(), new);
        }
        before
    }

    /// Sets (or removes) the VM `id`, keeping the team index in step; returns the previous
    /// row.
    pub(crate) fn set_vm(&mut self, id: &VmId, vm: Option<Vm>) -> Option<Vm> {
        let before = self.vms.remove(id);
        if let Some(old) = &before {
            set_remove(&mut self.vms_by_team, &old.team, id);
        }
        if let Some(new) = vm {
            set_insert(&mut self.vms_by_team, &new.team, id);
            self.vms.insert(id.clone(), new);
        }
        before
    }
}

// ---------------------------------------------------------------------------------------
// Accounts, keypairs, policies, sessions and group attributes (rules A1 to A6).
// ---------------------------------------------------------------------------------------

/// The keys after `after` (exclusive) of an ordered map, at most `limit` values.
fn page_of<K: Ord, V: Clone>(map: &BTreeMap<K, V>, after: Option<&K>, limit: usize) -> Vec<V> {
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((lower, Bound::Unbounded))
        .take(limit)
        .map(|(_, v)| v.clone())
        .collect()
}

impl State {
    pub(crate) fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
        Ok(self.accounts.get(user).cloned())
    }

    pub(crate) fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
        let user = match key {
            AccountKey::Email(email) => self.accounts_by_email.get(email),
            AccountKey::Username(name) => self.accounts_by_username.get(name),
        };
        Ok(user.and_then(|u| self.accounts.get(u)).cloned())
    }

    pub(crate) fn accounts(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<Account>> {
        Ok(page_of(&self.accounts, after, limit))
    }

    pub(crate) fn accounts_of_policy(
        &self,
        policy: &PolicyName,
        limit: usize,
    ) -> Result<Vec<PrincipalName>> {
        Ok(self
            .accounts_by_policy
            .get(policy)
            .into_iter()
            .flatten()
            .take(limit)
            .cloned()
            .collect())
    }

    pub(crate) fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
        Ok(self.keypairs.get(key).cloned())
    }

    pub(crate) fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
        Ok(self
            .keypairs_by_user
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|k| self.keypairs.get(k).cloned())
            .collect())
    }

    pub(crate) fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
        Ok(page_of(&self.keypairs, after, limit))
    }

    pub(crate) fn keypairs_of_policy(
        &self,
        policy: &PolicyName,
        limit: usize,
    ) -> Result<Vec<AccessKey>> {
        Ok(self
            .keypairs_by_policy
            .get(policy)
            .into_iter()
            .flatten()
            .take(limit)
            .cloned()
            .collect())
    }

    pub(crate) fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
        Ok(self.policies.get(name).cloned())
    }

    pub(crate) fn policies(&self) -> Result<Vec<ResourcePolicy>> {
        Ok(self.policies.values().cloned().collect())
    }

    pub(crate) fn session(&self, id: &SessionId) -> Result<Option<Session>> {
        Ok(self.sessions.get(id).cloned())
    }

    pub(crate) fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
        Ok(self
            .sessions_by_user
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.sessions.get(id).cloned())
            .collect())
    }

    pub(crate) fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
        Ok(page_of(&self.sessions, after, limit))
    }

    pub(crate) fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
        Ok(self.groups.get(name).cloned())
    }

    /// Whether a policy of that name exists.
    pub(crate) fn has_policy(&self, name: &PolicyName) -> bool {
        self.policies.contains_key(name)
    }

    /// Whether any account or keypair uses policy `name`.
    pub(crate) fn policy_in_use(&self, name: &PolicyName) -> bool {
        self.accounts_by_policy.contains_key(name) || self.keypairs_by_policy.contains_key(name)
    }

    /// Sets (or removes) the account of `user`, keeping its three indexes in step; returns
    /// the previous row.
    pub(crate) fn set_account(
        &mut self,
        user: &PrincipalName,
        account: Option<Account>,
    ) -> Option<Account> {
        let before = self.accounts.remove(user);
        if let Some(old) = &before {
            self.accounts_by_email.remove(&old.email.key());
            self.accounts_by_username.remove(&old.username_key());
            set_remove(&mut self.accounts_by_policy, &old.policy, user);
        }
        if let Some(new) = account {
            self.accounts_by_email.insert(new.email.key(), user.clone());
            self.accounts_by_username
                .insert(new.username_key(), user.clone());
            set_insert(&mut self.accounts_by_policy, &new.policy, user);
            self.accounts.insert(user.clone(), new);
        }
        before
    }

    /// Sets (or removes) the keypair `key`, keeping its indexes in step; returns the
    /// previous row.
    pub(crate) fn set_keypair(
        &mut self,
        key: &AccessKey,
        keypair: Option<Keypair>,
    ) -> Option<Keypair> {
        let before = self.keypairs.remove(key);
        if let Some(old) = &before {
            set_remove(&mut self.keypairs_by_user, &old.user, key);
            set_remove(&mut self.keypairs_by_policy, &old.policy, key);
        }
        if let Some(new) = keypair {
            set_insert(&mut self.keypairs_by_user, &new.user, key);
            set_insert(&mut self.keypairs_by_policy, &new.policy, key);
            self.keypairs.insert(key.clone(), new);
        }
        before
    }

    /// Sets (or removes) the policy `name`; returns the previous row.
    pub(crate) fn set_policy(
        &mut self,
        name: &PolicyName,
        policy: Option<ResourcePolicy>,
    ) -> Option<ResourcePolicy> {
        match policy {
            Some(policy) => self.policies.insert(name.clone(), policy),
            None => self.policies.remove(name),
        }
    }

    /// Sets (or removes) the session `id`, keeping the user index in step; returns the
    /// previous row.
    pub(crate) fn set_session(
        &mut self,
        id: &SessionId,
        session: Option<Session>,
    ) -> Option<Session> {
        let before = self.sessions.remove(id);
        if let Some(old) = &before {
            set_remove(&mut self.sessions_by_user, &old.user, id);
        }
        if let Some(new) = session {
            set_insert(&mut self.sessions_by_user, &new.user, id);
            self.sessions.insert(id.clone(), new);
        }
        before
    }

    /// Sets (or removes) the attributes of group `name`; returns the previous row.
    pub(crate) fn set_group_info(
        &mut self,
        name: &PrincipalName,
        info: Option<GroupInfo>,
    ) -> Option<GroupInfo> {
        match info {
            Some(info) => self.groups.insert(name.clone(), info),
            None => self.groups.remove(name),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------

/// A map that can hold inner collections under a key: `HashMap` or `BTreeMap`.
trait Outer<K, V> {
    fn slot(&mut self, key: &K) -> Option<&mut V>;
    fn put(&mut self, key: K, value: V);
    fn take(&mut self, key: &K);
}

impl<K: Hash + Eq, V, H: BuildHasher> Outer<K, V> for std::collections::HashMap<K, V, H> {
    fn slot(&mut self, key: &K) -> Option<&mut V> {
        self.get_mut(key)
    }
    fn put(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn take(&mut self, key: &K) {
        self.remove(key);
    }
}

impl<K: Ord, V> Outer<K, V> for BTreeMap<K, V> {
    fn slot(&mut self, key: &K) -> Option<&mut V> {
        self.get_mut(key)
    }
    fn put(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn take(&mut self, key: &K) {
        self.remove(key);
    }
}

/// Sets `outer[key][inner] = value`; returns the previous value.
fn nested_insert<K: Clone, I: Ord + Clone, V>(
    outer: &mut impl Outer<K, BTreeMap<I, V>>,
    key: &K,
    inner: &I,
    value: V,
) -> Option<V> {
    if let Some(map) = outer.slot(key) {
        return map.insert(inner.clone(), value);
    }
    outer.put(key.clone(), BTreeMap::from([(inner.clone(), value)]));
    None
}

/// Removes `outer[key][inner]`, and `outer[key]` if that empties it; returns the value.
fn nested_remove<K, I: Ord, V>(
    outer: &mut impl Outer<K, BTreeMap<I, V>>,
    key: &K,
    inner: &I,
) -> Option<V> {
    let map = outer.slot(key)?;
    let before = map.remove(inner);
    if map.is_empty() {
        outer.take(key);
    }
    before
}

/// Adds `item` to the set `outer[key]`; returns whether it was new.
fn set_insert<K: Clone, I: Ord + Clone>(
    outer: &mut impl Outer<K, BTreeSet<I>>,
    key: &K,
    item: &I,
) -> bool {
    if let Some(set) = outer.slot(key) {
        return set.insert(item.clone());
    }
    outer.put(key.clone(), BTreeSet::from([item.clone()]));
    true
}

/// Removes `item` from the set `outer[key]`, and the set if that empties it; returns
/// whether it was there.
fn set_remove<K, I: Ord>(outer: &mut impl Outer<K, BTreeSet<I>>, key: &K, item: &I) -> bool {
    let Some(set) = outer.slot(key) else {
        return false;
    };
    let was = set.remove(item);
    if set.is_empty() {
        outer.take(key);
    }
    was
}
