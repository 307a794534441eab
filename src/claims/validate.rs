//! Validation of a raw claim (docs/claims.md, "Fields"): the id against
//! the file name, the experiments against their limits, each tier's
//! expansion, its measures, checks and preconditions, and the recorded
//! outcome against the checks. Every problem names the field at fault.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::expectation::{CheckState, Expectation};
use super::experiment::{Experiment, MAX_SEEDS};
use super::grid::{self, Expanded};
use super::measure::MeasureSpec;
use super::problem::Problem;
use super::schema::{ClaimKind, Outcome, RawClaim, check_id};
use super::tier::Tier;
use super::tolerance::Tolerance;
use crate::train::limits::{MAX_FLOP, hours, run_flop};

/// A validation error.
fn fail<T>(field: &str, message: String) -> Result<T, Problem> {
    Err(Problem::new(field.to_string(), message))
}

/// Check a raw claim and expand it for both tiers.
pub(super) fn validate(raw: &RawClaim, path: &Path) -> Result<[Expanded; 2], Problem> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    check_id(&raw.id).or_else(|message| fail("id", message))?;
    let file_id = stem.split('-').next().unwrap_or("");
    if file_id != raw.id {
        return fail("id", format!("`{}` does not match the file name `{stem}` (name files ID-slug.yaml)", raw.id));
    }
    if raw.experiments.is_empty() {
        return fail("experiments", "at least one experiment is needed".into());
    }
    check_statements(raw)?;
    for m in &raw.measures {
        m.check_label()?;
    }
    if let Some(e) = raw.requires.iter().find(|e| e.recorded.is_some()) {
        return fail(
            "recorded",
            format!("`{}`: a precondition has no recorded state: it must hold, or the claim is ill-posed", e.quantity),
        );
    }
    let experiments = super::experiment::tables_beside(&raw.experiments, path.parent().unwrap_or(Path::new("")));
    let paper = grid::expand(&experiments, &raw.measures, [&raw.expect, &raw.requires], Tier::Paper)?;
    let quick = grid::expand(&experiments, &raw.measures, [&raw.expect, &raw.requires], Tier::Quick)?;
    check_experiments(&paper.experiments)?;
    if raw.title.contains('\n') || raw.title.trim().is_empty() {
        return fail("title", "one line of text".into());
    }
    let observation = raw.kind == ClaimKind::Observation;
    if observation && !raw.expect.is_empty() {
        return fail(
            "expect",
            "an `observation` checks nothing: drop `expect`, or make the claim a `hypothesis`".into(),
        );
    }
    validate_tier(&paper, observation, Tier::Paper)?;
    if (quick.expect.is_empty() && !observation) || quick.measures.is_empty() {
        return fail("expect", "nothing is checked at the quick tier: give some grid point quick seeds".into());
    }
    validate_tier(&quick, observation, Tier::Quick)?;
    for (tier, expanded) in [(Tier::Quick, &quick), (Tier::Paper, &paper)] {
        if let Some(outcome) = raw.outcome {
            check_outcome(outcome.at(tier), tier, expanded)?;
        }
        let negative = summary_of(expanded) == Outcome::DoesNotReproduce;
        if negative && raw.kind == ClaimKind::Identity {
            return fail(
                "kind",
                "an identity holds by construction: a check recorded as failing contradicts `kind: identity`".into(),
            );
        }
        if negative && raw.finding.as_deref().is_none_or(str::is_empty) {
            return fail("finding", "checks recorded as not holding need a `finding` with the evidence".into());
        }
    }
    Ok([quick, paper])
}

/// `statements`, `counted_with` and `headline` (docs/claims.md,
/// "Statements"): ids of capital letters and digits (`P19`, `N3`, `D4`),
/// each once; another
/// claim's id; a quantity the claim checks.
fn check_statements(raw: &RawClaim) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for id in &raw.statements {
        let letters = id.chars().take_while(|c| c.is_ascii_uppercase()).count();
        let digits = &id[letters..];
        if letters == 0 || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return fail(
                "statements",
                format!(
                    "`{id}` is not a statement id: capital letters then digits, as P19 (the paper), N3 (its notes) or D4 (a disagreement)"
                ),
            );
        }
        if !seen.insert(id) {
            return fail("statements", format!("`{id}` is named twice"));
        }
    }
    if let Some(other) = &raw.counted_with {
        check_id(other).or_else(|message| fail("counted_with", message))?;
        if *other == raw.id {
            return fail("counted_with", "a claim is not counted with itself: name the claim it is a subset of".into());
        }
    }
    match &raw.headline {
        Some(q) if !raw.expect.iter().any(|e| e.quantity == *q) => {
            fail("headline", format!("`{q}` is not the quantity of one of this claim's checks (`expect`)"))
        }
        _ => Ok(()),
    }
}

/// The outcome the checks' recorded states sum up to at one tier.
pub(super) fn summary_of(expanded: &Expanded) -> Outcome {
    if expanded.expect.iter().all(|e| e.recorded == CheckState::Holds) {
        Outcome::Reproduces
    } else {
        Outcome::DoesNotReproduce
    }
}

/// The outcome is the summary of the checks' recorded states
/// (docs/claims.md, "Verdicts"): `reproduces` exactly when every check at
/// the tier is recorded as holding.
fn check_outcome(outcome: Outcome, tier: Tier, expanded: &Expanded) -> Result<(), Problem> {
    let not_holding: Vec<&str> =
        expanded.expect.iter().filter(|e| e.recorded != CheckState::Holds).map(|e| e.quantity.as_str()).collect();
    match (outcome, not_holding.is_empty()) {
        (Outcome::Reproduces, false) => fail(
            "outcome",
            format!(
                "`reproduces` at the {} tier, but {} is recorded as not holding",
                tier.name(),
                not_holding.join(", ")
            ),
        ),
        (_, true) if expanded.expect.is_empty() => {
            fail("outcome", "an `observation` checks nothing, so it has no outcome: drop `outcome`".into())
        }
        (Outcome::DoesNotReproduce, true) => fail(
            "outcome",
            format!(
                "`does-not-reproduce` at the {} tier, but every check is recorded as holding: \
                 mark the ones that do not with `recorded: fails` (or `undefined`)",
                tier.name()
            ),
        ),
        _ => Ok(()),
    }
}

/// Seeds and limits of every condition (grid points included).
fn check_experiments(experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
    let mut claim_flop = 0.0;
    for (name, e) in experiments {
        let quick_floor = usize::from(!name.contains('[')); // a grid point may skip the quick tier
        if !(1..=MAX_SEEDS).contains(&e.seeds.paper.len()) || !(quick_floor..=MAX_SEEDS).contains(&e.seeds.quick.len())
        {
            return fail("seeds", format!("experiment `{name}` needs 1..={MAX_SEEDS} seeds per tier"));
        }
        for seeds in [&e.seeds.quick, &e.seeds.paper] {
            if let Some(twice) = seeds.iter().enumerate().find_map(|(i, s)| seeds[..i].contains(s).then_some(s)) {
                return fail("seeds", format!("experiment `{name}`: seed {twice} is listed twice"));
            }
        }
        // Every seed's spec is valid when the largest is (only the seed differs).
        let largest = e.seeds.quick.iter().chain(&e.seeds.paper).copied().max().unwrap_or(0);
        let spec = e.train_spec(largest, Vec::new(), Default::default());
        if let Err(problem) = spec.validate() {
            return fail(problem.field, format!("experiment `{name}`: {}", problem.message));
        }
        claim_flop += run_flop(&spec) * e.seeds.paper.len().max(e.seeds.quick.len()) as f64;
    }
    if claim_flop > 10.0 * MAX_FLOP {
        return fail(
            "seeds",
            format!(
                "the claim's runs cost {claim_flop:.1e} FLOP (~{:.0} h at 100 GFLOP/s); the limit is {:.0e}",
                hours(claim_flop),
                10.0 * MAX_FLOP
            ),
        );
    }
    Ok(())
}

/// Measures, quantities and checks of one tier's expansion, and enough
/// seeds at `tier` for every interval a check reads.
fn validate_tier(claim: &Expanded, observation: bool, tier: Tier) -> Result<(), Problem> {
    let quantities = validate_measures(claim)?;
    if claim.expect.is_empty() && !observation {
        return fail("expect", "at least one expectation is needed (or say `kind: observation` to only look)".into());
    }
    let known: HashSet<&str> = quantities.iter().map(String::as_str).collect();
    for e in claim.expect.iter().chain(&claim.requires) {
        validate_check(e, &quantities, &known)?;
    }
    let read: Vec<String> = claim
        .expect
        .iter()
        .chain(&claim.requires)
        .flat_map(|e| std::iter::once(e.quantity.clone()).chain(e.tolerance.reference().map(String::from)))
        .collect();
    for m in &claim.measures {
        m.check_seeds(&claim.experiments, &read, tier)?;
    }
    Ok(())
}

/// The measures of one tier's expansion, each valid on its experiments,
/// every experiment read by one; their quantity names, each produced once.
fn validate_measures(claim: &Expanded) -> Result<Vec<String>, Problem> {
    if claim.measures.is_empty() {
        return fail("measures", "at least one measure is needed".into());
    }
    let mut quantities = Vec::new();
    let mut seen = HashSet::new();
    for m in &claim.measures {
        m.validate(&claim.experiments)?;
        for name in m.quantity_names() {
            if !seen.insert(name.clone()) {
                return fail(
                    "measures",
                    format!("two measures both produce `{name}`; split the claim or measure different windows"),
                );
            }
            quantities.push(name);
        }
    }
    let read: HashSet<&str> = claim.measures.iter().flat_map(MeasureSpec::conditions).collect();
    if let Some(unused) = claim.experiments.keys().find(|name| !read.contains(name.as_str())) {
        let field = unused.split('[').next().unwrap_or(unused);
        return fail(field, format!("experiment `{unused}` is read by no measure (it would be trained for nothing)"));
    }
    Ok(quantities)
}

/// One expectation: its quantity and any quantity its bound names among
/// `quantities`, a sound tolerance, and the paper's value where it needs one.
fn validate_check(e: &Expectation, quantities: &[String], known: &HashSet<&str>) -> Result<(), Problem> {
    let unknown = |what: String, name: &str, whose: &str| {
        format!("{what}; nearest of {whose} {}: {}", quantities.len(), nearest(name, quantities, 5).join(", "))
    };
    if !known.contains(e.quantity.as_str()) {
        let what = format!("`{}` is not produced by this claim's measures", e.quantity);
        return fail("quantity", unknown(what, &e.quantity, "their"));
    }
    if matches!(e.tolerance, Tolerance::Factor(_)) && e.paper.is_some_and(|p| p <= 0.0) {
        return fail(
            "tolerance",
            format!("for `{}`: ×/÷ a factor needs a paper value > 0 (use `abs` or `rel`)", e.quantity),
        );
    }
    if e.tolerance.reference() == Some(e.quantity.as_str()) {
        return fail(
            "tolerance",
            format!("for `{}`: a bound naming the quantity itself compares it with itself", e.quantity),
        );
    }
    if let Some(other) = e.tolerance.reference()
        && !known.contains(other)
    {
        let what = format!("for `{}`: the bound `{other}` is not a number nor a quantity of this claim", e.quantity);
        return fail("tolerance", unknown(what, other, "its"));
    }
    if e.tolerance.needs_paper() && e.paper.is_none_or(|p| !p.is_finite()) {
        return fail(
            "paper",
            format!("`{}`: tolerance {} needs the paper's value", e.quantity, e.tolerance.describe()),
        );
    }
    Ok(())
}

/// The `count` names closest to `wanted` by edit distance.
pub(super) fn nearest(wanted: &str, names: &[String], count: usize) -> Vec<String> {
    let mut by_distance: Vec<(usize, &String)> = names.iter().map(|n| (edit_distance(wanted, n), n)).collect();
    by_distance.sort();
    by_distance.into_iter().take(count).map(|(_, n)| format!("`{n}`")).collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
