//! The level metric ρ (docs/methods.md, "Level metric ρ"): how far the
//! kernel G = F Fᵀ of the hidden features on the n training pairs is from
//! the ideal a·I + b·11ᵀ, relative to ‖G‖_F.
//!
//! Two definitions, because the paper's text and its code differ:
//! - **code** (`fft_dist_from_ideal` in the paper's script, which every
//!   printed ρ figure comes from): the raw G, with a = mean(diag G) −
//!   mean(offdiag G) and b = mean(offdiag G);
//! - **paper** (its printed formula): H = P₁^⊥ G with P₁^⊥ = I − 11ᵀ/n, the
//!   same fit on H, and ‖G‖_F in the denominator.
//!
//! G is one f32 product (its lower triangle only, about n²K/2 multiply-adds); every
//! sum over its entries is in f64, and the deviations are summed directly
//! (no difference of large norms).

use faer::linalg::matmul::triangular::{BlockStructure, matmul};
use faer::{Accum, Mat, Par};

/// ρ at one θ by both definitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// The paper's code: raw G.
    pub rho_code: f64,
    /// The paper's formula: P₁^⊥ G.
    pub rho_paper: f64,
}

/// ρ of the features F (n×K, f32: one row per pair).
pub fn level(f: &Mat<f32>) -> Level {
    let n = f.nrows();
    let mut g = Mat::<f32>::zeros(n, n);
    matmul(
        g.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        f.as_ref(),
        BlockStructure::Rectangular,
        f.transpose(),
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
    from_lower_gram(n, |i, j| g[(i, j)] as f64)
}

/// Both ρ's from G's lower triangle (`entry(i, j)`, i ≥ j).
fn from_lower_gram(n: usize, entry: impl Fn(usize, usize) -> f64) -> Level {
    let nf = n as f64;
    let (mut trace, mut squares) = (0.0, 0.0);
    let mut row_sums = vec![0.0; n];
    for i in 0..n {
        for j in 0..i {
            let x = entry(i, j);
            squares += 2.0 * x * x;
            row_sums[i] += x;
            row_sums[j] += x;
        }
        let d = entry(i, i);
        trace += d;
        squares += d * d;
        row_sums[i] += d;
    }
    let total: f64 = row_sums.iter().sum();
    let off_pairs = nf * nf - nf;
    // Raw G: b = mean off-diagonal, a + b = mean diagonal.
    let b = (total - trace) / off_pairs;
    let diag_mean = trace / nf;
    // H = P₁^⊥ G: H_ij = G_ij − c_j with c_j = G's column mean; Σ H = 0.
    let column_mean: Vec<f64> = row_sums.iter().map(|r| r / nf).collect();
    let trace_h = trace - total / nf;
    let (b_h, diag_mean_h) = (-trace_h / off_pairs, trace_h / nf);
    let (mut code, mut paper) = (0.0, 0.0);
    for i in 0..n {
        for j in 0..i {
            let x = entry(i, j);
            code += 2.0 * (x - b).powi(2);
            paper += (x - column_mean[j] - b_h).powi(2) + (x - column_mean[i] - b_h).powi(2);
        }
        let d = entry(i, i);
        code += (d - diag_mean).powi(2);
        paper += (d - column_mean[i] - diag_mean_h).powi(2);
    }
    let norm = squares.sqrt();
    Level { rho_code: code.sqrt() / norm, rho_paper: paper.sqrt() / norm }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, ModelShape, Weights};
    use crate::seeding::RngScheme;

    /// The definitions written out on the dense n×n matrices, in f64.
    fn dense(f: &Mat<f32>) -> Level {
        let n = f.nrows();
        let g = Mat::<f64>::from_fn(n, n, |i, j| (0..f.ncols()).map(|k| f[(i, k)] as f64 * f[(j, k)] as f64).sum());
        let fit = |m: &Mat<f64>| {
            let diag: f64 = (0..n).map(|i| m[(i, i)]).sum::<f64>() / n as f64;
            let all: f64 = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| m[(i, j)]).sum();
            let off = (all - diag * n as f64) / (n * n - n) as f64;
            let (a, b) = (diag - off, off);
            let dev: f64 = (0..n)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .map(|(i, j)| (m[(i, j)] - b - if i == j { a } else { 0.0 }).powi(2))
                .sum();
            dev.sqrt()
        };
        let p = Mat::<f64>::from_fn(n, n, |i, j| f64::from(i == j) - 1.0 / n as f64);
        let norm = g.norm_l2();
        Level { rho_code: fit(&g) / norm, rho_paper: fit(&(&p * &g)) / norm }
    }

    #[test]
    fn both_definitions_match_the_dense_formulas() {
        for activation in [Activation::Sqr, Activation::Relu] {
            let shape = ModelShape { modulus: 7, width: 24, activation };
            let weights = Weights::seeded(&shape, 3, RngScheme::Torch);
            let split = crate::data::Split::seeded(7, 29, 3, RngScheme::Torch);
            let f = crate::features::of_transposed(&weights.w_transposed(&shape), &shape, &split.train);
            let (fast, slow) = (level(&f), dense(&f));
            assert!((fast.rho_code - slow.rho_code).abs() < 1e-5 * slow.rho_code, "{fast:?} {slow:?}");
            assert!((fast.rho_paper - slow.rho_paper).abs() < 1e-5 * slow.rho_paper, "{fast:?} {slow:?}");
            assert!(fast.rho_code > 0.0 && fast.rho_paper > 0.0);
        }
    }

    #[test]
    fn an_ideal_kernel_has_rho_zero() {
        // G = 2I + 3·11ᵀ exactly: ρ_code = 0; P₁^⊥G = 2P₁^⊥ is also of the form aI + b11ᵀ.
        let level = from_lower_gram(6, |i, j| if i == j { 5.0 } else { 3.0 });
        assert!(level.rho_code.abs() < 1e-12 && level.rho_paper.abs() < 1e-12, "{level:?}");
    }
}
