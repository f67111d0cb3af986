//! acl-core: the pure domain of `acl`, an access-control policy engine.
//!
//! It gives the types ([`Level`], [`Uri`], [`PrincipalName`]), the [`Schema`], the
//! [`Store`] contract every backend implements, and the [`Engine`] that decides: it
//! resolves a principal's effective level on a URI through the role graph, with forbids,
//! fences and the implicit list, explains every decision, and applies mutations
//! atomically with a changelog.
//!
//! The one design decision that shapes it: **stores fetch, the core decides.** A store
//! answers indexed lookups ("the grants these principals hold on these URIs") and applies
//! the rows it is told to write; every rule (membership, forbid-beats-allow, fences,
//! authorization, cascades) lives here, once. So a new backend cannot change what a check
//! means, and `explain` is the same evaluation as `check`.
//!
//! # Example
//!
//! ```ignore
//! // (see the README for a runnable example over acl-memory)
//! let engine = Engine::new(store, Schema::standard());
//! engine.init(&cluster, Some(&admin), Timestamp(0))?;
//! ```
//!
//! # Invariants
//!
//! - Pure: no I/O, no threads, no clock (time is an argument), no `unsafe`.
//! - A value of a validated type ([`Uri`], [`PrincipalName`], [`ClusterName`]) is valid:
//!   the only constructors validate. Parsing never panics.
//! - Every mutation runs in one store write transaction; a failed call changes nothing.
//! - Resolution never scans every grant (rule E7): its cost grows with the URI's depth and
//!   the size of the principal's closure.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod engine;
mod error;
mod graph;
mod level;
mod name;
mod page;
mod resolve;
mod schema;
mod store;
mod uri;

#[cfg(feature = "testing")]
pub mod testing;

pub use engine::{
    Applied, Caller, Engine, EngineOptions, GrantOutcome, ListFilter, Reader, RemovedRole, TreeNode,
};
pub use error::{Error, ErrorKind, NameProblem, Result, UriProblem};
pub use graph::Closure;
pub use level::Level;
pub use name::{ClusterName, MAX_NAME_BYTES, PrincipalName};
pub use page::{Cursor, Page, PageRequest};
pub use resolve::{Decision, Reason};
pub use schema::{HomeGrant, Schema, SchemeDef, ShareScope};
pub use store::{
    Change, ChangeEntry, Edge, Fence, Grant, PrincipalKind, PrincipalRecord, ReadView, Revision,
    Store, Timestamp, WriteTxn,
};
pub use uri::{MAX_SEGMENT_BYTES, MAX_URI_BYTES, Uri, UriContext, UriForm};
