//! The platform's property suites over a `PgStore`: folder workflows (rules F4 to F9) and
//! administration (rules A3, A4, A6) keep their invariants under random interleavings.
//!
//! `PROPTEST_CASES` sets the number of cases (default 32 each: each case makes a database).

use acl_testing::admin_props::{admin_ops, run_admin_ops};
use acl_testing::folder_props::{folder_ops, run_folder_ops};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rules F4 to F9: see acl_testing::folder_props
    #[test]
    fn folder_interleavings_keep_the_invariants(ops in folder_ops(40)) {
        run_folder_ops(acl_postgres::testing::store, &ops);
    }

    // rules A3, A4, A6: see acl_testing::admin_props
    #[test]
    fn admin_sequences_keep_the_invariants(ops in admin_ops(30)) {
        run_admin_ops(acl_postgres::testing::store, &ops);
    }
}
