//! The engine over acl-memory against the naive reference model (acl-core's
//! `testing::differential`), on operation sequences decoded from the fuzzer's bytes.
//! Property: after every op the two agree on its result (outcome or error kind) and the
//! revision; at the midpoints and at the end on `check` and `explain` of the queries; at
//! the end on the whole universe (`explain` with its evidence, `list`, `shared`, `tree`,
//! `who`). `run_differential` panics on the first disagreement, which libFuzzer reports as
//! a crash with the numbered op sequence.
//!
//! Names and URIs come from `Universe::small()` (a few users, roles, groups and URIs), so
//! that ops collide: the same grant raised, revoked and forbidden, roles removed while in
//! use, cycles refused, fences over shared folders.
#![no_main]

use acl_testing::differential::run_differential;
use acl_testing::ops::Op;
use acl_testing::strategies::Universe;
use acl_core::{Level, PrincipalName, Uri};
use acl_memory::MemoryStore;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// An op with its names and URIs as indexes into the universe (taken modulo its lists).
#[derive(Debug, Arbitrary)]
enum FuzzOp {
    CreateUser { actor: u8, name: u8 },
    AddRole { actor: u8, role: u8, group: bool },
    RemoveRole { actor: u8, name: u8 },
    Grant { actor: u8, uri: u8, grantee: u8, level: u8 },
    Revoke { actor: u8, uri: u8, grantee: u8 },
    AddFence { actor: u8, uri: u8, group: u8 },
    RemoveFence { actor: u8, uri: u8, group: u8 },
    SetActive { actor: u8, name: u8, active: bool },
}

/// A run: a setup prefix (users, roles, memberships by the admin) then the ops, and the
/// queries to compare at every probe.
#[derive(Debug, Arbitrary)]
struct Input {
    users: u8,
    roles: u8,
    ops: Vec<FuzzOp>,
    queries: Vec<(u8, u8, u8)>,
}

/// At most this many ops and queries per run, so each run stays a few milliseconds.
const MAX_OPS: usize = 40;
const MAX_QUERIES: usize = 8;

struct Names {
    principals: Vec<PrincipalName>,
    actors: Vec<PrincipalName>,
    roles: Vec<(PrincipalName, bool)>,
    users: Vec<PrincipalName>,
    uris: Vec<Uri>,
    admin: PrincipalName,
}

fn at<T: Clone>(items: &[T], i: u8) -> Option<T> {
    items.get(usize::from(i) % items.len().max(1)).cloned()
}

impl Names {
    fn new(universe: &Universe) -> Names {
        let principals = universe.principals();
        // the admin twice as often as any other actor
        let mut actors = vec![universe.admin.clone(); principals.len()];
        actors.extend(principals.iter().cloned());
        Names {
            principals,
            actors,
            roles: universe.roles.clone(),
            users: universe.users.clone(),
            uris: universe.uris(),
            admin: universe.admin.clone(),
        }
    }

    fn op(&self, op: &FuzzOp) -> Option<Op> {
        let actor = |i| at(&self.actors, i);
        let principal = |i| at(&self.principals, i);
        let uri = |i| at(&self.uris, i);
        Some(match *op {
            FuzzOp::CreateUser { actor: a, name } => Op::CreateUser {
                actor: actor(a)?,
                name: principal(name)?,
            },
            FuzzOp::AddRole { actor: a, role, group } => Op::AddRole {
                actor: actor(a)?,
                name: at(&self.roles, role)?.0,
                group,
            },
            FuzzOp::RemoveRole { actor: a, name } => Op::RemoveRole {
                actor: actor(a)?,
                name: principal(name)?,
            },
            FuzzOp::Grant { actor: a, uri: u, grantee, level } => Op::Grant {
                actor: actor(a)?,
                uri: uri(u)?,
                grantee: principal(grantee)?,
                level: at(&Level::ALL, level)?,
            },
            FuzzOp::Revoke { actor: a, uri: u, grantee } => Op::Revoke {
                actor: actor(a)?,
                uri: uri(u)?,
                grantee: principal(grantee)?,
            },
            FuzzOp::AddFence { actor: a, uri: u, group } => Op::AddFence {
                actor: actor(a)?,
                uri: uri(u)?,
                group: principal(group)?,
            },
            FuzzOp::RemoveFence { actor: a, uri: u, group } => Op::RemoveFence {
                actor: actor(a)?,
                uri: uri(u)?,
                group: principal(group)?,
            },
            FuzzOp::SetActive { actor: a, name, active } => Op::SetActive {
                actor: actor(a)?,
                name: principal(name)?,
                active,
            },
        })
    }

    /// The admin creates the users and roles of the two masks, then makes every created
    /// user a member of the first group created, so share scopes can be met.
    fn setup(&self, users: u8, roles: u8) -> Vec<Op> {
        let picked = |mask: u8, i: usize| i < 8 && mask & (1 << i) != 0;
        let mut ops: Vec<Op> = Vec::new();
        let created: Vec<PrincipalName> = self
            .users
            .iter()
            .enumerate()
            .filter(|(i, _)| picked(users, *i))
            .map(|(_, u)| u.clone())
            .collect();
        ops.extend(created.iter().map(|name| Op::CreateUser {
            actor: self.admin.clone(),
            name: name.clone(),
        }));
        let added: Vec<&(PrincipalName, bool)> = self
            .roles
            .iter()
            .enumerate()
            .filter(|(i, _)| picked(roles, *i))
            .map(|(_, r)| r)
            .collect();
        ops.extend(added.iter().map(|(name, group)| Op::AddRole {
            actor: self.admin.clone(),
            name: name.clone(),
            group: *group,
        }));
        if let Some((group, _)) = added.iter().find(|(_, group)| *group) {
            ops.extend(created.iter().map(|member| Op::Grant {
                actor: self.admin.clone(),
                uri: Uri::of_role(group),
                grantee: member.clone(),
                level: Level::Read,
            }));
        }
        ops
    }
}

fuzz_target!(|input: Input| {
    let universe = Universe::small();
    let names = Names::new(&universe);
    let mut ops = names.setup(input.users, input.roles);
    ops.extend(input.ops.iter().take(MAX_OPS).filter_map(|op| names.op(op)));
    let queries: Vec<(PrincipalName, Uri, Level)> = input
        .queries
        .iter()
        .take(MAX_QUERIES)
        .filter_map(|&(p, u, l)| {
            let level = at(&[Level::List, Level::Read, Level::Write, Level::Manage], l)?;
            Some((at(&names.principals, p)?, at(&names.uris, u)?, level))
        })
        .collect();
    run_differential(MemoryStore::new, &ops, &queries);
});
