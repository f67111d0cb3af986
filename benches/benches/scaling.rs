//! Scaling curves of a check in memory (docs/benchmarks.md, Targets; rule E7): as the store grows
//! (the small, medium and large workloads: about 10k, 100k and 1M grants), as the
//! membership path grows (1 to 8 roles between the user and the grant) and as the URI
//! grows (1 to 12 segments). Depth curves run on the small workload with one chain added
//! per point (`acl_benches::add_chain`), with the engine's closure cache (the default) and
//! without it. Run: `cargo bench -p acl-benches --bench scaling` (with `ACL_BENCH_LARGE=1`
//! for the 1M-grant point, whose load takes minutes); the tables of docs/benchmarks.md are
//! printed at the end.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::report::{criterion_dir, figure, human};
use acl_benches::{Query, RoundRobin, Size, Workload, add_chain};
use acl_core::{Engine, EngineOptions, Store};
use acl_memory::MemoryStore;
use criterion::{BenchmarkId, Criterion};

const SEED: u64 = 0x5EED;
const STORES: [(&str, Size); 3] = [
    ("10k", Size::SMALL),
    ("100k", Size::MEDIUM),
    ("1M", Size::LARGE),
];
const ROLE_DEPTHS: std::ops::RangeInclusive<usize> = 1..=8;
const URI_DEPTHS: std::ops::RangeInclusive<usize> = 1..=12;

fn check_all<S: Store>(
    c: &mut Criterion,
    group: &str,
    id: BenchmarkId,
    engine: &Engine<S>,
    queries: &[Query],
) {
    let mut g = c.benchmark_group(group);
    g.sample_size(30);
    g.warm_up_time(Duration::from_secs(1));
    let mut next = RoundRobin::new(queries).unwrap_or_else(|| panic!("no queries"));
    g.bench_function(id, |b| {
        b.iter(|| {
            let q = next.next_item();
            let allowed = engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("{e}"));
            debug_assert_eq!(allowed, q.allowed);
            allowed
        })
    });
    g.finish();
}

fn store_size(c: &mut Criterion) {
    // Loading the large workload takes minutes: only when asked.
    let large = std::env::var_os("ACL_BENCH_LARGE").is_some();
    for (label, size) in STORES {
        if size == Size::LARGE && !large {
            eprintln!("store {label}: skipped (set ACL_BENCH_LARGE=1 to load it)");
            continue;
        }
        let workload = Workload::generate(size, SEED).unwrap_or_else(|e| panic!("{e}"));
        let engine = workload
            .load(MemoryStore::new())
            .unwrap_or_else(|e| panic!("load: {e}"));
        let queries = workload
            .queries(&engine, 1_000, 1)
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "store {label}: {} grants",
            workload.grant_count(engine.schema())
        );
        check_all(
            c,
            "scaling-store",
            BenchmarkId::from_parameter(label),
            &engine,
            &queries,
        );
    }
}

/// The small workload with one chain per point, in an engine with or without the
/// closure cache.
fn depths(c: &mut Criterion) {
    let workload = Workload::generate(Size::SMALL, SEED).unwrap_or_else(|e| panic!("{e}"));
    for (cache, suffix) in [
        (EngineOptions::default().closure_cache, ""),
        (0, "-nocache"),
    ] {
        let engine = workload
            .load_with(
                MemoryStore::new(),
                EngineOptions {
                    closure_cache: cache,
                },
            )
            .unwrap_or_else(|e| panic!("load: {e}"));
        let roles: Vec<(usize, Query)> = ROLE_DEPTHS
            .map(|d| {
                (
                    d,
                    add_chain(&engine, &format!("rd{d}"), d, 4).unwrap_or_else(|e| panic!("{e}")),
                )
            })
            .collect();
        let uris: Vec<(usize, Query)> = URI_DEPTHS
            .map(|d| {
                (
                    d,
                    add_chain(&engine, &format!("ud{d}"), 2, d).unwrap_or_else(|e| panic!("{e}")),
                )
            })
            .collect();
        for (d, q) in &roles {
            check_all(
                c,
                &format!("scaling-role-depth{suffix}"),
                BenchmarkId::from_parameter(d),
                &engine,
                std::slice::from_ref(q),
            );
        }
        for (d, q) in &uris {
            check_all(
                c,
                &format!("scaling-uri-depth{suffix}"),
                BenchmarkId::from_parameter(d),
                &engine,
                std::slice::from_ref(q),
            );
        }
    }
}

fn print_table() {
    let dir = criterion_dir();
    let row = |group: &str, id: &str| {
        figure(&dir, group, id)
            .map(|f| format!("{} (p95 {})", human(f.median), human(f.p95)))
            .unwrap_or_else(|| "not run".to_owned())
    };
    println!("\n| store | check, median (p95) |\n|---|---|");
    for (label, _) in STORES {
        println!("| {label} grants | {} |", row("scaling-store", label));
    }
    println!("\n| role depth | check, closure cache | check, no cache |\n|---|---|---|");
    for d in ROLE_DEPTHS {
        let id = d.to_string();
        println!(
            "| {d} | {} | {} |",
            row("scaling-role-depth", &id),
            row("scaling-role-depth-nocache", &id)
        );
    }
    println!("\n| URI depth | check, closure cache | check, no cache |\n|---|---|---|");
    for d in URI_DEPTHS {
        let id = d.to_string();
        println!(
            "| {d} | {} | {} |",
            row("scaling-uri-depth", &id),
            row("scaling-uri-depth-nocache", &id)
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    depths(&mut c);
    store_size(&mut c);
    c.final_summary();
    print_table();
}
