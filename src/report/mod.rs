//! Human-readable output of a verification: the console table, and the
//! report directory (`REPORT.md`, `results.json`, SVG figures) built from
//! the run cache alone (README, "The two commands"; docs/methods.md, "The cache").

pub mod chart;
pub mod conditions;
pub mod coverage;
pub mod elsewhere;
pub mod evidence;
pub mod figures;
pub mod markdown;
pub mod overview;
pub mod per_point;
pub mod readme;
pub mod recorded;
pub mod results_table;
pub mod snapshot;
pub mod tolerances;

use std::path::Path;

use crate::claims::expectation::CheckState;
use crate::claims::judge::{CheckResult, ClaimResult, Verdict};
use crate::claims::schema::ClaimKind;
use crate::claims::{Grade, Reading};
use crate::format::num;

/// "PASS", "FAIL", ...
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
        Verdict::Skipped => "SKIP",
        Verdict::Open => "OPEN",
    }
}

/// The claim's verdict in the reader's words (docs/claims.md, "Verdicts"):
/// what its checks' grades say of the paper, whatever was recorded.
/// "(lockin's reading)" marks a verdict that a check of lockin's own
/// reading decides. Identities, harness findings, hypotheses and
/// observations keep words of their own. PASS/FAIL is not said here.
pub fn status(r: &ClaimResult) -> String {
    let nothing_measured = r.checks.iter().all(CheckResult::measured_nothing);
    match r.verdict {
        _ if r.ill_posed.is_some() => return "ill-posed (a precondition does not hold)".into(),
        _ if !r.checks.is_empty() && nothing_measured => return "not judged (nothing measured)".into(),
        Verdict::Error => return "error".into(),
        Verdict::Skipped => return "skipped".into(),
        _ if r.kind == ClaimKind::Observation => return "observed".into(),
        _ if r.checks.is_empty() => return "not judged (nothing checked)".into(),
        _ => {}
    }
    if r.kind == ClaimKind::Hypothesis {
        return hypothesis_status(r).into();
    }
    let worst = r.checks.iter().map(|c| c.grade).max().expect("checks present");
    let deciding: Vec<&CheckResult> = r.checks.iter().filter(|c| c.grade == worst).collect();
    let lockin = if rests_on_lockin(worst, deciding.iter().map(|c| c.reading)) { " (lockin's reading)" } else { "" };
    let words = match (r.kind, worst) {
        (ClaimKind::Identity, Grade::Exact) => "identity holds".to_string(),
        (ClaimKind::Identity, _) => "identity fails".to_string(),
        (ClaimKind::HarnessFinding, Grade::Exact) => "finding holds".to_string(),
        (ClaimKind::HarnessFinding, _) => "finding does not hold".to_string(),
        (_, Grade::Exact) => "reproduced".to_string(),
        (_, Grade::Near) => near_miss(&deciding),
        (_, Grade::Far) => "not reproduced".to_string(),
    };
    format!("{words}{lockin}")
}

/// A hypothesis is refuted when a check fails, undetermined when none
/// fails but some cannot be decided, and supported when every check holds.
fn hypothesis_status(r: &ClaimResult) -> &'static str {
    if r.checks.iter().any(|c| c.state == CheckState::Fails) {
        "refuted"
    } else if r.checks.iter().any(|c| c.state == CheckState::Undefined) {
        "undetermined"
    } else {
        "supported"
    }
}

/// "near miss (within N printed units)", N the largest miss of `near`.
fn near_miss(near: &[&CheckResult]) -> String {
    let widest = near.iter().max_by(|a, b| a.miss.total_cmp(&b.miss)).expect("a near check");
    let units = widest.unit.name();
    let unit = if widest.miss == 1.0 { units.trim_end_matches('s') } else { units };
    format!("near miss (within {} {unit})", crate::format::significant(widest.miss, 2))
}

/// Whether a claim's grades count it as the paper's and reproduced,
/// near, far (for the counts by grade), or apart (identity, harness
/// finding, hypothesis, observation, error).
pub fn claim_grade(r: &ClaimResult) -> Option<Grade> {
    let judged = matches!(r.verdict, Verdict::Pass | Verdict::Fail) && r.kind == ClaimKind::Paper;
    let measured = r.checks.iter().any(|c| !c.measured_nothing());
    (judged && measured).then(|| r.checks.iter().map(|c| c.grade).max()).flatten()
}

/// Whether `claims` are the project's own (its committed fragility, and
/// its snapshots, are theirs).
fn own_claims(claims: &[crate::claims::Claim]) -> bool {
    let own = crate::project::root().join("claims").canonicalize().ok();
    claims.first().and_then(|c| c.path.parent()?.canonicalize().ok()) == own && own.is_some()
}

/// Checks' fragility as measured and committed for a tier
/// (`docs/fragility-TIER.json`, written by `verify-claims --perturb N`):
/// (claim, quantity) → (perturbations that flipped its state, tried). Empty
/// where none was measured.
pub fn recorded_fragility(
    root: &Path,
    tier: crate::claims::Tier,
) -> std::collections::BTreeMap<(String, String), (usize, usize)> {
    let path = root.join("docs").join(format!("fragility-{}.json", tier.name()));
    let rows: Vec<crate::claims::verify::Fragility> =
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    rows.into_iter().map(|f| ((f.id, f.quantity), (f.flips, f.of))).collect()
}

/// Where a claim stands for a reader: far misses first, then verdicts
/// that rest on lockin's reading, then near misses, then what reproduces,
/// then what is apart from the paper (identities, findings, recorded
/// hypotheses, observations), open hypotheses (judged, nothing recorded),
/// and what could not be judged.
pub fn reader_order(r: &ClaimResult) -> (u8, String) {
    let rank = match (claim_grade(r), decided_by_lockin(r)) {
        (Some(Grade::Far), false) => 0,
        (Some(_), true) => 1,
        (Some(Grade::Near), false) => 2,
        (Some(Grade::Exact), false) => 3,
        (None, _) if matches!(r.verdict, Verdict::Pass | Verdict::Fail) => 4,
        (None, _) if r.verdict == Verdict::Open => 5,
        (None, _) => 6,
    };
    (rank, r.id.clone())
}

/// The heading of a claim's group in [`reader_order`].
pub fn group_name(r: &ClaimResult) -> &'static str {
    [
        "Not reproduced",
        "Verdicts that rest on lockin's reading",
        "Near misses",
        "Reproduced",
        "Identities, harness findings, hypotheses and observations",
        "Open hypotheses",
        "Not judged",
    ][reader_order(r).0 as usize]
}

/// Whether a verdict of grade `worst`, decided by checks of `readings`,
/// rests on lockin's reading: "reproduced" when any check it needs is
/// lockin's reading; a miss when every check that misses that far is.
pub fn rests_on_lockin(worst: Grade, mut readings: impl Iterator<Item = Reading>) -> bool {
    match worst {
        Grade::Exact => readings.any(|r| r == Reading::Lockin),
        _ => readings.all(|r| r == Reading::Lockin),
    }
}

/// Whether the claim's verdict rests on lockin's reading ([`rests_on_lockin`]).
pub fn decided_by_lockin(r: &ClaimResult) -> bool {
    claim_grade(r).is_some_and(|g| rests_on_lockin(g, r.checks.iter().filter(|c| c.grade == g).map(|c| c.reading)))
}

/// Whether nothing is recorded for the claim's checks: an open hypothesis
/// (docs/claims.md, "Open hypotheses"), whose checks have no record to
/// show or to differ from.
pub fn nothing_recorded(r: &ClaimResult) -> bool {
    r.verdict == Verdict::Open || r.recorded_outcome.is_none()
}

/// Whether the claim speaks of the paper: a hypothesis or an observation
/// of one's own has no paper figure, and its grades no paper's units.
pub fn of_the_paper(r: &ClaimResult) -> bool {
    !matches!(r.kind, ClaimKind::Hypothesis | ClaimKind::Observation)
}

/// A check's measured value with its state: ✓ holds, ✗ fails, ? undefined,
/// and what was recorded where it differs (an open hypothesis records
/// nothing, so nothing differs).
pub fn marked(r: &ClaimResult, c: &CheckResult) -> String {
    let differs = c.as_recorded() || nothing_recorded(r);
    let differs = if differs { String::new() } else { format!(" (recorded: {:?})", c.recorded).to_lowercase() };
    format!("{}{differs}", value_and_state(c))
}

/// A check's measured value and its state ([`state_mark`]).
fn value_and_state(c: &CheckResult) -> String {
    format!("{} {}", c.value().describe(), state_mark(c.state))
}

/// A check's state: ✓ holds, ✗ fails, ? undefined.
pub fn state_mark(state: CheckState) -> &'static str {
    match state {
        CheckState::Holds => "✓",
        CheckState::Fails => "✗",
        CheckState::Undefined => "?",
    }
}

/// A check's margin: how far inside (+) or outside (−) its tolerance.
pub fn margin(c: &CheckResult) -> String {
    if c.margin.is_nan() {
        "—".into()
    } else if c.margin == 0.0 && c.state == CheckState::Fails {
        // On a strict bound (`above`, `below`) or an exact value missed by nothing printable.
        "-0 (strict)".into()
    } else {
        format!("{}{}", if c.margin >= 0.0 { "+" } else { "" }, num(c.margin))
    }
}

/// A check's miss in printed units (decades for a factor) and its grade,
/// with "lockin" where the reading is lockin's: "1.1 near", "0 exact".
pub fn graded(c: &CheckResult) -> String {
    let grade = format!("{:?}", c.grade).to_lowercase();
    let miss = if c.miss.is_nan() { "—".to_string() } else { num(c.miss) };
    let lockin = if c.reading == Reading::Lockin { " (lockin's reading)" } else { "" };
    format!("{miss} {grade}{lockin}")
}

/// One line per check: id, title, quantity, paper, measured, tolerance,
/// margin, miss and grade; the claim's verdict in the reader's words, and
/// whether it matches its record (PASS/FAIL, the test's word).
pub fn table(results: &[ClaimResult]) -> String {
    let header =
        ["id", "claim", "quantity", "paper", "measured", "tolerance", "margin", "miss, grade", "verdict", "test"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for r in results {
        let head = |i: usize| {
            if i == 0 {
                (r.id.clone(), truncate(&r.title, 40), status(r), verdict_word(r.verdict).to_string())
            } else {
                Default::default()
            }
        };
        if r.checks.is_empty() {
            let (id, title, verdict, test) = head(0);
            let error = r.error.clone().map(|e| truncate(&e, 70)).unwrap_or_default();
            let mut row = vec![id, title, error];
            row.resize(8, String::new());
            row.extend([verdict, test]);
            rows.push(row);
        }
        for (i, c) in r.checks.iter().enumerate() {
            let (id, title, verdict, test) = head(i);
            let paper = c.paper.map(num).unwrap_or_default();
            let (tolerance, margin) = (c.tolerance_text(), margin(c));
            rows.push(vec![
                id,
                title,
                c.quantity.clone(),
                paper,
                marked(r, c),
                tolerance,
                margin,
                graded(c),
                verdict,
                test,
            ]);
        }
    }
    aligned(&rows)
}

/// `rows` as text, each column padded to its widest cell.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}", w = *w))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect()
}

/// The claims judged on imported runs beside lockin's runs of the same
/// conditions and seeds (`verify-claims --runs`): per check, the paper's
/// figure, lockin's value, the imported runs' value, and whether the two
/// are in the same state.
pub fn side_by_side(imported: &[crate::claims::imported::Judgement]) -> String {
    // (cells of a check row) or a line of its own (a claim's note).
    let mut lines: Vec<Result<Vec<String>, String>> =
        vec![Ok(["id", "quantity", "paper", "lockin", "imported", "tolerance", "same state"]
            .map(String::from)
            .to_vec())];
    for judgement in imported {
        match &judgement.result {
            None => lines.push(Err(format!("{}  not judged: {}", judgement.id, judgement.note))),
            Some(theirs) if theirs.error.is_some() => {
                let error = theirs.error.as_deref().unwrap_or_default();
                lines.push(Err(format!("{}  error: {}", judgement.id, truncate(error, 100))));
            }
            Some(_) => {
                for (i, (c, mine)) in judgement.checks_beside_lockin().into_iter().enumerate() {
                    lines.push(Ok(vec![
                        if i == 0 { judgement.id.clone() } else { String::new() },
                        c.quantity.clone(),
                        c.paper.map(num).unwrap_or_default(),
                        mine.map_or("—".into(), value_and_state),
                        value_and_state(c),
                        c.tolerance.describe(),
                        mine.map_or("—", |m| if m.state == c.state { "yes" } else { "NO" }).to_string(),
                    ]));
                }
                lines.push(Err(format!("     ({})", judgement.note)));
            }
        }
    }
    let cells = || lines.iter().filter_map(|l| l.as_ref().ok());
    let widths: Vec<usize> = (0..7).map(|c| cells().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    lines
        .iter()
        .map(|line| match line {
            Ok(r) => {
                let padded: Vec<String> =
                    r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}", w = *w)).collect();
                padded.join("  ").trim_end().to_string() + "\n"
            }
            Err(text) => format!("{text}\n"),
        })
        .collect()
}

/// The fragility table (`verify-claims --perturb N`): per check, its state
/// and margin, and in how many perturbed re-runs its state changed.
pub fn fragility_table(rows: &[crate::claims::verify::Fragility]) -> String {
    let mut out = String::from(
        "id    quantity                                    state      margin      perturbed values            verdict\n",
    );
    for f in rows {
        let values: Vec<String> = f.perturbed.iter().map(|&v| num(v)).collect();
        let margin = if f.margin.is_nan() { "—".into() } else { num(f.margin) };
        let word = match (f.flips, f.of) {
            (_, 0) => "not tested".to_string(),
            (0, _) => format!("robust (0 of {})", f.of),
            (flips, of) => format!("fragile ({flips} of {of})"),
        };
        out.push_str(&format!(
            "{:<5} {:<43} {:<10} {:<11} {:<27} {word}\n",
            f.id,
            truncate(&f.quantity, 43),
            format!("{:?}", f.state).to_lowercase(),
            margin,
            truncate(&values.join(", "), 27)
        ));
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max - 1).collect::<String>() + "…" }
}

/// Write the report directory (REPORT.md, results.json, figures/) for
/// `results`, drawing the figures from the cached runs of the claims they
/// judged (each result carries its claim: nothing is loaded again), with
/// the judgements on runs made elsewhere (`--runs`; empty without it).
pub fn write_report(
    opts: &crate::claims::verify::VerifyOptions,
    results: &[ClaimResult],
    imported: &elsewhere::Imported,
    dir: &std::path::Path,
) -> anyhow::Result<Report> {
    let claims: Vec<_> = results.iter().filter_map(|r| r.claim.as_deref().cloned()).collect();
    let conditions = figures::Conditions::from_cache(&claims, opts.tier, opts.backend, &opts.cache);
    let header = format!(
        "Tier **{}** on the **{}** backend, generated from the run cache `{}`.",
        opts.tier.name(),
        opts.backend.name(),
        opts.cache.root().display()
    );
    let page = markdown::Page { claims: &claims, backend: opts.backend, header: &header };
    write_files(dir, results, &conditions, page, imported)
}

/// Write `REPORT.md`, `results.json` and `figures/` into `dir` from
/// evaluated results and the cached runs of `conditions` (never trains).
fn write_files(
    dir: &Path,
    results: &[ClaimResult],
    conditions: &figures::Conditions,
    page: markdown::Page,
    imported: &elsewhere::Imported,
) -> anyhow::Result<Report> {
    crate::files::create_dir(dir)?;
    let claims = page.claims;
    let mut written = figures::write_all(&dir.join("figures"), conditions, results, claims);
    let fragile = match results.first() {
        Some(r) if own_claims(claims) => recorded_fragility(&crate::project::root(), r.tier),
        _ => Default::default(),
    };
    match overview::write(&dir.join("figures").join(overview::FILE), results, &fragile) {
        Ok(()) => written.figures.insert(0, (overview::FILE.into(), overview::CAPTION.into())),
        Err(e) => written.failures.push((None, format!("figure {}: {e:#}", overview::FILE))),
    }
    // A figure that could not be written is a problem of the report, named
    // with its claim; it never changes a verdict.
    let problems: Vec<String> = written
        .failures
        .into_iter()
        .map(|(claim, failure)| claim.map_or(failure.clone(), |id| format!("{id}: {failure}")))
        .collect();
    let mut header = page.header.to_string();
    for p in &problems {
        header.push_str(&format!("\n\n**Not written:** {p}"));
    }
    crate::claims::results::write_results(&dir.join("results.json"), results)?;
    let mut markdown = markdown::render(results, &written.figures, markdown::Page { header: &header, ..page });
    elsewhere::section(&mut markdown, imported);
    crate::files::write_atomic(&dir.join("REPORT.md"), markdown.as_bytes())?;
    Ok(Report { figures: written.figures, problems })
}

/// What [`write_report`] wrote.
#[derive(Debug)]
pub struct Report {
    /// (file, caption) of each figure.
    pub figures: Vec<(String, String)>,
    /// Figures that could not be written (with their claim's id, where
    /// one claim's): the report's problems, which change no verdict.
    pub problems: Vec<String>,
}
