//! What training keeps of θ between epochs for the update spectrum
//! (docs/methods.md, "Update spectrum"): the rolling windows its updates
//! go into, whose newest snapshot is the last θ recorded.

use crate::model::HostTheta;
use crate::probes::spectrum::{GramPrecision, RollingGram};

/// The rolling windows of W and V updates (docs/methods.md, "Update
/// spectrum"), kept as snapshots of Wᵀ and V (f32).
pub(super) struct UpdateLog {
    pub(super) w_window: RollingGram,
    pub(super) v_window: RollingGram,
    /// The same updates in the other windows a run is asked for
    /// ([`super::train_windows`]): (W, V) per window.
    pub(super) other_windows: Vec<(RollingGram, RollingGram)>,
}

impl UpdateLog {
    /// The log from θ = (Wᵀ, V), with its window of `window` updates in `precision`.
    pub(super) fn new(w_t: &[f32], v: &[f32], window: usize, precision: GramPrecision) -> Self {
        Self {
            w_window: RollingGram::with_precision(window, w_t, precision),
            v_window: RollingGram::with_precision(window, v, precision),
            other_windows: Vec::new(),
        }
    }

    /// The last θ recorded (or the start): Wᵀ [2M, K] and V [M, K].
    pub(super) fn last_theta(&self) -> (&[f32], &[f32]) {
        (self.w_window.newest(), self.v_window.newest())
    }

    /// Keep the same updates in each window of `windows` too.
    pub(super) fn open_windows(&mut self, windows: &[usize], precision: GramPrecision) {
        let (w_t, v) = self.last_theta();
        let others = windows
            .iter()
            .map(|&w| (RollingGram::with_precision(w, w_t, precision), RollingGram::with_precision(w, v, precision)))
            .collect();
        self.other_windows = others;
    }

    /// Push Δ = θ − θ_prev into every window, θ read back as `theta`.
    pub(super) fn record(&mut self, theta: &HostTheta) {
        self.w_window.push(&theta.w_t);
        self.v_window.push(&theta.v);
        for (w_window, v_window) in &mut self.other_windows {
            w_window.push(&theta.w_t);
            v_window.push(&theta.v);
        }
    }
}
