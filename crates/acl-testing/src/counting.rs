//! A store wrapper that counts what reads touch, to show that resolution never scans every
//! grant (rule E7).

use std::sync::atomic::{AtomicUsize, Ordering};

use acl_core::Result;
use acl_core::Uri;
use acl_core::{ChangeEntry, Fence, Grant, PrincipalRecord, Revision, RoleGraph, RowKey};
use acl_core::{ClusterName, PrincipalName};
use acl_core::{ReadView, Store};
use acl_platform::PlatformView;
use acl_platform::{AccessKey, Account, AccountKey, GroupInfo, Keypair};
use acl_platform::{Folder, FolderId, Invitation, InvitationId, InvitationKey, Share, Vm, VmId};
use acl_platform::{PolicyName, ResourcePolicy, Session, SessionId};

/// Wraps a store; every read view it hands out counts the store calls made and the rows
/// they returned. Writes go to the inner store unchanged.
///
/// It forwards every method of the contract, the index included, so a test through it
/// takes the paths the wrapped backend takes: on a store that keeps an index, checks read
/// it and make no counted call.
#[derive(Debug, Default)]
pub struct CountingStore<S> {
    inner: S,
    calls: AtomicUsize,
    rows: AtomicUsize,
}

/// What the read views of a [`CountingStore`] have touched since the last reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touched {
    /// Store calls made.
    pub calls: usize,
    /// Rows (grants, edges, fences, principals, entries) returned.
    pub rows: usize,
}

impl<S> CountingStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> CountingStore<S> {
        CountingStore {
            inner,
            calls: AtomicUsize::new(0),
            rows: AtomicUsize::new(0),
        }
    }

    /// What was touched since the last reset; resets the counts.
    pub fn take(&self) -> Touched {
        Touched {
            calls: self.calls.swap(0, Ordering::SeqCst),
            rows: self.rows.swap(0, Ordering::SeqCst),
        }
    }
}

/// A read view of a [`CountingStore`].
#[derive(Debug)]
pub struct CountingView<'a, V> {
    inner: V,
    calls: &'a AtomicUsize,
    rows: &'a AtomicUsize,
}

impl<V> CountingView<'_, V> {
    fn count<T>(&self, rows: Result<Vec<T>>) -> Result<Vec<T>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(rows) = &rows {
            self.rows.fetch_add(rows.len(), Ordering::SeqCst);
        }
        rows
    }

    fn count_one<T>(&self, row: Result<Option<T>>) -> Result<Option<T>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(Some(_)) = &row {
            self.rows.fetch_add(1, Ordering::SeqCst);
        }
        row
    }
}

impl<S: Store> Store for CountingStore<S> {
    type Read<'a>
        = CountingView<'a, S::Read<'a>>
    where
        Self: 'a;
    type Write<'a>
        = S::Write<'a>
    where
        Self: 'a;

    fn read(&self) -> Result<Self::Read<'_>> {
        Ok(CountingView {
            inner: self.inner.read()?,
            calls: &self.calls,
            rows: &self.rows,
        })
    }

    fn write(&self) -> Result<Self::Write<'_>> {
        self.inner.write()
    }
}

impl<V: ReadView> ReadView for CountingView<'_, V> {
    fn revision(&self) -> Result<Revision> {
        self.inner.revision()
    }

    fn cluster(&self) -> Result<Option<ClusterName>> {
        self.inner.cluster()
    }

    fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        self.count_one(self.inner.principal(name))
    }

    fn principals(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<PrincipalRecord>> {
        self.count(self.inner.principals(after, limit))
    }

    fn members_of(&self, roles: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        self.count(self.inner.members_of(roles))
    }

    fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
        self.count(self.inner.grants_at(holders, uris))
    }

    fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
        self.count(self.inner.grants_on_pairs(pairs))
    }

    fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>> {
        self.count_one(self.inner.grant_below(holders, uri))
    }

    fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        self.count(self.inner.grants_of(holder, within, after, limit))
    }

    fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        self.count(self.inner.grants_within(within, after, limit))
    }

    fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
        self.count(self.inner.fences_at(uris))
    }

    fn fences(
        &self,
        within: Option<&Uri>,
        after: Option<&Fence>,
        limit: usize,
    ) -> Result<Vec<Fence>> {
        self.count(self.inner.fences(within, after, limit))
    }

    fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>> {
        self.count(self.inner.changes(after, actor, limit))
    }

    fn index(&self) -> Option<&acl_core::Index> {
        self.inner.index()
    }

    fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>> {
        let notes = self.inner.changed_rows(after);
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(Some(keys)) = &notes {
            self.rows.fetch_add(keys.len(), Ordering::SeqCst);
        }
        notes
    }

    fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph> {
        let graph = self.inner.reachable_graph(start);
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(graph) = &graph {
            self.rows.fetch_add(graph.edges.len(), Ordering::SeqCst);
        }
        graph
    }
}

impl<V: PlatformView> PlatformView for CountingView<'_, V> {
    fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
        self.count_one(self.inner.folder(id))
    }

    fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
        self.count(self.inner.folders_of(owner))
    }

    fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
        self.count(self.inner.shares_of_folder(folder))
    }

    fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
        self.count(self.inner.shares_of_user(user))
    }

    fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
        self.count_one(self.inner.invitation(id))
    }

    fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
        self.count(self.inner.invitations(key))
    }

    fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
        self.count_one(self.inner.vm(id))
    }

    fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
        self.count(self.inner.vms_of(team))
    }

    fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
        self.count_one(self.inner.account(user))
    }

    fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
        self.count_one(self.inner.account_by(key))
    }

    fn accounts(&self, after: Option<&PrincipalName>, limit: usize) -> Result<Vec<Account>> {
        self.count(self.inner.accounts(after, limit))
    }

    fn accounts_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<PrincipalName>> {
        self.count(self.inner.accounts_of_policy(policy, limit))
    }

    fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
        self.count_one(self.inner.keypair(key))
    }

    fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
        self.count(self.inner.keypairs_of(user))
    }

    fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
        self.count(self.inner.keypairs(after, limit))
    }

    fn keypairs_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<AccessKey>> {
        self.count(self.inner.keypairs_of_policy(policy, limit))
    }

    fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
        self.count_one(self.inner.policy(name))
    }

    fn policies(&self) -> Result<Vec<ResourcePolicy>> {
        self.count(self.inner.policies())
    }

    fn session(&self, id: &SessionId) -> Result<Option<Session>> {
        self.count_one(self.inner.session(id))
    }

    fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
        self.count(self.inner.sessions_of(user))
    }

    fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
        self.count(self.inner.sessions(after, limit))
    }

    fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
        self.count_one(self.inner.group_info(name))
    }
}
