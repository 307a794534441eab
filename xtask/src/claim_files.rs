//! `list-claims`, `new-claim` and `readme`: the claim files and the README's table.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use lockin::claims::{Tier, load_dir};
use lockin::{out, say};

/// Which template `new-claim` starts from (docs/claims.md, "Kinds").
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// A statement of the paper, checked against measurement.
    Paper,
    /// Your own hypothesis: supported or refuted.
    Hypothesis,
    /// No claim, only a look at the quantities.
    Observation,
}

impl Template {
    fn text(self) -> &'static str {
        match self {
            Template::Paper => include_str!("claim-template.yaml"),
            Template::Hypothesis => include_str!("hypothesis-template.yaml"),
            Template::Observation => include_str!("observation-template.yaml"),
        }
    }
}

/// `list-claims`: every claim file and whether it loads (status 3 if one does not).
pub fn list(dir: &Path) -> anyhow::Result<ExitCode> {
    let rows: Vec<_> = load_dir(dir)?.into_iter().map(|e| e.map(|c| (outcome_words(&c), c))).collect();
    let broken = rows.iter().any(Result::is_err);
    let width = rows.iter().flatten().map(|(outcome, _)| outcome.chars().count()).max().unwrap_or(0);
    for row in rows {
        match row {
            Ok((outcome, c)) => {
                let kind = match c.raw.kind.label() {
                    "" => "paper",
                    kind => kind,
                };
                out!("{:<5} {kind:<16} {outcome:<width$} {}  ({})", c.raw.id, c.raw.title, c.path.display())
            }
            Err(e) => out!("ERROR {e}"),
        }
    }
    Ok(if broken { ExitCode::from(super::status::ERROR) } else { ExitCode::SUCCESS })
}

/// A claim's recorded outcome in its kind's words: a hypothesis is
/// supported or refuted, an observation checks nothing.
fn outcome_words(c: &lockin::claims::Claim) -> String {
    use lockin::claims::schema::ClaimKind;
    match c.raw.kind {
        _ if c.is_open() => "open (nothing recorded)".to_string(),
        ClaimKind::Hypothesis => {
            c.outcome.describe().replace("does-not-reproduce", "refuted").replace("reproduces", "supported")
        }
        ClaimKind::Observation => "observed (nothing checked)".to_string(),
        _ => c.outcome.describe(),
    }
}

/// `new-claim ID`: `DIR/ID-new-claim.yaml` from `template`, if the id is free.
pub fn new_claim(id: &str, dir: &Path, template: Template) -> anyhow::Result<ExitCode> {
    // A bad id is a bad command line (status 2), like clap's own errors.
    if let Err(why) = lockin::claims::schema::check_id(id) {
        say!("error: new-claim {id}: {why}");
        return Ok(ExitCode::from(2));
    }
    // `c01` beside `C01` would be two claims whose file names differ only in case.
    let taken = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.split(['-', '.']).next().is_some_and(|other| other.eq_ignore_ascii_case(id)));
    if let Some(name) = taken {
        bail!("claim id {id} is taken by {} (ids are compared without regard to case)", dir.join(name).display());
    }
    let path = dir.join(format!("{id}-new-claim.yaml"));
    // Never over a file of the user's (create_new), even one made meanwhile.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, template.text().replace("ID", id).as_bytes()))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    out!("wrote {}: edit it (and rename it {id}-slug.yaml, a slug of your own after `{id}-`), then", path.display());
    let own = dir.canonicalize().ok() == lockin::claims::default_dir().canonicalize().ok();
    let dir_flag = if own { String::new() } else { format!(" --claims-dir {}", dir.display()) };
    if template == Template::Hypothesis {
        out!(
            "  cargo xtask verify-claims{dir_flag} --claim {id} --tier quick   # open: supported, refuted or undetermined"
        );
        out!("  cargo xtask record {id}{dir_flag}                            # write its states: a guarded claim");
    } else if own {
        out!("  cargo test {id}   # and review its snapshot (cargo insta review)");
    } else {
        out!("  cargo xtask verify-claims{dir_flag} --claim {id} --tier quick");
    }
    Ok(ExitCode::SUCCESS)
}

/// `readme`: the README's results (its table, its list of misses and its
/// evidence) from both tiers' committed snapshots (`snapshots/`,
/// `snapshots/paper/`) and the claim files, and docs/tolerances.md and
/// docs/coverage.md from the claim files and their inventory. With `check`,
/// nothing is written: exit 1 when any file differs.
pub fn readme(check: bool) -> anyhow::Result<ExitCode> {
    let root = lockin::project::writable_root("the README", "run `cargo xtask readme` inside the checkout")?;
    let generated = generated_files(&root)?;
    let mut stale = 0;
    for (path, text, wanted) in &generated {
        if text == wanted {
            out!("{}: matches what the snapshots and claim files give", path.display());
        } else if check {
            stale += 1;
            show_difference(path, text, wanted);
        } else {
            lockin::files::replace_checked(path, text.as_bytes(), wanted.as_bytes())?;
            out!("{}: rewritten from the snapshots and claim files", path.display());
        }
    }
    Ok(if stale > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Each generated file: its path, its text now and the text it should have.
fn generated_files(root: &Path) -> anyhow::Result<Vec<(std::path::PathBuf, String, String)>> {
    use lockin::report::readme;
    let dir = root.join("claims");
    let loaded = lockin::claims::load_dir(&dir)?;
    let ids: Vec<&str> = loaded
        .iter()
        .filter_map(|c| match c {
            Ok(c) => Some(c.raw.id.as_str()),
            Err(e) => e.id.as_deref(), // a broken claim still owns its snapshots
        })
        .collect();
    let (quick, paper) = (snapshots(root, Tier::Quick, &ids)?, snapshots(root, Tier::Paper, &ids)?);
    let claims: Vec<_> = loaded.into_iter().filter_map(Result::ok).collect();
    let fragile = lockin::report::recorded_fragility(root, Tier::Paper);
    let recorded =
        lockin::report::recorded::Recorded { quick: &quick, paper: &paper, claims: &claims, fragile: &fragile };
    let read = |name: &str| -> anyhow::Result<(std::path::PathBuf, String)> {
        let path = root.join(name);
        let text = if path.exists() { lockin::files::read_regular(&path, 16 << 20)? } else { String::new() };
        Ok((path, text))
    };
    let mut files = Vec::new();
    let (path, text) = read("README.md")?;
    let wanted = readme::generate(&text, &recorded)?;
    files.push((path, text, wanted));
    let (path, text) = read("docs/tolerances.md")?;
    files.push((path, text, lockin::report::tolerances::document(&claims)?));
    if let Some(inventory) = lockin::claims::inventory::Inventory::load(&dir)? {
        let (path, text) = read("docs/coverage.md")?;
        files.push((path, text, lockin::report::coverage::document(&inventory, &claims)?));
    }
    Ok(files)
}

/// The lines `text` has and `wanted` lacks (-), and the reverse (+), ten
/// each; a pair that differs is shown from just before its first difference.
fn show_difference(path: &Path, text: &str, wanted: &str) {
    let stale: Vec<&str> = text.lines().filter(|l| !wanted.lines().any(|g| g == *l)).collect();
    let expected: Vec<&str> = wanted.lines().filter(|g| !text.lines().any(|l| l == *g)).collect();
    say!("{}: differs from what the snapshots and claim files give; run `cargo xtask readme`. Lines:", path.display());
    let from = |a: &str, b: &str| {
        let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        same.saturating_sub(60)
    };
    let short = |l: &str, skip: usize| {
        let shown: String = l.chars().skip(skip).take(240).collect();
        if skip > 0 { format!("…{shown}") } else { shown }
    };
    for (i, line) in stale.iter().take(10).enumerate() {
        say!("- {}", short(line, expected.get(i).map_or(0, |e| from(line, e))));
    }
    for (i, line) in expected.iter().take(10).enumerate() {
        say!("+ {}", short(line, stale.get(i).map_or(0, |s| from(s, line))));
    }
}

/// The snapshots of `tier` by claim id; one whose claim is not among `ids`
/// (an orphan: its claim was removed or renamed) is an error naming it.
fn snapshots(
    root: &Path,
    tier: Tier,
    ids: &[&str],
) -> anyhow::Result<std::collections::BTreeMap<String, lockin::report::snapshot::Snapshot>> {
    let files = lockin::report::snapshot::read_files(root, tier)?;
    if let Some((id, (_, path))) = files.iter().find(|(id, _)| !ids.contains(&id.as_str())) {
        bail!(
            "{}: a snapshot of {id}, which no claim file in {} has: remove it, or restore its claim",
            path.display(),
            root.join("claims").display()
        );
    }
    Ok(files.into_iter().map(|(id, (snapshot, _))| (id, snapshot)).collect())
}
