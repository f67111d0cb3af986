//! `acl role ...`: roles, named permission sets (rules P2, P4).

use acl_core::{
    Cursor, Level, Page, PageRequest, PrincipalKind, PrincipalName, PrincipalRecord, Reader, Uri,
};
use acl_sqlite::SqliteStore;

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
            let reader = ctx.reader()?;
            let actor = ctx.actor()?;
            let roles = principals_where(&reader, page, |record| {
                Ok(record.kind != PrincipalKind::User
                    && prefix
                        .as_deref()
                        .is_none_or(|p| record.name.as_str().starts_with(p))
                    && visible(&reader, &actor, record)?)
            })?;
            Ok(Output::page(&["name", "kind"], &roles, |r| {
                vec![r.name.to_string(), r.kind.to_string()]
            }))
        }
    }
}

/// How many principals a listing reads from the store at a time.
const CHUNK: usize = 512;

/// The principals, in name order, that `keep` accepts: one page of them as `page` asks.
/// The cursor is the last name returned.
pub fn principals_where(
    reader: &Reader<'_, SqliteStore>,
    page: &PageArgs,
    mut keep: impl FnMut(&PrincipalRecord) -> Result<bool>,
) -> Result<Page<PrincipalRecord>> {
    let limit = page.limit.unwrap_or(usize::MAX);
    if limit == 0 {
        return Err(acl_core::Error::InvalidInput("a page limit must be at least 1".into()).into());
    }
    let mut after: Option<Cursor> = match &page.cursor {
        Some(text) => Some(Cursor::new(PrincipalName::new(text)?.as_str())),
        None => None,
    };
    let mut items = Vec::new();
    loop {
        let chunk = reader.principals(&PageRequest {
            after: after.clone(),
            limit: Some(CHUNK),
        })?;
        for record in chunk.items {
            if keep(&record)? {
                if items.len() == limit {
                    let next = items
                        .last()
                        .map(|r: &PrincipalRecord| Cursor::new(r.name.as_str()));
                    return Ok(Page { items, next });
                }
                items.push(record);
            }
        }
        match chunk.next {
            Some(next) => after = Some(next),
            None => return Ok(Page { items, next: None }),
        }
    }
}

/// Whether `actor` may see role or group `record`: it holds at least `list` on its
/// `role://` URI (members hold `read`, its managers `manage`).
pub fn visible(
    reader: &Reader<'_, SqliteStore>,
    actor: &PrincipalName,
    record: &PrincipalRecord,
) -> Result<bool> {
    Ok(reader.check(actor, &Uri::of_role(&record.name), Level::List)?)
}
