//! The kernel's transaction API, for layers built on it (acl-platform's folders, accounts,
//! policies and sessions).
//!
//! A layer's workflow runs inside ONE kernel write transaction ([`Engine::transact`]): it
//! authorizes its actor with the kernel's own evaluation ([`authorize`], [`level`]),
//! writes its own rows through the store's transaction, and changes the kernel's rows
//! only through the helpers here, which keep the kernel's invariants: a grant of `read` or
//! more on exactly `role://R` is a membership edge (rule P2), and no edge closes a cycle
//! (rule P3). Then the kernel commits everything with one changelog entry, or nothing.
//!
//! The helpers authorize nothing themselves: a workflow calls [`authorize`] first, as the
//! kernel's own mutations do. Grants a layer writes with [`put_grant`] pass no
//! [`Layer::check_direct_grant`](crate::Layer::check_direct_grant): that hook guards the
//! kernel's *direct* grants from changing what a workflow owns.
//!
//! Several whole mutations can share one transaction too: the kernel's own mutations have
//! their bodies as `*_step` methods ([`Engine::grant_step`], [`Engine::revoke_step`], [`Engine::add_role_step`],
//! [`Engine::create_user_step`], [`Engine::add_fence_step`], [`Engine::set_active_step`]),
//! which authorize and check exactly as the mutation does, in the caller's transaction,
//! and return the [`Step`] the mutation would commit. acl-platform's model import runs a
//! whole model so, and commits it with one changelog entry of its own.

use std::borrow::Cow;

use crate::engine::{self, Applied, Engine, GrantOutcome, Reader, Step};
use crate::error::{Error, Result};
use crate::graph::Closure;
use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::resolve::{self, Decision};
use crate::rows::PrincipalRecord;
use crate::store::{ReadView, Store, WriteTxn};
use crate::uri::Uri;

impl<S: Store> Engine<S> {
    /// Runs `body` in ONE write transaction of the store; commits with the step's
    /// changelog entry if it changed something, and drops the transaction (rolling every
    /// write back) on an error or when nothing changed. The answer carries the revision
    /// after the call.
    pub fn transact<T>(
        &self,
        body: impl FnOnce(&mut S::Write<'_>) -> Result<Step<T>>,
    ) -> Result<Applied<T>> {
        self.mutate(body)
    }

    /// The cluster name of an initialized store, as `view` sees it;
    /// [`Error::NotFound`] before init.
    pub fn cluster_in<V: ReadView + ?Sized>(&self, view: &V) -> Result<&ClusterName> {
        self.cluster(view)
    }

    /// The rows of init (rule P5) in the caller's transaction: the cluster, its roles,
    /// the scheme roots' grants, the first admin user when given, and every layer's
    /// [`Layer::on_init`](crate::Layer::on_init).
    pub fn init_in(
        &self,
        tx: &mut S::Write<'_>,
        cluster: &ClusterName,
        admin: Option<&PrincipalName>,
    ) -> Result<()> {
        self.init_rows(tx, cluster, admin)
    }

    /// The rows of a new user (rule P5) in the caller's transaction: its principal, its
    /// home grants and `read` on `user://u`. The caller authorized the creation.
    pub fn create_user_in(
        &self,
        tx: &mut S::Write<'_>,
        cluster: &ClusterName,
        name: &PrincipalName,
    ) -> Result<()> {
        self.insert_user(tx, cluster, name)
    }

    /// The body of a direct grant (rule M1) in the caller's transaction, after the caller
    /// authorized `actor_closure`'s principal for `manage` on `uri`: the share scope
    /// (rule V2), every layer's check, forbid and grant clashes, and the write with its
    /// membership edge. `grantee_record` is the grantee's record as read in `tx`.
    pub fn grant_in(
        &self,
        tx: &mut S::Write<'_>,
        actor_closure: &Closure,
        uri: &Uri,
        grantee: &PrincipalName,
        grantee_record: Option<PrincipalRecord>,
        level: Level,
    ) -> Result<GrantOutcome> {
        self.apply_grant(tx, actor_closure, uri, grantee, grantee_record, level)
    }
}

impl<'e, S: Store + 'e> Reader<'e, S> {
    /// `name` with the user alias `{C}/users/u` resolved (rule P1), borrowed when it is
    /// already canonical.
    pub fn canonical_name<'n>(&self, name: &'n PrincipalName) -> Result<Cow<'n, PrincipalName>> {
        self.principal_name(name)
    }
}

/// `closure(p)` on `view` (rule P3), or the decision that denies p outright: unknown or
/// an inactive user (rule E1).
pub fn closure<V: ReadView + ?Sized>(
    view: &V,
    principal: &PrincipalName,
) -> Result<Result<Closure, Decision>> {
    resolve::closure_of(view, principal)
}

/// The effective level on `uri` of the principal whose closure is `closure` (rules E1 to
/// E4): the same evaluation as every check.
pub fn level<V: ReadView + ?Sized>(view: &V, closure: &Closure, uri: &Uri) -> Result<Level> {
    resolve::level_with(view, closure, uri)
}

/// Authorizes `actor` for `needed` on `uri` ([`Error::Forbidden`]
/// naming `action` otherwise), returning its closure for further checks.
pub fn authorize<V: ReadView + ?Sized>(
    view: &V,
    actor: &PrincipalName,
    uri: &Uri,
    needed: Level,
    action: &'static str,
) -> Result<Closure> {
    engine::authorize(view, actor, uri, needed, action)
}

/// Writes `holder`'s grant of `level` on `uri` and keeps the membership edge of rule P2 in
/// step with it, refusing an edge that would close a cycle (rule P3).
pub fn put_grant<T: WriteTxn + ?Sized>(
    tx: &mut T,
    holder: &PrincipalName,
    uri: &Uri,
    level: Level,
) -> Result<()> {
    engine::put_grant(tx, holder, uri, level)
}

/// Removes `holder`'s grant on exactly `uri` and the membership edge it made; the level it
/// had, or `None` when there was none.
pub fn remove_grant<T: WriteTxn + ?Sized>(
    tx: &mut T,
    holder: &PrincipalName,
    uri: &Uri,
) -> Result<Option<Level>> {
    engine::remove_grant(tx, holder, uri)
}

/// After a new principal was inserted, turns the grants of `read` or more already held on
/// exactly `role://{record.name}` into membership edges (rule P2).
pub fn link_existing_members<T: WriteTxn + ?Sized>(
    tx: &mut T,
    record: &PrincipalRecord,
) -> Result<()> {
    engine::link_existing_members(tx, record)
}

/// `{C}/users/u` is user `u` (rule P1); every other name is itself.
pub fn canonical_name(cluster: &ClusterName, name: &PrincipalName) -> PrincipalName {
    engine::canonical_name(cluster, name)
}

/// The cluster role `{C}/{role}` (`admin`, `manager`, `monitor`, ...).
pub fn cluster_role(cluster: &ClusterName, role: &str) -> Result<PrincipalName> {
    engine::cluster_role(cluster, role)
}

/// The refusal of `action` on `uri` to `actor`, which needed `needed` there
/// ([`Error::Forbidden`]), worded as every kernel refusal is.
pub fn forbidden(actor: &PrincipalName, action: &'static str, uri: &Uri, needed: Level) -> Error {
    engine::forbidden(actor, action, uri, needed)
}

/// Whether `name` is a user alias `{C}/users/u` of cluster `cluster` (rule P1).
pub fn is_user_alias(cluster: &ClusterName, name: &PrincipalName) -> bool {
    engine::is_user_alias(cluster, name)
}

/// The cluster name of an initialized store as `view` sees it;
/// [`Error::NotFound`] before init.
pub fn cluster<V: ReadView + ?Sized>(view: &V) -> Result<ClusterName> {
    engine::cluster_of(view)
}
