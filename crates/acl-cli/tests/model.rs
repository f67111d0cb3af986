//! End-to-end tests of model files (issue 22): `acl test`, `acl validate`, `acl import
//! --model`, `acl export --model`, the examples of docs/examples and the JSON Schema of
//! docs/model.schema.json. Rules cited are those of docs/semantics.md.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use acl_core::Schema;
use acl_platform::model;
use common::{Env, Run};
use serde_json::Value;

/// The repository's docs/ directory.
fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// Every example model file, sorted.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(docs().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    files
}

fn acl(args: &[&str]) -> Run {
    Run::from_command(args)
}

/// Writes `text` as `name` in `env`'s directory and returns its path.
fn file(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

// `acl test docs/examples/*.yaml` passes: every example's assertions hold on the engine
#[test]
fn the_examples_pass() {
    let files = examples();
    let mut args = vec!["test"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let run = acl(&args).ok();
    assert!(
        run.stdout.contains("3 files") && run.stdout.contains(" 0 failed\n"),
        "{}",
        run.stdout
    );
    args.insert(0, "--json");
    let json = acl(&args).ok().json();
    assert_eq!(json["passed"], true);
    assert_eq!(json["failed"], 0);
    assert!(json["assertions"].as_u64().unwrap() >= 30, "{json}");
    for file in json["files"].as_array().unwrap() {
        assert_eq!(file["passed"], true, "{file}");
        assert!(!file["assertions"].as_array().unwrap().is_empty(), "{file}");
    }
    // and each is valid
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let run = acl(&args).ok();
    assert_eq!(run.stdout.matches(": ok\n").count(), 3, "{}", run.stdout);
}

const WRONG: &str = "\
cluster: c
users: [alice, bob]
grants:
  - {principal: bob, uri: \"storage://c/alice/data\", level: read}
assertions:
  - allowed: {principal: bob, uri: \"storage://c/alice/data\", level: read}
  - allowed: {principal: bob, uri: \"storage://c/alice/data/x\", level: write}
  - who: {uri: \"storage://c/alice/data\", users: [bob]}
  - reason: {principal: bob, uri: \"storage://c/alice/data\", kind: grant, holder: alice}
";

// a deliberately wrong assertion fails, naming the file, the assertion's line, what was
// expected and the actual decision's explanation (rule E6); exit 1
#[test]
fn a_wrong_assertion_fails_with_a_clear_message() {
    let env = Env::empty();
    let path = file(&env, "wrong.yaml", WRONG);
    let run = acl(&["test", &path]).code(1);
    let out = &run.stdout;
    assert!(
        out.contains(&format!("FAIL {path}: 4 assertions, 3 failed")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{path}:7: allowed: `bob` write on `storage://c/alice/data/x`"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "expected allowed, but `bob` is denied write on `storage://c/alice/data/x`: its effective level is read"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "actual: `bob` on `storage://c/alice/data/x` is read: grant: `bob` holds read on `storage://c/alice/data` (membership path: bob)"
        ),
        "{out}"
    );
    // who: the engine's answer includes the owner and the admin (rule E6, reverse lookup)
    assert!(
        out.contains("missing none; unexpected `admin`, `alice`"),
        "{out}"
    );
    // reason: the deciding holder is bob, not alice
    assert!(
        out.contains("expected reason grant by `alice`, but the decision on `storage://c/alice/data` is grant by `bob`"),
        "{out}"
    );
    assert!(
        out.contains("1 files, 4 assertions: 1 passed, 3 failed"),
        "{out}"
    );
}

// `--json` output parses, with each assertion's line, result and actual decision
#[test]
fn test_json_output() {
    let env = Env::empty();
    let path = file(&env, "wrong.yaml", WRONG);
    let json = acl(&["--json", "test", &path]).code(1).json();
    assert_eq!(json["passed"], false);
    assert_eq!(json["assertions"], 4);
    assert_eq!(json["failed"], 3);
    let assertions = json["files"][0]["assertions"].as_array().unwrap();
    let lines: Vec<u64> = assertions
        .iter()
        .map(|a| a["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [6, 7, 8, 9]);
    assert_eq!(assertions[0]["passed"], true);
    assert_eq!(assertions[1]["passed"], false);
    let decision = &assertions[1]["decisions"][0];
    assert_eq!(decision["level"], "read");
    assert_eq!(decision["reason"]["kind"], "grant");
    assert_eq!(decision["reason"]["grant"]["holder"], "bob");
}

// `--junit FILE` writes a JUnit report CI systems read: one testcase per assertion, a
// failure element for each failed one, and a failed `load` case for a file that did not load
#[test]
fn junit_report() {
    let env = Env::empty();
    let wrong = file(&env, "wrong.yaml", WRONG);
    let broken = file(
        &env,
        "broken.yaml",
        "cluster: c\nusers: [alice]\nroles: [alice]\n",
    );
    let report = env.dir.path().join("report.xml");
    let examples = examples();
    let mut args = vec!["test", "--junit", report.to_str().unwrap(), &wrong, &broken];
    args.extend(examples.iter().map(|f| f.to_str().unwrap()));
    acl(&args).code(1);
    let text = std::fs::read_to_string(&report).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 5);
    fn cases<'a, 'i>(suite: &roxmltree::Node<'a, 'i>) -> Vec<roxmltree::Node<'a, 'i>> {
        suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect()
    }
    fn failures(suite: &roxmltree::Node<'_, '_>) -> usize {
        cases(suite)
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count()
    }
    // the wrong file: 4 cases, 3 failures, the counts in the attributes agree
    assert_eq!(cases(&suites[0]).len(), 4);
    assert_eq!(failures(&suites[0]), 3);
    assert_eq!(suites[0].attribute("tests"), Some("4"));
    assert_eq!(suites[0].attribute("failures"), Some("3"));
    let failure = cases(&suites[0])[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure.text().unwrap().contains("membership path: bob"),
        "{failure:?}"
    );
    // the broken file: one failed `load` case naming the problem
    let load = cases(&suites[1]);
    assert_eq!(load.len(), 1);
    assert_eq!(load[0].attribute("name"), Some("load"));
    assert!(
        load[0]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap()
            .attribute("message")
            .unwrap()
            .contains("duplicate principal `alice`"),
    );
    // the examples: every case passes
    let mut total = 5usize;
    for suite in &suites[2..] {
        assert_eq!(failures(suite), 0);
        assert!(!cases(suite).is_empty());
        total += cases(suite).len();
    }
    assert_eq!(root.attribute("tests"), Some(total.to_string().as_str()));
    assert_eq!(root.attribute("failures"), Some("4"));
}

// `acl validate` reports every problem with file, line and column, at the node at fault:
// syntax, unknown keys and principals, invalid URIs (rule U3) and levels (rule L1),
// duplicates, and what the engine refuses on loading (a cycle, rule P3)
#[test]
fn validate_reports_problems_with_positions() {
    let cases: &[(&str, &[&str])] = &[
        // yaml syntax
        ("cluster: c\nusers: [alice\n", &[":3:1: invalid yaml"]),
        // no cluster
        ("users: [alice]\n", &[":1:1: the model needs `cluster`"]),
        // an unknown top-level key, at the key
        (
            "cluster: c\nuser: [alice]\n",
            &[":2:1: unknown key `user` in the model"],
        ),
        // an unknown principal, at the value naming it
        (
            "cluster: c\nusers: [alice]\ngrants:\n  - {principal: bob, uri: \"storage://c/alice\", level: read}\n",
            &[":4:17: unknown principal `bob`"],
        ),
        // an invalid URI and an invalid level, each at its value
        (
            "cluster: c\nusers: [bob]\ngrants:\n  - principal: bob\n    uri: \"storage://c/a/../b\"\n    level: reed\n",
            &[
                ":5:10: uri: invalid uri `storage://c/a/../b`: `.` and `..` segments are not allowed",
                ":6:12: level: invalid level `reed`",
            ],
        ),
        // an unknown scheme (rule U3)
        (
            "cluster: c\nusers: [bob]\nforbids:\n  - {principal: bob, uri: \"nosuch://c/x\"}\n",
            &[":4:27: uri: invalid uri `nosuch://c/x`"],
        ),
        // duplicates: a user, a grant, a key
        (
            "cluster: c\nusers: [bob, carol, bob]\ngrants:\n  - {principal: bob, uri: \"storage://c/x\", level: read}\n  - {principal: bob, uri: \"storage://c/x\", level: write}\n  - {principal: carol, principal: bob, uri: \"storage://c/y\", level: read}\n",
            &[
                ":2:21: duplicate principal `bob` (first declared at 2:9)",
                ":5:5: duplicate grant or forbid of this principal on this target (first at 4:5)",
                ":6:24: duplicate key `principal` in a grant",
            ],
        ),
        // a deny grant belongs under forbids; a membership is read or more (rule P2)
        (
            "cluster: c\nusers: [bob]\nroles: [r]\nmemberships:\n  - {member: bob, role: r, level: list}\ngrants:\n  - {principal: bob, uri: \"storage://c/x\", level: deny}\n",
            &[
                ":5:35: a membership is read or more (rule P2), not list",
                ":7:51: a grant of deny is a forbid",
            ],
        ),
        // a cycle, refused by the engine at the membership that closes it (rule P3)
        (
            "cluster: c\nroles: [r1, r2]\nmemberships:\n  - {member: r1, role: r2}\n  - {member: r2, role: r1}\n",
            &[
                ":5:5: membership of `r2` in `r1`: membership would close a cycle: `r2` -> `r1` -> `r2`",
            ],
        ),
        // an unknown folder and an unknown reason kind in assertions
        (
            "cluster: c\nusers: [bob]\nassertions:\n  - allowed: {principal: bob, folder: bob/none, action: read}\n  - reason: {principal: bob, uri: \"storage://c/bob\", kind: because}\n",
            &[
                ":4:39: unknown folder `bob/none`",
                ":5:60: unknown reason kind `because`",
            ],
        ),
        // a share the engine refuses (rule F4: the invitee has a folder of the same name)
        (
            "cluster: c\nusers: [alice, bob]\nfolders:\n  - {name: tests, owner: alice}\n  - {name: tests, owner: bob}\nshares:\n  - {folder: alice/tests, user: bob, permission: ro}\n",
            &[":7:5: share of `alice/tests` with `bob`:"],
        ),
    ];
    let env = Env::empty();
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = file(&env, &format!("case{i}.yaml"), text);
        let run = acl(&["validate", &path]).code(65);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), expected.len(), "case {i}: {}", run.stdout);
        for (line, want) in lines.iter().zip(expected.iter()) {
            assert!(
                line.starts_with(&path) && line.contains(want),
                "case {i}: `{line}` should be {path}{want}"
            );
        }
        // --json gives the same problems, structured
        let json = acl(&["--json", "validate", &path]).code(65).json();
        assert_eq!(json["valid"], false);
        assert_eq!(json["problems"], expected.len());
        let first = &json["files"][0]["problems"][0];
        assert!(first["line"].as_u64().unwrap() >= 1 && first["column"].as_u64().unwrap() >= 1);
        // and `acl test` refuses to run a file that does not load
        acl(&["test", &path]).code(1);
    }
}

// the model files shown in README.md and docs/cli.md are valid and their assertions hold
#[test]
fn the_documented_models_pass() {
    let env = Env::empty();
    let mut count = 0;
    for doc in [docs().join("../README.md"), docs().join("cli.md")] {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (i, block) in text.split("```yaml\n").skip(1).enumerate() {
            let yaml = block.split("```").next().unwrap();
            let path = file(&env, &format!("doc{count}-{i}.yaml"), yaml);
            let run = acl(&["test", &path]);
            assert_eq!(run.code, 0, "{doc:?} block {i}:\n{}", run.stdout);
            count += 1;
        }
    }
    assert_eq!(count, 2);
}

/// Initializes a database of `cluster` in `env`.
fn init(env: &Env, cluster: &str) {
    env.acl(&["init", "--cluster", cluster]).ok();
}

fn cluster_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("cluster: "))
        .unwrap()
        .trim()
        .to_owned()
}

// rule M3: `acl import --model` then `acl export --model` gives an equal model, and the
// export is itself a valid model file that re-imports to the same model
#[test]
fn import_export_round_trip() {
    let schema = Schema::standard();
    for example in examples() {
        let env = Env::empty();
        init(&env, &cluster_of(&example));
        env.acl(&["import", "--model", example.to_str().unwrap()])
            .ok();
        let exported = env.dir.path().join("exported.yaml");
        env.acl(&["export", "--model", "--output", exported.to_str().unwrap()])
            .ok();
        let original = model::parse(&std::fs::read_to_string(&example).unwrap(), &schema).unwrap();
        let text = std::fs::read_to_string(&exported).unwrap();
        let back =
            model::parse(&text, &schema).unwrap_or_else(|p| panic!("{example:?}: {p:?}\n{text}"));
        assert!(
            original.same_as(&back),
            "{example:?}:\n{text}\n{original:#?}\n{back:#?}"
        );
        // to stdout too, and a second round trip changes nothing
        let again = Env::empty();
        init(&again, &cluster_of(&example));
        again
            .acl(&["import", "--model", exported.to_str().unwrap()])
            .ok();
        let stdout = again.acl(&["export", "--model"]).ok().stdout;
        assert!(
            model::parse(&stdout, &schema).unwrap().same_as(&back),
            "{stdout}"
        );
    }
}

// rule M3: an import is one transaction: exactly one new revision, whose one changelog
// entry is `model_import` with the file as target and the entry counts as detail; the
// examples make several folders, invitations and VMs in it, each with its own id
#[test]
fn import_is_one_revision() {
    for example in examples() {
        let env = Env::empty();
        init(&env, &cluster_of(&example));
        let before = env.acl(&["--json", "log"]).ok().json();
        let before_rev = before["items"].as_array().unwrap().len() as u64;
        let path = example.to_str().unwrap();
        let imported = env.acl(&["--json", "import", "--model", path]).ok().json();
        assert_eq!(
            imported["revision"],
            before_rev + 1,
            "{example:?}: {imported}"
        );
        let since = env
            .acl(&["--json", "log", "--since", &before_rev.to_string()])
            .ok()
            .json();
        let items = since["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{example:?}: {since}");
        assert_eq!(items[0]["revision"], before_rev + 1);
        assert_eq!(items[0]["action"], "model_import", "{since}");
        assert_eq!(items[0]["target"], path, "{since}");
        let detail = items[0]["detail"].as_str().unwrap();
        let model = model::parse(
            &std::fs::read_to_string(&example).unwrap(),
            &Schema::standard(),
        )
        .unwrap();
        assert!(
            detail.contains(&format!("{} users", model.users.len())),
            "{detail}"
        );
        assert_eq!(imported["entries"], model.entries());
    }
}

// an import refused at its LAST entry (a fence the database has already) leaves the
// database exactly as it was: the users, groups, memberships, folders, shares and grants
// before it are rolled back with it, and no revision is added
#[test]
fn import_refused_at_its_last_entry_changes_nothing() {
    let env = Env::new();
    env.acl(&["fence", "add", "storage://prod/x", "prod/admin"])
        .ok();
    let before = env.dump();
    let text = "cluster: prod
users: [ann, carl]
groups: [team]
memberships:
  - {member: carl, role: team}
folders:
  - {name: data, owner: ann, host: local}
  - {name: more, owner: ann, host: local}
shares:
  - {folder: ann/data, user: carl, permission: ro}
grants:
  - {principal: team, uri: storage://prod/shared, level: write}
fences:
  - {uri: storage://prod/x, group: prod/admin}
";
    let late = file(&env, "late.yaml", text);
    let run = env.acl(&["import", "--model", &late]).code(65);
    let last_line = text.lines().count();
    assert!(
        run.stderr.contains(&format!(
            "{late}:{last_line}:5: fence on `storage://prod/x`"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(env.dump(), before);
    // the same model without the clash imports, in one revision
    let fine = file(
        &env,
        "fine.yaml",
        &text.replace("storage://prod/x, group", "storage://prod/y, group"),
    );
    let revision = |env: &Env| {
        env.acl(&["--json", "log"]).ok().json()["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before_rev = revision(&env);
    env.acl(&["import", "--model", &fine]).ok();
    assert_eq!(revision(&env), before_rev + 1);
    assert_ne!(env.dump(), before);
}

// a model with a problem imports nothing (the file is checked in full first), and the
// error names the file, line and column; an import as a user without the rights is refused
#[test]
fn import_of_a_bad_model_changes_nothing() {
    let env = Env::new();
    let before = env.dump();
    let bad = file(
        &env,
        "cycle.yaml",
        "cluster: prod\nusers: [ann]\nroles: [r1, r2]\nmemberships:\n  - {member: r1, role: r2}\n  - {member: r2, role: r1}\n",
    );
    let run = env.acl(&["import", "--model", &bad]).code(65);
    assert!(
        run.stderr
            .contains(&format!("{bad}:6:5: membership of `r2` in `r1`")),
        "{}",
        run.stderr
    );
    assert_eq!(env.dump(), before);
    // another cluster's model
    let other = file(&env, "other.yaml", "cluster: elsewhere\nusers: [ann]\n");
    let run = env.acl(&["import", "--model", &other]).code(65);
    assert!(
        run.stderr
            .contains("the model is of cluster `elsewhere`, the store of `prod`"),
        "{}",
        run.stderr
    );
    assert_eq!(env.dump(), before);
    // an entry the database's state refuses (bob exists already) stops the import before
    // anything is written: the entries before it (ann) are not committed either
    env.users(&["bob"]);
    let after_bob = env.dump();
    let clash = file(&env, "clash.yaml", "cluster: prod\nusers: [ann, bob]\n");
    let run = env.acl(&["import", "--model", &clash]).code(65);
    assert!(
        run.stderr.contains(&format!(
            "{clash}:2:14: user `bob`: principal `bob` already exists"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(env.dump(), after_bob);
    // a user without `manage` on `user:` cannot create the model's users (rule A4)
    let good = file(&env, "good.yaml", "cluster: prod\nusers: [ann]\n");
    let run = env.as_("bob", &["import", "--model", &good]).code(65);
    assert!(run.stderr.contains("user `ann`"), "{}", run.stderr);
    assert_eq!(env.dump(), after_bob);
    // exporting shows every principal's grants: it needs read on `user:` (rule S3)
    env.as_("bob", &["export", "--model"]).code(77);
}

/// A YAML value as JSON, for the schema (scalars as YAML's core schema reads them).
fn to_json(yaml: &saphyr::Yaml) -> Value {
    use saphyr::{Scalar, Yaml};
    match yaml {
        Yaml::Value(Scalar::String(s)) => Value::String(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Value::from(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => Value::from(f.into_inner()),
        Yaml::Value(Scalar::Boolean(b)) => Value::Bool(*b),
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected yaml node {other:?}"),
    }
}

fn yaml_json(text: &str) -> Value {
    use saphyr::LoadableYamlNode;
    let docs = saphyr::Yaml::load_from_str(text).unwrap();
    to_json(&docs[0])
}

// docs/model.schema.json (JSON Schema 2020-12) accepts every example and every export,
// and rejects malformed files
#[test]
fn the_json_schema_accepts_the_examples_and_rejects_malformed_files() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(docs().join("model.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for example in examples() {
        let value = yaml_json(&std::fs::read_to_string(&example).unwrap());
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{example:?}: {errors:?}");
        // what the parser accepts, the schema accepts; so is what export writes
        let env = Env::empty();
        init(&env, &cluster_of(&example));
        env.acl(&["import", "--model", example.to_str().unwrap()])
            .ok();
        let exported = yaml_json(&env.acl(&["export", "--model"]).ok().stdout);
        assert!(validator.is_valid(&exported), "{exported}");
    }
    let malformed = [
        // no cluster
        "users: [alice]\n",
        // an unknown key
        "cluster: c\nuserz: [alice]\n",
        // a level that is none
        "cluster: c\ngrants:\n  - {principal: bob, uri: \"storage:x\", level: reed}\n",
        // two targets
        "cluster: c\ngrants:\n  - {principal: bob, uri: \"storage:x\", vm: \"a/b\", level: read}\n",
        // an assertion of two kinds
        "cluster: c\nassertions:\n  - {allowed: {principal: a, uri: \"storage:x\", level: read}, denied: {principal: a, uri: \"storage:x\", level: read}}\n",
        // a principal name with a space
        "cluster: c\nusers: [\"al ice\"]\n",
    ];
    for text in malformed {
        assert!(!validator.is_valid(&yaml_json(text)), "{text}");
        // the parser refuses each too
        assert!(model::parse(text, &Schema::standard()).is_err(), "{text}");
    }
}
