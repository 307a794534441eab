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
            backend: Backend::Ndarray,
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

/// Train from `start` as `spec` says, calling `on_row` after each log row.
pub fn train(spec: &TrainSpec, start: &Start, on_row: &mut dyn FnMut(&EpochRow)) -> TrainOutput {
    let shape = spec.shape();
    let device = spec.backend.device();
    let mut model = TwoLayer::from_weights(&shape, &start.weights, &device);
    let train_batch = DeviceBatch::new(&start.split.train, spec.modulus, &device);
    let test_batch = DeviceBatch::new(&start.split.test, spec.modulus, &device);
    let adam = AdamConfig { lr: spec.lr, weight_decay: spec.eta, ..AdamConfig::default() };
    let mut w_moments = Moments::zeros_like(&model.w_t.val());
    let mut v_moments = Moments::zeros_like(&model.v.val());

    let mut w_prev = start.weights.w_transposed(&shape);
    let mut v_prev = start.weights.v.clone();
    let mut w_window = RollingGram::new(spec.window, w_prev.len());
    let mut v_window = RollingGram::new(spec.window, v_prev.len());

    let mut output = TrainOutput { metrics: Metrics::default(), checkpoints: Vec::new(), diverged_at: None };
    for epoch in 0..=spec.epochs {
        let forward = model.forward(&train_batch);
        let train_residual = residual(forward.output.clone(), train_batch.targets.clone());
        let train_eval = evaluate(&forward, &train_residual, &train_batch);
        let test_forward = model.forward(&test_batch);
        let test_residual = residual(test_forward.output.clone(), test_batch.targets.clone());
        let row = EpochRow {
            epoch,
            train: train_eval,
            test: evaluate(&test_forward, &test_residual, &test_batch),
            w: w_window.row(),
            v: v_window.row(),
        };
        output.metrics.rows.push(row);
        on_row(&row);
        if spec.checkpoints.contains(&epoch) {
            let weights = Weights { w: transpose(&w_prev, 2 * spec.modulus, spec.width), v: v_prev.clone() };
            output.checkpoints.push(Checkpoint { epoch, weights });
        }
        if !train_eval.loss.is_finite() {
            output.diverged_at = Some(epoch);
            break;
        }
        if epoch == spec.epochs {
            break;
        }

        let grads = gradients(&model, &train_batch, forward, train_residual);
        let step = epoch as u32 + 1;
        let w_t = adam.step(step, model.w_t.val(), grads.w_t, &mut w_moments);
        let v = adam.step(step, model.v.val(), grads.v, &mut v_moments);
        let w_next = w_t.to_data().try_into_vec::<f32>().expect("f32 weights");
        let v_next = v.to_data().try_into_vec::<f32>().expect("f32 weights");
        w_window.push_difference(&w_next, &w_prev);
        v_window.push_difference(&v_next, &v_prev);
        (w_prev, v_prev) = (w_next, v_next);
        model.w_t = burn::module::Param::from_tensor(w_t);
        model.v = burn::module::Param::from_tensor(v);
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainSpec {
        TrainSpec { modulus: 7, width: 32, train_fraction: 0.6, epochs: 30, window: 5, checkpoints: vec![0, 10], ..TrainSpec::default() }
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
