//! The read calls besides check, medium workload, memory and SQLite
//! (docs/benchmarks.md, Targets; rule E6): `explain` on the check queries, `list` for a user reaching 1,000 grants
//! through a role, `who` on a URI 1,000 users reach through a role. Run: `cargo bench -p
//! acl-benches --bench queries`.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::{RoundRobin, Size, Workload, add_crowd, add_listing};
use acl_core::{Engine, Level, ListFilter, PageRequest, Store};
use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const FAN: usize = 1_000;

fn bench_store<S: Store>(c: &mut Criterion, label: &str, workload: &Workload, engine: &Engine<S>) {
    let queries = workload
        .queries(engine, 1_000, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let lister = add_listing(engine, "lister", FAN).unwrap_or_else(|e| panic!("{e}"));
    let crowd =
        add_crowd(engine, "crowd", &workload.users[..FAN]).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group(format!("{label}-medium"));
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(30);

    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("explain", |b| {
        b.iter(|| {
            let q = next.next_item();
            engine
                .explain(black_box(&q.principal), black_box(&q.uri))
                .unwrap_or_else(|e| panic!("explain: {e}"))
        })
    });
    let reader = engine.reader().unwrap_or_else(|e| panic!("{e}"));
    let listed = reader
        .list(&lister, &ListFilter::all(), &PageRequest::all())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        listed.items.len() >= FAN,
        "list gave {}",
        listed.items.len()
    );
    group.bench_function("list_1k", |b| {
        b.iter(|| {
            reader
                .list(black_box(&lister), &ListFilter::all(), &PageRequest::all())
                .unwrap_or_else(|e| panic!("list: {e}"))
        })
    });
    let who = reader
        .who(&crowd, Level::Read, &PageRequest::all())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(who.items.len() >= FAN, "who gave {}", who.items.len());
    group.bench_function("who_1k", |b| {
        b.iter(|| {
            reader
                .who(black_box(&crowd), Level::Read, &PageRequest::all())
                .unwrap_or_else(|e| panic!("who: {e}"))
        })
    });
    drop(reader);
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
    let store = SqliteStore::open(dir.path().join("medium.db")).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = workload
        .load(store)
        .unwrap_or_else(|e| panic!("load sqlite: {e}"));
    bench_store(c, "sqlite", &workload, &sqlite);
}

criterion_group!(benches, medium);
criterion_main!(benches);
