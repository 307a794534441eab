//! The x86-64 register blocks, written with the vector FMA intrinsics
//! (compilers keep 512-bit code at 256 bits unless told): each lane of an
//! accumulator is one entry's chain, so they give the portable kernel's bits.

use std::arch::x86_64::*;

use super::{Block, Micro, Problem, RowPanel, drive};

macro_rules! kernel {
    ($name:ident, $t:ty, $feature:literal, $zero:ident, $load:ident, $store:ident, $set1:ident, $fmadd:ident,
     $lanes:literal, $wide:literal, $narrow:ty, $rows:literal, $entry:ident) => {
        /// NV vectors of columns per register block.
        struct $name<const NV: usize>;

        impl<const NV: usize> Micro<$t> for $name<NV> {
            const NB: usize = $lanes * NV;

            #[inline(always)]
            unsafe fn micro<const RB: usize>(a: RowPanel<$t>, b: *const $t, block: &Block, c: *mut $t) {
                /// With `PACKED`, A's rows are adjacent (a packed panel:
                /// `a.row` = 1), which lets the compiler address each row's
                /// entry at a fixed offset instead of by a chain of adds.
                #[target_feature(enable = $feature)]
                unsafe fn body<const RB: usize, const NV: usize, const PACKED: bool>(
                    a: RowPanel<$t>,
                    b: *const $t,
                    block: &Block,
                    c: *mut $t,
                ) {
                    let a_row = if PACKED { 1 } else { a.row };
                    let ldc = block.ldc;
                    let mut acc = [[$zero(); NV]; RB];
                    if !block.first {
                        for r in 0..RB {
                            for v in 0..NV {
                                // SAFETY: the caller's contract.
                                acc[r][v] = unsafe { $load(c.wrapping_add(r * ldc + v * $lanes)) };
                            }
                        }
                    }
                    let (mut a_k, mut b) = (a.start, b);
                    for _ in 0..block.kc {
                        let mut bv = [$zero(); NV];
                        for v in 0..NV {
                            // SAFETY: the caller's contract.
                            bv[v] = unsafe { $load(b.wrapping_add(v * $lanes)) };
                        }
                        for r in 0..RB {
                            // SAFETY: the caller's contract.
                            let x = $set1(unsafe { *a_k.wrapping_add(r * a_row) });
                            for v in 0..NV {
                                acc[r][v] = $fmadd(x, bv[v], acc[r][v]);
                            }
                        }
                        a_k = a_k.wrapping_add(a.step);
                        b = b.wrapping_add($lanes * NV);
                    }
                    for r in 0..RB {
                        for v in 0..NV {
                            // SAFETY: the caller's contract.
                            unsafe { $store(c.wrapping_add(r * ldc + v * $lanes), acc[r][v]) };
                        }
                    }
                }
                // SAFETY: the caller's contract (the CPU has the features).
                unsafe {
                    if a.row == 1 {
                        body::<RB, NV, true>(a, b, block, c)
                    } else {
                        body::<RB, NV, false>(a, b, block, c)
                    }
                }
            }
        }

        /// The product on this path.
        ///
        /// # Safety
        /// The CPU supports the path's instructions.
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $entry(p: &Problem<'_, $t>, c: &mut [$t]) {
            drive::<$t, $name<$wide>, $narrow, $rows>(p, c)
        }
    };
}

// Each path: its wide block (vectors of columns × rows: at most 24
// accumulators of AVX-512's 32 registers, 12 of AVX2's 16) and its narrow
// block for the columns left. AVX-512 f32 takes 32 columns and leaves 71's last 7 to an
// AVX2 block of 8 (72 columns computed; 96 with 32-wide blocks alone);
// wide f32 products take `avx512_f32`'s 64-column blocks.
kernel!(
    Avx512F32,
    f32,
    "avx512f,fma",
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    16,
    2,
    Avx2F32<1>,
    12,
    avx512_f32_narrow
);

/// Columns from which an AVX-512 f32 product takes [`avx512_f32`]'s wide
/// blocks.
const WIDE_COLUMNS: usize = 256;

/// The AVX-512 f32 product: 12 × 32 blocks (24 accumulators) for narrow
/// products (n = 41, 71, 127: the forward and test products, ∂L/∂V), and
/// 6 × 64 blocks (24 accumulators, half the broadcasts of A per FMA) with
/// 32-wide blocks for the columns left for wide ones (ρ's Gram, ∂L/∂F):
/// measured on the Intel kind, the Gram 59 → 64–65 % of one core's peak
/// and ∂L/∂F 58–61 → 63–65 %, while 6 × 64 cut ∂L/∂V from 48 to 40 %
/// (docs/performance.md, "Blocks by width"). The blocking changes no chain.
///
/// # Safety
/// The CPU supports AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
pub(super) unsafe fn avx512_f32(p: &Problem<'_, f32>, c: &mut [f32]) {
    if p.n >= WIDE_COLUMNS {
        drive::<f32, Avx512F32<4>, Avx512F32<2>, 6>(p, c)
    } else {
        // SAFETY: the caller's contract.
        unsafe { avx512_f32_narrow(p, c) }
    }
}
kernel!(
    Avx512F64,
    f64,
    "avx512f,fma",
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    8,
    2,
    Avx512F64<1>,
    8,
    avx512_f64
);
kernel!(
    Avx2F32,
    f32,
    "avx2,fma",
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    8,
    2,
    Avx2F32<1>,
    6,
    avx2_f32
);
kernel!(
    Avx2F64,
    f64,
    "avx2,fma",
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    4,
    2,
    Avx2F64<1>,
    6,
    avx2_f64
);
