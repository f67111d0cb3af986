//! Imports N grants with `grant_many` into a fresh SQLite file, for a profiler:
//! `cargo run --release -p acl-benches --example profile_import -- [N]` (page cache from
//! `ACL_CACHE_MIB`, default 64).

use std::time::Instant;

use acl_benches::{ADMIN, Rng};
use acl_core::{
    Caller, ClusterName, Engine, Level, PrincipalKind, PrincipalName, Schema, Timestamp, Uri,
};
use acl_sqlite::{SqliteOptions, SqliteStore};

fn main() -> acl_core::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("acl-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(acl_core::Error::storage)?;
    let cache_mib = std::env::var("ACL_CACHE_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let options = SqliteOptions {
        cache_mib,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.join("import.db"), options)?;
    let engine = Engine::new(store, Schema::standard());
    let admin = PrincipalName::new(ADMIN)?;
    let by = Caller::new(admin.clone(), Timestamp(0));
    engine.init(&ClusterName::new("c")?, Some(&admin), Timestamp(0))?;
    let roles: Vec<PrincipalName> = (0..100)
        .map(|r| PrincipalName::new(&format!("c/roles/r{r:03}")))
        .collect::<acl_core::Result<_>>()?;
    for role in &roles {
        engine.add_role(&by, role, PrincipalKind::Role)?;
    }
    let mut rng = Rng::new(1);
    let batch = (0..n)
        .map(|i| {
            let holder = roles
                .get(rng.below(roles.len()))
                .cloned()
                .unwrap_or(admin.clone());
            let uri = Uri::parse(&format!(
                "storage://c/p{}/d{}/f{i}",
                rng.below(100),
                rng.below(10)
            ))?;
            Ok((uri, holder, Level::Read))
        })
        .collect::<acl_core::Result<Vec<_>>>()?;
    let started = Instant::now();
    engine.grant_many(&by, &batch)?;
    eprintln!("{n} grants in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
