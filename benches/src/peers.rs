//! The peers (feature `peers`): casbin-rs and cedar-policy encoding the same model as a
//! [`Workload`] loaded into `acl`, so a benchmark can ask the three engines the same
//! questions in the same run.
//!
//! What the encodings hold, for both peers (a [`PeerModel`]): every user's home grants
//! (rule P5), every membership (a user or role holding `read` or more on `role://R`, rule
//! P2) as a role-hierarchy link, and every grant as a permission on the URI and everything
//! below it by whole segments (rule U4), with inclusive levels (rule L1). The cluster's
//! admin and its init-time roles are left out: no query asks about them.
//!
//! What neither encodes: the implicit list of rule E2 (a peer would need a policy per
//! ancestor of every grant), fences (E4) and inactive users (E1). The workloads hold no
//! forbid, no fence and no inactive user, and the agreement test compares only decisions
//! that do not rest on the implicit list, so the peers answer exactly what `acl` answers.
//!
//! - casbin: RBAC with a role hierarchy (`g = _, _`); one policy line per grant
//!   `(holder, uri, uri + "/*", rank)`; the matcher compares the object exactly or by
//!   `keyMatch` on the `/*` prefix (whole segments, never `storage://c/ux` for
//!   `storage://c/u`), the level by rank, and only then walks the role graph.
//! - cedar: entity types `User` and `Role` (a user's and a role's parents are the roles it
//!   is a member of), `Resource` (a URI's parent is its parent URI), actions `list`, `read`,
//!   `write`, `manage` where each is a member of the next (so a permit on `write` covers
//!   `list` and `read`); one template per level, `permit(principal in ?principal, action
//!   in Action::"L", resource in ?resource)`, linked once per grant.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use acl_core::{ClusterName, Level, PrincipalName, Schema, Uri};

use crate::{Query, Workload};

/// A peer could not be built or could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerError(String);

impl PeerError {
    fn new(what: impl fmt::Display) -> PeerError {
        PeerError(what.to_string())
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeerError {}

impl From<acl_core::Error> for PeerError {
    fn from(e: acl_core::Error) -> PeerError {
        PeerError::new(e)
    }
}

/// The part of a workload's model both peers encode (see the module doc).
#[derive(Debug, Clone)]
pub struct PeerModel {
    /// The users (principals of entity type `User` for cedar).
    pub users: BTreeSet<PrincipalName>,
    /// The roles.
    pub roles: BTreeSet<PrincipalName>,
    /// Membership links `(member, role)`.
    pub memberships: Vec<(PrincipalName, PrincipalName)>,
    /// Every grant `(uri, holder, level)`: the users' homes first, then the workload's
    /// batch, in the order `acl` loaded them.
    pub grants: Vec<(Uri, PrincipalName, Level)>,
}

impl PeerModel {
    /// The model of `workload` as loaded with `schema` in cluster `c`.
    pub fn of(workload: &Workload, schema: &Schema) -> Result<PeerModel, PeerError> {
        let cluster = ClusterName::new("c")?;
        let users: BTreeSet<PrincipalName> = workload.users.iter().cloned().collect();
        let roles: BTreeSet<PrincipalName> = workload.roles.iter().cloned().collect();
        let mut grants = Vec::new();
        for user in &workload.users {
            for (uri, level) in schema.home_grants(&cluster, user)? {
                grants.push((uri, user.clone(), level));
            }
        }
        grants.extend(workload.grants.iter().cloned());
        let mut memberships = Vec::new();
        for (uri, holder, level) in &grants {
            if *level == Level::Deny {
                return Err(PeerError::new(format!(
                    "the peers encode no forbid, and {holder} has one on {uri}"
                )));
            }
            if *level >= Level::Read
                && let Some(role) = uri.role_name()
                && roles.contains(&role)
            {
                memberships.push((holder.clone(), role));
            }
        }
        Ok(PeerModel {
            users,
            roles,
            memberships,
            grants,
        })
    }
}

/// The casbin model: RBAC with a role hierarchy, URIs matched by whole segments, levels by
/// rank (a one-digit string, so text order is rank order).
pub const CASBIN_MODEL: &str = "\
[request_definition]
r = sub, obj, lvl

[policy_definition]
p = sub, obj, pre, lvl

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (r.obj == p.obj || keyMatch(r.obj, p.pre)) && r.lvl <= p.lvl && g(r.sub, p.sub)
";

fn rank(level: Level) -> String {
    level.rank().to_string()
}

/// casbin-rs over a [`PeerModel`].
pub struct CasbinPeer {
    enforcer: casbin::Enforcer,
}

impl fmt::Debug for CasbinPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CasbinPeer").finish_non_exhaustive()
    }
}

/// A query as casbin's request: `(subject, object, rank)`.
#[derive(Debug, Clone)]
pub struct CasbinQuery(String, String, String);

impl CasbinPeer {
    /// Builds the enforcer: the model, then every grouping link and policy line.
    pub fn load(model: &PeerModel) -> Result<CasbinPeer, PeerError> {
        use casbin::{CoreApi, DefaultModel, MemoryAdapter, MgmtApi};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(PeerError::new)?;
        let enforcer = runtime.block_on(async {
            let m = DefaultModel::from_str(CASBIN_MODEL)
                .await
                .map_err(PeerError::new)?;
            let mut e = casbin::Enforcer::new(m, MemoryAdapter::default())
                .await
                .map_err(PeerError::new)?;
            let links: Vec<Vec<String>> = model
                .memberships
                .iter()
                .map(|(member, role)| vec![member.to_string(), role.to_string()])
                .collect();
            if !links.is_empty() {
                e.add_grouping_policies(links)
                    .await
                    .map_err(PeerError::new)?;
            }
            let lines: Vec<Vec<String>> = model
                .grants
                .iter()
                .map(|(uri, holder, level)| {
                    let prefix = if uri.is_root() {
                        format!("{uri}*")
                    } else {
                        format!("{uri}/*")
                    };
                    vec![holder.to_string(), uri.to_string(), prefix, rank(*level)]
                })
                .collect();
            e.add_policies(lines).await.map_err(PeerError::new)?;
            Ok::<_, PeerError>(e)
        })?;
        Ok(CasbinPeer { enforcer })
    }

    /// The request for `query`, built once.
    pub fn request(query: &Query) -> CasbinQuery {
        CasbinQuery(
            query.principal.to_string(),
            query.uri.to_string(),
            rank(query.level),
        )
    }

    /// Whether casbin allows the request.
    pub fn check(&self, q: &CasbinQuery) -> Result<bool, PeerError> {
        use casbin::CoreApi;
        self.enforcer
            .enforce((q.0.as_str(), q.1.as_str(), q.2.as_str()))
            .map_err(PeerError::new)
    }
}

/// cedar-policy over a [`PeerModel`].
#[derive(Debug)]
pub struct CedarPeer {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
}

/// A query as cedar's request parts, built once.
#[derive(Debug, Clone)]
pub struct CedarQuery {
    principal: cedar_policy::EntityUid,
    action: cedar_policy::EntityUid,
    resource: cedar_policy::EntityUid,
}

fn uid(kind: &str, id: &str) -> Result<cedar_policy::EntityUid, PeerError> {
    let name = cedar_policy::EntityTypeName::from_str(kind).map_err(PeerError::new)?;
    Ok(cedar_policy::EntityUid::from_type_name_and_id(
        name,
        cedar_policy::EntityId::new(id),
    ))
}

/// The levels a request asks about, lowest first: each cedar action is a member of the
/// next one.
const ALLOW: [Level; 4] = [Level::List, Level::Read, Level::Write, Level::Manage];

impl CedarPeer {
    fn principal(
        model: &PeerModel,
        name: &PrincipalName,
    ) -> Result<cedar_policy::EntityUid, PeerError> {
        let kind = if model.roles.contains(name) {
            "Role"
        } else {
            "User"
        };
        uid(kind, name.as_str())
    }

    /// Builds the entities (principals with their roles as parents, every URI of a grant
    /// or of `asked` with its ancestors, the four actions) and links one policy per grant.
    pub fn load(model: &PeerModel, asked: &[Uri]) -> Result<CedarPeer, PeerError> {
        use cedar_policy::{Entities, Entity, PolicyId, PolicySet, SlotId, Template};
        let mut parents: HashMap<&PrincipalName, HashSet<cedar_policy::EntityUid>> = HashMap::new();
        for (member, role) in &model.memberships {
            parents
                .entry(member)
                .or_default()
                .insert(uid("Role", role.as_str())?);
        }
        let mut entities = Vec::new();
        for name in model.users.iter().chain(&model.roles) {
            let of = parents.remove(name).unwrap_or_default();
            entities.push(Entity::new_no_attrs(Self::principal(model, name)?, of));
        }
        let mut uris: BTreeSet<Uri> = BTreeSet::new();
        for uri in model.grants.iter().map(|(u, _, _)| u).chain(asked) {
            uris.extend(uri.ancestors_and_self());
        }
        for uri in &uris {
            let of: HashSet<_> = match uri.parent() {
                Some(parent) => [uid("Resource", parent.as_str())?].into(),
                None => HashSet::new(),
            };
            entities.push(Entity::new_no_attrs(uid("Resource", uri.as_str())?, of));
        }
        for (i, level) in ALLOW.iter().enumerate() {
            let of: HashSet<_> = match ALLOW.get(i + 1) {
                Some(next) => [uid("Action", next.as_str())?].into(),
                None => HashSet::new(),
            };
            entities.push(Entity::new_no_attrs(uid("Action", level.as_str())?, of));
        }
        let entities = Entities::from_entities(entities, None).map_err(PeerError::new)?;

        let mut policies = PolicySet::new();
        for level in ALLOW {
            let text = format!(
                "permit(principal in ?principal, action in Action::\"{level}\", resource in ?resource);"
            );
            let template = Template::parse(Some(PolicyId::new(level.as_str())), text)
                .map_err(PeerError::new)?;
            policies.add_template(template).map_err(PeerError::new)?;
        }
        for (i, (uri, holder, level)) in model.grants.iter().enumerate() {
            let slots = HashMap::from([
                (SlotId::principal(), Self::principal(model, holder)?),
                (SlotId::resource(), uid("Resource", uri.as_str())?),
            ]);
            policies
                .link(
                    PolicyId::new(level.as_str()),
                    PolicyId::new(format!("g{i}")),
                    slots,
                )
                .map_err(PeerError::new)?;
        }
        Ok(CedarPeer {
            authorizer: cedar_policy::Authorizer::new(),
            policies,
            entities,
        })
    }

    /// The request parts for `query` (the principal typed as the model types it).
    pub fn request(model: &PeerModel, query: &Query) -> Result<CedarQuery, PeerError> {
        Ok(CedarQuery {
            principal: Self::principal(model, &query.principal)?,
            action: uid("Action", query.level.as_str())?,
            resource: uid("Resource", query.uri.as_str())?,
        })
    }

    /// Whether cedar allows the request (the request is built here, as a service would
    /// for each call).
    pub fn check(&self, q: &CedarQuery) -> Result<bool, PeerError> {
        let request = cedar_policy::Request::new(
            q.principal.clone(),
            q.action.clone(),
            q.resource.clone(),
            cedar_policy::Context::empty(),
            None,
        )
        .map_err(PeerError::new)?;
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &self.entities);
        Ok(response.decision() == cedar_policy::Decision::Allow)
    }
}
