//! End-to-end tests of the Neu.ro-compatible auth API (DESIGN rule N1): the real server on
//! an ephemeral port, spoken to over HTTP as `neuro-auth-client` and the SDK speak it
//! (`/` of a name as `:` in paths, absolute URIs, `{"error": TEXT}`), so a failure points
//! at our code rather than at the Python client (acl-cli's tests/neuro_client.rs runs that one against `acl serve`).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use acl_server::Limits;
use common::Running;

struct Neuro {
    running: Option<Running>,
    client: Client,
    dir: TempDir,
}

/// The answer of one request: status, the JSON body (or `Null`) and the raw text.
struct Answer {
    status: StatusCode,
    json: Value,
    text: String,
}

impl Answer {
    /// The `{"error": TEXT}` text.
    fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("<no error text>")
    }
}

impl Neuro {
    async fn start() -> Neuro {
        Neuro::start_with(Limits::default()).await
    }

    async fn start_with(limits: Limits) -> Neuro {
        let dir = tempfile::tempdir().unwrap();
        let engine = common::seed(&dir.path().join("acl.db"));
        Neuro {
            running: Some(Running::start(engine, limits).await),
            client: Client::new(),
            dir,
        }
    }

    /// Stops the server and starts a new one on the same SQLite file.
    async fn restart(&mut self) {
        drop(self.running.take().unwrap().stop().await);
        let engine = common::open(&self.dir.path().join("acl.db"));
        self.running = Some(Running::start(engine, Limits::default()).await);
    }

    fn server(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    fn token(&self, who: &str) -> String {
        self.server().token(who)
    }

    async fn raw(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.server().base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        Answer {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn call(&self, method: Method, who: &str, path: &str, body: Option<Value>) -> Answer {
        let token = self.token(who);
        self.raw(method, Some(&token), path, body).await
    }

    async fn get(&self, who: &str, path: &str) -> Answer {
        self.call(Method::GET, who, path, None).await
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> Answer {
        self.call(Method::POST, who, path, Some(body)).await
    }

    async fn delete(&self, who: &str, path: &str) -> Answer {
        self.call(Method::DELETE, who, path, None).await
    }

    async fn grant(&self, who: &str, target: &str, uri: &str, action: &str) -> Answer {
        self.post(
            who,
            &format!("/api/v1/users/{target}/permissions"),
            json!([{"uri": uri, "action": action}]),
        )
        .await
    }

    /// `target`'s listing (`expand_roles` as given) as (uri, action) pairs.
    async fn listing(&self, who: &str, target: &str, query: &str) -> Vec<(String, String)> {
        let answer = self
            .get(who, &format!("/api/v1/users/{target}/permissions{query}"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["uri"].as_str().unwrap().to_owned(),
                    p["action"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

fn has(listing: &[(String, String)], uri: &str, action: &str) -> bool {
    listing.iter().any(|(u, a)| u == uri && a == action)
}

/// Rule N1, S2: ping needs no token; every other endpoint answers 401 in the Neu.ro error
/// form without a valid one; both identity claims the clients use are accepted.
#[tokio::test]
async fn ping_secured_ping_and_401s() {
    let n = Neuro::start().await;
    let ping = n.raw(Method::GET, None, "/api/v1/ping", None).await;
    assert_eq!((ping.status, ping.text.as_str()), (StatusCode::OK, "Pong"));
    let secured = n.get("alice", "/api/v1/secured-ping").await;
    assert_eq!(
        (secured.status, secured.text.as_str()),
        (StatusCode::OK, "Secured Pong")
    );
    for token in [None, Some("not.a.token")] {
        for (method, path) in [
            (Method::GET, "/api/v1/secured-ping"),
            (Method::GET, "/api/v1/users/alice"),
            (Method::POST, "/api/v1/users"),
            (Method::GET, "/api/v1/users/alice/permissions"),
            (Method::POST, "/api/v1/users/alice/permissions/check"),
            (
                Method::GET,
                "/api/v1/users/alice/permissions/tree?uri=storage:",
            ),
            (Method::GET, "/api/v1/users/alice/permissions/shared"),
            (Method::GET, "/api/v1/users/alice/subroles"),
            (Method::POST, "/api/v1/users/alice/token"),
            (
                Method::DELETE,
                "/api/v1/users/alice/permissions?uri=storage:",
            ),
        ] {
            let answer = n.raw(method.clone(), token, path, Some(json!([]))).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert!(
                answer.json["error"].is_string(),
                "{method} {path}: {}",
                answer.text
            );
        }
    }
    // rule S2: the Neu.ro claims, signed as the Neu.ro test factories sign them.
    let sign = |claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(common::SECRET),
        )
        .unwrap()
    };
    for claims in [
        json!({"identity": "bob"}),
        json!({"https://platform.neuromation.io/user": "bob"}),
    ] {
        let token = sign(claims);
        let answer = n
            .raw(Method::GET, Some(&token), "/api/v1/secured-ping", None)
            .await;
        assert_eq!(answer.text, "Secured Pong");
    }
    // Unknown and deactivated identities are not principals to act as.
    for who in ["nobody", "carol"] {
        let token = sign(json!({"identity": who}));
        let answer = n
            .raw(Method::GET, Some(&token), "/api/v1/secured-ping", None)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{who}");
    }
    let unknown = n.get("alice", "/api/v1/nowhere").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.json["error"].is_string());
}

/// Rule N1, P2, P4, P5, A3: users and roles; `:` in paths is `/` in names; unknown names
/// are 404 `user "NAME" was not found`; deleting a user deactivates it.
#[tokio::test]
async fn users_and_roles() {
    let n = Neuro::start().await;
    let created = n
        .post(
            "admin",
            "/api/v1/users",
            json!({"name": "dave", "email": "d@x.io"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json, json!({"name": "dave"}));
    let again = n
        .post("admin", "/api/v1/users", json!({"name": "dave"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error(), "user \"dave\" already exists");
    // A normal user creates no users (rule A4) but roles under its own name (rule P5).
    let refused = n
        .post("alice", "/api/v1/users", json!({"name": "eve"}))
        .await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::FORBIDDEN, "Forbidden")
    );
    let role = n
        .post(
            "alice",
            "/api/v1/users",
            json!({"name": "alice/roles/readers"}),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED);
    assert_eq!(role.json, json!({"name": "alice/roles/readers"}));
    let other = n
        .post("alice", "/api/v1/users", json!({"name": "bob/roles/x"}))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    // GET: itself, a role it manages, through `:`; the alias `c/users/alice` is alice.
    for (who, path, want) in [
        ("alice", "/api/v1/users/alice", "alice"),
        (
            "alice",
            "/api/v1/users/alice:roles:readers",
            "alice/roles/readers",
        ),
        ("admin", "/api/v1/users/c:users:alice", "alice"),
        ("admin", "/api/v1/users/bob", "bob"),
    ] {
        let answer = n.get(who, path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
        assert_eq!(answer.json, json!({"name": want}));
    }
    let nobody = n.get("admin", "/api/v1/users/me:roles:test").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.error(), "user \"me/roles/test\" was not found");
    // rule S3: another principal needs read on user://P.
    let peek = n.get("bob", "/api/v1/users/alice").await;
    assert_eq!(
        (peek.status, peek.error()),
        (StatusCode::FORBIDDEN, "Forbidden")
    );
    let bad = n.get("admin", "/api/v1/users/a::b").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Subroles: the roles named below the principal.
    n.post(
        "alice",
        "/api/v1/users",
        json!({"name": "alice/roles/writers"}),
    )
    .await;
    let subroles = n.get("alice", "/api/v1/users/alice/subroles").await;
    assert_eq!(
        subroles.json,
        json!({"subroles": ["alice/roles/readers", "alice/roles/writers"]})
    );
    let none = n.get("bob", "/api/v1/users/bob/subroles").await;
    assert_eq!(none.json, json!({"subroles": []}));
    // DELETE: a role is removed (rule P4), then it is not found.
    let removed = n.delete("alice", "/api/v1/users/alice:roles:writers").await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = n.get("alice", "/api/v1/users/alice:roles:writers").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let twice = n.delete("alice", "/api/v1/users/alice:roles:writers").await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    assert_eq!(twice.error(), "user \"alice/roles/writers\" was not found");
    // A user is deactivated (rule A3): gone for this API, its token refused.
    assert_eq!(
        n.delete("bob", "/api/v1/users/dave").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        n.delete("admin", "/api/v1/users/dave").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        n.get("admin", "/api/v1/users/dave").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        n.delete("admin", "/api/v1/users/dave").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        n.get("dave", "/api/v1/secured-ping").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Rule N1, M1: grant is exactly 201 and answers the effective permissions as sent
/// (a lower grant keeps the higher one); manage is needed on each URI; a normal user's
/// grant to itself is refused; a refused grant changes nothing.
#[tokio::test]
async fn grants() {
    let n = Neuro::start().await;
    let first = n
        .grant("alice", "bob", "storage://c/alice/data/", "manage")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(
        first.json,
        json!([{"uri": "storage://c/alice/data/", "action": "manage"}])
    );
    let lower = n
        .grant("alice", "bob", "storage://c/alice/data", "read")
        .await;
    assert_eq!(lower.status, StatusCode::CREATED);
    assert_eq!(
        lower.json,
        json!([{"uri": "storage://c/alice/data", "action": "manage"}])
    );
    // Inherited from an ancestor: the answer shows the higher effective level.
    let below = n
        .grant("alice", "bob", "storage://c/alice/data/x", "read")
        .await;
    assert_eq!(below.json[0]["action"], "manage");
    // Several in one request, one transaction.
    let two = n
        .post(
            "alice",
            "/api/v1/users/bob/permissions",
            json!([
                {"uri": "job://c/alice/j1", "action": "read"},
                {"uri": "image://c/alice/img", "action": "write"}
            ]),
        )
        .await;
    assert_eq!(two.status, StatusCode::CREATED);
    assert_eq!(
        two.json,
        json!([
            {"uri": "job://c/alice/j1", "action": "read"},
            {"uri": "image://c/alice/img", "action": "write"}
        ])
    );
    let before = n.listing("admin", "bob", "?expand_roles=false").await;
    for (who, target, body, status, text) in [
        // bob manages neither URI; the first would be allowed to alice, not the second.
        (
            "alice",
            "bob",
            json!([{"uri": "job://c/alice/j2", "action": "read"}, {"uri": "job://c/bob/j", "action": "read"}]),
            StatusCode::FORBIDDEN,
            "Forbidden",
        ),
        (
            "alice",
            "alice",
            json!([{"uri": "job://c/alice/j2", "action": "read"}]),
            StatusCode::FORBIDDEN,
            "Adding self user is forbidden",
        ),
        (
            "alice",
            "bob",
            json!([]),
            StatusCode::BAD_REQUEST,
            "permissions: list length is less than 1",
        ),
        (
            "alice",
            "bob",
            json!([{"uri": "unknown://c/x", "action": "read"}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown resource type: unknown",
        ),
        (
            "alice",
            "bob",
            json!([{"uri": "job:job-id", "action": "read"}]),
            StatusCode::BAD_REQUEST,
            "Malformed URI 'job:job-id': authority is missing, but path part exists",
        ),
        (
            "admin",
            "nobody",
            json!([{"uri": "job://c/x", "action": "read"}]),
            StatusCode::NOT_FOUND,
            "user \"nobody\" was not found",
        ),
        (
            "alice",
            "bob",
            json!([{"uri": "job://c/alice/j2", "action": "own"}]),
            StatusCode::BAD_REQUEST,
            "invalid level `own`: expected deny, list, read, write or manage",
        ),
    ] {
        let answer = n
            .post(
                who,
                &format!("/api/v1/users/{target}/permissions"),
                body.clone(),
            )
            .await;
        assert_eq!((answer.status, answer.error()), (status, text), "{body}");
    }
    assert_eq!(
        n.listing("admin", "bob", "?expand_roles=false").await,
        before
    );
    // An administrator may grant to itself.
    let own = n.grant("admin", "admin", "job://c/admin/x", "read").await;
    assert_eq!(own.status, StatusCode::CREATED);
    assert_eq!(own.json[0]["action"], "manage");
}

/// Rule N1, M2: revoke by exact URI, 204; nothing there is 400 `Operation has no
/// effect`; several URIs are all or nothing; the home `read` on `user://NAME` is an
/// ordinary grant (rule P5).
#[tokio::test]
async fn revokes() {
    let n = Neuro::start().await;
    n.grant("alice", "bob", "storage://c/alice/a", "read").await;
    n.grant("alice", "bob", "storage://c/alice/b", "read").await;
    let path = "/api/v1/users/bob/permissions";
    let done = n
        .delete("alice", &format!("{path}?uri=storage://c/alice/a"))
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    for (who, query, status, text) in [
        (
            "alice",
            "?uri=storage://c/alice/a",
            StatusCode::BAD_REQUEST,
            "Operation has no effect",
        ),
        // A grant below (storage://c/alice/b) is not on exactly the URI (rule M2).
        (
            "alice",
            "?uri=storage://c/alice",
            StatusCode::BAD_REQUEST,
            "Operation has no effect",
        ),
        (
            "alice",
            "?uri=storage://c/alice/b&uri=storage://c/alice/a",
            StatusCode::BAD_REQUEST,
            "Operation has no effect",
        ),
        (
            "alice",
            "",
            StatusCode::BAD_REQUEST,
            "\"uri\" request parameter is missing",
        ),
        (
            "alice",
            "?uri=unknown:",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Malformed URI 'unknown:': Unknown resource type: unknown.",
        ),
        (
            "alice",
            "?uri=job:job-id",
            StatusCode::BAD_REQUEST,
            "Malformed URI 'job:job-id': authority is missing, but path part exists",
        ),
        (
            "bob",
            "?uri=storage://c/alice/b",
            StatusCode::FORBIDDEN,
            "Forbidden",
        ),
    ] {
        let answer = n.delete(who, &format!("{path}{query}")).await;
        assert_eq!((answer.status, answer.error()), (status, text), "{query}");
    }
    // The all-or-nothing revoke above left b in place.
    let left = n.listing("admin", "bob", "?expand_roles=false").await;
    assert!(has(&left, "storage://c/alice/b", "read"), "{left:?}");
    let encoded = n
        .delete(
            "alice",
            &format!("{path}?uri=storage%3A%2F%2Fc%2Falice%2Fb"),
        )
        .await;
    assert_eq!(encoded.status, StatusCode::NO_CONTENT);
    // rule P5: bob's read on user://bob is a grant an administrator can revoke.
    assert!(has(&left, "user://bob", "read"));
    let home = n.delete("admin", &format!("{path}?uri=user://bob")).await;
    assert_eq!(home.status, StatusCode::NO_CONTENT);
    let after = n.listing("admin", "bob", "?expand_roles=false").await;
    assert!(!after.iter().any(|(u, _)| u == "user://bob"), "{after:?}");
}

/// Rule N1, P2: set replaces the principal's direct grants (204); the client creates
/// the role on 404 and retries.
#[tokio::test]
async fn set_permissions() {
    let n = Neuro::start().await;
    let path = "/api/v1/users/alice:roles:team/permissions";
    let body = json!([{"uri": "storage://c/alice/a", "action": "manage"}]);
    let missing = n.call(Method::PUT, "alice", path, Some(body.clone())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error(), "user \"alice/roles/team\" was not found");
    n.post(
        "alice",
        "/api/v1/users",
        json!({"name": "alice/roles/team"}),
    )
    .await;
    let set = n.call(Method::PUT, "alice", path, Some(body)).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
    let replaced = n
        .call(
            Method::PUT,
            "alice",
            path,
            Some(json!([
                {"uri": "storage://c/alice/a", "action": "read"},
                {"uri": "job://c/alice/j", "action": "write"}
            ])),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT);
    assert_eq!(
        n.listing("alice", "alice:roles:team", "?expand_roles=false")
            .await,
        vec![
            ("job://c/alice/j".to_owned(), "write".to_owned()),
            ("storage://c/alice/a".to_owned(), "read".to_owned())
        ]
    );
    let own = n
        .call(
            Method::PUT,
            "alice",
            "/api/v1/users/alice/permissions",
            Some(json!([{"uri": "job://c/alice/j", "action": "read"}])),
        )
        .await;
    assert_eq!(
        (own.status, own.error()),
        (StatusCode::FORBIDDEN, "Adding self user is forbidden")
    );
    let empty = n.call(Method::PUT, "alice", path, Some(json!([]))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let foreign = n
        .call(
            Method::PUT,
            "bob",
            path,
            Some(json!([{"uri": "job://c/bob/j", "action": "read"}])),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
}

/// Rule N1, E1, E2, E5, S3: check answers 200 or 403 with `missing` echoing the failing
/// entries exactly as sent; asking about another principal needs read on `user://P`.
#[tokio::test]
async fn checks() {
    let n = Neuro::start().await;
    n.grant("alice", "bob", "storage://c/alice/shared/x", "write")
        .await;
    let path = "/api/v1/users/bob/permissions/check";
    let ok = n
        .post(
            "bob",
            path,
            json!([
                {"uri": "storage://c/alice/shared/x/", "action": "write"},
                {"uri": "storage://c/alice/shared", "action": "list"},
                {"uri": "storage://c/bob", "action": "manage"},
                {"uri": "job:", "action": "deny"}
            ]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json, json!({"missing": []}));
    let asked = json!([
        {"uri": "storage://c/alice/shared/x/", "action": "manage"},
        {"uri": "storage://c/bob/y", "action": "read"},
        {"uri": "storage:", "action": "read"},
        {"uri": "STORAGE://c/alice/shared", "action": "read"}
    ]);
    let some = n.post("admin", path, asked.clone()).await;
    assert_eq!(some.status, StatusCode::FORBIDDEN);
    assert_eq!(
        some.json,
        json!({"missing": [asked[0].clone(), asked[2].clone(), asked[3].clone()]})
    );
    let other = n
        .post(
            "bob",
            "/api/v1/users/admin/permissions/check",
            json!([{"uri": "storage:", "action": "read"}]),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(other.json, json!({"error": "Forbidden"}));
    for (body, status, text) in [
        (
            json!([{"uri": "unknown://c/x", "action": "read"}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown resource type: unknown",
        ),
        (
            json!([{"uri": "storage:/", "action": "read"}]),
            StatusCode::BAD_REQUEST,
            "Malformed URI 'storage:/': authority is missing, but path part exists",
        ),
        (
            json!([]),
            StatusCode::BAD_REQUEST,
            "permissions: list length is less than 1",
        ),
        (json!({"uri": "storage:"}), StatusCode::BAD_REQUEST, ""),
    ] {
        let answer = n.post("bob", path, body.clone()).await;
        assert_eq!(answer.status, status, "{body}");
        assert!(answer.error().starts_with(text), "{body}: {}", answer.text);
        assert!(answer.json.get("missing").is_none());
    }
    let nobody = n
        .post(
            "admin",
            "/api/v1/users/nobody/permissions/check",
            json!([{"uri": "storage:", "action": "read"}]),
        )
        .await;
    assert_eq!(
        (nobody.status, nobody.error()),
        (StatusCode::NOT_FOUND, "user \"nobody\" was not found")
    );
}

/// Rule N1, E2, E6: the permission tree, nested by segment, `path` `/` for a scheme
/// root, ancestors of grants at `list`, bounded by `depth`.
#[tokio::test]
async fn trees() {
    let n = Neuro::start().await;
    n.grant("alice", "bob", "storage://c/alice/data/x", "read")
        .await;
    let base = "/api/v1/users/bob/permissions/tree";
    let whole = n.get("bob", &format!("{base}?uri=storage:")).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert_eq!(whole.json["path"], "/");
    assert_eq!(whole.json["action"], "list");
    let c = &whole.json["children"]["c"];
    assert_eq!(c["action"], "list");
    assert_eq!(
        c["children"]["bob"],
        json!({"action": "manage", "children": {}})
    );
    assert_eq!(c["children"]["alice"]["children"]["data"]["action"], "list");
    assert_eq!(
        c["children"]["alice"]["children"]["data"]["children"]["x"],
        json!({"action": "read", "children": {}})
    );
    let shallow = n
        .get("bob", &format!("{base}?uri=storage://&depth=1"))
        .await;
    assert_eq!(
        shallow.json["children"]["c"],
        json!({"action": "list", "children": {}})
    );
    let sub = n
        .get("bob", &format!("{base}?uri=storage://c/alice&depth=2"))
        .await;
    assert_eq!(sub.json["path"], "/c/alice");
    assert_eq!(
        sub.json["children"]["data"]["children"]["x"]["action"],
        "read"
    );
    for (query, status, text) in [
        (
            "?uri=storage:/",
            StatusCode::BAD_REQUEST,
            "Malformed URI 'storage:/': authority is missing, but path part exists",
        ),
        (
            "?uri=storage:///",
            StatusCode::BAD_REQUEST,
            "Malformed URI 'storage:///': authority is missing, but path part exists",
        ),
        (
            "",
            StatusCode::BAD_REQUEST,
            "\"uri\" request parameter is missing",
        ),
        (
            "?uri=storage:&depth=-1",
            StatusCode::BAD_REQUEST,
            "\"depth\" must be a non-negative integer, not `-1`",
        ),
        (
            "?uri=unknown:",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unknown resource type: unknown",
        ),
    ] {
        let answer = n.get("bob", &format!("{base}{query}")).await;
        assert_eq!((answer.status, answer.error()), (status, text), "{query}");
    }
    let peek = n
        .get("bob", "/api/v1/users/alice/permissions/tree?uri=storage:")
        .await;
    assert_eq!(
        (peek.status, peek.error()),
        (StatusCode::FORBIDDEN, "Forbidden")
    );
}

/// Rule N1, E6, P2: listings (through roles, or direct only), prefix-filtered, with
/// read, write and manage only; shared listing of what the principal manages.
#[tokio::test]
async fn listings_and_shares() {
    let n = Neuro::start().await;
    n.post(
        "alice",
        "/api/v1/users",
        json!({"name": "alice/roles/readers"}),
    )
    .await;
    n.grant(
        "alice",
        "alice:roles:readers",
        "storage://c/alice/pub",
        "read",
    )
    .await;
    n.grant("alice", "bob", "role://alice/roles/readers", "read")
        .await;
    n.grant("alice", "bob", "job://c/alice/j", "write").await;
    n.grant("alice", "bob", "image://c/alice/seen", "list")
        .await;
    let all = n.listing("bob", "bob", "").await;
    for (uri, action) in [
        ("storage://c/alice/pub", "read"),
        ("role://alice/roles/readers", "read"),
        ("job://c/alice/j", "write"),
        ("storage://c/bob", "manage"),
        ("user://bob", "read"),
    ] {
        assert!(has(&all, uri, action), "{uri} {action}: {all:?}");
    }
    assert!(
        all.iter()
            .all(|(_, a)| ["read", "write", "manage"].contains(&a.as_str())),
        "{all:?}"
    );
    let direct = n.listing("bob", "bob", "?expand_roles=false").await;
    assert!(
        !direct.iter().any(|(u, _)| u == "storage://c/alice/pub"),
        "{direct:?}"
    );
    assert!(has(&direct, "role://alice/roles/readers", "read"));
    let storage = n.listing("bob", "bob", "?uri=storage:").await;
    assert!(
        storage.iter().all(|(u, _)| u.starts_with("storage://")),
        "{storage:?}"
    );
    assert!(has(&storage, "storage://c/alice/pub", "read"));
    let prefix = n.listing("bob", "bob", "?uri=job://c/alice").await;
    assert_eq!(
        prefix,
        vec![("job://c/alice/j".to_owned(), "write".to_owned())]
    );
    let peek = n.get("bob", "/api/v1/users/alice/permissions").await;
    assert_eq!(peek.status, StatusCode::FORBIDDEN);
    let shared = n
        .get("alice", "/api/v1/users/alice/permissions/shared")
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text);
    let rows = shared.json.as_array().unwrap();
    assert!(
        rows.contains(&json!({"user": "bob", "uri": "job://c/alice/j", "action": "write"})),
        "{rows:?}"
    );
    assert!(rows.contains(
        &json!({"user": "alice/roles/readers", "uri": "storage://c/alice/pub", "action": "read"})
    ));
    assert!(rows.iter().all(|r| r["action"] != "list"), "{rows:?}");
    let jobs = n
        .get("alice", "/api/v1/users/alice/permissions/shared?uri=job:")
        .await;
    assert_eq!(
        jobs.json,
        json!([{"user": "bob", "uri": "job://c/alice/j", "action": "write"}])
    );
}

/// Rule N1, S2: minted tokens act as their principal; one minted for a `token://` URI
/// stops working once read on that URI is revoked.
#[tokio::test]
async fn tokens() {
    let n = Neuro::start().await;
    let plain = n
        .post("alice", "/api/v1/users/alice/token", json!({}))
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text);
    let token = plain.json["access_token"].as_str().unwrap().to_owned();
    let ping = n
        .raw(Method::GET, Some(&token), "/api/v1/secured-ping", None)
        .await;
    assert_eq!(ping.text, "Secured Pong");
    let denied = n.post("bob", "/api/v1/users/alice/token", json!({})).await;
    assert_eq!(
        (denied.status, denied.error()),
        (StatusCode::FORBIDDEN, "Forbidden")
    );
    let bad = n
        .post(
            "alice",
            "/api/v1/users/alice/token",
            json!({"uri": "token:abc"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The admin gives alice read on a token:// URI and mints her a token for it.
    assert_eq!(
        n.grant("admin", "alice", "token://c/alice/t1", "read")
            .await
            .status,
        StatusCode::CREATED
    );
    let scoped = n
        .post(
            "admin",
            "/api/v1/users/alice/token",
            json!({"uri": "token://c/alice/t1"}),
        )
        .await;
    assert_eq!(scoped.status, StatusCode::OK, "{}", scoped.text);
    let scoped = scoped.json["access_token"].as_str().unwrap().to_owned();
    for path in ["/api/v1/secured-ping", "/api/v1/users/alice", "/v1/whoami"] {
        let answer = n.raw(Method::GET, Some(&scoped), path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
    }
    let revoked = n
        .delete(
            "admin",
            "/api/v1/users/alice/permissions?uri=token://c/alice/t1",
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    for path in ["/api/v1/secured-ping", "/api/v1/users/alice", "/v1/whoami"] {
        let answer = n.raw(Method::GET, Some(&scoped), path, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // The unscoped token is untouched.
    let ping = n
        .raw(Method::GET, Some(&token), "/api/v1/secured-ping", None)
        .await;
    assert_eq!(ping.text, "Secured Pong");
}

/// Rule N1, S1: everything made through the API is in the database and survives a
/// restart of the server on the same SQLite file.
#[tokio::test]
async fn survives_a_restart() {
    let mut n = Neuro::start().await;
    n.post("admin", "/api/v1/users", json!({"name": "dave"}))
        .await;
    n.post("alice", "/api/v1/users", json!({"name": "alice/roles/r"}))
        .await;
    n.grant("alice", "alice:roles:r", "storage://c/alice/x", "write")
        .await;
    n.grant("alice", "dave", "role://alice/roles/r", "read")
        .await;
    n.delete("admin", "/api/v1/users/bob/permissions?uri=user://bob")
        .await;
    let before = n.listing("admin", "dave", "").await;
    let bob_before = n.listing("admin", "bob", "").await;
    n.restart().await;
    assert_eq!(
        n.get("admin", "/api/v1/users/dave").await.json,
        json!({"name": "dave"})
    );
    assert_eq!(n.listing("admin", "dave", "").await, before);
    assert!(has(&before, "storage://c/alice/x", "write"));
    assert_eq!(n.listing("admin", "bob", "").await, bob_before);
    let check = n
        .post(
            "dave",
            "/api/v1/users/dave/permissions/check",
            json!([{"uri": "storage://c/alice/x", "action": "write"}]),
        )
        .await;
    assert_eq!(check.json, json!({"missing": []}));
}

/// Rule N1, S6: the lists of grant, set, check and revoke are bounded by the batch limit
/// (413 in the Neu.ro error form), and a failed request changes nothing.
#[tokio::test]
async fn lists_are_bounded() {
    let n = Neuro::start_with(Limits {
        max_batch: 2,
        ..Limits::default()
    })
    .await;
    let three = json!([
        {"uri": "job://c/alice/a", "action": "read"},
        {"uri": "job://c/alice/b", "action": "read"},
        {"uri": "job://c/alice/c", "action": "read"}
    ]);
    for (method, path) in [
        (Method::POST, "/api/v1/users/bob/permissions"),
        (Method::PUT, "/api/v1/users/bob/permissions"),
        (Method::POST, "/api/v1/users/bob/permissions/check"),
    ] {
        let answer = n
            .call(method.clone(), "alice", path, Some(three.clone()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}"
        );
        assert_eq!(
            answer.error(),
            "the batch has 3 items: the server's limit is 2"
        );
    }
    let revoke = n
        .delete(
            "alice",
            "/api/v1/users/bob/permissions?uri=job://c/a&uri=job://c/b&uri=job://c/c",
        )
        .await;
    assert_eq!(revoke.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!has(
        &n.listing("admin", "bob", "").await,
        "job://c/alice/a",
        "read"
    ));
}
