//! The interned index: the rows resolution reads (principals, membership edges, grants,
//! fences) kept under small integer ids, with URIs as a trie of interned segments.
//!
//! A store that keeps its rows in memory keeps them here and hands the index to the engine
//! ([`ReadView::index`](crate::ReadView::index)). The index answers two kinds of question,
//! and decides nothing:
//!
//! - the lookups of the Store contract on these rows (its public methods), so the rows live
//!   once;
//! - the facts of resolution, for the crate's one evaluator (`resolve::Facts`, implemented
//!   in `facts.rs`): a principal's liveness and closure as a sorted id slice
//!   ([`IdClosure`], cached by the engine per revision), the fences and the closure's
//!   grants on a URI's path, and the closure's allow grants below it. Reporting the path is
//!   one probe for the deepest trie node on the URI's path (the children table is keyed by a
//!   hash of each node's URI text, so no probe waits for the one above it) and one walk up
//!   its parent links that checks the path segment by segment and reports each node's
//!   entries, with no allocation. What those rows mean (a fence outside the closure, a
//!   forbid, the highest grant, the implicit list) is the evaluator's business.
//!
//! # Invariants
//!
//! - Every id held anywhere (an edge end, an entry's principal, a node's parent, a held or
//!   fenced node) names a live slot.
//! - A trie node exists exactly when it holds an entry or has a child: the trie holds the
//!   URIs that have rows, and their ancestors. A segment exists while a node uses it.
//! - A node's entries are sorted by (fences first, principal), with at most one grant and
//!   one fence per principal. `below` counts the allow grants strictly below the node.
//! - A principal's `held` (`fenced`) lists each node where it holds a grant (a fence),
//!   once.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::ops::Bound;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::error::{Error, Result};
use crate::level::Level;
use crate::name::PrincipalName;
use crate::rows::{Edge, Fence, Grant, PrincipalRecord};
use crate::uri::Uri;

mod facts;
mod id_lists;

use id_lists::IdLists;

/// No node, no parent: the parent of a scheme root.
const NONE: u32 = u32::MAX;

/// Up to this many entries on a node, a check walks them all; above it, it looks each
/// closure member up by binary search.
const WALK_ENTRIES: usize = 16;

/// Up to this many allow grants below a node, the implicit-list step walks the subtree;
/// above it, it walks the closure members' own grants when they are fewer.
const WALK_BELOW: u32 = 64;

/// What an entry of a trie node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// A fence whose group is the entry's principal.
    Fence,
    /// A grant (a forbid when `deny`) held by the entry's principal.
    Grant(Level),
}

/// One row on a trie node: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    principal: u32,
    mark: Mark,
}

impl Entry {
    /// The sort key within a node: fences first, then by principal.
    fn key(&self) -> (bool, u32) {
        (matches!(self.mark, Mark::Grant(_)), self.principal)
    }
}

/// A node's entries: most nodes hold one, so one is kept inline.
#[derive(Debug, Clone, Default)]
enum Entries {
    #[default]
    Empty,
    One(Entry),
    // Boxed on purpose: the enum stays 16 bytes (a bare Vec would make it 32), and every
    // node pays for the enum while few hold more than one entry.
    #[allow(clippy::box_collection, reason = "keeps every node 16 bytes smaller")]
    Many(Box<Vec<Entry>>),
}

impl Entries {
    fn as_slice(&self) -> &[Entry] {
        match self {
            Entries::Empty => &[],
            Entries::One(entry) => std::slice::from_ref(entry),
            Entries::Many(entries) => entries,
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Entries::Empty)
    }

    /// Inserts `entry`, or replaces the entry with the same key; returns the replaced mark.
    fn put(&mut self, entry: Entry) -> Option<Mark> {
        match self {
            Entries::Empty => {
                *self = Entries::One(entry);
                None
            }
            Entries::One(one) if one.key() == entry.key() => {
                Some(std::mem::replace(one, entry).mark)
            }
            Entries::One(one) => {
                let mut both = vec![*one, entry];
                both.sort_by_key(Entry::key);
                *self = Entries::Many(Box::new(both));
                None
            }
            Entries::Many(entries) => {
                match entries.binary_search_by_key(&entry.key(), Entry::key) {
                    Ok(at) => entries
                        .get_mut(at)
                        .map(|found| std::mem::replace(found, entry).mark),
                    Err(at) => {
                        entries.insert(at, entry);
                        None
                    }
                }
            }
        }
    }

    /// Removes the entry with key `key`; returns its mark.
    fn remove(&mut self, key: (bool, u32)) -> Option<Mark> {
        match self {
            Entries::Empty => None,
            Entries::One(one) if one.key() == key => {
                let mark = one.mark;
                *self = Entries::Empty;
                Some(mark)
            }
            Entries::One(_) => None,
            Entries::Many(entries) => {
                let at = entries.binary_search_by_key(&key, Entry::key).ok()?;
                let mark = entries.remove(at).mark;
                if let [last] = entries.as_slice() {
                    *self = Entries::One(*last);
                }
                Some(mark)
            }
        }
    }

    /// The entry with key `key`.
    fn get(&self, key: (bool, u32)) -> Option<Mark> {
        let entries = self.as_slice();
        let at = entries.binary_search_by_key(&key, Entry::key).ok()?;
        entries.get(at).map(|e| e.mark)
    }
}

/// A trie node: one URI that has rows, or an ancestor of one.
#[derive(Debug, Clone)]
struct Node {
    /// The parent node, [`NONE`] for a scheme root.
    parent: u32,
    /// The segment (the scheme, for a root); [`NONE`] marks a free slot.
    segment: u32,
    /// Children, as a doubly linked list of siblings.
    first_child: u32,
    next: u32,
    prev: u32,
    /// Allow grants strictly below this node.
    below: u32,
    entries: Entries,
}

/// Up to this many bytes, a segment's text is kept inline in its [`Segment`].
const INLINE: usize = 22;

/// A segment's text: short ones (most path segments) inline, so comparing one on a check
/// costs no load beyond the segment itself.
#[derive(Debug, Clone)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Text {
    fn new(text: &str) -> Text {
        let mut bytes = [0; INLINE];
        match (bytes.get_mut(..text.len()), u8::try_from(text.len())) {
            (Some(head), Ok(len)) => {
                head.copy_from_slice(text.as_bytes());
                Text::Inline { len, bytes }
            }
            _ => Text::Heap(text.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Text::Heap(text) => text.as_bytes(),
        }
    }

    /// Where this text starts in `text[..end]` when that slice ends with a slash and this
    /// text, else `None`: a path segment's place in a URI (the first segment follows the
    /// slash of `://`).
    ///
    /// On the check's hot path: an inline text of up to 15 bytes and its slash are
    /// compared as one machine word read from the end of the slice (inline bytes past
    /// `len` are zero, see [`Text::new`]), which costs less than a bounds-checked byte
    /// test and a call to `memcmp`.
    #[inline(always)]
    fn start_after_slash(&self, text: &[u8], end: usize) -> Option<usize> {
        let Text::Inline { len, bytes } = self else {
            return self.start_after_slash_slowly(text, end);
        };
        let len = usize::from(*len);
        let start = end.checked_sub(len)?;
        let same = if (1..=7).contains(&len) && end >= 8 {
            // The last `len + 1` bytes of the window, shifted down, are the slash and
            // the text.
            let window = text
                .get(end - 8..end)
                .and_then(|w| <[u8; 8]>::try_from(w).ok());
            let mine = bytes
                .first_chunk::<8>()
                .map(|b| u64::from_le_bytes(*b) << 8 | 0x2f);
            window.map(|w| u64::from_le_bytes(w) >> (8 * (7 - len))) == mine
        } else if (8..=15).contains(&len) && end >= 16 {
            let window = text
                .get(end - 16..end)
                .and_then(|w| <[u8; 16]>::try_from(w).ok());
            let mine = bytes
                .first_chunk::<16>()
                .map(|b| u128::from_le_bytes(*b) << 8 | 0x2f);
            window.map(|w| u128::from_le_bytes(w) >> (8 * (15 - len))) == mine
        } else {
            return self.start_after_slash_slowly(text, end);
        };
        same.then_some(start)
    }

    /// [`Text::start_after_slash`] by plain slice compares.
    fn start_after_slash_slowly(&self, text: &[u8], end: usize) -> Option<usize> {
        let own = self.as_bytes();
        let start = end.checked_sub(own.len())?;
        let slash = start.checked_sub(1).and_then(|at| text.get(at)) == Some(&b'/');
        (slash && text.get(start..end) == Some(own)).then_some(start)
    }

    fn as_str(&self) -> &str {
        match self {
            // Inline bytes are always a whole `&str` copied in `new`, so this never fails.
            Text::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Text::Heap(text) => text,
        }
    }
}

/// An interned segment, shared by every node that has it.
#[derive(Debug, Clone)]
struct Segment {
    text: Text,
    /// How many nodes use it; the segment is freed at 0.
    refs: u32,
}

/// A principal and its links: 48 bytes (it was 128 with four `Vec`s; the slots vector
/// dominates the memory of a store with many users).
#[derive(Debug, Clone)]
struct Slot {
    record: PrincipalRecord,
    /// Roles it is a direct member of ([`ROLES`]), nodes where it is a fence's group
    /// ([`FENCED`]), nodes where it holds a grant ([`HELD`]) and its direct members
    /// ([`MEMBERS`], last: the one that grows longest). One buffer for all four: a user
    /// (a few roles, its home grants, no members) pays one allocation.
    links: IdLists<4>,
}

/// The lists of [`Slot::links`].
const ROLES: usize = 0;
const FENCED: usize = 1;
const HELD: usize = 2;
const MEMBERS: usize = 3;

impl Slot {
    fn roles(&self) -> &[u32] {
        self.links.get(ROLES)
    }

    fn members(&self) -> &[u32] {
        self.links.get(MEMBERS)
    }

    fn fenced(&self) -> &[u32] {
        self.links.get(FENCED)
    }

    fn held(&self) -> &[u32] {
        self.links.get(HELD)
    }
}

/// A principal's closure as ids (rule P3): itself and every live role it reaches, sorted,
/// the membership fact of the index's resolution facts. Valid for the state of the index
/// it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdClosure {
    /// The principal whose closure it is.
    start: u32,
    ids: Box<[u32]>,
    /// Bit `id % 256` set for each member: most entries a check meets are not the
    /// closure's, and this refuses them in a few instructions (a closure of 20 lets
    /// through about 8% of the others, where 64 bits let through a quarter).
    mask: [u64; 4],
}

impl IdClosure {
    /// The closure of `start` (also in `ids`) from its members' ids.
    fn new(start: u32, mut ids: Vec<u32>) -> IdClosure {
        ids.sort_unstable();
        ids.dedup();
        let mut mask = [0u64; 4];
        for &id in &ids {
            let (word, bit) = IdClosure::bit(id);
            if let Some(w) = mask.get_mut(word) {
                *w |= bit;
            }
        }
        IdClosure {
            start,
            ids: ids.into_boxed_slice(),
            mask,
        }
    }

    /// The word and bit of `id` in the mask.
    #[inline(always)]
    fn bit(id: u32) -> (usize, u64) {
        (((id >> 6) & 3) as usize, 1 << (id & 63))
    }

    #[inline(always)]
    fn contains(&self, id: u32) -> bool {
        let (word, bit) = IdClosure::bit(id);
        if self.mask.get(word).is_none_or(|w| w & bit == 0) {
            return false;
        }
        self.holds(id)
    }

    /// Whether `id` is a member, past the mask.
    fn holds(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// How many principals the closure holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// What [`Index::walk_path`] does with each node of a path it checks.
trait Visit {
    fn visit(&mut self, id: u32, node: &Node);
}

/// Checking a path only.
impl Visit for () {
    #[inline(always)]
    fn visit(&mut self, _: u32, _: &Node) {}
}

/// A principal's id in an [`Index`], valid for the state it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PrincipalId(u32);

/// The interned rows of resolution. See the module documentation for the invariants.
#[derive(Clone, Default)]
pub struct Index {
    hasher: RandomState,
    slots: Vec<Option<Slot>>,
    free_slots: Vec<u32>,
    /// Slot ids by principal name.
    by_name: HashTable<u32>,
    /// Slot ids in name order, for listings.
    ordered: BTreeMap<PrincipalName, u32>,
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    /// Node ids by a hash of their URI's text ([`Index::key_of`]).
    children: HashTable<u32>,
    segments: Vec<Segment>,
    free_segments: Vec<u32>,
    /// Segment ids by text.
    by_segment: HashTable<u32>,
    /// Fences in (URI, group) order, for listings (fences are few).
    fences: BTreeMap<Uri, BTreeSet<PrincipalName>>,
    grants: usize,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("principals", &self.ordered.len())
            .field("grants", &self.grants)
            .field("nodes", &(self.nodes.len() - self.free_nodes.len()))
            .field(
                "segments",
                &(self.segments.len() - self.free_segments.len()),
            )
            .finish_non_exhaustive()
    }
}

/// Two indexes are equal when they hold the same rows, whatever ids they gave them.
impl PartialEq for Index {
    fn eq(&self, other: &Index) -> bool {
        self.rows() == other.rows()
    }
}

impl Eq for Index {}

fn full(what: &str) -> Error {
    Error::storage(format!("the index holds 2^32 {what}: no more fit"))
}

fn missing(what: &str, name: &str) -> Error {
    Error::storage(format!("{what} `{name}` is not a principal"))
}

impl Index {
    /// An empty index.
    pub fn new() -> Index {
        Index::default()
    }

    /// How many grants (forbids included) it holds.
    pub fn grant_count(&self) -> usize {
        self.grants
    }

    // -----------------------------------------------------------------------------------
    // Principals
    // -----------------------------------------------------------------------------------

    fn slot(&self, id: u32) -> Option<&Slot> {
        self.slots.get(id as usize)?.as_ref()
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    fn slot_id(&self, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(name);
        self.by_name
            .find(hash, |&id| {
                self.slot(id).is_some_and(|s| {
                    crate::bytes::same(s.record.name.as_str().as_bytes(), name.as_bytes())
                })
            })
            .copied()
    }

    fn name_of(&self, id: u32) -> Option<&PrincipalName> {
        self.slot(id).map(|s| &s.record.name)
    }

    /// The principal named `name`.
    pub fn principal(&self, name: &str) -> Option<&PrincipalRecord> {
        self.slot(self.slot_id(name)?).map(|s| &s.record)
    }

    /// The id of the principal named `name` and whether it is live (rule E1).
    pub(crate) fn principal_id(&self, name: &str) -> Option<(PrincipalId, bool)> {
        let id = self.slot_id(name)?;
        let live = self.slot(id)?.record.is_live();
        Some((PrincipalId(id), live))
    }

    /// Principals after `after` (exclusive), in name order, at most `limit`.
    pub fn principals(&self, after: Option<&PrincipalName>, limit: usize) -> Vec<PrincipalRecord> {
        let lower = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.as_str()));
        self.ordered
            .range::<str, _>((lower, Bound::Unbounded))
            .filter_map(|(_, &id)| self.slot(id))
            .take(limit)
            .map(|s| s.record.clone())
            .collect()
    }

    /// Inserts a principal, or replaces the record of the one with its name; returns the
    /// previous record.
    pub fn put_principal(&mut self, record: PrincipalRecord) -> Result<Option<PrincipalRecord>> {
        if let Some(id) = self.slot_id(record.name.as_str())
            && let Some(slot) = self.slot_mut(id)
        {
            return Ok(Some(std::mem::replace(&mut slot.record, record)));
        }
        let id = match self.free_slots.pop() {
            Some(id) => id,
            None => u32::try_from(self.slots.len())
                .ok()
                .filter(|&id| id != NONE)
                .ok_or_else(|| full("principals"))?,
        };
        let name = record.name.clone();
        let slot = Slot {
            record,
            links: IdLists::default(),
        };
        match self.slots.get_mut(id as usize) {
            Some(free) => *free = Some(slot),
            None => self.slots.push(Some(slot)),
        }
        let Index {
            hasher,
            slots,
            by_name,
            ..
        } = self;
        let rehash = |&id: &u32| {
            slots
                .get(id as usize)
                .and_then(Option::as_ref)
                .map_or(0, |s| hasher.hash_one(s.record.name.as_str()))
        };
        by_name.insert_unique(hasher.hash_one(name.as_str()), id, rehash);
        self.ordered.insert(name, id);
        Ok(None)
    }

    /// What still refers to principal `name` (grants it holds, edges at either end, fences
    /// of it as group), if anything.
    pub fn references(&self, name: &str) -> Option<&'static str> {
        let slot = self.slot(self.slot_id(name)?)?;
        if !slot.held().is_empty() {
            Some("grants")
        } else if !slot.roles().is_empty() || !slot.members().is_empty() {
            Some("membership edges")
        } else if !slot.fenced().is_empty() {
            Some("fences")
        } else {
            None
        }
    }

    /// Removes principal `name`, which nothing may refer to any more; returns its record.
    pub fn remove_principal(&mut self, name: &str) -> Result<Option<PrincipalRecord>> {
        let Some(id) = self.slot_id(name) else {
            return Ok(None);
        };
        if let Some(rows) = self.references(name) {
            return Err(Error::storage(format!(
                "principal `{name}` still has {rows}: remove them first"
            )));
        }
        let hash = self.hasher.hash_one(name);
        if let Ok(entry) = self.by_name.find_entry(hash, |&x| x == id) {
            entry.remove();
        }
        self.ordered.remove(name);
        self.free_slots.push(id);
        Ok(self
            .slots
            .get_mut(id as usize)
            .and_then(Option::take)
            .map(|s| s.record))
    }

    // -----------------------------------------------------------------------------------
    // Membership edges
    // -----------------------------------------------------------------------------------

    /// Adds (`present`) or removes a membership edge; returns whether it was there before.
    pub fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool> {
        let (Some(member), Some(role)) = (
            self.slot_id(edge.member.as_str()),
            self.slot_id(edge.role.as_str()),
        ) else {
            if present {
                return Err(missing(
                    "edge end",
                    &format!("{} -> {}", edge.member, edge.role),
                ));
            }
            return Ok(false);
        };
        let was = self.slot(member).is_some_and(|s| s.roles().contains(&role));
        if present && !was {
            if let Some(s) = self.slot_mut(member) {
                s.links.push(ROLES, role);
            }
            if let Some(s) = self.slot_mut(role) {
                s.links.push(MEMBERS, member);
            }
        } else if !present && was {
            if let Some(s) = self.slot_mut(member) {
                s.links.remove(ROLES, role);
            }
            if let Some(s) = self.slot_mut(role) {
                s.links.remove(MEMBERS, member);
            }
        }
        Ok(was)
    }

    /// For each distinct name of `from`, the record of every principal it links to.
    fn edge_ends(
        &self,
        from: &[PrincipalName],
        links: impl Fn(&Slot) -> &[u32],
    ) -> Vec<(PrincipalName, PrincipalRecord)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for name in from {
            let Some(id) = self.slot_id(name.as_str()) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            for &other in self.slot(id).map(&links).unwrap_or_default() {
                if let Some(s) = self.slot(other) {
                    out.push((name.clone(), s.record.clone()));
                }
            }
        }
        out
    }

    /// The roles each of `members` is a direct member of, as (member, role) pairs.
    pub fn roles_of(&self, members: &[PrincipalName]) -> Vec<(PrincipalName, PrincipalRecord)> {
        self.edge_ends(members, Slot::roles)
    }

    /// The direct members of each of `roles`, as (role, member) pairs.
    pub fn members_of(&self, roles: &[PrincipalName]) -> Vec<(PrincipalName, PrincipalRecord)> {
        self.edge_ends(roles, Slot::members)
    }

    /// Every edge reachable from `start` following member -> role, each once, as
    /// (member, role) pairs; inactive principals are walked through like any other.
    pub fn reachable_roles(&self, start: &str) -> Vec<(PrincipalName, PrincipalRecord)> {
        let Some(start) = self.slot_id(start) else {
            return Vec::new();
        };
        let mut seen = HashSet::from([start]);
        let mut queue = vec![start];
        let mut next = 0;
        let mut out = Vec::new();
        while let Some(&at) = queue.get(next) {
            next += 1;
            let Some(slot) = self.slot(at) else {
                continue;
            };
            for &role in slot.roles() {
                if let Some(r) = self.slot(role) {
                    out.push((slot.record.name.clone(), r.record.clone()));
                    if seen.insert(role) {
                        queue.push(role);
                    }
                }
            }
        }
        out
    }

    /// Every principal whose record or edges `closure` depends on, by name, to `each`: its
    /// members and the inactive roles met next to them (a name may come twice). A write to
    /// any other principal leaves the closure as it is.
    pub(crate) fn reach(&self, closure: &IdClosure, mut each: impl FnMut(&str)) {
        for &id in closure.ids.iter() {
            let Some(slot) = self.slot(id) else {
                continue;
            };
            each(slot.record.name.as_str());
            for &role in slot.roles() {
                if let Some(r) = self.slot(role)
                    && !r.record.is_live()
                {
                    each(r.record.name.as_str());
                }
            }
        }
    }

    /// `closure(p)` as ids (rule P3): `principal` and every role reached through live
    /// members only (an inactive user passes nothing on, rule E1).
    pub(crate) fn closure(&self, principal: PrincipalId) -> IdClosure {
        let mut ids = vec![principal.0];
        let mut seen: HashSet<u32, RandomState> = HashSet::default();
        seen.insert(principal.0);
        let mut next = 0;
        while let Some(&at) = ids.get(next) {
            next += 1;
            let Some(slot) = self.slot(at) else {
                continue;
            };
            for &role in slot.roles() {
                if self.slot(role).is_some_and(|r| r.record.is_live()) && seen.insert(role) {
                    ids.push(role);
                }
            }
        }
        IdClosure::new(principal.0, ids)
    }

    // -----------------------------------------------------------------------------------
    // The URI trie
    // -----------------------------------------------------------------------------------

    fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn node_mut(&mut self, id: u32) -> Option<&mut Node> {
        self.nodes.get_mut(id as usize)
    }

    fn find_segment(&self, text: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(text);
        self.by_segment
            .find(hash, |&id| {
                self.segments
                    .get(id as usize)
                    .is_some_and(|s| s.text.as_bytes() == text.as_bytes())
            })
            .copied()
    }

    /// The child of `parent` ([`NONE`] for the scheme roots) whose segment is `text`, by
    /// its key `key` (see [`Index::key_of`]): one probe, the match checked exactly on the
    /// parent's id and the segment's text.
    fn find_child(&self, parent: u32, key: u64, text: &str) -> Option<u32> {
        self.children
            .find(key, |&id| {
                self.node(id).is_some_and(|n| {
                    n.parent == parent && self.segment_bytes(n.segment) == text.as_bytes()
                })
            })
            .copied()
    }

    /// The children table's key of the node whose URI is `prefix`: a hash of the URI's
    /// text. It needs no node id, so a check probes for the deepest node on its URI's path
    /// directly instead of walking down from the scheme. Keys only choose where to look:
    /// a match is always checked on the whole path ([`Index::is_node_of`]).
    fn key_of(&self, prefix: &str) -> u64 {
        // The bytes alone: `str`'s own hash adds a terminator byte (a second round of
        // the hasher) that only matters when strings are hashed one after another.
        let mut hasher = self.hasher.build_hasher();
        hasher.write(prefix.as_bytes());
        hasher.finish()
    }

    /// The key of node `id` (see [`Index::key_of`]).
    fn node_key(&self, id: u32) -> u64 {
        self.key_of(self.uri_of(id).as_str())
    }

    /// Whether node `id` is the node of the URI whose text is `prefix` (a canonical URI's
    /// text, its scheme `scheme` long): its segments, read up its parent links, are the
    /// URI's, and the last one up is a scheme root.
    fn is_node_of(&self, id: u32, prefix: &str, scheme: usize) -> bool {
        self.walk_path(id, prefix, scheme, &mut ())
    }

    /// [`Index::is_node_of`], calling `visit` on each node of the path whose segment
    /// matched, from `id` up.
    fn walk_path(&self, id: u32, prefix: &str, scheme: usize, visit: &mut impl Visit) -> bool {
        let text = prefix.as_bytes();
        let root = scheme + 3;
        let mut at = id;
        let mut end = text.len();
        while let Some(node) = self.node(at) {
            let Some(segment) = self.segments.get(node.segment as usize) else {
                return false;
            };
            if end <= root {
                let found = node.parent == NONE
                    && text
                        .get(..scheme)
                        .is_some_and(|s| crate::bytes::same(s, segment.text.as_bytes()));
                if found {
                    visit.visit(at, node);
                }
                return found;
            }
            // The URI's last segment is the node's when the text ends with a slash and
            // it (the first segment follows the slash of `://`; segments hold no slash).
            let Some(start) = segment.text.start_after_slash(text, end) else {
                return false;
            };
            if node.parent == NONE || start < root {
                return false;
            }
            visit.visit(at, node);
            end = parent_end(start, root);
            at = node.parent;
        }
        false
    }

    /// The node of `uri`, if it has rows or rows below it.
    fn find_node(&self, uri: &Uri) -> Option<u32> {
        let text = uri.as_str();
        let scheme = uri.scheme().len();
        self.children
            .find(self.key_of(text), |&id| self.is_node_of(id, text, scheme))
            .copied()
    }

    fn segment_text(&self, id: u32) -> &str {
        self.segments
            .get(id as usize)
            .map_or("", |s| s.text.as_str())
    }

    fn segment_bytes(&self, id: u32) -> &[u8] {
        self.segments
            .get(id as usize)
            .map_or(&[], |s| s.text.as_bytes())
    }

    /// The URI of node `id`.
    fn uri_of(&self, id: u32) -> Uri {
        let mut chain = Vec::with_capacity(8);
        let mut at = id;
        while let Some(node) = self.node(at) {
            chain.push(node.segment);
            at = node.parent;
        }
        let mut parts = chain.iter().rev().map(|&s| self.segment_text(s));
        let scheme = parts.next().unwrap_or_default();
        let mut text = String::with_capacity(64);
        text.push_str(scheme);
        text.push_str("://");
        for (i, part) in parts.enumerate() {
            if i > 0 {
                text.push('/');
            }
            text.push_str(part);
        }
        Uri::from_canonical(text, scheme.len())
    }

    /// Whether node `ancestor` is a strict ancestor of node `node`.
    fn is_strictly_below(&self, node: u32, ancestor: u32) -> bool {
        let mut at = self.node(node).map_or(NONE, |n| n.parent);
        while at != NONE {
            if at == ancestor {
                return true;
            }
            at = self.node(at).map_or(NONE, |n| n.parent);
        }
        false
    }

    fn intern_segment(&mut self, text: &str) -> Result<u32> {
        if let Some(id) = self.find_segment(text) {
            if let Some(s) = self.segments.get_mut(id as usize) {
                s.refs += 1;
            }
            return Ok(id);
        }
        let segment = Segment {
            text: Text::new(text),
            refs: 1,
        };
        let id = match self.free_segments.pop() {
            Some(id) => {
                if let Some(free) = self.segments.get_mut(id as usize) {
                    *free = segment;
                }
                id
            }
            None => {
                let id = u32::try_from(self.segments.len())
                    .ok()
                    .filter(|&id| id != NONE)
                    .ok_or_else(|| full("segments"))?;
                self.segments.push(segment);
                id
            }
        };
        let Index {
            hasher,
            segments,
            by_segment,
            ..
        } = self;
        let rehash = |&id: &u32| {
            segments
                .get(id as usize)
                .map_or(0, |s| hasher.hash_one(s.text.as_str()))
        };
        by_segment.insert_unique(hasher.hash_one(text), id, rehash);
        Ok(id)
    }

    fn release_segment(&mut self, id: u32) {
        let Some(segment) = self.segments.get_mut(id as usize) else {
            return;
        };
        segment.refs = segment.refs.saturating_sub(1);
        if segment.refs > 0 {
            return;
        }
        let text = std::mem::replace(&mut segment.text, Text::Heap(Box::default()));
        let hash = self.hasher.hash_one(text.as_str());
        if let Ok(entry) = self.by_segment.find_entry(hash, |&x| x == id) {
            entry.remove();
        }
        self.free_segments.push(id);
    }

    /// The node of `uri`, created with its missing ancestors.
    fn intern_node(&mut self, uri: &Uri) -> Result<u32> {
        // Room for every node and segment this may create, checked before creating any,
        // so a failure leaves the trie as it was.
        let depth = uri.depth() + 1;
        let room = |len: usize, free: usize| {
            len.saturating_add(depth).saturating_sub(free) < NONE as usize
        };
        if !room(self.nodes.len(), self.free_nodes.len())
            || !room(self.segments.len(), self.free_segments.len())
        {
            return Err(full("URI nodes"));
        }
        let text = uri.as_str();
        let root = uri.scheme().len() + 3;
        let key = self.key_of(text.get(..root).unwrap_or_default());
        let mut node = self.child_or_new(NONE, key, uri.scheme())?;
        let mut end = root;
        for segment in uri.segments() {
            end += segment.len() + usize::from(end > root);
            let key = self.key_of(text.get(..end).unwrap_or_default());
            node = self.child_or_new(node, key, segment)?;
        }
        Ok(node)
    }

    /// The child of `parent` whose segment is `text` and whose key is `key`, created
    /// when missing.
    fn child_or_new(&mut self, parent: u32, key: u64, text: &str) -> Result<u32> {
        if let Some(child) = self.find_child(parent, key, text) {
            return Ok(child);
        }
        let segment = self.intern_segment(text)?;
        let first = self.node(parent).map_or(NONE, |p| p.first_child);
        let node = Node {
            parent,
            segment,
            first_child: NONE,
            next: first,
            prev: NONE,
            below: 0,
            entries: Entries::Empty,
        };
        let id = match self.free_nodes.pop() {
            Some(id) => {
                if let Some(free) = self.node_mut(id) {
                    *free = node;
                }
                id
            }
            None => {
                let id = u32::try_from(self.nodes.len())
                    .ok()
                    .filter(|&id| id != NONE)
                    .ok_or_else(|| full("URI nodes"))?;
                self.nodes.push(node);
                id
            }
        };
        if let Some(old) = self.node_mut(first) {
            old.prev = id;
        }
        if let Some(p) = self.node_mut(parent) {
            p.first_child = id;
        }
        // Growing the table rehashes every node from its ancestors: amortized, as any
        // table growth.
        let mut children = std::mem::take(&mut self.children);
        children.insert_unique(key, id, |&node| self.node_key(node));
        self.children = children;
        Ok(id)
    }

    /// Frees node `id` and then its ancestors for as long as they hold nothing.
    fn release_node(&mut self, id: u32) {
        let mut at = id;
        while let Some(node) = self.node(at) {
            if !node.entries.is_empty() || node.first_child != NONE || node.segment == NONE {
                return;
            }
            let (parent, segment, next, prev) = (node.parent, node.segment, node.next, node.prev);
            if let Some(n) = self.node_mut(next) {
                n.prev = prev;
            }
            match self.node_mut(prev) {
                Some(p) => p.next = next,
                None => {
                    if let Some(p) = self.node_mut(parent) {
                        p.first_child = next;
                    }
                }
            }
            let key = self.node_key(at);
            if let Ok(entry) = self.children.find_entry(key, |&x| x == at) {
                entry.remove();
            }
            self.release_segment(segment);
            if let Some(n) = self.node_mut(at) {
                n.segment = NONE;
                n.parent = NONE;
                n.next = NONE;
                n.prev = NONE;
            }
            self.free_nodes.push(at);
            at = parent;
        }
    }

    /// Adds `delta` to the `below` count of every strict ancestor of `id`.
    fn add_below(&mut self, id: u32, delta: i64) {
        let mut at = self.node(id).map_or(NONE, |n| n.parent);
        while let Some(node) = self.node_mut(at) {
            node.below = u32::try_from(i64::from(node.below) + delta).unwrap_or(node.below);
            at = node.parent;
        }
    }

    /// Calls `visit` on every node strictly below `id`, depth first, until it returns
    /// false. Walks the sibling and parent links: no allocation.
    fn walk_below(&self, id: u32, mut visit: impl FnMut(u32) -> bool) {
        let mut at = self.node(id).map_or(NONE, |n| n.first_child);
        while let Some(node) = self.node(at) {
            if !visit(at) {
                return;
            }
            if node.first_child != NONE {
                at = node.first_child;
                continue;
            }
            // Up until a node with a next sibling, never above `id`.
            let mut up = at;
            at = NONE;
            while up != id {
                let Some(n) = self.node(up) else {
                    break;
                };
                if n.next != NONE {
                    at = n.next;
                    break;
                }
                up = n.parent;
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Grants
    // -----------------------------------------------------------------------------------

    /// Sets the level of `holder` on `uri`, or removes the grant when `level` is `None`;
    /// returns the previous level.
    pub fn set_grant(
        &mut self,
        holder: &PrincipalName,
        uri: &Uri,
        level: Option<Level>,
    ) -> Result<Option<Level>> {
        let Some(h) = self.slot_id(holder.as_str()) else {
            return match level {
                Some(_) => Err(missing("grant holder", holder.as_str())),
                None => Ok(None),
            };
        };
        match level {
            Some(level) => {
                let node = self.intern_node(uri)?;
                let entry = Entry {
                    principal: h,
                    mark: Mark::Grant(level),
                };
                let before = match self.node_mut(node).and_then(|n| n.entries.put(entry)) {
                    Some(Mark::Grant(before)) => Some(before),
                    _ => None,
                };
                if before.is_none() {
                    if let Some(s) = self.slot_mut(h) {
                        s.links.push(HELD, node);
                    }
                    self.grants += 1;
                }
                let was_allow = before.is_some_and(Level::is_allow);
                if was_allow != level.is_allow() {
                    self.add_below(node, if level.is_allow() { 1 } else { -1 });
                }
                Ok(before)
            }
            None => {
                let Some(node) = self.find_node(uri) else {
                    return Ok(None);
                };
                let before = match self
                    .node_mut(node)
                    .and_then(|n| n.entries.remove((true, h)))
                {
                    Some(Mark::Grant(before)) => before,
                    _ => return Ok(None),
                };
                if let Some(s) = self.slot_mut(h) {
                    s.links.remove(HELD, node);
                }
                self.grants -= 1;
                if before.is_allow() {
                    self.add_below(node, -1);
                }
                self.release_node(node);
                Ok(Some(before))
            }
        }
    }

    /// The grants on node `id`, as (holder id, level).
    fn grants_on_node(&self, id: u32) -> impl Iterator<Item = (u32, Level)> + '_ {
        self.node(id)
            .map(|n| n.entries.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| match e.mark {
                Mark::Grant(level) => Some((e.principal, level)),
                Mark::Fence => None,
            })
    }

    fn grant_row(&self, holder: u32, uri: &Uri, level: Level) -> Option<Grant> {
        Some(Grant {
            holder: self.name_of(holder)?.clone(),
            uri: uri.clone(),
            level,
        })
    }

    /// Distinct ids of the existing principals among `names`.
    fn ids_of(&self, names: &[PrincipalName]) -> Vec<u32> {
        let mut ids: Vec<u32> = names
            .iter()
            .filter_map(|n| self.slot_id(n.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The grants any of `holders` holds on exactly any of `uris`.
    pub fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Vec<Grant> {
        let holders = self.ids_of(holders);
        self.grants_held_on(uris, |holder| holders.binary_search(&holder).is_ok())
    }

    /// Every grant on exactly any of `uris`.
    pub fn grants_on(&self, uris: &[Uri]) -> Vec<Grant> {
        self.grants_held_on(uris, |_| true)
    }

    /// The grants on exactly any of `uris` whose holder `keep` accepts, in `uris` order.
    fn grants_held_on(&self, uris: &[Uri], keep: impl Fn(u32) -> bool) -> Vec<Grant> {
        let mut out = Vec::new();
        for uri in first_of_each(uris) {
            let Some(node) = self.find_node(uri) else {
                continue;
            };
            for (holder, level) in self.grants_on_node(node) {
                if keep(holder) {
                    out.extend(self.grant_row(holder, uri, level));
                }
            }
        }
        out
    }

    /// Calls `found` on each allow grant strictly below node `id` held by a principal
    /// `holds` accepts, as (node, holder, level), until it returns false: from the subtree
    /// when it holds few, else from the holders' own grants when they are fewer. No
    /// allocation.
    fn allow_below(
        &self,
        id: u32,
        holders: &[u32],
        holds: impl Fn(u32) -> bool,
        mut found: impl FnMut(u32, u32, Level) -> bool,
    ) {
        let below = self.node(id).map_or(0, |n| n.below);
        if below == 0 {
            return;
        }
        // The holders' own grants are counted only when the subtree is not small anyway.
        let theirs = || -> usize {
            holders
                .iter()
                .filter_map(|&h| self.slot(h))
                .map(|s| s.held().len())
                .sum()
        };
        if below <= WALK_BELOW || (below as usize) <= theirs() {
            self.walk_below(id, |node| {
                self.grants_on_node(node)
                    .filter(|&(holder, level)| level.is_allow() && holds(holder))
                    .all(|(holder, level)| found(node, holder, level))
            });
        } else {
            for &holder in holders {
                for &node in self.slot(holder).map(Slot::held).unwrap_or_default() {
                    let level = match self.node(node).and_then(|n| n.entries.get((true, holder))) {
                        Some(Mark::Grant(level)) if level.is_allow() => level,
                        _ => continue,
                    };
                    if self.is_strictly_below(node, id) && !found(node, holder, level) {
                        return;
                    }
                }
            }
        }
    }

    /// The first, in (URI, holder) order, of the allow grants any of `holders` holds
    /// strictly below `uri`.
    pub fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Option<Grant> {
        let node = self.find_node(uri)?;
        let ids = self.ids_of(holders);
        self.first_allow_below(node, &ids, |h| ids.binary_search(&h).is_ok())
    }

    /// The first, in (URI, holder) order, of the allow grants strictly below node `id` held
    /// by a principal `holds` accepts, among `holders` (see [`Index::allow_below`]).
    fn first_allow_below(
        &self,
        id: u32,
        holders: &[u32],
        holds: impl Fn(u32) -> bool,
    ) -> Option<Grant> {
        let mut best: Option<Grant> = None;
        self.allow_below(id, holders, holds, |node, holder, level| {
            if let Some(grant) = self.grant_row(holder, &self.uri_of(node), level)
                && best
                    .as_ref()
                    .is_none_or(|b| (&grant.uri, &grant.holder) < (&b.uri, &b.holder))
            {
                best = Some(grant);
            }
            true
        });
        best
    }

    /// The grants `holder` holds at or below `within` (everywhere when `None`), with URIs
    /// after `after`, in URI order, at most `limit`.
    pub fn grants_of(
        &self,
        holder: &PrincipalName,
        within: Option<&Uri>,
        after: Option<&Uri>,
        limit: usize,
    ) -> Vec<Grant> {
        let Some(h) = self.slot_id(holder.as_str()) else {
            return Vec::new();
        };
        let held = self.slot(h).map(Slot::held).unwrap_or_default();
        let mut out: Vec<Grant> = held
            .iter()
            .filter_map(|&node| match self.node(node)?.entries.get((true, h))? {
                Mark::Grant(level) => Some((node, level)),
                Mark::Fence => None,
            })
            .map(|(node, level)| Grant {
                holder: holder.clone(),
                uri: self.uri_of(node),
                level,
            })
            .filter(|g| within.is_none_or(|w| w.contains(&g.uri)))
            .filter(|g| after.is_none_or(|a| &g.uri > a))
            .collect();
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        out.truncate(limit);
        out
    }

    /// The grants of every holder at or below `within`, after the (URI, holder) key
    /// `after`, in (URI, holder) order, at most `limit`.
    pub fn grants_within(
        &self,
        within: &Uri,
        after: Option<(&Uri, &PrincipalName)>,
        limit: usize,
    ) -> Vec<Grant> {
        let Some(top) = self.find_node(within) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut collect = |node: u32| {
            let mut grants = self.grants_on_node(node).peekable();
            if grants.peek().is_none() {
                return;
            }
            let uri = self.uri_of(node);
            if after.is_some_and(|(a, _)| &uri < a) {
                return;
            }
            for (holder, level) in grants {
                if let Some(grant) = self.grant_row(holder, &uri, level)
                    && after.is_none_or(|(a, h)| (&grant.uri, &grant.holder) > (a, h))
                {
                    out.push(grant);
                }
            }
        };
        collect(top);
        self.walk_below(top, |node| {
            collect(node);
            true
        });
        out.sort_by(|a, b| (&a.uri, &a.holder).cmp(&(&b.uri, &b.holder)));
        out.truncate(limit);
        out
    }

    // -----------------------------------------------------------------------------------
    // Fences
    // -----------------------------------------------------------------------------------

    /// Adds (`present`) or removes a fence; returns whether it was there before.
    pub fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool> {
        let Some(g) = self.slot_id(fence.group.as_str()) else {
            return match present {
                true => Err(missing("fence group", fence.group.as_str())),
                false => Ok(false),
            };
        };
        if present {
            let node = self.intern_node(&fence.uri)?;
            let entry = Entry {
                principal: g,
                mark: Mark::Fence,
            };
            let was = self
                .node_mut(node)
                .and_then(|n| n.entries.put(entry))
                .is_some();
            if !was {
                if let Some(s) = self.slot_mut(g) {
                    s.links.push(FENCED, node);
                }
                self.fences
                    .entry(fence.uri.clone())
                    .or_default()
                    .insert(fence.group.clone());
            }
            Ok(was)
        } else {
            let Some(node) = self.find_node(&fence.uri) else {
                return Ok(false);
            };
            if self
                .node_mut(node)
                .and_then(|n| n.entries.remove((false, g)))
                .is_none()
            {
                return Ok(false);
            }
            if let Some(s) = self.slot_mut(g) {
                s.links.remove(FENCED, node);
            }
            if let Some(groups) = self.fences.get_mut(&fence.uri) {
                groups.remove(&fence.group);
                if groups.is_empty() {
                    self.fences.remove(&fence.uri);
                }
            }
            self.release_node(node);
            Ok(true)
        }
    }

    /// The fences on exactly any of `uris`.
    pub fn fences_at(&self, uris: &[Uri]) -> Vec<Fence> {
        let mut out = Vec::new();
        for uri in first_of_each(uris) {
            for group in self.fences.get(uri).into_iter().flatten() {
                out.push(Fence {
                    uri: uri.clone(),
                    group: group.clone(),
                });
            }
        }
        out
    }

    /// The fences at or below `within` (all when `None`), after `after`, in (URI, group)
    /// order, at most `limit`.
    pub fn fences(&self, within: Option<&Uri>, after: Option<&Fence>, limit: usize) -> Vec<Fence> {
        let from = after.map_or(Bound::Unbounded, |f| Bound::Included(f.uri.as_str()));
        at_or_below(&self.fences, within, from)
            .flat_map(|(uri, groups)| {
                let start = match after {
                    Some(f) if &f.uri == uri => Bound::Excluded(f.group.as_str()),
                    _ => Bound::Unbounded,
                };
                groups
                    .range::<str, _>((start, Bound::Unbounded))
                    .map(move |group| Fence {
                        uri: uri.clone(),
                        group: group.clone(),
                    })
            })
            .take(limit)
            .collect()
    }

    /// The fences whose group is `group`, in (URI, group) order.
    pub fn fences_of_group(&self, group: &PrincipalName) -> Vec<Fence> {
        let Some(g) = self.slot_id(group.as_str()) else {
            return Vec::new();
        };
        let mut out: Vec<Fence> = self
            .slot(g)
            .map(Slot::fenced)
            .unwrap_or_default()
            .iter()
            .map(|&node| Fence {
                uri: self.uri_of(node),
                group: group.clone(),
            })
            .collect();
        out.sort();
        out
    }

    // -----------------------------------------------------------------------------------
    // Every row, for equality
    // -----------------------------------------------------------------------------------

    /// Every row in a canonical order: principals, edges, grants, fences.
    fn rows(&self) -> (Vec<PrincipalRecord>, Vec<Edge>, Vec<Grant>, Vec<Fence>) {
        let principals = self.principals(None, usize::MAX);
        let mut edges = Vec::new();
        let mut grants = Vec::new();
        for (id, slot) in self.slots.iter().enumerate() {
            let Some(slot) = slot else {
                continue;
            };
            let id = u32::try_from(id).unwrap_or(NONE);
            for &role in slot.roles() {
                if let Some(role) = self.name_of(role) {
                    edges.push(Edge {
                        member: slot.record.name.clone(),
                        role: role.clone(),
                    });
                }
            }
            for &node in slot.held() {
                if let Some(Mark::Grant(level)) =
                    self.node(node).and_then(|n| n.entries.get((true, id)))
                {
                    grants.push(Grant {
                        holder: slot.record.name.clone(),
                        uri: self.uri_of(node),
                        level,
                    });
                }
            }
        }
        edges.sort();
        grants.sort_by(|a, b| (&a.uri, &a.holder).cmp(&(&b.uri, &b.holder)));
        let fences = self.fences(None, None, usize::MAX);
        (principals, edges, grants, fences)
    }
}

/// Each URI of `uris` once, at its first place: a URI asked for twice is answered once,
/// as a SQL `IN (...)` would.
fn first_of_each(uris: &[Uri]) -> impl Iterator<Item = &Uri> {
    uris.iter()
        .enumerate()
        .filter(|&(i, uri)| !uris.get(..i).is_some_and(|seen| seen.contains(uri)))
        .map(|(_, uri)| uri)
}

/// The start of the last segment of `text[..end]`, a canonical URI's text whose path
/// starts at `root` (`end > root`).
fn last_segment(text: &str, root: usize, end: usize) -> usize {
    text.as_bytes()
        .get(root..end)
        .and_then(|path| path.iter().rposition(|&b| b == b'/'))
        .map_or(root, |slash| root + slash + 1)
}

/// The end of the parent's URI text, given where the last segment starts (see
/// [`last_segment`]): the slash before it is dropped, except after `scheme://`, which
/// ends the scheme root's own text.
fn parent_end(start: usize, root: usize) -> usize {
    if start == root { root } else { start - 1 }
}

/// Whether `key` is at or after the lower bound `from`.
fn admits(from: Bound<&str>, key: &str) -> bool {
    match from {
        Bound::Unbounded => true,
        Bound::Included(a) => key >= a,
        Bound::Excluded(a) => key > a,
    }
}

/// The entries of `map` whose URI is `within` or a strict descendant of it (every entry
/// when `within` is `None`) and not before the lower bound `from`, in URI order.
///
/// This is at most one point lookup and one range scan, using the bounds of
/// [`Uri::descendant_bounds`]. A non-root URI sorts before its descendants' range but
/// not necessarily right before it (`storage://c/u-x` lies between `storage://c/u` and
/// `storage://c/u/`), hence the separate point lookup; the root is its own range's `lo`.
fn at_or_below<'m, V>(
    map: &'m BTreeMap<Uri, V>,
    within: Option<&Uri>,
    from: Bound<&str>,
) -> impl Iterator<Item = (&'m Uri, &'m V)> + use<'m, V> {
    let (at, below) = match within {
        None => (None, Some(map.range::<str, _>((from, Bound::Unbounded)))),
        Some(within) => {
            let at = if within.is_root() || !admits(from, within.as_str()) {
                None
            } else {
                map.get_key_value(within.as_str())
            };
            let (lo, hi) = within.descendant_bounds();
            // The tighter of `from` and `lo`.
            let lower = match from {
                Bound::Included(a) if a > lo.as_str() => Bound::Included(a),
                Bound::Excluded(a) if a >= lo.as_str() => Bound::Excluded(a),
                _ => Bound::Included(lo.as_str()),
            };
            // `BTreeMap::range` panics on an inverted range: check it is not empty first.
            let below = match lower {
                Bound::Included(a) | Bound::Excluded(a) if a >= hi.as_str() => None,
                _ => Some(map.range::<str, _>((lower, Bound::Excluded(hi.as_str())))),
            };
            (at, below)
        }
    };
    at.into_iter().chain(below.into_iter().flatten())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn uri(text: &str) -> Uri {
        Uri::parse(text).unwrap()
    }

    fn name(text: &str) -> PrincipalName {
        PrincipalName::new(text).unwrap()
    }

    fn add(index: &mut Index, who: &str) -> PrincipalId {
        index
            .put_principal(PrincipalRecord {
                name: name(who),
                kind: crate::rows::PrincipalKind::Role,
                active: true,
            })
            .unwrap();
        index.principal_id(who).unwrap().0
    }

    fn grant(index: &mut Index, who: &str, at: &str, level: Level) {
        index.set_grant(&name(who), &uri(at), Some(level)).unwrap();
    }

    /// `effective(p, U)`'s level by the crate's one evaluator over this index's facts.
    fn level_of(index: &Index, closure: &IdClosure, at: &Uri) -> Level {
        crate::resolve::level(index, crate::resolve::Membership::Live(closure), at).unwrap()
    }

    fn live_nodes(index: &Index) -> usize {
        index.nodes.len() - index.free_nodes.len()
    }

    fn live_segments(index: &Index) -> usize {
        index.segments.len() - index.free_segments.len()
    }

    // The trie holds exactly the URIs with rows and their ancestors: removing every row
    // frees every node and segment, and the slots are reused.
    #[test]
    fn the_trie_frees_what_no_row_needs() {
        let mut index = Index::new();
        add(&mut index, "alice");
        add(&mut index, "g");
        grant(&mut index, "alice", "storage://c/a/b/c", Level::Read);
        grant(&mut index, "alice", "storage://c/a", Level::Write);
        let fence = Fence {
            uri: uri("storage://c/a/x"),
            group: name("g"),
        };
        assert!(!index.set_fence(&fence, true).unwrap());
        assert!(index.set_fence(&fence, true).unwrap());
        // storage://, c, a, b, c (leaf), x
        assert_eq!(live_nodes(&index), 6);
        assert_eq!(index.grant_count(), 2);
        let snapshot = index.clone();
        let removed = index
            .set_grant(&name("alice"), &uri("storage://c/a/b/c"), None)
            .unwrap();
        assert_eq!(removed, Some(Level::Read));
        assert_eq!(live_nodes(&index), 4);
        assert!(index.set_fence(&fence, false).unwrap());
        assert_eq!(live_nodes(&index), 3);
        index
            .set_grant(&name("alice"), &uri("storage://c/a"), None)
            .unwrap();
        assert_eq!((live_nodes(&index), live_segments(&index)), (0, 0));
        assert_eq!(index.references("alice"), None);
        // Put back: equal rows, whatever ids they got.
        grant(&mut index, "alice", "storage://c/a", Level::Write);
        index.set_fence(&fence, true).unwrap();
        grant(&mut index, "alice", "storage://c/a/b/c", Level::Read);
        assert_eq!(index, snapshot);
        assert_eq!(index.nodes.len(), 6, "slots are reused");
    }

    #[test]
    fn segments_of_any_length_are_found_and_freed() {
        // Around the inline limit, multi-byte text, and enough nodes to grow the children
        // table several times (every growth rehashes each node from its ancestors).
        let long = "x".repeat(INLINE + 40);
        let texts = [
            "a".repeat(INLINE - 1),
            "b".repeat(INLINE),
            "c".repeat(INLINE + 1),
            "é".repeat(INLINE / 2 + 1),
            long,
        ];
        let mut index = Index::new();
        let alice = add(&mut index, "alice");
        let mut uris = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            for j in 0..200 {
                uris.push(uri(&format!("storage://c/{text}/n{j}/{text}{i}")));
            }
        }
        for u in &uris {
            index
                .set_grant(&name("alice"), u, Some(Level::Read))
                .unwrap();
        }
        let closure = index.closure(alice);
        for u in &uris {
            assert!(index.find_node(u).is_some(), "{u}");
            assert_eq!(level_of(&index, &closure, u), Level::Read, "{u}");
            assert_eq!(
                level_of(&index, &closure, &u.child("deeper").unwrap()),
                Level::Read
            );
        }
        // A sibling that differs in the last byte only is not found.
        assert_eq!(
            index.find_node(&uri(&format!(
                "storage://c/{}",
                "b".repeat(INLINE - 1) + "c"
            ))),
            None
        );
        for u in &uris {
            index.set_grant(&name("alice"), u, None).unwrap();
        }
        assert_eq!((live_nodes(&index), live_segments(&index)), (0, 0));
        assert!(index.children.is_empty() && index.by_segment.is_empty());
    }

    // The word-wise compare of the check's walk agrees with a plain `ends_with` of a slash
    // and the text, for every text length (inline up to INLINE, then on the heap), every
    // place in the slice, and texts that differ from the slice in any one byte.
    #[test]
    fn text_start_after_slash_agrees_with_ends_with() {
        // Segments of every length from 1 to INLINE + 3, each after a slash.
        let hay: Vec<u8> = (1..=INLINE + 3)
            .flat_map(|gap| std::iter::once(b'/').chain((0..gap).map(|i| b'a' + (i % 26) as u8)))
            .collect();
        let mut found = 0;
        for len in 0..=INLINE + 3 {
            for end in 0..=hay.len() {
                let from = end.saturating_sub(len);
                for flip in std::iter::once(None).chain((0..len).map(Some)) {
                    let mut own = hay[from..end].to_vec();
                    own.resize(len, b'x');
                    if let Some(at) = flip {
                        own[at] = b'#';
                    }
                    let own = String::from_utf8(own).unwrap();
                    let text = Text::new(&own);
                    let mut suffix = vec![b'/'];
                    suffix.extend_from_slice(own.as_bytes());
                    let expected = hay[..end].ends_with(&suffix).then(|| end - len);
                    found += usize::from(expected.is_some());
                    assert_eq!(
                        text.start_after_slash(&hay, end),
                        expected,
                        "len {len} end {end} flip {flip:?}"
                    );
                }
            }
        }
        // Every segment of the hay matched, at its own length.
        assert!(found >= INLINE + 3, "{found}");
    }

    #[test]
    fn walk_below_visits_each_strict_descendant_once() {
        let mut index = Index::new();
        add(&mut index, "r");
        let texts = [
            "storage://c/a",
            "storage://c/a/b",
            "storage://c/a/b/c",
            "storage://c/a/d",
            "storage://c/e",
            "storage://c/ab",
        ];
        for t in texts {
            grant(&mut index, "r", t, Level::Read);
        }
        let top = index.find_node(&uri("storage://c/a")).unwrap();
        let mut seen = Vec::new();
        index.walk_below(top, |node| {
            seen.push(index.uri_of(node).to_string());
            true
        });
        seen.sort();
        assert_eq!(
            seen,
            ["storage://c/a/b", "storage://c/a/b/c", "storage://c/a/d"]
        );
        let leaf = index.find_node(&uri("storage://c/a/b/c")).unwrap();
        index.walk_below(leaf, |_| panic!("a leaf has nothing below"));
        // `below` counts allow grants strictly below; a forbid does not count.
        assert_eq!(index.node(top).unwrap().below, 3);
        grant(&mut index, "r", "storage://c/a/d", Level::Deny);
        assert_eq!(index.node(top).unwrap().below, 2);
    }

    // Rules E1 to E4 on the index's facts, through the one evaluator, including both ways of
    // finding a grant below (the subtree, or the closure's own grants) and both ways of
    // reading a crowded node (every entry, or a binary search per member).
    #[test]
    fn level_follows_the_resolution_steps() {
        let mut index = Index::new();
        let alice = add(&mut index, "alice");
        add(&mut index, "team");
        add(&mut index, "other");
        index
            .set_edge(
                &Edge {
                    member: name("alice"),
                    role: name("team"),
                },
                true,
            )
            .unwrap();
        let closure = index.closure(alice);
        assert_eq!(closure.len(), 2);
        let level = |index: &Index, at: &str| level_of(index, &closure, &uri(at));

        assert_eq!(level(&index, "storage://c/p"), Level::Deny);
        grant(&mut index, "team", "storage://c/p", Level::Write);
        grant(&mut index, "alice", "storage://c/p/q", Level::Read);
        // E1: the highest level held on the URI or above.
        assert_eq!(level(&index, "storage://c/p/q/r"), Level::Write);
        // E2: a grant strictly below makes the URI listable, not the URI beside it.
        assert_eq!(level(&index, "storage://c"), Level::List);
        assert_eq!(level(&index, "storage://d"), Level::Deny);
        // E3: a forbid held in the closure beats every allowance.
        grant(&mut index, "team", "storage://c/p/q", Level::Deny);
        assert_eq!(level(&index, "storage://c/p/q/r"), Level::Deny);
        assert_eq!(level(&index, "storage://c/p"), Level::Write);
        // E4: a fence of a group outside the closure denies; of one inside it, not.
        let fence = |group: &str| Fence {
            uri: uri("storage://c/p"),
            group: name(group),
        };
        index.set_fence(&fence("other"), true).unwrap();
        assert_eq!(level(&index, "storage://c/p"), Level::Deny);
        index.set_fence(&fence("other"), false).unwrap();
        index.set_fence(&fence("team"), true).unwrap();
        assert_eq!(level(&index, "storage://c/p"), Level::Write);

        // A crowded node: more entries than a walk reads.
        for i in 0..40 {
            add(&mut index, &format!("x{i:02}"));
            grant(
                &mut index,
                &format!("x{i:02}"),
                "job://c/crowd",
                Level::Manage,
            );
        }
        assert_eq!(level(&index, "job://c/crowd"), Level::Deny);
        grant(&mut index, "team", "job://c/crowd", Level::Read);
        assert_eq!(level(&index, "job://c/crowd/run"), Level::Read);

        // Many grants below, none the closure's, then one of them alice's: found through
        // the subtree walk and through alice's own grants alike.
        for i in 0..(WALK_BELOW as usize + 10) {
            grant(
                &mut index,
                "other",
                &format!("disk://c/d/n{i:03}"),
                Level::Read,
            );
        }
        assert_eq!(level(&index, "disk://c/d"), Level::Deny);
        grant(&mut index, "alice", "disk://c/d/n007/deep", Level::Read);
        assert_eq!(level(&index, "disk://c/d"), Level::List);
        assert_eq!(level(&index, "disk://c"), Level::List);
        assert_eq!(level(&index, "disk://c/d/n008"), Level::Deny);
    }

    #[test]
    fn bad_rows_are_refused_and_change_nothing() {
        let mut index = Index::new();
        add(&mut index, "alice");
        let before = index.clone();
        let err = index
            .set_grant(&name("ghost"), &uri("storage://c/x"), Some(Level::Read))
            .unwrap_err();
        assert!(err.to_string().contains("ghost"), "{err}");
        let edge = Edge {
            member: name("alice"),
            role: name("ghost"),
        };
        assert!(index.set_edge(&edge, true).is_err());
        assert!(!index.set_edge(&edge, false).unwrap());
        grant(&mut index, "alice", "storage://c/x", Level::Read);
        assert!(index.remove_principal("alice").is_err());
        index
            .set_grant(&name("alice"), &uri("storage://c/x"), None)
            .unwrap();
        assert_eq!(index, before);
        assert_eq!(live_nodes(&index), 0);
    }

    /// The URIs `at_or_below` yields from a map holding every URI of `UNIVERSE`.
    fn run(within: Option<&str>, from: Bound<&str>) -> Vec<String> {
        let map: BTreeMap<Uri, ()> = UNIVERSE.iter().map(|t| (uri(t), ())).collect();
        let within = within.map(uri);
        at_or_below(&map, within.as_ref(), from)
            .map(|(u, ())| u.to_string())
            .collect()
    }

    const UNIVERSE: &[&str] = &[
        "job://",
        "job://c/u",
        "storage+x://c",
        "storage-x://c",
        "storage://",
        "storage://c",
        "storage://c/u",
        "storage://c/u-x",
        "storage://c/u.x",
        "storage://c/u/x",
        "storage://c/u/x/y",
        "storage://c/u0",
        "storage://c/ux",
        "storage://d",
        "storagex://c",
    ];

    // The root and `storage://c/u` vs `storage://c/ux` edges of `descendant_bounds`.
    #[test]
    fn at_or_below_table() {
        use Bound::{Excluded, Included, Unbounded};
        assert_eq!(run(None, Unbounded), UNIVERSE);
        let cases: &[(Option<&str>, Bound<&str>, &[&str])] = &[
            (
                Some("storage://c/u"),
                Unbounded,
                &["storage://c/u", "storage://c/u/x", "storage://c/u/x/y"],
            ),
            (
                Some("storage://c/u"),
                Excluded("storage://c/u"),
                &["storage://c/u/x", "storage://c/u/x/y"],
            ),
            (
                Some("storage://c/u"),
                Excluded("storage://c/u-x"),
                &["storage://c/u/x", "storage://c/u/x/y"],
            ),
            (
                Some("storage://c/u"),
                Included("storage://c/u/x/y"),
                &["storage://c/u/x/y"],
            ),
            (Some("storage://c/u"), Excluded("storage://c/u/x/y"), &[]),
            (Some("storage://c/u"), Excluded("storage://c/u0"), &[]),
            (Some("storage://c/u"), Included("storage://c/u0"), &[]),
            (Some("storage://c/u"), Excluded("zzz"), &[]),
            (
                Some("storage://c/u"),
                Excluded("a"),
                &["storage://c/u", "storage://c/u/x", "storage://c/u/x/y"],
            ),
            (Some("storage://c/ux"), Unbounded, &["storage://c/ux"]),
            (Some("storage://c/u/x/y"), Unbounded, &["storage://c/u/x/y"]),
            (Some("storage://c/nothing"), Unbounded, &[]),
            (
                Some("storage://"),
                Unbounded,
                &[
                    "storage://",
                    "storage://c",
                    "storage://c/u",
                    "storage://c/u-x",
                    "storage://c/u.x",
                    "storage://c/u/x",
                    "storage://c/u/x/y",
                    "storage://c/u0",
                    "storage://c/ux",
                    "storage://d",
                ],
            ),
            (
                Some("storage://"),
                Excluded("storage://"),
                &[
                    "storage://c",
                    "storage://c/u",
                    "storage://c/u-x",
                    "storage://c/u.x",
                    "storage://c/u/x",
                    "storage://c/u/x/y",
                    "storage://c/u0",
                    "storage://c/ux",
                    "storage://d",
                ],
            ),
            (
                Some("storage://"),
                Excluded("storage://c/ux"),
                &["storage://d"],
            ),
            (Some("job://"), Unbounded, &["job://", "job://c/u"]),
            (
                None,
                Excluded("storage://c/u0"),
                &["storage://c/ux", "storage://d", "storagex://c"],
            ),
        ];
        for (within, from, want) in cases {
            assert_eq!(
                run(*within, *from),
                *want,
                "within {within:?} from {from:?}"
            );
        }
    }
}
