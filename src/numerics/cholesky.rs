//! Cholesky factorisation A = L Lᵀ and its solves in f64 (docs/methods.md,
//! "Numerics scheme", "Theorem 6"): each entry is one canonical dot product
//! ([`super::dot`]), so the same bits on every CPU. A matrix that is not
//! positive definite (a pivot ≤ 0, or not finite) is an error naming the
//! pivot, never a panic.

use super::{dot, dots};

/// L (row-major, n × n, zero above the diagonal) with A = L Lᵀ.
#[derive(Clone, Debug)]
pub struct Cholesky {
    n: usize,
    l: Vec<f64>,
    /// Lᵀ, for the backward solve's contiguous rows.
    lt: Vec<f64>,
}

/// Why a matrix has no Cholesky factor.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("not positive definite: pivot {pivot} of {n} is {value:e}")]
pub struct NotPositiveDefinite {
    /// The row whose pivot failed.
    pub pivot: usize,
    /// The matrix size.
    pub n: usize,
    /// The pivot's value (≤ 0 or not finite).
    pub value: f64,
}

impl Cholesky {
    /// Factor the symmetric positive definite `a` (row-major n × n; only
    /// the lower triangle is read). Entry by entry: L_ij = (a_ij − ⟨L_i,:j,
    /// L_j,:j⟩) / L_jj, each inner product one canonical [`dot`]. Rows are
    /// taken [`ROWS`] at a time: the block's entries left of its diagonal
    /// block come column by column, each earlier row L_j read once for all
    /// of the block's rows ([`dots`]: each result the bits of its own dot),
    /// then the diagonal block row by row. Row by row alone, every row read
    /// all rows above it: at n = 2016 that streamed 11 GB from memory per
    /// factorisation (docs/performance.md, "Theorem 6 by blocks of rows").
    pub fn factor(a: &[f64], n: usize) -> Result<Self, NotPositiveDefinite> {
        assert_eq!(a.len(), n * n, "an n × n matrix");
        let mut l = vec![0.0; n * n];
        for start in (0..n).step_by(ROWS) {
            let block = start..(start + ROWS).min(n);
            let (above, rows) = l.split_at_mut(start * n);
            for j in 0..start {
                let prefixes: Vec<&[f64]> = rows.chunks(n).take(block.len()).map(|row| &row[..j]).collect();
                let sums = dots(&above[j * n..j * n + j], &prefixes);
                for ((i, s), row) in block.clone().zip(sums).zip(rows.chunks_mut(n)) {
                    row[j] = (a[i * n + j] - s) / above[j * n + j];
                }
            }
            for i in block.clone() {
                for j in block.start..=i {
                    let (row_i, row_j) = (&l[i * n..i * n + j], &l[j * n..j * n + j]);
                    let s = a[i * n + j] - dot(row_i, row_j);
                    if i == j {
                        if !(s > 0.0 && s.is_finite()) {
                            return Err(NotPositiveDefinite { pivot: i, n, value: s });
                        }
                        l[i * n + i] = s.sqrt();
                    } else {
                        l[i * n + j] = s / l[j * n + j];
                    }
                }
            }
        }
        let lt = super::transpose(&l, n, n);
        Ok(Self { n, l, lt })
    }

    /// A⁻¹ B for B row-major n × c: forward then backward substitution,
    /// all columns at once (each entry one canonical [`dot`], as column by
    /// column; [`dots`] reads each row of L once for all c columns).
    pub fn solve(&self, b: &[f64], c: usize) -> Vec<f64> {
        let n = self.n;
        assert_eq!(b.len(), n * c, "an n × c right-hand side");
        // Column-major working copies: y and x hold column `col` at col·n.
        let mut y = vec![0.0; n * c];
        for i in 0..n {
            let prefixes: Vec<&[f64]> = y.chunks(n).map(|column| &column[..i]).collect();
            let sums = dots(&self.l[i * n..i * n + i], &prefixes);
            for (col, s) in sums.into_iter().enumerate() {
                y[col * n + i] = (b[i * c + col] - s) / self.l[i * n + i];
            }
        }
        let mut x = vec![0.0; n * c];
        for i in (0..n).rev() {
            let suffixes: Vec<&[f64]> = x.chunks(n).map(|column| &column[i + 1..]).collect();
            let sums = dots(&self.lt[i * n + i + 1..(i + 1) * n], &suffixes);
            for (col, s) in sums.into_iter().enumerate() {
                x[col * n + i] = (y[col * n + i] - s) / self.lt[i * n + i];
            }
        }
        super::transpose(&x, c, n)
    }
}

/// Rows per block of [`Cholesky::factor`].
const ROWS: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        // A = [[4, 2], [2, 3]], b = A·[1, 2] = [8, 8].
        let chol = Cholesky::factor(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let x = chol.solve(&[8.0, 8.0], 1);
        approx::assert_relative_eq!(x[0], 1.0, max_relative = 1e-14);
        approx::assert_relative_eq!(x[1], 2.0, max_relative = 1e-14);
    }

    /// The factorisation and solves entry by entry, row by row and column
    /// by column: the definition the blocked ones must match bit for bit.
    fn row_by_row(a: &[f64], n: usize, b: &[f64], c: usize) -> (Vec<f64>, Vec<f64>) {
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let s = a[i * n + j] - dot(&l[i * n..i * n + j], &l[j * n..j * n + j]);
                l[i * n + j] = if i == j { s.sqrt() } else { s / l[j * n + j] };
            }
        }
        let lt = crate::numerics::transpose(&l, n, n);
        let mut out = vec![0.0; n * c];
        for col in 0..c {
            let (mut y, mut x) = (vec![0.0; n], vec![0.0; n]);
            for i in 0..n {
                y[i] = (b[i * c + col] - dot(&l[i * n..i * n + i], &y[..i])) / l[i * n + i];
            }
            for i in (0..n).rev() {
                x[i] = (y[i] - dot(&lt[i * n + i + 1..(i + 1) * n], &x[i + 1..])) / lt[i * n + i];
            }
            for i in 0..n {
                out[i * c + col] = x[i];
            }
        }
        (l, out)
    }

    /// Blocks of rows (n not a multiple of ROWS, more than two blocks) and
    /// all columns at once give the bits of the entry-by-entry definition.
    #[test]
    fn blocks_give_the_bits_of_row_by_row() {
        let (n, c) = (2 * ROWS + 7, 5);
        let x: Vec<f64> = (0..n * (n + 3)).map(|i| ((i * 7919) % 1000) as f64 / 997.0 - 0.4).collect();
        // A = X Xᵀ + I: positive definite.
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&x[i * (n + 3)..(i + 1) * (n + 3)], &x[j * (n + 3)..(j + 1) * (n + 3)])
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let b: Vec<f64> = (0..n * c).map(|i| (i % 11) as f64 - 5.0).collect();
        let (l, solved) = row_by_row(&a, n, &b, c);
        let chol = Cholesky::factor(&a, n).unwrap();
        assert_eq!(
            chol.l.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            l.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let blocked = chol.solve(&b, c);
        assert_eq!(
            blocked.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            solved.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    /// A pivot that fails in a later block of rows is reported as row by
    /// row reports it: the same row and the same value.
    #[test]
    fn a_later_block_s_failed_pivot_is_the_same_pivot() {
        let n = ROWS + 9;
        let pivot = ROWS + 4;
        // The identity, except that row `pivot` repeats row 2 (so its pivot is 0).
        let mut a: Vec<f64> = (0..n * n).map(|x| if x / n == x % n { 1.0 } else { 0.0 }).collect();
        a[pivot * n + pivot] = 1.0;
        a[pivot * n + 2] = 1.0;
        a[2 * n + pivot] = 1.0;
        let err = Cholesky::factor(&a, n).unwrap_err();
        assert_eq!(err.pivot, pivot);
        assert_eq!(err.value.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn refuses_what_is_not_positive_definite() {
        let err = Cholesky::factor(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
        assert_eq!((err.pivot, err.n), (1, 2));
        assert!(err.to_string().contains("pivot 1 of 2"), "{err}");
        assert!(Cholesky::factor(&[f64::NAN], 1).is_err());
        assert!(Cholesky::factor(&[0.0], 1).is_err());
    }
}
