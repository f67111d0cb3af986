//! End-to-end tests of `acl serve` and `acl token`: the real binary, real HTTP over
//! loopback, a real SIGTERM (DESIGN rules S1, S2).

mod common;

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod serve {
    use std::net::TcpStream;
    use std::process::Command;

    use super::common::{Env, bin, http, serve};

    const SECRET: &str = "a secret for the serve test, longer than 32 bytes";

    fn token(env: &Env, who: &str, principal: &str) -> (i32, String, String) {
        let output = Command::new(bin())
            .arg("--db")
            .arg(&env.db)
            .args(["--as", who, "token", principal, "--ttl", "1h"])
            .env("ACL_JWT_SECRET", SECRET)
            .env_remove("ACL_DB")
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    // rules S1, S2: serve, a token from `acl token`, a check over HTTP, SIGTERM stops it
    #[test]
    fn serve_answers_and_stops_on_sigterm() {
        let env = Env::new();
        env.users(&["alice", "bob"]);
        let server = serve(env.db.to_str().unwrap(), SECRET);
        let (code, admin_token, stderr) = token(&env, "admin", "alice");
        assert_eq!(code, 0, "{stderr}");
        let (status, body) = http(
            "POST",
            &server.addr,
            &admin_token,
            "/v1/check",
            r#"{"principal": "alice", "uri": "storage:data", "level": "write"}"#,
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""allowed":true"#), "{body}");
        // tokens are for admins only: bob may not mint one for alice (exit 77)
        let (code, _, stderr) = token(&env, "bob", "alice");
        assert_eq!(code, 77, "{stderr}");
        // a bad token is 401
        let (status, body) = http("POST", &server.addr, "nope", "/v1/check", "{}");
        assert_eq!(status, 401, "{body}");

        let addr = server.addr.clone();
        let (status, logs) = server.stop();
        assert!(status.success(), "{status:?}");
        assert!(TcpStream::connect(&addr).is_err(), "no longer listening");
        // rule S8: one structured line per request with its id, and no token or secret
        let answered: Vec<serde_json::Value> = logs
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["message"] == "answered")
            .collect();
        assert!(answered.len() >= 2, "{logs:?}");
        assert!(
            answered.iter().all(|v| v["span"]["id"].is_string()),
            "{answered:?}"
        );
        assert!(answered.iter().any(|v| v["fields"]["status"] == 401));
        for line in &logs {
            assert!(
                !line.contains(&admin_token) && !line.contains(SECRET),
                "{line}"
            );
        }
    }

    // rule S2: without a secret the server refuses to start, exit 65, naming what is missing
    #[test]
    fn serve_without_a_secret_refuses_to_start() {
        let env = Env::new();
        let output = Command::new(bin())
            .arg("--db")
            .arg(&env.db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("ACL_JWT_SECRET")
            .env_remove("ACL_DB")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(65));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("ACL_JWT_SECRET") && stderr.contains("--jwt-secret-file"),
            "{stderr}"
        );
        // a secret too short for HS256 is refused too
        let output = Command::new(bin())
            .arg("--db")
            .arg(&env.db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("ACL_JWT_SECRET", "short")
            .env_remove("ACL_DB")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(65));
        assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
    }
}
