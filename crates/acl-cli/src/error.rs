//! The one error type of the CLI, and the exit codes (only this crate knows them).

use std::path::PathBuf;
use std::process::ExitCode;

use acl_core::ErrorKind;
use thiserror::Error;

/// Exit code of success, and of a check that answers `allowed`.
pub const EXIT_OK: u8 = 0;
/// Exit code of anything not covered below (a storage failure, an I/O error).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error (clap's own).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of invalid input, and of a command that would change nothing.
pub const EXIT_INVALID: u8 = 65;
/// Exit code of something named that does not exist.
pub const EXIT_NOT_FOUND: u8 = 72;
/// Exit code of something that already exists, or another conflict with the state.
pub const EXIT_CONFLICT: u8 = 73;
/// Exit code of a denial: a check answering `denied`, or a command not permitted.
pub const EXIT_DENIED: u8 = 77;

/// Every error a command can end with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// The engine or the store refused or failed; its kind decides the exit code.
    #[error(transparent)]
    Engine(#[from] acl_core::Error),
    /// A file could not be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done (`read`, `write`, `create`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A line of an import file is not a grant.
    #[error("line {line}: {message}")]
    ImportLine {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A model file has problems (each at its line and column), or an entry of it was
    /// refused while importing it.
    #[error("{}", .problems.iter().map(|p| format!("{}:{p}", .path.display())).collect::<Vec<_>>().join("\n"))]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong, where.
        problems: Vec<acl_platform::model::Problem>,
    },
    /// The master key (rule B1) is not 64 hexadecimal digits; the message names where it
    /// came from and never holds the key.
    #[error("invalid master key in {origin}: {problem}")]
    MasterKey {
        /// Where it came from: `ACL_MASTER_KEY`, or `--master-key-file `PATH``.
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The master key was given both ways.
    #[error(
        "give the master key once: ACL_MASTER_KEY is set and --master-key-file `{}` is given",
        .file.display()
    )]
    MasterKeyTwice {
        /// The key file given.
        file: PathBuf,
    },
    /// The server could not listen.
    #[error(transparent)]
    Serve(#[from] acl_server::ServeError),
    /// A step of the demo ended otherwise than the scenario says; the message names the
    /// step's command, and the exit code is the step's.
    #[error("demo step `{command}` failed: {message}")]
    Demo {
        /// The command of the step, as printed.
        command: String,
        /// The step's exit code.
        code: u8,
        /// What it printed.
        message: String,
    },
}

impl CliError {
    /// The exit code of this error (rule M4 of docs/semantics.md: the kinds map to 65, 72, 73, 77, 65, 1).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Engine(err) => kind_code(err.kind()),
            CliError::Io { .. } => EXIT_FAILURE,
            CliError::ImportLine { .. }
            | CliError::Model { .. }
            | CliError::MasterKey { .. }
            | CliError::MasterKeyTwice { .. } => EXIT_INVALID,
            CliError::Demo { code, .. } => *code,
            CliError::Serve(_) => EXIT_FAILURE,
        }
    }

    /// A short snake_case name of the error's kind, for JSON output.
    pub fn kind_name(&self) -> &'static str {
        match self {
            CliError::Engine(err) => err.kind().as_str(),
            CliError::Io { .. } => "io",
            CliError::ImportLine { .. }
            | CliError::Model { .. }
            | CliError::MasterKey { .. }
            | CliError::MasterKeyTwice { .. } => ErrorKind::InvalidInput.as_str(),
            CliError::Demo { .. } => "demo",
            CliError::Serve(_) => "serve",
        }
    }

    /// The process exit code.
    pub fn exit(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

/// The exit code of an engine error kind.
pub fn kind_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::NoEffect => EXIT_INVALID,
        ErrorKind::NotFound => EXIT_NOT_FOUND,
        ErrorKind::Conflict => EXIT_CONFLICT,
        ErrorKind::Forbidden => EXIT_DENIED,
        // Storage, and any kind added later: a failure, not a verdict.
        _ => EXIT_FAILURE,
    }
}

/// The result type of the CLI.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    // rule M4: each kind has its own code; no-effect shares invalid input's
    #[test]
    fn kinds_map_to_exit_codes() {
        let cases = [
            (ErrorKind::InvalidInput, 65),
            (ErrorKind::NoEffect, 65),
            (ErrorKind::NotFound, 72),
            (ErrorKind::Conflict, 73),
            (ErrorKind::Forbidden, 77),
            (ErrorKind::Storage, 1),
        ];
        for (kind, code) in cases {
            assert_eq!(kind_code(kind), code, "{kind}");
        }
    }
}
