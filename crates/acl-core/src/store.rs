//! The Store contract: what a backend must keep and answer. Stores fetch; the core decides.
//!
//! A backend implements three traits:
//!
//! - [`Store`] hands out read views and write transactions.
//! - [`ReadView`] answers the indexed lookups resolution needs. Every method is a point or
//!   range lookup on an index; none may need a scan of every grant (rule E7). Where a
//!   method returns rows "in order", the order is the byte order of the canonical texts,
//!   which is what a SQL `ORDER BY` on TEXT columns gives.
//! - [`WriteTxn`] is a read view plus writes, applied atomically by [`WriteTxn::commit`].
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
//! - **No semantics.** A store does not derive anything: membership edges, cascades and
//!   authorization are decided by the core, which tells the store each row to write. A
//!   store may still enforce the invariants below with constraints, and must report a
//!   broken one as an error rather than corrupt data.
//! - **Invariants the core keeps** (a store may check them): a grant's holder, an edge's
//!   two ends and a fence's group are existing principals; at most one grant per (holder,
//!   URI); edges and fences are sets.
//! - **Errors.** Backend failures map to [`Error::Storage`]; the documented not-found and
//!   already-exists cases to [`Error::NotFound`] and [`Error::AlreadyExists`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::{AccessKey, Account, AccountKey, GroupInfo, Keypair};
use crate::error::Result;
use crate::folder::{Folder, FolderId, Invitation, InvitationId, InvitationKey, Share, Vm, VmId};
use crate::index::Index;
use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::policy::{PolicyName, ResourcePolicy, Session, SessionId};
use crate::uri::Uri;

/// A store's revision: the number of committed mutations (rule M3). A fresh store is at
/// revision 0; every commit raises it by exactly one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Revision(pub u64);

impl Revision {
    /// The revision after this one.
    pub const fn next(self) -> Revision {
        Revision(self.0.saturating_add(1))
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A point in time, in milliseconds since the Unix epoch. The core never reads a clock:
/// callers pass the time of each mutation in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// What kind of principal a name denotes (rule P1). Users are roles too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A user: a role that holds the user's whole permission set, with an active flag.
    User,
    /// A role: a named permission set.
    Role,
    /// A group (a project or team): a role whose members form a team for share scopes
    /// (rule V2) and fences (rule E4).
    Group,
}

impl PrincipalKind {
    /// The lowercase name of the kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
            PrincipalKind::Group => "group",
        }
    }

    /// The kind of a rank produced by `as u8`, for stores keeping kinds as integers.
    pub const fn from_rank(rank: u8) -> Option<PrincipalKind> {
        match rank {
            0 => Some(PrincipalKind::User),
            1 => Some(PrincipalKind::Role),
            2 => Some(PrincipalKind::Group),
            _ => None,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalRecord {
    /// Its name.
    pub name: PrincipalName,
    /// User, role or group.
    pub kind: PrincipalKind,
    /// False only for a deactivated user; roles and groups are always active.
    pub active: bool,
}

impl PrincipalRecord {
    /// Whether the principal takes part in resolution: contributes grants to closures
    /// (rule E1).
    pub fn is_live(&self) -> bool {
        self.active
    }
}

/// A direct grant: `holder` holds `level` on `uri`. A grant of [`Level::Deny`] is a forbid
/// (rule E3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The principal holding it.
    pub holder: PrincipalName,
    /// Where it holds.
    pub uri: Uri,
    /// What it holds; `deny` for a forbid.
    pub level: Level,
}

/// A membership edge: `member` is a member of `role` (rule P2). The core keeps exactly one
/// edge for every direct grant of `read` or more on exactly `role://{role}` where `role`
/// exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    /// The member.
    pub member: PrincipalName,
    /// The role it is a member of.
    pub role: PrincipalName,
}

/// A fence (rule E4): everything under `uri` is denied to every principal whose closure
/// lacks `group`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fence {
    /// The fenced subtree.
    pub uri: Uri,
    /// The group whose members alone may pass.
    pub group: PrincipalName,
}

/// What a mutation did, for the changelog (rule M3). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When, as passed in by the caller.
    pub at: Timestamp,
    /// Who did it; `None` for the engine itself (init).
    pub actor: Option<PrincipalName>,
    /// The operation (`grant`, `revoke`, `add_role`, ...).
    pub action: String,
    /// What it was done to (a URI or a principal).
    pub target: String,
    /// The rest (`bob read`), human readable.
    pub detail: String,
}

/// A committed changelog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEntry {
    /// The revision the change produced.
    pub revision: Revision,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

/// The part of the role graph reachable from one principal, each principal once: the
/// answer of [`ReadView::reachable_graph`]. Nodes are numbers: 0 is the start, `i + 1` is
/// `roles[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleGraph {
    /// Every principal reachable from the start through one edge or more, each once, in
    /// any order; the start itself is node 0, never listed here (even when a cycle leads
    /// back to it).
    pub roles: Vec<PrincipalRecord>,
    /// Every reachable edge once, as `(member node, role node)`, in any order.
    pub edges: Vec<(usize, usize)>,
}

impl RoleGraph {
    /// The graph of the edges [`ReadView::reachable_roles`] returns for `start`.
    pub fn from_pairs(start: &PrincipalName, pairs: Vec<(PrincipalName, PrincipalRecord)>) -> Self {
        let mut roles: Vec<PrincipalRecord> = pairs
            .iter()
            .filter(|(_, role)| &role.name != start)
            .map(|(_, role)| role.clone())
            .collect();
        roles.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        roles.dedup_by(|a, b| a.name == b.name);
        let node = |name: &PrincipalName| {
            if name == start {
                Some(0)
            } else {
                roles
                    .binary_search_by(|r| r.name.cmp(name))
                    .ok()
                    .map(|i| i + 1)
            }
        };
        let mut edges: Vec<(usize, usize)> = pairs
            .iter()
            .filter_map(|(member, role)| Some((node(member)?, node(&role.name)?)))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        RoleGraph { roles, edges }
    }
}

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

    /// The interned [`Index`] of the rows resolution reads, when the backend keeps its rows
    /// in one (the memory store does). The engine then answers checks from it with no
    /// allocation; it must hold exactly the rows the other methods answer from. `None` (the
    /// default) makes every check go through the other methods.
    fn index(&self) -> Option<&Index> {
        None
    }

    /// Principals with names after `after` (exclusive), in name order, at most `limit`.
    fn principals(
        &self,
        after: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<PrincipalRecord>>;

    /// The roles each of `members` is a direct member of: one `(member, role record)` pair
    /// per edge, in any order.
    fn roles_of(&self, members: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>>;

    /// Every membership edge reachable from `start` by following edges from member to role
    /// (`start`'s own edges, then its roles' edges, and so on), as `(member, role record)`
    /// pairs, each edge once, in any order. Inactive users are walked through like anyone:
    /// the core decides what they contribute.
    ///
    /// The default walks [`ReadView::roles_of`] one layer at a time; a backend may answer
    /// in one query (a recursive CTE).
    fn reachable_roles(
        &self,
        start: &PrincipalName,
    ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
        let mut seen = std::collections::HashSet::new();
        seen.insert(start.clone());
        let mut frontier = vec![start.clone()];
        let mut edges = Vec::new();
        while !frontier.is_empty() {
            let layer = self.roles_of(&frontier)?;
            frontier = layer
                .iter()
                .filter(|(_, role)| seen.insert(role.name.clone()))
                .map(|(_, role)| role.name.clone())
                .collect();
            edges.extend(layer);
        }
        Ok(edges)
    }

    /// The edges [`ReadView::reachable_roles`] returns, as a graph over numbered nodes with
    /// each principal's record once: what a closure is built from (rule P3). The default
    /// numbers the pairs of `reachable_roles`; a backend whose rows carry integer keys can
    /// answer without a name per edge.
    fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph> {
        Ok(RoleGraph::from_pairs(start, self.reachable_roles(start)?))
    }

    /// The direct members of each of `roles`: one `(role, member record)` pair per edge, in
    /// any order.
    fn members_of(&self, roles: &[PrincipalName]) -> Result<Vec<(PrincipalName, PrincipalRecord)>>;

    /// The grants (forbids included) any of `holders` holds on exactly any of `uris`, in
    /// any order.
    fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>>;

    /// Every grant (forbids included), by any holder, on exactly any of `uris`, in any
    /// order.
    fn grants_on(&self, uris: &[Uri]) -> Result<Vec<Grant>>;

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

    /// The fences whose group is `group`, in (URI, group) order.
    fn fences_of_group(&self, group: &PrincipalName) -> Result<Vec<Fence>>;

    /// Changelog entries with revisions after `after` (exclusive), by `actor` when given,
    /// in revision order, at most `limit`.
    fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>>;

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

    /// Adds a membership edge (a set: adding a present edge changes nothing).
    fn insert_edge(&mut self, edge: &Edge) -> Result<()>;

    /// Removes a membership edge; whether it was there.
    fn delete_edge(&mut self, edge: &Edge) -> Result<bool>;

    /// Adds a fence (a set: adding a present fence changes nothing).
    fn insert_fence(&mut self, fence: &Fence) -> Result<()>;

    /// Removes a fence; whether it was there.
    fn delete_fence(&mut self, fence: &Fence) -> Result<bool>;

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

    /// Makes every write of the transaction durable and visible at once, appends `change`
    /// to the changelog at the next revision, and returns that revision.
    fn commit(self, change: Change) -> Result<Revision>;
}
