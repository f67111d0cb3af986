//! The memory, SQLite and PostgreSQL stores agreeing on random operation sequences (issue
//! 19 item 7, DESIGN rule D1): kernel ops and folder workflows interleaved, the same
//! outcome and revision after every op on all three, the same decisions on the whole
//! universe, and byte-identical dumps (rule D5's format) at the end.
//!
//! `PROPTEST_CASES` sets the number of cases (default 48: each makes a database).

use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use acl_testing::agreement::{agreed_ops, lane, run_agreement};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rule D1: memory, SQLite and PostgreSQL agree op by op, decision by decision, byte
    // for byte
    #[test]
    fn memory_sqlite_and_postgres_agree_d1(ops in agreed_ops()) {
        let sqlite = SqliteStore::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        run_agreement(
            &mut [
                lane("memory", MemoryStore::new()),
                lane("sqlite", sqlite),
                lane("postgres", acl_postgres::testing::store()),
            ],
            &ops,
        );
    }
}
