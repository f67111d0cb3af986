//! `acl` against casbin-rs and cedar-policy on the same model and the same queries
//! (docs/benchmarks.md, Targets: at least 100x casbin-rs, 10x cedar-policy), in memory, on the small
//! and medium workloads. Before timing, each peer must agree with `acl` on every query of
//! the run; after, the acl/peer ratios of the medians are printed per workload.
//! Run: `cargo bench -p acl-benches --features peers --bench peers`.
//!
//! The large workload (1M grants) is left to `acl` alone (bench `scaling`): both peers
//! evaluate their policies one by one, so one of their checks on it takes seconds.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::Duration;

use acl_benches::peers::{CasbinPeer, CasbinQuery, CedarPeer, CedarQuery, PeerModel};
use acl_benches::report::{criterion_dir, figure, human};
use acl_benches::{Query, RoundRobin, Size, Workload};
use acl_memory::MemoryStore;
use criterion::Criterion;

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;

/// The workloads compared, with the group name criterion files them under.
const RUNS: [(&str, Size); 2] = [("peers-small", Size::SMALL), ("peers-medium", Size::MEDIUM)];

fn compare(c: &mut Criterion, group_name: &str, size: Size) {
    let workload = Workload::generate(size, SEED).unwrap_or_else(|e| panic!("{e}"));
    let engine = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load: {e}"));
    let queries: Vec<Query> = workload
        .queries(&engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let model = PeerModel::of(&workload, engine.schema()).unwrap_or_else(|e| panic!("{e}"));
    let casbin = CasbinPeer::load(&model).unwrap_or_else(|e| panic!("casbin: {e}"));
    let uris: Vec<_> = queries.iter().map(|q| q.uri.clone()).collect();
    let cedar = CedarPeer::load(&model, &uris).unwrap_or_else(|e| panic!("cedar: {e}"));
    let casbin_queries: Vec<CasbinQuery> = queries.iter().map(CasbinPeer::request).collect();
    let cedar_queries: Vec<CedarQuery> = queries
        .iter()
        .map(|q| CedarPeer::request(&model, q).unwrap_or_else(|e| panic!("{e}")))
        .collect();

    // The comparison is honest only if the three give the same answers.
    for (i, q) in queries.iter().enumerate() {
        let by_casbin = casbin.check(&casbin_queries[i]);
        let by_cedar = cedar.check(&cedar_queries[i]);
        if by_casbin != Ok(q.allowed) || by_cedar != Ok(q.allowed) {
            panic!(
                "{group_name}: {q:?}: acl {}, casbin {by_casbin:?}, cedar {by_cedar:?}",
                q.allowed
            );
        }
    }
    eprintln!(
        "{group_name}: {} grants, {} memberships; casbin and cedar agree with acl on {} queries",
        model.grants.len(),
        model.memberships.len(),
        queries.len()
    );

    let mut group = c.benchmark_group(group_name);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    group.bench_function("acl", |b| {
        b.iter(|| {
            let q = next.next_item();
            engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    let mut next = RoundRobin::new(&cedar_queries).unwrap_or_else(|| panic!("no cedar_queries"));
    group.bench_function("cedar", |b| {
        b.iter(|| {
            let q = next.next_item();
            cedar.check(black_box(q)).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    // casbin's checks take milliseconds: fewer samples, as criterion allows.
    group.sample_size(10);
    let mut next = RoundRobin::new(&casbin_queries).unwrap_or_else(|| panic!("no casbin_queries"));
    group.bench_function("casbin", |b| {
        b.iter(|| {
            let q = next.next_item();
            casbin.check(black_box(q)).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

fn print_ratios() {
    let dir = criterion_dir();
    println!("\nacl against its peers (medians; p95 of sample means):");
    for (group, _) in RUNS {
        let [Some(acl), cedar, casbin] =
            ["acl", "cedar", "casbin"].map(|id| figure(&dir, group, id))
        else {
            continue;
        };
        let mut line = format!(
            "{group}: acl {} (p95 {})",
            human(acl.median),
            human(acl.p95)
        );
        for (name, peer) in [("cedar", cedar), ("casbin", casbin)] {
            if let Some(peer) = peer {
                line.push_str(&format!(
                    "; {name} {} (p95 {}), {:.0}x slower than acl",
                    human(peer.median),
                    human(peer.p95),
                    peer.median / acl.median
                ));
            }
        }
        println!("{line}");
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (group, size) in RUNS {
        compare(&mut c, group, size);
    }
    c.final_summary();
    print_ratios();
}
