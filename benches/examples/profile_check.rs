//! Runs many checks of a workload in a loop, for a profiler:
//! `cargo run --release -p acl-benches --example profile_check -- [small|medium] [N] [memory|sqlite|sqlite-nocache]`.

use std::time::Instant;

use acl_benches::{RoundRobin, Size, Workload};
use acl_core::{Engine, EngineOptions, Schema, Store};
use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;

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
    eprintln!(
        "{} users, {} roles, {} grants",
        workload.users.len(),
        workload.roles.len(),
        workload.grant_count(&Schema::standard())
    );
    let started = Instant::now();
    match std::env::args().nth(3).as_deref() {
        Some(kind @ ("sqlite" | "sqlite-nocache")) => {
            let dir = std::env::temp_dir().join(format!("acl-profile-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(acl_core::Error::storage)?;
            let path = dir.join("profile.db");
            drop(workload.load(SqliteStore::open(&path)?)?);
            let cache = if kind == "sqlite" { 65_536 } else { 0 };
            let engine = Engine::with_options(
                SqliteStore::open(&path)?,
                Schema::standard(),
                EngineOptions {
                    closure_cache: cache,
                },
            );
            eprintln!("loaded in {:?}", started.elapsed());
            let result = run(&workload, &engine, n);
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
        _ => {
            let engine = workload.load(MemoryStore::new())?;
            eprintln!("loaded in {:?}", started.elapsed());
            run(&workload, &engine, n)
        }
    }
}

fn run<S: Store>(workload: &Workload, engine: &Engine<S>, n: usize) -> acl_core::Result<()> {
    let queries = workload.queries(engine, 1_000, 1)?;
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
    if let Some(mut next) = RoundRobin::new(&queries) {
        for _ in 0..n {
            let q = next.next_item();
            allowed += usize::from(engine.check(&q.principal, &q.uri, q.level)?);
        }
    }
    let per = started.elapsed() / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    eprintln!("{n} checks, {allowed} allowed, {per:?} per check");
    Ok(())
}
