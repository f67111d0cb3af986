//! The writes, on the writer connection inside its `BEGIN IMMEDIATE` transaction.

use rusqlite::{Connection, ErrorCode, ToSql};

use acl_core::{
    Change, ClusterName, Edge, Error, Fence, Grant, PrincipalName, PrincipalRecord, Result,
    Revision, RowKey, Uri,
};

use acl_platform::{Folder, FolderId, Invitation, Share, Vm};

use acl_platform::{
    Account, GroupInfo, Hosts, Keypair, Limit, PolicyName, Resource, ResourcePolicy, SealedSecret,
    Session,
};

use crate::read;
use crate::sql;

/// Clips user input for an error message, like acl-core does: at most 80 characters.
fn clip(input: &str) -> String {
    const MAX: usize = 80;
    if input.chars().count() <= MAX {
        input.to_owned()
    } else {
        let mut out: String = input.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// Runs one write statement and returns the number of rows it changed. A constraint
/// violation is reported as a broken store invariant: `what` names the row (built only on
/// error: this is the bulk-import path).
fn run(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    what: impl FnOnce() -> String,
) -> Result<usize> {
    let mut stmt = read::prepare(conn, sql)?;
    stmt.execute(params).map_err(|e| {
        let what = what();
        let constraint = matches!(e.sqlite_error_code(), Some(ErrorCode::ConstraintViolation));
        if constraint {
            let why = match e.sqlite_error().map(|f| f.extended_code) {
                Some(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
                    "it names a principal that does not exist, or the principal is still \
                     referenced by grants, edges or fences"
                        .to_owned()
                }
                _ => e.to_string(),
            };
            Error::Storage(format!("{what} breaks a store invariant: {why}"))
        } else {
            Error::Storage(format!("writing {what}: {e}"))
        }
    })
}

pub(crate) fn set_cluster(conn: &Connection, cluster: &ClusterName) -> Result<()> {
    let what = || format!("cluster `{}`", clip(cluster.as_str()));
    match run(conn, sql::SET_CLUSTER, &[&cluster.as_str()], what)? {
        1 => Ok(()),
        _ => Err(Error::Storage("the meta row is missing".to_owned())),
    }
}

pub(crate) fn insert_principal(conn: &Connection, record: &PrincipalRecord) -> Result<()> {
    let what = || format!("principal `{}`", clip(record.name.as_str()));
    let params: [&dyn ToSql; 3] = [
        &record.name.as_str(),
        &i64::from(record.kind as u8),
        &record.active,
    ];
    atomically(conn, || {
        if run(conn, sql::INSERT_PRINCIPAL, &params, what)? == 0 {
            return Err(Error::already_exists("principal", &record.name));
        }
        Ok(())
    })
}

/// Notes `key` for the commit in progress ([`acl_core::ReadView::changed_rows`]). The
/// store's write methods note a row before writing it, in the transaction's savepoint: a
/// dropped transaction keeps no note, and a write that fails after its note leaves a note
/// of a row it left as it was, which the contract allows.
pub(crate) fn note(conn: &Connection, key: &RowKey) -> Result<bool> {
    let (kind, a, b) = key_columns(key);
    run(conn, sql::NOTE, &[&kind, &a, &b], || {
        format!("noting the row `{}` `{}`", clip(a), clip(b))
    })
    .map(|inserted| inserted > 0)
}

/// Takes back the note of `key` for the commit in progress (its write failed).
pub(crate) fn unnote(conn: &Connection, key: &RowKey) -> Result<()> {
    let (kind, a, b) = key_columns(key);
    run(conn, sql::UNNOTE, &[&kind, &a, &b], || {
        format!("taking back the note of `{}` `{}`", clip(a), clip(b))
    })
    .map(drop)
}

/// The `changed` columns of a row key (schema step 8).
fn key_columns(key: &RowKey) -> (i64, &str, &str) {
    match key {
        RowKey::Cluster => (0, "", ""),
        RowKey::Principal(name) => (1, name.as_str(), ""),
        RowKey::Edge { member, role } => (2, member.as_str(), role.as_str()),
        RowKey::Grant { holder, uri } => (3, holder.as_str(), uri.as_str()),
        RowKey::Fence { uri, group } => (4, uri.as_str(), group.as_str()),
    }
}

/// Ends the notes of the commit of `revision`: forgets the notes of revisions
/// [`sql::NOTES_KEPT_REVISIONS`] back, and, when the commit wrote more rows than it
/// noted (`overflowed`), its own notes too, recording in the meta row where the notes
/// now start.
pub(crate) fn end_notes(conn: &Connection, revision: Revision, overflowed: bool) -> Result<()> {
    let revision = i64::try_from(revision.0)
        .map_err(|_| Error::Storage(format!("revision {revision} does not fit SQLite")))?;
    let old = revision.saturating_sub(sql::NOTES_KEPT_REVISIONS);
    if old > 0 {
        run(conn, sql::PRUNE_NOTES, &[&old], || {
            "pruning the notes".to_owned()
        })?;
        run(conn, sql::SET_NOTES_FROM, &[&old], || {
            "the notes' start".to_owned()
        })?;
    }
    if overflowed {
        run(conn, sql::FORGET_NOTES_OF, &[&revision], || {
            "forgetting the notes of a large commit".to_owned()
        })?;
        run(conn, sql::SET_NOTES_FROM, &[&revision], || {
            "the notes' start".to_owned()
        })?;
    }
    Ok(())
}

/// Updates the principal and, in the same savepoint, the copies of its record that the
/// `reach` rows whose role it is carry (schema step 6).
pub(crate) fn update_principal(conn: &Connection, record: &PrincipalRecord) -> Result<()> {
    let what = || format!("principal `{}`", clip(record.name.as_str()));
    let params: [&dyn ToSql; 3] = [
        &record.name.as_str(),
        &i64::from(record.kind as u8),
        &record.active,
    ];
    atomically(conn, || {
        if run(conn, sql::UPDATE_PRINCIPAL, &params, what)? == 0 {
            return Err(Error::not_found("principal", &record.name));
        }
        run(conn, sql::REACH_UPDATE_ROLE, &params, || {
            format!("reach of principal `{}`", clip(record.name.as_str()))
        })?;
        Ok(())
    })
}

pub(crate) fn delete_principal(conn: &Connection, name: &PrincipalName) -> Result<()> {
    let what = || format!("deleting principal `{}`", clip(name.as_str()));
    atomically(conn, || {
        if run(conn, sql::DELETE_PRINCIPAL, &[&name.as_str()], what)? == 0 {
            return Err(Error::not_found("principal", name));
        }
        Ok(())
    })
}

pub(crate) fn put_grant(conn: &Connection, grant: &Grant) -> Result<()> {
    let what = || {
        format!(
            "grant of `{}` on `{}`",
            clip(grant.holder.as_str()),
            clip(grant.uri.as_str())
        )
    };
    run(
        conn,
        sql::PUT_GRANT,
        &[
            &grant.holder.as_str(),
            &grant.uri.as_str(),
            &i64::from(grant.level.rank()),
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn delete_grant(conn: &Connection, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
    let what = || {
        format!(
            "deleting the grant of `{}` on `{}`",
            clip(holder.as_str()),
            clip(uri.as_str())
        )
    };
    let changed = run(
        conn,
        sql::DELETE_GRANT,
        &[&holder.as_str(), &uri.as_str()],
        what,
    )?;
    Ok(changed > 0)
}

fn edge_what(verb: &str, edge: &Edge) -> String {
    format!(
        "{verb}edge `{}` -> `{}`",
        clip(edge.member.as_str()),
        clip(edge.role.as_str())
    )
}

/// Runs `body` inside a savepoint: if it fails, every write it made is undone (an edge or
/// a principal, and the `reach` rows kept with it), so the call changes nothing and the
/// transaction stays usable.
fn atomically<T>(conn: &Connection, body: impl FnOnce() -> Result<T>) -> Result<T> {
    exec(conn, "SAVEPOINT reach_change")?;
    match body() {
        Ok(value) => {
            exec(conn, "RELEASE reach_change")?;
            Ok(value)
        }
        Err(e) => {
            // If even the rollback fails the transaction is unusable: the caller drops
            // it, which rolls everything back.
            let _ = exec(conn, "ROLLBACK TO reach_change");
            let _ = exec(conn, "RELEASE reach_change");
            Err(e)
        }
    }
}

/// [`crate::exec`], its error as the crate's.
fn exec(conn: &Connection, sql: &str) -> Result<()> {
    crate::exec(conn, sql).map_err(|e| Error::Storage(format!("`{sql}`: {e}")))
}

/// Inserts the edge and, when it is new, the `reach` rows it adds: the edge and every
/// edge its role reaches become reachable from the member and from everyone reaching it.
/// Adds or removes a membership edge; whether it was there before.
pub(crate) fn set_edge(conn: &Connection, edge: &Edge, present: bool) -> Result<bool> {
    if present {
        insert_edge(conn, edge).map(|inserted| !inserted)
    } else {
        delete_edge(conn, edge)
    }
}

/// Adds a membership edge and its reach rows; whether it was new.
fn insert_edge(conn: &Connection, edge: &Edge) -> Result<bool> {
    let params: [&dyn ToSql; 2] = [&edge.member.as_str(), &edge.role.as_str()];
    atomically(conn, || {
        let inserted = run(conn, sql::INSERT_EDGE, &params, || edge_what("", edge))? > 0;
        if inserted {
            run(conn, sql::REACH_INSERT_EDGE, &params, || {
                edge_what("reach of ", edge)
            })?;
        }
        Ok(inserted)
    })
}

/// The id of the principal named `name`, if it exists.
fn principal_id(conn: &Connection, name: &PrincipalName) -> Result<Option<i64>> {
    let mut ids = Vec::with_capacity(1);
    read::collect(
        &mut read::prepare(conn, sql::PRINCIPAL_ID)?,
        [name.as_str()],
        |row| read::int(row, 0, "principals"),
        &mut ids,
    )?;
    Ok(ids.first().copied())
}

/// Deletes the edge and, when it was there, rebuilds the `reach` rows of every principal
/// that reached its member (the member included) from the remaining edges: another path
/// may still reach what this edge led to, so rows cannot just be subtracted.
/// Removes a membership edge and the reach rows that went through it; whether it was there.
fn delete_edge(conn: &Connection, edge: &Edge) -> Result<bool> {
    let (Some(member), Some(role)) = (
        principal_id(conn, &edge.member)?,
        principal_id(conn, &edge.role)?,
    ) else {
        return Ok(false);
    };
    atomically(conn, || {
        let what = || edge_what("deleting ", edge);
        if run(conn, sql::DELETE_EDGE, &[&member, &role], what)? == 0 {
            return Ok(false);
        }
        let mut starts = vec![member];
        read::collect(
            &mut read::prepare(conn, sql::REACH_STARTS_OF)?,
            [member],
            |row| read::int(row, 0, "reach"),
            &mut starts,
        )?;
        for start in starts {
            let what = || edge_what("reach after deleting ", edge);
            run(conn, sql::REACH_CLEAR, &[&start], what)?;
            run(conn, sql::REACH_REBUILD, &[&start], what)?;
        }
        Ok(true)
    })
}

fn fence_what(verb: &str, fence: &Fence) -> String {
    format!(
        "{verb}fence on `{}` for `{}`",
        clip(fence.uri.as_str()),
        clip(fence.group.as_str())
    )
}

/// Adds or removes a fence; whether it was there before.
pub(crate) fn set_fence(conn: &Connection, fence: &Fence, present: bool) -> Result<bool> {
    let params: [&dyn ToSql; 2] = [&fence.uri.as_str(), &fence.group.as_str()];
    if present {
        let inserted = run(conn, sql::INSERT_FENCE, &params, || fence_what("", fence))?;
        Ok(inserted == 0)
    } else {
        let deleted = run(conn, sql::DELETE_FENCE, &params, || {
            fence_what("deleting ", fence)
        })?;
        Ok(deleted > 0)
    }
}

/// Appends `change` at the next revision and records that revision, inside the open
/// transaction; the caller commits.
pub(crate) fn append_change(conn: &Connection, change: &Change) -> Result<Revision> {
    let next = read::revision(conn)?
        .0
        .checked_add(1)
        .ok_or_else(|| Error::Storage("the revision counter is exhausted".to_owned()))?;
    let next_sql = i64::try_from(next)
        .map_err(|_| Error::Storage(format!("revision {next} does not fit SQLite")))?;
    run(
        conn,
        sql::APPEND_CHANGE,
        &[
            &next_sql,
            &change.at.0,
            &change.actor.as_ref().map(PrincipalName::as_str),
            &change.action,
            &change.target,
            &change.detail,
        ],
        || format!("changelog entry {next}"),
    )?;
    if run(conn, sql::SET_REVISION, &[&next_sql], || {
        "the revision".to_owned()
    })? != 1
    {
        return Err(Error::Storage("the meta row is missing".to_owned()));
    }
    Ok(Revision(next))
}

pub(crate) fn put_folder(conn: &Connection, folder: &Folder) -> Result<()> {
    let what = || format!("folder `{}` of `{}`", folder.id, folder.owner);
    let permission = folder.group_permission.map(|p| p.as_str());
    run(
        conn,
        sql::PUT_FOLDER,
        &[
            &folder.id.as_str(),
            &folder.name.as_str(),
            &folder.owner.as_str(),
            &folder.kind.as_str(),
            &folder.host.as_str(),
            &folder.status.as_str(),
            &permission,
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn put_share(conn: &Connection, share: &Share) -> Result<()> {
    let what = || format!("share of `{}` to `{}`", share.folder, share.user);
    run(
        conn,
        sql::PUT_SHARE,
        &[
            &share.folder.as_str(),
            &share.user.as_str(),
            &share.permission.as_str(),
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn delete_share(
    conn: &Connection,
    folder: &FolderId,
    user: &PrincipalName,
) -> Result<bool> {
    let what = || format!("deleting the share of `{folder}` to `{user}`");
    Ok(run(
        conn,
        sql::DELETE_SHARE,
        &[&folder.as_str(), &user.as_str()],
        what,
    )? > 0)
}

pub(crate) fn put_invitation(conn: &Connection, invitation: &Invitation) -> Result<()> {
    let what = || format!("invitation `{}`", invitation.id);
    run(
        conn,
        sql::PUT_INVITATION,
        &[
            &invitation.id.as_str(),
            &invitation.folder.as_str(),
            &invitation.inviter.as_str(),
            &invitation.invitee.as_str(),
            &invitation.permission.as_str(),
            &invitation.state.as_str(),
            &invitation.created.0,
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn put_vm(conn: &Connection, vm: &Vm) -> Result<()> {
    let what = || format!("vm `{}`", vm.id);
    run(
        conn,
        sql::PUT_VM,
        &[
            &vm.id.as_str(),
            &vm.name.as_str(),
            &vm.team.as_str(),
            &vm.owner.as_str(),
        ],
        what,
    )?;
    Ok(())
}

/// A value as an SQLite integer; amounts are validated far below `i64::MAX`.
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn put_policy(conn: &Connection, policy: &ResourcePolicy) -> Result<()> {
    let what = || format!("resource policy `{}`", policy.name);
    let limits: Vec<Option<i64>> = Resource::ALL
        .iter()
        .map(|r| match policy.limits.get(*r) {
            Limit::Unlimited => None,
            Limit::Max(max) => Some(int(max)),
        })
        .collect();
    let hosts = match &policy.hosts {
        Hosts::Any => None,
        Hosts::Only(hosts) => Some(
            hosts
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    };
    let name = policy.name.as_str();
    let mut params: Vec<&dyn ToSql> = vec![&name];
    params.extend(limits.iter().map(|l| l as &dyn ToSql));
    params.push(&hosts);
    run(conn, sql::PUT_POLICY, &params, what)?;
    Ok(())
}

pub(crate) fn delete_policy(conn: &Connection, name: &PolicyName) -> Result<bool> {
    let what = || format!("deleting resource policy `{name}`");
    Ok(run(conn, sql::DELETE_POLICY, &[&name.as_str()], what)? > 0)
}

pub(crate) fn put_account(conn: &Connection, account: &Account) -> Result<()> {
    let what = || format!("account `{}`", account.user);
    run(
        conn,
        sql::PUT_ACCOUNT,
        &[
            &account.user.as_str(),
            &account.email.as_str(),
            &account.full_name.as_str(),
            &account.password.as_str(),
            &account.role.as_str(),
            &account.status.as_str(),
            &account.need_password_change,
            &account.domain.as_str(),
            &account.policy.as_str(),
            &account.created.0,
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn put_keypair(conn: &Connection, keypair: &Keypair) -> Result<()> {
    let what = || format!("keypair `{}`", keypair.access_key);
    run(
        conn,
        sql::PUT_KEYPAIR,
        &[
            &keypair.access_key.as_str(),
            &keypair.user.as_str(),
            &keypair.secret.as_str(),
            &keypair.active,
            &keypair.policy.as_str(),
            &keypair.created.0,
            &keypair.sealed.as_ref().map(SealedSecret::as_stored),
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn put_session(conn: &Connection, session: &Session) -> Result<()> {
    let what = || format!("session `{}`", session.id);
    let r = session.request;
    run(
        conn,
        sql::PUT_SESSION,
        &[
            &session.id.as_str(),
            &session.user.as_str(),
            &int(r.cpu),
            &int(r.ram_gb),
            &int(r.gpu),
            &int(r.fgpu_hundredths),
            &int(r.containers),
            &session.started.0,
            &session.stopped.map(|t| t.0),
        ],
        what,
    )?;
    Ok(())
}

pub(crate) fn put_group_info(conn: &Connection, info: &GroupInfo) -> Result<()> {
    let what = || format!("attributes of group `{}`", info.name);
    run(
        conn,
        sql::PUT_GROUP_INFO,
        &[&info.name.as_str(), &info.domain.as_str(), &info.created.0],
        what,
    )?;
    Ok(())
}

pub(crate) fn delete_group_info(conn: &Connection, name: &PrincipalName) -> Result<bool> {
    let what = || format!("deleting the attributes of group `{name}`");
    Ok(run(conn, sql::DELETE_GROUP_INFO, &[&name.as_str()], what)? > 0)
}
