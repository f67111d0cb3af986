//! The Store conformance suite of acl-core, over a fresh SQLite store per case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

acl_testing::conformance_tests!(acl_sqlite::SqliteStore::open_in_memory().unwrap());
