//! Test support for stores and users' own suites. With the feature `testing`: the Store
//! conformance suite, a world builder, a counting store wrapper and the naive reference
//! model the engine is compared with. With the feature `proptest` alone: the operation type
//! [`ops::Op`] and the proptest strategies (levels, URIs, names, whole models).
//!
//! This is library code compiled only with those features. Its assertions fail by
//! panicking, as tests do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "the conformance suite fails by panicking, as tests do"
)]

#[cfg(feature = "testing")]
pub mod admin;
#[cfg(feature = "testing")]
pub mod admin_props;
#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod counting;
#[cfg(feature = "testing")]
pub mod differential;
pub mod folder_props;
pub mod folders;
pub mod ops;
#[cfg(feature = "testing")]
pub mod reference;
#[cfg(feature = "proptest")]
pub mod strategies;
#[cfg(feature = "testing")]
pub mod world;
