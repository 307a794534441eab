//! Claim-driven figures of grids and of the level metric: for each claim, the
//! measured value at every grid point beside the paper's (the η-sweep table,
//! the scaling sweep, ...), and ρ(t) of the conditions a claim reads ρ on,
//! with its threshold (docs/claims.md, "Grids"; docs/methods.md, "Level metric ρ").

use std::collections::BTreeMap;

use plotters::chart::SeriesLabelPosition;

use super::chart::{CONTROL, Chart, FIFTH, FOURTH, GROK, Line, THIRD};
use crate::claims::MeasureSpec;
use crate::claims::judge::ClaimResult;
use crate::claims::schema::Claim;
use crate::probes::stats::Summary;
use crate::runs::Run;

/// A grid check `LABEL[POINT].name`, split.
fn grid_parts(quantity: &str) -> Option<(&str, &str, &str)> {
    let (label, rest) = quantity.split_once('[')?;
    let (point, name) = rest.split_once("].")?;
    Some((label, point, name))
}

/// A grid point's name, measured value and the paper's.
type PointValues = (String, f64, f64);

/// Per claim, one chart per `LABEL[*].name` checked at two or more points
/// against the paper: measured (with the IQR over seeds where the measure
/// gives one) and the paper's figure, by grid point. Returns (claim id,
/// quantity pattern, chart).
pub fn grid_charts(results: &[ClaimResult]) -> Vec<(String, String, Chart)> {
    let mut charts = Vec::new();
    for r in results {
        let mut rows: BTreeMap<(String, String), Vec<PointValues>> = BTreeMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        for c in &r.checks {
            let (Some((label, point, name)), Some(paper)) = (grid_parts(&c.quantity), c.paper) else { continue };
            let key = (label.to_string(), name.to_string());
            if !order.contains(&key) {
                order.push(key.clone());
            }
            rows.entry(key).or_default().push((point.to_string(), c.measured, paper));
        }
        for key in order {
            let points = &rows[&key];
            if points.len() < 2 {
                continue;
            }
            let (label, name) = &key;
            let q = &r.measurement.quantities;
            let quartile = |point: &str, which: &str| {
                name.strip_suffix("_median")
                    .and_then(|stem| q.get(&format!("{label}[{point}].{stem}_{which}")))
                    .copied()
                    .unwrap_or(f64::NAN)
            };
            let x = |i: usize| (i + 1) as f64;
            let values: Vec<f64> = points.iter().flat_map(|p| [p.1, p.2]).filter(|v| v.is_finite()).collect();
            let positive = values.iter().all(|v| *v > 0.0);
            let span =
                values.iter().copied().fold(f64::NAN, f64::max) / values.iter().copied().fold(f64::NAN, f64::min);
            let measured = Line {
                label: "measured".into(),
                color: GROK,
                points: points.iter().enumerate().map(|(i, p)| (x(i), p.1)).collect(),
                band: points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (x(i), quartile(&p.0, "q25"), quartile(&p.0, "q75")))
                    .collect(),
                markers: true,
            };
            let paper = Line {
                label: "paper".into(),
                color: CONTROL,
                // NaN between points: markers only, no line.
                points: points.iter().enumerate().flat_map(|(i, p)| [(x(i), p.2), (x(i), f64::NAN)]).collect(),
                band: Vec::new(),
                markers: true,
            };
            let names: Vec<String> = points.iter().enumerate().map(|(i, p)| format!("{} = {}", i + 1, p.0)).collect();
            let chart = Chart {
                title: format!("{} per grid point ({})", name, r.id),
                x_label: format!("{label}: {}", names.join(", ")),
                y_label: if positive && span > 100.0 { format!("{name} (log scale)") } else { name.clone() },
                log_y: positive && span > 100.0,
                legend: SeriesLabelPosition::UpperLeft,
                lines: vec![measured, paper],
                vlines: Vec::new(),
                hlines: Vec::new(),
            };
            charts.push((r.id.clone(), format!("{label}[*].{name}"), chart));
        }
    }
    charts
}

/// The ρ threshold a measure reads, if it reads one.
fn rho_threshold(m: &MeasureSpec) -> Option<f64> {
    match m {
        MeasureSpec::Threshold(t) if t.series == "rho" => Some(t.threshold),
        MeasureSpec::Lead(l) if l.from.series == "rho" => Some(l.from.threshold),
        MeasureSpec::Lead(l) if l.to.series == "rho" => Some(l.to.threshold),
        _ => None,
    }
}

/// Per claim that reads ρ: the median ρ(t) over seeds of each condition it
/// reads (at most six), while every seed is logged (a run's log ends once ρ
/// has crossed its threshold).
/// `runs(claim, condition)` gives the cached runs.
pub fn rho_charts(
    claims: &[Claim],
    results: &[ClaimResult],
    runs: &dyn Fn(&Claim, &str) -> Vec<Run>,
) -> Vec<(String, Chart)> {
    let colors = [GROK, CONTROL, THIRD, FOURTH, FIFTH, plotters::style::RGBColor(90, 90, 90)];
    let mut charts = Vec::new();
    for claim in claims {
        let Some(result) = results.iter().find(|r| r.id == claim.raw.id) else { continue };
        let expanded = claim.at(result.tier);
        let mut conditions: Vec<&str> = Vec::new();
        let mut threshold = None;
        for m in &expanded.measures {
            if let Some(t) = rho_threshold(m) {
                threshold = threshold.or(Some(t));
                conditions.extend(m.conditions().into_iter().filter(|c| !conditions.contains(c)).collect::<Vec<_>>());
            }
        }
        let Some(threshold) = threshold else { continue };
        let mut lines = Vec::new();
        for (condition, color) in conditions.iter().zip(colors) {
            let series: Vec<Vec<f64>> = runs(claim, condition).iter().filter_map(|r| r.series("rho")).collect();
            if series.is_empty() {
                continue;
            }
            // The median while every seed is logged (a seed's log ends after its crossing).
            let at = |t: usize| {
                series.iter().map(|s| s.get(t).copied().filter(|v| v.is_finite())).collect::<Option<Vec<f64>>>()
            };
            let points = (0..).map_while(|t| at(t).map(|v| (t as f64, Summary::of(&v).median))).collect();
            lines.push(Line {
                label: format!("{condition} (n={})", series.len()),
                color,
                points,
                band: Vec::new(),
                markers: false,
            });
        }
        if lines.is_empty() {
            continue;
        }
        let chart = Chart {
            title: format!("Level metric ρ ({})", claim.raw.id),
            x_label: "epoch".into(),
            y_label: "ρ, the paper's code (raw F Fᵀ)".into(),
            log_y: false,
            legend: SeriesLabelPosition::LowerRight,
            lines,
            vlines: Vec::new(),
            hlines: vec![(threshold, format!("threshold {threshold}"))],
        };
        charts.push((claim.raw.id.clone(), chart));
    }
    charts
}
