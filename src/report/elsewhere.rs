//! REPORT.md's section on runs made elsewhere (`verify-claims --runs`;
//! docs/methods.md, "Runs made elsewhere"): where each imported run came
//! from, and per claim each check on the imported runs beside lockin's
//! runs of the same conditions and seeds. Evidence, never a verdict.

use std::fmt::Write as _;

use super::markdown::cell;
use crate::claims::imported::Judgement;
use crate::external::Provenance;
use crate::format::num;

/// The claims judged on imported runs, and where those runs came from.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    /// Each imported run's provenance.
    pub provenance: Vec<Provenance>,
    /// Each selected claim on them, beside lockin's runs.
    pub judged: Vec<Judgement>,
}

/// The section, or nothing when no run was imported.
pub fn section(md: &mut String, imported: &Imported) {
    if imported.judged.is_empty() && imported.provenance.is_empty() {
        return;
    }
    let served = imported.judged.iter().filter(|j| j.result.is_some()).count();
    let _ = writeln!(
        md,
        "\n## Runs made elsewhere\n\nThe claims judged on {} imported runs ({served} of {} claims could be), beside lockin's runs of the same conditions and seeds: evidence beside the verdicts above, never a verdict (docs/methods.md, \"Runs made elsewhere\").\n",
        imported.provenance.len(),
        imported.judged.len()
    );
    let _ = writeln!(md, "| file | hash | framework | device | columns |\n|---|---|---|---|---|");
    for p in &imported.provenance {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} |",
            cell(&p.file),
            p.file_hash,
            cell(&p.framework),
            cell(&p.device),
            p.columns.len()
        );
    }
    let _ = writeln!(
        md,
        "\n| id | quantity | paper | lockin | imported | tolerance | same state |\n|---|---|---|---|---|---|---|"
    );
    let mut notes = Vec::new();
    for judgement in &imported.judged {
        rows(md, judgement);
        notes.push(format!("- {}: {}", judgement.id, judgement_note(judgement)));
    }
    let _ = writeln!(md, "\n{}", notes.join("\n"));
}

/// A claim's checks on the imported runs beside lockin's (none where it
/// was not judged on them: its note says why).
fn rows(md: &mut String, judgement: &Judgement) {
    for (i, (c, mine)) in judgement.checks_beside_lockin().into_iter().enumerate() {
        let same = mine.map_or("—", |m| if m.state == c.state { "yes" } else { "**no**" });
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {same} |",
            if i == 0 { judgement.id.as_str() } else { "" },
            cell(&c.quantity),
            c.paper.map(num).unwrap_or_default(),
            mine.map_or("—".into(), |m| cell(&super::value_and_state(m))),
            cell(&super::value_and_state(c)),
            cell(&c.tolerance.describe()),
        );
    }
}

/// Which seeds a claim was judged on, why not, or its error.
fn judgement_note(judgement: &Judgement) -> String {
    match &judgement.result {
        Some(theirs) if theirs.error.is_some() => format!("error: {}", theirs.error.as_deref().unwrap_or_default()),
        Some(_) => judgement.note.clone(),
        None => format!("not judged: {}", judgement.note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--runs` judgements were printed, never in REPORT.md.
    #[test]
    fn judgements_on_runs_made_elsewhere_are_in_the_report() {
        let (_, result) = crate::report::markdown::tests::judged_grid(true);
        let mut md = String::new();
        section(&mut md, &Imported::default());
        assert!(md.is_empty(), "none imported, no section");
        let judgement = Judgement {
            id: "H7".into(),
            result: Some(result.clone()),
            lockin: Some(result),
            note: "judged on `p[0.7]` on seeds 100 of 3".into(),
            files: vec!["log.csv".into()],
        };
        section(&mut md, &Imported { provenance: Vec::new(), judged: vec![judgement] });
        assert!(md.contains("## Runs made elsewhere"), "{md}");
        assert!(md.contains("| H7 | p[0.7].test_acc_99_max |  | 180 ✓ | 180 ✓ | < 250 | yes |"), "{md}");
        assert!(md.contains("- H7: judged on `p[0.7]` on seeds 100 of 3"), "{md}");
    }
}
