//! The five permission levels (rule L1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A permission level. Levels are totally ordered and inclusive (rule L1):
/// `deny < list < read < write < manage`, and holding a level implies every lower one.
///
/// `Deny` is never *held* as an allowance: a direct grant of `Deny` is a forbid (rule E3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No access. As a grant, a forbid that beats every allowance.
    Deny,
    /// May see that the entity exists (navigate to it), not its details.
    List,
    /// May read the entity.
    Read,
    /// May read and modify the entity.
    Write,
    /// May do anything, including changing who holds which level on it.
    Manage,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [
        Level::Deny,
        Level::List,
        Level::Read,
        Level::Write,
        Level::Manage,
    ];

    /// The lowercase text form (`deny`, `list`, `read`, `write`, `manage`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Deny => "deny",
            Level::List => "list",
            Level::Read => "read",
            Level::Write => "write",
            Level::Manage => "manage",
        }
    }

    /// The level's rank, 0 for deny up to 4 for manage; used by stores that keep levels as
    /// integers.
    pub const fn rank(self) -> u8 {
        self as u8
    }

    /// The level of a rank produced by [`Level::rank`], or `None` for any other number.
    pub const fn from_rank(rank: u8) -> Option<Level> {
        match rank {
            0 => Some(Level::Deny),
            1 => Some(Level::List),
            2 => Some(Level::Read),
            3 => Some(Level::Write),
            4 => Some(Level::Manage),
            _ => None,
        }
    }

    /// Whether this level is an allowance (anything above `deny`).
    pub const fn is_allow(self) -> bool {
        !matches!(self, Level::Deny)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not one of the five level words (rule L1). It converts into
/// [`Error::InvalidLevel`](crate::Error::InvalidLevel), the kernel's error for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid level `{input}`: expected deny, list, read, write or manage")]
pub struct ParseLevelError {
    /// The offending text, clipped to 80 characters.
    pub input: String,
}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses exactly the lowercase words of rule L1; anything else is a
    /// [`ParseLevelError`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deny" => Ok(Level::Deny),
            "list" => Ok(Level::List),
            "read" => Ok(Level::Read),
            "write" => Ok(Level::Write),
            "manage" => Ok(Level::Manage),
            other => Err(ParseLevelError {
                input: crate::text::clip(other),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    // rule L1: total order, inclusive
    #[test]
    fn levels_are_totally_ordered() {
        for pair in Level::ALL.windows(2) {
            if let [lo, hi] = pair {
                assert!(lo < hi, "{lo} < {hi}");
            }
        }
        assert!(Level::Manage >= Level::Read);
        assert_eq!(Level::ALL.iter().max(), Some(&Level::Manage));
    }

    // rule L1: text forms are exactly the lowercase words
    #[test]
    fn text_round_trip() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>().ok(), Some(level));
            assert_eq!(Level::from_rank(level.rank()), Some(level));
            let json = serde_json::to_string(&level).unwrap_or_default();
            assert_eq!(json, format!("\"{level}\""));
        }
        for bad in ["Read", "READ", "", " read", "admin", "none"] {
            let err = bad.parse::<Level>().err().map(Error::from);
            assert!(
                matches!(err, Some(Error::InvalidLevel { .. })),
                "{bad:?} must be refused"
            );
        }
        assert_eq!(Level::from_rank(5), None);
    }
}
