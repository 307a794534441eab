//! A claim file's expectations (docs/claims.md, "Fields"): the paper's
//! figure, the tolerance per tier, the recorded state, and how each becomes
//! one check per quantity, or one per grid point where its quantity reads
//! `LABEL[*].name` (docs/claims.md, "Grids").

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::grade::{Reading, Unit};
use super::problem::Problem;
use super::tier::Tier;
use super::tolerance::Tolerance;

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
    /// Why the tolerance is what it is, where the tolerance rule alone does
    /// not say (docs/claims.md, "The tolerance rule"); docs/tolerances.md
    /// quotes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
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
    /// The word a claim file records it by: `holds`, `fails`, `undefined`.
    pub fn word(self) -> &'static str {
        match self {
            CheckState::Holds => "holds",
            CheckState::Fails => "fails",
            CheckState::Undefined => "undefined",
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
        // Each form is checked here, where it is read (a factor ≥ 1, a
        // finite bound, ...): nothing downstream checks the form again.
        let one = |v: &Value, field: &str, tier: &str| {
            let t = serde_yaml::with::singleton_map::deserialize::<Tolerance, _>(v.clone())
                .map_err(|e| D::Error::custom(format!("{field}: {e}")))?;
            match t.problem() {
                Some(problem) => Err(D::Error::custom(format!("{field}: {tier}{problem}"))),
                None => Ok(t),
            }
        };
        let tiers = value.as_mapping().map(|m| (m.get("quick"), m.get("paper"), m.len()));
        match tiers {
            Some((Some(quick), Some(paper), 2)) => Ok(TierTolerance::PerTier {
                quick: one(quick, "tolerance.quick", "at the quick tier: ")?,
                paper: one(paper, "tolerance.paper", "at the paper tier: ")?,
            }),
            Some((None, None, _)) | None => one(&value, "tolerance", "").map(TierTolerance::Both),
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
    pub fn at(&self, i: usize, tier: Tier) -> CheckState {
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

/// A given `unit:` is one printed unit: a number > 0, on a tolerance that
/// counts its miss in units (a `factor` counts decades); a `rel` tolerance
/// needs a paper figure other than 0 (it would be ±0); and a figure is a
/// number as the paper prints it (docs/claims.md, "Grades").
fn check_unit(e: &RawExpectation) -> Result<(), Problem> {
    if let Some(unit) = e.unit.filter(|u| !(u.is_finite() && *u > 0.0)) {
        return problem("unit", format!("`{}`: one printed unit must be a number > 0, got {unit}", e.quantity));
    }
    let tolerances = [e.tolerance.at(Tier::Quick), e.tolerance.at(Tier::Paper)];
    if e.unit.is_some() && tolerances.iter().any(|t| t.needs_decades()) {
        return problem(
            "unit",
            format!("`{}`: a `factor` tolerance counts its miss in decades; drop `unit:`", e.quantity),
        );
    }
    let figures: Vec<f64> = match &e.paper {
        Some(PaperValue::One(p)) => vec![*p],
        Some(PaperValue::PerPoint(values)) => values.iter().flatten().copied().collect(),
        None => Vec::new(),
    };
    if tolerances.iter().any(|t| matches!(t, Tolerance::Rel(_))) && figures.contains(&0.0) {
        return problem("tolerance", format!("`{}`: `rel` of a paper figure 0 is ±0; use `abs`", e.quantity));
    }
    let bounds = tolerances.iter().flat_map(|t| t.written_numbers());
    match figures.into_iter().chain(bounds).find(|x| !printable(*x)) {
        Some(x) => problem(
            "paper",
            format!("`{}`: {x} has more digits than a printed figure; write it as the paper prints it", e.quantity),
        ),
        None => Ok(()),
    }
}

/// Whether `x` is a figure as a paper prints it: at most 15 significant
/// digits in its shortest form, so its last digit is one the text shows
/// (0.30000000000000004 is not; 0.3 is).
fn printable(x: f64) -> bool {
    let text = format!("{:e}", x.abs());
    let mantissa = text.split_once('e').map_or(text.as_str(), |(m, _)| m);
    mantissa.chars().filter(char::is_ascii_digit).count() <= 15
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
    let unit = Unit::of(e.tolerance.at(Tier::Paper), paper, e.unit, e.reading);
    Expectation { quantity, paper, tolerance: e.tolerance.at(tier).clone(), recorded, unit, reading: e.reading }
}

/// The checks of one tier: each raw expectation as one check, or one per
/// grid point where its quantity reads `LABEL[*].name` (over the points
/// the measures produce); a check on a point not run at this tier is left out.
pub(super) fn expectations_of(
    raw: &[RawExpectation],
    all_labels: &[String],
    tier_labels: &[String],
    tier: Tier,
) -> Result<Vec<Expectation>, Problem> {
    let mut out = Vec::new();
    for e in raw {
        check_unit(e)?;
        match e.quantity.split_once("[*].") {
            None => out.extend(single_check(e, all_labels, tier_labels, tier)?),
            Some((prefix, name)) => out.extend(point_checks(e, (prefix, name), all_labels, tier_labels, tier)?),
        }
    }
    Ok(out)
}

/// The state `e` records for its `i`-th check at `tier` (holds if none).
fn recorded_at(e: &RawExpectation, i: usize, tier: Tier) -> CheckState {
    e.recorded.as_ref().map_or(CheckState::Holds, |r| r.at(i, tier))
}

/// The check of an expectation on one quantity; none where the quantity
/// belongs to a grid point this tier does not run.
fn single_check(
    e: &RawExpectation,
    all_labels: &[String],
    tier_labels: &[String],
    tier: Tier,
) -> Result<Option<Expectation>, Problem> {
    let paper = match &e.paper {
        Some(PaperValue::PerPoint(_)) => {
            return problem("paper", format!("`{}`: a list of values needs a `LABEL[*].name` quantity", e.quantity));
        }
        Some(PaperValue::One(v)) => Some(*v),
        None => None,
    };
    if matches!(e.recorded, Some(Recorded::PerPoint(_))) {
        return problem("recorded", format!("`{}`: a list of states needs a `LABEL[*].name` quantity", e.quantity));
    }
    let point_label = e.quantity.rsplit_once('.').map(|(l, _)| l.to_string());
    let absent = point_label.is_some_and(|l| all_labels.contains(&l) && !tier_labels.contains(&l));
    Ok((!absent).then(|| expectation(e, e.quantity.clone(), paper, recorded_at(e, 0, tier), tier)))
}

/// One check per grid point `prefix[POINT]` of an expectation on
/// `prefix[*].name`, skipping points without a paper value and points
/// this tier does not run.
fn point_checks(
    e: &RawExpectation,
    (prefix, name): (&str, &str),
    all_labels: &[String],
    tier_labels: &[String],
    tier: Tier,
) -> Result<Vec<Expectation>, Problem> {
    let points: Vec<&String> = all_labels.iter().filter(|l| is_point_of(l, prefix)).collect();
    if points.is_empty() {
        return problem("quantity", format!("`{}`: no measure is labelled `{prefix}[POINT]`", e.quantity));
    }
    if let Some(PaperValue::PerPoint(values)) = &e.paper
        && values.len() != points.len()
    {
        return problem("paper", format!("`{}`: {} values for {} grid points", e.quantity, values.len(), points.len()));
    }
    if let Some(Recorded::PerPoint(states)) = &e.recorded
        && states.len() != points.len()
    {
        return problem(
            "recorded",
            format!("`{}`: {} states for {} grid points", e.quantity, states.len(), points.len()),
        );
    }
    let run_here: std::collections::HashSet<&String> = tier_labels.iter().collect();
    let mut out = Vec::new();
    for (i, label) in points.iter().enumerate() {
        let paper = match &e.paper {
            Some(PaperValue::One(v)) => Some(*v),
            Some(PaperValue::PerPoint(values)) if values[i].is_none() => continue,
            Some(PaperValue::PerPoint(values)) => values[i],
            None => None,
        };
        if run_here.contains(label) {
            out.push(expectation(e, format!("{label}.{name}"), paper, recorded_at(e, i, tier), tier));
        }
    }
    Ok(out)
}

/// Whether `label` is `prefix[point]`.
fn is_point_of(label: &str, prefix: &str) -> bool {
    label.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'))
}
