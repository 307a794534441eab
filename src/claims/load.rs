//! Loading claim files (docs/claims.md, "Fields"): parse the raw form,
//! validate it into a [`Claim`] expanded for both tiers, and report a
//! broken file as a [`LoadError`] naming the file, the line of the field at
//! fault and what is wrong. A broken file does not stop the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::grid::Expanded;
use super::problem::Problem;
use super::schema::{ClaimKind, RawClaim, RecordedOutcome};
use super::tier::Tier;
use super::validate::{summary_of, validate};

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
    pub fn at(&self, tier: super::tier::Tier) -> &Expanded {
        match tier {
            super::tier::Tier::Quick => &self.quick,
            super::tier::Tier::Paper => &self.paper,
        }
    }
}

/// A claim file that could not be loaded: file, line and message, and
/// any further problems found in the same pass (each on its own line).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.lines())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, starting with the field.
    pub message: String,
    /// The id, if the file got far enough to have one.
    pub id: Option<String>,
    /// More problems of the same file: (line, message).
    pub more: Vec<(Option<usize>, String)>,
}

impl LoadError {
    /// "FILE:LINE: message" ("FILE: message" where no line is known, as for
    /// a field that is missing), one line per problem.
    fn lines(&self) -> String {
        let at = |line: Option<usize>, message: &str| match line {
            Some(l) => format!("{}:{l}: {message}", self.path.display()),
            None => format!("{}: {message}", self.path.display()),
        };
        let mut out = at(self.line, &self.message);
        for (line, message) in &self.more {
            out.push('\n');
            out.push_str(&at(*line, message));
        }
        out
    }
}

/// The top-level fields every claim names (`expect`: all but observations).
const REQUIRED: [&str; 7] = ["id", "title", "source", "statement", "paper", "experiments", "measures"];

/// Every top-level field a claim may have.
const KNOWN: [&str; 15] = [
    "id",
    "title",
    "source",
    "statements",
    "counted_with",
    "headline",
    "kind",
    "statement",
    "paper",
    "outcome",
    "finding",
    "experiments",
    "measures",
    "expect",
    "requires",
];

/// Every missing or unknown top-level field of `text`, at once: (line, message).
fn top_level_problems(text: &str) -> Vec<(Option<usize>, String)> {
    let Ok(serde_yaml::Value::Mapping(fields)) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new(); // not a map: serde says why
    };
    let has = |f: &str| fields.contains_key(f);
    let observation = fields.get("kind").and_then(|k| k.as_str()) == Some("observation");
    let mut problems: Vec<(Option<usize>, String)> = REQUIRED
        .iter()
        .chain((!observation).then_some(&"expect"))
        .filter(|f| !has(f))
        .map(|f| (None, format!("{f}: missing (docs/claims.md, \"Fields\")")))
        .collect();
    let known: Vec<String> = KNOWN.map(String::from).to_vec();
    for key in fields.keys().filter_map(|k| k.as_str()).filter(|k| !KNOWN.contains(k)) {
        let near = super::validate::nearest(key, &known, 1).join("");
        problems.push((field_line(text, key, 0), format!("{key}: unknown field; did you mean {near}?")));
    }
    problems
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

/// The largest claim file read (the largest in claims/ is under 7 kB): a
/// file past it is refused, not read into memory.
pub const MAX_CLAIM_BYTES: u64 = 1 << 20;

/// Parse and validate one claim file: a regular file (a link to one is
/// followed) of at most [`MAX_CLAIM_BYTES`].
pub fn load(path: &Path) -> Result<Claim, LoadError> {
    let error =
        |message: String| LoadError { path: path.to_path_buf(), line: None, message, id: None, more: Vec::new() };
    if path.extension().is_some_and(|x| x == "yml") {
        return Err(error("claim files end in .yaml, not .yml: rename it".into()));
    }
    let text = crate::files::read_regular(path, MAX_CLAIM_BYTES).map_err(|e| error(format!("cannot read: {e:#}")))?;
    parse(path, &text)
}

/// Parse and validate `text` as the claim file `path` (which is not read):
/// how `record` checks the file it would write before writing it.
pub fn parse(path: &Path, text: &str) -> Result<Claim, LoadError> {
    let error = |line, message: String, id: Option<String>| LoadError {
        path: path.to_path_buf(),
        line,
        message,
        id,
        more: Vec::new(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string(); // a byte-order mark is not YAML
    let mut top = top_level_problems(&text).into_iter();
    if let Some((line, message)) = top.next() {
        let id = text.lines().find_map(|l| l.strip_prefix("id:")).map(|s| s.trim().to_string());
        return Err(LoadError { more: top.collect(), ..error(line, message, id) });
    }
    let raw: RawClaim = serde_yaml::from_str(&text).map_err(|e| {
        let (line, message) = parse_problem(&text, &e);
        let id = text.lines().find_map(|l| l.strip_prefix("id:")).map(|s| s.trim().to_string());
        error(line, message, id)
    })?;
    let expanded = validate(&raw, path).map_err(|Problem { field, message }| {
        let line = problem_line(&text, &field, &message);
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

/// The line and message of a parse error: serde reports the line of the
/// enclosing map; a field-level message ("expect[0]: paper: ...") points at
/// the field's own line, with a hint where a named bound needs quotes.
fn parse_problem(text: &str, e: &serde_yaml::Error) -> (Option<usize>, String) {
    let message = readable(&e.to_string());
    let line = e.location().map(|l| {
        let word = |f: &&str| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let mut fields = message.split(": ").take(2).filter(word);
        let at = |f: &str| line_of(text, &format!("{f}:"), l.line() - 1).or_else(|| line_of(text, &format!("{f}:"), 0));
        fields.find_map(at).unwrap_or(l.line())
    });
    let near = e.location().map_or(0, |l| l.line().saturating_sub(2));
    let hint = text.lines().skip(near).take(3).find_map(unquoted_named_bound);
    match hint {
        Some(bound) => (line, format!("{message} (a bound naming a grid point's quantity must be quoted: `{bound}`)")),
        None => (line, message),
    }
}

/// The line of a validation problem's field: for a check's field, on the
/// line of the check that names the quantity (the first `…` of the
/// message), or the first after `expect:`.
fn problem_line(text: &str, field: &str, message: &str) -> Option<usize> {
    let expect_line = line_of(text, "expect:", 0).unwrap_or(0);
    let check_line = message.split('`').nth(1).and_then(|q| line_of(text, q, expect_line)).map(|l| l - 1);
    let after = if ["paper", "quantity", "tolerance"].contains(&field) { check_line.unwrap_or(expect_line) } else { 0 };
    field_line(text, field, after).or_else(|| field_line(text, field, 0))
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
    if out.contains("tolerance") && out.contains("invalid type: string") && out.contains("expected f64") {
        out.push_str(
            " (only `at_least`, `at_most`, `above` and `below` may name a quantity; the other forms take numbers)",
        );
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
                    more: Vec::new(),
                });
            }
            Ok(claim)
        })
        .collect())
}

/// The claim files' directory of the checkout ([`crate::project::root`]).
pub fn default_dir() -> std::path::PathBuf {
    crate::project::root().join("claims")
}
