//! The v1 JSON API (rule S4): one handler per endpoint, each a thin adapter that turns a
//! request into the same engine call the CLI makes, on a viewer bound to the token's
//! identity, and the answer into JSON carrying the revision it was read at.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use acl_core::{
    Cursor, GrantOutcome, Level, ListFilter, Page, PageRequest, PrincipalKind, PrincipalName,
    PrincipalRecord,
};

use crate::app::App;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{Body, Identity, Params};

/// The page size of a listing when the request names none.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page a listing answers.
pub const MAX_PAGE: usize = 1_000;

/// The error answers every authenticated endpoint may give (rule S5).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum Errors {
    /// Invalid input: the message names what was wrong.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No valid token, or its identity is not a live principal.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The identity lacks the permission the operation needs.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Something named does not exist.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The request took longer than the server's request timeout.
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// A conflict with the state, or `at_least` not reached within the wait bound.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body or a batch is over the server's limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The operation would change nothing.
    #[response(status = 422)]
    NoEffect(ErrorBody),
    /// Too many connections.
    #[response(status = 429)]
    OverLimit(ErrorBody),
    /// The store failed or the server is stopping; nothing was changed.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

// ---------------------------------------------------------------------------------------
// Request and answer types

/// The consistency token of a read: wait (bounded) until the store reaches this revision.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Consistency {
    /// Answer only from a state at this revision or later (a revision some earlier answer
    /// carried); the server waits, bounded, for the store to reach it (409 past the bound).
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// One check: may `principal` do `level` (or the action) on `uri`?
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckRequest {
    /// The principal asked about (a user, role or group).
    pub principal: String,
    /// The URI (short forms resolve against the token's identity, rule U2).
    pub uri: String,
    /// A level (`list`, `read`, `write`, `manage`) or an action of the URI's scheme.
    pub level: String,
}

/// The answer of a check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CheckResponse {
    /// Whether the principal's effective level reaches the one asked.
    pub allowed: bool,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Many checks answered on one consistent state.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchCheckRequest {
    /// The checks, at most the server's batch limit (1,000 by default).
    pub checks: Vec<CheckRequest>,
}

/// The answers of a batch of checks, in the order asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BatchCheckResponse {
    /// One decision per check, in order.
    pub allowed: Vec<bool>,
    /// The revision every answer was read at.
    pub revision: u64,
}

/// A principal and a URI.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainRequest {
    /// The principal asked about.
    pub principal: String,
    /// The URI.
    pub uri: String,
}

/// A decision and its reason (rule E6).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ExplainResponse {
    /// The effective level.
    pub level: String,
    /// Why: `{"kind": "grant" | "implicit_list" | "forbid" | "fence" | "no_grant" |
    /// "unknown_principal" | "inactive_user", ...}` with the deciding grant, forbid or
    /// fence and the membership path.
    #[schema(value_type = Object)]
    pub reason: serde_json::Value,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// A subtree of effective levels.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TreeRequest {
    /// The principal asked about.
    pub principal: String,
    /// The root of the tree.
    pub uri: String,
    /// How many segments below the root (255 when left out).
    #[schema(minimum = 0)]
    pub depth: Option<usize>,
}

/// One node of a tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct TreeNode {
    /// The node's URI.
    pub uri: String,
    /// Segments below the root.
    pub depth: usize,
    /// The principal's effective level there.
    pub level: String,
}

/// A subtree of effective levels, root first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct TreeResponse {
    /// The nodes, in depth-first order.
    pub nodes: Vec<TreeNode>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// What a principal can reach.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Whose permissions (default: the token's identity).
    pub principal: Option<String>,
    /// Only URIs at or below this one.
    pub uri: Option<String>,
    /// Only URIs of this scheme.
    pub scheme: Option<String>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor (the `next` of the previous page).
    pub cursor: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// A URI and a level.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Reach {
    /// The URI.
    pub uri: String,
    /// The effective level there.
    pub level: String,
}

/// One page of URIs with levels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ListResponse {
    /// The items of this page.
    pub items: Vec<Reach>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// The grants a principal made on what it manages.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SharedQuery {
    /// Whose shares (default: the token's identity).
    pub principal: Option<String>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor.
    pub cursor: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// A direct grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct GrantRow {
    /// Where.
    pub uri: String,
    /// The level held (`deny` for a forbid).
    pub level: String,
    /// Who holds it.
    pub grantee: String,
}

/// One page of grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SharedResponse {
    /// The items of this page.
    pub items: Vec<GrantRow>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Who can reach a URI.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WhoQuery {
    /// The URI.
    pub uri: String,
    /// The least level (default `read`).
    pub level: Option<String>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor.
    pub cursor: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// One page of names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct NamesResponse {
    /// The names of this page.
    pub items: Vec<String>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Set a principal's direct grant.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRequest {
    /// The URI (short forms resolve against the token's identity).
    pub uri: String,
    /// The grantee: a user, role or group.
    pub principal: String,
    /// `list`, `read`, `write`, `manage`, or `deny` (a forbid).
    pub level: String,
}

/// What a grant did (rule M1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct GrantResult {
    /// `created`, `raised` or `kept` (a higher or equal grant was already there).
    pub outcome: String,
    /// The level held before (`raised`) or kept (`kept`).
    pub previous: Option<String>,
}

/// The answer of a grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct GrantResponse {
    /// What it did.
    #[serde(flatten)]
    pub result: GrantResult,
    /// The store's revision after it: a consistency token for later reads.
    pub revision: u64,
}

/// Grants applied atomically: all of them, or none.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchGrantRequest {
    /// The grants, at most the server's batch limit.
    pub grants: Vec<GrantRequest>,
}

/// The answer of an atomic batch of grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BatchGrantResponse {
    /// What each grant did, in order.
    pub outcomes: Vec<GrantResult>,
    /// The store's revision after the batch (one revision for the whole batch).
    pub revision: u64,
}

/// Remove a principal's direct grant or forbid on exactly a URI.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    /// The URI.
    pub uri: String,
    /// The holder of the grant.
    pub principal: String,
}

/// The answer of a revoke.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RevokeResponse {
    /// The level removed (`deny` for a forbid).
    pub removed: String,
    /// The store's revision after it.
    pub revision: u64,
}

/// A new role.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRequest {
    /// The role's name (`/`-separated segments; users add roles under `u/roles/`).
    pub name: String,
}

/// The answer of a mutation that returns nothing but its revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Applied {
    /// The store's revision after it.
    pub revision: u64,
}

/// What removing a role removed with it (rule P4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RemovedRole {
    /// Grants and forbids the role held.
    pub grants_held: usize,
    /// Grants others held on exactly `role://R`.
    pub grants_on_role: usize,
    /// Membership edges, both directions.
    pub edges: usize,
    /// The store's revision after it.
    pub revision: u64,
}

/// Roles and groups listed.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RolesQuery {
    /// Only names starting with this.
    pub prefix: Option<String>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor (a role name).
    pub cursor: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// A role or group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RoleRow {
    /// Its name.
    pub name: String,
    /// `role`, `group` or `user`.
    pub kind: String,
}

/// One page of roles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RolesResponse {
    /// The items of this page.
    pub items: Vec<RoleRow>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// The roles and groups a principal is a direct member of.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MembershipsQuery {
    /// Whose memberships (default: the token's identity).
    pub principal: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// A fence (rule E4).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FenceBody {
    /// The fenced subtree.
    pub uri: String,
    /// The group whose members alone may pass.
    pub group: String,
}

/// The fences the identity may change.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FencesQuery {
    /// Only fences at or below this URI.
    pub within: Option<String>,
    /// See [`Consistency`].
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// The fences listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct FencesResponse {
    /// The fences, in (URI, group) order.
    pub items: Vec<FenceBody>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Who the token says the request is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct WhoAmI {
    /// The token's identity, canonical.
    pub identity: String,
    /// The revision the answer was read at.
    pub revision: u64,
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A principal's name from a request, or 400 naming what is wrong.
pub(crate) fn principal(text: &str) -> Result<PrincipalName> {
    Ok(PrincipalName::new(text)?)
}

/// A level from a request.
pub(crate) fn level(text: &str) -> Result<Level> {
    Ok(text.parse::<Level>().map_err(acl_core::Error::from)?)
}

/// The page of a listing: 100 items by default, at most [`MAX_PAGE`].
pub(crate) fn page(limit: Option<usize>, cursor: Option<String>) -> Result<PageRequest> {
    let limit = match limit {
        Some(0) => {
            return Err(ApiError::BadRequest(
                "a page limit must be at least 1".into(),
            ));
        }
        Some(limit) => limit.min(MAX_PAGE),
        None => DEFAULT_PAGE,
    };
    Ok(PageRequest {
        after: cursor.map(Cursor::new),
        limit: Some(limit),
    })
}

/// Refuses a batch over the limit (413) before anything is done.
pub(crate) fn batch_limit(app: &App, len: usize) -> Result<()> {
    if len > app.limits.max_batch {
        return Err(ApiError::TooLarge(format!(
            "the batch has {len} items: the server's limit is {}",
            app.limits.max_batch
        )));
    }
    Ok(())
}

/// Wraps an item's error with its index.
pub(crate) fn item<T>(index: usize, result: Result<T>) -> Result<T> {
    result.map_err(|source| ApiError::Item {
        index,
        source: Box::new(source),
    })
}

pub(crate) fn grant_result(outcome: GrantOutcome) -> GrantResult {
    match outcome {
        GrantOutcome::Created => GrantResult {
            outcome: "created".into(),
            previous: None,
        },
        GrantOutcome::Raised { from } => GrantResult {
            outcome: "raised".into(),
            previous: Some(from.to_string()),
        },
        GrantOutcome::Kept { existing } => GrantResult {
            outcome: "kept".into(),
            previous: Some(existing.to_string()),
        },
    }
}

fn role_row(record: &PrincipalRecord) -> RoleRow {
    RoleRow {
        name: record.name.to_string(),
        kind: record.kind.to_string(),
    }
}

fn next(page_next: Option<Cursor>) -> Option<String> {
    page_next.map(|c| c.as_str().to_owned())
}

fn names<T: ToString>(page: Page<T>) -> (Vec<String>, Option<String>) {
    (
        page.items.iter().map(ToString::to_string).collect(),
        next(page.next),
    )
}

// ---------------------------------------------------------------------------------------
// Decisions

/// Whether a principal may do a level or action on a URI (rule E5).
#[utoipa::path(post, path = "/v1/check", tag = "decisions", params(Consistency),
    request_body = CheckRequest, responses((status = 200, body = CheckResponse), Errors),
    security(("bearer" = [])))]
pub(crate) async fn check(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<Consistency>,
    Body(request): Body<CheckRequest>,
) -> Result<Json<CheckResponse>> {
    let (allowed, revision) = app
        .decide(identity, consistency.at_least, move |viewer| {
            let principal = principal(&request.principal)?;
            let uri = viewer.uri(&request.uri)?;
            Ok(viewer.check_action(&principal, &uri, &request.level)?)
        })
        .await?;
    app.metrics
        .decisions(u64::from(allowed), u64::from(!allowed));
    Ok(Json(CheckResponse {
        allowed,
        revision: revision.0,
    }))
}

/// Up to 1,000 checks on one consistent state (rule E5).
#[utoipa::path(post, path = "/v1/check/batch", tag = "decisions", params(Consistency),
    request_body = BatchCheckRequest, responses((status = 200, body = BatchCheckResponse), Errors),
    security(("bearer" = [])))]
pub(crate) async fn check_batch(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<Consistency>,
    Body(request): Body<BatchCheckRequest>,
) -> Result<Json<BatchCheckResponse>> {
    batch_limit(&app, request.checks.len())?;
    let (allowed, revision) = app
        .decide(identity, consistency.at_least, move |viewer| {
            request
                .checks
                .iter()
                .enumerate()
                .map(|(index, check)| {
                    item(index, {
                        (|| {
                            let principal = principal(&check.principal)?;
                            let uri = viewer.uri(&check.uri)?;
                            Ok(viewer.check_action(&principal, &uri, &check.level)?)
                        })()
                    })
                })
                .collect::<Result<Vec<bool>>>()
        })
        .await?;
    let yes = allowed.iter().filter(|a| **a).count();
    app.metrics.decisions(
        u64::try_from(yes).unwrap_or(u64::MAX),
        u64::try_from(allowed.len().saturating_sub(yes)).unwrap_or(u64::MAX),
    );
    Ok(Json(BatchCheckResponse {
        allowed,
        revision: revision.0,
    }))
}

/// A principal's effective level on a URI and why (rule E6).
#[utoipa::path(post, path = "/v1/explain", tag = "decisions", params(Consistency),
    request_body = ExplainRequest, responses((status = 200, body = ExplainResponse), Errors),
    security(("bearer" = [])))]
pub(crate) async fn explain(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<Consistency>,
    Body(request): Body<ExplainRequest>,
) -> Result<Json<ExplainResponse>> {
    let (decision, revision) = app
        .decide(identity, consistency.at_least, move |viewer| {
            let principal = principal(&request.principal)?;
            let uri = viewer.uri(&request.uri)?;
            Ok(viewer.explain(&principal, &uri)?)
        })
        .await?;
    let reason = serde_json::to_value(&decision.reason)
        .map_err(|err| ApiError::Unavailable(format!("cannot encode the reason: {err}")))?;
    Ok(Json(ExplainResponse {
        level: decision.level.to_string(),
        reason,
        revision: revision.0,
    }))
}

/// A URI's subtree of a principal's effective levels (rule E6).
#[utoipa::path(post, path = "/v1/tree", tag = "decisions", params(Consistency),
    request_body = TreeRequest, responses((status = 200, body = TreeResponse), Errors),
    security(("bearer" = [])))]
pub(crate) async fn tree(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<Consistency>,
    Body(request): Body<TreeRequest>,
) -> Result<Json<TreeResponse>> {
    let (nodes, revision) = app
        .read(identity, consistency.at_least, move |viewer| {
            let principal = principal(&request.principal)?;
            let uri = viewer.uri(&request.uri)?;
            Ok(viewer.tree(&principal, &uri, request.depth.unwrap_or(255))?)
        })
        .await?;
    Ok(Json(TreeResponse {
        nodes: nodes
            .into_iter()
            .map(|n| TreeNode {
                uri: n.uri.to_string(),
                depth: n.depth,
                level: n.level.to_string(),
            })
            .collect(),
        revision: revision.0,
    }))
}

/// The URIs a principal holds, directly or through roles, with levels (rule E6).
#[utoipa::path(get, path = "/v1/list", tag = "decisions", params(ListQuery),
    responses((status = 200, body = ListResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<ListQuery>,
) -> Result<Json<ListResponse>> {
    let request = page(query.limit, query.cursor)?;
    let ((items, next_page), revision) = app
        .read(identity, query.at_least, move |viewer| {
            let principal = match &query.principal {
                Some(text) => principal(text)?,
                None => viewer.viewer().clone(),
            };
            let filter = match (&query.uri, &query.scheme) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::BadRequest(
                        "give `uri` or `scheme`, not both".into(),
                    ));
                }
                (Some(uri), None) => ListFilter::under(viewer.uri(uri)?),
                (None, Some(scheme)) => ListFilter::scheme(scheme)?,
                (None, None) => ListFilter::all(),
            };
            let listing = viewer.list(&principal, &filter, &request)?;
            let items = listing
                .items
                .iter()
                .map(|(uri, level)| Reach {
                    uri: uri.to_string(),
                    level: level.to_string(),
                })
                .collect::<Vec<_>>();
            Ok((items, next(listing.next)))
        })
        .await?;
    Ok(Json(ListResponse {
        items,
        next: next_page,
        revision: revision.0,
    }))
}

/// The grants a principal made on what it manages (rule E6).
#[utoipa::path(get, path = "/v1/shared", tag = "decisions", params(SharedQuery),
    responses((status = 200, body = SharedResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn shared(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<SharedQuery>,
) -> Result<Json<SharedResponse>> {
    let request = page(query.limit, query.cursor)?;
    let ((items, next_page), revision) = app
        .read(identity, query.at_least, move |viewer| {
            let principal = match &query.principal {
                Some(text) => principal(text)?,
                None => viewer.viewer().clone(),
            };
            let grants = viewer.shared(&principal, &request)?;
            let items = grants
                .items
                .iter()
                .map(|g| GrantRow {
                    uri: g.uri.to_string(),
                    level: g.level.to_string(),
                    grantee: g.holder.to_string(),
                })
                .collect::<Vec<_>>();
            Ok((items, next(grants.next)))
        })
        .await?;
    Ok(Json(SharedResponse {
        items,
        next: next_page,
        revision: revision.0,
    }))
}

/// The users whose effective level on a URI is at least a level (rule E6); the identity
/// needs `manage` on the URI.
#[utoipa::path(get, path = "/v1/who", tag = "decisions", params(WhoQuery),
    responses((status = 200, body = NamesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn who(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<WhoQuery>,
) -> Result<Json<NamesResponse>> {
    let request = page(query.limit, query.cursor)?;
    let least = level(query.level.as_deref().unwrap_or("read"))?;
    let ((items, next_page), revision) = app
        .read(identity, query.at_least, move |viewer| {
            let uri = viewer.uri(&query.uri)?;
            Ok(names(viewer.who(&uri, least, &request)?))
        })
        .await?;
    Ok(Json(NamesResponse {
        items,
        next: next_page,
        revision: revision.0,
    }))
}

/// The token's identity.
#[utoipa::path(get, path = "/v1/whoami", tag = "decisions", params(Consistency),
    responses((status = 200, body = WhoAmI), Errors), security(("bearer" = [])))]
pub(crate) async fn whoami(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<Consistency>,
) -> Result<Json<WhoAmI>> {
    let (name, revision) = app
        .read(identity, consistency.at_least, |viewer| {
            Ok(viewer.viewer().to_string())
        })
        .await?;
    Ok(Json(WhoAmI {
        identity: name,
        revision: revision.0,
    }))
}

// ---------------------------------------------------------------------------------------
// Grants

/// Sets a principal's direct grant on a URI (rule M1); `deny` records a forbid (E3).
#[utoipa::path(post, path = "/v1/grant", tag = "grants", request_body = GrantRequest,
    responses((status = 200, body = GrantResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn grant(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<GrantRequest>,
) -> Result<Json<GrantResponse>> {
    let grantee = principal(&request.principal)?;
    let level = level(&request.level)?;
    let done = app
        .write(identity, move |engine, caller| {
            let uri = engine.uri_for(&request.uri, &caller.principal)?;
            Ok(engine.grant(caller, &uri, &grantee, level)?)
        })
        .await?;
    Ok(Json(GrantResponse {
        result: grant_result(done.value),
        revision: done.revision.0,
    }))
}

/// Applies up to 1,000 grants in one transaction: all of them, or none (rule M3).
#[utoipa::path(post, path = "/v1/grants", tag = "grants", request_body = BatchGrantRequest,
    responses((status = 200, body = BatchGrantResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn grant_batch(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<BatchGrantRequest>,
) -> Result<Json<BatchGrantResponse>> {
    batch_limit(&app, request.grants.len())?;
    let parsed = request
        .grants
        .into_iter()
        .enumerate()
        .map(|(index, g)| {
            item(index, {
                (|| Ok((g.uri, principal(&g.principal)?, level(&g.level)?)))()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let done = app
        .write(identity, move |engine, caller| {
            let grants = parsed
                .into_iter()
                .enumerate()
                .map(|(index, (uri, grantee, level))| {
                    item(index, {
                        engine
                            .uri_for(&uri, &caller.principal)
                            .map(|uri| (uri, grantee, level))
                            .map_err(ApiError::from)
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(engine.grant_many(caller, &grants)?)
        })
        .await?;
    Ok(Json(BatchGrantResponse {
        outcomes: done.value.into_iter().map(grant_result).collect(),
        revision: done.revision.0,
    }))
}

/// Removes a principal's direct grant or forbid on exactly a URI (rule M2); nothing to
/// remove is 422.
#[utoipa::path(post, path = "/v1/revoke", tag = "grants", request_body = RevokeRequest,
    responses((status = 200, body = RevokeResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<RevokeRequest>,
) -> Result<Json<RevokeResponse>> {
    let holder = principal(&request.principal)?;
    let done = app
        .write(identity, move |engine, caller| {
            let uri = engine.uri_for(&request.uri, &caller.principal)?;
            Ok(engine.revoke(caller, &uri, &holder)?)
        })
        .await?;
    Ok(Json(RevokeResponse {
        removed: done.value.to_string(),
        revision: done.revision.0,
    }))
}

// ---------------------------------------------------------------------------------------
// Roles, memberships, fences

/// Creates a role (rule P2). Membership is a grant of `read` on `role://R`.
#[utoipa::path(post, path = "/v1/roles", tag = "roles", request_body = RoleRequest,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn add_role(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<RoleRequest>,
) -> Result<Json<Applied>> {
    let name = principal(&request.name)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.add_role(caller, &name, PrincipalKind::Role)?)
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

/// Removes a role with its grants, memberships and forbids (rule P4).
#[utoipa::path(delete, path = "/v1/roles/{name}", tag = "roles",
    params(("name" = String, Path, description = "The role's name; `/` travels as is")),
    responses((status = 200, body = RemovedRole), Errors), security(("bearer" = [])))]
pub(crate) async fn remove_role(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<RemovedRole>> {
    let Path(name) = path.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let name = principal(&name)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.remove_role(caller, &name)?)
        })
        .await?;
    Ok(Json(RemovedRole {
        grants_held: done.value.grants_held,
        grants_on_role: done.value.grants_on_role,
        edges: done.value.edges,
        revision: done.revision.0,
    }))
}

/// The roles and groups the identity sees (it holds at least `list` on their `role://`).
#[utoipa::path(get, path = "/v1/roles", tag = "roles", params(RolesQuery),
    responses((status = 200, body = RolesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn roles(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<RolesQuery>,
) -> Result<Json<RolesResponse>> {
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| principal(c).map(|n| n.to_string()))
        .transpose()?;
    let request = page(query.limit, cursor)?;
    let prefix = query.prefix;
    let ((items, next_page), revision) = app
        .read(identity, query.at_least, move |viewer| {
            let roles = viewer.roles(&request, |record| {
                prefix
                    .as_deref()
                    .is_none_or(|p| record.name.as_str().starts_with(p))
            })?;
            Ok((
                roles.items.iter().map(role_row).collect::<Vec<_>>(),
                next(roles.next),
            ))
        })
        .await?;
    Ok(Json(RolesResponse {
        items,
        next: next_page,
        revision: revision.0,
    }))
}

/// The roles and groups a principal is a direct member of.
#[utoipa::path(get, path = "/v1/memberships", tag = "roles", params(MembershipsQuery),
    responses((status = 200, body = RolesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn memberships(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<MembershipsQuery>,
) -> Result<Json<RolesResponse>> {
    let (items, revision) = app
        .read(identity, query.at_least, move |viewer| {
            let principal = match &query.principal {
                Some(text) => principal(text)?,
                None => viewer.viewer().clone(),
            };
            Ok(viewer
                .roles_of(&principal)?
                .iter()
                .map(role_row)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(RolesResponse {
        items,
        next: None,
        revision: revision.0,
    }))
}

/// Adds a fence (rule E4); the identity needs `manage` on the scheme root.
#[utoipa::path(post, path = "/v1/fences", tag = "roles", request_body = FenceBody,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn add_fence(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<FenceBody>,
) -> Result<Json<Applied>> {
    fence_change(app, identity, request, true).await
}

/// Removes a fence (rule E4); an absent fence is 422.
#[utoipa::path(post, path = "/v1/fences/remove", tag = "roles", request_body = FenceBody,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn remove_fence(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<FenceBody>,
) -> Result<Json<Applied>> {
    fence_change(app, identity, request, false).await
}

async fn fence_change(
    app: Arc<App>,
    identity: PrincipalName,
    request: FenceBody,
    add: bool,
) -> Result<Json<Applied>> {
    let group = principal(&request.group)?;
    let done = app
        .write(identity, move |engine, caller| {
            let uri = engine.uri_for(&request.uri, &caller.principal)?;
            Ok(if add {
                engine.add_fence(caller, &uri, &group)?
            } else {
                engine.remove_fence(caller, &uri, &group)?
            })
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

/// The fences the identity may change (on schemes whose root it manages).
#[utoipa::path(get, path = "/v1/fences", tag = "roles", params(FencesQuery),
    responses((status = 200, body = FencesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn fences(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<FencesQuery>,
) -> Result<Json<FencesResponse>> {
    let (items, revision) = app
        .read(identity, query.at_least, move |viewer| {
            let within = query.within.as_deref().map(|u| viewer.uri(u)).transpose()?;
            Ok(viewer
                .fences(within.as_ref())?
                .into_iter()
                .map(|f| FenceBody {
                    uri: f.uri.to_string(),
                    group: f.group.to_string(),
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(FencesResponse {
        items,
        revision: revision.0,
    }))
}
