//! The Neu.ro-compatible auth API (DESIGN rule N1), under `/api/v1` on the server's
//! listener: what the published `neuro-auth-client` (25.8.2) and the Neu.ro/Apolo SDK's
//! users module send, answered as they need it back. docs/api.md ("Neu.ro-compatible
//! API") maps each endpoint, name and status to our rules.
//!
//! Like the v1 API it is an adapter and adds no access rule of its own: every decision is
//! the engine's evaluator (through a [`acl_core::Viewer`] bound to the token's identity,
//! rule S3) and every change the engine's mutation as that identity. What is Neu.ro's
//! own is the wire: paths with `:` for the `/` of a name ([`uris`]), absolute URIs only,
//! the statuses the clients assert (201, 204, 200 or 403 with `missing`), and errors as
//! `{"error": "TEXT"}` with the texts the clients match ([`error`]).

mod error;
mod handlers;
mod uris;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::app::App;

/// The routes of the Neu.ro API, every one under `/api/v1`, with their own fallbacks (an
/// unknown route or method there answers in the Neu.ro error form too).
pub(crate) fn routes() -> Router<Arc<App>> {
    let api = Router::new()
        .route("/ping", get(handlers::ping))
        .route("/secured-ping", get(handlers::secured_ping))
        .route("/users", post(handlers::add_user))
        .route(
            "/users/{name}",
            get(handlers::get_user).delete(handlers::delete_user),
        )
        .route(
            "/users/{name}/permissions",
            get(handlers::list)
                .post(handlers::grant)
                .put(handlers::set)
                .delete(handlers::revoke),
        )
        .route("/users/{name}/permissions/check", post(handlers::check))
        .route("/users/{name}/permissions/tree", get(handlers::tree))
        .route("/users/{name}/permissions/shared", get(handlers::shared))
        .route("/users/{name}/subroles", get(handlers::subroles))
        .route("/users/{name}/token", post(handlers::token))
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::no_method);
    Router::new().nest("/api/v1", api)
}
