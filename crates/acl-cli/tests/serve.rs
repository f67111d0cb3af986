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

    /// Starts `acl --db DB serve --listen 127.0.0.1:0 --backendai-listen 127.0.0.1:0` with
    /// `extra` environment variables and arguments, and returns the child and the lines of
    /// stderr up to and including the `backendai listening on` line (at most 30 s).
    fn serve_backendai(
        env: &Env,
        vars: &[(&str, &str)],
        extra: &[&str],
    ) -> (std::process::Child, Vec<String>) {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut command = Command::new(bin());
        command
            .arg("--db")
            .arg(&env.db)
            .args(extra)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--backendai-listen", "127.0.0.1:0"])
            .env("ACL_JWT_SECRET", SECRET)
            .env_remove("ACL_MASTER_KEY")
            .env_remove("ACL_DB")
            .env_remove("ACL_AS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the caller stops listening, so the server never
            // writes to a closed or full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut startup = Vec::new();
        loop {
            let line = lines
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|err| panic!("{err}: {startup:?}"));
            let done = line.starts_with("backendai listening on ");
            startup.push(line);
            if done {
                break;
            }
        }
        (child, startup)
    }

    /// Stops `child` with SIGTERM and waits for it.
    fn stop(mut child: std::process::Child) -> std::process::ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        child.wait().unwrap()
    }

    // DESIGN rule B1: `--backendai-listen` opens a second listener, printed right after the
    // first with its real port; without a master key the server still starts, warning
    // that Backend.AI requests cannot be verified; the master key is never printed
    #[test]
    fn serve_with_a_backendai_listener() {
        let env = Env::new();
        let master_key = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let (child, startup) = serve_backendai(&env, &[("ACL_MASTER_KEY", master_key)], &[]);
        let n = startup.len();
        assert!(n >= 2, "{startup:?}");
        assert!(
            startup[n - 2].starts_with("listening on http://127.0.0.1:"),
            "{startup:?}"
        );
        let addr = startup[n - 1]
            .strip_prefix("backendai listening on http://")
            .unwrap()
            .to_owned();
        assert!(!addr.ends_with(":0"), "{addr}");
        assert_ne!(
            Some(addr.as_str()),
            startup[n - 2].strip_prefix("listening on http://")
        );
        assert!(
            startup.iter().all(|l| !l.starts_with("warning:")),
            "{startup:?}"
        );
        assert!(TcpStream::connect(&addr).is_ok(), "{addr}");
        assert!(stop(child).success());
        assert!(TcpStream::connect(&addr).is_err(), "no longer listening");
        // the same from a key file
        let file = env.dir.path().join("master.key");
        std::fs::write(
            &file,
            format!(
                "{master_key}
"
            ),
        )
        .unwrap();
        let (child, startup) =
            serve_backendai(&env, &[], &["--master-key-file", file.to_str().unwrap()]);
        assert!(
            startup.iter().all(|l| !l.starts_with("warning:")),
            "{startup:?}"
        );
        assert!(stop(child).success());
        // no master key: a warning, and the server serves all the same
        let (child, startup) = serve_backendai(&env, &[], &[]);
        assert!(
            startup.iter().any(|l| l
                == "warning: no master key (ACL_MASTER_KEY or --master-key-file): \
                    Backend.AI requests cannot be verified"),
            "{startup:?}"
        );
        for line in &startup {
            assert!(!line.contains(master_key), "{line}");
        }
        assert!(stop(child).success());
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
