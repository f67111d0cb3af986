//! The closure cache over a `PgStore` (DESIGN section 9 "under writes", rule E7): every
//! cached closure equals a fresh one after random writes and liveness changes, and writes
//! that change no membership keep the cache (the `noted` table answers
//! `membership_changes`).
//!
//! `PROPTEST_CASES` sets the number of cases (default 64: each case makes a database).

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
        .unwrap_or(64)
}

#[test]
fn writes_keep_the_closures_they_cannot_change_on_postgres() {
    writes_keep_the_closures_they_cannot_change(acl_postgres::testing::store());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // section 9 "under writes": the cache is never wrong
    #[test]
    fn every_cached_closure_is_fresh_after_random_writes_on_postgres(
        steps in cache_steps(&Universe::small()),
        queries in vec(query(&Universe::small()), 1..8),
    ) {
        let run = run_cache_audit(acl_postgres::testing::store, &Universe::small(), &steps, &queries);
        prop_assert_eq!(run.audits, steps.len());
        prop_assert!(steps.is_empty() || run.compared > 0, "{:?}", run);
    }
}
