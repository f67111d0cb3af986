//! Unit tests of the store: every method, transactions, query plans, migrations, bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bad_input;
mod group;
mod methods;
mod migrations;
mod plans;
mod reach;
mod txn;

use acl_core::WriteTxnExt;
use acl_core::{
    Change, Edge, Fence, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, Timestamp,
    Uri, WriteTxn,
};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::{SqliteStore, Store};

pub(crate) fn n(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

pub(crate) fn u(text: &str) -> Uri {
    Uri::parse(text).unwrap()
}

/// A grant from `"holder uri level"`.
pub(crate) fn g(text: &str) -> Grant {
    let mut parts = text.split(' ');
    let (holder, uri, level) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    Grant {
        holder: n(holder),
        uri: u(uri),
        level: level.parse::<Level>().unwrap(),
    }
}

/// A fence from `"uri group"`.
pub(crate) fn f(text: &str) -> Fence {
    let (uri, group) = text.split_once(' ').unwrap();
    Fence {
        uri: u(uri),
        group: n(group),
    }
}

pub(crate) fn edge(member: &str, role: &str) -> Edge {
    Edge {
        member: n(member),
        role: n(role),
    }
}

pub(crate) fn record(name: &str, kind: PrincipalKind, active: bool) -> PrincipalRecord {
    PrincipalRecord {
        name: n(name),
        kind,
        active,
    }
}

pub(crate) fn change(action: &str, actor: Option<&str>) -> Change {
    Change {
        at: Timestamp(1_700_000_000_000),
        actor: actor.map(n),
        action: action.to_owned(),
        target: "t".to_owned(),
        detail: format!("{action} detail"),
    }
}

/// The principals of the fixture.
pub(crate) const PRINCIPALS: &[(&str, PrincipalKind, bool)] = &[
    ("alice", PrincipalKind::User, true),
    ("bob", PrincipalKind::User, false),
    ("carol", PrincipalKind::User, true),
    ("g/team", PrincipalKind::Group, true),
    ("r/readers", PrincipalKind::Role, true),
];

/// The grants of the fixture: the root, siblings sharing a text prefix (`alice-x`,
/// `alice.b`), a forbid, and grants at several depths.
pub(crate) const GRANTS: &[&str] = &[
    "alice storage:// list",
    "alice storage://c/alice manage",
    "alice storage://c/alice/docs read",
    "alice storage://c/alice-x write",
    "alice job://c/alice manage",
    "bob storage://c/alice/docs deny",
    "r/readers storage://c/alice/docs/a read",
    "g/team storage://c/alice/docs/a write",
    "g/team storage://c/alice.b read",
    "carol storage://c/alice/docs/a/b/c deny",
];

pub(crate) const EDGES: &[(&str, &str)] = &[
    ("alice", "r/readers"),
    ("bob", "r/readers"),
    ("alice", "g/team"),
    ("r/readers", "g/team"),
];

pub(crate) const FENCES: &[&str] = &[
    "storage://c/alice/docs g/team",
    "storage://c/alice g/team",
    "storage://c/alice-x g/team",
    "job://c r/readers",
    "storage:// r/readers",
];

/// Writes the fixture in two commits: revision 1 by `alice` (principals, edges, grants),
/// revision 2 by the engine (cluster and fences).
pub(crate) fn fill(store: &SqliteStore) {
    let mut txn = store.write().unwrap();
    for (name, kind, active) in PRINCIPALS {
        txn.insert_principal(&record(name, *kind, *active)).unwrap();
    }
    for (member, role) in EDGES {
        txn.insert_edge(&edge(member, role)).unwrap();
    }
    for grant in GRANTS {
        txn.put_grant(&g(grant)).unwrap();
    }
    txn.commit(change("setup", Some("alice"))).unwrap();
    let mut txn = store.write().unwrap();
    txn.set_cluster(&acl_core::ClusterName::new("c").unwrap())
        .unwrap();
    for fence in FENCES {
        txn.insert_fence(&f(fence)).unwrap();
    }
    txn.commit(change("fences", None)).unwrap();
}

pub(crate) fn fixture() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    fill(&store);
    store
}

/// Every row of every table (and the schema version), as text, read with a connection of
/// its own: two raw dumps are equal exactly when the database files hold the same data.
pub(crate) fn raw_dump(store: &SqliteStore) -> Vec<String> {
    let conn =
        Connection::open_with_flags(store.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut out = Vec::new();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    out.push(format!("user_version {version}"));
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1, 2"))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i).unwrap() {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(v) => v.to_string(),
                    ValueRef::Real(v) => v.to_string(),
                    ValueRef::Text(v) => format!("{:?}", String::from_utf8_lossy(v)),
                    ValueRef::Blob(v) => format!("blob {v:?}"),
                })
                .collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    out
}
