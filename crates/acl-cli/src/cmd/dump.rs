//! `acl dump FILE` and `acl restore FILE` (rule D5): the whole store as checksummed JSON
//! lines, and back into an empty database. The format and its checks are the platform's
//! (`acl_platform::dump_view`, `restore_into`); this module only opens the files.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use acl_platform::DumpSummary;
use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{CliError, Result};
use crate::output::Output;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CliError {
    let path = path.to_owned();
    move |source| CliError::Io {
        action,
        path,
        source,
    }
}

fn output(verb: &str, file: &Path, summary: &DumpSummary) -> Output {
    Output::new(
        format!(
            "{verb} {} rows at revision {} ({} lines, sha256 {}) {} {}\n",
            summary.rows.values().sum::<u64>(),
            summary.revision.0,
            summary.lines,
            summary.sha256,
            if verb == "dumped" { "to" } else { "from" },
            file.display()
        ),
        json!({
            "file": file,
            "revision": summary.revision.0,
            "lines": summary.lines,
            "sha256": summary.sha256,
            "rows": summary.rows,
        }),
    )
}

/// `acl dump FILE`: every row and the changelog, password and secret hashes included, so
/// the file is created readable by its owner only. Admins only (`manage` on `user://`).
pub fn dump(ctx: &Ctx, file: &Path) -> Result<Output> {
    let viewer = ctx.actor()?;
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = BufWriter::new(options.open(file).map_err(io("create", file))?);
    let summary = ctx.engine().dump(&viewer, &mut out)?;
    out.flush().map_err(io("write", file))?;
    Ok(output("dumped", file, &summary))
}

/// `acl --db DB restore FILE`: loads a dump into an empty database (created when absent),
/// in one transaction. A refused restore writes nothing, and a database file it created
/// is removed again.
pub fn restore(path: &Path, acting: Option<String>, file: &Path) -> Result<Output> {
    let mut input = BufReader::new(File::open(file).map_err(io("read", file))?);
    let existed = path.exists();
    let done =
        Ctx::open(path, acting, true).and_then(|ctx| Ok(ctx.engine().restore(&mut input)?));
    match done {
        Ok(summary) => Ok(output("restored", file, &summary)),
        Err(err) => {
            if !existed {
                remove_new_database(path);
            }
            Err(err)
        }
    }
}

/// Removes a database file a failed restore created, with its WAL companions.
fn remove_new_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        // Best effort: the file may not exist, and the restore's own error is the one to
        // report.
        let _ = std::fs::remove_file(Path::new(&name));
    }
}
