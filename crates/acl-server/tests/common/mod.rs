//! What the server's end-to-end suites share: the seeded store and a real server on an
//! ephemeral port, stopped on demand.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use acl_core::{Caller, ClusterName, PrincipalName, Schema};
use acl_platform::Platform;
use acl_server::{Engine, JwtKey, Limits, Server, now};
use acl_sqlite::SqliteStore;

/// The HS256 secret every suite signs with.
pub const SECRET: &[u8] = b"a test secret that is long enough for HS256";

/// A principal's name.
pub fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

/// The engine on the SQLite file `db`, as it is (no init).
pub fn open(db: &Path) -> Engine {
    Platform::new(SqliteStore::open(db).unwrap().into(), Schema::standard())
}

/// A store at `db` with cluster `c`, admin `admin`, users alice, bob and carol (carol
/// deactivated), each with its home grants (rule P5).
pub fn seed(db: &Path) -> Engine {
    let engine = open(db);
    engine
        .init(&ClusterName::new("c").unwrap(), Some(&name("admin")), now())
        .unwrap();
    let admin = Caller::new(name("admin"), now());
    for user in ["alice", "bob", "carol"] {
        engine.create_user(&admin, &name(user)).unwrap();
    }
    engine.set_active(&admin, &name("carol"), false).unwrap();
    engine
}

/// A server running on an ephemeral port of 127.0.0.1.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    /// The key its tokens are verified with.
    pub key: JwtKey,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Option<Engine>>>,
}

impl Running {
    /// Serves `engine` with the suite's key within `limits`.
    pub async fn start(engine: Engine, limits: Limits) -> Running {
        let key = JwtKey::new(SECRET).unwrap();
        let server = Server::bind(engine, key.clone(), limits, "127.0.0.1:0")
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            base: format!("http://{addr}"),
            addr,
            key,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// A token for `who`, valid for an hour.
    pub fn token(&self, who: &str) -> String {
        self.key
            .mint(&name(who), now().0 as u64 / 1000, Some(3600))
            .unwrap()
    }

    /// Stops the server gracefully and returns its engine (rule S1).
    pub async fn stop(mut self) -> Option<Engine> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.handle.take().unwrap().await.unwrap()
    }
}
