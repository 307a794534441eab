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
/// ([`SharedB`]): B is packed by the first of them only.
pub fn matmul_shared<T: Element>(a: &[T], b: &SharedB<'_, T>, m: usize) -> Vec<T> {
    let (k, n) = (b.k, b.n);
    product_rows(Problem {
        a,
        a_strides: (k, 1),
        b: b.b(),
        b_transposed: false,
        k,
        n,
        rows: 0..m,
        lower: false,
        shared_b: Some(b),
    })
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
    let (rows, k, n) = (&p.rows, p.k, p.n);
    let a_end = (rows.end.max(1) - 1) * p.a_strides.0 + (k.max(1) - 1) * p.a_strides.1;
    let a_fits = rows.is_empty() || k == 0 || p.a.len() > a_end;
    assert!(a_fits && p.b.len() == k * n, "matmul: operand sizes do not match");
    assert!(p.a_strides.0 == 1 || p.a_strides.1 == 1, "matmul: A is row-major or given as Aᵀ");
    let mut c = vec![T::default(); rows.len() * n];
    if !rows.is_empty() && n > 0 && k > 0 {
        T::product(KernelPath::current(), &p, &mut c);
    }
    c
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
    for (index, k0) in (0..k).step_by(kc_max).enumerate() {
        let block = block_at(k0);
        let packed_b: &[T] = match shared {
            Some(panels) => &panels[index],
            None => {
                pack_panel(p, &block, &blocks, &mut own_b);
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
            for &(j, width) in blocks.iter().filter(|&&(j, _)| !p.lower || j < group.end) {
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
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random<T: From<f32>>(len: usize, seed: u64) -> Vec<T> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| T::from(rng.random_range(-1.0f32..1.0))).collect()
    }

    /// The definition, one entry at a time with `mul_add`.
    fn reference<T: Element>(a: &[T], b: &[T], m: usize, k: usize, n: usize) -> Vec<T> {
        let mut c = vec![T::default(); m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).fold(T::default(), |acc, q| a[i * k + q].fma(b[q * n + j], acc));
            }
        }
        c
    }

    fn bits_equal<T: Element + From<f32>>(path: KernelPath, m: usize, k: usize, n: usize, seed: u64) {
        let (a, b) = (random::<T>(m * k, seed), random::<T>(k * n, seed + 1));
        let mut c = vec![T::default(); m * n];
        T::product(
            path,
            &Problem {
                a: &a,
                a_strides: (k, 1),
                b: &b,
                b_transposed: false,
                k,
                n,
                rows: 0..m,
                lower: false,
                shared_b: None,
            },
            &mut c,
        );
        assert_eq!(c, reference(&a, &b, m, k, n), "{path:?} {m}×{k}×{n}");
        let a_t = super::super::transpose(&a, m, k);
        let mut c_tn = vec![T::default(); m * n];
        let tn = Problem {
            a: &a_t,
            a_strides: (1, m),
            b: &b,
            b_transposed: false,
            k,
            n,
            rows: 0..m,
            lower: false,
            shared_b: None,
        };
        T::product(path, &tn, &mut c_tn);
        assert_eq!(c_tn, c, "{path:?} {m}×{k}×{n}, Aᵀ given");
    }

    /// Every path this CPU runs, on shapes with row, column and k remainders
    /// (k > KC, and k > KC_IN_PLACE with A read in place, continue the
    /// chain across blocks), gives the reference bits.
    #[test]
    fn every_path_gives_the_reference_bits() {
        // k = 1; m > MC (a second row group); wide, narrow and padded tails;
        // A read in place (n ≤ IN_PLACE_BLOCKS column blocks) and packed
        // (300 columns); AVX-512 f32's 64-wide blocks with a padded (300)
        // and a 32-wide (288) tail.
        let shapes = [
            (29, 200, 300),
            (103, 200, 300),
            (1, 1, 1),
            (7, 3, 5),
            (7, 1, 5),
            (19, 1, 71),
            (19, 300, 71),
            (19, 1100, 71),
            (13, 600, 33),
            (9, 257, 16),
            (101, 70, 45),
            (101, 200, 12),
            (13, 200, 288),
        ];
        for path in KernelPath::ALL.into_iter().filter(|p| p.supported()) {
            for (s, &(m, k, n)) in shapes.iter().enumerate() {
                bits_equal::<f32>(path, m, k, n, s as u64);
                bits_equal::<f64>(path, m, k, n, s as u64);
            }
        }
    }

    /// The reference is the product: within f32 rounding of an f64 sum.
    #[test]
    fn the_product_is_a_product() {
        let (m, k, n) = (5, 40, 6);
        let (a, b) = (random::<f32>(m * k, 3), random::<f32>(k * n, 4));
        let c = matmul(&a, &b, m, k, n);
        for i in 0..m {
            for j in 0..n {
                let exact: f64 = (0..k).map(|q| a[i * k + q] as f64 * b[q * n + j] as f64).sum();
                approx::assert_abs_diff_eq!(c[i * n + j] as f64, exact, epsilon = 1e-5);
            }
        }
    }

    /// The lower triangle on every path, f32 and f64, against the
    /// reference: rows split off at 3 and crossing row groups (MC), n with
    /// narrow or padded tails, X read in place (n ≤ 110 in f32; 45 in f64
    /// on AVX2) and packed (300 on every path).
    #[test]
    fn every_path_gives_the_reference_lower_triangle() {
        fn lower<T: Element + From<f32>>(path: KernelPath, n: usize, k: usize) {
            let x = random::<T>(n * k, n as u64);
            let xt = super::super::transpose(&x, n, k);
            let full = reference(&x, &xt, n, k, n);
            let rows = 3..n;
            // X Xᵀ with Xᵀ given, and read from X; the same Gram as XᵀX of Xᵀ.
            let given = Problem {
                a: &x,
                a_strides: (k, 1),
                b: &xt,
                b_transposed: false,
                k,
                n,
                rows: 3..n,
                lower: true,
                shared_b: None,
            };
            let read = Problem {
                a: &x,
                a_strides: (k, 1),
                b: &x,
                b_transposed: true,
                k,
                n,
                rows: 3..n,
                lower: true,
                shared_b: None,
            };
            let columns = Problem {
                a: &xt,
                a_strides: (1, n),
                b: &xt,
                b_transposed: false,
                k,
                n,
                rows: 3..n,
                lower: true,
                shared_b: None,
            };
            for p in [given, read, columns] {
                let mut c = vec![T::default(); rows.len() * n];
                T::product(path, &p, &mut c);
                for i in rows.clone() {
                    let how = (p.b_transposed, p.a_strides);
                    assert_eq!(&c[(i - 3) * n..][..=i], &full[i * n..][..=i], "{path:?} n {n}, row {i}, {how:?}");
                }
            }
        }
        for path in KernelPath::ALL.into_iter().filter(|p| p.supported()) {
            for n in [45, 71, 110, 288, 300] {
                lower::<f32>(path, n, 50);
                lower::<f64>(path, n, 50);
            }
        }
    }

    /// A product with no B, for the tests of A's packing and prefetch.
    fn packing_only(a: &[f32], a_strides: (usize, usize), k: usize, rows: Range<usize>) -> Problem<'_, f32> {
        Problem { a, a_strides, b: &[], b_transposed: false, k, n: 0, rows, lower: false, shared_b: None }
    }

    /// Packing A given as Aᵀ (k by k) lays out the panels exactly as
    /// packing the row-major A does, for every register-block height, group
    /// length (remainders included), k-block length and first row.
    #[test]
    fn transposed_packing_matches_row_major_packing() {
        fn check<const R: usize>() {
            for (len, kc, start) in
                (1..=2 * R + 3).flat_map(|l| [1, 3, 8].map(|kc| (l, kc))).flat_map(|(l, kc)| [(l, kc, 0), (l, kc, 5)])
            {
                let (m, k) = (start + len + 2, 2 * kc + 1);
                let a = random::<f32>(m * k, (len * kc) as u64);
                let a_t = super::super::transpose(&a, m, k);
                let (block, rows) = (Block { k0: 1, kc, ldc: 0, first: false }, start..start + len);
                let row_major = packing_only(&a, (k, 1), k, rows.clone());
                let given_t = packing_only(&a_t, (1, m), k, rows.clone());
                let (mut from_rows, mut from_t) = (Vec::new(), Vec::new());
                pack::pack_rows::<f32, R>(&row_major, &block, rows.clone(), &mut from_rows);
                pack::pack_rows::<f32, R>(&given_t, &block, rows, &mut from_t);
                assert_eq!(from_t, from_rows, "R {R}, {len} rows from {start}, kc {kc}");
            }
        }
        check::<4>();
        check::<6>();
        check::<8>();
        check::<12>();
    }

    /// The group the prefetch reads ahead is the one `drive` packs next:
    /// across row groups, across k-blocks, and none after the last.
    #[test]
    fn the_next_group_is_the_one_drive_packs_next() {
        let (k, rows) = (400, 3..200);
        let a = vec![0.0f32; rows.end * k];
        let p = packing_only(&a, (k, 1), k, rows.clone());
        let order: Vec<(usize, Range<usize>)> = (0..k)
            .step_by(KC)
            .flat_map(|k0| rows.clone().step_by(MC).map(move |g| (k0, g..(g + MC).min(200))))
            .collect();
        for pair in order.windows(2) {
            assert_eq!(pack::next_group(&p, pair[0].0, pair[0].1.start), Some(pair[1].clone()));
        }
        let (k0, last) = order.last().expect("groups").clone();
        assert_eq!(pack::next_group(&p, k0, last.start), None);
    }

    /// Split rows and the lower-triangle variant give the same entries.
    #[test]
    fn row_splits_and_lower_triangle_agree() {
        let (n, k) = (45, 300);
        let x = random::<f32>(n * k, 8);
        let xt = super::super::transpose(&x, n, k);
        let full = matmul(&x, &xt, n, k, n);
        for (x, shape, of) in [(&x, (n, k), Gram::OfRows), (&xt, (k, n), Gram::OfColumns)] {
            let top = lower_gram_rows(x, shape, of, 0..20);
            let bottom = lower_gram_rows(x, shape, of, 20..45);
            for i in 0..n {
                let row = if i < 20 { &top[i * n..][..n] } else { &bottom[(i - 20) * n..][..n] };
                assert_eq!(&row[..=i], &full[i * n..][..=i], "row {i}, {of:?}");
            }
        }
    }
}
