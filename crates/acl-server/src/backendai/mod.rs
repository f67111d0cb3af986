//! The Backend.AI-compatible manager API (issue 20, DESIGN rule B1), served at the root of
//! the listener `acl serve --backendai-listen ADDR` opens: the folder routes the
//! published `backend.ai-client` (26.9.6) calls, signed as it signs them, answered as the
//! manager answers. docs/api.md ("Backend.AI-compatible folder API") maps each route,
//! status and slug to our rules.
//!
//! The pieces: [`signature`] verifies the client's HMAC request signing (a pure function,
//! tested on the client's own vectors); `auth` finds the keypair, opens its sealed secret
//! through the platform (rule A5) and yields the signer; `ids` gives users, folders and
//! projects their stable UUIDs; `body` reads parameters under every alias the client
//! versions send; `handlers` are the routes; `gql` the one admin GraphQL mutation served;
//! `problem` the manager's `application/problem+json` errors.
//!
//! The key decision, as for the v1 and Neu.ro APIs: **an adapter adds no rule.** A folder
//! named by UUID or by name is looked up among the folders the signer sees and goes through
//! the same platform workflow, so both get the same decision (Backend.AI's FR-3800 let a
//! UUID path skip a read-only share's permission). Every change is a platform workflow as
//! the keypair's user, authorized by the engine, one transaction each.

mod auth;
mod body;
mod gql;
mod handlers;
mod ids;
mod problem;
pub mod signature;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;
use crate::error::ApiError;
use problem::Problem;

async fn no_route(uri: Uri) -> Problem {
    Problem::from(ApiError::NoRoute(uri.path().to_owned()))
}

async fn no_method() -> Problem {
    Problem::from(ApiError::MethodNotAllowed)
}

/// The request timeout of rule S6 (408 past it), answered as a problem.
async fn deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(app.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::from(ApiError::Timeout(format!(
            "the request took longer than the server's limit of {} ms",
            app.limits.request_timeout.as_millis()
        )))
        .into_response(),
    }
}

/// The router of the Backend.AI listener over `app`, with the same request ids, logs,
/// metrics, timeout and body limit as the main listener.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(handlers::version))
        .route(
            "/folders",
            post(handlers::create)
                .get(handlers::list)
                .delete(handlers::delete_by_id),
        )
        .route("/folders/_/id", get(handlers::id))
        .route(
            "/folders/_/shared",
            get(handlers::shared).post(handlers::update_shared),
        )
        .route("/folders/_/hosts", get(handlers::hosts))
        .route("/folders/_/allowed_types", get(handlers::allowed_types))
        .route("/folders/invitations/list", get(handlers::invitations))
        .route(
            "/folders/invitations/list-sent",
            get(handlers::sent_invitations),
        )
        .route(
            "/folders/invitations/list_sent",
            get(handlers::sent_invitations),
        )
        .route(
            "/folders/invitations/update/{id}",
            post(handlers::update_invitation),
        )
        .route("/folders/invitations/accept", post(handlers::accept))
        .route(
            "/folders/invitations/delete",
            post(handlers::delete_invitation).delete(handlers::delete_invitation),
        )
        .route(
            "/folders/{name}",
            get(handlers::info).delete(handlers::delete),
        )
        .route("/folders/{name}/rename", post(handlers::rename))
        .route(
            "/folders/{name}/update-options",
            post(handlers::update_options),
        )
        .route("/folders/{name}/invite", post(handlers::invite))
        .route("/folders/{name}/share", post(handlers::share))
        .route(
            "/folders/{name}/unshare",
            post(handlers::unshare).delete(handlers::unshare),
        )
        .route("/folders/{name}/leave", post(handlers::leave))
        .route(
            "/folders/{name}/request-upload",
            post(handlers::request_upload),
        )
        .route(
            "/folders/{name}/request-download",
            post(handlers::request_download),
        )
        .route("/admin/gql", post(gql::admin))
        .route("/admin/graphql", post(gql::admin))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), deadline))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(DefaultBodyLimit::max(app.limits.max_body_bytes))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            crate::server::observe,
        ))
        .with_state(app)
}
