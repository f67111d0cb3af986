//! Check and grant latency on PostgreSQL (acl-postgres), medium workload, against a
//! throwaway PostgreSQL 15 cluster the bench starts itself (acl-postgres's `testing`
//! feature: unix socket, `fsync = off`, so the figures are the engine's and the protocol's,
//! not a disk's). With and without the engine's closure cache; then, in one run, a check
//! on the memory store against the same check through the follower index of the
//! PostgreSQL store (rule D3, target within 2x), and two replicas: a grant committed
//! through one store until the follower of another store on the same database has applied
//! it, woken by the commit's notification (target within 1 s). Run:
//! `cargo bench -p acl-benches --bench postgres`.
#![allow(
    clippy::panic,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use acl_benches::{ADMIN, RoundRobin, Size, Workload};
use acl_core::{
    Caller, Engine, EngineOptions, Level, PrincipalName, Revision, Schema, Timestamp, Uri,
};
use acl_memory::{Follower, MemoryStore};
use acl_postgres::testing::Cluster;
use acl_postgres::{PgOptions, PgStore};
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;

fn bench_engine(c: &mut Criterion, label: &str, workload: &Workload, engine: &Engine<PgStore>) {
    let queries = workload
        .queries(engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let mut group = c.benchmark_group(format!("{label}/medium"));
    group.measurement_time(Duration::from_secs(5));
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("check", |b| {
        b.iter(|| {
            let q = next.next_item();
            engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("check: {e}"))
        })
    });
    let admin = PrincipalName::new(ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let by = Caller::new(admin, Timestamp(1));
    let mut i = 0;
    group.bench_function("grant_and_revoke", |b| {
        b.iter(|| {
            let user = workload
                .users
                .get(i % workload.users.len())
                .unwrap_or_else(|| panic!("no users"));
            i += 1;
            let uri = Uri::parse(&format!("storage://c/bench/x{}", i % 64))
                .unwrap_or_else(|e| panic!("{e}"));
            engine
                .grant(&by, &uri, user, Level::Read)
                .unwrap_or_else(|e| panic!("grant: {e}"));
            engine
                .revoke(&by, &uri, user)
                .unwrap_or_else(|e| panic!("revoke: {e}"))
        })
    });
    group.finish();
}

fn medium(c: &mut Criterion) {
    let workload = Workload::generate(Size::MEDIUM, SEED).unwrap_or_else(|e| panic!("{e}"));
    let cluster = Cluster::shared();
    let db = cluster
        .create_database()
        .unwrap_or_else(|e| panic!("database: {e}"));
    let url = cluster.url(&db);
    let store = PgStore::open(&url).unwrap_or_else(|e| panic!("{e}"));
    let engine = workload
        .load(store)
        .unwrap_or_else(|e| panic!("load postgres: {e}"));
    bench_engine(c, "postgres", &workload, &engine);
    drop(engine);
    // The same database with no closure cache: every check reads PostgreSQL.
    let uncached = Engine::with_options(
        PgStore::open_with(&url, PgOptions::default()).unwrap_or_else(|e| panic!("{e}")),
        Schema::standard(),
        EngineOptions { closure_cache: 0 },
    );
    bench_engine(c, "postgres-nocache", &workload, &uncached);
    drop(uncached);
    replicas(c, &workload, &url);
    let _ = cluster.drop_database(&db);
}

/// The follower index against the memory store, and a commit crossing two replicas.
fn replicas(c: &mut Criterion, workload: &Workload, url: &str) {
    let memory = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load memory: {e}"));
    let queries = workload
        .queries(&memory, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    // Replica A writes; replica B follows, with its own store on the same database.
    let a = Engine::new(
        PgStore::open(url).unwrap_or_else(|e| panic!("{e}")),
        Schema::standard(),
    );
    let b = PgStore::open(url).unwrap_or_else(|e| panic!("{e}"));
    let follower = Follower::build(&b, Schema::standard(), a.options())
        .unwrap_or_else(|e| panic!("follower: {e}"));
    let mut listener = b
        .listen()
        .unwrap_or_else(|e| panic!("listen: {e}"))
        .unwrap_or_else(|| panic!("PostgreSQL delivers notifications"));

    let mut group = c.benchmark_group("postgres/follower/medium");
    group.measurement_time(Duration::from_secs(5));
    for (label, engine) in [
        ("check_memory", &memory),
        ("check_follower_of_postgres", follower.engine()),
    ] {
        let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
        group.bench_function(label, |bench| {
            bench.iter(|| {
                let q = next.next_item();
                engine
                    .check(black_box(&q.principal), black_box(&q.uri), q.level)
                    .unwrap_or_else(|e| panic!("check: {e}"))
            })
        });
    }
    drop(memory);

    let admin = PrincipalName::new(ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let by = Caller::new(admin, Timestamp(1));
    // Until B's follower has applied `revision`: woken by the notification, then caught up.
    let mut follow = |revision: Revision| {
        while follower.applied() < revision {
            listener
                .wait(Duration::from_secs(1))
                .unwrap_or_else(|e| panic!("wait: {e}"));
            follower
                .catch_up(&b)
                .unwrap_or_else(|e| panic!("catch up: {e}"));
        }
    };
    let mut i = 0;
    // Timed: the grant's commit through A until B's follower answers with it. Not timed:
    // the revoke after it, which keeps the store the same size.
    group.bench_function("grant_visible_on_other_replica", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let user = workload
                    .users
                    .get(i % workload.users.len())
                    .unwrap_or_else(|| panic!("no users"));
                i += 1;
                let uri = Uri::parse(&format!("storage://c/bench/r{}", i % 64))
                    .unwrap_or_else(|e| panic!("{e}"));
                let started = Instant::now();
                let granted = a
                    .grant(&by, &uri, user, Level::Read)
                    .unwrap_or_else(|e| panic!("grant: {e}"));
                follow(granted.revision);
                total += started.elapsed();
                assert!(
                    follower
                        .engine()
                        .check(user, &uri, Level::Read)
                        .unwrap_or(false)
                );
                let revoked = a
                    .revoke(&by, &uri, user)
                    .unwrap_or_else(|e| panic!("revoke: {e}"));
                follow(revoked.revision);
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = medium
}
criterion_main!(benches);
