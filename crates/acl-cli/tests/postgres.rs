//! The `acl` binary on PostgreSQL (issue 19 item 3): `--db postgres://...` runs the demo,
//! the commands and `acl serve` against a throwaway cluster started by the test harness
//! of acl-postgres, and a password in the URL never appears in any output, error or log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Run, http, postgres_url, serve, token};

const PASSWORD: &str = "s3cret-pw-4711";
const SECRET: &str = "a-jwt-secret-for-the-postgres-tests-0123456789";

/// A URL of a new, empty database of the shared cluster, carrying a password.
fn database_url() -> String {
    postgres_url(Some(PASSWORD))
}

fn acl(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--db", url];
    all.extend_from_slice(args);
    let run = Run::from_command(&all);
    assert!(
        !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
        "the password leaked: {run:?}"
    );
    run
}

// issue 19: `acl --db postgres://... demo` runs the demo, and the commands go on from it
#[test]
fn the_demo_and_the_commands_run_on_postgres() {
    let url = database_url();
    let demo = acl(&url, &["demo"]).ok();
    assert!(
        demo.stdout.contains("database: postgresql://postgres:***@"),
        "{}",
        demo.stdout
    );
    // the demo's state, read back by other processes
    let listed = acl(&url, &["--as", "bob", "folder", "list"]).ok();
    assert!(listed.stdout.contains("tests"), "{}", listed.stdout);
    assert!(listed.stdout.contains("datasets"), "{}", listed.stdout);
    acl(&url, &["--as", "bob", "folder", "can", "tests", "write"]).ok();
    acl(&url, &["check", "bob", "storage://demo/alice/x", "write"]).code(77);
    acl(&url, &["grant", "storage://demo/alice/x", "bob", "write"]).ok();
    acl(&url, &["check", "bob", "storage://demo/alice/x", "write"]).ok();
    let log = acl(&url, &["--json", "log"]).ok();
    let entries = log.json();
    assert!(
        log.stdout.contains("storage://demo/alice/x"),
        "{}",
        log.stdout
    );
    assert!(entries.is_object() || entries.is_array(), "{entries}");
    // init again is a conflict (73), as on SQLite
    acl(&url, &["init", "--cluster", "demo"]).code(73);
}

// issue 19 item 3: no password in an error, text or JSON
#[test]
fn a_password_in_the_url_never_appears_in_an_error() {
    for url in [
        format!("postgres://alice:{PASSWORD}@localhost/acl?host=/nonexistent-acl-dir"),
        format!("postgres://localhost/acl?host=/nonexistent-acl-dir&password={PASSWORD}"),
        format!("postgres://alice:{PASSWORD}@[broken"),
    ] {
        let text = acl(&url, &["check", "bob", "storage://x/y", "read"]);
        assert_ne!(text.code, 0, "{text:?}");
        assert!(text.stderr.starts_with("error: "), "{text:?}");
        let json = acl(&url, &["--json", "user", "list"]);
        assert_ne!(json.code, 0, "{json:?}");
        assert!(json.json_err()["error"]["message"].is_string(), "{json:?}");
    }
}

// issue 19 item 3: `acl serve` on PostgreSQL answers, and its logs hold no password
#[test]
fn serve_runs_on_postgres_and_logs_no_password() {
    let url = database_url();
    acl(&url, &["init", "--cluster", "prod"]).ok();
    acl(
        &url,
        &[
            "user",
            "create",
            "--email",
            "alice@example.com",
            "--username",
            "alice",
            "--password",
            "Pass-word-1!",
        ],
    )
    .ok();
    let server = serve(&url, SECRET);
    let token = token(&url, "admin", "alice", SECRET);
    let (status, body) = http(
        "POST",
        &server.addr,
        &token,
        "/v1/check",
        r#"{"principal": "alice", "uri": "storage:data", "level": "write"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""allowed":true"#), "{body}");
    let (status, logs) = server.stop();
    assert!(status.success(), "{status:?}: {logs:#?}");
    assert!(!logs.is_empty());
    for line in &logs {
        assert!(!line.contains(PASSWORD), "{line}");
    }
}
