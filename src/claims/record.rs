//! Recording what a claim's checks do (docs/claims.md, "Open hypotheses"):
//! the states a judgement observed, written into the claim file as each
//! check's `recorded:` (comments and layout kept), with a `finding` stub
//! where a check does not hold. An open hypothesis becomes a guarded claim.

use super::expectation::{CheckState, RawExpectation, Recorded, TierState};
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

/// The first line of the `finding` stub `record` writes.
const STUB: &str = "  Recorded by `cargo xtask record`";

/// `text` (the claim file) with each expectation's `recorded:` set to what
/// the judgements in `observed` (one per tier judged) say, and a `finding:`
/// stub when some check does not hold; a stub written earlier is replaced
/// (or dropped when every check holds), a finding of the author's kept.
/// Line endings are kept. Errors name what could not be placed.
pub fn rewrite(text: &str, claim: &Claim, observed: &[Observed]) -> anyhow::Result<String> {
    let ending = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let items = expect_items(&lines)?;
    anyhow::ensure!(
        items.len() == claim.raw.expect.len(),
        "found {} checks under `expect:` for {} expectations; is every check a `- ` item on lines of its own?",
        items.len(),
        claim.raw.expect.len()
    );
    let at = |tier: Tier, i: usize| observed.iter().find(|o| o.tier == tier).map(|o| o.states[i].as_slice());
    // From the last check up, so earlier line numbers stay valid.
    for (i, (e, &(start, end))) in claim.raw.expect.iter().zip(&items).enumerate().rev() {
        let value = recorded_text(e.recorded.as_ref(), at(Tier::Quick, i), at(Tier::Paper, i));
        set_recorded(&mut lines, start, end, e, &value)?;
    }
    let failing: Vec<String> = observed
        .iter()
        .flat_map(|o| {
            let tier = o.tier.name();
            o.result
                .checks
                .iter()
                .filter(|c| c.state != CheckState::Holds)
                .map(move |c| format!("{} ({tier} tier)", c.describe()))
        })
        .collect();
    let stub_at = lines
        .iter()
        .position(|l| l.starts_with("finding:"))
        .filter(|&f| lines.get(f + 1).is_some_and(|l| l.starts_with(STUB)));
    if let Some(f) = stub_at {
        lines.drain(f..f + 2);
    }
    if !failing.is_empty() && (claim.raw.finding.is_none() || stub_at.is_some()) {
        let at = lines.iter().position(|l| l.starts_with("experiments:")).unwrap_or(lines.len());
        lines.insert(
            at,
            format!("finding: >-\n{STUB}: {}. Say here what this means.", failing.join("; ")).replace('\n', ending),
        );
    }
    Ok(lines.join(ending) + ending)
}

/// The line ranges [start, end) of the items of the top-level `expect:` list.
fn expect_items(lines: &[String]) -> anyhow::Result<Vec<(usize, usize)>> {
    let head =
        lines.iter().position(|l| l.starts_with("expect:")).ok_or_else(|| anyhow::anyhow!("no `expect:` list"))?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut items: Vec<(usize, usize)> = Vec::new();
    let mut item_indent = None;
    for (i, line) in lines.iter().enumerate().skip(head + 1) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent(line) == 0 {
            break;
        }
        if trimmed.starts_with("- ") && item_indent.is_none_or(|d| d == indent(line)) {
            item_indent = Some(indent(line));
            if let Some(last) = items.last_mut() {
                last.1 = i;
            }
            items.push((i, i + 1));
        } else if let Some(last) = items.last_mut() {
            last.1 = i + 1;
        }
    }
    Ok(items)
}

/// Set `recorded: value` in the expectation `e` written on lines [start, end).
fn set_recorded(
    lines: &mut Vec<String>,
    start: usize,
    end: usize,
    e: &RawExpectation,
    value: &str,
) -> anyhow::Result<()> {
    let item = lines[start..end].join("\n");
    anyhow::ensure!(
        item.contains(&e.quantity),
        "the check of `{}` is not where expected (line {})",
        e.quantity,
        start + 1
    );
    let flow = item.trim_start().strip_prefix("- ").is_some_and(|rest| rest.starts_with('{'));
    if flow {
        let edited = set_in_flow(&item, value)
            .ok_or_else(|| anyhow::anyhow!("line {}: cannot place `recorded:` in this check", start + 1))?;
        lines.splice(start..end, edited.lines().map(String::from).collect::<Vec<_>>());
        return Ok(());
    }
    let key_indent = lines[start].find("- ").map_or(0, |i| i + 2);
    let existing = (start..end).find(|&i| lines[i].trim_start().trim_start_matches("- ").starts_with("recorded:"));
    match existing {
        Some(i) => {
            let at = lines[i].find("recorded:").expect("found above");
            lines[i] = format!("{}recorded: {value}", &lines[i][..at]);
        }
        None => lines.insert(start + 1, format!("{}recorded: {value}", " ".repeat(key_indent))),
    }
    Ok(())
}

/// A one-line (or several-line) flow map `- {...}` with `recorded:` set:
/// an existing value replaced, or the key added before the closing brace.
fn set_in_flow(item: &str, value: &str) -> Option<String> {
    if let Some(at) = item.find("recorded:") {
        let rest = item[at + "recorded:".len()..].trim_start();
        let skipped = item.len() - rest.len();
        let length = match rest.chars().next()? {
            '{' => rest.find('}')? + 1,
            '[' => rest.find(']')? + 1,
            _ => rest.find([',', '}']).unwrap_or(rest.len()),
        };
        return Some(format!("{}recorded: {value}{}", &item[..at], &item[skipped + length..]));
    }
    let close = item.rfind('}')?;
    Some(format!("{}, recorded: {value}{}", item[..close].trim_end(), &item[close..]))
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

    #[test]
    fn block_checks_get_a_line_at_their_keys_indentation() {
        let text = "expect:\n  # why\n  - quantity: treated.x\n    tolerance: {below: base.x}\n  - {quantity: y, tolerance: {abs: 1}}\nnext: 1";
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let items = expect_items(&lines).unwrap();
        assert_eq!(items, [(2, 4), (4, 5)]);
        let e: RawExpectation = serde_yaml::from_str("{quantity: treated.x, tolerance: {below: base.x}}").unwrap();
        set_recorded(&mut lines, 2, 4, &e, "undefined").unwrap();
        assert_eq!(lines[3], "    recorded: undefined");
        set_recorded(&mut lines, 2, 5, &e, "fails").unwrap();
        assert_eq!(lines[3], "    recorded: fails", "replaced, not added twice");
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
