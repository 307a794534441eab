//! A verification's results: the results file, the counts by verdict,
//! the summary line and the exit decision (docs/claims.md, "Verdicts").

use std::collections::BTreeMap;
use std::path::Path;

use super::judge::{ClaimResult, Verdict};
use super::schema::ClaimKind;

/// Write `results.json` (all results, tier and counts) to `path`.
pub fn write_results(path: &Path, results: &[ClaimResult]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::json!({ "counts": counts(results), "claims": results });
    // Written beside and renamed: a failure leaves the last good file.
    crate::files::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())
}

/// Whether a verification succeeded (exit status 0): no claim failed or is
/// in error, and something was checked (every claim skipped means the
/// requested backend is not in this build).
pub fn succeeded(results: &[ClaimResult]) -> bool {
    let bad = results.iter().any(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error));
    let none_checked = results.iter().all(|r| r.verdict == Verdict::Skipped);
    !bad && !none_checked
}

/// How many results have each verdict.
pub fn counts(results: &[ClaimResult]) -> BTreeMap<&'static str, usize> {
    let mut c = BTreeMap::from([("passed", 0), ("failed", 0), ("errors", 0), ("skipped", 0), ("open", 0)]);
    for r in results {
        let key = match r.verdict {
            Verdict::Pass => "passed",
            Verdict::Fail => "failed",
            Verdict::Error => "errors",
            Verdict::Skipped => "skipped",
            Verdict::Open => "open",
        };
        *c.get_mut(key).expect("all keys present") += 1;
    }
    c
}

/// The last line of a verification: "N passed, N failed" (+ errors,
/// skipped), with how many of the passes are identities or harness findings.
pub fn summary_line(results: &[ClaimResult]) -> String {
    let c = counts(results);
    let passed = |kind| results.iter().filter(|r| r.verdict == Verdict::Pass && r.kind == kind).count();
    let apart: Vec<String> = [
        (ClaimKind::Identity, "identity", "identities"),
        (ClaimKind::HarnessFinding, "harness finding", "harness findings"),
        (ClaimKind::Hypothesis, "hypothesis", "hypotheses"),
    ]
    .into_iter()
    .filter(|(k, ..)| passed(*k) > 0)
    .map(|(k, one, many)| format!("{} {}", passed(k), if passed(k) == 1 { one } else { many }))
    .collect();
    let of_which = if apart.is_empty() { String::new() } else { format!(" (of which {})", apart.join(", ")) };
    // An observation checks nothing: it is observed, not passed.
    let observed = passed(ClaimKind::Observation);
    let mut line = format!("{} passed{of_which}, {} failed", c["passed"] - observed, c["failed"]);
    if observed > 0 {
        line.push_str(&format!(", {observed} observed (nothing checked)"));
    }
    for key in ["errors", "skipped"] {
        if c[key] > 0 {
            line.push_str(&format!(", {} {key}", c[key]));
        }
    }
    if c["open"] > 0 {
        let plural = if c["open"] == 1 { "hypothesis" } else { "hypotheses" };
        line.push_str(&format!(", {} open {plural} (record with `cargo xtask record ID`)", c["open"]));
    }
    line
}
