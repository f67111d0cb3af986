//! Unit tests of the store: query plans, migrations, secrets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod migrations;
mod plans;
mod secrets;
