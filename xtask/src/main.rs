//! `cargo xtask`: the project's tasks (rust-analyzer's xtask pattern).
//! Thin: parse arguments, call the `lockin` library, set the exit status.
//! A task per file: `verify` (verify-claims, report), `plan` (plan,
//! train-planned), `bench`, `claim_files` (list-claims, new-claim, readme).
//!
//! Paths on the command line are the caller's (relative to the working
//! directory); defaults are in the checkout ([`lockin::project::root`]).

mod bench;
mod claim_files;
mod plan;
mod record;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::Tier;
use lockin::claims::verify::VerifyOptions;
use lockin::say;

/// Every epoch allocates tensors of 16–25 MB; glibc's malloc returns such
/// blocks to the OS and page-faults them back in each time. mimalloc keeps
/// them ([`lockin::allocator`]). Set by each binary, not by the library.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    about = "lockin's project tasks",
    after_help = "Exit status: 0 every claim passed; 1 a claim failed its recorded outcome; \
                  2 bad command line; 3 a claim could not be judged, or the task itself failed."
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

/// Which claims, at which tier, on which backend, with which cache.
#[derive(Args, Clone)]
struct Selection {
    /// quick: the fewer seeds each claim file gives its quick tier (what
    /// `cargo test` runs); paper: the paper's seeds.
    #[arg(long, value_enum, default_value = "paper")]
    tier: Tier,
    /// Claim ids or globs (repeatable), e.g. `--claim C02 --claim 'C1*'`.
    #[arg(long = "claim", value_parser = lockin::claims::verify::claim_pattern)]
    claims: Vec<String>,
    /// Backend of the runs.
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Run cache (default $LOCKIN_CACHE, else target/lockin/cache in the checkout).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Directory of claim files (default: the checkout's claims/).
    #[arg(long)]
    claims_dir: Option<PathBuf>,
    /// Runs trained (and claims judged) at once; the bits do not depend on
    /// it (default: one per core or one per two cores, whichever this
    /// machine's calibration projects to finish first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
}

impl Selection {
    /// The options, or an error where a default path cannot be used
    /// (outside a checkout, the cache must be named).
    fn options(self, fresh: bool, quiet: bool) -> anyhow::Result<VerifyOptions> {
        Ok(VerifyOptions {
            claims_dir: self.claims_dir.unwrap_or_else(lockin::claims::default_dir),
            tier: self.tier,
            backend: self.backend,
            select: self.claims,
            cache: Cache::at_or_default(self.cache)?,
            fresh,
            quiet,
            jobs: self.jobs.map(|n| n as usize),
        })
    }
}

#[derive(Subcommand)]
enum Task {
    /// Train what the claims need (cached) and judge every claim.
    VerifyClaims {
        #[command(flatten)]
        selection: Selection,
        /// Retrain the selected claims' runs even when cached.
        #[arg(long)]
        fresh: bool,
        /// Where to write the results (default target/lockin/results-TIER.json in the checkout).
        #[arg(long)]
        results: Option<PathBuf>,
        /// Where to write the report (REPORT.md, results.json, figures/;
        /// default target/lockin/report in the checkout).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Judge from the cache alone, training nothing (a missing run is an error).
        #[arg(long, conflicts_with = "fresh")]
        cache_only: bool,
        /// Also judge the claims on the runs imported into DIR (`lockin
        /// import`), beside lockin's own, and write RESULTS-imported.json.
        #[arg(long, value_name = "DIR")]
        runs: Option<PathBuf>,
        /// Re-verify N more times, every run started from a seeded one-ulp
        /// perturbation of its initial weights, and report per check how
        /// often its state changes (RESULTS-fragility.json).
        #[arg(long, value_name = "N", conflicts_with = "cache_only", value_parser = clap::value_parser!(u32).range(1..=100))]
        perturb: Option<u32>,
        /// Record the paper tier's results as its snapshots
        /// (snapshots/paper/ID.snap), replacing the ones that differ. Without
        /// it a difference from a committed snapshot fails the claim, and a
        /// claim without one gets one.
        #[arg(long)]
        accept: bool,
    },
    /// Regenerate the report from the run cache alone (never trains).
    Report {
        #[command(flatten)]
        selection: Selection,
        /// Output directory (default target/lockin/report in the checkout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the runs the selected claims need and the cache lacks to FILE,
    /// one JSON line each (index, cache key, FLOP, spec), for a cluster.
    Plan {
        /// The plan file to write.
        file: PathBuf,
        #[command(flatten)]
        selection: Selection,
        /// Measure this machine again for the wall-time estimate, even
        /// where its calibration is cached (docs/methods.md, "Cost").
        #[arg(long)]
        recalibrate: bool,
    },
    /// Train run I of a plan file into the cache (a Slurm array task).
    TrainPlanned {
        /// A plan file written by `plan`.
        file: PathBuf,
        /// The run's index in it.
        #[arg(long, value_name = "I")]
        index: usize,
        /// Run cache (default $LOCKIN_CACHE, else target/lockin/cache in the checkout).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Speed at paper scale: ms/epoch per phase, GEMM rate, arithmetic floor.
    Bench(bench::BenchArgs),
    /// Rewrite README.md's results table and list of misses from the
    /// committed snapshots of both tiers (snapshots/, snapshots/paper/).
    Readme {
        /// Write nothing; exit 1 when the README differs from the snapshots.
        #[arg(long)]
        check: bool,
    },
    /// List the claim files and whether they load.
    ListClaims {
        /// Directory of claim files (default: the checkout's claims/).
        #[arg(long)]
        claims_dir: Option<PathBuf>,
    },
    /// Judge claim ID and write each check's state into its file as
    /// `recorded:` (an open hypothesis becomes a guarded claim).
    Record(record::RecordArgs),
    /// Scaffold DIR/ID-new-claim.yaml from a template (a paper claim, a
    /// hypothesis of your own, or an observation).
    NewClaim {
        /// The new claim's id, e.g. C90.
        id: String,
        /// Directory of claim files (default: the checkout's claims/).
        #[arg(long)]
        claims_dir: Option<PathBuf>,
        /// Which template.
        #[arg(long, value_enum, default_value = "paper")]
        kind: claim_files::Template,
    },
}

/// The exit statuses (the `after_help` above; README, "The two commands").
mod status {
    /// A claim's verdict is `Fail`.
    pub const CLAIM_FAILED: u8 = 1;
    /// A claim is in `Error`, nothing could be checked (every claim
    /// skipped), or the task failed.
    pub const ERROR: u8 = 3;
}

/// The exit status of a verification: errors outrank failures.
fn exit_code(results: &[lockin::claims::ClaimResult]) -> ExitCode {
    use lockin::claims::judge::Verdict;
    let nothing_checked = results.iter().all(|r| r.verdict == Verdict::Skipped);
    if nothing_checked || results.iter().any(|r| r.verdict == Verdict::Error) {
        ExitCode::from(status::ERROR)
    } else if lockin::claims::results::succeeded(results) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(status::CLAIM_FAILED)
    }
}

/// Errors are the user's to read: the message and its causes, no backtrace.
fn main() -> ExitCode {
    lockin::allocator::keep_freed_pages();
    lockin::console::end_cleanly_on_output_errors(i32::from(status::ERROR));
    let cli: Cli = lockin::console::parse(status::ERROR);
    if let Some(note) = lockin::project::fallback_note() {
        say!("{note}");
    }
    let outcome = match cli.task {
        Task::VerifyClaims { selection, fresh, results, report, cache_only, runs, perturb, accept } => {
            let extra = verify::Extra { runs, perturb, accept };
            (selection.options(fresh, false))
                .and_then(|opts| verify::verify_claims(opts, results, report, cache_only, extra))
        }
        Task::Report { selection, out } => selection.options(false, true).and_then(|opts| verify::report(opts, out)),
        Task::Plan { file, selection, recalibrate } => {
            selection.options(false, true).and_then(|opts| plan::write_plan(&opts, &file, recalibrate))
        }
        Task::TrainPlanned { file, index, cache } => {
            Cache::at_or_default(cache).and_then(|cache| plan::train_planned(&cache, &file, index))
        }
        Task::Bench(args) => bench::run(args),
        Task::Readme { check } => claim_files::readme(check),
        Task::ListClaims { claims_dir } => claim_files::list(&claims_dir.unwrap_or_else(lockin::claims::default_dir)),
        Task::Record(args) => record::record(args),
        Task::NewClaim { id, claims_dir, kind } => claims_dir
            .map_or_else(
                || {
                    Ok(lockin::project::writable_root("a claim file", "name its directory with --claims-dir DIR")?
                        .join("claims"))
                },
                Ok,
            )
            .and_then(|dir| claim_files::new_claim(&id, &dir, kind)),
    };
    let work = outcome.unwrap_or_else(|e| {
        say!("error: {e:#}");
        ExitCode::from(status::ERROR)
    });
    lockin::console::finish(work, status::ERROR)
}
