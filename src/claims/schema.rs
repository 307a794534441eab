//! The claim file format: raw serde types (unknown fields rejected), then one
//! validation pass into a checked [`Claim`]. Every error names the file, the
//! line and the field. The format is documented in `docs/claims.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use serde_yaml::Mapping;

use super::expectation::RawExpectation;
use super::measure::MeasureSpec;

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
    pub fn at(self, tier: super::tier::Tier) -> Outcome {
        match (self, tier) {
            (RecordedOutcome::Both(o), _) => o,
            (RecordedOutcome::PerTier { quick, .. }, super::tier::Tier::Quick) => quick,
            (RecordedOutcome::PerTier { paper, .. }, super::tier::Tier::Paper) => paper,
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
        [super::tier::Tier::Quick, super::tier::Tier::Paper].iter().any(|&t| self.at(t) == Outcome::DoesNotReproduce)
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
    /// The ids of the paper's statements this claim checks, from the claim
    /// directory's inventory (docs/claims.md, "Statements"): `P19`, `N03`,
    /// `D4`. Verdicts are counted by statement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<String>,
    /// The claim this one is a subset of: its checks are counted with that
    /// claim's, not as a claim of their own (docs/claims.md, "Statements").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_with: Option<String>,
    /// The check (its quantity as written) that carries the paper's headline
    /// figure, for the README's table; default the first check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
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

/// The one rule for claim ids (claim files and `xtask new-claim`): 1 to 32
/// ASCII letters, digits and `_`, e.g. `C02`.
pub fn check_id(id: &str) -> Result<(), String> {
    if (1..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("`{id}` is not a claim id: use 1-32 letters, digits and _ (e.g. C12)"))
    }
}
