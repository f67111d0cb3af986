//! Atomic batches of mixed writes: grants, forbids, revokes and new roles applied in ONE
//! transaction with one changelog entry (one revision), all or nothing (rules M1 to M4).
//!
//! Each operation runs the body of its own mutation (`grant_step`, `revoke_step`,
//! `add_role_step`) in the batch's transaction, so it is authorized and checked exactly
//! as the mutation alone would be, on the state the operations before it left: a revoke
//! may remove a grant made earlier in the same batch. The first refused operation drops
//! the transaction, and the error names its index.

use crate::engine::{Applied, Caller, Engine, GrantOutcome, Step};
use crate::error::Error as CoreError;
use crate::level::Level;
use crate::name::PrincipalName;
use crate::rows::{Change, PrincipalKind};
use crate::store::Store;
use crate::uri::Uri;

/// One operation of [`Engine::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Sets `grantee`'s direct grant on `uri` to an allow `level` (rule M1), as
    /// [`Engine::grant`].
    Grant {
        /// The URI.
        uri: Uri,
        /// The grantee.
        grantee: PrincipalName,
        /// The level (`deny` is a forbid, as with [`Engine::grant`]).
        level: Level,
    },
    /// Records a forbid of `grantee` on `uri` (rule E3), as [`Engine::grant`] with `deny`.
    Forbid {
        /// The URI.
        uri: Uri,
        /// The principal forbidden.
        grantee: PrincipalName,
    },
    /// Removes `grantee`'s direct grant or forbid on exactly `uri` (rule M2), as
    /// [`Engine::revoke`].
    Revoke {
        /// The URI.
        uri: Uri,
        /// The holder.
        grantee: PrincipalName,
    },
    /// Adds a role or group (rule P2), as [`Engine::add_role`].
    AddRole {
        /// The new principal's name.
        name: PrincipalName,
        /// [`PrincipalKind::Role`] or [`PrincipalKind::Group`].
        kind: PrincipalKind,
    },
}

/// What one operation of a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// A grant or forbid: created, raised or kept.
    Granted(GrantOutcome),
    /// A revoke: the level removed (`deny` for a forbid).
    Revoked(Level),
    /// A role or group was added.
    RoleAdded,
}

impl<S: Store> Engine<S> {
    /// Applies `ops` in order in ONE write transaction committed with one changelog entry
    /// (action `batch`, one revision): all of them, or, on the first refused operation,
    /// none. Each operation is authorized and checked exactly as its own mutation, on the
    /// state the operations before it left. A batch where every operation changed nothing
    /// (kept grants) commits nothing. An empty batch is refused. A refused operation is
    /// [`CoreError::InBatch`] with its index; a store failure at the commit is the store's
    /// error as it is.
    pub fn write_batch(
        &self,
        by: &Caller,
        ops: &[WriteOp],
    ) -> crate::Result<Applied<Vec<WriteOutcome>>> {
        if ops.is_empty() {
            return Err(CoreError::InvalidInput(
                "a batch needs at least one operation".into(),
            ));
        }
        let mut failed = None;
        self.mutate(|tx| {
            let mut outcomes = Vec::with_capacity(ops.len());
            let (mut grants, mut forbids, mut revokes, mut roles, mut changed) =
                (0usize, 0usize, 0usize, 0usize, 0usize);
            let mut actor = None;
            for (index, op) in ops.iter().enumerate() {
                let step = match op {
                    WriteOp::Grant {
                        uri,
                        grantee,
                        level,
                    } => {
                        if *level == Level::Deny {
                            forbids += 1;
                        } else {
                            grants += 1;
                        }
                        self.grant_step(tx, by, uri, grantee, *level)
                            .map(|s| map_step(s, WriteOutcome::Granted))
                    }
                    WriteOp::Forbid { uri, grantee } => {
                        forbids += 1;
                        self.grant_step(tx, by, uri, grantee, Level::Deny)
                            .map(|s| map_step(s, WriteOutcome::Granted))
                    }
                    WriteOp::Revoke { uri, grantee } => {
                        revokes += 1;
                        self.revoke_step(tx, by, uri, grantee)
                            .map(|s| map_step(s, WriteOutcome::Revoked))
                    }
                    WriteOp::AddRole { name, kind } => {
                        roles += 1;
                        self.add_role_step(tx, by, name, *kind)
                            .map(|s| map_step(s, |()| WriteOutcome::RoleAdded))
                    }
                };
                match step {
                    Err(err) => {
                        failed = Some(index);
                        return Err(err);
                    }
                    Ok(Step::Changed(outcome, change)) => {
                        changed += 1;
                        actor = change.actor;
                        outcomes.push(outcome);
                    }
                    Ok(Step::Unchanged(outcome)) => outcomes.push(outcome),
                }
            }
            if changed == 0 {
                return Ok(Step::Unchanged(outcomes));
            }
            Ok(Step::Changed(
                outcomes,
                Change {
                    at: by.at,
                    actor,
                    action: "batch".into(),
                    target: format!("{} operations", ops.len()),
                    detail: format!(
                        "{grants} grants, {forbids} forbids, {revokes} revokes, {roles} roles; {changed} changed"
                    ),
                },
            ))
        })
        .map_err(|error| match failed {
            Some(index) => CoreError::InBatch {
                index,
                source: Box::new(error),
            },
            None => error,
        })
    }
}

fn map_step<T, U>(step: Step<T>, f: impl FnOnce(T) -> U) -> Step<U> {
    match step {
        Step::Changed(value, change) => Step::Changed(f(value), change),
        Step::Unchanged(value) => Step::Unchanged(f(value)),
    }
}
