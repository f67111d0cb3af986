//! Unit tests of the store: every method, transactions, query plans, migrations, bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod plans;
