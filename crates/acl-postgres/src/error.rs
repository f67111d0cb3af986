//! The crate's one error type, [`PgError`], and its mapping into [`acl_core::Error`].
//!
//! No message ever contains a connection string: the server address and user appear
//! only through [`crate::redact`], which drops every password.

use acl_core::Error;

/// The SQLSTATE codes the store acts on.
pub(crate) mod sqlstate {
    /// `serialization_failure`: retried where the contract allows (rule D2).
    pub(crate) const SERIALIZATION_FAILURE: &str = "40001";
    /// `deadlock_detected`: retried where the contract allows (rule D2).
    pub(crate) const DEADLOCK: &str = "40P01";
    /// `unique_violation`.
    pub(crate) const UNIQUE_VIOLATION: &str = "23505";
    /// `foreign_key_violation`.
    pub(crate) const FOREIGN_KEY_VIOLATION: &str = "23503";
    /// `check_violation`.
    pub(crate) const CHECK_VIOLATION: &str = "23514";
    /// `not_null_violation`.
    pub(crate) const NOT_NULL_VIOLATION: &str = "23502";
    /// `duplicate_table`.
    pub(crate) const DUPLICATE_TABLE: &str = "42P07";
    /// `lock_not_available`: `lock_timeout` expired.
    pub(crate) const LOCK_NOT_AVAILABLE: &str = "55P03";
}

/// What went wrong in acl-postgres. Every variant maps to [`Error::Storage`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The connection string could not be parsed.
    #[error("invalid PostgreSQL connection string: {0}")]
    Config(String),
    /// The server could not be reached, or refused the connection.
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        /// The server and database, without any password.
        target: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// No pooled connection could be had in time.
    #[error("no PostgreSQL connection available: {0}")]
    Pool(String),
    /// A statement failed.
    #[error("{context}: {}", describe(source))]
    Query {
        /// What was being done.
        context: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// A migration step failed.
    #[error("migration step {step} ({summary}) failed: {}", describe(source))]
    Migration {
        /// The step's number, from 1.
        step: usize,
        /// What the step does.
        summary: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// The database holds another application's tables, or a newer schema.
    #[error("{0}")]
    Schema(String),
    /// A row read back does not decode to a valid value.
    #[error("corrupt row in table `{table}`: {what}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong with it.
        what: String,
    },
    /// Another write transaction held the revision row longer than the lock timeout.
    #[error("timed out after {0:?} waiting for another write transaction to end")]
    WriterTimeout(std::time::Duration),
    /// The write transaction cannot go on (an earlier statement of it failed, so
    /// PostgreSQL aborted it); drop it and start again.
    #[error("the write transaction failed earlier and was rolled back: {0}")]
    Aborted(String),
}

impl PgError {
    /// A mapper from a driver error, saying what was being done.
    pub(crate) fn query(context: &'static str) -> impl Fn(postgres::Error) -> PgError {
        move |source| PgError::Query { context, source }
    }

    /// The SQLSTATE of the driver's error, if the server sent one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            PgError::Query { source, .. }
            | PgError::Migration { source, .. }
            | PgError::Connect { source, .. } => source.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// Whether the error is one a concurrent writer or migration can cause, and trying
    /// again may cure.
    pub(crate) fn is_race(&self) -> bool {
        self.code().is_some_and(crate::schema::is_race_state)
    }
}

/// The driver error with the server's message and detail, SQLSTATE included.
fn describe(source: &postgres::Error) -> String {
    match source.as_db_error() {
        Some(db) => {
            let mut out = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                out.push_str(": ");
                out.push_str(detail);
            }
            out
        }
        None => source.to_string(),
    }
}

impl From<PgError> for Error {
    fn from(e: PgError) -> Error {
        Error::Storage(e.to_string())
    }
}
