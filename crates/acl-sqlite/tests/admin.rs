//! Property test of the administration workflows over a `SqliteStore` (rules A3, A4, A6):
//! random operations by admins and non-admins never let a non-admin change an account or
//! a policy, never let an inactive user pass a check, a login or a keypair, and never let
//! an admitted session take usage past a limit.
//!
//! `PROPTEST_CASES` sets the number of cases (default 64).
#![allow(clippy::panic, reason = "a test fails by panicking")]

use acl_sqlite::SqliteStore;
use acl_testing::admin_props::{admin_ops, run_admin_ops};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rules A3, A4, A6: see acl_testing::admin_props
    #[test]
    fn admin_sequences_keep_the_invariants(ops in admin_ops(30)) {
        run_admin_ops(|| SqliteStore::open_in_memory().unwrap_or_else(|e| panic!("{e}")), &ops);
    }
}
