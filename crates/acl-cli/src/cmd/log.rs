//! `acl log`: the changelog, the audit trail (rule M3), through the engine's audit query
//! (which authorizes the acting user).

use acl_core::Revision;

use acl_platform::AuditQuery;

use crate::cli::PageArgs;
use crate::ctx::{Ctx, page_request};
use crate::error::Result;
use crate::output::Output;

/// `acl log [--since REV] [--actor USER]`.
pub fn run(ctx: &Ctx, since: u64, actor: Option<&str>, page: &PageArgs) -> Result<Output> {
    let query = AuditQuery {
        after: Revision(since),
        up_to: None,
        actor: actor.map(|a| ctx.user(a)).transpose()?,
    };
    let changes = ctx.engine().audit(
        &ctx.actor()?,
        &query,
        &page_request(page.limit, page.cursor.as_deref()),
    )?;
    Ok(Output::page(
        &["rev", "at", "actor", "action", "target", "detail"],
        &changes,
        |e| {
            vec![
                e.revision.to_string(),
                e.change.at.0.to_string(),
                e.change
                    .actor
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                e.change.action.clone(),
                e.change.target.clone(),
                e.change.detail.clone(),
            ]
        },
    ))
}
