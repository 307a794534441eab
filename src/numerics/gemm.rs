//! The canonical matrix product (docs/methods.md, "Numerics scheme"):
//! C = A·B with every entry c_ij = fma(a_i,k−1, b_k−1,j, … fma(a_i0, b_0j, 0)),
//! the FMA chain over k in index order. The kernels vectorise across the
//! columns of C (each SIMD lane holds its own entry's chain) and across
//! k-blocks reload the partial sums, so neither the vector width, nor the
//! register blocking, nor the cache blocking, nor a split of the rows over
//! threads changes a single bit. The register blocks are written with the
//! AVX-512 and AVX2 FMA intrinsics on x86-64, and as plain `mul_add` for
//! the target's default (NEON on aarch64; a software FMA on an x86-64
//! without FMA); the loops around them are shared.

use std::ops::Range;

use super::KernelPath;
pub use pack::SharedB;
use pack::{Lookahead, pack_panel, pack_rows};

mod pack;
#[cfg(target_arch = "x86_64")]
mod x86;

/// Entries of k per block: the partial sums go back to C between blocks.
const KC: usize = 192;
/// Entries of k per block where A is read in place: each row of A is then
/// read in runs of 1024 entries (4 KiB of f32) rather than 192, which the
/// hardware prefetchers follow (measured:
/// docs/performance.md, "Longer k-blocks in place").
const KC_IN_PLACE: usize = 1024;
/// Rows of A per group: MC × KC entries of a packed A stay in L2 while the
/// column blocks sweep them (a multiple of every register block's rows: 6, 8, 12).
const MC: usize = 96;

/// Column blocks up to which a row-major A is read in place rather than
/// packed: packing is a pass over A of its own, which pays only where many
/// column blocks sweep the packed panels (the Grams'), and a narrow product
/// (f32, n = 71: 3 blocks with AVX-512, 5 with AVX2) reads A in order,
/// overlapped with its FMAs (measured:
/// docs/performance.md, "Narrow products read A in place").
const IN_PLACE_BLOCKS: usize = 8;

/// A floating-point type the kernels compute in.
pub trait Element: Copy + Default + PartialEq + Send + Sync + std::fmt::Debug + 'static {
    /// a·b + c with one rounding.
    fn fma(self, b: Self, c: Self) -> Self;
    /// The product on `path` (the instantiation's register block suits the type).
    fn product(path: KernelPath, p: &Problem<'_, Self>, c: &mut [Self]);
}

/// One product: rows `rows` of A·B, where A has `k` columns (at
/// `a_strides`) and B is k×n (row-major, or given as Bᵀ, n×k row-major,
/// with `b_transposed`). With `lower`, only the entries j ≤ i are wanted
/// (others may be computed or left 0).
pub struct Problem<'a, T> {
    a: &'a [T],
    /// Distance in `a` between rows, and between columns, of A.
    a_strides: (usize, usize),
    b: &'a [T],
    b_transposed: bool,
    k: usize,
    n: usize,
    rows: Range<usize>,
    lower: bool,
    /// B's panels packed once for every product that shares B ([`SharedB`]).
    shared_b: Option<&'a SharedB<'a, T>>,
}

/// C = A·B for A m×k and B k×n, row-major; C is m×n row-major.
pub fn matmul<T: Element>(a: &[T], b: &[T], m: usize, k: usize, n: usize) -> Vec<T> {
    product_rows(Problem {
        a,
        a_strides: (k, 1),
        b,
        b_transposed: false,
        k,
        n,
        rows: 0..m,
        lower: false,
        shared_b: None,
    })
}

/// C = A·B for A m×k (row-major) and a B that other products share
/// ([`SharedB`]): B is packed by the first of them only. C is written into
/// `c` (m×n row-major), whose allocation a loop of products reuses: its
/// old entries are overwritten, never read, so it is not cleared first.
pub fn matmul_shared<T: Element>(a: &[T], b: &SharedB<'_, T>, m: usize, c: &mut Vec<T>) {
    let (k, n) = (b.k, b.n);
    product_into(
        Problem {
            a,
            a_strides: (k, 1),
            b: b.b(),
            b_transposed: false,
            k,
            n,
            rows: 0..m,
            lower: false,
            shared_b: Some(b),
        },
        c,
    );
}

/// C = Aᵀ·B for A k×m and B k×n, row-major; C is m×n row-major. The same
/// chains as `matmul` of Aᵀ (fma is symmetric in its factors), without
/// forming Aᵀ: for a tall A and a narrow B, such as Fᵀ·∂L/∂o.
pub fn matmul_tn<T: Element>(a: &[T], b: &[T], m: usize, k: usize, n: usize) -> Vec<T> {
    assert_eq!(a.len(), k * m, "matmul_tn: A is k × m");
    product_rows(Problem {
        a,
        a_strides: (1, m),
        b,
        b_transposed: false,
        k,
        n,
        rows: 0..m,
        lower: false,
        shared_b: None,
    })
}

/// Which Gram of a row-major r×c matrix X [`lower_gram_rows`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gram {
    /// X·Xᵀ (r×r): the products of X's rows.
    OfRows,
    /// Xᵀ·X (c×c): the products of X's columns.
    OfColumns,
}

/// Rows `rows` of the Gram `of` X (r×c, row-major), entries j ≤ i only
/// (the rest 0 or computed): row-major [rows.len(), side], side r or c.
/// Either transposed operand is read from X itself, as it is packed: no
/// transpose of X is formed.
pub fn lower_gram_rows<T: Element>(x: &[T], (r, c): (usize, usize), of: Gram, rows: Range<usize>) -> Vec<T> {
    assert_eq!(x.len(), r * c, "lower_gram_rows: X is {r} × {c}");
    let problem = match of {
        Gram::OfRows => {
            Problem { a: x, a_strides: (c, 1), b: x, b_transposed: true, k: c, n: r, rows, lower: true, shared_b: None }
        }
        Gram::OfColumns => Problem {
            a: x,
            a_strides: (1, c),
            b: x,
            b_transposed: false,
            k: r,
            n: c,
            rows,
            lower: true,
            shared_b: None,
        },
    };
    product_rows(problem)
}

fn product_rows<T: Element>(p: Problem<'_, T>) -> Vec<T> {
    let mut c = Vec::new();
    product_into(p, &mut c);
    c
}

/// The product into `c`, resized to rows × n. The kernels write every
/// entry in the first k-block without reading it, so the old entries of a
/// reused `c` need no clearing; where none is written (k = 0), or some are
/// left (a lower triangle), `c` is cleared to zeros first.
fn product_into<T: Element>(p: Problem<'_, T>, c: &mut Vec<T>) {
    let (rows, k, n) = (&p.rows, p.k, p.n);
    let a_end = (rows.end.max(1) - 1) * p.a_strides.0 + (k.max(1) - 1) * p.a_strides.1;
    let a_fits = rows.is_empty() || k == 0 || p.a.len() > a_end;
    assert!(a_fits && p.b.len() == k * n, "matmul: operand sizes do not match");
    assert!(p.a_strides.0 == 1 || p.a_strides.1 == 1, "matmul: A is row-major or given as Aᵀ");
    if k == 0 || p.lower {
        c.clear();
    }
    c.resize(rows.len() * n, T::default());
    if !rows.is_empty() && n > 0 && k > 0 {
        T::product(KernelPath::current(), &p, c);
    }
}

/// `Element` for a type: its `mul_add`, its AVX-512 and AVX2 products, and
/// the portable one with `portable` columns per register block.
macro_rules! element {
    ($t:ty, $avx512:ident, $avx2:ident, $portable:literal) => {
        impl Element for $t {
            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                self.mul_add(b, c)
            }

            fn product(path: KernelPath, p: &Problem<'_, Self>, c: &mut [Self]) {
                match path {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `KernelPath::current` only selects paths the CPU supports.
                    KernelPath::Avx512 => unsafe { x86::$avx512(p, c) },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: as above.
                    KernelPath::Avx2 => unsafe { x86::$avx2(p, c) },
                    _ => drive::<$t, Portable<$portable>, Portable<{ $portable / 2 }>, 4>(p, c),
                }
            }
        }
    };
}

element!(f32, avx512_f32, avx2_f32, 16);
element!(f64, avx512_f64, avx2_f64, 8);

/// A register block: RB rows × NB columns of C over one k-block, each
/// entry's chain continued in its own SIMD lane.
trait Micro<T> {
    /// Columns per block.
    const NB: usize;

    /// # Safety
    /// `a` reaches RB rows of kc entries (entry (r, q) at
    /// start + r·row + q·step); `b` at kc rows (stride NB, packed) of NB entries; `c` at
    /// RB rows (stride ldc) of ≥ NB writable entries; the CPU supports the
    /// kernel's instructions. The loops advance pointers rather than
    /// multiply indices: lockin's own code keeps overflow checks on, and a
    /// checked multiply per entry would cost more than the FMAs.
    unsafe fn micro<const RB: usize>(a: RowPanel<T>, b: *const T, block: &Block, c: *mut T);
}

/// Where a register block reads its RB rows of A over one k-block: entry
/// (r, q) at `start + r·row + q·step` (a packed panel: row 1, step RB; A
/// read in place: its own strides).
#[derive(Clone, Copy)]
struct RowPanel<T> {
    start: *const T,
    row: usize,
    step: usize,
}

/// The blocked loops (GotoBLAS's order): for each k-block of [`KC`]
/// ([`KC_IN_PLACE`] where A is read in place), B's
/// rows are packed once ([`pack_panel`]; once for all the products that
/// share B, [`SharedB`]); each group of [`MC`] rows of A
/// is packed into row panels ([`pack_rows`], kept in L2) unless A is read
/// in place ([`IN_PLACE_BLOCKS`]), and each column block (kept in L1 at
/// KC; in L2 at KC_IN_PLACE) is swept by the group's panels of R rows (then 4, 2, 1 for the remainder)
/// while the next group's A is prefetched ([`Lookahead`]).
/// Column blocks are K's NB wide; the columns left take H's narrower
/// blocks where fewer columns are padded so ([`column_blocks`]). Where the
/// blocks overrun n, B (as it is packed) and C are padded with zero
/// columns. Packing copies; it changes no chain.
#[inline(always)]
fn drive<T: Element, K: Micro<T>, H: Micro<T>, const R: usize>(p: &Problem<'_, T>, c: &mut [T]) {
    let (k, n) = (p.k, p.n);
    assert_eq!(c.len(), p.rows.len() * n, "matmul: C is rows × n");
    let blocks = column_blocks(n, K::NB, H::NB);
    let padded = blocks.last().map_or(0, |&(j, width)| j + width);
    let mut c_padded = if padded == n { Vec::new() } else { vec![T::default(); p.rows.len() * padded] };
    let out: &mut [T] = if padded == n { c } else { &mut c_padded };
    let (mut own_b, mut packed_a) = (Vec::new(), Vec::new());
    let in_place = p.a_strides.1 == 1 && blocks.len() <= IN_PLACE_BLOCKS;
    let kc_max = if in_place { KC_IN_PLACE } else { KC };
    let block_at = |k0: usize| Block { k0, kc: kc_max.min(k - k0), ldc: padded, first: k0 == 0 };
    let shared = p.shared_b.map(|shared| shared.panels(p, &blocks, kc_max, &block_at));
    // A lower triangle reads no column block right of its last row.
    let read = &blocks[..blocks.partition_point(|&(j, _)| !p.lower || j < p.rows.end)];
    for (index, k0) in (0..k).step_by(kc_max).enumerate() {
        let block = block_at(k0);
        let packed_b: &[T] = match shared {
            Some(panels) => &panels[index],
            None => {
                pack_panel(p, &block, read, &mut own_b);
                &own_b
            }
        };
        for g in p.rows.clone().step_by(MC) {
            let group = g..(g + MC).min(p.rows.end);
            let (a, ahead) = if in_place {
                (RowSource::InPlace(p), Lookahead::none())
            } else {
                pack_rows::<T, R>(p, &block, group.clone(), &mut packed_a);
                let calls = blocks.len() * group.len().div_ceil(R);
                (RowSource::Packed(&packed_a), Lookahead::after(p, k0, g, calls))
            };
            for &(j, width) in read.iter().filter(|&&(j, _)| !p.lower || j < group.end) {
                let b = &packed_b[j * block.kc..];
                let group = group.clone();
                let panels = Panels { a, group, b, block: &block, j, first_row: p.rows.start, ahead: &ahead };
                if width == K::NB {
                    panels.sweep_all::<K, R>(p.lower, out);
                } else {
                    debug_assert_eq!(width, H::NB);
                    panels.sweep_all::<H, R>(p.lower, out);
                }
            }
        }
    }
    if padded != n {
        for (dst, src) in c.chunks_exact_mut(n).zip(c_padded.chunks_exact(padded)) {
            dst.copy_from_slice(&src[..n]);
        }
    }
}

/// The column blocks (first column, width) over n columns: `wide` ones,
/// then the columns left in `narrow` ones where they pad fewer columns
/// than one more wide block (AVX-512 f32: 71 = 2 × 32 + 8, 41 = 32 + 2 × 8;
/// AVX2 f32: 71 = 4 × 16 + 8).
fn column_blocks(n: usize, wide: usize, narrow: usize) -> Vec<(usize, usize)> {
    let mut blocks: Vec<(usize, usize)> = (0..n / wide).map(|b| (b * wide, wide)).collect();
    let left = n % wide;
    if left.div_ceil(narrow) * narrow < wide {
        blocks.extend((n - left..n).step_by(narrow).map(|j| (j, narrow)));
    } else {
        blocks.push((n - left, wide));
    }
    blocks
}

/// One k-block of a product.
struct Block {
    k0: usize,
    kc: usize,
    ldc: usize,
    first: bool,
}

/// One column block's view of a row group: the register blocks of column
/// block `j` over the group's rows (packed panels, or A in place).
struct Panels<'a, T> {
    a: RowSource<'a, T>,
    group: Range<usize>,
    b: &'a [T],
    block: &'a Block,
    j: usize,
    first_row: usize,
    ahead: &'a Lookahead<T>,
}

/// Where the register blocks read A: a row group's packed panels, or A
/// itself at its strides.
#[derive(Clone, Copy)]
enum RowSource<'a, T> {
    Packed(&'a [T]),
    InPlace(&'a Problem<'a, T>),
}

impl<T: Element> RowSource<'_, T> {
    /// The RB rows from row `i` (of the group from `group_start`) over `block`.
    #[inline(always)]
    fn panel<const RB: usize>(&self, i: usize, group_start: usize, block: &Block) -> RowPanel<T> {
        match self {
            RowSource::Packed(packed) => {
                let panel = &packed[(i - group_start) * block.kc..][..RB * block.kc];
                RowPanel { start: panel.as_ptr(), row: 1, step: RB }
            }
            RowSource::InPlace(p) => {
                let (row, step) = p.a_strides;
                RowPanel { start: p.a[i * row + block.k0 * step..].as_ptr(), row, step }
            }
        }
    }
}

impl<T: Element> Panels<'_, T> {
    /// Every row of the group: register blocks of R rows, then 4, 2, 1.
    #[inline(always)]
    fn sweep_all<K: Micro<T>, const R: usize>(&self, lower: bool, out: &mut [T]) {
        let mut i = self.group.start;
        i = self.sweep::<K, R>(lower, i, out);
        i = self.sweep::<K, 4>(lower, i, out);
        i = self.sweep::<K, 2>(lower, i, out);
        self.sweep::<K, 1>(lower, i, out);
    }

    /// Register blocks of `RB` rows from row `i` while they fit in the
    /// group (with `lower`, only those that reach the diagonal); returns
    /// the first row left.
    #[inline(always)]
    fn sweep<K: Micro<T>, const RB: usize>(&self, lower: bool, mut i: usize, out: &mut [T]) -> usize {
        while i + RB <= self.group.end {
            if !lower || self.j < i + RB {
                let a = self.a.panel::<RB>(i, self.group.start, self.block);
                let offset = (i - self.first_row) * self.block.ldc + self.j;
                debug_assert!(offset + (RB - 1) * self.block.ldc + K::NB <= out.len());
                if !self.block.first && i + 2 * RB <= self.group.end {
                    prefetch_tile::<T, RB>(
                        out[offset..].as_ptr().wrapping_add(RB * self.block.ldc),
                        self.block.ldc,
                        K::NB,
                    );
                }
                // SAFETY: the panel `a` reaches RB rows of kc entries (in
                // the packed group, or in A within the bound that
                // `product_rows` asserts); the packed
                // block `b` has kc rows of NB entries; C has RB rows of
                // ldc ≥ j + NB entries from `offset`; the caller chose K
                // for this CPU.
                unsafe { K::micro::<RB>(a, self.b.as_ptr(), self.block, out[offset..].as_mut_ptr()) };
                self.ahead.step();
            }
            i += RB;
        }
        i
    }
}

/// Prefetch into L1 the RB rows (ldc apart) of `width` entries from `tile`:
/// the partial sums the next register block reloads. A product whose C
/// outgrows L2 (ρ's 16 MB Gram, swept once per k-block) otherwise waits on
/// every block's reload (docs/performance.md, "C ahead of its block").
#[inline(always)]
fn prefetch_tile<T, const RB: usize>(tile: *const T, ldc: usize, width: usize) {
    let per_line = 64 / std::mem::size_of::<T>();
    for r in 0..RB {
        for line in (0..width).step_by(per_line) {
            pack::prefetch::<T>(tile.wrapping_add(r * ldc + line), pack::Level::L1);
        }
    }
}

/// The register block in plain Rust: `mul_add` per entry, vectorised by
/// the compiler for the target (NEON on aarch64; a software FMA on an
/// x86-64 without FMA).
struct Portable<const NB: usize>;

impl<T: Element, const NB: usize> Micro<T> for Portable<NB> {
    const NB: usize = NB;

    #[inline(always)]
    unsafe fn micro<const RB: usize>(a: RowPanel<T>, b: *const T, block: &Block, c: *mut T) {
        let ldc = block.ldc;
        let mut acc = [[T::default(); NB]; RB];
        if !block.first {
            for (r, row) in acc.iter_mut().enumerate() {
                // SAFETY: the caller's contract.
                *row = unsafe { (c.wrapping_add(r * ldc) as *const [T; NB]).read_unaligned() };
            }
        }
        let (mut a_k, mut b) = (a.start, b as *const [T; NB]);
        for _ in 0..block.kc {
            // SAFETY: the caller's contract.
            let bv = unsafe { b.read_unaligned() };
            for (r, row) in acc.iter_mut().enumerate() {
                // SAFETY: the caller's contract.
                let x = unsafe { *a_k.wrapping_add(r * a.row) };
                for j in 0..NB {
                    row[j] = x.fma(bv[j], row[j]);
                }
            }
            (a_k, b) = (a_k.wrapping_add(a.step), b.wrapping_add(1));
        }
        for (r, row) in acc.iter().enumerate() {
            // SAFETY: the caller's contract.
            unsafe { (c.wrapping_add(r * ldc) as *mut [T; NB]).write_unaligned(*row) };
        }
    }
}

#[cfg(test)]
mod tests;
