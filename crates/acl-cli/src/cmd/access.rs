//! `acl grant`, `revoke`, `list`, `check`, `explain`, `tree`, `who`: the engine's core
//! operations (rules M1, M2, E1 to E6).

use acl_core::{GrantOutcome, Level, ListFilter, Uri};
use serde_json::json;

use super::{applied, reason_text};
use crate::cli::PageArgs;
use crate::ctx::{Ctx, page_request};
use crate::error::Result;
use crate::output::{Output, Verdict, to_json};

/// `acl grant URI PRINCIPAL LEVEL` (rules M1, E3).
pub fn grant(ctx: &Ctx, uri: &str, principal: &str, level: &str) -> Result<Output> {
    let level: Level = level.parse().map_err(acl_core::Error::from)?;
    let uri = ctx.uri(uri)?;
    let grantee = ctx.principal(principal)?;
    let done = ctx.engine().grant(&ctx.caller()?, &uri, &grantee, level)?;
    let message = match done.value {
        GrantOutcome::Created if level == Level::Deny => format!("forbade `{grantee}` `{uri}`"),
        GrantOutcome::Created => format!("granted {level} on `{uri}` to `{grantee}`"),
        GrantOutcome::Raised { from } => {
            format!("raised `{grantee}` on `{uri}` from {from} to {level}")
        }
        GrantOutcome::Kept { existing } => {
            format!("kept: `{grantee}` already holds {existing} on `{uri}`")
        }
    };
    Ok(applied(message, &done))
}

/// `acl revoke URI PRINCIPAL` (rule M2).
pub fn revoke(ctx: &Ctx, uri: &str, principal: &str) -> Result<Output> {
    let uri = ctx.uri(uri)?;
    let holder = ctx.principal(principal)?;
    let done = ctx.engine().revoke(&ctx.caller()?, &uri, &holder)?;
    Ok(applied(
        format!("revoked {} on `{uri}` from `{holder}`", done.value),
        &done,
    ))
}

/// `acl list [URI] [-s SCHEME] [--shared] [-u PRINCIPAL]` (rule E6).
pub fn list(
    ctx: &Ctx,
    uri: Option<&str>,
    scheme: Option<&str>,
    shared: bool,
    user: Option<&str>,
    page: &PageArgs,
) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let principal = match user {
        Some(text) => ctx.principal(text)?,
        None => viewer.viewer().clone(),
    };
    let request = page_request(page.limit, page.cursor.as_deref());
    if shared {
        let grants = viewer.shared(&principal, &request)?;
        return Ok(Output::page(&["uri", "level", "grantee"], &grants, |g| {
            vec![g.uri.to_string(), g.level.to_string(), g.holder.to_string()]
        }));
    }
    let filter = match (uri, scheme) {
        (Some(uri), _) => ListFilter::under(viewer.uri(uri)?),
        (None, Some(scheme)) => ListFilter::scheme(scheme)?,
        (None, None) => ListFilter::all(),
    };
    let listing = viewer.list(&principal, &filter, &request)?;
    let items: Vec<_> = listing
        .items
        .iter()
        .map(|(uri, level)| json!({ "uri": uri, "level": level }))
        .collect();
    let rows = listing
        .items
        .iter()
        .map(|(uri, level)| vec![uri.to_string(), level.to_string()])
        .collect();
    Ok(Output::table(&["uri", "level"], rows, &items, listing.next))
}

/// `acl check PRINCIPAL URI LEVEL|ACTION` (rule E5): prints allowed or denied.
pub fn check(ctx: &Ctx, principal: &str, uri: &str, level: &str) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let principal = ctx.principal(principal)?;
    let uri = viewer.uri(uri)?;
    let allowed = viewer.check_action(&principal, &uri, level)?;
    Ok(verdict(allowed))
}

/// The output of a yes/no question: `allowed` (exit 0) or `denied` (exit 77).
pub fn verdict(allowed: bool) -> Output {
    let word = if allowed { "allowed" } else { "denied" };
    Output::new(format!("{word}\n"), json!({ "allowed": allowed })).with_verdict(if allowed {
        Verdict::Ok
    } else {
        Verdict::Denied
    })
}

/// `acl explain PRINCIPAL URI` (rule E6): the level and the reason.
pub fn explain(ctx: &Ctx, principal: &str, uri: &str) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let principal = ctx.principal(principal)?;
    let uri = viewer.uri(uri)?;
    let decision = viewer.explain(&principal, &uri)?;
    Ok(Output::of(
        format!("{}: {}\n", decision.level, reason_text(&decision)),
        &decision,
    ))
}

/// `acl tree PRINCIPAL URI [--depth N]` (rule E6).
pub fn tree(ctx: &Ctx, principal: &str, uri: &str, depth: usize) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let principal = ctx.principal(principal)?;
    let uri = viewer.uri(uri)?;
    let nodes = viewer.tree(&principal, &uri, depth)?;
    let mut text = String::new();
    for node in &nodes {
        let indent = "  ".repeat(node.depth);
        let name = if node.depth == 0 {
            node.uri.to_string()
        } else {
            node.uri.last_segment().unwrap_or_default().to_owned()
        };
        text.push_str(&format!("{indent}{name}  {}\n", node.level));
    }
    Ok(Output::new(text, to_json(&nodes)))
}

/// `acl who URI [--level LEVEL]` (rule E6). The acting user needs `manage` on URI: those
/// who may grant there may see who holds it.
pub fn who(ctx: &Ctx, uri: &str, level: &str, page: &PageArgs) -> Result<Output> {
    let level: Level = level.parse().map_err(acl_core::Error::from)?;
    let viewer = ctx.viewer()?;
    let uri: Uri = viewer.uri(uri)?;
    let users = viewer.who(
        &uri,
        level,
        &page_request(page.limit, page.cursor.as_deref()),
    )?;
    Ok(Output::page(&["user"], &users, |u| vec![u.to_string()]))
}
