//! Draws the scaling curves of docs/benchmarks.md (issue 7) from criterion's results, as
//! three SVG files: docs/scaling-store.svg (check latency vs store size), scaling-roles.svg
//! (vs role depth) and scaling-uri.svg (vs URI depth), each with the closure cache and
//! without it as the scaling benchmark names them. Medians, in ns per check.
//!
//! Run the benchmark first, then: `cargo run -p acl-benches --example plot [-- OUT_DIR]`
//! (OUT_DIR defaults to the workspace's docs/; the results are read from
//! `$CARGO_TARGET_DIR/criterion`, or target/criterion). A store size that was not run (the
//! 1M-grant point is opt-in) is left out of its chart; any other missing result is listed
//! and nothing is written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use acl_benches::plot::{Axis, Chart, Series, TickFormat, Ticks};
use acl_benches::report::{criterion_dir, figure};

const BENCH: &str = "cargo bench -p acl-benches --bench scaling";
/// The store sizes of benches/scaling.rs, with their nominal grant counts.
const STORES: [(&str, f64); 3] = [("10k", 1e4), ("100k", 1e5), ("1M", 1e6)];
const ROLE_DEPTHS: std::ops::RangeInclusive<u32> = 1..=8;
const URI_DEPTHS: std::ops::RangeInclusive<u32> = 1..=12;
const LATENCY: &str = "median check latency (ns)";

/// Reads the results, noting the missing ones.
struct Reader {
    dir: PathBuf,
    /// `(group, ids)` of the required results not found.
    missing: Vec<(String, Vec<String>)>,
}

impl Reader {
    /// The medians of `group` at `ids` (each with its x value), and the ids not found.
    fn read(&self, group: &str, ids: &[(String, f64)]) -> (Vec<(f64, f64)>, Vec<String>) {
        let mut points = Vec::new();
        let mut absent = Vec::new();
        for (id, x) in ids {
            match figure(&self.dir, group, id) {
                Some(f) => points.push((*x, f.median)),
                None => absent.push(id.clone()),
            }
        }
        (points, absent)
    }

    /// The medians of `group` at `ids`, every one required.
    fn series(&mut self, name: &str, group: &str, ids: &[(String, f64)]) -> Series {
        let (points, absent) = self.read(group, ids);
        if !absent.is_empty() {
            self.missing.push((group.to_owned(), absent));
        }
        Series::new(&format!("{name} ({group})"), points)
    }
}

fn depth_chart(reader: &mut Reader, what: &str, group: &str, depths: &[u32]) -> Chart {
    let ids: Vec<(String, f64)> = depths
        .iter()
        .map(|d| (d.to_string(), f64::from(*d)))
        .collect();
    Chart {
        title: format!("check latency vs {what}, small workload (memory store)"),
        x: Axis::linear(what).with_ticks(Ticks::At(ids.iter().map(|(_, x)| *x).collect())),
        y: Axis::linear(LATENCY),
        series: vec![
            reader.series("closure cache", group, &ids),
            reader.series("no cache", &format!("{group}-nocache"), &ids),
        ],
    }
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
    let mut reader = Reader {
        dir: criterion_dir(),
        missing: Vec::new(),
    };

    // store size: the points run, the others left out (1M is opt-in)
    let store_ids: Vec<(String, f64)> = STORES
        .iter()
        .map(|(label, grants)| ((*label).to_owned(), *grants))
        .collect();
    let (store_points, store_absent) = reader.read("scaling-store", &store_ids);
    if store_points.is_empty() {
        reader
            .missing
            .push(("scaling-store".to_owned(), store_absent));
    } else if !store_absent.is_empty() {
        eprintln!(
            "note: left out of the store chart (not run): scaling-store/{} \
             (`ACL_BENCH_LARGE=1 {BENCH}` runs the 1M point)",
            store_absent.join(", ")
        );
    }
    let store = Chart {
        title: "check latency vs store size, 1,000 workload queries (memory store)".to_owned(),
        x: Axis::log("grants in the store (nominal)")
            .with_ticks(Ticks::At(
                STORES.iter().map(|(_, grants)| *grants).collect(),
            ))
            .with_format(TickFormat::Si),
        y: Axis::linear(LATENCY),
        series: vec![Series::new("memory store (scaling-store)", store_points)],
    };
    let roles = depth_chart(
        &mut reader,
        "role depth",
        "scaling-role-depth",
        &ROLE_DEPTHS.collect::<Vec<_>>(),
    );
    let uris = depth_chart(
        &mut reader,
        "URI depth",
        "scaling-uri-depth",
        &URI_DEPTHS.collect::<Vec<_>>(),
    );

    if !reader.missing.is_empty() {
        eprintln!("missing results under {}:", reader.dir.display());
        for (group, ids) in &reader.missing {
            eprintln!("  {group}: {}", ids.join(", "));
        }
        eprintln!("error: scaling results are missing; run `{BENCH}` first");
        return ExitCode::FAILURE;
    }

    let mut files = Vec::new();
    for (name, chart) in [
        ("scaling-store.svg", &store),
        ("scaling-roles.svg", &roles),
        ("scaling-uri.svg", &uris),
    ] {
        match chart.to_svg() {
            Ok(svg) => files.push((out.join(name), svg)),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for (path, svg) in &files {
        if let Err(e) = std::fs::write(path, svg) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
