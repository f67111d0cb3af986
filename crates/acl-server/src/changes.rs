//! `changes`: the changelog from a revision (rule M3), as a long poll and as server-sent
//! events (a watch, as SpiceDB's Watch or OpenFGA's ReadChanges). Both read through the
//! platform's audit query, which authorizes the identity (`read` on `user://`), exactly as
//! `acl log` does.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use acl_core::{ChangeEntry, PageRequest, PrincipalName, Revision};
use acl_platform::AuditQuery;

use crate::api::{DEFAULT_PAGE, Errors, MAX_PAGE};
use crate::app::{App, require_live};
use crate::error::{ApiError, Result};
use crate::extract::{Identity, Params};

/// A read of the changelog.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangesQuery {
    /// Only changes after this revision (0: from the start).
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// At most this many changes (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Long poll: when there is no change after `after`, wait up to this many
    /// milliseconds for one (bounded by the server's wait limit; 0 answers at once).
    #[param(minimum = 0)]
    pub wait_ms: Option<u64>,
    /// Only changes made by this principal.
    pub actor: Option<String>,
}

/// One committed change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChangeRow {
    /// The revision the change produced.
    pub revision: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// Who made it; absent for the engine itself (init).
    pub actor: Option<String>,
    /// The operation (`grant`, `revoke`, `add_role`, ...).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// The rest, human readable.
    pub detail: String,
}

/// One page of the changelog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChangesResponse {
    /// The changes of this page, in revision order.
    pub items: Vec<ChangeRow>,
    /// The revision to pass as `after` next: the last change listed, or `after` when
    /// none was.
    pub next: u64,
    /// The store's revision when the page was read (at least that of every change listed).
    pub revision: u64,
}

fn row(entry: &ChangeEntry) -> ChangeRow {
    ChangeRow {
        revision: entry.revision.0,
        at: entry.change.at.0,
        actor: entry.change.actor.as_ref().map(ToString::to_string),
        action: entry.change.action.clone(),
        target: entry.change.target.clone(),
        detail: entry.change.detail.clone(),
    }
}

/// Reads one page of changes after `after` as `identity`, and the store's revision after.
async fn read_page(
    app: &Arc<App>,
    identity: PrincipalName,
    after: Revision,
    limit: usize,
    actor: Option<PrincipalName>,
) -> Result<(Vec<ChangeEntry>, Revision)> {
    app.blocking(move |app| {
        require_live(&app.engine.reader()?, &identity)?;
        let query = AuditQuery {
            after,
            up_to: None,
            actor,
        };
        let page = app
            .engine
            .audit(&identity, &query, &PageRequest::first(limit))?;
        let revision = app.engine.reader()?.revision()?;
        app.saw(revision);
        Ok((page.items, revision))
    })
    .await
}

fn limit_of(limit: Option<usize>) -> Result<usize> {
    match limit {
        Some(0) => Err(ApiError::BadRequest(
            "a page limit must be at least 1".into(),
        )),
        Some(limit) => Ok(limit.min(MAX_PAGE)),
        None => Ok(DEFAULT_PAGE),
    }
}

fn actor_of(actor: Option<&str>) -> Result<Option<PrincipalName>> {
    Ok(actor.map(PrincipalName::new).transpose()?)
}

/// The changelog after a revision; with `wait_ms`, a long poll that answers as soon as a
/// change is committed (or empty when the wait ends).
#[utoipa::path(get, path = "/v1/changes", tag = "changes", params(ChangesQuery),
    responses((status = 200, body = ChangesResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn changes(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<ChangesQuery>,
) -> Result<Json<ChangesResponse>> {
    let after = Revision(query.after.unwrap_or(0));
    let limit = limit_of(query.limit)?;
    let actor = actor_of(query.actor.as_deref())?;
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0)).min(app.limits.max_wait);
    let (mut items, mut revision) =
        read_page(&app, identity.clone(), after, limit, actor.clone()).await?;
    if items.is_empty() && !wait.is_zero() {
        app.wait_after(revision.max(after), wait).await?;
        (items, revision) = read_page(&app, identity, after, limit, actor).await?;
    }
    let next = items.last().map_or(after, |e| e.revision);
    Ok(Json(ChangesResponse {
        items: items.iter().map(row).collect(),
        next: next.0,
        revision: revision.0,
    }))
}

/// A watch of the changelog from a revision.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WatchQuery {
    /// Deliver the changes after this revision (0: from the start). A reconnecting client
    /// may send `Last-Event-ID` instead: each event's id is its revision.
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// Only changes made by this principal.
    pub actor: Option<String>,
}

/// How the watch stream stands between events.
struct Watch {
    app: Arc<App>,
    identity: PrincipalName,
    actor: Option<PrincipalName>,
    after: Revision,
    pending: VecDeque<ChangeEntry>,
    done: bool,
}

/// How often the watch looks for changes when no commit of this server woke it.
const WATCH_POLL: Duration = Duration::from_secs(1);

impl Watch {
    async fn next_event(mut self) -> Option<(Event, Watch)> {
        loop {
            if self.done {
                return None;
            }
            if let Some(entry) = self.pending.pop_front() {
                self.after = entry.revision;
                let event = Event::default()
                    .id(entry.revision.0.to_string())
                    .event("change")
                    .json_data(row(&entry))
                    .unwrap_or_else(|_| Event::default().comment("unencodable change"));
                return Some((event, self));
            }
            if *self.app.stopping.borrow() {
                return None;
            }
            let app = Arc::clone(&self.app);
            match read_page(
                &app,
                self.identity.clone(),
                self.after,
                DEFAULT_PAGE,
                self.actor.clone(),
            )
            .await
            {
                Ok((items, revision)) if items.is_empty() => {
                    let _ = app.wait_after(revision.max(self.after), WATCH_POLL).await;
                }
                Ok((items, _)) => self.pending.extend(items),
                Err(err) => {
                    // The identity lost its right or the store failed: say so, then end.
                    self.done = true;
                    let event = Event::default()
                        .event("error")
                        .json_data(err.body())
                        .unwrap_or_else(|_| Event::default().comment("error"));
                    return Some((event, self));
                }
            }
        }
    }
}

/// The changelog as server-sent events: every committed change after `after`, in order,
/// then each new one as it commits (`event: change`, `id:` its revision, `data:` the
/// change as JSON). A reconnect from the last id seen misses nothing and repeats nothing.
#[utoipa::path(get, path = "/v1/changes/watch", tag = "changes", params(WatchQuery),
    responses((status = 200, description = "A `text/event-stream` of changes", content_type = "text/event-stream", body = String), Errors),
    security(("bearer" = [])))]
pub(crate) async fn watch(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    headers: HeaderMap,
    Params(query): Params<WatchQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::BadRequest("`Last-Event-ID` is not a revision".into()))?,
        ),
    };
    let after = Revision(last_id.or(query.after).unwrap_or(0));
    let actor = actor_of(query.actor.as_deref())?;
    // Authorize before the stream starts, so a refusal is a status, not an event.
    let (first, _) = read_page(&app, identity.clone(), after, DEFAULT_PAGE, actor.clone()).await?;
    let watch = Watch {
        app,
        identity,
        actor,
        after,
        pending: first.into(),
        done: false,
    };
    let events = stream::unfold(watch, Watch::next_event);
    let events = futures_util::StreamExt::map(events, Ok::<Event, Infallible>);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
