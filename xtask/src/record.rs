//! `record ID`: judge one claim and write what its checks did into its file
//! as their `recorded:` states (docs/claims.md, "Open hypotheses"), turning
//! an open hypothesis into a guarded claim.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::judge::Verdict;
use lockin::claims::record::{observed_states, rewrite};
use lockin::claims::verify::{VerifyOptions, verify};
use lockin::claims::{Tier, load, load_dir};

/// What `record` judges, and where.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// The claim's id, e.g. C90.
    id: String,
    /// The tier whose states are recorded (the other tier's, if recorded
    /// before, are kept: a check whose states differ gets one per tier).
    #[arg(long, value_enum, default_value = "quick")]
    tier: Tier,
    /// Directory of claim files (default: the checkout's claims/).
    #[arg(long)]
    claims_dir: Option<PathBuf>,
    /// Run cache (default $LOCKIN_CACHE, else target/lockin/cache in the checkout).
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// Judge claim `args.id` (training what it needs) and rewrite its file.
pub fn record(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let dir = args.claims_dir.unwrap_or_else(lockin::claims::default_dir);
    let Some(claim) = load_dir(&dir)?.into_iter().filter_map(Result::ok).find(|c| c.raw.id == args.id) else {
        bail!("no claim `{}` loads from {} (`cargo xtask list-claims` lists them)", args.id, dir.display());
    };
    let options = VerifyOptions {
        claims_dir: dir,
        tier: args.tier,
        backend: Backend::default(),
        select: vec![args.id.clone()],
        cache: Cache::new(args.cache.unwrap_or_else(Cache::default_root)),
        fresh: false,
        quiet: false,
        jobs: lockin::jobs::default_jobs(),
    };
    let result = verify(&options)?.into_iter().next().context("the claim was not judged")?;
    if matches!(result.verdict, Verdict::Error | Verdict::Skipped) {
        bail!("{} could not be judged, so nothing is recorded: {}", args.id, result.error.unwrap_or_default());
    }
    let observed = observed_states(&claim, &result)?;
    let text = std::fs::read_to_string(&claim.path)?;
    let edited = rewrite(&text, &claim, &observed, &result)?;
    check_edit(&claim.path, &edited, &result)?;
    lockin::files::write_atomic(&claim.path, edited.as_bytes())?;
    println!("{}", lockin::report::table(std::slice::from_ref(&result)));
    println!("recorded {}'s states at the {} tier into {}", args.id, args.tier.name(), claim.path.display());
    if edited.contains("Say here what this means.") && !text.contains("Say here what this means.") {
        println!("a check does not hold: edit the `finding:` stub to say what was measured instead, and why");
    }
    Ok(ExitCode::SUCCESS)
}

/// The edited file must load, no longer be open, and record at the
/// result's tier what each check did: checked in a scratch copy before the
/// file is replaced.
fn check_edit(path: &std::path::Path, edited: &str, result: &lockin::claims::ClaimResult) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("lockin-record-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let copy = scratch.join(path.file_name().context("a claim file name")?);
    std::fs::write(&copy, edited)?;
    let loaded = load(&copy);
    std::fs::remove_dir_all(&scratch)?;
    let claim =
        loaded.map_err(|e| anyhow::anyhow!("the recorded file would not load, so it is left as it was: {e}"))?;
    anyhow::ensure!(!claim.is_open(), "the recorded file is still an open hypothesis; left as it was");
    let expected = &claim.at(result.tier).expect;
    anyhow::ensure!(expected.len() == result.checks.len(), "the recorded file has other checks; left as it was");
    for (check, observed) in expected.iter().zip(&result.checks) {
        anyhow::ensure!(
            check.quantity == observed.quantity && check.recorded == observed.state,
            "`{}` would be recorded as {:?}, not as observed ({:?}); the file is left as it was",
            check.quantity,
            check.recorded,
            observed.state
        );
    }
    Ok(())
}
