//! The closure cache over a `MemoryStore` (DESIGN section 9 "under writes", rule E7): every
//! cached closure equals a fresh one after random writes and liveness changes, and writes
//! that change no membership keep the cache.
//!
//! `PROPTEST_CASES` sets the number of cases (default 2,000).

use acl_memory::MemoryStore;
use acl_testing::cache_props::{
    cache_steps, run_cache_audit, writes_keep_the_closures_they_cannot_change,
};
use acl_testing::strategies::{Universe, query};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

#[test]
fn writes_keep_the_closures_they_cannot_change_on_memory() {
    writes_keep_the_closures_they_cannot_change(MemoryStore::new());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // section 9 "under writes": the cache is never wrong
    #[test]
    fn every_cached_closure_is_fresh_after_random_writes_on_memory(
        steps in cache_steps(&Universe::small()),
        queries in vec(query(&Universe::small()), 1..8),
    ) {
        let run = run_cache_audit(MemoryStore::new, &Universe::small(), &steps, &queries);
        prop_assert_eq!(run.audits, steps.len());
        prop_assert!(steps.is_empty() || run.compared > 0, "{:?}", run);
    }
}
