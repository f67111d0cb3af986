//! `acl fence ...`: mandatory project boundaries (rule E4).

use acl_core::Fence;

use super::applied;
use crate::cli::FenceCommand;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl fence ...`.
pub fn run(ctx: &Ctx, command: &FenceCommand) -> Result<Output> {
    match command {
        FenceCommand::Add { uri, group } => {
            let uri = ctx.uri(uri)?;
            let group = ctx.principal(group)?;
            let done = ctx.engine().add_fence(&ctx.caller()?, &uri, &group)?;
            Ok(applied(
                format!("fenced `{uri}` to members of `{group}`"),
                &done,
            ))
        }
        FenceCommand::Remove { uri, group } => {
            let uri = ctx.uri(uri)?;
            let group = ctx.principal(group)?;
            let done = ctx.engine().remove_fence(&ctx.caller()?, &uri, &group)?;
            Ok(applied(
                format!("removed the fence of `{group}` on `{uri}`"),
                &done,
            ))
        }
        FenceCommand::List => {
            // The fences shown are those the acting user may change.
            let fences: Vec<Fence> = ctx.viewer()?.fences(None)?;
            let rows = fences
                .iter()
                .map(|f| vec![f.uri.to_string(), f.group.to_string()])
                .collect();
            Ok(Output::table(&["uri", "group"], rows, &fences, None))
        }
    }
}
