//! Every statement the store issues is an index search: `EXPLAIN QUERY PLAN` of each must
//! not `SCAN` a table of the schema.

use rusqlite::Connection;

use crate::sql::all_statements;
use crate::{SqliteStore, Store};

/// The schema's tables, and the aliases the statements give them (`grants AS g`, ...).
const TABLES: &[&str] = &[
    "meta",
    "principals",
    "grants",
    "edges",
    "fences",
    "changelog",
    "folders",
    "shares",
    "invitations",
    "vms",
    "policies",
    "accounts",
    "keypairs",
    "sessions",
    "group_info",
    "reach",
    "g",
    "e",
    "p",
    "f",
    "m",
    "r",
    "s",
    "x",
    "y",
];

/// The plan lines of `sql` that scan a schema table (a scan of constant rows or of a CTE
/// is fine: it is the input list itself).
fn full_scans(conn: &Connection, sql: &str) -> (Vec<String>, Vec<String>) {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let n = stmt.parameter_count();
    let lines: Vec<String> = stmt
        .query_map(
            rusqlite::params_from_iter(vec![rusqlite::types::Null; n]),
            |row| row.get::<_, String>(3),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let scans = lines
        .iter()
        .filter(|line| {
            line.strip_prefix("SCAN ")
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|table| TABLES.contains(&table))
        })
        .cloned()
        .collect();
    (lines, scans)
}

#[test]
fn every_statement_is_an_index_search() {
    let store = SqliteStore::open_in_memory().unwrap();
    let view = store.read().unwrap();
    let conn = view.conn().unwrap();
    let mut failures = Vec::new();
    let statements = all_statements();
    assert!(statements.len() > 40, "{}", statements.len());
    for (name, sql) in statements {
        let (lines, scans) = full_scans(conn, &sql);
        if std::env::var_os("SHOW_PLANS").is_some() {
            println!("{name}:\n  {}", lines.join("\n  "));
        }
        for line in scans {
            failures.push(format!("{name}: {line}\n    {sql}"));
        }
    }
    assert!(failures.is_empty(), "full scans:\n{}", failures.join("\n"));
}

// The detector itself: a query without a usable index is caught.
#[test]
fn the_plan_check_catches_a_full_scan() {
    let store = SqliteStore::open_in_memory().unwrap();
    let view = store.read().unwrap();
    let conn = view.conn().unwrap();
    for sql in [
        "SELECT holder FROM grants WHERE level = ?1",
        "SELECT * FROM principals WHERE kind = 1",
        "SELECT g.uri FROM grants AS g JOIN edges AS e ON e.role = g.holder",
        "SELECT * FROM changelog WHERE target = ?1",
    ] {
        let (lines, scans) = full_scans(conn, sql);
        assert!(!scans.is_empty(), "{sql}: {lines:?}");
    }
}

/// Runs the read statement `sql` to the end with every parameter bound to `value`, except
/// a trailing `LIMIT` parameter, bound to the integer `limit`.
fn run_with(
    stmt: &mut rusqlite::CachedStatement<'_>,
    sql: &str,
    value: rusqlite::types::Value,
    limit: i64,
) {
    let n = stmt.parameter_count();
    let mut params: Vec<rusqlite::types::Value> = vec![value; n];
    if sql.contains("LIMIT +?")
        && let Some(last) = params.last_mut()
    {
        *last = limit.into();
    }
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).unwrap();
    while rows.next().unwrap().is_some() {}
}

// A cached statement must stay prepared whatever values are bound: SQLite prepares again
// a statement whose plan used a bound value (a bare `LIMIT ?n`, a `LIKE ?n`, an equality
// whose value might be 0 or 1) each time that value changes, and each time the statement
// cache clears its bindings, which costs more than most lookups themselves. Each run
// takes the statement from the cache and gives it back, as the store does.
#[test]
fn no_read_statement_is_prepared_again_when_rebound() {
    let store = crate::tests::fixture();
    let view = store.read().unwrap();
    let conn = view.conn().unwrap();
    let mut failures = Vec::new();
    for (name, sql) in all_statements() {
        let head = sql.trim_start();
        if !(head.starts_with("SELECT") || head.starts_with("WITH")) || sql.contains("INSERT") {
            continue;
        }
        // Statements keyed by principal ids get integers, including 0 and 1.
        let values: Vec<rusqlite::types::Value> = if name == "REACH_STARTS_OF" {
            vec![1.into(), 5.into(), 0.into(), 7.into()]
        } else {
            ["alice", "bob", "storage://c"]
                .map(|v| v.to_owned().into())
                .to_vec()
        };
        for (limit, value) in (1..).zip(values) {
            let mut stmt = conn.prepare_cached(&sql).unwrap();
            run_with(&mut stmt, &sql, value, limit);
        }
        let stmt = conn.prepare_cached(&sql).unwrap();
        let again = stmt.get_status(rusqlite::StatementStatus::RePrepare);
        if again > 0 {
            failures.push(format!("{name}: prepared again {again} times\n    {sql}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
