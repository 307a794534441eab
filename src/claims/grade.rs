//! How far a check misses the paper, in the paper's own printed precision,
//! and the grade that a reader sees (docs/claims.md, "Grades"): `exact`
//! (inside the tolerance), `near` (the figure would print within one of the
//! paper's last digit) or `far`.

use serde::{Deserialize, Serialize};

use super::tolerance::Tolerance;

/// A miss of at most this many printed units is `near`: measured and paper
/// would print one apart in the last digit (one unit, plus the half unit of
/// rounding either way allows).
pub const NEAR: f64 = 1.5;

/// Whose reading of the paper a check is (docs/claims.md, "Grades").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reading {
    /// The paper's own figure, threshold, window and statistic.
    #[default]
    Paper,
    /// A threshold, window, statistic or meaning of "≈" that the paper
    /// does not give, chosen by lockin.
    Lockin,
}

impl Reading {
    /// Whether this is the paper's reading (the default, left out of files).
    pub fn is_paper(&self) -> bool {
        *self == Reading::Paper
    }
}

/// One printed unit of a check: a quantity-valued step, or a decade.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// One unit of the last printed digit, in the quantity's own units.
    Step(f64),
    /// An order of magnitude (`factor` tolerances).
    Decade,
}

impl Unit {
    /// The unit a check's paper-tier `tolerance` implies, unless the claim
    /// file gives one (`unit:`). The tolerance rule checks a printed figure
    /// to half a unit, so a two-sided tolerance is half a unit wide; a bound
    /// or an exact value is printed to its own last digit.
    pub fn of(tolerance: &Tolerance, paper: Option<f64>, given: Option<f64>) -> Unit {
        if let Some(step) = given.filter(|_| !tolerance.needs_decades()) {
            return Unit::Step(step);
        }
        match tolerance {
            Tolerance::Factor(_) => Unit::Decade,
            Tolerance::Abs(x) if *x > 0.0 => Unit::Step(2.0 * x),
            Tolerance::Rel(x) if *x > 0.0 && paper.is_some_and(|p| p != 0.0) => {
                Unit::Step(2.0 * x * paper.unwrap_or(1.0).abs())
            }
            Tolerance::Range([lo, hi]) => Unit::Step(last_digit(*lo).min(last_digit(*hi))),
            Tolerance::Equals(x) => Unit::Step(last_digit(*x)),
            other => Unit::Step(other.bound_value().or(paper).map_or(1.0, last_digit)),
        }
    }

    /// "units" or "decades", for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Unit::Step(_) => "printed units",
            Unit::Decade => "decades",
        }
    }
}

/// One unit of the last digit of `x` as its shortest decimal form prints
/// it: 174 → 1, 0.075 → 0.001, 1e-5 → 1e-5, 5.5e-4 → 1e-5.
pub fn last_digit(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return 1.0;
    }
    let text = format!("{:e}", x.abs());
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` has an exponent");
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let step = 10f64.powi(exponent - decimals);
    // Whole numbers are printed to the unit: 300 → 1, not 100.
    if x.fract() == 0.0 { step.min(1.0) } else { step }
}

/// A check's grade (docs/claims.md, "Grades").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// Inside its tolerance.
    Exact,
    /// Outside, by at most [`NEAR`] printed units.
    Near,
    /// Further, undefined, or a count or fraction of seeds that differs.
    Far,
}

/// How far `measured` misses `tolerance` (its bound resolved), in `unit`s:
/// |measured − paper| for a figure, the distance beyond the bound for a
/// bound or range, |log10(measured / paper)| for a factor. NaN when
/// undefined.
pub fn miss(measured: f64, tolerance: &Tolerance, paper: Option<f64>, unit: Unit) -> f64 {
    if measured.is_nan() {
        return f64::NAN;
    }
    match (tolerance, unit) {
        (Tolerance::Factor(_), _) | (_, Unit::Decade) => {
            let p = paper.unwrap_or(f64::NAN);
            if measured > 0.0 && p > 0.0 { (measured / p).log10().abs() } else { f64::INFINITY }
        }
        (Tolerance::Abs(_) | Tolerance::Rel(_), Unit::Step(step)) => {
            (measured - paper.unwrap_or(f64::NAN)).abs() / step
        }
        (Tolerance::Equals(x), Unit::Step(step)) => (measured - x).abs() / step,
        (other, Unit::Step(step)) => (-other.margin(measured, paper)).max(0.0) / step,
    }
}

/// The grade of a check in `state` with `miss` printed units.
pub fn grade(holds: bool, miss: f64, tolerance: &Tolerance) -> Grade {
    if holds {
        Grade::Exact
    } else if miss <= NEAR && !exact_only(tolerance) {
        Grade::Near
    } else {
        Grade::Far
    }
}

/// Whether a tolerance admits only one value (`equals`, `abs: 0`): a
/// count or fraction of seeds, with no rounding to be near to.
pub fn exact_only(tolerance: &Tolerance) -> bool {
    matches!(tolerance, Tolerance::Equals(_)) || matches!(tolerance, Tolerance::Abs(x) if *x == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(measured: f64, paper: f64, tolerance: Tolerance) -> (f64, Grade) {
        let unit = Unit::of(&tolerance, Some(paper), None);
        let m = miss(measured, &tolerance, Some(paper), unit);
        (m, grade(tolerance.holds(measured, Some(paper)), m, &tolerance))
    }

    #[test]
    fn the_last_printed_digit() {
        assert_eq!(last_digit(174.0), 1.0);
        assert_eq!(last_digit(300.0), 1.0);
        assert_eq!(last_digit(0.075), 0.001);
        assert!((last_digit(1e-5) - 1e-5).abs() < 1e-20);
        assert!((last_digit(5.5e-4) - 1e-5).abs() < 1e-20);
        assert_eq!(last_digit(0.8), 0.1);
    }

    /// The examples: one-digit misses are near, real failures far.
    #[test]
    fn near_and_far_sort_the_papers_misses() {
        let half = Tolerance::Abs(0.5);
        assert_eq!(graded(227.9, 229.0, half.clone()).1, Grade::Near, "C04");
        assert_eq!(graded(1095.0, 1094.0, half.clone()).1, Grade::Near, "C31");
        assert_eq!(graded(206.0, 205.0, half.clone()).1, Grade::Near, "C36");
        assert_eq!(graded(101.0, 102.0, half.clone()).1, Grade::Near, "C15");
        assert_eq!(graded(0.78, 1.0, Tolerance::Abs(5e-4)).1, Grade::Far, "C07");
        assert_eq!(graded(1.0e-7, 1e-5, Tolerance::Factor(3.16)).1, Grade::Far, "C18 σ3");
        assert_eq!(graded(32.78, 100.0, Tolerance::AtLeast(100.0.into())).1, Grade::Far, "C26");
        assert_eq!(graded(174.0, 174.0, half).1, Grade::Exact);
        let (m, g) = graded(0.8, 1.0, Tolerance::Equals(1.0));
        assert!((m - 0.2).abs() < 1e-12 && g == Grade::Far, "a fraction of seeds has no rounding to be near");
        assert_eq!(graded(0.0, 1.0, Tolerance::Abs(0.0)).1, Grade::Far, "`abs: 0` is an exact count too");
    }

    #[test]
    fn a_bound_counts_only_the_distance_beyond_it() {
        let t = Tolerance::AtMost(0.04.into());
        let unit = Unit::of(&t, None, None);
        assert_eq!(unit, Unit::Step(0.01));
        assert_eq!(miss(0.03, &t, None, unit), 0.0);
        assert!((miss(0.05, &t, None, unit) - 1.0).abs() < 1e-9);
        assert_eq!(Unit::of(&t, None, Some(0.005)), Unit::Step(0.005), "a claim file's own unit wins");
        assert!(miss(f64::NAN, &t, None, unit).is_nan());
    }
}
