//! Authentication (rule S2): HS256 JWTs carrying the identity a request acts as.

use std::collections::HashSet;
use std::fmt;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use acl_core::PrincipalName;

use crate::error::ApiError;

/// The least length of an HS256 secret: the key must be as long as the hash's output, 256
/// bits (RFC 7518, section 3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// The Neu.ro platform's identity claim, read when there is no `identity` claim (S2).
pub const NEURO_IDENTITY_CLAIM: &str = "https://platform.neuromation.io/user";

/// Why a secret cannot sign tokens.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is shorter than [`MIN_SECRET_BYTES`] (surrounding whitespace trimmed).
    #[error(
        "the JWT secret is {0} bytes long: an HS256 secret needs at least {MIN_SECRET_BYTES} bytes"
    )]
    TooShort(usize),
}

/// The HS256 key that verifies (and mints) tokens. Its `Debug` form hides the secret, so
/// it can never reach a log (rule S8).
#[derive(Clone)]
pub struct JwtKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(<secret>)")
    }
}

/// The claims a token may carry; the identity is the first present of `identity`, the
/// Neu.ro claim and `sub` (rule S2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<String>,
    #[serde(
        default,
        rename = "https://platform.neuromation.io/user",
        skip_serializing_if = "Option::is_none"
    )]
    neuro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
    /// The URI a token was minted for (Neu.ro's `token://`, rule N1): the token works only
    /// while its identity can read that URI.
    #[serde(
        default,
        rename = "https://platform.neuromation.io/token_uri",
        skip_serializing_if = "Option::is_none"
    )]
    token_uri: Option<String>,
}

/// What a verified token says: who the request acts as and, for a token minted for a
/// URI, that URI (the token works only while the identity can read it, rule N1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The identity (rule S2).
    pub identity: PrincipalName,
    /// The URI the token was minted for, if any.
    pub token_uri: Option<String>,
}

impl JwtKey {
    /// The key of `secret` (leading and trailing whitespace of a secret file is not part
    /// of it). A secret shorter than [`MIN_SECRET_BYTES`] is refused.
    pub fn new(secret: &[u8]) -> Result<JwtKey, KeyError> {
        let secret = secret.trim_ascii();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` is honoured when present, not required (S2); audiences are not ours to judge.
        validation.required_spec_claims = HashSet::new();
        validation.validate_exp = true;
        validation.validate_aud = false;
        Ok(JwtKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// A token for `identity`, issued at `now` (seconds since the Unix epoch), expiring
    /// `ttl_secs` later when given.
    pub fn mint(
        &self,
        identity: &PrincipalName,
        now: u64,
        ttl_secs: Option<u64>,
    ) -> Result<String, ApiError> {
        self.mint_for(identity, now, ttl_secs, None)
    }

    /// A token for `identity` as [`JwtKey::mint`], bound to `token_uri` when given: such a
    /// token is refused (401) once the identity can no longer read that URI (rule N1).
    pub fn mint_for(
        &self,
        identity: &PrincipalName,
        now: u64,
        ttl_secs: Option<u64>,
        token_uri: Option<&str>,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            identity: Some(identity.to_string()),
            sub: Some(identity.to_string()),
            iat: Some(now),
            exp: ttl_secs.map(|ttl| now.saturating_add(ttl)),
            token_uri: token_uri.map(str::to_owned),
            ..Claims::default()
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| ApiError::Unavailable(format!("cannot sign a token: {err}")))
    }

    /// Signs `claims` as an HS256 token with this key: the file-access tickets of the
    /// Backend.AI API (rule B1). Such claims name no identity, so [`JwtKey::verify`]
    /// never takes a ticket for an API token.
    pub(crate) fn sign_claims<T: serde::Serialize>(&self, claims: &T) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|err| ApiError::Unavailable(format!("cannot sign a ticket: {err}")))
    }

    /// The identity of a verified token: signature, algorithm and `exp` checked. Every
    /// failure is [`ApiError::Unauthenticated`] naming the problem, never the token.
    pub fn identity(&self, token: &str) -> Result<PrincipalName, ApiError> {
        self.verify(token).map(|verified| verified.identity)
    }

    /// The identity of a verified token and the URI it was minted for, if any: signature,
    /// algorithm and `exp` checked, as [`JwtKey::identity`].
    pub fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| ApiError::Unauthenticated(describe(err.kind()).to_owned()))?;
        let claims = data.claims;
        let identity = claims
            .identity
            .or(claims.neuro)
            .or(claims.sub)
            .ok_or_else(|| {
                ApiError::Unauthenticated(format!(
                    "the token names no identity: it has no `identity`, `{NEURO_IDENTITY_CLAIM}` \
                     or `sub` claim"
                ))
            })?;
        let identity = PrincipalName::new(&identity).map_err(|err| {
            ApiError::Unauthenticated(format!("the token's identity is not a principal: {err}"))
        })?;
        Ok(Verified {
            identity,
            token_uri: claims.token_uri,
        })
    }
}

/// A token failure in words, without the token.
fn describe(kind: &JwtErrorKind) -> &'static str {
    match kind {
        JwtErrorKind::ExpiredSignature => "the token has expired",
        JwtErrorKind::InvalidSignature => "the token's signature is wrong",
        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::InvalidAlgorithmName => {
            "the token is not signed with HS256"
        }
        JwtErrorKind::ImmatureSignature => "the token is not valid yet",
        JwtErrorKind::Json(_) => "the token's claims are not the expected JSON",
        _ => "the token is malformed",
    }
}

/// The token of an `Authorization` header value: `Bearer <token>`.
pub fn bearer(header: Option<&str>) -> Result<&str, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::Unauthenticated("no `Authorization: Bearer <token>` header".into())
    })?;
    let (scheme, token) = header.split_once(' ').ok_or_else(|| {
        ApiError::Unauthenticated("the Authorization header is not `Bearer <token>`".into())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthenticated(
            "the Authorization header is not `Bearer <token>`".into(),
        ));
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    // rule S2: the identity claim, else the Neu.ro claim, else `sub`
    #[test]
    fn identity_claims_in_order() {
        let key = JwtKey::new(SECRET).unwrap();
        let cases = [
            (
                serde_json::json!({"identity": "a", NEURO_IDENTITY_CLAIM: "b", "sub": "c"}),
                "a",
            ),
            (
                serde_json::json!({NEURO_IDENTITY_CLAIM: "b", "sub": "c"}),
                "b",
            ),
            (serde_json::json!({"sub": "c"}), "c"),
        ];
        for (claims, want) in cases {
            assert_eq!(key.identity(&sign(&claims, SECRET)).unwrap().as_str(), want);
        }
        let none = key.identity(&sign(&serde_json::json!({"x": 1}), SECRET));
        assert!(matches!(none, Err(ApiError::Unauthenticated(_))));
    }

    // rule S2: wrong signature, expired, malformed: all unauthenticated, none naming the token
    #[test]
    fn bad_tokens_are_refused() {
        let key = JwtKey::new(SECRET).unwrap();
        let wrong = sign(
            &serde_json::json!({"sub": "a"}),
            b"another secret of 32 bytes or more",
        );
        let expired = sign(&serde_json::json!({"sub": "a", "exp": 1_000_000}), SECRET);
        for (token, message) in [
            (wrong.as_str(), "the token's signature is wrong"),
            (expired.as_str(), "the token has expired"),
            ("not.a.token", "the token is malformed"),
        ] {
            let err = key.identity(token).unwrap_err();
            assert_eq!(err.to_string(), message);
            assert!(!err.to_string().contains(token));
        }
    }

    #[test]
    fn minted_tokens_verify_and_short_secrets_are_refused() {
        let key = JwtKey::new(SECRET).unwrap();
        let alice = PrincipalName::new("alice").unwrap();
        let token = key.mint(&alice, 4_000_000_000, None).unwrap();
        assert_eq!(key.identity(&token).unwrap(), alice);
        assert_eq!(
            JwtKey::new(b"  short \n").unwrap_err(),
            KeyError::TooShort(5)
        );
        assert!(format!("{key:?}").contains("<secret>"));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer abc")).unwrap(), "abc");
        for bad in [None, Some("abc"), Some("Basic abc"), Some("Bearer  ")] {
            assert!(matches!(bearer(bad), Err(ApiError::Unauthenticated(_))));
        }
    }
}
