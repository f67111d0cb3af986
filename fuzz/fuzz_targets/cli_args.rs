//! The `acl` command line's parser (issue 6's surface, clap derive). Input: argument
//! vectors, NUL-separated. Property: parsing never panics, whatever the arguments (bytes
//! that are not UTF-8 included); a refusal is a usage error (exit 2) or a help or version
//! request (exit 0), never anything else; and parsing is deterministic: the same vector
//! parses to the same command. Commands are not run: several read or write files named
//! on the command line (`import`, `export`, `--db`), which a fuzzer must not do.
#![no_main]

use std::ffi::OsString;

use acl_cli::Cli;
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut args: Vec<OsString> = vec!["acl".into()];
    args.extend(
        data.split(|b| *b == 0)
            .take(24)
            .map(|arg| OsString::from(String::from_utf8_lossy(arg).into_owned())),
    );
    match Cli::try_parse_from(&args) {
        Ok(cli) => {
            let again = Cli::try_parse_from(&args)
                .unwrap_or_else(|e| panic!("{args:?} parsed once, then failed: {e}"));
            assert_eq!(format!("{cli:?}"), format!("{again:?}"), "{args:?}");
        }
        Err(err) => {
            let code = err.exit_code();
            assert!(code == 2 || code == 0, "{args:?}: exit code {code} for {err}");
        }
    }
});
