//! Full-batch training (SPEC §2) with the per-epoch log (§2–3.1).
//!
//! One Adam step per epoch on all n training pairs. Row t of the log is
//! taken at θ_t: its train metrics come from the same forward pass that the
//! step t+1 differentiates; the spectra from the windows that end with Δ_t.
//! A non-finite training loss stops the run and marks it diverged.

pub mod adam;
pub mod gradient;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::data::{Split, n_train};
use crate::measure::spectrum::RollingGram;
use crate::metrics::{EpochRow, Metrics};
use crate::model::{Activation, DeviceBatch, ModelShape, TwoLayer, Weights, transpose};
use adam::{AdamConfig, Moments};
use gradient::{evaluate, gradients, residual};

/// Every hyperparameter of one training run (SPEC §2); [`Default`] is the paper's x², η = 2e-4 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// M.
    pub modulus: usize,
    /// K.
    pub width: usize,
    /// Fraction of the M² pairs used for training (n = floor(fraction · M²)).
    pub train_fraction: f64,
    /// σ.
    pub activation: Activation,
    /// Adam learning rate.
    pub lr: f64,
    /// Weight decay η (coupled L2).
    pub eta: f64,
    /// E, the number of full-batch steps.
    pub epochs: usize,
    /// Wn, the rolling window of updates.
    pub window: usize,
    /// Seed of the split and the init (ChaCha8, see [`crate::data`]).
    pub seed: u64,
    /// Epochs at which θ_e is kept as a checkpoint.
    pub checkpoints: Vec<usize>,
    /// Where the tensors live.
    pub backend: Backend,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            modulus: 71,
            width: 2048,
            train_fraction: 0.4,
            activation: Activation::Sqr,
            lr: 1e-3,
            eta: 2e-4,
            epochs: 400,
            window: 20,
            seed: 0,
            checkpoints: Vec::new(),
            backend: Backend::default(),
        }
    }
}

impl TrainSpec {
    /// The network's shape.
    pub fn shape(&self) -> ModelShape {
        ModelShape { modulus: self.modulus, width: self.width, activation: self.activation }
    }

    /// The seeded split and init of SPEC §2.
    pub fn seeded_start(&self) -> Start {
        let split = Split::seeded(self.modulus, n_train(self.modulus, self.train_fraction), self.seed);
        Start { weights: Weights::seeded(&self.shape(), self.seed), split }
    }
}

/// θ_0 and the split a run starts from.
#[derive(Clone, Debug, PartialEq)]
pub struct Start {
    /// θ_0 in the paper's layouts.
    pub weights: Weights,
    /// Train/test pairs.
    pub split: Split,
}

/// θ_e saved at a requested epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// e.
    pub epoch: usize,
    /// θ_e in the paper's layouts.
    pub weights: Weights,
}

/// Everything a run produces.
#[derive(Clone, Debug)]
pub struct TrainOutput {
    /// Rows 0..=E, or up to the divergence.
    pub metrics: Metrics,
    /// The requested checkpoints that were reached.
    pub checkpoints: Vec<Checkpoint>,
    /// First epoch whose training loss was not finite, if any.
    pub diverged_at: Option<usize>,
}

/// The training state between epochs. [`train`] drives it; the benchmark
/// (`cargo xtask bench`) times its phases separately.
pub struct Trainer {
    spec: TrainSpec,
    model: TwoLayer,
    train_batch: DeviceBatch,
    test_batch: DeviceBatch,
    adam: AdamConfig,
    w_moments: Moments,
    v_moments: Moments,
    /// θ_t on the CPU (Wᵀ and V, f32): the previous snapshot for the next Δ.
    w_prev: Vec<f32>,
    v_prev: Vec<f32>,
    w_window: RollingGram,
    v_window: RollingGram,
    steps: u32,
}

/// The training forward pass at θ_t, kept for the step that follows it.
pub struct TrainForward {
    forward: crate::model::Forward,
    residual: burn::tensor::Tensor<2>,
    /// Loss and accuracy of θ_t on the training pairs.
    pub evaluation: gradient::Evaluation,
}

impl Trainer {
    /// θ_0 from `start`, on the spec's backend.
    pub fn new(spec: &TrainSpec, start: &Start) -> Self {
        let shape = spec.shape();
        let device = spec.backend.device();
        let model = TwoLayer::from_weights(&shape, &start.weights, &device);
        let w_prev = start.weights.w_transposed(&shape);
        let v_prev = start.weights.v.clone();
        Self {
            spec: spec.clone(),
            train_batch: DeviceBatch::new(&start.split.train, spec.modulus, &device),
            test_batch: DeviceBatch::new(&start.split.test, spec.modulus, &device),
            adam: AdamConfig { lr: spec.lr, weight_decay: spec.eta, ..AdamConfig::default() },
            w_moments: Moments::zeros_like(&model.w_t.val()),
            v_moments: Moments::zeros_like(&model.v.val()),
            w_window: RollingGram::new(spec.window, w_prev.len()),
            v_window: RollingGram::new(spec.window, v_prev.len()),
            model,
            w_prev,
            v_prev,
            steps: 0,
        }
    }

    /// Forward pass on the training pairs at the current θ, with its metrics.
    pub fn forward_train(&self) -> TrainForward {
        let forward = self.model.forward(&self.train_batch);
        let residual = residual(forward.output.clone(), self.train_batch.targets.clone());
        let evaluation = evaluate(&forward, &residual, &self.train_batch);
        TrainForward { forward, residual, evaluation }
    }

    /// Loss and accuracy of the current θ on the test pairs.
    pub fn evaluate_test(&self) -> gradient::Evaluation {
        let forward = self.model.forward(&self.test_batch);
        let residual = residual(forward.output.clone(), self.test_batch.targets.clone());
        evaluate(&forward, &residual, &self.test_batch)
    }

    /// The log row of the current θ_t.
    pub fn row(&self, train: &TrainForward, test: gradient::Evaluation) -> EpochRow {
        EpochRow {
            epoch: self.steps as usize,
            train: train.evaluation,
            test,
            w: self.w_window.row(),
            v: self.v_window.row(),
        }
    }

    /// θ_t in the paper's layouts (from the CPU snapshot).
    pub fn weights(&self) -> Weights {
        Weights { w: transpose(&self.w_prev, 2 * self.spec.modulus, self.spec.width), v: self.v_prev.clone() }
    }

    /// One Adam step from the forward pass at θ_t: θ_{t+1} on the device.
    pub fn step(&mut self, train: TrainForward) {
        let grads = gradients(&self.model, &self.train_batch, train.forward, train.residual);
        self.steps += 1;
        let w_t = self.adam.step(self.steps, self.model.w_t.val(), grads.w_t, &mut self.w_moments);
        let v = self.adam.step(self.steps, self.model.v.val(), grads.v, &mut self.v_moments);
        self.model.w_t = burn::module::Param::from_tensor(w_t);
        self.model.v = burn::module::Param::from_tensor(v);
    }

    /// Read θ_{t+1} back and push Δ_{t+1} into both update windows.
    pub fn record_updates(&mut self) {
        let w_next = self.model.w_t.val().into_data().try_into_vec::<f32>().expect("f32 weights");
        let v_next = self.model.v.val().into_data().try_into_vec::<f32>().expect("f32 weights");
        self.w_window.push_difference(&w_next, &self.w_prev);
        self.v_window.push_difference(&v_next, &self.v_prev);
        (self.w_prev, self.v_prev) = (w_next, v_next);
    }
}

/// Train from `start` as `spec` says, calling `on_row` after each log row.
pub fn train(spec: &TrainSpec, start: &Start, on_row: &mut dyn FnMut(&EpochRow)) -> TrainOutput {
    let mut trainer = Trainer::new(spec, start);
    let mut output = TrainOutput { metrics: Metrics::default(), checkpoints: Vec::new(), diverged_at: None };
    for epoch in 0..=spec.epochs {
        let forward = trainer.forward_train();
        let row = trainer.row(&forward, trainer.evaluate_test());
        output.metrics.rows.push(row);
        on_row(&row);
        if spec.checkpoints.contains(&epoch) {
            output.checkpoints.push(Checkpoint { epoch, weights: trainer.weights() });
        }
        if !row.train.loss.is_finite() {
            output.diverged_at = Some(epoch);
            break;
        }
        if epoch == spec.epochs {
            break;
        }
        trainer.step(forward);
        trainer.record_updates();
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainSpec {
        TrainSpec {
            modulus: 7,
            width: 32,
            train_fraction: 0.6,
            epochs: 30,
            window: 5,
            checkpoints: vec![0, 10],
            ..TrainSpec::default()
        }
    }

    #[test]
    fn log_is_aligned_and_deterministic() {
        let spec = tiny();
        let start = spec.seeded_start();
        let a = train(&spec, &start, &mut |_| {});
        assert_eq!(a.metrics.rows.len(), 31);
        assert!(a.metrics.rows.iter().enumerate().all(|(t, r)| r.epoch == t));
        assert!(a.metrics.rows[0].w.sigma[0].is_nan()); // no update yet
        assert!(a.metrics.rows[1].w.sigma[0] > 0.0 && a.metrics.rows[1].w.sigma[1].is_nan());
        assert!(a.metrics.rows[5].w.sigma[4] >= 0.0 || a.metrics.rows[5].w.sigma[4].abs() < 1e-12);
        assert_eq!(a.checkpoints[0].weights, start.weights); // θ_0 = init
        assert_eq!(a.checkpoints[1].epoch, 10);
        assert!(a.metrics.rows[30].train.loss < a.metrics.rows[0].train.loss);
        let b = train(&spec, &start, &mut |_| {});
        assert_eq!(a.metrics.to_csv(), b.metrics.to_csv()); // bit-identical (NaN-safe)
    }

    #[test]
    fn divergence_stops_the_run() {
        let spec = TrainSpec { lr: 1e30, ..tiny() };
        let out = train(&spec, &spec.seeded_start(), &mut |_| {});
        let at = out.diverged_at.expect("lr 1e30 diverges");
        assert_eq!(out.metrics.rows.len(), at + 1);
    }
}
