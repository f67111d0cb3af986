//! Principal and cluster names (rule P1).

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, NameProblem};
use crate::text::clip;

/// Longest principal name, in bytes (rule P1).
pub const MAX_NAME_BYTES: usize = 255;

/// The name of a principal: a user (`alice`) or a role (`alice/roles/readers`,
/// `prod/admin`). `/`-separated segments of `[A-Za-z0-9_.-]`, at most 255 bytes, no
/// empty, `.` or `..` segment (rule P1).
///
/// The type can only hold a valid name: construct it with [`PrincipalName::new`] or
/// `parse`.
#[derive(Debug, Clone, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PrincipalName(String);

/// Byte equality, as derived, without a call to `memcmp` for short names: every cached
/// check compares one.
impl PartialEq for PrincipalName {
    #[inline]
    fn eq(&self, other: &PrincipalName) -> bool {
        crate::bytes::same(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// The text's hash, as derived: equal names (equal bytes) hash alike.
impl std::hash::Hash for PrincipalName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PrincipalName {
    /// Validates `text` as a principal name.
    pub fn new(text: &str) -> Result<PrincipalName, Error> {
        validate(text, false)?;
        Ok(PrincipalName(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name's segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// Whether the name is a single segment (the form of user names).
    pub fn is_single_segment(&self) -> bool {
        !self.0.contains('/')
    }

    /// The name extended by one more segment (`alice/roles` + `x`).
    pub fn child(&self, segment: &str) -> Result<PrincipalName, Error> {
        PrincipalName::new(&format!("{}/{}", self.0, segment))
    }
}

impl fmt::Display for PrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PrincipalName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PrincipalName::new(s)
    }
}

impl AsRef<str> for PrincipalName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for PrincipalName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PrincipalName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PrincipalName::new(&text).map_err(serde::de::Error::custom)
    }
}

/// The name of a cluster: one segment of `[A-Za-z0-9_.-]`, at most 255 bytes. It is the
/// authority of every home URI (`storage://{cluster}/{user}`) and the first segment of the
/// cluster roles (`{cluster}/admin`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClusterName(String);

impl ClusterName {
    /// Validates `text` as a cluster name.
    pub fn new(text: &str) -> Result<ClusterName, Error> {
        validate(text, true)?;
        Ok(ClusterName(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClusterName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClusterName::new(s)
    }
}

impl<'de> Deserialize<'de> for ClusterName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClusterName::new(&text).map_err(serde::de::Error::custom)
    }
}

fn validate(text: &str, single_segment: bool) -> Result<(), Error> {
    let fail = |problem| {
        Err(Error::InvalidName {
            input: clip(text),
            problem,
        })
    };
    if text.is_empty() {
        return fail(NameProblem::Empty);
    }
    if text.len() > MAX_NAME_BYTES {
        return fail(NameProblem::TooLong);
    }
    // One pass over the bytes (names read back from a store are validated on every
    // closure load, so this is on the check path). The problems keep their precedence: a
    // bad character anywhere, then a `/` in a single segment, then the first bad segment.
    let (mut bad_character, mut slash) = (false, false);
    let mut segment_problem = None;
    let mut segment_start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'/' {
            slash = true;
            if segment_problem.is_none() {
                segment_problem = segment_check(bytes.get(segment_start..i).unwrap_or_default());
            }
            segment_start = i + 1;
        } else if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
            bad_character = true;
        }
    }
    if segment_problem.is_none() {
        segment_problem = segment_check(bytes.get(segment_start..).unwrap_or_default());
    }
    if bad_character {
        return fail(NameProblem::BadCharacter);
    }
    if single_segment && slash {
        return fail(NameProblem::NotSingleSegment);
    }
    if let Some(problem) = segment_problem {
        return fail(problem);
    }
    Ok(())
}

/// What is wrong with one `/`-separated segment of a name, if anything.
fn segment_check(segment: &[u8]) -> Option<NameProblem> {
    match segment {
        [] => Some(NameProblem::EmptySegment),
        b"." | b".." => Some(NameProblem::DotSegment),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<NameProblem> {
        match PrincipalName::new(text) {
            Ok(_) => None,
            Err(Error::InvalidName { problem, .. }) => Some(problem),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    /// The validation as first written (three passes), kept to check the one-pass version.
    fn reference(text: &str, single_segment: bool) -> Option<NameProblem> {
        if text.is_empty() {
            return Some(NameProblem::Empty);
        }
        if text.len() > MAX_NAME_BYTES {
            return Some(NameProblem::TooLong);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
        {
            return Some(NameProblem::BadCharacter);
        }
        if single_segment && text.contains('/') {
            return Some(NameProblem::NotSingleSegment);
        }
        text.split('/').find_map(|segment| match segment {
            "" => Some(NameProblem::EmptySegment),
            "." | ".." => Some(NameProblem::DotSegment),
            _ => None,
        })
    }

    // rule P1: the one-pass validation reports the same problem as the reference for every
    // string of up to five characters over an alphabet holding each kind of byte.
    #[test]
    fn one_pass_validation_matches_the_reference() {
        let alphabet = ['a', '/', '.', '-', ' '];
        let mut texts = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..5 {
            layer = layer
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(layer.iter().cloned());
        }
        for text in &texts {
            for single in [false, true] {
                let got = match validate(text, single) {
                    Ok(()) => None,
                    Err(Error::InvalidName { problem, .. }) => Some(problem),
                    Err(other) => panic!("unexpected error {other}"),
                };
                assert_eq!(got, reference(text, single), "{text:?} single={single}");
            }
        }
    }

    // rule P1: names are `/`-separated segments of [A-Za-z0-9_.-], at most 255 bytes
    #[test]
    fn principal_names() {
        let table: &[(&str, Option<NameProblem>)] = &[
            ("alice", None),
            ("alice/roles/readers", None),
            ("prod/admin", None),
            ("A.b-c_9", None),
            ("", Some(NameProblem::Empty)),
            ("alice bob", Some(NameProblem::BadCharacter)),
            ("alice;drop", Some(NameProblem::BadCharacter)),
            ("ålice", Some(NameProblem::BadCharacter)),
            ("alice\0", Some(NameProblem::BadCharacter)),
            ("/alice", Some(NameProblem::EmptySegment)),
            ("alice/", Some(NameProblem::EmptySegment)),
            ("alice//x", Some(NameProblem::EmptySegment)),
            ("alice/../x", Some(NameProblem::DotSegment)),
            (".", Some(NameProblem::DotSegment)),
        ];
        for (text, want) in table {
            assert_eq!(problem(text), *want, "{text:?}");
        }
        assert_eq!(problem(&"a".repeat(255)), None);
        assert_eq!(problem(&"a".repeat(256)), Some(NameProblem::TooLong));
    }

    #[test]
    fn cluster_names_are_one_segment() {
        assert!(ClusterName::new("prod").is_ok());
        assert!(matches!(
            ClusterName::new("a/b"),
            Err(Error::InvalidName {
                problem: NameProblem::NotSingleSegment,
                ..
            })
        ));
    }

    #[test]
    fn serde_validates() {
        let ok: Result<PrincipalName, _> = serde_json::from_str("\"alice/roles/x\"");
        assert!(ok.is_ok());
        let bad: Result<PrincipalName, _> = serde_json::from_str("\"alice roles\"");
        assert!(bad.is_err());
    }
}
