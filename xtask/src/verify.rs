//! `verify-claims` and `report`: judge the claims, write results and report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use lockin::claims::judge::Verdict;
use lockin::claims::results::{summary_line, write_results};
use lockin::claims::verify::{VerifyOptions, from_cache, verify};
use lockin::claims::{ClaimResult, Tier};
use lockin::report::elsewhere::Imported;
use lockin::report::table;
use lockin::report::write_report;
use lockin::{out, say};

use super::exit_code;

/// Where `verify-claims` writes a tier's results by default.
pub fn results_path(tier: lockin::claims::Tier) -> anyhow::Result<PathBuf> {
    Ok(lockin::project::output_dir("the results", "name them with --results FILE")?
        .join(format!("results-{}.json", tier.name())))
}

fn default_report() -> anyhow::Result<PathBuf> {
    Ok(lockin::project::output_dir("the report", "name its directory with --report DIR (`report`: --out DIR)")?
        .join("report"))
}

/// `path` if given, else `default()`.
fn or_default(path: Option<PathBuf>, default: impl FnOnce() -> anyhow::Result<PathBuf>) -> anyhow::Result<PathBuf> {
    path.map_or_else(default, Ok)
}

/// `verify-claims`: train what is missing (unless `cache_only`), judge,
/// write the results and the report, then print the table.
pub fn verify_claims(
    opts: VerifyOptions,
    results: Option<PathBuf>,
    report: Option<PathBuf>,
    cache_only: bool,
    extra: Extra,
) -> anyhow::Result<ExitCode> {
    // Read first: a bad --runs directory fails before anything is trained.
    let imported = extra.runs.as_deref().map(imported_runs).transpose()?;
    // Checked before anything trains.
    let results = or_default(results, || results_path(opts.tier))?;
    let report = or_default(report, default_report)?;
    for (flag, path) in [("--results", &results), ("--report", &report)] {
        let guarded = [("the claims directory", opts.claims_dir.as_path()), ("the run cache", opts.cache.root())];
        if let Some((what, dir)) = guarded.iter().find(|(_, dir)| inside(path, dir)) {
            // A bad command line (status 2), like clap's own errors.
            say!("error: {flag} {}: inside {what} {}; write it elsewhere", path.display(), dir.display());
            return Ok(ExitCode::from(2));
        }
    }
    let mut outcome = if cache_only { from_cache(&opts)? } else { verify(&opts)? };
    if outcome.is_empty() {
        bail!("no claim in {} matches {:?}", opts.claims_dir.display(), opts.select);
    }
    guard_snapshots(&opts, &mut outcome, extra.accept)?;
    // Judged before the report, which shows them.
    let elsewhere = match &imported {
        Some(imported) => judge_imported(&opts, &outcome, imported, &results, cache_only)?,
        None => Imported::default(),
    };
    // Results first: a closed output pipe ends the process at the table.
    write_file(&results, || write_results(&results, &outcome))?;
    let reported = write_file(&report, || write_report(&opts, &outcome, &elsewhere, &report))?;
    lockin::console::print_text(&table(&outcome));
    print_errors(&outcome, &reported.problems);
    out!("results: {}  report: {}", results.display(), report.join("REPORT.md").display());
    out!("{}", summary_line(&outcome));
    if imported.is_some() {
        print_imported(&elsewhere, &sibling(&results, "imported"));
    }
    if let Some(n) = extra.perturb {
        let fragility = lockin::claims::verify::fragility(&opts, n, &outcome)?;
        let path = sibling(&results, "fragility");
        let json = serde_json::to_string_pretty(&fragility)?;
        write_file(&path, || lockin::files::write_atomic(&path, json.as_bytes()))?;
        out!("\nFragility: each check's state under {n} seeded one-ulp perturbations of θ_0:");
        lockin::console::print_text(&lockin::report::fragility_table(&fragility));
        out!("fragility: {}", path.display());
    }
    Ok(worst(&outcome, &reported))
}

/// Compare each result with its tier's committed snapshot (README,
/// "Results"): a difference fails the claim, naming the lines that
/// differ. At the paper tier a missing snapshot is written, and with
/// `accept` a differing one is replaced; the quick tier's are `cargo
/// test`'s (insta) and only compared. Only the project's own claims on the
/// default backend have snapshots.
fn guard_snapshots(opts: &VerifyOptions, results: &mut [ClaimResult], accept: bool) -> anyhow::Result<()> {
    use lockin::report::snapshot::{self, Snapshot};
    let root = lockin::project::root();
    let own = opts.claims_dir.canonicalize().ok() == root.join("claims").canonicalize().ok();
    // Compared wherever they are; written only into the current checkout.
    let writable = lockin::project::current_root().is_some_and(|c| c.canonicalize().ok() == root.canonicalize().ok());
    if !own || opts.backend != lockin::backend::Backend::default() {
        return Ok(());
    }
    if accept && opts.tier == Tier::Quick {
        say!(
            "--accept records the paper tier's snapshots; nothing accepted: the quick tier's are `cargo test`'s \
             (`INSTA_UPDATE=always cargo test --test claims` re-records them)"
        );
    }
    let dir = snapshot::dir(&root, opts.tier);
    for r in results.iter_mut().filter(|r| matches!(r.verdict, Verdict::Pass | Verdict::Fail)) {
        let path = dir.join(format!("{}.snap", r.id));
        let now = Snapshot::of(r);
        let recorded = match path.exists().then(|| Snapshot::read(&path)).transpose() {
            Ok(recorded) => recorded,
            Err(e) if !(accept && opts.tier == Tier::Paper) => {
                r.verdict = Verdict::Fail;
                r.error = Some(format!("its snapshot cannot be read (re-record with --accept): {e:#}"));
                continue;
            }
            Err(_) => None,
        };
        match recorded {
            Some(old) if old == now => {}
            Some(old) if !(accept && opts.tier == Tier::Paper) => {
                let lines = now.differences(&old);
                r.verdict = Verdict::Fail;
                r.error = Some(format!(
                    "differs from {} (re-record with --accept if intended): {}",
                    path.display(),
                    lines.join(" | ")
                ));
            }
            _ if opts.tier == Tier::Paper && !writable => {
                say!("{}: not written (not inside this checkout; run inside it to record snapshots)", path.display());
            }
            _ if opts.tier == Tier::Paper => {
                std::fs::create_dir_all(&dir)?;
                let claim_file = Path::new(&r.path).strip_prefix(&root).unwrap_or(Path::new(&r.path));
                let text = now.text(
                    "cargo xtask verify-claims --tier paper",
                    &r.statement,
                    &claim_file.display().to_string(),
                )?;
                lockin::files::write_atomic(&path, text.as_bytes())?;
                say!("recorded {}", path.display());
            }
            _ => {}
        }
    }
    Ok(())
}

/// The runs imported into `dir` (`--runs`), each one that does not load
/// named on stderr; none at all is an error.
fn imported_runs(dir: &Path) -> anyhow::Result<Vec<lockin::external::ImportedRun>> {
    let (runs, broken) = lockin::external::ImportedRun::load_all(dir)?;
    for why in &broken {
        say!("--runs: left out: {why}");
    }
    if runs.is_empty() {
        bail!(
            "--runs {}: no imported run there (a subdirectory with imported.json, made by `lockin import`)",
            dir.display()
        );
    }
    Ok(runs)
}

/// What `verify-claims` does beyond verifying.
pub struct Extra {
    /// `--runs DIR`: judge the claims on imported runs too.
    pub runs: Option<PathBuf>,
    /// `--perturb N`: the fragility of each check.
    pub perturb: Option<u32>,
    /// `--accept`: record the paper tier's results as its snapshots.
    pub accept: bool,
}

/// `results` with `-what` added to its stem: `results-quick-imported.json`.
fn sibling(results: &Path, what: &str) -> PathBuf {
    let stem = results.file_stem().map_or("results".into(), |s| s.to_string_lossy());
    results.with_file_name(format!("{stem}-{what}.json"))
}

/// The selected claims on the imported runs, beside lockin's results,
/// written to RESULTS-imported.json (and printed by [`print_imported`]).
fn judge_imported(
    opts: &VerifyOptions,
    verified: &[ClaimResult],
    imported: &[lockin::external::ImportedRun],
    results: &Path,
    cache_only: bool,
) -> anyhow::Result<Imported> {
    let claims: Vec<_> = verified.iter().filter_map(|r| r.claim.as_deref().cloned()).collect();
    let runner =
        lockin::claims::Runner::new(opts.cache.clone(), opts.tier, opts.backend, Box::new(|_| Box::new(|_| {})));
    // lockin's side trains nothing with --cache-only.
    let runner = if cache_only { runner.cache_only() } else { runner };
    let lockin_run = |spec: &lockin::train::TrainSpec| runner.run_of(spec);
    let judged = lockin::claims::imported::judge(&claims, opts.tier, opts.backend, imported, &lockin_run);
    let path = sibling(results, "imported");
    let provenance: Vec<_> = imported.iter().map(|i| i.provenance.clone()).collect();
    let json = serde_json::json!({ "imported_runs": provenance, "claims": judged });
    write_file(&path, || lockin::files::write_atomic(&path, serde_json::to_string_pretty(&json)?.as_bytes()))?;
    Ok(Imported { provenance, judged })
}

/// The judgements on imported runs, after lockin's table.
fn print_imported(imported: &Imported, path: &Path) {
    let served = imported.judged.iter().filter(|j| j.result.is_some()).count();
    out!(
        "\nOn the {} imported runs ({served} of {} claims could be judged on them):",
        imported.provenance.len(),
        imported.judged.len()
    );
    lockin::console::print_text(&lockin::report::side_by_side(&imported.judged));
    out!("imported: {}", path.display());
}

/// Whether `path` (which may not exist yet) is `dir` or inside it.
fn inside(path: &Path, dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else { return false };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // The nearest existing ancestor, resolved, with the rest appended.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return false,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    resolved.extend(rest.iter().rev());
    resolved.starts_with(&dir)
}

/// `report`: the report from the cache alone.
pub fn report(opts: VerifyOptions, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let out = or_default(out, default_report)?;
    if !opts.cache.root().is_dir() {
        bail!("--cache {}: no such directory (run `cargo xtask verify-claims` first)", opts.cache.root().display());
    }
    let results = from_cache(&opts)?;
    if results.is_empty() {
        bail!("no claim in {} matches {:?}", opts.claims_dir.display(), opts.select);
    }
    let reported = write_file(&out, || write_report(&opts, &results, &Imported::default(), &out))?;
    print_errors(&results, &reported.problems);
    out!(
        "{}: {} claims, {} figures; {}",
        out.join("REPORT.md").display(),
        results.len(),
        reported.figures.len(),
        summary_line(&results)
    );
    Ok(worst(&results, &reported))
}

/// The exit status of a verification and its report: a figure that could
/// not be written is an error too.
fn worst(results: &[ClaimResult], reported: &lockin::report::Report) -> ExitCode {
    if reported.problems.is_empty() { exit_code(results) } else { ExitCode::from(super::status::ERROR) }
}

/// Every error in full (the table shortens them).
fn print_errors(results: &[ClaimResult], problems: &[String]) {
    for r in results.iter().filter(|r| r.verdict != Verdict::Pass) {
        if let Some(e) = &r.error {
            say!("{} {}: {e}", r.id, lockin::report::verdict_word(r.verdict));
        }
    }
    for r in results {
        if let Some(why) = &r.ill_posed {
            say!("{} ill-posed: {why}", r.id);
        }
        for warning in &r.measurement.warnings {
            say!("{} warning: {}", r.id, warning.message);
        }
    }
    for p in problems {
        say!("report: not written: {p}");
    }
}

/// Write `path` with the path named in any error.
fn write_file<T>(path: &Path, write: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    write().map_err(|e| anyhow::anyhow!("writing {}: {e:#}", path.display()))
}
