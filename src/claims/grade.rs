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

/// An order-of-magnitude figure (`factor`) is `near` when it misses by at
/// most one decade: "∼1e-5" met by 1e-6 prints one exponent apart; further
/// is never near.
pub const NEAR_DECADES: f64 = 1.0;

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

/// One printed unit of a check: a quantity-valued step, a decade, or none.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// One unit of the last printed digit, in the quantity's own units.
    Step(f64),
    /// An order of magnitude (`factor` tolerances).
    Decade,
    /// No printed figure stands behind the check: a bound lockin wrote
    /// (`reading: lockin`) with no `unit:`. Its miss is in the quantity's
    /// own units, and it is never `near`: there is no printed digit to be
    /// near to.
    Unprinted,
}

impl Unit {
    /// The unit a check's paper-tier `tolerance` implies, unless the claim
    /// file gives one (`unit:`). The tolerance rule checks a printed figure
    /// to half a unit, so a two-sided tolerance is half a unit wide; a bound
    /// or an exact value is printed to its own last digit, unless lockin
    /// wrote it (`reading`), when nothing was printed.
    pub fn of(tolerance: &Tolerance, paper: Option<f64>, given: Option<f64>, reading: Reading) -> Unit {
        if let Some(step) = given.filter(|_| !tolerance.needs_decades()) {
            return Unit::Step(step);
        }
        match tolerance {
            Tolerance::Factor(_) => Unit::Decade,
            Tolerance::Abs(x) if *x > 0.0 => Unit::Step(2.0 * x),
            Tolerance::Rel(x) if *x > 0.0 && paper.is_some_and(|p| p != 0.0) => {
                Unit::Step(2.0 * x * paper.unwrap_or(1.0).abs())
            }
            Tolerance::Range(_)
            | Tolerance::AtLeast(_)
            | Tolerance::AtMost(_)
            | Tolerance::Above(_)
            | Tolerance::Below(_)
                if reading == Reading::Lockin =>
            {
                Unit::Unprinted
            }
            Tolerance::Range([lo, hi]) => Unit::Step(last_digit(*lo).min(last_digit(*hi))),
            Tolerance::Equals(x) => Unit::Step(last_digit(*x)),
            Tolerance::AtLeast(_) | Tolerance::AtMost(_) | Tolerance::Above(_) | Tolerance::Below(_) => {
                Unit::Step(tolerance.bound_value().or(paper).map_or(1.0, last_digit))
            }
            Tolerance::Abs(_) | Tolerance::Rel(_) => Unit::Step(paper.map_or(1.0, last_digit)),
        }
    }

    /// "units" or "decades", for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Unit::Step(_) => "printed units",
            Unit::Decade => "decades",
            Unit::Unprinted => "units of the quantity",
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
    /// Outside, by at most [`NEAR`] printed units (or [`NEAR_DECADES`]).
    Near,
    /// Further, undefined, a count or fraction of seeds that differs, or a
    /// bound no printed figure stands behind.
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
    let step = match unit {
        Unit::Step(step) => step,
        Unit::Unprinted => 1.0,
        Unit::Decade => {
            let p = paper.unwrap_or(f64::NAN);
            return if measured > 0.0 && p > 0.0 { (measured / p).log10().abs() } else { f64::INFINITY };
        }
    };
    match tolerance {
        Tolerance::Factor(_) => {
            let p = paper.unwrap_or(f64::NAN);
            if measured > 0.0 && p > 0.0 { (measured / p).log10().abs() } else { f64::INFINITY }
        }
        Tolerance::Abs(_) | Tolerance::Rel(_) => (measured - paper.unwrap_or(f64::NAN)).abs() / step,
        Tolerance::Equals(x) => (measured - x).abs() / step,
        Tolerance::Range(_)
        | Tolerance::AtLeast(_)
        | Tolerance::AtMost(_)
        | Tolerance::Above(_)
        | Tolerance::Below(_) => (-tolerance.margin(measured, paper)).max(0.0) / step,
    }
}

/// What a check's figure is, for its grade: a printed figure, or a count
/// or fraction of seeds (docs/claims.md, "Grades").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// A figure with a printed precision (or a bound).
    Printed,
    /// A count or fraction of seeds: no rounding to be near to.
    SeedCount,
}

/// The grade of a check in `state` with `miss` units of `unit`.
pub fn grade(holds: bool, miss: f64, tolerance: &Tolerance, unit: Unit, figure: Figure) -> Grade {
    let near = match unit {
        Unit::Step(_) => miss <= NEAR,
        Unit::Decade => miss <= NEAR_DECADES,
        Unit::Unprinted => false,
    };
    if holds {
        Grade::Exact
    } else if near && !exact_only(tolerance) && figure == Figure::Printed {
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
        graded_as(measured, paper, tolerance, Reading::Paper, Figure::Printed)
    }

    fn graded_as(measured: f64, paper: f64, tolerance: Tolerance, reading: Reading, figure: Figure) -> (f64, Grade) {
        let unit = Unit::of(&tolerance, Some(paper), None, reading);
        let m = miss(measured, &tolerance, Some(paper), unit);
        (m, grade(tolerance.holds(measured, Some(paper)), m, &tolerance, unit, figure))
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

    /// The rules the last review found broken, each now kept: a count of
    /// seeds is never near (C23's 4 of 5 "on every seed", `fired_fraction`
    /// 0 against `at_least: 1`); a bound lockin wrote has no printed digit
    /// (C42's 9.619 against ≥ 10); more than a decade off is far (C19's σ3,
    /// 17.6× off "∼1e-5").
    #[test]
    fn grades_keep_their_rule() {
        let every_seed = Tolerance::AtLeast(1.0.into());
        assert_eq!(graded(0.8, 1.0, every_seed.clone()).1, Grade::Near, "as a printed bound, 0.2 units off");
        assert_eq!(graded_as(0.8, 1.0, every_seed.clone(), Reading::Paper, Figure::SeedCount).1, Grade::Far);
        assert_eq!(graded_as(0.0, 1.0, every_seed, Reading::Paper, Figure::SeedCount).1, Grade::Far);
        let (miss_42, grade_42) =
            graded_as(9.619, 10.0, Tolerance::AtLeast(10.0.into()), Reading::Lockin, Figure::Printed);
        assert!((miss_42 - 0.381).abs() < 1e-9 && grade_42 == Grade::Far, "in the quantity's units, far");
        assert_eq!(graded(9.619, 10.0, Tolerance::AtLeast(10.0.into())).1, Grade::Near, "a printed ≥ 10 is near");
        let (decades, grade_19) = graded(1.76e-4, 1e-5, Tolerance::Factor(3.16));
        assert!((decades - 1.2455).abs() < 1e-3 && grade_19 == Grade::Far, "{decades}");
        assert_eq!(graded(8e-5, 1e-5, Tolerance::Factor(3.16)).1, Grade::Near, "0.9 decades");
    }

    #[test]
    fn a_bound_counts_only_the_distance_beyond_it() {
        let t = Tolerance::AtMost(0.04.into());
        let unit = Unit::of(&t, None, None, Reading::Paper);
        assert_eq!(unit, Unit::Step(0.01));
        assert_eq!(miss(0.03, &t, None, unit), 0.0);
        assert!((miss(0.05, &t, None, unit) - 1.0).abs() < 1e-9);
        assert_eq!(Unit::of(&t, None, Some(0.005), Reading::Paper), Unit::Step(0.005), "a claim file's own unit wins");
        assert!(miss(f64::NAN, &t, None, unit).is_nan());
    }
}
