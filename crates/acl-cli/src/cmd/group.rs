//! `acl group ...`: groups (projects, teams). A group is a principal of kind group;
//! membership is `read` on `role://G` (rule P2), through the engine's group workflows.

use acl_core::PrincipalKind;

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
                .create_group(&ctx.caller()?, &name, "default")?;
            Ok(applied(format!("created group `{name}`"), &done))
        }
        GroupCommand::AddMember { name, user } => {
            let group = ctx.principal(name)?;
            let user = ctx.user(user)?;
            let done = ctx
                .engine()
                .add_group_member(&ctx.caller()?, &group, &user)?;
            Ok(applied(format!("`{user}` is a member of `{group}`"), &done))
        }
        GroupCommand::RemoveMember { name, user } => {
            let group = ctx.principal(name)?;
            let user = ctx.user(user)?;
            let done = ctx
                .engine()
                .remove_group_member(&ctx.caller()?, &group, &user)?;
            Ok(applied(
                format!("`{user}` is no longer a member of `{group}`"),
                &done,
            ))
        }
        GroupCommand::Members { name } => {
            let group = ctx.principal(name)?;
            let (_, members) = ctx.engine().group_members(&ctx.actor()?, &group)?;
            let rows = members.iter().map(|m| vec![m.to_string()]).collect();
            Ok(Output::table(&["member"], rows, &members, None))
        }
        GroupCommand::List { page } => {
            let groups = ctx.viewer()?.roles(&super::role::page_of(page)?, |r| {
                r.kind == PrincipalKind::Group
            })?;
            Ok(Output::page(&["group"], &groups, |r| {
                vec![r.name.to_string()]
            }))
        }
    }
}
