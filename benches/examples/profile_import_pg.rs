//! Imports N grants with `grant_many` into a fresh database of a throwaway PostgreSQL 15
//! cluster, for a profiler: `cargo run --release -p acl-benches --example
//! profile_import_pg -- [N]`.
#![allow(clippy::panic, reason = "a profiling run aborts on a broken setup")]

use std::time::Instant;

use acl_benches::{ADMIN, Rng};
use acl_core::{
    Caller, ClusterName, Engine, Level, PrincipalKind, PrincipalName, Schema, Timestamp, Uri,
};
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
    let admin = PrincipalName::new(ADMIN)?;
    let by = Caller::new(admin.clone(), Timestamp(0));
    engine.init(&ClusterName::new("c")?, Some(&admin), Timestamp(0))?;
    let roles: Vec<PrincipalName> = (0..100)
        .map(|r| PrincipalName::new(&format!("c/roles/r{r:03}")))
        .collect::<acl_core::Result<_>>()?;
    for role in &roles {
        engine.add_role(&by, role, PrincipalKind::Role)?;
    }
    let mut rng = Rng::new(1);
    let batch = (0..n)
        .map(|i| {
            let holder = roles
                .get(rng.below(roles.len()))
                .cloned()
                .unwrap_or(admin.clone());
            let uri = Uri::parse(&format!(
                "storage://c/p{}/d{}/f{i}",
                rng.below(100),
                rng.below(10)
            ))?;
            Ok((uri, holder, Level::Read))
        })
        .collect::<acl_core::Result<Vec<_>>>()?;
    let started = Instant::now();
    engine.grant_many(&by, &batch)?;
    eprintln!("{n} grants in {:?}", started.elapsed());
    drop(engine);
    let _ = cluster.drop_database(&db);
    Ok(())
}
