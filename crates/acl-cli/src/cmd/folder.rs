//! `acl folder ...`: storage folders, sharing and mounting (rules F1 to F9). A folder is
//! named by its name among those the acting user sees.

use acl_core::Viewer;
use acl_platform::PlatformReads;
use acl_server::AnyStore;

use acl_platform::{Folder, FolderAccess, FolderName, Permission};
use serde_json::json;

use super::access::verdict;
use super::applied;
use crate::cli::FolderCommand;
use crate::ctx::Ctx;
use crate::error::{CliError, Result};
use crate::output::Output;

/// Runs `acl folder ...`.
pub fn run(ctx: &Ctx, command: &FolderCommand) -> Result<Output> {
    match command {
        FolderCommand::Create {
            name,
            group,
            permission,
            host,
        } => create(ctx, name, group.as_deref(), permission, host),
        FolderCommand::List => list(ctx),
        FolderCommand::Rename { name, new } => {
            let folder = find(ctx, name)?;
            let new = FolderName::new(new)?;
            let done = ctx
                .engine()
                .rename_folder(&ctx.caller()?, &folder.id, &new)?;
            Ok(applied(
                format!("renamed `{}` to `{new}`", folder.name),
                &done,
            ))
        }
        FolderCommand::Delete { name } => {
            let folder = find(ctx, name)?;
            let done = ctx.engine().delete_folder(&ctx.caller()?, &folder.id)?;
            let d = done.value;
            Ok(applied(
                format!(
                    "deleted `{}`: canceled {} invitations, removed {} shares and {} grants",
                    folder.name, d.canceled_invitations, d.removed_shares, d.removed_grants
                ),
                &done,
            ))
        }
        FolderCommand::Invite {
            name,
            users,
            permission,
        } => invite(ctx, name, users, permission),
        FolderCommand::SharedUsers { name } => {
            let viewer = ctx.viewer()?;
            let folder = find_in(&viewer, name)?;
            let shares = viewer.reader().shares(&folder.id)?;
            let rows = shares
                .iter()
                .map(|s| vec![s.user.to_string(), s.permission.to_string()])
                .collect();
            Ok(Output::table(&["user", "permission"], rows, &shares, None))
        }
        FolderCommand::SetPermission {
            name,
            user,
            permission,
        } => {
            let folder = find(ctx, name)?;
            let user = ctx.user(user)?;
            let permission = Permission::parse(permission)?;
            let done = ctx
                .engine()
                .update_share(&ctx.caller()?, &folder.id, &user, permission)?;
            Ok(applied(
                format!("`{user}` now has {permission} on `{}`", folder.name),
                &done,
            ))
        }
        FolderCommand::Unshare { name, user } => {
            let folder = find(ctx, name)?;
            let user = ctx.user(user)?;
            let done = ctx
                .engine()
                .unshare_folder(&ctx.caller()?, &folder.id, &user)?;
            Ok(applied(
                format!("stopped sharing `{}` with `{user}`", folder.name),
                &done,
            ))
        }
        FolderCommand::Leave { name } => {
            let folder = find(ctx, name)?;
            let done = ctx.engine().leave_folder(&ctx.caller()?, &folder.id)?;
            Ok(applied(format!("left `{}`", folder.name), &done))
        }
        FolderCommand::Can { name, action } => {
            let viewer = ctx.viewer()?;
            let folder = find_in(&viewer, name)?;
            let uri = folder_uri(&viewer, &folder)?;
            let allowed = viewer.check_action(viewer.viewer(), &uri, action)?;
            Ok(verdict(allowed))
        }
        FolderCommand::Mount { name, mode } => mount(ctx, name, mode),
    }
}

/// The folder named `name` among those the acting user sees (rule F2), for a mutation.
fn find(ctx: &Ctx, name: &str) -> Result<Folder> {
    find_in(&ctx.viewer()?, name)
}

/// The folder named `name` among those the viewer sees (rule F2), on its view.
fn find_in(viewer: &Viewer<'_, AnyStore>, name: &str) -> Result<Folder> {
    let name = FolderName::new(name)?;
    Ok(viewer.reader().folder_by_name(viewer.viewer(), &name)?)
}

fn folder_uri(viewer: &Viewer<'_, AnyStore>, folder: &Folder) -> Result<acl_core::Uri> {
    Ok(folder.id.uri(&viewer.reader().cluster()?)?)
}

fn create(
    ctx: &Ctx,
    name: &str,
    group: Option<&str>,
    permission: &str,
    host: &str,
) -> Result<Output> {
    let name = FolderName::new(name)?;
    let caller = ctx.caller()?;
    let done = match group {
        Some(group) => {
            let group = ctx.principal(group)?;
            let permission = Permission::parse(permission)?;
            ctx.engine()
                .create_group_folder(&caller, &group, &name, host, permission)?
        }
        None => ctx.engine().create_folder(&caller, &name, host)?,
    };
    let folder = &done.value;
    let whose = match group {
        Some(_) => format!("group folder of `{}`", folder.owner),
        None => "folder".to_owned(),
    };
    Ok(applied(
        format!("created {whose} `{}` (id {})", folder.name, folder.id),
        &done,
    ))
}

fn list(ctx: &Ctx) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let entries = viewer.reader().folders(viewer.viewer())?;
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.folder.name.to_string(),
                e.folder.id.to_string(),
                e.folder.owner.to_string(),
                e.folder.kind.to_string(),
                access_text(e.access).to_owned(),
                e.folder.host.clone(),
            ]
        })
        .collect();
    Ok(Output::table(
        &["name", "id", "owner", "kind", "permission", "host"],
        rows,
        &entries,
        None,
    ))
}

fn access_text(access: FolderAccess) -> &'static str {
    match access {
        FolderAccess::ReadOnly => "ro",
        FolderAccess::ReadWrite => "rw",
        FolderAccess::Owner => "owner",
    }
}

/// `acl folder invite NAME USER... --permission ro|rw` (rule F4). Each invitee is
/// reported; when nobody was invited the command fails with the first refusal's code.
fn invite(ctx: &Ctx, name: &str, users: &[String], permission: &str) -> Result<Output> {
    let folder = find(ctx, name)?;
    let permission = Permission::parse(permission)?;
    let invitees = users
        .iter()
        .map(|u| ctx.user(u))
        .collect::<Result<Vec<_>>>()?;
    let done = ctx
        .engine()
        .invite(&ctx.caller()?, &folder.id, &invitees, permission)?;
    let report = &done.value;
    // The error carries the first refusal's kind, so the exit code is its code.
    if let Some(err) = report.nobody_invited() {
        return Err(CliError::Engine(err));
    }
    let mut text = String::new();
    for invitation in &report.invited {
        text.push_str(&format!(
            "invited `{}` to `{}` ({}): invitation {}\n",
            invitation.invitee, folder.name, invitation.permission, invitation.id
        ));
    }
    for invitation in &report.already_pending {
        text.push_str(&format!(
            "already invited `{}` to `{}`: invitation {} is pending\n",
            invitation.invitee, folder.name, invitation.id
        ));
    }
    for refusal in &report.refused {
        text.push_str(&format!(
            "not invited `{}`: {}\n",
            refusal.invitee, refusal.reason
        ));
    }
    text.push_str(&format!("(revision {})\n", done.revision));
    Ok(Output::of(text, &done))
}

/// `acl folder mount NAME ro|rw` (rule F9): refused above the effective permission.
fn mount(ctx: &Ctx, name: &str, mode: &str) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let folder = find_in(&viewer, name)?;
    let permission = Permission::parse(mode)?;
    let uri = folder_uri(&viewer, &folder)?;
    viewer.require_action(&uri, permission.mount_action())?;
    Ok(Output::new(
        format!("`{}` may be mounted {permission}\n", folder.name),
        json!({ "folder": folder, "mount": permission }),
    ))
}
