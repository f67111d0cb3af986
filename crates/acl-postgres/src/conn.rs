//! Connections: the r2d2 manager that opens them, and [`Conn`], a client with its cache of
//! prepared statements.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::error::PgError;

/// What every connection runs once, before its first use: commits are acknowledged only
/// once durable (rule D2: `synchronous_commit` on, whatever the server's default), and
/// every statement sees the `UTC` time zone (no statement reads a clock; this only pins
/// the session).
const SETUP: &str = "SET synchronous_commit = on; SET TIME ZONE 'UTC'";

/// A PostgreSQL connection with its prepared statements, by SQL text (every text is one
/// of [`crate::sql`]'s constants, so the cache is bounded).
pub struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Set when the connection's state is unknown (a failed `ROLLBACK`): r2d2 then closes
    /// it instead of handing it out again.
    pub(crate) broken: bool,
}

/// Parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Conn {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, PgError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .prepare(sql)
            .map_err(PgError::query("preparing a statement"))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a query and returns its rows.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, PgError> {
        let statement = self.statement(sql)?;
        self.client
            .query(&statement, params)
            .map_err(PgError::query("running a query"))
    }

    /// Runs a write statement and returns the number of rows it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, PgError> {
        let statement = self.statement(sql)?;
        self.client
            .execute(&statement, params)
            .map_err(PgError::query("running a statement"))
    }

    /// Runs parameterless statements (`BEGIN`, `COMMIT`, ...).
    pub(crate) fn batch(&mut self, sql: &str, context: &'static str) -> Result<(), PgError> {
        self.client
            .batch_execute(sql)
            .map_err(PgError::query(context))
    }

    /// The client, for the migrations.
    pub(crate) fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Opens connections for the pool, each set up by [`SETUP`].
#[derive(Debug)]
pub(crate) struct Manager {
    pub(crate) config: postgres::Config,
    /// The server and database, without any password, for error messages.
    pub(crate) target: String,
}

impl Manager {
    /// Opens and sets up one connection.
    pub(crate) fn open(&self) -> Result<Conn, PgError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|source| PgError::Connect {
                target: self.target.clone(),
                source,
            })?;
        client
            .batch_execute(SETUP)
            .map_err(PgError::query("setting up a connection"))?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
            broken: false,
        })
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = PgError;

    fn connect(&self) -> Result<Conn, PgError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), PgError> {
        conn.client
            .simple_query("")
            .map(drop)
            .map_err(PgError::query("checking a pooled connection"))
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}
