//! Replica coherence (issue 19 item 7, DESIGN rule D3): two `acl serve` processes on one
//! PostgreSQL database, each answering decisions from its own follower index. A grant
//! through replica A is visible through replica B at A's revision token; a membership
//! revoked through A ends access through B at once with the token, and within a second
//! without one (B is woken by the commit's notification, rule D4, or its poll).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use std::time::{Duration, Instant};

use common::{Run, Served, http, postgres_url, serve, token};

const SECRET: &str = "a-jwt-secret-for-the-replica-tests-0123456789";

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A write through `server`; answers the revision it committed.
fn write(server: &Served, token: &str, path: &str, body: &str) -> u64 {
    let (status, answer) = http("POST", &server.addr, token, path, body);
    assert_eq!(status, 200, "{path} {body}: {answer}");
    json(&answer)["revision"].as_u64().unwrap()
}

/// A check of `bob` through `server`, with the token `at_least` if given: whether it is
/// allowed, and the revision it was answered at.
fn check(
    server: &Served,
    token: &str,
    uri: &str,
    level: &str,
    at_least: Option<u64>,
) -> (bool, u64) {
    let path = match at_least {
        Some(revision) => format!("/v1/check?at_least={revision}"),
        None => "/v1/check".to_owned(),
    };
    let body = format!(r#"{{"principal": "bob", "uri": "{uri}", "level": "{level}"}}"#);
    let (status, answer) = http("POST", &server.addr, token, &path, &body);
    assert_eq!(status, 200, "{answer}");
    let answer = json(&answer);
    (
        answer["allowed"].as_bool().unwrap(),
        answer["revision"].as_u64().unwrap(),
    )
}

/// The value of the counter `name` in `server`'s metrics.
fn metric(server: &Served, token: &str, name: &str) -> u64 {
    let (status, text) = http("GET", &server.addr, token, "/metrics", "");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn two_replicas_on_one_database_stay_coherent_d3() {
    let url = postgres_url(None);
    Run::from_command(&["--db", &url, "init", "--cluster", "prod"]).ok();
    Run::from_command(&[
        "--db",
        &url,
        "user",
        "create",
        "--email",
        "bob@example.com",
        "--username",
        "bob",
        "--password",
        "Pass-word-1!",
    ])
    .ok();
    let a = serve(&url, SECRET);
    let b = serve(&url, SECRET);
    let admin = token(&url, "admin", "admin", SECRET);

    // A grant through A, checked through B at once with A's token: always visible.
    for i in 0..20 {
        let uri = format!("storage://prod/data/{i}");
        let grant = format!(r#"{{"uri": "{uri}", "principal": "bob", "level": "read"}}"#);
        let revision = write(&a, &admin, "/v1/grant", &grant);
        let (allowed, at) = check(&b, &admin, &uri, "read", Some(revision));
        assert!(
            allowed,
            "grant {i} at {revision} not visible through B (at {at})"
        );
        assert!(at >= revision, "{at} < {revision}");
    }

    // Access through a role: bob is a member of `team`, which may write the team's data.
    write(&a, &admin, "/v1/roles", r#"{"name": "team"}"#);
    let team = "storage://prod/team/x";
    write(
        &a,
        &admin,
        "/v1/grant",
        r#"{"uri": "storage://prod/team", "principal": "team", "level": "write"}"#,
    );
    let member = r#"{"uri": "role://team", "principal": "bob", "level": "read"}"#;
    let leave = r#"{"uri": "role://team", "principal": "bob"}"#;
    let joined = write(&a, &admin, "/v1/grant", member);
    assert!(check(&b, &admin, team, "write", Some(joined)).0);

    // Revoked through A: with A's token, B refuses at once.
    let revoked = write(&a, &admin, "/v1/revoke", leave);
    let (allowed, at) = check(&b, &admin, team, "write", Some(revoked));
    assert!(
        !allowed,
        "B still allows at {at} after the revocation at {revoked}"
    );

    // Without a token, B refuses within a second of A's acknowledgement.
    let mut slowest = Duration::ZERO;
    for round in 0..5 {
        let joined = write(&a, &admin, "/v1/grant", member);
        assert!(check(&b, &admin, team, "write", Some(joined)).0);
        let revoked = write(&a, &admin, "/v1/revoke", leave);
        let acknowledged = Instant::now();
        loop {
            let (allowed, at) = check(&b, &admin, team, "write", None);
            let waited = acknowledged.elapsed();
            if !allowed {
                assert!(
                    at >= revoked,
                    "denied at {at}, before the revocation {revoked}"
                );
                slowest = slowest.max(waited);
                break;
            }
            assert!(
                waited < Duration::from_secs(1),
                "round {round}: B still allows {waited:?} after the revocation at {revoked}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    println!("slowest revocation seen through B: {slowest:?}");

    // B was woken by the commits' notifications, not only by its poll (rule D4).
    assert!(metric(&b, &admin, "acl_commit_notifications_total") > 0);
    for server in [a, b] {
        let (status, logs) = server.stop();
        assert!(status.success(), "{status:?}");
        assert!(
            !logs
                .iter()
                .any(|line| line.contains("lost the listening connection")),
            "{logs:?}"
        );
    }
}
