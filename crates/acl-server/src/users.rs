//! Users (rules A1 to A3): create, list, show, deactivate, activate, through the
//! platform's account workflows, authorized as the token's identity exactly as `acl user`
//! is.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use acl_core::{PrincipalKind, PrincipalName, Revision};
use acl_platform::{Account, AccountFilter, Entropy, NewAccount, PlatformReads, UserRole};

use crate::api::{Applied, DEFAULT_PAGE, Errors, MAX_PAGE};
use crate::app::{App, require_live};
use crate::error::{ApiError, Result};
use crate::extract::{Body, Identity, Params};

/// The operating system's randomness for salts, drawn before the call so a failing
/// source is an error before anything is written.
pub(crate) struct OsEntropy {
    pool: Vec<u8>,
    failed: bool,
}

impl OsEntropy {
    pub(crate) fn new() -> Result<OsEntropy> {
        let mut pool = vec![0u8; 1024];
        getrandom::fill(&mut pool)
            .map_err(|err| ApiError::Unavailable(format!("no randomness: {err}")))?;
        Ok(OsEntropy {
            pool,
            failed: false,
        })
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.failed {
            return Err(ApiError::Unavailable(
                "the system's randomness failed".into(),
            ));
        }
        Ok(())
    }
}

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf.iter_mut() {
            if self.pool.is_empty() {
                self.pool = vec![0u8; 1024];
                self.failed |= getrandom::fill(&mut self.pool).is_err();
            }
            *byte = self.pool.pop().unwrap_or_default();
        }
    }
}

/// A new user account (rule A1).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// The username, the user's principal name (unique, case-insensitively).
    pub username: String,
    /// The email (unique, immutable).
    pub email: String,
    /// The password (rule A2: 8 characters or more, a letter, a digit, a special one).
    pub password: String,
    /// The full name.
    pub full_name: Option<String>,
    /// `superadmin`, `admin`, `user` (default) or `monitor`.
    pub role: Option<String>,
    /// Ask the user to change the password (descriptive only).
    pub need_password_change: Option<bool>,
    /// The resource policy (default `default`).
    pub policy: Option<String>,
}

/// A user account, without its password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct UserRow {
    /// The username.
    pub username: String,
    /// The email.
    pub email: String,
    /// The full name.
    pub full_name: String,
    /// `superadmin`, `admin`, `user` or `monitor`.
    pub role: String,
    /// `active`, `inactive` or `before-verification`.
    pub status: String,
    /// Whether the user is asked to change the password.
    pub need_password_change: bool,
    /// The domain.
    pub domain: String,
    /// The resource policy.
    pub policy: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created: i64,
}

fn row(account: &Account) -> UserRow {
    UserRow {
        username: account.user.to_string(),
        email: account.email.as_str().to_owned(),
        full_name: account.full_name.clone(),
        role: account.role.to_string(),
        status: account.status.to_string(),
        need_password_change: account.need_password_change,
        domain: account.domain.clone(),
        policy: account.policy.as_str().to_owned(),
        created: account.created.0,
    }
}

/// The answer of a user's creation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CreatedUser {
    /// The account.
    pub user: UserRow,
    /// The store's revision after it.
    pub revision: u64,
}

/// One user and the groups it belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct UserResponse {
    /// The account.
    pub user: UserRow,
    /// The groups it is a direct member of, in name order.
    pub groups: Vec<String>,
    /// The revision the answer was read at.
    pub revision: u64,
}

/// Users listed.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsersQuery {
    /// Only users whose email or username contains this, ignoring case.
    pub filter: Option<String>,
    /// List the inactive (and before-verification) users instead of the active ones.
    pub inactive: Option<bool>,
    /// At most this many items (100 by default, at most 1,000).
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Start after this cursor (a username).
    pub cursor: Option<String>,
    /// Answer only from a state at this revision or later.
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// One page of users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct UsersResponse {
    /// The users of this page, in username order.
    pub items: Vec<UserRow>,
    /// The cursor of the next page; absent on the last.
    pub next: Option<String>,
    /// The revision the answer was read at (at least).
    pub revision: u64,
}

/// A read through the platform's own (self-authorizing) queries, as `identity`, on a
/// state at `at_least` or later: returns the answer and a revision it was read at or after.
pub(crate) async fn platform_read<T: Send + 'static>(
    app: &Arc<App>,
    identity: PrincipalName,
    at_least: Option<u64>,
    f: impl FnOnce(&App, &PrincipalName) -> Result<T> + Send + 'static,
) -> Result<(T, Revision)> {
    if let Some(wanted) = at_least {
        app.wait_for(Revision(wanted)).await?;
    }
    app.blocking(move |app| {
        let reader = app.engine.reader()?;
        require_live(&reader, &identity)?;
        let revision = reader.revision()?;
        drop(reader);
        let value = f(app, &identity)?;
        app.saw(revision);
        Ok((value, revision))
    })
    .await
}

/// Creates a user account (admins only, rule A4).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 200, body = CreatedUser), Errors), security(("bearer" = [])))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<NewUser>,
) -> Result<Json<CreatedUser>> {
    let mut new = NewAccount::new(&request.username, &request.email, &request.password);
    if let Some(role) = &request.role {
        new = new.with_role(UserRole::parse(role)?);
    }
    if let Some(full_name) = request.full_name {
        new.full_name = full_name;
    }
    if let Some(flag) = request.need_password_change {
        new.need_password_change = flag;
    }
    if let Some(policy) = request.policy {
        new.policy = policy;
    }
    let done = app
        .write(identity, move |engine, caller| {
            let mut entropy = OsEntropy::new()?;
            let done = engine.create_account(caller, &new, &mut entropy)?;
            entropy.check()?;
            Ok(done)
        })
        .await?;
    Ok(Json(CreatedUser {
        user: row(&done.value),
        revision: done.revision.0,
    }))
}

/// The users the identity may list (`read` on `user://`), paginated by username.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(UsersQuery),
    responses((status = 200, body = UsersResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<UsersQuery>,
) -> Result<Json<UsersResponse>> {
    let limit = match query.limit {
        Some(0) => {
            return Err(ApiError::BadRequest(
                "a page limit must be at least 1".into(),
            ));
        }
        Some(limit) => limit.min(MAX_PAGE),
        None => DEFAULT_PAGE,
    };
    let ((items, next), revision) =
        platform_read(&app, identity, query.at_least, move |app, identity| {
            let accounts = app.engine.accounts(
                identity,
                &AccountFilter {
                    text: query.filter.clone(),
                },
            )?;
            let all = if query.inactive.unwrap_or(false) {
                accounts.inactive
            } else {
                accounts.active
            };
            let mut rest = all
                .into_iter()
                .filter(|a| query.cursor.as_deref().is_none_or(|c| a.user.as_str() > c));
            let items: Vec<UserRow> = rest.by_ref().take(limit).map(|a| row(&a)).collect();
            let next = match (rest.next(), items.last()) {
                (Some(_), Some(last)) => Some(last.username.clone()),
                _ => None,
            };
            Ok((items, next))
        })
        .await?;
    Ok(Json(UsersResponse {
        items,
        next,
        revision: revision.0,
    }))
}

pub(crate) fn user_path(path: std::result::Result<Path<String>, PathRejection>) -> Result<String> {
    path.map(|Path(user)| user)
        .map_err(|r| ApiError::BadRequest(r.body_text()))
}

/// One user (by username or email) and its groups; the identity needs `read` on
/// `user://{user}` (every user holds it on itself).
#[utoipa::path(get, path = "/v1/users/{user}", tag = "users",
    params(("user" = String, Path, description = "A username or an email"), crate::api::Consistency),
    responses((status = 200, body = UserResponse), Errors), security(("bearer" = [])))]
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<UserResponse>> {
    let user = user_path(path)?;
    let ((account, groups), revision) = platform_read(
        &app,
        identity,
        consistency.at_least,
        move |app, identity| {
            let reader = app.engine.reader()?;
            let viewer = reader.bind(identity)?;
            let user = viewer.reader().user_named(&user)?;
            let account = app.engine.account(viewer.viewer(), &user)?;
            let mut groups: Vec<String> = viewer
                .roles_of(&user)?
                .into_iter()
                .filter(|role| role.kind == PrincipalKind::Group)
                .map(|role| role.name.to_string())
                .collect();
            groups.sort();
            Ok((row(&account), groups))
        },
    )
    .await?;
    Ok(Json(UserResponse {
        user: account,
        groups,
        revision: revision.0,
    }))
}

/// Deactivates a user (admins only, rule A3): every check and login of it is denied, its
/// keypairs are deactivated; a token naming it is refused (401).
#[utoipa::path(post, path = "/v1/users/{user}/deactivate", tag = "users",
    params(("user" = String, Path, description = "A username or an email")),
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn deactivate(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Applied>> {
    set_active(app, identity, user_path(path)?, false).await
}

/// Reactivates a user (admins only, rule A3); its keypairs stay as they are.
#[utoipa::path(post, path = "/v1/users/{user}/activate", tag = "users",
    params(("user" = String, Path, description = "A username or an email")),
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn activate(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Applied>> {
    set_active(app, identity, user_path(path)?, true).await
}

async fn set_active(
    app: Arc<App>,
    identity: PrincipalName,
    user: String,
    active: bool,
) -> Result<Json<Applied>> {
    let done = app
        .write(identity, move |engine, caller| {
            let user = engine.reader()?.user_named(&user)?;
            Ok(if active {
                engine.activate_account(caller, &user)?
            } else {
                engine.deactivate_account(caller, &user)?
            })
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

// ---------------------------------------------------------------------------------------
// Groups (rule A4) and keypairs (rule A5)

/// A group's name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupBody {
    /// The group's name.
    pub name: String,
}

/// A user, by username or email.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserBody {
    /// The user.
    pub user: String,
}

/// Names listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Members {
    /// The names, in order.
    pub items: Vec<String>,
    /// The revision the answer was read at (at least).
    pub revision: u64,
}

/// Creates a group (admins only, rule A4).
#[utoipa::path(post, path = "/v1/groups", tag = "users", request_body = GroupBody,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn create_group(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<GroupBody>,
) -> Result<Json<Applied>> {
    let name = PrincipalName::new(&request.name)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.create_group(caller, &name, "default")?)
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

/// The groups the identity sees, in name order.
#[utoipa::path(get, path = "/v1/groups", tag = "users", params(crate::api::Consistency),
    responses((status = 200, body = Members), Errors), security(("bearer" = [])))]
pub(crate) async fn groups(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<Members>> {
    let (items, revision) = app
        .read(identity, consistency.at_least, |viewer| {
            let page = acl_core::PageRequest::first(MAX_PAGE);
            Ok(viewer
                .roles(&page, |r| r.kind == PrincipalKind::Group)?
                .items
                .iter()
                .map(|r| r.name.to_string())
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(Members {
        items,
        revision: revision.0,
    }))
}

/// A group's members (admins and the group's managers).
#[utoipa::path(get, path = "/v1/groups/{name}/members", tag = "users",
    params(("name" = String, Path, description = "The group's name"), crate::api::Consistency),
    responses((status = 200, body = Members), Errors), security(("bearer" = [])))]
pub(crate) async fn members(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<Json<Members>> {
    let group = PrincipalName::new(&user_path(path)?)?;
    let (items, revision) = platform_read(
        &app,
        identity,
        consistency.at_least,
        move |app, identity| {
            let (_, members) = app.engine.group_members(identity, &group)?;
            Ok(members.iter().map(ToString::to_string).collect::<Vec<_>>())
        },
    )
    .await?;
    Ok(Json(Members {
        items,
        revision: revision.0,
    }))
}

/// Adds a user to a group (admins only, rule A4).
#[utoipa::path(post, path = "/v1/groups/{name}/members", tag = "users",
    params(("name" = String, Path, description = "The group's name")), request_body = UserBody,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn add_member(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<UserBody>,
) -> Result<Json<Applied>> {
    membership(app, identity, user_path(path)?, request.user, true).await
}

/// Removes a user from a group (admins only, rule A4).
#[utoipa::path(post, path = "/v1/groups/{name}/members/remove", tag = "users",
    params(("name" = String, Path, description = "The group's name")), request_body = UserBody,
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn remove_member(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Body(request): Body<UserBody>,
) -> Result<Json<Applied>> {
    membership(app, identity, user_path(path)?, request.user, false).await
}

async fn membership(
    app: Arc<App>,
    identity: PrincipalName,
    group: String,
    user: String,
    add: bool,
) -> Result<Json<Applied>> {
    let group = PrincipalName::new(&group)?;
    let done = app
        .write(identity, move |engine, caller| {
            let user = engine.reader()?.user_named(&user)?;
            Ok(if add {
                engine.add_group_member(caller, &group, &user)?
            } else {
                engine.remove_group_member(caller, &group, &user)?
            })
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

/// A keypair, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct KeypairRow {
    /// The access key.
    pub access_key: String,
    /// Its user.
    pub user: String,
    /// Whether it is active.
    pub active: bool,
    /// Its resource policy.
    pub policy: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created: i64,
}

fn keypair_row(k: &acl_platform::Keypair) -> KeypairRow {
    KeypairRow {
        access_key: k.access_key.as_str().to_owned(),
        user: k.user.to_string(),
        active: k.active,
        policy: k.policy.as_str().to_owned(),
        created: k.created.0,
    }
}

/// A keypair as created: the secret is in this answer only (rule A5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CreatedKeypair {
    /// The keypair.
    pub keypair: KeypairRow,
    /// The secret key, shown this once; only its hash is kept.
    pub secret: String,
    /// The store's revision after it.
    pub revision: u64,
}

/// Keypairs listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Keypairs {
    /// The keypairs.
    pub items: Vec<KeypairRow>,
    /// The revision the answer was read at (at least).
    pub revision: u64,
}

/// Whose keypairs.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct KeypairsQuery {
    /// The user (default: the identity).
    pub user: Option<String>,
    /// Answer only from a state at this revision or later.
    #[param(minimum = 0)]
    pub at_least: Option<u64>,
}

/// Creates a keypair for a user (the user itself or an admin, rule A5).
#[utoipa::path(post, path = "/v1/keypairs", tag = "users", request_body = UserBody,
    responses((status = 200, body = CreatedKeypair), Errors), security(("bearer" = [])))]
pub(crate) async fn create_keypair(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Body(request): Body<UserBody>,
) -> Result<Json<CreatedKeypair>> {
    let (keypair, secret, revision) = app
        .write(identity, move |engine, caller| {
            let user = engine.reader()?.user_named(&request.user)?;
            let mut entropy = OsEntropy::new()?;
            let done = engine.create_keypair(caller, &user, &mut entropy)?;
            entropy.check()?;
            Ok(acl_core::Applied {
                revision: done.revision,
                value: (
                    keypair_row(&done.value.keypair),
                    done.value.secret.expose().to_owned(),
                ),
            })
        })
        .await
        .map(|done| (done.value.0, done.value.1, done.revision))?;
    Ok(Json(CreatedKeypair {
        keypair,
        secret,
        revision: revision.0,
    }))
}

/// A user's keypairs, without secrets.
#[utoipa::path(get, path = "/v1/keypairs", tag = "users", params(KeypairsQuery),
    responses((status = 200, body = Keypairs), Errors), security(("bearer" = [])))]
pub(crate) async fn keypairs(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    Params(query): Params<KeypairsQuery>,
) -> Result<Json<Keypairs>> {
    let (items, revision) = platform_read(&app, identity, query.at_least, move |app, identity| {
        let user = match &query.user {
            Some(text) => app.engine.reader()?.user_named(text)?,
            None => identity.clone(),
        };
        Ok(app
            .engine
            .keypairs(identity, &user)?
            .iter()
            .map(keypair_row)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(Keypairs {
        items,
        revision: revision.0,
    }))
}

/// Activates a keypair (admins, rule A5).
#[utoipa::path(post, path = "/v1/keypairs/{key}/activate", tag = "users",
    params(("key" = String, Path, description = "The access key")),
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn activate_keypair(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Applied>> {
    set_keypair(app, identity, user_path(path)?, true).await
}

/// Deactivates a keypair (admins or its user, rule A5).
#[utoipa::path(post, path = "/v1/keypairs/{key}/deactivate", tag = "users",
    params(("key" = String, Path, description = "The access key")),
    responses((status = 200, body = Applied), Errors), security(("bearer" = [])))]
pub(crate) async fn deactivate_keypair(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Applied>> {
    set_keypair(app, identity, user_path(path)?, false).await
}

async fn set_keypair(
    app: Arc<App>,
    identity: PrincipalName,
    key: String,
    active: bool,
) -> Result<Json<Applied>> {
    let key = acl_platform::AccessKey::new(&key)?;
    let done = app
        .write(identity, move |engine, caller| {
            Ok(engine.set_keypair_active(caller, &key, active)?)
        })
        .await?;
    Ok(Json(Applied {
        revision: done.revision.0,
    }))
}

// ---------------------------------------------------------------------------------------
// CSV exports (rule A7)

/// Exports users, keypairs, resource policies or sessions as CSV (rule A7), authorized as
/// `acl export` is (the admins). The answer is `text/csv`; the revision it was read at
/// (at least) is in the `x-acl-revision` header.
#[utoipa::path(get, path = "/v1/exports/{what}", tag = "users",
    params(("what" = String, Path, description = "`users`, `keypairs`, `policies` or `sessions`"), crate::api::Consistency),
    responses((status = 200, description = "The CSV", content_type = "text/csv", body = String), Errors),
    security(("bearer" = [])))]
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Identity(identity): Identity,
    path: std::result::Result<Path<String>, PathRejection>,
    Params(consistency): Params<crate::api::Consistency>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let what = user_path(path)?;
    if !matches!(
        what.as_str(),
        "users" | "keypairs" | "policies" | "sessions"
    ) {
        return Err(ApiError::Engine(acl_core::Error::not_found(
            "export", &what,
        )));
    }
    let (csv, revision) = platform_read(
        &app,
        identity,
        consistency.at_least,
        move |app, identity| {
            let mut csv: Vec<u8> = Vec::new();
            match what.as_str() {
                "users" => app.engine.export_accounts(identity, &mut csv)?,
                "keypairs" => app.engine.export_keypairs(identity, &mut csv)?,
                "policies" => app.engine.export_policies(identity, &mut csv)?,
                _ => app.engine.export_sessions(identity, &mut csv)?,
            }
            Ok(csv)
        },
    )
    .await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::HeaderName::from_static("x-acl-revision"),
                revision.0.to_string(),
            ),
        ],
        csv,
    )
        .into_response())
}
