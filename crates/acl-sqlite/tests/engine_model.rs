//! The engine over SQLite against acl-core's naive reference model, on generated operation
//! sequences: every op's result and revision, and every read at three probes, must agree.
//!
//! `PROPTEST_CASES` sets the number of cases (default 1,000: each case opens a SQLite file, about 12 ms).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use acl_sqlite::SqliteStore;
use acl_testing::differential::run_differential;
use acl_testing::strategies::{Universe, model, query};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // the engine over SQLite agrees with the model
    #[test]
    fn engine_over_sqlite_matches_the_model(
        ops in model(&Universe::small()),
        queries in vec(query(&Universe::small()), 0..8),
    ) {
        run_differential(|| SqliteStore::open_in_memory().unwrap(), &ops, &queries);
    }
}
