//! The differential check: the [`Engine`] over any [`Store`] against the naive
//! [`Reference`] model, on the same operations (as Cedar's differential random testing).
//!
//! [`run_differential`] applies every [`Op`] to both and compares, after each op, its
//! result (the outcome, or the error's kind) and the store's revision. At two midpoints and
//! at the end it compares the given queries (`check` at every level and `explain`); at the
//! end, the whole universe of the run: `explain` on every (principal, URI) pair, with the
//! evidence of each reason validated against the model (the named grant or fence exists
//! and applies, its holder is in the closure, the membership path is valid and shortest,
//! and for a grant or forbid it is the one the tie-break of semantics.md names), `check`,
//! `list` (unfiltered and by scheme), `shared`, `tree` and `who`. A disagreement panics
//! with the numbered op sequence, the place reached and both answers.
//!
//! On a store that keeps an [`Index`](crate::Index), each probe runs twice: through the
//! index's facts (what the engine reads by default) and through the view's lookups alone
//! ([`Reader::without_index`], the generic path of every other store). The one evaluator
//! decides on both; the second pass holds them to the same decisions, reason by reason
//! (rule E6), and to the model.
//!
//! Store crates call it from their own property tests with the strategies of
//! [`crate::strategies`], as `crates/acl-memory/tests/differential.rs` does:
//! `run_differential(MemoryStore::new, &ops, &queries)` for `ops` from
//! [`strategies::model`](crate::strategies::model) and `queries` from
//! [`strategies::query`](crate::strategies::query).
#![allow(
    clippy::panic,
    reason = "a disagreement between the engine and the model fails the test by panicking"
)]

use std::collections::BTreeSet;
use std::fmt::{Debug, Write as _};

use acl_core::{Caller, Engine, GrantOutcome, ListFilter, Reader};

use crate::ops::{Op, Outcome};
use crate::reference::{Derived, ModelReason, ReasonKind, Reference};
use acl_core::Error;
use acl_core::Level;
use acl_core::PageRequest;
use acl_core::Schema;
use acl_core::Store;
use acl_core::Timestamp;
use acl_core::Uri;
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Decision, Reason};
use acl_core::{Grant, PrincipalKind, Revision};
use acl_platform::Platform;
use acl_platform::PlatformStore;

/// How the engine and the model are initialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The schema both enforce.
    pub schema: Schema,
    /// The cluster name given to init.
    pub cluster: ClusterName,
    /// The first admin user given to init.
    pub admin: PrincipalName,
    /// The depth of the `tree` compared at each probe.
    pub tree_depth: usize,
}

impl Setup {
    /// The standard schema, cluster `c` and admin `admin`, as
    /// [`crate::strategies::Universe::small`] expects; trees of depth 3.
    #[expect(clippy::expect_used, reason = "literal names, valid by inspection")]
    pub fn standard() -> Setup {
        Setup {
            schema: Schema::standard(),
            cluster: ClusterName::new("c").expect("a valid literal cluster name"),
            admin: PrincipalName::new("admin").expect("a valid literal name"),
            tree_depth: 3,
        }
    }
}

impl Default for Setup {
    fn default() -> Self {
        Setup::standard()
    }
}

/// Applies `op` to `engine` as the actor it names, at time `at`: the adapter between the
/// model's operations and the engine's API. Returns what the op did and the revision the
/// engine reports after it.
pub fn apply_to_engine<S: Store>(
    engine: &Engine<S>,
    op: &Op,
    at: Timestamp,
) -> Result<(Outcome, Revision), Error> {
    let by = Caller::new(op.actor().clone(), at);
    match op {
        Op::CreateUser { name, .. } => engine
            .create_user(&by, name)
            .map(|a| (Outcome::Done, a.revision)),
        Op::AddRole { name, group, .. } => {
            let kind = if *group {
                PrincipalKind::Group
            } else {
                PrincipalKind::Role
            };
            engine
                .add_role(&by, name, kind)
                .map(|a| (Outcome::Done, a.revision))
        }
        Op::RemoveRole { name, .. } => engine
            .remove_role(&by, name)
            .map(|a| (Outcome::Done, a.revision)),
        Op::Grant {
            uri,
            grantee,
            level,
            ..
        } => engine.grant(&by, uri, grantee, *level).map(|a| {
            let outcome = match a.value {
                GrantOutcome::Created => Outcome::Created,
                GrantOutcome::Raised { from } => Outcome::Raised { from },
                GrantOutcome::Kept { existing } => Outcome::Kept { existing },
            };
            (outcome, a.revision)
        }),
        Op::Revoke { uri, grantee, .. } => engine
            .revoke(&by, uri, grantee)
            .map(|a| (Outcome::Done, a.revision)),
        Op::AddFence { uri, group, .. } => engine
            .add_fence(&by, uri, group)
            .map(|a| (Outcome::Done, a.revision)),
        Op::RemoveFence { uri, group, .. } => engine
            .remove_fence(&by, uri, group)
            .map(|a| (Outcome::Done, a.revision)),
        Op::SetActive { name, active, .. } => engine
            .set_active(&by, name, *active)
            .map(|a| (Outcome::Done, a.revision)),
    }
}

/// The engine's reason as the model's [`ReasonKind`].
pub fn reason_kind(reason: &Reason) -> ReasonKind {
    match reason {
        Reason::UnknownPrincipal => ReasonKind::UnknownPrincipal,
        Reason::InactiveUser => ReasonKind::InactiveUser,
        Reason::Fence { .. } => ReasonKind::Fence,
        Reason::Forbid { .. } => ReasonKind::Forbid,
        Reason::Grant { .. } => ReasonKind::Grant,
        Reason::ImplicitList { .. } => ReasonKind::ImplicitList,
        Reason::NoGrant => ReasonKind::NoGrant,
    }
}

/// Runs `ops` on a fresh engine over `make()` and on the reference model, with
/// [`Setup::standard`], and panics on the first disagreement. `queries` are checked at
/// every probe besides the whole universe of names and URIs the ops mention.
pub fn run_differential<S: PlatformStore>(
    make: impl Fn() -> S,
    ops: &[Op],
    queries: &[(PrincipalName, Uri, Level)],
) {
    run_differential_with(&Setup::standard(), make, ops, queries);
}

/// [`run_differential`] with another setup.
pub fn run_differential_with<S: PlatformStore>(
    setup: &Setup,
    make: impl Fn() -> S,
    ops: &[Op],
    queries: &[(PrincipalName, Uri, Level)],
) {
    let mut run = Run::start(setup, make(), ops);
    // Probe the reads at two midpoints and at the end.
    for (step, op) in ops.iter().enumerate() {
        if step == ops.len() / 3 || step == 2 * ops.len() / 3 {
            let model = run.model.derive();
            let reader = run.reader();
            run.probe_queries(&reader, &model, queries);
            let indexed = run.decisions(&reader, queries, Probe::Queries);
            drop(reader);
            run.probe_generic(&model, queries, Probe::Queries, &indexed);
            run.audit_cache();
        }
        run.apply(step, op);
    }
    let reader = run.reader();
    let model = run.model.derive();
    run.probe_queries(&reader, &model, queries);
    run.probe_universe(&reader, &model, queries);
    let indexed = run.decisions(&reader, queries, Probe::Universe);
    drop(reader);
    run.probe_generic(&model, queries, Probe::Universe, &indexed);
    run.audit_cache();
}

/// What a probe of the generic path covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// The queries' pairs (at the midpoints).
    Queries,
    /// The queries' pairs and the whole universe (at the end).
    Universe,
}

/// One differential run in progress.
struct Run<'a, S: PlatformStore> {
    setup: &'a Setup,
    engine: Platform<S>,
    model: Reference,
    ops: &'a [Op],
    /// How many ops have been applied.
    done: usize,
}

impl<'a, S: PlatformStore> Run<'a, S> {
    fn start(setup: &'a Setup, store: S, ops: &'a [Op]) -> Run<'a, S> {
        let engine = Platform::new(store, setup.schema.clone());
        let model = match Reference::init(
            setup.schema.clone(),
            setup.cluster.clone(),
            Some(setup.admin.clone()),
        ) {
            Ok(model) => model,
            Err(kind) => panic!("the reference model refused init: {kind}"),
        };
        let run = Run {
            setup,
            engine,
            model,
            ops,
            done: 0,
        };
        match run
            .engine
            .init(&setup.cluster, Some(&setup.admin), Timestamp(0))
        {
            Ok(applied) => run.same(
                "revision after init",
                &model_rev(&run.model),
                &applied.revision,
            ),
            Err(err) => run.fail(format_args!("engine init failed: {err}")),
        }
        run
    }

    /// The engine runs with its closure cache on (the default options), and the closures
    /// cached at one probe meet the writes before the next: each probe ends by holding
    /// every cached closure to a fresh one (section 9 "under writes").
    fn audit_cache(&self) {
        match self.engine.engine().audit_cache() {
            Ok(audit) if audit.wrong.is_empty() => {}
            Ok(audit) => self.fail(format_args!(
                "cached closures differ from fresh ones for {:?}",
                audit.wrong
            )),
            Err(err) => self.fail(format_args!("the cache audit failed: {err}")),
        }
    }

    /// Panics with the op sequence, the place reached and `what`.
    fn fail(&self, what: impl std::fmt::Display) -> ! {
        let mut text = String::from("engine and reference model disagree\n\nops:\n");
        for (i, op) in self.ops.iter().enumerate() {
            let mark = if i + 1 == self.done {
                "  <- last applied"
            } else {
                ""
            };
            let _ = writeln!(text, "  {i:>2}. {op}{mark}");
        }
        let _ = write!(text, "\nafter {} op(s): {what}", self.done);
        panic!("{text}");
    }

    fn same<T: PartialEq + Debug>(&self, what: &str, model: &T, engine: &T) {
        if model != engine {
            self.fail(format_args!(
                "{what}\n  model:  {model:?}\n  engine: {engine:?}"
            ));
        }
    }

    fn ok<T>(&self, what: &str, result: Result<T, Error>) -> T {
        match result {
            Ok(value) => value,
            Err(err) => self.fail(format_args!("{what}: the engine failed: {err}")),
        }
    }

    fn reader(&self) -> Reader<'_, S> {
        self.ok("opening a reader", self.engine.reader())
    }

    /// The (principal, URI) pairs a probe explains: the queries', then for
    /// [`Probe::Universe`] the whole universe.
    fn pairs(
        &self,
        queries: &[(PrincipalName, Uri, Level)],
        probe: Probe,
    ) -> Vec<(PrincipalName, Uri)> {
        let mut pairs: Vec<(PrincipalName, Uri)> = queries
            .iter()
            .map(|(p, uri, _)| (p.clone(), uri.clone()))
            .collect();
        if probe == Probe::Queries {
            return pairs;
        }
        let uris = self.uris(queries);
        for p in self.principals() {
            pairs.extend(uris.iter().map(|uri| (p.clone(), uri.clone())));
        }
        pairs
    }

    /// `explain` on every pair of [`Run::pairs`] through `reader`, in that order.
    fn decisions(
        &self,
        reader: &Reader<'_, S>,
        queries: &[(PrincipalName, Uri, Level)],
        probe: Probe,
    ) -> Vec<Decision> {
        self.pairs(queries, probe)
            .iter()
            .map(|(p, uri)| self.ok("explain", reader.explain(p, uri)))
            .collect()
    }

    /// The generic path (every fact through the view's lookups, [`Reader::without_index`])
    /// against `indexed`, the decisions through the store's own facts, pair by pair: the
    /// same level and reason, the same deciding row, a membership path as short; then
    /// `explain` and `check` against the model, and `who` at every level for the queries'
    /// URIs. On a store without an index both passes take the generic path.
    fn probe_generic(
        &self,
        model: &Derived<'_>,
        queries: &[(PrincipalName, Uri, Level)],
        probe: Probe,
        indexed: &[Decision],
    ) {
        let reader = self.reader().without_index();
        for (i, (p, uri)) in self.pairs(queries, probe).iter().enumerate() {
            let generic = self.ok("explain", reader.explain(p, uri));
            let what = format!("explain({p}, {uri}) through the view's lookups");
            match indexed.get(i) {
                Some(fast) => self.same_decision(&what, fast, &generic),
                None => self.fail(format_args!("{what}: no decision through the index")),
            }
            let level = self.compare_explain(&reader, model, p, uri);
            for asked in ALLOW_LEVELS {
                self.compare_check(&reader, p, uri, asked, level >= asked);
            }
        }
        let asked: BTreeSet<&Uri> = queries.iter().map(|(_, uri, _)| uri).collect();
        for uri in asked {
            for level in ALLOW_LEVELS {
                let who = self.ok("who", reader.who(uri, level, &PageRequest::all()));
                self.same(
                    &format!("who({uri}, {level}) through the view's lookups"),
                    &model.who(uri, level),
                    &who.items,
                );
            }
        }
    }

    /// Two decisions of one evaluator on two sources of facts: equal, but for which of
    /// several shortest membership paths each names (rule E6 asks for a shortest one).
    fn same_decision(&self, what: &str, indexed: &Decision, generic: &Decision) {
        let strip = |d: &Decision| -> (Decision, usize) {
            let mut d = d.clone();
            let hops = match &mut d.reason {
                Reason::Forbid { path, .. }
                | Reason::Grant { path, .. }
                | Reason::ImplicitList { path, .. } => std::mem::take(path).len(),
                _ => 0,
            };
            (d, hops)
        };
        self.same(what, &strip(indexed), &strip(generic));
    }

    /// Applies op `step` to both and compares the results and revisions.
    fn apply(&mut self, step: usize, op: &Op) {
        let want = self.model.apply(op);
        let at = Timestamp(i64::try_from(step).unwrap_or(i64::MAX).saturating_add(1));
        let got = apply_to_engine(&self.engine, op, at);
        self.done = step + 1;
        match (&want, &got) {
            (Ok(outcome), Ok((engine_outcome, revision))) => {
                self.same(&format!("outcome of {op}"), outcome, engine_outcome);
                self.same(
                    &format!("revision returned by {op}"),
                    &model_rev(&self.model),
                    revision,
                );
            }
            (Err(kind), Err(err)) if *kind == err.kind() => {}
            _ => self.fail(format_args!(
                "result of {op}\n  model:  {want:?}\n  engine: {:?}",
                got.as_ref()
                    .map(|(o, _)| *o)
                    .map_err(|e| (e.kind(), e.to_string()))
            )),
        }
        let revision = self.ok("revision", self.reader().revision());
        self.same("store revision", &model_rev(&self.model), &revision);
    }

    /// The queries: `check` at every level above deny and `explain`.
    fn probe_queries(
        &self,
        reader: &Reader<'_, S>,
        model: &Derived<'_>,
        queries: &[(PrincipalName, Uri, Level)],
    ) {
        for (p, uri, _) in queries {
            let level = self.compare_explain(reader, model, p, uri);
            for asked in ALLOW_LEVELS {
                self.compare_check(reader, p, uri, asked, level >= asked);
            }
        }
    }

    /// The whole universe of the run (see [`Run::principals`] and [`Run::uris`]):
    /// `explain` on every (principal, URI) pair, `list` (unfiltered and by scheme),
    /// `shared` and `tree` for every principal, `who` for every URI. Levels of `check` and
    /// `who`, and the roots of `tree`, rotate over the pairs so each case stays cheap;
    /// `who` is asked at every level for the queries' URIs.
    fn probe_universe(
        &self,
        reader: &Reader<'_, S>,
        model: &Derived<'_>,
        queries: &[(PrincipalName, Uri, Level)],
    ) {
        let principals = self.principals();
        let uris = self.uris(queries);
        let rotate = |i: usize| ALLOW_LEVELS.get(i % ALLOW_LEVELS.len()).copied();
        for (i, p) in principals.iter().enumerate() {
            for (j, uri) in uris.iter().enumerate() {
                let level = self.compare_explain(reader, model, p, uri);
                // `check` on every pair, at a rotating level: the evaluation `explain` ran,
                // keeping the level alone, on the same facts (rule E6).
                if let Some(asked) = rotate(i + j) {
                    self.compare_check(reader, p, uri, asked, level >= asked);
                }
            }
        }
        let shallow: Vec<&Uri> = uris.iter().filter(|u| u.depth() <= 1).collect();
        let storage = Uri::root("storage").ok();
        for (i, p) in principals.iter().enumerate() {
            let all = self.ok(
                "list",
                reader.list(p, &ListFilter::all(), &PageRequest::all()),
            );
            self.same(&format!("list({p})"), &model.list(p, None), &all.items);
            if let Some(root) = &storage {
                let filter = ListFilter::under(root.clone());
                let some = self.ok("list", reader.list(p, &filter, &PageRequest::all()));
                self.same(
                    &format!("list({p}, within {root})"),
                    &model.list(p, Some(root)),
                    &some.items,
                );
            }
            let shared = self.ok("shared", reader.shared(p, &PageRequest::all()));
            self.same(&format!("shared({p})"), &model.shared(p), &shared.items);
            if let Some(root) = shallow.get(i % shallow.len().max(1)) {
                self.compare_tree(reader, model, p, root);
            }
        }
        let asked: BTreeSet<&Uri> = queries.iter().map(|(_, uri, _)| uri).collect();
        for (j, uri) in uris.iter().enumerate() {
            for level in ALLOW_LEVELS {
                if asked.contains(uri) || rotate(j) == Some(level) {
                    let who = self.ok("who", reader.who(uri, level, &PageRequest::all()));
                    self.same(
                        &format!("who({uri}, {level})"),
                        &model.who(uri, level),
                        &who.items,
                    );
                }
            }
        }
    }

    fn compare_check(
        &self,
        reader: &Reader<'_, S>,
        p: &PrincipalName,
        uri: &Uri,
        level: Level,
        want: bool,
    ) {
        let got = self.ok("check", reader.check(p, uri, level));
        self.same(&format!("check({p}, {uri}, {level})"), &want, &got);
    }

    fn compare_tree(
        &self,
        reader: &Reader<'_, S>,
        model: &Derived<'_>,
        p: &PrincipalName,
        root: &Uri,
    ) {
        let depth = self.setup.tree_depth;
        let tree = self.ok("tree", reader.tree(p, root, depth));
        let got: Vec<(Uri, usize, Level)> = tree
            .into_iter()
            .map(|node| (node.uri, node.depth, node.level))
            .collect();
        let base = self.model.canonical_uri(root).depth();
        let want: Vec<(Uri, usize, Level)> = model
            .tree(p, root, depth)
            .into_iter()
            .map(|(uri, level)| {
                let below = uri.depth().saturating_sub(base);
                (uri, below, level)
            })
            .collect();
        self.same(&format!("tree({p}, {root}, {depth})"), &want, &got);
    }

    /// Compares the decision and validates its evidence (rule E6, semantics.md
    /// "Explain"); returns the level.
    fn compare_explain(
        &self,
        reader: &Reader<'_, S>,
        model: &Derived<'_>,
        p: &PrincipalName,
        uri: &Uri,
    ) -> Level {
        let got: Decision = self.ok("explain", reader.explain(p, uri));
        let want = model.explain(p, uri);
        let what = format!("explain({p}, {uri})");
        self.same(
            &what,
            &(want.level, want.reason.kind()),
            &(got.level, reason_kind(&got.reason)),
        );
        let uri = self.model.canonical_uri(uri);
        match &got.reason {
            Reason::UnknownPrincipal | Reason::InactiveUser | Reason::NoGrant => {}
            Reason::Fence { fence } => {
                let closure = model.closure(p);
                if !self.model.fences().contains(fence)
                    || !fence.uri.contains(&uri)
                    || closure.contains(&fence.group)
                {
                    self.fail(format_args!(
                        "{what}: the engine names {fence:?}, which is not a fence on the URI \
                         or above whose group is outside the closure {closure:?}"
                    ));
                }
            }
            Reason::Forbid { grant, path }
            | Reason::Grant { grant, path }
            | Reason::ImplicitList { grant, path } => {
                let fits = match &got.reason {
                    Reason::Forbid { .. } => grant.level == Level::Deny && grant.uri.contains(&uri),
                    Reason::Grant { .. } => grant.level == got.level && grant.uri.contains(&uri),
                    _ => grant.level.is_allow() && uri.is_ancestor_of(&grant.uri),
                };
                if !self.model.grants().contains(grant) || !fits {
                    self.fail(format_args!(
                        "{what}: the engine names {grant:?}, which is not a {:?} candidate \
                         in the model",
                        reason_kind(&got.reason)
                    ));
                }
                self.check_path(model, &what, p, grant, path);
                // The tie-break of semantics.md: nearest holder, deepest URI, holder name.
                // Not compared for the implicit list: the engine names the first grant
                // below in (URI, holder) order (`ReadView::grant_below`).
                let chosen = match &want.reason {
                    ModelReason::Forbid { grant, .. } | ModelReason::Grant { grant, .. } => {
                        Some(grant)
                    }
                    _ => None,
                };
                if chosen.is_some() {
                    self.same(&format!("{what}: deciding grant"), &chosen, &Some(grant));
                }
            }
        }
        got.level
    }

    /// `path` must be a shortest membership path from p to the grant's holder.
    fn check_path(
        &self,
        model: &Derived<'_>,
        what: &str,
        p: &PrincipalName,
        grant: &Grant,
        path: &[PrincipalName],
    ) {
        let Some(distance) = model.distance(p, &grant.holder) else {
            self.fail(format_args!(
                "{what}: the holder of {grant:?} is not in the closure of `{p}`"
            ));
        };
        if !model.is_membership_path(p, path)
            || path.last() != Some(&grant.holder)
            || path.len() != distance + 1
        {
            self.fail(format_args!(
                "{what}: {path:?} is not a shortest membership path from `{p}` to `{}` \
                 ({distance} hop(s))",
                grant.holder
            ));
        }
    }

    /// The principals to probe: every one the model holds, the alias of the latest user
    /// and one unknown name. (Every other name is unknown too, and the queries' principals
    /// are probed on their own.)
    fn principals(&self) -> Vec<PrincipalName> {
        let mut names: Vec<PrincipalName> = self
            .model
            .principals()
            .iter()
            .map(|r| r.name.clone())
            .collect();
        let user = self
            .model
            .principals()
            .iter()
            .rev()
            .find(|r| r.kind == PrincipalKind::User);
        if let Some(user) = user {
            let alias = format!("{}/users/{}", self.setup.cluster, user.name);
            names.extend(PrincipalName::new(&alias).ok());
        }
        names.extend(PrincipalName::new("zz-never-mentioned").ok());
        names
    }

    /// The URIs to probe: every URI the ops and queries name and every fence's, with all
    /// their ancestors.
    fn uris(&self, queries: &[(PrincipalName, Uri, Level)]) -> Vec<Uri> {
        let mut uris: BTreeSet<Uri> = BTreeSet::new();
        let named = self
            .ops
            .iter()
            .filter_map(Op::uri)
            .chain(queries.iter().map(|(_, uri, _)| uri))
            .chain(self.model.fences().iter().map(|f| &f.uri));
        for uri in named {
            uris.extend(uri.ancestors_and_self());
        }
        uris.into_iter().collect()
    }
}

/// The levels a check or `who` may ask about.
const ALLOW_LEVELS: [Level; 4] = [Level::List, Level::Read, Level::Write, Level::Manage];

fn model_rev(model: &Reference) -> Revision {
    Revision(model.revision())
}
