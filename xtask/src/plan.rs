//! `plan` and `train-planned`: the runs a cluster trains (README, "On a Slurm cluster").

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lockin::cache::Cache;
use lockin::claims::verify::{VerifyOptions, missing_runs};
use lockin::{out, say};

/// `plan FILE`: write the missing runs of the selected claims, with their
/// FLOP (ρ's included) and the wall time they take on this machine, from its
/// cached calibration (docs/methods.md, "Cost"). Claim files that do not
/// load, or a selection that matches nothing, are errors: a cluster would
/// otherwise judge claims nobody planned for.
pub fn write_plan(opts: &VerifyOptions, path: &Path, recalibrate: bool) -> anyhow::Result<ExitCode> {
    let planned = missing_runs(opts)?;
    if !planned.broken.is_empty() {
        for e in &planned.broken {
            say!("{e}");
        }
        bail!("{} claim files do not load; nothing planned", planned.broken.len());
    }
    if planned.claims == 0 {
        bail!("no claim in {} matches {:?}; nothing planned", opts.claims_dir.display(), opts.select);
    }
    let entries = lockin::plan::write(path, &planned.runs)?;
    let flop = entries.iter().fold(0.0, |total, e| total + e.flop); // an empty sum is 0, not −0
    let rho: f64 = entries
        .iter()
        .map(|e| lockin::estimate::rho_evaluations(&e.spec).1 as f64 * lockin::estimate::rho_flop(&e.spec))
        .sum();
    let runs: usize = entries.iter().map(|e| 1 + e.other_windows.len()).sum();
    out!(
        "{}: {} trajectories to train ({runs} runs) for {} claims ({:.2e} FLOP of epochs, ρ up to {:.2e} more); \
         train trajectory I with `cargo xtask train-planned {} --index I`",
        path.display(),
        entries.len(),
        planned.claims,
        flop,
        rho,
        path.display()
    );
    if !entries.is_empty() {
        print_estimate(&entries, opts.jobs, recalibrate)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan's wall time here with `jobs` at once (by default what
/// `verify-claims` would choose, `training_jobs`), as a range (ρ stopping
/// at its threshold at once, or never), then against more cores.
fn print_estimate(entries: &[lockin::plan::PlanEntry], jobs: Option<usize>, recalibrate: bool) -> anyhow::Result<()> {
    use lockin::estimate::{Calibration, Sharing};
    let calibration = Calibration::of_this_checkout(recalibrate, false);
    let trajectories: Vec<_> = entries.iter().map(|e| e.trajectory()).collect();
    let runs: Vec<_> = trajectories.iter().collect();
    let cores = lockin::jobs::cores();
    let jobs = jobs.unwrap_or_else(|| calibration.best_jobs(&runs, cores));
    let (least, most) = calibration.plan_seconds(&runs, jobs, cores);
    out!(
        "estimated wall time here with --jobs {jobs} ({}): {:.1}-{:.1} min of training (ρ stopping at its threshold \
         at once, or never); judging not included. Calibration ({}): {:.2} ms per epoch plus {:.1} GFLOP/s and \
         {:.1} GB/s of update windows in two lanes, {:.2}× that per run with {} runs side by side, ρ at {:.1} GFLOP/s",
        Sharing::of_jobs_on(jobs, cores).lanes(),
        least / 60.0,
        most / 60.0,
        calibration.machine,
        calibration.epoch_overhead_s * 1e3,
        1e-9 / calibration.epoch_s_per_flop.max(f64::MIN_POSITIVE),
        1e-9 / calibration.window_s_per_byte.max(f64::MIN_POSITIVE),
        calibration.side_by_side_ratio,
        Sharing::SideBySide.jobs_on(cores),
        1e-9 / calibration.rho_s_per_flop.max(f64::MIN_POSITIVE),
    );
    let two_lanes: Vec<f64> =
        runs.iter().map(|t| calibration.run_seconds(&t.spec, &t.windows, cores).1.alone).collect();
    print_core_model(&two_lanes);
    Ok(())
}

/// The plan's wall time against the machine's cores, for runs taking (at
/// most) `seconds` each (docs/performance.md, "Wall time against cores"):
/// one run per two cores (`--jobs`), each alone in two lanes, the longest first, each to the job
/// that frees first. The longest run is the critical path: past the cores
/// at which it alone sets the wall time, more cores do not help.
fn print_core_model(seconds: &[f64]) {
    let longest = seconds.iter().copied().fold(0.0, f64::max);
    out!("cores  jobs  wall time (model, ρ never stopping)");
    for cores in [2, 4, 8, 16, 32, 64, 128] {
        let jobs = cores / 2;
        let wall = lockin::jobs::makespan(seconds, jobs);
        let note = if wall <= longest * 1.000_001 { "  (the longest run alone)" } else { "" };
        out!("{cores:>5} {jobs:>5}  {:>6.1} min{note}", wall / 60.0);
    }
    out!("critical path: the longest run, {:.1} min", longest / 60.0);
}

/// `train-planned FILE --index I`: train one planned run into the cache.
pub fn train_planned(cache: &Cache, path: &Path, index: usize) -> anyhow::Result<ExitCode> {
    let entry = lockin::plan::entry(path, index)?;
    let start = std::time::Instant::now();
    let outcome =
        lockin::plan::train_entry(cache, &entry).with_context(|| format!("plan run {index} ({})", entry.key))?;
    let seconds = start.elapsed().as_secs_f64();
    match outcome {
        lockin::plan::Trained::Published => {
            out!("trained {} in {seconds:.1} s ({:.2e} FLOP)", entry.key, entry.flop)
        }
        lockin::plan::Trained::AlreadyCached => out!("cached {} (nothing trained here)", entry.key),
    }
    Ok(ExitCode::SUCCESS)
}
