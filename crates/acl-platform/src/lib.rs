//! acl-platform: the ML-platform layer of `acl` on its kernel, acl-core.
//!
//! It models what Backend.AI and Neu.ro build on an ACL (the rules F, V and A of docs/semantics.md): folders,
//! shares and invitations ([`Folder`], [`Invitation`], rules F1 to F9), group (project)
//! folders, VMs ([`Vm`], rules V1 to V3), accounts, logins, keypairs, groups ([`Account`],
//! [`Keypair`], rules A1 to A5), resource policies and the session ledger
//! ([`ResourcePolicy`], [`Session`], rules A6, A7), CSV export and the audit query.
//!
//! Main types: [`Platform`], an [`Engine`](acl_core::Engine) with these workflows (it
//! dereferences to the engine for every kernel operation), and the store contract of the
//! platform's rows, [`PlatformView`] and [`PlatformTxn`], an extension of the kernel's
//! [`ReadView`](acl_core::ReadView) and [`WriteTxn`](acl_core::WriteTxn) that acl-memory and
//! acl-sqlite implement ([`PlatformStore`] is a store that does).
//!
//! The key decision: **access is always the kernel's grants.** The platform's rows are
//! records of what a workflow did; no check reads them. A workflow runs inside ONE kernel
//! write transaction ([`Engine::transact`](acl_core::Engine::transact)), authorizes its
//! actor with the kernel's own evaluation ([`acl_core::txn::authorize`]), writes its rows and
//! its grants there, and commits them with one changelog entry, so a share and its grant
//! commit together or not at all. Admin rights, group folders and project tags are grants,
//! roles, forbids and fences: the platform adds no rule the kernel does not evaluate.
//!
//! The platform registers one [`Layer`](acl_core::Layer) on its engine: a direct grant or
//! revoke never changes the grants a folder's workflow owns (rule F7), init writes the
//! platform's rows (the monitor role, the default resource policy), deactivating a user
//! deactivates its account and keypairs (rule A3), and a role that owns folders or VMs
//! cannot be removed.
//!
//! Feature `model`: [`model`], model files (a whole model and its assertions in one YAML
//! file, the format `acl test` runs), loaded through these same workflows.
//!
//! # Example
//!
//! The invitation state machine of rule F5 is a pure function of the kernel:
//!
//! ```
//! use acl_core::{InvitationParty, InvitationState, transition};
//! use acl_platform::{InvitationEvent, Permission};
//!
//! let invitee = InvitationParty { invitee: true, ..InvitationParty::default() };
//! let next = transition(InvitationState::Pending, &InvitationEvent::Accept, invitee);
//! assert_eq!(next.ok(), Some(InvitationState::Accepted));
//! // only the inviter may change the permission offered
//! let change = InvitationEvent::ChangePermission(Permission::ReadWrite);
//! assert!(transition(InvitationState::Pending, &change, invitee).is_err());
//! ```
//!
//! # Invariants
//!
//! - Every workflow is one kernel write transaction; a failed call changes nothing.
//! - A folder's workflow-owned grants change only through the workflow (rule F7).
//! - No changelog entry holds a password, secret or hash; hashing runs before the write
//!   transaction opens.
//! - Like the kernel: no I/O but the caller's writer for exports, no threads, no clock
//!   (time is an argument), no `unsafe`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod admin;
mod dump;
mod export;
mod folder;
mod folders;
#[cfg(feature = "model")]
pub mod model;
mod platform;
mod policy;
mod problems;
mod seal;
mod store;

/// "No limit" for the page sizes of internal scans.
const ALL: usize = usize::MAX;

pub use account::{
    AccessKey, Account, AccountKey, Email, Entropy, GroupInfo, HashCost, Keypair,
    MAX_ACCOUNT_FIELD, MAX_PASSWORD, MIN_PASSWORD, Password, Secret, SecretHash, UserRole,
    UserStatus,
};
pub use admin::{
    AccountFilter, AccountList, AccountUpdate, AuditQuery, CreatedKeypair, NewAccount, UsageReport,
};
pub use dump::{DUMP_FORMAT, DUMP_ORDER, DUMP_VERSION, DumpSummary, dump_view, restore_into};
pub use export::{ExportFileName, MAX_EXPORT_FILE_NAME};
pub use folder::{
    Folder, FolderId, FolderKind, FolderName, FolderStatus, Invitation, InvitationId,
    InvitationKey, MAX_FOLDER_NAME, Permission, Share, Vm, VmId, VmShareMode,
};
pub use folders::{
    DeletedFolder, FolderAccess, FolderEntry, InviteReport, PlatformReads, PlatformViewerReads,
    ReceivedInvitations, Refusal, VmAccess,
};
pub use platform::{Platform, PlatformOptions};
pub use policy::{
    Hosts, Limit, Limits, PolicyName, Resource, ResourcePolicy, Session, SessionId, SessionRequest,
    Usage, admit_folder, admit_session,
};
pub use seal::{MasterKey, SealedSecret};
pub use store::{PlatformStore, PlatformTxn, PlatformView};

/// An event of a folder invitation (rule F5): the kernel's event with the platform's
/// [`Permission`] as what a changed invitation offers.
pub type InvitationEvent = acl_core::InvitationEvent<Permission>;
