//! The state every worker shares: the engine, the follower index, the key, the limits, the
//! metrics, and the revision watch that wakes readers waiting for `at_least` and watchers
//! of the changelog.
//!
//! Decisions (check, batch check, explain) are answered by the follower index (DESIGN rule
//! D3, [`acl_memory::Follower`]): an engine over an in-memory replica of the store's
//! kernel rows, kept at the store's revision. Its reads are microseconds of memory work,
//! so they run on the async executor, with the same `Viewer` calls as every other read.
//! The server catches the follower up after each write it commits (a client reads its own
//! writes), and every [`FOLLOW`] for other processes' commits ([`App::follow`]). On
//! PostgreSQL a thread of its own also listens for the revisions other replicas' commits
//! announce ([`App::listen_for_commits`]) and wakes the follower at once: a hint only
//! (rule D4), the changelog read by the catch-up stays the truth, and polling goes on.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, Semaphore, watch};

use acl_core::{Applied, Caller, Error, PrincipalName, Reader, Revision, Store, Timestamp, Viewer};
use acl_memory::{Follower, MemoryStore};
use acl_platform::Platform;

use crate::auth::JwtKey;
use crate::error::{ApiError, Result};
use crate::metrics::Metrics;
use crate::store::AnyStore;

/// The engine the server serves, on SQLite or PostgreSQL.
pub type Engine = Platform<AnyStore>;

/// The limits of rule S6, each configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// The most items in one batch (413 beyond); the v1 API promises at least 1,000.
    pub max_batch: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a request (other than a watch or long poll) may take (408 beyond).
    pub request_timeout: Duration,
    /// The most connections served at once; one more is answered 429 and closed.
    pub max_connections: usize,
    /// The longest a read waits for `at_least`, and a long poll for a change.
    pub max_wait: Duration,
    /// How long in-flight requests may run on after a shutdown begins.
    pub shutdown_grace: Duration,
    /// The most store calls run at once on blocking threads; requests beyond wait their
    /// turn. More than the cores only adds contention inside the store, and each one
    /// running holds a reader connection (keep the store's idle pool at least this big).
    /// Default: 16.
    pub store_workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_batch: 1_000,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1_024,
            max_wait: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            store_workers: 16,
        }
    }
}

/// The shared state of one server.
pub(crate) struct App {
    pub engine: Engine,
    /// The follower index that answers decisions (rule D3).
    pub follower: Follower,
    pub key: JwtKey,
    pub limits: Limits,
    pub metrics: Metrics,
    /// The latest revision the server has seen; bumped after each write it commits and
    /// each time a reader finds the store further on (another process wrote).
    pub revision: watch::Sender<u64>,
    /// True once a shutdown began: watches and long polls end.
    pub stopping: watch::Receiver<bool>,
    /// One permit per store call running ([`Limits::store_workers`]).
    pub workers: Arc<Semaphore>,
    /// Wakes [`App::follow`] before its next round: another replica announced a commit.
    pub wake: Notify,
}

/// How often a waiting read looks at the store itself, for commits of other processes.
const POLL: Duration = Duration::from_millis(100);

/// How often the follower index looks for commits of other processes: a foreign commit
/// reaches the server's decisions within this (plus the catch-up), well inside rule D3's
/// second.
pub(crate) const FOLLOW: Duration = Duration::from_millis(50);

/// How long the listener thread waits for a notification before it looks whether the
/// server is stopping, and how long it waits before opening a lost connection again.
const LISTEN_TICK: Duration = Duration::from_millis(250);

impl App {
    /// Runs `f` on the engine on a blocking thread: store calls (SQLite) never run on the
    /// async executor.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&App) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // The permit moves into the blocking call, so it is held while the call runs even
        // if the request is abandoned meanwhile.
        let permit = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|err| ApiError::Unavailable(format!("the store workers stopped: {err}")))?;
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let done = f(&app);
            drop(permit);
            done
        })
        .await
        .map_err(|err| ApiError::Unavailable(format!("the worker failed: {err}")))?
    }

    /// Catches the follower up with the store (on the calling, blocking thread). A failure
    /// leaves it serving its last applied revision; it is counted and kept for
    /// `/readyz` and `/metrics`, and the next catch-up tries again.
    pub fn catch_up(&self) {
        match self.follower.catch_up(self.engine.store()) {
            Ok(revision) => self.saw(revision),
            Err(err) => tracing::warn!(error = %err, "the follower index could not catch up"),
        }
        self.metrics.follower(&self.follower.status());
    }

    /// Follows the store until the server stops: a catch-up every [`FOLLOW`], or at once
    /// when [`App::wake`] fires, on a blocking thread, for the commits of other processes.
    pub async fn follow(self: Arc<Self>) {
        let mut stopping = self.stopping.clone();
        loop {
            tokio::select! {
                () = tokio::time::sleep(FOLLOW) => {}
                () = self.wake.notified() => {}
                _ = stopping.changed() => {}
            }
            if *stopping.borrow() {
                return;
            }
            let app = Arc::clone(&self);
            // A panic in a catch-up ends this round only.
            let _ = tokio::task::spawn_blocking(move || app.catch_up()).await;
        }
    }

    /// On PostgreSQL, starts the thread that listens for the revisions other replicas'
    /// commits announce (rule D4) and wakes [`App::follow`] for each one the follower has
    /// not applied. It holds the state only while handling a notification, so it never
    /// keeps the engine from being returned, and ends once the server stops (within
    /// [`LISTEN_TICK`]). A lost connection is opened again after [`LISTEN_TICK`]; a server
    /// without notifications starts nothing. Either way polling goes on.
    pub fn listen_for_commits(self: &Arc<Self>) {
        if !matches!(self.engine.store(), AnyStore::Postgres(_)) {
            return;
        }
        let app = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("acl-listen".to_owned())
            .spawn(move || listen_loop(&app));
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "no listener thread: the follower polls only");
        }
    }

    /// Waits, at most [`Limits::max_wait`], until the follower has applied `wanted` (rule
    /// D3), catching it up on the way; past the bound, [`Error::RevisionNotReached`] (409).
    pub async fn wait_for_follower(self: &Arc<Self>, wanted: Revision) -> Result<()> {
        if self.follower.applied() >= wanted {
            return Ok(());
        }
        let deadline = Instant::now() + self.limits.max_wait;
        loop {
            self.blocking(|app| {
                app.catch_up();
                Ok(())
            })
            .await?;
            let current = self.follower.applied();
            if current >= wanted {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || *self.stopping.borrow() {
                return Err(Error::RevisionNotReached {
                    wanted: wanted.0,
                    current: current.0,
                }
                .into());
            }
            tokio::time::sleep(left.min(POLL)).await;
        }
    }

    /// Runs the decision `f` as `identity` on the follower index, on this (async) thread:
    /// one consistent view of the replica that has reached `at_least` (waiting for the
    /// follower, bounded), the identity live on it (rule S2), the viewer authorizing the
    /// read in the core (rule S3) exactly as [`App::read`] does on the store.
    pub async fn decide<T>(
        self: &Arc<Self>,
        identity: PrincipalName,
        at_least: Option<u64>,
        f: impl for<'e> FnOnce(&Viewer<'e, MemoryStore>) -> Result<T>,
    ) -> Result<(T, Revision)> {
        if let Some(wanted) = at_least {
            self.wait_for_follower(Revision(wanted)).await?;
        }
        let engine = self.follower.engine();
        let reader = match at_least {
            Some(wanted) => engine.reader_at_least(Revision(wanted))?,
            None => engine.reader()?,
        };
        require_live(&reader, &identity)?;
        let viewer = reader.bind(&identity)?;
        let revision = viewer.revision()?;
        let value = f(&viewer)?;
        Ok((value, revision))
    }

    /// Records that the store is at least at `revision`, waking waiters.
    pub fn saw(&self, revision: Revision) {
        self.revision.send_if_modified(|seen| {
            if revision.0 > *seen {
                *seen = revision.0;
                true
            } else {
                false
            }
        });
        self.metrics.revision(revision.0);
    }

    /// Waits, at most [`Limits::max_wait`], until the store reaches `wanted` (rule S4);
    /// past the bound, [`Error::RevisionNotReached`] (409).
    pub async fn wait_for(self: &Arc<Self>, wanted: Revision) -> Result<()> {
        let deadline = Instant::now() + self.limits.max_wait;
        let mut changes = self.revision.subscribe();
        loop {
            let current = self
                .blocking(|app| Ok(app.engine.reader()?.revision()?))
                .await?;
            self.saw(current);
            if current >= wanted {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || *self.stopping.borrow() {
                return Err(Error::RevisionNotReached {
                    wanted: wanted.0,
                    current: current.0,
                }
                .into());
            }
            let _ = tokio::time::timeout(left.min(POLL), changes.changed()).await;
        }
    }

    /// Waits, at most `bound`, for a revision after `after` to be seen (a long poll).
    /// Returns early when the server begins to stop.
    pub async fn wait_after(self: &Arc<Self>, after: Revision, bound: Duration) -> Result<()> {
        let deadline = Instant::now() + bound;
        let mut changes = self.revision.subscribe();
        let mut stopping = self.stopping.clone();
        loop {
            let current = self
                .blocking(|app| Ok(app.engine.reader()?.revision()?))
                .await?;
            self.saw(current);
            let left = deadline.saturating_duration_since(Instant::now());
            if current > after || left.is_zero() || *stopping.borrow() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(left.min(POLL)) => {}
                _ = changes.changed() => {}
                _ = stopping.changed() => {}
            }
        }
    }

    /// Runs the read `f` as `identity` on one consistent view that has reached `at_least`
    /// (waiting for it, bounded), and returns its answer with the view's revision. The
    /// identity must be a live principal on that view (rule S2); the viewer authorizes
    /// each read in the core (rule S3).
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        identity: PrincipalName,
        at_least: Option<u64>,
        f: impl for<'e> FnOnce(&Viewer<'e, AnyStore>) -> Result<T> + Send + 'static,
    ) -> Result<(T, Revision)> {
        if let Some(wanted) = at_least {
            self.wait_for(Revision(wanted)).await?;
        }
        self.blocking(move |app| {
            let reader = match at_least {
                Some(wanted) => app.engine.reader_at_least(Revision(wanted))?,
                None => app.engine.reader()?,
            };
            require_live(&reader, &identity)?;
            let viewer = reader.bind(&identity)?;
            let revision = viewer.revision()?;
            let value = f(&viewer)?;
            app.saw(revision);
            Ok((value, revision))
        })
        .await
    }

    /// Runs the mutation `f` as `identity` (a live principal, rule S2) at the current
    /// time; the engine authorizes it (rule S3).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        identity: PrincipalName,
        f: impl FnOnce(&Engine, &Caller) -> Result<Applied<T>> + Send + 'static,
    ) -> Result<Applied<T>> {
        self.blocking(move |app| {
            require_live(&app.engine.reader()?, &identity)?;
            let caller = Caller::new(identity, now());
            let done = f(&app.engine, &caller)?;
            app.saw(done.revision);
            // Read-your-writes through this server: the follower has the write before the
            // client hears of it.
            app.catch_up();
            Ok(done)
        })
        .await
    }
}

/// The body of the thread [`App::listen_for_commits`] starts.
fn listen_loop(app: &Weak<App>) {
    let mut listener = None;
    loop {
        let Some(state) = app.upgrade() else { return };
        if *state.stopping.borrow() {
            return;
        }
        let AnyStore::Postgres(store) = state.engine.store() else {
            return;
        };
        let Some(current) = listener.as_mut() else {
            match store.listen() {
                Ok(Some(opened)) => listener = Some(opened),
                Ok(None) => {
                    tracing::info!("the database sends no notifications: the follower polls");
                    return;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for commits; polling");
                    drop(state);
                    std::thread::sleep(LISTEN_TICK);
                }
            }
            continue;
        };
        // The state is not held while waiting.
        drop(state);
        let heard = current.wait(LISTEN_TICK);
        let Some(state) = app.upgrade() else { return };
        match heard {
            Ok(Some(revision)) => {
                state.metrics.notification();
                if revision > state.follower.applied() || revision.0 == 0 {
                    state.wake.notify_one();
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, "lost the listening connection; polling");
                listener = None;
                drop(state);
                std::thread::sleep(LISTEN_TICK);
            }
        }
    }
}

/// Refuses (401) an identity that is not a live principal on `reader`: unknown, or a
/// deactivated user (rule S2).
pub(crate) fn require_live<S: Store>(
    reader: &Reader<'_, S>,
    identity: &PrincipalName,
) -> Result<()> {
    let name = reader.canonical_name(identity)?;
    match reader.principal(&name)? {
        Some(record) if record.is_live() => Ok(()),
        Some(_) => Err(ApiError::Unauthenticated(format!(
            "the token's identity `{identity}` is deactivated"
        ))),
        None => Err(ApiError::Unauthenticated(format!(
            "the token's identity `{identity}` is not a principal of this store"
        ))),
    }
}

/// The current time in milliseconds since the Unix epoch (0 if the clock is before it):
/// the adapter supplies time, the core reads no clock.
pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    )
}
