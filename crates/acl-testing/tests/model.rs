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
