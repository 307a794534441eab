//! The test pass of an epoch, shared by its two lanes (docs/methods.md,
//! "Cost"): the test pairs in blocks of [`BLOCK_ROWS`], each block's
//! features, outputs and residual made at once by whichever lane takes it
//! next. The test set is the larger part of the work where the training
//! fraction is small (at M = 127, p = 0.1, nine test pairs for every
//! training pair), so one lane alone would leave the other idle.
//!
//! A block's rows are the same chains whichever lane computes them (the
//! canonical product is row by row), and the loss is the canonical f64 sum
//! of the whole set's loss terms in pair order (⟨R, R⟩ for the MSE, the ℓ
//! of each pair for cross-entropy), so the evaluation has the bits of
//! [`Loss::residual_and_evaluation`] on the whole set.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::data::PairSet;
use crate::metrics::Evaluation;
use crate::model::{HostTheta, ModelShape};
use crate::numerics::{SharedB, matmul_shared};

use super::gradient::correct_predictions;
use super::loss::Loss;

/// Test pairs per block: a multiple of every register block's rows (6, 8,
/// 12) and of the product's row group, and [n, K] features of ≈ 2 MB at
/// K = 2048. It sets the speed only, never a bit.
pub(crate) const BLOCK_ROWS: usize = 288;

/// A computed block: its loss terms ([`Loss::loss_terms`]: the residual
/// for the MSE) and its number of correct predictions.
struct BlockResult {
    terms: Vec<f32>,
    correct: usize,
}

/// One epoch's test pass at θ_t, its blocks computed in turn by the lanes.
pub struct TestPass<'a> {
    shape: ModelShape,
    w_t: &'a [f32],
    /// Vᵀ (K × M), packed by the first block's product for all of them.
    v_t: SharedB<'a, f32>,
    pairs: &'a PairSet,
    loss: Loss,
    next_block: AtomicUsize,
    /// Each block's result, once a lane has computed it.
    done: Vec<OnceLock<BlockResult>>,
}

impl<'a> TestPass<'a> {
    /// The test pass of the network of `shape` at θ = `theta` on `pairs`,
    /// no block taken yet.
    pub fn new(shape: ModelShape, theta: &'a HostTheta, pairs: &'a PairSet, loss: Loss) -> Self {
        let blocks = pairs.len().div_ceil(BLOCK_ROWS);
        Self {
            shape,
            w_t: &theta.w_t,
            v_t: SharedB::new(theta.v_t(), shape.width, shape.modulus),
            pairs,
            loss,
            next_block: AtomicUsize::new(0),
            done: (0..blocks).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Compute the next block no lane has taken; false when none is left.
    pub fn compute_next_block(&self) -> bool {
        let block = self.next_block.fetch_add(1, Ordering::Relaxed);
        let start = block * BLOCK_ROWS;
        if start >= self.pairs.len() {
            return false;
        }
        let rows = start..(start + BLOCK_ROWS).min(self.pairs.len());
        let m = self.shape.modulus;
        let (a, b) = (&self.pairs.a[rows.clone()], &self.pairs.b[rows.clone()]);
        let features = self.shape.features_of(self.w_t, a, b);
        let mut output = Vec::new();
        matmul_shared(&features, &self.v_t, rows.len(), &mut output);
        let labels = &self.pairs.labels[rows];
        let result = BlockResult {
            terms: self.loss.loss_terms(&output, labels, m),
            correct: correct_predictions(&output, labels, m),
        };
        assert!(self.done[block].set(result).is_ok(), "each block is taken once");
        true
    }

    /// Compute every block left.
    pub fn finish(&self) {
        while self.compute_next_block() {}
    }

    /// Loss and accuracy over the whole test set, once every block is done.
    pub fn evaluation(&self) -> Evaluation {
        let mut terms = Vec::with_capacity(self.pairs.len() * self.shape.modulus);
        let mut correct = 0;
        for block in self.done.iter().map(|b| b.get().expect("every block is done")) {
            terms.extend_from_slice(&block.terms);
            correct += block.correct;
        }
        self.loss.evaluation_from(&terms, correct, self.pairs.len())
    }
}
