//! Errors in the manager's form: `application/problem+json` with
//! `{"type": "https://api.backend.ai/probs/SLUG", "title", "msg"}`, the status and slug the
//! manager gives the same failure (docs/api.md, "Backend.AI-compatible folder API", lists
//! each and where its versions differ). The client raises `BackendAPIError(status,
//! title, body)` from any JSON error body, so every failure here has one; none is a 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use acl_core::{Error, ErrorKind};

use crate::error::ApiError;

/// Where the manager's problem types live.
const PROBS: &str = "https://api.backend.ai/probs/";

/// One failed request, as the manager reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The manager's slug (`object-not-found`, ...).
    pub slug: &'static str,
    /// The manager's title for the slug.
    pub title: &'static str,
    /// What went wrong, in our words.
    pub msg: String,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    msg: &'a str,
}

impl Problem {
    /// A problem of `status`, `slug` and `title` saying `msg`.
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        msg: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            slug,
            title,
            msg: msg.into(),
        }
    }

    /// 400 `invalid-api-params`: a missing or malformed parameter.
    pub fn invalid(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            msg,
        )
    }

    /// 401 `auth-failed`: no, unknown or refused credentials, or a signature mismatch.
    pub fn auth_failed(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "auth-failed",
            "Credential/signature mismatch.",
            msg,
        )
    }

    /// 400 `invalid-auth-params`: a malformed authorization header or Date.
    pub fn invalid_auth(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-auth-params",
            "Missing or invalid authorization parameters.",
            msg,
        )
    }

    /// 400 `generic-bad-request`.
    pub fn bad_request(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "generic-bad-request",
            "Bad request.",
            msg,
        )
    }

    /// 404 `vfolder-invitation-not-found`: an unknown invitation or one no longer pending.
    pub fn invitation_not_found(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "vfolder-invitation-not-found",
            "Virtual folder invitation not found.",
            msg,
        )
    }

    /// 404 `object-not-found` for a folder.
    pub fn no_folder(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "object-not-found",
            "No such virtual folder.",
            msg,
        )
    }

    /// The problem of an engine error.
    pub fn of_engine(err: &Error) -> Problem {
        let msg = err.to_string();
        match err {
            Error::InBatch { source, .. } => Problem::of_engine(source),
            Error::NotFound { what, .. } => match *what {
                "invitation" => Problem::invitation_not_found(msg),
                "folder" => Problem::no_folder(msg),
                "user" | "account" | "member" => Problem::new(
                    StatusCode::NOT_FOUND,
                    "object-not-found",
                    "No such user.",
                    msg,
                ),
                "group" => Problem::new(
                    StatusCode::NOT_FOUND,
                    "object-not-found",
                    "No such user group (or project).",
                    msg,
                ),
                "share" => Problem::new(
                    StatusCode::NOT_FOUND,
                    "object-not-found",
                    "No such shared virtual folder.",
                    msg,
                ),
                _ => Problem::new(
                    StatusCode::NOT_FOUND,
                    "object-not-found",
                    "No such object.",
                    msg,
                ),
            },
            Error::AlreadyExists { what: "folder", .. } => Problem::new(
                StatusCode::CONFLICT,
                "vfolder-already-exists",
                "The virtual folder already exists with the same name.",
                msg,
            ),
            Error::AuthenticationRefused => Problem::auth_failed(msg),
            Error::AdmissionRefused { .. } => {
                Problem::invalid(format!("You cannot create more vfolders: {msg}"))
            }
            Error::RevisionNotReached { .. } => Problem::unavailable(msg),
            _ => match err.kind() {
                ErrorKind::InvalidInput | ErrorKind::NoEffect => Problem::invalid(msg),
                ErrorKind::NotFound => Problem::new(
                    StatusCode::NOT_FOUND,
                    "object-not-found",
                    "No such object.",
                    msg,
                ),
                ErrorKind::Forbidden => Problem::new(
                    StatusCode::FORBIDDEN,
                    "generic-forbidden",
                    "Forbidden operation.",
                    msg,
                ),
                ErrorKind::Conflict => Problem::new(
                    StatusCode::CONFLICT,
                    "vfolder-operation-failed",
                    "Virtual folder operation has failed.",
                    msg,
                ),
                // a kind added later: a failure to answer, never a 500
                _ => Problem::unavailable(msg),
            },
        }
    }

    /// 503 `service-unavailable`.
    pub fn unavailable(msg: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "Service unavailable.",
            msg,
        )
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Problem {
        Problem::of_engine(&err)
    }
}

impl From<ApiError> for Problem {
    fn from(err: ApiError) -> Problem {
        let msg = err.to_string();
        match err {
            ApiError::Engine(err) => Problem::of_engine(&err),
            ApiError::Item { source, .. } => Problem::from(*source),
            ApiError::BadRequest(_) => Problem::invalid(msg),
            ApiError::Unauthenticated(_) => Problem::auth_failed(msg),
            ApiError::TooLarge(_) => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request-too-large",
                "Request body too large.",
                msg,
            ),
            ApiError::OverLimit(_) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests.",
                msg,
            ),
            ApiError::Timeout(_) => Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timeout.",
                msg,
            ),
            ApiError::NoRoute(_) => Problem::new(
                StatusCode::NOT_FOUND,
                "generic-not-found",
                "Unknown URL path.",
                msg,
            ),
            ApiError::MethodNotAllowed => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "HTTP Method Not Allowed.",
                msg,
            ),
            _ => Problem::unavailable(msg),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = Body {
            kind: format!("{PROBS}{}", self.slug),
            title: self.title,
            msg: &self.msg,
        };
        let text = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status, text).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// What the Backend.AI handlers return.
pub(crate) type Answer<T> = std::result::Result<T, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule B1: each engine error gets the manager's status and slug.
    #[test]
    fn engine_errors_get_the_managers_slugs() {
        let cases = [
            (Error::not_found("folder", "x"), 404, "object-not-found"),
            (
                Error::not_found("invitation", "i1"),
                404,
                "vfolder-invitation-not-found",
            ),
            (
                Error::already_exists("folder", "x"),
                409,
                "vfolder-already-exists",
            ),
            (Error::InvalidInput("bad".into()), 400, "invalid-api-params"),
            (Error::NotPermitted("no".into()), 403, "generic-forbidden"),
            (Error::AuthenticationRefused, 401, "auth-failed"),
            (
                Error::Conflict("state".into()),
                409,
                "vfolder-operation-failed",
            ),
            (Error::Storage("down".into()), 503, "service-unavailable"),
            (Error::NoEffect("same".into()), 400, "invalid-api-params"),
        ];
        for (err, status, slug) in cases {
            let problem = Problem::of_engine(&err);
            assert_eq!(problem.status.as_u16(), status, "{err}");
            assert_eq!(problem.slug, slug, "{err}");
            assert_eq!(problem.msg, err.to_string());
        }
    }
}
