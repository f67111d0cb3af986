//! acl-testing: test support for `acl`, for its backends and for users' own suites.
//!
//! - [`conformance`]: every rule of docs/semantics.md as a case generic over the
//!   store, written once; a backend runs them all with [`conformance_tests!`] (one
//!   `#[test]` per case), kernel cases and platform cases alike.
//! - [`reference`](mod@reference): the deliberately naive model of the rules, and [`differential`]: the
//!   engine over any store held to it, operation by operation.
//! - [`world`]: a small initialized world with terse constructors and table-driven
//!   assertions; [`counting`]: a store wrapper counting the reads a check makes (rule E7).
//! - [`strategies`]: proptest strategies for valid names, URIs and levels, whole models
//!   and operation sequences ([`ops::Op`]); [`admin_props`] and [`folder_props`]: the
//!   platform's property suites; [`cache_props`]: the closure cache audited after random
//!   writes.
//! - [`model`]: model files (the format `acl test` runs) loaded into an engine for your
//!   own tests, with their assertions.
//!
//! Add it as a dev-dependency. A property test of your own code against the engine:
//!
//! ```
//! use acl_core::{Caller, ClusterName, Engine, Level, PrincipalName, Schema, Timestamp};
//! use acl_memory::MemoryStore;
//! use acl_testing::strategies::principal_name;
//! use proptest::prelude::*;
//!
//! /// The code under test: may `user` open its own home directory?
//! fn may_open_home(engine: &Engine<MemoryStore>, user: &PrincipalName) -> bool {
//!     let home = engine.schema().uri(&format!("storage://c/{user}"), None);
//!     home.and_then(|uri| engine.check(user, &uri, Level::Read)).unwrap_or(false)
//! }
//!
//! let one_segment = principal_name().prop_filter("a user name", |n| !n.as_str().contains('/'));
//! proptest!(ProptestConfig::with_cases(32), |(user in one_segment)| {
//!     let engine = Engine::new(MemoryStore::new(), Schema::standard());
//!     let admin = PrincipalName::new("admin").unwrap();
//!     engine.init(&ClusterName::new("c").unwrap(), Some(&admin), Timestamp(0)).unwrap();
//!     // the admin exists already, and no user may take the cluster's name (rule A1)
//!     prop_assume!(user != admin && user.as_str() != "c");
//!     // rule P5: a new user holds manage on its home, so the service lets it in
//!     engine.create_user(&Caller::new(admin, Timestamp(1)), &user).unwrap();
//!     prop_assert!(may_open_home(&engine, &user));
//! });
//! ```
//!
//! This is test support: its assertions fail by panicking, as tests do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "the conformance suite fails by panicking, as tests do"
)]

pub mod admin;
pub mod admin_props;
pub mod agreement;
pub mod cache_props;
pub mod conformance;
pub mod counting;
pub mod differential;
pub mod dump;
pub mod folder_props;
pub mod folders;
pub mod model;
pub mod ops;
pub mod reference;
pub mod strategies;
pub mod world;
