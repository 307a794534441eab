//! Human-readable output of a verification: the console table, and the
//! report directory (`REPORT.md`, `results.json`, SVG figures) built from
//! the run cache alone (README, "The two commands"; docs/methods.md, "The cache").

pub mod chart;
pub mod figures;
pub mod markdown;
pub mod per_point;
pub mod readme;

use std::path::Path;

use crate::claims::runner::{ClaimResult, Verdict};
use crate::claims::schema::Outcome;
use crate::claims::tolerance::num;

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
        (Verdict::Pass, Some(true), _) => "reproduced",
        (Verdict::Pass, Some(false), _) => "not reproduced (recorded)",
        (Verdict::Fail, Some(true), Some(Outcome::DoesNotReproduce)) => "reproduced, but recorded as not",
        (Verdict::Fail, _, _) => "not reproduced",
        (Verdict::Error, _, _) => "error",
        (Verdict::Skipped, _, _) => "skipped",
        _ => "",
    }
}

/// One line per check: id, title, quantity, paper, measured, tolerance, verdict.
pub fn table(results: &[ClaimResult]) -> String {
    let mut rows =
        vec![["id", "claim", "quantity", "paper", "measured", "tolerance", "verdict"].map(String::from).to_vec()];
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
            rows.push(vec![
                id,
                title,
                r.error.clone().map(|e| truncate(&e, 70)).unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                verdict,
            ]);
        }
        for (i, c) in r.checks.iter().enumerate() {
            let (id, title, verdict) = head(i);
            let mark = if c.holds { "✓" } else { "✗" };
            rows.push(vec![
                id,
                title,
                c.quantity.clone(),
                c.paper.map(num).unwrap_or_default(),
                format!("{} {mark}", num(c.measured)),
                c.tolerance.describe(),
                verdict,
            ]);
        }
    }
    let widths: Vec<usize> = (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
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

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max - 1).collect::<String>() + "…" }
}

/// Write `REPORT.md`, `results.json` and `figures/` into `dir` from
/// evaluated results and the cached runs (never trains).
pub fn write_report(
    dir: &Path,
    results: &[ClaimResult],
    claims: &[crate::claims::Claim],
    conditions: &figures::Conditions,
    header: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    std::fs::create_dir_all(dir)?;
    let figures = figures::write_all(&dir.join("figures"), conditions, results, claims)?;
    crate::claims::runner::write_results(&dir.join("results.json"), results)?;
    crate::files::write_atomic(&dir.join("REPORT.md"), markdown::render(results, claims, &figures, header).as_bytes())?;
    Ok(figures)
}
