//! Eigenvalues of a small symmetric matrix by the cyclic Jacobi method
//! (docs/methods.md, "Numerics scheme"): a fixed sequence of IEEE additions,
//! multiplications, divisions and square roots, so the same bits on every
//! CPU. Used for the update window's Gram (w × w, w ≤ a few dozen), where
//! Jacobi's high relative accuracy on positive semi-definite matrices also
//! resolves the small eigenvalues (σ3..σ5) that the detector divides by.

/// Sweeps after which the iteration stops even if not converged (Jacobi
/// converges quadratically; 10 sweeps suffice for the sizes used here).
const MAX_SWEEPS: usize = 60;

/// Eigenvalues of the symmetric `w × w` row-major matrix `a`, descending
/// (NaN entries give NaN eigenvalues).
pub fn symmetric_eigenvalues(a: &[f64], w: usize) -> Vec<f64> {
    assert_eq!(a.len(), w * w, "a w × w matrix");
    if a.iter().any(|x| !x.is_finite()) {
        return vec![f64::NAN; w];
    }
    let mut m = a.to_vec();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..w {
            for q in p + 1..w {
                rotated |= rotate(&mut m, w, p, q);
            }
        }
        if !rotated {
            break;
        }
    }
    let mut values: Vec<f64> = (0..w).map(|i| m[i * w + i]).collect();
    values.sort_by(|x, y| y.total_cmp(x));
    values
}

/// One Jacobi rotation zeroing m[p][q], unless it is already negligible
/// against the diagonal (|m_pq| ≤ ε·√|m_pp·m_qq|, the relative-accuracy
/// criterion) or exactly 0. Returns whether it rotated.
fn rotate(m: &mut [f64], w: usize, p: usize, q: usize) -> bool {
    let apq = m[p * w + q];
    let (app, aqq) = (m[p * w + p], m[q * w + q]);
    if apq == 0.0 || apq.abs() <= f64::EPSILON * (app * aqq).abs().sqrt() {
        return false;
    }
    // tan of the rotation angle: the smaller root of t² + 2θt − 1 = 0.
    let theta = (aqq - app) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta.is_infinite() { 0.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..w {
        let (mkp, mkq) = (m[k * w + p], m[k * w + q]);
        m[k * w + p] = c * mkp - s * mkq;
        m[k * w + q] = s * mkp + c * mkq;
    }
    for k in 0..w {
        let (mpk, mqk) = (m[p * w + k], m[q * w + k]);
        m[p * w + k] = c * mpk - s * mqk;
        m[q * w + k] = s * mpk + c * mqk;
    }
    m[p * w + q] = 0.0;
    m[q * w + p] = 0.0;
    t != 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn diagonal_and_two_by_two() {
        assert_eq!(symmetric_eigenvalues(&[3.0, 0.0, 0.0, 5.0], 2), vec![5.0, 3.0]);
        // [[2, 1], [1, 2]]: 3 and 1.
        let e = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2);
        approx::assert_relative_eq!(e[0], 3.0, max_relative = 1e-15);
        approx::assert_relative_eq!(e[1], 1.0, max_relative = 1e-15);
        assert!(symmetric_eigenvalues(&[f64::NAN], 1)[0].is_nan());
    }

    /// A Gram DᵀD with eigenvalues over ten orders of magnitude: each one
    /// matches faer's to its relative precision.
    #[test]
    fn matches_faer_on_graded_grams() {
        let (len, w) = (200, 20);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let d = faer::Mat::<f64>::from_fn(len, w, |_, j| rng.random_range(-1.0..1.0) * 10f64.powi(-(j as i32) / 2));
        let gram = d.transpose() * &d;
        let flat: Vec<f64> = (0..w * w).map(|i| gram[(i / w, i % w)]).collect();
        let ours = symmetric_eigenvalues(&flat, w);
        let singular = d.singular_values().unwrap();
        for (e, s) in ours.iter().zip(&singular) {
            approx::assert_relative_eq!(*e, s * s, max_relative = 1e-9);
        }
    }
}
