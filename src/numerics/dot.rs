//! The eight-lane sums of canonical arithmetic (docs/methods.md, "Numerics
//! scheme"): lane l sums the products at indices ≡ l (mod 8) in order, the
//! lanes are added 0..8 in order, then the tail. Many dots with one vector
//! go in one pass ([`dots`]), and a window's updates may be read as the
//! pairs of f32 snapshots they are the differences of ([`update_dots`]).

use std::ops::Range;

/// Dot product in f64 (of f32 or f64 entries) with eight lanes written into
/// the code: lane l sums the products at indices ≡ l (mod 8) in order, the
/// lanes are added 0..8 in order, then the tail. No FMA: a product rounds,
/// then the add rounds, on every ISA.
pub fn dot<X: Copy + Into<f64>, Y: Copy + Into<f64>>(x: &[X], y: &[Y]) -> f64 {
    let mut lanes = Lanes::<f64>::default();
    lanes.add(x, y);
    lanes.finish(x, y)
}

/// [`dot`] in f32, for the window Gram "as the paper's code computes it"
/// (docs/methods.md, "Update spectrum", `gram: f32`): the same 8 fixed
/// lanes, each product and add rounded to f32.
pub fn dot_f32(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = Lanes::<f32>::default();
    lanes.add(x, y);
    lanes.finish(x, y)
}

/// The [`dot`] (f64) or [`dot_f32`] (f32) of `x` with each of `others`,
/// in one pass over them all, blocks of [`DOTS_BLOCK`] entries at a time:
/// `x`, read once per block rather than once per product, stays in L1.
/// Each result is the bits of its own dot, since each lane takes its
/// products in the same order.
pub fn dots<T: LaneSum>(x: &[T], others: &[&[T]]) -> Vec<T> {
    let mut lanes = vec![Lanes::<T>::default(); others.len()];
    let whole = x.len() / 8 * 8;
    for start in (0..whole).step_by(DOTS_BLOCK) {
        let block = start..(start + DOTS_BLOCK).min(whole);
        for (lanes, other) in lanes.iter_mut().zip(others) {
            lanes.add(&x[block.clone()], &other[block.clone()]);
        }
    }
    lanes.into_iter().zip(others).map(|(lanes, other)| lanes.finish(x, other)).collect()
}

/// Entries per block of [`dots`] (a multiple of 8): 16 KiB of f64.
const DOTS_BLOCK: usize = 2048;

/// One update θ₁ − θ₀, read as its two f32 snapshots: `after` (θ₁) and
/// `before` (θ₀), of equal length.
#[derive(Clone, Copy, Debug)]
pub struct Update<'a> {
    pub after: &'a [f32],
    pub before: &'a [f32],
}

/// The [`dots`] of the update `x` with each of `others`, where each
/// update's entries are made by `difference` from its snapshots as the
/// lanes read them (exact in f64, `a as f64 − b as f64`, or rounded to f32,
/// `a − b`): the bits of [`dots`] on the differences stored, while reading
/// 8 bytes per entry of an update as its two f32 snapshots, which
/// neighbouring updates of a window share (4 bytes per entry and update),
/// rather than 8 as its f64 differences (docs/performance.md, "The window
/// as snapshots"). The others go four at a time, so that four sets of lanes
/// add side by side, where one set waits on its own adds.
/// Compiled for the widest vectors the CPU has ([`super::on_widest`]).
pub fn update_dots<S: LaneSum>(
    x: Update<'_>,
    others: &[Update<'_>],
    difference: impl Fn(f32, f32) -> S + Copy,
) -> Vec<S> {
    super::on_widest(
        #[inline(always)]
        || update_dots_with(x, others, difference),
    )
}

/// [`update_dots`], inlined into the caller's instruction set.
#[inline(always)]
fn update_dots_with<S: LaneSum>(
    x: Update<'_>,
    others: &[Update<'_>],
    difference: impl Fn(f32, f32) -> S + Copy,
) -> Vec<S> {
    let len = x.after.len();
    assert!(x.before.len() == len && others.iter().all(|o| o.after.len() == len && o.before.len() == len));
    let whole = len / 8 * 8;
    let mut lanes = vec![Lanes::<S>::default(); others.len()];
    let mut x_block = vec![S::default(); DOTS_BLOCK.min(whole)];
    let split = others.len() / 4 * 4;
    for start in (0..whole).step_by(DOTS_BLOCK) {
        let block = start..(start + DOTS_BLOCK).min(whole);
        let xs = &mut x_block[..block.len()];
        for ((d, &a), &b) in xs.iter_mut().zip(&x.after[block.clone()]).zip(&x.before[block.clone()]) {
            *d = difference(a, b);
        }
        let (fours, ones) = lanes.split_at_mut(split);
        for (lanes, others) in fours.chunks_exact_mut(4).zip(others[..split].chunks_exact(4)) {
            add_updates::<S, 4>(lanes, xs, others, block.clone(), difference);
        }
        for (lanes, other) in ones.iter_mut().zip(&others[split..]) {
            add_updates::<S, 1>(
                std::slice::from_mut(lanes),
                xs,
                std::slice::from_ref(other),
                block.clone(),
                difference,
            );
        }
    }
    let x_tail: Vec<S> = (whole..len).map(|i| difference(x.after[i], x.before[i])).collect();
    let tail =
        |o: &Update<'_>| S::total(x_tail.iter().zip(whole..len).map(|(&a, i)| a * difference(o.after[i], o.before[i])));
    lanes.into_iter().zip(others).map(|(lanes, other)| lanes.finish_with(tail(other))).collect()
}

/// Add to N sets of lanes the products of `x` (the block's entries of the
/// update, made) with the entries of N updates over `block`.
#[inline(always)]
fn add_updates<S: LaneSum, const N: usize>(
    lanes: &mut [Lanes<S>],
    x: &[S],
    others: &[Update<'_>],
    block: Range<usize>,
    difference: impl Fn(f32, f32) -> S,
) {
    let after: [&[f32]; N] = std::array::from_fn(|n| &others[n].after[block.clone()]);
    let before: [&[f32]; N] = std::array::from_fn(|n| &others[n].before[block.clone()]);
    let mut sums: [[S; 8]; N] = std::array::from_fn(|n| lanes[n].0);
    for (c, xc) in x.chunks_exact(8).enumerate() {
        for n in 0..N {
            let (a, b) = (&after[n][c * 8..][..8], &before[n][c * 8..][..8]);
            for k in 0..8 {
                sums[n][k] = sums[n][k] + xc[k] * difference(a[k], b[k]);
            }
        }
    }
    for (lanes, sums) in lanes.iter_mut().zip(sums) {
        lanes.0 = sums;
    }
}

/// A type the eight-lane dot sums in: f64 (with entries widened into it)
/// and f32.
pub trait LaneSum: Copy + Default + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self> {
    /// The sum of `terms` in order, from the start [`dot`] (std's `Sum`)
    /// or [`dot_f32`] (+0) has always used: the sign of an all-zero sum
    /// depends on it.
    fn total(terms: impl Iterator<Item = Self>) -> Self;
}

impl LaneSum for f64 {
    fn total(terms: impl Iterator<Item = Self>) -> Self {
        terms.sum()
    }
}

impl LaneSum for f32 {
    fn total(terms: impl Iterator<Item = Self>) -> Self {
        terms.fold(0.0, |s, t| s + t)
    }
}

/// The eight lanes of [`dot`] and [`dot_f32`].
#[derive(Clone, Copy, Default)]
struct Lanes<S>([S; 8]);

impl<S: LaneSum> Lanes<S> {
    /// Add the products of the whole chunks of 8 (the tail is left to `finish`).
    #[inline(always)]
    fn add<X: Copy + Into<S>, Y: Copy + Into<S>>(&mut self, x: &[X], y: &[Y]) {
        for (a, b) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
            for k in 0..8 {
                self.0[k] = self.0[k] + a[k].into() * b[k].into();
            }
        }
    }

    /// The lanes added 0..8 in order, then the sum of the products past the
    /// last whole chunk of 8 of `x` and `y`.
    fn finish<X: Copy + Into<S>, Y: Copy + Into<S>>(self, x: &[X], y: &[Y]) -> S {
        let whole = x.len() / 8 * 8;
        self.finish_with(S::total(x[whole..].iter().zip(&y[whole..]).map(|(&a, &b)| a.into() * b.into())))
    }

    /// The lanes added 0..8 in order, then `tail`.
    fn finish_with(self, tail: S) -> S {
        S::total(self.0.into_iter()) + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_handles_remainders() {
        let x: Vec<f64> = (0..19).map(|i| i as f64).collect();
        let expected: f64 = x.iter().map(|v| v * v).sum();
        assert_eq!(dot(&x, &x), expected);
    }

    /// One pass over many gives each dot's own bits, whole blocks, a
    /// part block and a tail (2048 + 1000 + 5 entries), in f64 and f32.
    #[test]
    fn dots_are_each_dot() {
        let entry = |i: usize, s: usize| ((i * 7919 + s * 104_729) % 1000) as f64 / 997.0 - 0.5;
        let x: Vec<f64> = (0..3053).map(|i| entry(i, 0)).collect();
        let others: Vec<Vec<f64>> = (1..5).map(|s| (0..3053).map(|i| entry(i, s)).collect()).collect();
        let views: Vec<&[f64]> = others.iter().map(Vec::as_slice).collect();
        let expected: Vec<f64> = others.iter().map(|o| dot(&x, o)).collect();
        assert_eq!(dots(&x, &views), expected);
        let narrow = |v: &[f64]| v.iter().map(|&e| e as f32).collect::<Vec<f32>>();
        let (x32, others32): (Vec<f32>, Vec<Vec<f32>>) = (narrow(&x), others.iter().map(|o| narrow(o)).collect());
        let views32: Vec<&[f32]> = others32.iter().map(Vec::as_slice).collect();
        assert_eq!(dots(&x32, &views32), others32.iter().map(|o| dot_f32(&x32, o)).collect::<Vec<f32>>());
    }

    /// The dots of updates read as snapshot pairs are the dots of their
    /// stored differences, bit for bit: f64 and f32, 1 to 7 others (fours
    /// and ones), the update itself the last of them as in a window, whole
    /// blocks, a part block and a tail.
    #[test]
    fn update_dots_are_the_dots_of_the_differences() {
        let entry = |i: usize, s: usize| (((i * 7919 + s * 104_729) % 1000) as f32 / 997.0 - 0.5) * (1.0 + s as f32);
        let snapshots: Vec<Vec<f32>> = (0..8).map(|s| (0..3053).map(|i| entry(i, s)).collect()).collect();
        let update = |s: usize| Update { after: &snapshots[s + 1], before: &snapshots[s] };
        let stored64: Vec<Vec<f64>> =
            (0..7).map(|s| (0..3053).map(|i| snapshots[s + 1][i] as f64 - snapshots[s][i] as f64).collect()).collect();
        let stored32: Vec<Vec<f32>> =
            (0..7).map(|s| (0..3053).map(|i| snapshots[s + 1][i] - snapshots[s][i]).collect()).collect();
        for count in 1..=7 {
            let others: Vec<Update<'_>> = (0..count).map(update).collect();
            let views64: Vec<&[f64]> = stored64[..count].iter().map(Vec::as_slice).collect();
            let views32: Vec<&[f32]> = stored32[..count].iter().map(Vec::as_slice).collect();
            let x = update(count - 1);
            let (x64, x32) = (&stored64[count - 1], &stored32[count - 1]);
            assert_eq!(update_dots(x, &others, |a, b| a as f64 - b as f64), dots(x64, &views64), "f64, {count}");
            assert_eq!(update_dots(x, &others, |a, b| a - b), dots(x32, &views32), "f32, {count}");
        }
    }
}
