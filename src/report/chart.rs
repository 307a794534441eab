//! A small line-chart helper over plotters' SVG backend (no system fonts:
//! plotters' naive text layout), shared by every figure of the report.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

/// One series: a median line with an optional band (q25–q75).
pub struct Line {
    /// Legend entry.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// (x, y) points; NaN y breaks the line.
    pub points: Vec<(f64, f64)>,
    /// (x, low, high) for a shaded band; may be empty.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw markers at the points (sparse series such as checkpoints).
    pub markers: bool,
}

/// A chart: title, axes, series and reference lines.
pub struct Chart {
    /// Title above the plot; a second line (after `\n`) names the claim
    /// and the conditions drawn.
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// Plot log10(y), labelled with the values themselves.
    pub log_y: bool,
    /// Where the legend goes (clear of the data).
    pub legend: SeriesLabelPosition,
    /// The series.
    pub lines: Vec<Line>,
    /// Vertical reference lines (x, label).
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines (y, label).
    pub hlines: Vec<(f64, String)>,
}

/// Points in plot coordinates, joined in order.
type Polyline = Vec<(f64, f64)>;

/// Colours used across figures.
pub const GROK: RGBColor = RGBColor(200, 40, 40);
/// Control runs.
pub const CONTROL: RGBColor = RGBColor(40, 90, 200);
/// A third series.
pub const THIRD: RGBColor = RGBColor(30, 140, 60);
/// A fourth series.
pub const FOURTH: RGBColor = RGBColor(150, 80, 170);
/// A fifth series.
pub const FIFTH: RGBColor = RGBColor(210, 140, 20);

impl Chart {
    fn y(&self, v: f64) -> f64 {
        if self.log_y { if v > 0.0 { v.log10() } else { f64::NAN } } else { v }
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for l in &self.lines {
            xs.extend(l.points.iter().map(|p| p.0));
            ys.extend(l.points.iter().map(|p| self.y(p.1)));
            ys.extend(l.band.iter().flat_map(|b| [self.y(b.1), self.y(b.2)]));
        }
        ys.extend(self.hlines.iter().map(|h| self.y(h.0)));
        let span = |v: &[f64]| {
            let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() { (lo, if hi > lo { hi } else { lo + 1.0 }) } else { (0.0, 1.0) }
        };
        let (x, (y0, y1)) = (span(&xs), span(&ys));
        let pad = 0.05 * (y1 - y0);
        (x, (y0 - pad, y1 + pad))
    }

    /// A line's band in plot coordinates: for a line of sparse markers, a
    /// bar at each point (the IQR, or a figure's printed precision); for a
    /// dense line, one shaded polygon.
    fn band_shapes(&self, l: &Line) -> (Vec<Polyline>, Option<Polyline>) {
        let band: Vec<(f64, f64, f64)> = l
            .band
            .iter()
            .map(|&(x, a, b)| (x, self.y(a), self.y(b)))
            .filter(|b| b.1.is_finite() && b.2.is_finite())
            .collect();
        if l.markers {
            return (band.iter().map(|&(x, a, b)| vec![(x, a), (x, b)]).collect(), None);
        }
        let polygon = band.iter().map(|b| (b.0, b.2)).chain(band.iter().rev().map(|b| (b.0, b.1))).collect();
        (Vec::new(), (band.len() > 1).then_some(polygon))
    }

    /// Draw into `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, plotters::coord::Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing {}: {e:?}", self.title);
        let ((x0, x1), (y0, y1)) = self.ranges();
        // A title's second line (the claim and conditions drawn) in smaller type.
        let (title, conditions) = self.title.split_once('\n').unwrap_or((&self.title, ""));
        let area = area.titled(title, ("sans-serif", 18)).map_err(err)?;
        let area =
            if conditions.is_empty() { area } else { area.titled(conditions, ("sans-serif", 13)).map_err(err)? };
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let log_y = self.log_y;
        let y_fmt = move |v: &f64| if log_y { format!("{:.0e}", 10f64.powf(*v)) } else { crate::format::num(*v) };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .y_label_formatter(&y_fmt)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .x_label_formatter(&|v| x_number(*v, x1 - x0))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for l in &self.lines {
            self.draw_line(&mut chart, l).map_err(err)?;
        }
        self.draw_rules(&mut chart, (x0, x1), (y0, y1)).map_err(err)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .position(self.legend.clone())
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// The plotting area of a [`Chart`]: f64 axes.
type Plot<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

impl Chart {
    /// One series: its band (bars or a shaded polygon), its line broken
    /// where y is undefined, a legend entry, and markers if asked.
    fn draw_line<DB: DrawingBackend>(
        &self,
        chart: &mut Plot<'_, DB>,
        l: &Line,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (bars, polygon) = self.band_shapes(l);
        chart.draw_series(bars.into_iter().map(|b| PathElement::new(b, l.color.stroke_width(2))))?;
        if let Some(polygon) = polygon {
            chart.draw_series(std::iter::once(Polygon::new(polygon, l.color.mix(0.18).filled())))?;
        }
        let mut first = true;
        for segment in l.points.split(|p| !self.y(p.1).is_finite()).filter(|s| !s.is_empty()) {
            let pts: Vec<(f64, f64)> = segment.iter().map(|p| (p.0, self.y(p.1))).collect();
            let series = chart.draw_series(LineSeries::new(pts.clone(), l.color.stroke_width(2)))?;
            if first {
                let color = l.color;
                series
                    .label(&l.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                first = false;
            }
            if l.markers {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, l.color.filled())))?;
            }
        }
        Ok(())
    }

    /// The labelled vertical and horizontal reference lines.
    fn draw_rules<DB: DrawingBackend>(
        &self,
        chart: &mut Plot<'_, DB>,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        for (x, label) in &self.vlines {
            chart.draw_series(LineSeries::new(vec![(*x, y0), (*x, y1)], BLACK.mix(0.6).stroke_width(1)))?;
            let at = (*x, y1 - 0.04 * (y1 - y0));
            chart.draw_series(std::iter::once(Text::new(label.clone(), at, ("sans-serif", 13))))?;
        }
        for (y, label) in &self.hlines {
            let y = self.y(*y);
            chart.draw_series(LineSeries::new(vec![(x0, y), (x1, y)], BLACK.mix(0.5).stroke_width(1)))?;
            let at = (x0 + 0.02 * (x1 - x0), y);
            chart.draw_series(std::iter::once(Text::new(label.clone(), at, ("sans-serif", 13))))?;
        }
        Ok(())
    }
}

/// An x-axis number: over a span of 10 or more (epochs) whole numbers only,
/// so no "2" stands under 1.5 and 2; over a narrower one (a training
/// fraction, log10 η) at its own precision: 0.1, 0.25, -4.3.
fn x_number(v: f64, span: f64) -> String {
    if span >= 10.0 {
        if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { String::new() }
    } else {
        crate::format::num(v)
    }
}

/// Write one or more charts side by side to an SVG file (drawn in memory,
/// then written beside and renamed: a failure leaves the last good figure).
pub fn write_svg(path: &Path, charts: &[Chart]) -> anyhow::Result<()> {
    let width = 760 * charts.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
        let panels = root.split_evenly((1, charts.len()));
        for (chart, panel) in charts.iter().zip(&panels) {
            chart.draw(panel)?;
        }
        root.present().map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    }
    crate::files::write_atomic(path, svg.as_bytes())
}
