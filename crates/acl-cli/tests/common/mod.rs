//! Helpers of the end-to-end tests: a temporary database, the built `acl` binary run on it,
//! and a dump of every row to compare states.

#![allow(dead_code, missing_docs)]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure here is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The result of one `acl` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs the binary with exactly `args`.
    pub fn from_command(args: &[&str]) -> Run {
        Run::from(
            Command::new(bin())
                .args(args)
                .env_remove("ACL_DB")
                .env_remove("ACL_AS")
                .output()
                .unwrap(),
        )
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(self) -> Run {
        self.code(0)
    }

    /// The stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The stderr parsed as JSON.
    #[track_caller]
    pub fn json_err(&self) -> serde_json::Value {
        serde_json::from_str(&self.stderr).unwrap_or_else(|e| panic!("{e}: {}", self.stderr))
    }
}

/// A temporary directory with a database initialized as cluster `prod`, admin `admin`.
pub struct Env {
    pub dir: TempDir,
    pub db: PathBuf,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_acl")
}

impl Env {
    /// A fresh directory, no database yet.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("acl.db");
        Env { dir, db }
    }

    /// A fresh initialized database.
    pub fn new() -> Env {
        let env = Env::empty();
        env.acl(&["init", "--cluster", "prod"]).ok();
        env
    }

    /// Runs `acl --db DB args...` as the default actor.
    pub fn acl(&self, args: &[&str]) -> Run {
        self.run(None, args)
    }

    /// Runs `acl --db DB --as USER args...`.
    pub fn as_(&self, user: &str, args: &[&str]) -> Run {
        self.run(Some(user), args)
    }

    fn run(&self, user: Option<&str>, args: &[&str]) -> Run {
        let mut command = Command::new(bin());
        command
            .arg("--db")
            .arg(&self.db)
            .env_remove("ACL_DB")
            .env_remove("ACL_AS")
            .current_dir(self.dir.path());
        if let Some(user) = user {
            command.arg("--as").arg(user);
        }
        Run::from(command.args(args).output().unwrap())
    }

    /// Every row of every table, sorted, with the table names: equal dumps are equal
    /// contents.
    pub fn dump(&self) -> Vec<String> {
        dump(&self.db)
    }
}

pub fn dump(db: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    let mut out = Vec::new();
    for table in tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let mut rows: Vec<String> = statement
            .query_map([], |row| {
                let mut cells = Vec::new();
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    cells.push(format!("{value:?}"));
                }
                Ok(format!("{table}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.push(format!("table {table} ({} rows)", rows.len()));
        out.extend(rows);
    }
    out
}

impl Env {
    /// Creates users with `acl user create`, as the admin: `NAME@example.com`, password
    /// `Pass-word-1!`.
    pub fn users(&self, names: &[&str]) {
        for name in names {
            let email = format!("{name}@example.com");
            self.acl(&[
                "user",
                "create",
                "--email",
                &email,
                "--username",
                name,
                "--password",
                "Pass-word-1!",
            ])
            .ok();
        }
    }
}
