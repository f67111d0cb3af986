//! Resolution (rules E1 to E4, E6): one evaluation that yields both the level and the
//! reason, so `check` and `explain` can never disagree.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::graph::{Closure, Walk};
use crate::level::Level;
use crate::name::PrincipalName;
use crate::store::{Fence, Grant, ReadView};
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

/// `effective(p, U)` for a closure already loaded. The steps, in order; the first that
/// decides, decides:
pub(crate) fn decide_with<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
) -> Result<Decision> {
    decide_with_fences(view, closure, uri, |ancestors| view.fences_at(ancestors))
}

/// [`decide_with`], taking the fences on the ancestors from `fences_at` (a batch that
/// knows every fence asks no store).
pub(crate) fn decide_with_fences<V: ReadView + ?Sized>(
    view: &V,
    closure: &Closure,
    uri: &Uri,
    fences_at: impl FnOnce(&[Uri]) -> Result<Vec<Fence>>,
) -> Result<Decision> {
    let ancestors = uri.ancestors_and_self();

    // Fence (rule E4): any fence on the path whose group is outside the closure denies.
    // The nearest such fence is named, then by group name.
    let mut fences = fences_at(&ancestors)?;
    fences.sort_by(|a, b| {
        (Reverse(a.uri.depth()), &a.group).cmp(&(Reverse(b.uri.depth()), &b.group))
    });
    if let Some(fence) = fences.into_iter().find(|f| !closure.contains(&f.group)) {
        return Ok(Decision::deny(Reason::Fence { fence }));
    }

    let members = closure.as_slice();
    let grants = view.grants_at(members, &ancestors)?;
    // Among candidates, the nearest holder, then the deepest URI, then the holder's name.
    let preference = |g: &Grant| {
        (
            closure.distance(&g.holder).unwrap_or(usize::MAX),
            Reverse(g.uri.depth()),
            g.holder.clone(),
        )
    };
    let path = |g: &Grant| closure.path_to(&g.holder).unwrap_or_default();

    // Forbid (rule E3): beats every allowance and the implicit list.
    if let Some(forbid) = grants
        .iter()
        .filter(|g| g.level == Level::Deny)
        .min_by_key(|g| preference(g))
    {
        return Ok(Decision::deny(Reason::Forbid {
            path: path(forbid),
            grant: forbid.clone(),
        }));
    }

    // Grant (rule E1): the highest level held on the URI or an ancestor.
    if let Some(best) = grants
        .iter()
        .filter(|g| g.level.is_allow())
        .min_by_key(|g| (Reverse(g.level), preference(g)))
    {
        return Ok(Decision {
            level: best.level,
            reason: Reason::Grant {
                path: path(best),
                grant: best.clone(),
            },
        });
    }

    // Implicit list (rule E2): a grant strictly below the URI makes it listable.
    if let Some(below) = view.grant_below(members, uri)? {
        return Ok(Decision {
            level: Level::List,
            reason: Reason::ImplicitList {
                path: path(&below),
                grant: below,
            },
        });
    }

    Ok(Decision::deny(Reason::NoGrant))
}
