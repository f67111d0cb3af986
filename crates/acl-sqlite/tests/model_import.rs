//! A model import over a `SqliteStore` file is ONE transaction (rule M3, docs/semantics.md
//! "Model files"): a storage failure forced at its last entry (a trigger that aborts every
//! fence insert) writes nothing, and without it the import is one revision.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use acl_core::{Level, PrincipalName, ReadView, Revision, Schema, Store, Timestamp, Uri};
use acl_platform::model::{self, MODEL_IMPORT};
use acl_platform::{Platform, PlatformView};
use acl_sqlite::SqliteStore;

const MODEL: &str = "cluster: prod
users: [ann, carl]
groups: [team]
memberships:
  - {member: carl, role: team}
folders:
  - {name: data, owner: ann, host: local}
  - {name: more, owner: ann, host: local}
shares:
  - {folder: ann/data, user: carl, permission: ro}
grants:
  - {principal: team, uri: storage://prod/shared, level: write}
fences:
  - {uri: storage://prod/x, group: team}
";

/// Every row of every table of the database at `path`, as text.
fn dump(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows.sort();
    rows
}

#[test]
fn a_storage_failure_at_the_last_entry_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acl.db");
    let platform = Platform::new(SqliteStore::open(&path).unwrap(), Schema::standard());
    let model = model::parse(MODEL, platform.schema()).unwrap();
    platform
        .init(&model.cluster, Some(&model.admin), Timestamp(0))
        .unwrap();
    // a closure cached before the import, which the import's memberships must invalidate
    let team_uri = Uri::parse("storage://prod/shared").unwrap();
    let carl = PrincipalName::new("carl").unwrap();
    assert!(!platform.check(&carl, &team_uri, Level::Read).unwrap());
    let before = dump(&path);
    let revision = |p: &Platform<SqliteStore>| p.reader().unwrap().revision().unwrap();
    let before_rev = revision(&platform);

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER forced_failure BEFORE INSERT ON fences
         BEGIN SELECT RAISE(ABORT, 'forced failure'); END;",
    )
    .unwrap();
    let with_trigger = dump(&path);
    let problem =
        model::apply(&platform, &model, "late.yaml", &model.admin, Timestamp(1)).unwrap_err();
    // the fence is the model's last entry: everything before it was written in the
    // transaction, and all of it is gone
    assert_eq!(problem.pos.line, MODEL.lines().count(), "{problem:?}");
    assert!(problem.message.contains("forced failure"), "{problem:?}");
    assert_eq!(dump(&path), with_trigger);
    assert_eq!(revision(&platform), before_rev);
    let ann = PrincipalName::new("ann").unwrap();
    let view = platform.store().read().unwrap();
    assert_eq!(view.principal(&ann).unwrap(), None);
    assert!(view.folders_of(&ann).unwrap().is_empty());
    drop(view);
    assert!(platform.audit_cache().unwrap().wrong.is_empty());

    // without the failure the same import commits once, with one changelog entry
    conn.execute_batch("DROP TRIGGER forced_failure;").unwrap();
    assert_eq!(dump(&path), before);
    let loaded = model::apply(&platform, &model, "late.yaml", &model.admin, Timestamp(1)).unwrap();
    assert_eq!(revision(&platform), before_rev.next());
    let changes = platform
        .store()
        .read()
        .unwrap()
        .changes(Revision(0), None, 100)
        .unwrap();
    let last = changes.last().unwrap();
    assert_eq!(last.revision, before_rev.next());
    assert_eq!(last.change.action, MODEL_IMPORT);
    assert_eq!(last.change.target, "late.yaml");
    assert!(last.change.detail.contains("2 users"), "{last:?}");
    // the two folders made in the one transaction have distinct ids
    let data = loaded.folder(&model.folders[0].item.folder).unwrap();
    let more = loaded.folder(&model.folders[1].item.folder).unwrap();
    assert_ne!(data, more);
    assert_eq!(data.as_str(), format!("f{}", before_rev.next()));
    assert_eq!(more.as_str(), format!("f{}-2", before_rev.next()));
    // the import's membership reached the cache: carl writes through team now
    assert!(platform.check(&carl, &team_uri, Level::Write).unwrap());
    assert!(platform.audit_cache().unwrap().wrong.is_empty());
}
