//! `record ID`: judge one claim and write what its checks did into its file
//! as their `recorded:` states (docs/claims.md, "Open hypotheses"), turning
//! an open hypothesis into a guarded claim.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::judge::Verdict;
use lockin::claims::record::{Observed, observed_states, rewrite};
use lockin::claims::verify::{VerifyOptions, verify};
use lockin::claims::{Tier, load_dir};
use lockin::out;

/// What `record` judges, and where.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// The claim's id, e.g. C90.
    id: String,
    /// Record one tier only (default: both, each judged: a check whose
    /// states differ gets one per tier). With one tier, the other keeps a
    /// per-tier record's part; a plain record is read as the quick tier's.
    #[arg(long, value_enum)]
    tier: Option<Tier>,
    /// Directory of claim files (default: the checkout's claims/).
    #[arg(long)]
    claims_dir: Option<PathBuf>,
    /// Run cache (default $LOCKIN_CACHE, else target/lockin/cache in the checkout).
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// Judge claim `args.id` at each tier asked (training what it needs) and
/// rewrite its file with the states observed.
pub fn record(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.claims_dir {
        Some(dir) => dir,
        None => {
            lockin::project::writable_root("a claim file", "name its directory with --claims-dir DIR")?.join("claims")
        }
    };
    let found = find(&dir, &args.id)?;
    // The text judged is the text edited: read once, before judging, and
    // replaced only if the file still holds it (an edit made while the
    // claim trains is never overwritten, nor judged under the old text).
    let text = lockin::files::read_regular(&found.path, lockin::claims::load::MAX_CLAIM_BYTES)?;
    let claim = lockin::claims::load::parse(&found.path, &text)
        .map_err(|e| anyhow::anyhow!("{} changed while it was read: {e}", found.path.display()))?;
    let tiers = args.tier.map_or(vec![Tier::Quick, Tier::Paper], |t| vec![t]);
    let mut observed = Vec::new();
    for tier in tiers {
        let options = VerifyOptions {
            claims_dir: dir.clone(),
            tier,
            backend: Backend::default(),
            select: vec![args.id.clone()],
            cache: Cache::at_or_default(args.cache.clone())?,
            fresh: false,
            quiet: false,
            jobs: None,
        };
        let result = verify(&options)?.into_iter().next().context("the claim was not judged")?;
        ensure_judged_as_read(&claim, &result)?;
        out!("{}", lockin::report::table(std::slice::from_ref(&result)));
        if matches!(result.verdict, Verdict::Error | Verdict::Skipped) {
            bail!(
                "{} could not be judged at the {} tier, so nothing is recorded: {}",
                args.id,
                tier.name(),
                result.error.unwrap_or_default()
            );
        }
        if let Some(why) = &result.ill_posed {
            bail!("{} is ill-posed at the {} tier, so nothing is recorded: {why}", args.id, tier.name());
        }
        warn_of_changes(&claim, &result);
        observed.push(Observed { tier, states: observed_states(&claim, &result)?, result });
    }
    let edited = rewrite(&text, &claim, &observed)?;
    check_edit(&claim.path, &edited, &observed)?;
    lockin::files::replace_checked(&claim.path, text.as_bytes(), edited.as_bytes())?;
    say_what_next(&args.id, &claim, &observed, &edited);
    Ok(ExitCode::SUCCESS)
}

/// What was recorded, and what is left to the author.
fn say_what_next(id: &str, claim: &lockin::claims::Claim, observed: &[Observed], edited: &str) {
    let judged: Vec<&str> = observed.iter().map(|o| o.tier.name()).collect();
    out!("recorded {}'s states at the {} tier into {}", id, judged.join(" and "), claim.path.display());
    if observed.len() == 1 {
        out!(
            "the other tier was not judged: its states were kept, or taken to be the same (`record {} --tier ...` judges it)",
            id
        );
    }
    let authors = claim.raw.finding.as_deref().filter(|f| !lockin::claims::record::is_stub(f));
    if authors.is_some() {
        out!("the `finding:` is yours and was left as it is: check that it still says what was measured");
    } else if edited.contains("Say here what this means.") {
        out!(
            "a check does not hold: replace the whole `finding:` stub (its last sentence included) with what was measured instead, and why"
        );
    }
}

/// The claim `id` of `dir`, or why it cannot be had (its load error).
fn find(dir: &std::path::Path, id: &str) -> anyhow::Result<lockin::claims::Claim> {
    let mut broken = Vec::new();
    for entry in load_dir(dir)? {
        match entry {
            Ok(c) if c.raw.id == id => return Ok(c),
            Err(e)
                if e.id.as_deref() == Some(id)
                    || e.path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(id)) =>
            {
                broken.push(e.to_string())
            }
            _ => {}
        }
    }
    match broken.first() {
        Some(e) => bail!("{id} does not load, so nothing is recorded:\n{e}"),
        None => bail!("no claim `{id}` in {} (`cargo xtask list-claims` lists them)", dir.display()),
    }
}

/// A recorded claim whose checks now do something else is re-recorded, and
/// says so: its record changes, not silently.
fn warn_of_changes(claim: &lockin::claims::Claim, result: &lockin::claims::ClaimResult) {
    if claim.is_open() {
        return;
    }
    for c in result.checks.iter().filter(|c| !c.as_recorded()) {
        out!(
            "note: `{}` was recorded as {} at the {} tier and now {}: its record changes",
            c.quantity,
            c.recorded.word(),
            result.tier.name(),
            c.state.word()
        );
    }
}

/// The claim `verify` judged (it loads the directory again) must be the
/// one read: a file edited in between is refused, naming it.
fn ensure_judged_as_read(claim: &lockin::claims::Claim, result: &lockin::claims::ClaimResult) -> anyhow::Result<()> {
    let judged = result.claim.as_deref().map(|c| &c.raw);
    anyhow::ensure!(
        judged.is_none_or(|raw| raw == &claim.raw),
        "{}: changed while it was judged (edited meanwhile?); nothing is recorded: run again",
        claim.path.display()
    );
    Ok(())
}

/// The edited file must load, no longer be open, and record at each tier
/// judged what each check did: parsed in memory before the file is
/// replaced (no scratch file anywhere).
fn check_edit(path: &std::path::Path, edited: &str, observed: &[Observed]) -> anyhow::Result<()> {
    let claim = lockin::claims::load::parse(path, edited)
        .map_err(|e| anyhow::anyhow!("the recorded file would not load, so it is left as it was: {e}"))?;
    anyhow::ensure!(!claim.is_open(), "the recorded file is still an open hypothesis; left as it was");
    for o in observed {
        let expected = &claim.at(o.tier).expect;
        anyhow::ensure!(expected.len() == o.result.checks.len(), "the recorded file has other checks; left as it was");
        for (check, seen) in expected.iter().zip(&o.result.checks) {
            anyhow::ensure!(
                check.quantity == seen.quantity && check.recorded == seen.state,
                "`{}` would be recorded as {} at the {} tier, not as observed ({}); the file is left as it was",
                check.quantity,
                check.recorded.word(),
                o.tier.name(),
                seen.state.word()
            );
        }
    }
    Ok(())
}
