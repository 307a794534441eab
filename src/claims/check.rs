//! One check of a claim, judged (docs/claims.md, "Tolerances" and
//! "Censored events"): the measured value against its tolerance, its state,
//! margin, miss and grade.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::expectation::{CheckState, Expectation};
use super::grade::{self, Figure, Grade, Reading, Unit};
use super::tolerance::Tolerance;
use super::value::Value;

/// One expectation, judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Quantity name.
    pub quantity: String,
    /// The paper's figure.
    pub paper: Option<f64>,
    /// The tolerance (`{"abs": 5}` in JSON).
    #[serde(with = "serde_yaml::with::singleton_map")]
    pub tolerance: Tolerance,
    /// The measured value: a number, bounds (a censored event, or a
    /// statistic over one; docs/claims.md, "Censored events"), or undefined.
    pub measured: Value,
    /// The value of the quantity a bound names (`{below: base.x}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<Value>,
    /// Whether it is inside the tolerance.
    pub holds: bool,
    /// What it does now: holds, fails, or undefined.
    pub state: CheckState,
    /// What it was recorded to do at this tier; the check passes when the two agree.
    pub recorded: CheckState,
    /// How far inside (> 0) or outside (< 0) the tolerance, in the
    /// quantity's units ([`Tolerance::margin`]; null = undefined).
    #[serde(with = "crate::nullable")]
    pub margin: f64,
    /// How far it misses the paper, in printed units (decades for a
    /// factor; [`grade::miss`]; null = undefined).
    #[serde(with = "crate::nullable", default = "undefined")]
    pub miss: f64,
    /// exact, near or far (docs/claims.md, "Grades").
    #[serde(default = "far")]
    pub grade: Grade,
    /// One printed unit of the paper's figure, the miss's unit.
    #[serde(default = "one_unit")]
    pub unit: Unit,
    /// `lockin` where the check is lockin's reading of the paper.
    #[serde(default, skip_serializing_if = "Reading::is_paper")]
    pub reading: Reading,
}

fn undefined() -> f64 {
    f64::NAN
}

fn far() -> Grade {
    Grade::Far
}

fn one_unit() -> Unit {
    Unit::Step(1.0)
}

impl CheckResult {
    /// Judge check `e` on the claim's values (`value(quantity)`). A value
    /// or named bound known only by bounds holds when every value they
    /// allow holds, fails when none does, and is undefined otherwise; its
    /// margin and miss are then those of the nearest end (docs/claims.md,
    /// "Censored events").
    /// `figure` says whether the quantity counts seeds (never `near`).
    pub fn judge(e: &Expectation, value: &dyn Fn(&str) -> Value, figure: Figure) -> Self {
        let measured = value(&e.quantity);
        let bound = e.tolerance.reference().map(value);
        let (state, at, tolerance) = state_of(measured, &e.tolerance, bound, e.paper);
        let miss = grade::miss(at, &tolerance, e.paper, e.unit);
        CheckResult {
            quantity: e.quantity.clone(),
            paper: e.paper,
            tolerance: e.tolerance.clone(),
            measured,
            bound,
            holds: state == CheckState::Holds,
            state,
            recorded: e.recorded,
            margin: tolerance.margin(at, e.paper),
            miss,
            grade: grade::grade(state == CheckState::Holds, miss, &tolerance, e.unit, figure),
            unit: e.unit,
            reading: e.reading,
        }
    }

    /// The measured value.
    pub fn value(&self) -> Value {
        self.measured
    }

    /// Whether nothing was measured for this check: its state is undefined
    /// and its value has not even bounds (docs/claims.md, "Verdicts").
    pub fn measured_nothing(&self) -> bool {
        self.state == CheckState::Undefined && !self.measured.is_bounded()
    }

    /// The tolerance as written, with the value of a quantity it names:
    /// "< base.fire_epoch_median (≥ 301)".
    pub fn tolerance_text(&self) -> String {
        match self.bound {
            Some(v) => format!("{} ({})", self.tolerance.describe(), v.describe()),
            None => self.tolerance.describe(),
        }
    }

    /// "quantity VALUE against PAPER TOLERANCE (state)", for messages.
    pub fn describe(&self) -> String {
        let against = match self.paper {
            Some(p) => format!("{} {}", crate::format::num(p), self.tolerance_text()),
            None => self.tolerance_text(),
        };
        let state = format!("{:?}", self.state).to_lowercase();
        format!("{} {} against {against} ({state})", self.quantity, self.value().describe())
    }

    /// Whether the check does what was recorded.
    pub fn as_recorded(&self) -> bool {
        self.state == self.recorded
    }
}

/// The state of `measured` under `tolerance` (whose named bound, if any,
/// is `bound`), with the number its margin and miss are read at and the
/// tolerance resolved there. Exact values reduce to [`Tolerance::holds`].
fn state_of(
    measured: Value,
    tolerance: &Tolerance,
    bound: Option<Value>,
    paper: Option<f64>,
) -> (CheckState, f64, Tolerance) {
    let bound = bound.unwrap_or(Value::exact(tolerance.bound_value().unwrap_or(0.0)));
    let bound_undefined = bound.is_undefined() || bound.number().is_some_and(|b| !b.is_finite());
    // The tolerance at the end of the bound that accepts fewest values
    // (for "holds") and most (for "fails").
    let at = |b: f64| tolerance.resolved(|_| b);
    let (strict, loose) =
        if tolerance.widens_with_bound() { (at(bound.lo), at(bound.hi)) } else { (at(bound.hi), at(bound.lo)) };
    if measured.is_undefined() || bound_undefined {
        return (CheckState::Undefined, f64::NAN, strict);
    }
    let (lo, hi) = (measured.lo, measured.hi);
    if strict.side(lo, paper) == Ordering::Equal && strict.side(hi, paper) == Ordering::Equal {
        let least = if strict.margin(lo, paper) <= strict.margin(hi, paper) { lo } else { hi };
        return (CheckState::Holds, least, strict);
    }
    match (loose.side(lo, paper), loose.side(hi, paper)) {
        (Ordering::Greater, Ordering::Greater) => (CheckState::Fails, lo, loose),
        (Ordering::Less, Ordering::Less) => (CheckState::Fails, hi, loose),
        _ => (CheckState::Undefined, f64::NAN, strict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::tolerance::Bound;

    fn state(measured: Value, tolerance: Tolerance, bound: Option<Value>) -> CheckState {
        state_of(measured, &tolerance, bound, Some(100.0)).0
    }

    /// "lr 2e-3 fires earlier than lr 1e-3": 196 against a base that never
    /// fired by epoch 300 holds; 350 against it is undetermined.
    #[test]
    fn an_earlier_event_holds_against_a_censored_base() {
        let below = || Tolerance::Below(Bound::Quantity("base.fire_epoch_median".into()));
        let never = Some(Value::at_least(301.0));
        assert_eq!(state(Value::exact(196.0), below(), never), CheckState::Holds);
        assert_eq!(state(Value::exact(350.0), below(), never), CheckState::Undefined);
        assert_eq!(state(Value::at_least(301.0), below(), never), CheckState::Undefined, "both censored");
        let above = Tolerance::Above(Bound::Quantity("base.fire_epoch_median".into()));
        assert_eq!(state(Value::exact(196.0), above, never), CheckState::Fails);
    }

    #[test]
    fn a_censored_value_holds_or_fails_where_every_value_it_allows_does() {
        let every_seed_by_300 = Tolerance::Below(300.0.into());
        assert_eq!(state(Value::at_least(401.0), every_seed_by_300, None), CheckState::Fails);
        assert_eq!(state(Value::at_least(401.0), Tolerance::AtLeast(400.0.into()), None), CheckState::Holds);
        assert_eq!(state(Value::at_least(401.0), Tolerance::AtLeast(500.0.into()), None), CheckState::Undefined);
        assert_eq!(state(Value::at_least(301.0), Tolerance::Abs(5.0), None), CheckState::Fails, "paper 100");
        assert_eq!(state(Value { lo: 98.0, hi: 99.0 }, Tolerance::Abs(5.0), None), CheckState::Holds);
        assert_eq!(state(Value { lo: 90.0, hi: 110.0 }, Tolerance::Abs(5.0), None), CheckState::Undefined);
        assert_eq!(state(Value::undefined(), Tolerance::AtLeast(0.0.into()), None), CheckState::Undefined);
    }

    /// Exact values are judged as `Tolerance::holds` judges them.
    #[test]
    fn exact_values_reduce_to_holds() {
        for m in [94.0, 95.0, 100.0, 105.0, 105.5, f64::INFINITY] {
            let expected =
                if Tolerance::Abs(5.0).holds(m, Some(100.0)) { CheckState::Holds } else { CheckState::Fails };
            assert_eq!(state(Value::exact(m), Tolerance::Abs(5.0), None), expected, "{m}");
        }
        assert_eq!(state(Value::exact(f64::NAN), Tolerance::Abs(5.0), None), CheckState::Undefined);
    }
}
