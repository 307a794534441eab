//! The slope detector of Stage III lock-in (docs/methods.md, "Slope detector").
//!
//! x(t) = ln(max(gap23(t), floor)); s(t) = (x(t) − x(t − lag)) / lag for
//! t ≥ lag (NaN if either side is NaN). The detector fires at the first
//! t ≥ min_epoch with s(t) > threshold.

use serde::{Deserialize, Serialize};

/// The detector's four parameters; [`Default`] is the paper's (25, 1e-6, 100, 0.04).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorParams {
    /// Slope lag in epochs.
    pub lag: usize,
    /// Floor applied to gap23 before the log.
    pub floor: f64,
    /// First epoch at which the detector may fire.
    pub min_epoch: usize,
    /// Slope threshold (per epoch, in ln units).
    pub threshold: f64,
}

impl Default for DetectorParams {
    fn default() -> Self {
        Self { lag: 25, floor: 1e-6, min_epoch: 100, threshold: 0.04 }
    }
}

/// What the detector saw in one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// First epoch t ≥ min_epoch with s(t) > threshold; `None` = never fired.
    pub fire_epoch: Option<usize>,
    /// max s(t) over t ≥ min_epoch (NaN if no slope is defined there).
    #[serde(with = "crate::nullable")]
    pub max_slope: f64,
    /// The epoch of that maximum (first, if tied).
    pub max_slope_epoch: Option<usize>,
}

/// s(t) for every row of a gap23 series indexed by epoch (NaN for t < lag).
pub fn slopes(gap23: &[f64], params: &DetectorParams) -> Vec<f64> {
    let x: Vec<f64> =
        gap23.iter().map(|&g| if g.is_nan() { f64::NAN } else { libm::log(g.max(params.floor)) }).collect();
    (0..x.len())
        .map(|t| if t < params.lag { f64::NAN } else { (x[t] - x[t - params.lag]) / params.lag as f64 })
        .collect()
}

/// Run the detector on a gap23 series indexed by epoch.
pub fn detect(gap23: &[f64], params: &DetectorParams) -> Detection {
    let s = slopes(gap23, params);
    let late = || s.iter().enumerate().skip(params.min_epoch).filter(|(_, v)| !v.is_nan());
    let fire_epoch = late().find(|(_, v)| **v > params.threshold).map(|(t, _)| t);
    let max = late().fold(None, |best: Option<(usize, f64)>, (t, &v)| match best {
        Some((_, b)) if b >= v => best,
        _ => Some((t, v)),
    });
    Detection { fire_epoch, max_slope: max.map_or(f64::NAN, |(_, v)| v), max_slope_epoch: max.map(|(t, _)| t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gap23 flat at 2 until epoch 150, then growing ×e^0.05 per epoch until 200:
    /// s(t) = 0.05·(t − 150)/25 for 150 ≤ t ≤ 175, first > 0.04 at t = 171;
    /// s = 0.05 on [175, 200], then falls back to 0 by 225.
    #[test]
    fn fires_at_first_crossing() {
        let gap: Vec<f64> = (0..400).map(|t| 2.0 * (0.05 * (t.clamp(150, 200) - 150) as f64).exp()).collect();
        let d = detect(&gap, &DetectorParams::default());
        assert_eq!(d.fire_epoch, Some(171));
        assert!((d.max_slope - 0.05).abs() < 1e-12);
        assert!((175..=200).contains(&d.max_slope_epoch.unwrap()));
    }

    #[test]
    fn never_fires_on_flat_noise_and_reports_margin() {
        let gap: Vec<f64> = (0..400).map(|t| 1.3 + 0.1 * ((t % 7) as f64 - 3.0) / 3.0).collect();
        let d = detect(&gap, &DetectorParams::default());
        assert_eq!(d.fire_epoch, None);
        assert!(d.max_slope < 0.04 && d.max_slope > 0.0);
    }

    #[test]
    fn ignores_early_jumps_and_nan() {
        // A jump before min_epoch does not count; NaN slopes are skipped.
        let mut gap: Vec<f64> = (0..200).map(|t| if t < 60 { 1.0 } else { 1e3 }).collect();
        gap[0] = f64::NAN;
        let d = detect(&gap, &DetectorParams::default());
        assert_eq!(d.fire_epoch, None);
        let s = slopes(&gap, &DetectorParams::default());
        assert!(s[25].is_nan()); // x(0) is NaN
        assert!(s[24].is_nan()); // t < lag
    }

    #[test]
    fn floor_bounds_the_log() {
        // gap23 from 0 (floored at 1e-6) to 1 over one lag: slope ln(1e6)/25.
        let mut gap = vec![0.0; 130];
        gap[125..].fill(1.0);
        let d = detect(&gap, &DetectorParams::default());
        assert_eq!(d.fire_epoch, Some(125));
        assert!((d.max_slope - (1e6f64).ln() / 25.0).abs() < 1e-12);
    }

    #[test]
    fn all_nan_series_never_fires() {
        let d = detect(&[f64::NAN; 300], &DetectorParams::default());
        assert_eq!(d.fire_epoch, None);
        assert!(d.max_slope.is_nan());
    }
}
