//! Run directories (docs/methods.md, "Run directories").
//!
//! A run directory holds `spec.json`, `metrics.csv` (see [`crate::metrics`]),
//! `summary.json`, `checkpoint-eNNNN.safetensors` per requested epoch and,
//! written last, `DONE`: a manifest with the code version and a hash of every
//! file. A directory is trusted only if its manifest is there, every file
//! hashes to it and the log is whole (rows 0..=E in order, or up to the
//! divergence); otherwise [`Run::load`] says why, and the cache retrains it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::files::{create_dir, read_text, sync_dir, write_synced};
use crate::metrics::{EpochRow, Metrics};
use crate::probes::level::Level;
use crate::summary::RunSummary;
use crate::train::{LevelRow, Start, TrainOutput, TrainSpec, train_windows};

/// Bump when the training semantics change: it invalidates every cached run.
/// 4: canonical arithmetic (docs/methods.md, "Numerics scheme"); the scheme's
/// name ([`crate::numerics::SCHEME`]) is recorded beside it.
pub const CODE_VERSION: u32 = 4;

/// `spec.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpecFile {
    /// [`CODE_VERSION`] of the code that trained it.
    pub code_version: u32,
    /// The numerics scheme it was computed under ([`crate::numerics::scheme_of`]).
    #[serde(default)]
    pub numerics: String,
    /// The resolved spec.
    pub spec: TrainSpec,
    /// The `--init-from` file as given, if the run did not start from the seeded init.
    pub init_from: Option<String>,
    /// FNV-1a 64 of that file's bytes: which weights it started from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from_hash: Option<String>,
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
    /// ρ at the epochs its spec asked for (`level.csv`; empty if none).
    pub levels: Vec<LevelRow>,
    /// Whether it started from an `--init-from` file rather than the seeded θ_0.
    pub from_file: bool,
}

/// Series names a measure may read: the `metrics.csv` columns but `epoch`, and ρ.
pub fn series_names() -> Vec<&'static str> {
    crate::metrics::COLUMNS[1..].iter().copied().chain(["rho", "rho_paper"]).collect()
}

/// Whether reading `series` needs the level metric.
pub fn is_level_series(series: &str) -> bool {
    matches!(series, "rho" | "rho_paper")
}

/// `level.csv`: `epoch,rho,rho_paper`, one row per evaluated epoch.
fn levels_to_csv(levels: &[LevelRow]) -> String {
    let mut out = String::from("epoch,rho,rho_paper\n");
    for r in levels {
        out.push_str(&format!("{},{:e},{:e}\n", r.epoch, r.level.rho_code, r.level.rho_paper));
    }
    out
}

/// Parse `level.csv`; its epochs must be 0, 1, ... in order.
fn levels_from_csv(text: &str, every: usize) -> anyhow::Result<Vec<LevelRow>> {
    let mut lines = text.lines();
    anyhow::ensure!(lines.next() == Some("epoch,rho,rho_paper"), "line 1: not the level.csv header");
    lines
        .enumerate()
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            anyhow::ensure!(cells.len() == 3, "line {}: {} cells, expected 3", i + 2, cells.len());
            let epoch: usize = cells[0].parse().with_context(|| format!("line {}: epoch", i + 2))?;
            anyhow::ensure!(epoch == i * every, "line {}: epoch {epoch}, expected {}", i + 2, i * every);
            let value = |c: &str| c.parse::<f64>().with_context(|| format!("line {}: {c:?} is not a number", i + 2));
            Ok(LevelRow { epoch, level: Level { rho_code: value(cells[1])?, rho_paper: value(cells[2])? } })
        })
        .collect()
}

/// File name of the checkpoint at `epoch`.
pub fn checkpoint_name(epoch: usize) -> String {
    format!("checkpoint-e{epoch:04}.safetensors")
}

/// `DONE`: what trained the run and a hash of each file it vouches for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`CODE_VERSION`] of the code that wrote the directory.
    pub code_version: u32,
    /// The numerics scheme of its numbers (empty: written before schemes were recorded).
    #[serde(default)]
    pub numerics: String,
    /// FNV-1a 64 of each file's bytes, by file name.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    /// Check that `name`'s bytes are the ones the manifest vouches for.
    pub fn verify(&self, dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        match self.files.get(name) {
            None => bail!("{}: {name} is not in its DONE manifest", dir.display()),
            Some(hash) if *hash != hash_hex(bytes) => {
                bail!("{}: {name} was changed or damaged after the run finished (hash mismatch)", dir.display())
            }
            Some(_) => Ok(()),
        }
    }
}

/// The FNV-1a 64 hash of `bytes` in hex, as manifests store it.
pub fn hash_hex(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a64(bytes))
}

/// FNV-1a, 64 bit: a small, stable, documented hash for cache keys and manifests.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl Run {
    /// Load a complete run directory, checking it whole: its `DONE`
    /// manifest, every file's hash, and a log of rows 0..=E in order (or up
    /// to the divergence) that agrees with `summary.json`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let manifest = Self::manifest(dir)?;
        let read = |name: &str| -> anyhow::Result<String> {
            let text = read_text(&dir.join(name))?;
            manifest.verify(dir, name, text.as_bytes())?;
            Ok(text)
        };
        let spec: SpecFile =
            serde_json::from_str(&read("spec.json")?).with_context(|| format!("{}/spec.json", dir.display()))?;
        let metrics =
            Metrics::from_csv(&read("metrics.csv")?).with_context(|| format!("{}/metrics.csv", dir.display()))?;
        let summary: RunSummary =
            serde_json::from_str(&read("summary.json")?).with_context(|| format!("{}/summary.json", dir.display()))?;
        check_log(&spec.spec, &metrics, &summary).with_context(|| format!("{}/metrics.csv", dir.display()))?;
        let levels = match spec.spec.level {
            Some(log) => levels_from_csv(&read("level.csv")?, log.every)
                .with_context(|| format!("{}/level.csv", dir.display()))?,
            None => Vec::new(),
        };
        let from_file = spec.init_from.is_some() || spec.init_from_hash.is_some();
        Ok(Self { dir: dir.to_path_buf(), spec: spec.spec, metrics, summary, levels, from_file })
    }

    /// This run as the run of the same trajectory trained for `epochs`
    /// would be (docs/methods.md, "One trajectory, many requests"): row t
    /// of a log depends only on the steps up to t, so the first `epochs` + 1
    /// rows, the level epochs and checkpoints up to `epochs`, and the
    /// summary of that log. A run that stopped (diverged or collapsed)
    /// before `epochs` is its own prefix. Wall times stay the whole run's.
    pub fn prefix(&self, epochs: usize) -> Run {
        let mut run = self.clone();
        run.spec.epochs = epochs;
        if epochs >= self.spec.epochs {
            return run;
        }
        run.metrics.rows.truncate(epochs + 1);
        run.levels.retain(|row| row.epoch <= epochs);
        run.spec.checkpoints.retain(|&e| e <= epochs);
        if let Some(level) = &mut run.spec.level {
            level.until = level.until.min(epochs);
        }
        let output = TrainOutput::of_log(
            run.metrics.clone(),
            self.summary.diverged_at.filter(|&e| e <= epochs),
            self.summary.collapsed_at.filter(|&e| e <= epochs),
        );
        run.summary = RunSummary {
            wall_seconds: self.summary.wall_seconds,
            epoch_times: self.summary.epoch_times,
            ..RunSummary::of(&output, 0.0)
        };
        run
    }

    /// A logged series by name, indexed by epoch (NaN where not logged): any
    /// `metrics.csv` column but `epoch`, or `rho` / `rho_paper` from `level.csv`.
    pub fn series(&self, name: &str) -> Option<Vec<f64>> {
        if let Some(column) = self.metrics.column(name) {
            return Some(column);
        }
        let pick: fn(&Level) -> f64 = match name {
            "rho" => |l| l.rho_code,
            "rho_paper" => |l| l.rho_paper,
            _ => return None,
        };
        let rows = self.metrics.rows.len();
        let mut values = vec![f64::NAN; rows];
        for row in self.levels.iter().filter(|r| r.epoch < rows) {
            values[row.epoch] = pick(&row.level);
        }
        Some(values)
    }

    /// The directory's `DONE` manifest; an error says why it is not complete.
    pub fn manifest(dir: &Path) -> anyhow::Result<Manifest> {
        let done = dir.join("DONE");
        if !dir.exists() {
            bail!("{}: no such run (never trained into this cache)", dir.display());
        }
        if !done.exists() {
            bail!("{}: incomplete run (no DONE marker)", dir.display());
        }
        let manifest: Manifest = serde_json::from_str(&read_text(&done)?)
            .with_context(|| format!("{}: DONE is not a manifest (written by an older lockin?)", done.display()))?;
        if manifest.code_version != CODE_VERSION {
            bail!("{}: trained by code version {}, this is {CODE_VERSION}", dir.display(), manifest.code_version);
        }
        if !crate::numerics::KNOWN_SCHEMES.contains(&manifest.numerics.as_str()) {
            let was = if manifest.numerics.is_empty() { "no recorded scheme" } else { manifest.numerics.as_str() };
            bail!("{}: computed under numerics {was}, not {}", dir.display(), crate::numerics::SCHEME);
        }
        Ok(manifest)
    }

    /// The weights and split saved at `epoch`, checked against the manifest.
    pub fn checkpoint(&self, epoch: usize) -> anyhow::Result<checkpoint::WeightsFile> {
        let bytes = self.verify_checkpoint(epoch)?;
        checkpoint::from_bytes(&self.dir.join(checkpoint_name(epoch)), &bytes, &self.spec.task)
    }

    /// The checkpoint file's bytes at `epoch`, if they hash to the manifest.
    pub fn verify_checkpoint(&self, epoch: usize) -> anyhow::Result<Vec<u8>> {
        let name = checkpoint_name(epoch);
        let path = self.dir.join(&name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Self::manifest(&self.dir)?.verify(&self.dir, &name, &bytes)?;
        Ok(bytes)
    }

    /// Whether every epoch in `epochs` has a checkpoint file.
    pub fn has_checkpoints(&self, epochs: &[usize]) -> bool {
        epochs.iter().all(|&e| self.dir.join(checkpoint_name(e)).exists())
    }
}

/// A log is whole when its rows are epochs 0, 1, ... in order, it has E + 1
/// of them (or stops at the epoch `summary.json` says it diverged or
/// collapsed), and its
/// summary recomputed equals the stored one.
fn check_log(spec: &TrainSpec, metrics: &Metrics, summary: &RunSummary) -> anyhow::Result<()> {
    if let Some(row) = metrics.rows.iter().enumerate().find(|(i, r)| r.epoch != *i) {
        bail!("row {} holds epoch {}, expected {}", row.0 + 2, row.1.epoch, row.0);
    }
    if let Some(epoch) = summary.collapsed_at
        && metrics.rows.get(epoch).is_some_and(|r| !r.train.loss.is_finite())
    {
        // Written by a lockin that took non-finite outputs for a collapse.
        bail!("a collapse is recorded at epoch {epoch}, where the loss is not finite (a divergence)");
    }
    let stopped_at_collapse = summary.collapsed_at.filter(|_| !spec.through_collapse);
    let expected = summary.diverged_at.or(stopped_at_collapse).map_or(spec.epochs + 1, |d| d + 1);
    if metrics.rows.len() != expected {
        bail!("{} rows, expected {expected} (epochs 0..={})", metrics.rows.len(), expected - 1);
    }
    let output = TrainOutput::of_log(metrics.clone(), summary.diverged_at, summary.collapsed_at);
    let recomputed = RunSummary {
        wall_seconds: summary.wall_seconds,
        epoch_times: summary.epoch_times,
        ..RunSummary::of(&output, 0.0)
    };
    if !recomputed.same_as(summary) {
        bail!("the log does not give the figures in summary.json");
    }
    Ok(())
}

/// Train and write a complete run directory at `dir` (which must not
/// exist): every file flushed to disk, then the `DONE` manifest.
pub fn train_into(
    dir: &Path,
    spec: &TrainSpec,
    start: &Start,
    init_from: Option<&Path>,
    on_row: &mut dyn FnMut(&EpochRow),
) -> anyhow::Result<Run> {
    let mut runs = train_windows_into(&[(dir.to_path_buf(), spec.window)], spec, start, init_from, on_row)?;
    Ok(runs.remove(0))
}

/// Train `spec`'s trajectory once and write a complete run directory for
/// each (directory, window) of `dirs` (none may exist), the first window
/// the one `on_row` sees (docs/methods.md, "One trajectory, many requests").
pub fn train_windows_into(
    dirs: &[(PathBuf, usize)],
    spec: &TrainSpec,
    start: &Start,
    init_from: Option<&Path>,
    on_row: &mut dyn FnMut(&EpochRow),
) -> anyhow::Result<Vec<Run>> {
    for (dir, _) in dirs {
        create_dir(dir)?;
    }
    let first = TrainSpec { window: dirs[0].1, ..spec.clone() };
    let others: Vec<usize> = dirs[1..].iter().map(|(_, window)| *window).collect();
    let clock = Instant::now();
    let mut output = train_windows(&first, &others, start, on_row);
    let wall_seconds = clock.elapsed().as_secs_f64();
    let logs: Vec<Metrics> = std::iter::once(std::mem::take(&mut output.metrics))
        .chain(std::mem::take(&mut output.other_windows).into_iter().map(|(_, metrics)| metrics))
        .collect();
    let mut runs = Vec::new();
    for ((dir, window), metrics) in dirs.iter().zip(logs) {
        let output = TrainOutput { metrics, ..output.clone() };
        let spec = TrainSpec { window: *window, ..spec.clone() };
        runs.push(write_run(dir, &spec, start, init_from, &output, wall_seconds)?);
    }
    Ok(runs)
}

/// Write one trained run's files into `dir`, every file flushed to disk,
/// then the `DONE` manifest.
fn write_run(
    dir: &Path,
    spec: &TrainSpec,
    start: &Start,
    init_from: Option<&Path>,
    output: &TrainOutput,
    wall_seconds: f64,
) -> anyhow::Result<Run> {
    let numerics = crate::numerics::scheme_of(spec.backend, spec.ieee_subnormals).to_string();
    let spec_file = SpecFile {
        code_version: CODE_VERSION,
        numerics: numerics.clone(),
        spec: spec.clone(),
        init_from: init_from.map(|p| p.display().to_string()),
        init_from_hash: init_from.map(|p| std::fs::read(p).map(|b| hash_hex(&b))).transpose()?,
    };
    let mut files = BTreeMap::new();
    let mut put = |name: String, bytes: Vec<u8>| -> anyhow::Result<()> {
        write_synced(&dir.join(&name), &bytes)?;
        files.insert(name, hash_hex(&bytes));
        Ok(())
    };
    put("spec.json".into(), serde_json::to_vec_pretty(&spec_file)?)?;
    put("metrics.csv".into(), output.metrics.to_csv().into_bytes())?;
    for ck in &output.checkpoints {
        let bytes = checkpoint::to_bytes(spec.modulus, spec.width, &ck.weights, Some(&start.split))?;
        put(checkpoint_name(ck.epoch), bytes)?;
    }
    if spec.level.is_some() {
        put("level.csv".into(), levels_to_csv(&output.levels).into_bytes())?;
    }
    let summary = RunSummary::of(output, wall_seconds);
    put("summary.json".into(), serde_json::to_vec_pretty(&summary)?)?;
    let manifest = Manifest { code_version: CODE_VERSION, numerics, files };
    write_synced(&dir.join("DONE"), &serde_json::to_vec_pretty(&manifest)?)?;
    sync_dir(dir);
    Run::load(dir)
}

/// θ_0 for `lockin run --init-from`: weights (and the split, if present) from
/// the file, checked against the spec's M and K; otherwise the seeded split.
pub fn start_from_file(spec: &TrainSpec, path: &Path) -> anyhow::Result<Start> {
    let file = checkpoint::read(path, &spec.task)?;
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
    let n = spec.n_train();
    if let Some(split) = file.split.as_ref().filter(|s| s.train.len() != n) {
        bail!(
            "{}: its split has {} training pairs, but --train-fraction {} gives {n}; pass the fraction the file was made with",
            path.display(),
            split.train.len(),
            spec.train_fraction
        );
    }
    let split = file.split.unwrap_or_else(|| spec.seeded_start().split);
    Ok(Start { weights: file.weights, split })
}

/// A 12-epoch run of a 5-class, 8-unit network with a checkpoint at 4, for
/// the run-directory and cache tests.
#[cfg(test)]
pub(crate) fn tiny_spec() -> TrainSpec {
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

#[cfg(test)]
mod tests {
    use super::tiny_spec as tiny;
    use super::*;

    #[test]
    fn damaged_run_directories_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("run");
        let spec = tiny();
        train_into(&run_dir, &spec, &spec.seeded_start(), None, &mut |_| {}).unwrap();
        let csv = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
        let refuse = |name: &str, text: &str| {
            let original = std::fs::read(run_dir.join(name)).unwrap();
            std::fs::write(run_dir.join(name), text).unwrap();
            let err = format!("{:#}", Run::load(&run_dir).unwrap_err());
            std::fs::write(run_dir.join(name), original).unwrap();
            err
        };
        // Cut at a line boundary, DONE kept.
        let cut: String = csv.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert!(refuse("metrics.csv", &cut).contains("metrics.csv was changed or damaged"));
        // A value that lost its exponent still parses as a number.
        let lost = csv.replacen("e-1,", ",", 1);
        assert_ne!(lost, csv);
        assert!(refuse("metrics.csv", &lost).contains("hash mismatch"));
        assert!(refuse("DONE", "").contains("not a manifest"));
        // Made under an older scheme or code version: never read as this one.
        let done = std::fs::read_to_string(run_dir.join("DONE")).unwrap();
        let unrecorded = done.replace(&format!("\"numerics\": \"{}\",", crate::numerics::SCHEME), "");
        assert_ne!(unrecorded, done);
        assert!(refuse("DONE", &unrecorded).contains("computed under numerics no recorded scheme, not canonical-2"));
        let older = done.replace(&format!("\"code_version\": {CODE_VERSION}"), "\"code_version\": 3");
        assert!(refuse("DONE", &older).contains("trained by code version 3, this is 4"));
        assert!(refuse("summary.json", "{}").contains("summary.json was changed"));
        assert!(Run::load(&run_dir).is_ok());
        assert!(Run::load(&dir.path().join("absent")).unwrap_err().to_string().contains("no such run"));
    }

    #[test]
    fn summaries_read_back_bit_for_bit() {
        // Values serde_json's default float parser reads back one ulp off.
        for x in [0.20685855850763946f64, 0.1 + 0.2, 1.0 / 3.0, 6.02214076e23, 2.2250738585072014e-308] {
            let back: f64 = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
        }
    }

    #[test]
    fn a_whole_log_is_rows_zero_to_e_matching_the_summary() {
        let spec = tiny();
        let output = crate::train::train(&spec, &spec.seeded_start(), &mut |_| {});
        let summary = RunSummary::of(&output, 1.0);
        assert!(check_log(&spec, &output.metrics, &summary).is_ok());
        let mut short = output.metrics.clone();
        short.rows.pop();
        assert!(check_log(&spec, &short, &summary).unwrap_err().to_string().contains("12 rows, expected 13"));
        let mut shuffled = output.metrics.clone();
        shuffled.rows.swap(3, 4);
        assert!(check_log(&spec, &shuffled, &summary).unwrap_err().to_string().contains("holds epoch 4"));
        let mut edited = output.metrics.clone();
        edited.rows[12].test.accuracy = 0.123;
        assert!(check_log(&spec, &edited, &summary).unwrap_err().to_string().contains("summary.json"));
    }

    #[test]
    fn init_from_file_uses_its_weights_and_split() {
        let dir = tempfile::tempdir().unwrap();
        let spec = tiny();
        let other = TrainSpec { seed: 7, ..spec.clone() }.seeded_start();
        let path = dir.path().join("init.safetensors");
        std::fs::write(&path, checkpoint::to_bytes(5, 8, &other.weights, Some(&other.split)).unwrap()).unwrap();
        assert_eq!(start_from_file(&spec, &path).unwrap(), other);
        let other_fraction = TrainSpec { train_fraction: 0.4, ..spec.clone() };
        let err = format!("{:#}", start_from_file(&other_fraction, &path).unwrap_err());
        assert!(err.contains("its split has 15 training pairs, but --train-fraction 0.4 gives 10"), "{err}");
        let wrong = TrainSpec { width: 9, ..spec };
        assert!(format!("{:#}", start_from_file(&wrong, &path).unwrap_err()).contains("K = 8"));
    }
}
