//! A run's name for people: progress lines and the report (docs/methods.md,
//! "The cache"). The cache key names a run's directory and keeps its older,
//! shorter form, so that existing caches serve; the name adds what sets a
//! run apart in a grid of one's own, and ends in the key's hash.

use crate::cache::{Trajectory, cache_key};
use crate::train::TrainSpec;

/// `sqr-add-M31-K512-p0.5-eta1e-3-s105-flex-0123456789abcdef`: σ, the task,
/// M, K, p, η, the seed, the backend, and the hash of its cache key, by
/// which its directory `runs/KEY` is found.
pub fn run_name(spec: &TrainSpec) -> String {
    let key = cache_key(spec);
    let hash = key.rsplit('-').next().unwrap_or_default();
    format!(
        "{}-{}-M{}-K{}-p{}-eta{:e}-s{}-{}-{hash}",
        spec.activation.name(),
        spec.task,
        spec.modulus,
        spec.width,
        spec.train_fraction,
        spec.eta,
        spec.seed,
        spec.backend.name()
    )
}

/// A trajectory's name: its first window's run name, and the others.
pub fn trajectory_name(trajectory: &Trajectory) -> String {
    let name = run_name(&trajectory.spec);
    match &trajectory.windows[1..] {
        [] => name,
        others => format!("{name} (and windows {others:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A p-grid's runs scrolled past under one name (`sqr-flex-eta1e-3-s105-…`).
    #[test]
    fn run_names_tell_a_grid_apart_and_keep_the_key_hash() {
        let spec =
            TrainSpec { modulus: 31, width: 512, train_fraction: 0.5, eta: 1e-3, seed: 105, ..Default::default() };
        let name = run_name(&spec);
        assert!(name.starts_with("sqr-add-M31-K512-p0.5-eta1e-3-s105-flex-"), "{name}");
        let key = cache_key(&spec);
        assert_eq!(name.rsplit('-').next(), key.rsplit('-').next(), "{name} and {key} share the hash");
        assert_ne!(run_name(&TrainSpec { train_fraction: 0.3, ..spec.clone() }), name);
        let mut trajectory = Trajectory::of(&spec);
        trajectory.add(&TrainSpec { window: 30, ..spec.clone() });
        assert_eq!(trajectory_name(&trajectory), format!("{name} (and windows [30])"));
    }
}
