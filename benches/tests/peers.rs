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
use std::sync::OnceLock;

/// The small workload loaded into acl, and 1,200 decisions (300 queries at every level)
/// less those that rest on the implicit list (rule E2), which the peers do not encode.
/// Built once for all the tests of this file.
fn sample() -> &'static (Workload, acl_core::Engine<MemoryStore>, Vec<Query>) {
    static SAMPLE: OnceLock<(Workload, acl_core::Engine<MemoryStore>, Vec<Query>)> =
        OnceLock::new();
    SAMPLE.get_or_init(build_sample)
}

fn build_sample() -> (Workload, acl_core::Engine<MemoryStore>, Vec<Query>) {
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

/// casbin in `config` agrees with acl on every `step`-th decision of the sample.
fn casbin_agrees(config: CasbinConfig, step: usize) -> CasbinPeer {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(workload, engine.schema()).unwrap();
    let casbin = CasbinPeer::load(&model, config).unwrap();
    assert_eq!(casbin.config(), config);
    let mut compared = 0;
    for q in sample.iter().step_by(step) {
        let by_casbin = casbin.check(&CasbinPeer::request(q)).unwrap();
        assert_eq!(by_casbin, q.allowed, "{} on {q:?}", config.name());
        compared += 1;
    }
    assert!(compared >= 400, "only {compared} decisions compared");
    casbin
}

#[test]
fn casbin_with_the_fast_matcher_agrees_with_acl() {
    let casbin = casbin_agrees(CasbinConfig::Fast, 1);
    assert_eq!(casbin.cache_counters().hit_rate(), None);
}

#[test]
fn casbin_with_the_textbook_matcher_agrees_with_acl() {
    // every policy line walks the role graph (some 20 ms a check on this workload): a
    // third of the sample keeps the test fast; the benchmark checks every query it times
    let casbin = casbin_agrees(CasbinConfig::Textbook, 3);
    assert_eq!(casbin.cache_counters().hit_rate(), None);
}

#[test]
fn casbin_behind_its_request_cache_agrees_with_acl() {
    let casbin = casbin_agrees(CasbinConfig::Memoized, 1);
    // the first pass missed on every distinct request; a second is answered from the
    // cache, and still agrees
    let (hits, misses) = casbin.cache_counters().read();
    assert!(misses >= 250, "{hits} hits, {misses} misses");
    casbin.cache_counters().reset();
    for q in &sample().2 {
        assert_eq!(casbin.check(&CasbinPeer::request(q)).unwrap(), q.allowed);
    }
    let rate = casbin.cache_counters().hit_rate().unwrap();
    assert!(rate > 0.9, "hit rate {rate}");
}

#[test]
fn every_cedar_configuration_agrees_with_acl() {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(workload, engine.schema()).unwrap();
    let uris: Vec<_> = sample.iter().map(|q| q.uri.clone()).collect();
    for config in CedarConfig::ALL {
        let cedar = CedarPeer::load(&model, &uris, config).unwrap();
        assert_eq!(cedar.config(), config);
        for q in sample {
            let request = cedar.request(q).unwrap();
            let by_cedar = cedar.check(&request).unwrap();
            assert_eq!(by_cedar, q.allowed, "{} on {q:?}", config.name());
        }
    }
}

#[test]
fn a_cedar_slice_is_a_small_part_of_the_policies() {
    let (workload, engine, sample) = sample();
    let model = PeerModel::of(workload, engine.schema()).unwrap();
    let uris: Vec<_> = sample.iter().map(|q| q.uri.clone()).collect();
    let cedar = CedarPeer::load(&model, &uris, CedarConfig::Sliced).unwrap();
    let mut largest = 0;
    for q in sample {
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
