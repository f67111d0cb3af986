//! End-to-end tests: the real server on an ephemeral port, spoken to over real HTTP
//! (reqwest, and raw TCP where a client library would hide what is tested).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use acl_core::{Caller, Schema};
use acl_platform::Platform;
use acl_server::{Engine, JwtKey, Limits, now};
use acl_sqlite::SqliteStore;

mod common;

use common::{Running, SECRET, name};

struct Fixture {
    base: String,
    addr: std::net::SocketAddr,
    client: Client,
    key: JwtKey,
    running: Option<Running>,
    _dir: TempDir,
}

/// A store with cluster `c`, admin `admin`, users alice, bob and carol (carol
/// deactivated), alice holding manage on `storage://c/alice` (her home, rule P5).
fn engine(dir: &TempDir) -> Engine {
    common::seed(&dir.path().join("acl.db"))
}

async fn start(limits: Limits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let running = Running::start(engine(&dir), limits).await;
    Fixture {
        base: running.base.clone(),
        addr: running.addr,
        client: Client::new(),
        key: running.key.clone(),
        running: Some(running),
        _dir: dir,
    }
}

impl Fixture {
    fn token(&self, who: &str) -> String {
        self.key
            .mint(&name(who), now().0 as u64 / 1000, Some(3600))
            .unwrap()
    }

    async fn get(&self, who: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token(who))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_raw(who, path, body.to_string()).await
    }

    async fn post_raw(&self, who: &str, path: &str, body: String) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token(who))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The store's revision and bob's and alice's listings: the state a failed request
    /// must leave as it was.
    async fn state(&self) -> Value {
        let (_, whoami) = self.get("admin", "/v1/whoami").await;
        let (_, bob) = self.get("admin", "/v1/list?principal=bob").await;
        let (_, alice) = self.get("admin", "/v1/list?principal=alice").await;
        json!({ "revision": whoami["revision"], "bob": bob["items"], "alice": alice["items"] })
    }

    async fn stop(mut self) -> Option<Engine> {
        self.running.take().unwrap().stop().await
    }
}

fn kind(body: &Value) -> &str {
    body["error"]["kind"].as_str().unwrap_or("<none>")
}

// rules S4, E5: single and batch checks, each answer carrying its revision
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_single_and_batch() {
    let f = start(Limits::default()).await;
    let (status, body) = f
        .post(
            "alice",
            "/v1/check",
            json!({"principal": "alice", "uri": "storage:data", "level": "write"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], true);
    let revision = body["revision"].as_u64().unwrap();
    assert!(revision > 0);
    let (_, body) = f
        .post(
            "bob",
            "/v1/check",
            json!({"principal": "bob", "uri": "storage://c/alice/data", "level": "read"}),
        )
        .await;
    assert_eq!(body["allowed"], false);
    // an action of the scheme (rule E5)
    let (status, body) = f
        .post(
            "admin",
            "/v1/check",
            json!({"principal": "alice", "uri": "vfolder://c/f1", "level": "mount-rw"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], false);
    let checks: Vec<Value> = (0..1000)
        .map(|i| {
            let who = if i % 2 == 0 { "alice" } else { "bob" };
            json!({"principal": who, "uri": format!("storage://c/alice/x{i}"), "level": "read"})
        })
        .collect();
    let (status, body) = f
        .post("admin", "/v1/check/batch", json!({ "checks": checks }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let allowed = body["allowed"].as_array().unwrap();
    assert_eq!(allowed.len(), 1000);
    for (i, a) in allowed.iter().enumerate() {
        assert_eq!(a.as_bool().unwrap(), i % 2 == 0, "check {i}");
    }
    assert_eq!(body["revision"].as_u64().unwrap(), revision);
    f.stop().await.unwrap();
}

// rules S5, S6: a batch over the limit is 413, a bad item 400 naming its index; neither
// changes anything
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_limits_and_bad_items() {
    let f = start(Limits {
        max_batch: 10,
        ..Limits::default()
    })
    .await;
    let before = f.state().await;
    let checks: Vec<Value> = (0..11)
        .map(|_| json!({"principal": "alice", "uri": "storage:x", "level": "read"}))
        .collect();
    let (status, body) = f
        .post("admin", "/v1/check/batch", json!({ "checks": checks }))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(kind(&body), "too_large");
    let grants: Vec<Value> = (0..11)
        .map(|i| json!({"uri": format!("storage://c/alice/g{i}"), "principal": "bob", "level": "read"}))
        .collect();
    let (status, _) = f
        .post("admin", "/v1/grants", json!({ "grants": grants }))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = f
        .post(
            "admin",
            "/v1/check/batch",
            json!({"checks": [
                {"principal": "alice", "uri": "storage:x", "level": "read"},
                {"principal": "alice", "uri": "storage://c/a/../b", "level": "read"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("item 1: invalid uri"),
        "{body}"
    );
    // an atomic batch with one bad grant (unknown grantee) commits none of them (rule M3)
    let (status, body) = f
        .post(
            "admin",
            "/v1/grants",
            json!({"grants": [
                {"uri": "storage://c/alice/ok", "principal": "bob", "level": "read"},
                {"uri": "storage://c/alice/ok", "principal": "nobody", "level": "read"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(f.state().await, before);
    // and a good batch commits all of them at one revision
    let (status, body) = f
        .post(
            "admin",
            "/v1/grants",
            json!({"grants": [
                {"uri": "storage://c/alice/b1", "principal": "bob", "level": "read"},
                {"uri": "storage://c/alice/b2", "principal": "bob", "level": "write"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcomes"][0]["outcome"], "created");
    assert_eq!(
        body["revision"].as_u64().unwrap(),
        before["revision"].as_u64().unwrap() + 1
    );
    f.stop().await.unwrap();
}

// rules S4, M1, M2, E6: grant, explain, tree, list with cursors, shared, who, revoke
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_and_reads() {
    let f = start(Limits::default()).await;
    let (status, body) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "storage:data/x", "principal": "bob", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "created");
    let revision = body["revision"].as_u64().unwrap();
    let (_, body) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "storage:data/x", "principal": "bob", "level": "list"}),
        )
        .await;
    assert_eq!(body["outcome"], "kept");
    assert_eq!(body["previous"], "read");
    assert_eq!(
        body["revision"].as_u64().unwrap(),
        revision,
        "a kept grant changes nothing"
    );

    let (status, body) = f
        .post(
            "bob",
            &format!("/v1/explain?at_least={revision}"),
            json!({"principal": "bob", "uri": "storage://c/alice/data/x/y"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["level"], "read");
    assert_eq!(body["reason"]["kind"], "grant");
    assert!(body["revision"].as_u64().unwrap() >= revision);

    let (status, body) = f
        .post(
            "bob",
            "/v1/tree",
            json!({"principal": "bob", "uri": "storage://c/alice", "depth": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let nodes = body["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["uri"], "storage://c/alice");
    assert_eq!(nodes[0]["level"], "list", "implicit list (rule E2)");
    assert!(
        nodes
            .iter()
            .any(|n| n["uri"] == "storage://c/alice/data/x" && n["level"] == "read")
    );

    // list, page by page
    for i in 0..5 {
        let (status, _) = f
            .post(
                "alice",
                "/v1/grant",
                json!({"uri": format!("storage:p/{i}"), "principal": "bob", "level": "read"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/list?scheme=storage&limit=2&cursor={}", urlencode(c)),
            None => "/v1/list?scheme=storage&limit=2".to_owned(),
        };
        let (status, body) = f.get("bob", &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["uri"].as_str().unwrap().to_owned()));
        match body["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    for i in 0..5 {
        assert!(
            seen.contains(&format!("storage://c/alice/p/{i}")),
            "{seen:?}"
        );
    }
    assert!(seen.contains(&"storage://c/bob".to_owned()));

    let (status, body) = f.get("alice", "/v1/shared").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["grantee"] == "bob")
    );

    let (status, body) = f
        .get("alice", "/v1/who?uri=storage://c/alice/data/x&level=read")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let who: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(who.contains(&"bob") && who.contains(&"alice"), "{who:?}");
    // who needs manage on the URI (rule S3)
    let (status, body) = f.get("bob", "/v1/who?uri=storage://c/alice/data/x").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = f
        .post(
            "alice",
            "/v1/revoke",
            json!({"uri": "storage:data/x", "principal": "bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], "read");
    let (status, body) = f
        .post(
            "alice",
            "/v1/revoke",
            json!({"uri": "storage:data/x", "principal": "bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(kind(&body), "no_effect");
    f.stop().await.unwrap();
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// rules S3, S5: reads of another's permissions and mutations are authorized by the
// engine; a refusal is 403 and changes nothing
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_requests_change_nothing() {
    let f = start(Limits::default()).await;
    let before = f.state().await;
    let (status, body) = f
        .post(
            "bob",
            "/v1/check",
            json!({"principal": "alice", "uri": "storage:x", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(kind(&body), "forbidden");
    let (status, _) = f.get("bob", "/v1/list?principal=alice").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .post(
            "bob",
            "/v1/grant",
            json!({"uri": "storage://c/alice/x", "principal": "bob", "level": "manage"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = f.get("bob", "/v1/changes").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the audit trail needs read on user://"
    );
    assert_eq!(f.state().await, before);
    f.stop().await.unwrap();
}

// rule S5: bad JSON, unknown principal, bad URI, bad level, oversized body: each its
// status, each a JSON error, none changing anything
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_changes_nothing() {
    let f = start(Limits {
        max_body_bytes: 4096,
        ..Limits::default()
    })
    .await;
    let before = f.state().await;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("{not json".into(), StatusCode::BAD_REQUEST, "invalid_input"),
        (
            json!({"uri": "storage:x"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "storage:x", "principal": "bob", "level": "read", "extra": 1})
                .to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "storage:x", "principal": "nobody", "level": "read"}).to_string(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"uri": "storage://c/a?q", "principal": "bob", "level": "read"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "nosuch://c/a", "principal": "bob", "level": "read"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "storage:x", "principal": "bad name!", "level": "read"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "storage:x", "principal": "bob", "level": "sudo"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({"uri": "x".repeat(5000), "principal": "bob", "level": "read"}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (body, want, want_kind) in cases {
        let shown: String = body.chars().take(60).collect();
        let (status, answer) = f.post_raw("alice", "/v1/grant", body).await;
        assert_eq!(status, want, "{shown}: {answer}");
        assert_eq!(kind(&answer), want_kind, "{shown}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    // a bad query string and an unknown route are JSON errors too
    let (status, body) = f.get("alice", "/v1/list?limit=many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = f.get("alice", "/v1/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(kind(&body), "not_found");
    assert_eq!(f.state().await, before);
    f.stop().await.unwrap();
}

// rule S2: no header, malformed, wrong signature, expired, unknown or deactivated
// identity: 401 with a JSON error, never a 500; ping and health need no token
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failures_are_401() {
    let f = start(Limits::default()).await;
    let wrong = JwtKey::new(b"another secret, also long enough for HS256").unwrap();
    let expired = f.key.mint(&name("alice"), 1_000_000, Some(60)).unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("not bearer", Some("Basic YWxpY2U6cHc=".into())),
        ("malformed", Some("Bearer not-a-jwt".into())),
        (
            "wrong signature",
            Some(format!(
                "Bearer {}",
                wrong.mint(&name("alice"), 0, None).unwrap()
            )),
        ),
        ("expired", Some(format!("Bearer {expired}"))),
        (
            "unknown identity",
            Some(format!("Bearer {}", f.token("zed"))),
        ),
        (
            "deactivated identity",
            Some(format!("Bearer {}", f.token("carol"))),
        ),
    ];
    for (what, header) in cases {
        let mut request = f
            .client
            .post(format!("{}/v1/check", f.base))
            .body(json!({"principal": "alice", "uri": "storage:x", "level": "read"}).to_string());
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(kind(&body), "unauthenticated", "{what}: {body}");
    }
    // the Neu.ro identity claim is honoured (rule S2)
    let neuro = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"https://platform.neuromation.io/user": "alice"}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let response = f
        .client
        .get(format!("{}/v1/whoami", f.base))
        .bearer_auth(neuro)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["identity"], "alice");
    for path in ["/healthz", "/readyz", "/v1/ping", "/openapi.json"] {
        let response = f
            .client
            .get(format!("{}{path}", f.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = f
        .client
        .get(format!("{}/metrics", f.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "metrics need a token (rule S2)"
    );
    f.stop().await.unwrap();
}

// rules S4, M3: a read at `at_least` waits for the revision, and past the bound is 409
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_waits_bounded() {
    let f = start(Limits {
        max_wait: Duration::from_millis(1500),
        ..Limits::default()
    })
    .await;
    let (_, body) = f.get("alice", "/v1/whoami").await;
    let revision = body["revision"].as_u64().unwrap();
    // far ahead: times out
    let started = std::time::Instant::now();
    let (status, body) = f
        .get("alice", &format!("/v1/whoami?at_least={}", revision + 100))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not reached")
    );
    assert!(started.elapsed() >= Duration::from_millis(1400));
    // one ahead: answered as soon as a write reaches it
    let waiting = {
        let client = f.client.clone();
        let url = format!("{}/v1/list?principal=bob&at_least={}", f.base, revision + 1);
        let token = f.token("bob");
        tokio::spawn(async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "storage:w", "principal": "bob", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["revision"].as_u64().unwrap() > revision);
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["uri"] == "storage://c/alice/w")
    );
    f.stop().await.unwrap();
}

/// Reads `count` SSE events of type `change` from `response`, returning their ids.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<u64> {
    let mut text = String::new();
    let mut ids = Vec::new();
    while ids.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: change") {
                let id = event
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                ids.push(id);
            }
        }
    }
    ids
}

// rules S4, M3: changes as a long poll, and as a watch that delivers every commit in
// order, with no gap and no repeat after a reconnect from the last id
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_long_poll_and_watch() {
    let f = start(Limits::default()).await;
    let (status, body) = f.get("admin", "/v1/changes?after=0&limit=2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["revision"], 1);
    let head = body["revision"].as_u64().unwrap();
    // a long poll answers when a change commits
    let polling = {
        let client = f.client.clone();
        let url = format!("{}/v1/changes?after={head}&wait_ms=5000", f.base);
        let token = f.token("admin");
        tokio::spawn(async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            response.json::<Value>().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, grant) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "storage:lp", "principal": "bob", "level": "read"}),
        )
        .await;
    let body = polling.await.unwrap();
    assert_eq!(body["items"][0]["revision"], grant["revision"], "{body}");
    assert_eq!(body["items"][0]["action"], "grant");
    assert_eq!(body["items"][0]["actor"], "alice");

    // the watch: history first, then live commits
    let mut stream = f
        .client
        .get(format!("{}/v1/changes/watch?after={head}", f.base))
        .bearer_auth(f.token("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(read_events(&mut stream, 1).await, vec![head + 1]);
    for i in 0..3 {
        f.post(
            "alice",
            "/v1/grant",
            json!({"uri": format!("storage:w{i}"), "principal": "bob", "level": "read"}),
        )
        .await;
    }
    assert_eq!(
        read_events(&mut stream, 3).await,
        vec![head + 2, head + 3, head + 4]
    );
    drop(stream);
    // committed while disconnected, then a reconnect from the last id seen
    for i in 3..5 {
        f.post(
            "alice",
            "/v1/grant",
            json!({"uri": format!("storage:w{i}"), "principal": "bob", "level": "read"}),
        )
        .await;
    }
    let mut stream = f
        .client
        .get(format!("{}/v1/changes/watch", f.base))
        .bearer_auth(f.token("admin"))
        .header("last-event-id", (head + 4).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(read_events(&mut stream, 2).await, vec![head + 5, head + 6]);
    drop(stream);
    let (status, _) = f.get("bob", "/v1/changes/watch").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a watch is authorized before it starts"
    );
    f.stop().await.unwrap();
}

// rules P2, P4, E4: roles, memberships (a grant of read on role://R) and fences
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_memberships_and_fences() {
    let f = start(Limits::default()).await;
    let (status, body) = f
        .post("alice", "/v1/roles", json!({"name": "alice/roles/ops"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f
        .post("alice", "/v1/roles", json!({"name": "alice/roles/ops"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "role://alice/roles/ops", "principal": "bob", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    f.post(
        "alice",
        "/v1/grant",
        json!({"uri": "storage:ops", "principal": "alice/roles/ops", "level": "write"}),
    )
    .await;
    let (_, body) = f
        .post(
            "bob",
            "/v1/check",
            json!({"principal": "bob", "uri": "storage://c/alice/ops/x", "level": "write"}),
        )
        .await;
    assert_eq!(body["allowed"], true, "bob writes through the role");
    let (status, body) = f.get("bob", "/v1/memberships").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["name"], "alice/roles/ops");
    let (status, body) = f.get("alice", "/v1/roles?prefix=alice/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["name"], "alice/roles/ops");
    // a cycle is refused with 409 (rule P3)
    let (status, body) = f
        .post(
            "alice",
            "/v1/grant",
            json!({"uri": "role://alice", "principal": "alice/roles/ops", "level": "read"}),
        )
        .await;
    assert!(
        status == StatusCode::CONFLICT || status == StatusCode::FORBIDDEN,
        "{status} {body}"
    );
    let (status, body) = f
        .client
        .delete(format!("{}/v1/roles/alice/roles/ops", f.base))
        .bearer_auth(f.token("alice"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let body: Value = body.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["grants_held"], 1);
    let (_, body) = f
        .post(
            "bob",
            "/v1/check",
            json!({"principal": "bob", "uri": "storage://c/alice/ops/x", "level": "write"}),
        )
        .await;
    assert_eq!(body["allowed"], false, "nothing dangles (rule P4)");

    // fences: admins only
    let (status, body) = f.post("admin", "/v1/roles", json!({"name": "proj"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f
        .post(
            "alice",
            "/v1/fences",
            json!({"uri": "storage://c/alice", "group": "proj"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .post(
            "admin",
            "/v1/fences",
            json!({"uri": "storage://c/alice", "group": "proj"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f.get("admin", "/v1/fences").await;
    assert_eq!(body["items"][0]["group"], "proj");
    let (_, body) = f
        .post(
            "alice",
            "/v1/check",
            json!({"principal": "alice", "uri": "storage:x", "level": "read"}),
        )
        .await;
    assert_eq!(
        body["allowed"], false,
        "the fence denies outside the group (rule E4)"
    );
    let (status, _) = f
        .post(
            "admin",
            "/v1/fences/remove",
            json!({"uri": "storage://c/alice", "group": "proj"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .post(
            "admin",
            "/v1/fences/remove",
            json!({"uri": "storage://c/alice", "group": "proj"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    f.stop().await.unwrap();
}

// rules S7, S8: the OpenAPI document, metrics, request ids
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_and_request_ids() {
    let f = start(Limits::default()).await;
    let doc: Value = f
        .client
        .get(format!("{}/openapi.json", f.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/check",
        "/v1/check/batch",
        "/v1/grant",
        "/v1/changes/watch",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
    f.post(
        "alice",
        "/v1/check",
        json!({"principal": "alice", "uri": "storage:x", "level": "read"}),
    )
    .await;
    let response = f
        .client
        .get(format!("{}/metrics", f.base))
        .bearer_auth(f.token("admin"))
        .header("x-request-id", "test-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "test-id-1");
    let text = response.text().await.unwrap();
    for metric in [
        "acl_http_requests_total{",
        "acl_http_request_duration_seconds_bucket{",
        "acl_decisions_total{decision=\"allowed\"}",
        "acl_store_revision ",
    ] {
        assert!(text.contains(metric), "{metric} in\n{text}");
    }
    assert!(text.contains("route=\"/v1/check\""));
    // a generated id when the client sends none
    let response = f
        .client
        .get(format!("{}/healthz", f.base))
        .send()
        .await
        .unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
    f.stop().await.unwrap();
}

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    answer
}

// rule S6: past the connection cap a connection is answered 429 and closed; the
// connections within it are served
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cap_is_429() {
    let f = start(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let held: Vec<tokio::net::TcpStream> = vec![
        tokio::net::TcpStream::connect(f.addr).await.unwrap(),
        tokio::net::TcpStream::connect(f.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = raw_get(f.addr, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("over_limit"), "{answer}");
    drop(held);
    // Once the server has seen the held connections close, their slots are free again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = raw_get(f.addr, "/healthz").await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
        assert!(
            std::time::Instant::now() < deadline,
            "the slots never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f.stop().await.unwrap();
}

// rule S6: a client that sends no headers within the header timeout is disconnected
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    let f = start(Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost:")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closed the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains("200 OK"), "{answer}");
    f.stop().await.unwrap();
}

// rule S1: a shutdown ends long polls and lets in-flight requests finish, then returns
// the engine so the store closes cleanly
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight() {
    let f = start(Limits::default()).await;
    let (_, body) = f.get("admin", "/v1/whoami").await;
    let head = body["revision"].as_u64().unwrap();
    let polling = {
        let client = f.client.clone();
        let url = format!("{}/v1/changes?after={head}&wait_ms=8000", f.base);
        let token = f.token("admin");
        tokio::spawn(async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let addr = f.addr;
    let engine = f.stop().await;
    assert!(
        engine.is_some(),
        "the engine comes back: nothing outlived the grace"
    );
    let (status, body) = polling.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the long poll ended early"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections"
    );
}

// rules A1 to A4, S2: users through the platform's account workflows; a deactivated
// user's token is refused
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_list_show_deactivate() {
    let f = start(Limits::default()).await;
    let dave = json!({"username": "dave", "email": "dave@example.com", "password": "s3cret-pass!", "full_name": "Dave"});
    let (status, body) = f.post("alice", "/v1/users", dave.clone()).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "admins only (rule A4): {body}"
    );
    let (status, body) = f
        .post(
            "admin",
            "/v1/users",
            json!({"username": "erin", "email": "erin@example.com", "password": "Zq9Zq"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        !body["error"]["message"].as_str().unwrap().contains("Zq9Zq"),
        "no password echoed"
    );
    let (status, body) = f.post("admin", "/v1/users", dave.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["username"], "dave");
    assert!(body["user"].get("password").is_none());
    let (status, _) = f.post("admin", "/v1/users", dave).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = f.get("admin", "/v1/users?filter=DAVE").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (status, body) = f.get("dave", "/v1/users/dave@example.com").await;
    assert_eq!(status, StatusCode::OK, "a user sees itself: {body}");
    assert_eq!(body["user"]["full_name"], "Dave");
    let (status, _) = f.get("bob", "/v1/users/dave").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .post("admin", "/v1/users/dave/deactivate", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f.get("dave", "/v1/whoami").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a deactivated identity (rule S2)"
    );
    let (_, body) = f.get("admin", "/v1/users?inactive=true").await;
    assert_eq!(body["items"][0]["username"], "dave");
    let (status, _) = f.post("admin", "/v1/users/dave/activate", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f.get("dave", "/v1/whoami").await;
    assert_eq!(status, StatusCode::OK);
    f.stop().await.unwrap();
}

// rules F1 to F9: the Backend.AI folder-sharing scenario over HTTP
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_and_invitations() {
    let f = start(Limits::default()).await;
    for who in ["ann", "ben"] {
        let (status, body) = f
            .post("admin", "/v1/users", json!({"username": who, "email": format!("{who}@example.com"), "password": "Pass-word-1!"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = f.post("ann", "/v1/folders", json!({"name": "tests"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["value"]["id"].as_str().unwrap().to_owned();
    let uri = format!("vfolder://c/{id}");
    let (status, body) = f
        .post("ann", "/v1/folders", json!({"name": ".private"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = f
        .post(
            "ann",
            "/v1/folders/.private/invite",
            json!({"users": ["ben"], "permission": "ro"}),
        )
        .await;
    assert!(
        status.is_client_error(),
        "a private folder is never shared (rule F2): {body}"
    );
    let (status, body) = f
        .post(
            "ann",
            "/v1/folders/tests/invite",
            json!({"users": ["ben@example.com"], "permission": "ro"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f.get("ben", "/v1/invitations").await;
    let invitation = body["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = f
        .post(
            "ann",
            &format!("/v1/invitations/{invitation}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the invitee accepts (rule F5): {body}"
    );
    let (status, body) = f
        .post(
            "ben",
            &format!("/v1/invitations/{invitation}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f
        .post(
            "ben",
            "/v1/check",
            json!({"principal": "ben", "uri": uri, "level": "mount-rw"}),
        )
        .await;
    assert_eq!(body["allowed"], false, "read-only share (rule F3)");
    let (_, body) = f
        .post(
            "ben",
            "/v1/check",
            json!({"principal": "ben", "uri": uri, "level": "mount-ro"}),
        )
        .await;
    assert_eq!(body["allowed"], true);
    let (status, body) = f
        .post(
            "ann",
            "/v1/folders/tests/shares",
            json!({"user": "ben", "permission": "rw"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f
        .post(
            "ben",
            "/v1/check",
            json!({"principal": "ben", "uri": uri, "level": "mount-rw"}),
        )
        .await;
    assert_eq!(body["allowed"], true, "no stale grant (rule F7)");
    let (_, body) = f
        .post(
            "ben",
            "/v1/check",
            json!({"principal": "ben", "uri": uri, "level": "delete"}),
        )
        .await;
    assert_eq!(body["allowed"], false, "a sharee cannot delete (rule F3)");
    let (status, body) = f.get("ann", "/v1/folders/tests/shares").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, body) = f.get("ben", "/v1/folders").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (status, body) = f.post("ben", "/v1/folders/tests/leave", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f.get("ben", "/v1/folders").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    let (status, body) = f
        .post("ann", "/v1/folders/tests/rename", json!({"name": "tests2"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = f
        .client
        .delete(format!("{}/v1/folders/tests2", f.base))
        .bearer_auth(f.token("ann"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let body: Value = body.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f.get("ann", "/v1/folders/tests2/shares").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    f.stop().await.unwrap();
}

// rules A4, A5: groups and keypairs; a keypair's secret is in its creation's answer only
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_keypairs() {
    let f = start(Limits::default()).await;
    let (status, body) = f
        .post(
            "admin",
            "/v1/users",
            json!({"username": "gus", "email": "gus@example.com", "password": "Pass-word-1!"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f.post("alice", "/v1/groups", json!({"name": "team"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only (rule A4)");
    let (status, body) = f.post("admin", "/v1/groups", json!({"name": "team"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = f
        .post("admin", "/v1/groups/team/members", json!({"user": "gus"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f.get("admin", "/v1/groups/team/members").await;
    assert_eq!(body["items"], json!(["gus"]));
    let (_, body) = f.get("gus", "/v1/groups").await;
    assert_eq!(body["items"], json!(["team"]), "a member sees its group");
    let (status, _) = f
        .post(
            "admin",
            "/v1/groups/team/members/remove",
            json!({"user": "gus"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = f.get("admin", "/v1/groups/team/members").await;
    assert_eq!(body["items"], json!([]));

    let (status, body) = f
        .post("admin", "/v1/keypairs", json!({"user": "gus"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = body["keypair"]["access_key"].as_str().unwrap().to_owned();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(!secret.is_empty());
    let (status, body) = f.get("gus", "/v1/keypairs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["access_key"], key.as_str());
    assert!(
        !body.to_string().contains(&secret),
        "the secret is shown once"
    );
    let (status, _) = f
        .post(
            "admin",
            &format!("/v1/keypairs/{key}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = f.get("gus", "/v1/keypairs").await;
    assert_eq!(body["items"][0]["active"], false);
    let (status, _) = f.get("bob", "/v1/keypairs?user=gus").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    f.stop().await.unwrap();
}

// rules V1, V2: VMs shared within their team only, users and managers listed apart
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vms_shared_within_the_team() {
    let f = start(Limits::default()).await;
    for who in ["vic", "val", "out"] {
        let (status, body) = f
            .post("admin", "/v1/users", json!({"username": who, "email": format!("{who}@example.com"), "password": "Pass-word-1!"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    f.post("admin", "/v1/groups", json!({"name": "lab"})).await;
    for who in ["vic", "val"] {
        let (status, _) = f
            .post("admin", "/v1/groups/lab/members", json!({"user": who}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = f
        .post("vic", "/v1/vms", json!({"name": "gpu1", "team": "lab"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = format!("vm://c/{}", body["value"]["id"].as_str().unwrap());
    let (status, body) = f
        .post(
            "vic",
            "/v1/vms/gpu1/share",
            json!({"user": "out", "mode": "use"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "outside the team (rule V2): {body}"
    );
    let (status, body) = f
        .post(
            "vic",
            "/v1/vms/gpu1/share",
            json!({"user": "val", "mode": "use"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f
        .post(
            "val",
            "/v1/check",
            json!({"principal": "val", "uri": uri, "level": "launch"}),
        )
        .await;
    assert_eq!(body["allowed"], true);
    let (_, body) = f
        .post(
            "val",
            "/v1/check",
            json!({"principal": "val", "uri": uri, "level": "access-drives"}),
        )
        .await;
    assert_eq!(
        body["allowed"], false,
        "use gives no drive access (rule V1)"
    );
    let (status, body) = f.get("vic", "/v1/vms/gpu1/members").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["users"].as_array().unwrap().iter().any(|u| u == "val"),
        "{body}"
    );
    assert!(
        body["managers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "vic"),
        "{body}"
    );
    f.stop().await.unwrap();
}

// rule A7: CSV exports for the admins, never holding a password hash
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_exports() {
    let f = start(Limits::default()).await;
    f.post(
        "admin",
        "/v1/users",
        json!({"username": "hal", "email": "hal@example.com", "password": "Pass-word-1!"}),
    )
    .await;
    let response = f
        .client
        .get(format!("{}/v1/exports/users", f.base))
        .bearer_auth(f.token("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(response.headers().get("x-acl-revision").is_some());
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("username,email,"), "{csv}");
    assert!(csv.contains("hal@example.com"));
    assert!(!csv.contains("argon2"), "no password hash in an export");
    for what in ["keypairs", "policies", "sessions"] {
        let (status, _) = f.get("admin", &format!("/v1/exports/{what}")).await;
        assert_eq!(status, StatusCode::OK, "{what}");
    }
    let (status, _) = f.get("alice", "/v1/exports/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f.get("admin", "/v1/exports/secrets").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    f.stop().await.unwrap();
}

// rule S6: a request over the request timeout is 408, a JSON error
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_is_408() {
    let f = start(Limits {
        request_timeout: Duration::from_millis(1),
        ..Limits::default()
    })
    .await;
    // A batch of checks on the follower index answers within the millisecond now, so the
    // request that outlives the timeout waits for a revision nobody writes (the wait's own
    // bound is 10 s).
    let (status, body) = f
        .post(
            "admin",
            "/v1/check?at_least=999999",
            json!({"principal": "alice", "uri": "storage://c/alice/t", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(kind(&body), "timeout");
    f.stop().await.unwrap();
}

impl Fixture {
    async fn send(
        &self,
        method: reqwest::Method,
        who: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token(who));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn revision(&self) -> u64 {
        let (_, body) = self.get("admin", "/v1/whoami").await;
        body["revision"].as_u64().unwrap()
    }
}

// rule A6 over HTTP: resource policies created, listed, shown, updated, assigned and
// deleted through the platform's workflows; each refusal has its status and changes nothing
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_policies() {
    use reqwest::Method;
    let f = start(Limits::default()).await;
    let gold = json!({"name": "gold", "limits": {"cpu": 4, "concurrent_sessions": 1}});
    // 403 without rights, nothing written
    let before = f.state().await;
    let (status, body) = f.post("alice", "/v1/policies", gold.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(kind(&body), "forbidden");
    // 400 on bad input, nothing written
    for bad in [
        json!({"name": ".gold"}),
        json!({"name": "gold", "limits": {"bogus": 1}}),
        json!({"name": "gold", "limits": {"cpu": 100_000}}),
        json!({"name": "gold", "limits": {"cpu": "four"}}),
        json!({"name": "gold", "extra": true}),
        json!({"name": "gold", "hosts": [""]}),
    ] {
        let (status, body) = f.post("admin", "/v1/policies", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(kind(&body), "invalid_input");
    }
    assert_eq!(f.state().await, before, "failed requests changed nothing");
    // created
    let (status, body) = f.post("admin", "/v1/policies", gold.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policy"]["name"], "gold");
    assert_eq!(body["policy"]["limits"]["cpu"], 4);
    assert_eq!(body["policy"]["limits"]["ram_gb"], Value::Null);
    assert_eq!(body["policy"]["hosts"], Value::Null);
    let created = body["revision"].as_u64().unwrap();
    assert_eq!(created, before["revision"].as_u64().unwrap() + 1);
    let (status, body) = f.post("admin", "/v1/policies", gold).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // listed and shown, at_least honoured
    let (status, body) = f
        .get("admin", &format!("/v1/policies?at_least={created}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "gold"]);
    assert!(body["revision"].as_u64().unwrap() >= created);
    assert_eq!(body["next"], Value::Null);
    // cursor-paginated (rule S4)
    let (status, body) = f.get("admin", "/v1/policies?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["name"], "default");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["next"], "default");
    let (status, body) = f.get("admin", "/v1/policies?limit=1&cursor=default").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["name"], "gold");
    assert_eq!(body["next"], Value::Null);
    let (status, body) = f.get("admin", "/v1/policies/gold").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policy"]["limits"]["concurrent_sessions"], 1);
    let (status, body) = f.get("admin", "/v1/policies/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = f.get("admin", "/v1/policies/.bad").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // updated: replaced whole; unchanged is 422; unknown 404; no rights 403
    let update = json!({"limits": {"cpu": 8, "concurrent_sessions": 1}, "hosts": ["h1"]});
    let before = f.revision().await;
    let (status, body) = f
        .send(
            Method::PUT,
            "bob",
            "/v1/policies/gold",
            Some(update.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = f
        .send(
            Method::PUT,
            "admin",
            "/v1/policies/nope",
            Some(update.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = f
        .send(
            Method::PUT,
            "admin",
            "/v1/policies/gold",
            Some(json!({"limits": {"gpu": 65}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(f.revision().await, before);
    let (status, body) = f
        .send(
            Method::PUT,
            "admin",
            "/v1/policies/gold",
            Some(update.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policy"]["limits"]["cpu"], 8);
    assert_eq!(body["policy"]["hosts"], json!(["h1"]));
    assert_eq!(body["revision"].as_u64().unwrap(), before + 1);
    let (status, body) = f
        .send(Method::PUT, "admin", "/v1/policies/gold", Some(update))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // assigned to a user (an account)
    let dave = json!({"username": "dave", "email": "dave@example.com", "password": "s3cret-pass!"});
    let (status, body) = f.post("admin", "/v1/users", dave).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = f.revision().await;
    let (status, body) = f
        .post("bob", "/v1/users/dave/policy", json!({"policy": "gold"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = f
        .post(
            "admin",
            "/v1/users/nobody/policy",
            json!({"policy": "gold"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = f
        .post("admin", "/v1/users/dave/policy", json!({"policy": "nope"}))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_ne!(status, StatusCode::OK);
    let (status, _) = f
        .post("admin", "/v1/users/dave/policy", json!({"policy": 7}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        f.revision().await,
        before,
        "failed assignments changed nothing"
    );
    let (status, body) = f
        .post("admin", "/v1/users/dave/policy", json!({"policy": "gold"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = f.get("admin", "/v1/users/dave").await;
    assert_eq!(body["user"]["policy"], "gold");
    // deleted: refused while used (409), `default` never (400), unknown 404, no rights 403
    let before = f.revision().await;
    let (status, body) = f
        .send(Method::DELETE, "admin", "/v1/policies/gold", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("dave"),
        "{body}"
    );
    let (status, _) = f
        .send(Method::DELETE, "admin", "/v1/policies/default", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .send(Method::DELETE, "admin", "/v1/policies/nope", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .send(Method::DELETE, "alice", "/v1/policies/gold", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(f.revision().await, before);
    let (status, _) = f
        .post(
            "admin",
            "/v1/users/dave/policy",
            json!({"policy": "default"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = f
        .send(Method::DELETE, "admin", "/v1/policies/gold", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = f.get("admin", "/v1/policies/gold").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    f.stop().await.unwrap();
}

// rule A6 over HTTP: sessions admitted against the user's policy, stopped by their user
// or an admin, listed; each refusal has its status and changes nothing
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_start_stop_list() {
    let f = start(Limits::default()).await;
    let (status, body) = f
        .post(
            "admin",
            "/v1/policies",
            json!({"name": "small", "limits": {"cpu": 4, "concurrent_sessions": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dave = json!({"username": "dave", "email": "dave@example.com", "password": "s3cret-pass!", "policy": "small"});
    let (status, body) = f.post("admin", "/v1/users", dave).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = f.state().await;
    for bad in [
        json!({"cpu": 1, "containers": 0}),
        json!({"cpu": 1}),
        json!({"cpu": -1, "containers": 1}),
        json!({"cpu": 1, "containers": 1, "gpus": 1}),
        json!({"cpu": 100_000, "containers": 1}),
    ] {
        let (status, body) = f.post("dave", "/v1/sessions", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    // over the policy: refused naming the resource (403), nothing written
    let (status, body) = f
        .post("dave", "/v1/sessions", json!({"cpu": 5, "containers": 1}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("cpu"),
        "{body}"
    );
    // another user's session without rights: 403; an unknown user: 400 (not an active user)
    let (status, _) = f
        .post(
            "bob",
            "/v1/sessions",
            json!({"user": "dave", "cpu": 1, "containers": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .post(
            "admin",
            "/v1/sessions",
            json!({"user": "nobody", "cpu": 1, "containers": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not an active user");
    assert_eq!(f.state().await, before, "failed requests changed nothing");
    // started
    let (status, body) = f
        .post("dave", "/v1/sessions", json!({"cpu": 2, "containers": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session"]["user"], "dave");
    assert_eq!(body["session"]["cpu"], 2);
    assert_eq!(body["session"]["running"], true);
    let id = body["session"]["id"].as_str().unwrap().to_owned();
    let started = body["revision"].as_u64().unwrap();
    assert_eq!(started, before["revision"].as_u64().unwrap() + 1);
    // the policy's concurrent-session limit now refuses a second
    let (status, body) = f
        .post("dave", "/v1/sessions", json!({"cpu": 1, "containers": 1}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(f.revision().await, started);
    // listed: by its user, by an admin; not by another user
    let (status, body) = f
        .get("dave", &format!("/v1/sessions?at_least={started}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["id"], id.as_str());
    let (status, body) = f.get("admin", "/v1/sessions?user=dave").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (status, _) = f.get("bob", "/v1/sessions?user=dave").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // stopped: not by another user (403), unknown 404, bad id 400, then twice (422)
    let (status, _) = f
        .post("bob", &format!("/v1/sessions/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f.post("dave", "/v1/sessions/s999/stop", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f.post("dave", "/v1/sessions/.x/stop", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(f.revision().await, started);
    let (status, body) = f
        .post("dave", &format!("/v1/sessions/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session"]["running"], false);
    assert!(body["session"]["stopped"].is_i64());
    let stopped = body["revision"].as_u64().unwrap();
    assert_eq!(stopped, started + 1);
    let (status, body) = f
        .post("dave", &format!("/v1/sessions/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(f.revision().await, stopped);
    // the slot is free again; an admin starts one for dave
    let (status, body) = f
        .post(
            "admin",
            "/v1/sessions",
            json!({"user": "dave", "cpu": 4, "containers": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["session"]["user"], "dave");
    let second = body["session"]["id"].as_str().unwrap().to_owned();
    // cursor-paginated (rule S4): one page of one each, in id order, then none
    let mut ids = [id.clone(), second];
    ids.sort();
    let (status, body) = f.get("dave", "/v1/sessions?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["id"], ids[0].as_str());
    assert_eq!(body["next"], ids[0].as_str());
    let (status, body) = f
        .get("dave", &format!("/v1/sessions?limit=1&cursor={}", ids[0]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["id"], ids[1].as_str());
    assert_eq!(body["next"], Value::Null);
    let (status, _) = f.get("dave", "/v1/sessions?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    f.stop().await.unwrap();
}

// rules M1 to M4 over HTTP: a batch of grants, forbids, revokes and roles is one revision,
// all or nothing; the first refused operation names its index and writes nothing
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_write_batches() {
    let f = start(Limits {
        max_batch: 4,
        ..Limits::default()
    })
    .await;
    let before = f.revision().await;
    let (status, body) = f
        .post(
            "alice",
            "/v1/batch",
            json!({"operations": [
                {"op": "grant", "uri": "storage://c/alice/a", "principal": "bob", "level": "read"},
                {"op": "grant", "uri": "storage://c/alice/b", "principal": "bob", "level": "write"},
                {"op": "forbid", "uri": "storage://c/alice/b/secret", "principal": "bob"},
                {"op": "revoke", "uri": "storage://c/alice/a", "principal": "bob"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["revision"].as_u64().unwrap(),
        before + 1,
        "one revision"
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["op"], "grant");
    assert_eq!(results[0]["outcome"], "created");
    assert_eq!(results[2]["op"], "forbid");
    assert_eq!(results[3]["op"], "revoke");
    assert_eq!(results[3]["previous"], "read");
    let check = |uri: &'static str, level: &'static str| json!({"principal": "bob", "uri": uri, "level": level});
    for (uri, level, allowed) in [
        ("storage://c/alice/a", "read", false),
        ("storage://c/alice/b", "write", true),
        ("storage://c/alice/b/secret", "read", false),
    ] {
        let (status, body) = f.post("bob", "/v1/check", check(uri, level)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["allowed"], allowed, "{uri} {level}");
    }
    let (_, body) = f.get("admin", &format!("/v1/changes?after={before}")).await;
    let actions: Vec<&str> = body["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|c| c["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["batch"], "{body}");
    // refused operations: their status, their index, nothing written
    let state = f.state().await;
    let cases = [
        (
            json!([
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "bob", "level": "read"},
                {"op": "grant", "uri": "storage://c/bob/x", "principal": "alice", "level": "read"},
            ]),
            StatusCode::FORBIDDEN,
            "item 1: ",
        ),
        (
            json!([
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "bob", "level": "read"},
                {"op": "revoke", "uri": "storage://c/alice/none", "principal": "bob"},
            ]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "item 1: ",
        ),
        (
            json!([
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "bob", "level": "read"},
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "nobody", "level": "read"},
            ]),
            StatusCode::NOT_FOUND,
            "item 1: ",
        ),
        (
            json!([
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "bob", "level": "bogus"},
            ]),
            StatusCode::BAD_REQUEST,
            "item 0: ",
        ),
        (
            json!([
                {"op": "grant", "uri": "storage://c/alice/c", "principal": "bob", "level": "read"},
                {"op": "forbid", "uri": "storage://c/alice/c", "principal": "bob"},
            ]),
            StatusCode::CONFLICT,
            "item 1: ",
        ),
        (
            json!([{"op": "explode", "uri": "storage://c/alice/c"}]),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (json!([]), StatusCode::BAD_REQUEST, ""),
        (
            json!([
                {"op": "add_role", "name": "r1"}, {"op": "add_role", "name": "r2"},
                {"op": "add_role", "name": "r3"}, {"op": "add_role", "name": "r4"},
                {"op": "add_role", "name": "r5"},
            ]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
    ];
    for (ops, want, prefix) in cases {
        let (status, body) = f
            .post("alice", "/v1/batch", json!({ "operations": ops }))
            .await;
        assert_eq!(status, want, "{ops}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(prefix),
            "{body}"
        );
    }
    assert_eq!(f.state().await, state, "refused batches changed nothing");
    // an admin's batch adds a role and grants on it in the same revision
    let (status, body) = f
        .post(
            "admin",
            "/v1/batch",
            json!({"operations": [
                {"op": "add_role", "name": "team"},
                {"op": "grant", "uri": "role://team", "principal": "bob", "level": "read"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["revision"].as_u64().unwrap(),
        state["revision"].as_u64().unwrap() + 1
    );
    f.stop().await.unwrap();
}

/// The engine of another process on the fixture's SQLite file: a second store handle.
fn other_process(f: &Fixture) -> Engine {
    Platform::new(
        SqliteStore::open(f._dir.path().join("acl.db"))
            .unwrap()
            .into(),
        Schema::standard(),
    )
}

async fn bob_reads_x(f: &Fixture, at_least: Option<u64>) -> (bool, u64) {
    let path = match at_least {
        Some(r) => format!("/v1/check?at_least={r}"),
        None => "/v1/check".to_owned(),
    };
    let (status, body) = f
        .post(
            "bob",
            &path,
            json!({"principal": "bob", "uri": "storage://c/alice/x", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["allowed"].as_bool().unwrap(),
        body["revision"].as_u64().unwrap(),
    )
}

// rule D3: decisions come from the follower index, which the server catches up after each
// write it commits, so a client reads its own writes through one server without a token
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_reads_your_writes_d3() {
    let f = start(Limits::default()).await;
    assert!(!bob_reads_x(&f, None).await.0);
    for (verb, allowed) in [("grant", true), ("revoke", false), ("grant", true)] {
        let body = match verb {
            "grant" => json!({"uri": "storage:x", "principal": "bob", "level": "read"}),
            _ => json!({"uri": "storage:x", "principal": "bob"}),
        };
        let (status, body) = f.post("alice", &format!("/v1/{verb}"), body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let revision = body["revision"].as_u64().unwrap();
        let (seen, at) = bob_reads_x(&f, None).await;
        assert_eq!(seen, allowed, "after {verb} at revision {revision}");
        assert_eq!(at, revision, "the decision is at the write's revision");
    }
    // The explanation comes from the same replica.
    let (status, body) = f
        .post(
            "bob",
            "/v1/explain",
            json!({"principal": "bob", "uri": "storage://c/alice/x/y"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["level"], "read");
    f.stop().await.unwrap();
}

// rule D3: a commit of another process on the same file reaches the server's decisions
// within 1 s without a token, and at once with its revision as `at_least`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_commits_reach_the_follower_d3() {
    let f = start(Limits::default()).await;
    let other = other_process(&f);
    let alice = Caller::new(name("alice"), now());
    let x = other.uri_for("storage:x", &name("alice")).unwrap();

    // With the token: the read waits for the follower to apply it.
    let granted = other
        .grant(&alice, &x, &name("bob"), acl_core::Level::Read)
        .unwrap()
        .revision;
    let (allowed, at) = bob_reads_x(&f, Some(granted.0)).await;
    assert!(allowed);
    assert!(at >= granted.0);

    // Without one: within a second.
    let revoked = other.revoke(&alice, &x, &name("bob")).unwrap().revision;
    let started = std::time::Instant::now();
    loop {
        let (allowed, at) = bob_reads_x(&f, None).await;
        if !allowed {
            assert!(at >= revoked.0);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a foreign revocation was still not applied after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A foreign deactivation ends the identity's access to decisions too (rule S2 on the
    // replica).
    let admin = Caller::new(name("admin"), now());
    let off = other
        .set_active(&admin, &name("bob"), false)
        .unwrap()
        .revision;
    let (status, body) = f
        .post(
            "bob",
            &format!("/v1/check?at_least={}", off.0),
            json!({"principal": "bob", "uri": "storage://c/alice/x", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    f.stop().await.unwrap();
}

// rule D3: `at_least` past what any process wrote waits, bounded, then is 409
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_on_the_follower_is_bounded_d3() {
    let f = start(Limits {
        max_wait: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let (_, at) = bob_reads_x(&f, None).await;
    let (status, body) = f
        .post(
            "bob",
            &format!("/v1/check?at_least={}", at + 1),
            json!({"principal": "bob", "uri": "storage://c/alice/x", "level": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // A commit of another process within the bound is waited for.
    let other = other_process(&f);
    let waiting = tokio::spawn({
        let client = f.client.clone();
        let url = format!("{}/v1/check?at_least={}", f.base, at + 1);
        let token = f.token("bob");
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"principal": "bob", "uri": "storage://c/alice/x", "level": "read"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let alice = Caller::new(name("alice"), now());
    let x = other.uri_for("storage:x", &name("alice")).unwrap();
    other
        .grant(&alice, &x, &name("bob"), acl_core::Level::Read)
        .unwrap();
    assert_eq!(waiting.await.unwrap(), StatusCode::OK);
    let metrics = f
        .client
        .get(format!("{}/metrics", f.base))
        .bearer_auth(f.token("admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("acl_follower_revision "))
        .unwrap_or_else(|| panic!("no follower revision in {metrics}"));
    assert_eq!(line, format!("acl_follower_revision {}", at + 1));
    assert!(metrics.contains("acl_follower_failures 0"), "{metrics}");
    f.stop().await.unwrap();
}
