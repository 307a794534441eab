//! What a quantity measures: a number, bounds on it, or nothing (docs/claims.md,
//! "Censored events"; docs/methods.md, "Statistics"). This is the one
//! representation of a measured value: every quantity and every per-seed
//! value of a measurement is a [`Value`], and "undefined" has one meaning,
//! "any number at all" (the bounds −∞ and +∞). There is no NaN inside a
//! `Value`: [`Value::exact`] of NaN is undefined.
//!
//! An event that does not happen within a run is censored: it happens, if
//! ever, at the epoch after the run's last or later, so its epoch lies in
//! [E, ∞). Statistics over seeds carry such bounds through: a median of
//! three seeds of which two never fired is "≥ E", and a difference of a
//! fired epoch and a censored one is "≤ t − E". A statistic of values with
//! bounds is the set of answers every completion of those bounds can give,
//! so it is exact only when every completion gives the same answer.

use serde::{Deserialize, Serialize};

use crate::format::num;
use crate::probes::stats::interpolate;

/// A value known to lie in [lo, hi]: exact when lo = hi, censored when one
/// end is infinite, undefined when both are. Neither end is ever NaN.
/// In JSON an unbounded end is `null`: `{"lo": 300, "hi": null}` is "≥ 300"
/// (an infinite value itself, on its own side, is `"inf"` or `"-inf"`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// The least the value can be (−∞: no lower bound).
    #[serde(serialize_with = "lower_end", deserialize_with = "read_lower_end")]
    pub lo: f64,
    /// The most the value can be (+∞: no upper bound).
    #[serde(serialize_with = "upper_end", deserialize_with = "read_upper_end")]
    pub hi: f64,
}

/// One end in JSON: a number, `null` for no bound on its side, or the
/// text of an infinity on the other side.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum End {
    Number(f64),
    Infinity(String),
}

fn write_end<S: serde::Serializer>(x: f64, unbounded: f64, s: S) -> Result<S::Ok, S::Error> {
    match x {
        x if x == unbounded => None::<End>.serialize(s),
        x if x.is_finite() => Some(End::Number(x)).serialize(s),
        x => Some(End::Infinity(if x > 0.0 { "inf" } else { "-inf" }.into())).serialize(s),
    }
}

fn read_end<'de, D: serde::Deserializer<'de>>(d: D, unbounded: f64) -> Result<f64, D::Error> {
    use serde::de::Error;
    match Option::<End>::deserialize(d)? {
        None => Ok(unbounded),
        Some(End::Number(x)) => Ok(x),
        Some(End::Infinity(text)) => match text.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            other => Err(D::Error::custom(format!("`{other}` is not a number, null, \"inf\" or \"-inf\""))),
        },
    }
}

fn lower_end<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    write_end(*x, f64::NEG_INFINITY, s)
}

fn upper_end<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    write_end(*x, f64::INFINITY, s)
}

fn read_lower_end<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    read_end(d, f64::NEG_INFINITY)
}

fn read_upper_end<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    read_end(d, f64::INFINITY)
}

impl Value {
    /// A known number; NaN (a probe with no value) is undefined.
    pub fn exact(x: f64) -> Self {
        if x.is_nan() { Self::undefined() } else { Self { lo: x, hi: x } }
    }

    /// Bounds [lo, hi]; a NaN end is unbounded on its side.
    pub fn between(lo: f64, hi: f64) -> Self {
        let lo = if lo.is_nan() { f64::NEG_INFINITY } else { lo };
        let hi = if hi.is_nan() { f64::INFINITY } else { hi };
        Self { lo, hi }
    }

    /// An event that did not happen by epoch `first_unseen − 1`: it happens
    /// at `first_unseen` or later, if ever.
    pub fn at_least(first_unseen: f64) -> Self {
        Self::between(first_unseen, f64::INFINITY)
    }

    /// Nothing known: any number at all.
    pub fn undefined() -> Self {
        Self { lo: f64::NEG_INFINITY, hi: f64::INFINITY }
    }

    /// The number, when the value is exact.
    pub fn number(self) -> Option<f64> {
        (self.lo == self.hi).then_some(self.lo)
    }

    /// Whether the value is known only by bounds (a censored event or a
    /// statistic over one) and those bounds say something.
    pub fn is_bounded(self) -> bool {
        self.lo != self.hi && !self.is_undefined()
    }

    /// Whether nothing is known of the value.
    pub fn is_undefined(self) -> bool {
        self.lo == f64::NEG_INFINITY && self.hi == f64::INFINITY
    }

    /// The value as one number: itself when exact, NaN otherwise (what a
    /// reader of numbers only sees: a figure's point, a table's cell).
    pub fn as_f64(self) -> f64 {
        self.number().unwrap_or(f64::NAN)
    }

    /// self − other: every difference the two ranges allow.
    pub fn minus(self, other: Value) -> Value {
        Value::between(self.lo - other.hi, self.hi - other.lo)
    }

    /// "173", "≥ 300", "≤ −12", "in [3, 7]"; "undefined" when nothing is
    /// known.
    pub fn describe(self) -> String {
        match self.number() {
            Some(x) => num(x),
            None if self.is_undefined() => "undefined".into(),
            None if self.hi == f64::INFINITY => format!("≥ {}", num(self.lo)),
            None if self.lo == f64::NEG_INFINITY => format!("≤ {}", num(self.hi)),
            None => format!("in [{}, {}]", num(self.lo), num(self.hi)),
        }
    }
}

/// One seed's value: the paper's seed it was measured on, and the value.
/// Statistics that pair two conditions join on `seed`, never on position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedValue {
    /// The seed of the run (`seed:` in a claim, `lockin run --seed`).
    pub seed: u64,
    /// Its value.
    #[serde(flatten)]
    pub value: Value,
}

/// The values of `seeds` as exact numbers (NaN: undefined), in order.
pub fn by_seed(seeds: &[u64], values: &[f64]) -> Vec<SeedValue> {
    seeds.iter().zip(values).map(|(&seed, &x)| SeedValue { seed, value: Value::exact(x) }).collect()
}

/// The values alone, in order.
pub fn values_of(per_seed: &[SeedValue]) -> Vec<Value> {
    per_seed.iter().map(|s| s.value).collect()
}

/// The q-quantile of `values` with numpy's linear interpolation, over every
/// value (none is dropped): the quantile of the lower ends bounds it from
/// below and that of the upper ends from above, because a quantile never
/// falls when one of its inputs rises. So an undefined value takes part as
/// "any number", and the result is exact only when every number it may be
/// gives the same quantile. Undefined when `values` is empty.
pub fn quantile(values: &[Value], q: f64) -> Value {
    if values.is_empty() {
        return Value::undefined();
    }
    let of = |end: fn(&Value) -> f64| {
        let mut sorted: Vec<f64> = values.iter().map(end).collect();
        sorted.sort_by(f64::total_cmp);
        interpolate(&sorted, q)
    };
    // ∞ − ∞ inside an interpolation between two unbounded ends is NaN:
    // unbounded on that side.
    Value::between(of(|v| v.lo), of(|v| v.hi))
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

    /// Every kind of value reads back from JSON as it was written, an
    /// infinite value (q_k = σ_k / 0) included.
    #[test]
    fn values_round_trip_through_json() {
        for v in [Value::exact(3.5), Value::at_least(301.0), Value::undefined(), Value::exact(f64::INFINITY)] {
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v, "{text}");
        }
        assert_eq!(serde_json::to_string(&Value::at_least(301.0)).unwrap(), r#"{"lo":301.0,"hi":null}"#);
        assert_eq!(quantile(&[Value::exact(f64::INFINITY); 2], 0.5), Value::exact(f64::INFINITY));
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
