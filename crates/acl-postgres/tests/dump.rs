//! Dump and restore across backends (rule D5): a dump of a SQLite store restored into
//! PostgreSQL and dumped again is the same bytes, and the other way round.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acl_sqlite::SqliteStore;
use acl_testing::dump::d5_round_trip_between;

// rule D5: SQLite -> PostgreSQL
#[test]
fn sqlite_dump_restores_into_postgres_identically() {
    d5_round_trip_between(
        &|| SqliteStore::open_in_memory().unwrap(),
        &acl_postgres::testing::store,
    );
}

// rule D5: PostgreSQL -> SQLite
#[test]
fn postgres_dump_restores_into_sqlite_identically() {
    d5_round_trip_between(&acl_postgres::testing::store, &|| {
        SqliteStore::open_in_memory().unwrap()
    });
}
