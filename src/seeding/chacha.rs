//! lockin's own seeding scheme: ChaCha8 (`rand_chacha`) seeded with the run
//! seed, stream [`SPLIT_STREAM`] for the permutation and [`INIT_STREAM`] for
//! the weights. It has the paper's distributions, not the paper's draws.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ChaCha8 stream used for the train/test permutation.
pub const SPLIT_STREAM: u64 = 0;
/// ChaCha8 stream used for the initial weights.
pub const INIT_STREAM: u64 = 1;

/// A ChaCha8 generator for `seed` on one of the named streams above.
fn seeded_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A uniformly shuffled `0..n`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut seeded_rng(seed, SPLIT_STREAM));
    order
}

/// W ~ U(±1/√(2M)) [K, 2M], then V ~ U(±1/√K) [M, K], row-major.
pub fn linear_weights(modulus: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = seeded_rng(seed, INIT_STREAM);
    let mut uniform = |len: usize, fan_in: usize| -> Vec<f32> {
        let bound = 1.0 / (fan_in as f32).sqrt();
        (0..len).map(|_| rng.random_range(-bound..bound)).collect()
    };
    let w = uniform(width * 2 * modulus, 2 * modulus);
    let v = uniform(modulus * width, width);
    (w, v)
}
