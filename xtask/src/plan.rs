//! `plan` and `train-planned`: the runs a cluster trains (README, "On a Slurm cluster").

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lockin::cache::Cache;
use lockin::claims::verify::{VerifyOptions, missing_runs};
use lockin::{out, say};

/// `plan FILE`: write the missing runs of the selected claims. Claim files
/// that do not load, or a selection that matches nothing, are errors: a
/// cluster would otherwise judge claims nobody planned for.
pub fn write_plan(opts: &VerifyOptions, path: &Path, rate: Option<f64>) -> anyhow::Result<ExitCode> {
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
    let largest = entries.iter().map(|e| e.flop).fold(0.0, f64::max);
    let runs: usize = entries.iter().map(|e| 1 + e.other_windows.len()).sum();
    out!(
        "{}: {} trajectories to train ({runs} runs) for {} claims ({:.2e} FLOP in all, the largest {:.2e}); \
         train trajectory I with `cargo xtask train-planned {} --index I`",
        path.display(),
        entries.len(),
        planned.claims,
        flop,
        largest,
        path.display()
    );
    if let Some(gflops) = rate {
        print_core_model(&entries.iter().map(|e| e.flop / (gflops * 1e9)).collect::<Vec<_>>());
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan's wall time against the machine's cores, for runs taking
/// `seconds` each (docs/performance.md, "Wall time against cores"): one
/// run per two cores (`--jobs`), the longest first, each to the job that
/// frees first. The longest run is the critical path: past the cores at
/// which it alone sets the wall time, more cores do not help.
fn print_core_model(seconds: &[f64]) {
    let longest = seconds.iter().copied().fold(0.0, f64::max);
    out!("cores  jobs  wall time (model)");
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
