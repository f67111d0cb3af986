//! Check and grant latency on the memory and SQLite stores, medium workload
//! (docs/benchmarks.md, Targets). Run: `cargo bench -p acl-benches --bench check`.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::{ADMIN, RoundRobin, Size, Workload};
use acl_core::{
    Caller, Engine, EngineOptions, Level, PrincipalName, Schema, Store, Timestamp, Uri,
};
use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;

fn bench_store<S: Store>(c: &mut Criterion, label: &str, workload: &Workload, engine: &Engine<S>) {
    let queries = workload
        .queries(engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let mut group = c.benchmark_group(format!("{label}/medium"));
    group.measurement_time(Duration::from_secs(5));

    // A check on a fresh read view each time, as a service answering one request would.
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("check", |b| {
        b.iter(|| {
            let q = next.next_item();
            let allowed = engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("check: {e}"));
            debug_assert_eq!(allowed, q.allowed);
            allowed
        })
    });

    // Many checks on one read view (a request that checks several things).
    let reader = engine.reader().unwrap_or_else(|e| panic!("{e}"));
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("check_on_open_view", |b| {
        b.iter(|| {
            let q = next.next_item();
            reader
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("check: {e}"))
        })
    });
    drop(reader);

    // A grant and its revoke: two committed transactions, the store unchanged after.
    let admin = PrincipalName::new(ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let by = Caller::new(admin, Timestamp(1));
    let mut i = 0;
    group.bench_function("grant_and_revoke", |b| {
        b.iter(|| {
            let user = &workload.users[i % workload.users.len()];
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

    let memory = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load memory: {e}"));
    bench_store(c, "memory", &workload, &memory);
    drop(memory);

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("medium.db");
    let store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = workload
        .load(store)
        .unwrap_or_else(|e| panic!("load sqlite: {e}"));
    bench_store(c, "sqlite", &workload, &sqlite);
    drop(sqlite);

    // The same file with no in-process cache: every check reads SQLite (docs/benchmarks.md, Targets).
    let uncached = Engine::with_options(
        SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}")),
        Schema::standard(),
        EngineOptions { closure_cache: 0 },
    );
    bench_store(c, "sqlite-nocache", &workload, &uncached);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = medium
}
criterion_main!(benches);
