//! `figures/overview.svg`, the first thing REPORT.md shows: every claim and
//! every check in one picture (docs/claims.md, "Grades"). A first panel has
//! a row per claim in the reader's order (its worst check: miss, grade and
//! reading); beneath it, a panel per claim with a row per check. Every
//! panel has its own axis: the miss in units of the figure's last printed
//! digit on a log axis, the tolerance band (a two-sided figure holds within
//! half a unit) and the near band (to 1.5 units) shaded, the marker
//! coloured by grade, hollow for lockin's readings. Text is in fixed pixel
//! sizes, so the figure reads the same at any number of rows.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::claims::judge::{CheckResult, ClaimResult};
use crate::claims::{CheckState, Grade, Reading, grade::NEAR};

/// The figure's file name.
pub const FILE: &str = "overview.svg";
/// Its caption.
pub const CAPTION: &str = "Every claim and every check at a glance. The first panel has a row per claim (far misses first, then lockin's readings, near misses, reproduced, then what is not the paper's), placed at its worst check; beneath it, a panel per claim with a row per check. Each row's miss is in units of the last printed digit of its figure or bound (decades for an order of magnitude), on a log axis: inside the tolerance in the green band, near in the amber band; a hollow marker is lockin's reading, a square a count of seeds (exact or far), a ring a check whose state flips under one-ulp perturbations of the initial weights (as measured with --perturb).";

/// Colour of each grade.
pub fn colour(grade: Grade) -> RGBColor {
    match grade {
        Grade::Exact => RGBColor(30, 140, 60),
        Grade::Near => RGBColor(210, 140, 20),
        Grade::Far => RGBColor(200, 40, 40),
    }
}

/// The axis: misses from 1e-2 to 1e4 printed units; a miss of 0 (inside a
/// bound) sits at the left edge, an undefined or infinite one at the right.
const LOW: f64 = -2.0;
const HIGH: f64 = 4.0;
/// Pixels: the figure's width, the label column, a row of the claims'
/// panel and of a claim's panel, a panel's heading and its axis.
const WIDTH: u32 = 980;
const LEFT: u32 = 330;
const CLAIM_ROW: u32 = 16;
const CHECK_ROW: u32 = 14;
const HEADING: u32 = 34;
const AXIS: u32 = 28;
/// The first panel's caption, key and axis description.
const TOP: u32 = 50;
const AXIS_DESC: u32 = 18;
/// Font sizes in pixels: labels, headings.
const TEXT: u32 = 12;
const TITLE: u32 = 16;

/// log10 of a miss, clamped to the axis.
fn position(miss: f64) -> f64 {
    if miss.is_nan() || miss.is_infinite() {
        HIGH
    } else if miss <= 10f64.powf(LOW) {
        LOW
    } else {
        miss.log10().clamp(LOW, HIGH)
    }
}

/// One row: its label, and its check's miss, grade and marks.
struct Row {
    label: String,
    miss: f64,
    grade: Grade,
    lockin: bool,
    undefined: bool,
    fragile: bool,
    exact_only: bool,
}

/// A claim's panel: its heading and a row per check.
struct Panel {
    heading: String,
    rows: Vec<Row>,
}

/// (claim, quantity) → (flips, perturbations tried), as measured.
pub type Fragile = std::collections::BTreeMap<(String, String), (usize, usize)>;

/// A check's row, labelled `label`.
fn check_row(r: &ClaimResult, c: &CheckResult, label: String, fragile: &Fragile) -> Row {
    Row {
        label,
        miss: c.miss,
        grade: c.grade,
        lockin: c.reading == Reading::Lockin,
        undefined: c.state == CheckState::Undefined,
        exact_only: crate::claims::grade::exact_only(&c.tolerance),
        fragile: fragile.get(&(r.id.clone(), c.quantity.clone())).is_some_and(|(flips, _)| *flips > 0),
    }
}

/// A claim's worst check: the highest grade, then the largest miss (an
/// undefined miss the largest).
fn worst(r: &ClaimResult) -> Option<&CheckResult> {
    let miss = |c: &CheckResult| if c.miss.is_nan() { f64::INFINITY } else { c.miss };
    r.checks.iter().max_by(|a, b| a.grade.cmp(&b.grade).then(miss(a).total_cmp(&miss(b))))
}

/// The claims with checks, in the reader's order: a row each (at its worst
/// check, marked as lockin's reading where its verdict rests on one, and
/// fragile where any check is) and a panel each.
fn layout(results: &[ClaimResult], fragile: &Fragile) -> (Vec<Row>, Vec<Panel>) {
    let mut ordered: Vec<&ClaimResult> = results.iter().filter(|r| !r.checks.is_empty()).collect();
    ordered.sort_by_key(|r| super::reader_order(r));
    let mut claims = Vec::new();
    let mut panels = Vec::new();
    for r in ordered {
        let rows: Vec<Row> = r.checks.iter().map(|c| check_row(r, c, truncated(&c.quantity, 46), fragile)).collect();
        let status = super::status(r);
        if let Some(c) = worst(r) {
            let mut row = check_row(r, c, format!("{:<5} {}", r.id, truncated(&status, 40)), fragile);
            row.lockin = super::decided_by_lockin(r) || (super::claim_grade(r).is_none() && row.lockin);
            row.fragile = rows.iter().any(|row| row.fragile);
            claims.push(row);
        }
        let heading = format!("{} — {} ({status})", r.id, r.title);
        panels.push(Panel { heading: truncated(&heading, 130), rows });
    }
    (claims, panels)
}

fn truncated(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n - 1).collect::<String>())
    }
}

/// The height of each panel: the claims' panel first.
fn heights(claims: usize, panels: &[Panel]) -> Vec<u32> {
    let first = TOP + CLAIM_ROW * claims.max(1) as u32 + AXIS + AXIS_DESC;
    std::iter::once(first).chain(panels.iter().map(|p| HEADING + CHECK_ROW * p.rows.len() as u32 + AXIS)).collect()
}

/// Write the overview of `results` to `path` (drawn in memory, then
/// written beside and renamed).
pub fn write(path: &Path, results: &[ClaimResult], fragile: &Fragile) -> anyhow::Result<()> {
    let (claims, panels) = layout(results, fragile);
    let heights = heights(claims.len(), &panels);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, heights.iter().sum())).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
        let breaks: Vec<i32> = heights.iter().scan(0, |y, h| Some(*y + *h as i32).inspect(|b| *y = *b)).collect();
        let areas = root.split_by_breakpoints(Vec::<i32>::new(), &breaks[..breaks.len() - 1]);
        let draw = || -> anyhow::Result<()> {
            key(&areas[0])?;
            strip(&areas[0], None, &claims, CLAIM_ROW, true)?;
            for (panel, area) in panels.iter().zip(&areas[1..]) {
                strip(area, Some(&panel.heading), &panel.rows, CHECK_ROW, false)?;
            }
            Ok(())
        };
        draw().map_err(|e| anyhow!("{}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    }
    crate::files::write_atomic(path, svg.as_bytes())
}

/// The first panel's caption and key.
fn key<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e:?}");
    let caption = "Every claim at its worst check, then each claim's checks: miss in units of the last printed digit";
    area.draw(&Text::new(caption, (8, 6), ("sans-serif", TITLE).into_font())).map_err(err)?;
    let grey = RGBColor(60, 60, 60);
    let entries = [
        ("●", colour(Grade::Exact), "exact (green band: inside)"),
        ("●", colour(Grade::Near), "near (amber band: ≤ 1.5 units)"),
        ("●", colour(Grade::Far), "far"),
        ("○", grey, "lockin's reading"),
        ("■", grey, "a count of seeds"),
        ("◎", grey, "fragile under one-ulp perturbation"),
    ];
    let mut x = 8;
    for (symbol, colour, words) in entries {
        let symbol_style = ("sans-serif", TEXT).into_font().color(&colour);
        area.draw(&Text::new(symbol, (x, 28), symbol_style.clone())).map_err(err)?;
        x += area.estimate_text_size(symbol, &symbol_style).map_err(err)?.0 as i32 + 4;
        let style: TextStyle = ("sans-serif", TEXT).into_font().into();
        area.draw(&Text::new(words, (x, 28), style.clone())).map_err(err)?;
        x += area.estimate_text_size(words, &style).map_err(err)?.0 as i32 + 18;
    }
    Ok(())
}

/// One panel: a heading (none on the claims' panel, whose caption is its
/// own), a row per entry with its label at the left, and an axis.
fn strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: Option<&str>,
    rows: &[Row],
    row_height: u32,
    described: bool,
) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e:?}");
    let n = rows.len().max(1) as f64;
    let top = if heading.is_some() { HEADING } else { TOP };
    if let Some(text) = heading {
        area.draw(&Text::new(
            text,
            (8, HEADING as i32 - 18),
            ("sans-serif", TEXT + 1).into_font().style(FontStyle::Bold),
        ))
        .map_err(err)?;
    }
    let mut chart = ChartBuilder::on(area)
        .margin_top(top)
        .margin_right(40)
        .x_label_area_size(AXIS + if described { AXIS_DESC } else { 0 })
        .y_label_area_size(LEFT)
        .build_cartesian_2d(LOW..HIGH, -0.5..(n - 0.5))
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh()
        .x_labels(7)
        .x_label_formatter(&|x| axis_label(*x))
        .y_labels(0)
        .label_style(("sans-serif", TEXT))
        .axis_desc_style(("sans-serif", TEXT));
    if described {
        mesh.x_desc("miss (units of the last printed digit of the figure or bound; decades for an order of magnitude)");
    }
    mesh.draw().map_err(err)?;
    let plot = chart.plotting_area();
    let band = |lo: f64, hi: f64, c: RGBColor| Rectangle::new([(lo, -0.5), (hi, n - 0.5)], c.mix(0.12).filled());
    plot.draw(&band(LOW, 0.5f64.log10(), colour(Grade::Exact))).map_err(err)?;
    plot.draw(&band(0.5f64.log10(), NEAR.log10(), colour(Grade::Near))).map_err(err)?;
    let label_style = ("monospace", TEXT).into_font();
    for (i, row) in rows.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        marker(&chart, area, row, y).map_err(err)?;
        let (_, pixel) = chart.backend_coord(&(LOW, y));
        let (_, origin) = area.get_base_pixel();
        let pixel = pixel - origin - row_height as i32 / 2 + 2;
        area.draw(&Text::new(row.label.clone(), (8, pixel), label_style.clone())).map_err(err)?;
    }
    Ok(())
}

/// A row's marker at its miss: a circle, or a square for a count of seeds;
/// hollow for lockin's reading, ringed when fragile, "undefined" beside an
/// undefined one.
fn marker<DB: DrawingBackend>(
    chart: &ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    area: &DrawingArea<DB, Shift>,
    row: &Row,
    y: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let plot = chart.plotting_area();
    let (x, c) = (position(row.miss), colour(row.grade));
    let style = if row.lockin { c.stroke_width(2) } else { c.filled() };
    if row.exact_only {
        let (px, py) = chart.backend_coord(&(x, y));
        let (ox, oy) = area.get_base_pixel();
        let (px, py) = (px - ox, py - oy);
        area.draw(&Rectangle::new([(px - 4, py - 4), (px + 4, py + 4)], style))?;
    } else {
        plot.draw(&Circle::new((x, y), 4, style))?;
    }
    if row.fragile {
        plot.draw(&Circle::new((x, y), 7, BLACK.stroke_width(1)))?;
    }
    if row.undefined {
        plot.draw(&Text::new("undefined", (x - 0.62, y + 0.3), ("sans-serif", TEXT - 1).into_font()))?;
    }
    Ok(())
}

/// An axis number at a sensible precision: 0.01, 0.1, 1, 10, 100, …; the
/// ends say "≤" and "≥ or undefined".
fn axis_label(x: f64) -> String {
    let value = 10f64.powf(x);
    let text =
        if value < 1.0 { format!("{value:.2}").trim_end_matches('0').to_string() } else { format!("{value:.0}") };
    if (x - LOW).abs() < 1e-9 {
        format!("≤ {text}")
    } else if (x - HIGH).abs() < 1e-9 {
        format!("≥ {text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_placed_on_the_clamped_log_axis() {
        assert_eq!(position(0.0), LOW);
        assert_eq!(position(f64::NAN), HIGH);
        assert_eq!(position(1e9), HIGH);
        assert!((position(10.0) - 1.0).abs() < 1e-12);
        assert_eq!(axis_label(0.0), "1");
        assert_eq!(axis_label(-1.0), "0.1");
        assert_eq!(axis_label(LOW), "≤ 0.01");
        assert_eq!(axis_label(2.0), "100");
    }

    /// A claim of `checks` checks of a quantity measured at 180, each
    /// below a bound: 250 holds, 100 fails.
    fn judged(id: &str, bounds: &[u32]) -> ClaimResult {
        let expect: Vec<String> =
            bounds.iter().map(|b| format!("  - {{quantity: test_acc_99_max, tolerance: {{below: {b}}}}}\n")).collect();
        let text = format!(
            "id: {id}\nkind: hypothesis\ntitle: t\nsource: s\nstatement: s\npaper: \"-\"\nexperiments:\n  grok: {{activation: sqr, eta: 2.0e-4, epochs: 250, seeds: [1]}}\nmeasures:\n  - {{kind: milestones, condition: grok}}\nexpect:\n{}",
            expect.concat()
        );
        let claim = crate::claims::load::parse(Path::new(&format!("{id}-x.yaml")), &text).unwrap();
        let mut result = ClaimResult::new(&claim, crate::claims::Tier::Quick);
        let mut measurement = crate::claims::Measurement::default();
        measurement.quantities.insert("test_acc_99_max".into(), crate::claims::Value::exact(180.0));
        result.judge(&claim, measurement);
        result
    }

    /// The overview was one strip with its only axis at the bottom, its
    /// labels 1.6 px high in a short report: now a panel of claims and a
    /// panel per claim, each with its axis, in type of fixed size.
    #[test]
    fn every_panel_has_its_axis_in_readable_type() {
        let dir = tempfile::tempdir().unwrap();
        for results in [vec![judged("H1", &[250])], vec![judged("H1", &[250, 100]), judged("H2", &[250, 250, 100])]] {
            let path = dir.path().join(FILE);
            write(&path, &results, &Fragile::new()).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            assert_eq!(svg.matches("≤ 0.01").count(), results.len() + 1, "an axis per panel: {svg}");
            let sizes: Vec<f64> = svg
                .split("font-size=\"")
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
                .collect();
            // Written in points (pixels / 1.24): 12 px type is 9.68; the old labels were 1.6.
            assert!(!sizes.is_empty() && sizes.iter().all(|s| *s >= 9.5), "{sizes:?}");
            for r in &results {
                let status = crate::report::status(r);
                assert!(svg.contains(&format!("{:<5} {status}", r.id)), "a row per claim: {svg}");
                assert!(svg.contains(&format!("{} — t ({status})", r.id)), "a panel per claim: {svg}");
            }
        }
    }

    #[test]
    fn a_claim_sits_at_its_worst_check() {
        let r = judged("H2", &[250, 100, 250]);
        assert_eq!(worst(&r).map(|c| c.state), Some(CheckState::Fails));
    }
}
