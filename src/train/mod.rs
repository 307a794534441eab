//! Full-batch training (docs/methods.md, "Training") with the per-epoch log
//! ("Log alignment", "Update spectrum").
//!
//! One Adam step per epoch on all n training pairs. Row t of the log is
//! taken at θ_t: its train metrics come from the same forward pass that the
//! step t+1 differentiates; the spectra from the windows that end with Δ_t.
//! A non-finite training loss stops the run and marks it diverged; outputs
//! that fall below the targets' f32 resolution stop it and mark it collapsed
//! (docs/methods.md, "Collapse").
//! An epoch runs in two threads ([`Trainer::epoch`]) with a bit-identical log.

pub mod adam;
pub mod gradient;
mod label_noise;
pub mod limits;
pub mod loss;
pub mod optimizer;
mod output;
mod spec;
mod test_pass;
mod update_log;

pub(crate) use gradient::BLOCK_ROWS as BACKWARD_BLOCK_ROWS;
pub use output::{Checkpoint, LevelRow, Start, TrainOutput};
pub use spec::{LevelLog, PERTURBED_ENTRIES, TrainSpec, perturb};
pub(crate) use test_pass::BLOCK_ROWS as TEST_BLOCK_ROWS;

use std::sync::mpsc::TryRecvError;

use burn::tensor::Tensor;

use crate::metrics::{EpochRow, Metrics};
use crate::model::{DeviceBatch, HostTheta, Passes, TwoLayer, Weights};
use crate::numerics::transpose;
use crate::probes::level;
use gradient::{evaluate, gradients, output_gradient, residual, v_gradient, w_t_gradient};
use loss::Loss;
use optimizer::{ParamState, StepRule};
use test_pass::TestPass;
use update_log::UpdateLog;

/// The training state between epochs. [`train`] drives it one
/// [`Trainer::epoch`] at a time; the benchmark (`cargo xtask bench`) also
/// times the phases of an epoch one by one.
pub struct Trainer {
    spec: TrainSpec,
    model: TwoLayer,
    train_batch: DeviceBatch,
    test_batch: DeviceBatch,
    optimizer: Optimizer,
    updates: UpdateLog,
    /// Whether `model` holds a θ whose update is not yet in `updates`.
    unrecorded: bool,
    /// max |o| of the last training forward pass.
    max_output: f64,
}

/// The training forward pass at θ_t, kept for the step that follows it.
pub struct TrainForward {
    forward: crate::model::Forward,
    residual: Tensor<2>,
    /// Loss and accuracy of θ_t on the training pairs.
    pub evaluation: crate::metrics::Evaluation,
    /// max |o_ic| over the training pairs and classes.
    pub max_output: f64,
}

/// Below this largest output the network has collapsed (docs/methods.md,
/// "Collapse"): half a unit in the last place of the target level 1/M in
/// f32, so every residual ō − y rounds to −y and the output carries no
/// information; near θ = 0 the loss gradient is of higher order in the
/// weights than the weight decay, which pulls them on to 0.
pub fn collapse_floor(modulus: usize) -> f64 {
    let level = 1.0 / modulus as f32;
    ((level.next_up() - level) / 2.0) as f64
}

/// The optimiser's rule, its state for both parameters and the step count t.
struct Optimizer {
    config: StepRule,
    w: ParamState,
    v: ParamState,
    steps: u32,
}

impl Optimizer {
    /// One optimiser step from the forward pass at θ_t (read back as
    /// `theta`): `model` becomes θ_{t+1}.
    fn step(
        &mut self,
        (model, theta): (&mut TwoLayer, &HostTheta),
        batch: &DeviceBatch,
        loss: Loss,
        train: TrainForward,
    ) {
        let grads = gradients(model, theta, batch, loss.gradient_scale(), train.forward, train.residual);
        self.steps += 1;
        let w_t = self.config.step_param(self.steps, (model.w_t.val(), &theta.w_t), grads.w_t, &mut self.w);
        let v = self.config.step_param(self.steps, (model.v.val(), &theta.v), grads.v, &mut self.v);
        set_theta(model, w_t, v);
    }
}

/// Make `model` hold the new Wᵀ and V.
fn set_theta(model: &mut TwoLayer, w_t: Tensor<2>, v: Tensor<2>) {
    model.w_t = burn::module::Param::from_tensor(w_t);
    model.v = burn::module::Param::from_tensor(v);
}

/// Forward pass of `model` (read back as `theta`) on a set of pairs, with
/// its residual and metrics under `loss` (on the host in canonical
/// arithmetic with [`Passes::Host`], and for cross-entropy on the host
/// after burn's forward pass).
fn forward_on(model: &TwoLayer, theta: &HostTheta, batch: &DeviceBatch, loss: Loss) -> TrainForward {
    if model.passes == Passes::Burn && loss.is_mse() {
        let forward = model.forward(batch);
        let residual = residual(forward.output.clone(), batch.targets.clone());
        let evaluation = evaluate(&forward.output, &residual, batch);
        let max_output = forward.output.clone().abs().max().into_scalar::<f64>();
        return TrainForward { forward, residual, evaluation, max_output };
    }
    let (features, output) = match model.passes {
        Passes::Host => model.forward_host(theta, batch),
        Passes::Burn => {
            let forward = model.forward(batch);
            (crate::model::host_floats(forward.features), crate::model::host_floats(forward.output))
        }
    };
    let shape = model.shape();
    let (n, m, k) = (batch.len, shape.modulus, shape.width);
    let (r, evaluation) = loss.residual_and_evaluation(&output, &batch.pairs.labels, m);
    let max_output = output.iter().fold(0.0f32, |top, o| top.max(o.abs())) as f64;
    let device = batch.targets.device();
    let tensor =
        |values: Vec<f32>, cols: usize| Tensor::from_data(burn::tensor::TensorData::new(values, [n, cols]), &device);
    let forward = crate::model::Forward { features: tensor(features, k), output: tensor(output, m) };
    TrainForward { forward, residual: tensor(r, m), evaluation, max_output }
}

/// Loss and accuracy of `model` (read back as `theta`) on a set of pairs.
fn evaluate_on(model: &TwoLayer, theta: &HostTheta, batch: &DeviceBatch, loss: Loss) -> crate::metrics::Evaluation {
    forward_on(model, theta, batch, loss).evaluation
}

impl Trainer {
    /// θ_0 from `start`, on the spec's backend.
    pub fn new(spec: &TrainSpec, start: &Start) -> Self {
        let shape = spec.shape();
        let device = spec.backend.device();
        let model = TwoLayer {
            passes: Passes::for_backend(spec.backend),
            ..TwoLayer::from_weights(&shape, &start.weights, &device)
        };
        // Label noise changes the training labels only ("Label noise").
        let train = label_noise::with_label_noise(&start.split.train, spec.label_noise, spec.seed, spec.modulus);
        let rule = StepRule { optimizer: spec.optimizer, lr: spec.lr, weight_decay: spec.eta, momentum: spec.momentum };
        Self {
            spec: spec.clone(),
            train_batch: DeviceBatch::new(&train, spec.modulus, &device),
            test_batch: DeviceBatch::new(&start.split.test, spec.modulus, &device),
            optimizer: Optimizer {
                config: rule,
                w: ParamState::zeros_like(&model.w_t.val(), model.passes == Passes::Host),
                v: ParamState::zeros_like(&model.v.val(), model.passes == Passes::Host),
                steps: 0,
            },
            updates: UpdateLog::new(&start.weights.w_transposed(&shape), &start.weights.v, spec.window, spec.gram),
            model,
            unrecorded: false,
            max_output: f64::NAN,
        }
    }

    /// Log row t of θ_t, then (unless `last`, or the training loss is not
    /// finite) the step to θ_{t+1}.
    ///
    /// The work runs in two lanes of about equal cost, because one lane
    /// leaves the second core idle (README, "Speed"), unless every core
    /// is taken ([`crate::jobs::SecondLane`]). Lane A: the training
    /// forward pass, the window update from θ_t, ∂L/∂Wᵀ and its Adam step.
    /// Lane B: ∂L/∂V (from the residual that lane A sends) and its Adam
    /// step. The test pass at θ_t is shared: with host passes each lane
    /// takes its blocks ([`TestPass`]) whenever it has nothing else to do,
    /// so the lanes finish together wherever the test pass is the larger
    /// part (training fractions up to about a half); with
    /// burn's passes lane B does it all. Each value is computed by the same
    /// operations as in sequence, so the log is bit-identical to a sequential
    /// epoch (`tests::two_lanes_match_sequential_phases`).
    pub fn epoch(&mut self, last: bool) -> EpochRow {
        let second_lane = crate::jobs::SecondLane::take(); // held until the epoch ends
        if second_lane.is_some() { self.epoch_in_two_lanes(last) } else { self.epoch_in_one_lane(last) }
    }

    /// [`Trainer::epoch`] in two lanes.
    fn epoch_in_two_lanes(&mut self, last: bool) -> EpochRow {
        let epoch = self.optimizer.steps as usize;
        let theta = self.model.clone();
        let pending = std::mem::take(&mut self.unrecorded);
        let loss = self.spec.loss;
        let Self { model, train_batch, test_batch, optimizer, updates, unrecorded, max_output, .. } = self;
        let Optimizer { config, w: w_moments, v: v_moments, steps } = optimizer;
        let (config, t, theta, test_batch) = (*config, *steps + 1, &theta, &*test_batch);
        let host = &theta.host_theta(); // θ_t, read back once for the epoch
        let shared_test =
            (theta.passes == Passes::Host).then(|| TestPass::new(theta.shape(), host, &test_batch.pairs, loss));
        let shared = shared_test.as_ref();
        std::thread::scope(|lanes| {
            // Made inside the scope, so that a panic of lane A drops the
            // sender and lane B's `recv` fails instead of waiting forever.
            let (send_residual, residual_from_lane_a) = std::sync::mpsc::channel::<LaneMessage>();
            let lane_b = lanes.spawn(move || {
                // The V step from lane A's message; none where lane A
                // panicked first (its panic is the epoch's).
                let v_step = |step: Option<LaneMessage>| {
                    step.flatten().map(|(d_output, features)| {
                        config.step_param(
                            t,
                            (theta.v.val(), &host.v),
                            v_gradient(theta.passes, d_output, features),
                            v_moments,
                        )
                    })
                };
                lane_b((theta, host), (test_batch, loss), shared, residual_from_lane_a, v_step)
            });
            let forward = forward_on(model, host, train_batch, loss);
            let train = forward.evaluation;
            *max_output = forward.max_output;
            let d_output = (!last && train.loss.is_finite())
                .then(|| output_gradient(loss.gradient_scale(), forward.residual, train_batch));
            let to_lane_b = d_output.clone().map(|d| (d, forward.forward.features));
            // Fails only where lane B has panicked: the join below re-raises its panic.
            let _ = send_residual.send(to_lane_b);
            if pending {
                updates.record(host);
            }
            let (w, v) = (updates.w_window.row(), updates.v_window.row());
            let w_t_next = d_output.map(|d| {
                config.step_param(t, (model.w_t.val(), &host.w_t), w_t_gradient(model, host, train_batch, d), w_moments)
            });
            if let Some(pass) = shared {
                pass.finish();
            }
            let (test, v_next) = lane_b.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            // Both lanes are done, so every block of a shared test pass is.
            let test = test.or_else(|| shared.map(TestPass::evaluation)).expect("one of the two made the test pass");
            if let (Some(w_t), Some(v)) = (w_t_next, v_next) {
                set_theta(model, w_t, v);
                *steps = t;
                *unrecorded = true;
            }
            EpochRow { epoch, train, test, w, v }
        })
    }

    /// [`Trainer::epoch`] with its phases one after another in this thread,
    /// for when every core is taken ([`crate::jobs::SecondLane`]):
    /// the same values by the same operations, so the same row and step.
    /// The benchmark times runs side by side with it.
    pub fn epoch_in_one_lane(&mut self, last: bool) -> EpochRow {
        let epoch = self.optimizer.steps as usize;
        let host = self.model.host_theta(); // θ_t, read back once for the epoch
        if std::mem::take(&mut self.unrecorded) {
            self.updates.record(&host);
        }
        let forward = forward_on(&self.model, &host, &self.train_batch, self.spec.loss);
        let test = self.test_evaluation(&host);
        self.max_output = forward.max_output;
        let (train, w, v) = (forward.evaluation, self.updates.w_window.row(), self.updates.v_window.row());
        if !last && train.loss.is_finite() {
            self.optimizer.step((&mut self.model, &host), &self.train_batch, self.spec.loss, forward);
            self.unrecorded = true;
        }
        EpochRow { epoch, train, test, w, v }
    }

    /// Loss and accuracy on the test pairs at θ = `theta`, the current θ read back.
    fn test_evaluation(&self, theta: &HostTheta) -> crate::metrics::Evaluation {
        match self.model.passes {
            Passes::Host => {
                let pass = TestPass::new(self.model.shape(), theta, &self.test_batch.pairs, self.spec.loss);
                pass.finish();
                pass.evaluation()
            }
            Passes::Burn => evaluate_on(&self.model, theta, &self.test_batch, self.spec.loss),
        }
    }

    /// θ_t of the row the last [`Trainer::epoch`] returned, in the paper's layouts.
    pub fn weights(&self) -> Weights {
        let (w_t, v) = self.updates.last_theta();
        Weights { w: transpose(w_t, 2 * self.spec.modulus, self.spec.width), v: v.to_vec() }
    }

    /// Phase of an epoch: the forward pass on the training pairs at the current θ.
    pub fn forward_train(&self) -> TrainForward {
        forward_on(&self.model, &self.model.host_theta(), &self.train_batch, self.spec.loss)
    }

    /// Phase of an epoch: loss and accuracy of the current θ on the test pairs.
    pub fn evaluate_test(&self) -> crate::metrics::Evaluation {
        self.test_evaluation(&self.model.host_theta())
    }

    /// Phase of an epoch: the backward pass and optimiser step from `train`.
    pub fn step(&mut self, train: TrainForward) {
        let host = self.model.host_theta();
        self.optimizer.step((&mut self.model, &host), &self.train_batch, self.spec.loss, train);
        self.unrecorded = true;
    }

    /// Phase of an epoch: read the current θ back and push its update into both windows.
    pub fn record_updates(&mut self) {
        if std::mem::take(&mut self.unrecorded) {
            self.updates.record(&self.model.host_theta());
        }
    }
}

/// What lane A sends lane B in an epoch: ∂L/∂o and the features, or none
/// where no step follows (the last epoch, a non-finite loss).
type LaneMessage = Option<(Tensor<2>, Tensor<2>)>;

/// Lane B of an epoch: the test pass (or, shared, the blocks lane A leaves
/// it), the V step from lane A's message as soon as it comes, then the
/// test blocks left. Returns the test evaluation where it made it alone.
fn lane_b(
    (theta, host): (&TwoLayer, &HostTheta),
    (test_batch, loss): (&DeviceBatch, Loss),
    shared: Option<&TestPass>,
    from_lane_a: std::sync::mpsc::Receiver<LaneMessage>,
    mut v_step: impl FnMut(Option<LaneMessage>) -> Option<Tensor<2>>,
) -> (Option<crate::metrics::Evaluation>, Option<Tensor<2>>) {
    let Some(pass) = shared else {
        let test = evaluate_on(theta, host, test_batch, loss);
        return (Some(test), v_step(from_lane_a.recv().ok()));
    };
    let step = loop {
        match from_lane_a.try_recv() {
            Ok(step) => break Some(step),
            Err(TryRecvError::Disconnected) => break None,
            Err(TryRecvError::Empty) => {
                if !pass.compute_next_block() {
                    break from_lane_a.recv().ok();
                }
            }
        }
    };
    let v_next = v_step(step);
    pass.finish();
    (None, v_next)
}

/// Train from `start` as `spec` says, calling `on_row` after each log row.
pub fn train(spec: &TrainSpec, start: &Start, on_row: &mut dyn FnMut(&EpochRow)) -> TrainOutput {
    train_windows(spec, &[], start, on_row)
}

/// [`train`], logging the update spectrum over each window of `others`
/// besides `spec.window`, in the same pass (docs/methods.md, "One
/// trajectory, many requests"): the window changes no weight, and each
/// window's log is bit for bit the log of a run with that window.
pub fn train_windows(
    spec: &TrainSpec,
    others: &[usize],
    start: &Start,
    on_row: &mut dyn FnMut(&EpochRow),
) -> TrainOutput {
    let _flushing = (!spec.ieee_subnormals).then(crate::numerics::FlushSubnormals::on);
    let _counted = crate::jobs::Busy::start();
    let mut trainer = Trainer::new(spec, start);
    trainer.updates.open_windows(others, spec.gram);
    let mut output = TrainOutput {
        metrics: Metrics::default(),
        checkpoints: Vec::new(),
        diverged_at: None,
        collapsed_at: None,
        levels: Vec::new(),
        epoch_seconds: Vec::new(),
        other_windows: others.iter().map(|&window| (window, Metrics::default())).collect(),
    };
    let floor = collapse_floor(spec.modulus);
    let mut level_log = spec.level;
    for epoch in 0..=spec.epochs {
        let clock = std::time::Instant::now();
        let row = trainer.epoch(epoch == spec.epochs);
        output.epoch_seconds.push(clock.elapsed().as_secs_f64());
        output.metrics.rows.push(row);
        for ((_, metrics), (w, v)) in output.other_windows.iter_mut().zip(&trainer.updates.other_windows) {
            metrics.rows.push(EpochRow { w: w.row(), v: v.row(), ..row });
        }
        on_row(&row);
        // A non-finite output is a divergence, not a collapse (its NaNs
        // drop out of the maximum).
        if row.train.loss.is_finite() && trainer.max_output < floor && output.collapsed_at.is_none() {
            output.collapsed_at = Some(epoch);
            if !spec.through_collapse {
                // Row t is logged; nothing is computed on the collapsed θ_t.
                break;
            }
        }
        if let Some(log) = level_log.filter(|log| epoch <= log.until && epoch % log.every == 0) {
            let features = spec.shape().features(trainer.updates.last_theta().0, &start.split.train);
            let level = level::level(&features, spec.width);
            output.levels.push(LevelRow { epoch, level });
            if log.stop_above.is_some_and(|stop| level.rho_code >= stop) {
                level_log = None;
            }
        }
        if spec.checkpoints.contains(&epoch) {
            output.checkpoints.push(Checkpoint { epoch, weights: trainer.weights() });
        }
        if !row.train.loss.is_finite() {
            output.diverged_at = Some(epoch);
            break;
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Activation;

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
    fn level_logs_cover_and_merge() {
        let stop = |until, stop_above| LevelLog { until, stop_above, every: 1 };
        assert!(stop(600, Some(0.1)).covers(&stop(400, Some(0.075))));
        assert!(!stop(600, Some(0.075)).covers(&stop(600, Some(0.1))));
        assert!(!stop(600, Some(0.1)).covers(&stop(600, None)));
        assert!(stop(600, None).covers(&stop(600, Some(0.1))));
        assert!(!stop(300, None).covers(&stop(600, Some(0.1))));
        assert_eq!(LevelLog::union(Some(stop(10, Some(0.1))), Some(stop(20, Some(0.075)))), Some(stop(20, Some(0.1))));
        assert_eq!(LevelLog::union(Some(stop(10, None)), Some(stop(5, Some(0.075)))), Some(stop(10, None)));
        assert_eq!(LevelLog::union(None, Some(stop(5, None))), Some(stop(5, None)));
    }

    #[test]
    fn level_log_stops_after_rho_crosses() {
        let spec = TrainSpec { level: Some(LevelLog { until: 30, stop_above: Some(0.0), every: 1 }), ..tiny() };
        let out = train(&spec, &spec.seeded_start(), &mut |_| {});
        assert_eq!(out.levels.len(), 1, "ρ ≥ 0 at epoch 0 stops the log");
        let spec = TrainSpec { level: Some(LevelLog { until: 7, stop_above: None, every: 1 }), ..tiny() };
        let out = train(&spec, &spec.seeded_start(), &mut |_| {});
        assert_eq!(out.levels.iter().map(|l| l.epoch).collect::<Vec<_>>(), (0..=7).collect::<Vec<_>>());
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

    /// The two-lane and one-lane epochs log, bit for bit, what the phases
    /// give one after another: on a test set of one block, and on one of three (M = 31,
    /// p = 0.3: 673 test pairs, the last block partly filled); with AdamW
    /// and cross-entropy, and with SGD and label noise.
    #[test]
    fn two_lanes_match_sequential_phases() {
        let three_blocks = TrainSpec { modulus: 31, train_fraction: 0.3, epochs: 12, ..tiny() };
        let objectives = [
            TrainSpec { optimizer: optimizer::Optimizer::Adamw, loss: Loss::CrossEntropy, ..three_blocks.clone() },
            TrainSpec { optimizer: optimizer::Optimizer::Sgd, momentum: 0.9, label_noise: 0.3, ..tiny() },
        ];
        let activations = [Activation::Sqr, Activation::Relu].into_iter();
        let cases = activations.flat_map(|a| [(a, tiny()), (a, three_blocks.clone())]);
        for (activation, base) in cases.chain(objectives.map(|spec| (Activation::Sqr, spec))) {
            let spec = TrainSpec { activation, ..base };
            let start = spec.seeded_start();
            let mut trainer = Trainer::new(&spec, &start);
            let mut rows = Vec::new();
            for epoch in 0..=spec.epochs {
                let forward = trainer.forward_train();
                let test = trainer.evaluate_test();
                let (w, v) = (trainer.updates.w_window.row(), trainer.updates.v_window.row());
                rows.push(EpochRow { epoch, train: forward.evaluation, test, w, v });
                if epoch < spec.epochs {
                    trainer.step(forward);
                    trainer.record_updates();
                }
            }
            let sequential = Metrics { rows }.to_csv();
            for lanes in [Trainer::epoch_in_two_lanes, Trainer::epoch_in_one_lane] {
                let mut trainer = Trainer::new(&spec, &start);
                let rows = (0..=spec.epochs).map(|epoch| lanes(&mut trainer, epoch == spec.epochs)).collect();
                assert_eq!(Metrics { rows }.to_csv(), sequential);
            }
            let two_lanes = train(&spec, &start, &mut |_| {});
            assert_eq!(two_lanes.metrics.to_csv(), sequential);
            assert_eq!(two_lanes.checkpoints[1].weights, trainer_weights_at(&spec, &start, 10));
        }
    }

    /// θ_e by sequential phases.
    fn trainer_weights_at(spec: &TrainSpec, start: &Start, epochs: usize) -> Weights {
        let mut trainer = Trainer::new(spec, start);
        for _ in 0..epochs {
            let forward = trainer.forward_train();
            trainer.step(forward);
            trainer.record_updates();
        }
        trainer.weights()
    }

    /// Strong weight decay drives θ to 0: the run stops at the collapse
    /// (the row of that epoch logged), or goes on and records it.
    #[test]
    fn collapse_stops_the_run_or_is_recorded() {
        let spec = TrainSpec { eta: 50.0, lr: 0.05, epochs: 400, ..tiny() };
        let out = train(&spec, &spec.seeded_start(), &mut |_| {});
        let at = out.collapsed_at.expect("η = 50 collapses the network");
        assert!(at > 0, "θ_0 has not collapsed");
        assert_eq!(out.metrics.rows.len(), at + 1);
        assert!(out.diverged_at.is_none());
        let through = TrainSpec { through_collapse: true, ..spec.clone() };
        let all = train(&through, &through.seeded_start(), &mut |_| {});
        assert_eq!((all.collapsed_at, all.metrics.rows.len()), (Some(at), 401));
        assert_eq!(
            all.metrics.to_csv().lines().take(at + 2).collect::<Vec<_>>(),
            out.metrics.to_csv().lines().collect::<Vec<_>>()
        );
        assert_eq!(train(&tiny(), &tiny().seeded_start(), &mut |_| {}).collapsed_at, None);
        assert!(collapse_floor(71) > 4e-10 && collapse_floor(71) < 5e-10, "{}", collapse_floor(71));
    }

    /// A perturbation moves exactly PERTURBED_ENTRIES entries of W by one
    /// ulp, the same ones every time, different ones for another k.
    #[test]
    fn perturbations_move_a_few_entries_by_one_ulp() {
        let base = tiny().seeded_start().weights;
        let moved = |k| TrainSpec { perturb: Some(k), ..tiny() }.seeded_start().weights;
        let (a, b) = (moved(1), moved(2));
        let changed: Vec<usize> = (0..base.w.len()).filter(|&i| a.w[i] != base.w[i]).collect();
        assert_eq!(changed.len(), PERTURBED_ENTRIES);
        for &i in &changed {
            assert!(a.w[i] == base.w[i].next_up() || a.w[i] == base.w[i].next_down());
        }
        assert_eq!((a.v.clone(), moved(1)), (base.v.clone(), a.clone()));
        assert_ne!(a, b);
    }

    #[test]
    fn divergence_stops_the_run() {
        let spec = TrainSpec { lr: 1e30, ..tiny() };
        let out = train(&spec, &spec.seeded_start(), &mut |_| {});
        let at = out.diverged_at.expect("lr 1e30 diverges");
        assert_eq!(out.metrics.rows.len(), at + 1);
        // Non-finite outputs drop out of max|o|: this run (`--lr 1e38` at
        // M = 5) must not be called collapsed.
        let nan = TrainSpec { modulus: 5, width: 16, train_fraction: 0.6, window: 5, epochs: 40, lr: 1e38, ..tiny() };
        let out = train(&nan, &nan.seeded_start(), &mut |_| {});
        assert!(
            out.diverged_at.is_some() && out.collapsed_at.is_none(),
            "{:?} {:?}",
            out.diverged_at,
            out.collapsed_at
        );
    }
}
