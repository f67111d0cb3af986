//! A throwaway PostgreSQL cluster for tests (feature `testing`): this crate's tests, and
//! those of every crate that runs something on PostgreSQL (the CLI's).
//!
//! [`Cluster::start`] runs `initdb` into a fresh temporary directory and starts a server
//! listening only on a unix socket in that directory (no TCP port, so nothing collides
//! with another cluster or a real server). PostgreSQL refuses to run as root, and CI runs
//! as root: then both run as the `postgres` user through `runuser`, in a directory given
//! to it. The binaries are those of PostgreSQL 15 (`/usr/lib/postgresql/15/bin`), or of
//! the directory in `ACL_PG_BIN`, or else of the newest `/usr/lib/postgresql/*/bin`.
//!
//! The server is watched by a small shell process reading a pipe from the test process:
//! when the test process ends, however it ends (even killed), the pipe closes and the
//! watcher stops the server and removes the directory. A [`Cluster`] dropped earlier does
//! the same at once. [`Cluster::shared`] starts one cluster per test binary; [`store`]
//! gives each caller a store on its own new database (from a migrated template), dropped
//! with the store, so tests run in parallel.
//!
//! When PostgreSQL cannot start, [`Cluster::start`] says why, and [`Cluster::shared`] and
//! [`store`] panic with that reason: a test that needs PostgreSQL fails loudly, it is
//! never skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{PgOptions, PgStore, lock};

/// Where the PostgreSQL 15 binaries are, unless `ACL_PG_BIN` says otherwise.
pub const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The database every test database is copied from: migrated once per cluster.
const TEMPLATE: &str = "acl_template";

/// The watcher: starts the server in the background, waits for the end of its standard
/// input, then stops the server (fast shutdown) and removes the directory.
const WATCHER: &str = r#"
dir=$1; bin=$2; shift 2
"$@" "$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= \
    -c fsync=off -c full_page_writes=off -c max_connections=300 \
    -c shared_buffers=64MB >"$dir/server.log" 2>&1 &
cat >/dev/null
pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null; fi
wait
rm -rf "$dir"
"#;

/// A running throwaway cluster. Dropping it stops the server and removes its directory.
pub struct Cluster {
    dir: PathBuf,
    /// The watcher's standard input: closing it stops the server.
    stdin: Mutex<Option<ChildStdin>>,
    watcher: Mutex<Option<Child>>,
    /// The connection that creates and drops the test databases, one at a time.
    admin: Mutex<Option<postgres::Client>>,
    template: OnceLock<Result<(), String>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `command`, answering its output, or why it failed.
fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Cluster {
    /// Starts a new cluster; why it could not, naming the step and the server's words.
    pub fn start() -> Result<Cluster, String> {
        let bin = binaries();
        if !bin.join("postgres").exists() {
            return Err(format!(
                "PostgreSQL 15 is not installed: no `{}` (install Debian's `postgresql-15` \
                 package, or set ACL_PG_BIN to the directory of `initdb` and `postgres`)",
                bin.join("postgres").display()
            ));
        }
        let dir = temp_dir()?;
        let cluster = Cluster {
            dir: dir.clone(),
            stdin: Mutex::new(None),
            watcher: Mutex::new(None),
            admin: Mutex::new(None),
            template: OnceLock::new(),
        };
        let root = is_root();
        let as_postgres = |program: &Path| {
            let mut command = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            command.stdin(Stdio::null());
            command
        };
        if root {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&dir);
            run(chown, "chown of the cluster directory to `postgres`")?;
        }
        let mut initdb = as_postgres(&bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
            .args(["--locale=C"]);
        run(initdb, "initdb")?;
        let mut watcher = Command::new("sh");
        watcher
            .arg("-c")
            .arg(WATCHER)
            .arg("sh")
            .arg(&dir)
            .arg(&bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if root {
            watcher.args(["runuser", "-u", "postgres", "--"]);
        }
        let mut child = watcher
            .spawn()
            .map_err(|e| format!("cannot start the PostgreSQL server: {e}"))?;
        *lock(&cluster.stdin) = child.stdin.take();
        *lock(&cluster.watcher) = Some(child);
        let admin = cluster.wait_until_ready()?;
        *lock(&cluster.admin) = Some(admin);
        Ok(cluster)
    }

    /// The cluster of this test binary, started by the first caller.
    ///
    /// # Panics
    ///
    /// When the cluster cannot start, with the reason: a test that needs PostgreSQL fails.
    #[expect(
        clippy::panic,
        reason = "test support: a test without its database fails"
    )]
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
        match SHARED.get_or_init(Cluster::start) {
            Ok(cluster) => cluster,
            Err(why) => panic!("cannot start a throwaway PostgreSQL cluster: {why}"),
        }
    }

    /// The directory of the cluster's unix socket (and data).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The connection URL of database `db` on this cluster, as user `postgres`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql:///{db}?host={}&user=postgres",
            self.dir.display()
        )
    }

    fn config(&self, db: &str) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.dir)
            .user("postgres")
            .dbname(db)
            .connect_timeout(Duration::from_secs(10));
        config
    }

    fn wait_until_ready(&self) -> Result<postgres::Client, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.config("postgres").connect(postgres::NoTls) {
                Ok(client) => return Ok(client),
                Err(e) => {
                    let exited = lock(&self.watcher)
                        .as_mut()
                        .and_then(|child| child.try_wait().ok().flatten());
                    if exited.is_some() || Instant::now() > deadline {
                        return Err(format!(
                            "the server did not accept connections ({e}); its log: {}",
                            self.log()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.dir.join("server.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Runs one administrative statement on the `postgres` database.
    fn admin(&self, sql: &str) -> Result<(), String> {
        let mut admin = lock(&self.admin);
        let client = admin
            .as_mut()
            .ok_or_else(|| "the cluster has no admin connection".to_owned())?;
        client
            .batch_execute(sql)
            .map_err(|e| format!("`{sql}`: {}", describe(&e)))
    }

    /// A new empty database migrated to the current schema; its name.
    pub fn create_database(&self) -> Result<String, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        self.template
            .get_or_init(|| {
                self.admin(&format!("CREATE DATABASE {TEMPLATE}"))?;
                // Migrated on a connection that is closed before any copy is made.
                PgStore::open(&self.url(TEMPLATE)).map_err(|e| e.to_string())?;
                Ok(())
            })
            .clone()?;
        let name = format!("acl_t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        // CREATE DATABASE waits up to 5 s for the template's last sessions to end.
        self.admin(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))?;
        Ok(name)
    }

    /// A new database copied from database `from` (which no session may be using); its
    /// name. For benchmarks that start each sample from the same prepared state.
    pub fn copy_database(&self, from: &str) -> Result<String, String> {
        if from.is_empty()
            || !from
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!("`{from}` is not a database name of this harness"));
        }
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("acl_c{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.admin(&format!("CREATE DATABASE {name} TEMPLATE {from}"))?;
        Ok(name)
    }

    /// Drops database `name`, ending its sessions first.
    pub fn drop_database(&self, name: &str) -> Result<(), String> {
        self.admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    }

    /// A store on a new database of this cluster, dropped with the store.
    pub fn store(&'static self) -> Result<PgStore, String> {
        self.store_with(PgOptions {
            pool_size: 4,
            ..PgOptions::default()
        })
    }

    /// [`Cluster::store`] with explicit options.
    pub fn store_with(&'static self, options: PgOptions) -> Result<PgStore, String> {
        let name = self.create_database()?;
        let mut store = PgStore::open_with(&self.url(&name), options).map_err(|e| e.to_string())?;
        store.throwaway = Some(Throwaway {
            cluster: self,
            name,
        });
        Ok(store)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        drop(lock(&self.admin).take());
        // Closing the pipe makes the watcher stop the server and remove the directory.
        drop(lock(&self.stdin).take());
        match lock(&self.watcher).take() {
            Some(mut child) => {
                let _ = child.wait();
            }
            // The server never started: nobody else removes the directory.
            None => {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
    }
}

/// The server's message and SQLSTATE, or the driver's error.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A store on a new database of the [`Cluster::shared`] cluster, dropped with the store:
/// what a test's `make()` returns.
///
/// # Panics
///
/// When PostgreSQL cannot start or the database cannot be made, with the reason.
#[expect(
    clippy::panic,
    reason = "test support: a test without its database fails"
)]
pub fn store() -> PgStore {
    match Cluster::shared().store() {
        Ok(store) => store,
        Err(why) => panic!("cannot make a PostgreSQL test database: {why}"),
    }
}

/// The database of a store made by [`Cluster::store`]: dropped when the store is, after
/// its connections are closed.
pub(crate) struct Throwaway {
    cluster: &'static Cluster,
    name: String,
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.cluster.drop_database(&self.name);
    }
}

/// The directory of `initdb` and `postgres`: `ACL_PG_BIN`, else [`DEFAULT_BIN`], else the
/// newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn binaries() -> PathBuf {
    if let Ok(dir) = std::env::var("ACL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let default = PathBuf::from(DEFAULT_BIN);
    if default.join("postgres").exists() {
        return default;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map_or(default, |(_, bin)| bin)
}

/// A fresh directory under the system temporary directory (removed by the watcher).
fn temp_dir() -> Result<PathBuf, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let mut last_error = None;
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = base.join(format!(
            "acl-pg-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => last_error = Some(e),
        }
    }
    Err(format!(
        "cannot create a temporary directory in `{}`: {}",
        base.display(),
        last_error.map(|e| e.to_string()).unwrap_or_default()
    ))
}
