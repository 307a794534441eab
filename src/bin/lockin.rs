//! `lockin`: train one run (`lockin run`) or analyse its checkpoints
//! (`lockin theorem6`). Claims are verified by `cargo xtask verify-claims`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use lockin::backend::Backend;
use lockin::format::num;
use lockin::model::Activation;
use lockin::progress::epoch_reporter;
use lockin::runs::{Run, start_from_file, train_into};
use lockin::seeding::RngScheme;
use lockin::task::Task;
use lockin::theorem6_store::sign_rule_of_checkpoint;
use lockin::train::TrainSpec;
use lockin::train::loss::Loss;
use lockin::train::optimizer::Optimizer;
use lockin::{out, say};

/// Every epoch allocates tensors of 16–25 MB; glibc's malloc returns such
/// blocks to the OS and page-faults them back in each time. mimalloc keeps
/// them ([`lockin::allocator`]). Set by each binary, not by the library.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(version, about = "Reproducibility harness for arXiv:2605.08119 (feature repulsion and spectral lock-in)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one run (docs/methods.md, "Setup") and write its directory: spec.json, metrics.csv,
    /// summary.json, checkpoints.
    Run(RunArgs),
    /// Theorem 6 sign rule (docs/methods.md, "Theorem 6") on a run's checkpoints.
    Theorem6 {
        /// A run directory written by `lockin run` (or the cache).
        #[arg(long)]
        run: PathBuf,
        /// Checkpoint epochs to analyse (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "50,100,175,250,300")]
        epochs: Vec<usize>,
        /// Number of top pairs by |cosine similarity|.
        #[arg(long, default_value_t = 200)]
        pairs: usize,
    },
    /// Import the log of a run made elsewhere (the paper's PyTorch script,
    /// another framework, another device) as a run the claims can judge
    /// (`cargo xtask verify-claims --runs DIR`; docs/methods.md, "Runs made elsewhere").
    Import(ImportArgs),
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
struct ImportArgs {
    /// The log: a CSV with named columns (`epoch` and any of metrics.csv's,
    /// e.g. the paper code's W_sigma1), or the paper script's log.jsonl.
    #[arg(long)]
    log: PathBuf,
    /// The paper script's config.json (M, K, eta, lr, seed, window, n_train).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The run directory to write (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// What made the log, e.g. "PyTorch 2.15, tian_eigengap.py".
    #[arg(long)]
    framework: String,
    /// Where it ran, e.g. "CPU, 2 threads" or "Apple M4 (MPS)".
    #[arg(long)]
    device: String,
    /// σ (unless the config gives it; any case).
    #[arg(long, value_enum, ignore_case = true)]
    activation: Option<Activation>,
    /// Weight decay η.
    #[arg(long)]
    eta: Option<f64>,
    /// Seed (the paper's seeds: PyTorch's streams).
    #[arg(long)]
    seed: Option<u64>,
    /// M.
    #[arg(long)]
    modulus: Option<usize>,
    /// K.
    #[arg(long)]
    width: Option<usize>,
    /// Training pairs.
    #[arg(long)]
    n_train: Option<usize>,
    /// The optimiser's learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Window Wn of the update spectrum.
    #[arg(long)]
    window: Option<usize>,
    /// The task the run learned (docs/methods.md, "Tasks"; default add): a
    /// built-in name, `poly:EXPR` or `table:FILE`.
    #[arg(long, value_parser = Task::parse)]
    task: Option<Task>,
    /// Whose generator drew the split and θ_0: torch (the paper's seeds, the
    /// default), chacha (lockin's), or external (any other, e.g. numpy's:
    /// then seed s is no claim's seed s).
    #[arg(long, value_enum, ignore_case = true)]
    seeding: Option<Seeding>,
    /// The optimiser (default adam, the paper's).
    #[arg(long, value_enum, ignore_case = true)]
    optimizer: Option<Optimizer>,
    /// SGD's momentum μ.
    #[arg(long)]
    momentum: Option<f64>,
    /// The loss (default mse, the paper's).
    #[arg(long, value_enum, ignore_case = true)]
    loss: Option<Loss>,
    /// Fraction of the training labels replaced (default 0).
    #[arg(long)]
    label_noise: Option<f64>,
}

/// `lockin import --seeding`: the run schemes and `external`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Seeding {
    Torch,
    Chacha,
    External,
}

impl Seeding {
    fn scheme(self) -> RngScheme {
        match self {
            Seeding::Torch => RngScheme::Torch,
            Seeding::Chacha => RngScheme::Chacha,
            Seeding::External => RngScheme::External,
        }
    }
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let conditions = lockin::external::Conditions {
        activation: args.activation,
        eta: args.eta,
        seed: args.seed,
        modulus: args.modulus,
        width: args.width,
        n_train: args.n_train,
        lr: args.lr,
        window: args.window,
        task: args.task,
        rng: args.seeding.map(Seeding::scheme),
        optimizer: args.optimizer,
        momentum: args.momentum,
        loss: args.loss,
        label_noise: args.label_noise,
    };
    let run = lockin::external::import(
        &args.log,
        args.config.as_deref(),
        conditions,
        &args.framework,
        &args.device,
        &args.out,
    )?;
    let p = &run.provenance;
    out!("imported run    {}", run.run.dir.display());
    out!("from            {} ({}, hash {})", p.file, p.format, p.file_hash);
    out!("columns         {}", p.columns.join(", "));
    if !p.ignored.is_empty() {
        out!("not read        {}", p.ignored.join(", "));
    }
    let spec = &run.run.spec;
    out!("rows            0..={}", spec.epochs);
    out!("task            {} (M = {}, n = {})", spec.task, spec.modulus, spec.n_train());
    out!("seeding         {}", spec.rng.name());
    out!("training        {}", training_of(spec));
    Ok(())
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
struct RunArgs {
    /// σ: sqr (x², the paper's), relu, or the paper script's other choices gelu, silu, relusqr (any case).
    #[arg(long, value_enum, default_value = "sqr", ignore_case = true)]
    activation: Activation,
    /// Weight decay η (coupled L2 for adam and sgd, decoupled for adamw; not the learning rate).
    #[arg(long, default_value_t = TrainSpec::default().eta)]
    eta: f64,
    /// Seed of the split and the init.
    #[arg(long, default_value_t = TrainSpec::default().seed)]
    seed: u64,
    /// Seeding scheme: torch (PyTorch's streams, so seed s is the paper's seed s) or chacha.
    #[arg(long, value_enum, default_value = "torch")]
    rng: RngScheme,
    /// E, full-batch steps.
    #[arg(long, default_value_t = TrainSpec::default().epochs)]
    epochs: usize,
    /// Wn, the rolling window of updates.
    #[arg(long, default_value_t = TrainSpec::default().window)]
    window: usize,
    /// The optimiser's learning rate.
    #[arg(long, default_value_t = TrainSpec::default().lr)]
    lr: f64,
    /// M, the modulus [default: 71; a table's order with --task table:FILE].
    #[arg(long)]
    modulus: Option<usize>,
    /// The task (docs/methods.md, "Tasks"): add ((a + b) mod M, the paper's), sub, mul, div
    /// (a · b⁻¹ mod M, M prime; pairs with b = 0 left out), poly:EXPR (a polynomial in a and b
    /// mod M, e.g. poly:x^2+x*y+y^2) or table:FILE (a Cayley table; M is its order).
    #[arg(long, default_value = "add", value_parser = lockin::task::Task::parse)]
    task: lockin::task::Task,
    /// The optimiser (docs/methods.md, "Optimisers"): adam (PyTorch's Adam, weight decay
    /// coupled; the paper's), adamw (decoupled decay) or sgd (with --momentum).
    #[arg(long, value_enum, default_value = "adam", ignore_case = true)]
    optimizer: Optimizer,
    /// SGD's momentum μ (PyTorch's default 0; only with --optimizer sgd).
    #[arg(long, default_value_t = 0.0)]
    momentum: f64,
    /// The loss (docs/methods.md, "Losses"): mse (Tian's centred MSE, the paper's) or cross_entropy.
    #[arg(long, value_enum, default_value = "mse", ignore_case = true)]
    loss: Loss,
    /// Fraction of the training pairs trained on a wrong label, drawn from the seed
    /// (docs/methods.md, "Label noise"); test labels stay true.
    #[arg(long, default_value_t = 0.0)]
    label_noise: f64,
    /// K, the hidden width.
    #[arg(long, default_value_t = TrainSpec::default().width)]
    width: usize,
    /// Fraction of the task's pairs used for training (of the M² pairs; M·(M−1) for div).
    #[arg(long, default_value_t = TrainSpec::default().train_fraction)]
    train_fraction: f64,
    /// Epochs at which to save θ_e (comma-separated).
    #[arg(long, value_delimiter = ',')]
    checkpoints: Vec<usize>,
    /// Log the level metric ρ (both definitions, level.csv) for epochs 0..=N.
    #[arg(long, value_name = "N")]
    level_until: Option<usize>,
    /// With --level-until: evaluate ρ every N epochs only.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "level_until", value_parser = clap::value_parser!(u64).range(1..))]
    level_every: u64,
    /// Experiment (docs/methods.md, "Collapse"): keep IEEE subnormals instead of
    /// flushing them to zero; recorded as the numerics scheme canonical-2-ieee-subnormals.
    #[arg(long)]
    ieee_subnormals: bool,
    /// Experiment: keep training after the network collapses (its epoch is still recorded).
    #[arg(long)]
    through_collapse: bool,
    /// The window Gram in f64 (default) or in f32, as the paper's code
    /// computes it (docs/methods.md, "Update spectrum").
    #[arg(long, value_enum, default_value = "f64")]
    gram: lockin::probes::spectrum::GramPrecision,
    /// Start from these weights (safetensors: W [K,2M], V [M,K], optional train_idx/test_idx).
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Backend.
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Output directory (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

/// Whether a run trains as the paper does: Adam, the centred MSE, true labels.
fn paper_training(spec: &TrainSpec) -> bool {
    spec.optimizer.is_adam() && spec.loss.is_mse() && spec.label_noise == 0.0
}

/// "sgd (momentum 0.9), cross_entropy, label noise 0.1".
fn training_of(spec: &TrainSpec) -> String {
    let mut parts = vec![match spec.optimizer {
        Optimizer::Sgd => format!("sgd (momentum {})", spec.momentum),
        other => other.name().to_string(),
    }];
    parts.push(spec.loss.name().to_string());
    if spec.label_noise != 0.0 {
        parts.push(format!("label noise {}", spec.label_noise));
    }
    parts.join(", ")
}

/// Which numerics scheme and kernel path computed a run's numbers.
fn numerics_line(spec: &TrainSpec) -> String {
    let scheme = lockin::numerics::scheme_of(spec.backend, spec.ieee_subnormals);
    match spec.backend {
        lockin::backend::Backend::Wgpu => format!("numerics        {scheme} (burn's GPU kernels, not canonical)"),
        _ => format!(
            "numerics        {scheme} (kernels: {}, canonical order)",
            lockin::numerics::KernelPath::current().name()
        ),
    }
}

/// `--out` must be free: not a run (complete or interrupted), not a
/// dangling symbolic link (the run could never be renamed onto it), so
/// nothing is trained for a directory that cannot take it.
fn check_out(out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() {
        let state = if Run::load(out).is_ok() { "a complete run" } else { "not a complete run (an interrupted one?)" };
        bail!("{} already exists and is {state}; choose a new --out directory or delete it", out.display());
    }
    if std::fs::symlink_metadata(out).is_ok() {
        bail!("{} is a symbolic link to nothing; choose a new --out directory", out.display());
    }
    Ok(())
}

fn run(args: RunArgs) -> anyhow::Result<u8> {
    args.backend.check_built()?;
    check_out(&args.out)?;
    let spec = spec_of(&args)?;
    let start = match &args.init_from {
        Some(path) => start_from_file(&spec, path)?,
        None => spec.seeded_start(),
    };
    let mut label = format!("{} eta={} seed={}", spec.activation.name(), spec.eta, spec.seed);
    if !spec.task.is_add() {
        label = format!("{} {label}", spec.task);
    }
    if !paper_training(&spec) {
        label = format!("{label} {}", training_of(&spec));
    }
    // Trained beside --out and renamed into place: a killed or failed run
    // (a full disk, a closed pipe) leaves no partial --out behind.
    lockin::files::sweep_beside(&args.out, "partial");
    let partial = lockin::files::staging_beside(&args.out, "partial");
    let owned = lockin::files::own_staging(&partial)?; // what the sweep of another run respects
    let trained = train_into(
        &partial,
        &spec,
        &start,
        args.init_from.as_deref(),
        &mut *epoch_reporter(label, spec.epochs, args.quiet),
    )
    .and_then(|_| lockin::files::publish_dir(&partial, &args.out, &lockin::files::staging_beside(&args.out, "aside")));
    lockin::files::release_staging(&partial, owned);
    trained?;
    let run = Run::load(&args.out)?;
    print_summary(&run);
    let s = &run.summary;
    Ok(if s.diverged_at.is_some() || s.collapsed_at.is_some() { RUN_ENDED_EARLY } else { 0 })
}

/// The run the flags ask for, validated (an error names the flag).
fn spec_of(args: &RunArgs) -> anyhow::Result<TrainSpec> {
    let spec = TrainSpec {
        modulus: args.modulus.or(args.task.order()).unwrap_or(TrainSpec::default().modulus),
        task: args.task.clone(),
        width: args.width,
        train_fraction: args.train_fraction,
        activation: args.activation,
        lr: args.lr,
        eta: args.eta,
        optimizer: args.optimizer,
        momentum: args.momentum,
        loss: args.loss,
        label_noise: args.label_noise,
        epochs: args.epochs,
        window: args.window,
        seed: args.seed,
        rng: args.rng,
        checkpoints: args.checkpoints.clone(),
        level: args.level_until.map(|until| lockin::train::LevelLog {
            until,
            stop_above: None,
            every: args.level_every as usize,
        }),
        backend: args.backend,
        ieee_subnormals: args.ieee_subnormals,
        through_collapse: args.through_collapse,
        gram: args.gram,
        perturb: None,
    };
    spec.validate().map_err(|e| {
        let flag = if e.field == "level" { "level-until".to_string() } else { e.field.replace('_', "-") };
        anyhow::anyhow!("--{flag}: {}", e.message)
    })?;
    Ok(spec)
}

/// The run's outcome and headline numbers, as `lockin run` ends.
fn print_summary(run: &Run) {
    let s = &run.summary;
    if let Some(epoch) = s.diverged_at {
        say!("DIVERGED: non-finite training loss at epoch {epoch}; the log stops there");
    }
    if let Some(epoch) = s.collapsed_at {
        let then =
            if run.spec.through_collapse { "training went on (--through-collapse)" } else { "the log stops there" };
        say!("COLLAPSED: every output below the targets' f32 resolution at epoch {epoch}; {then}");
    }
    out!("run directory   {}", run.dir.display());
    if !run.spec.task.is_add() {
        out!(
            "task            {} (M = {}, {} pairs)",
            run.spec.task.describe(),
            run.spec.modulus,
            run.spec.pair_count()
        );
    }
    if !paper_training(&run.spec) {
        out!("training        {}", training_of(&run.spec));
    }
    out!("{}", numerics_line(&run.spec));
    out!("fire epoch      {}", s.detection.fire_epoch.map_or("never fired".into(), |e| e.to_string()));
    out!(
        "max slope       {} at epoch {}",
        num(s.detection.max_slope),
        s.detection.max_slope_epoch.map_or("—".into(), |e| e.to_string())
    );
    // The late window is [200, 400], or what of it the run has.
    let last = run.metrics.rows.len().saturating_sub(1);
    match last {
        0..200 => out!("late gap23      — (the run ends at epoch {last}, before the late window [200, 400])"),
        200..400 => {
            out!("late gap23      {} (median over [200, {last}]: the run ends at {last})", num(s.late_gap23_median))
        }
        _ => out!("late gap23      {} (median over [200, 400])", num(s.late_gap23_median)),
    }
    let m = s.milestones;
    let at = |e: Option<usize>| e.map_or("never".into(), |e| e.to_string());
    out!("train acc = 1   {}", at(m.train_acc_1));
    out!("test acc ≥ 0.5  {}", at(m.test_acc_half));
    out!("test acc ≥ 0.99 {}", at(m.test_acc_99));
    out!("final acc       train {} test {}", num(s.final_train_acc), num(s.final_test_acc));
    out!("wall time       {:.1} s", s.wall_seconds);
    let t = s.epoch_times;
    out!(
        "epoch time      median {:.1} ms, slowest {:.1} ms (epoch {}, {:.1}× the median)",
        t.median_seconds * 1e3,
        t.slowest_seconds * 1e3,
        t.slowest_epoch,
        t.slowest_ratio()
    );
}

/// `lockin run`'s exit status when the run diverged or collapsed: it is
/// complete and recorded, but not a trained network (2 is a bad command line).
const RUN_ENDED_EARLY: u8 = 1;

/// Any other failure.
const ERROR: u8 = 3;

fn theorem6(dir: PathBuf, epochs: Vec<usize>, pairs: usize) -> anyhow::Result<()> {
    if pairs == 0 {
        bail!("--pairs: must be ≥ 1");
    }
    if !dir.is_dir() {
        bail!("--run {}: no such run directory", dir.display());
    }
    if dir.join("imported.json").exists() {
        bail!(
            "--run {}: an imported run (a log made elsewhere) has no weights; Theorem 6 needs a lockin run saved \
             with --checkpoints",
            dir.display()
        );
    }
    let run = Run::load(&dir)?;
    if run.spec.eta <= 0.0 {
        bail!("{}: η = 0; Theorem 6's B = (F̃ᵀF̃ + ηI)⁻¹ needs η > 0", dir.display());
    }
    // Every checkpoint asked for, before any line is printed.
    let missing: Vec<String> = epochs
        .iter()
        .filter(|e| !dir.join(lockin::runs::checkpoint_name(**e)).exists())
        .map(|e| e.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "--epochs: {} has no checkpoint at epoch {} (its checkpoints: {:?}; train with --checkpoints)",
            dir.display(),
            missing.join(", "),
            run.spec.checkpoints
        );
    }
    out!("epoch  published  (2nd route)  exact  full-proj  repulsion  (+pairs)  median|S|  B<0");
    for epoch in epochs {
        let r = sign_rule_of_checkpoint(&run, epoch, pairs).with_context(|| format!("epoch {epoch}"))?;
        out!(
            "{epoch:>5}  {:>9.3}  {:>11.3}  {:>5.3}  {:>9.3}  {:>9.3}  {:>8}  {:>9.3}  {:.3}",
            r.published_sign_match,
            r.published_sign_match_identity,
            r.exact_sign_match,
            r.full_projector_sign_match,
            r.repulsion_fraction,
            r.positive_pairs,
            r.median_abs_similarity,
            r.negative_b_fraction
        );
    }
    Ok(())
}

/// Errors are the user's to read: the message and its causes, no backtrace.
fn main() -> std::process::ExitCode {
    lockin::allocator::keep_freed_pages();
    lockin::console::end_cleanly_on_output_errors(i32::from(ERROR));
    let cli: Cli = lockin::console::parse(ERROR);
    let outcome = match cli.command {
        Command::Run(args) => run(args),
        Command::Theorem6 { run, epochs, pairs } => theorem6(run, epochs, pairs).map(|()| 0),
        Command::Import(args) => import(args).map(|()| 0),
    };
    let work = std::process::ExitCode::from(outcome.unwrap_or_else(|e| {
        say!("error: {e:#}");
        ERROR
    }));
    lockin::console::finish(work, ERROR)
}
