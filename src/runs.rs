//! Run directories and the on-disk run cache (issue "claims engine", SPEC §2).
//!
//! A run directory holds `spec.json`, `metrics.csv` (see [`crate::metrics`]),
//! `summary.json`, `checkpoint-eNNNN.safetensors` per requested epoch and a
//! `DONE` marker written last: a directory without it is never trusted.
//!
//! The cache keys a run by an FNV-1a 64 hash of its resolved [`TrainSpec`]
//! (checkpoint epochs excluded: they do not change the trajectory) and
//! [`CODE_VERSION`]. A run is built in a private staging directory and moved
//! into place with one rename, so an interrupted run leaves nothing that
//! looks complete; a per-run lock file makes concurrent requests (test
//! threads, a parallel xtask) train it once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::measure::detector::{Detection, DetectorParams, detect};
use crate::measure::rank::{EpochWindow, window_median};
use crate::metrics::{EpochRow, Metrics};
use crate::train::{Start, TrainOutput, TrainSpec, train};

/// Bump when the training semantics change: it invalidates every cached run.
pub const CODE_VERSION: u32 = 1;

/// First epochs at which accuracy thresholds are reached (SPEC §3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Milestones {
    /// First epoch with train accuracy 1.
    pub train_acc_1: Option<usize>,
    /// First epoch with test accuracy ≥ 0.5.
    pub test_acc_half: Option<usize>,
    /// First epoch with test accuracy ≥ 0.99.
    pub test_acc_99: Option<usize>,
}

impl Milestones {
    /// Read the thresholds off a log.
    pub fn of(metrics: &Metrics) -> Self {
        let first = |pred: &dyn Fn(&EpochRow) -> bool| metrics.rows.iter().find(|r| pred(r)).map(|r| r.epoch);
        Self {
            train_acc_1: first(&|r| r.train.accuracy >= 1.0),
            test_acc_half: first(&|r| r.test.accuracy >= 0.5),
            test_acc_99: first(&|r| r.test.accuracy >= 0.99),
        }
    }
}

/// `summary.json`: a run's headline numbers with the default parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Rows logged (E + 1 unless diverged).
    pub rows: usize,
    /// First epoch with a non-finite training loss.
    pub diverged_at: Option<usize>,
    /// The slope detector with SPEC §3.2's defaults, on the W updates.
    pub detection: Detection,
    /// Median gap23 over [200, 400] (SPEC §3.3).
    #[serde(with = "crate::nullable")]
    pub late_gap23_median: f64,
    /// Accuracy thresholds.
    pub milestones: Milestones,
    /// Train accuracy of the last row.
    #[serde(with = "crate::nullable")]
    pub final_train_acc: f64,
    /// Test accuracy of the last row.
    #[serde(with = "crate::nullable")]
    pub final_test_acc: f64,
    /// Wall time of the training, seconds (informative only).
    pub wall_seconds: f64,
}

impl RunSummary {
    /// The summary of a finished training.
    pub fn of(output: &TrainOutput, wall_seconds: f64) -> Self {
        let m = &output.metrics;
        let gap23 = m.w_gap23();
        let last = m.rows.last();
        Self {
            rows: m.rows.len(),
            diverged_at: output.diverged_at,
            detection: detect(&gap23, &DetectorParams::default()),
            late_gap23_median: window_median(&gap23, EpochWindow::LATE),
            milestones: Milestones::of(m),
            final_train_acc: last.map_or(f64::NAN, |r| r.train.accuracy),
            final_test_acc: last.map_or(f64::NAN, |r| r.test.accuracy),
            wall_seconds,
        }
    }
}

/// `spec.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpecFile {
    /// [`CODE_VERSION`] of the code that trained it.
    pub code_version: u32,
    /// The resolved spec.
    pub spec: TrainSpec,
    /// The `--init-from` file, if the run did not start from the seeded init.
    pub init_from: Option<String>,
}

/// A complete run, loaded from its directory.
#[derive(Clone, Debug)]
pub struct Run {
    /// Where it lives.
    pub dir: PathBuf,
    /// Its spec.
    pub spec: TrainSpec,
    /// The per-epoch log.
    pub metrics: Metrics,
    /// Its summary.
    pub summary: RunSummary,
}

/// File name of the checkpoint at `epoch`.
pub fn checkpoint_name(epoch: usize) -> String {
    format!("checkpoint-e{epoch:04}.safetensors")
}

impl Run {
    /// Load a complete run directory (one with `DONE`).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.join("DONE").exists() {
            bail!("{}: incomplete run (no DONE marker)", dir.display());
        }
        let read = |name: &str| {
            fs::read_to_string(dir.join(name)).with_context(|| format!("reading {}", dir.join(name).display()))
        };
        let spec: SpecFile =
            serde_json::from_str(&read("spec.json")?).with_context(|| format!("{}/spec.json", dir.display()))?;
        let metrics =
            Metrics::from_csv(&read("metrics.csv")?).with_context(|| format!("{}/metrics.csv", dir.display()))?;
        let summary =
            serde_json::from_str(&read("summary.json")?).with_context(|| format!("{}/summary.json", dir.display()))?;
        Ok(Self { dir: dir.to_path_buf(), spec: spec.spec, metrics, summary })
    }

    /// The weights and split saved at `epoch`.
    pub fn checkpoint(&self, epoch: usize) -> anyhow::Result<checkpoint::WeightsFile> {
        checkpoint::read(&self.dir.join(checkpoint_name(epoch)))
    }

    /// Whether every epoch in `epochs` has a checkpoint file.
    pub fn has_checkpoints(&self, epochs: &[usize]) -> bool {
        epochs.iter().all(|&e| self.dir.join(checkpoint_name(e)).exists())
    }
}

/// Train and write a complete run directory at `dir` (which must not exist).
pub fn train_into(
    dir: &Path,
    spec: &TrainSpec,
    start: &Start,
    init_from: Option<&Path>,
    on_row: &mut dyn FnMut(&EpochRow),
) -> anyhow::Result<Run> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec_file = SpecFile {
        code_version: CODE_VERSION,
        spec: spec.clone(),
        init_from: init_from.map(|p| p.display().to_string()),
    };
    fs::write(dir.join("spec.json"), serde_json::to_string_pretty(&spec_file)?)?;
    let clock = Instant::now();
    let output = train(spec, start, on_row);
    let summary = RunSummary::of(&output, clock.elapsed().as_secs_f64());
    fs::write(dir.join("metrics.csv"), output.metrics.to_csv())?;
    for ck in &output.checkpoints {
        checkpoint::write(
            &dir.join(checkpoint_name(ck.epoch)),
            spec.modulus,
            spec.width,
            &ck.weights,
            Some(&start.split),
        )?;
    }
    fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary)?)?;
    File::create(dir.join("DONE"))?.sync_all()?;
    Run::load(dir)
}

/// FNV-1a, 64 bit: a small, stable, documented hash for cache keys.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The cache key of a spec: checkpoint epochs excluded, code version included.
pub fn cache_key(spec: &TrainSpec) -> String {
    let identity = TrainSpec { checkpoints: Vec::new(), ..spec.clone() };
    let text = serde_json::to_string(&(CODE_VERSION, identity)).expect("spec serialises");
    let tag = format!("{}-{}-eta{:e}-s{}", spec.activation.name(), spec.backend.name(), spec.eta, spec.seed);
    format!("{tag}-{:016x}", fnv1a64(text.as_bytes()))
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

    /// `$LOCKIN_CACHE`, else `target/lockin/cache` in the project.
    pub fn default_root() -> PathBuf {
        std::env::var_os("LOCKIN_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lockin/cache"))
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
        let run = Run::load(&self.run_dir(spec)).ok()?;
        let same = TrainSpec { checkpoints: spec.checkpoints.clone(), ..run.spec.clone() } == *spec;
        (same && run.has_checkpoints(&spec.checkpoints)).then_some(run)
    }

    /// The run of `spec`: from the cache, or trained now (`trained` is then true).
    pub fn get_or_train(&self, spec: &TrainSpec, on_row: &mut dyn FnMut(&EpochRow)) -> anyhow::Result<(Run, bool)> {
        fs::create_dir_all(self.root.join("locks"))?;
        let lock = File::create(self.root.join("locks").join(format!("{}.lock", cache_key(spec))))?;
        lock.lock()?; // released when `lock` drops
        if let Some(run) = self.lookup(spec) {
            return Ok((run, false));
        }
        let staging = self.root.join("staging").join(format!("{}-{}", cache_key(spec), std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        train_into(&staging, spec, &spec.seeded_start(), None, on_row)?;
        let dir = self.run_dir(spec);
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("removing stale {}", dir.display()))?;
        }
        fs::create_dir_all(dir.parent().expect("runs/"))?;
        fs::rename(&staging, &dir).with_context(|| format!("moving {} into place", staging.display()))?;
        Ok((Run::load(&dir)?, true))
    }
}

/// θ_0 for `lockin run --init-from`: weights (and the split, if present) from
/// the file, checked against the spec's M and K; otherwise the seeded split.
pub fn start_from_file(spec: &TrainSpec, path: &Path) -> anyhow::Result<Start> {
    let file = checkpoint::read(path)?;
    if (file.modulus, file.width) != (spec.modulus, spec.width) {
        bail!(
            "{}: weights are for M = {}, K = {}, but the run has M = {}, K = {}",
            path.display(),
            file.modulus,
            file.width,
            spec.modulus,
            spec.width
        );
    }
    let split = file.split.unwrap_or_else(|| spec.seeded_start().split);
    Ok(Start { weights: file.weights, split })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainSpec {
        TrainSpec {
            modulus: 5,
            width: 8,
            train_fraction: 0.6,
            epochs: 12,
            window: 3,
            checkpoints: vec![4],
            ..TrainSpec::default()
        }
    }

    #[test]
    fn key_ignores_checkpoints_but_not_hyperparameters() {
        let spec = tiny();
        assert_eq!(cache_key(&spec), cache_key(&TrainSpec { checkpoints: vec![1, 2], ..spec.clone() }));
        assert_ne!(cache_key(&spec), cache_key(&TrainSpec { eta: 0.0, ..spec.clone() }));
        assert_ne!(cache_key(&spec), cache_key(&TrainSpec { seed: 1, ..spec }));
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c); // FNV-1a 64 test vector
    }

    #[test]
    fn cache_trains_once_and_distrusts_partial_runs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = tiny();
        let (first, trained) = cache.get_or_train(&spec, &mut |_| {}).unwrap();
        assert!(trained);
        let (second, trained) = cache.get_or_train(&spec, &mut |_| {}).unwrap();
        assert!(!trained);
        assert_eq!(first.metrics.to_csv(), second.metrics.to_csv());
        assert!(second.checkpoint(4).is_ok());
        // A run killed before DONE is retrained; so is a corrupted one.
        fs::remove_file(cache.run_dir(&spec).join("DONE")).unwrap();
        assert!(cache.get_or_train(&spec, &mut |_| {}).unwrap().1);
        fs::write(cache.run_dir(&spec).join("metrics.csv"), "garbage").unwrap();
        assert!(cache.lookup(&spec).is_none());
        let (third, trained) = cache.get_or_train(&spec, &mut |_| {}).unwrap();
        assert!(trained);
        assert_eq!(third.metrics.to_csv(), first.metrics.to_csv());
        // Asking for a checkpoint the cached run lacks retrains it.
        let more = TrainSpec { checkpoints: vec![4, 8], ..spec };
        assert!(cache.lookup(&more).is_none());
        assert!(cache.get_or_train(&more, &mut |_| {}).unwrap().0.checkpoint(8).is_ok());
    }

    #[test]
    fn init_from_file_uses_its_weights_and_split() {
        let dir = tempfile::tempdir().unwrap();
        let spec = tiny();
        let other = TrainSpec { seed: 7, ..spec.clone() }.seeded_start();
        let path = dir.path().join("init.safetensors");
        checkpoint::write(&path, 5, 8, &other.weights, Some(&other.split)).unwrap();
        assert_eq!(start_from_file(&spec, &path).unwrap(), other);
        let wrong = TrainSpec { width: 9, ..spec };
        assert!(format!("{:#}", start_from_file(&wrong, &path).unwrap_err()).contains("K = 8"));
    }
}
