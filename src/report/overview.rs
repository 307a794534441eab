//! `figures/overview.svg`, the first thing REPORT.md shows: every check of
//! every claim in one picture (docs/claims.md, "Grades"). A row per check,
//! grouped by claim in the reader's order; its miss in printed units on a
//! log axis; the tolerance band (a two-sided figure holds within half a
//! unit) and the near band (to 1.5 units) shaded; the marker coloured by
//! grade; a hollow marker for lockin's readings.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

use crate::claims::judge::ClaimResult;
use crate::claims::{CheckState, Grade, Reading, grade::NEAR};

/// The figure's file name.
pub const FILE: &str = "overview.svg";
/// Its caption.
pub const CAPTION: &str = "Every check at a glance: a row per check, grouped by claim (far misses first, then lockin's readings, near misses, reproduced); its miss in the paper's printed units on a log axis, inside the tolerance in the green band, near in the amber band; a hollow marker is a check of lockin's reading, a ring one whose state flips under one-ulp perturbations of the initial weights (as measured with --perturb).";

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
const ROW: u32 = 13;
const LEFT: u32 = 300;

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

/// One row: the claim id (on its first check), the quantity, miss, grade, reading.
struct Row<'a> {
    label: String,
    miss: f64,
    grade: Grade,
    lockin: bool,
    undefined: bool,
    fragile: bool,
    exact_only: bool,
    first: Option<&'a str>,
}

/// (claim, quantity) → (flips, perturbations tried), as measured.
pub type Fragile = std::collections::BTreeMap<(String, String), (usize, usize)>;

fn rows<'a>(results: &'a [ClaimResult], fragile: &Fragile) -> Vec<Row<'a>> {
    let mut ordered: Vec<&ClaimResult> = results.iter().filter(|r| !r.checks.is_empty()).collect();
    ordered.sort_by_key(|r| super::reader_order(r));
    ordered
        .into_iter()
        .flat_map(|r| {
            r.checks.iter().enumerate().map(move |(i, c)| Row {
                label: truncated(&c.quantity, 34),
                miss: c.miss,
                grade: c.grade,
                lockin: c.reading == Reading::Lockin,
                undefined: c.state == CheckState::Undefined,
                exact_only: crate::claims::grade::exact_only(&c.tolerance),
                fragile: fragile.get(&(r.id.clone(), c.quantity.clone())).is_some_and(|(flips, _)| *flips > 0),
                first: (i == 0).then_some(r.id.as_str()),
            })
        })
        .collect()
}

fn truncated(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n - 1).collect::<String>())
    }
}

/// Write the overview of `results` to `path` (drawn in memory, then
/// written beside and renamed).
pub fn write(path: &Path, results: &[ClaimResult], fragile: &Fragile) -> anyhow::Result<()> {
    let rows = rows(results, fragile);
    let height = 90 + ROW * rows.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (LEFT + 620, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
        draw(&root, &rows).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    }
    crate::files::write_atomic(path, svg.as_bytes())
}

fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, rows: &[Row]) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e:?}");
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("Every check: miss in the paper's printed units (log scale)", ("sans-serif", 16))
        .margin(10)
        .margin_top(30)
        .margin_right(40)
        .x_label_area_size(34)
        .y_label_area_size(LEFT - 10)
        .build_cartesian_2d(LOW..HIGH, -0.5..(n - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("miss (printed units of the paper's last digit; decades for an order of magnitude)")
        .x_labels(7)
        .x_label_formatter(&|x| axis_label(*x))
        .y_labels(0)
        .draw()
        .map_err(err)?;
    let plot = chart.plotting_area();
    let band = |lo: f64, hi: f64, c: RGBColor| Rectangle::new([(lo, -0.5), (hi, n - 0.5)], c.mix(0.12).filled());
    plot.draw(&band(LOW, 0.5f64.log10(), colour(Grade::Exact))).map_err(err)?;
    plot.draw(&band(0.5f64.log10(), NEAR.log10(), colour(Grade::Near))).map_err(err)?;
    let label_style = ("monospace", 10).into_font();
    for (i, row) in rows.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let (x, c) = (position(row.miss), colour(row.grade));
        let style = if row.lockin { c.stroke_width(2) } else { c.filled() };
        if row.exact_only {
            let (px, py) = chart.backend_coord(&(x, y));
            area.draw(&Rectangle::new([(px - 4, py - 4), (px + 4, py + 4)], style)).map_err(err)?;
        } else {
            plot.draw(&Circle::new((x, y), 4, style)).map_err(err)?;
        }
        if row.fragile {
            plot.draw(&Circle::new((x, y), 7, BLACK.stroke_width(1))).map_err(err)?;
        }
        if row.undefined {
            plot.draw(&Text::new("undefined", (x - 0.55, y + 0.35), label_style.clone())).map_err(err)?;
        }
        let text = format!("{:<4} {}", row.first.unwrap_or(""), row.label);
        let (_, pixel) = chart.backend_coord(&(LOW, y));
        area.draw(&Text::new(text, (8, pixel - 5), label_style.clone())).map_err(err)?;
    }
    let key = "● exact (green band: inside)   ● near (amber band: ≤ 1.5 units)   ● far (red)   ○ lockin's reading   ◎ fragile under one-ulp perturbation   ■ a count of seeds (exact or far)";
    area.draw(&Text::new(key, (LEFT as i32 - 150, 6), ("sans-serif", 11).into_font())).map_err(err)?;
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
}
