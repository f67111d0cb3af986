//! Names and URIs as the Neu.ro clients send them: a `/` of a name travels as `:` in
//! paths, and URIs are always absolute (`scheme://authority/path`, or `scheme:` and
//! `scheme://` for a scheme root). Our short forms (rule U2) are a CLI convenience and are
//! refused here with the real server's text.

use acl_core::{PrincipalName, Schema, Uri};

use super::error::{NeuroError, Result};

/// The principal named by a path segment: `alice:roles:readers` is `alice/roles/readers`.
pub(crate) fn principal_from_path(segment: &str) -> Result<PrincipalName> {
    Ok(PrincipalName::new(&segment.replace(':', "/"))?)
}

/// Where a URI is parsed: a revoke words an unknown scheme differently (as the real
/// server does: `Malformed URI 'unknown:': Unknown resource type: unknown.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A grant, check, tree, listing or token.
    Use,
    /// A revoke.
    Revoke,
}

/// An absolute URI of the schema. `scheme:` and `scheme://` are the scheme root; a text
/// with a path but no `//authority` (`job:job-id`, `storage:/`, `storage:///`) is 400
/// `Malformed URI '...': authority is missing, but path part exists`; an unknown scheme
/// is 422 `Unknown resource type: X`; anything else rule U3 refuses is 400
/// `Malformed URI '...': PROBLEM`.
pub(crate) fn parse_uri(schema: &Schema, text: &str, purpose: Purpose) -> Result<Uri> {
    let Some((scheme, rest)) = text.split_once(':') else {
        return Err(NeuroError::malformed(text, "the scheme is missing"));
    };
    let known = schema.scheme(&scheme.to_ascii_lowercase()).is_some();
    if !known && !scheme.is_empty() {
        return Err(match purpose {
            Purpose::Use => NeuroError::unknown_scheme(scheme),
            Purpose::Revoke => NeuroError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "Malformed URI '{}': Unknown resource type: {}.",
                    acl_core::clip(text),
                    acl_core::clip(scheme)
                ),
            ),
        });
    }
    let absolute = match rest.strip_prefix("//") {
        Some("") => true,
        Some(after) => !after.starts_with('/'),
        None => rest.is_empty(),
    };
    if !absolute {
        return Err(NeuroError::malformed(
            text,
            "authority is missing, but path part exists",
        ));
    }
    Ok(schema.uri(text, None)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // rule N1: the `:` of a path is the `/` of a name
    #[test]
    fn colons_in_paths_are_slashes() {
        assert_eq!(
            principal_from_path("alice:roles:readers").unwrap().as_str(),
            "alice/roles/readers"
        );
        assert_eq!(principal_from_path("bob").unwrap().as_str(), "bob");
        assert_eq!(
            principal_from_path("a::b").unwrap_err().status.as_u16(),
            400
        );
    }

    // rule N1: absolute URIs only, with the real server's texts
    #[test]
    fn only_absolute_uris() {
        let schema = Schema::standard();
        for (text, canonical) in [
            ("storage:", "storage://"),
            ("storage://", "storage://"),
            ("storage://c/u/x/", "storage://c/u/x"),
            ("job://c/u/j", "job://c/u/j"),
        ] {
            assert_eq!(
                parse_uri(&schema, text, Purpose::Use).unwrap().as_str(),
                canonical
            );
        }
        for text in ["job:job-id", "storage:/", "storage:///", "storage:///x"] {
            let err = parse_uri(&schema, text, Purpose::Use).unwrap_err();
            assert_eq!(err.status.as_u16(), 400);
            assert_eq!(
                err.text,
                format!("Malformed URI '{text}': authority is missing, but path part exists")
            );
        }
        let err = parse_uri(&schema, "unknown://c/x", Purpose::Use).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.text.as_str()),
            (422, "Unknown resource type: unknown")
        );
        let err = parse_uri(&schema, "unknown:", Purpose::Revoke).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.text.as_str()),
            (
                422,
                "Malformed URI 'unknown:': Unknown resource type: unknown."
            )
        );
        let err = parse_uri(&schema, "storage://c/a//b", Purpose::Use).unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert!(err.text.starts_with("Malformed URI 'storage://c/a//b': "));
    }
}
