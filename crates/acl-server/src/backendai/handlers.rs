//! The vfolder routes. Each resolves what the request names (a folder by name or UUID
//! among those the signer sees, users by email or username, a project by name or UUID),
//! then calls one platform workflow or read as the signer: the engine decides.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use acl_core::{Applied, Caller, Level, PrincipalKind, PrincipalName, Reader, Viewer};
use acl_platform::{
    FolderAccess, FolderEntry, FolderKind, FolderName, Hosts, Invitation, InvitationId, Permission,
    PlatformReads, Share,
};

use super::auth::Signer;
use super::body::{Fields, Piece};
use super::ids;
use super::problem::{Answer, Problem};
use crate::app::{App, Engine, require_live};
use crate::store::AnyStore;

/// The API version answered at `/`: the client speaks the lower of its own and this.
pub(crate) const API_VERSION: &str = "v9.20250722";

/// How long a file-access ticket is good for, in seconds.
const TICKET_SECS: i64 = 300;

/// Runs the read `f` as `me` through [`App::read`] (one consistent view bound to a live
/// principal, on a blocking thread), its own refusals kept as problems.
async fn read<T: Send + 'static>(
    app: &Arc<App>,
    me: PrincipalName,
    f: impl for<'e> FnOnce(&Viewer<'e, AnyStore>) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let (answer, _) = app
        .read(me, None, move |viewer| Ok(f(viewer)))
        .await
        .map_err(Problem::from)?;
    answer
}

/// Runs the mutation `f` as `me`, a live principal, at the current time, on a blocking
/// thread; the engine authorizes it. (As [`App::write`], which cannot carry a problem
/// out of a refused mutation: a failure there has no revision to report.)
async fn write<T: Send + 'static>(
    app: &Arc<App>,
    me: PrincipalName,
    f: impl FnOnce(&Engine, &Caller) -> Answer<Applied<T>> + Send + 'static,
) -> Answer<T> {
    app.blocking(move |app| {
        require_live(&app.engine.reader()?, &me)?;
        let caller = Caller::new(me, crate::app::now());
        let out = f(&app.engine, &caller);
        if let Ok(done) = &out {
            app.saw(done.revision);
            // read-your-writes through this server, as the v1 API
            app.catch_up();
        }
        Ok(out.map(|done| done.value))
    })
    .await
    .map_err(Problem::from)?
}

/// The folders a request of `me` may name: those it sees (rule F1), and the project
/// folders of the groups it manages (`manage` on `role://G`: admins, the group's managers),
/// which it administers without being a member, as the manager's admins do.
fn candidates(viewer: &Viewer<'_, AnyStore>) -> Answer<Vec<FolderEntry>> {
    use acl_platform::PlatformView;
    let (reader, me) = (viewer.reader(), viewer.viewer());
    let mut entries = reader.folders(me)?;
    let groups = viewer.roles(&acl_core::PageRequest::default(), |r| {
        r.kind == PrincipalKind::Group
    })?;
    for group in groups.items {
        if !reader.check(me, &acl_core::Uri::of_role(&group.name), Level::Manage)? {
            continue;
        }
        for folder in reader.view().folders_of(&group.name)? {
            if folder.is_active() && !entries.iter().any(|e| e.folder.id == folder.id) {
                let access = folder
                    .group_permission
                    .map_or(FolderAccess::ReadOnly, FolderAccess::from);
                let manages =
                    reader.check(me, &folder.id.uri(&reader.cluster()?)?, Level::Manage)?;
                entries.push(FolderEntry {
                    folder,
                    is_owner: false,
                    access: if manages { FolderAccess::Owner } else { access },
                });
            }
        }
    }
    Ok(entries)
}

/// The folder `piece` names among those `me` sees (rule F1): a UUID (32 hex digits, with
/// or without dashes) or a name. Either way the same entry, so the same decision follows.
fn resolve(viewer: &Viewer<'_, AnyStore>, piece: &str) -> Answer<FolderEntry> {
    let entries = candidates(viewer)?;
    let missing = || Problem::no_folder(format!("folder `{piece}` not found"));
    if let Some(uuid) = ids::parse(piece) {
        return entries
            .into_iter()
            .find(|e| ids::folder(&e.folder.id) == uuid)
            .ok_or_else(missing);
    }
    let name = FolderName::new(piece)?;
    let mut found: Vec<FolderEntry> = entries
        .into_iter()
        .filter(|e| e.folder.name == name)
        .collect();
    if found.len() > 1 {
        let uuids: Vec<String> = found
            .iter()
            .map(|e| ids::folder(&e.folder.id).to_string())
            .collect();
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "too-many-vfolders",
            "There are two or more matching vfolders.",
            format!(
                "several folders you see are named `{piece}` ({}): name one by its id",
                uuids.join(", ")
            ),
        ));
    }
    found.pop().ok_or_else(missing)
}

/// Resolves the folder `piece` as `me` on a fresh view of `engine` (inside a mutation).
fn resolve_in(engine: &Engine, me: &PrincipalName, piece: &str) -> Answer<FolderEntry> {
    resolve(&engine.reader()?.bind(me)?, piece)
}

/// The user a body names: an email or a username (rule A1).
fn user_in(reader: &Reader<'_, AnyStore>, text: &str) -> Answer<PrincipalName> {
    Ok(reader.user_named(text)?)
}

/// The folder `piece` names and the users `named` (emails or usernames), both as `me`
/// sees them: what invite, share and unshare resolve before their workflow.
fn folder_and_users(
    engine: &Engine,
    me: &PrincipalName,
    piece: &str,
    named: &[String],
) -> Answer<(FolderEntry, Vec<PrincipalName>)> {
    let viewer = engine.reader()?.bind(me)?;
    let entry = resolve(&viewer, piece)?;
    let users = named
        .iter()
        .map(|text| user_in(viewer.reader(), text))
        .collect::<Answer<Vec<_>>>()?;
    Ok((entry, users))
}

/// The project `text` names: its UUID among the groups the viewer sees (rule P2), or its
/// name.
fn group_in(viewer: &Viewer<'_, AnyStore>, text: &str) -> Answer<PrincipalName> {
    let Some(uuid) = ids::parse(text) else {
        return Ok(PrincipalName::new(text)?);
    };
    viewer
        .roles(&acl_core::PageRequest::default(), |r| {
            r.kind == PrincipalKind::Group && ids::group(&r.name) == uuid
        })?
        .items
        .into_iter()
        .map(|r| r.name)
        .next()
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "object-not-found",
                "No such user group (or project).",
                format!("project `{text}` not found"),
            )
        })
}

/// How a user is shown to `me`: its email where `me` may read its account, else its
/// username (as the manager shows a username where an email is empty).
fn shown(
    reader: &Reader<'_, AnyStore>,
    me: &PrincipalName,
    user: &PrincipalName,
) -> Answer<String> {
    Ok(reader
        .email_of(me, user)?
        .unwrap_or_else(|| user.to_string()))
}

/// A permission offered to a sharee: `ro` or `rw`. `wd` (Backend.AI's read-write-delete)
/// is not offered: deleting is the owner's (rule F3).
fn offered(text: &str) -> Answer<Permission> {
    if text == "wd" {
        return Err(Problem::invalid(
            "permission `wd` is not offered: a sharee holds ro or rw, and only the owner deletes (rule F3)",
        ));
    }
    Ok(Permission::parse(text)?)
}

/// The permission offered under one of `names`, `rw` when none is given (the manager's
/// default for invitations, shares and project folders).
fn offered_or_rw(fields: &Fields, names: &[&'static str]) -> Answer<Permission> {
    offered(fields.text(names)?.as_deref().unwrap_or("rw"))
}

/// The permission word of a folder entry: `wd` for the owner, else the share's or the
/// group's.
fn permission_word(entry: &FolderEntry) -> &'static str {
    match entry.access {
        FolderAccess::Owner => "wd",
        FolderAccess::ReadWrite => "rw",
        FolderAccess::ReadOnly => "ro",
    }
}

/// A folder as the manager describes it.
fn folder_json(
    reader: &Reader<'_, AnyStore>,
    me: &PrincipalName,
    entry: &FolderEntry,
) -> Answer<Value> {
    let folder = &entry.folder;
    let uuid = ids::folder(&folder.id);
    let (kind, user, group, user_email, group_name, creator, scope) = match folder.kind {
        FolderKind::User => {
            let owner = ids::user(&folder.owner);
            let email = shown(reader, me, &folder.owner)?;
            (
                "user",
                Value::String(owner.to_string()),
                Value::Null,
                Value::String(email.clone()),
                Value::Null,
                email,
                format!("user:{owner}"),
            )
        }
        FolderKind::Group => {
            let group = ids::group(&folder.owner);
            (
                "group",
                Value::Null,
                Value::String(group.to_string()),
                Value::Null,
                Value::String(folder.owner.to_string()),
                String::new(),
                format!("project:{group}"),
            )
        }
    };
    Ok(json!({
        "id": ids::hex(&uuid),
        "name": folder.name.as_str(),
        "quota_scope_id": scope,
        "host": folder.host,
        "status": "ready",
        "usage_mode": "general",
        "permission": permission_word(entry),
        "is_owner": entry.is_owner,
        "user": user,
        "group": group,
        "user_email": user_email,
        "group_name": group_name,
        "creator": creator,
        "ownership_type": kind,
        "type": kind,
        "cloneable": false,
        "max_files": 0,
        "max_size": 0,
        "cur_size": 0,
        "created_at": "",
    }))
}

/// A time as the manager writes it (ISO 8601, UTC).
fn iso(at: acl_core::Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// An invitation as the manager describes it.
fn invitation_json(
    reader: &Reader<'_, AnyStore>,
    me: &PrincipalName,
    invitation: &Invitation,
) -> Answer<Value> {
    let folder = reader.folder(&invitation.folder)?;
    Ok(json!({
        "id": invitation.id.as_str(),
        "inviter": shown(reader, me, &invitation.inviter)?,
        "invitee": shown(reader, me, &invitation.invitee)?,
        "perm": invitation.permission.as_str(),
        "state": invitation.state.as_str(),
        "created_at": iso(invitation.created),
        "modified_at": Value::Null,
        "vfolder_id": ids::folder(&invitation.folder).to_string(),
        "vfolder_name": folder.name.as_str(),
    }))
}

/// `{"msg": TEXT}` with status 200.
fn msg(text: impl Into<String>) -> Response {
    Json(json!({ "msg": text.into() })).into_response()
}

/// `GET /`: the version document the client reads when a session opens (unsigned).
pub(crate) async fn version() -> Json<Value> {
    Json(json!({
        "version": API_VERSION,
        "manager": concat!("acl ", env!("CARGO_PKG_VERSION")),
    }))
}

/// `POST /folders`: a user folder, or with `group` a project folder (admins, rule F8).
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Response> {
    let name = FolderName::new(&fields.required(&["name"])?)?;
    let host = fields
        .text(&["host", "folder_host"])?
        .unwrap_or_else(|| "local".to_owned());
    let group = fields.text(&["group", "groupId", "group_id"])?;
    let permission = offered_or_rw(&fields, &["permission"])?;
    match fields.text(&["usage_mode", "usageMode"])?.as_deref() {
        None | Some("general") => {}
        Some(other) => {
            return Err(Problem::invalid(format!(
                "usage_mode `{other}` is not kept here: folders are general"
            )));
        }
    }
    if fields
        .text(&["unmanaged_path", "unmanagedPath"])?
        .is_some_and(|p| !p.is_empty())
    {
        return Err(Problem::invalid(
            "unmanaged folders are not served: acl keeps no storage of its own",
        ));
    }
    if fields.flag(&["cloneable"])? == Some(true) {
        return Err(Problem::invalid("cloneable folders are not served"));
    }
    let created = write(&app, me, move |engine, caller| {
        let done = match &group {
            Some(group) => {
                let group = group_in(&engine.reader()?.bind(&caller.principal)?, group)?;
                engine.create_group_folder(caller, &group, &name, &host, permission)?
            }
            None => engine.create_folder(caller, &name, &host)?,
        };
        // the folder as the creator sees it from now on, exactly as info answers it
        let viewer = engine.reader()?.bind(&caller.principal)?;
        let entry = resolve(&viewer, &ids::hex(&ids::folder(&done.value.id)))?;
        let value = folder_json(viewer.reader(), viewer.viewer(), &entry)?;
        Ok(Applied {
            revision: done.revision,
            value,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /folders`: the folders the signer sees (rule F1), optionally one project's.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Json<Vec<Value>>> {
    if fields.flag(&["all"])? == Some(true) {
        return Err(Problem::invalid(
            "Deprecated use of 'all' option: the listing is what the caller sees",
        ));
    }
    let group = fields.text(&["group_id", "groupId"])?;
    let items = read(&app, me, move |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let group = group.map(|g| group_in(viewer, &g)).transpose()?;
        reader
            .folders(me)?
            .iter()
            .filter(|e| {
                group
                    .as_ref()
                    .is_none_or(|g| e.folder.kind == FolderKind::Group && &e.folder.owner == g)
            })
            .map(|e| folder_json(reader, me, e))
            .collect()
    })
    .await?;
    Ok(Json(items))
}

/// `GET /folders/_/id`: the UUID of the folder named in the body (or query).
pub(crate) async fn id(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Json<Value>> {
    let name = fields.required(&["name", "vfolder_name", "vfolderName"])?;
    read(&app, me, move |viewer| {
        let entry = resolve(viewer, &name)?;
        Ok(Json(json!({
            "id": ids::folder(&entry.folder.id).to_string(),
            "name": entry.folder.name.as_str(),
        })))
    })
    .await
}

/// `GET /folders/{name}`: one folder.
pub(crate) async fn info(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
) -> Answer<Json<Value>> {
    read(&app, me, move |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let entry = resolve(viewer, &piece)?;
        let mut value = folder_json(reader, me, &entry)?;
        if let Value::Object(map) = &mut value {
            map.insert("num_files".into(), json!(0));
            map.insert("used_bytes".into(), json!(0));
            map.insert("last_used".into(), Value::Null);
        }
        Ok(Json(value))
    })
    .await
}

/// `POST /folders/{name}/rename`: the owner or a manager (rule F3).
pub(crate) async fn rename(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let new = FolderName::new(&fields.required(&["new_name", "newName"])?)?;
    write(&app, me, move |engine, caller| {
        let entry = resolve_in(engine, &caller.principal, &piece)?;
        Ok(engine.rename_folder(caller, &entry.folder.id, &new)?)
    })
    .await?;
    Ok(msg(""))
}

/// `POST /folders/{name}/update-options`: folders here have no options to change; with
/// nothing to change the answer is 200 for a manager of the folder.
pub(crate) async fn update_options(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let permission = fields.text(&["permission"])?;
    let cloneable = fields.flag(&["cloneable"])?;
    read(&app, me, move |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let entry = resolve(viewer, &piece)?;
        let uri = entry.folder.id.uri(&reader.cluster()?)?;
        if !reader.check(me, &uri, Level::Manage)? {
            return Err(acl_core::txn::forbidden(me, "update the options of", &uri, Level::Manage).into());
        }
        if let Some(permission) = permission
            && permission != permission_word(&entry)
        {
            return Err(Problem::invalid(format!(
                "a folder's permission is not an option here (`{permission}` asked): change a share with POST /folders/_/shared"
            )));
        }
        if cloneable == Some(true) {
            return Err(Problem::invalid("cloneable folders are not served"));
        }
        Ok(msg(""))
    })
    .await
}

/// Deletes the folder `piece` names (rule F9): its invitations canceled, its shares and
/// grants removed, in one transaction.
async fn delete_named(app: &Arc<App>, me: PrincipalName, piece: String) -> Answer<Response> {
    write(app, me, move |engine, caller| {
        let entry = resolve_in(engine, &caller.principal, &piece)?;
        Ok(engine.delete_folder(caller, &entry.folder.id)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /folders` with the folder's id (or name) in the body.
pub(crate) async fn delete_by_id(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Response> {
    let piece = fields.required(&["id", "vfolder_id", "vfolderId"])?;
    delete_named(&app, me, piece).await
}

/// `DELETE /folders/{name}`.
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
) -> Answer<Response> {
    delete_named(&app, me, piece).await
}

/// `POST /folders/{name}/invite` (rule F4): the invitees newly invited, as sent.
pub(crate) async fn invite(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let permission = offered_or_rw(&fields, &["perm", "permission"])?;
    let named = fields.required_texts(&["user_ids", "emails", "userIDs"])?;
    let invited = write(&app, me, move |engine, caller| {
        let (entry, users) = folder_and_users(engine, &caller.principal, &piece, &named)?;
        let done = engine.invite(caller, &entry.folder.id, &users, permission)?;
        if let Some(err) = done.value.nobody_invited() {
            return Err(err.into());
        }
        let invited: Vec<String> = named
            .iter()
            .zip(&users)
            .filter(|(_, user)| done.value.invited.iter().any(|i| &i.invitee == *user))
            .map(|(text, _)| text.clone())
            .collect();
        Ok(Applied {
            revision: done.revision,
            value: invited,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "invited_ids": invited }))).into_response())
}

/// `GET /folders/invitations/list`: the signer's pending received invitations.
pub(crate) async fn invitations(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
) -> Answer<Json<Value>> {
    read(&app, me, |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let list = reader
            .received_invitations(me)?
            .invitations
            .iter()
            .map(|i| invitation_json(reader, me, i))
            .collect::<Answer<Vec<_>>>()?;
        Ok(Json(json!({ "invitations": list })))
    })
    .await
}

/// `GET /folders/invitations/list-sent`: the signer's pending sent invitations.
pub(crate) async fn sent_invitations(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
) -> Answer<Json<Value>> {
    read(&app, me, |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let list = reader
            .sent_invitations(me)?
            .iter()
            .map(|i| invitation_json(reader, me, i))
            .collect::<Answer<Vec<_>>>()?;
        Ok(Json(json!({ "invitations": list })))
    })
    .await
}

/// The invitation id of a body.
fn invitation_id(fields: &Fields) -> Answer<InvitationId> {
    Ok(InvitationId::new(&fields.required(&[
        "inv_id",
        "invId",
        "invitation_id",
    ])?)?)
}

/// A state-machine refusal on an invitation no longer pending is the manager's "not
/// found": only a pending invitation can be acted on.
fn on_invitation(problem: Problem) -> Problem {
    if problem.slug == "vfolder-operation-failed" {
        Problem::invitation_not_found(problem.msg)
    } else {
        problem
    }
}

/// `POST /folders/invitations/update/{id}`: the inviter only (rule F5).
pub(crate) async fn update_invitation(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(id): Piece,
    fields: Fields,
) -> Answer<Response> {
    let id = InvitationId::new(&id)?;
    let permission = offered(&fields.required(&["perm", "permission"])?)?;
    let shown_id = id.to_string();
    write(&app, me, move |engine, caller| {
        Ok(engine.change_invitation_permission(caller, &id, permission)?)
    })
    .await
    .map_err(on_invitation)?;
    Ok(msg(format!("vfolder invitation updated: {shown_id}.")))
}

/// `POST /folders/invitations/accept`: the invitee only (rules F5, F6).
pub(crate) async fn accept(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Response> {
    let id = invitation_id(&fields)?;
    write(&app, me, move |engine, caller| {
        Ok(engine.accept_invitation(caller, &id)?)
    })
    .await
    .map_err(on_invitation)?;
    Ok(msg(""))
}

/// `DELETE` or `POST /folders/invitations/delete`: the invitee rejects, anyone else
/// cancels (the inviter or a manager of the folder may, rule F5).
pub(crate) async fn delete_invitation(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Response> {
    let id = invitation_id(&fields)?;
    write(&app, me, move |engine, caller| {
        let reader = engine.reader()?;
        let invitation = reader.invitation(&id)?;
        let invitee = invitation.invitee == *reader.canonical_name(&caller.principal)?;
        drop(reader);
        Ok(if invitee {
            engine.reject_invitation(caller, &id)?
        } else {
            engine.cancel_invitation(caller, &id)?
        })
    })
    .await
    .map_err(on_invitation)?;
    Ok(msg(""))
}

/// `POST /folders/{name}/share`: a project folder shared with members of its project.
pub(crate) async fn share(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let permission = offered_or_rw(&fields, &["permission", "perm"])?;
    let named = fields.required_texts(&["emails", "user_ids", "userIDs"])?;
    let echoed = named.clone();
    write(&app, me, move |engine, caller| {
        let (entry, users) = folder_and_users(engine, &caller.principal, &piece, &named)?;
        Ok(engine.share_group_folder(caller, &entry.folder.id, &users, permission)?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "shared_emails": echoed })),
    )
        .into_response())
}

/// `DELETE` or `POST /folders/{name}/unshare`: shares removed, all or nothing (rule F7).
pub(crate) async fn unshare(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let named = fields.required_texts(&["emails", "user_ids", "userIDs"])?;
    let echoed = named.clone();
    write(&app, me, move |engine, caller| {
        let (entry, users) = folder_and_users(engine, &caller.principal, &piece, &named)?;
        Ok(engine.unshare_folder_users(caller, &entry.folder.id, &users)?)
    })
    .await?;
    Ok(Json(json!({ "unshared_emails": echoed })).into_response())
}

/// The sharee of `folder` whose UUID is `uuid`.
fn sharee(reader: &Reader<'_, AnyStore>, entry: &FolderEntry, uuid: uuid::Uuid) -> Answer<Share> {
    reader
        .shares(&entry.folder.id)?
        .into_iter()
        .find(|s| ids::user(&s.user) == uuid)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "object-not-found",
                "No such shared virtual folder.",
                format!(
                    "folder `{}` is not shared with user `{uuid}`",
                    entry.folder.name
                ),
            )
        })
}

/// The UUID a body names under `names`; not a UUID is a 400.
fn uuid_field(fields: &Fields, names: &[&'static str]) -> Answer<Option<uuid::Uuid>> {
    fields
        .text(names)?
        .map(|text| {
            ids::parse(&text).ok_or_else(|| {
                Problem::invalid(format!(
                    "`{}` must be a UUID, not `{}`",
                    names.first().unwrap_or(&"?"),
                    acl_core::clip(&text)
                ))
            })
        })
        .transpose()
}

/// `POST /folders/{name}/leave` (rule F7): the signer leaves; with another user's UUID,
/// that user's share is removed, which only a manager of the folder may.
pub(crate) async fn leave(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Response> {
    let other = uuid_field(&fields, &["shared_user_uuid", "sharedUserUuid"])?;
    write(&app, me, move |engine, caller| {
        let viewer = engine.reader()?.bind(&caller.principal)?;
        let reader = viewer.reader();
        let entry = resolve(&viewer, &piece)?;
        let me = reader.canonical_name(&caller.principal)?.into_owned();
        match other {
            Some(uuid) if uuid != ids::user(&me) => {
                let share = sharee(reader, &entry, uuid)?;
                drop(viewer);
                Ok(engine.unshare_folder(caller, &entry.folder.id, &share.user)?)
            }
            _ => {
                drop(viewer);
                Ok(engine.leave_folder(caller, &entry.folder.id)?)
            }
        }
    })
    .await?;
    Ok(msg("left the shared vfolder"))
}

/// Whether `me` manages the folder of `entry` (holds `manage` on its URI).
fn manages(reader: &Reader<'_, AnyStore>, me: &PrincipalName, entry: &FolderEntry) -> Answer<bool> {
    let uri = entry.folder.id.uri(&reader.cluster()?)?;
    Ok(reader.check(me, &uri, Level::Manage)?)
}

/// `GET /folders/_/shared[?vfolder_id=UUID]`: the shares of the folders the signer
/// manages, never anyone else's (Backend.AI's #14319).
pub(crate) async fn shared(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Json<Value>> {
    let only = fields.text(&["vfolder_id", "vfolderId"])?;
    read(&app, me, move |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let entries = match &only {
            Some(piece) => vec![resolve(viewer, piece)?],
            None => reader.folders(me)?,
        };
        let mut items = Vec::new();
        for entry in &entries {
            if !manages(reader, me, entry)? {
                continue;
            }
            let folder = &entry.folder;
            let (owner, kind) = match folder.kind {
                FolderKind::User => (ids::user(&folder.owner), "user"),
                FolderKind::Group => (ids::group(&folder.owner), "project"),
            };
            for share in reader.shares(&folder.id)? {
                items.push(json!({
                    "vfolder_id": ids::folder(&folder.id).to_string(),
                    "vfolder_name": folder.name.as_str(),
                    "status": "ready",
                    "owner": owner.to_string(),
                    "type": kind,
                    "shared_to": {
                        "uuid": ids::user(&share.user).to_string(),
                        "email": shown(reader, me, &share.user)?,
                    },
                    "perm": share.permission.as_str(),
                }));
            }
        }
        Ok(Json(json!({ "shared": items })))
    })
    .await
}

/// `POST /folders/_/shared`: a share's permission changed, or with `perm: null` the share
/// removed; the owner or a manager only (rule F7, Backend.AI's #608).
pub(crate) async fn update_shared(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Response> {
    let folder = fields.required(&["vfolder", "vfolder_id", "vfolderId"])?;
    let user = uuid_field(&fields, &["user", "user_id", "userId"])?
        .ok_or_else(|| Problem::invalid("`user` is missing"))?;
    let permission = fields
        .text(&["perm", "permission"])?
        .map(|p| offered(&p))
        .transpose()?;
    write(&app, me, move |engine, caller| {
        let viewer = engine.reader()?.bind(&caller.principal)?;
        let reader = viewer.reader();
        let entry = resolve(&viewer, &folder)?;
        let share = sharee(reader, &entry, user)?;
        drop(viewer);
        match permission {
            None => Ok(engine.unshare_folder(caller, &entry.folder.id, &share.user)?),
            Some(permission) => {
                match engine.update_share(caller, &entry.folder.id, &share.user, permission) {
                    // already so: nothing to change, which is what was asked
                    Err(acl_core::Error::NoEffect(_)) => {
                        let revision = engine.reader()?.revision()?;
                        Ok(Applied {
                            revision,
                            value: share,
                        })
                    }
                    other => Ok(other?),
                }
            }
        }
    })
    .await?;
    Ok(msg("shared vfolder permission updated"))
}

/// `GET /folders/_/hosts`: the hosts the signer's resource policy allows (rule A6).
pub(crate) async fn hosts(State(app): State<Arc<App>>, Signer(me): Signer) -> Answer<Json<Value>> {
    let allowed = app
        .blocking(move |app| {
            let usage = app.engine.usage(&me, &me)?;
            Ok(match usage.policy.hosts {
                Hosts::Any => vec!["local".to_owned()],
                Hosts::Only(hosts) => hosts.into_iter().collect::<Vec<_>>(),
            })
        })
        .await?;
    let default = allowed
        .iter()
        .find(|h| *h == "local")
        .or(allowed.first())
        .cloned();
    Ok(Json(json!({
        "default": default,
        "allowed": allowed,
        "volume_info": {},
    })))
}

/// `GET /folders/_/allowed_types`.
pub(crate) async fn allowed_types(Signer(_): Signer) -> Json<Value> {
    Json(json!(["user", "group"]))
}

/// The claims of a file-access ticket: what a storage proxy needs to honour one upload or
/// download, and nothing that makes it an API token.
#[derive(Debug, Serialize)]
struct Ticket {
    /// `upload` or `download`.
    ticket: &'static str,
    /// The folder's UUID and id.
    vfolder: String,
    folder: String,
    /// The path inside the folder.
    path: String,
    /// Who asked.
    user: String,
    iat: i64,
    exp: i64,
}

/// A relative path inside a folder: not empty, no `..`, no leading `/`, at most 1024
/// bytes.
fn folder_path(text: &str) -> Answer<String> {
    let bad = text.is_empty()
        || text.len() > 1024
        || text.starts_with('/')
        || text.contains('\0')
        || text.split('/').any(|segment| segment == "..");
    if bad {
        return Err(Problem::invalid(format!(
            "`path` must be a relative path inside the folder without `..`, not `{}`",
            acl_core::clip(text)
        )));
    }
    Ok(text.to_owned())
}

/// A ticket to upload or download `path` of the folder `piece`, if the evaluator lets the
/// signer do the folder action (`write` to upload, `read` to download, rule F3).
async fn ticket(
    app: Arc<App>,
    me: PrincipalName,
    piece: String,
    fields: Fields,
    kind: &'static str,
    (action, needed): (&'static str, Level),
) -> Answer<Json<Value>> {
    let path = folder_path(&fields.required(&["path"])?)?;
    let key = Arc::clone(&app);
    let claims = read(&app, me, move |viewer| {
        let (reader, me) = (viewer.reader(), viewer.viewer());
        let entry = resolve(viewer, &piece)?;
        let uri = entry.folder.id.uri(&reader.cluster()?)?;
        if !reader.check_action(me, &uri, action)? {
            return Err(acl_core::txn::forbidden(me, action, &uri, needed).into());
        }
        let now = super::auth::utc_now().timestamp();
        Ok(Ticket {
            ticket: kind,
            vfolder: ids::folder(&entry.folder.id).to_string(),
            folder: entry.folder.id.to_string(),
            path,
            user: me.to_string(),
            iat: now,
            exp: now.saturating_add(TICKET_SECS),
        })
    })
    .await?;
    let token = key.key.sign_claims(&claims)?;
    // The storage proxy is the platform's: it knows its own address, and honours the
    // ticket by checking it with the server's token key.
    Ok(Json(json!({ "token": token, "url": Value::Null })))
}

/// `POST /folders/{name}/request-upload`: a ticket, if the signer may write (rule F3).
pub(crate) async fn request_upload(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Json<Value>> {
    ticket(app, me, piece, fields, "upload", ("write", Level::Write)).await
}

/// `POST /folders/{name}/request-download`: a ticket, if the signer may read (rule F3).
pub(crate) async fn request_download(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    Piece(piece): Piece,
    fields: Fields,
) -> Answer<Json<Value>> {
    ticket(app, me, piece, fields, "download", ("read", Level::Read)).await
}
