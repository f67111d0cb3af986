//! The `reach` table (schema step 5): the edges reachable from each principal, kept in the
//! same transaction as every edge write, so a check reads a closure (rule P3) with one range
//! scan. After any sequence of writes it must equal what a walk of `edges` gives; a failed
//! or dropped write must leave it untouched; a migrated database must have it filled.

use acl_core::{ErrorKind, PrincipalKind, ReadView, WriteTxn};
use acl_core::{ReadViewExt, WriteTxnExt};
use rusqlite::Connection;

use super::{change, edge, fixture, n, raw_dump, record};
use crate::schema::{self, MIGRATIONS};
use crate::{SqliteStore, Store};

/// The rows of `reach`, as (start, member, role) names, sorted.
fn reach_rows(conn: &Connection) -> Vec<(String, String, String)> {
    conn.prepare(
        "SELECT s.name, m.name, r.name FROM reach \
         JOIN principals AS s ON s.id = reach.start \
         JOIN principals AS m ON m.id = reach.member \
         JOIN principals AS r ON r.id = reach.role ORDER BY 1, 2, 3",
    )
    .unwrap()
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// What `reach` must hold for the edges present: for every principal with an edge, every
/// edge whose member it reaches (itself included), computed by a plain walk in Rust.
fn expected_rows(conn: &Connection) -> Vec<(String, String, String)> {
    let edges: Vec<(String, String)> = conn
        .prepare(
            "SELECT m.name, r.name FROM edges \
             JOIN principals AS m ON m.id = edges.member \
             JOIN principals AS r ON r.id = edges.role",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    let mut starts: Vec<&String> = edges.iter().map(|(m, _)| m).collect();
    starts.sort();
    starts.dedup();
    for start in starts {
        let mut reached = vec![start.clone()];
        let mut next = 0;
        while let Some(at) = reached.get(next).cloned() {
            next += 1;
            for (m, r) in &edges {
                if *m == at {
                    out.push((start.clone(), m.clone(), r.clone()));
                    if !reached.contains(r) {
                        reached.push(r.clone());
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// The `reach` rows whose copy of the role's record (schema step 6) differs from the
/// role's row in `principals`.
fn stale_copies(conn: &Connection) -> Vec<(i64, i64, i64)> {
    conn.prepare(
        "SELECT r.start, r.member, r.role FROM reach AS r JOIN principals AS p \
         ON p.id = r.role WHERE (r.role_name, r.role_kind, r.role_active) \
         IS NOT (p.name, p.kind, p.active)",
    )
    .unwrap()
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Asserts `reach` is exactly the walk of `edges`, and its copies of each role's record
/// are the role's, on the committed state of `store`.
fn assert_consistent(store: &SqliteStore) {
    let conn = Connection::open(store.path()).unwrap();
    let (rows, expected) = (reach_rows(&conn), expected_rows(&conn));
    assert_eq!(rows, expected, "reach differs from a walk of the edges");
    assert_eq!(
        stale_copies(&conn),
        vec![],
        "reach holds stale role records"
    );
}

fn add(txn: &mut crate::SqliteWrite<'_>, name: &str, kind: PrincipalKind) {
    txn.insert_principal(&record(name, kind, true)).unwrap();
}

#[test]
fn reach_follows_every_edge_insert_and_delete() {
    let store = fixture();
    assert_consistent(&store);
    // The fixture's alice reaches g/team twice (directly and through r/readers).
    let mut txn = store.write().unwrap();
    add(&mut txn, "r/top", PrincipalKind::Role);
    add(&mut txn, "r/mid", PrincipalKind::Role);
    // Edges added bottom-up and top-down: the rows of everyone below follow.
    txn.insert_edge(&edge("g/team", "r/mid")).unwrap();
    txn.insert_edge(&edge("r/mid", "r/top")).unwrap();
    txn.insert_edge(&edge("carol", "r/readers")).unwrap();
    // A present edge changes nothing.
    txn.insert_edge(&edge("carol", "r/readers")).unwrap();
    txn.commit(change("grow", None)).unwrap();
    assert_consistent(&store);
    let view = store.read().unwrap();
    let roles: Vec<String> = view
        .reachable_roles(&n("carol"))
        .unwrap()
        .into_iter()
        .map(|(m, r)| format!("{m}>{}", r.name))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        roles,
        [
            "carol>r/readers",
            "g/team>r/mid",
            "r/mid>r/top",
            "r/readers>g/team"
        ]
    );
    drop(view);

    // Deleting one of alice's two paths to g/team keeps what the other still reaches.
    let mut txn = store.write().unwrap();
    assert!(txn.delete_edge(&edge("alice", "g/team")).unwrap());
    assert!(!txn.delete_edge(&edge("alice", "g/team")).unwrap());
    assert!(!txn.delete_edge(&edge("alice", "nobody")).unwrap());
    txn.commit(change("one path", None)).unwrap();
    assert_consistent(&store);
    let view = store.read().unwrap();
    assert!(
        view.reachable_roles(&n("alice"))
            .unwrap()
            .iter()
            .any(|(_, r)| r.name.as_str() == "r/top")
    );
    drop(view);

    // Cutting the middle takes r/top from everyone below; removing every edge of a
    // principal leaves it no rows, so it can be deleted (rule P4).
    let mut txn = store.write().unwrap();
    assert!(txn.delete_edge(&edge("g/team", "r/mid")).unwrap());
    assert!(txn.delete_edge(&edge("r/mid", "r/top")).unwrap());
    txn.delete_principal(&n("r/top")).unwrap();
    txn.commit(change("cut", None)).unwrap();
    assert_consistent(&store);
}

// The store keeps whatever edges the core writes; the core refuses cycles (rule P3), but
// the table must not loop or lose rows if one is there.
#[test]
fn reach_survives_cycles_and_self_edges() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut txn = store.write().unwrap();
    for name in ["a", "b", "c", "d"] {
        add(&mut txn, name, PrincipalKind::Role);
    }
    for (m, r) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "d"), ("c", "d")] {
        txn.insert_edge(&edge(m, r)).unwrap();
    }
    txn.commit(change("cycle", None)).unwrap();
    assert_consistent(&store);
    let mut txn = store.write().unwrap();
    assert!(txn.delete_edge(&edge("c", "a")).unwrap());
    assert!(txn.delete_edge(&edge("d", "d")).unwrap());
    txn.commit(change("uncycle", None)).unwrap();
    assert_consistent(&store);
}

#[test]
fn a_dropped_transaction_leaves_reach_untouched() {
    let store = fixture();
    let before = raw_dump(&store);
    {
        let mut txn = store.write().unwrap();
        add(&mut txn, "r/new", PrincipalKind::Role);
        txn.insert_edge(&edge("g/team", "r/new")).unwrap();
        txn.delete_edge(&edge("r/readers", "g/team")).unwrap();
        // The transaction reads its own reach rows.
        let roles = txn.reachable_roles(&n("bob")).unwrap();
        assert_eq!(roles.len(), 1, "{roles:?}");
    }
    assert_eq!(raw_dump(&store), before);
    assert_consistent(&store);
}

// A failure inside the maintenance, after the edge row itself was written, undoes the edge
// too (the savepoint), and the transaction stays usable (rule M4's "a failed call changes
// nothing").
#[test]
fn a_failed_reach_update_undoes_its_edge() {
    let store = fixture();
    let conn = Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse_reach BEFORE INSERT ON reach \
         WHEN (SELECT name FROM principals WHERE id = NEW.role) = 'r/new' \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    let before = raw_dump(&store);
    let mut txn = store.write().unwrap();
    add(&mut txn, "r/new", PrincipalKind::Role);
    let err = txn.insert_edge(&edge("alice", "r/new")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(
        txn.roles_of(&[n("alice")])
            .unwrap()
            .iter()
            .all(|(_, r)| r.name.as_str() != "r/new")
    );
    // The transaction is still usable.
    txn.delete_principal(&n("r/new")).unwrap();
    txn.commit(change("nothing", None)).unwrap();
    let mut after = raw_dump(&store);
    // Commit 3 itself leaves its changelog entry and its note of `r/new` (added, then
    // removed); every other row is as before.
    after.retain(|row| {
        !row.starts_with("changelog: 3 |")
            && !row.starts_with("changed: 3 |")
            && !row.starts_with("meta:")
    });
    let mut before = before;
    before.retain(|row| !row.starts_with("meta:"));
    assert_eq!(before, after);

    // A delete whose rebuild fails is undone the same way.
    conn.execute_batch(
        "DROP TRIGGER refuse_reach;
         CREATE TRIGGER refuse_rebuild BEFORE INSERT ON reach \
         WHEN (SELECT name FROM principals WHERE id = NEW.start) = 'bob' \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    let before = raw_dump(&store);
    let mut txn = store.write().unwrap();
    let err = txn.delete_edge(&edge("r/readers", "g/team")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert_eq!(txn.roles_of(&[n("r/readers")]).unwrap().len(), 1);
    drop(txn);
    assert_eq!(raw_dump(&store), before);
}

/// Builds a version-4 database (steps 1 to 4 as released) holding the fixture's principals
/// and edges (keyed by ids), with raw SQL.
fn v4_fixture(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .unwrap();
    schema::migrate(&conn, &MIGRATIONS[..4]).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for (name, kind, active) in super::PRINCIPALS {
        conn.execute(
            "INSERT INTO principals (name, kind, active) VALUES (?1, ?2, ?3)",
            rusqlite::params![name, *kind as u8, active],
        )
        .unwrap();
    }
    for (member, role) in super::EDGES {
        conn.execute(
            "INSERT INTO edges SELECT m.id, r.id FROM principals AS m, principals AS r \
             WHERE m.name = ?1 AND r.name = ?2",
            [member, role],
        )
        .unwrap();
    }
    conn.execute_batch("UPDATE meta SET revision = 1, cluster = 'c'; COMMIT;")
        .unwrap();
}

#[test]
fn a_version_4_database_gets_its_reach_filled() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v4.db");
    v4_fixture(&old);
    let store = SqliteStore::open(&old).unwrap();
    store.check_integrity().unwrap();
    assert_consistent(&store);
    // The same rows a store writing the fixture's edges keeps.
    let reference = fixture();
    let rows = |path: &std::path::Path| reach_rows(&Connection::open(path).unwrap());
    assert_eq!(rows(&old), rows(reference.path()));
    assert_eq!(rows(&old).len(), 6, "{:?}", rows(&old));
    // And it is kept from then on.
    let mut txn = store.write().unwrap();
    assert!(txn.delete_edge(&edge("r/readers", "g/team")).unwrap());
    txn.commit(change("after", None)).unwrap();
    assert_consistent(&store);
}

// Rules E1 and P3: a check reads a role's kind and active flag from the copy its `reach`
// rows carry (schema step 6), so updating a principal must rewrite those copies in the
// same savepoint, and a dropped or failed update must leave both unchanged.
#[test]
fn updating_a_principal_rewrites_its_copies_in_reach() {
    let store = fixture();
    // Deactivate r/readers (a role reached by alice and bob) and make g/team a role.
    let mut txn = store.write().unwrap();
    txn.update_principal(&record("r/readers", PrincipalKind::Role, false))
        .unwrap();
    txn.update_principal(&record("g/team", PrincipalKind::Role, true))
        .unwrap();
    // The transaction reads its own copies.
    let graph = txn.reachable_graph(&n("alice")).unwrap();
    let readers = graph.roles.iter().find(|r| r.name.as_str() == "r/readers");
    assert_eq!(readers.map(|r| r.active), Some(false), "{graph:?}");
    txn.commit(change("update", None)).unwrap();
    assert_consistent(&store);
    let view = store.read().unwrap();
    let graph = view.reachable_graph(&n("bob")).unwrap();
    let kinds: Vec<_> = graph
        .roles
        .iter()
        .map(|r| (r.name.as_str(), r.kind))
        .collect();
    assert!(
        kinds.contains(&("g/team", PrincipalKind::Role)),
        "{kinds:?}"
    );
    drop(view);

    // A dropped transaction leaves principals and copies as they were.
    let before = raw_dump(&store);
    {
        let mut txn = store.write().unwrap();
        txn.update_principal(&record("r/readers", PrincipalKind::Role, true))
            .unwrap();
    }
    assert_eq!(raw_dump(&store), before);
    assert_consistent(&store);

    // A failed rewrite of the copies undoes the principal's update too, and the
    // transaction stays usable.
    let conn = Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse_copy BEFORE UPDATE ON reach \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    let mut txn = store.write().unwrap();
    let err = txn
        .update_principal(&record("r/readers", PrincipalKind::Role, true))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert_eq!(
        txn.principal(&n("r/readers")).unwrap().map(|r| r.active),
        Some(false)
    );
    drop(txn);
    conn.execute_batch("DROP TRIGGER refuse_copy;").unwrap();
    assert_eq!(raw_dump(&store), before);
    assert_consistent(&store);
}

/// Builds a version-5 database (steps 1 to 5 as released) holding the fixture's
/// principals and edges, with raw SQL: `reach` without the role's record.
fn v5_fixture(path: &std::path::Path) {
    v4_fixture(path);
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    schema::migrate(&conn, &MIGRATIONS[..5]).unwrap();
    // A deactivated role, so the copies must come from each principal's own row.
    conn.execute_batch("UPDATE principals SET active = 0 WHERE name = 'r/readers';")
        .unwrap();
    let columns: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('reach')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(columns, 3, "a version-5 reach has three columns");
}

#[test]
fn a_version_5_database_gets_the_role_records_copied_into_reach() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v5.db");
    v5_fixture(&old);
    let before = reach_rows(&Connection::open(&old).unwrap());
    assert_eq!(before.len(), 6, "{before:?}");
    let store = SqliteStore::open(&old).unwrap();
    store.check_integrity().unwrap();
    assert_consistent(&store);
    assert_eq!(reach_rows(&Connection::open(&old).unwrap()), before);
    let view = store.read().unwrap();
    let graph = view.reachable_graph(&n("alice")).unwrap();
    let readers = graph.roles.iter().find(|r| r.name.as_str() == "r/readers");
    assert_eq!(readers.map(|r| r.active), Some(false), "{graph:?}");
    drop(view);
    // And the copies are kept from then on.
    let mut txn = store.write().unwrap();
    txn.update_principal(&record("r/readers", PrincipalKind::Role, true))
        .unwrap();
    assert!(txn.delete_edge(&edge("r/readers", "g/team")).unwrap());
    txn.commit(change("after", None)).unwrap();
    assert_consistent(&store);
}
