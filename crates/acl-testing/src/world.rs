//! A small test world over any store: an initialized engine, terse constructors and
//! data-driven assertions, so each conformance case reads as a table.

use std::cell::Cell;

use acl_core::Decision;
use acl_core::Level;
use acl_core::PageRequest;
use acl_core::ReadViewExt;
use acl_core::Schema;
use acl_core::Timestamp;
use acl_core::Uri;
use acl_core::{Applied, Caller, GrantOutcome};
use acl_core::{ChangeEntry, Fence, Grant, PrincipalKind, PrincipalRecord, Revision};
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Error, ErrorKind, Result};
use acl_platform::{Account, GroupInfo, Keypair};
use acl_platform::{Folder, Invitation, InvitationKey, Share, Vm};
use acl_platform::{Platform, PlatformOptions};
use acl_platform::{PlatformStore, PlatformView};
use acl_platform::{ResourcePolicy, Session};

/// The cluster every test world is initialized with.
pub const CLUSTER: &str = "c";
/// The admin user every test world is initialized with.
pub const ADMIN: &str = "admin";

/// An engine initialized with cluster `c` and admin user `admin`, and a clock that
/// advances one millisecond per mutation.
pub struct World<S: PlatformStore> {
    /// The engine under test, with the platform's workflows.
    pub engine: Platform<S>,
    clock: Cell<i64>,
}

/// A principal name, panicking on an invalid one (test input is trusted).
pub fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap_or_else(|e| panic!("bad test name {text:?}: {e}"))
}

/// A URI, panicking on an invalid one (test input is trusted).
pub fn uri(text: &str) -> Uri {
    Uri::parse(text).unwrap_or_else(|e| panic!("bad test uri {text:?}: {e}"))
}

/// Everything a store holds, read through the Store trait: two dumps are equal exactly when
/// the stores hold the same rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// The revision.
    pub revision: Revision,
    /// The cluster name.
    pub cluster: Option<ClusterName>,
    /// Every principal.
    pub principals: Vec<PrincipalRecord>,
    /// Every grant, by holder then URI.
    pub grants: Vec<Grant>,
    /// Every edge as (member, role), sorted.
    pub edges: Vec<(PrincipalName, PrincipalName)>,
    /// Every fence.
    pub fences: Vec<Fence>,
    /// The whole changelog.
    pub changes: Vec<ChangeEntry>,
    /// Every folder, by owner then id.
    pub folders: Vec<Folder>,
    /// Every share, by user then folder.
    pub shares: Vec<Share>,
    /// Every invitation, by inviter then id.
    pub invitations: Vec<Invitation>,
    /// Every VM, by team then id.
    pub vms: Vec<Vm>,
    /// Every account, by user.
    pub accounts: Vec<Account>,
    /// Every keypair, by access key.
    pub keypairs: Vec<Keypair>,
    /// Every resource policy, by name.
    pub policies: Vec<ResourcePolicy>,
    /// Every session, by id.
    pub sessions: Vec<Session>,
    /// Every group's attributes, by name.
    pub groups: Vec<GroupInfo>,
}

/// Reads every row of a view.
pub fn dump<V: PlatformView + ?Sized>(view: &V) -> Result<Dump> {
    let principals = view.principals(None, usize::MAX)?;
    let names: Vec<PrincipalName> = principals.iter().map(|p| p.name.clone()).collect();
    let mut grants = Vec::new();
    for name in &names {
        grants.extend(view.grants_of(name, None, None, usize::MAX)?);
    }
    let mut edges: Vec<(PrincipalName, PrincipalName)> = view
        .roles_of(&names)?
        .into_iter()
        .map(|(member, role)| (member, role.name))
        .collect();
    edges.sort();
    let (mut folders, mut shares, mut invitations, mut vms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for name in &names {
        folders.extend(view.folders_of(name)?);
        shares.extend(view.shares_of_user(name)?);
        invitations.extend(view.invitations(&InvitationKey::Inviter(name.clone()))?);
        vms.extend(view.vms_of(name)?);
    }
    let mut groups = Vec::new();
    for name in &names {
        groups.extend(view.group_info(name)?);
    }
    Ok(Dump {
        accounts: view.accounts(None, usize::MAX)?,
        keypairs: view.keypairs(None, usize::MAX)?,
        policies: view.policies()?,
        sessions: view.sessions(None, usize::MAX)?,
        groups,
        folders,
        shares,
        invitations,
        vms,
        revision: view.revision()?,
        cluster: view.cluster()?,
        principals,
        grants,
        edges,
        fences: view.fences(None, None, usize::MAX)?,
        changes: view.changes(Revision(0), None, usize::MAX)?,
    })
}

impl<S: PlatformStore> World<S> {
    /// Initializes `store` with the standard schema, cluster `c` and admin `admin`.
    pub fn new(store: S) -> World<S> {
        World::with_schema(store, Schema::standard())
    }

    /// Initializes `store` with `schema`, cluster `c` and admin `admin`.
    pub fn with_schema(store: S, schema: Schema) -> World<S> {
        World::with_options(store, schema, PlatformOptions::default())
    }

    /// Initializes `store` with the standard schema and the least argon2 cost (so suites
    /// that hash many passwords stay fast; see [`acl_platform::HashCost::minimum`]).
    pub fn fast_hashing(store: S) -> World<S> {
        let options = PlatformOptions {
            hash_cost: acl_platform::HashCost::minimum(),
            ..PlatformOptions::default()
        };
        World::with_options(store, Schema::standard(), options)
    }

    /// Initializes `store` with `schema` and `options`, cluster `c` and admin `admin`.
    pub fn with_options(store: S, schema: Schema, options: PlatformOptions) -> World<S> {
        let engine = Platform::with_options(store, schema, options);
        let cluster = ClusterName::new(CLUSTER).unwrap_or_else(|e| panic!("{e}"));
        engine
            .init(&cluster, Some(&name(ADMIN)), Timestamp(0))
            .unwrap_or_else(|e| panic!("init failed: {e}"));
        World {
            engine,
            clock: Cell::new(0),
        }
    }

    /// A world over `store` as it is, already initialized (a restored store, say): the
    /// standard schema and the least argon2 cost, no init.
    pub fn adopt(store: S) -> World<S> {
        let options = PlatformOptions {
            hash_cost: acl_platform::HashCost::minimum(),
            ..PlatformOptions::default()
        };
        World {
            engine: Platform::with_options(store, Schema::standard(), options),
            clock: Cell::new(0),
        }
    }

    /// `actor` acting now; the clock advances.
    pub fn by(&self, actor: &str) -> Caller {
        self.clock.set(self.clock.get() + 1);
        Caller::new(name(actor), Timestamp(self.clock.get()))
    }

    /// The admin creates users.
    pub fn users(&self, names: &[&str]) {
        for user in names {
            self.engine
                .create_user(&self.by(ADMIN), &name(user))
                .unwrap_or_else(|e| panic!("create user {user}: {e}"));
        }
    }

    /// `actor` adds a role (or group) and it must succeed.
    pub fn role(&self, actor: &str, role: &str, kind: PrincipalKind) {
        self.engine
            .add_role(&self.by(actor), &name(role), kind)
            .unwrap_or_else(|e| panic!("{actor} add role {role}: {e}"));
    }

    /// `actor` grants `level` on `uri` to `grantee`.
    pub fn try_grant(
        &self,
        actor: &str,
        at: &str,
        grantee: &str,
        level: Level,
    ) -> Result<Applied<GrantOutcome>> {
        self.engine
            .grant(&self.by(actor), &uri(at), &name(grantee), level)
    }

    /// `actor` grants and it must succeed.
    pub fn grant(&self, actor: &str, at: &str, grantee: &str, level: Level) -> GrantOutcome {
        self.try_grant(actor, at, grantee, level)
            .unwrap_or_else(|e| panic!("{actor} grant {at} {grantee} {level}: {e}"))
            .value
    }

    /// `actor` revokes and it must succeed.
    pub fn revoke(&self, actor: &str, at: &str, grantee: &str) {
        self.engine
            .revoke(&self.by(actor), &uri(at), &name(grantee))
            .unwrap_or_else(|e| panic!("{actor} revoke {at} {grantee}: {e}"));
    }

    /// `principal`'s decision on `at`.
    pub fn explain(&self, principal: &str, at: &str) -> Decision {
        self.engine
            .explain(&name(principal), &uri(at))
            .unwrap_or_else(|e| panic!("explain {principal} {at}: {e}"))
    }

    /// `principal`'s effective level on `at`.
    pub fn level(&self, principal: &str, at: &str) -> Level {
        self.explain(principal, at).level
    }

    /// Asserts every `(principal, uri, level)` row of a table.
    #[track_caller]
    pub fn expect(&self, table: &[(&str, &str, Level)]) {
        for (principal, at, want) in table {
            let got = self.level(principal, at);
            assert_eq!(got, *want, "effective({principal}, {at})");
            for level in Level::ALL.into_iter().filter(|l| l.is_allow()) {
                let allowed = self
                    .engine
                    .check(&name(principal), &uri(at), level)
                    .unwrap_or_else(|e| panic!("check: {e}"));
                assert_eq!(allowed, *want >= level, "check({principal}, {at}, {level})");
            }
        }
    }

    /// Everything the store holds now.
    pub fn dump(&self) -> Dump {
        let view = self.engine.store().read().unwrap_or_else(|e| panic!("{e}"));
        dump(&view).unwrap_or_else(|e| panic!("dump: {e}"))
    }

    /// Runs `call`, asserts it fails with `kind`, and that the store is unchanged.
    #[track_caller]
    pub fn refused<T: std::fmt::Debug>(
        &self,
        kind: ErrorKind,
        call: impl FnOnce(&World<S>) -> Result<T>,
    ) -> Error {
        let before = self.dump();
        let result = call(self);
        let after = self.dump();
        assert_eq!(before, after, "a failed call changed the store");
        match result {
            Ok(value) => panic!("expected a {kind} error, got {value:?}"),
            Err(err) => {
                assert_eq!(err.kind(), kind, "wrong kind for: {err}");
                err
            }
        }
    }

    /// Every page of `list`, for comparisons.
    pub fn list(&self, principal: &str) -> Vec<(String, Level)> {
        let reader = self.engine.reader().unwrap_or_else(|e| panic!("{e}"));
        reader
            .list(&name(principal), &Default::default(), &PageRequest::all())
            .unwrap_or_else(|e| panic!("list: {e}"))
            .items
            .into_iter()
            .map(|(u, l)| (u.to_string(), l))
            .collect()
    }
}
