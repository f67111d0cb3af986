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

/// Every kernel row of `view` (cluster, principals, edges, grants, fences), in key order:
/// what a follower copies, and what a test compares a follower's store with its source's.
pub fn kernel_rows<V: ReadView + ?Sized>(view: &V) -> Result<Vec<RowValue>> {
    let mut rows = all_rows(view)?;
    rows.sort_by_cached_key(RowValue::key);
    Ok(rows)
}

/// Every kernel row of `view`, present, in no particular order.
fn all_rows<V: ReadView + ?Sized>(view: &V) -> Result<Vec<RowValue>> {
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
fn current_values<V: ReadView + ?Sized>(view: &V, keys: Vec<RowKey>) -> Result<Vec<RowValue>> {
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use acl_core::{
        Change, ClusterName, Grant, Level, PrincipalKind, PrincipalRecord, Timestamp, WriteTxn,
    };

    use super::*;
    use crate::{MemoryRead, MemoryWrite};

    fn n(s: &str) -> PrincipalName {
        PrincipalName::new(s).unwrap()
    }

    fn u(s: &str) -> Uri {
        Uri::parse(s).unwrap()
    }

    fn change(action: &str) -> Change {
        Change {
            at: Timestamp(0),
            actor: Some(n("admin")),
            action: action.into(),
            target: "t".into(),
            detail: String::new(),
        }
    }

    fn record(name: &str, kind: PrincipalKind, active: bool) -> PrincipalRecord {
        PrincipalRecord {
            name: n(name),
            kind,
            active,
        }
    }

    /// A store whose reads fail while `failing` is set.
    #[derive(Default)]
    struct Flaky {
        inner: MemoryStore,
        failing: AtomicBool,
    }

    impl Store for Flaky {
        type Read<'a> = MemoryRead<'a>;
        type Write<'a> = MemoryWrite<'a>;

        fn read(&self) -> Result<MemoryRead<'_>> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(Error::storage("the disk is gone"));
            }
            self.inner.read()
        }

        fn write(&self) -> Result<MemoryWrite<'_>> {
            self.inner.write()
        }
    }

    /// Writes a commit of every kind of kernel row.
    fn populate(store: &impl Store) {
        let mut txn = store.write().unwrap();
        txn.set_cluster(&ClusterName::new("c").unwrap()).unwrap();
        for (name, kind) in [
            ("admin", PrincipalKind::User),
            ("bob", PrincipalKind::User),
            ("r/team", PrincipalKind::Group),
        ] {
            txn.insert_principal(&record(name, kind, true)).unwrap();
        }
        txn.set_edge(
            &Edge {
                member: n("bob"),
                role: n("r/team"),
            },
            true,
        )
        .unwrap();
        txn.put_grant(&Grant {
            holder: n("r/team"),
            uri: u("storage://c/data"),
            level: Level::Read,
        })
        .unwrap();
        txn.set_fence(
            &Fence {
                uri: u("storage://c/data/secret"),
                group: n("r/team"),
            },
            true,
        )
        .unwrap();
        txn.commit(change("populate")).unwrap();
    }

    fn same_as_source(follower: &Follower, source: &impl Store) {
        let view = source.read().unwrap();
        let replica = follower.engine().store().read().unwrap();
        assert_eq!(replica.revision().unwrap(), view.revision().unwrap());
        assert_eq!(follower.applied(), view.revision().unwrap());
        assert_eq!(kernel_rows(&replica).unwrap(), kernel_rows(&view).unwrap());
        assert_eq!(
            replica.changes(Revision(0), None, 10_000).unwrap(),
            view.changes(Revision(0), None, 10_000).unwrap()
        );
    }

    // rule D3: built from one view, then caught up with every kind of write, as one
    // replica commit at the source's revision that notes what it wrote
    #[test]
    fn follows_every_kind_of_write_d3() {
        let source = MemoryStore::new();
        let follower =
            Follower::build(&source, Schema::standard(), EngineOptions::default()).unwrap();
        assert_eq!(follower.applied(), Revision(0));
        populate(&source);
        assert_eq!(follower.catch_up(&source).unwrap(), Revision(1));
        same_as_source(&follower, &source);
        assert!(
            follower
                .engine()
                .check(&n("bob"), &u("storage://c/data/x"), Level::Read)
                .unwrap()
        );

        // Two commits: an update, a removal of each kind; caught up as one.
        let mut txn = source.write().unwrap();
        txn.update_principal(&record("bob", PrincipalKind::User, false))
            .unwrap();
        txn.commit(change("deactivate")).unwrap();
        let mut txn = source.write().unwrap();
        txn.set_fence(
            &Fence {
                uri: u("storage://c/data/secret"),
                group: n("r/team"),
            },
            false,
        )
        .unwrap();
        txn.delete_grant(&n("r/team"), &u("storage://c/data"))
            .unwrap();
        txn.set_edge(
            &Edge {
                member: n("bob"),
                role: n("r/team"),
            },
            false,
        )
        .unwrap();
        txn.delete_principal(&n("r/team")).unwrap();
        txn.commit(change("remove")).unwrap();
        let before = follower.applied();
        assert_eq!(follower.catch_up(&source).unwrap(), Revision(3));
        same_as_source(&follower, &source);
        let replica = follower.engine().store().read().unwrap();
        let noted = replica.changed_rows(before).unwrap().unwrap();
        for key in [
            RowKey::Principal(n("bob")),
            RowKey::Principal(n("r/team")),
            RowKey::Edge {
                member: n("bob"),
                role: n("r/team"),
            },
            RowKey::Grant {
                holder: n("r/team"),
                uri: u("storage://c/data"),
            },
        ] {
            assert!(noted.contains(&key), "{key:?} in {noted:?}");
        }
        drop(replica);
        // Nothing new: nothing applied.
        assert_eq!(follower.catch_up(&source).unwrap(), Revision(3));
        assert_eq!(follower.status().catch_ups, 2);
    }

    // rule D3: when the source no longer keeps notes that far back, the follower rebuilds
    // (rows added and removed in one commit)
    #[test]
    fn rebuilds_when_the_notes_are_gone_d3() {
        let source = MemoryStore::new();
        populate(&source);
        let follower =
            Follower::build(&source, Schema::standard(), EngineOptions::default()).unwrap();
        let mut txn = source.write().unwrap();
        txn.delete_grant(&n("r/team"), &u("storage://c/data"))
            .unwrap();
        for i in 0..crate::state::NOTES_KEPT + 10 {
            txn.put_grant(&Grant {
                holder: n("bob"),
                uri: u(&format!("storage://c/bulk/{i}")),
                level: Level::Write,
            })
            .unwrap();
        }
        txn.commit(change("bulk")).unwrap();
        assert!(
            source
                .read()
                .unwrap()
                .changed_rows(Revision(1))
                .unwrap()
                .is_none()
        );
        follower.catch_up(&source).unwrap();
        assert_eq!(follower.status().rebuilds, 1);
        same_as_source(&follower, &source);
    }

    // rule D3: a failed catch-up changes nothing; the follower keeps answering at its last
    // revision, reports the failure, and the next catch-up recovers
    #[test]
    fn a_failed_catch_up_keeps_the_last_revision_d3() {
        let source = Flaky::default();
        populate(&source);
        let follower =
            Follower::build(&source, Schema::standard(), EngineOptions::default()).unwrap();
        let mut txn = source.write().unwrap();
        txn.delete_grant(&n("r/team"), &u("storage://c/data"))
            .unwrap();
        txn.commit(change("revoke")).unwrap();
        source.failing.store(true, Ordering::SeqCst);
        assert!(follower.catch_up(&source).is_err());
        let status = follower.status();
        assert_eq!(status.applied, Revision(1));
        assert_eq!(status.failures, 1);
        assert!(status.last_error.unwrap().contains("the disk is gone"));
        assert!(
            follower
                .engine()
                .check(&n("bob"), &u("storage://c/data/x"), Level::Read)
                .unwrap(),
            "still answering at revision 1"
        );
        source.failing.store(false, Ordering::SeqCst);
        assert_eq!(follower.catch_up(&source).unwrap(), Revision(2));
        assert_eq!(follower.status().last_error, None);
        same_as_source(&follower, &source);
    }

    // a replica batch that does not continue the replica's changelog, or whose rows break
    // an invariant, changes nothing
    #[test]
    fn a_bad_replica_batch_changes_nothing() {
        let source = MemoryStore::new();
        populate(&source);
        let follower =
            Follower::build(&source, Schema::standard(), EngineOptions::default()).unwrap();
        let replica = follower.engine().store();
        let before = kernel_rows(&replica.read().unwrap()).unwrap();
        let entry = |revision| ChangeEntry {
            revision: Revision(revision),
            change: change("x"),
        };
        let grant = RowValue::Grant {
            holder: n("bob"),
            uri: u("storage://c/new"),
            level: Some(Level::Read),
        };
        assert!(
            replica
                .replicate(vec![grant.clone()], vec![entry(3)])
                .is_err()
        );
        assert!(replica.replicate(vec![grant], vec![]).is_err());
        let orphan = RowValue::Grant {
            holder: n("nobody"),
            uri: u("storage://c/new"),
            level: Some(Level::Read),
        };
        let fine =
            RowValue::Principal(n("carol"), Some(record("carol", PrincipalKind::User, true)));
        assert!(
            replica
                .replicate(vec![fine, orphan], vec![entry(2)])
                .is_err()
        );
        let view = replica.read().unwrap();
        assert_eq!(view.revision().unwrap(), Revision(1));
        assert_eq!(kernel_rows(&view).unwrap(), before);
        assert_eq!(view.changes(Revision(0), None, 10).unwrap().len(), 1);
    }

    // `wait_for` is bounded, and wakes at the revision
    #[test]
    fn wait_for_is_bounded() {
        let source = MemoryStore::new();
        let follower =
            Follower::build(&source, Schema::standard(), EngineOptions::default()).unwrap();
        assert_eq!(
            follower.wait_for(Revision(1), Duration::from_millis(20)),
            Revision(0)
        );
        populate(&source);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| follower.wait_for(Revision(1), Duration::from_secs(10)));
            follower.catch_up(&source).unwrap();
            assert_eq!(waiter.join().unwrap(), Revision(1));
        });
    }
}
