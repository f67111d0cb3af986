//! Performance probes, ignored by default (run them optimised):
//!
//! `cargo test --release -p acl-sqlite --test perf -- --ignored --nocapture`
//!
//! - bulk import: many `put_grant` calls in one transaction (target: 1M grants in 15 s);
//! - a check's store calls on a 100k-grant store (target: 30 us per check).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use acl_core::{
    Change, Edge, Grant, Level, PrincipalKind, PrincipalName, PrincipalRecord, ReadView, Store,
    Timestamp, Uri, WriteTxn,
};
use acl_sqlite::SqliteStore;

fn name(text: &str) -> PrincipalName {
    PrincipalName::new(text).unwrap()
}

fn commit(txn: impl WriteTxn) {
    txn.commit(Change {
        at: Timestamp(0),
        actor: None,
        action: "import".into(),
        target: String::new(),
        detail: String::new(),
    })
    .unwrap();
}

/// Users `u0..u{users}`, roles `r/0..r/{roles}`, each user in 4 roles, and `grants` grants
/// spread over the users' homes and the roles, in a scrambled order.
fn import(store: &SqliteStore, users: usize, roles: usize, grants: usize) -> f64 {
    let start = Instant::now();
    let mut txn = store.write().unwrap();
    for u in 0..users {
        txn.insert_principal(&PrincipalRecord {
            name: name(&format!("u{u}")),
            kind: PrincipalKind::User,
            active: true,
        })
        .unwrap();
    }
    for r in 0..roles {
        txn.insert_principal(&PrincipalRecord {
            name: name(&format!("r/{r}")),
            kind: PrincipalKind::Role,
            active: true,
        })
        .unwrap();
    }
    for u in 0..users {
        for k in 0..4 {
            txn.insert_edge(&Edge {
                member: name(&format!("u{u}")),
                role: name(&format!("r/{}", (u * 7 + k * 13) % roles)),
            })
            .unwrap();
        }
    }
    let mut holders = Vec::with_capacity(users + roles);
    holders.extend((0..users).map(|u| name(&format!("u{u}"))));
    holders.extend((0..roles).map(|r| name(&format!("r/{r}"))));
    for i in 0..grants {
        let j = i.wrapping_mul(2_654_435_761) % grants;
        let owner = j % users;
        let holder = &holders[(j / 7) % holders.len()];
        let uri = Uri::parse(&format!("storage://c/u{owner}/d{}/e{}/f{j}", j % 10, j % 3)).unwrap();
        txn.put_grant(&Grant {
            holder: holder.clone(),
            uri,
            level: Level::ALL[j % 5],
        })
        .unwrap();
    }
    commit(txn);
    start.elapsed().as_secs_f64()
}

#[test]
#[ignore = "performance probe: run with --release --ignored"]
fn bulk_import_of_a_million_grants() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bulk.db")).unwrap();
    let seconds = import(&store, 10_000, 1_000, 1_000_000);
    println!("bulk import: 1M grants in {seconds:.2} s");
    let view = store.read().unwrap();
    assert_eq!(view.revision().unwrap().0, 1);
}

#[test]
#[ignore = "performance probe: run with --release --ignored"]
fn check_calls_on_a_100k_grant_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("check.db")).unwrap();
    let seconds = import(&store, 1_000, 200, 100_000);
    println!("import: 100k grants in {seconds:.2} s");
    const CHECKS: usize = 20_000;
    let start = Instant::now();
    let mut found = 0usize;
    for i in 0..CHECKS {
        let user = name(&format!("u{}", i % 1000));
        let target = Uri::parse(&format!(
            "storage://c/u{}/d{}/e{}/f{}",
            (i * 31) % 1000,
            i % 10,
            i % 3,
            i
        ))
        .unwrap();
        let view = store.read().unwrap();
        // The calls of one check: the user's roles, the grants of the closure on the
        // target and its ancestors, the fences on them, and whether anything below is
        // granted (for implicit list).
        let mut holders = vec![user.clone()];
        holders.extend(
            view.roles_of(std::slice::from_ref(&user))
                .unwrap()
                .into_iter()
                .map(|(_, role)| role.name),
        );
        let ancestors = target.ancestors_and_self();
        found += view.grants_at(&holders, &ancestors).unwrap().len();
        found += view.fences_at(&ancestors).unwrap().len();
        found += usize::from(view.grant_below(&holders, &target).unwrap().is_some());
    }
    let per_check = start.elapsed().as_secs_f64() * 1e6 / CHECKS as f64;
    println!("check: {per_check:.1} us per check (4 store calls + read view), {found} rows");
}

#[test]
#[ignore = "performance probe: run with --release --ignored"]
fn check_calls_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("parts.db")).unwrap();
    import(&store, 1_000, 200, 100_000);
    const N: usize = 20_000;
    let user = name("u17");
    let target = Uri::parse("storage://c/u17/d3/e1/f4242").unwrap();
    let ancestors = target.ancestors_and_self();
    let view = store.read().unwrap();
    let mut holders = vec![user.clone()];
    holders.extend(
        view.roles_of(std::slice::from_ref(&user))
            .unwrap()
            .into_iter()
            .map(|(_, r)| r.name),
    );
    drop(view);
    let time = |label: &str, f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..N {
            f();
        }
        println!(
            "{label}: {:.2} us",
            start.elapsed().as_secs_f64() * 1e6 / N as f64
        );
    };
    time("read() + drop", &|| drop(store.read().unwrap()));
    let view = store.read().unwrap();
    time("revision", &|| {
        view.revision().unwrap();
    });
    time("roles_of(1)", &|| {
        drop(view.roles_of(std::slice::from_ref(&user)).unwrap())
    });
    time("grants_at(5x6)", &|| {
        drop(view.grants_at(&holders, &ancestors).unwrap())
    });
    time("grants_at(1x1)", &|| {
        drop(view.grants_at(&holders[..1], &ancestors[..1]).unwrap())
    });
    time("fences_at(6)", &|| {
        drop(view.fences_at(&ancestors).unwrap())
    });
    time("grant_below(5)", &|| {
        drop(view.grant_below(&holders, &target).unwrap())
    });
    time("grant_below(5) at home", &|| {
        drop(view.grant_below(&holders, &ancestors[3]).unwrap())
    });
}
