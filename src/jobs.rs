//! Independent work spread over worker threads (docs/performance.md,
//! "Jobs"): the runs a verification trains, and the claims it judges, are
//! independent of each other, and canonical arithmetic makes each one's
//! bits independent of what runs beside it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default number of runs trained at once: one per two cores, since
/// each run trains in two lanes (docs/methods.md, "Training").
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
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
}
