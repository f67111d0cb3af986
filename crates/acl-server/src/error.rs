//! The one error type of the server and its JSON form (rule S5).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use acl_core::ErrorKind;

/// Every way a request can fail. Each maps to one status of rule S5; none to a 500.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The engine or the store refused or failed; its kind decides the status.
    #[error(transparent)]
    Engine(#[from] acl_core::Error),
    /// One item of a batch failed; the batch changed nothing. The status is the item's.
    #[error("item {index}: {source}")]
    Item {
        /// The 0-based index of the item in the batch.
        index: usize,
        /// Why it failed.
        source: Box<ApiError>,
    },
    /// The request is malformed before it reaches the engine: a body that is not the JSON
    /// expected, a bad query string or path.
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no valid token, or its identity is not a live principal (S2).
    #[error("{0}")]
    Unauthenticated(String),
    /// The body or a batch is larger than the server's limit (S6).
    #[error("{0}")]
    TooLarge(String),
    /// A limit on connections or concurrent requests was reached (S6).
    #[error("{0}")]
    OverLimit(String),
    /// The request took longer than the server's request timeout (S6).
    #[error("{0}")]
    Timeout(String),
    /// No route has this path.
    #[error("no route `{0}`")]
    NoRoute(String),
    /// The route exists but not with this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The server cannot answer now (a worker failed, the server is stopping).
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status of this error (rule S5).
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Engine(err) => kind_status(err.kind()),
            ApiError::Item { source, .. } => source.status(),
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::OverLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The snake_case kind of the JSON error (`invalid_input`, `forbidden`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Engine(err) => err.kind().as_str(),
            ApiError::Item { source, .. } => source.kind(),
            ApiError::BadRequest(_) => ErrorKind::InvalidInput.as_str(),
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::TooLarge(_) => "too_large",
            ApiError::OverLimit(_) => "over_limit",
            ApiError::Timeout(_) => "timeout",
            ApiError::NoRoute(_) => ErrorKind::NotFound.as_str(),
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Unavailable(_) => "unavailable",
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind().to_owned(),
                message: self.to_string(),
            },
        }
    }
}

/// The status of an engine error kind: invalid input 400, not found 404, conflict 409,
/// forbidden 403, no effect 422, storage 503 (rule S5). A kind added later is a failure
/// to answer, 503, never a 500.
pub fn kind_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NoEffect => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `{"error": {"kind": ..., "message": ...}}`, the body of every error (rule S5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The kind: `invalid_input`, `unauthenticated`, `forbidden`, `not_found`, `conflict`,
    /// `no_effect`, `too_large`, `over_limit`, `timeout`, `storage`, `unavailable`, ...
    pub kind: String,
    /// What was wrong, naming the offending input.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result type of the server.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    // rule S5: each kind has its status; storage is 503, never 500
    #[test]
    fn kinds_map_to_statuses() {
        let cases = [
            (ErrorKind::InvalidInput, 400),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::NoEffect, 422),
            (ErrorKind::Storage, 503),
        ];
        for (kind, status) in cases {
            assert_eq!(kind_status(kind).as_u16(), status, "{kind}");
        }
    }

    // rule S5: an item's error keeps the item's status and names its index
    #[test]
    fn item_errors_keep_their_status() {
        let err = ApiError::Item {
            index: 3,
            source: Box::new(ApiError::Engine(acl_core::Error::not_found(
                "principal",
                "zed",
            ))),
        };
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        assert_eq!(err.kind(), "not_found");
        assert_eq!(err.to_string(), "item 3: principal `zed` not found");
    }
}
