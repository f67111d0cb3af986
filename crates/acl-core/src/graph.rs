//! The role graph (rules P2, P3): closures, membership paths and cycle detection.
//!
//! The graph is never loaded whole. A [`Closure`] is the part reachable from one principal,
//! fetched from the store with one [`ReadView::reachable_graph`] call (a recursive query
//! where the backend has one). It keeps its members in plain vectors, found by binary
//! search on their names: a check loads one closure and asks a few questions of it, so
//! hashing every member and building a graph up front cost more than the questions. The
//! petgraph graph shortest paths need is built only when a path is asked for.

use petgraph::graphmap::DiGraphMap;

use crate::error::{Error, Result};
use crate::name::PrincipalName;
use crate::rows::{PrincipalRecord, RoleGraph};
use crate::store::ReadView;

/// Which principals a walk of the role graph passes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Only live principals: an inactive user contributes nothing and passes nothing on
    /// (rule E1). Used for resolution.
    Live,
    /// Every principal. Used for cycle detection: an inactive user's memberships still
    /// exist and come back when it is reactivated.
    All,
}

/// `closure(p)`: p and every role reachable from it through membership edges (rule P3),
/// with the graph between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// The member names in breadth-first order, p first (also the slice handed to batched
    /// store lookups).
    names: Vec<PrincipalName>,
    /// Each member's distance and record, in the same order.
    members: Vec<Member>,
    /// Member indices in name order, for lookups by name.
    by_name: Vec<usize>,
    /// Edges between member indices, member -> role, in the order the walk found them.
    edges: Vec<(usize, usize)>,
    /// The roles of members that the walk met but did not pass through (inactive), each
    /// once: the closure changes when one of them does, so a cache must know them.
    passed_over: Vec<PrincipalName>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    distance: usize,
    record: PrincipalRecord,
}

impl Closure {
    /// Loads the closure of `start` from `view`: one [`ReadView::reachable_graph`] call,
    /// then a breadth-first walk in memory, so the graph's shape decides the order and
    /// distances whatever order the store answered in.
    pub(crate) fn load<V: ReadView + ?Sized>(
        view: &V,
        start: PrincipalRecord,
        walk: Walk,
    ) -> Result<Closure> {
        let RoleGraph { roles, edges } = view.reachable_graph(&start.name)?;
        // Whether each node passes the walk on; each role's record is moved into the
        // closure when the walk first reaches it (no copy per member).
        let passes: Vec<bool> = std::iter::once(&start)
            .chain(&roles)
            .map(|r| walk == Walk::All || r.is_live())
            .collect();
        let mut roles: Vec<Option<PrincipalRecord>> = roles.into_iter().map(Some).collect();
        // Nodes by name: `order[k]` is the k-th node in name order, `rank[node]` its place.
        // The walk visits each member's roles in name order, so it is deterministic
        // whatever order the store answered in.
        let count = roles.len() + 1;
        let mut order: Vec<usize> = (0..count).collect();
        {
            let name_of = |node: usize| match node {
                0 => Some(&start.name),
                _ => roles
                    .get(node - 1)
                    .and_then(Option::as_ref)
                    .map(|r| &r.name),
            };
            order.sort_unstable_by(|&a, &b| name_of(a).cmp(&name_of(b)));
        }
        let mut rank = vec![0; count];
        for (k, &node) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(node) {
                *slot = k;
            }
        }
        let rank_of = |node: usize| rank.get(node).copied().unwrap_or(usize::MAX);
        // Edges as (member rank, role rank), sorted: each member's edges are one run.
        let mut edges: Vec<(usize, usize)> = edges
            .into_iter()
            .map(|(member, role)| (rank_of(member), rank_of(role)))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        // `slot[k]` is the member index of the k-th node once the walk has reached it.
        let mut slot: Vec<Option<usize>> = vec![None; count];
        if let Some(at) = slot.get_mut(rank_of(0)) {
            *at = Some(0);
        }
        // Every node may become a member: room for all of them up front, so the vectors
        // are not regrown member by member.
        let mut ranks = Vec::with_capacity(count);
        ranks.push(rank_of(0));
        let mut names = Vec::with_capacity(count);
        names.push(start.name.clone());
        let mut members = Vec::with_capacity(count);
        members.push(Member {
            distance: 0,
            record: start,
        });
        let mut graph = Vec::with_capacity(edges.len());
        // Breadth-first: members are appended in order of distance.
        let mut next = 0;
        // The roles a member reaches first, reused across members.
        let mut found = Vec::new();
        let mut passed_over: Vec<PrincipalName> = Vec::new();
        while let (Some(&from_rank), Some(member)) = (ranks.get(next), members.get(next)) {
            let (from, distance) = (next, member.distance + 1);
            next += 1;
            let first = edges.partition_point(|&(m, _)| m < from_rank);
            for &(_, role_rank) in edges
                .get(first..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&(m, _)| m == from_rank)
            {
                let Some(&node) = order.get(role_rank) else {
                    continue;
                };
                if !passes.get(node).copied().unwrap_or(false) {
                    let met = node.checked_sub(1).and_then(|i| roles.get(i));
                    if let Some(Some(role)) = met
                        && !passed_over.contains(&role.name)
                    {
                        passed_over.push(role.name.clone());
                    }
                    continue;
                }
                let Some(seen) = slot.get_mut(role_rank) else {
                    continue;
                };
                let to = match *seen {
                    Some(index) => index,
                    None => {
                        // Node 0 (the start) is seen from the outset, so `node >= 1`.
                        let taken = node.checked_sub(1).and_then(|i| roles.get_mut(i));
                        let Some(role) = taken.and_then(Option::take) else {
                            continue;
                        };
                        let index = names.len() + found.len();
                        *seen = Some(index);
                        found.push((role_rank, role));
                        index
                    }
                };
                graph.push((from, to));
            }
            for (role_rank, role) in found.drain(..) {
                ranks.push(role_rank);
                names.push(role.name.clone());
                members.push(Member {
                    distance,
                    record: role,
                });
            }
        }
        let by_name = slot.into_iter().flatten().collect();
        Ok(Closure {
            names,
            members,
            by_name,
            edges: graph,
            passed_over,
        })
    }

    /// Every principal whose record or edges the closure depends on: its members and the
    /// inactive roles met next to them. A write to any other leaves the closure as it is.
    pub fn reach(&self) -> impl Iterator<Item = &PrincipalName> {
        self.names.iter().chain(&self.passed_over)
    }

    /// The member index of `name`, by binary search.
    fn index_of(&self, name: &PrincipalName) -> Option<usize> {
        let at = self
            .by_name
            .binary_search_by(|&i| {
                self.names
                    .get(i)
                    .map_or(std::cmp::Ordering::Less, |n| n.cmp(name))
            })
            .ok()?;
        self.by_name.get(at).copied()
    }

    /// The principal the closure starts from.
    pub fn start(&self) -> Option<&PrincipalName> {
        self.names.first()
    }

    /// The members, p first, in breadth-first order.
    pub fn names(&self) -> impl Iterator<Item = &PrincipalName> {
        self.names.iter()
    }

    /// The members as a slice, p first, for batched store lookups.
    pub fn as_slice(&self) -> &[PrincipalName] {
        &self.names
    }

    /// How many principals the closure holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the closure is empty (never true for a loaded closure: p is in it).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `name` is in the closure.
    pub fn contains(&self, name: &PrincipalName) -> bool {
        self.index_of(name).is_some()
    }

    /// The member's record, if `name` is in the closure.
    pub fn record(&self, name: &PrincipalName) -> Option<&PrincipalRecord> {
        self.members.get(self.index_of(name)?).map(|m| &m.record)
    }

    /// Membership hops from p to `name`, if `name` is in the closure.
    pub fn distance(&self, name: &PrincipalName) -> Option<usize> {
        self.members.get(self.index_of(name)?).map(|m| m.distance)
    }

    /// A shortest membership path from p to `name`, both ends included (`[p]` when
    /// `name` is p); `None` if `name` is not in the closure. Among shortest paths, the
    /// one a breadth-first walk meets first visiting each member's roles in name order:
    /// the same path whatever store answered (the follower index walks the same way).
    pub fn path_to(&self, name: &PrincipalName) -> Option<Vec<PrincipalName>> {
        let goal = self.index_of(name)?;
        // The walk recorded each member's edges in name order of their roles, and the
        // graph keeps each node's edges in insertion order.
        let mut graph: DiGraphMap<usize, ()> = DiGraphMap::new();
        graph.add_node(0);
        for &(from, to) in &self.edges {
            graph.add_edge(from, to, ());
        }
        let mut parent: Vec<Option<usize>> = vec![None; self.names.len()];
        let mut queue = std::collections::VecDeque::from([0usize]);
        let mut seen = vec![false; self.names.len()];
        if let Some(start) = seen.first_mut() {
            *start = true;
        }
        while let Some(at) = queue.pop_front() {
            if at == goal {
                let mut path = vec![at];
                let mut step = at;
                while let Some(Some(up)) = parent.get(step) {
                    path.push(*up);
                    step = *up;
                }
                path.reverse();
                return path
                    .into_iter()
                    .map(|index| self.names.get(index).cloned())
                    .collect();
            }
            for next in graph.neighbors(at) {
                if let Some(flag) = seen.get_mut(next)
                    && !*flag
                {
                    *flag = true;
                    if let Some(slot) = parent.get_mut(next) {
                        *slot = Some(at);
                    }
                    queue.push_back(next);
                }
            }
        }
        None
    }
}

/// Refuses a new edge `member -> role` that would close a cycle (rule P3), naming it.
pub(crate) fn refuse_cycle<V: ReadView + ?Sized>(
    view: &V,
    member: &PrincipalName,
    role: &PrincipalRecord,
) -> Result<()> {
    if &role.name == member {
        return Err(Error::Cycle {
            path: vec![member.to_string(), member.to_string()],
        });
    }
    let upward = Closure::load(view, role.clone(), Walk::All)?;
    if let Some(path) = upward.path_to(member) {
        // member -> role -> ... -> member
        let mut cycle = vec![member.to_string()];
        cycle.extend(path.iter().map(ToString::to_string));
        return Err(Error::Cycle { path: cycle });
    }
    Ok(())
}
