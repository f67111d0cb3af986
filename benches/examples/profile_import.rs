//! Imports N grants with `grant_many` into a fresh SQLite file, for a profiler:
//! `cargo run --release -p acl-benches --example profile_import -- [N]` (page cache from
//! `ACL_CACHE_MIB`, default 64).

use std::time::Instant;

use acl_core::{Engine, Schema};
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
    let (by, batch) = acl_benches::import_model(&engine, n)?;
    let started = Instant::now();
    engine.grant_many(&by, &batch)?;
    eprintln!("{n} grants in {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
