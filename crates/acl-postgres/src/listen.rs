//! Change notifications (rule D4: a wake-up hint, never the truth): [`PgListener`], a
//! connection of its own that listens on the channel every commit announces its revision
//! on, so a follower catches up at once instead of at its next poll.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use acl_core::{Result, Revision};

use crate::error::PgError;
use crate::sql;

/// A connection listening for the commits of every store on one database: what
/// [`crate::PgStore::listen`] answers. Each write transaction of a [`crate::PgStore`]
/// announces its revision as it commits; [`PgListener::wait`] returns when one arrives.
///
/// A notification only says "look now": it can be late, and it is lost while the listener
/// is disconnected. Whoever listens still reads the changelog for the changes, and still
/// polls, less often, in case the listener fails.
pub struct PgListener {
    client: Client,
    /// The server and database, without any password.
    target: String,
}

impl std::fmt::Debug for PgListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgListener")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgListener {
    /// Opens a connection with `config` and listens on the store's channel.
    pub(crate) fn open(config: &postgres::Config, target: &str) -> Result<PgListener> {
        let mut client = config.connect(NoTls).map_err(|source| PgError::Connect {
            target: target.to_owned(),
            source,
        })?;
        client
            .batch_execute(sql::LISTEN)
            .map_err(PgError::query("listening for change notifications"))?;
        Ok(PgListener {
            client,
            target: target.to_owned(),
        })
    }

    /// Waits at most `timeout` for a commit to be announced. Answers the highest revision
    /// announced since the last call, every notification that had arrived consumed
    /// (`Revision(0)` if none carried a readable revision), or `None` if none came in time.
    ///
    /// Fails with [`acl_core::Error::Storage`] once the connection is lost; open a new
    /// listener then.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<Revision>> {
        let context = "waiting for change notifications";
        let first = self
            .client
            .notifications()
            .timeout_iter(timeout)
            .next()
            .map_err(PgError::query(context))?;
        let Some(first) = first else {
            if self.client.is_closed() {
                return Err(PgError::Pool(format!(
                    "the listening connection to {} was closed",
                    self.target
                ))
                .into());
            }
            return Ok(None);
        };
        let mut highest = revision_of(first.payload());
        // What else has already arrived, without waiting.
        let mut notifications = self.client.notifications();
        let mut pending = notifications.iter();
        while let Some(more) = pending.next().map_err(PgError::query(context))? {
            highest = highest.max(revision_of(more.payload()));
        }
        Ok(Some(highest))
    }
}

/// The revision a notification's payload names (0 if it names none: still a wake-up).
fn revision_of(payload: &str) -> Revision {
    Revision(payload.trim().parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::revision_of;
    use acl_core::Revision;

    #[test]
    fn a_payload_names_a_revision_or_zero() {
        assert_eq!(revision_of("42"), Revision(42));
        assert_eq!(revision_of(" 7 "), Revision(7));
        assert_eq!(revision_of(""), Revision(0));
        assert_eq!(revision_of("not a number"), Revision(0));
    }
}
