//! The context every command runs in: the engine over the SQLite file or the PostgreSQL
//! database ([`AnyStore`]), the acting user, the master key keypair secrets are sealed with
//! (rule B1), and the adapter's clock (the core reads none).

use std::cell::OnceCell;
use std::ffi::OsString;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use acl_core::{
    Caller, Cursor, Error, PageRequest, PrincipalName, Reader, Schema, Timestamp, Uri, Viewer,
};

use acl_platform::{MasterKey, Platform, PlatformReads};
use acl_server::{AnyStore, is_postgres_url};

use crate::error::{CliError, Result};

/// The environment variable holding the master key: 64 hexadecimal digits.
pub const MASTER_KEY_ENV: &str = "ACL_MASTER_KEY";

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

    /// The context with the master key keypair secrets are sealed with (rule B1): a
    /// keypair created in it keeps its secret sealed, so it can sign Backend.AI requests.
    pub fn with_master_key(self, key: MasterKey) -> Ctx {
        Ctx {
            engine: self.engine.with_master_key(key),
            ..self
        }
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

/// The master key (rule B1): from `file` (`--master-key-file`) or from `$ACL_MASTER_KEY`
/// (empty counts as unset), `None` when neither is given. Both given, an unreadable file or
/// anything but 64 hexadecimal digits is an error naming where the key came from; no
/// message ever holds the key.
pub fn master_key(file: Option<&Path>) -> Result<Option<MasterKey>> {
    master_key_from(std::env::var_os(MASTER_KEY_ENV), file)
}

/// [`master_key`] with the environment variable's value given.
fn master_key_from(env: Option<OsString>, file: Option<&Path>) -> Result<Option<MasterKey>> {
    let env = env.filter(|value| !value.is_empty());
    let (text, origin) = match (env, file) {
        (None, None) => return Ok(None),
        (Some(_), Some(path)) => {
            return Err(CliError::MasterKeyTwice {
                file: path.to_owned(),
            });
        }
        (Some(value), None) => {
            let origin = MASTER_KEY_ENV.to_owned();
            let text = value.into_string().map_err(|_| CliError::MasterKey {
                origin: origin.clone(),
                problem: "not UTF-8 text".into(),
            })?;
            (text, origin)
        }
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|source| CliError::Io {
                action: "read the master key file",
                path: path.to_owned(),
                source,
            })?;
            let origin = format!("--master-key-file `{}`", path.display());
            let text = String::from_utf8(bytes).map_err(|_| CliError::MasterKey {
                origin: origin.clone(),
                problem: "not UTF-8 text".into(),
            })?;
            (text, origin)
        }
    };
    // `from_hex` trims surrounding whitespace (a file's last newline) and never repeats
    // the text in its error.
    MasterKey::from_hex(&text)
        .map(Some)
        .map_err(|err| CliError::MasterKey {
            origin,
            problem: err.to_string(),
        })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    // rule B1: the master key comes from the variable or the file, once; a bad one is
    // refused naming where it came from, never repeating it
    #[test]
    fn master_keys() {
        assert!(master_key_from(None, None).unwrap().is_none());
        assert!(
            master_key_from(Some(OsString::new()), None)
                .unwrap()
                .is_none()
        );
        assert!(master_key_from(Some(KEY.into()), None).unwrap().is_some());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master.key");
        std::fs::write(&file, format!("  {KEY}\n")).unwrap();
        assert_eq!(
            master_key_from(None, Some(&file)).unwrap(),
            master_key_from(Some(KEY.into()), None).unwrap()
        );
        let twice = master_key_from(Some(KEY.into()), Some(&file)).unwrap_err();
        assert!(
            matches!(twice, CliError::MasterKeyTwice { .. }),
            "{twice:?}"
        );
        assert!(twice.to_string().starts_with("give the master key once: "));
        let bad = "0123456789";
        let refused = master_key_from(Some(bad.into()), None).unwrap_err();
        let text = refused.to_string();
        assert!(
            text.contains(MASTER_KEY_ENV) && !text.contains(bad),
            "{text}"
        );
        std::fs::write(&file, bad).unwrap();
        let text = master_key_from(None, Some(&file)).unwrap_err().to_string();
        assert!(
            text.contains("--master-key-file") && text.contains(&file.display().to_string()),
            "{text}"
        );
        assert!(!text.contains(bad), "{text}");
        let missing = dir.path().join("missing.key");
        let unreadable = master_key_from(None, Some(&missing)).unwrap_err();
        assert!(matches!(unreadable, CliError::Io { .. }), "{unreadable:?}");
        assert!(unreadable.to_string().contains("master key file"));
    }
}
