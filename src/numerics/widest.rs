//! Element-wise passes compiled for the widest vectors of the kernel path
//! (docs/methods.md, "Numerics scheme"): lockin is built for the baseline
//! x86-64 (SSE2), so a loop of adds and multiplies the compiler vectorises
//! runs four f32 lanes at a time even on an AVX-512 CPU. [`on_widest`]
//! runs such a loop compiled again with the path's instruction set.
//!
//! It changes no bit: each lane of a vector add, multiply, divide, square
//! root, compare or select is the IEEE operation of one entry at any width;
//! `max` (ReLU²'s σ′) leaves open only the sign of max(−0, +0), and a zero
//! of either sign added into ∂L/∂Wᵀ (which starts at +0, so never holds
//! −0) changes nothing; Rust never fuses a multiply and an add
//! into an FMA, nor reorders a float sum, with or without the wider
//! instructions; and the flush of subnormals is the same register (MXCSR)
//! for SSE, AVX2 and AVX-512.

use super::KernelPath;

/// `body`, compiled for the instruction set of [`KernelPath::current`]
/// (AVX-512F or AVX2 + FMA on x86-64; as built elsewhere). `body` and what
/// it inlines are vectorised for that set; what it calls out of line is
/// not. Mark the closure `#[inline(always)]`: the compiler otherwise keeps
/// it out of line, called from each path, compiled for the baseline.
#[inline(always)]
pub fn on_widest<R>(body: impl FnOnce() -> R) -> R {
    match KernelPath::current() {
        // SAFETY: `current` picks a path only where the CPU supports it.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { avx512(body) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { avx2(body) },
        _ => body(),
    }
}

/// `body` inlined into a function compiled with AVX-512F.
///
/// # Safety
/// The CPU supports AVX-512F, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `body` inlined into a function compiled with AVX2 and FMA.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}
