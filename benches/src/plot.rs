//! Line charts as SVG text, with no dependency: the scaling curves of docs/benchmarks.md
//! (issue 7) drawn from criterion's results (`examples/plot.rs`), since criterion's own
//! HTML report needs its `plotters` feature, which the workspace turns off.
//!
//! A [`Chart`] is a title, two [`Axis`] and a list of [`Series`]; [`Chart::to_svg`] renders
//! it as one standalone SVG document: the plot area with its frame and grid, ticks and
//! labels on both axes, one polyline and one marker per point for each series (the colour
//! and the marker's shape both tell series apart), a legend below the plot, the title
//! above it.
//!
//! ```
//! use acl_benches::plot::{Axis, Chart, Series, Ticks};
//!
//! let chart = Chart {
//!     title: "check latency vs role depth".to_owned(),
//!     x: Axis::linear("role depth").with_ticks(Ticks::At(vec![1.0, 2.0])),
//!     y: Axis::linear("median check latency (ns)"),
//!     series: vec![Series::new("closure cache", vec![(1.0, 1160.0), (2.0, 1560.0)])],
//! };
//! let svg = chart.to_svg()?;
//! assert!(svg.starts_with("<svg") && svg.contains("closure cache"));
//! # Ok::<(), acl_benches::plot::PlotError>(())
//! ```
//!
//! # Invariants
//!
//! - Deterministic: the same chart gives the same text, byte for byte (no maps, fixed
//!   number formats), so a regenerated figure diffs only where the figures changed.
//! - Only finite, non-negative values are drawn (and only positive ones on a logarithmic
//!   axis): anything else is a [`PlotError`], never a point off the chart.
//! - Every point drawn lies inside the plot area: the axes' ranges cover all the data.
//! - Linear y axes start at zero, so the heights of two points compare honestly.

use std::fmt::{self, Write as _};

/// The width of a rendered chart, in SVG user units (pixels).
pub const WIDTH: f64 = 720.0;
/// The height of the plot part of a chart; the legend adds [`LEGEND_ROW`] per series.
pub const HEIGHT: f64 = 400.0;
/// The height of one legend entry.
pub const LEGEND_ROW: f64 = 20.0;

const MARGIN_LEFT: f64 = 84.0;
const MARGIN_RIGHT: f64 = 28.0;
const MARGIN_TOP: f64 = 48.0;
const MARGIN_BOTTOM: f64 = 60.0;
/// Space left and right of the data inside the plot area, so that the first and last
/// points are not drawn on the frame.
const INSET_X: f64 = 16.0;
/// Colour-blind-safe colours (Okabe and Ito), one per series in turn.
const COLOURS: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];
/// Linear ticks aim at about this many intervals.
const LINEAR_INTERVALS: f64 = 6.0;

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Equal distances for equal differences. A linear y axis starts at zero.
    Linear,
    /// Equal distances for equal ratios, with ticks at powers of ten (and at 2 and 5 times
    /// them over a range of at most two decades). Values on it must be positive.
    Log,
}

/// Where an axis has its ticks.
#[derive(Debug, Clone, PartialEq)]
pub enum Ticks {
    /// Chosen from the data: round steps (1, 2, 2.5 or 5 times a power of ten) on a linear
    /// axis, powers of ten on a logarithmic one; the axis's range is widened to the ticks
    /// around the data.
    Auto,
    /// At these values (each must be a value the axis could draw); the axis's range is the
    /// smallest covering the data and these ticks.
    At(Vec<f64>),
}

/// How tick labels write their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickFormat {
    /// Digits with thousands separators: `0`, `2,500`, `16,000`, `0.5`.
    Plain,
    /// Metric prefixes: `500`, `2.5k`, `10k`, `1M`.
    Si,
}

/// One axis of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The axis's title, with its unit (`median check latency (ns)`).
    pub label: String,
    /// Linear or logarithmic.
    pub scale: Scale,
    /// Where the ticks go.
    pub ticks: Ticks,
    /// How tick labels are written.
    pub format: TickFormat,
}

impl Axis {
    /// A linear axis with automatic ticks and plain labels.
    pub fn linear(label: &str) -> Axis {
        Axis {
            label: label.to_owned(),
            scale: Scale::Linear,
            ticks: Ticks::Auto,
            format: TickFormat::Plain,
        }
    }

    /// A logarithmic axis with automatic ticks and plain labels.
    pub fn log(label: &str) -> Axis {
        Axis {
            scale: Scale::Log,
            ..Axis::linear(label)
        }
    }

    /// The same axis with these ticks.
    pub fn with_ticks(self, ticks: Ticks) -> Axis {
        Axis { ticks, ..self }
    }

    /// The same axis with labels in this format.
    pub fn with_format(self, format: TickFormat) -> Axis {
        Axis { format, ..self }
    }
}

/// One line of a chart: a name for the legend and its points, `(x, y)`. The points are
/// joined in increasing x; a series of one point is a marker alone, an empty one only a
/// legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// The points, in any order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its name and points.
    pub fn new(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.to_owned(),
            points,
        }
    }
}

/// A line chart: see the module's documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The title drawn above the plot.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// The lines, drawn and listed in the legend in this order.
    pub series: Vec<Series>,
}

/// Why a chart cannot be drawn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlotError {
    /// A point has a NaN or infinite coordinate.
    NotFinite {
        /// The series that holds it.
        series: String,
        /// The point.
        point: (f64, f64),
    },
    /// A point has a negative coordinate: no figure plotted here (a latency, a count, a
    /// depth) can be negative, so it can only be a mistake.
    Negative {
        /// The series that holds it.
        series: String,
        /// The point.
        point: (f64, f64),
    },
    /// A point has a zero coordinate on a logarithmic axis.
    ZeroOnLog {
        /// The series that holds it.
        series: String,
        /// The point.
        point: (f64, f64),
    },
    /// A tick of [`Ticks::At`] is not a value its axis can draw (NaN, infinite, negative,
    /// or zero on a logarithmic axis).
    BadTick {
        /// `x` or `y`.
        axis: &'static str,
        /// The tick's value.
        value: f64,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::NotFinite { series, point } => write!(
                f,
                "series `{series}` has a point that is not finite: ({}, {})",
                point.0, point.1
            ),
            PlotError::Negative { series, point } => write!(
                f,
                "series `{series}` has a negative point: ({}, {})",
                point.0, point.1
            ),
            PlotError::ZeroOnLog { series, point } => write!(
                f,
                "series `{series}` has a zero on a logarithmic axis: ({}, {})",
                point.0, point.1
            ),
            PlotError::BadTick { axis, value } => {
                write!(f, "the {axis} axis has a tick it cannot draw: `{value}`")
            }
        }
    }
}

impl std::error::Error for PlotError {}

/// An axis's range and ticks once the data is known.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Range {
    /// Where `v` falls between `lo` (0) and `hi` (1).
    fn fraction(&self, v: f64) -> f64 {
        let (v, lo, hi) = match self.scale {
            Scale::Linear => (v, self.lo, self.hi),
            Scale::Log => (v.log10(), self.lo.log10(), self.hi.log10()),
        };
        if hi > lo {
            ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }
}

/// Checks one value for an axis: `None` when it can be drawn.
fn refusal(v: f64, scale: Scale) -> Option<Refusal> {
    if !v.is_finite() {
        Some(Refusal::NotFinite)
    } else if v < 0.0 {
        Some(Refusal::Negative)
    } else if scale == Scale::Log && v == 0.0 {
        Some(Refusal::ZeroOnLog)
    } else {
        None
    }
}

enum Refusal {
    NotFinite,
    Negative,
    ZeroOnLog,
}

/// A round step near `span / intervals`: 1, 2, 2.5 or 5 times a power of ten.
fn round_step(span: f64, intervals: f64) -> f64 {
    let raw = span / intervals;
    let magnitude = 10f64.powf(raw.log10().floor());
    let f = raw / magnitude;
    let round = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    round * magnitude
}

/// The range and ticks of an axis drawing `values` (all already checked).
fn range(axis: &Axis, values: &[f64], is_y: bool) -> Range {
    let at: &[f64] = match &axis.ticks {
        Ticks::At(at) => at,
        Ticks::Auto => &[],
    };
    let all = || values.iter().chain(at).copied();
    let min = all().fold(f64::INFINITY, f64::min);
    let max = all().fold(f64::NEG_INFINITY, f64::max);
    match axis.scale {
        Scale::Linear => {
            let (mut lo, mut hi) = if min > max { (0.0, 1.0) } else { (min, max) };
            if is_y {
                lo = 0.0;
            }
            if hi <= lo {
                // one value (or only zeros): a unit around it, never below zero
                if lo == 0.0 {
                    hi = 1.0;
                } else {
                    lo = (lo - 1.0).max(0.0);
                    hi += 1.0;
                }
            }
            if !at.is_empty() {
                return Range {
                    scale: Scale::Linear,
                    lo,
                    hi,
                    ticks: at.to_vec(),
                };
            }
            let step = round_step(hi - lo, LINEAR_INTERVALS);
            // a hair of slack, so that 0.3 / 0.05 = 5.999... still ends at the sixth step
            let first = (lo / step + 1e-9).floor();
            let last = (hi / step - 1e-9).ceil();
            // at most a dozen steps: `step` is at least a sixth of the span
            let ticks = (0..=(last - first) as u32)
                .map(|k| (first + f64::from(k)) * step)
                .collect();
            Range {
                scale: Scale::Linear,
                lo: first * step,
                hi: last * step,
                ticks,
            }
        }
        Scale::Log => {
            let (min, max) = if min > max { (1.0, 10.0) } else { (min, max) };
            if !at.is_empty() {
                let (lo, hi) = if max > min {
                    (min, max)
                } else {
                    (min / 10f64.sqrt(), max * 10f64.sqrt())
                };
                return Range {
                    scale: Scale::Log,
                    lo,
                    hi,
                    ticks: at.to_vec(),
                };
            }
            // finite positive values: exponents within -324..=309
            let lo_exp = min.log10().floor() as i32;
            let mut hi_exp = max.log10().ceil() as i32;
            if hi_exp <= lo_exp {
                hi_exp = lo_exp + 1;
            }
            let decades = hi_exp - lo_exp;
            let mut ticks = Vec::new();
            if decades <= 2 {
                for e in lo_exp..hi_exp {
                    for m in [1.0, 2.0, 5.0] {
                        ticks.push(m * 10f64.powi(e));
                    }
                }
                ticks.push(10f64.powi(hi_exp));
            } else {
                let stride = (decades + 7) / 8;
                let mut e = lo_exp;
                while e <= hi_exp {
                    ticks.push(10f64.powi(e));
                    e += stride;
                }
            }
            Range {
                scale: Scale::Log,
                lo: 10f64.powi(lo_exp),
                hi: 10f64.powi(hi_exp),
                ticks,
            }
        }
    }
}

/// A tick label: at most two decimals, trailing zeros dropped.
fn tick_label(v: f64, format: TickFormat) -> String {
    match format {
        TickFormat::Plain => plain(v),
        TickFormat::Si => {
            let a = v.abs();
            let (scaled, suffix) = if a >= 1e9 {
                (v / 1e9, "G")
            } else if a >= 1e6 {
                (v / 1e6, "M")
            } else if a >= 1e3 {
                (v / 1e3, "k")
            } else {
                (v, "")
            };
            format!("{}{suffix}", plain(scaled))
        }
    }
}

/// `v` with thousands separators and at most two decimals.
fn plain(v: f64) -> String {
    let text = format!("{:.2}", v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if v < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        out.push('-');
    }
    let digits = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// `text` with the five XML special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate in SVG text: one decimal, never `-0.0`.
fn coord(v: f64) -> String {
    let text = format!("{v:.1}");
    if text == "-0.0" {
        "0.0".to_owned()
    } else {
        text
    }
}

/// Marker `index` (a circle, square, diamond or triangle, in turn) centred on `(x, y)`,
/// without its closing: the caller adds a `<title>` and the closing tag.
fn marker_open(index: usize, x: f64, y: f64, colour: &str) -> (String, &'static str) {
    let (cx, cy) = (coord(x), coord(y));
    match index % 4 {
        0 => (
            format!(r#"<circle cx="{cx}" cy="{cy}" r="4" fill="{colour}">"#),
            "</circle>",
        ),
        1 => (
            format!(
                r#"<rect x="{}" y="{}" width="7.0" height="7.0" fill="{colour}">"#,
                coord(x - 3.5),
                coord(y - 3.5)
            ),
            "</rect>",
        ),
        2 => (
            format!(
                r#"<polygon points="{cx},{} {},{cy} {cx},{} {},{cy}" fill="{colour}">"#,
                coord(y - 5.0),
                coord(x + 5.0),
                coord(y + 5.0),
                coord(x - 5.0)
            ),
            "</polygon>",
        ),
        _ => (
            format!(
                r#"<polygon points="{cx},{} {},{} {},{}" fill="{colour}">"#,
                coord(y - 5.0),
                coord(x + 4.5),
                coord(y + 4.0),
                coord(x - 4.5),
                coord(y + 4.0)
            ),
            "</polygon>",
        ),
    }
}

/// Where the plot area lies in the picture.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn x(&self, range: &Range, v: f64) -> f64 {
        let (a, b) = (self.left + INSET_X, self.right - INSET_X);
        a + range.fraction(v) * (b - a)
    }

    fn y(&self, range: &Range, v: f64) -> f64 {
        self.bottom - range.fraction(v) * (self.bottom - self.top)
    }
}

impl Chart {
    /// Checks every point and tick: the first value that cannot be drawn, as an error.
    fn check(&self) -> Result<(), PlotError> {
        for (name, axis) in [("x", &self.x), ("y", &self.y)] {
            if let Ticks::At(at) = &axis.ticks
                && let Some(&value) = at.iter().find(|v| refusal(**v, axis.scale).is_some())
            {
                return Err(PlotError::BadTick { axis: name, value });
            }
        }
        for series in &self.series {
            for &(x, y) in &series.points {
                let refused = refusal(x, self.x.scale).or_else(|| refusal(y, self.y.scale));
                let (series, point) = (series.name.clone(), (x, y));
                match refused {
                    None => {}
                    Some(Refusal::NotFinite) => {
                        return Err(PlotError::NotFinite { series, point });
                    }
                    Some(Refusal::Negative) => {
                        return Err(PlotError::Negative { series, point });
                    }
                    Some(Refusal::ZeroOnLog) => {
                        return Err(PlotError::ZeroOnLog { series, point });
                    }
                }
            }
        }
        Ok(())
    }

    /// The chart as a standalone SVG document ([`WIDTH`] wide, [`HEIGHT`] plus a
    /// [`LEGEND_ROW`] per series high), or the first value that cannot be drawn.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        self.check()?;
        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .collect();
        let xr = range(&self.x, &xs, false);
        let yr = range(&self.y, &ys, true);
        let height = HEIGHT + LEGEND_ROW * self.series.len() as f64;
        let frame = Frame {
            left: MARGIN_LEFT,
            right: WIDTH - MARGIN_RIGHT,
            top: MARGIN_TOP,
            bottom: HEIGHT - MARGIN_BOTTOM,
        };
        let mut svg = String::new();
        // Writing to a String cannot fail: the results of write! are ignored below.
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#,
            w = WIDTH,
            h = height
        );
        let title = escape(&self.title);
        let _ = writeln!(svg, "<title>{title}</title>");
        let _ = writeln!(
            svg,
            r#"<rect width="{WIDTH}" height="{height}" fill="white"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text class="title" x="{}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{title}</text>"#,
            coord(WIDTH / 2.0)
        );
        self.draw_axes(&mut svg, &frame, &xr, &yr);
        if xs.is_empty() {
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#777">no data</text>"##,
                coord((frame.left + frame.right) / 2.0),
                coord((frame.top + frame.bottom) / 2.0)
            );
        }
        for (i, series) in self.series.iter().enumerate() {
            self.draw_series(&mut svg, &frame, &xr, &yr, i, series);
        }
        self.draw_legend(&mut svg);
        svg.push_str("</svg>\n");
        Ok(svg)
    }

    fn draw_axes(&self, svg: &mut String, frame: &Frame, xr: &Range, yr: &Range) {
        let (left, right, top, bottom) = (
            coord(frame.left),
            coord(frame.right),
            coord(frame.top),
            coord(frame.bottom),
        );
        let _ = writeln!(svg, r##"<g class="grid" stroke="#e4e4e4">"##);
        for &t in &yr.ticks {
            let y = coord(frame.y(yr, t));
            let _ = writeln!(svg, r#"<line x1="{left}" y1="{y}" x2="{right}" y2="{y}"/>"#);
        }
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(
            svg,
            r##"<rect class="area" x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
            coord(frame.right - frame.left),
            coord(frame.bottom - frame.top)
        );
        let _ = writeln!(
            svg,
            r##"<g class="x-axis" stroke="#333" text-anchor="middle">"##
        );
        for &t in &xr.ticks {
            let x = coord(frame.x(xr, t));
            let _ = writeln!(
                svg,
                r#"<line x1="{x}" y1="{bottom}" x2="{x}" y2="{}"/><text x="{x}" y="{}" stroke="none">{}</text>"#,
                coord(frame.bottom + 5.0),
                coord(frame.bottom + 19.0),
                escape(&tick_label(t, self.x.format))
            );
        }
        let _ = writeln!(
            svg,
            r#"<text class="label" x="{}" y="{}" stroke="none">{}</text>"#,
            coord((frame.left + frame.right) / 2.0),
            coord(frame.bottom + 38.0),
            escape(&self.x.label)
        );
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(
            svg,
            r##"<g class="y-axis" stroke="#333" text-anchor="end">"##
        );
        for &t in &yr.ticks {
            let y = frame.y(yr, t);
            let _ = writeln!(
                svg,
                r#"<line x1="{}" y1="{y}" x2="{left}" y2="{y}"/><text x="{}" y="{}" stroke="none">{}</text>"#,
                coord(frame.left - 5.0),
                coord(frame.left - 8.0),
                coord(y + 4.0),
                escape(&tick_label(t, self.y.format)),
                y = coord(y)
            );
        }
        let (lx, ly) = (18.0, (frame.top + frame.bottom) / 2.0);
        let _ = writeln!(
            svg,
            r#"<text class="label" x="{x}" y="{y}" text-anchor="middle" stroke="none" transform="rotate(-90 {x} {y})">{}</text>"#,
            escape(&self.y.label),
            x = coord(lx),
            y = coord(ly)
        );
        let _ = writeln!(svg, "</g>");
    }

    fn draw_series(
        &self,
        svg: &mut String,
        frame: &Frame,
        xr: &Range,
        yr: &Range,
        index: usize,
        series: &Series,
    ) {
        let colour = COLOURS
            .get(index % COLOURS.len())
            .copied()
            .unwrap_or("#000");
        let mut points = series.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let _ = writeln!(
            svg,
            r#"<g class="series" data-name="{}">"#,
            escape(&series.name)
        );
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|&(x, y)| format!("{},{}", coord(frame.x(xr, x)), coord(frame.y(yr, y))))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                path.join(" ")
            );
        }
        for &(x, y) in &points {
            let (open, close) = marker_open(index, frame.x(xr, x), frame.y(yr, y), colour);
            let _ = writeln!(
                svg,
                "{open}<title>{}: {} = {}, {} = {}</title>{close}",
                escape(&series.name),
                escape(&self.x.label),
                escape(&tick_label(x, self.x.format)),
                escape(&self.y.label),
                escape(&tick_label(y, self.y.format))
            );
        }
        let _ = writeln!(svg, "</g>");
    }

    fn draw_legend(&self, svg: &mut String) {
        if self.series.is_empty() {
            return;
        }
        let _ = writeln!(svg, r#"<g class="legend">"#);
        for (i, series) in self.series.iter().enumerate() {
            let colour = COLOURS.get(i % COLOURS.len()).copied().unwrap_or("#000");
            let y = HEIGHT - 2.0 + LEGEND_ROW * i as f64;
            let x = MARGIN_LEFT;
            let _ = writeln!(
                svg,
                r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"/>"#,
                coord(x),
                coord(x + 28.0),
                y = coord(y)
            );
            let (open, close) = marker_open(i, x + 14.0, y, colour);
            let _ = writeln!(svg, "{open}{close}");
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}">{}</text>"#,
                coord(x + 36.0),
                coord(y + 4.0),
                escape(&series.name)
            );
        }
        let _ = writeln!(svg, "</g>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that every tag is closed in order, and returns the tag names opened.
    fn balanced(svg: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut opened = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("an unclosed `<`") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
            } else {
                let name: String = tag.chars().take_while(|c| c.is_alphanumeric()).collect();
                assert!(!name.is_empty(), "a nameless tag: {tag}");
                opened.push(name.clone());
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "left open: {stack:?}");
        // text outside tags has no raw `&` but in an entity
        for piece in svg.split('&').skip(1) {
            let entity = piece.split(';').next().unwrap();
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&entity),
                "a raw `&`: &{piece}"
            );
        }
        opened
    }

    /// The value of attribute `name` in the first tag starting with `prefix`.
    fn attribute<'a>(svg: &'a str, prefix: &str, name: &str) -> &'a str {
        let tag = &svg[svg.find(prefix).unwrap_or_else(|| panic!("no {prefix}"))..];
        let tag = &tag[..tag.find('>').unwrap()];
        let key = format!(" {name}=\"");
        let value = &tag[tag.find(&key).unwrap_or_else(|| panic!("no {name}")) + key.len()..];
        &value[..value.find('"').unwrap()]
    }

    fn number(text: &str) -> f64 {
        text.parse().unwrap()
    }

    /// The plot area: left, top, right, bottom.
    fn area(svg: &str) -> (f64, f64, f64, f64) {
        let at = |name| number(attribute(svg, "<rect class=\"area\"", name));
        let (x, y) = (at("x"), at("y"));
        (x, y, x + at("width"), y + at("height"))
    }

    /// Every polyline's points.
    fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.match_indices("<polyline")
            .map(|(i, _)| {
                attribute(&svg[i..], "<polyline", "points")
                    .split(' ')
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (number(x), number(y))
                    })
                    .collect()
            })
            .collect()
    }

    /// The centre of every circle drawn for a series (not in the legend).
    fn circles(svg: &str) -> Vec<(f64, f64)> {
        let svg = svg.split("<g class=\"legend\">").next().unwrap();
        svg.match_indices("<circle")
            .map(|(i, _)| {
                let s = &svg[i..];
                (
                    number(attribute(s, "<circle", "cx")),
                    number(attribute(s, "<circle", "cy")),
                )
            })
            .collect()
    }

    fn depth_chart(series: Vec<Series>) -> Chart {
        Chart {
            title: "check latency vs role depth".to_owned(),
            x: Axis::linear("role depth").with_ticks(Ticks::At((1..=8).map(f64::from).collect())),
            y: Axis::linear("median check latency (ns)"),
            series,
        }
    }

    fn cached_and_not() -> Vec<Series> {
        vec![
            Series::new(
                "closure cache",
                (1..=8)
                    .map(|d| (f64::from(d), 700.0 + 450.0 * f64::from(d)))
                    .collect(),
            ),
            Series::new(
                "no cache",
                (1..=8)
                    .map(|d| (f64::from(d), 1_100.0 + 1_700.0 * f64::from(d)))
                    .collect(),
            ),
        ]
    }

    #[test]
    fn well_formed_with_every_series_named() {
        let chart = depth_chart(cached_and_not());
        let svg = chart.to_svg().unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        let tags = balanced(&svg);
        for name in ["closure cache", "no cache"] {
            assert!(svg.contains(&format!("data-name=\"{name}\"")));
            assert!(svg.contains(&format!(">{name}</text>")), "legend of {name}");
        }
        assert!(svg.contains(">check latency vs role depth</text>"));
        assert!(svg.contains(">role depth</text>"));
        assert!(svg.contains(">median check latency (ns)</text>"));
        // one polyline per series, one marker per point (circles, then squares)
        assert_eq!(tags.iter().filter(|t| *t == "polyline").count(), 2);
        assert_eq!(
            polylines(&svg).iter().map(Vec::len).collect::<Vec<_>>(),
            [8, 8]
        );
        // eight x ticks, labelled 1 to 8; y ticks from 0 in round steps
        for d in 1..=8 {
            assert!(svg.contains(&format!(" stroke=\"none\">{d}</text>")));
        }
        assert!(svg.contains(">0</text>") && svg.contains(">15,000</text>"));
        // the same chart, the same text
        assert_eq!(svg, chart.to_svg().unwrap());
    }

    #[test]
    fn points_fall_inside_the_plot_area_in_order() {
        let svg = depth_chart(cached_and_not()).to_svg().unwrap();
        let (left, top, right, bottom) = area(&svg);
        let lines = polylines(&svg);
        for line in &lines {
            for &(x, y) in line {
                assert!((left..=right).contains(&x) && (top..=bottom).contains(&y));
            }
            // x grows left to right, latency grows upwards
            for w in line.windows(2) {
                assert!(w[1].0 > w[0].0 && w[1].1 < w[0].1, "{w:?}");
            }
        }
        // the uncached line lies above the cached one at every depth
        for (cached, uncached) in lines[0].iter().zip(&lines[1]) {
            assert_eq!(cached.0, uncached.0);
            assert!(uncached.1 < cached.1);
        }
        // markers sit on their line (the first series' markers are circles)
        let centres = circles(&svg);
        assert_eq!(&centres[..8], &lines[0][..]);
    }

    #[test]
    fn log_axes_map_inside_and_label_powers_of_ten() {
        let chart = Chart {
            title: "check latency vs store size".to_owned(),
            x: Axis::log("grants in the store")
                .with_ticks(Ticks::At(vec![1e4, 1e5, 1e6]))
                .with_format(TickFormat::Si),
            y: Axis::log("median check latency (ns)"),
            series: vec![Series::new(
                "memory store",
                vec![(1e5, 10_730.0), (1e4, 7_810.0), (1e6, 150.0)],
            )],
        };
        let svg = chart.to_svg().unwrap();
        balanced(&svg);
        for label in ["10k", "100k", "1M"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(svg.contains(">100</text>") && svg.contains(">100,000</text>"));
        let (left, top, right, bottom) = area(&svg);
        let line = &polylines(&svg)[0];
        assert_eq!(line.len(), 3);
        for &(x, y) in line {
            assert!((left..=right).contains(&x) && (top..=bottom).contains(&y));
        }
        // equal ratios, equal distances
        let (a, b) = (line[1].0 - line[0].0, line[2].0 - line[1].0);
        assert!((a - b).abs() < 0.2, "{a} vs {b}");
    }

    #[test]
    fn empty_and_single_point_series_draw_without_lines() {
        for series in [
            vec![],
            vec![Series::new("nothing yet", vec![])],
            vec![Series::new("one", vec![(3.0, 1_500.0)])],
            vec![Series::new("zero", vec![(0.0, 0.0)])],
            vec![
                Series::new("one", vec![(1.0, 2.0)]),
                Series::new("empty", vec![]),
            ],
        ] {
            let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
            let points: usize = series.iter().map(|s| s.points.len()).sum();
            for x in [Axis::linear("x"), Axis::log("x")] {
                for y in [Axis::linear("y"), Axis::log("y")] {
                    let chart = Chart {
                        title: "t".to_owned(),
                        x: x.clone(),
                        y,
                        series: series.clone(),
                    };
                    let svg = match chart.to_svg() {
                        Ok(svg) => svg,
                        // only the zero point on a log axis is refused
                        Err(PlotError::ZeroOnLog { .. }) => continue,
                        Err(e) => panic!("{e}"),
                    };
                    balanced(&svg);
                    assert!(polylines(&svg).is_empty());
                    for name in &names {
                        assert!(svg.contains(&format!(">{name}</text>")));
                    }
                    assert_eq!(svg.contains(">no data</text>"), points == 0);
                    let (left, top, right, bottom) = area(&svg);
                    for (cx, cy) in circles(&svg) {
                        assert!((left..=right).contains(&cx) && (top..=bottom).contains(&cy));
                    }
                }
            }
        }
    }

    #[test]
    fn unplottable_values_are_refused() {
        let chart = |points: Vec<(f64, f64)>| depth_chart(vec![Series::new("s", points)]);
        for bad in [
            (f64::NAN, 1.0),
            (1.0, f64::NAN),
            (1.0, f64::INFINITY),
            (f64::NEG_INFINITY, 1.0),
        ] {
            let e = chart(vec![(1.0, 1.0), bad]).to_svg().unwrap_err();
            assert!(matches!(e, PlotError::NotFinite { .. }), "{bad:?}: {e}");
        }
        for bad in [(-1.0, 1.0), (1.0, -0.5)] {
            let e = chart(vec![bad]).to_svg().unwrap_err();
            assert_eq!(
                e,
                PlotError::Negative {
                    series: "s".to_owned(),
                    point: bad
                }
            );
            assert!(e.to_string().starts_with("series `s` has a negative point"));
        }
        let mut log = chart(vec![(1.0, 0.0)]);
        log.y = Axis::log("y");
        assert!(matches!(log.to_svg(), Err(PlotError::ZeroOnLog { .. })));
        let mut ticks = chart(vec![(1.0, 1.0)]);
        ticks.x.ticks = Ticks::At(vec![1.0, f64::NAN]);
        assert!(matches!(
            ticks.to_svg(),
            Err(PlotError::BadTick { axis: "x", .. })
        ));
    }

    #[test]
    fn charts_criterion_results_read_back() {
        // criterion's files for two of three store sizes, as the example reads them
        let dir = tempfile::tempdir().unwrap();
        for (id, median) in [("10k", 7_810.0), ("100k", 10_730.0)] {
            let base = dir.path().join("scaling-store").join(id).join("new");
            std::fs::create_dir_all(&base).unwrap();
            std::fs::write(
                base.join("estimates.json"),
                format!(
                    r#"{{"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{median},"standard_error":1.0}}}}"#,
                    median - 10.0,
                    median + 10.0
                ),
            )
            .unwrap();
            std::fs::write(
                base.join("sample.json"),
                format!(
                    r#"{{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[{median},{}]}}"#,
                    2.0 * median
                ),
            )
            .unwrap();
        }
        let points: Vec<(f64, f64)> = [("10k", 1e4), ("100k", 1e5), ("1M", 1e6)]
            .iter()
            .filter_map(|(id, x)| {
                crate::report::figure(dir.path(), "scaling-store", id).map(|f| (*x, f.median))
            })
            .collect();
        assert_eq!(points, [(1e4, 7_810.0), (1e5, 10_730.0)]);
        let chart = Chart {
            title: "check latency vs store size".to_owned(),
            x: Axis::log("grants")
                .with_ticks(Ticks::At(vec![1e4, 1e5, 1e6]))
                .with_format(TickFormat::Si),
            y: Axis::linear("median check latency (ns)"),
            series: vec![Series::new("memory store", points)],
        };
        let svg = chart.to_svg().unwrap();
        balanced(&svg);
        // the missing 1M point is left out, its tick kept
        assert_eq!(polylines(&svg), [circles(&svg)]);
        assert!(svg.contains(">1M</text>") && svg.contains("= 10,730</title>"));
    }

    #[test]
    fn names_are_escaped() {
        let mut chart = depth_chart(vec![Series::new("a <b> & \"c\"", vec![(1.0, 1.0)])]);
        chart.title = "x < y & z".to_owned();
        let svg = chart.to_svg().unwrap();
        balanced(&svg);
        assert!(svg.contains(">a &lt;b&gt; &amp; &quot;c&quot;</text>"));
        assert!(svg.contains("<title>x &lt; y &amp; z</title>"));
    }

    #[test]
    fn ticks_and_labels() {
        let linear = |values: &[f64]| range(&Axis::linear("y"), values, true);
        let r = linear(&[1_160.0, 14_910.0]);
        assert_eq!((r.lo, r.hi), (0.0, 15_000.0));
        assert_eq!(
            r.ticks,
            [0.0, 2_500.0, 5_000.0, 7_500.0, 10_000.0, 12_500.0, 15_000.0]
        );
        let r = linear(&[0.3]);
        assert_eq!((r.lo, r.ticks.len()), (0.0, 7));
        assert!((r.hi - 0.3).abs() < 1e-12);
        let r = range(&Axis::log("y"), &[1_160.0, 14_910.0], true);
        assert_eq!((r.lo, r.hi), (1_000.0, 100_000.0));
        assert_eq!(r.ticks.len(), 7);
        let r = range(&Axis::log("y"), &[5.0, 5e6], true);
        assert_eq!(r.ticks, [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7]);
        let r = range(&Axis::log("y"), &[100.0], true);
        assert_eq!((r.lo, r.hi), (100.0, 1_000.0));
        assert_eq!(plain(16_000.0), "16,000");
        assert_eq!(plain(1_234_567.891), "1,234,567.89");
        assert_eq!(plain(0.5), "0.5");
        assert_eq!(plain(0.0), "0");
        assert_eq!(plain(-2_500.0), "-2,500");
        assert_eq!(tick_label(1e4, TickFormat::Si), "10k");
        assert_eq!(tick_label(2_500.0, TickFormat::Si), "2.5k");
        assert_eq!(tick_label(1e6, TickFormat::Si), "1M");
        assert_eq!(tick_label(500.0, TickFormat::Si), "500");
    }
}
