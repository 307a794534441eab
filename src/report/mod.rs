//! Human-readable output of a verification: the console table, and the
//! report directory (`REPORT.md`, `results.json`, SVG figures) built from
//! the run cache alone (README, "The two commands"; docs/methods.md, "The cache").

pub mod chart;
pub mod figures;
pub mod markdown;
pub mod per_point;
pub mod readme;

use std::path::Path;

use crate::claims::grid::CheckState;
use crate::claims::judge::{CheckResult, ClaimResult, Verdict};
use crate::claims::schema::{ClaimKind, Outcome};
use crate::format::num;

/// "PASS", "FAIL", ...
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
        Verdict::Skipped => "SKIP",
    }
}

/// What the claim's status means for the paper.
pub fn status(r: &ClaimResult) -> &'static str {
    match (r.verdict, r.reproduced, r.recorded_outcome) {
        (Verdict::Pass, _, _) if r.kind == ClaimKind::Observation => "observed",
        (Verdict::Pass, Some(true), _) if r.kind == ClaimKind::Identity => "identity holds",
        (Verdict::Pass, Some(true), _) if r.kind == ClaimKind::Hypothesis => "supported",
        (Verdict::Pass, Some(false), _) if r.kind == ClaimKind::Hypothesis => "refuted (recorded)",
        (Verdict::Pass, Some(true), _) => "reproduced",
        (Verdict::Pass, Some(false), _) => "not reproduced (recorded)",
        (Verdict::Fail, _, _) if r.kind == ClaimKind::Hypothesis => "a check differs from the hypothesis's record",
        (Verdict::Fail, Some(true), Some(Outcome::DoesNotReproduce)) => "reproduced, but recorded as not",
        (Verdict::Fail, Some(false), Some(Outcome::DoesNotReproduce)) => "a check differs from its record",
        (Verdict::Fail, _, _) => "not reproduced",
        (Verdict::Error, _, _) => "error",
        (Verdict::Skipped, _, _) => "skipped",
        _ => "",
    }
}

/// A check's measured value with its state: ✓ holds, ✗ fails, ? undefined,
/// and what was recorded where it differs.
pub fn marked(c: &CheckResult) -> String {
    let differs = if c.as_recorded() { String::new() } else { format!(" (recorded: {:?})", c.recorded).to_lowercase() };
    format!("{}{differs}", value_and_state(c))
}

/// A check's measured value and its state: ✓ holds, ✗ fails, ? undefined.
fn value_and_state(c: &CheckResult) -> String {
    let mark = match c.state {
        CheckState::Holds => "✓",
        CheckState::Fails => "✗",
        CheckState::Undefined => "?",
    };
    format!("{} {mark}", num(c.measured))
}

/// A check's margin: how far inside (+) or outside (−) its tolerance.
pub fn margin(c: &CheckResult) -> String {
    if c.margin.is_nan() {
        "—".into()
    } else {
        format!("{}{}", if c.margin >= 0.0 { "+" } else { "" }, num(c.margin))
    }
}

/// One line per check: id, title, quantity, paper, measured, tolerance, margin, verdict.
pub fn table(results: &[ClaimResult]) -> String {
    let mut rows = vec![
        ["id", "claim", "quantity", "paper", "measured", "tolerance", "margin", "verdict"].map(String::from).to_vec(),
    ];
    for r in results {
        let head = |i: usize| {
            if i == 0 {
                (r.id.clone(), truncate(&r.title, 40), format!("{} — {}", verdict_word(r.verdict), status(r)))
            } else {
                Default::default()
            }
        };
        if r.checks.is_empty() {
            let (id, title, verdict) = head(0);
            let error = r.error.clone().map(|e| truncate(&e, 70)).unwrap_or_default();
            rows.push(vec![id, title, error, String::new(), String::new(), String::new(), String::new(), verdict]);
        }
        for (i, c) in r.checks.iter().enumerate() {
            let (id, title, verdict) = head(i);
            rows.push(vec![
                id,
                title,
                c.quantity.clone(),
                c.paper.map(num).unwrap_or_default(),
                marked(c),
                c.tolerance.describe(),
                margin(c),
                verdict,
            ]);
        }
    }
    let widths: Vec<usize> = (0..8).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
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
/// `results`, drawing the figures from the cached runs of the claims.
pub fn write_report(
    opts: &crate::claims::verify::VerifyOptions,
    results: &[ClaimResult],
    dir: &std::path::Path,
) -> anyhow::Result<Report> {
    let claims: Vec<_> = crate::claims::load_dir(&opts.claims_dir)?.into_iter().filter_map(Result::ok).collect();
    let conditions = figures::Conditions::from_cache(&claims, opts.tier, opts.backend, &opts.cache);
    let header = format!(
        "Tier **{}** on the **{}** backend, generated from the run cache `{}`.",
        opts.tier.name(),
        opts.backend.name(),
        opts.cache.root().display()
    );
    write_files(dir, results, &claims, &conditions, &header)
}

/// Write `REPORT.md`, `results.json` and `figures/` into `dir` from
/// evaluated results and the cached runs of `conditions` (never trains).
fn write_files(
    dir: &Path,
    results: &[ClaimResult],
    claims: &[crate::claims::Claim],
    conditions: &figures::Conditions,
    header: &str,
) -> anyhow::Result<Report> {
    crate::files::create_dir(dir)?;
    let written = figures::write_all(&dir.join("figures"), conditions, results, claims);
    let mut results = results.to_vec();
    let mut problems = Vec::new();
    for (claim, failure) in written.failures {
        match claim.and_then(|id| results.iter_mut().find(|r| r.id == id)) {
            Some(r) => {
                r.verdict = crate::claims::judge::Verdict::Error;
                r.error = Some(r.error.take().map_or(failure.clone(), |e| format!("{e}; {failure}")));
            }
            None => problems.push(failure),
        }
    }
    let mut header = header.to_string();
    for p in &problems {
        header.push_str(&format!("\n\n**Not written:** {p}"));
    }
    crate::claims::judge::write_results(&dir.join("results.json"), &results)?;
    let markdown = markdown::render(&results, claims, &written.figures, &header);
    crate::files::write_atomic(&dir.join("REPORT.md"), markdown.as_bytes())?;
    Ok(Report { figures: written.figures, results, problems })
}

/// What [`write_report`] wrote.
#[derive(Debug)]
pub struct Report {
    /// (file, caption) of each figure.
    pub figures: Vec<(String, String)>,
    /// The results as reported: a claim whose own figure could not be
    /// written is an `Error` saying why.
    pub results: Vec<ClaimResult>,
    /// Figures of no one claim that could not be written.
    pub problems: Vec<String>,
}
