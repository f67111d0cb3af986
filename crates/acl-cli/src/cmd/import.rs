//! `acl import FILE`: bulk loading of grants from JSON lines, through
//! [`acl_core::Engine::grant_many`]: the whole file in one transaction by default, so a
//! failed import changes nothing; with `--batch N`, one transaction per N grants (the
//! batches before a failing one stay committed, and the error says so).

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use acl_core::{GrantOutcome, Level, PrincipalName, Uri, UriContext};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{CliError, Result};
use crate::output::Output;

/// One line of an import file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    uri: String,
    principal: String,
    level: String,
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress(len: u64, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Runs `acl import FILE [--batch N]`.
pub fn run(ctx: &Ctx, file: &Path, batch: Option<usize>) -> Result<Output> {
    let io = |action, source| CliError::Io {
        action,
        path: file.to_owned(),
        source,
    };
    let (input, len): (Box<dyn Read>, u64) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let handle = File::open(file).map_err(|e| io("open", e))?;
        let len = handle.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(handle), len)
    };
    let grants = parse(ctx, input, len).map_err(|err| match err {
        ParseError::Io(e) => io("read", e),
        ParseError::Cli(e) => e,
    })?;

    let total = grants.len();
    let batch = batch.unwrap_or(total).max(1);
    let bar = progress(
        total as u64,
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} grants committed",
    );
    let caller = ctx.caller()?;
    let (mut created, mut raised, mut kept) = (0usize, 0usize, 0usize);
    let mut revision = ctx.engine().reader()?.revision()?;
    let mut done = 0usize;
    for chunk in grants.chunks(batch) {
        let applied = ctx
            .engine()
            .grant_many(&caller, chunk)
            .map_err(|err| batch_error(err, done, total))?;
        for outcome in &applied.value {
            match outcome {
                GrantOutcome::Created => created += 1,
                GrantOutcome::Raised { .. } => raised += 1,
                GrantOutcome::Kept { .. } => kept += 1,
            }
        }
        revision = applied.revision;
        done += chunk.len();
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(Output::new(
        format!(
            "imported {total} grants: {created} created, {raised} raised, {kept} kept (revision {revision})\n"
        ),
        json!({ "grants": total, "created": created, "raised": raised, "kept": kept, "revision": revision }),
    ))
}

/// The error of a failed batch; when earlier batches were committed, it says how many.
fn batch_error(err: acl_core::Error, done: usize, total: usize) -> CliError {
    if done == 0 {
        return err.into();
    }
    let kind = err.kind();
    let message = format!("{err} (the first {done} of {total} grants were committed)");
    CliError::Engine(match kind {
        acl_core::ErrorKind::Forbidden => acl_core::Error::NotPermitted(message),
        acl_core::ErrorKind::NotFound => acl_core::Error::NotFound {
            what: "grantee",
            name: message,
        },
        acl_core::ErrorKind::Conflict => acl_core::Error::Conflict(message),
        acl_core::ErrorKind::Storage => acl_core::Error::Storage(message),
        _ => acl_core::Error::InvalidInput(message),
    })
}

enum ParseError {
    Io(std::io::Error),
    Cli(CliError),
}

/// Every line of `input` as a grant, short URIs resolved against the acting user.
fn parse(
    ctx: &Ctx,
    input: Box<dyn Read>,
    len: u64,
) -> Result<Vec<(Uri, PrincipalName, Level)>, ParseError> {
    let viewer = ctx.viewer().map_err(ParseError::Cli)?;
    let context = UriContext {
        cluster: viewer
            .reader()
            .cluster()
            .map_err(|e| ParseError::Cli(e.into()))?,
        user: viewer.viewer().clone(),
    };
    drop(viewer);
    let schema = ctx.engine().schema();
    let bar = progress(
        len,
        "{elapsed_precise} [{bar:40}] {binary_bytes}/{binary_total_bytes} read",
    );
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut grants = Vec::new();
    let mut buffer = String::new();
    let mut number = 0usize;
    loop {
        buffer.clear();
        let read = reader.read_line(&mut buffer).map_err(ParseError::Io)?;
        if read == 0 {
            break;
        }
        number += 1;
        bar.inc(read as u64);
        let text = buffer.trim();
        if text.is_empty() {
            continue;
        }
        let bad = |message: String| {
            ParseError::Cli(CliError::ImportLine {
                line: number,
                message,
            })
        };
        let line: Line = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let uri = schema
            .uri(&line.uri, Some(&context))
            .map_err(|e| bad(e.to_string()))?;
        let principal = PrincipalName::new(&line.principal).map_err(|e| bad(e.to_string()))?;
        let level: Level = line
            .level
            .parse()
            .map_err(|e: acl_core::ParseLevelError| bad(e.to_string()))?;
        grants.push((uri, principal, level));
    }
    bar.finish_and_clear();
    if grants.is_empty() {
        return Err(ParseError::Cli(
            acl_core::Error::InvalidInput("the import file holds no grant".into()).into(),
        ));
    }
    Ok(grants)
}
