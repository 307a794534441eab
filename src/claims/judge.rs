//! Judging a claim on its measurement (docs/claims.md, "Verdicts":
//! recorded outcomes, like a strict xfail): its checks and preconditions,
//! its verdict, and the result that reports and results files carry.

use serde::{Deserialize, Serialize};

pub use super::check::CheckResult;
use super::expectation::Expectation;
use super::grade::Figure;
use super::load::{Claim, LoadError};
use super::measure::Measurement;
use super::schema::{ClaimKind, Outcome};
use super::tier::Tier;

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
        let counts: Vec<String> = expanded.measures.iter().flat_map(|m| m.seed_counts()).collect();
        let judge = |e: &Expectation| {
            let figure = if counts.contains(&e.quantity) { Figure::SeedCount } else { Figure::Printed };
            CheckResult::judge(e, &value, figure)
        };
        self.checks = expanded.expect.iter().map(judge).collect();
        self.requires = expanded.requires.iter().map(judge).collect();
        self.reproduced = Some(self.checks.iter().all(|c| c.holds));
        self.verdict = match (claim.is_open(), self.checks.iter().all(CheckResult::as_recorded)) {
            (true, _) => Verdict::Open,
            (false, true) => Verdict::Pass,
            (false, false) => Verdict::Fail,
        };
        self.measurement = measurement;
        // An observation reports every quantity, so every warning bears on it.
        if claim.raw.kind != crate::claims::schema::ClaimKind::Observation {
            self.keep_warnings_of_used_quantities();
        }
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

    /// Keep the measure warnings that bear on a quantity a check or a
    /// precondition reads (each warning names the quantities it bears on).
    fn keep_warnings_of_used_quantities(&mut self) {
        let used: Vec<&str> = self.checks.iter().chain(&self.requires).map(|c| c.quantity.as_str()).collect();
        self.measurement.warnings.retain(|w| w.bears_on.iter().any(|q| used.contains(&q.as_str())));
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
            // An open hypothesis has recorded nothing.
            recorded_outcome: (!claim.is_open()).then(|| claim.outcome.at(tier)),
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
