//! [`proptest::arbitrary::Arbitrary`] for the kernel's validated types (feature `proptest`),
//! so a user's property suite writes `any::<Uri>()` or `level in any::<Level>()`. Every
//! generated value is valid: the strategies build text and keep what the constructors
//! accept (rules P1, U1, U3). The richer strategies (whole models, operation sequences, a
//! small universe whose operations collide) are in the acl-testing crate.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::schema::Schema;
use crate::uri::Uri;

impl Arbitrary for Level {
    type Parameters = ();
    type Strategy = proptest::sample::Select<Level>;

    /// Any level, `deny` included.
    fn arbitrary_with((): ()) -> Self::Strategy {
        select(Level::ALL.to_vec())
    }
}

impl Arbitrary for PrincipalName {
    type Parameters = ();
    type Strategy = BoxedStrategy<PrincipalName>;

    /// Any valid principal name (rule P1): one to four segments of `[A-Za-z0-9_.-]`.
    fn arbitrary_with((): ()) -> Self::Strategy {
        vec("[A-Za-z0-9_.-]{1,12}", 1..=4)
            .prop_filter_map("`.` and `..` are not segments", |segments| {
                PrincipalName::new(&segments.join("/")).ok()
            })
            .boxed()
    }
}

impl Arbitrary for ClusterName {
    type Parameters = ();
    type Strategy = BoxedStrategy<ClusterName>;

    /// Any valid cluster name: one segment of `[A-Za-z0-9_.-]`.
    fn arbitrary_with((): ()) -> Self::Strategy {
        "[A-Za-z0-9_.-]{1,12}"
            .prop_filter_map("a valid cluster name", |text| ClusterName::new(&text).ok())
            .boxed()
    }
}

impl Arbitrary for Uri {
    /// The schema whose schemes the URIs use.
    type Parameters = Schema;
    type Strategy = BoxedStrategy<Uri>;

    /// Any valid URI of the schema (the standard one by default; rules U1, U3) in
    /// canonical form: a known scheme and 0 to 6 segments. The authority is plain; path
    /// segments may hold `:`, `@`, `%`-escapes and non-ASCII letters, which the rules allow.
    fn arbitrary_with(schema: Schema) -> Self::Strategy {
        let schemes: Vec<String> = schema.scheme_names().map(str::to_owned).collect();
        let authority = "[a-z0-9][a-z0-9.-]{0,9}";
        let segment = prop_oneof![
            4 => "[A-Za-z0-9._~!$&'()*+,;=:@%-]{1,12}",
            1 => "[a-zé😀ß:@]{1,6}",
        ];
        (select(schemes), authority, vec(segment, 0..=5), 0..=6_usize)
            .prop_filter_map("a valid URI", |(scheme, authority, path, depth)| {
                let text = if depth == 0 {
                    format!("{scheme}://")
                } else {
                    let mut parts = vec![authority];
                    parts.extend(path.into_iter().take(depth - 1));
                    format!("{scheme}://{}", parts.join("/"))
                };
                Uri::parse(&text).ok()
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Level, PrincipalName, Schema, Uri};

    proptest! {
        // rules P1, U1: generated values are valid and survive their text form
        #[test]
        fn generated_values_round_trip(
            name in any::<PrincipalName>(),
            uri in any::<Uri>(),
            level in any::<Level>(),
        ) {
            prop_assert_eq!(PrincipalName::new(name.as_str()).ok(), Some(name));
            prop_assert_eq!(Schema::standard().uri(uri.as_str(), None).ok(), Some(uri));
            prop_assert_eq!(level.as_str().parse::<Level>().ok(), Some(level));
        }
    }
}
