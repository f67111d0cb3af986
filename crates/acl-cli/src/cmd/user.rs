//! `acl user ...`, `acl login`, `acl keypair ...`: accounts and credentials (rules A1 to
//! A5), each through the engine's account workflows.

use acl_core::{Cursor, Error, PrincipalKind, PrincipalName};
use acl_platform::PlatformReads;

use acl_platform::{
    AccessKey, Account, AccountFilter, AccountUpdate, Keypair, NewAccount, UserRole,
};
use serde_json::json;

use super::applied;
use crate::cli::{KeypairCommand, PageArgs, UserCommand};
use crate::ctx::{Ctx, OsEntropy};
use crate::error::Result;
use crate::output::{Output, to_json};

/// Runs `acl user ...`.
pub fn run(ctx: &Ctx, command: &UserCommand) -> Result<Output> {
    match command {
        UserCommand::Create {
            email,
            username,
            password,
            full_name,
            role,
            need_password_change,
            policy,
        } => {
            let mut new =
                NewAccount::new(username, email, password).with_role(UserRole::parse(role)?);
            if let Some(full_name) = full_name {
                full_name.clone_into(&mut new.full_name);
            }
            new.need_password_change = *need_password_change;
            if let Some(policy) = policy {
                policy.clone_into(&mut new.policy);
            }
            let mut entropy = OsEntropy::new()?;
            let done = ctx
                .engine()
                .create_account(&ctx.caller()?, &new, &mut entropy)?;
            entropy.check()?;
            Ok(applied(
                format!(
                    "created user `{}` <{}> ({})",
                    done.value.user,
                    done.value.email.as_str(),
                    done.value.role
                ),
                &done,
            ))
        }
        UserCommand::Update {
            user,
            username,
            full_name,
            password,
            role,
            need_password_change,
            policy,
        } => {
            let user = ctx.user(user)?;
            if let Some(new) = username {
                return Err(acl_core::Error::InvalidInput(format!(
                    "the username of `{user}` cannot change to `{new}`: it is the principal \
                     name its grants, folders and changelog entries refer to; create a new \
                     user instead"
                ))
                .into());
            }
            let update = AccountUpdate {
                full_name: full_name.clone(),
                password: password.clone(),
                role: role.as_deref().map(UserRole::parse).transpose()?,
                need_password_change: *need_password_change,
                policy: policy.clone(),
                ..AccountUpdate::default()
            };
            let mut entropy = OsEntropy::new()?;
            let done = ctx
                .engine()
                .update_account(&ctx.caller()?, &user, &update, &mut entropy)?;
            entropy.check()?;
            Ok(applied(format!("updated user `{user}`"), &done))
        }
        UserCommand::Deactivate { user } => {
            let user = ctx.user(user)?;
            let done = ctx.engine().deactivate_account(&ctx.caller()?, &user)?;
            Ok(applied(
                format!("deactivated `{user}` and its keypairs"),
                &done,
            ))
        }
        UserCommand::Activate { user } => {
            let user = ctx.user(user)?;
            let done = ctx.engine().activate_account(&ctx.caller()?, &user)?;
            Ok(applied(
                format!("activated `{user}` (its keypairs stay as they are)"),
                &done,
            ))
        }
        UserCommand::Show { user } => show(ctx, user),
        UserCommand::List {
            inactive,
            filter,
            page,
        } => list(ctx, *inactive, filter.as_deref(), page),
    }
}

fn show(ctx: &Ctx, user: &str) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let user = viewer.reader().user_named(user)?;
    let account = ctx.engine().account(viewer.viewer(), &user)?;
    let mut groups: Vec<PrincipalName> = viewer
        .roles_of(&user)?
        .into_iter()
        .filter(|role| role.kind == PrincipalKind::Group)
        .map(|role| role.name)
        .collect();
    groups.sort();
    let names: Vec<String> = groups.iter().map(ToString::to_string).collect();
    let text = format!(
        "username              {}\nemail                 {}\nfull name             {}\nrole                  {}\nstatus                {}\nneed password change  {}\ndomain                {}\ngroups                {}\nresource policy       {}\n",
        account.user,
        account.email.as_str(),
        account.full_name,
        account.role,
        account.status,
        account.need_password_change,
        account.domain,
        names.join(", "),
        account.policy.as_str(),
    );
    let mut value = account_json(&account);
    if let Some(map) = value.as_object_mut() {
        map.insert("groups".into(), to_json(&groups));
    }
    Ok(Output::new(text, value))
}

/// An account as JSON, without its password hash.
fn account_json(account: &Account) -> serde_json::Value {
    json!({
        "username": account.user,
        "email": account.email.as_str(),
        "full_name": account.full_name,
        "role": account.role,
        "status": account.status,
        "need_password_change": account.need_password_change,
        "domain": account.domain,
        "policy": account.policy.as_str(),
        "created": account.created,
    })
}

fn list(ctx: &Ctx, inactive: bool, filter: Option<&str>, page: &PageArgs) -> Result<Output> {
    let accounts = ctx.engine().accounts(
        &ctx.actor()?,
        &AccountFilter {
            text: filter.map(str::to_owned),
        },
    )?;
    let all = if inactive {
        accounts.inactive
    } else {
        accounts.active
    };
    // Sorted by username: the cursor is the last username shown.
    if page.limit == Some(0) {
        return Err(Error::InvalidInput("a page limit must be at least 1".into()).into());
    }
    let limit = page.limit.unwrap_or(usize::MAX);
    let mut rest = all
        .into_iter()
        .filter(|a| page.cursor.as_deref().is_none_or(|c| a.user.as_str() > c));
    let items: Vec<Account> = rest.by_ref().take(limit).collect();
    let next = match (rest.next(), items.last()) {
        (Some(_), Some(last)) => Some(Cursor::new(last.user.as_str())),
        _ => None,
    };
    let rows = items
        .iter()
        .map(|a| {
            vec![
                a.user.to_string(),
                a.email.as_str().to_owned(),
                a.full_name.clone(),
                a.role.to_string(),
                a.status.to_string(),
            ]
        })
        .collect();
    let json: Vec<serde_json::Value> = items.iter().map(account_json).collect();
    Ok(Output::table(
        &["username", "email", "full name", "role", "status"],
        rows,
        &json,
        next,
    ))
}

/// `acl login USER --password P` (rules A1 to A3): one answer for every refusal.
pub fn login(ctx: &Ctx, user: &str, password: &str) -> Result<Output> {
    let account = ctx.engine().login(user, password)?;
    Ok(Output::new(
        format!("logged in as `{}` ({})\n", account.user, account.role),
        account_json(&account),
    ))
}

/// Runs `acl keypair ...` (rule A5).
pub fn keypair(ctx: &Ctx, command: &KeypairCommand) -> Result<Output> {
    match command {
        KeypairCommand::Create { user } => {
            let user = ctx.user(user)?;
            let mut entropy = OsEntropy::new()?;
            let done = ctx
                .engine()
                .create_keypair(&ctx.caller()?, &user, &mut entropy)?;
            entropy.check()?;
            let created = &done.value;
            Ok(Output::new(
                format!(
                    "created keypair for `{user}` (revision {})\naccess key  {}\nsecret      {}\nthe secret is shown this once\n",
                    done.revision,
                    created.keypair.access_key.as_str(),
                    created.secret.expose()
                ),
                json!({
                    "revision": done.revision,
                    "access_key": created.keypair.access_key.as_str(),
                    "secret": created.secret.expose(),
                    "user": user,
                }),
            ))
        }
        KeypairCommand::List { user } => {
            let user = match user {
                Some(user) => ctx.user(user)?,
                None => ctx.actor()?,
            };
            let keypairs = ctx.engine().keypairs(&ctx.actor()?, &user)?;
            let rows = keypairs
                .iter()
                .map(|k| {
                    vec![
                        k.access_key.as_str().to_owned(),
                        k.user.to_string(),
                        if k.active { "active" } else { "inactive" }.to_owned(),
                        k.policy.as_str().to_owned(),
                    ]
                })
                .collect();
            let json: Vec<serde_json::Value> = keypairs.iter().map(keypair_json).collect();
            Ok(Output::table(
                &["access key", "user", "status", "policy"],
                rows,
                &json,
                None,
            ))
        }
        KeypairCommand::Activate { key } => set_keypair(ctx, key, true),
        KeypairCommand::Deactivate { key } => set_keypair(ctx, key, false),
    }
}

/// A keypair as JSON, without its secret's hash.
fn keypair_json(k: &Keypair) -> serde_json::Value {
    json!({
        "access_key": k.access_key.as_str(),
        "user": k.user,
        "active": k.active,
        "policy": k.policy.as_str(),
        "created": k.created,
    })
}

fn set_keypair(ctx: &Ctx, key: &str, active: bool) -> Result<Output> {
    let key = AccessKey::new(key)?;
    let done = ctx
        .engine()
        .set_keypair_active(&ctx.caller()?, &key, active)?;
    let word = if active { "activated" } else { "deactivated" };
    Ok(Output::new(
        format!(
            "{word} keypair {} (revision {})\n",
            key.as_str(),
            done.revision
        ),
        json!({ "revision": done.revision, "keypair": keypair_json(&done.value) }),
    ))
}
