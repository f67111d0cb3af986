//! Bad input: texts that look like SQL or hold quotes and Unicode are stored and read back
//! intact; oversized input never reaches SQL; the schema's constraints refuse bad rows;
//! corrupt rows read back are errors, not panics.

use acl_core::{
    Change, ClusterName, ErrorKind, PrincipalKind, PrincipalName, ReadView, Revision, Timestamp,
    Uri, WriteTxn,
};
use acl_core::{ReadViewExt, WriteTxnExt};
use rusqlite::Connection;

use super::{fixture, n, raw_dump, record};
use crate::{SqliteStore, Store};

/// URIs that would break a query built by string formatting.
const NASTY_URIS: &[&str] = &[
    "storage://c/it's",
    "storage://c/say \"hi\"",
    "storage://c/x'); DROP TABLE grants; --",
    "storage://c/a;b",
    "storage://c/%27%22",
    "storage://c/ünïcødé/日本語/🦀",
    "storage://c/SELECT * FROM principals",
    "storage://c/a\\b",
    "storage://c/ a b ",
    "storage://c/x' OR '1'='1",
    "storage://c/a/b*c",
    "storage://c/_%",
];

/// Free-text changelog fields carry anything, including NUL and long text.
const NASTY_TEXTS: &[&str] = &[
    "'; DELETE FROM changelog; --",
    "\"quoted\" and 'single'",
    "nul \0 inside",
    "ünïcødé 🦀",
    "",
];

#[test]
fn nasty_texts_round_trip_intact() {
    let store = fixture();
    let holder = n("alice");
    let uris: Vec<Uri> = NASTY_URIS.iter().map(|t| Uri::parse(t).unwrap()).collect();
    let mut txn = store.write().unwrap();
    for uri in &uris {
        txn.put_grant(&acl_core::Grant {
            holder: holder.clone(),
            uri: uri.clone(),
            level: acl_core::Level::Write,
        })
        .unwrap();
        txn.insert_fence(&acl_core::Fence {
            uri: uri.clone(),
            group: n("g/team"),
        })
        .unwrap();
    }
    let long = "x".repeat(65_536);
    let mut texts: Vec<&str> = NASTY_TEXTS.to_vec();
    texts.push(&long);
    txn.commit(Change {
        at: Timestamp(-1),
        actor: Some(holder.clone()),
        action: texts.join("|"),
        target: NASTY_URIS.join("|"),
        detail: long.clone(),
    })
    .unwrap();

    let view = store.read().unwrap();
    let got = view.grants_on(&uris).unwrap();
    assert_eq!(got.len(), uris.len());
    for uri in &uris {
        let at = view.grants_at(std::slice::from_ref(&holder), std::slice::from_ref(uri));
        assert_eq!(at.unwrap().len(), 1, "{uri}");
        let fences = view.fences_at(std::slice::from_ref(uri)).unwrap();
        assert_eq!(fences.len(), 1, "{uri}");
        assert_eq!(&fences[0].uri, uri);
    }
    let listed = view
        .grants_of(
            &holder,
            Some(&Uri::parse("storage://c").unwrap()),
            None,
            1000,
        )
        .unwrap();
    for uri in &uris {
        assert!(listed.iter().any(|g| &g.uri == uri), "{uri} listed");
    }
    let entry = view.changes(Revision(2), None, 1).unwrap().remove(0);
    assert_eq!(entry.change.action, texts.join("|"));
    assert_eq!(entry.change.target, NASTY_URIS.join("|"));
    assert_eq!(entry.change.detail, long);
    assert_eq!(entry.change.at, Timestamp(-1));
    drop(view);
    // Every table is still there and sound.
    store.check_integrity().unwrap();
    assert_eq!(
        store.read().unwrap().principals(None, 100).unwrap().len(),
        5
    );
}

#[test]
fn oversized_input_is_refused_before_sql() {
    let store = fixture();
    let before = raw_dump(&store);
    let huge = "a".repeat(64 * 1024);
    let huge_uri = format!("storage://c/{huge}");
    let huge_name = format!("r/{huge}");
    let mut txn = store.write().unwrap();
    let attempts: Vec<(&str, acl_core::Result<()>)> = vec![
        (
            "grant on a huge uri",
            Uri::parse(&huge_uri).and_then(|uri| {
                txn.put_grant(&acl_core::Grant {
                    holder: n("alice"),
                    uri,
                    level: acl_core::Level::Read,
                })
            }),
        ),
        (
            "principal with a huge name",
            PrincipalName::new(&huge_name).and_then(|name| {
                txn.insert_principal(&acl_core::PrincipalRecord {
                    name,
                    kind: PrincipalKind::Role,
                    active: true,
                })
            }),
        ),
        (
            "huge cluster",
            ClusterName::new(&huge).and_then(|c| txn.set_cluster(&c)),
        ),
        (
            "name with a quote",
            PrincipalName::new("o'brien").and_then(|name| {
                txn.insert_principal(&record(name.as_str(), PrincipalKind::User, true))
            }),
        ),
        (
            "name with sql",
            PrincipalName::new("x; DROP TABLE principals").map(drop),
        ),
    ];
    for (case, result) in attempts {
        let kind = result.unwrap_err().kind();
        assert_eq!(kind, ErrorKind::InvalidInput, "{case}");
        assert_eq!(raw_dump(&store), before, "{case}");
    }
    txn.commit(Change {
        at: Timestamp(0),
        actor: None,
        action: "none".into(),
        target: String::new(),
        detail: String::new(),
    })
    .unwrap();
    let after = raw_dump(&store);
    assert_eq!(
        after.len(),
        before.len() + 1,
        "only the changelog entry is new"
    );
}

/// Rows that only a bug or a hand edit could write: the schema refuses every one.
#[test]
fn the_schema_refuses_bad_rows() {
    let store = fixture();
    let conn = Connection::open(store.path()).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    let before = raw_dump(&store);
    let refused = [
        "INSERT INTO grants VALUES ('alice', 'storage://c/x', 5)",
        "INSERT INTO grants VALUES ('alice', 'storage://c/x', -1)",
        "INSERT INTO grants VALUES ('alice', 'storage://c/x', 'read')",
        "INSERT INTO grants VALUES ('alice', 'storage://c/x', 2.5)",
        "INSERT INTO grants VALUES ('nobody', 'storage://c/x', 2)",
        "INSERT INTO grants VALUES ('alice', 'storage://c/alice', 2)",
        "INSERT INTO grants VALUES ('alice', '', 2)",
        "INSERT INTO grants VALUES ('alice', NULL, 2)",
        "INSERT INTO principals (name, kind, active) VALUES ('x', 3, 1)",
        "INSERT INTO principals (name, kind, active) VALUES ('x', -1, 1)",
        "INSERT INTO principals (name, kind, active) VALUES ('x', 0, 2)",
        "INSERT INTO principals (name, kind, active) VALUES ('', 0, 1)",
        "INSERT INTO principals (name, kind, active) VALUES ('alice', 0, 1)",
        "INSERT INTO principals (id, name, kind, active) \
         SELECT id, 'x', 0, 1 FROM principals WHERE name = 'alice'",
        "UPDATE principals SET id = id + 1000 WHERE name = 'alice'",
        "INSERT INTO edges SELECT id, 9999 FROM principals WHERE name = 'alice'",
        "INSERT INTO edges SELECT id, NULL FROM principals WHERE name = 'alice'",
        "INSERT INTO edges VALUES ('alice', 'r/readers')",
        "INSERT INTO edges SELECT m.id, r.id FROM principals AS m, principals AS r \
         WHERE m.name = 'alice' AND r.name = 'r/readers'",
        "INSERT INTO fences VALUES ('storage://c/x', 'nobody')",
        "INSERT INTO meta VALUES (2, 0, NULL, 0)",
        "UPDATE meta SET notes_from = -1",
        "INSERT INTO changed VALUES (0, 1, 'alice', '')",
        "INSERT INTO changed VALUES (1, 5, 'alice', '')",
        "INSERT INTO changed VALUES (1, 1, NULL, '')",
        "UPDATE meta SET revision = -1",
        "UPDATE meta SET revision = 'two'",
        "INSERT INTO changelog VALUES (0, 0, NULL, 'a', 't', 'd')",
        "INSERT INTO changelog VALUES (1, 0, NULL, 'a', 't', 'd')",
        "DELETE FROM principals WHERE name = 'alice'",
        "UPDATE principals SET name = 'alicia' WHERE name = 'alice'",
    ];
    for sql in refused {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(
            matches!(
                err.sqlite_error_code(),
                Some(rusqlite::ErrorCode::ConstraintViolation)
            ),
            "{sql}: {err}"
        );
    }
    assert_eq!(raw_dump(&store), before);
}

type ReadCall = fn(&crate::SqliteRead<'_>) -> acl_core::Result<()>;

/// Rows the schema accepts but the store must not trust: read back, each is an
/// [`acl_core::Error::Storage`] naming its table.
#[test]
fn corrupt_rows_are_storage_errors() {
    let cases: &[(&str, &str, ReadCall)] = &[
        (
            "INSERT INTO principals (name, kind, active) VALUES ('bad name', 0, 1)",
            "principals",
            |v| v.principals(None, 100).map(drop),
        ),
        (
            "INSERT INTO grants VALUES ('alice', 'not a uri', 2)",
            "grants",
            |v| v.grants_of(&n("alice"), None, None, 100).map(drop),
        ),
        (
            "INSERT INTO grants VALUES ('alice', 'STORAGE://c/alice/x', 2)",
            "grants",
            |v| v.grants_of(&n("alice"), None, None, 100).map(drop),
        ),
        (
            "INSERT INTO fences VALUES ('storage://c/x/', 'g/team')",
            "fences",
            |v| v.fences(None, None, 100).map(drop),
        ),
        ("UPDATE meta SET cluster = 'a/b'", "meta", |v| {
            v.cluster().map(drop)
        }),
        (
            "INSERT INTO changelog VALUES (3, 0, 'not valid', 'a', 't', 'd')",
            "changelog",
            |v| v.changes(Revision(0), None, 100).map(drop),
        ),
    ];
    for (sql, table, read) in cases {
        let store = fixture();
        Connection::open(store.path())
            .unwrap()
            .execute(sql, [])
            .unwrap();
        let view = store.read().unwrap();
        let err = read(&view).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{sql}");
        assert!(
            err.to_string().contains(&format!("table `{table}`")),
            "{sql}: {err}"
        );
    }
}

#[test]
fn a_read_only_or_missing_location_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path().join("no/such/dir/acl.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
}
