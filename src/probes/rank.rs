//! Late-stage magnitude and effective rank (docs/methods.md, "Late separation",
//! "Effective rank").

use serde::{Deserialize, Serialize};

use super::stats::median;

/// An inclusive epoch window [first, last].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[usize; 2]", into = "[usize; 2]")]
pub struct EpochWindow {
    /// First epoch (inclusive).
    pub first: usize,
    /// Last epoch (inclusive).
    pub last: usize,
}

impl EpochWindow {
    /// The paper's late window [200, 400].
    pub const LATE: EpochWindow = EpochWindow { first: 200, last: 400 };

    /// The values of a per-epoch series inside the window (clipped to its length).
    pub fn slice<'a>(&self, series: &'a [f64]) -> &'a [f64] {
        let end = (self.last + 1).min(series.len());
        &series[self.first.min(end)..end]
    }
}

/// YAML/JSON write a window as `[first, last]`.
impl From<[usize; 2]> for EpochWindow {
    fn from([first, last]: [usize; 2]) -> Self {
        Self { first, last }
    }
}

impl From<EpochWindow> for [usize; 2] {
    fn from(w: EpochWindow) -> Self {
        [w.first, w.last]
    }
}

impl std::fmt::Display for EpochWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}]", self.first, self.last)
    }
}

/// The NaN-ignoring median of a per-epoch series over a window (docs/methods.md, "Late separation").
pub fn window_median(series: &[f64], window: EpochWindow) -> f64 {
    median(window.slice(series))
}

/// Parameters of the effective rank; [`Default`] is τ = 10, k_max = 2, [200, 400]
/// (docs/methods.md, "Effective rank").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankParams {
    /// Gap threshold τ on the median ratio σ_k/σ_{k+1}.
    pub tau: f64,
    /// Largest rank reported.
    pub k_max: usize,
    /// Epoch window of the medians.
    pub window: EpochWindow,
}

impl Default for RankParams {
    fn default() -> Self {
        Self { tau: 10.0, k_max: 2, window: EpochWindow::LATE }
    }
}

/// The effective rank of one run and the medians it was read from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EffectiveRank {
    /// Largest k ≤ k_max with median q_k ≥ τ, 0 if none.
    pub rank: usize,
    /// Median over the window of q_k = σ_k/σ_{k+1}, k = 1..4.
    pub ratio_medians: [f64; 4],
}

/// Effective rank from the σ_1..σ_5 series (`sigma[k][t]` = σ_{k+1}(t)).
pub fn effective_rank(sigma: &[Vec<f64>; 5], params: &RankParams) -> EffectiveRank {
    let mut ratio_medians = [f64::NAN; 4];
    for (k, slot) in ratio_medians.iter_mut().enumerate() {
        let upper = params.window.slice(&sigma[k]);
        let lower = params.window.slice(&sigma[k + 1]);
        let ratios: Vec<f64> = upper.iter().zip(lower).map(|(a, b)| a / b).collect();
        *slot = median(&ratios);
    }
    let rank = (1..=params.k_max.min(4)).rev().find(|&k| ratio_medians[k - 1] >= params.tau).unwrap_or(0);
    EffectiveRank { rank, ratio_medians }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: [f64; 5], len: usize) -> [Vec<f64>; 5] {
        values.map(|v| vec![v; len])
    }

    #[test]
    fn rank_two_when_sigma3_collapses() {
        // findings.md, seed 0, epoch 300: σ = (0.73, 0.0026, 8.4e-6, ...).
        let r = effective_rank(&series([0.73, 0.0026, 8.4e-6, 4e-6, 2e-6], 401), &RankParams::default());
        assert_eq!(r.rank, 2);
        assert!((r.ratio_medians[1] - 0.0026 / 8.4e-6).abs() < 1e-9);
    }

    #[test]
    fn rank_one_and_zero() {
        let p = RankParams::default();
        assert_eq!(effective_rank(&series([1.0, 0.01, 0.005, 0.004, 0.003], 401), &p).rank, 1);
        // Control at epoch 400: (1.2e-3, 1.1e-3, 9.5e-4): isotropic, rank 0.
        assert_eq!(effective_rank(&series([1.2e-3, 1.1e-3, 9.5e-4, 9e-4, 8e-4], 401), &p).rank, 0);
    }

    #[test]
    fn window_median_ignores_nan_and_clips() {
        let mut s: Vec<f64> = (0..300).map(|t| t as f64).collect();
        s[250] = f64::NAN;
        // [200, 400] is clipped to the series (200..=299); the NaN at 250 is skipped.
        let m = window_median(&s, EpochWindow::LATE);
        let expected = median(&(200..300).filter(|&t| t != 250).map(|t| t as f64).collect::<Vec<_>>());
        assert_eq!(m, expected);
        assert!(window_median(&s, EpochWindow { first: 500, last: 600 }).is_nan());
    }
}
