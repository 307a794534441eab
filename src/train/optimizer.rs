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

    /// Step `t` of one parameter, given as a tensor and as read back to
    /// the host: on the tensors ([`StepRule::step`]) or, for host passes,
    /// in one pass on the host ([`StepRule::step_host`]), with the same bits.
    pub fn step_param(
        &self,
        t: u32,
        (param, host): (Tensor<2>, &[f32]),
        grad: Tensor<2>,
        state: &mut ParamState,
    ) -> Tensor<2> {
        match state {
            ParamState::Tensors(moments) => self.step(t, param, grad, moments),
            ParamState::Host(moments) => {
                let (dims, device) = (grad.dims(), grad.device());
                let mut grad = crate::model::host_floats(grad);
                self.step_host(t, host, &mut grad, moments);
                Tensor::from_data(burn::tensor::TensorData::new(grad, dims), &device)
            }
        }
    }

    /// [`StepRule::step`] on the host, in one pass over θ, its gradient and
    /// its moments, each entry by the tensor step's f32 operations in their
    /// order: θ_t is written over `grad`.
    pub fn step_host(&self, t: u32, param: &[f32], grad: &mut [f32], state: &mut HostMoments) {
        let adam = AdamConfig { lr: self.lr, weight_decay: self.weight_decay, ..AdamConfig::default() };
        let moments = (&mut state.m[..], &mut state.v[..]);
        match self.optimizer {
            Optimizer::Adam => adam.step_host(t, param, |p| p, grad, moments),
            Optimizer::Adamw => {
                let keep = (1.0 - self.lr * self.weight_decay) as f32;
                AdamConfig { weight_decay: 0.0, ..adam }.step_host(t, param, |p| p * keep, grad, moments)
            }
            Optimizer::Sgd => self.sgd_step_host(t, param, grad, &mut state.m),
        }
    }

    /// [`StepRule::sgd_step`] on the host: θ_t written over `grad`.
    fn sgd_step_host(&self, t: u32, param: &[f32], grad: &mut [f32], buffer: &mut [f32]) {
        let (decay, momentum, lr) = (self.weight_decay as f32, self.momentum as f32, self.lr as f32);
        for ((g, &p), b) in grad.iter_mut().zip(param).zip(buffer.iter_mut()) {
            let mut d = if self.weight_decay != 0.0 { *g + p * decay } else { *g };
            if self.momentum != 0.0 {
                d = if t == 1 { d } else { *b * momentum + d };
                *b = d;
            }
            *g = p - d * lr;
        }
    }
}

/// One parameter's optimiser state: on burn tensors for burn's passes, on
/// the host for host passes.
#[derive(Clone, Debug)]
pub enum ParamState {
    /// Stepped by tensor operations ([`StepRule::step`]); boxed, as two
    /// tensors are many times the size of two vectors.
    Tensors(Box<Moments>),
    /// Stepped on the host ([`StepRule::step_host`]).
    Host(HostMoments),
}

impl ParamState {
    /// Zero state for `param`, on the host where `host` says so.
    pub fn zeros_like(param: &Tensor<2>, host: bool) -> Self {
        if host {
            let len = param.dims().iter().product();
            ParamState::Host(HostMoments { m: vec![0.0; len], v: vec![0.0; len] })
        } else {
            ParamState::Tensors(Box::new(Moments::zeros_like(param)))
        }
    }
}

/// Adam's two moments of one parameter on the host, or SGD's momentum buffer in `m`.
#[derive(Clone, Debug)]
pub struct HostMoments {
    m: Vec<f32>,
    v: Vec<f32>,
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

    /// The host step has the tensor step's bits: each optimiser, with and
    /// without decay and momentum, four steps on entries of many scales and
    /// both signs, zeros of both signs among the gradients.
    #[rstest::rstest]
    #[case::adam(Optimizer::Adam, 0.0, 0.0)]
    #[case::adam_decay(Optimizer::Adam, 1e-2, 0.0)]
    #[case::adamw(Optimizer::Adamw, 1e-2, 0.0)]
    #[case::adamw_no_decay(Optimizer::Adamw, 0.0, 0.0)]
    #[case::sgd(Optimizer::Sgd, 0.0, 0.0)]
    #[case::sgd_momentum_decay(Optimizer::Sgd, 1e-2, 0.9)]
    fn host_steps_match_tensor_steps(#[case] optimizer: Optimizer, #[case] weight_decay: f64, #[case] momentum: f64) {
        use rand::{Rng, SeedableRng};
        let rule = StepRule { optimizer, lr: 1e-3, weight_decay, momentum };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut entries = |len: usize| -> Vec<f32> {
            (0..len).map(|_| rng.random_range(-1.0f32..1.0) * 10f32.powi(rng.random_range(-12..2))).collect()
        };
        let mut theta = entries(1000);
        let mut theta_tensor = tensor(theta.clone());
        let mut on_tensors = ParamState::zeros_like(&theta_tensor, false);
        let mut on_host = ParamState::zeros_like(&theta_tensor, true);
        let bits = |x: &Tensor<2>| -> Vec<u32> {
            x.to_data().try_to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()).collect()
        };
        for t in 1..=4 {
            let mut grad = entries(1000);
            (grad[0], grad[1]) = (0.0, -0.0);
            let from_tensors =
                rule.step_param(t, (theta_tensor.clone(), &theta), tensor(grad.clone()), &mut on_tensors);
            let from_host = rule.step_param(t, (theta_tensor.clone(), &theta), tensor(grad), &mut on_host);
            assert_eq!(bits(&from_host), bits(&from_tensors), "step {t}");
            assert_ne!(bits(&from_host), bits(&theta_tensor), "step {t} moved θ");
            theta = from_host.to_data().try_to_vec::<f32>().unwrap();
            theta_tensor = from_tensors;
        }
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
