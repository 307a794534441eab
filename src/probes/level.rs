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
//! Both are computed without forming the deviations (docs/methods.md,
//! "Level metric ρ", "Cost"): with b the fitted off-diagonal level and d̄ the
//! mean diagonal, ‖G − (aI + b11ᵀ)‖² = ‖G‖² − (n² − n)b² − n·d̄², and for
//! H = G − 1cᵀ (c the column means) ‖H‖² = ‖G‖² − n‖c‖². Only ‖G‖_F² needs
//! the n×n kernel; it equals ‖FᵀF‖_F², so it comes from whichever Gram is
//! smaller (n×n, or K×K when n > K), an f32 product summed in f64, split over
//! two threads in a fixed way. The diagonal, the row sums and c are f64 sums
//! over F (O(nK)). Their precision is discussed in docs/methods.md.

use crate::numerics::{Gram, dot};

/// ρ at one θ by both definitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// The paper's code: raw G.
    pub rho_code: f64,
    /// The paper's formula: P₁^⊥ G.
    pub rho_paper: f64,
}

/// ρ of the features F (n×K, f32, row-major: one row of `width` per pair).
///
/// ‖G‖_F² comes from the lower triangle of the smaller Gram (F Fᵀ, n×n, or
/// FᵀF, K×K, when n > K), r×r, in two row ranges on two threads: rows
/// [0, r₁) and [r₁, r) (r₁ = r/√2 halves the work), their sums added in
/// that order, so the split is fixed and no entry depends on it. Each
/// thread then takes its share of the O(nK) moments: diag G on the first,
/// F's column sums and G1 on the second (docs/methods.md, "Level metric ρ",
/// "Cost").
pub fn level(f: &[f32], width: usize) -> Level {
    let n = f.len() / width;
    let of = if n <= width { Gram::OfRows } else { Gram::OfColumns };
    let r = if of == Gram::OfRows { n } else { width };
    let r1 = ((r as f64) / 2f64.sqrt()).round() as usize;
    let ((upper, diagonal), (lower, row_sums)) = std::thread::scope(|lanes| {
        let first = lanes.spawn(|| (lower_gram_squares(f, (n, width), of, 0..r1), diagonal(f, width)));
        let second = (lower_gram_squares(f, (n, width), of, r1..r), row_sums(f, width));
        (first.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), second)
    });
    from_moments(&Moments { squares: upper + lower, diagonal, row_sums })
}

/// diag G: each row of F's f64 dot with itself.
fn diagonal(f: &[f32], width: usize) -> Vec<f64> {
    f.chunks_exact(width).map(|row| dot(row, row)).collect()
}

/// G1: each row of F's f64 dot with F's column sums (summed in f64 row by row).
fn row_sums(f: &[f32], width: usize) -> Vec<f64> {
    let mut column_sums = vec![0.0f64; width];
    for row in f.chunks_exact(width) {
        for (sum, &x) in column_sums.iter_mut().zip(row) {
            *sum += x as f64;
        }
    }
    f.chunks_exact(width).map(|row| dot(row, &column_sums)).collect()
}

/// What ρ needs of G: ‖G‖_F², diag G and G1.
struct Moments {
    squares: f64,
    diagonal: Vec<f64>,
    row_sums: Vec<f64>,
}

/// Both ρ's from G's moments.
fn from_moments(g: &Moments) -> Level {
    let nf = g.diagonal.len() as f64;
    let off_pairs = nf * nf - nf;
    let trace: f64 = g.diagonal.iter().sum();
    let total: f64 = g.row_sums.iter().sum();
    // Raw G: b = mean off-diagonal, a + b = mean diagonal.
    let b = (total - trace) / off_pairs;
    let code = g.squares - off_pairs * b * b - nf * (trace / nf).powi(2);
    // H = P₁^⊥ G: H_ij = G_ij − c_j, c = G1/n (G is symmetric); Σ H = 0.
    let c_squares: f64 = g.row_sums.iter().map(|r| (r / nf).powi(2)).sum();
    let trace_h = trace - total / nf;
    let b_h = -trace_h / off_pairs;
    let paper = g.squares - nf * c_squares - off_pairs * b_h * b_h - nf * (trace_h / nf).powi(2);
    let norm = g.squares.sqrt();
    // Rounding can leave a tiny negative where the fit is exact; NaN (n = 1,
    // non-finite features) stays NaN.
    let root = |x: f64| if x < 0.0 { 0.0 } else { x.sqrt() };
    Level { rho_code: root(code) / norm, rho_paper: root(paper) / norm }
}

/// Rows `rows` of G's contribution to ‖G‖_F², G the Gram `of` F (`shape`
/// = (n, K), row-major): those rows of its lower triangle in f32 by the
/// canonical product (no transpose of F formed), squares summed in f64 row
/// by row (g_ii² + 2·Σ_{j<i} g_ij², j ascending).
fn lower_gram_squares(f: &[f32], shape: (usize, usize), of: Gram, rows: std::ops::Range<usize>) -> f64 {
    let r = if of == Gram::OfRows { shape.0 } else { shape.1 };
    let g = crate::numerics::lower_gram_rows(f, shape, of, rows.clone());
    rows.zip(g.chunks_exact(r))
        .map(|(i, row)| {
            let below: f64 = row[..i].iter().map(|&v| v as f64 * v as f64).sum();
            row[i] as f64 * row[i] as f64 + 2.0 * below
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, ModelShape, Weights};
    use crate::seeding::RngScheme;
    use faer::{Mat, MatRef};

    /// The definitions written out on the dense n×n matrices, in f64.
    fn dense(f: MatRef<'_, f32>) -> Level {
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

    /// Both Gram sides (n ≤ K and n > K) against the dense formulas.
    #[test]
    fn both_definitions_match_the_dense_formulas() {
        for (activation, width) in [(Activation::Sqr, 24), (Activation::Relu, 24), (Activation::Sqr, 40)] {
            let shape = ModelShape { modulus: 7, width, activation };
            let weights = Weights::seeded(&shape, 3, RngScheme::Torch);
            let split = crate::data::Split::seeded(7, 29, 3, RngScheme::Torch);
            let f = shape.features(&weights.w_transposed(&shape), &split.train);
            let (fast, slow) = (level(&f, width), dense(MatRef::from_row_major_slice(&f, 29, width)));
            assert!((fast.rho_code - slow.rho_code).abs() < 1e-5 * slow.rho_code, "{fast:?} {slow:?}");
            assert!((fast.rho_paper - slow.rho_paper).abs() < 1e-5 * slow.rho_paper, "{fast:?} {slow:?}");
            assert!(fast.rho_code > 0.0 && fast.rho_paper > 0.0);
            assert_eq!(fast, level(&f, width), "deterministic");
        }
    }

    #[test]
    fn an_ideal_kernel_has_rho_zero() {
        // G = 2I + 3·11ᵀ exactly (n = 6): ρ_code = 0; P₁^⊥G = 2P₁^⊥ is also of the form aI + b11ᵀ.
        let g = Moments { squares: 6.0 * 25.0 + 30.0 * 9.0, diagonal: vec![5.0; 6], row_sums: vec![20.0; 6] };
        let level = from_moments(&g);
        assert!(level.rho_code.abs() < 1e-12 && level.rho_paper.abs() < 1e-12, "{level:?}");
    }
}
