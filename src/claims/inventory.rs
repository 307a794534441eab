//! The inventory of the paper's statements and printed figures
//! (docs/claims.md, "Statements"): `inventory/statements.yaml` in the claim
//! directory. Each statement is checked by the claims that name it in their
//! `statements`, or says why none does; each printed figure names the checks
//! that test it (`C02: fire_epoch_median`) or why none does. Loading checks
//! the inventory against the claim files, so neither can name what the
//! other lacks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::load::Claim;

/// The file, relative to the claim directory.
pub const FILE: &str = "inventory/statements.yaml";

/// The whole inventory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The paper and version inventoried.
    pub paper: String,
    /// Its statements, P.. (the body) and N.. (its notes), in reading order.
    pub statements: Vec<Statement>,
    /// Where its text, scripts and notes disagree (D..).
    #[serde(default)]
    pub disagreements: Vec<Disagreement>,
}

/// One statement of the paper.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// `P19`, `N3`.
    pub id: String,
    /// Section and line.
    #[serde(rename = "where")]
    pub location: String,
    /// The paper's words.
    pub text: String,
    /// `figure`, `method`, `condition` or `qualitative`.
    pub kind: String,
    /// D-ids bearing on it.
    #[serde(default)]
    pub disagreements: Vec<String>,
    /// Why no claim checks it (only where none names it).
    #[serde(default)]
    pub unchecked: Option<String>,
    /// Every number it prints.
    #[serde(default)]
    pub figures: Vec<PrintedFigure>,
}

/// One printed number and where it is checked.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintedFigure {
    /// As printed: "174", "[173, 174]".
    pub printed: String,
    /// `C02: fire_epoch_median`: a claim and one of its checks' quantities.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Why no check tests it.
    #[serde(default)]
    pub unchecked: Option<String>,
    /// How a check tests it, where not directly (a seed-0 figure against a median, ...).
    #[serde(default)]
    pub note: Option<String>,
}

/// A place where the paper's text, scripts and notes disagree.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disagreement {
    /// `D4`.
    pub id: String,
    /// What disagrees.
    pub text: String,
    /// The claims whose findings settle it.
    #[serde(default)]
    pub claims: Vec<String>,
}

impl Inventory {
    /// The inventory of claim directory `dir`, if it has one.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Inventory>> {
        let path = dir.join(FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let inventory = serde_yaml::from_str(&text).map_err(|e| located(&path, &e))?;
        Ok(Some(inventory))
    }

    /// The claims that name statement `id` in their `statements`.
    pub fn claims_of<'a>(&self, id: &str, claims: &'a [Claim]) -> Vec<&'a Claim> {
        claims.iter().filter(|c| c.raw.statements.iter().any(|s| s == id)).collect()
    }

    /// Every disagreement between the inventory and the claim files, one
    /// line each (empty: they agree).
    pub fn problems(&self, claims: &[Claim]) -> Vec<String> {
        let checks: BTreeMap<&str, BTreeSet<&str>> = claims
            .iter()
            .map(|c| (c.raw.id.as_str(), c.raw.expect.iter().map(|e| e.quantity.as_str()).collect()))
            .collect();
        let mut out = self.id_problems(claims);
        for s in &self.statements {
            let named = !self.claims_of(&s.id, claims).is_empty();
            match (named, &s.unchecked) {
                (true, Some(_)) => out.push(format!("{}: claims name it, so it has no `unchecked`", s.id)),
                (false, None) => {
                    out.push(format!("{}: no claim names it in `statements`; say why (`unchecked`)", s.id))
                }
                _ => {}
            }
            for f in &s.figures {
                out.extend(figure_problems(&s.id, f, &checks));
            }
        }
        out
    }

    /// Ids given twice, and claims' `statements` or `counted_with` naming
    /// what does not exist.
    fn id_problems(&self, claims: &[Claim]) -> Vec<String> {
        let mut out = Vec::new();
        let mut known = BTreeSet::new();
        for id in self.statements.iter().map(|s| &s.id).chain(self.disagreements.iter().map(|d| &d.id)) {
            if !known.insert(id.as_str()) {
                out.push(format!("{id}: listed twice in the inventory"));
            }
        }
        let ids: BTreeSet<&str> = claims.iter().map(|c| c.raw.id.as_str()).collect();
        for c in claims {
            for s in c.raw.statements.iter().filter(|s| !known.contains(s.as_str())) {
                out.push(format!("{}: statements: `{s}` is not in {FILE}", c.raw.id));
            }
            if let Some(other) = c.raw.counted_with.as_deref().filter(|o| !ids.contains(o)) {
                out.push(format!("{}: counted_with: `{other}` is no claim of this directory", c.raw.id));
            }
        }
        out
    }
}

/// A figure's problems: neither or both of `checks` and `unchecked`, or a
/// check naming a claim or quantity that does not exist.
fn figure_problems(statement: &str, f: &PrintedFigure, checks: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    let at = format!("{statement}, figure \"{}\"", f.printed);
    let mut out = Vec::new();
    match (f.checks.is_empty(), &f.unchecked) {
        (true, None) => out.push(format!("{at}: give its `checks` or why it is `unchecked`")),
        (false, Some(_)) => out.push(format!("{at}: has both `checks` and `unchecked`")),
        _ => {}
    }
    for check in &f.checks {
        let known = check
            .split_once(": ")
            .is_some_and(|(claim, quantity)| checks.get(claim).is_some_and(|q| q.contains(quantity)));
        if !known {
            out.push(format!("{at}: `{check}` is not `CLAIM: quantity` of a check in that claim file"));
        }
    }
    out
}

/// A YAML error with the file and line.
fn located(path: &Path, e: &serde_yaml::Error) -> anyhow::Error {
    match e.location() {
        Some(at) => anyhow::anyhow!("{}:{}: {e}", path.display(), at.line()),
        None => anyhow::anyhow!("{}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(yaml: &str) -> Inventory {
        serde_yaml::from_str(yaml).expect("a well-formed inventory")
    }

    /// The inventory and the claim files are checked against each other:
    /// a statement no claim names must say why, a named one must not, a
    /// figure needs its checks or a reason, and a check must name a
    /// quantity its claim file checks.
    #[test]
    fn the_inventory_and_the_claims_name_the_same_things() {
        let c01 = crate::claims::load::load(&crate::claims::default_dir().join("C01-x2-detector-fires.yaml"))
            .expect("C01 loads");
        let claims = [c01];
        let good = inventory(
            "paper: p\nstatements:\n  - {id: P18, where: s, text: t, kind: figure, figures: [{printed: '15/15', \
             checks: ['C01: fired_fraction']}]}\n  - {id: N33, where: s, text: t, kind: figure}\n  - {id: N46, \
             where: s, text: t, kind: figure}\n",
        );
        assert_eq!(good.problems(&claims), Vec::<String>::new());
        let bad = inventory(
            "paper: p\nstatements:\n  - {id: P18, where: s, text: t, kind: figure, unchecked: why, figures: \
             [{printed: '15/15', checks: ['C01: fire_rate']}, {printed: '3'}]}\n  - {id: P99, where: s, text: t, \
             kind: method}\n",
        );
        let problems = bad.problems(&claims).join("\n");
        for expected in [
            "P18: claims name it, so it has no `unchecked`",
            "`C01: fire_rate` is not `CLAIM: quantity`",
            "P18, figure \"3\": give its `checks` or why it is `unchecked`",
            "P99: no claim names it",
            "C01: statements: `N33` is not in",
        ] {
            assert!(problems.contains(expected), "missing {expected:?} in:\n{problems}");
        }
    }
}
