//! The one error type of acl-core, shared by every Store backend (rule M4).

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::field::{FieldError, join_fields};
use crate::level::{Level, ParseLevelError};
use crate::text::clip;

/// The broad kind of an [`Error`](enum@Error) (rule M4). Adapters map kinds, never variants, to their
/// own codes (the CLI maps them to exit codes 65, 72, 73, 77, 65 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule about its shape.
    InvalidInput,
    /// Something named by the input does not exist.
    NotFound,
    /// The input is well formed but collides with the current state (already exists, a
    /// cycle, a stale consistency token).
    Conflict,
    /// The actor lacks the permission the operation needs.
    Forbidden,
    /// The operation would change nothing (nothing to revoke, nothing to remove).
    NoEffect,
    /// The store failed; the operation changed nothing.
    Storage,
}

impl ErrorKind {
    /// A short snake_case name of the kind, for machine-readable output.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NoEffect => "no_effect",
            ErrorKind::Storage => "storage",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a URI (rule U3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UriProblem {
    /// The text is empty.
    Empty,
    /// The text is longer than 2048 bytes.
    TooLong,
    /// There is no `scheme:` prefix.
    MissingScheme,
    /// The scheme is not `[a-z][a-z0-9+.-]*`.
    BadScheme,
    /// The scheme is well formed but not in the schema.
    UnknownScheme,
    /// The text has a `?query`.
    Query,
    /// The text has a `#fragment`.
    Fragment,
    /// The authority has `userinfo@`.
    Userinfo,
    /// The authority has a `:port`.
    Port,
    /// A segment is empty (`a//b`).
    EmptySegment,
    /// A segment is `.` or `..`.
    DotSegment,
    /// The text has a control character.
    ControlCharacter,
    /// A segment is longer than 255 bytes.
    SegmentTooLong,
    /// A short form (`scheme:a/b`) was given with no context to resolve it against.
    NeedsContext,
    /// A short form was given for a scheme that needs the absolute form (`role:`, `user:`).
    NeedsAbsoluteForm,
}

impl UriProblem {
    /// A lowercase description of the problem.
    pub const fn describe(self) -> &'static str {
        match self {
            UriProblem::Empty => "it is empty",
            UriProblem::TooLong => "it is longer than 2048 bytes",
            UriProblem::MissingScheme => "it has no `scheme:` prefix",
            UriProblem::BadScheme => "the scheme must match [a-z][a-z0-9+.-]*",
            UriProblem::UnknownScheme => "the scheme is not in the schema",
            UriProblem::Query => "a query (`?`) is not allowed",
            UriProblem::Fragment => "a fragment (`#`) is not allowed",
            UriProblem::Userinfo => "userinfo (`@`) is not allowed in the authority",
            UriProblem::Port => "a port (`:`) is not allowed in the authority",
            UriProblem::EmptySegment => "it has an empty segment",
            UriProblem::DotSegment => "`.` and `..` segments are not allowed",
            UriProblem::ControlCharacter => "it has a control character",
            UriProblem::SegmentTooLong => "a segment is longer than 255 bytes",
            UriProblem::NeedsContext => "a short form needs a cluster and user to resolve against",
            UriProblem::NeedsAbsoluteForm => "this scheme needs the absolute form `scheme://...`",
        }
    }
}

impl fmt::Display for UriProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What is wrong with a principal or cluster name (rule P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name is longer than 255 bytes.
    TooLong,
    /// A character is outside `[A-Za-z0-9_.-]` (and `/` between segments).
    BadCharacter,
    /// A segment is empty (leading, trailing or doubled `/`).
    EmptySegment,
    /// A segment is `.` or `..`.
    DotSegment,
    /// The name must be a single segment here (users, clusters).
    NotSingleSegment,
}

impl NameProblem {
    /// A lowercase description of the problem.
    pub const fn describe(self) -> &'static str {
        match self {
            NameProblem::Empty => "it is empty",
            NameProblem::TooLong => "it is longer than 255 bytes",
            NameProblem::BadCharacter => "only [A-Za-z0-9_.-] and `/` between segments are allowed",
            NameProblem::EmptySegment => "it has an empty segment",
            NameProblem::DotSegment => "`.` and `..` segments are not allowed",
            NameProblem::NotSingleSegment => "it must be a single segment (no `/`)",
        }
    }
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Every error acl-core and its stores return. Match on [`Error::kind`] to act on the broad
/// kind; the variants carry the specifics for messages and tests.
///
/// Messages are lowercase, without a trailing period, with user input in backticks (and
/// clipped to 80 characters, so a 64 KiB input never floods a log).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A URI was refused (rule U3).
    #[error("invalid uri `{input}`: {problem}")]
    InvalidUri {
        /// The offending text, clipped.
        input: String,
        /// What is wrong with it.
        problem: UriProblem,
    },
    /// A principal or cluster name was refused (rule P1).
    #[error("invalid name `{input}`: {problem}")]
    InvalidName {
        /// The offending text, clipped.
        input: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A level's text was not one of the five words (rule L1).
    #[error("invalid level `{input}`: expected deny, list, read, write or manage")]
    InvalidLevel {
        /// The offending text, clipped.
        input: String,
    },
    /// An action name is not in the schema for its scheme (rule E5).
    #[error("unknown action `{action}` for scheme `{scheme}`")]
    UnknownAction {
        /// The scheme of the URI the action was asked on.
        scheme: String,
        /// The action, clipped.
        action: String,
    },
    /// Any other malformed input; the message names the problem.
    #[error("{0}")]
    InvalidInput(String),
    /// A named thing does not exist.
    #[error("{what} `{name}` not found")]
    NotFound {
        /// What kind of thing (`principal`, `role`, `fence`, ...).
        what: &'static str,
        /// Its name, clipped.
        name: String,
    },
    /// A thing to be created already exists.
    #[error("{what} `{name}` already exists")]
    AlreadyExists {
        /// What kind of thing.
        what: &'static str,
        /// Its name, clipped.
        name: String,
    },
    /// A membership grant would close a cycle in the role graph (rule P3). The path starts
    /// and ends at the same principal.
    #[error("membership would close a cycle: {}", join_path(.path))]
    Cycle {
        /// The cycle, first principal repeated at the end.
        path: Vec<String>,
    },
    /// A read demanded a revision the store has not reached (rule M3).
    #[error("revision {wanted} not reached: the store is at revision {current}")]
    RevisionNotReached {
        /// The revision the caller demanded.
        wanted: u64,
        /// The store's revision.
        current: u64,
    },
    /// The input collides with the current state in another way; the message says how.
    #[error("{0}")]
    Conflict(String),
    /// The actor lacks the level the operation needs.
    #[error("`{actor}` may not {action}: it needs {needed} on `{uri}`")]
    Forbidden {
        /// The acting principal.
        actor: String,
        /// What it tried to do (`grant`, `revoke`, `add role`, ...).
        action: &'static str,
        /// The URI the permission was checked on.
        uri: String,
        /// The level it would need there.
        needed: Level,
    },
    /// The operation was refused by a rule other than a missing level (share scope, ...).
    #[error("{0}")]
    NotPermitted(String),
    /// Fields of an account, keypair, policy, session request or export name were refused
    /// (rules A1, A2, A6, A7): every failing rule of every field, in field order. The
    /// offending values are never repeated (a password must not reach a log).
    #[error("invalid input: {}", join_fields(.0))]
    InvalidFields(Vec<FieldError>),
    /// A login or keypair authentication was refused (rules A3, A5). The same refusal for
    /// an unknown user or key, an inactive one and a wrong password or secret: it does not
    /// tell them apart.
    #[error("authentication refused: unknown, inactive or wrong credentials")]
    AuthenticationRefused,
    /// A resource policy refused a session or folder (rule A6): the resource, its limit, the
    /// usage and the request.
    #[error("`{resource}` refused: limit {limit}, in use {usage}, requested {request}")]
    AdmissionRefused {
        /// The resource (`cpu`, `ram`, `concurrent sessions`, `folders`, ...).
        resource: &'static str,
        /// The policy's limit.
        limit: u64,
        /// What is in use now.
        usage: u64,
        /// What was requested.
        request: u64,
    },
    /// The operation would change nothing.
    #[error("no effect: {0}")]
    NoEffect(String),
    /// The store failed; nothing was changed.
    #[error("storage error: {0}")]
    Storage(String),
    /// An operation of a batch was refused, so the batch wrote nothing (rule M3): the
    /// operation's 0-based index and why. Its kind is the refusal's.
    #[error("operation {index}: {source}")]
    InBatch {
        /// The index of the refused operation in the batch.
        index: usize,
        /// Why it was refused.
        source: Box<Error>,
    },
}

fn join_path(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

impl Error {
    /// The broad kind of this error (rule M4).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUri { .. }
            | Error::InvalidName { .. }
            | Error::InvalidLevel { .. }
            | Error::UnknownAction { .. }
            | Error::InvalidInput(_)
            | Error::InvalidFields(_) => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. }
            | Error::Cycle { .. }
            | Error::RevisionNotReached { .. }
            | Error::Conflict(_) => ErrorKind::Conflict,
            Error::Forbidden { .. }
            | Error::NotPermitted(_)
            | Error::AuthenticationRefused
            | Error::AdmissionRefused { .. } => ErrorKind::Forbidden,
            Error::NoEffect(_) => ErrorKind::NoEffect,
            Error::Storage(_) => ErrorKind::Storage,
            Error::InBatch { source, .. } => source.kind(),
        }
    }

    /// A storage error from a backend's own error, keeping its message.
    pub fn storage(err: impl fmt::Display) -> Error {
        Error::Storage(err.to_string())
    }

    /// A not-found error for a thing of kind `what` named `name`.
    pub fn not_found(what: &'static str, name: impl AsRef<str>) -> Error {
        Error::NotFound {
            what,
            name: clip(name.as_ref()),
        }
    }

    /// An already-exists error for a thing of kind `what` named `name`.
    pub fn already_exists(what: &'static str, name: impl AsRef<str>) -> Error {
        Error::AlreadyExists {
            what,
            name: clip(name.as_ref()),
        }
    }
}

/// The result type of acl-core and its stores.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ParseLevelError> for Error {
    fn from(e: ParseLevelError) -> Error {
        Error::InvalidLevel { input: e.input }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // rule M4: distinct kinds
    #[test]
    fn kinds_are_distinct_and_named() {
        let cases = [
            (Error::InvalidInput("x".into()), ErrorKind::InvalidInput),
            (Error::not_found("role", "r"), ErrorKind::NotFound),
            (Error::already_exists("role", "r"), ErrorKind::Conflict),
            (
                Error::Cycle {
                    path: vec!["a".into(), "b".into(), "a".into()],
                },
                ErrorKind::Conflict,
            ),
            (Error::NoEffect("x".into()), ErrorKind::NoEffect),
            (Error::storage("disk"), ErrorKind::Storage),
            (
                Error::Forbidden {
                    actor: "bob".into(),
                    action: "grant",
                    uri: "storage://c/alice".into(),
                    needed: Level::Manage,
                },
                ErrorKind::Forbidden,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }

    #[test]
    fn messages_are_lowercase_and_clip_input() {
        let long = "x".repeat(70_000);
        let err = Error::not_found("principal", &long);
        let text = err.to_string();
        assert!(text.len() < 200, "{}", text.len());
        assert!(text.starts_with("principal `xxx"));
        assert!(!text.ends_with('.'));
        let cycle = Error::Cycle {
            path: vec!["a".into(), "b".into(), "a".into()],
        };
        assert_eq!(
            cycle.to_string(),
            "membership would close a cycle: `a` -> `b` -> `a`"
        );
    }
}
