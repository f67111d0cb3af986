//! The router, its middleware (request ids, logs, metrics, timeouts), the operational
//! endpoints and the accept loop (connection cap, header timeout, graceful shutdown).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tracing::Instrument;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api;
use crate::app::{App, Engine, Limits};
use crate::auth::JwtKey;
use crate::changes;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::extract::Identity;
use crate::folders;
use crate::metrics::Metrics;
use crate::policies;
use crate::users;
use crate::writes;

/// The OpenAPI 3.1 document of the v1 API, generated from the handlers (rule S7).
#[derive(OpenApi)]
#[openapi(
    info(title = "acl v1 API", description = "The access-control engine's JSON API: decisions, grants, roles, fences and the changelog. Every answer carries the revision it was read at; every read accepts `at_least`."),
    paths(
        api::check, api::check_batch, api::explain, api::tree, api::list, api::shared,
        api::who, api::whoami, api::grant, api::grant_batch, api::revoke, api::add_role,
        api::remove_role, api::roles, api::memberships, api::add_fence, api::remove_fence,
        api::fences, changes::changes, changes::watch, users::create, users::list,
        users::show, users::deactivate, users::activate, folders::create, folders::list,
        folders::rename, folders::delete, folders::invite, folders::shares, folders::set_share,
        folders::unshare, folders::leave, folders::invitations, folders::accept,
        folders::reject, folders::cancel, folders::change_permission, users::create_group,
        users::groups, users::members, users::add_member, users::remove_member,
        users::create_keypair, users::keypairs, users::activate_keypair,
        users::deactivate_keypair, users::export, folders::create_vm, folders::share_vm, folders::vm_members, writes::batch, policies::create, policies::list,
        policies::show, policies::update, policies::delete, policies::assign,
        policies::start_session, policies::stop_session, policies::sessions, healthz, readyz, ping, metrics,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Bearer),
    tags(
        (name = "decisions", description = "check, explain, tree, list, shared, who"),
        (name = "grants", description = "grant, revoke, atomic batches"),
        (name = "roles", description = "roles, memberships, fences"),
        (name = "users", description = "user accounts, groups, keypairs"),
        (name = "policies", description = "resource policies and sessions"),
        (name = "folders", description = "folders, shares and invitations (Backend.AI); VMs"),
        (name = "changes", description = "the changelog: long poll and watch"),
        (name = "operations", description = "health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// A health answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct Health {
    /// `ok` or `ready`.
    status: String,
    /// The store's revision (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        revision: None,
    })
}

/// The v1 ping: no token needed.
#[utoipa::path(get, path = "/v1/ping", tag = "operations",
    responses((status = 200, body = Health)))]
async fn ping() -> Json<Health> {
    healthz().await
}

/// Readiness: the store answers a read (503 when it does not, or while stopping).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn readyz(State(app): State<Arc<App>>) -> Result<Json<Health>, ApiError> {
    if *app.stopping.borrow() {
        return Err(ApiError::Unavailable("the server is stopping".into()));
    }
    let revision = app
        .blocking(|app| Ok(app.engine.reader()?.revision()?))
        .await?;
    app.saw(revision);
    let follower = app.follower.status();
    if let Some(error) = &follower.last_error {
        return Err(ApiError::Unavailable(format!(
            "the follower index is at revision {} and cannot catch up: {error}",
            follower.applied
        )));
    }
    Ok(Json(Health {
        status: "ready".into(),
        revision: Some(revision.0),
    }))
}

/// The Prometheus metrics (rule S8): requests, latencies, decisions, the store revision.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The OpenMetrics text format", content_type = "application/openmetrics-text", body = String), api::Errors),
    security(("bearer" = [])))]
async fn metrics(State(app): State<Arc<App>>, Identity(_): Identity) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.text(),
    )
        .into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().chars().take(200).collect())
}

async fn no_method() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The id of a request: the client's `x-request-id` when it is short and plain, else one
/// of ours.
fn request_id(request: &Request, counter: &AtomicU64) -> String {
    if let Some(id) = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        && !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return id.to_owned();
    }
    format!("r{:08x}", counter.fetch_add(1, Ordering::Relaxed))
}

/// Every request: an id (echoed in `x-request-id`), a span carrying it, one log line at
/// the end (method, route, status, time; never a header, so never a token, rule S8), and
/// the metrics.
pub(crate) async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let id = request_id(&request, &COUNTER);
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
    });
    app.metrics.request(&route, &method, status, took);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The request timeout of rule S6 (408 past it), for every route but the watch and the
/// long poll, whose waits are bounded on their own.
async fn deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(app.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(format!(
            "the request took longer than the server's limit of {} ms",
            app.limits.request_timeout.as_millis()
        ))
        .into_response(),
    }
}

/// The router of the whole API over `app`.
fn router(app: Arc<App>) -> Router {
    let timed = Router::new()
        .route("/v1/check", post(api::check))
        .route("/v1/check/batch", post(api::check_batch))
        .route("/v1/explain", post(api::explain))
        .route("/v1/tree", post(api::tree))
        .route("/v1/list", get(api::list))
        .route("/v1/shared", get(api::shared))
        .route("/v1/who", get(api::who))
        .route("/v1/whoami", get(api::whoami))
        .route("/v1/grant", post(api::grant))
        .route("/v1/grants", post(api::grant_batch))
        .route("/v1/revoke", post(api::revoke))
        .route("/v1/batch", post(writes::batch))
        .route("/v1/policies", post(policies::create).get(policies::list))
        .route(
            "/v1/policies/{name}",
            get(policies::show)
                .put(policies::update)
                .delete(policies::delete),
        )
        .route("/v1/users/{user}/policy", post(policies::assign))
        .route(
            "/v1/sessions",
            post(policies::start_session).get(policies::sessions),
        )
        .route("/v1/sessions/{id}/stop", post(policies::stop_session))
        .route("/v1/roles", post(api::add_role).get(api::roles))
        .route("/v1/roles/{*name}", delete(api::remove_role))
        .route("/v1/memberships", get(api::memberships))
        .route("/v1/fences", post(api::add_fence).get(api::fences))
        .route("/v1/fences/remove", post(api::remove_fence))
        .route("/v1/users", post(users::create).get(users::list))
        .route("/v1/users/{user}", get(users::show))
        .route("/v1/users/{user}/deactivate", post(users::deactivate))
        .route("/v1/users/{user}/activate", post(users::activate))
        .route("/v1/folders", post(folders::create).get(folders::list))
        .route("/v1/folders/{name}", delete(folders::delete))
        .route("/v1/folders/{name}/rename", post(folders::rename))
        .route("/v1/folders/{name}/invite", post(folders::invite))
        .route(
            "/v1/folders/{name}/shares",
            get(folders::shares).post(folders::set_share),
        )
        .route("/v1/folders/{name}/unshare", post(folders::unshare))
        .route("/v1/folders/{name}/leave", post(folders::leave))
        .route("/v1/invitations", get(folders::invitations))
        .route("/v1/invitations/{id}/accept", post(folders::accept))
        .route("/v1/invitations/{id}/reject", post(folders::reject))
        .route("/v1/invitations/{id}/cancel", post(folders::cancel))
        .route(
            "/v1/invitations/{id}/permission",
            post(folders::change_permission),
        )
        .route("/v1/groups", post(users::create_group).get(users::groups))
        .route(
            "/v1/groups/{name}/members",
            get(users::members).post(users::add_member),
        )
        .route(
            "/v1/groups/{name}/members/remove",
            post(users::remove_member),
        )
        .route(
            "/v1/keypairs",
            post(users::create_keypair).get(users::keypairs),
        )
        .route("/v1/keypairs/{key}/activate", post(users::activate_keypair))
        .route(
            "/v1/keypairs/{key}/deactivate",
            post(users::deactivate_keypair),
        )
        .route("/v1/vms", post(folders::create_vm))
        .route("/v1/vms/{name}/share", post(folders::share_vm))
        .route("/v1/vms/{name}/members", get(folders::vm_members))
        .route("/v1/exports/{what}", get(users::export))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/ping", get(ping))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/openapi.json", get(openapi))
        .merge(crate::neuro::routes())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), deadline));
    let waiting = Router::new()
        .route("/v1/changes", get(changes::changes))
        .route("/v1/changes/watch", get(changes::watch));
    timed
        .merge(waiting)
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(DefaultBodyLimit::max(app.limits.max_body_bytes))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), observe))
        .with_state(app)
}

/// The next connection on `listener`; never, when there is none.
async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound or read.
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The follower index (rule D3) could not be built from the store.
    #[error("cannot build the follower index: {0}")]
    Follower(acl_core::Error),
}

/// A server bound to its address (and, if asked, the Backend.AI listener's), not yet
/// serving.
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    backendai: Option<TcpListener>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .field(
                "backendai",
                &self.backendai.as_ref().and_then(|l| l.local_addr().ok()),
            )
            .field("limits", &self.app.limits)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `addr` to serve `engine`, authenticating with `key`, within `limits`.
    pub async fn bind(
        engine: Engine,
        key: JwtKey,
        limits: Limits,
        addr: &str,
    ) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        let (stop, stopping) = watch::channel(false);
        // The follower index of rule D3, built from one view of the store: blocking store
        // reads, once, before serving, on a blocking thread (a PostgreSQL client must not
        // block an executor thread).
        let (engine, follower) = tokio::task::spawn_blocking(move || {
            let follower = acl_memory::Follower::build(
                engine.store(),
                engine.schema().clone(),
                engine.engine().options(),
            );
            (engine, follower)
        })
        .await
        .map_err(|err| {
            ServeError::Follower(acl_core::Error::Storage(format!(
                "building the follower index failed: {err}"
            )))
        })?;
        let follower = follower.map_err(ServeError::Follower)?;
        let app = Arc::new(App {
            engine,
            follower,
            key,
            workers: Arc::new(Semaphore::new(limits.store_workers.max(1))),
            limits,
            metrics: Metrics::new(),
            revision: watch::channel(0).0,
            stopping,
            wake: Notify::new(),
        });
        Ok(Server {
            app,
            listener,
            backendai: None,
            stop,
        })
    }

    /// Also listens on `addr` for the Backend.AI-compatible manager API (rule B1), served
    /// at that listener's root by the same engine, within the same limits.
    pub async fn with_backendai(mut self, addr: &str) -> Result<Server, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        self.backendai = Some(listener);
        Ok(self)
    }

    /// The address of the Backend.AI listener, if [`Server::with_backendai`] made one.
    pub fn backendai_addr(&self) -> Option<Result<SocketAddr, ServeError>> {
        self.backendai.as_ref().map(|listener| {
            listener.local_addr().map_err(|source| ServeError::Bind {
                addr: "the bound Backend.AI socket".into(),
                source,
            })
        })
    }

    /// The address the server listens on (the port chosen when `:0` was asked).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener
            .local_addr()
            .map_err(|source| ServeError::Bind {
                addr: "the bound socket".into(),
                source,
            })
    }

    /// Serves until `shutdown` completes, then stops gracefully (rule S1): no new
    /// connection is accepted, watches and long polls end, and in-flight requests get
    /// [`Limits::shutdown_grace`] to finish. Returns the engine, so the caller closes the
    /// store when it drops it (`None` if a request outlived the grace and still holds it).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Option<Engine> {
        let Server {
            app,
            listener,
            backendai,
            stop,
        } = self;
        let router = router(Arc::clone(&app));
        let manager = crate::backendai::router(Arc::clone(&app));
        tokio::spawn(Arc::clone(&app).follow());
        app.listen_for_commits();
        let slots = Arc::new(Semaphore::new(app.limits.max_connections));
        let graceful = GracefulShutdown::new();
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(app.limits.header_timeout)
            .keep_alive(true);
        tokio::pin!(shutdown);
        loop {
            let (accepted, which) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => (accepted, &router),
                accepted = accept(backendai.as_ref()) => (accepted, &manager),
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // A transient accept failure (too many open files): log, go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(stream);
            match Arc::clone(&slots).try_acquire_owned() {
                Ok(permit) => {
                    let service = TowerToHyperService::new(which.clone());
                    let connection = graceful.watch(builder.serve_connection(io, service));
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(peer = %peer, error = %err, "connection ended");
                        }
                        drop(permit);
                    });
                }
                Err(_) => {
                    // Over the cap (rule S6): answer 429 and close.
                    app.metrics.rejected_connection();
                    let limit = app.limits.max_connections;
                    let service = hyper::service::service_fn(move |_request| async move {
                        Ok::<_, Infallible>(
                            ApiError::OverLimit(format!(
                                "the server serves at most {limit} connections at once"
                            ))
                            .into_response(),
                        )
                    });
                    let mut refuse = hyper::server::conn::http1::Builder::new();
                    refuse
                        .timer(TokioTimer::new())
                        .header_read_timeout(app.limits.header_timeout)
                        .keep_alive(false);
                    tokio::spawn(async move {
                        let _ = refuse.serve_connection(io, service).await;
                    });
                }
            }
        }
        drop(listener);
        drop(backendai);
        let _ = stop.send(true);
        tracing::info!("stopping: finishing in-flight requests");
        if tokio::time::timeout(app.limits.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace ran out with requests still in flight");
        }
        drop(router);
        drop(manager);
        // Connections that outlived the grace still hold the state: give them a moment
        // more, then leave the engine to the last of them.
        let mut app = app;
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        loop {
            match Arc::try_unwrap(app) {
                Ok(app) => return Some(app.engine),
                Err(again) if Instant::now() < deadline => {
                    app = again;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(_) => return None,
            }
        }
    }
}
