//! `acl role ...`: roles, named permission sets (rules P2, P4).

use acl_core::{Cursor, PageRequest, PrincipalKind, PrincipalName};

use super::applied;
use crate::cli::{PageArgs, RoleCommand};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl role ...`.
pub fn run(ctx: &Ctx, command: &RoleCommand) -> Result<Output> {
    match command {
        RoleCommand::Add { name } => {
            let name = ctx.principal(name)?;
            let done = ctx
                .engine()
                .add_role(&ctx.caller()?, &name, PrincipalKind::Role)?;
            Ok(applied(format!("added role `{name}`"), &done))
        }
        RoleCommand::Remove { name } => {
            let name = ctx.principal(name)?;
            let done = ctx.engine().remove_role(&ctx.caller()?, &name)?;
            let removed = done.value;
            Ok(applied(
                format!(
                    "removed `{name}` with {} grants it held, {} grants on it and {} memberships",
                    removed.grants_held, removed.grants_on_role, removed.edges
                ),
                &done,
            ))
        }
        RoleCommand::List { prefix, page } => {
            let roles = ctx.viewer()?.roles(&page_of(page)?, |record| {
                prefix
                    .as_deref()
                    .is_none_or(|p| record.name.as_str().starts_with(p))
            })?;
            Ok(Output::page(&["name", "kind"], &roles, |r| {
                vec![r.name.to_string(), r.kind.to_string()]
            }))
        }
    }
}

/// The page request of `--limit` and `--cursor` for a listing of principals (the cursor
/// is a principal name).
pub fn page_of(page: &PageArgs) -> Result<PageRequest> {
    let after = match &page.cursor {
        Some(text) => Some(Cursor::new(PrincipalName::new(text)?.as_str())),
        None => None,
    };
    Ok(PageRequest {
        after,
        limit: page.limit,
    })
}
