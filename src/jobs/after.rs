//! Work that waits on other work (docs/performance.md, "Judging on the
//! training pool"): every claim waits for the runs it is judged on, and is
//! judged as soon as the last of them is trained, on the pool that trains
//! them, while other runs still train.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// One piece of work of [`each_when_ready`]: its item, whether it counts
/// against `at_once` (a run training does: it may take two cores), and the
/// earlier tasks it waits for (indices into the task list).
pub struct Task<T> {
    pub item: T,
    pub limited: bool,
    pub after: Vec<usize>,
}

/// What a worker does next.
enum Next {
    /// Task `i`, every task it waits for done.
    Do(usize),
    /// Nothing yet: a task still running will make work.
    Wait,
    /// Every task is taken.
    Stop,
}

/// The shared state of [`each_when_ready`]'s workers.
struct Board {
    limited: Vec<bool>,
    /// Per task, the tasks waiting for it.
    unlocks: Vec<Vec<usize>>,
    /// Per task, the tasks it waits for that are not done.
    waiting_on: Vec<usize>,
    /// Ready tasks not limited, in the order they became ready.
    ready: VecDeque<usize>,
    /// Ready limited tasks, taken in the list's order.
    ready_limited: BTreeSet<usize>,
    /// Limited tasks running now.
    running_limited: usize,
    /// Tasks not yet taken.
    untaken: usize,
}

impl Board {
    fn new<T>(tasks: &[Task<T>]) -> Self {
        let mut board = Board {
            limited: tasks.iter().map(|t| t.limited).collect(),
            unlocks: vec![Vec::new(); tasks.len()],
            waiting_on: vec![0; tasks.len()],
            ready: VecDeque::new(),
            ready_limited: BTreeSet::new(),
            running_limited: 0,
            untaken: tasks.len(),
        };
        for (t, task) in tasks.iter().enumerate() {
            let mut after = task.after.clone();
            after.sort_unstable();
            after.dedup();
            assert!(after.iter().all(|&i| i < t), "task {t} waits only for earlier tasks");
            for &i in &after {
                board.unlocks[i].push(t);
            }
            board.waiting_on[t] = after.len();
            if after.is_empty() {
                board.make_ready(t);
            }
        }
        board
    }

    fn make_ready(&mut self, t: usize) {
        match self.limited[t] {
            true => _ = self.ready_limited.insert(t),
            false => self.ready.push_back(t),
        }
    }

    /// A ready task not limited before a limited one; a limited one only
    /// while fewer than `at_once` run.
    fn next(&mut self, at_once: usize) -> Next {
        let next = match self.ready.pop_front() {
            None if self.running_limited < at_once => self.ready_limited.pop_first(),
            free => free,
        };
        match next {
            Some(t) => {
                self.running_limited += usize::from(self.limited[t]);
                self.untaken -= 1;
                Next::Do(t)
            }
            None if self.untaken == 0 => Next::Stop,
            None => Next::Wait,
        }
    }

    /// Task `t` is done (or failed: those waiting for it learn that from
    /// their own work): the tasks it was the last wait of are ready.
    fn done(&mut self, t: usize) {
        self.running_limited -= usize::from(self.limited[t]);
        for d in std::mem::take(&mut self.unlocks[t]) {
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 {
                self.make_ready(d);
            }
        }
    }
}

/// The board and the bell its workers wait on.
struct Pool {
    board: Mutex<Board>,
    bell: Condvar,
}

impl Pool {
    fn board(&self) -> MutexGuard<'_, Board> {
        // Nothing panics while the board is held; the work runs outside it.
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next task, waiting while there is none yet; `None` when every
    /// task is taken.
    fn take(&self, at_once: usize) -> Option<usize> {
        let mut board = self.board();
        loop {
            match board.next(at_once) {
                Next::Do(t) => return Some(t),
                Next::Wait => board = self.bell.wait(board).unwrap_or_else(PoisonError::into_inner),
                Next::Stop => {
                    self.bell.notify_all();
                    return None;
                }
            }
        }
    }
}

/// Marks task `t` done when dropped, after its work returned or panicked,
/// so that no worker waits for it forever.
struct Finished<'a> {
    pool: &'a Pool,
    t: usize,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.pool.board().done(self.t);
        self.pool.bell.notify_all();
    }
}

/// `work` applied to every task once every task it waits for is done, on
/// `workers` threads, at most `at_once` limited tasks at a time, those in
/// the list's order. A ready task that is not limited is taken before the
/// next limited one, so that nothing waits longer than it must. The
/// results in the tasks' order. A panic is re-raised here once every
/// worker has stopped.
pub fn each_when_ready<T: Sync, R: Send>(
    tasks: &[Task<T>],
    at_once: usize,
    workers: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let pool = Pool { board: Mutex::new(Board::new(tasks)), bell: Condvar::new() };
    let results: Vec<Mutex<Option<R>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
    let worker = || {
        while let Some(t) = pool.take(at_once.max(1)) {
            let _finished = Finished { pool: &pool, t };
            let result = work(&tasks[t].item);
            *results[t].lock().expect("each slot is written once") = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers.max(1) {
            scope.spawn(worker);
        }
        worker();
    });
    results.into_iter().map(|r| r.into_inner().expect("no worker panicked").expect("every task done")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Trainings 0..6 (limited), then tasks waiting for some of them and
    /// for each other.
    fn graph() -> Vec<Task<usize>> {
        let train = (0..6).map(|i| Task { item: i, limited: true, after: vec![] });
        let after = [vec![5], vec![0, 1], vec![], vec![2, 2, 4], vec![6, 7], (0..6).collect()];
        train
            .chain(after.into_iter().enumerate().map(|(i, after)| Task { item: 6 + i, limited: false, after }))
            .collect()
    }

    /// Every task runs after those it waits for, whatever the workers.
    #[test]
    fn tasks_wait_for_what_they_need() {
        let tasks = graph();
        for (at_once, workers) in [(1, 1), (1, 2), (2, 2), (3, 5), (8, 8)] {
            let done: Vec<AtomicUsize> = tasks.iter().map(|_| AtomicUsize::new(0)).collect();
            let seen = each_when_ready(&tasks, at_once, workers, |&t| {
                let ready = tasks[t].after.iter().all(|&i| done[i].load(Ordering::SeqCst) == 1);
                std::thread::sleep(Duration::from_millis(if t < 6 { 3 * (6 - t as u64) } else { 1 }));
                done[t].store(1, Ordering::SeqCst);
                (t, ready)
            });
            let expected: Vec<(usize, bool)> = (0..tasks.len()).map(|t| (t, true)).collect();
            assert_eq!(seen, expected, "{at_once} at once on {workers} workers");
        }
    }

    /// No more than `at_once` limited tasks run together, and spare workers
    /// take the others meanwhile.
    #[test]
    fn at_once_bounds_the_limited_tasks_running() {
        let (running, most, free_beside) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        let mut tasks: Vec<Task<usize>> = (0..8).map(|i| Task { item: i, limited: true, after: vec![] }).collect();
        tasks.extend((0..8).map(|i| Task { item: 8 + i, limited: false, after: vec![i] }));
        let results = each_when_ready(&tasks, 2, 4, |&t| {
            if t < 8 {
                most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
            } else if running.load(Ordering::SeqCst) > 0 {
                free_beside.fetch_add(1, Ordering::SeqCst);
            }
            t * 10
        });
        assert_eq!(results, (0..16).map(|t| t * 10).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert!(free_beside.load(Ordering::SeqCst) > 0, "some tasks ran beside a limited one");
    }

    /// A task that panics still releases those waiting for it, which run,
    /// and the panic reaches the caller; a pool that hung would fail the
    /// test by its timeout.
    #[test]
    fn a_panicking_task_does_not_hang_the_pool() {
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let tasks = vec![
                Task { item: 0, limited: true, after: vec![] },
                Task { item: 1, limited: true, after: vec![] },
                Task { item: 2, limited: false, after: vec![0] },
                Task { item: 3, limited: false, after: vec![1, 2] },
            ];
            let ran: Vec<AtomicUsize> = tasks.iter().map(|_| AtomicUsize::new(0)).collect();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                each_when_ready(&tasks, 2, 2, |&t| {
                    assert!(t != 0, "task 0 fails");
                    ran[t].store(1, Ordering::SeqCst);
                })
            }));
            let ran: Vec<usize> = ran.iter().map(|r| r.load(Ordering::SeqCst)).collect();
            send.send((outcome.is_err(), ran)).expect("the test waits");
        });
        let (panicked, ran) = receive.recv_timeout(Duration::from_secs(20)).expect("the pool stops");
        assert!(panicked, "the panic reaches the caller");
        assert_eq!(ran, [0, 1, 1, 1], "every task but the failed one ran");
    }
}
