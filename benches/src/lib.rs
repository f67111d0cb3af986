//! acl-benches: deterministic workloads for the criterion benchmarks of `acl`
//! (docs/benchmarks.md holds the targets and the figures).
//!
//! A [`Workload`] is generated from a [`Size`] and a seed, with no randomness from outside:
//! the same seed gives the same model and the same queries on every machine, so figures can
//! be compared across runs and backends.
//!
//! The model's shape, for `n` users and `r` roles:
//!
//! - every user is created through the engine, so holds its eight home grants (rule P5);
//! - roles are arranged in four layers; a user is a member of one to three roles of layer
//!   0, and each role of layer k < 3 a member of one or two roles of layer k + 1, so
//!   membership paths are up to four hops long;
//! - each role holds a few grants (read, write or manage) on project URIs
//!   `storage://c/p{j}/a{x}/b{y}` and deeper, so URIs are up to six segments deep;
//! - the queries are 90% checks allowed through roles and 10% denied, each verified against
//!   the engine when the workload is built.
//!
//! # Invariants
//!
//! - Deterministic: a workload depends only on its size and seed.
//! - Every query's expected answer was checked against the engine that built it.

pub mod chart;
#[cfg(feature = "peers")]
pub mod peers;
pub mod report;

use acl_core::{
    Caller, ClusterName, Engine, EngineOptions, Level, PrincipalKind, PrincipalName, Reason,
    Result, Schema, Store, Timestamp, Uri,
};

/// The size of a workload (after casbin's benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Users (each with its eight home grants).
    pub users: usize,
    /// Roles, in four layers.
    pub roles: usize,
    /// Resource grants held by roles.
    pub role_grants: usize,
}

impl Size {
    /// 1k users, 100 roles: about 10k grants.
    pub const SMALL: Size = Size {
        users: 1_000,
        roles: 100,
        role_grants: 500,
    };
    /// 10k users, 1k roles: about 100k grants.
    pub const MEDIUM: Size = Size {
        users: 10_000,
        roles: 1_000,
        role_grants: 5_000,
    };
    /// 100k users, 10k roles: about 1M grants.
    pub const LARGE: Size = Size {
        users: 100_000,
        roles: 10_000,
        role_grants: 50_000,
    };
}

/// A small deterministic generator (SplitMix64): enough randomness for workloads, no
/// dependency, identical on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }
}

/// One check of a workload with its verified answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Who asks.
    pub principal: PrincipalName,
    /// On what.
    pub uri: Uri,
    /// For which level.
    pub level: Level,
    /// The engine's answer when the workload was built.
    pub allowed: bool,
}

/// A generated model: the grants to load and the queries to time.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The size it was generated for.
    pub size: Size,
    /// User names.
    pub users: Vec<PrincipalName>,
    /// Role names, layer by layer.
    pub roles: Vec<PrincipalName>,
    /// Memberships and resource grants, loaded with one `grant_many` after the users.
    pub grants: Vec<(Uri, PrincipalName, Level)>,
}

/// The admin every workload is loaded by.
pub const ADMIN: &str = "admin";
/// Role layers: a user is at most this many membership hops from a resource grant.
pub const LAYERS: usize = 4;

fn name(text: &str) -> Result<PrincipalName> {
    PrincipalName::new(text)
}

impl Workload {
    /// Generates a workload of `size` from `seed`.
    pub fn generate(size: Size, seed: u64) -> Result<Workload> {
        let mut rng = Rng::new(seed);
        let users = (0..size.users)
            .map(|i| name(&format!("u{i:06}")))
            .collect::<Result<Vec<_>>>()?;
        let roles = (0..size.roles)
            .map(|i| name(&format!("c/roles/l{}/r{i:05}", i % LAYERS)))
            .collect::<Result<Vec<_>>>()?;
        let layer =
            |k: usize| -> Vec<&PrincipalName> { roles.iter().skip(k).step_by(LAYERS).collect() };
        let layers: Vec<Vec<&PrincipalName>> = (0..LAYERS).map(layer).collect();
        let mut grants = Vec::new();
        let pick = |rng: &mut Rng, k: usize| -> Option<PrincipalName> {
            let of = layers.get(k)?;
            of.get(rng.below(of.len())).map(|r| (*r).clone())
        };
        // users join one to three roles of layer 0
        for user in &users {
            for _ in 0..=rng.below(3) {
                if let Some(role) = pick(&mut rng, 0) {
                    grants.push((Uri::of_role(&role), user.clone(), Level::Read));
                }
            }
        }
        // each role of layer k joins one or two roles of layer k + 1
        for k in 0..LAYERS - 1 {
            for role in layers.get(k).into_iter().flatten() {
                for _ in 0..=rng.below(2) {
                    if let Some(parent) = pick(&mut rng, k + 1) {
                        grants.push((Uri::of_role(&parent), (*role).clone(), Level::Read));
                    }
                }
            }
        }
        // resource grants held by roles, on URIs 3 to 5 segments deep
        let projects = (size.roles / 4).max(1);
        for _ in 0..size.role_grants {
            let role = roles
                .get(rng.below(roles.len()))
                .cloned()
                .ok_or_else(|| acl_core::Error::InvalidInput("a workload needs roles".into()))?;
            let depth = 1 + rng.below(3);
            let mut text = format!("storage://c/p{}", rng.below(projects));
            for d in 0..depth {
                text.push_str(&format!("/d{d}x{}", rng.below(4)));
            }
            let level = match rng.below(3) {
                0 => Level::Read,
                1 => Level::Write,
                _ => Level::Manage,
            };
            grants.push((Uri::parse(&text)?, role, level));
        }
        // a grant may repeat (same holder and URI): keep the first, as grant_many would
        // keep the higher, so the batch is unambiguous
        let mut seen = std::collections::HashSet::new();
        grants.retain(|(uri, holder, _)| seen.insert((uri.clone(), holder.clone())));
        Ok(Workload {
            size,
            users,
            roles,
            grants,
        })
    }

    /// Loads the workload into `store`: init, the roles, the users, then every grant in
    /// one batch. Returns the engine.
    pub fn load<S: Store>(&self, store: S) -> Result<Engine<S>> {
        self.load_with(store, EngineOptions::default())
    }

    /// [`Workload::load`] into an engine with `options` (e.g. no closure cache).
    pub fn load_with<S: Store>(&self, store: S, options: EngineOptions) -> Result<Engine<S>> {
        let engine = self.load_principals(store, options)?;
        self.load_grants(&engine)?;
        Ok(engine)
    }

    /// The first half of [`Workload::load_with`]: init, the roles and the users.
    pub fn load_principals<S: Store>(&self, store: S, options: EngineOptions) -> Result<Engine<S>> {
        let engine = Engine::with_options(store, Schema::standard(), options);
        let by = admin_caller()?;
        engine.init(&ClusterName::new("c")?, Some(&by.principal), Timestamp(0))?;
        for role in &self.roles {
            engine.add_role(&by, role, PrincipalKind::Role)?;
        }
        for user in &self.users {
            engine.create_user(&by, user)?;
        }
        Ok(engine)
    }

    /// The second half of [`Workload::load_with`]: every grant, in one batch by the admin.
    pub fn load_grants<S: Store>(&self, engine: &Engine<S>) -> Result<()> {
        engine.grant_many(&admin_caller()?, &self.grants)?;
        Ok(())
    }

    /// How many grants the loaded model holds: the batch, the users' home grants and the
    /// admin role's grants on the scheme roots (a kernel engine: the platform's monitor
    /// role is not there).
    pub fn grant_count(&self, schema: &Schema) -> usize {
        self.grants.len()
            + (self.users.len() + 1) * schema.homes().len()
            + schema.scheme_names().count()
            + 1
    }

    /// `count` queries against a loaded engine: 90% allowed through roles (the deciding
    /// grant is held by a role, not the user), 10% denied, each verified.
    pub fn queries<S: Store>(
        &self,
        engine: &Engine<S>,
        count: usize,
        seed: u64,
    ) -> Result<Vec<Query>> {
        let mut rng = Rng::new(seed);
        let reader = engine.reader()?;
        let role_grants: Vec<&(Uri, PrincipalName, Level)> = self
            .grants
            .iter()
            .filter(|(uri, _, _)| uri.scheme() == "storage")
            .collect();
        let want_denied = count / 10;
        let (mut allowed, mut denied) = (Vec::new(), Vec::new());
        let mut attempts = 0usize;
        while (allowed.len() < count - want_denied || denied.len() < want_denied)
            && attempts < count * 1_000
        {
            attempts += 1;
            let Some(user) = self.users.get(rng.below(self.users.len())) else {
                break;
            };
            let Some((base, _, _)) = role_grants.get(rng.below(role_grants.len())) else {
                break;
            };
            // go below the granted URI, up to six segments deep
            let mut uri = (*base).clone();
            while uri.depth() < 6 && rng.below(2) == 0 {
                uri = uri.child(&format!("f{}", rng.below(10)))?;
            }
            let level = match rng.below(3) {
                0 => Level::Read,
                1 => Level::Write,
                _ => Level::List,
            };
            let decision = reader.explain(user, &uri)?;
            let through_role = matches!(
                &decision.reason,
                Reason::Grant { path, .. } if path.len() > 1
            );
            let query = Query {
                principal: user.clone(),
                uri,
                level,
                allowed: decision.allows(level),
            };
            if query.allowed && through_role && allowed.len() < count - want_denied {
                allowed.push(query);
            } else if !query.allowed && denied.len() < want_denied {
                denied.push(query);
            }
        }
        // interleave: one denied query after every nine allowed ones
        let mut queries = Vec::with_capacity(count);
        let mut denied = denied.into_iter();
        for (i, query) in allowed.into_iter().enumerate() {
            queries.push(query);
            if i % 9 == 8
                && let Some(d) = denied.next()
            {
                queries.push(d);
            }
        }
        queries.extend(denied);
        Ok(queries)
    }
}

/// The admin's caller at time 0, for the helpers below.
/// One grant of a batch: the URI, the grantee, the level (what `grant_many` takes).
pub type GrantRow = (Uri, PrincipalName, Level);

/// The model the `profile_import*` examples import: `engine` initialized (cluster `c`,
/// the admin) with 100 roles `c/roles/rNNN`, and `n` read grants to them on distinct
/// storage URIs three segments deep, by the admin. Answers the admin and the batch.
pub fn import_model<S: Store>(engine: &Engine<S>, n: usize) -> Result<(Caller, Vec<GrantRow>)> {
    let by = admin_caller()?;
    engine.init(&ClusterName::new("c")?, Some(&by.principal), Timestamp(0))?;
    let roles: Vec<PrincipalName> = (0..100)
        .map(|r| PrincipalName::new(&format!("c/roles/r{r:03}")))
        .collect::<Result<_>>()?;
    for role in &roles {
        engine.add_role(&by, role, PrincipalKind::Role)?;
    }
    let mut rng = Rng::new(1);
    let batch = (0..n)
        .map(|i| {
            let holder = roles
                .get(rng.below(roles.len()))
                .cloned()
                .unwrap_or_else(|| by.principal.clone());
            let uri = Uri::parse(&format!(
                "storage://c/p{}/d{}/f{i}",
                rng.below(100),
                rng.below(10)
            ))?;
            Ok((uri, holder, Level::Read))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((by, batch))
}

fn admin_caller() -> Result<Caller> {
    Ok(Caller::new(name(ADMIN)?, Timestamp(0)))
}

/// Hands out the items of a slice round and round, for a benchmark's next query. It steps
/// with a compare instead of `i % len`: a `%` by a length the compiler cannot see is a
/// 64-bit divide, some 10 to 30 ns on the machines we measure on, which would be charged to
/// the operation under test.
#[derive(Debug, Clone)]
pub struct RoundRobin<'a, T> {
    items: &'a [T],
    first: &'a T,
    at: usize,
}

impl<'a, T> RoundRobin<'a, T> {
    /// Starts at the first item; `None` for an empty slice.
    pub fn new(items: &'a [T]) -> Option<RoundRobin<'a, T>> {
        Some(RoundRobin {
            items,
            first: items.first()?,
            at: 0,
        })
    }

    /// The next item, back to the first after the last.
    pub fn next_item(&mut self) -> &'a T {
        if self.at >= self.items.len() {
            self.at = 0;
        }
        let item = self.items.get(self.at).unwrap_or(self.first);
        self.at += 1;
        item
    }
}

/// A URI `depth` segments deep (authority `c` included) under a namespace of its own:
/// `storage://c` for depth 1, `storage://c/n-{tag}/s2/.../s{depth}` below (never a user's
/// home, `storage://c/{user}`).
pub fn deep_uri(tag: &str, depth: usize) -> Result<Uri> {
    let mut text = String::from("storage://c");
    for d in 1..depth {
        if d == 1 {
            text.push_str("/n-");
            text.push_str(tag);
        } else {
            text.push_str(&format!("/s{d}"));
        }
    }
    Uri::parse(&text)
}

/// Adds to a loaded engine a new user `{tag}` who reaches a grant through a chain of
/// `role_depth` roles (`c/chains/{tag}/r0` to `r{role_depth - 1}`, each a member of the
/// next; with 0 the user holds the grant itself), the last holding `read` on
/// [`deep_uri`]`(tag, uri_depth)`. Returns the check that the chain allows: the user,
/// that URI, `read`. For the scaling curves: membership depth (rule P2) and URI depth.
pub fn add_chain<S: Store>(
    engine: &Engine<S>,
    tag: &str,
    role_depth: usize,
    uri_depth: usize,
) -> Result<Query> {
    let by = admin_caller()?;
    let user = name(tag)?;
    engine.create_user(&by, &user)?;
    let mut holder = user.clone();
    for k in 0..role_depth {
        let role = name(&format!("c/chains/{tag}/r{k}"))?;
        engine.add_role(&by, &role, PrincipalKind::Role)?;
        engine.grant(&by, &Uri::of_role(&role), &holder, Level::Read)?;
        holder = role;
    }
    let uri = deep_uri(tag, uri_depth)?;
    engine.grant(&by, &uri, &holder, Level::Read)?;
    Ok(Query {
        principal: user,
        uri,
        level: Level::Read,
        allowed: true,
    })
}

/// Adds a user `{tag}` who reaches `count` grants through one role `c/lists/{tag}`
/// (`read` on `storage://c/n-{tag}/x{i}`): the subject of the `list` benchmark. Returns the
/// user.
pub fn add_listing<S: Store>(engine: &Engine<S>, tag: &str, count: usize) -> Result<PrincipalName> {
    let by = admin_caller()?;
    let user = name(tag)?;
    let role = name(&format!("c/lists/{tag}"))?;
    engine.create_user(&by, &user)?;
    engine.add_role(&by, &role, PrincipalKind::Role)?;
    let mut grants = vec![(Uri::of_role(&role), user.clone(), Level::Read)];
    for i in 0..count {
        grants.push((
            Uri::parse(&format!("storage://c/n-{tag}/x{i}"))?,
            role.clone(),
            Level::Read,
        ));
    }
    engine.grant_many(&by, &grants)?;
    Ok(user)
}

/// Makes `members` (existing users) members of a new role `c/crowds/{tag}` holding `read`
/// on `storage://c/n-{tag}`: the subject of the `who` benchmark. Returns the URI.
pub fn add_crowd<S: Store>(
    engine: &Engine<S>,
    tag: &str,
    members: &[PrincipalName],
) -> Result<Uri> {
    let by = admin_caller()?;
    let role = name(&format!("c/crowds/{tag}"))?;
    engine.add_role(&by, &role, PrincipalKind::Role)?;
    let uri = Uri::parse(&format!("storage://c/n-{tag}"))?;
    let mut grants = vec![(uri.clone(), role.clone(), Level::Read)];
    grants.extend(
        members
            .iter()
            .map(|m| (Uri::of_role(&role), m.clone(), Level::Read)),
    );
    engine.grant_many(&by, &grants)?;
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use acl_memory::MemoryStore;

    #[test]
    fn chains_listings_and_crowds_reach_what_they_say() {
        use acl_core::{ListFilter, PageRequest, Reason};
        let workload = Workload::generate(
            Size {
                users: 50,
                roles: 8,
                role_grants: 20,
            },
            3,
        )
        .unwrap();
        let engine = workload.load(MemoryStore::new()).unwrap();
        assert_eq!(deep_uri("t", 1).unwrap().as_str(), "storage://c");
        assert_eq!(deep_uri("t", 4).unwrap().as_str(), "storage://c/n-t/s2/s3");
        for (role_depth, uri_depth) in [(0, 1), (1, 2), (4, 6), (8, 12)] {
            let tag = format!("chain{role_depth}x{uri_depth}");
            let q = add_chain(&engine, &tag, role_depth, uri_depth).unwrap();
            assert_eq!(q.uri.depth(), uri_depth);
            let decision = engine.explain(&q.principal, &q.uri).unwrap();
            assert!(decision.allows(Level::Read) && !decision.allows(Level::Write));
            match decision.reason {
                Reason::Grant { path, .. } => assert_eq!(path.len(), role_depth + 1),
                other => panic!("{other:?}"),
            }
        }
        let lister = add_listing(&engine, "lister", 30).unwrap();
        let listed = engine
            .reader()
            .unwrap()
            .list(&lister, &ListFilter::all(), &PageRequest::all())
            .unwrap();
        let count = listed
            .items
            .iter()
            .filter(|(uri, level)| {
                uri.as_str().starts_with("storage://c/n-lister/x") && *level == Level::Read
            })
            .count();
        assert_eq!(count, 30);
        let crowd = add_crowd(&engine, "crowd", &workload.users[..20]).unwrap();
        let who = engine
            .reader()
            .unwrap()
            .who(&crowd, Level::Read, &PageRequest::all())
            .unwrap();
        for user in &workload.users[..20] {
            assert!(who.items.contains(user));
        }
    }

    #[test]
    fn workloads_are_deterministic_and_verified() {
        let size = Size {
            users: 200,
            roles: 40,
            role_grants: 200,
        };
        let a = Workload::generate(size, 7).unwrap();
        let b = Workload::generate(size, 7).unwrap();
        assert_eq!(a.grants, b.grants);
        let engine = a.load(MemoryStore::new()).unwrap();
        let queries = a.queries(&engine, 100, 1).unwrap();
        assert_eq!(queries.len(), 100);
        // the model holds exactly the grants grant_count says
        let stored = {
            use acl_core::{ReadView, Store};
            let view = engine.store().read().unwrap();
            view.principals(None, usize::MAX)
                .unwrap()
                .iter()
                .map(|p| {
                    view.grants_of(&p.name, None, None, usize::MAX)
                        .unwrap()
                        .len()
                })
                .sum::<usize>()
        };
        assert_eq!(stored, a.grant_count(engine.schema()));
        let denied = queries.iter().filter(|q| !q.allowed).count();
        assert_eq!(denied, 10);
        for q in &queries {
            assert_eq!(
                engine.check(&q.principal, &q.uri, q.level).unwrap(),
                q.allowed
            );
            assert!(q.uri.depth() <= 6);
        }
    }
}
