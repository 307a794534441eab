//! The allocator the binaries install (docs/performance.md, "Allocator"):
//! mimalloc, told never to give freed pages back to the OS.
//!
//! An epoch allocates and frees buffers of 2–25 MB (features, test blocks,
//! product outputs). glibc's malloc unmaps such blocks and page-faults them
//! back in; mimalloc reuses them, but by default purges freed memory after
//! a delay, after which the kernel zeroes every 2 MB page again on its next
//! touch: 1782 page faults in 60 epochs at M = 71 (8 % of the CPU time),
//! 293 with purging off. A run's memory peaks early and stays there, so
//! nothing is lost by keeping it.

/// `mi_option_purge_delay`'s place in mimalloc v3's `mi_option_e`
/// (include/mimalloc.h); `tests::purge_delay_is_the_option_it_names`
/// checks it by its default, 1000 ms.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Turn mimalloc's purging of freed memory off (−1: never). Call at the
/// start of a binary that installs mimalloc as its global allocator.
pub fn keep_freed_pages() {
    // SAFETY: setting an option is thread-safe and takes any value.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_option_it_names() {
        // SAFETY: reading an option is thread-safe.
        let get = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(get(), 1000, "mimalloc's enum moved: option {PURGE_DELAY} is not the purge delay");
        keep_freed_pages();
        assert_eq!(get(), -1);
    }
}
