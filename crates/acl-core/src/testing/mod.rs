//! Test support for stores and users' own suites (feature `testing`): the Store
//! conformance suite, a world builder, a counting store wrapper and the naive reference
//! model the engine is compared with.
//!
//! This is library code compiled only with the `testing` feature. Its assertions fail by
//! panicking, as tests do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "the conformance suite fails by panicking, as tests do"
)]

pub mod conformance;
pub mod counting;
pub mod differential;
pub mod ops;
pub mod reference;
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod world;
