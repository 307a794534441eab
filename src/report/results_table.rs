//! The README's results at a glance: one row per claim with the paper's
//! headline figure, lockin's at the paper tier and the verdict, then the
//! counts by claim and by the paper's statements (docs/claims.md,
//! "Statements"). Every quantity stays in REPORT.md and the snapshots.

use std::collections::BTreeMap;

use super::recorded::{Count, Recorded};
use super::snapshot::{Check, Snapshot};
use crate::format::num;

/// The table: one row per claim of either tier, in id order.
pub fn table(recorded: &Recorded) -> String {
    let mut out =
        String::from("| id | claim | headline check | paper | lockin | verdict |\n|---|---|---|---|---|---|\n");
    for id in recorded.ids() {
        let (check, paper, measured) = match recorded.deciding(id) {
            Some((s, _)) => headline(recorded, id, s),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let verdict = recorded.deciding(id).map_or("—".to_string(), |(s, tier)| format!("{}{tier}", s.reads));
        let fragile: Vec<String> = recorded
            .fragile
            .iter()
            .filter(|((claim, _), (flips, _))| claim == id && *flips > 0)
            .map(|((_, quantity), (flips, of))| format!("{quantity} flips in {flips} of {of} perturbations"))
            .collect();
        let verdict = if fragile.is_empty() { verdict } else { format!("{verdict}; fragile: {}", fragile.join(", ")) };
        out.push_str(&format!(
            "| {id} | {} | {check} | {paper} | {measured} | {verdict} |\n",
            super::markdown::cell(&recorded.title(id)),
        ));
    }
    out.push_str(&format!("\n{}\n", counts(recorded)));
    out
}

/// The headline check of claim `id` in snapshot `s` (its `headline:`, or
/// its first check): the quantity, the paper's figure(s) and lockin's,
/// one per grid point joined by " / ".
fn headline(recorded: &Recorded, id: &str, s: &Snapshot) -> (String, String, String) {
    let written = recorded
        .claim(id)
        .and_then(|c| c.raw.headline.clone().or_else(|| c.raw.expect.first().map(|e| e.quantity.clone())));
    let Some(written) = written else { return ("—".into(), "—".into(), "—".into()) };
    let mut checks: Vec<&Check> = s.checks.iter().filter(|c| is_point_of(&c.quantity, &written)).collect();
    if !written.contains("[*]") {
        checks.truncate(1); // a quantity checked twice (two forms): its first check
    }
    let join = |f: &dyn Fn(&Check) -> String| checks.iter().map(|c| f(c)).collect::<Vec<_>>().join(" / ");
    let value = |text: &str| text.parse::<f64>().map_or(text.to_string(), num);
    let paper = join(&|c| c.paper.as_deref().map_or_else(|| c.tolerance.clone(), value));
    let measured = join(&|c| format!("{}{}", value(&c.measured), if c.state.word() == "holds" { "" } else { " ✗" }));
    (format!("`{written}`"), paper, measured)
}

/// Whether snapshot quantity `q` is check `written` or, for a grid check
/// `LABEL[*].name`, one of its points.
fn is_point_of(q: &str, written: &str) -> bool {
    match written.split_once("[*]") {
        Some((label, name)) => q
            .strip_prefix(label)
            .and_then(|r| r.strip_prefix('['))
            .is_some_and(|r| r.split_once(']').is_some_and(|(_, rest)| rest == name)),
        None => q == written,
    }
}

/// "By claim: … By statement: …": the claims of the paper by their
/// verdict (a claim `counted_with` another counts with it), and the paper's
/// statements they name, each by the worst verdict of its claims.
pub fn counts(recorded: &Recorded) -> String {
    let mut by_claim = BTreeMap::<String, Count>::new();
    let mut by_statement = BTreeMap::<String, Count>::new();
    let (mut apart, mut unjudged) = (0, 0);
    for id in recorded.ids() {
        let claim = recorded.claim(id);
        let Some(count) = recorded.count(id) else {
            let paper = recorded.kind(id) == crate::claims::schema::ClaimKind::Paper;
            match recorded.deciding(id) {
                Some(_) if paper => unjudged += 1,
                Some(_) => apart += 1,
                None => {}
            }
            continue;
        };
        let owner = claim.and_then(|c| c.raw.counted_with.clone()).unwrap_or_else(|| id.clone());
        worst(&mut by_claim, owner, count);
        for s in claim.iter().flat_map(|c| &c.raw.statements).filter(|s| !s.starts_with('D')) {
            worst(&mut by_statement, s.clone(), count);
        }
    }
    let merged: Vec<String> = recorded
        .claims
        .iter()
        .filter_map(|c| c.raw.counted_with.as_ref().map(|o| format!("{} with {o}", c.raw.id)))
        .collect();
    format!(
        "By claim (paper tier; the quick tier where a claim has no paper-tier record): {}{}{}; {apart} not claims of \
         the paper (identities, harness findings, hypotheses), never counted as reproduced. By the paper's \
         statements they check ({} statements; one checked by several claims takes the worst of their verdicts): \
         {}.",
        tally(&by_claim),
        if unjudged > 0 { format!(", {unjudged} not judged") } else { String::new() },
        if merged.is_empty() {
            String::new()
        } else {
            format!(" (a subset counted with its claim: {})", merged.join(", "))
        },
        by_statement.len(),
        tally(&by_statement),
    )
}

/// Keep the worst verdict of `key`.
fn worst(map: &mut BTreeMap<String, Count>, key: String, count: Count) {
    let entry = map.entry(key).or_insert(count);
    *entry = (*entry).max(count);
}

/// "9 reproduced, 5 near misses, 15 not reproduced, 9 whose verdict rests on lockin's reading".
fn tally(map: &BTreeMap<String, Count>) -> String {
    let n = |c: Count| map.values().filter(|&&v| v == c).count();
    format!(
        "{} reproduced, {} near misses, {} not reproduced, {} whose verdict rests on lockin's reading",
        n(Count::Reproduced),
        n(Count::Near),
        n(Count::NotReproduced),
        n(Count::Lockin)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid check's points are its label's bracketed points with its
    /// name, and nothing that merely shares a prefix.
    #[test]
    fn grid_headlines_match_their_points_only() {
        assert!(is_point_of("sweep[M41_p0.1].fired_fraction", "sweep[*].fired_fraction"));
        assert!(!is_point_of("sweep2[M41_p0.1].fired_fraction", "sweep[*].fired_fraction"));
        assert!(!is_point_of("sweep[M41_p0.1].fired_fraction_max", "sweep[*].fired_fraction"));
        assert!(is_point_of("separation", "separation") && !is_point_of("separation_w400", "separation"));
    }
}
