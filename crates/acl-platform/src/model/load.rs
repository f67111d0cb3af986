//! Loading a model through the platform's own mutations, and answering its assertions with
//! the engine's own evaluator.

use std::collections::{BTreeMap, BTreeSet};

use acl_core::txn::canonical_name;
use acl_core::{
    Caller, Change, ClusterName, Decision, Error, Level, ListFilter, PageRequest, PrincipalKind,
    PrincipalName, Reason, Result, Step, Timestamp, Uri,
};

use super::{Assertion, ItemRef, Model, Pos, Problem, Target, Wanted};
use crate::InvitationEvent;
use crate::folder::{FolderId, VmId};
use crate::platform::Platform;
use crate::store::PlatformStore;

/// What loading a model made that its file names symbolically: the ids the store gave its
/// folders and VMs.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    cluster: Option<ClusterName>,
    folders: BTreeMap<ItemRef, FolderId>,
    vms: BTreeMap<ItemRef, VmId>,
}

impl Loaded {
    /// The URI a target names: itself, or the URI of the folder or VM the model made.
    pub fn uri(&self, target: &Target) -> Result<Uri> {
        let cluster = self
            .cluster
            .as_ref()
            .ok_or_else(|| Error::not_found("cluster", "of the model"))?;
        match target {
            Target::Uri(uri) => Ok(uri.clone()),
            Target::Folder(folder) => self
                .folders
                .get(folder)
                .ok_or_else(|| Error::not_found("folder", folder.to_string()))?
                .uri(cluster),
            Target::Vm(vm) => self
                .vms
                .get(vm)
                .ok_or_else(|| Error::not_found("vm", vm.to_string()))?
                .uri(cluster),
        }
    }

    /// The id of the model's folder `folder`.
    pub fn folder(&self, folder: &ItemRef) -> Option<&FolderId> {
        self.folders.get(folder)
    }

    /// The id of the model's VM `vm`.
    pub fn vm(&self, vm: &ItemRef) -> Option<&VmId> {
        self.vms.get(vm)
    }
}

/// The changelog action of a model import: one entry for the whole model.
pub const MODEL_IMPORT: &str = "model_import";

/// Initializes a fresh (empty) store with the model's cluster and admin, then loads the
/// model ([`apply`], acting as the model's admin, in a second transaction).
pub fn load_fresh<S: PlatformStore>(
    platform: &Platform<S>,
    model: &Model,
    at: Timestamp,
) -> Result<Loaded, Problem> {
    platform
        .init(&model.cluster, Some(&model.admin), at)
        .map_err(|err| Problem::at(Pos { line: 1, column: 1 }, format!("init: {err}")))?;
    apply(platform, model, "model", &model.admin, at)
}

/// Loads `model` into an initialized store in ONE write transaction (rule M3): one commit,
/// one revision and one changelog entry ([`MODEL_IMPORT`], its target `source`, its detail
/// the entry counts), or nothing at all. Each entry goes through the body of the platform's
/// mutation for it, in that transaction, so it is checked by the same rules and sees the
/// entries before it; `actor` performs every entry that names no actor of its own (folders
/// are created by their owners, shares invited by the owner and accepted by the sharee,
/// VMs created by their creators). The order: users, groups, roles, memberships, folders,
/// group folders, shares, VMs, VM shares, grants, forbids, fences, and last the
/// deactivation of inactive users. The first entry the engine refuses stops the load and
/// rolls every entry back; its problem is at the entry and carries the engine's error. A
/// storage failure (at the commit, say) writes nothing either and is a problem at line 1.
/// A model that changes nothing (no entries) commits nothing.
pub fn apply<S: PlatformStore>(
    platform: &Platform<S>,
    model: &Model,
    source: &str,
    actor: &PrincipalName,
    at: Timestamp,
) -> Result<Loaded, Problem> {
    let mut problem = None;
    let applied = platform.transact(|tx| match apply_in(platform, tx, model, actor, at) {
        Ok((loaded, false)) => Ok(Step::Unchanged(loaded)),
        Ok((loaded, true)) => {
            let detail = model
                .entry_counts()
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(what, n)| format!("{n} {what}"))
                .collect::<Vec<_>>()
                .join(", ");
            let actor = loaded
                .cluster
                .as_ref()
                .map_or_else(|| actor.clone(), |c| canonical_name(c, actor));
            Ok(Step::Changed(
                loaded,
                Change {
                    at,
                    actor: Some(actor),
                    action: MODEL_IMPORT.into(),
                    target: source.to_owned(),
                    detail,
                },
            ))
        }
        Err(found) => {
            let err = Error::InvalidInput(found.message.clone());
            problem = Some(found);
            Err(err)
        }
    });
    match applied {
        Ok(applied) => Ok(applied.value),
        Err(err) => Err(problem
            .unwrap_or_else(|| Problem::at(Pos { line: 1, column: 1 }, format!("import: {err}")))),
    }
}

/// The value of a mutation's step, noting whether it changed anything.
fn value<T>(step: Step<T>, changed: &mut bool) -> T {
    match step {
        Step::Changed(value, _) => {
            *changed = true;
            value
        }
        Step::Unchanged(value) => value,
    }
}

/// The entries of [`apply`] in `tx`: what they made, and whether any changed a row.
fn apply_in<S: PlatformStore>(
    platform: &Platform<S>,
    tx: &mut S::Write<'_>,
    model: &Model,
    actor: &PrincipalName,
    at: Timestamp,
) -> Result<(Loaded, bool), Problem> {
    let start = Pos { line: 1, column: 1 };
    let cluster =
        acl_core::txn::cluster(&*tx).map_err(|err| Problem::at(start, err.to_string()))?;
    if cluster != model.cluster {
        return Err(Problem::at(
            start,
            format!(
                "the model is of cluster `{}`, the store of `{cluster}`",
                model.cluster
            ),
        ));
    }
    let mut loaded = Loaded {
        cluster: Some(cluster),
        ..Loaded::default()
    };
    let mut changed = false;
    let ch = &mut changed;
    let by = |who: &PrincipalName| Caller::new(who.clone(), at);
    let admin = by(actor);
    let refused =
        |pos: Pos, what: String| move |err: Error| Problem::at(pos, format!("{what}: {err}"));

    for user in &model.users {
        let name = &user.item.name;
        let step = platform
            .create_user_step(tx, &admin, name)
            .map_err(refused(user.pos, format!("user `{name}`")))?;
        value(step, ch);
    }
    for (entries, kind) in [
        (&model.groups, PrincipalKind::Group),
        (&model.roles, PrincipalKind::Role),
    ] {
        for entry in entries {
            let step = platform
                .add_role_step(tx, &admin, &entry.item, kind)
                .map_err(refused(entry.pos, format!("{kind} `{}`", entry.item)))?;
            value(step, ch);
        }
    }
    for m in &model.memberships {
        let m_item = &m.item;
        let step = platform
            .grant_step(
                tx,
                &admin,
                &Uri::of_role(&m_item.role),
                &m_item.member,
                m_item.level,
            )
            .map_err(refused(
                m.pos,
                format!("membership of `{}` in `{}`", m_item.member, m_item.role),
            ))?;
        value(step, ch);
    }
    for f in &model.folders {
        let folder = &f.item.folder;
        let step = platform
            .create_folder_step(tx, &by(&folder.owner), &folder.name, &f.item.host)
            .map_err(refused(f.pos, format!("folder `{folder}`")))?;
        loaded.folders.insert(folder.clone(), value(step, ch).id);
    }
    for f in &model.group_folders {
        let folder = &f.item.folder;
        let step = platform
            .create_group_folder_step(
                tx,
                &admin,
                &folder.owner,
                &folder.name,
                &f.item.host,
                f.item.permission,
            )
            .map_err(refused(f.pos, format!("group folder `{folder}`")))?;
        loaded.folders.insert(folder.clone(), value(step, ch).id);
    }
    for s in &model.shares {
        let what = format!("share of `{}` with `{}`", s.item.folder, s.item.user);
        let id = loaded
            .folders
            .get(&s.item.folder)
            .ok_or_else(|| Problem::at(s.pos, format!("{what}: unknown folder")))?;
        let step = platform
            .invite_step(
                tx,
                &by(&s.item.folder.owner),
                id,
                std::slice::from_ref(&s.item.user),
                s.item.permission,
            )
            .map_err(refused(s.pos, what.clone()))?;
        let report = value(step, ch);
        let invitation = match (report.invited.first(), report.refused.first()) {
            (Some(invitation), _) => invitation.id.clone(),
            (None, Some(refusal)) => {
                return Err(Problem::at(s.pos, format!("{what}: {}", refusal.reason)));
            }
            (None, None) => {
                return Err(Problem::at(
                    s.pos,
                    format!("{what}: an invitation is already pending"),
                ));
            }
        };
        let step = platform
            .invitation_event_step(tx, &by(&s.item.user), &invitation, InvitationEvent::Accept)
            .map_err(refused(s.pos, what))?;
        value(step, ch);
    }
    for v in &model.vms {
        let vm = &v.item.vm;
        let step = platform
            .create_vm_step(tx, &by(&vm.owner), &vm.name, &v.item.team)
            .map_err(refused(v.pos, format!("vm `{vm}`")))?;
        loaded.vms.insert(vm.clone(), value(step, ch).id);
    }
    for s in &model.vm_shares {
        let what = format!("share of vm `{}` with `{}`", s.item.vm, s.item.user);
        let id = loaded
            .vms
            .get(&s.item.vm)
            .ok_or_else(|| Problem::at(s.pos, format!("{what}: unknown vm")))?;
        let sharer = s.item.by.as_ref().unwrap_or(&s.item.vm.owner);
        let step = platform
            .share_vm_step(tx, &by(sharer), id, &s.item.user, s.item.mode)
            .map_err(refused(s.pos, what))?;
        value(step, ch);
    }
    for g in model.grants.iter().chain(&model.forbids) {
        let what = if g.item.level == Level::Deny {
            format!("forbid of `{}` on {}", g.item.principal, g.item.target)
        } else {
            format!(
                "grant of {} to `{}` on {}",
                g.item.level, g.item.principal, g.item.target
            )
        };
        let uri = loaded
            .uri(&g.item.target)
            .map_err(refused(g.pos, what.clone()))?;
        let granter = g.item.by.as_ref().map(by).unwrap_or_else(|| admin.clone());
        let step = platform
            .grant_step(tx, &granter, &uri, &g.item.principal, g.item.level)
            .map_err(refused(g.pos, what))?;
        value(step, ch);
    }
    for f in &model.fences {
        let what = format!("fence on {} for `{}`", f.item.target, f.item.group);
        let uri = loaded
            .uri(&f.item.target)
            .map_err(refused(f.pos, what.clone()))?;
        let step = platform
            .add_fence_step(tx, &admin, &uri, &f.item.group)
            .map_err(refused(f.pos, what))?;
        value(step, ch);
    }
    for user in model.users.iter().filter(|u| !u.item.active) {
        let name = &user.item.name;
        let step = platform
            .set_active_step(tx, &admin, name, false)
            .map_err(refused(user.pos, format!("deactivating `{name}`")))?;
        value(step, ch);
    }
    Ok((loaded, changed))
}

/// The result of one assertion.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Where the assertion is written.
    pub pos: Pos,
    /// The assertion in words (`allowed: bob read on storage://c/alice/data`).
    pub name: String,
    /// Why it failed; `None` when it holds.
    pub failure: Option<Failure>,
}

/// Why an assertion failed: what was expected and what the engine answered, with the
/// engine's explanation of each decision concerned.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Expected and actual, in words.
    pub message: String,
    /// The actual decisions: for whom on what (`bob` on `storage://...`), and explain's
    /// answer there.
    pub decisions: Vec<(String, Decision)>,
}

/// Answers every assertion of `model` on `platform` (loaded as `loaded` says) with the
/// engine's evaluator: check or check_action for `allowed` / `denied`, explain for `level`
/// and `reason`, who and list for theirs. A storage failure is an error; everything else
/// (an unknown action, say) is a failed assertion saying why.
pub fn run_assertions<S: PlatformStore>(
    platform: &Platform<S>,
    loaded: &Loaded,
    model: &Model,
) -> Result<Vec<Outcome>> {
    let reader = platform.reader()?;
    let mut outcomes = Vec::new();
    for assertion in &model.assertions {
        let (name, result) = evaluate(&reader, loaded, &assertion.item);
        let failure = match result {
            Ok(failure) => failure,
            Err(err) if err.kind() == acl_core::ErrorKind::Storage => return Err(err),
            Err(err) => Some(Failure {
                message: format!("the engine refused the question: {err}"),
                decisions: Vec::new(),
            }),
        };
        outcomes.push(Outcome {
            pos: assertion.pos,
            name,
            failure,
        });
    }
    Ok(outcomes)
}

type Reader<'e, S> = acl_core::Reader<'e, S>;

/// The deciding holder of a decision: the grant's or forbid's holder, or the fence's group.
fn holder(reason: &Reason) -> Option<&PrincipalName> {
    match reason {
        Reason::Grant { grant, .. }
        | Reason::ImplicitList { grant, .. }
        | Reason::Forbid { grant, .. } => Some(&grant.holder),
        Reason::Fence { fence } => Some(&fence.group),
        Reason::UnknownPrincipal | Reason::InactiveUser | Reason::NoGrant => None,
    }
}

fn evaluate<S: PlatformStore>(
    reader: &Reader<'_, S>,
    loaded: &Loaded,
    assertion: &Assertion,
) -> (String, Result<Option<Failure>>) {
    let explained = |principal: &PrincipalName, uri: &Uri| -> Result<(String, Decision)> {
        Ok((
            format!("`{principal}` on `{uri}`"),
            reader.explain(principal, uri)?,
        ))
    };
    match assertion {
        Assertion::Allowed {
            principal,
            target,
            wanted,
        }
        | Assertion::Denied {
            principal,
            target,
            wanted,
        } => {
            let expect = matches!(assertion, Assertion::Allowed { .. });
            let word = if expect { "allowed" } else { "denied" };
            let name = format!("{word}: `{principal}` {wanted} on {target}");
            let result = (|| {
                let uri = loaded.uri(target)?;
                let allowed = match wanted {
                    Wanted::Level(level) => reader.check(principal, &uri, *level)?,
                    Wanted::Action(action) => reader.check_action(principal, &uri, action)?,
                };
                if allowed == expect {
                    return Ok(None);
                }
                let decision = explained(principal, &uri)?;
                Ok(Some(Failure {
                    message: format!(
                        "expected {word}, but `{principal}` is {} {wanted} on `{uri}`: its effective level is {}",
                        if allowed { "allowed" } else { "denied" },
                        decision.1.level
                    ),
                    decisions: vec![decision],
                }))
            })();
            (name, result)
        }
        Assertion::Level {
            principal,
            target,
            is,
        } => {
            let name = format!("level: `{principal}` on {target} is {is}");
            let result = (|| {
                let uri = loaded.uri(target)?;
                let decision = explained(principal, &uri)?;
                if decision.1.level == *is {
                    return Ok(None);
                }
                Ok(Some(Failure {
                    message: format!(
                        "expected level {is}, but `{principal}` has {} on `{uri}`",
                        decision.1.level
                    ),
                    decisions: vec![decision],
                }))
            })();
            (name, result)
        }
        Assertion::Reason {
            principal,
            target,
            kind,
            holder: want_holder,
        } => {
            let name = match want_holder {
                Some(h) => format!("reason: `{principal}` on {target} is {kind} by `{h}`"),
                None => format!("reason: `{principal}` on {target} is {kind}"),
            };
            let result = (|| {
                let uri = loaded.uri(target)?;
                let decision = explained(principal, &uri)?;
                let actual_kind = decision.1.reason.kind();
                let actual_holder = holder(&decision.1.reason);
                let holder_ok = want_holder
                    .as_ref()
                    .is_none_or(|h| actual_holder == Some(h));
                if actual_kind == kind && holder_ok {
                    return Ok(None);
                }
                let actual = match actual_holder {
                    Some(h) => format!("{actual_kind} by `{h}`"),
                    None => actual_kind.to_owned(),
                };
                let wanted = match want_holder {
                    Some(h) => format!("{kind} by `{h}`"),
                    None => kind.clone(),
                };
                Ok(Some(Failure {
                    message: format!(
                        "expected reason {wanted}, but the decision on `{uri}` is {actual}"
                    ),
                    decisions: vec![decision],
                }))
            })();
            (name, result)
        }
        Assertion::Who {
            target,
            level,
            users,
        } => {
            let name = format!("who: {level} on {target}");
            let result = (|| {
                let uri = loaded.uri(target)?;
                let actual: BTreeSet<PrincipalName> = reader
                    .who(&uri, *level, &PageRequest::all())?
                    .items
                    .into_iter()
                    .collect();
                let expected: BTreeSet<PrincipalName> = users.iter().cloned().collect();
                if actual == expected {
                    return Ok(None);
                }
                let missing: Vec<&PrincipalName> = expected.difference(&actual).collect();
                let extra: Vec<&PrincipalName> = actual.difference(&expected).collect();
                let mut decisions = Vec::new();
                for user in missing.iter().chain(&extra) {
                    decisions.push(explained(user, &uri)?);
                }
                Ok(Some(Failure {
                    message: format!(
                        "who on `{uri}` at {level}: missing {}; unexpected {}",
                        names(&missing),
                        names(&extra)
                    ),
                    decisions,
                }))
            })();
            (name, result)
        }
        Assertion::List {
            principal,
            under,
            reaches,
        } => {
            let name = format!("list: `{principal}` under {under}");
            let result = (|| {
                let uri = loaded.uri(under)?;
                let actual: BTreeSet<(Uri, Level)> = reader
                    .list(
                        principal,
                        &ListFilter::under(uri.clone()),
                        &PageRequest::all(),
                    )?
                    .items
                    .into_iter()
                    .collect();
                let mut expected = BTreeSet::new();
                for (target, level) in reaches {
                    expected.insert((loaded.uri(target)?, *level));
                }
                if actual == expected {
                    return Ok(None);
                }
                let missing: Vec<&(Uri, Level)> = expected.difference(&actual).collect();
                let extra: Vec<&(Uri, Level)> = actual.difference(&expected).collect();
                let mut decisions = Vec::new();
                for (item, _) in missing.iter().chain(&extra) {
                    decisions.push(explained(principal, item)?);
                }
                let show = |items: &[&(Uri, Level)]| {
                    if items.is_empty() {
                        "none".to_owned()
                    } else {
                        items
                            .iter()
                            .map(|(u, l)| format!("`{u}` {l}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                };
                Ok(Some(Failure {
                    message: format!(
                        "list of `{principal}` under `{uri}`: missing {}; unexpected {}",
                        show(&missing),
                        show(&extra)
                    ),
                    decisions,
                }))
            })();
            (name, result)
        }
    }
}

fn names(items: &[&PrincipalName]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
