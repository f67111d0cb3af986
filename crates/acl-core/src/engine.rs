//! The engine: authorizes, validates and applies mutations in one store transaction each
//! (rules M1 to M4), and answers reads on consistent views (rules E1 to E7).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::cache::ClosureCache;
use crate::error::{Error, Result};
use crate::graph::{Closure, Walk, refuse_cycle};
use crate::index::{IdClosure, Index};
use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::page::{Page, PageRequest};
use crate::resolve::{
    Batch, Decision, DecisionOf, Facts, LevelOf, Membership, Question, ViewFacts, closure_of,
    level_with,
};
use crate::rows::{
    Change, ChangeEntry, Edge, Fence, Grant, PrincipalKind, PrincipalRecord, Revision,
};
use crate::schema::{Schema, ShareScope};
use crate::store::{ReadView, ReadViewExt, Store, WriteTxn, WriteTxnExt};
use crate::text::clip;
use crate::time::Timestamp;
use crate::uri::{Uri, UriContext};

/// Who performs a mutation, and when. The core reads no clock: the time comes in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The acting principal; every mutation is authorized as it.
    pub principal: PrincipalName,
    /// The time of the call, recorded in the changelog.
    pub at: Timestamp,
}

impl Caller {
    /// The principal `principal` acting at `at`.
    pub fn new(principal: PrincipalName, at: Timestamp) -> Caller {
        Caller { principal, at }
    }
}

/// The result of a mutation: its value and the store's revision after it. A mutation that
/// changed nothing (a kept grant) leaves the revision as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied<T> {
    /// The store's revision after the call; a consistency token for later reads.
    pub revision: Revision,
    /// What the call did.
    pub value: T,
}

/// What a grant did (rule M1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GrantOutcome {
    /// The grantee had no direct grant there; now it has this one.
    Created,
    /// The grantee's lower direct grant was raised.
    Raised {
        /// The level it had before.
        from: Level,
    },
    /// The grantee already held this level or higher there: nothing changed.
    Kept {
        /// The level it holds.
        existing: Level,
    },
}

/// What removing a role removed with it (rule P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RemovedRole {
    /// Grants and forbids the role held.
    pub grants_held: usize,
    /// Grants others held on exactly `role://R` (memberships and management of it).
    pub grants_on_role: usize,
    /// Membership edges the role had, both directions (its memberships of other roles
    /// and its members'); they go with the grants above.
    pub edges: usize,
}

/// What [`Engine::set_grants`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GrantsSet {
    /// Direct grants and forbids removed (those not in the new set at the same level).
    pub revoked: usize,
    /// Grants made (those of the new set not already held at that level).
    pub granted: usize,
}

/// A filter for [`Reader::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilter {
    /// Only URIs at or below this one (a scheme root filters by scheme).
    pub within: Option<Uri>,
}

impl ListFilter {
    /// No filter.
    pub fn all() -> ListFilter {
        ListFilter::default()
    }

    /// Only URIs of `scheme` (Neu.ro's `-s scheme`).
    pub fn scheme(scheme: &str) -> Result<ListFilter> {
        Ok(ListFilter {
            within: Some(Uri::root(scheme)?),
        })
    }

    /// Only `uri` and what lies below it.
    pub fn under(uri: Uri) -> ListFilter {
        ListFilter { within: Some(uri) }
    }
}

/// One node of [`Reader::tree`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    /// The node's URI.
    pub uri: Uri,
    /// Segments below the tree's root (0 for the root).
    pub depth: usize,
    /// The principal's effective level there.
    pub level: Level,
}

/// What the body of a mutation did: changed something (committed with its changelog
/// entry, rule M3) or nothing (the transaction is dropped, the revision stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<T> {
    /// The body changed rows: commit them with this changelog entry.
    Changed(T, Change),
    /// The body changed nothing (a kept grant): commit nothing.
    Unchanged(T),
}

/// How init's changelog entry names the first admin user: `admin {user}`, then whatever
/// a layer adds after a space (its email). [`Reader::init_admin`] reads it back.
pub const INIT_ADMIN: &str = "admin ";

/// Settings of an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineOptions {
    /// How many principals' closures to keep; 0 turns the cache off. A cached closure
    /// stays valid across writes until a commit notes a principal its walk reached (see
    /// [`ReadView::membership_changes`]), and is never used on a view older than the
    /// revision it was computed at, so it can never answer for another state (rule E7).
    pub closure_cache: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            closure_cache: 65_536,
        }
    }
}

/// What [`Engine::audit_cache`] found: how many cached closures it compared with closures
/// computed afresh, and the principals whose cached closure differed (none, or the cache is
/// wrong).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheAudit {
    /// The revision audited.
    pub revision: Revision,
    /// Cached memberships compared.
    pub compared: usize,
    /// Principals whose cached membership differs from a fresh one.
    pub wrong: Vec<PrincipalName>,
}

/// What a layer above the kernel (acl-platform's folders and accounts) adds to the kernel's
/// own mutations, registered with [`Engine::with_layer`]. Each hook runs inside the
/// mutation's write transaction, so the layer's rows change together with the kernel's or
/// not at all; an error refuses the mutation, which then changes nothing. Every hook has a
/// body that does nothing, so a layer implements only those it needs.
pub trait Layer<S: Store>: Send + Sync {
    /// At [`Engine::init`], after the kernel wrote its rows (the cluster, its roles, the
    /// scheme roots' grants and the first admin user): the layer's own initial rows.
    fn on_init(&self, tx: &mut S::Write<'_>, schema: &Schema, cluster: &ClusterName) -> Result<()> {
        let _ = (tx, schema, cluster);
        Ok(())
    }

    /// At [`Engine::set_active`], after user `user`'s principal became `active` or not
    /// (rules E1, A3).
    fn on_active(&self, tx: &mut S::Write<'_>, user: &PrincipalName, active: bool) -> Result<()> {
        let _ = (tx, user, active);
        Ok(())
    }

    /// At [`Engine::remove_role`], after the actor was authorized and before the kernel
    /// removes the role's grants, edges and principal (rule P4): the layer refuses the
    /// removal while its rows need the role, or removes its own rows of it.
    fn on_remove_role(&self, tx: &mut S::Write<'_>, role: &PrincipalName) -> Result<()> {
        let _ = (tx, role);
        Ok(())
    }

    /// Before a direct `action` (`grant`, `forbid` or `revoke`, by [`Engine::grant`],
    /// [`Engine::grant_many`] or [`Engine::revoke`]) changes `holder`'s grant on `uri`,
    /// after the actor was authorized: an error refuses it. acl-platform refuses direct
    /// changes to the grants its folder workflows own (rule F7); the workflows write those
    /// grants through the kernel's row helpers, which no layer sees.
    fn check_direct_grant(
        &self,
        tx: &S::Write<'_>,
        cluster: &ClusterName,
        uri: &Uri,
        holder: &PrincipalName,
        action: &'static str,
    ) -> Result<()> {
        let _ = (tx, cluster, uri, holder, action);
        Ok(())
    }
}

/// The layers of an engine, in registration order.
struct Layers<S: Store>(Vec<Box<dyn Layer<S>>>);

impl<S: Store> std::fmt::Debug for Layers<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} layer(s)", self.0.len())
    }
}

/// The engine over a store `S` with a schema. Cheap to share by reference across threads
/// when `S` is (every store is `Send + Sync`).
///
/// Every mutation runs in ONE write transaction: the actor is authorized, the input
/// validated and the change applied and logged there, and any error drops the transaction
/// so nothing changes. Reads go through a [`Reader`], one consistent view.
#[derive(Debug)]
pub struct Engine<S: Store> {
    store: S,
    schema: Schema,
    /// The cluster name, read once from a committed state: init sets it and nothing
    /// changes it after.
    cluster: OnceLock<ClusterName>,
    options: EngineOptions,
    /// For stores without an [`Index`]: each principal's membership by canonical name (its
    /// closure, or why it has none: unknown or inactive, rule E1).
    closures: ClosureCache<Arc<Closure>>,
    /// For stores that keep an [`Index`]: each principal's membership by name as id
    /// closures. Keyed by name, so a cached check does not look the principal up in the
    /// index at all.
    id_closures: ClosureCache<IdClosure>,
    /// What layers above the kernel add to its mutations.
    layers: Layers<S>,
}

/// How many rows a "fetch everything" store call asks for.
const ALL: usize = usize::MAX;

/// How many grants of a `grant_many` batch are read ahead together (their existing grants
/// and what the actor holds on their URIs): one request per chunk instead of one per
/// grant, which is what a networked store's round trips cost.
const GRANT_CHUNK: usize = 256;

impl<S: Store> Engine<S> {
    /// An engine over `store`, enforcing `schema`, with the default options.
    pub fn new(store: S, schema: Schema) -> Engine<S> {
        Engine::with_options(store, schema, EngineOptions::default())
    }

    /// An engine over `store`, enforcing `schema`, with `options`.
    pub fn with_options(store: S, schema: Schema, options: EngineOptions) -> Engine<S> {
        Engine {
            store,
            schema,
            cluster: OnceLock::new(),
            options,
            closures: ClosureCache::new(options.closure_cache),
            id_closures: ClosureCache::new(options.closure_cache),
            layers: Layers(Vec::new()),
        }
    }

    /// This engine with `layer`'s hooks added to its mutations (see [`Layer`]).
    pub fn with_layer(mut self, layer: impl Layer<S> + 'static) -> Engine<S> {
        self.layers.0.push(Box::new(layer));
        self
    }

    /// Runs every layer's check on a direct change of `holder`'s grant on `uri`.
    fn guard(
        &self,
        tx: &S::Write<'_>,
        cluster: &ClusterName,
        uri: &Uri,
        holder: &PrincipalName,
        action: &'static str,
    ) -> Result<()> {
        self.layers
            .0
            .iter()
            .try_for_each(|l| l.check_direct_grant(tx, cluster, uri, holder, action))
    }

    /// The options the engine was built with.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// `closure(p)` on a read view at `revision`, from the cache when it holds one valid
    /// there; or why p has none (unknown or inactive, rule E1). For calls that keep the
    /// closure a while (tree, list, who): a check borrows it instead ([`Reader::answer`]).
    fn cached_closure<V: ReadView + ?Sized>(
        &self,
        view: &V,
        revision: Revision,
        principal: &PrincipalName,
    ) -> Result<Membership<Arc<Closure>>> {
        let notes = |after| view.membership_changes(after);
        if let Some(hit) = self
            .closures
            .find(notes, revision, principal, Membership::clone)?
        {
            return Ok(hit);
        }
        let membership = ViewFacts::new(view).membership(principal)?.map(Arc::new);
        self.keep_closure(revision, principal.clone(), membership.clone());
        Ok(membership)
    }

    /// Keeps `principal`'s membership, computed at `revision`, in the closure cache, with
    /// what it depends on.
    fn keep_closure(
        &self,
        revision: Revision,
        principal: PrincipalName,
        membership: Membership<Arc<Closure>>,
    ) {
        if !self.closures.is_on() {
            return;
        }
        let reach = match &membership {
            Membership::Live(closure) => closure
                .reach()
                .map(|n| self.closures.hash(n.as_str()))
                .collect(),
            _ => vec![self.closures.hash(principal.as_str())],
        };
        self.closures.keep(revision, principal, membership, reach);
    }

    /// Answers `Q` for `given` on `uri` from a store's [`Index`]: the principal's id closure
    /// from the cache when it holds one valid at `revision` (borrowed under this thread's
    /// shard of the cache's lock, so a cached check writes no shared memory), then the
    /// evaluator on the index's facts. `view` is the view the index belongs to.
    ///
    /// `given` is the caller's name, possibly the alias `{C}/users/u`. The cache is keyed
    /// by canonical names only, and a canonical name is its own canonical form, so a name
    /// found in the cache is canonical as given: only a miss pays for canonicalizing.
    fn indexed<V: ReadView + ?Sized, Q: Question>(
        &self,
        view: &V,
        index: &Index,
        revision: Revision,
        cluster: &ClusterName,
        given: &PrincipalName,
        uri: &Uri,
    ) -> Result<Q::Answer> {
        if !self.id_closures.is_on() {
            let membership = index.membership(&canonical_name_cow(cluster, given))?;
            return Q::ask(index, membership.as_ref(), uri);
        }
        let ask = |m: &Membership<IdClosure>| Q::ask(index, m.as_ref(), uri);
        let notes = |after| view.membership_changes(after);
        if let Some(answer) = self.id_closures.find(notes, revision, given, ask)? {
            return answer;
        }
        let principal = canonical_name_cow(cluster, given);
        if let Cow::Owned(canonical) = &principal
            && let Some(answer) = self.id_closures.find(notes, revision, canonical, ask)?
        {
            return answer;
        }
        let membership = index.membership(&principal)?;
        let answer = Q::ask(index, membership.as_ref(), uri);
        let mut reach = vec![self.id_closures.hash(principal.as_str())];
        if let Membership::Live(closure) = &membership {
            index.reach(closure, |name| reach.push(self.id_closures.hash(name)));
        }
        self.id_closures
            .keep(revision, principal.into_owned(), membership, reach);
        answer
    }

    /// Brings the closure caches up to the latest committed state, after a commit: the
    /// entries the commit's noted principals reached go, the rest stay. Best effort: on an
    /// error the next read catches up instead.
    fn refresh_caches(&self) {
        if !self.closures.is_on() {
            return;
        }
        let Ok(view) = self.store.read() else {
            return;
        };
        let Ok(revision) = view.revision() else {
            return;
        };
        // An error here only leaves the catch-up to the next read, which asks again.
        let _ = self
            .id_closures
            .catch_up(|after| view.membership_changes(after), revision);
        let _ = self
            .closures
            .catch_up(|after| view.membership_changes(after), revision);
    }

    /// Compares every cached closure valid at the latest revision with one computed afresh
    /// from the store (after catching the caches up with it). A correct cache gives an
    /// audit with nothing `wrong`; the property tests hold it to that after random writes.
    pub fn audit_cache(&self) -> Result<CacheAudit> {
        let view = self.store.read()?;
        let revision = view.revision()?;
        let notes = |after| view.membership_changes(after);
        self.id_closures.catch_up(notes, revision)?;
        self.closures.catch_up(notes, revision)?;
        let mut wrong = Vec::new();
        let mut compared = self.id_closures.each_valid(revision, |name, cached| {
            let fresh = match view.index() {
                Some(index) => Some(index.membership(name)?),
                None => None,
            };
            if fresh.as_ref() != Some(cached) {
                wrong.push(name.clone());
            }
            Ok(())
        })?;
        let facts = ViewFacts::new(&view);
        compared += self.closures.each_valid(revision, |name, cached| {
            let fresh = facts.membership(name)?;
            if fresh.as_ref() != cached.as_deref() {
                wrong.push(name.clone());
            }
            Ok(())
        })?;
        wrong.sort();
        Ok(CacheAudit {
            revision,
            compared,
            wrong,
        })
    }

    /// How many memberships the closure caches hold.
    pub fn cached_closures(&self) -> usize {
        self.closures.len() + self.id_closures.len()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// A consistent read view of the latest committed state.
    pub fn reader(&self) -> Result<Reader<'_, S>> {
        Ok(Reader {
            engine: self,
            view: self.store.read()?,
            revision: OnceCell::new(),
            use_index: true,
        })
    }

    /// A read view that has seen at least revision `revision` (rule M3): a consistency
    /// token from an earlier write. An older view is refused with
    /// [`Error::RevisionNotReached`].
    pub fn reader_at_least(&self, revision: Revision) -> Result<Reader<'_, S>> {
        let reader = self.reader()?;
        let current = reader.revision()?;
        if current < revision {
            return Err(Error::RevisionNotReached {
                wanted: revision.0,
                current: current.0,
            });
        }
        Ok(reader)
    }

    /// `check(p, U, L)` on the latest state (rule E5).
    pub fn check(&self, principal: &PrincipalName, uri: &Uri, level: Level) -> Result<bool> {
        self.reader()?.check(principal, uri, level)
    }

    /// `check(p, U, action)` on the latest state (rule E5).
    pub fn check_action(&self, principal: &PrincipalName, uri: &Uri, action: &str) -> Result<bool> {
        self.reader()?.check_action(principal, uri, action)
    }

    /// `explain(p, U)` on the latest state (rule E6).
    pub fn explain(&self, principal: &PrincipalName, uri: &Uri) -> Result<Decision> {
        self.reader()?.explain(principal, uri)
    }

    /// Runs `body` in one write transaction; commits if it changed something, drops the
    /// transaction (rolling back) on error or when nothing changed.
    pub(crate) fn mutate<T>(
        &self,
        body: impl FnOnce(&mut S::Write<'_>) -> Result<Step<T>>,
    ) -> Result<Applied<T>> {
        let mut tx = self.store.write()?;
        match body(&mut tx)? {
            Step::Changed(value, change) => {
                let revision = tx.commit(change)?;
                self.refresh_caches();
                Ok(Applied { revision, value })
            }
            Step::Unchanged(value) => {
                let revision = tx.revision()?;
                drop(tx);
                Ok(Applied { revision, value })
            }
        }
    }

    /// Initializes an empty store (rule P5): records the cluster, creates the cluster roles
    /// `{C}/admin` (with `manage` on every scheme root) and `{C}/manager`, and, when given,
    /// the first admin user with its home grants and membership of `{C}/admin`.
    pub fn init(
        &self,
        cluster: &ClusterName,
        admin: Option<&PrincipalName>,
        at: Timestamp,
    ) -> Result<Applied<()>> {
        self.mutate(|tx| {
            self.init_rows(tx, cluster, admin)?;
            Ok(Step::Changed(
                (),
                Change {
                    at,
                    actor: None,
                    action: "init".into(),
                    target: cluster.to_string(),
                    detail: admin
                        .map(|a| format!("{INIT_ADMIN}{a}"))
                        .unwrap_or_else(|| "no admin".into()),
                },
            ))
        })
    }

    /// The rows of init (rule P5, A4, A6), in the caller's transaction.
    pub(crate) fn init_rows(
        &self,
        tx: &mut S::Write<'_>,
        cluster: &ClusterName,
        admin: Option<&PrincipalName>,
    ) -> Result<()> {
        if let Some(existing) = tx.cluster()? {
            return Err(Error::already_exists("cluster", existing.as_str()));
        }
        let admin_role = cluster_role(cluster, "admin")?;
        let manager_role = cluster_role(cluster, "manager")?;
        if let Some(user) = admin {
            validate_user_name(cluster, user)?;
        }
        tx.set_cluster(cluster)?;
        for role in [&admin_role, &manager_role] {
            tx.insert_principal(&PrincipalRecord {
                name: role.clone(),
                kind: PrincipalKind::Role,
                active: true,
            })?;
        }
        for root in self.schema.scheme_roots()? {
            put_grant(tx, &admin_role, &root, Level::Manage)?;
        }
        if let Some(user) = admin {
            self.insert_user(tx, cluster, user)?;
            put_grant(tx, user, &Uri::of_role(&admin_role), Level::Read)?;
        }
        for layer in &self.layers.0 {
            layer.on_init(tx, &self.schema, cluster)?;
        }
        Ok(())
    }

    /// Sets `grantee`'s direct grant on `uri` to `level` (rule M1); `deny` records a forbid
    /// (rule E3). The caller needs `manage` on `uri`. A higher grant already there is kept
    /// and the outcome says so.
    pub fn grant(
        &self,
        by: &Caller,
        uri: &Uri,
        grantee: &PrincipalName,
        level: Level,
    ) -> Result<Applied<GrantOutcome>> {
        self.mutate(|tx| self.grant_step(tx, by, uri, grantee, level))
    }

    /// The body of [`grant`](Self::grant) in the caller's write transaction: the same
    /// checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn grant_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        uri: &Uri,
        grantee: &PrincipalName,
        level: Level,
    ) -> Result<Step<GrantOutcome>> {
        let cluster = self.cluster(tx)?.clone();
        let uri = self.canonical_uri(&cluster, uri)?;
        let grantee = canonical_name(&cluster, grantee);
        let actor = canonical_name(&cluster, &by.principal);
        self.validate_grant(&uri, level)?;
        let actor_closure = authorize(tx, &actor, &uri, Level::Manage, "grant")?;
        let record = tx.principal(&grantee)?;
        let outcome = self.apply_grant(tx, &actor_closure, &uri, &grantee, record, level)?;
        Ok(match outcome {
            GrantOutcome::Kept { .. } => Step::Unchanged(outcome),
            _ => Step::Changed(
                outcome,
                Change {
                    at: by.at,
                    actor: Some(actor),
                    action: if level == Level::Deny {
                        "forbid"
                    } else {
                        "grant"
                    }
                    .into(),
                    target: uri.to_string(),
                    detail: format!("{grantee} {level}"),
                },
            ),
        })
    }

    /// Applies many grants in ONE transaction with one changelog entry: all of them or,
    /// on the first error, none. Each is authorized and validated as [`Engine::grant`]
    /// would; for loading large models fast.
    pub fn grant_many(
        &self,
        by: &Caller,
        grants: &[(Uri, PrincipalName, Level)],
    ) -> Result<Applied<Vec<GrantOutcome>>> {
        self.mutate(|tx| {
            let cluster = self.cluster(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let mut actor_closure = closure_of(tx, &actor)?.ok();
            // A batch writes grants and edges only: principals and fences stay as they are
            // for its whole length, so each is read once, and the grants the actor's
            // closure holds on a URI are read once until a grant of the batch changes them
            // (see `Batch`). Each grant is authorized by the one evaluator on those facts.
            let mut records: HashMap<PrincipalName, Option<PrincipalRecord>> = HashMap::new();
            let batch = Batch::new(&*tx)?;
            let mut outcomes = Vec::with_capacity(grants.len());
            // The grants already on each (grantee, URI) of the current chunk, kept in step
            // with the chunk's own writes.
            let mut known: HashMap<PrincipalName, HashMap<Uri, Level>> = HashMap::new();
            for (i, (uri, grantee, level)) in grants.iter().enumerate() {
                if i % GRANT_CHUNK == 0 {
                    let chunk = grants.get(i..).unwrap_or_default();
                    let chunk = chunk.get(..GRANT_CHUNK).unwrap_or(chunk);
                    known =
                        self.look_ahead(&*tx, &cluster, actor_closure.as_ref(), &batch, chunk)?;
                }
                let uri = self.canonical_uri(&cluster, uri)?;
                let grantee = canonical_name(&cluster, grantee);
                self.validate_grant(&uri, *level)?;
                let allowed = match &actor_closure {
                    None => false,
                    Some(closure) => {
                        let facts = ViewFacts::batched(&*tx, &batch);
                        crate::resolve::level(&facts, Membership::Live(closure), &uri)?
                            >= Level::Manage
                    }
                };
                let closure = match &actor_closure {
                    Some(closure) if allowed => closure,
                    _ => return Err(forbidden(&actor, "grant", &uri, Level::Manage)),
                };
                let record = match records.get(&grantee) {
                    Some(record) => record.clone(),
                    None => {
                        let record = tx.principal(&grantee)?;
                        records.insert(grantee.clone(), record.clone());
                        record
                    }
                };
                let touches_actor = closure.contains(&grantee);
                self.admit_grant(tx, closure, &uri, &grantee, record, *level)?;
                let existing = known.get(&grantee).and_then(|at| at.get(&uri)).copied();
                let outcome = write_grant(tx, &uri, &grantee, *level, existing)?;
                if !matches!(outcome, GrantOutcome::Kept { .. }) {
                    known
                        .entry(grantee.clone())
                        .or_default()
                        .insert(uri.clone(), *level);
                }
                if touches_actor {
                    if uri.role_name().is_some() {
                        // A membership of a principal in the actor's closure may change the
                        // closure; one of anyone else cannot reach it.
                        actor_closure = closure_of(tx, &actor)?.ok();
                    }
                    // A grant or forbid held in the actor's closure changes what it holds.
                    batch.forget_held();
                }
                outcomes.push(outcome);
            }
            let changed = outcomes
                .iter()
                .filter(|o| !matches!(o, GrantOutcome::Kept { .. }))
                .count();
            if changed == 0 {
                return Ok(Step::Unchanged(outcomes));
            }
            Ok(Step::Changed(
                outcomes,
                Change {
                    at: by.at,
                    actor: Some(actor),
                    action: "grant_many".into(),
                    target: format!("{} grants", grants.len()),
                    detail: format!("{changed} changed"),
                },
            ))
        })
    }

    /// What `grant_many` reads ahead for `chunk`, its next grants, in one request each
    /// rather than one per grant: the grants `closure` (the actor's) holds on their URIs
    /// and those URIs' ancestors, into `batch`, and the grants already on each (grantee,
    /// URI) pair, answered. A grant whose URI does not parse is skipped here; the loop
    /// refuses it in its turn.
    fn look_ahead(
        &self,
        tx: &S::Write<'_>,
        cluster: &ClusterName,
        closure: Option<&Closure>,
        batch: &Batch,
        chunk: &[(Uri, PrincipalName, Level)],
    ) -> Result<HashMap<PrincipalName, HashMap<Uri, Level>>> {
        let pairs: Vec<(PrincipalName, Uri)> = chunk
            .iter()
            .filter_map(|(uri, grantee, _)| {
                let uri = self.canonical_uri(cluster, uri).ok()?;
                Some((canonical_name(cluster, grantee), uri))
            })
            .collect();
        if let Some(closure) = closure {
            let mut uris: Vec<Uri> = pairs
                .iter()
                .flat_map(|(_, uri)| uri.ancestors_and_self())
                .collect();
            uris.sort_unstable();
            uris.dedup();
            batch.prefetch_held(tx, closure, &uris)?;
        }
        let mut known: HashMap<PrincipalName, HashMap<Uri, Level>> = HashMap::new();
        for grant in tx.grants_on_pairs(&pairs)? {
            known
                .entry(grant.holder)
                .or_default()
                .insert(grant.uri, grant.level);
        }
        Ok(known)
    }

    /// Refuses a grant that is malformed whatever the state: forbids on `role://` (E3).
    fn validate_grant(&self, uri: &Uri, level: Level) -> Result<()> {
        if level == Level::Deny && self.scheme_of(uri)?.no_forbids {
            return Err(Error::InvalidInput(format!(
                "forbids are not allowed on `{}` uris",
                uri.scheme()
            )));
        }
        Ok(())
    }

    /// The body of a grant, after it was validated and the actor authorized on `uri`.
    pub(crate) fn apply_grant(
        &self,
        tx: &mut S::Write<'_>,
        actor_closure: &Closure,
        uri: &Uri,
        grantee: &PrincipalName,
        grantee_record: Option<PrincipalRecord>,
        level: Level,
    ) -> Result<GrantOutcome> {
        self.admit_grant(tx, actor_closure, uri, grantee, grantee_record, level)?;
        let existing = tx
            .grants_at(std::slice::from_ref(grantee), std::slice::from_ref(uri))?
            .into_iter()
            .next()
            .map(|g| g.level);
        write_grant(tx, uri, grantee, level, existing)
    }

    /// The checks of a grant that read the state, after it was validated and the actor
    /// authorized on `uri`: the grantee exists, every layer admits it, and the share
    /// scope (rule V2) holds.
    fn admit_grant(
        &self,
        tx: &S::Write<'_>,
        actor_closure: &Closure,
        uri: &Uri,
        grantee: &PrincipalName,
        grantee_record: Option<PrincipalRecord>,
        level: Level,
    ) -> Result<()> {
        let scheme = self.scheme_of(uri)?;
        let grantee_record =
            grantee_record.ok_or_else(|| Error::not_found("principal", grantee.as_str()))?;
        let action = if level == Level::Deny {
            "forbid"
        } else {
            "grant"
        };
        self.guard(tx, self.cluster(tx)?, uri, grantee, action)?;
        if level.is_allow() && scheme.share_scope == Some(ShareScope::SameGroup) {
            refuse_outside_scope(tx, actor_closure, &grantee_record, uri)?;
        }
        Ok(())
    }

    /// Removes `grantee`'s direct grant or forbid on exactly `uri` (rule M2). The caller
    /// needs `manage` on `uri`. Returns the level removed; nothing to remove is
    /// [`Error::NoEffect`].
    pub fn revoke(
        &self,
        by: &Caller,
        uri: &Uri,
        grantee: &PrincipalName,
    ) -> Result<Applied<Level>> {
        self.mutate(|tx| self.revoke_step(tx, by, uri, grantee))
    }

    /// Replaces `grantee`'s direct grants and forbids with exactly `grants` (Neu.ro's "set
    /// permissions"), in ONE transaction with one changelog entry: every direct grant or
    /// forbid not in `grants` at the same level is revoked, then every grant of `grants`
    /// not already held at that level is made. Each revoke and grant is the body of
    /// [`revoke`](Self::revoke) or [`grant`](Self::grant), so it is authorized (`manage`
    /// on its URI) and checked exactly as alone; the first refusal changes nothing. A URI
    /// named twice is invalid input; a set equal to the one held changes nothing (the
    /// revision stays).
    pub fn set_grants(
        &self,
        by: &Caller,
        grantee: &PrincipalName,
        grants: &[(Uri, Level)],
    ) -> Result<Applied<GrantsSet>> {
        self.mutate(|tx| {
            let cluster = self.cluster(tx)?.clone();
            let grantee = canonical_name(&cluster, grantee);
            let actor = canonical_name(&cluster, &by.principal);
            let mut wanted: Vec<(Uri, Level)> = Vec::with_capacity(grants.len());
            for (uri, level) in grants {
                let uri = self.canonical_uri(&cluster, uri)?;
                if wanted.iter().any(|(u, _)| *u == uri) {
                    return Err(Error::InvalidInput(format!(
                        "`{uri}` is named twice in the permissions to set"
                    )));
                }
                wanted.push((uri, *level));
            }
            if tx.principal(&grantee)?.is_none() && wanted.is_empty() {
                return Err(Error::not_found("principal", grantee.as_str()));
            }
            let held = tx.grants_of(&grantee, None, None, ALL)?;
            let mut report = GrantsSet::default();
            for grant in &held {
                if !wanted.contains(&(grant.uri.clone(), grant.level)) {
                    self.revoke_step(tx, by, &grant.uri, &grantee)?;
                    report.revoked += 1;
                }
            }
            for (uri, level) in &wanted {
                if !held.iter().any(|g| g.uri == *uri && g.level == *level) {
                    self.grant_step(tx, by, uri, &grantee, *level)?;
                    report.granted += 1;
                }
            }
            if report.revoked == 0 && report.granted == 0 {
                return Ok(Step::Unchanged(report));
            }
            Ok(Step::Changed(
                report,
                Change {
                    at: by.at,
                    actor: Some(actor),
                    action: "set_grants".into(),
                    target: grantee.to_string(),
                    detail: format!("{} revoked, {} granted", report.revoked, report.granted),
                },
            ))
        })
    }

    /// The body of [`revoke`](Self::revoke) in the caller's write transaction: the same
    /// checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn revoke_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        uri: &Uri,
        grantee: &PrincipalName,
    ) -> Result<Step<Level>> {
        let cluster = self.cluster(tx)?.clone();
        let uri = self.canonical_uri(&cluster, uri)?;
        let grantee = canonical_name(&cluster, grantee);
        let actor = canonical_name(&cluster, &by.principal);
        authorize(tx, &actor, &uri, Level::Manage, "revoke")?;
        if tx.principal(&grantee)?.is_none() {
            return Err(Error::not_found("principal", grantee.as_str()));
        }
        self.guard(tx, &cluster, &uri, &grantee, "revoke")?;
        let removed = remove_grant(tx, &grantee, &uri)?.ok_or_else(|| {
            Error::NoEffect(format!("`{grantee}` holds no direct grant on `{uri}`"))
        })?;
        Ok(Step::Changed(
            removed,
            Change {
                at: by.at,
                actor: Some(actor),
                action: "revoke".into(),
                target: uri.to_string(),
                detail: format!("{grantee} {removed}"),
            },
        ))
    }

    /// Adds a fence (rule E4): everything under `uri` is denied to whoever's closure lacks
    /// `group`. The caller needs `manage` on the scheme root.
    pub fn add_fence(&self, by: &Caller, uri: &Uri, group: &PrincipalName) -> Result<Applied<()>> {
        self.change_fence(by, uri, group, true)
    }

    /// Removes a fence (rule E4). The caller needs `manage` on the scheme root; an absent
    /// fence is [`Error::NoEffect`].
    pub fn remove_fence(
        &self,
        by: &Caller,
        uri: &Uri,
        group: &PrincipalName,
    ) -> Result<Applied<()>> {
        self.change_fence(by, uri, group, false)
    }

    fn change_fence(
        &self,
        by: &Caller,
        uri: &Uri,
        group: &PrincipalName,
        add: bool,
    ) -> Result<Applied<()>> {
        self.mutate(|tx| self.change_fence_step(tx, by, uri, group, add))
    }

    /// The body of [`add_fence`](Self::add_fence) in the caller's write transaction: the
    /// same checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn add_fence_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        uri: &Uri,
        group: &PrincipalName,
    ) -> Result<Step<()>> {
        self.change_fence_step(tx, by, uri, group, true)
    }

    /// The body of `add_fence` (`add`) or `remove_fence`, in the caller's transaction.
    fn change_fence_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        uri: &Uri,
        group: &PrincipalName,
        add: bool,
    ) -> Result<Step<()>> {
        let cluster = self.cluster(tx)?.clone();
        let uri = self.canonical_uri(&cluster, uri)?;
        let group = canonical_name(&cluster, group);
        let actor = canonical_name(&cluster, &by.principal);
        if self.scheme_of(&uri)?.no_forbids {
            return Err(Error::InvalidInput(format!(
                "fences are not allowed on `{}` uris",
                uri.scheme()
            )));
        }
        let action = if add { "add fence" } else { "remove fence" };
        authorize(tx, &actor, &uri.scheme_root(), Level::Manage, action)?;
        let fence = Fence {
            uri: uri.clone(),
            group: group.clone(),
        };
        if tx.principal(&group)?.is_none() {
            return Err(Error::not_found("principal", group.as_str()));
        }
        if add {
            if !tx.fences_at(std::slice::from_ref(&uri))?.contains(&fence) {
                tx.insert_fence(&fence)?;
            } else {
                return Err(Error::already_exists("fence", format!("{uri} {group}")));
            }
        } else if !tx.delete_fence(&fence)? {
            return Err(Error::NoEffect(format!(
                "there is no fence on `{uri}` for `{group}`"
            )));
        }
        Ok(Step::Changed(
            (),
            Change {
                at: by.at,
                actor: Some(actor),
                action: if add { "add_fence" } else { "remove_fence" }.into(),
                target: uri.to_string(),
                detail: group.to_string(),
            },
        ))
    }

    /// Adds a role or a group named `name` (rule P2). The caller needs `manage` on
    /// `role://{name}` (users hold it on `role://{user}/roles`).
    pub fn add_role(
        &self,
        by: &Caller,
        name: &PrincipalName,
        kind: PrincipalKind,
    ) -> Result<Applied<()>> {
        self.mutate(|tx| self.add_role_step(tx, by, name, kind))
    }

    /// The body of [`add_role`](Self::add_role) in the caller's write transaction: the same
    /// checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn add_role_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        name: &PrincipalName,
        kind: PrincipalKind,
    ) -> Result<Step<()>> {
        let cluster = self.cluster(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        if kind == PrincipalKind::User {
            return Err(Error::InvalidInput(
                "users are created with create_user, not add_role".into(),
            ));
        }
        if is_user_alias(&cluster, name) {
            return Err(Error::InvalidInput(format!(
                "`{name}` is in `{cluster}/users/`, reserved for user aliases"
            )));
        }
        authorize(tx, &actor, &Uri::of_role(name), Level::Manage, "add role")?;
        if tx.principal(name)?.is_some() {
            return Err(Error::already_exists("principal", name.as_str()));
        }
        let record = PrincipalRecord {
            name: name.clone(),
            kind,
            active: true,
        };
        tx.insert_principal(&record)?;
        link_existing_members(tx, &record)?;
        Ok(Step::Changed(
            (),
            Change {
                at: by.at,
                actor: Some(actor),
                action: "add_role".into(),
                target: name.to_string(),
                detail: kind.to_string(),
            },
        ))
    }

    /// Removes a role or group and, atomically, its grants, the grants on exactly
    /// `role://{name}` and its edges both ways (rule P4). The caller needs `manage` on
    /// `role://{name}`. Users and the cluster roles cannot be removed, nor a role that is
    /// the group of a fence.
    pub fn remove_role(&self, by: &Caller, name: &PrincipalName) -> Result<Applied<RemovedRole>> {
        self.mutate(|tx| {
            let cluster = self.cluster(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let name = canonical_name(&cluster, name);
            for builtin in ["admin", "manager", "monitor"] {
                if name == cluster_role(&cluster, builtin)? {
                    return Err(Error::InvalidInput(format!(
                        "`{name}` is a cluster role and cannot be removed"
                    )));
                }
            }
            let role_uri = Uri::of_role(&name);
            authorize(tx, &actor, &role_uri, Level::Manage, "remove role")?;
            let record = tx
                .principal(&name)?
                .ok_or_else(|| Error::not_found("role", name.as_str()))?;
            if record.kind == PrincipalKind::User {
                return Err(Error::InvalidInput(format!(
                    "`{name}` is a user; users are deactivated, never removed"
                )));
            }
            for layer in &self.layers.0 {
                layer.on_remove_role(tx, &name)?;
            }
            if let Some(fence) = tx.fences_of_group(&name)?.into_iter().next() {
                return Err(Error::Conflict(format!(
                    "`{name}` is the group of the fence on `{}`: remove the fence first",
                    fence.uri
                )));
            }
            let mut removed = RemovedRole {
                edges: tx.members_of(std::slice::from_ref(&name))?.len()
                    + tx.roles_of(std::slice::from_ref(&name))?.len(),
                ..RemovedRole::default()
            };
            for grant in tx.grants_of(&name, None, None, ALL)? {
                remove_grant(tx, &name, &grant.uri)?;
                removed.grants_held += 1;
            }
            for grant in tx.grants_on(std::slice::from_ref(&role_uri))? {
                remove_grant(tx, &grant.holder, &role_uri)?;
                removed.grants_on_role += 1;
            }
            // Edges both ways (counted above): those out of the role went with its grants on
            // role:// URIs, those into it with the grants on role://R; anything left is
            // removed here.
            for (role, member) in tx.members_of(std::slice::from_ref(&name))? {
                tx.delete_edge(&Edge {
                    member: member.name,
                    role,
                })?;
            }
            for (member, role) in tx.roles_of(std::slice::from_ref(&name))? {
                tx.delete_edge(&Edge {
                    member,
                    role: role.name,
                })?;
            }
            tx.delete_principal(&name)?;
            Ok(Step::Changed(
                removed,
                Change {
                    at: by.at,
                    actor: Some(actor),
                    action: "remove_role".into(),
                    target: name.to_string(),
                    detail: format!(
                        "{} grants held, {} grants on it",
                        removed.grants_held, removed.grants_on_role
                    ),
                },
            ))
        })
    }

    /// Creates user `name` with its home grants (rule P5). The caller needs `manage` on
    /// `user://` (rule A4). User names are one segment and differ from the cluster name.
    pub fn create_user(&self, by: &Caller, name: &PrincipalName) -> Result<Applied<()>> {
        self.mutate(|tx| self.create_user_step(tx, by, name))
    }

    /// The body of [`create_user`](Self::create_user) in the caller's write transaction: the same
    /// checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn create_user_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        name: &PrincipalName,
    ) -> Result<Step<()>> {
        let cluster = self.cluster(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        validate_user_name(&cluster, name)?;
        authorize(
            tx,
            &actor,
            &Uri::root("user")?,
            Level::Manage,
            "create user",
        )?;
        if tx.principal(name)?.is_some() {
            return Err(Error::already_exists("principal", name.as_str()));
        }
        self.insert_user(tx, &cluster, name)?;
        Ok(Step::Changed(
            (),
            Change {
                at: by.at,
                actor: Some(actor),
                action: "create_user".into(),
                target: name.to_string(),
                detail: String::new(),
            },
        ))
    }

    pub(crate) fn insert_user(
        &self,
        tx: &mut S::Write<'_>,
        cluster: &ClusterName,
        name: &PrincipalName,
    ) -> Result<()> {
        let record = PrincipalRecord {
            name: name.clone(),
            kind: PrincipalKind::User,
            active: true,
        };
        tx.insert_principal(&record)?;
        link_existing_members(tx, &record)?;
        for (uri, level) in self.schema.home_grants(cluster, name)? {
            put_grant(tx, name, &uri, level)?;
        }
        Ok(())
    }

    /// Activates or deactivates user `name` (rules E1, A3). The caller needs `manage` on
    /// `user://{name}`. Setting the state it already has is [`Error::NoEffect`].
    pub fn set_active(
        &self,
        by: &Caller,
        name: &PrincipalName,
        active: bool,
    ) -> Result<Applied<()>> {
        self.mutate(|tx| self.set_active_step(tx, by, name, active))
    }

    /// The body of [`set_active`](Self::set_active) in the caller's write transaction: the same
    /// checks and writes, then the step it commits with (its changelog entry). Runs
    /// inside [`Engine::transact`] to do several mutations in one transaction.
    pub fn set_active_step(
        &self,
        tx: &mut S::Write<'_>,
        by: &Caller,
        name: &PrincipalName,
        active: bool,
    ) -> Result<Step<()>> {
        let cluster = self.cluster(tx)?.clone();
        let actor = canonical_name(&cluster, &by.principal);
        let name = canonical_name(&cluster, name);
        let user_uri = Uri::root("user")?.child(name.as_str())?;
        let action = if active {
            "activate user"
        } else {
            "deactivate user"
        };
        authorize(tx, &actor, &user_uri, Level::Manage, action)?;
        let mut record = tx
            .principal(&name)?
            .ok_or_else(|| Error::not_found("user", name.as_str()))?;
        if record.kind != PrincipalKind::User {
            return Err(Error::InvalidInput(format!("`{name}` is not a user")));
        }
        if record.active == active {
            return Err(Error::NoEffect(format!(
                "`{name}` is already {}",
                if active { "active" } else { "inactive" }
            )));
        }
        record.active = active;
        tx.update_principal(&record)?;
        for layer in &self.layers.0 {
            layer.on_active(tx, &name, active)?;
        }
        Ok(Step::Changed(
            (),
            Change {
                at: by.at,
                actor: Some(actor),
                action: if active { "activate" } else { "deactivate" }.into(),
                target: name.to_string(),
                detail: String::new(),
            },
        ))
    }

    /// The cluster name, from the cache or else from `view` (a committed state: the only
    /// write that sets it is init's, which never reads it back).
    pub(crate) fn cluster<V: ReadView + ?Sized>(&self, view: &V) -> Result<&ClusterName> {
        if let Some(cluster) = self.cluster.get() {
            return Ok(cluster);
        }
        let cluster = cluster_of(view)?;
        Ok(self.cluster.get_or_init(|| cluster))
    }

    /// The scheme definition of `uri`; an unknown scheme is invalid input (rule U3).
    fn scheme_of(&self, uri: &Uri) -> Result<&crate::schema::SchemeDef> {
        self.schema.validate(uri)?;
        self.schema
            .scheme(uri.scheme())
            .ok_or_else(|| Error::InvalidUri {
                input: clip(uri.as_str()),
                problem: crate::error::UriProblem::UnknownScheme,
            })
    }

    /// Validates `uri` against the schema and rewrites the alias `role://{C}/users/u/...`
    /// to `role://u/...`.
    fn canonical_uri(&self, cluster: &ClusterName, uri: &Uri) -> Result<Uri> {
        self.canonical_uri_cow(cluster, uri).map(Cow::into_owned)
    }

    /// [`Engine::canonical_uri`], borrowing `uri` when it is already canonical.
    fn canonical_uri_cow<'u>(&self, cluster: &ClusterName, uri: &'u Uri) -> Result<Cow<'u, Uri>> {
        self.schema.validate(uri)?;
        if uri.scheme() == "role" {
            let mut segments = uri.segments();
            if let (Some(c), Some("users"), Some(_)) =
                (segments.next(), segments.next(), segments.next())
                && c == cluster.as_str()
            {
                let rest: Vec<&str> = uri.segments().skip(2).collect();
                return Uri::parse(&format!("role://{}", rest.join("/"))).map(Cow::Owned);
            }
        }
        Ok(Cow::Borrowed(uri))
    }

    /// Short-form URI resolution for `user` (rule U2), against the store's cluster.
    pub fn uri_for(&self, text: &str, user: &PrincipalName) -> Result<Uri> {
        let cluster = self.cluster(&self.store.read()?)?.clone();
        self.schema.uri(
            text,
            Some(&UriContext {
                cluster,
                user: user.clone(),
            }),
        )
    }
}

/// A consistent read view with the engine's read operations (rules E1 to E7). Every call on
/// one reader sees the same state.
pub struct Reader<'e, S: Store + 'e> {
    engine: &'e Engine<S>,
    view: S::Read<'e>,
    /// The view's revision, read once: the view never changes.
    revision: OnceCell<Revision>,
    /// Whether single-URI questions read the store's [`Index`] when it keeps one.
    use_index: bool,
}

impl<'e, S: Store + 'e> Reader<'e, S> {
    /// The revision this view sees.
    pub fn revision(&self) -> Result<Revision> {
        if let Some(revision) = self.revision.get() {
            return Ok(*revision);
        }
        let revision = self.view.revision()?;
        Ok(*self.revision.get_or_init(|| revision))
    }

    /// This reader with every fact read through the view's [`ReadView`] lookups, even on a
    /// store that keeps an [`Index`]. The answers are the same (one evaluator decides on
    /// either source of facts, and a store's index holds exactly the rows its lookups
    /// answer from); this is the generic path every other store takes, which differential
    /// tests hold the index's facts to.
    pub fn without_index(mut self) -> Reader<'e, S> {
        self.use_index = false;
        self
    }

    /// `closure(p)` through the engine's cache, or why p has none (unknown or inactive).
    fn closure_or_denial(&self, principal: &PrincipalName) -> Result<Membership<Arc<Closure>>> {
        self.engine
            .cached_closure(&self.view, self.revision()?, principal)
    }

    /// Answers `Q` (the level of a check, or the decision of an explanation) for
    /// `principal` on `uri`: the one evaluator on the store's [`Index`] when it keeps one,
    /// else on the view's lookups. A check and an explanation of the same pair run the same
    /// steps on the same facts.
    ///
    /// `principal` is as the caller gave it (see [`canonical_name_cow`]); `uri` is
    /// canonical.
    fn answer<Q: Question>(
        &self,
        cluster: &ClusterName,
        principal: &PrincipalName,
        uri: &Uri,
    ) -> Result<Q::Answer> {
        if self.use_index
            && let Some(index) = self.view.index()
        {
            return self.engine.indexed::<_, Q>(
                &self.view,
                index,
                self.revision()?,
                cluster,
                principal,
                uri,
            );
        }
        // The cached closure is borrowed under the cache's lock while the evaluator reads
        // the view: no reference count is touched on a hit.
        let principal = canonical_name_cow(cluster, principal);
        let revision = self.revision()?;
        let facts = ViewFacts::new(&self.view);
        let ask = |m: &Membership<Arc<Closure>>| Q::ask(&facts, m.as_deref(), uri);
        let notes = |after| self.view.membership_changes(after);
        if let Some(answer) = self
            .engine
            .closures
            .find(notes, revision, &principal, ask)?
        {
            return answer;
        }
        let membership = facts.membership(&principal)?.map(Arc::new);
        let answer = Q::ask(&facts, membership.as_deref(), uri);
        self.engine
            .keep_closure(revision, principal.into_owned(), membership);
        answer
    }

    /// The underlying store view, for store-level queries.
    pub fn view(&self) -> &S::Read<'e> {
        &self.view
    }

    /// The first admin user, as init's changelog entry (revision 1) names it (see
    /// [`INIT_ADMIN`]); `None` when init made none. The default actor of an adapter that
    /// acts for "the admin `init` created".
    pub fn init_admin(&self) -> Result<Option<PrincipalName>> {
        let first = self.changes(Revision(0), None, &PageRequest::first(1))?;
        first
            .items
            .first()
            .filter(|entry| entry.change.action == "init")
            .and_then(|entry| entry.change.detail.strip_prefix(INIT_ADMIN))
            .and_then(|rest| rest.split_whitespace().next())
            .map(PrincipalName::new)
            .transpose()
    }

    /// The engine this reader reads for (its schema, its options).
    pub fn engine(&self) -> &'e Engine<S> {
        self.engine
    }

    /// The cluster name.
    pub fn cluster(&self) -> Result<ClusterName> {
        self.engine.cluster(&self.view).cloned()
    }

    /// `name` with the user alias `{C}/users/u` resolved, borrowed when already canonical.
    pub(crate) fn principal_name<'n>(
        &self,
        name: &'n PrincipalName,
    ) -> Result<Cow<'n, PrincipalName>> {
        Ok(canonical_name_cow(self.engine.cluster(&self.view)?, name))
    }

    /// `uri` validated and with the role alias resolved, borrowed when already canonical.
    fn uri<'u>(&self, uri: &'u Uri) -> Result<Cow<'u, Uri>> {
        self.engine
            .canonical_uri_cow(self.engine.cluster(&self.view)?, uri)
    }

    /// `effective(p, U)` with its reason (rules E1 to E4, E6).
    pub fn explain(&self, principal: &PrincipalName, uri: &Uri) -> Result<Decision> {
        let cluster = self.engine.cluster(&self.view)?;
        let uri = self.engine.canonical_uri_cow(cluster, uri)?;
        self.answer::<DecisionOf>(cluster, principal, &uri)
    }

    /// `check(p, U, L)`: whether p's effective level on U is at least `level` (rule E5).
    /// `level` must be above deny.
    pub fn check(&self, principal: &PrincipalName, uri: &Uri, level: Level) -> Result<bool> {
        refuse_deny(level)?;
        // One look at the cluster for both canonical forms.
        let cluster = self.engine.cluster(&self.view)?;
        let uri = self.engine.canonical_uri_cow(cluster, uri)?;
        Ok(self.answer::<LevelOf>(cluster, principal, &uri)? >= level)
    }

    /// `check(p, U, action)`: the action's level comes from the schema; an unknown action is
    /// an error, not a denial (rule E5).
    pub fn check_action(&self, principal: &PrincipalName, uri: &Uri, action: &str) -> Result<bool> {
        let cluster = self.engine.cluster(&self.view)?;
        let uri = self.engine.canonical_uri_cow(cluster, uri)?;
        let level = self.engine.schema.action_level(&uri, action)?;
        refuse_deny(level)?;
        Ok(self.answer::<LevelOf>(cluster, principal, &uri)? >= level)
    }

    /// `closure(p)` (rule P3): p and every role it reaches through live memberships.
    /// Unknown and inactive principals have no closure: [`Error::NotFound`] and an empty
    /// answer respectively are both wrong, so this returns the denying decision's error.
    pub fn closure(&self, principal: &PrincipalName) -> Result<Closure> {
        let name = self.principal_name(principal)?;
        let record = self
            .view
            .principal(&name)?
            .ok_or_else(|| Error::not_found("principal", name.as_str()))?;
        Closure::load(&self.view, record, Walk::Live)
    }

    /// The principal's record, if it exists.
    pub fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>> {
        self.view.principal(&*self.principal_name(name)?)
    }

    /// Every principal, in name order, paginated.
    pub fn principals(&self, page: &PageRequest) -> Result<Page<PrincipalRecord>> {
        check_page(page)?;
        let after = match &page.after {
            Some(cursor) => Some(PrincipalName::new(cursor.as_str()).map_err(|_| bad_cursor())?),
            None => None,
        };
        let limit = page.limit.unwrap_or(ALL);
        let mut rows = self
            .view
            .principals(after.as_ref(), limit.saturating_add(1))?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(crate::page::Cursor::new(last.name.as_str())),
            _ => None,
        };
        Ok(Page { items: rows, next })
    }

    /// `tree(p, U, depth)` (rule E6): U and the URIs below it, at most `depth` segments
    /// deeper, that lead to a grant or forbid of p's closure or to a fence, each with p's
    /// effective level. Sorted by URI.
    pub fn tree(
        &self,
        principal: &PrincipalName,
        uri: &Uri,
        depth: usize,
    ) -> Result<Vec<TreeNode>> {
        let uri = self.uri(uri)?.into_owned();
        let base = uri.depth();
        // An unknown or inactive principal has no closure and holds nothing, but the tree
        // still shows the way to the fences, every node at the denying level.
        let membership = self.closure_or_denial(&*self.principal_name(principal)?)?;
        let mut nodes = BTreeSet::new();
        nodes.insert(uri.clone());
        let mut add_path = |leaf: &Uri| {
            let mut current = Some(leaf.clone());
            while let Some(node) = current {
                if node == uri || !uri.contains(&node) {
                    break;
                }
                current = node.parent();
                if node.depth() - base <= depth {
                    nodes.insert(node);
                }
            }
        };
        if let Membership::Live(closure) = &membership {
            for member in closure.names() {
                for grant in self.view.grants_of(member, Some(&uri), None, ALL)? {
                    add_path(&grant.uri);
                }
            }
        }
        for fence in self.view.fences(Some(&uri), None, ALL)? {
            add_path(&fence.uri);
        }
        let facts = ViewFacts::new(&self.view);
        nodes
            .into_iter()
            .map(|node| {
                let level = crate::resolve::level(&facts, membership.as_deref(), &node)?;
                Ok(TreeNode {
                    depth: node.depth() - base,
                    uri: node,
                    level,
                })
            })
            .collect()
    }

    /// `list(p, filter)` (rule E6): every URI on which p's closure holds an allow grant,
    /// with p's effective level there, leaving out those that resolve to deny. Sorted by
    /// URI, paginated (the cursor is the last URI).
    pub fn list(
        &self,
        principal: &PrincipalName,
        filter: &ListFilter,
        page: &PageRequest,
    ) -> Result<Page<(Uri, Level)>> {
        check_page(page)?;
        let within = filter.within.as_ref().map(|u| self.uri(u)).transpose()?;
        let Membership::Live(closure) =
            self.closure_or_denial(&*self.principal_name(principal)?)?
        else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let after = page
            .after
            .as_ref()
            .map(|c| Uri::parse(c.as_str()).map_err(|_| bad_cursor()))
            .transpose()?;
        let mut uris = BTreeSet::new();
        for member in closure.names() {
            for grant in self
                .view
                .grants_of(member, within.as_deref(), after.as_ref(), ALL)?
            {
                if grant.level.is_allow() {
                    uris.insert(grant.uri);
                }
            }
        }
        let limit = page.limit.unwrap_or(ALL);
        let mut items = Vec::new();
        let mut next = None;
        for uri in uris {
            let level = level_with(&self.view, &closure, &uri)?;
            if !level.is_allow() {
                continue;
            }
            if items.len() == limit {
                next = items
                    .last()
                    .map(|(u, _): &(Uri, Level)| crate::page::Cursor::new(u.as_str()));
                break;
            }
            items.push((uri, level));
        }
        Ok(Page { items, next })
    }

    /// `shared(p)` (rule E6): the grants on what p manages, held by principals outside p's
    /// closure. Sorted by (URI, grantee), paginated.
    pub fn shared(&self, principal: &PrincipalName, page: &PageRequest) -> Result<Page<Grant>> {
        check_page(page)?;
        let Membership::Live(closure) =
            self.closure_or_denial(&*self.principal_name(principal)?)?
        else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let mut roots: BTreeSet<Uri> = BTreeSet::new();
        for member in closure.names() {
            for grant in self.view.grants_of(member, None, None, ALL)? {
                if grant.level == Level::Manage
                    && level_with(&self.view, &closure, &grant.uri)? == Level::Manage
                {
                    roots.insert(grant.uri);
                }
            }
        }
        // Keep only the outermost roots: a root inside another adds nothing.
        let outermost: Vec<&Uri> = roots
            .iter()
            .filter(|r| !roots.iter().any(|o| o.is_ancestor_of(r)))
            .collect();
        let mut grants = BTreeMap::new();
        for root in outermost {
            for grant in self.view.grants_within(root, None, ALL)? {
                if !closure.contains(&grant.holder) {
                    grants.insert(shared_key(&grant), grant);
                }
            }
        }
        Ok(Page::cut(grants.into_values().collect(), page, shared_key))
    }

    /// `who(U, L)` (rule E6): the active users whose effective level on U is at least
    /// `level`, found backwards through membership edges from the grants that could give it.
    /// Sorted by name, paginated.
    pub fn who(&self, uri: &Uri, level: Level, page: &PageRequest) -> Result<Page<PrincipalName>> {
        check_page(page)?;
        if !level.is_allow() {
            return Err(Error::InvalidInput("who needs a level above deny".into()));
        }
        let uri = self.uri(uri)?;
        let mut holders: Vec<PrincipalName> = self
            .view
            .grants_on(&uri.ancestors_and_self())?
            .into_iter()
            .filter(|g| g.level >= level)
            .map(|g| g.holder)
            .collect();
        if level == Level::List {
            holders.extend(
                self.view
                    .grants_within(&uri, None, ALL)?
                    .into_iter()
                    .filter(|g| g.level.is_allow())
                    .map(|g| g.holder),
            );
        }
        // Walk backwards from the holders through live members.
        let mut seen: HashSet<PrincipalName> = HashSet::new();
        let mut users = BTreeSet::new();
        let mut frontier = Vec::new();
        for holder in holders {
            if let Some(record) = self.view.principal(&holder)?
                && record.is_live()
                && seen.insert(holder.clone())
            {
                if record.kind == PrincipalKind::User {
                    users.insert(holder.clone());
                }
                frontier.push(holder);
            }
        }
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for (_, member) in self.view.members_of(&frontier)? {
                if member.is_live() && seen.insert(member.name.clone()) {
                    if member.kind == PrincipalKind::User {
                        users.insert(member.name.clone());
                    }
                    next.push(member.name);
                }
            }
            frontier = next;
        }
        let cluster = self.engine.cluster(&self.view)?;
        let mut allowed = Vec::new();
        for user in users {
            if self.answer::<LevelOf>(cluster, &user, &uri)? >= level {
                allowed.push(user);
            }
        }
        Ok(Page::cut(allowed, page, |n| n.to_string()))
    }

    /// Every fence, or those at or below `within`, in (URI, group) order.
    pub fn fences(&self, within: Option<&Uri>) -> Result<Vec<Fence>> {
        let within = within.map(|u| self.uri(u)).transpose()?;
        self.view.fences(within.as_deref(), None, ALL)
    }

    /// The changelog after `after`, by `actor` when given (rule M3), paginated (the cursor
    /// is the last revision).
    pub fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        page: &PageRequest,
    ) -> Result<Page<ChangeEntry>> {
        check_page(page)?;
        let start = match &page.after {
            Some(cursor) => Revision(cursor.as_str().parse().map_err(|_| bad_cursor())?),
            None => after,
        }
        .max(after);
        let limit = page.limit.unwrap_or(ALL);
        let mut rows = self.view.changes(start, actor, limit.saturating_add(1))?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(crate::page::Cursor::new(last.revision.to_string())),
            _ => None,
        };
        Ok(Page { items: rows, next })
    }
}

fn shared_key(grant: &Grant) -> String {
    format!("{}\n{}", grant.uri, grant.holder)
}

fn check_page(page: &PageRequest) -> Result<()> {
    if page.limit == Some(0) {
        return Err(Error::InvalidInput(
            "a page limit must be at least 1".into(),
        ));
    }
    Ok(())
}

fn bad_cursor() -> Error {
    Error::InvalidInput("the cursor does not belong to this listing".into())
}

pub(crate) fn cluster_of<V: ReadView + ?Sized>(view: &V) -> Result<ClusterName> {
    view.cluster()?
        .ok_or_else(|| Error::not_found("cluster", "(the store is not initialized: run init)"))
}

pub(crate) fn cluster_role(cluster: &ClusterName, role: &str) -> Result<PrincipalName> {
    PrincipalName::new(&format!("{cluster}/{role}"))
}

/// Whether `name` is `{C}/users/...`, the alias space of users (rule P1).
pub(crate) fn is_user_alias(cluster: &ClusterName, name: &PrincipalName) -> bool {
    let mut segments = name.segments();
    segments.next() == Some(cluster.as_str()) && segments.next() == Some("users")
}

/// `{C}/users/u` is user `u` (rule P1); every other name is itself.
pub(crate) fn canonical_name(cluster: &ClusterName, name: &PrincipalName) -> PrincipalName {
    canonical_name_cow(cluster, name).into_owned()
}

/// A check asks for a level above deny (rule E5).
fn refuse_deny(level: Level) -> Result<()> {
    if level.is_allow() {
        Ok(())
    } else {
        Err(Error::InvalidInput(
            "a check needs a level above deny".into(),
        ))
    }
}

/// [`canonical_name`], borrowing `name` when it is already canonical (the usual case).
fn canonical_name_cow<'n>(
    cluster: &ClusterName,
    name: &'n PrincipalName,
) -> Cow<'n, PrincipalName> {
    // Only `{cluster}/users/{user}` changes, and it has slashes.
    if !name.as_str().bytes().any(|b| b == b'/') {
        return Cow::Borrowed(name);
    }
    let mut segments = name.segments();
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(c), Some("users"), Some(user), None) if c == cluster.as_str() => {
            Cow::Owned(PrincipalName::new(user).unwrap_or_else(|_| name.clone()))
        }
        _ => Cow::Borrowed(name),
    }
}

fn validate_user_name(cluster: &ClusterName, name: &PrincipalName) -> Result<()> {
    if !name.is_single_segment() {
        return Err(Error::InvalidInput(format!(
            "user name `{name}` must be a single segment"
        )));
    }
    if name.as_str() == cluster.as_str() {
        return Err(Error::InvalidInput(format!(
            "user name `{name}` is the cluster's name"
        )));
    }
    Ok(())
}

pub(crate) fn forbidden(
    actor: &PrincipalName,
    action: &'static str,
    uri: &Uri,
    needed: Level,
) -> Error {
    Error::Forbidden {
        actor: actor.to_string(),
        action,
        uri: uri.to_string(),
        needed,
    }
}

/// Authorizes `actor` for `needed` on `uri`, returning its closure for further checks.
pub(crate) fn authorize<V: ReadView + ?Sized>(
    view: &V,
    actor: &PrincipalName,
    uri: &Uri,
    needed: Level,
    action: &'static str,
) -> Result<Closure> {
    match closure_of(view, actor)? {
        Ok(closure) if level_with(view, &closure, uri)? >= needed => Ok(closure),
        _ => Err(forbidden(actor, action, uri, needed)),
    }
}

/// Refuses a grant outside the scheme's share scope (rule V2): actor and grantee must have
/// a group in both closures.
fn refuse_outside_scope<V: ReadView + ?Sized>(
    view: &V,
    actor_closure: &Closure,
    grantee: &PrincipalRecord,
    uri: &Uri,
) -> Result<()> {
    let grantee_closure = Closure::load(view, grantee.clone(), Walk::Live)?;
    let shared = grantee_closure.names().any(|name| {
        actor_closure.contains(name)
            && grantee_closure
                .record(name)
                .is_some_and(|r| r.kind == PrincipalKind::Group)
    });
    if shared {
        Ok(())
    } else {
        Err(Error::NotPermitted(format!(
            "`{}` shares no group with `{}`: grants on `{}` stay within a group",
            grantee.name,
            actor_closure
                .start()
                .map(ToString::to_string)
                .unwrap_or_default(),
            uri.scheme()
        )))
    }
}

/// The write of a grant admitted on `uri` for `grantee`, whose grant there is `existing`:
/// forbid and grant clashes refused (rule M1), a lower grant raised, an equal or higher
/// one kept, otherwise the grant written with its membership edge.
pub(crate) fn write_grant<T: WriteTxn + ?Sized>(
    tx: &mut T,
    uri: &Uri,
    grantee: &PrincipalName,
    level: Level,
    existing: Option<Level>,
) -> Result<GrantOutcome> {
    let outcome = match existing {
        None => GrantOutcome::Created,
        Some(Level::Deny) if level == Level::Deny => {
            return Ok(GrantOutcome::Kept {
                existing: Level::Deny,
            });
        }
        Some(Level::Deny) => {
            return Err(Error::Conflict(format!(
                "`{grantee}` has a forbid on `{uri}`: revoke it before granting"
            )));
        }
        Some(held) if level == Level::Deny => {
            return Err(Error::Conflict(format!(
                "`{grantee}` holds {held} on `{uri}`: revoke it before forbidding"
            )));
        }
        Some(held) if held >= level => return Ok(GrantOutcome::Kept { existing: held }),
        Some(held) => GrantOutcome::Raised { from: held },
    };
    put_grant(tx, grantee, uri, level)?;
    Ok(outcome)
}

/// Writes a grant and keeps the membership edge of rule P2 in step with it.
pub(crate) fn put_grant<T: WriteTxn + ?Sized>(
    tx: &mut T,
    holder: &PrincipalName,
    uri: &Uri,
    level: Level,
) -> Result<()> {
    tx.put_grant(&Grant {
        holder: holder.clone(),
        uri: uri.clone(),
        level,
    })?;
    if let Some(role_name) = uri.role_name()
        && level >= Level::Read
        && let Some(role) = tx.principal(&role_name)?
    {
        let edge = Edge {
            member: holder.clone(),
            role: role_name,
        };
        let present = tx
            .roles_of(std::slice::from_ref(holder))?
            .iter()
            .any(|(_, r)| r.name == edge.role);
        if !present {
            refuse_cycle(tx, holder, &role)?;
            tx.insert_edge(&edge)?;
        }
    }
    Ok(())
}

/// Removes a grant and the membership edge it made, returning the level it had.
pub(crate) fn remove_grant<T: WriteTxn + ?Sized>(
    tx: &mut T,
    holder: &PrincipalName,
    uri: &Uri,
) -> Result<Option<Level>> {
    let Some(existing) = tx
        .grants_at(std::slice::from_ref(holder), std::slice::from_ref(uri))?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    tx.delete_grant(holder, uri)?;
    if let Some(role) = uri.role_name() {
        tx.delete_edge(&Edge {
            member: holder.clone(),
            role,
        })?;
    }
    Ok(Some(existing.level))
}

/// A new principal R turns the existing grants of `read` or more on exactly `role://R`
/// into memberships (docs/semantics.md, P2). R has no edges out yet, so no cycle can form.
pub(crate) fn link_existing_members<T: WriteTxn + ?Sized>(
    tx: &mut T,
    record: &PrincipalRecord,
) -> Result<()> {
    for grant in tx.grants_on(&[Uri::of_role(&record.name)])? {
        if grant.level >= Level::Read && grant.holder != record.name {
            tx.insert_edge(&Edge {
                member: grant.holder,
                role: record.name.clone(),
            })?;
        }
    }
    Ok(())
}
