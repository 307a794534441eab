//! The shift between two conditions over seeds, with an exact,
//! distribution-free confidence interval (docs/claims.md, "Comparisons
//! with statistics"; docs/methods.md, "Comparisons over seeds"):
//!
//! - **paired** (the same seeds in both): values are joined on their seed,
//!   never on their position; the differences dᵢ = aᵢ − bᵢ, their median,
//!   and the sign-test interval [d₍ₖ₎, d₍ₙ₊₁₋ₖ₎], k the largest with
//!   2·P(Bin(n, ½) ≤ k − 1) ≤ 1 − level. It holds its level for any
//!   distribution of the differences with that median;
//! - **unpaired** (two seed sets): every difference aᵢ − bⱼ, their median
//!   (the Hodges–Lehmann shift) and the Mann–Whitney interval
//!   [D₍ₖ₎, D₍ₙₘ₊₁₋ₖ₎], k from U's null distribution. It assumes a shift
//!   model: B's seeds spread like A's, moved by the shift. Beside it, the
//!   Brunner–Munzel interval for P(A < B), which does not.
//!
//! All are order statistics or rank statistics, so censored and undefined
//! values carry through as bounds ([`Value`]). Too few seeds for the level
//! asked give an interval with no bounds (undefined), and the level reached
//! is reported.

mod brunner_munzel;
mod distributions;
pub mod null;

use std::collections::BTreeMap;

use crate::claims::value::{SeedValue, Value, quantile};
pub use brunner_munzel::NoInterval;

/// The statistics of one comparison of `a` against `b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shift {
    /// Number of differences (n paired, n·m unpaired).
    pub pairs: usize,
    /// Median difference a − b (paired) or the Hodges–Lehmann shift.
    pub median_difference: Value,
    /// The interval's lower end.
    pub ci_low: Value,
    /// The interval's upper end.
    pub ci_high: Value,
    /// The level the exact interval reaches (≥ the level asked; NaN when
    /// too few seeds reach it).
    pub confidence: f64,
    /// P(A < B): the fraction of pairs with a below b, ties counting ½.
    pub p_a_below_b: Value,
    /// Unpaired only: the Brunner–Munzel interval for P(A < B), or why
    /// there is none.
    pub p_interval: Option<Result<(f64, f64), NoInterval>>,
    /// Paired only: the seeds one side has and the other lacks, left out.
    pub unmatched: Unmatched,
}

/// The seeds a paired comparison could not pair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unmatched {
    /// Seeds of `a` with no value in `b`.
    pub only_a: Vec<u64>,
    /// Seeds of `b` with no value in `a`.
    pub only_b: Vec<u64>,
}

impl Shift {
    /// Paired over the seeds both `a` and `b` have, joined on the seed (in
    /// `a`'s order); a seed given twice on one side is an error.
    pub fn paired(a: &[SeedValue], b: &[SeedValue], level: f64) -> anyhow::Result<Shift> {
        let (pairs, unmatched) = pair_by_seed(a, b)?;
        let d: Vec<Value> = pairs.iter().map(|(a, b)| a.minus(*b)).collect();
        let k = null::paired(d.len(), level);
        Ok(Shift { unmatched, ..of_differences(&d, k) })
    }

    /// Unpaired over two seed sets.
    pub fn unpaired(a: &[Value], b: &[Value], level: f64) -> Shift {
        let d: Vec<Value> = a.iter().flat_map(|a| b.iter().map(move |b| a.minus(*b))).collect();
        let k = null::unpaired(a.len(), b.len(), &tie_groups(a, b), level);
        let p = brunner_munzel::interval(a, b, level).map(|i| (i.low, i.high));
        Shift { p_interval: Some(p), ..of_differences(&d, k) }
    }
}

/// The values of the seeds both sides have, as (a, b) pairs in `a`'s
/// order, and the seeds only one side has.
pub fn pair_by_seed(a: &[SeedValue], b: &[SeedValue]) -> anyhow::Result<(Vec<(Value, Value)>, Unmatched)> {
    let index = |side: &[SeedValue], name: &str| -> anyhow::Result<BTreeMap<u64, Value>> {
        let mut map = BTreeMap::new();
        for s in side {
            if map.insert(s.seed, s.value).is_some() {
                anyhow::bail!("seed {} has two values in `{name}`: a pairing needs one value per seed", s.seed);
            }
        }
        Ok(map)
    };
    let (in_a, in_b) = (index(a, "a")?, index(b, "b")?);
    let pairs = a.iter().filter_map(|s| in_b.get(&s.seed).map(|v| (s.value, *v))).collect();
    let unmatched = Unmatched {
        only_a: a.iter().map(|s| s.seed).filter(|s| !in_b.contains_key(s)).collect(),
        only_b: b.iter().map(|s| s.seed).filter(|s| !in_a.contains_key(s)).collect(),
    };
    Ok((pairs, unmatched))
}

/// The sizes of the groups of equal exact values in `a` and `b` pooled.
fn tie_groups(a: &[Value], b: &[Value]) -> Vec<usize> {
    let mut numbers: Vec<f64> = a.iter().chain(b).filter_map(|v| v.number()).collect();
    numbers.sort_by(f64::total_cmp);
    numbers.chunk_by(|x, y| x == y).map(<[f64]>::len).filter(|&t| t > 1).collect()
}

/// The statistics of differences `d` with the interval's order index `k`
/// (None: too few for the level).
fn of_differences(d: &[Value], k: Option<null::OrderIndex>) -> Shift {
    let n = d.len();
    let (ci_low, ci_high, confidence) = match k {
        Some(o) if n > 0 => (order_statistic(d, o.k), order_statistic(d, n + 1 - o.k), o.level),
        _ => (Value::undefined(), Value::undefined(), f64::NAN),
    };
    Shift {
        pairs: n,
        median_difference: quantile(d, 0.5),
        ci_low,
        ci_high,
        confidence,
        p_a_below_b: below_zero(d),
        p_interval: None,
        unmatched: Unmatched::default(),
    }
}

/// The k-th smallest of `values` (1-based): bounded below by the k-th
/// smallest lower end and above by the k-th smallest upper end.
fn order_statistic(values: &[Value], k: usize) -> Value {
    let kth = |end: fn(&Value) -> f64| {
        let mut ends: Vec<f64> = values.iter().map(end).collect();
        ends.select_nth_unstable_by(k - 1, f64::total_cmp);
        ends[k - 1]
    };
    Value::between(kth(|v| v.lo), kth(|v| v.hi))
}

/// The fraction of differences below 0 (ties ½), as bounds where a
/// difference's own bounds straddle 0; undefined of none.
fn below_zero(d: &[Value]) -> Value {
    if d.is_empty() {
        return Value::undefined();
    }
    let (mut lo, mut hi) = (0.0, 0.0);
    for v in d {
        let (l, h) = match (v.hi < 0.0, v.lo > 0.0, v.number() == Some(0.0)) {
            (true, _, _) => (1.0, 1.0),
            (_, true, _) => (0.0, 0.0),
            (_, _, true) => (0.5, 0.5),
            _ => (0.0, 1.0),
        };
        lo += l;
        hi += h;
    }
    let n = d.len() as f64;
    Value::between(lo / n, hi / n)
}

#[cfg(test)]
mod tests;
