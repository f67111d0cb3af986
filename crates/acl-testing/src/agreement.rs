//! The stores agreeing with each other (DESIGN rule D1): the same random operations
//! applied to engines over several stores (memory, SQLite, PostgreSQL, yours) must give
//! the same result after every op, the same decisions, and the same dump, byte for byte.
//!
//! Where [`differential`](crate::differential) holds one store to the naive model on the
//! kernel's operations, this holds the stores to each other on the kernel's and the
//! platform's together: [`AgreedOp`] interleaves the generated kernel ops
//! ([`strategies::model`](crate::strategies::model)) with the folder workflows
//! ([`folder_props`](crate::folder_props)), whose ids (`f{revision}`, `i{revision}-{n}`)
//! are the same on every store that agrees. After every op each lane's [`Step`] (the
//! outcome, or the error's kind, and the revision) must be equal; at the middle and at the
//! end, `explain` on every (principal, URI) pair of the universe, and the whole dump
//! (rule D5's format: every row, the changelog included, with its checksum).
//!
//! A store crate runs it from a property test:
//!
//! ```
//! use acl_memory::MemoryStore;
//! use acl_testing::agreement::{agreed_ops, lane, run_agreement};
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(4), |(ops in agreed_ops())| {
//!     run_agreement(&mut [lane("one", MemoryStore::new()), lane("two", MemoryStore::new())], &ops);
//! });
//! ```
#![allow(
    clippy::panic,
    reason = "a disagreement between the stores fails the test by panicking"
)]

use std::fmt::Write as _;

use proptest::prelude::*;

use acl_core::{ErrorKind, PrincipalName, Revision, Timestamp, Uri};
use acl_platform::{FolderId, PlatformStore, dump_view};

use crate::differential::apply_to_engine;
use crate::folder_props::{FolderOp, FolderRun, folder_ops, folder_world};
use crate::ops::{Op, Outcome};
use crate::strategies::{Universe, model};
use crate::world::World;

/// One operation of an agreement run: the kernel's, or a folder workflow's.
#[derive(Debug, Clone)]
pub enum AgreedOp {
    /// A kernel operation over [`Universe::small`].
    Kernel(Op),
    /// A folder operation over [`crate::folder_props::USERS`].
    Folder(FolderOp),
}

/// What one operation did on one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The outcome (`None` for a folder op that named nothing yet), or the error's kind.
    pub outcome: Result<Option<Outcome>, ErrorKind>,
    /// The store's revision after the op.
    pub revision: Revision,
}

/// One store's engine in an agreement run; [`lane`] makes one over any
/// [`PlatformStore`].
pub trait Lane {
    /// The store's name, for messages.
    fn name(&self) -> &str;
    /// Applies `op` at `clock` (milliseconds).
    fn apply(&mut self, op: &AgreedOp, clock: i64) -> Step;
    /// `explain` on every pair, as text (the decision with its reason and evidence, or
    /// the error's kind).
    fn decisions(&self, pairs: &[(PrincipalName, Uri)]) -> Vec<String>;
    /// The whole store as `acl dump` writes it.
    fn dump(&self) -> Vec<u8>;
    /// The folders the run has created, in order.
    fn folders(&self) -> &[FolderId];
}

struct EngineLane<S: PlatformStore> {
    name: String,
    world: World<S>,
    run: FolderRun,
}

/// A lane named `name`: a fresh engine over `store`, initialized as the folder
/// operations expect (cluster `c`, admin `admin`, users `u0` to `u2`, group `proj`).
pub fn lane<S: PlatformStore + 'static>(name: &str, store: S) -> Box<dyn Lane> {
    Box::new(EngineLane {
        name: name.to_owned(),
        world: folder_world(store),
        run: FolderRun::default(),
    })
}

impl<S: PlatformStore> Lane for EngineLane<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply(&mut self, op: &AgreedOp, clock: i64) -> Step {
        let outcome = match op {
            AgreedOp::Kernel(op) => apply_to_engine(&self.world.engine, op, Timestamp(clock))
                .map(|(outcome, _)| Some(outcome)),
            AgreedOp::Folder(op) => self
                .run
                .apply(&self.world, clock, op)
                .transpose()
                .map(|done| done.map(|()| Outcome::Done)),
        }
        .map_err(|err| err.kind());
        let revision = match self.world.engine.reader().and_then(|r| r.revision()) {
            Ok(revision) => revision,
            Err(err) => panic!("{}: reading the revision failed: {err}", self.name),
        };
        Step { outcome, revision }
    }

    fn decisions(&self, pairs: &[(PrincipalName, Uri)]) -> Vec<String> {
        pairs
            .iter()
            .map(
                |(principal, uri)| match self.world.engine.explain(principal, uri) {
                    Ok(decision) => format!("{decision:?}"),
                    Err(err) => format!("error {:?}", err.kind()),
                },
            )
            .collect()
    }

    fn folders(&self) -> &[FolderId] {
        &self.run.folders
    }

    fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let read = self.world.engine.store().read();
        match read.and_then(|view| dump_view(&view, &mut out)) {
            Ok(_) => out,
            Err(err) => panic!("{}: the dump failed: {err}", self.name),
        }
    }
}

/// Kernel ops from [`model`] over [`Universe::small`] interleaved with up to 24 folder
/// ops: the order is drawn too.
pub fn agreed_ops() -> impl Strategy<Value = Vec<AgreedOp>> {
    (
        model(&Universe::small()),
        folder_ops(24),
        proptest::collection::vec(any::<bool>(), 64),
    )
        .prop_map(|(kernel, folder, order)| {
            let mut kernel = kernel.into_iter().map(AgreedOp::Kernel);
            let mut folder = folder.into_iter().map(AgreedOp::Folder);
            let mut ops = Vec::new();
            let mut order = order.into_iter().cycle();
            loop {
                let next = if order.next().unwrap_or(true) {
                    kernel.next().or_else(|| folder.next())
                } else {
                    folder.next().or_else(|| kernel.next())
                };
                match next {
                    Some(op) => ops.push(op),
                    None => return ops,
                }
            }
        })
}

/// The (principal, URI) pairs the decisions are compared on: every principal of
/// [`Universe::small`] and the folder users, on every URI of the universe and every
/// folder of the run.
fn pairs(folders: &[FolderId]) -> Vec<(PrincipalName, Uri)> {
    let universe = Universe::small();
    let mut principals = universe.principals();
    principals.extend(
        crate::folder_props::USERS
            .iter()
            .filter_map(|u| PrincipalName::new(u).ok()),
    );
    principals.sort();
    principals.dedup();
    let mut uris = universe.uris();
    uris.extend(
        folders
            .iter()
            .filter_map(|id| id.uri(&universe.cluster).ok()),
    );
    principals
        .iter()
        .flat_map(|p| uris.iter().map(move |u| (p.clone(), u.clone())))
        .collect()
}

/// Applies `ops` to every lane and panics at the first disagreement with the numbered op
/// sequence, the place and each lane's answer: after every op the [`Step`]s, at the
/// middle and at the end the decisions on [`pairs`], at the end the dumps.
pub fn run_agreement(lanes: &mut [Box<dyn Lane>], ops: &[AgreedOp]) {
    let Some((first, _)) = lanes.split_first() else {
        return;
    };
    let base = first.name().to_owned();
    let compare_decisions = |lanes: &[Box<dyn Lane>], done: usize| {
        let pairs = pairs(lanes[0].folders());
        let answers: Vec<Vec<String>> = lanes.iter().map(|l| l.decisions(&pairs)).collect();
        for (lane, got) in lanes.iter().zip(&answers).skip(1) {
            for ((pair, want), got) in pairs.iter().zip(&answers[0]).zip(got) {
                if want != got {
                    fail(
                        ops,
                        done,
                        format_args!(
                            "explain {} {}: {base} says {want}, {} says {got}",
                            pair.0,
                            pair.1,
                            lane.name()
                        ),
                    );
                }
            }
        }
    };
    let dump = lanes[0].dump();
    for lane in lanes.iter().skip(1) {
        same_dump(ops, 0, &base, &dump, lane.name(), &lane.dump());
    }
    for (step, op) in ops.iter().enumerate() {
        if step == ops.len() / 2 {
            compare_decisions(lanes, step);
        }
        let clock = 1_000_000 + i64::try_from(step).unwrap_or(i64::MAX);
        let steps: Vec<Step> = lanes.iter_mut().map(|l| l.apply(op, clock)).collect();
        for (lane, got) in lanes.iter().zip(&steps).skip(1) {
            if *got != steps[0] {
                fail(
                    ops,
                    step + 1,
                    format_args!("{base} did {:?}, {} did {got:?}", steps[0], lane.name()),
                );
            }
        }
        let made: Vec<&[FolderId]> = lanes.iter().map(|l| l.folders()).collect();
        for (lane, got) in lanes.iter().zip(&made).skip(1) {
            if *got != made[0] {
                fail(
                    ops,
                    step + 1,
                    format_args!(
                        "{base} made folders {:?}, {} made {got:?}",
                        made[0],
                        lane.name()
                    ),
                );
            }
        }
    }
    compare_decisions(lanes, ops.len());
    let dump = lanes[0].dump();
    for lane in lanes.iter().skip(1) {
        same_dump(ops, ops.len(), &base, &dump, lane.name(), &lane.dump());
    }
}

fn same_dump(ops: &[AgreedOp], done: usize, base: &str, want: &[u8], other: &str, got: &[u8]) {
    if want == got {
        return;
    }
    let want = String::from_utf8_lossy(want);
    let got = String::from_utf8_lossy(got);
    let first = want
        .lines()
        .zip(got.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(want.lines().count().min(got.lines().count()));
    let line = |text: &str| text.lines().nth(first).unwrap_or("(end)").to_owned();
    fail(
        ops,
        done,
        format_args!(
            "the dumps differ at line {}: {base} has {}, {other} has {}",
            first + 1,
            line(&want),
            line(&got)
        ),
    );
}

fn fail(ops: &[AgreedOp], done: usize, what: std::fmt::Arguments<'_>) -> ! {
    let mut text = String::new();
    for (i, op) in ops.iter().enumerate() {
        let mark = if i + 1 == done { "  <- here" } else { "" };
        let _ = writeln!(text, "  {:>3}. {op:?}{mark}", i + 1);
    }
    panic!("the stores disagree after {done} ops: {what}\nops:\n{text}");
}
