//! The kernel's Store contract: what a backend must keep and answer for the ACL. Stores
//! fetch; the core decides.
//!
//! A backend implements three traits, 28 methods in all, none with a default body:
//!
//! - [`Store`] hands out read views and write transactions (2).
//! - [`ReadView`] answers the indexed lookups resolution needs (16). Every method is a point
//!   or range lookup on an index; none may need a scan of every grant (rule E7). Where a
//!   method returns rows "in order", the order is the byte order of the canonical texts,
//!   which is what a SQL `ORDER BY` on TEXT columns gives.
//! - [`WriteTxn`] is a read view plus row writes, applied atomically by
//!   [`WriteTxn::commit`], or by [`WriteTxn::commit_history`] with another store's
//!   changelog entries (a restore) (10).
//!
//! Conveniences built on those methods live in the extension traits [`ReadViewExt`] and
//! [`WriteTxnExt`], implemented for every view and transaction. They cannot be overridden,
//! so a wrapper around a store (a cache, a counter) that forwards the required methods forwards
//! every path a real backend takes: no defaulted method can be silently dropped.
//!
//! # Contract
//!
//! - **Isolation.** A read view sees one committed state for its whole life: the writes
//!   committed after it was opened are invisible to it (snapshot isolation). A write
//!   transaction sees the committed state plus its own writes.
//! - **One writer.** At most one write transaction is open at a time per store; `write`
//!   waits for the previous one to end (or fails with [`Error::Storage`] after a timeout).
//! - **Atomicity.** [`WriteTxn::commit`] applies every write of the transaction, appends the
//!   changelog entry and raises the revision by exactly one, all or nothing. Dropping a
//!   transaction without committing (on any error) leaves the store exactly as it was:
//!   same rows, same revision, same changelog.
//! - **Group commit.** A backend may make several write transactions durable together
//!   (acl-sqlite commits the transactions queued for its writer in one SQLite `COMMIT`,
//!   one fsync), as long as each still gets its own revision and changelog entry, each is
//!   all or nothing on its own, and [`WriteTxn::commit`] returns only once its writes are
//!   durable and visible to new read views, or fails with [`Error::Storage`] having
//!   written nothing when the shared commit fails.
//! - **No semantics.** A store does not derive anything: membership edges, cascades and
//!   authorization are decided by the core, which tells the store each row to write. A
//!   store may still enforce the invariants below with constraints, and must report a
//!   broken one as an error rather than corrupt data.
//! - **Invariants the core keeps** (a store may check them): a grant's holder, an edge's
//!   two ends and a fence's group are existing principals; at most one grant per (holder,
//!   URI); edges and fences are sets.
//! - **Changed rows.** Every write of a kernel row (the cluster, a principal's record, an
//!   edge, a grant, a fence) notes the row's [`RowKey`]; `commit` keeps those keys under
//!   the commit's revision, and [`ReadView::changed_rows`] answers them; a dropped or
//!   failed transaction notes nothing. This is bookkeeping of which rows were written, not
//!   a derivation: it lets the engine keep every cached closure that no write reached
//!   ([`ReadViewExt::membership_changes`], DESIGN rule E7, section 9 "under writes") and a
//!   follower index re-read only the rows that changed (rule D3). A store may bound what
//!   it keeps (answering `None` further back).
//! - **Errors.** Backend failures map to [`Error::Storage`]; the documented not-found and
//!   already-exists cases to [`Error::NotFound`] and [`Error::AlreadyExists`]. Every
//!   backend maps into this one [`Error`].
//!
//! Layers above the kernel (acl-platform's folders and accounts) extend these traits with
//! their own rows, in the same transactions.
//!
//! [`Error`]: crate::Error
//! [`Error::Storage`]: crate::Error::Storage
//! [`Error::NotFound`]: crate::Error::NotFound
//! [`Error::AlreadyExists`]: crate::Error::AlreadyExists

use std::collections::HashSet;

use crate::error::Result;
use crate::index::Index;
use crate::name::{ClusterName, PrincipalName};
use crate::rows::Change;
use crate::rows::{ChangeEntry, Edge, Fence, Grant, PrincipalRecord, Revision, RoleGraph, RowKey};
use crate::uri::Uri;

/// A store: hands out consistent read views and one write transaction at a time.
pub trait Store: Send + Sync {
    /// A consistent read view.
    type Read<'a>: ReadView
    where
        Self: 'a;
    /// A write transaction.
    type Write<'a>: WriteTxn
    where
        Self: 'a;

    /// Opens a read view on the latest committed state.
    fn read(&self) -> Result<Self::Read<'_>>;

    /// Opens the write transaction, waiting for any other to end first.
    fn write(&self) -> Result<Self::Write<'_>>;
}

/// The lookups resolution needs, on one consistent state. See the module documentation for
/// the contract.
pub trait ReadView {
    /// The revision of the state this view sees.
    fn revision(&self) -> Result<Revision>;

    /// The cluster name set at init, or `None` before init.
    fn cluster(&self) -> Result<Option<ClusterName>>;

    /// The principal named `name`, if it exists.
    fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>>;

    /// Principals with names after `after` (exclusive), in name order, at most `limit`.
    fn principals(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<PrincipalRecord>>;

    /// The interned [`Index`] of the rows resolution reads, when the backend keeps its rows
    /// in one (the memory store does): the engine then reads the facts of a check from it
    /// with no allocation. It must hold exactly the rows the other methods answer from.
    /// `None` makes every check read the other methods.
    fn index(&self) -> Option<&Index>;

    /// Every membership edge reachable from `start` by following edges from member to role
    /// (`start`'s own edges, then its roles' edges, and so on), as a graph over numbered
    /// nodes with each principal's record once: what a closure is built from (rule P3).
    /// Inactive users are walked through like anyone: the core decides what they
    /// contribute. [`RoleGraph::from_pairs`] builds the answer from `(member, role)` pairs.
    fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph>;

    /// The direct members of each of `roles`: one `(role, member record)` pair per edge, in
    /// any order.
    fn members_of(&self, roles: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>>;

    /// The grants (forbids included) any of `holders` holds on exactly any of `uris`, in
    /// any order.
    fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>>;

    /// The grant (forbid included) on each `(holder, uri)` pair of `pairs` that has one,
    /// each once, in any order: what `grant_many` asks for each chunk of its grants. A
    /// backend whose lookups are cheap answers it with [`grants_on_pairs_each`]; one whose
    /// every request is a round trip answers all the pairs in one (acl-postgres does).
    fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>>;

    /// The first, in (URI, holder) order, of the allow grants (level above deny) that any
    /// of `holders` holds strictly below `uri`; `None` if there is none.
    fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>>;

    /// The grants (forbids included) `holder` holds at or below `within` (everywhere when
    /// `None`), with URIs after `after` (exclusive), in URI order, at most `limit`.
    fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Result<Vec<Grant>>;

    /// The grants (forbids included) of every holder at or below `within`, after the
    /// (URI, holder) key `after` (exclusive), in (URI, holder) order, at most `limit`.
    fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Result<Vec<Grant>>;

    /// The fences on exactly any of `uris`, in any order.
    fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>>;

    /// The fences at or below `within` (all when `None`), after `after` (exclusive), in
    /// (URI, group) order, at most `limit`.
    fn fences(
        &self,
        within: Option<&Uri>,
        after: Option<&Fence>,
        limit: usize,
    ) -> Result<Vec<Fence>>;

    /// The key of every kernel row (cluster, principal, edge, grant, fence) written by the
    /// commits after revision `after` up to this view's revision, each at least once, in
    /// any order. `None` when the store no longer keeps the notes that far back (a reader
    /// of them then starts afresh: the closure caches forget everything, a follower index
    /// rebuilds). A store may note a key whose row a write left as it was. Rule D3: this
    /// is how a follower index and the closure caches learn what changed, one mechanism.
    fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>>;

    /// Changelog entries with revisions after `after` (exclusive), by `actor` when given,
    /// in revision order, at most `limit`.
    fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>>;
}

/// A write transaction: the read view of the committed state plus its own writes. Dropping
/// it without [`WriteTxn::commit`] rolls every write back.
pub trait WriteTxn: ReadView {
    /// Records the cluster name (once, at init).
    fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()>;

    /// Adds a principal; [`crate::Error::AlreadyExists`] if the name is taken.
    fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()>;

    /// Replaces a principal's record (same name); [`crate::Error::NotFound`] if absent.
    fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()>;

    /// Removes a principal; [`crate::Error::NotFound`] if absent. The core removes its
    /// grants, edges and fences first.
    fn delete_principal(&mut self, name: &PrincipalName) -> Result<()>;

    /// Sets the grant of `grant.holder` on `grant.uri`, replacing any there.
    fn put_grant(&mut self, grant: &Grant) -> Result<()>;

    /// Removes the grant of `holder` on exactly `uri`; whether there was one.
    fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool>;

    /// Adds (`present`) or removes a membership edge (edges are a set); whether the edge
    /// was there before the call.
    fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool>;

    /// Adds (`present`) or removes a fence (fences are a set); whether the fence was there
    /// before the call.
    fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool>;

    /// Makes every write of the transaction durable and visible at once, appends `change`
    /// to the changelog at the next revision, and returns that revision.
    fn commit(self, change: Change) -> Result<Revision>;

    /// Like [`WriteTxn::commit`], but with the changelog entries given whole, revisions
    /// included: another store's history, replayed (a restore, rule D5). The entries must
    /// be at least one and numbered from the next revision on, one apart; otherwise
    /// [`crate::Error::InvalidInput`], and nothing is written. Returns the last revision,
    /// which the store is then at.
    fn commit_history(self, history: &[ChangeEntry]) -> Result<Revision>;
}

/// [`ReadView::grants_on_pairs`] answered with one [`ReadView::grants_at`] per distinct
/// pair: for backends whose lookups cost no round trip (memory, SQLite).
pub fn grants_on_pairs_each<V: ReadView + ?Sized>(
    view: &V,
    pairs: &[(PrincipalName, Uri)],
) -> Result<Vec<Grant>> {
    let mut asked: Vec<&(PrincipalName, Uri)> = pairs.iter().collect();
    asked.sort_unstable();
    asked.dedup();
    let mut out = Vec::new();
    for (holder, uri) in asked {
        out.extend(view.grants_at(std::slice::from_ref(holder), std::slice::from_ref(uri))?);
    }
    Ok(out)
}

/// Checks that `history` may follow `current` (rule D5): at least one entry, numbered
/// `current + 1`, `current + 2`, ... The check of [`WriteTxn::commit_history`], for
/// backends.
pub fn check_history(current: Revision, history: &[ChangeEntry]) -> Result<Revision> {
    let mut expected = current;
    for entry in history {
        expected = expected.next();
        if entry.revision != expected {
            return Err(crate::Error::InvalidInput(format!(
                "changelog entry at revision {} where revision {} was due",
                entry.revision.0, expected.0
            )));
        }
    }
    if history.is_empty() {
        return Err(crate::Error::InvalidInput(
            "a history to commit needs at least one changelog entry".into(),
        ));
    }
    Ok(expected)
}

/// How many rows a convenience asks for at a time when it pages through a range.
const PAGE: usize = 256;

/// Conveniences over [`ReadView`], for every view: each is built on the contract's own
/// lookups, so a backend never writes them and a wrapper never drops them.
pub trait ReadViewExt: ReadView {
    /// The principals whose record or own membership edges the commits after `after`
    /// wrote, each once, in name order: the [`RowKey::membership_note`] of each of
    /// [`ReadView::changed_rows`]. `None` when the notes are gone. What the closure caches
    /// forget entries by (a write of a grant or fence reaches no closure).
    fn membership_changes(&self, after: Revision) -> Result<Option<Vec<PrincipalName>>> {
        Ok(self.changed_rows(after)?.map(|keys| {
            let mut names: Vec<PrincipalName> = keys
                .iter()
                .filter_map(RowKey::membership_note)
                .cloned()
                .collect();
            names.sort_unstable();
            names.dedup();
            names
        }))
    }

    /// The roles each of `members` is a direct member of: one `(member, role record)` pair
    /// per edge, in any order, each member asked once (as a SQL `IN (...)` would): the
    /// edges out of node 0 of each member's [`ReadView::reachable_graph`].
    fn roles_of(&self, members: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        let mut asked = HashSet::new();
        let mut pairs = Vec::new();
        for member in members {
            if !asked.insert(member) {
                continue;
            }
            let graph = self.reachable_graph(member)?;
            for &(from, to) in &graph.edges {
                if from == 0 {
                    pairs.extend(
                        node_record(self, &graph, member, to)?.map(|r| (member.clone(), r)),
                    );
                }
            }
        }
        Ok(pairs)
    }

    /// Every membership edge reachable from `start` ([`ReadView::reachable_graph`]), as
    /// `(member, role record)` pairs, each edge once, in any order.
    fn reachable_roles(
        &self,
        start: &PrincipalName,
    ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        let graph = self.reachable_graph(start)?;
        let mut pairs = Vec::with_capacity(graph.edges.len());
        for &(member, role) in &graph.edges {
            let member = match member.checked_sub(1) {
                None => Some(start.clone()),
                Some(i) => graph.roles.get(i).map(|r| r.name.clone()),
            };
            if let (Some(member), Some(role)) = (member, node_record(self, &graph, start, role)?) {
                pairs.push((member, role));
            }
        }
        Ok(pairs)
    }

    /// Every grant (forbids included), by any holder, on exactly any of `uris`, in (URI,
    /// holder) order per URI, each URI once. The grants on exactly U come first in
    /// [`ReadView::grants_within`]'s order for U, so this reads that range only while it
    /// stays on U.
    fn grants_on(&self, uris: &[Uri]) -> Result<Vec<Grant>> {
        let mut seen = HashSet::new();
        let mut grants = Vec::new();
        for uri in uris {
            if !seen.insert(uri) {
                continue;
            }
            let mut after: Option<(Uri, PrincipalName)> = None;
            loop {
                let key = after.as_ref().map(|(u, h)| (u, h));
                let page = self.grants_within(uri, key, PAGE)?;
                let full = page.len() == PAGE;
                let mut left = false;
                for grant in page {
                    if &grant.uri != uri {
                        left = true;
                        break;
                    }
                    after = Some((grant.uri.clone(), grant.holder.clone()));
                    grants.push(grant);
                }
                if left || !full {
                    break;
                }
            }
        }
        Ok(grants)
    }

    /// The fences whose group is `group`, in (URI, group) order. Fences are few (a
    /// project's tags), so this pages through all of them.
    fn fences_of_group(&self, group: &PrincipalName) -> Result<Vec<Fence>> {
        let mut found = Vec::new();
        let mut after: Option<Fence> = None;
        loop {
            let page = self.fences(None, after.as_ref(), PAGE)?;
            let full = page.len() == PAGE;
            after = page.last().cloned();
            found.extend(page.into_iter().filter(|f| &f.group == group));
            if !full {
                return Ok(found);
            }
        }
    }
}

/// The record of node `node` of `graph` (reachable from `start`): node 0 is the start,
/// reached again only through an edge back to it (a cycle, which the core never writes, but
/// a raw store may hold).
fn node_record<V: ReadView + ?Sized>(
    view: &V,
    graph: &RoleGraph,
    start: &PrincipalName,
    node: usize,
) -> Result<Option<PrincipalRecord>> {
    match node.checked_sub(1) {
        None => view.principal(start),
        Some(i) => Ok(graph.roles.get(i).cloned()),
    }
}

impl<V: ReadView + ?Sized> ReadViewExt for V {}

/// Conveniences over [`WriteTxn`], for every transaction.
pub trait WriteTxnExt: WriteTxn {
    /// Adds a membership edge (a set: adding a present edge changes nothing).
    fn insert_edge(&mut self, edge: &Edge) -> Result<()> {
        self.set_edge(edge, true).map(drop)
    }

    /// Removes a membership edge; whether it was there.
    fn delete_edge(&mut self, edge: &Edge) -> Result<bool> {
        self.set_edge(edge, false)
    }

    /// Adds a fence (a set: adding a present fence changes nothing).
    fn insert_fence(&mut self, fence: &Fence) -> Result<()> {
        self.set_fence(fence, true).map(drop)
    }

    /// Removes a fence; whether it was there.
    fn delete_fence(&mut self, fence: &Fence) -> Result<bool> {
        self.set_fence(fence, false)
    }
}

impl<T: WriteTxn + ?Sized> WriteTxnExt for T {}
