//! Which optimiser takes the steps (docs/methods.md, "Optimisers"): the
//! paper's PyTorch Adam with coupled weight decay (the default), PyTorch's
//! AdamW (decoupled decay) or PyTorch's SGD with momentum, each written out
//! element-wise in f32 so that its bits do not depend on the CPU.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::adam::{AdamConfig, Moments};

/// The optimiser of a run (claim field `optimizer`, flag `--optimizer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// `torch.optim.Adam(lr, weight_decay=η)`: η θ added to the gradient.
    #[default]
    Adam,
    /// `torch.optim.AdamW(lr, weight_decay=η)`: θ ← θ (1 − lr η) before the Adam step.
    Adamw,
    /// `torch.optim.SGD(lr, momentum=μ, weight_decay=η)`: η θ added to the gradient.
    Sgd,
}

impl Optimizer {
    /// The name claim files, flags and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Adam => "adam",
            Optimizer::Adamw => "adamw",
            Optimizer::Sgd => "sgd",
        }
    }

    /// Whether this is the paper's Adam, left out of a spec's JSON so that
    /// the cache keys of Adam runs do not change.
    pub fn is_adam(&self) -> bool {
        *self == Optimizer::Adam
    }
}

impl std::fmt::Display for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One optimiser's hyperparameters, as the two lanes of an epoch apply them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRule {
    /// Which optimiser.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// η: coupled (Adam, SGD) or decoupled (AdamW) weight decay.
    pub weight_decay: f64,
    /// SGD's momentum μ (0: plain gradient descent).
    pub momentum: f64,
}

impl StepRule {
    /// Step `t` (1-based) on one parameter: returns θ_t. `state` holds
    /// Adam's two moments, or SGD's momentum buffer in its first.
    pub fn step(&self, t: u32, param: Tensor<2>, grad: Tensor<2>, state: &mut Moments) -> Tensor<2> {
        let adam = AdamConfig { lr: self.lr, weight_decay: self.weight_decay, ..AdamConfig::default() };
        match self.optimizer {
            Optimizer::Adam => adam.step(t, param, grad, state),
            Optimizer::Adamw => {
                // torch.optim.AdamW: param.mul_(1 - lr * weight_decay), then Adam without decay.
                let decayed = param * (1.0 - self.lr * self.weight_decay);
                AdamConfig { weight_decay: 0.0, ..adam }.step(t, decayed, grad, state)
            }
            Optimizer::Sgd => self.sgd_step(t, param, grad, state),
        }
    }

    /// torch.optim.SGD (dampening 0, no Nesterov): d = g + η θ; with μ > 0
    /// the buffer b = d at step 1 and b ← μ b + d after; θ ← θ − lr · b.
    fn sgd_step(&self, t: u32, param: Tensor<2>, grad: Tensor<2>, state: &mut Moments) -> Tensor<2> {
        let d = if self.weight_decay != 0.0 { grad + param.clone() * self.weight_decay } else { grad };
        let d = if self.momentum == 0.0 {
            d
        } else {
            let buffer = if t == 1 { d } else { state.first() * self.momentum + d };
            state.set_first(buffer.clone());
            buffer
        };
        param - d * self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use burn::tensor::TensorData;

    fn tensor(values: Vec<f32>) -> Tensor<2> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [1, n]), &Backend::default().device())
    }

    fn value(t: &Tensor<2>) -> f32 {
        t.to_data().try_to_vec::<f32>().unwrap()[0]
    }

    /// Three steps of `rule` from θ = 1 with ∇L = 0.5 each time.
    fn three_steps(rule: StepRule) -> Vec<f32> {
        let mut theta = tensor(vec![1.0]);
        let mut state = Moments::zeros_like(&theta);
        (1..=3)
            .map(|t| {
                theta = rule.step(t, theta.clone(), tensor(vec![0.5]), &mut state);
                value(&theta)
            })
            .collect()
    }

    /// SGD by hand in f32, as torch.optim.SGD computes it: d = 0.5 + 0.1 θ;
    /// b₁ = d₁, b ← 0.9 b + d; θ ← θ − 0.01 b. Without momentum each step is
    /// θ − 0.01 d.
    #[test]
    fn sgd_matches_hand_computation() {
        let rule = StepRule { optimizer: Optimizer::Sgd, lr: 0.01, weight_decay: 0.1, momentum: 0.9 };
        let (mut theta, mut buffer, mut want) = (1.0f32, 0.0f32, Vec::new());
        for t in 1..=3 {
            let d = 0.5 + theta * 0.1;
            buffer = if t == 1 { d } else { buffer * 0.9 + d };
            theta -= buffer * 0.01;
            want.push(theta);
        }
        assert_eq!(three_steps(rule), want);
        assert!((want[0] - 0.994).abs() < 1e-7 && (want[1] - 0.982606).abs() < 1e-6, "{want:?}");
        let plain = StepRule { momentum: 0.0, ..rule };
        let (mut theta, mut want) = (1.0f32, Vec::new());
        for _ in 1..=3 {
            theta -= (0.5 + theta * 0.1) * 0.01;
            want.push(theta);
        }
        assert_eq!(three_steps(plain), want);
    }

    /// AdamW is Adam without coupled decay on θ (1 − lr η): at step 1 Adam's
    /// normalised step is lr · g/(|g| + ε) whatever g's scale, so
    /// θ₁ = (1 − 0.01 · 0.1) − 0.01 · 0.5/(0.5 + ε); Adam's coupled decay
    /// instead only changes g (to 0.6), giving 1 − 0.01 · 0.6/(0.6 + ε).
    #[test]
    fn adamw_decays_before_the_adam_step() {
        let adamw = StepRule { optimizer: Optimizer::Adamw, lr: 0.01, weight_decay: 0.1, momentum: 0.0 };
        let steps = three_steps(adamw);
        let want = (1.0 - 0.01 * 0.1) - 0.01 * 0.5 / (0.5 + 1e-8);
        assert!((steps[0] as f64 - want).abs() < 1e-7, "{} vs {want}", steps[0]);
        let adam = three_steps(StepRule { optimizer: Optimizer::Adam, ..adamw });
        assert!((adam[0] as f64 - (1.0 - 0.01 * 0.6 / (0.6 + 1e-8))).abs() < 1e-7);
        // Step 2 in f64: θ₁(1 − lr η), then m, v of two gradients 0.5.
        let (m2, v2) = (0.9 * 0.05 + 0.1 * 0.5, 0.999 * 0.00025 + 0.001 * 0.25);
        let step2 = 0.01 / (1.0 - 0.81) * m2 / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        let want2 = steps[0] as f64 * (1.0 - 0.001) - step2;
        assert!((steps[1] as f64 - want2).abs() < 1e-6, "{} vs {want2}", steps[1]);
        let no_decay = three_steps(StepRule { weight_decay: 0.0, ..adamw });
        assert_eq!(no_decay, three_steps(StepRule { optimizer: Optimizer::Adam, weight_decay: 0.0, ..adamw }));
    }
}
