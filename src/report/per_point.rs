//! Claim-driven figures of grids and of the level metric: for each claim, the
//! measured value at every grid point beside the paper's (the η-sweep table,
//! the scaling sweep, ...), and ρ(t) of the conditions a claim reads ρ on,
//! with its threshold (docs/claims.md, "Grids"; docs/methods.md, "Level metric ρ").

use std::collections::BTreeMap;

use crate::claims::value::Value;

use plotters::chart::SeriesLabelPosition;

use super::chart::{CONTROL, Chart, FIFTH, FOURTH, GROK, Line, THIRD};
use crate::claims::judge::ClaimResult;
use crate::claims::load::Claim;
use crate::probes::stats::Summary;
use crate::runs::Run;

/// A grid check `LABEL[POINT].name`, split.
fn grid_parts(quantity: &str) -> Option<(&str, &str, &str)> {
    let (label, rest) = quantity.split_once('[')?;
    let (point, name) = rest.split_once("].")?;
    Some((label, point, name))
}

/// A grid point's name, measured value, the paper's, and half of one of
/// the paper's printed units (the paper's figure is known to ± that).
type PointValues = (String, f64, f64, f64);

/// Where grid points sit on the x axis: (series name, x) per point, the
/// axis label, and whether several series share it.
struct Layout {
    /// Per point: the series it belongs to ("" for one series) and its x.
    at: Vec<(String, f64)>,
    /// The x-axis label.
    x_label: String,
}

/// "M41_p0.1" → (41, 0.1): a point of an M × p grid.
fn modulus_and_fraction(point: &str) -> Option<(f64, f64)> {
    let (m, p) = point.strip_prefix('M')?.split_once("_p")?;
    Some((m.parse().ok()?, p.parse().ok()?))
}

/// The grid's points on their own axes: an M × p grid as a line per M over
/// p; numeric points (η) at their value, on a log10 axis when they span
/// more than a decade; other names numbered, the names in the axis label.
fn layout(label: &str, points: &[PointValues]) -> Layout {
    if let Some(mp) = points.iter().map(|p| modulus_and_fraction(&p.0)).collect::<Option<Vec<_>>>() {
        let at = mp.iter().map(|(m, p)| (format!("M={m}"), *p)).collect();
        return Layout { at, x_label: format!("{label}: training fraction p (a line per modulus M)") };
    }
    if let Some(values) = points.iter().map(|p| p.0.parse::<f64>().ok()).collect::<Option<Vec<_>>>() {
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        if lo > 0.0 && hi / lo >= 10.0 {
            let at = values.iter().map(|v| (String::new(), v.log10())).collect();
            return Layout { at, x_label: format!("log10 of the {label} value") };
        }
        return Layout { at: values.iter().map(|v| (String::new(), *v)).collect(), x_label: label.to_string() };
    }
    let names: Vec<String> = points.iter().enumerate().map(|(i, p)| format!("{} = {}", i + 1, p.0)).collect();
    let at = (0..points.len()).map(|i| (String::new(), (i + 1) as f64)).collect();
    Layout { at, x_label: format!("{label}: {}", names.join(", ")) }
}

/// `color` halfway to white: the paper's markers beside the measured line.
fn lighter(color: plotters::style::RGBColor) -> plotters::style::RGBColor {
    let half = |c: u8| c / 2 + 128;
    plotters::style::RGBColor(half(color.0), half(color.1), half(color.2))
}

/// The measured line (with IQR bars) and the paper's markers of one series.
fn series_lines(
    series: &str,
    color: plotters::style::RGBColor,
    points: &[(f64, &PointValues)],
    quartile: &dyn Fn(&str, &str) -> f64,
) -> [Line; 2] {
    let named = |what: &str| if series.is_empty() { what.to_string() } else { format!("{what} {series}") };
    let measured = Line {
        label: named("measured"),
        color,
        points: points.iter().map(|(x, p)| (*x, p.1)).collect(),
        band: points.iter().map(|(x, p)| (*x, quartile(&p.0, "q25"), quartile(&p.0, "q75"))).collect(),
        markers: true,
    };
    let paper = Line {
        label: named("paper"),
        color: lighter(color),
        // NaN between points: markers only, no line; a bar of ± half a
        // printed unit, the precision the paper prints the figure to.
        points: points.iter().flat_map(|(x, p)| [(*x, p.2), (*x, f64::NAN)]).collect(),
        band: points.iter().map(|(x, p)| (*x, p.2 - p.3, p.2 + p.3)).collect(),
        markers: true,
    };
    [measured, paper]
}

/// Per claim, one chart per `LABEL[*].name` checked at two or more points:
/// measured at every grid point the measure reports it for (with IQR bars
/// over seeds where the measure gives them) and the paper's figure where
/// it prints one, each grid point on its own axes ([`layout`]), titled
/// with the claim and the conditions its points share. Returns (claim id,
/// quantity pattern, chart).
pub fn grid_charts(results: &[ClaimResult]) -> Vec<(String, String, Chart)> {
    let mut charts = Vec::new();
    for r in results {
        let mut rows: BTreeMap<(String, String), Vec<PointValues>> = BTreeMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        for c in &r.checks {
            // A check with no figure beside it (a question of one's own) is drawn measured only.
            let Some((label, point, name)) = grid_parts(&c.quantity) else { continue };
            let paper = c.paper.unwrap_or(f64::NAN);
            let key = (label.to_string(), name.to_string());
            if !order.contains(&key) {
                order.push(key.clone());
            }
            let half = match c.unit {
                crate::claims::grade::Unit::Step(step) => step / 2.0,
                crate::claims::grade::Unit::Decade | crate::claims::grade::Unit::Unprinted => f64::NAN,
            };
            rows.entry(key).or_default().push((point.to_string(), c.measured.as_f64(), paper, half));
        }
        for key in order {
            let mut points = rows.remove(&key).unwrap_or_default();
            if points.len() < 2 {
                continue;
            }
            points.extend(unchecked_points(&r.measurement.quantities, &key.0, &key.1, &points));
            let chart = grid_chart(r, &key.0, &key.1, &points);
            charts.push((r.id.clone(), format!("{}[*].{}", key.0, key.1), chart));
        }
    }
    charts
}

/// The grid points at which `label[point].name` was measured (a number)
/// but not checked (the paper prints no figure there): measured only, the
/// paper's value NaN.
fn unchecked_points(
    quantities: &BTreeMap<String, Value>,
    label: &str,
    name: &str,
    checked: &[PointValues],
) -> Vec<PointValues> {
    quantities
        .iter()
        .filter_map(|(quantity, value)| match (grid_parts(quantity), value.number()) {
            (Some((l, point, n)), Some(value))
                if l == label && n == name && value.is_finite() && !checked.iter().any(|c| c.0 == point) =>
            {
                Some((point.to_string(), value, f64::NAN, f64::NAN))
            }
            _ => None,
        })
        .collect()
}

/// What the points of grid `label` share ("σ = sqr, η = 0.0002, M = 23,
/// K = 256"), from the claim's experiments `label[POINT]` (all of its
/// experiments where the label is not the grid's name).
fn grid_conditions(r: &ClaimResult, label: &str) -> String {
    let Some(claim) = r.claim.as_deref() else { return String::new() };
    let experiments = &claim.at(r.tier).experiments;
    let points: Vec<_> =
        experiments.iter().filter(|(n, _)| n.starts_with(&format!("{label}["))).map(|(_, e)| e).collect();
    let drawn = if points.is_empty() { experiments.values().collect() } else { points };
    super::conditions::shared(&drawn)
}

/// `points` and their places in `layout` in the order of their x, so that
/// each series' line runs along its axis whatever order the points came in.
fn along_axis<'a>(layout: &mut Layout, points: &'a [PointValues]) -> Vec<&'a PointValues> {
    let mut placed: Vec<((String, f64), &PointValues)> = layout.at.drain(..).zip(points).collect();
    placed.sort_by(|a, b| a.0.1.total_cmp(&b.0.1));
    let (at, points) = placed.into_iter().unzip();
    layout.at = at;
    points
}

/// The chart of one grid quantity of result `r`.
fn grid_chart(r: &ClaimResult, label: &str, name: &str, points: &[PointValues]) -> Chart {
    let q = &r.measurement.quantities;
    let quartile = |point: &str, which: &str| {
        name.strip_suffix("_median")
            .and_then(|stem| q.get(&format!("{label}[{point}].{stem}_{which}")))
            .map_or(f64::NAN, |v| v.as_f64())
    };
    let values: Vec<f64> = points.iter().flat_map(|p| [p.1, p.2]).filter(|v| v.is_finite()).collect();
    let positive = values.iter().all(|v| *v > 0.0);
    let span = values.iter().copied().fold(f64::NAN, f64::max) / values.iter().copied().fold(f64::NAN, f64::min);
    let mut layout = layout(label, points);
    let mut series: Vec<String> = Vec::new();
    for (name, _) in &layout.at {
        if !series.contains(name) {
            series.push(name.clone());
        }
    }
    let points = along_axis(&mut layout, points);
    let colors = [GROK, CONTROL, THIRD, FOURTH, FIFTH];
    let mut lines: Vec<Line> = series
        .iter()
        .zip(colors.iter().cycle())
        .flat_map(|(s, color)| {
            let own: Vec<(f64, &PointValues)> =
                layout.at.iter().zip(&points).filter(|((t, _), _)| t == s).map(|((_, x), p)| (*x, *p)).collect();
            series_lines(s, *color, &own, &quartile)
        })
        .collect();
    let placed: Vec<(f64, &str)> = layout.at.iter().zip(&points).map(|((_, x), p)| (*x, p.0.as_str())).collect();
    let bounded = bounded_line(q, label, name, &placed);
    // Points with neither a value nor a bound (not run at this tier, or undefined) are named.
    let unmeasured: Vec<&str> = placed
        .iter()
        .filter(|(_, point)| {
            q.get(&format!("{label}[{point}].{name}")).is_none_or(|v| !v.is_bounded() && v.number().is_none())
        })
        .map(|(_, point)| *point)
        .collect();
    if !unmeasured.is_empty() {
        layout.x_label = format!("{} · no measured value at {}", layout.x_label, unmeasured.join(", "));
    }
    // A bound drawn at the left edge needs the upper left clear.
    let legend = if series.len() > 1 || bounded.is_some() {
        SeriesLabelPosition::UpperRight
    } else {
        SeriesLabelPosition::UpperLeft
    };
    lines.extend(bounded);
    Chart {
        title: format!("{}: {name} per grid point of `{label}`\n{}", r.id, grid_conditions(r, label)),
        x_label: layout.x_label,
        y_label: if positive && span > 100.0 { format!("{name} (log scale)") } else { name.to_string() },
        log_y: positive && span > 100.0,
        // Epochs fall as p grows: the upper right is clear for several series.
        legend,
        lines,
        vlines: Vec::new(),
        hlines: Vec::new(),
    }
}

/// The points (x, point) whose value is known only by a bound (a censored
/// event, "≥ 301": no seed had it within the run), drawn at that bound and
/// named in the legend, so that no point is left out unsaid.
fn bounded_line(q: &BTreeMap<String, Value>, label: &str, name: &str, placed: &[(f64, &str)]) -> Option<Line> {
    let bounded: Vec<(f64, f64, String)> = placed
        .iter()
        .filter_map(|(x, point)| {
            let value = q.get(&format!("{label}[{point}].{name}")).filter(|v| v.is_bounded())?;
            let bound = [value.lo, value.hi].into_iter().find(|b| b.is_finite())?;
            Some((*x, bound, format!("{point}: {}", value.describe())))
        })
        .collect();
    (!bounded.is_empty()).then(|| Line {
        label: format!(
            "known by a bound only, drawn at it ({})",
            bounded.iter().map(|b| b.2.as_str()).collect::<Vec<_>>().join("; ")
        ),
        color: plotters::style::RGBColor(90, 90, 90),
        // NaN between points: markers only.
        points: bounded.iter().flat_map(|b| [(b.0, b.1), (b.0, f64::NAN)]).collect(),
        band: Vec::new(),
        markers: true,
    })
}

/// The median over seeds at each epoch until the last seed's log ends, a
/// seed whose log has ended counting at its last logged value: a run's ρ
/// log ends once ρ has crossed its threshold, so the curve runs past the
/// threshold instead of stopping below it at the first seed's crossing.
fn median_carried(series: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let logged = |s: &Vec<f64>| s.iter().take_while(|v| v.is_finite()).count();
    let longest = series.iter().map(logged).max().unwrap_or(0);
    (0..longest)
        .map(|t| {
            let values: Vec<f64> = series.iter().filter(|s| logged(s) > 0).map(|s| s[t.min(logged(s) - 1)]).collect();
            (t as f64, Summary::of(&values).median)
        })
        .collect()
}

/// Per claim that reads ρ: the median ρ(t) over seeds of each condition it
/// reads (at most six), until the last seed's log ends ([`median_carried`]),
/// and a line at each threshold it reads.
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
        let mut thresholds: Vec<f64> = Vec::new();
        for m in &expanded.measures {
            let read = m.rho_thresholds();
            if !read.is_empty() {
                thresholds.extend(read.into_iter().filter(|t| !thresholds.contains(t)).collect::<Vec<_>>());
                conditions.extend(m.conditions().into_iter().filter(|c| !conditions.contains(c)).collect::<Vec<_>>());
            }
        }
        if thresholds.is_empty() {
            continue;
        }
        let mut lines = Vec::new();
        for (condition, color) in conditions.iter().zip(colors) {
            let series: Vec<Vec<f64>> = runs(claim, condition).iter().filter_map(|r| r.series("rho")).collect();
            if series.is_empty() {
                continue;
            }
            let points = median_carried(&series);
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
            title: format!("{}: level metric ρ\n{}", claim.raw.id, {
                let drawn: Vec<_> = conditions.iter().filter_map(|c| expanded.experiments.get(*c)).collect();
                super::conditions::shared(&drawn)
            }),
            x_label: "epoch".into(),
            y_label: "ρ, the paper's code (raw F Fᵀ)".into(),
            log_y: false,
            legend: SeriesLabelPosition::LowerRight,
            lines,
            vlines: Vec::new(),
            hlines: thresholds.iter().map(|t| (*t, format!("threshold {t}"))).collect(),
        };
        charts.push((claim.raw.id.clone(), chart));
    }
    charts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_sit_on_their_own_axes() {
        let point = |name: &str| (name.to_string(), 1.0, 1.0, 0.5);
        let mp = layout("sweep", &[point("M41_p0.1"), point("M41_p0.5"), point("M71_p0.1")]);
        assert_eq!(mp.at, vec![("M=41".into(), 0.1), ("M=41".into(), 0.5), ("M=71".into(), 0.1)]);
        let eta = layout("eta", &[point("1e-5"), point("1e-4"), point("5e-4")]);
        assert!((eta.at[0].1 + 5.0).abs() < 1e-12 && eta.x_label.contains("log10"));
        let named = layout("w", &[point("a"), point("b")]);
        assert_eq!(named.at[1].1, 2.0);
    }

    /// The η table's lag was checked at two of five η (the paper prints
    /// two): the measured line runs through all five, in η order, and the
    /// paper's markers stand at the two.
    #[test]
    fn the_measured_line_runs_through_every_point_in_axis_order() {
        let checked = vec![("5e-4".to_string(), 357.0, 451.0, 0.5), ("5e-5".to_string(), -66.0, -32.0, 0.5)];
        let quantities: BTreeMap<String, Value> = [("1e-4", 25.0), ("2e-4", 72.0), ("5e-5", -66.0), ("5e-4", 357.0)]
            .map(|(point, v)| (format!("eta[{point}].lag"), v))
            .into_iter()
            .chain([("other[1e-4].lag".to_string(), 1.0), ("eta[1e-4].lead".to_string(), 2.0)])
            .map(|(name, v)| (name, Value::exact(v)))
            .collect();
        let mut points = checked.clone();
        points.extend(unchecked_points(&quantities, "eta", "lag", &checked));
        assert_eq!(points.len(), 4, "{points:?}");
        let mut layout = layout("eta", &points);
        let ordered: Vec<&str> = along_axis(&mut layout, &points).iter().map(|p| p.0.as_str()).collect();
        assert_eq!(ordered, ["5e-5", "1e-4", "2e-4", "5e-4"]);
        assert!(layout.at.windows(2).all(|w| w[0].1 < w[1].1));
        assert!(points.iter().filter(|p| p.2.is_nan()).count() == 2, "no paper figure at the unchecked points");
    }

    /// The ρ curve ran only while every seed was logged, ending just below
    /// the threshold at the first seed's crossing.
    #[test]
    fn rho_curves_run_past_the_threshold() {
        let series = vec![vec![0.01, 0.05, 0.08], vec![0.01, 0.04, 0.06, 0.07, 0.09], vec![0.0, 0.03, 0.05, 0.076]];
        let points = median_carried(&series);
        assert_eq!(points.len(), 5);
        assert!(points.last().unwrap().1 >= 0.075, "{points:?}");
    }
}
