//! `kind: order`: one value per seed at each of a list of conditions (a
//! grid's points, `["eta[*]"]`), whether their medians run in the stated
//! order, and the shift of each step with its exact interval (docs/claims.md,
//! "Comparisons with statistics"; [`super::shift`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::compare::{
    PerSeed, check_distinct, check_interval_seeds, check_level, check_pairing, interval_names, level, report_shift,
    seed_count, shift_names,
};
use super::shift::Shift;
use super::{Inputs, Kind, Measurement};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::tier::Tier;
use crate::claims::value::{SeedValue, Value, quantile, values_of};
use crate::train::LevelLog;

/// Which way the medians must run along the conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Each point's median above the one before.
    Increasing,
    /// Each point's median below the one before.
    Decreasing,
}

/// The medians of a per-seed value along conditions, in a stated order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// The conditions in order (`["eta[*]"]`: a grid's points as written).
    pub conditions: Vec<String>,
    /// What each seed contributes.
    #[serde(with = "serde_yaml::with::singleton_map")]
    pub value: PerSeed,
    /// `increasing` or `decreasing`.
    pub order: Direction,
    /// Strictly (default), or allowing equal medians.
    #[serde(default = "strict")]
    pub strict: bool,
    /// Steps paired over the same seeds (default), or unpaired.
    #[serde(default = "paired")]
    pub paired: bool,
    /// The level of each step's interval (default 0.95).
    #[serde(default = "level")]
    pub confidence: f64,
    /// Every point of `conditions` as written, those a tier does not run
    /// included (set by grid expansion; empty: `conditions`). Steps are
    /// named by these points, so a step has one name at both tiers.
    #[serde(skip)]
    pub written: Vec<String>,
}

fn strict() -> bool {
    true
}

fn paired() -> bool {
    true
}

/// Whether `next` follows `previous` in `order`: 1, 0, or [0, 1] when
/// their bounds leave it open.
fn in_order(previous: Value, next: Value, order: Direction, strict: bool) -> Value {
    let (low, high) = match order {
        Direction::Increasing => (previous, next),
        Direction::Decreasing => (next, previous),
    };
    let surely = if strict { low.hi < high.lo } else { low.hi <= high.lo };
    let surely_not = if strict { low.lo >= high.hi } else { low.lo > high.hi };
    match (low.is_undefined() || high.is_undefined(), surely, surely_not) {
        (true, ..) => Value::between(0.0, 1.0),
        (false, true, _) => Value::exact(1.0),
        (false, _, true) => Value::exact(0.0),
        _ => Value::between(0.0, 1.0),
    }
}

/// The sum of values, bounds added.
fn sum(values: &[Value]) -> Value {
    values.iter().fold(Value::exact(0.0), |acc, v| Value::between(acc.lo + v.lo, acc.hi + v.hi))
}

impl Kind for Order {
    condition_list!();

    fn level_needs(&self, e: &Experiment) -> Option<LevelLog> {
        self.value.level_log(e)
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        if self.conditions.len() < 2 {
            return Err(Problem::new("conditions".into(), "an order needs at least two conditions".into()));
        }
        check_level(self.confidence)?;
        check_distinct(&self.conditions())?;
        if self.paired {
            check_pairing(&self.conditions(), experiments)?;
        }
        let last = self.conditions.iter().map(|c| experiments[c].epochs).min().unwrap_or(0);
        self.value.validate(last)
    }

    fn needs(&self) -> Vec<String> {
        self.value.needs()
    }

    fn quantity_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            ["steps", "ordered", "steps_in_order", "max_ci_high", "min_ci_low"].map(String::from).to_vec();
        names.extend(self.points().iter().map(|p| format!("median[{}]", self.name_of(p))));
        for [from, to] in self.steps() {
            names.extend(shift_names(&self.step_prefix(from, to), self.paired));
        }
        names
    }

    fn check_seeds(
        &self,
        experiments: &BTreeMap<String, Experiment>,
        read: &[&str],
        tier: Tier,
    ) -> Result<(), Problem> {
        let seeds = |c: &str| seed_count(experiments, c, tier);
        for [from, to] in self.steps() {
            let mut names = interval_names(&self.step_prefix(from, to)).to_vec();
            names.extend(["max_ci_high", "min_ci_low"].map(String::from));
            check_interval_seeds(&names, read, [seeds(to), seeds(from)], self.paired, self.confidence, tier)?;
        }
        Ok(())
    }

    fn keep_written(&mut self, written: Vec<String>) {
        self.written = written;
    }

    fn seed_counts(&self) -> Vec<String> {
        let mut names = vec!["steps".to_string(), "steps_in_order".into(), "ordered".into()];
        for [from, to] in self.steps() {
            names.extend(["pairs", "p_a_below_b"].map(|n| format!("{}{n}", self.step_prefix(from, to))));
        }
        names
    }

    fn rho_thresholds(&self) -> Vec<f64> {
        self.value.rho_threshold().into_iter().collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let mut values = BTreeMap::new();
        for c in &self.conditions {
            values.insert(c.as_str(), self.value.per_seed(inputs, c)?);
        }
        if let Some(first) = self.value.first_epoch() {
            for (c, v) in &values {
                out.warn_if_at_start(c, &values_of(v), first, self.quantity_names());
            }
        }
        let median = |c: &str| values.get(c).map_or(Value::undefined(), |v| quantile(&values_of(v), 0.5));
        // A step through a point this tier does not run may or may not be in order.
        let in_steps: Vec<Value> = self
            .steps()
            .iter()
            .map(|[from, to]| match (values.contains_key(from), values.contains_key(to)) {
                (true, true) => in_order(median(from), median(to), self.order, self.strict),
                _ => Value::between(0.0, 1.0),
            })
            .collect();
        out.set("steps", in_steps.len() as f64);
        out.set_value("ordered", all_in_order(&in_steps));
        out.set_value("steps_in_order", sum(&in_steps));
        let (highs, lows) = self.report_steps(&values, out)?;
        out.set_value("max_ci_high", quantile(&highs, 1.0));
        out.set_value("min_ci_low", quantile(&lows, 0.0));
        for point in self.points() {
            out.set_value(format!("median[{}]", self.name_of(point)), median(point));
        }
        Ok(())
    }
}

impl Order {
    /// Each step's shift under its name, undefined where a point of it does
    /// not run at this tier; the steps' interval ends (highs, lows).
    fn report_steps(
        &self,
        values: &BTreeMap<&str, Vec<SeedValue>>,
        out: &mut Measurement,
    ) -> anyhow::Result<(Vec<Value>, Vec<Value>)> {
        let (mut highs, mut lows) = (Vec::new(), Vec::new());
        let overall = ["max_ci_high", "min_ci_low"].map(String::from);
        for [from, to] in self.steps() {
            // A step compares its second point (a) with its first (b).
            let prefix = self.step_prefix(from, to);
            let Some((a, b)) = values.get(to).zip(values.get(from)) else {
                for name in shift_names(&prefix, self.paired) {
                    out.set_value(name, Value::undefined());
                }
                highs.push(Value::undefined());
                lows.push(Value::undefined());
                continue;
            };
            let shift = self.shift(a, b)?;
            let sides = if self.paired { [shift.pairs; 2] } else { [a.len(), b.len()] };
            report_shift(out, &prefix, &shift, (sides, &overall), self.confidence);
            highs.push(shift.ci_high);
            lows.push(shift.ci_low);
        }
        Ok((highs, lows))
    }

    /// A point's name in quantity names: its grid point (`1e-5` of
    /// `eta[1e-5]`) where every point's is distinct, else the condition.
    fn name_of<'a>(&self, condition: &'a str) -> &'a str {
        let points: Vec<&str> = self.points().iter().map(|c| point_of(c)).collect();
        let distinct = points.iter().enumerate().all(|(i, p)| !points[..i].contains(p));
        if distinct { point_of(condition) } else { condition }
    }

    /// A step's name prefix, by its two points: `step[1e-5→5e-5]_` for the
    /// grid points `eta[1e-5]` and `eta[5e-5]`, `step[fast→base]_` for plain
    /// conditions.
    fn step_prefix(&self, from: &str, to: &str) -> String {
        format!("step[{}→{}]_", self.name_of(from), self.name_of(to))
    }

    /// The points as written (with those this tier does not run).
    fn points(&self) -> &[String] {
        if self.written.is_empty() { &self.conditions } else { &self.written }
    }

    /// The steps as pairs of consecutive points as written.
    fn steps(&self) -> Vec<[&str; 2]> {
        self.points().windows(2).map(|w| [w[0].as_str(), w[1].as_str()]).collect()
    }

    /// The shift of `a` against `b`, paired or not.
    fn shift(&self, a: &[SeedValue], b: &[SeedValue]) -> anyhow::Result<Shift> {
        Ok(if self.paired {
            Shift::paired(a, b, self.confidence)?
        } else {
            Shift::unpaired(&values_of(a), &values_of(b), self.confidence)
        })
    }
}

/// 1 when every step is in order, 0 when one surely is not, [0, 1] else.
fn all_in_order(steps: &[Value]) -> Value {
    if steps.iter().all(|s| s.number() == Some(1.0)) {
        Value::exact(1.0)
    } else if steps.iter().any(|s| s.number() == Some(0.0)) {
        Value::exact(0.0)
    } else {
        Value::between(0.0, 1.0)
    }
}

/// The point of a grid-point condition `grid[point]`, or the name itself.
fn point_of(condition: &str) -> &str {
    match condition.strip_suffix(']').and_then(|c| c.split_once('[')) {
        Some((_, point)) => point,
        None => condition,
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{run, sign_rule, with_seeds};
    use super::*;

    /// The quick tier of a three-point ordering whose middle point it does
    /// not run: both steps touch the absent point and are undefined; the
    /// order is judged on the medians of the points run.
    #[test]
    fn a_step_through_an_absent_point_is_undefined() {
        let spec: MeasureSpec = serde_yaml::from_str(
            "{kind: order, label: o, conditions: [\"g[a]\", \"g[c]\"], value: {detector: {}}, order: increasing}",
        )
        .unwrap();
        let MeasureSpec::Order(mut order) = spec else { unreachable!() };
        order.keep_written(["g[a]", "g[b]", "g[c]"].map(String::from).to_vec());
        let spec = MeasureSpec::Order(order);
        let runs = |c: &str| {
            let jump = if c == "g[a]" { 150 } else { 250 };
            Ok(with_seeds((0..6).map(|s| run(400, 20, 50, jump + s)).collect()))
        };
        let m = spec.measure(&runs, &|_, e, p| Ok(sign_rule(0.8, e, p))).unwrap();
        for step in ["o.step[a→b]_ci_high", "o.step[b→c]_median_difference"] {
            assert!(m.value(step).is_undefined(), "{step}: {:?}", m.value(step));
        }
        assert!(m.value("o.median[b]").is_undefined());
        assert_eq!((m.number("o.median[a]"), m.number("o.median[c]")), (152.5, 252.5));
        assert_eq!(m.value("o.ordered").describe(), "in [0, 1]", "the middle point may be out of order");
        assert_eq!(m.number("o.steps"), 2.0, "the steps as written, at every tier");
        assert_eq!(m.value("o.max_ci_high"), Value::undefined(), "no step was measured");
    }

    #[test]
    fn steps_are_in_order_where_the_bounds_say_so() {
        let d = Direction::Decreasing;
        assert_eq!(in_order(Value::exact(300.0), Value::exact(200.0), d, true), Value::exact(1.0));
        assert_eq!(in_order(Value::exact(200.0), Value::exact(200.0), d, true), Value::exact(0.0));
        assert_eq!(in_order(Value::exact(200.0), Value::exact(200.0), d, false), Value::exact(1.0));
        assert_eq!(
            in_order(Value::at_least(601.0), Value::exact(400.0), d, true),
            Value::exact(1.0),
            "never, then 400"
        );
        assert_eq!(in_order(Value::at_least(601.0), Value::at_least(601.0), d, true).describe(), "in [0, 1]");
        assert_eq!(in_order(Value::exact(100.0), Value::exact(150.0), Direction::Increasing, true), Value::exact(1.0));
    }
}
