//! The acl-core Store conformance suite, run against the memory store.

acl_core::conformance_tests!(acl_memory::MemoryStore::new());
