//! `acl group ...`: groups (projects, teams). A group is a principal of kind group;
//! membership is `read` on `role://G` (rule P2), changed by whoever manages `role://G`.

use acl_core::{Level, PrincipalKind, PrincipalName, ReadView, Uri};

use super::applied;
use crate::cli::GroupCommand;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl group ...`.
pub fn run(ctx: &Ctx, command: &GroupCommand) -> Result<Output> {
    match command {
        GroupCommand::Create { name } => {
            let name = ctx.principal(name)?;
            let done = ctx
                .engine()
                .add_role(&ctx.caller()?, &name, PrincipalKind::Group)?;
            Ok(applied(format!("created group `{name}`"), &done))
        }
        GroupCommand::AddMember { name, user } => {
            let group = ctx.principal(name)?;
            let user = ctx.user(user)?;
            let done =
                ctx.engine()
                    .grant(&ctx.caller()?, &Uri::of_role(&group), &user, Level::Read)?;
            Ok(applied(format!("`{user}` is a member of `{group}`"), &done))
        }
        GroupCommand::RemoveMember { name, user } => {
            let group = ctx.principal(name)?;
            let user = ctx.user(user)?;
            let done = ctx
                .engine()
                .revoke(&ctx.caller()?, &Uri::of_role(&group), &user)?;
            Ok(applied(
                format!("`{user}` is no longer a member of `{group}`"),
                &done,
            ))
        }
        GroupCommand::Members { name } => {
            let group = ctx.principal(name)?;
            ctx.require(
                &Uri::of_role(&group),
                Level::Read,
                "list the members of a group",
            )?;
            let reader = ctx.reader()?;
            if reader.principal(&group)?.is_none() {
                return Err(acl_core::Error::not_found("group", group.as_str()).into());
            }
            let mut members: Vec<(PrincipalName, PrincipalKind)> = reader
                .view()
                .members_of(std::slice::from_ref(&group))?
                .into_iter()
                .map(|(_, member)| (member.name, member.kind))
                .collect();
            members.sort();
            let rows = members
                .iter()
                .map(|(name, kind)| vec![name.to_string(), kind.to_string()])
                .collect();
            let items: Vec<_> = members
                .iter()
                .map(|(name, kind)| serde_json::json!({ "name": name, "kind": kind }))
                .collect();
            Ok(Output::table(&["member", "kind"], rows, &items, None))
        }
        GroupCommand::List { page } => {
            let reader = ctx.reader()?;
            let actor = ctx.actor()?;
            let groups = super::role::principals_where(&reader, page, |r| {
                Ok(r.kind == PrincipalKind::Group && super::role::visible(&reader, &actor, r)?)
            })?;
            Ok(Output::page(&["group"], &groups, |r| {
                vec![r.name.to_string()]
            }))
        }
    }
}
