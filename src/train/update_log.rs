//! What training keeps of θ between epochs for the update spectrum
//! (docs/methods.md, "Update spectrum"): the last θ read back, and the
//! rolling windows its updates go into.

use crate::model::TwoLayer;
use crate::probes::spectrum::{GramPrecision, RollingGram};

/// The last recorded θ on the CPU (Wᵀ and V, f32) and the rolling windows
/// of W and V updates (docs/methods.md, "Update spectrum").
pub(super) struct UpdateLog {
    pub(super) w_prev: Vec<f32>,
    pub(super) v_prev: Vec<f32>,
    pub(super) w_window: RollingGram,
    pub(super) v_window: RollingGram,
    /// The same updates in the other windows a run is asked for
    /// ([`super::train_windows`]): (W, V) per window.
    pub(super) other_windows: Vec<(RollingGram, RollingGram)>,
}

impl UpdateLog {
    /// The log from θ = (Wᵀ, V), with its window of `window` updates in `precision`.
    pub(super) fn new(w_prev: Vec<f32>, v_prev: Vec<f32>, window: usize, precision: GramPrecision) -> Self {
        Self {
            w_window: RollingGram::with_precision(window, &w_prev, precision),
            v_window: RollingGram::with_precision(window, &v_prev, precision),
            other_windows: Vec::new(),
            w_prev,
            v_prev,
        }
    }

    /// Keep the same updates in each window of `windows` too.
    pub(super) fn open_windows(&mut self, windows: &[usize], precision: GramPrecision) {
        self.other_windows = windows
            .iter()
            .map(|&w| {
                (
                    RollingGram::with_precision(w, &self.w_prev, precision),
                    RollingGram::with_precision(w, &self.v_prev, precision),
                )
            })
            .collect();
    }

    /// Read θ back from `model` and push Δ = θ − θ_prev into every window.
    pub(super) fn record(&mut self, model: &TwoLayer) {
        let w_next = model.w_t.val().into_data().try_into_vec::<f32>().expect("f32 weights");
        let v_next = model.v.val().into_data().try_into_vec::<f32>().expect("f32 weights");
        self.w_window.push(&w_next);
        self.v_window.push(&v_next);
        for (w_window, v_window) in &mut self.other_windows {
            w_window.push(&w_next);
            v_window.push(&v_next);
        }
        (self.w_prev, self.v_prev) = (w_next, v_next);
    }
}
