//! Property tests of the differential-testing kit itself (feature `testing`): the reference
//! model keeps its invariants on every generated sequence, and the strategies produce what
//! they promise.
//!
//! The engine-versus-model differential runs from the store crates, since acl-core has no
//! store of its own: `acl_testing::differential::run_differential(MemoryStore::new,
//! ..)` in `crates/acl-memory/tests/differential.rs`.
//!
//! `PROPTEST_CASES` sets the number of cases (default 10,000).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};

use acl_core::{ClusterName, Level, PrincipalKind, PrincipalName, Schema, Uri, UriContext};
use acl_testing::ops::Op;
use acl_testing::reference::{ModelReason, Reference};
use acl_testing::strategies::{Universe, model, principal_name, query, uri, uri_text};
use proptest::collection::vec;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn fresh() -> Reference {
    let universe = Universe::small();
    Reference::init(Schema::standard(), universe.cluster, Some(universe.admin)).unwrap()
}

/// Whether the membership edges (whatever the principals' states) have a cycle.
fn has_cycle(edges: &[(PrincipalName, PrincipalName)]) -> bool {
    let mut out: BTreeMap<&PrincipalName, Vec<&PrincipalName>> = BTreeMap::new();
    for (member, role) in edges {
        out.entry(member).or_default().push(role);
    }
    out.keys().any(|start| {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&PrincipalName> = out.get(start).cloned().unwrap_or_default();
        while let Some(next) = stack.pop() {
            if next == *start {
                return true;
            }
            if seen.insert(next) {
                stack.extend(out.get(next).cloned().unwrap_or_default());
            }
        }
        false
    })
}

/// The invariants of a model state (those the Store contract lists, and rule P3).
fn check_invariants(m: &Reference, after: &Op) {
    let names: BTreeSet<&PrincipalName> = m.principals().iter().map(|r| &r.name).collect();
    assert_eq!(
        names.len(),
        m.principals().len(),
        "principal names are unique ({after})"
    );
    let mut keys = BTreeSet::new();
    for g in m.grants() {
        assert!(names.contains(&g.holder), "{g:?} has a holder ({after})");
        assert!(
            keys.insert((&g.holder, &g.uri)),
            "{g:?} is unique ({after})"
        );
        assert!(
            !(g.level == Level::Deny && g.uri.scheme() == "role"),
            "no forbid on role:// ({after})"
        );
    }
    for f in m.fences() {
        assert!(names.contains(&f.group), "{f:?} has a group ({after})");
        assert_ne!(f.uri.scheme(), "role", "no fence on role:// ({after})");
    }
    for r in m.principals() {
        assert!(
            r.active || r.kind == PrincipalKind::User,
            "only users are inactive"
        );
    }
    assert!(
        !has_cycle(&m.edges()),
        "the role graph is acyclic ({after})"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    // rule M3: a failed or unchanging op changes nothing, a changing op raises the
    // revision by one; the store invariants and rule P3 hold after every op
    #[test]
    fn model_keeps_its_invariants(
        ops in model(&Universe::small()),
        queries in vec(query(&Universe::small()), 1..6),
    ) {
        let mut m = fresh();
        for op in &ops {
            let before = m.clone();
            match m.apply(op) {
                Ok(outcome) if outcome.changed() => {
                    prop_assert_eq!(m.revision(), before.revision() + 1, "{}", op);
                }
                _ => prop_assert_eq!(&m, &before, "{} must change nothing", op),
            }
            check_invariants(&m, op);
        }
        let derived = m.derive();
        for (p, uri, level) in &queries {
            let decision = m.explain(p, uri);
            // the derived state is only a cache
            prop_assert_eq!(&derived.explain(p, uri), &decision);
            prop_assert_eq!(m.check(p, uri, *level), decision.level >= *level);
            let closure = m.closure(p);
            match &decision.reason {
                ModelReason::Grant { grant, path }
                | ModelReason::Forbid { grant, path }
                | ModelReason::ImplicitList { grant, path } => {
                    prop_assert!(closure.contains(&grant.holder));
                    prop_assert!(m.is_membership_path(p, path));
                    prop_assert_eq!(path.last(), Some(&grant.holder));
                    prop_assert_eq!(Some(path.len() - 1), m.distance(p, &grant.holder));
                }
                ModelReason::Fence(fence) => prop_assert!(!closure.contains(&fence.group)),
                ModelReason::UnknownPrincipal | ModelReason::InactiveUser => {
                    prop_assert!(closure.is_empty());
                }
                ModelReason::NoGrant => {}
            }
            // rule E6: list and who agree with effective
            for (listed, level) in m.list(p, None) {
                prop_assert!(level.is_allow());
                prop_assert_eq!(m.effective(p, &listed).0, level);
            }
            let who = m.who(uri, *level);
            for user in &who {
                prop_assert!(m.check(user, uri, *level));
            }
            // rule E6: the tree holds U, then only what lies below it, within the depth
            let tree = m.tree(p, uri, 2);
            let canonical = tree.first().map(|(u, _)| u.clone());
            prop_assert!(canonical.is_some());
            for (node, level) in &tree {
                prop_assert_eq!(m.effective(p, node).0, *level);
                if let Some(root) = &canonical {
                    prop_assert!(root.contains(node) && node.depth() <= root.depth() + 2);
                }
            }
        }
    }

    // rule U3: every generated URI is valid, canonical, of a known scheme, at most 6 deep
    #[test]
    fn generated_uris_are_valid(generated in uri(&Schema::standard())) {
        let schema = Schema::standard();
        prop_assert!(schema.validate(&generated).is_ok());
        prop_assert_eq!(Uri::parse(generated.as_str()).ok(), Some(generated.clone()));
        prop_assert!(generated.depth() <= 6);
    }

    // rule P1: every generated principal name is valid and round-trips
    #[test]
    fn generated_names_are_valid(name in principal_name()) {
        prop_assert_eq!(PrincipalName::new(name.as_str()).ok(), Some(name));
    }

    // rule U3: parsing never panics; what parses is canonical (parsing its text again
    // gives the same URI)
    #[test]
    fn parsing_never_panics(text in uri_text()) {
        let context = UriContext {
            cluster: ClusterName::new("c").unwrap(),
            user: PrincipalName::new("alice").unwrap(),
        };
        let parsed = [
            Uri::parse(&text),
            Uri::parse_in(&text, &context),
            Schema::standard().uri(&text, Some(&context)),
        ];
        for uri in parsed.into_iter().flatten() {
            prop_assert_eq!(Uri::parse(uri.as_str()).ok(), Some(uri));
        }
    }
}

// The small universe is what the strategies and the differential expect.
#[test]
fn small_universe() {
    let universe = Universe::small();
    assert_eq!(universe.cluster.as_str(), "c");
    assert_eq!(universe.resource_uris().len(), 2 * (1 + 2 + 4 + 8));
    let text: Vec<String> = universe
        .role_uris()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(text.contains(&"role://c/users/u0".to_owned()));
    assert!(text.contains(&"role://u0/roles".to_owned()));
    let model = fresh();
    for name in universe.principals() {
        // every name of the universe is answered, known or not
        let _ = model.explain(&name, &Uri::parse("storage://c").unwrap());
    }
}
