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

use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};

use super::experiment::{Experiment, check_name};
use super::grade::{Reading, Unit};
use super::measure::MeasureSpec;
use super::tolerance::Tolerance;
use super::{Problem, Tier};

fn problem<T>(field: &str, message: String) -> Result<T, Problem> {
    Err(Problem::new(field.to_string(), message))
}

/// The paper's value of an expectation: one number, or one per grid point.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PaperValue {
    /// `paper: 174`.
    One(f64),
    /// `paper: [0, 1, 1, 1, 1]`, in the grid's point order; `null` = no
    /// figure for that point (it is not checked).
    PerPoint(Vec<Option<f64>>),
}

/// Read by hand so that a wrong value says what `paper:` accepts (serde's
/// untagged enums only say that no variant matched).
impl<'de> Deserialize<'de> for PaperValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        const FORMS: &str = "a finite number (174, 0.865, 1.0e-5) or, for a `LABEL[*].name` quantity, a list \
                             with one number or null per grid point";
        let figure = |value: &Value| -> Result<Option<f64>, String> {
            match value {
                Value::Null => Ok(None),
                Value::Number(n) => match n.as_f64() {
                    Some(x) if x.is_finite() => Ok(Some(x)),
                    _ => Err(format!("`{n}` is not a figure: the paper prints finite numbers")),
                },
                Value::String(t) => Err(format!("`{t}` is text; quote nothing: write {FORMS}")),
                other => Err(format!("`{}` is not {FORMS}", serde_yaml::to_string(other).unwrap_or_default().trim())),
            }
        };
        match Value::deserialize(deserializer)? {
            Value::Sequence(values) => values.iter().map(figure).collect::<Result<_, _>>().map(PaperValue::PerPoint),
            Value::Null => Err(format!("empty: write {FORMS}, or leave `paper` out")),
            one => figure(&one).map(|x| PaperValue::One(x.expect("null handled above"))),
        }
        .map_err(|m| D::Error::custom(format!("paper: {m}")))
    }
}

/// One check as written: a quantity (possibly `LABEL[*].name`) against the paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectation {
    /// Name of a quantity the claim's measures produce; `LABEL[*].name` means every grid point.
    pub quantity: String,
    /// The paper's figure(s), if the check has one.
    #[serde(default)]
    pub paper: Option<PaperValue>,
    /// How close the measurement must be (a one-key map, e.g. `{abs: 5}`,
    /// or one per tier).
    pub tolerance: TierTolerance,
    /// What this check was found to do when last examined (default `holds`):
    /// one state, one per tier, or, for `LABEL[*].name`, a list per point.
    #[serde(default)]
    pub recorded: Option<Recorded>,
    /// One printed unit of the paper's figure, where the tolerance does not
    /// imply it (docs/claims.md, "Grades").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<f64>,
    /// `lockin` where the check's threshold, window, statistic or meaning
    /// of "≈" is lockin's choice, not the paper's.
    #[serde(default, skip_serializing_if = "Reading::is_paper")]
    pub reading: Reading,
}

/// What a check does: its value is inside the tolerance, outside it, or
/// not defined (NaN: no seed reached the event, or the probe is undefined).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    /// Inside its tolerance.
    #[default]
    Holds,
    /// Outside it.
    Fails,
    /// No value to compare.
    Undefined,
}

impl CheckState {
    /// The state of `measured` under `tolerance` (its bound resolved)
    /// against `paper`: undefined when either side is.
    pub fn of(measured: f64, tolerance: &Tolerance, paper: Option<f64>) -> Self {
        if measured.is_nan() || tolerance.bound_undefined() {
            CheckState::Undefined
        } else if tolerance.holds(measured, paper) {
            CheckState::Holds
        } else {
            CheckState::Fails
        }
    }
}

/// A check's recorded state, for both tiers or one per tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum TierState {
    /// `recorded: fails`.
    Both(CheckState),
    /// `recorded: {quick: holds, paper: fails}`.
    PerTier {
        /// At the quick tier.
        quick: CheckState,
        /// At the paper tier.
        paper: CheckState,
    },
}

impl TierState {
    fn at(self, tier: Tier) -> CheckState {
        match (self, tier) {
            (TierState::Both(s), _) => s,
            (TierState::PerTier { quick, .. }, Tier::Quick) => quick,
            (TierState::PerTier { paper, .. }, Tier::Paper) => paper,
        }
    }
}

/// `tolerance:` as written: one form for both tiers (`{abs: 0.5}`), or
/// one per tier (`{quick: {abs: 1}, paper: {abs: 0.5}}`, where the quick
/// tier's fewer seeds widen it: docs/claims.md, "Tolerances").
#[derive(Clone, Debug, PartialEq)]
pub enum TierTolerance {
    /// The same at both tiers.
    Both(Tolerance),
    /// One per tier.
    PerTier {
        /// At the quick tier.
        quick: Tolerance,
        /// At the paper tier.
        paper: Tolerance,
    },
}

impl TierTolerance {
    /// The tolerance at `tier`.
    pub fn at(&self, tier: Tier) -> &Tolerance {
        match (self, tier) {
            (TierTolerance::Both(t), _) => t,
            (TierTolerance::PerTier { quick, .. }, Tier::Quick) => quick,
            (TierTolerance::PerTier { paper, .. }, Tier::Paper) => paper,
        }
    }
}

impl Serialize for TierTolerance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct PerTier<'a> {
            #[serde(with = "serde_yaml::with::singleton_map")]
            quick: &'a Tolerance,
            #[serde(with = "serde_yaml::with::singleton_map")]
            paper: &'a Tolerance,
        }
        match self {
            TierTolerance::Both(t) => serde_yaml::with::singleton_map::serialize(t, s),
            TierTolerance::PerTier { quick, paper } => PerTier { quick, paper }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for TierTolerance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        let one = |v: &Value, field: &str| {
            serde_yaml::with::singleton_map::deserialize::<Tolerance, _>(v.clone())
                .map_err(|e| D::Error::custom(format!("{field}: {e}")))
        };
        let tiers = value.as_mapping().map(|m| (m.get("quick"), m.get("paper"), m.len()));
        match tiers {
            Some((Some(quick), Some(paper), 2)) => Ok(TierTolerance::PerTier {
                quick: one(quick, "tolerance.quick")?,
                paper: one(paper, "tolerance.paper")?,
            }),
            Some((None, None, _)) | None => one(&value, "tolerance").map(TierTolerance::Both),
            Some(_) => Err(D::Error::custom(
                "tolerance: one per tier names both tiers and nothing else: `{quick: {abs: 1}, paper: {abs: 0.5}}`",
            )),
        }
    }
}

/// `recorded:` as written: one state (per tier or not), or one per grid point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Recorded {
    /// The same for every point.
    One(TierState),
    /// One per point of a `LABEL[*].name` check, in the grid's order.
    PerPoint(Vec<TierState>),
}

impl Recorded {
    /// The state recorded for point `i` (of `points`) at `tier`.
    fn at(&self, i: usize, tier: Tier) -> CheckState {
        match self {
            Recorded::One(s) => s.at(tier),
            Recorded::PerPoint(states) => states[i].at(tier),
        }
    }
}

/// One check: a measured quantity against the paper's figure, and what it
/// was recorded to do at this tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    /// Name of a quantity the claim's measures produce.
    pub quantity: String,
    /// The paper's figure, if the check has one.
    pub paper: Option<f64>,
    /// How close the measurement must be.
    #[serde(with = "serde_yaml::with::singleton_map")]
    pub tolerance: Tolerance,
    /// The recorded state at this tier.
    pub recorded: CheckState,
    /// One printed unit of the paper's figure (from the paper tier's tolerance).
    pub unit: Unit,
    /// Whose reading the check is.
    pub reading: Reading,
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
            experiments.insert(name.clone(), typed(name, Value::Mapping(base))?);
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
            experiments.insert(condition.clone(), typed(&condition, Value::Mapping(merged))?);
            names.push(point);
        }
        grids.push(Grid { name: name.clone(), points: names });
    }
    Ok((experiments, grids))
}

/// A point's `seeds` may set one tier only (`{quick: 0}`).
fn merge_seeds(base: Option<&Value>, point: Value) -> Value {
    match (base, point) {
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
    parse(value.clone()).map_err(|message| {
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
        Problem::new(field.clone(), format!("experiment `{name}`: {field}: {message}"))
    })
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
    if let MeasureSpec::Lead(super::measure::lead::Lead { conditions, .. }) = &mut m {
        let mut expanded = Vec::new();
        for c in conditions.iter() {
            match reference(c, grids) {
                Reference::Pooled(g) => {
                    expanded.extend(g.points.iter().map(|p| point_condition(&g.name, p)).filter(|c| !absent(c)))
                }
                _ => expanded.push(c.clone()),
            }
        }
        *conditions = expanded;
    }
    if let Some(c) = m.conditions().iter().find(|c| matches!(reference(c, grids), Reference::Pooled(_))) {
        return problem("measures", format!("`{c}` pools a grid's points; only a `conditions:` list can pool"));
    }
    Ok(m.conditions().iter().all(|c| !absent(c)).then_some(m))
}

/// The expectations at a tier: `LABEL[*].name` repeated over the points the
/// measures produce; a check on a point not run at this tier is left out.
/// A given `unit:` is one printed unit: a number > 0.
fn check_unit(e: &RawExpectation) -> Result<(), Problem> {
    match e.unit.filter(|u| !(u.is_finite() && *u > 0.0)) {
        Some(unit) => problem("unit", format!("`{}`: one printed unit must be a number > 0, got {unit}", e.quantity)),
        None => Ok(()),
    }
}

/// The check `e` for `quantity` at `tier`: its tolerance there, and the
/// printed unit the paper tier's tolerance implies (docs/claims.md, "Grades").
fn expectation(
    e: &RawExpectation,
    quantity: String,
    paper: Option<f64>,
    recorded: CheckState,
    tier: Tier,
) -> Expectation {
    let unit = Unit::of(e.tolerance.at(Tier::Paper), paper, e.unit);
    Expectation { quantity, paper, tolerance: e.tolerance.at(tier).clone(), recorded, unit, reading: e.reading }
}

fn expectations_of(
    raw: &[RawExpectation],
    all_labels: &[String],
    tier_labels: &[String],
    tier: Tier,
) -> Result<Vec<Expectation>, Problem> {
    let mut out = Vec::new();
    for e in raw {
        check_unit(e)?;
        let recorded = |i: usize| e.recorded.as_ref().map_or(CheckState::Holds, |r| r.at(i, tier));
        let Some((prefix, name)) = e.quantity.split_once("[*].") else {
            let paper = match &e.paper {
                Some(PaperValue::PerPoint(_)) => {
                    return problem(
                        "paper",
                        format!("`{}`: a list of values needs a `LABEL[*].name` quantity", e.quantity),
                    );
                }
                Some(PaperValue::One(v)) => Some(*v),
                None => None,
            };
            let point_label = e.quantity.rsplit_once('.').map(|(l, _)| l.to_string());
            let absent = point_label.is_some_and(|l| all_labels.contains(&l) && !tier_labels.contains(&l));
            if matches!(e.recorded, Some(Recorded::PerPoint(_))) {
                return problem(
                    "recorded",
                    format!("`{}`: a list of states needs a `LABEL[*].name` quantity", e.quantity),
                );
            }
            if !absent {
                out.push(expectation(e, e.quantity.clone(), paper, recorded(0), tier));
            }
            continue;
        };
        let points: Vec<&String> = all_labels.iter().filter(|l| is_point_of(l, prefix)).collect();
        if points.is_empty() {
            return problem("quantity", format!("`{}`: no measure is labelled `{prefix}[POINT]`", e.quantity));
        }
        if let Some(PaperValue::PerPoint(values)) = &e.paper
            && values.len() != points.len()
        {
            return problem(
                "paper",
                format!("`{}`: {} values for {} grid points", e.quantity, values.len(), points.len()),
            );
        }
        if let Some(Recorded::PerPoint(states)) = &e.recorded
            && states.len() != points.len()
        {
            return problem(
                "recorded",
                format!("`{}`: {} states for {} grid points", e.quantity, states.len(), points.len()),
            );
        }
        for (i, label) in points.iter().enumerate() {
            let paper = match &e.paper {
                Some(PaperValue::One(v)) => Some(*v),
                Some(PaperValue::PerPoint(values)) if values[i].is_none() => continue,
                Some(PaperValue::PerPoint(values)) => values[i],
                None => None,
            };
            if !tier_labels.contains(label) {
                continue;
            }
            out.push(expectation(e, format!("{label}.{name}"), paper, recorded(i), tier));
        }
    }
    Ok(out)
}

/// Whether `label` is `prefix[point]`.
fn is_point_of(label: &str, prefix: &str) -> bool {
    label.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'))
}

/// The labels of grid-point measures, in order, without repeats.
fn point_labels(measures: &[MeasureSpec]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for l in measures.iter().filter_map(|m| m.label()).filter(|l| l.ends_with(']')) {
        if !labels.iter().any(|x| x == l) {
            labels.push(l.to_string());
        }
    }
    labels
}

/// Expand a claim's experiments, measures and expectations for `tier`.
pub fn expand(
    experiments: &BTreeMap<String, Mapping>,
    measures: &[MeasureSpec],
    expect: &[RawExpectation],
    tier: Tier,
) -> Result<Expanded, Problem> {
    let (all, grids) = experiments_of(experiments)?;
    let at_tier: BTreeMap<String, Experiment> =
        all.iter().filter(|(_, e)| e.seeds.at(tier) > 0).map(|(n, e)| (n.clone(), e.clone())).collect();
    let every = measures_of(measures, &grids, &|_| false)?;
    let absent = |c: &str| all.contains_key(c) && !at_tier.contains_key(c);
    let measures = measures_of(measures, &grids, &absent)?;
    let expect = expectations_of(expect, &point_labels(&every), &point_labels(&measures), tier)?;
    Ok(Expanded { experiments: at_tier, measures, expect })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let paper = expand(&e, &m, &x, Tier::Paper).unwrap();
        assert_eq!(paper.experiments.keys().collect::<Vec<_>>(), ["eta[1e-5]", "eta[5e-4]", "eta[5e-5]"]);
        assert_eq!(paper.experiments["eta[5e-5]"].eta, 5.0e-5);
        assert_eq!(paper.experiments["eta[5e-4]"].seeds.paper, 5, "a point's seeds override one tier only");
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
            let checks = expand(&e, &m, &x, tier).unwrap().expect;
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
        let quick = expand(&e, &m, &x, Tier::Quick).unwrap();
        assert!(!quick.experiments.contains_key("eta[5e-4]"));
        assert_eq!(quick.measures.len(), 3);
        assert_eq!(quick.measures[2].conditions(), ["eta[1e-5]", "eta[5e-5]"]);
        assert!(quick.expect.iter().all(|c| !c.quantity.contains("5e-4")), "{:?}", quick.expect);
        assert_eq!(quick.expect.len(), 4);
    }

    #[test]
    fn malformed_grids_and_tables_are_errors() {
        let bad = |from: &str, to: &str| {
            let (e, m, x) = claim(&ETA.replace(from, to));
            expand(&e, &m, &x, Tier::Paper).unwrap_err()
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
        assert!(expand(&e, &m, &x, Tier::Paper).unwrap_err().message.contains("no points"));
    }
}
