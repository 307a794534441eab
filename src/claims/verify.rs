//! The whole verification: load every claim file, select, plan and train the
//! runs, judge each claim. Used by `cargo xtask verify-claims`.

use std::path::PathBuf;

use globset::{Glob, GlobSetBuilder};

use super::judge::ClaimResult;
use super::load::{Claim, LoadError, load_dir};
use super::runner::Runner;
use super::tier::Tier;
use crate::backend::Backend;
use crate::cache::{Cache, Trajectory};
use crate::progress::epoch_reporter;
use crate::run_name::run_name;
use crate::say;

/// What to verify, and how.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Directory of claim files.
    pub claims_dir: PathBuf,
    /// Tier.
    pub tier: Tier,
    /// Backend of the runs.
    pub backend: Backend,
    /// Claim ids or globs (`C0*`); empty = all.
    pub select: Vec<String>,
    /// The run cache.
    pub cache: Cache,
    /// Retrain the selected claims' runs even if cached.
    pub fresh: bool,
    /// No progress output.
    pub quiet: bool,
    /// How many runs train at once, and claims are judged at once
    /// ([`crate::jobs`]); none: as many as this machine's calibration
    /// finds fastest ([`training_jobs`]).
    pub jobs: Option<usize>,
}

/// Load, plan, train and judge. Broken files become `Error` results; the
/// others are still evaluated.
pub fn verify(opts: &VerifyOptions) -> anyhow::Result<Vec<ClaimResult>> {
    evaluate(opts, true, None)
}

/// Judge the claims from the cache alone: nothing is trained; a claim whose
/// runs are missing gets an `Error` saying so.
pub fn from_cache(opts: &VerifyOptions) -> anyhow::Result<Vec<ClaimResult>> {
    evaluate(opts, false, None)
}

/// How one check fares when every run of its claim starts from a
/// perturbed θ_0 (docs/methods.md, "Fragility").
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fragility {
    /// Claim id.
    pub id: String,
    /// The check's quantity.
    pub quantity: String,
    /// Its state without perturbation.
    pub state: super::expectation::CheckState,
    /// Its margin without perturbation.
    #[serde(with = "crate::nullable")]
    pub margin: f64,
    /// Perturbations in which the state differs.
    pub flips: usize,
    /// Perturbations tried.
    pub of: usize,
    /// The measured value under each perturbation (null = undefined).
    #[serde(with = "crate::nullable::series")]
    pub perturbed: Vec<f64>,
}

/// Re-verify the selected claims `n` times, every run started from
/// perturbation k = 1..=n of its θ_0, and count per check of `baseline`
/// (the unperturbed results) how often its state changes.
pub fn fragility(opts: &VerifyOptions, n: u32, baseline: &[ClaimResult]) -> anyhow::Result<Vec<Fragility>> {
    // Checks are matched by claim and position (a claim may check one
    // quantity twice); a perturbed claim in error flips all its checks.
    let mut table: Vec<Fragility> = baseline
        .iter()
        .flat_map(|r| {
            r.checks.iter().map(|c| Fragility {
                id: r.id.clone(),
                quantity: c.quantity.clone(),
                state: c.state,
                margin: c.margin,
                flips: 0,
                of: 0,
                perturbed: Vec::new(),
            })
        })
        .collect();
    if table.is_empty() {
        // Nothing is checked (observations only): nothing can flip, and
        // nothing is trained for it.
        return Ok(table);
    }
    for k in 1..=n {
        if !opts.quiet {
            say!("perturbation {k} of {n}");
        }
        for r in evaluate(opts, true, Some(k))? {
            for (i, f) in table.iter_mut().filter(|f| f.id == r.id).enumerate() {
                let check = r.checks.get(i).filter(|c| c.quantity == f.quantity);
                f.of += 1;
                f.flips += usize::from(check.is_none_or(|c| c.state != f.state));
                f.perturbed.push(check.map_or(f64::NAN, |c| c.measured.as_f64()));
            }
        }
    }
    Ok(table)
}

/// What a plan file would hold: the runs the selected claims need that the
/// cache lacks, how many claims were selected, and the files that did not load.
pub struct Missing {
    /// The trajectories, with every window, checkpoint and level log the claims need.
    pub runs: Vec<crate::cache::Trajectory>,
    /// Selected claims (loaded ones).
    pub claims: usize,
    /// Claim files that did not load.
    pub broken: Vec<LoadError>,
}

/// The runs the selected claims need that the cache lacks, for a plan file.
pub fn missing_runs(opts: &VerifyOptions) -> anyhow::Result<Missing> {
    let selected = selector(&opts.select)?;
    let (loaded, runner, plan) = prepare(opts, false, &selected, None)?;
    let claims = loaded.iter().filter_map(|c| c.as_ref().ok()).filter(|c| selected(&c.raw.id)).count();
    for claim in loaded.iter().filter_map(|c| c.as_ref().ok()).filter(|c| selected(&c.raw.id)) {
        for hint in super::hints::premise_hints(&claim.raw) {
            crate::say!("{}: hint: {hint}", claim.path.display());
        }
    }
    // A broken file counts when it is selected (its id, or its file name's,
    // matches the selection): an unrelated broken file does not stop a plan.
    let stem =
        |e: &LoadError| e.path.file_stem().map(|s| s.to_string_lossy().split('-').next().unwrap_or("").to_string());
    let broken = loaded
        .into_iter()
        .filter_map(Result::err)
        .filter(|e| selected(&e.id.clone().or_else(|| stem(e)).unwrap_or_default()))
        .collect();
    Ok(Missing { runs: plan.into_iter().filter(|s| !runner.is_cached(s)).collect(), claims, broken })
}

/// Every claim file, loaded or not; a runner; the selected claims' runs.
type Prepared = (Vec<Result<Claim, LoadError>>, Runner, Vec<crate::cache::Trajectory>);

/// Load the claim files, select, and plan the selected claims' runs.
fn prepare(
    opts: &VerifyOptions,
    train: bool,
    selected: &dyn Fn(&str) -> bool,
    perturb: Option<u32>,
) -> anyhow::Result<Prepared> {
    let root = opts.cache.root();
    anyhow::ensure!(!root.exists() || root.is_dir(), "the run cache {} is not a directory", root.display());
    let loaded = load_dir(&opts.claims_dir)?;
    let quiet = opts.quiet;
    let mut runner = Runner::new(
        opts.cache.clone(),
        opts.tier,
        opts.backend,
        Box::new(move |spec| epoch_reporter(run_name(spec), spec.epochs, quiet)),
    );
    if !train {
        runner = runner.cache_only();
    }
    if let Some(k) = perturb {
        runner = runner.perturbed(k);
    }
    let plan = runner.plan(loaded.iter().filter_map(|c| c.as_ref().ok()).filter(|c| selected(&c.raw.id)));
    Ok((loaded, runner, plan))
}

/// A `--claim` value: an id or a glob (`C0*`), checked when the command
/// line is read, so that a bad one is a bad command line.
pub fn claim_pattern(pattern: &str) -> Result<String, String> {
    Glob::new(pattern).map(|_| pattern.to_string()).map_err(|e| e.to_string())
}

/// Whether a claim id is selected by the ids or globs (all when empty).
fn selector(select: &[String]) -> anyhow::Result<impl Fn(&str) -> bool> {
    let mut patterns = GlobSetBuilder::new();
    for p in select {
        patterns.add(Glob::new(p)?);
    }
    let patterns = patterns.build()?;
    let all = select.is_empty();
    Ok(move |id: &str| all || patterns.is_match(id))
}

fn evaluate(opts: &VerifyOptions, train: bool, perturb: Option<u32>) -> anyhow::Result<Vec<ClaimResult>> {
    let selected = selector(&opts.select)?;
    let (loaded, runner, plan) = prepare(opts, train, &selected, perturb)?;
    let claims = loaded.iter().filter_map(|c| c.as_ref().ok()).filter(|c| selected(&c.raw.id)).count();
    for claim in loaded.iter().filter_map(|c| c.as_ref().ok()).filter(|c| selected(&c.raw.id)) {
        for hint in super::hints::premise_hints(&claim.raw) {
            crate::say!("{}: hint: {hint}", claim.path.display());
        }
    }
    // A backend this build lacks trains nothing: its claims are `Skipped`.
    // `--fresh` retrains every planned run, each replacing its cached copy
    // only once complete.
    let trains = train && opts.backend.available();
    let missing: Vec<_> = plan.iter().filter(|s| trains && (opts.fresh || !runner.is_cached(s))).collect();
    let cached = if train { plan.len() - missing.len() } else { plan.iter().filter(|s| runner.is_cached(s)).count() };
    let jobs = training_jobs(opts, &missing);
    announce(opts, claims, &plan, cached, missing.len(), jobs);
    let is_selected = |entry: &Result<Claim, LoadError>| match entry {
        Ok(claim) => selected(&claim.raw.id),
        Err(e) => e.id.as_deref().is_none_or(&selected) || file_id(&e.path).is_some_and(&selected),
    };
    let to_judge: Vec<&Claim> = loaded.iter().filter(|e| is_selected(e)).filter_map(|e| e.as_ref().ok()).collect();
    let mut judged =
        super::pool::train_and_judge(&runner, &missing, jobs, &to_judge, opts.fresh, opts.quiet).into_iter();
    // In the files' order: a broken selected file is an `Error` result.
    let judged = loaded.iter().filter(|e| is_selected(e)).map(|entry| match entry {
        Ok(_) => judged.next().expect("one result per claim judged"),
        Err(e) => ClaimResult::load_error(e, opts.tier),
    });
    Ok(judged.collect())
}

/// The verification's summary line (after the choice of jobs, where the
/// calibration made it): what it judges and trains, or why the backend
/// skips every claim.
fn announce(opts: &VerifyOptions, claims: usize, plan: &[Trajectory], cached: usize, to_train: usize, jobs: usize) {
    match opts.backend.check_built() {
        _ if opts.quiet => {}
        Err(missing) => say!("{missing}: {claims} claims skipped"),
        Ok(()) => {
            let runs: usize = plan.iter().map(|t| t.windows.len()).sum();
            say!(
                "{claims} claims, {} trajectories, {runs} runs ({cached} cached, {to_train} to train, {} at once) \
                 at the {} tier on {}",
                plan.len(),
                jobs,
                opts.tier.name(),
                opts.backend.name()
            );
        }
    }
}

/// The runs trained at once: `--jobs` where given; else one per core or
/// one per two cores, whichever this machine's calibration projects to
/// train `missing` first (docs/performance.md, "Lanes by measurement"),
/// said with both projections unless quiet.
pub fn training_jobs(opts: &VerifyOptions, missing: &[&Trajectory]) -> usize {
    use crate::estimate::{Calibration, Sharing, fastest};
    let cores = crate::jobs::cores();
    if let Some(jobs) = opts.jobs {
        return jobs;
    }
    if missing.is_empty() || Sharing::TwoLanes.jobs_on(cores) == Sharing::SideBySide.jobs_on(cores) {
        return Sharing::SideBySide.jobs_on(cores);
    }
    let projections = Calibration::of_this_checkout(false, opts.quiet).projections(missing, cores);
    let chosen = fastest(&projections);
    if !opts.quiet {
        let others: Vec<String> = projections.iter().filter(|p| *p != chosen).map(|p| p.describe()).collect();
        say!("training {} (projected by this machine's calibration), against {}", chosen.describe(), others.join(", "));
    }
    chosen.jobs
}

/// The id a claim file's name gives: its first `-`-separated segment.
fn file_id(path: &std::path::Path) -> Option<&str> {
    path.file_stem()?.to_str()?.split('-').next()
}
