//! Migrations: a fresh database gets every step; an up-to-date one is left as it is; a
//! newer schema, another application's tables, or another application's `acl_schema`
//! are refused and left untouched.

use acl_core::{ErrorKind, ReadView, Store};

use crate::schema::{CURRENT_VERSION, MIGRATIONS, migrate};
use crate::testing::Cluster;
use crate::{PgStore, conn::Manager};

fn client(db: &str) -> postgres::Client {
    postgres::Client::connect(&Cluster::shared().url(db), postgres::NoTls).unwrap()
}

fn version(db: &str) -> i64 {
    client(db)
        .query_one("SELECT version FROM acl_schema WHERE id = 1", &[])
        .unwrap()
        .get(0)
}

fn tables(db: &str) -> Vec<String> {
    client(db)
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// An empty database (not the migrated template).
fn empty_database() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let cluster = Cluster::shared();
    let name = format!(
        "acl_empty{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    client("postgres")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let _ = cluster;
    name
}

#[test]
fn a_fresh_database_gets_every_step_and_opening_again_changes_nothing() {
    let db = empty_database();
    let url = Cluster::shared().url(&db);
    let store = PgStore::open(&url).unwrap();
    assert_eq!(version(&db), CURRENT_VERSION);
    assert_eq!(store.read().unwrap().revision().unwrap().0, 0);
    let before = tables(&db);
    assert!(before.contains(&"grants".to_owned()), "{before:?}");
    drop(store);
    let again = PgStore::open(&url).unwrap();
    assert_eq!(tables(&db), before);
    assert_eq!(version(&db), CURRENT_VERSION);
    drop(again);
}

#[test]
fn steps_apply_in_order_from_any_version() {
    let db = empty_database();
    let manager = Manager {
        config: Cluster::shared().url(&db).parse().unwrap(),
        target: db.clone(),
    };
    let mut conn = manager.open().unwrap();
    migrate(conn.client(), &MIGRATIONS[..1]).unwrap();
    assert_eq!(version(&db), 1);
    assert!(!tables(&db).contains(&"folders".to_owned()));
    migrate(conn.client(), MIGRATIONS).unwrap();
    assert_eq!(version(&db), CURRENT_VERSION);
    assert!(tables(&db).contains(&"accounts".to_owned()));
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let db = empty_database();
    let url = Cluster::shared().url(&db);
    drop(PgStore::open(&url).unwrap());
    client(&db)
        .batch_execute("UPDATE acl_schema SET version = 99 WHERE id = 1")
        .unwrap();
    let before = tables(&db);
    let error = PgStore::open(&url).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Storage);
    assert!(error.to_string().contains("newer"), "{error}");
    assert_eq!(version(&db), 99);
    assert_eq!(tables(&db), before);
}

#[test]
fn another_applications_tables_are_refused_untouched() {
    let db = empty_database();
    client(&db)
        .batch_execute("CREATE TABLE orders (id BIGINT PRIMARY KEY)")
        .unwrap();
    let error = PgStore::open(&Cluster::shared().url(&db)).unwrap_err();
    assert!(error.to_string().contains("not an acl database"), "{error}");
    assert_eq!(tables(&db), vec!["orders".to_owned()]);

    let other = empty_database();
    client(&other)
        .batch_execute(
            "CREATE TABLE acl_schema (id SMALLINT PRIMARY KEY, application TEXT NOT NULL, \
             version BIGINT NOT NULL); INSERT INTO acl_schema VALUES (1, 'billing', 1)",
        )
        .unwrap();
    let error = PgStore::open(&Cluster::shared().url(&other)).unwrap_err();
    assert!(error.to_string().contains("billing"), "{error}");
    assert_eq!(tables(&other), vec!["acl_schema".to_owned()]);
}
