//! Where a run's randomness comes from (docs/methods.md, "Seeds"): the
//! train/test permutation and the initial weights, both functions of the
//! seed alone.
//!
//! - [`RngScheme::Torch`] (the default) rebuilds PyTorch's CPU streams bit for
//!   bit ([`torch`]), so seed `s` is the paper's seed `s`: the same split and
//!   the same θ_0 as `tian_eigengap.py --seed s`.
//! - [`RngScheme::Chacha`] is lockin's own ChaCha8 scheme ([`chacha`]): as
//!   many seeds, but not the paper's runs.

pub mod chacha;
pub mod torch;

use serde::{Deserialize, Serialize};

/// The seeding scheme of a run; part of its cache key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RngScheme {
    /// PyTorch's mt19937 streams: the paper's own seeds.
    #[default]
    Torch,
    /// ChaCha8, stream 0 for the split and stream 1 for the init.
    Chacha,
}

impl RngScheme {
    /// The lowercase name used on the command line and in claim files.
    pub fn name(self) -> &'static str {
        match self {
            RngScheme::Torch => "torch",
            RngScheme::Chacha => "chacha",
        }
    }

    /// A permutation of `0..n`; its first n_train entries are the training pairs.
    pub fn permutation(self, n: usize, seed: u64) -> Vec<usize> {
        match self {
            RngScheme::Torch => torch::randperm(n, seed),
            RngScheme::Chacha => chacha::permutation(n, seed),
        }
    }

    /// W [K, 2M] and V [M, K], row-major f32, with `nn.Linear`'s bounds
    /// U(±1/√fan_in).
    pub fn linear_weights(self, modulus: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        match self {
            RngScheme::Torch => torch::linear_weights(modulus, width, seed),
            RngScheme::Chacha => chacha::linear_weights(modulus, width, seed),
        }
    }
}
