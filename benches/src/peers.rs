//! The peers (feature `peers`): casbin-rs and cedar-policy encoding the same model as a
//! [`Workload`] loaded into `acl`, each in the configuration its own documentation
//! recommends and in the naive one beside it, so a benchmark can ask every configuration
//! the same questions in the same run.
//!
//! What the encodings hold (a [`PeerModel`]): every user's home grants (rule P5), every
//! membership (a user or role holding `read` or more on `role://R`, rule P2) as a
//! role-hierarchy link, and every grant as a permission on the URI and everything below it
//! by whole segments (rule U4), with inclusive levels (rule L1). The cluster's admin and
//! its init-time roles are left out: no query asks about them.
//!
//! What none encodes: the implicit list of rule E2 (a peer would need a policy per
//! ancestor of every grant), fences (E4) and inactive users (E1). The workloads hold no
//! forbid, no fence and no inactive user, and the agreement test compares only decisions
//! that do not rest on the implicit list, so the peers answer exactly what `acl` answers.
//!
//! # casbin-rs ([`CasbinPeer`], one [`CasbinConfig`] each)
//!
//! RBAC with a role hierarchy (`g = _, _`); one policy line per grant
//! `(holder, uri, uri + "/*", rank)`; the object compared exactly or by `keyMatch` on the
//! `/*` prefix (whole segments, never `storage://c/ux` for `storage://c/u`), the level by
//! rank (a one-digit string, so text order is rank order). casbin evaluates the matcher on
//! every policy line until one allows, so the order of its terms is the whole game:
//!
//! - [`CasbinConfig::Fast`]: the cheap string comparisons first and the role graph `g()`
//!   last, so `g()` runs only on the few lines whose object and level already match; the
//!   role manager's link cache is on (casbin's `cached` feature).
//! - [`CasbinConfig::Textbook`]: the matcher as casbin's RBAC examples write it, `g()`
//!   first, so every line walks the role graph.
//! - [`CasbinConfig::Memoized`]: the fast model behind casbin's `CachedEnforcer`, which
//!   memoizes whole requests; it measures a cache (its [`CacheCounters`] give the hit
//!   rate), not a model evaluation.
//!
//! # cedar-policy ([`CedarPeer`], one [`CedarConfig`] each)
//!
//! Entity types `User` and `Role` (a principal's parents are the roles it is a member of),
//! `Resource` (a URI's parent is its parent URI), actions `list`, `read`, `write`,
//! `manage` where each is a member of the next (so a permit on `write` covers `list` and
//! `read`).
//!
//! - [`CedarConfig::Sliced`], Cedar's guidance for per-resource sharing at scale (and the
//!   shape of the OOPSLA 2024 benchmarks): one policy per grant, `permit(principal in P,
//!   action in Action::"L", resource in R)`, indexed by its principal and resource scope.
//!   Per request, the policies under {principal and its ancestors, any} x {resource and its
//!   ancestors, any} form the policy set the authorizer evaluates; the slicing is part of
//!   [`CedarPeer::check`], so it is timed.
//! - [`CedarConfig::Attributes`], Cedar's other recommended shape: grants as entity
//!   attributes. Each resource carries four sets (`list`, `read`, `write`, `manage`) of the
//!   principals holding that level on it or on an ancestor, materialized when the entities
//!   are built, as an application keeping a resource's ACL on its row would; four fixed
//!   policies `permit(principal, action in Action::"L", resource) when { principal in
//!   resource.L }`.
//! - [`CedarConfig::Naive`]: the four templates `permit(principal in ?principal, action in
//!   Action::"L", resource in ?resource)` linked once per grant, all links in one policy
//!   set, every one evaluated per request.
//!
//! Every cedar request is handed only the entities it needs (the principal with its
//! ancestors, the resource, the four actions), cut from the whole entity store when the
//! request is built, as an application's entity loader would hand them over; the naive
//! configuration gets the whole store, as it was first measured.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use acl_core::{ClusterName, Level, PrincipalName, Schema, Uri};

use crate::{Query, Workload};

/// A peer could not be built or could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerError(String);

impl PeerError {
    fn new(what: impl fmt::Display) -> PeerError {
        PeerError(what.to_string())
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeerError {}

impl From<acl_core::Error> for PeerError {
    fn from(e: acl_core::Error) -> PeerError {
        PeerError::new(e)
    }
}

/// The part of a workload's model the peers encode (see the module doc).
#[derive(Debug, Clone)]
pub struct PeerModel {
    /// The users (principals of entity type `User` for cedar).
    pub users: BTreeSet<PrincipalName>,
    /// The roles.
    pub roles: BTreeSet<PrincipalName>,
    /// Membership links `(member, role)`.
    pub memberships: Vec<(PrincipalName, PrincipalName)>,
    /// Every grant `(uri, holder, level)`: the users' homes first, then the workload's
    /// batch, in the order `acl` loaded them.
    pub grants: Vec<(Uri, PrincipalName, Level)>,
}

impl PeerModel {
    /// The model of `workload` as loaded with `schema` in cluster `c`.
    pub fn of(workload: &Workload, schema: &Schema) -> Result<PeerModel, PeerError> {
        let cluster = ClusterName::new("c")?;
        let users: BTreeSet<PrincipalName> = workload.users.iter().cloned().collect();
        let roles: BTreeSet<PrincipalName> = workload.roles.iter().cloned().collect();
        let mut grants = Vec::new();
        for user in &workload.users {
            for (uri, level) in schema.home_grants(&cluster, user)? {
                grants.push((uri, user.clone(), level));
            }
        }
        grants.extend(workload.grants.iter().cloned());
        let mut memberships = Vec::new();
        for (uri, holder, level) in &grants {
            if *level == Level::Deny {
                return Err(PeerError::new(format!(
                    "the peers encode no forbid, and {holder} has one on {uri}"
                )));
            }
            if *level >= Level::Read
                && let Some(role) = uri.role_name()
                && roles.contains(&role)
            {
                memberships.push((holder.clone(), role));
            }
        }
        Ok(PeerModel {
            users,
            roles,
            memberships,
            grants,
        })
    }
}

// ---------------------------------------------------------------------------------------
// casbin-rs
// ---------------------------------------------------------------------------------------

/// A casbin model: RBAC with a role hierarchy, `matcher` as its `m`.
fn casbin_model(matcher: &str) -> String {
    format!(
        "[request_definition]\nr = sub, obj, lvl\n\n[policy_definition]\np = sub, obj, pre, lvl\n\n\
         [role_definition]\ng = _, _\n\n[policy_effect]\ne = some(where (p.eft == allow))\n\n\
         [matchers]\nm = {matcher}\n"
    )
}

/// The fast matcher: the object (exact, then by prefix), then the level, then `g()`.
pub const CASBIN_FAST_MATCHER: &str =
    "(r.obj == p.obj || keyMatch(r.obj, p.pre)) && r.lvl <= p.lvl && g(r.sub, p.sub)";
/// The textbook matcher: `g()` first, as casbin's RBAC examples write it.
pub const CASBIN_TEXTBOOK_MATCHER: &str =
    "g(r.sub, p.sub) && (r.obj == p.obj || keyMatch(r.obj, p.pre)) && r.lvl <= p.lvl";

/// How a [`CasbinPeer`] is set up (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasbinConfig {
    /// Cheap comparisons first, `g()` last, the role manager's cache on.
    Fast,
    /// `g()` first.
    Textbook,
    /// The fast model behind a `CachedEnforcer` memoizing whole requests.
    Memoized,
}

impl CasbinConfig {
    /// Every configuration.
    pub const ALL: [CasbinConfig; 3] = [
        CasbinConfig::Fast,
        CasbinConfig::Textbook,
        CasbinConfig::Memoized,
    ];

    /// A short name, used as the benchmark id.
    pub fn name(self) -> &'static str {
        match self {
            CasbinConfig::Fast => "casbin-fast",
            CasbinConfig::Textbook => "casbin-textbook",
            CasbinConfig::Memoized => "casbin-memoized",
        }
    }
}

/// How often a [`CasbinConfig::Memoized`] enforcer's request cache answered.
#[derive(Debug, Default)]
pub struct CacheCounters {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CacheCounters {
    /// `(hits, misses)` since the last [`CacheCounters::reset`].
    pub fn read(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The share of lookups answered by the cache, `None` before any lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        let (hits, misses) = self.read();
        let total = hits + misses;
        (total > 0).then(|| hits as f64 / total as f64)
    }

    /// Starts counting again.
    pub fn reset(&self) {
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }
}

/// casbin's own request cache, counting its hits.
struct CountingCache {
    inner: casbin::DefaultCache<u64, bool>,
    counters: Arc<CacheCounters>,
}

impl casbin::Cache<u64, bool> for CountingCache {
    fn get(&self, k: &u64) -> Option<bool> {
        let found = self.inner.get(k);
        let counter = match found {
            Some(_) => &self.counters.hits,
            None => &self.counters.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn has(&self, k: &u64) -> bool {
        self.inner.has(k)
    }

    fn set(&self, k: u64, v: bool) {
        self.inner.set(k, v);
    }

    fn clear(&self) {
        self.inner.clear();
    }
}

enum CasbinEnforcer {
    Plain(casbin::Enforcer),
    Cached(casbin::CachedEnforcer),
}

/// casbin-rs over a [`PeerModel`], in one [`CasbinConfig`].
pub struct CasbinPeer {
    config: CasbinConfig,
    enforcer: CasbinEnforcer,
    counters: Arc<CacheCounters>,
}

impl fmt::Debug for CasbinPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CasbinPeer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A query as casbin's request: `(subject, object, rank)`.
#[derive(Debug, Clone)]
pub struct CasbinQuery(String, String, String);

fn rank(level: Level) -> String {
    level.rank().to_string()
}

/// Requests a [`CasbinConfig::Memoized`] enforcer keeps: casbin's default is 200; this
/// holds every distinct request of a benchmark run, so the figure is the cache's best.
pub const CASBIN_REQUEST_CACHE: usize = 10_000;

impl CasbinPeer {
    /// Builds the enforcer of `config`: the model, then every grouping link and policy
    /// line.
    pub fn load(model: &PeerModel, config: CasbinConfig) -> Result<CasbinPeer, PeerError> {
        use casbin::{CachedApi, CoreApi, DefaultModel, MemoryAdapter, MgmtApi};
        let matcher = match config {
            CasbinConfig::Fast | CasbinConfig::Memoized => CASBIN_FAST_MATCHER,
            CasbinConfig::Textbook => CASBIN_TEXTBOOK_MATCHER,
        };
        let links: Vec<Vec<String>> = model
            .memberships
            .iter()
            .map(|(member, role)| vec![member.to_string(), role.to_string()])
            .collect();
        let lines: Vec<Vec<String>> = model
            .grants
            .iter()
            .map(|(uri, holder, level)| {
                let prefix = if uri.is_root() {
                    format!("{uri}*")
                } else {
                    format!("{uri}/*")
                };
                vec![holder.to_string(), uri.to_string(), prefix, rank(*level)]
            })
            .collect();
        let counters = Arc::new(CacheCounters::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(PeerError::new)?;
        let enforcer = runtime.block_on(async {
            let m = DefaultModel::from_str(&casbin_model(matcher))
                .await
                .map_err(PeerError::new)?;
            let adapter = MemoryAdapter::default();
            let enforcer = match config {
                CasbinConfig::Fast | CasbinConfig::Textbook => {
                    let mut e = casbin::Enforcer::new(m, adapter)
                        .await
                        .map_err(PeerError::new)?;
                    if !links.is_empty() {
                        e.add_grouping_policies(links)
                            .await
                            .map_err(PeerError::new)?;
                    }
                    e.add_policies(lines).await.map_err(PeerError::new)?;
                    CasbinEnforcer::Plain(e)
                }
                CasbinConfig::Memoized => {
                    let mut e = casbin::CachedEnforcer::new(m, adapter)
                        .await
                        .map_err(PeerError::new)?;
                    if !links.is_empty() {
                        e.add_grouping_policies(links)
                            .await
                            .map_err(PeerError::new)?;
                    }
                    e.add_policies(lines).await.map_err(PeerError::new)?;
                    e.set_cache(Box::new(CountingCache {
                        inner: casbin::DefaultCache::new(CASBIN_REQUEST_CACHE),
                        counters: Arc::clone(&counters),
                    }));
                    CasbinEnforcer::Cached(e)
                }
            };
            Ok::<_, PeerError>(enforcer)
        })?;
        Ok(CasbinPeer {
            config,
            enforcer,
            counters,
        })
    }

    /// The configuration it was built in.
    pub fn config(&self) -> CasbinConfig {
        self.config
    }

    /// The request cache's counters (they stay at zero but for [`CasbinConfig::Memoized`]).
    pub fn cache_counters(&self) -> &CacheCounters {
        &self.counters
    }

    /// The request for `query`, built once.
    pub fn request(query: &Query) -> CasbinQuery {
        CasbinQuery(
            query.principal.to_string(),
            query.uri.to_string(),
            rank(query.level),
        )
    }

    /// Whether casbin allows the request.
    pub fn check(&self, q: &CasbinQuery) -> Result<bool, PeerError> {
        use casbin::CoreApi;
        let request = (q.0.as_str(), q.1.as_str(), q.2.as_str());
        match &self.enforcer {
            CasbinEnforcer::Plain(e) => e.enforce(request),
            CasbinEnforcer::Cached(e) => e.enforce(request),
        }
        .map_err(PeerError::new)
    }
}

// ---------------------------------------------------------------------------------------
// cedar-policy
// ---------------------------------------------------------------------------------------

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet, RestrictedExpression, SlotId, Template,
};

fn uid(kind: &str, id: &str) -> Result<EntityUid, PeerError> {
    let name = EntityTypeName::from_str(kind).map_err(PeerError::new)?;
    Ok(EntityUid::from_type_name_and_id(name, EntityId::new(id)))
}

/// The levels a request asks about, lowest first: each cedar action is a member of the
/// next one.
const ALLOW: [Level; 4] = [Level::List, Level::Read, Level::Write, Level::Manage];

/// How a [`CedarPeer`] is set up (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CedarConfig {
    /// One policy per grant, indexed by scope; each request evaluates its slice.
    Sliced,
    /// Grants as resource attributes, four fixed policies.
    Attributes,
    /// Every template link in one policy set.
    Naive,
}

impl CedarConfig {
    /// Every configuration.
    pub const ALL: [CedarConfig; 3] = [
        CedarConfig::Sliced,
        CedarConfig::Attributes,
        CedarConfig::Naive,
    ];

    /// A short name, used as the benchmark id.
    pub fn name(self) -> &'static str {
        match self {
            CedarConfig::Sliced => "cedar-sliced",
            CedarConfig::Attributes => "cedar-attributes",
            CedarConfig::Naive => "cedar-naive",
        }
    }
}

/// Sliced policies: scope resource -> `(scope principal, policy)` for each policy with
/// that resource scope (`any` is [`CedarPeer::any`]). Filed by resource first because a
/// URI holds few grants while a principal's ancestors are many (20 on average on the
/// medium workload): a request looks up each of its resource scopes once and keeps the
/// policies whose principal scope is among its own, instead of probing every pair.
type SliceIndex = HashMap<EntityUid, Vec<(EntityUid, Policy)>>;

enum CedarPolicies {
    Sliced(SliceIndex),
    Fixed(Box<PolicySet>),
}

/// cedar-policy over a [`PeerModel`], in one [`CedarConfig`].
pub struct CedarPeer {
    config: CedarConfig,
    authorizer: Authorizer,
    policies: CedarPolicies,
    /// The whole entity store (principals, resources, actions), requests' slices cut from
    /// it; for [`CedarConfig::Attributes`] the resources carry their ACL sets.
    entities: Entities,
    /// The roles (a principal is a `Role` if it is one, else a `User`).
    roles: BTreeSet<PrincipalName>,
}

impl fmt::Debug for CedarPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CedarPeer")
            .field("config", &self.config)
            .field("entities", &self.entities.len())
            .finish_non_exhaustive()
    }
}

/// A query as a cedar request: its parts and the entities it needs, built once.
#[derive(Debug, Clone)]
pub struct CedarQuery {
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    /// The principal, its ancestors and `any`: the slice's principal scopes.
    principal_scopes: HashSet<EntityUid>,
    /// The resource, its ancestors and `any`: the slice's resource scopes.
    resource_scopes: Vec<EntityUid>,
    /// The entities the request needs (`None`: the whole store).
    entities: Option<Entities>,
}

impl CedarPeer {
    /// The scope key of an unconstrained principal or resource.
    fn any() -> Result<EntityUid, PeerError> {
        uid("Any", "")
    }

    fn principal(
        roles: &BTreeSet<PrincipalName>,
        name: &PrincipalName,
    ) -> Result<EntityUid, PeerError> {
        let kind = if roles.contains(name) { "Role" } else { "User" };
        uid(kind, name.as_str())
    }

    /// Builds the entities and policies of `config`: principals with their roles as
    /// parents, every URI of a grant or of `asked` with its ancestors, the four actions.
    pub fn load(
        model: &PeerModel,
        asked: &[Uri],
        config: CedarConfig,
    ) -> Result<CedarPeer, PeerError> {
        let roles = &model.roles;
        let mut parents: HashMap<&PrincipalName, HashSet<EntityUid>> = HashMap::new();
        for (member, role) in &model.memberships {
            parents
                .entry(member)
                .or_default()
                .insert(uid("Role", role.as_str())?);
        }
        let mut entities = Vec::new();
        for name in model.users.iter().chain(roles) {
            let of = parents.remove(name).unwrap_or_default();
            entities.push(Entity::new_no_attrs(Self::principal(roles, name)?, of));
        }
        let mut uris: BTreeSet<Uri> = BTreeSet::new();
        for uri in model.grants.iter().map(|(u, _, _)| u).chain(asked) {
            uris.extend(uri.ancestors_and_self());
        }
        // for the attribute shape: the holders of each level on each URI itself
        let mut acl: BTreeMap<&Uri, Vec<(&PrincipalName, Level)>> = BTreeMap::new();
        if config == CedarConfig::Attributes {
            for (uri, holder, level) in &model.grants {
                acl.entry(uri).or_default().push((holder, *level));
            }
        }
        for uri in &uris {
            let of: HashSet<_> = match uri.parent() {
                Some(parent) => [uid("Resource", parent.as_str())?].into(),
                None => HashSet::new(),
            };
            let id = uid("Resource", uri.as_str())?;
            let entity = if config == CedarConfig::Attributes {
                let mut sets: [Vec<RestrictedExpression>; 4] = Default::default();
                for at in uri.ancestors_and_self() {
                    for (holder, level) in acl.get(&at).into_iter().flatten() {
                        let slot = ALLOW.iter().position(|l| l == level);
                        if let Some(set) = slot.and_then(|i| sets.get_mut(i)) {
                            set.push(RestrictedExpression::new_entity_uid(Self::principal(
                                roles, holder,
                            )?));
                        }
                    }
                }
                let attrs: HashMap<String, RestrictedExpression> = ALLOW
                    .iter()
                    .zip(sets)
                    .map(|(level, set)| {
                        (
                            level.as_str().to_owned(),
                            RestrictedExpression::new_set(set),
                        )
                    })
                    .collect();
                Entity::new(id, attrs, of).map_err(PeerError::new)?
            } else {
                Entity::new_no_attrs(id, of)
            };
            entities.push(entity);
        }
        entities.extend(Self::actions()?);
        let entities = Entities::from_entities(entities, None).map_err(PeerError::new)?;

        let policies = match config {
            CedarConfig::Naive => CedarPolicies::Fixed(Box::new(Self::linked(model)?)),
            CedarConfig::Attributes => {
                let mut set = PolicySet::new();
                for level in ALLOW {
                    let text = format!(
                        "permit(principal, action in Action::\"{level}\", resource) \
                         when {{ principal in resource.{level} }};"
                    );
                    let policy = Policy::parse(Some(PolicyId::new(level.as_str())), text)
                        .map_err(PeerError::new)?;
                    set.add(policy).map_err(PeerError::new)?;
                }
                CedarPolicies::Fixed(Box::new(set))
            }
            CedarConfig::Sliced => CedarPolicies::Sliced(Self::indexed(model)?),
        };
        Ok(CedarPeer {
            config,
            authorizer: Authorizer::new(),
            policies,
            entities,
            roles: roles.clone(),
        })
    }

    /// The four actions, each a member of the next.
    fn actions() -> Result<Vec<Entity>, PeerError> {
        let mut actions = Vec::new();
        for (i, level) in ALLOW.iter().enumerate() {
            let of: HashSet<_> = match ALLOW.get(i + 1) {
                Some(next) => [uid("Action", next.as_str())?].into(),
                None => HashSet::new(),
            };
            actions.push(Entity::new_no_attrs(uid("Action", level.as_str())?, of));
        }
        Ok(actions)
    }

    /// The naive policy set: four templates, one link per grant.
    fn linked(model: &PeerModel) -> Result<PolicySet, PeerError> {
        let mut policies = PolicySet::new();
        for level in ALLOW {
            let text = format!(
                "permit(principal in ?principal, action in Action::\"{level}\", resource in ?resource);"
            );
            let template = Template::parse(Some(PolicyId::new(level.as_str())), text)
                .map_err(PeerError::new)?;
            policies.add_template(template).map_err(PeerError::new)?;
        }
        for (i, (uri, holder, level)) in model.grants.iter().enumerate() {
            let slots = HashMap::from([
                (SlotId::principal(), Self::principal(&model.roles, holder)?),
                (SlotId::resource(), uid("Resource", uri.as_str())?),
            ]);
            policies
                .link(
                    PolicyId::new(level.as_str()),
                    PolicyId::new(format!("g{i}")),
                    slots,
                )
                .map_err(PeerError::new)?;
        }
        Ok(policies)
    }

    /// The sliced index: one static policy per grant, filed under its principal and
    /// resource scope, read back from the policy itself.
    fn indexed(model: &PeerModel) -> Result<SliceIndex, PeerError> {
        use cedar_policy::{PrincipalConstraint, ResourceConstraint};
        let any = Self::any()?;
        let mut index: SliceIndex = HashMap::new();
        for (i, (uri, holder, level)) in model.grants.iter().enumerate() {
            let principal = Self::principal(&model.roles, holder)?;
            let resource = uid("Resource", uri.as_str())?;
            let text = format!(
                "permit(principal in {principal}, action in Action::\"{level}\", resource in {resource});"
            );
            let policy = Policy::parse(Some(PolicyId::new(format!("g{i}"))), text)
                .map_err(PeerError::new)?;
            let by = match policy.principal_constraint() {
                PrincipalConstraint::In(p) | PrincipalConstraint::Eq(p) => p,
                PrincipalConstraint::IsIn(_, p) => p,
                PrincipalConstraint::Any | PrincipalConstraint::Is(_) => any.clone(),
            };
            let on = match policy.resource_constraint() {
                ResourceConstraint::In(r) | ResourceConstraint::Eq(r) => r,
                ResourceConstraint::IsIn(_, r) => r,
                ResourceConstraint::Any | ResourceConstraint::Is(_) => any.clone(),
            };
            index.entry(on).or_default().push((by, policy));
        }
        Ok(index)
    }

    /// The configuration it was built in.
    pub fn config(&self) -> CedarConfig {
        self.config
    }

    /// The request for `query`: its parts, and (but for the naive configuration) the
    /// entities it needs cut from the store: the principal with its ancestors as parents,
    /// the resource with its ancestors (and, for the attribute shape, its ACL sets), the
    /// four actions.
    pub fn request(&self, query: &Query) -> Result<CedarQuery, PeerError> {
        let principal = Self::principal(&self.roles, &query.principal)?;
        let resource = uid("Resource", query.uri.as_str())?;
        let ancestors: HashSet<EntityUid> = self
            .entities
            .ancestors(&principal)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let mut principal_scopes = ancestors.clone();
        principal_scopes.insert(principal.clone());
        principal_scopes.insert(Self::any()?);
        let mut resource_scopes = vec![resource.clone()];
        resource_scopes.extend(
            self.entities
                .ancestors(&resource)
                .into_iter()
                .flatten()
                .cloned(),
        );
        resource_scopes.push(Self::any()?);
        let entities = match self.config {
            CedarConfig::Naive => None,
            CedarConfig::Sliced | CedarConfig::Attributes => {
                let mut slice = vec![Entity::new_no_attrs(principal.clone(), ancestors)];
                let stored = self
                    .entities
                    .get(&resource)
                    .cloned()
                    .ok_or_else(|| PeerError::new(format!("no entity for {resource}")))?;
                slice.push(stored);
                slice.extend(Self::actions()?);
                Some(Entities::from_entities(slice, None).map_err(PeerError::new)?)
            }
        };
        Ok(CedarQuery {
            principal,
            action: uid("Action", query.level.as_str())?,
            resource,
            principal_scopes,
            resource_scopes,
            entities,
        })
    }

    /// The policies a sliced request evaluates: those under {principal and its ancestors,
    /// any} x {resource and its ancestors, any}.
    pub fn slice(&self, q: &CedarQuery) -> Result<PolicySet, PeerError> {
        let mut slice = PolicySet::new();
        let CedarPolicies::Sliced(index) = &self.policies else {
            return Ok(slice);
        };
        for scope in &q.resource_scopes {
            for (by, policy) in index.get(scope).into_iter().flatten() {
                if q.principal_scopes.contains(by) {
                    slice.add(policy.clone()).map_err(PeerError::new)?;
                }
            }
        }
        Ok(slice)
    }

    /// Whether cedar allows the request. The request is built here, as a service would for
    /// each call, and for the sliced configuration so is the slice.
    pub fn check(&self, q: &CedarQuery) -> Result<bool, PeerError> {
        let request = cedar_policy::Request::new(
            q.principal.clone(),
            q.action.clone(),
            q.resource.clone(),
            Context::empty(),
            None,
        )
        .map_err(PeerError::new)?;
        let entities = q.entities.as_ref().unwrap_or(&self.entities);
        let response = match &self.policies {
            CedarPolicies::Fixed(set) => self.authorizer.is_authorized(&request, set, entities),
            CedarPolicies::Sliced(_) => {
                let slice = self.slice(q)?;
                self.authorizer.is_authorized(&request, &slice, entities)
            }
        };
        Ok(response.decision() == Decision::Allow)
    }
}
