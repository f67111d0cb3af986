//! Check throughput with 1, 2, 4 and 8 threads checking at once on one engine, memory and
//! SQLite stores, medium workload, and each count's ratio to one thread (issue 16; the
//! target is in docs/benchmarks.md, Targets: T threads >= 0.9 x T times one thread's
//! throughput, up to the machine's cores).
//!
//! Run: `cargo bench -p acl-benches --bench concurrency`.
//!
//! One iteration is one check on every thread at once: each thread runs the same number of
//! checks on a fresh read view each (as a service answering one request per check would),
//! over its own rotation of the benchmark's 1,000 queries, started together at a barrier;
//! the iteration's time is the slowest thread's. Criterion's throughput is then checks per
//! second over all threads, and the ratio printed at the end is
//! `T x median(1 thread) / median(T threads)`.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use acl_benches::report::{criterion_dir, figure, human};
use acl_benches::{Query, RoundRobin, Size, Workload};
use acl_core::{Engine, Store};
use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;
const THREADS: [usize; 4] = [1, 2, 4, 8];

/// `iters` checks on each of `threads` threads at once; the slowest thread's time.
fn checks_on_threads<S: Store>(
    engine: &Engine<S>,
    queries: &[Query],
    threads: usize,
    iters: u64,
) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    // Each thread starts at another place in the rotation.
                    let mut next = RoundRobin::new(queries).unwrap_or_else(|| panic!("no queries"));
                    for _ in 0..(t * queries.len() / threads) {
                        next.next_item();
                    }
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        let q = next.next_item();
                        let allowed = engine
                            .check(black_box(&q.principal), black_box(&q.uri), q.level)
                            .unwrap_or_else(|e| panic!("check: {e}"));
                        debug_assert_eq!(allowed, q.allowed);
                        black_box(allowed);
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| panic!("a checking thread panicked"))
            })
            .max()
            .unwrap_or_default()
    })
}

fn bench_store<S: Store>(c: &mut Criterion, label: &str, workload: &Workload, engine: &Engine<S>) {
    let queries = workload
        .queries(engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    // Warm the closure cache, as a running service's would be.
    checks_on_threads(engine, &queries, 1, QUERIES as u64);
    let group_name = format!("concurrency-{label}");
    let mut group = c.benchmark_group(&group_name);
    group.measurement_time(Duration::from_secs(if label == "memory" { 5 } else { 8 }));
    for threads in THREADS {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_with_input(
            BenchmarkId::new("threads", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| checks_on_threads(engine, &queries, threads, iters))
            },
        );
    }
    group.finish();
    report(&group_name);
}

/// Prints each thread count's throughput and its ratio to one thread, from this run's
/// criterion estimates.
fn report(group: &str) {
    let dir = criterion_dir();
    let Some(one) = figure(&dir, group, "threads/1") else {
        return;
    };
    eprintln!("\n{group} (one check per thread per iteration; ratio = T x t1 / tT):");
    for threads in THREADS {
        if let Some(f) = figure(&dir, group, &format!("threads/{threads}")) {
            let per_second = threads as f64 * 1e9 / f.median;
            let ratio = threads as f64 * one.median / f.median;
            eprintln!(
                "  {threads} thread(s): {} per iteration, {:.2} M checks/s, {ratio:.2}x one thread",
                human(f.median),
                per_second / 1e6
            );
        }
    }
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = medium
}
criterion_main!(benches);
