//! proptest strategies for `acl` values and whole models (feature `proptest`), for this
//! crate's property tests and for users' own suites.
//!
//! - [`level`], [`allow_level`], [`principal_name`], [`uri`]: any valid value.
//! - [`uri_text`]: arbitrary text biased toward almost-valid URIs, for parser robustness.
//! - [`model`], [`op`], [`query`]: operation sequences and queries over a [`Universe`], a
//!   deliberately small set of names and URIs so that generated operations collide often
//!   (the same grant raised, revoked, forbidden; roles removed while in use; cycles).
//!
//! ```
//! use acl_testing::strategies::{Universe, model};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let universe = Universe::small();
//! let mut runner = TestRunner::deterministic();
//! let ops = model(&universe).new_tree(&mut runner).unwrap().current();
//! assert!(ops.len() >= 5);
//! ```
#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "strategies run inside users' suites and must not panic"
)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use crate::ops::Op;
use acl_core::Level;
use acl_core::Schema;
use acl_core::Uri;
use acl_core::{ClusterName, PrincipalName};

/// Any level, `deny` included.
pub fn level() -> impl Strategy<Value = Level> + Clone {
    select(Level::ALL.to_vec())
}

/// Any level above `deny`: what a check or `who` asks about.
pub fn allow_level() -> impl Strategy<Value = Level> + Clone {
    select(vec![Level::List, Level::Read, Level::Write, Level::Manage])
}

/// Any valid principal name (rule P1): one to four segments of `[A-Za-z0-9_.-]`.
pub fn principal_name() -> impl Strategy<Value = PrincipalName> + Clone {
    vec("[A-Za-z0-9_.-]{1,12}", 1..=4)
        .prop_filter_map("`.` and `..` are not segments", |segments| {
            PrincipalName::new(&segments.join("/")).ok()
        })
}

/// Any valid URI of `schema` (rules U1, U3) in canonical form: a known scheme and 0 to 6
/// segments. The authority is plain; path segments may hold `:`, `@`, `%`-escapes and
/// non-ASCII letters, which the rules allow.
pub fn uri(schema: &Schema) -> impl Strategy<Value = Uri> + Clone + use<> {
    let schemes: Vec<String> = schema.scheme_names().map(str::to_owned).collect();
    let authority = "[a-z0-9][a-z0-9.-]{0,9}";
    let segment = prop_oneof![
        4 => "[A-Za-z0-9._~!$&'()*+,;=:@%-]{1,12}",
        1 => "[a-zé😀ß:@]{1,6}",
    ];
    (select(schemes), authority, vec(segment, 0..=5), 0..=6_usize).prop_filter_map(
        "a valid URI",
        |(scheme, authority, path, depth)| {
            let text = if depth == 0 {
                format!("{scheme}://")
            } else {
                let mut parts = vec![authority];
                parts.extend(path.into_iter().take(depth - 1));
                format!("{scheme}://{}", parts.join("/"))
            };
            Uri::parse(&text).ok()
        },
    )
}

/// Text for parser robustness (rule U3: parsing never panics): arbitrary strings, strings
/// shaped like URIs, valid URIs with one defect inserted (an empty or dot segment, a query,
/// a fragment, userinfo, a port, a control character, an over-long segment...), short forms
/// and texts around the 2048-byte limit.
pub fn uri_text() -> impl Strategy<Value = String> {
    let defects = select(vec![
        "//", "/./", "/../", "/.", "/..", "?q=1", "#top", "@", ":8080", "\u{0}", "\n", "\u{85}",
        " ", "%2F", "/", ":", "é", "\\", "://",
    ]);
    let long = "s".repeat(256);
    let mutated = (
        uri(&Schema::standard()),
        defects,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(uri, defect, at)| {
            let text = uri.to_string();
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let cut = cuts.get(at.index(cuts.len())).copied().unwrap_or(0);
            let (head, tail) = text.split_at(cut);
            format!("{head}{defect}{tail}")
        });
    prop_oneof![
        2 => any::<String>(),
        3 => "[a-zA-Z0-9+.-]{0,8}:(//)?[a-zA-Z0-9:@._~/?#%-]{0,40}",
        4 => mutated,
        1 => uri(&Schema::standard()).prop_map(|u| u.to_string().to_uppercase()),
        1 => "(storage|role|user|job):[a-z/.]{0,20}",
        1 => (2030..2070_usize).prop_map(|len| {
            let mut text = String::from("storage://c/");
            while text.len() < len {
                text.push_str("abcdefghi/");
            }
            text
        }),
        1 => Just(format!("storage://c/{long}")),
    ]
}

/// A deliberately small world of names and URIs for generated models: collisions are the
/// point. Every name the generators use comes from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Universe {
    /// The cluster the engine is initialized with.
    pub cluster: ClusterName,
    /// The first admin user, created at init.
    pub admin: PrincipalName,
    /// Users the operations may create.
    pub users: Vec<PrincipalName>,
    /// Roles the operations may add, each with whether it is normally added as a group.
    pub roles: Vec<(PrincipalName, bool)>,
    /// A name that is never created.
    pub unknown: PrincipalName,
    /// The schemes of resource URIs (role:// and user:// URIs are added to these).
    pub schemes: Vec<String>,
    /// The values each segment of a resource URI takes, authority first; the length is
    /// the greatest depth.
    pub segments: Vec<Vec<String>>,
}

impl Default for Universe {
    fn default() -> Self {
        Universe::small()
    }
}

impl Universe {
    /// Cluster `c`, admin `admin`, users `u0` to `u3`, roles `u0/roles/r0`, `u1/roles/r0`,
    /// `u0/roles` (a user's role namespace itself, which the user manages from creation),
    /// groups `c/g0` and `c/g1`; URIs of schemes `storage` and `vm` (the one with a share
    /// scope) to depth 3 with two values per segment: `{c,k}/{u0,u1}/{a,b}`.
    #[expect(
        clippy::expect_used,
        reason = "the names are literals, valid by inspection and by the unit test"
    )]
    pub fn small() -> Universe {
        let name = |text: &str| PrincipalName::new(text).expect("a valid literal name");
        let names =
            |texts: &[&str]| -> Vec<PrincipalName> { texts.iter().map(|t| name(t)).collect() };
        let segments = |texts: &[&str]| texts.iter().map(|t| (*t).to_owned()).collect();
        Universe {
            cluster: ClusterName::new("c").expect("a valid literal cluster name"),
            admin: name("admin"),
            users: names(&["u0", "u1", "u2", "u3"]),
            roles: names(&["u0/roles/r0", "u1/roles/r0", "u0/roles", "c/g0", "c/g1"])
                .into_iter()
                .map(|name| {
                    let group = name.as_str().starts_with("c/");
                    (name, group)
                })
                .collect(),
            unknown: name("nobody"),
            schemes: vec!["storage".to_owned(), "vm".to_owned()],
            segments: vec![
                segments(&["c", "k"]),
                segments(&["u0", "u1"]),
                segments(&["a", "b"]),
            ],
        }
    }

    /// `{C}/users/{user}`, the alias of a user (rule P1).
    pub fn alias(&self, user: &PrincipalName) -> Option<PrincipalName> {
        PrincipalName::new(&format!("{}/users/{user}", self.cluster)).ok()
    }

    /// The cluster roles `{C}/admin` and `{C}/manager`.
    pub fn cluster_roles(&self) -> Vec<PrincipalName> {
        ["admin", "manager"]
            .iter()
            .filter_map(|r| PrincipalName::new(&format!("{}/{r}", self.cluster)).ok())
            .collect()
    }

    /// Every principal name the generators may use: the admin, the users, their first
    /// alias, the roles, the cluster roles and the unknown name.
    pub fn principals(&self) -> Vec<PrincipalName> {
        let mut out = vec![self.admin.clone()];
        out.extend(self.users.iter().cloned());
        out.extend(self.users.first().and_then(|u| self.alias(u)));
        out.extend(self.roles.iter().map(|(name, _)| name.clone()));
        out.extend(self.cluster_roles());
        out.push(self.unknown.clone());
        out
    }

    /// Every resource URI: each scheme's root and every combination of segment values up
    /// to the greatest depth.
    pub fn resource_uris(&self) -> Vec<Uri> {
        let mut paths: Vec<Vec<&str>> = vec![Vec::new()];
        let mut all = paths.clone();
        for values in &self.segments {
            paths = paths
                .iter()
                .flat_map(|path| {
                    values.iter().map(move |v| {
                        let mut longer = path.clone();
                        longer.push(v.as_str());
                        longer
                    })
                })
                .collect();
            all.extend(paths.iter().cloned());
        }
        self.schemes
            .iter()
            .flat_map(|scheme| {
                all.iter().filter_map(move |path| {
                    Uri::parse(&format!("{scheme}://{}", path.join("/"))).ok()
                })
            })
            .collect()
    }

    /// The `role://` URIs: the root, every principal's role URI (users are roles too), the
    /// namespace `role://{user}/roles` of the first user and the alias form
    /// `role://{C}/users/{user}`.
    pub fn role_uris(&self) -> Vec<Uri> {
        let mut out: Vec<Uri> = Uri::root("role").into_iter().collect();
        let mut names = vec![self.admin.clone()];
        names.extend(self.users.iter().cloned());
        names.extend(self.roles.iter().map(|(name, _)| name.clone()));
        names.extend(self.cluster_roles());
        names.extend(self.users.first().and_then(|u| self.alias(u)));
        out.extend(names.iter().map(Uri::of_role));
        out.dedup();
        out
    }

    /// The `user://` URIs: the root and each user's (rule A4).
    pub fn user_uris(&self) -> Vec<Uri> {
        let mut out: Vec<Uri> = Uri::root("user").into_iter().collect();
        out.extend(
            self.users
                .iter()
                .filter_map(|u| Uri::parse(&format!("user://{u}")).ok()),
        );
        out
    }

    /// Every URI of the universe.
    pub fn uris(&self) -> Vec<Uri> {
        let mut out = self.resource_uris();
        out.extend(self.role_uris());
        out.extend(self.user_uris());
        out
    }
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: Vec<T>) -> BoxedStrategy<T> {
    if items.is_empty() {
        Just(())
            .prop_filter_map("an empty choice", |()| None)
            .boxed()
    } else {
        select(items).boxed()
    }
}

/// The actor of an op: mostly the admin, sometimes a user (by name or alias), a cluster
/// role or an unknown name.
pub fn actor(universe: &Universe) -> BoxedStrategy<PrincipalName> {
    let mut others: Vec<PrincipalName> = universe.users.clone();
    others.extend(universe.users.first().and_then(|u| universe.alias(u)));
    let mut rare = universe.cluster_roles();
    rare.push(universe.unknown.clone());
    rare.extend(universe.roles.first().map(|(name, _)| name.clone()));
    prop_oneof![
        12 => Just(universe.admin.clone()),
        5 => pick(others),
        1 => pick(rare),
    ]
    .boxed()
}

/// The grantee (or group, or role) an op names: any principal of the universe.
pub fn grantee(universe: &Universe) -> BoxedStrategy<PrincipalName> {
    let mut users = universe.users.clone();
    users.push(universe.admin.clone());
    let roles: Vec<PrincipalName> = universe.roles.iter().map(|(n, _)| n.clone()).collect();
    let mut rare = universe.cluster_roles();
    rare.push(universe.unknown.clone());
    rare.extend(universe.users.first().and_then(|u| universe.alias(u)));
    prop_oneof![
        4 => pick(users),
        4 => pick(roles),
        1 => pick(rare),
    ]
    .boxed()
}

/// A URI for an op: mostly resource URIs, often role URIs (memberships), sometimes
/// `user://` URIs.
pub fn op_uri(universe: &Universe) -> BoxedStrategy<Uri> {
    prop_oneof![
        6 => pick(universe.resource_uris()),
        3 => pick(universe.role_uris()),
        1 => pick(universe.user_uris()),
    ]
    .boxed()
}

/// Any URI of the universe.
pub fn universe_uri(universe: &Universe) -> BoxedStrategy<Uri> {
    pick(universe.uris())
}

/// One op over the universe, every kind represented.
pub fn op(universe: &Universe) -> BoxedStrategy<Op> {
    let actor = || actor(universe);
    let grantee = || grantee(universe);
    let role_name = pick(universe.roles.iter().map(|(n, _)| n.clone()).collect());
    let any_role_name = prop_oneof![
        4 => role_name.clone(),
        1 => grantee(),
    ];
    let new_user = prop_oneof![
        6 => pick(universe.users.clone()),
        1 => pick(vec![universe.admin.clone(), universe.unknown.clone()]),
        1 => pick(universe.users.iter().filter_map(|u| universe.alias(u)).collect()),
    ];
    let membership = (actor(), pick(universe.role_uris()), grantee(), level()).prop_map(
        |(actor, uri, grantee, level)| {
            // On a role URI a grant is mostly a membership (read or more).
            let level = if level == Level::Deny || level == Level::List {
                Level::Read
            } else {
                level
            };
            Op::Grant {
                actor,
                uri,
                grantee,
                level,
            }
        },
    );
    let fence_uri = prop_oneof![
        8 => pick(universe.resource_uris()),
        1 => pick(universe.role_uris()),
    ];
    let fence_group = prop_oneof![
        4 => pick(universe.roles.iter().filter(|(_, g)| *g).map(|(n, _)| n.clone()).collect()),
        1 => grantee(),
    ];
    prop_oneof![
        10 => (actor(), op_uri(universe), grantee(), level()).prop_map(|(actor, uri, grantee, level)| {
            Op::Grant { actor, uri, grantee, level }
        }),
        6 => membership,
        5 => (actor(), op_uri(universe), grantee()).prop_map(|(actor, uri, grantee)| Op::Revoke {
            actor,
            uri,
            grantee
        }),
        3 => (actor(), fence_uri.clone(), fence_group.clone())
            .prop_map(|(actor, uri, group)| Op::AddFence { actor, uri, group }),
        2 => (actor(), fence_uri, fence_group)
            .prop_map(|(actor, uri, group)| Op::RemoveFence { actor, uri, group }),
        3 => (actor(), role_name, prop::bool::weighted(0.2)).prop_map({
            let kinds = universe.roles.clone();
            move |(actor, name, flip)| {
                // Mostly the role's usual kind, sometimes the other.
                let usual = kinds.iter().any(|(n, g)| *n == name && *g);
                Op::AddRole { actor, name, group: usual != flip }
            }
        }),
        2 => (actor(), any_role_name).prop_map(|(actor, name)| Op::RemoveRole { actor, name }),
        2 => (actor(), new_user).prop_map(|(actor, name)| Op::CreateUser { actor, name }),
        2 => (actor(), grantee(), any::<bool>())
            .prop_map(|(actor, name, active)| Op::SetActive { actor, name, active }),
    ]
    .boxed()
}

/// A short run of related ops, so that generated sequences collide on purpose: a single
/// op (most often), a grant followed by a revoke, a second grant or a forbid of the same
/// (URI, grantee) (outcomes created, raised, kept and conflict), a fence added then
/// removed, a user deactivated (and sometimes reactivated).
pub fn chunk(universe: &Universe) -> BoxedStrategy<Vec<Op>> {
    let admin = universe.admin.clone();
    let single = op(universe).prop_map(|op| vec![op]);
    let regrant = (
        actor(universe),
        op_uri(universe),
        grantee(universe),
        level(),
        prop_oneof![
            2 => Just(None),
            3 => level().prop_map(Some),
        ],
    )
        .prop_map(|(actor, uri, grantee, first, then)| {
            let grant = Op::Grant {
                actor: actor.clone(),
                uri: uri.clone(),
                grantee: grantee.clone(),
                level: first,
            };
            let next = match then {
                None => Op::Revoke {
                    actor,
                    uri,
                    grantee,
                },
                Some(level) => Op::Grant {
                    actor,
                    uri,
                    grantee,
                    level,
                },
            };
            vec![grant, next]
        });
    let fence_pair = (
        pick(universe.resource_uris()),
        grantee(universe),
        any::<bool>(),
    )
        .prop_map({
            let admin = admin.clone();
            move |(uri, group, remove)| {
                let mut ops = vec![Op::AddFence {
                    actor: admin.clone(),
                    uri: uri.clone(),
                    group: group.clone(),
                }];
                if remove {
                    ops.push(Op::RemoveFence {
                        actor: admin.clone(),
                        uri,
                        group,
                    });
                }
                ops
            }
        });
    let toggle = (pick(universe.users.clone()), any::<bool>()).prop_map(move |(name, back)| {
        let set = |active| Op::SetActive {
            actor: admin.clone(),
            name: name.clone(),
            active,
        };
        if back {
            vec![set(false), set(true)]
        } else {
            vec![set(false)]
        }
    });
    prop_oneof![
        10 => single,
        4 => regrant,
        1 => fence_pair,
        1 => toggle,
    ]
    .boxed()
}

/// A whole model: a setup prefix by the admin (some users created, some roles and groups
/// added, some principals made members of one group, so the share scope of `vm` can be
/// met), then chunks of ops of every kind over the universe (see [`chunk`]), at most 28 ops.
/// Sequences run from about 5 to 40 ops.
pub fn model(universe: &Universe) -> impl Strategy<Value = Vec<Op>> + use<> {
    let admin = universe.admin.clone();
    let users = universe.users.clone();
    let roles = universe.roles.clone();
    let groups: Vec<PrincipalName> = roles
        .iter()
        .filter(|(_, group)| *group)
        .map(|(name, _)| name.clone())
        .collect();
    let mut people = vec![admin.clone()];
    people.extend(users.iter().cloned());
    let team = (pick(groups), subsequence(people.clone(), 0..=people.len()));
    let setup = (
        subsequence(users.clone(), 0..=users.len()),
        subsequence(roles.clone(), 0..=roles.len()),
        team,
    )
        .prop_map(move |(users, roles, (group, members))| {
            let mut ops: Vec<Op> = users
                .into_iter()
                .map(|name| Op::CreateUser {
                    actor: admin.clone(),
                    name,
                })
                .collect();
            ops.extend(roles.into_iter().map(|(name, group)| Op::AddRole {
                actor: admin.clone(),
                name,
                group,
            }));
            ops.extend(members.into_iter().map(|member| Op::Grant {
                actor: admin.clone(),
                uri: Uri::of_role(&group),
                grantee: member,
                level: Level::Read,
            }));
            ops
        });
    (setup, vec(chunk(universe), 4..=22)).prop_map(|(mut ops, chunks)| {
        ops.extend(chunks.into_iter().flatten().take(28));
        ops
    })
}

/// A query `(principal, uri, level)` over the universe, the level above deny.
pub fn query(universe: &Universe) -> impl Strategy<Value = (PrincipalName, Uri, Level)> + use<> {
    (
        pick(universe.principals()),
        universe_uri(universe),
        allow_level(),
    )
}
