//! A property test against a plain model: random transactions of random writes, committed
//! or dropped at random, applied both to a `MemoryStore` and to a model that keeps each
//! kind of row in a `Vec` and answers every lookup by filtering and sorting. After every
//! write the outcomes must agree; before each commit or drop (through the transaction) and
//! after it (through a fresh view) every lookup must agree.
//!
//! The model's "at or below" uses `Uri::contains`, not `descendant_bounds`, so the store's
//! range scans are checked against an independent definition.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acl_core::{
    ChangeEntry, ClusterName, Edge, ErrorKind, Fence, Grant, Level, PrincipalKind, PrincipalName,
    PrincipalRecord, ReadView, Revision, Store, Uri, WriteTxn,
};
use acl_core::{ReadViewExt, WriteTxnExt};
use acl_memory::MemoryStore;
use common::{change, name, sorted, sorted_grants, uri};
use proptest::prelude::*;

/// `d` is never in the seed, so writes naming it exercise the missing-principal paths.
const NAMES: &[&str] = &["a", "b", "c", "d"];
const SEED: &[&str] = &["a", "b", "c"];
const URIS: &[&str] = &[
    "storage://",
    "storage://c",
    "storage://c/u",
    "storage://c/u-x",
    "storage://c/u/x",
    "storage://c/u/x/y",
    "storage://c/u0",
    "storage://c/ux",
    "role://",
    "role://a",
    "job://c",
];
const CLUSTERS: &[&str] = &["c", "d"];
const KINDS: [PrincipalKind; 3] = [
    PrincipalKind::User,
    PrincipalKind::Role,
    PrincipalKind::Group,
];

#[derive(Debug, Clone)]
enum Op {
    SetCluster(usize),
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

#[derive(Debug, Clone)]
struct Txn {
    ops: Vec<Op>,
    commit: bool,
    actor: Option<usize>,
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len();
    let u = 0..URIS.len();
    prop_oneof![
        1 => (0..CLUSTERS.len()).prop_map(Op::SetCluster),
        2 => (n.clone(), 0..KINDS.len(), any::<bool>())
            .prop_map(|(n, k, a)| Op::InsertPrincipal(n, k, a)),
        2 => (n.clone(), 0..KINDS.len(), any::<bool>())
            .prop_map(|(n, k, a)| Op::UpdatePrincipal(n, k, a)),
        2 => n.clone().prop_map(Op::DeletePrincipal),
        8 => (n.clone(), u.clone(), 0..Level::ALL.len()).prop_map(|(n, u, l)| Op::PutGrant(n, u, l)),
        4 => (n.clone(), u.clone()).prop_map(|(n, u)| Op::DeleteGrant(n, u)),
        3 => (n.clone(), n.clone()).prop_map(|(m, r)| Op::InsertEdge(m, r)),
        2 => (n.clone(), n.clone()).prop_map(|(m, r)| Op::DeleteEdge(m, r)),
        3 => (u.clone(), n.clone()).prop_map(|(u, g)| Op::InsertFence(u, g)),
        2 => (u, n).prop_map(|(u, g)| Op::DeleteFence(u, g)),
    ]
}

fn txn() -> impl Strategy<Value = Txn> {
    (
        prop::collection::vec(op(), 0..12),
        any::<bool>(),
        prop::option::of(0..NAMES.len()),
    )
        .prop_map(|(ops, commit, actor)| Txn { ops, commit, actor })
}

fn pname(i: usize) -> PrincipalName {
    name(NAMES[i])
}

fn puri(i: usize) -> Uri {
    uri(URIS[i])
}

fn precord(n: usize, k: usize, active: bool) -> PrincipalRecord {
    PrincipalRecord {
        name: pname(n),
        kind: KINDS[k],
        active,
    }
}

fn pgrant(n: usize, u: usize, l: usize) -> Grant {
    Grant {
        holder: pname(n),
        uri: puri(u),
        level: Level::ALL[l],
    }
}

fn pedge(m: usize, r: usize) -> Edge {
    Edge {
        member: pname(m),
        role: pname(r),
    }
}

fn pfence(u: usize, g: usize) -> Fence {
    Fence {
        uri: puri(u),
        group: pname(g),
    }
}

/// What a write answered: nothing, a bool, or an error of some kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    Was(bool),
    Failed(ErrorKind),
}

fn outcome<T: Into<Outcome>>(result: acl_core::Result<T>) -> Outcome {
    match result {
        Ok(value) => value.into(),
        Err(err) => Outcome::Failed(err.kind()),
    }
}

impl From<()> for Outcome {
    fn from((): ()) -> Outcome {
        Outcome::Done
    }
}

impl From<bool> for Outcome {
    fn from(was: bool) -> Outcome {
        Outcome::Was(was)
    }
}

/// The rows, each kind in a `Vec`, and the changelog.
#[derive(Debug, Clone, Default)]
struct Model {
    cluster: Option<ClusterName>,
    principals: Vec<PrincipalRecord>,
    grants: Vec<Grant>,
    edges: Vec<Edge>,
    fences: Vec<Fence>,
    changes: Vec<ChangeEntry>,
}

impl Model {
    fn revision(&self) -> Revision {
        Revision(self.changes.len() as u64)
    }

    fn exists(&self, name: &PrincipalName) -> bool {
        self.principals.iter().any(|p| &p.name == name)
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        use Outcome::*;
        match *op {
            Op::SetCluster(c) => {
                self.cluster = Some(ClusterName::new(CLUSTERS[c]).unwrap());
                Done
            }
            Op::InsertPrincipal(n, k, a) => {
                if self.exists(&pname(n)) {
                    return Failed(ErrorKind::Conflict);
                }
                self.principals.push(precord(n, k, a));
                Done
            }
            Op::UpdatePrincipal(n, k, a) => {
                match self.principals.iter_mut().find(|p| p.name == pname(n)) {
                    Some(p) => *p = precord(n, k, a),
                    None => return Failed(ErrorKind::NotFound),
                }
                Done
            }
            Op::DeletePrincipal(n) => {
                let who = pname(n);
                if !self.exists(&who) {
                    return Failed(ErrorKind::NotFound);
                }
                let named = self.grants.iter().any(|g| g.holder == who)
                    || self.edges.iter().any(|e| e.member == who || e.role == who)
                    || self.fences.iter().any(|f| f.group == who);
                if named {
                    return Failed(ErrorKind::Storage);
                }
                self.principals.retain(|p| p.name != who);
                Done
            }
            Op::PutGrant(n, u, l) => {
                if !self.exists(&pname(n)) {
                    return Failed(ErrorKind::Storage);
                }
                let new = pgrant(n, u, l);
                self.grants
                    .retain(|g| !(g.holder == new.holder && g.uri == new.uri));
                self.grants.push(new);
                Done
            }
            Op::DeleteGrant(n, u) => {
                let before = self.grants.len();
                self.grants
                    .retain(|g| !(g.holder == pname(n) && g.uri == puri(u)));
                Was(self.grants.len() != before)
            }
            Op::InsertEdge(m, r) => {
                if !self.exists(&pname(m)) || !self.exists(&pname(r)) {
                    return Failed(ErrorKind::Storage);
                }
                let new = pedge(m, r);
                if !self.edges.contains(&new) {
                    self.edges.push(new);
                }
                Done
            }
            Op::DeleteEdge(m, r) => {
                let before = self.edges.len();
                let old = pedge(m, r);
                self.edges.retain(|e| e != &old);
                Was(self.edges.len() != before)
            }
            Op::InsertFence(u, g) => {
                if !self.exists(&pname(g)) {
                    return Failed(ErrorKind::Storage);
                }
                let new = pfence(u, g);
                if !self.fences.contains(&new) {
                    self.fences.push(new);
                }
                Done
            }
            Op::DeleteFence(u, g) => {
                let before = self.fences.len();
                let old = pfence(u, g);
                self.fences.retain(|f| f != &old);
                Was(self.fences.len() != before)
            }
        }
    }

    fn record(&self, name: &PrincipalName) -> PrincipalRecord {
        self.principals
            .iter()
            .find(|p| &p.name == name)
            .cloned()
            .unwrap()
    }

    // The lookups, naively.

    fn principals(&self, after: Option<&PrincipalName>, limit: usize) -> Vec<PrincipalRecord> {
        let mut out: Vec<_> = self
            .principals
            .iter()
            .filter(|p| after.is_none_or(|a| &p.name > a))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.truncate(limit);
        out
    }

    fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Vec<Grant> {
        let mut out: Vec<_> = self
            .grants
            .iter()
            .filter(|g| &g.holder == holder)
            .filter(|g| within.is_none_or(|w| w.contains(&g.uri)))
            .filter(|g| after.is_none_or(|a| &g.uri > a))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        out.truncate(limit);
        out
    }

    fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Vec<Grant> {
        let mut out: Vec<_> = self
            .grants
            .iter()
            .filter(|g| within.contains(&g.uri))
            .filter(|g| after.is_none_or(|a| (&g.uri, &g.holder) > a))
            .cloned()
            .collect();
        out = sorted_grants(out);
        out.truncate(limit);
        out
    }

    fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Option<Grant> {
        sorted_grants(
            self.grants
                .iter()
                .filter(|g| holders.contains(&g.holder))
                .filter(|g| uri.is_ancestor_of(&g.uri) && g.level.is_allow())
                .cloned()
                .collect(),
        )
        .into_iter()
        .next()
    }

    fn fences(&self, within: Option<&Uri>, after: Option<&Fence>, limit: usize) -> Vec<Fence> {
        let mut out: Vec<_> = self
            .fences
            .iter()
            .filter(|f| within.is_none_or(|w| w.contains(&f.uri)))
            .filter(|f| after.is_none_or(|a| *f > a))
            .cloned()
            .collect();
        out.sort();
        out.truncate(limit);
        out
    }

    fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Vec<ChangeEntry> {
        self.changes
            .iter()
            .filter(|e| e.revision > after)
            .filter(|e| actor.is_none_or(|a| e.change.actor.as_ref() == Some(a)))
            .take(limit)
            .cloned()
            .collect()
    }
}

/// Every lookup of `view`, over the whole universe of names and URIs, against `model`.
fn agree(view: &impl ReadView, model: &Model) {
    let names: Vec<PrincipalName> = (0..NAMES.len()).map(pname).collect();
    let uris: Vec<Uri> = (0..URIS.len()).map(puri).collect();
    let pairs = |v: Vec<(PrincipalName, PrincipalRecord)>| {
        sorted(
            v.into_iter()
                .map(|(a, r)| (a, r.name, r.kind, r.active))
                .collect(),
        )
    };

    assert_eq!(view.revision().unwrap(), model.revision());
    assert_eq!(view.cluster().unwrap(), model.cluster);
    for limit in [usize::MAX, 2, 0] {
        assert_eq!(
            view.principals(None, limit).unwrap(),
            model.principals(None, limit)
        );
        for n in &names {
            assert_eq!(
                view.principals(Some(n), limit).unwrap(),
                model.principals(Some(n), limit)
            );
        }
    }
    for n in &names {
        let want = model.principals.iter().find(|p| &p.name == n).cloned();
        assert_eq!(view.principal(n).unwrap(), want);

        let roles = model
            .edges
            .iter()
            .filter(|e| &e.member == n)
            .map(|e| (n.clone(), model.record(&e.role)))
            .collect();
        assert_eq!(
            pairs(view.roles_of(std::slice::from_ref(n)).unwrap()),
            pairs(roles)
        );
        let members = model
            .edges
            .iter()
            .filter(|e| &e.role == n)
            .map(|e| (n.clone(), model.record(&e.member)))
            .collect();
        assert_eq!(
            pairs(view.members_of(std::slice::from_ref(n)).unwrap()),
            pairs(members)
        );

        assert_eq!(
            view.fences_of_group(n).unwrap(),
            sorted(
                model
                    .fences
                    .iter()
                    .filter(|f| &f.group == n)
                    .cloned()
                    .collect()
            )
        );
    }
    let all_roles: Vec<_> = model
        .edges
        .iter()
        .map(|e| (e.member.clone(), model.record(&e.role)))
        .collect();
    assert_eq!(pairs(view.roles_of(&names).unwrap()), pairs(all_roles));

    assert_eq!(
        sorted_grants(view.grants_at(&names, &uris).unwrap()),
        sorted_grants(model.grants.clone())
    );
    assert_eq!(
        sorted_grants(view.grants_on(&uris).unwrap()),
        sorted_grants(model.grants.clone())
    );
    assert_eq!(
        sorted(view.fences_at(&uris).unwrap()),
        sorted(model.fences.clone())
    );

    for u in &uris {
        let on: Vec<_> = model
            .grants
            .iter()
            .filter(|g| &g.uri == u)
            .cloned()
            .collect();
        assert_eq!(
            sorted_grants(view.grants_on(std::slice::from_ref(u)).unwrap()),
            sorted_grants(on)
        );
        let at: Vec<_> = model
            .fences
            .iter()
            .filter(|f| &f.uri == u)
            .cloned()
            .collect();
        assert_eq!(
            sorted(view.fences_at(std::slice::from_ref(u)).unwrap()),
            sorted(at)
        );

        assert_eq!(
            view.grant_below(&names, u).unwrap(),
            model.grant_below(&names, u)
        );
        for n in &names {
            let one = std::slice::from_ref(n);
            assert_eq!(view.grant_below(one, u).unwrap(), model.grant_below(one, u));
        }
    }

    let withins: Vec<Option<&Uri>> = std::iter::once(None).chain(uris.iter().map(Some)).collect();
    let afters = withins.clone();
    for &within in &withins {
        for &after in &afters {
            for limit in [usize::MAX, 2] {
                for n in &names {
                    assert_eq!(
                        view.grants_of(n, within, after, limit).unwrap(),
                        model.grants_of(n, within, after, limit),
                        "grants_of {n} within {within:?} after {after:?} limit {limit}"
                    );
                }
            }
        }
        let fence_afters = std::iter::once(None).chain(uris.iter().flat_map(|u| {
            names.iter().map(move |g| {
                Some(Fence {
                    uri: u.clone(),
                    group: g.clone(),
                })
            })
        }));
        for after in fence_afters {
            for limit in [usize::MAX, 1] {
                assert_eq!(
                    view.fences(within, after.as_ref(), limit).unwrap(),
                    model.fences(within, after.as_ref(), limit),
                    "fences within {within:?} after {after:?} limit {limit}"
                );
            }
        }
    }
    for within in &uris {
        let keys = std::iter::once(None).chain(
            uris.iter()
                .flat_map(|u| names.iter().map(move |h| Some((u, h)))),
        );
        for after in keys {
            for limit in [usize::MAX, 2] {
                assert_eq!(
                    view.grants_within(within, after, limit).unwrap(),
                    model.grants_within(within, after, limit),
                    "grants_within {within} after {after:?} limit {limit}"
                );
            }
        }
    }

    let top = model.revision().0 + 1;
    for after in 0..=top {
        for actor in std::iter::once(None).chain(names.iter().map(Some)) {
            for limit in [usize::MAX, 1] {
                assert_eq!(
                    view.changes(Revision(after), actor, limit).unwrap(),
                    model.changes(Revision(after), actor, limit)
                );
            }
        }
    }
}

fn run(txns: &[Txn]) {
    let store = MemoryStore::new();
    let mut model = Model::default();

    // Seed: a few principals, committed.
    let mut seed = store.write().unwrap();
    for (i, _) in SEED.iter().enumerate() {
        let op = Op::InsertPrincipal(i, i % KINDS.len(), true);
        assert_eq!(apply(&mut seed, &op), model.apply(&op));
    }
    seed.commit(change(None, "seed")).unwrap();
    model.changes.push(ChangeEntry {
        revision: Revision(1),
        change: change(None, "seed"),
    });
    agree(&store.read().unwrap(), &model);

    for (t, txn) in txns.iter().enumerate() {
        let mut working = model.clone();
        let mut write = store.write().unwrap();
        for op in &txn.ops {
            assert_eq!(apply(&mut write, op), working.apply(op), "{op:?}");
        }
        agree(&write, &working);
        if txn.commit {
            let entry = change(txn.actor.map(|a| NAMES[a]), &format!("txn{t}"));
            let revision = write.commit(entry.clone()).unwrap();
            assert_eq!(revision, working.revision().next());
            working.changes.push(ChangeEntry {
                revision,
                change: entry,
            });
            model = working;
        } else {
            drop(write);
        }
        agree(&store.read().unwrap(), &model);
    }
}

/// Applies `op` to a transaction, with the outcome as the model gives it.
fn apply(txn: &mut impl WriteTxn, op: &Op) -> Outcome {
    match *op {
        Op::SetCluster(c) => outcome(txn.set_cluster(&ClusterName::new(CLUSTERS[c]).unwrap())),
        Op::InsertPrincipal(n, k, a) => outcome(txn.insert_principal(&precord(n, k, a))),
        Op::UpdatePrincipal(n, k, a) => outcome(txn.update_principal(&precord(n, k, a))),
        Op::DeletePrincipal(n) => outcome(txn.delete_principal(&pname(n))),
        Op::PutGrant(n, u, l) => outcome(txn.put_grant(&pgrant(n, u, l))),
        Op::DeleteGrant(n, u) => outcome(txn.delete_grant(&pname(n), &puri(u))),
        Op::InsertEdge(m, r) => outcome(txn.insert_edge(&pedge(m, r))),
        Op::DeleteEdge(m, r) => outcome(txn.delete_edge(&pedge(m, r))),
        Op::InsertFence(u, g) => outcome(txn.insert_fence(&pfence(u, g))),
        Op::DeleteFence(u, g) => outcome(txn.delete_fence(&pfence(u, g))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_the_model(txns in prop::collection::vec(txn(), 1..10)) {
        run(&txns);
    }
}
