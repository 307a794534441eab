//! The pairs of a task and their seeded split (docs/methods.md, "Setup" and "Tasks").
//!
//! Pair `i` of the M² ordered pairs is `(a, b) = (i div M, i mod M)`; its
//! label is the task's ([`Task::label`]), `(a + b) mod M` for Tian's
//! modular addition. The split is a seeded permutation of the task's pairs
//! ([`crate::seeding`], [`Task::pairs`]): position j of the permutation is
//! the task's j-th pair (pair index j itself when the task holds all M²
//! pairs). Its first `n` pairs are training, the rest test, both in
//! permutation order (as the paper's script keeps them).

use crate::seeding::RngScheme;
use crate::task::Task;

/// Number of training pairs, as the paper's script computes it:
/// `int(round(p * M * M))`, evaluated left to right in f64 with Python's
/// round-half-to-even (docs/methods.md, "Setup"): 2016 for M = 71, p = 0.4;
/// 840 for M = 41, p = 0.5 (840.5 rounds to even).
pub fn n_train(modulus: usize, train_fraction: f64) -> usize {
    Task::Add.n_train(modulus, train_fraction)
}

/// The operands `(a, b)` of pair index `i`.
pub fn pair(modulus: usize, i: usize) -> (usize, usize) {
    (i / modulus, i % modulus)
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
    /// The task's label of each pair, `(a + b) mod M` for addition.
    pub labels: Vec<usize>,
}

impl PairSet {
    /// The caller checked that every pair is in the task ([`check_partition`]).
    fn new(task: &Task, modulus: usize, pairs: Vec<usize>) -> Self {
        let a: Vec<usize> = pairs.iter().map(|&i| pair(modulus, i).0).collect();
        let b: Vec<usize> = pairs.iter().map(|&i| pair(modulus, i).1).collect();
        let labels = a.iter().zip(&b).map(|(&a, &b)| task.label(a, b, modulus).expect("pair in the task")).collect();
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

/// The train/test split of a task's pairs (all M² but for `div`).
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Modulus M (number of classes).
    pub modulus: usize,
    /// The task that labels the pairs.
    pub task: Task,
    /// Training pairs (the first n of the permutation).
    pub train: PairSet,
    /// Test pairs (the rest of the task's pairs).
    pub test: PairSet,
}

impl Split {
    /// The seeded split of modular addition: a permutation of the M² pairs
    /// from `scheme`, the first `n_train` of it training.
    pub fn seeded(modulus: usize, n_train: usize, seed: u64, scheme: RngScheme) -> Self {
        Self::seeded_task(&Task::Add, modulus, n_train, seed, scheme)
    }

    /// The seeded split of `task`: a permutation of its pairs' positions
    /// from `scheme`, mapped to the pairs; the first `n_train` training.
    pub fn seeded_task(task: &Task, modulus: usize, n_train: usize, seed: u64, scheme: RngScheme) -> Self {
        let pairs = task.pairs(modulus);
        let order = scheme.permutation(pairs.len(), seed);
        let mut order: Vec<usize> = order.into_iter().map(|j| pairs[j]).collect();
        let test = order.split_off(n_train);
        Self::from_task_indices(task, modulus, order, test)
    }

    /// A split of modular addition from explicit pair indices (e.g.
    /// imported from PyTorch). The caller validates that they partition the M² pairs.
    pub fn from_indices(modulus: usize, train: Vec<usize>, test: Vec<usize>) -> Self {
        Self::from_task_indices(&Task::Add, modulus, train, test)
    }

    /// A split of `task` from explicit pair indices; the caller validates
    /// that they partition the task's pairs ([`check_partition`]).
    pub fn from_task_indices(task: &Task, modulus: usize, train: Vec<usize>, test: Vec<usize>) -> Self {
        let (train, test) = (PairSet::new(task, modulus, train), PairSet::new(task, modulus, test));
        Self { modulus, task: task.clone(), train, test }
    }
}

/// Check that `train` and `test` together hold every pair index of the
/// task (all of `0..M²`, or those with b ≠ 0 for `div`) exactly once; the
/// error says what is wrong.
pub fn check_partition(task: &Task, modulus: usize, train: &[usize], test: &[usize]) -> Result<(), String> {
    let total = modulus * modulus;
    let mut seen = vec![false; total];
    for (name, set) in [("train_idx", train), ("test_idx", test)] {
        for &i in set {
            if i >= total {
                return Err(format!("{name}: pair index {i} is outside 0..{total}"));
            }
            let (a, b) = pair(modulus, i);
            if task.label(a, b, modulus).is_none() {
                return Err(format!("{name}: pair index {i} ({a}, {b}) is not a pair of task {task}"));
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("{name}: pair index {i} appears twice"));
            }
        }
    }
    match task.pairs(modulus).into_iter().find(|&i| !seen[i]) {
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
        check_partition(&Task::Add, 71, &split.train.pairs, &split.test.pairs).unwrap();
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
        assert!(check_partition(&Task::Add, 2, &[0, 1], &[2, 3]).is_ok());
        assert!(check_partition(&Task::Add, 2, &[0, 1], &[2, 2]).unwrap_err().contains("twice"));
        assert!(check_partition(&Task::Add, 2, &[0, 1], &[2, 4]).unwrap_err().contains("outside"));
        assert!(check_partition(&Task::Add, 2, &[0, 1], &[2]).unwrap_err().contains("neither"));
    }

    #[test]
    fn tasks_over_all_pairs_split_them_as_addition_does() {
        let add = Split::seeded(7, 20, 3, RngScheme::Torch);
        for task in [Task::Sub, Task::Mul] {
            let split = Split::seeded_task(&task, 7, 20, 3, RngScheme::Torch);
            assert_eq!((&split.train.pairs, &split.test.pairs), (&add.train.pairs, &add.test.pairs), "{task}");
            for set in [&split.train, &split.test] {
                for k in 0..set.len() {
                    assert_eq!(Some(set.labels[k]), task.label(set.a[k], set.b[k], 7));
                }
            }
        }
        assert_eq!(Split::seeded_task(&Task::Add, 7, 20, 3, RngScheme::Torch), add);
    }

    /// Division leaves out b = 0: the split is a permutation of the
    /// M·(M−1) other pairs, n of them training.
    #[test]
    fn division_splits_the_pairs_with_an_inverse() {
        let n = Task::Div.n_train(7, 0.5);
        assert_eq!(n, 21);
        for scheme in [RngScheme::Torch, RngScheme::Chacha] {
            let split = Split::seeded_task(&Task::Div, 7, n, 4, scheme);
            assert_eq!((split.train.len(), split.test.len()), (21, 21));
            check_partition(&Task::Div, 7, &split.train.pairs, &split.test.pairs).unwrap();
            for set in [&split.train, &split.test] {
                assert!(set.b.iter().all(|&b| b != 0));
                for k in 0..set.len() {
                    assert_eq!((set.labels[k] * set.b[k]) % 7, set.a[k], "label · b = a");
                }
            }
        }
        let full = Split::seeded(7, 21, 4, RngScheme::Torch);
        let err = check_partition(&Task::Div, 7, &full.train.pairs, &full.test.pairs).unwrap_err();
        assert!(err.contains("is not a pair of task div"), "{err}");
    }
}
