//! Which operation labels the pairs (docs/methods.md, "Tasks"): Tian's
//! modular addition (the paper's task and the default), subtraction,
//! multiplication and division mod M, a polynomial in a and b mod M
//! ([`poly`]), or the table of any finite group or binary operation
//! ([`table`]).
//!
//! A task is a pure labelling `label(a, b, M) -> Option<usize>`; `None`
//! means the pair is not in the task's dataset (division's b = 0, which has
//! no inverse). The split is a seeded permutation of the task's pairs
//! (`Split`, in the data module); for every task but `div` these are all M²
//! pairs in index order, so the same seed splits the same pairs bit for
//! bit as the paper's addition runs.

pub mod poly;
pub mod table;

use serde::{Deserialize, Serialize};

pub use poly::Poly;
pub use table::Table;

/// A task. Built-in names are read without regard to case (`task: MUL`);
/// `poly:EXPR` and `table:FILE` name the others ([`Task::parse`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
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
    /// A polynomial in x = a and y = b, mod M (`poly:x^2+x*y+y^2`).
    Poly(Poly),
    /// The table of a binary operation on 0..n−1 (`table:FILE`); M = n.
    Table(Table),
}

/// Every built-in task, in the order messages list them.
pub const TASKS: [Task; 4] = [Task::Add, Task::Sub, Task::Mul, Task::Div];

/// How a task is written in a spec: a name (`"mul"`, `"poly:x^2+y"`), or a
/// table with its rows, so that a run's `spec.json` holds all of it.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Written {
    Name(String),
    Table { table: WrittenTable },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenTable {
    name: String,
    rows: Vec<Vec<usize>>,
}

impl Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Task::Table(t) => Written::Table { table: WrittenTable { name: t.name.clone(), rows: t.rows() } },
            other => Written::Name(other.to_string()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parsed = match Written::deserialize(deserializer)? {
            Written::Name(name) => Task::parse(&name),
            Written::Table { table } => Table::from_rows(&table.name, &table.rows).map(Task::Table),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Task {
    /// The name of a built-in; `poly` or `table` for the others.
    pub fn name(&self) -> &'static str {
        match self {
            Task::Add => "add",
            Task::Sub => "sub",
            Task::Mul => "mul",
            Task::Div => "div",
            Task::Poly(_) => "poly",
            Task::Table(_) => "table",
        }
    }

    /// A task as written: a built-in's name (any case), `poly:EXPR` or
    /// `table:FILE` (read now, relative to the working directory; a claim
    /// file's tables are relative to it). The error says what is accepted.
    pub fn parse(text: &str) -> Result<Task, String> {
        let text = text.trim();
        if let Some((kind, rest)) = text.split_once(':') {
            return match kind.trim().to_ascii_lowercase().as_str() {
                "poly" => Poly::parse(rest.trim()).map(Task::Poly).map_err(|e| format!("task `{text}`: {e}")),
                "table" => Table::read(std::path::Path::new(rest.trim())).map(Task::Table),
                _ => Err(format!("unknown task `{text}`: {}", Self::ACCEPTED)),
            };
        }
        TASKS
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown task `{text}`, expected {}", Self::ACCEPTED))
    }

    /// What [`Task::parse`] accepts, for messages.
    const ACCEPTED: &str = "one of add, sub, mul, div (the built-ins), poly:EXPR (e.g. poly:x^2+x*y+y^2) or table:FILE";

    /// Whether this is addition, the default: left out of a spec's JSON so
    /// that the cache keys and `spec.json` of addition runs do not change.
    pub fn is_add(&self) -> bool {
        *self == Task::Add
    }

    /// The cache key's prefix (file-name safe): `mul`, `poly`, `table-s3`.
    pub fn key_tag(&self) -> String {
        match self {
            Task::Table(t) => {
                let safe: String = t
                    .name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                    .take(32)
                    .collect();
                format!("table-{safe}")
            }
            other => other.name().to_string(),
        }
    }

    /// The modulus a table fixes (its order); the other tasks take any.
    pub fn order(&self) -> Option<usize> {
        match self {
            Task::Table(t) => Some(t.order()),
            _ => None,
        }
    }

    /// The task for messages: its text, with a table's order and structure.
    pub fn describe(&self) -> String {
        match self {
            Task::Table(t) => format!("{self} (order {}, {})", t.order(), t.structure().describe()),
            other => other.to_string(),
        }
    }

    /// The label of pair (a, b), a, b in 0..M; `None` when the pair is not
    /// in the task (division by zero, or by a b without inverse mod M).
    pub fn label(&self, a: usize, b: usize, modulus: usize) -> Option<usize> {
        let m = modulus;
        match self {
            Task::Add => Some((a + b) % m),
            Task::Sub => Some((a + m - b % m) % m),
            Task::Mul => Some((a * b) % m),
            Task::Div => inverse(b, m).map(|inv| (a * inv) % m),
            Task::Poly(p) => Some(p.eval(a, b, m)),
            Task::Table(t) => Some(t.get(a, b)),
        }
    }

    /// The task's pair indices `a·M + b`, ascending: all M² pairs, or for
    /// `div` the M·(M−1) with b ≠ 0 (M prime).
    pub fn pairs(&self, modulus: usize) -> Vec<usize> {
        (0..modulus * modulus).filter(|&i| self.label(i / modulus, i % modulus, modulus).is_some()).collect()
    }

    /// Number of the task's pairs: M², or M·(M−1) for `div` (M prime).
    pub fn pair_count(&self, modulus: usize) -> usize {
        match self {
            Task::Div => modulus * modulus.saturating_sub(1),
            _ => modulus * modulus,
        }
    }

    /// Training pairs for fraction p, left to right in f64 and rounded half
    /// to even as the paper's script computes `int(round(p * M * M))`
    /// (docs/methods.md, "Setup"): round(p·M·M) for the tasks over all M²
    /// pairs, round(p·M·(M−1)) for `div` ("Tasks").
    pub fn n_train(&self, modulus: usize, train_fraction: f64) -> usize {
        let m = modulus as f64;
        let second = if *self == Task::Div { m - 1.0 } else { m };
        (train_fraction * m * second).round_ties_even() as usize
    }

    /// Whether M suits the task: `div` needs M prime (every b ≠ 0 then has
    /// an inverse), a table M equal to its order; the others take any M.
    pub fn check_modulus(&self, modulus: usize) -> Result<(), String> {
        match self {
            Task::Div if !is_prime(modulus) => {
                Err(format!("task div needs a prime modulus (every b ≠ 0 invertible mod M), got M = {modulus}"))
            }
            Task::Table(t) if t.order() != modulus => Err(format!(
                "task {self} is a table of order {}, so M is {} (the number of classes), not {modulus}",
                t.order(),
                t.order()
            )),
            _ => Ok(()),
        }
    }
}

/// `add`, `poly:x^2+x*y+y^2` (normalised), `table:s3`.
impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Task::Poly(p) => write!(f, "poly:{}", p.text()),
            Task::Table(t) => write!(f, "table:{}", t.name),
            other => f.write_str(other.name()),
        }
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
    fn table(task: &Task) -> Vec<Vec<i64>> {
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
            assert_eq!(table(&task), want.map(Vec::from).to_vec(), "{task}");
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
            assert_eq!(Task::parse(task.name()), Ok(task.clone()));
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

    /// A polynomial's and a table's runs: keyed by the normalised
    /// expression and the table's content, and their specs read back.
    #[test]
    fn polynomial_and_table_keys_hold_their_content() {
        use crate::cache::cache_key;
        use crate::train::TrainSpec;
        let d = TrainSpec::default();
        let poly = |text: &str| TrainSpec { task: Task::parse(text).unwrap(), ..d.clone() };
        let (p, same, other) = (poly("poly:x^2 + x*y + y^2"), poly("POLY: a^2+ab+b^2"), poly("poly:x^2+x*y+y^3"));
        assert!(cache_key(&p).starts_with("poly-sqr-flex-eta2e-4-s0-"), "{}", cache_key(&p));
        assert_eq!(cache_key(&p), cache_key(&same), "the same polynomial written differently");
        assert_ne!(cache_key(&p), cache_key(&other));
        assert!(serde_json::to_string(&p).unwrap().contains(r#""task":"poly:x^2+x*y+y^2""#));
        let rows = |t: &Table| t.rows();
        let z2 = Task::Table(Table::from_rows("z2", &[vec![0, 1], vec![1, 0]]).unwrap());
        let z2b = Task::Table(Table::from_rows("z2", &[vec![1, 0], vec![0, 1]]).unwrap());
        let t = TrainSpec { task: z2.clone(), modulus: 2, ..d.clone() };
        let t2 = TrainSpec { task: z2b, modulus: 2, ..d.clone() };
        assert!(cache_key(&t).starts_with("table-z2-sqr-"), "{}", cache_key(&t));
        assert_ne!(cache_key(&t), cache_key(&t2), "same name, other content");
        for spec in [p, t] {
            let json = serde_json::to_string(&spec).unwrap();
            let back: TrainSpec = serde_json::from_str(&json).unwrap();
            assert_eq!(back, spec, "{json}");
        }
        let Task::Table(table) = z2 else { unreachable!() };
        assert_eq!(rows(&table), [[0, 1], [1, 0]]);
    }

    #[test]
    fn polynomial_and_table_labels() {
        let p = Task::parse("poly:x^2+xy+y^2").unwrap();
        assert_eq!(p.to_string(), "poly:x^2+x*y+y^2");
        assert_eq!((p.label(3, 5, 7), p.label(0, 0, 7), p.label(6, 6, 7)), (Some(0), Some(0), Some(3)));
        assert_eq!((p.pair_count(7), p.n_train(7, 0.5)), (49, 24));
        let s3 = Task::parse(concat!("table:", env!("CARGO_MANIFEST_DIR"), "/examples/tables/s3.txt")).unwrap();
        assert_eq!(s3.to_string(), "table:s3");
        assert_eq!(s3.describe(), "table:s3 (order 6, a non-abelian group)");
        assert_eq!(s3.order(), Some(6));
        assert!(s3.check_modulus(6).is_ok());
        assert_eq!(
            s3.check_modulus(71).unwrap_err(),
            "task table:s3 is a table of order 6, so M is 6 (the number of classes), not 71"
        );
        // Non-abelian: some (a, b) and (b, a) differ.
        assert!((0..6).any(|a| (0..6).any(|b| s3.label(a, b, 6) != s3.label(b, a, 6))));
        assert_eq!(s3.pairs(6), (0..36).collect::<Vec<_>>());
        let err = Task::parse("poly:x+").unwrap_err();
        assert!(err.starts_with("task `poly:x+`: at character 3 of the polynomial"), "{err}");
        assert!(Task::parse("table:/no/such/file.txt").unwrap_err().contains("/no/such/file.txt"));
        assert!(Task::parse("pow:x").unwrap_err().contains("poly:EXPR"));
    }
}
