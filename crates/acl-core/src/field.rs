//! What is wrong with one field of a record a layer validates (an account, a keypair, a
//! resource policy, a session request, an export name): the parts of
//! [`Error::InvalidFields`](crate::Error::InvalidFields), which names every failing rule of
//! every field at once.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What is wrong with one field of an account, keypair, policy, session request or export
/// (rules A1, A2, A6, A7). Lengths count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
#[non_exhaustive]
pub enum FieldProblem {
    /// The field is empty.
    Empty,
    /// The field is shorter than `min` characters.
    TooShort {
        /// The fewest characters allowed.
        min: usize,
    },
    /// The field is longer than `max` characters.
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// A password has no letter (rule A2).
    NoLetter,
    /// A password has no digit (rule A2).
    NoDigit,
    /// A password has no special character (rule A2).
    NoSpecial,
    /// A character is outside the allowed set.
    BadCharacter {
        /// The allowed set, e.g. `[A-Za-z0-9_.-]`.
        allowed: &'static str,
    },
    /// The field has a control character.
    ControlCharacter,
    /// The field does not have the required form; `reason` says how.
    BadSyntax {
        /// What is wrong, e.g. "it needs exactly one `@`".
        reason: &'static str,
    },
    /// A number is above the maximum allowed (rule A6).
    AboveMaximum {
        /// The largest value allowed.
        max: u64,
    },
    /// The value is reserved; `reason` says why.
    Reserved {
        /// Why it is reserved.
        reason: &'static str,
    },
    /// The value cannot be changed once set (the email, a policy's name).
    Immutable,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldProblem::Empty => f.write_str("it is empty"),
            FieldProblem::TooShort { min } => write!(f, "it is shorter than {min} characters"),
            FieldProblem::TooLong { max } => write!(f, "it is longer than {max} characters"),
            FieldProblem::NoLetter => f.write_str("it has no letter"),
            FieldProblem::NoDigit => f.write_str("it has no digit"),
            FieldProblem::NoSpecial => f.write_str("it has no special character"),
            FieldProblem::BadCharacter { allowed } => {
                write!(f, "only {allowed} characters are allowed")
            }
            FieldProblem::ControlCharacter => f.write_str("it has a control character"),
            FieldProblem::BadSyntax { reason } => f.write_str(reason),
            FieldProblem::AboveMaximum { max } => write!(f, "it is above the maximum {max}"),
            FieldProblem::Reserved { reason } => write!(f, "it is reserved: {reason}"),
            FieldProblem::Immutable => f.write_str("it cannot be changed"),
        }
    }
}

/// One failing rule of one field: the field's name and the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldError {
    /// The field (`email`, `username`, `full name`, `password`, `cpu`, ...).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: FieldProblem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

pub(crate) fn join_fields(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
