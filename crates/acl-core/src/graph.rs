//! The role graph (rules P2, P3): closures, membership paths and cycle detection.
//!
//! The graph is never loaded whole. A [`Closure`] is the part reachable from one principal,
//! fetched from the store one breadth-first layer at a time (one batched lookup per layer),
//! and held as a petgraph graph so paths and reachability use petgraph's algorithms.

use indexmap::IndexMap;
use petgraph::algo::astar;
use petgraph::graphmap::DiGraphMap;

use crate::error::{Error, Result};
use crate::name::PrincipalName;
use crate::store::{PrincipalRecord, ReadView};

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
#[derive(Debug, Clone)]
pub struct Closure {
    /// Members in breadth-first order, p first, each with its distance from p in hops.
    members: IndexMap<PrincipalName, Member>,
    /// Edges between member indices, member -> role.
    graph: DiGraphMap<usize, ()>,
}

#[derive(Debug, Clone)]
struct Member {
    distance: usize,
    record: PrincipalRecord,
}

impl Closure {
    /// Loads the closure of `start` from `view`, one batched lookup per layer.
    pub(crate) fn load<V: ReadView + ?Sized>(
        view: &V,
        start: PrincipalRecord,
        walk: Walk,
    ) -> Result<Closure> {
        let mut members = IndexMap::new();
        let mut graph = DiGraphMap::new();
        graph.add_node(0);
        let mut frontier = vec![start.name.clone()];
        members.insert(
            start.name.clone(),
            Member {
                distance: 0,
                record: start,
            },
        );
        let mut distance = 0;
        while !frontier.is_empty() {
            distance += 1;
            let mut edges = view.roles_of(&frontier)?;
            // Deterministic order whatever order the store answered in.
            edges.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
            let mut next = Vec::new();
            for (member, role) in edges {
                if walk == Walk::Live && !role.is_live() {
                    continue;
                }
                let Some(from) = members.get_index_of(&member) else {
                    return Err(Error::Storage(format!(
                        "store answered roles of `{member}`, which was not asked for"
                    )));
                };
                let to = match members.get_index_of(&role.name) {
                    Some(index) => index,
                    None => {
                        next.push(role.name.clone());
                        let (index, _) = members.insert_full(
                            role.name.clone(),
                            Member {
                                distance,
                                record: role,
                            },
                        );
                        index
                    }
                };
                graph.add_edge(from, to, ());
            }
            frontier = next;
        }
        Ok(Closure { members, graph })
    }

    /// The principal the closure starts from.
    pub fn start(&self) -> Option<&PrincipalName> {
        self.members.get_index(0).map(|(name, _)| name)
    }

    /// The members, p first, in breadth-first order.
    pub fn names(&self) -> impl Iterator<Item = &PrincipalName> {
        self.members.keys()
    }

    /// The members as a vector, for batched store lookups.
    pub fn to_vec(&self) -> Vec<PrincipalName> {
        self.members.keys().cloned().collect()
    }

    /// How many principals the closure holds.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the closure is empty (never true for a loaded closure: p is in it).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `name` is in the closure.
    pub fn contains(&self, name: &PrincipalName) -> bool {
        self.members.contains_key(name)
    }

    /// The member's record, if `name` is in the closure.
    pub fn record(&self, name: &PrincipalName) -> Option<&PrincipalRecord> {
        self.members.get(name).map(|m| &m.record)
    }

    /// Membership hops from p to `name`, if `name` is in the closure.
    pub fn distance(&self, name: &PrincipalName) -> Option<usize> {
        self.members.get(name).map(|m| m.distance)
    }

    /// A shortest membership path from p to `name`, both ends included (`[p]` when
    /// `name` is p); `None` if `name` is not in the closure.
    pub fn path_to(&self, name: &PrincipalName) -> Option<Vec<PrincipalName>> {
        let goal = self.members.get_index_of(name)?;
        let (_, path) = astar(&self.graph, 0, |n| n == goal, |_| 1usize, |_| 0)?;
        path.into_iter()
            .map(|index| self.members.get_index(index).map(|(n, _)| n.clone()))
            .collect()
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
