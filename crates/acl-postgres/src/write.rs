//! The writes, on the write transaction's connection, after its first statement took the
//! revision row (so `pending` is the revision the commit will have).

use std::collections::BTreeMap;

use postgres::types::ToSql;

use acl_core::{
    Change, ClusterName, Edge, Error, Fence, Level, PrincipalName, PrincipalRecord, RowKey, Uri,
};
use acl_platform::{
    Account, Folder, FolderId, GroupInfo, Hosts, Invitation, Keypair, Limit, PolicyName, Resource,
    ResourcePolicy, SealedSecret, Session, Share, Vm,
};

use crate::conn::Conn;
use crate::error::{PgError, sqlstate};
use crate::sql;

type Result<T> = acl_core::Result<T>;

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
    conn: &mut Conn,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
    what: impl FnOnce() -> String,
) -> Result<u64> {
    conn.execute(sql, params).map_err(|e| {
        let what = what();
        match e.code() {
            Some(sqlstate::FOREIGN_KEY_VIOLATION) => Error::Storage(format!(
                "{what} breaks a store invariant: it names a row that does not exist, or the \
                 row is still referenced ({e})"
            )),
            Some(
                sqlstate::UNIQUE_VIOLATION
                | sqlstate::CHECK_VIOLATION
                | sqlstate::NOT_NULL_VIOLATION,
            ) => Error::Storage(format!("{what} breaks a store invariant: {e}")),
            _ => Error::Storage(format!("writing {what}: {e}")),
        }
    })
}

pub(crate) fn set_cluster(conn: &mut Conn, pending: i64, cluster: &ClusterName) -> Result<()> {
    let what = || format!("cluster `{}`", clip(cluster.as_str()));
    match run(conn, sql::SET_CLUSTER, &[&cluster.as_str()], what)? {
        1 => note(conn, pending, &RowKey::Cluster),
        _ => Err(Error::Storage("the meta row is missing".to_owned())),
    }
}

/// A row key as the `changed` table's columns: kind, a, b (as acl-sqlite's).
fn key_columns(key: &RowKey) -> (i16, &str, &str) {
    match key {
        RowKey::Cluster => (0, "", ""),
        RowKey::Principal(name) => (1, name.as_str(), ""),
        RowKey::Edge { member, role } => (2, member.as_str(), role.as_str()),
        RowKey::Grant { holder, uri } => (3, holder.as_str(), uri.as_str()),
        RowKey::Fence { uri, group } => (4, uri.as_str(), group.as_str()),
    }
}

/// Notes `key` for the commit at `pending` ([`acl_core::ReadView::changed_rows`], rule
/// D3). A failed write aborts the whole PostgreSQL transaction, so no note outlives a
/// refused write.
fn note(conn: &mut Conn, pending: i64, key: &RowKey) -> Result<()> {
    let (kind, a, b) = key_columns(key);
    run(conn, sql::NOTE, &[&pending, &kind, &a, &b], || {
        format!("noting the row `{}` `{}`", clip(a), clip(b))
    })
    .map(drop)
}

/// Ends the notes of the commit of `revision`: forgets those of the revisions
/// [`sql::NOTES_KEPT_REVISIONS`] back, recording where the notes now start.
pub(crate) fn end_notes(conn: &mut Conn, revision: i64) -> Result<()> {
    let old = revision.saturating_sub(sql::NOTES_KEPT_REVISIONS);
    if old > 0 {
        run(conn, sql::PRUNE_NOTES, &[&old], || {
            "pruning the notes".to_owned()
        })?;
        run(conn, sql::SET_NOTES_FROM, &[&old], || {
            "the notes' start".to_owned()
        })?;
    }
    Ok(())
}

/// Moves the revision row to `revision` (the last of a history committed whole).
pub(crate) fn set_revision(conn: &mut Conn, revision: i64) -> Result<()> {
    match run(conn, sql::SET_REVISION, &[&revision], || {
        "the revision".to_owned()
    })? {
        1 => Ok(()),
        _ => Err(Error::Storage("the meta row is missing".to_owned())),
    }
}

fn kind_rank(record: &PrincipalRecord) -> i16 {
    i16::from(record.kind as u8)
}

pub(crate) fn insert_principal(
    conn: &mut Conn,
    pending: i64,
    record: &PrincipalRecord,
) -> Result<()> {
    let what = || format!("principal `{}`", clip(record.name.as_str()));
    let params: [&(dyn ToSql + Sync); 3] =
        [&record.name.as_str(), &kind_rank(record), &record.active];
    if run(conn, sql::INSERT_PRINCIPAL, &params, what)? == 0 {
        return Err(Error::already_exists("principal", &record.name));
    }
    note(conn, pending, &RowKey::Principal(record.name.clone()))
}

pub(crate) fn update_principal(
    conn: &mut Conn,
    pending: i64,
    record: &PrincipalRecord,
) -> Result<()> {
    let what = || format!("principal `{}`", clip(record.name.as_str()));
    let params: [&(dyn ToSql + Sync); 3] =
        [&record.name.as_str(), &kind_rank(record), &record.active];
    if run(conn, sql::UPDATE_PRINCIPAL, &params, what)? == 0 {
        return Err(Error::not_found("principal", &record.name));
    }
    note(conn, pending, &RowKey::Principal(record.name.clone()))
}

pub(crate) fn delete_principal(conn: &mut Conn, pending: i64, name: &PrincipalName) -> Result<()> {
    let what = || format!("deleting principal `{}`", clip(name.as_str()));
    if run(conn, sql::DELETE_PRINCIPAL, &[&name.as_str()], what)? == 0 {
        return Err(Error::not_found("principal", name));
    }
    note(conn, pending, &RowKey::Principal(name.clone()))
}

/// Writes the queued grants `queued` (by holder, then URI: each key once) in one statement,
/// with their notes in another.
pub(crate) fn put_grants(
    conn: &mut Conn,
    pending: i64,
    queued: &BTreeMap<PrincipalName, BTreeMap<Uri, Level>>,
) -> Result<()> {
    let mut holders = Vec::new();
    let mut uris = Vec::new();
    let mut ranks = Vec::new();
    for (holder, at) in queued {
        for (uri, level) in at {
            holders.push(holder.as_str());
            uris.push(uri.as_str());
            ranks.push(i16::from(level.rank()));
        }
    }
    let what = || match (holders.first(), uris.first()) {
        (Some(holder), Some(uri)) => format!(
            "{} grants (the first of `{}` on `{}`)",
            holders.len(),
            clip(holder),
            clip(uri)
        ),
        _ => "no grants".to_owned(),
    };
    run(conn, sql::PUT_GRANTS, &[&holders, &uris, &ranks], what)?;
    run(conn, sql::NOTE_GRANTS, &[&pending, &holders, &uris], || {
        format!("noting {} grants", holders.len())
    })
    .map(drop)
}

pub(crate) fn delete_grant(
    conn: &mut Conn,
    pending: i64,
    holder: &PrincipalName,
    uri: &Uri,
) -> Result<bool> {
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
    if changed > 0 {
        note(
            conn,
            pending,
            &RowKey::Grant {
                holder: holder.clone(),
                uri: uri.clone(),
            },
        )?;
    }
    Ok(changed > 0)
}

/// Adds or removes a membership edge; whether it was there before. A written edge notes
/// its member.
pub(crate) fn set_edge(conn: &mut Conn, pending: i64, edge: &Edge, present: bool) -> Result<bool> {
    let what = |verb: &str| {
        format!(
            "{verb}edge `{}` -> `{}`",
            clip(edge.member.as_str()),
            clip(edge.role.as_str())
        )
    };
    let params: [&(dyn ToSql + Sync); 2] = [&edge.member.as_str(), &edge.role.as_str()];
    let (sql, verb) = if present {
        (sql::INSERT_EDGE, "")
    } else {
        (sql::DELETE_EDGE, "deleting ")
    };
    let changed = run(conn, sql, &params, || what(verb))? > 0;
    if changed {
        note(
            conn,
            pending,
            &RowKey::Edge {
                member: edge.member.clone(),
                role: edge.role.clone(),
            },
        )?;
    }
    // Inserting: there before when nothing was inserted; deleting: when a row went.
    Ok(if present { !changed } else { changed })
}

/// Adds or removes a fence; whether it was there before.
pub(crate) fn set_fence(
    conn: &mut Conn,
    pending: i64,
    fence: &Fence,
    present: bool,
) -> Result<bool> {
    let what = |verb: &str| {
        format!(
            "{verb}fence on `{}` for `{}`",
            clip(fence.uri.as_str()),
            clip(fence.group.as_str())
        )
    };
    let params: [&(dyn ToSql + Sync); 2] = [&fence.uri.as_str(), &fence.group.as_str()];
    let (before, changed) = if present {
        let inserted = run(conn, sql::INSERT_FENCE, &params, || what(""))? > 0;
        (!inserted, inserted)
    } else {
        let deleted = run(conn, sql::DELETE_FENCE, &params, || what("deleting "))? > 0;
        (deleted, deleted)
    };
    if changed {
        note(
            conn,
            pending,
            &RowKey::Fence {
                uri: fence.uri.clone(),
                group: fence.group.clone(),
            },
        )?;
    }
    Ok(before)
}

/// Appends `change` at revision `pending` (the revision row already holds it).
pub(crate) fn append_change(conn: &mut Conn, pending: i64, change: &Change) -> Result<()> {
    run(
        conn,
        sql::APPEND_CHANGE,
        &[
            &pending,
            &change.at.0,
            &change.actor.as_ref().map(PrincipalName::as_str),
            &change.action,
            &change.target,
            &change.detail,
        ],
        || format!("changelog entry {pending}"),
    )
    .map(drop)
}

pub(crate) fn put_folder(conn: &mut Conn, folder: &Folder) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn put_share(conn: &mut Conn, share: &Share) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn delete_share(
    conn: &mut Conn,
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

pub(crate) fn put_invitation(conn: &mut Conn, invitation: &Invitation) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn put_vm(conn: &mut Conn, vm: &Vm) -> Result<()> {
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
    )
    .map(drop)
}

/// A value as a `BIGINT`; amounts are validated far below `i64::MAX`.
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn put_policy(conn: &mut Conn, policy: &ResourcePolicy) -> Result<()> {
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
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&name];
    params.extend(limits.iter().map(|l| l as &(dyn ToSql + Sync)));
    params.push(&hosts);
    run(conn, sql::PUT_POLICY, &params, what).map(drop)
}

pub(crate) fn delete_policy(conn: &mut Conn, name: &PolicyName) -> Result<bool> {
    let what = || format!("deleting resource policy `{name}`");
    Ok(run(conn, sql::DELETE_POLICY, &[&name.as_str()], what)? > 0)
}

pub(crate) fn put_account(conn: &mut Conn, account: &Account) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn put_keypair(conn: &mut Conn, keypair: &Keypair) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn put_session(conn: &mut Conn, session: &Session) -> Result<()> {
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
    )
    .map(drop)
}

pub(crate) fn put_group_info(conn: &mut Conn, info: &GroupInfo) -> Result<()> {
    let what = || format!("attributes of group `{}`", info.name);
    run(
        conn,
        sql::PUT_GROUP_INFO,
        &[&info.name.as_str(), &info.domain.as_str(), &info.created.0],
        what,
    )
    .map(drop)
}

pub(crate) fn delete_group_info(conn: &mut Conn, name: &PrincipalName) -> Result<bool> {
    let what = || format!("deleting the attributes of group `{name}`");
    Ok(run(conn, sql::DELETE_GROUP_INFO, &[&name.as_str()], what)? > 0)
}

/// The error a write gives when its transaction was aborted earlier.
pub(crate) fn aborted(why: &str) -> Error {
    PgError::Aborted(why.to_owned()).into()
}
