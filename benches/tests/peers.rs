//! The peers answer what `acl` answers (feature `peers`): on the small workload, every
//! configuration of casbin-rs and cedar-policy (benches/src/peers.rs) agrees with the engine
//! on at least 1,000 sampled decisions, so timing them side by side compares the same work.
//! Run: `cargo test -p acl-benches --features peers`.
#![cfg(feature = "peers")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use acl_benches::peers::{CasbinConfig, CasbinPeer, CedarConfig, CedarPeer, PeerModel};
use acl_benches::{Query, Size, Workload};
use acl_core::{Level, Reason};
use acl_memory::MemoryStore;

/// The small workload loaded into acl, and 1,200 decisions (300 queries at every level)
/// less those that rest on the implicit list (rule E2), which the peers do not encode.
fn sample() -> (Workload, acl_core::Engine<MemoryStore>, Vec<Query>) {
    let workload = Workload::generate(Size::SMALL, 0x5EED).unwrap();
    let engine = workload.load(MemoryStore::new()).unwrap();
    let queries = workload.queries(&engine, 300, 7).unwrap();
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
    for q in &sample {
        assert_eq!(
            engine.check(&q.principal, &q.uri, q.level).unwrap(),
            q.allowed
        );
    }
    (workload, engine, sample)
}

#[test]
fn every_casbin_configuration_agrees_with_acl() {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(&workload, engine.schema()).unwrap();
    for config in CasbinConfig::ALL {
        let casbin = CasbinPeer::load(&model, config).unwrap();
        assert_eq!(casbin.config(), config);
        for q in &sample {
            let by_casbin = casbin.check(&CasbinPeer::request(q)).unwrap();
            assert_eq!(by_casbin, q.allowed, "{} on {q:?}", config.name());
        }
        if config == CasbinConfig::Memoized {
            // a second pass is answered from the request cache, and still agrees
            let (_, misses) = casbin.cache_counters().read();
            assert!(misses >= sample.len() as u64 / 4, "{misses} misses");
            casbin.cache_counters().reset();
            for q in &sample {
                assert_eq!(casbin.check(&CasbinPeer::request(q)).unwrap(), q.allowed);
            }
            let rate = casbin.cache_counters().hit_rate().unwrap();
            assert!(rate > 0.9, "hit rate {rate}");
        } else {
            assert_eq!(casbin.cache_counters().hit_rate(), None);
        }
    }
}

#[test]
fn every_cedar_configuration_agrees_with_acl() {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(&workload, engine.schema()).unwrap();
    let uris: Vec<_> = sample.iter().map(|q| q.uri.clone()).collect();
    for config in CedarConfig::ALL {
        let cedar = CedarPeer::load(&model, &uris, config).unwrap();
        assert_eq!(cedar.config(), config);
        for q in &sample {
            let request = cedar.request(q).unwrap();
            let by_cedar = cedar.check(&request).unwrap();
            assert_eq!(by_cedar, q.allowed, "{} on {q:?}", config.name());
        }
    }
}

#[test]
fn a_cedar_slice_is_a_small_part_of_the_policies() {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(&workload, engine.schema()).unwrap();
    let uris: Vec<_> = sample.iter().map(|q| q.uri.clone()).collect();
    let cedar = CedarPeer::load(&model, &uris, CedarConfig::Sliced).unwrap();
    let mut largest = 0;
    for q in &sample {
        let slice = cedar.slice(&cedar.request(q).unwrap()).unwrap();
        let size = slice.policies().count();
        // an allowed request's slice holds the policy that allows it
        assert!(!q.allowed || size > 0, "empty slice for {q:?}");
        largest = largest.max(size);
    }
    assert!(
        largest * 100 < model.grants.len(),
        "a slice of {largest} policies out of {}",
        model.grants.len()
    );
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
