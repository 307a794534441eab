//! Work spread over worker threads (docs/performance.md, "Jobs"): the runs
//! a verification trains are independent of each other, and canonical
//! arithmetic makes each one's bits independent of what runs beside it; a
//! claim waits only for its own runs (`after`).

use std::sync::atomic::{AtomicUsize, Ordering};

pub mod after;

/// Threads of the pool that trains `jobs` runs at once and judges the
/// claims (`after::each_when_ready`): judging a claim (its Theorem-6 algebra
/// above all) is one thread's work, and a training job keeps up to two
/// cores busy (its two lanes), so two threads per job, up to the machine's
/// cores, and never fewer than `jobs`. The verdicts do not depend on it.
pub fn pool_threads(jobs: usize) -> usize {
    (2 * jobs).min(cores()).max(jobs).max(1)
}

/// Cores taken in this process now ([`Busy`], [`SecondLane`]).
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// One core taken, counted while the guard lives: by a run training (its
/// first lane), a Theorem-6 analysis or a claim being judged
/// (`claims::pool`). An epoch takes a second lane only while a core is
/// left ([`SecondLane::take`]).
pub struct Busy(());

impl Busy {
    /// Count one more core taken until the guard drops.
    pub fn start() -> Self {
        BUSY.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An epoch's second lane, counted as a core taken while it lives.
pub struct SecondLane(());

impl SecondLane {
    /// A second lane for one epoch while the runs training, their second
    /// lanes and the work beside them in this process leave a core idle;
    /// none where every core is taken. Taken and counted at once, so no two
    /// epochs take the same idle core. Where every core is taken, each run
    /// trains in one lane: two runs side by side, one lane each, beat one
    /// two-lane run (docs/performance.md, "Lanes by load"), and a claim
    /// judged beside the last run takes what would be its second lane.
    /// Either way the epoch's bits are the same
    /// (`train::tests::two_lanes_match_sequential_phases`).
    pub fn take() -> Option<Self> {
        let taken =
            BUSY.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |busy| (busy < cores()).then_some(busy + 1));
        taken.ok().map(|_| Self(()))
    }
}

impl Drop for SecondLane {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The cores this process may use (read once: an epoch asks each time).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |c| c.get()))
}

/// `jobs` cut to what the machine's available memory holds when each job
/// needs up to `bytes_per_job` (twice that kept free, for the rest of the
/// process and the system); `jobs` itself where the memory cannot be read.
pub fn within_memory(jobs: usize, bytes_per_job: f64) -> usize {
    match available_memory() {
        Some(available) if bytes_per_job > 0.0 => jobs.min(((available / (2.0 * bytes_per_job)) as usize).max(1)),
        _ => jobs,
    }
}

/// `MemAvailable` of /proc/meminfo, bytes (Linux; none elsewhere).
fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// The wall time of work items taking `seconds` each on `jobs` workers,
/// scheduled as `after::each_when_ready` takes them after the costliest-first sort: each
/// item to the worker that frees first (longest processing time first).
pub fn makespan(seconds: &[f64], jobs: usize) -> f64 {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut free_at = vec![0.0f64; jobs.max(1)];
    for s in sorted {
        let first = free_at.iter_mut().min_by(|a, b| a.total_cmp(b)).expect("one worker at least");
        *first += s;
    }
    free_at.into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makespan_is_the_busiest_worker() {
        // Longest first, as `each_when_ready` takes them: 3+2+2 and 3+2 (the optimum, 3+3 and 2+2+2, is 6).
        assert_eq!(makespan(&[3.0, 3.0, 2.0, 2.0, 2.0], 2), 7.0);
        assert_eq!(makespan(&[5.0, 1.0, 1.0], 8), 5.0, "the longest item bounds it");
        assert_eq!(makespan(&[1.0; 4], 1), 4.0);
    }

    #[test]
    fn memory_caps_the_job_count_but_never_below_one() {
        assert_eq!(within_memory(4, 0.0), 4);
        assert_eq!(within_memory(4, 1e18), 1, "a job larger than any machine still runs alone");
        if available_memory().is_some() {
            assert!(within_memory(3, 1.0) == 3);
        }
    }
}
