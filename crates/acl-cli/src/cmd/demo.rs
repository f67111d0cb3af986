//! `acl demo`: the seed scenario (Backend.AI folder sharing, seeds 000 and 001), run as
//! real `acl` command lines on a fresh database, each printed with its result. It is the
//! README's quickstart: a newcomer sees the whole system work in one minute.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::{Value, json};

use crate::cli::Cli;
use crate::error::{CliError, EXIT_DENIED, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Result};
use crate::output::{Output, Verdict};

/// One step: who acts, the command line after `acl`, the exit code it must end with, and
/// what it teaches.
struct Step {
    note: &'static str,
    acting: Option<&'static str>,
    args: Vec<String>,
    expect: u8,
}

fn step(note: &'static str, acting: Option<&'static str>, args: &[&str], expect: u8) -> Step {
    Step {
        note,
        acting,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        expect,
    }
}

/// Runs the demo on `--db` (or `$ACL_DB`), which must not be initialized yet, or else on a
/// new file in a new temporary directory, kept so the reader can explore it afterwards.
pub fn run(cli: &Cli) -> Result<Output> {
    let path = match &cli.db {
        Some(path) => path.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("acl-demo-")
                .tempdir()
                .map_err(|source| CliError::Io {
                    action: "create a temporary directory for",
                    path: std::env::temp_dir(),
                    source,
                })?
                .keep();
            dir.join("acl.db")
        }
    };
    let shown = crate::cli::shown_db(&path);
    let mut text = format!("database: {shown}\n");
    let mut steps = Vec::new();
    let mut invitation = String::new();
    for (number, mut step) in scenario().into_iter().enumerate() {
        for arg in &mut step.args {
            if arg == "{invitation}" {
                arg.clone_from(&invitation);
            }
        }
        let shown = shown_command(&step);
        let (code, out, json_out) = run_step(&path, &step)?;
        if code != step.expect {
            return Err(CliError::Demo {
                command: shown,
                // A step that succeeded where it should not have is not a success.
                code: if code == EXIT_OK { EXIT_FAILURE } else { code },
                message: format!(
                    "it exited with {code}, not {}: {}",
                    step.expect,
                    out.trim_end()
                ),
            });
        }
        if let Some(id) = json_out
            .pointer("/value/invited/0/id")
            .and_then(Value::as_str)
        {
            id.clone_into(&mut invitation);
        }
        text.push_str(&format!("\n{}. {}\n$ {shown}\n", number + 1, step.note));
        for line in out.lines() {
            text.push_str(&format!("  {line}\n"));
        }
        if code != EXIT_OK {
            text.push_str(&format!("  (exit {code})\n"));
        }
        steps.push(json!({ "command": shown, "exit": code, "output": json_out }));
    }
    text.push_str(&format!(
        "\nexplore it: acl --db {} --as bob folder list\n",
        shell_word(&shown)
    ));
    Ok(Output::new(text, json!({ "db": shown, "steps": steps })))
}

/// `word` quoted for a shell when it needs it (a URL's `?` and `&`).
fn shell_word(word: &str) -> String {
    if word.contains(|c: char| c.is_whitespace() || "!$&*;|'\"?#".contains(c)) {
        format!("'{word}'")
    } else {
        word.to_owned()
    }
}

/// `acl [--as USER] ARGS...` as a reader would type it.
fn shown_command(step: &Step) -> String {
    let mut words = vec!["acl".to_owned()];
    if let Some(user) = step.acting {
        words.push("--as".into());
        words.push(user.into());
    }
    for arg in &step.args {
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "!$&*;|'\"".contains(c)) {
            words.push(format!("'{arg}'"));
        } else {
            words.push(arg.clone());
        }
    }
    words.join(" ")
}

/// Runs one step in this process, exactly as the binary would: parse, run, and the exit
/// code, the text printed (stdout or the error line) and the JSON form.
fn run_step(path: &Path, step: &Step) -> Result<(u8, String, Value)> {
    let mut argv: Vec<String> = vec!["acl".into(), "--db".into(), path_text(path)];
    if let Some(user) = step.acting {
        argv.push("--as".into());
        argv.push(user.into());
    }
    argv.extend(step.args.iter().cloned());
    let cli = Cli::try_parse_from(&argv).map_err(|err| CliError::Demo {
        command: shown_command(step),
        code: EXIT_USAGE,
        message: err.to_string().trim().to_owned(),
    })?;
    Ok(match crate::run(&cli) {
        Ok(output) => {
            let code = match output.verdict {
                Verdict::Ok => EXIT_OK,
                Verdict::Denied => EXIT_DENIED,
                Verdict::Failed(code) => code,
            };
            (code, output.text, output.json)
        }
        Err(err) => (
            err.exit_code(),
            format!("error: {err}\n"),
            json!({ "error": { "kind": err.kind_name(), "message": err.to_string() } }),
        ),
    })
}

fn path_text(path: &Path) -> String {
    PathBuf::from(path).display().to_string()
}

/// The scenario of seeds 000 and 001, then a group folder (seed 002) and a custom role.
fn scenario() -> Vec<Step> {
    let admin = None;
    let (a, b) = (Some("alice"), Some("bob"));
    vec![
        step(
            "create the database: cluster `demo`, its roles and the superadmin",
            admin,
            &[
                "init",
                "--cluster",
                "demo",
                "--admin",
                "admin",
                "--admin-email",
                "admin@example.com",
                "--admin-password",
                "Admin-pass-1!",
            ],
            EXIT_OK,
        ),
        step(
            "the admin creates user A",
            admin,
            &[
                "user",
                "create",
                "--email",
                "alice@example.com",
                "--username",
                "alice",
                "--password",
                "Alice-pass-1!",
                "--full-name",
                "Alice A",
            ],
            EXIT_OK,
        ),
        step(
            "and user B",
            admin,
            &[
                "user",
                "create",
                "--email",
                "bob@example.com",
                "--username",
                "bob",
                "--password",
                "Bob-pass-1!",
                "--full-name",
                "Bob B",
            ],
            EXIT_OK,
        ),
        step(
            "A creates the folder `tests`",
            a,
            &["folder", "create", "tests"],
            EXIT_OK,
        ),
        step("B does not see it", b, &["folder", "list"], EXIT_OK),
        step(
            "A invites B by email, read only",
            a,
            &[
                "folder",
                "invite",
                "tests",
                "bob@example.com",
                "--permission",
                "ro",
            ],
            EXIT_OK,
        ),
        step(
            "B has a pending invitation",
            b,
            &["invitation", "list"],
            EXIT_OK,
        ),
        step(
            "B accepts it",
            b,
            &["invitation", "accept", "{invitation}"],
            EXIT_OK,
        ),
        step(
            "B now sees `tests`, read only",
            b,
            &["folder", "list"],
            EXIT_OK,
        ),
        step(
            "B may read it",
            b,
            &["folder", "can", "tests", "read"],
            EXIT_OK,
        ),
        step(
            "but not write (exit 77)",
            b,
            &["folder", "can", "tests", "write"],
            EXIT_DENIED,
        ),
        step(
            "so a read-write mount is refused",
            b,
            &["folder", "mount", "tests", "rw"],
            EXIT_DENIED,
        ),
        step(
            "A switches B to Read & Write",
            a,
            &["folder", "set-permission", "tests", "bob", "rw"],
            EXIT_OK,
        ),
        step(
            "B may write now",
            b,
            &["folder", "can", "tests", "write"],
            EXIT_OK,
        ),
        step(
            "but renaming stays the owner's",
            b,
            &["folder", "can", "tests", "rename"],
            EXIT_DENIED,
        ),
        step(
            "A sees whom `tests` is shared with",
            a,
            &["folder", "shared-users", "tests"],
            EXIT_OK,
        ),
        step(
            "the admin creates a group",
            admin,
            &["group", "create", "vision"],
            EXIT_OK,
        ),
        step(
            "and adds B to it",
            admin,
            &["group", "add-member", "vision", "bob"],
            EXIT_OK,
        ),
        step(
            "a group folder: every member gets it, no invitation",
            admin,
            &[
                "folder",
                "create",
                "datasets",
                "--group",
                "vision",
                "--permission",
                "ro",
            ],
            EXIT_OK,
        ),
        step("B sees both folders", b, &["folder", "list"], EXIT_OK),
        step(
            "A makes a custom role",
            a,
            &["role", "add", "alice/roles/reviewers"],
            EXIT_OK,
        ),
        step(
            "gives it read on her papers (a short URI: storage:papers)",
            a,
            &["grant", "storage:papers", "alice/roles/reviewers", "read"],
            EXIT_OK,
        ),
        step(
            "and grants the role to B: read on role://R is membership",
            a,
            &["grant", "role://alice/roles/reviewers", "bob", "read"],
            EXIT_OK,
        ),
        step(
            "why B may read a paper: the grant, its holder, the membership path",
            admin,
            &["explain", "bob", "storage://demo/alice/papers/draft.pdf"],
            EXIT_OK,
        ),
        step(
            "who may read A's papers",
            a,
            &["who", "storage://demo/alice/papers"],
            EXIT_OK,
        ),
        step(
            "B may not grant on A's papers (exit 77)",
            b,
            &["grant", "storage://demo/alice/papers", "bob", "write"],
            EXIT_DENIED,
        ),
        step(
            "the audit trail of A's changes",
            admin,
            &["log", "--actor", "alice"],
            EXIT_OK,
        ),
    ]
}
