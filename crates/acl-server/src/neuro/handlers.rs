//! One handler per endpoint of the Neu.ro API, each a thin adapter over the engine: reads
//! run on a viewer bound to the token's identity (rule S3), mutations are the engine's
//! as that identity (rules M1 to M3).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::http::Uri as HttpUri;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::store::AnyStore;
use acl_core::{
    Applied, Level, ListFilter, PageRequest, PrincipalKind, PrincipalName, PrincipalRecord,
    ReadView, Reader, Uri, Viewer, WriteOp,
};

use super::error::{NeuroError, Result, SELF_GRANT};
use super::uris::{Purpose, parse_uri, principal_from_path};
use crate::api::batch_limit;
use crate::app::{App, Engine, now, require_live};
use crate::extract::{Body, Identity};

/// The most levels below its root a tree shows when the request names no `depth`.
const DEFAULT_DEPTH: usize = 255;

// ---------------------------------------------------------------------------------------
// Extractors and plumbing, each rejection a Neu.ro error

/// The identity of the request's verified bearer token (rule S2), as [`Identity`].
pub(crate) struct Caller(PrincipalName);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = NeuroError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self> {
        let Identity(identity) = Identity::from_request_parts(parts, app).await?;
        Ok(Caller(identity))
    }
}

/// A JSON body of type `T`, as [`Body`]: 413 over the limit, 400 if it is not the JSON
/// expected. Unknown fields are ignored (older clients send `email` and `clusters`).
pub(crate) struct NeuroJson<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for NeuroJson<T> {
    type Rejection = NeuroError;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let Body(value) = Body::<T>::from_request(req, state).await?;
        Ok(NeuroJson(value))
    }
}

/// The principal of the `{name}` path segment (`:` for `/`).
fn target(path: std::result::Result<Path<String>, PathRejection>) -> Result<PrincipalName> {
    let Path(segment) = path.map_err(|r| NeuroError::bad_request(r.body_text()))?;
    principal_from_path(&segment)
}

/// The query string's pairs, decoded (the clients send `:` and `/` unencoded).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `key` in the query.
fn query_value<'q>(pairs: &'q [(String, String)], key: &str) -> Option<&'q str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// 400 `"KEY" request parameter is missing`.
fn missing_parameter(key: &str) -> NeuroError {
    NeuroError::bad_request(format!("\"{key}\" request parameter is missing"))
}

/// A read as `identity` on one consistent view (the identity must be live, rule S2).
async fn read<T: Send + 'static>(
    app: &Arc<App>,
    identity: PrincipalName,
    f: impl for<'e> FnOnce(&Viewer<'e, AnyStore>) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (value, _) = app
        .read(identity, None, move |viewer| Ok(f(viewer)))
        .await?;
    value
}

/// A mutation as `identity` (a live principal, rule S2) at the current time; the engine
/// authorizes it (rule S3).
async fn write<T: Send + 'static>(
    app: &Arc<App>,
    identity: PrincipalName,
    f: impl FnOnce(&Engine, &acl_core::Caller) -> Result<Applied<T>> + Send + 'static,
) -> Result<T> {
    app.blocking(move |app| {
        Ok((|| {
            require_live(&app.engine.reader()?, &identity)?;
            let caller = acl_core::Caller::new(identity, now());
            let done = f(&app.engine, &caller)?;
            app.saw(done.revision);
            Ok(done.value)
        })())
    })
    .await?
}

/// The URI that guards a principal's own record: `user://P` for a user, `role://P` for a
/// role or group (as the viewer's rule for reading another's permissions, rule S3).
fn record_uri(record: &PrincipalRecord) -> Result<Uri> {
    Ok(match record.kind {
        PrincipalKind::User => Uri::root("user")?.child(record.name.as_str())?,
        _ => Uri::of_role(&record.name),
    })
}

/// `target` as the viewer may see it (rule S3: itself, or `read` on its `user://` or
/// `role://` URI; 403 otherwise), and live (404 `user "NAME" was not found` otherwise: a
/// deleted, that is deactivated, user is gone for this API).
fn visible(viewer: &Viewer<'_, AnyStore>, target: &PrincipalName) -> Result<PrincipalRecord> {
    viewer.may_see(target)?;
    let name = viewer.reader().canonical_name(target)?.into_owned();
    match viewer.reader().principal(&name)? {
        Some(record) if record.is_live() => Ok(record),
        _ => Err(NeuroError::no_user(target.as_str())),
    }
}

/// Refuses (403 `Adding self user is forbidden`) a change of the caller's own permissions
/// unless the caller manages its own record (`manage` on `user://self`: an administrator,
/// not a normal user, who holds only `read` there, rule P5). The evaluator decides.
fn refuse_self_change(
    reader: &Reader<'_, AnyStore>,
    caller: &PrincipalName,
    target: &PrincipalName,
) -> Result<()> {
    let caller = reader.canonical_name(caller)?.into_owned();
    if *reader.canonical_name(target)? != caller {
        return Ok(());
    }
    let Some(record) = reader.principal(&caller)? else {
        return Ok(());
    };
    if reader.check(&caller, &record_uri(&record)?, Level::Manage)? {
        Ok(())
    } else {
        Err(NeuroError::new(StatusCode::FORBIDDEN, SELF_GRANT))
    }
}

/// A permission as the clients send and read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct Permission {
    /// An absolute URI.
    pub uri: String,
    /// `deny`, `list`, `read`, `write` or `manage`.
    pub action: String,
}

/// The permissions of a grant or a set, parsed: at least one, each an absolute URI of the
/// schema and a level.
fn parse_permissions(app: &App, permissions: &[Permission]) -> Result<Vec<(Uri, Level)>> {
    sized(app, permissions.len())?;
    let engine = &app.engine;
    permissions
        .iter()
        .map(|p| {
            let uri = parse_uri(engine.schema(), &p.uri, Purpose::Use)?;
            let level = p.action.parse::<Level>().map_err(acl_core::Error::from)?;
            Ok((uri, level))
        })
        .collect()
}

/// Refuses an empty list (400, as the real server's validation words it) and one over the
/// server's batch limit (413, rule S6).
fn sized(app: &App, len: usize) -> Result<()> {
    if len == 0 {
        return Err(NeuroError::bad_request(
            "permissions: list length is less than 1",
        ));
    }
    Ok(batch_limit(app, len)?)
}

fn level_text(level: Level) -> String {
    level.to_string()
}

/// Whether a listing shows `level`: the SDK parses only `read`, `write` and `manage`.
fn shown(level: Level) -> bool {
    level >= Level::Read
}

// ---------------------------------------------------------------------------------------
// Handlers

/// `GET /api/v1/ping`: `Pong`, without authentication.
pub(crate) async fn ping() -> &'static str {
    "Pong"
}

/// `GET /api/v1/secured-ping`: `Secured Pong` for a valid token of a live principal.
pub(crate) async fn secured_ping(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
) -> Result<&'static str> {
    read(&app, identity, |_| Ok(())).await?;
    Ok("Secured Pong")
}

/// The body of `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewUser {
    name: String,
}

/// `POST /api/v1/users`: a name with `/` is a role (rule P2, `manage` on `role://NAME`),
/// one without a user (rule P5, `manage` on `user://`). 201 `{"name": ...}`.
pub(crate) async fn add_user(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    NeuroJson(body): NeuroJson<NewUser>,
) -> Result<Response> {
    let name = PrincipalName::new(&body.name)?;
    let created = name.clone();
    write(&app, identity, move |engine, caller| {
        Ok(if name.is_single_segment() {
            engine.create_user(caller, &name)?
        } else {
            engine.add_role(caller, &name, PrincipalKind::Role)?
        })
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": created.as_str() })),
    )
        .into_response())
}

/// `GET /api/v1/users/{name}`: `{"name": ...}` of a live principal the caller may see.
pub(crate) async fn get_user(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Value>> {
    let target = target(path)?;
    let record = read(&app, identity, move |viewer| visible(viewer, &target)).await?;
    Ok(Json(json!({ "name": record.name.as_str() })))
}

/// `DELETE /api/v1/users/{name}`: a role is removed (rule P4); a user is deactivated
/// (rule A3: users are never removed). 204.
pub(crate) async fn delete_user(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<StatusCode> {
    let target = target(path)?;
    write(&app, identity, move |engine, caller| {
        let reader = engine.reader()?;
        let name = reader.canonical_name(&target)?.into_owned();
        let kind = reader.principal(&name)?.map(|r| r.kind);
        drop(reader);
        if kind == Some(PrincipalKind::User) {
            match engine.set_active(caller, &name, false) {
                Ok(done) => Ok(done),
                Err(acl_core::Error::NoEffect(_)) => Err(NeuroError::no_user(target.as_str())),
                Err(err) => Err(err.into()),
            }
        } else {
            let done = engine.remove_role(caller, &name)?;
            Ok(Applied {
                revision: done.revision,
                value: (),
            })
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{name}/permissions`: the grants, in one transaction (rule M1,
/// `manage` on each URI). 201 with the permissions as sent, each action the higher of
/// the grant now held (a higher one is kept) and the grantee's effective level there.
pub(crate) async fn grant(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    NeuroJson(permissions): NeuroJson<Vec<Permission>>,
) -> Result<Response> {
    let target = target(path)?;
    let parsed = parse_permissions(&app, &permissions)?;
    let levels = write(&app, identity, move |engine, caller| {
        refuse_self_change(&engine.reader()?, &caller.principal, &target)?;
        let grants: Vec<(Uri, PrincipalName, Level)> = parsed
            .into_iter()
            .map(|(uri, level)| (uri, target.clone(), level))
            .collect();
        let done = engine.grant_many(caller, &grants)?;
        let reader = engine.reader_at_least(done.revision)?;
        let mut levels = Vec::with_capacity(grants.len());
        for ((uri, grantee, level), outcome) in grants.iter().zip(&done.value) {
            let direct = match outcome {
                acl_core::GrantOutcome::Kept { existing } => *existing,
                _ => *level,
            };
            levels.push(direct.max(reader.explain(grantee, uri)?.level));
        }
        Ok(Applied {
            revision: done.revision,
            value: levels,
        })
    })
    .await?;
    let answer: Vec<Permission> = permissions
        .into_iter()
        .zip(levels)
        .map(|(p, level)| Permission {
            uri: p.uri,
            action: level_text(level),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `PUT /api/v1/users/{name}/permissions`: the principal's direct grants become exactly
/// these ([`acl_core::Engine::set_grants`], one transaction). 204.
pub(crate) async fn set(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    NeuroJson(permissions): NeuroJson<Vec<Permission>>,
) -> Result<StatusCode> {
    let target = target(path)?;
    let parsed = parse_permissions(&app, &permissions)?;
    write(&app, identity, move |engine, caller| {
        refuse_self_change(&engine.reader()?, &caller.principal, &target)?;
        let done = engine.set_grants(caller, &target, &parsed)?;
        Ok(Applied {
            revision: done.revision,
            value: (),
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{name}/permissions?uri=A&uri=B`: removes the direct grants on
/// exactly those URIs, all or none (rule M2, `manage` on each). 204; nothing on one of
/// them is 400 `Operation has no effect`.
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode> {
    let target = target(path)?;
    let pairs = query_pairs(query.as_deref());
    let uris: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "uri")
        .map(|(_, v)| v.as_str())
        .collect();
    if uris.is_empty() {
        return Err(missing_parameter("uri"));
    }
    batch_limit(&app, uris.len())?;
    let ops = uris
        .into_iter()
        .map(|text| {
            Ok(WriteOp::Revoke {
                uri: parse_uri(app.engine.schema(), text, Purpose::Revoke)?,
                grantee: target.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    write(&app, identity, move |engine, caller| {
        let done = engine.write_batch(caller, &ops)?;
        Ok(Applied {
            revision: done.revision,
            value: (),
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{name}/permissions/check`: 200 `{"missing": []}` when every
/// permission holds (rule E5), else 403 `{"missing": [...]}` with the failing entries
/// exactly as sent. `deny` always holds (every principal has at least it).
pub(crate) async fn check(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    NeuroJson(permissions): NeuroJson<Vec<Permission>>,
) -> Result<Response> {
    let target = target(path)?;
    sized(&app, permissions.len())?;
    let missing = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        let schema = viewer.reader().engine().schema();
        let mut missing = Vec::new();
        for permission in permissions {
            let uri = parse_uri(schema, &permission.uri, Purpose::Use)?;
            if permission.action == "deny" {
                continue;
            }
            if !viewer
                .reader()
                .check_action(&record.name, &uri, &permission.action)?
            {
                missing.push(permission);
            }
        }
        Ok(missing)
    })
    .await?;
    let status = if missing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok((status, Json(json!({ "missing": missing }))).into_response())
}

/// `GET /api/v1/users/{name}/permissions/tree?uri=U&depth=N`: the subtree of effective
/// levels (rule E6), nested by segment; `path` is `/` for a scheme root.
pub(crate) async fn tree(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let target = target(path)?;
    let pairs = query_pairs(query.as_deref());
    let text = query_value(&pairs, "uri")
        .ok_or_else(|| missing_parameter("uri"))?
        .to_owned();
    let depth = match query_value(&pairs, "depth") {
        None => DEFAULT_DEPTH,
        Some(depth) => depth.parse::<usize>().map_err(|_| {
            NeuroError::bad_request(format!(
                "\"depth\" must be a non-negative integer, not `{}`",
                acl_core::clip(depth)
            ))
        })?,
    };
    let tree = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        let uri = parse_uri(viewer.reader().engine().schema(), &text, Purpose::Use)?;
        let nodes = viewer.tree(&record.name, &uri, depth)?;
        Ok(nest(&uri, &nodes))
    })
    .await?;
    Ok(Json(tree))
}

/// The nodes of a tree (root first, depth first) as the client's nested JSON.
fn nest(root: &Uri, nodes: &[acl_core::TreeNode]) -> Value {
    fn node(level: Level) -> Value {
        json!({ "action": level_text(level), "children": Map::new() })
    }
    let root_level = nodes
        .iter()
        .find(|n| n.depth == 0)
        .map_or(Level::Deny, |n| n.level);
    let mut tree = node(root_level);
    let skip = root.depth();
    for n in nodes.iter().filter(|n| n.depth > 0) {
        let mut at = &mut tree;
        let segments: Vec<&str> = n.uri.segments().skip(skip).collect();
        for (i, segment) in segments.iter().enumerate() {
            let Some(children) = at.get_mut("children").and_then(Value::as_object_mut) else {
                break;
            };
            let last = i + 1 == segments.len();
            let child = children
                .entry((*segment).to_owned())
                .or_insert_with(|| node(Level::Deny));
            if last && let Some(action) = child.get_mut("action") {
                *action = Value::String(level_text(n.level));
            }
            at = child;
        }
    }
    let path = if root.is_root() {
        "/".to_owned()
    } else {
        format!("/{}", root.path())
    };
    if let Some(object) = tree.as_object_mut() {
        object.insert("path".into(), Value::String(path));
    }
    tree
}

/// `GET /api/v1/users/{name}/permissions[?uri=PREFIX][&expand_roles=false]`: the URIs the
/// principal holds with its effective level (rule E6, through its roles), or with
/// `expand_roles=false` its own direct grants; `read`, `write` and `manage` only.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Permission>>> {
    let target = target(path)?;
    let pairs = query_pairs(query.as_deref());
    let prefix = query_value(&pairs, "uri").map(str::to_owned);
    let expand = match query_value(&pairs, "expand_roles") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
        Some(v) => {
            return Err(NeuroError::bad_request(format!(
                "\"expand_roles\" must be true or false, not `{}`",
                acl_core::clip(v)
            )));
        }
    };
    let items = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        let within = prefix
            .as_deref()
            .map(|p| parse_uri(viewer.reader().engine().schema(), p, Purpose::Use))
            .transpose()?;
        let held: Vec<(Uri, Level)> = if expand {
            let filter = within.map_or_else(ListFilter::all, ListFilter::under);
            viewer
                .list(&record.name, &filter, &PageRequest::all())?
                .items
        } else {
            viewer
                .reader()
                .view()
                .grants_of(&record.name, within.as_ref(), None, usize::MAX)?
                .into_iter()
                .map(|g| (g.uri, g.level))
                .collect()
        };
        Ok(held
            .into_iter()
            .filter(|(_, level)| shown(*level))
            .map(|(uri, level)| Permission {
                uri: uri.to_string(),
                action: level_text(level),
            })
            .collect())
    })
    .await?;
    Ok(Json(items))
}

/// One grant the principal made on what it manages.
#[derive(Debug, Serialize)]
pub(crate) struct Share {
    user: String,
    uri: String,
    action: String,
}

/// `GET /api/v1/users/{name}/permissions/shared[?uri=PREFIX]`: the grants on what the
/// principal manages, held by others (rule E6), `read`, `write` and `manage` only.
pub(crate) async fn shared(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Share>>> {
    let target = target(path)?;
    let pairs = query_pairs(query.as_deref());
    let prefix = query_value(&pairs, "uri").map(str::to_owned);
    let items = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        let within = prefix
            .as_deref()
            .map(|p| parse_uri(viewer.reader().engine().schema(), p, Purpose::Use))
            .transpose()?;
        Ok(viewer
            .shared(&record.name, &PageRequest::all())?
            .items
            .into_iter()
            .filter(|g| shown(g.level) && within.as_ref().is_none_or(|w| w.contains(&g.uri)))
            .map(|g| Share {
                user: g.holder.to_string(),
                uri: g.uri.to_string(),
                action: level_text(g.level),
            })
            .collect())
    })
    .await?;
    Ok(Json(items))
}

/// `GET /api/v1/users/{name}/subroles`: `{"subroles": [...]}`, the roles named below the
/// principal (`NAME/...`) that the caller sees (`list` on their `role://`).
pub(crate) async fn subroles(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Value>> {
    let target = target(path)?;
    let names = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        let prefix = format!("{}/", record.name);
        Ok(viewer
            .roles(&PageRequest::all(), |r| {
                r.name.as_str().starts_with(&prefix)
            })?
            .items
            .into_iter()
            .map(|r| r.name.to_string())
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(json!({ "subroles": names })))
}

/// The body of `POST /api/v1/users/{name}/token` (`{}` or `{"uri": ...}`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenRequest {
    uri: Option<String>,
}

/// `POST /api/v1/users/{name}/token`: `{"access_token": ...}`, a token acting as the
/// principal, for itself or for a caller that manages its record (`manage` on `user://P`
/// or `role://P`). Minted for a `uri`, the token works only while the principal can read
/// that URI (401 once it cannot).
pub(crate) async fn token(
    State(app): State<Arc<App>>,
    Caller(identity): Caller,
    path: std::result::Result<Path<String>, PathRejection>,
    NeuroJson(body): NeuroJson<TokenRequest>,
) -> Result<Json<Value>> {
    let target = target(path)?;
    let (name, uri) = read(&app, identity, move |viewer| {
        let record = visible(viewer, &target)?;
        if record.name != *viewer.viewer() {
            viewer.require(&record_uri(&record)?, Level::Manage, "mint a token for")?;
        }
        let uri = body
            .uri
            .as_deref()
            .map(|u| parse_uri(viewer.reader().engine().schema(), u, Purpose::Use))
            .transpose()?;
        Ok((record.name, uri))
    })
    .await?;
    let seconds = u64::try_from(now().0 / 1000).unwrap_or_default();
    let token = app
        .key
        .mint_for(&name, seconds, None, uri.as_ref().map(Uri::as_str))?;
    Ok(Json(json!({ "access_token": token })))
}

/// An unknown route under `/api/v1`: 404 in the Neu.ro form.
pub(crate) async fn no_route(uri: HttpUri) -> NeuroError {
    NeuroError::new(
        StatusCode::NOT_FOUND,
        format!("no route `{}`", acl_core::clip(uri.path())),
    )
}

/// A known route with another method: 405 in the Neu.ro form.
pub(crate) async fn no_method() -> NeuroError {
    NeuroError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}
