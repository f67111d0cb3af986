//! The closure cache's property, for every backend (DESIGN section 9 "under writes", rule
//! E7): after any sequence of writes, every cached closure equals one computed afresh, and
//! a write that changes no membership edge and no principal's liveness drops no cached
//! closure.
//!
//! [`run_cache_audit`] applies generated operations one at a time, interleaved with
//! changes of users' liveness; after each it audits the engine's cache
//! ([`Engine::audit_cache`]), then checks the queries again so the cache holds closures
//! going into the next write. The audit runs before the queries, so what it compares are
//! the closures that survived the write.

use acl_core::{Caller, Engine, Level, PrincipalName, Store, Timestamp, Uri};
use proptest::prelude::*;

use crate::differential::{Setup, apply_to_engine};
use crate::ops::Op;
use crate::strategies::{Universe, model};

/// One step of a cache run: an operation of the model, or a user's liveness set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStep {
    /// An operation of the model (it may be refused; a refused one changes nothing).
    Op(Op),
    /// `set_active(admin, user, active)`: a liveness change (rule E1).
    SetActive {
        /// The user.
        user: PrincipalName,
        /// Active or not.
        active: bool,
    },
}

/// What a run compared, so a test can refuse a vacuous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheRun {
    /// Audits made (one per step).
    pub audits: usize,
    /// Cached memberships compared with fresh ones, over all audits.
    pub compared: usize,
    /// Steps that changed no membership edge and no liveness, committed, and found
    /// closures in the cache to keep.
    pub kept_across_writes: usize,
}

/// Model operations of `universe` with a liveness change of one of its users before about
/// one in five of them.
pub fn cache_steps(universe: &Universe) -> impl Strategy<Value = Vec<CacheStep>> + use<> {
    let users = universe.users.clone();
    model(universe).prop_flat_map(move |ops| {
        let liveness = (proptest::sample::select(users.clone()), any::<bool>());
        let before =
            proptest::collection::vec(proptest::option::weighted(0.2, liveness), ops.len());
        (Just(ops), before).prop_map(|(ops, before)| {
            let mut steps = Vec::with_capacity(ops.len() * 2);
            for (op, set) in ops.into_iter().zip(before) {
                if let Some((user, active)) = set {
                    steps.push(CacheStep::SetActive { user, active });
                }
                steps.push(CacheStep::Op(op));
            }
            steps
        })
    })
}

/// Whether `op` can change a membership edge or a principal's record: principals come and
/// go, and grants on `role://` URIs are memberships (rule P3).
fn touches_membership(op: &Op) -> bool {
    match op {
        Op::Grant { uri, .. } | Op::Revoke { uri, .. } => uri.role_name().is_some(),
        Op::AddFence { .. } | Op::RemoveFence { .. } => false,
        _ => true,
    }
}

/// Runs `steps` on an engine over `make()` (cache on, the default options), auditing the
/// cache after each step and checking `queries` (and every principal of `universe` on the
/// first query's URI) to fill it again. Panics, naming the steps, on a cached closure that
/// differs from a fresh one, or on a write that changed no membership but dropped cached
/// closures.
pub fn run_cache_audit<S: Store>(
    make: impl FnOnce() -> S,
    universe: &Universe,
    steps: &[CacheStep],
    queries: &[(PrincipalName, Uri, Level)],
) -> CacheRun {
    let mut queries = queries.to_vec();
    if let Some((_, uri, _)) = queries.first().cloned() {
        let everyone = universe
            .users
            .iter()
            .chain(universe.roles.iter().map(|(role, _)| role))
            .chain([&universe.admin, &universe.unknown]);
        queries.extend(everyone.map(|p| (p.clone(), uri.clone(), Level::Read)));
    }
    let queries = &queries;
    let setup = Setup::standard();
    let engine = Engine::new(make(), setup.schema.clone());
    engine
        .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        .unwrap();
    let fail = |done: usize, what: String| -> ! {
        let mut text = String::from("the closure cache is wrong\n\nsteps:\n");
        for (i, step) in steps.iter().enumerate() {
            let mark = if i + 1 == done {
                "  <- last applied"
            } else {
                ""
            };
            text.push_str(&format!("  {i:>2}. {step:?}{mark}\n"));
        }
        panic!("{text}\nafter {done} step(s): {what}");
    };
    let mut run = CacheRun::default();
    fill(&engine, queries);
    for (i, step) in steps.iter().enumerate() {
        let at = Timestamp(i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1));
        let before = engine.cached_closures();
        let revision = engine.reader().unwrap().revision().unwrap();
        let (committed, keeps) = match step {
            CacheStep::Op(op) => {
                let done = apply_to_engine(&engine, op, at);
                (done.is_ok(), !touches_membership(op))
            }
            CacheStep::SetActive { user, active } => {
                let by = Caller::new(setup.admin.clone(), at);
                (engine.set_active(&by, user, *active).is_ok(), false)
            }
        };
        let audit = engine.audit_cache().unwrap();
        run.audits += 1;
        run.compared += audit.compared;
        if !audit.wrong.is_empty() {
            fail(
                i + 1,
                format!(
                    "cached closures differ from fresh ones for {:?}",
                    audit.wrong
                ),
            );
        }
        let wrote = audit.revision > revision;
        if committed && wrote && keeps && before > 0 {
            let after = engine.cached_closures();
            if after != before {
                fail(
                    i + 1,
                    format!(
                        "a write that changes no membership left {after} of {before} cached closures"
                    ),
                );
            }
            run.kept_across_writes += 1;
        }
        fill(&engine, queries);
    }
    run
}

/// Checks every query, which caches the closures of their principals.
fn fill<S: Store>(engine: &Engine<S>, queries: &[(PrincipalName, Uri, Level)]) {
    let reader = engine.reader().unwrap();
    for (principal, uri, level) in queries {
        // A query the engine refuses (a deny level) is an error, not a decision, and
        // caches nothing: its result does not matter here, only what it caches.
        let _ = reader.check(principal, uri, *level);
    }
}

/// A fixed scenario of DESIGN section 9 "under writes", for every backend: a grant on a
/// resource keeps every cached closure; a membership of bob drops bob's closure only; a
/// liveness change of carol drops carol's only; and the audit finds every kept one right.
pub fn writes_keep_the_closures_they_cannot_change<S: Store>(store: S) {
    use acl_core::{PrincipalKind, Schema};
    let name = |n: &str| PrincipalName::new(n).unwrap();
    let uri = |u: &str| Uri::parse(u).unwrap();
    let setup = Setup::standard();
    let engine = Engine::new(store, Schema::standard());
    engine
        .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        .unwrap();
    let by = Caller::new(setup.admin.clone(), Timestamp(1));
    for user in ["alice", "bob", "carol"] {
        engine.create_user(&by, &name(user)).unwrap();
    }
    engine
        .add_role(&by, &name("c/g0"), PrincipalKind::Group)
        .unwrap();
    engine
        .grant(&by, &uri("role://c/g0"), &name("alice"), Level::Read)
        .unwrap();
    let fill = || {
        for user in ["alice", "bob", "carol"] {
            engine
                .check(&name(user), &uri("storage://c/alice/x"), Level::Read)
                .unwrap();
        }
    };
    let audited = || {
        let audit = engine.audit_cache().unwrap();
        assert!(audit.wrong.is_empty(), "{audit:?}");
        audit.compared
    };
    fill();
    assert_eq!(engine.cached_closures(), 3);

    // A grant on a resource: every closure stays.
    engine
        .grant(&by, &uri("storage://c/alice/x"), &name("bob"), Level::Read)
        .unwrap();
    assert_eq!(engine.cached_closures(), 3);
    assert_eq!(audited(), 3);
    assert!(
        engine
            .check(&name("bob"), &uri("storage://c/alice/x"), Level::Read)
            .unwrap()
    );

    // bob joins the group: only bob's closure reached bob.
    engine
        .grant(&by, &uri("role://c/g0"), &name("bob"), Level::Read)
        .unwrap();
    assert_eq!(engine.cached_closures(), 2);
    assert_eq!(audited(), 2);

    // carol is deactivated: only carol's closure reached carol.
    fill();
    assert_eq!(engine.cached_closures(), 3);
    engine.set_active(&by, &name("carol"), false).unwrap();
    assert_eq!(engine.cached_closures(), 2);
    assert_eq!(audited(), 2);
    assert!(
        !engine
            .check(&name("carol"), &uri("storage://c/alice/x"), Level::List)
            .unwrap()
    );

    // The group itself changes (a member leaves): alice's closure reaches the group only
    // through alice's own edge, which is not written, so it stays; bob's goes.
    fill();
    assert_eq!(engine.cached_closures(), 3);
    engine
        .revoke(&by, &uri("role://c/g0"), &name("bob"))
        .unwrap();
    assert_eq!(engine.cached_closures(), 2);
    assert_eq!(audited(), 2);
}
