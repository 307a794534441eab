//! `kind: order`: one value per seed at each of a list of conditions (a
//! grid's points, `["eta[*]"]`), whether their medians run in the stated
//! order, and the shift of each step with its exact interval (docs/claims.md,
//! "Comparisons with statistics"; [`super::shift`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::compare::{PerSeed, SHIFT_NAMES, check_distinct, check_level, check_pairing, level, report_shift};
use super::shift::Shift;
use super::{Inputs, Kind, Measurement};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::{Value, quantile};
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
        (true, ..) => Value { lo: 0.0, hi: 1.0 },
        (false, true, _) => Value::exact(1.0),
        (false, _, true) => Value::exact(0.0),
        _ => Value { lo: 0.0, hi: 1.0 },
    }
}

/// The sum of values, bounds added.
fn sum(values: &[Value]) -> Value {
    values.iter().fold(Value::exact(0.0), |acc, v| Value { lo: acc.lo + v.lo, hi: acc.hi + v.hi })
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
        for step in 1..self.conditions.len() {
            names.extend(SHIFT_NAMES.iter().map(|n| format!("step{step}_{n}")));
        }
        names
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let mut values = Vec::new();
        for c in &self.conditions {
            values.push((inputs.runs)(c)?.iter().map(|r| self.value.of(r)).collect::<Vec<Value>>());
        }
        if let Some(first) = self.value.first_epoch() {
            for (c, v) in self.conditions.iter().zip(&values) {
                out.warn_if_at_start(c, v, first);
            }
        }
        let medians: Vec<Value> = values.iter().map(|v| quantile(v, 0.5)).collect();
        let steps: Vec<Value> = medians.windows(2).map(|m| in_order(m[0], m[1], self.order, self.strict)).collect();
        let ordered = if steps.iter().all(|s| s.number() == Some(1.0)) {
            Value::exact(1.0)
        } else if steps.iter().any(|s| s.number() == Some(0.0)) {
            Value::exact(0.0)
        } else {
            Value { lo: 0.0, hi: 1.0 }
        };
        out.set("steps", steps.len() as f64);
        out.set_value("ordered", ordered);
        out.set_value("steps_in_order", sum(&steps));
        let mut shifts = Vec::new();
        for (step, pair) in values.windows(2).enumerate() {
            // Step k compares point k + 1 (a) with point k (b).
            let (a, b) = (&pair[1], &pair[0]);
            let shift =
                if self.paired { Shift::paired(a, b, self.confidence) } else { Shift::unpaired(a, b, self.confidence) };
            report_shift(out, &format!("step{}_", step + 1), &shift, self.confidence);
            shifts.push(shift);
        }
        out.set_value("max_ci_high", quantile(&shifts.iter().map(|s| s.ci_high).collect::<Vec<_>>(), 1.0));
        out.set_value("min_ci_low", quantile(&shifts.iter().map(|s| s.ci_low).collect::<Vec<_>>(), 0.0));
        out.set_per_seed("median", &medians);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
