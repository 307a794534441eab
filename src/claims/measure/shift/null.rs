//! Where an interval's ends sit among the ordered differences: the order
//! index k of the sign test (paired) and of the Mann–Whitney test
//! (unpaired), from their null distributions (docs/methods.md,
//! "Comparisons over seeds").

use super::distributions::{normal_cdf, quantile_of};

/// The most differences n·m the unpaired interval reads from the exact
/// Mann–Whitney null; past it, the normal approximation with continuity
/// correction. The exact table's two rows then hold at most n·m·min(n, m)
/// numbers (8 MB at 100 × 100), and C(n + m, n) stays far inside f64.
pub const EXACT_MANN_WHITNEY: usize = 10_000;

/// The interval's order index: the 1-based k of [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎], and the
/// level it reaches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderIndex {
    /// k.
    pub k: usize,
    /// 1 − 2·P(S ≤ k − 1) under the null.
    pub level: f64,
}

/// The largest 1-based k whose two tails P(S ≤ k − 1) each stay within
/// (1 − level)/2 under the null distribution `null` (probabilities of
/// S = 0, 1, ...), with the level reached.
pub fn order_index(null: &[f64], level: f64) -> Option<OrderIndex> {
    let alpha = 1.0 - level;
    let mut tail = 0.0;
    let mut best = None;
    for (k_minus_1, p) in null.iter().enumerate() {
        tail += p;
        if 2.0 * tail > alpha + 1e-12 || 2 * (k_minus_1 + 1) > null.len() {
            break;
        }
        best = Some(OrderIndex { k: k_minus_1 + 1, level: 1.0 - 2.0 * tail });
    }
    best
}

/// The paired interval's index over `n` differences (the sign test).
pub fn paired(n: usize, level: f64) -> Option<OrderIndex> {
    order_index(&sign_test_null(n), level)
}

/// The unpaired interval's index over n·m differences (Mann–Whitney):
/// exact up to [`EXACT_MANN_WHITNEY`] differences, then normal with
/// continuity correction. `ties` are the sizes of the groups of equal
/// values in the pooled sample; they narrow U's spread (a tie correction
/// that only the approximation needs, as the exact table is read for the
/// untied case, which is conservative with ties).
pub fn unpaired(n: usize, m: usize, ties: &[usize], level: f64) -> Option<OrderIndex> {
    if n * m <= EXACT_MANN_WHITNEY {
        order_index(&mann_whitney_null(n, m), level)
    } else {
        mann_whitney_normal(n, m, ties, level)
    }
}

/// P(S = s) for S ~ Bin(n, ½), s = 0..=n (the sign test's null).
pub fn sign_test_null(n: usize) -> Vec<f64> {
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
/// C(n + m, n), by the recursion on the last element, c(i, j) = c(i − 1,
/// j) shifted by j + c(i, j − 1), keeping two rows of the table at a time
/// (U's distribution is the same for (n, m) and (m, n): the shorter side
/// indexes the rows' columns).
pub fn mann_whitney_null(n: usize, m: usize) -> Vec<f64> {
    let (n, m) = (n.max(m), n.min(m));
    let mut previous: Vec<Vec<f64>> = vec![vec![1.0]; m + 1]; // row i = 0
    for i in 1..=n {
        let mut row: Vec<Vec<f64>> = Vec::with_capacity(m + 1);
        row.push(vec![1.0]);
        for j in 1..=m {
            let mut c = vec![0.0; i * j + 1];
            for (u, x) in previous[j].iter().enumerate() {
                c[u + j] += x; // the largest value is from the first sample: it beats all j
            }
            for (u, x) in row[j - 1].iter().enumerate() {
                c[u] += x;
            }
            row.push(c);
        }
        previous = row;
    }
    let counts = &previous[m];
    let total: f64 = counts.iter().sum();
    counts.iter().map(|c| c / total).collect()
}

/// The Mann–Whitney index from U's normal approximation: mean n·m/2,
/// variance n·m/12·(N + 1 − Σ(t³ − t)/(N(N − 1))) over tie groups t,
/// P(U ≤ k − 1) ≈ Φ((k − 1 + ½ − mean)/sd).
fn mann_whitney_normal(n: usize, m: usize, ties: &[usize], level: f64) -> Option<OrderIndex> {
    let (nf, mf, total) = (n as f64, m as f64, (n + m) as f64);
    let tied: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let sd = (nf * mf / 12.0 * (total + 1.0 - tied / (total * (total - 1.0)))).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return None; // every value tied: no spread to place an interval in
    }
    let mean = nf * mf / 2.0;
    let tail = |k: usize| normal_cdf((k as f64 - 1.0 + 0.5 - mean) / sd);
    let z = quantile_of(normal_cdf, (1.0 - level) / 2.0);
    let mut k = (mean + 0.5 + z * sd).floor().max(0.0) as usize;
    while k >= 1 && 2.0 * tail(k) > 1.0 - level + 1e-12 {
        k -= 1;
    }
    (k >= 1).then(|| OrderIndex { k, level: 1.0 - 2.0 * tail(k) })
}

/// The fewest paired seeds whose sign-test interval reaches `level`: an
/// interval exists when its widest, [d₍₁₎, d₍ₙ₎], does, at level 1 − 2·2⁻ⁿ.
pub fn paired_seeds_needed(level: f64) -> usize {
    (1..).find(|&n| 2.0 * 0.5f64.powi(n as i32) <= 1.0 - level + 1e-12).expect("some n reaches any level below 1")
}

/// With `n` seeds on one side, the fewest seeds the other side needs for
/// an unpaired interval at `level` (None: more than 10 000): the widest
/// interval [D₍₁₎, D₍ₙₘ₎] has level 1 − 2/C(n + m, n).
pub fn unpaired_seeds_needed(n: usize, level: f64) -> Option<usize> {
    let mut arrangements = 1.0; // C(n + m, n) at m = 0
    for m in 1..=EXACT_MANN_WHITNEY {
        arrangements = arrangements * (n + m) as f64 / m as f64;
        if 2.0 / arrangements <= 1.0 - level + 1e-12 {
            return Some(m);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sign test: 5 pairs reach at most 93.75 %; 6 pairs reach 96.9 %
    /// with [d₍₁₎, d₍₆₎]; 10 pairs 97.9 % with [d₍₂₎, d₍₉₎].
    #[test]
    fn the_sign_test_interval_has_its_textbook_order_statistics() {
        assert_eq!(paired(5, 0.95), None);
        assert_eq!(paired(5, 0.9).map(|o| o.k), Some(1));
        let o = paired(6, 0.95).unwrap();
        assert_eq!((o.k, (o.level * 1e4).round() / 1e4), (1, 0.9688));
        let o = paired(10, 0.95).unwrap();
        assert_eq!((o.k, (o.level * 1e4).round() / 1e4), (2, 0.9785));
        assert_eq!(paired_seeds_needed(0.95), 6);
        assert_eq!(paired_seeds_needed(0.9), 5);
    }

    /// The sign test's index and level against the exact binomial, summed
    /// in integers, for n = 1..60 at 90, 95 and 99 %.
    #[test]
    fn the_sign_test_matches_the_exact_binomial() {
        for n in 1..=60u32 {
            let choose = |k: u32| (0..k).fold(1u128, |c, i| c * (n - i) as u128 / (i + 1) as u128);
            let total = 1u128 << n;
            for level in [0.9, 0.95, 0.99] {
                let tail = |k: u32| (0..k).map(choose).sum::<u128>() as f64 / total as f64;
                let expected = (1..=n / 2).take_while(|&k| 2.0 * tail(k) <= 1.0 - level + 1e-12).last();
                let got = paired(n as usize, level);
                assert_eq!(got.map(|o| o.k as u32), expected, "n = {n}, level {level}");
                if let (Some(o), Some(k)) = (got, expected) {
                    assert!((o.level - (1.0 - 2.0 * tail(k))).abs() < 1e-12);
                }
            }
        }
    }

    /// Mann–Whitney with 5 and 5: P(U ≤ 2) = 4/252, so k = 3 at 95 %
    /// (the tables' critical value 2), reaching 1 − 8/252.
    #[test]
    fn the_mann_whitney_null_matches_its_table() {
        let null = mann_whitney_null(5, 5);
        assert_eq!(null.len(), 26);
        assert!((null[0] * 252.0 - 1.0).abs() < 1e-12 && (null[2] * 252.0 - 2.0).abs() < 1e-12);
        assert!((null.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let o = unpaired(5, 5, &[], 0.95).unwrap();
        assert_eq!(o.k, 3);
        assert!((o.level - (1.0 - 8.0 / 252.0)).abs() < 1e-12);
        assert_eq!(unpaired(3, 3, &[], 0.95), None, "3 and 3 cannot reach 95 %");
        assert_eq!(mann_whitney_null(3, 7), mann_whitney_null(7, 3), "symmetric in n and m");
    }

    /// Critical values of the two-sided 5 % Mann–Whitney test (the
    /// standard table: U ≤ c rejects) are k − 1 for the interval's k.
    #[test]
    fn the_mann_whitney_index_matches_the_standard_table() {
        let table = [
            (2, 8, 0),
            (3, 5, 0),
            (3, 8, 2),
            (4, 4, 0),
            (4, 6, 2),
            (5, 5, 2),
            (5, 8, 6),
            (6, 6, 5),
            (6, 10, 11),
            (7, 7, 8),
            (8, 8, 13),
            (8, 12, 22),
            (9, 9, 17),
            (10, 10, 23),
            (10, 15, 39),
            (12, 12, 37),
            (15, 15, 64),
            (20, 20, 127),
        ];
        for (n, m, critical) in table {
            assert_eq!(unpaired(n, m, &[], 0.95).map(|o| o.k - 1), Some(critical), "{n} × {m}");
        }
        assert_eq!(unpaired(2, 7, &[], 0.95), None);
        assert_eq!(unpaired_seeds_needed(2, 0.95), Some(8));
        assert_eq!(unpaired_seeds_needed(3, 0.95), Some(5));
        assert_eq!(unpaired_seeds_needed(4, 0.95), Some(4));
        assert_eq!(unpaired_seeds_needed(1, 0.95), Some(39), "P(U = 0) = 1/40: 2.5 % a tail");
        assert_eq!(unpaired_seeds_needed(1, 0.9999), None, "past 10 000, at once");
        for (n, level) in [(2, 0.95), (3, 0.99), (5, 0.9)] {
            let m = unpaired_seeds_needed(n, level).unwrap();
            assert!(unpaired(n, m, &[], level).is_some() && unpaired(n, m - 1, &[], level).is_none(), "{n} {level}");
        }
        assert_eq!(paired_seeds_needed(0.99), 8);
    }

    /// Past the exact table the normal approximation takes over: at 100 ×
    /// 101 (just past it) its index is within 1 of the exact one at 100 ×
    /// 100, and 1000 × 1000 is answered without the table.
    #[test]
    fn the_normal_approximation_continues_the_exact_index() {
        let exact = unpaired(100, 100, &[], 0.95).unwrap();
        let normal = mann_whitney_normal(100, 100, &[], 0.95).unwrap();
        assert!(exact.k.abs_diff(normal.k) <= 1, "{exact:?} {normal:?}");
        assert!((exact.level - normal.level).abs() < 2e-3);
        let big = unpaired(1000, 1000, &[], 0.95).unwrap();
        assert!(big.level >= 0.95 && big.level < 0.951, "{big:?}");
    }
}
