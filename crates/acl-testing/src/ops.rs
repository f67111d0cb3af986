//! The mutations of the engine as plain data, shared by the reference model
//! ([`super::reference::Reference`]), the proptest strategies and the differential test.
//!
//! An [`Op`] names its actor and its arguments exactly as a caller of the engine would pass
//! them; nothing in it is validated beforehand, so a generated sequence exercises the error
//! paths as well as the successful ones.

use std::fmt;

use serde::{Deserialize, Serialize};

use acl_core::Level;
use acl_core::PrincipalName;
use acl_core::Uri;

/// One mutation of the engine, by an actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `create_user(actor, name)`: needs `manage` on `user://` (rule A4); gives the user its
    /// home grants (rule P5).
    CreateUser {
        /// Who acts.
        actor: PrincipalName,
        /// The new user's name (one segment).
        name: PrincipalName,
    },
    /// `add_role(actor, name, kind)`: needs `manage` on `role://{name}` (rule P2).
    AddRole {
        /// Who acts.
        actor: PrincipalName,
        /// The new role's name.
        name: PrincipalName,
        /// Whether the role is a group (a team for share scopes and fences) rather than a
        /// plain role.
        group: bool,
    },
    /// `remove_role(actor, name)`: needs `manage` on `role://{name}` (rule P4).
    RemoveRole {
        /// Who acts.
        actor: PrincipalName,
        /// The role to remove.
        name: PrincipalName,
    },
    /// `grant(actor, uri, grantee, level)`: needs `manage` on `uri` (rule M1); a level of
    /// [`Level::Deny`] records a forbid (rule E3).
    Grant {
        /// Who acts.
        actor: PrincipalName,
        /// Where the grant holds.
        uri: Uri,
        /// Who receives it.
        grantee: PrincipalName,
        /// What it gives; `deny` for a forbid.
        level: Level,
    },
    /// `revoke(actor, uri, grantee)`: needs `manage` on `uri` (rule M2).
    Revoke {
        /// Who acts.
        actor: PrincipalName,
        /// Where the grant to remove holds.
        uri: Uri,
        /// Whose grant (or forbid) it is.
        grantee: PrincipalName,
    },
    /// `add_fence(actor, uri, group)`: needs `manage` on the scheme root (rule E4).
    AddFence {
        /// Who acts.
        actor: PrincipalName,
        /// The fenced subtree.
        uri: Uri,
        /// The group whose members alone may pass.
        group: PrincipalName,
    },
    /// `remove_fence(actor, uri, group)`: needs `manage` on the scheme root (rule E4).
    RemoveFence {
        /// Who acts.
        actor: PrincipalName,
        /// The fenced subtree.
        uri: Uri,
        /// The fence's group.
        group: PrincipalName,
    },
    /// `set_active(actor, name, active)`: needs `manage` on `user://{name}` (rule A4).
    SetActive {
        /// Who acts.
        actor: PrincipalName,
        /// The user to (de)activate.
        name: PrincipalName,
        /// The new state.
        active: bool,
    },
}

impl Op {
    /// The acting principal, as written in the op.
    pub fn actor(&self) -> &PrincipalName {
        match self {
            Op::CreateUser { actor, .. }
            | Op::AddRole { actor, .. }
            | Op::RemoveRole { actor, .. }
            | Op::Grant { actor, .. }
            | Op::Revoke { actor, .. }
            | Op::AddFence { actor, .. }
            | Op::RemoveFence { actor, .. }
            | Op::SetActive { actor, .. } => actor,
        }
    }

    /// Every principal name the op mentions (actor first), as written.
    pub fn names(&self) -> Vec<&PrincipalName> {
        match self {
            Op::CreateUser { actor, name }
            | Op::AddRole { actor, name, .. }
            | Op::RemoveRole { actor, name }
            | Op::SetActive { actor, name, .. } => vec![actor, name],
            Op::Grant { actor, grantee, .. } | Op::Revoke { actor, grantee, .. } => {
                vec![actor, grantee]
            }
            Op::AddFence { actor, group, .. } | Op::RemoveFence { actor, group, .. } => {
                vec![actor, group]
            }
        }
    }

    /// The URI the op names, if any.
    pub fn uri(&self) -> Option<&Uri> {
        match self {
            Op::Grant { uri, .. }
            | Op::Revoke { uri, .. }
            | Op::AddFence { uri, .. }
            | Op::RemoveFence { uri, .. } => Some(uri),
            Op::CreateUser { .. }
            | Op::AddRole { .. }
            | Op::RemoveRole { .. }
            | Op::SetActive { .. } => None,
        }
    }
}

impl fmt::Display for Op {
    /// A one-line form close to the CLI's, for failure messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateUser { actor, name } => write!(f, "[{actor}] create-user {name}"),
            Op::AddRole { actor, name, group } => {
                let kind = if *group { "group" } else { "role" };
                write!(f, "[{actor}] add-role {name} --kind {kind}")
            }
            Op::RemoveRole { actor, name } => write!(f, "[{actor}] remove-role {name}"),
            Op::Grant {
                actor,
                uri,
                grantee,
                level,
            } => write!(f, "[{actor}] grant {uri} {grantee} {level}"),
            Op::Revoke {
                actor,
                uri,
                grantee,
            } => write!(f, "[{actor}] revoke {uri} {grantee}"),
            Op::AddFence { actor, uri, group } => write!(f, "[{actor}] add-fence {uri} {group}"),
            Op::RemoveFence { actor, uri, group } => {
                write!(f, "[{actor}] remove-fence {uri} {group}")
            }
            Op::SetActive {
                actor,
                name,
                active,
            } => write!(f, "[{actor}] set-active {name} {active}"),
        }
    }
}

/// What a successful [`Op`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every op but a grant: the change was made.
    Done,
    /// A grant where the grantee had no direct grant on the URI: one was created.
    Created,
    /// A grant that raised the grantee's direct allow grant.
    Raised {
        /// The level it had before.
        from: Level,
    },
    /// A grant that changed nothing: the grantee's direct grant was already at least as
    /// high, or was already the forbid asked for (rule M1).
    Kept {
        /// The level of the direct grant that stays.
        existing: Level,
    },
}

impl Outcome {
    /// Whether the op changed the state (and so raised the revision, rule M3).
    pub fn changed(self) -> bool {
        !matches!(self, Outcome::Kept { .. })
    }
}
