//! [`Follower`]: a follower index (DESIGN rule D3). A [`MemoryStore`] kept at exactly a
//! source store's revision, with the source's kernel rows (cluster, principals, edges,
//! grants, fences) and changelog, and an [`Engine`] over it that answers checks at memory
//! speed with the one evaluator every store uses.
//!
//! # How it follows
//!
//! - [`Follower::build`] reads every kernel row and the whole changelog from one view of
//!   the source and applies them as one replica commit ([`MemoryStore::replicate`]).
//! - [`Follower::catch_up`] opens a source view at revision r2, asks it for the rows the
//!   commits after the applied revision r1 wrote ([`ReadView::changed_rows`]), re-reads
//!   each of those rows on that same view, and applies them with the entries r1+1..=r2 as
//!   one replica commit at revision r2: readers of the follower see r1 or r2, never a
//!   state in between. When the source no longer keeps notes that far back (`None`), it
//!   rebuilds: every row of the source, and the removal of every row the replica has that
//!   the source has not, in the same one commit.
//! - Catch-ups are serialized; a failed one changes nothing and the follower keeps serving
//!   its last applied revision.
//!
//! It does no I/O of its own and starts no thread: the caller decides when to catch up
//! (after each of its own writes, and on a timer for other processes' commits).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use acl_core::{
    ChangeEntry, Edge, Engine, EngineOptions, Error, Fence, Level, PrincipalName, ReadView,
    ReadViewExt, Result, Revision, RowKey, Schema, Store, Uri,
};

use crate::replica::RowValue;
use crate::store::MemoryStore;

/// How many rows a page of the source's ranges asks for.
const PAGE: usize = 512;

/// What a follower has done so far: for metrics and readiness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowerStatus {
    /// The revision the follower has applied.
    pub applied: Revision,
    /// Catch-ups that applied at least one commit.
    pub catch_ups: u64,
    /// Catch-ups that had to rebuild (the source's notes were gone).
    pub rebuilds: u64,
    /// Catch-ups that failed (the follower kept its last applied revision).
    pub failures: u64,
    /// The error of the latest catch-up, if it failed; cleared by the next success.
    pub last_error: Option<String>,
}

/// A follower index of a source store: see the [module documentation](self).
#[derive(Debug)]
pub struct Follower {
    engine: Engine<MemoryStore>,
    /// The status; the applied revision moves only under `catching`.
    status: Mutex<FollowerStatus>,
    /// Woken at every applied revision.
    moved: Condvar,
    /// Held by the one catch-up running.
    catching: Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent even if a holder panicked: each update is one
    // assignment.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Follower {
    /// Builds a follower of `source` from one view of it, with an engine of `schema` and
    /// `options` (give the source engine's own, so both decide alike).
    pub fn build<S: Store>(source: &S, schema: Schema, options: EngineOptions) -> Result<Follower> {
        let follower = Follower {
            engine: Engine::with_options(MemoryStore::new(), schema, options),
            status: Mutex::new(FollowerStatus::default()),
            moved: Condvar::new(),
            catching: Mutex::new(()),
        };
        // Nobody else can reach the follower yet: no need for the catch-up turn.
        let view = source.read()?;
        let revision = view.revision()?;
        follower.rebuild(&view, revision)?;
        follower.applied_to(revision, false);
        Ok(follower)
    }

    /// The engine over the replica: checks, explanations and every read, as on any store.
    pub fn engine(&self) -> &Engine<MemoryStore> {
        &self.engine
    }

    /// The revision the follower has applied (its engine's views see it or a later one).
    pub fn applied(&self) -> Revision {
        lock(&self.status).applied
    }

    /// What the follower has done so far.
    pub fn status(&self) -> FollowerStatus {
        lock(&self.status).clone()
    }

    /// Brings the follower to the source's latest committed revision, as one replica
    /// commit; returns the revision applied. On an error nothing is applied, the
    /// follower keeps its last revision, and the error is kept in [`Follower::status`].
    pub fn catch_up<S: Store>(&self, source: &S) -> Result<Revision> {
        let _turn = lock(&self.catching);
        let outcome = self.catch_up_locked(source);
        if let Err(e) = &outcome {
            let mut status = lock(&self.status);
            status.failures = status.failures.saturating_add(1);
            status.last_error = Some(e.to_string());
        }
        outcome
    }

    fn catch_up_locked<S: Store>(&self, source: &S) -> Result<Revision> {
        let applied = self.applied();
        let view = source.read()?;
        let revision = view.revision()?;
        if revision == applied {
            lock(&self.status).last_error = None;
            return Ok(revision);
        }
        if revision < applied {
            return Err(Error::storage(format!(
                "the source store went back from revision {applied} to {revision}: it was \
                 replaced; restart to follow it afresh"
            )));
        }
        let rebuilt = match view.changed_rows(applied)? {
            Some(keys) => {
                let rows = current_values(&view, keys)?;
                let changes = changes_between(&view, applied, revision)?;
                self.engine.store().replicate(rows, changes)?;
                false
            }
            None => {
                self.rebuild(&view, revision)?;
                true
            }
        };
        self.applied_to(revision, rebuilt);
        Ok(revision)
    }

    /// Applies, as one commit, every row of `view` (at `revision`), the removal of every
    /// row the replica has that `view` has not, and the changelog entries it lacks.
    fn rebuild<V: ReadView>(&self, view: &V, revision: Revision) -> Result<()> {
        let mut rows = all_rows(view)?;
        let present: HashSet<RowKey> = rows.iter().map(RowValue::key).collect();
        let (applied, stale) = {
            let replica = self.engine.store().read()?;
            let applied = replica.revision()?;
            let stale: Vec<RowValue> = all_rows(&replica)?
                .into_iter()
                .filter(|row| !present.contains(&row.key()))
                .map(absent)
                .collect();
            (applied, stale)
        };
        rows.extend(stale);
        let changes = changes_between(view, applied, revision)?;
        if changes.is_empty() {
            return Ok(());
        }
        self.engine.store().replicate(rows, changes)?;
        Ok(())
    }

    fn applied_to(&self, revision: Revision, rebuilt: bool) {
        let mut status = lock(&self.status);
        if status.applied != revision {
            status.catch_ups = status.catch_ups.saturating_add(1);
        }
        if rebuilt {
            status.rebuilds = status.rebuilds.saturating_add(1);
        }
        status.applied = revision;
        status.last_error = None;
        drop(status);
        self.moved.notify_all();
    }

    /// Waits, at most `bound`, until the follower has applied `wanted`; returns the
    /// revision applied then (below `wanted` when the bound passed). It does not catch up
    /// itself: whoever follows the source wakes it.
    pub fn wait_for(&self, wanted: Revision, bound: Duration) -> Revision {
        let deadline = Instant::now() + bound;
        let mut status = lock(&self.status);
        loop {
            if status.applied >= wanted {
                return status.applied;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return status.applied;
            }
            status = match self.moved.wait_timeout(status, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// The row `row` names, absent.
fn absent(row: RowValue) -> RowValue {
    match row {
        RowValue::Cluster(_) => RowValue::Cluster(None),
        RowValue::Principal(name, _) => RowValue::Principal(name, None),
        RowValue::Edge(edge, _) => RowValue::Edge(edge, false),
        RowValue::Grant { holder, uri, .. } => RowValue::Grant {
            holder,
            uri,
            level: None,
        },
        RowValue::Fence(fence, _) => RowValue::Fence(fence, false),
    }
}

/// The changelog entries of `view` after `after` up to `until`, in order.
fn changes_between<V: ReadView + ?Sized>(
    view: &V,
    after: Revision,
    until: Revision,
) -> Result<Vec<ChangeEntry>> {
    let mut out: Vec<ChangeEntry> = Vec::new();
    let mut from = after;
    while from < until {
        let page = view.changes(from, None, PAGE)?;
        let Some(last) = page.last() else {
            return Err(Error::storage(format!(
                "the source's changelog ends at revision {from}, before its revision {until}"
            )));
        };
        from = last.revision;
        out.extend(page.into_iter().filter(|e| e.revision <= until));
    }
    Ok(out)
}

/// Every kernel row of `view`, present.
pub(crate) fn all_rows<V: ReadView + ?Sized>(view: &V) -> Result<Vec<RowValue>> {
    let mut rows = vec![RowValue::Cluster(view.cluster()?)];
    let mut after: Option<PrincipalName> = None;
    loop {
        let page = view.principals(after.as_ref(), PAGE)?;
        let full = page.len() == PAGE;
        after = page.last().map(|p| p.name.clone());
        for record in page {
            let name = record.name.clone();
            for (member, role) in view.roles_of(std::slice::from_ref(&name))? {
                rows.push(RowValue::Edge(
                    Edge {
                        member,
                        role: role.name,
                    },
                    true,
                ));
            }
            let mut from: Option<Uri> = None;
            loop {
                let grants = view.grants_of(&name, None, from.as_ref(), PAGE)?;
                let full = grants.len() == PAGE;
                from = grants.last().map(|g| g.uri.clone());
                rows.extend(grants.into_iter().map(|g| RowValue::Grant {
                    holder: g.holder,
                    uri: g.uri,
                    level: Some(g.level),
                }));
                if !full {
                    break;
                }
            }
            rows.push(RowValue::Principal(name, Some(record)));
        }
        if !full {
            break;
        }
    }
    let mut from: Option<Fence> = None;
    loop {
        let fences = view.fences(None, from.as_ref(), PAGE)?;
        let full = fences.len() == PAGE;
        from = fences.last().cloned();
        rows.extend(fences.into_iter().map(|f| RowValue::Fence(f, true)));
        if !full {
            break;
        }
    }
    Ok(rows)
}

/// The current value on `view` of each row `keys` names, with batched lookups: one
/// `roles_of` per edge member, one `grants_at` per grant holder, one `fences_at`.
pub(crate) fn current_values<V: ReadView + ?Sized>(
    view: &V,
    keys: Vec<RowKey>,
) -> Result<Vec<RowValue>> {
    let mut rows = Vec::with_capacity(keys.len());
    let mut edges: BTreeMap<PrincipalName, BTreeSet<PrincipalName>> = BTreeMap::new();
    let mut grants: BTreeMap<PrincipalName, BTreeSet<Uri>> = BTreeMap::new();
    let mut fences: BTreeSet<Fence> = BTreeSet::new();
    for key in keys {
        match key {
            RowKey::Cluster => rows.push(RowValue::Cluster(view.cluster()?)),
            RowKey::Principal(name) => {
                let record = view.principal(&name)?;
                rows.push(RowValue::Principal(name, record));
            }
            RowKey::Edge { member, role } => {
                edges.entry(member).or_default().insert(role);
            }
            RowKey::Grant { holder, uri } => {
                grants.entry(holder).or_default().insert(uri);
            }
            RowKey::Fence { uri, group } => {
                fences.insert(Fence { uri, group });
            }
        }
    }
    for (member, roles) in edges {
        let now: HashSet<PrincipalName> = view
            .roles_of(std::slice::from_ref(&member))?
            .into_iter()
            .map(|(_, role)| role.name)
            .collect();
        for role in roles {
            let present = now.contains(&role);
            rows.push(RowValue::Edge(
                Edge {
                    member: member.clone(),
                    role,
                },
                present,
            ));
        }
    }
    for (holder, uris) in grants {
        let uris: Vec<Uri> = uris.into_iter().collect();
        let found: HashMap<Uri, Level> = view
            .grants_at(std::slice::from_ref(&holder), &uris)?
            .into_iter()
            .filter(|g| g.holder == holder)
            .map(|g| (g.uri, g.level))
            .collect();
        for uri in uris {
            let level = found.get(&uri).copied();
            rows.push(RowValue::Grant {
                holder: holder.clone(),
                uri,
                level,
            });
        }
    }
    if !fences.is_empty() {
        let uris: Vec<Uri> = fences
            .iter()
            .map(|f| f.uri.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let now: HashSet<Fence> = view.fences_at(&uris)?.into_iter().collect();
        for fence in fences {
            let present = now.contains(&fence);
            rows.push(RowValue::Fence(fence, present));
        }
    }
    Ok(rows)
}
