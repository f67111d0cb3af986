//! Line charts of benchmark results as SVG, drawn by plotters (its SVG backend only): the
//! scaling curves and the peers chart of docs/benchmarks.md, written by `examples/plot.rs`
//! from criterion's results.
//!
//! A [`Chart`] is a title, two [`Axis`] and a list of [`Series`]; [`Chart::to_svg`] renders
//! it as one standalone SVG document, a line with a marker per point for each series and a
//! legend naming them.
//!
//! ```
//! use acl_benches::chart::{Axis, Chart, Series};
//!
//! let chart = Chart {
//!     title: "check latency vs role depth".to_owned(),
//!     x: Axis::linear("role depth"),
//!     y: Axis::linear("median check latency (ns)"),
//!     series: vec![Series::new("closure cache", vec![(1.0, 1160.0), (2.0, 1560.0)])],
//! };
//! let svg = chart.to_svg()?;
//! assert!(svg.contains("<svg") && svg.contains("closure cache"));
//! # Ok::<(), acl_benches::chart::ChartError>(())
//! ```
//!
//! # Invariants
//!
//! - Only finite values are drawn, and only positive ones on a logarithmic axis: anything
//!   else is a [`ChartError`], never a point off the chart.
//! - The axes' ranges cover every point; a linear y axis starts at zero, so the heights of
//!   two points compare honestly.

use std::fmt;
use std::ops::Range;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// The size of a rendered chart, in pixels.
pub const SIZE: (u32, u32) = (800, 480);

/// A chart could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChartError {}

fn error(what: impl fmt::Display) -> ChartError {
    ChartError(what.to_string())
}

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Equal distances for equal differences.
    Linear,
    /// Equal distances for equal ratios; values must be positive.
    Log,
}

/// One axis: its label and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The axis's description.
    pub label: String,
    /// Its scale.
    pub scale: Scale,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: &str) -> Axis {
        Axis {
            label: label.to_owned(),
            scale: Scale::Linear,
        }
    }

    /// A logarithmic axis.
    pub fn log(label: &str) -> Axis {
        Axis {
            label: label.to_owned(),
            scale: Scale::Log,
        }
    }

    /// The range drawn for `values`: from zero (linear) or a little below the least
    /// (log), to a little above the greatest.
    fn range(
        &self,
        values: impl Iterator<Item = f64>,
        from_zero: bool,
    ) -> Result<Range<f64>, ChartError> {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            if !v.is_finite() || (self.scale == Scale::Log && v <= 0.0) {
                return Err(error(format!("{}: cannot draw {v}", self.label)));
            }
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            return Err(error(format!("{}: no points", self.label)));
        }
        Ok(match self.scale {
            Scale::Linear => {
                let low = if from_zero { lo.min(0.0) } else { lo };
                let span = (hi - low).max(hi.abs() * 0.1).max(1e-9);
                let pad = if from_zero { 0.0 } else { span * 0.05 };
                (low - pad)..(hi + span * 0.08)
            }
            Scale::Log => (lo / 1.6)..(hi * 1.6),
        })
    }
}

/// One line of a chart: its legend and its points `(x, y)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, drawn in order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series named `name`.
    pub fn new(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_owned(),
            points,
        }
    }
}

/// A line chart (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Drawn above the plot.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// The lines, each in its own colour and marker.
    pub series: Vec<Series>,
}

/// A tick label: integers as integers, large values with an SI suffix.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

impl Chart {
    /// The chart as one SVG document.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x = self.x.range(points().map(|p| p.0), false)?;
        let y = self.y.range(points().map(|p| p.1), true)?;
        let mut svg = String::new();
        match (self.x.scale, self.y.scale) {
            (Scale::Linear, Scale::Linear) => self.draw(&mut svg, x, y)?,
            (Scale::Linear, Scale::Log) => self.draw(&mut svg, x, y.log_scale())?,
            (Scale::Log, Scale::Linear) => self.draw(&mut svg, x.log_scale(), y)?,
            (Scale::Log, Scale::Log) => self.draw(&mut svg, x.log_scale(), y.log_scale())?,
        }
        Ok(svg)
    }

    fn draw<X, Y>(&self, svg: &mut String, x: X, y: Y) -> Result<(), ChartError>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x, y)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc(self.x.label.as_str())
            .y_desc(self.y.label.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(error)?;
        for (i, series) in self.series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let style = ShapeStyle::from(colour).stroke_width(2);
            chart
                .draw_series(LineSeries::new(series.points.iter().copied(), style))
                .map_err(error)?
                .label(series.name.as_str())
                .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], style));
            chart
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|p| Circle::new(*p, 4, colour.filled())),
                )
                .map_err(error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(error)?;
        root.present().map_err(error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    fn chart(x: Axis, y: Axis, points: Vec<(f64, f64)>) -> Chart {
        Chart {
            title: "t".to_owned(),
            x,
            y,
            series: vec![Series::new("a", points), Series::new("b", vec![(2.0, 3.0)])],
        }
    }

    #[test]
    fn draws_every_series_on_every_scale() {
        for (x, y) in [
            (Axis::linear("x"), Axis::linear("y")),
            (Axis::log("x"), Axis::log("y")),
            (Axis::log("x"), Axis::linear("y")),
            (Axis::linear("x"), Axis::log("y")),
        ] {
            let svg = chart(x, y, vec![(1.0, 10.0), (10.0, 1000.0)])
                .to_svg()
                .unwrap();
            assert!(svg.contains("<svg"), "{svg}");
            // the legend names both series (plotters writes a text's content on its own line)
            for name in ["a", "b"] {
                assert!(svg.lines().any(|l| l == name), "{name} missing: {svg}");
            }
            // one marker per point, three points
            assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_draw() {
        let err = chart(Axis::log("x"), Axis::linear("y"), vec![(0.0, 1.0)])
            .to_svg()
            .unwrap_err();
        assert!(err.to_string().contains("x: cannot draw 0"), "{err}");
        let err = chart(Axis::linear("x"), Axis::linear("y"), vec![(1.0, f64::NAN)])
            .to_svg()
            .unwrap_err();
        assert!(err.to_string().contains("y: cannot draw NaN"), "{err}");
        let empty = Chart {
            title: "t".to_owned(),
            x: Axis::linear("x"),
            y: Axis::linear("y"),
            series: vec![],
        };
        assert!(
            empty
                .to_svg()
                .unwrap_err()
                .to_string()
                .contains("no points")
        );
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick(10_000.0), "10k");
        assert_eq!(tick(1_000_000.0), "1M");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(300.0), "300");
    }
}
