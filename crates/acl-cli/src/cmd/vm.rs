//! `acl vm ...`: VMs shared within a team (rules V1 to V3). A VM is named by its name
//! among the VMs of the acting user's teams, or by its id.

use acl_core::Viewer;
use acl_platform::PlatformReads;
use acl_server::AnyStore;

use acl_platform::{FolderName, PlatformViewerReads, Vm, VmShareMode};
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
            let viewer = ctx.viewer()?;
            let vm = find_in(&viewer, name)?;
            let access = viewer.vm_members(&vm.id)?;
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
            let viewer = ctx.viewer()?;
            let vm = find_in(&viewer, name)?;
            let uri = vm.id.uri(&viewer.reader().cluster()?)?;
            Ok(verdict(viewer.check_action(
                viewer.viewer(),
                &uri,
                action,
            )?))
        }
    }
}

/// The VM named `name` in one of the acting user's teams, or else the VM whose id is
/// `name`, on the viewer's view.
fn find_in(viewer: &Viewer<'_, AnyStore>, name: &str) -> Result<Vm> {
    Ok(viewer.reader().vm_named(viewer.viewer(), name)?)
}

/// [`find_in`] on a fresh view, for a mutation.
fn find(ctx: &Ctx, name: &str) -> Result<Vm> {
    find_in(&ctx.viewer()?, name)
}
