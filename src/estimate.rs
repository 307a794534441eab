//! Wall-time estimates for a plan of runs (docs/methods.md, "Cost"): a
//! short calibration on this machine, cached, gives a two-lane epoch's
//! fixed overhead, its seconds per FLOP, and the level metric ρ's seconds
//! per FLOP; a run costs its epochs and its ρ evaluations at those rates,
//! and the plan's wall time is the runs' makespan over the jobs that train
//! them at once. ρ stops at its threshold when a claim asks it to, which no
//! plan knows in advance, so a run's time is a range: ρ stopping at once,
//! and ρ running to its last epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

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
    /// Seconds per FLOP of one ρ evaluation.
    pub rho_s_per_flop: f64,
}

/// The calibration's two sizes: one where the fixed overhead dominates, one
/// at paper scale.
const SMALL: (usize, usize) = (23, 256);
const PAPER: (usize, usize) = (71, 2048);

/// "Intel(R) Xeon(R) ..., 2 cores, code 4": what a calibration is valid for.
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
    format!("{cpu}, {cores} cores, code {}", crate::runs::CODE_VERSION)
}

/// FLOP of one ρ evaluation: the Gram of the training pairs' features
/// (n × K), its lower triangle over the smaller side.
pub fn rho_flop(spec: &TrainSpec) -> f64 {
    let (n, k) = (spec.n_train() as f64, spec.width as f64);
    n.min(k) * n.min(k) * n.max(k)
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
    /// one (about two seconds), written there; with no `dir` (outside a
    /// checkout), measured and not kept.
    pub fn load_or_measure(dir: Option<&Path>) -> anyhow::Result<Calibration> {
        let Some(dir) = dir else { return Ok(Calibration::measure()) };
        let path = dir.join("calibration.json");
        let cached = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Calibration>(&b).ok());
        if let Some(c) = cached.filter(|c| c.machine == machine()) {
            return Ok(c);
        }
        let c = Calibration::measure();
        std::fs::create_dir_all(dir)?;
        crate::files::write_atomic(&path, &serde_json::to_vec_pretty(&c)?)?;
        Ok(c)
    }

    /// Time a small and a paper-scale epoch and one paper-scale ρ.
    pub fn measure() -> Calibration {
        let spec = |(modulus, width)| TrainSpec { modulus, width, ..TrainSpec::default() };
        let (small, paper) = (spec(SMALL), spec(PAPER));
        let seconds = |s: &TrainSpec| crate::bench::time_phases(s, 2, 8).epoch / 1e3;
        let (t_small, t_paper) = (seconds(&small), seconds(&paper));
        let (f_small, f_paper) = (epoch_flop(&small), epoch_flop(&paper));
        let per_flop = ((t_paper - t_small) / (f_paper - f_small)).max(0.0);
        Calibration {
            machine: machine(),
            epoch_overhead_s: (t_small - per_flop * f_small).max(0.0),
            epoch_s_per_flop: per_flop,
            rho_s_per_flop: crate::bench::time_level(&paper, 3) / 1e3 / rho_flop(&paper),
        }
    }

    /// Seconds to train `spec`: (ρ stopping at once, ρ never stopping).
    pub fn run_seconds(&self, spec: &TrainSpec) -> (f64, f64) {
        let epochs = (spec.epochs + 1) as f64;
        let training = epochs * (self.epoch_overhead_s + self.epoch_s_per_flop * epoch_flop(spec));
        let (least, most) = rho_evaluations(spec);
        let rho = self.rho_s_per_flop * rho_flop(spec);
        (training + least as f64 * rho, training + most as f64 * rho)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::LevelLog;

    /// A run's time grows with its epochs and ρ's evaluations, and a ρ
    /// that stops at its threshold makes a range, one that does not a point.
    #[test]
    fn a_runs_time_counts_its_epochs_and_its_rho() {
        let c = Calibration {
            machine: String::new(),
            epoch_overhead_s: 1e-3,
            epoch_s_per_flop: 1e-11,
            rho_s_per_flop: 1e-11,
        };
        let base = TrainSpec { epochs: 99, ..TrainSpec::default() };
        let (lo, hi) = c.run_seconds(&base);
        assert_eq!(lo, hi);
        approx::assert_relative_eq!(lo, 100.0 * (1e-3 + 1e-11 * epoch_flop(&base)), max_relative = 1e-12);
        let logged = TrainSpec { level: Some(LevelLog { until: 99, stop_above: None, every: 1 }), ..base.clone() };
        approx::assert_relative_eq!(
            c.run_seconds(&logged).0 - lo,
            100.0 * 1e-11 * rho_flop(&base),
            max_relative = 1e-9
        );
        let stopping = TrainSpec { level: Some(LevelLog { until: 99, stop_above: Some(0.075), every: 1 }), ..base };
        let (least, most) = c.run_seconds(&stopping);
        assert!(least < most && most == c.run_seconds(&logged).1);
    }
}
