//! Principal and cluster names (rule P1). Property: `PrincipalName::new` and
//! `ClusterName::new` never panic; an accepted name is 1 to 255 bytes of `/`-separated
//! segments of `[A-Za-z0-9_.-]`, none empty, `.` or `..` (a cluster name is one segment);
//! exactly the texts of that shape are accepted; a name round-trips through its text,
//! `FromStr` and its `role://` URI.
#![no_main]

use acl_core::{ClusterName, MAX_NAME_BYTES, PrincipalName, Uri};
use libfuzzer_sys::fuzz_target;

/// The shape of rule P1, written independently of the parser.
fn well_formed(text: &str, one_segment: bool) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME_BYTES
        && (!one_segment || !text.contains('/'))
        && text.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = PrincipalName::new(text);
    assert_eq!(name.is_ok(), well_formed(text, false), "principal {text:?}: {name:?}");
    if let Ok(name) = name {
        assert_eq!(name.as_str(), text);
        assert_eq!(name.to_string(), text);
        assert_eq!(text.parse::<PrincipalName>().ok().as_ref(), Some(&name));
        assert_eq!(name.segments().count(), text.split('/').count());
        assert_eq!(name.is_single_segment(), !text.contains('/'));
        let role = Uri::of_role(&name);
        assert_eq!(Uri::parse(role.as_str()).ok().as_ref(), Some(&role));
        assert_eq!(role.role_name().as_ref(), Some(&name));
        assert_eq!(role.depth(), name.segments().count());
        if let Ok(child) = name.child("x") {
            assert_eq!(child.segments().count(), name.segments().count() + 1);
        }
    }
    let cluster = ClusterName::new(text);
    assert_eq!(cluster.is_ok(), well_formed(text, true), "cluster {text:?}: {cluster:?}");
    if let Ok(cluster) = cluster {
        assert_eq!(cluster.as_str(), text);
        assert_eq!(text.parse::<ClusterName>().ok().as_ref(), Some(&cluster));
    }
});
