//! Tian's centred MSE and its analytic gradient (docs/methods.md, "Training").
//!
//! L = (1/n) Σ_i Σ_c (ō_ic − y_ic)², ō = o − mean_c(o), y = onehot − 1/M.
//! With the residual R = ō − y (zero mean over classes, since ō and y are),
//! ∂L/∂o = (2/n) R, so ∂L/∂V = (2/n) Rᵀ F, ∂L/∂F = (2/n) R V,
//! ∂L/∂H = ∂L/∂F ⊙ σ'(H), and ∂L/∂Wᵀ adds row i of ∂L/∂H into rows a_i and
//! M + b_i (a scatter-add: the transpose of the two-row gather).
//! `tests::analytic_gradient_matches_autodiff` checks this against burn's autodiff.

use burn::tensor::{IndexingUpdateOp, Tensor};

use crate::model::{DeviceBatch, Forward, TwoLayer};

/// Loss and accuracy of one set of pairs at one θ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Tian's centred MSE, mean over pairs, sum over classes.
    pub loss: f64,
    /// Fraction of pairs whose argmax output equals the label.
    pub accuracy: f64,
}

/// R = ō − y, [n, M].
pub fn residual(output: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
    let mean = output.clone().mean_dim(1);
    output - mean - targets
}

/// Loss and accuracy from a forward pass and its residual (reads two scalars back).
pub fn evaluate(forward: &Forward, residual: &Tensor<2>, batch: &DeviceBatch) -> Evaluation {
    let n = batch.len as f64;
    let loss = residual.clone().square().sum().into_scalar::<f64>() / n;
    let predicted = forward.output.clone().argmax(1).squeeze_dim::<1>(1);
    let correct = predicted.equal(batch.labels.clone()).int().sum().into_scalar::<i64>();
    Evaluation { loss, accuracy: correct as f64 / n }
}

/// ∂L/∂Wᵀ [2M, K] and ∂L/∂V [M, K].
#[derive(Clone, Debug)]
pub struct Gradients {
    /// ∂L/∂Wᵀ, the module's first-layer layout.
    pub w_t: Tensor<2>,
    /// ∂L/∂V.
    pub v: Tensor<2>,
}

/// The analytic gradient of the loss at `model`, given its forward pass and residual.
pub fn gradients(model: &TwoLayer, batch: &DeviceBatch, forward: Forward, residual: Tensor<2>) -> Gradients {
    let d_output = residual * (2.0 / batch.len as f64);
    let v = d_output.clone().transpose().matmul(forward.features.clone());
    let d_features = d_output.matmul(model.v.val());
    let d_hidden = model.activation.backward(forward.hidden, forward.features.clone(), d_features);
    let w_t = model.w_t.val().zeros_like();
    let w_t = w_t.select_assign(0, batch.rows_a.clone(), d_hidden.clone(), IndexingUpdateOp::Add).select_assign(
        0,
        batch.rows_b.clone(),
        d_hidden,
        IndexingUpdateOp::Add,
    );
    Gradients { w_t, v }
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
        let eval = evaluate(&forward, &r, &batch);
        assert_relative_eq!(eval.loss, 4.5, epsilon = 1e-6);
        assert_eq!(eval.accuracy, 0.0);
        let grads = gradients(&model, &batch, forward, r);
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
        let analytic = gradients(&model, &batch, forward, r);
        for (a, b) in floats(analytic.w_t).iter().zip(&auto_w) {
            assert_relative_eq!(a, b, epsilon = 1e-6, max_relative = 1e-4);
        }
        for (a, b) in floats(analytic.v).iter().zip(&auto_v) {
            assert_relative_eq!(a, b, epsilon = 1e-6, max_relative = 1e-4);
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
}
