//! `acl log`: the changelog, the audit trail (rule M3).

use acl_core::{Level, Revision, Uri};

use crate::cli::PageArgs;
use crate::ctx::{Ctx, page_request};
use crate::error::Result;
use crate::output::Output;

/// `acl log [--since REV] [--actor USER]`. A user may read its own changes; the whole log
/// needs `read` on `user:` (the administrators).
pub fn run(ctx: &Ctx, since: u64, actor: Option<&str>, page: &PageArgs) -> Result<Output> {
    let actor = actor.map(|a| ctx.user(a)).transpose()?;
    if actor.as_ref() != Some(&ctx.actor()?) {
        ctx.require(&Uri::root("user")?, Level::Read, "read the changelog")?;
    }
    let changes = ctx.reader()?.changes(
        Revision(since),
        actor.as_ref(),
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
