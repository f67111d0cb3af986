//! The memory and SQLite stores agreeing on random operation sequences (DESIGN rule D1):
//! kernel ops and folder workflows interleaved, the same outcome and revision after every
//! op, the same decisions on the whole universe, and byte-identical dumps at the end. The
//! PostgreSQL store joins them in acl-postgres's own copy of this test.

use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use acl_testing::agreement::{agreed_ops, lane, run_agreement};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    // rule D1: memory and SQLite agree op by op, decision by decision, byte for byte
    #[test]
    fn memory_and_sqlite_agree_d1(ops in agreed_ops()) {
        let sqlite = SqliteStore::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        run_agreement(&mut [lane("memory", MemoryStore::new()), lane("sqlite", sqlite)], &ops);
    }
}
