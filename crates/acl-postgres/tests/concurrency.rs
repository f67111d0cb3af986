//! Writers at once on one PostgreSQL database (DESIGN rule D2, issue 19 item 7): two
//! threads on two stores, and two processes, writing together. Every acknowledged write is
//! there exactly once, with its own changelog entry, and the revisions are dense: 1 to N,
//! each once, the revision row at N.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeSet;
use std::process::Command;

use acl_core::{
    Change, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Revision, Store, Timestamp,
    WriteTxn,
};
use acl_postgres::PgStore;
use acl_postgres::testing::Cluster;

/// Writes per writer.
const WRITES: usize = 40;

/// The environment variable that makes the process test a writer child.
const CHILD: &str = "ACL_PG_CONCURRENCY_WRITER";

/// Writes `WRITES` principals named `{prefix}-{i}`, one transaction each; the revisions
/// the commits answered.
fn write_many(store: &PgStore, prefix: &str) -> Vec<u64> {
    (0..WRITES)
        .map(|i| {
            let name = PrincipalName::new(&format!("{prefix}-{i}")).unwrap();
            let mut txn = store.write().unwrap();
            txn.insert_principal(&PrincipalRecord {
                name: name.clone(),
                kind: PrincipalKind::User,
                active: true,
            })
            .unwrap();
            let revision = txn
                .commit(Change {
                    at: Timestamp(i64::try_from(i).unwrap()),
                    actor: None,
                    action: "test".to_owned(),
                    target: name.to_string(),
                    detail: String::new(),
                })
                .unwrap();
            revision.0
        })
        .collect()
}

/// Every principal and changelog entry of the database at `url`: each of `prefixes`'
/// writes once, revisions 1..=N dense, each entry naming the principal its commit wrote.
fn assert_each_write_once(url: &str, prefixes: &[&str], answered: &[u64]) {
    let store = PgStore::open(url).unwrap();
    let view = store.read().unwrap();
    let total = prefixes.len() * WRITES;
    assert_eq!(view.revision().unwrap(), Revision(total as u64));
    let names: BTreeSet<String> = view
        .principals(None, total + 10)
        .unwrap()
        .into_iter()
        .map(|p| p.name.to_string())
        .collect();
    let wanted: BTreeSet<String> = prefixes
        .iter()
        .flat_map(|p| (0..WRITES).map(move |i| format!("{p}-{i}")))
        .collect();
    assert_eq!(names, wanted);
    let changes = view.changes(Revision(0), None, total + 10).unwrap();
    let revisions: Vec<u64> = changes.iter().map(|c| c.revision.0).collect();
    assert_eq!(revisions, (1..=total as u64).collect::<Vec<_>>());
    let targets: BTreeSet<String> = changes.iter().map(|c| c.change.target.clone()).collect();
    assert_eq!(targets, wanted, "each write has its own entry");
    let mut answered = answered.to_vec();
    answered.sort_unstable();
    assert_eq!(answered, revisions, "each commit answered its own revision");
}

// rule D2: two engines' writers at once in one process, on separate pools
#[test]
fn two_threads_on_two_stores_write_each_write_once() {
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let url = cluster.url(&db);
    let (a, b) = (PgStore::open(&url).unwrap(), PgStore::open(&url).unwrap());
    let answered: Vec<u64> = std::thread::scope(|scope| {
        let one = scope.spawn(|| write_many(&a, "a"));
        let two = scope.spawn(|| write_many(&b, "b"));
        let mut all = one.join().unwrap();
        all.extend(two.join().unwrap());
        all
    });
    assert_each_write_once(&url, &["a", "b"], &answered);
    cluster.drop_database(&db).unwrap();
}

// rule D2: two processes writing at once; this test re-runs itself as each writer
#[test]
fn two_processes_write_each_write_once() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (prefix, url) = spec.split_once(' ').unwrap();
        let revisions = write_many(&PgStore::open(url).unwrap(), prefix);
        assert_eq!(revisions.len(), WRITES);
        println!(
            "revisions: {}",
            revisions
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        return;
    }
    let cluster = Cluster::shared();
    let db = cluster.create_database().unwrap();
    let url = cluster.url(&db);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p", "q"]
        .into_iter()
        .map(|prefix| {
            Command::new(&exe)
                .args([
                    "two_processes_write_each_write_once",
                    "--exact",
                    "--nocapture",
                ])
                .env(CHILD, format!("{prefix} {url}"))
                .output_spawn()
        })
        .collect();
    let mut answered = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("revisions: "))
            .expect("the writer prints its revisions");
        answered.extend(line.split(',').map(|r| r.parse::<u64>().unwrap()));
    }
    assert_each_write_once(&url, &["p", "q"], &answered);
    cluster.drop_database(&db).unwrap();
}

/// Spawning with captured output.
trait OutputSpawn {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl OutputSpawn for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}
