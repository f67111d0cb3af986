//! The read queries, on a connection that is inside a transaction (a read view's or the
//! write transaction's). Rows read back are validated: a row that does not decode to a
//! valid value is reported as [`Error::Storage`] naming the table, never a panic.

use std::cmp::Ordering;

use rusqlite::{CachedStatement, Connection, Params, Row, ToSql};

use acl_core::{
    Change, ChangeEntry, ClusterName, Error, Fence, Grant, InvitationState, Level, PrincipalKind,
    PrincipalName, PrincipalRecord, Result, Revision, RoleGraph, RowKey, Timestamp, Uri,
};

use acl_platform::{
    Folder, FolderId, FolderKind, FolderName, FolderStatus, Invitation, InvitationId,
    InvitationKey, Permission, Share, Vm, VmId,
};

use acl_platform::{
    AccessKey, Account, AccountKey, Email, GroupInfo, Hosts, Keypair, Limit, Limits, PolicyName,
    Resource, ResourcePolicy, SealedSecret, SecretHash, Session, SessionId, SessionRequest,
    UserRole, UserStatus,
};

use crate::sql::{self, CHUNK, bucket, db_err};

/// A `LIMIT` value for `limit` (SQLite takes a signed 64-bit integer).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// `sql` from the connection's statement cache.
pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> Result<CachedStatement<'c>> {
    conn.prepare_cached(sql)
        .map_err(db_err("preparing a statement"))
}

/// Runs `stmt` and decodes every row.
pub(crate) fn collect<T>(
    stmt: &mut CachedStatement<'_>,
    params: impl Params,
    mut decode: impl FnMut(&Row<'_>) -> Result<T>,
    out: &mut Vec<T>,
) -> Result<()> {
    let mut rows = stmt.query(params).map_err(db_err("running a query"))?;
    while let Some(row) = rows.next().map_err(db_err("reading a row"))? {
        out.push(decode(row)?);
    }
    Ok(())
}

fn corrupt(table: &str, what: impl std::fmt::Display) -> Error {
    Error::Storage(format!("corrupt row in table `{table}`: {what}"))
}

fn text<'r>(row: &'r Row<'_>, idx: usize, table: &str) -> Result<&'r str> {
    row.get_ref(idx)
        .map_err(|e| corrupt(table, e))?
        .as_str()
        .map_err(|e| corrupt(table, format!("column {idx}: {e}")))
}

/// Column `idx` of `row` as an integer; anything else is a corrupt row of `table`.
pub(crate) fn int(row: &Row<'_>, idx: usize, table: &str) -> Result<i64> {
    row.get_ref(idx)
        .map_err(|e| corrupt(table, e))?
        .as_i64()
        .map_err(|e| corrupt(table, format!("column {idx}: {e}")))
}

pub(crate) fn name(row: &Row<'_>, idx: usize, table: &str) -> Result<PrincipalName> {
    let raw = text(row, idx, table)?;
    PrincipalName::new(raw).map_err(|e| corrupt(table, e))
}

pub(crate) fn uri(row: &Row<'_>, idx: usize, table: &str) -> Result<Uri> {
    let raw = text(row, idx, table)?;
    let uri = Uri::parse(raw).map_err(|e| corrupt(table, e))?;
    if uri.as_str() != raw {
        return Err(corrupt(
            table,
            format!("uri `{}` is not in canonical form", uri.as_str()),
        ));
    }
    Ok(uri)
}

fn level(row: &Row<'_>, idx: usize, table: &str) -> Result<Level> {
    let rank = int(row, idx, table)?;
    u8::try_from(rank)
        .ok()
        .and_then(Level::from_rank)
        .ok_or_else(|| corrupt(table, format!("level rank {rank} is not 0..=4")))
}

fn record(row: &Row<'_>, first: usize) -> Result<PrincipalRecord> {
    let name = name(row, first, "principals")?;
    record_named(row, first + 1, name)
}

/// The record of principal `name` from its `kind, active` columns at `first`: for a row
/// found by the name, whose text is then not read and checked again.
fn record_named(row: &Row<'_>, first: usize, name: PrincipalName) -> Result<PrincipalRecord> {
    let table = "principals";
    let rank = int(row, first, table)?;
    let kind = u8::try_from(rank)
        .ok()
        .and_then(PrincipalKind::from_rank)
        .ok_or_else(|| corrupt(table, format!("kind {rank} is not 0..=2")))?;
    let active = match int(row, first + 1, table)? {
        0 => false,
        1 => true,
        other => return Err(corrupt(table, format!("active {other} is not 0 or 1"))),
    };
    Ok(PrincipalRecord { name, kind, active })
}

/// Decodes `holder, uri, level`.
fn grant(row: &Row<'_>) -> Result<Grant> {
    Ok(Grant {
        holder: name(row, 0, "grants")?,
        uri: uri(row, 1, "grants")?,
        level: level(row, 2, "grants")?,
    })
}

/// Decodes `uri, grp`.
fn fence(row: &Row<'_>) -> Result<Fence> {
    Ok(Fence {
        uri: uri(row, 0, "fences")?,
        group: name(row, 1, "fences")?,
    })
}

fn change_entry(row: &Row<'_>) -> Result<ChangeEntry> {
    let table = "changelog";
    let revision = int(row, 0, table)?;
    let revision = u64::try_from(revision)
        .map_err(|_| corrupt(table, format!("revision {revision} is negative")))?;
    let actor = match row.get_ref(2).map_err(|e| corrupt(table, e))? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(name(row, 2, table)?),
    };
    Ok(ChangeEntry {
        revision: Revision(revision),
        change: Change {
            at: Timestamp(int(row, 1, table)?),
            actor,
            action: text(row, 3, table)?.to_owned(),
            target: text(row, 4, table)?.to_owned(),
            detail: text(row, 5, table)?.to_owned(),
        },
    })
}

/// The distinct texts of `items`, sorted, so chunks never overlap and no row is returned
/// twice.
fn distinct<T: AsRef<str>>(items: &[T]) -> Vec<&str> {
    distinct_items(items)
        .into_iter()
        .map(AsRef::as_ref)
        .collect()
}

/// The items of `items` sorted by their text, each text once.
fn distinct_items<T: AsRef<str>>(items: &[T]) -> Vec<&T> {
    let mut out: Vec<&T> = items.iter().collect();
    out.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    out.dedup_by(|a, b| a.as_ref() == b.as_ref());
    out
}

/// `chunk` padded with NULLs (which match no row) to its bucket size.
fn padded<'a>(chunk: &[&'a str]) -> Vec<Option<&'a str>> {
    let mut out: Vec<Option<&str>> = chunk.iter().copied().map(Some).collect();
    out.resize(bucket(chunk.len()), None);
    out
}

// ---- the queries ---------------------------------------------------------------------

pub(crate) fn revision(conn: &Connection) -> Result<Revision> {
    let mut stmt = prepare(conn, sql::REVISION)?;
    let mut out = Vec::with_capacity(1);
    collect(&mut stmt, [], |row| int(row, 0, "meta"), &mut out)?;
    match out.as_slice() {
        [value] => u64::try_from(*value)
            .map(Revision)
            .map_err(|_| corrupt("meta", format!("revision {value} is negative"))),
        _ => Err(corrupt("meta", "the meta row is missing")),
    }
}

pub(crate) fn cluster(conn: &Connection) -> Result<Option<ClusterName>> {
    let mut stmt = prepare(conn, sql::CLUSTER)?;
    let mut out = Vec::with_capacity(1);
    collect(
        &mut stmt,
        [],
        |row| match row.get_ref(0).map_err(|e| corrupt("meta", e))? {
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => {
                let raw = text(row, 0, "meta")?;
                ClusterName::new(raw)
                    .map(Some)
                    .map_err(|e| corrupt("meta", e))
            }
        },
        &mut out,
    )?;
    match out.pop() {
        Some(value) if out.is_empty() => Ok(value),
        _ => Err(corrupt("meta", "the meta row is missing")),
    }
}

pub(crate) fn principal(
    conn: &Connection,
    name: &PrincipalName,
) -> Result<Option<PrincipalRecord>> {
    Ok(principal_with_id(conn, name)?.map(|(record, _)| record))
}

/// The principal named `name` and its integer id, if it exists. The record's name is the
/// asked one (the row was found by it).
pub(crate) fn principal_with_id(
    conn: &Connection,
    name: &PrincipalName,
) -> Result<Option<(PrincipalRecord, i64)>> {
    let mut stmt = prepare(conn, sql::PRINCIPAL)?;
    let mut out = Vec::with_capacity(1);
    collect(
        &mut stmt,
        [name.as_str()],
        |row| {
            let id = int(row, 0, "principals")?;
            Ok((record_named(row, 1, name.clone())?, id))
        },
        &mut out,
    )?;
    Ok(out.pop())
}

pub(crate) fn principals(
    conn: &Connection,
    after: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<PrincipalRecord>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let mut stmt = prepare(conn, sql::PRINCIPALS)?;
    let after = after.map_or("", PrincipalName::as_str);
    collect(
        &mut stmt,
        (after, sql_limit(limit)),
        |row| record(row, 0),
        &mut out,
    )?;
    Ok(out)
}

/// Runs a one-list batch statement (`make(bucket)`) over `keys` in chunks, decoding each
/// row with `decode`.
fn batch<T>(
    conn: &Connection,
    keys: &[&str],
    make: fn(usize) -> &'static str,
    mut decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let values = padded(chunk);
        let mut stmt = prepare(conn, make(values.len()))?;
        collect(
            &mut stmt,
            rusqlite::params_from_iter(values),
            &mut decode,
            &mut out,
        )?;
    }
    Ok(out)
}

fn edge_pairs(
    conn: &Connection,
    keys: &[PrincipalName],
    make: fn(usize) -> &'static str,
) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
    let keys = distinct(keys);
    batch(conn, &keys, make, |row| {
        Ok((name(row, 0, "edges")?, record(row, 1)?))
    })
}

pub(crate) fn members_of(
    conn: &Connection,
    roles: &[PrincipalName],
) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
    edge_pairs(conn, roles, sql::members_of)
}

/// The edges reachable from `start`, read from the `reach` table (schema step 5) with one
/// range scan, each row carrying its role's record (step 6): each role's record once (sorted by id, with
/// its node number), and the edges as (member id, role id).
struct Reached {
    start: Option<i64>,
    roles: Vec<PrincipalRecord>,
    /// (id, index in `roles`), sorted by id.
    known: Vec<(i64, usize)>,
    edges: Vec<(i64, i64)>,
}

/// Whose closure [`Reached::read`] reads: a principal by name, or by the integer id a
/// lookup of it in the same snapshot found.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a> {
    /// By name: the statement finds the id.
    Name(&'a PrincipalName),
    /// By id: one seek fewer.
    Id(i64),
}

/// The rows a closure read reserves room for up front.
const REACH_ROWS_HINT: usize = 64;

impl Reached {
    fn read(conn: &Connection, start: Start<'_>) -> Result<Reached> {
        let (sql, known_start, first) = match start {
            Start::Name(_) => (sql::REACH_OF_NAME, None, 1),
            Start::Id(id) => (sql::REACH_OF_ID, Some(id), 0),
        };
        let mut stmt = prepare(conn, sql)?;
        let mut rows = match start {
            Start::Name(name) => stmt.query([name.as_str()]),
            Start::Id(id) => stmt.query([id]),
        }
        .map_err(db_err("running a query"))?;
        // Sized for a typical closure (38 rows per user on the medium workload), so the
        // vectors are not regrown row by row (7k instructions per check).
        let mut out = Reached {
            start: known_start,
            roles: Vec::with_capacity(REACH_ROWS_HINT),
            known: Vec::with_capacity(REACH_ROWS_HINT),
            edges: Vec::with_capacity(REACH_ROWS_HINT),
        };
        while let Some(row) = rows.next().map_err(db_err("reading a row"))? {
            // The same in every row: read once.
            let start = match out.start {
                Some(start) => start,
                None => *out.start.insert(int(row, 0, "reach")?),
            };
            let (member, role) = (int(row, first, "reach")?, int(row, first + 1, "reach")?);
            if role != start
                && let Err(at) = out.known.binary_search_by_key(&role, |(id, _)| *id)
            {
                out.known.insert(at, (role, out.roles.len()));
                out.roles.push(record(row, first + 2)?);
            }
            out.edges.push((member, role));
        }
        Ok(out)
    }

    /// The node of principal `id`: 0 for the start, `i + 1` for `roles[i]`. Every member
    /// is the start or a role the start reaches, so every id of a row has one.
    fn node(&self, id: i64) -> Result<usize> {
        if Some(id) == self.start {
            return Ok(0);
        }
        self.known
            .binary_search_by_key(&id, |(id, _)| *id)
            .ok()
            .and_then(|at| self.known.get(at))
            .map(|(_, index)| index + 1)
            .ok_or_else(|| corrupt("reach", format!("principal id {id} is not reached")))
    }

    fn into_graph(self) -> Result<RoleGraph> {
        let edges = self
            .edges
            .iter()
            .map(|&(member, role)| Ok((self.node(member)?, self.node(role)?)))
            .collect::<Result<_>>()?;
        Ok(RoleGraph {
            roles: self.roles,
            edges,
        })
    }
}

/// The role graph reachable from `start` (see [`Reached`]). A layer-by-layer walk of
/// `edges` took one statement per layer of the role graph (143k instructions per check on
/// the medium workload, depth 4); a recursive CTE cost more still (246k).
pub(crate) fn reachable_graph(conn: &Connection, start: Start<'_>) -> Result<RoleGraph> {
    Reached::read(conn, start)?.into_graph()
}

/// Up to this many (holder, URI) pairs, `grants_at` runs one point lookup per pair.
const SMALL_PAIRS: usize = 4;

/// Rows a URI-first probe of `grants_at` reads before it gives up for pair probes.
const URI_FIRST_CAP: usize = 256;

/// Up to this many holders, a row's holder is looked for by a linear scan of the asked
/// ones rather than a binary search of them sorted: a check's URI-first probe reads a few
/// rows (4.6 on the medium workload) against its closure (20 names), and sorting the names
/// cost more than the scans.
const LINEAR_HOLDERS: usize = 64;

/// The holders a `grants_at` question asks about, for finding a row's holder among them.
enum Holders<'a> {
    /// Few: scanned in the order given.
    Few(&'a [PrincipalName]),
    /// Many: sorted by name, deduplicated.
    Sorted(Vec<&'a PrincipalName>),
}

impl<'a> Holders<'a> {
    fn new(holders: &'a [PrincipalName]) -> Holders<'a> {
        if holders.len() <= LINEAR_HOLDERS {
            return Holders::Few(holders);
        }
        Holders::Sorted(distinct_items(holders))
    }

    /// The asked holder whose name is `text`, if any.
    fn find(&self, text: &str) -> Option<&'a PrincipalName> {
        match self {
            Holders::Few(all) => all.iter().find(|h| h.as_str() == text),
            Holders::Sorted(sorted) => sorted
                .binary_search_by(|h| h.as_str().cmp(text))
                .ok()
                .and_then(|at| sorted.get(at).copied()),
        }
    }
}

/// The URI among `sorted` (see [`distinct_items`]) whose text is `text`, if any.
fn find_uri<'a>(sorted: &[&'a Uri], text: &str) -> Option<&'a Uri> {
    sorted
        .binary_search_by(|u| u.as_str().cmp(text))
        .ok()
        .and_then(|at| sorted.get(at).copied())
}

/// A `holder, uri, level` row whose URI is one of `uris` (a statement that joined on
/// them): the URI is cloned from the question, whose text the row's equals, rather than
/// parsed and checked again (a URI parse cost more than the rest of a row); a URI that is
/// not among them is decoded from the row.
fn grant_of(row: &Row<'_>, holder: PrincipalName, uris: &[&Uri]) -> Result<Grant> {
    let table = "grants";
    let uri = match find_uri(uris, text(row, 1, table)?) {
        Some(uri) => uri.clone(),
        None => uri(row, 1, table)?,
    };
    Ok(Grant {
        holder,
        uri,
        level: level(row, 2, table)?,
    })
}

/// `grants_at` answered URI first: one seek per URI on the `(uri, holder)` index, holders
/// filtered here (before anything is decoded). `None` when the URIs hold more than
/// [`URI_FIRST_CAP`] grants together, so a popular URI never makes a check read more than
/// a bounded number of rows (rule E7).
fn grants_at_by_uri(
    conn: &Connection,
    holders: &Holders<'_>,
    uris: &[&Uri],
) -> Result<Option<Vec<Grant>>> {
    // One statement over a `VALUES` table of the URIs, even for a check's few ancestors:
    // cheaper than a cached point query per URI (grants_at 39k -> 36k instructions).
    let texts: Vec<&str> = uris.iter().map(|u| u.as_str()).collect();
    let values = padded(&texts);
    let mut stmt = prepare(conn, sql::grants_on_capped(values.len()))?;
    let cap = sql_limit(URI_FIRST_CAP);
    let params = values
        .iter()
        .map(|v| v as &dyn ToSql)
        .chain(std::iter::once(&cap as &dyn ToSql));
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(db_err("running a query"))?;
    let (mut seen, mut out) = (0usize, Vec::new());
    while let Some(row) = rows.next().map_err(db_err("reading a row"))? {
        seen += 1;
        if let Some(holder) = holders.find(text(row, 0, "grants")?) {
            out.push(grant_of(row, holder.clone(), uris)?);
        }
    }
    Ok((seen < URI_FIRST_CAP).then_some(out))
}

pub(crate) fn grants_at(
    conn: &Connection,
    holders: &[PrincipalName],
    uris: &[Uri],
) -> Result<Vec<Grant>> {
    let uris = distinct_items(uris);
    // A few pairs (a mutation's own questions): point lookups, no batch machinery.
    if holders.len() * uris.len() <= SMALL_PAIRS {
        let mut stmt = prepare(conn, sql::GRANT_AT)?;
        let mut out = Vec::new();
        for holder in distinct_items(holders) {
            for uri in &uris {
                collect(
                    &mut stmt,
                    [holder.as_str(), uri.as_str()],
                    |row| grant_of(row, holder.clone(), std::slice::from_ref(uri)),
                    &mut out,
                )?;
            }
        }
        return Ok(out);
    }
    // Many holders over few URIs (a check: the closure over the ancestors): seek by URI
    // rather than by every (holder, URI) pair, unless the URIs are crowded.
    if holders.len() > 2
        && uris.len() <= CHUNK
        && let Some(found) = grants_at_by_uri(conn, &Holders::new(holders), &uris)?
    {
        return Ok(found);
    }
    let holders = distinct(holders);
    let texts: Vec<&str> = uris.iter().map(|u| u.as_str()).collect();
    let mut out = Vec::new();
    for holder_chunk in holders.chunks(CHUNK) {
        let holder_values = padded(holder_chunk);
        for uri_chunk in texts.chunks(CHUNK) {
            let uri_values = padded(uri_chunk);
            let mut stmt = prepare(conn, sql::grants_at(holder_values.len(), uri_values.len()))?;
            let params = holder_values.iter().chain(uri_values.iter());
            collect(
                &mut stmt,
                rusqlite::params_from_iter(params),
                grant,
                &mut out,
            )?;
        }
    }
    Ok(out)
}

/// Rows a subtree-first probe of `grant_below` reads, per asked holder, before it gives up
/// for one seek per holder: a row costs a fraction of a seek.
const BELOW_ROWS_PER_HOLDER: usize = 8;

pub(crate) fn grant_below(
    conn: &Connection,
    holders: &[PrincipalName],
    uri: &Uri,
) -> Result<Option<Grant>> {
    let (lo, hi) = uri.descendant_bounds();
    // Subtree first: the grants strictly below `uri`, in (URI, holder) order, until one of
    // an asked holder allows; capped, so a crowded subtree costs at most a bounded number
    // of rows before the per-holder seeks (rule E7). A check that ends here (a denial) is
    // usually below the grants it has, where the subtree holds few rows: one seek instead
    // of one per member of the closure (86k -> a few k instructions on the medium
    // workload).
    let cap = holders
        .len()
        .saturating_mul(BELOW_ROWS_PER_HOLDER)
        .clamp(2 * BELOW_ROWS_PER_HOLDER, URI_FIRST_CAP);
    let found = grant_below_by_uri(conn, &Holders::new(holders), &lo, &hi, cap)?;
    if let Some(found) = found {
        return Ok(found);
    }
    let holders = distinct(holders);
    let mut best: Option<Grant> = None;
    for chunk in holders.chunks(CHUNK) {
        let mut values = padded(chunk);
        let n = values.len();
        values.push(Some(&lo));
        values.push(Some(&hi));
        let mut stmt = prepare(conn, sql::grant_below(n))?;
        let mut found = Vec::new();
        collect(
            &mut stmt,
            rusqlite::params_from_iter(values),
            first_below,
            &mut found,
        )?;
        for candidate in found.into_iter().flatten() {
            let better = match &best {
                None => true,
                Some(current) => {
                    (&candidate.uri, &candidate.holder) < (&current.uri, &current.holder)
                }
            };
            if better {
                best = Some(candidate);
            }
        }
    }
    Ok(best)
}

/// `grant_below` answered from the subtree's rows (URIs strictly between `lo` and `hi`):
/// `Some(answer)` when it is known after at most `cap` rows, `None` when the cap was hit
/// first.
fn grant_below_by_uri(
    conn: &Connection,
    holders: &Holders<'_>,
    lo: &str,
    hi: &str,
    cap: usize,
) -> Result<Option<Option<Grant>>> {
    let table = "grants";
    let mut stmt = prepare(conn, sql::GRANTS_BELOW)?;
    let mut rows = stmt
        .query((lo, hi, sql_limit(cap)))
        .map_err(db_err("running a query"))?;
    let mut seen = 0usize;
    while let Some(row) = rows.next().map_err(db_err("reading a row"))? {
        seen += 1;
        let Some(holder) = holders.find(text(row, 0, table)?) else {
            continue;
        };
        let level = level(row, 2, table)?;
        if level.is_allow() {
            return Ok(Some(Some(Grant {
                holder: holder.clone(),
                uri: uri(row, 1, table)?,
                level,
            })));
        }
    }
    Ok((seen < cap).then_some(None))
}

/// Decodes a row of [`sql::grant_below`]: the holder, and `{level}{uri}` or NULL.
fn first_below(row: &Row<'_>) -> Result<Option<Grant>> {
    let table = "grants";
    if let rusqlite::types::ValueRef::Null = row.get_ref(1).map_err(|e| corrupt(table, e))? {
        return Ok(None);
    }
    let holder = name(row, 0, table)?;
    let packed = text(row, 1, table)?;
    let (rank, raw_uri) = match packed.as_bytes().first() {
        Some(digit @ b'0'..=b'9') => (digit - b'0', packed.get(1..).unwrap_or_default()),
        _ => return Err(corrupt(table, format!("bad level in `{packed}`"))),
    };
    let level = Level::from_rank(rank)
        .ok_or_else(|| corrupt(table, format!("level rank {rank} is not 0..=4")))?;
    let uri = Uri::parse(raw_uri).map_err(|e| corrupt(table, e))?;
    if uri.as_str() != raw_uri {
        return Err(corrupt(
            table,
            format!("uri `{raw_uri}` is not in canonical form"),
        ));
    }
    Ok(Some(Grant { holder, uri, level }))
}

pub(crate) fn grants_of(
    conn: &Connection,
    holder: &PrincipalName,
    within: Option<&Uri>,
    after: Option<&Uri>,
    limit: usize,
) -> Result<Vec<Grant>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    match within {
        None => {
            let mut stmt = prepare(conn, sql::GRANTS_OF_ALL)?;
            let after = after.map_or("", Uri::as_str);
            collect(
                &mut stmt,
                (holder.as_str(), after, sql_limit(limit)),
                grant,
                &mut out,
            )?;
        }
        Some(within) => {
            let (lo, hi) = within.descendant_bounds();
            // The point branch: the URI itself, unless `after` is at or past it.
            let point = match after {
                Some(after) if after >= within => None,
                _ => Some(within.as_str()),
            };
            // The strict descendants: after `lo` and after `after`, whichever is later.
            let lower = match after {
                Some(after) if after.as_str() > lo.as_str() => after.as_str(),
                _ => lo.as_str(),
            };
            let mut stmt = prepare(conn, sql::GRANTS_OF_WITHIN)?;
            collect(
                &mut stmt,
                (holder.as_str(), point, lower, hi.as_str(), sql_limit(limit)),
                grant,
                &mut out,
            )?;
        }
    }
    Ok(out)
}

/// The parameters of the two-branch subtree statements ([`sql::GRANTS_WITHIN`],
/// [`sql::FENCES_WITHIN`]) for keys `(uri, second)` at or below `within`, after `after`:
/// `(point uri or NULL, point second-after, range uri-after, range second-after, hi)`.
///
/// For a non-root URI the point branch returns the URI's own rows and the range branch
/// its strict descendants (from `lo`, which is no URI). For the root, whose text is its own
/// `lo`, the range branch covers both and the point branch is off.
fn subtree_keys<'a>(
    within: &'a Uri,
    lo: &'a str,
    after: Option<(&'a str, &'a str)>,
) -> (Option<&'a str>, &'a str, &'a str, &'a str) {
    let (point, point_after) = if within.is_root() {
        (None, "")
    } else {
        match after {
            None => (Some(within.as_str()), ""),
            Some((uri, second)) => match uri.cmp(within.as_str()) {
                Ordering::Less => (Some(within.as_str()), ""),
                Ordering::Equal => (Some(within.as_str()), second),
                Ordering::Greater => (None, ""),
            },
        }
    };
    let (range_uri, range_second) = match after {
        Some(key) if key > (lo, "") => key,
        _ => (lo, ""),
    };
    (point, point_after, range_uri, range_second)
}

pub(crate) fn grants_within(
    conn: &Connection,
    within: &Uri,
    after: Option<(&Uri, &PrincipalName)>,
    limit: usize,
) -> Result<Vec<Grant>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let (lo, hi) = within.descendant_bounds();
    let after = after.map(|(uri, holder)| (uri.as_str(), holder.as_str()));
    let (point, point_after, range_uri, range_holder) = subtree_keys(within, &lo, after);
    let mut stmt = prepare(conn, sql::GRANTS_WITHIN)?;
    let params: [&dyn ToSql; 6] = [
        &point,
        &point_after,
        &range_uri,
        &range_holder,
        &hi,
        &sql_limit(limit),
    ];
    collect(&mut stmt, &params[..], grant, &mut out)?;
    Ok(out)
}

pub(crate) fn fences_at(conn: &Connection, uris: &[Uri]) -> Result<Vec<Fence>> {
    let uris = distinct(uris);
    batch(conn, &uris, sql::fences_at, fence)
}

pub(crate) fn fences(
    conn: &Connection,
    within: Option<&Uri>,
    after: Option<&Fence>,
    limit: usize,
) -> Result<Vec<Fence>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let after = after.map(|f| (f.uri.as_str(), f.group.as_str()));
    match within {
        None => {
            let (uri, group) = after.unwrap_or(("", ""));
            let mut stmt = prepare(conn, sql::FENCES_ALL)?;
            collect(&mut stmt, (uri, group, sql_limit(limit)), fence, &mut out)?;
        }
        Some(within) => {
            let (lo, hi) = within.descendant_bounds();
            let (point, point_after, range_uri, range_group) = subtree_keys(within, &lo, after);
            let mut stmt = prepare(conn, sql::FENCES_WITHIN)?;
            let params: [&dyn ToSql; 6] = [
                &point,
                &point_after,
                &range_uri,
                &range_group,
                &hi,
                &sql_limit(limit),
            ];
            collect(&mut stmt, &params[..], fence, &mut out)?;
        }
    }
    Ok(out)
}

/// The row keys noted by the commits after `after` (schema step 8), each once; `None`
/// when notes that far back may be gone (`meta.notes_from`).
pub(crate) fn changed_rows(conn: &Connection, after: Revision) -> Result<Option<Vec<RowKey>>> {
    let after = i64::try_from(after.0).unwrap_or(i64::MAX);
    let mut from = Vec::with_capacity(1);
    collect(
        &mut prepare(conn, sql::NOTES_FROM)?,
        [],
        |row| int(row, 0, "meta"),
        &mut from,
    )?;
    if from.first().is_none_or(|&from| after < from) {
        return Ok(None);
    }
    let mut stmt = prepare(conn, sql::NOTED_AFTER)?;
    let mut out = Vec::new();
    collect(&mut stmt, [after], row_key, &mut out)?;
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

/// A `changed` row as its key.
fn row_key(row: &rusqlite::Row<'_>) -> Result<RowKey> {
    let kind = int(row, 0, "changed")?;
    let a = text(row, 1, "changed")?;
    let b = text(row, 2, "changed")?;
    let name =
        |s: &str| PrincipalName::new(s).map_err(|e| corrupt("changed", format!("name: {e}")));
    let uri = |s: &str| Uri::parse(s).map_err(|e| corrupt("changed", format!("uri: {e}")));
    Ok(match kind {
        0 => RowKey::Cluster,
        1 => RowKey::Principal(name(a)?),
        2 => RowKey::Edge {
            member: name(a)?,
            role: name(b)?,
        },
        3 => RowKey::Grant {
            holder: name(a)?,
            uri: uri(b)?,
        },
        4 => RowKey::Fence {
            uri: uri(a)?,
            group: name(b)?,
        },
        other => return Err(corrupt("changed", format!("kind {other}"))),
    })
}

pub(crate) fn changes(
    conn: &Connection,
    after: Revision,
    actor: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<ChangeEntry>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let after = i64::try_from(after.0).unwrap_or(i64::MAX);
    match actor {
        None => {
            let mut stmt = prepare(conn, sql::CHANGES)?;
            collect(&mut stmt, (after, sql_limit(limit)), change_entry, &mut out)?;
        }
        Some(actor) => {
            let mut stmt = prepare(conn, sql::CHANGES_BY)?;
            collect(
                &mut stmt,
                (actor.as_str(), after, sql_limit(limit)),
                change_entry,
                &mut out,
            )?;
        }
    }
    Ok(out)
}

// ---- folders, shares, invitations, vms -----------------------------------------------

/// Decodes a text column with `parse`, reporting a bad value as a corrupt row.
fn parsed<T>(
    row: &Row<'_>,
    idx: usize,
    table: &str,
    parse: impl FnOnce(&str) -> Result<T>,
) -> Result<T> {
    parse(text(row, idx, table)?).map_err(|e| corrupt(table, e))
}

/// Decodes `id, name, owner, kind, host, status, group_permission`.
fn folder_row(row: &Row<'_>) -> Result<Folder> {
    let table = "folders";
    let group_permission = match row.get_ref(6).map_err(|e| corrupt(table, e))? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(parsed(row, 6, table, Permission::parse)?),
    };
    Ok(Folder {
        id: parsed(row, 0, table, FolderId::new)?,
        name: parsed(row, 1, table, FolderName::new)?,
        owner: name(row, 2, table)?,
        kind: parsed(row, 3, table, FolderKind::parse)?,
        host: text(row, 4, table)?.to_owned(),
        status: parsed(row, 5, table, FolderStatus::parse)?,
        group_permission,
    })
}

/// Decodes `folder, sharee, permission`.
fn share_row(row: &Row<'_>) -> Result<Share> {
    let table = "shares";
    Ok(Share {
        folder: parsed(row, 0, table, FolderId::new)?,
        user: name(row, 1, table)?,
        permission: parsed(row, 2, table, Permission::parse)?,
    })
}

/// Decodes `id, folder, inviter, invitee, permission, state, created`.
fn invitation_row(row: &Row<'_>) -> Result<Invitation> {
    let table = "invitations";
    Ok(Invitation {
        id: parsed(row, 0, table, InvitationId::new)?,
        folder: parsed(row, 1, table, FolderId::new)?,
        inviter: name(row, 2, table)?,
        invitee: name(row, 3, table)?,
        permission: parsed(row, 4, table, Permission::parse)?,
        state: parsed(row, 5, table, InvitationState::parse)?,
        created: Timestamp(int(row, 6, table)?),
    })
}

/// Decodes `id, name, team, owner`.
fn vm_row(row: &Row<'_>) -> Result<Vm> {
    let table = "vms";
    Ok(Vm {
        id: parsed(row, 0, table, VmId::new)?,
        name: parsed(row, 1, table, FolderName::new)?,
        team: name(row, 2, table)?,
        owner: name(row, 3, table)?,
    })
}

/// Runs a one-parameter query and decodes every row.
fn rows_of<T>(
    conn: &Connection,
    sql: &str,
    key: &str,
    decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = prepare(conn, sql)?;
    let mut out = Vec::new();
    collect(&mut stmt, [key], decode, &mut out)?;
    Ok(out)
}

pub(crate) fn folder(conn: &Connection, id: &FolderId) -> Result<Option<Folder>> {
    Ok(rows_of(conn, sql::FOLDER, id.as_str(), folder_row)?.pop())
}

pub(crate) fn folders_of(conn: &Connection, owner: &PrincipalName) -> Result<Vec<Folder>> {
    rows_of(conn, sql::FOLDERS_OF, owner.as_str(), folder_row)
}

pub(crate) fn shares_of_folder(conn: &Connection, folder: &FolderId) -> Result<Vec<Share>> {
    rows_of(conn, sql::SHARES_OF_FOLDER, folder.as_str(), share_row)
}

pub(crate) fn shares_of_user(conn: &Connection, user: &PrincipalName) -> Result<Vec<Share>> {
    rows_of(conn, sql::SHARES_OF_USER, user.as_str(), share_row)
}

pub(crate) fn invitation(conn: &Connection, id: &InvitationId) -> Result<Option<Invitation>> {
    Ok(rows_of(conn, sql::INVITATION, id.as_str(), invitation_row)?.pop())
}

pub(crate) fn invitations(conn: &Connection, key: &InvitationKey) -> Result<Vec<Invitation>> {
    let (query, value) = match key {
        InvitationKey::Invitee(user) => (sql::INVITATIONS_BY_INVITEE, user.as_str()),
        InvitationKey::Inviter(user) => (sql::INVITATIONS_BY_INVITER, user.as_str()),
        InvitationKey::Folder(folder) => (sql::INVITATIONS_BY_FOLDER, folder.as_str()),
    };
    rows_of(conn, query, value, invitation_row)
}

pub(crate) fn vm(conn: &Connection, id: &VmId) -> Result<Option<Vm>> {
    Ok(rows_of(conn, sql::VM, id.as_str(), vm_row)?.pop())
}

pub(crate) fn vms_of(conn: &Connection, team: &PrincipalName) -> Result<Vec<Vm>> {
    rows_of(conn, sql::VMS_OF, team.as_str(), vm_row)
}

// ---- policies, accounts, keypairs, sessions, group attributes --------------------------

/// A non-negative integer column.
fn count(row: &Row<'_>, idx: usize, table: &str) -> Result<u64> {
    u64::try_from(int(row, idx, table)?).map_err(|e| corrupt(table, format!("column {idx}: {e}")))
}

fn flag(row: &Row<'_>, idx: usize, table: &str) -> Result<bool> {
    match int(row, idx, table)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(corrupt(table, format!("column {idx}: flag {other}"))),
    }
}

fn is_null(row: &Row<'_>, idx: usize, table: &str) -> Result<bool> {
    Ok(matches!(
        row.get_ref(idx).map_err(|e| corrupt(table, e))?,
        rusqlite::types::ValueRef::Null
    ))
}

/// Decodes `name`, the nine limits in [`Resource::ALL`] order (NULL: unlimited), `hosts`.
fn policy_row(row: &Row<'_>) -> Result<ResourcePolicy> {
    let table = "policies";
    let mut limits = Limits::unlimited();
    for (i, resource) in Resource::ALL.into_iter().enumerate() {
        let idx = i + 1;
        if !is_null(row, idx, table)? {
            limits = limits.with(resource, Limit::Max(count(row, idx, table)?));
        }
    }
    let hosts = if is_null(row, 10, table)? {
        Hosts::Any
    } else {
        let text = text(row, 10, table)?;
        Hosts::Only(
            text.split('\n')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    Ok(ResourcePolicy {
        name: parsed(row, 0, table, PolicyName::new)?,
        limits,
        hosts,
    })
}

/// Decodes `username, email, full_name, password, role, status, need_password_change,
/// domain, policy, created`.
fn account_row(row: &Row<'_>) -> Result<Account> {
    let table = "accounts";
    Ok(Account {
        user: name(row, 0, table)?,
        email: parsed(row, 1, table, Email::new)?,
        full_name: text(row, 2, table)?.to_owned(),
        password: parsed(row, 3, table, SecretHash::from_stored)?,
        role: parsed(row, 4, table, UserRole::parse)?,
        status: parsed(row, 5, table, UserStatus::parse)?,
        need_password_change: flag(row, 6, table)?,
        domain: text(row, 7, table)?.to_owned(),
        policy: parsed(row, 8, table, PolicyName::new)?,
        created: Timestamp(int(row, 9, table)?),
    })
}

/// Decodes `access_key, username, secret, active, policy, created, sealed`.
fn keypair_row(row: &Row<'_>) -> Result<Keypair> {
    let table = "keypairs";
    let sealed = if is_null(row, 6, table)? {
        None
    } else {
        Some(parsed(row, 6, table, SealedSecret::from_stored)?)
    };
    Ok(Keypair {
        access_key: parsed(row, 0, table, AccessKey::new)?,
        user: name(row, 1, table)?,
        secret: parsed(row, 2, table, SecretHash::from_stored)?,
        sealed,
        active: flag(row, 3, table)?,
        policy: parsed(row, 4, table, PolicyName::new)?,
        created: Timestamp(int(row, 5, table)?),
    })
}

/// Decodes `id, username, cpu, ram_gb, gpu, fgpu_hundredths, containers, started, stopped`.
fn session_row(row: &Row<'_>) -> Result<Session> {
    let table = "sessions";
    let stopped = if is_null(row, 8, table)? {
        None
    } else {
        Some(Timestamp(int(row, 8, table)?))
    };
    Ok(Session {
        id: parsed(row, 0, table, SessionId::new)?,
        user: name(row, 1, table)?,
        request: SessionRequest {
            cpu: count(row, 2, table)?,
            ram_gb: count(row, 3, table)?,
            gpu: count(row, 4, table)?,
            fgpu_hundredths: count(row, 5, table)?,
            containers: count(row, 6, table)?,
        },
        started: Timestamp(int(row, 7, table)?),
        stopped,
    })
}

/// Decodes `name, domain, created`.
fn group_info_row(row: &Row<'_>) -> Result<GroupInfo> {
    let table = "group_info";
    Ok(GroupInfo {
        name: name(row, 0, table)?,
        domain: text(row, 1, table)?.to_owned(),
        created: Timestamp(int(row, 2, table)?),
    })
}

/// Runs a (key, limit) query and decodes every row.
fn page_rows<T>(
    conn: &Connection,
    sql: &str,
    key: &str,
    limit: usize,
    decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = prepare(conn, sql)?;
    let mut out = Vec::new();
    collect(&mut stmt, (key, sql_limit(limit)), decode, &mut out)?;
    Ok(out)
}

pub(crate) fn account(conn: &Connection, user: &PrincipalName) -> Result<Option<Account>> {
    Ok(rows_of(conn, sql::ACCOUNT, user.as_str(), account_row)?.pop())
}

pub(crate) fn account_by(conn: &Connection, key: &AccountKey) -> Result<Option<Account>> {
    let (query, value) = match key {
        AccountKey::Email(email) => (sql::ACCOUNT_BY_EMAIL, email.as_str()),
        AccountKey::Username(name) => (sql::ACCOUNT_BY_USERNAME, name.as_str()),
    };
    Ok(rows_of(conn, query, value, account_row)?.pop())
}

pub(crate) fn accounts(
    conn: &Connection,
    after: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<Account>> {
    let after = after.map_or("", PrincipalName::as_str);
    page_rows(conn, sql::ACCOUNTS, after, limit, account_row)
}

pub(crate) fn accounts_of_policy(
    conn: &Connection,
    policy: &PolicyName,
    limit: usize,
) -> Result<Vec<PrincipalName>> {
    page_rows(
        conn,
        sql::ACCOUNTS_OF_POLICY,
        policy.as_str(),
        limit,
        |row| name(row, 0, "accounts"),
    )
}

pub(crate) fn keypair(conn: &Connection, key: &AccessKey) -> Result<Option<Keypair>> {
    Ok(rows_of(conn, sql::KEYPAIR, key.as_str(), keypair_row)?.pop())
}

pub(crate) fn keypairs_of(conn: &Connection, user: &PrincipalName) -> Result<Vec<Keypair>> {
    rows_of(conn, sql::KEYPAIRS_OF, user.as_str(), keypair_row)
}

pub(crate) fn keypairs(
    conn: &Connection,
    after: Option<&AccessKey>,
    limit: usize,
) -> Result<Vec<Keypair>> {
    let after = after.map_or("", AccessKey::as_str);
    page_rows(conn, sql::KEYPAIRS, after, limit, keypair_row)
}

pub(crate) fn keypairs_of_policy(
    conn: &Connection,
    policy: &PolicyName,
    limit: usize,
) -> Result<Vec<AccessKey>> {
    page_rows(
        conn,
        sql::KEYPAIRS_OF_POLICY,
        policy.as_str(),
        limit,
        |row| parsed(row, 0, "keypairs", AccessKey::new),
    )
}

pub(crate) fn policy(conn: &Connection, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
    Ok(rows_of(conn, sql::POLICY, name.as_str(), policy_row)?.pop())
}

pub(crate) fn policies(conn: &Connection) -> Result<Vec<ResourcePolicy>> {
    let mut stmt = prepare(conn, sql::POLICIES)?;
    let mut out = Vec::new();
    collect(&mut stmt, [], policy_row, &mut out)?;
    Ok(out)
}

pub(crate) fn session(conn: &Connection, id: &SessionId) -> Result<Option<Session>> {
    Ok(rows_of(conn, sql::SESSION, id.as_str(), session_row)?.pop())
}

pub(crate) fn sessions_of(conn: &Connection, user: &PrincipalName) -> Result<Vec<Session>> {
    rows_of(conn, sql::SESSIONS_OF, user.as_str(), session_row)
}

pub(crate) fn sessions(
    conn: &Connection,
    after: Option<&SessionId>,
    limit: usize,
) -> Result<Vec<Session>> {
    let after = after.map_or("", SessionId::as_str);
    page_rows(conn, sql::SESSIONS, after, limit, session_row)
}

pub(crate) fn group_info(conn: &Connection, name: &PrincipalName) -> Result<Option<GroupInfo>> {
    Ok(rows_of(conn, sql::GROUP_INFO, name.as_str(), group_info_row)?.pop())
}
