//! URI parsing and resolution (rules U1 to U4). Property: `Uri::parse_form`, `Uri::parse`,
//! `Uri::parse_in` and `Schema::uri` never panic on any text; an accepted URI is canonical
//! (re-parsing its text gives it back, absolute form), within the limits of rule U3
//! (at most 2048 bytes, segments of 1 to 255 bytes, none `.` or `..`, no control character,
//! no query, fragment, userinfo or port), and its ancestry is consistent (rule U4): every
//! ancestor contains it by whole segments, its parent's child by its last segment is itself,
//! its strict descendants fall inside `descendant_bounds`, and a sibling sharing its text as
//! a prefix is not a descendant.
#![no_main]

use acl_core::{ClusterName, MAX_SEGMENT_BYTES, MAX_URI_BYTES, PrincipalName, Schema, Uri, UriContext, UriForm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (Ok(cluster), Ok(user)) = (ClusterName::new("c"), PrincipalName::new("alice")) else {
        return;
    };
    let context = UriContext { cluster, user };
    let schema = Schema::standard();

    let bare = Uri::parse_form(text, None);
    let resolved = Uri::parse_form(text, Some(&context));
    // Without a context only absolute forms are accepted, and they mean the same thing
    // with one.
    if let Ok((uri, form)) = &bare {
        assert_eq!(*form, UriForm::Absolute);
        match &resolved {
            Ok((with, with_form)) => {
                assert_eq!(with, uri);
                assert_eq!(with_form, form);
            }
            Err(e) => panic!("{text:?} parses without a context but not with one: {e}"),
        }
    }
    assert_eq!(Uri::parse(text).ok(), bare.as_ref().ok().map(|(u, _)| u.clone()));
    assert_eq!(
        Uri::parse_in(text, &context).ok(),
        resolved.as_ref().ok().map(|(u, _)| u.clone())
    );
    // The schema accepts exactly the parsed URIs of a known scheme (plus form rules).
    if let Ok(uri) = schema.uri(text, Some(&context)) {
        assert!(schema.scheme(uri.scheme()).is_some());
        assert_eq!(resolved.as_ref().ok().map(|(u, _)| u), Some(&uri));
    }
    if let Ok((uri, _)) = &resolved {
        invariants(uri);
    }
});

fn invariants(uri: &Uri) {
    let text = uri.as_str();
    // canonical: its own text parses back to it, in absolute form
    match Uri::parse_form(text, None) {
        Ok((again, form)) => {
            assert_eq!(&again, uri);
            assert_eq!(form, UriForm::Absolute);
        }
        Err(e) => panic!("canonical text {text:?} does not parse: {e}"),
    }
    assert_eq!(uri.to_string(), text);
    assert_eq!(text.parse::<Uri>().ok().as_ref(), Some(uri));
    // rule U3 limits
    assert!(text.len() <= MAX_URI_BYTES);
    assert!(!text.chars().any(char::is_control));
    assert!(!text.contains('?') && !text.contains('#'));
    assert_eq!(uri.scheme(), uri.scheme().to_ascii_lowercase());
    let segments: Vec<&str> = uri.segments().collect();
    assert_eq!(segments.len(), uri.depth());
    for segment in &segments {
        assert!(!segment.is_empty() && segment.len() <= MAX_SEGMENT_BYTES);
        assert!(*segment != "." && *segment != "..");
    }
    if let Some(authority) = segments.first() {
        assert!(!authority.contains('@') && !authority.contains(':'));
    }
    assert_eq!(uri.is_root(), segments.is_empty());
    assert_eq!(uri.last_segment(), segments.last().copied());
    // rule U4: ancestry by whole segments
    let chain = uri.ancestors_and_self();
    assert_eq!(chain.len(), uri.depth() + 1);
    assert_eq!(chain.first(), Some(uri));
    assert_eq!(chain.last(), Some(&uri.scheme_root()));
    for (i, ancestor) in chain.iter().enumerate() {
        assert_eq!(ancestor.depth(), uri.depth() - i);
        assert!(ancestor.contains(uri));
        assert_eq!(ancestor.is_ancestor_of(uri), i > 0);
        assert!(!uri.is_ancestor_of(ancestor));
    }
    if let (Some(parent), Some(last)) = (uri.parent(), uri.last_segment()) {
        assert_eq!(parent.child(last).ok().as_ref(), Some(uri));
        let (lo, hi) = parent.descendant_bounds();
        assert!(lo.as_str() <= text && text < hi.as_str(), "{text} outside {lo}..{hi}");
    }
    // a longer last segment is a sibling, never a descendant
    if !uri.is_root()
        && let Ok(sibling) = Uri::parse(&format!("{text}x"))
    {
        assert!(!uri.is_ancestor_of(&sibling) && !sibling.is_ancestor_of(uri));
        assert_eq!(sibling.depth(), uri.depth());
    }
    if let Ok(child) = uri.child("x") {
        assert!(uri.is_ancestor_of(&child));
        assert_eq!(child.parent().as_ref(), Some(uri));
        let (lo, hi) = uri.descendant_bounds();
        assert!(lo.as_str() <= child.as_str() && child.as_str() < hi.as_str());
    }
    // role URIs name principals and back
    if let Some(name) = uri.role_name() {
        assert_eq!(&Uri::of_role(&name), uri);
    }
}
