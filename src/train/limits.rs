//! What a run may ask for (docs/methods.md, "Limits"): one check shared by
//! `lockin run` and the claim files, so both accept and refuse the same
//! specs with the same messages. Sizes are bounded by the cost model
//! (docs/methods.md, "Cost"): a spec whose tensors would not fit in memory,
//! or whose training would take longer than anyone would wait, is refused
//! before anything is allocated.

use super::TrainSpec;

/// Largest modulus: M² pairs and M output classes.
pub const MAX_MODULUS: usize = 1024;
/// Largest hidden width K.
pub const MAX_WIDTH: usize = 65_536;
/// Largest number of epochs.
pub const MAX_EPOCHS: usize = 1_000_000;
/// Largest weight decay. η enters Adam's gradient as η·θ, and its square
/// the second moment: far above this, (η·θ)² overflows f32, every update
/// is m/∞ = 0 and the network silently never moves (the paper's sweep
/// ends at 1e-3).
pub const MAX_ETA: f64 = 1.0;
/// Largest memory for the activations of one epoch (six [n, K] f32 tensors).
pub const MAX_ACTIVATION_BYTES: f64 = 16.0 * (1u64 << 30) as f64;
/// Largest cost of one run or one claim's runs, in FLOP (about a day at
/// 100 GFLOP/s, this class of machine's rate on the epoch's products).
pub const MAX_FLOP: f64 = 1e16;

/// A field of a spec and what is wrong with it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The field, as claim files name it (`train_fraction`; the CLI flag is `--train-fraction`).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn refuse(field: &'static str, message: String) -> Result<(), SpecError> {
    Err(SpecError { field, message })
}

/// FLOP of one epoch at this size: the output layer's forward and two
/// backward products on the n training pairs (3 · 2·n·K·M) and the test
/// forward (2·n_test·K·M).
pub fn epoch_flop(spec: &TrainSpec) -> f64 {
    let (m, k) = (spec.modulus as f64, spec.width as f64);
    let n = spec.n_train() as f64;
    let n_test = spec.pair_count() as f64 - n;
    6.0 * n * k * m + 2.0 * n_test * k * m
}

/// FLOP of the whole run.
pub fn run_flop(spec: &TrainSpec) -> f64 {
    epoch_flop(spec) * (spec.epochs + 1) as f64
}

/// The memory a run of `spec` logging `windows` holds at its peak, bytes
/// (docs/performance.md, "Jobs"): the epoch's activations (six f32 n × K
/// arrays over the larger of the two pair sets) and, per window of Wn,
/// the rolling Grams' Wn + 1 f32 snapshots of W and V (3·M·K entries).
pub fn peak_bytes(spec: &TrainSpec, windows: &[usize]) -> f64 {
    let pairs = spec.pair_count();
    let n = spec.n_train();
    let activations = 6.0 * (n.max(pairs - n) * spec.width) as f64 * 4.0;
    let snapshot = (3 * spec.modulus * spec.width) as f64 * 4.0;
    activations + windows.iter().map(|&w| (w + 1) as f64 * snapshot).sum::<f64>()
}

/// Hours at 100 GFLOP/s, for messages.
pub fn hours(flop: f64) -> f64 {
    flop / 1e11 / 3600.0
}

impl TrainSpec {
    /// Check every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.validate_described()?;
        if self.rng == crate::seeding::RngScheme::External {
            return refuse("rng", crate::seeding::EXTERNAL_DRAWS_NOTHING.to_string());
        }
        self.validate_cost()
    }

    /// The spec describes a run (its task and schedule), whatever training
    /// it would cost: what a run made elsewhere must satisfy to be imported
    /// (an import trains nothing).
    pub fn validate_described(&self) -> Result<(), SpecError> {
        self.validate_task()?;
        self.validate_schedule()?;
        self.validate_objective()
    }

    /// The optimiser's momentum and the label noise (docs/methods.md,
    /// "Optimisers", "Label noise").
    fn validate_objective(&self) -> Result<(), SpecError> {
        use super::optimizer::Optimizer;
        if self.momentum != 0.0 && self.optimizer != Optimizer::Sgd {
            let message = format!("{} has no momentum (only sgd does), got {}", self.optimizer, self.momentum);
            return refuse("momentum", message);
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return refuse("momentum", format!("must be in [0, 1), got {}", self.momentum));
        }
        if !(0.0..1.0).contains(&self.label_noise) {
            return refuse(
                "label_noise",
                format!("a fraction of the training pairs in [0, 1), got {}", self.label_noise),
            );
        }
        Ok(())
    }

    /// M, K and the split: both sets of pairs non-empty.
    fn validate_task(&self) -> Result<(), SpecError> {
        if self.rng == crate::seeding::RngScheme::Torch && self.seed > u64::from(u32::MAX) {
            // torch.manual_seed keeps 32 bits for the CPU generator: seed
            // 2³² would silently be seed 0's run.
            return refuse(
                "seed",
                format!(
                    "{} is past 2³² − 1: PyTorch's generator keeps the low 32 bits, so it would be seed {}'s run (`rng: chacha` takes 64-bit seeds)",
                    self.seed, self.seed as u32
                ),
            );
        }
        if !(2..=MAX_MODULUS).contains(&self.modulus) {
            return refuse("modulus", format!("must be in 2..={MAX_MODULUS}, got {}", self.modulus));
        }
        if let Err(message) = self.task.check_modulus(self.modulus) {
            return refuse("task", message);
        }
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return refuse("width", format!("must be in 1..={MAX_WIDTH}, got {}", self.width));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            let got = crate::format::num(self.train_fraction);
            return refuse("train_fraction", format!("must be strictly between 0 and 1, got {got}"));
        }
        let pairs = self.pair_count();
        let n = self.n_train();
        if n == 0 || n == pairs {
            return refuse(
                "train_fraction",
                format!(
                    "{} of {pairs} pairs gives {n} training and {} test pairs; both sets need one",
                    crate::format::num(self.train_fraction),
                    pairs - n
                ),
            );
        }
        Ok(())
    }

    /// η in [0, 1] for coupled decay (larger freezes Adam); for AdamW's
    /// decoupled decay, any η ≥ 0 with lr·η < 1, so that each step's decay
    /// factor 1 − lr·η stays positive (docs/methods.md, "Limits").
    fn validate_eta(&self) -> Result<(), SpecError> {
        let got = crate::format::num(self.eta);
        let finite = self.eta.is_finite() && self.eta >= 0.0;
        if self.optimizer == super::optimizer::Optimizer::Adamw {
            if !(finite && self.lr * self.eta < 1.0) {
                return refuse(
                    "eta",
                    format!("must be ≥ 0 with lr·η < 1 for adamw (its decay factor 1 − lr·η), got {got}"),
                );
            }
        } else if !(finite && self.eta <= MAX_ETA) {
            return refuse("eta", format!("must be in [0, {MAX_ETA}] (larger freezes Adam), got {got}"));
        }
        Ok(())
    }

    /// The optimiser, the epochs, and what is logged or kept within them.
    fn validate_schedule(&self) -> Result<(), SpecError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return refuse("lr", format!("must be a finite number > 0, got {}", self.lr));
        }
        self.validate_eta()?;
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return refuse("epochs", format!("must be in 1..={MAX_EPOCHS}, got {}", self.epochs));
        }
        if !(1..=self.epochs).contains(&self.window) {
            return refuse("window", format!("must be in 1..=epochs ({}), got {}", self.epochs, self.window));
        }
        if let Some(level) = self.level.filter(|l| l.until > self.epochs || l.stop_above.is_some_and(f64::is_nan)) {
            return refuse("level", format!("ρ until epoch {} is past the last epoch {}", level.until, self.epochs));
        }
        if let Some(&e) = self.checkpoints.iter().find(|&&e| e > self.epochs) {
            return refuse("checkpoints", format!("epoch {e} is past the last epoch {}", self.epochs));
        }
        Ok(())
    }

    /// Memory per epoch and the whole run's FLOP within the limits.
    fn validate_cost(&self) -> Result<(), SpecError> {
        let pairs = self.pair_count();
        let n = self.n_train();
        let bytes = 6.0 * (n.max(pairs - n) * self.width) as f64 * 4.0;
        if bytes > MAX_ACTIVATION_BYTES {
            return refuse(
                "width",
                format!(
                    "M = {}, K = {} needs ~{:.0} GiB of activations per epoch (limit 16)",
                    self.modulus,
                    self.width,
                    bytes / (1u64 << 30) as f64
                ),
            );
        }
        let flop = run_flop(self);
        if flop > MAX_FLOP {
            return refuse(
                "epochs",
                format!(
                    "this run costs {flop:.1e} FLOP (~{:.0} h at 100 GFLOP/s); the limit is {MAX_FLOP:.0e}",
                    hours(flop)
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(spec: TrainSpec) -> &'static str {
        spec.validate().unwrap_err().field
    }

    #[test]
    fn the_paper_runs_pass() {
        assert!(TrainSpec::default().validate().is_ok());
        assert!(
            TrainSpec { modulus: 127, train_fraction: 0.5, epochs: 1000, ..TrainSpec::default() }.validate().is_ok()
        );
        // docs/methods.md, "Cost": ≈ 2.6 GFLOP per paper-scale epoch.
        assert!((epoch_flop(&TrainSpec::default()) / 1e9 - 2.64).abs() < 0.05);
    }

    #[test]
    fn each_bad_field_is_named() {
        let d = TrainSpec::default;
        assert_eq!(field_of(TrainSpec { modulus: 0, ..d() }), "modulus");
        assert_eq!(field_of(TrainSpec { modulus: 1_000_000, ..d() }), "modulus");
        assert_eq!(field_of(TrainSpec { width: 0, ..d() }), "width");
        assert_eq!(field_of(TrainSpec { width: 100_000_000_000, ..d() }), "width");
        assert_eq!(field_of(TrainSpec { width: 60_000, modulus: 1000, ..d() }), "width"); // memory
        assert_eq!(field_of(TrainSpec { train_fraction: 1.5, ..d() }), "train_fraction");
        assert_eq!(field_of(TrainSpec { train_fraction: f64::NAN, ..d() }), "train_fraction");
        assert_eq!(field_of(TrainSpec { modulus: 2, train_fraction: 0.1, ..d() }), "train_fraction"); // n = 0
        assert_eq!(field_of(TrainSpec { lr: f64::NAN, ..d() }), "lr");
        assert_eq!(field_of(TrainSpec { lr: 0.0, ..d() }), "lr");
        assert_eq!(field_of(TrainSpec { eta: -1.0, ..d() }), "eta");
        assert_eq!(field_of(TrainSpec { eta: 1e30, ..d() }), "eta"); // froze training silently
        let div = |modulus| TrainSpec { task: crate::task::Task::Div, modulus, ..d() };
        assert_eq!(field_of(div(72)), "task"); // b = 2 has no inverse mod 72
        assert!(
            div(71).validate().is_ok()
                && TrainSpec { task: crate::task::Task::Mul, modulus: 72, ..d() }.validate().is_ok()
        );
        let tiny = TrainSpec { train_fraction: 1e-300, ..d() }.validate().unwrap_err().to_string();
        assert!(tiny.len() < 120, "no 300-digit echo: {tiny}");
        assert_eq!(field_of(TrainSpec { epochs: 0, ..d() }), "epochs");
        let sgd = |momentum| TrainSpec { optimizer: super::super::optimizer::Optimizer::Sgd, momentum, ..d() };
        assert!(sgd(0.9).validate().is_ok() && sgd(0.0).validate().is_ok());
        assert_eq!(field_of(sgd(1.0)), "momentum");
        assert_eq!(field_of(sgd(f64::NAN)), "momentum");
        let adam_momentum = TrainSpec { momentum: 0.9, ..d() }.validate().unwrap_err().to_string();
        assert_eq!(adam_momentum, "momentum: adam has no momentum (only sgd does), got 0.9");
        assert_eq!(field_of(TrainSpec { label_noise: 1.0, ..d() }), "label_noise");
        assert_eq!(field_of(TrainSpec { label_noise: -0.1, ..d() }), "label_noise");
        assert!(TrainSpec { label_noise: 0.2, ..d() }.validate().is_ok());
        let external = TrainSpec { rng: crate::seeding::RngScheme::External, ..d() };
        assert_eq!(field_of(external.clone()), "rng");
        assert!(external.validate_described().is_ok(), "an import may record it");
        assert_eq!(field_of(TrainSpec { window: 0, ..d() }), "window");
        assert_eq!(field_of(TrainSpec { window: 401, ..d() }), "window");
        assert_eq!(field_of(TrainSpec { checkpoints: vec![401], ..d() }), "checkpoints");
        assert_eq!(field_of(TrainSpec { epochs: 999_999, width: 16_384, ..d() }), "epochs"); // cost
        let msg = TrainSpec { window: 0, ..d() }.validate().unwrap_err().to_string();
        assert_eq!(msg, "window: must be in 1..=epochs (400), got 0");
    }

    /// AdamW's decoupled decay takes any η with lr·η < 1; coupled decay stays within [0, 1].
    #[test]
    fn adamw_takes_a_large_decay_while_its_factor_stays_positive() {
        use super::super::optimizer::Optimizer;
        let adamw = |eta, lr| TrainSpec { optimizer: Optimizer::Adamw, eta, lr, ..TrainSpec::default() };
        assert_eq!(adamw(5.0, 5e-3).validate().map_err(|e| e.field), Ok(()));
        assert_eq!(adamw(5.0, 0.2).validate().map_err(|e| e.field), Err("eta"));
        assert_eq!(TrainSpec { eta: 5.0, ..TrainSpec::default() }.validate().map_err(|e| e.field), Err("eta"));
    }
}
