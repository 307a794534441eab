//! Label noise (docs/methods.md, "Label noise"): a seeded fraction f of the
//! training pairs trained on a wrong label, each a uniformly drawn other
//! class. The test pairs keep their true labels.
//!
//! The draws come from ChaCha8 seeded with the run seed on stream
//! [`NOISE_STREAM`] (the split and the init use streams 0 and 1 of the
//! `chacha` scheme; this holds under either scheme): k = round(f·n) (half
//! to even) steps of a forward Fisher–Yates shuffle of the training
//! positions 0..n pick the pairs, position i swapped with a uniform
//! j in i..n, and then each picked pair in that order draws r uniform in
//! 1..M and takes the label (label + r) mod M. Every draw is a `u32` range,
//! the same on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::PairSet;

/// ChaCha8 stream of the label noise.
pub const NOISE_STREAM: u64 = 2;

/// Number of training pairs whose label is replaced: round(f·n), half to even.
pub fn noisy_count(fraction: f64, n: usize) -> usize {
    (fraction * n as f64).round_ties_even() as usize
}

/// `train` with a fraction `fraction` of its labels replaced as the
/// module says; the pairs themselves and their order are unchanged.
pub fn with_label_noise(train: &PairSet, fraction: f64, seed: u64, modulus: usize) -> PairSet {
    let n = train.len();
    let k = noisy_count(fraction, n).min(n);
    let mut noisy = train.clone();
    if k == 0 || modulus < 2 {
        return noisy;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(NOISE_STREAM);
    let mut positions: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = rng.random_range(i as u32..n as u32) as usize;
        positions.swap(i, j);
    }
    for &at in &positions[..k] {
        let shift = rng.random_range(1..modulus as u32) as usize;
        noisy.labels[at] = (noisy.labels[at] + shift) % modulus;
    }
    noisy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Split;
    use crate::seeding::RngScheme;

    fn train_set() -> PairSet {
        Split::seeded(11, 48, 3, RngScheme::Torch).train
    }

    /// round(f·n) labels change, each to another class; the pairs do not.
    #[test]
    fn the_fraction_of_labels_changes_and_nothing_else() {
        let clean = train_set();
        for (fraction, want) in [(0.0, 0), (0.25, 12), (0.5, 24), (0.3, 14), (0.99, 48)] {
            let noisy = with_label_noise(&clean, fraction, 7, 11);
            let changed = clean.labels.iter().zip(&noisy.labels).filter(|(a, b)| a != b).count();
            assert_eq!(changed, want, "f = {fraction}");
            assert_eq!((&noisy.pairs, &noisy.a, &noisy.b), (&clean.pairs, &clean.a, &clean.b));
            assert!(noisy.labels.iter().all(|&l| l < 11));
        }
        assert_eq!(noisy_count(0.3, 48), 14, "14.4 rounds to 14");
        assert_eq!(noisy_count(0.125, 4), 0, "0.5 rounds half to even");
    }

    /// The same seed gives the same labels; another seed others.
    #[test]
    fn the_noise_is_a_function_of_the_seed() {
        let clean = train_set();
        let a = with_label_noise(&clean, 0.25, 7, 11);
        assert_eq!(a, with_label_noise(&clean, 0.25, 7, 11));
        assert_ne!(a.labels, with_label_noise(&clean, 0.25, 8, 11).labels);
    }

    /// A run with label noise trains on other labels and is tested on the
    /// true ones: at θ_0 its test row is the clean run's bit for bit, its
    /// train row is not; and the weights then differ.
    #[test]
    fn noise_changes_the_training_labels_only() {
        use crate::train::{TrainSpec, train};
        let clean = TrainSpec { modulus: 11, width: 32, epochs: 5, window: 2, ..TrainSpec::default() };
        let noisy = TrainSpec { label_noise: 0.5, ..clean.clone() };
        let (a, b) =
            (train(&clean, &clean.seeded_start(), &mut |_| {}), train(&noisy, &noisy.seeded_start(), &mut |_| {}));
        let (a0, b0) = (a.metrics.rows[0], b.metrics.rows[0]);
        assert_eq!((a0.test.loss, a0.test.accuracy), (b0.test.loss, b0.test.accuracy));
        assert_ne!(a0.train.loss, b0.train.loss);
        assert_ne!(a.metrics.rows[5].test.loss, b.metrics.rows[5].test.loss, "trained on other labels");
    }

    /// Over many pairs the replaced labels are spread over the other classes.
    #[test]
    fn replacements_are_spread_over_the_other_classes() {
        let clean = Split::seeded(5, 20, 0, RngScheme::Torch).train;
        let mut shifts = [0usize; 5];
        for seed in 0..200 {
            let noisy = with_label_noise(&clean, 0.5, seed, 5);
            for (c, n) in clean.labels.iter().zip(&noisy.labels).filter(|(c, n)| c != n) {
                shifts[(n + 5 - c) % 5] += 1;
            }
        }
        assert_eq!(shifts[0], 0);
        assert!(shifts[1..].iter().all(|&s| (400..600).contains(&s)), "{shifts:?} of 2000");
    }
}
