//! Imports N grants with `grant_many` into a fresh database of a throwaway PostgreSQL 15
//! cluster, for a profiler: `cargo run --release -p acl-benches --example
//! profile_import_pg -- [N]`.
#![allow(clippy::panic, reason = "a profiling run aborts on a broken setup")]

use std::time::Instant;

use acl_core::{Engine, Schema};
use acl_postgres::PgStore;
use acl_postgres::testing::Cluster;

fn main() -> acl_core::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let cluster = Cluster::shared();
    let db = cluster
        .create_database()
        .unwrap_or_else(|e| panic!("database: {e}"));
    let engine = Engine::new(PgStore::open(&cluster.url(&db))?, Schema::standard());
    let (by, batch) = acl_benches::import_model(&engine, n)?;
    let started = Instant::now();
    engine.grant_many(&by, &batch)?;
    eprintln!("{n} grants in {:?}", started.elapsed());
    drop(engine);
    let _ = cluster.drop_database(&db);
    Ok(())
}
