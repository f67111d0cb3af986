//! Dump and restore (rule D5): a whole store, kernel and platform rows and the changelog,
//! as JSON lines with a content checksum, to move it between backends (SQLite to
//! PostgreSQL, a file to memory) or keep it.
//!
//! # Format
//!
//! One JSON object per line, `{"t": KIND, "row": ROW}`:
//!
//! 1. `header`: `{"format": "acl-dump", "version": 1, "revision": R, "cluster": C}`;
//! 2. the rows, in this order and each kind sorted by its key's canonical text, so a dump
//!    of the same content is the same bytes on every backend: `principal`, `edge`,
//!    `grant`, `fence`, `policy`, `account`, `keypair`, `session`, `group`, `folder`,
//!    `share`, `invitation`, `vm`, then the changelog as `change` entries, in revision
//!    order (revisions 1 to R, one apart);
//! 3. `end`: `{"lines": N, "sha256": HEX}`, the count of lines before it and the SHA-256
//!    of their bytes, newlines included.
//!
//! Rows are the store contract's own types with their serde forms; reading them back
//! validates every value with the same constructors as any input. Account and keypair
//! rows carry their argon2 hashes (never a plain secret): a dump is as sensitive as the
//! database file.
//!
//! # Invariants
//!
//! - A restore reads and checks the whole dump (syntax, values, order of the changelog,
//!   line count, checksum) before it opens a transaction, and writes it in ONE write
//!   transaction committed with the dump's own changelog entries
//!   ([`acl_core::WriteTxn::commit_history`]): a refused restore writes nothing.
//! - A restore refuses a store that is not empty (a cluster or any revision).
//! - Dump, restore, dump gives the same bytes, whatever the two backends.

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use acl_core::txn::{authorize, canonical_name};
use acl_core::{
    ChangeEntry, ClusterName, Edge, Error, Fence, Grant, Level, PrincipalRecord, ReadView,
    ReadViewExt, Result, Revision, Uri, WriteTxn,
};

use crate::ALL;
use crate::account::{Account, GroupInfo, Keypair};
use crate::folder::{Folder, Invitation, InvitationKey, Share, Vm};
use crate::platform::Platform;
use crate::policy::{ResourcePolicy, Session};
use crate::store::{PlatformStore, PlatformTxn, PlatformView};

/// The `format` of a dump's header.
pub const DUMP_FORMAT: &str = "acl-dump";

/// The version of the format this build writes and reads.
pub const DUMP_VERSION: u32 = 1;

/// The first line of a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    revision: u64,
    cluster: Option<String>,
}

/// The last line of a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    lines: u64,
    sha256: String,
}

/// One line of a dump.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    tag = "t",
    content = "row",
    rename_all = "snake_case",
    deny_unknown_fields
)]
enum Line {
    Header(Header),
    Principal(PrincipalRecord),
    Edge(Edge),
    Grant(Grant),
    Fence(Fence),
    Policy(ResourcePolicy),
    Account(Account),
    Keypair(Keypair),
    Session(Session),
    Group(GroupInfo),
    Folder(Folder),
    Share(Share),
    Invitation(Invitation),
    Vm(Vm),
    Change(ChangeEntry),
    End(End),
}

impl Line {
    /// The kind, as it is written (`principal`, `grant`, ...).
    fn kind(&self) -> &'static str {
        match self {
            Line::Header(_) => "header",
            Line::Principal(_) => "principal",
            Line::Edge(_) => "edge",
            Line::Grant(_) => "grant",
            Line::Fence(_) => "fence",
            Line::Policy(_) => "policy",
            Line::Account(_) => "account",
            Line::Keypair(_) => "keypair",
            Line::Session(_) => "session",
            Line::Group(_) => "group",
            Line::Folder(_) => "folder",
            Line::Share(_) => "share",
            Line::Invitation(_) => "invitation",
            Line::Vm(_) => "vm",
            Line::Change(_) => "change",
            Line::End(_) => "end",
        }
    }
}

/// What a dump or a restore moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpSummary {
    /// The revision of the state dumped, or restored.
    pub revision: Revision,
    /// The lines before the checksum line.
    pub lines: u64,
    /// The SHA-256 of those lines, in hex.
    pub sha256: String,
    /// How many rows of each kind (`principal`, `grant`, `change`, ...); kinds with none
    /// are left out.
    pub rows: BTreeMap<&'static str, u64>,
}

/// Writes lines, hashing and counting them.
struct Writer<'o> {
    out: &'o mut dyn io::Write,
    hash: Sha256,
    lines: u64,
    rows: BTreeMap<&'static str, u64>,
}

impl Writer<'_> {
    fn line(&mut self, line: &Line) -> Result<()> {
        let mut text = serde_json::to_vec(line)
            .map_err(|e| Error::Storage(format!("encoding a {} line: {e}", line.kind())))?;
        text.push(b'\n');
        self.out.write_all(&text).map_err(write_err)?;
        self.hash.update(&text);
        self.lines += 1;
        if !matches!(line, Line::Header(_)) {
            *self.rows.entry(line.kind()).or_default() += 1;
        }
        Ok(())
    }

    fn all<T>(&mut self, rows: Vec<T>, wrap: fn(T) -> Line) -> Result<()> {
        rows.into_iter().try_for_each(|row| self.line(&wrap(row)))
    }
}

fn write_err(e: io::Error) -> Error {
    Error::Storage(format!("writing the dump: {e}"))
}

/// Sorts `rows` by the text of `key`, the byte order every backend lists in.
fn sorted<T>(mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    rows.sort_by_cached_key(key);
    rows
}

/// Writes the whole state `view` sees to `out` in the dump format (module docs); no
/// authorization: [`Platform::dump`] is the call for an actor.
pub fn dump_view<V: PlatformView + ?Sized>(
    view: &V,
    out: &mut dyn io::Write,
) -> Result<DumpSummary> {
    let revision = view.revision()?;
    let mut w = Writer {
        out,
        hash: Sha256::new(),
        lines: 0,
        rows: BTreeMap::new(),
    };
    w.line(&Line::Header(Header {
        format: DUMP_FORMAT.into(),
        version: DUMP_VERSION,
        revision: revision.0,
        cluster: view.cluster()?.map(|c| c.as_str().to_owned()),
    }))?;
    let principals = sorted(view.principals(None, ALL)?, |p| p.name.to_string());
    let mut edges = Vec::new();
    let mut grants = Vec::new();
    let mut groups = Vec::new();
    let mut folders = Vec::new();
    let mut vms = Vec::new();
    for p in &principals {
        edges.extend(
            view.roles_of(std::slice::from_ref(&p.name))?
                .into_iter()
                .map(|(member, role)| Edge {
                    member,
                    role: role.name,
                }),
        );
        grants.extend(view.grants_of(&p.name, None, None, ALL)?);
        groups.extend(view.group_info(&p.name)?);
        folders.extend(view.folders_of(&p.name)?);
        vms.extend(view.vms_of(&p.name)?);
    }
    let folders = sorted(folders, |f| f.id.as_str().to_owned());
    let mut shares = Vec::new();
    let mut invitations = Vec::new();
    for f in &folders {
        shares.extend(view.shares_of_folder(&f.id)?);
        invitations.extend(view.invitations(&InvitationKey::Folder(f.id.clone()))?);
    }
    w.all(principals, Line::Principal)?;
    w.all(
        sorted(edges, |e| format!("{}\n{}", e.member, e.role)),
        Line::Edge,
    )?;
    w.all(
        sorted(grants, |g| format!("{}\n{}", g.holder, g.uri)),
        Line::Grant,
    )?;
    w.all(
        sorted(view.fences(None, None, ALL)?, |f| {
            format!("{}\n{}", f.uri, f.group)
        }),
        Line::Fence,
    )?;
    w.all(
        sorted(view.policies()?, |p| p.name.as_str().to_owned()),
        Line::Policy,
    )?;
    w.all(
        sorted(view.accounts(None, ALL)?, |a| a.user.to_string()),
        Line::Account,
    )?;
    w.all(
        sorted(view.keypairs(None, ALL)?, |k| {
            k.access_key.as_str().to_owned()
        }),
        Line::Keypair,
    )?;
    w.all(
        sorted(view.sessions(None, ALL)?, |s| s.id.as_str().to_owned()),
        Line::Session,
    )?;
    w.all(sorted(groups, |g| g.name.to_string()), Line::Group)?;
    w.all(folders, Line::Folder)?;
    w.all(
        sorted(shares, |s| format!("{}\n{}", s.folder.as_str(), s.user)),
        Line::Share,
    )?;
    w.all(
        sorted(invitations, |i| i.id.as_str().to_owned()),
        Line::Invitation,
    )?;
    w.all(sorted(vms, |v| v.id.as_str().to_owned()), Line::Vm)?;
    let mut after = Revision(0);
    loop {
        let page = view.changes(after, None, 1024)?;
        let Some(last) = page.last() else { break };
        after = last.revision;
        w.all(page, Line::Change)?;
    }
    let sha256 = hex(&w.hash.clone().finalize());
    let lines = w.lines;
    w.line(&Line::End(End {
        lines,
        sha256: sha256.clone(),
    }))?;
    w.out.flush().map_err(write_err)?;
    Ok(DumpSummary {
        revision,
        lines,
        sha256,
        rows: w.rows,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A dump read and checked whole, ready to write.
struct Parsed {
    header: Header,
    rows: Vec<Line>,
    changes: Vec<ChangeEntry>,
    summary: DumpSummary,
}

fn bad(line: u64, what: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("dump line {line}: {what}"))
}

/// Reads and checks a whole dump: every line's syntax and values, the header, the kinds'
/// order, the changelog's numbering, the line count and the checksum.
fn parse(input: &mut dyn BufRead) -> Result<Parsed> {
    let mut hash = Sha256::new();
    let mut number = 0u64;
    let mut header = None;
    let mut rows = Vec::new();
    let mut changes: Vec<ChangeEntry> = Vec::new();
    let mut counts = BTreeMap::new();
    let mut rank = 0usize;
    let mut text = Vec::new();
    loop {
        text.clear();
        let read = input
            .read_until(b'\n', &mut text)
            .map_err(|e| Error::Storage(format!("reading the dump: {e}")))?;
        if read == 0 {
            return Err(Error::InvalidInput(format!(
                "the dump ends after {number} lines without its checksum line: it is cut short"
            )));
        }
        number += 1;
        let line: Line = serde_json::from_slice(text.trim_ascii_end())
            .map_err(|e| bad(number, format_args!("not a dump line: {e}")))?;
        if let Line::End(end) = &line {
            let sha256 = hex(&hash.finalize());
            if end.lines != number - 1 {
                return Err(bad(
                    number,
                    format_args!(
                        "the checksum line counts {} lines, the dump has {}",
                        end.lines,
                        number - 1
                    ),
                ));
            }
            if end.sha256 != sha256 {
                return Err(bad(
                    number,
                    format_args!(
                        "checksum mismatch: the dump says sha256 {}, its content is {sha256}",
                        end.sha256
                    ),
                ));
            }
            text.clear();
            let more = input
                .read_until(b'\n', &mut text)
                .map_err(|e| Error::Storage(format!("reading the dump: {e}")))?;
            if more != 0 {
                return Err(bad(number + 1, "text after the checksum line"));
            }
            let header = header.ok_or_else(|| bad(1, "the dump has no header"))?;
            return finish(header, rows, changes, counts, number - 1, sha256);
        }
        hash.update(&text);
        let order = DUMP_ORDER
            .iter()
            .position(|k| *k == line.kind())
            .unwrap_or(DUMP_ORDER.len());
        if order < rank {
            return Err(bad(
                number,
                format_args!(
                    "a {} line after the {} lines",
                    line.kind(),
                    DUMP_ORDER.get(rank).copied().unwrap_or("last")
                ),
            ));
        }
        rank = order;
        match line {
            Line::Header(h) => {
                if number != 1 {
                    return Err(bad(number, "a second header"));
                }
                if h.format != DUMP_FORMAT || h.version != DUMP_VERSION {
                    return Err(bad(
                        number,
                        format_args!(
                            "format `{}` version {}: this build reads `{DUMP_FORMAT}` version \
                             {DUMP_VERSION}",
                            h.format, h.version
                        ),
                    ));
                }
                header = Some(h);
            }
            _ if header.is_none() => {
                return Err(bad(number, "the dump does not start with its header"));
            }
            Line::Change(entry) => {
                let due = changes.last().map_or(Revision(0), |c| c.revision).next();
                if entry.revision != due {
                    return Err(bad(
                        number,
                        format_args!(
                            "changelog entry of revision {} where revision {} was due",
                            entry.revision.0, due.0
                        ),
                    ));
                }
                *counts.entry("change").or_default() += 1;
                changes.push(entry);
            }
            row => {
                *counts.entry(row.kind()).or_default() += 1;
                rows.push(row);
            }
        }
    }
}

/// The kinds of line in the order a dump holds them (the `end` line last, not listed).
pub const DUMP_ORDER: [&str; 15] = [
    "header",
    "principal",
    "edge",
    "grant",
    "fence",
    "policy",
    "account",
    "keypair",
    "session",
    "group",
    "folder",
    "share",
    "invitation",
    "vm",
    "change",
];

fn finish(
    header: Header,
    rows: Vec<Line>,
    changes: Vec<ChangeEntry>,
    counts: BTreeMap<&'static str, u64>,
    lines: u64,
    sha256: String,
) -> Result<Parsed> {
    let last = changes.last().map_or(0, |c| c.revision.0);
    if last != header.revision {
        return Err(Error::InvalidInput(format!(
            "the dump's header says revision {}, its changelog ends at revision {last}",
            header.revision
        )));
    }
    if header.cluster.is_none() && !rows.is_empty() {
        return Err(Error::InvalidInput(
            "the dump has rows but no cluster".into(),
        ));
    }
    Ok(Parsed {
        summary: DumpSummary {
            revision: Revision(header.revision),
            lines,
            sha256,
            rows: counts,
        },
        header,
        rows,
        changes,
    })
}

/// Restores a dump into `store`, which must be empty (no cluster, revision 0): the whole
/// dump is read and checked first, then written in ONE transaction committed with the
/// dump's changelog (module docs). Refused, it writes nothing. No authorization: an empty
/// store has no one to ask.
pub fn restore_into<S: PlatformStore>(store: &S, input: &mut dyn BufRead) -> Result<DumpSummary> {
    let parsed = parse(input)?;
    let mut tx = store.write()?;
    let current = tx.revision()?;
    if current != Revision(0) || tx.cluster()?.is_some() {
        return Err(Error::Conflict(format!(
            "a dump is restored only into an empty store; this one is at revision {}",
            current.0
        )));
    }
    if parsed.changes.is_empty() {
        return Ok(parsed.summary);
    }
    if let Some(cluster) = &parsed.header.cluster {
        tx.set_cluster(&ClusterName::new(cluster)?)?;
    }
    for row in &parsed.rows {
        match row {
            Line::Principal(p) => tx.insert_principal(p)?,
            Line::Edge(e) => {
                tx.set_edge(e, true)?;
            }
            Line::Grant(g) => tx.put_grant(g)?,
            Line::Fence(f) => {
                tx.set_fence(f, true)?;
            }
            Line::Policy(p) => tx.put_policy(p)?,
            Line::Account(a) => tx.put_account(a)?,
            Line::Keypair(k) => tx.put_keypair(k)?,
            Line::Session(s) => tx.put_session(s)?,
            Line::Group(g) => tx.put_group_info(g)?,
            Line::Folder(f) => tx.put_folder(f)?,
            Line::Share(s) => tx.put_share(s)?,
            Line::Invitation(i) => tx.put_invitation(i)?,
            Line::Vm(v) => tx.put_vm(v)?,
            Line::Header(_) | Line::Change(_) | Line::End(_) => {}
        }
    }
    tx.commit_history(&parsed.changes)?;
    Ok(parsed.summary)
}

impl<S: PlatformStore> Platform<S> {
    /// Writes the whole store to `out` as a dump (rule D5; format in the module docs of
    /// `dump`): every row, password and secret hashes included, and the changelog. The
    /// viewer needs `manage` on `user://` (an administrator's).
    pub fn dump(
        &self,
        viewer: &acl_core::PrincipalName,
        out: &mut dyn io::Write,
    ) -> Result<DumpSummary> {
        let view = self.store().read()?;
        let cluster = view
            .cluster()?
            .ok_or_else(|| Error::InvalidInput("the store is not initialized".into()))?;
        let viewer = canonical_name(&cluster, viewer);
        authorize(
            &view,
            &viewer,
            &Uri::root("user")?,
            Level::Manage,
            "dump the store",
        )?;
        dump_view(&view, out)
    }

    /// Restores a dump into this platform's store, which must be empty
    /// ([`restore_into`]).
    pub fn restore(&self, input: &mut dyn BufRead) -> Result<DumpSummary> {
        restore_into(self.store(), input)
    }
}
