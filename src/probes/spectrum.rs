//! The rolling update spectrum (docs/methods.md, "Update spectrum").
//!
//! The window holds the last `min(Wn, t)` updates Δ_s = vec(θ_s − θ_{s−1}),
//! each the exact f64 difference of two f32 parameter snapshots (kept as
//! those snapshots, and differenced as they are read). Their Gram
//! DᵀD (w × w) is kept in f64 and updated incrementally: a new update costs
//! one row of w canonical dot products, made in one pass over the window. σ_k is the k-th largest eigenvalue
//! of that Gram, by the cyclic Jacobi method (docs/methods.md, "Numerics scheme").
//! With [`GramPrecision::F32`] the updates are f32 differences and the Gram
//! is accumulated in f32, as the paper's code computes it (`D.t() @ D` on
//! float32 tensors).

use serde::{Deserialize, Serialize};

use crate::numerics::eigen::symmetric_eigenvalues;
use crate::numerics::{Update, update_dots};

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

/// In which precision the window's updates and Gram are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GramPrecision {
    /// Exact f64 differences, Gram in f64 (lockin's default).
    #[default]
    F64,
    /// f32 differences and an f32 Gram, as the paper's code: its rounding
    /// sets a floor under the small eigenvalues.
    F32,
}

impl GramPrecision {
    /// Whether this is the default (left out of a spec's JSON, so cache keys
    /// of f64 runs do not change).
    pub fn is_f64(&self) -> bool {
        *self == GramPrecision::F64
    }
}

/// A window of the last `window` updates and their f64 Gram. The updates
/// are kept as the `window + 1` f32 snapshots θ they are the differences
/// of, in a ring, and differenced as the Gram's dots read them: the same
/// values, in half the bytes of f64 differences (docs/performance.md,
/// "The window as snapshots").
#[derive(Clone, Debug)]
pub struct RollingGram {
    window: usize,
    precision: GramPrecision,
    /// The ring of snapshots; `newest` is the last θ.
    snapshots: Vec<Vec<f32>>,
    newest: usize,
    /// Per update slot, the snapshots (after, before) of its update.
    updates: Vec<(usize, usize)>,
    gram: Vec<f64>,
    next: usize,
    filled: usize,
}

impl RollingGram {
    /// An empty window of `window` updates from θ = `start`, in f64.
    pub fn new(window: usize, start: &[f32]) -> Self {
        Self::with_precision(window, start, GramPrecision::F64)
    }

    /// An empty window of `window` updates from θ = `start`, in `precision`.
    pub fn with_precision(window: usize, start: &[f32], precision: GramPrecision) -> Self {
        assert!(window > 0, "window must hold at least one update");
        let mut snapshots = vec![Vec::new(); window + 1];
        snapshots[0] = start.to_vec();
        Self {
            window,
            precision,
            snapshots,
            newest: 0,
            updates: vec![(0, 0); window],
            gram: vec![0.0; window * window],
            next: 0,
            filled: 0,
        }
    }

    /// Push the update θ − θ_prev (differenced in the Gram's precision),
    /// evicting the oldest when the window is full. The snapshot it
    /// overwrites is then the oldest update's `before`, which no other
    /// update reads (before, one no update has used).
    pub fn push(&mut self, theta: &[f32]) {
        let (slot, after) = (self.next, (self.newest + 1) % (self.window + 1));
        let snapshot = &mut self.snapshots[after];
        snapshot.clear();
        snapshot.extend_from_slice(theta);
        self.updates[slot] = (after, self.newest);
        self.newest = after;
        self.filled = (self.filled + 1).min(self.window);
        let update =
            |(after, before): (usize, usize)| Update { after: &self.snapshots[after], before: &self.snapshots[before] };
        let others: Vec<Update<'_>> = self.updates[..self.filled].iter().map(|&u| update(u)).collect();
        let x = update(self.updates[slot]);
        let row: Vec<f64> = match self.precision {
            GramPrecision::F64 => update_dots(x, &others, |a, b| a as f64 - b as f64),
            GramPrecision::F32 => update_dots(x, &others, |a, b| a - b).into_iter().map(f64::from).collect(),
        };
        for (other, dot) in row.into_iter().enumerate() {
            self.gram[slot * self.window + other] = dot;
            self.gram[other * self.window + slot] = dot;
        }
        self.next = (slot + 1) % self.window;
    }

    /// The last θ pushed (or the start): the snapshot every update so far ends at.
    pub fn newest(&self) -> &[f32] {
        &self.snapshots[self.newest]
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

    /// After many pushes (wrapping the rings of snapshots and updates), the
    /// eigenvalues equal the squared singular values of the window matrix D
    /// built directly: windows of 1, 2 and 5.
    #[rstest::rstest]
    fn eigenvalues_match_direct_svd_of_window(#[values(1, 2, 5)] window: usize) {
        let len = 37;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let snapshots: Vec<Vec<f32>> =
            (0..13).map(|_| (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let mut gram = RollingGram::new(window, &snapshots[0]);
        for t in 1..snapshots.len() {
            gram.push(&snapshots[t]);
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

    /// The f32 window (`gram: f32`) tracks the f64 one to f32 rounding: its
    /// large eigenvalues agree to ~1e-6, the small ones only to ~1e-7 of the largest.
    #[test]
    fn an_f32_gram_agrees_to_f32_rounding() {
        let (len, window) = (4096, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let snapshots: Vec<Vec<f32>> =
            (0..8).map(|_| (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let mut exact = RollingGram::new(window, &snapshots[0]);
        let mut single = RollingGram::with_precision(window, &snapshots[0], GramPrecision::F32);
        for theta in &snapshots[1..] {
            exact.push(theta);
            single.push(theta);
        }
        let (e, s) = (exact.eigenvalues(), single.eigenvalues());
        assert_relative_eq!(e[0], s[0], max_relative = 1e-5);
        for (a, b) in e.iter().zip(&s) {
            assert!((a - b).abs() <= 1e-5 * e[0], "{a} vs {b}");
        }
        assert_ne!(e, s, "the f32 Gram is not the f64 one");
    }

    #[test]
    fn row_handles_short_windows() {
        let mut gram = RollingGram::new(20, &[0.0; 3]);
        assert!(gram.row().sigma.iter().all(|s| s.is_nan()));
        gram.push(&[1.0, 0.0, 0.0]);
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
