//! The administration side of Backend.AI (rules A1 to A7) on the engine: accounts,
//! logins, keypairs, groups, resource policies, the session ledger and admission, CSV
//! export and the audit trail.
//!
//! One mechanism: admin rights are grants held through the cluster roles (rule A4). Every
//! workflow asks the ACL, never "is this an admin?": creating and listing users needs
//! `manage` / `read` on `user://`, changing one `manage` on `user://{u}`, changing a role
//! `manage` on the cluster role's `role://` URI, a group's members `manage` on the group's
//! `role://` URI, a policy `manage` on `policy://{name}`. A role is membership of a cluster
//! role: `superadmin` and `admin` of `{C}/admin`, `monitor` of `{C}/monitor` (`read` on
//! `user://` and `policy://`), `user` of neither; changing the role changes the membership
//! in the same transaction.
//!
//! Hashing (argon2id) runs before the write transaction opens, so a slow hash never holds
//! the store's write lock. Each mutation is one transaction with one changelog entry, which
//! names actor, action and target and never holds a password, secret or hash.

use std::io;

use serde::{Deserialize, Serialize};

use acl_core::txn::{
    authorize, canonical_name, cluster_role, link_existing_members, put_grant, remove_grant,
};
use acl_core::{Applied, Caller, Step};

use crate::ALL;
use crate::account::{
    self, AccessKey, Account, AccountKey, Email, Entropy, GroupInfo, Keypair, Password, Secret,
    SecretHash, UserRole, UserStatus,
};
use crate::export;
use crate::platform::Platform;
use crate::policy::{
    PolicyName, ResourcePolicy, Session, SessionId, SessionRequest, Usage, admit_session,
};
use crate::problems::Problems;
use crate::seal::SealedSecret;
use crate::store::{PlatformStore, PlatformTxn, PlatformView};
use acl_core::Level;
use acl_core::Schema;
use acl_core::Uri;
use acl_core::txn::closure as closure_of;
use acl_core::{Change, ChangeEntry, PrincipalKind, PrincipalRecord, Revision};
use acl_core::{ClusterName, PrincipalName};
use acl_core::{Error, FieldError, FieldProblem, Result};
use acl_core::{Page, PageRequest};
use acl_core::{ReadView, WriteTxn};

/// A new account's fields as the adapter read them (rule A1); the engine validates them
/// all and names every failing rule. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// The username: the user's principal name.
    pub username: String,
    /// The email.
    pub email: String,
    /// The full name (may be empty).
    pub full_name: String,
    /// The password in clear, hashed before anything is stored.
    pub password: String,
    /// The role.
    pub role: UserRole,
    /// The status.
    pub status: UserStatus,
    /// Descriptive only.
    pub need_password_change: bool,
    /// The domain.
    pub domain: String,
    /// The resource policy's name.
    pub policy: String,
}

impl NewAccount {
    /// An active `user` in domain `default` under policy `default`, with no full name.
    pub fn new(username: &str, email: &str, password: &str) -> NewAccount {
        NewAccount {
            username: username.to_owned(),
            email: email.to_owned(),
            full_name: String::new(),
            password: password.to_owned(),
            role: UserRole::User,
            status: UserStatus::Active,
            need_password_change: false,
            domain: "default".to_owned(),
            policy: PolicyName::DEFAULT.to_owned(),
        }
    }

    /// The same account with role `role`.
    pub fn with_role(mut self, role: UserRole) -> NewAccount {
        self.role = role;
        self
    }
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The fields to change on an account (rule A1); `None` keeps a field. The email cannot
/// change: giving a different one is refused. Its `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// Refused unless equal to the current email (rule A1: immutable).
    pub email: Option<String>,
    /// A new full name.
    pub full_name: Option<String>,
    /// A new password, checked against rule A2.
    pub password: Option<String>,
    /// A new role; the cluster-role membership follows in the same transaction.
    pub role: Option<UserRole>,
    /// A new status; deactivating deactivates every keypair (rule A3).
    pub status: Option<UserStatus>,
    /// The descriptive flag.
    pub need_password_change: Option<bool>,
    /// A new domain.
    pub domain: Option<String>,
    /// A new resource policy.
    pub policy: Option<String>,
}

impl std::fmt::Debug for AccountUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountUpdate")
            .field("full_name", &self.full_name)
            .field("password", &self.password.as_ref().map(|_| ".."))
            .field("role", &self.role)
            .field("status", &self.status)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A filter for [`Platform::accounts`]: a case-insensitive text matched against the email
/// and the username.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFilter {
    /// Keep accounts whose email or username contains this text, ignoring case.
    pub text: Option<String>,
}

/// Accounts listed apart: active, and the others (inactive or before verification).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountList {
    /// Active accounts, in username order.
    pub active: Vec<Account>,
    /// Inactive and before-verification accounts, in username order.
    pub inactive: Vec<Account>,
}

/// A keypair as created: the secret is shown this once (rule A5), then only its hash is
/// kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKeypair {
    /// The stored keypair.
    pub keypair: Keypair,
    /// The secret, for its owner.
    pub secret: Secret,
}

/// A user's policy and the usage of its running sessions, recalculated from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReport {
    /// The user's resource policy.
    pub policy: ResourcePolicy,
    /// What its running sessions hold.
    pub usage: Usage,
}

/// A query of the audit trail (rule M3): the changes with revisions in `(after, up_to]`,
/// by `actor` when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Changes after this revision (exclusive).
    pub after: Revision,
    /// Up to this revision (inclusive), or to the latest.
    pub up_to: Option<Revision>,
    /// Only this actor's changes.
    pub actor: Option<PrincipalName>,
}

/// `user://`.
fn users_root() -> Result<Uri> {
    Uri::root("user")
}

/// `user://{name}`.
pub(crate) fn user_uri(name: &PrincipalName) -> Result<Uri> {
    users_root()?.child(name.as_str())
}

/// `policy://{name}` (or `policy://` for the scheme root).
fn policy_uri(name: Option<&PolicyName>) -> Result<Uri> {
    let root = Uri::root("policy")?;
    match name {
        Some(name) => root.child(name.as_str()),
        None => Ok(root),
    }
}

fn change(by: &Caller, actor: PrincipalName, action: &str, target: &str, detail: String) -> Change {
    Change {
        at: by.at,
        actor: Some(actor),
        action: action.into(),
        target: target.into(),
        detail,
    }
}

/// The rows init adds for administration (rules A4, A6): the cluster role `{C}/monitor`
/// with `read` on `user://` and `policy://` (where the schema has them), and the `default`
/// policy, unlimited.
pub(crate) fn init_rows<T: PlatformTxn + ?Sized>(
    schema: &Schema,
    tx: &mut T,
    cluster: &ClusterName,
) -> Result<()> {
    let monitor = cluster_role(cluster, "monitor")?;
    tx.insert_principal(&PrincipalRecord {
        name: monitor.clone(),
        kind: PrincipalKind::Role,
        active: true,
    })?;
    for scheme in ["user", "policy"] {
        if schema.scheme(scheme).is_some() {
            put_grant(tx, &monitor, &Uri::root(scheme)?, Level::Read)?;
        }
    }
    tx.put_policy(&ResourcePolicy::default_policy())
}

/// Keeps the account and keypairs in step with the principal's active flag, after
/// [`Engine::set_active`] changed it (rules A1, A3).
pub(crate) fn follow_active<T: PlatformTxn + ?Sized>(
    tx: &mut T,
    user: &PrincipalName,
    active: bool,
) -> Result<()> {
    if let Some(mut account) = tx.account(user)? {
        account.status = if active {
            UserStatus::Active
        } else {
            UserStatus::Inactive
        };
        tx.put_account(&account)?;
    }
    if !active {
        deactivate_keypairs(tx, user)?;
    }
    Ok(())
}

/// Deactivates every active keypair of `user` (rule A3); how many.
fn deactivate_keypairs<T: PlatformTxn + ?Sized>(tx: &mut T, user: &PrincipalName) -> Result<usize> {
    let mut count = 0;
    for mut keypair in tx.keypairs_of(user)? {
        if keypair.active {
            keypair.active = false;
            tx.put_keypair(&keypair)?;
            count += 1;
        }
    }
    Ok(count)
}

/// The resource policy of `user`: its account's, or `default` for a user without one.
fn policy_of<V: PlatformView + ?Sized>(view: &V, user: &PrincipalName) -> Result<ResourcePolicy> {
    let name = match view.account(user)? {
        Some(account) => account.policy,
        None => PolicyName::default_policy(),
    };
    view.policy(&name)?
        .ok_or_else(|| Error::not_found("resource policy", name.as_str()))
}

/// Refuses a new folder of `owner` on `host` beyond its policy's folder count or on a host
/// it does not allow (rule A6). The count is the owner's active folders and the shares it
/// holds (Backend.AI counts created and invited folders).
pub(crate) fn admit_folder<V: PlatformView + ?Sized>(
    view: &V,
    owner: &PrincipalName,
    host: &str,
) -> Result<()> {
    let policy = policy_of(view, owner)?;
    let owned = view
        .folders_of(owner)?
        .iter()
        .filter(|f| f.is_active())
        .count();
    let shared = view.shares_of_user(owner)?.len();
    let count = u64::try_from(owned.saturating_add(shared)).unwrap_or(u64::MAX);
    crate::policy::admit_folder(&policy, count, host)
}

/// The membership grant of a role (rule A4): `role://{C}/admin` or `role://{C}/monitor`.
fn role_uri(cluster: &ClusterName, role: UserRole) -> Result<Option<Uri>> {
    role.cluster_role()
        .map(|r| Ok(Uri::of_role(&cluster_role(cluster, r)?)))
        .transpose()
}

/// Authorizes a change of `user`'s role from `from` to `to`: `manage` on each cluster
/// role's `role://` URI involved (rule P2), and applies the membership change.
fn change_role<T: PlatformTxn + ?Sized>(
    tx: &mut T,
    cluster: &ClusterName,
    actor: &PrincipalName,
    user: &PrincipalName,
    from: Option<UserRole>,
    to: UserRole,
) -> Result<()> {
    let old = match from {
        Some(role) => role_uri(cluster, role)?,
        None => None,
    };
    let new = role_uri(cluster, to)?;
    if old == new {
        return Ok(());
    }
    for uri in old.iter().chain(new.iter()) {
        authorize(tx, actor, uri, Level::Manage, "change role")?;
    }
    if let Some(uri) = &old {
        remove_grant(tx, user, uri)?;
    }
    if let Some(uri) = &new {
        put_grant(tx, user, uri, Level::Read)?;
    }
    Ok(())
}

/// The validated fields of a [`NewAccount`].
struct ValidAccount {
    user: PrincipalName,
    email: Email,
    full_name: String,
    password: Password,
    domain: String,
    policy: PolicyName,
}

fn validate_new(new: &NewAccount, cluster: &ClusterName) -> Result<ValidAccount> {
    let mut problems = Problems::default();
    let email = problems.take(Email::new(&new.email))?;
    let user = problems.take(account::username(&new.username, cluster))?;
    let full_name = problems.take(account::full_name(&new.full_name))?;
    let password = problems.take(Password::new(&new.password))?;
    let domain = problems.take(account::domain(&new.domain))?;
    let policy = problems.take(PolicyName::new(&new.policy))?;
    let (Some(email), Some(user), Some(full_name), Some(password), Some(domain), Some(policy)) =
        (email, user, full_name, password, domain, policy)
    else {
        return Err(problems.into_error());
    };
    problems.into_result()?;
    Ok(ValidAccount {
        user,
        email,
        full_name,
        password,
        domain,
        policy,
    })
}

/// A fixed, known-good hash target for logins of unknown users, so a refusal costs the same
/// time as a wrong password.
fn dummy_hash(cost: crate::account::HashCost) -> Result<SecretHash> {
    SecretHash::hash("not a password", cost, &mut |buf: &mut [u8]| buf.fill(7))
}

impl<S: PlatformStore> Platform<S> {
    /// The cluster, read from a fresh view (for validation before a transaction opens).
    fn current_cluster(&self) -> Result<ClusterName> {
        let view = self.store().read()?;
        self.cluster_in(&view).cloned()
    }

    /// Initializes an empty store as [`Engine::init`](acl_core::Engine::init) does, with the first admin as a full
    /// account (rules A1, A4): `admin.role` must be `superadmin` or `admin`.
    pub fn init_with_account(
        &self,
        cluster: &ClusterName,
        admin: &NewAccount,
        entropy: &mut dyn Entropy,
        at: acl_core::Timestamp,
    ) -> Result<Applied<Account>> {
        if admin.role.cluster_role() != Some("admin") {
            return Err(Error::InvalidInput(format!(
                "the first account must be a superadmin or admin, not `{}`",
                admin.role
            )));
        }
        let valid = validate_new(admin, cluster)?;
        if valid.policy.as_str() != PolicyName::DEFAULT {
            return Err(Error::not_found("resource policy", valid.policy.as_str()));
        }
        let hash = SecretHash::hash(valid.password.expose(), self.options.hash_cost, entropy)?;
        self.transact(|tx| {
            self.init_in(tx, cluster, Some(&valid.user))?;
            let account = Account {
                user: valid.user.clone(),
                email: valid.email.clone(),
                full_name: valid.full_name.clone(),
                password: hash.clone(),
                role: admin.role,
                status: UserStatus::Active,
                need_password_change: admin.need_password_change,
                domain: valid.domain.clone(),
                policy: valid.policy.clone(),
                created: at,
            };
            tx.put_account(&account)?;
            Ok(Step::Changed(
                account,
                Change {
                    at,
                    actor: None,
                    action: "init".into(),
                    target: cluster.to_string(),
                    detail: format!("{}{} <{}>", acl_core::INIT_ADMIN, valid.user, valid.email),
                },
            ))
        })
    }

    /// Creates a user with its account (rules A1, A2, A4): validates every field, naming
    /// each failing rule; refuses a taken email or username (case-insensitively); hashes
    /// the password with argon2id; gives the user its home grants (rule P5) and the
    /// membership of its role's cluster role. The caller needs `manage` on `user://`, and
    /// on the cluster role's `role://` URI for a role other than `user`.
    pub fn create_account(
        &self,
        by: &Caller,
        new: &NewAccount,
        entropy: &mut dyn Entropy,
    ) -> Result<Applied<Account>> {
        let cluster = self.current_cluster()?;
        let valid = validate_new(new, &cluster)?;
        let hash = SecretHash::hash(valid.password.expose(), self.options.hash_cost, entropy)?;
        self.transact(|tx| {
            let actor = canonical_name(&cluster, &by.principal);
            authorize(&*tx, &actor, &users_root()?, Level::Manage, "create user")?;
            let user = valid.user.clone();
            if tx.principal(&user)?.is_some()
                || tx
                    .account_by(&AccountKey::Username(account::username_key(&user)))?
                    .is_some()
            {
                return Err(Error::already_exists("username", user.as_str()));
            }
            if tx
                .account_by(&AccountKey::Email(valid.email.key()))?
                .is_some()
            {
                return Err(Error::already_exists("email", valid.email.as_str()));
            }
            if tx.policy(&valid.policy)?.is_none() {
                return Err(Error::not_found("resource policy", valid.policy.as_str()));
            }
            self.create_user_in(tx, &cluster, &user)?;
            if !new.status.is_active() {
                tx.update_principal(&PrincipalRecord {
                    name: user.clone(),
                    kind: PrincipalKind::User,
                    active: false,
                })?;
            }
            change_role(tx, &cluster, &actor, &user, None, new.role)?;
            let account = Account {
                user: user.clone(),
                email: valid.email.clone(),
                full_name: valid.full_name.clone(),
                password: hash.clone(),
                role: new.role,
                status: new.status,
                need_password_change: new.need_password_change,
                domain: valid.domain.clone(),
                policy: valid.policy.clone(),
                created: by.at,
            };
            tx.put_account(&account)?;
            let detail = format!(
                "email {}, role {}, status {}, policy {}",
                account.email, account.role, account.status, account.policy
            );
            Ok(Step::Changed(
                account,
                change(by, actor, "user_create", user.as_str(), detail),
            ))
        })
    }

    /// Updates an account (rules A1 to A4): full name, password (rule A2), role (the
    /// cluster-role membership follows), status (deactivating denies every check and login
    /// and deactivates every keypair; activating reactivates no keypair), the descriptive
    /// flag, domain and policy. The email is immutable. The caller needs `manage` on
    /// `user://{user}`, and for a role change `manage` on the cluster roles involved. A
    /// change to nothing is [`Error::NoEffect`].
    pub fn update_account(
        &self,
        by: &Caller,
        user: &PrincipalName,
        update: &AccountUpdate,
        entropy: &mut dyn Entropy,
    ) -> Result<Applied<Account>> {
        let cluster = self.current_cluster()?;
        let mut problems = Problems::default();
        let full_name = match &update.full_name {
            Some(text) => problems.take(account::full_name(text))?,
            None => None,
        };
        let password = match &update.password {
            Some(text) => problems.take(Password::new(text))?,
            None => None,
        };
        let domain = match &update.domain {
            Some(text) => problems.take(account::domain(text))?,
            None => None,
        };
        let policy = match &update.policy {
            Some(text) => problems.take(PolicyName::new(text))?,
            None => None,
        };
        problems.into_result()?;
        let hash = password
            .map(|p| SecretHash::hash(p.expose(), self.options.hash_cost, entropy))
            .transpose()?;
        self.transact(|tx| {
            let actor = canonical_name(&cluster, &by.principal);
            let user = canonical_name(&cluster, user);
            authorize(
                &*tx,
                &actor,
                &user_uri(&user)?,
                Level::Manage,
                "update user",
            )?;
            let before = tx
                .account(&user)?
                .ok_or_else(|| Error::not_found("account", user.as_str()))?;
            let mut after = before.clone();
            let mut changed: Vec<String> = Vec::new();
            if let Some(email) = &update.email
                && email != before.email.as_str()
            {
                return Err(Error::InvalidFields(vec![FieldError {
                    field: "email",
                    problem: FieldProblem::Immutable,
                }]));
            }
            if let Some(name) = &full_name
                && name != &before.full_name
            {
                after.full_name = name.clone();
                changed.push("full name".into());
            }
            if let Some(hash) = &hash {
                after.password = hash.clone();
                changed.push("password".into());
            }
            if let Some(domain) = &domain
                && domain != &before.domain
            {
                after.domain = domain.clone();
                changed.push(format!("domain {domain}"));
            }
            if let Some(flag) = update.need_password_change
                && flag != before.need_password_change
            {
                after.need_password_change = flag;
                changed.push(format!("need_password_change {flag}"));
            }
            if let Some(policy) = &policy
                && policy != &before.policy
            {
                if tx.policy(policy)?.is_none() {
                    return Err(Error::not_found("resource policy", policy.as_str()));
                }
                after.policy = policy.clone();
                changed.push(format!("policy {} -> {policy}", before.policy));
            }
            if let Some(role) = update.role
                && role != before.role
            {
                change_role(tx, &cluster, &actor, &user, Some(before.role), role)?;
                after.role = role;
                changed.push(format!("role {} -> {role}", before.role));
            }
            if let Some(status) = update.status
                && status != before.status
            {
                let record = tx
                    .principal(&user)?
                    .ok_or_else(|| Error::not_found("user", user.as_str()))?;
                if record.active != status.is_active() {
                    tx.update_principal(&PrincipalRecord {
                        active: status.is_active(),
                        ..record
                    })?;
                }
                if !status.is_active() {
                    let n = deactivate_keypairs(tx, &user)?;
                    if n > 0 {
                        changed.push(format!("{n} keypairs deactivated"));
                    }
                }
                after.status = status;
                changed.push(format!("status {} -> {status}", before.status));
            }
            if changed.is_empty() {
                return Err(Error::NoEffect(format!(
                    "the account of `{user}` is unchanged"
                )));
            }
            tx.put_account(&after)?;
            Ok(Step::Changed(
                after,
                change(by, actor, "user_update", user.as_str(), changed.join(", ")),
            ))
        })
    }

    /// Deactivates user `user` (rule A3): it fails every check and every login from now on,
    /// and all its keypairs are deactivated. Same as [`Engine::set_active`](acl_core::Engine::set_active) with `false`.
    pub fn deactivate_account(&self, by: &Caller, user: &PrincipalName) -> Result<Applied<()>> {
        self.set_active(by, user, false)
    }

    /// Reactivates user `user` (rule A3); its keypairs stay as they are.
    pub fn activate_account(&self, by: &Caller, user: &PrincipalName) -> Result<Applied<()>> {
        self.set_active(by, user, true)
    }

    /// The account of `user`. The viewer needs `read` on `user://{user}` (every user holds
    /// it on its own, rule P5).
    pub fn account(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<Account> {
        let view = self.store().read()?;
        let cluster = self.cluster_in(&view)?.clone();
        let user = canonical_name(&cluster, user);
        let viewer = canonical_name(&cluster, viewer);
        authorize(&view, &viewer, &user_uri(&user)?, Level::Read, "view user")?;
        view.account(&user)?
            .ok_or_else(|| Error::not_found("account", user.as_str()))
    }

    /// Every account, active and the others apart, filtered by a case-insensitive text on
    /// email and username (rule A1). The viewer needs `read` on `user://`.
    pub fn accounts(&self, viewer: &PrincipalName, filter: &AccountFilter) -> Result<AccountList> {
        let view = self.store().read()?;
        let viewer = canonical_name(self.cluster_in(&view)?, viewer);
        authorize(&view, &viewer, &users_root()?, Level::Read, "list users")?;
        let needle = filter.text.as_deref().map(str::to_lowercase);
        let mut list = AccountList::default();
        for account in view.accounts(None, ALL)? {
            let keep = needle.as_deref().is_none_or(|n| {
                account.email.as_str().to_lowercase().contains(n)
                    || account.user.as_str().to_lowercase().contains(n)
            });
            if !keep {
                continue;
            }
            if account.status.is_active() {
                list.active.push(account);
            } else {
                list.inactive.push(account);
            }
        }
        Ok(list)
    }

    /// Verifies a login by email (any text with `@`) or username, and password (rules A1
    /// to A3). An unknown user, an inactive one (or one before verification) and a wrong
    /// password all get the same [`Error::AuthenticationRefused`], after the same hashing
    /// work.
    pub fn login(&self, identity: &str, password: &str) -> Result<Account> {
        let view = self.store().read()?;
        let key = if identity.contains('@') {
            AccountKey::Email(identity.to_ascii_lowercase())
        } else {
            AccountKey::Username(identity.to_ascii_lowercase())
        };
        let Some(account) = view.account_by(&key)? else {
            let _ = dummy_hash(self.options.hash_cost)?.verify(password);
            return Err(Error::AuthenticationRefused);
        };
        let matches = account.password.verify(password);
        let live = view.principal(&account.user)?.is_some_and(|r| r.is_live());
        if matches && live && account.status.is_active() {
            Ok(account)
        } else {
            Err(Error::AuthenticationRefused)
        }
    }

    /// Creates a keypair for `user` (rule A5): a fresh access key and secret from
    /// `entropy`; the secret is returned this once and stored only as an argon2id hash
    /// and, when the platform has a master key, sealed with it (rule B1). The
    /// keypair takes the user's policy. The caller needs `manage` on `user://{user}`; the
    /// user must be active.
    pub fn create_keypair(
        &self,
        by: &Caller,
        user: &PrincipalName,
        entropy: &mut dyn Entropy,
    ) -> Result<Applied<CreatedKeypair>> {
        let key = AccessKey::generate(entropy);
        let secret = Secret::generate(entropy);
        let hash = SecretHash::hash(secret.expose(), self.options.hash_cost, entropy)?;
        let sealed = self
            .master_key
            .as_ref()
            .map(|master| SealedSecret::seal(master, key.as_str(), secret.expose(), entropy))
            .transpose()?;
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let user = canonical_name(&cluster, user);
            authorize(
                &*tx,
                &actor,
                &user_uri(&user)?,
                Level::Manage,
                "create keypair",
            )?;
            let record = tx
                .principal(&user)?
                .ok_or_else(|| Error::not_found("user", user.as_str()))?;
            if record.kind != PrincipalKind::User {
                return Err(Error::InvalidInput(format!("`{user}` is not a user")));
            }
            if !record.active {
                return Err(Error::Conflict(format!(
                    "`{user}` is inactive: reactivate it before creating a keypair"
                )));
            }
            if tx.keypair(&key)?.is_some() {
                return Err(Error::already_exists("access key", key.as_str()));
            }
            let keypair = Keypair {
                access_key: key.clone(),
                user: user.clone(),
                secret: hash.clone(),
                sealed: sealed.clone(),
                active: true,
                policy: policy_of(&*tx, &user)?.name,
                created: by.at,
            };
            tx.put_keypair(&keypair)?;
            let detail = format!("for {user}, policy {}", keypair.policy);
            Ok(Step::Changed(
                CreatedKeypair {
                    keypair,
                    secret: secret.clone(),
                },
                change(by, actor, "keypair_create", key.as_str(), detail),
            ))
        })
    }

    /// Activates or deactivates a keypair (rules A3, A5). The caller needs `manage` on
    /// `user://{owner}`; a keypair of an inactive user cannot be activated; the state it
    /// already has is [`Error::NoEffect`].
    pub fn set_keypair_active(
        &self,
        by: &Caller,
        key: &AccessKey,
        active: bool,
    ) -> Result<Applied<Keypair>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let mut keypair = tx
                .keypair(key)?
                .ok_or_else(|| Error::not_found("keypair", key.as_str()))?;
            let action = if active {
                "activate keypair"
            } else {
                "deactivate keypair"
            };
            authorize(
                &*tx,
                &actor,
                &user_uri(&keypair.user)?,
                Level::Manage,
                action,
            )?;
            if keypair.active == active {
                return Err(Error::NoEffect(format!(
                    "keypair `{key}` is already {}",
                    if active { "active" } else { "inactive" }
                )));
            }
            if active && !tx.principal(&keypair.user)?.is_some_and(|r| r.is_live()) {
                return Err(Error::Conflict(format!(
                    "`{}` is inactive: its keypairs cannot be activated",
                    keypair.user
                )));
            }
            keypair.active = active;
            tx.put_keypair(&keypair)?;
            let detail = format!("of {}", keypair.user);
            Ok(Step::Changed(
                keypair,
                change(
                    by,
                    actor,
                    if active {
                        "keypair_activate"
                    } else {
                        "keypair_deactivate"
                    },
                    key.as_str(),
                    detail,
                ),
            ))
        })
    }

    /// The keypairs of `user`, in key order. The viewer needs `read` on `user://{user}`.
    pub fn keypairs(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<Vec<Keypair>> {
        let view = self.store().read()?;
        let cluster = self.cluster_in(&view)?.clone();
        let user = canonical_name(&cluster, user);
        let viewer = canonical_name(&cluster, viewer);
        authorize(
            &view,
            &viewer,
            &user_uri(&user)?,
            Level::Read,
            "list keypairs",
        )?;
        view.keypairs_of(&user)
    }

    /// Authenticates by access key and secret (rule A5): the keypair and its user must be
    /// active. Every failure is the same [`Error::AuthenticationRefused`].
    pub fn authenticate(&self, access_key: &str, secret: &str) -> Result<Keypair> {
        let view = self.store().read()?;
        let keypair = match AccessKey::new(access_key) {
            Ok(key) => view.keypair(&key)?,
            Err(_) => None,
        };
        let Some(keypair) = keypair else {
            let _ = dummy_hash(self.options.hash_cost)?.verify(secret);
            return Err(Error::AuthenticationRefused);
        };
        let matches = keypair.secret.verify(secret);
        let live = view.principal(&keypair.user)?.is_some_and(|r| r.is_live());
        if matches && live && keypair.active {
            Ok(keypair)
        } else {
            Err(Error::AuthenticationRefused)
        }
    }

    /// The keypair `access_key` and its secret, opened with the master key, to verify a
    /// request signed with it (rule B1). The keypair and its user must be active (rule
    /// A3). An unknown or inactive key, or an inactive user, is
    /// [`Error::AuthenticationRefused`]; a keypair made before the platform had a master
    /// key, or a platform without one, is [`Error::Conflict`] saying so.
    pub fn signing_secret(&self, access_key: &str) -> Result<(Keypair, Secret)> {
        let view = self.store().read()?;
        let keypair = match AccessKey::new(access_key) {
            Ok(key) => view.keypair(&key)?,
            Err(_) => None,
        };
        let Some(keypair) = keypair else {
            return Err(Error::AuthenticationRefused);
        };
        let live = view.principal(&keypair.user)?.is_some_and(|r| r.is_live());
        if !(live && keypair.active) {
            return Err(Error::AuthenticationRefused);
        }
        let Some(master) = &self.master_key else {
            return Err(Error::Conflict(
                "no master key is configured (ACL_MASTER_KEY or --master-key-file): keypair secrets cannot be unsealed to verify signatures".to_owned(),
            ));
        };
        let Some(sealed) = &keypair.sealed else {
            return Err(Error::Conflict(format!(
                "keypair `{}` was created before a master key was configured: it cannot sign requests; create a new keypair",
                keypair.access_key
            )));
        };
        let secret = Secret::from_opened(sealed.open(master, keypair.access_key.as_str())?);
        Ok((keypair, secret))
    }

    /// Creates a group (a project): a principal of kind group, so its members are the role
    /// graph, with `domain` as a plain attribute. The caller needs `manage` on
    /// `role://{group}` (rule A4).
    pub fn create_group(
        &self,
        by: &Caller,
        group: &PrincipalName,
        domain: &str,
    ) -> Result<Applied<GroupInfo>> {
        let domain = account::domain(domain)?;
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            if acl_core::txn::is_user_alias(&cluster, group) {
                return Err(Error::InvalidInput(format!(
                    "`{group}` is in `{cluster}/users/`, reserved for user aliases"
                )));
            }
            authorize(
                &*tx,
                &actor,
                &Uri::of_role(group),
                Level::Manage,
                "create group",
            )?;
            if tx.principal(group)?.is_some() {
                return Err(Error::already_exists("principal", group.as_str()));
            }
            let record = PrincipalRecord {
                name: group.clone(),
                kind: PrincipalKind::Group,
                active: true,
            };
            tx.insert_principal(&record)?;
            link_existing_members(tx, &record)?;
            let info = GroupInfo {
                name: group.clone(),
                domain: domain.clone(),
                created: by.at,
            };
            tx.put_group_info(&info)?;
            Ok(Step::Changed(
                info,
                change(
                    by,
                    actor,
                    "group_create",
                    group.as_str(),
                    format!("domain {domain}"),
                ),
            ))
        })
    }

    /// Adds user `user` to group `group`: a `read` grant on `role://{group}`, which is the
    /// membership (rule P2). The caller needs `manage` on `role://{group}` (rule A4); a
    /// present member is [`Error::NoEffect`].
    pub fn add_group_member(
        &self,
        by: &Caller,
        group: &PrincipalName,
        user: &PrincipalName,
    ) -> Result<Applied<()>> {
        self.change_member(by, group, user, true)
    }

    /// Removes user `user` from group `group` (its direct grant on `role://{group}`). The
    /// caller needs `manage` on `role://{group}`; a non-member is [`Error::NoEffect`].
    pub fn remove_group_member(
        &self,
        by: &Caller,
        group: &PrincipalName,
        user: &PrincipalName,
    ) -> Result<Applied<()>> {
        self.change_member(by, group, user, false)
    }

    fn change_member(
        &self,
        by: &Caller,
        group: &PrincipalName,
        user: &PrincipalName,
        add: bool,
    ) -> Result<Applied<()>> {
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?.clone();
            let actor = canonical_name(&cluster, &by.principal);
            let user = canonical_name(&cluster, user);
            let uri = Uri::of_role(group);
            let action = if add {
                "add group member"
            } else {
                "remove group member"
            };
            authorize(&*tx, &actor, &uri, Level::Manage, action)?;
            let record = tx
                .principal(group)?
                .ok_or_else(|| Error::not_found("group", group.as_str()))?;
            if record.kind != PrincipalKind::Group {
                return Err(Error::InvalidInput(format!("`{group}` is not a group")));
            }
            let member = tx
                .principal(&user)?
                .ok_or_else(|| Error::not_found("user", user.as_str()))?;
            if member.kind != PrincipalKind::User {
                return Err(Error::InvalidInput(format!("`{user}` is not a user")));
            }
            let held = tx
                .grants_at(std::slice::from_ref(&user), std::slice::from_ref(&uri))?
                .into_iter()
                .next()
                .map(|g| g.level);
            if add {
                if held.is_some_and(|l| l >= Level::Read) {
                    return Err(Error::NoEffect(format!("`{user}` is already in `{group}`")));
                }
                put_grant(tx, &user, &uri, Level::Read)?;
            } else {
                if remove_grant(tx, &user, &uri)?.is_none() {
                    return Err(Error::NoEffect(format!("`{user}` is not in `{group}`")));
                }
                crate::folders::drop_group_shares(tx, &cluster, group, &user)?;
            }
            Ok(Step::Changed(
                (),
                change(
                    by,
                    actor,
                    if add {
                        "group_add_member"
                    } else {
                        "group_remove_member"
                    },
                    group.as_str(),
                    user.to_string(),
                ),
            ))
        })
    }

    /// The direct members of group `group`, in name order, with its attributes. The viewer
    /// needs `read` on `role://{group}` (its members hold it).
    pub fn group_members(
        &self,
        viewer: &PrincipalName,
        group: &PrincipalName,
    ) -> Result<(Option<GroupInfo>, Vec<PrincipalName>)> {
        let view = self.store().read()?;
        let viewer = canonical_name(self.cluster_in(&view)?, viewer);
        authorize(
            &view,
            &viewer,
            &Uri::of_role(group),
            Level::Read,
            "list group members",
        )?;
        let record = view
            .principal(group)?
            .ok_or_else(|| Error::not_found("group", group.as_str()))?;
        if record.kind != PrincipalKind::Group {
            return Err(Error::InvalidInput(format!("`{group}` is not a group")));
        }
        let mut members: Vec<PrincipalName> = view
            .members_of(std::slice::from_ref(group))?
            .into_iter()
            .map(|(_, m)| m.name)
            .collect();
        members.sort();
        Ok((view.group_info(group)?, members))
    }

    /// Creates a resource policy (rule A6): each limit within its maximum or unlimited.
    /// The caller needs `manage` on `policy://{name}`.
    pub fn create_policy(
        &self,
        by: &Caller,
        policy: &ResourcePolicy,
    ) -> Result<Applied<ResourcePolicy>> {
        policy.validate()?;
        self.transact(|tx| {
            let actor = canonical_name(self.cluster_in(tx)?, &by.principal);
            let uri = policy_uri(Some(&policy.name))?;
            authorize(&*tx, &actor, &uri, Level::Manage, "create policy")?;
            if tx.policy(&policy.name)?.is_some() {
                return Err(Error::already_exists(
                    "resource policy",
                    policy.name.as_str(),
                ));
            }
            tx.put_policy(policy)?;
            Ok(Step::Changed(
                policy.clone(),
                change(
                    by,
                    actor,
                    "policy_create",
                    policy.name.as_str(),
                    describe_policy(policy),
                ),
            ))
        })
    }

    /// Replaces the limits and hosts of the policy named `policy.name` (rule A6: the name
    /// is the immutable key). The caller needs `manage` on `policy://{name}`.
    pub fn update_policy(
        &self,
        by: &Caller,
        policy: &ResourcePolicy,
    ) -> Result<Applied<ResourcePolicy>> {
        policy.validate()?;
        self.transact(|tx| {
            let actor = canonical_name(self.cluster_in(tx)?, &by.principal);
            let uri = policy_uri(Some(&policy.name))?;
            authorize(&*tx, &actor, &uri, Level::Manage, "update policy")?;
            let before = tx
                .policy(&policy.name)?
                .ok_or_else(|| Error::not_found("resource policy", policy.name.as_str()))?;
            if &before == policy {
                return Err(Error::NoEffect(format!(
                    "resource policy `{}` is unchanged",
                    policy.name
                )));
            }
            tx.put_policy(policy)?;
            Ok(Step::Changed(
                policy.clone(),
                change(
                    by,
                    actor,
                    "policy_update",
                    policy.name.as_str(),
                    describe_policy(policy),
                ),
            ))
        })
    }

    /// Deletes a resource policy (rule A6), refused while any account or keypair, inactive
    /// ones included, uses it: the error names them. `default` is never deleted. The caller
    /// needs `manage` on `policy://{name}`.
    pub fn delete_policy(&self, by: &Caller, name: &PolicyName) -> Result<Applied<()>> {
        const SHOWN: usize = 10;
        self.transact(|tx| {
            let actor = canonical_name(self.cluster_in(tx)?, &by.principal);
            authorize(
                &*tx,
                &actor,
                &policy_uri(Some(name))?,
                Level::Manage,
                "delete policy",
            )?;
            if name.as_str() == PolicyName::DEFAULT {
                return Err(Error::InvalidInput(
                    "the `default` resource policy cannot be deleted".into(),
                ));
            }
            if tx.policy(name)?.is_none() {
                return Err(Error::not_found("resource policy", name.as_str()));
            }
            let users = tx.accounts_of_policy(name, SHOWN + 1)?;
            let keys = tx.keypairs_of_policy(name, SHOWN + 1)?;
            if !users.is_empty() || !keys.is_empty() {
                let list = |items: Vec<String>| {
                    let more = items.len() > SHOWN;
                    let mut text = items
                        .into_iter()
                        .take(SHOWN)
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if more {
                        text.push_str(" and more");
                    }
                    text
                };
                let mut parts = Vec::new();
                if !users.is_empty() {
                    parts.push(format!(
                        "users {}",
                        list(users.iter().map(ToString::to_string).collect())
                    ));
                }
                if !keys.is_empty() {
                    parts.push(format!(
                        "keypairs {}",
                        list(keys.iter().map(ToString::to_string).collect())
                    ));
                }
                return Err(Error::Conflict(format!(
                    "resource policy `{name}` is used by {}",
                    parts.join(" and ")
                )));
            }
            tx.delete_policy(name)?;
            Ok(Step::Changed(
                (),
                change(by, actor, "policy_delete", name.as_str(), String::new()),
            ))
        })
    }

    /// Every resource policy, in name order. The viewer needs `read` on `policy://`.
    pub fn policies(&self, viewer: &PrincipalName) -> Result<Vec<ResourcePolicy>> {
        let view = self.store().read()?;
        let viewer = canonical_name(self.cluster_in(&view)?, viewer);
        authorize(
            &view,
            &viewer,
            &policy_uri(None)?,
            Level::Read,
            "list policies",
        )?;
        view.policies()
    }

    /// Starts a session for the caller, if its resource policy admits it against the
    /// usage of its running sessions, recalculated from the ledger (rule A6). A refusal
    /// names the resource, limit, usage and request. The caller must be an active user.
    pub fn start_session(&self, by: &Caller, request: &SessionRequest) -> Result<Applied<Session>> {
        self.start_session_for(by, &by.principal, request)
    }

    /// Starts a session owned by `owner` (Backend.AI's owner access key), admitted against
    /// `owner`'s resource policy and the usage of `owner`'s running sessions (rule A6).
    /// The caller starts its own sessions; a session of another user needs `manage` on
    /// `user://{owner}` (an admin's, rule A4). The owner must be an active user. A refusal
    /// names the resource, limit, usage and request.
    pub fn start_session_for(
        &self,
        by: &Caller,
        owner: &PrincipalName,
        request: &SessionRequest,
    ) -> Result<Applied<Session>> {
        request.validate()?;
        self.transact(|tx| {
            let cluster = self.cluster_in(tx)?;
            let actor = canonical_name(cluster, &by.principal);
            let owner = canonical_name(cluster, owner);
            let uri = user_uri(&owner)?;
            if owner != actor {
                authorize(&*tx, &actor, &uri, Level::Manage, "start session for")?;
            }
            let closure = closure_of(&*tx, &owner)?.map_err(|_| {
                if owner == actor {
                    acl_core::txn::forbidden(&actor, "start session", &uri, Level::Read)
                } else {
                    Error::InvalidInput(format!("`{owner}` is not an active user"))
                }
            })?;
            if closure.record(&owner).map(|r| r.kind) != Some(PrincipalKind::User) {
                return Err(Error::InvalidInput(format!("`{owner}` is not a user")));
            }
            let policy = policy_of(&*tx, &owner)?;
            let usage = Usage::of(&tx.sessions_of(&owner)?);
            admit_session(&policy.limits, &usage, request)?;
            let session = Session {
                id: SessionId::new(&format!("s{}", tx.revision()?.next()))?,
                user: owner.clone(),
                request: *request,
                started: by.at,
                stopped: None,
            };
            tx.put_session(&session)?;
            let r = request;
            let detail = format!(
                "for {owner}: cpu {}, ram_gb {}, gpu {}, fgpu_hundredths {}, containers {}",
                r.cpu, r.ram_gb, r.gpu, r.fgpu_hundredths, r.containers
            );
            let id = session.id.clone();
            Ok(Step::Changed(
                session,
                change(by, actor, "session_start", id.as_str(), detail),
            ))
        })
    }

    /// Stops a running session. The caller is its user or holds `manage` on
    /// `user://{user}`; a stopped session is [`Error::NoEffect`].
    pub fn stop_session(&self, by: &Caller, id: &SessionId) -> Result<Applied<Session>> {
        self.transact(|tx| {
            let actor = canonical_name(self.cluster_in(tx)?, &by.principal);
            let mut session = tx
                .session(id)?
                .ok_or_else(|| Error::not_found("session", id.as_str()))?;
            if session.user != actor {
                authorize(
                    &*tx,
                    &actor,
                    &user_uri(&session.user)?,
                    Level::Manage,
                    "stop session",
                )?;
            } else if closure_of(&*tx, &actor)?.is_err() {
                return Err(acl_core::txn::forbidden(
                    &actor,
                    "stop session",
                    &user_uri(&actor)?,
                    Level::Read,
                ));
            }
            if !session.is_running() {
                return Err(Error::NoEffect(format!(
                    "session `{id}` is already stopped"
                )));
            }
            session.stopped = Some(by.at);
            tx.put_session(&session)?;
            let detail = format!("of {}", session.user);
            Ok(Step::Changed(
                session,
                change(by, actor, "session_stop", id.as_str(), detail),
            ))
        })
    }

    /// The sessions of `user`, running and stopped, in id order. The viewer needs `read`
    /// on `user://{user}`.
    pub fn sessions(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<Vec<Session>> {
        let view = self.store().read()?;
        let cluster = self.cluster_in(&view)?.clone();
        let user = canonical_name(&cluster, user);
        let viewer = canonical_name(&cluster, viewer);
        authorize(
            &view,
            &viewer,
            &user_uri(&user)?,
            Level::Read,
            "list sessions",
        )?;
        view.sessions_of(&user)
    }

    /// The policy of `user` and the usage of its running sessions, recalculated from the
    /// ledger on every call (the seed's "recalculate usage": no counter is kept that could
    /// drift). The viewer needs `read` on `user://{user}`.
    pub fn usage(&self, viewer: &PrincipalName, user: &PrincipalName) -> Result<UsageReport> {
        let view = self.store().read()?;
        let cluster = self.cluster_in(&view)?.clone();
        let user = canonical_name(&cluster, user);
        let viewer = canonical_name(&cluster, viewer);
        authorize(&view, &viewer, &user_uri(&user)?, Level::Read, "view usage")?;
        if view.principal(&user)?.is_none() {
            return Err(Error::not_found("user", user.as_str()));
        }
        Ok(UsageReport {
            policy: policy_of(&view, &user)?,
            usage: Usage::of(&view.sessions_of(&user)?),
        })
    }

    /// Writes every account as CSV to `out` (rule A7), without password hashes. The viewer
    /// needs `read` on `user://`.
    pub fn export_accounts(&self, viewer: &PrincipalName, out: &mut dyn io::Write) -> Result<()> {
        let view = self.store().read()?;
        self.authorize_export(&view, viewer, users_root()?)?;
        export::accounts_csv(&view.accounts(None, ALL)?, out)
    }

    /// Writes every keypair as CSV to `out` (rule A7), without secrets. The viewer needs
    /// `read` on `user://`.
    pub fn export_keypairs(&self, viewer: &PrincipalName, out: &mut dyn io::Write) -> Result<()> {
        let view = self.store().read()?;
        self.authorize_export(&view, viewer, users_root()?)?;
        export::keypairs_csv(&view.keypairs(None, ALL)?, out)
    }

    /// Writes every resource policy as CSV to `out` (rule A7). The viewer needs `read` on
    /// `policy://`.
    pub fn export_policies(&self, viewer: &PrincipalName, out: &mut dyn io::Write) -> Result<()> {
        let view = self.store().read()?;
        self.authorize_export(&view, viewer, policy_uri(None)?)?;
        export::policies_csv(&view.policies()?, out)
    }

    /// Writes every session of the ledger as CSV to `out` (rule A7). The viewer needs
    /// `read` on `user://`.
    pub fn export_sessions(&self, viewer: &PrincipalName, out: &mut dyn io::Write) -> Result<()> {
        let view = self.store().read()?;
        self.authorize_export(&view, viewer, users_root()?)?;
        export::sessions_csv(&view.sessions(None, ALL)?, out)
    }

    fn authorize_export<V: PlatformView + ?Sized>(
        &self,
        view: &V,
        viewer: &PrincipalName,
        uri: Uri,
    ) -> Result<()> {
        let viewer = canonical_name(self.cluster_in(view)?, viewer);
        authorize(view, &viewer, &uri, Level::Read, "export").map(|_| ())
    }

    /// The audit trail (rule M3): changelog entries with revisions in `(after, up_to]`, by
    /// `actor` when given, in revision order, paginated (the cursor is the last revision).
    /// Each names actor, action and target; none holds a password or secret. The viewer
    /// needs `read` on `user://`.
    pub fn audit(
        &self,
        viewer: &PrincipalName,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> Result<Page<ChangeEntry>> {
        let reader = self.reader()?;
        let viewer = canonical_name(&reader.cluster()?, viewer);
        authorize(
            reader.view(),
            &viewer,
            &users_root()?,
            Level::Read,
            "read audit",
        )?;
        let actor = query
            .actor
            .as_ref()
            .map(|a| reader.cluster().map(|c| canonical_name(&c, a)))
            .transpose()?;
        let Some(up_to) = query.up_to else {
            return reader.changes(query.after, actor.as_ref(), page);
        };
        if up_to <= query.after {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let mut result = reader.changes(query.after, actor.as_ref(), page)?;
        let before = result.items.len();
        result.items.retain(|e| e.revision <= up_to);
        if result.items.len() < before {
            result.next = None;
        }
        if result.items.last().is_some_and(|e| e.revision == up_to) {
            result.next = None;
        }
        Ok(result)
    }
}

/// A one-line summary of a policy for the changelog.
fn describe_policy(policy: &ResourcePolicy) -> String {
    let limits = crate::policy::Resource::ALL
        .iter()
        .map(|r| format!("{} {}", r.as_str(), policy.limits.get(*r)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{limits}; hosts {}", policy.hosts)
}
