//! An in-memory [`Store`](acl_core::Store) for `acl`: every row in indexed maps behind one
//! lock. It is the store for tests, for embedding the engine in a short-lived process, and
//! the reference the durable backends are checked against.
//!
//! The main type is [`MemoryStore`]. It implements the contract of [`acl_core::Store`]:
//! [`Store::read`](acl_core::Store::read) gives a [`MemoryRead`],
//! [`Store::write`](acl_core::Store::write) a [`MemoryWrite`].
//!
//! # Design: one sharded lock and an undo log
//!
//! The whole state sits in one `crossbeam_utils::sync::ShardedLock`: a reader-writer lock
//! made of one lock per shard, each on its own cache line. A reader locks only its own
//! thread's shard, so readers on different cores write no cache line they share (a plain
//! `RwLock`'s reader count is one such line, and it kept two threads checking at once
//! to 1.18x one thread's throughput); a writer locks every shard.
//!
//! - A read view holds the read lock for its whole life. Readers run concurrently, and
//!   since no writer can change the state while one is open, each sees one committed state
//!   throughout (snapshot isolation, the simple way).
//! - A write transaction holds the write lock: there is one writer at a time, and no
//!   reader can see its writes before it ends. Each write is applied to the state at once
//!   (so the transaction reads its own writes) and pushes its inverse onto an undo log.
//!   `commit` appends the changelog entry, raises the revision by one, notes the key of
//!   every kernel row the log shows written (for
//!   [`ReadView::changed_rows`](acl_core::ReadView::changed_rows), the last 4,096 keys
//!   kept) and forgets the log. Dropping the transaction without committing, on an error or a panic, replays the
//!   log backwards, so the store is exactly as before: same rows, same revision, same
//!   changelog.
//!
//! Why: readers never see a partial write, and a failed write is rolled back completely,
//! with no copy of the state per transaction and no multi-version machinery. The price is
//! that a writer waits for every open read view, and readers wait for the open writer:
//! keep views and transactions short, and never open a write transaction on a thread that
//! holds a view of the same store (or the reverse): it would wait forever.
//!
//! # The follower index (DESIGN rule D3)
//!
//! [`Follower`] keeps a `MemoryStore` at exactly another store's revision (SQLite in
//! `acl serve`) with its kernel rows and changelog, and an engine over it: checks at
//! memory speed with the one evaluator. It catches up from the source's
//! [`ReadView::changed_rows`](acl_core::ReadView::changed_rows) through
//! [`MemoryStore::replicate`], the replica-only write (one commit at the source's
//! revision, through the same transaction methods and undo log, all or nothing), and
//! rebuilds when the source's notes are gone. [`kernel_rows`] lists a view's kernel rows,
//! which is what a follower copies and what tests compare.
//!
//! # Indexes
//!
//! Every [`ReadView`](acl_core::ReadView) method is a point or range lookup (rule E7):
//! its cost grows with the URI depth and the number of holders asked about, never with the
//! number of grants in the store.
//!
//! - The authorization rows (principals, membership edges, grants and fences) live in the
//!   kernel's interned [`Index`](acl_core::Index): names and URIs become small integers,
//!   grants are kept by holder and by URI, edges in both directions, fences by URI and by
//!   group. The view hands it to the evaluator, so a check on this store walks integers,
//!   not text.
//! - The platform's rows (folders, shares, invitations, VMs, accounts, keypairs, sessions,
//!   policies, group records) sit in ordered maps, each with the secondary maps its lookups
//!   need (folders by owner, shares both ways, invitations by invitee, inviter and folder,
//!   accounts by email, username and policy, keypairs and sessions by user).
//! - The changelog is kept in revision order, with an index by actor.
//!
//! The store implements the kernel contract ([`Store`](acl_core::Store),
//! [`ReadView`](acl_core::ReadView), [`WriteTxn`](acl_core::WriteTxn)) and the
//! platform's extension of it ([`PlatformView`](acl_platform::PlatformView) and
//! [`PlatformTxn`](acl_platform::PlatformTxn)).
//!
//! # Invariants
//!
//! Between transactions, and after every single write inside one:
//!
//! - the two copies of every grant, edge and fence agree, and no index keeps an empty
//!   entry (so a rolled-back state is equal to the one before it, field by field);
//! - the revision equals the number of commits, and changelog entry `i` has revision
//!   `i + 1`;
//! - every grant holder, edge end and fence group is an existing principal. The core keeps
//!   this; the store checks it and refuses a write that would break it with
//!   [`Error::Storage`](acl_core::Error::Storage), changing nothing. Likewise
//!   `delete_principal` is refused while grants, edges or fences still name the principal.
//!
//! A write that fails changes nothing and leaves the transaction usable; a poisoned lock
//! (a writer panicked) makes every later `read` and `write` fail with
//! [`Error::Storage`](acl_core::Error::Storage).
//!
//! # Example
//!
//! ```
//! use acl_core::{
//!     Change, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Store,
//!     Timestamp, Uri, WriteTxn,
//! };
//! use acl_memory::MemoryStore;
//!
//! # fn main() -> acl_core::Result<()> {
//! let store = MemoryStore::new();
//! let alice = PrincipalName::new("alice")?;
//! let data = Uri::parse("storage://prod/alice/data")?;
//! let change = |action: &str| Change {
//!     at: Timestamp(0),
//!     actor: None,
//!     action: action.into(),
//!     target: data.to_string(),
//!     detail: String::new(),
//! };
//!
//! let mut txn = store.write()?;
//! txn.insert_principal(&PrincipalRecord {
//!     name: alice.clone(),
//!     kind: PrincipalKind::User,
//!     active: true,
//! })?;
//! txn.put_grant(&Grant { holder: alice.clone(), uri: data.clone(), level: Level::Write })?;
//! assert_eq!(txn.commit(change("grant"))?.0, 1);
//!
//! // A transaction dropped without commit leaves no trace.
//! let mut txn = store.write()?;
//! assert!(txn.delete_grant(&alice, &data)?);
//! drop(txn);
//!
//! let view = store.read()?;
//! assert_eq!(view.revision()?.0, 1);
//! let grants = view.grants_of(&alice, Some(&Uri::parse("storage://prod")?), None, 10)?;
//! assert_eq!(grants.len(), 1);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod changelog;
mod follower;
mod replica;
mod state;
mod store;

pub use follower::{Follower, FollowerStatus, kernel_rows};
pub use replica::RowValue;
pub use store::{MemoryRead, MemoryStore, MemoryWrite};

/// The README's embedding example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
