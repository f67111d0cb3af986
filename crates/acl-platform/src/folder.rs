//! Backend.AI folders, shares and invitations (rules F1 to F9), and VMs (rules V1 to V3):
//! the typed rows the stores keep and the pure invitation state machine of rule F5.
//!
//! Access is always grants: these rows record what the workflows of
//! [`crate::Engine`] did (a share row goes with the sharee's grant on the folder's URI), so
//! a check never reads them.

use std::fmt;

use serde::{Deserialize, Serialize};

use acl_core::Level;
use acl_core::Timestamp;
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Error, Result, clip};
use acl_core::{InvitationState, Uri};

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
    /// The schema's action for mounting a folder with this permission (rule F9):
    /// `mount-ro` or `mount-rw`, which the schema maps to `read` and `write`.
    pub const fn mount_action(self) -> &'static str {
        match self {
            Permission::ReadOnly => "mount-ro",
            Permission::ReadWrite => "mount-rw",
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use acl_core::ErrorKind;

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
