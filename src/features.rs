//! Hidden features F = σ(W x) of a set of pairs, on the CPU, for the probes
//! that analyse them (docs/methods.md, "Level metric ρ", "Theorem 6"): the
//! probes in `measure/` take F and know nothing of the model or the data.

use faer::Mat;

use crate::data::PairSet;
use crate::model::ModelShape;

/// F on `pairs` as the training forward pass computes it, row-major [n, K]:
/// row i is σ(Wᵀ[a_i] + Wᵀ[M + b_i]), the gather, the add and σ in one pass
/// over F (burn's ops take one pass each;
/// `train::gradient::tests::host_passes_match_burn` checks the bits agree).
pub fn rows(w_t: &[f32], shape: &ModelShape, pairs: &PairSet) -> Vec<f32> {
    let (m, k) = (shape.modulus, shape.width);
    let mut f = vec![0.0; pairs.len() * k];
    for ((row, &a), &b) in f.chunks_exact_mut(k).zip(&pairs.a).zip(&pairs.b) {
        let (row_a, row_b) = (&w_t[a * k..][..k], &w_t[(m + b) * k..][..k]);
        for ((out, &x), &y) in row.iter_mut().zip(row_a).zip(row_b) {
            *out = shape.activation.apply_f32(x + y);
        }
    }
    f
}

/// F on `pairs`, n×K in f64, from f32 weights in the paper's layout (W [K, 2M]
/// row-major), the pre-activation summed in f64.
pub fn of_weights_f64(w: &[f32], shape: &ModelShape, pairs: &PairSet) -> Mat<f64> {
    let (m, cols) = (shape.modulus, 2 * shape.modulus);
    Mat::from_fn(pairs.len(), shape.width, |i, j| {
        let h = w[j * cols + pairs.a[i]] as f64 + w[j * cols + m + pairs.b[i]] as f64;
        shape.activation.apply_f64(h)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, Weights};
    use crate::seeding::RngScheme;

    #[test]
    fn features_follow_the_gather() {
        // M = 2, K = 2: W = [[1, 2, 3, 4], [-1, 0, 0.5, 2]]; pair (1, 0) is index 2: h = (2 + 3, 0 + 0.5).
        let pairs = crate::data::Split::from_indices(2, vec![2], vec![0, 1, 3]).train;
        let sqr = ModelShape { modulus: 2, width: 2, activation: Activation::Sqr };
        let f = of_weights_f64(&[1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 0.5, 2.0], &sqr, &pairs);
        assert_eq!((f[(0, 0)], f[(0, 1)]), (25.0, 0.25));
        let relu = ModelShape { modulus: 2, width: 1, activation: Activation::Relu };
        assert_eq!(of_weights_f64(&[0.0, -1.0, -1.0, 0.0], &relu, &pairs)[(0, 0)], 0.0);
    }

    #[test]
    fn both_layouts_give_the_same_features() {
        let shape = ModelShape { modulus: 7, width: 24, activation: Activation::Sqr };
        let weights = Weights::seeded(&shape, 3, RngScheme::Torch);
        let split = crate::data::Split::seeded(7, 29, 3, RngScheme::Torch);
        let f32s = rows(&weights.w_transposed(&shape), &shape, &split.train);
        let f64s = of_weights_f64(&weights.w, &shape, &split.train);
        for i in 0..f64s.nrows() {
            for j in 0..f64s.ncols() {
                let x = f32s[i * shape.width + j] as f64;
                assert!((x - f64s[(i, j)]).abs() <= 1e-6 * f64s[(i, j)].abs().max(1e-6));
            }
        }
    }
}
