//! The on-disk run cache (docs/methods.md, "The cache").
//!
//! A run is keyed by an FNV-1a 64 hash of its resolved [`TrainSpec`]
//! (checkpoint epochs excluded: they do not change the trajectory) and
//! [`CODE_VERSION`]. It is trained in a staging directory named uniquely
//! across hosts and processes, then published by one rename: an interrupted
//! run leaves nothing that looks complete, and when two processes (or two
//! hosts sharing a network file system) train the same run, the first
//! publish wins and the other discards its copy. A per-run lock file keeps
//! one host from training a run twice; nothing relies on it across hosts.
//! Reading a complete cache needs no write access.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::files::{create_dir, unique_suffix};
use crate::metrics::EpochRow;
use crate::runs::{CODE_VERSION, Run, fnv1a64, train_windows_into};
use crate::say;
use crate::train::{LevelLog, TrainSpec};

/// Staging left by a process on another host is removed after this long.
const FOREIGN_STAGING_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The cache key of a spec: everything that changes its trajectory or its
/// log, with the code version and numerics scheme; not the checkpoint
/// epochs, the level log or the number of epochs, which a run trained
/// longer, or with more of them, serves too ([`Cache::check`]).
pub fn cache_key(spec: &TrainSpec) -> String {
    let identity = run_identity(spec);
    let scheme = crate::numerics::scheme_of(spec.backend, spec.ieee_subnormals);
    let text = serde_json::to_string(&(CODE_VERSION, scheme, identity)).expect("spec serialises");
    let task = if spec.task.is_add() { String::new() } else { format!("{}-", spec.task) };
    let tag = format!("{task}{}-{}-eta{:e}-s{}", spec.activation.name(), spec.backend.name(), spec.eta, spec.seed);
    format!("{tag}-{:016x}", fnv1a64(text.as_bytes()))
}

/// What makes a run the same run, whatever its length and extra logs (a
/// longer run serves a shorter request as its prefix; checkpoints and the
/// level log are added to a trajectory): the spec without its epochs,
/// checkpoints and level log. The cache key, the trajectory key and
/// imported runs' matching derive from it (docs/methods.md, "One
/// trajectory, many requests").
pub fn run_identity(spec: &TrainSpec) -> TrainSpec {
    TrainSpec { checkpoints: Vec::new(), level: None, epochs: 0, ..spec.clone() }
}

/// The key of a spec's trajectory: its cache key without the window, which
/// changes no weight. Runs that share it are trained in one pass.
pub fn trajectory_key(spec: &TrainSpec) -> String {
    cache_key(&TrainSpec { window: 0, ..spec.clone() })
}

/// The runs of one trajectory asked for together (docs/methods.md, "One
/// trajectory, many requests"): `spec` holds what they need in all (the
/// most epochs, every checkpoint, the union of the level logs), trained
/// once and logged over each of `windows` (the first is `spec.window`).
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// The union of the requests, with the first window.
    pub spec: TrainSpec,
    /// Every window asked for, in the order first asked.
    pub windows: Vec<usize>,
}

impl Trajectory {
    /// The trajectory of one request.
    pub fn of(spec: &TrainSpec) -> Self {
        Self { spec: spec.clone(), windows: vec![spec.window] }
    }

    /// Add a request of the same trajectory.
    pub fn add(&mut self, spec: &TrainSpec) {
        debug_assert_eq!(trajectory_key(spec), trajectory_key(&self.spec));
        self.spec = covering(&self.spec, spec);
        if !self.windows.contains(&spec.window) {
            self.windows.push(spec.window);
        }
    }

    /// One spec per window: the runs it publishes.
    pub fn specs(&self) -> Vec<TrainSpec> {
        self.windows.iter().map(|&window| TrainSpec { window, ..self.spec.clone() }).collect()
    }

    /// A name for progress lines: the first window's key, and the others.
    pub fn label(&self) -> String {
        let key = cache_key(&self.spec);
        match &self.windows[1..] {
            [] => key,
            others => format!("{key} (and windows {others:?})"),
        }
    }
}

/// `a` extended to serve `b` too: the most epochs, both checkpoint lists
/// and both level logs.
fn covering(a: &TrainSpec, b: &TrainSpec) -> TrainSpec {
    TrainSpec {
        epochs: a.epochs.max(b.epochs),
        checkpoints: union(&a.checkpoints, &b.checkpoints),
        level: LevelLog::union(a.level, b.level),
        ..a.clone()
    }
}

/// The on-disk cache of complete runs.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$LOCKIN_CACHE` (set and not empty; a relative path is the caller's),
    /// else `target/lockin/cache` in the current checkout (outside one, an
    /// error: [`crate::project::writable_root`]).
    pub fn default_root() -> anyhow::Result<PathBuf> {
        match std::env::var_os("LOCKIN_CACHE").filter(|v| !v.is_empty()) {
            Some(dir) => Ok(PathBuf::from(dir)),
            None => {
                Ok(crate::project::output_dir("the run cache", "name it with --cache DIR or $LOCKIN_CACHE")?
                    .join("cache"))
            }
        }
    }

    /// `explicit` if given, else [`Cache::default_root`].
    pub fn at_or_default(explicit: Option<PathBuf>) -> anyhow::Result<Self> {
        Ok(Self::new(match explicit {
            Some(dir) => dir,
            None => Self::default_root()?,
        }))
    }

    /// Its root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the run of `spec` lives once complete.
    pub fn run_dir(&self, spec: &TrainSpec) -> PathBuf {
        self.root.join("runs").join(cache_key(spec))
    }

    /// The cached run of `spec` if it is complete and has its checkpoints.
    pub fn lookup(&self, spec: &TrainSpec) -> Option<Run> {
        self.check(spec).ok()
    }

    /// The cached run of `spec`, or why it cannot be used: the run under
    /// its key, trained for at least its epochs (or ended before them) and
    /// read as its first `spec.epochs` ([`Run::prefix`]), with its level
    /// log and checkpoints.
    pub fn check(&self, spec: &TrainSpec) -> anyhow::Result<Run> {
        let run = self.same_run(spec)?;
        let ended = run.summary.diverged_at.or(run.summary.collapsed_at.filter(|_| !run.spec.through_collapse));
        anyhow::ensure!(
            run.spec.epochs >= spec.epochs || ended.is_some(),
            "{}: trained for {} epochs, not {}",
            run.dir.display(),
            run.spec.epochs,
            spec.epochs
        );
        let run = run.prefix(spec.epochs);
        if let Some(need) = &spec.level {
            // A run of E epochs logs ρ up to E at most, whatever it asks.
            let need = LevelLog { until: need.until.min(spec.epochs), ..*need };
            let covered = run.spec.level.is_some_and(|has| has.covers(&need));
            anyhow::ensure!(covered, "{}: its level log does not cover {need}", run.dir.display());
        }
        let missing: Vec<usize> = spec.checkpoints.iter().copied().filter(|&e| !run.has_checkpoints(&[e])).collect();
        anyhow::ensure!(missing.is_empty(), "{}: lacks checkpoints {missing:?}", run.dir.display());
        for &epoch in &spec.checkpoints {
            run.verify_checkpoint(epoch)?;
        }
        Ok(run)
    }

    /// The complete run under `spec`'s key, if it is `spec`'s trajectory
    /// and window (whatever its epochs, checkpoints and level log).
    fn same_run(&self, spec: &TrainSpec) -> anyhow::Result<Run> {
        anyhow::ensure!(
            !self.root.exists() || self.root.is_dir(),
            "the run cache {} is not a directory",
            self.root.display()
        );
        let run = Run::load(&self.run_dir(spec))?;
        anyhow::ensure!(
            run_identity(&run.spec) == run_identity(spec),
            "{}: its spec.json is for another run",
            run.dir.display()
        );
        anyhow::ensure!(
            !run.from_file,
            "{}: it started from an --init-from file, not the seeded initial weights",
            run.dir.display()
        );
        Ok(run)
    }

    /// The runs of `trajectory`: from the cache, or trained now in one pass
    /// for every window the cache lacks (then true). A damaged cached run
    /// is retrained and the reason printed; a complete one that lacks
    /// epochs, checkpoints or level epochs is extended ([`Cache::extend`]),
    /// never cut back.
    pub fn get_or_train(&self, trajectory: &Trajectory, on_row: &mut dyn FnMut(&EpochRow)) -> anyhow::Result<bool> {
        let specs = trajectory.specs();
        if specs.iter().all(|spec| self.check(spec).is_ok()) {
            return Ok(false);
        }
        let _locks = self.lock_all(&specs)?; // released on drop
        let todo: Vec<TrainSpec> = specs
            .into_iter()
            .filter(|spec| match self.check(spec) {
                Ok(_) => false,
                Err(why) => {
                    if self.run_dir(spec).exists() {
                        let what = if self.same_run(spec).is_ok() { "extending" } else { "retraining" };
                        say!("lockin: {what} {}: {why:#}", cache_key(spec));
                    }
                    true
                }
            })
            .collect();
        if todo.is_empty() {
            return Ok(false);
        }
        self.train_and_place(&todo, trajectory, on_row, false)?;
        Ok(true)
    }

    /// Train `trajectory` again (`verify-claims --fresh`), with every epoch,
    /// checkpoint and level epoch its cached runs have besides (nothing
    /// another claim set reads is cut back), and put each run in place of
    /// its cached one once all are complete ([`Cache::swap_in`]): until
    /// then the old runs stay whole.
    pub fn retrain(&self, trajectory: &Trajectory, on_row: &mut dyn FnMut(&EpochRow)) -> anyhow::Result<()> {
        let specs = trajectory.specs();
        let _locks = self.lock_all(&specs)?; // released on drop
        self.train_and_place(&specs, trajectory, on_row, true)
    }

    /// Train the runs `todo` (of `trajectory`) in one pass into staging,
    /// grown to cover what their cached versions hold, then put each in
    /// place: a fresh one published, a cached one extended, or replaced
    /// where `replace`.
    fn train_and_place(
        &self,
        todo: &[TrainSpec],
        trajectory: &Trajectory,
        on_row: &mut dyn FnMut(&EpochRow),
        replace: bool,
    ) -> anyhow::Result<()> {
        let cached: Vec<Option<Run>> = todo.iter().map(|spec| self.same_run(spec).ok()).collect();
        let union = cached.iter().flatten().fold(trajectory.spec.clone(), |u, old| covering(&u, &old.spec));
        self.clean_staging();
        let staged: Vec<(PathBuf, usize)> = todo
            .iter()
            .map(|spec| {
                (self.root.join("staging").join(format!("{}~{}", cache_key(spec), unique_suffix())), spec.window)
            })
            .collect();
        let owned: Vec<File> =
            staged.iter().map(|(dir, _)| crate::files::own_staging(dir)).collect::<anyhow::Result<_>>()?;
        let placed = train_windows_into(&staged, &union, &union.seeded_start(), None, on_row).and_then(|runs| {
            for ((run, spec), old) in runs.iter().zip(todo).zip(&cached) {
                match old {
                    Some(_) if replace => self.swap_in(&run.dir, &self.run_dir(spec), &cache_key(spec)).map(|_| ()),
                    Some(old) => self.extend(old, run).map(|_| ()),
                    None => self.publish(&run.dir, &self.run_dir(spec), spec).map(|_| ()),
                }?;
            }
            Ok(())
        });
        for ((dir, _), lock) in staged.iter().zip(owned) {
            crate::files::release_staging(dir, lock);
        }
        placed.with_context(|| format!("training {}", trajectory.label()))
    }

    /// This host's locks on the runs of `specs`, taken in key order (so two
    /// processes locking overlapping sets cannot wait on each other).
    fn lock_all(&self, specs: &[TrainSpec]) -> anyhow::Result<Vec<File>> {
        let mut keys: Vec<String> = specs.iter().map(cache_key).collect();
        keys.sort();
        keys.dedup();
        keys.iter().map(|key| self.lock(key)).collect()
    }

    /// This host's lock on the run `key` (`locks/KEY.lock`), held until dropped.
    fn lock(&self, key: &str) -> anyhow::Result<File> {
        let locks = self.root.join("locks");
        create_dir(&locks)?;
        let lock_path = locks.join(format!("{key}.lock"));
        let lock = File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
        lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
        Ok(lock)
    }

    /// Give the cached run `old` the epochs, checkpoints and level log of
    /// `new`, a complete retraining of the same trajectory (in staging) with
    /// the union of both: the retrained log's first epochs must equal the
    /// cached log bit for bit; the Theorem-6 results stored beside `old` (same checkpoint bytes)
    /// are kept; then `new` replaces `old` by [`Cache::swap_in`], so an
    /// interruption leaves `old` whole, and nothing any claim set read is lost.
    fn extend(&self, old: &Run, new: &Run) -> anyhow::Result<Run> {
        let read = |run: &Run, name: &str| fs::read(run.dir.join(name)).with_context(|| format!("reading {name}"));
        let old_log = read(old, "metrics.csv")?;
        anyhow::ensure!(
            old_log == new.prefix(old.spec.epochs).metrics.to_csv().into_bytes(),
            "{}: retraining it gave another log (the run is not deterministic here); not extended \
             (`verify-claims --fresh` retrains it from scratch)",
            old.dir.display()
        );
        for entry in fs::read_dir(&old.dir)?.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("theorem6-") && !new.dir.join(&name).exists() {
                fs::copy(entry.path(), new.dir.join(&name))?;
            }
        }
        let key = old.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.swap_in(&new.dir, &old.dir, &key)
    }

    /// Replace the run directory `dir` (if any) by the complete `staging`:
    /// the old one is renamed aside, the new one renamed into place, the old
    /// one removed. A reader between the two renames sees no run (and waits
    /// on the lock, or reports it missing); never a mixture.
    fn swap_in(&self, staging: &Path, dir: &Path, key: &str) -> anyhow::Result<Run> {
        let aside = self.root.join("staging").join(format!("{key}~{}", unique_suffix()));
        crate::files::publish_dir(staging, dir, &aside)?;
        Run::load(dir)
    }

    /// Move a complete staging directory into place. If a complete run is
    /// already there (another process published first), ours is discarded;
    /// an incomplete one is moved aside first.
    fn publish(&self, staging: &Path, dir: &Path, spec: &TrainSpec) -> anyhow::Result<(Run, bool)> {
        if let Ok(run) = self.check(spec) {
            return Ok((run, false));
        }
        let aside = self.root.join("staging").join(format!("{}~{}", cache_key(spec), unique_suffix()));
        if let Err(e) = crate::files::publish_dir(staging, dir, &aside) {
            // Another host may have published between the check and the rename.
            return self.check(spec).map(|run| (run, false)).map_err(|_| e);
        }
        Ok((Run::load(dir)?, true))
    }

    /// Remove staging left by killed processes ([`crate::files::sweep_staging`]):
    /// a staging directory whose lock nobody holds; a directory moved aside
    /// once its owner is known gone or a week old.
    pub fn clean_staging(&self) {
        crate::files::sweep_staging(&self.root.join("staging"), FOREIGN_STAGING_TTL);
    }
}

/// The sorted union of two checkpoint lists.
fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut all: Vec<usize> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::train_into;

    /// The run of `spec` through its own trajectory, and whether it was trained.
    fn get(cache: &Cache, spec: &TrainSpec) -> anyhow::Result<(Run, bool)> {
        let trained = cache.get_or_train(&Trajectory::of(spec), &mut |_| {})?;
        Ok((cache.check(spec)?, trained))
    }

    use crate::runs::tiny_spec as tiny;

    #[test]
    fn key_ignores_checkpoints_but_not_hyperparameters() {
        let spec = tiny();
        assert_eq!(cache_key(&spec), cache_key(&TrainSpec { checkpoints: vec![1, 2], ..spec.clone() }));
        assert_ne!(cache_key(&spec), cache_key(&TrainSpec { eta: 0.0, ..spec.clone() }));
        assert_ne!(cache_key(&spec), cache_key(&TrainSpec { seed: 1, ..spec.clone() }));
        assert_ne!(cache_key(&spec), cache_key(&TrainSpec { rng: crate::seeding::RngScheme::Chacha, ..spec }));
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c); // FNV-1a 64 test vector
    }

    #[test]
    fn cache_trains_once_and_distrusts_partial_runs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = tiny();
        let (first, trained) = get(&cache, &spec).unwrap();
        assert!(trained);
        let (second, trained) = get(&cache, &spec).unwrap();
        assert!(!trained);
        assert_eq!(first.metrics.to_csv(), second.metrics.to_csv());
        assert!(second.checkpoint(4).is_ok());
        // A run killed before DONE is retrained; so is a corrupted one.
        fs::remove_file(cache.run_dir(&spec).join("DONE")).unwrap();
        assert!(get(&cache, &spec).unwrap().1);
        fs::write(cache.run_dir(&spec).join("metrics.csv"), "garbage").unwrap();
        assert!(cache.lookup(&spec).is_none());
        let (third, trained) = get(&cache, &spec).unwrap();
        assert!(trained);
        assert_eq!(third.metrics.to_csv(), first.metrics.to_csv());
        // Asking for a checkpoint the cached run lacks retrains it.
        let more = TrainSpec { checkpoints: vec![4, 8], ..spec };
        assert!(cache.lookup(&more).is_none());
        assert!(get(&cache, &more).unwrap().0.checkpoint(8).is_ok());
    }

    /// Two claim sets needing different checkpoints of one run: the second
    /// extends the run, and what the first read stays readable, even
    /// through the `Run` it loaded before: retraining with only the second
    /// set's checkpoints would lose the first set's checkpoint 4.
    #[test]
    fn checkpoints_are_added_never_taken_away() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let first = TrainSpec { checkpoints: vec![4], ..tiny() };
        let second = TrainSpec { checkpoints: vec![8], ..tiny() };
        let (run_a, _) = get(&cache, &first).unwrap();
        let theorem6 = run_a.dir.join("theorem6-note.json");
        fs::write(&theorem6, "kept").unwrap();
        let (run_b, trained) = get(&cache, &second).unwrap();
        assert!(trained);
        assert!(run_a.checkpoint(4).is_ok(), "the first set's checkpoint survives");
        assert!(run_b.checkpoint(8).is_ok());
        assert!(cache.lookup(&first).is_some() && cache.lookup(&second).is_some());
        assert_eq!(run_b.spec.checkpoints, vec![4, 8]);
        assert!(theorem6.exists(), "results stored beside the run are kept");
    }

    /// "The same run" is one notion: every field of a spec either changes
    /// the trajectory key (it changes the weights or the log) or is listed
    /// as served by a longer, or more fully logged, run. A new field does
    /// not compile here until it is placed in one of the lists.
    #[test]
    fn every_spec_field_is_in_the_identity_or_served_by_a_bigger_run() {
        use crate::model::Activation;
        let base = tiny();
        let TrainSpec {
            modulus: _,
            task: _,
            width: _,
            train_fraction: _,
            activation: _,
            lr: _,
            eta: _,
            epochs: _,
            window: _,
            seed: _,
            rng: _,
            checkpoints: _,
            level: _,
            backend: _,
            ieee_subnormals: _,
            through_collapse: _,
            gram: _,
            perturb: _,
        } = base.clone();
        let identity = [
            TrainSpec { modulus: 7, ..base.clone() },
            TrainSpec { task: crate::task::Task::Mul, ..base.clone() },
            TrainSpec { task: crate::task::Task::Sub, ..base.clone() },
            TrainSpec { width: 16, ..base.clone() },
            TrainSpec { train_fraction: 0.5, ..base.clone() },
            TrainSpec { activation: Activation::Relu, ..base.clone() },
            TrainSpec { lr: 2e-3, ..base.clone() },
            TrainSpec { eta: 1e-4, ..base.clone() },
            TrainSpec { seed: 9, ..base.clone() },
            TrainSpec { rng: crate::seeding::RngScheme::Chacha, ..base.clone() },
            TrainSpec { backend: crate::backend::Backend::Ndarray, ..base.clone() },
            TrainSpec { ieee_subnormals: true, ..base.clone() },
            TrainSpec { through_collapse: true, ..base.clone() },
            TrainSpec { gram: crate::probes::spectrum::GramPrecision::F32, ..base.clone() },
            TrainSpec { perturb: Some(1), ..base.clone() },
        ];
        for other in &identity {
            assert_ne!(trajectory_key(other), trajectory_key(&base), "{other:?}");
        }
        let window = TrainSpec { window: 4, ..base.clone() };
        assert_eq!(trajectory_key(&window), trajectory_key(&base), "a window is logged in the same pass");
        assert_ne!(cache_key(&window), cache_key(&base), "but is a run of its own");
        let level = Some(LevelLog { until: 5, stop_above: None, every: 1 });
        for served in [
            TrainSpec { epochs: 20, ..base.clone() },
            TrainSpec { checkpoints: vec![1, 2], ..base.clone() },
            TrainSpec { level, ..base.clone() },
        ] {
            assert_eq!(cache_key(&served), cache_key(&base), "{served:?}");
        }
    }

    /// One trajectory asked for with three windows and two lengths is
    /// trained once; each window's run, and the shorter request read as
    /// the longer run's prefix, equal bit for bit the runs trained alone.
    #[test]
    fn one_trajectory_serves_every_window_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("shared"));
        let alone = Cache::new(dir.path().join("alone"));
        let level = Some(LevelLog { until: 10, stop_above: None, every: 1 });
        let long = TrainSpec { epochs: 16, level, ..tiny() };
        let requests = [
            TrainSpec { window: 2, epochs: 9, checkpoints: vec![], ..long.clone() },
            TrainSpec { window: 5, ..long.clone() },
            TrainSpec { window: 3, epochs: 12, checkpoints: vec![8], level: None, ..long.clone() },
        ];
        let mut trajectory = Trajectory::of(&requests[0]);
        requests[1..].iter().for_each(|r| trajectory.add(r));
        assert_eq!(trajectory.windows, vec![2, 5, 3]);
        assert_eq!((trajectory.spec.epochs, trajectory.spec.checkpoints.clone()), (16, vec![4, 8]));
        assert!(cache.get_or_train(&trajectory, &mut |_| {}).unwrap());
        assert!(!cache.get_or_train(&trajectory, &mut |_| {}).unwrap(), "trained once");
        assert_eq!(fs::read_dir(dir.path().join("shared/runs")).unwrap().count(), 3, "a run per window");
        for request in &requests {
            let shared = cache.check(request).unwrap();
            let (own, _) = get(&alone, request).unwrap();
            assert_eq!(shared.metrics.to_csv(), own.metrics.to_csv(), "window {}", request.window);
            assert!(shared.summary.same_as(&own.summary));
            if request.level.is_some() {
                assert_eq!(shared.levels, own.levels);
            }
            assert_eq!(shared.spec.epochs, request.epochs);
        }
        // A longer request extends the run; the shorter ones still read the same.
        let longer = TrainSpec { epochs: 20, ..requests[2].clone() };
        assert!(get(&cache, &longer).unwrap().1);
        assert_eq!(
            cache.check(&requests[2]).unwrap().metrics.to_csv(),
            get(&alone, &requests[2]).unwrap().0.metrics.to_csv()
        );
        assert_eq!(get(&alone, &longer).unwrap().0.metrics.to_csv(), cache.check(&longer).unwrap().metrics.to_csv());
    }

    /// A run started from an `--init-from` file is never served as the
    /// seeded run of its spec, although its spec is the same.
    #[test]
    fn runs_from_init_files_are_not_seeded_runs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = tiny();
        let weights = dir.path().join("start.safetensors");
        let start = spec.seeded_start();
        fs::write(&weights, crate::checkpoint::to_bytes(5, 8, &start.weights, Some(&start.split)).unwrap()).unwrap();
        train_into(&cache.run_dir(&spec), &spec, &start, Some(&weights), &mut |_| {}).unwrap();
        let why = cache.check(&spec).unwrap_err().to_string();
        assert!(why.contains("--init-from"), "{why}");
        let spec_json = fs::read_to_string(cache.run_dir(&spec).join("spec.json")).unwrap();
        assert!(spec_json.contains("init_from_hash"), "the file's hash is recorded");
    }

    /// A cache root that is a file is an error naming it, not "not in the cache".
    #[test]
    fn a_cache_root_that_is_a_file_is_named() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let cache = Cache::new(file.path());
        let why = cache.check(&tiny()).unwrap_err().to_string();
        assert!(why.contains("is not a directory") && why.contains(&file.path().display().to_string()), "{why}");
    }

    /// Two hosts that do not share a lock (flock is unreliable across NFS
    /// clients) both train a run and publish it: the first rename wins, the
    /// second finds a complete run and keeps it, and the cache holds one run.
    #[test]
    fn two_hosts_publishing_one_run_keep_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = tiny();
        let stage = |host: &str| {
            let staging = dir.path().join("staging").join(format!("{}~{host}~1~0", cache_key(&spec)));
            train_into(&staging, &spec, &spec.seeded_start(), None, &mut |_| {}).unwrap();
            staging
        };
        let (a, b) = (stage("hostA"), stage("hostB"));
        let target = cache.run_dir(&spec);
        let (first, published) = cache.publish(&a, &target, &spec).unwrap();
        assert!(published, "the first publish moves its copy into place");
        let done = fs::read(target.join("DONE")).unwrap();
        let (second, published) = cache.publish(&b, &target, &spec).unwrap();
        assert!(!published, "the second finds a complete run and keeps it");
        assert_eq!(fs::read(target.join("DONE")).unwrap(), done, "the published run is untouched");
        assert_eq!(first.metrics.to_csv(), second.metrics.to_csv());
        assert_eq!(fs::read_dir(dir.path().join("runs")).unwrap().count(), 1);
        assert!(cache.lookup(&spec).is_some());
    }
}
