//! A training condition of a claim file (docs/claims.md, "Experiments"):
//! the fields, their defaults (the paper's setup) and the names conditions may have.

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::model::Activation;
use crate::seeding::RngScheme;
use crate::train::TrainSpec;

/// Most seeds an experiment may ask for at one tier.
pub const MAX_SEEDS: usize = 1000;

/// How many seeds (0..n) an experiment runs at each tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSeeds {
    /// The paper's count (15 per condition, 5 for checkpoint claims).
    pub paper: usize,
    /// `cargo test`'s count (3).
    pub quick: usize,
}

impl TierSeeds {
    /// The count at `tier`.
    pub fn at(self, tier: super::Tier) -> usize {
        match tier {
            super::Tier::Quick => self.quick,
            super::Tier::Paper => self.paper,
        }
    }
}

/// A training condition; unset fields take the paper's values (docs/methods.md, "Setup").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// σ.
    pub activation: Activation,
    /// Weight decay η.
    pub eta: f64,
    /// E.
    pub epochs: usize,
    /// Seeds per tier.
    pub seeds: TierSeeds,
    /// Wn (default 20).
    #[serde(default = "defaults::window")]
    pub window: usize,
    /// Adam learning rate (default 1e-3).
    #[serde(default = "defaults::lr")]
    pub lr: f64,
    /// M (default 71).
    #[serde(default = "defaults::modulus")]
    pub modulus: usize,
    /// K (default 2048).
    #[serde(default = "defaults::width")]
    pub width: usize,
    /// Training fraction of the M² pairs (default 0.4).
    #[serde(default = "defaults::train_fraction")]
    pub train_fraction: f64,
    /// Seeding scheme (default `torch`: seed s is the paper's seed s).
    #[serde(default)]
    pub rng: RngScheme,
    /// Whether a run that diverges (non-finite loss) is an outcome the
    /// measures count rather than an error (default false).
    #[serde(default)]
    pub may_diverge: bool,
    /// Whether a run whose network collapses to zero output (docs/methods.md,
    /// "Collapse") is an outcome the measures count rather than an error
    /// (default false).
    #[serde(default)]
    pub may_collapse: bool,
    /// The window Gram in `f64` (default) or `f32`, as the paper's code
    /// computes it (docs/methods.md, "Update spectrum").
    #[serde(default)]
    pub gram: crate::probes::spectrum::GramPrecision,
}

/// Unset experiment fields take the paper's values, from [`TrainSpec::default`].
mod defaults {
    use crate::train::TrainSpec;

    pub fn window() -> usize {
        TrainSpec::default().window
    }
    pub fn lr() -> f64 {
        TrainSpec::default().lr
    }
    pub fn modulus() -> usize {
        TrainSpec::default().modulus
    }
    pub fn width() -> usize {
        TrainSpec::default().width
    }
    pub fn train_fraction() -> f64 {
        TrainSpec::default().train_fraction
    }
}

impl Experiment {
    /// The train spec of seed `seed` of this experiment.
    pub fn train_spec(&self, seed: u64, checkpoints: Vec<usize>, backend: Backend) -> TrainSpec {
        TrainSpec {
            modulus: self.modulus,
            width: self.width,
            train_fraction: self.train_fraction,
            activation: self.activation,
            lr: self.lr,
            eta: self.eta,
            epochs: self.epochs,
            window: self.window,
            seed,
            rng: self.rng,
            checkpoints,
            level: None,
            backend,
            // Claims judge the canonical scheme and stop at a collapse.
            ieee_subnormals: false,
            through_collapse: false,
            gram: self.gram,
            perturb: None,
        }
    }
}

/// Longest experiment, grid, point or label name: names reach file names
/// (figures), so they are bounded once here.
pub const MAX_NAME: usize = 48;

/// Whether `name` is a valid experiment, grid, point or measure-label name:
/// 1 to [`MAX_NAME`] letters, digits and `_ . + -` (so `1e-5`, `M41_p0.1`),
/// and so never the `grid[point]` shape of a grid condition.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok =
        (1..=MAX_NAME).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{what} `{name}` must be 1-{MAX_NAME} letters, digits, _ . + - (no brackets, spaces or slashes)"))
    }
}
