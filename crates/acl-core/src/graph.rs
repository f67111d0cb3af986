//! The role graph (rules P2, P3): closures, membership paths and cycle detection.
//!
//! The graph is never loaded whole. A [`Closure`] is the part reachable from one principal,
//! fetched from the store with one [`ReadView::reachable_roles`] call (a recursive query
//! where the backend has one), and held as a petgraph graph so paths and reachability use
//! petgraph's algorithms.

use std::collections::HashMap;

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
    /// The member names in the same order, for batched store lookups without a copy.
    names: Vec<PrincipalName>,
}

#[derive(Debug, Clone)]
struct Member {
    distance: usize,
    record: PrincipalRecord,
}

impl Closure {
    /// Loads the closure of `start` from `view`: one [`ReadView::reachable_roles`] call,
    /// then a breadth-first walk in memory, so the graph's shape decides the order and
    /// distances whatever order the store answered in.
    pub(crate) fn load<V: ReadView + ?Sized>(
        view: &V,
        start: PrincipalRecord,
        walk: Walk,
    ) -> Result<Closure> {
        let mut edges = view.reachable_roles(&start.name)?;
        // Deterministic order whatever order the store answered in.
        edges.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
        let mut out: HashMap<&PrincipalName, Vec<&PrincipalRecord>> = HashMap::new();
        for (member, role) in &edges {
            out.entry(member).or_default().push(role);
        }
        let mut members = IndexMap::new();
        let mut graph = DiGraphMap::new();
        graph.add_node(0);
        members.insert(
            start.name.clone(),
            Member {
                distance: 0,
                record: start,
            },
        );
        // Breadth-first: members are appended in order of distance.
        let mut next = 0;
        while let Some((name, member)) = members.get_index(next) {
            let (from, distance) = (next, member.distance + 1);
            next += 1;
            let Some(roles) = out.get(name) else {
                continue;
            };
            let roles: Vec<&PrincipalRecord> = roles
                .iter()
                .copied()
                .filter(|role| walk == Walk::All || role.is_live())
                .collect();
            for role in roles {
                let to = match members.get_index_of(&role.name) {
                    Some(index) => index,
                    None => {
                        members
                            .insert_full(
                                role.name.clone(),
                                Member {
                                    distance,
                                    record: role.clone(),
                                },
                            )
                            .0
                    }
                };
                graph.add_edge(from, to, ());
            }
        }
        let names = members.keys().cloned().collect();
        Ok(Closure {
            members,
            graph,
            names,
        })
    }

    /// The principal the closure starts from.
    pub fn start(&self) -> Option<&PrincipalName> {
        self.members.get_index(0).map(|(name, _)| name)
    }

    /// The members, p first, in breadth-first order.
    pub fn names(&self) -> impl Iterator<Item = &PrincipalName> {
        self.members.keys()
    }

    /// The members as a slice, p first, for batched store lookups.
    pub fn as_slice(&self) -> &[PrincipalName] {
        &self.names
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
