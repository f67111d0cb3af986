//! Unit tests of the store: query plans, migrations, notifications, secrets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod migrations;
mod notify;
mod plans;
mod queue;
mod secrets;
