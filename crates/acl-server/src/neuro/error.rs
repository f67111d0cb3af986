//! The errors of the Neu.ro API: always JSON `{"error": "TEXT"}` (the clients raise with
//! `obj["error"]` and some match the text), with the statuses the published clients
//! expect. The mapping from the engine's error kinds is docs/api.md's table.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use acl_core::{ErrorKind, UriProblem, clip};

use crate::error::{ApiError, kind_status};

/// The text of a revoke or grant that changes nothing (the client swallows exactly it).
pub(crate) const NO_EFFECT: &str = "Operation has no effect";
/// The text of every refusal for a missing level.
pub(crate) const FORBIDDEN: &str = "Forbidden";
/// The text of a normal user's grant to itself.
pub(crate) const SELF_GRANT: &str = "Adding self user is forbidden";

/// A failed request of the Neu.ro API: a status and the text of `{"error": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NeuroError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The text the clients read.
    pub text: String,
}

impl NeuroError {
    /// An error with `status` and `text`.
    pub fn new(status: StatusCode, text: impl Into<String>) -> NeuroError {
        NeuroError {
            status,
            text: text.into(),
        }
    }

    /// 400 with `text`.
    pub fn bad_request(text: impl Into<String>) -> NeuroError {
        NeuroError::new(StatusCode::BAD_REQUEST, text)
    }

    /// 404 `user "NAME" was not found` (the name with `/`, as the real server shows it).
    pub fn no_user(name: &str) -> NeuroError {
        NeuroError::new(
            StatusCode::NOT_FOUND,
            format!("user \"{}\" was not found", clip(name)),
        )
    }

    /// 422 `Unknown resource type: SCHEME`.
    pub fn unknown_scheme(scheme: &str) -> NeuroError {
        NeuroError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Unknown resource type: {}", clip(scheme)),
        )
    }

    /// 400 `Malformed URI 'TEXT': PROBLEM`.
    pub fn malformed(text: &str, problem: impl std::fmt::Display) -> NeuroError {
        NeuroError::bad_request(format!("Malformed URI '{}': {problem}", clip(text)))
    }
}

impl From<acl_core::Error> for NeuroError {
    fn from(err: acl_core::Error) -> NeuroError {
        use acl_core::Error;
        // A refused operation of a batch answers as the refusal itself: the clients match
        // its text.
        let err = match err {
            Error::InBatch { source, .. } => *source,
            err => err,
        };
        match &err {
            Error::NotFound { what, name } if matches!(*what, "principal" | "role" | "user") => {
                NeuroError::no_user(name)
            }
            Error::AlreadyExists { what, name } if *what == "principal" => NeuroError::new(
                StatusCode::CONFLICT,
                format!("user \"{name}\" already exists"),
            ),
            Error::Forbidden { .. } => NeuroError::new(StatusCode::FORBIDDEN, FORBIDDEN),
            Error::NoEffect(_) => NeuroError::bad_request(NO_EFFECT),
            Error::InvalidUri {
                input,
                problem: UriProblem::UnknownScheme,
            } => NeuroError::unknown_scheme(input.split(':').next().unwrap_or_default()),
            Error::InvalidUri { input, problem } => NeuroError::malformed(input, problem),
            _ => match err.kind() {
                ErrorKind::Storage => {
                    NeuroError::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
                }
                kind => NeuroError::new(kind_status(kind), err.to_string()),
            },
        }
    }
}

impl From<ApiError> for NeuroError {
    fn from(err: ApiError) -> NeuroError {
        match err {
            ApiError::Engine(err) => err.into(),
            ApiError::Item { source, .. } => (*source).into(),
            other => NeuroError::new(other.status(), other.to_string()),
        }
    }
}

impl IntoResponse for NeuroError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.text }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result type of the Neu.ro handlers.
pub(crate) type Result<T, E = NeuroError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    // rule N1: the engine's refusals in the texts the clients match
    #[test]
    fn engine_errors_map_to_neuro_texts() {
        let cases = [
            (
                acl_core::Error::not_found("principal", "me/roles/x"),
                404,
                "user \"me/roles/x\" was not found",
            ),
            (
                acl_core::Error::NoEffect("nothing".into()),
                400,
                "Operation has no effect",
            ),
            (
                acl_core::Error::already_exists("principal", "bob"),
                409,
                "user \"bob\" already exists",
            ),
            (
                acl_core::Error::Forbidden {
                    actor: "bob".into(),
                    action: "grant",
                    uri: "storage://c/x".into(),
                    needed: acl_core::Level::Manage,
                },
                403,
                "Forbidden",
            ),
            (
                acl_core::Error::InvalidUri {
                    input: "unknown://c".into(),
                    problem: UriProblem::UnknownScheme,
                },
                422,
                "Unknown resource type: unknown",
            ),
            (
                acl_core::Error::Storage("disk".into()),
                503,
                "storage error: disk",
            ),
        ];
        for (err, status, text) in cases {
            let mapped = NeuroError::from(err);
            assert_eq!(mapped.status.as_u16(), status);
            assert_eq!(mapped.text, text);
        }
    }
}
