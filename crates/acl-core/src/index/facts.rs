//! The index's answers to the facts of resolution ([`Facts`]): liveness and closures by id,
//! the rows on a URI's path reported in one walk up the trie, and the closure's allow grants
//! below a node. Rows are reported as they are, by id; they become [`Grant`] and [`Fence`]
//! values only when an explanation asks. What they mean is decided by the evaluator
//! (`resolve.rs`), never here.

use std::collections::HashSet;

use foldhash::fast::RandomState;

use super::{IdClosure, Index, Mark, Node, Slot, Visit, WALK_ENTRIES, last_segment, parent_end};
use crate::error::{Error, Result};
use crate::level::Level;
use crate::name::PrincipalName;
use crate::resolve::{Facts, Membership, Rows};
use crate::rows::{Fence, Grant};
use crate::uri::Uri;

impl Facts for Index {
    type Closure = IdClosure;
    /// The URI's own trie node, when it has one: a URI without one has nothing below it.
    type Place = Option<u32>;

    fn membership(&self, principal: &PrincipalName) -> Result<Membership<IdClosure>> {
        Ok(match self.principal_id(principal.as_str()) {
            None => Membership::Unknown,
            Some((_, false)) => Membership::Inactive,
            Some((id, true)) => Membership::Live(self.closure(id)),
        })
    }

    #[inline]
    fn path(&self, closure: &IdClosure, uri: &Uri, rows: &mut impl Rows) -> Result<Option<u32>> {
        Ok(self.report_path(closure, uri, rows))
    }

    fn any_below(&self, closure: &IdClosure, _: &Uri, place: Option<u32>) -> Result<bool> {
        let Some(node) = place else {
            return Ok(false);
        };
        let mut found = false;
        self.allow_below(
            node,
            &closure.ids,
            |holder| closure.contains(holder),
            |_, _, _| {
                found = true;
                false
            },
        );
        Ok(found)
    }

    fn first_below(
        &self,
        closure: &IdClosure,
        _: &Uri,
        place: Option<u32>,
    ) -> Result<Option<Grant>> {
        Ok(place.and_then(|node| {
            self.first_allow_below(node, &closure.ids, |holder| closure.contains(holder))
        }))
    }

    fn distance(&self, closure: &IdClosure, holder: &PrincipalName) -> Option<usize> {
        Some(self.hops(closure, holder)?.len().saturating_sub(1))
    }

    fn path_to(&self, closure: &IdClosure, holder: &PrincipalName) -> Option<Vec<PrincipalName>> {
        self.hops(closure, holder)?
            .into_iter()
            .map(|id| self.name_of(id).cloned())
            .collect()
    }
}

/// A check's walk: each node's entries reported for one closure.
struct Reading<'a, R> {
    index: &'a Index,
    closure: &'a IdClosure,
    rows: &'a mut R,
}

impl<R: Rows> Visit for Reading<'_, R> {
    // Inlined into the walk: a call per node cost more than the visit of a node with one
    // entry.
    #[inline(always)]
    fn visit(&mut self, id: u32, node: &Node) {
        let Reading {
            index,
            closure,
            rows,
        } = self;
        if rows.settled() {
            return;
        }
        let entries = node.entries.as_slice();
        if entries.len() <= WALK_ENTRIES {
            for e in entries {
                match e.mark {
                    Mark::Fence => rows.fence(closure.contains(e.principal), || {
                        index.fence_row(id, e.principal)
                    }),
                    Mark::Grant(level) if closure.contains(e.principal) => {
                        rows.grant(level, || index.grant_row_on(id, e.principal, level));
                    }
                    Mark::Grant(_) => {}
                }
            }
            return;
        }
        // Many entries: fences come first; look each closure member's grant up.
        let split = entries.partition_point(|e| e.mark == Mark::Fence);
        let (fences, grants) = entries.split_at_checked(split).unwrap_or((&[], entries));
        for f in fences {
            rows.fence(closure.contains(f.principal), || {
                index.fence_row(id, f.principal)
            });
        }
        if rows.settled() {
            return;
        }
        for &member in closure.ids.iter() {
            if let Ok(at) = grants.binary_search_by_key(&member, |e| e.principal)
                && let Some(Mark::Grant(level)) = grants.get(at).map(|e| e.mark)
            {
                rows.grant(level, || index.grant_row_on(id, member, level));
            }
        }
    }
}

/// An id the index holds that names no principal: its invariants are broken.
fn broken() -> Error {
    Error::storage("the index names a principal it does not hold")
}

impl Index {
    /// Reports the rows on `uri`'s path for `closure` (see [`Facts::path`]), with no
    /// allocation: a probe for the deepest node on the path, then one walk up its parent
    /// links. Returns `uri`'s own node, if the trie has one.
    #[inline]
    fn report_path<R: Rows>(&self, closure: &IdClosure, uri: &Uri, rows: &mut R) -> Option<u32> {
        // The deepest node on the path: the URI's own, else its nearest ancestor in the
        // trie. Checking a candidate walks up its parent links, so the same walk reports the
        // entries of every node on the path, bottom up; a candidate that turns out not to be
        // on the path is forgotten (the rows restart before each one).
        let text = uri.as_str();
        let scheme = uri.scheme().len();
        let root = scheme + 3;
        let mut end = text.len();
        let mut reading = Reading {
            index: self,
            closure,
            rows,
        };
        loop {
            let prefix = text.get(..end).unwrap_or_default();
            let found = self.children.find(self.key_of(prefix), |&id| {
                reading.rows.restart();
                self.walk_path(id, prefix, scheme, &mut reading)
            });
            if let Some(&id) = found {
                return (end == text.len()).then_some(id);
            }
            if end <= root {
                // Nothing of the path is in the trie: no row lies on it.
                reading.rows.restart();
                return None;
            }
            let start = last_segment(text, root, end);
            end = parent_end(start, root);
        }
    }

    /// The fence of group `group` on node `node`.
    fn fence_row(&self, node: u32, group: u32) -> Result<Fence> {
        Ok(Fence {
            uri: self.uri_of(node),
            group: self.name_of(group).cloned().ok_or_else(broken)?,
        })
    }

    /// The grant of `holder` on node `node`, of level `level`.
    fn grant_row_on(&self, node: u32, holder: u32, level: Level) -> Result<Grant> {
        self.grant_row(holder, &self.uri_of(node), level)
            .ok_or_else(broken)
    }

    /// A shortest membership path, as ids, from the closure's principal to `holder`, both
    /// ends included; `None` when `holder` is not in the closure. Breadth first through the
    /// closure's members (only for explanations: a check never asks).
    fn hops(&self, closure: &IdClosure, holder: &PrincipalName) -> Option<Vec<u32>> {
        let goal = self.slot_id(holder.as_str())?;
        if !closure.contains(goal) {
            return None;
        }
        // `order` in breadth-first order; `from[k]` is the place in `order` of the member
        // that reached `order[k]` first.
        let mut order = vec![closure.start];
        let mut from = vec![usize::MAX];
        let mut seen: HashSet<u32, RandomState> = HashSet::default();
        seen.insert(closure.start);
        let mut next = 0;
        while let Some(&at) = order.get(next) {
            if at == goal {
                let mut path = Vec::new();
                let mut k = next;
                while let Some(&id) = order.get(k) {
                    path.push(id);
                    k = from.get(k).copied().unwrap_or(usize::MAX);
                }
                path.reverse();
                return Some(path);
            }
            // Each member's roles in name order, as the closure's walk visits them, so
            // the path is the one every store's explain names (rule E6).
            let mut roles: Vec<u32> = self
                .slot(at)
                .map(Slot::roles)
                .unwrap_or_default()
                .iter()
                .copied()
                .filter(|&role| closure.contains(role) && !seen.contains(&role))
                .collect();
            roles.sort_by(|&a, &b| self.name_of(a).cmp(&self.name_of(b)));
            for role in roles {
                if seen.insert(role) {
                    order.push(role);
                    from.push(next);
                }
            }
            next += 1;
        }
        None
    }
}
