//! Reading criterion's results back: the median (with its confidence interval) from
//! `estimates.json` and a p95 from `sample.json`, for the tables of docs/benchmarks.md and
//! the acl/peer ratios the peers benchmark prints.
//!
//! Criterion keeps, per benchmark, `<dir>/<group>/<id>/new/estimates.json` and
//! `sample.json` (each sample: an iteration count and their total time). The p95 here is
//! the 95th percentile of the per-sample mean times: criterion gives no per-call
//! percentile, and a sample averages many calls, so it understates the tail of single
//! calls.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One benchmark's figures, in nanoseconds per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    /// Criterion's median estimate.
    pub median: f64,
    /// The lower bound of the median's 95% confidence interval.
    pub low: f64,
    /// The upper bound of the median's 95% confidence interval.
    pub high: f64,
    /// The 95th percentile of the per-sample mean times.
    pub p95: f64,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Sample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

/// Criterion's output directory for this workspace: `$CARGO_TARGET_DIR/criterion`, or
/// `target/criterion` at the workspace root.
pub fn criterion_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("criterion"),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("criterion"),
    }
}

/// The figures of benchmark `group/id` under `dir`, or `None` when it has not run (or its
/// files cannot be read).
pub fn figure(dir: &Path, group: &str, id: &str) -> Option<Figure> {
    let base = dir.join(group).join(id).join("new");
    let estimates: Estimates =
        serde_json::from_str(&std::fs::read_to_string(base.join("estimates.json")).ok()?).ok()?;
    let sample: Sample =
        serde_json::from_str(&std::fs::read_to_string(base.join("sample.json")).ok()?).ok()?;
    let mut per_call: Vec<f64> = sample
        .iters
        .iter()
        .zip(&sample.times)
        .filter(|(iters, _)| **iters > 0.0)
        .map(|(iters, time)| time / iters)
        .collect();
    per_call.sort_by(f64::total_cmp);
    let p95 = percentile(&per_call, 0.95)?;
    Some(Figure {
        median: estimates.median.point_estimate,
        low: estimates.median.confidence_interval.lower_bound,
        high: estimates.median.confidence_interval.upper_bound,
        p95,
    })
}

/// The `q` quantile of sorted values (nearest rank), `None` when empty.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// A duration in nanoseconds, in the unit that keeps three significant digits.
pub fn human(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("g").join("x").join("new");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(
            base.join("estimates.json"),
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},
                "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":90.0,"upper_bound":110.0},"point_estimate":100.0,"standard_error":1.0}}"#,
        )
        .unwrap();
        // per-call times 10, 20, ..., 200 ns over twenty samples
        let iters: Vec<String> = (1..=20).map(|i| format!("{}.0", i)).collect();
        let times: Vec<String> = (1..=20).map(|i| format!("{}.0", i * i * 10)).collect();
        std::fs::write(
            base.join("sample.json"),
            format!(
                r#"{{"sampling_mode":"Linear","iters":[{}],"times":[{}]}}"#,
                iters.join(","),
                times.join(",")
            ),
        )
        .unwrap();
        let f = figure(dir.path(), "g", "x").unwrap();
        assert_eq!((f.median, f.low, f.high), (100.0, 90.0, 110.0));
        assert_eq!(f.p95, 190.0);
        assert!(figure(dir.path(), "g", "missing").is_none());
    }

    #[test]
    fn percentiles_and_units() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 1.0), Some(4.0));
        assert_eq!(human(150.0), "150 ns");
        assert_eq!(human(12_400.0), "12.40 µs");
        assert_eq!(human(3_500_000.0), "3.50 ms");
    }
}
