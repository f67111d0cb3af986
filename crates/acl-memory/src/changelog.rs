//! The changelog (rule M3), kept compact: one 24-byte row per entry, the free text of every
//! entry back to back in one string, and actors and action names interned.
//!
//! A loaded store holds one entry per mutation, most of them repeating the same actor and
//! action and carrying a short target: kept as [`ChangeEntry`] values (112 bytes and three
//! or four heap strings each) they were the second largest part of the memory store. Every
//! entry is rebuilt exactly on the way out, so [`Changelog::changes`] answers as before.
//!
//! # Invariants
//!
//! - Row `i` is the entry of revision `i + 1`: revisions are not stored.
//! - Row `i`'s target is `text[start..target_end]` and its detail
//!   `text[target_end..detail_end]`, where `start` is row `i - 1`'s `detail_end` (0 for the
//!   first row); the offsets never decrease.
//! - Every actor and action id names an interned value; `actors[id]` lists, ascending,
//!   the rows of that actor.

use acl_core::{Change, ChangeEntry, Error, PrincipalName, Result, Revision, Timestamp};
use indexmap::{IndexMap, IndexSet};

type Hasher = foldhash::fast::RandomState;

/// The actor id of an entry made by the engine itself (no actor).
const NO_ACTOR: u32 = u32::MAX;

/// One entry, with its strings as ids and offsets: 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    at: i64,
    actor: u32,
    action: u32,
    target_end: u32,
    detail_end: u32,
}

/// The changelog of a memory store. Entries are only ever appended (at commit), so it
/// needs no undo but [`Changelog::truncate`], for a commit of several entries that fails
/// part way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changelog {
    rows: Vec<Row>,
    /// Targets and details, back to back in row order.
    text: String,
    /// Actors by id, each with its rows, ascending.
    actors: IndexMap<PrincipalName, Vec<u32>, Hasher>,
    /// Action names by id.
    actions: IndexSet<Box<str>, Hasher>,
}

fn full(what: &str) -> Error {
    Error::storage(format!("the changelog holds 2^32 {what}: no more fit"))
}

/// The id a value has (`found`) or will have (`len`, the next) as a `u32`, short of the
/// reserved [`NO_ACTOR`].
fn id_of(found: Option<usize>, len: usize, what: &str) -> Result<u32> {
    u32::try_from(found.unwrap_or(len))
        .ok()
        .filter(|&id| id != NO_ACTOR)
        .ok_or_else(|| full(what))
}

/// Where a [`Changelog`] ended at some moment: [`Changelog::truncate`] goes back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChangelogMark {
    rows: usize,
    text: usize,
    actors: usize,
    actions: usize,
}

impl Changelog {
    /// Where the log ends now.
    pub(crate) fn mark(&self) -> ChangelogMark {
        ChangelogMark {
            rows: self.rows.len(),
            text: self.text.len(),
            actors: self.actors.len(),
            actions: self.actions.len(),
        }
    }

    /// Forgets every entry appended since `mark` was taken, exactly: the log is then equal
    /// to what it was (values are interned in order, so the ones interned since are the
    /// last ones, and every actor's rows are ascending).
    pub(crate) fn truncate(&mut self, mark: ChangelogMark) {
        self.rows.truncate(mark.rows);
        self.text.truncate(mark.text);
        self.actors.truncate(mark.actors);
        self.actions.truncate(mark.actions);
        for rows in self.actors.values_mut() {
            while rows
                .last()
                .is_some_and(|&row| usize::try_from(row).unwrap_or(usize::MAX) >= mark.rows)
            {
                rows.pop();
            }
        }
    }

    /// Appends `change` as the entry of the next revision, which it returns. Fails, changing
    /// nothing, when the log cannot take it (2^32 entries, or 4 GiB of text).
    pub(crate) fn append(&mut self, change: Change) -> Result<Revision> {
        let Change {
            at,
            actor,
            action,
            target,
            detail,
        } = change;
        let row = u32::try_from(self.rows.len()).map_err(|_| full("entries"))?;
        if row == u32::MAX {
            return Err(full("entries"));
        }
        let offset = |extra: usize| {
            self.text
                .len()
                .checked_add(extra)
                .and_then(|end| u32::try_from(end).ok())
                .ok_or_else(|| full("bytes of text"))
        };
        let target_end = offset(target.len())?;
        let detail_end = offset(target.len().saturating_add(detail.len()))?;
        let actor_id = match &actor {
            None => NO_ACTOR,
            Some(name) => id_of(self.actors.get_index_of(name), self.actors.len(), "actors")?,
        };
        let action_id = id_of(
            self.actions.get_index_of(action.as_str()),
            self.actions.len(),
            "actions",
        )?;
        // Every check is done: nothing below fails.
        if let Some(name) = actor {
            self.actors.entry(name).or_default().push(row);
        }
        if action_id as usize == self.actions.len() {
            self.actions.insert(action.into_boxed_str());
        }
        self.text.push_str(&target);
        self.text.push_str(&detail);
        self.rows.push(Row {
            at: at.0,
            actor: actor_id,
            action: action_id,
            target_end,
            detail_end,
        });
        Ok(Revision(u64::from(row) + 1))
    }

    /// The entry of row `i` (revision `i + 1`), rebuilt.
    fn entry(&self, i: usize) -> Result<ChangeEntry> {
        let broken = || Error::storage(format!("changelog row {i} is out of range"));
        let row = self.rows.get(i).ok_or_else(broken)?;
        let start = match i.checked_sub(1) {
            Some(before) => self.rows.get(before).map_or(0, |r| r.detail_end),
            None => 0,
        };
        let text = |from: u32, to: u32| {
            self.text
                .get(from as usize..to as usize)
                .map(str::to_owned)
                .ok_or_else(broken)
        };
        let actor = match row.actor {
            NO_ACTOR => None,
            id => Some(
                self.actors
                    .get_index(id as usize)
                    .map(|(name, _)| name.clone())
                    .ok_or_else(broken)?,
            ),
        };
        let action = self
            .actions
            .get_index(row.action as usize)
            .ok_or_else(broken)?;
        Ok(ChangeEntry {
            revision: Revision(i as u64 + 1),
            change: Change {
                at: Timestamp(row.at),
                actor,
                action: action.to_string(),
                target: text(start, row.target_end)?,
                detail: text(row.target_end, row.detail_end)?,
            },
        })
    }

    /// Entries with revisions after `after`, by `actor` when given, in revision order, at
    /// most `limit` (the lookup of [`acl_core::ReadView::changes`]).
    pub(crate) fn changes(
        &self,
        after: Revision,
        actor: Option<&PrincipalName>,
        limit: usize,
    ) -> Result<Vec<ChangeEntry>> {
        // Row `i` has revision `i + 1`, so the rows after revision `after` start at `after`.
        let start = usize::try_from(after.0).unwrap_or(usize::MAX);
        match actor {
            None => (start..self.rows.len())
                .take(limit)
                .map(|i| self.entry(i))
                .collect(),
            Some(actor) => {
                let rows = self
                    .actors
                    .get(actor)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let first = rows.partition_point(|&i| (i as usize) < start);
                rows.get(first..)
                    .unwrap_or_default()
                    .iter()
                    .take(limit)
                    .map(|&i| self.entry(i as usize))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn name(text: &str) -> PrincipalName {
        PrincipalName::new(text).unwrap()
    }

    fn change(at: i64, actor: Option<&str>, action: &str, target: &str, detail: &str) -> Change {
        Change {
            at: Timestamp(at),
            actor: actor.map(name),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
        }
    }

    fn sample() -> Vec<Change> {
        vec![
            change(-5, None, "init", "c", ""),
            change(1, Some("admin"), "create_user", "alice", ""),
            change(2, Some("alice"), "grant", "storage://c/alice/é", "bob read"),
            change(3, Some("admin"), "create_user", "", ""),
            change(
                i64::MAX,
                Some("alice"),
                "revoke",
                "storage://c/alice/é",
                "bob",
            ),
        ]
    }

    // Every entry comes back exactly as appended, with its revision, whole or by actor,
    // from any starting revision and with any limit.
    #[test]
    fn entries_come_back_exactly() {
        let mut log = Changelog::default();
        let changes = sample();
        for (i, c) in changes.iter().enumerate() {
            assert_eq!(log.append(c.clone()).unwrap(), Revision(i as u64 + 1));
        }
        let all: Vec<ChangeEntry> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| ChangeEntry {
                revision: Revision(i as u64 + 1),
                change: c.clone(),
            })
            .collect();
        for after in 0..=6 {
            for limit in [0, 1, 2, 10] {
                let want: Vec<ChangeEntry> = all.iter().skip(after).take(limit).cloned().collect();
                let got = log.changes(Revision(after as u64), None, limit).unwrap();
                assert_eq!(got, want, "after {after}, limit {limit}");
                for actor in ["admin", "alice", "bob"] {
                    let want: Vec<ChangeEntry> = all
                        .iter()
                        .skip(after)
                        .filter(|e| {
                            e.change.actor.as_ref().map(PrincipalName::as_str) == Some(actor)
                        })
                        .take(limit)
                        .cloned()
                        .collect();
                    let got = log.changes(Revision(after as u64), Some(&name(actor)), limit);
                    assert_eq!(got.unwrap(), want, "after {after}, {actor}, limit {limit}");
                }
            }
        }
        assert!(
            log.changes(Revision(u64::MAX), None, 10)
                .unwrap()
                .is_empty()
        );
    }

    // Repeated actors and actions are stored once.
    #[test]
    fn actors_and_actions_are_interned() {
        let mut log = Changelog::default();
        for c in sample() {
            log.append(c).unwrap();
        }
        assert_eq!(log.actors.len(), 2);
        assert_eq!(log.actions.len(), 4);
        assert_eq!(std::mem::size_of::<Row>(), 24);
    }
}
