//! Resolving the runs claims need and training the missing ones through
//! the cache: the runs of each claim, one plan of trajectories, and a
//! claim's measurement on its runs (docs/methods.md, "One trajectory, many
//! requests").

use std::collections::BTreeMap;

use super::experiment::Experiment;
use super::judge::{ClaimResult, Verdict};
use super::load::Claim;
use super::measure::{MeasureSpec, Measurement};
use super::tier::Tier;
use crate::backend::Backend;
use crate::cache::{Cache, Trajectory, cache_key, trajectory_key};
use crate::metrics::EpochRow;
use crate::runs::Run;
use crate::train::{LevelLog, TrainSpec};

/// The runs of each experiment of a claim at a tier, with the checkpoints its measures need.
pub fn claim_specs(claim: &Claim, tier: Tier, backend: Backend) -> BTreeMap<String, Vec<TrainSpec>> {
    let claim = claim.at(tier);
    // The measures that read each condition, found in one pass: a grid of
    // many points has as many measures.
    let mut readers: BTreeMap<&str, Vec<&MeasureSpec>> = BTreeMap::new();
    for m in &claim.measures {
        for c in m.conditions() {
            readers.entry(c).or_default().push(m);
        }
    }
    claim
        .experiments
        .iter()
        .map(|(name, e)| {
            let measures = readers.get(name.as_str()).map_or(&[][..], Vec::as_slice);
            let mut checkpoints: Vec<usize> = measures.iter().flat_map(|m| m.checkpoints(name)).collect();
            checkpoints.sort_unstable();
            checkpoints.dedup();
            let level = measures.iter().map(|m| m.level_needs(name, e)).fold(e.level_log(), LevelLog::union);
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
    pub fn specs(&self, claim: &Claim) -> BTreeMap<String, Vec<TrainSpec>> {
        let mut specs = claim_specs(claim, self.tier, self.backend);
        for spec in specs.values_mut().flatten() {
            spec.perturb = self.perturb;
        }
        specs
    }

    /// The Theorem-6 analyses `claim`'s measures read at this runner's
    /// tier: (run, checkpoint epoch, pairs), once per measure that reads
    /// it (`claims::pool` keeps one task per analysis).
    pub fn sign_rules(&self, claim: &Claim) -> Vec<(TrainSpec, usize, usize)> {
        let specs = self.specs(claim);
        let mut wanted = Vec::new();
        for m in &claim.at(self.tier).measures {
            for (condition, runs) in &specs {
                for (epoch, pairs) in m.sign_rules(condition) {
                    wanted.extend(runs.iter().map(|spec| (spec.clone(), epoch, pairs)));
                }
            }
        }
        wanted
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
