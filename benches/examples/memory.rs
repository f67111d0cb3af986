//! Memory per grant in the memory store (docs/benchmarks.md, Targets: at most 100 bytes per grant):
//! the heap the loaded engine holds, counted by a counting allocator, divided by the
//! grants it holds. The workload's own vectors are allocated before the count starts, so
//! only the store (its rows and indexes) and the engine are counted.
//! Run: `cargo run --release -p acl-benches --example memory -- [small|medium|large]...`.

use std::alloc::System;

use acl_benches::{Size, Workload};
use acl_core::EngineOptions;
use acl_memory::MemoryStore;
use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn main() -> acl_core::Result<()> {
    let mut sizes: Vec<(String, Size)> = std::env::args()
        .skip(1)
        .filter_map(|arg| {
            let size = match arg.as_str() {
                "small" => Size::SMALL,
                "medium" => Size::MEDIUM,
                "large" => Size::LARGE,
                _ => return None,
            };
            Some((arg, size))
        })
        .collect();
    if sizes.is_empty() {
        sizes = vec![
            ("small".into(), Size::SMALL),
            ("medium".into(), Size::MEDIUM),
        ];
    }
    println!(
        "| workload | grants | heap held by the engine | bytes per grant | of which the batch of resource and membership grants |"
    );
    println!("|---|---|---|---|---|");
    for (label, size) in sizes {
        let workload = Workload::generate(size, 0x5EED)?;
        let before = ALLOCATOR.allocated();
        // `Workload::load` in its two halves, with the heap read before the batch too.
        let engine = workload.load_principals(MemoryStore::new(), EngineOptions::default())?;
        let principals = ALLOCATOR.allocated().saturating_sub(before);
        workload.load_grants(&engine)?;
        let held = ALLOCATOR.allocated().saturating_sub(before);
        let batch = held.saturating_sub(principals);
        let grants = workload.grant_count(engine.schema());
        println!(
            "| {label} | {grants} | {:.1} MiB | {:.0} | {} grants, {:.0} bytes each |",
            held as f64 / (1024.0 * 1024.0),
            held as f64 / grants.max(1) as f64,
            workload.grants.len(),
            batch as f64 / workload.grants.len().max(1) as f64
        );
        drop(engine);
    }
    Ok(())
}
