//! Reading a store back into a model, and writing a model as YAML.
//!
//! The export holds what a load would have to do to rebuild the state: the rows init,
//! user creation and the folder and VM workflows write by themselves (the cluster roles'
//! grants, home grants, owners' and sharees' grants) are left out, since loading the
//! model writes them again; everything else is an entry.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use acl_core::{
    Error, Grant, Level, PrincipalKind, PrincipalName, ReadView, Reader, Result, Uri,
    txn::cluster_role,
};

use super::{
    At, FenceEntry, FolderEntry, GrantEntry, GroupFolderEntry, ItemRef, MembershipEntry, Model,
    Pos, ShareEntry, Target, UserEntry, VmEntry, VmShareEntry,
};
use crate::folder::{FolderKind, VmShareMode};
use crate::store::{PlatformStore, PlatformView};

fn at<T>(item: T) -> At<T> {
    At {
        pos: Pos::default(),
        item,
        fields: BTreeMap::new(),
    }
}

/// The model of the state `reader` sees: its cluster and init admin, principals, the
/// grants, forbids and memberships no workflow wrote, folders, shares, group folders,
/// VMs, VM shares and fences. Accounts, keypairs, policies and sessions are not part of a
/// model.
pub fn export<S: PlatformStore>(reader: &Reader<'_, S>) -> Result<Model> {
    let cluster = reader.cluster()?;
    let admin = reader.init_admin()?.ok_or_else(|| {
        Error::InvalidInput("the store has no init admin: a model needs one".into())
    })?;
    let view = reader.view();
    let schema = reader.engine().schema();
    let mut model = Model::new(cluster.clone(), admin.clone());
    let principals = view.principals(None, usize::MAX)?;
    let builtin: BTreeSet<PrincipalName> = ["admin", "manager", "monitor"]
        .into_iter()
        .map(|r| cluster_role(&cluster, r))
        .collect::<Result<_>>()?;
    let roots: BTreeSet<Uri> = schema.scheme_roots()?.into_iter().collect();
    let names: BTreeSet<&PrincipalName> = principals.iter().map(|p| &p.name).collect();

    // Grants the workflows wrote, to leave out: (holder, uri, level).
    let mut implied: BTreeSet<(PrincipalName, Uri, Level)> = BTreeSet::new();
    implied.insert((
        admin.clone(),
        Uri::of_role(&cluster_role(&cluster, "admin")?),
        Level::Read,
    ));
    let mut targets: BTreeMap<Uri, Target> = BTreeMap::new();
    let mut vm_owners: BTreeMap<Uri, (ItemRef, PrincipalName)> = BTreeMap::new();
    for record in &principals {
        let name = &record.name;
        match record.kind {
            PrincipalKind::User => {
                for (uri, level) in schema.home_grants(&cluster, name)? {
                    implied.insert((name.clone(), uri, level));
                }
                if *name != admin {
                    model.users.push(at(UserEntry {
                        name: name.clone(),
                        active: record.active,
                    }));
                }
            }
            PrincipalKind::Group => model.groups.push(at(name.clone())),
            PrincipalKind::Role if !builtin.contains(name) => model.roles.push(at(name.clone())),
            PrincipalKind::Role => {}
        }
        for folder in view.folders_of(name)? {
            if !folder.is_active() {
                continue;
            }
            let uri = folder.id.uri(&cluster)?;
            let item = ItemRef {
                owner: folder.owner.clone(),
                name: folder.name.clone(),
            };
            match (folder.kind, folder.group_permission) {
                (FolderKind::Group, Some(permission)) => {
                    implied.insert((folder.owner.clone(), uri.clone(), permission.level()));
                    model.group_folders.push(at(GroupFolderEntry {
                        folder: item.clone(),
                        permission,
                        host: folder.host.clone(),
                    }));
                }
                _ => {
                    implied.insert((folder.owner.clone(), uri.clone(), Level::Manage));
                    model.folders.push(at(FolderEntry {
                        folder: item.clone(),
                        host: folder.host.clone(),
                    }));
                }
            }
            for share in view.shares_of_folder(&folder.id)? {
                implied.insert((share.user.clone(), uri.clone(), share.permission.level()));
                model.shares.push(at(ShareEntry {
                    folder: item.clone(),
                    user: share.user,
                    permission: share.permission,
                }));
            }
            targets.insert(uri, Target::Folder(item));
        }
        if record.kind == PrincipalKind::Group {
            for vm in view.vms_of(name)? {
                let uri = vm.id.uri(&cluster)?;
                let item = ItemRef {
                    owner: vm.owner.clone(),
                    name: vm.name.clone(),
                };
                implied.insert((vm.owner.clone(), uri.clone(), Level::Manage));
                model.vms.push(at(VmEntry {
                    vm: item.clone(),
                    team: vm.team.clone(),
                }));
                vm_owners.insert(uri.clone(), (item.clone(), vm.owner.clone()));
                targets.insert(uri, Target::Vm(item));
            }
        }
    }
    let target = |uri: &Uri| {
        targets
            .get(uri)
            .cloned()
            .unwrap_or_else(|| Target::Uri(uri.clone()))
    };
    for record in &principals {
        for Grant { holder, uri, level } in view.grants_of(&record.name, None, None, usize::MAX)? {
            if implied.contains(&(holder.clone(), uri.clone(), level))
                || (builtin.contains(&holder) && roots.contains(&uri))
            {
                continue;
            }
            if level == Level::Deny {
                model.forbids.push(at(GrantEntry {
                    principal: holder,
                    target: target(&uri),
                    level,
                    by: None,
                }));
                continue;
            }
            if let Some(role) = uri.role_name().filter(|r| names.contains(r))
                && level >= Level::Read
            {
                model.memberships.push(at(MembershipEntry {
                    member: holder,
                    role,
                    level,
                }));
                continue;
            }
            let mode = match level {
                Level::Write => Some(VmShareMode::Use),
                Level::Manage => Some(VmShareMode::CoOwn),
                _ => None,
            };
            if let (Some((vm, _)), Some(mode)) = (vm_owners.get(&uri), mode) {
                model.vm_shares.push(at(VmShareEntry {
                    vm: vm.clone(),
                    user: holder,
                    mode,
                    by: None,
                }));
                continue;
            }
            model.grants.push(at(GrantEntry {
                principal: holder,
                target: target(&uri),
                level,
                by: None,
            }));
        }
    }
    for fence in reader.fences(None)? {
        model.fences.push(at(FenceEntry {
            target: target(&fence.uri),
            group: fence.group,
        }));
    }
    Ok(model)
}

/// A YAML double-quoted scalar (the JSON string form, which YAML reads as the same text).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn target_field(target: &Target, key: &str) -> String {
    match target {
        Target::Uri(uri) => format!("{key}: {}", quote(uri.as_str())),
        Target::Folder(f) => format!("folder: {}", quote(&f.to_string())),
        Target::Vm(v) => format!("vm: {}", quote(&v.to_string())),
    }
}

impl Model {
    /// The model's state as a model file (its assertions are not written): every URI
    /// absolute, every entry a flow mapping on one line, so files diff well.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        if let Some(description) = &self.description {
            let _ = writeln!(out, "description: {}", quote(description));
        }
        let _ = writeln!(out, "cluster: {}", quote(self.cluster.as_str()));
        let _ = writeln!(out, "admin: {}", quote(self.admin.as_str()));
        let mut section = |key: &str, lines: Vec<String>| {
            if lines.is_empty() {
                return;
            }
            let _ = writeln!(out, "{key}:");
            for line in lines {
                let _ = writeln!(out, "  - {line}");
            }
        };
        section(
            "users",
            self.users
                .iter()
                .map(|u| {
                    if u.item.active {
                        quote(u.item.name.as_str())
                    } else {
                        format!("{{name: {}, active: false}}", quote(u.item.name.as_str()))
                    }
                })
                .collect(),
        );
        section(
            "groups",
            self.groups.iter().map(|g| quote(g.item.as_str())).collect(),
        );
        section(
            "roles",
            self.roles.iter().map(|r| quote(r.item.as_str())).collect(),
        );
        section(
            "memberships",
            self.memberships
                .iter()
                .map(|m| {
                    format!(
                        "{{member: {}, role: {}, level: {}}}",
                        quote(m.item.member.as_str()),
                        quote(m.item.role.as_str()),
                        m.item.level
                    )
                })
                .collect(),
        );
        let grant = |g: &At<GrantEntry>, forbid: bool| {
            let mut line = format!(
                "{{principal: {}, {}",
                quote(g.item.principal.as_str()),
                target_field(&g.item.target, "uri")
            );
            if !forbid {
                let _ = write!(line, ", level: {}", g.item.level);
            }
            if let Some(by) = &g.item.by {
                let _ = write!(line, ", by: {}", quote(by.as_str()));
            }
            line.push('}');
            line
        };
        section(
            "grants",
            self.grants.iter().map(|g| grant(g, false)).collect(),
        );
        section(
            "forbids",
            self.forbids.iter().map(|g| grant(g, true)).collect(),
        );
        section(
            "folders",
            self.folders
                .iter()
                .map(|f| {
                    format!(
                        "{{name: {}, owner: {}, host: {}}}",
                        quote(f.item.folder.name.as_str()),
                        quote(f.item.folder.owner.as_str()),
                        quote(&f.item.host)
                    )
                })
                .collect(),
        );
        section(
            "shares",
            self.shares
                .iter()
                .map(|s| {
                    format!(
                        "{{folder: {}, user: {}, permission: {}}}",
                        quote(&s.item.folder.to_string()),
                        quote(s.item.user.as_str()),
                        s.item.permission
                    )
                })
                .collect(),
        );
        section(
            "group_folders",
            self.group_folders
                .iter()
                .map(|f| {
                    format!(
                        "{{name: {}, group: {}, permission: {}, host: {}}}",
                        quote(f.item.folder.name.as_str()),
                        quote(f.item.folder.owner.as_str()),
                        f.item.permission,
                        quote(&f.item.host)
                    )
                })
                .collect(),
        );
        section(
            "vms",
            self.vms
                .iter()
                .map(|v| {
                    format!(
                        "{{name: {}, owner: {}, team: {}}}",
                        quote(v.item.vm.name.as_str()),
                        quote(v.item.vm.owner.as_str()),
                        quote(v.item.team.as_str())
                    )
                })
                .collect(),
        );
        section(
            "vm_shares",
            self.vm_shares
                .iter()
                .map(|s| {
                    let mut line = format!(
                        "{{vm: {}, user: {}, mode: {}",
                        quote(&s.item.vm.to_string()),
                        quote(s.item.user.as_str()),
                        s.item.mode
                    );
                    if let Some(by) = &s.item.by {
                        let _ = write!(line, ", by: {}", quote(by.as_str()));
                    }
                    line.push('}');
                    line
                })
                .collect(),
        );
        section(
            "fences",
            self.fences
                .iter()
                .map(|f| {
                    format!(
                        "{{{}, group: {}}}",
                        target_field(&f.item.target, "uri"),
                        quote(f.item.group.as_str())
                    )
                })
                .collect(),
        );
        out
    }
}
