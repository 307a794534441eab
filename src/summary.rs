//! A run's summary (`summary.json`): the headline numbers its log gives
//! with the default parameters (the slope detector, the late separation,
//! the accuracy milestones; docs/methods.md), and its wall times.

use serde::{Deserialize, Serialize};

use crate::metrics::{EpochRow, Metrics};
use crate::probes::detector::{Detection, DetectorParams, detect};
use crate::probes::rank::{EpochWindow, window_median};
use crate::train::TrainOutput;

/// First epochs at which accuracy thresholds are reached (docs/methods.md, "Milestones").
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Milestones {
    /// First epoch with train accuracy 1.
    pub train_acc_1: Option<usize>,
    /// First epoch with test accuracy ≥ 0.5.
    pub test_acc_half: Option<usize>,
    /// First epoch with test accuracy ≥ 0.99.
    pub test_acc_99: Option<usize>,
}

impl Milestones {
    /// Read the thresholds off a log.
    pub fn of(metrics: &Metrics) -> Self {
        let first = |pred: &dyn Fn(&EpochRow) -> bool| metrics.rows.iter().find(|r| pred(r)).map(|r| r.epoch);
        Self {
            train_acc_1: first(&|r| r.train.accuracy >= 1.0),
            test_acc_half: first(&|r| r.test.accuracy >= 0.5),
            test_acc_99: first(&|r| r.test.accuracy >= 0.99),
        }
    }
}

/// `summary.json`: a run's headline numbers with the default parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Rows logged (E + 1 unless diverged or collapsed).
    pub rows: usize,
    /// First epoch with a non-finite training loss.
    pub diverged_at: Option<usize>,
    /// First epoch at which the network had collapsed (docs/methods.md, "Collapse").
    #[serde(default)]
    pub collapsed_at: Option<usize>,
    /// The slope detector with its default parameters, on the W updates
    /// (docs/methods.md, "Slope detector").
    pub detection: Detection,
    /// Median gap23 over [200, 400] (docs/methods.md, "Late separation").
    #[serde(with = "crate::nullable")]
    pub late_gap23_median: f64,
    /// Accuracy thresholds.
    pub milestones: Milestones,
    /// Train accuracy of the last row.
    #[serde(with = "crate::nullable")]
    pub final_train_acc: f64,
    /// Test accuracy of the last row.
    #[serde(with = "crate::nullable")]
    pub final_test_acc: f64,
    /// Wall time of the training, seconds (informative only).
    pub wall_seconds: f64,
    /// The epochs' wall times (informative only; docs/performance.md, "Slow epochs").
    #[serde(default)]
    pub epoch_times: EpochTimes,
}

/// The median and the slowest epoch of a run's training, wall time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochTimes {
    /// Median seconds per epoch.
    pub median_seconds: f64,
    /// The slowest epoch's seconds.
    pub slowest_seconds: f64,
    /// Which epoch that was.
    pub slowest_epoch: usize,
}

impl EpochTimes {
    /// The median and the slowest of `seconds` (per epoch, from 0).
    pub fn of(seconds: &[f64]) -> Self {
        let mut sorted = seconds.to_vec();
        sorted.sort_by(f64::total_cmp);
        let slowest = seconds.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1));
        Self {
            median_seconds: sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
            slowest_seconds: slowest.map_or(0.0, |(_, &s)| s),
            slowest_epoch: slowest.map_or(0, |(e, _)| e),
        }
    }

    /// How many medians the slowest epoch took (0 where nothing was timed).
    pub fn slowest_ratio(&self) -> f64 {
        if self.median_seconds > 0.0 { self.slowest_seconds / self.median_seconds } else { 0.0 }
    }
}

impl RunSummary {
    /// The summary of a finished training.
    pub fn of(output: &TrainOutput, wall_seconds: f64) -> Self {
        let m = &output.metrics;
        let gap23 = m.w_gap23();
        let last = m.rows.last();
        Self {
            rows: m.rows.len(),
            diverged_at: output.diverged_at,
            collapsed_at: output.collapsed_at,
            detection: detect(&gap23, &DetectorParams::default()),
            late_gap23_median: window_median(&gap23, EpochWindow::LATE),
            milestones: Milestones::of(m),
            final_train_acc: last.map_or(f64::NAN, |r| r.train.accuracy),
            final_test_acc: last.map_or(f64::NAN, |r| r.test.accuracy),
            wall_seconds,
            epoch_times: EpochTimes::of(&output.epoch_seconds),
        }
    }
}

impl RunSummary {
    /// Equal in every figure but the wall time (NaN equals NaN).
    pub fn same_as(&self, other: &RunSummary) -> bool {
        let figures = |s: &RunSummary| {
            serde_json::to_value(RunSummary { wall_seconds: 0.0, epoch_times: EpochTimes::default(), ..s.clone() }).ok()
        };
        figures(self) == figures(other)
    }
}
