//! A property suite for the administration workflows (rules A1 to A6): random sequences
//! of operations by random actors, admins and not, over any store. After every operation:
//!
//! - **A4.** An operation by an actor who was not an admin (not in `{C}/admin`'s members,
//!   or inactive) left every account, every principal and every policy as it was: no
//!   non-admin creates, updates or deactivates a user or edits a policy.
//! - **A3.** A user who is not active passes no check, no login and no keypair
//!   authentication.
//! - **A6.** A session that was admitted leaves its user's usage, recalculated from the
//!   ledger, within every limit of the user's policy.
//!
//! Worlds hash at the least argon2 cost ([`acl_platform::HashCost::minimum`]) so the suite stays
//! fast.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::admin::{PASSWORD, entropy};
use crate::world::{ADMIN, Dump, World, name, uri};
use acl_core::Level;
use acl_platform::PlatformStore;
use acl_platform::{AccessKey, UserRole, UserStatus};
use acl_platform::{AccountUpdate, NewAccount};
use acl_platform::{Hosts, Limit, Limits, PolicyName, Resource, ResourcePolicy, SessionRequest};

/// The actors: the init admin and four users who may or may not exist yet.
const ACTORS: [&str; 5] = [ADMIN, "u0", "u1", "u2", "u3"];
/// The users operations target.
const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];

/// One administration operation, by `ACTORS[actor]` on `USERS[user]`.
#[derive(Debug, Clone)]
pub enum AdminOp {
    /// Create an account with a role.
    Create {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
        /// Its role.
        role: UserRole,
    },
    /// Change the full name.
    Rename {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
    },
    /// Change the status.
    Status {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
        /// The new status.
        status: UserStatus,
    },
    /// Change the role.
    Role {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
        /// The new role.
        role: UserRole,
    },
    /// Move the user to policy `limited` or `default`.
    Policy {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
        /// `limited` when true.
        limited: bool,
    },
    /// Set the limits of policy `limited`.
    EditPolicy {
        /// Index into the actors.
        actor: usize,
        /// The CPU limit; `None` unlimited.
        cpu: Option<u64>,
        /// The concurrent session limit.
        sessions: Option<u64>,
    },
    /// Delete policy `limited`.
    DeletePolicy {
        /// Index into the actors.
        actor: usize,
    },
    /// Create a keypair.
    Keypair {
        /// Index into the actors.
        actor: usize,
        /// Index into the users.
        user: usize,
    },
    /// Start a session for the actor.
    Start {
        /// Index into the actors.
        actor: usize,
        /// CPU cores.
        cpu: u64,
        /// RAM in GB.
        ram_gb: u64,
    },
    /// Stop the actor's `n`th running session, by the actor.
    Stop {
        /// Index into the actors.
        actor: usize,
        /// Which running session.
        n: usize,
    },
}

fn role() -> impl Strategy<Value = UserRole> {
    prop::sample::select(UserRole::ALL.to_vec())
}

fn status() -> impl Strategy<Value = UserStatus> {
    prop::sample::select(vec![
        UserStatus::Active,
        UserStatus::Inactive,
        UserStatus::BeforeVerification,
    ])
}

/// Sequences of up to `max` operations.
pub fn admin_ops(max: usize) -> impl Strategy<Value = Vec<AdminOp>> {
    let actor = 0..ACTORS.len();
    let user = 0..USERS.len();
    let op = prop_oneof![
        (actor.clone(), user.clone(), role()).prop_map(|(actor, user, role)| AdminOp::Create {
            actor,
            user,
            role
        }),
        (actor.clone(), user.clone()).prop_map(|(actor, user)| AdminOp::Rename { actor, user }),
        (actor.clone(), user.clone(), status()).prop_map(|(actor, user, status)| AdminOp::Status {
            actor,
            user,
            status
        }),
        (actor.clone(), user.clone(), role()).prop_map(|(actor, user, role)| AdminOp::Role {
            actor,
            user,
            role
        }),
        (actor.clone(), user.clone(), any::<bool>()).prop_map(|(actor, user, limited)| {
            AdminOp::Policy {
                actor,
                user,
                limited,
            }
        }),
        (
            actor.clone(),
            prop::option::of(0u64..8),
            prop::option::of(0u64..4)
        )
            .prop_map(|(actor, cpu, sessions)| AdminOp::EditPolicy {
                actor,
                cpu,
                sessions
            }),
        actor
            .clone()
            .prop_map(|actor| AdminOp::DeletePolicy { actor }),
        (actor.clone(), user.clone()).prop_map(|(actor, user)| AdminOp::Keypair { actor, user }),
        (actor.clone(), 0u64..5, 0u64..5).prop_map(|(actor, cpu, ram_gb)| AdminOp::Start {
            actor,
            cpu,
            ram_gb
        }),
        (actor, 0usize..3).prop_map(|(actor, n)| AdminOp::Stop { actor, n }),
    ];
    prop::collection::vec(op, 1..=max)
}

/// The part of a dump only admins may change.
fn admin_part(dump: &Dump) -> (String, String, String) {
    (
        format!("{:?}", dump.accounts),
        format!("{:?}", dump.principals),
        format!("{:?}", dump.policies),
    )
}

fn is_admin<S: PlatformStore>(w: &World<S>, actor: &str) -> bool {
    let reader = w.engine.reader().unwrap_or_else(|e| panic!("{e}"));
    reader.closure(&name(actor)).is_ok_and(|c| {
        c.contains(&name("c/admin")) && c.record(&name(actor)).is_some_and(|r| r.active)
    })
}

/// Runs `ops` on a fresh store from `make` and checks the three properties after each.
pub fn run_admin_ops<S: PlatformStore>(make: impl Fn() -> S, ops: &[AdminOp]) {
    let w = World::fast_hashing(make());
    let mut rng = entropy(42);
    w.engine
        .create_policy(
            &w.by(ADMIN),
            &ResourcePolicy {
                name: PolicyName::new("limited").unwrap_or_else(|e| panic!("{e}")),
                limits: Limits::unlimited()
                    .with(Resource::Cpu, Limit::Max(6))
                    .with(Resource::RamGb, Limit::Max(8))
                    .with(Resource::ConcurrentSessions, Limit::Max(2)),
                hosts: Hosts::Any,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut secrets: BTreeMap<AccessKey, String> = BTreeMap::new();
    for op in ops {
        let actor = |i: &usize| ACTORS.get(*i).copied().unwrap_or(ADMIN);
        let user = |i: &usize| USERS.get(*i).copied().unwrap_or("u0");
        let acting = match op {
            AdminOp::Create { actor: a, .. }
            | AdminOp::Rename { actor: a, .. }
            | AdminOp::Status { actor: a, .. }
            | AdminOp::Role { actor: a, .. }
            | AdminOp::Policy { actor: a, .. }
            | AdminOp::EditPolicy { actor: a, .. }
            | AdminOp::DeletePolicy { actor: a }
            | AdminOp::Keypair { actor: a, .. }
            | AdminOp::Start { actor: a, .. }
            | AdminOp::Stop { actor: a, .. } => actor(a),
        };
        let admin_before = is_admin(&w, acting);
        let before = admin_part(&w.dump());
        let by = w.by(acting);
        let update = |u: &usize, update: AccountUpdate| {
            w.engine
                .update_account(&by, &name(user(u)), &update, &mut entropy(7))
                .map(|_| ())
        };
        let mut admitted = false;
        let _ = match op {
            AdminOp::Create { user: u, role, .. } => {
                let new = NewAccount::new(user(u), &format!("{}@example.org", user(u)), PASSWORD)
                    .with_role(*role);
                w.engine.create_account(&by, &new, &mut rng).map(|_| ())
            }
            AdminOp::Rename { user: u, .. } => update(
                u,
                AccountUpdate {
                    full_name: Some(format!("renamed at {}", by.at.0)),
                    ..AccountUpdate::default()
                },
            ),
            AdminOp::Status {
                user: u, status, ..
            } => update(
                u,
                AccountUpdate {
                    status: Some(*status),
                    ..AccountUpdate::default()
                },
            ),
            AdminOp::Role { user: u, role, .. } => update(
                u,
                AccountUpdate {
                    role: Some(*role),
                    ..AccountUpdate::default()
                },
            ),
            AdminOp::Policy {
                user: u, limited, ..
            } => update(
                u,
                AccountUpdate {
                    policy: Some(if *limited { "limited" } else { "default" }.into()),
                    ..AccountUpdate::default()
                },
            ),
            AdminOp::EditPolicy { cpu, sessions, .. } => {
                let limit = |v: &Option<u64>| v.map_or(Limit::Unlimited, Limit::Max);
                w.engine
                    .update_policy(
                        &by,
                        &ResourcePolicy {
                            name: PolicyName::new("limited").unwrap_or_else(|e| panic!("{e}")),
                            limits: Limits::unlimited()
                                .with(Resource::Cpu, limit(cpu))
                                .with(Resource::ConcurrentSessions, limit(sessions)),
                            hosts: Hosts::Any,
                        },
                    )
                    .map(|_| ())
            }
            AdminOp::DeletePolicy { .. } => w
                .engine
                .delete_policy(
                    &by,
                    &PolicyName::new("limited").unwrap_or_else(|e| panic!("{e}")),
                )
                .map(|_| ()),
            AdminOp::Keypair { user: u, .. } => w
                .engine
                .create_keypair(&by, &name(user(u)), &mut rng)
                .map(|created| {
                    secrets.insert(
                        created.value.keypair.access_key,
                        created.value.secret.expose().to_owned(),
                    );
                }),
            AdminOp::Start { cpu, ram_gb, .. } => {
                let request = SessionRequest {
                    cpu: *cpu,
                    ram_gb: *ram_gb,
                    containers: 1,
                    ..SessionRequest::default()
                };
                let started = w.engine.start_session(&by, &request);
                admitted = started.is_ok();
                started.map(|_| ())
            }
            AdminOp::Stop { n, .. } => {
                let running = w
                    .engine
                    .sessions(&name(acting), &name(acting))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|s| s.is_running())
                    .nth(*n);
                match running {
                    Some(session) => w.engine.stop_session(&by, &session.id).map(|_| ()),
                    None => Ok(()),
                }
            }
        };
        // rule A4: a non-admin changed no account, principal or policy
        if !admin_before {
            assert_eq!(
                admin_part(&w.dump()),
                before,
                "{acting}, not an admin, changed accounts or policies with {op:?}"
            );
        }
        // rule A3: no check, login or keypair for a user who is not active
        let accounts = w
            .engine
            .accounts(&name(ADMIN), &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        for account in &accounts.inactive {
            let u = account.user.as_str();
            let home = uri(&format!("storage://c/{u}"));
            assert!(
                !w.engine
                    .check(&account.user, &home, Level::List)
                    .unwrap_or(true),
                "inactive {u} passed a check"
            );
            assert!(
                w.engine.login(u, PASSWORD).is_err(),
                "inactive {u} logged in"
            );
            for (key, secret) in &secrets {
                if let Ok(keypair) = w.engine.authenticate(key.as_str(), secret) {
                    assert_ne!(&keypair.user, &account.user, "inactive {u} authenticated");
                }
            }
        }
        for account in &accounts.active {
            assert!(w.engine.login(account.user.as_str(), PASSWORD).is_ok());
        }
        // rule A6: an admitted session keeps usage within the policy
        if admitted {
            let report = w
                .engine
                .usage(&name(ADMIN), &name(acting))
                .unwrap_or_else(|e| panic!("{e}"));
            let limits = report.policy.limits;
            for (resource, used) in [
                (Resource::Cpu, report.usage.cpu),
                (Resource::RamGb, report.usage.ram_gb),
                (Resource::ConcurrentSessions, report.usage.sessions),
            ] {
                assert!(
                    limits.get(resource).allows(used),
                    "{acting}: {} {used} above {}",
                    resource.as_str(),
                    limits.get(resource)
                );
            }
        }
    }
}
