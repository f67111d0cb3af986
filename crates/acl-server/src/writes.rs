//! Atomic batches of mixed writes (rules M1 to M4): grants, forbids, revokes and new roles
//! applied by [`acl_core::Engine::write_batch`] in ONE transaction, one revision, all or
//! nothing. The first refused operation fails the batch, with its index in the error.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use acl_core::{PrincipalKind, WriteOp, WriteOutcome};

use crate::api::{Errors, GrantResult, batch_limit, grant_result, item, level, principal};
use crate::app::App;
use crate::error::{ApiError, Result};
use crate::extract::{Body, Identity};

/// One operation of a batch, by its `op`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Operation {
    /// Set `principal`'s direct grant on `uri` (rule M1), as `POST /v1/grant`.
    Grant {
        /// The URI (short forms resolve against the token's identity).
        uri: String,
        /// The grantee: a user, role or group.
        principal: String,
        /// `list`, `read`, `write` or `manage` (`deny` is a forbid).
        level: String,
    },
    /// Forbid `principal` on `uri` (rule E3).
    Forbid {
        /// The URI.
        uri: String,
        /// The principal forbidden.
        principal: String,
    },
    /// Remove `principal`'s direct grant or forbid on exactly `uri` (rule M2), as
    /// `POST /v1/revoke`; nothing to remove fails the batch (422).
    Revoke {
        /// The URI.
        uri: String,
        /// The holder.
        principal: String,
    },
    /// Add a role (rule P2), as `POST /v1/roles`.
    AddRole {
        /// The role's name.
        name: String,
    },
}

/// Operations applied atomically, in order: all of them, or none.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchRequest {
    /// The operations, 1 to the server's batch limit.
    pub operations: Vec<Operation>,
}

/// What one operation did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct OperationResult {
    /// `grant`, `forbid`, `revoke` or `add_role`.
    pub op: String,
    /// For a grant or forbid: `created`, `raised` or `kept`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// For a grant or forbid: the level held before (`raised`) or kept (`kept`); for a
    /// revoke, the level removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// The answer of an atomic batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BatchResponse {
    /// What each operation did, in order.
    pub results: Vec<OperationResult>,
    /// The store's revision after the batch: one revision for the whole batch (unchanged
    /// when every operation was a kept grant).
    pub revision: u64,
}

fn result(op: &str, outcome: WriteOutcome) -> OperationResult {
    match outcome {
        WriteOutcome::Granted(outcome) => {
            let GrantResult { outcome, previous } = grant_result(outcome);
            OperationResult {
                op: op.to_owned(),
                outcome: Some(outcome),
                previous,
            }
        }
        WriteOutcome::Revoked(level) => OperationResult {
            op: op.to_owned(),
            outcome: None,
            previous: Some(level.to_string()),
        },
        WriteOutcome::RoleAdded => OperationResult {
            op: op.to_owned(),
            outcome: None,
            previous: None,
        },
    }
}

/// Applies up to 1,000 grants, forbids, revokes and new roles, in order, in ONE
/// transaction and one revision: all of them, or none. Each is authorized and checked as
/// its own endpoint would, on the state the ones before it left (a revoke may remove a
/// grant made earlier in the batch). The first refused operation fails the batch with its
/// status, and its message starts `item {index}: `; nothing is written.
#[utoipa::path(post, path = "/v1/batch", tag = "grants", request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn batch(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<BatchRequest>,
) -> Result<Json<BatchResponse>> {
    batch_limit(&app, request.operations.len())?;
    if request.operations.is_empty() {
        return Err(ApiError::BadRequest(
            "a batch needs at least one operation".into(),
        ));
    }
    let names: Vec<&'static str> = request
        .operations
        .iter()
        .map(|op| match op {
            Operation::Grant { .. } => "grant",
            Operation::Forbid { .. } => "forbid",
            Operation::Revoke { .. } => "revoke",
            Operation::AddRole { .. } => "add_role",
        })
        .collect();
    let done = app
        .write(identity, move |engine, caller| {
            let ops = request
                .operations
                .into_iter()
                .enumerate()
                .map(|(index, op)| {
                    item(index, {
                        (|| {
                            let uri = |text: &str| {
                                engine
                                    .uri_for(text, &caller.principal)
                                    .map_err(ApiError::from)
                            };
                            Ok(match op {
                                Operation::Grant {
                                    uri: at,
                                    principal: p,
                                    level: l,
                                } => WriteOp::Grant {
                                    uri: uri(&at)?,
                                    grantee: principal(&p)?,
                                    level: level(&l)?,
                                },
                                Operation::Forbid {
                                    uri: at,
                                    principal: p,
                                } => WriteOp::Forbid {
                                    uri: uri(&at)?,
                                    grantee: principal(&p)?,
                                },
                                Operation::Revoke {
                                    uri: at,
                                    principal: p,
                                } => WriteOp::Revoke {
                                    uri: uri(&at)?,
                                    grantee: principal(&p)?,
                                },
                                Operation::AddRole { name } => WriteOp::AddRole {
                                    name: principal(&name)?,
                                    kind: PrincipalKind::Role,
                                },
                            })
                        })()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            engine
                .write_batch(caller, &ops)
                .map_err(|error| match error {
                    acl_core::Error::InBatch { index, source } => ApiError::Item {
                        index,
                        source: Box::new(ApiError::Engine(*source)),
                    },
                    error => ApiError::Engine(error),
                })
        })
        .await?;
    Ok(Json(BatchResponse {
        results: names
            .into_iter()
            .zip(done.value)
            .map(|(op, outcome)| result(op, outcome))
            .collect(),
        revision: done.revision.0,
    }))
}
