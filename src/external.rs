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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::files::{create_dir, read_text, write_atomic};
use crate::metrics::{COLUMNS, EpochRow, Evaluation, Metrics};
use crate::model::Activation;
use crate::probes::spectrum::SpectrumRow;
use crate::runs::{Run, RunSummary, hash_hex};
use crate::seeding::RngScheme;
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
    /// Adam's learning rate.
    pub lr: Option<f64>,
    /// Window Wn.
    pub window: Option<usize>,
}

impl Conditions {
    /// Fields the paper script's `config.json` gives (`M`, `K`, `eta`, `lr`,
    /// `seed`, `window`, `n_train`, `activation`); `self`'s fields win.
    fn or_config(self, config: &serde_json::Value) -> anyhow::Result<Self> {
        let number = |key: &str| config.get(key).and_then(serde_json::Value::as_f64);
        let count = |key: &str| config.get(key).and_then(serde_json::Value::as_u64).map(|x| x as usize);
        let activation = match config.get("activation").and_then(serde_json::Value::as_str) {
            Some(name) => Some(parse_activation(name)?),
            None => None,
        };
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
            eta: either(self.eta, number("eta"), "eta")?,
            seed: either(self.seed, config.get("seed").and_then(serde_json::Value::as_u64), "seed")?,
            modulus: either(self.modulus, count("M"), "modulus")?,
            width: either(self.width, count("K"), "width")?,
            n_train: either(self.n_train, count("n_train"), "n-train")?,
            lr: either(self.lr, number("lr"), "lr")?,
            window: either(self.window, count("window"), "window")?,
        })
    }

    /// The spec of a log whose last epoch is `epochs`; every field must be known.
    fn spec(&self, epochs: usize) -> anyhow::Result<TrainSpec> {
        let missing = |what: &str| anyhow::anyhow!("the log's {what} is not known: give --{what} (or a config.json)");
        let modulus = self.modulus.ok_or_else(|| missing("modulus"))?;
        let n_train = self.n_train.ok_or_else(|| missing("n-train"))?;
        let spec = TrainSpec {
            modulus,
            width: self.width.ok_or_else(|| missing("width"))?,
            train_fraction: n_train as f64 / (modulus * modulus) as f64,
            activation: self.activation.ok_or_else(|| missing("activation"))?,
            lr: self.lr.ok_or_else(|| missing("lr"))?,
            eta: self.eta.ok_or_else(|| missing("eta"))?,
            epochs,
            window: self.window.ok_or_else(|| missing("window"))?,
            seed: self.seed.ok_or_else(|| missing("seed"))?,
            rng: RngScheme::Torch,
            ..TrainSpec::default()
        };
        spec.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
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
    create_dir(out)?;
    let file = ImportedFile { spec, provenance, diverged_at, divergence_read: true };
    let csv = metrics.to_csv();
    let json = serde_json::to_vec_pretty(&file)?;
    write_atomic(&out.join("metrics.csv"), csv.as_bytes())?;
    write_atomic(&out.join("imported.json"), &json)?;
    let manifest = serde_json::json!({ "metrics.csv": hash_hex(csv.as_bytes()), "imported.json": hash_hex(&json) });
    write_atomic(&out.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    ImportedRun::load(out)
}

/// A log as named columns of numbers: NaN for a blank cell (not logged),
/// [`NOT_A_NUMBER`] for a cell logged as NaN or ±inf.
type Table = Vec<BTreeMap<String, f64>>;

/// A cell the source logged as not a number (NaN, ±inf, an overflow):
/// undefined like a blank one, but, in the training loss, a divergence.
const NOT_A_NUMBER: f64 = f64::INFINITY;

/// Whether lockin reads a column of that (lower-case) name.
fn is_read(name: &str) -> bool {
    COLUMNS.contains(&name)
}

/// A cell as a value: blank is not logged (NaN); not finite (`nan`, `inf`,
/// an overflow) is [`NOT_A_NUMBER`].
fn value_of(cell: &str, line: usize, name: &str) -> anyhow::Result<f64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(f64::NAN);
    }
    let x: f64 = cell.parse().with_context(|| format!("line {line}, column {name}: `{cell}` is not a number"))?;
    Ok(if x.is_finite() { x } else { NOT_A_NUMBER })
}

/// The values a column can hold: accuracies are fractions in [0, 1];
/// losses, singular values, gaps and ρ are ≥ 0. The first value outside is
/// an error naming the column, the row and the domain, and saying so when
/// a whole accuracy column looks like percent.
fn check_domains(table: &Table, columns: &[String]) -> anyhow::Result<()> {
    for column in columns {
        let accuracy = column.ends_with("_acc");
        let hi = if accuracy { 1.0 } else { f64::INFINITY };
        let values: Vec<(usize, f64)> = table
            .iter()
            .enumerate()
            .filter_map(|(i, row)| row.get(column).map(|v| (i, *v)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        let Some((row, value)) = values.iter().find(|(_, v)| !(0.0..=hi).contains(v)) else { continue };
        let percent = accuracy && values.iter().all(|(_, v)| (0.0..=100.0).contains(v));
        bail!(
            "column {column}, row {} (epoch {row}): {value} is outside its domain [0, {}{}",
            row + 1,
            if accuracy { "1]" } else { "∞)" },
            if percent { "; the whole column lies in [0, 100]: it looks like percent, give fractions" } else { "" }
        );
    }
    Ok(())
}

/// A CSV cell or name without surrounding blanks and double quotes.
fn unquoted(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(cell)
}

/// Why a header with no `epoch` column was not read, where its form says:
/// another separator.
fn separator_hint(header: &str) -> String {
    match [';', '\t', '|'].into_iter().find(|sep| header.contains(*sep) && !header.contains(',')) {
        Some(sep) => format!(
            "; the header is separated by {:?}, not commas: lockin reads comma-separated values",
            sep.to_string()
        ),
        None => String::new(),
    }
}

fn table_of_csv(text: &str) -> anyhow::Result<Table> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().context("empty file")?;
    let mut header: Vec<String> = first.split(',').map(|h| unquoted(h).to_ascii_lowercase()).collect();
    // A trailing comma on every line is no column.
    let trailing = header.len() > 1 && header.last().is_some_and(String::is_empty);
    if trailing {
        header.pop();
    }
    if !header.iter().any(|h| h == "epoch") {
        bail!("line 1: no `epoch` column (found {}){}", header.join(", "), separator_hint(first));
    }
    if let Some((i, twice)) = header.iter().enumerate().find(|(i, h)| header[..*i].contains(h)) {
        bail!("line 1: column {} is `{twice}` again (names are matched without regard to case)", i + 1);
    }
    let mut table: Table = lines
        .enumerate()
        .map(|(i, line)| {
            let mut cells: Vec<&str> = line.split(',').map(unquoted).collect();
            if trailing && cells.len() == header.len() + 1 && cells.last() == Some(&"") {
                cells.pop();
            }
            if cells.len() != header.len() {
                bail!("line {}: {} cells for {} columns", i + 2, cells.len(), header.len());
            }
            // Columns lockin does not read are not parsed.
            header
                .iter()
                .zip(cells)
                .filter(|(name, _)| is_read(name))
                .map(|(name, cell)| Ok((name.clone(), value_of(cell, i + 2, name)?)))
                .collect()
        })
        .collect::<anyhow::Result<_>>()?;
    // The names of unread columns stay known (as undefined in row 0).
    if let Some(first) = table.first_mut() {
        first.extend(header.iter().filter(|h| !is_read(h)).map(|h| (h.clone(), f64::NAN)));
    }
    Ok(table)
}

/// A JSON line with Python's bare `NaN`, `Infinity` and `-Infinity`
/// values as `null`; inside strings (keys such as `NaN_count`) nothing is
/// touched.
fn python_json(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if !in_string && let Some(word) = ["-Infinity", "Infinity", "NaN"].into_iter().find(|w| rest.starts_with(w)) {
            out.push_str("null");
            rest = &rest[word.len()..];
            continue;
        }
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// One JSON line as named values; keys that differ only in case are refused.
fn row_of_jsonl(line: &str, number: usize) -> anyhow::Result<BTreeMap<String, f64>> {
    let row: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&python_json(line)).with_context(|| format!("line {number}: not a JSON object"))?;
    let mut out = BTreeMap::new();
    for (k, v) in row {
        let name = k.to_ascii_lowercase();
        // Every key is a column, a null (NaN) one too; lockin's columns must be numbers.
        let value = match v {
            serde_json::Value::Null => NOT_A_NUMBER,
            serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            other if is_read(&name) => bail!("line {number}, key {k}: `{other}` is not a number"),
            _ => f64::NAN,
        };
        if out.insert(name.clone(), value).is_some() {
            bail!("line {number}: two keys are `{name}` when case is ignored; keep one");
        }
    }
    Ok(out)
}

fn table_of_jsonl(text: &str) -> anyhow::Result<Table> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, line)| row_of_jsonl(line, i + 1)).collect()
}

/// What a log gives: lockin's metrics, the columns it had and those lockin
/// does not read, and the epoch its loss was logged as not a number.
struct Read {
    metrics: Metrics,
    columns: Vec<String>,
    ignored: Vec<String>,
    diverged_at: Option<usize>,
}

/// The log as lockin's metrics (rows 0..=E in order), with what else it gives.
fn metrics_of(table: &Table) -> anyhow::Result<Read> {
    table.first().context("no rows")?;
    if table.len() < 2 {
        bail!("one row (epoch 0) only: a run needs epochs 0 and 1 at least");
    }
    let mut present: Vec<String> = table.iter().flat_map(|row| row.keys().cloned()).collect();
    present.sort();
    present.dedup();
    if !present.iter().any(|c| c == "epoch") {
        bail!("no `epoch` column");
    }
    let columns: Vec<String> =
        COLUMNS[1..].iter().filter(|c| present.iter().any(|p| p == *c)).map(|c| c.to_string()).collect();
    if columns.is_empty() {
        bail!("no column lockin reads (one of {})", COLUMNS[1..].join(", "));
    }
    let ignored = present.iter().filter(|p| !COLUMNS.contains(&p.as_str())).cloned().collect();
    check_domains(table, &columns)?;
    let diverged_at = table.iter().position(|row| row.get("train_loss") == Some(&NOT_A_NUMBER));
    let mut rows = Vec::with_capacity(table.len());
    for (i, row) in table.iter().enumerate() {
        let get = |name: &str| row.get(name).copied().filter(|v| v.is_finite()).unwrap_or(f64::NAN);
        if get("epoch").is_nan() {
            bail!("row {}: its epoch is not a number", i + 1);
        }
        if get("epoch") != i as f64 {
            bail!("row {} holds epoch {}, expected {i}: a log is every epoch from 0 in order", i + 1, get("epoch"));
        }
        let spectrum = |p: &str| SpectrumRow {
            sigma: std::array::from_fn(|k| get(&format!("{p}_sigma{}", k + 1))),
            gap23: get(&format!("{p}_gap23")),
        };
        rows.push(EpochRow {
            epoch: i,
            train: Evaluation { loss: get("train_loss"), accuracy: get("train_acc") },
            test: Evaluation { loss: get("test_loss"), accuracy: get("test_acc") },
            w: spectrum("w"),
            v: spectrum("v"),
        });
    }
    Ok(Read { metrics: Metrics { rows }, columns, ignored, diverged_at })
}

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
        let output =
            TrainOutput { metrics, checkpoints: Vec::new(), diverged_at, collapsed_at: None, levels: Vec::new() };
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
        let mine = &self.run.spec;
        let pairs = |s: &TrainSpec| crate::data::n_train(s.modulus, s.train_fraction);
        let same = mine.modulus == spec.modulus
            && mine.width == spec.width
            && pairs(mine) == pairs(spec)
            && mine.activation == spec.activation
            && mine.lr == spec.lr
            && mine.eta == spec.eta
            && mine.window == spec.window
            && mine.seed == spec.seed
            && mine.rng == spec.rng
            && mine.epochs >= spec.epochs;
        if !same {
            return None;
        }
        let mut run = self.run.clone();
        run.metrics.rows.truncate(spec.epochs + 1);
        let diverged_at = run.summary.diverged_at.filter(|&e| e <= spec.epochs);
        let output = TrainOutput {
            metrics: run.metrics.clone(),
            checkpoints: Vec::new(),
            diverged_at,
            collapsed_at: None,
            levels: Vec::new(),
        };
        run.summary = RunSummary::of(&output, 0.0);
        Some(run)
    }

    /// What this run has for a measure to read: its columns.
    pub fn has(&self, need: &str) -> bool {
        self.provenance.columns.iter().any(|c| c == need)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "epoch,train_acc,test_acc,W_sigma1,W_sigma2,W_sigma3,W_gap23,extra\n\
                       0,0.01,0.02,,,,,7\n1,0.5,0.25,3,2,1,2,7\n2,1,0.75,4,2,0.5,4,7\n";

    fn conditions() -> Conditions {
        Conditions {
            activation: Some(Activation::Sqr),
            eta: Some(2e-4),
            seed: Some(0),
            modulus: Some(5),
            width: Some(16),
            n_train: Some(15),
            lr: Some(1e-3),
            window: Some(2),
        }
    }

    #[test]
    fn a_csv_log_becomes_a_run_with_its_columns_named() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        std::fs::write(&log, CSV).unwrap();
        let run = import(&log, None, conditions(), "test", "cpu", &dir.path().join("run")).unwrap();
        assert_eq!(run.provenance.columns, ["train_acc", "test_acc", "w_sigma1", "w_sigma2", "w_sigma3", "w_gap23"]);
        assert_eq!(run.provenance.ignored, ["extra"]);
        assert_eq!(run.run.metrics.w_gap23()[2], 4.0);
        assert!(run.run.metrics.rows[1].w.sigma[3].is_nan(), "σ4 is not in the file: undefined");
        assert_eq!((run.run.spec.epochs, crate::data::n_train(5, run.run.spec.train_fraction)), (2, 15));
        assert!(run.has("w_gap23") && !run.has("w_sigma4"));
        let serve = TrainSpec { epochs: 1, ..run.run.spec.clone() };
        assert_eq!(run.serving(&serve).unwrap().metrics.rows.len(), 2);
        assert!(run.serving(&TrainSpec { seed: 1, ..serve }).is_none());
    }

    #[test]
    fn the_paper_script_s_jsonl_and_config_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        std::fs::write(&log, "{\"epoch\": 0, \"train_acc\": 0.1, \"W_gap23\": NaN}\n{\"epoch\": 1, \"train_acc\": 1.0, \"W_gap23\": 2.5}\n{\"epoch\": 2, \"train_acc\": 1.0, \"W_gap23\": Infinity}\n")
            .unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(
            &config,
            r#"{"M": 5, "K": 16, "eta": 0.0002, "lr": 0.001, "seed": 3, "window": 2, "n_train": 15}"#,
        )
        .unwrap();
        let given = Conditions { activation: Some(Activation::Sqr), ..Conditions::default() };
        let run = import(&log, Some(&config), given, "PyTorch", "mps", &dir.path().join("run")).unwrap();
        assert_eq!((run.run.spec.seed, run.provenance.format.as_str()), (3, "paper-jsonl"));
        assert!(run.run.metrics.w_gap23()[0].is_nan() && run.run.metrics.w_gap23()[1] == 2.5);
    }

    /// The hostile round's cases: the paper script's jsonl, whose first
    /// row has `W_gap23: NaN`, keeps its gap column (it was dropped); an
    /// `inf` cell is undefined (it made the detector fire); unread text
    /// columns are not parsed; a BOM is skipped.
    #[test]
    fn imports_keep_what_the_file_has_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.JSONL");
        std::fs::write(&log, "{\"epoch\": 0, \"W_gap23\": NaN, \"note\": \"x\"}\n{\"epoch\": 1, \"W_gap23\": 2.0}\n{\"epoch\": 2, \"W_gap23\": 3.0}\n").unwrap();
        let run = import(&log, None, conditions(), "t", "d", &dir.path().join("a")).unwrap();
        assert_eq!(run.provenance.columns, ["w_gap23"]);
        let csv = dir.path().join("log.csv");
        std::fs::write(&csv, "\u{feff}epoch,W_gap23,note\n0,,hello\n1,inf,x\n2,4,y\n").unwrap();
        let run = import(&csv, None, conditions(), "t", "d", &dir.path().join("b")).unwrap();
        assert!(run.run.metrics.w_gap23()[1].is_nan() && run.run.metrics.w_gap23()[2] == 4.0);
        assert_eq!(run.provenance.ignored, ["note"]);
        let twice = dir.path().join("twice.csv");
        std::fs::write(&twice, "epoch,W_gap23,w_gap23\n0,1,2\n").unwrap();
        let e = format!("{:#}", import(&twice, None, conditions(), "t", "d", &dir.path().join("c")).unwrap_err());
        assert!(e.contains("is `w_gap23` again"), "{e}");
    }

    #[test]
    fn bad_logs_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |name: &str, text: &str| {
            let log = dir.path().join(name);
            std::fs::write(&log, text).unwrap();
            format!(
                "{:#}",
                import(&log, None, conditions(), "t", "d", &dir.path().join(format!("{name}-run"))).unwrap_err()
            )
        };
        assert!(bad("a.csv", "epoch,train_acc\n0,0.1\n2,0.2\n").contains("row 2 holds epoch 2, expected 1"));
        assert!(bad("b.csv", "train_acc\n0.1\n").contains("no `epoch` column"));
        assert!(bad("c.csv", "epoch,train_acc\n0,abc\n").contains("line 2, column train_acc: `abc` is not a number"));
        let log = dir.path().join("d.csv");
        std::fs::write(&log, "epoch,train_acc\n0,0.1\n1,0.2\n").unwrap();
        let unknown = Conditions { seed: None, ..conditions() };
        let e = format!("{:#}", import(&log, None, unknown, "t", "d", &dir.path().join("d-run")).unwrap_err());
        assert!(e.contains("the log's seed is not known"), "{e}");
        // Impossible values were imported and judged.
        let e = bad("p.csv", "epoch,test_acc\n0,5.19\n1,100\n");
        assert!(
            e.contains("column test_acc, row 1 (epoch 0): 5.19 is outside its domain [0, 1]") && e.contains("percent"),
            "{e}"
        );
        let e = bad("n.csv", "epoch,test_acc\n0,-0.3\n1,0.5\n");
        assert!(e.contains("-0.3 is outside") && !e.contains("percent"), "{e}");
        assert!(
            bad("s.csv", "epoch,w_sigma1\n0,1\n1,-2\n")
                .contains("column w_sigma1, row 2 (epoch 1): -2 is outside its domain [0, ∞)")
        );
    }

    /// Log forms a user meets: quoted cells, other separators, CR line
    /// ends, trailing commas, one row, JSON lines under another name, keys
    /// that differ in case, `NaN` inside a key, empty provenance.
    #[test]
    fn log_forms_are_read_or_named() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
        let try_import = |name: &str, text: &str| {
            let log = dir.path().join(name);
            std::fs::write(&log, text).unwrap();
            import(&log, None, conditions(), "t", "d", &dir.path().join(format!("{name}-run")))
        };
        let quoted: String = (0..=20).map(|e| format!("\"{e}\",\"0.5\"\n")).collect();
        assert!(try_import("q.csv", &format!("\"epoch\",\"train_acc\"\n{quoted}")).is_ok());
        let cr = format!("epoch,train_acc\n{rows}").replace('\n', "\r");
        assert!(try_import("cr.csv", &cr).is_ok(), "CR-only line ends");
        let trailing: String = (0..=20).map(|e| format!("{e},0.5,\n")).collect();
        let run = try_import("t.csv", &format!("epoch,train_acc,\n{trailing}")).unwrap();
        assert!(run.provenance.ignored.is_empty(), "{:?}", run.provenance.ignored);
        let e = format!("{:#}", try_import("s.csv", "epoch;train_acc\n0;0.5\n").unwrap_err());
        assert!(e.contains("separated by \";\""), "{e}");
        let e = format!("{:#}", try_import("one.csv", "epoch,train_acc\n0,0.5\n").unwrap_err());
        assert!(e.contains("one row (epoch 0) only"), "{e}");
        let lines: String =
            (0..=20).map(|e| format!("{{\"epoch\": {e}, \"train_acc\": 0.5, \"NaN_count\": NaN}}\n")).collect();
        let run = try_import("log.txt", &lines).unwrap();
        assert_eq!(run.provenance.format, "paper-jsonl");
        assert_eq!(run.provenance.ignored, ["nan_count"], "a key holding `NaN` is kept as written");
        let e = format!(
            "{:#}",
            try_import("c.jsonl", "{\"epoch\": 0, \"Train_acc\": 0.1, \"train_acc\": 0.2}\n").unwrap_err()
        );
        assert!(e.contains("two keys are `train_acc`"), "{e}");
        let log = dir.path().join("p.csv");
        std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
        let e = format!("{:#}", import(&log, None, conditions(), "", "d", &dir.path().join("p")).unwrap_err());
        assert!(e.contains("--framework"), "{e}");
    }

    /// Two imported runs of one seed: the first in name order won, so
    /// renaming the directories flipped the verdict. Refused.
    #[test]
    fn two_imports_of_one_seed_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
        std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
        let runs = dir.path().join("runs");
        std::fs::create_dir(&runs).unwrap();
        for name in ["a", "b"] {
            import(&log, None, conditions(), "t", "d", &runs.join(name)).unwrap();
        }
        let e = format!("{:#}", ImportedRun::load_all(&runs).unwrap_err());
        assert!(e.contains("are both seed") && e.contains("keep one"), "{e}");
    }

    /// Editing, truncating or re-labelling an import after the fact was
    /// judged silently; every read now checks each file's hash.
    #[test]
    fn an_edited_import_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
        std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
        for (name, file, edit) in [
            ("metrics", "metrics.csv", &(|t: String| t.replacen("5e-1", "6e-1", 1)) as &dyn Fn(String) -> String),
            ("truncated", "metrics.csv", &|t: String| t.lines().take(10).map(|l| format!("{l}\n")).collect()),
            ("seed", "imported.json", &|t: String| t.replacen("\"seed\": 0", "\"seed\": 1", 1)),
        ] {
            let out = dir.path().join(name);
            import(&log, None, conditions(), "t", "d", &out).unwrap();
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            let edited = edit(text.clone());
            assert_ne!(edited, text, "{name}: the edit must change the file");
            std::fs::write(out.join(file), edited).unwrap();
            let e = format!("{:#}", ImportedRun::load(&out).unwrap_err());
            assert!(e.contains("changed since it was imported") && e.contains(file), "{name}: {e}");
        }
    }

    /// A loss logged every 10 epochs (blank cells between) was read as a
    /// divergence at epoch 1; a loss logged as NaN is one.
    #[test]
    fn blank_loss_cells_are_not_logged_and_nan_ones_diverge() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..=30).map(|e| format!("{e},{}\n", if e % 10 == 0 { "0.5" } else { "" })).collect();
        let sparse = dir.path().join("sparse.csv");
        std::fs::write(&sparse, format!("epoch,train_loss\n{rows}")).unwrap();
        let run = import(&sparse, None, conditions(), "t", "d", &dir.path().join("sparse")).unwrap();
        assert_eq!(run.run.summary.diverged_at, None);
        let nan = dir.path().join("nan.csv");
        std::fs::write(&nan, "epoch,train_loss\n0,0.5\n1,\n2,nan\n3,\n").unwrap();
        let run = import(&nan, None, conditions(), "t", "d", &dir.path().join("nan")).unwrap();
        assert_eq!(run.run.summary.diverged_at, Some(2));
    }
}
