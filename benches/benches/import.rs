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

/// Times `grant_many` of 100k and 1M grants in the group `group`, each sample on a fresh
/// store `fresh` makes (a copy of the prepared one) with what removes it after; the 100k
/// and 1M imports are given `times` to measure.
fn bench_imports<S: Store>(
    c: &mut Criterion,
    group: &str,
    times: [Duration; 2],
    mut fresh: impl FnMut() -> (S, Box<dyn FnOnce()>),
) {
    let by = Caller::new(name(ADMIN), Timestamp(1));
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    for (count, time) in [100_000usize, 1_000_000].into_iter().zip(times) {
        let batch = grants(count);
        group.measurement_time(time);
        group.bench_function(format!("grant_many_{count}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (store, discard) = fresh();
                    let engine = Engine::new(store, Schema::standard());
                    let started = Instant::now();
                    engine
                        .grant_many(&by, &batch)
                        .unwrap_or_else(|e| panic!("import: {e}"));
                    total += started.elapsed();
                    drop(engine);
                    discard();
                }
                total
            })
        });
    }
    group.finish();
}

fn import(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = dir.path().join("template.db");
    template(SqliteStore::open(&base).unwrap_or_else(|e| panic!("{e}")));
    let mut copies = 0u64;
    bench_imports(
        c,
        "sqlite/import",
        [20, 120].map(Duration::from_secs),
        || {
            copies += 1;
            let path = dir.path().join(format!("import-{copies}.db"));
            std::fs::copy(&base, &path).unwrap_or_else(|e| panic!("{e}"));
            let store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
            (store, Box::new(move || drop(std::fs::remove_file(&path))))
        },
    );
}

fn import_postgres(c: &mut Criterion) {
    let cluster = Cluster::shared();
    let base = cluster
        .create_database()
        .unwrap_or_else(|e| panic!("database: {e}"));
    // Closed (dropped) before any copy is made of it.
    template(PgStore::open(&cluster.url(&base)).unwrap_or_else(|e| panic!("{e}")));
    bench_imports(
        c,
        "postgres/import",
        [40, 400].map(Duration::from_secs),
        || {
            let db = cluster
                .copy_database(&base)
                .unwrap_or_else(|e| panic!("copy: {e}"));
            let store = PgStore::open(&cluster.url(&db)).unwrap_or_else(|e| panic!("{e}"));
            (store, Box::new(move || drop(cluster.drop_database(&db))))
        },
    );
    let _ = cluster.drop_database(&base);
}

criterion_group!(benches, import, import_postgres);
criterion_main!(benches);
