//! The replica-only write of a [`MemoryStore`]: applying, as one commit at the source's
//! revision, the current values of the kernel rows another store's commits wrote (DESIGN
//! rule D3). [`crate::Follower`] is its one caller.
//!
//! It is not a second way to mutate a store: the rows go through the same [`WriteTxn`]
//! methods (and so the same checks and undo log) as any transaction, and the changelog
//! entries are the source's own, appended in order, so the replica's revision is the
//! source's. A replica batch that fails leaves the store exactly as it was.

use acl_core::{
    ChangeEntry, ClusterName, Edge, Error, Fence, Level, PrincipalName, PrincipalRecord, Result,
    Revision, RowKey, Uri, WriteTxn,
};

use crate::store::{MemoryStore, MemoryWrite, Undo, poisoned};

/// One kernel row's value on the source, at the revision a replica batch brings the
/// replica to: absent rows are `None` or `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowValue {
    /// The cluster name.
    Cluster(Option<ClusterName>),
    /// The record of the principal named.
    Principal(PrincipalName, Option<PrincipalRecord>),
    /// Whether the edge is there.
    Edge(Edge, bool),
    /// The level of `holder` on exactly `uri`, if any.
    Grant {
        /// Who holds it.
        holder: PrincipalName,
        /// On what.
        uri: Uri,
        /// Its level; `None`: no grant.
        level: Option<Level>,
    },
    /// Whether the fence is there.
    Fence(Fence, bool),
}

impl RowValue {
    /// The key of the row.
    pub fn key(&self) -> RowKey {
        match self {
            RowValue::Cluster(_) => RowKey::Cluster,
            RowValue::Principal(name, _) => RowKey::Principal(name.clone()),
            RowValue::Edge(edge, _) => RowKey::Edge {
                member: edge.member.clone(),
                role: edge.role.clone(),
            },
            RowValue::Grant { holder, uri, .. } => RowKey::Grant {
                holder: holder.clone(),
                uri: uri.clone(),
            },
            RowValue::Fence(fence, _) => RowKey::Fence {
                uri: fence.uri.clone(),
                group: fence.group.clone(),
            },
        }
    }

    /// The order the rows of one batch are applied in, so every row's principals exist
    /// when it is written and nothing refers to a principal when it is removed: the
    /// cluster and the principals present, then the rows removed, then the rows present,
    /// then the principals removed.
    fn phase(&self) -> u8 {
        match self {
            RowValue::Cluster(_) | RowValue::Principal(_, Some(_)) => 0,
            RowValue::Edge(_, false)
            | RowValue::Grant { level: None, .. }
            | RowValue::Fence(_, false) => 1,
            RowValue::Edge(_, true)
            | RowValue::Grant { level: Some(_), .. }
            | RowValue::Fence(_, true) => 2,
            RowValue::Principal(_, None) => 3,
        }
    }
}

impl MemoryWrite<'_> {
    /// Writes `row`'s value through the transaction's own methods (a value already there
    /// writes nothing).
    fn apply(&mut self, row: &RowValue) -> Result<()> {
        match row {
            RowValue::Cluster(Some(cluster)) => self.set_cluster(cluster),
            RowValue::Cluster(None) => {
                let before = self.state.set_cluster(None);
                if before.is_some() {
                    self.undo.push(Undo::Cluster(before));
                }
                Ok(())
            }
            RowValue::Principal(name, Some(record)) => {
                if &record.name != name {
                    return Err(Error::storage(format!(
                        "a replicated record of `{}` is filed under `{name}`",
                        record.name
                    )));
                }
                match self.state.principal(name)? {
                    Some(before) if &before == record => Ok(()),
                    Some(_) => self.update_principal(record),
                    None => self.insert_principal(record),
                }
            }
            RowValue::Principal(name, None) => {
                if self.state.has_principal(name) {
                    self.delete_principal(name)
                } else {
                    Ok(())
                }
            }
            RowValue::Edge(edge, present) => self.set_edge(edge, *present).map(drop),
            RowValue::Grant {
                holder,
                uri,
                level: Some(level),
            } => self.put_grant(&acl_core::Grant {
                holder: holder.clone(),
                uri: uri.clone(),
                level: *level,
            }),
            RowValue::Grant {
                holder,
                uri,
                level: None,
            } => self.delete_grant(holder, uri).map(drop),
            RowValue::Fence(fence, present) => self.set_fence(fence, *present).map(drop),
        }
    }
}

impl MemoryStore {
    /// **Replica only** (a [`crate::Follower`]'s store): applies, as one commit, the rows
    /// of a source store's commits and their changelog entries, moving this store to the
    /// revision of the last entry.
    ///
    /// `changes` must be the source's entries right after this store's revision, dense and
    /// in order, and `rows` the current value on the source at the last one's revision of
    /// every kernel row those commits wrote (more rows are harmless: a value already here
    /// writes nothing). The rows written are noted under the new revision, so engines over
    /// this store keep every cached closure they did not reach. On any error nothing is
    /// applied. A store written this way should be written no other way: its changelog is
    /// another store's.
    pub fn replicate(
        &self,
        mut rows: Vec<RowValue>,
        changes: Vec<ChangeEntry>,
    ) -> Result<Revision> {
        let state = self.state.write().map_err(|_| poisoned())?;
        let mut txn = MemoryWrite {
            state,
            undo: Vec::new(),
        };
        let start = txn.state.revision()?;
        let mut expected = start;
        for entry in &changes {
            expected = expected.next();
            if entry.revision != expected {
                return Err(Error::storage(format!(
                    "a replica batch after revision {start} has the changelog entry of \
                     revision {} where {expected} belongs",
                    entry.revision
                )));
            }
        }
        if changes.is_empty() && !rows.is_empty() {
            return Err(Error::storage(
                "a replica batch writes rows but brings no changelog entry",
            ));
        }
        rows.sort_by_key(RowValue::phase);
        for row in &rows {
            txn.apply(row)?;
        }
        let revision = txn.state.append_history(&changes)?;
        let noted = txn.undo.iter().filter_map(Undo::noted).collect();
        txn.state.note(revision, noted);
        txn.undo.clear();
        Ok(revision)
    }
}
