//! PyTorch `torch.optim.Adam(lr, weight_decay=η)` on burn tensors
//! (docs/methods.md, "Training").
//!
//! Written by hand rather than with burn's `AdamConfig` so that every detail
//! is PyTorch's (single-tensor path, `foreach=False`):
//! g ← ∇L + η θ (coupled L2); m ← m + (1 − β1)(g − m); v ← β2 v + (1 − β2) g²;
//! θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
//! burn's own default ε is 1e-5; PyTorch's (and ours) is 1e-8.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Adam's hyperparameters; [`Default`] is PyTorch's with the paper's learning rate (lr 1e-3,
/// β = (0.9, 0.999), ε = 1e-8, η = 0; docs/methods.md, "Training").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// β1, the first-moment decay.
    pub beta1: f64,
    /// β2, the second-moment decay.
    pub beta2: f64,
    /// ε, added to the bias-corrected √v.
    pub eps: f64,
    /// η, coupled L2 weight decay (added to the gradient).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// The moment estimates of one parameter tensor.
#[derive(Clone, Debug)]
pub struct Moments {
    m: Tensor<2>,
    v: Tensor<2>,
}

impl Moments {
    /// Zero moments shaped like `param`.
    pub fn zeros_like(param: &Tensor<2>) -> Self {
        Self { m: param.zeros_like(), v: param.zeros_like() }
    }

    /// The first moment m (SGD keeps its momentum buffer here).
    pub fn first(&self) -> Tensor<2> {
        self.m.clone()
    }

    /// Replace the first moment.
    pub fn set_first(&mut self, m: Tensor<2>) {
        self.m = m;
    }
}

impl AdamConfig {
    /// Step `t` (1-based) of Adam on one parameter: returns θ_t.
    pub fn step(&self, t: u32, param: Tensor<2>, grad: Tensor<2>, moments: &mut Moments) -> Tensor<2> {
        let grad = if self.weight_decay != 0.0 { grad + param.clone() * self.weight_decay } else { grad };
        let m = moments.m.clone();
        moments.m = m.clone() + (grad.clone() - m) * (1.0 - self.beta1);
        moments.v = moments.v.clone() * self.beta2 + grad.square() * (1.0 - self.beta2);
        // β^t from the pure-Rust libm (docs/methods.md, "Numerics scheme").
        let bias1 = 1.0 - libm::pow(self.beta1, t as f64);
        let bias2_sqrt = (1.0 - libm::pow(self.beta2, t as f64)).sqrt();
        let denom = moments.v.clone().sqrt() / bias2_sqrt + self.eps;
        param - moments.m.clone() / denom * (self.lr / bias1)
    }
}

/// Adam's per-step constants, rounded to f32 as burn rounds a tensor
/// step's scalars ([`AdamConfig::step`]).
struct StepScalars {
    decay: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias2_sqrt: f32,
    eps: f32,
    step: f32,
}

impl AdamConfig {
    fn scalars(&self, t: u32) -> StepScalars {
        let bias1 = 1.0 - libm::pow(self.beta1, t as f64);
        StepScalars {
            decay: self.weight_decay as f32,
            one_minus_beta1: (1.0 - self.beta1) as f32,
            beta2: self.beta2 as f32,
            one_minus_beta2: (1.0 - self.beta2) as f32,
            bias2_sqrt: (1.0 - libm::pow(self.beta2, t as f64)).sqrt() as f32,
            eps: self.eps as f32,
            step: (self.lr / bias1) as f32,
        }
    }

    /// [`AdamConfig::step`] on the host, in one pass over θ, the gradient
    /// and the moments (`m`, `v`): each entry by the same f32 operations
    /// in the same order, so with the same bits. θ is read as `theta(θ_i)`
    /// (AdamW's decoupled decay, or θ itself), and θ_t written over `grad`.
    pub fn step_host(
        &self,
        t: u32,
        param: &[f32],
        theta: impl Fn(f32) -> f32,
        grad: &mut [f32],
        (m, v): (&mut [f32], &mut [f32]),
    ) {
        let s = self.scalars(t);
        // The decay written out of the loop, so that both loops vectorise
        // (for the widest vectors the CPU has); without decay the gradient
        // is used as it is (a −0 stays −0).
        crate::numerics::on_widest(
            #[inline(always)]
            || {
                if self.weight_decay != 0.0 {
                    adam_entries(&s, param, &theta, &|g, p| g + p * s.decay, grad, (m, v));
                } else {
                    adam_entries(&s, param, &theta, &|g, _| g, grad, (m, v));
                }
            },
        );
    }
}

/// One pass of [`AdamConfig::step_host`], with the coupled decay given as `decayed(g, θ)`.
#[inline(always)]
fn adam_entries(
    s: &StepScalars,
    param: &[f32],
    theta: &impl Fn(f32) -> f32,
    decayed: &impl Fn(f32, f32) -> f32,
    grad: &mut [f32],
    (m, v): (&mut [f32], &mut [f32]),
) {
    for (((g, &p), m), v) in grad.iter_mut().zip(param).zip(m.iter_mut()).zip(v.iter_mut()) {
        let p = theta(p);
        let g_decayed = decayed(*g, p);
        *m = *m + (g_decayed - *m) * s.one_minus_beta1;
        *v = *v * s.beta2 + g_decayed * g_decayed * s.one_minus_beta2;
        let denom = v.sqrt() / s.bias2_sqrt + s.eps;
        *g = p - *m / denom * s.step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use approx::assert_relative_eq;
    use burn::tensor::TensorData;

    fn tensor(values: Vec<f32>) -> Tensor<2> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [1, n]), &Backend::default().device())
    }

    /// Two steps by hand. θ = 1, η = 0.1, lr = 0.01.
    /// Step 1: g = 0.5 + 0.1 = 0.6; m = 0.06; v = 0.00036; m̂ = 0.6, √v̂ = 0.6:
    /// θ = 1 − 0.01 · 0.6/(0.6 + ε) ≈ 0.99. A tiny gradient shows ε: with
    /// g = 1e-9 (and η = 0) the step is 0.01 · 1e-9/(1e-9 + 1e-8) = 0.01/11.
    #[test]
    fn step_matches_hand_computation() {
        let cfg = AdamConfig { lr: 0.01, weight_decay: 0.1, ..AdamConfig::default() };
        let param = tensor(vec![1.0]);
        let mut moments = Moments::zeros_like(&param);
        let theta1 = cfg.step(1, param, tensor(vec![0.5]), &mut moments);
        let theta1_value = theta1.to_data().try_to_vec::<f32>().unwrap()[0];
        assert_relative_eq!(theta1_value as f64, 1.0 - 0.01 * 0.6 / (0.6 + 1e-8), epsilon = 1e-7);
        // Step 2 with ∇L = 0.5 again: g = 0.5 + 0.1 θ1.
        let g2 = 0.5 + 0.1 * theta1_value as f64;
        let m2 = 0.9 * 0.06 + 0.1 * g2;
        let v2 = 0.999 * 0.00036 + 0.001 * g2 * g2;
        let step2 = 0.01 / (1.0 - 0.81) * m2 / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        let theta2 = cfg.step(2, theta1, tensor(vec![0.5]), &mut moments);
        assert_relative_eq!(
            theta2.to_data().try_to_vec::<f32>().unwrap()[0] as f64,
            theta1_value as f64 - step2,
            epsilon = 1e-6
        );

        let cfg = AdamConfig { lr: 0.01, ..AdamConfig::default() };
        let param = tensor(vec![0.0]);
        let mut moments = Moments::zeros_like(&param);
        let theta = cfg.step(1, param, tensor(vec![1e-9]), &mut moments);
        let expected = -0.01 * 1e-9 / (1e-9 + 1e-8); // burn's ε = 1e-5 would give ≈ -1e-6
        assert_relative_eq!(theta.into_data().try_to_vec::<f32>().unwrap()[0] as f64, expected, max_relative = 1e-4);
    }
}
