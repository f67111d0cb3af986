//! The acl-core Store conformance suite, run against the memory store.

acl_testing::conformance_tests!(acl_memory::MemoryStore::new());
