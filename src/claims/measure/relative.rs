//! Levels relative to a run's own series (docs/methods.md, "Threshold
//! events and leads"): an event's `threshold` read as a factor of the
//! series at epoch 0 (`relative_to: start`, ρ at any scale), or as the
//! fraction of the way from its early baseline to its peak
//! (`relative_to: start_to_peak`, D16's relative "test accuracy ≥ 0.5").

use serde::{Deserialize, Serialize};

/// What a relative threshold is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelativeTo {
    /// The level is threshold × the series at epoch 0.
    Start,
    /// The level is base + threshold · (peak − base): base the median of
    /// the series over epochs 0-4, peak its largest value over the run
    /// (the notes' `analysis.py` l.156, with threshold 0.5).
    StartToPeak,
}

/// Epochs whose median is `start_to_peak`'s baseline (0-4).
const BASELINE_EPOCHS: usize = 5;

impl RelativeTo {
    /// The absolute level of `threshold` over `values` (a run's series
    /// from epoch 0): NaN, reached by nothing, where the series has no
    /// defined value to be relative to.
    pub fn level(self, threshold: f64, values: &[f64]) -> f64 {
        match self {
            RelativeTo::Start => threshold * values.first().copied().unwrap_or(f64::NAN),
            RelativeTo::StartToPeak => {
                let early: Vec<f64> = values.iter().take(BASELINE_EPOCHS).copied().filter(|v| v.is_finite()).collect();
                let base = if early.is_empty() { 0.0 } else { crate::probes::stats::median(&early) };
                let peak = values.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
                base + threshold * (peak - base)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_relative_to_the_start_and_to_the_range() {
        let rho = [0.108, 0.12, 0.2, 0.15, 0.3];
        assert!((RelativeTo::Start.level(1.2, &rho) - 0.1296).abs() < 1e-12);
        assert!(RelativeTo::Start.level(1.2, &[]).is_nan());
        assert!(RelativeTo::Start.level(1.2, &[f64::NAN, 0.2]).is_nan(), "an undefined start");
        // Baseline: the median of 0.1, 0.1, 0.2, 0.1, 0.1 is 0.1; the peak 0.9.
        let acc = [0.1, 0.1, 0.2, 0.1, 0.1, 0.9, 0.5];
        assert!((RelativeTo::StartToPeak.level(0.5, &acc) - 0.5).abs() < 1e-12);
        assert!((RelativeTo::StartToPeak.level(0.25, &acc) - 0.3).abs() < 1e-12);
    }
}
