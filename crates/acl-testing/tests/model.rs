//! Model files from Rust (issue 22): the examples of docs/examples load into an engine over
//! the memory store through `acl_testing::model::load` and their assertions hold; a wrong
//! assertion is a failure naming its line and the actual decision; a bad file is problems
//! with positions.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use acl_core::{Level, Reason};
use acl_memory::MemoryStore;
use acl_testing::model::load;

#[test]
fn the_examples_hold_when_loaded_from_rust() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let world = load(MemoryStore::new(), &text).unwrap_or_else(|p| panic!("{path:?}: {p:?}"));
        assert!(!world.outcomes().is_empty(), "{path:?}");
        world.assert_all();
        count += 1;
    }
    assert_eq!(count, 3);
}

// rule E6: a failure carries explain's decision, the same evaluation as the check
#[test]
fn a_wrong_assertion_fails_with_the_actual_decision() {
    let text = "\
cluster: c
users: [alice, bob]
grants:
  - {principal: bob, uri: \"storage://c/alice/data\", level: read}
assertions:
  - level: {principal: bob, uri: \"storage://c/alice/data/x\", is: write}
";
    let world = load(MemoryStore::new(), text).unwrap();
    let outcomes = world.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].pos.line, 6);
    let failure = outcomes[0].failure.as_ref().unwrap();
    assert!(
        failure
            .message
            .contains("expected level write, but `bob` has read"),
        "{}",
        failure.message
    );
    let (_, decision) = &failure.decisions[0];
    assert_eq!(decision.level, Level::Read);
    assert!(
        matches!(&decision.reason, Reason::Grant { grant, .. } if grant.holder.as_str() == "bob")
    );
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| world.assert_all()));
    let message = *panic.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("line 6: level: `bob`"), "{message}");
}

#[test]
fn a_bad_file_is_problems_at_their_positions() {
    let problems = load(
        MemoryStore::new(),
        "cluster: c\nusers: [alice]\nroles: [\"a b\"]\n",
    )
    .err()
    .unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].pos.line, problems[0].pos.column), (3, 9));
    assert!(
        problems[0].message.starts_with("role: "),
        "{}",
        problems[0].message
    );
}

// rule M3: loading a model is init plus ONE transaction: two revisions whatever its size,
// the second one `model_import`; a model refused at its last entry leaves only init's
#[test]
fn a_model_loads_in_one_revision_or_not_at_all() {
    use acl_core::{ReadView, Revision, Schema, Store, Timestamp};
    use acl_platform::Platform;
    use acl_platform::model::{self, MODEL_IMPORT};

    let changes = |platform: &Platform<MemoryStore>| {
        platform
            .store()
            .read()
            .unwrap()
            .changes(Revision(0), None, 1000)
            .unwrap()
    };
    let text = "\
cluster: c
users: [alice, bob, carol]
groups: [team]
memberships:
  - {member: bob, role: team}
folders:
  - {name: a, owner: alice, host: local}
  - {name: b, owner: alice, host: local}
shares:
  - {folder: alice/a, user: bob, permission: ro}
  - {folder: alice/b, user: bob, permission: rw}
grants:
  - {principal: team, uri: \"storage://c/shared\", level: write}
fences:
  - {uri: \"storage://c/fenced\", group: team}
";
    let platform = Platform::new(MemoryStore::new(), Schema::standard());
    let parsed = model::parse(text, platform.schema()).unwrap();
    let loaded = model::load_fresh(&platform, &parsed, Timestamp(0)).unwrap();
    let log = changes(&platform);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].change.action, "init");
    assert_eq!(log[1].change.action, MODEL_IMPORT);
    assert_eq!(log[1].change.target, "model");
    assert!(log[1].change.detail.contains("3 users"), "{log:?}");
    // two folders and two invitations made in the one transaction, each its own
    let a = loaded.folder(&parsed.folders[0].item.folder).unwrap();
    let b = loaded.folder(&parsed.folders[1].item.folder).unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("f2", "f2-2"));
    assert!(platform.audit_cache().unwrap().wrong.is_empty());

    // the same model with a fence on a `role:` URI (no fences there) is refused at its
    // last line: nothing but init is left
    let bad = text.replace("storage://c/fenced", "role://fenced");
    let fresh = Platform::new(MemoryStore::new(), Schema::standard());
    let parsed = model::parse(&bad, fresh.schema()).unwrap();
    let problem = model::load_fresh(&fresh, &parsed, Timestamp(0)).unwrap_err();
    assert_eq!(problem.pos.line, bad.lines().count(), "{problem:?}");
    assert!(
        problem.message.contains("fences are not allowed"),
        "{problem:?}"
    );
    let log = changes(&fresh);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(fresh.reader().unwrap().revision().unwrap(), Revision(1));
    let view = fresh.store().read().unwrap();
    assert_eq!(
        view.principal(&acl_core::PrincipalName::new("alice").unwrap())
            .unwrap(),
        None
    );
}
