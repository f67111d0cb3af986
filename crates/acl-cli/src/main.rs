//! The `acl` binary: parses the command line, runs it on the SQLite file, prints the
//! result and exits with the code of docs/cli.md. Everything lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    acl_cli::main_with(std::env::args_os())
}
