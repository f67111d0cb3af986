//! Backend.AI's request signing (issue 20, DESIGN rule B1), verified as the manager does:
//! what the published `backend.ai-client` sends, checked in the manager's order.
//!
//! A signed request carries `Authorization: BackendAI signMethod=HMAC-SHA256,
//! credential=ACCESS_KEY:SIGNATURE`. The signature is `HMAC(k2, string_to_sign)` in hex,
//! where `k1 = HMAC(secret, yyyymmdd of the Date)`, `k2 = HMAC(k1, host)`, and the string
//! to sign is, joined by `\n`: the method, the raw request target (path and query as
//! sent), the `Date` header as sent, `host:HOST`, `content-type:MEDIA TYPE`,
//! `x-backendai-version:VERSION`, and the hash of the empty string (the body is not
//! signed). The `Date` must be within [`MAX_SKEW`] of the server's clock.
//!
//! Nothing here reads a clock or a store: [`verify`] takes the time and the secret as
//! arguments, so the whole check is a pure function, tested on the client's own vectors.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::error::{ApiError, Result};

/// How far a request's `Date` may be from the server's clock (the manager's 15 minutes).
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(15);

/// The hash a request is signed with (`signMethod=HMAC-<HASH>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignHash {
    /// SHA-256, the client's default.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// A parsed `Authorization: BackendAI ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The hash named by `signMethod`.
    pub hash: SignHash,
    /// The access key (`credential=` before the first `:`).
    pub access_key: String,
    /// The signature, lowercase hex (after the first `:`).
    pub signature: String,
}

/// What a request's signature covers, each as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The method (any case; signed upper-case).
    pub method: &'a str,
    /// The raw request target: the path and, after `?`, the query, undecoded.
    pub target: &'a str,
    /// The `Date` header (or `X-BackendAI-Date`), verbatim.
    pub date: &'a str,
    /// The `Host` header, verbatim.
    pub host: &'a str,
    /// The `Content-Type` header, verbatim (its parameters are not signed).
    pub content_type: &'a str,
    /// The `X-BackendAI-Version` header.
    pub version: &'a str,
}

/// Parses the `Authorization` header: type `BackendAI` (or the legacy `Sorna`), then
/// comma-separated `key=value` parameters with `signMethod` and `credential`. A malformed
/// header is a 400 (`invalid-auth-params`).
pub fn parse_authorization(header: &str) -> Result<Credential> {
    let malformed =
        |what: &str| ApiError::BadRequest(format!("malformed authorization header: {what}"));
    let (kind, params) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| malformed("no parameters after the type"))?;
    if kind != "BackendAI" && kind != "Sorna" {
        return Err(ApiError::BadRequest(format!(
            "invalid authorization type name `{}`",
            clip(kind)
        )));
    }
    let mut method = None;
    let mut credential = None;
    for param in params.split(',') {
        let Some((key, value)) = param.split_once('=') else {
            return Err(malformed("a parameter without `=`"));
        };
        match key.trim() {
            "signMethod" => method = Some(value.trim()),
            "credential" => credential = Some(value.trim()),
            _ => {}
        }
    }
    let (Some(method), Some(credential)) = (method, credential) else {
        return Err(ApiError::BadRequest(
            "missing or malformed authorization parameters: `signMethod` and `credential` are required".to_owned(),
        ));
    };
    let hash = match method.split_once('-') {
        Some((mac, hash)) if mac.eq_ignore_ascii_case("hmac") => {
            match hash.to_ascii_lowercase().as_str() {
                "sha256" => SignHash::Sha256,
                "sha512" => SignHash::Sha512,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "unsupported signMethod `{}`: use HMAC-SHA256 or HMAC-SHA512",
                        clip(method)
                    )));
                }
            }
        }
        _ => {
            return Err(ApiError::BadRequest(format!(
                "unsupported signMethod `{}`: use HMAC-SHA256 or HMAC-SHA512",
                clip(method)
            )));
        }
    };
    let Some((access_key, signature)) = credential.split_once(':') else {
        return Err(malformed("`credential` is not ACCESS_KEY:SIGNATURE"));
    };
    if access_key.is_empty() || signature.is_empty() {
        return Err(malformed(
            "`credential` has an empty access key or signature",
        ));
    }
    Ok(Credential {
        hash,
        access_key: access_key.to_owned(),
        signature: signature.to_ascii_lowercase(),
    })
}

/// Parses a `Date` header as the manager does: ISO 8601 (what the client sends,
/// `2026-01-02T03:04:05.678901+00:00`; without an offset it is UTC) or RFC 822/1123.
pub fn parse_date(value: &str) -> Result<DateTime<FixedOffset>> {
    let value = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(value) {
        return Ok(date);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(date) = DateTime::parse_from_str(value, format) {
            return Ok(date);
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(naive.and_utc().fixed_offset());
        }
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Ok(date);
    }
    Err(ApiError::BadRequest(format!(
        "date/time sync error: the Date header `{}` is not a date",
        clip(value)
    )))
}

/// The string the client signs for `request`.
pub fn string_to_sign(request: &Signed<'_>) -> String {
    let media_type = request
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let empty_hash = hex(&Sha256::digest(b""));
    format!(
        "{}\n{}\n{}\nhost:{}\ncontent-type:{}\nx-backendai-version:{}\n{}",
        request.method.to_ascii_uppercase(),
        request.target,
        request.date,
        request.host,
        media_type,
        request.version,
        empty_hash
    )
}

/// The signature of `request` with `secret`, its `Date` parsed as `date`, in lowercase hex.
pub fn signature(
    secret: &[u8],
    date: &DateTime<FixedOffset>,
    request: &Signed<'_>,
    hash: SignHash,
) -> String {
    let day = date.format("%Y%m%d").to_string();
    let text = string_to_sign(request);
    match hash {
        SignHash::Sha256 => {
            let k1 = mac::<Hmac<Sha256>>(secret, day.as_bytes());
            let k2 = mac::<Hmac<Sha256>>(&k1, request.host.as_bytes());
            hex(&mac::<Hmac<Sha256>>(&k2, text.as_bytes()))
        }
        SignHash::Sha512 => {
            let k1 = mac::<Hmac<Sha512>>(secret, day.as_bytes());
            let k2 = mac::<Hmac<Sha512>>(&k1, request.host.as_bytes());
            hex(&mac::<Hmac<Sha512>>(&k2, text.as_bytes()))
        }
    }
}

/// Checks `request`, signed as `credential` says, against `secret` at time `now`: the Date
/// parses and is within [`MAX_SKEW`] (else 400), and the signature matches (else 401,
/// compared in constant time).
pub fn verify(
    request: &Signed<'_>,
    credential: &Credential,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    let date = parse_date(request.date)?;
    let skew = date.with_timezone(&Utc) - now;
    if skew.abs() > MAX_SKEW {
        return Err(ApiError::BadRequest(format!(
            "date/time sync error: the request's Date is {} s from the server's clock (at most {} s)",
            skew.num_seconds(),
            MAX_SKEW.num_seconds()
        )));
    }
    let expected = signature(secret, &date, request, credential.hash);
    if constant_time_eq(expected.as_bytes(), credential.signature.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated("signature mismatch".to_owned()))
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// At most 80 characters of input, for a message.
fn clip(input: &str) -> String {
    input.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const HOST: &str = "127.0.0.1:8090";
    const VERSION: &str = "v9.20250722";
    const DATE: &str = "2026-01-02T03:04:05.678901+00:00";

    fn request<'a>(method: &'a str, target: &'a str, content_type: &'a str) -> Signed<'a> {
        Signed {
            method,
            target,
            date: DATE,
            host: HOST,
            content_type,
            version: VERSION,
        }
    }

    fn now() -> DateTime<Utc> {
        parse_date(DATE).unwrap().with_timezone(&Utc)
    }

    // rule B1: the client's own signatures (backend.ai-client 26.9.6's generate_signature)
    #[test]
    fn the_clients_vectors_verify_b1() {
        let vectors = [
            (
                "POST",
                "/folders",
                "application/json",
                "6b190e54616a9e36ce0cef96fa15c05af577ba64e3f71fd5813f140aaff46443",
            ),
            (
                "GET",
                "/folders/invitations/list",
                "text/plain",
                "67347c3b635cecd71b650f3293ec581bb178cde9caae0bc9a86a1639bbb268fb",
            ),
            (
                "GET",
                "/folders/_/shared?vfolder_id=11111111-2222-3333-4444-555555555555",
                "text/plain",
                "521ff6d5986f87b0770f6479e98a6ae91c0d5c2b38c68589ad8426f2129b98d6",
            ),
            (
                "POST",
                "/folders/72fbb38a9df5411f8fe1ddb387c133e6/invite",
                "application/json",
                "822420785f8e4417780fb5dff4ba09e569f04132f8d1da17cf695364f3d72d7e",
            ),
        ];
        for (method, target, content_type, want) in vectors {
            let req = request(method, target, content_type);
            let date = parse_date(DATE).unwrap();
            assert_eq!(
                signature(SK.as_bytes(), &date, &req, SignHash::Sha256),
                want,
                "{method} {target}"
            );
            let header = format!("BackendAI signMethod=HMAC-SHA256, credential={AK}:{want}");
            let credential = parse_authorization(&header).unwrap();
            assert_eq!(credential.access_key, AK);
            verify(&req, &credential, SK.as_bytes(), now()).unwrap();
            // a content type's parameters are not signed
            let with_charset = format!("{content_type}; charset=utf-8");
            verify(
                &request(method, target, &with_charset),
                &credential,
                SK.as_bytes(),
                now(),
            )
            .unwrap();
        }
    }

    // rule B1: a wrong secret, path, query, host, version or method is a 401
    #[test]
    fn anything_else_signed_differently_is_refused_b1() {
        let good = request(
            "GET",
            "/folders/_/shared?vfolder_id=11111111-2222-3333-4444-555555555555",
            "text/plain",
        );
        let header = "BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:521ff6d5986f87b0770f6479e98a6ae91c0d5c2b38c68589ad8426f2129b98d6";
        let credential = parse_authorization(header).unwrap();
        verify(&good, &credential, SK.as_bytes(), now()).unwrap();
        let changed = [
            Signed {
                method: "POST",
                ..good
            },
            Signed {
                target: "/folders/_/shared",
                ..good
            },
            Signed {
                target: "/folders/_/shared?vfolder_id=11111111-2222-3333-4444-555555555556",
                ..good
            },
            Signed {
                host: "127.0.0.1:8091",
                ..good
            },
            Signed {
                version: "v8.20240915",
                ..good
            },
            Signed {
                content_type: "application/json",
                ..good
            },
        ];
        for req in changed {
            let err = verify(&req, &credential, SK.as_bytes(), now()).unwrap_err();
            assert!(
                matches!(err, ApiError::Unauthenticated(_)),
                "{req:?}: {err}"
            );
        }
        let err = verify(&good, &credential, b"another secret", now()).unwrap_err();
        assert!(matches!(err, ApiError::Unauthenticated(_)), "{err}");
    }

    // rule B1: the Date within 15 minutes either way, else a 400
    #[test]
    fn a_skewed_date_is_refused_b1() {
        let req = request("POST", "/folders", "application/json");
        let credential = parse_authorization(
            "BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:6b190e54616a9e36ce0cef96fa15c05af577ba64e3f71fd5813f140aaff46443",
        )
        .unwrap();
        for minutes in [-15, -1, 0, 14, 15] {
            let at = now() + TimeDelta::minutes(minutes);
            verify(&req, &credential, SK.as_bytes(), at).unwrap();
        }
        for minutes in [-16, 16, 60 * 24] {
            let at = now() + TimeDelta::minutes(minutes);
            let err = verify(&req, &credential, SK.as_bytes(), at).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{minutes}: {err}");
            assert!(err.to_string().contains("date/time sync error"), "{err}");
        }
    }

    #[test]
    fn dates_parse_as_the_manager_parses_them() {
        let utc = |text: &str| parse_date(text).unwrap().with_timezone(&Utc).to_rfc3339();
        assert_eq!(
            utc("2026-01-02T03:04:05.678901+00:00"),
            "2026-01-02T03:04:05.678901+00:00"
        );
        assert_eq!(
            utc("2026-01-02T05:04:05+02:00"),
            "2026-01-02T03:04:05+00:00"
        );
        assert_eq!(
            utc("2026-01-02T03:04:05.5"),
            "2026-01-02T03:04:05.500+00:00"
        );
        assert_eq!(
            utc("Fri, 02 Jan 2026 03:04:05 GMT"),
            "2026-01-02T03:04:05+00:00"
        );
        for bad in ["", "yesterday", "2026-13-02T03:04:05Z", "02/01/2026"] {
            let err = parse_date(bad).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{bad}: {err}");
        }
        // the key is derived from the date in its own offset, as the server does
        let late = parse_date("2026-01-02T23:30:00-05:00").unwrap();
        assert_eq!(late.format("%Y%m%d").to_string(), "20260102");
    }

    #[test]
    fn malformed_authorization_headers_are_400s() {
        for bad in [
            "",
            "BackendAI",
            "Bearer signMethod=HMAC-SHA256, credential=a:b",
            "BackendAI signMethod=HMAC-SHA256",
            "BackendAI credential=a:b",
            "BackendAI signMethod=HMAC-SHA256, credential=ab",
            "BackendAI signMethod=HMAC-SHA256, credential=:b",
            "BackendAI signMethod=HMAC-MD5, credential=a:b",
            "BackendAI signMethod=RSA-SHA256, credential=a:b",
            "BackendAI signMethod HMAC-SHA256",
        ] {
            let err = parse_authorization(bad).unwrap_err();
            assert!(matches!(err, ApiError::BadRequest(_)), "{bad:?}: {err}");
        }
        let legacy =
            parse_authorization("Sorna signMethod=hmac-sha512 , credential = k:ABCD").unwrap();
        assert_eq!(
            legacy,
            Credential {
                hash: SignHash::Sha512,
                access_key: "k".to_owned(),
                signature: "abcd".to_owned()
            }
        );
    }
}
