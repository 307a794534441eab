//! Explicit tolerances: how a measured value is compared with the paper's,
//! or with another quantity of the same claim (a one-sided bound may name
//! one: `{below: slow.fire_epoch_median}`; docs/claims.md, "Tolerances").

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::format::num;

/// The relative slack of a closed bound: far below any printed precision,
/// far above f64's rounding of a decimal figure (2⁻⁵² ≈ 2.2e-16).
pub const ROUNDING: f64 = 1e-12;

/// One tolerance form (YAML: a one-key map such as `{abs: 5}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Tolerance {
    /// |measured − paper| ≤ x.
    Abs(f64),
    /// |measured − paper| ≤ x·|paper|.
    Rel(f64),
    /// paper/x ≤ measured ≤ paper·x (x ≥ 1): "within ×/÷ x".
    Factor(f64),
    /// lo ≤ measured ≤ hi.
    Range([f64; 2]),
    /// measured ≥ x.
    AtLeast(Bound),
    /// measured ≤ x.
    AtMost(Bound),
    /// measured > x.
    Above(Bound),
    /// measured < x.
    Below(Bound),
    /// measured = x exactly (counts and fractions of seeds).
    Equals(f64),
}

/// A one-sided bound: a number, or the name of another quantity the same
/// claim produces (read when the claim is judged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    /// `{below: 10}`.
    Value(f64),
    /// `{below: base.fire_epoch_median}`.
    Quantity(String),
}

impl Bound {
    /// The number (NaN for a quantity not yet resolved).
    fn value(&self) -> f64 {
        match self {
            Bound::Value(x) => *x,
            Bound::Quantity(_) => f64::NAN,
        }
    }

    fn describe(&self) -> String {
        match self {
            Bound::Value(x) => num(*x),
            Bound::Quantity(name) => name.clone(),
        }
    }
}

impl From<f64> for Bound {
    fn from(x: f64) -> Self {
        Bound::Value(x)
    }
}

impl Tolerance {
    /// Whether the form compares against the paper's value (which must then be given).
    pub fn needs_paper(&self) -> bool {
        matches!(self, Tolerance::Abs(_) | Tolerance::Rel(_) | Tolerance::Factor(_))
    }

    /// The one-sided bound, if the form has one.
    fn bound(&self) -> Option<&Bound> {
        match self {
            Tolerance::AtLeast(b) | Tolerance::AtMost(b) | Tolerance::Above(b) | Tolerance::Below(b) => Some(b),
            Tolerance::Abs(_)
            | Tolerance::Rel(_)
            | Tolerance::Factor(_)
            | Tolerance::Range(_)
            | Tolerance::Equals(_) => None,
        }
    }

    /// Whether a miss is counted in decades (a factor: docs/claims.md, "Grades").
    pub fn needs_decades(&self) -> bool {
        matches!(self, Tolerance::Factor(_))
    }

    /// The bound's number, if the form has a numeric bound.
    pub fn bound_value(&self) -> Option<f64> {
        match self.bound() {
            Some(Bound::Value(x)) => Some(*x),
            Some(Bound::Quantity(_)) | None => None,
        }
    }

    /// Every number the form was written with (its bound, range, width).
    pub fn written_numbers(&self) -> Vec<f64> {
        match *self {
            Tolerance::Abs(x) | Tolerance::Rel(x) | Tolerance::Factor(x) | Tolerance::Equals(x) => vec![x],
            Tolerance::Range([lo, hi]) => vec![lo, hi],
            Tolerance::AtLeast(_) | Tolerance::AtMost(_) | Tolerance::Above(_) | Tolerance::Below(_) => {
                self.bound_value().into_iter().collect()
            }
        }
    }

    /// The quantity the bound names, if it names one.
    pub fn reference(&self) -> Option<&str> {
        match self.bound() {
            Some(Bound::Quantity(name)) => Some(name),
            Some(Bound::Value(_)) | None => None,
        }
    }

    /// The same tolerance with a named bound replaced by its value
    /// (`lookup` gives NaN for a quantity without one).
    pub fn resolved(&self, lookup: impl Fn(&str) -> f64) -> Tolerance {
        let value = |b: &Bound| match b {
            Bound::Quantity(name) => Bound::Value(lookup(name)),
            b => b.clone(),
        };
        match self {
            Tolerance::AtLeast(b) => Tolerance::AtLeast(value(b)),
            Tolerance::AtMost(b) => Tolerance::AtMost(value(b)),
            Tolerance::Above(b) => Tolerance::Above(value(b)),
            Tolerance::Below(b) => Tolerance::Below(value(b)),
            other => other.clone(),
        }
    }

    /// Why the tolerance is malformed, if it is.
    pub fn problem(&self) -> Option<String> {
        let finite = |x: f64| x.is_finite();
        if let Some(Bound::Value(x)) = self.bound()
            && !finite(*x)
        {
            return Some(format!("bound must be finite, got {x}"));
        }
        if let Some(Bound::Quantity(name)) = self.bound()
            && name.trim().is_empty()
        {
            return Some("a bound is a number or the name of a quantity of this claim".into());
        }
        match *self {
            Tolerance::Abs(x) | Tolerance::Rel(x) if !(finite(x) && x >= 0.0) => {
                Some(format!("must be a finite number ≥ 0, got {x}"))
            }
            Tolerance::Factor(x) if !(finite(x) && x >= 1.0) => Some(format!("factor must be ≥ 1, got {x}")),
            Tolerance::Range([lo, hi]) if !(finite(lo) && finite(hi) && lo <= hi) => {
                Some(format!("range [{lo}, {hi}] needs finite lo ≤ hi"))
            }
            Tolerance::Equals(x) if !finite(x) => Some(format!("bound must be finite, got {x}")),
            Tolerance::Abs(_)
            | Tolerance::Rel(_)
            | Tolerance::Factor(_)
            | Tolerance::Range(_)
            | Tolerance::Equals(_)
            | Tolerance::AtLeast(_)
            | Tolerance::AtMost(_)
            | Tolerance::Above(_)
            | Tolerance::Below(_) => None,
        }
    }

    /// Whether `measured` is inside the tolerance (NaN never is). A closed
    /// bound is met within [`ROUNDING`] of the magnitudes compared, so that
    /// decimal figures binary floating point cannot hold exactly compare as
    /// written: |0.98 − 0.985| is 0.0050000000000000044 in f64, and is
    /// within `{abs: 0.005}` (docs/claims.md, "Tolerances"). `equals`,
    /// `above` and `below` stay exact.
    pub fn holds(&self, measured: f64, paper: Option<f64>) -> bool {
        if measured.is_nan() {
            return false;
        }
        let margin = self.margin(measured, paper);
        match *self {
            Tolerance::Equals(x) => measured == x,
            Tolerance::Above(_) | Tolerance::Below(_) => margin > 0.0,
            Tolerance::Abs(_)
            | Tolerance::Rel(_)
            | Tolerance::Factor(_)
            | Tolerance::Range(_)
            | Tolerance::AtLeast(_)
            | Tolerance::AtMost(_) => margin >= 0.0,
        }
    }

    /// Where `measured` lies against the values the tolerance accepts:
    /// `Equal` when [`Tolerance::holds`], else `Less` below them or
    /// `Greater` above them. A check on a value known only by bounds holds
    /// when both ends lie inside and fails when both lie on one side
    /// (docs/claims.md, "Censored events").
    pub fn side(&self, measured: f64, paper: Option<f64>) -> Ordering {
        if self.holds(measured, paper) {
            return Ordering::Equal;
        }
        let below = match *self {
            Tolerance::Abs(_) | Tolerance::Rel(_) | Tolerance::Factor(_) => measured < paper.unwrap_or(f64::NAN),
            Tolerance::Range([lo, _]) => measured < lo,
            Tolerance::AtLeast(_) | Tolerance::Above(_) => true,
            Tolerance::AtMost(_) | Tolerance::Below(_) => false,
            Tolerance::Equals(x) => measured < x,
        };
        if below { Ordering::Less } else { Ordering::Greater }
    }

    /// Whether a larger named bound accepts more values (`at_most`,
    /// `below`), rather than fewer (`at_least`, `above`).
    pub fn widens_with_bound(&self) -> bool {
        matches!(self, Tolerance::AtMost(_) | Tolerance::Below(_))
    }

    /// How far `measured` sits inside (> 0) or outside (< 0) the tolerance,
    /// in the quantity's own units: the distance to the nearest bound
    /// (`equals`: minus the distance to the value, 0 when equal; `above` and
    /// `below` count their bound as outside at 0). 0 on a closed bound met
    /// within [`ROUNDING`]. NaN when undefined.
    pub fn margin(&self, measured: f64, paper: Option<f64>) -> f64 {
        let margin = self.raw_margin(measured, paper);
        if self.within_rounding(margin, measured, paper) { 0.0 } else { margin }
    }

    /// Whether a closed bound's `margin` is 0 to within [`ROUNDING`] of the
    /// magnitudes compared: `measured` and the paper's figure for `abs`,
    /// `rel` and `factor`, `measured` and the bound for the others.
    fn within_rounding(&self, margin: f64, measured: f64, paper: Option<f64>) -> bool {
        let reference = match *self {
            Tolerance::Abs(_) | Tolerance::Rel(_) | Tolerance::Factor(_) => paper.unwrap_or(0.0),
            Tolerance::Range([lo, hi]) => lo.abs().max(hi.abs()),
            Tolerance::AtLeast(ref b) | Tolerance::AtMost(ref b) => b.value(),
            Tolerance::Above(_) | Tolerance::Below(_) | Tolerance::Equals(_) => return false,
        };
        let scale = measured.abs().max(reference.abs());
        scale.is_finite() && margin.abs() <= ROUNDING * scale
    }

    /// [`Tolerance::margin`] as computed, without the rounding slack.
    fn raw_margin(&self, measured: f64, paper: Option<f64>) -> f64 {
        let p = paper.unwrap_or(f64::NAN);
        let m = measured;
        match *self {
            Tolerance::Abs(x) => x - (m - p).abs(),
            Tolerance::Rel(x) => x * p.abs() - (m - p).abs(),
            Tolerance::Factor(x) => (m - p / x).min(p * x - m),
            Tolerance::Range([lo, hi]) => (m - lo).min(hi - m),
            Tolerance::AtLeast(ref b) | Tolerance::Above(ref b) => m - b.value(),
            Tolerance::AtMost(ref b) | Tolerance::Below(ref b) => b.value() - m,
            Tolerance::Equals(x) => 0.0 - (m - x).abs(), // +0 on an exact hit
        }
    }

    /// A short human form, e.g. "±5", "×/÷2", "≥ 50".
    pub fn describe(&self) -> String {
        match *self {
            Tolerance::Abs(x) => format!("±{}", num(x)),
            Tolerance::Rel(x) => format!("±{}%", num(100.0 * x)),
            Tolerance::Factor(x) => format!("×/÷{}", num(x)),
            Tolerance::Range([lo, hi]) => format!("in [{}, {}]", num(lo), num(hi)),
            Tolerance::AtLeast(ref b) => format!("≥ {}", b.describe()),
            Tolerance::AtMost(ref b) => format!("≤ {}", b.describe()),
            Tolerance::Above(ref b) => format!("> {}", b.describe()),
            Tolerance::Below(ref b) => format!("< {}", b.describe()),
            Tolerance::Equals(x) => format!("= {}", num(x)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_hold_as_documented() {
        assert!(Tolerance::Abs(5.0).holds(179.0, Some(174.0)));
        assert!(!Tolerance::Abs(5.0).holds(179.5, Some(174.0)));
        assert!(Tolerance::Factor(2.0).holds(114.5, Some(229.0)));
        assert!(!Tolerance::Factor(2.0).holds(114.0, Some(229.0)));
        assert!(Tolerance::Range([1.0, 1.7]).holds(1.31, None));
        assert!(Tolerance::Rel(0.1).holds(1.09, Some(1.0)));
        assert!(Tolerance::Below(10.0.into()).holds(9.99, None) && !Tolerance::Below(10.0.into()).holds(10.0, None));
        assert!(Tolerance::Equals(1.0).holds(1.0, None) && !Tolerance::Equals(1.0).holds(14.0 / 15.0, None));
        assert!(!Tolerance::AtLeast(0.0.into()).holds(f64::NAN, None));
        assert!(!Tolerance::AtMost(5.0.into()).holds(f64::INFINITY, None));
    }

    /// A decimal bound is met as written (0.98 − 0.985 is 0.0050000000000000044
    /// in f64), and nothing wider is.
    #[test]
    fn decimal_bounds_compare_as_written() {
        assert!(Tolerance::Abs(0.005).holds(0.98, Some(0.985)));
        assert!(Tolerance::Abs(0.015).holds(0.91, Some(0.895)));
        assert!(!Tolerance::Abs(0.005).holds(0.979_999_99, Some(0.985)));
        assert!(Tolerance::Abs(0.5).holds(173.5, Some(174.0)) && !Tolerance::Abs(0.5).holds(173.499_999, Some(174.0)));
        assert_eq!(Tolerance::Abs(0.005).margin(0.98, Some(0.985)), 0.0, "on the bound, not -4.3e-18 outside");
        assert!(!Tolerance::Below(10.0.into()).holds(10.0, None) && Tolerance::AtMost(10.0.into()).holds(10.0, None));
    }

    #[test]
    fn margins_are_signed_distances_to_the_nearest_bound() {
        assert_eq!(Tolerance::Abs(5.0).margin(176.0, Some(174.0)), 3.0);
        assert_eq!(Tolerance::Abs(5.0).margin(180.0, Some(174.0)), -1.0);
        assert_eq!(Tolerance::Factor(2.0).margin(300.0, Some(200.0)), 100.0);
        assert_eq!(Tolerance::AtMost(0.04.into()).margin(0.034, None), 0.04 - 0.034);
        assert_eq!(Tolerance::Equals(1.0).margin(1.0, None), 0.0);
        assert!(Tolerance::Abs(1.0).margin(f64::NAN, Some(1.0)).is_nan());
        // The sign agrees with `holds` away from the bounds.
        for (t, m, p) in [(Tolerance::Rel(0.05), 3.7, Some(3.6)), (Tolerance::Range([1.0, 2.0]), 0.5, None)] {
            assert_eq!(t.margin(m, p) >= 0.0, t.holds(m, p));
        }
    }

    #[test]
    fn malformed_forms_are_named() {
        assert!(Tolerance::Factor(0.5).problem().unwrap().contains("≥ 1"));
        assert!(Tolerance::Range([2.0, 1.0]).problem().is_some());
        assert!(Tolerance::Abs(-1.0).problem().is_some());
        assert!(Tolerance::Abs(5.0).problem().is_none());
    }
}
