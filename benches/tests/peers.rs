//! The peers answer what `acl` answers (feature `peers`): on the small workload, casbin-rs
//! and cedar-policy agree with the engine on at least 1,000 sampled decisions, so timing
//! them side by side compares the same work. Run: `cargo test -p acl-benches --features
//! peers`.
#![cfg(feature = "peers")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use acl_benches::peers::{CasbinPeer, CedarPeer, PeerModel};
use acl_benches::{Query, Size, Workload};
use acl_core::{Level, Reason};
use acl_memory::MemoryStore;

#[test]
fn peers_agree_with_acl_on_the_small_workload() {
    let workload = Workload::generate(Size::SMALL, 0x5EED).unwrap();
    let engine = workload.load(MemoryStore::new()).unwrap();
    let queries = workload.queries(&engine, 300, 7).unwrap();
    // every query at every level: 1,200 decisions, less those that rest on the implicit
    // list (rule E2), which the peers do not encode
    let mut sample: Vec<Query> = Vec::new();
    for q in &queries {
        let decision = engine.explain(&q.principal, &q.uri).unwrap();
        for level in [Level::List, Level::Read, Level::Write, Level::Manage] {
            let implicit = matches!(decision.reason, Reason::ImplicitList { .. });
            if implicit && level == Level::List {
                continue;
            }
            sample.push(Query {
                level,
                allowed: decision.allows(level),
                ..q.clone()
            });
        }
    }
    assert!(sample.len() >= 1_000, "only {} decisions", sample.len());
    let allowed = sample.iter().filter(|q| q.allowed).count();
    assert!(
        allowed >= 250 && sample.len() - allowed >= 250,
        "{allowed} of {}",
        sample.len()
    );

    let model = PeerModel::of(&workload, engine.schema()).unwrap();
    let casbin = CasbinPeer::load(&model).unwrap();
    let uris: Vec<_> = sample.iter().map(|q| q.uri.clone()).collect();
    let cedar = CedarPeer::load(&model, &uris).unwrap();
    for q in &sample {
        assert_eq!(
            engine.check(&q.principal, &q.uri, q.level).unwrap(),
            q.allowed
        );
        let by_casbin = casbin.check(&CasbinPeer::request(q)).unwrap();
        assert_eq!(by_casbin, q.allowed, "casbin on {q:?}");
        let by_cedar = cedar
            .check(&CedarPeer::request(&model, q).unwrap())
            .unwrap();
        assert_eq!(by_cedar, q.allowed, "cedar on {q:?}");
    }
}

#[test]
fn the_peers_refuse_what_they_cannot_express() {
    let mut workload = Workload::generate(
        Size {
            users: 20,
            roles: 8,
            role_grants: 10,
        },
        1,
    )
    .unwrap();
    let (uri, holder, _) = workload.grants.last().cloned().unwrap();
    workload
        .grants
        .push((uri.child("x").unwrap(), holder, Level::Deny));
    let err = PeerModel::of(&workload, &acl_core::Schema::standard()).unwrap_err();
    assert!(err.to_string().contains("forbid"), "{err}");
}
