//! `acl user ...`: users' state and listing (rules A3, A4, E1).

use acl_core::{Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Uri};
use serde_json::json;

use super::applied;
use crate::cli::{PageArgs, UserCommand};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl user ...`.
pub fn run(ctx: &Ctx, command: &UserCommand) -> Result<Output> {
    match command {
        UserCommand::Deactivate { user } => set_active(ctx, user, false),
        UserCommand::Activate { user } => set_active(ctx, user, true),
        UserCommand::Show { user } => show(ctx, user),
        UserCommand::List {
            inactive,
            filter,
            page,
        } => list(ctx, *inactive, filter.as_deref(), page),
    }
}

fn set_active(ctx: &Ctx, user: &str, active: bool) -> Result<Output> {
    let user = ctx.user(user)?;
    let done = ctx.engine().set_active(&ctx.caller()?, &user, active)?;
    let word = if active { "activated" } else { "deactivated" };
    Ok(applied(format!("{word} `{user}`"), &done))
}

fn user_uri(user: &PrincipalName) -> Result<Uri> {
    Ok(Uri::parse(&format!("user://{user}"))?)
}

fn show(ctx: &Ctx, user: &str) -> Result<Output> {
    let user = ctx.user(user)?;
    ctx.require(&user_uri(&user)?, Level::Read, "see user")?;
    let reader = ctx.reader()?;
    let record = reader
        .principal(&user)?
        .filter(|r| r.kind == PrincipalKind::User)
        .ok_or_else(|| acl_core::Error::not_found("user", user.as_str()))?;
    let mut groups: Vec<PrincipalName> = reader
        .view()
        .roles_of(std::slice::from_ref(&user))?
        .into_iter()
        .filter(|(_, role)| role.kind == PrincipalKind::Group)
        .map(|(_, role)| role.name)
        .collect();
    groups.sort();
    let names: Vec<String> = groups.iter().map(ToString::to_string).collect();
    Ok(Output::new(
        format!(
            "username  {}\nstatus    {}\ngroups    {}\n",
            record.name,
            status(&record),
            names.join(", ")
        ),
        json!({ "username": record.name, "active": record.active, "groups": groups }),
    ))
}

fn status(record: &PrincipalRecord) -> &'static str {
    if record.active { "active" } else { "inactive" }
}

fn list(ctx: &Ctx, inactive: bool, filter: Option<&str>, page: &PageArgs) -> Result<Output> {
    ctx.require(&Uri::root("user")?, Level::Read, "list users")?;
    let reader = ctx.reader()?;
    let rows = super::role::principals_where(&reader, page, |record| {
        Ok(record.kind == PrincipalKind::User
            && record.active != inactive
            && filter.is_none_or(|text| record.name.as_str().contains(text)))
    })?;
    Ok(Output::page(&["username", "status"], &rows, |r| {
        vec![r.name.to_string(), status(r).to_owned()]
    }))
}
