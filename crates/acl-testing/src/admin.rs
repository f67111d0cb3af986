//! Conformance cases for accounts and administration (rules A1 to A7), run by every store
//! through [`crate::conformance_tests!`]. Worlds hash at the least argon2 cost.

use std::cell::Cell;

use crate::world::{ADMIN, World, name, uri};
use acl_core::Level::{Deny, Manage, Read};
use acl_core::PageRequest;
use acl_core::ReadView;
use acl_core::{Error, ErrorKind, FieldProblem, Result};
use acl_core::{PrincipalKind, Revision};
use acl_platform::FolderName;
use acl_platform::{AccessKey, UserRole, UserStatus};
use acl_platform::{AccountFilter, AccountUpdate, AuditQuery, NewAccount};
use acl_platform::{
    Hosts, Limit, Limits, PolicyName, Resource, ResourcePolicy, SessionId, SessionRequest,
};
use acl_platform::{PlatformStore, PlatformView};

/// The password every test account gets.
pub const PASSWORD: &str = "s3cret!pw";

/// A deterministic entropy source: a 64-bit LCG seeded by `seed`.
pub fn entropy(seed: u64) -> impl FnMut(&mut [u8]) {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    move |buf: &mut [u8]| {
        for byte in buf {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *byte = (state >> 33) as u8;
        }
    }
}

thread_local! {
    static SEED: Cell<u64> = const { Cell::new(1) };
}

fn fresh_entropy() -> impl FnMut(&mut [u8]) {
    let seed = SEED.with(|s| {
        let v = s.get();
        s.set(v + 1);
        v
    });
    entropy(seed)
}

fn world<S: PlatformStore>(make: &dyn Fn() -> S) -> World<S> {
    World::fast_hashing(make())
}

/// An account `username` with email `{username}@example.org` and role `role`.
pub fn new_account(username: &str, role: UserRole) -> NewAccount {
    NewAccount::new(username, &format!("{username}@example.org"), PASSWORD).with_role(role)
}

impl<S: PlatformStore> World<S> {
    /// `actor` creates an account, which must succeed.
    pub fn account(&self, actor: &str, username: &str, role: UserRole) {
        self.engine
            .create_account(
                &self.by(actor),
                &new_account(username, role),
                &mut fresh_entropy(),
            )
            .unwrap_or_else(|e| panic!("{actor} create account {username}: {e}"));
    }

    /// `actor` tries to update `user`'s account.
    pub fn try_update(&self, actor: &str, user: &str, update: &AccountUpdate) -> Result<()> {
        self.engine
            .update_account(&self.by(actor), &name(user), update, &mut fresh_entropy())
            .map(|_| ())
    }

    /// `actor` creates a keypair for `user`, which must succeed: its access key and
    /// secret.
    pub fn keypair(&self, actor: &str, user: &str) -> (AccessKey, String) {
        let created = self
            .engine
            .create_keypair(&self.by(actor), &name(user), &mut fresh_entropy())
            .unwrap_or_else(|e| panic!("{actor} create keypair for {user}: {e}"))
            .value;
        (
            created.keypair.access_key,
            created.secret.expose().to_owned(),
        )
    }

    /// `actor` creates policy `policy` with `limits` on any host.
    pub fn policy(&self, actor: &str, policy: &str, limits: Limits) {
        self.engine
            .create_policy(
                &self.by(actor),
                &ResourcePolicy {
                    name: policy_name(policy),
                    limits,
                    hosts: Hosts::Any,
                },
            )
            .unwrap_or_else(|e| panic!("{actor} create policy {policy}: {e}"));
    }
}

/// A policy name, panicking on an invalid one.
pub fn policy_name(text: &str) -> PolicyName {
    PolicyName::new(text).unwrap_or_else(|e| panic!("{e}"))
}

fn fields(err: &Error) -> Vec<(&'static str, FieldProblem)> {
    match err {
        Error::InvalidFields(found) => found.iter().map(|f| (f.field, f.problem)).collect(),
        other => panic!("expected invalid fields, got {other}"),
    }
}

fn request(cpu: u64, ram_gb: u64) -> SessionRequest {
    SessionRequest {
        cpu,
        ram_gb,
        containers: 1,
        ..SessionRequest::default()
    }
}

/// rules A1, A2: creation validates every field and names each failing rule; emails and
/// usernames are unique case-insensitively; a failed creation changes nothing.
pub fn a1_create_account_validates_every_field<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    let ann = w.engine.account(&name(ADMIN), &name("ann")).unwrap();
    assert_eq!(ann.email.as_str(), "ann@example.org");
    assert_eq!(ann.policy.as_str(), "default");
    assert!(!ann.password.as_str().contains(PASSWORD));
    // rule P5: the user got its home namespaces
    w.expect(&[
        ("ann", "storage://c/ann/x", Manage),
        ("ann", "user://ann", Read),
    ]);
    let mut bad = NewAccount::new("a b", "no-at-sign", "qzx");
    bad.full_name = "f".repeat(65);
    bad.domain = String::new();
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .create_account(&w.by(ADMIN), &bad, &mut fresh_entropy())
    });
    let found = fields(&err);
    let named: Vec<&str> = found.iter().map(|(f, _)| *f).collect();
    for field in ["email", "username", "full name", "password", "domain"] {
        assert!(named.contains(&field), "{field} missing from {found:?}");
    }
    assert!(found.contains(&("password", FieldProblem::TooShort { min: 8 })));
    assert!(found.contains(&("password", FieldProblem::NoDigit)));
    assert!(found.contains(&("password", FieldProblem::NoSpecial)));
    assert!(found.contains(&("full name", FieldProblem::TooLong { max: 64 })));
    assert!(
        !err.to_string().contains("qzx"),
        "the password leaked: {err}"
    );
    // uniqueness ignores case (rule A1)
    for (username, email, what) in [
        ("ANN", "other@example.org", "username"),
        ("other", "Ann@EXAMPLE.org", "email"),
    ] {
        let err = w.refused(ErrorKind::Conflict, |w| {
            w.engine.create_account(
                &w.by(ADMIN),
                &NewAccount::new(username, email, PASSWORD),
                &mut fresh_entropy(),
            )
        });
        assert!(
            matches!(&err, Error::AlreadyExists { what: found, .. } if *found == what),
            "{err}"
        );
    }
    // an unknown policy
    let mut unknown = new_account("bob", UserRole::User);
    unknown.policy = "gold".into();
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .create_account(&w.by(ADMIN), &unknown, &mut fresh_entropy())
    });
}

/// rules A1, A2: each length limit at the boundary (64 accepted, 65 refused) and the
/// password length (7 refused, 8 accepted), through the engine.
pub fn a1_a2_boundaries_at_the_engine<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    let long_user = "u".repeat(64);
    let long_email = format!("{}@example.org", "e".repeat(52));
    let mut at_limit = NewAccount::new(&long_user, &long_email, "abcd12!x");
    at_limit.full_name = "f".repeat(64);
    w.engine
        .create_account(&w.by(ADMIN), &at_limit, &mut fresh_entropy())
        .unwrap();
    for (field, edit) in [
        ("username", 0usize),
        ("email", 1),
        ("full name", 2),
        ("password", 3),
    ] {
        let mut over = NewAccount::new("v", "v@example.org", "abcd12!x");
        match edit {
            0 => over.username = "v".repeat(65),
            1 => over.email = format!("{}@example.org", "e".repeat(53)),
            2 => over.full_name = "f".repeat(65),
            _ => over.password = "abc12!x".into(),
        }
        let err = w.refused(ErrorKind::InvalidInput, |w| {
            w.engine
                .create_account(&w.by(ADMIN), &over, &mut fresh_entropy())
        });
        let found = fields(&err);
        let expected = if field == "password" {
            FieldProblem::TooShort { min: 8 }
        } else {
            FieldProblem::TooLong { max: 64 }
        };
        assert_eq!(found, [(field, expected)], "{field}");
    }
}

/// rules A1, A3, A4: updates of every field; the email is immutable; a user cannot update
/// itself (it holds only `read` on `user://u`); there is no delete.
pub fn a1_update_account<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    w.policy(ADMIN, "gold", Limits::unlimited());
    let update = AccountUpdate {
        full_name: Some("Ann Example".into()),
        password: Some("n3w-passw0rd".into()),
        need_password_change: Some(true),
        domain: Some("research".into()),
        policy: Some("gold".into()),
        email: Some("ann@example.org".into()),
        ..AccountUpdate::default()
    };
    w.try_update(ADMIN, "ann", &update).unwrap();
    let ann = w.engine.account(&name("ann"), &name("ann")).unwrap();
    assert_eq!(ann.full_name, "Ann Example");
    assert!(ann.need_password_change);
    assert_eq!(ann.domain, "research");
    assert_eq!(ann.policy.as_str(), "gold");
    assert!(w.engine.login("ann", "n3w-passw0rd").is_ok());
    assert_eq!(
        w.engine.login("ann", PASSWORD).unwrap_err(),
        Error::AuthenticationRefused
    );
    // the same values again change nothing
    let same = AccountUpdate {
        full_name: Some("Ann Example".into()),
        ..AccountUpdate::default()
    };
    w.refused(ErrorKind::NoEffect, |w| w.try_update(ADMIN, "ann", &same));
    // rule A1: the email is immutable
    let email = AccountUpdate {
        email: Some("new@example.org".into()),
        ..AccountUpdate::default()
    };
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.try_update(ADMIN, "ann", &email)
    });
    assert_eq!(fields(&err), [("email", FieldProblem::Immutable)]);
    // rule A2 applies to updates too
    let weak = AccountUpdate {
        password: Some("password".into()),
        ..AccountUpdate::default()
    };
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.try_update(ADMIN, "ann", &weak)
    });
    assert_eq!(
        fields(&err),
        [
            ("password", FieldProblem::NoDigit),
            ("password", FieldProblem::NoSpecial)
        ]
    );
    // rule A4: a user cannot update itself or others
    w.account(ADMIN, "bob", UserRole::User);
    for target in ["ann", "bob"] {
        w.refused(ErrorKind::Forbidden, |w| {
            w.try_update(
                "ann",
                target,
                &AccountUpdate {
                    full_name: Some("x".into()),
                    ..AccountUpdate::default()
                },
            )
        });
    }
    // rule A3: users are never removed
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.remove_role(&w.by(ADMIN), &name("ann"))
    });
}

/// rule A1: listing keeps active and inactive apart and filters email and username by a
/// case-insensitive text; rule A4: listing needs `read` on `user://`.
pub fn a1_list_accounts<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    for user in ["ann", "bob", "carol"] {
        w.account(ADMIN, user, UserRole::User);
    }
    w.account(ADMIN, "mo", UserRole::Monitor);
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("bob"))
        .unwrap();
    let all = w
        .engine
        .accounts(&name("mo"), &AccountFilter::default())
        .unwrap();
    let names = |list: &[acl_platform::Account]| -> Vec<String> {
        list.iter().map(|a| a.user.to_string()).collect()
    };
    assert_eq!(names(&all.active), ["ann", "carol", "mo"]);
    assert_eq!(names(&all.inactive), ["bob"]);
    let filtered = w
        .engine
        .accounts(
            &name(ADMIN),
            &AccountFilter {
                text: Some("AR".into()),
            },
        )
        .unwrap();
    assert_eq!(names(&filtered.active), ["carol"]);
    let by_email = w
        .engine
        .accounts(
            &name(ADMIN),
            &AccountFilter {
                text: Some("B@EXAMPLE".into()),
            },
        )
        .unwrap();
    assert_eq!(names(&by_email.inactive), ["bob"]);
    let err = w
        .engine
        .accounts(&name("ann"), &AccountFilter::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

/// rule A3: deactivating denies every check and login and deactivates every keypair;
/// reactivating does not reactivate them. A login refusal does not tell an unknown user,
/// an inactive one and a wrong password apart.
pub fn a3_deactivation<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    let (key1, secret1) = w.keypair(ADMIN, "ann");
    let (key2, _) = w.keypair(ADMIN, "ann");
    assert!(w.engine.login("ann@example.org", PASSWORD).is_ok());
    assert!(w.engine.login("ANN", PASSWORD).is_ok());
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("ann"))
        .unwrap();
    w.expect(&[("ann", "storage://c/ann", Deny)]);
    let refusals = [
        w.engine.login("ann", PASSWORD).unwrap_err(),
        w.engine.login("nobody", PASSWORD).unwrap_err(),
        w.engine
            .login("admin@example.org", "wrong-pa55!")
            .unwrap_err(),
        w.engine.authenticate(key1.as_str(), &secret1).unwrap_err(),
    ];
    for refusal in &refusals {
        assert_eq!(refusal, &Error::AuthenticationRefused);
        assert_eq!(refusal.to_string(), refusals[0].to_string());
    }
    let keys = w.engine.keypairs(&name(ADMIN), &name("ann")).unwrap();
    assert!(keys.iter().all(|k| !k.active), "{keys:?}");
    let ann = w.engine.account(&name(ADMIN), &name("ann")).unwrap();
    assert_eq!(ann.status, UserStatus::Inactive);
    // an inactive user's keypair cannot be activated
    w.refused(ErrorKind::Conflict, |w| {
        w.engine.set_keypair_active(&w.by(ADMIN), &key2, true)
    });
    w.engine
        .activate_account(&w.by(ADMIN), &name("ann"))
        .unwrap();
    assert!(w.engine.login("ann", PASSWORD).is_ok());
    w.expect(&[("ann", "storage://c/ann", Manage)]);
    let keys = w.engine.keypairs(&name(ADMIN), &name("ann")).unwrap();
    assert!(
        keys.iter().all(|k| !k.active),
        "reactivation reactivated keys"
    );
    w.engine
        .set_keypair_active(&w.by(ADMIN), &key1, true)
        .unwrap();
    assert!(w.engine.authenticate(key1.as_str(), &secret1).is_ok());
    // the status field deactivates the same way
    w.try_update(
        ADMIN,
        "ann",
        &AccountUpdate {
            status: Some(UserStatus::BeforeVerification),
            ..AccountUpdate::default()
        },
    )
    .unwrap();
    assert!(w.engine.login("ann", PASSWORD).is_err());
    assert!(w.engine.authenticate(key1.as_str(), &secret1).is_err());
    w.expect(&[("ann", "storage://c/ann", Deny)]);
}

/// rule A4: a role is a cluster-role membership, changed in the same transaction, and
/// admin rights are ACL checks: a plain user granted `manage` on `user://` may create
/// users, an admin demoted to user may not.
pub fn a4_roles_are_memberships<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "root", UserRole::Superadmin);
    w.account(ADMIN, "ops", UserRole::Admin);
    w.account(ADMIN, "mo", UserRole::Monitor);
    w.account(ADMIN, "ann", UserRole::User);
    let reader = w.engine.reader().unwrap();
    let closure = |u: &str| reader.closure(&name(u)).unwrap();
    assert!(closure("root").contains(&name("c/admin")));
    assert!(closure("ops").contains(&name("c/admin")));
    assert!(closure("mo").contains(&name("c/monitor")));
    assert!(!closure("ann").contains(&name("c/admin")));
    drop(reader);
    // ops, an admin, creates users; mo and ann may not
    w.account("ops", "made-by-ops", UserRole::User);
    for actor in ["mo", "ann"] {
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine.create_account(
                &w.by(actor),
                &new_account("x", UserRole::User),
                &mut fresh_entropy(),
            )
        });
        w.refused(ErrorKind::Forbidden, |w| {
            w.engine.create_policy(
                &w.by(actor),
                &ResourcePolicy {
                    name: policy_name("p"),
                    limits: Limits::unlimited(),
                    hosts: Hosts::Any,
                },
            )
        });
    }
    // demote ops: the membership goes in the same transaction
    let before = w.engine.reader().unwrap().revision().unwrap();
    w.try_update(
        ADMIN,
        "ops",
        &AccountUpdate {
            role: Some(UserRole::User),
            ..AccountUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(
        w.engine.reader().unwrap().revision().unwrap(),
        Revision(before.0 + 1)
    );
    assert!(
        !w.engine
            .reader()
            .unwrap()
            .closure(&name("ops"))
            .unwrap()
            .contains(&name("c/admin"))
    );
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.create_account(
            &w.by("ops"),
            &new_account("y", UserRole::User),
            &mut fresh_entropy(),
        )
    });
    // one mechanism: a grant of manage on user:// is the right to create users
    w.grant(ADMIN, "user://", "ann", Manage);
    w.account("ann", "made-by-ann", UserRole::User);
    // ... but not to make admins, which needs manage on role://c/admin
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.create_account(
            &w.by("ann"),
            &new_account("z", UserRole::Admin),
            &mut fresh_entropy(),
        )
    });
    // the monitor reads, the admin exports
    assert!(w.engine.policies(&name("mo")).is_ok());
    assert_eq!(
        w.engine.policies(&name("ops")).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

/// rule A5: a keypair's secret is shown once and stored hashed; authentication needs an
/// active keypair of an active user and the right secret.
pub fn a5_keypairs<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    let (key, secret) = w.keypair(ADMIN, "ann");
    let stored = w.engine.keypairs(&name("ann"), &name("ann")).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].access_key, key);
    assert!(stored[0].active);
    assert!(!stored[0].secret.as_str().contains(&secret));
    assert_eq!(stored[0].policy.as_str(), "default");
    let authed = w.engine.authenticate(key.as_str(), &secret).unwrap();
    assert_eq!(authed.user, name("ann"));
    for (k, s) in [
        (key.as_str(), "wrong"),
        ("AKNOTAKEY000000000000", secret.as_str()),
        ("bad key!", secret.as_str()),
    ] {
        assert_eq!(
            w.engine.authenticate(k, s).unwrap_err(),
            Error::AuthenticationRefused
        );
    }
    w.engine
        .set_keypair_active(&w.by(ADMIN), &key, false)
        .unwrap();
    assert!(w.engine.authenticate(key.as_str(), &secret).is_err());
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.set_keypair_active(&w.by(ADMIN), &key, false)
    });
    // a user cannot make keypairs or flip them (manage on user://u is admin's)
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .create_keypair(&w.by("ann"), &name("ann"), &mut fresh_entropy())
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.set_keypair_active(&w.by("ann"), &key, true)
    });
    // nor list another user's
    w.account(ADMIN, "bob", UserRole::User);
    assert_eq!(
        w.engine
            .keypairs(&name("bob"), &name("ann"))
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
}

/// The master key of [`a5_b1_sealed_secrets`].
const MASTER_KEY: &str = "8f2e6a0c4b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f";

/// Rules A5, B1: with a master key a keypair keeps its secret sealed (never in clear, in
/// no row and no dump line) and [`acl_platform::Platform::signing_secret`] opens it; the
/// keypair and its user must be active (rule A3); a keypair made before the master key
/// cannot sign and the error says so; another master key opens nothing.
pub fn a5_b1_sealed_secrets<S: PlatformStore>(make: &dyn Fn() -> S) {
    use acl_platform::MasterKey;
    let mut w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    // made while the platform has no master key
    let (old_key, _) = w.keypair(ADMIN, "ann");
    let err = w.engine.signing_secret(old_key.as_str()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("no master key"), "{err}");
    w.engine = w
        .engine
        .with_master_key(MasterKey::from_hex(MASTER_KEY).unwrap());
    assert!(w.engine.has_master_key());
    let err = w.engine.signing_secret(old_key.as_str()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("created before a master key"),
        "{err}"
    );
    let created = w
        .engine
        .create_keypair(&w.by(ADMIN), &name("ann"), &mut fresh_entropy())
        .unwrap()
        .value;
    let key = created.keypair.access_key.clone();
    let secret = created.secret.expose().to_owned();
    let stored = w
        .engine
        .store()
        .read()
        .unwrap()
        .keypair(&key)
        .unwrap()
        .unwrap();
    let sealed = stored.sealed.clone().expect("a sealed secret");
    assert!(!sealed.as_stored().contains(&secret));
    assert!(!stored.secret.as_str().contains(&secret));
    let (keypair, opened) = w.engine.signing_secret(key.as_str()).unwrap();
    assert_eq!(keypair.user, name("ann"));
    assert_eq!(opened.expose(), secret);
    // no dump line holds the secret
    let mut dump = Vec::new();
    w.engine.dump(&name(ADMIN), &mut dump).unwrap();
    let dump = String::from_utf8(dump).unwrap();
    assert!(dump.contains(sealed.as_stored()));
    assert!(!dump.contains(&secret));
    // unknown keys, inactive keypairs and inactive users sign nothing
    assert_eq!(
        w.engine
            .signing_secret("AKNOTAKEY000000000000")
            .unwrap_err(),
        Error::AuthenticationRefused
    );
    assert_eq!(
        w.engine.signing_secret("bad key!").unwrap_err(),
        Error::AuthenticationRefused
    );
    w.engine
        .set_keypair_active(&w.by(ADMIN), &key, false)
        .unwrap();
    assert_eq!(
        w.engine.signing_secret(key.as_str()).unwrap_err(),
        Error::AuthenticationRefused
    );
    let again = w
        .engine
        .create_keypair(&w.by(ADMIN), &name("ann"), &mut fresh_entropy())
        .unwrap()
        .value
        .keypair
        .access_key;
    assert!(w.engine.signing_secret(again.as_str()).is_ok());
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("ann"))
        .unwrap();
    assert_eq!(
        w.engine.signing_secret(again.as_str()).unwrap_err(),
        Error::AuthenticationRefused
    );
    // another master key opens nothing, and says why
    w.engine
        .activate_account(&w.by(ADMIN), &name("ann"))
        .unwrap();
    w.engine
        .set_keypair_active(&w.by(ADMIN), &key, true)
        .unwrap();
    w.engine = w
        .engine
        .with_master_key(MasterKey::from_hex(&"ab".repeat(32)).unwrap());
    let err = w.engine.signing_secret(key.as_str()).unwrap_err();
    assert!(err.to_string().contains("cannot be unsealed"), "{err}");
}

/// Groups (projects): created with a domain by whoever manages `role://{group}`; members
/// are the role graph; only managers of the group change them (rule A4).
pub fn a4_groups<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    w.account(ADMIN, "bob", UserRole::User);
    let info = w
        .engine
        .create_group(&w.by(ADMIN), &name("proj"), "research")
        .unwrap()
        .value;
    assert_eq!(info.domain, "research");
    w.engine
        .add_group_member(&w.by(ADMIN), &name("proj"), &name("ann"))
        .unwrap();
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .add_group_member(&w.by(ADMIN), &name("proj"), &name("ann"))
    });
    w.grant(ADMIN, "storage://c/proj", "proj", Read);
    w.expect(&[
        ("ann", "storage://c/proj/data", Read),
        ("bob", "storage://c/proj/data", Deny),
    ]);
    // a member lists the members; a stranger may not; a member may not add
    let (found, members) = w.engine.group_members(&name("ann"), &name("proj")).unwrap();
    assert_eq!(found.map(|g| g.domain), Some("research".to_owned()));
    assert_eq!(members, [name("ann")]);
    assert_eq!(
        w.engine
            .group_members(&name("bob"), &name("proj"))
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .add_group_member(&w.by("ann"), &name("proj"), &name("bob"))
    });
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine
            .create_group(&w.by("ann"), &name("other"), "default")
    });
    w.engine
        .remove_group_member(&w.by(ADMIN), &name("proj"), &name("ann"))
        .unwrap();
    w.expect(&[("ann", "storage://c/proj/data", Deny)]);
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine
            .remove_group_member(&w.by(ADMIN), &name("proj"), &name("ann"))
    });
    // a group is removable as a role, its attributes with it (rule P4)
    w.engine.remove_role(&w.by(ADMIN), &name("proj")).unwrap();
    let view = w.engine.store().read().unwrap();
    assert!(view.group_info(&name("proj")).unwrap().is_none());
}

/// rule A6: policies within their maxima; the name is immutable; a policy in use, even by
/// inactive users or keypairs, cannot be deleted and the error names the users;
/// `default` exists from init, unlimited.
pub fn a6_policies<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    let listed = w.engine.policies(&name(ADMIN)).unwrap();
    assert_eq!(listed, [ResourcePolicy::default_policy()]);
    let over = ResourcePolicy {
        name: policy_name("big"),
        limits: Limits::unlimited().with(Resource::Cpu, Limit::Max(513)),
        hosts: Hosts::Any,
    };
    let err = w.refused(ErrorKind::InvalidInput, |w| {
        w.engine.create_policy(&w.by(ADMIN), &over)
    });
    assert_eq!(
        fields(&err),
        [("cpu", FieldProblem::AboveMaximum { max: 512 })]
    );
    w.policy(
        ADMIN,
        "gold",
        Limits::unlimited().with(Resource::Cpu, Limit::Max(512)),
    );
    w.refused(ErrorKind::Conflict, |w| {
        w.engine
            .create_policy(&w.by(ADMIN), &ResourcePolicy::default_policy())
    });
    let mut gold = w.engine.policies(&name(ADMIN)).unwrap()[1].clone();
    gold.limits.gpu = Limit::Max(2);
    w.engine.update_policy(&w.by(ADMIN), &gold).unwrap();
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.update_policy(&w.by(ADMIN), &gold)
    });
    let mut missing = gold.clone();
    missing.name = policy_name("silver");
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.update_policy(&w.by(ADMIN), &missing)
    });
    // in use by an inactive user and a keypair: refused, naming them
    let mut ann = new_account("ann", UserRole::User);
    ann.policy = "gold".into();
    w.engine
        .create_account(&w.by(ADMIN), &ann, &mut fresh_entropy())
        .unwrap();
    let (key, _) = w.keypair(ADMIN, "ann");
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("ann"))
        .unwrap();
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.delete_policy(&w.by(ADMIN), &policy_name("gold"))
    });
    let text = err.to_string();
    assert!(
        text.contains("`ann`") && text.contains(key.as_str()),
        "{text}"
    );
    // move the user; the keypair still holds it
    w.try_update(
        ADMIN,
        "ann",
        &AccountUpdate {
            policy: Some("default".into()),
            ..AccountUpdate::default()
        },
    )
    .unwrap();
    let err = w.refused(ErrorKind::Conflict, |w| {
        w.engine.delete_policy(&w.by(ADMIN), &policy_name("gold"))
    });
    assert!(!err.to_string().contains("`ann`"), "{err}");
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .delete_policy(&w.by(ADMIN), &PolicyName::default_policy())
    });
    w.policy(ADMIN, "bronze", Limits::unlimited());
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.delete_policy(&w.by("ann"), &policy_name("bronze"))
    });
    w.engine
        .delete_policy(&w.by(ADMIN), &policy_name("bronze"))
        .unwrap();
    w.refused(ErrorKind::NotFound, |w| {
        w.engine.delete_policy(&w.by(ADMIN), &policy_name("bronze"))
    });
}

/// rule A6: admission of sessions against the policy, the per-session limits and the
/// usage recalculated from the ledger; a refusal names resource, limit, usage, request.
pub fn a6_session_admission<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.policy(
        ADMIN,
        "small",
        Limits::unlimited()
            .with(Resource::Cpu, Limit::Max(4))
            .with(Resource::ConcurrentSessions, Limit::Max(2))
            .with(Resource::ContainersPerSession, Limit::Max(1)),
    );
    let mut ann = new_account("ann", UserRole::User);
    ann.policy = "small".into();
    w.engine
        .create_account(&w.by(ADMIN), &ann, &mut fresh_entropy())
        .unwrap();
    let start = |w: &World<S>, cpu| w.engine.start_session(&w.by("ann"), &request(cpu, 1));
    let first = start(&w, 3).unwrap().value;
    let err = w.refused(ErrorKind::Forbidden, |w| start(w, 2));
    assert_eq!(
        err,
        Error::AdmissionRefused {
            resource: "cpu",
            limit: 4,
            usage: 3,
            request: 2
        }
    );
    let two = SessionRequest {
        containers: 2,
        ..request(0, 0)
    };
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.start_session(&w.by("ann"), &two)
    });
    start(&w, 1).unwrap();
    let err = w.refused(ErrorKind::Forbidden, |w| start(w, 0));
    assert!(
        matches!(
            err,
            Error::AdmissionRefused {
                resource: "concurrent_sessions",
                limit: 2,
                usage: 2,
                request: 1
            }
        ),
        "{err}"
    );
    let report = w.engine.usage(&name("ann"), &name("ann")).unwrap();
    assert_eq!((report.usage.cpu, report.usage.sessions), (4, 2));
    w.engine.stop_session(&w.by("ann"), &first.id).unwrap();
    w.refused(ErrorKind::NoEffect, |w| {
        w.engine.stop_session(&w.by("ann"), &first.id)
    });
    let report = w.engine.usage(&name(ADMIN), &name("ann")).unwrap();
    assert_eq!((report.usage.cpu, report.usage.sessions), (1, 1));
    start(&w, 3).unwrap();
    assert_eq!(
        w.engine.sessions(&name("ann"), &name("ann")).unwrap().len(),
        3
    );
    // another user may neither stop ann's sessions nor see them
    w.account(ADMIN, "bob", UserRole::User);
    let running = first_running(&w, "ann");
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.stop_session(&w.by("bob"), &running)
    });
    w.refused(ErrorKind::NotFound, |w| {
        w.engine
            .stop_session(&w.by(ADMIN), &SessionId::new("s999").unwrap())
    });
    assert!(w.engine.sessions(&name("bob"), &name("ann")).is_err());
    // an inactive user starts nothing
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("bob"))
        .unwrap();
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.start_session(&w.by("bob"), &request(1, 1))
    });
}

/// rules A4, A6: an admin starts a session on a user's behalf (Backend.AI's owner access
/// key): admitted or refused against the owner's policy and the owner's usage, recorded as
/// the owner's; a user without `manage` on `user://{owner}` starts only its own.
pub fn a6_sessions_on_behalf<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.policy(
        ADMIN,
        "small",
        Limits::unlimited().with(Resource::Cpu, Limit::Max(4)),
    );
    let mut ann = new_account("ann", UserRole::User);
    ann.policy = "small".into();
    w.engine
        .create_account(&w.by(ADMIN), &ann, &mut fresh_entropy())
        .unwrap();
    w.account(ADMIN, "bob", UserRole::User);
    let for_ann = |w: &World<S>, by: &str, cpu| {
        w.engine
            .start_session_for(&w.by(by), &name("ann"), &request(cpu, 1))
    };
    let first = for_ann(&w, ADMIN, 3).unwrap().value;
    assert_eq!(first.user, name("ann"));
    // the owner's usage counts, whoever started the session
    let err = w.refused(ErrorKind::Forbidden, |w| for_ann(w, ADMIN, 2));
    assert_eq!(
        err,
        Error::AdmissionRefused {
            resource: "cpu",
            limit: 4,
            usage: 3,
            request: 2
        }
    );
    w.refused(ErrorKind::Forbidden, |w| {
        w.engine.start_session(&w.by("ann"), &request(2, 1))
    });
    // bob holds no manage on user://ann
    let err = w.refused(ErrorKind::Forbidden, |w| for_ann(w, "bob", 1));
    assert!(err.to_string().contains("user://ann"), "{err}");
    // the owner's own start is the same call with itself as owner
    for_ann(&w, "ann", 1).unwrap();
    let report = w.engine.usage(&name(ADMIN), &name("ann")).unwrap();
    assert_eq!((report.usage.cpu, report.usage.sessions), (4, 2));
    // the admin's own policy and usage are untouched
    let admin = w.engine.usage(&name(ADMIN), &name(ADMIN)).unwrap();
    assert_eq!(admin.usage.sessions, 0);
    // an owner that is not an active user is refused, whoever asks
    w.engine
        .deactivate_account(&w.by(ADMIN), &name("bob"))
        .unwrap();
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .start_session_for(&w.by(ADMIN), &name("bob"), &request(1, 1))
    });
    w.refused(ErrorKind::InvalidInput, |w| {
        w.engine
            .start_session_for(&w.by(ADMIN), &name("c/admin"), &request(1, 1))
    });
}

fn first_running<S: PlatformStore>(w: &World<S>, user: &str) -> SessionId {
    w.engine
        .sessions(&name(ADMIN), &name(user))
        .unwrap()
        .into_iter()
        .find(|s| s.is_running())
        .unwrap()
        .id
}

/// rule A6: folder creation is refused beyond the folder count or on a host the policy
/// does not allow.
pub fn a6_folder_admission<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.engine
        .create_policy(
            &w.by(ADMIN),
            &ResourcePolicy {
                name: policy_name("one"),
                limits: Limits::unlimited().with(Resource::Folders, Limit::Max(1)),
                hosts: Hosts::Only(["h1".to_owned()].into()),
            },
        )
        .unwrap();
    let mut ann = new_account("ann", UserRole::User);
    ann.policy = "one".into();
    w.engine
        .create_account(&w.by(ADMIN), &ann, &mut fresh_entropy())
        .unwrap();
    let folder = |n: &str| FolderName::new(n).unwrap();
    let err = w.refused(ErrorKind::Forbidden, |w| {
        w.engine.create_folder(&w.by("ann"), &folder("a"), "h2")
    });
    assert!(err.to_string().contains("`h2`"), "{err}");
    w.engine
        .create_folder(&w.by("ann"), &folder("a"), "h1")
        .unwrap();
    let err = w.refused(ErrorKind::Forbidden, |w| {
        w.engine.create_folder(&w.by("ann"), &folder("b"), "h1")
    });
    assert_eq!(
        err,
        Error::AdmissionRefused {
            resource: "folders",
            limit: 1,
            usage: 1,
            request: 1
        }
    );
    // a user without an account has the default policy: unlimited
    w.users(&["plain"]);
    for n in ["a", "b", "c"] {
        w.engine
            .create_folder(&w.by("plain"), &folder(n), "anywhere")
            .unwrap();
    }
}

/// rule A7: users, keypairs, policies and sessions export to CSV with a header row and
/// without any password hash or secret; export file names over 255 characters are
/// refused.
pub fn a7_csv_export<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    w.account(ADMIN, "ann", UserRole::User);
    w.account(ADMIN, "mo", UserRole::Monitor);
    let (key, secret) = w.keypair(ADMIN, "ann");
    w.engine
        .start_session(&w.by("ann"), &request(2, 4))
        .unwrap();
    let export = |f: &dyn Fn(&mut Vec<u8>) -> Result<()>| {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let users = export(&|out| w.engine.export_accounts(&name("mo"), out));
    let mut lines = users.lines();
    assert_eq!(
        lines.next(),
        Some(
            "username,email,full_name,role,status,need_password_change,domain,\
             resource_policy,created_ms"
        )
    );
    assert!(users.contains("ann,ann@example.org,,user,active,false,default,default,"));
    assert!(!users.contains("$argon2"), "{users}");
    let keys = export(&|out| w.engine.export_keypairs(&name(ADMIN), out));
    assert!(keys.starts_with("access_key,username,active,resource_policy,created_ms\n"));
    assert!(keys.contains(&format!("{key},ann,true,default,")));
    assert!(!keys.contains(&secret) && !keys.contains("$argon2"));
    let policies = export(&|out| w.engine.export_policies(&name(ADMIN), out));
    assert_eq!(policies.lines().count(), 2);
    let sessions = export(&|out| w.engine.export_sessions(&name(ADMIN), out));
    assert!(sessions.starts_with("id,username,cpu,ram_gb,gpu,fgpu_hundredths,containers,"));
    assert!(sessions.contains(",ann,2,4,0,0,1,"), "{sessions}");
    let mut sink = Vec::new();
    assert_eq!(
        w.engine
            .export_accounts(&name("ann"), &mut sink)
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert!(sink.is_empty());
    assert!(acl_platform::ExportFileName::new(&"x".repeat(255)).is_ok());
    assert_eq!(
        acl_platform::ExportFileName::new(&"x".repeat(256))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

/// rule M3 as the audit trail: by revision range and by actor; entries name actor,
/// action and target and never contain a password, hash or secret.
pub fn audit_trail<S: PlatformStore>(make: &dyn Fn() -> S) {
    let w = world(make);
    let start = w.engine.reader().unwrap().revision().unwrap();
    w.account(ADMIN, "ann", UserRole::User);
    w.account(ADMIN, "mo", UserRole::Monitor);
    let (_, secret) = w.keypair(ADMIN, "ann");
    w.try_update(
        ADMIN,
        "ann",
        &AccountUpdate {
            password: Some("an0ther-pw".into()),
            ..AccountUpdate::default()
        },
    )
    .unwrap();
    w.engine
        .start_session(&w.by("ann"), &request(1, 1))
        .unwrap();
    let all = w
        .engine
        .audit(
            &name("mo"),
            &AuditQuery {
                after: start,
                ..AuditQuery::default()
            },
            &PageRequest::all(),
        )
        .unwrap()
        .items;
    let actions: Vec<&str> = all.iter().map(|e| e.change.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_create",
            "user_create",
            "keypair_create",
            "user_update",
            "session_start"
        ]
    );
    assert_eq!(all[0].change.target, "ann");
    assert_eq!(all[0].change.actor, Some(name(ADMIN)));
    let everything = format!("{all:?}");
    for leak in [PASSWORD, "an0ther-pw", secret.as_str(), "$argon2"] {
        assert!(!everything.contains(leak), "{leak} in the audit trail");
    }
    // a revision range and an actor
    let window = w
        .engine
        .audit(
            &name(ADMIN),
            &AuditQuery {
                after: Revision(start.0 + 1),
                up_to: Some(Revision(start.0 + 3)),
                actor: None,
            },
            &PageRequest::all(),
        )
        .unwrap()
        .items;
    let revisions: Vec<u64> = window.iter().map(|e| e.revision.0).collect();
    assert_eq!(revisions, [start.0 + 2, start.0 + 3]);
    let by_ann = w
        .engine
        .audit(
            &name(ADMIN),
            &AuditQuery {
                actor: Some(name("ann")),
                ..AuditQuery::default()
            },
            &PageRequest::all(),
        )
        .unwrap()
        .items;
    assert_eq!(by_ann.len(), 1);
    assert_eq!(by_ann[0].change.action, "session_start");
    assert_eq!(
        w.engine
            .audit(&name("ann"), &AuditQuery::default(), &PageRequest::all())
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
}

/// rules A1, A4: the first admin as a full account at init; init makes `{C}/monitor` and
/// the `default` policy.
pub fn init_with_account<S: PlatformStore>(make: &dyn Fn() -> S) {
    let engine = acl_platform::Platform::with_options(make(), acl_core::Schema::standard(), {
        acl_platform::PlatformOptions {
            hash_cost: acl_platform::HashCost::minimum(),
            ..acl_platform::PlatformOptions::default()
        }
    });
    let cluster = acl_core::ClusterName::new("c").unwrap();
    let user_admin = new_account("boss", UserRole::User);
    assert_eq!(
        engine
            .init_with_account(
                &cluster,
                &user_admin,
                &mut entropy(1),
                acl_core::Timestamp(0)
            )
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let boss = new_account("boss", UserRole::Superadmin);
    engine
        .init_with_account(&cluster, &boss, &mut entropy(1), acl_core::Timestamp(0))
        .unwrap();
    let account = engine.login("boss@example.org", PASSWORD).unwrap();
    assert_eq!(account.role, UserRole::Superadmin);
    assert!(
        engine
            .check(&name("boss"), &uri("user://"), Manage)
            .unwrap()
    );
    let view = engine.store().read().unwrap();
    assert!(view.principal(&name("c/monitor")).unwrap().is_some());
    assert_eq!(
        view.principal(&name("c/monitor")).unwrap().map(|r| r.kind),
        Some(PrincipalKind::Role)
    );
    assert_eq!(
        view.policy(&PolicyName::default_policy()).unwrap(),
        Some(ResourcePolicy::default_policy())
    );
    drop(view);
    assert_eq!(
        engine
            .init_with_account(&cluster, &boss, &mut entropy(2), acl_core::Timestamp(1))
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    // the cluster roles cannot be removed
    let by = acl_core::Caller::new(name("boss"), acl_core::Timestamp(2));
    assert_eq!(
        engine
            .remove_role(&by, &name("c/monitor"))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
