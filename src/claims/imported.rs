//! The claims judged on runs made elsewhere (docs/methods.md, "Runs made
//! elsewhere"): each claim whose measures the imported runs can serve,
//! on the seeds that were imported, so that "the paper is wrong" and
//! "lockin differs" can be told apart.

use serde::{Deserialize, Serialize};

use super::judge::{CheckResult, ClaimResult};
use super::load::Claim;
use super::measure::MeasureSpec;
use super::runner::{admitted, claim_specs};
use super::tier::Tier;
use crate::backend::Backend;
use crate::external::ImportedRun;
use crate::runs::Run;
use crate::train::TrainSpec;

/// One claim on the imported runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Claim id.
    pub id: String,
    /// The judged claim, when the imported runs could serve it.
    pub result: Option<ClaimResult>,
    /// The same claim on lockin's runs of exactly those conditions and seeds.
    pub lockin: Option<ClaimResult>,
    /// Which seeds of which conditions it was judged on, or why it was not.
    pub note: String,
    /// The imported files it read.
    pub files: Vec<String>,
}

impl Judgement {
    /// Each check judged on the imported runs beside the same check on
    /// lockin's runs (none when lockin's result has no such check). Both
    /// judge one claim's checks in its order, so they pair by position:
    /// two checks may read one quantity (C04's `separation`).
    pub fn checks_beside_lockin(&self) -> Vec<(&CheckResult, Option<&CheckResult>)> {
        let Some(theirs) = &self.result else { return Vec::new() };
        let ours = |i: usize, c: &CheckResult| {
            self.lockin.as_ref().and_then(|r| r.checks.get(i)).filter(|m| m.quantity == c.quantity)
        };
        theirs.checks.iter().enumerate().map(|(i, c)| (c, ours(i, c))).collect()
    }
}

/// lockin's run of a spec (from the cache, or trained).
pub type LockinRuns<'a> = &'a dyn Fn(&TrainSpec) -> anyhow::Result<Run>;

/// Judge each claim at `tier` on the runs of `imported` that match its
/// conditions (seed by seed; a longer log is read up to the claim's
/// epochs), and on lockin's runs (`lockin`) of the same conditions and seeds.
pub fn judge(
    claims: &[Claim],
    tier: Tier,
    backend: Backend,
    imported: &[ImportedRun],
    lockin: LockinRuns,
) -> Vec<Judgement> {
    claims.iter().map(|claim| judge_one(claim, tier, backend, imported, lockin)).collect()
}

fn judge_one(claim: &Claim, tier: Tier, backend: Backend, imported: &[ImportedRun], lockin: LockinRuns) -> Judgement {
    let id = claim.raw.id.clone();
    let not = |note: String| Judgement { id: id.clone(), result: None, lockin: None, note, files: Vec::new() };
    let expanded = claim.at(tier);
    let specs = claim_specs(claim, tier, backend);
    let mut served = std::collections::BTreeMap::new();
    let mut same_seeds = std::collections::BTreeMap::new();
    let mut notes = Vec::new();
    let mut files = Vec::new();
    for (condition, specs) in &specs {
        // Each spec served by an imported run, with that run (read once).
        let (ours, matched): (Vec<TrainSpec>, Vec<(&ImportedRun, Run)>) = specs
            .iter()
            .filter_map(|s| imported.iter().find_map(|i| i.serving(s).map(|run| (s.clone(), (i, run)))))
            .unzip();
        if matched.is_empty() {
            if let Some(note) = other_objective(condition, specs, imported) {
                return not(note);
            }
            let seeds: Vec<u64> = specs.iter().map(|s| s.seed).collect();
            let seeds = super::experiment::TierSeeds::describe(&seeds);
            return not(format!("no imported run of `{condition}` (its conditions and {seeds})"));
        }
        let needs: Vec<String> = expanded
            .measures
            .iter()
            .filter(|m| m.conditions().contains(&condition.as_str()))
            .flat_map(MeasureSpec::needs)
            .collect();
        if let Some((run, need)) = matched.iter().find_map(|(i, _)| needs.iter().find(|n| !i.has(n)).map(|n| (i, n))) {
            return not(format!(
                "needs `{need}`, which the imported runs lack (they have {})",
                run.provenance.columns.join(", ")
            ));
        }
        let seeds: Vec<String> = matched.iter().map(|(_, r)| r.spec.seed.to_string()).collect();
        notes.push(format!("`{condition}` on seeds {} of {}", seeds.join(", "), specs.len()));
        files.extend(matched.iter().map(|(i, _)| i.provenance.file.clone()));
        served.insert(condition.clone(), matched.into_iter().map(|(_, r)| r).collect::<Vec<Run>>());
        same_seeds.insert(condition.clone(), ours);
    }
    // Both sides as the claim admits runs: a divergence or collapse it
    // does not count is its error.
    let admit = |condition: &str, run: Run| admitted(run, &expanded.experiments[condition], condition);
    let theirs = |condition: &str| -> anyhow::Result<Vec<Run>> {
        served[condition].iter().map(|r| admit(condition, r.clone())).collect()
    };
    let ours = |condition: &str| -> anyhow::Result<Vec<Run>> {
        same_seeds[condition].iter().map(|s| admit(condition, lockin(s)?)).collect()
    };
    Judgement {
        id,
        result: Some(judged(claim, tier, &theirs)),
        lockin: Some(judged(claim, tier, &ours)),
        note: format!("judged on {}", notes.join("; ")),
        files,
    }
}

/// Where an imported run matches `condition`'s runs in all but what it
/// learned or how (task, optimiser, loss, label noise, seeding), why it is
/// refused: a run of one task never serves a claim about another.
fn other_objective(condition: &str, specs: &[TrainSpec], imported: &[ImportedRun]) -> Option<String> {
    let other = specs.iter().find_map(|s| imported.iter().find_map(|i| i.objective_mismatch(s).map(|why| (i, why))));
    other.map(|(run, why)| {
        format!(
            "the imported run {} is not a run of `{condition}`: {why} (a run of one task, optimiser, loss, label \
             noise or seeding never serves a claim about another)",
            run.run.dir.display()
        )
    })
}

/// `claim` judged on the runs `runs` gives per condition (no checkpoints).
fn judged(claim: &Claim, tier: Tier, runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>) -> ClaimResult {
    let no_checkpoints = |_: &Run, _: usize, _: usize| -> anyhow::Result<crate::probes::theorem6::SignRule> {
        anyhow::bail!("imported runs have no checkpoints")
    };
    let mut result = ClaimResult::new(claim, tier);
    match super::runner::contained(|| MeasureSpec::measure_all(&claim.at(tier).measures, runs, &no_checkpoints)) {
        Ok(measurement) => result.judge(claim, measurement),
        Err(e) => result.error = Some(format!("{e:#}")),
    }
    result
}
