//! Load-time hints (docs/claims.md, "Preconditions"): a hypothesis's check
//! that reads like a premise, such as "every η fires", fails the
//! hypothesis when the runs miss it, where the question presumed it; in
//! `requires:` an unmet premise makes the claim ill-posed instead.

use super::expectation::RawExpectation;
use super::schema::{ClaimKind, RawClaim};
use super::tier::Tier;
use super::tolerance::Tolerance;

/// One hint per check of a hypothesis's `expect` that reads like a premise
/// beside other checks (a lone "every seed reaches it" is the question).
pub fn premise_hints(raw: &RawClaim) -> Vec<String> {
    if raw.kind != ClaimKind::Hypothesis || raw.expect.len() < 2 {
        return Vec::new();
    }
    raw.expect
        .iter()
        .filter(|e| reads_like_premise(e))
        .map(|e| {
            format!(
                "`{}` reads like a premise (every run reaches the event): if the question presumes it, move it to \
                 `requires:`, so that runs that miss it make the claim ill-posed rather than refuted \
                 (docs/claims.md, \"Preconditions\")",
                e.quantity
            )
        })
        .collect()
}

/// A count or fraction of runs reaching an event, required to be all of them.
fn reads_like_premise(e: &RawExpectation) -> bool {
    let name = e.quantity.rsplit('.').next().unwrap_or(&e.quantity);
    let reaching = name == "fired_fraction" || name.ends_with("_reached_fraction");
    reaching && matches!(e.tolerance.at(Tier::Paper), Tolerance::Equals(x) if *x == 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Every η fires" in a hypothesis's `expect` is hinted at; the same
    /// check in a claim of the paper, or a fraction asked to be 0, is not.
    #[test]
    fn a_hypothesis_that_presumes_its_events_is_hinted() {
        let claim = |kind: &str, tolerance: &str| -> RawClaim {
            serde_yaml::from_str(&format!(
                "id: H1\ntitle: t\nsource: s\nkind: {kind}\nstatement: s\npaper: p\nexperiments: {{a: {{}}}}\n\
                 measures: []\nexpect:\n  - {{quantity: \"eta[*].fired_fraction\", tolerance: {tolerance}}}\n  - \
                 {{quantity: lead_median, tolerance: {{above: 0}}}}\n"
            ))
            .expect("a raw claim")
        };
        let hints = premise_hints(&claim("hypothesis", "{equals: 1}"));
        assert_eq!(hints.len(), 1);
        assert!(hints[0].starts_with("`eta[*].fired_fraction` reads like a premise"));
        assert!(premise_hints(&claim("paper", "{equals: 1}")).is_empty());
        assert!(premise_hints(&claim("hypothesis", "{equals: 0}")).is_empty());
        let mut alone = claim("hypothesis", "{equals: 1}");
        alone.expect.truncate(1);
        assert!(premise_hints(&alone).is_empty(), "a lone check of every run reaching it is the question");
    }
}
