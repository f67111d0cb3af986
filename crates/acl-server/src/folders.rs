//! Folders, shares and invitations (Backend.AI, rules F1 to F9), through the platform's
//! workflows as the token's identity, exactly as `acl folder` and `acl invitation` call
//! them. A folder is named by its name as the identity sees it (owned, shared or a group's).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use acl_core::{Applied, Caller, PrincipalName};
use acl_platform::{Folder, FolderName, InvitationId, Permission, PlatformReads};

use crate::api::Errors;
use crate::app::{App, Engine};
use crate::error::{ApiError, Result};
use crate::extract::{Body, Identity, Params};

/// A record of the platform (a folder, a share, an invitation, an invite report) and the
/// revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Record {
    /// The record, as the platform describes it.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// The store's revision after the mutation, or the one the answer was read at.
    pub revision: u64,
}

/// Records listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Records {
    /// The records.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// The revision the answer was read at.
    pub revision: u64,
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|err| ApiError::Unavailable(format!("cannot encode the answer: {err}")))
}

fn record<T: Serialize>(value: &T, revision: acl_core::Revision) -> Result<Json<Record>> {
    Ok(Json(Record {
        value: json(value)?,
        revision: revision.0,
    }))
}

/// A new folder: the identity's own, or a group's (admins only, rule F8).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewFolder {
    /// 1 to 64 characters of `[A-Za-z0-9._-]`; a leading `.` makes it private (rule F2).
    pub name: String,
    /// The storage host (default `local`).
    pub host: Option<String>,
    /// The group owning it: a group folder.
    pub group: Option<String>,
    /// A group folder's permission for the members: `ro` (default) or `rw`.
    pub permission: Option<String>,
}

/// A new name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    /// The folder's new name.
    pub name: String,
}

/// Users to invite.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Invite {
    /// The invitees, by username or email.
    pub users: Vec<String>,
    /// `ro` or `rw`.
    pub permission: String,
}

/// A sharee and a permission.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShareChange {
    /// The sharee, by username or email.
    pub user: String,
    /// `ro` or `rw` (ignored by unshare).
    pub permission: Option<String>,
}

/// A permission.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PermissionBody {
    /// `ro` or `rw`.
    pub permission: String,
}

/// Which invitations to list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvitationsQuery {
    /// The invitations the identity sent, instead of the pending ones it received.
    pub sent: Option<bool>,
    /// Answer only from a state at this revision or later.
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

fn name_path(path: std::result::Result<Path<String>, PathRejection>) -> Result<String> {
    path.map(|Path(name)| name)
        .map_err(|r| ApiError::BadRequest(r.body_text()))
}

/// The folder the identity sees by `name`.
fn find(engine: &Engine, identity: &PrincipalName, name: &str) -> Result<Folder> {
    let name = FolderName::new(name)?;
    let reader = engine.reader()?;
    let viewer = reader.bind(identity)?;
    Ok(viewer.reader().folder_by_name(viewer.viewer(), &name)?)
}

/// Runs the workflow `f` as `identity` on the folder named by the path, as the identity
/// sees it, and answers the record it returns: what every folder mutation by name does.
async fn on_folder<T: Serialize + Send + 'static>(
    app: &Arc<App>,
    identity: PrincipalName,
    path: std::result::Result<Path<String>, PathRejection>,
    f: impl FnOnce(&Engine, &Caller, &Folder) -> Result<Applied<T>> + Send + 'static,
) -> Result<Json<Record>> {
    let name = name_path(path)?;
    let done = app
        .write(identity, move |engine, caller| {
            let folder = find(engine, &caller.principal, &name)?;
            f(engine, caller, &folder)
        })
        .await?;
    record(&done.value, done.revision)
}

fn user(engine: &Engine, text: &str) -> Result<PrincipalName> {
    Ok(engine.reader()?.user_named(text)?)
}

/// Creates a folder (rules F1, F2, F8).
#[utoipa::path(post, path = "/v1/folders", tag = "folders", request_body = NewFolder,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<NewFolder>,
) -> Result<Json<Record>> {
    let name = FolderName::new(&request.name)?;
    let host = request.host.unwrap_or_else(|| "local".into());
    let group = request
        .group
        .as_deref()
        .map(PrincipalName::new)
        .transpose()?;
    let permission = Permission::parse(request.permission.as_deref().unwrap_or("ro"))?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(match &group {
                Some(group) => {
                    engine.create_group_folder(caller, group, &name, &host, permission)?
                }
                None => engine.create_folder(caller, &name, &host)?,
            })
        })
        .await?;
    record(&done.value, done.revision)
}

/// The folders the identity sees: owned, shared with it, its groups' (rule F1).
#[utoipa::path(get, path = "/v1/folders", tag = "folders", params(crate::api::Consistency),
    responses((status = 200, body = Records), Errors), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<Records>> {
    let (items, revision) = app
        .read(identity, consistency.at_least, |viewer| {
            viewer
                .reader()
                .folders(viewer.viewer())?
                .iter()
                .map(json)
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(Json(Records {
        items,
        revision: revision.0,
    }))
}

/// Renames a folder; its grants stay (rule F1).
#[utoipa::path(post, path = "/v1/folders/{name}/rename", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")), request_body = Rename,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn rename(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<Rename>,
) -> Result<Json<Record>> {
    let new = FolderName::new(&request.name)?;
    on_folder(&app, identity, path, move |engine, caller, folder| {
        Ok(engine.rename_folder(caller, &folder.id, &new)?)
    })
    .await
}

/// Deletes a folder with its invitations, shares and grants (rule F9).
#[utoipa::path(delete, path = "/v1/folders/{name}", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")),
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Record>> {
    on_folder(&app, identity, path, |engine, caller, folder| {
        Ok(engine.delete_folder(caller, &folder.id)?)
    })
    .await
}

/// Invites users to a folder (rule F4): the report names who was invited, who already was,
/// and who was refused and why; when nobody was invited, the first refusal's status.
#[utoipa::path(post, path = "/v1/folders/{name}/invite", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")), request_body = Invite,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn invite(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<Invite>,
) -> Result<Json<Record>> {
    let name = name_path(path)?;
    let permission = Permission::parse(&request.permission)?;
    let done = app
        .write(identity, move |engine, caller| {
            let folder = find(engine, &caller.principal, &name)?;
            let invitees = request
                .users
                .iter()
                .map(|u| user(engine, u))
                .collect::<Result<Vec<_>>>()?;
            Ok(engine.invite(caller, &folder.id, &invitees, permission)?)
        })
        .await?;
    let report = &done.value;
    if let Some(err) = report.nobody_invited() {
        return Err(ApiError::Engine(err));
    }
    record(report, done.revision)
}

/// The users a folder is shared with, and their permissions.
#[utoipa::path(get, path = "/v1/folders/{name}/shares", tag = "folders",
    params(("name" = String, Path, description = "The folder's name"), crate::api::Consistency),
    responses((status = 200, body = Records), Errors), security(("bearer" = [])))]
pub(crate) async fn shares(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<Records>> {
    let name = FolderName::new(&name_path(path)?)?;
    let (items, revision) = app
        .read(identity, consistency.at_least, move |viewer| {
            let folder = viewer.reader().folder_by_name(viewer.viewer(), &name)?;
            viewer
                .reader()
                .shares(&folder.id)?
                .iter()
                .map(json)
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(Json(Records {
        items,
        revision: revision.0,
    }))
}

/// Changes an accepted share's permission (the owner, rule F7).
#[utoipa::path(post, path = "/v1/folders/{name}/shares", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")), request_body = ShareChange,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn set_share(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<ShareChange>,
) -> Result<Json<Record>> {
    let permission = Permission::parse(request.permission.as_deref().unwrap_or(""))?;
    on_folder(&app, identity, path, move |engine, caller, folder| {
        let sharee = user(engine, &request.user)?;
        Ok(engine.update_share(caller, &folder.id, &sharee, permission)?)
    })
    .await
}

/// Stops sharing a folder with a user (the owner, rule F7).
#[utoipa::path(post, path = "/v1/folders/{name}/unshare", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")), request_body = ShareChange,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn unshare(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<ShareChange>,
) -> Result<Json<Record>> {
    on_folder(&app, identity, path, move |engine, caller, folder| {
        let sharee = user(engine, &request.user)?;
        Ok(engine.unshare_folder(caller, &folder.id, &sharee)?)
    })
    .await
}

/// Leaves a folder shared with the identity (rule F7).
#[utoipa::path(post, path = "/v1/folders/{name}/leave", tag = "folders",
    params(("name" = String, Path, description = "The folder's name")),
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn leave(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Record>> {
    on_folder(&app, identity, path, |engine, caller, folder| {
        Ok(engine.leave_folder(caller, &folder.id)?)
    })
    .await
}

/// The pending invitations the identity received, or those it sent.
#[utoipa::path(get, path = "/v1/invitations", tag = "folders", params(InvitationsQuery),
    responses((status = 200, body = Records), Errors), security(("bearer" = [])))]
pub(crate) async fn invitations(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<InvitationsQuery>,
) -> Result<Json<Records>> {
    let sent = query.sent.unwrap_or(false);
    let (items, revision) = app
        .read(identity, query.at_least, move |viewer| {
            let (reader, me) = (viewer.reader(), viewer.viewer());
            let list = if sent {
                reader.sent_invitations(me)?
            } else {
                reader.received_invitations(me)?.invitations
            };
            list.iter().map(json).collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(Json(Records {
        items,
        revision: revision.0,
    }))
}

/// What to do with an invitation.
#[derive(Debug, Clone, Copy)]
enum Step {
    Accept,
    Reject,
    Cancel,
}

async fn step(
    app: Arc<App>,
    identity: PrincipalName,
    id: String,
    step: Step,
) -> Result<Json<Record>> {
    let id = InvitationId::new(&id)?;
    let (value, revision) = app
        .write(identity, move |engine, caller| {
            Ok(match step {
                Step::Accept => {
                    let done = engine.accept_invitation(caller, &id)?;
                    acl_core::Applied {
                        revision: done.revision,
                        value: json(&done.value)?,
                    }
                }
                Step::Reject => {
                    let done = engine.reject_invitation(caller, &id)?;
                    acl_core::Applied {
                        revision: done.revision,
                        value: json(&done.value)?,
                    }
                }
                Step::Cancel => {
                    let done = engine.cancel_invitation(caller, &id)?;
                    acl_core::Applied {
                        revision: done.revision,
                        value: json(&done.value)?,
                    }
                }
            })
        })
        .await
        .map(|done| (done.value, done.revision))?;
    Ok(Json(Record {
        value,
        revision: revision.0,
    }))
}

/// Accepts an invitation (the invitee, rules F5, F6): the share and its grant are made.
#[utoipa::path(post, path = "/v1/invitations/{id}/accept", tag = "folders",
    params(("id" = String, Path, description = "The invitation's id")),
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn accept(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Record>> {
    step(app, identity, name_path(path)?, Step::Accept).await
}

/// Rejects an invitation (the invitee, rule F5).
#[utoipa::path(post, path = "/v1/invitations/{id}/reject", tag = "folders",
    params(("id" = String, Path, description = "The invitation's id")),
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn reject(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Record>> {
    step(app, identity, name_path(path)?, Step::Reject).await
}

/// Cancels an invitation (the inviter or the folder's managers, rule F5).
#[utoipa::path(post, path = "/v1/invitations/{id}/cancel", tag = "folders",
    params(("id" = String, Path, description = "The invitation's id")),
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn cancel(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Record>> {
    step(app, identity, name_path(path)?, Step::Cancel).await
}

/// Changes a pending invitation's permission (the inviter only, rule F5).
#[utoipa::path(post, path = "/v1/invitations/{id}/permission", tag = "folders",
    params(("id" = String, Path, description = "The invitation's id")), request_body = PermissionBody,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn change_permission(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<PermissionBody>,
) -> Result<Json<Record>> {
    let id = InvitationId::new(&name_path(path)?)?;
    let permission = Permission::parse(&request.permission)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.change_invitation_permission(caller, &id, permission)?)
        })
        .await?;
    record(&done.value, done.revision)
}

// ---------------------------------------------------------------------------------------
// VMs (rules V1 to V3)

/// A new VM.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewVm {
    /// The VM's name.
    pub name: String,
    /// The team (a group) it belongs to.
    pub team: String,
}

/// Share a VM.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmShare {
    /// The user, by username or email.
    pub user: String,
    /// `use` (launch and use) or `co-own` (drives, sharing).
    pub mode: String,
}

/// A VM's managers and users (rule V1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct VmMembers {
    /// The VM.
    #[schema(value_type = Object)]
    pub vm: serde_json::Value,
    /// Who manages it (co-owners, the owner, admins).
    pub managers: Vec<String>,
    /// Who may use it.
    pub users: Vec<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Creates a VM in a team (rule V1).
#[utoipa::path(post, path = "/v1/vms", tag = "folders", request_body = NewVm,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn create_vm(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<NewVm>,
) -> Result<Json<Record>> {
    let name = FolderName::new(&request.name)?;
    let team = PrincipalName::new(&request.team)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.create_vm(caller, &name, &team)?)
        })
        .await?;
    record(&done.value, done.revision)
}

/// Shares a VM with a user of the same team (rule V2).
#[utoipa::path(post, path = "/v1/vms/{name}/share", tag = "folders",
    params(("name" = String, Path, description = "The VM's name or id")), request_body = VmShare,
    responses((status = 200, body = Record), Errors), security(("bearer" = [])))]
pub(crate) async fn share_vm(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<VmShare>,
) -> Result<Json<Record>> {
    let name = name_path(path)?;
    let mode = acl_platform::VmShareMode::parse(&request.mode)?;
    let done = app
        .write(identity, move |engine, caller| {
            let reader = engine.reader()?;
            let viewer = reader.bind(&caller.principal)?;
            let vm = viewer.reader().vm_named(viewer.viewer(), &name)?;
            drop(viewer);
            let sharee = user(engine, &request.user)?;
            Ok(engine.share_vm(caller, &vm.id, &sharee, mode)?)
        })
        .await?;
    record(&done.value, done.revision)
}

/// A VM's managers and users, listed apart (rule V1).
#[utoipa::path(get, path = "/v1/vms/{name}/members", tag = "folders",
    params(("name" = String, Path, description = "The VM's name or id"), crate::api::Consistency),
    responses((status = 200, body = VmMembers), Errors), security(("bearer" = [])))]
pub(crate) async fn vm_members(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<VmMembers>> {
    use acl_platform::PlatformViewerReads;
    let name = name_path(path)?;
    let ((vm, managers, users), revision) = app
        .read(identity, consistency.at_least, move |viewer| {
            let vm = viewer.reader().vm_named(viewer.viewer(), &name)?;
            let access = viewer.vm_members(&vm.id)?;
            Ok((
                json(&vm)?,
                access.managers.iter().map(ToString::to_string).collect(),
                access.users.iter().map(ToString::to_string).collect(),
            ))
        })
        .await?;
    Ok(Json(VmMembers {
        vm,
        managers,
        users,
        revision: revision.0,
    }))
}
