//! What a quantity measures: a number, or only bounds on it
//! (docs/claims.md, "Censored events"). An event that does not happen
//! within a run is censored: it happens, if ever, at the epoch after the
//! run's last or later, so its epoch lies in [E, ∞). Statistics over seeds
//! carry such bounds through: a median of three seeds of which two never
//! fired is "≥ E", and a difference of a fired epoch and a censored one is
//! "≤ t − E". A value whose bounds are both infinite, or NaN, is undefined.

use serde::{Deserialize, Serialize};

use crate::format::num;

/// A value known to lie in [lo, hi]: exact when lo = hi, censored when one
/// end is infinite, undefined when either end is NaN or both are infinite.
/// In JSON an unbounded end is `null`: `{"lo": 300, "hi": null}` is "≥ 300".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// The least the value can be (−∞: no lower bound).
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_is_minus_infinity")]
    pub lo: f64,
    /// The most the value can be (+∞: no upper bound).
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_is_infinity")]
    pub hi: f64,
}

fn finite_or_null<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    x.is_finite().then_some(*x).serialize(s)
}

fn null_is_minus_infinity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NEG_INFINITY))
}

fn null_is_infinity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

impl Value {
    /// A known number (NaN: undefined).
    pub fn exact(x: f64) -> Self {
        Self { lo: x, hi: x }
    }

    /// An event that did not happen by epoch `first_unseen − 1`: it happens
    /// at `first_unseen` or later, if ever.
    pub fn at_least(first_unseen: f64) -> Self {
        Self { lo: first_unseen, hi: f64::INFINITY }
    }

    /// Nothing known: any number at all.
    pub fn undefined() -> Self {
        Self { lo: f64::NEG_INFINITY, hi: f64::INFINITY }
    }

    /// The number, when the value is exact and defined.
    pub fn number(self) -> Option<f64> {
        (self.lo == self.hi && !self.lo.is_nan()).then_some(self.lo)
    }

    /// Whether the value is known only by bounds (a censored event or a
    /// statistic over one) and those bounds say something.
    pub fn is_bounded(self) -> bool {
        self.lo != self.hi && !self.is_undefined()
    }

    /// Whether nothing is known of the value.
    pub fn is_undefined(self) -> bool {
        self.lo.is_nan() || self.hi.is_nan() || (self.lo == f64::NEG_INFINITY && self.hi == f64::INFINITY)
    }

    /// The value as one number: itself when exact, NaN otherwise (what a
    /// reader of numbers only sees).
    pub fn as_f64(self) -> f64 {
        self.number().unwrap_or(f64::NAN)
    }

    /// self − other: every difference the two ranges allow.
    pub fn minus(self, other: Value) -> Value {
        let (lo, hi) = (self.lo - other.hi, self.hi - other.lo);
        match (lo.is_nan(), hi.is_nan()) {
            (false, false) => Value { lo, hi },
            _ if self.lo.is_nan() || other.lo.is_nan() => Value::exact(f64::NAN),
            _ => Value::undefined(),
        }
    }

    /// "173", "≥ 300", "≤ −12", "in [3, 7]"; "undefined" when nothing is
    /// known, and "—" for NaN.
    pub fn describe(self) -> String {
        match (self.number(), self.is_undefined()) {
            (Some(x), _) => num(x),
            (None, _) if self.lo.is_nan() => num(f64::NAN),
            (None, true) => "undefined".into(),
            (None, false) if self.hi == f64::INFINITY => format!("≥ {}", num(self.lo)),
            (None, false) if self.lo == f64::NEG_INFINITY => format!("≤ {}", num(self.hi)),
            (None, false) => format!("in [{}, {}]", num(self.lo), num(self.hi)),
        }
    }
}

/// The q-quantile of `values` with numpy's linear interpolation, over every
/// value (none is dropped): the quantile of the lower ends bounds it from
/// below and that of the upper ends from above, because a quantile never
/// falls when one of its inputs rises. Undefined when `values` is empty or
/// one of them is NaN.
pub fn quantile(values: &[Value], q: f64) -> Value {
    if values.is_empty() || values.iter().any(|v| v.lo.is_nan() || v.hi.is_nan()) {
        return Value::undefined();
    }
    let of = |end: fn(&Value) -> f64| {
        let mut sorted: Vec<f64> = values.iter().map(end).collect();
        sorted.sort_by(f64::total_cmp);
        let position = q * (sorted.len() - 1) as f64;
        let (a, b) = (position.floor() as usize, position.ceil() as usize);
        let frac = position - a as f64;
        if frac == 0.0 { sorted[a] } else { sorted[a] + (sorted[b] - sorted[a]) * frac }
    };
    let (lo, hi) = (of(|v| v.lo), of(|v| v.hi));
    // ∞ − ∞ inside an interpolation between two unbounded ends.
    Value { lo: if lo.is_nan() { f64::NEG_INFINITY } else { lo }, hi: if hi.is_nan() { f64::INFINITY } else { hi } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_give_numpys_quantiles() {
        let v: Vec<Value> = [4.0, 1.0, 3.0, 2.0].map(Value::exact).to_vec();
        assert_eq!(quantile(&v, 0.5), Value::exact(2.5));
        assert_eq!(quantile(&v, 0.25), Value::exact(1.75));
        assert_eq!(quantile(&v, 0.25).number(), Some(crate::probes::stats::quantile(&[4.0, 1.0, 3.0, 2.0], 0.25)));
    }

    /// Two of three seeds never fired within 300 epochs: the median is
    /// "≥ 300"; one of three: it is the second fired epoch, exactly.
    #[test]
    fn censored_seeds_bound_the_median() {
        let two = [Value::exact(196.0), Value::at_least(300.0), Value::at_least(300.0)];
        assert_eq!(quantile(&two, 0.5).describe(), "≥ 300");
        let one = [Value::exact(196.0), Value::exact(201.0), Value::at_least(300.0)];
        assert_eq!(quantile(&one, 0.5), Value::exact(201.0));
        assert_eq!(quantile(&one, 0.0), Value::exact(196.0), "the minimum is known");
        assert_eq!(quantile(&one, 1.0).describe(), "≥ 300", "the maximum is not");
        assert!(quantile(&[Value::exact(1.0), Value::exact(f64::NAN)], 0.5).is_undefined());
        let unknown = [Value::exact(5.0), Value::exact(6.0), Value::undefined()];
        assert_eq!(quantile(&unknown, 0.5).describe(), "in [5, 6]", "a seed not looked at is any value");
        assert!(quantile(&[], 0.5).is_undefined());
    }

    #[test]
    fn differences_carry_the_bounds() {
        let fire = Value::at_least(400.0);
        assert_eq!(fire.minus(Value::exact(150.0)).describe(), "≥ 250");
        assert_eq!(Value::exact(200.0).minus(Value::at_least(400.0)).describe(), "≤ -200");
        assert!(fire.minus(fire).is_undefined());
        assert_eq!(Value::exact(3.0).minus(Value::exact(1.0)), Value::exact(2.0));
    }
}
