//! Property test of the folder workflows over a `MemoryStore` (rules F4 to F9): random
//! interleavings never break the invariants of `acl_testing::folder_props`.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256).

use acl_memory::MemoryStore;
use acl_testing::folder_props::{folder_ops, run_folder_ops};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rules F4 to F9: shares only from accepted invitations, one per folder and user, no
    // access after leave, unshare or delete, no write through ro, end states final
    #[test]
    fn folder_interleavings_keep_the_invariants(ops in folder_ops(40)) {
        run_folder_ops(MemoryStore::new, &ops);
    }
}
