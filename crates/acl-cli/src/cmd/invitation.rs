//! `acl invitation ...`: the invitation state machine (rules F5, F6).

use acl_platform::PlatformReads;
use acl_platform::{Invitation, InvitationId, Permission};

use super::applied;
use crate::cli::InvitationCommand;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Output;

/// Runs `acl invitation ...`.
pub fn run(ctx: &Ctx, command: &InvitationCommand) -> Result<Output> {
    let engine = ctx.engine();
    match command {
        InvitationCommand::List { sent } => list(ctx, *sent),
        InvitationCommand::Accept { id } => {
            let id = InvitationId::new(id)?;
            let done = engine.accept_invitation(&ctx.caller()?, &id)?;
            let folder = ctx.viewer()?.reader().folder(&done.value.folder)?;
            Ok(applied(
                format!(
                    "accepted invitation {id}: `{}` is shared with `{}` ({})",
                    folder.name, done.value.user, done.value.permission
                ),
                &done,
            ))
        }
        InvitationCommand::Reject { id } => {
            let id = InvitationId::new(id)?;
            let done = engine.reject_invitation(&ctx.caller()?, &id)?;
            Ok(applied(format!("rejected invitation {id}"), &done))
        }
        InvitationCommand::Cancel { id } => {
            let id = InvitationId::new(id)?;
            let done = engine.cancel_invitation(&ctx.caller()?, &id)?;
            Ok(applied(format!("canceled invitation {id}"), &done))
        }
        InvitationCommand::Update { id, permission } => {
            let id = InvitationId::new(id)?;
            let permission = Permission::parse(permission)?;
            let done = engine.change_invitation_permission(&ctx.caller()?, &id, permission)?;
            Ok(applied(
                format!("invitation {id} now offers {permission}"),
                &done,
            ))
        }
    }
}

/// The pending invitations the acting user received, or sent with `--sent`.
fn list(ctx: &Ctx, sent: bool) -> Result<Output> {
    let viewer = ctx.viewer()?;
    let (reader, actor) = (viewer.reader(), viewer.viewer());
    let invitations: Vec<Invitation> = if sent {
        reader.sent_invitations(actor)?
    } else {
        reader.received_invitations(actor)?.invitations
    };
    let mut rows = Vec::new();
    for invitation in &invitations {
        let folder = reader.folder(&invitation.folder)?;
        rows.push(vec![
            invitation.id.to_string(),
            folder.name.to_string(),
            invitation.inviter.to_string(),
            invitation.invitee.to_string(),
            invitation.permission.to_string(),
            invitation.state.to_string(),
        ]);
    }
    Ok(Output::table(
        &["id", "folder", "inviter", "invitee", "permission", "state"],
        rows,
        &invitations,
        None,
    ))
}
