//! Runs made elsewhere (docs/methods.md, "Runs made elsewhere"): the log of
//! another implementation — the paper's own PyTorch script, on any device —
//! turned into a run the claims can read, with where it came from and what
//! it lacks. An imported run has a log only: no checkpoints, no ρ, and only
//! the columns its file had; a measure that needs more says so by name
//! (each measure kind's `needs`: docs/methods.md, "Runs made elsewhere").
//!
//! Two formats: a CSV with named columns (`epoch` and any of `metrics.csv`'s
//! columns, matched without regard to case, so the paper code's `W_sigma1`
//! is `w_sigma1`), and the paper script's `log.jsonl` (one JSON object per
//! epoch, Python's `NaN` allowed), with its `config.json` for the spec.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::files::{create_dir, read_text, write_atomic};
use crate::metrics::Metrics;
use crate::model::Activation;
use crate::runs::{Run, hash_hex};
use crate::seeding::RngScheme;
use crate::summary::RunSummary;
use crate::task::Task;
use crate::train::loss::Loss;
use crate::train::optimizer::Optimizer;
use crate::train::{TrainOutput, TrainSpec};

/// Where an imported run came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The log file as given.
    pub file: String,
    /// FNV-1a 64 of its bytes.
    pub file_hash: String,
    /// `csv` or `paper-jsonl`.
    pub format: String,
    /// The implementation that made it (free text, e.g. "PyTorch 2.15, the paper's tian_eigengap.py").
    pub framework: String,
    /// The device it ran on (free text, e.g. "CPU, 2 threads", "Apple M4 (MPS)").
    pub device: String,
    /// The `metrics.csv` columns the file had; every other column is undefined.
    pub columns: Vec<String>,
    /// Columns of the file that lockin does not read.
    pub ignored: Vec<String>,
}

/// `imported.json`: the run's conditions and provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedFile {
    spec: TrainSpec,
    provenance: Provenance,
    /// The first epoch whose training loss the source logged as not a
    /// number (NaN, ±inf); a blank cell is "not logged", never a divergence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    diverged_at: Option<usize>,
    /// Whether `diverged_at` was read from the source's cells (imports
    /// written before it was recorded fall back to reading the log).
    #[serde(default)]
    divergence_read: bool,
}

/// An imported run: a [`Run`] (log and summary) with its provenance.
#[derive(Clone, Debug)]
pub struct ImportedRun {
    /// The run as the measures read it (no checkpoints, no level log).
    pub run: Run,
    /// Where it came from and which columns it has.
    pub provenance: Provenance,
}

/// The training conditions of a log, as far as its file and config say.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    /// σ.
    pub activation: Option<Activation>,
    /// η.
    pub eta: Option<f64>,
    /// Seed.
    pub seed: Option<u64>,
    /// M.
    pub modulus: Option<usize>,
    /// K.
    pub width: Option<usize>,
    /// Training pairs.
    pub n_train: Option<usize>,
    /// The optimiser's learning rate.
    pub lr: Option<f64>,
    /// Window Wn.
    pub window: Option<usize>,
    /// The task (default `add`; docs/methods.md, "Tasks").
    pub task: Option<Task>,
    /// Whose generator drew the split and θ_0 (default `torch`, the paper's
    /// script; `external` for any other).
    pub rng: Option<RngScheme>,
    /// The optimiser (default `adam`).
    pub optimizer: Option<Optimizer>,
    /// SGD's momentum (default 0).
    pub momentum: Option<f64>,
    /// The loss (default `mse`).
    pub loss: Option<Loss>,
    /// The fraction of training labels replaced (default 0).
    pub label_noise: Option<f64>,
}

impl Conditions {
    /// Fields the paper script's `config.json` gives (`M`, `K`, `eta`, `lr`,
    /// `seed`, `window`, `n_train`, `activation`); `self`'s fields win.
    fn or_config(self, config: &serde_json::Value) -> anyhow::Result<Self> {
        // A key present with a value of the wrong type is an error naming
        // it, never treated as absent.
        let wrong =
            |key: &str, v: &serde_json::Value, expected: &str| anyhow::anyhow!("`{key}` is {v}, expected {expected}");
        let number = |key: &str| -> anyhow::Result<Option<f64>> {
            config.get(key).map(|v| v.as_f64().ok_or_else(|| wrong(key, v, "a number"))).transpose()
        };
        let count = |key: &str| -> anyhow::Result<Option<u64>> {
            let whole = |v: &serde_json::Value| {
                v.as_u64().or_else(|| v.as_f64().filter(|x| *x >= 0.0 && x.fract() == 0.0).map(|x| x as u64))
            };
            config.get(key).map(|v| whole(v).ok_or_else(|| wrong(key, v, "a whole number ≥ 0"))).transpose()
        };
        let activation = match config.get("activation") {
            Some(serde_json::Value::String(name)) => Some(parse_activation(name)?),
            Some(v) => return Err(wrong("activation", v, "a name such as \"relu\"")),
            None => None,
        };
        let size = |key: &str| count(key).map(|c| c.map(|x| x as usize));
        /// The flag's value or the config's; both given and different is an error.
        fn either<T: PartialEq + std::fmt::Debug>(
            flag: Option<T>,
            file: Option<T>,
            name: &str,
        ) -> anyhow::Result<Option<T>> {
            match (flag, file) {
                (Some(a), Some(b)) if a != b => bail!("--{name} {a:?} contradicts the config's {b:?}"),
                (a, b) => Ok(a.or(b)),
            }
        }
        Ok(Self {
            activation: either(self.activation, activation, "activation")?,
            eta: either(self.eta, number("eta")?, "eta")?,
            seed: either(self.seed, count("seed")?, "seed")?,
            modulus: either(self.modulus, size("M")?, "modulus")?,
            width: either(self.width, size("K")?, "width")?,
            n_train: either(self.n_train, size("n_train")?, "n-train")?,
            lr: either(self.lr, number("lr")?, "lr")?,
            window: either(self.window, size("window")?, "window")?,
            ..self
        })
    }

    /// The spec of a log whose last epoch is `epochs`; every field must be known.
    fn spec(&self, epochs: usize) -> anyhow::Result<TrainSpec> {
        let missing = |what: &str| anyhow::anyhow!("the log's {what} is not known: give --{what} (or a config.json)");
        let modulus = self.modulus.ok_or_else(|| missing("modulus"))?;
        let n_train = self.n_train.ok_or_else(|| missing("n-train"))?;
        let task = self.task.clone().unwrap_or_default();
        let spec = TrainSpec {
            modulus,
            train_fraction: n_train as f64 / task.pair_count(modulus) as f64,
            task,
            width: self.width.ok_or_else(|| missing("width"))?,
            activation: self.activation.ok_or_else(|| missing("activation"))?,
            lr: self.lr.ok_or_else(|| missing("lr"))?,
            eta: self.eta.ok_or_else(|| missing("eta"))?,
            epochs,
            window: self.window.ok_or_else(|| missing("window"))?,
            seed: self.seed.ok_or_else(|| missing("seed"))?,
            rng: self.rng.unwrap_or(RngScheme::Torch),
            optimizer: self.optimizer.unwrap_or_default(),
            momentum: self.momentum.unwrap_or(0.0),
            loss: self.loss.unwrap_or_default(),
            label_noise: self.label_noise.unwrap_or(0.0),
            ..TrainSpec::default()
        };
        spec.validate_described().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(spec)
    }
}

fn parse_activation(name: &str) -> anyhow::Result<Activation> {
    <Activation as clap::ValueEnum>::from_str(name, true)
        .map_err(|_| anyhow::anyhow!("activation `{name}`: one of sqr, relu, gelu, silu, relusqr"))
}

/// Import the log at `log` into the run directory `out` (which must not
/// exist): `imported.json` and `metrics.csv`.
pub fn import(
    log: &Path,
    config: Option<&Path>,
    conditions: Conditions,
    framework: &str,
    device: &str,
    out: &Path,
) -> anyhow::Result<ImportedRun> {
    if out.exists() {
        bail!("{} already exists; choose a new --out directory", out.display());
    }
    let bytes = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
    let text = String::from_utf8(bytes.clone()).with_context(|| format!("{}: not UTF-8 text", log.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string(); // a byte-order mark is not data
    // Line ends of any kind (CR LF, LF, a lone CR) are one kind.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    // JSON lines whatever the file is called: the first thing in it is an object.
    let jsonl = log.extension().is_some_and(|x| x.eq_ignore_ascii_case("jsonl")) || text.trim_start().starts_with('{');
    for (flag, value) in [("--framework", framework), ("--device", device)] {
        if value.trim().is_empty() {
            bail!("{flag}: say what made the run (e.g. \"PyTorch 2.15\", \"CPU, 2 threads\"), not an empty text");
        }
    }
    let table = if jsonl { table_of_jsonl(&text) } else { table_of_csv(&text) }
        .with_context(|| format!("reading {}", log.display()))?;
    let conditions = match config {
        Some(path) => {
            let config: serde_json::Value = serde_json::from_str(&read_text(path)?)
                .with_context(|| format!("{}: not a JSON config", path.display()))?;
            conditions.or_config(&config).with_context(|| format!("{}", path.display()))?
        }
        None => conditions,
    };
    let Read { metrics, columns, ignored, diverged_at } =
        metrics_of(&table).with_context(|| format!("reading {}", log.display()))?;
    let epochs = metrics.rows.len() - 1;
    let spec = conditions.spec(epochs).with_context(|| format!("{}", log.display()))?;
    let provenance = Provenance {
        file: log.display().to_string(),
        file_hash: hash_hex(&bytes),
        format: if jsonl { "paper-jsonl" } else { "csv" }.into(),
        framework: framework.into(),
        device: device.into(),
        columns,
        ignored,
    };
    // Written beside `out` and published whole: a failure (a full disk)
    // leaves no partial `out` that a retry would find "already exists".
    let staging = crate::files::staging_beside(out, "partial");
    let written =
        write_import(&staging, &ImportedFile { spec, provenance, diverged_at, divergence_read: true }, &metrics)
            .and_then(|_| crate::files::publish_dir(&staging, out, &crate::files::staging_beside(out, "aside")));
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written?;
    ImportedRun::load(out)
}

/// The files of an imported run in `dir`: its log, its provenance and a
/// manifest of their hashes.
fn write_import(dir: &Path, file: &ImportedFile, metrics: &Metrics) -> anyhow::Result<()> {
    create_dir(dir)?;
    let csv = metrics.to_csv();
    let json = serde_json::to_vec_pretty(file)?;
    write_atomic(&dir.join("metrics.csv"), csv.as_bytes())?;
    write_atomic(&dir.join("imported.json"), &json)?;
    let manifest = serde_json::json!({ "metrics.csv": hash_hex(csv.as_bytes()), "imported.json": hash_hex(&json) });
    write_atomic(&dir.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)
}

mod log;
#[cfg(test)]
mod tests;

use log::{Read, metrics_of, table_of_csv, table_of_jsonl};

/// An imported run's manifest: each file's hash, checked on every read.
const MANIFEST: &str = "manifest.json";

/// `name` in `dir`, read and checked against the manifest's hash.
fn read_checked(dir: &Path, manifest: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    let text = read_text(&dir.join(name))?;
    let recorded = manifest[name].as_str().unwrap_or_default();
    anyhow::ensure!(
        hash_hex(text.as_bytes()) == recorded,
        "{}/{name}: changed since it was imported (its hash differs from {MANIFEST}); import the log again",
        dir.display()
    );
    Ok(text)
}

impl ImportedRun {
    /// Load an imported run directory, each file checked against its manifest.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let manifest: serde_json::Value = serde_json::from_str(&read_text(&dir.join(MANIFEST)).with_context(|| {
            format!("{}: no {MANIFEST} (imported by an older lockin?); import the log again", dir.display())
        })?)
        .with_context(|| format!("{}/{MANIFEST}", dir.display()))?;
        let file: ImportedFile = serde_json::from_str(&read_checked(dir, &manifest, "imported.json")?)
            .with_context(|| format!("{}/imported.json", dir.display()))?;
        let metrics = Metrics::from_csv(&read_checked(dir, &manifest, "metrics.csv")?)
            .with_context(|| format!("{}/metrics.csv", dir.display()))?;
        // A divergence is a loss the source logged as not a number; a blank
        // cell is not logged. (Older imports: a loss defined and then not.)
        let first_defined = metrics.rows.iter().position(|r| r.train.loss.is_finite());
        let diverged_at = if file.divergence_read {
            file.diverged_at
        } else {
            first_defined.and_then(|f| metrics.rows[f..].iter().find(|r| !r.train.loss.is_finite())).map(|r| r.epoch)
        };
        let output = TrainOutput::of_log(metrics, diverged_at, None);
        let run = Run {
            dir: dir.to_path_buf(),
            spec: file.spec,
            summary: RunSummary::of(&output, 0.0),
            metrics: output.metrics,
            levels: Vec::new(),
            from_file: false,
        };
        Ok(Self { run, provenance: file.provenance })
    }

    /// Every imported run directory under `dir` (each subdirectory with an
    /// `imported.json`), and why each one that does not load is left out.
    pub fn load_all(dir: &Path) -> anyhow::Result<(Vec<Self>, Vec<String>)> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("--runs {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("imported.json").is_file())
            .collect();
        dirs.sort();
        let (mut runs, mut broken) = (Vec::new(), Vec::new());
        for d in &dirs {
            match Self::load(d) {
                Ok(run) => runs.push(run),
                Err(e) => broken.push(format!("{e:#}")),
            }
        }
        // Two runs of one seed under the same conditions: which one a claim
        // read would depend on the directories' names.
        for (i, a) in runs.iter().enumerate() {
            if let Some(b) =
                runs[i + 1..].iter().find(|b| b.serving(&a.run.spec).is_some() || a.serving(&b.run.spec).is_some())
            {
                bail!(
                    "--runs {}: {} and {} are both seed {} of the same conditions; keep one of them",
                    dir.display(),
                    a.run.dir.display(),
                    b.run.dir.display(),
                    a.run.spec.seed
                );
            }
        }
        Ok((runs, broken))
    }

    /// This run truncated to the epochs 0..=E of `spec`, if it was trained
    /// under `spec`'s conditions (any backend; the same number of training
    /// pairs) for at least E epochs: row t does not depend on how long a run
    /// goes on.
    pub fn serving(&self, spec: &TrainSpec) -> Option<Run> {
        serves(&self.run.spec, spec).then(|| self.run.prefix(spec.epochs))
    }

    /// Why this run does not serve `spec` although it was trained under its
    /// conditions: it learned another task, or by another optimiser, loss or
    /// label noise, or from another generator's seeds ("task mul, not add").
    /// `None` where it serves `spec` or differs elsewhere too.
    pub fn objective_mismatch(&self, spec: &TrainSpec) -> Option<String> {
        let mine = &self.run.spec;
        let as_spec = TrainSpec {
            task: spec.task.clone(),
            rng: spec.rng,
            optimizer: spec.optimizer,
            momentum: spec.momentum,
            loss: spec.loss,
            label_noise: spec.label_noise,
            ..mine.clone()
        };
        if serves(mine, spec) || !serves(&as_spec, spec) {
            return None;
        }
        let fields = [
            ("task", mine.task.to_string(), spec.task.to_string()),
            ("seeding", mine.rng.name().to_string(), spec.rng.name().to_string()),
            ("optimizer", mine.optimizer.to_string(), spec.optimizer.to_string()),
            ("momentum", mine.momentum.to_string(), spec.momentum.to_string()),
            ("loss", mine.loss.to_string(), spec.loss.to_string()),
            ("label noise", mine.label_noise.to_string(), spec.label_noise.to_string()),
        ];
        let differ: Vec<String> =
            fields.iter().filter(|(_, a, b)| a != b).map(|(name, a, b)| format!("{name} {a}, not {b}")).collect();
        Some(differ.join("; "))
    }

    /// What this run has for a measure to read: its columns.
    pub fn has(&self, need: &str) -> bool {
        self.provenance.columns.iter().any(|c| c == need)
    }
}

/// Whether a run made elsewhere under `mine` serves a request for `spec`:
/// the same run as lockin's identity says, for at least its epochs.
fn serves(mine: &TrainSpec, spec: &TrainSpec) -> bool {
    let pairs = |s: &TrainSpec| s.n_train();
    // The same run as lockin's identity says, except what a run made
    // elsewhere cannot share: its backend, arithmetic and Gram are the
    // other framework's, and its split is given as a count of pairs.
    let theirs = TrainSpec {
        backend: spec.backend,
        ieee_subnormals: spec.ieee_subnormals,
        gram: spec.gram,
        train_fraction: spec.train_fraction,
        ..mine.clone()
    };
    crate::cache::run_identity(&theirs) == crate::cache::run_identity(spec)
        && pairs(mine) == pairs(spec)
        && mine.epochs >= spec.epochs
}
