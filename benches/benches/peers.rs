//! `acl` against casbin-rs and cedar-policy on the same model and the same queries
//! (docs/benchmarks.md, Targets: at least 100x the best casbin-rs, 10x the best
//! cedar-policy), in memory, on the small and medium workloads, every configuration of
//! benches/src/peers.rs in one run: the expert ones (cedar sliced and with attributes,
//! casbin with its fast matcher) and the naive ones beside them, and casbin's request cache
//! reported apart with its hit rate. Before timing, every configuration must agree with
//! `acl` on every query it is timed on; after, one table of medians and acl/peer ratios is
//! printed. Run: `cargo bench -p acl-benches --features peers --bench peers`.
//!
//! The naive configurations evaluate every policy on every request (milliseconds a check),
//! so on medium they are timed on the first [`NAIVE_QUERIES`] queries only (criterion runs
//! them fewer times than that anyway) and checked on those. The large workload (1M grants)
//! is left to `acl` alone (bench `scaling`).
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::peers::{
    CasbinConfig, CasbinPeer, CasbinQuery, CedarConfig, CedarPeer, PeerModel,
};
use acl_benches::report::{criterion_dir, figure, human};
use acl_benches::{Query, RoundRobin, Size, Workload};
use acl_memory::MemoryStore;
use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;
/// On medium, the naive configurations are timed (and checked) on this many queries.
const NAIVE_QUERIES: usize = 100;

/// The workloads compared, with the group name criterion files them under.
const RUNS: [(&str, Size); 2] = [("peers-small", Size::SMALL), ("peers-medium", Size::MEDIUM)];

/// The rows of the table, in order: `(benchmark id, label)`.
const ROWS: [(&str, &str); 7] = [
    ("acl", "acl"),
    ("cedar-sliced", "cedar, sliced (expert)"),
    ("cedar-attributes", "cedar, grants as attributes (expert)"),
    ("casbin-fast", "casbin, fast matcher + role cache (expert)"),
    ("cedar-naive", "cedar, all links in one set (naive)"),
    ("casbin-textbook", "casbin, textbook matcher (naive)"),
    (
        "casbin-memoized",
        "casbin, CachedEnforcer (a request cache)",
    ),
];

/// What a run noted beside the times.
#[derive(Default)]
struct Notes {
    lines: Vec<String>,
}

/// The queries a configuration is timed on: all, or the first [`NAIVE_QUERIES`] of a
/// naive one on medium.
fn timed(queries: &[Query], naive: bool, size: Size) -> &[Query] {
    if naive && size != Size::SMALL {
        &queries[..NAIVE_QUERIES.min(queries.len())]
    } else {
        queries
    }
}

fn bench_casbin(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    model: &PeerModel,
    queries: &[Query],
    size: Size,
    notes: &mut Notes,
) {
    for config in CasbinConfig::ALL {
        let casbin = CasbinPeer::load(model, config).unwrap_or_else(|e| panic!("casbin: {e}"));
        let queries = timed(queries, config == CasbinConfig::Textbook, size);
        let requests: Vec<CasbinQuery> = queries.iter().map(CasbinPeer::request).collect();
        for (q, r) in queries.iter().zip(&requests) {
            let answer = casbin.check(r);
            if answer != Ok(q.allowed) {
                panic!(
                    "{group_name}: {}: {q:?}: acl {}, casbin {answer:?}",
                    config.name(),
                    q.allowed
                );
            }
        }
        casbin.cache_counters().reset();
        let mut next = RoundRobin::new(&requests).unwrap_or_else(|| panic!("no queries"));
        group.sample_size(if config == CasbinConfig::Memoized {
            30
        } else {
            10
        });
        group.bench_function(config.name(), |b| {
            b.iter(|| {
                let q = next.next_item();
                casbin.check(black_box(q)).unwrap_or_else(|e| panic!("{e}"))
            })
        });
        let (hits, misses) = casbin.cache_counters().read();
        if let Some(rate) = casbin.cache_counters().hit_rate() {
            notes.lines.push(format!(
                "{group_name}/{}: request-cache hit rate {:.2}% ({hits} hits, {misses} misses over \
                 {} distinct requests, after the agreement pass filled it)",
                config.name(),
                rate * 100.0,
                requests.len()
            ));
        }
    }
}

fn bench_cedar(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    model: &PeerModel,
    queries: &[Query],
    size: Size,
    notes: &mut Notes,
) {
    let uris: Vec<_> = queries.iter().map(|q| q.uri.clone()).collect();
    for config in CedarConfig::ALL {
        let cedar = CedarPeer::load(model, &uris, config).unwrap_or_else(|e| panic!("cedar: {e}"));
        let queries = timed(queries, config == CedarConfig::Naive, size);
        let requests: Vec<_> = queries
            .iter()
            .map(|q| cedar.request(q).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let mut sliced = 0usize;
        for (q, r) in queries.iter().zip(&requests) {
            let answer = cedar.check(r);
            if answer != Ok(q.allowed) {
                panic!(
                    "{group_name}: {}: {q:?}: acl {}, cedar {answer:?}",
                    config.name(),
                    q.allowed
                );
            }
            if config == CedarConfig::Sliced {
                sliced += cedar.slice(r).map_or(0, |s| s.policies().count());
            }
        }
        if config == CedarConfig::Sliced {
            notes.lines.push(format!(
                "{group_name}/cedar-sliced: {:.1} policies per request's slice on average, of {}",
                sliced as f64 / requests.len() as f64,
                model.grants.len()
            ));
        }
        let mut next = RoundRobin::new(&requests).unwrap_or_else(|| panic!("no queries"));
        group.sample_size(if config == CedarConfig::Naive { 10 } else { 30 });
        group.bench_function(config.name(), |b| {
            b.iter(|| {
                let q = next.next_item();
                cedar.check(black_box(q)).unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
}

fn compare(c: &mut Criterion, group_name: &str, size: Size, notes: &mut Notes) {
    let workload = Workload::generate(size, SEED).unwrap_or_else(|e| panic!("{e}"));
    let engine = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load: {e}"));
    let queries: Vec<Query> = workload
        .queries(&engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let model = PeerModel::of(&workload, engine.schema()).unwrap_or_else(|e| panic!("{e}"));
    notes.lines.push(format!(
        "{group_name}: {} grants, {} memberships, {} queries ({} for the naive configurations); \
         every configuration agreed with acl on every query it was timed on",
        model.grants.len(),
        model.memberships.len(),
        queries.len(),
        timed(&queries, true, size).len()
    ));

    let mut group = c.benchmark_group(group_name);
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("acl", |b| {
        b.iter(|| {
            let q = next.next_item();
            engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    bench_cedar(&mut group, group_name, &model, &queries, size, notes);
    bench_casbin(&mut group, group_name, &model, &queries, size, notes);
    group.finish();
}

/// A ratio: one decimal below 100, none above.
fn ratio(x: f64) -> String {
    if x < 100.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.0}x")
    }
}

/// The table: one row per configuration, per workload its median (p95 of sample means)
/// and how many times acl's median it is.
fn print_table(notes: &Notes) {
    let dir = criterion_dir();
    println!("\nacl against its peers, one run (median, p95 of sample means, x = peer / acl):\n");
    let mut header = format!("| {:<44} |", "configuration");
    let mut rule = format!("|{:-<46}|", "");
    for (group, _) in RUNS {
        header.push_str(&format!(" {group:<34} |"));
        rule.push_str(&format!("{:-<36}|", ""));
    }
    println!("{header}\n{rule}");
    let acl: Vec<_> = RUNS.iter().map(|(g, _)| figure(&dir, g, "acl")).collect();
    for (id, label) in ROWS {
        let mut line = format!("| {label:<44} |");
        for ((group, _), acl) in RUNS.iter().zip(&acl) {
            let cell = match (figure(&dir, group, id), acl) {
                (Some(f), Some(a)) if id != "acl" => format!(
                    "{} (p95 {}), {}",
                    human(f.median),
                    human(f.p95),
                    ratio(f.median / a.median)
                ),
                (Some(f), _) => format!("{} (p95 {})", human(f.median), human(f.p95)),
                (None, _) => "not run".to_owned(),
            };
            line.push_str(&format!(" {cell:<34} |"));
        }
        println!("{line}");
    }
    println!();
    for note in &notes.lines {
        println!("{note}");
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut notes = Notes::default();
    for (group, size) in RUNS {
        compare(&mut c, group, size, &mut notes);
    }
    c.final_summary();
    print_table(&notes);
}
