//! Cholesky factorisation A = L Lᵀ and its solves in f64 (docs/methods.md,
//! "Numerics scheme", "Theorem 6"): each entry is one canonical dot product
//! ([`super::dot`]), so the same bits on every CPU. A matrix that is not
//! positive definite (a pivot ≤ 0, or not finite) is an error naming the
//! pivot, never a panic.

use super::dot;

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
    /// the lower triangle is read). Row by row: L_ij = (a_ij − ⟨L_i,:j, L_j,:j⟩) / L_jj.
    pub fn factor(a: &[f64], n: usize) -> Result<Self, NotPositiveDefinite> {
        assert_eq!(a.len(), n * n, "an n × n matrix");
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
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
        let lt = super::transpose(&l, n, n);
        Ok(Self { n, l, lt })
    }

    /// A⁻¹ B for B row-major n × c: forward then backward substitution per column.
    pub fn solve(&self, b: &[f64], c: usize) -> Vec<f64> {
        let n = self.n;
        assert_eq!(b.len(), n * c, "an n × c right-hand side");
        let mut out = vec![0.0; n * c];
        let mut y = vec![0.0; n];
        let mut x = vec![0.0; n];
        for col in 0..c {
            for i in 0..n {
                y[i] = (b[i * c + col] - dot(&self.l[i * n..i * n + i], &y[..i])) / self.l[i * n + i];
            }
            for i in (0..n).rev() {
                x[i] = (y[i] - dot(&self.lt[i * n + i + 1..(i + 1) * n], &x[i + 1..])) / self.lt[i * n + i];
            }
            for i in 0..n {
                out[i * c + col] = x[i];
            }
        }
        out
    }
}

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

    #[test]
    fn refuses_what_is_not_positive_definite() {
        let err = Cholesky::factor(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
        assert_eq!((err.pivot, err.n), (1, 2));
        assert!(err.to_string().contains("pivot 1 of 2"), "{err}");
        assert!(Cholesky::factor(&[f64::NAN], 1).is_err());
        assert!(Cholesky::factor(&[0.0], 1).is_err());
    }
}
