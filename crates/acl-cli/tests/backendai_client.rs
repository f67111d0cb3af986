//! The compatibility test of rule B1 with the REAL published client: builds a virtualenv
//! with `backend.ai-client==26.9.6` from PyPI (cached under the target directory, keyed by
//! the client's and Python's versions), seeds a SQLite file with a master key, starts the
//! real `acl serve --backendai-listen` binary on ephemeral ports and runs
//! tests/backendai/compat.py against it: the seed flows of 000/001 and 002, every route of
//! the folder API through the client's own functions (or its own signed `Request` where
//! the v1 SDK has none), Backend.AI's historical failures as refusals and the signature
//! failures.
//!
//! It fails loudly, never skips: without Python 3.13 or newer, or without PyPI, the test
//! fails and says what was missing. `ACL_PYTHON` names the interpreter to use;
//! `ACL_BAI_VERBOSE=1` makes compat.py print every answer and `ACL_BAI_KEEP_GOING=1` list
//! every failed check instead of stopping at the first (it still fails).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use acl_core::{Caller, ClusterName, PrincipalName, Schema};
use acl_platform::{
    AccountUpdate, Hosts, Limits, MasterKey, NewAccount, Platform, PolicyName, ResourcePolicy,
    UserRole,
};
use acl_server::now;
use acl_sqlite::SqliteStore;

/// The client release the test pins; it needs Python 3.13.
const CLIENT: &str = "backend.ai-client==26.9.6";

/// The master key the store is seeded with and the server started with (`ACL_MASTER_KEY`).
const MASTER: &str = "3f1e9a0c5b7d2468ace013579bdf2468ace013579bdf02468ace13579bdf0246";

/// The HS256 secret of the server's own API (unused by the client, required to serve).
const SECRET: &str = "the backend.ai compatibility test's secret, 32 bytes or more";

/// A password that passes rule A2.
const PASSWORD: &str = "Passw0rd!x";

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn entropy() -> impl FnMut(&mut [u8]) {
    |buf: &mut [u8]| getrandom::fill(buf).unwrap()
}

/// The store compat.py expects; returns the keypairs by user (`legacy`: carol's keypair
/// made before the master key).
fn seed(db: &Path) -> BTreeMap<String, (String, String)> {
    let mut random = entropy();
    let mut keys = BTreeMap::new();
    {
        let engine = Platform::new(SqliteStore::open(db).unwrap(), Schema::standard())
            .with_master_key(MasterKey::from_hex(MASTER).unwrap());
        let admin =
            NewAccount::new("admin", "admin@example.org", PASSWORD).with_role(UserRole::Superadmin);
        engine
            .init_with_account(&ClusterName::new("c").unwrap(), &admin, &mut random, now())
            .unwrap();
        let by = Caller::new(name("admin"), now());
        for user in ["alice", "bob", "carol", "dave", "erin", "frank"] {
            let account = NewAccount::new(user, &format!("{user}@example.org"), PASSWORD);
            engine.create_account(&by, &account, &mut random).unwrap();
        }
        engine.create_group(&by, &name("proj"), "default").unwrap();
        for user in ["alice", "bob", "carol"] {
            engine
                .add_group_member(&by, &name("proj"), &name(user))
                .unwrap();
        }
        for user in ["admin", "alice", "bob", "carol", "dave", "erin", "frank"] {
            let made = engine
                .create_keypair(&by, &name(user), &mut random)
                .unwrap();
            keys.insert(
                user.to_owned(),
                (
                    made.value.keypair.access_key.as_str().to_owned(),
                    made.value.secret.expose().to_owned(),
                ),
            );
        }
        // rule A3: erin deactivated (her keypair with her), frank's keypair alone
        engine.deactivate_account(&by, &name("erin")).unwrap();
        let frank = acl_platform::AccessKey::new(&keys["frank"].0).unwrap();
        engine.set_keypair_active(&by, &frank, false).unwrap();
        // rule A6: `small` is dave's, so it is not deleted; `spare` is nobody's
        for (policy, hosts) in [("small", &["local", "nfs"][..]), ("spare", &["local"][..])] {
            engine
                .create_policy(
                    &by,
                    &ResourcePolicy {
                        name: PolicyName::new(policy).unwrap(),
                        limits: Limits::unlimited(),
                        hosts: Hosts::Only(hosts.iter().map(|h| (*h).to_owned()).collect()),
                    },
                )
                .unwrap();
        }
        let update = AccountUpdate {
            policy: Some("small".to_owned()),
            ..AccountUpdate::default()
        };
        engine
            .update_account(&by, &name("dave"), &update, &mut random)
            .unwrap();
    }
    // rule B1: a keypair made while no master key was configured keeps no sealed secret
    let engine = Platform::new(SqliteStore::open(db).unwrap(), Schema::standard());
    let by = Caller::new(name("admin"), now());
    let made = engine
        .create_keypair(&by, &name("carol"), &mut random)
        .unwrap();
    assert!(made.value.keypair.sealed.is_none());
    keys.insert(
        "legacy".to_owned(),
        (
            made.value.keypair.access_key.as_str().to_owned(),
            made.value.secret.expose().to_owned(),
        ),
    );
    keys
}

/// Rule B1: the published client against the real server.
#[test]
fn the_published_backendai_client_works_unchanged() {
    let python = common::venv(CLIENT, (3, 13));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("acl.db");
    let keys = seed(&db);
    let keys_file = dir.path().join("keys.json");
    let json: BTreeMap<&str, serde_json::Value> = keys
        .iter()
        .map(|(user, (access_key, secret_key))| {
            (
                user.as_str(),
                serde_json::json!({ "access_key": access_key, "secret_key": secret_key }),
            )
        })
        .collect();
    std::fs::write(&keys_file, serde_json::to_string(&json).unwrap()).unwrap();

    let mut server = Command::new(common::bin())
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--backendai-listen", "127.0.0.1:0", "--log-level", "warn"])
        .env("ACL_MASTER_KEY", MASTER)
        .env("ACL_JWT_SECRET", SECRET)
        .env_remove("ACL_DB")
        .env_remove("ACL_AS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    // the Backend.AI line comes right after the main listener's
    let mut startup = Vec::new();
    common::wait_for(&mut lines, "listening on http://", &mut startup);
    let backendai = common::wait_for(&mut lines, "backendai listening on http://", &mut startup);
    let (_, logs) = common::run_compat(
        server,
        lines,
        &python,
        "backendai/compat.py",
        &format!("http://{backendai}"),
        &[
            ("ACL_BAI_KEYS", keys_file.as_os_str()),
            ("BACKEND_CONNECTION_TIMEOUT", "30".as_ref()),
        ],
    );

    // rule B1: no secret in plaintext in the database or the logs
    let secrets: BTreeSet<&str> = keys.values().map(|(_, secret)| secret.as_str()).collect();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("acl.db"))
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in &secrets {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "a keypair secret is in plaintext in {}",
                path.display()
            );
        }
    }
    for line in startup.iter().chain(&logs) {
        assert!(
            !secrets.iter().any(|secret| line.contains(secret)),
            "a keypair secret is in the server's logs: {line}"
        );
    }
}
