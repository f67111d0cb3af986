//! Helpers shared by the integration tests: terse constructors, a hand-built fixture and a
//! whole-state snapshot taken through the public `ReadView` only (so the same helpers can
//! serve any `Store`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Fence, Grant, Level, PrincipalKind, PrincipalName,
    PrincipalRecord, ReadView, Revision, Store, Timestamp, Uri, WriteTxn,
};
use acl_core::{ReadViewExt, WriteTxnExt};

pub fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

pub fn names(texts: &[&str]) -> Vec<PrincipalName> {
    texts.iter().map(|t| name(t)).collect()
}

pub fn uri(text: &str) -> Uri {
    Uri::parse(text).unwrap()
}

pub fn uris(texts: &[&str]) -> Vec<Uri> {
    texts.iter().map(|t| uri(t)).collect()
}

/// `"alice storage://c/u manage"` as a grant.
pub fn grant(text: &str) -> Grant {
    let mut words = text.split(' ');
    let (Some(holder), Some(at), Some(level), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        panic!("bad grant text {text:?}");
    };
    Grant {
        holder: name(holder),
        uri: uri(at),
        level: level.parse::<Level>().unwrap(),
    }
}

pub fn grants(texts: &[&str]) -> Vec<Grant> {
    texts.iter().map(|t| grant(t)).collect()
}

/// `"storage://c/u eng"` as a fence.
pub fn fence(text: &str) -> Fence {
    let (at, group) = text.split_once(' ').unwrap();
    Fence {
        uri: uri(at),
        group: name(group),
    }
}

pub fn fences(texts: &[&str]) -> Vec<Fence> {
    texts.iter().map(|t| fence(t)).collect()
}

/// `"alice eng"`: alice is a member of eng.
pub fn edge(text: &str) -> Edge {
    let (member, role) = text.split_once(' ').unwrap();
    Edge {
        member: name(member),
        role: name(role),
    }
}

pub fn record(text: &str, kind: PrincipalKind, active: bool) -> PrincipalRecord {
    PrincipalRecord {
        name: name(text),
        kind,
        active,
    }
}

pub fn change(actor: Option<&str>, action: &str) -> Change {
    Change {
        at: Timestamp(1_700_000_000_000),
        actor: actor.map(name),
        action: action.into(),
        target: "t".into(),
        detail: String::new(),
    }
}

/// Grants sorted by (URI, holder), for comparing answers given "in any order".
pub fn sorted_grants(mut grants: Vec<Grant>) -> Vec<Grant> {
    grants.sort_by(|a, b| (&a.uri, &a.holder).cmp(&(&b.uri, &b.holder)));
    grants
}

pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

pub const PRINCIPALS: &[(&str, PrincipalKind, bool)] = &[
    ("alice", PrincipalKind::User, true),
    ("bob", PrincipalKind::User, true),
    ("carol", PrincipalKind::User, false),
    ("dave", PrincipalKind::User, true),
    ("eng", PrincipalKind::Group, true),
    ("readers", PrincipalKind::Role, true),
];

pub const GRANTS: &[&str] = &[
    "alice storage:// list",
    "alice storage://c/u manage",
    "alice storage://c/u/x deny",
    "alice storage://c/u/x/y write",
    "alice storage://c/ux read",
    "alice storage://c/u-x list",
    "alice job://c/a read",
    "alice storage-x://c read",
    "alice storagex://c read",
    "bob storage://c/u deny",
    "bob storage://c/u/x read",
    "bob storage://c/u/x/y deny",
    "dave storage://c/ux read",
    "dave storage://c/u-x write",
    "dave storage://c/u0 read",
    "eng storage://c/u/z write",
    "eng role://readers read",
];

pub const EDGES: &[&str] = &["alice eng", "bob eng", "alice readers", "eng readers"];

pub const FENCES: &[&str] = &[
    "storage:// eng",
    "storage://c/u eng",
    "storage://c/u/x readers",
    "storage://c/ux eng",
    "job://c eng",
];

/// The fixture, committed in four transactions with actors none, alice, bob, alice: the
/// cluster and principals; the grants; the edges; the fences.
pub fn fixture<S: Store>(store: &S) {
    let mut txn = store.write().unwrap();
    txn.set_cluster(&ClusterName::new("c").unwrap()).unwrap();
    for (n, kind, active) in PRINCIPALS {
        txn.insert_principal(&record(n, *kind, *active)).unwrap();
    }
    txn.commit(change(None, "init")).unwrap();

    let mut txn = store.write().unwrap();
    for g in GRANTS {
        txn.put_grant(&grant(g)).unwrap();
    }
    txn.commit(change(Some("alice"), "grant")).unwrap();

    let mut txn = store.write().unwrap();
    for e in EDGES {
        txn.insert_edge(&edge(e)).unwrap();
    }
    txn.commit(change(Some("bob"), "add_role")).unwrap();

    let mut txn = store.write().unwrap();
    for f in FENCES {
        txn.insert_fence(&fence(f)).unwrap();
    }
    txn.commit(change(Some("alice"), "fence")).unwrap();
}

/// Everything a read view can tell, in a canonical order. Assumes the invariants: every
/// grant holder, edge end and fence group is a principal, so walking the principals finds
/// every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub revision: Revision,
    pub cluster: Option<ClusterName>,
    pub principals: Vec<PrincipalRecord>,
    pub grants: Vec<Grant>,
    pub edges: Vec<Edge>,
    pub fences: Vec<Fence>,
    pub changes: Vec<ChangeEntry>,
}

pub fn snapshot(view: &impl ReadView) -> Snapshot {
    let principals = view.principals(None, usize::MAX).unwrap();
    let all: Vec<PrincipalName> = principals.iter().map(|p| p.name.clone()).collect();
    let mut grants = Vec::new();
    for p in &all {
        grants.extend(view.grants_of(p, None, None, usize::MAX).unwrap());
    }
    let edges = sorted(
        view.roles_of(&all)
            .unwrap()
            .into_iter()
            .map(|(member, role)| Edge {
                member,
                role: role.name,
            })
            .collect(),
    );
    Snapshot {
        revision: view.revision().unwrap(),
        cluster: view.cluster().unwrap(),
        principals,
        grants: sorted_grants(grants),
        edges,
        fences: view.fences(None, None, usize::MAX).unwrap(),
        changes: view.changes(Revision(0), None, usize::MAX).unwrap(),
    }
}

/// The snapshot of the store's latest committed state.
pub fn snapshot_of<S: Store>(store: &S) -> Snapshot {
    snapshot(&store.read().unwrap())
}
