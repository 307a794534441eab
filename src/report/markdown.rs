//! `REPORT.md`: a summary table and a section per claim.

use std::fmt::Write as _;

use super::{status, verdict_word};
use crate::claims::judge::ClaimResult;
use crate::claims::load::Claim;
use crate::claims::results::summary_line;
use crate::claims::value::SeedValue;
use crate::format::num;

/// Text safe inside a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A measured quantity with its IQR when the measure produced one
/// (`x_median` → "m [q25, q75]").
pub fn with_iqr(result: &ClaimResult, quantity: &str) -> String {
    let m = &result.measurement;
    let defined = |name: String| Some(m.value(&name)).filter(|v| !v.is_undefined() && !v.lo.is_nan());
    let iqr = |lo: String, hi: String| Some((defined(lo)?, defined(hi)?));
    let bounds = if let Some(stem) = quantity.strip_suffix("_median") {
        iqr(format!("{stem}_q25"), format!("{stem}_q75"))
    } else if quantity.contains("_median_") {
        iqr(quantity.replacen("_median_", "_q25_", 1), quantity.replacen("_median_", "_q75_", 1))
    } else {
        None
    };
    let value = m.value(quantity).describe();
    match bounds {
        Some((a, b)) => format!("{value} [{}, {}]", a.describe(), b.describe()),
        None => value,
    }
}

/// The checked figures of one result: "quantity value [q25, q75]" per check,
/// or the error.
pub fn figures(result: &ClaimResult) -> String {
    if result.checks.is_empty() {
        return result.error.clone().unwrap_or_default();
    }
    result
        .checks
        .iter()
        .map(|c| format!("{} {}", c.quantity, with_iqr(result, &c.quantity)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The claim's conditions at the result's tier, each with every field that
/// differs from the paper's setup ([`super::conditions::describe`]).
fn experiments(claim: &Claim, result: &ClaimResult) -> String {
    let tier = result.tier;
    let named: Vec<String> = claim
        .at(tier)
        .experiments
        .iter()
        .map(|(name, e)| format!("`{name}`: {}", super::conditions::describe(e, tier)))
        .collect();
    named.join("; ")
}

/// Statement ids (`P12`, and ranges `P04-P09`) named in a source text.
pub fn statement_ids(source: &str) -> Vec<u32> {
    let chars: Vec<char> = source.chars().collect();
    let number_at = |i: usize| -> Option<(u32, usize)> {
        let digits: String = chars[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
        (digits.len() == 2).then(|| (digits.parse().expect("digits"), i + 2))
    };
    let mut ids = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == 'P' && (i == 0 || !chars[i - 1].is_alphanumeric());
        if let Some((first, end)) = number_at(i + 1).filter(|_| starts) {
            let range_end = (chars.get(end..end + 2).is_some_and(|s| s == ['-', 'P'] || s == ['–', 'P']))
                .then(|| number_at(end + 2))
                .flatten();
            match range_end {
                Some((last, after)) => {
                    ids.extend(first..=last);
                    i = after;
                }
                None => {
                    ids.push(first);
                    i = end;
                }
            }
            continue;
        }
        i += 1;
    }
    ids
}

/// Statement id → "C12 reproduced" entries, in id order.
fn statement_index(results: &[ClaimResult]) -> std::collections::BTreeMap<u32, Vec<String>> {
    let mut index = std::collections::BTreeMap::<u32, Vec<String>>::new();
    for r in results {
        for p in statement_ids(&r.source) {
            index.entry(p).or_default().push(format!("{} {}", r.id, status(r)));
        }
    }
    index
}

/// What a report is rendered with besides the results and figures.
#[derive(Clone, Copy)]
pub struct Page<'a> {
    /// The judged claims.
    pub claims: &'a [Claim],
    /// The backend of their runs (their names say it).
    pub backend: crate::backend::Backend,
    /// The lines under the title.
    pub header: &'a str,
}

/// The whole report.
pub fn render(results: &[ClaimResult], figures: &[(String, String)], page: Page) -> String {
    let mut md = String::new();
    let header = page.header;
    let _ = writeln!(md, "# lockin verification report\n\n{header}\n\n**{}**\n", summary_line(results));
    if let Some((file, caption)) = figures.iter().find(|(f, _)| f == super::overview::FILE) {
        let _ = writeln!(md, "![{caption}](figures/{file})\n\n{caption}\n");
    }
    let _ = writeln!(
        md,
        "## Summary\n\n| id | claim | paper | measured | tolerance | verdict | test |\n|---|---|---|---|---|---|---|"
    );
    for r in results {
        summary_row(&mut md, r);
    }
    statements_and_figures(&mut md, results, figures);
    let mut by_grade: Vec<&ClaimResult> = results.iter().collect();
    by_grade.sort_by_key(|r| super::reader_order(r));
    let mut group = "";
    for r in by_grade {
        if super::group_name(r) != group {
            group = super::group_name(r);
            let _ = writeln!(md, "\n## {group}\n");
        }
        claim_section(&mut md, r, page);
    }
    md
}

/// One row of the summary table.
fn summary_row(md: &mut String, r: &ClaimResult) {
    let measured: Vec<String> = r
        .checks
        .iter()
        .map(|c| {
            let differs = if c.as_recorded() || super::nothing_recorded(r) { "" } else { " (differs from its record)" };
            let mark = super::state_mark(c.state);
            format!("{} = {} {mark}{differs}", c.quantity, with_iqr(r, &c.quantity))
        })
        .collect();
    let tolerance: Vec<String> = r.checks.iter().map(|c| c.tolerance_text()).collect();
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | **{}** | {} |",
        cell(&r.id),
        cell(&r.title),
        cell(&r.paper),
        if measured.is_empty() { cell(r.error.as_deref().unwrap_or_default()) } else { measured.join("<br>") },
        tolerance.join("<br>"),
        status(r),
        verdict_word(r.verdict)
    );
}

/// The index of the paper's statements and the figures (the overview is
/// shown at the top).
fn statements_and_figures(md: &mut String, results: &[ClaimResult], figures: &[(String, String)]) {
    let statements = statement_index(results);
    if !statements.is_empty() {
        let _ = writeln!(
            md,
            "\n## The paper's statements\n\nEach statement id (P01–P58, docs/coverage.md) named in a claim's source, with the claims that check it.\n\n| statement | claims |\n|---|---|"
        );
        for (p, rows) in statements {
            let _ = writeln!(md, "| P{p:02} | {} |", rows.join("; "));
        }
    }
    if !figures.is_empty() {
        let _ = writeln!(md, "\n## Figures\n");
        for (file, caption) in figures.iter().filter(|(f, _)| f != super::overview::FILE) {
            let _ = writeln!(md, "![{caption}](figures/{file})\n\n{caption}\n");
        }
    }
}

/// A claim's checks: paper, measured, tolerance, margin, miss and grade,
/// state and record. An open hypothesis has no record, so no such column;
/// a question of one's own has a figure, not the paper's.
fn checks_table(md: &mut String, r: &ClaimResult) {
    if r.checks.is_empty() {
        return;
    }
    let recorded = !super::nothing_recorded(r);
    let figure = if super::of_the_paper(r) { "paper" } else { "figure" };
    let (extra, rule) = if recorded { (" recorded |", "---|") } else { ("", "") };
    let _ = writeln!(
        md,
        "| quantity | {figure} | measured | tolerance | margin | miss, grade | state |{extra}\n|---|---|---|---|---|---|---|{rule}"
    );
    for c in &r.checks {
        let record = if recorded { format!(" {:?} |", c.recorded) } else { String::new() };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:?} |{record}",
            c.quantity,
            c.paper.map(num).unwrap_or_default(),
            with_iqr(r, &c.quantity),
            c.tolerance_text(),
            super::margin(c),
            super::graded(c),
            c.state,
        );
    }
}

/// A claim's section: its statement, experiments, measures, checks with
/// their grades, per-seed values, verdict and finding.
fn claim_section(md: &mut String, r: &ClaimResult, page: Page) {
    let _ = writeln!(md, "\n### {} — {}\n", r.id, r.title);
    let Some(claim) = page.claims.iter().find(|c| c.raw.id == r.id) else {
        let _ = writeln!(md, "**{}**: {}\n", verdict_word(r.verdict), r.error.clone().unwrap_or_default());
        return;
    };
    let _ = writeln!(md, "> {}\n\nSource: {} · file `{}`\n", r.statement.trim(), r.source, r.path);
    if super::of_the_paper(r) {
        let _ = writeln!(md, "Paper: {}\n", r.paper);
    }
    let _ = writeln!(md, "Experiments: {}\n", experiments(claim, r));
    let measures: Vec<String> = claim
        .at(r.tier)
        .measures
        .iter()
        .map(|m| format!("`{}`", serde_json::to_string(m).unwrap_or_default()))
        .collect();
    let _ = writeln!(md, "Measures: {}\n", measures.join(", "));
    runs(md, claim, r, page.backend);
    checks_table(md, r);
    let per_seed: Vec<String> = r
        .measurement
        .per_seed
        .iter()
        .map(|(k, v)| {
            let shown = |s: &SeedValue| format!("seed {} {}", s.seed, s.value.describe());
            format!("{k}: {}", v.iter().map(shown).collect::<Vec<_>>().join(", "))
        })
        .collect();
    if !per_seed.is_empty() {
        let _ = writeln!(
            md,
            "\n<details><summary>Per seed</summary>\n\n{}\n\n</details>",
            per_seed.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")
        );
    }
    let _ = writeln!(md, "\n**{}** (test: {})", status(r), verdict_word(r.verdict));
    if let Some(finding) = &r.finding {
        let _ = writeln!(md, "\nFinding: {}", finding.trim());
    }
    if let Some(error) = &r.error {
        let _ = writeln!(md, "\nError: {error}");
    }
    notes(md, r);
}

/// The claim's runs by condition, each by its name (σ, task, M, K, p, η,
/// seed, backend and the hash of its cache key: `runs/KEY` in the cache).
fn runs(md: &mut String, claim: &Claim, r: &ClaimResult, backend: crate::backend::Backend) {
    let specs = crate::claims::runner::claim_specs(claim, r.tier, backend);
    let count: usize = specs.values().map(Vec::len).sum();
    if count == 0 {
        return;
    }
    let lines: Vec<String> = specs
        .iter()
        .map(|(condition, specs)| {
            let names: Vec<String> = specs.iter().map(|s| format!("`{}`", crate::run_name::run_name(s))).collect();
            format!("- `{condition}`: {}", names.join(", "))
        })
        .collect();
    let _ = writeln!(md, "<details><summary>Runs ({count})</summary>\n\n{}\n\n</details>\n", lines.join("\n"));
}

/// A claim's preconditions, why it is ill-posed, and its warnings.
fn notes(md: &mut String, r: &ClaimResult) {
    if !r.requires.is_empty() {
        let met: Vec<String> = r.requires.iter().map(|c| format!("- {}", c.describe())).collect();
        let _ = writeln!(md, "\nPreconditions:\n\n{}", met.join("\n"));
    }
    if let Some(why) = &r.ill_posed {
        let _ = writeln!(md, "\nIll-posed: {why}");
    }
    for warning in &r.measurement.warnings {
        let _ = writeln!(md, "\nWarning: {}", warning.message);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{Page, cell, render, statement_ids};
    use crate::claims::judge::ClaimResult;
    use crate::claims::value::Value;
    use crate::claims::{Claim, Tier};

    /// A p-grid of one's own at M = 23, K = 256.
    const GRID: &str = r#"id: H7
kind: hypothesis
title: More data, earlier test accuracy 0.99
source: "a question of one's own"
statement: test accuracy 0.99 comes earlier as p grows
paper: "-"
experiments:
  p:
    activation: sqr
    eta: 2.0e-4
    epochs: 250
    modulus: 23
    width: 256
    seeds: {quick: 3, paper: 3, from: 100}
    grid:
      "0.3": {train_fraction: 0.3}
      "0.7": {train_fraction: 0.7}
measures:
  - {kind: milestones, condition: p}
expect:
  - {quantity: "p[0.7].test_acc_99_max", tolerance: {below: 250}}
"#;

    /// A p-grid of one's own (as written, or with its check recorded)
    /// judged on a made-up measurement.
    pub(crate) fn judged_grid(recorded: bool) -> (Claim, ClaimResult) {
        let text = if recorded { GRID.replace("below: 250}", "below: 250}, recorded: holds") } else { GRID.into() };
        let claim: Claim = crate::claims::load::parse(std::path::Path::new("H7-grid.yaml"), &text).unwrap();
        let mut result = ClaimResult::new(&claim, Tier::Quick);
        let mut measurement = crate::claims::Measurement::default();
        measurement.quantities.insert("p[0.7].test_acc_99_max".into(), Value::exact(180.0));
        result.judge(&claim, measurement);
        (claim, result)
    }

    /// The report of [`judged_grid`].
    fn report_of(recorded: bool) -> String {
        let (claim, result) = judged_grid(recorded);
        let page = Page { claims: std::slice::from_ref(&claim), backend: Default::default(), header: "" };
        render(std::slice::from_ref(&result), &[], page)
    }

    /// A p-grid's points read as one condition when the Experiments line
    /// named only σ, η, M, K and lr; an open hypothesis showed "recorded:
    /// Holds" and sat under "Not judged".
    #[test]
    fn a_grid_of_ones_own_reads_point_by_point_and_an_open_hypothesis_as_open() {
        let md = report_of(false);
        assert!(
            md.contains("`p[0.3]`: σ = sqr, η = 0.0002, 250 epochs, seeds 100..102, p = 0.3, M = 23, K = 256"),
            "{md}"
        );
        assert!(
            md.contains("`p[0.7]`: σ = sqr, η = 0.0002, 250 epochs, seeds 100..102, p = 0.7, M = 23, K = 256"),
            "{md}"
        );
        assert!(md.contains("`sqr-add-M23-K256-p0.7-eta2e-4-s102-flex-"), "run names name M, K, p and the seed: {md}");
        assert!(md.contains("## Open hypotheses") && !md.contains("## Not judged"), "{md}");
        assert!(!md.contains("recorded") && !md.contains("Paper: -") && md.contains("| quantity | figure |"), "{md}");
        let md = report_of(true);
        assert!(md.contains("## Identities, harness findings, hypotheses and observations"), "{md}");
        assert!(md.contains("| state | recorded |") && md.contains("| Holds | Holds |"), "{md}");
    }

    #[test]
    fn statement_ids_and_ranges_are_read_from_sources() {
        assert_eq!(statement_ids("§2 table (P04-P09, P55; D3)"), vec![4, 5, 6, 7, 8, 9, 55]);
        assert_eq!(statement_ids("(P13; D14) COP12 P7 P123"), vec![13]);
        assert_eq!(statement_ids("P33–P35"), vec![33, 34, 35]);
    }

    #[test]
    fn table_cells_escape_pipes_and_newlines() {
        assert_eq!(
            cell("|published − repulsion| ≤ 0.02\nat every checkpoint"),
            "\\|published − repulsion\\| ≤ 0.02 at every checkpoint"
        );
    }
}
