//! Canonical arithmetic (docs/methods.md, "Numerics scheme"): every
//! reduction whose result reaches a log, a checkpoint or a verdict is
//! computed in one fixed order that no SIMD width, cache size, blocking or
//! thread split can change, so a run gives the same bits on every CPU.
//!
//! - Products ([`matmul`]): each entry is the fused-multiply-add chain over
//!   k in index order, starting from 0. FMA rounds once on every ISA, so
//!   vectorising across output entries (never across k) and continuing the
//!   chain across k-blocks gives the same bits on AVX-512, AVX2 + FMA,
//!   NEON and the scalar path.
//! - f64 sums ([`dot`]): eight lanes written into the code, added in order.
//! - Decompositions: a cyclic Jacobi eigensolver ([`eigen`]) and a
//!   Cholesky factorisation with its solves ([`cholesky`]), each a fixed
//!   sequence of IEEE operations.
//! - Transcendental functions from the pure-Rust `libm` crate, never the
//!   platform's (glibc picks FMA variants of `log`/`exp` at run time).
//! - Subnormals flushed to zero ([`FlushSubnormals`]) while a run trains:
//!   every CPU then computes at full speed where weight decay drives unused
//!   weights towards zero, and gives the same bits as the others.

pub mod cholesky;
mod dot;
pub mod eigen;
mod gemm;
mod widest;

pub use dot::{LaneSum, Update, dot, dot_f32, dots, update_dots};
pub use gemm::{Element, Gram, SharedB, lower_gram_rows, matmul, matmul_shared, matmul_tn};
pub use widest::on_widest;

/// Name and version of the numerics scheme: part of every run's identity
/// (cache key, `spec.json`, `DONE`), so a run made under another scheme is
/// never read as this one. The wgpu backend does not follow it.
/// (canonical-2: canonical-1 with subnormals flushed while training.)
pub const SCHEME: &str = "canonical-2";

/// Every scheme a run directory may record (the canonical one, the wgpu
/// backend's, and the IEEE-subnormals experiment's).
pub const KNOWN_SCHEMES: [&str; 3] = [SCHEME, "wgpu-platform", "canonical-2-ieee-subnormals"];

/// The numerics scheme of a run on `backend`, with subnormals kept (the
/// experiment of docs/methods.md, "Collapse") or flushed (canonical).
pub fn scheme_of(backend: crate::backend::Backend, ieee_subnormals: bool) -> &'static str {
    match (backend, ieee_subnormals) {
        (crate::backend::Backend::Wgpu, _) => KNOWN_SCHEMES[1],
        (_, true) => KNOWN_SCHEMES[2],
        _ => SCHEME,
    }
}

/// Subnormal operands and results read and written as zero while the guard
/// lives, for this thread and the threads it starts (Linux copies the
/// floating-point control register to a new thread), as GPUs compute: x86's
/// flush-to-zero and denormals-are-zero (MXCSR bits 15 and 6), aarch64's
/// flush-to-zero (FPCR bit 24, inputs and outputs alike). On x86 an FMA with
/// a subnormal operand costs a microcode assist, up to ~30 times a normal
/// one (docs/methods.md, "Numerics scheme").
pub struct FlushSubnormals {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    saved: u64,
}

impl FlushSubnormals {
    /// Switch flushing on (a no-op guard on other targets).
    pub fn on() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let saved = mxcsr();
            set_mxcsr(saved | (1 << 15) | (1 << 6));
            Self { saved: saved.into() }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let saved = fpcr();
            set_fpcr(saved | (1 << 24));
            Self { saved }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        Self {}
    }
}

impl Drop for FlushSubnormals {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        set_mxcsr(self.saved as u32);
        #[cfg(target_arch = "aarch64")]
        set_fpcr(self.saved);
    }
}

#[cfg(target_arch = "aarch64")]
fn fpcr() -> u64 {
    let value: u64;
    // SAFETY: reading FPCR has no side effect.
    unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) value, options(nomem, nostack)) };
    value
}

#[cfg(target_arch = "aarch64")]
fn set_fpcr(value: u64) {
    // SAFETY: `value` is FPCR as `fpcr` read it, plus the FZ bit.
    unsafe { std::arch::asm!("msr fpcr, {}", in(reg) value, options(nomem, nostack)) };
}

#[cfg(target_arch = "x86_64")]
fn mxcsr() -> u32 {
    let mut value = 0u32;
    // SAFETY: stmxcsr writes the 4-byte register into `value`.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut value, options(nostack)) };
    value
}

#[cfg(target_arch = "x86_64")]
fn set_mxcsr(value: u32) {
    // SAFETY: ldmxcsr reads 4 bytes; `value` only changes rounding and
    // exception-masking bits that `mxcsr` returned, plus FTZ and DAZ.
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &value, options(nostack, readonly)) };
}

/// Which instruction set the product kernels run on. Every path gives the
/// same bits; only the speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// x86-64 with AVX-512F and FMA.
    Avx512,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// aarch64 NEON (always has fused multiply-add).
    Neon,
    /// Plain Rust, `mul_add` per entry (a software FMA where the CPU has none).
    Scalar,
}

impl KernelPath {
    /// The fastest path this CPU supports, or the one `LOCKIN_KERNELS`
    /// (`avx512`, `avx2`, `neon`, `scalar`) names when it is supported.
    pub fn current() -> Self {
        static PATH: std::sync::OnceLock<KernelPath> = std::sync::OnceLock::new();
        *PATH.get_or_init(|| {
            let forced = std::env::var("LOCKIN_KERNELS").ok().and_then(|name| Self::from_name(&name));
            forced.filter(|p| p.supported()).unwrap_or_else(Self::best)
        })
    }

    /// The path named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Every path, fastest first.
    pub const ALL: [KernelPath; 4] = [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Neon, KernelPath::Scalar];

    /// The fastest supported path.
    fn best() -> Self {
        Self::ALL.into_iter().find(|p| p.supported()).unwrap_or(KernelPath::Scalar)
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            // AVX2 too: the AVX-512 f32 product takes its last columns in AVX2 blocks.
            KernelPath::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "aarch64")]
            KernelPath::Neon => true,
            KernelPath::Scalar => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Its name, as `lockin run` prints it.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Avx512 => "avx512",
            KernelPath::Avx2 => "avx2",
            KernelPath::Neon => "neon",
            KernelPath::Scalar => "scalar",
        }
    }
}

/// Row-major transpose of a `rows × cols` matrix, in tiles of
/// [`TILE`] × [`TILE`] so that both the rows read and the rows written stay
/// in L1 (ρ transposes the 16.5 MB features at M = 71: 7 % of a run's time
/// with ρ every epoch, row by row).
pub fn transpose<T: Copy + Default>(x: &[T], rows: usize, cols: usize) -> Vec<T> {
    assert_eq!(x.len(), rows * cols, "transpose: {rows} × {cols} entries");
    let mut out = vec![T::default(); x.len()];
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            // Each column of the tile read with a step (no index arithmetic
            // per entry, which overflow checks would make dear) into its
            // run of `out`'s row.
            for c in c0..(c0 + TILE).min(cols) {
                let column = x[r0 * cols + c..].iter().step_by(cols);
                for (dst, &v) in out[c * rows + r0..c * rows + r1].iter_mut().zip(column) {
                    *dst = v;
                }
            }
        }
    }
    out
}

/// Rows and columns per tile of [`transpose`].
const TILE: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_round_trips() {
        let x: Vec<f32> = (0..6).map(|i| i as f32).collect();
        assert_eq!(transpose(&x, 2, 3), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(transpose(&transpose(&x, 2, 3), 3, 2), x);
        // Several tiles, each side cut short by the edge.
        let (rows, cols) = (70, 45);
        let x: Vec<usize> = (0..rows * cols).collect();
        let t = transpose(&x, rows, cols);
        assert!((0..rows).all(|r| (0..cols).all(|c| t[c * rows + r] == x[r * cols + c])));
    }

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn flushing_turns_subnormals_to_zero_and_back() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        assert!((tiny / 2.0) > 0.0, "IEEE keeps the subnormal");
        let guard = FlushSubnormals::on();
        assert_eq!(std::hint::black_box(tiny) / 2.0, 0.0, "flushed");
        drop(guard);
        assert!((std::hint::black_box(tiny) / 2.0) > 0.0, "restored");
    }

    #[test]
    fn paths_have_names() {
        for p in KernelPath::ALL {
            assert_eq!(KernelPath::from_name(p.name()), Some(p));
        }
        assert!(KernelPath::Scalar.supported());
        assert!(KernelPath::current().supported());
    }
}
