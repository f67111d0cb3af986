//! The model file's parser: YAML nodes to a [`Model`], every problem at its node.
//!
//! Values are validated by the typed constructors of the kernel and the platform
//! (`ClusterName`, `PrincipalName`, `Schema::uri`, `Level`, `FolderName`, `Permission`,
//! `VmShareMode`): the file adds no rule of its own about what a valid name or URI is.

use std::collections::{BTreeMap, BTreeSet};

use acl_core::{ClusterName, Level, PrincipalName, Schema, Uri, UriContext};

use super::yaml::{self, Node, Value};
use super::{
    Assertion, At, FenceEntry, FolderEntry, GrantEntry, GroupFolderEntry, ItemRef, MembershipEntry,
    Model, Pos, Problem, REASON_KINDS, ShareEntry, Target, UserEntry, VmEntry, VmShareEntry,
    Wanted,
};
use crate::folder::{FolderName, Permission, VmShareMode};

/// The top-level keys, in the order a model is written.
const TOP: &[&str] = &[
    "description",
    "cluster",
    "admin",
    "users",
    "groups",
    "roles",
    "memberships",
    "grants",
    "forbids",
    "folders",
    "shares",
    "group_folders",
    "vms",
    "vm_shares",
    "fences",
    "assertions",
];

/// Parses a model file's text against `schema` (URIs of its schemes; short forms resolve
/// against the cluster and the entry's actor or principal, rule U2). Every problem found
/// is returned, each at the node at fault, sorted by position; none means the model is
/// well formed and refers only to what it declares (what the engine refuses on loading is
/// found by [`load_fresh`](super::load_fresh)).
pub fn parse(text: &str, schema: &Schema) -> Result<Model, Vec<Problem>> {
    let root = yaml::parse(text).map_err(|p| vec![p])?;
    let mut p = Parser {
        schema,
        problems: Vec::new(),
        cluster: None,
        admin: None,
    };
    let model = p.model(&root);
    let mut problems = p.problems;
    if let Some(model) = &model {
        problems.extend(references(model));
    }
    problems.sort_by_key(|p| p.pos);
    match model {
        Some(model) if problems.is_empty() => Ok(model),
        _ => Err(problems),
    }
}

struct Parser<'s> {
    schema: &'s Schema,
    problems: Vec<Problem>,
    cluster: Option<ClusterName>,
    admin: Option<PrincipalName>,
}

/// A mapping's fields, checked for unknown and duplicate keys.
struct Fields<'n> {
    pos: Pos,
    entries: Vec<(&'n str, &'n Node)>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }
}

impl Parser<'_> {
    fn problem(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(Problem::at(pos, message));
    }

    /// The fields of a mapping node, refusing keys outside `allowed` and duplicates.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.problem(
                node.pos,
                format!("{what} must be a mapping, not {}", node.type_name()),
            );
            return None;
        };
        let mut fields = Fields {
            pos: node.pos,
            entries: Vec::new(),
        };
        for (key, value) in entries {
            let Some(name) = key.text() else {
                self.problem(key.pos, format!("a key of {what} must be a string"));
                continue;
            };
            if !allowed.contains(&name) {
                self.problem(
                    key.pos,
                    format!(
                        "unknown key `{name}` in {what}: expected one of {}",
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            if fields.entries.iter().any(|(k, _)| *k == name) {
                self.problem(key.pos, format!("duplicate key `{name}` in {what}"));
                continue;
            }
            fields.entries.push((name, value));
        }
        Some(fields)
    }

    fn required<'n>(&mut self, fields: &Fields<'n>, key: &str, what: &str) -> Option<&'n Node> {
        let node = fields.get(key);
        if node.is_none() {
            self.problem(fields.pos, format!("{what} needs `{key}`"));
        }
        node
    }

    fn text<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        let text = node.text();
        if text.is_none() {
            self.problem(
                node.pos,
                format!("{what} must be a string, not {}", node.type_name()),
            );
        }
        text
    }

    fn seq<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match &node.value {
            Value::Seq(items) => items,
            _ if node.is_null() => &[],
            _ => {
                self.problem(
                    node.pos,
                    format!("{what} must be a sequence, not {}", node.type_name()),
                );
                &[]
            }
        }
    }

    /// A value made by a typed constructor; its error is the problem at the node.
    fn typed<T, E: std::fmt::Display>(
        &mut self,
        node: &Node,
        what: &str,
        make: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(node, what)?;
        match make(text) {
            Ok(value) => Some(value),
            Err(err) => {
                self.problem(node.pos, format!("{what}: {err}"));
                None
            }
        }
    }

    fn principal(&mut self, node: &Node, what: &str) -> Option<PrincipalName> {
        self.typed(node, what, PrincipalName::new)
    }

    fn level(&mut self, node: &Node, what: &str) -> Option<Level> {
        self.typed(node, what, |t| t.parse::<Level>())
    }

    fn uri(&mut self, node: &Node, context: Option<&PrincipalName>) -> Option<Uri> {
        let schema = self.schema;
        let context = match (&self.cluster, context) {
            (Some(cluster), Some(user)) => Some(UriContext {
                cluster: cluster.clone(),
                user: user.clone(),
            }),
            _ => None,
        };
        self.typed(node, "uri", |t| schema.uri(t, context.as_ref()))
    }

    fn item_ref(&mut self, node: &Node, what: &str) -> Option<ItemRef> {
        let text = self.text(node, what)?;
        let Some((owner, name)) = text.rsplit_once('/') else {
            self.problem(
                node.pos,
                format!("{what} `{text}` must be `owner/name` (its owner, a slash, its name)"),
            );
            return None;
        };
        let owner = match PrincipalName::new(owner) {
            Ok(owner) => owner,
            Err(err) => {
                self.problem(node.pos, format!("{what}: {err}"));
                return None;
            }
        };
        match FolderName::new(name) {
            Ok(name) => Some(ItemRef { owner, name }),
            Err(err) => {
                self.problem(node.pos, format!("{what}: {err}"));
                None
            }
        }
    }

    /// Exactly one of `uri`, `folder` and `vm` (with `key` naming the URI's own key).
    fn target(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        what: &str,
        context: Option<&PrincipalName>,
    ) -> Option<Target> {
        let given: Vec<&str> = [key, "folder", "vm"]
            .into_iter()
            .filter(|k| fields.get(k).is_some())
            .collect();
        match given.as_slice() {
            [one] => {
                let node = fields.get(one)?;
                match *one {
                    "folder" => self.item_ref(node, "folder").map(Target::Folder),
                    "vm" => self.item_ref(node, "vm").map(Target::Vm),
                    _ => self.uri(node, context).map(Target::Uri),
                }
            }
            [] => {
                self.problem(
                    fields.pos,
                    format!("{what} needs one of `{key}`, `folder`, `vm`"),
                );
                None
            }
            _ => {
                self.problem(
                    fields.pos,
                    format!("{what} takes only one of `{key}`, `folder`, `vm`"),
                );
                None
            }
        }
    }

    fn model(&mut self, root: &Node) -> Option<Model> {
        let top = self.fields(root, "the model", TOP)?;
        let cluster = match self.required(&top, "cluster", "the model") {
            Some(node) => self.typed(node, "cluster", ClusterName::new),
            None => None,
        };
        self.cluster = cluster.clone();
        let admin = match top.get("admin") {
            Some(node) => self.principal(node, "admin"),
            None => PrincipalName::new("admin").ok(),
        };
        let description = top
            .get("description")
            .and_then(|n| self.text(n, "description"));
        self.admin = admin.clone();
        let (cluster, admin) = (cluster?, admin?);
        let mut model = Model::new(cluster, admin.clone());
        model.description = description.map(str::to_owned);
        let list = |p: &mut Self, key: &str| -> Vec<&Node> {
            top.get(key)
                .map(|n| p.seq(n, key).iter().collect())
                .unwrap_or_default()
        };
        for node in list(self, "users") {
            let item = match &node.value {
                Value::Scalar { .. } => self
                    .principal(node, "user")
                    .map(|name| UserEntry { name, active: true }),
                _ => self.user(node),
            };
            push(&mut model.users, node, item);
        }
        for (key, out) in [("groups", &mut model.groups), ("roles", &mut model.roles)] {
            for node in list(self, key) {
                let item = self.principal(node, key.trim_end_matches('s'));
                push(out, node, item);
            }
        }
        for node in list(self, "memberships") {
            let item = self.membership(node);
            push(&mut model.memberships, node, item);
        }
        for node in list(self, "grants") {
            let item = self.grant(node, false);
            push(&mut model.grants, node, item);
        }
        for node in list(self, "forbids") {
            let item = self.grant(node, true);
            push(&mut model.forbids, node, item);
        }
        for node in list(self, "folders") {
            let item = self.folder(node);
            push(&mut model.folders, node, item);
        }
        for node in list(self, "shares") {
            let item = self.share(node);
            push(&mut model.shares, node, item);
        }
        for node in list(self, "group_folders") {
            let item = self.group_folder(node);
            push(&mut model.group_folders, node, item);
        }
        for node in list(self, "vms") {
            let item = self.vm(node);
            push(&mut model.vms, node, item);
        }
        for node in list(self, "vm_shares") {
            let item = self.vm_share(node);
            push(&mut model.vm_shares, node, item);
        }
        for node in list(self, "fences") {
            let item = self.fence(node, &admin);
            push(&mut model.fences, node, item);
        }
        for node in list(self, "assertions") {
            let item = self.assertion(node, &admin);
            push(&mut model.assertions, node, item);
        }
        Some(model)
    }

    fn user(&mut self, node: &Node) -> Option<UserEntry> {
        let f = self.fields(node, "a user", &["name", "active"])?;
        let name = self.required(&f, "name", "a user");
        let name = name.and_then(|n| self.principal(n, "user"));
        let active = match f.get("active") {
            Some(node) => self.boolean(node, "active")?,
            None => true,
        };
        Some(UserEntry {
            name: name?,
            active,
        })
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.text() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                self.problem(node.pos, format!("{what} must be true or false"));
                None
            }
        }
    }

    fn membership(&mut self, node: &Node) -> Option<MembershipEntry> {
        let what = "a membership";
        let f = self.fields(node, what, &["member", "role", "level"])?;
        let member = self.required(&f, "member", what);
        let member = member.and_then(|n| self.principal(n, "member"));
        let role = self.required(&f, "role", what);
        let role = role.and_then(|n| self.principal(n, "role"));
        let level = match f.get("level") {
            Some(node) => {
                let level = self.level(node, "level")?;
                if level < Level::Read {
                    self.problem(
                        node.pos,
                        format!("a membership is read or more (rule P2), not {level}"),
                    );
                    return None;
                }
                level
            }
            None => Level::Read,
        };
        Some(MembershipEntry {
            member: member?,
            role: role?,
            level,
        })
    }

    fn grant(&mut self, node: &Node, forbid: bool) -> Option<GrantEntry> {
        let what = if forbid { "a forbid" } else { "a grant" };
        let keys: &[&str] = if forbid {
            &["principal", "uri", "folder", "vm", "by"]
        } else {
            &["principal", "uri", "folder", "vm", "level", "by"]
        };
        let f = self.fields(node, what, keys)?;
        let principal = self.required(&f, "principal", what);
        let principal = principal.and_then(|n| self.principal(n, "principal"));
        let by = match f.get("by") {
            Some(node) => Some(self.principal(node, "by")?),
            None => None,
        };
        let context = by.clone().or_else(|| self.admin_hint());
        let target = self.target(&f, "uri", what, context.as_ref());
        let level = if forbid {
            Some(Level::Deny)
        } else {
            let node = self.required(&f, "level", what);
            match node.and_then(|n| self.level(n, "level").map(|l| (n, l))) {
                Some((node, Level::Deny)) => {
                    self.problem(
                        node.pos,
                        "a grant of deny is a forbid: write it under `forbids`",
                    );
                    None
                }
                other => other.map(|(_, level)| level),
            }
        };
        Some(GrantEntry {
            principal: principal?,
            target: target?,
            level: level?,
            by,
        })
    }

    /// The model's admin, for short URIs of entries naming no actor (known before any
    /// entry is read).
    fn admin_hint(&self) -> Option<PrincipalName> {
        self.admin.clone()
    }

    fn folder(&mut self, node: &Node) -> Option<FolderEntry> {
        let what = "a folder";
        let f = self.fields(node, what, &["name", "owner", "host"])?;
        let name = self.required(&f, "name", what);
        let name = name.and_then(|n| self.typed(n, "name", FolderName::new));
        let owner = self.required(&f, "owner", what);
        let owner = owner.and_then(|n| self.principal(n, "owner"));
        let host = self.host(&f)?;
        Some(FolderEntry {
            folder: ItemRef {
                owner: owner?,
                name: name?,
            },
            host,
        })
    }

    fn host(&mut self, f: &Fields<'_>) -> Option<String> {
        match f.get("host") {
            Some(node) => self.text(node, "host").map(str::to_owned),
            None => Some("local".to_owned()),
        }
    }

    fn group_folder(&mut self, node: &Node) -> Option<GroupFolderEntry> {
        let what = "a group folder";
        let f = self.fields(node, what, &["name", "group", "permission", "host"])?;
        let name = self.required(&f, "name", what);
        let name = name.and_then(|n| self.typed(n, "name", FolderName::new));
        let group = self.required(&f, "group", what);
        let group = group.and_then(|n| self.principal(n, "group"));
        let permission = match f.get("permission") {
            Some(node) => self.typed(node, "permission", Permission::parse),
            None => Some(Permission::ReadOnly),
        };
        let host = self.host(&f)?;
        Some(GroupFolderEntry {
            folder: ItemRef {
                owner: group?,
                name: name?,
            },
            permission: permission?,
            host,
        })
    }

    fn share(&mut self, node: &Node) -> Option<ShareEntry> {
        let what = "a share";
        let f = self.fields(node, what, &["folder", "user", "permission"])?;
        let folder = self.required(&f, "folder", what);
        let folder = folder.and_then(|n| self.item_ref(n, "folder"));
        let user = self.required(&f, "user", what);
        let user = user.and_then(|n| self.principal(n, "user"));
        let permission = self.required(&f, "permission", what);
        let permission = permission.and_then(|n| self.typed(n, "permission", Permission::parse));
        Some(ShareEntry {
            folder: folder?,
            user: user?,
            permission: permission?,
        })
    }

    fn vm(&mut self, node: &Node) -> Option<VmEntry> {
        let what = "a vm";
        let f = self.fields(node, what, &["name", "owner", "team"])?;
        let name = self.required(&f, "name", what);
        let name = name.and_then(|n| self.typed(n, "name", FolderName::new));
        let owner = self.required(&f, "owner", what);
        let owner = owner.and_then(|n| self.principal(n, "owner"));
        let team = self.required(&f, "team", what);
        let team = team.and_then(|n| self.principal(n, "team"));
        Some(VmEntry {
            vm: ItemRef {
                owner: owner?,
                name: name?,
            },
            team: team?,
        })
    }

    fn vm_share(&mut self, node: &Node) -> Option<VmShareEntry> {
        let what = "a vm share";
        let f = self.fields(node, what, &["vm", "user", "mode", "by"])?;
        let vm = self.required(&f, "vm", what);
        let vm = vm.and_then(|n| self.item_ref(n, "vm"));
        let user = self.required(&f, "user", what);
        let user = user.and_then(|n| self.principal(n, "user"));
        let mode = self.required(&f, "mode", what);
        let mode = mode.and_then(|n| self.typed(n, "mode", VmShareMode::parse));
        let by = match f.get("by") {
            Some(node) => Some(self.principal(node, "by")?),
            None => None,
        };
        Some(VmShareEntry {
            vm: vm?,
            user: user?,
            mode: mode?,
            by,
        })
    }

    fn fence(&mut self, node: &Node, admin: &PrincipalName) -> Option<FenceEntry> {
        let what = "a fence";
        let f = self.fields(node, what, &["uri", "folder", "vm", "group"])?;
        let target = self.target(&f, "uri", what, Some(admin));
        let group = self.required(&f, "group", what);
        let group = group.and_then(|n| self.principal(n, "group"));
        Some(FenceEntry {
            target: target?,
            group: group?,
        })
    }

    fn assertion(&mut self, node: &Node, admin: &PrincipalName) -> Option<Assertion> {
        const KINDS: &[&str] = &["allowed", "denied", "level", "reason", "who", "list"];
        let outer = self.fields(node, "an assertion", KINDS)?;
        let [(kind, body)] = outer.entries.as_slice() else {
            if outer.entries.is_empty() && matches!(&node.value, Value::Map(e) if e.len() == 1) {
                // the one key was unknown, and said so
                return None;
            }
            self.problem(
                node.pos,
                format!(
                    "an assertion is a mapping with one key: one of {}",
                    KINDS.join(", ")
                ),
            );
            return None;
        };
        let what = format!("a `{kind}` assertion");
        match *kind {
            "allowed" | "denied" => {
                let f = self.fields(
                    body,
                    &what,
                    &["principal", "uri", "folder", "vm", "level", "action"],
                )?;
                let principal = self.assertion_principal(&f, &what);
                let target = self.target(&f, "uri", &what, principal.as_ref());
                let wanted = match (f.get("level"), f.get("action")) {
                    (Some(node), None) => {
                        let level = self.level(node, "level")?;
                        if level == Level::Deny {
                            self.problem(
                                node.pos,
                                "checks ask for list, read, write or manage, not deny (rule E5)",
                            );
                            return None;
                        }
                        Some(Wanted::Level(level))
                    }
                    (None, Some(node)) => self
                        .text(node, "action")
                        .map(|a| Wanted::Action(a.to_owned())),
                    _ => {
                        self.problem(f.pos, format!("{what} needs `level` or `action`, not both"));
                        None
                    }
                };
                let (principal, target, wanted) = (principal?, target?, wanted?);
                Some(if *kind == "allowed" {
                    Assertion::Allowed {
                        principal,
                        target,
                        wanted,
                    }
                } else {
                    Assertion::Denied {
                        principal,
                        target,
                        wanted,
                    }
                })
            }
            "level" => {
                let f = self.fields(body, &what, &["principal", "uri", "folder", "vm", "is"])?;
                let principal = self.assertion_principal(&f, &what);
                let target = self.target(&f, "uri", &what, principal.as_ref());
                let is = self.required(&f, "is", &what);
                let is = is.and_then(|n| self.level(n, "is"));
                Some(Assertion::Level {
                    principal: principal?,
                    target: target?,
                    is: is?,
                })
            }
            "reason" => {
                let f = self.fields(
                    body,
                    &what,
                    &["principal", "uri", "folder", "vm", "kind", "holder"],
                )?;
                let principal = self.assertion_principal(&f, &what);
                let target = self.target(&f, "uri", &what, principal.as_ref());
                let kind_node = self.required(&f, "kind", &what);
                let reason = kind_node.and_then(|n| self.text(n, "kind").map(|t| (n, t)));
                let reason = match reason {
                    Some((_, text)) if REASON_KINDS.contains(&text) => Some(text.to_owned()),
                    Some((node, text)) => {
                        self.problem(
                            node.pos,
                            format!(
                                "unknown reason kind `{text}`: expected one of {}",
                                REASON_KINDS.join(", ")
                            ),
                        );
                        None
                    }
                    None => None,
                };
                let holder = match f.get("holder") {
                    Some(node) => Some(self.principal(node, "holder")?),
                    None => None,
                };
                Some(Assertion::Reason {
                    principal: principal?,
                    target: target?,
                    kind: reason?,
                    holder,
                })
            }
            "who" => {
                let f = self.fields(body, &what, &["uri", "folder", "vm", "level", "users"])?;
                let target = self.target(&f, "uri", &what, Some(admin));
                let level = match f.get("level") {
                    Some(node) => self.level(node, "level"),
                    None => Some(Level::Read),
                };
                let users = self.required(&f, "users", &what);
                let users: Option<Vec<PrincipalName>> = users.map(|n| {
                    self.seq(n, "users")
                        .iter()
                        .filter_map(|u| self.principal(u, "user"))
                        .collect()
                });
                Some(Assertion::Who {
                    target: target?,
                    level: level?,
                    users: users?,
                })
            }
            _ => {
                let f = self.fields(
                    body,
                    &what,
                    &["principal", "under", "folder", "vm", "reaches"],
                )?;
                let principal = self.assertion_principal(&f, &what);
                let under = self.target(&f, "under", &what, principal.as_ref());
                let reaches = self.required(&f, "reaches", &what);
                let mut items = Vec::new();
                if let Some(reaches) = reaches {
                    for item in self.seq(reaches, "reaches") {
                        let Some(g) = self.fields(
                            item,
                            "an entry of `reaches`",
                            &["uri", "folder", "vm", "level"],
                        ) else {
                            continue;
                        };
                        let t = self.target(&g, "uri", "an entry of `reaches`", principal.as_ref());
                        let level = self.required(&g, "level", "an entry of `reaches`");
                        let level = level.and_then(|n| self.level(n, "level"));
                        if let (Some(t), Some(level)) = (t, level) {
                            items.push((t, level));
                        }
                    }
                }
                Some(Assertion::List {
                    principal: principal?,
                    under: under?,
                    reaches: items,
                })
            }
        }
    }

    fn assertion_principal(&mut self, f: &Fields<'_>, what: &str) -> Option<PrincipalName> {
        let node = self.required(f, "principal", what)?;
        self.principal(node, "principal")
    }
}

fn push<T>(out: &mut Vec<At<T>>, node: &Node, item: Option<T>) {
    if let Some(item) = item {
        let mut fields = BTreeMap::new();
        collect_fields(node, &mut fields);
        out.push(At {
            pos: node.pos,
            item,
            fields,
        });
    }
}

/// The positions of a mapping's values by key, and of the values of a mapping nested in
/// it (an assertion's body).
fn collect_fields(node: &Node, fields: &mut BTreeMap<String, Pos>) {
    if let Value::Map(entries) = &node.value {
        for (key, value) in entries {
            if let Some(key) = key.text() {
                fields.entry(key.to_owned()).or_insert(value.pos);
            }
            if matches!(value.value, Value::Map(_)) {
                collect_fields(value, fields);
            }
        }
    }
}

/// Duplicate entries and references to principals, folders and VMs the model does not
/// declare (rule E1 would make such a name deny silently, which in a model is a typo).
fn references(model: &Model) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut principals: BTreeMap<String, Pos> = BTreeMap::new();
    let builtin: BTreeSet<String> = ["admin", "manager", "monitor"]
        .iter()
        .map(|r| format!("{}/{r}", model.cluster))
        .chain(std::iter::once(model.admin.to_string()))
        .collect();
    let mut declare = |name: &PrincipalName, pos: Pos, problems: &mut Vec<Problem>| {
        if builtin.contains(name.as_str()) {
            problems.push(Problem::at(
                pos,
                format!("`{name}` is created by init: do not declare it"),
            ));
        } else if let Some(first) = principals.get(name.as_str()) {
            problems.push(Problem::at(
                pos,
                format!("duplicate principal `{name}` (first declared at {first})"),
            ));
        } else {
            principals.insert(name.to_string(), pos);
        }
    };
    for user in &model.users {
        declare(&user.item.name, user.pos, &mut problems);
    }
    for group in model.groups.iter().chain(&model.roles) {
        declare(&group.item, group.pos, &mut problems);
    }
    let users_prefix = format!("{}/users/", model.cluster);
    let known = |name: &PrincipalName| {
        let name = name.as_str();
        let name = name.strip_prefix(&users_prefix).unwrap_or(name);
        principals.contains_key(name) || builtin.contains(name)
    };
    let mut items: BTreeMap<(bool, ItemRef), Pos> = BTreeMap::new();
    let check = |name: &PrincipalName, pos: Pos, problems: &mut Vec<Problem>| {
        if !known(name) {
            problems.push(Problem::at(
                pos,
                format!("unknown principal `{name}`: declare it under users, groups or roles"),
            ));
        }
    };
    let mut keys: BTreeMap<String, Pos> = BTreeMap::new();
    let mut once = |key: String, pos: Pos, what: &str, problems: &mut Vec<Problem>| {
        seen_once(&mut keys, key, pos, what, problems)
    };
    for m in &model.memberships {
        check(&m.item.member, m.field("member"), &mut problems);
        check(&m.item.role, m.field("role"), &mut problems);
        once(
            format!("membership {} {}", m.item.member, m.item.role),
            m.pos,
            "membership",
            &mut problems,
        );
    }
    for folder in &model.folders {
        check(
            &folder.item.folder.owner,
            folder.field("owner"),
            &mut problems,
        );
        dup_item(
            &mut items,
            (false, folder.item.folder.clone()),
            folder.pos,
            "folder",
            &mut problems,
        );
    }
    for folder in &model.group_folders {
        check(
            &folder.item.folder.owner,
            folder.field("group"),
            &mut problems,
        );
        dup_item(
            &mut items,
            (false, folder.item.folder.clone()),
            folder.pos,
            "folder",
            &mut problems,
        );
    }
    for vm in &model.vms {
        check(&vm.item.vm.owner, vm.field("owner"), &mut problems);
        check(&vm.item.team, vm.field("team"), &mut problems);
        dup_item(
            &mut items,
            (true, vm.item.vm.clone()),
            vm.pos,
            "vm",
            &mut problems,
        );
    }
    let target_known = |t: &Target, pos: Pos, problems: &mut Vec<Problem>| match t {
        Target::Uri(_) => {}
        Target::Folder(f) if !items.contains_key(&(false, f.clone())) => {
            problems.push(Problem::at(
                pos,
                format!("unknown folder `{f}`: declare it under folders or group_folders"),
            ))
        }
        Target::Vm(v) if !items.contains_key(&(true, v.clone())) => problems.push(Problem::at(
            pos,
            format!("unknown vm `{v}`: declare it under vms"),
        )),
        Target::Folder(_) | Target::Vm(_) => {}
    };
    for g in model.grants.iter().chain(&model.forbids) {
        check(&g.item.principal, g.field("principal"), &mut problems);
        if let Some(by) = &g.item.by {
            check(by, g.field("by"), &mut problems);
        }
        target_known(&g.item.target, target_pos(g), &mut problems);
        once(
            format!("grant {} {:?}", g.item.principal, g.item.target),
            g.pos,
            "grant or forbid of this principal on this target",
            &mut problems,
        );
    }
    for s in &model.shares {
        check(&s.item.user, s.field("user"), &mut problems);
        target_known(
            &Target::Folder(s.item.folder.clone()),
            s.field("folder"),
            &mut problems,
        );
        once(
            format!("share {} {}", s.item.folder, s.item.user),
            s.pos,
            "share",
            &mut problems,
        );
    }
    for s in &model.vm_shares {
        check(&s.item.user, s.field("user"), &mut problems);
        if let Some(by) = &s.item.by {
            check(by, s.field("by"), &mut problems);
        }
        target_known(&Target::Vm(s.item.vm.clone()), s.field("vm"), &mut problems);
        once(
            format!("vm share {} {}", s.item.vm, s.item.user),
            s.pos,
            "vm share",
            &mut problems,
        );
    }
    for f in &model.fences {
        check(&f.item.group, f.field("group"), &mut problems);
        target_known(&f.item.target, target_pos(f), &mut problems);
        once(
            format!("fence {:?} {}", f.item.target, f.item.group),
            f.pos,
            "fence",
            &mut problems,
        );
    }
    for a in &model.assertions {
        let (principal, targets): (Option<&PrincipalName>, Vec<&Target>) = match &a.item {
            Assertion::Allowed {
                principal, target, ..
            }
            | Assertion::Denied {
                principal, target, ..
            }
            | Assertion::Level {
                principal, target, ..
            }
            | Assertion::Reason {
                principal, target, ..
            } => (Some(principal), vec![target]),
            Assertion::Who { target, users, .. } => {
                for user in users {
                    check(user, a.field("users"), &mut problems);
                }
                (None, vec![target])
            }
            Assertion::List {
                principal,
                under,
                reaches,
            } => (
                Some(principal),
                std::iter::once(under)
                    .chain(reaches.iter().map(|(t, _)| t))
                    .collect(),
            ),
        };
        if let Some(principal) = principal {
            check(principal, a.field("principal"), &mut problems);
        }
        for target in targets {
            target_known(target, target_pos(a), &mut problems);
        }
    }
    problems
}

fn seen_once(
    keys: &mut BTreeMap<String, Pos>,
    key: String,
    pos: Pos,
    what: &str,
    problems: &mut Vec<Problem>,
) {
    if let Some(first) = keys.get(&key) {
        problems.push(Problem::at(
            pos,
            format!("duplicate {what} (first at {first})"),
        ));
    } else {
        keys.insert(key, pos);
    }
}

fn dup_item(
    items: &mut BTreeMap<(bool, ItemRef), Pos>,
    key: (bool, ItemRef),
    pos: Pos,
    what: &str,
    problems: &mut Vec<Problem>,
) {
    if let Some(first) = items.get(&key) {
        problems.push(Problem::at(
            pos,
            format!("duplicate {what} `{}` (first at {first})", key.1),
        ));
    } else {
        items.insert(key, pos);
    }
}

/// Where an entry names its target: its `uri`, `folder`, `vm` or `under` field.
fn target_pos<T>(entry: &At<T>) -> Pos {
    ["uri", "folder", "vm", "under"]
        .iter()
        .find_map(|k| entry.fields.get(*k).copied())
        .unwrap_or(entry.pos)
}
