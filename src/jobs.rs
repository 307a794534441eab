//! Independent work spread over worker threads (docs/performance.md,
//! "Jobs"): the runs a verification trains, and the claims it judges, are
//! independent of each other, and canonical arithmetic makes each one's
//! bits independent of what runs beside it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Claims judged at once when `jobs` runs train at once: judging a claim
/// (its Theorem-6 algebra above all) is one thread's work, and a training
/// job keeps up to two cores busy (its two lanes), so judging takes two
/// threads per job, up to the machine's cores. The verdicts do not depend
/// on it.
pub fn judging_jobs(jobs: usize) -> usize {
    (2 * jobs).min(cores()).max(1)
}

/// Runs training in this process now ([`Training`]).
static TRAINING: AtomicUsize = AtomicUsize::new(0);

/// One run training, counted while it lives: an epoch takes a second lane
/// only while fewer runs train than the machine has cores
/// ([`second_lane_free`]).
pub struct Training(());

impl Training {
    /// Count one more run training until the guard drops.
    pub fn start() -> Self {
        TRAINING.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for Training {
    fn drop(&mut self) {
        TRAINING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether an epoch should run in two lanes: while the runs training in
/// this process leave a core idle. Where every core has a run, each runs in
/// one lane: two runs side by side, one lane each, beat one two-lane run
/// (docs/performance.md, "Lanes by load"). Either way the epoch's bits
/// are the same (`train::tests::two_lanes_match_sequential_phases`).
pub fn second_lane_free() -> bool {
    TRAINING.load(Ordering::Relaxed) < cores()
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

/// `work` applied to every item, `jobs` items at a time, taken in order;
/// the results in the items' order. A panic in `work` is re-raised here
/// once every worker has stopped.
pub fn each<T: Sync, R: Send>(items: &[T], jobs: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if jobs <= 1 || items.len() <= 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|workers| {
        for _ in 0..jobs.min(items.len()) {
            workers.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    *results[i].lock().expect("each slot is written once") = Some(result);
                }
            });
        }
    });
    results.into_iter().map(|r| r.into_inner().expect("no worker panicked").expect("every item done")).collect()
}

/// The wall time of work items taking `seconds` each on `jobs` workers,
/// scheduled as [`each`] takes them after the costliest-first sort: each
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
    fn results_keep_the_items_order_at_any_job_count() {
        let items: Vec<u64> = (0..23).collect();
        let serial = each(&items, 1, |&x| x * x);
        for jobs in [2, 3, 8, 40] {
            assert_eq!(each(&items, jobs, |&x| x * x), serial, "{jobs} jobs");
        }
        assert!(each(&[] as &[u64], 4, |&x| x).is_empty());
    }

    #[test]
    fn makespan_is_the_busiest_worker() {
        // Longest first, as `each` takes them: 3+2+2 and 3+2 (the optimum, 3+3 and 2+2+2, is 6).
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
