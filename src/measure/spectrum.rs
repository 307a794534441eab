//! The rolling update spectrum (docs/methods.md, "Update spectrum").
//!
//! The window holds the last `min(Wn, t)` updates Δ_s = vec(θ_s − θ_{s−1}),
//! each the exact f64 difference of two f32 parameter snapshots. Their Gram
//! DᵀD (w × w) is kept in f64 and updated incrementally: a new update costs
//! one row of w canonical dot products. σ_k is the k-th largest eigenvalue
//! of that Gram, by the cyclic Jacobi method (docs/methods.md, "Numerics scheme").

use crate::numerics::dot;
use crate::numerics::eigen::symmetric_eigenvalues;

/// Number of logged eigenvalues σ_1..σ_5.
pub const LOGGED: usize = 5;

/// The logged part of the spectrum at one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectrumRow {
    /// σ_1..σ_5, NaN where the window holds fewer than k updates.
    pub sigma: [f64; LOGGED],
    /// σ_2/σ_3, NaN if σ_3 ≤ 0 or undefined.
    pub gap23: f64,
}

impl SpectrumRow {
    /// The row of an empty window (epoch 0).
    pub fn undefined() -> Self {
        Self { sigma: [f64::NAN; LOGGED], gap23: f64::NAN }
    }

    /// σ_1..σ_5 and gap23 from eigenvalues in descending order.
    pub fn from_eigenvalues(descending: &[f64]) -> Self {
        let mut sigma = [f64::NAN; LOGGED];
        for (s, &e) in sigma.iter_mut().zip(descending) {
            *s = e;
        }
        Self { sigma, gap23: gap23(sigma[1], sigma[2]) }
    }
}

/// σ_2/σ_3, NaN if σ_3 ≤ 0 or either is undefined (docs/methods.md, "Update spectrum").
pub fn gap23(sigma2: f64, sigma3: f64) -> f64 {
    if sigma3 > 0.0 && sigma2.is_finite() { sigma2 / sigma3 } else { f64::NAN }
}

/// A window of the last `window` updates and their f64 Gram.
#[derive(Clone, Debug)]
pub struct RollingGram {
    window: usize,
    slots: Vec<Vec<f64>>,
    gram: Vec<f64>,
    next: usize,
    filled: usize,
}

impl RollingGram {
    /// An empty window of `window` updates of length `len`.
    pub fn new(window: usize, len: usize) -> Self {
        assert!(window > 0, "window must hold at least one update");
        Self { window, slots: vec![vec![0.0; len]; window], gram: vec![0.0; window * window], next: 0, filled: 0 }
    }

    /// Push the update `after − before` (f32 snapshots, differenced in f64),
    /// evicting the oldest when the window is full.
    pub fn push_difference(&mut self, after: &[f32], before: &[f32]) {
        let slot = self.next;
        for ((d, &a), &b) in self.slots[slot].iter_mut().zip(after).zip(before) {
            *d = a as f64 - b as f64;
        }
        self.filled = (self.filled + 1).min(self.window);
        for other in 0..self.filled {
            let dot = dot(&self.slots[slot], &self.slots[other]);
            self.gram[slot * self.window + other] = dot;
            self.gram[other * self.window + slot] = dot;
        }
        self.next = (slot + 1) % self.window;
    }

    /// Eigenvalues of the Gram of the updates in the window, descending.
    pub fn eigenvalues(&self) -> Vec<f64> {
        let w = self.filled;
        if w == 0 {
            return Vec::new();
        }
        // Slots 0..filled are the filled ones (the ring fills in order). The
        // eigenvalues do not depend on their order, but their last bits do:
        // the slots are taken in their fixed ring order.
        let gram: Vec<f64> = (0..w * w).map(|x| self.gram[(x / w) * self.window + x % w]).collect();
        symmetric_eigenvalues(&gram, w)
    }

    /// The logged row: σ_1..σ_5 and gap23.
    pub fn row(&self) -> SpectrumRow {
        if self.filled == 0 {
            return SpectrumRow::undefined();
        }
        SpectrumRow::from_eigenvalues(&self.eigenvalues())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use faer::Mat;
    use rand::{Rng, SeedableRng};

    /// After many pushes (wrapping the ring), the eigenvalues equal the
    /// squared singular values of the window matrix D built directly.
    #[test]
    fn eigenvalues_match_direct_svd_of_window() {
        let (len, window) = (37, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let snapshots: Vec<Vec<f32>> =
            (0..13).map(|_| (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let mut gram = RollingGram::new(window, len);
        for t in 1..snapshots.len() {
            gram.push_difference(&snapshots[t], &snapshots[t - 1]);
            let w = t.min(window);
            let d = Mat::from_fn(len, w, |i, j| {
                let s = t - w + 1 + j;
                snapshots[s][i] as f64 - snapshots[s - 1][i] as f64
            });
            let singular = d.singular_values().unwrap(); // descending
            let eig = gram.eigenvalues();
            assert_eq!(eig.len(), w);
            for (e, s) in eig.iter().zip(&singular) {
                assert_relative_eq!(*e, s * s, max_relative = 1e-10, epsilon = 1e-12);
            }
        }
    }

    #[test]
    fn row_handles_short_windows() {
        let mut gram = RollingGram::new(20, 3);
        assert!(gram.row().sigma.iter().all(|s| s.is_nan()));
        gram.push_difference(&[1.0, 0.0, 0.0], &[0.0; 3]);
        let row = gram.row();
        assert_relative_eq!(row.sigma[0], 1.0);
        assert!(row.sigma[1].is_nan() && row.gap23.is_nan());
    }

    #[test]
    fn gap23_rules() {
        assert_eq!(gap23(4.0, 2.0), 2.0);
        assert!(gap23(4.0, 0.0).is_nan());
        assert!(gap23(4.0, -1e-20).is_nan());
        assert!(gap23(f64::NAN, 1.0).is_nan());
    }
}
