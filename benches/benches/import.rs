//! Bulk import through the engine: `Engine::grant_many` of N grants in one transaction,
//! every grant authorized and validated, on a SQLite file (docs/benchmarks.md, Targets: 1M
//! grants in at most 15 s) and on PostgreSQL (1M in at most 60 s, issue 19), against the
//! throwaway PostgreSQL 15 cluster of acl-postgres's `testing` feature. Run: `cargo bench
//! -p acl-benches --bench import` (`-- sqlite` or `-- postgres` for one of them).
//!
//! Each sample copies a prepared database (init, 1,000 roles, 1,000 users) to a fresh
//! file or database, so only the import itself is timed.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::time::{Duration, Instant};

use acl_benches::{ADMIN, Rng};
use acl_core::{
    Caller, ClusterName, Engine, Level, PrincipalKind, PrincipalName, Schema, Store, Timestamp, Uri,
};
use acl_postgres::PgStore;
use acl_postgres::testing::Cluster;
use acl_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const USERS: usize = 1_000;
const ROLES: usize = 1_000;

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap_or_else(|e| panic!("{e}"))
}

/// `count` distinct grants to users and roles on storage URIs 3 to 6 segments deep.
fn grants(count: usize) -> Vec<(Uri, PrincipalName, Level)> {
    let mut rng = Rng::new(0x1A9D);
    (0..count)
        .map(|i| {
            let holder = if i % 2 == 0 {
                name(&format!("u{:04}", rng.below(USERS)))
            } else {
                name(&format!("c/roles/r{:04}", rng.below(ROLES)))
            };
            // `i` in the last segment keeps every (holder, URI) pair distinct
            let uri = Uri::parse(&format!(
                "storage://c/p{}/d{}/e{}/f{i}",
                rng.below(100),
                rng.below(10),
                rng.below(10)
            ))
            .unwrap_or_else(|e| panic!("{e}"));
            let level = [Level::List, Level::Read, Level::Write, Level::Manage][i % 4];
            (uri, holder, level)
        })
        .collect()
}

/// Prepares `store`: init, [`ROLES`] roles and [`USERS`] users.
fn template<S: Store>(store: S) {
    let engine = Engine::new(store, Schema::standard());
    let admin = name(ADMIN);
    let by = Caller::new(admin.clone(), Timestamp(0));
    let cluster = ClusterName::new("c").unwrap_or_else(|e| panic!("{e}"));
    engine
        .init(&cluster, Some(&admin), Timestamp(0))
        .unwrap_or_else(|e| panic!("{e}"));
    for r in 0..ROLES {
        engine
            .add_role(&by, &name(&format!("c/roles/r{r:04}")), PrincipalKind::Role)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for u in 0..USERS {
        engine
            .create_user(&by, &name(&format!("u{u:04}")))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn import(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = dir.path().join("template.db");
    template(SqliteStore::open(&base).unwrap_or_else(|e| panic!("{e}")));
    let by = Caller::new(name(ADMIN), Timestamp(1));
    let mut group = c.benchmark_group("sqlite/import");
    group.sample_size(10);
    for count in [100_000usize, 1_000_000] {
        let batch = grants(count);
        group.measurement_time(Duration::from_secs(if count > 100_000 { 120 } else { 20 }));
        group.bench_function(format!("grant_many_{count}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let path = dir.path().join(format!("import-{count}-{i}.db"));
                    std::fs::copy(&base, &path).unwrap_or_else(|e| panic!("{e}"));
                    let engine = Engine::new(
                        SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}")),
                        Schema::standard(),
                    );
                    let started = Instant::now();
                    engine
                        .grant_many(&by, &batch)
                        .unwrap_or_else(|e| panic!("import: {e}"));
                    total += started.elapsed();
                    drop(engine);
                    let _ = std::fs::remove_file(&path);
                }
                total
            })
        });
    }
    group.finish();
}

fn import_postgres(c: &mut Criterion) {
    let cluster = Cluster::shared();
    let base = cluster
        .create_database()
        .unwrap_or_else(|e| panic!("database: {e}"));
    // Closed (dropped) before any copy is made of it.
    template(PgStore::open(&cluster.url(&base)).unwrap_or_else(|e| panic!("{e}")));
    let by = Caller::new(name(ADMIN), Timestamp(1));
    let mut group = c.benchmark_group("postgres/import");
    group.sample_size(10);
    for count in [100_000usize, 1_000_000] {
        let batch = grants(count);
        group.measurement_time(Duration::from_secs(if count > 100_000 { 400 } else { 40 }));
        group.bench_function(format!("grant_many_{count}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let db = cluster
                        .copy_database(&base)
                        .unwrap_or_else(|e| panic!("copy: {e}"));
                    let engine = Engine::new(
                        PgStore::open(&cluster.url(&db)).unwrap_or_else(|e| panic!("{e}")),
                        Schema::standard(),
                    );
                    let started = Instant::now();
                    engine
                        .grant_many(&by, &batch)
                        .unwrap_or_else(|e| panic!("import: {e}"));
                    total += started.elapsed();
                    drop(engine);
                    let _ = cluster.drop_database(&db);
                }
                total
            })
        });
    }
    group.finish();
    let _ = cluster.drop_database(&base);
}

criterion_group!(benches, import, import_postgres);
criterion_main!(benches);
