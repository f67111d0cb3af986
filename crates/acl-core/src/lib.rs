//! acl-core: the kernel of `acl`, an access-control policy engine.
//!
//! It gives the types ([`Level`], [`Uri`], [`PrincipalName`]), the [`Schema`], the role
//! graph, the invitation state machine ([`transition`], a pure function), the minimal
//! [`Store`] contract every backend implements ([`Store`], [`ReadView`], [`WriteTxn`]:
//! principals, edges, grants, fences, the changelog), and the types that use it:
//!
//! - [`Engine`] applies mutations, each in one store write transaction with its changelog
//!   entry; [`Layer`]s (the platform in `acl-platform` is one) hook into init and
//!   principal removal so the rows they own follow.
//! - [`Reader`] answers queries on one read view, so every answer of one request sees one
//!   committed state; [`Viewer`] is a reader bound to the principal asking, and authorizes
//!   each read (rule E6) before answering it.
//! - [`txn`] is the API a workflow crate uses to run its own rows and the kernel's rules in
//!   one transaction.
//!
//! The Backend.AI and Neu.ro workflows (accounts, policies, sessions, folders, VMs) are not
//! here: they live in `acl-platform`, built on this API. Test support (the reference model,
//! the conformance suite) lives in `acl-testing`.
//!
//! The one design decision that shapes it: **stores fetch, the core decides.** A store
//! answers indexed lookups ("the grants these principals hold on these URIs") and applies
//! the rows it is told to write; every rule (membership, forbid-beats-allow, fences,
//! authorization, cascades) lives here, once. So a new backend cannot change what a check
//! means, and `explain` is the same evaluation as `check`: one function applies the rules
//! of evaluation, over facts that come either from the in-memory index a store keeps or from
//! the store's lookups.
//!
//! # Example
//!
//! The types validate on construction; the engine over a store is shown in the README
//! (a store lives in its own crate: acl-memory, acl-sqlite).
//!
//! ```
//! use acl_core::{ClusterName, Level, PrincipalName, Schema, UriContext};
//!
//! # fn main() -> acl_core::Result<()> {
//! let schema = Schema::standard();
//! let ctx = UriContext {
//!     cluster: ClusterName::new("prod")?,
//!     user: PrincipalName::new("alice")?,
//! };
//! // rule U2: short forms resolve against the cluster and the user
//! let data = schema.uri("storage:data/", Some(&ctx))?;
//! assert_eq!(data.as_str(), "storage://prod/alice/data");
//! // rule U4: ancestry is by whole segments
//! assert!(schema.uri("storage:", None)?.is_ancestor_of(&data));
//! // rule E5: actions map to levels per scheme
//! let folder = schema.uri("vfolder://prod/f1", None)?;
//! assert_eq!(schema.action_level(&folder, "mount-rw")?, Level::Write);
//! // rule U3: bad input is a typed error naming the problem
//! let err = schema.uri("storage://prod/a/../b", None).unwrap_err();
//! assert_eq!(err.to_string(), "invalid uri `storage://prod/a/../b`: `.` and `..` segments are not allowed");
//! # Ok(())
//! # }
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
//! - A cached closure is the closure a fresh walk would give at the reader's revision: it
//!   is kept across a write only when the write noted no principal the closure reaches
//!   ([`ReadViewExt::membership_changes`]), and a cached check locks only its own thread's
//!   shard of the cache (it writes no cache line another core reads).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod batch;
mod bytes;
mod cache;
mod engine;
mod error;
mod field;
mod graph;
mod index;
mod invitation;
mod level;
mod name;
mod page;
mod resolve;
mod rows;
mod schema;
mod store;
mod text;
mod time;
pub mod txn;
mod uri;
mod viewer;

#[cfg(feature = "proptest")]
mod arbitrary;

pub use batch::{WriteOp, WriteOutcome};
pub use engine::Step;
pub use engine::{
    Applied, CacheAudit, Caller, Engine, EngineOptions, GrantOutcome, GrantsSet, INIT_ADMIN, Layer,
    ListFilter, Reader, RemovedRole, TreeNode,
};
pub use error::{Error, ErrorKind, NameProblem, Result, UriProblem};
pub use field::{FieldError, FieldProblem};
pub use graph::Closure;
pub use index::Index;
pub use invitation::{InvitationEvent, InvitationParty, InvitationState, transition};
pub use level::{Level, ParseLevelError};
pub use name::{ClusterName, MAX_NAME_BYTES, PrincipalName};
pub use page::{Cursor, Page, PageRequest};
pub use resolve::{Decision, Reason};
pub use rows::{
    Change, ChangeEntry, Edge, Fence, Grant, PrincipalKind, PrincipalRecord, Revision, RoleGraph,
    RowKey,
};
pub use schema::{HomeGrant, Schema, SchemeDef, ShareScope};
pub use store::{
    ReadView, ReadViewExt, Store, WriteTxn, WriteTxnExt, check_history, grants_on_pairs_each,
};
pub use text::clip;
pub use time::Timestamp;
pub use uri::{MAX_SEGMENT_BYTES, MAX_URI_BYTES, Uri, UriContext, UriForm};
pub use viewer::Viewer;
