//! Runs many checks of a workload in a loop, for a profiler:
//! `cargo run --release -p acl-benches --example profile_check -- [small|medium] [N]`.

use std::time::Instant;

use acl_benches::{Size, Workload};
use acl_memory::MemoryStore;

fn main() -> acl_core::Result<()> {
    let size = match std::env::args().nth(1).as_deref() {
        Some("medium") => Size::MEDIUM,
        Some("large") => Size::LARGE,
        _ => Size::SMALL,
    };
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let workload = Workload::generate(size, 0x5EED)?;
    let started = Instant::now();
    let engine = workload.load(MemoryStore::new())?;
    eprintln!("loaded in {:?}", started.elapsed());
    let queries = workload.queries(&engine, 1_000, 1)?;
    let reader = engine.reader()?;
    let sizes: Vec<usize> = queries
        .iter()
        .take(100)
        .map(|q| reader.closure(&q.principal).map(|c| c.len()))
        .collect::<acl_core::Result<_>>()?;
    drop(reader);
    let mean = sizes.iter().sum::<usize>() / sizes.len().max(1);
    eprintln!("mean closure size {mean}, max {:?}", sizes.iter().max());
    let started = Instant::now();
    let mut allowed = 0usize;
    for i in 0..n {
        if let Some(q) = queries.get(i % queries.len()) {
            allowed += usize::from(engine.check(&q.principal, &q.uri, q.level)?);
        }
    }
    let per = started.elapsed() / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    eprintln!("{n} checks, {allowed} allowed, {per:?} per check");
    Ok(())
}
