//! acl-sqlite: a durable [`Store`] for `acl` on SQLite.
//!
//! This is the default store of the `acl` CLI and of any service that embeds `acl` on one
//! machine. The main type is [`SqliteStore`]: open it on a file with [`SqliteStore::open`]
//! (or a throwaway one with [`SqliteStore::open_in_memory`]) and hand it to the engine.
//! SQLite is compiled in (rusqlite's `bundled` feature), so nothing needs installing.
//!
//! It implements the kernel contract ([`Store`], [`ReadView`], [`WriteTxn`]: principals,
//! edges, grants, fences, the changelog) with [`SqliteRead`] and [`SqliteWrite`], and the
//! platform's extension of it ([`PlatformView`], [`PlatformTxn`]: folders, shares,
//! invitations, VMs, policies, accounts, keypairs, sessions, group records) on the same two
//! types, so a platform workflow and its grants commit in one SQLite transaction.
//!
//! # Key decisions
//!
//! - **WAL journal.** Readers never block the writer and the writer never blocks readers;
//!   a read view is a `BEGIN DEFERRED` transaction on a pooled connection, pinned to the
//!   WAL snapshot of its first read for its whole life (the contract's snapshot isolation).
//! - **`synchronous = FULL`.** In WAL mode `NORMAL` survives a process crash but may lose
//!   the last commits on power loss or an OS crash. For an access-control store a lost
//!   commit can be a revocation that silently comes back, so every commit fsyncs the WAL
//!   before it is acknowledged. The cost is one fsync per commit, not per row: a bulk
//!   import is one transaction.
//! - **One writer at a time.** Writes go through one writer connection. In a process,
//!   writers queue for it; across processes, `BEGIN IMMEDIATE` takes SQLite's write lock at
//!   the start of the transaction, and the busy timeout (default 10 s, see
//!   [`SqliteOptions`]) makes the next writer wait for it rather than fail. Several
//!   processes can share one file: readers never block, writers queue, nothing is lost.
//! - **One SQLite transaction per write transaction.** Every write, the changelog entry
//!   and the revision (a column of the one-row `meta` table) are committed by one
//!   `COMMIT`. Dropping a [`SqliteWrite`] without committing rolls back, so the store is
//!   exactly as before.
//! - **Group commit.** Concurrent write transactions of one store may share one SQLite
//!   transaction and so one fsync: a transaction that commits while other writers wait
//!   for the writer connection ends its body with `RELEASE` of its own savepoint (its
//!   changelog entry and revision are written, one revision each as always) and hands the
//!   still-open SQLite transaction to the next writer; the last member of the group (no
//!   writer waiting, or [`SqliteOptions::max_group`] members) runs the one `COMMIT`. Every
//!   member's [`WriteTxn::commit`] returns only after that `COMMIT`, with its own revision
//!   or, if the `COMMIT` failed, with the storage error of the whole group (nothing of it
//!   is written). A body that fails rolls back to its savepoint: the others are untouched.
//!   A writer alone (the CLI) commits at once, exactly as before.
//! - **Migrations.** The schema is an ordered list of SQL steps; `PRAGMA user_version`
//!   records how many a database has had. Opening applies the missing steps in one
//!   `BEGIN IMMEDIATE` transaction. A database written by a newer version is refused
//!   with [`Error::Storage`], never downgraded, and so is a file of another application.
//! - **Real constraints.** STRICT tables, primary keys, enforced foreign keys
//!   (`PRAGMA foreign_keys = ON` on every connection), CHECK constraints on every enum.
//!   Every value is a bound parameter; no input is ever formatted into SQL.
//! - **Indexed lookups only.** Every query is an index search (a test checks
//!   `EXPLAIN QUERY PLAN` of each and fails on a full scan). A batch lookup
//!   (`grants_at`, `principals`, `fences_at`, ...) is one statement for up to 512 keys: the keys are a
//!   `VALUES` table joined to the primary key, one seek per key. Statements are cached per
//!   connection (`prepare_cached`), which also makes many `put_grant` calls in one
//!   transaction fast, and each connection keeps up to 64 MiB of page cache
//!   ([`SqliteOptions::cache_mib`]).
//!
//! # Schema (version 7)
//!
//! | table | key | columns | secondary index |
//! | --- | --- | --- | --- |
//! | `meta` | `id = 1` (one row) | `revision`, `cluster` | |
//! | `principals` | `id` (integer, the rowid) | `name` (unique), `kind` 0..=2, `active` 0/1 | |
//! | `grants` | `(holder, uri)` | `level` 0..=4; `holder` → principals | `(uri, holder, level)` |
//! | `edges` | `(member, role)`, principal ids | both → principals (`id`) | `(role, member)` |
//! | `reach` | `(start, member, role)`, principal ids | `role_name`, `role_kind`, `role_active` (copies of the role's record); `start`, `role` → principals (`id`) | `(role, start)` |
//! | `fences` | `(uri, grp)` | `grp` → principals | `(grp, uri)` |
//! | `changed` | `(revision, kind, a, b)` | the key of every kernel row the commit at `revision` wrote, the last 1,000 revisions, none for a commit of more than 4,096 rows (step 8; `meta.notes_from`: where they start) | |
//! | `changelog` | `revision` | `at`, `actor`, `action`, `target`, `detail` | `(actor, revision)` |
//! | `folders` | `id` | `name`, `owner` → principals, `kind`, `host`, `status`, `group_permission` | `(owner, id)`; unique `(owner, name)` where active |
//! | `shares` | `(folder, sharee)` | `permission`; `folder` → folders, `sharee` → principals | `(sharee, folder, permission)` |
//! | `invitations` | `id` | `folder` → folders, `inviter`, `invitee` → principals, `permission`, `state`, `created` | `(invitee, id)`, `(inviter, id)`, `(folder, id)`; unique `(folder, invitee)` where pending |
//! | `vms` | `id` | `name`, `team`, `owner` → principals | `(team, id)`, `(owner)` |
//! | `policies` | `name` | the nine limits (NULL when unlimited), `hosts` | |
//! | `accounts` | `username` → principals | `email`, `full_name`, `password` (argon2id), `role`, `status`, `need_password_change`, `domain`, `policy` → policies, `created`; unique lowercase `username_key`, `email_key` | `(policy, username)` |
//! | `keypairs` | `access_key` | `username` → principals, `secret` (argon2id), `active`, `policy` → policies, `created` | `(username, access_key)`, `(policy, access_key)` |
//! | `sessions` | `id` | `username` → principals, the four resource amounts, `containers`, `started`, `stopped` | `(username, id)` |
//! | `group_info` | `name` → principals | `domain`, `created` | |
//!
//! Kinds and levels are stored as their ranks ([`acl_core::Level::rank`], `as u8` of
//! [`acl_core::PrincipalKind`]); the folder enums (kind, status, permission, state) as
//! their text forms under CHECK constraints (step 2); the platform's account tables are
//! step 3. `reach` (step 5) holds, for every
//! principal, every edge reachable from it: the transitive closure of `edges`, rewritten
//! in the same savepoint as each edge write, so a check reads a closure with one range scan
//! ([`acl_core::ReadView::reachable_graph`]); since step 6 each row carries a copy of its
//! role's record, so the scan looks up no principal per row. The changelog's `actor` is not a foreign key: history
//! outlives the principals it names.
//!
//! # Errors
//!
//! Backend failures are [`Error::Storage`]. A write that would break an invariant (a grant
//! for a missing principal, deleting a principal still referenced) is refused with
//! [`Error::Storage`] by the constraints, changes nothing, and leaves the transaction
//! usable. Taken and missing principals are [`Error::AlreadyExists`] and
//! [`Error::NotFound`].
//!
//! # Example
//!
//! ```
//! use acl_core::{Change, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord};
//! use acl_core::{ReadView, Revision, Store, Timestamp, Uri, WriteTxn};
//! use acl_sqlite::SqliteStore;
//!
//! # fn main() -> acl_core::Result<()> {
//! let store = SqliteStore::open_in_memory()?;
//! let alice = PrincipalName::new("alice")?;
//! let mut txn = store.write()?;
//! txn.insert_principal(&PrincipalRecord {
//!     name: alice.clone(),
//!     kind: PrincipalKind::User,
//!     active: true,
//! })?;
//! let home = Uri::parse("storage://prod/alice")?;
//! txn.put_grant(&Grant { holder: alice.clone(), uri: home.clone(), level: Level::Manage })?;
//! let revision = txn.commit(Change {
//!     at: Timestamp(0),
//!     actor: None,
//!     action: "grant".into(),
//!     target: home.to_string(),
//!     detail: "alice manage".into(),
//! })?;
//! assert_eq!(revision, Revision(1));
//!
//! let view = store.read()?;
//! let grants = view.grants_at(&[alice], &[home])?;
//! assert_eq!(grants.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//!
//! - The revision in `meta` equals the number of changelog entries, and the changelog
//!   holds exactly revisions `1..=revision`: both are written only by
//!   [`WriteTxn::commit`], in the same transaction.
//! - Every grant holder, edge end and fence group is an existing principal (foreign keys);
//!   at most one grant per (holder, URI), edges and fences are sets (primary keys).
//! - `reach` holds exactly the edges reachable from each principal through `edges`: only
//!   [`WriteTxn::set_edge`] changes either, and it rewrites both in one
//!   savepoint (the unit tests compare the table with a walk of `edges`). Its copies of a
//!   role's record equal the role's row in `principals`: the edge writes copy them, and
//!   `update_principal` rewrites them in the savepoint that updates the principal (names
//!   never change).
//! - Every stored name and URI is valid and canonical: they are written only from
//!   validated [`PrincipalName`]s and [`Uri`]s, and checked again when read back (a bad
//!   row is an [`Error::Storage`], never a panic).
//!
//! [`PrincipalName`]: acl_core::PrincipalName
//! [`Uri`]: acl_core::Uri

mod read;
mod schema;
mod sql;
mod write;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Error, Fence, Grant, PrincipalName, PrincipalRecord,
    ReadView, Result, Revision, RowKey, Store, Uri, WriteTxn,
};
use acl_platform::{
    AccessKey, Account, AccountKey, GroupInfo, Keypair, PolicyName, ResourcePolicy, Session,
    SessionId,
};
use acl_platform::{
    Folder, FolderId, Invitation, InvitationId, InvitationKey, PlatformTxn, PlatformView, Share,
    Vm, VmId,
};

use crate::sql::db_err;

pub use crate::schema::{APPLICATION_ID, CURRENT_VERSION as SCHEMA_VERSION};

/// Prepared statements cached per connection: enough for every constant statement and
/// every bucket size of the generated batch statements.
const STATEMENT_CACHE: usize = 256;

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long [`Store::write`] waits for the write lock (held by another transaction of
    /// this store or of another process) before failing with [`Error::Storage`], and how
    /// long any statement waits on a lock. Default: 10 seconds.
    pub busy_timeout: Duration,
    /// The most page cache, in MiB, each connection keeps (`PRAGMA cache_size`). A cache
    /// grows only with the pages its connection touches; the store has one writer
    /// connection and up to [`SqliteOptions::max_idle_readers`] idle reader connections.
    /// Default: 64 MiB, enough to keep a 100k-grant store and the index pages of a
    /// 1M-grant import in memory.
    pub cache_mib: u32,
    /// The most write transactions one SQLite `COMMIT` (one fsync) may commit together
    /// when writers queue for the writer connection (group commit); 1 commits each alone.
    /// Default: 64.
    pub max_group: usize,
    /// The most idle reader connections kept for reuse; more are opened on demand and
    /// closed after use. Opening one parses the schema (tens of microseconds), so a
    /// service should keep at least as many as it runs reads at once. Default: 32.
    pub max_idle_readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(10),
            cache_mib: 64,
            max_group: 64,
            max_idle_readers: 32,
        }
    }
}

/// A [`Store`] on one SQLite database file. `Send + Sync`: share it between threads with
/// an `Arc` or by reference.
///
/// Read views ([`SqliteRead`]) take a pooled reader connection each, so any number can be
/// open at once; the write transaction ([`SqliteWrite`]) takes the one writer connection.
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    /// Durability of commits: FULL for files, OFF for the throwaway store.
    synchronous: &'static str,
    writer: Mutex<WriterSlot>,
    writer_free: Condvar,
    readers: Mutex<Vec<Connection>>,
    /// How many SQLite transactions of write transactions were committed (each one fsync).
    commits: AtomicU64,
    /// Declared last, so it is dropped after every connection is closed.
    temp_dir: Option<TempDir>,
}

/// The writer connection and whether a write transaction holds it.
struct WriterSlot {
    busy: bool,
    /// `None` while a transaction holds it, or after a connection was discarded (the next
    /// transaction opens a new one).
    conn: Option<Connection>,
    /// Writers waiting in [`Store::write`] for the slot.
    waiting: usize,
    /// The group whose members' bodies the connection's open SQLite transaction holds,
    /// while it is handed from one writer to the next (group commit).
    group: Option<Arc<Group>>,
}

/// The write transactions sharing one SQLite transaction: those that committed into it
/// wait for its one `COMMIT`.
#[derive(Default)]
struct Group {
    /// Bodies released into the transaction (each with its changelog entry).
    members: AtomicUsize,
    /// The outcome of the group's `COMMIT`, once run.
    outcome: Mutex<Option<std::result::Result<(), String>>>,
    done: Condvar,
}

impl Group {
    fn finish(&self, outcome: std::result::Result<(), String>) {
        *lock(&self.outcome) = Some(outcome);
        self.done.notify_all();
    }

    /// Waits for the group's `COMMIT` and answers its outcome.
    fn wait(&self) -> Result<()> {
        let mut outcome = lock(&self.outcome);
        loop {
            if let Some(result) = outcome.as_ref() {
                return result.clone().map_err(Error::Storage);
            }
            outcome = self
                .done
                .wait(outcome)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Which of the two connection roles to set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("temporary", &self.temp_dir.is_some())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the store in the database file at `path`, with the
    /// default [`SqliteOptions`], and migrates it to the current schema.
    ///
    /// Fails with [`Error::Storage`] if the file cannot be opened, is not an acl database,
    /// or was written by a newer version of the schema.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with explicit options.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        SqliteStore::init(path.as_ref().to_owned(), options, "FULL", None)
    }

    /// Opens a new, empty, private store that disappears when dropped; for tests.
    ///
    /// SQLite's own in-memory databases cannot give WAL snapshots to several connections,
    /// and without them a read view would block commits. So this store is a file in a fresh
    /// temporary directory (removed on drop) with exactly the semantics of a file store,
    /// except that commits are not fsynced (`synchronous = OFF`): nothing about it needs to
    /// survive a crash.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let dir = TempDir::new()?;
        let path = dir.0.join("acl.db");
        SqliteStore::init(path, SqliteOptions::default(), "OFF", Some(dir))
    }

    fn init(
        path: PathBuf,
        options: SqliteOptions,
        synchronous: &'static str,
        temp_dir: Option<TempDir>,
    ) -> Result<SqliteStore> {
        let store = SqliteStore {
            path,
            options,
            synchronous,
            writer: Mutex::new(WriterSlot {
                busy: false,
                conn: None,
                waiting: 0,
                group: None,
            }),
            writer_free: Condvar::new(),
            readers: Mutex::new(Vec::new()),
            commits: AtomicU64::new(0),
            temp_dir,
        };
        let writer = store.connect(Role::Writer)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_err("switching to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "the database refused WAL mode (it is in `{mode}` mode)"
            )));
        }
        schema::migrate(&writer, schema::MIGRATIONS)?;
        lock(&store.writer).conn = Some(writer);
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many SQLite transactions this store's write transactions were committed in
    /// (each one fsync of the WAL in a file store): fewer than the commits of write
    /// transactions when group commit committed several together.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs SQLite's `PRAGMA integrity_check` and `PRAGMA foreign_key_check` on the latest
    /// committed state; [`Error::Storage`] listing the problems if either finds any.
    pub fn check_integrity(&self) -> Result<()> {
        let view = self.read()?;
        let conn = view.conn()?;
        let mut problems = Vec::new();
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(db_err("checking integrity"))?;
        let mut rows = stmt.query([]).map_err(db_err("checking integrity"))?;
        while let Some(row) = rows.next().map_err(db_err("checking integrity"))? {
            let line: String = row.get(0).map_err(db_err("checking integrity"))?;
            if line != "ok" {
                problems.push(line);
            }
        }
        let mut stmt = conn
            .prepare("PRAGMA foreign_key_check")
            .map_err(db_err("checking foreign keys"))?;
        let mut rows = stmt.query([]).map_err(db_err("checking foreign keys"))?;
        while let Some(row) = rows.next().map_err(db_err("checking foreign keys"))? {
            let table: String = row.get(0).map_err(db_err("checking foreign keys"))?;
            problems.push(format!("a row of `{table}` breaks a foreign key"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Storage(format!(
                "integrity check failed: {}",
                problems.join("; ")
            )))
        }
    }

    /// Opens and sets up a connection.
    fn connect(&self, role: Role) -> Result<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if role == Role::Writer {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| {
            Error::Storage(format!(
                "cannot open database `{}`: {e}",
                self.path.display()
            ))
        })?;
        conn.busy_timeout(self.options.busy_timeout)
            .map_err(db_err("setting the busy timeout"))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut setup = format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {};",
            self.synchronous
        );
        if role == Role::Reader {
            setup.push_str(" PRAGMA query_only = ON;");
        }
        // The cache grows with the pages a connection touches, up to this bound.
        let kib = u64::from(self.options.cache_mib).saturating_mul(1024);
        setup.push_str(&format!(" PRAGMA cache_size = -{kib};"));
        conn.execute_batch(&setup)
            .map_err(db_err("setting up a connection"))?;
        Ok(conn)
    }

    /// Gives the writer connection back (or `None` to have the next writer open a new one)
    /// and wakes one waiting writer.
    fn release_writer(&self, conn: Option<Connection>) {
        let mut slot = lock(&self.writer);
        slot.busy = false;
        if conn.is_some() {
            slot.conn = conn;
        }
        drop(slot);
        self.writer_free.notify_one();
    }

    /// Ends a write transaction's turn on the writer connection (its body released into
    /// `group`'s SQLite transaction, or rolled back to its savepoint). When a writer waits
    /// and the group has room, hands it the open transaction and answers the group (the
    /// caller waits for its outcome); otherwise commits the group (one `COMMIT`, one fsync
    /// for every member) or rolls the empty transaction back, and frees the slot. `broken`
    /// says why the transaction cannot go on: the whole group then fails.
    fn end_turn(
        &self,
        conn: Option<Connection>,
        group: Option<Arc<Group>>,
        broken: Option<String>,
    ) -> Option<Arc<Group>> {
        let members = group
            .as_ref()
            .map_or(0, |g| g.members.load(Ordering::Acquire));
        let fail = |message: String| {
            if let Some(group) = &group {
                group.finish(Err(message));
            }
        };
        let Some(conn) = conn else {
            fail("the write transaction lost its connection".to_owned());
            self.release_writer(None);
            return None;
        };
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (after an I/O or full-disk error).
            fail("SQLite rolled back the transaction of this write group".to_owned());
            self.release_writer(Some(conn));
            return None;
        }
        if let Some(message) = broken {
            fail(message);
            self.release_writer(rollback(conn));
            return None;
        }
        let mut slot = lock(&self.writer);
        if slot.waiting > 0 && members < self.options.max_group {
            slot.busy = false;
            slot.conn = Some(conn);
            slot.group = group.clone();
            drop(slot);
            self.writer_free.notify_one();
            return group;
        }
        drop(slot);
        if members == 0 {
            self.release_writer(rollback(conn));
            return None;
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        match exec(&conn, "COMMIT") {
            Ok(()) => {
                publish(&group, Ok(()));
                self.release_writer(Some(conn));
            }
            Err(e) => {
                fail(format!("committing the write transaction: {e}"));
                self.release_writer(rollback(conn));
            }
        }
        None
    }
}

/// Publishes a group's outcome.
fn publish(group: &Option<Arc<Group>>, outcome: std::result::Result<(), String>) {
    if let Some(group) = group {
        group.finish(outcome);
    }
}

/// Rolls the writer connection's transaction back: the connection, or `None` when that
/// failed (closing it rolls back; the next writer opens a new one).
fn rollback(conn: Connection) -> Option<Connection> {
    if conn.is_autocommit() || exec(&conn, "ROLLBACK").is_ok() {
        Some(conn)
    } else {
        None
    }
}

/// Runs a parameterless statement (`BEGIN`, `COMMIT`, ...) through the statement cache.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent even if a holder panicked: every critical section
    // here is a few field assignments.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store for SqliteStore {
    type Read<'a> = SqliteRead<'a>;
    type Write<'a> = SqliteWrite<'a>;

    fn read(&self) -> Result<SqliteRead<'_>> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.connect(Role::Reader)?,
        };
        let mut view = SqliteRead {
            store: self,
            conn: Some(conn),
            revision: Revision::default(),
            found: Cell::new(None),
        };
        let conn = view.conn()?;
        exec(conn, "BEGIN DEFERRED").map_err(db_err("starting a read transaction"))?;
        // The first read pins the WAL snapshot the view sees for its whole life, so the
        // revision it reads is the view's for good: kept, not asked again.
        view.revision = read::revision(conn)?;
        Ok(view)
    }

    fn write(&self) -> Result<SqliteWrite<'_>> {
        let timeout = self.options.busy_timeout;
        let deadline = Instant::now() + timeout;
        let mut slot = lock(&self.writer);
        slot.waiting += 1;
        while slot.busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                slot.waiting -= 1;
                return Err(Error::Storage(format!(
                    "timed out after {timeout:?} waiting for another write transaction of \
                     this store to end"
                )));
            }
            slot = self
                .writer_free
                .wait_timeout(slot, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        slot.waiting -= 1;
        slot.busy = true;
        let conn = slot.conn.take();
        let group = slot.group.take();
        drop(slot);
        // From here the transaction owns the slot; its Drop gives it back on every path.
        let mut txn = SqliteWrite {
            store: self,
            conn: None,
            group: None,
            ended: false,
            notes: 0,
        };
        match group {
            // A group's open transaction, handed over with its connection.
            Some(group) => {
                txn.group = Some(group);
                txn.conn = conn;
            }
            None => {
                txn.group = Some(Arc::new(Group::default()));
                txn.conn = Some(match conn {
                    Some(conn) => conn,
                    None => self.connect(Role::Writer)?,
                });
                exec(txn.conn()?, "BEGIN IMMEDIATE")
                    .map_err(|e| Error::Storage(format!("starting a write transaction: {e}")))?;
            }
        }
        exec(txn.conn()?, "SAVEPOINT body")
            .map_err(|e| Error::Storage(format!("starting a write transaction: {e}")))?;
        Ok(txn)
    }
}

/// A consistent read view: a read transaction on a pooled connection, pinned to one
/// snapshot until dropped.
pub struct SqliteRead<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
    /// The revision of the pinned snapshot, read when the view was opened.
    revision: Revision,
    /// The last principal [`ReadView::principal`] found, with its integer id: a closure
    /// read of it next (what a check does) starts from the id, one name lookup fewer. The
    /// view's snapshot never changes, so neither does the id.
    found: Cell<Option<(PrincipalName, i64)>>,
}

impl SqliteRead<'_> {
    fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::Storage("the read view has no connection".to_owned()))
    }

    fn current_revision(&self) -> Result<Revision> {
        Ok(self.revision)
    }

    fn principal_of(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        let found = read::principal_with_id(self.conn()?, name)?;
        Ok(found.map(|(record, id)| {
            self.found.set(Some((name.clone(), id)));
            record
        }))
    }

    fn graph_of(&self, start: &PrincipalName) -> Result<acl_core::RoleGraph> {
        let found = self.found.take();
        let from = match &found {
            Some((name, id)) if name == start => read::Start::Id(*id),
            _ => read::Start::Name(start),
        };
        let graph = read::reachable_graph(self.conn()?, from);
        self.found.set(found);
        graph
    }
}

impl Drop for SqliteRead<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A connection whose transaction cannot be ended is closed, not pooled.
        if !conn.is_autocommit() && exec(&conn, "ROLLBACK").is_err() {
            return;
        }
        let mut pool = lock(&self.store.readers);
        if pool.len() < self.store.options.max_idle_readers {
            pool.push(conn);
        }
    }
}

/// The write transaction: the writer connection inside `BEGIN IMMEDIATE`. Rolled back when
/// dropped without [`WriteTxn::commit`].
pub struct SqliteWrite<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
    /// The group whose SQLite transaction this one's body runs in (its savepoint `body`).
    group: Option<Arc<Group>>,
    /// Whether the turn was already ended (by commit).
    ended: bool,
    /// How many rows the transaction has noted ([`NOTES_PER_COMMIT`] at most).
    notes: usize,
}

/// The most row keys one commit notes for [`ReadView::changed_rows`]: a commit writing
/// more (a bulk import) notes none and moves `meta.notes_from` to its revision, so a
/// follower index or closure cache behind it starts afresh instead of re-reading a
/// million rows one by one, and the notes stay small.
pub const NOTES_PER_COMMIT: usize = 4_096;

impl SqliteWrite<'_> {
    fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::Storage("the write transaction has no connection".to_owned()))
    }

    fn current_revision(&self) -> Result<Revision> {
        read::revision(self.conn()?)
    }

    fn principal_of(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        read::principal(self.conn()?, name)
    }

    /// By name: the transaction's own writes may change which principal has an id.
    fn graph_of(&self, start: &PrincipalName) -> Result<acl_core::RoleGraph> {
        read::reachable_graph(self.conn()?, read::Start::Name(start))
    }
}

impl Drop for SqliteWrite<'_> {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // Only this body's writes go: the group's earlier members stay in the transaction.
        let conn = self.conn.take();
        let broken = conn.as_ref().and_then(|conn| {
            if conn.is_autocommit() {
                return None;
            }
            exec(conn, "ROLLBACK TO body")
                .and_then(|()| exec(conn, "RELEASE body"))
                .err()
                .map(|e| format!("rolling a write transaction back to its savepoint: {e}"))
        });
        let handed = self.store.end_turn(conn, self.group.take(), broken);
        // The caller goes on after the group's earlier members are committed (or failed),
        // so what it reads next is never older than what its transaction saw.
        if let Some(group) = handed
            && group.members.load(Ordering::Acquire) > 0
        {
            let _ = group.wait();
        }
    }
}

/// Implements [`ReadView`] for a type with a `conn()` by delegating to [`read`].
macro_rules! read_view {
    ($ty:ty) => {
        impl ReadView for $ty {
            fn revision(&self) -> Result<Revision> {
                self.current_revision()
            }

            fn cluster(&self) -> Result<Option<ClusterName>> {
                read::cluster(self.conn()?)
            }

            fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
                self.principal_of(name)
            }

            fn index(&self) -> Option<&acl_core::Index> {
                None
            }

            fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>> {
                read::changed_rows(self.conn()?, after)
            }

            fn principals(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<PrincipalRecord>> {
                read::principals(self.conn()?, after, limit)
            }

            fn reachable_graph(&self, start: &PrincipalName) -> Result<acl_core::RoleGraph> {
                self.graph_of(start)
            }

            fn members_of(
                &self,
                roles: &[PrincipalName],
            ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
                read::members_of(self.conn()?, roles)
            }

            fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
                read::grants_at(self.conn()?, holders, uris)
            }

            fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
                acl_core::grants_on_pairs_each(self, pairs)
            }

            fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>> {
                read::grant_below(self.conn()?, holders, uri)
            }

            fn grants_of(
                &self,
                holder: &PrincipalName,
                within: Option<&Uri>,
                after: Option<&Uri>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                read::grants_of(self.conn()?, holder, within, after, limit)
            }

            fn grants_within(
                &self,
                within: &Uri,
                after: Option<(&Uri, &PrincipalName)>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                read::grants_within(self.conn()?, within, after, limit)
            }

            fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
                read::fences_at(self.conn()?, uris)
            }

            fn fences(
                &self,
                within: Option<&Uri>,
                after: Option<&Fence>,
                limit: usize,
            ) -> Result<Vec<Fence>> {
                read::fences(self.conn()?, within, after, limit)
            }

            fn changes(
                &self,
                after: Revision,
                actor: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<ChangeEntry>> {
                read::changes(self.conn()?, after, actor, limit)
            }
        }

        impl PlatformView for $ty {
            fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
                read::folder(self.conn()?, id)
            }

            fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
                read::folders_of(self.conn()?, owner)
            }

            fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
                read::shares_of_folder(self.conn()?, folder)
            }

            fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
                read::shares_of_user(self.conn()?, user)
            }

            fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
                read::invitation(self.conn()?, id)
            }

            fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
                read::invitations(self.conn()?, key)
            }

            fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
                read::vm(self.conn()?, id)
            }

            fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
                read::vms_of(self.conn()?, team)
            }

            fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
                read::account(self.conn()?, user)
            }

            fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
                read::account_by(self.conn()?, key)
            }

            fn accounts(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<Account>> {
                read::accounts(self.conn()?, after, limit)
            }

            fn accounts_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<PrincipalName>> {
                read::accounts_of_policy(self.conn()?, policy, limit)
            }

            fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
                read::keypair(self.conn()?, key)
            }

            fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
                read::keypairs_of(self.conn()?, user)
            }

            fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
                read::keypairs(self.conn()?, after, limit)
            }

            fn keypairs_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<AccessKey>> {
                read::keypairs_of_policy(self.conn()?, policy, limit)
            }

            fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
                read::policy(self.conn()?, name)
            }

            fn policies(&self) -> Result<Vec<ResourcePolicy>> {
                read::policies(self.conn()?)
            }

            fn session(&self, id: &SessionId) -> Result<Option<Session>> {
                read::session(self.conn()?, id)
            }

            fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
                read::sessions_of(self.conn()?, user)
            }

            fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
                read::sessions(self.conn()?, after, limit)
            }

            fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
                read::group_info(self.conn()?, name)
            }
        }
    };
}

read_view!(SqliteRead<'_>);
read_view!(SqliteWrite<'_>);

impl SqliteWrite<'_> {
    /// Notes `key` ([`write::note`]) unless the transaction has noted
    /// [`NOTES_PER_COMMIT`] rows already, then runs `write`. A write that fails takes its
    /// note back (unless an earlier write noted the key), so a refused call leaves every
    /// table as it was.
    fn noted<T>(&mut self, key: RowKey, write: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.notes = self.notes.saturating_add(1);
        let conn = self.conn()?;
        let fresh = if self.notes <= NOTES_PER_COMMIT {
            write::note(conn, &key)?
        } else {
            false
        };
        let done = write(conn);
        if done.is_err() && fresh {
            // If even this fails, the note of a row left as it was remains: allowed.
            let _ = write::unnote(conn, &key);
        }
        done
    }
}

impl WriteTxn for SqliteWrite<'_> {
    fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()> {
        self.noted(RowKey::Cluster, |conn| write::set_cluster(conn, cluster))
    }

    fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        self.noted(RowKey::Principal(record.name.clone()), |conn| {
            write::insert_principal(conn, record)
        })
    }

    fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        self.noted(RowKey::Principal(record.name.clone()), |conn| {
            write::update_principal(conn, record)
        })
    }

    fn delete_principal(&mut self, name: &PrincipalName) -> Result<()> {
        self.noted(RowKey::Principal(name.clone()), |conn| {
            write::delete_principal(conn, name)
        })
    }

    fn put_grant(&mut self, grant: &Grant) -> Result<()> {
        let key = RowKey::Grant {
            holder: grant.holder.clone(),
            uri: grant.uri.clone(),
        };
        self.noted(key, |conn| write::put_grant(conn, grant))
    }

    fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
        let key = RowKey::Grant {
            holder: holder.clone(),
            uri: uri.clone(),
        };
        self.noted(key, |conn| write::delete_grant(conn, holder, uri))
    }

    fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        let key = RowKey::Edge {
            member: edge.member.clone(),
            role: edge.role.clone(),
        };
        self.noted(key, |conn| write::set_edge(conn, edge, present))
    }

    fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        let key = RowKey::Fence {
            uri: fence.uri.clone(),
            group: fence.group.clone(),
        };
        self.noted(key, |conn| write::set_fence(conn, fence, present))
    }

    fn commit(self, change: Change) -> Result<Revision> {
        let revision = write::append_change(self.conn()?, &change)?;
        self.finish(revision)
    }

    fn commit_history(self, history: &[ChangeEntry]) -> Result<Revision> {
        let conn = self.conn()?;
        let mut revision = acl_core::check_history(read::revision(conn)?, history)?;
        for entry in history {
            revision = write::append_change(conn, &entry.change)?;
        }
        self.finish(revision)
    }
}

impl SqliteWrite<'_> {
    /// Ends the transaction's body at `revision`, its changelog written: releases the
    /// savepoint into the group's SQLite transaction and waits for the group's commit.
    fn finish(mut self, revision: Revision) -> Result<Revision> {
        let conn = self.conn()?;
        write::end_notes(conn, revision, self.notes > NOTES_PER_COMMIT)?;
        exec(conn, "RELEASE body").map_err(db_err("committing the write transaction"))?;
        let group = self
            .group
            .clone()
            .ok_or_else(|| Error::Storage("the write transaction has no group".to_owned()))?;
        group.members.fetch_add(1, Ordering::AcqRel);
        // The body is in the group's transaction: from here the group's outcome is ours.
        self.ended = true;
        let conn = self.conn.take();
        self.store.end_turn(conn, self.group.take(), None);
        drop(self);
        group.wait()?;
        Ok(revision)
    }
}

impl PlatformTxn for SqliteWrite<'_> {
    fn put_folder(&mut self, folder: &Folder) -> Result<()> {
        write::put_folder(self.conn()?, folder)
    }

    fn put_share(&mut self, share: &Share) -> Result<()> {
        write::put_share(self.conn()?, share)
    }

    fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool> {
        write::delete_share(self.conn()?, folder, user)
    }

    fn put_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        write::put_invitation(self.conn()?, invitation)
    }

    fn put_vm(&mut self, vm: &Vm) -> Result<()> {
        write::put_vm(self.conn()?, vm)
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        write::put_account(self.conn()?, account)
    }

    fn put_keypair(&mut self, keypair: &Keypair) -> Result<()> {
        write::put_keypair(self.conn()?, keypair)
    }

    fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()> {
        write::put_policy(self.conn()?, policy)
    }

    fn delete_policy(&mut self, name: &PolicyName) -> Result<bool> {
        write::delete_policy(self.conn()?, name)
    }

    fn put_session(&mut self, session: &Session) -> Result<()> {
        write::put_session(self.conn()?, session)
    }

    fn put_group_info(&mut self, info: &GroupInfo) -> Result<()> {
        write::put_group_info(self.conn()?, info)
    }

    fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool> {
        write::delete_group_info(self.conn()?, name)
    }
}

/// A fresh directory under the system temporary directory, removed with its contents on
/// drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        let mut last_error = None;
        for _ in 0..16 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            let name = format!(
                "acl-sqlite-{}-{}-{nanos}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let dir = base.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(Error::Storage(format!(
            "cannot create a temporary directory in `{}`: {}",
            base.display(),
            last_error.map(|e| e.to_string()).unwrap_or_default()
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
