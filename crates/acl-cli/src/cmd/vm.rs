//! `acl vm ...`: VMs shared within a team (rules V1 to V3). A VM is named by its name
//! among the VMs of the acting user's teams, or by its id.

use acl_core::{Error, Level, PrincipalKind};
use acl_platform::FolderReads;

use acl_platform::{FolderName, PlatformView, Vm, VmId, VmShareMode};
use serde_json::json;

use super::access::verdict;
use super::applied;
use crate::cli::VmCommand;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl vm ...`.
pub fn run(ctx: &Ctx, command: &VmCommand) -> Result<Output> {
    match command {
        VmCommand::Create { name, team } => {
            let name = FolderName::new(name)?;
            let team = ctx.principal(team)?;
            let done = ctx.engine().create_vm(&ctx.caller()?, &name, &team)?;
            Ok(applied(
                format!(
                    "created VM `{}` (id {}) in team `{}`",
                    done.value.name, done.value.id, done.value.team
                ),
                &done,
            ))
        }
        VmCommand::Share { name, user, mode } => {
            let vm = find(ctx, name)?;
            let user = ctx.user(user)?;
            let mode = VmShareMode::parse(mode)?;
            let done = ctx.engine().share_vm(&ctx.caller()?, &vm.id, &user, mode)?;
            Ok(applied(
                format!("shared VM `{}` with `{user}` ({mode})", vm.name),
                &done,
            ))
        }
        VmCommand::Members { name } => {
            let vm = find(ctx, name)?;
            let uri = vm.id.uri(&ctx.reader()?.cluster()?)?;
            ctx.require(&uri, Level::Read, "list the members of a VM")?;
            let access = ctx.reader()?.vm_access(&vm.id)?;
            let mut rows: Vec<Vec<String>> = access
                .managers
                .iter()
                .map(|p| vec![p.to_string(), "manager".to_owned()])
                .collect();
            rows.extend(
                access
                    .users
                    .iter()
                    .map(|p| vec![p.to_string(), "user".to_owned()]),
            );
            let text = crate::output::table(&["principal", "role"], &rows);
            Ok(Output::new(
                text,
                json!({ "vm": vm, "managers": access.managers, "users": access.users }),
            ))
        }
        VmCommand::Can { name, action } => {
            let vm = find(ctx, name)?;
            let uri = vm.id.uri(&ctx.reader()?.cluster()?)?;
            Ok(verdict(ctx.reader()?.check_action(
                &ctx.actor()?,
                &uri,
                action,
            )?))
        }
    }
}

/// The VM named `name` in one of the acting user's teams (the groups of its closure), or
/// else the VM whose id is `name`.
fn find(ctx: &Ctx, name: &str) -> Result<Vm> {
    let reader = ctx.reader()?;
    let closure = reader.closure(&ctx.actor()?)?;
    let mut found: Vec<Vm> = Vec::new();
    for team in closure.names() {
        if closure
            .record(team)
            .is_some_and(|r| r.kind == PrincipalKind::Group)
        {
            found.extend(
                reader
                    .view()
                    .vms_of(team)?
                    .into_iter()
                    .filter(|vm| vm.name.as_str() == name),
            );
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    if found.len() > 1 {
        let ids: Vec<String> = found.iter().map(|vm| vm.id.to_string()).collect();
        return Err(Error::Conflict(format!(
            "several VMs are named `{name}` ({}): name one by its id",
            ids.join(", ")
        ))
        .into());
    }
    match found.into_iter().next() {
        Some(vm) => Ok(vm),
        None => match VmId::new(name) {
            Ok(id) => Ok(reader.vm(&id)?),
            Err(_) => Err(Error::not_found("vm", name).into()),
        },
    }
}
