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

/// A URL of a new, empty database of the shared throwaway PostgreSQL cluster, with
/// `password` in it if given (the cluster trusts local connections, so the server never
/// asks for it).
pub fn postgres_url(password: Option<&str>) -> String {
    let cluster = acl_postgres::testing::Cluster::shared();
    let db = cluster.create_database().unwrap();
    let user = match password {
        Some(password) => format!("postgres:{password}"),
        None => "postgres".to_owned(),
    };
    format!(
        "postgresql://{user}@localhost/{db}?host={}",
        cluster.socket_dir().display()
    )
}

/// Reads `acl serve`'s stderr `lines` until one starts with `prefix` (at most 30 s) and
/// returns the rest of that line (the address); the lines before it go to `startup`.
pub fn wait_for(
    lines: &mut std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    prefix: &str,
    startup: &mut Vec<String>,
) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no `{prefix}` line from acl serve: {startup:?}"
        );
        let Some(line) = lines.next() else {
            panic!("acl serve ended before `{prefix}`: {startup:?}");
        };
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix(prefix) {
            return addr.to_owned();
        }
        startup.push(line);
    }
}

/// A running `acl serve` child: its address, and its logs once it has exited.
pub struct Served {
    pub child: std::process::Child,
    pub addr: String,
    /// The lines of stderr before the `listening on` line.
    pub startup: Vec<String>,
    /// Every later line of stderr (the logs), once the server has exited.
    pub logs: std::thread::JoinHandle<Vec<String>>,
}

/// Starts `acl --db DB serve` on a free loopback port with the JWT secret `secret` and
/// waits (at most 30 s) for its `listening on` line.
pub fn serve(db: &str, secret: &str) -> Served {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(bin())
        .args(["--db", db])
        .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "info"])
        .env("ACL_JWT_SECRET", secret)
        .env_remove("ACL_DB")
        .env_remove("ACL_AS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let Some(stderr) = child.stderr.take() else {
        panic!("stderr is piped")
    };
    let mut lines = BufReader::new(stderr).lines();
    let mut startup = Vec::new();
    let addr = wait_for(&mut lines, "listening on http://", &mut startup);
    // Keep draining stderr so the server never blocks on a full pipe.
    let logs = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    Served {
        child,
        addr,
        startup,
        logs,
    }
}

impl Served {
    /// Stops the server with SIGTERM, waits (at most 20 s) for it to exit, and returns
    /// how it exited and every line it wrote to stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        use std::time::{Duration, Instant};
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut all = self.startup;
        all.extend(self.logs.join().unwrap());
        (status, all)
    }
}

/// A token for `principal`, minted by `acl --db DB --as ADMIN token` with `secret`.
pub fn token(db: &str, admin: &str, principal: &str, secret: &str) -> String {
    let output = Command::new(bin())
        .args(["--db", db, "--as", admin, "token", principal, "--ttl", "1h"])
        .env("ACL_JWT_SECRET", secret)
        .env_remove("ACL_DB")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `METHOD path` with a bearer token (and a JSON body, if any) over one HTTP/1.1
/// connection: the status and the body.
pub fn http(method: &str, addr: &str, token: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A child's exit status and both its outputs, to show when it failed.
pub fn text(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `(major, minor)` of a Python interpreter, if it runs.
pub fn python_version(python: &Path) -> Option<(u32, u32)> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let answer = String::from_utf8_lossy(&output.stdout).to_string();
    let mut parts = answer.split_whitespace().map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// The first Python `min` or newer, for `purpose` (named when none is found):
/// `ACL_PYTHON`, then `python3` and `python3.1X` on the PATH, then pyenv's versions.
pub fn python(min: (u32, u32), purpose: &str) -> (PathBuf, (u32, u32)) {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(chosen) = std::env::var("ACL_PYTHON") {
        candidates.push(chosen.into());
    }
    for name in [
        "python3",
        "python3.14",
        "python3.13",
        "python3.12",
        "python3.11",
        "python",
    ] {
        candidates.push(name.into());
    }
    let pyenv = std::env::var("PYENV_ROOT")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|home| Path::new(&home).join(".pyenv"))
        });
    for root in pyenv.into_iter().chain([PathBuf::from("/root/.pyenv")]) {
        if let Ok(entries) = std::fs::read_dir(root.join("versions")) {
            let mut versions: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin/python3")))
                .collect();
            versions.sort();
            candidates.extend(versions);
        }
    }
    for candidate in &candidates {
        if let Some(found) = python_version(candidate)
            && found >= min
        {
            return (candidate.clone(), found);
        }
    }
    panic!(
        "{purpose} needs Python {}.{} or newer and found none among {candidates:?}; \
         install one or set ACL_PYTHON",
        min.0, min.1
    );
}

/// The virtualenv's interpreter with the pip `requirement` (`name==version`) installed
/// from PyPI on the first Python `min` or newer: built once per requirement and Python
/// version, under the target directory (`NAME-VERSION-pyX.Y`). It fails, never skips:
/// without such a Python or without PyPI it panics saying what was missing.
pub fn venv(requirement: &str, min: (u32, u32)) -> PathBuf {
    let purpose = format!("the compatibility test with {requirement}");
    let (python, (major, minor)) = python(min, &purpose);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{}-py{major}.{minor}",
        requirement.replace("==", "-")
    ));
    let done = dir.join(".complete");
    let bin = dir.join("bin/python");
    if done.exists() && bin.exists() {
        return bin;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let made = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "cannot make a virtualenv with {}: {}",
        python.display(),
        text(&made)
    );
    let installed = Command::new(&bin)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            requirement,
        ])
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "cannot install {requirement} from PyPI into {}: {}",
        dir.display(),
        text(&installed)
    );
    std::fs::write(&done, requirement).unwrap();
    bin
}

/// Runs the compatibility script `tests/{script}` with `python` against `endpoint` (with
/// `envs`), then stops `server` gracefully (rule S1: SIGTERM, then the exit), still
/// draining its stderr `lines`; asserts the script passed ("checks passed") and the server
/// exited cleanly. Returns the script's stdout and the server's log lines.
pub fn run_compat(
    mut server: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    python: &Path,
    script: &str,
    endpoint: &str,
    envs: &[(&str, &std::ffi::OsStr)],
) -> (String, Vec<String>) {
    // Keep draining stderr so the server never blocks on a full pipe.
    let logs = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let mut command = Command::new(python);
    command
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(script),
        )
        .arg(endpoint)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stopped = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = server.wait().unwrap();
    let logs = logs.join().unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {}\n--- acl serve\n{}",
        text(&output),
        logs.join("\n")
    );
    assert!(status.success(), "acl serve exited with {status}");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(stdout.contains("checks passed"), "{}", text(&output));
    println!("{stdout}");
    (stdout, logs)
}
