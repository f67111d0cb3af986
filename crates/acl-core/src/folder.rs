//! Backend.AI folders, shares and invitations (rules F1 to F9), and VMs (rules V1 to V3):
//! the typed rows the stores keep and the pure invitation state machine of rule F5.
//!
//! Access is always grants: these rows record what the workflows of
//! [`crate::Engine`] did (a share row goes with the sharee's grant on the folder's URI), so
//! a check never reads them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, clip};
use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::time::Timestamp;
use crate::uri::Uri;

/// The longest id or name, in characters.
pub const MAX_FOLDER_NAME: usize = 64;

/// Whether `text` is 1 to 64 characters of `[A-Za-z0-9._-]`.
fn valid_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_FOLDER_NAME
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// 1 to 64 characters of `[A-Za-z0-9._-]`, not starting with `.`, so it is a valid
        /// URI segment. The engine allocates ids; stores keep them as text.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `text` as an id.
            pub fn new(text: &str) -> Result<$name> {
                if valid_word(text) && !text.starts_with('.') {
                    Ok($name(text.to_owned()))
                } else {
                    Err(Error::InvalidInput(format!(
                        "invalid {} id `{}`: expected 1 to 64 characters of [A-Za-z0-9._-], \
                         not starting with `.`",
                        $what,
                        clip(text)
                    )))
                }
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(text: String) -> Result<$name> {
                $name::new(&text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// A folder's id (rule F1): the last segment of its URI `vfolder://C/{id}`.
    FolderId,
    "folder"
);
id_type!(
    /// An invitation's id (rule F5).
    InvitationId,
    "invitation"
);
id_type!(
    /// A VM's id (rule V1): the last segment of its URI `vm://C/{id}`.
    VmId,
    "vm"
);

impl FolderId {
    /// The folder's URI `vfolder://{cluster}/{id}` (rule F1).
    pub fn uri(&self, cluster: &ClusterName) -> Result<Uri> {
        Uri::parse(&format!("vfolder://{cluster}/{}", self.0))
    }
}

impl VmId {
    /// The VM's URI `vm://{cluster}/{id}` (rule V1).
    pub fn uri(&self, cluster: &ClusterName) -> Result<Uri> {
        Uri::parse(&format!("vm://{cluster}/{}", self.0))
    }
}

/// A folder or VM name (rule F2): 1 to 64 characters of `[A-Za-z0-9._-]`. A folder name
/// starting with `.` is private: such a folder is never shared nor a group folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FolderName(String);

impl FolderName {
    /// Validates `text` as a name (rule F2); `.` and `..` are refused.
    pub fn new(text: &str) -> Result<FolderName> {
        if !valid_word(text) {
            return Err(Error::InvalidInput(format!(
                "invalid name `{}`: expected 1 to 64 characters of [A-Za-z0-9._-]",
                clip(text)
            )));
        }
        if text == "." || text == ".." {
            return Err(Error::InvalidInput(format!(
                "invalid name `{text}`: `.` and `..` are not names"
            )));
        }
        Ok(FolderName(text.to_owned()))
    }

    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the name starts with `.`: a private folder (rule F2).
    pub fn is_private(&self) -> bool {
        self.0.starts_with('.')
    }
}

impl fmt::Display for FolderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FolderName {
    type Error = Error;
    fn try_from(text: String) -> Result<FolderName> {
        FolderName::new(&text)
    }
}

impl From<FolderName> for String {
    fn from(name: FolderName) -> String {
        name.0
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text form (the one stores keep).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the text form.
            pub fn parse(text: &str) -> Result<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::InvalidInput(format!(
                        "invalid {} `{}`: expected one of {}",
                        stringify!($name).to_lowercase(),
                        clip(text),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// A share's or group folder's permission (rule F3).
    Permission {
        /// Read only: `read` on the folder.
        ReadOnly => "ro",
        /// Read and write: `write` on the folder (not delete-file, rename, delete, share).
        ReadWrite => "rw",
    }
);

impl Permission {
    /// The level the permission grants on the folder (rule F3).
    pub const fn level(self) -> Level {
        match self {
            Permission::ReadOnly => Level::Read,
            Permission::ReadWrite => Level::Write,
        }
    }
}

text_enum!(
    /// Who owns a folder (rule F1): a user, or a group for a project folder (rule F8).
    FolderKind {
        /// Owned by a user.
        User => "user",
        /// Owned by a group; its members share it through the group role.
        Group => "group",
    }
);

text_enum!(
    /// A folder's status (rule F1).
    FolderStatus {
        /// In use.
        Active => "active",
        /// Deleted (rule F9): kept for the record, holds no grant, share or pending
        /// invitation, and frees its name.
        Deleted => "deleted",
    }
);

text_enum!(
    /// An invitation's state (rule F5).
    InvitationState {
        /// Waiting for the invitee.
        Pending => "pending",
        /// Accepted by the invitee: a share exists (or existed).
        Accepted => "accepted",
        /// Rejected by the invitee.
        Rejected => "rejected",
        /// Canceled by the inviter, a folder manager, or the folder's deletion.
        Canceled => "canceled",
    }
);

impl InvitationState {
    /// Whether the state is an end state: nothing changes it any more (rule F5).
    pub const fn is_final(self) -> bool {
        !matches!(self, InvitationState::Pending)
    }
}

text_enum!(
    /// A VM share mode (rule V1).
    VmShareMode {
        /// Launch and use the VM, no drive access: `write`.
        Use => "use",
        /// Drives and sharing: `manage`.
        CoOwn => "co-own",
    }
);

impl VmShareMode {
    /// The level the mode grants on the VM (rule V1).
    pub const fn level(self) -> Level {
        match self {
            VmShareMode::Use => Level::Write,
            VmShareMode::CoOwn => Level::Manage,
        }
    }
}

/// A folder (rule F1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// Its id; its URI is `vfolder://C/{id}`.
    pub id: FolderId,
    /// Its name, unique among the owner's active folders (rule F2).
    pub name: FolderName,
    /// The owning user, or group for a group folder.
    pub owner: PrincipalName,
    /// User or group folder.
    pub kind: FolderKind,
    /// The storage host it lives on.
    pub host: String,
    /// Active or deleted.
    pub status: FolderStatus,
    /// For a group folder, what its members get (rule F8); `None` for a user folder.
    pub group_permission: Option<Permission>,
}

impl Folder {
    /// Whether the folder is active.
    pub fn is_active(&self) -> bool {
        self.status == FolderStatus::Active
    }
}

/// An accepted share (rule F6): `user` holds `permission` on `folder`. The engine writes
/// it together with the user's grant on the folder's URI, and removes them together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// The shared folder.
    pub folder: FolderId,
    /// The sharee.
    pub user: PrincipalName,
    /// What the sharee holds.
    pub permission: Permission,
}

/// An invitation to share a folder (rules F4, F5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The folder it shares.
    pub folder: FolderId,
    /// Who invited.
    pub inviter: PrincipalName,
    /// Who is invited.
    pub invitee: PrincipalName,
    /// The permission offered.
    pub permission: Permission,
    /// Where it is in the state machine of rule F5.
    pub state: InvitationState,
    /// When it was made.
    pub created: Timestamp,
}

/// Which invitations a store lookup wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationKey {
    /// Those sent to this user.
    Invitee(PrincipalName),
    /// Those sent by this user.
    Inviter(PrincipalName),
    /// Those of this folder.
    Folder(FolderId),
}

/// A VM (rule V1), created in a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vm {
    /// Its id; its URI is `vm://C/{id}`, its drives below it.
    pub id: VmId,
    /// Its name (the rules of [`FolderName`]).
    pub name: FolderName,
    /// The team (a group) it was created in.
    pub team: PrincipalName,
    /// Who created it; holds `manage` on it.
    pub owner: PrincipalName,
}

/// An event of the invitation state machine (rule F5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationEvent {
    /// The invitee accepts.
    Accept,
    /// The invitee rejects.
    Reject,
    /// The inviter or a folder manager cancels.
    Cancel,
    /// The inviter changes the permission offered.
    ChangePermission(Permission),
}

impl InvitationEvent {
    /// The event's name, for messages and the changelog.
    pub const fn as_str(self) -> &'static str {
        match self {
            InvitationEvent::Accept => "accept",
            InvitationEvent::Reject => "reject",
            InvitationEvent::Cancel => "cancel",
            InvitationEvent::ChangePermission(_) => "change the permission of",
        }
    }
}

/// How the actor of an event stands to the invitation (an actor may be several at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvitationParty {
    /// The actor is the invitee.
    pub invitee: bool,
    /// The actor is the inviter.
    pub inviter: bool,
    /// The actor holds `manage` on the folder.
    pub manager: bool,
}

/// The invitation state machine of rule F5, a pure function: the state after `event` by
/// an actor standing as `party` to an invitation in `state`, or the typed error refusing
/// it. The party is checked first ([`Error::NotPermitted`]), then the state
/// ([`Error::Conflict`]): end states are final.
///
/// - `pending -> accepted | rejected`: by the invitee only;
/// - `pending -> canceled`: by the inviter or a manager of the folder;
/// - `pending -> pending` with a new permission: by the inviter only.
pub fn transition(
    state: InvitationState,
    event: InvitationEvent,
    party: InvitationParty,
) -> Result<InvitationState> {
    let (allowed, who, next) = match event {
        InvitationEvent::Accept => (party.invitee, "the invitee", InvitationState::Accepted),
        InvitationEvent::Reject => (party.invitee, "the invitee", InvitationState::Rejected),
        InvitationEvent::Cancel => (
            party.inviter || party.manager,
            "the inviter or a manager of the folder",
            InvitationState::Canceled,
        ),
        InvitationEvent::ChangePermission(_) => {
            (party.inviter, "the inviter", InvitationState::Pending)
        }
    };
    if !allowed {
        return Err(Error::NotPermitted(format!(
            "only {who} may {} an invitation",
            event.as_str()
        )));
    }
    if state.is_final() {
        return Err(Error::Conflict(format!(
            "the invitation is already {state}: it cannot be {}",
            match event {
                InvitationEvent::Accept => "accepted",
                InvitationEvent::Reject => "rejected",
                InvitationEvent::Cancel => "canceled",
                InvitationEvent::ChangePermission(_) => "changed",
            }
        )));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const INVITEE: InvitationParty = InvitationParty {
        invitee: true,
        inviter: false,
        manager: false,
    };
    const INVITER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: true,
        manager: true,
    };
    const MANAGER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: false,
        manager: true,
    };
    const STRANGER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: false,
        manager: false,
    };

    // rule F5: the whole table of the state machine
    #[test]
    fn f5_transition_table() {
        use InvitationEvent::*;
        use InvitationState::*;
        let change = ChangePermission(Permission::ReadWrite);
        let ok = [
            (Pending, Accept, INVITEE, Accepted),
            (Pending, Reject, INVITEE, Rejected),
            (Pending, Cancel, INVITER, Canceled),
            (Pending, Cancel, MANAGER, Canceled),
            (Pending, change, INVITER, Pending),
        ];
        for (state, event, party, next) in ok {
            assert_eq!(transition(state, event, party).unwrap(), next);
        }
        let forbidden = [
            (Accept, INVITER),
            (Accept, MANAGER),
            (Accept, STRANGER),
            (Reject, INVITER),
            (Reject, STRANGER),
            (Cancel, INVITEE),
            (Cancel, STRANGER),
            (change, INVITEE),
            (change, MANAGER),
        ];
        for (event, party) in forbidden {
            for state in InvitationState::ALL {
                let err = transition(*state, event, party).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Forbidden, "{state} {event:?}");
            }
        }
        for state in [Accepted, Rejected, Canceled] {
            for (event, party) in [
                (Accept, INVITEE),
                (Reject, INVITEE),
                (Cancel, INVITER),
                (change, INVITER),
            ] {
                let err = transition(state, event, party).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Conflict, "{state} {event:?}");
                assert!(err.to_string().contains(state.as_str()), "{err}");
            }
        }
    }

    // rule F2: names
    #[test]
    fn f2_names() {
        for good in ["a", "data-1", "x.y_z", ".private", &"n".repeat(64)] {
            assert!(FolderName::new(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", &"n".repeat(65)] {
            let err = FolderName::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert!(FolderName::new(".p").unwrap().is_private());
        assert!(!FolderName::new("p.").unwrap().is_private());
        assert!(FolderId::new(".f").is_err());
        assert_eq!(Permission::parse("ro").unwrap().level(), Level::Read);
        assert_eq!(Permission::parse("rw").unwrap().level(), Level::Write);
        assert!(Permission::parse("wd").is_err());
        assert_eq!(VmShareMode::parse("co-own").unwrap().level(), Level::Manage);
    }
}
