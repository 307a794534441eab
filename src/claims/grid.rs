//! Grids: one experiment varied over a list of named points (docs/claims.md,
//! "Grids"). A claim is written with grids and expanded, per tier, into plain
//! experiments, measures and expectations, so everything downstream sees one
//! condition per grid point:
//!
//! - experiment `eta` with `grid: {"1e-5": {eta: 1.0e-5}, ...}` becomes the
//!   conditions `eta[1e-5]`, ...; a point may set any experiment field, and
//!   `seeds: {quick: 0}` leaves it out of the quick tier;
//! - a measure naming the grid (`condition: eta`) is repeated per point and
//!   labelled `LABEL[point]` (the label defaults to the grid's name);
//!   `eta[*]` in a `conditions:` list pools every point; `eta[1e-5]` names one;
//! - an expectation on `LABEL[*].name` is repeated per point, with `paper:` a
//!   single value or a list in the grid's order (a row of the paper's table).

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::expectation::{Expectation, RawExpectation, expectations_of};
use super::experiment::{Experiment, check_name};
use super::measure::MeasureSpec;
use super::problem::Problem;
use super::tier::Tier;

fn problem<T>(field: &str, message: String) -> Result<T, Problem> {
    Err(Problem::new(field.to_string(), message))
}

/// A claim at one tier: plain conditions, measures and checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expanded {
    /// Conditions run at this tier (grid points as `grid[point]`).
    pub experiments: BTreeMap<String, Experiment>,
    /// Measures, one per grid point where a measure names a grid.
    pub measures: Vec<MeasureSpec>,
    /// Checks, one per grid point where a quantity reads `[*]`.
    pub expect: Vec<Expectation>,
    /// Preconditions, expanded like the checks.
    pub requires: Vec<Expectation>,
}

/// A grid's name and its points in the order written.
#[derive(Clone, Debug, PartialEq)]
struct Grid {
    name: String,
    points: Vec<String>,
}

/// The condition name of a grid point.
pub fn point_condition(grid: &str, point: &str) -> String {
    format!("{grid}[{point}]")
}

/// Every experiment, grid points included (seeds as written), and the grids.
fn experiments_of(raw: &BTreeMap<String, Mapping>) -> Result<(BTreeMap<String, Experiment>, Vec<Grid>), Problem> {
    let mut experiments = BTreeMap::new();
    let mut grids = Vec::new();
    for (name, fields) in raw {
        if let Err(message) = check_name("experiment name", name) {
            return problem("experiments", message);
        }
        let mut base = fields.clone();
        let Some(grid) = base.remove("grid") else {
            let e = typed(name, Value::Mapping(base))?;
            check_seeds(name, &e, false)?;
            experiments.insert(name.clone(), e);
            continue;
        };
        let Value::Mapping(points) = grid else {
            return problem("grid", format!("`{name}`: a grid is a map of point name to the fields it sets"));
        };
        if points.is_empty() {
            return problem("grid", format!("`{name}`: the grid has no points"));
        }
        let mut names = Vec::new();
        for (point, overrides) in points {
            let Value::String(point) = point else {
                return problem("grid", format!("`{name}`: point names are text (quote numbers: \"1e-5\")"));
            };
            if let Err(message) = check_name(&format!("`{name}`: point name"), &point) {
                return problem("grid", message);
            }
            let Value::Mapping(overrides) = overrides else {
                return problem("grid", format!("`{name}[{point}]`: a point is a map of the fields it sets"));
            };
            let mut merged = base.clone();
            for (field, value) in overrides {
                if field.as_str() == Some("seeds") {
                    if !value.is_mapping() {
                        return problem(
                            "seeds",
                            format!(
                                "`{name}[{point}]`: a point's seeds is a map such as {{quick: 0}} or {{quick: 3, paper: 15}}"
                            ),
                        );
                    }
                    merged.insert(field, merge_seeds(base.get("seeds"), value));
                } else {
                    merged.insert(field, value);
                }
            }
            let condition = point_condition(name, &point);
            let e = typed(&condition, Value::Mapping(merged))?;
            check_seeds(&condition, &e, true)?;
            experiments.insert(condition.clone(), e);
            names.push(point);
        }
        grids.push(Grid { name: name.clone(), points: names });
    }
    Ok((experiments, grids))
}

/// Every condition runs seeds at the paper tier, and every plain one at
/// the quick tier too (a grid point may skip it: `seeds: {quick: 0}`).
fn check_seeds(name: &str, e: &Experiment, point: bool) -> Result<(), Problem> {
    if e.seeds.paper.is_empty() || (!point && e.seeds.quick.is_empty()) {
        let tier = if e.seeds.paper.is_empty() { "paper" } else { "quick" };
        return problem("seeds", format!("experiment `{name}` runs no seeds at the {tier} tier"));
    }
    Ok(())
}

/// A point's `seeds` may set one tier only (`{quick: 0}`); over a base
/// that is one list for both tiers, the other tier keeps that list.
fn merge_seeds(base: Option<&Value>, point: Value) -> Value {
    let both = |list: &Value| {
        let mut tiers = Mapping::new();
        tiers.insert("quick".into(), list.clone());
        tiers.insert("paper".into(), list.clone());
        Value::Mapping(tiers)
    };
    let base = base.map(|b| if b.is_sequence() { both(b) } else { b.clone() });
    match (base.as_ref(), point) {
        (Some(Value::Mapping(base)), Value::Mapping(point)) => {
            let mut merged = base.clone();
            merged.extend(point);
            Value::Mapping(merged)
        }
        (_, point) => point,
    }
}

/// The experiment of `value`; an error names the field at fault: the one
/// serde names (an unknown or missing field), else the one whose removal
/// alone was wrong (a wrong type: serde names the value, not the field).
fn typed(name: &str, value: Value) -> Result<Experiment, Problem> {
    let parse = |v: Value| serde_yaml::from_value::<Experiment>(v).map_err(|e| e.to_string());
    let mut experiment = parse(value.clone()).map_err(|message| {
        let named = ["unknown field", "missing field", "duplicate field"].iter().any(|p| message.starts_with(p));
        let culprit = value.as_mapping().and_then(|fields| {
            fields.keys().find_map(|key| {
                let mut without = fields.clone();
                without.remove(key);
                let key = key.as_str()?;
                match parse(Value::Mapping(without)) {
                    Ok(_) => Some(key),
                    Err(other) => other.starts_with(&format!("missing field `{key}`")).then_some(key),
                }
            })
        });
        let field = match (named, culprit) {
            (false, Some(key)) => key.to_string(),
            _ => message.split('`').nth(1).unwrap_or("experiments").to_string(),
        };
        // The loader puts the field first ("seeds: experiment `g`: ...").
        let message = message.strip_prefix(&format!("{field}: ")).unwrap_or(&message).to_string();
        Problem::new(field.clone(), format!("experiment `{name}`: {message}"))
    })?;
    // A table fixes M, its order (docs/methods.md, "Tasks"); a `modulus` written is checked against it.
    if let Some(order) = experiment.task.order()
        && !value.as_mapping().is_some_and(|fields| fields.contains_key("modulus"))
    {
        experiment.modulus = order;
    }
    Ok(experiment)
}

/// How a measure refers to a condition.
enum Reference<'a> {
    /// A plain experiment or one grid point.
    Plain,
    /// A grid's name: one measure per point.
    PerPoint(&'a Grid),
    /// `grid[*]`: all points pooled.
    Pooled(&'a Grid),
}

fn reference<'a>(name: &str, grids: &'a [Grid]) -> Reference<'a> {
    if let Some(grid) = grids.iter().find(|g| g.name == name) {
        return Reference::PerPoint(grid);
    }
    match name.strip_suffix("[*]").and_then(|g| grids.iter().find(|grid| grid.name == g)) {
        Some(grid) => Reference::Pooled(grid),
        None => Reference::Plain,
    }
}

/// The measures at a tier; `absent(c)`: grid point `c` exists but does not run at this tier.
fn measures_of(
    measures: &[MeasureSpec],
    grids: &[Grid],
    absent: &dyn Fn(&str) -> bool,
) -> Result<Vec<MeasureSpec>, Problem> {
    let mut out = Vec::new();
    for m in measures {
        let per_point: Vec<&Grid> = m
            .conditions()
            .iter()
            .filter_map(|c| match reference(c, grids) {
                Reference::PerPoint(g) => Some(g),
                _ => None,
            })
            .collect();
        if let Some(first) = per_point.first() {
            if let Some(other) = per_point.iter().find(|g| g.points != first.points) {
                return problem(
                    "measures",
                    format!(
                        "grids `{}` and `{}` have different points; one measure can step through one list",
                        first.name, other.name
                    ),
                );
            }
            for point in &first.points {
                let mut copy = m.clone();
                for c in copy.conditions_mut() {
                    if let Reference::PerPoint(g) = reference(c, grids) {
                        *c = point_condition(&g.name, point);
                    }
                }
                let label = m.label().unwrap_or(&first.name).to_string();
                copy.set_label(point_condition(&label, point));
                out.extend(pooled(copy, grids, absent)?);
            }
        } else {
            out.extend(pooled(m.clone(), grids, absent)?);
        }
    }
    Ok(out)
}

/// Expand `grid[*]` in a `conditions:` list; drop the measure if a point it names does not run at this tier.
fn pooled(mut m: MeasureSpec, grids: &[Grid], absent: &dyn Fn(&str) -> bool) -> Result<Option<MeasureSpec>, Problem> {
    if let Some(conditions) = m.pooled_conditions_mut() {
        let (mut written, mut running) = (Vec::new(), Vec::new());
        for c in conditions.iter() {
            match reference(c, grids) {
                Reference::Pooled(g) => {
                    let points: Vec<String> = g.points.iter().map(|p| point_condition(&g.name, p)).collect();
                    running.extend(points.iter().filter(|c| !absent(c)).cloned());
                    written.extend(points);
                }
                _ => {
                    written.push(c.clone());
                    running.push(c.clone());
                }
            }
        }
        let some_absent = written.len() != running.len();
        *conditions = running;
        if some_absent {
            m.keep_written(written);
        }
    }
    if let Some(c) = m.conditions().iter().find(|c| matches!(reference(c, grids), Reference::Pooled(_))) {
        return problem("measures", format!("`{c}` pools a grid's points; only a `conditions:` list can pool"));
    }
    Ok(m.conditions().iter().all(|c| !absent(c)).then_some(m))
}

/// The labels of grid-point measures, in order, without repeats.
fn point_labels(measures: &[MeasureSpec]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut labels: Vec<String> = Vec::new();
    for l in measures.iter().filter_map(|m| m.label()).filter(|l| l.ends_with(']')) {
        if seen.insert(l) {
            labels.push(l.to_string());
        }
    }
    labels
}

/// Expand a claim's experiments, measures, expectations and
/// preconditions (`[expect, requires]`) for `tier`.
pub fn expand(
    experiments: &BTreeMap<String, Mapping>,
    measures: &[MeasureSpec],
    [expect, requires]: [&[RawExpectation]; 2],
    tier: Tier,
) -> Result<Expanded, Problem> {
    let (all, grids) = experiments_of(experiments)?;
    let at_tier: BTreeMap<String, Experiment> =
        all.iter().filter(|(_, e)| !e.seeds.at(tier).is_empty()).map(|(n, e)| (n.clone(), e.clone())).collect();
    let every = measures_of(measures, &grids, &|_| false)?;
    let absent = |c: &str| all.contains_key(c) && !at_tier.contains_key(c);
    let measures = measures_of(measures, &grids, &absent)?;
    let expect = expectations_of(expect, &point_labels(&every), &point_labels(&measures), tier)?;
    let requires = expectations_of(requires, &point_labels(&every), &point_labels(&measures), tier)?;
    Ok(Expanded { experiments: at_tier, measures, expect, requires })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::tolerance::Tolerance;
    use serde::Deserialize;

    fn claim(text: &str) -> (BTreeMap<String, Mapping>, Vec<MeasureSpec>, Vec<RawExpectation>) {
        #[derive(Deserialize)]
        struct Parts {
            experiments: BTreeMap<String, Mapping>,
            measures: Vec<MeasureSpec>,
            expect: Vec<RawExpectation>,
        }
        let p: Parts = serde_yaml::from_str(text).unwrap();
        (p.experiments, p.measures, p.expect)
    }

    const ETA: &str = r#"
experiments:
  eta:
    activation: sqr
    epochs: 600
    seeds: {paper: 5, quick: 1}
    grid:
      "1e-5": {eta: 1.0e-5}
      "5e-5": {eta: 5.0e-5}
      "5e-4": {eta: 5.0e-4, seeds: {quick: 0}}
measures:
  - {kind: milestones, condition: eta}
  - {kind: lead, label: all, conditions: ["eta[*]"], from: {series: rho, threshold: 0.075}, to: {series: test_acc, threshold: 0.5}}
expect:
  - {quantity: "eta[*].test_acc_99_reached_fraction", paper: [0, 1, 1], tolerance: {abs: 0}}
  - {quantity: "eta[*].test_acc_half_median", paper: [null, 300, null], tolerance: {abs: 5}}
  - {quantity: "eta[5e-4].test_acc_99_median", paper: 100, tolerance: {abs: 5}}
  - {quantity: all.positive_fraction, tolerance: {equals: 1}}
"#;

    #[test]
    fn a_grid_expands_into_named_points_measures_and_checks() {
        let (e, m, x) = claim(ETA);
        let paper = expand(&e, &m, [&x, &[]], Tier::Paper).unwrap();
        assert_eq!(paper.experiments.keys().collect::<Vec<_>>(), ["eta[1e-5]", "eta[5e-4]", "eta[5e-5]"]);
        assert_eq!(paper.experiments["eta[5e-5]"].eta, 5.0e-5);
        assert_eq!(
            paper.experiments["eta[5e-4]"].seeds.paper,
            [0, 1, 2, 3, 4],
            "a point's seeds override one tier only"
        );
        assert_eq!(paper.measures.len(), 4);
        assert_eq!(paper.measures[1].label(), Some("eta[5e-5]"));
        assert_eq!(paper.measures[3].conditions(), ["eta[1e-5]", "eta[5e-5]", "eta[5e-4]"]);
        let checks: Vec<(&str, Option<f64>)> = paper.expect.iter().map(|c| (c.quantity.as_str(), c.paper)).collect();
        assert_eq!(
            checks,
            [
                ("eta[1e-5].test_acc_99_reached_fraction", Some(0.0)),
                ("eta[5e-5].test_acc_99_reached_fraction", Some(1.0)),
                ("eta[5e-4].test_acc_99_reached_fraction", Some(1.0)),
                ("eta[5e-5].test_acc_half_median", Some(300.0)),
                ("eta[5e-4].test_acc_99_median", Some(100.0)),
                ("all.positive_fraction", None),
            ]
        );
    }

    #[test]
    fn a_tolerance_may_differ_per_tier() {
        let per_tier = "tolerance: {quick: {abs: 1}, paper: {abs: 0.5}}";
        let (e, m, x) = claim(&ETA.replace("tolerance: {abs: 5}", per_tier));
        let tolerance = |tier| {
            let checks = expand(&e, &m, [&x, &[]], tier).unwrap().expect;
            checks.into_iter().find(|c| c.quantity == "eta[5e-5].test_acc_half_median").unwrap().tolerance
        };
        assert_eq!((tolerance(Tier::Quick), tolerance(Tier::Paper)), (Tolerance::Abs(1.0), Tolerance::Abs(0.5)));
        let round_trip: RawExpectation = serde_yaml::from_str(&serde_yaml::to_string(&x[1]).unwrap()).unwrap();
        assert_eq!(round_trip, x[1]);
        for bad in ["{quick: {abs: 1}}", "{quick: {abs: 1}, paper: {abs: 0.5}, both: {abs: 2}}", "{abz: 1}"] {
            let parsed: Result<RawExpectation, _> = serde_yaml::from_str(&format!("{{quantity: q, tolerance: {bad}}}"));
            assert!(parsed.is_err(), "{bad}");
        }
    }

    #[test]
    fn a_point_with_no_quick_seeds_is_left_out_of_the_quick_tier() {
        let (e, m, x) = claim(ETA);
        let quick = expand(&e, &m, [&x, &[]], Tier::Quick).unwrap();
        assert!(!quick.experiments.contains_key("eta[5e-4]"));
        assert_eq!(quick.measures.len(), 3);
        assert_eq!(quick.measures[2].conditions(), ["eta[1e-5]", "eta[5e-5]"]);
        assert!(quick.expect.iter().all(|c| !c.quantity.contains("5e-4")), "{:?}", quick.expect);
        assert_eq!(quick.expect.len(), 4);
    }

    /// An ordering over a grid whose middle point runs no quick seeds names
    /// its steps by their points, the same at both tiers: `step[1e-5→5e-5]`
    /// is never the step from 1e-5 to 5e-4 (it was `step1` at both).
    #[test]
    fn an_orderings_steps_have_one_name_at_both_tiers() {
        let ordered = ETA
            .replace(r#""5e-4": {eta: 5.0e-4, seeds: {quick: 0}}"#, r#""5e-4": {eta: 5.0e-4}"#)
            .replace(r#""5e-5": {eta: 5.0e-5}"#, r#""5e-5": {eta: 5.0e-5, seeds: {quick: 0}}"#)
            + "  - {quantity: by_eta.ordered, tolerance: {equals: 1}}\n";
        let ordered = ordered.replace(
            "measures:\n",
            "measures:\n  - {kind: order, label: by_eta, conditions: [\"eta[*]\"], value: {detector: {}}, order: decreasing}\n",
        );
        let (e, m, x) = claim(&ordered);
        let [quick, paper] = [Tier::Quick, Tier::Paper].map(|t| expand(&e, &m, [&x, &[]], t).unwrap());
        let names = |t: &Expanded| t.measures[0].quantity_names();
        assert_eq!(names(&quick), names(&paper));
        assert!(names(&quick).contains(&"by_eta.step[1e-5→5e-5]_ci_high".to_string()), "{:?}", names(&quick));
        assert!(!names(&quick).iter().any(|n| n.contains("step[1e-5→5e-4]")));
        assert_eq!(quick.measures[0].conditions(), ["eta[1e-5]", "eta[5e-4]"], "the quick tier runs two points");
    }

    /// A point's `{quick: 0}` over a base given as one list keeps the list at the paper tier.
    #[test]
    fn a_point_can_leave_a_listed_seed_set_out_of_the_quick_tier() {
        let listed = ETA.replace("seeds: {paper: 5, quick: 1}", "seeds: [100, 104]");
        let (e, m, x) = claim(&listed);
        let paper = expand(&e, &m, [&x, &[]], Tier::Paper).unwrap();
        assert_eq!(paper.experiments["eta[5e-4]"].seeds.paper, [100, 104]);
        assert_eq!(paper.experiments["eta[1e-5]"].seeds.quick, [100, 104]);
        let quick = expand(&e, &m, [&x, &[]], Tier::Quick).unwrap();
        assert!(!quick.experiments.contains_key("eta[5e-4]"));
    }

    #[test]
    fn malformed_grids_and_tables_are_errors() {
        let bad = |from: &str, to: &str| {
            let (e, m, x) = claim(&ETA.replace(from, to));
            expand(&e, &m, [&x, &[]], Tier::Paper).unwrap_err()
        };
        assert_eq!(bad("[0, 1, 1]", "[0, 1]").field, "paper");
        assert!(bad("[0, 1, 1]", "[0, 1]").message.contains("2 values for 3 grid points"));
        assert_eq!(bad("\"1e-5\": {eta: 1.0e-5}", "1e-5: {eta: 1.0e-5}").field, "grid");
        assert_eq!(bad("\"1e-5\": {eta: 1.0e-5}", "\"a b\": {eta: 1.0e-5}").field, "grid");
        assert_eq!(bad("{eta: 5.0e-5}", "{etta: 5.0e-5}").field, "etta");
        assert_eq!(bad("\"eta[*].test", "\"nope[*].test").field, "quantity");
        assert_eq!(
            bad("quantity: all.positive_fraction, tolerance", "quantity: all.positive_fraction, paper: [1], tolerance")
                .field,
            "paper"
        );
        let no_points = "experiments:\n  eta: {activation: sqr, epochs: 600, seeds: {paper: 5, quick: 1}, grid: {}}\n";
        let (e, m, x) = claim(&format!("{no_points}measures: []\nexpect: []\n"));
        assert!(expand(&e, &m, [&x, &[]], Tier::Paper).unwrap_err().message.contains("no points"));
    }
}
