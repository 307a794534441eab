//! `cargo xtask`: the project's tasks (rust-analyzer's xtask pattern).
//! Thin: parse arguments, call the `lockin` library, set the exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::runner::{Verdict, summary_line, write_results};
use lockin::claims::verify::{VerifyOptions, from_cache, missing_runs, verify, write_report};
use lockin::claims::{Tier, default_dir, load_dir};
use lockin::report::table;

/// Every epoch allocates tensors of 16–25 MB; glibc's malloc returns such
/// blocks to the OS and page-faults them back in each time. mimalloc keeps
/// them (README, "Speed"). Set by each binary, not by the library.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "lockin's project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Train what the claims need (cached) and judge every claim.
    VerifyClaims {
        /// quick: 3 seeds per condition (what `cargo test` runs); paper: the paper's seeds.
        #[arg(long, value_enum, default_value = "paper")]
        tier: Tier,
        /// Claim ids or globs (repeatable), e.g. `--claim C02 --claim 'C1*'`.
        #[arg(long = "claim")]
        claims: Vec<String>,
        /// Backend of the runs.
        #[arg(long, value_enum, default_value = "flex")]
        backend: Backend,
        /// Run cache (default $LOCKIN_CACHE or target/lockin/cache).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Retrain the selected claims' runs even when cached.
        #[arg(long)]
        fresh: bool,
        /// Where to write the results (default target/lockin/results-TIER.json).
        #[arg(long)]
        results: Option<PathBuf>,
        /// Where to write the report (REPORT.md, results.json, figures/).
        #[arg(long, default_value = "target/lockin/report")]
        report: PathBuf,
        /// Directory of claim files (default: the project's claims/).
        #[arg(long)]
        claims_dir: Option<PathBuf>,
        /// Judge from the cache alone, training nothing (a missing run is an error).
        #[arg(long, conflicts_with_all = ["plan", "fresh"])]
        cache_only: bool,
        /// Write the runs the selected claims need and the cache lacks to FILE
        /// (one JSON line each: index, cache key, FLOP, spec) and stop; with
        /// --index, train that one run of FILE instead.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Train run I of the --plan file into the cache (a Slurm array task id).
        #[arg(long, value_name = "I", requires = "plan")]
        index: Option<usize>,
    },
    /// Regenerate the report from the run cache alone (never trains).
    Report {
        /// Tier whose runs to report.
        #[arg(long, value_enum, default_value = "paper")]
        tier: Tier,
        /// Backend of the runs.
        #[arg(long, value_enum, default_value = "flex")]
        backend: Backend,
        /// Run cache (default $LOCKIN_CACHE or target/lockin/cache).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "target/lockin/report")]
        out: PathBuf,
    },
    /// Speed at paper scale: ms/epoch per phase, GEMM rate, arithmetic floor.
    Bench {
        /// Backends to compare.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "ndarray,flex")]
        backends: Vec<Backend>,
        /// Repetitions (each a fresh run); medians are reported.
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Timed epochs per repetition (after 3 warm-up epochs).
        #[arg(long, default_value_t = 20)]
        epochs: usize,
        /// Moduli M to time (the scaling sweep's: 41,71,127).
        #[arg(long, value_delimiter = ',', default_value = "71")]
        moduli: Vec<usize>,
        /// Training fraction p (n = round(p·M²)).
        #[arg(long, default_value_t = 0.4)]
        train_fraction: f64,
        /// Also time the quick tier and this paper-tier claim (its runs), each
        /// from an empty cache on the first backend (≈ 5 + 4 minutes for C01).
        #[arg(long, value_name = "CLAIM")]
        tiers: Option<String>,
    },
    /// Rewrite README.md's results table from target/lockin/results-quick.json
    /// and results-paper.json (run `verify-claims` at both tiers first).
    Readme,
    /// List the claim files and whether they load.
    ListClaims,
    /// Scaffold claims/ID-new-claim.yaml from the template.
    NewClaim {
        /// The new claim's id, e.g. C12.
        id: String,
    },
}

const TEMPLATE: &str = include_str!("claim-template.yaml");

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is in the project").to_path_buf()
}

/// Print the benchmark table (the floor: docs/methods.md, "Cost", FLOPs at the GEMM rates
/// measured in the same run).
fn bench(backends: &[Backend], reps: usize, epochs: usize, moduli: &[usize], train_fraction: f64) {
    use lockin::bench::{epoch_flops, gemm_gflops, time_level, time_phases, time_side_by_side};
    use lockin::measure::stats::median;
    use lockin::model::Activation;
    use lockin::train::TrainSpec;
    println!(
        "{:<8} {:>4} {:>5} {:<5} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7} {:>8} {:>7} {:>8} {:>7} {:>7}",
        "backend",
        "M",
        "n",
        "σ",
        "forward",
        "test",
        "bwd+adam",
        "spectrum",
        "1 lane",
        "epoch",
        "worst",
        "2 runs",
        "floor",
        "ratio",
        "floor2",
        "ratio2",
        "ρ"
    );
    for &backend in backends {
        for &modulus in moduli {
            let base = TrainSpec { modulus, train_fraction, backend, ..TrainSpec::default() };
            let n = lockin::data::n_train(modulus, train_fraction);
            let shape = [n, base.width, modulus];
            let gflops = gemm_gflops(backend, shape, 1, 15);
            let gflops_two = gemm_gflops(backend, shape, 2, 15);
            let rho = time_level(&base, reps);
            for activation in [Activation::Sqr, Activation::Relu] {
                let spec = TrainSpec { activation, ..base.clone() };
                let runs: Vec<_> = (0..reps).map(|_| time_phases(&spec, 3, epochs)).collect();
                let med =
                    |f: &dyn Fn(&lockin::bench::PhaseTimes) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
                let flops = epoch_flops(&spec);
                let (floor, floor_two) = (flops / (gflops * 1e9) * 1e3, flops / (gflops_two * 1e9) * 1e3);
                let epoch = med(&|p| p.epoch);
                let side_by_side = median(&(0..reps).map(|_| time_side_by_side(&spec, 3, epochs)).collect::<Vec<_>>());
                println!(
                    "{:<8} {:>4} {:>5} {:<5} {:>8.1} {:>8.1} {:>9.1} {:>9.1} {:>8.1} {:>8.1} {:>7.1} {:>7.1} {:>8.1} {:>6.2}× {:>8.1} {:>6.2}× {:>7.1}",
                    backend.name(),
                    modulus,
                    n,
                    activation.name(),
                    med(&|p| p.forward),
                    med(&|p| p.evaluation),
                    med(&|p| p.backward_optimizer),
                    med(&|p| p.spectrum),
                    med(&|p| p.sequential()),
                    epoch,
                    runs.iter().map(|p| p.worst_epoch).fold(0.0, f64::max),
                    side_by_side,
                    floor,
                    epoch / floor,
                    floor_two,
                    epoch / floor_two,
                    rho
                );
            }
            println!(
                "{:<8} M = {modulus}: GEMM {shape:?} {gflops:.1} GFLOP/s on one lane, {gflops_two:.1} aggregate on \
                 two; one epoch = {:.2} GFLOP (docs/methods.md, Cost)",
                backend.name(),
                epoch_flops(&base) / 1e9
            );
        }
    }
    println!("(ms per epoch, medians over {reps} runs of {epochs} epochs at K = 2048, n = round(p·M²).");
    println!(" The phases run one after another; \"1 lane\" is their sum, \"epoch\" the two-lane epoch that");
    println!(
        " training runs, \"worst\" its slowest epoch in any run; \"2 runs\" two runs side by side, one lane each:\n \
         wall time ÷ epochs of both. floor = the"
    );
    println!(" epoch's FLOPs at the one-lane GEMM rate; floor2 at the two-lane rate;");
    println!(" ρ = one level-metric evaluation on the training pairs, ms.)");
}

/// Wall time of the quick tier (all claims) and of one paper-tier claim set,
/// each verified from an empty cache in a scratch directory.
fn bench_tiers(backend: Backend, paper_claim: &str) -> anyhow::Result<()> {
    for (tier, select) in [(Tier::Quick, Vec::new()), (Tier::Paper, vec![paper_claim.to_string()])] {
        let scratch = std::env::temp_dir().join(format!("lockin-bench-{}", std::process::id()));
        let opts = VerifyOptions {
            claims_dir: default_dir(),
            tier,
            backend,
            select,
            cache: Cache::new(scratch.clone()),
            fresh: false,
            quiet: true,
        };
        let t = std::time::Instant::now();
        let outcome = verify(&opts);
        let wall = t.elapsed().as_secs_f64();
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        let outcome = outcome?;
        if outcome.is_empty() {
            bail!("no claim matches {:?}", opts.select);
        }
        let what = if opts.select.is_empty() { "all claims".to_string() } else { opts.select.join(", ") };
        println!(
            "{} tier, {what}: {:.0} s ({:.1} min) from an empty cache; {}",
            tier.name(),
            wall,
            wall / 60.0,
            summary_line(&outcome)
        );
    }
    Ok(())
}

/// Where `verify-claims` writes a tier's results by default.
/// `verify-claims --plan FILE`: write the missing runs of the selected claims.
fn write_plan(opts: &VerifyOptions, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let entries = lockin::plan::write(path, &missing_runs(opts)?)?;
    let flop = entries.iter().fold(0.0, |total, e| total + e.flop); // an empty sum is 0, not −0
    let largest = entries.iter().map(|e| e.flop).fold(0.0, f64::max);
    println!(
        "{}: {} runs to train ({:.2e} FLOP in all, the largest {:.2e}); train run I with \
         `verify-claims --plan {} --index I`",
        path.display(),
        entries.len(),
        flop,
        largest,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `verify-claims --plan FILE --index I`: train one planned run into the cache.
fn train_planned(cache: &Cache, path: &std::path::Path, index: usize) -> anyhow::Result<ExitCode> {
    let entry = lockin::plan::entry(path, index)?;
    let start = std::time::Instant::now();
    let outcome =
        lockin::plan::train_entry(cache, &entry).with_context(|| format!("plan run {index} ({})", entry.key))?;
    let seconds = start.elapsed().as_secs_f64();
    match outcome {
        lockin::plan::Trained::Published => {
            println!("trained {} in {seconds:.1} s ({:.2e} FLOP)", entry.key, entry.flop)
        }
        lockin::plan::Trained::AlreadyCached => println!("cached {} (nothing trained here)", entry.key),
    }
    Ok(ExitCode::SUCCESS)
}

fn results_path(tier: Tier) -> PathBuf {
    PathBuf::from(format!("target/lockin/results-{}.json", tier.name()))
}

/// The claim results stored in a results file.
fn read_results(path: &std::path::Path) -> anyhow::Result<Vec<lockin::claims::ClaimResult>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (run `cargo xtask verify-claims` at that tier first)", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_value(json["claims"].clone()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Failure when any claim failed or is in error, or when nothing was
/// checked at all (every claim skipped: the backend is not in this build).
fn exit_code(results: &[lockin::claims::ClaimResult]) -> ExitCode {
    if lockin::claims::runner::succeeded(results) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Errors are the user's to read: the message and its causes, no backtrace.
fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`| head`) would
    // panic; the default action ends the process quietly instead.
    #[cfg(unix)]
    // SAFETY: resetting a signal to its default action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match run_task() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Every error in full (the table shortens them).
fn print_errors(results: &[lockin::claims::ClaimResult]) {
    for r in results.iter().filter(|r| r.verdict != Verdict::Pass) {
        if let Some(e) = &r.error {
            eprintln!("{} {}: {e}", r.id, lockin::report::verdict_word(r.verdict));
        }
    }
}

/// Write `path` with the path named in any error.
fn write_file(path: &std::path::Path, write: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    write().map_err(|e| anyhow::anyhow!("writing {}: {e:#}", path.display()))
}

fn run_task() -> anyhow::Result<ExitCode> {
    std::env::set_current_dir(project_root())?;
    match Cli::parse().task {
        Task::VerifyClaims {
            tier,
            claims,
            backend,
            cache,
            fresh,
            results,
            report,
            claims_dir,
            cache_only,
            plan,
            index,
        } => {
            let opts = VerifyOptions {
                claims_dir: claims_dir.unwrap_or_else(default_dir),
                tier,
                backend,
                select: claims,
                cache: Cache::new(cache.unwrap_or_else(Cache::default_root)),
                fresh,
                quiet: false,
            };
            match (plan, index) {
                (Some(plan), Some(index)) => return train_planned(&opts.cache, &plan, index),
                (Some(plan), None) => return write_plan(&opts, &plan),
                _ => {}
            }
            let outcome = if cache_only { from_cache(&opts)? } else { verify(&opts)? };
            if outcome.is_empty() {
                bail!("no claim matches {:?}", opts.select);
            }
            let results = results.unwrap_or_else(|| results_path(tier));
            // Results first: a closed output pipe ends the process at the table.
            write_file(&results, || write_results(&results, &outcome))?;
            write_file(&report, || write_report(&opts, &outcome, &report).map(|_| ()))?;
            print!("{}", table(&outcome));
            print_errors(&outcome);
            println!("results: {}  report: {}", results.display(), report.join("REPORT.md").display());
            println!("{}", summary_line(&outcome));
            Ok(exit_code(&outcome))
        }
        Task::Report { tier, backend, cache, out } => {
            let opts = VerifyOptions {
                claims_dir: default_dir(),
                tier,
                backend,
                select: Vec::new(),
                cache: Cache::new(cache.unwrap_or_else(Cache::default_root)),
                fresh: false,
                quiet: true,
            };
            if !opts.cache.root().is_dir() {
                bail!(
                    "--cache {}: no such directory (run `cargo xtask verify-claims` first)",
                    opts.cache.root().display()
                );
            }
            let results = from_cache(&opts)?;
            print_errors(&results);
            let figures =
                write_report(&opts, &results, &out).map_err(|e| anyhow::anyhow!("writing {}: {e:#}", out.display()))?;
            println!(
                "{}: {} claims, {} figures; {}",
                out.join("REPORT.md").display(),
                results.len(),
                figures.len(),
                summary_line(&results)
            );
            Ok(exit_code(&results))
        }
        Task::Bench { backends, reps, epochs, moduli, train_fraction, tiers } => {
            bench(&backends, reps, epochs, &moduli, train_fraction);
            if let (Some(claim), Some(&backend)) = (tiers, backends.first()) {
                bench_tiers(backend, &claim)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::Readme => {
            // A tier not yet verified shows as "—" in its column.
            let tier_results = |tier: Tier| {
                let path = results_path(tier);
                if path.exists() {
                    read_results(&path)
                } else {
                    eprintln!("note: {} is missing; its column shows —", path.display());
                    Ok(Vec::new())
                }
            };
            let (quick, paper) = (tier_results(Tier::Quick)?, tier_results(Tier::Paper)?);
            let readme = std::fs::read_to_string("README.md")?;
            let table = lockin::report::readme::table(&quick, &paper);
            lockin::files::write_atomic(
                "README.md".as_ref(),
                lockin::report::readme::splice(&readme, &table)?.as_bytes(),
            )?;
            println!("README.md: results table of {} claims rewritten", quick.len().max(paper.len()));
            Ok(ExitCode::SUCCESS)
        }
        Task::ListClaims => {
            let mut broken = false;
            for entry in load_dir(&default_dir())? {
                broken |= entry.is_err();
                match entry {
                    Ok(c) => println!(
                        "{:<5} {:<26} {}  ({})",
                        c.raw.id,
                        c.raw.outcome.describe(),
                        c.raw.title,
                        c.path.display()
                    ),
                    Err(e) => println!("ERROR {e}"),
                }
            }
            Ok(if broken { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Task::NewClaim { id } => {
            lockin::claims::schema::check_id(&id).map_err(anyhow::Error::msg)?;
            let taken = std::fs::read_dir(default_dir())?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .find(|name| name.split(['-', '.']).next() == Some(id.as_str()));
            if let Some(name) = taken {
                bail!("claim id {id} is taken by claims/{name}");
            }
            let path = default_dir().join(format!("{id}-new-claim.yaml"));
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            std::fs::write(&path, TEMPLATE.replace("ID", &id))?;
            println!("wrote {}: edit it, then `cargo test {id}` and review its snapshot", path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
