//! The claim file format: raw serde types (unknown fields rejected), then one
//! validation pass into a checked [`Claim`]. Every error names the file, the
//! line and the field. The format is documented in `docs/claims.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use serde_yaml::Mapping;

use super::expectation::RawExpectation;
use super::grid::Expanded;
use super::measure::MeasureSpec;
use super::validate::{summary_of, validate};
use super::{Problem, Tier};

/// What the harness concluded when the claim was last examined (docs/claims.md, "Verdicts").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The paper's figure is reproduced within tolerance.
    Reproduces,
    /// It is not; the file's `finding` says what was measured instead.
    DoesNotReproduce,
}

/// The recorded outcome: one for both tiers, or one per tier when the
/// quick tier's seeds cannot show what the paper's seeds do (e.g. one
/// control seed in fifteen fires, and it is not among the first three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordedOutcome {
    /// `outcome: reproduces`.
    Both(Outcome),
    /// `outcome: {quick: reproduces, paper: does-not-reproduce}`.
    PerTier {
        /// At the quick tier.
        quick: Outcome,
        /// At the paper tier.
        paper: Outcome,
    },
}

impl RecordedOutcome {
    /// The outcome recorded for `tier`.
    pub fn at(self, tier: super::Tier) -> Outcome {
        match (self, tier) {
            (RecordedOutcome::Both(o), _) => o,
            (RecordedOutcome::PerTier { quick, .. }, super::Tier::Quick) => quick,
            (RecordedOutcome::PerTier { paper, .. }, super::Tier::Paper) => paper,
        }
    }

    /// `reproduces`, `does-not-reproduce`, or both per tier.
    pub fn describe(self) -> String {
        let word = |o: Outcome| match o {
            Outcome::Reproduces => "reproduces",
            Outcome::DoesNotReproduce => "does-not-reproduce",
        };
        match self {
            RecordedOutcome::Both(o) => word(o).into(),
            RecordedOutcome::PerTier { quick, paper } => format!("quick {}, paper {}", word(quick), word(paper)),
        }
    }

    /// Whether any tier records `does-not-reproduce`.
    pub fn any_negative(self) -> bool {
        [super::Tier::Quick, super::Tier::Paper].iter().any(|&t| self.at(t) == Outcome::DoesNotReproduce)
    }
}

/// What kind of evidence a claim is (docs/claims.md, "Kinds"): counted
/// apart in the report and the README.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimKind {
    /// A statement of the paper, checked against measurement.
    #[default]
    Paper,
    /// Algebra, not evidence: it holds by construction (e.g. the exact
    /// Theorem-6 sign rule), so it checks the harness, not the paper.
    Identity,
    /// A finding of the harness beyond the paper, stated positively and
    /// checked like the paper's.
    HarnessFinding,
    /// A researcher's own hypothesis: "supported" when its checks hold,
    /// "refuted (recorded)" when they are recorded as failing and do.
    Hypothesis,
    /// No claim, only a look: the measures' quantities are reported and
    /// nothing is checked (`expect` may be empty).
    Observation,
}

impl ClaimKind {
    /// The words the report uses ("" for the paper's own claims).
    pub fn label(self) -> &'static str {
        match self {
            ClaimKind::Paper => "",
            ClaimKind::Identity => "identity",
            ClaimKind::HarnessFinding => "harness finding",
            ClaimKind::Hypothesis => "hypothesis",
            ClaimKind::Observation => "observation",
        }
    }
}

/// A claim file as written (the raw, unchecked form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClaim {
    /// Claim id, e.g. `C02`; the file name starts with it.
    pub id: String,
    /// A short title.
    pub title: String,
    /// Where the statement comes from (the paper's section and statement ids P01–P58, with the
    /// docs/methods.md section that defines what is measured; or "harness finding").
    pub source: String,
    /// `paper` (default), `identity` or `harness-finding`.
    #[serde(default)]
    pub kind: ClaimKind,
    /// The paper's words.
    pub statement: String,
    /// The paper's figure(s), as quoted text for tables.
    pub paper: String,
    /// The recorded conclusion, for both tiers or per tier; optional: it
    /// is the summary of the checks' `recorded` states, and when given must
    /// agree with them.
    #[serde(default)]
    pub outcome: Option<RecordedOutcome>,
    /// Required with `does-not-reproduce`: what was measured and why.
    #[serde(default)]
    pub finding: Option<String>,
    /// Named training conditions, [`Experiment`]s or grids of them (a name
    /// given twice is an error); typed when the claim is expanded.
    #[serde(deserialize_with = "unique_keys")]
    pub experiments: BTreeMap<String, Mapping>,
    /// What to measure on their runs.
    pub measures: Vec<MeasureSpec>,
    /// The checks (none for an `observation`).
    #[serde(default)]
    pub expect: Vec<RawExpectation>,
    /// Preconditions: checks that must hold for the claim's question to be
    /// well posed (docs/claims.md, "Preconditions"); no `recorded:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<RawExpectation>,
}

/// A map that refuses a key given twice (serde's maps keep the last silently).
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of named experiments")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("experiment `{key}` is defined twice")));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

/// A validated claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The file it came from.
    pub path: PathBuf,
    /// Its contents as written.
    pub raw: RawClaim,
    /// The outcome at each tier: as written, or derived from the checks.
    pub outcome: RecordedOutcome,
    /// Expanded for the quick tier.
    quick: Expanded,
    /// Expanded for the paper tier.
    paper: Expanded,
}

impl Claim {
    /// Whether the claim is an open hypothesis: `kind: hypothesis` with no
    /// recorded state and no outcome. It is an experiment: judged, with
    /// nothing to compare against (docs/claims.md, "Open hypotheses").
    pub fn is_open(&self) -> bool {
        self.raw.kind == ClaimKind::Hypothesis
            && self.raw.outcome.is_none()
            && self.raw.expect.iter().all(|e| e.recorded.is_none())
    }

    /// The claim's conditions, measures and checks at `tier` (grids expanded).
    pub fn at(&self, tier: super::Tier) -> &Expanded {
        match tier {
            super::Tier::Quick => &self.quick,
            super::Tier::Paper => &self.paper,
        }
    }
}

/// A claim file that could not be loaded: file, line and message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}:{}: {message}", path.display(), line.map_or("?".to_string(), |l| l.to_string()))]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, starting with the field.
    pub message: String,
    /// The id, if the file got far enough to have one.
    pub id: Option<String>,
}

/// The 1-based line of the first line containing `needle` (after `after_line`).
fn line_of(text: &str, needle: &str, after_line: usize) -> Option<usize> {
    text.lines().enumerate().skip(after_line).find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
}

/// The 1-based line where `field` is written as a YAML key (`field:` not
/// inside a longer name), after `after_line`; else the first line naming
/// it at all. A title mentioning "seeds" is not the `seeds:` field.
fn field_line(text: &str, field: &str, after_line: usize) -> Option<usize> {
    let key = format!("{field}:");
    let is_key = |line: &str| {
        line.match_indices(&key).any(|(at, _)| {
            !line[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '[')
        })
    };
    let keyed = text.lines().enumerate().skip(after_line).find(|(_, l)| is_key(l)).map(|(i, _)| i + 1);
    keyed.or_else(|| line_of(text, field, after_line))
}

/// A bound written as `below: eta[5e-5].x` in `line`, which YAML reads as
/// the start of a list: the same bound quoted, to suggest.
fn unquoted_named_bound(line: &str) -> Option<String> {
    ["below:", "above:", "at_least:", "at_most:"].iter().find_map(|key| {
        let (_, rest) = line.split_once(key)?;
        let value: String = rest.trim_start().chars().take_while(|&c| c != ',' && c != '}').collect();
        let named = value.starts_with(|c: char| c.is_ascii_alphabetic()) && value.contains('[');
        named.then(|| format!("{key} \"{}\"", value.trim()))
    })
}

/// The one rule for claim ids (claim files and `xtask new-claim`): 1 to 32
/// ASCII letters, digits and `_`, e.g. `C02`.
pub fn check_id(id: &str) -> Result<(), String> {
    if (1..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("`{id}` is not a claim id: use 1-32 letters, digits and _ (e.g. C12)"))
    }
}

/// Parse and validate one claim file.
pub fn load(path: &Path) -> Result<Claim, LoadError> {
    let error = |line, message: String, id: Option<String>| LoadError { path: path.to_path_buf(), line, message, id };
    if path.extension().is_some_and(|x| x == "yml") {
        return Err(error(None, "claim files end in .yaml, not .yml: rename it".into(), None));
    }
    let text = std::fs::read_to_string(path).map_err(|e| error(None, format!("cannot read: {e}"), None))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string(); // a byte-order mark is not YAML
    let raw: RawClaim = serde_yaml::from_str(&text).map_err(|e| {
        // serde reports the line of the enclosing map; a field-level message
        // ("expect[0]: paper: ...") points at the field's own line.
        let message = readable(&e.to_string());
        let line = e.location().map(|l| {
            let word = |f: &&str| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let mut fields = message.split(": ").take(2).filter(word);
            let at = |f: &str| {
                line_of(&text, &format!("{f}:"), l.line() - 1).or_else(|| line_of(&text, &format!("{f}:"), 0))
            };
            fields.find_map(at).unwrap_or(l.line())
        });
        let id = text.lines().find_map(|l| l.strip_prefix("id:")).map(|s| s.trim().to_string());
        let near = e.location().map_or(0, |l| l.line().saturating_sub(2));
        let hint = text.lines().skip(near).take(3).find_map(unquoted_named_bound);
        let message = match hint {
            Some(bound) => format!("{message} (a bound naming a grid point's quantity must be quoted: `{bound}`)"),
            None => message,
        };
        error(line, message, id)
    })?;
    let expanded = validate(&raw, path).map_err(|Problem { field, message }| {
        // A check's field: on the line of the check that names the quantity
        // (the first `…` of the message), or the first after `expect:`.
        let expect_line = line_of(&text, "expect:", 0).unwrap_or(0);
        let check_line = message.split('`').nth(1).and_then(|q| line_of(&text, q, expect_line)).map(|l| l - 1);
        let after = if ["paper", "quantity", "tolerance"].contains(&field.as_str()) {
            check_line.unwrap_or(expect_line)
        } else {
            0
        };
        let line = field_line(&text, &field, after).or_else(|| field_line(&text, &field, 0));
        error(line, format!("{field}: {message}"), Some(raw.id.clone()))
    })?;
    let [quick, paper] = expanded;
    let outcome = RecordedOutcome::PerTier { quick: summary_of(&quick), paper: summary_of(&paper) };
    let outcome = if outcome.at(Tier::Quick) == outcome.at(Tier::Paper) {
        RecordedOutcome::Both(outcome.at(Tier::Quick))
    } else {
        outcome
    };
    Ok(Claim { path: path.to_path_buf(), raw, outcome, quick, paper })
}

/// serde's message for a value that fits none of a field's forms, with the
/// forms the field accepts instead of a Rust type's name.
fn readable(message: &str) -> String {
    const FORMS: [(&str, &str); 3] = [
        (
            "untagged enum RecordedOutcome",
            "outcome: expected reproduces or does-not-reproduce, or one per tier with both tiers: \
             {quick: reproduces, paper: does-not-reproduce}",
        ),
        (
            "untagged enum Recorded",
            "recorded: expected holds, fails or undefined, one per tier with both tiers ({quick: holds, paper: fails}), \
             or for a `LABEL[*].name` quantity a list of those per grid point",
        ),
        ("untagged enum TierState", "expected holds, fails or undefined, or {quick: …, paper: …} with both tiers"),
    ];
    let mut out = message.to_string();
    for (rust, forms) in FORMS {
        out = out.replace(&format!("data did not match any variant of {rust}"), forms);
    }
    out
}

/// Load every `*.yaml` in `dir` (sorted by name). Duplicate ids are errors
/// on the later file.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Result<Claim, LoadError>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut seen = BTreeMap::new();
    Ok(paths
        .iter()
        .map(|p| {
            let claim = load(p)?;
            if let Some(first) = seen.insert(claim.raw.id.clone(), p.clone()) {
                return Err(LoadError {
                    path: p.clone(),
                    line: Some(1),
                    message: format!("id: `{}` is also the id of {}", claim.raw.id, first.display()),
                    id: Some(claim.raw.id),
                });
            }
            Ok(claim)
        })
        .collect())
}
