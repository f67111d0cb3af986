//! Draws the charts of docs/benchmarks.md from criterion's results with plotters
//! (`acl_benches::chart`), as SVG files:
//!
//! - docs/scaling-store.svg (check latency vs store size), scaling-roles.svg (vs role
//!   depth) and scaling-uri.svg (vs URI depth), each with the closure cache and without it
//!   as the scaling benchmark names them, from `cargo bench -p acl-benches --bench scaling`;
//! - docs/peers.svg: every configuration of the peers benchmark on the small and medium
//!   workloads, from `cargo bench -p acl-benches --features peers --bench peers`.
//!
//! Medians, in ns per check. Run the benchmarks first, then: `cargo run -p acl-benches
//! --example plot [-- OUT_DIR]` (OUT_DIR defaults to the workspace's docs/; the results are
//! read from `$CARGO_TARGET_DIR/criterion`, or target/criterion). A store size that was not
//! run (the 1M-grant point is opt-in) is left out of its chart; a chart whose results are
//! missing altogether is listed and not written, and the run fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use acl_benches::chart::{Axis, Chart, Series};
use acl_benches::report::{criterion_dir, figure};

const SCALING: &str = "cargo bench -p acl-benches --bench scaling";
const PEERS: &str = "cargo bench -p acl-benches --features peers --bench peers";
/// The store sizes of benches/scaling.rs, with their nominal grant counts.
const STORES: [(&str, f64); 3] = [("10k", 1e4), ("100k", 1e5), ("1M", 1e6)];
const ROLE_DEPTHS: std::ops::RangeInclusive<u32> = 1..=8;
const URI_DEPTHS: std::ops::RangeInclusive<u32> = 1..=12;
const LATENCY: &str = "median check latency (ns)";
/// The peers benchmark's workloads, with their nominal grant counts.
const PEER_RUNS: [(&str, f64); 2] = [("peers-small", 1e4), ("peers-medium", 1e5)];
/// The peers benchmark's configurations: `(benchmark id, legend)`.
const PEER_CONFIGS: [(&str, &str); 7] = [
    ("acl", "acl"),
    ("cedar-sliced", "cedar, sliced (expert)"),
    ("cedar-attributes", "cedar, attributes (expert)"),
    ("casbin-fast", "casbin, fast matcher (expert)"),
    ("cedar-naive", "cedar, one policy set (naive)"),
    ("casbin-textbook", "casbin, textbook matcher (naive)"),
    ("casbin-memoized", "casbin, CachedEnforcer (cache)"),
];

/// The medians of `group` at `ids` (each with its x value); the ids not found are left out.
fn points(dir: &Path, group: &str, ids: &[(String, f64)]) -> (Vec<(f64, f64)>, Vec<String>) {
    let mut points = Vec::new();
    let mut absent = Vec::new();
    for (id, x) in ids {
        match figure(dir, group, id) {
            Some(f) => points.push((*x, f.median)),
            None => absent.push(format!("{group}/{id}")),
        }
    }
    (points, absent)
}

/// A chart, or the results it lacks.
type Drawn = Result<Chart, Vec<String>>;

fn depth_chart(dir: &Path, what: &str, group: &str, depths: &[u32]) -> Drawn {
    let ids: Vec<(String, f64)> = depths
        .iter()
        .map(|d| (d.to_string(), f64::from(*d)))
        .collect();
    let (cached, mut absent) = points(dir, group, &ids);
    let nocache_group = format!("{group}-nocache");
    let (nocache, more) = points(dir, &nocache_group, &ids);
    absent.extend(more);
    if !absent.is_empty() {
        return Err(absent);
    }
    Ok(Chart {
        title: format!("check latency vs {what}, small workload (memory store)"),
        x: Axis::linear(what),
        y: Axis::linear(LATENCY),
        series: vec![
            Series::new(&format!("closure cache ({group})"), cached),
            Series::new(&format!("no cache ({nocache_group})"), nocache),
        ],
    })
}

fn store_chart(dir: &Path) -> Drawn {
    let ids: Vec<(String, f64)> = STORES
        .iter()
        .map(|(label, grants)| ((*label).to_owned(), *grants))
        .collect();
    let (points, absent) = points(dir, "scaling-store", &ids);
    if points.is_empty() {
        return Err(absent);
    }
    if !absent.is_empty() {
        eprintln!(
            "note: left out of the store chart (not run): {} (`ACL_BENCH_LARGE=1 {SCALING}` runs \
             the 1M point)",
            absent.join(", ")
        );
    }
    Ok(Chart {
        title: "check latency vs store size, 1,000 workload queries (memory store)".to_owned(),
        x: Axis::log("grants in the store (nominal)"),
        y: Axis::linear(LATENCY),
        series: vec![Series::new("memory store (scaling-store)", points)],
    })
}

fn peers_chart(dir: &Path) -> Drawn {
    let mut series = Vec::new();
    let mut absent = Vec::new();
    for (id, legend) in PEER_CONFIGS {
        let mut line = Vec::new();
        for (group, grants) in PEER_RUNS {
            match figure(dir, group, id) {
                Some(f) => line.push((grants, f.median)),
                None => absent.push(format!("{group}/{id}")),
            }
        }
        series.push(Series::new(legend, line));
    }
    if !absent.is_empty() {
        return Err(absent);
    }
    Ok(Chart {
        title: "acl, cedar-policy and casbin-rs on the same queries (one run, memory)".to_owned(),
        x: Axis::log("grants in the model (small, medium workload)"),
        y: Axis::log(LATENCY),
        series,
    })
}

fn main() -> ExitCode {
    let out = std::env::args_os().nth(1).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("docs")
        },
        PathBuf::from,
    );
    let dir = criterion_dir();
    let charts = [
        ("scaling-store.svg", SCALING, store_chart(&dir)),
        (
            "scaling-roles.svg",
            SCALING,
            depth_chart(
                &dir,
                "role depth",
                "scaling-role-depth",
                &ROLE_DEPTHS.collect::<Vec<_>>(),
            ),
        ),
        (
            "scaling-uri.svg",
            SCALING,
            depth_chart(
                &dir,
                "URI depth",
                "scaling-uri-depth",
                &URI_DEPTHS.collect::<Vec<_>>(),
            ),
        ),
        ("peers.svg", PEERS, peers_chart(&dir)),
    ];
    let mut failed = false;
    for (name, bench, chart) in charts {
        let svg = match chart.map(|c| c.to_svg()) {
            Ok(Ok(svg)) => svg,
            Ok(Err(e)) => {
                eprintln!("error: {name}: {e}");
                failed = true;
                continue;
            }
            Err(absent) => {
                eprintln!(
                    "error: {name}: missing under {}: {}; run `{bench}` first",
                    dir.display(),
                    absent.join(", ")
                );
                failed = true;
                continue;
            }
        };
        let path = out.join(name);
        if let Err(e) = std::fs::write(&path, svg) {
            eprintln!("error: cannot write {}: {e}", path.display());
            failed = true;
            continue;
        }
        println!("wrote {}", path.display());
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
