//! Resource policies and sessions (rule A6): create, list, show, update, delete and assign
//! policies; start, stop and list sessions, through the platform's workflows, authorized
//! as the token's identity exactly as `acl policy` and `acl session` are. The server adds
//! no rule.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use acl_core::{Error, Page, PrincipalName};
use acl_platform::{
    AccountUpdate, Hosts, Limit, Limits, PlatformReads, PolicyName, Resource, ResourcePolicy,
    Session, SessionId, SessionRequest,
};

use crate::api::{Applied, Consistency, Errors, page};
use crate::app::App;
use crate::error::{ApiError, Result};
use crate::extract::{Body, Identity, Params};
use crate::users::{OsEntropy, platform_read, user_path};

/// The limits of a policy: each resource's maximum, `null` (or absent) for unlimited.
/// The resources are `cpu`, `ram_gb`, `gpu`, `fgpu_hundredths`, `containers_per_session`,
/// `idle_timeout_secs`, `concurrent_sessions`, `folder_capacity_gb`, `folders`.
type LimitMap = BTreeMap<String, Option<u64>>;

/// A new resource policy.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPolicy {
    /// The name: 1 to 64 characters of `[A-Za-z0-9._-]`, not starting with `.`.
    pub name: String,
    /// The limits by resource; a resource not named is unlimited.
    #[serde(default)]
    pub limits: LimitMap,
    /// The hosts sessions may run on; absent or `null` for any.
    pub hosts: Option<Vec<String>>,
}

/// A policy's new limits and hosts: both replaced whole (rule A6: the name is the key).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyUpdate {
    /// The limits by resource; a resource not named is unlimited.
    #[serde(default)]
    pub limits: LimitMap,
    /// The hosts sessions may run on; absent or `null` for any.
    pub hosts: Option<Vec<String>>,
}

/// A resource policy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PolicyRow {
    /// The name.
    pub name: String,
    /// Every resource's limit; `null` is unlimited.
    pub limits: LimitMap,
    /// The hosts sessions may run on; `null` for any.
    pub hosts: Option<Vec<String>>,
}

/// One policy and the revision of the answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PolicyResponse {
    /// The policy.
    pub policy: PolicyRow,
    /// The revision it was read at (at least), or the store's revision after the change.
    pub revision: u64,
}

/// Policies listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PoliciesResponse {
    /// The policies of this page, in name order.
    pub items: Vec<PolicyRow>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at (at least).
    pub revision: u64,
}

/// Which page of the policies.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PoliciesQuery {
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor (a policy name).
    pub cursor: Option<String>,
    /// Answer only from a state at this revision or later.
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// The policy to assign to a user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignPolicy {
    /// The policy's name.
    pub policy: String,
}

fn policy_of(
    name: PolicyName,
    limits: &LimitMap,
    hosts: Option<Vec<String>>,
) -> Result<ResourcePolicy> {
    let mut all = Limits::unlimited();
    for (key, value) in limits {
        let resource = Resource::ALL
            .into_iter()
            .find(|r| r.as_str() == key)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unknown resource `{}` in limits: expected one of {}",
                    acl_core::clip(key),
                    Resource::ALL.map(Resource::as_str).join(", ")
                ))
            })?;
        all = all.with(resource, value.map_or(Limit::Unlimited, Limit::Max));
    }
    let hosts = match hosts {
        None => Hosts::Any,
        Some(list) => Hosts::Only(list.into_iter().collect::<BTreeSet<_>>()),
    };
    Ok(ResourcePolicy {
        name,
        limits: all,
        hosts,
    })
}

fn policy_row(policy: &ResourcePolicy) -> PolicyRow {
    PolicyRow {
        name: policy.name.as_str().to_owned(),
        limits: Resource::ALL
            .into_iter()
            .map(|r| (r.as_str().to_owned(), policy.limits.get(r).max()))
            .collect(),
        hosts: match &policy.hosts {
            Hosts::Any => None,
            Hosts::Only(hosts) => Some(hosts.iter().cloned().collect()),
        },
    }
}

fn policy_path(path: std::result::Result<Path<String>, PathRejection>) -> Result<PolicyName> {
    Ok(PolicyName::new(&user_path(path)?)?)
}

/// Creates a resource policy (rule A6); the identity needs `manage` on `policy://{name}`
/// (the admins).
#[utoipa::path(post, path = "/v1/policies", tag = "policies", request_body = NewPolicy,
    responses((status = 200, body = PolicyResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<NewPolicy>,
) -> Result<Json<PolicyResponse>> {
    let policy = policy_of(
        PolicyName::new(&request.name)?,
        &request.limits,
        request.hosts,
    )?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.create_policy(caller, &policy)?)
        })
        .await?;
    Ok(Json(PolicyResponse {
        policy: policy_row(&done.value),
        revision: done.revision.0,
    }))
}

/// The resource policies, a page at a time in name order; the identity needs `read` on
/// `policy://`.
#[utoipa::path(get, path = "/v1/policies", tag = "policies", params(PoliciesQuery),
    responses((status = 200, body = PoliciesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<PoliciesQuery>,
) -> Result<Json<PoliciesResponse>> {
    let request = page(query.limit, query.cursor)?;
    let (cut, revision) = platform_read(&app, identity, query.at_least, move |app, identity| {
        let mut all = app.engine.policies(identity)?;
        all.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(Page::cut(all, &request, |p| p.name.as_str().to_owned()))
    })
    .await?;
    Ok(Json(PoliciesResponse {
        items: cut.items.iter().map(policy_row).collect(),
        next: cut.next.map(|c| c.to_string()),
        revision: revision.0,
    }))
}

/// One resource policy; the identity needs `read` on `policy://`.
#[utoipa::path(get, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "The policy's name"), Consistency),
    responses((status = 200, body = PolicyResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<Consistency>,
) -> Result<Json<PolicyResponse>> {
    let name = policy_path(path)?;
    let (policy, revision) = platform_read(
        &app,
        identity,
        consistency.at_least,
        move |app, identity| find_policy(app, identity, &name),
    )
    .await?;
    Ok(Json(PolicyResponse {
        policy: policy_row(&policy),
        revision: revision.0,
    }))
}

/// The policy named `name` as `identity` reads it (as `acl policy update` finds it).
fn find_policy(app: &App, identity: &PrincipalName, name: &PolicyName) -> Result<ResourcePolicy> {
    app.engine
        .policies(identity)?
        .into_iter()
        .find(|p| &p.name == name)
        .ok_or_else(|| Error::not_found("resource policy", name.as_str()).into())
}

/// Replaces a policy's limits and hosts (rule A6); unchanged is 422. The identity needs
/// `manage` on `policy://{name}`.
#[utoipa::path(put, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "The policy's name")), request_body = PolicyUpdate,
    responses((status = 200, body = PolicyResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<PolicyUpdate>,
) -> Result<Json<PolicyResponse>> {
    let policy = policy_of(policy_path(path)?, &request.limits, request.hosts)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.update_policy(caller, &policy)?)
        })
        .await?;
    Ok(Json(PolicyResponse {
        policy: policy_row(&done.value),
        revision: done.revision.0,
    }))
}

/// Deletes a policy (rule A6): refused (409) while a user or keypair uses it; `default`
/// is never deleted (400). The identity needs `manage` on `policy://{name}`.
#[utoipa::path(delete, path = "/v1/policies/{name}", tag = "policies",
    params(("name" = String, Path, description = "The policy's name")),
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Applied>> {
    let name = policy_path(path)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.delete_policy(caller, &name)?)
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

/// Assigns a resource policy to a user (rules A1, A6), as `acl user update --policy`:
/// the identity needs `manage` on `user://{user}` (the admins).
#[utoipa::path(post, path = "/v1/users/{user}/policy", tag = "policies",
    params(("user" = String, Path, description = "A username or an email")), request_body = AssignPolicy,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn assign(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<AssignPolicy>,
) -> Result<Json<Applied>> {
    let user = user_path(path)?;
    let update = AccountUpdate {
        policy: Some(request.policy),
        ..AccountUpdate::default()
    };
    let done = app
        .write(identity, move |engine, caller| {
            let user = engine.reader()?.user_named(&user)?;
            let mut entropy = OsEntropy::new()?;
            let done = engine.update_account(caller, &user, &update, &mut entropy)?;
            entropy.check()?;
            Ok(done)
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

// ---------------------------------------------------------------------------------------
// Sessions

/// A session to start, admitted against its user's policy (rule A6).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSession {
    /// Whose session (default: the identity); another user's needs `manage` on
    /// `user://{user}`.
    pub user: Option<String>,
    /// CPUs.
    #[serde(default)]
    pub cpu: u64,
    /// RAM, in GB.
    #[serde(default)]
    pub ram_gb: u64,
    /// GPUs.
    #[serde(default)]
    pub gpu: u64,
    /// Fractional GPUs, in hundredths.
    #[serde(default)]
    pub fgpu_hundredths: u64,
    /// Containers (at least 1).
    pub containers: u64,
}

/// A session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SessionRow {
    /// Its id.
    pub id: String,
    /// Whose it is.
    pub user: String,
    /// CPUs.
    pub cpu: u64,
    /// RAM, in GB.
    pub ram_gb: u64,
    /// GPUs.
    pub gpu: u64,
    /// Fractional GPUs, in hundredths.
    pub fgpu_hundredths: u64,
    /// Containers.
    pub containers: u64,
    /// When it started, in milliseconds since the Unix epoch.
    pub started: i64,
    /// When it stopped; absent while running.
    pub stopped: Option<i64>,
    /// Whether it is running.
    pub running: bool,
}

fn session_row(s: &Session) -> SessionRow {
    SessionRow {
        id: s.id.as_str().to_owned(),
        user: s.user.to_string(),
        cpu: s.request.cpu,
        ram_gb: s.request.ram_gb,
        gpu: s.request.gpu,
        fgpu_hundredths: s.request.fgpu_hundredths,
        containers: s.request.containers,
        started: s.started.0,
        stopped: s.stopped.map(|t| t.0),
        running: s.is_running(),
    }
}

/// A session and the store's revision after its change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SessionResponse {
    /// The session.
    pub session: SessionRow,
    /// The store's revision after it.
    pub revision: u64,
}

/// Sessions listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SessionsResponse {
    /// The sessions of this page, running and stopped, in id order.
    pub items: Vec<SessionRow>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at (at least).
    pub revision: u64,
}

/// Whose sessions.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SessionsQuery {
    /// The user (default: the identity); another's needs `read` on `user://{user}`.
    pub user: Option<String>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor (a session id).
    pub cursor: Option<String>,
    /// Answer only from a state at this revision or later.
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// Starts a session if the user's policy admits it against its running sessions (rule
/// A6); a refusal (409) names the resource, limit, usage and request.
#[utoipa::path(post, path = "/v1/sessions", tag = "policies", request_body = NewSession,
    responses((status = 200, body = SessionResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn start_session(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<NewSession>,
) -> Result<Json<SessionResponse>> {
    let session = SessionRequest {
        cpu: request.cpu,
        ram_gb: request.ram_gb,
        gpu: request.gpu,
        fgpu_hundredths: request.fgpu_hundredths,
        containers: request.containers,
    };
    let done = app
        .write(identity, move |engine, caller| {
            let user = match &request.user {
                Some(text) => engine.reader()?.user_named(text)?,
                None => caller.principal.clone(),
            };
            Ok(engine.start_session_for(caller, &user, &session)?)
        })
        .await?;
    Ok(Json(SessionResponse {
        session: session_row(&done.value),
        revision: done.revision.0,
    }))
}

/// Stops a running session (its user, or `manage` on `user://{user}`); a stopped one is
/// 422.
#[utoipa::path(post, path = "/v1/sessions/{id}/stop", tag = "policies",
    params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, body = SessionResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn stop_session(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<SessionResponse>> {
    let id = SessionId::new(&user_path(path)?)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.stop_session(caller, &id)?)
        })
        .await?;
    Ok(Json(SessionResponse {
        session: session_row(&done.value),
        revision: done.revision.0,
    }))
}

/// A user's sessions, running and stopped, a page at a time in id order; another user's
/// need `read` on `user://{user}`.
#[utoipa::path(get, path = "/v1/sessions", tag = "policies", params(SessionsQuery),
    responses((status = 200, body = SessionsResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn sessions(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<SessionsQuery>,
) -> Result<Json<SessionsResponse>> {
    let request = page(query.limit, query.cursor)?;
    let (cut, revision) = platform_read(&app, identity, query.at_least, move |app, identity| {
        let user = match &query.user {
            Some(text) => app.engine.reader()?.user_named(text)?,
            None => identity.clone(),
        };
        let mut all = app.engine.sessions(identity, &user)?;
        all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(Page::cut(all, &request, |s| s.id.as_str().to_owned()))
    })
    .await?;
    Ok(Json(SessionsResponse {
        items: cut.items.iter().map(session_row).collect(),
        next: cut.next.map(|c| c.to_string()),
        revision: revision.0,
    }))
}
