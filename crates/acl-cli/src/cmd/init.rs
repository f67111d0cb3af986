//! `acl init`: creates the database and initializes the cluster (rule P5).

use std::path::Path;

use acl_core::{ClusterName, PrincipalName};
use serde_json::json;

use crate::ctx::{Ctx, now};
use crate::error::Result;
use crate::output::Output;

/// `acl init [--cluster NAME] [--admin USERNAME]`.
pub fn run(path: &Path, acting: Option<String>, cluster: &str, admin: &str) -> Result<Output> {
    // Validate before the file is created, so bad input leaves no file behind.
    let cluster = ClusterName::new(cluster)?;
    let admin = PrincipalName::new(admin)?;
    let ctx = Ctx::open(path, acting, true)?;
    let done = ctx.engine().init(&cluster, Some(&admin), now())?;
    Ok(Output::new(
        format!(
            "initialized cluster `{cluster}` in {} with admin `{admin}` (revision {})\n",
            ctx.path().display(),
            done.revision
        ),
        json!({ "revision": done.revision, "cluster": cluster.as_str(), "admin": admin, "db": ctx.path() }),
    ))
}
