//! `acl dump` and `acl restore` on the real binary (rule D5): the demo's database dumped,
//! restored into a new file and dumped again is the same bytes; refusals change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Run};

// rule D5: dump, restore into a fresh file, dump again: identical; the restored database
// answers as the original
#[test]
fn demo_database_round_trips() {
    let env = Env::empty();
    env.acl(&["demo"]).ok();
    let first = env.dir.path().join("first.jsonl");
    let run = env.acl(&["dump", first.to_str().unwrap()]).ok();
    assert!(run.stdout.starts_with("dumped "), "{}", run.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the dump holds hashes: owner only");
    }
    let copy = env.dir.path().join("copy.db");
    let copy_db = copy.to_str().unwrap();
    let restored = Run::from_command(&[
        "--db",
        copy_db,
        "--json",
        "restore",
        first.to_str().unwrap(),
    ])
    .ok()
    .json();
    let dumped = env
        .acl(&[
            "--json",
            "dump",
            env.dir.path().join("x.jsonl").to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(restored["sha256"], dumped["sha256"]);
    assert_eq!(restored["revision"], dumped["revision"]);
    let second = env.dir.path().join("second.jsonl");
    Run::from_command(&["--db", copy_db, "dump", second.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::read_to_string(&first).unwrap(),
        std::fs::read_to_string(&second).unwrap()
    );
    // the same decision on both
    let original = env.as_("bob", &["folder", "can", "tests", "write"]);
    let copied = Run::from_command(&[
        "--db", copy_db, "--as", "bob", "folder", "can", "tests", "write",
    ]);
    assert_eq!(original.code, copied.code);
    assert_eq!(original.stdout, copied.stdout);
}

// rule D5: a non-empty database, a bad checksum and a cut-short file are refused with
// their codes and messages; nothing is written, and a database file the restore would
// have created is not left behind
#[test]
fn refused_restores_change_nothing() {
    let env = Env::new();
    env.users(&["bob"]);
    let good = env.dir.path().join("good.jsonl");
    env.acl(&["dump", good.to_str().unwrap()]).ok();
    let before = env.dump();
    // into itself: not empty
    let err = env.acl(&["restore", good.to_str().unwrap()]).code(73);
    assert!(err.stderr.contains("empty store"), "{}", err.stderr);
    assert_eq!(env.dump(), before);
    // edited: the checksum refuses it
    let text = std::fs::read_to_string(&good).unwrap();
    let edited = env.dir.path().join("edited.jsonl");
    std::fs::write(&edited, text.replacen("\"bob\"", "\"bobby\"", 1)).unwrap();
    let fresh = env.dir.path().join("fresh.db");
    let fresh_db = fresh.to_str().unwrap();
    let err = Run::from_command(&["--db", fresh_db, "restore", edited.to_str().unwrap()]).code(65);
    assert!(err.stderr.contains("checksum mismatch"), "{}", err.stderr);
    assert!(!fresh.exists());
    // cut short
    let cut = env.dir.path().join("cut.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    let err = Run::from_command(&["--db", fresh_db, "restore", cut.to_str().unwrap()]).code(65);
    assert!(err.stderr.contains("cut short"), "{}", err.stderr);
    assert!(!fresh.exists());
    // a missing dump file
    let err = Run::from_command(&["--db", fresh_db, "restore", "/nonexistent/dump.jsonl"]).code(1);
    assert!(
        err.stderr.contains("/nonexistent/dump.jsonl"),
        "{}",
        err.stderr
    );
    // a non-admin may not dump
    let err = env
        .as_(
            "bob",
            &["dump", env.dir.path().join("b.jsonl").to_str().unwrap()],
        )
        .code(77);
    assert!(err.stderr.contains("dump the store"), "{}", err.stderr);
}
