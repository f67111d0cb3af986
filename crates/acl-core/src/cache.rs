//! The engine's closure cache: each principal's membership (unknown, inactive, or live with
//! its closure), kept across writes that cannot change it.
//!
//! # Why it survives writes
//!
//! A closure depends on the records of the principals its walk reached and on the edges
//! out of them, nothing else (rule P3): a grant, a forbid, a fence or a platform row never
//! changes one. Every store notes the principals whose record or own edges a commit wrote
//! ([`crate::ReadViewExt::membership_changes`]). When the cache meets a view newer than what it
//! knows, it reads those notes once and drops exactly the entries whose walk reached a
//! noted principal; every other entry stays valid at the newer revision. A store that no
//! longer keeps the notes (`None`) empties the cache.
//!
//! # Why it writes no shared cache line on a hit
//!
//! The entries sit behind a [`ShardedLock`]: a reader locks only its own thread's shard, a
//! cache line no other thread writes, and evaluates with the entry borrowed under that
//! guard (no reference count is touched). Inserting, or catching up with a newer revision,
//! takes every shard; both are rare (a miss, or the first read after a write that the
//! writer's own refresh did not already apply).
//!
//! # Invariants
//!
//! - `revision` is the newest revision the entries are known valid at. An entry computed at
//!   revision `since` is valid for every revision from `since` to `revision`: no write in
//!   between noted a principal its walk reached. A view older than `since` misses.
//! - An entry is only inserted when computed at exactly `revision`.
//! - `reach` holds the hashes of every principal whose record or edges the entry depends
//!   on: its key, the closure's members and the inactive roles met next to them. Two names
//!   with one hash only make invalidation drop more than it must, never less.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crossbeam_utils::sync::ShardedLock;
use foldhash::fast::RandomState;

use crate::error::Result;
use crate::name::PrincipalName;
use crate::resolve::Membership;
use crate::rows::Revision;

/// One cached membership.
#[derive(Debug)]
struct Entry<C> {
    /// The revision it was computed at.
    since: Revision,
    membership: Membership<C>,
    /// Hashes of the names the entry depends on (see the invariants).
    reach: Box<[u64]>,
}

/// The entries, valid at `revision`.
#[derive(Debug)]
struct Entries<C> {
    revision: Revision,
    by_name: HashMap<PrincipalName, Entry<C>, RandomState>,
}

/// What a catch-up did, for tests and [`crate::Engine::cache_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Invalidation {
    /// Names the store noted in the revisions caught up with.
    pub(crate) noted: usize,
    /// Entries dropped because their walk reached a noted name (or all of them, when the
    /// store kept no notes).
    pub(crate) dropped: usize,
}

/// The cache of one kind of closure `C` (the index's id closures, or name closures).
#[derive(Debug)]
pub(crate) struct ClosureCache<C> {
    capacity: usize,
    hasher: RandomState,
    entries: ShardedLock<Entries<C>>,
}

impl<C> ClosureCache<C> {
    /// A cache of at most `capacity` entries; 0 turns it off.
    pub(crate) fn new(capacity: usize) -> ClosureCache<C> {
        ClosureCache {
            capacity,
            hasher: RandomState::default(),
            entries: ShardedLock::new(Entries {
                revision: Revision::default(),
                by_name: HashMap::default(),
            }),
        }
    }

    /// Whether the cache is on.
    pub(crate) fn is_on(&self) -> bool {
        self.capacity > 0
    }

    /// The hash of `name` that `reach` holds.
    pub(crate) fn hash(&self, name: &str) -> u64 {
        self.hasher.hash_one(name)
    }

    /// Runs `f` on `key`'s membership if the cache holds one valid at revision `revision`,
    /// under this thread's shard of the lock; `None` on a miss. Catches up first when the
    /// entries are older than `revision` (`notes` as for [`ClosureCache::catch_up`]).
    ///
    /// A poisoned lock only means a panic elsewhere while it was held; the cache is then
    /// bypassed, never trusted.
    pub(crate) fn find<T>(
        &self,
        notes: impl FnOnce(Revision) -> Result<Option<Vec<PrincipalName>>>,
        revision: Revision,
        key: &PrincipalName,
        f: impl FnOnce(&Membership<C>) -> T,
    ) -> Result<Option<T>> {
        if !self.is_on() {
            return Ok(None);
        }
        let behind = match self.entries.read() {
            Ok(entries) if entries.revision >= revision => {
                return Ok(entries
                    .by_name
                    .get(key)
                    .filter(|entry| entry.since <= revision)
                    .map(|entry| f(&entry.membership)));
            }
            Ok(_) => true,
            Err(_) => return Ok(None),
        };
        if behind {
            self.catch_up(notes, revision)?;
        }
        Ok(match self.entries.read() {
            Ok(entries) => entries
                .by_name
                .get(key)
                .filter(|entry| entry.since <= revision && revision <= entries.revision)
                .map(|entry| f(&entry.membership)),
            Err(_) => None,
        })
    }

    /// Brings the entries up to revision `revision`: drops those whose walk reached a
    /// principal noted by the commits in between, and keeps the rest. `notes(after)` is
    /// [`crate::ReadViewExt::membership_changes`] of a view at `revision`.
    pub(crate) fn catch_up(
        &self,
        notes: impl FnOnce(Revision) -> Result<Option<Vec<PrincipalName>>>,
        revision: Revision,
    ) -> Result<Invalidation> {
        let Ok(mut entries) = self.entries.write() else {
            return Ok(Invalidation::default());
        };
        if entries.revision >= revision {
            return Ok(Invalidation::default());
        }
        let mut done = Invalidation::default();
        if !entries.by_name.is_empty() {
            match notes(entries.revision)? {
                None => {
                    done.dropped = entries.by_name.len();
                    entries.by_name.clear();
                }
                Some(names) => {
                    done.noted = names.len();
                    if !names.is_empty() {
                        let noted: std::collections::HashSet<u64, RandomState> =
                            names.iter().map(|n| self.hash(n.as_str())).collect();
                        let before = entries.by_name.len();
                        entries
                            .by_name
                            .retain(|_, entry| !entry.reach.iter().any(|h| noted.contains(h)));
                        done.dropped = before - entries.by_name.len();
                    }
                }
            }
        }
        entries.revision = revision;
        Ok(done)
    }

    /// Keeps `membership` for `key`, computed at `revision`, with the hashes of the names
    /// it depends on. Kept only when the entries are at exactly `revision` (an entry of an
    /// older view may not hold at the newer one). At capacity the cache starts over.
    pub(crate) fn keep(
        &self,
        revision: Revision,
        key: PrincipalName,
        membership: Membership<C>,
        reach: Vec<u64>,
    ) {
        if !self.is_on() {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.revision != revision {
            return;
        }
        if entries.by_name.len() >= self.capacity {
            entries.by_name.clear();
        }
        entries.by_name.insert(
            key,
            Entry {
                since: revision,
                membership,
                reach: reach.into_boxed_slice(),
            },
        );
    }

    /// Every entry valid at `revision` (the entries' own revision), for an audit: the key
    /// and its membership, through `f`.
    pub(crate) fn each_valid(
        &self,
        revision: Revision,
        mut f: impl FnMut(&PrincipalName, &Membership<C>) -> Result<()>,
    ) -> Result<usize> {
        let Ok(entries) = self.entries.read() else {
            return Ok(0);
        };
        if entries.revision != revision {
            return Ok(0);
        }
        let mut seen = 0;
        for (name, entry) in &entries.by_name {
            if entry.since <= revision {
                f(name, &entry.membership)?;
                seen += 1;
            }
        }
        Ok(seen)
    }

    /// How many entries the cache holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.by_name.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> PrincipalName {
        PrincipalName::new(n).unwrap()
    }

    /// The notes of a store whose commits after the cache's revision noted `names`.
    fn noted(names: &[&str]) -> impl FnOnce(Revision) -> Result<Option<Vec<PrincipalName>>> {
        let names: Vec<PrincipalName> = names.iter().map(|n| name(n)).collect();
        move |_| Ok(Some(names))
    }

    fn cache_with(entries: &[(&str, &[&str])]) -> ClosureCache<u32> {
        let cache = ClosureCache::new(16);
        for (i, (key, reach)) in entries.iter().enumerate() {
            let reach = reach.iter().map(|n| cache.hash(n)).collect();
            cache.keep(Revision(0), name(key), Membership::Live(i as u32), reach);
        }
        cache
    }

    fn keys(cache: &ClosureCache<u32>) -> Vec<String> {
        let entries = cache.entries.read().unwrap();
        let mut keys: Vec<String> = entries.by_name.keys().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    /// Section 9, under writes: a write that notes no principal keeps every entry.
    #[test]
    fn a_write_that_notes_nobody_keeps_every_entry() {
        let cache = cache_with(&[("alice", &["alice", "team"]), ("bob", &["bob"])]);
        let done = cache.catch_up(noted(&[]), Revision(1)).unwrap();
        assert_eq!(done, Invalidation::default());
        assert_eq!(keys(&cache), ["alice", "bob"]);
        assert_eq!(cache.entries.read().unwrap().revision, Revision(1));
    }

    /// Section 9, under writes: a noted principal drops only the entries that reached it.
    #[test]
    fn a_noted_principal_drops_only_the_entries_that_reached_it() {
        let cache = cache_with(&[
            ("alice", &["alice", "team"]),
            ("bob", &["bob"]),
            ("carol", &["carol", "team", "org"]),
        ]);
        let done = cache.catch_up(noted(&["team"]), Revision(2)).unwrap();
        assert_eq!(
            done,
            Invalidation {
                noted: 1,
                dropped: 2
            }
        );
        assert_eq!(keys(&cache), ["bob"]);
    }

    /// A store that kept no notes that far back empties the cache.
    #[test]
    fn no_notes_empties_the_cache() {
        let cache = cache_with(&[("alice", &["alice"]), ("bob", &["bob"])]);
        let done = cache.catch_up(|_| Ok(None), Revision(3)).unwrap();
        assert_eq!(done.dropped, 2);
        assert!(keys(&cache).is_empty());
    }

    /// An empty cache catches up without asking the store anything.
    #[test]
    fn an_empty_cache_catches_up_without_asking() {
        let cache: ClosureCache<u32> = ClosureCache::new(16);
        let asked = |_| -> Result<Option<Vec<PrincipalName>>> {
            Err(crate::Error::storage(
                "an empty cache must not read the notes",
            ))
        };
        cache.catch_up(asked, Revision(9)).unwrap();
        assert_eq!(cache.entries.read().unwrap().revision, Revision(9));
    }

    /// An entry computed at an older revision than the cache's is not kept, and a view
    /// older than an entry misses it; a newer view first catches up.
    #[test]
    fn entries_hold_only_from_the_revision_they_were_computed_at() {
        let cache: ClosureCache<u32> = ClosureCache::new(16);
        cache.catch_up(noted(&[]), Revision(5)).unwrap();
        cache.keep(Revision(4), name("old"), Membership::Live(1), vec![]);
        assert!(keys(&cache).is_empty());
        let reach = vec![cache.hash("new")];
        cache.keep(Revision(5), name("new"), Membership::Live(2), reach);
        let at = |revision, notes: &[&str]| {
            cache
                .find(noted(notes), revision, &name("new"), |m| *m)
                .unwrap()
        };
        assert_eq!(at(Revision(5), &[]), Some(Membership::Live(2)));
        assert_eq!(at(Revision(4), &[]), None);
        assert_eq!(at(Revision(6), &["other"]), Some(Membership::Live(2)));
        assert_eq!(at(Revision(7), &["new"]), None);
    }

    /// At capacity the cache starts over rather than grow; capacity 0 turns it off.
    #[test]
    fn capacity_bounds_the_entries() {
        let cache: ClosureCache<u32> = ClosureCache::new(2);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            cache.keep(Revision(0), name(key), Membership::Live(i as u32), vec![]);
        }
        assert_eq!(cache.len(), 1);
        let off: ClosureCache<u32> = ClosureCache::new(0);
        off.keep(Revision(0), name("a"), Membership::Live(0), vec![]);
        assert_eq!(off.len(), 0);
        let found = off
            .find(noted(&[]), Revision(0), &name("a"), |_| ())
            .unwrap();
        assert!(found.is_none());
    }
}
