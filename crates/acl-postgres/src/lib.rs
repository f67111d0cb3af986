//! acl-postgres: a durable [`Store`] for `acl` on PostgreSQL, which several engines
//! (processes, machines) share (DESIGN section 12, rule D1).
//!
//! The main type is [`PgStore`]: open it on a connection string with [`PgStore::open`]
//! (`postgres://user:password@host:5432/acl`, or the key-value form `host=... dbname=...`)
//! and hand it to the engine, as acl-sqlite's `SqliteStore`. It implements the kernel
//! contract ([`Store`], [`ReadView`], [`WriteTxn`]) and the platform's ([`PlatformView`],
//! [`PlatformTxn`]) with [`PgRead`] and [`PgWrite`], so a platform workflow and its grants
//! commit in one PostgreSQL transaction. It uses the synchronous `postgres` driver and an
//! r2d2 pool of connections, each with its own cache of prepared statements.
//!
//! # Key decisions
//!
//! - **Writers are serialized by the revision row (rule D2).** The first statement of a
//!   write transaction is `UPDATE meta SET revision = revision + 1 ... RETURNING
//!   revision`: it takes the row lock of the one revision row, held until the transaction
//!   ends, so the writers of every process and machine take turns on it, each sees every
//!   earlier commit (the transaction is `READ COMMITTED` and every statement after the
//!   lock sees the latest commits), and the revisions are dense. No advisory lock (rule
//!   D4). Dropping the transaction rolls everything back, the revision included.
//! - **Retries where the contract allows.** A serialization failure (`40001`) or a
//!   deadlock (`40P01`) while starting a write transaction is retried with exponential
//!   backoff ([`PgOptions::write_retries`]); later in the transaction the body belongs to
//!   the engine, so the failure is reported as [`Error::Storage`] with nothing written. In
//!   the process, writers queue for a slot first, so they wait for each other without
//!   holding pooled connections; a writer waits at most [`PgOptions::lock_timeout`] for
//!   the slot and again for the row.
//! - **Durable commits.** Every connection runs `SET synchronous_commit = on`: `COMMIT`
//!   returns only once the commit is flushed to the WAL, so an acknowledged write
//!   survives a crash of the server, whatever its default.
//! - **Notifications wake followers, the changelog is the truth (rule D4).** Each commit
//!   ends with `pg_notify('acl_changes', revision)`, which the server delivers only if the
//!   transaction commits; [`PgStore::listen`] opens a [`PgListener`] that waits for them,
//!   so a follower index on another machine catches up at once instead of at its next
//!   poll. A lost notification costs only latency. Opening the store probes `LISTEN`; a
//!   server that refuses it (CockroachDB) gets no `pg_notify`, and followers poll.
//! - **Snapshot reads.** A read view is one `REPEATABLE READ READ ONLY` transaction on a
//!   pooled connection: it sees one committed state for its whole life.
//! - **Migrations.** An ordered list of SQL steps; the table `acl_schema` records the
//!   application and how many steps were applied. Opening applies the missing steps in one
//!   transaction; a newer schema, or tables of another application, are refused and left
//!   untouched.
//! - **Real constraints and byte order.** Primary keys, foreign keys, CHECK constraints on
//!   every enum and range, unique keys; every text key is `COLLATE "C"`, so orders are the
//!   byte order of canonical texts the contract requires. Every value is a bound
//!   parameter; batch lookups bind one array (`= ANY($1)`). Every statement is an index
//!   search (a test runs `EXPLAIN` on each).
//! - **Secrets.** A password in the connection string never appears in an error, a log or
//!   a `Debug` output: messages name the server through [`redact`].
//!
//! # Schema (version 3)
//!
//! | table | key | columns | secondary index |
//! | --- | --- | --- | --- |
//! | `acl_schema` | `id = 1` | `application`, `version` | |
//! | `meta` | `id = 1` | `revision`, `cluster` | |
//! | `principals` | `name` | `kind` 0..=2, `active` | |
//! | `grants` | `(holder, uri)` | `level` 0..=4; `holder` → principals | `(uri, holder, level)` |
//! | `edges` | `(member, role)` | both → principals | `(role, member)` |
//! | `fences` | `(uri, grp)` | `grp` → principals | `(grp, uri)` |
//! | `noted` | `(revision, name)` | the principals whose record or own edges the commit wrote | |
//! | `changelog` | `revision` | `at`, `actor`, `action`, `target`, `detail` | `(actor, revision)` |
//! | `folders`, `shares`, `invitations`, `vms` | as acl-sqlite's | | as acl-sqlite's |
//! | `policies`, `accounts`, `keypairs`, `sessions`, `group_info` | as acl-sqlite's | | as acl-sqlite's |
//!
//! A closure (rule P3) is one recursive statement over `edges`.
//!
//! # Invariants
//!
//! - Each write transaction commits at most one revision, exactly one more than the last,
//!   with its changelog entry and notes, or nothing.
//! - Library code never panics on input or on what it reads back: a bad row is
//!   [`Error::Storage`] naming its table.
//! - Errors map into the one [`acl_core::Error`] ([`PgError`] is this crate's own).
//!
//! # Example
//!
//! ```no_run
//! use acl_core::{Engine, Schema};
//! use acl_postgres::PgStore;
//!
//! # fn main() -> acl_core::Result<()> {
//! let store = PgStore::open("postgres://acl@db.internal/acl")?;
//! let engine = Engine::new(store, Schema::standard());
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! With the feature `testing`, [`testing`] starts a throwaway PostgreSQL 15 cluster for
//! tests.

mod conn;
mod error;
mod listen;
mod read;
mod schema;
mod sql;
mod write;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use r2d2::PooledConnection;

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Error, Fence, Grant, Level, PrincipalName,
    PrincipalRecord, ReadView, Result, Revision, RowKey, Store, Uri, WriteTxn,
};
use acl_platform::{
    AccessKey, Account, AccountKey, Folder, FolderId, GroupInfo, Invitation, InvitationId,
    InvitationKey, Keypair, PlatformTxn, PlatformView, PolicyName, ResourcePolicy, Session,
    SessionId, Share, Vm, VmId,
};

use crate::conn::{Conn, Manager};
use crate::error::sqlstate;

pub use crate::error::PgError;
pub use crate::listen::PgListener;
pub use crate::schema::{APPLICATION, CURRENT_VERSION as SCHEMA_VERSION};

/// Settings of a [`PgStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The most connections the store keeps open (read views and the write transaction
    /// each hold one while open). Default: 16.
    pub pool_size: u32,
    /// How long opening a connection, or waiting for a pooled one, may take. Default: 10 s.
    pub connect_timeout: Duration,
    /// How long a writer waits for the other write transactions (of this process, then of
    /// every process, on the revision row) before failing with [`Error::Storage`].
    /// Default: 10 s.
    pub lock_timeout: Duration,
    /// How many times starting a write transaction is tried again after a serialization
    /// failure or a deadlock, with exponential backoff from 5 ms. Default: 8.
    pub write_retries: u32,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 16,
            connect_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(10),
            write_retries: 8,
        }
    }
}

/// A [`Store`] on one PostgreSQL database, which any number of stores in other processes
/// may share. `Send + Sync`: share it between threads by reference or with an `Arc`.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    options: PgOptions,
    /// The server and database, without any password.
    target: String,
    /// How to open a [`PgListener`]'s connection.
    config: postgres::Config,
    /// Whether the server accepted `LISTEN` when the store was opened: then each commit
    /// announces its revision ([`sql::NOTIFY`]).
    notify: bool,
    /// Whether a write transaction of this store is open.
    writing: Mutex<bool>,
    writer_free: Condvar,
    /// Declared last: dropped after the pool's connections are closed.
    #[cfg(feature = "testing")]
    throwaway: Option<testing::Throwaway>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// `url` with every password replaced by `***`: the URL form's
/// `postgres://user:password@host` and `?password=`, and the key-value form's
/// `password=...`. What every message of this crate names a server by.
pub fn redact(url: &str) -> String {
    let trimmed = url.trim_start();
    let is_url = trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://");
    if is_url {
        let (scheme, rest) = trimmed.split_once("://").unwrap_or(("postgres", trimmed));
        // The user information ends at the last `@` before the path or the query.
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or(rest);
        let tail = rest.get(end..).unwrap_or_default();
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@{hosts}"),
                None => format!("{userinfo}@{hosts}"),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                            format!("{key}=***")
                        }
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    } else {
        redact_key_values(trimmed)
    }
}

/// The key-value form with `password`'s value (quoted or not) replaced.
fn redact_key_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_password_key(rest) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let Some(eq) = from.find('=') else {
            out.push_str(from);
            return out;
        };
        out.push_str(from.get(..=eq).unwrap_or_default());
        out.push_str("***");
        let value = from.get(eq + 1..).unwrap_or_default().trim_start();
        rest = if let Some(quoted) = value.strip_prefix('\'') {
            // Up to the closing quote that is not escaped.
            let mut end = quoted.len();
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = i + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            quoted.get(end..).unwrap_or_default()
        } else {
            let end = value.find(char::is_whitespace).unwrap_or(value.len());
            value.get(end..).unwrap_or_default()
        };
    }
    out.push_str(rest);
    out
}

/// Where a `password` key (`password=` or `password =`) starts in `text`.
fn find_password_key(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|s| s.find("password")) {
        let at = from + found;
        let before_ok = at == 0
            || lower
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| b.is_ascii_whitespace());
        let after = lower.get(at + "password".len()..).unwrap_or_default();
        if before_ok && after.trim_start().starts_with('=') {
            return Some(at);
        }
        from = at + "password".len();
    }
    None
}

/// A description of the server and database of `config`, without its password.
fn describe_target(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("(default user)");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or(user);
    format!("`{user}@{}:{port}/{db}`", hosts.join(","))
}

/// Removes every occurrence of the password of `config` from `message` (belt and braces:
/// no message of the driver is known to repeat it).
fn scrub(message: String, config: Option<&postgres::Config>) -> String {
    match config
        .and_then(postgres::Config::get_password)
        .and_then(|p| std::str::from_utf8(p).ok())
    {
        Some(password) if !password.is_empty() => message.replace(password, "***"),
        _ => message,
    }
}

impl PgStore {
    /// Opens the store in the database `url` names, with the default [`PgOptions`], and
    /// migrates it to the current schema.
    ///
    /// Fails with [`Error::Storage`] if the server cannot be reached, the database holds
    /// another application's tables, or its schema is newer than this build knows.
    pub fn open(url: &str) -> Result<PgStore> {
        PgStore::open_with(url, PgOptions::default())
    }

    /// [`PgStore::open`] with explicit options.
    pub fn open_with(url: &str, options: PgOptions) -> Result<PgStore> {
        let config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            Error::from(PgError::Config(scrub(e.to_string(), None)))
        })?;
        PgStore::open_config(config, options).map_err(|e| match e {
            Error::Storage(message) => {
                let config: Option<postgres::Config> = url.parse().ok();
                Error::Storage(scrub(message, config.as_ref()))
            }
            other => other,
        })
    }

    fn open_config(mut config: postgres::Config, options: PgOptions) -> Result<PgStore> {
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("acl");
        }
        let target = describe_target(&config);
        let manager = Manager {
            config: config.clone(),
            target: target.clone(),
        };
        // The first connection migrates, and reports a bad address at once.
        let mut first = manager.open()?;
        schema::migrate(first.client(), schema::MIGRATIONS)?;
        // Notifications are a hint (rule D4): a server without them gets none.
        let notify = first
            .batch(sql::PROBE_LISTEN, "probing for notifications")
            .is_ok();
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok(PgStore {
            pool,
            options,
            target,
            config,
            notify,
            writing: Mutex::new(false),
            writer_free: Condvar::new(),
            #[cfg(feature = "testing")]
            throwaway: None,
        })
    }

    /// The server and database this store is on, without any password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Opens a [`PgListener`]: a connection of its own on which every commit of every
    /// store on this database is announced, to wake a follower (rule D3) at once. `None`
    /// when the server does not deliver notifications (CockroachDB, for one): followers
    /// then rely on polling alone, which is what correctness rests on anyway (rule D4).
    pub fn listen(&self) -> Result<Option<PgListener>> {
        if !self.notify {
            return Ok(None);
        }
        PgListener::open(&self.config, &self.target).map(Some)
    }

    fn connection(&self) -> Result<PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| PgError::Pool(format!("{} ({})", e, self.target)).into())
    }

    /// Takes the process's writer slot, waiting at most the lock timeout.
    fn take_slot(&self) -> Result<()> {
        let timeout = self.options.lock_timeout;
        let deadline = Instant::now() + timeout;
        let mut busy = lock(&self.writing);
        while *busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PgError::WriterTimeout(timeout).into());
            }
            busy = self
                .writer_free
                .wait_timeout(busy, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        *busy = true;
        Ok(())
    }

    fn free_slot(&self) {
        *lock(&self.writing) = false;
        self.writer_free.notify_one();
    }

    /// Starts a write transaction on `conn`: `BEGIN`, the lock timeout, and the revision
    /// row advanced (rule D2); serialization failures and deadlocks are tried again.
    /// Answers the revision the commit will have.
    fn begin_write(&self, conn: &mut Conn) -> Result<i64> {
        // An integer this code computes, not input: SET takes no bound parameter.
        let millis = self.options.lock_timeout.as_millis().max(1);
        let begin =
            format!("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = {millis}");
        let mut attempt = 0u32;
        loop {
            let outcome = conn
                .batch(&begin, "starting a write transaction")
                .and_then(|()| conn.query(sql::ADVANCE_REVISION, &[]));
            let error = match outcome {
                Ok(rows) => {
                    return match rows.as_slice() {
                        [row] => read::get::<i64>(row, 0, "meta").map_err(Error::from),
                        _ => {
                            let _ = conn.batch("ROLLBACK", "rolling back");
                            Err(PgError::Corrupt {
                                table: "meta",
                                what: "the meta row is missing".to_owned(),
                            }
                            .into())
                        }
                    };
                }
                Err(error) => error,
            };
            if conn.batch("ROLLBACK", "rolling back").is_err() {
                conn.broken = true;
            }
            match error.code() {
                Some(sqlstate::SERIALIZATION_FAILURE | sqlstate::DEADLOCK)
                    if attempt < self.options.write_retries && !conn.broken =>
                {
                    let backoff = Duration::from_millis(5u64 << attempt.min(6));
                    std::thread::sleep(backoff);
                    attempt += 1;
                }
                Some(sqlstate::LOCK_NOT_AVAILABLE) => {
                    return Err(PgError::WriterTimeout(self.options.lock_timeout).into());
                }
                _ => return Err(error.into()),
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded flag stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store for PgStore {
    type Read<'a> = PgRead<'a>;
    type Write<'a> = PgWrite<'a>;

    fn read(&self) -> Result<PgRead<'_>> {
        let mut conn = self.connection()?;
        conn.batch(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "starting a read transaction",
        )?;
        // The snapshot is taken by the first statement: this one.
        let revision = match read::revision(&mut conn) {
            Ok(revision) => revision,
            Err(e) => {
                if conn.batch("ROLLBACK", "rolling back").is_err() {
                    conn.broken = true;
                }
                return Err(e.into());
            }
        };
        Ok(PgRead {
            _store: self,
            conn: RefCell::new(conn),
            revision,
        })
    }

    fn write(&self) -> Result<PgWrite<'_>> {
        self.take_slot()?;
        // From here the transaction owns the slot; its Drop frees it on every path.
        let mut txn = PgWrite {
            store: self,
            conn: None,
            pending: 0,
            failed: RefCell::new(None),
            ended: false,
            queued: RefCell::default(),
            queued_count: Cell::new(0),
        };
        let mut conn = self.connection()?;
        txn.pending = self.begin_write(&mut conn)?;
        txn.conn = Some(RefCell::new(conn));
        Ok(txn)
    }
}

/// A consistent read view: a `REPEATABLE READ READ ONLY` transaction on a pooled
/// connection, rolled back when dropped.
pub struct PgRead<'a> {
    _store: &'a PgStore,
    conn: RefCell<PooledConnection<Manager>>,
    /// The revision of the snapshot, read by its first statement.
    revision: Revision,
}

impl PgRead<'_> {
    fn grants_at_rows(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
        self.with(|c| read::grants_at(c, holders, uris))
    }

    fn grants_on_pairs_rows(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
        self.with(|c| read::grants_on_pairs(c, pairs))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> std::result::Result<T, PgError>) -> Result<T> {
        let mut conn = self
            .conn
            .try_borrow_mut()
            .map_err(|_| Error::Storage("the read view is in use".to_owned()))?;
        f(&mut conn).map_err(Error::from)
    }

    fn current_revision(&self) -> Result<Revision> {
        Ok(self.revision)
    }
}

impl Drop for PgRead<'_> {
    fn drop(&mut self) {
        let conn = self.conn.get_mut();
        if conn.batch("ROLLBACK", "ending a read transaction").is_err() {
            conn.broken = true;
        }
    }
}

/// The write transaction: a transaction holding the revision row. Rolled back when
/// dropped without [`WriteTxn::commit`].
pub struct PgWrite<'a> {
    store: &'a PgStore,
    conn: Option<RefCell<PooledConnection<Manager>>>,
    /// The revision the commit will have (the revision row already holds it).
    pending: i64,
    /// Why the transaction cannot go on, once a statement of it failed.
    failed: RefCell<Option<String>>,
    /// Whether the transaction was committed.
    ended: bool,
    /// Grants written but not yet sent, by holder then URI, the last level of each: sent
    /// in one statement ([`sql::PUT_GRANTS`]) before any other statement of the
    /// transaction, or once [`QUEUED_GRANTS`] are waiting. [`ReadView::grants_at`] reads
    /// through them; every other read sends them first.
    queued: RefCell<BTreeMap<PrincipalName, BTreeMap<Uri, Level>>>,
    /// How many grants `queued` holds.
    queued_count: Cell<usize>,
}

/// The most grants a write transaction queues before it sends them.
pub(crate) const QUEUED_GRANTS: usize = 1_024;

impl PgWrite<'_> {
    /// Runs `f` on the connection; a storage failure aborts the transaction (PostgreSQL
    /// refuses every later statement of it), so later calls fail at once.
    /// The queued grants are sent first, so `f` sees every write of the transaction.
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.with_queued(|conn| {
            self.send_queued(conn)?;
            f(conn)
        })
    }

    /// Sends the queued grants on `conn`, if any.
    fn send_queued(&self, conn: &mut Conn) -> Result<()> {
        if self.queued_count.get() == 0 {
            return Ok(());
        }
        let queued = std::mem::take(&mut *self.queued.borrow_mut());
        self.queued_count.set(0);
        write::put_grants(conn, self.pending, &queued)
    }

    /// [`PgWrite::with`] without sending the queued grants: for the reads that look
    /// through them, and the sending itself.
    fn with_queued<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        if let Some(why) = self.failed.borrow().as_ref() {
            return Err(write::aborted(why));
        }
        let cell = self
            .conn
            .as_ref()
            .ok_or_else(|| Error::Storage("the write transaction has no connection".to_owned()))?;
        let mut conn = cell
            .try_borrow_mut()
            .map_err(|_| Error::Storage("the write transaction is in use".to_owned()))?;
        let outcome = f(&mut conn);
        if let Err(Error::Storage(why)) = &outcome {
            *self.failed.borrow_mut() = Some(why.clone());
        }
        outcome
    }

    fn with_read<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> std::result::Result<T, PgError>,
    ) -> Result<T> {
        self.with(|conn| f(conn).map_err(Error::from))
    }

    /// The grants of `holders` on `uris`: the stored ones, with the queued grants over
    /// them.
    fn grants_at_rows(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
        let found = self.with_queued(|c| read::grants_at(c, holders, uris).map_err(Error::from))?;
        let mut holders: Vec<&PrincipalName> = holders.iter().collect();
        holders.sort_unstable();
        holders.dedup();
        let mut uris: Vec<&Uri> = uris.iter().collect();
        uris.sort_unstable();
        uris.dedup();
        let asked = holders
            .iter()
            .flat_map(|holder| uris.iter().map(move |uri| (*holder, *uri)));
        Ok(self.over_queue(found, asked))
    }

    /// The grant on each of `pairs`: the stored ones, with the queued grants over them.
    fn grants_on_pairs_rows(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
        let found = self.with_queued(|c| read::grants_on_pairs(c, pairs).map_err(Error::from))?;
        let mut asked: Vec<(&PrincipalName, &Uri)> = pairs.iter().map(|(h, u)| (h, u)).collect();
        asked.sort_unstable();
        asked.dedup();
        Ok(self.over_queue(found, asked.into_iter()))
    }

    /// `found`, stored grants of the keys `asked` (each once), with the queued grants put
    /// over them: a queued key replaces its stored grant or adds one.
    fn over_queue<'k>(
        &self,
        mut found: Vec<Grant>,
        asked: impl Iterator<Item = (&'k PrincipalName, &'k Uri)>,
    ) -> Vec<Grant> {
        let queued = self.queued.borrow();
        if queued.is_empty() {
            return found;
        }
        let queued_level =
            |holder: &PrincipalName, uri: &Uri| queued.get(holder).and_then(|at| at.get(uri));
        found.retain(|g| queued_level(&g.holder, &g.uri).is_none());
        for (holder, uri) in asked {
            if let Some(level) = queued_level(holder, uri) {
                found.push(Grant {
                    holder: holder.clone(),
                    uri: uri.clone(),
                    level: *level,
                });
            }
        }
        found
    }

    fn current_revision(&self) -> Result<Revision> {
        let committed = self.pending.checked_sub(1).unwrap_or_default();
        u64::try_from(committed)
            .map(Revision)
            .map_err(|_| Error::Storage(format!("revision {committed} is negative")))
    }
}

impl Drop for PgWrite<'_> {
    fn drop(&mut self) {
        if let Some(cell) = self.conn.take() {
            let mut conn = cell.into_inner();
            if !self.ended && conn.batch("ROLLBACK", "rolling back a write").is_err() {
                conn.broken = true;
            }
        }
        self.store.free_slot();
    }
}

/// Implements [`ReadView`] and [`PlatformView`] for a type with a `with_read(f)` that
/// runs `f` on its connection.
macro_rules! read_view {
    ($ty:ty, $with:ident) => {
        impl ReadView for $ty {
            fn revision(&self) -> Result<Revision> {
                self.current_revision()
            }

            fn cluster(&self) -> Result<Option<ClusterName>> {
                self.$with(read::cluster)
            }

            fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
                self.$with(|c| read::principal(c, name))
            }

            fn index(&self) -> Option<&acl_core::Index> {
                None
            }

            fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>> {
                self.$with(|c| read::changed_rows(c, after))
            }

            fn principals(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<PrincipalRecord>> {
                self.$with(|c| read::principals(c, after, limit))
            }

            fn reachable_graph(&self, start: &PrincipalName) -> Result<acl_core::RoleGraph> {
                self.$with(|c| read::reachable_graph(c, start))
            }

            fn members_of(
                &self,
                roles: &[PrincipalName],
            ) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
                self.$with(|c| read::members_of(c, roles))
            }

            fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>> {
                self.grants_at_rows(holders, uris)
            }

            fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>> {
                self.grants_on_pairs_rows(pairs)
            }

            fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>> {
                self.$with(|c| read::grant_below(c, holders, uri))
            }

            fn grants_of(
                &self,
                holder: &PrincipalName,
                within: Option<&Uri>,
                after: Option<&Uri>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                self.$with(|c| read::grants_of(c, holder, within, after, limit))
            }

            fn grants_within(
                &self,
                within: &Uri,
                after: Option<(&Uri, &PrincipalName)>,
                limit: usize,
            ) -> Result<Vec<Grant>> {
                self.$with(|c| read::grants_within(c, within, after, limit))
            }

            fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>> {
                self.$with(|c| read::fences_at(c, uris))
            }

            fn fences(
                &self,
                within: Option<&Uri>,
                after: Option<&Fence>,
                limit: usize,
            ) -> Result<Vec<Fence>> {
                self.$with(|c| read::fences(c, within, after, limit))
            }

            fn changes(
                &self,
                after: Revision,
                actor: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<ChangeEntry>> {
                self.$with(|c| read::changes(c, after, actor, limit))
            }
        }

        impl PlatformView for $ty {
            fn folder(&self, id: &FolderId) -> Result<Option<Folder>> {
                self.$with(|c| read::folder(c, id))
            }

            fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>> {
                self.$with(|c| read::folders_of(c, owner))
            }

            fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>> {
                self.$with(|c| read::shares_of_folder(c, folder))
            }

            fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>> {
                self.$with(|c| read::shares_of_user(c, user))
            }

            fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>> {
                self.$with(|c| read::invitation(c, id))
            }

            fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>> {
                self.$with(|c| read::invitations(c, key))
            }

            fn vm(&self, id: &VmId) -> Result<Option<Vm>> {
                self.$with(|c| read::vm(c, id))
            }

            fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>> {
                self.$with(|c| read::vms_of(c, team))
            }

            fn account(&self, user: &PrincipalName) -> Result<Option<Account>> {
                self.$with(|c| read::account(c, user))
            }

            fn account_by(&self, key: &AccountKey) -> Result<Option<Account>> {
                self.$with(|c| read::account_by(c, key))
            }

            fn accounts(
                &self,
                after: Option<&PrincipalName>,
                limit: usize,
            ) -> Result<Vec<Account>> {
                self.$with(|c| read::accounts(c, after, limit))
            }

            fn accounts_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<PrincipalName>> {
                self.$with(|c| read::accounts_of_policy(c, policy, limit))
            }

            fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>> {
                self.$with(|c| read::keypair(c, key))
            }

            fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>> {
                self.$with(|c| read::keypairs_of(c, user))
            }

            fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>> {
                self.$with(|c| read::keypairs(c, after, limit))
            }

            fn keypairs_of_policy(
                &self,
                policy: &PolicyName,
                limit: usize,
            ) -> Result<Vec<AccessKey>> {
                self.$with(|c| read::keypairs_of_policy(c, policy, limit))
            }

            fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
                self.$with(|c| read::policy(c, name))
            }

            fn policies(&self) -> Result<Vec<ResourcePolicy>> {
                self.$with(read::policies)
            }

            fn session(&self, id: &SessionId) -> Result<Option<Session>> {
                self.$with(|c| read::session(c, id))
            }

            fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>> {
                self.$with(|c| read::sessions_of(c, user))
            }

            fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>> {
                self.$with(|c| read::sessions(c, after, limit))
            }

            fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>> {
                self.$with(|c| read::group_info(c, name))
            }
        }
    };
}

read_view!(PgRead<'_>, with);
read_view!(PgWrite<'_>, with_read);

impl WriteTxn for PgWrite<'_> {
    fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()> {
        let pending = self.pending;
        self.with(|c| write::set_cluster(c, pending, cluster))
    }

    fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        let pending = self.pending;
        self.with(|c| write::insert_principal(c, pending, record))
    }

    fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()> {
        let pending = self.pending;
        self.with(|c| write::update_principal(c, pending, record))
    }

    fn delete_principal(&mut self, name: &PrincipalName) -> Result<()> {
        let pending = self.pending;
        self.with(|c| write::delete_principal(c, pending, name))
    }

    fn put_grant(&mut self, grant: &Grant) -> Result<()> {
        if let Some(why) = self.failed.borrow().as_ref() {
            return Err(write::aborted(why));
        }
        let replaced = self
            .queued
            .borrow_mut()
            .entry(grant.holder.clone())
            .or_default()
            .insert(grant.uri.clone(), grant.level);
        if replaced.is_none() {
            self.queued_count.set(self.queued_count.get() + 1);
        }
        if self.queued_count.get() >= QUEUED_GRANTS {
            self.with(|_| Ok(()))?;
        }
        Ok(())
    }

    fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
        let pending = self.pending;
        self.with(|c| write::delete_grant(c, pending, holder, uri))
    }

    fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        let pending = self.pending;
        self.with(|c| write::set_edge(c, pending, edge, present))
    }

    fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        let pending = self.pending;
        self.with(|c| write::set_fence(c, pending, fence, present))
    }

    fn commit(self, change: Change) -> Result<Revision> {
        let pending = self.pending;
        self.with(|c| write::append_change(c, pending, &change))?;
        self.finish(pending)
    }

    fn commit_history(self, history: &[ChangeEntry]) -> Result<Revision> {
        // The revision row already holds the next revision (`pending`): the history must
        // start there (rule D5), and the row moves on to its last entry.
        let pending = self.pending;
        let current = u64::try_from(pending.saturating_sub(1))
            .map(Revision)
            .map_err(|_| Error::Storage(format!("revision {pending} is negative")))?;
        let last = acl_core::check_history(current, history)?;
        let last = read::sql_revision(last);
        for entry in history {
            let at = read::sql_revision(entry.revision);
            self.with(|c| write::append_change(c, at, &entry.change))?;
        }
        self.with(|c| write::set_revision(c, last))?;
        self.finish(last)
    }
}

impl PgWrite<'_> {
    /// Ends the transaction at `revision`, its changelog written: prunes old notes and
    /// commits (durable before it returns: `synchronous_commit = on`).
    fn finish(mut self, revision: i64) -> Result<Revision> {
        self.with(|c| write::end_notes(c, revision))?;
        if self.store.notify {
            // Delivered to the listeners when, and only if, the transaction commits.
            let payload = revision.to_string();
            self.with(|c| {
                c.query(sql::NOTIFY, &[&payload])
                    .map(drop)
                    .map_err(Error::from)
            })?;
        }
        self.with(|c| {
            c.batch("COMMIT", "committing the write transaction")
                .map_err(Error::from)
        })?;
        self.ended = true;
        u64::try_from(revision)
            .map(Revision)
            .map_err(|_| Error::Storage(format!("revision {revision} is negative")))
    }
}

impl PlatformTxn for PgWrite<'_> {
    fn put_folder(&mut self, folder: &Folder) -> Result<()> {
        self.with(|c| write::put_folder(c, folder))
    }

    fn put_share(&mut self, share: &Share) -> Result<()> {
        self.with(|c| write::put_share(c, share))
    }

    fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool> {
        self.with(|c| write::delete_share(c, folder, user))
    }

    fn put_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        self.with(|c| write::put_invitation(c, invitation))
    }

    fn put_vm(&mut self, vm: &Vm) -> Result<()> {
        self.with(|c| write::put_vm(c, vm))
    }

    fn put_account(&mut self, account: &Account) -> Result<()> {
        self.with(|c| write::put_account(c, account))
    }

    fn put_keypair(&mut self, keypair: &Keypair) -> Result<()> {
        self.with(|c| write::put_keypair(c, keypair))
    }

    fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()> {
        self.with(|c| write::put_policy(c, policy))
    }

    fn delete_policy(&mut self, name: &PolicyName) -> Result<bool> {
        self.with(|c| write::delete_policy(c, name))
    }

    fn put_session(&mut self, session: &Session) -> Result<()> {
        self.with(|c| write::put_session(c, session))
    }

    fn put_group_info(&mut self, info: &GroupInfo) -> Result<()> {
        self.with(|c| write::put_group_info(c, info))
    }

    fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool> {
        self.with(|c| write::delete_group_info(c, name))
    }
}
