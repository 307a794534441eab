//! What a run starts from and what it produces (docs/methods.md,
//! "Training", "Run directories").

use crate::data::Split;
use crate::metrics::Metrics;
use crate::model::Weights;
use crate::probes::level::Level;

/// ρ at one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevelRow {
    /// The epoch t (ρ of θ_t).
    pub epoch: usize,
    /// ρ by both definitions.
    pub level: Level,
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
    /// First epoch at which the network had collapsed ([`collapse_floor`]), if any.
    pub collapsed_at: Option<usize>,
    /// ρ at the epochs [`TrainSpec::level`] asks for.
    pub levels: Vec<LevelRow>,
    /// Wall time of each epoch's training step and log, seconds
    /// (informative only; empty for a run read from a log).
    pub epoch_seconds: Vec<f64>,
    /// The log over each other window asked of [`train_windows`]: the same
    /// rows but for the spectra.
    pub other_windows: Vec<(usize, Metrics)>,
}

impl TrainOutput {
    /// What a log alone tells of a run: its rows and where it stopped
    /// (no checkpoints, level epochs or timings).
    pub fn of_log(metrics: Metrics, diverged_at: Option<usize>, collapsed_at: Option<usize>) -> Self {
        Self {
            metrics,
            checkpoints: Vec::new(),
            diverged_at,
            collapsed_at,
            levels: Vec::new(),
            epoch_seconds: Vec::new(),
            other_windows: Vec::new(),
        }
    }
}
