//! Differential property test: the engine over a `MemoryStore` against the naive reference
//! model of acl-core, on generated operation sequences over a small universe (so grants,
//! roles and fences collide often). Every op's result and revision, and at three probes
//! every read (check, explain and its evidence, list, shared, who, tree), must agree.
//!
//! `PROPTEST_CASES` sets the number of cases (default 10,000).

use acl_memory::MemoryStore;
use acl_testing::differential::run_differential;
use acl_testing::strategies::{Universe, model, query};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rules E1 to E6, M1 to M4, P2 to P5: the engine agrees with the model
    #[test]
    fn engine_over_memory_matches_the_model(
        ops in model(&Universe::small()),
        queries in vec(query(&Universe::small()), 0..8),
    ) {
        run_differential(MemoryStore::new, &ops, &queries);
    }
}
