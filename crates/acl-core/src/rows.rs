//! The rows of the ACL that every store keeps (principals, grants and forbids, membership
//! edges, fences) and the changelog's, as plain values. The Store contract (`store.rs`)
//! reads and writes them; the evaluator reads them; nothing here decides anything.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::level::Level;
use crate::name::PrincipalName;
use crate::time::Timestamp;
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

/// The key of one kernel row, as [`ReadView::changed_rows`](crate::ReadView::changed_rows)
/// reports the rows a commit wrote: enough to read the row's current value back from any
/// view (rule D3, a follower index re-reads each key a commit noted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RowKey {
    /// The cluster name (written once, at init).
    Cluster,
    /// A principal's record (inserted, updated or deleted).
    Principal(PrincipalName),
    /// The membership edge `member -> role` (added or removed).
    Edge {
        /// The member end.
        member: PrincipalName,
        /// The role end.
        role: PrincipalName,
    },
    /// The grant (or forbid) of `holder` on exactly `uri` (set, replaced or removed).
    Grant {
        /// Who holds it.
        holder: PrincipalName,
        /// On what.
        uri: Uri,
    },
    /// The fence of `group` on `uri` (added or removed).
    Fence {
        /// The fenced URI.
        uri: Uri,
        /// The group it admits.
        group: PrincipalName,
    },
}

impl RowKey {
    /// The principal whose closure this row's write may change: the principal whose
    /// record it is, or the member of the edge. What the closure caches forget.
    pub fn membership_note(&self) -> Option<&PrincipalName> {
        match self {
            RowKey::Principal(name) => Some(name),
            RowKey::Edge { member, .. } => Some(member),
            RowKey::Cluster | RowKey::Grant { .. } | RowKey::Fence { .. } => None,
        }
    }
}

/// The part of the role graph reachable from one principal, each principal once: the
/// answer of [`ReadView::reachable_graph`](crate::ReadView::reachable_graph). Nodes are numbers: 0 is the start, `i + 1` is
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
    /// The graph of the edges [`ReadViewExt::reachable_roles`](crate::ReadViewExt::reachable_roles) returns for `start`.
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
