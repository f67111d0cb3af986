//! The context every command runs in: the engine over the SQLite file or the PostgreSQL
//! database ([`AnyStore`]), the acting user,
//! and the adapter's clock (the core reads none).

use std::cell::OnceCell;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use acl_core::{
    Caller, Cursor, Error, PageRequest, PrincipalName, Reader, Schema, Timestamp, Uri, Viewer,
};

use acl_platform::{Platform, PlatformReads};
use acl_server::{AnyStore, is_postgres_url};

use crate::error::Result;

/// The engine over its store, and who acts.
pub struct Ctx {
    engine: Platform<AnyStore>,
    /// The database as messages name it (a URL without its password).
    shown: String,
    acting: Option<String>,
    actor: OnceCell<PrincipalName>,
}

impl Ctx {
    /// Opens (creating when `create`) the database at `path` (a SQLite file, or a
    /// PostgreSQL URL), acting as `acting` when given or else as the admin created by
    /// `acl init`.
    pub fn open(path: &Path, acting: Option<String>, create: bool) -> Result<Ctx> {
        let text = path.display().to_string();
        if is_postgres_url(&text) {
            let store = AnyStore::open(&text)?;
            return Ok(Ctx {
                engine: Platform::new(store, Schema::standard()),
                shown: crate::cli::shown_db(path),
                acting,
                actor: OnceCell::new(),
            });
        }
        if !create && !path.exists() {
            return Err(Error::not_found(
                "database",
                format!("{} (run `acl init` to create it)", path.display()),
            )
            .into());
        }
        let store = AnyStore::Sqlite(acl_sqlite::SqliteStore::open(path)?);
        Ok(Ctx {
            engine: Platform::new(store, Schema::standard()),
            shown: path.display().to_string(),
            acting,
            actor: OnceCell::new(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Platform<AnyStore> {
        &self.engine
    }

    /// The engine, taken out of the context (for `acl serve`, which shares it).
    pub fn into_engine(self) -> Platform<AnyStore> {
        self.engine
    }

    /// The database as messages name it: the file's path, or the PostgreSQL URL without
    /// its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// One consistent read view of the latest state, bound to the acting user: every read
    /// of a command goes through it, so the decision to show an answer and the answer see
    /// the same state, and the viewer authorizes what the acting user may see.
    pub fn viewer(&self) -> Result<Viewer<'_, AnyStore>> {
        let reader = self.engine.reader()?;
        let actor = self.actor_on(&reader)?;
        Ok(reader.bind(&actor)?)
    }

    /// The acting principal: `--as` (or `$ACL_AS`), else the admin `acl init` created.
    pub fn actor(&self) -> Result<PrincipalName> {
        if let Some(actor) = self.actor.get() {
            return Ok(actor.clone());
        }
        self.actor_on(&self.engine.reader()?)
    }

    /// The acting principal, resolved on `reader` the first time.
    fn actor_on(&self, reader: &Reader<'_, AnyStore>) -> Result<PrincipalName> {
        if let Some(actor) = self.actor.get() {
            return Ok(actor.clone());
        }
        let actor = match &self.acting {
            Some(text) => reader.user_named(text)?,
            None => reader.init_admin()?.ok_or_else(|| {
                Error::InvalidInput(
                    "no acting user: the database has no init admin; pass `--as USER` or set \
                     ACL_AS"
                        .into(),
                )
            })?,
        };
        Ok(self.actor.get_or_init(|| actor).clone())
    }

    /// The acting principal at the current time, for a mutation.
    pub fn caller(&self) -> Result<Caller> {
        Ok(Caller::new(self.actor()?, now()))
    }

    /// A URI from the command line; short forms resolve against the acting user (rule U2).
    pub fn uri(&self, text: &str) -> Result<Uri> {
        Ok(self.engine.uri_for(text, &self.actor()?)?)
    }

    /// A principal (user, role or group) named on the command line.
    pub fn principal(&self, text: &str) -> Result<PrincipalName> {
        Ok(PrincipalName::new(text)?)
    }

    /// A user named on the command line by email (any text with `@`) or username.
    pub fn user(&self, text: &str) -> Result<PrincipalName> {
        Ok(self.engine.reader()?.user_named(text)?)
    }
}

/// The current time in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(millis)
}

/// A page request from `--limit` and `--cursor`.
pub fn page_request(limit: Option<usize>, cursor: Option<&str>) -> PageRequest {
    PageRequest {
        after: cursor.map(Cursor::new),
        limit,
    }
}

/// The operating system's randomness for the engine (salts, access keys, secrets): a pool
/// drawn before the call, so a failing source is an error before anything is written.
pub struct OsEntropy {
    pool: Vec<u8>,
    failed: bool,
}

impl OsEntropy {
    /// Draws a pool of 4 KiB, more than any one command uses.
    pub fn new() -> Result<OsEntropy> {
        let mut pool = vec![0u8; 4096];
        getrandom::fill(&mut pool)
            .map_err(|err| Error::storage(format!("no randomness: {err}")))?;
        Ok(OsEntropy {
            pool,
            failed: false,
        })
    }
}

impl OsEntropy {
    /// An error if a refill of the pool failed during the last engine call.
    pub fn check(&self) -> Result<()> {
        if self.failed {
            return Err(Error::storage("the system's randomness failed").into());
        }
        Ok(())
    }
}

impl acl_platform::Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf.iter_mut() {
            if self.pool.is_empty() {
                // The pool is spent (never in one command): draw again, and remember a
                // failure so the command reports it ([`OsEntropy::check`]).
                self.pool = vec![0u8; 4096];
                self.failed |= getrandom::fill(&mut self.pool).is_err();
            }
            *byte = self.pool.pop().unwrap_or_default();
        }
    }
}
