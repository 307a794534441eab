//! Tian's centred MSE and its analytic gradient (docs/methods.md, "Training").
//!
//! L = (1/n) Σ_i Σ_c (ō_ic − y_ic)², ō = o − mean_c(o), y = onehot − 1/M.
//! With the residual R = ō − y (zero mean over classes, since ō and y are),
//! ∂L/∂o = (2/n) R, so ∂L/∂V = (2/n) Rᵀ F, ∂L/∂F = (2/n) R V,
//! ∂L/∂H = ∂L/∂F ⊙ σ'(H), and ∂L/∂Wᵀ adds row i of ∂L/∂H into rows a_i and
//! M + b_i (a scatter-add: the transpose of the two-row gather).
//! `tests::analytic_gradient_matches_autodiff` checks this against burn's autodiff.
//! With [`Passes::Host`] every reduction is canonical (docs/methods.md,
//! "Numerics scheme"): the products by [`crate::numerics::matmul`], the
//! class means in index order, the loss by [`crate::numerics::dot`].

use burn::tensor::{IndexingUpdateOp, Tensor, TensorData};

use crate::metrics::Evaluation;
use crate::model::{Activation, DeviceBatch, Forward, HostTheta, ModelShape, Passes, TwoLayer, host_floats};
use crate::numerics::{SharedB, dot, matmul_shared, matmul_tn, transpose};

/// R = ō − y, [n, M].
pub fn residual(output: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
    let mean = output.clone().mean_dim(1);
    output - mean - targets
}

/// Loss and accuracy from a forward pass's output and its residual (reads two scalars back).
pub fn evaluate(output: &Tensor<2>, residual: &Tensor<2>, batch: &DeviceBatch) -> Evaluation {
    let n = batch.len as f64;
    let loss = residual.clone().square().sum().into_scalar::<f64>() / n;
    let predicted = output.clone().argmax(1).squeeze_dim::<1>(1);
    let correct = predicted.equal(batch.labels.clone()).int().sum().into_scalar::<i64>();
    Evaluation { loss, accuracy: correct as f64 / n }
}

/// R = ō − y on the host, [n, M] row-major: each row's mean is its f32 sum
/// in class order divided by M, then (o − mean) − y as burn computes it.
/// Compiled for the widest vectors the CPU has ([`crate::numerics::on_widest`]).
pub fn residual_host(output: &[f32], labels: &[usize], modulus: usize) -> Vec<f32> {
    let off = -1.0 / modulus as f32;
    let mut r = Vec::with_capacity(output.len());
    crate::numerics::on_widest(
        #[inline(always)]
        || {
            for (row, &label) in output.chunks_exact(modulus).zip(labels) {
                let mean = row.iter().fold(0.0f32, |s, &o| s + o) / modulus as f32;
                r.extend(row.iter().enumerate().map(|(c, &o)| (o - mean) - if c == label { off + 1.0 } else { off }));
            }
        },
    );
    r
}

/// Loss and accuracy on the host: L = ⟨R, R⟩ / n with the canonical f64
/// dot product, and the fraction of rows whose first largest output is the label.
pub fn evaluate_host(output: &[f32], residual: &[f32], labels: &[usize], modulus: usize) -> Evaluation {
    evaluation_from(residual, correct_predictions(output, labels, modulus), labels.len())
}

/// Loss ⟨R, R⟩ / n (the canonical f64 dot) and accuracy `correct` / n of n
/// pairs, from their whole residual in pair order.
pub fn evaluation_from(residual: &[f32], correct: usize, n: usize) -> Evaluation {
    let n = n as f64;
    Evaluation { loss: dot(residual, residual) / n, accuracy: correct as f64 / n }
}

/// Rows of `output` whose first largest entry is the label.
pub fn correct_predictions(output: &[f32], labels: &[usize], modulus: usize) -> usize {
    output
        .chunks_exact(modulus)
        .zip(labels)
        .filter(|(row, label)| {
            let best = row.iter().enumerate().fold(0, |best, (c, &o)| if o > row[best] { c } else { best });
            best == **label
        })
        .count()
}

/// ∂L/∂Wᵀ [2M, K] and ∂L/∂V [M, K].
#[derive(Clone, Debug)]
pub struct Gradients {
    /// ∂L/∂Wᵀ, the module's first-layer layout.
    pub w_t: Tensor<2>,
    /// ∂L/∂V.
    pub v: Tensor<2>,
}

/// Pairs per block of the blocked backward pass
/// ([`w_t_gradient`]): each block of ∂L/∂F is made and used
/// at once, so no [n, K] buffer is allocated. At K = 2048 a block is
/// 768 KiB, which stays in L2 beside the rows of Wᵀ and ∂L/∂Wᵀ the
/// scatter reads and writes (256 rows, 2 MiB, did not: measured in
/// docs/performance.md, "Element-wise passes for the widest vectors").
/// It sets the speed only, never a bit.
pub(crate) const BLOCK_ROWS: usize = 96;

/// The row blocks of `n` pairs.
fn row_blocks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n).step_by(BLOCK_ROWS).map(move |start| start..(start + BLOCK_ROWS).min(n))
}

/// ∂L/∂o = (scale/n) R: scale 2 for the MSE, 1 for cross-entropy
/// (`Loss::gradient_scale`; docs/methods.md, "Losses").
pub fn output_gradient(scale: f64, residual: Tensor<2>, batch: &DeviceBatch) -> Tensor<2> {
    residual * (scale / batch.len as f64)
}

/// ∂L/∂V = (∂L/∂o)ᵀ F.
pub fn v_gradient(passes: Passes, d_output: Tensor<2>, features: Tensor<2>) -> Tensor<2> {
    if passes == Passes::Burn {
        return d_output.transpose().matmul(features);
    }
    let ([n, m], [_, k], device) = (d_output.dims(), features.dims(), features.device());
    // (∂L/∂V)ᵀ = Fᵀ (∂L/∂o): the same chains over the n pairs, vectorised
    // across K with the narrow ∂L/∂o as the packed operand.
    let grad_t = matmul_tn(&host_floats(features), &host_floats(d_output), k, n, m);
    Tensor::from_data(TensorData::new(transpose(&grad_t, k, m), [m, k]), &device)
}

/// ∂L/∂Wᵀ: ∂L/∂F = (∂L/∂o) V, times σ′(H), scatter-added into rows a_i and
/// M + b_i. With host passes ∂L/∂F is made `BLOCK_ROWS` pairs at a time
/// and used at once, V packed for the first block only, from θ read back
/// as `theta`.
pub fn w_t_gradient(model: &TwoLayer, theta: &HostTheta, batch: &DeviceBatch, d_output: Tensor<2>) -> Tensor<2> {
    let v = model.v.val();
    if model.passes == Passes::Burn {
        let d_hidden = model.activation.backward(model.hidden(batch), d_output.matmul(v));
        let w_t = model.w_t.val().zeros_like();
        return w_t.select_assign(0, batch.rows_a.clone(), d_hidden.clone(), IndexingUpdateOp::Add).select_assign(
            0,
            batch.rows_b.clone(),
            d_hidden,
            IndexingUpdateOp::Add,
        );
    }
    let (shape, device, d_output) = (model.shape(), v.device(), host_floats(d_output));
    let (m, k) = (shape.modulus, shape.width);
    let mut grad = vec![0.0f32; 2 * m * k];
    let (v, mut d_features) = (SharedB::new(&theta.v, m, k), Vec::new());
    for rows in row_blocks(batch.len) {
        matmul_shared(&d_output[rows.start * m..rows.end * m], &v, rows.len(), &mut d_features);
        let (a, b) = (&batch.pairs.a[rows.clone()], &batch.pairs.b[rows]);
        scatter_hidden_gradient(&theta.w_t, &shape, a, b, &d_features, &mut grad);
    }
    Tensor::from_data(TensorData::new(grad, [2 * m, k]), &device)
}

/// [`Passes::Host`]'s backward through σ and the gather, one pass over a
/// block of ∂L/∂F (pairs (a_i, b_i)): h recomputed from Wᵀ's two rows (the
/// forward's bits), and row i of ∂L/∂H added into rows a_i and M + b_i of
/// `grad` in pair order, as burn's two `select_assign`s add them (the row
/// sets are disjoint, so each entry sees the same additions in the same order).
fn scatter_hidden_gradient(
    w_t: &[f32],
    shape: &ModelShape,
    a: &[usize],
    b: &[usize],
    d_features: &[f32],
    grad: &mut [f32],
) {
    let (mk, pairs) = ((shape.modulus, shape.width), (a, b));
    // σ′ fixed per loop, so that the compiler vectorises x² and ReLU, for
    // the widest vectors the CPU has.
    crate::numerics::on_widest(
        #[inline(always)]
        || match shape.activation {
            Activation::Sqr => {
                scatter_with(w_t, mk, pairs, d_features, grad, &|h, d| Activation::Sqr.backward_f32(h, d))
            }
            Activation::Relu => {
                scatter_with(w_t, mk, pairs, d_features, grad, &|h, d| Activation::Relu.backward_f32(h, d))
            }
            other => scatter_with(w_t, mk, pairs, d_features, grad, &|h, d| other.backward_f32(h, d)),
        },
    )
}

/// [`scatter_hidden_gradient`] for the (M, K) shape and σ′ given.
#[inline(always)]
fn scatter_with(
    w_t: &[f32],
    (m, k): (usize, usize),
    (a, b): (&[usize], &[usize]),
    d_features: &[f32],
    grad: &mut [f32],
    backward: &impl Fn(f32, f32) -> f32,
) {
    for ((d_row, &a), &b) in d_features.chunks_exact(k).zip(a).zip(b) {
        let (rows_a, rows_b) = grad.split_at_mut(m * k);
        let (grad_a, grad_b) = (&mut rows_a[a * k..][..k], &mut rows_b[b * k..][..k]);
        let (w_a, w_b) = (&w_t[a * k..][..k], &w_t[(m + b) * k..][..k]);
        let rows = grad_a.iter_mut().zip(grad_b.iter_mut()).zip(w_a.iter().zip(w_b)).zip(d_row);
        for (((g_a, g_b), (&x, &y)), &d) in rows {
            let d_hidden = backward(x + y, d);
            *g_a += d_hidden;
            *g_b += d_hidden;
        }
    }
}

/// The analytic gradient of the loss at `model`, given its forward pass,
/// its residual and the loss's scale ([`output_gradient`]), with θ read
/// back as `theta`.
pub fn gradients(
    model: &TwoLayer,
    theta: &HostTheta,
    batch: &DeviceBatch,
    scale: f64,
    forward: Forward,
    residual: Tensor<2>,
) -> Gradients {
    let d_output = output_gradient(scale, residual, batch);
    let v = v_gradient(model.passes, d_output.clone(), forward.features);
    Gradients { w_t: w_t_gradient(model, theta, batch, d_output), v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::data::Split;
    use crate::model::{Activation, ModelShape, TwoLayer, Weights};
    use crate::seeding::RngScheme;
    use approx::assert_relative_eq;

    fn floats(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// M = 2, K = 1, σ = x², one pair: loss and gradient by hand.
    #[test]
    fn loss_and_gradient_match_closed_form() {
        let shape = ModelShape { modulus: 2, width: 1, activation: Activation::Sqr };
        // W = [w_a0, w_a1, w_b0, w_b1] = [0.5, -1, 2, 0.25]; V = [[1.5], [-0.5]].
        let weights = Weights { w: vec![0.5, -1.0, 2.0, 0.25], v: vec![1.5, -0.5] };
        let device = Backend::default().device();
        let model = TwoLayer::from_weights(&shape, &weights, &device);
        // Pair (a, b) = (1, 0): h = -1 + 2 = 1, f = 1, o = (1.5, -0.5), label 1.
        let split = Split::from_indices(2, vec![2], vec![0, 1, 3]);
        let batch = DeviceBatch::new(&split.train, 2, &device);
        let forward = model.forward(&batch);
        let r = residual(forward.output.clone(), batch.targets.clone());
        // ō = (1, -1), y = (-0.5, 0.5): R = (1.5, -1.5), L = 4.5.
        let eval = evaluate(&forward.output, &r, &batch);
        assert_relative_eq!(eval.loss, 4.5, epsilon = 1e-6);
        assert_eq!(eval.accuracy, 0.0);
        let grads = gradients(&model, &model.host_theta(), &batch, 2.0, forward, r);
        // dL/do = 2R = (3, -3); dV = dO fᵀ = (3, -3); dF = dOᵀ V = 4.5 + 1.5 = 6;
        // dH = 2h · 6 = 12, added to W[:, a=1] and W[:, M+b=2].
        assert_eq!(floats(grads.v), vec![3.0, -3.0]);
        assert_eq!(floats(grads.w_t), vec![0.0, 12.0, 12.0, 0.0]);
    }

    /// One body, one test per backend and activation (candle's pattern).
    fn assert_matches_autodiff(activation: Activation, backend: Backend) {
        let shape = ModelShape { modulus: 7, width: 16, activation };
        let weights = Weights::seeded(&shape, 11, RngScheme::Torch);
        let split = Split::seeded(7, 30, 2, RngScheme::Torch);
        let device = backend.device().autodiff();
        let mut model = TwoLayer::from_weights(&shape, &weights, &device);
        model.w_t = burn::module::Param::from_tensor(model.w_t.val().require_grad());
        model.v = burn::module::Param::from_tensor(model.v.val().require_grad());
        let batch = DeviceBatch::new(&split.train, 7, &device);
        let forward = model.forward(&batch);
        let r = residual(forward.output.clone(), batch.targets.clone());
        let loss = r.clone().square().sum() / batch.len as f64;
        let tape = loss.backward();
        let auto_w = floats(model.w_t.val().grad(&tape).unwrap());
        let auto_v = floats(model.v.val().grad(&tape).unwrap());
        let analytic = gradients(&model, &model.host_theta(), &batch, 2.0, forward, r);
        for (a, b) in floats(analytic.w_t).iter().zip(&auto_w) {
            assert_relative_eq!(a, b, epsilon = 1e-6, max_relative = 1e-4);
        }
        for (a, b) in floats(analytic.v).iter().zip(&auto_v) {
            assert_relative_eq!(a, b, epsilon = 1e-6, max_relative = 1e-4);
        }
    }

    /// The host passes compute what burn's ops compute: the features bit for
    /// bit, the output, residual, loss and both gradients to f32 rounding
    /// (the canonical products sum in another order than burn's GEMM), on
    /// both CPU backends; and the same bits on both. The pairs make two full
    /// blocks of BLOCK_ROWS and a partial one, or a last block of one pair.
    #[test]
    fn host_passes_match_burn() {
        let (partial, one_left) = (2 * BLOCK_ROWS + 24, 2 * BLOCK_ROWS + 1);
        let cases = [(Activation::Sqr, partial), (Activation::Relu, partial), (Activation::Sqr, one_left)];
        for (activation, n) in cases {
            let shape = ModelShape { modulus: 29, width: 48, activation };
            let weights = Weights::seeded(&shape, 5, RngScheme::Torch);
            let split = Split::seeded(29, n, 5, RngScheme::Torch);
            let run = |passes, backend: Backend| {
                let device = backend.device();
                let batch = DeviceBatch::new(&split.train, 29, &device);
                let model = TwoLayer { passes, ..TwoLayer::from_weights(&shape, &weights, &device) };
                let forward = model.forward(&batch);
                let (features, output) = (floats(forward.features.clone()), floats(forward.output.clone()));
                let r = match passes {
                    Passes::Burn => residual(forward.output.clone(), batch.targets.clone()),
                    Passes::Host => {
                        let r = residual_host(&output, &split.train.labels, 29);
                        Tensor::from_data(TensorData::new(r, [n, 29]), &device)
                    }
                };
                let residuals = floats(r.clone());
                let grads = gradients(&model, &model.host_theta(), &batch, 2.0, forward, r);
                [features, output, residuals, floats(grads.w_t), floats(grads.v)]
            };
            let burn = run(Passes::Burn, Backend::Flex);
            let host = run(Passes::Host, Backend::Flex);
            assert_eq!(host, run(Passes::Host, Backend::Ndarray), "host passes on both backends");
            assert_eq!(burn[0], host[0], "features, {activation:?}, n = {n}");
            let names = ["features", "output", "residual", "w_t gradient", "v gradient"];
            for (name, (b, h)) in names.iter().zip(burn.iter().zip(&host)) {
                let scale = b.iter().fold(0f32, |m, x| m.max(x.abs()));
                for (x, y) in b.iter().zip(h) {
                    assert_relative_eq!(x, y, epsilon = 1e-5 * scale, max_relative = 1e-4);
                }
                assert!(h.iter().any(|&g| g != 0.0), "{name}: a value that tests something");
            }
        }
    }

    #[test]
    fn analytic_gradient_matches_autodiff_sqr_flex() {
        assert_matches_autodiff(Activation::Sqr, Backend::Flex);
    }

    #[test]
    fn analytic_gradient_matches_autodiff_relu_flex() {
        assert_matches_autodiff(Activation::Relu, Backend::Flex);
    }

    #[test]
    fn analytic_gradient_matches_autodiff_sqr_ndarray() {
        assert_matches_autodiff(Activation::Sqr, Backend::Ndarray);
    }

    #[test]
    fn analytic_gradient_matches_autodiff_relu_ndarray() {
        assert_matches_autodiff(Activation::Relu, Backend::Ndarray);
    }

    #[test]
    fn gradient_matches_autodiff_for_the_script_s_other_activations() {
        for activation in [Activation::Gelu, Activation::Silu, Activation::Relusqr] {
            assert_matches_autodiff(activation, Backend::Flex);
        }
    }
}
