//! acl-cli: the `acl` command-line tool, a thin adapter over the `acl` engine on an
//! embedded SQLite file.
//!
//! Every capability of the engine is a command: `acl grant URI PRINCIPAL LEVEL`,
//! `acl check PRINCIPAL URI LEVEL`, `acl folder invite tests bob --permission ro`, ... The
//! commands are parsed by [`Cli`] (clap derive) and run by [`run`], which returns an
//! [`Output`] (aligned text, or JSON with `--json`) or a [`CliError`] that carries the
//! exit code. `acl demo` walks through the whole system on a fresh database. `acl test`
//! and `acl validate` run and check model files (docs/cli.md, "Model files") on fresh
//! in-memory stores.
//!
//! # Invariants
//!
//! - **Thin.** No rule of access control is written here. Every command is authorized as
//!   the acting user (`--as`) through [`acl_core::Engine`], exactly as a service would be;
//!   reads of another principal's permissions are authorized by an engine check too
//!   (docs/cli.md, "Authorization of reads").
//! - **The adapter supplies time**: the core reads no clock, so each mutation gets the
//!   current time here ([`ctx::now`]).
//! - **A failed command changes nothing**: each command is one engine mutation (one
//!   transaction) or a read, so an error leaves the database as it was. The exceptions are
//!   stated where they are (`import --batch`, `import --model`, the demo's steps).
//! - **Only this crate knows exit codes**: 0 success and `allowed`; 77 denied or not
//!   permitted; 65 invalid input or no effect; 72 not found; 73 already exists or
//!   conflict; 2 usage (clap); 1 anything else.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cli;
mod cmd;
pub mod ctx;
mod error;
mod output;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

pub use cli::{Cli, Command};
pub use error::{
    CliError, EXIT_CONFLICT, EXIT_DENIED, EXIT_FAILURE, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_OK,
    EXIT_USAGE, Result,
};
pub use output::{Output, Verdict};

use clap::Parser;

/// Runs one parsed command line and returns what to print.
pub fn run(cli: &Cli) -> Result<Output> {
    cmd::dispatch(cli)
}

/// The whole program: parses `args`, runs the command, prints its output to stdout (or
/// its error to stderr) and returns the exit code.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are successes; everything else clap refuses is usage (2).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            });
        }
    };
    match run(&cli) {
        Ok(output) => {
            print_output(&output, cli.json);
            ExitCode::from(match output.verdict {
                Verdict::Ok => EXIT_OK,
                Verdict::Denied => EXIT_DENIED,
                Verdict::Failed(code) => code,
            })
        }
        Err(err) => {
            print_error(&err, cli.json);
            err.exit()
        }
    }
}

/// Prints a command's output: its text, or its JSON with `json`.
pub fn print_output(output: &Output, json: bool) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (`acl list | head`) is not an error of the command.
    let _ = if json {
        writeln!(stdout, "{}", output.json)
    } else {
        write!(stdout, "{}", output.text)
    };
    if !json && let Some(next) = &output.next {
        eprintln!("more results: pass --cursor {next}");
    }
}

/// Prints an error to stderr: one line naming what was wrong, or a JSON object with `json`.
pub fn print_error(err: &CliError, json: bool) {
    if json {
        let value = serde_json::json!({
            "error": { "kind": err.kind_name(), "code": err.exit_code(), "message": err.to_string() }
        });
        eprintln!("{value}");
    } else {
        eprintln!("error: {err}");
    }
}
