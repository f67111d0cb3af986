//! Extractors whose every rejection is an [`ApiError`] (a JSON error of rule S5), never
//! axum's plain-text rejections.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use acl_core::{Level, PrincipalName};

use crate::app::App;
use crate::auth::bearer;
use crate::error::ApiError;

/// The identity of the request's verified bearer token (rule S2). Whether it is a live
/// principal is decided on the same read view as the request's answer.
#[derive(Debug, Clone)]
pub(crate) struct Identity(pub PrincipalName);

impl FromRequestParts<Arc<App>> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let header = match parts.headers.get(AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                ApiError::Unauthenticated("the Authorization header is not ASCII".into())
            })?),
        };
        let verified = app.key.verify(bearer(header)?)?;
        let identity = verified.identity;
        if let Some(token_uri) = verified.token_uri {
            // A token minted for a URI (Neu.ro's `token://`, rule N1) works only while its
            // identity can read that URI: the evaluator decides, on the current state.
            let who = identity.clone();
            app.blocking(move |app| {
                let refused = || {
                    ApiError::Unauthenticated(
                        "the token was minted for a URI its identity can no longer read".into(),
                    )
                };
                let uri = app
                    .engine
                    .schema()
                    .uri(&token_uri, None)
                    .map_err(|_| refused())?;
                if app.engine.reader()?.check(&who, &uri, Level::Read)? {
                    Ok(())
                } else {
                    Err(refused())
                }
            })
            .await?;
        }
        Ok(Identity(identity))
    }
}

/// A JSON body of type `T`. A body over the size limit is 413; one that is not the JSON
/// expected is 400 naming what was wrong. The content type is not insisted on.
#[derive(Debug, Clone)]
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge("the request body is larger than the server's limit".into())
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {rejection}"))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|err| ApiError::BadRequest(format!("the request body is not valid: {err}")))
    }
}

/// A query string of type `T`; a malformed one is 400 naming what was wrong.
#[derive(Debug, Clone)]
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Params(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}
