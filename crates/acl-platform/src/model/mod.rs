//! Model files: a whole permission model in one YAML file (docs/model.schema.json), kept in
//! a repository, reviewed and tested like code (`acl test`, `acl validate`).
//!
//! A model names a cluster, its users, groups, roles, memberships, grants, forbids,
//! folders, shares, group folders, VMs, VM shares and fences, and the assertions the
//! model must satisfy: `allowed` / `denied`, `level`, `reason`, `who` and `list`.
//!
//! - [`parse`] turns the text into a [`Model`], checking syntax, types, value forms (URIs,
//!   levels, names), duplicate entries and references to undeclared principals, folders
//!   and VMs, each [`Problem`] at the line and column of the node at fault.
//! - [`load_fresh`] initializes a fresh store with the model; [`apply`] adds a model to
//!   an initialized one. Both go through the platform's own mutations (`create_user`,
//!   `add_role`, `grant`, `create_folder`, `invite` and `accept_invitation`, `create_vm`,
//!   `share_vm`, `add_fence`, `set_active`), so loading adds no rule of its own: what the
//!   engine refuses (a cycle, a share outside a VM's team, ...) is a problem at the entry.
//! - [`run_assertions`] answers each assertion with the engine's own evaluator (check,
//!   check_action, explain, who, list) and reports the actual decision of each failure.
//! - [`export`] reads a store back into a [`Model`] and [`Model::to_yaml`] writes it, so an
//!   import followed by an export gives an equal model ([`Model::same_as`]).

mod export;
mod load;
mod parse;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;

use acl_core::{ClusterName, Level, PrincipalName, Uri};

use crate::folder::{FolderName, Permission, VmShareMode};

pub use export::export;
pub use load::{Failure, Loaded, MODEL_IMPORT, Outcome, apply, load_fresh, run_assertions};
pub use parse::parse;

/// A position in a model file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One thing wrong with a model file, at the node at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub pos: Pos,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    pub(crate) fn at(pos: Pos, message: impl Into<String>) -> Problem {
        Problem {
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

/// An entry of a model and where it was written; equality ignores the positions.
#[derive(Debug, Clone)]
pub struct At<T> {
    /// Where the entry starts in its file.
    pub pos: Pos,
    /// The entry.
    pub item: T,
    /// Where each of its fields' values starts (`principal`, `uri`, ...; an assertion's
    /// fields too), for problems about one field.
    pub fields: BTreeMap<String, Pos>,
}

impl<T> At<T> {
    /// The position of field `key`'s value, or else of the entry.
    pub fn field(&self, key: &str) -> Pos {
        self.fields.get(key).copied().unwrap_or(self.pos)
    }
}

impl<T: PartialEq> PartialEq for At<T> {
    fn eq(&self, other: &At<T>) -> bool {
        self.item == other.item
    }
}

/// A folder or VM named by its owner and name: `alice/tests`, `research/shared`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemRef {
    /// The owner: a user, or the group of a group folder; a VM's creator.
    pub owner: PrincipalName,
    /// The folder's or VM's name.
    pub name: FolderName,
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name.as_str())
    }
}

/// What an entry or an assertion is about: a URI, or a folder or VM of the model (whose
/// URI holds an id the store gives when it is created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An absolute URI (short forms are resolved when the file is parsed).
    Uri(Uri),
    /// `folder: owner/name`.
    Folder(ItemRef),
    /// `vm: owner/name`.
    Vm(ItemRef),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Uri(uri) => write!(f, "`{uri}`"),
            Target::Folder(folder) => write!(f, "folder `{folder}`"),
            Target::Vm(vm) => write!(f, "vm `{vm}`"),
        }
    }
}

/// A user of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Its name.
    pub name: PrincipalName,
    /// Whether it is active (rule E1); inactive users are deactivated after loading.
    pub active: bool,
}

/// A membership (rule P2): `member` holds `level` (read or more) on `role://{role}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEntry {
    /// The member.
    pub member: PrincipalName,
    /// The role or group.
    pub role: PrincipalName,
    /// `read` unless given; `manage` also lets the member change the role.
    pub level: Level,
}

/// A grant, or a forbid (rule E3) when `level` is deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantEntry {
    /// The grantee.
    pub principal: PrincipalName,
    /// What is granted.
    pub target: Target,
    /// The level; `deny` in `forbids`.
    pub level: Level,
    /// Who grants (it needs `manage` there): the model's admin unless given.
    pub by: Option<PrincipalName>,
}

/// A fence (rule E4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceEntry {
    /// The fenced subtree.
    pub target: Target,
    /// The group whose members alone reach it.
    pub group: PrincipalName,
}

/// A user folder (rule F1), created by its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// The owner and name.
    pub folder: ItemRef,
    /// The storage host.
    pub host: String,
}

/// A group (project) folder (rule F8), created by the model's admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFolderEntry {
    /// The group and name.
    pub folder: ItemRef,
    /// What every member gets.
    pub permission: Permission,
    /// The storage host.
    pub host: String,
}

/// A share (rules F4 to F6): the owner invites, the user accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEntry {
    /// The folder.
    pub folder: ItemRef,
    /// The sharee.
    pub user: PrincipalName,
    /// ro or rw.
    pub permission: Permission,
}

/// A VM (rule V1), created by its owner in its team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmEntry {
    /// The creator and name.
    pub vm: ItemRef,
    /// The team (a group the creator is in).
    pub team: PrincipalName,
}

/// A VM share (rules V1, V2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmShareEntry {
    /// The VM.
    pub vm: ItemRef,
    /// The grantee.
    pub user: PrincipalName,
    /// use or co-own.
    pub mode: VmShareMode,
    /// Who shares: the VM's creator unless given.
    pub by: Option<PrincipalName>,
}

/// What an `allowed` or `denied` assertion asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A level.
    Level(Level),
    /// An action of the target's scheme (rule E5).
    Action(String),
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wanted::Level(level) => write!(f, "{level}"),
            Wanted::Action(action) => write!(f, "action `{action}`"),
        }
    }
}

/// An assertion of a model file, answered by the engine's evaluator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assertion {
    /// `check(principal, target, wanted)` is true.
    Allowed {
        /// Who.
        principal: PrincipalName,
        /// On what.
        target: Target,
        /// A level or an action.
        wanted: Wanted,
    },
    /// `check(principal, target, wanted)` is false.
    Denied {
        /// Who.
        principal: PrincipalName,
        /// On what.
        target: Target,
        /// A level or an action.
        wanted: Wanted,
    },
    /// The effective level is exactly `is`.
    Level {
        /// Who.
        principal: PrincipalName,
        /// On what.
        target: Target,
        /// The expected effective level.
        is: Level,
    },
    /// explain's reason kind (`grant`, `forbid`, `fence`, `implicit_list`, `no_grant`,
    /// `unknown_principal`, `inactive_user`) and, when given, the deciding holder (the
    /// grant's or forbid's holder, or the fence's group).
    Reason {
        /// Who.
        principal: PrincipalName,
        /// On what.
        target: Target,
        /// The reason's kind.
        kind: String,
        /// The deciding holder.
        holder: Option<PrincipalName>,
    },
    /// `who(target, level)` is exactly `users`.
    Who {
        /// On what.
        target: Target,
        /// The least level.
        level: Level,
        /// The users, in any order.
        users: Vec<PrincipalName>,
    },
    /// `list(principal, under)` is exactly `reaches` (URI and effective level).
    List {
        /// Who.
        principal: PrincipalName,
        /// The prefix.
        under: Target,
        /// What it reaches, in any order.
        reaches: Vec<(Target, Level)>,
    },
}

/// The reason kinds a `reason` assertion may name: those of [`acl_core::Reason::kind`].
pub const REASON_KINDS: &[&str] = &[
    "grant",
    "implicit_list",
    "forbid",
    "fence",
    "no_grant",
    "unknown_principal",
    "inactive_user",
];

/// A whole model: the entities, their grants and the assertions about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// What the model is (free text).
    pub description: Option<String>,
    /// The cluster.
    pub cluster: ClusterName,
    /// The admin user init creates; it performs every entry that names no actor.
    pub admin: PrincipalName,
    /// Users.
    pub users: Vec<At<UserEntry>>,
    /// Groups (teams, projects).
    pub groups: Vec<At<PrincipalName>>,
    /// Roles.
    pub roles: Vec<At<PrincipalName>>,
    /// Memberships.
    pub memberships: Vec<At<MembershipEntry>>,
    /// Grants.
    pub grants: Vec<At<GrantEntry>>,
    /// Forbids (grants of deny).
    pub forbids: Vec<At<GrantEntry>>,
    /// User folders.
    pub folders: Vec<At<FolderEntry>>,
    /// Shares of user folders.
    pub shares: Vec<At<ShareEntry>>,
    /// Group folders.
    pub group_folders: Vec<At<GroupFolderEntry>>,
    /// VMs.
    pub vms: Vec<At<VmEntry>>,
    /// VM shares.
    pub vm_shares: Vec<At<VmShareEntry>>,
    /// Fences.
    pub fences: Vec<At<FenceEntry>>,
    /// Assertions.
    pub assertions: Vec<At<Assertion>>,
}

impl Model {
    /// An empty model of `cluster` with `admin`.
    pub fn new(cluster: ClusterName, admin: PrincipalName) -> Model {
        Model {
            description: None,
            cluster,
            admin,
            users: Vec::new(),
            groups: Vec::new(),
            roles: Vec::new(),
            memberships: Vec::new(),
            grants: Vec::new(),
            forbids: Vec::new(),
            folders: Vec::new(),
            shares: Vec::new(),
            group_folders: Vec::new(),
            vms: Vec::new(),
            vm_shares: Vec::new(),
            fences: Vec::new(),
            assertions: Vec::new(),
        }
    }

    /// How many entries of each kind the model has (assertions aside), in the order
    /// [`apply`] loads them.
    pub fn entry_counts(&self) -> [(&'static str, usize); 12] {
        [
            ("users", self.users.len()),
            ("groups", self.groups.len()),
            ("roles", self.roles.len()),
            ("memberships", self.memberships.len()),
            ("folders", self.folders.len()),
            ("group folders", self.group_folders.len()),
            ("shares", self.shares.len()),
            ("vms", self.vms.len()),
            ("vm shares", self.vm_shares.len()),
            ("grants", self.grants.len()),
            ("forbids", self.forbids.len()),
            ("fences", self.fences.len()),
        ]
    }

    /// How many entries the model has, assertions aside.
    pub fn entries(&self) -> usize {
        self.entry_counts().iter().map(|(_, n)| n).sum()
    }

    /// Whether two models describe the same state: the same cluster, admin and entries,
    /// in any order, positions, descriptions and assertions aside, and written either way
    /// where two ways mean one thing: a grant of read or more on exactly `role://R` of a
    /// declared R is a membership (rule P2), and who performed a grant or share (`by`)
    /// is not part of the state.
    pub fn same_as(&self, other: &Model) -> bool {
        let (a, b) = (self.normalized(), other.normalized());
        a.same_entries(&b)
    }

    /// The model with memberships written as memberships and no `by`.
    fn normalized(&self) -> Model {
        let mut model = self.clone();
        let declared: std::collections::BTreeSet<&PrincipalName> = self
            .users
            .iter()
            .map(|u| &u.item.name)
            .chain(self.groups.iter().map(|g| &g.item))
            .chain(self.roles.iter().map(|r| &r.item))
            .collect();
        let mut grants = Vec::new();
        for mut grant in std::mem::take(&mut model.grants) {
            grant.item.by = None;
            let role = match &grant.item.target {
                Target::Uri(uri) => uri.role_name().filter(|r| {
                    declared.contains(r) || r.as_str().starts_with(&format!("{}/", self.cluster))
                }),
                _ => None,
            };
            match role {
                Some(role) if grant.item.level >= Level::Read => {
                    model.memberships.push(At {
                        pos: grant.pos,
                        item: MembershipEntry {
                            member: grant.item.principal,
                            role,
                            level: grant.item.level,
                        },
                        fields: BTreeMap::new(),
                    });
                }
                _ => grants.push(grant),
            }
        }
        model.grants = grants;
        for forbid in &mut model.forbids {
            forbid.item.by = None;
        }
        for share in &mut model.vm_shares {
            share.item.by = None;
        }
        model
    }

    fn same_entries(&self, other: &Model) -> bool {
        fn sorted<T: fmt::Debug>(items: &[At<T>]) -> Vec<String> {
            let mut keys: Vec<String> = items.iter().map(|i| format!("{:?}", i.item)).collect();
            keys.sort();
            keys
        }
        self.cluster == other.cluster
            && self.admin == other.admin
            && sorted(&self.users) == sorted(&other.users)
            && sorted(&self.groups) == sorted(&other.groups)
            && sorted(&self.roles) == sorted(&other.roles)
            && sorted(&self.memberships) == sorted(&other.memberships)
            && sorted(&self.grants) == sorted(&other.grants)
            && sorted(&self.forbids) == sorted(&other.forbids)
            && sorted(&self.folders) == sorted(&other.folders)
            && sorted(&self.shares) == sorted(&other.shares)
            && sorted(&self.group_folders) == sorted(&other.group_folders)
            && sorted(&self.vms) == sorted(&other.vms)
            && sorted(&self.vm_shares) == sorted(&other.vm_shares)
            && sorted(&self.fences) == sorted(&other.fences)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use acl_core::Schema;

    const TEXT: &str = "\
description: a test
cluster: c
users: [alice, {name: bob, active: false}]
groups: [team]
roles: [alice/roles/r]
memberships:
  - {member: alice, role: team, level: manage}
grants:
  - {principal: alice/roles/r, uri: \"storage:data\", level: read, by: alice}
  - {principal: bob, uri: \"role://alice/roles/r\", level: read, by: alice}
forbids:
  - {principal: bob, uri: \"storage://c/alice/data/private\"}
folders: [{name: tests, owner: alice}]
shares: [{folder: alice/tests, user: bob, permission: rw}]
group_folders: [{name: shared, group: team, permission: ro}]
vms: [{name: box, owner: alice, team: team}]
vm_shares: [{vm: alice/box, user: bob, mode: co-own, by: alice}]
fences: [{vm: alice/box, group: team}]
assertions:
  - allowed: {principal: bob, folder: alice/tests, action: write}
";

    // rule U2: short forms resolve against `by`; positions are 1-based at the entry
    #[test]
    fn parses_every_section_with_positions() {
        let model = parse(TEXT, &Schema::standard()).unwrap();
        assert_eq!(model.description.as_deref(), Some("a test"));
        assert_eq!(model.users.len(), 2);
        assert!(!model.users[1].item.active);
        assert_eq!(model.memberships[0].item.level, Level::Manage);
        let Target::Uri(uri) = &model.grants[0].item.target else {
            panic!("a uri")
        };
        assert_eq!(uri.as_str(), "storage://c/alice/data");
        assert_eq!(model.grants[0].pos, Pos { line: 9, column: 5 });
        assert_eq!(
            model.grants[0].field("level"),
            Pos {
                line: 9,
                column: 60
            }
        );
        assert_eq!(model.forbids[0].item.level, Level::Deny);
        assert_eq!(model.vm_shares[0].item.mode, VmShareMode::CoOwn);
        assert_eq!(model.assertions.len(), 1);
    }

    // rule P2: a read grant on role://R is the membership; `by` is not state
    #[test]
    fn same_as_normalizes_memberships_and_actors() {
        let model = parse(TEXT, &Schema::standard()).unwrap();
        let written = model.to_yaml();
        let back = parse(&written, &Schema::standard()).unwrap();
        assert!(model.same_as(&back), "{written}");
        assert!(back.assertions.is_empty(), "export writes no assertion");
        let mut other = back.clone();
        other.users.pop();
        assert!(!model.same_as(&other));
        let mut other = back;
        other.grants[0].item.level = Level::Write;
        assert!(!model.same_as(&other));
    }
}
