//! The engine over PostgreSQL against acl-testing's naive reference model, on generated
//! operation sequences (DESIGN rule D1): every op's result and revision, and every read
//! at three probes, must agree.
//!
//! `PROPTEST_CASES` sets the number of cases (default 128: each case makes databases, about 1 s).

use acl_testing::differential::run_differential;
use acl_testing::strategies::{Universe, model, query};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rule D1: the engine over PostgreSQL agrees with the model
    #[test]
    fn engine_over_postgres_matches_the_model(
        ops in model(&Universe::small()),
        queries in vec(query(&Universe::small()), 0..8),
    ) {
        run_differential(acl_postgres::testing::store, &ops, &queries);
    }
}
