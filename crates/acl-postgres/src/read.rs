//! The read queries, on a connection inside a transaction (a read view's or the write
//! transaction's). Rows read back are validated: a row that does not decode to a valid
//! value is [`PgError::Corrupt`] naming the table, never a panic.

use std::cmp::Ordering;

use postgres::Row;
use postgres::types::FromSql;

use acl_core::{
    Change, ChangeEntry, ClusterName, Fence, Grant, InvitationState, Level, PrincipalKind,
    PrincipalName, PrincipalRecord, Revision, RoleGraph, RowKey, Timestamp, Uri,
};
use acl_platform::{
    AccessKey, Account, AccountKey, Email, Folder, FolderId, FolderKind, FolderName, FolderStatus,
    GroupInfo, Hosts, Invitation, InvitationId, InvitationKey, Keypair, Limit, Limits, Permission,
    PolicyName, Resource, ResourcePolicy, SealedSecret, SecretHash, Session, SessionId,
    SessionRequest, Share, UserRole, UserStatus, Vm, VmId,
};

use crate::conn::Conn;
use crate::error::PgError;
use crate::sql;

type Result<T> = std::result::Result<T, PgError>;

/// A `LIMIT` value for `limit`.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A revision as the `BIGINT` it is stored as.
pub(crate) fn sql_revision(revision: Revision) -> i64 {
    i64::try_from(revision.0).unwrap_or(i64::MAX)
}

fn corrupt(table: &'static str, what: impl std::fmt::Display) -> PgError {
    PgError::Corrupt {
        table,
        what: what.to_string(),
    }
}

/// Column `idx` of `row`, decoded as `T`; anything else is a corrupt row of `table`.
pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r Row, idx: usize, table: &'static str) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| corrupt(table, format!("column {idx}: {e}")))
}

fn name(row: &Row, idx: usize, table: &'static str) -> Result<PrincipalName> {
    PrincipalName::new(get::<&str>(row, idx, table)?).map_err(|e| corrupt(table, e))
}

fn uri(row: &Row, idx: usize, table: &'static str) -> Result<Uri> {
    let raw: &str = get(row, idx, table)?;
    let uri = Uri::parse(raw).map_err(|e| corrupt(table, e))?;
    if uri.as_str() != raw {
        return Err(corrupt(
            table,
            format!("uri `{}` is not in canonical form", uri.as_str()),
        ));
    }
    Ok(uri)
}

fn level(row: &Row, idx: usize, table: &'static str) -> Result<Level> {
    let rank: i16 = get(row, idx, table)?;
    u8::try_from(rank)
        .ok()
        .and_then(Level::from_rank)
        .ok_or_else(|| corrupt(table, format!("level rank {rank} is not 0..=4")))
}

/// The record of principal `name` from its `kind, active` columns at `first`.
fn record_named(row: &Row, first: usize, name: PrincipalName) -> Result<PrincipalRecord> {
    let table = "principals";
    let rank: i16 = get(row, first, table)?;
    let kind = u8::try_from(rank)
        .ok()
        .and_then(PrincipalKind::from_rank)
        .ok_or_else(|| corrupt(table, format!("kind {rank} is not 0..=2")))?;
    let active: bool = get(row, first + 1, table)?;
    Ok(PrincipalRecord { name, kind, active })
}

/// `name, kind, active` from column `first`.
fn record(row: &Row, first: usize) -> Result<PrincipalRecord> {
    let name = name(row, first, "principals")?;
    record_named(row, first + 1, name)
}

/// Decodes `holder, uri, level`.
fn grant(row: &Row) -> Result<Grant> {
    Ok(Grant {
        holder: name(row, 0, "grants")?,
        uri: uri(row, 1, "grants")?,
        level: level(row, 2, "grants")?,
    })
}

/// Decodes `uri, grp`.
fn fence(row: &Row) -> Result<Fence> {
    Ok(Fence {
        uri: uri(row, 0, "fences")?,
        group: name(row, 1, "fences")?,
    })
}

fn change_entry(row: &Row) -> Result<ChangeEntry> {
    let table = "changelog";
    let revision: i64 = get(row, 0, table)?;
    let revision = u64::try_from(revision)
        .map_err(|_| corrupt(table, format!("revision {revision} is negative")))?;
    let actor = match get::<Option<&str>>(row, 2, table)? {
        None => None,
        Some(raw) => Some(PrincipalName::new(raw).map_err(|e| corrupt(table, e))?),
    };
    Ok(ChangeEntry {
        revision: Revision(revision),
        change: Change {
            at: Timestamp(get(row, 1, table)?),
            actor,
            action: get::<String>(row, 3, table)?,
            target: get::<String>(row, 4, table)?,
            detail: get::<String>(row, 5, table)?,
        },
    })
}

/// Decodes every row with `decode`.
fn all<T>(rows: &[Row], decode: impl FnMut(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(decode).collect()
}

/// The distinct texts of `items`, sorted.
fn texts<T: AsRef<str>>(items: &[T]) -> Vec<&str> {
    let mut out: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    out.sort_unstable();
    out.dedup();
    out
}

// ---- the queries ---------------------------------------------------------------------

pub(crate) fn revision(conn: &mut Conn) -> Result<Revision> {
    let rows = conn.query(sql::REVISION, &[])?;
    match rows.as_slice() {
        [row] => {
            let value: i64 = get(row, 0, "meta")?;
            u64::try_from(value)
                .map(Revision)
                .map_err(|_| corrupt("meta", format!("revision {value} is negative")))
        }
        _ => Err(corrupt("meta", "the meta row is missing")),
    }
}

pub(crate) fn cluster(conn: &mut Conn) -> Result<Option<ClusterName>> {
    let rows = conn.query(sql::CLUSTER, &[])?;
    match rows.as_slice() {
        [row] => match get::<Option<&str>>(row, 0, "meta")? {
            None => Ok(None),
            Some(raw) => ClusterName::new(raw)
                .map(Some)
                .map_err(|e| corrupt("meta", e)),
        },
        _ => Err(corrupt("meta", "the meta row is missing")),
    }
}

pub(crate) fn principal(conn: &mut Conn, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
    let rows = conn.query(sql::PRINCIPAL, &[&name.as_str()])?;
    rows.first()
        .map(|row| record_named(row, 0, name.clone()))
        .transpose()
}

pub(crate) fn principals(
    conn: &mut Conn,
    after: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<PrincipalRecord>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let after = after.map_or("", PrincipalName::as_str);
    let rows = conn.query(sql::PRINCIPALS, &[&after, &sql_limit(limit)])?;
    all(&rows, |row| record(row, 0))
}

pub(crate) fn members_of(
    conn: &mut Conn,
    roles: &[PrincipalName],
) -> Result<Vec<(PrincipalName, PrincipalRecord)>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let keys = texts(roles);
    let rows = conn.query(sql::MEMBERS_OF, &[&keys])?;
    all(&rows, |row| Ok((name(row, 0, "edges")?, record(row, 1)?)))
}

/// The role graph reachable from `start`: one recursive statement over `edges`.
pub(crate) fn reachable_graph(conn: &mut Conn, start: &PrincipalName) -> Result<RoleGraph> {
    let rows = conn.query(sql::REACHABLE, &[&start.as_str()])?;
    let pairs = all(&rows, |row| Ok((name(row, 0, "edges")?, record(row, 1)?)))?;
    Ok(RoleGraph::from_pairs(start, pairs))
}

pub(crate) fn grants_at(
    conn: &mut Conn,
    holders: &[PrincipalName],
    uris: &[Uri],
) -> Result<Vec<Grant>> {
    if holders.is_empty() || uris.is_empty() {
        return Ok(Vec::new());
    }
    let (holders, uris) = (texts(holders), texts(uris));
    let rows = conn.query(sql::GRANTS_AT, &[&holders, &uris])?;
    all(&rows, grant)
}

pub(crate) fn grants_on_pairs(
    conn: &mut Conn,
    pairs: &[(PrincipalName, Uri)],
) -> Result<Vec<Grant>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let holders: Vec<&str> = pairs.iter().map(|(h, _)| h.as_str()).collect();
    let uris: Vec<&str> = pairs.iter().map(|(_, u)| u.as_str()).collect();
    let rows = conn.query(sql::GRANTS_ON_PAIRS, &[&holders, &uris])?;
    let mut found = all(&rows, grant)?;
    // A pair asked twice is answered once.
    found.sort_unstable_by(|a, b| (&a.holder, &a.uri).cmp(&(&b.holder, &b.uri)));
    found.dedup_by(|a, b| a.holder == b.holder && a.uri == b.uri);
    Ok(found)
}

pub(crate) fn grant_below(
    conn: &mut Conn,
    holders: &[PrincipalName],
    uri: &Uri,
) -> Result<Option<Grant>> {
    if holders.is_empty() {
        return Ok(None);
    }
    let (lo, hi) = uri.descendant_bounds();
    let holders = texts(holders);
    let rows = conn.query(sql::GRANT_BELOW, &[&holders, &lo, &hi])?;
    rows.first().map(grant).transpose()
}

pub(crate) fn grants_of(
    conn: &mut Conn,
    holder: &PrincipalName,
    within: Option<&Uri>,
    after: Option<&Uri>,
    limit: usize,
) -> Result<Vec<Grant>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = match within {
        None => {
            let after = after.map_or("", Uri::as_str);
            conn.query(
                sql::GRANTS_OF_ALL,
                &[&holder.as_str(), &after, &sql_limit(limit)],
            )?
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
            conn.query(
                sql::GRANTS_OF_WITHIN,
                &[
                    &holder.as_str(),
                    &point,
                    &lower,
                    &hi.as_str(),
                    &sql_limit(limit),
                ],
            )?
        }
    };
    all(&rows, grant)
}

/// The parameters of the two-branch subtree statements ([`sql::GRANTS_WITHIN`],
/// [`sql::FENCES_WITHIN`]) for keys `(uri, second)` at or below `within`, after `after`:
/// `(point uri or NULL, point second-after, range uri-after, range second-after)`.
///
/// For a non-root URI the point branch returns the URI's own rows and the range branch
/// its strict descendants (from `lo`, which is no URI). For the root, whose text is its
/// own `lo`, the range branch covers both and the point branch is off.
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
    conn: &mut Conn,
    within: &Uri,
    after: Option<(&Uri, &PrincipalName)>,
    limit: usize,
) -> Result<Vec<Grant>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let (lo, hi) = within.descendant_bounds();
    let after = after.map(|(uri, holder)| (uri.as_str(), holder.as_str()));
    let (point, point_after, range_uri, range_holder) = subtree_keys(within, &lo, after);
    let rows = conn.query(
        sql::GRANTS_WITHIN,
        &[
            &point,
            &point_after,
            &range_uri,
            &range_holder,
            &hi.as_str(),
            &sql_limit(limit),
        ],
    )?;
    all(&rows, grant)
}

pub(crate) fn fences_at(conn: &mut Conn, uris: &[Uri]) -> Result<Vec<Fence>> {
    if uris.is_empty() {
        return Ok(Vec::new());
    }
    let uris = texts(uris);
    let rows = conn.query(sql::FENCES_AT, &[&uris])?;
    all(&rows, fence)
}

pub(crate) fn fences(
    conn: &mut Conn,
    within: Option<&Uri>,
    after: Option<&Fence>,
    limit: usize,
) -> Result<Vec<Fence>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let after = after.map(|f| (f.uri.as_str(), f.group.as_str()));
    let rows = match within {
        None => {
            let (uri, group) = after.unwrap_or(("", ""));
            conn.query(sql::FENCES_ALL, &[&uri, &group, &sql_limit(limit)])?
        }
        Some(within) => {
            let (lo, hi) = within.descendant_bounds();
            let (point, point_after, range_uri, range_group) = subtree_keys(within, &lo, after);
            conn.query(
                sql::FENCES_WITHIN,
                &[
                    &point,
                    &point_after,
                    &range_uri,
                    &range_group,
                    &hi.as_str(),
                    &sql_limit(limit),
                ],
            )?
        }
    };
    all(&rows, fence)
}

/// The row keys noted by the commits after `after` (table `changed`, rule D3), each
/// once; `None` when notes that far back may be gone (`meta.notes_from`).
pub(crate) fn changed_rows(conn: &mut Conn, after: Revision) -> Result<Option<Vec<RowKey>>> {
    let after = sql_revision(after);
    let from = conn.query(sql::NOTES_FROM, &[])?;
    let from: i64 = match from.first() {
        Some(row) => get(row, 0, "meta")?,
        None => return Err(corrupt("meta", "the meta row is missing")),
    };
    if after < from {
        return Ok(None);
    }
    let rows = conn.query(sql::NOTED_AFTER, &[&after])?;
    let mut out = all(&rows, row_key)?;
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

/// A `changed` row as its key.
fn row_key(row: &Row) -> Result<RowKey> {
    let kind: i16 = get(row, 0, "changed")?;
    let a: &str = get(row, 1, "changed")?;
    let b: &str = get(row, 2, "changed")?;
    let name = |s: &str| PrincipalName::new(s).map_err(|e| corrupt("changed", e));
    let uri = |s: &str| Uri::parse(s).map_err(|e| corrupt("changed", e));
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
    conn: &mut Conn,
    after: Revision,
    actor: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<ChangeEntry>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let after = sql_revision(after);
    let rows = match actor {
        None => conn.query(sql::CHANGES, &[&after, &sql_limit(limit)])?,
        Some(actor) => conn.query(
            sql::CHANGES_BY,
            &[&actor.as_str(), &after, &sql_limit(limit)],
        )?,
    };
    all(&rows, change_entry)
}

// ---- folders, shares, invitations, vms -----------------------------------------------

/// Decodes a text column with `parse`, reporting a bad value as a corrupt row.
fn parsed<T, E: std::fmt::Display>(
    row: &Row,
    idx: usize,
    table: &'static str,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    parse(get::<&str>(row, idx, table)?).map_err(|e| corrupt(table, e))
}

/// Decodes `id, name, owner, kind, host, status, group_permission`.
fn folder_row(row: &Row) -> Result<Folder> {
    let table = "folders";
    let group_permission = match get::<Option<&str>>(row, 6, table)? {
        None => None,
        Some(raw) => Some(Permission::parse(raw).map_err(|e| corrupt(table, e))?),
    };
    Ok(Folder {
        id: parsed(row, 0, table, FolderId::new)?,
        name: parsed(row, 1, table, FolderName::new)?,
        owner: name(row, 2, table)?,
        kind: parsed(row, 3, table, FolderKind::parse)?,
        host: get::<String>(row, 4, table)?,
        status: parsed(row, 5, table, FolderStatus::parse)?,
        group_permission,
    })
}

/// Decodes `folder, sharee, permission`.
fn share_row(row: &Row) -> Result<Share> {
    let table = "shares";
    Ok(Share {
        folder: parsed(row, 0, table, FolderId::new)?,
        user: name(row, 1, table)?,
        permission: parsed(row, 2, table, Permission::parse)?,
    })
}

/// Decodes `id, folder, inviter, invitee, permission, state, created`.
fn invitation_row(row: &Row) -> Result<Invitation> {
    let table = "invitations";
    Ok(Invitation {
        id: parsed(row, 0, table, InvitationId::new)?,
        folder: parsed(row, 1, table, FolderId::new)?,
        inviter: name(row, 2, table)?,
        invitee: name(row, 3, table)?,
        permission: parsed(row, 4, table, Permission::parse)?,
        state: parsed(row, 5, table, InvitationState::parse)?,
        created: Timestamp(get(row, 6, table)?),
    })
}

/// Decodes `id, name, team, owner`.
fn vm_row(row: &Row) -> Result<Vm> {
    let table = "vms";
    Ok(Vm {
        id: parsed(row, 0, table, VmId::new)?,
        name: parsed(row, 1, table, FolderName::new)?,
        team: name(row, 2, table)?,
        owner: name(row, 3, table)?,
    })
}

/// Runs a one-key query and decodes every row.
fn rows_of<T>(
    conn: &mut Conn,
    sql: &'static str,
    key: &str,
    decode: impl FnMut(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = conn.query(sql, &[&key])?;
    all(&rows, decode)
}

pub(crate) fn folder(conn: &mut Conn, id: &FolderId) -> Result<Option<Folder>> {
    Ok(rows_of(conn, sql::FOLDER, id.as_str(), folder_row)?.pop())
}

pub(crate) fn folders_of(conn: &mut Conn, owner: &PrincipalName) -> Result<Vec<Folder>> {
    rows_of(conn, sql::FOLDERS_OF, owner.as_str(), folder_row)
}

pub(crate) fn shares_of_folder(conn: &mut Conn, folder: &FolderId) -> Result<Vec<Share>> {
    rows_of(conn, sql::SHARES_OF_FOLDER, folder.as_str(), share_row)
}

pub(crate) fn shares_of_user(conn: &mut Conn, user: &PrincipalName) -> Result<Vec<Share>> {
    rows_of(conn, sql::SHARES_OF_USER, user.as_str(), share_row)
}

pub(crate) fn invitation(conn: &mut Conn, id: &InvitationId) -> Result<Option<Invitation>> {
    Ok(rows_of(conn, sql::INVITATION, id.as_str(), invitation_row)?.pop())
}

pub(crate) fn invitations(conn: &mut Conn, key: &InvitationKey) -> Result<Vec<Invitation>> {
    let (query, value) = match key {
        InvitationKey::Invitee(user) => (sql::INVITATIONS_BY_INVITEE, user.as_str()),
        InvitationKey::Inviter(user) => (sql::INVITATIONS_BY_INVITER, user.as_str()),
        InvitationKey::Folder(folder) => (sql::INVITATIONS_BY_FOLDER, folder.as_str()),
    };
    rows_of(conn, query, value, invitation_row)
}

pub(crate) fn vm(conn: &mut Conn, id: &VmId) -> Result<Option<Vm>> {
    Ok(rows_of(conn, sql::VM, id.as_str(), vm_row)?.pop())
}

pub(crate) fn vms_of(conn: &mut Conn, team: &PrincipalName) -> Result<Vec<Vm>> {
    rows_of(conn, sql::VMS_OF, team.as_str(), vm_row)
}

// ---- policies, accounts, keypairs, sessions, group attributes --------------------------

/// A non-negative integer column.
fn count(row: &Row, idx: usize, table: &'static str) -> Result<u64> {
    let value: i64 = get(row, idx, table)?;
    u64::try_from(value).map_err(|e| corrupt(table, format!("column {idx}: {e}")))
}

/// Decodes `name`, the nine limits in [`Resource::ALL`] order (NULL: unlimited), `hosts`.
fn policy_row(row: &Row) -> Result<ResourcePolicy> {
    let table = "policies";
    let mut limits = Limits::unlimited();
    for (i, resource) in Resource::ALL.into_iter().enumerate() {
        let idx = i + 1;
        if let Some(value) = get::<Option<i64>>(row, idx, table)? {
            let max =
                u64::try_from(value).map_err(|e| corrupt(table, format!("column {idx}: {e}")))?;
            limits = limits.with(resource, Limit::Max(max));
        }
    }
    let hosts = match get::<Option<&str>>(row, 10, table)? {
        None => Hosts::Any,
        Some(text) => Hosts::Only(
            text.split('\n')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    };
    Ok(ResourcePolicy {
        name: parsed(row, 0, table, PolicyName::new)?,
        limits,
        hosts,
    })
}

/// Decodes `username, email, full_name, password, role, status, need_password_change,
/// domain, policy, created`.
fn account_row(row: &Row) -> Result<Account> {
    let table = "accounts";
    Ok(Account {
        user: name(row, 0, table)?,
        email: parsed(row, 1, table, Email::new)?,
        full_name: get::<String>(row, 2, table)?,
        password: parsed(row, 3, table, SecretHash::from_stored)?,
        role: parsed(row, 4, table, UserRole::parse)?,
        status: parsed(row, 5, table, UserStatus::parse)?,
        need_password_change: get(row, 6, table)?,
        domain: get::<String>(row, 7, table)?,
        policy: parsed(row, 8, table, PolicyName::new)?,
        created: Timestamp(get(row, 9, table)?),
    })
}

/// Decodes `access_key, username, secret, active, policy, created, sealed`.
fn keypair_row(row: &Row) -> Result<Keypair> {
    let table = "keypairs";
    let sealed = get::<Option<&str>>(row, 6, table)?
        .map(SealedSecret::from_stored)
        .transpose()
        .map_err(|e| corrupt(table, e))?;
    Ok(Keypair {
        access_key: parsed(row, 0, table, AccessKey::new)?,
        user: name(row, 1, table)?,
        secret: parsed(row, 2, table, SecretHash::from_stored)?,
        sealed,
        active: get(row, 3, table)?,
        policy: parsed(row, 4, table, PolicyName::new)?,
        created: Timestamp(get(row, 5, table)?),
    })
}

/// Decodes `id, username, cpu, ram_gb, gpu, fgpu_hundredths, containers, started, stopped`.
fn session_row(row: &Row) -> Result<Session> {
    let table = "sessions";
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
        started: Timestamp(get(row, 7, table)?),
        stopped: get::<Option<i64>>(row, 8, table)?.map(Timestamp),
    })
}

/// Decodes `name, domain, created`.
fn group_info_row(row: &Row) -> Result<GroupInfo> {
    let table = "group_info";
    Ok(GroupInfo {
        name: name(row, 0, table)?,
        domain: get::<String>(row, 1, table)?,
        created: Timestamp(get(row, 2, table)?),
    })
}

/// Runs a (key, limit) query and decodes every row.
fn page_rows<T>(
    conn: &mut Conn,
    sql: &'static str,
    key: &str,
    limit: usize,
    decode: impl FnMut(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = conn.query(sql, &[&key, &sql_limit(limit)])?;
    all(&rows, decode)
}

pub(crate) fn account(conn: &mut Conn, user: &PrincipalName) -> Result<Option<Account>> {
    Ok(rows_of(conn, sql::ACCOUNT, user.as_str(), account_row)?.pop())
}

pub(crate) fn account_by(conn: &mut Conn, key: &AccountKey) -> Result<Option<Account>> {
    let (query, value) = match key {
        AccountKey::Email(email) => (sql::ACCOUNT_BY_EMAIL, email.as_str()),
        AccountKey::Username(name) => (sql::ACCOUNT_BY_USERNAME, name.as_str()),
    };
    Ok(rows_of(conn, query, value, account_row)?.pop())
}

pub(crate) fn accounts(
    conn: &mut Conn,
    after: Option<&PrincipalName>,
    limit: usize,
) -> Result<Vec<Account>> {
    let after = after.map_or("", PrincipalName::as_str);
    page_rows(conn, sql::ACCOUNTS, after, limit, account_row)
}

pub(crate) fn accounts_of_policy(
    conn: &mut Conn,
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

pub(crate) fn keypair(conn: &mut Conn, key: &AccessKey) -> Result<Option<Keypair>> {
    Ok(rows_of(conn, sql::KEYPAIR, key.as_str(), keypair_row)?.pop())
}

pub(crate) fn keypairs_of(conn: &mut Conn, user: &PrincipalName) -> Result<Vec<Keypair>> {
    rows_of(conn, sql::KEYPAIRS_OF, user.as_str(), keypair_row)
}

pub(crate) fn keypairs(
    conn: &mut Conn,
    after: Option<&AccessKey>,
    limit: usize,
) -> Result<Vec<Keypair>> {
    let after = after.map_or("", AccessKey::as_str);
    page_rows(conn, sql::KEYPAIRS, after, limit, keypair_row)
}

pub(crate) fn keypairs_of_policy(
    conn: &mut Conn,
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

pub(crate) fn policy(conn: &mut Conn, name: &PolicyName) -> Result<Option<ResourcePolicy>> {
    Ok(rows_of(conn, sql::POLICY, name.as_str(), policy_row)?.pop())
}

pub(crate) fn policies(conn: &mut Conn) -> Result<Vec<ResourcePolicy>> {
    let rows = conn.query(sql::POLICIES, &[])?;
    all(&rows, policy_row)
}

pub(crate) fn session(conn: &mut Conn, id: &SessionId) -> Result<Option<Session>> {
    Ok(rows_of(conn, sql::SESSION, id.as_str(), session_row)?.pop())
}

pub(crate) fn sessions_of(conn: &mut Conn, user: &PrincipalName) -> Result<Vec<Session>> {
    rows_of(conn, sql::SESSIONS_OF, user.as_str(), session_row)
}

pub(crate) fn sessions(
    conn: &mut Conn,
    after: Option<&SessionId>,
    limit: usize,
) -> Result<Vec<Session>> {
    let after = after.map_or("", SessionId::as_str);
    page_rows(conn, sql::SESSIONS, after, limit, session_row)
}

pub(crate) fn group_info(conn: &mut Conn, name: &PrincipalName) -> Result<Option<GroupInfo>> {
    Ok(rows_of(conn, sql::GROUP_INFO, name.as_str(), group_info_row)?.pop())
}
