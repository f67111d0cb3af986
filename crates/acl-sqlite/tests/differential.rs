//! Differential tests against acl-memory: the same writes applied to a [`SqliteStore`] and
//! a [`MemoryStore`] must give identical answers to every [`ReadView`] query.
//!
//! Two drivers share one comparing wrapper, [`Twin`], a Store that forwards every call to
//! both stores and panics on the first answer that differs:
//!
//! - the acl-core conformance suite, run over a [`Twin`], compares the stores under the
//!   real engine's workloads;
//! - a proptest applies random sequences of raw store writes (committed or rolled back) to
//!   a [`Twin`] and asks every query, with random arguments, after each transaction.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use acl_core::{ReadViewExt, WriteTxnExt};
use std::fmt::Debug;

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Fence, Grant, Level, PrincipalKind, PrincipalName,
    PrincipalRecord, ReadView, Result, Revision, RoleGraph, RowKey, Store, Timestamp, Uri,
    WriteTxn,
};
use acl_memory::MemoryStore;
use acl_platform::{
    AccessKey, Account, AccountKey, GroupInfo, Keypair, PolicyName, ResourcePolicy, Session,
    SessionId,
};
use acl_platform::{
    Folder, FolderId, Invitation, InvitationId, InvitationKey, PlatformTxn, PlatformView, Share,
    Vm, VmId,
};
use acl_sqlite::SqliteStore;
use proptest::prelude::*;

/// A SQLite store and a memory store side by side.
struct Twin {
    sqlite: SqliteStore,
    memory: MemoryStore,
}

impl Twin {
    fn new() -> Twin {
        Twin {
            sqlite: SqliteStore::open_in_memory().unwrap(),
            memory: MemoryStore::new(),
        }
    }
}

/// The same view or transaction on both stores.
struct Pair<A, B> {
    sqlite: A,
    memory: B,
}

/// Compares two answers (errors by kind: the messages are the backends' own).
fn same<T: PartialEq + Debug>(what: &str, sqlite: Result<T>, memory: Result<T>) -> Result<T> {
    match (sqlite, memory) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{what}: sqlite (left) and memory (right) differ");
            Ok(a)
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.kind(), b.kind(), "{what}: sqlite {a} vs memory {b}");
            Err(a)
        }
        (a, b) => panic!("{what}: sqlite {a:?} vs memory {b:?}"),
    }
}

/// Sorts the rows of an "any order" answer.
fn sorted<T, K: Ord>(rows: Result<Vec<T>>, key: impl Fn(&T) -> K) -> Result<Vec<T>> {
    rows.map(|mut rows| {
        rows.sort_by_key(|row| key(row));
        rows
    })
}

fn grant_key(g: &Grant) -> (String, String) {
    (g.uri.to_string(), g.holder.to_string())
}

fn pair_key(p: &(PrincipalName, PrincipalRecord)) -> (PrincipalName, PrincipalName) {
    (p.0.clone(), p.1.name.clone())
}

impl Store for Twin {
    type Read<'a> = Pair<<SqliteStore as Store>::Read<'a>, <MemoryStore as Store>::Read<'a>>;
    type Write<'a> = Pair<<SqliteStore as Store>::Write<'a>, <MemoryStore as Store>::Write<'a>>;

    fn read(&self) -> Result<Self::Read<'_>> {
        Ok(Pair {
            sqlite: self.sqlite.read()?,
            memory: self.memory.read()?,
        })
    }

    fn write(&self) -> Result<Self::Write<'_>> {
        Ok(Pair {
            sqlite: self.sqlite.write()?,
            memory: self.memory.write()?,
        })
    }
}

impl<A: ReadView, B: ReadView> ReadView for Pair<A, B> {
    fn revision(&self) -> Result<Revision> {
        same("revision", self.sqlite.revision(), self.memory.revision())
    }

    fn cluster(&self) -> Result<Option<ClusterName>> {
        same("cluster", self.sqlite.cluster(), self.memory.cluster())
    }

    fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        same(
            &format!("principal({name})"),
            self.sqlite.principal(name),
            self.memory.principal(name),
        )
    }

    /// None: every check goes through the compared lookups.
    fn index(&self) -> Option<&acl_core::Index> {
        None
    }

    /// Every row the memory store noted (it notes exactly the rows a write changed) is
    /// noted by SQLite too, which may note more (rule D3: each changed row at least once);
    /// a store that forgot the notes (`None`) is allowed to, and then the pair has none.
    fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>> {
        let sqlite = self.sqlite.changed_rows(after)?;
        let memory = self.memory.changed_rows(after)?;
        match (sqlite, memory) {
            (Some(sqlite), Some(memory)) => {
                let noted: std::collections::HashSet<&RowKey> = sqlite.iter().collect();
                if let Some(missed) = memory.iter().find(|key| !noted.contains(key)) {
                    return Err(acl_core::Error::storage(format!(
                        "changed_rows({after:?}): sqlite did not note {missed:?}"
                    )));
                }
                Ok(Some(sqlite))
            }
            _ => Ok(None),
        }
    }

    fn principals(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<PrincipalRecord>> {
        same(
            &format!("principals({after:?}, {limit})"),
            self.sqlite.principals(after, limit),
            self.memory.principals(after, limit),
        )
    }

    fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph> {
        // Node numbers are each backend's own: compare the records and the named edges.
        let named = |graph: &Result<RoleGraph>| {
            graph.as_ref().map_err(|e| e.kind()).map(|g| {
                let name = |node: usize| match node {
                    0 => start.clone(),
                    _ => g.roles[node - 1].name.clone(),
                };
                let mut roles = g.roles.clone();
                roles.sort_by(|a, b| a.name.cmp(&b.name));
                let mut edges: Vec<_> = g.edges.iter().map(|&(m, r)| (name(m), name(r))).collect();
                edges.sort();
                (roles, edges)
            })
        };
        let (sqlite, memory) = (
            self.sqlite.reachable_graph(start),
            self.memory.reachable_graph(start),
        );
        assert_eq!(
            named(&sqlite),
            named(&memory),
            "reachable_graph({start}): sqlite (left) and memory (right) differ"
        );
        sqlite
    }

    fn members_of(&self, roles: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        same(
            &format!("members_of({roles:?})"),
            sorted(self.sqlite.members_of(roles), pair_key),
            sorted(self.memory.members_of(roles), pair_key),
        )
    }

    fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
        same(
            &format!("grants_at({holders:?}, {uris:?})"),
            sorted(self.sqlite.grants_at(holders, uris), grant_key),
            sorted(self.memory.grants_at(holders, uris), grant_key),
        )
    }

    fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
        same(
            &format!("grants_on_pairs({pairs:?})"),
            sorted(self.sqlite.grants_on_pairs(pairs), grant_key),
            sorted(self.memory.grants_on_pairs(pairs), grant_key),
        )
    }

    fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>> {
        same(
            &format!("grant_below({holders:?}, {uri})"),
            self.sqlite.grant_below(holders, uri),
            self.memory.grant_below(holders, uri),
        )
    }

    fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        same(
            &format!("grants_of({holder}, {within:?}, {after:?}, {limit})"),
            self.sqlite.grants_of(holder, within, after, limit),
            self.memory.grants_of(holder, within, after, limit),
        )
    }

    fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Result<Vec<Grant>> {
        same(
            &format!("grants_within({within}, {after:?}, {limit})"),
            self.sqlite.grants_within(within, after, limit),
            self.memory.grants_within(within, after, limit),
        )
    }

    fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
        same(
            &format!("fences_at({uris:?})"),
            sorted(self.sqlite.fences_at(uris), Clone::clone),
            sorted(self.memory.fences_at(uris), Clone::clone),
        )
    }

    fn fences(
        &self,
        within: Option<&Uri>,
        after: Option<&Fence>,
        limit: usize,
    ) -> Result<Vec<Fence>> {
        same(
            &format!("fences({within:?}, {after:?}, {limit})"),
            self.sqlite.fences(within, after, limit),
            self.memory.fences(within, after, limit),
        )
    }

    fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>> {
        same(
            &format!("changes({after}, {actor:?}, {limit})"),
            self.sqlite.changes(after, actor, limit),
            self.memory.changes(after, actor, limit),
        )
    }
}

impl<A: PlatformView, B: PlatformView> PlatformView for Pair<A, B> {
    fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
        same(
            &format!("folder({id:?})"),
            self.sqlite.folder(id),
            self.memory.folder(id),
        )
    }

    fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
        same(
            &format!("folders_of({owner:?})"),
            self.sqlite.folders_of(owner),
            self.memory.folders_of(owner),
        )
    }

    fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
        same(
            &format!("shares_of_folder({folder:?})"),
            self.sqlite.shares_of_folder(folder),
            self.memory.shares_of_folder(folder),
        )
    }

    fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
        same(
            &format!("shares_of_user({user:?})"),
            self.sqlite.shares_of_user(user),
            self.memory.shares_of_user(user),
        )
    }

    fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
        same(
            &format!("invitation({id:?})"),
            self.sqlite.invitation(id),
            self.memory.invitation(id),
        )
    }

    fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
        same(
            &format!("invitations({key:?})"),
            self.sqlite.invitations(key),
            self.memory.invitations(key),
        )
    }

    fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
        same(
            &format!("vm({id:?})"),
            self.sqlite.vm(id),
            self.memory.vm(id),
        )
    }

    fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
        same(
            &format!("vms_of({team:?})"),
            self.sqlite.vms_of(team),
            self.memory.vms_of(team),
        )
    }

    fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
        same(
            &format!("account({user:?})"),
            self.sqlite.account(user),
            self.memory.account(user),
        )
    }

    fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
        same(
            &format!("account_by({key:?})"),
            self.sqlite.account_by(key),
            self.memory.account_by(key),
        )
    }

    fn accounts(&self, after: Option<&PrincipalName>, limit: usize) -> Result<Vec<Account>> {
        same(
            &format!("accounts({after:?}, {limit:?})"),
            self.sqlite.accounts(after, limit),
            self.memory.accounts(after, limit),
        )
    }

    fn accounts_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<PrincipalName>> {
        same(
            &format!("accounts_of_policy({policy:?}, {limit:?})"),
            self.sqlite.accounts_of_policy(policy, limit),
            self.memory.accounts_of_policy(policy, limit),
        )
    }

    fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
        same(
            &format!("keypair({key:?})"),
            self.sqlite.keypair(key),
            self.memory.keypair(key),
        )
    }

    fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
        same(
            &format!("keypairs_of({user:?})"),
            self.sqlite.keypairs_of(user),
            self.memory.keypairs_of(user),
        )
    }

    fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
        same(
            &format!("keypairs({after:?}, {limit:?})"),
            self.sqlite.keypairs(after, limit),
            self.memory.keypairs(after, limit),
        )
    }

    fn keypairs_of_policy(&self, policy: &PolicyName, limit: usize) -> Result<Vec<AccessKey>> {
        same(
            &format!("keypairs_of_policy({policy:?}, {limit:?})"),
            self.sqlite.keypairs_of_policy(policy, limit),
            self.memory.keypairs_of_policy(policy, limit),
        )
    }

    fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
        same(
            &format!("policy({name:?})"),
            self.sqlite.policy(name),
            self.memory.policy(name),
        )
    }

    fn policies(&self) -> Result<Vec<ResourcePolicy>> {
        same("policies", self.sqlite.policies(), self.memory.policies())
    }

    fn session(&self, id: &SessionId) -> Result<Option<Session>> {
        same(
            &format!("session({id:?})"),
            self.sqlite.session(id),
            self.memory.session(id),
        )
    }

    fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
        same(
            &format!("sessions_of({user:?})"),
            self.sqlite.sessions_of(user),
            self.memory.sessions_of(user),
        )
    }

    fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
        same(
            &format!("sessions({after:?}, {limit:?})"),
            self.sqlite.sessions(after, limit),
            self.memory.sessions(after, limit),
        )
    }

    fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
        same(
            &format!("group_info({name:?})"),
            self.sqlite.group_info(name),
            self.memory.group_info(name),
        )
    }
}

impl<A: WriteTxn, B: WriteTxn> WriteTxn for Pair<A, B> {
    fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()> {
        same(
            "set_cluster",
            self.sqlite.set_cluster(cluster),
            self.memory.set_cluster(cluster),
        )
    }

    fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        same(
            &format!("insert_principal({record:?})"),
            self.sqlite.insert_principal(record),
            self.memory.insert_principal(record),
        )
    }

    fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        same(
            &format!("update_principal({record:?})"),
            self.sqlite.update_principal(record),
            self.memory.update_principal(record),
        )
    }

    fn delete_principal(&mut self, name: &PrincipalName) -> Result<()> {
        same(
            &format!("delete_principal({name})"),
            self.sqlite.delete_principal(name),
            self.memory.delete_principal(name),
        )
    }

    fn put_grant(&mut self, grant: &Grant) -> Result<()> {
        same(
            &format!("put_grant({grant:?})"),
            self.sqlite.put_grant(grant),
            self.memory.put_grant(grant),
        )
    }

    fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
        same(
            &format!("delete_grant({holder}, {uri})"),
            self.sqlite.delete_grant(holder, uri),
            self.memory.delete_grant(holder, uri),
        )
    }

    fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        same(
            &format!("set_edge({edge:?}, {present})"),
            self.sqlite.set_edge(edge, present),
            self.memory.set_edge(edge, present),
        )
    }

    fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        same(
            &format!("set_fence({fence:?}, {present})"),
            self.sqlite.set_fence(fence, present),
            self.memory.set_fence(fence, present),
        )
    }

    fn commit(self, change: Change) -> Result<Revision> {
        same(
            "commit",
            self.sqlite.commit(change.clone()),
            self.memory.commit(change),
        )
    }

    fn commit_history(self, history: &[ChangeEntry]) -> Result<Revision> {
        same(
            "commit_history",
            self.sqlite.commit_history(history),
            self.memory.commit_history(history),
        )
    }
}

impl<A: PlatformTxn, B: PlatformTxn> PlatformTxn for Pair<A, B> {
    fn put_folder(&mut self, folder: &Folder) -> Result<()> {
        same(
            &format!("put_folder({folder:?})"),
            self.sqlite.put_folder(folder),
            self.memory.put_folder(folder),
        )
    }

    fn put_share(&mut self, share: &Share) -> Result<()> {
        same(
            &format!("put_share({share:?})"),
            self.sqlite.put_share(share),
            self.memory.put_share(share),
        )
    }

    fn put_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        same(
            &format!("put_invitation({invitation:?})"),
            self.sqlite.put_invitation(invitation),
            self.memory.put_invitation(invitation),
        )
    }

    fn put_vm(&mut self, vm: &Vm) -> Result<()> {
        same(
            &format!("put_vm({vm:?})"),
            self.sqlite.put_vm(vm),
            self.memory.put_vm(vm),
        )
    }

    fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool> {
        same(
            &format!("delete_share({folder}, {user})"),
            self.sqlite.delete_share(folder, user),
            self.memory.delete_share(folder, user),
        )
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        same(
            &format!("put_account({account:?})"),
            self.sqlite.put_account(account),
            self.memory.put_account(account),
        )
    }

    fn put_keypair(&mut self, keypair: &Keypair) -> Result<()> {
        same(
            &format!("put_keypair({keypair:?})"),
            self.sqlite.put_keypair(keypair),
            self.memory.put_keypair(keypair),
        )
    }

    fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()> {
        same(
            &format!("put_policy({policy:?})"),
            self.sqlite.put_policy(policy),
            self.memory.put_policy(policy),
        )
    }

    fn delete_policy(&mut self, name: &PolicyName) -> Result<bool> {
        same(
            &format!("delete_policy({name:?})"),
            self.sqlite.delete_policy(name),
            self.memory.delete_policy(name),
        )
    }

    fn put_session(&mut self, session: &Session) -> Result<()> {
        same(
            &format!("put_session({session:?})"),
            self.sqlite.put_session(session),
            self.memory.put_session(session),
        )
    }

    fn put_group_info(&mut self, info: &GroupInfo) -> Result<()> {
        same(
            &format!("put_group_info({info:?})"),
            self.sqlite.put_group_info(info),
            self.memory.put_group_info(info),
        )
    }

    fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool> {
        same(
            &format!("delete_group_info({name:?})"),
            self.sqlite.delete_group_info(name),
            self.memory.delete_group_info(name),
        )
    }
}

/// The conformance suite over a twin: the engine's real workloads, every answer compared.
mod conformance_twin {
    acl_testing::conformance_tests!(super::Twin::new());
}

// ---- random raw writes ---------------------------------------------------------------

/// A small pool of names and URIs, so random writes collide and queries hit rows. The URIs
/// include the roots, siblings that share a text prefix (`a`, `a-x`, `a.b`, `a/b`), the
/// `role://` form, and non-ASCII segments (byte order, not character order).
const NAMES: &[&str] = &["u", "v", "w", "r/x", "r/x-y", "g"];
const URIS: &[&str] = &[
    "storage://",
    "storage://c",
    "storage://c/a",
    "storage://c/a-x",
    "storage://c/a.b",
    "storage://c/a/b",
    "storage://c/a/b/c",
    "storage://c/a/bb",
    "storage://c/ab",
    "storage://d",
    "job://",
    "job://c/a",
    "role://r/x",
    "role://u",
    "storage://c/é",
    "storage://c/a/ü/x",
    "storage://c/a~",
];

fn name(i: usize) -> PrincipalName {
    PrincipalName::new(NAMES[i % NAMES.len()]).unwrap()
}

fn uri(i: usize) -> Uri {
    Uri::parse(URIS[i % URIS.len()]).unwrap()
}

fn level(i: usize) -> Level {
    Level::ALL[i % Level::ALL.len()]
}

fn kind(i: usize) -> PrincipalKind {
    [
        PrincipalKind::User,
        PrincipalKind::Role,
        PrincipalKind::Group,
    ][i % 3]
}

/// One raw store write; indexes pick from the pools. Writes that break an invariant (a
/// grant for a missing holder, deleting a referenced principal) are generated too: both
/// stores must refuse them alike and stay usable.
#[derive(Debug, Clone)]
enum W {
    SetCluster(bool),
    InsertPrincipal(usize, usize, bool),
    UpdatePrincipal(usize, usize, bool),
    DeletePrincipal(usize),
    PutGrant(usize, usize, usize),
    DeleteGrant(usize, usize),
    InsertEdge(usize, usize),
    DeleteEdge(usize, usize),
    InsertFence(usize, usize),
    DeleteFence(usize, usize),
}

fn write_op() -> impl Strategy<Value = W> {
    let i = || 0..64usize;
    prop_oneof![
        1 => any::<bool>().prop_map(W::SetCluster),
        3 => (i(), i(), any::<bool>()).prop_map(|(a, b, c)| W::InsertPrincipal(a, b, c)),
        1 => (i(), i(), any::<bool>()).prop_map(|(a, b, c)| W::UpdatePrincipal(a, b, c)),
        1 => i().prop_map(W::DeletePrincipal),
        6 => (i(), i(), i()).prop_map(|(a, b, c)| W::PutGrant(a, b, c)),
        2 => (i(), i()).prop_map(|(a, b)| W::DeleteGrant(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| W::InsertEdge(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| W::DeleteEdge(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| W::InsertFence(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| W::DeleteFence(a, b)),
    ]
}

fn apply(txn: &mut impl WriteTxn, op: &W) {
    // Errors are compared inside the twin; the outcome itself is not needed here.
    let _ = match *op {
        W::SetCluster(first) => {
            let cluster = ClusterName::new(if first { "c" } else { "d" }).unwrap();
            txn.set_cluster(&cluster)
        }
        W::InsertPrincipal(n, k, active) => txn.insert_principal(&PrincipalRecord {
            name: name(n),
            kind: kind(k),
            active,
        }),
        W::UpdatePrincipal(n, k, active) => txn.update_principal(&PrincipalRecord {
            name: name(n),
            kind: kind(k),
            active,
        }),
        W::DeletePrincipal(n) => txn.delete_principal(&name(n)),
        W::PutGrant(h, u, l) => txn.put_grant(&Grant {
            holder: name(h),
            uri: uri(u),
            level: level(l),
        }),
        W::DeleteGrant(h, u) => txn.delete_grant(&name(h), &uri(u)).map(drop),
        W::InsertEdge(m, r) => txn.insert_edge(&Edge {
            member: name(m),
            role: name(r),
        }),
        W::DeleteEdge(m, r) => txn
            .delete_edge(&Edge {
                member: name(m),
                role: name(r),
            })
            .map(drop),
        W::InsertFence(u, g) => txn.insert_fence(&Fence {
            uri: uri(u),
            group: name(g),
        }),
        W::DeleteFence(u, g) => txn
            .delete_fence(&Fence {
                uri: uri(u),
                group: name(g),
            })
            .map(drop),
    };
}

/// Asks every query with arguments drawn from the pools (the twin compares the answers).
fn ask_everything(view: &impl ReadView, seed: usize) {
    let all_names: Vec<PrincipalName> = (0..NAMES.len()).map(name).collect();
    let all_uris: Vec<Uri> = (0..URIS.len()).map(uri).collect();
    view.revision().unwrap();
    view.cluster().unwrap();
    for limit in [0, 1, 2, 100] {
        let mut after = None;
        loop {
            let page = view.principals(after.as_ref(), limit).unwrap();
            match page.last() {
                Some(last) if limit > 0 => after = Some(last.name.clone()),
                _ => break,
            }
        }
    }
    for n in &all_names {
        // SQLite answers from its `reach` table, kept by every edge write (committed or
        // rolled back, cycles included); memory walks its edges.
        view.reachable_roles(n).unwrap();
        view.reachable_graph(n).unwrap();
        view.principal(n).unwrap();
        view.fences_of_group(n).unwrap();
        view.changes(Revision(0), Some(n), 100).unwrap();
    }
    for k in 0..all_names.len() {
        let some = &all_names[k..(k + 1 + seed % 3).min(all_names.len())];
        view.roles_of(some).unwrap();
        view.members_of(some).unwrap();
    }
    view.roles_of(&all_names).unwrap();
    view.members_of(&[]).unwrap();
    view.grants_on(&all_uris).unwrap();
    view.grants_at(&all_names, &all_uris).unwrap();
    view.fences_at(&all_uris).unwrap();
    view.changes(Revision(0), None, 1000).unwrap();
    view.changes(Revision(2), None, 1).unwrap();
    for (i, u) in all_uris.iter().enumerate() {
        view.grants_on(std::slice::from_ref(u)).unwrap();
        view.fences_at(std::slice::from_ref(u)).unwrap();
        view.grant_below(&all_names, u).unwrap();
        view.grant_below(&all_names[i % all_names.len()..], u)
            .unwrap();
        view.grants_at(&all_names[..(i + seed) % all_names.len()], &all_uris[i..])
            .unwrap();
        for limit in [1, 3, 1000] {
            // Page through each listing to the end, from every starting key.
            let mut after: Option<(Uri, PrincipalName)> = None;
            loop {
                let page = view
                    .grants_within(u, after.as_ref().map(|(a, b)| (a, b)), limit)
                    .unwrap();
                match page.last() {
                    Some(last) => after = Some((last.uri.clone(), last.holder.clone())),
                    None => break,
                }
            }
            for start in [&all_uris[0], &all_uris[(i + seed) % all_uris.len()]] {
                for holder in [&all_names[0], &all_names[seed % all_names.len()]] {
                    view.grants_within(u, Some((start, holder)), limit).unwrap();
                }
                view.grants_of(
                    &all_names[seed % all_names.len()],
                    Some(u),
                    Some(start),
                    limit,
                )
                .unwrap();
                view.fences(
                    Some(u),
                    Some(&Fence {
                        uri: start.clone(),
                        group: all_names[(i + seed) % all_names.len()].clone(),
                    }),
                    limit,
                )
                .unwrap();
            }
            let mut after: Option<Fence> = None;
            loop {
                let page = view.fences(Some(u), after.as_ref(), limit).unwrap();
                match page.last() {
                    Some(last) => after = Some(last.clone()),
                    None => break,
                }
            }
            for holder in &all_names {
                let mut after: Option<Uri> = None;
                loop {
                    let page = view
                        .grants_of(holder, Some(u), after.as_ref(), limit)
                        .unwrap();
                    match page.last() {
                        Some(last) => after = Some(last.uri.clone()),
                        None => break,
                    }
                }
            }
        }
    }
    for holder in &all_names {
        for limit in [1, 1000] {
            let mut after: Option<Uri> = None;
            loop {
                let page = view.grants_of(holder, None, after.as_ref(), limit).unwrap();
                match page.last() {
                    Some(last) => after = Some(last.uri.clone()),
                    None => break,
                }
            }
        }
    }
    view.fences(None, None, 1000).unwrap();
    view.fences(None, None, 0).unwrap();
    view.grants_within(&all_uris[0], None, 0).unwrap();
}

/// `PROPTEST_CASES` sets the number of cases (default 256: each case opens a SQLite file).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    /// Random transactions of raw writes, each committed or dropped, applied to both
    /// stores; every query is compared inside each transaction and after it.
    #[test]
    fn random_writes_give_identical_answers(
        txns in prop::collection::vec(
            (prop::collection::vec(write_op(), 1..12), any::<bool>(), 0..1000usize),
            1..10,
        )
    ) {
        let twin = Twin::new();
        for (ops, commit, seed) in &txns {
            let mut txn = twin.write().unwrap();
            for op in ops {
                apply(&mut txn, op);
            }
            ask_everything(&txn, *seed);
            if *commit {
                let actor = (seed % 2 == 0).then(|| name(*seed));
                txn.commit(Change {
                    at: Timestamp(*seed as i64),
                    actor,
                    action: "test".into(),
                    target: format!("t{seed}"),
                    detail: format!("{} writes", ops.len()),
                })
                .unwrap();
            } else {
                drop(txn);
            }
            ask_everything(&twin.read().unwrap(), *seed);
        }
    }
}
