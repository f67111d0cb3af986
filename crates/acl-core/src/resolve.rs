//! Resolution (rules E1 to E4, E6): one evaluation that yields both the level and the
//! reason, so `check` and `explain` can never disagree.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

use crate::error::Result;
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
    fn deny(reason: Reason) -> Decision {
        Decision {
            level: Level::Deny,
            reason,
        }
    }

    /// Whether the decision grants at least `level`.
    pub fn allows(&self, level: Level) -> bool {
        self.level >= level
    }
}

/// The closure of `principal`, or the decision that denies it outright (unknown or
/// inactive).
pub(crate) fn closure_of<V: ReadView + ?Sized>(
    view: &V,
    principal: &PrincipalName,
) -> Result<Result<Closure, Decision>> {
    match view.principal(principal)? {
        None => Ok(Err(Decision::deny(Reason::UnknownPrincipal))),
        Some(record) if !record.is_live() => Ok(Err(Decision::deny(Reason::InactiveUser))),
        Some(record) => Ok(Ok(Closure::load(view, record, Walk::Live)?)),
    }
}

/// What one evaluation found, before any membership path is computed: the level and the
/// deciding row. [`Verdict::explain`] turns it into the [`Decision`] with its path; a check
/// reads only the level. Both come from the same evaluation, so they cannot disagree.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    level: Level,
    found: Found,
}

#[derive(Debug, Clone)]
enum Found {
    Fence(Fence),
    Forbid(Grant),
    Grant(Grant),
    ImplicitList(Grant),
    NoGrant,
}

impl Verdict {
    /// The effective level.
    pub(crate) fn level(&self) -> Level {
        self.level
    }

    /// The grant that decided, when an allowance did (rule E1).
    pub(crate) fn deciding_grant(&self) -> Option<&Grant> {
        match &self.found {
            Found::Grant(grant) => Some(grant),
            _ => None,
        }
    }

    /// The decision with its reason: the deciding row and a shortest membership path from
    /// the principal to its holder (computed here, only when asked for).
    pub(crate) fn explain(self, closure: &Closure) -> Decision {
        let path = |g: &Grant| closure.path_to(&g.holder).unwrap_or_default();
        let reason = match self.found {
            Found::Fence(fence) => Reason::Fence { fence },
            Found::Forbid(grant) => Reason::Forbid {
                path: path(&grant),
                grant,
            },
            Found::Grant(grant) => Reason::Grant {
                path: path(&grant),
                grant,
            },
            Found::ImplicitList(grant) => Reason::ImplicitList {
                path: path(&grant),
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

/// `effective(p, U)` with its reason, for a closure already loaded: [`evaluate`] then
/// [`Verdict::explain`].
pub(crate) fn decide_with<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
) -> Result<Decision> {
    Ok(evaluate(view, closure, uri)?.explain(closure))
}

/// `effective(p, U)`'s level alone, for a closure already loaded: [`evaluate`] with no path.
pub(crate) fn level_with<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
) -> Result<Level> {
    Ok(evaluate(view, closure, uri)?.level)
}

/// [`evaluate_with_fences`] with the fences read from `view`.
pub(crate) fn evaluate<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
) -> Result<Verdict> {
    evaluate_with_fences(view, closure, uri, |ancestors| view.fences_at(ancestors))
}

/// `effective(p, U)` for a closure already loaded, taking the fences on the ancestors from
/// `fences_at` (a batch that knows every fence asks no store). The steps, in order; the
/// first that decides, decides:
pub(crate) fn evaluate_with_fences<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
    fences_at: impl FnOnce(&[Uri]) -> Result<Vec<Fence>>,
) -> Result<Verdict> {
    let ancestors = uri.ancestors_and_self();

    // Fence (rule E4): any fence on the path whose group is outside the closure denies.
    // The nearest such fence is named, then by group name.
    let fences = fences_at(&ancestors)?;
    if let Some(fence) = fences
        .into_iter()
        .filter(|f| !closure.contains(&f.group))
        .min_by(|a, b| (Reverse(a.uri.depth()), &a.group).cmp(&(Reverse(b.uri.depth()), &b.group)))
    {
        return Ok(Verdict {
            level: Level::Deny,
            found: Found::Fence(fence),
        });
    }

    let members = closure.as_slice();
    let grants = view.grants_at(members, &ancestors)?;
    let better = |a: &&Grant, b: &&Grant| preference(closure, a).cmp(&preference(closure, b));

    // Forbid (rule E3): beats every allowance and the implicit list.
    if let Some(forbid) = grants
        .iter()
        .filter(|g| g.level == Level::Deny)
        .min_by(better)
    {
        return Ok(Verdict {
            level: Level::Deny,
            found: Found::Forbid(forbid.clone()),
        });
    }

    // Grant (rule E1): the highest level held on the URI or an ancestor.
    let top = grants.iter().map(|g| g.level).max();
    if let Some(top) = top.filter(|l| l.is_allow())
        && let Some(best) = grants.iter().filter(|g| g.level == top).min_by(better)
    {
        return Ok(Verdict {
            level: top,
            found: Found::Grant(best.clone()),
        });
    }

    // Implicit list (rule E2): a grant strictly below the URI makes it listable.
    if let Some(below) = view.grant_below(members, uri)? {
        return Ok(Verdict {
            level: Level::List,
            found: Found::ImplicitList(below),
        });
    }

    Ok(Verdict {
        level: Level::Deny,
        found: Found::NoGrant,
    })
}

/// Among candidate grants, the nearest holder wins, then the deepest URI, then the
/// holder's name.
fn preference<'g>(closure: &Closure, g: &'g Grant) -> (usize, Reverse<usize>, &'g PrincipalName) {
    (
        closure.distance(&g.holder).unwrap_or(usize::MAX),
        Reverse(g.uri.depth()),
        &g.holder,
    )
}
