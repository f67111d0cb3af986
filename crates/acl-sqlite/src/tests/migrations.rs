//! Migrations: a database written by schema version 1 is migrated at open; a newer one,
//! or a file of another application, is refused and left untouched; a failing step leaves
//! the database at its old version.

use acl_core::{ErrorKind, ReadView, Revision};
use acl_core::{ReadViewExt, WriteTxnExt};
use acl_testing::world::dump;
use rusqlite::Connection;

use super::{n, raw_dump, u};
use crate::schema::{self, APPLICATION_ID, CURRENT_VERSION, MIGRATIONS, Migration};
use crate::{SqliteStore, Store};

/// Step 1 as released. Released steps never change: a database written by version 1 must
/// migrate exactly as this text says it was built.
const FROZEN_V1: &str = "
CREATE TABLE meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL CHECK (revision >= 0),
    cluster  TEXT CHECK (cluster IS NULL OR length(cluster) BETWEEN 1 AND 255)
) STRICT;
INSERT INTO meta (id, revision, cluster) VALUES (1, 0, NULL);

CREATE TABLE principals (
    name   TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
    kind   INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT, WITHOUT ROWID;

CREATE TABLE grants (
    holder TEXT NOT NULL REFERENCES principals (name),
    uri    TEXT NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    level  INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    PRIMARY KEY (holder, uri)
) STRICT, WITHOUT ROWID;
CREATE INDEX grants_by_uri ON grants (uri, holder, level);

CREATE TABLE edges (
    member TEXT NOT NULL REFERENCES principals (name),
    role   TEXT NOT NULL REFERENCES principals (name),
    PRIMARY KEY (member, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX edges_by_role ON edges (role, member);

CREATE TABLE fences (
    uri TEXT NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    grp TEXT NOT NULL REFERENCES principals (name),
    PRIMARY KEY (uri, grp)
) STRICT, WITHOUT ROWID;
CREATE INDEX fences_by_group ON fences (grp, uri);

CREATE TABLE changelog (
    revision INTEGER PRIMARY KEY CHECK (revision >= 1),
    at       INTEGER NOT NULL,
    actor    TEXT,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
CREATE INDEX changelog_by_actor ON changelog (actor, revision);
";

/// Builds, by hand, the database a version-1 build would have written, with a little data
/// in every table.
fn v1_fixture(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .unwrap();
    conn.execute_batch(&format!(
        "BEGIN; {FROZEN_V1}
         INSERT INTO principals VALUES ('alice', 0, 1), ('r/x', 1, 1), ('g', 2, 1);
         INSERT INTO grants VALUES ('alice', 'storage://c/alice', 4), ('r/x', 'storage://', 0);
         INSERT INTO edges VALUES ('alice', 'r/x'), ('r/x', 'g');
         INSERT INTO fences VALUES ('storage://c/alice', 'g');
         INSERT INTO changelog VALUES (1, 10, NULL, 'init', 'c', ''), (2, 20, 'alice', 'grant', 'storage://c/alice', 'alice manage');
         UPDATE meta SET revision = 2, cluster = 'c';
         PRAGMA user_version = 1; PRAGMA application_id = {APPLICATION_ID};
         COMMIT;"
    ))
    .unwrap();
}

/// The schema objects of a database, as SQL, sorted.
fn schema_sql(path: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut rows: Vec<String> = conn
        .prepare("SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_schema")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

fn user_version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[test]
fn released_steps_never_change() {
    assert_eq!(MIGRATIONS.first().map(|m| m.sql), Some(FROZEN_V1));
    assert_eq!(CURRENT_VERSION, i64::try_from(MIGRATIONS.len()).unwrap());
}

#[test]
fn a_version_1_database_is_migrated_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    v1_fixture(&old);
    let store = SqliteStore::open(&old).unwrap();
    assert_eq!(user_version(&old), CURRENT_VERSION);
    let view = store.read().unwrap();
    let state = dump(&view).unwrap();
    assert_eq!(state.revision, Revision(2));
    assert_eq!(state.cluster.unwrap().as_str(), "c");
    assert_eq!(state.principals.len(), 3);
    assert_eq!(state.grants.len(), 2);
    assert_eq!(state.edges.len(), 2);
    assert_eq!(state.fences.len(), 1);
    assert_eq!(state.changes.len(), 2);
    assert_eq!(
        view.grants_of(&n("alice"), Some(&u("storage://c")), None, 10)
            .unwrap()
            .len(),
        1
    );
    drop(view);
    store.check_integrity().unwrap();
    // A migrated database has exactly the schema of a fresh one.
    let fresh = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh).unwrap());
    assert_eq!(schema_sql(&old), schema_sql(&fresh));
    // And it keeps working: the next commit is revision 3.
    let txn = store.write().unwrap();
    assert_eq!(
        acl_core::WriteTxn::commit(txn, super::change("after", None)).unwrap(),
        Revision(3)
    );
}

#[test]
fn later_steps_are_applied_in_order_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    v1_fixture(&path);
    let conn = Connection::open(&path).unwrap();
    let steps = [
        MIGRATIONS[0],
        Migration {
            summary: "add emails",
            sql: "ALTER TABLE principals ADD COLUMN email TEXT;",
        },
        Migration {
            summary: "fill emails",
            sql: "UPDATE principals SET email = name || '@example.invalid';",
        },
    ];
    schema::migrate(&conn, &steps).unwrap();
    let email: String = conn
        .query_row(
            "SELECT email FROM principals WHERE name = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(email, "alice@example.invalid");
    assert_eq!(user_version(&path), 3);
    // Applying the same list again changes nothing.
    schema::migrate(&conn, &steps).unwrap();
    assert_eq!(user_version(&path), 3);
}

#[test]
fn a_failing_step_leaves_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    v1_fixture(&path);
    let conn = Connection::open(&path).unwrap();
    let before = schema_sql(&path);
    let steps = [
        MIGRATIONS[0],
        Migration {
            summary: "a good step",
            sql: "CREATE TABLE shares (folder TEXT NOT NULL);",
        },
        Migration {
            summary: "a bad step",
            sql: "CREATE TABLE grants (x TEXT);",
        },
    ];
    let err = schema::migrate(&conn, &steps).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(
        err.to_string().contains("migration step 3 (a bad step)"),
        "{err}"
    );
    assert_eq!(user_version(&path), 1);
    assert_eq!(schema_sql(&path), before);
    assert!(conn.is_autocommit());
}

#[test]
fn a_newer_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        super::fill(&store);
    }
    let newer = CURRENT_VERSION + 1;
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {newer};"))
        .unwrap();
    let before_schema = schema_sql(&path);
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    let message = err.to_string();
    assert!(
        message.contains(&format!("schema version {newer}")),
        "{message}"
    );
    assert!(message.contains("newer"), "{message}");
    assert_eq!(user_version(&path), newer);
    assert_eq!(schema_sql(&path), before_schema);
}

#[test]
fn a_database_of_another_application_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Tables but no acl version.
    let tables = dir.path().join("other.db");
    Connection::open(&tables)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');")
        .unwrap();
    let err = SqliteStore::open(&tables).unwrap_err();
    assert!(err.to_string().contains("not an acl database"), "{err}");
    assert_eq!(schema_sql(&tables).len(), 1);
    // Another application id.
    let app = dir.path().join("app.db");
    Connection::open(&app)
        .unwrap()
        .execute_batch("PRAGMA application_id = 42;")
        .unwrap();
    let err = SqliteStore::open(&app).unwrap_err();
    assert!(err.to_string().contains("application id"), "{err}");
    // Not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    let err = SqliteStore::open(&junk).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
}

#[test]
fn a_fresh_database_is_versioned_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&path), CURRENT_VERSION);
    let conn = Connection::open(&path).unwrap();
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // The store's own connections: FULL for a file store, foreign keys on, readers
    // read-only.
    let view = store.read().unwrap();
    let reader = view.conn().unwrap();
    let fk: i64 = reader
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    let query_only: i64 = reader
        .pragma_query_value(None, "query_only", |r| r.get(0))
        .unwrap();
    assert_eq!(query_only, 1);
    drop(view);
    let txn = store.write().unwrap();
    let writer = txn.conn().unwrap();
    let sync: i64 = writer
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous = FULL");
    let fk: i64 = writer
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    drop(txn);
    // Opening an up-to-date database changes nothing.
    let before = raw_dump(&store);
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(raw_dump(&store), before);
}

#[test]
fn concurrent_first_opens_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| SqliteStore::open(&path).map(drop)))
            .collect();
        for handle in handles {
            handle.join().unwrap().unwrap();
        }
    });
    assert_eq!(user_version(&path), CURRENT_VERSION);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.read().unwrap().revision().unwrap(), Revision(0));
    store.check_integrity().unwrap();
}

#[test]
fn opening_an_up_to_date_database_does_not_wait_for_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let store = SqliteStore::open(&path).unwrap();
    let held = store.write().unwrap();
    let options = crate::SqliteOptions {
        busy_timeout: std::time::Duration::from_millis(50),
        ..crate::SqliteOptions::default()
    };
    let other = SqliteStore::open_with(&path, options).unwrap();
    assert_eq!(other.read().unwrap().revision().unwrap(), Revision(0));
    drop(held);
}

/// Builds a version-3 database (steps 1 to 3 as released) holding the fixture's principals,
/// edges, grants and fences, and rows of other tables that name principals, written with
/// raw SQL in the version-3 layout (edges keyed by names).
fn v3_fixture(path: &std::path::Path) {
    use super::{EDGES, FENCES, GRANTS, PRINCIPALS};
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .unwrap();
    schema::migrate(&conn, &MIGRATIONS[..3]).unwrap();
    assert_eq!(user_version(path), 3);
    conn.execute_batch("BEGIN").unwrap();
    for (name, kind, active) in PRINCIPALS {
        conn.execute(
            "INSERT INTO principals VALUES (?1, ?2, ?3)",
            rusqlite::params![name, *kind as u8, active],
        )
        .unwrap();
    }
    for (member, role) in EDGES {
        conn.execute("INSERT INTO edges VALUES (?1, ?2)", [member, role])
            .unwrap();
    }
    for grant in GRANTS {
        let grant = super::g(grant);
        conn.execute(
            "INSERT INTO grants VALUES (?1, ?2, ?3)",
            rusqlite::params![
                grant.holder.as_str(),
                grant.uri.as_str(),
                grant.level.rank()
            ],
        )
        .unwrap();
    }
    for fence in FENCES {
        let fence = super::f(fence);
        conn.execute(
            "INSERT INTO fences VALUES (?1, ?2)",
            [fence.uri.as_str(), fence.group.as_str()],
        )
        .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO folders VALUES ('f1', 'docs', 'alice', 'user', 'h1', 'active', NULL);
         INSERT INTO shares VALUES ('f1', 'carol', 'ro');
         INSERT INTO group_info VALUES ('g/team', 'default', 5);
         INSERT INTO changelog VALUES (1, 10, 'alice', 'setup', 't', 'd');
         UPDATE meta SET revision = 1, cluster = 'c';
         COMMIT;",
    )
    .unwrap();
}

#[test]
fn a_version_3_database_gets_integer_ids_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v3.db");
    v3_fixture(&old);
    let store = SqliteStore::open(&old).unwrap();
    assert_eq!(user_version(&old), CURRENT_VERSION);
    store.check_integrity().unwrap();
    // The same rows as the fixture written through the store.
    let reference = super::fixture();
    let (migrated, expected) = (
        dump(&store.read().unwrap()).unwrap(),
        dump(&reference.read().unwrap()).unwrap(),
    );
    assert_eq!(migrated.principals, expected.principals);
    assert_eq!(migrated.grants, expected.grants);
    assert_eq!(migrated.edges, expected.edges);
    assert_eq!(migrated.fences, expected.fences);
    assert_eq!(migrated.folders.len(), 1);
    assert_eq!(migrated.shares.len(), 1);
    assert_eq!(migrated.groups.len(), 1);
    let view = store.read().unwrap();
    let mut reach: Vec<(String, String)> = view
        .reachable_roles(&n("bob"))
        .unwrap()
        .into_iter()
        .map(|(member, role)| (member.to_string(), role.name.to_string()))
        .collect();
    reach.sort();
    assert_eq!(
        reach,
        [("bob", "r/readers"), ("r/readers", "g/team")].map(|(a, b)| (a.into(), b.into()))
    );
    drop(view);
    // Ids follow name order; the foreign keys on names and on ids hold.
    let conn = Connection::open(&old).unwrap();
    let ids: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM principals ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = super::PRINCIPALS.iter().map(|p| p.0).collect();
    assert_eq!(ids.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(), names);
    assert_eq!(ids.first().map(|p| p.0), Some(1));
    let mut txn = store.write().unwrap();
    use acl_core::WriteTxn;
    assert_eq!(
        txn.delete_principal(&n("alice")).unwrap_err().kind(),
        ErrorKind::Storage
    );
    txn.insert_principal(&super::record("dave", acl_core::PrincipalKind::User, true))
        .unwrap();
    txn.insert_edge(&super::edge("dave", "g/team")).unwrap();
    assert_eq!(
        txn.roles_of(&[n("dave")]).unwrap()[0].1.name.as_str(),
        "g/team"
    );
    assert_eq!(
        txn.commit(super::change("after", None)).unwrap(),
        Revision(2)
    );
    store.check_integrity().unwrap();
    // A migrated database has exactly the schema of a fresh one.
    let fresh = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh).unwrap());
    assert_eq!(schema_sql(&old), schema_sql(&fresh));
}
