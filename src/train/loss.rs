//! Which loss the network is trained on (docs/methods.md, "Losses"): Tian's
//! centred MSE (the paper's, the default) or the softmax cross-entropy of
//! `torch.nn.functional.cross_entropy` over the M outputs, each with its
//! residual R, from which ∂L/∂o = (scale / n) R.
//!
//! Cross-entropy on the host, row by row in f32 and in class order: the
//! row's maximum, e_c = exp(o_c − max) by the pure-Rust `libm` `expf`,
//! s = Σ_c e_c summed in class order, p_c = e_c / s, R = p − onehot(label)
//! and the row's loss ℓ = ln s − (o_label − max) (`libm` `logf`); L is the
//! canonical f64 sum of the ℓ over the pairs in pair order, divided by n.

use serde::{Deserialize, Serialize};

use super::gradient::{correct_predictions, evaluate_host, residual_host};
use crate::metrics::Evaluation;
use crate::numerics::dot;

/// The loss of a run (claim field `loss`, flag `--loss`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Tian's MSE on outputs centred over classes (docs/methods.md, "Training").
    #[default]
    Mse,
    /// Softmax cross-entropy over the M outputs, mean over pairs.
    #[value(name = "cross_entropy", alias = "cross-entropy")]
    CrossEntropy,
}

impl Loss {
    /// The name claim files, flags and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross_entropy",
        }
    }

    /// Whether this is the paper's MSE, left out of a spec's JSON so that
    /// the cache keys of MSE runs do not change.
    pub fn is_mse(&self) -> bool {
        *self == Loss::Mse
    }

    /// ∂L/∂o = `scale` / n · R: 2 for the MSE, 1 for cross-entropy.
    pub fn gradient_scale(self) -> f64 {
        match self {
            Loss::Mse => 2.0,
            Loss::CrossEntropy => 1.0,
        }
    }

    /// The residual R and the loss and accuracy of outputs `output` [n, M]
    /// on the host, in canonical arithmetic.
    pub fn residual_and_evaluation(self, output: &[f32], labels: &[usize], modulus: usize) -> (Vec<f32>, Evaluation) {
        match self {
            Loss::Mse => {
                let r = residual_host(output, labels, modulus);
                let evaluation = evaluate_host(output, &r, labels, modulus);
                (r, evaluation)
            }
            Loss::CrossEntropy => {
                let (r, terms) = cross_entropy_rows(output, labels, modulus);
                let correct = correct_predictions(output, labels, modulus);
                (r, self.evaluation_from(&terms, correct, labels.len()))
            }
        }
    }

    /// What a block of the test pass keeps for the loss: the residual (MSE)
    /// or each pair's ℓ (cross-entropy).
    pub fn loss_terms(self, output: &[f32], labels: &[usize], modulus: usize) -> Vec<f32> {
        match self {
            Loss::Mse => residual_host(output, labels, modulus),
            Loss::CrossEntropy => cross_entropy_rows(output, labels, modulus).1,
        }
    }

    /// Loss and accuracy of n pairs from their [`Loss::loss_terms`] in pair
    /// order: ⟨R, R⟩ / n, or Σ ℓ / n, each a canonical f64 sum.
    pub fn evaluation_from(self, terms: &[f32], correct: usize, n: usize) -> Evaluation {
        let sum = match self {
            Loss::Mse => dot(terms, terms),
            Loss::CrossEntropy => dot(terms, &vec![1.0f32; terms.len()]),
        };
        Evaluation { loss: sum / n as f64, accuracy: correct as f64 / n as f64 }
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Cross-entropy's residual R = softmax(o) − onehot(label) [n, M] and each
/// row's loss ℓ = −log softmax(o)_label, in the fixed order of the module's
/// documentation.
pub fn cross_entropy_rows(output: &[f32], labels: &[usize], modulus: usize) -> (Vec<f32>, Vec<f32>) {
    let mut residual = Vec::with_capacity(output.len());
    let mut losses = Vec::with_capacity(labels.len());
    for (row, &label) in output.chunks_exact(modulus).zip(labels) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &o| m.max(o));
        let start = residual.len();
        residual.extend(row.iter().map(|&o| libm::expf(o - max)));
        let sum = residual[start..].iter().fold(0.0f32, |s, &e| s + e);
        for (c, r) in residual[start..].iter_mut().enumerate() {
            *r = *r / sum - if c == label { 1.0 } else { 0.0 };
        }
        losses.push(libm::logf(sum) - (row[label] - max));
    }
    (residual, losses)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ℓ and R by hand for one row: o = (0, ln 3), label 0: softmax = (1/4, 3/4),
    /// ℓ = ln 4, R = (−3/4, 3/4).
    #[test]
    fn one_row_by_hand() {
        let (r, l) = cross_entropy_rows(&[0.0, 3f32.ln()], &[0], 2);
        assert!((l[0] - 4f32.ln()).abs() < 1e-6, "{l:?}");
        assert!((r[0] + 0.75).abs() < 1e-6 && (r[1] - 0.75).abs() < 1e-6, "{r:?}");
        // Large outputs do not overflow: the maximum is subtracted first.
        let (r, l) = cross_entropy_rows(&[1000.0, 0.0, 1000.0], &[2], 3);
        assert!((l[0] - 2f32.ln()).abs() < 1e-6 && r.iter().all(|x| x.is_finite()), "{l:?} {r:?}");
    }

    /// The loss of `output` in f64 by the textbook formula (no max shift).
    fn loss_f64(output: &[f64], labels: &[usize], m: usize) -> f64 {
        let rows = output.chunks_exact(m).zip(labels);
        rows.map(|(row, &l)| row.iter().map(|o| o.exp()).sum::<f64>().ln() - row[l]).sum::<f64>() / labels.len() as f64
    }

    /// ∂L/∂o = R / n against central finite differences of L in f64, on a
    /// few seeded rows; and L itself against the f64 formula.
    #[test]
    fn gradient_matches_finite_differences() {
        let (m, labels) = (5, [3usize, 0, 4]);
        let output: Vec<f32> = (0..15).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.37).collect();
        let (r, _) = cross_entropy_rows(&output, &labels, m);
        let wide: Vec<f64> = output.iter().map(|&o| o as f64).collect();
        let h = 1e-5;
        for i in 0..output.len() {
            let (mut up, mut down) = (wide.clone(), wide.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss_f64(&up, &labels, m) - loss_f64(&down, &labels, m)) / (2.0 * h);
            let analytic = r[i] as f64 / labels.len() as f64;
            assert!((numeric - analytic).abs() < 1e-5, "entry {i}: {numeric} vs {analytic}");
        }
        let (_, evaluation) = Loss::CrossEntropy.residual_and_evaluation(&output, &labels, m);
        assert!((evaluation.loss - loss_f64(&wide, &labels, m)).abs() < 1e-5);
        let terms = Loss::CrossEntropy.loss_terms(&output, &labels, m);
        let correct = correct_predictions(&output, &labels, m);
        assert_eq!(Loss::CrossEntropy.evaluation_from(&terms, correct, 3), evaluation, "both routes, the same bits");
    }

    /// The MSE route is the one the code had before losses existed.
    #[test]
    fn mse_is_the_centred_residual() {
        let (output, labels) = ([0.5f32, -1.0, 2.0, 0.25, 0.0, 1.0], [1usize, 0]);
        let (r, evaluation) = Loss::Mse.residual_and_evaluation(&output, &labels, 3);
        assert_eq!(r, residual_host(&output, &labels, 3));
        assert_eq!(evaluation, evaluate_host(&output, &r, &labels, 3));
        assert_eq!(Loss::Mse.evaluation_from(&Loss::Mse.loss_terms(&output, &labels, 3), 0, 2), evaluation);
    }
}
