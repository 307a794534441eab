//! Where a run's randomness comes from (docs/methods.md, "Seeds"): the
//! train/test permutation and the initial weights, both functions of the
//! seed alone.
//!
//! - [`RngScheme::Torch`] (the default) rebuilds PyTorch's CPU streams bit for
//!   bit ([`torch`]), so seed `s` is the paper's seed `s`: the same split and
//!   the same θ_0 as `tian_eigengap.py --seed s`.
//! - [`RngScheme::Chacha`] is lockin's own ChaCha8 scheme ([`chacha`]): as
//!   many seeds, but not the paper's runs.
//! - [`RngScheme::External`] names the randomness of a run made elsewhere
//!   by another generator (numpy's, say; `lockin import --seeding
//!   external`): its seed s is neither scheme's seed s, and lockin can draw
//!   nothing from it, so it trains no run.

pub mod chacha;
pub mod torch;

use serde::{Deserialize, Serialize};

/// Why a spec with external seeding is never trained (`TrainSpec::validate` refuses it first).
pub const EXTERNAL_DRAWS_NOTHING: &str =
    "external: the seeds of a run made elsewhere by another generator; lockin cannot draw them (use torch or chacha)";

/// The seeding scheme of a run; part of its cache key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RngScheme {
    /// PyTorch's mt19937 streams: the paper's own seeds.
    #[default]
    Torch,
    /// ChaCha8, stream 0 for the split and stream 1 for the init.
    Chacha,
    /// Another generator's draws (an imported run's; docs/methods.md, "Runs
    /// made elsewhere"): recorded, never drawn from.
    #[value(skip)]
    External,
}

impl RngScheme {
    /// The lowercase name used on the command line and in claim files.
    pub fn name(self) -> &'static str {
        match self {
            RngScheme::Torch => "torch",
            RngScheme::Chacha => "chacha",
            RngScheme::External => "external",
        }
    }

    /// A permutation of `0..n`; its first n_train entries are the training pairs.
    pub fn permutation(self, n: usize, seed: u64) -> Vec<usize> {
        match self {
            RngScheme::Torch => torch::randperm(n, seed),
            RngScheme::Chacha => chacha::permutation(n, seed),
            RngScheme::External => panic!("{}", EXTERNAL_DRAWS_NOTHING),
        }
    }

    /// W [K, 2M] and V [M, K], row-major f32, with `nn.Linear`'s bounds
    /// U(±1/√fan_in).
    pub fn linear_weights(self, modulus: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        match self {
            RngScheme::Torch => torch::linear_weights(modulus, width, seed),
            RngScheme::Chacha => chacha::linear_weights(modulus, width, seed),
            RngScheme::External => panic!("{}", EXTERNAL_DRAWS_NOTHING),
        }
    }
}
