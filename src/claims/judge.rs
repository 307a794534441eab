//! Resolving the runs claims need, training the missing ones through the
//! cache, and judging each claim (docs/claims.md, "Verdicts": recorded outcomes,
//! like a strict xfail).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Tier;
pub use super::check::CheckResult;
use super::experiment::Experiment;
use super::load::{Claim, LoadError};
use super::measure::{MeasureSpec, Measurement};
use super::schema::{ClaimKind, Outcome};
use crate::backend::Backend;
use crate::cache::{Cache, Trajectory, cache_key, trajectory_key};
use crate::metrics::EpochRow;
use crate::runs::Run;
use crate::train::{LevelLog, TrainSpec};

/// A claim's verdict (SciUnit's vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The measurement agrees with the recorded outcome.
    Pass,
    /// It does not: the paper's figure or the harness changed.
    Fail,
    /// The claim could not be evaluated (broken file, diverged run, ...).
    Error,
    /// Not evaluated (e.g. its backend is not in this build).
    Skipped,
    /// An open hypothesis, judged with nothing recorded to compare against:
    /// neither passes nor fails (docs/claims.md, "Open hypotheses").
    Open,
}

/// Everything known about one claim after evaluation (`results.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Claim id (or the file name when the file did not load).
    pub id: String,
    /// The claim file.
    pub path: String,
    /// Title.
    pub title: String,
    /// The claim's kind (an identity or a harness finding is counted apart).
    #[serde(default)]
    pub kind: ClaimKind,
    /// The paper's words.
    pub statement: String,
    /// Where they come from.
    pub source: String,
    /// The paper's figure as quoted.
    pub paper: String,
    /// Tier evaluated.
    pub tier: Tier,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether every check held (None when not evaluated).
    pub reproduced: Option<bool>,
    /// The outcome recorded in the file.
    pub recorded_outcome: Option<Outcome>,
    /// The recorded finding, for claims that do not reproduce.
    pub finding: Option<String>,
    /// The error, for `Error` and `Skipped`.
    pub error: Option<String>,
    /// The checks.
    pub checks: Vec<CheckResult>,
    /// The preconditions (`requires:`), judged like checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<CheckResult>,
    /// Why the claim is ill-posed: a precondition that does not hold
    /// (docs/claims.md, "Preconditions").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ill_posed: Option<String>,
    /// All quantities and per-seed values the measures produced.
    pub measurement: Measurement,
    /// Cache keys of the runs used.
    pub runs: Vec<String>,
    /// The claim judged, as loaded and expanded (none for a file that did
    /// not load, or a result read back from JSON): reports and imported
    /// runs read it instead of loading the files again.
    #[serde(skip)]
    pub claim: Option<std::sync::Arc<Claim>>,
}

impl ClaimResult {
    /// Judge the checks of `claim` at this result's tier on `measurement`,
    /// check by check (docs/claims.md, "Verdicts"): a recorded failure that
    /// now holds fails the claim too.
    pub fn judge(&mut self, claim: &Claim, measurement: Measurement) {
        let value = |q: &str| measurement.value(q);
        let expanded = claim.at(self.tier);
        self.checks = expanded.expect.iter().map(|e| CheckResult::judge(e, &value)).collect();
        self.requires = expanded.requires.iter().map(|e| CheckResult::judge(e, &value)).collect();
        self.reproduced = Some(self.checks.iter().all(|c| c.holds));
        self.verdict = match (claim.is_open(), self.checks.iter().all(CheckResult::as_recorded)) {
            (true, _) => Verdict::Open,
            (false, true) => Verdict::Pass,
            (false, false) => Verdict::Fail,
        };
        self.measurement = measurement;
        if !self.checks.is_empty() && self.checks.iter().all(CheckResult::measured_nothing) {
            // A claim in which nothing was measured says nothing of the
            // paper, whatever was recorded (docs/claims.md, "Verdicts").
            self.verdict = Verdict::Error;
            self.reproduced = None;
            self.error = Some("not judged: nothing was measured (every check is undefined)".into());
        }
        let unmet: Vec<String> = self.requires.iter().filter(|c| !c.holds).map(CheckResult::describe).collect();
        if !unmet.is_empty() && self.verdict != Verdict::Error {
            // Its checks answer a question the runs did not pose: neither
            // supported nor refuted. A recorded claim fails (its premise
            // held when it was recorded); an open one stays open.
            self.ill_posed = Some(format!("precondition not met: {}", unmet.join("; ")));
            self.reproduced = None;
            self.verdict = if claim.is_open() { Verdict::Open } else { Verdict::Fail };
        }
    }

    /// The result of a file that did not load.
    pub fn load_error(error: &LoadError, tier: Tier) -> Self {
        let id = error
            .id
            .clone()
            .unwrap_or_else(|| error.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        Self {
            id,
            path: error.path.display().to_string(),
            title: String::new(),
            kind: ClaimKind::default(),
            statement: String::new(),
            source: String::new(),
            paper: String::new(),
            tier,
            verdict: Verdict::Error,
            reproduced: None,
            recorded_outcome: None,
            finding: None,
            error: Some(error.to_string()),
            checks: Vec::new(),
            requires: Vec::new(),
            ill_posed: None,
            measurement: Measurement::default(),
            runs: Vec::new(),
            claim: None,
        }
    }

    /// A result of `claim` at `tier`, not yet judged (verdict `Error`).
    pub fn new(claim: &Claim, tier: Tier) -> Self {
        let raw = &claim.raw;
        Self {
            id: raw.id.clone(),
            path: claim.path.display().to_string(),
            title: raw.title.clone(),
            kind: raw.kind,
            statement: raw.statement.clone(),
            source: raw.source.clone(),
            paper: raw.paper.clone(),
            tier,
            verdict: Verdict::Error,
            reproduced: None,
            recorded_outcome: Some(claim.outcome.at(tier)),
            finding: raw.finding.clone(),
            error: None,
            checks: Vec::new(),
            requires: Vec::new(),
            ill_posed: None,
            measurement: Measurement::default(),
            runs: Vec::new(),
            claim: Some(std::sync::Arc::new(claim.clone())),
        }
    }
}

/// The runs of each experiment of a claim at a tier, with the checkpoints its measures need.
pub fn claim_specs(claim: &Claim, tier: Tier, backend: Backend) -> BTreeMap<String, Vec<TrainSpec>> {
    let claim = claim.at(tier);
    claim
        .experiments
        .iter()
        .map(|(name, e)| {
            let mut checkpoints: Vec<usize> = claim.measures.iter().flat_map(|m| m.checkpoints(name)).collect();
            checkpoints.sort_unstable();
            checkpoints.dedup();
            let level = claim.measures.iter().map(|m| m.level_needs(name, e)).fold(None, LevelLog::union);
            let spec = |s| TrainSpec { level, ..e.train_spec(s, checkpoints.clone(), backend) };
            (name.clone(), e.seeds.at(tier).iter().copied().map(spec).collect())
        })
        .collect()
}

/// Gives the per-epoch callback of each run a [`Runner`] trains.
pub type TrainObserver = Box<dyn Fn(&TrainSpec) -> Box<dyn FnMut(&EpochRow)> + Send + Sync>;

/// Evaluates claims against cached (or newly trained) runs.
pub struct Runner {
    cache: Cache,
    tier: Tier,
    backend: Backend,
    /// Every planned run, by trajectory ([`trajectory_key`]): a trajectory
    /// several claims need is trained once, with all their epochs, windows,
    /// checkpoints and level epochs.
    planned: BTreeMap<String, Trajectory>,
    /// False: use cached runs only (reports never train).
    train: bool,
    /// Runs already read from disk, by cache key and epochs: claims sharing
    /// a run parse its directory once.
    loaded: std::sync::Mutex<BTreeMap<String, Run>>,
    /// Trajectories that failed to train in this invocation, by
    /// trajectory key, with the error: a run several claims need is tried once.
    failed: std::sync::Mutex<BTreeMap<String, String>>,
    on_train: TrainObserver,
    /// Runs start from perturbation k of their θ_0 (`verify-claims --perturb`).
    perturb: Option<u32>,
}

impl Runner {
    /// A runner over `cache`; `on_train(spec)` gives the per-epoch callback
    /// of each run it trains (progress display; a no-op in tests).
    pub fn new(cache: Cache, tier: Tier, backend: Backend, on_train: TrainObserver) -> Self {
        Self {
            cache,
            tier,
            backend,
            planned: BTreeMap::new(),
            train: true,
            loaded: Default::default(),
            failed: Default::default(),
            on_train,
            perturb: None,
        }
    }

    /// The same runner, its runs started from perturbation `k` of θ_0
    /// ([`crate::train::perturb`]; docs/methods.md, "Fragility").
    pub fn perturbed(mut self, k: u32) -> Self {
        self.perturb = Some(k);
        self
    }

    /// The runs of each experiment of `claim` at this runner's tier, perturbed if asked.
    fn specs(&self, claim: &Claim) -> BTreeMap<String, Vec<TrainSpec>> {
        let mut specs = claim_specs(claim, self.tier, self.backend);
        for spec in specs.values_mut().flatten() {
            spec.perturb = self.perturb;
        }
        specs
    }

    /// The same runner, restricted to runs already in the cache.
    pub fn cache_only(mut self) -> Self {
        self.train = false;
        self
    }

    /// Plan the runs of `claims`: one [`Trajectory`] per trajectory they
    /// need, in a stable order. Returns them; [`Runner::evaluate`] then
    /// uses the plan.
    pub fn plan<'a>(&mut self, claims: impl IntoIterator<Item = &'a Claim>) -> Vec<Trajectory> {
        for claim in claims {
            for spec in self.specs(claim).into_values().flatten() {
                match self.planned.get_mut(&trajectory_key(&spec)) {
                    Some(trajectory) => trajectory.add(&spec),
                    None => {
                        self.planned.insert(trajectory_key(&spec), Trajectory::of(&spec));
                    }
                }
            }
        }
        self.planned.values().cloned().collect()
    }

    /// Whether every run of `trajectory` is already in the cache.
    pub fn is_cached(&self, trajectory: &Trajectory) -> bool {
        trajectory.specs().iter().all(|spec| self.cache.lookup(spec).is_some())
    }

    /// The planned trajectory of `spec` (or its own, unplanned).
    fn trajectory_of(&self, spec: &TrainSpec) -> Trajectory {
        self.planned.get(&trajectory_key(spec)).cloned().unwrap_or_else(|| Trajectory::of(spec))
    }

    /// Train `trajectory` if the cache lacks any of its runs, or again
    /// where `fresh`, replacing its cached runs once the new ones are
    /// complete ([`Cache::retrain`]). A failure makes the claims of its
    /// runs errors: they are never judged on an old run when `fresh` asked
    /// for new ones.
    pub fn train(&self, trajectory: &Trajectory, fresh: bool) -> anyhow::Result<()> {
        let key = trajectory_key(&trajectory.spec);
        if let Some(error) = self.failed.lock().expect("no panics while held").get(&key) {
            anyhow::bail!("{error} (failed earlier in this verification; not retried)");
        }
        let mut on_row = (self.on_train)(&trajectory.spec);
        let trained = match fresh {
            true => contained(|| self.cache.retrain(trajectory, &mut *on_row)),
            false => contained(|| self.cache.get_or_train(trajectory, &mut *on_row).map(|_| ())),
        };
        trained.inspect_err(|e| {
            let why = if fresh { format!("retraining (--fresh) failed: {e:#}") } else { format!("{e:#}") };
            self.failed.lock().expect("no panics while held").insert(key, why);
        })
    }

    /// The run of `spec`, training its planned trajectory if needed.
    pub fn run_of(&self, spec: &TrainSpec) -> anyhow::Result<Run> {
        spec.backend.check_built()?;
        if let Some(error) = self.failed.lock().expect("no panics while held").get(&trajectory_key(spec)) {
            anyhow::bail!("{error} (failed earlier in this verification; not retried)");
        }
        let memo_key = format!("{}@{}", cache_key(spec), spec.epochs);
        if let Some(run) = self.loaded.lock().expect("no panics while held").get(&memo_key) {
            return Ok(run.clone());
        }
        let run = match self.cache.check(spec) {
            Ok(run) => run,
            Err(_) if self.train => {
                self.train(&self.trajectory_of(spec), false)?;
                self.cache.check(spec)?
            }
            Err(why) => anyhow::bail!(
                "run {} is not in the cache (run `cargo xtask verify-claims` first): {why:#}",
                cache_key(spec)
            ),
        };
        self.loaded.lock().expect("no panics while held").insert(memo_key, run.clone());
        Ok(run)
    }

    /// Evaluate one claim at the runner's tier.
    pub fn evaluate(&self, claim: &Claim) -> ClaimResult {
        let mut result = ClaimResult::new(claim, self.tier);
        if let Err(missing) = self.backend.check_built() {
            result.verdict = Verdict::Skipped;
            result.error = Some(missing.to_string());
            return result;
        }
        let specs = self.specs(claim);
        result.runs = specs.values().flatten().map(cache_key).collect();
        match contained(|| self.measure(claim, &specs)) {
            Err(e) => result.error = Some(format!("{e:#}")),
            Ok(measurement) => result.judge(claim, measurement),
        }
        result
    }

    fn measure(&self, claim: &Claim, specs: &BTreeMap<String, Vec<TrainSpec>>) -> anyhow::Result<Measurement> {
        let claim = claim.at(self.tier);
        let runs = |condition: &str| -> anyhow::Result<Vec<Run>> {
            let experiment = &claim.experiments[condition];
            specs[condition].iter().map(|spec| admitted(self.run_of(spec)?, experiment, condition)).collect()
        };
        let sign_rule = |run: &Run, epoch: usize, pairs: usize| crate::theorem6_store::sign_rule(run, epoch, pairs);
        MeasureSpec::measure_all(&claim.measures, &runs, &sign_rule)
    }
}

/// `run` of condition `condition`, unless it diverged or collapsed where
/// `experiment` does not count that as an outcome (then the claim's error).
pub fn admitted(run: Run, experiment: &Experiment, condition: &str) -> anyhow::Result<Run> {
    let name = run.dir.display();
    match (run.summary.diverged_at, run.summary.collapsed_at) {
        (Some(epoch), _) if !experiment.may_diverge => anyhow::bail!(
            "run {name} of `{condition}` diverged: non-finite training loss at epoch {epoch} \
             (say `may_diverge: true` to count divergence as an outcome)"
        ),
        (_, Some(epoch)) if !experiment.may_collapse => anyhow::bail!(
            "run {name} of `{condition}` collapsed to zero output at epoch {epoch} \
             (say `may_collapse: true` to count collapse as an outcome)"
        ),
        _ => Ok(run),
    }
}

/// `work()`, with a panic inside it turned into an error naming where it
/// happened: a bug in one measure or one run is that claim's `Error`, and
/// the other claims are still judged (docs/claims.md, "Verdicts").
pub fn contained<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".into());
        Err(anyhow::anyhow!("internal error (a panic, please report it): {what}"))
    })
}

/// Write `results.json` (all results, tier and counts) to `path`.
pub fn write_results(path: &Path, results: &[ClaimResult]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::json!({ "counts": counts(results), "claims": results });
    // Written beside and renamed: a failure leaves the last good file.
    crate::files::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())
}

/// Whether a verification succeeded (exit status 0): no claim failed or is
/// in error, and something was checked (every claim skipped means the
/// requested backend is not in this build).
pub fn succeeded(results: &[ClaimResult]) -> bool {
    let bad = results.iter().any(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error));
    let none_checked = results.iter().all(|r| r.verdict == Verdict::Skipped);
    !bad && !none_checked
}

/// How many results have each verdict.
pub fn counts(results: &[ClaimResult]) -> BTreeMap<&'static str, usize> {
    let mut c = BTreeMap::from([("passed", 0), ("failed", 0), ("errors", 0), ("skipped", 0), ("open", 0)]);
    for r in results {
        let key = match r.verdict {
            Verdict::Pass => "passed",
            Verdict::Fail => "failed",
            Verdict::Error => "errors",
            Verdict::Skipped => "skipped",
            Verdict::Open => "open",
        };
        *c.get_mut(key).expect("all keys present") += 1;
    }
    c
}

/// The last line of a verification: "N passed, N failed" (+ errors,
/// skipped), with how many of the passes are identities or harness findings.
pub fn summary_line(results: &[ClaimResult]) -> String {
    let c = counts(results);
    let passed = |kind| results.iter().filter(|r| r.verdict == Verdict::Pass && r.kind == kind).count();
    let apart: Vec<String> = [
        (ClaimKind::Identity, "identity", "identities"),
        (ClaimKind::HarnessFinding, "harness finding", "harness findings"),
        (ClaimKind::Hypothesis, "hypothesis", "hypotheses"),
        (ClaimKind::Observation, "observation", "observations"),
    ]
    .into_iter()
    .filter(|(k, ..)| passed(*k) > 0)
    .map(|(k, one, many)| format!("{} {}", passed(k), if passed(k) == 1 { one } else { many }))
    .collect();
    let of_which = if apart.is_empty() { String::new() } else { format!(" (of which {})", apart.join(", ")) };
    let mut line = format!("{} passed{of_which}, {} failed", c["passed"], c["failed"]);
    for key in ["errors", "skipped"] {
        if c[key] > 0 {
            line.push_str(&format!(", {} {key}", c[key]));
        }
    }
    if c["open"] > 0 {
        let plural = if c["open"] == 1 { "hypothesis" } else { "hypotheses" };
        line.push_str(&format!(", {} open {plural} (record with `cargo xtask record ID`)", c["open"]));
    }
    line
}
