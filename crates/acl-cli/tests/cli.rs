//! End-to-end tests of the `acl` binary on temporary databases. Rules cited are those of
//! docs/semantics.md.

mod common;

use common::{Env, Run};

// rule M4: every exit code of the contract, from the binary
#[test]
fn exit_codes() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    // 0 and 77 for a check's verdict
    env.acl(&["check", "alice", "storage://prod/alice/x", "write"])
        .ok();
    let denied = env
        .acl(&["check", "bob", "storage://prod/alice/x", "read"])
        .code(77);
    assert_eq!(denied.stdout, "denied\n");
    // 65: invalid input (rule U3) and no effect (rule M2)
    let bad = env
        .acl(&["grant", "storage://prod/a/../b", "bob", "read"])
        .code(65);
    assert_eq!(
        bad.stderr,
        "error: invalid uri `storage://prod/a/../b`: `.` and `..` segments are not allowed\n"
    );
    env.acl(&["grant", "storage://prod/alice", "bob", "admin"])
        .code(65);
    env.acl(&["revoke", "storage://prod/alice", "bob"]).code(65);
    // 72: not found
    env.acl(&["grant", "storage://prod/alice", "nobody", "read"])
        .code(72);
    // 73: already exists, conflict
    env.acl(&["init"]).code(73);
    env.acl(&["role", "add", "ops"]).ok();
    env.acl(&["role", "add", "ops"]).code(73);
    // 77: not permitted (rule M1: grant needs manage)
    let refused = env
        .as_("bob", &["grant", "storage://prod/alice", "bob", "write"])
        .code(77);
    assert!(
        refused.stderr.contains("`bob` may not grant"),
        "{}",
        refused.stderr
    );
    // 2: usage errors are clap's
    env.acl(&["grant", "storage://prod/alice"]).code(2);
    env.acl(&["frobnicate"]).code(2);
    // 1: anything else: the database is a directory
    let dir = env.dir.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    Run::from_command(&["--db", dir.to_str().unwrap(), "role", "list"]).code(1);
    // --help and --version succeed
    env.acl(&["--help"]).ok();
    env.acl(&["--version"]).ok();
}

// A missing database is not created by a command other than init
#[test]
fn commands_need_an_initialized_database() {
    let env = Env::empty();
    let run = env.acl(&["role", "list"]).code(72);
    assert!(run.stderr.contains("run `acl init`"), "{}", run.stderr);
    assert!(!env.db.exists());
    // bad init input creates no file either
    env.acl(&["init", "--cluster", "a/b"]).code(65);
    assert!(!env.db.exists());
}

// rule M3 and the CLI contract: a failed command leaves the database byte-for-byte equal in
// content (same revision, same rows)
#[test]
fn failed_commands_change_nothing() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.as_("alice", &["folder", "create", "tests"]).ok();
    env.acl(&["group", "create", "vision"]).ok();
    let before = env.dump();
    assert!(before.iter().any(|row| row.starts_with("meta:")));
    let failing: &[(&[&str], Option<&str>, i32)] = &[
        (
            &["grant", "storage://prod/alice", "nobody", "read"],
            None,
            72,
        ),
        (
            &["grant", "storage://prod/alice", "bob", "write"],
            Some("bob"),
            77,
        ),
        (&["revoke", "storage://prod/alice", "bob"], None, 65),
        (&["role", "add", "prod/admin"], None, 73),
        (&["grant", "role://vision", "vision", "read"], None, 73),
        (&["folder", "create", "tests"], Some("alice"), 73),
        (&["folder", "rename", "tests", "a/b"], Some("alice"), 65),
        (
            &["folder", "invite", "tests", "alice", "--permission", "ro"],
            Some("alice"),
            65,
        ),
        (&["folder", "delete", "tests"], Some("bob"), 72),
        (&["invitation", "accept", "i999"], Some("bob"), 72),
        (
            &["fence", "add", "storage://prod/x", "vision"],
            Some("bob"),
            77,
        ),
        (&["user", "deactivate", "alice"], Some("bob"), 77),
        (
            &["vm", "create", "box", "--team", "vision"],
            Some("bob"),
            77,
        ),
        (&["import", "missing.jsonl"], None, 1),
    ];
    for (args, user, code) in failing {
        let run = match user {
            Some(user) => env.as_(user, args),
            None => env.acl(args),
        };
        let run = run.code(*code);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert_eq!(env.dump(), before, "{args:?} changed the database");
    }
}

// --json: results on stdout, errors on stderr, both JSON
#[test]
fn json_output_and_errors() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    let granted = env
        .as_("alice", &["--json", "grant", "storage:data", "bob", "read"])
        .ok()
        .json();
    assert_eq!(granted["value"]["outcome"], "created");
    assert!(granted["revision"].as_u64().unwrap() > 1);
    let check = env
        .acl(&[
            "--json",
            "check",
            "bob",
            "storage://prod/alice/data/x",
            "read",
        ])
        .ok()
        .json();
    assert_eq!(check, serde_json::json!({ "allowed": true }));
    let explain = env
        .acl(&["--json", "explain", "bob", "storage://prod/alice/data/x"])
        .ok()
        .json();
    assert_eq!(explain["level"], "read");
    assert_eq!(explain["reason"]["kind"], "grant");
    assert_eq!(explain["reason"]["grant"]["holder"], "bob");
    let list = env.as_("bob", &["--json", "list"]).ok().json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["uri"] == "storage://prod/alice/data" && i["level"] == "read")
    );
    assert!(list["next"].is_null());
    let err = env
        .acl(&["--json", "grant", "storage://prod/alice", "nobody", "read"])
        .code(72);
    assert!(err.stdout.is_empty());
    let err = err.json_err();
    assert_eq!(err["error"]["kind"], "not_found");
    assert_eq!(err["error"]["code"], 72);
    assert_eq!(err["error"]["message"], "principal `nobody` not found");
}

// rules M1, M2, E1, E3, E6: grant, revoke, list, check, explain, tree, who
#[test]
fn grants_and_reads() {
    let env = Env::new();
    env.users(&["alice", "bob", "carol"]);
    // short forms resolve against the acting user (rule U2)
    let run = env
        .as_("alice", &["grant", "storage:data", "bob", "read"])
        .ok();
    assert!(
        run.stdout
            .starts_with("granted read on `storage://prod/alice/data` to `bob`")
    );
    let kept = env
        .as_("alice", &["grant", "storage:data", "bob", "list"])
        .ok();
    assert!(
        kept.stdout.starts_with("kept: `bob` already holds read"),
        "{}",
        kept.stdout
    );
    env.as_("alice", &["grant", "storage:data", "bob", "write"])
        .ok();
    env.as_(
        "bob",
        &["check", "bob", "storage://prod/alice/data/f", "write"],
    )
    .ok();
    // actions map to levels (rule E5); an unknown action is an error, not a denial
    env.acl(&["check", "bob", "vfolder://prod/x", "mount-rw"])
        .code(77);
    env.acl(&["check", "bob", "storage://prod/alice", "fly"])
        .code(65);
    // the implicit list (rule E2) and explain's reason (rule E6)
    let explain = env.acl(&["explain", "bob", "storage://prod/alice"]).ok();
    assert_eq!(
        explain.stdout,
        "list: implicit list: `bob` holds write below, on `storage://prod/alice/data` (membership path: bob)\n"
    );
    // a forbid beats every allowance (rule E3)
    env.as_("alice", &["grant", "storage:data/secret", "bob", "deny"])
        .ok();
    let explain = env
        .acl(&["explain", "bob", "storage://prod/alice/data/secret/k"])
        .ok();
    assert!(
        explain
            .stdout
            .starts_with("deny: forbid: `bob` is forbidden"),
        "{}",
        explain.stdout
    );
    // list, filtered, paginated
    let list = env.as_("bob", &["list", "-s", "storage"]).ok();
    assert_eq!(
        list.stdout,
        "URI                        LEVEL\nstorage://prod/alice/data  write\nstorage://prod/bob         manage\n"
    );
    let under = env.as_("bob", &["list", "storage://prod/alice"]).ok();
    assert_eq!(under.stdout.lines().count(), 2, "{}", under.stdout);
    let first = env.as_("bob", &["list", "--limit", "1"]).ok();
    assert_eq!(first.stdout.lines().count(), 2);
    assert!(
        first.stderr.starts_with("more results: pass --cursor "),
        "{}",
        first.stderr
    );
    let cursor = first.stderr.trim().rsplit(' ').next().unwrap().to_owned();
    let second = env
        .as_("bob", &["list", "--limit", "1", "--cursor", &cursor])
        .ok();
    assert_ne!(first.stdout, second.stdout);
    env.as_("bob", &["list", "--limit", "0"]).code(65);
    // what alice shared
    let shared = env.as_("alice", &["list", "--shared"]).ok();
    assert!(
        shared
            .stdout
            .contains("storage://prod/alice/data         write  bob"),
        "{}",
        shared.stdout
    );
    // reading another's permissions needs read on its user:// URI (docs/cli.md)
    env.as_("carol", &["list", "-u", "bob"]).code(77);
    env.as_("carol", &["explain", "bob", "storage://prod/alice"])
        .code(77);
    env.as_("carol", &["check", "bob", "storage://prod/alice", "list"])
        .code(77);
    env.acl(&["list", "-u", "bob"]).ok();
    // tree (rule E6)
    let tree = env.acl(&["tree", "bob", "storage://prod/alice"]).ok();
    assert_eq!(
        tree.stdout,
        "storage://prod/alice  list\n  data  write\n    secret  deny\n"
    );
    let shallow = env
        .acl(&["tree", "bob", "storage://prod/alice", "--depth", "1"])
        .ok();
    assert_eq!(shallow.stdout.lines().count(), 2);
    // who: needs manage on the URI
    let who = env
        .as_(
            "alice",
            &["who", "storage://prod/alice/data/f", "--level", "write"],
        )
        .ok();
    assert_eq!(who.stdout, "USER\nadmin\nalice\nbob\n");
    env.as_("bob", &["who", "storage://prod/alice/data"])
        .code(77);
    env.acl(&["who", "storage://prod/alice", "--level", "deny"])
        .code(65);
    // revoke (rule M2)
    env.as_("alice", &["revoke", "storage:data", "bob"]).ok();
    env.acl(&["check", "bob", "storage://prod/alice/data/f", "list"])
        .code(77);
}

// Seeds 000/001 and rules F3 to F7: A shares `tests` with B read-only through an
// invitation; B's write is refused; A switches B to Read & Write; B still cannot rename
#[test]
fn folder_sharing_flow() {
    let env = Env::new();
    env.users(&["alice", "bob", "carol"]);
    env.as_("alice", &["folder", "create", "tests"]).ok();
    // B does not see A's folder
    env.as_("bob", &["folder", "can", "tests", "read"]).code(72);
    let invited = env
        .as_(
            "alice",
            &[
                "--json",
                "folder",
                "invite",
                "tests",
                "bob",
                "--permission",
                "ro",
            ],
        )
        .ok()
        .json();
    let id = invited["value"]["invited"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // a second invite returns the pending one (rule F4)
    let again = env
        .as_(
            "alice",
            &["folder", "invite", "tests", "bob", "--permission", "ro"],
        )
        .ok();
    assert!(again.stdout.contains("is pending"), "{}", again.stdout);
    // refused invitee alone: the first refusal's code
    env.as_(
        "alice",
        &["folder", "invite", "tests", "nobody", "--permission", "ro"],
    )
    .code(72);
    let sent = env.as_("alice", &["invitation", "list", "--sent"]).ok();
    assert!(
        sent.stdout
            .contains(&format!("{id}  tests   alice    bob      ro")),
        "{}",
        sent.stdout
    );
    let received = env.as_("bob", &["invitation", "list"]).ok();
    assert_eq!(received.stdout.lines().count(), 2, "{}", received.stdout);
    // only the inviter changes the permission; only the invitee accepts (rule F5)
    env.as_("bob", &["invitation", "update", &id, "--permission", "rw"])
        .code(77);
    env.as_(
        "alice",
        &["invitation", "update", &id, "--permission", "rw"],
    )
    .ok();
    env.as_(
        "alice",
        &["invitation", "update", &id, "--permission", "ro"],
    )
    .ok();
    env.as_("alice", &["invitation", "accept", &id]).code(77);
    let accepted = env.as_("bob", &["invitation", "accept", &id]).ok();
    assert!(accepted.stdout.starts_with(&format!(
        "accepted invitation {id}: `tests` is shared with `bob` (ro)"
    )));
    env.as_("bob", &["invitation", "accept", &id]).code(73);
    // B's view
    let list = env.as_("bob", &["folder", "list"]).ok();
    assert!(list.stdout.contains("tests"), "{}", list.stdout);
    assert!(
        list.stdout.lines().nth(1).unwrap().contains(" ro "),
        "{}",
        list.stdout
    );
    env.as_("bob", &["folder", "can", "tests", "read"]).ok();
    assert_eq!(
        env.as_("bob", &["folder", "can", "tests", "write"])
            .code(77)
            .stdout,
        "denied\n"
    );
    env.as_("bob", &["folder", "mount", "tests", "ro"]).ok();
    let refused = env.as_("bob", &["folder", "mount", "tests", "rw"]).code(77);
    assert!(
        refused.stderr.contains("`bob` may not mount-rw"),
        "{}",
        refused.stderr
    );
    env.as_("bob", &["folder", "can", "tests", "fly"]).code(65);
    // A switches B to Read & Write (rule F7)
    env.as_("bob", &["folder", "set-permission", "tests", "bob", "rw"])
        .code(77);
    env.as_("alice", &["folder", "set-permission", "tests", "bob", "rw"])
        .ok();
    env.as_("bob", &["folder", "can", "tests", "write"]).ok();
    env.as_("bob", &["folder", "mount", "tests", "rw"]).ok();
    // Read & Write cannot delete files or rename the folder (rule F3)
    env.as_("bob", &["folder", "can", "tests", "delete-file"])
        .code(77);
    env.as_("bob", &["folder", "rename", "tests", "mine"])
        .code(77);
    let users = env.as_("alice", &["folder", "shared-users", "tests"]).ok();
    assert_eq!(users.stdout, "USER  PERMISSION\nbob   rw\n");
    // reject and cancel
    let carol = env
        .as_(
            "alice",
            &[
                "--json",
                "folder",
                "invite",
                "tests",
                "carol",
                "--permission",
                "rw",
            ],
        )
        .ok()
        .json()["value"]["invited"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.as_("carol", &["invitation", "reject", &carol]).ok();
    env.as_("carol", &["invitation", "cancel", &carol]).code(77);
    env.as_("alice", &["invitation", "cancel", &carol]).code(73);
    let carol = env
        .as_(
            "alice",
            &[
                "--json",
                "folder",
                "invite",
                "tests",
                "carol",
                "--permission",
                "rw",
            ],
        )
        .ok()
        .json()["value"]["invited"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.as_("alice", &["invitation", "cancel", &carol]).ok();
    // B leaves; A shares again and stops sharing; rename and delete
    env.as_("bob", &["folder", "leave", "tests"]).ok();
    env.as_("bob", &["folder", "can", "tests", "read"]).code(72);
    env.as_("bob", &["folder", "leave", "tests"]).code(72);
    let id = env
        .as_(
            "alice",
            &[
                "--json",
                "folder",
                "invite",
                "tests",
                "bob",
                "--permission",
                "ro",
            ],
        )
        .ok()
        .json()["value"]["invited"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.as_("bob", &["invitation", "accept", &id]).ok();
    env.as_("alice", &["folder", "unshare", "tests", "bob"])
        .ok();
    env.as_("bob", &["folder", "can", "tests", "read"]).code(72);
    env.as_("alice", &["folder", "rename", "tests", "results"])
        .ok();
    env.as_("alice", &["folder", "can", "results", "rename"])
        .ok();
    let deleted = env.as_("alice", &["folder", "delete", "results"]).ok();
    assert!(
        deleted.stdout.starts_with("deleted `results`"),
        "{}",
        deleted.stdout
    );
    assert_eq!(
        env.as_("alice", &["folder", "list"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );
}

// rules F8, P2: group folders reach the group's members, no invitation
#[test]
fn groups_and_group_folders() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.acl(&["group", "create", "vision"]).ok();
    env.acl(&["group", "add-member", "vision", "bob"]).ok();
    env.as_("bob", &["group", "add-member", "vision", "alice"])
        .code(77);
    let members = env.acl(&["group", "members", "vision"]).ok();
    assert_eq!(members.stdout, "MEMBER\nbob\n");
    env.as_("alice", &["group", "members", "vision"]).code(77);
    env.acl(&["group", "members", "nothing"]).code(72);
    assert_eq!(env.acl(&["group", "list"]).ok().stdout, "GROUP\nvision\n");
    assert_eq!(
        env.as_("bob", &["group", "list"]).ok().stdout,
        "GROUP\nvision\n"
    );
    assert_eq!(env.as_("alice", &["group", "list"]).ok().stdout, "GROUP\n");
    // only admins create group folders (rule F8)
    env.as_("bob", &["folder", "create", "data", "--group", "vision"])
        .code(77);
    env.acl(&[
        "folder",
        "create",
        "data",
        "--group",
        "vision",
        "--permission",
        "rw",
    ])
    .ok();
    env.acl(&["folder", "create", "other", "--permission", "rw"])
        .code(2);
    let list = env.as_("bob", &["folder", "list"]).ok();
    assert!(
        list.stdout.contains("vision") && list.stdout.contains(" rw "),
        "{}",
        list.stdout
    );
    env.as_("bob", &["folder", "can", "data", "write"]).ok();
    env.as_("bob", &["folder", "leave", "data"]).code(65);
    env.acl(&["group", "remove-member", "vision", "bob"]).ok();
    env.as_("bob", &["folder", "can", "data", "read"]).code(72);
    env.acl(&["group", "remove-member", "vision", "bob"])
        .code(65);
}

// rules P2, P4: roles, membership through `acl grant role://...`
#[test]
fn roles() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.as_("alice", &["role", "add", "alice/roles/ops"]).ok();
    env.as_("bob", &["role", "add", "alice/roles/x"]).code(77);
    env.as_(
        "alice",
        &["grant", "job://prod/alice", "alice/roles/ops", "write"],
    )
    .ok();
    env.as_("alice", &["grant", "role://alice/roles/ops", "bob", "read"])
        .ok();
    let explain = env.acl(&["explain", "bob", "job://prod/alice/train"]).ok();
    assert_eq!(
        explain.stdout,
        "write: grant: `alice/roles/ops` holds write on `job://prod/alice` (membership path: bob -> alice/roles/ops)\n"
    );
    let mine = env.as_("alice", &["role", "list", "alice/"]).ok();
    assert_eq!(
        mine.stdout,
        "NAME             KIND\nalice/roles/ops  role\n"
    );
    assert_eq!(
        env.as_("bob", &["role", "list", "alice/"]).ok().stdout,
        mine.stdout
    );
    assert!(
        env.acl(&["role", "list"])
            .ok()
            .stdout
            .contains("prod/admin")
    );
    let limited = env.acl(&["role", "list", "--limit", "1"]).ok();
    assert_eq!(limited.stdout.lines().count(), 2);
    let cursor = limited.stderr.trim().rsplit(' ').next().unwrap().to_owned();
    let next = env
        .acl(&["role", "list", "--limit", "1", "--cursor", &cursor])
        .ok();
    assert_ne!(next.stdout, limited.stdout);
    // a cycle is a conflict naming it (rule P3)
    env.as_("alice", &["grant", "role://bob", "alice/roles/ops", "read"])
        .code(77);
    let removed = env
        .as_("alice", &["role", "remove", "alice/roles/ops"])
        .ok();
    assert!(
        removed
            .stdout
            .starts_with("removed `alice/roles/ops` with 1 grants it held, 1 grants on it"),
        "{}",
        removed.stdout
    );
    env.acl(&["check", "bob", "job://prod/alice/train", "read"])
        .code(77);
    env.as_("alice", &["role", "remove", "alice/roles/ops"])
        .code(72);
}

// rules A3, A4, E1: deactivation denies every check
#[test]
fn users_state() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.as_("bob", &["user", "deactivate", "alice"]).code(77);
    env.acl(&["user", "deactivate", "alice"]).ok();
    env.acl(&["user", "deactivate", "alice"]).code(65);
    env.acl(&["check", "alice", "storage://prod/alice", "read"])
        .code(77);
    let explain = env.acl(&["explain", "alice", "storage://prod/alice"]).ok();
    assert_eq!(explain.stdout, "deny: inactive user\n");
    assert_eq!(
        env.acl(&["user", "list", "--inactive"]).ok().stdout,
        "USERNAME  EMAIL              FULL NAME  ROLE  STATUS\nalice     alice@example.com             user  inactive\n"
    );
    let filtered = env.acl(&["user", "list", "--filter", "BOB@"]).ok();
    assert_eq!(filtered.stdout.lines().count(), 2, "{}", filtered.stdout);
    assert!(filtered.stdout.contains("bob@example.com"));
    env.as_("bob", &["user", "list"]).code(77);
    env.acl(&["user", "activate", "alice"]).ok();
    env.acl(&["check", "alice", "storage://prod/alice", "read"])
        .ok();
    let show = env
        .as_("bob", &["--json", "user", "show", "bob"])
        .ok()
        .json();
    assert_eq!(show["status"], "active");
    env.as_("bob", &["user", "show", "alice"]).code(77);
    env.acl(&["user", "show", "nobody"]).code(72);
}

// rules E4, V3: fences
#[test]
fn fences() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.acl(&["group", "create", "vision"]).ok();
    env.acl(&["group", "add-member", "vision", "alice"]).ok();
    env.acl(&["grant", "storage://prod/vision", "alice", "write"])
        .ok();
    env.acl(&["grant", "storage://prod/vision", "bob", "write"])
        .ok();
    env.as_(
        "alice",
        &["fence", "add", "storage://prod/vision", "vision"],
    )
    .code(77);
    env.acl(&["fence", "add", "storage://prod/vision", "vision"])
        .ok();
    env.acl(&["check", "alice", "storage://prod/vision/x", "write"])
        .ok();
    let explain = env.acl(&["explain", "bob", "storage://prod/vision/x"]).ok();
    assert_eq!(
        explain.stdout,
        "deny: fence: `storage://prod/vision` is fenced to members of group `vision`\n"
    );
    assert_eq!(
        env.acl(&["fence", "list"]).ok().stdout,
        "URI                    GROUP\nstorage://prod/vision  vision\n"
    );
    assert_eq!(
        env.as_("alice", &["fence", "list"]).ok().stdout,
        "URI  GROUP\n"
    );
    env.acl(&["fence", "remove", "storage://prod/vision", "vision"])
        .ok();
    env.acl(&["fence", "remove", "storage://prod/vision", "vision"])
        .code(65);
    env.acl(&["check", "bob", "storage://prod/vision/x", "write"])
        .ok();
}

// rules V1, V2: VMs shared within a team
#[test]
fn vms() {
    let env = Env::new();
    env.users(&["alice", "bob", "carol"]);
    env.acl(&["group", "create", "team"]).ok();
    env.acl(&["group", "add-member", "team", "alice"]).ok();
    env.acl(&["group", "add-member", "team", "bob"]).ok();
    env.as_("carol", &["vm", "create", "box", "--team", "team"])
        .code(77);
    env.as_("alice", &["vm", "create", "box", "--team", "team"])
        .ok();
    env.as_("alice", &["vm", "share", "box", "bob", "--mode", "use"])
        .ok();
    env.as_("alice", &["vm", "share", "box", "carol", "--mode", "use"])
        .code(77);
    env.as_("alice", &["vm", "share", "box", "bob", "--mode", "own"])
        .code(65);
    env.as_("bob", &["vm", "can", "box", "launch"]).ok();
    env.as_("bob", &["vm", "can", "box", "access-drives"])
        .code(77);
    let members = env.as_("bob", &["vm", "members", "box"]).ok();
    assert_eq!(
        members.stdout,
        "PRINCIPAL  ROLE\nalice      manager\nbob        user\n"
    );
    env.as_("carol", &["vm", "members", "box"]).code(72);
    let json = env
        .as_("alice", &["--json", "vm", "members", "box"])
        .ok()
        .json();
    let id = json["vm"]["id"].as_str().unwrap().to_owned();
    env.acl(&["vm", "can", &id, "share"]).ok();
    env.as_("bob", &["vm", "share", "box", "alice", "--mode", "co-own"])
        .code(77);
    env.as_("alice", &["vm", "share", "box", "bob", "--mode", "co-own"])
        .ok();
    env.as_("bob", &["vm", "can", "box", "access-drives"]).ok();
}

// rule M3: the changelog
#[test]
fn log() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.as_("alice", &["grant", "storage:data", "bob", "read"])
        .ok();
    let all = env.acl(&["log"]).ok();
    assert!(all.stdout.lines().next().unwrap().starts_with("REV  AT"));
    let last = all.stdout.lines().last().unwrap();
    let fields: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(
        fields[2..],
        ["alice", "grant", "storage://prod/alice/data", "bob", "read"],
        "{last}"
    );
    let since = env.acl(&["--json", "log", "--since", "3"]).ok().json();
    assert_eq!(since["items"][0]["revision"], 4);
    let mine = env.acl(&["log", "--actor", "alice"]).ok();
    assert_eq!(mine.stdout.lines().count(), 2);
    // the engine's audit query needs read on user:// (rule A4)
    env.as_("alice", &["log"]).code(77);
    env.as_("alice", &["log", "--actor", "alice"]).code(77);
    let page = env.acl(&["log", "--limit", "2"]).ok();
    assert_eq!(page.stderr, "more results: pass --cursor 2\n");
    let next = env
        .acl(&["--json", "log", "--limit", "2", "--cursor", "2"])
        .ok()
        .json();
    assert_eq!(next["items"][0]["revision"], 3);
}

// Bulk loading: JSON lines through grant_many, one transaction by default
#[test]
fn import() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    let file = env.dir.path().join("grants.jsonl");
    let mut lines = String::new();
    for i in 0..500 {
        lines.push_str(&format!(
            "{{\"uri\": \"storage://prod/admin/d{i}\", \"principal\": \"bob\", \"level\": \"read\"}}\n"
        ));
    }
    lines.push_str(
        "\n{\"uri\": \"storage:short\", \"principal\": \"alice\", \"level\": \"write\"}\n",
    );
    std::fs::write(&file, &lines).unwrap();
    let run = env.acl(&["import", "grants.jsonl"]).ok();
    assert_eq!(
        run.stdout,
        "imported 501 grants: 501 created, 0 raised, 0 kept (revision 4)\n"
    );
    env.acl(&["check", "bob", "storage://prod/admin/d499/x", "read"])
        .ok();
    env.acl(&["check", "alice", "storage://prod/admin/short", "write"])
        .ok();
    // batches: one revision each
    let run = env
        .acl(&["--json", "import", "grants.jsonl", "--batch", "200"])
        .ok()
        .json();
    assert_eq!(run["kept"], 501);
    // a bad line names its number and nothing is written
    let before = env.dump();
    std::fs::write(&file, "{\"uri\": \"storage://prod/admin/z\", \"principal\": \"bob\", \"level\": \"read\"}\n{\"uri\": \"storage://prod/a/../b\", \"principal\": \"bob\", \"level\": \"read\"}\n").unwrap();
    let bad = env.acl(&["import", "grants.jsonl"]).code(65);
    assert!(
        bad.stderr.starts_with("error: line 2: invalid uri"),
        "{}",
        bad.stderr
    );
    std::fs::write(
        &file,
        "{\"uri\": \"storage://prod/admin/z\", \"principal\": \"nobody\", \"level\": \"read\"}\n",
    )
    .unwrap();
    env.acl(&["import", "grants.jsonl"]).code(72);
    env.as_("bob", &["import", "grants.jsonl"]).code(77);
    std::fs::write(&file, "").unwrap();
    env.acl(&["import", "grants.jsonl"]).code(65);
    assert_eq!(env.dump(), before);
}

// Two `acl` processes writing one database at once lose nothing (WAL, busy timeout)
#[test]
fn concurrent_processes_lose_nothing() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    let start = env.acl(&["--json", "log"]).ok().json()["items"]
        .as_array()
        .unwrap()
        .len();
    const EACH: usize = 15;
    let db = env.db.clone();
    let writers: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|user| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let out = std::process::Command::new(common::bin())
                        .arg("--db")
                        .arg(&db)
                        .args([
                            "--as",
                            user,
                            "grant",
                            &format!("storage:d{i}"),
                            "admin",
                            "read",
                        ])
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let log = env.acl(&["--json", "log"]).ok().json();
    assert_eq!(log["items"].as_array().unwrap().len(), start + 2 * EACH);
    for user in ["alice", "bob"] {
        let list = env
            .acl(&["--json", "list", &format!("storage://prod/{user}")])
            .ok()
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), EACH, "{user}");
    }
}

// rules A1 to A5: accounts, login by email or username, keypairs
#[test]
fn accounts_login_keypairs() {
    let env = Env::empty();
    env.acl(&[
        "init",
        "--cluster",
        "prod",
        "--admin",
        "root",
        "--admin-email",
        "root@example.com",
        "--admin-password",
        "Root-pass-1!",
    ])
    .ok();
    env.acl(&["login", "root@example.com", "--password", "Root-pass-1!"])
        .ok();
    // a weak password names every failing rule (rule A2)
    let weak = env
        .acl(&[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--username",
            "alice",
            "--password",
            "short",
        ])
        .code(65);
    assert!(weak.stderr.contains("password"), "{}", weak.stderr);
    env.acl(&[
        "user",
        "create",
        "--email",
        "a@example.com",
        "--username",
        "alice",
        "--password",
        "Alice-pass-1!",
        "--full-name",
        "Alice A",
        "--need-password-change",
    ])
    .ok();
    // uniqueness is case-insensitive (rule A1)
    env.acl(&[
        "user",
        "create",
        "--email",
        "A@example.com",
        "--username",
        "other",
        "--password",
        "Alice-pass-1!",
    ])
    .code(73);
    env.as_(
        "alice",
        &[
            "user",
            "create",
            "--email",
            "b@example.com",
            "--username",
            "bob",
            "--password",
            "Bob-pass-1!",
        ],
    )
    .code(77);
    // USER accepts an email or a username
    let shown = env
        .acl(&["--json", "user", "show", "a@example.com"])
        .ok()
        .json();
    assert_eq!(shown["username"], "alice");
    assert_eq!(shown["need_password_change"], true);
    assert!(shown.get("password").is_none());
    env.acl(&[
        "user",
        "update",
        "alice",
        "--full-name",
        "Alice B",
        "--need-password-change",
        "false",
    ])
    .ok();
    let text = env.as_("alice", &["user", "show", "alice"]).ok().stdout;
    assert!(text.contains("full name             Alice B"), "{text}");
    // rule A1 (settled): the username is the principal name and never changes
    let before = env.dump();
    let refused = env
        .acl(&["user", "update", "alice", "--username", "alicia"])
        .code(65);
    assert!(
        refused.stderr.contains("cannot change"),
        "{}",
        refused.stderr
    );
    assert_eq!(env.dump(), before);
    env.acl(&["user", "update", "alice", "--password", "New-pass-2!"])
        .ok();
    env.acl(&["login", "alice", "--password", "Alice-pass-1!"])
        .code(77);
    let login = env
        .acl(&["login", "A@EXAMPLE.COM", "--password", "New-pass-2!"])
        .ok();
    assert_eq!(login.stdout, "logged in as `alice` (user)\n");
    // keypairs: the secret is shown once
    let created = env
        .acl(&["--json", "keypair", "create", "alice"])
        .ok()
        .json();
    let key = created["access_key"].as_str().unwrap().to_owned();
    assert!(!created["secret"].as_str().unwrap().is_empty());
    let listed = env.as_("alice", &["keypair", "list"]).ok();
    assert!(
        listed.stdout.contains(&key) && listed.stdout.contains("active"),
        "{}",
        listed.stdout
    );
    assert!(!listed.stdout.contains(created["secret"].as_str().unwrap()));
    env.acl(&["keypair", "deactivate", &key]).ok();
    assert!(
        env.acl(&["keypair", "list", "alice"])
            .ok()
            .stdout
            .contains("inactive")
    );
    env.acl(&["keypair", "activate", &key]).ok();
    // deactivating the user deactivates its keypairs and denies login (rule A3)
    env.acl(&["user", "deactivate", "a@example.com"]).ok();
    env.acl(&["login", "alice", "--password", "New-pass-2!"])
        .code(77);
    env.acl(&["user", "activate", "alice"]).ok();
    assert!(
        env.acl(&["keypair", "list", "alice"])
            .ok()
            .stdout
            .contains("inactive")
    );
    env.acl(&["keypair", "activate", "AKNOSUCHKEY"]).code(72);
}

// rules A6, A7: resource policies, admission of sessions, CSV exports
#[test]
fn policies_sessions_export() {
    let env = Env::new();
    env.users(&["alice", "bob"]);
    env.acl(&[
        "policy",
        "create",
        "small",
        "--cpu",
        "4",
        "--ram",
        "8",
        "--fgpu",
        "0.5",
        "--allowed-hosts",
        "local,nfs",
    ])
    .ok();
    env.acl(&["policy", "create", "small"]).code(73);
    env.acl(&["policy", "create", "huge", "--cpu", "100000"])
        .code(65);
    env.acl(&["policy", "create", "bad", "--cpu", "lots"])
        .code(65);
    env.as_("alice", &["policy", "create", "mine"]).code(77);
    let list = env.acl(&["policy", "list"]).ok();
    assert!(
        list.stdout.contains("small")
            && list.stdout.contains("0.50")
            && list.stdout.contains("local,nfs"),
        "{}",
        list.stdout
    );
    env.acl(&["user", "update", "alice", "--policy", "small"])
        .ok();
    let started = env
        .as_(
            "alice",
            &[
                "--json", "session", "start", "alice", "--cpu", "3", "--ram", "4",
            ],
        )
        .ok()
        .json();
    let id = started["value"]["id"].as_str().unwrap().to_owned();
    // admission names the resource, limit, usage and request (rule A6)
    let refused = env
        .as_(
            "alice",
            &["session", "start", "alice", "--cpu", "2", "--ram", "1"],
        )
        .code(77);
    assert!(
        refused
            .stderr
            .contains("refused: limit 4, in use 3, requested 2"),
        "{}",
        refused.stderr
    );
    // an admin starts a session on alice's behalf (Backend.AI's owner access key): it is
    // admitted or refused against alice's policy and usage (rules A4, A6)
    let on_behalf = env
        .acl(&["session", "start", "alice", "--cpu", "3", "--ram", "1"])
        .code(77);
    assert!(
        on_behalf.stderr.contains("cpu")
            && on_behalf
                .stderr
                .contains("refused: limit 4, in use 3, requested 3"),
        "{}",
        on_behalf.stderr
    );
    // a non-admin still starts only its own sessions (rule A4)
    let not_admin = env
        .as_(
            "bob",
            &["session", "start", "alice", "--cpu", "1", "--ram", "1"],
        )
        .code(77);
    assert!(
        not_admin.stderr.contains("user://alice"),
        "{}",
        not_admin.stderr
    );
    let admitted = env
        .acl(&[
            "--json", "session", "start", "alice", "--cpu", "1", "--ram", "1",
        ])
        .ok()
        .json();
    assert_eq!(admitted["value"]["user"], "alice");
    let behalf_id = admitted["value"]["id"].as_str().unwrap().to_owned();
    env.as_("alice", &["session", "stop", &behalf_id]).ok();
    assert!(
        env.as_("alice", &["session", "list"])
            .ok()
            .stdout
            .contains("running")
    );
    let usage = env
        .acl(&["--json", "session", "recalculate", "alice"])
        .ok()
        .json();
    assert_eq!(usage["policy"]["name"], "small");
    env.acl(&["policy", "update", "small", "--cpu", "16"]).ok();
    env.as_(
        "alice",
        &["session", "start", "alice", "--cpu", "2", "--ram", "1"],
    )
    .ok();
    env.as_("alice", &["session", "stop", &id]).ok();
    // a policy in use cannot be deleted; the error names its users
    let used = env.acl(&["policy", "delete", "small"]).code(73);
    assert!(used.stderr.contains("alice"), "{}", used.stderr);
    env.acl(&["policy", "delete", "nothing"]).code(72);
    for what in ["users", "keypairs", "policies", "sessions"] {
        let out = env.dir.path().join(format!("{what}.csv"));
        env.acl(&["export", what, "--output", out.to_str().unwrap()])
            .ok();
        assert!(std::fs::read_to_string(&out).unwrap().lines().count() >= 1);
    }
    env.as_("alice", &["export", "users", "--output", "u.csv"])
        .code(77);
    assert!(!env.dir.path().join("u.csv").exists());
    let long = format!("{}.csv", "x".repeat(260));
    env.acl(&["export", "users", "--output", &long]).code(65);
}

// The README's quickstart: the demo runs the seed scenario end to end
#[test]
fn demo() {
    let env = Env::empty();
    let run = env.acl(&["demo"]).ok();
    for expected in [
        "$ acl --as alice folder invite tests bob@example.com --permission ro",
        "$ acl --as bob folder can tests write\n  denied\n  (exit 77)",
        "$ acl --as alice grant role://alice/roles/reviewers bob read",
        "membership path: bob -> alice/roles/reviewers",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{}", run.stdout);
    }
    // it ran on --db, which now holds the scenario
    env.as_("bob", &["folder", "can", "tests", "write"]).ok();
    // a second demo on the same database refuses at its first step
    let again = env.acl(&["demo"]).code(73);
    assert!(
        again.stderr.starts_with("error: demo step `acl init"),
        "{}",
        again.stderr
    );
}

/// A master key for the tests of DESIGN rules A5 and B1 (64 hexadecimal digits).
const MASTER_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// `acl --db DB args...` with `$ACL_MASTER_KEY` set to `key`: the exit code, stdout and
/// stderr.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failure is the test failing"
)]
fn with_master_key(env: &Env, key: &str, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(common::bin())
        .arg("--db")
        .arg(&env.db)
        .args(args)
        .env("ACL_MASTER_KEY", key)
        .env_remove("ACL_DB")
        .env_remove("ACL_AS")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `sealed` column of keypair `access_key`, read from the SQLite file.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failure is the test failing"
)]
fn sealed_column(env: &Env, access_key: &str) -> Option<String> {
    let conn =
        rusqlite::Connection::open_with_flags(&env.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT sealed FROM keypairs WHERE access_key = ?1",
        [access_key],
        |row| row.get(0),
    )
    .unwrap()
}

/// Whether `needle` occurs in `haystack`.
fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

// DESIGN rules A5 and B1: with ACL_MASTER_KEY, a keypair's secret is shown once and kept
// only sealed: its bytes are nowhere in the database files (the file, its WAL and shared
// memory) nor in the keypairs export
#[test]
fn master_key_seals_keypair_secrets() {
    let env = Env::new();
    env.users(&["alice"]);
    let (code, stdout, stderr) =
        with_master_key(&env, MASTER_KEY, &["--json", "keypair", "create", "alice"]);
    assert_eq!(code, 0, "{stderr}");
    let created: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let access_key = created["access_key"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 16, "{secret}");
    assert!(!stdout.contains(MASTER_KEY) && !stderr.contains(MASTER_KEY));
    let sealed = sealed_column(&env, &access_key).unwrap();
    assert!(sealed.starts_with("xc20p1:"), "{sealed}");
    let mut files = 0;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = env.db.clone().into_os_string();
        path.push(suffix);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        files += 1;
        assert!(
            !contains_bytes(&bytes, secret.as_bytes()),
            "the secret is in plaintext in {path:?}"
        );
        assert!(!contains_bytes(&bytes, MASTER_KEY.as_bytes()), "{path:?}");
    }
    assert!(files >= 1, "no database file read");
    // the export (rule A7) holds neither the secret nor its sealed form
    let csv = env.dir.path().join("keypairs.csv");
    let (code, _, stderr) = with_master_key(
        &env,
        MASTER_KEY,
        &["export", "keypairs", "--output", csv.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.contains(&access_key), "{exported}");
    assert!(
        !exported.contains(&secret) && !exported.contains(&sealed),
        "{exported}"
    );
    // the dump, which holds every row, holds the sealed form only
    let dump = env.dir.path().join("backup.jsonl");
    env.acl(&["dump", dump.to_str().unwrap()]).ok();
    let dumped = std::fs::read_to_string(&dump).unwrap();
    assert!(!dumped.contains(&secret), "the secret is in the dump");
    // without a master key a keypair is created as before, its secret only hashed
    let plain = env
        .acl(&["--json", "keypair", "create", "alice"])
        .ok()
        .json();
    let plain_key = plain["access_key"].as_str().unwrap();
    assert!(!plain["secret"].as_str().unwrap().is_empty());
    assert_eq!(sealed_column(&env, plain_key), None);
}

// DESIGN rule B1: a bad master key is refused (exit 65) naming where it came from and
// never echoing it; given both ways, it is refused too
#[test]
fn bad_master_keys_are_refused() {
    let env = Env::new();
    env.users(&["alice"]);
    let before = env.dump();
    let bad = "0123456789";
    for args in [
        &["keypair", "create", "alice"][..],
        &["user", "list"][..],
        &["--json", "keypair", "create", "alice"][..],
    ] {
        let (code, stdout, stderr) = with_master_key(&env, bad, args);
        assert_eq!(code, 65, "{args:?}: {stderr}");
        assert!(stderr.contains("ACL_MASTER_KEY"), "{stderr}");
        assert!(
            !stderr.contains(bad) && !stdout.contains(bad),
            "{stdout}{stderr}"
        );
    }
    let json = with_master_key(&env, bad, &["--json", "user", "list"]).2;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["error"]["kind"], "invalid_input", "{json}");
    // a key file that does not hold a key, or is missing, is named by its path
    let file = env.dir.path().join("master.key");
    std::fs::write(&file, format!("{bad}\n")).unwrap();
    let file_arg = file.to_str().unwrap();
    let refused = env
        .acl(&["--master-key-file", file_arg, "keypair", "create", "alice"])
        .code(65);
    assert!(
        refused.stderr.contains("--master-key-file") && refused.stderr.contains(file_arg),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(bad), "{}", refused.stderr);
    let missing = env.dir.path().join("missing.key");
    let missing_arg = missing.to_str().unwrap();
    let refused = env
        .acl(&["--master-key-file", missing_arg, "user", "list"])
        .code(1);
    assert!(refused.stderr.contains(missing_arg), "{}", refused.stderr);
    // both ways at once: refused, whatever the two hold
    std::fs::write(&file, MASTER_KEY).unwrap();
    let (code, _, stderr) = with_master_key(
        &env,
        MASTER_KEY,
        &["--master-key-file", file_arg, "keypair", "create", "alice"],
    );
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("give the master key once: "), "{stderr}");
    assert!(!stderr.contains(MASTER_KEY), "{stderr}");
    // a refused command changed nothing
    assert_eq!(env.dump(), before);
}

// DESIGN rules A5 and B1: `--master-key-file` seals like ACL_MASTER_KEY (the file's
// surrounding whitespace ignored), wherever on the command line it is given
#[test]
fn master_key_file_seals_like_the_variable() {
    let env = Env::new();
    env.users(&["alice"]);
    let file = env.dir.path().join("master.key");
    std::fs::write(&file, format!("\n  {MASTER_KEY}\n")).unwrap();
    let file_arg = file.to_str().unwrap();
    for args in [
        &[
            "--master-key-file",
            file_arg,
            "--json",
            "keypair",
            "create",
            "alice",
        ][..],
        &[
            "--json",
            "keypair",
            "create",
            "alice",
            "--master-key-file",
            file_arg,
        ][..],
    ] {
        let created = env.acl(args).ok();
        assert!(!created.stdout.contains(MASTER_KEY), "{}", created.stdout);
        let created = created.json();
        let access_key = created["access_key"].as_str().unwrap();
        let secret = created["secret"].as_str().unwrap();
        let sealed = sealed_column(&env, access_key).unwrap();
        assert!(sealed.starts_with("xc20p1:"), "{sealed}");
        assert!(!sealed.contains(secret), "{sealed}");
    }
    // the help names both ways to give the key
    let help = env.acl(&["--help"]).ok().stdout;
    assert!(
        help.contains("--master-key-file") && help.contains("ACL_MASTER_KEY"),
        "{help}"
    );
}
