//! Resolution (rules E1 to E4, E6): ONE evaluator, [`evaluate`], answers `check`,
//! `check_action`, `explain`, `tree`, `list`, `who` and the authorization of every mutation,
//! `grant_many`'s batch included.
//!
//! It reads what it needs through a small facts interface, [`Facts`]: liveness and
//! membership (a principal's closure through the role graph), the fences and the grants held
//! in a closure on a URI's path, and the allow grants held below it. A source of facts only
//! reports rows; every rule (fence, forbid beats allow, the highest grant, the implicit
//! list, the tie-breaks of an explanation) is applied here, once. Two sources answer it:
//!
//! - the interned [`Index`](crate::index::Index) of a store that keeps one, with ids and
//!   interned segments and no allocation on a check (its impl is in `index/facts.rs`);
//! - [`ViewFacts`], over the lookups of any [`ReadView`], for every other store.
//!
//! [`evaluate`] is generic over both the source and what it keeps of the rows (a
//! [`Tally`]): [`Levels`] keeps the level alone (a check), [`Reasons`] keeps the deciding
//! rows too (an explanation). Each pair is monomorphized, so a check on the index costs what
//! a walk of the index costs, and `check` and `explain` run the same steps on the same facts:
//! they cannot disagree.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::graph::{Closure, Walk};
use crate::level::Level;
use crate::name::PrincipalName;
use crate::rows::{Fence, Grant};
use crate::store::ReadView;
use crate::uri::Uri;

/// A decision: the effective level and why (rule E6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The effective level.
    pub level: Level,
    /// The step of resolution that decided it.
    pub reason: Reason,
}

/// Why a decision came out as it did: exactly the step of resolution that decided
/// (docs/semantics.md, "Resolution").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The principal does not exist (rule E1).
    UnknownPrincipal,
    /// The principal is an inactive user (rule E1).
    InactiveUser,
    /// A fence on the URI or an ancestor names a group outside the closure (rule E4).
    Fence {
        /// The fence that denied.
        fence: Fence,
    },
    /// A forbid held in the closure on the URI or an ancestor (rule E3).
    Forbid {
        /// The forbid (a grant of `deny`).
        grant: Grant,
        /// A shortest membership path from the principal to the forbid's holder.
        path: Vec<PrincipalName>,
    },
    /// The highest grant held in the closure on the URI or an ancestor (rule E1).
    Grant {
        /// The deciding grant.
        grant: Grant,
        /// A shortest membership path from the principal to the grant's holder.
        path: Vec<PrincipalName>,
    },
    /// No grant on the URI or above, but one below it (rule E2).
    ImplicitList {
        /// The grant below the URI that makes it listable.
        grant: Grant,
        /// A shortest membership path from the principal to the grant's holder.
        path: Vec<PrincipalName>,
    },
    /// Nothing in the closure reaches the URI.
    NoGrant,
}

impl Reason {
    /// A short snake_case name of the reason's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::UnknownPrincipal => "unknown_principal",
            Reason::InactiveUser => "inactive_user",
            Reason::Fence { .. } => "fence",
            Reason::Forbid { .. } => "forbid",
            Reason::Grant { .. } => "grant",
            Reason::ImplicitList { .. } => "implicit_list",
            Reason::NoGrant => "no_grant",
        }
    }
}

impl Decision {
    /// Whether the decision grants at least `level`.
    pub fn allows(&self, level: Level) -> bool {
        self.level >= level
    }
}

// ---------------------------------------------------------------------------------------
// The facts
// ---------------------------------------------------------------------------------------

/// Liveness and membership of a principal (rules E1, P3): unknown, an inactive user, or
/// live with its closure (itself and every role it reaches through live members).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership<C> {
    /// No such principal.
    Unknown,
    /// An inactive user: it holds nothing and passes nothing on.
    Inactive,
    /// A live principal and its closure.
    Live(C),
}

impl<C> Membership<C> {
    /// The closure borrowed.
    pub(crate) fn as_ref(&self) -> Membership<&C> {
        match self {
            Membership::Unknown => Membership::Unknown,
            Membership::Inactive => Membership::Inactive,
            Membership::Live(closure) => Membership::Live(closure),
        }
    }

    /// The closure borrowed through its pointer (an `Arc` of a cache).
    pub(crate) fn as_deref(&self) -> Membership<&C::Target>
    where
        C: Deref,
    {
        match self {
            Membership::Unknown => Membership::Unknown,
            Membership::Inactive => Membership::Inactive,
            Membership::Live(closure) => Membership::Live(&**closure),
        }
    }

    /// The closure, when the principal is live.
    pub(crate) fn live(self) -> Option<C> {
        match self {
            Membership::Live(closure) => Some(closure),
            Membership::Unknown | Membership::Inactive => None,
        }
    }

    /// The closure changed by `f`.
    pub(crate) fn map<D>(self, f: impl FnOnce(C) -> D) -> Membership<D> {
        match self {
            Membership::Unknown => Membership::Unknown,
            Membership::Inactive => Membership::Inactive,
            Membership::Live(closure) => Membership::Live(f(closure)),
        }
    }
}

/// The facts resolution reads, and nothing else. A source answers them from its rows; it
/// never computes a level, never weighs a forbid against a grant or a fence against
/// anything: [`evaluate`] does.
pub(crate) trait Facts {
    /// A principal's closure (rule P3) in the source's own terms (names, or ids).
    type Closure;
    /// Where a URI lies in the source, as its path walk found it, handed back to the
    /// lookups below the URI so they need not find it again.
    type Place: Copy;

    /// Liveness and membership of `principal` (rules E1, P3). An inactive user contributes
    /// nothing to anyone's closure.
    fn membership(&self, principal: &PrincipalName) -> Result<Membership<Self::Closure>>;

    /// Reports to `rows` what lies on `uri`'s path (`uri` and each ancestor) for `closure`:
    /// every fence, with whether the closure holds its group, and every grant (forbids
    /// included) held by a member of the closure, in any order. A source may call
    /// [`Rows::restart`] and report again, and may stop early once [`Rows::settled`].
    fn path(&self, closure: &Self::Closure, uri: &Uri, rows: &mut impl Rows)
    -> Result<Self::Place>;

    /// Whether a member of `closure` holds an allow grant strictly below `uri`.
    fn any_below(&self, closure: &Self::Closure, uri: &Uri, place: Self::Place) -> Result<bool>;

    /// The first, in (URI, holder) order, of the allow grants members of `closure` hold
    /// strictly below `uri`.
    fn first_below(
        &self,
        closure: &Self::Closure,
        uri: &Uri,
        place: Self::Place,
    ) -> Result<Option<Grant>>;

    /// Membership hops from the closure's principal to `holder`, a member.
    fn distance(&self, closure: &Self::Closure, holder: &PrincipalName) -> Option<usize>;

    /// A shortest membership path from the closure's principal to `holder`, both ends
    /// included.
    fn path_to(
        &self,
        closure: &Self::Closure,
        holder: &PrincipalName,
    ) -> Option<Vec<PrincipalName>>;
}

/// Where a source reports the rows on a URI's path ([`Facts::path`]). The rows themselves
/// are built only when asked for (by an explanation): a check reads the flags alone.
pub(crate) trait Rows {
    /// Forgets every row reported so far: the source starts its walk again.
    fn restart(&mut self);

    /// Whether the rows reported so far decide the evaluation whatever else lies on the
    /// path (a fence outside the closure, rule E4): the source may stop reporting.
    fn settled(&self) -> bool;

    /// A fence on the path; `inside` says whether the closure holds its group. `row`
    /// builds the fence.
    fn fence(&mut self, inside: bool, row: impl FnOnce() -> Result<Fence>);

    /// A grant, or a forbid when `level` is deny, held by a member of the closure on the
    /// path. `row` builds the grant.
    fn grant(&mut self, level: Level, row: impl FnOnce() -> Result<Grant>);
}

// ---------------------------------------------------------------------------------------
// The evaluator
// ---------------------------------------------------------------------------------------

/// What one evaluation keeps of the rows a source reports: [`Levels`] or [`Reasons`].
pub(crate) trait Tally<'f, F: Facts + ?Sized + 'f>: Rows {
    /// What names a deciding fence (nothing, or the fence).
    type Fence;
    /// What names a deciding grant or forbid (nothing, or the grant).
    type Grant;

    /// An empty tally for an evaluation of `closure` on `facts`.
    fn new(facts: &'f F, closure: &'f F::Closure) -> Self;

    /// The error met while building a row, if any: the evaluation fails with it rather
    /// than decide on rows it could not name.
    fn finish(&mut self) -> Result<()>;

    /// The deciding fence outside the closure, if one was reported.
    fn fence_outside(&mut self) -> Option<Self::Fence>;

    /// The deciding forbid, if one was reported.
    fn forbid(&mut self) -> Option<Self::Grant>;

    /// The highest allow level reported and its deciding grant.
    fn top(&mut self) -> Option<(Level, Self::Grant)>;

    /// The grant that makes `uri` listable (rule E2), asked of `facts`.
    fn below(
        facts: &'f F,
        closure: &'f F::Closure,
        uri: &Uri,
        place: F::Place,
    ) -> Result<Option<Self::Grant>>;
}

/// The step of resolution that decided, naming its rows as the tally keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found<Fe, G> {
    UnknownPrincipal,
    InactiveUser,
    Fence(Fe),
    Forbid(G),
    Grant(G),
    ImplicitList(G),
    NoGrant,
}

/// What one evaluation found: the level and the step that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict<Fe, G> {
    level: Level,
    found: Found<Fe, G>,
}

impl<Fe, G> Verdict<Fe, G> {
    fn deny(found: Found<Fe, G>) -> Verdict<Fe, G> {
        Verdict {
            level: Level::Deny,
            found,
        }
    }
}

/// Step 1 of resolution (rule E1): an unknown principal or an inactive user is denied
/// before any row is read; a live one goes on with its closure.
fn live_or_denied<C, Fe, G>(membership: Membership<C>) -> Result<C, Verdict<Fe, G>> {
    match membership {
        Membership::Unknown => Err(Verdict::deny(Found::UnknownPrincipal)),
        Membership::Inactive => Err(Verdict::deny(Found::InactiveUser)),
        Membership::Live(closure) => Ok(closure),
    }
}

/// `effective(p, U)` (rules E1 to E4) for the principal whose membership is `membership`,
/// on the facts of `facts`, keeping what the tally `T` keeps. The steps, in order; the first
/// that decides, decides (docs/semantics.md, "Resolution"):
pub(crate) fn evaluate<'f, F: Facts + ?Sized, T: Tally<'f, F>>(
    facts: &'f F,
    membership: Membership<&'f F::Closure>,
    uri: &Uri,
) -> Result<Verdict<T::Fence, T::Grant>> {
    // Unknown or inactive (rule E1).
    let closure = match live_or_denied(membership) {
        Ok(closure) => closure,
        Err(denied) => return Ok(denied),
    };
    let mut tally = T::new(facts, closure);
    let place = facts.path(closure, uri, &mut tally)?;
    tally.finish()?;
    // Fence (rule E4): a fence on the path whose group is outside the closure denies.
    if let Some(fence) = tally.fence_outside() {
        return Ok(Verdict::deny(Found::Fence(fence)));
    }
    // Forbid (rule E3): beats every allowance and the implicit list.
    if let Some(forbid) = tally.forbid() {
        return Ok(Verdict::deny(Found::Forbid(forbid)));
    }
    // Grant (rule E1): the highest level held on the URI or an ancestor.
    if let Some((level, grant)) = tally.top() {
        return Ok(Verdict {
            level,
            found: Found::Grant(grant),
        });
    }
    // Implicit list (rule E2): an allow grant strictly below the URI makes it listable.
    if let Some(below) = T::below(facts, closure, uri, place)? {
        return Ok(Verdict {
            level: Level::List,
            found: Found::ImplicitList(below),
        });
    }
    Ok(Verdict::deny(Found::NoGrant))
}

/// `effective(p, U)`'s level alone (a check): [`evaluate`] keeping [`Levels`].
#[inline]
pub(crate) fn level<F: Facts + ?Sized>(
    facts: &F,
    membership: Membership<&F::Closure>,
    uri: &Uri,
) -> Result<Level> {
    Ok(evaluate::<F, Levels>(facts, membership, uri)?.level)
}

/// `effective(p, U)` with its reason (rule E6): [`evaluate`] keeping [`Reasons`], then a
/// shortest membership path to the deciding row's holder.
pub(crate) fn decide<F: Facts + ?Sized>(
    facts: &F,
    membership: Membership<&F::Closure>,
    uri: &Uri,
) -> Result<Decision> {
    let closure = membership.live();
    let verdict = evaluate::<F, Reasons<'_, F>>(facts, membership, uri)?;
    Ok(verdict.explain(|holder| {
        closure
            .and_then(|c| facts.path_to(c, holder))
            .unwrap_or_default()
    }))
}

impl Verdict<Fence, Grant> {
    /// The decision with its reason, `path` giving a shortest membership path to the
    /// deciding row's holder.
    fn explain(self, path: impl Fn(&PrincipalName) -> Vec<PrincipalName>) -> Decision {
        let reason = match self.found {
            Found::UnknownPrincipal => Reason::UnknownPrincipal,
            Found::InactiveUser => Reason::InactiveUser,
            Found::Fence(fence) => Reason::Fence { fence },
            Found::Forbid(grant) => Reason::Forbid {
                path: path(&grant.holder),
                grant,
            },
            Found::Grant(grant) => Reason::Grant {
                path: path(&grant.holder),
                grant,
            },
            Found::ImplicitList(grant) => Reason::ImplicitList {
                path: path(&grant.holder),
                grant,
            },
            Found::NoGrant => Reason::NoGrant,
        };
        Decision {
            level: self.level,
            reason,
        }
    }
}

/// A question one evaluation answers, so a caller that picks the source of facts at run
/// time asks either with one generic call.
pub(crate) trait Question {
    /// The answer.
    type Answer;

    /// Asks it of `facts` for `membership` on `uri`.
    fn ask<F: Facts + ?Sized>(
        facts: &F,
        membership: Membership<&F::Closure>,
        uri: &Uri,
    ) -> Result<Self::Answer>;
}

/// The level alone ([`level`]): what a check asks.
pub(crate) enum LevelOf {}

impl Question for LevelOf {
    type Answer = Level;

    #[inline]
    fn ask<F: Facts + ?Sized>(
        facts: &F,
        membership: Membership<&F::Closure>,
        uri: &Uri,
    ) -> Result<Level> {
        level(facts, membership, uri)
    }
}

/// The decision with its reason ([`decide`]): what explain asks.
pub(crate) enum DecisionOf {}

impl Question for DecisionOf {
    type Answer = Decision;

    fn ask<F: Facts + ?Sized>(
        facts: &F,
        membership: Membership<&F::Closure>,
        uri: &Uri,
    ) -> Result<Decision> {
        decide(facts, membership, uri)
    }
}

// ---------------------------------------------------------------------------------------
// The tallies
// ---------------------------------------------------------------------------------------

/// A check's tally: flags and the highest level, no row built.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Levels {
    fenced: bool,
    forbid: bool,
    top: Option<Level>,
}

impl Rows for Levels {
    #[inline(always)]
    fn restart(&mut self) {
        *self = Levels::default();
    }

    #[inline(always)]
    fn settled(&self) -> bool {
        self.fenced
    }

    #[inline(always)]
    fn fence(&mut self, inside: bool, _row: impl FnOnce() -> Result<Fence>) {
        if !inside {
            self.fenced = true;
        }
    }

    #[inline(always)]
    fn grant(&mut self, level: Level, _row: impl FnOnce() -> Result<Grant>) {
        if level == Level::Deny {
            self.forbid = true;
        } else {
            self.top = self.top.max(Some(level));
        }
    }
}

impl<'f, F: Facts + ?Sized + 'f> Tally<'f, F> for Levels {
    type Fence = ();
    type Grant = ();

    #[inline(always)]
    fn new(_: &'f F, _: &'f F::Closure) -> Levels {
        Levels::default()
    }

    #[inline(always)]
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    #[inline(always)]
    fn fence_outside(&mut self) -> Option<()> {
        self.fenced.then_some(())
    }

    #[inline(always)]
    fn forbid(&mut self) -> Option<()> {
        self.forbid.then_some(())
    }

    #[inline(always)]
    fn top(&mut self) -> Option<(Level, ())> {
        self.top.map(|level| (level, ()))
    }

    #[inline(always)]
    fn below(
        facts: &'f F,
        closure: &'f F::Closure,
        uri: &Uri,
        place: F::Place,
    ) -> Result<Option<()>> {
        Ok(facts.any_below(closure, uri, place)?.then_some(()))
    }
}

/// An explanation's tally: the same flags as [`Levels`], held as the rows that would be
/// named, each kept only when it beats the one before by the tie-breaks of
/// docs/semantics.md ("Explain").
pub(crate) struct Reasons<'f, F: Facts + ?Sized> {
    facts: &'f F,
    closure: &'f F::Closure,
    /// The deepest fence outside the closure, then by group name.
    fence: Option<Fence>,
    /// The preferred forbid, with its holder's distance.
    forbid: Option<(usize, Grant)>,
    /// The highest allow level, and the preferred grant at it with its holder's distance.
    top: Option<(Level, usize, Grant)>,
    error: Option<Error>,
}

impl<F: Facts + ?Sized> Reasons<'_, F> {
    /// Keeps `result`'s row, or its error (the first one) for [`Tally::finish`].
    fn row<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(row) => Some(row),
            Err(err) => {
                self.error.get_or_insert(err);
                None
            }
        }
    }
}

/// Among candidate grants, the nearest holder wins, then the deepest URI, then the
/// holder's name.
fn preference(distance: usize, grant: &Grant) -> (usize, Reverse<usize>, &PrincipalName) {
    (distance, Reverse(grant.uri.depth()), &grant.holder)
}

impl<F: Facts + ?Sized> Rows for Reasons<'_, F> {
    fn restart(&mut self) {
        self.fence = None;
        self.forbid = None;
        self.top = None;
        self.error = None;
    }

    fn settled(&self) -> bool {
        self.fence.is_some()
    }

    fn fence(&mut self, inside: bool, row: impl FnOnce() -> Result<Fence>) {
        if inside {
            return;
        }
        let Some(fence) = self.row(row()) else {
            return;
        };
        let key = |f: &Fence| (Reverse(f.uri.depth()), f.group.clone());
        if self
            .fence
            .as_ref()
            .is_none_or(|kept| key(&fence) < key(kept))
        {
            self.fence = Some(fence);
        }
    }

    fn grant(&mut self, level: Level, row: impl FnOnce() -> Result<Grant>) {
        let Some(grant) = self.row(row()) else {
            return;
        };
        let distance = self
            .facts
            .distance(self.closure, &grant.holder)
            .unwrap_or(usize::MAX);
        if level == Level::Deny {
            let better = self
                .forbid
                .as_ref()
                .is_none_or(|(d, kept)| preference(distance, &grant) < preference(*d, kept));
            if better {
                self.forbid = Some((distance, grant));
            }
            return;
        }
        let better = self.top.as_ref().is_none_or(|(top, d, kept)| {
            level > *top || (level == *top && preference(distance, &grant) < preference(*d, kept))
        });
        if better {
            self.top = Some((level, distance, grant));
        }
    }
}

impl<'f, F: Facts + ?Sized + 'f> Tally<'f, F> for Reasons<'f, F> {
    type Fence = Fence;
    type Grant = Grant;

    fn new(facts: &'f F, closure: &'f F::Closure) -> Self {
        Reasons {
            facts,
            closure,
            fence: None,
            forbid: None,
            top: None,
            error: None,
        }
    }

    fn finish(&mut self) -> Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }

    fn fence_outside(&mut self) -> Option<Fence> {
        self.fence.take()
    }

    fn forbid(&mut self) -> Option<Grant> {
        self.forbid.take().map(|(_, grant)| grant)
    }

    fn top(&mut self) -> Option<(Level, Grant)> {
        self.top.take().map(|(level, _, grant)| (level, grant))
    }

    fn below(
        facts: &'f F,
        closure: &'f F::Closure,
        uri: &Uri,
        place: F::Place,
    ) -> Result<Option<Grant>> {
        facts.first_below(closure, uri, place)
    }
}

// ---------------------------------------------------------------------------------------
// Facts from any read view
// ---------------------------------------------------------------------------------------

/// Up to this many fences, a [`Batch`] holds them all in memory.
const BATCH_FENCES: usize = 4_096;

/// [`Facts`] from the lookups of any [`ReadView`]: closures by
/// [`ReadView::reachable_graph`], the path's rows by [`ReadView::fences_at`] and
/// [`ReadView::grants_at`], the implicit list by [`ReadView::grant_below`].
pub(crate) struct ViewFacts<'v, V: ?Sized> {
    view: &'v V,
    batch: Option<&'v Batch>,
}

impl<'v, V: ReadView + ?Sized> ViewFacts<'v, V> {
    /// The facts of `view`.
    pub(crate) fn new(view: &'v V) -> ViewFacts<'v, V> {
        ViewFacts { view, batch: None }
    }

    /// The facts of `view`, with the rows `batch` already holds taken from it.
    pub(crate) fn batched(view: &'v V, batch: &'v Batch) -> ViewFacts<'v, V> {
        ViewFacts {
            view,
            batch: Some(batch),
        }
    }
}

/// What a batch of evaluations for one closure on one write transaction keeps between
/// them (`grant_many`): every fence when there are few (a batch writes no fence), and the
/// grants the closure holds on each URI already asked about. Its owner calls
/// [`Batch::forget_held`] when a write may change those grants (one held in the closure, or
/// a membership that changes the closure).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Every fence by URI, or `None` when there are too many to hold.
    fences: Option<HashMap<Uri, Vec<Fence>>>,
    /// The grants held in the closure on each URI asked about since the last forget.
    held: RefCell<HashMap<Uri, Vec<Grant>>>,
}

impl Batch {
    /// A batch over `view`'s fences.
    pub(crate) fn new<V: ReadView + ?Sized>(view: &V) -> Result<Batch> {
        let all = view.fences(None, None, BATCH_FENCES + 1)?;
        let fences = (all.len() <= BATCH_FENCES).then(|| {
            let mut by_uri: HashMap<Uri, Vec<Fence>> = HashMap::new();
            for fence in all {
                by_uri.entry(fence.uri.clone()).or_default().push(fence);
            }
            by_uri
        });
        Ok(Batch {
            fences,
            held: RefCell::default(),
        })
    }

    /// Forgets the grants held: the closure, or what it holds, may have changed.
    pub(crate) fn forget_held(&self) {
        self.held.borrow_mut().clear();
    }

    /// Reads ahead what [`Batch::held_at`] will be asked: the grants `closure` holds on
    /// each of `uris` not asked before, in one request.
    pub(crate) fn prefetch_held<V: ReadView + ?Sized>(
        &self,
        view: &V,
        closure: &Closure,
        uris: &[Uri],
    ) -> Result<()> {
        self.held_at(view, closure, uris).map(drop)
    }

    /// The grants `closure` holds on exactly any of `uris`, asking `view` only about the
    /// URIs not asked before.
    fn held_at<V: ReadView + ?Sized>(
        &self,
        view: &V,
        closure: &Closure,
        uris: &[Uri],
    ) -> Result<Vec<Grant>> {
        let mut held = self.held.borrow_mut();
        let missing: Vec<Uri> = uris
            .iter()
            .filter(|u| !held.contains_key(*u))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let found = view.grants_at(closure.as_slice(), &missing)?;
            for uri in missing {
                held.entry(uri).or_default();
            }
            for grant in found {
                held.entry(grant.uri.clone()).or_default().push(grant);
            }
        }
        Ok(uris
            .iter()
            .filter_map(|u| held.get(u))
            .flatten()
            .cloned()
            .collect())
    }
}

impl<V: ReadView + ?Sized> Facts for ViewFacts<'_, V> {
    type Closure = Closure;
    type Place = ();

    fn membership(&self, principal: &PrincipalName) -> Result<Membership<Closure>> {
        Ok(match self.view.principal(principal)? {
            None => Membership::Unknown,
            Some(record) if !record.is_live() => Membership::Inactive,
            Some(record) => Membership::Live(Closure::load(self.view, record, Walk::Live)?),
        })
    }

    fn path(&self, closure: &Closure, uri: &Uri, rows: &mut impl Rows) -> Result<()> {
        let ancestors = uri.ancestors_and_self();
        let fences = match self.batch.and_then(|b| b.fences.as_ref()) {
            Some(all) => ancestors
                .iter()
                .filter_map(|a| all.get(a))
                .flatten()
                .cloned()
                .collect(),
            None => self.view.fences_at(&ancestors)?,
        };
        for fence in &fences {
            rows.fence(closure.contains(&fence.group), || Ok(fence.clone()));
        }
        // A fence outside the closure decides: the grants need not be asked for.
        if rows.settled() {
            return Ok(());
        }
        let grants = match self.batch {
            Some(batch) => batch.held_at(self.view, closure, &ancestors)?,
            None => self.view.grants_at(closure.as_slice(), &ancestors)?,
        };
        for grant in &grants {
            rows.grant(grant.level, || Ok(grant.clone()));
        }
        Ok(())
    }

    fn any_below(&self, closure: &Closure, uri: &Uri, (): ()) -> Result<bool> {
        Ok(self.view.grant_below(closure.as_slice(), uri)?.is_some())
    }

    fn first_below(&self, closure: &Closure, uri: &Uri, (): ()) -> Result<Option<Grant>> {
        self.view.grant_below(closure.as_slice(), uri)
    }

    fn distance(&self, closure: &Closure, holder: &PrincipalName) -> Option<usize> {
        closure.distance(holder)
    }

    fn path_to(&self, closure: &Closure, holder: &PrincipalName) -> Option<Vec<PrincipalName>> {
        closure.path_to(holder)
    }
}

// ---------------------------------------------------------------------------------------
// For the mutations: the same evaluator on a write transaction
// ---------------------------------------------------------------------------------------

/// The closure of `principal`, or the decision that denies it outright (unknown or
/// inactive, rule E1).
pub(crate) fn closure_of<V: ReadView + ?Sized>(
    view: &V,
    principal: &PrincipalName,
) -> Result<Result<Closure, Decision>> {
    let membership = ViewFacts::new(view).membership(principal)?;
    Ok(live_or_denied::<_, Fence, Grant>(membership)
        .map_err(|denied| denied.explain(|_| Vec::new())))
}

/// `effective(p, U)`'s level for a closure already loaded, on `view`'s facts.
pub(crate) fn level_with<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
) -> Result<Level> {
    level(&ViewFacts::new(view), Membership::Live(closure), uri)
}
