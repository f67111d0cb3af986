//! End-to-end tests of the Backend.AI-compatible folder API (DESIGN rule B1): the real
//! server with its Backend.AI listener on an ephemeral port, spoken to over HTTP with
//! requests signed as the published client signs them (the verifier's own
//! `signature::signature`), so a failure points at our code rather than at the Python
//! client (acl-cli's tests/backendai_client.rs runs that one against `acl serve`).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use acl_core::{Caller, ClusterName, Schema};
use acl_platform::{MasterKey, NewAccount, Platform, PolicyName, ResourcePolicy, UserRole};
use acl_server::backendai::signature::{SignHash, Signed, parse_date, signature};
use acl_server::{JwtKey, Limits, Server, now};
use acl_sqlite::SqliteStore;
use common::{SECRET, name};

const MASTER: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const VERSION: &str = "v9.20250722";

fn entropy() -> impl FnMut(&mut [u8]) {
    // splitmix64: deterministic, with no short cycle
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    move |buf: &mut [u8]| {
        for byte in buf.iter_mut() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *byte = (z ^ (z >> 31)) as u8;
        }
    }
}

/// A store with admin and users alice, bob, carol (members of project `proj`), each
/// with a keypair sealed with the master key; returns the keys by user.
fn seed(db: &std::path::Path) -> BTreeMap<String, (String, String)> {
    let engine: acl_server::Engine =
        Platform::new(SqliteStore::open(db).unwrap().into(), Schema::standard())
            .with_master_key(MasterKey::from_hex(MASTER).unwrap());
    let mut random = entropy();
    let mut admin = NewAccount::new("admin", "admin@example.org", "Passw0rd!x");
    admin.role = UserRole::Superadmin;
    engine
        .init_with_account(&ClusterName::new("c").unwrap(), &admin, &mut random, now())
        .unwrap();
    let by = Caller::new(name("admin"), now());
    engine.create_group(&by, &name("proj"), "default").unwrap();
    let small = ResourcePolicy {
        name: PolicyName::new("small").unwrap(),
        ..ResourcePolicy::default_policy()
    };
    engine.create_policy(&by, &small).unwrap();
    let mut keys = BTreeMap::new();
    for user in ["admin", "alice", "bob", "carol", "dave", "erin"] {
        if user != "admin" {
            let mut account = NewAccount::new(user, &format!("{user}@example.org"), "Passw0rd!x");
            if user == "erin" {
                account.policy = "small".into();
            }
            engine.create_account(&by, &account, &mut random).unwrap();
        }
        if ["alice", "bob", "carol"].contains(&user) {
            engine
                .add_group_member(&by, &name("proj"), &name(user))
                .unwrap();
        }
        let made = engine
            .create_keypair(&by, &name(user), &mut random)
            .unwrap();
        keys.insert(
            user.to_owned(),
            (
                made.value.keypair.access_key.as_str().to_owned(),
                made.value.secret.expose().to_owned(),
            ),
        );
    }
    engine.deactivate_account(&by, &name("dave")).unwrap();
    keys
}

struct Bai {
    base: String,
    host: String,
    keys: BTreeMap<String, (String, String)>,
    client: Client,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    json: Value,
    content_type: String,
}

impl Answer {
    fn slug(&self) -> &str {
        self.json["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("https://api.backend.ai/probs/"))
            .unwrap_or("<not a problem>")
    }

    fn expect(&self, status: u16, slug: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.json);
        assert_eq!(self.slug(), slug, "{}", self.json);
        assert_eq!(self.content_type, "application/problem+json");
    }
}

impl Bai {
    async fn start() -> Bai {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("acl.db");
        let keys = seed(&db);
        let engine = Platform::new(SqliteStore::open(&db).unwrap().into(), Schema::standard())
            .with_master_key(MasterKey::from_hex(MASTER).unwrap());
        let server = Server::bind(
            engine,
            JwtKey::new(SECRET).unwrap(),
            Limits::default(),
            "127.0.0.1:0",
        )
        .await
        .unwrap()
        .with_backendai("127.0.0.1:0")
        .await
        .unwrap();
        let addr = server.backendai_addr().unwrap().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Bai {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            keys,
            client: Client::new(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// A request signed with `key`/`secret` at `date`, as the client signs it.
    async fn signed_as(
        &self,
        (key, secret): (&str, &str),
        date: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let content_type = if body.is_some() {
            "application/json"
        } else {
            "text/plain"
        };
        let signed = Signed {
            method: method.as_str(),
            target: path,
            date,
            host: &self.host,
            content_type,
            version: VERSION,
        };
        let sig = signature(
            secret.as_bytes(),
            &parse_date(date).unwrap(),
            &signed,
            SignHash::Sha256,
        );
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Date", date)
            .header("Content-Type", content_type)
            .header("X-BackendAI-Version", VERSION)
            .header(
                "Authorization",
                format!("BackendAI signMethod=HMAC-SHA256, credential={key}:{sig}"),
            );
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        Answer {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            content_type,
        }
    }

    fn date_now() -> String {
        chrono::DateTime::from_timestamp_millis(now().0)
            .unwrap()
            .to_rfc3339()
    }

    async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let (key, secret) = &self.keys[who];
        self.signed_as((key, secret), &Self::date_now(), method, path, body)
            .await
    }
}

impl Drop for Bai {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Rules B1, F4 to F7: the seed flow of 000/001 (alice shares `tests` read-only with bob
/// by invitation, bob accepts, bob's write is refused by name and by UUID, alice switches
/// him to Read & Write), and who may accept, rename and delete.
#[tokio::test]
async fn the_seed_flow_and_its_refusals() {
    let bai = Bai::start().await;
    let root = bai.client.get(&bai.base).send().await.unwrap();
    assert_eq!(root.status(), 200);
    let version: Value = root.json().await.unwrap();
    assert_eq!(version["version"], VERSION);

    let made = bai
        .call(
            "alice",
            Method::POST,
            "/folders",
            Some(json!({"name": "tests", "host": null, "group": null})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    let hex = made.json["id"].as_str().unwrap().to_owned();
    assert_eq!(hex.len(), 32);
    assert_eq!(made.json["permission"], "wd");
    let again = bai
        .call(
            "alice",
            Method::POST,
            "/folders",
            Some(json!({"name": "tests"})),
        )
        .await;
    again.expect(409, "vfolder-already-exists");

    // bob sees nothing of it yet, by name or by UUID
    bai.call("bob", Method::GET, "/folders/tests", None)
        .await
        .expect(404, "object-not-found");
    bai.call("bob", Method::GET, &format!("/folders/{hex}"), None)
        .await
        .expect(404, "object-not-found");

    let invited = bai
        .call(
            "alice",
            Method::POST,
            "/folders/tests/invite",
            Some(json!({"perm": "ro", "user_ids": ["bob@example.org"]})),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.json);
    assert_eq!(invited.json["invited_ids"], json!(["bob@example.org"]));
    let listed = bai
        .call("bob", Method::GET, "/folders/invitations/list", None)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    let invitation = &listed.json["invitations"][0];
    assert_eq!(invitation["perm"], "ro");
    assert_eq!(invitation["vfolder_name"], "tests");
    let id = invitation["id"].as_str().unwrap().to_owned();

    // only the invitee accepts (24.09 let anyone with the id)
    bai.call(
        "carol",
        Method::POST,
        "/folders/invitations/accept",
        Some(json!({"inv_id": id})),
    )
    .await
    .expect(403, "generic-forbidden");
    let accepted = bai
        .call(
            "bob",
            Method::POST,
            "/folders/invitations/accept",
            Some(json!({"inv_id": id})),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.json);
    bai.call(
        "bob",
        Method::POST,
        "/folders/invitations/accept",
        Some(json!({"inv_id": id})),
    )
    .await
    .expect(404, "vfolder-invitation-not-found");

    // a read-only share refuses writes by every path (FR-3800)
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    for piece in ["tests", hex.as_str(), uuid.as_str()] {
        bai.call(
            "bob",
            Method::POST,
            &format!("/folders/{piece}/request-upload"),
            Some(json!({"path": "a.txt", "size": 1})),
        )
        .await
        .expect(403, "generic-forbidden");
        let download = bai
            .call(
                "bob",
                Method::POST,
                &format!("/folders/{piece}/request-download"),
                Some(json!({"path": "a.txt"})),
            )
            .await;
        assert_eq!(download.status, 200, "{}", download.json);
        assert!(download.json["token"].as_str().unwrap().contains('.'));
    }

    // alice switches bob to Read & Write
    let bob_uuid = {
        let shared = bai
            .call("alice", Method::GET, "/folders/_/shared", None)
            .await;
        assert_eq!(shared.status, 200, "{}", shared.json);
        assert_eq!(shared.json["shared"][0]["perm"], "ro");
        assert_eq!(shared.json["shared"][0]["shared_to"]["email"], "bob");
        shared.json["shared"][0]["shared_to"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // bob's shared listing shows only his own shares: none
    let his = bai
        .call("bob", Method::GET, "/folders/_/shared", None)
        .await;
    assert_eq!(his.json["shared"], json!([]));
    // a sharee cannot change a share
    bai.call(
        "bob",
        Method::POST,
        "/folders/_/shared",
        Some(json!({"vfolder": uuid, "user": bob_uuid, "perm": "rw"})),
    )
    .await
    .expect(403, "generic-forbidden");
    let changed = bai
        .call(
            "alice",
            Method::POST,
            "/folders/_/shared",
            Some(json!({"vfolder": uuid, "user": bob_uuid, "perm": "rw"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    for piece in ["tests", hex.as_str()] {
        let upload = bai
            .call(
                "bob",
                Method::POST,
                &format!("/folders/{piece}/request-upload"),
                Some(json!({"path": "a.txt"})),
            )
            .await;
        assert_eq!(upload.status, 200, "{}", upload.json);
    }
    // a Read & Write sharee neither renames nor deletes (#4189)
    bai.call(
        "bob",
        Method::POST,
        "/folders/tests/rename",
        Some(json!({"new_name": "mine"})),
    )
    .await
    .expect(403, "generic-forbidden");
    bai.call("bob", Method::DELETE, "/folders", Some(json!({"id": hex})))
        .await
        .expect(403, "generic-forbidden");
    // leaving ends access at once (#5853)
    let left = bai
        .call("bob", Method::POST, "/folders/tests/leave", None)
        .await;
    assert_eq!(left.status, 200, "{}", left.json);
    bai.call("bob", Method::GET, &format!("/folders/{hex}"), None)
        .await
        .expect(404, "object-not-found");
}

/// Rule B1: signature failures are the manager's 401 and 400 problems, never a 500; a
/// deactivated user's keypair is refused (rule A3).
#[tokio::test]
async fn bad_signatures_are_refused() {
    let bai = Bai::start().await;
    let (key, secret) = bai.keys["alice"].clone();
    let date = Bai::date_now();
    bai.signed_as(
        (&key, "not the secret"),
        &date,
        Method::GET,
        "/folders",
        None,
    )
    .await
    .expect(401, "auth-failed");
    bai.signed_as(
        ("AKIANOSUCHKEY0000000", &secret),
        &date,
        Method::GET,
        "/folders",
        None,
    )
    .await
    .expect(401, "auth-failed");
    let old = chrono::DateTime::from_timestamp_millis(now().0 - 20 * 60 * 1000)
        .unwrap()
        .to_rfc3339();
    bai.signed_as((&key, &secret), &old, Method::GET, "/folders", None)
        .await
        .expect(400, "invalid-auth-params");
    bai.call("dave", Method::GET, "/folders", None)
        .await
        .expect(401, "auth-failed");
    let unsigned = bai
        .client
        .get(format!("{}/folders", bai.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    let ok = bai
        .signed_as((&key, &secret), &date, Method::GET, "/folders", None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json, json!([]));
}

/// Rules F8, B1, A6: the group-folder flow of seed 002 (a project folder by the project's
/// name or UUID, seen by members only, not left; shared with a member, never a
/// non-member; unshared), and a resource policy in use not deleted, its users named.
#[tokio::test]
async fn project_folders_and_policies() {
    let bai = Bai::start().await;
    bai.call(
        "alice",
        Method::POST,
        "/folders",
        Some(json!({"name": "data", "group": "proj"})),
    )
    .await
    .expect(403, "generic-forbidden");
    let made = bai
        .call(
            "admin",
            Method::POST,
            "/folders",
            Some(json!({"name": "data", "group": "proj", "permission": "ro"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    assert_eq!(made.json["ownership_type"], "group");
    let group = made.json["group"].as_str().unwrap().to_owned();
    assert!(
        made.json["quota_scope_id"]
            .as_str()
            .unwrap()
            .ends_with(&group)
    );
    let by_uuid = bai
        .call(
            "admin",
            Method::POST,
            "/folders",
            Some(json!({"name": "more", "groupId": group})),
        )
        .await;
    assert_eq!(by_uuid.status, 201, "{}", by_uuid.json);
    assert_eq!(by_uuid.json["group_name"], "proj");
    bai.call(
        "admin",
        Method::POST,
        "/folders",
        Some(json!({"name": "x", "group": "00000000-0000-0000-0000-000000000000"})),
    )
    .await
    .expect(404, "object-not-found");
    let listed = bai
        .call(
            "bob",
            Method::GET,
            &format!("/folders?group_id={group}"),
            None,
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(listed.json.as_array().unwrap().len(), 2);
    assert_eq!(listed.json[0]["permission"], "ro");
    let none = bai.call("erin", Method::GET, "/folders", None).await;
    assert_eq!(none.json, json!([]));
    bai.call(
        "bob",
        Method::POST,
        "/folders/data/leave",
        Some(json!({"shared_user_uuid": null})),
    )
    .await
    .expect(400, "invalid-api-params");
    bai.call(
        "bob",
        Method::POST,
        "/folders/data/request-upload",
        Some(json!({"path": "x"})),
    )
    .await
    .expect(403, "generic-forbidden");
    // a member, yes; a non-member, no; by a manager only
    bai.call(
        "bob",
        Method::POST,
        "/folders/data/share",
        Some(json!({"permission": "rw", "emails": ["bob@example.org"]})),
    )
    .await
    .expect(403, "generic-forbidden");
    bai.call(
        "admin",
        Method::POST,
        "/folders/data/share",
        Some(json!({"permission": "rw", "emails": ["bob@example.org", "erin@example.org"]})),
    )
    .await
    .expect(404, "object-not-found");
    let shared = bai
        .call(
            "admin",
            Method::POST,
            "/folders/data/share",
            Some(json!({"permission": "rw", "emails": ["bob@example.org"]})),
        )
        .await;
    assert_eq!(shared.status, 201, "{}", shared.json);
    assert_eq!(shared.json["shared_emails"], json!(["bob@example.org"]));
    let upload = bai
        .call(
            "bob",
            Method::POST,
            "/folders/data/request-upload",
            Some(json!({"path": "x"})),
        )
        .await;
    assert_eq!(upload.status, 200, "{}", upload.json);
    bai.call(
        "carol",
        Method::POST,
        "/folders/data/request-upload",
        Some(json!({"path": "x"})),
    )
    .await
    .expect(403, "generic-forbidden");
    let unshared = bai
        .call(
            "admin",
            Method::DELETE,
            "/folders/data/unshare",
            Some(json!({"emails": ["bob@example.org"]})),
        )
        .await;
    assert_eq!(unshared.status, 200, "{}", unshared.json);
    bai.call(
        "bob",
        Method::POST,
        "/folders/data/request-upload",
        Some(json!({"path": "x"})),
    )
    .await
    .expect(403, "generic-forbidden");
    // bad paths are refused before any decision
    bai.call(
        "admin",
        Method::POST,
        "/folders/data/request-upload",
        Some(json!({"path": "../x"})),
    )
    .await
    .expect(400, "invalid-api-params");
    // a policy in use is not deleted, and the refusal names its user (#14531)
    let query =
        "mutation($name: String!) { delete_keypair_resource_policy(name: $name) { ok msg } }";
    let refused = bai
        .call(
            "admin",
            Method::POST,
            "/admin/gql",
            Some(json!({"query": query, "variables": {"name": "small"}})),
        )
        .await;
    assert_eq!(refused.status, 200, "{}", refused.json);
    let answer = &refused.json["data"]["delete_keypair_resource_policy"];
    assert_eq!(answer["ok"], false, "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("erin"), "{answer}");
    let other = bai
        .call(
            "admin",
            Method::POST,
            "/admin/gql",
            Some(json!({"query": "{ users { email } }"})),
        )
        .await;
    assert!(
        other.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only")
    );
    let hosts = bai
        .call("alice", Method::GET, "/folders/_/hosts", None)
        .await;
    assert_eq!(hosts.status, 200, "{}", hosts.json);
    assert_eq!(hosts.json["default"], "local");
}
