//! Wall-time estimates for a plan of runs (docs/methods.md, "Cost"): a
//! short calibration on this machine, cached, gives an epoch's fixed
//! overhead, its seconds per FLOP of the products and its seconds per byte
//! of the rolling update windows it streams, both for a run alone in two
//! lanes and for runs side by side in one lane each ([`Sharing`]), and the
//! level metric ρ's seconds per FLOP; a run costs its epochs and its ρ
//! evaluations at those rates, and the plan's wall time is the runs'
//! makespan over the jobs that train them at once. ρ stops at its
//! threshold when a claim asks it to, which no plan knows in advance, so a
//! run's time is a range: ρ stopping at once, and ρ running to its last
//! epoch. The same estimate picks how many runs train at once where the
//! user does not ([`Calibration::best_jobs`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

mod sharing;

pub use sharing::{RunSeconds, Sharing, shared_makespan};

use crate::cache::Trajectory;
use crate::jobs::cores;
use crate::train::TrainSpec;
use crate::train::limits::epoch_flop;

/// The calibration of this machine, as cached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// What it was measured on: CPU model, cores and lockin's code version.
    pub machine: String,
    /// Fixed seconds of every epoch (the reading of θ, the metrics, the
    /// threads' hand-offs): what dominates small runs.
    pub epoch_overhead_s: f64,
    /// Seconds per FLOP of an epoch's products (two lanes).
    pub epoch_s_per_flop: f64,
    /// Seconds per byte of the update windows an epoch streams (W + 1 f32
    /// snapshots of all 3·M·K weights per window): what dominates wide
    /// runs on few pairs.
    pub window_s_per_byte: f64,
    /// A paper-scale epoch's wall time when as many runs as cores train
    /// side by side, one lane each, over its time alone in two lanes (on
    /// an even core count, side by side trains more below 2).
    pub side_by_side_ratio: f64,
    /// Seconds per FLOP of one ρ evaluation (its two threads on two idle cores).
    pub rho_s_per_flop: f64,
}

/// The calibration's three sizes (M, K, train fraction): one where the
/// fixed overhead dominates, one at paper scale, and one wide on few pairs,
/// where the update windows dominate.
const SMALL: (usize, usize, f64) = (23, 256, 0.4);
const PAPER: (usize, usize, f64) = (71, 2048, 0.4);
const WIDE: (usize, usize, f64) = (23, 5000, 0.5);

/// What a calibration measures, beside the code that trains: 2 since the
/// windows are kept as snapshots and timed full (docs/performance.md,
/// "The window as snapshots"), which changed the seconds per window byte
/// but no run's bits; 3 since runs side by side are timed by the epochs
/// training runs (θ read back once per epoch, not once per phase).
const CALIBRATION_VERSION: u32 = 3;

/// "Intel(R) Xeon(R) ..., 2 cores, code 4, calibration 2": what a
/// calibration is valid for.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, code {}, calibration {CALIBRATION_VERSION}", crate::runs::CODE_VERSION)
}

/// FLOP of one ρ evaluation: the Gram of the training pairs' features
/// (n × K), its lower triangle over the smaller side.
pub fn rho_flop(spec: &TrainSpec) -> f64 {
    let (n, k) = (spec.n_train() as f64, spec.width as f64);
    n.min(k) * n.min(k) * n.max(k)
}

/// Bytes of update windows an epoch streams: each window of W epochs holds
/// its W updates of the 3·M·K weights as W + 1 f32 snapshots.
pub fn window_bytes(spec: &TrainSpec, windows: &[usize]) -> f64 {
    let weights = 3.0 * (spec.modulus * spec.width) as f64;
    windows.iter().map(|&w| (w + 1) as f64 * weights * 4.0).sum()
}

/// How many ρ evaluations a run makes: at least (it stops at its first
/// crossing at once) and at most (it never crosses).
pub fn rho_evaluations(spec: &TrainSpec) -> (usize, usize) {
    match spec.level {
        None => (0, 0),
        Some(log) => {
            let most = log.until.min(spec.epochs) / log.every.max(1) + 1;
            (if log.stop_above.is_some() { 1 } else { most }, most)
        }
    }
}

impl Calibration {
    /// The cached calibration in `dir` if it is this machine's, else a new
    /// one (about nine seconds), kept there; with no `dir` (outside a
    /// checkout), or where it cannot be written, measured and not kept.
    /// Each of these is said unless `quiet`.
    fn load_or_measure(dir: Option<&Path>, quiet: bool) -> Calibration {
        let path = dir.map(|d| d.join("calibration.json"));
        let cached = path.as_ref().and_then(|p| std::fs::read(p).ok());
        let cached = cached.and_then(|b| serde_json::from_slice::<Calibration>(&b).ok());
        if let Some(c) = cached.filter(|c| c.machine == machine()) {
            return c;
        }
        if !quiet {
            crate::say!(
                "calibrating this machine for the wall-time estimate (about 9 s, once per machine and code version)"
            );
        }
        let c = Calibration::measure();
        let kept = path.as_ref().map(|p| {
            std::fs::create_dir_all(p.parent().unwrap_or(Path::new(".")))?;
            crate::files::write_atomic(p, &serde_json::to_vec_pretty(&c)?)
        });
        match kept {
            _ if quiet => {}
            Some(Ok(())) => {}
            Some(Err(e)) => crate::say!("the calibration is not kept ({e:#}): measured again next time"),
            None => crate::say!("outside a checkout the calibration is not kept: measured again next time"),
        }
        c
    }

    /// [`Calibration::load_or_measure`] in the checkout's `target/lockin`
    /// (none outside a checkout); `recalibrate` measures again.
    pub fn of_this_checkout(recalibrate: bool, quiet: bool) -> Calibration {
        let dir = crate::project::output_dir("the calibration", "").ok();
        if let (true, Some(dir)) = (recalibrate, &dir) {
            std::fs::remove_file(dir.join("calibration.json")).ok();
        }
        Calibration::load_or_measure(dir.as_deref(), quiet)
    }

    /// Time two-lane epochs at the three sizes, paper-scale runs side by
    /// side, and one paper-scale ρ; solve for the fixed
    /// cost, the product rate and the window rate.
    pub fn measure() -> Calibration {
        let spec =
            |(modulus, width, train_fraction)| TrainSpec { modulus, width, train_fraction, ..TrainSpec::default() };
        let sizes = [spec(SMALL), spec(PAPER), spec(WIDE)];
        let rows = sizes.each_ref().map(|s| [1.0, epoch_flop(s), window_bytes(s, &[s.window])]);
        let seconds = sizes.each_ref().map(|s| crate::bench::time_phases(s, 2, 8).epoch / 1e3);
        let [overhead, per_flop, per_byte] = solve3(rows, seconds).map(|x| x.max(0.0));
        Calibration {
            machine: machine(),
            epoch_overhead_s: overhead,
            epoch_s_per_flop: per_flop,
            window_s_per_byte: per_byte,
            side_by_side_ratio: side_by_side_ratio(&sizes[1]),
            rho_s_per_flop: crate::bench::time_level(&sizes[1], 3) / 1e3 / rho_flop(&sizes[1]),
        }
    }

    /// Seconds to train `spec` logging `windows` on `cores` cores: (ρ
    /// stopping at once, ρ never stopping), each alone in two lanes and
    /// crowded in one. Crowded, each epoch takes
    /// [`Calibration::side_by_side_ratio`] times its two-lane time, and
    /// ρ's two threads share one core: twice their time alone (on one
    /// core, already measured so).
    pub fn run_seconds(&self, spec: &TrainSpec, windows: &[usize], cores: usize) -> (RunSeconds, RunSeconds) {
        let epoch = self.epoch_overhead_s
            + self.epoch_s_per_flop * epoch_flop(spec)
            + self.window_s_per_byte * window_bytes(spec, windows);
        let epochs = (spec.epochs + 1) as f64 * epoch;
        let rho = self.rho_s_per_flop * rho_flop(spec);
        let rho_crowded = cores.clamp(1, 2) as f64 * rho;
        let with = |evaluations: usize| RunSeconds {
            alone: epochs + evaluations as f64 * rho,
            crowded: self.side_by_side_ratio * epochs + evaluations as f64 * rho_crowded,
        };
        let (least, most) = rho_evaluations(spec);
        (with(least), with(most))
    }

    /// The wall seconds of training `runs` with `jobs` at once on `cores`
    /// cores, the costliest first ([`shared_makespan`]): (ρ stopping at
    /// once, ρ never stopping).
    pub fn plan_seconds(&self, runs: &[&Trajectory], jobs: usize, cores: usize) -> (f64, f64) {
        let (least, most): (Vec<RunSeconds>, Vec<RunSeconds>) =
            runs.iter().map(|t| self.run_seconds(&t.spec, &t.windows, cores)).unzip();
        (shared_makespan(&least, jobs, cores), shared_makespan(&most, jobs, cores))
    }

    /// The projected wall time of `runs` under each sharing `cores` cores
    /// allow: two lanes, then side by side (one of them on one core,
    /// where both are one run).
    pub fn projections(&self, runs: &[&Trajectory], cores: usize) -> Vec<Projection> {
        let mut sharings = vec![Sharing::TwoLanes, Sharing::SideBySide];
        sharings.dedup_by_key(|sharing| sharing.jobs_on(cores));
        sharings
            .into_iter()
            .map(|sharing| {
                let jobs = sharing.jobs_on(cores);
                let (least_s, most_s) = self.plan_seconds(runs, jobs, cores);
                Projection { sharing: Sharing::of_jobs_on(jobs, cores), jobs, least_s, most_s }
            })
            .collect()
    }

    /// How many of `runs` to train at once on `cores` cores where the
    /// user does not say: the job count of [`fastest`] of the projections.
    pub fn best_jobs(&self, runs: &[&Trajectory], cores: usize) -> usize {
        fastest(&self.projections(runs, cores)).jobs
    }
}

/// One sharing's projected wall time for a plan: (ρ stopping at once, ρ
/// never stopping).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    /// How its runs share the cores.
    pub sharing: Sharing,
    /// Its runs at once.
    pub jobs: usize,
    /// Seconds with ρ stopping at once.
    pub least_s: f64,
    /// Seconds with ρ never stopping.
    pub most_s: f64,
}

impl Projection {
    /// "2 at once, one lane each: 44.5-91.1 min".
    pub fn describe(&self) -> String {
        let (jobs, lanes) = (self.jobs, self.sharing.lanes());
        format!("{jobs} at once, {lanes}: {:.1}-{:.1} min", self.least_s / 60.0, self.most_s / 60.0)
    }
}

/// The projection that finishes first, by the middle of its range; of
/// equals the first (two lanes, which hold half the memory).
pub fn fastest(projections: &[Projection]) -> &Projection {
    let middle = |p: &&Projection| p.least_s + p.most_s;
    projections.iter().min_by(|a, b| middle(a).total_cmp(&middle(b))).expect("one sharing at least")
}

/// [`Calibration::side_by_side_ratio`] at `spec`: the median of three
/// ratios, each of as many runs side by side as cores (wall time per epoch
/// of one) against a two-lane epoch timed just before, so that both see
/// the same load on a shared machine. The runs are as many as memory
/// holds, should that be fewer.
fn side_by_side_ratio(spec: &TrainSpec) -> f64 {
    let runs = crate::jobs::within_memory(cores(), crate::train::limits::peak_bytes(spec, &[spec.window]));
    let ratios: Vec<f64> = (0..3)
        .map(|_| {
            let alone = crate::bench::time_phases(spec, 2, 8).epoch;
            // time_side_by_side divides the wall time by every run's epochs: one run's epoch is `runs` of those.
            crate::bench::time_side_by_side(spec, runs, 2, 8) * runs as f64 / alone
        })
        .collect();
    crate::probes::stats::median(&ratios)
}

/// x with rows · x = t, by Cramer's rule (zeros where the rows are singular).
fn solve3(rows: [[f64; 3]; 3], t: [f64; 3]) -> [f64; 3] {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(rows);
    if d == 0.0 || !d.is_finite() {
        return [0.0; 3];
    }
    [0, 1, 2].map(|col| {
        let mut m = rows;
        for (row, value) in m.iter_mut().zip(t) {
            row[col] = value;
        }
        det(m) / d
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::LevelLog;

    /// A calibration whose runs side by side take `side_by_side_ratio`
    /// times a two-lane epoch.
    fn calibration(side_by_side_ratio: f64) -> Calibration {
        Calibration {
            machine: String::new(),
            epoch_overhead_s: 1e-3,
            epoch_s_per_flop: 1e-11,
            window_s_per_byte: 1e-10,
            side_by_side_ratio,
            rho_s_per_flop: 1e-11,
        }
    }

    /// A run's time grows with its epochs and ρ's evaluations, crowded
    /// epochs take the side-by-side ratio and crowded ρ twice its time,
    /// and a ρ that stops at its threshold makes a range, one that does
    /// not a point.
    #[test]
    fn a_runs_time_counts_its_epochs_and_its_rho() {
        let c = calibration(1.5);
        let base = TrainSpec { epochs: 99, ..TrainSpec::default() };
        let w = [base.window];
        let (lo, hi) = c.run_seconds(&base, &w, 2);
        assert_eq!(lo, hi);
        let epoch = 1e-3 + 1e-11 * epoch_flop(&base) + 1e-10 * window_bytes(&base, &w);
        approx::assert_relative_eq!(lo.alone, 100.0 * epoch, max_relative = 1e-12);
        approx::assert_relative_eq!(lo.crowded, 1.5 * lo.alone, max_relative = 1e-12);
        let logged = TrainSpec { level: Some(LevelLog { until: 99, stop_above: None, every: 1 }), ..base.clone() };
        let rho = 100.0 * 1e-11 * rho_flop(&base);
        let (_, with_rho) = c.run_seconds(&logged, &w, 2);
        approx::assert_relative_eq!(with_rho.alone - lo.alone, rho, max_relative = 1e-9);
        approx::assert_relative_eq!(with_rho.crowded - lo.crowded, 2.0 * rho, max_relative = 1e-9);
        approx::assert_relative_eq!(c.run_seconds(&logged, &w, 1).1.crowded - lo.crowded, rho, max_relative = 1e-9);
        let stopping = TrainSpec { level: Some(LevelLog { until: 99, stop_above: Some(0.075), every: 1 }), ..base };
        let (least, most) = c.run_seconds(&stopping, &w, 2);
        assert!(least.alone < most.alone && most == with_rho);
    }

    /// On two cores, runs side by side are chosen where a crowded epoch
    /// costs under two alone (1.5), and not where it costs more (2.5).
    #[test]
    fn the_faster_sharing_sets_the_jobs() {
        let runs: Vec<Trajectory> =
            (0..12).map(|seed| Trajectory::of(&TrainSpec { epochs: 99, seed, ..TrainSpec::default() })).collect();
        let runs: Vec<&Trajectory> = runs.iter().collect();
        assert_eq!(calibration(1.5).best_jobs(&runs, 2), 2);
        assert_eq!(calibration(2.5).best_jobs(&runs, 2), 1);
        assert_eq!(calibration(2.5).best_jobs(&runs, 3), 3, "two lanes leave a third core idle");
        assert_eq!(calibration(1.5).best_jobs(&runs, 1), 1);
    }

    /// Cramer's rule recovers a known solution.
    #[test]
    fn three_sizes_give_three_rates() {
        let rows = [[1.0, 2.0, 3.0], [1.0, 5.0, 1.0], [1.0, 1.0, 9.0]];
        let x = [0.5, 2.0, 0.25];
        let t = rows.map(|r| r[0] * x[0] + r[1] * x[1] + r[2] * x[2]);
        for (got, want) in solve3(rows, t).iter().zip(x) {
            approx::assert_relative_eq!(*got, want, max_relative = 1e-12);
        }
    }
}
