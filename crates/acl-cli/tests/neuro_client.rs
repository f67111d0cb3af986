//! The compatibility test of rule N1 with the REAL published client: builds a virtualenv
//! with `neuro-auth-client==25.8.2` from PyPI (cached under the target directory, keyed
//! by the client's and Python's versions), starts the real `acl serve` binary on an
//! ephemeral port of a seeded SQLite file and runs tests/neuro/compat.py against it: every `AuthClient` method, the SDK's raw
//! calls, the error texts and statuses, and 50 concurrent checks.
//!
//! It fails loudly, never skips: without Python 3.11 or newer, or without PyPI, the test
//! fails and says what was missing. `ACL_PYTHON` names the interpreter to use.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use acl_core::{Caller, ClusterName, PrincipalName, Schema};
use acl_platform::Platform;
use acl_server::now;
use acl_sqlite::SqliteStore;

/// The HS256 secret the server is started with and compat.py signs its tokens with.
const SECRET: &str = "the neuro compatibility test's secret, 32 bytes or more";

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

/// The store compat.py expects: cluster `c`, admin `admin`, users alice, bob and carol
/// (carol deactivated), each with its home grants (rule P5).
fn seed(db: &Path) {
    let engine = Platform::new(SqliteStore::open(db).unwrap(), Schema::standard());
    engine
        .init(&ClusterName::new("c").unwrap(), Some(&name("admin")), now())
        .unwrap();
    let admin = Caller::new(name("admin"), now());
    for user in ["alice", "bob", "carol"] {
        engine.create_user(&admin, &name(user)).unwrap();
    }
    engine.set_active(&admin, &name("carol"), false).unwrap();
}

/// The client release the test pins.
const CLIENT: &str = "neuro-auth-client==25.8.2";

/// Rule N1: the published client (and the SDK's raw calls) against the real server.
#[test]
fn the_published_client_works_unchanged() {
    let python = common::venv(CLIENT, (3, 11));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("acl.db");
    seed(&db);
    let mut server = Command::new(common::bin())
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "warn"])
        .env("ACL_JWT_SECRET", SECRET)
        .env_remove("ACL_DB")
        .env_remove("ACL_AS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = common::wait_for(&mut lines, "listening on http://", &mut Vec::new());
    common::run_compat(
        server,
        lines,
        &python,
        "neuro/compat.py",
        &format!("http://{addr}"),
        &[("ACL_SECRET", SECRET.as_ref())],
    );
}
