//! The signed request's user: [`Signer`] checks a request as the manager does, in its
//! order (Date, then the Authorization header, then the keypair, then the signature, then
//! the API version), with the keypair's sealed secret opened by the platform.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use acl_core::{Error, PrincipalName};

use super::problem::{Answer, Problem};
use super::signature::{self, MAX_SKEW, Signed};
use crate::app::App;
use crate::error::ApiError;

/// The user whose active keypair signed the request (rules B1, A3).
#[derive(Debug, Clone)]
pub(crate) struct Signer(pub PrincipalName);

/// The server's clock as chrono's time (the server, not the core, reads the clock).
pub(crate) fn utc_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(crate::app::now().0).unwrap_or_default()
}

/// The text of header `name`, if present; a header that is not visible ASCII is a 400.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Answer<Option<&'a str>> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| Problem::invalid_auth(format!("the {name} header is not ASCII"))),
    }
}

/// Whether `version` is an API version the manager speaks (`v4.20190315` and later major
/// versions up to `v9`): the client sends the lower of its own and the server's.
fn supported(version: &str) -> bool {
    let Some((major, date)) = version.strip_prefix('v').and_then(|v| v.split_once('.')) else {
        return false;
    };
    matches!(major, "4" | "5" | "6" | "7" | "8" | "9")
        && date.len() == 8
        && date.bytes().all(|b| b.is_ascii_digit())
}

/// The problem of a failure to find or open the keypair's secret.
fn refused(err: ApiError) -> Problem {
    match err {
        ApiError::Engine(Error::AuthenticationRefused) => {
            Problem::auth_failed("Access key not found, inactive, or its user is deactivated")
        }
        // no master key, or a keypair made before one: the message says which
        ApiError::Engine(Error::Conflict(msg)) => Problem::auth_failed(msg),
        other => Problem::from(other),
    }
}

impl FromRequestParts<Arc<App>> for Signer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Answer<Signer> {
        let headers = &parts.headers;
        let date = header(headers, "date")?
            .or(header(headers, "x-backendai-date")?)
            .ok_or_else(|| Problem::invalid_auth("Date/time sync error: no Date header"))?;
        let parsed =
            signature::parse_date(date).map_err(|e| Problem::invalid_auth(e.to_string()))?;
        let skew = parsed.with_timezone(&chrono::Utc) - utc_now();
        if skew.abs() > MAX_SKEW {
            return Err(Problem::invalid_auth(format!(
                "Date/time sync error: the request's Date is {} s from the server's clock (at most {} s)",
                skew.num_seconds(),
                MAX_SKEW.num_seconds()
            )));
        }
        let authorization = header(headers, header::AUTHORIZATION.as_str())?.ok_or_else(|| {
            Problem::auth_failed("Unauthorized access: the request is not signed")
        })?;
        let credential = signature::parse_authorization(authorization)
            .map_err(|e| Problem::invalid_auth(e.to_string()))?;
        let access_key = credential.access_key.clone();
        let (user, secret) = app
            .blocking(move |app| {
                let (keypair, secret) = app.engine.signing_secret(&access_key)?;
                Ok((keypair.user, secret))
            })
            .await
            .map_err(refused)?;
        let target = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |p| p.as_str());
        let version = header(headers, "x-backendai-version")?;
        let request = Signed {
            method: parts.method.as_str(),
            target,
            date,
            host: header(headers, header::HOST.as_str())?.unwrap_or_default(),
            content_type: header(headers, header::CONTENT_TYPE.as_str())?
                .unwrap_or("application/octet-stream"),
            version: version.unwrap_or_default(),
        };
        signature::verify(&request, &credential, secret.expose().as_bytes(), utc_now()).map_err(
            |err| match err {
                ApiError::BadRequest(msg) => Problem::invalid_auth(msg),
                _ => Problem::auth_failed("HMAC signature mismatch"),
            },
        )?;
        match version {
            None => Err(Problem::bad_request(
                "API version missing in request headers",
            )),
            Some(version) if !supported(version) => {
                Err(Problem::bad_request("Unsupported API version."))
            }
            Some(_) => Ok(Signer(user)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule B1: the versions the client may send are accepted, others refused.
    #[test]
    fn api_versions() {
        for ok in ["v9.20250722", "v4.20190315", "v8.20240915"] {
            assert!(supported(ok), "{ok}");
        }
        for bad in [
            "",
            "v9",
            "v3.20170615",
            "9.20250722",
            "v9.2025",
            "v10.20300101",
        ] {
            assert!(!supported(bad), "{bad}");
        }
    }
}
