//! Which binary operation on Z_M labels the pairs (docs/methods.md,
//! "Tasks"): Tian's modular addition (the paper's task and the default),
//! subtraction, multiplication and division.
//!
//! A task is a pure labelling `label(a, b, M) -> Option<usize>`; `None`
//! means the pair is not in the task's dataset (division's b = 0, which has
//! no inverse). The split is a seeded permutation of the task's pairs
//! (`Split`, in the data module); for `add`, `sub` and `mul` these are all M²
//! pairs in index order, so the same seed splits the same pairs bit for
//! bit as the paper's addition runs.

use serde::{Deserialize, Serialize};

/// A built-in task. Names are read without regard to case (`task: MUL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// (a + b) mod M: Tian's modular addition, the paper's task.
    #[default]
    Add,
    /// (a − b) mod M.
    Sub,
    /// (a · b) mod M; zero is a class like any other.
    Mul,
    /// a · b⁻¹ mod M, M prime; pairs with b = 0 are left out.
    Div,
}

/// Every built-in task, in the order messages list them.
pub const TASKS: [Task; 4] = [Task::Add, Task::Sub, Task::Mul, Task::Div];

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Task::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl Task {
    /// The name claim files, flags, cache keys and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Task::Add => "add",
            Task::Sub => "sub",
            Task::Mul => "mul",
            Task::Div => "div",
        }
    }

    /// A task by name (any case); the error lists the built-ins.
    pub fn parse(name: &str) -> Result<Task, String> {
        TASKS.into_iter().find(|t| t.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
            let names: Vec<&str> = TASKS.iter().map(|t| t.name()).collect();
            format!("unknown task `{name}`, expected one of {} (the built-ins)", names.join(", "))
        })
    }

    /// Whether this is addition, the default: left out of a spec's JSON so
    /// that the cache keys and `spec.json` of addition runs do not change.
    pub fn is_add(&self) -> bool {
        *self == Task::Add
    }

    /// The label of pair (a, b), a, b in 0..M; `None` when the pair is not
    /// in the task (division by zero, or by a b without inverse mod M).
    pub fn label(self, a: usize, b: usize, modulus: usize) -> Option<usize> {
        let m = modulus;
        match self {
            Task::Add => Some((a + b) % m),
            Task::Sub => Some((a + m - b % m) % m),
            Task::Mul => Some((a * b) % m),
            Task::Div => inverse(b, m).map(|inv| (a * inv) % m),
        }
    }

    /// The task's pair indices `a·M + b`, ascending: all M² pairs, or for
    /// `div` the M·(M−1) with b ≠ 0 (M prime).
    pub fn pairs(self, modulus: usize) -> Vec<usize> {
        (0..modulus * modulus).filter(|&i| self.label(i / modulus, i % modulus, modulus).is_some()).collect()
    }

    /// Number of the task's pairs: M², or M·(M−1) for `div` (M prime).
    pub fn pair_count(self, modulus: usize) -> usize {
        match self {
            Task::Div => modulus * modulus.saturating_sub(1),
            _ => modulus * modulus,
        }
    }

    /// Training pairs for fraction p, left to right in f64 and rounded half
    /// to even as the paper's script computes `int(round(p * M * M))`
    /// (docs/methods.md, "Setup"): round(p·M·M) for the tasks over all M²
    /// pairs, round(p·M·(M−1)) for `div` ("Tasks").
    pub fn n_train(self, modulus: usize, train_fraction: f64) -> usize {
        let m = modulus as f64;
        let second = if self == Task::Div { m - 1.0 } else { m };
        (train_fraction * m * second).round_ties_even() as usize
    }

    /// Whether M suits the task: `div` needs M prime (every b ≠ 0 then has
    /// an inverse); the others take any M.
    pub fn check_modulus(self, modulus: usize) -> Result<(), String> {
        if self == Task::Div && !is_prime(modulus) {
            return Err(format!("task div needs a prime modulus (every b ≠ 0 invertible mod M), got M = {modulus}"));
        }
        Ok(())
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// b⁻¹ mod m by the extended Euclidean algorithm; `None` when gcd(b, m) ≠ 1
/// (b = 0 among them).
fn inverse(b: usize, m: usize) -> Option<usize> {
    let (mut r0, mut r1) = (m as i64, (b % m) as i64);
    let (mut t0, mut t1) = (0i64, 1i64);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    (r0 == 1).then(|| t0.rem_euclid(m as i64) as usize)
}

/// Whether n is prime (trial division; M ≤ 1024).
pub fn is_prime(n: usize) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The task's table for M = 5: row a, column b; -1 for a pair left out.
    fn table(task: Task) -> Vec<Vec<i64>> {
        (0..5).map(|a| (0..5).map(|b| task.label(a, b, 5).map_or(-1, |l| l as i64)).collect()).collect()
    }

    #[test]
    fn m5_tables() {
        let add = [[0, 1, 2, 3, 4], [1, 2, 3, 4, 0], [2, 3, 4, 0, 1], [3, 4, 0, 1, 2], [4, 0, 1, 2, 3]];
        let sub = [[0, 4, 3, 2, 1], [1, 0, 4, 3, 2], [2, 1, 0, 4, 3], [3, 2, 1, 0, 4], [4, 3, 2, 1, 0]];
        let mul = [[0, 0, 0, 0, 0], [0, 1, 2, 3, 4], [0, 2, 4, 1, 3], [0, 3, 1, 4, 2], [0, 4, 3, 2, 1]];
        // a / b: 1⁻¹ = 1, 2⁻¹ = 3, 3⁻¹ = 2, 4⁻¹ = 4 mod 5.
        let div = [[-1, 0, 0, 0, 0], [-1, 1, 3, 2, 4], [-1, 2, 1, 4, 3], [-1, 3, 4, 1, 2], [-1, 4, 2, 3, 1]];
        for (task, want) in [(Task::Add, add), (Task::Sub, sub), (Task::Mul, mul), (Task::Div, div)] {
            assert_eq!(table(task), want.map(Vec::from).to_vec(), "{task}");
        }
    }

    #[test]
    fn division_inverts_multiplication() {
        for m in [7, 71] {
            for a in 0..m {
                for b in 1..m {
                    let q = Task::Div.label(a, b, m).unwrap();
                    assert_eq!(Task::Mul.label(q, b, m), Some(a), "M = {m}: ({a} / {b}) · {b}");
                    assert_eq!(Task::Sub.label(Task::Add.label(a, b, m).unwrap(), b, m), Some(a));
                }
            }
        }
    }

    #[test]
    fn pair_sets_and_their_sizes() {
        for task in [Task::Add, Task::Sub, Task::Mul] {
            assert_eq!(task.pairs(71), (0..5041).collect::<Vec<_>>(), "{task}: every pair, in index order");
            assert_eq!(task.pair_count(71), 5041);
            assert_eq!(task.n_train(71, 0.4), 2016, "{task}: the paper's n");
        }
        let div = Task::Div.pairs(71);
        assert_eq!((div.len(), Task::Div.pair_count(71)), (4970, 4970), "M·(M−1)");
        assert!(div.iter().all(|i| i % 71 != 0), "no b = 0");
        assert_eq!(Task::Div.n_train(71, 0.4), 1988, "round(0.4 · 71 · 70)");
        assert_eq!(Task::Div.n_train(5, 0.5), 10);
        assert_eq!(Task::Div.n_train(3, 0.25), 2, "1.5 rounds half to even");
    }

    #[test]
    fn names_parse_in_any_case_and_unknown_ones_list_the_built_ins() {
        for task in TASKS {
            assert_eq!(Task::parse(task.name()), Ok(task));
            assert_eq!(Task::parse(&task.name().to_uppercase()), Ok(task));
        }
        let err = Task::parse("pow").unwrap_err();
        assert!(err.contains("unknown task `pow`") && err.contains("add, sub, mul, div"), "{err}");
    }

    #[test]
    fn division_needs_a_prime_modulus() {
        assert!(Task::Div.check_modulus(71).is_ok());
        assert!(Task::Div.check_modulus(9).unwrap_err().contains("prime modulus"));
        assert!(Task::Mul.check_modulus(9).is_ok(), "mul is defined for every M");
        let primes: Vec<usize> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert_eq!(inverse(3, 9), None);
    }

    /// The cache keys and spec.json of addition runs are those of the code
    /// before tasks existed (printed by commit 949ce54's `cache_key`), and
    /// a run of another task is another run.
    #[test]
    fn addition_keys_are_unchanged() {
        use crate::cache::{cache_key, trajectory_key};
        use crate::train::TrainSpec;
        let d = TrainSpec::default();
        let small = TrainSpec { modulus: 7, width: 16, epochs: 5, window: 2, ..d.clone() };
        assert_eq!(cache_key(&d), "sqr-flex-eta2e-4-s0-8e2841eab3ab4ba5");
        assert_eq!(trajectory_key(&d), "sqr-flex-eta2e-4-s0-116c4eadc06c60ed");
        assert_eq!(cache_key(&small), "sqr-flex-eta2e-4-s0-be8928805d1cde67");
        assert!(!serde_json::to_string(&d).unwrap().contains("task"));
        let mul = TrainSpec { task: Task::Mul, ..d.clone() };
        assert!(cache_key(&mul).starts_with("mul-sqr-flex-eta2e-4-s0-"), "{}", cache_key(&mul));
        assert_ne!(cache_key(&mul)[4..], cache_key(&d)[..], "the hash differs too");
        assert!(serde_json::to_string(&mul).unwrap().contains(r#""task":"mul""#));
        let back: TrainSpec = serde_json::from_str(&serde_json::to_string(&mul).unwrap()).unwrap();
        assert_eq!(back, mul);
        // Nor do the optimiser, loss and label noise appear at their defaults.
        let json = serde_json::to_string(&d).unwrap();
        assert!(["optimizer", "momentum", "loss", "label_noise"].iter().all(|f| !json.contains(f)), "{json}");
    }
}
