//! The follower index (DESIGN rule D3, section 9 "Replicas"): a check on the memory store
//! against the same check through the follower index of a SQLite store, medium workload,
//! and what a catch-up after one foreign commit costs. Target: the follower within 2x of
//! the memory store. Run: `cargo bench -p acl-benches --bench follower`.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::{ADMIN, RoundRobin, Size, Workload};
use acl_core::{Caller, Engine, Level, PrincipalName, Schema, Store, Timestamp, Uri};
use acl_memory::{Follower, MemoryStore};
use acl_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;

fn bench_check<S: Store>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    engine: &Engine<S>,
    queries: &[acl_benches::Query],
) {
    let mut next = RoundRobin::new(queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function(label, |b| {
        b.iter(|| {
            let q = next.next_item();
            let allowed = engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("check: {e}"));
            debug_assert_eq!(allowed, q.allowed);
            allowed
        })
    });
}

fn medium(c: &mut Criterion) {
    let workload = Workload::generate(Size::MEDIUM, SEED).unwrap_or_else(|e| panic!("{e}"));
    let memory = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load memory: {e}"));
    let queries = workload
        .queries(&memory, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = SqliteStore::open(dir.path().join("medium.db")).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = workload
        .load(store)
        .unwrap_or_else(|e| panic!("load sqlite: {e}"));
    let follower = Follower::build(sqlite.store(), Schema::standard(), sqlite.options())
        .unwrap_or_else(|e| panic!("follower: {e}"));

    let mut group = c.benchmark_group("follower/medium");
    group.measurement_time(Duration::from_secs(5));
    bench_check(&mut group, "check_memory", &memory, &queries);
    bench_check(
        &mut group,
        "check_follower_of_sqlite",
        follower.engine(),
        &queries,
    );
    drop(memory);

    // One grant committed on SQLite, then the catch-up that applies it (and the revoke
    // after, so the store stays the same size).
    let admin = PrincipalName::new(ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let by = Caller::new(admin, Timestamp(1));
    let mut i = 0;
    group.bench_function("grant_revoke_and_catch_up_sqlite", |b| {
        b.iter(|| {
            let user = &workload.users[i % workload.users.len()];
            i += 1;
            let uri = Uri::parse(&format!("storage://c/bench/x{}", i % 64))
                .unwrap_or_else(|e| panic!("{e}"));
            sqlite
                .grant(&by, &uri, user, Level::Read)
                .unwrap_or_else(|e| panic!("grant: {e}"));
            follower
                .catch_up(sqlite.store())
                .unwrap_or_else(|e| panic!("catch up: {e}"));
            sqlite
                .revoke(&by, &uri, user)
                .unwrap_or_else(|e| panic!("revoke: {e}"));
            follower
                .catch_up(sqlite.store())
                .unwrap_or_else(|e| panic!("catch up: {e}"))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = medium
}
criterion_main!(benches);
