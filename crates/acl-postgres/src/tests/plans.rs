//! Every statement the store issues is an index search: with sequential scans priced out
//! (`enable_seqscan = off`), the plan of each must still read no table with a `Seq Scan`:
//! a plan that keeps one has no index to use.

use postgres::types::{ToSql, Type};

use crate::sql::all_statements;
use crate::testing::Cluster;

/// A sample value of parameter type `ty` (real values, not NULLs, which the planner may
/// fold into a plan that reads nothing).
fn sample(ty: &Type) -> Box<dyn ToSql + Sync> {
    match *ty {
        Type::INT2 => Box::new(1i16),
        Type::INT8 => Box::new(1i64),
        Type::INT4 => Box::new(1i32),
        Type::BOOL => Box::new(true),
        Type::TEXT_ARRAY => Box::new(vec!["a", "b"]),
        Type::INT2_ARRAY => Box::new(vec![1i16, 2]),
        _ => Box::new("a"),
    }
}

#[test]
fn every_statement_is_an_index_search() {
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let mut client = postgres::Client::connect(&cluster.url(&db), postgres::NoTls).unwrap();
    client.batch_execute("SET enable_seqscan = off").unwrap();
    let statements = all_statements();
    assert!(statements.len() > 60, "{}", statements.len());
    let mut failures = Vec::new();
    for (name, sql) in statements {
        let explain = client
            .prepare(&format!("EXPLAIN {sql}"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let values: Vec<Box<dyn ToSql + Sync>> = explain.params().iter().map(sample).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        let lines: Vec<String> = client
            .query(&explain, &params)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect();
        if std::env::var_os("SHOW_PLANS").is_some() {
            println!("{name}:\n  {}", lines.join("\n  "));
        }
        assert!(!lines.is_empty(), "{name}: no plan");
        for line in lines.iter().filter(|l| l.contains("Seq Scan")) {
            failures.push(format!("{name}: {}\n    {sql}", line.trim()));
        }
    }
    cluster.drop_database(&db).unwrap();
    assert!(failures.is_empty(), "full scans:\n{}", failures.join("\n"));
}
