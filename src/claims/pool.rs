//! One pool for a verification's work (docs/performance.md, "Judging on
//! the training pool"): the runs train, the costliest first; each run's
//! Theorem-6 analyses are computed as soon as it is trained, and each claim
//! is judged as soon as its runs and analyses are done, on the cores no run
//! is training on, while later runs still train.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::judge::ClaimResult;
use super::load::Claim;
use super::runner::Runner;
use crate::cache::{Trajectory, cache_key, trajectory_key};
use crate::jobs::after::{Task, each_when_ready};
use crate::progress::PlanProgress;
use crate::run_name::trajectory_name;
use crate::say;
use crate::train::TrainSpec;
use crate::train::limits::{peak_bytes, run_flop};

/// One task of the pool.
enum Work<'a> {
    /// Train a trajectory (its FLOP, for the progress line).
    Train(f64, &'a Trajectory),
    /// Theorem 6 at a checkpoint (epoch, pairs) of a run, into the run's
    /// store, where the claims that read it find it.
    SignRule(TrainSpec, usize, usize),
    /// Judge a claim.
    Judge(&'a Claim),
}

/// Train `missing`, at most `jobs` at a time (fewer where memory is short),
/// the costliest first so that the longest run does not start last, again
/// where `fresh` ([`Runner::train`]); progress unless `quiet`. Judge
/// `claims` on the same pool; their results in their order. A failed run is
/// reported by the claims that need it. Ready analyses and judgements go
/// before the next run: from an empty cache that spreads them over the
/// training instead of leaving them all to its end; where much is cached,
/// the claims already complete are judged before the runs start.
pub fn train_and_judge(
    runner: &Runner,
    missing: &[&Trajectory],
    jobs: usize,
    claims: &[&Claim],
    fresh: bool,
    quiet: bool,
) -> Vec<ClaimResult> {
    let mut order: Vec<(f64, &Trajectory)> = missing.iter().map(|t| (run_flop(&t.spec), *t)).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let largest = order.iter().map(|(_, t)| peak_bytes(&t.spec, &t.windows)).fold(0.0, f64::max);
    let fitting = crate::jobs::within_memory(jobs, largest);
    if fitting < jobs && !quiet {
        say!("{fitting} jobs at once, not {jobs}: the largest run holds {:.1} GB", largest / 1e9);
    }
    let tasks = tasks(runner, &order, claims);
    let total = order.iter().map(|(flop, _)| flop).sum();
    let progress = (!order.is_empty()).then(|| PlanProgress::new(order.len(), total, quiet));
    let trained = AtomicUsize::new(0);
    let work = |work: &Work| match *work {
        Work::Train(flop, trajectory) => {
            if let Err(e) = runner.train(trajectory, fresh) {
                say!("{e:#}");
            }
            if let Some(progress) = &progress {
                progress.finished(&trajectory_name(trajectory), flop);
            }
            trained.fetch_add(1, Ordering::Relaxed);
            None
        }
        Work::SignRule(ref spec, epoch, pairs) => {
            let _busy = crate::jobs::Busy::start();
            store_sign_rule(runner, spec, epoch, pairs);
            None
        }
        Work::Judge(claim) => {
            let _busy = crate::jobs::Busy::start();
            let result = runner.evaluate(claim);
            let left = order.len() - trained.load(Ordering::Relaxed);
            if left > 0 && !quiet {
                say!("judged {} ({:?}) while {left} runs still train", result.id, result.verdict);
            }
            Some(result)
        }
    };
    let done = each_when_ready(&tasks, fitting, crate::jobs::pool_threads(fitting), work);
    done.into_iter().flatten().collect()
}

/// The pool's tasks: the trainings in `order` (limited to the job count),
/// then per claim its runs' Theorem-6 analyses (each once, waiting for its
/// run's training) and its judgement (waiting for all of them).
fn tasks<'a>(runner: &Runner, order: &[(f64, &'a Trajectory)], claims: &[&'a Claim]) -> Vec<Task<Work<'a>>> {
    let mut tasks: Vec<Task<Work>> =
        order.iter().map(|&(flop, t)| Task { item: Work::Train(flop, t), limited: true, after: vec![] }).collect();
    let training: BTreeMap<String, usize> =
        order.iter().enumerate().map(|(i, (_, t))| (trajectory_key(&t.spec), i)).collect();
    let trained = |spec: &TrainSpec| training.get(&trajectory_key(spec)).copied();
    let mut analyses: BTreeMap<(String, usize, usize), usize> = BTreeMap::new();
    for &claim in claims {
        let mut after: Vec<usize> = runner.specs(claim).values().flatten().filter_map(trained).collect();
        for (spec, epoch, pairs) in runner.sign_rules(claim) {
            let key = (cache_key(&spec), epoch, pairs);
            let index = *analyses.entry(key).or_insert_with(|| {
                let after = trained(&spec).into_iter().collect();
                tasks.push(Task { item: Work::SignRule(spec, epoch, pairs), limited: false, after });
                tasks.len() - 1
            });
            after.push(index);
        }
        tasks.push(Task { item: Work::Judge(claim), limited: false, after });
    }
    tasks
}

/// Theorem 6 at `epoch` of the run of `spec`, into its store. A run that
/// failed, diverged or collapsed is left to the claim's judgement, which
/// says so; so is an analysis that fails.
fn store_sign_rule(runner: &Runner, spec: &TrainSpec, epoch: usize, pairs: usize) {
    if let Ok(run) = runner.run_of(spec)
        && run.summary.diverged_at.is_none()
        && run.summary.collapsed_at.is_none()
    {
        let _ = crate::theorem6_store::sign_rule(&run, epoch, pairs);
    }
}
