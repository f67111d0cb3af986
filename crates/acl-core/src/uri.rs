//! Entity URIs (rules U1 to U4).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, UriProblem};
use crate::name::{ClusterName, PrincipalName};
use crate::text::clip;

/// Longest URI, in bytes (rule U3).
pub const MAX_URI_BYTES: usize = 2048;
/// Longest URI segment, in bytes (rule U3).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// A validated entity URI in canonical form: `scheme://authority/seg/.../seg`, or
/// `scheme://` for the scheme root (rule U1).
///
/// The canonical text has a lowercase scheme, no trailing `/`, and only the segments the
/// rules allow (rule U3). Ancestry is by whole segments (rule U4): `storage://c/u` contains
/// `storage://c/u/x` but not `storage://c/ux`. Equality, order and hashing are those of the
/// canonical text, so a `HashMap<Uri, _>` can be probed with a `&str`.
///
/// ```
/// use acl_core::Uri;
/// let uri = Uri::parse("storage://prod/alice/data/").unwrap();
/// assert_eq!(uri.as_str(), "storage://prod/alice/data");
/// let parent = Uri::parse("storage://prod/alice").unwrap();
/// assert!(parent.is_ancestor_of(&uri));
/// assert!(!Uri::parse("storage://prod/ali").unwrap().is_ancestor_of(&uri));
/// ```
#[derive(Clone)]
pub struct Uri {
    text: String,
    /// Byte length of the scheme (the text before `://`).
    scheme_len: usize,
}

/// What a short-form URI is resolved against (rule U2): `scheme:a/b` becomes
/// `scheme://{cluster}/{user}/a/b` and `scheme:/a` becomes `scheme://{cluster}/a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriContext {
    /// The cluster, authority of every short form.
    pub cluster: ClusterName,
    /// The user whose home a relative short form lies in.
    pub user: PrincipalName,
}

/// Which form a URI was written in, so the schema can refuse short forms for schemes that
/// need the absolute one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriForm {
    /// `scheme://...`, or a bare `scheme:` naming the root.
    Absolute,
    /// `scheme:a/b` or `scheme:/a`, resolved against a [`UriContext`].
    Short,
}

impl Uri {
    /// Parses an absolute URI (`scheme://...`) or a scheme root (`scheme:`). Short forms
    /// are refused with [`UriProblem::NeedsContext`]; use [`Uri::parse_in`] for them.
    /// The scheme is not checked against any schema here: see `Schema::uri`.
    pub fn parse(text: &str) -> Result<Uri, Error> {
        Uri::parse_form(text, None).map(|(uri, _)| uri)
    }

    /// Parses a URI, resolving short forms against `context` (rule U2).
    pub fn parse_in(text: &str, context: &UriContext) -> Result<Uri, Error> {
        Uri::parse_form(text, Some(context)).map(|(uri, _)| uri)
    }

    /// Parses a URI and says which form it was written in. Never panics (rule U3).
    pub fn parse_form(text: &str, context: Option<&UriContext>) -> Result<(Uri, UriForm), Error> {
        let fail = |problem| Error::InvalidUri {
            input: clip(text),
            problem,
        };
        if text.is_empty() {
            return Err(fail(UriProblem::Empty));
        }
        if text.len() > MAX_URI_BYTES {
            return Err(fail(UriProblem::TooLong));
        }
        if text.chars().any(char::is_control) {
            return Err(fail(UriProblem::ControlCharacter));
        }
        if text.contains('?') {
            return Err(fail(UriProblem::Query));
        }
        if text.contains('#') {
            return Err(fail(UriProblem::Fragment));
        }
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| fail(UriProblem::MissingScheme))?;
        if !valid_scheme(scheme) {
            return Err(fail(UriProblem::BadScheme));
        }
        let scheme = scheme.to_ascii_lowercase();

        // Split into (authority + path segments), resolving short forms.
        let (prefix, path, form): (Vec<&str>, &str, UriForm) =
            if let Some(body) = rest.strip_prefix("//") {
                (Vec::new(), body, UriForm::Absolute)
            } else if rest.is_empty() {
                (Vec::new(), "", UriForm::Absolute)
            } else {
                let ctx = context.ok_or_else(|| fail(UriProblem::NeedsContext))?;
                if let Some(from_cluster) = rest.strip_prefix('/') {
                    (vec![ctx.cluster.as_str()], from_cluster, UriForm::Short)
                } else {
                    (
                        vec![ctx.cluster.as_str(), ctx.user.as_str()],
                        rest,
                        UriForm::Short,
                    )
                }
            };
        // rule U3: a trailing `/` is ignored
        let path = path.strip_suffix('/').unwrap_or(path);

        let mut canonical = String::with_capacity(scheme.len() + 3 + text.len());
        canonical.push_str(&scheme);
        canonical.push_str("://");
        let mut first = true;
        let path_segments = if path.is_empty() {
            None
        } else {
            Some(path.split('/'))
        };
        for segment in prefix
            .into_iter()
            .chain(path_segments.into_iter().flatten())
        {
            if segment.is_empty() {
                return Err(fail(UriProblem::EmptySegment));
            }
            if segment == "." || segment == ".." {
                return Err(fail(UriProblem::DotSegment));
            }
            if segment.len() > MAX_SEGMENT_BYTES {
                return Err(fail(UriProblem::SegmentTooLong));
            }
            if first {
                // The authority: no userinfo, no port.
                if segment.contains('@') {
                    return Err(fail(UriProblem::Userinfo));
                }
                if segment.contains(':') {
                    return Err(fail(UriProblem::Port));
                }
            } else {
                canonical.push('/');
            }
            canonical.push_str(segment);
            first = false;
        }
        if canonical.len() > MAX_URI_BYTES {
            return Err(fail(UriProblem::TooLong));
        }
        Ok((
            Uri {
                scheme_len: scheme.len(),
                text: canonical,
            },
            form,
        ))
    }

    /// The root of `scheme` (`scheme://`), naming every entity of the scheme (rule U1).
    pub fn root(scheme: &str) -> Result<Uri, Error> {
        Uri::parse(&format!("{scheme}://"))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The scheme (lowercase).
    pub fn scheme(&self) -> &str {
        self.text.get(..self.scheme_len).unwrap_or_default()
    }

    /// The part after `scheme://`: authority and path, empty for the root.
    pub fn path(&self) -> &str {
        self.text.get(self.scheme_len + 3..).unwrap_or_default()
    }

    /// Whether this is the scheme root.
    pub fn is_root(&self) -> bool {
        self.path().is_empty()
    }

    /// The segments after `scheme://`, authority first; none for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        let path = self.path();
        path.split('/').filter(move |_| !path.is_empty())
    }

    /// How many segments the URI has (0 for the root).
    pub fn depth(&self) -> usize {
        if self.is_root() {
            0
        } else {
            self.path().bytes().filter(|b| *b == b'/').count() + 1
        }
    }

    /// The last segment, or `None` for the root.
    pub fn last_segment(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.path().rsplit('/').next()
        }
    }

    /// The parent URI, or `None` for the root.
    pub fn parent(&self) -> Option<Uri> {
        if self.is_root() {
            return None;
        }
        let path = self.path();
        let cut = match path.rfind('/') {
            Some(i) => self.scheme_len + 3 + i,
            None => self.scheme_len + 3,
        };
        Some(Uri {
            text: self.text.get(..cut)?.to_owned(),
            scheme_len: self.scheme_len,
        })
    }

    /// This URI and each of its ancestors, nearest first, ending with the scheme root.
    pub fn ancestors_and_self(&self) -> Vec<Uri> {
        let mut out = Vec::with_capacity(self.depth() + 1);
        let mut current = Some(self.clone());
        while let Some(uri) = current {
            current = uri.parent();
            out.push(uri);
        }
        out
    }

    /// Whether `self` is a strict ancestor of `other`, by whole segments (rule U4).
    pub fn is_ancestor_of(&self, other: &Uri) -> bool {
        if self.scheme() != other.scheme() || self.text.len() >= other.text.len() {
            return false;
        }
        if self.is_root() {
            return true;
        }
        other.text.starts_with(self.text.as_str())
            && other.text.as_bytes().get(self.text.len()) == Some(&b'/')
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn contains(&self, other: &Uri) -> bool {
        self == other || self.is_ancestor_of(other)
    }

    /// A child URI, one segment below this one.
    pub fn child(&self, segment: &str) -> Result<Uri, Error> {
        if self.is_root() {
            Uri::parse(&format!("{}{}", self.text, segment))
        } else {
            Uri::parse(&format!("{}/{}", self.text, segment))
        }
    }

    /// The root of this URI's scheme.
    pub fn scheme_root(&self) -> Uri {
        Uri {
            text: format!("{}://", self.scheme()),
            scheme_len: self.scheme_len,
        }
    }

    /// Bounds of the strict descendants of this URI in the canonical text order: every
    /// strict descendant `d` satisfies `lo <= d < hi` (and `d != self`, which matters for
    /// the root, whose text is its own `lo`), and every text in that range that starts with
    /// `lo` is one. Stores use these for index range scans.
    pub fn descendant_bounds(&self) -> (String, String) {
        let lo = if self.is_root() {
            self.text.clone()
        } else {
            format!("{}/", self.text)
        };
        // `lo` always ends with `/`; the next byte value after `/` is `0`.
        let mut hi = lo.clone();
        hi.pop();
        hi.push('0');
        (lo, hi)
    }

    /// For `role://R`, the principal R; `None` for other schemes, the root, or a path that
    /// is not a valid principal name.
    pub fn role_name(&self) -> Option<PrincipalName> {
        if self.scheme() != "role" || self.is_root() {
            return None;
        }
        PrincipalName::new(self.path()).ok()
    }

    /// A URI from text already in canonical form with its scheme's length, for the index,
    /// which builds texts only from segments that were canonical when stored.
    pub(crate) fn from_canonical(text: String, scheme_len: usize) -> Uri {
        Uri { text, scheme_len }
    }

    /// The URI `role://{name}` of a principal.
    pub fn of_role(name: &PrincipalName) -> Uri {
        Uri {
            text: format!("role://{name}"),
            scheme_len: 4,
        }
    }
}

fn valid_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uri({})", self.text)
    }
}

impl PartialEq for Uri {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Uri {}

impl PartialOrd for Uri {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Uri {
    fn cmp(&self, other: &Self) -> Ordering {
        self.text.cmp(&other.text)
    }
}

impl Hash for Uri {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl Borrow<str> for Uri {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for Uri {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for Uri {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uri::parse(s)
    }
}

impl Serialize for Uri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Uri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Uri::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> UriContext {
        UriContext {
            cluster: ClusterName::new("prod").unwrap_or_else(|e| panic!("{e}")),
            user: PrincipalName::new("alice").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn parsed(text: &str) -> Result<String, UriProblem> {
        match Uri::parse_in(text, &ctx()) {
            Ok(uri) => Ok(uri.as_str().to_owned()),
            Err(Error::InvalidUri { problem, .. }) => Err(problem),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    // rules U1, U2, U3: one table of inputs and their canonical form or problem
    #[test]
    fn parse_table() {
        use UriProblem::*;
        let table: &[(&str, Result<&str, UriProblem>)] = &[
            // U1: both spellings of the root
            ("storage:", Ok("storage://")),
            ("storage://", Ok("storage://")),
            ("STORAGE://prod/a", Ok("storage://prod/a")),
            ("storage://prod/alice/x", Ok("storage://prod/alice/x")),
            // U2: short forms
            ("storage:data/x", Ok("storage://prod/alice/data/x")),
            ("storage:/bob/x", Ok("storage://prod/bob/x")),
            ("job:job-0a6d3f81", Ok("job://prod/alice/job-0a6d3f81")),
            // U3: trailing slash ignored
            ("storage://prod/alice/", Ok("storage://prod/alice")),
            ("storage:data/", Ok("storage://prod/alice/data")),
            // U3: refusals
            ("", Err(Empty)),
            ("storage", Err(MissingScheme)),
            ("1st://x", Err(BadScheme)),
            ("st orage://x", Err(BadScheme)),
            (":x", Err(BadScheme)),
            ("storage://prod/a?x=1", Err(Query)),
            ("storage://prod/a#top", Err(Fragment)),
            ("storage://bob@prod/a", Err(Userinfo)),
            ("storage://prod:8080/a", Err(Port)),
            ("storage://prod//a", Err(EmptySegment)),
            ("storage:///a", Err(EmptySegment)),
            ("storage://prod/a//", Err(EmptySegment)),
            ("storage://prod/./a", Err(DotSegment)),
            ("storage://prod/a/..", Err(DotSegment)),
            ("storage:..", Err(DotSegment)),
            ("storage://prod/a\u{0}b", Err(ControlCharacter)),
            ("storage://prod/a\nb", Err(ControlCharacter)),
            ("storage://prod/a\u{85}b", Err(ControlCharacter)),
        ];
        for (text, want) in table {
            let got = parsed(text);
            assert_eq!(got.as_deref().map_err(|p| *p), *want, "{text:?}");
        }
    }

    // rule U3: length limits
    #[test]
    fn length_limits() {
        let seg255 = "s".repeat(255);
        assert!(parsed(&format!("storage://prod/{seg255}")).is_ok());
        assert_eq!(
            parsed(&format!("storage://prod/{seg255}x")),
            Err(UriProblem::SegmentTooLong)
        );
        // 2048 bytes accepted, 2049 refused
        let mut text = String::from("storage://prod");
        while text.len() + 11 <= 2048 {
            text.push_str("/abcdefghij");
        }
        while text.len() < 2048 {
            text.push('z');
        }
        assert_eq!(text.len(), 2048);
        assert!(parsed(&text).is_ok());
        text.push('z');
        assert_eq!(parsed(&text), Err(UriProblem::TooLong));
        // a short form that expands past the limit is refused too
        let short = format!(
            "storage:{}",
            "/abcdefghij".repeat(185).trim_start_matches('/')
        );
        assert!(short.len() <= 2048);
        assert_eq!(parsed(&short), Err(UriProblem::TooLong));
    }

    #[test]
    fn short_forms_need_context() {
        assert!(matches!(
            Uri::parse("storage:data"),
            Err(Error::InvalidUri {
                problem: UriProblem::NeedsContext,
                ..
            })
        ));
        assert_eq!(
            Uri::parse("storage:").map(|u| u.to_string()).ok(),
            Some("storage://".to_owned())
        );
    }

    // rule U4: ancestry by whole segments
    #[test]
    fn ancestry_by_segment() {
        let p = |t: &str| Uri::parse(t).unwrap_or_else(|e| panic!("{e}"));
        let home = p("storage://c/u");
        assert!(home.is_ancestor_of(&p("storage://c/u/x")));
        assert!(home.is_ancestor_of(&p("storage://c/u/x/y")));
        assert!(!home.is_ancestor_of(&p("storage://c/ux")));
        assert!(!home.is_ancestor_of(&home));
        assert!(home.contains(&home));
        assert!(!home.is_ancestor_of(&p("job://c/u/x")));
        assert!(p("storage://").is_ancestor_of(&home));
        assert!(!p("storage://").is_ancestor_of(&p("storagex://c")));
        let chain: Vec<String> = p("storage://c/u/x")
            .ancestors_and_self()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            chain,
            [
                "storage://c/u/x",
                "storage://c/u",
                "storage://c",
                "storage://"
            ]
        );
        assert_eq!(p("storage://c/u/x").depth(), 3);
        assert_eq!(p("storage://").depth(), 0);
        assert_eq!(p("storage://c/u/x").last_segment(), Some("x"));
    }

    #[test]
    fn descendant_bounds_cover_exactly_the_subtree() {
        let p = |t: &str| Uri::parse(t).unwrap_or_else(|e| panic!("{e}"));
        let (lo, hi) = p("storage://c/u").descendant_bounds();
        let inside = |t: &str| t >= lo.as_str() && t < hi.as_str();
        assert!(inside("storage://c/u/x"));
        assert!(inside("storage://c/u/x/y"));
        assert!(!inside("storage://c/u"));
        assert!(!inside("storage://c/ux"));
        assert!(!inside("storage://c/u-x"));
        let (lo, hi) = p("storage://").descendant_bounds();
        assert!("storage://c" >= lo.as_str() && "storage://c" < hi.as_str());
        assert!("storagex://c" >= hi.as_str());
    }

    #[test]
    fn role_names() {
        let p = |t: &str| Uri::parse(t).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p("role://alice/roles/x").role_name().map(|n| n.to_string()),
            Some("alice/roles/x".to_owned())
        );
        assert_eq!(p("role://").role_name(), None);
        assert_eq!(p("storage://alice").role_name(), None);
        assert_eq!(p("role://alice/a:b").role_name(), None);
    }
}
