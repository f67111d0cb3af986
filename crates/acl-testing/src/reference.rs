//! The naive reference model: the rules of `docs/semantics.md` written as directly as
//! possible, for differential testing against the engine.
//!
//! The model keeps three plain vectors (principals, grants, fences) and nothing derived:
//! membership edges are recomputed from the grants on every query (rule P2), closures by a
//! fixed-point iteration (step 2 of resolution), and every fence, forbid and grant is found
//! by scanning all of them. It is slow on purpose and obviously correct on purpose; it never
//! panics, whatever the input.
//!
//! Names and URIs are taken as the engine takes them: `{C}/users/u` is user `u` wherever a
//! principal name is expected (rule P1), and a `role://{C}/users/u/...` URI is
//! `role://u/...`. Where semantics.md leaves a choice open the model follows the engine and
//! says so in the item's documentation.
//!
//! ```
//! use acl_testing::ops::{Op, Outcome};
//! use acl_testing::reference::{ReasonKind, Reference};
//! use acl_core::{ClusterName, ErrorKind, Level, PrincipalName, Schema, Uri};
//!
//! let name = |text: &str| PrincipalName::new(text).unwrap();
//! let cluster = ClusterName::new("c").unwrap();
//! let mut model = Reference::init(Schema::standard(), cluster, Some(name("admin"))).unwrap();
//! let bob = Op::CreateUser { actor: name("admin"), name: name("bob") };
//! assert_eq!(model.apply(&bob), Ok(Outcome::Done));
//! assert_eq!(model.apply(&bob), Err(ErrorKind::Conflict));
//! let home = Uri::parse("storage://c/bob/data").unwrap();
//! assert_eq!(model.effective(&name("bob"), &home), (Level::Manage, ReasonKind::Grant));
//! assert_eq!(model.revision(), 2);
//! ```
#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "the model must never panic, whatever the input"
)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::ops::{Op, Outcome};
use acl_core::ErrorKind;
use acl_core::Level;
use acl_core::Uri;
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Fence, Grant, PrincipalKind, PrincipalRecord};
use acl_core::{Schema, ShareScope};

/// Which step of resolution decided (semantics.md, "Resolution" and "Explain").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonKind {
    /// Step 1: the principal does not exist.
    UnknownPrincipal,
    /// Step 1: the principal is an inactive user.
    InactiveUser,
    /// Step 3: a fence whose group is not in the closure (rule E4).
    Fence,
    /// Step 4: a forbid held by the closure on the URI or an ancestor (rule E3).
    Forbid,
    /// Step 5: an allow grant held by the closure on the URI or an ancestor (rule E1).
    Grant,
    /// Step 6: an allow grant held by the closure strictly below the URI (rule E2).
    ImplicitList,
    /// Step 7: nothing applies.
    NoGrant,
}

/// The reason of a decision with its evidence, as the model chooses it (tie-breaks of
/// semantics.md, "Explain").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelReason {
    /// Step 1: the principal does not exist.
    UnknownPrincipal,
    /// Step 1: the principal is an inactive user.
    InactiveUser,
    /// Step 3: this fence denies.
    Fence(Fence),
    /// Step 4: this forbid denies; `path` goes from the principal to the forbid's holder.
    Forbid {
        /// The forbid (a grant of level deny).
        grant: Grant,
        /// A shortest membership path, the principal first and the holder last.
        path: Vec<PrincipalName>,
    },
    /// Step 5: this grant decides the level.
    Grant {
        /// The deciding grant.
        grant: Grant,
        /// A shortest membership path, the principal first and the holder last.
        path: Vec<PrincipalName>,
    },
    /// Step 6: this grant strictly below the URI gives `list`.
    ImplicitList {
        /// The descendant grant.
        grant: Grant,
        /// A shortest membership path, the principal first and the holder last.
        path: Vec<PrincipalName>,
    },
    /// Step 7: nothing applies.
    NoGrant,
}

impl ModelReason {
    /// The step that decided.
    pub fn kind(&self) -> ReasonKind {
        match self {
            ModelReason::UnknownPrincipal => ReasonKind::UnknownPrincipal,
            ModelReason::InactiveUser => ReasonKind::InactiveUser,
            ModelReason::Fence(_) => ReasonKind::Fence,
            ModelReason::Forbid { .. } => ReasonKind::Forbid,
            ModelReason::Grant { .. } => ReasonKind::Grant,
            ModelReason::ImplicitList { .. } => ReasonKind::ImplicitList,
            ModelReason::NoGrant => ReasonKind::NoGrant,
        }
    }
}

/// A decision of the model: the effective level and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDecision {
    /// The effective level.
    pub level: Level,
    /// The step that decided, with its evidence.
    pub reason: ModelReason,
}

/// The naive reference model of an engine's state. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    schema: Schema,
    cluster: ClusterName,
    principals: Vec<PrincipalRecord>,
    grants: Vec<Grant>,
    fences: Vec<Fence>,
    revision: u64,
}

/// An op's failure: its kind only (the model does not reproduce messages).
type OpResult<T> = Result<T, ErrorKind>;

impl Reference {
    /// The state right after the engine's `init` (rule P5): the cluster roles `{C}/admin`
    /// (with `manage` on every scheme root of the schema), `{C}/manager` (empty) and
    /// `{C}/monitor` (`read` on `user://` and `policy://` where the schema has them,
    /// rule A4), and,
    /// when given, the first admin user with its home grants and a `read` grant on
    /// `role://{C}/admin`. Init is one commit: the revision is 1.
    ///
    /// Fails with [`ErrorKind::InvalidInput`] for an admin name that is not a valid user
    /// name (one segment, not the cluster's name).
    pub fn init(
        schema: Schema,
        cluster: ClusterName,
        admin: Option<PrincipalName>,
    ) -> Result<Reference, ErrorKind> {
        let mut model = Reference {
            schema,
            cluster,
            principals: Vec::new(),
            grants: Vec::new(),
            fences: Vec::new(),
            revision: 0,
        };
        let admin_role = model.cluster_role("admin")?;
        let manager_role = model.cluster_role("manager")?;
        let monitor_role = model.cluster_role("monitor")?;
        for name in [&admin_role, &manager_role, &monitor_role] {
            model.principals.push(PrincipalRecord {
                name: name.clone(),
                kind: PrincipalKind::Role,
                active: true,
            });
        }
        let roots = model
            .schema
            .scheme_roots()
            .map_err(|_| ErrorKind::InvalidInput)?;
        for root in roots {
            model.grants.push(Grant {
                holder: admin_role.clone(),
                uri: root,
                level: Level::Manage,
            });
        }
        for scheme in ["user", "policy"] {
            if model.schema.scheme(scheme).is_some() {
                model.grants.push(Grant {
                    holder: monitor_role.clone(),
                    uri: Uri::root(scheme).map_err(|_| ErrorKind::InvalidInput)?,
                    level: Level::Read,
                });
            }
        }
        if let Some(admin) = admin {
            model.check_user_name(&admin)?;
            model.insert_user(&admin)?;
            model.grants.push(Grant {
                holder: admin,
                uri: Uri::of_role(&admin_role),
                level: Level::Read,
            });
            if model.has_cycle() {
                return Err(ErrorKind::Conflict);
            }
        }
        model.revision = 1;
        Ok(model)
    }

    // ----------------------------------------------------------------------------------
    // Accessors
    // ----------------------------------------------------------------------------------

    /// The schema the model enforces.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The cluster name.
    pub fn cluster(&self) -> &ClusterName {
        &self.cluster
    }

    /// The number of committed changes: 1 after init, plus one per op that changed
    /// something (rule M3).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Every principal, in creation order.
    pub fn principals(&self) -> &[PrincipalRecord] {
        &self.principals
    }

    /// Every direct grant and forbid, in creation order.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Every fence, in creation order.
    pub fn fences(&self) -> &[Fence] {
        &self.fences
    }

    /// The principal a name denotes: `{C}/users/u` is an alias of user `u` (rule P1); any
    /// other name denotes itself. Existence is not checked.
    pub fn resolve(&self, name: &PrincipalName) -> PrincipalName {
        let segments: Vec<&str> = name.segments().collect();
        match segments.as_slice() {
            [cluster, "users", user] if *cluster == self.cluster.as_str() => {
                PrincipalName::new(user).unwrap_or_else(|_| name.clone())
            }
            _ => name.clone(),
        }
    }

    /// The URI `uri` denotes: `role://{C}/users/u/...` is `role://u/...` (the user alias,
    /// rule P1, inside role URIs, as the engine reads it); every other URI is itself.
    pub fn canonical_uri(&self, uri: &Uri) -> Uri {
        let segments: Vec<&str> = uri.segments().collect();
        match segments.as_slice() {
            [cluster, "users", rest @ ..]
                if uri.scheme() == "role"
                    && *cluster == self.cluster.as_str()
                    && !rest.is_empty() =>
            {
                Uri::parse(&format!("role://{}", rest.join("/"))).unwrap_or_else(|_| uri.clone())
            }
            _ => uri.clone(),
        }
    }

    /// The record of the principal `name` denotes (after the alias), if it exists.
    pub fn principal(&self, name: &PrincipalName) -> Option<&PrincipalRecord> {
        let name = self.resolve(name);
        self.record(&name)
    }

    /// The membership edges `(member, role)`, derived from the grants (rule P2): one for
    /// every direct grant of `read` or more on exactly `role://R` where R exists.
    pub fn edges(&self) -> Vec<(PrincipalName, PrincipalName)> {
        self.grants
            .iter()
            .filter(|g| g.level >= Level::Read)
            .filter_map(|g| {
                let role = g.uri.role_name()?;
                self.record(&role)?;
                Some((g.holder.clone(), role))
            })
            .collect()
    }

    /// The derived state (edges, closures) of the current state, for asking many questions
    /// of one state without deriving it again for each. Every query method of `Reference`
    /// is `self.derive().method(..)`.
    pub fn derive(&self) -> Derived<'_> {
        Derived {
            model: self,
            edges: self.edges(),
            walks: RefCell::new(BTreeMap::new()),
        }
    }

    /// See [`Derived::closure`].
    pub fn closure(&self, p: &PrincipalName) -> BTreeSet<PrincipalName> {
        self.derive().closure(p)
    }

    /// See [`Derived::distance`].
    pub fn distance(&self, p: &PrincipalName, holder: &PrincipalName) -> Option<usize> {
        self.derive().distance(p, holder)
    }

    /// See [`Derived::is_membership_path`].
    pub fn is_membership_path(&self, p: &PrincipalName, path: &[PrincipalName]) -> bool {
        self.derive().is_membership_path(p, path)
    }

    /// See [`Derived::effective`].
    pub fn effective(&self, p: &PrincipalName, uri: &Uri) -> (Level, ReasonKind) {
        self.derive().effective(p, uri)
    }

    /// See [`Derived::check`].
    pub fn check(&self, p: &PrincipalName, uri: &Uri, level: Level) -> bool {
        self.derive().check(p, uri, level)
    }

    /// See [`Derived::explain`].
    pub fn explain(&self, p: &PrincipalName, uri: &Uri) -> ModelDecision {
        self.derive().explain(p, uri)
    }

    /// See [`Derived::list`].
    pub fn list(&self, p: &PrincipalName, within: Option<&Uri>) -> Vec<(Uri, Level)> {
        self.derive().list(p, within)
    }

    /// See [`Derived::shared`].
    pub fn shared(&self, p: &PrincipalName) -> Vec<Grant> {
        self.derive().shared(p)
    }

    /// See [`Derived::who`].
    pub fn who(&self, uri: &Uri, level: Level) -> Vec<PrincipalName> {
        self.derive().who(uri, level)
    }

    /// See [`Derived::tree`].
    pub fn tree(&self, p: &PrincipalName, uri: &Uri, depth: usize) -> Vec<(Uri, Level)> {
        self.derive().tree(p, uri, depth)
    }

    // ----------------------------------------------------------------------------------
    // Mutations
    // ----------------------------------------------------------------------------------

    /// Applies one op as the engine would: validation, then the actor's authorization,
    /// then existence, then state conflicts, then the change. A failed op changes nothing;
    /// a successful op that changed something raises the revision by one.
    pub fn apply(&mut self, op: &Op) -> OpResult<Outcome> {
        let mut next = self.clone();
        let outcome = next.apply_in_place(op)?;
        if outcome.changed() {
            next.revision = next.revision.saturating_add(1);
            *self = next;
        }
        Ok(outcome)
    }

    fn apply_in_place(&mut self, op: &Op) -> OpResult<Outcome> {
        match op {
            Op::CreateUser { actor, name } => self.create_user(actor, name),
            Op::AddRole { actor, name, group } => self.add_role(actor, name, *group),
            Op::RemoveRole { actor, name } => self.remove_role(actor, name),
            Op::Grant {
                actor,
                uri,
                grantee,
                level,
            } => self.grant(actor, uri, grantee, *level),
            Op::Revoke {
                actor,
                uri,
                grantee,
            } => self.revoke(actor, uri, grantee),
            Op::AddFence { actor, uri, group } => self.add_fence(actor, uri, group),
            Op::RemoveFence { actor, uri, group } => self.remove_fence(actor, uri, group),
            Op::SetActive {
                actor,
                name,
                active,
            } => self.set_active(actor, name, *active),
        }
    }

    /// create_user: rules A4 and P5.
    fn create_user(&mut self, actor: &PrincipalName, name: &PrincipalName) -> OpResult<Outcome> {
        self.check_user_name(name)?;
        self.authorize(actor, &self.uri_of("user://")?)?;
        if self.record(name).is_some() {
            return Err(ErrorKind::Conflict);
        }
        self.insert_user(name)?;
        // The new user's home grants can turn existing grants on `role://{name}` and its
        // own `manage` on `role://{name}/roles` into edges at once; refuse a cycle.
        if self.has_cycle() {
            return Err(ErrorKind::Conflict);
        }
        Ok(Outcome::Done)
    }

    /// add_role: rule P2 (manage on `role://R`).
    fn add_role(
        &mut self,
        actor: &PrincipalName,
        name: &PrincipalName,
        group: bool,
    ) -> OpResult<Outcome> {
        let mut segments = name.segments();
        if segments.next() == Some(self.cluster.as_str())
            && segments.next() == Some("users")
            && segments.next().is_some()
        {
            return Err(ErrorKind::InvalidInput);
        }
        self.authorize(actor, &Uri::of_role(name))?;
        if self.record(name).is_some() {
            return Err(ErrorKind::Conflict);
        }
        self.principals.push(PrincipalRecord {
            name: name.clone(),
            kind: if group {
                PrincipalKind::Group
            } else {
                PrincipalKind::Role
            },
            active: true,
        });
        // A new role holds nothing, so the grants on `role://{name}` it turns into edges
        // cannot close a cycle; checked anyway, as the rule says.
        if self.has_cycle() {
            return Err(ErrorKind::Conflict);
        }
        Ok(Outcome::Done)
    }

    /// remove_role: rule P4 and the settled fence rule.
    fn remove_role(&mut self, actor: &PrincipalName, name: &PrincipalName) -> OpResult<Outcome> {
        let name = self.resolve(name);
        if name == self.cluster_role("admin")?
            || name == self.cluster_role("manager")?
            || name == self.cluster_role("monitor")?
        {
            return Err(ErrorKind::InvalidInput);
        }
        self.authorize(actor, &Uri::of_role(&name))?;
        let record = self.record(&name).ok_or(ErrorKind::NotFound)?;
        if record.kind == PrincipalKind::User {
            return Err(ErrorKind::InvalidInput);
        }
        if self.fences.iter().any(|f| f.group == name) {
            return Err(ErrorKind::Conflict);
        }
        let own_uri = Uri::of_role(&name);
        self.principals.retain(|r| r.name != name);
        self.grants.retain(|g| g.holder != name && g.uri != own_uri);
        Ok(Outcome::Done)
    }

    /// grant: rules M1, E3, P3, V2 and the outcome table of semantics.md.
    fn grant(
        &mut self,
        actor: &PrincipalName,
        uri: &Uri,
        grantee: &PrincipalName,
        level: Level,
    ) -> OpResult<Outcome> {
        let uri = &self.canonical_uri(uri);
        let def = self
            .schema
            .scheme(uri.scheme())
            .ok_or(ErrorKind::InvalidInput)?;
        if level == Level::Deny && def.no_forbids {
            return Err(ErrorKind::InvalidInput);
        }
        let scope = def.share_scope;
        let grantee = self.resolve(grantee);
        self.authorize(actor, uri)?;
        self.record(&grantee).ok_or(ErrorKind::NotFound)?;
        if level.is_allow() && scope == Some(ShareScope::SameGroup) {
            let actor_groups = self.groups_of(actor);
            let grantee_groups = self.groups_of(&grantee);
            if actor_groups.is_disjoint(&grantee_groups) {
                return Err(ErrorKind::Forbidden);
            }
        }
        let existing = self
            .grants
            .iter_mut()
            .find(|g| g.holder == grantee && g.uri == *uri);
        let outcome = match existing {
            None => {
                self.grants.push(Grant {
                    holder: grantee,
                    uri: uri.clone(),
                    level,
                });
                Outcome::Created
            }
            Some(current) => match (current.level, level) {
                (Level::Deny, Level::Deny) => {
                    return Ok(Outcome::Kept {
                        existing: Level::Deny,
                    });
                }
                (Level::Deny, _) | (_, Level::Deny) => return Err(ErrorKind::Conflict),
                (from, to) if from >= to => return Ok(Outcome::Kept { existing: from }),
                (from, to) => {
                    current.level = to;
                    Outcome::Raised { from }
                }
            },
        };
        if self.has_cycle() {
            return Err(ErrorKind::Conflict);
        }
        Ok(outcome)
    }

    /// revoke: rule M2.
    fn revoke(
        &mut self,
        actor: &PrincipalName,
        uri: &Uri,
        grantee: &PrincipalName,
    ) -> OpResult<Outcome> {
        let uri = &self.canonical_uri(uri);
        self.schema
            .validate(uri)
            .map_err(|_| ErrorKind::InvalidInput)?;
        let grantee = self.resolve(grantee);
        self.authorize(actor, uri)?;
        self.record(&grantee).ok_or(ErrorKind::NotFound)?;
        let before = self.grants.len();
        self.grants
            .retain(|g| !(g.holder == grantee && g.uri == *uri));
        if self.grants.len() == before {
            return Err(ErrorKind::NoEffect);
        }
        Ok(Outcome::Done)
    }

    /// add_fence: rule E4.
    fn add_fence(
        &mut self,
        actor: &PrincipalName,
        uri: &Uri,
        group: &PrincipalName,
    ) -> OpResult<Outcome> {
        let fence = self.fence_target(actor, uri, group)?;
        if self.fences.contains(&fence) {
            return Err(ErrorKind::Conflict);
        }
        self.fences.push(fence);
        Ok(Outcome::Done)
    }

    /// remove_fence: rule E4.
    fn remove_fence(
        &mut self,
        actor: &PrincipalName,
        uri: &Uri,
        group: &PrincipalName,
    ) -> OpResult<Outcome> {
        let fence = self.fence_target(actor, uri, group)?;
        let before = self.fences.len();
        self.fences.retain(|f| *f != fence);
        if self.fences.len() == before {
            return Err(ErrorKind::NoEffect);
        }
        Ok(Outcome::Done)
    }

    /// The checks add_fence and remove_fence share: a known scheme that allows fences, the
    /// actor's `manage` on the scheme root, an existing group.
    fn fence_target(
        &self,
        actor: &PrincipalName,
        uri: &Uri,
        group: &PrincipalName,
    ) -> OpResult<Fence> {
        let uri = &self.canonical_uri(uri);
        let def = self
            .schema
            .scheme(uri.scheme())
            .ok_or(ErrorKind::InvalidInput)?;
        if def.no_forbids {
            return Err(ErrorKind::InvalidInput);
        }
        let group = self.resolve(group);
        self.authorize(actor, &uri.scheme_root())?;
        self.record(&group).ok_or(ErrorKind::NotFound)?;
        Ok(Fence {
            uri: uri.clone(),
            group,
        })
    }

    /// set_active: rules A3 and A4 (manage on `user://u`).
    fn set_active(
        &mut self,
        actor: &PrincipalName,
        name: &PrincipalName,
        active: bool,
    ) -> OpResult<Outcome> {
        let name = self.resolve(name);
        self.authorize(actor, &self.uri_of(&format!("user://{name}"))?)?;
        let record = self
            .principals
            .iter_mut()
            .find(|r| r.name == name)
            .ok_or(ErrorKind::NotFound)?;
        if record.kind != PrincipalKind::User {
            return Err(ErrorKind::InvalidInput);
        }
        if record.active == active {
            return Err(ErrorKind::NoEffect);
        }
        record.active = active;
        Ok(Outcome::Done)
    }

    // ----------------------------------------------------------------------------------
    // Helpers
    // ----------------------------------------------------------------------------------

    /// The record of exactly `name` (no alias).
    fn record(&self, name: &PrincipalName) -> Option<&PrincipalRecord> {
        self.principals.iter().find(|r| r.name == *name)
    }

    /// `{C}/{suffix}`.
    fn cluster_role(&self, suffix: &str) -> OpResult<PrincipalName> {
        PrincipalName::new(&format!("{}/{suffix}", self.cluster))
            .map_err(|_| ErrorKind::InvalidInput)
    }

    fn uri_of(&self, text: &str) -> OpResult<Uri> {
        Uri::parse(text).map_err(|_| ErrorKind::InvalidInput)
    }

    /// A user name must be one segment and not the cluster's name.
    fn check_user_name(&self, name: &PrincipalName) -> OpResult<()> {
        if !name.is_single_segment() || name.as_str() == self.cluster.as_str() {
            return Err(ErrorKind::InvalidInput);
        }
        Ok(())
    }

    /// Adds an active user and its home grants (rule P5).
    fn insert_user(&mut self, name: &PrincipalName) -> OpResult<()> {
        let homes = self
            .schema
            .home_grants(&self.cluster, name)
            .map_err(|_| ErrorKind::InvalidInput)?;
        self.principals.push(PrincipalRecord {
            name: name.clone(),
            kind: PrincipalKind::User,
            active: true,
        });
        for (uri, level) in homes {
            // The home templates could name one URI twice; keep the higher level.
            if let Some(existing) = self
                .grants
                .iter_mut()
                .find(|g| g.holder == *name && g.uri == uri)
            {
                existing.level = existing.level.max(level);
            } else {
                self.grants.push(Grant {
                    holder: name.clone(),
                    uri,
                    level,
                });
            }
        }
        Ok(())
    }

    /// The actor (after the alias) must exist, be active and hold `manage` on `uri`.
    fn authorize(&self, actor: &PrincipalName, uri: &Uri) -> OpResult<()> {
        if self.check(actor, uri, Level::Manage) {
            Ok(())
        } else {
            Err(ErrorKind::Forbidden)
        }
    }

    /// The principals of kind group that `p` (after the alias) reaches through live
    /// memberships, `p` included (rule V2). semantics.md does not say what an inactive
    /// grantee's closure is; like the engine, the walk starts at p whatever p's state.
    fn groups_of(&self, p: &PrincipalName) -> BTreeSet<PrincipalName> {
        self.derive()
            .walk(&self.resolve(p))
            .keys()
            .filter(|name| {
                self.record(name)
                    .is_some_and(|r| r.kind == PrincipalKind::Group)
            })
            .cloned()
            .collect()
    }

    /// Whether the membership graph (every edge, whatever the principals' states) has a
    /// cycle (rule P3). A naive fixed point: the roles each principal reaches.
    fn has_cycle(&self) -> bool {
        let edges = self.edges();
        let mut reach: BTreeMap<&PrincipalName, BTreeSet<&PrincipalName>> = BTreeMap::new();
        for (member, role) in &edges {
            reach.entry(member).or_default().insert(role);
        }
        loop {
            let mut changed = false;
            let snapshot = reach.clone();
            for (from, targets) in &mut reach {
                let further: Vec<&PrincipalName> = targets
                    .iter()
                    .filter_map(|t| snapshot.get(t))
                    .flatten()
                    .copied()
                    .collect();
                for target in further {
                    changed |= targets.insert(target);
                }
                if targets.contains(from) {
                    return true;
                }
            }
            if !changed {
                return false;
            }
        }
    }
}

/// What one state of the model implies, derived naively: the membership edges (from the
/// grants, rule P2) and, on demand, each principal's breadth-first walk over them. It
/// answers every query (resolution and the list-type calls of rule E6) and is only a
/// cache: each answer is the same as deriving everything afresh.
#[derive(Debug)]
pub struct Derived<'m> {
    model: &'m Reference,
    edges: Vec<(PrincipalName, PrincipalName)>,
    /// `start -> (principal -> hops from start)`, filled as principals are asked about.
    walks: RefCell<BTreeMap<PrincipalName, Rc<BTreeMap<PrincipalName, usize>>>>,
}

impl Derived<'_> {
    /// The membership edges `(member, role)`.
    pub fn edges(&self) -> &[(PrincipalName, PrincipalName)] {
        &self.edges
    }

    /// Whether `name` exists and takes part in resolution (an active user, or a role).
    fn live(&self, name: &PrincipalName) -> bool {
        self.model.record(name).is_some_and(|r| r.active)
    }

    /// Breadth-first layers from `start` (no alias) through membership edges, never
    /// entering an inactive user: each reachable principal with its distance. `start`
    /// itself is included at distance 0 whatever its state.
    fn walk(&self, start: &PrincipalName) -> Rc<BTreeMap<PrincipalName, usize>> {
        if let Some(known) = self.walks.borrow().get(start) {
            return Rc::clone(known);
        }
        let mut distances = BTreeMap::new();
        distances.insert(start.clone(), 0_usize);
        let mut layer = vec![start.clone()];
        let mut hops = 0_usize;
        while !layer.is_empty() {
            hops = hops.saturating_add(1);
            let mut next = Vec::new();
            for (member, role) in &self.edges {
                if layer.contains(member) && !distances.contains_key(role) && self.live(role) {
                    distances.insert(role.clone(), hops);
                    next.push(role.clone());
                }
            }
            layer = next;
        }
        let distances = Rc::new(distances);
        self.walks
            .borrow_mut()
            .insert(start.clone(), Rc::clone(&distances));
        distances
    }

    /// The walk of p (after the alias) if p exists and is live; `None` otherwise.
    fn live_walk(&self, p: &PrincipalName) -> Option<Rc<BTreeMap<PrincipalName, usize>>> {
        let record = self.model.principal(p).filter(|r| r.active)?;
        Some(self.walk(&record.name))
    }

    /// `closure(p)`: p and every principal reachable from it through membership edges,
    /// not passing through inactive users (resolution step 2). Empty when p is unknown or
    /// an inactive user (it resolves to `deny`, step 1).
    pub fn closure(&self, p: &PrincipalName) -> BTreeSet<PrincipalName> {
        self.live_walk(p)
            .map(|walk| walk.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The number of membership hops on a shortest path from p to `holder` inside
    /// closure(p) (0 when `holder` is p); `None` when `holder` is not in closure(p).
    pub fn distance(&self, p: &PrincipalName, holder: &PrincipalName) -> Option<usize> {
        self.live_walk(p)?.get(&self.model.resolve(holder)).copied()
    }

    /// Whether `path` is a membership path inside closure(p) from p to its last element:
    /// it starts at p (after the alias), each step is a membership edge, and every
    /// principal on it is live (an active user, or a role).
    pub fn is_membership_path(&self, p: &PrincipalName, path: &[PrincipalName]) -> bool {
        match path.first() {
            Some(first) if *first == self.model.resolve(p) => {}
            _ => return false,
        }
        path.iter().all(|name| self.live(name))
            && path.windows(2).all(|pair| match pair {
                [member, role] => self.edges.iter().any(|(m, r)| m == member && r == role),
                _ => false,
            })
    }

    /// A shortest membership path from `from` to `to` through live principals, both ends
    /// included; empty when there is none.
    fn shortest_path(&self, from: &PrincipalName, to: &PrincipalName) -> Vec<PrincipalName> {
        let distances = self.walk(from);
        let Some(&length) = distances.get(to) else {
            return Vec::new();
        };
        // Walk back from `to`: at each step pick the smallest predecessor one hop nearer.
        let mut path = vec![to.clone()];
        let mut current = to.clone();
        for step in (0..length).rev() {
            let previous = self
                .edges
                .iter()
                .filter(|(member, role)| *role == current && distances.get(member) == Some(&step))
                .map(|(member, _)| member)
                .min();
            match previous {
                Some(member) => {
                    current = member.clone();
                    path.push(current.clone());
                }
                None => return Vec::new(),
            }
        }
        path.reverse();
        path
    }

    /// `effective(p, U)` and the step that decided it.
    pub fn effective(&self, p: &PrincipalName, uri: &Uri) -> (Level, ReasonKind) {
        let decision = self.explain(p, uri);
        (decision.level, decision.reason.kind())
    }

    /// `check(p, U, L)`: effective(p, U) >= L (rule E5). Meaningful for levels above deny
    /// (the engine refuses a check of `deny`).
    pub fn check(&self, p: &PrincipalName, uri: &Uri, level: Level) -> bool {
        self.explain(p, uri).level >= level
    }

    /// `explain(p, U)`: the decision and the step that made it, with its evidence, following
    /// resolution steps 1 to 7 of semantics.md in order. Among equal candidates the one
    /// named has the holder nearest to p, then the deepest URI, then the smallest holder
    /// name (then the smallest URI, for implicit lists, where several descendants can tie).
    /// semantics.md does not say which of several failed fences is named: the model names
    /// the deepest, then the smallest group name, as the engine does.
    pub fn explain(&self, p: &PrincipalName, uri: &Uri) -> ModelDecision {
        let uri = &self.model.canonical_uri(uri);
        let deny = |reason| ModelDecision {
            level: Level::Deny,
            reason,
        };
        // Step 1: unknown or inactive.
        let Some(record) = self.model.principal(p) else {
            return deny(ModelReason::UnknownPrincipal);
        };
        if !record.active {
            return deny(ModelReason::InactiveUser);
        }
        // Step 2: the closure, with each member's distance from p.
        let distances = self.walk(&record.name);
        let held = |g: &&Grant| distances.contains_key(&g.holder);

        // Step 3: every fence on U or an ancestor must be passed.
        let failed_fence = self
            .model
            .fences
            .iter()
            .filter(|f| f.uri.contains(uri) && !distances.contains_key(&f.group))
            .min_by_key(|f| (std::cmp::Reverse(f.uri.depth()), &f.group));
        if let Some(fence) = failed_fence {
            return deny(ModelReason::Fence(fence.clone()));
        }

        // The preference among candidates (semantics.md, "Explain").
        let rank = |g: &Grant| {
            (
                distances.get(&g.holder).copied().unwrap_or(usize::MAX),
                std::cmp::Reverse(g.uri.depth()),
            )
        };
        let best = |candidates: Vec<&Grant>| {
            candidates
                .into_iter()
                .min_by(|a, b| (rank(a), &a.holder, &a.uri).cmp(&(rank(b), &b.holder, &b.uri)))
                .cloned()
        };
        let path_to = |g: &Grant| self.shortest_path(&record.name, &g.holder);

        // Step 4: a forbid on U or an ancestor.
        let forbids = self
            .model
            .grants
            .iter()
            .filter(|g| g.level == Level::Deny && g.uri.contains(uri))
            .filter(held)
            .collect();
        if let Some(grant) = best(forbids) {
            let path = path_to(&grant);
            return deny(ModelReason::Forbid { grant, path });
        }

        // Step 5: the highest allow grant on U or an ancestor.
        let allows: Vec<&Grant> = self
            .model
            .grants
            .iter()
            .filter(|g| g.level.is_allow() && g.uri.contains(uri))
            .filter(held)
            .collect();
        if let Some(top) = allows.iter().map(|g| g.level).max() {
            let deciding = allows.into_iter().filter(|g| g.level == top).collect();
            if let Some(grant) = best(deciding) {
                let path = path_to(&grant);
                return ModelDecision {
                    level: top,
                    reason: ModelReason::Grant { grant, path },
                };
            }
        }

        // Step 6: an allow grant strictly below U.
        let below = self
            .model
            .grants
            .iter()
            .filter(|g| g.level.is_allow() && uri.is_ancestor_of(&g.uri))
            .filter(held)
            .collect();
        if let Some(grant) = best(below) {
            let path = path_to(&grant);
            return ModelDecision {
                level: Level::List,
                reason: ModelReason::ImplicitList { grant, path },
            };
        }

        // Step 7.
        deny(ModelReason::NoGrant)
    }

    /// `list(p, within)`: every URI on which some q in closure(p) holds an allow grant,
    /// at or below `within` when given (a scheme root filters by scheme), with p's
    /// effective level there, leaving out those where it is `deny`. Sorted by URI.
    pub fn list(&self, p: &PrincipalName, within: Option<&Uri>) -> Vec<(Uri, Level)> {
        let within = within.map(|w| self.model.canonical_uri(w));
        let within = within.as_ref();
        let closure = self.closure(p);
        let uris: BTreeSet<&Uri> = self
            .model
            .grants
            .iter()
            .filter(|g| g.level.is_allow() && closure.contains(&g.holder))
            .map(|g| &g.uri)
            .filter(|u| within.is_none_or(|w| w.contains(u)))
            .collect();
        uris.into_iter()
            .map(|u| (u.clone(), self.effective(p, u).0))
            .filter(|(_, level)| level.is_allow())
            .collect()
    }

    /// `shared(p)`: for every URI M where some q in closure(p) directly holds `manage` and
    /// p's effective level is `manage`, every grant (forbids included) at or below M held
    /// by a principal outside closure(p). Each grant once, sorted by (URI, holder).
    pub fn shared(&self, p: &PrincipalName) -> Vec<Grant> {
        let closure = self.closure(p);
        let managed: Vec<&Uri> = self
            .model
            .grants
            .iter()
            .filter(|g| g.level == Level::Manage && closure.contains(&g.holder))
            .map(|g| &g.uri)
            .filter(|m| self.effective(p, m).0 == Level::Manage)
            .collect();
        let mut out: Vec<Grant> = self
            .model
            .grants
            .iter()
            .filter(|g| !closure.contains(&g.holder))
            .filter(|g| managed.iter().any(|m| m.contains(&g.uri)))
            .cloned()
            .collect();
        out.sort_by(|a, b| (&a.uri, &a.holder).cmp(&(&b.uri, &b.holder)));
        out
    }

    /// `who(U, L)`: the active users whose effective level on U is at least L, sorted by
    /// name. For `L = deny` that is every active user.
    pub fn who(&self, uri: &Uri, level: Level) -> Vec<PrincipalName> {
        let uri = &self.model.canonical_uri(uri);
        let mut out: Vec<PrincipalName> = self
            .model
            .principals
            .iter()
            .filter(|r| r.kind == PrincipalKind::User && r.active)
            .filter(|r| self.effective(&r.name, uri).0 >= level)
            .map(|r| r.name.clone())
            .collect();
        out.sort();
        out
    }

    /// `tree(p, U, depth)`: U, and every URI below U at most `depth` segments deeper that
    /// lies on the way to (is an ancestor of, or is) a grant or forbid held by closure(p)
    /// or a fence; each with p's effective level there, denials included. Sorted by URI.
    pub fn tree(&self, p: &PrincipalName, uri: &Uri, depth: usize) -> Vec<(Uri, Level)> {
        let uri = &self.model.canonical_uri(uri);
        let closure = self.closure(p);
        let anchors = self
            .model
            .grants
            .iter()
            .filter(|g| closure.contains(&g.holder))
            .map(|g| &g.uri)
            .chain(self.model.fences.iter().map(|f| &f.uri));
        let mut nodes: BTreeSet<Uri> = BTreeSet::new();
        nodes.insert(uri.clone());
        let limit = uri.depth().saturating_add(depth);
        for anchor in anchors {
            for on_the_way in anchor.ancestors_and_self() {
                if uri.is_ancestor_of(&on_the_way) && on_the_way.depth() <= limit {
                    nodes.insert(on_the_way);
                }
            }
        }
        nodes
            .into_iter()
            .map(|node| {
                let level = self.effective(p, &node).0;
                (node, level)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::{Deny, List, Manage, Read, Write};

    fn n(text: &str) -> PrincipalName {
        PrincipalName::new(text).unwrap()
    }

    fn u(text: &str) -> Uri {
        Uri::parse(text).unwrap()
    }

    fn model() -> Reference {
        Reference::init(
            Schema::standard(),
            ClusterName::new("c").unwrap(),
            Some(n("admin")),
        )
        .unwrap()
    }

    fn grant(actor: &str, uri: &str, grantee: &str, level: Level) -> Op {
        Op::Grant {
            actor: n(actor),
            uri: u(uri),
            grantee: n(grantee),
            level,
        }
    }

    fn revoke(actor: &str, uri: &str, grantee: &str) -> Op {
        Op::Revoke {
            actor: n(actor),
            uri: u(uri),
            grantee: n(grantee),
        }
    }

    fn user(name: &str) -> Op {
        Op::CreateUser {
            actor: n("admin"),
            name: n(name),
        }
    }

    fn role(actor: &str, name: &str, group: bool) -> Op {
        Op::AddRole {
            actor: n(actor),
            name: n(name),
            group,
        }
    }

    fn fence(add: bool, uri: &str, group: &str) -> Op {
        let (actor, uri, group) = (n("admin"), u(uri), n(group));
        if add {
            Op::AddFence { actor, uri, group }
        } else {
            Op::RemoveFence { actor, uri, group }
        }
    }

    /// Applies each op and checks its result; a failed op must leave the model unchanged
    /// and the revision must count exactly the changes (rule M3).
    fn run(model: &mut Reference, steps: &[(Op, Result<Outcome, ErrorKind>)]) {
        for (op, want) in steps {
            let before = model.clone();
            let got = model.apply(op);
            assert_eq!(got, *want, "{op}");
            match got {
                Ok(outcome) if outcome.changed() => {
                    assert_eq!(model.revision(), before.revision() + 1, "{op}")
                }
                _ => assert_eq!(*model, before, "{op} must change nothing"),
            }
        }
    }

    /// Checks `effective` for each (principal, uri, level, reason).
    fn expect(model: &Reference, table: &[(&str, &str, Level, ReasonKind)]) {
        for (p, uri, level, reason) in table {
            assert_eq!(
                model.effective(&n(p), &u(uri)),
                (*level, *reason),
                "{p} on {uri}"
            );
        }
    }

    const OK: Result<Outcome, ErrorKind> = Ok(Outcome::Done);
    const CREATED: Result<Outcome, ErrorKind> = Ok(Outcome::Created);

    // rule P5: init creates the cluster roles and the admin with its home grants
    #[test]
    fn init_state() {
        let m = model();
        assert_eq!(m.revision(), 1);
        let names: Vec<&str> = m.principals().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["c/admin", "c/manager", "c/monitor", "admin"]);
        assert_eq!(m.closure(&n("admin")), [n("admin"), n("c/admin")].into());
        expect(
            &m,
            &[
                ("admin", "storage://", Manage, ReasonKind::Grant),
                ("admin", "vm://x/y", Manage, ReasonKind::Grant),
                ("admin", "role://anything", Manage, ReasonKind::Grant),
                ("c/manager", "storage://c", Deny, ReasonKind::NoGrant),
                ("nobody", "storage://", Deny, ReasonKind::UnknownPrincipal),
            ],
        );
        // the admin's own home grant is nearer (0 hops) than c/admin's root grant (1 hop)
        let decision = m.explain(&n("admin"), &u("storage://c/admin/x"));
        assert_eq!(
            decision.reason,
            ModelReason::Grant {
                grant: Grant {
                    holder: n("admin"),
                    uri: u("storage://c/admin"),
                    level: Manage
                },
                path: vec![n("admin")],
            }
        );
        let decision = m.explain(&n("admin"), &u("storage://c/bob"));
        assert!(matches!(
            decision.reason,
            ModelReason::Grant { ref path, .. } if *path == [n("admin"), n("c/admin")]
        ));
    }

    // rules P5, E1, E2: home namespaces and the implicit list
    #[test]
    fn homes_and_implicit_list() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("alice"), OK),
                (user("alice"), Err(ErrorKind::Conflict)),
            ],
        );
        expect(
            &m,
            &[
                ("alice", "storage://c/alice", Manage, ReasonKind::Grant),
                (
                    "alice",
                    "storage://c/alice/deep/er",
                    Manage,
                    ReasonKind::Grant,
                ),
                ("alice", "storage://c/alicex", Deny, ReasonKind::NoGrant),
                ("alice", "storage://c", List, ReasonKind::ImplicitList),
                ("alice", "storage://", List, ReasonKind::ImplicitList),
                ("alice", "user://alice", Read, ReasonKind::Grant),
                ("alice", "user://bob", Deny, ReasonKind::NoGrant),
                ("c/users/alice", "job://c/alice", Manage, ReasonKind::Grant),
            ],
        );
        assert_eq!(
            m.list(&n("alice"), Some(&u("storage://"))),
            [(u("storage://c/alice"), Manage)]
        );
        assert_eq!(m.list(&n("alice"), None).len(), 8);
        // user names are one segment and not the cluster's name
        run(
            &mut m,
            &[
                (user("a/b"), Err(ErrorKind::InvalidInput)),
                (user("c"), Err(ErrorKind::InvalidInput)),
                (
                    Op::CreateUser {
                        actor: n("alice"),
                        name: n("bob"),
                    },
                    Err(ErrorKind::Forbidden),
                ),
            ],
        );
    }

    // rule P2: membership is a read grant on exactly role://R; list is not enough; users
    // add roles under their own `u/roles/`
    #[test]
    fn membership_through_roles() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("alice"), OK),
                (user("bob"), OK),
                (user("carol"), OK),
                (role("alice", "alice/roles/readers", false), OK),
                (
                    role("alice", "bob/roles/x", false),
                    Err(ErrorKind::Forbidden),
                ),
                (
                    role("admin", "alice/roles/readers", false),
                    Err(ErrorKind::Conflict),
                ),
                (
                    role("admin", "c/users/x", false),
                    Err(ErrorKind::InvalidInput),
                ),
                (
                    grant("alice", "role://alice/roles/readers", "bob", Read),
                    CREATED,
                ),
                (
                    grant("alice", "role://alice/roles/readers", "carol", List),
                    CREATED,
                ),
                (
                    grant(
                        "alice",
                        "storage://c/alice/data",
                        "alice/roles/readers",
                        Read,
                    ),
                    CREATED,
                ),
            ],
        );
        expect(
            &m,
            &[
                ("bob", "storage://c/alice/data/x", Read, ReasonKind::Grant),
                (
                    "carol",
                    "storage://c/alice/data/x",
                    Deny,
                    ReasonKind::NoGrant,
                ),
                ("bob", "storage://c/alice", List, ReasonKind::ImplicitList),
                ("alice", "storage://c/alice/data", Manage, ReasonKind::Grant),
            ],
        );
        assert_eq!(m.distance(&n("bob"), &n("alice/roles/readers")), Some(1));
        assert_eq!(m.distance(&n("carol"), &n("alice/roles/readers")), None);
        assert!(matches!(
            m.explain(&n("bob"), &u("storage://c/alice/data/x")).reason,
            ModelReason::Grant { ref path, .. } if *path == [n("bob"), n("alice/roles/readers")]
        ));
        assert_eq!(
            m.who(&u("storage://c/alice/data"), Read),
            [n("admin"), n("alice"), n("bob")]
        );
        assert_eq!(
            m.who(&u("storage://c/alice"), List),
            [n("admin"), n("alice"), n("bob")]
        );
        // alice sees what she gave away, not what her own closure holds (rule E6)
        let shared: Vec<(String, String)> = m
            .shared(&n("alice"))
            .into_iter()
            .map(|g| (g.uri.to_string(), g.holder.to_string()))
            .collect();
        assert_eq!(
            shared,
            [
                ("role://alice/roles/readers".to_owned(), "bob".to_owned()),
                ("role://alice/roles/readers".to_owned(), "carol".to_owned()),
                (
                    "storage://c/alice/data".to_owned(),
                    "alice/roles/readers".to_owned()
                ),
            ]
        );
    }

    // settled: a grant on role://R for an R that does not exist is ordinary until R exists
    #[test]
    fn membership_appears_when_the_role_does() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (grant("admin", "role://c/g0", "bob", Read), CREATED),
                (
                    grant("admin", "storage://c/shared", "c/g0", Write),
                    Err(ErrorKind::NotFound),
                ),
            ],
        );
        assert_eq!(m.closure(&n("bob")), [n("bob")].into());
        run(
            &mut m,
            &[
                (role("admin", "c/g0", true), OK),
                (grant("admin", "storage://c/shared", "c/g0", Write), CREATED),
            ],
        );
        assert_eq!(m.closure(&n("bob")), [n("bob"), n("c/g0")].into());
        expect(
            &m,
            &[("bob", "storage://c/shared", Write, ReasonKind::Grant)],
        );
    }

    // rule P3: cycles are refused, including a role joining itself
    #[test]
    fn cycles_are_refused() {
        let mut m = model();
        run(
            &mut m,
            &[
                (role("admin", "r/a", false), OK),
                (role("admin", "r/b", false), OK),
                (role("admin", "r/c", false), OK),
                (grant("admin", "role://r/b", "r/a", Read), CREATED),
                (grant("admin", "role://r/c", "r/b", Manage), CREATED),
                (
                    grant("admin", "role://r/a", "r/c", Read),
                    Err(ErrorKind::Conflict),
                ),
                (
                    grant("admin", "role://r/a", "r/a", Read),
                    Err(ErrorKind::Conflict),
                ),
                // below read is no membership, so no cycle
                (grant("admin", "role://r/a", "r/c", List), CREATED),
                (
                    grant("admin", "role://r/a", "r/c", Read),
                    Err(ErrorKind::Conflict),
                ),
            ],
        );
    }

    // M1 and the grant outcome table of semantics.md; E3 forbids on role:// are refused
    #[test]
    fn grant_outcomes() {
        let mut m = model();
        let target = "storage://c/x";
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (grant("admin", target, "bob", Read), CREATED),
                (
                    grant("admin", target, "bob", Write),
                    Ok(Outcome::Raised { from: Read }),
                ),
                (
                    grant("admin", target, "bob", List),
                    Ok(Outcome::Kept { existing: Write }),
                ),
                (
                    grant("admin", target, "bob", Write),
                    Ok(Outcome::Kept { existing: Write }),
                ),
                (
                    grant("admin", target, "bob", Deny),
                    Err(ErrorKind::Conflict),
                ),
                (revoke("admin", target, "bob"), OK),
                (revoke("admin", target, "bob"), Err(ErrorKind::NoEffect)),
                (grant("admin", target, "bob", Deny), CREATED),
                (
                    grant("admin", target, "bob", Deny),
                    Ok(Outcome::Kept { existing: Deny }),
                ),
                (
                    grant("admin", target, "bob", Read),
                    Err(ErrorKind::Conflict),
                ),
                (
                    grant("admin", target, "nobody", Read),
                    Err(ErrorKind::NotFound),
                ),
                (
                    grant("bob", target, "nobody", Read),
                    Err(ErrorKind::Forbidden),
                ),
                (
                    grant("admin", "role://c/admin", "bob", Deny),
                    Err(ErrorKind::InvalidInput),
                ),
                (
                    grant("bob", "role://c/admin", "nobody", Deny),
                    Err(ErrorKind::InvalidInput),
                ),
                (
                    grant("admin", "ftp://c", "bob", Read),
                    Err(ErrorKind::InvalidInput),
                ),
            ],
        );
    }

    // rule E3: a forbid held anywhere in the closure beats every allowance and the
    // implicit list; it applies to administrators too
    #[test]
    fn forbids_win() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (role("admin", "c/g0", true), OK),
                (grant("admin", "role://c/g0", "bob", Read), CREATED),
                (grant("admin", "storage://c/p", "bob", Manage), CREATED),
                (grant("admin", "storage://c/p/q", "c/g0", Deny), CREATED),
                (grant("admin", "storage://c/z/deep", "bob", Read), CREATED),
                (grant("admin", "storage://c/z", "bob", Deny), CREATED),
            ],
        );
        expect(
            &m,
            &[
                ("bob", "storage://c/p", Manage, ReasonKind::Grant),
                ("bob", "storage://c/p/q/r", Deny, ReasonKind::Forbid),
                ("bob", "storage://c/z/deep", Deny, ReasonKind::Forbid),
                ("bob", "storage://c", List, ReasonKind::ImplicitList),
                ("admin", "storage://c/p/q", Manage, ReasonKind::Grant),
            ],
        );
        assert!(matches!(
            m.explain(&n("bob"), &u("storage://c/p/q/r")).reason,
            ModelReason::Forbid { ref path, .. } if *path == [n("bob"), n("c/g0")]
        ));
        // bob manages storage://c/p but not below the forbid: the forbid stops him
        run(
            &mut m,
            &[(
                grant("bob", "storage://c/p/q", "admin", Read),
                Err(ErrorKind::Forbidden),
            )],
        );
        // 8 home grants, storage://c/p and the membership role://c/g0; the forbidden
        // storage://c/z/deep is left out
        assert_eq!(m.list(&n("bob"), None).len(), 10);
        assert!(
            !m.list(&n("bob"), None)
                .iter()
                .any(|(uri, _)| uri.as_str() == "storage://c/z/deep")
        );
        let tree = m.tree(&n("bob"), &u("storage://c"), 3);
        let text: Vec<String> = tree.iter().map(|(uri, l)| format!("{uri} {l}")).collect();
        assert_eq!(
            text,
            [
                "storage://c list",
                "storage://c/bob manage",
                "storage://c/p manage",
                "storage://c/p/q deny",
                "storage://c/z deny",
                "storage://c/z/deep deny",
            ]
        );
        assert_eq!(m.tree(&n("bob"), &u("storage://c"), 1).len(), 4);
    }

    // rule E4: every fence on the path must be passed; fences are managed on the scheme
    // root and their groups cannot be removed
    #[test]
    fn fences() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (role("admin", "c/g0", true), OK),
                (role("admin", "c/g1", true), OK),
                (
                    grant("admin", "vm://c/v", "bob", Write),
                    Err(ErrorKind::Forbidden),
                ),
                (grant("admin", "role://c/g0", "bob", Read), CREATED),
                (grant("admin", "role://c/g0", "admin", Read), CREATED),
                (grant("admin", "vm://c/v", "bob", Write), CREATED),
                (
                    grant("admin", "vm://c/v", "bob", Deny),
                    Err(ErrorKind::Conflict),
                ),
                (fence(true, "vm://c/v", "c/g0"), OK),
                (fence(true, "vm://c/v", "c/g0"), Err(ErrorKind::Conflict)),
                (fence(true, "vm://c", "nobody"), Err(ErrorKind::NotFound)),
                (
                    fence(true, "role://c", "c/g0"),
                    Err(ErrorKind::InvalidInput),
                ),
                (
                    Op::AddFence {
                        actor: n("bob"),
                        uri: u("vm://c/v"),
                        group: n("c/g1"),
                    },
                    Err(ErrorKind::Forbidden),
                ),
            ],
        );
        expect(&m, &[("bob", "vm://c/v/drive", Write, ReasonKind::Grant)]);
        run(&mut m, &[(fence(true, "vm://c", "c/g1"), OK)]);
        expect(
            &m,
            &[
                ("bob", "vm://c/v/drive", Deny, ReasonKind::Fence),
                ("admin", "vm://c/v", Deny, ReasonKind::Fence),
                ("admin", "vm://", Manage, ReasonKind::Grant),
            ],
        );
        run(
            &mut m,
            &[
                (
                    Op::RemoveRole {
                        actor: n("admin"),
                        name: n("c/g1"),
                    },
                    Err(ErrorKind::Conflict),
                ),
                (fence(false, "vm://c", "c/g1"), OK),
                (fence(false, "vm://c", "c/g1"), Err(ErrorKind::NoEffect)),
            ],
        );
        expect(&m, &[("bob", "vm://c/v", Write, ReasonKind::Grant)]);
    }

    // rules E1, A3: an inactive user is denied and lends nothing to anyone
    #[test]
    fn inactive_users() {
        let mut m = model();
        let deactivate = |name: &str, active: bool| Op::SetActive {
            actor: n("admin"),
            name: n(name),
            active,
        };
        run(
            &mut m,
            &[
                (user("alice"), OK),
                (user("bob"), OK),
                (grant("admin", "role://alice", "bob", Read), CREATED),
                (
                    grant("admin", "role://bob", "alice", Read),
                    Err(ErrorKind::Conflict),
                ),
            ],
        );
        expect(
            &m,
            &[("bob", "storage://c/alice/x", Manage, ReasonKind::Grant)],
        );
        run(
            &mut m,
            &[
                (deactivate("c/users/alice", false), OK),
                (deactivate("alice", false), Err(ErrorKind::NoEffect)),
                (deactivate("c/admin", false), Err(ErrorKind::InvalidInput)),
                (deactivate("nobody", false), Err(ErrorKind::NotFound)),
            ],
        );
        expect(
            &m,
            &[
                ("alice", "storage://c/alice", Deny, ReasonKind::InactiveUser),
                ("bob", "storage://c/alice/x", Deny, ReasonKind::NoGrant),
            ],
        );
        assert!(m.closure(&n("alice")).is_empty());
        assert_eq!(m.who(&u("storage://c/alice"), Manage), [n("admin")]);
        run(&mut m, &[(deactivate("alice", true), OK)]);
        expect(
            &m,
            &[("bob", "storage://c/alice/x", Manage, ReasonKind::Grant)],
        );
    }

    // rule P4: removing a role removes its grants and memberships both ways; users and the
    // cluster roles cannot be removed
    #[test]
    fn removing_roles() {
        let mut m = model();
        let remove = |name: &str| Op::RemoveRole {
            actor: n("admin"),
            name: n(name),
        };
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (role("admin", "r/a", false), OK),
                (role("admin", "r/b", false), OK),
                (grant("admin", "role://r/a", "bob", Read), CREATED),
                (grant("admin", "role://r/b", "r/a", Read), CREATED),
                (grant("admin", "role://r/a/sub", "bob", Read), CREATED),
                (grant("admin", "storage://c/s", "r/a", Deny), CREATED),
                (remove("r/a"), OK),
                (remove("r/a"), Err(ErrorKind::NotFound)),
                (remove("bob"), Err(ErrorKind::InvalidInput)),
                (remove("c/users/bob"), Err(ErrorKind::InvalidInput)),
                (remove("c/admin"), Err(ErrorKind::InvalidInput)),
                (remove("c/manager"), Err(ErrorKind::InvalidInput)),
            ],
        );
        assert_eq!(m.edges(), [(n("admin"), n("c/admin"))]);
        let left: Vec<String> = m
            .grants()
            .iter()
            .filter(|g| g.uri.scheme() == "role" && g.holder.as_str() != "c/admin")
            .map(|g| format!("{} {}", g.holder, g.uri))
            .collect();
        assert_eq!(
            left,
            [
                "admin role://admin/roles",
                "admin role://c/admin",
                "bob role://bob/roles",
                "bob role://r/a/sub"
            ]
        );
        assert!(!m.grants().iter().any(|g| g.holder.as_str() == "r/a"));
    }

    // rule V2: a grant on vm needs a shared group, forbids do not
    #[test]
    fn share_scope() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (
                    grant("admin", "vm://c/v", "bob", Read),
                    Err(ErrorKind::Forbidden),
                ),
                (grant("admin", "vm://c/v", "bob", Deny), CREATED),
                (role("admin", "c/r", false), OK),
                (grant("admin", "role://c/r", "bob", Read), CREATED),
                (grant("admin", "role://c/r", "admin", Read), CREATED),
                (
                    grant("admin", "vm://c/w", "bob", Read),
                    Err(ErrorKind::Forbidden),
                ),
                (role("admin", "c/g", true), OK),
                (grant("admin", "role://c/g", "c/r", Read), CREATED),
                (grant("admin", "vm://c/w", "bob", Read), CREATED),
            ],
        );
    }

    // rule P1: `{C}/users/u` is user u as a name and inside role URIs
    #[test]
    fn user_alias() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("alice"), OK),
                (user("bob"), OK),
                (
                    grant("c/users/admin", "role://c/users/alice", "c/users/bob", Read),
                    CREATED,
                ),
                (user("c/users/carol"), Err(ErrorKind::InvalidInput)),
            ],
        );
        assert_eq!(
            m.edges(),
            [(n("admin"), n("c/admin")), (n("bob"), n("alice"))]
        );
        expect(
            &m,
            &[(
                "c/users/bob",
                "storage://c/alice",
                Manage,
                ReasonKind::Grant,
            )],
        );
        assert_eq!(m.distance(&n("c/users/bob"), &n("c/users/alice")), Some(1));
        assert!(m.is_membership_path(&n("c/users/bob"), &[n("bob"), n("alice")]));
        assert!(!m.is_membership_path(&n("bob"), &[n("alice")]));
        // bob holds alice's home grant on role://alice/roles through her
        assert!(matches!(
            m.explain(&n("bob"), &u("role://c/users/alice/roles/x")),
            ModelDecision { level: Manage, reason: ModelReason::Grant { grant, .. } }
                if grant.uri.as_str() == "role://alice/roles"
        ));
    }

    // rule E6: among equal candidates the nearest holder, then the deepest URI, then the
    // holder's name is named
    #[test]
    fn explain_tie_breaks() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (role("admin", "r/near", false), OK),
                (role("admin", "r/far", false), OK),
                (grant("admin", "role://r/near", "bob", Read), CREATED),
                (grant("admin", "role://r/far", "r/near", Read), CREATED),
                (grant("admin", "storage://k/w", "r/far", Write), CREATED),
                (grant("admin", "storage://k/x/q", "r/far", Write), CREATED),
                (grant("admin", "storage://k/x", "r/near", Write), CREATED),
                (grant("admin", "storage://k/x/y/z", "r/far", Read), CREATED),
                (grant("admin", "storage://k/x/y", "bob", List), CREATED),
            ],
        );
        let named = |m: &Reference, uri: &str| match m.explain(&n("bob"), &u(uri)).reason {
            ModelReason::Grant { grant, path } | ModelReason::ImplicitList { grant, path } => {
                format!("{} {} {}", grant.holder, grant.uri, path.len())
            }
            other => format!("{other:?}"),
        };
        // write from r/far (2 hops, deeper) and r/near (1 hop): the nearer wins
        assert_eq!(named(&m, "storage://k/x/q"), "r/near storage://k/x 2");
        // implicit list: bob's own grant below (0 hops) beats the deeper one of r/far
        assert_eq!(named(&m, "storage://"), "bob storage://k/x/y 1");
        // among r/far's three grants below storage://k, the deepest
        run(
            &mut m,
            &[
                (revoke("admin", "storage://k/x/y", "bob"), OK),
                (revoke("admin", "storage://k/x", "r/near"), OK),
            ],
        );
        assert_eq!(named(&m, "storage://k"), "r/far storage://k/x/y/z 3");
    }

    // rule E6: a tree lists U, what leads to the closure's grants and forbids and to any
    // fence, with denials; an unknown principal still sees the way to the fences
    #[test]
    fn trees() {
        let mut m = model();
        run(
            &mut m,
            &[
                (role("admin", "c/g0", true), OK),
                (fence(true, "storage://c/p/q", "c/g0"), OK),
            ],
        );
        let text = |p: &str, uri: &str, depth: usize| -> Vec<String> {
            m.tree(&n(p), &u(uri), depth)
                .iter()
                .map(|(uri, l)| format!("{uri} {l}"))
                .collect()
        };
        assert_eq!(
            text("nobody", "storage://c", 5),
            [
                "storage://c deny",
                "storage://c/p deny",
                "storage://c/p/q deny"
            ]
        );
        assert_eq!(text("nobody", "storage://c", 0), ["storage://c deny"]);
        assert_eq!(
            text("admin", "storage://c", 2),
            [
                "storage://c manage",
                "storage://c/admin manage",
                "storage://c/p manage",
                "storage://c/p/q deny"
            ]
        );
    }

    // rule P3 at user creation: the home grant on `role://u/roles` must not close a cycle
    // through a role that was made a member of `role://u` before u existed
    #[test]
    fn creating_a_user_can_close_a_cycle() {
        let mut m = model();
        run(
            &mut m,
            &[
                (role("admin", "dave/roles", false), OK),
                (grant("admin", "role://dave", "dave/roles", Read), CREATED),
                (user("dave"), Err(ErrorKind::Conflict)),
                (revoke("admin", "role://dave", "dave/roles"), OK),
                (user("dave"), OK),
            ],
        );
        assert_eq!(m.closure(&n("dave")), [n("dave"), n("dave/roles")].into());
    }

    // The model answers any input without panicking, the derived state is only a cache
    #[test]
    fn derived_answers_match_fresh_ones() {
        let mut m = model();
        run(
            &mut m,
            &[
                (user("bob"), OK),
                (grant("admin", "role://bob", "c/manager", Read), CREATED),
            ],
        );
        let derived = m.derive();
        for p in ["admin", "bob", "c/manager", "nobody", "c/users/bob"] {
            for uri in [
                "storage://",
                "storage://c/bob/x",
                "role://bob",
                "user://bob",
            ] {
                assert_eq!(derived.explain(&n(p), &u(uri)), m.explain(&n(p), &u(uri)));
            }
            assert_eq!(derived.closure(&n(p)), m.closure(&n(p)));
        }
    }
}
