//! Tian's modular-addition task and its seeded split (docs/methods.md, "Setup").
//!
//! Pair `i` of the M² ordered pairs is `(a, b) = (i div M, i mod M)` with label
//! `(a + b) mod M`. The split is a seeded permutation of the pair indices
//! ([`crate::seeding`]); its first `n` pairs are training, the rest test,
//! both in permutation order (as the paper's script keeps them).

use crate::seeding::RngScheme;

/// Number of training pairs, as the paper's script computes it:
/// `int(round(p * M * M))`, evaluated left to right in f64 with Python's
/// round-half-to-even (docs/methods.md, "Setup"): 2016 for M = 71, p = 0.4;
/// 840 for M = 41, p = 0.5 (840.5 rounds to even).
pub fn n_train(modulus: usize, train_fraction: f64) -> usize {
    let m = modulus as f64;
    (train_fraction * m * m).round_ties_even() as usize
}

/// The operands `(a, b)` of pair index `i`.
pub fn pair(modulus: usize, i: usize) -> (usize, usize) {
    (i / modulus, i % modulus)
}

/// Label of pair index `i`: `(a + b) mod M`.
pub fn label(modulus: usize, i: usize) -> usize {
    let (a, b) = pair(modulus, i);
    (a + b) % modulus
}

/// One side of the split: pair indices with their operands and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct PairSet {
    /// Pair indices `a·M + b`, in split order.
    pub pairs: Vec<usize>,
    /// First operand `a` of each pair (the row of W x's first one-hot).
    pub a: Vec<usize>,
    /// Second operand `b` of each pair.
    pub b: Vec<usize>,
    /// `(a + b) mod M`.
    pub labels: Vec<usize>,
}

impl PairSet {
    fn new(modulus: usize, pairs: Vec<usize>) -> Self {
        let a = pairs.iter().map(|&i| pair(modulus, i).0).collect();
        let b = pairs.iter().map(|&i| pair(modulus, i).1).collect();
        let labels = pairs.iter().map(|&i| label(modulus, i)).collect();
        Self { pairs, a, b, labels }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the set holds no pair.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The train/test split of all M² pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Modulus M (number of classes).
    pub modulus: usize,
    /// Training pairs (the first n of the permutation).
    pub train: PairSet,
    /// Test pairs (the remaining M² − n).
    pub test: PairSet,
}

impl Split {
    /// The seeded split: a permutation of the M² pairs from `scheme`, the
    /// first `n_train` of it training.
    pub fn seeded(modulus: usize, n_train: usize, seed: u64, scheme: RngScheme) -> Self {
        let mut order = scheme.permutation(modulus * modulus, seed);
        let test = order.split_off(n_train);
        Self::from_indices(modulus, order, test)
    }

    /// A split from explicit pair indices (e.g. imported from PyTorch).
    /// The caller validates that they partition the M² pairs.
    pub fn from_indices(modulus: usize, train: Vec<usize>, test: Vec<usize>) -> Self {
        Self { modulus, train: PairSet::new(modulus, train), test: PairSet::new(modulus, test) }
    }
}

/// Check that `train` and `test` together hold every pair index in
/// `0..M²` exactly once; the error says what is wrong.
pub fn check_partition(modulus: usize, train: &[usize], test: &[usize]) -> Result<(), String> {
    let total = modulus * modulus;
    let mut seen = vec![false; total];
    for (name, set) in [("train_idx", train), ("test_idx", test)] {
        for &i in set {
            if i >= total {
                return Err(format!("{name}: pair index {i} is outside 0..{total}"));
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("{name}: pair index {i} appears twice"));
            }
        }
    }
    match seen.iter().position(|&s| !s) {
        Some(i) => Err(format!("pair index {i} is in neither train_idx nor test_idx")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_split_sizes_and_partition() {
        let n = n_train(71, 0.4);
        assert_eq!(n, 2016); // docs/methods.md, "Setup": 40% of 5041, rounded
        let split = Split::seeded(71, n, 0, RngScheme::Torch);
        assert_eq!(split.train.len(), 2016);
        assert_eq!(split.test.len(), 3025);
        check_partition(71, &split.train.pairs, &split.test.pairs).unwrap();
    }

    #[test]
    fn n_train_rounds_as_the_scaling_script_does() {
        // The scaling sweep's table: round(p·M²) for M ∈ {41, 71, 127}, p ∈ {0.1, 0.2, 0.3, 0.5}.
        let table = [(41, [168, 336, 504, 840]), (71, [504, 1008, 1512, 2520]), (127, [1613, 3226, 4839, 8064])];
        for (m, row) in table {
            let got: Vec<usize> = [0.1, 0.2, 0.3, 0.5].iter().map(|&p| n_train(m, p)).collect();
            assert_eq!(got, row, "M = {m}");
        }
        // floor(0.29 · 100) would give 28: 0.29·10·10 is 29.000000000000004.
        assert_eq!(n_train(10, 0.29), 29);
        assert_eq!(n_train(3, 0.5), 4, "4.5 rounds half to even");
    }

    #[test]
    fn labels_are_modular_sums() {
        let split = Split::seeded(7, 20, 3, RngScheme::Chacha);
        for set in [&split.train, &split.test] {
            for k in 0..set.len() {
                assert_eq!(set.a[k] * 7 + set.b[k], set.pairs[k]);
                assert_eq!(set.labels[k], (set.a[k] + set.b[k]) % 7);
            }
        }
    }

    #[test]
    fn split_is_seeded() {
        for scheme in [RngScheme::Torch, RngScheme::Chacha] {
            assert_eq!(Split::seeded(11, 40, 5, scheme), Split::seeded(11, 40, 5, scheme));
            assert_ne!(Split::seeded(11, 40, 5, scheme), Split::seeded(11, 40, 6, scheme));
        }
    }

    #[test]
    fn partition_errors_name_the_problem() {
        assert!(check_partition(2, &[0, 1], &[2, 3]).is_ok());
        assert!(check_partition(2, &[0, 1], &[2, 2]).unwrap_err().contains("twice"));
        assert!(check_partition(2, &[0, 1], &[2, 4]).unwrap_err().contains("outside"));
        assert!(check_partition(2, &[0, 1], &[2]).unwrap_err().contains("neither"));
    }
}
