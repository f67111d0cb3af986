//! The context every command runs in: the engine over the SQLite file, the acting user,
//! and the adapter's clock (the core reads none).

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use acl_core::{
    Caller, Cursor, Error, Level, PageRequest, PrincipalKind, PrincipalName, Reader, Revision,
    Schema, Timestamp, Uri,
};

use acl_platform::{AccountKey, Platform, PlatformView};
use acl_sqlite::SqliteStore;

use crate::error::{CliError, Result};

/// The engine over a SQLite file, and who acts.
pub struct Ctx {
    engine: Platform<SqliteStore>,
    path: PathBuf,
    acting: Option<String>,
    actor: OnceCell<PrincipalName>,
}

impl Ctx {
    /// Opens (creating when `create`) the database at `path`, acting as `acting` when given
    /// or else as the admin created by `acl init`.
    pub fn open(path: &Path, acting: Option<String>, create: bool) -> Result<Ctx> {
        if !create && !path.exists() {
            return Err(Error::not_found(
                "database",
                format!("{} (run `acl init` to create it)", path.display()),
            )
            .into());
        }
        let store = SqliteStore::open(path)?;
        Ok(Ctx {
            engine: Platform::new(store, Schema::standard()),
            path: path.to_owned(),
            acting,
            actor: OnceCell::new(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Platform<SqliteStore> {
        &self.engine
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent read view of the latest state.
    pub fn reader(&self) -> Result<Reader<'_, SqliteStore>> {
        Ok(self.engine.reader()?)
    }

    /// The acting principal: `--as` (or `$ACL_AS`), else the admin `acl init` created.
    pub fn actor(&self) -> Result<PrincipalName> {
        if let Some(actor) = self.actor.get() {
            return Ok(actor.clone());
        }
        let actor = match &self.acting {
            Some(text) => self.user(text)?,
            None => self.init_admin()?,
        };
        Ok(self.actor.get_or_init(|| actor).clone())
    }

    /// The admin recorded by the changelog entry of `init` (revision 1).
    fn init_admin(&self) -> Result<PrincipalName> {
        let reader = self.reader()?;
        let first = reader.changes(Revision(0), None, &PageRequest::first(1))?;
        let admin = first
            .items
            .first()
            .filter(|entry| entry.change.action == "init")
            .and_then(|entry| entry.change.detail.strip_prefix("admin "))
            .and_then(|rest| rest.split_whitespace().next())
            .map(PrincipalName::new)
            .transpose()?;
        match admin {
            Some(admin) => Ok(admin),
            None => Err(Error::InvalidInput(
                "no acting user: the database has no init admin; pass `--as USER` or set ACL_AS"
                    .into(),
            )
            .into()),
        }
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
        if !text.contains('@') {
            return Ok(PrincipalName::new(text)?);
        }
        let reader = self.reader()?;
        let key = AccountKey::Email(text.to_lowercase());
        match reader.view().account_by(&key)? {
            Some(account) => Ok(account.user),
            None => Err(Error::not_found("user", text).into()),
        }
    }

    /// The URI whose `read` lets the actor see `principal`'s permissions: `user://u` for a
    /// user, `role://R` for a role or group.
    pub fn principal_uri(&self, principal: &PrincipalName) -> Result<Uri> {
        let record = self.reader()?.principal(principal)?;
        let uri = match record.map(|r| r.kind) {
            Some(PrincipalKind::User) => Uri::parse(&format!("user://{principal}"))?,
            _ => Uri::of_role(principal),
        };
        Ok(uri)
    }

    /// Refuses unless the actor's effective level on `uri` is at least `needed` (rule E5),
    /// with the engine's own forbidden error. For reads, whose engine calls take no actor.
    pub fn require(&self, uri: &Uri, needed: Level, action: &'static str) -> Result<()> {
        let actor = self.actor()?;
        if self.engine.check(&actor, uri, needed)? {
            Ok(())
        } else {
            Err(CliError::Engine(Error::Forbidden {
                actor: actor.to_string(),
                action,
                uri: uri.to_string(),
                needed,
            }))
        }
    }

    /// Refuses reading `principal`'s permissions unless it is the actor or the actor holds
    /// `read` on it (its `user://` or `role://` URI).
    pub fn require_view_of(&self, principal: &PrincipalName) -> Result<()> {
        if *principal == self.actor()? {
            return Ok(());
        }
        self.require(
            &self.principal_uri(principal)?,
            Level::Read,
            "read another principal's permissions",
        )
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
