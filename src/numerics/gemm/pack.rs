//! Packing for the canonical product (docs/methods.md, "Numerics
//! scheme"): B's k-block and A's row groups copied into the order the
//! register blocks read them, and the next group's A prefetched while
//! this one computes. Copies only: no chain changes.

use std::ops::Range;
use std::sync::OnceLock;

use super::{Block, Element, KC, MC, Problem};

/// B (k×n, row-major) shared by several products A·B with a row-major A
/// (the test pass's blocks and ∂L/∂F's all multiply by V): its k-blocks
/// are packed by the first product and read as packed by the others, which
/// may run on other threads. Packing copies; it changes no chain.
pub struct SharedB<'b, T> {
    b: Operand<'b, T>,
    pub(super) k: usize,
    pub(super) n: usize,
    /// Every k-block's panels, with the column blocks and k-block length
    /// they were packed for.
    packed: OnceLock<Packed<T>>,
}

impl<'b, T: Element> SharedB<'b, T> {
    /// B, k×n row-major, borrowed, not packed yet.
    pub fn new(b: &'b [T], k: usize, n: usize) -> Self {
        Self::of(Operand::Borrowed(b), k, n)
    }

    /// B, k×n row-major, owned, not packed yet.
    pub fn owned(b: Vec<T>, k: usize, n: usize) -> Self {
        Self::of(Operand::Owned(b), k, n)
    }

    fn of(b: Operand<'b, T>, k: usize, n: usize) -> Self {
        assert_eq!(b.slice().len(), k * n, "SharedB: B is k × n");
        Self { b, k, n, packed: OnceLock::new() }
    }

    /// B itself.
    pub(super) fn b(&self) -> &[T] {
        self.b.slice()
    }

    /// The panels of every k-block of `p`'s B, packed on the first call
    /// for `blocks` and k-blocks of `kc_max`; every later call must block
    /// B alike (the same n and kernel path), which is asserted.
    pub(super) fn panels(
        &self,
        p: &Problem<'_, T>,
        blocks: &[(usize, usize)],
        kc_max: usize,
        block_at: &dyn Fn(usize) -> Block,
    ) -> &[Vec<T>] {
        assert!(std::ptr::eq(p.b, self.b()) && (p.k, p.n) == (self.k, self.n), "SharedB: the product's B is this B");
        let packed = self.packed.get_or_init(|| {
            let pack = |k0| {
                let mut panel = Vec::new();
                pack_panel(p, &block_at(k0), blocks, &mut panel);
                panel
            };
            Packed { blocks: blocks.to_vec(), kc_max, panels: (0..self.k).step_by(kc_max).map(pack).collect() }
        });
        assert!(packed.blocks == blocks && packed.kc_max == kc_max, "SharedB: products that share B block it alike");
        &packed.panels
    }
}

/// A [`SharedB`]'s panels and the blocking they were packed for.
struct Packed<T> {
    blocks: Vec<(usize, usize)>,
    kc_max: usize,
    panels: Vec<Vec<T>>,
}

/// A [`SharedB`]'s B, borrowed or owned.
enum Operand<'b, T> {
    Borrowed(&'b [T]),
    Owned(Vec<T>),
}

impl<T> Operand<'_, T> {
    fn slice(&self) -> &[T] {
        match self {
            Operand::Borrowed(b) => b,
            Operand::Owned(b) => b,
        }
    }
}

/// Copy rows k0..k0+kc of B (k×n) into `packed`, one kc × width block of
/// columns after another (the block from column j at j·kc, for each of
/// `blocks`, which start at column 0 and follow each other), zero beyond
/// column n: a register block then reads its B entries in order. B given
/// as Bᵀ is transposed into it in tiles ([`transpose_into`]). Every
/// entry is written, so `packed` is not cleared first.
#[inline(always)]
pub(super) fn pack_panel<T: Element>(
    p: &Problem<'_, T>,
    block: &Block,
    blocks: &[(usize, usize)],
    packed: &mut Vec<T>,
) {
    let (b, k, n) = (p.b, p.k, p.n);
    let end = blocks.last().map_or(0, |&(j, width)| j + width);
    packed.resize(block.kc * end, T::default());
    for &(j, width) in blocks {
        let filled = width.min(n - j);
        let chunk = &mut packed[j * block.kc..][..block.kc * width];
        if filled < width {
            chunk.fill(T::default());
        }
        if p.b_transposed {
            let column = |c: usize| &b[(j + c) * k + block.k0..][..block.kc];
            transpose_into(chunk, width, (block.kc, filled), column);
        } else {
            for (dst, src) in chunk.chunks_exact_mut(width).zip(b[block.k0 * n + j..].chunks(n)) {
                dst[..filled].copy_from_slice(&src[..filled]);
            }
        }
    }
}

/// Write `column(c)` (kc entries each, for c < filled) as column c of
/// `rows` (kc rows of `width` entries): B given as Bᵀ into its panel. In
/// tiles of 16 × 16, each column's run of 16 (a cache line of f32, two of f64) read
/// whole and written as 16 rows' entries, so that the tile stays in
/// registers and L1 (measured: docs/performance.md, "ρ's Gram").
#[inline(always)]
fn transpose_into<'c, T: Element>(
    rows: &mut [T],
    width: usize,
    (kc, filled): (usize, usize),
    column: impl Fn(usize) -> &'c [T],
) {
    const TILE: usize = 16;
    for c0 in (0..filled).step_by(TILE) {
        for q0 in (0..kc).step_by(TILE) {
            let qn = TILE.min(kc - q0);
            if qn == TILE && c0 + TILE <= filled {
                let mut tile = [[T::default(); TILE]; TILE];
                for (c, run) in tile.iter_mut().enumerate() {
                    run.copy_from_slice(&column(c0 + c)[q0..][..TILE]);
                }
                for q in 0..TILE {
                    let row = &mut rows[(q0 + q) * width + c0..][..TILE];
                    for (entry, run) in row.iter_mut().zip(&tile) {
                        *entry = run[q];
                    }
                }
            } else {
                for c in c0..filled.min(c0 + TILE) {
                    for (q, &entry) in column(c)[q0..q0 + qn].iter().enumerate() {
                        rows[(q0 + q) * width + c] = entry;
                    }
                }
            }
        }
    }
}

/// Copy rows `group` of A, entries k0..k0+kc, into `packed` as consecutive
/// row panels, R rows each while they fit, then 4, 2 and 1 (the heights
/// [`super::drive`] sweeps with): the panel of h rows starting at row i sits at
/// (i − group.start)·kc and holds entry (i + r, k0 + q) at q·h + r, so a
/// register block reads its A entries in order.
#[inline(always)]
pub(super) fn pack_rows<T: Element, const R: usize>(
    p: &Problem<'_, T>,
    block: &Block,
    group: Range<usize>,
    packed: &mut Vec<T>,
) {
    // Every entry is packed below: a reused buffer needs no clearing.
    packed.resize(group.len() * block.kc, T::default());
    if p.a_strides.1 != 1 {
        return pack_transposed::<T, R>(p, block, group, packed);
    }
    let mut i = group.start;
    i = pack_panels::<T, R>(p, block, &group, i, packed);
    i = pack_panels::<T, 4>(p, block, &group, i, packed);
    i = pack_panels::<T, 2>(p, block, &group, i, packed);
    pack_panels::<T, 1>(p, block, &group, i, packed);
}

/// [`pack_rows`]' panels of H rows from row `i` while they fit, from a
/// row-major A (its rows' entries side by side; this also serves Aᵀ given
/// with one column); returns the first row left.
#[inline(always)]
fn pack_panels<T: Element, const H: usize>(
    p: &Problem<'_, T>,
    block: &Block,
    group: &Range<usize>,
    mut i: usize,
    packed: &mut [T],
) -> usize {
    let s_row = p.a_strides.0;
    while i + H <= group.end {
        let panel = &mut packed[(i - group.start) * block.kc..][..H * block.kc];
        let rows: [&[T]; H] = std::array::from_fn(|r| &p.a[(i + r) * s_row + block.k0..][..block.kc]);
        for (q, dst) in panel.chunks_exact_mut(H).enumerate() {
            for (d, row) in dst.iter_mut().zip(&rows) {
                *d = row[q];
            }
        }
        i += H;
    }
    i
}

/// [`pack_rows`] for A given as Aᵀ (each k's entries side by side), k by
/// k: each k's run over the group is read once, whole, and dealt to the
/// panels (R entries moved as one array). Panel by panel, each panel would
/// come back to every k's cache lines, which the other k's, 8 KiB apart in
/// ∂L/∂V's Fᵀ, evict from L1 in between.
#[inline(always)]
fn pack_transposed<T: Element, const R: usize>(
    p: &Problem<'_, T>,
    block: &Block,
    group: Range<usize>,
    packed: &mut [T],
) {
    let (kc, full) = (block.kc, group.len() / R * R);
    // The panels after the R-row ones: (first row in the group, height);
    // at most 4 + 4 + 2 + 1 rows for R = 12.
    let (mut tail, mut count, mut first) = ([(0, 0); 4], 0, full);
    for h in [4, 2, 1] {
        while first + h <= group.len() {
            (tail[count], count, first) = ((first, h), count + 1, first + h);
        }
    }
    for q in 0..kc {
        let run = &p.a[(block.k0 + q) * p.a_strides.1 + group.start..][..group.len()];
        for j in 0..full / R {
            let rows: [T; R] = run[j * R..][..R].try_into().expect("R entries");
            let panel: &mut [T; R] = (&mut packed[j * R * kc + q * R..][..R]).try_into().expect("R entries");
            *panel = rows;
        }
        for &(o, h) in &tail[..count] {
            packed[o * kc + q * h..][..h].copy_from_slice(&run[o..o + h]);
        }
    }
}

/// The row group [`super::drive`] packs after rows g.. of the k-block
/// from k0: (its k-block's first k, its rows), or none after the last.
/// Only a packed A is looked ahead, and a packed A always takes k-blocks
/// of [`KC`].
pub(super) fn next_group<T>(p: &Problem<'_, T>, k0: usize, g: usize) -> Option<(usize, Range<usize>)> {
    let (next_k0, next_g) = if g + MC < p.rows.end { (k0, g + MC) } else { (k0 + KC, p.rows.start) };
    (next_k0 < p.k).then(|| (next_k0, next_g..(next_g + MC).min(p.rows.end)))
}

/// The cache lines of the next row group's A (the same k-block's next
/// group, or the next k-block's first), prefetched into L2 a few after
/// each register block of this group's sweep, so that packing the next
/// group reads L2 instead of memory while this one computes. Packing A
/// costs a pass over it; not overlapped with the FMAs, it took a fifth of
/// ∂L/∂V's product (docs/performance.md, "Narrow products read A in place").
pub(super) struct Lookahead<T> {
    base: *const T,
    /// Runs of A the next group packs (each k's entries where A is given
    /// as Aᵀ, each row's otherwise): how many, how far apart, and lines each.
    runs: usize,
    run_stride: usize,
    lines_per_run: usize,
    /// Lines prefetched after each register block, and the next one's index.
    per_call: usize,
    next: std::cell::Cell<usize>,
}

impl<T> Lookahead<T> {
    /// Entries of T per 64-byte cache line.
    const PER_LINE: usize = 64 / std::mem::size_of::<T>();

    /// Nothing to prefetch.
    pub(super) fn none() -> Self {
        Self { base: std::ptr::null(), runs: 0, run_stride: 0, lines_per_run: 1, per_call: 0, next: 0.into() }
    }

    /// The group after rows g.. of the k-block from k0, spread over `calls`
    /// register blocks; none for a lower triangle, which skips blocks, so
    /// that its calls are not known in advance.
    pub(super) fn after(p: &Problem<'_, T>, k0: usize, g: usize, calls: usize) -> Self {
        let next = next_group(p, k0, g).filter(|_| !p.lower);
        let Some((next_k0, next)) = next else { return Self::none() };
        let (next_g, rows, kc) = (next.start, next.len(), KC.min(p.k - next_k0));
        let (s_row, s_col) = p.a_strides;
        let (runs, run_stride, run_len) = if s_col == 1 { (rows, s_row, kc) } else { (kc, s_col, rows) };
        let lines_per_run = run_len.div_ceil(Self::PER_LINE) + 1;
        Self {
            base: p.a.as_ptr().wrapping_add(next_g * s_row + next_k0 * s_col),
            runs,
            run_stride,
            lines_per_run,
            per_call: (runs * lines_per_run).div_ceil(calls.max(1)),
            next: 0.into(),
        }
    }

    /// Prefetch the next few lines.
    #[inline(always)]
    pub(super) fn step(&self) {
        let (start, total) = (self.next.get(), self.runs * self.lines_per_run);
        let end = (start + self.per_call).min(total);
        for t in start..end {
            let (run, line) = (t / self.lines_per_run, t % self.lines_per_run);
            prefetch(self.base.wrapping_add(run * self.run_stride + line * Self::PER_LINE), Level::L2);
        }
        self.next.set(end);
    }
}

/// The cache level a [`prefetch`] fills.
#[derive(Clone, Copy)]
pub(super) enum Level {
    L1,
    L2,
}

/// Ask the CPU to bring the cache line of `address` into `level` (a hint:
/// nothing elsewhere than on x86-64).
#[inline(always)]
pub(super) fn prefetch<T>(address: *const T, level: Level) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline, and a prefetch is a hint
    // that accepts any address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _MM_HINT_T1, _mm_prefetch};
        match level {
            Level::L1 => _mm_prefetch::<_MM_HINT_T0>(address as *const i8),
            Level::L2 => _mm_prefetch::<_MM_HINT_T1>(address as *const i8),
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (address, level);
}

#[cfg(test)]
mod tests {
    use super::super::{Element, KernelPath, matmul};
    use super::*;

    /// Row blocks of A times one [`SharedB`], on every path this CPU runs,
    /// give the bits of each block's own product: A packed (600 columns:
    /// more column blocks than are read in place, on every path), A in
    /// place (71), several k-blocks either way (k > KC, k > 1024).
    #[test]
    fn a_shared_b_gives_each_products_bits() {
        let value = |i: usize| ((i * 7919 % 1013) as f32 - 506.0) / 97.0;
        for (k, n) in [(71, 600), (200, 600), (1100, 71), (64, 71)] {
            let (a, b): (Vec<f32>, Vec<f32>) =
                ((0..50 * k).map(value).collect(), (0..k * n).map(|i| value(i + 3)).collect());
            for path in KernelPath::ALL.into_iter().filter(|p| p.supported()) {
                let shared = SharedB::new(&b, k, n);
                for rows in [0..13, 13..50, 0..50] {
                    let a = &a[rows.start * k..rows.end * k];
                    let m = rows.len();
                    let mut c = vec![0.0f32; m * n];
                    let p = Problem {
                        a,
                        a_strides: (k, 1),
                        b: &b,
                        b_transposed: false,
                        k,
                        n,
                        rows: 0..m,
                        lower: false,
                        shared_b: Some(&shared),
                    };
                    f32::product(path, &p, &mut c);
                    let mut own = vec![0.0f32; m * n];
                    f32::product(path, &Problem { shared_b: None, ..p }, &mut own);
                    assert_eq!(c, own, "{path:?} k = {k}, n = {n}, rows {rows:?}");
                    if path == KernelPath::current() {
                        assert_eq!(c, matmul(a, &b, m, k, n));
                    }
                }
            }
        }
    }
}
