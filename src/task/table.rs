//! A task given by its table (docs/methods.md, "Tasks"): the Cayley table
//! of a finite group, or of any binary operation, on elements 0..n−1.
//! The label of (a, b) is the table's entry in row a, column b; M is the
//! table's order n.
//!
//! File format: n lines of n whole numbers in 0..n−1 separated by spaces
//! or commas (row a is a's products a∘0, …, a∘(n−1)); blank lines and
//! text after `#` are ignored. `examples/tables/` holds Z5 × Z5, S3 and S4.

use std::path::Path;

/// A binary operation on 0..n−1, by its table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    /// The file's name without its extension: how keys and messages name it.
    pub name: String,
    /// Row-major entries, n².
    entries: Vec<usize>,
}

/// What the operation is, for messages and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Structure {
    /// (a∘b)∘c = a∘(b∘c) for all a, b, c.
    pub associative: bool,
    /// The e with e∘a = a∘e = a, if there is one.
    pub identity: Option<usize>,
    /// Every a has a b with a∘b = b∘a = e.
    pub inverses: bool,
    /// a∘b = b∘a for all a, b.
    pub commutative: bool,
}

impl Structure {
    /// Whether the operation is a group.
    pub fn is_group(&self) -> bool {
        self.associative && self.identity.is_some() && self.inverses
    }

    /// "an abelian group", "a non-abelian group", or what a binary
    /// operation lacks of a group.
    pub fn describe(&self) -> String {
        match (self.is_group(), self.commutative) {
            (true, true) => "an abelian group".into(),
            (true, false) => "a non-abelian group".into(),
            (false, _) => {
                let lacks: Vec<&str> = [
                    (!self.associative, "not associative"),
                    (self.identity.is_none(), "no identity"),
                    (self.identity.is_some() && !self.inverses, "no inverses"),
                ]
                .into_iter()
                .filter_map(|(missing, what)| missing.then_some(what))
                .collect();
                let kind = if self.commutative { "commutative " } else { "" };
                format!("a {kind}binary operation, not a group ({})", lacks.join(", "))
            }
        }
    }
}

/// The first row that is not a square table's of elements 0..n−1: its
/// index and what is wrong, after "row a".
fn problem(rows: &[Vec<usize>]) -> Option<(usize, String)> {
    let n = rows.len();
    rows.iter().enumerate().find_map(|(a, row)| {
        if row.len() != n {
            return Some((a, format!(" has {} entries; a table of {n} rows is square", row.len())));
        }
        let (b, v) = row.iter().enumerate().find(|(_, v)| **v >= n)?;
        Some((a, format!(", column {b}: entry {v} is not an element 0..{}", n - 1)))
    })
}

impl Table {
    /// A table from its rows; the error says which row or entry is wrong.
    pub fn from_rows(name: &str, rows: &[Vec<usize>]) -> Result<Table, String> {
        match problem(rows) {
            Some((a, message)) => Err(format!("row {a}{message}")),
            None if rows.len() < 2 => Err(format!("a table has at least 2 rows, this one {}", rows.len())),
            None => Ok(Table { name: name.to_string(), entries: rows.concat() }),
        }
    }

    /// Parse a table file's text (the format in the module doc); errors
    /// name the line.
    pub fn parse(name: &str, text: &str) -> Result<Table, String> {
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let words = line.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty());
            let row: Vec<usize> = words
                .map(|w| w.parse().map_err(|_| format!("line {}: `{w}` is not a whole number ≥ 0", i + 1)))
                .collect::<Result<_, _>>()?;
            if !row.is_empty() {
                rows.push(row);
                lines.push(i + 1);
            }
        }
        if let Some((a, message)) = problem(&rows) {
            return Err(format!("line {}: row {a}{message}", lines[a]));
        }
        Table::from_rows(name, &rows)
    }

    /// Read a table file; errors name the file and line.
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = crate::files::read_regular(path, 1 << 24).map_err(|e| format!("{}: {e:#}", path.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "table".into());
        Table::parse(&name, &text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The order n (the number of elements; M of its runs).
    pub fn order(&self) -> usize {
        self.entries.len().isqrt()
    }

    /// a∘b.
    pub fn get(&self, a: usize, b: usize) -> usize {
        self.entries[a * self.order() + b]
    }

    /// The rows, as a table file lists them.
    pub fn rows(&self) -> Vec<Vec<usize>> {
        self.entries.chunks(self.order()).map(<[usize]>::to_vec).collect()
    }

    /// Associativity, identity, inverses and commutativity, checked over
    /// every element (n³ products for associativity).
    pub fn structure(&self) -> Structure {
        let n = self.order();
        let all = || (0..n).flat_map(move |a| (0..n).map(move |b| (a, b)));
        let associative =
            all().all(|(a, b)| (0..n).all(|c| self.get(self.get(a, b), c) == self.get(a, self.get(b, c))));
        let identity = (0..n).find(|&e| (0..n).all(|a| self.get(e, a) == a && self.get(a, e) == a));
        let inverses =
            identity.is_some_and(|e| (0..n).all(|a| (0..n).any(|b| self.get(a, b) == e && self.get(b, a) == e)));
        let commutative = all().all(|(a, b)| self.get(a, b) == self.get(b, a));
        Structure { associative, identity, inverses, commutative }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Z_n1 × Z_n2, element (i, j) numbered i·n2 + j.
    fn product_of_cyclic(n1: usize, n2: usize) -> Vec<Vec<usize>> {
        let n = n1 * n2;
        let op = |a: usize, b: usize| ((a / n2 + b / n2) % n1) * n2 + (a % n2 + b % n2) % n2;
        (0..n).map(|a| (0..n).map(|b| op(a, b)).collect()).collect()
    }

    /// S_k: permutations of 0..k in lexicographic order, a∘b = a after b
    /// ((a∘b)(i) = a(b(i))).
    fn symmetric(k: usize) -> Vec<Vec<usize>> {
        let mut perms: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..k {
            perms = perms
                .iter()
                .flat_map(|p| {
                    (0..k).filter(|i| !p.contains(i)).map(|i| [p.clone(), vec![i]].concat()).collect::<Vec<_>>()
                })
                .collect();
        }
        let index = |p: &Vec<usize>| perms.iter().position(|q| q == p).unwrap();
        let compose = |a: &Vec<usize>, b: &Vec<usize>| b.iter().map(|&i| a[i]).collect::<Vec<usize>>();
        perms.iter().map(|a| perms.iter().map(|b| index(&compose(a, b))).collect()).collect()
    }

    /// The example files hold exactly the tables built here, and are what
    /// their names say: Z5 × Z5 abelian, S3 and S4 non-abelian groups.
    #[test]
    fn example_tables_are_the_groups_they_name() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tables");
        for (file, rows, commutative) in [
            ("z5xz5.txt", product_of_cyclic(5, 5), true),
            ("s3.txt", symmetric(3), false),
            ("s4.txt", symmetric(4), false),
        ] {
            let table = Table::read(&dir.join(file)).unwrap();
            assert_eq!(table.rows(), rows, "{file}");
            let s = table.structure();
            assert!(s.is_group(), "{file}: {s:?}");
            assert_eq!((s.commutative, s.identity), (commutative, Some(0)), "{file}");
        }
        assert_eq!(Table::read(&dir.join("s4.txt")).unwrap().order(), 24);
        assert_eq!(Table::read(&dir.join("s3.txt")).unwrap().structure().describe(), "a non-abelian group");
    }

    #[test]
    fn a_binary_operation_need_not_be_a_group() {
        // Subtraction mod 3: no identity on both sides, not associative.
        let sub = Table::parse("sub3", "0 2 1\n1 0 2\n2 1 0\n").unwrap();
        let s = sub.structure();
        assert!(!s.associative && s.identity.is_none() && !s.is_group());
        assert_eq!(s.describe(), "a binary operation, not a group (not associative, no identity)");
        // Multiplication mod 4: associative, identity 1, 0 and 2 have no inverse.
        let mul = Table::parse("mul4", "0 0 0 0\n0 1 2 3\n0 2 0 2\n0 3 2 1").unwrap();
        assert_eq!(mul.structure().describe(), "a commutative binary operation, not a group (no inverses)");
        assert_eq!(mul.get(3, 3), 1);
    }

    #[test]
    fn malformed_tables_name_the_line() {
        let err = |text: &str| Table::parse("t", text).unwrap_err();
        assert_eq!(err("# Z2\n0 1\n\n1 0 1\n"), "line 4: row 1 has 3 entries; a table of 2 rows is square");
        assert_eq!(err("0 1\n1 2\n"), "line 2: row 1, column 1: entry 2 is not an element 0..1");
        assert_eq!(err("0 1\n1 x\n"), "line 2: `x` is not a whole number ≥ 0");
        assert_eq!(err("0\n"), "a table has at least 2 rows, this one 1");
        assert_eq!(Table::parse("t", "0,1\n1,0 # comment").unwrap().rows(), [[0, 1], [1, 0]]);
    }
}
