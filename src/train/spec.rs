//! What a run is asked to be (docs/methods.md, "Setup"): its hyperparameters
//! ([`TrainSpec`]), the seeded start they give, its one-ulp perturbations
//! ("Fragility"), and when it logs the level metric ρ ([`LevelLog`]).

use serde::{Deserialize, Serialize};

use super::Start;
use super::loss::Loss;
use super::optimizer::Optimizer;
use crate::backend::Backend;
use crate::data::Split;
use crate::model::{Activation, ModelShape, Weights};
use crate::probes::spectrum::GramPrecision;
use crate::seeding::RngScheme;
use crate::task::Task;

/// Every hyperparameter of one training run (docs/methods.md, "Setup"); [`Default`] is the paper's x², η = 2e-4 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// M.
    pub modulus: usize,
    /// Which operation labels the pairs (docs/methods.md, "Tasks"); left
    /// out of the JSON for `add`, so addition runs keep their cache keys.
    #[serde(default, skip_serializing_if = "Task::is_add")]
    pub task: Task,
    /// K.
    pub width: usize,
    /// Fraction of the task's pairs used for training ([`TrainSpec::n_train`]).
    pub train_fraction: f64,
    /// σ.
    pub activation: Activation,
    /// The optimiser's learning rate.
    pub lr: f64,
    /// Weight decay η (coupled L2 for Adam and SGD, decoupled for AdamW).
    pub eta: f64,
    /// The optimiser (docs/methods.md, "Optimisers"); left out of the JSON
    /// for the paper's Adam, so Adam runs keep their cache keys.
    #[serde(default, skip_serializing_if = "Optimizer::is_adam")]
    pub optimizer: Optimizer,
    /// SGD's momentum μ (docs/methods.md, "Optimisers"); 0 for the other
    /// optimisers, and left out of the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub momentum: f64,
    /// The loss (docs/methods.md, "Losses"); left out of the JSON for the
    /// paper's centred MSE.
    #[serde(default, skip_serializing_if = "Loss::is_mse")]
    pub loss: Loss,
    /// Fraction of the training pairs trained on a wrong label
    /// (docs/methods.md, "Label noise"); left out of the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_noise: f64,
    /// E, the number of full-batch steps.
    pub epochs: usize,
    /// Wn, the rolling window of updates.
    pub window: usize,
    /// Seed of the split and the init.
    pub seed: u64,
    /// Where the seed's randomness comes from: PyTorch's streams (the
    /// paper's seeds, the default) or ChaCha8 ([`crate::seeding`]).
    pub rng: RngScheme,
    /// Epochs at which θ_e is kept as a checkpoint.
    pub checkpoints: Vec<usize>,
    /// Which epochs log the level metric ρ (`level.csv`); like the
    /// checkpoints, it does not change the trajectory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<LevelLog>,
    /// Where the tensors live.
    pub backend: Backend,
    /// Keep IEEE subnormals instead of flushing them to zero: an experiment
    /// outside the canonical scheme (docs/methods.md, "Collapse"), never
    /// used by claims.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ieee_subnormals: bool,
    /// Keep training after a collapse (recording its epoch) instead of
    /// stopping there: an experiment, never used by claims.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub through_collapse: bool,
    /// The window Gram in f64 (default) or in f32 as the paper's code
    /// computes it (docs/methods.md, "Update spectrum").
    #[serde(default, skip_serializing_if = "GramPrecision::is_f64")]
    pub gram: GramPrecision,
    /// The k-th seeded one-ulp perturbation of θ_0 ([`perturb`]), for the
    /// fragility of a verdict (`verify-claims --perturb`); never in a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perturb: Option<u32>,
}

/// Whether an optional number is at its default 0 (and so left out of the JSON).
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Entries of θ_0 moved by one unit in the last place in a perturbation.
pub const PERTURBED_ENTRIES: usize = 4;

/// Perturbation `k` of seed `seed`'s initial weights: [`PERTURBED_ENTRIES`]
/// entries of W, chosen by ChaCha8 seeded with (seed, k), each moved one
/// unit in the last place, up or down by turns (docs/methods.md,
/// "Fragility").
pub fn perturb(weights: &mut Weights, seed: u64, k: u32) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(k));
    for i in 0..PERTURBED_ENTRIES {
        let at = rng.random_range(0..weights.w.len());
        let w = &mut weights.w[at];
        *w = if i % 2 == 0 { w.next_up() } else { w.next_down() };
    }
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            modulus: 71,
            task: Task::Add,
            width: 2048,
            train_fraction: 0.4,
            activation: Activation::Sqr,
            lr: 1e-3,
            eta: 2e-4,
            optimizer: Optimizer::Adam,
            momentum: 0.0,
            loss: Loss::Mse,
            label_noise: 0.0,
            epochs: 400,
            window: 20,
            seed: 0,
            rng: RngScheme::Torch,
            checkpoints: Vec::new(),
            level: None,
            backend: Backend::default(),
            ieee_subnormals: false,
            through_collapse: false,
            gram: GramPrecision::F64,
            perturb: None,
        }
    }
}

impl TrainSpec {
    /// The network's shape.
    pub fn shape(&self) -> ModelShape {
        ModelShape { modulus: self.modulus, width: self.width, activation: self.activation }
    }

    /// Number of the task's pairs: M², or M·(M−1) for `div`.
    pub fn pair_count(&self) -> usize {
        self.task.pair_count(self.modulus)
    }

    /// Number of training pairs: round(p·M·M) as the paper's script computes
    /// it, round(p·M·(M−1)) for `div` (docs/methods.md, "Setup", "Tasks").
    pub fn n_train(&self) -> usize {
        self.task.n_train(self.modulus, self.train_fraction)
    }

    /// The split and θ_0 that the seed gives under the run's scheme.
    pub fn seeded_start(&self) -> Start {
        let split = Split::seeded_task(&self.task, self.modulus, self.n_train(), self.seed, self.rng);
        let mut weights = Weights::seeded(&self.shape(), self.seed, self.rng);
        if let Some(k) = self.perturb {
            perturb(&mut weights, self.seed, k);
        }
        Start { weights, split }
    }
}

/// When to compute the level metric ρ (docs/methods.md, "Level metric ρ"):
/// every epoch 0..=`until`, stopping after the first epoch at which ρ (the
/// code's definition) is ≥ `stop_above`: the largest threshold anything
/// reads of it. `None` never stops; it is what reading `rho_paper` (or a
/// whole ρ curve) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelLog {
    /// Last epoch to evaluate.
    pub until: usize,
    /// Stop once ρ (the code's definition) has reached this.
    pub stop_above: Option<f64>,
    /// Evaluate every this many epochs (`lockin run --level-every`; claims use 1).
    #[serde(default = "every_epoch", skip_serializing_if = "is_every_epoch")]
    pub every: usize,
}

fn every_epoch() -> usize {
    1
}

fn is_every_epoch(every: &usize) -> bool {
    *every == 1
}

/// For messages: "ρ up to epoch 300, stopping once it reaches 0.075".
impl std::fmt::Display for LevelLog {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "ρ up to epoch {}", self.until)?;
        if self.every > 1 {
            write!(f, " every {} epochs", self.every)?;
        }
        match self.stop_above {
            Some(level) => write!(f, ", stopping once it reaches {level}"),
            None => Ok(()),
        }
    }
}

impl LevelLog {
    /// Whether a run that logged `self` holds everything `need` asks for.
    pub fn covers(&self, need: &LevelLog) -> bool {
        let stops_late_enough = match (self.stop_above, need.stop_above) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(has), Some(needs)) => has >= needs,
        };
        self.until >= need.until && stops_late_enough && self.every == 1
    }

    /// The smallest log that covers both.
    pub fn union(a: Option<LevelLog>, b: Option<LevelLog>) -> Option<LevelLog> {
        match (a, b) {
            (Some(a), Some(b)) => {
                let stop_above = a.stop_above.zip(b.stop_above).map(|(x, y)| x.max(y));
                Some(LevelLog { until: a.until.max(b.until), stop_above, every: 1 })
            }
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{cache_key, trajectory_key};

    /// The optimiser, SGD's momentum, the loss and the label noise are each
    /// part of a run's identity (its trajectory key), written into its JSON
    /// only away from the default, and read back.
    #[test]
    fn objectives_are_part_of_the_identity() {
        let base = TrainSpec { modulus: 7, width: 16, epochs: 5, window: 2, ..TrainSpec::default() };
        let sgd = TrainSpec { optimizer: Optimizer::Sgd, ..base.clone() };
        let others = [
            TrainSpec { optimizer: Optimizer::Adamw, ..base.clone() },
            sgd.clone(),
            TrainSpec { momentum: 0.9, ..sgd },
            TrainSpec { loss: Loss::CrossEntropy, ..base.clone() },
            TrainSpec { label_noise: 0.1, ..base.clone() },
        ];
        let mut keys: Vec<String> = others.iter().map(trajectory_key).collect();
        keys.push(trajectory_key(&base));
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 6, "six runs, six keys");
        for spec in &others {
            let json = serde_json::to_string(spec).unwrap();
            assert_eq!(serde_json::from_str::<TrainSpec>(&json).unwrap(), *spec);
            assert_ne!(cache_key(spec), cache_key(&base), "{json}");
        }
        let json = serde_json::to_string(&others[2]).unwrap();
        assert!(json.contains(r#""optimizer":"sgd","momentum":0.9"#) && !json.contains("loss"), "{json}");
        assert!(serde_json::to_string(&others[3]).unwrap().contains(r#""loss":"cross_entropy""#));
    }
}
