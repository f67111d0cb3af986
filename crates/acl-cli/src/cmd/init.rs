//! `acl init`: creates the database and initializes the cluster (rule P5).

use std::path::Path;

use acl_core::{ClusterName, PrincipalName};

use acl_platform::{NewAccount, UserRole};
use serde_json::json;

use crate::ctx::{Ctx, OsEntropy, now};
use crate::error::Result;
use crate::output::Output;

/// `acl init [--cluster NAME] [--admin USERNAME] [--admin-email E --admin-password PW]`:
/// with an email and password, the admin is a superadmin with its account.
pub fn run(
    path: &Path,
    acting: Option<String>,
    cluster: &str,
    admin: &str,
    account: Option<(&str, &str)>,
) -> Result<Output> {
    // Validate before the file is created, so bad input leaves no file behind.
    let cluster = ClusterName::new(cluster)?;
    let admin = PrincipalName::new(admin)?;
    let ctx = Ctx::open(path, acting, true)?;
    let done = match account {
        Some((email, password)) => {
            let new =
                NewAccount::new(admin.as_str(), email, password).with_role(UserRole::Superadmin);
            let mut entropy = OsEntropy::new()?;
            let done = ctx
                .engine()
                .init_with_account(&cluster, &new, &mut entropy, now())?;
            entropy.check()?;
            done.revision
        }
        None => ctx.engine().init(&cluster, Some(&admin), now())?.revision,
    };
    Ok(Output::new(
        format!(
            "initialized cluster `{cluster}` in {} with admin `{admin}` (revision {})\n",
            ctx.shown(),
            done
        ),
        json!({ "revision": done, "cluster": cluster.as_str(), "admin": admin, "db": ctx.shown() }),
    ))
}
