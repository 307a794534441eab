//! Recording what a claim's checks do (docs/claims.md, "Open hypotheses"):
//! the states a judgement observed, written into the claim file as each
//! check's `recorded:` (comments and layout kept), with a `finding` stub
//! where a check does not hold. An open hypothesis becomes a guarded claim.

use super::expectation::{CheckState, Recorded, TierState};
use super::judge::ClaimResult;
use super::load::Claim;
use super::tier::Tier;

/// What one judgement at one tier observed: each raw expectation's
/// states ([`observed_states`]) and the result behind them.
pub struct Observed {
    /// The tier judged.
    pub tier: Tier,
    /// Per raw expectation, one state or one per grid point.
    pub states: Vec<Vec<CheckState>>,
    /// The judgement.
    pub result: ClaimResult,
}

/// The recorded state of point `i` after this recording. Where both tiers
/// were judged, each gets what it did. Where one was: a per-tier record
/// keeps the other tier's part; a plain one is read as the quick tier's
/// (the default tier, recorded first), so re-recording the quick tier
/// replaces it, and recording the paper tier splits it where they differ.
fn merged(before: Option<TierState>, quick: Option<CheckState>, paper: Option<CheckState>) -> TierState {
    let (q, p) = match (before, quick, paper) {
        (_, Some(q), Some(p)) => (q, p),
        (Some(TierState::PerTier { paper, .. }), Some(q), None) => (q, paper),
        (Some(TierState::PerTier { quick, .. }), None, Some(p)) => (quick, p),
        (Some(TierState::Both(old)), None, Some(p)) => (old, p),
        (_, Some(q), None) => (q, q),
        (_, None, Some(p)) => (p, p),
        (_, None, None) => unreachable!("at least one tier is judged"),
    };
    if q == p { TierState::Both(q) } else { TierState::PerTier { quick: q, paper: p } }
}

/// The text of `recorded:` for raw expectation `e` after this recording:
/// one state, one per tier where they differ, or one per grid point.
fn recorded_text(before: Option<&Recorded>, quick: Option<&[CheckState]>, paper: Option<&[CheckState]>) -> String {
    let points = quick.or(paper).map_or(0, <[CheckState]>::len);
    let old = |i: usize| match before {
        Some(Recorded::One(s)) => Some(*s),
        Some(Recorded::PerPoint(v)) => v.get(i).copied(),
        None => None,
    };
    let one = |s: TierState| match s {
        TierState::Both(s) => s.word().to_string(),
        TierState::PerTier { quick, paper } => format!("{{quick: {}, paper: {}}}", quick.word(), paper.word()),
    };
    let states: Vec<String> =
        (0..points).map(|i| one(merged(old(i), quick.map(|s| s[i]), paper.map(|s| s[i])))).collect();
    if matches!(before, Some(Recorded::PerPoint(_))) || points > 1 {
        format!("[{}]", states.join(", "))
    } else {
        states[0].clone()
    }
}

/// The observed state of each raw expectation of `claim`, one per grid
/// point for a `LABEL[*].name` check (a point without a paper figure is
/// never checked and keeps `holds`). An error names a point not run at
/// this tier.
pub fn observed_states(claim: &Claim, result: &ClaimResult) -> anyhow::Result<Vec<Vec<CheckState>>> {
    // Checks come in the order of the expectations that make them; a
    // cursor keeps two checks of one quantity apart.
    let mut next = 0;
    let mut state = |q: &str| {
        let at = next + result.checks[next..].iter().position(|c| c.quantity == q)?;
        next = at + 1;
        Some(result.checks[at].state)
    };
    let mut out = Vec::new();
    for e in &claim.raw.expect {
        let Some((prefix, quantity)) = e.quantity.split_once("[*].") else {
            let s = state(&e.quantity).ok_or_else(|| not_run(&e.quantity, result.tier))?;
            out.push(vec![s]);
            continue;
        };
        let mut states = Vec::new();
        for (i, label) in point_labels(claim, prefix).iter().enumerate() {
            let unchecked = matches!(&e.paper, Some(super::expectation::PaperValue::PerPoint(v)) if v[i].is_none());
            let name = format!("{label}.{quantity}");
            states.push(match state(&name) {
                Some(s) => s,
                None if unchecked => CheckState::Holds,
                None => return Err(not_run(&name, result.tier)),
            });
        }
        out.push(states);
    }
    Ok(out)
}

fn not_run(quantity: &str, tier: Tier) -> anyhow::Error {
    anyhow::anyhow!("`{quantity}` is not checked at the {} tier: record at the tier that runs it (--tier)", tier.name())
}

/// The grid-point labels `prefix[point]` of the claim's measures, in grid
/// order (the paper tier runs every point).
fn point_labels(claim: &Claim, prefix: &str) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for label in claim.at(Tier::Paper).measures.iter().filter_map(|m| m.label()) {
        let is_point = label.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'));
        if is_point && !labels.iter().any(|l| l == label) {
            labels.push(label.to_string());
        }
    }
    labels
}

/// How the `finding` stub `record` writes begins and ends. A `finding`
/// that does not both begin and end so is the author's, and is never
/// replaced or removed.
const STUB_START: &str = "Recorded by `cargo xtask record`: ";
const STUB_END: &str = "Say here what this means.";

/// `text` (the claim file) with each expectation's `recorded:` set to what
/// the judgements in `observed` (one per tier judged) say, and a `finding`
/// stub where some check does not hold and the file has no finding of the
/// author's ([`edit`]).
pub fn rewrite(text: &str, claim: &Claim, observed: &[Observed]) -> anyhow::Result<String> {
    let at = |tier: Tier, i: usize| observed.iter().find(|o| o.tier == tier).map(|o| o.states[i].as_slice());
    let values: Vec<String> = (claim.raw.expect.iter().enumerate())
        .map(|(i, e)| recorded_text(e.recorded.as_ref(), at(Tier::Quick, i), at(Tier::Paper, i)))
        .collect();
    let failing: Vec<String> = observed
        .iter()
        .flat_map(|o| {
            let tier = o.tier.name();
            let failing = o.result.checks.iter().filter(|c| c.state != CheckState::Holds);
            failing.map(move |c| format!("{} ({tier} tier)", c.describe()))
        })
        .collect();
    let stub = (!failing.is_empty()).then(|| format!("{STUB_START}{}. {STUB_END}", failing.join("; ")));
    edit(text, &values, stub.as_deref())
}

/// `text` with the `recorded:` of check `i` set to `values[i]`, and the
/// `finding` stub set to `stub` (none: removed). `record` owns only its
/// own tokens and lines (docs/claims.md, "What `record` writes"): the value
/// after each check's `recorded:` (or the key added to a check that has
/// none, as a token before a flow map's `}` or a line of its own), and a
/// `finding` it wrote that still reads as its stub. Every other byte,
/// line ending included, is kept. The result is proved by parsing it: it
/// must be the same YAML with only those values changed, else nothing is
/// written and the error says what to write by hand.
pub fn edit(text: &str, values: &[String], stub: Option<&str>) -> anyhow::Result<String> {
    let before: serde_yaml::Value = serde_yaml::from_str(text)?;
    let mut doc = Doc::new(text);
    let own_stub = before.get("finding").and_then(|f| f.as_str()).is_some_and(is_stub);
    let has_finding = before.get("finding").is_some();
    // The finding first: it lies above `expect:` or below it, and the
    // check items are found again after.
    if own_stub {
        let span = doc.top_block("finding").ok_or_else(|| anyhow::anyhow!("cannot find the `finding:` stub"))?;
        doc.splice(span, stub.map(stub_lines).unwrap_or_default());
    } else if let (Some(stub), false) = (stub, has_finding) {
        let at = doc.top_key("experiments").or_else(|| doc.top_key("expect")).unwrap_or(doc.lines.len());
        doc.splice(at..at, stub_lines(stub));
    }
    let items = doc.expect_items()?;
    anyhow::ensure!(
        items.len() == values.len(),
        "found {} checks under `expect:` for {} expectations; is every check a `- ` item on lines of its own?",
        items.len(),
        values.len()
    );
    for (&(start, end), value) in items.iter().zip(values).rev() {
        set_recorded(&mut doc, start, end, value)?;
    }
    let edited = doc.text();
    prove(&before, &edited, values, if own_stub || !has_finding { Some(stub) } else { None })?;
    Ok(edited)
}

/// Whether `finding` reads as the stub `record` writes (its own to replace).
pub fn is_stub(finding: &str) -> bool {
    finding.starts_with(STUB_START) && finding.ends_with(STUB_END) && finding.matches(STUB_END).count() == 1
}

fn stub_lines(stub: &str) -> Vec<String> {
    vec!["finding: >-".to_string(), format!("  {stub}")]
}

/// The edited file must parse to `before` with only the `recorded` values
/// (and the stub, where `stub` is `Some`: record's to set) changed.
fn prove(
    before: &serde_yaml::Value,
    edited: &str,
    values: &[String],
    stub: Option<Option<&str>>,
) -> anyhow::Result<()> {
    use serde_yaml::Value;
    let after: Value = serde_yaml::from_str(edited)
        .map_err(|e| anyhow::anyhow!("the edited file would not parse ({e}); {}", BY_HAND))?;
    let mut expected = before.clone();
    let checks = expected.get_mut("expect").and_then(Value::as_sequence_mut);
    for (check, value) in checks.into_iter().flatten().zip(values) {
        let parsed: Value = serde_yaml::from_str(value)?;
        check.as_mapping_mut().map(|m| m.insert("recorded".into(), parsed));
    }
    if let (Some(stub), Some(top)) = (stub, expected.as_mapping_mut()) {
        match stub {
            Some(text) => top.insert("finding".into(), text.into()),
            None => top.remove("finding"),
        };
    }
    anyhow::ensure!(after == expected, "the edit would change more than the recorded states; {BY_HAND}");
    Ok(())
}

const BY_HAND: &str =
    "nothing is written: the file's layout is one record cannot edit safely; set each check's `recorded:` by hand";

/// A claim file's lines, each with its own line ending (kept as found; a
/// line record adds takes the file's first one).
struct Doc {
    lines: Vec<String>,
    ends: Vec<String>,
    eol: String,
}

impl Doc {
    fn new(text: &str) -> Self {
        let eol = if text.split('\n').next().is_some_and(|l| l.ends_with('\r')) { "\r\n" } else { "\n" };
        let (mut lines, mut ends) = (Vec::new(), Vec::new());
        for piece in text.split_inclusive('\n') {
            let body = piece.strip_suffix('\n').map_or(piece, |b| b.strip_suffix('\r').unwrap_or(b));
            ends.push(piece[body.len()..].to_string());
            lines.push(body.to_string());
        }
        Self { lines, ends, eol: eol.to_string() }
    }

    fn text(&self) -> String {
        self.lines.iter().zip(&self.ends).map(|(l, e)| format!("{l}{e}")).collect()
    }

    /// Replace lines `range` by `new`: a replaced line's ending goes to the
    /// line that takes its place; added lines get the file's.
    fn splice(&mut self, range: std::ops::Range<usize>, new: Vec<String>) {
        let old: Vec<String> = self.ends[range.clone()].to_vec();
        let ends: Vec<String> = (0..new.len()).map(|i| old.get(i).cloned().unwrap_or(self.eol.clone())).collect();
        self.lines.splice(range.clone(), new);
        self.ends.splice(range, ends);
        let last = self.ends.len().saturating_sub(1);
        for end in self.ends.iter_mut().take(last).filter(|e| e.is_empty()) {
            end.clone_from(&self.eol); // a line that was last is last no more
        }
    }

    /// The line of the top-level key `key`, proved by the parser: the
    /// candidate line renamed must rename the top-level key (a line
    /// `expect:` inside a quoted statement is not it).
    fn top_key(&self, key: &str) -> Option<usize> {
        let probe = format!("{key}__lockin_probe");
        let candidates = self.lines.iter().enumerate().filter(|(_, l)| l.starts_with(&format!("{key}:")));
        candidates.map(|(i, _)| i).find(|&i| {
            let mut lines = self.lines.clone();
            lines[i] = format!("{probe}{}", &lines[i][key.len()..]);
            let text: String = lines.iter().zip(&self.ends).map(|(l, e)| format!("{l}{e}")).collect();
            serde_yaml::from_str::<serde_yaml::Value>(&text).is_ok_and(|v| v.get(&probe).is_some())
        })
    }

    /// The lines of the top-level key `key` and its value: the key's line
    /// and the indented or blank lines after it (trailing blanks left).
    fn top_block(&self, key: &str) -> Option<std::ops::Range<usize>> {
        let start = self.top_key(key)?;
        let mut end = start + 1;
        for (i, line) in self.lines.iter().enumerate().skip(start + 1) {
            if line.trim().is_empty() {
                continue;
            }
            if !line.starts_with([' ', '\t']) {
                break;
            }
            end = i + 1;
        }
        Some(start..end)
    }

    /// The line ranges [start, end) of the items of the top-level
    /// `expect:` list, written at any indentation (column 0 included).
    fn expect_items(&self) -> anyhow::Result<Vec<(usize, usize)>> {
        let head = self.top_key("expect").ok_or_else(|| anyhow::anyhow!("no `expect:` list"))?;
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut items: Vec<(usize, usize)> = Vec::new();
        let mut item_indent = None;
        for (i, line) in self.lines.iter().enumerate().skip(head + 1) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let dash = trimmed == "-" || trimmed.starts_with("- ");
            if indent(line) == 0 && !(dash && item_indent.is_none_or(|d| d == 0)) {
                break;
            }
            if dash && item_indent.is_none_or(|d| d == indent(line)) {
                item_indent = Some(indent(line));
                items.push((i, i + 1));
            } else if let Some(last) = items.last_mut() {
                last.1 = i + 1;
            }
        }
        Ok(items)
    }
}

/// Set `recorded: value` in the check written on lines [start, end).
fn set_recorded(doc: &mut Doc, start: usize, end: usize, value: &str) -> anyhow::Result<()> {
    let item = doc.lines[start..end].join("\n");
    let flow = item.trim_start().strip_prefix('-').is_some_and(|rest| rest.trim_start().starts_with('{'));
    if flow {
        let edited = set_in_flow(&item, value)
            .ok_or_else(|| anyhow::anyhow!("line {}: cannot place `recorded:` in this check; {BY_HAND}", start + 1))?;
        let new: Vec<String> = edited.split('\n').map(String::from).collect();
        doc.splice(start..end, new);
        return Ok(());
    }
    let existing = (start..end).find(|&i| doc.lines[i].trim_start().trim_start_matches("- ").starts_with("recorded:"));
    match existing {
        Some(i) => {
            let at = doc.lines[i].find("recorded:").expect("found above") + "recorded:".len();
            let line = &doc.lines[i];
            let rest = &line[at..];
            let length = value_length(rest.trim_start()).unwrap_or(rest.trim_start().len());
            let skipped = rest.len() - rest.trim_start().len();
            let space = if skipped == 0 { " " } else { &rest[..skipped] };
            doc.lines[i] = format!("{}{space}{value}{}", &line[..at], &rest[skipped + length..]);
        }
        None => {
            // Keys line up with the item's first key (after `- `), or with
            // its second line's where the dash stands alone.
            let first = &doc.lines[start];
            let key_indent = match first.trim_start() {
                "-" => doc.lines.get(start + 1).map_or(2, |l| l.len() - l.trim_start().len()),
                _ => first.find('-').map_or(0, |i| i + 1 + first[i + 1..].len() - first[i + 1..].trim_start().len()),
            };
            doc.splice(start + 1..start + 1, vec![format!("{}recorded: {value}", " ".repeat(key_indent))]);
        }
    }
    Ok(())
}

/// The length of the YAML value token at the start of `rest`: a flow map
/// or list to its closing bracket, else a plain word.
fn value_length(rest: &str) -> Option<usize> {
    match rest.chars().next()? {
        '{' => Some(rest.find('}')? + 1),
        '[' => {
            // A list of per-tier maps closes at the `]` after the last `}`.
            let close = rest.find(']')?;
            Some(close + 1)
        }
        _ => Some(rest.find([',', '}', ' ', '#']).unwrap_or(rest.len())),
    }
}

/// A one-line (or several-line) flow map `- {...}` with `recorded:` set:
/// an existing value replaced, or the key added before the closing brace.
fn set_in_flow(item: &str, value: &str) -> Option<String> {
    if let Some(at) = item.find("recorded:") {
        let rest = item[at + "recorded:".len()..].trim_start();
        let skipped = item.len() - rest.len();
        let length = value_length(rest)?;
        return Some(format!("{}recorded: {value}{}", &item[..at], &item[skipped + length..]));
    }
    let close = item.rfind('}')?;
    let body = item[..close].trim_end();
    Some(format!("{body}, recorded: {value}{}", &item[body.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_checks_get_a_recorded_key_or_a_new_value() {
        let one = "  - {quantity: a.fired_fraction, tolerance: {equals: 0}}";
        assert_eq!(
            set_in_flow(one, "fails").unwrap(),
            "  - {quantity: a.fired_fraction, tolerance: {equals: 0}, recorded: fails}"
        );
        let again = "  - {quantity: q, tolerance: {abs: 1}, recorded: {quick: holds, paper: fails}}  # note";
        assert_eq!(
            set_in_flow(again, "holds").unwrap(),
            "  - {quantity: q, tolerance: {abs: 1}, recorded: holds}  # note"
        );
        let list = "  - {quantity: \"g[*].x\", recorded: [holds, fails], tolerance: {abs: 1}}";
        assert_eq!(
            set_in_flow(list, "[fails, fails]").unwrap(),
            "  - {quantity: \"g[*].x\", recorded: [fails, fails], tolerance: {abs: 1}}"
        );
    }

    const HEAD: &str = "id: T1\nstatement: >-\n  words\nexperiments: {}\n";
    const STUB: &str =
        "Recorded by `cargo xtask record`: a 3 against 1 ± 1 (fails) (quick tier). Say here what this means.";

    fn stub_block(eol: &str) -> String {
        format!("finding: >-{eol}  {STUB}{eol}")
    }

    /// `record` on each YAML style the loader accepts: the file reads the
    /// same but for its own tokens and lines (`recorded:` values, the stub).
    #[test]
    fn each_yaml_style_changes_only_records_own_lines() {
        let values = ["fails".to_string(), "holds".to_string()];
        let cases = [
            (
                "expect:\n  - {quantity: a, tolerance: {abs: 1}}   # why\n  - {quantity: b,\n     tolerance: {abs: 1} }\n",
                "expect:\n  - {quantity: a, tolerance: {abs: 1}, recorded: fails}   # why\n  - {quantity: b,\n     tolerance: {abs: 1}, recorded: holds }\n",
            ),
            (
                "expect:\n  # first\n  -   quantity: a\n      tolerance: {abs: 1}\n\n  - quantity: b\n    tolerance:   {abs: 1}\n",
                "expect:\n  # first\n  -   quantity: a\n      recorded: fails\n      tolerance: {abs: 1}\n\n  - quantity: b\n    recorded: holds\n    tolerance:   {abs: 1}\n",
            ),
            (
                "expect:\n- quantity: a\n  tolerance: {abs: 1}\n- {quantity: b, tolerance: {abs: 1}}\n",
                "expect:\n- quantity: a\n  recorded: fails\n  tolerance: {abs: 1}\n- {quantity: b, tolerance: {abs: 1}, recorded: holds}\n",
            ),
            (
                "expect:\n  -\n    quantity: a\n    tolerance: {abs: 1}\n  - quantity: b\n    recorded: fails   # was\n    tolerance: {abs: 1}",
                "expect:\n  -\n    recorded: fails\n    quantity: a\n    tolerance: {abs: 1}\n  - quantity: b\n    recorded: holds   # was\n    tolerance: {abs: 1}",
            ),
        ];
        for (body, want) in cases {
            for eol in ["\n", "\r\n"] {
                let (text, want) =
                    (format!("{HEAD}{body}").replace('\n', eol), format!("{HEAD}{want}").replace('\n', eol));
                let edited = edit(&text, &values, Some(STUB)).unwrap();
                let want = want.replacen("experiments:", &format!("{}experiments:", stub_block(eol)), 1);
                assert_eq!(edited, want, "{body:?} with {eol:?}");
                assert_eq!(edit(&edited, &values, Some(STUB)).unwrap(), edited, "a second record changes nothing");
            }
        }
        // Mixed endings: each line keeps its own.
        let text = format!("{HEAD}expect:\r\n  - {{quantity: a}}\n  - {{quantity: b}}\r\n");
        let edited = edit(&text, &values, None).unwrap();
        assert!(
            edited.ends_with("expect:\r\n  - {quantity: a, recorded: fails}\n  - {quantity: b, recorded: holds}\r\n")
        );
    }

    /// B1: a line added under the stub (or the stub reflowed by an
    /// editor) moved into the key before it. B2: a stub edited as asked,
    /// keeping its first words, was replaced by a fresh one.
    #[test]
    fn a_finding_the_author_touched_is_never_replaced() {
        let values = ["fails".to_string()];
        let checks = "expect:\n  - {quantity: a, recorded: fails}\n";
        let file = |finding: &str| format!("id: T1\nfinding: >-\n{finding}\nexperiments: {{}}\n{checks}");
        let added = file(&format!("  {STUB}\n  The detector fires late because the window is short."));
        let edited_stub =
            file("  Recorded by `cargo xtask record`: a 3 against 1 ± 1. It misses by two units: the paper rounds.");
        for text in [&added, &edited_stub] {
            assert_eq!(
                &edit(text, &values, Some("Recorded by `cargo xtask record`: new. Say here what this means.")).unwrap(),
                text
            );
            assert_eq!(&edit(text, &values, None).unwrap(), text, "kept when every check holds");
        }
        // Its own stub, even reflowed, is replaced whole; nothing leaks.
        let reflowed = file(
            "  Recorded by `cargo xtask record`: a 3 against 1 ± 1 (fails)\n  (quick tier). Say here what this means.",
        );
        let new = "Recorded by `cargo xtask record`: a 4 (fails). Say here what this means.";
        let edited = edit(&reflowed, &values, Some(new)).unwrap();
        assert_eq!(edited, file(&format!("  {new}")));
        assert_eq!(edit(&reflowed, &values, None).unwrap(), format!("id: T1\nexperiments: {{}}\n{checks}"));
    }

    /// A value as record writes it: flow style, on one line.
    fn flow(v: &serde_yaml::Value) -> String {
        use serde_yaml::Value;
        match v {
            Value::Mapping(m) => {
                let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{}: {}", flow(k), flow(v))).collect();
                format!("{{{}}}", pairs.join(", "))
            }
            Value::Sequence(s) => format!("[{}]", s.iter().map(flow).collect::<Vec<_>>().join(", ")),
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other).unwrap().trim().to_string(),
        }
    }

    /// Every claim file of the checkout, recorded again with the states it
    /// holds, is left byte for byte as it is (the existing layouts load
    /// and edit unchanged).
    #[test]
    fn every_claim_file_records_its_own_states_unchanged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("claims");
        let mut edited = 0;
        for entry in
            std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let parsed: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let Some(checks) = parsed.get("expect").and_then(|e| e.as_sequence()) else { continue };
            let values: Vec<String> = checks.iter().map(|c| c.get("recorded").map_or("holds".into(), flow)).collect();
            let stub = parsed.get("finding").and_then(|f| f.as_str()).filter(|f| is_stub(f));
            let again = edit(&text, &values, stub).unwrap_or_else(|e| panic!("{}: {e:#}", entry.path().display()));
            // Where a check had no `recorded:`, `recorded: holds` is added
            // (a token before `}` or a line of its own), nothing else.
            let mut original = text.lines();
            for line in again.lines() {
                let token = line.replacen(", recorded: holds}", "}", 1);
                if line.trim() != "recorded: holds" {
                    let was = original.next().map(|l| l.replacen(", recorded: holds}", "}", 1));
                    assert_eq!(Some(token), was, "{}", entry.path().display());
                }
            }
            assert_eq!(original.next(), None);
            edited += 1;
        }
        assert_eq!(edited, 44, "claim files with checks");
    }

    /// B3: `recorded:` keys were written into a quoted statement holding
    /// a line `expect:` at column 0.
    #[test]
    fn only_the_top_level_expect_is_edited() {
        let text = "id: T1\nstatement: \"the paper says\nexpect:\n  - {quantity: fake}\"\nexperiments: {}\nexpect:\n  - {quantity: a}\n";
        let parsed: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        assert!(parsed["statement"].as_str().unwrap().contains("expect:"), "the test's premise");
        let edited = edit(text, &["holds".to_string()], None).unwrap();
        assert_eq!(edited, text.replace("{quantity: a}", "{quantity: a, recorded: holds}"));
        // A layout record cannot prove it edits right is refused, not guessed.
        let odd = "id: T1\nexpect:\n  - {quantity: a, reading: \"recorded: fails\"}\n";
        let err = edit(odd, &["holds".to_string()], None).unwrap_err().to_string();
        assert!(err.contains("nothing is written"), "{err}");
    }

    #[test]
    fn a_state_recorded_at_one_tier_keeps_the_other() {
        let (holds, fails) = ([CheckState::Holds], [CheckState::Fails]);
        assert_eq!(recorded_text(None, Some(&fails), None), "fails");
        assert_eq!(recorded_text(None, Some(&holds), Some(&fails)), "{quick: holds, paper: fails}");
        let both_hold = Recorded::One(TierState::Both(CheckState::Holds));
        assert_eq!(recorded_text(Some(&both_hold), None, Some(&fails)), "{quick: holds, paper: fails}");
        assert_eq!(recorded_text(Some(&both_hold), None, Some(&holds)), "holds");
        // Re-recording the quick tier replaces a plain record; it invents
        // no paper-tier state.
        assert_eq!(recorded_text(Some(&both_hold), Some(&fails), None), "fails");
        let split = Recorded::One(TierState::PerTier { quick: CheckState::Holds, paper: CheckState::Fails });
        assert_eq!(recorded_text(Some(&split), Some(&fails), None), "fails", "both now fail");
        assert_eq!(recorded_text(None, Some(&[CheckState::Holds, CheckState::Undefined]), None), "[holds, undefined]");
    }
}
