//! Level and action parsing (rules L1 and E5). Property: `Level::from_str` accepts exactly
//! the five lowercase words and round-trips through `Display` and `rank`; for any URI of
//! the standard schema and any action text, `Schema::action_level` never panics, never
//! answers `deny`, answers the level of the word for a level word the scheme's table does
//! not redefine, and refuses any other text not in the table (an unknown action is an
//! error, not a denial).
#![no_main]

use acl_core::{Level, Schema, Uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // first byte: which scheme; the rest: the action text
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let words = ["deny", "list", "read", "write", "manage"];
    let level = text.parse::<Level>();
    assert_eq!(level.is_ok(), words.contains(&text), "{text:?}: {level:?}");
    if let Ok(level) = level {
        assert_eq!(level.to_string(), text);
        assert_eq!(Level::from_rank(level.rank()), Some(level));
        assert_eq!(Level::ALL.get(usize::from(level.rank())), Some(&level));
    }

    let schema = Schema::standard();
    let schemes: Vec<&str> = schema.scheme_names().collect();
    let Some(scheme) = schemes.get(usize::from(*pick) % schemes.len().max(1)) else {
        return;
    };
    let Ok(uri) = Uri::parse(&format!("{scheme}://c/x")) else {
        return;
    };
    let answer = schema.action_level(&uri, text);
    if let Ok(answer) = answer {
        assert!(answer.is_allow(), "{scheme} {text:?} gave {answer}");
    }
    let tables = [
        ("vfolder", &["list", "read", "mount-ro", "write", "mount-rw", "delete-file", "rename", "delete", "share"][..]),
        ("vm", &["launch", "access-drives", "share"][..]),
    ];
    let in_table = tables
        .iter()
        .any(|(s, actions)| s == scheme && actions.contains(&text));
    match (in_table, level) {
        (true, _) => assert!(answer.is_ok(), "{scheme} {text:?}: {answer:?}"),
        (false, Ok(Level::Deny)) | (false, Err(_)) => {
            assert!(answer.is_err(), "{scheme} {text:?}: {answer:?}");
        }
        (false, Ok(level)) => assert_eq!(answer.ok(), Some(level), "{scheme} {text:?}"),
    }
    // the same action on an unknown scheme is an error
    if let Ok(other) = Uri::parse("nosuchscheme://c/x") {
        assert!(schema.action_level(&other, text).is_err());
    }
});
