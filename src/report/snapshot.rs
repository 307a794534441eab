//! A claim's recorded result at one tier: what `cargo test` keeps in
//! `snapshots/` (quick tier, through insta) and `verify-claims --tier paper`
//! in `snapshots/paper/`, one file per claim in the same format (README,
//! "Results"). Every figure is rounded well above float noise, and no
//! timing is kept, so a snapshot means the same on every CPU.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::markdown::figures;
use crate::claims::grade::Unit;
use crate::claims::judge::{ClaimResult, Verdict};
use crate::claims::value::Value;
use crate::claims::{CheckState, Grade, Reading, Tier};
use crate::format::num;

/// What a snapshot records: verdicts, the reader's verdict, the README's
/// figures, and every figure the claim reports (checks, all quantities, all
/// per-seed values). Drift in an unchecked median shows as a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Claim id.
    pub id: String,
    /// Tier.
    pub tier: String,
    /// Whether the measurement matched the record (PASS/FAIL).
    pub verdict: Verdict,
    /// Whether every check held.
    pub reproduced: Option<bool>,
    /// The verdict in the reader's words (`report::status`).
    #[serde(default)]
    pub reads: String,
    /// The checked figures as the README quotes them.
    #[serde(default)]
    pub figures: String,
    /// The checks.
    pub checks: Vec<Check>,
    /// Every quantity.
    pub quantities: BTreeMap<String, String>,
    /// Every per-seed value.
    pub per_seed: BTreeMap<String, Vec<String>>,
}

/// One check as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Quantity name.
    pub quantity: String,
    /// The paper's figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<String>,
    /// Its tolerance, described.
    pub tolerance: String,
    /// Measured value, 4 significant digits as the tables print it.
    pub measured: String,
    /// Margin, 3 significant digits.
    pub margin: String,
    /// Miss in printed units (decades for a factor), 3 significant digits.
    #[serde(default)]
    pub miss: String,
    /// exact, near or far.
    pub grade: Grade,
    /// `quantity` where no printed figure stands behind the check (a bound
    /// lockin wrote): its miss is in the quantity's own units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miss_in: Option<String>,
    /// lockin's reading, where it is one.
    #[serde(default, skip_serializing_if = "Reading::is_paper")]
    pub reading: Reading,
    /// holds, fails or undefined.
    pub state: CheckState,
    /// What was recorded.
    pub recorded: CheckState,
}

fn three_significant(x: f64) -> String {
    if x.is_nan() { "undefined".into() } else { format!("{x:.2e}") }
}

/// A value as a snapshot records it: a number [`rounded`], bounds as
/// "≥ 301", or "undefined".
pub fn shown(v: Value) -> String {
    match v.number() {
        Some(x) => rounded(x),
        None => v.describe(),
    }
}

/// Whole numbers (epochs, ranks, counts) exactly; the rest to 3 significant digits.
pub fn rounded(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e9 { num(x) } else { three_significant(x) }
}

impl Snapshot {
    /// The snapshot of a judged result.
    pub fn of(r: &ClaimResult) -> Self {
        Snapshot {
            id: r.id.clone(),
            tier: r.tier.name().into(),
            verdict: r.verdict,
            reproduced: r.reproduced,
            reads: super::status(r),
            figures: super::markdown::cell(&figures(r)),
            checks: r
                .checks
                .iter()
                .map(|c| Check {
                    quantity: c.quantity.clone(),
                    paper: c.paper.map(num),
                    tolerance: c.tolerance.describe(),
                    measured: c.value().describe(),
                    margin: three_significant(c.margin),
                    miss: three_significant(c.miss),
                    grade: c.grade,
                    miss_in: (c.unit == Unit::Unprinted).then(|| "quantity".to_string()),
                    reading: c.reading,
                    state: c.state,
                    recorded: c.recorded,
                })
                .collect(),
            quantities: r.measurement.quantities.iter().map(|(k, v)| (k.clone(), shown(*v))).collect(),
            per_seed: r
                .measurement
                .per_seed
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().map(|s| shown(s.value)).collect()))
                .collect(),
        }
    }

    /// Read a snapshot file (insta's format: a `---` header, then YAML).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let body = text
            .splitn(3, "---\n")
            .nth(2)
            .ok_or_else(|| anyhow::anyhow!("{}: not a snapshot (no `---` header before the YAML)", path.display()))?;
        serde_yaml::from_str(body).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The file's text: insta's header, naming `source`, `statement` and
    /// the claim file, then the YAML.
    pub fn text(&self, source: &str, statement: &str, claim_file: &str) -> anyhow::Result<String> {
        let description = serde_json::to_string(statement.trim())?;
        let body = serde_yaml::to_string(self)?;
        Ok(format!("---\nsource: {source}\ndescription: {description}\ninput_file: {claim_file}\n---\n{body}"))
    }

    /// The lines of this snapshot's YAML that `other` lacks, and the lines
    /// `other` has that this one lacks: a difference a reader can act on.
    pub fn differences(&self, other: &Snapshot) -> Vec<String> {
        let lines = |s: &Snapshot| serde_yaml::to_string(s).unwrap_or_default();
        let (mine, theirs) = (lines(self), lines(other));
        let (mine, theirs): (Vec<&str>, Vec<&str>) = (mine.lines().collect(), theirs.lines().collect());
        let gone = theirs.iter().filter(|l| !mine.contains(l)).map(|l| format!("- {}", l.trim()));
        let new = mine.iter().filter(|l| !theirs.contains(l)).map(|l| format!("+ {}", l.trim()));
        gone.chain(new).collect()
    }
}

/// Where a tier's snapshots are kept: `snapshots/` (quick) and
/// `snapshots/paper/` under `root`.
pub fn dir(root: &Path, tier: Tier) -> PathBuf {
    match tier {
        Tier::Quick => root.join("snapshots"),
        Tier::Paper => root.join("snapshots").join("paper"),
    }
}

/// Every snapshot of a tier under `root`, by claim id (none if the
/// directory is missing); two files of one id are an error naming both.
pub fn read_all(root: &Path, tier: Tier) -> anyhow::Result<BTreeMap<String, Snapshot>> {
    Ok(read_files(root, tier)?.into_iter().map(|(id, (snapshot, _))| (id, snapshot)).collect())
}

/// [`read_all`] with each snapshot's file.
pub fn read_files(root: &Path, tier: Tier) -> anyhow::Result<BTreeMap<String, (Snapshot, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(dir(root, tier)) else { return Ok(BTreeMap::new()) };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "snap"));
    paths.sort(); // one answer whatever order the directory lists them in
    let (mut out, mut seen) = (BTreeMap::new(), BTreeMap::new());
    for path in paths {
        let snapshot = Snapshot::read(&path)?;
        if let Some(first) = seen.insert(snapshot.id.clone(), path.clone()) {
            anyhow::bail!(
                "{} and {} are both snapshots of {}: remove one",
                first.display(),
                path.display(),
                snapshot.id
            );
        }
        out.insert(snapshot.id.clone(), (snapshot, path));
    }
    Ok(out)
}
