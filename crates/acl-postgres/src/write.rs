//! The writes, on the write transaction's connection, after its first statement took the
//! revision row (so `pending` is the revision the commit will have).

use postgres::types::ToSql;

use acl_core::{
    Change, ClusterName, Edge, Error, Fence, Grant, PrincipalName, PrincipalRecord, Uri,
};
use acl_platform::{
    Account, Folder, FolderId, GroupInfo, Hosts, Invitation, Keypair, Limit, PolicyName, Resource,
    ResourcePolicy, Session, Share, Vm,
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

pub(crate) fn set_cluster(conn: &mut Conn, cluster: &ClusterName) -> Result<()> {
    let what = || format!("cluster `{}`", clip(cluster.as_str()));
    match run(conn, sql::SET_CLUSTER, &[&cluster.as_str()], what)? {
        1 => Ok(()),
        _ => Err(Error::Storage("the meta row is missing".to_owned())),
    }
}

/// Notes `name` for the commit at `pending` ([`acl_core::ReadView::membership_changes`]):
/// its record or its own edges were written.
fn note(conn: &mut Conn, pending: i64, name: &PrincipalName) -> Result<()> {
    run(conn, sql::NOTE, &[&pending, &name.as_str()], || {
        format!("noting principal `{}`", clip(name.as_str()))
    })
    .map(drop)
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
    note(conn, pending, &record.name)
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
    note(conn, pending, &record.name)
}

pub(crate) fn delete_principal(conn: &mut Conn, pending: i64, name: &PrincipalName) -> Result<()> {
    let what = || format!("deleting principal `{}`", clip(name.as_str()));
    if run(conn, sql::DELETE_PRINCIPAL, &[&name.as_str()], what)? == 0 {
        return Err(Error::not_found("principal", name));
    }
    note(conn, pending, name)
}

pub(crate) fn put_grant(conn: &mut Conn, grant: &Grant) -> Result<()> {
    let what = || {
        format!(
            "grant of `{}` on `{}`",
            clip(grant.holder.as_str()),
            clip(grant.uri.as_str())
        )
    };
    let rank = i16::from(grant.level.rank());
    run(
        conn,
        sql::PUT_GRANT,
        &[&grant.holder.as_str(), &grant.uri.as_str(), &rank],
        what,
    )
    .map(drop)
}

pub(crate) fn delete_grant(conn: &mut Conn, holder: &PrincipalName, uri: &Uri) -> Result<bool> {
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
        note(conn, pending, &edge.member)?;
    }
    // Inserting: there before when nothing was inserted; deleting: when a row went.
    Ok(if present { !changed } else { changed })
}

/// Adds or removes a fence; whether it was there before.
pub(crate) fn set_fence(conn: &mut Conn, fence: &Fence, present: bool) -> Result<bool> {
    let what = |verb: &str| {
        format!(
            "{verb}fence on `{}` for `{}`",
            clip(fence.uri.as_str()),
            clip(fence.group.as_str())
        )
    };
    let params: [&(dyn ToSql + Sync); 2] = [&fence.uri.as_str(), &fence.group.as_str()];
    if present {
        Ok(run(conn, sql::INSERT_FENCE, &params, || what(""))? == 0)
    } else {
        Ok(run(conn, sql::DELETE_FENCE, &params, || what("deleting "))? > 0)
    }
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
