//! The test pass of an epoch, shared by its two lanes (docs/methods.md,
//! "Cost"): the test pairs in blocks of [`BLOCK_ROWS`], each block's
//! features, outputs and residual made at once by whichever lane takes it
//! next. The test set is the larger part of the work where the training
//! fraction is small (at M = 127, p = 0.1, nine test pairs for every
//! training pair), so one lane alone would leave the other idle.
//!
//! A block's rows are the same chains whichever lane computes them (the
//! canonical product is row by row), and the loss is the canonical dot
//! product of the whole residual in pair order, so the evaluation has the
//! bits of [`super::gradient::evaluate_host`] on the whole set.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::data::PairSet;
use crate::metrics::Evaluation;
use crate::model::{ModelShape, TwoLayer};
use crate::numerics::matmul;

use super::gradient::{correct_predictions, evaluation_from, residual_host};

/// Test pairs per block: a multiple of every register block's rows (6, 8,
/// 12) and of the product's row group, and [n, K] features of ≈ 2 MB at
/// K = 2048. It sets the speed only, never a bit.
const BLOCK_ROWS: usize = 288;

/// A computed block: its residual and its number of correct predictions.
struct BlockResult {
    residual: Vec<f32>,
    correct: usize,
}

/// One epoch's test pass at θ_t, its blocks computed in turn by the lanes.
pub struct TestPass<'a> {
    shape: ModelShape,
    w_t: Vec<f32>,
    v_t: Vec<f32>,
    pairs: &'a PairSet,
    next_block: AtomicUsize,
    /// Each block's result, once a lane has computed it.
    done: Vec<OnceLock<BlockResult>>,
}

impl<'a> TestPass<'a> {
    /// The test pass of `theta` on `pairs`, no block taken yet.
    pub fn new(theta: &TwoLayer, pairs: &'a PairSet) -> Self {
        let (w_t, v_t) = theta.host_w_t_and_v_t();
        let blocks = pairs.len().div_ceil(BLOCK_ROWS);
        Self {
            shape: theta.shape(),
            w_t,
            v_t,
            pairs,
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
        let (m, k) = (self.shape.modulus, self.shape.width);
        let (a, b) = (&self.pairs.a[rows.clone()], &self.pairs.b[rows.clone()]);
        let features = self.shape.features_of(&self.w_t, a, b);
        let output = matmul(&features, &self.v_t, rows.len(), k, m);
        let labels = &self.pairs.labels[rows];
        let result = BlockResult {
            residual: residual_host(&output, labels, m),
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
        let mut residual = Vec::with_capacity(self.pairs.len() * self.shape.modulus);
        let mut correct = 0;
        for block in self.done.iter().map(|b| b.get().expect("every block is done")) {
            residual.extend_from_slice(&block.residual);
            correct += block.correct;
        }
        evaluation_from(&residual, correct, self.pairs.len())
    }
}
