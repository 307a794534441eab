//! The shift between two conditions over seeds, with an exact,
//! distribution-free confidence interval (docs/claims.md, "Comparisons
//! with statistics"; docs/methods.md, "Comparisons over seeds"):
//!
//! - **paired** (the same seeds in both): the differences dᵢ = aᵢ − bᵢ,
//!   their median, and the sign-test interval [d₍ₖ₎, d₍ₙ₊₁₋ₖ₎], k the
//!   largest with 2·P(Bin(n, ½) ≤ k − 1) ≤ 1 − level;
//! - **unpaired** (two seed sets): every difference aᵢ − bⱼ, their median
//!   (the Hodges–Lehmann shift) and the Mann–Whitney interval
//!   [D₍ₖ₎, D₍ₙₘ₊₁₋ₖ₎], k from the exact null distribution of U.
//!
//! Both hold their level whatever the distribution, and both are order
//! statistics, so censored values (a seed that never reached an event)
//! carry through as bounds ([`Value`]). Too few seeds for the level asked
//! give an interval with no bounds (undefined), and the level reached is
//! reported: 5 pairs cannot give 95 % (at most 93.75 %), 6 can.

use crate::claims::value::{Value, quantile};

/// The statistics of one comparison of `a` against `b`.
#[derive(Clone, Copy, Debug, PartialEq)]
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
}

impl Shift {
    /// Paired over the same seeds: `a[i]` and `b[i]` are seed i's values.
    pub fn paired(a: &[Value], b: &[Value], level: f64) -> Shift {
        let d: Vec<Value> = a.iter().zip(b).map(|(a, b)| a.minus(*b)).collect();
        let k = order_index(&sign_test_null(d.len()), level);
        of_differences(&d, k)
    }

    /// Unpaired over two seed sets.
    pub fn unpaired(a: &[Value], b: &[Value], level: f64) -> Shift {
        let d: Vec<Value> = a.iter().flat_map(|a| b.iter().map(move |b| a.minus(*b))).collect();
        let k = order_index(&mann_whitney_null(a.len(), b.len()), level);
        of_differences(&d, k)
    }
}

/// The statistics of differences `d` with the interval's order index `k`
/// (1-based; None: too few for the level).
fn of_differences(d: &[Value], k: Option<(usize, f64)>) -> Shift {
    let n = d.len();
    let (ci_low, ci_high, confidence) = match k {
        Some((k, confidence)) if n > 0 => (order_statistic(d, k), order_statistic(d, n + 1 - k), confidence),
        _ => (Value::undefined(), Value::undefined(), f64::NAN),
    };
    Shift { pairs: n, median_difference: quantile(d, 0.5), ci_low, ci_high, confidence, p_a_below_b: below_zero(d) }
}

/// The k-th smallest of `values` (1-based): bounded below by the k-th
/// smallest lower end and above by the k-th smallest upper end.
fn order_statistic(values: &[Value], k: usize) -> Value {
    let kth = |end: fn(&Value) -> f64| {
        let mut ends: Vec<f64> = values.iter().map(end).collect();
        ends.sort_by(f64::total_cmp);
        ends[k - 1]
    };
    Value { lo: kth(|v| v.lo), hi: kth(|v| v.hi) }
}

/// The fraction of differences below 0 (ties ½), as bounds where a
/// difference's own bounds straddle 0.
fn below_zero(d: &[Value]) -> Value {
    if d.is_empty() {
        return Value::exact(f64::NAN);
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
    Value { lo: lo / n, hi: hi / n }
}

/// The largest 1-based k whose two tails P(S ≤ k − 1) each stay within
/// (1 − level)/2 under the null distribution `null` (probabilities of
/// S = 0, 1, ...), with the level reached: 1 − 2·P(S ≤ k − 1).
fn order_index(null: &[f64], level: f64) -> Option<(usize, f64)> {
    let alpha = 1.0 - level;
    let mut tail = 0.0;
    let mut best = None;
    for (k_minus_1, p) in null.iter().enumerate() {
        tail += p;
        if 2.0 * tail > alpha + 1e-12 || 2 * (k_minus_1 + 1) > null.len() {
            break;
        }
        best = Some((k_minus_1 + 1, 1.0 - 2.0 * tail));
    }
    best
}

/// P(S = s) for S ~ Bin(n, ½), s = 0..=n (the sign test's null).
fn sign_test_null(n: usize) -> Vec<f64> {
    let mut p = vec![1.0];
    for _ in 0..n {
        let mut next = vec![0.0; p.len() + 1];
        for (s, q) in p.iter().enumerate() {
            next[s] += q / 2.0;
            next[s + 1] += q / 2.0;
        }
        p = next;
    }
    p
}

/// P(U = u), u = 0..=n·m, for the Mann–Whitney U of samples of sizes n
/// and m with no ties: the count of arrangements with u inversions over
/// C(n + m, n), by the usual recursion on the last element.
fn mann_whitney_null(n: usize, m: usize) -> Vec<f64> {
    // counts[i][j][u] would be large; fold over n with a table per (i, j).
    let mut table = vec![vec![Vec::<f64>::new(); m + 1]; n + 1];
    for i in 0..=n {
        for j in 0..=m {
            table[i][j] = if i == 0 || j == 0 {
                vec![1.0]
            } else {
                let mut c = vec![0.0; i * j + 1];
                for (u, x) in table[i - 1][j].iter().enumerate() {
                    c[u + j] += x; // the largest value is from the first sample: it beats all j
                }
                for (u, x) in table[i][j - 1].iter().enumerate() {
                    c[u] += x;
                }
                c
            };
        }
    }
    let counts = &table[n][m];
    let total: f64 = counts.iter().sum();
    counts.iter().map(|c| c / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(values: &[f64]) -> Vec<Value> {
        values.iter().copied().map(Value::exact).collect()
    }

    /// Sign test: 5 pairs reach at most 93.75 %; 6 pairs reach 96.9 %
    /// with [d₍₁₎, d₍₆₎]; 10 pairs 97.9 % with [d₍₂₎, d₍₉₎].
    #[test]
    fn the_sign_test_interval_has_its_textbook_order_statistics() {
        assert_eq!(order_index(&sign_test_null(5), 0.95), None);
        assert_eq!(order_index(&sign_test_null(5), 0.9).map(|(k, _)| k), Some(1));
        let (k, level) = order_index(&sign_test_null(6), 0.95).unwrap();
        assert_eq!((k, (level * 1e4).round() / 1e4), (1, 0.9688));
        let (k, level) = order_index(&sign_test_null(10), 0.95).unwrap();
        assert_eq!((k, (level * 1e4).round() / 1e4), (2, 0.9785));
    }

    /// Mann–Whitney with 5 and 5: P(U ≤ 2) = 4/252, so k = 3 at 95 %
    /// (the tables' critical value 2), reaching 1 − 8/252.
    #[test]
    fn the_mann_whitney_null_matches_its_table() {
        let null = mann_whitney_null(5, 5);
        assert_eq!(null.len(), 26);
        assert!((null[0] * 252.0 - 1.0).abs() < 1e-12 && (null[2] * 252.0 - 2.0).abs() < 1e-12);
        assert!((null.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let (k, level) = order_index(&null, 0.95).unwrap();
        assert_eq!(k, 3);
        assert!((level - (1.0 - 8.0 / 252.0)).abs() < 1e-12);
        assert_eq!(order_index(&mann_whitney_null(3, 3), 0.95), None, "3 and 3 cannot reach 95 %");
    }

    #[test]
    fn a_paired_shift_and_its_interval() {
        let a = exact(&[100.0, 104.0, 98.0, 110.0, 101.0, 99.0]);
        let b = exact(&[120.0, 121.0, 119.0, 125.0, 118.0, 130.0]);
        let s = Shift::paired(&a, &b, 0.95);
        assert_eq!(s.pairs, 6);
        assert_eq!(s.median_difference, Value::exact(-18.5)); // d = -20 -17 -21 -15 -17 -31
        assert_eq!((s.ci_low, s.ci_high), (Value::exact(-31.0), Value::exact(-15.0)));
        assert_eq!(s.p_a_below_b, Value::exact(1.0));
    }

    /// A base that never reached the event within 300 epochs: every
    /// difference is "≤ a − 301", so the interval lies below 0.
    #[test]
    fn censored_values_bound_the_interval() {
        let a = exact(&[196.0, 201.0, 199.0, 198.0, 200.0, 197.0]);
        let b = vec![Value::at_least(301.0); 6];
        let s = Shift::paired(&a, &b, 0.95);
        assert_eq!(s.ci_high.describe(), "≤ -100");
        assert_eq!(s.p_a_below_b, Value::exact(1.0));
        let u = Shift::unpaired(&a, &b, 0.95);
        assert_eq!((u.pairs, u.ci_high.describe()), (36, "≤ -100".to_string()));
    }

    #[test]
    fn too_few_seeds_give_no_interval() {
        let s = Shift::paired(&exact(&[1.0, 2.0, 3.0]), &exact(&[2.0, 3.0, 4.0]), 0.95);
        assert!(s.ci_low.is_undefined() && s.confidence.is_nan());
        assert_eq!(s.median_difference, Value::exact(-1.0));
    }
}
