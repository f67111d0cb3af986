//! One module per command group; each turns parsed arguments into engine calls and the
//! engine's answers into an [`Output`].

mod access;
mod demo;
mod dump;
mod fence;
mod folder;
mod group;
mod import;
mod init;
mod invitation;
mod log;
mod model;
mod policy;
mod role;
pub mod serve;
mod user;
mod vm;

use acl_core::{Applied, Decision, PrincipalName, Reason};

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs the command of `cli`.
pub fn dispatch(cli: &Cli) -> Result<Output> {
    let path = cli.db_path();
    match &cli.command {
        Command::Init {
            cluster,
            admin,
            admin_email,
            admin_password,
        } => {
            // Init and restore seal nothing, but a bad master key is refused by every
            // command on a database, so a mistake shows at once.
            cli.master_key()?;
            init::run(
                &path,
                cli.acting.clone(),
                cluster,
                admin,
                admin_email.as_deref().zip(admin_password.as_deref()),
            )
        }
        Command::Demo => demo::run(cli),
        Command::Test { files, junit } => model::test(files, junit.as_deref()),
        Command::Validate { files } => model::validate(files),
        Command::Serve(args) => serve::serve(cli, args),
        Command::Restore { file } => {
            cli.master_key()?;
            dump::restore(&path, cli.acting.clone(), file)
        }
        command => {
            let key = cli.master_key()?;
            let ctx = Ctx::open(&path, cli.acting.clone(), false)?;
            let ctx = match key {
                Some(key) => ctx.with_master_key(key),
                None => ctx,
            };
            run_in(&ctx, command)
        }
    }
}

/// Runs `command` (anything but `init` and `demo`) in `ctx`.
fn run_in(ctx: &Ctx, command: &Command) -> Result<Output> {
    match command {
        Command::User(sub) => user::run(ctx, sub),
        Command::Login { user, password } => user::login(ctx, user, password),
        Command::Keypair(sub) => user::keypair(ctx, sub),
        Command::Policy(sub) => policy::policy(ctx, sub),
        Command::Session(sub) => policy::session(ctx, sub),
        Command::Export {
            model: true,
            output,
            ..
        } => model::export(ctx, output.as_deref()),
        Command::Export { what, output, .. } => match (what, output) {
            (Some(what), Some(output)) => policy::export(ctx, *what, output),
            _ => dispatch_elsewhere(),
        },
        Command::Group(sub) => group::run(ctx, sub),
        Command::Role(sub) => role::run(ctx, sub),
        Command::Grant {
            uri,
            principal,
            level,
        } => access::grant(ctx, uri, principal, level),
        Command::Revoke { uri, principal } => access::revoke(ctx, uri, principal),
        Command::List {
            uri,
            scheme,
            shared,
            user,
            page,
        } => access::list(
            ctx,
            uri.as_deref(),
            scheme.as_deref(),
            *shared,
            user.as_deref(),
            page,
        ),
        Command::Check {
            principal,
            uri,
            level,
        } => access::check(ctx, principal, uri, level),
        Command::Explain { principal, uri } => access::explain(ctx, principal, uri),
        Command::Tree {
            principal,
            uri,
            depth,
        } => access::tree(ctx, principal, uri, *depth),
        Command::Who { uri, level, page } => access::who(ctx, uri, level, page),
        Command::Fence(sub) => fence::run(ctx, sub),
        Command::Folder(sub) => folder::run(ctx, sub),
        Command::Invitation(sub) => invitation::run(ctx, sub),
        Command::Vm(sub) => vm::run(ctx, sub),
        Command::Log { since, actor, page } => log::run(ctx, *since, actor.as_deref(), page),
        Command::Import {
            file, model: true, ..
        } => model::import(ctx, file),
        Command::Import { file, batch, .. } => import::run(ctx, file, *batch),
        Command::Token(args) => serve::token(ctx, args),
        Command::Dump { file } => dump::dump(ctx, file),
        Command::Init { .. }
        | Command::Demo
        | Command::Test { .. }
        | Command::Validate { .. }
        | Command::Serve(_)
        | Command::Restore { .. } => dispatch_elsewhere(),
    }
}

/// `init` and `demo` open their own database, `test` and `validate` none; [`dispatch`]
/// never hands them here (nor an `export` without what and where, which clap refuses).
fn dispatch_elsewhere() -> Result<Output> {
    Err(
        acl_core::Error::InvalidInput("init, demo, test and validate take no open database".into())
            .into(),
    )
}

/// The text and JSON of a mutation: `message (revision N)` and `{"revision": N, ...}`.
fn applied<T: serde::Serialize>(message: String, applied: &Applied<T>) -> Output {
    Output::of(
        format!("{message} (revision {})\n", applied.revision),
        applied,
    )
}

/// A membership path `bob -> alice/roles/ops`.
fn path_text(path: &[PrincipalName]) -> String {
    path.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// A decision's reason in words: the grant, its holder and the membership path.
fn reason_text(decision: &Decision) -> String {
    match &decision.reason {
        Reason::Grant { grant, path } => format!(
            "grant: `{}` holds {} on `{}` (membership path: {})",
            grant.holder,
            grant.level,
            grant.uri,
            path_text(path)
        ),
        Reason::ImplicitList { grant, path } => format!(
            "implicit list: `{}` holds {} below, on `{}` (membership path: {})",
            grant.holder,
            grant.level,
            grant.uri,
            path_text(path)
        ),
        Reason::Forbid { grant, path } => format!(
            "forbid: `{}` is forbidden `{}` (membership path: {})",
            grant.holder,
            grant.uri,
            path_text(path)
        ),
        Reason::Fence { fence } => format!(
            "fence: `{}` is fenced to members of group `{}`",
            fence.uri, fence.group
        ),
        Reason::UnknownPrincipal => "unknown principal".into(),
        Reason::InactiveUser => "inactive user".into(),
        Reason::NoGrant => "no grant".into(),
    }
}
