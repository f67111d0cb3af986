//! Check cost while writes arrive: one write per 10,000, 1,000 and 100 checks against the
//! read-only figure, memory and SQLite stores, medium workload (issue 16; targets in
//! docs/benchmarks.md, Targets: <= 1.2x at one write per 1,000, <= 1.5x at one per 100).
//!
//! Run: `cargo bench -p acl-benches --bench mixed`.
//!
//! The checks are timed in blocks of N (N = 100 for the read-only figure), each on a fresh
//! read view; after each block one write commits, untimed: the figure is what the writes
//! cost the checks (caches dropped or caught up, memory the write touched), not the
//! writes' own time. A write is a grant, then its revoke, of a storage URI no query asks
//! about (`write`), or a user joining, then leaving, a group (`membership`), which changes
//! that one user's closure. The ratios printed at the end are this run's medians over the
//! read-only median.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark aborts on a broken setup, as a test does"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use acl_benches::report::{criterion_dir, figure, human};
use acl_benches::{ADMIN, Query, RoundRobin, Size, Workload};
use acl_core::{Caller, Engine, Level, PrincipalKind, PrincipalName, Store, Timestamp, Uri};
use acl_memory::MemoryStore;
use acl_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 0x5EED;
const QUERIES: usize = 1_000;

/// What commits between two blocks of checks.
#[derive(Clone, Copy)]
enum Write {
    /// Nothing: the read-only figure.
    None,
    /// A grant or revoke on a storage URI nobody asks about.
    Grant,
    /// A user joins or leaves a group.
    Membership,
}

/// The writer's state: which write comes next.
struct Writer<'w> {
    by: Caller,
    users: &'w [PrincipalName],
    group: Uri,
    /// Writes done so far of each kind (grants, memberships): each kind alternates grant
    /// and revoke across the cases, so a case that ends between the two is carried on.
    steps: [usize; 2],
}

impl Writer<'_> {
    fn write<S: Store>(&mut self, engine: &Engine<S>, kind: Write) {
        let slot = match kind {
            Write::None => return,
            Write::Grant => 0,
            Write::Membership => 1,
        };
        // Steps 2k and 2k + 1 grant and revoke the same pair, so the store stays its size.
        let step = self.steps[slot];
        self.steps[slot] += 1;
        let k = step / 2;
        let user = &self.users[k % self.users.len()];
        let undo = step % 2 == 1;
        let uri = match kind {
            Write::None => return,
            Write::Grant => Uri::parse(&format!("storage://c/mixed/x{}", k % 64))
                .unwrap_or_else(|e| panic!("{e}")),
            Write::Membership => self.group.clone(),
        };
        let done = if undo {
            engine.revoke(&self.by, &uri, user).map(drop)
        } else {
            engine.grant(&self.by, &uri, user, Level::Read).map(drop)
        };
        done.unwrap_or_else(|e| panic!("write: {e}"));
    }
}

/// `iters` checks in blocks of `block`, one `kind` write after each block (untimed).
fn checks_with_writes<S: Store>(
    engine: &Engine<S>,
    next: &mut RoundRobin<'_, Query>,
    writer: &mut Writer<'_>,
    block: u64,
    kind: Write,
    iters: u64,
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(block);
        left -= n;
        let start = Instant::now();
        for _ in 0..n {
            let q = next.next_item();
            let allowed = engine
                .check(black_box(&q.principal), black_box(&q.uri), q.level)
                .unwrap_or_else(|e| panic!("check: {e}"));
            debug_assert_eq!(allowed, q.allowed);
            black_box(allowed);
        }
        timed += start.elapsed();
        writer.write(engine, kind);
    }
    timed
}

const CASES: [(&str, u64, Write); 5] = [
    ("read-only", 100, Write::None),
    ("write-per-10000", 10_000, Write::Grant),
    ("write-per-1000", 1_000, Write::Grant),
    ("write-per-100", 100, Write::Grant),
    ("membership-per-1000", 1_000, Write::Membership),
];

fn bench_store<S: Store>(c: &mut Criterion, label: &str, workload: &Workload, engine: &Engine<S>) {
    let queries = workload
        .queries(engine, QUERIES, 1)
        .unwrap_or_else(|e| panic!("queries: {e}"));
    let admin = PrincipalName::new(ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let by = Caller::new(admin, Timestamp(1));
    let group = PrincipalName::new("c/mixed").unwrap_or_else(|e| panic!("{e}"));
    engine
        .add_role(&by, &group, PrincipalKind::Group)
        .unwrap_or_else(|e| panic!("group: {e}"));
    // The users whose membership changes are the queries' own, so the writes drop closures
    // the checks use.
    let users: Vec<PrincipalName> = queries.iter().map(|q| q.principal.clone()).collect();
    let mut writer = Writer {
        by,
        users: &users,
        group: Uri::of_role(&group),
        steps: [0; 2],
    };
    let mut next = RoundRobin::new(&queries).unwrap_or_else(|| panic!("no queries"));
    // Warm the closure cache, as a running service's would be.
    checks_with_writes(
        engine,
        &mut next,
        &mut writer,
        100,
        Write::None,
        QUERIES as u64,
    );
    let group_name = format!("mixed-{label}");
    let mut bench = c.benchmark_group(&group_name);
    bench.measurement_time(Duration::from_secs(if label == "memory" { 5 } else { 4 }));
    for (id, block, kind) in CASES {
        bench.bench_function(id, |b| {
            b.iter_custom(|iters| {
                checks_with_writes(engine, &mut next, &mut writer, block, kind, iters)
            })
        });
    }
    bench.finish();
    report(&group_name);
}

/// Prints each case's median and its ratio to the read-only median, from this run.
fn report(group: &str) {
    let dir = criterion_dir();
    let Some(base) = figure(&dir, group, "read-only") else {
        return;
    };
    eprintln!("\n{group} (check cost, writes' own time excluded):");
    for (id, _, _) in CASES {
        if let Some(f) = figure(&dir, group, id) {
            eprintln!(
                "  {id:<20} {:>9} per check, {:.2}x read-only",
                human(f.median),
                f.median / base.median
            );
        }
    }
}

fn medium(c: &mut Criterion) {
    let workload = Workload::generate(Size::MEDIUM, SEED).unwrap_or_else(|e| panic!("{e}"));
    let memory = workload
        .load(MemoryStore::new())
        .unwrap_or_else(|e| panic!("load memory: {e}"));
    bench_store(c, "memory", &workload, &memory);
    drop(memory);

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = SqliteStore::open(dir.path().join("medium.db")).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = workload
        .load(store)
        .unwrap_or_else(|e| panic!("load sqlite: {e}"));
    bench_store(c, "sqlite", &workload, &sqlite);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = medium
}
criterion_main!(benches);
