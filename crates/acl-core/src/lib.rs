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
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod bytes;
mod engine;
mod error;
mod export;
mod folder;
mod graph;
mod index;
mod level;
mod name;
mod page;
mod platform_store;
mod policy;
mod resolve;
mod rows;
mod schema;
mod store;
mod time;
mod uri;

#[cfg(any(feature = "testing", feature = "proptest"))]
pub mod testing;

pub use account::{
    AccessKey, Account, AccountKey, Email, Entropy, GroupInfo, HashCost, Keypair,
    MAX_ACCOUNT_FIELD, MAX_PASSWORD, MIN_PASSWORD, Password, Secret, SecretHash, UserRole,
    UserStatus,
};
pub use engine::{
    AccountFilter, AccountList, AccountUpdate, Applied, AuditQuery, Caller, CreatedKeypair,
    DeletedFolder, Engine, EngineOptions, FolderAccess, FolderEntry, GrantOutcome, InviteReport,
    Layer, ListFilter, NewAccount, Platform, Reader, ReceivedInvitations, Refusal, RemovedRole,
    TreeNode, UsageReport, VmAccess,
};
pub use error::{Error, ErrorKind, FieldError, FieldProblem, NameProblem, Result, UriProblem};
pub use export::{ExportFileName, MAX_EXPORT_FILE_NAME};
pub use folder::{
    Folder, FolderId, FolderKind, FolderName, FolderStatus, Invitation, InvitationEvent,
    InvitationId, InvitationKey, InvitationParty, InvitationState, MAX_FOLDER_NAME, Permission,
    Share, Vm, VmId, VmShareMode, transition,
};
pub use graph::Closure;
pub use index::Index;
pub use level::Level;
pub use name::{ClusterName, MAX_NAME_BYTES, PrincipalName};
pub use page::{Cursor, Page, PageRequest};
pub use platform_store::{PlatformStore, PlatformTxn, PlatformView};
pub use policy::{
    Hosts, Limit, Limits, PolicyName, Resource, ResourcePolicy, Session, SessionId, SessionRequest,
    Usage, admit_folder, admit_session,
};
pub use resolve::{Decision, Reason};
pub use rows::{
    Change, ChangeEntry, Edge, Fence, Grant, PrincipalKind, PrincipalRecord, Revision, RoleGraph,
};
pub use schema::{HomeGrant, Schema, SchemeDef, ShareScope};
pub use store::{ReadView, ReadViewExt, Store, WriteTxn, WriteTxnExt};
pub use time::Timestamp;
pub use uri::{MAX_SEGMENT_BYTES, MAX_URI_BYTES, Uri, UriContext, UriForm};
