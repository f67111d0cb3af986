//! Dump and restore across backends (rule D5): a dump of a SQLite store restored into a
//! memory store, and the other way, is dumped again as the same bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use acl_testing::dump::d5_round_trip_between;

// rule D5: SQLite -> memory
#[test]
fn sqlite_dump_restores_into_memory_identically() {
    d5_round_trip_between(
        &|| SqliteStore::open_in_memory().unwrap(),
        &MemoryStore::new,
    );
}

// rule D5: memory -> SQLite, on a file store (durable commit path)
#[test]
fn memory_dump_restores_into_a_sqlite_file_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restored.db");
    d5_round_trip_between(&MemoryStore::new, &|| SqliteStore::open(&path).unwrap());
}
