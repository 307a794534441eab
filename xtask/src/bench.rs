//! `bench`: the speed benchmark (README, "Speed"). Timings are reported,
//! never asserted.

use anyhow::bail;
use clap::Args;
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::Tier;
use lockin::claims::results::summary_line;
use lockin::claims::verify::{VerifyOptions, verify};
use lockin::out;
use std::process::ExitCode;

/// `bench`'s options.
#[derive(Args)]
pub struct BenchArgs {
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
}

/// The benchmark table, then the tiers' wall times if asked.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let peak = table(&args.backends, args.reps, args.epochs, &args.moduli, args.train_fraction);
    limit(peak)?;
    if let (Some(claim), Some(&backend)) = (args.tiers, args.backends.first()) {
        tiers(backend, &claim)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The machine's FMA peak (GFLOP/s): one core, and the two cores an epoch's lanes use.
#[derive(Clone, Copy)]
struct Peak {
    one: f64,
    two: f64,
}

/// Measure and print the FMA peak, each epoch product's fraction of it,
/// and the epoch those products alone would make on two cores.
fn peak_and_products(reps: usize) -> Peak {
    use lockin::bench::{EPOCH_PRODUCTS, fma_peak_gflops, product_gflops, products_ceiling};
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (path, one) = fma_peak_gflops(1);
    let (_, all) = fma_peak_gflops(cores);
    out!("FMA peak ({}, register-only loop): {one:.1} GFLOP/s on one core, {all:.1} on all {cores}", path.name());
    let rates: Vec<f64> = EPOCH_PRODUCTS.iter().map(|product| product_gflops(product, reps.max(5))).collect();
    for (product, rate) in EPOCH_PRODUCTS.iter().zip(&rates) {
        out!(
            "product {} {:?} ({}): {rate:.1} GFLOP/s, {:.0} % of one core's peak",
            product.name,
            product.shape,
            product.form.name(),
            100.0 * rate / one
        );
    }
    let peak = Peak { one, two: (2.0 * one).min(all) };
    let ceiling = products_ceiling(&rates, one);
    let epoch_ms = lockin::bench::epoch_flops(&lockin::train::TrainSpec::default()) / (ceiling * peak.two) / 1e6;
    out!(
        "products' ceiling (M = 71): the epoch's products together at these fractions of the peak make {:.0} % of it \
         ({epoch_ms:.2} ms per epoch at that fraction of two cores' peak, were the fractions kept on both cores): \
         no epoch beats it while they keep these rates",
        100.0 * ceiling
    );
    peak
}

const COLUMNS: [&str; 19] = [
    "backend", "M", "n", "σ", "forward", "test", "bwd+adam", "spectrum", "1 lane", "epoch", "worst", "2 runs", "floor",
    "ratio", "floor2", "ratio2", "ρ", "%peak", "%peak2",
];

/// Print the benchmark table (the floor: docs/methods.md, "Cost", FLOPs at the GEMM rates
/// measured in the same run).
fn table(backends: &[Backend], reps: usize, epochs: usize, moduli: &[usize], train_fraction: f64) -> Peak {
    use lockin::bench::{epoch_flops, gemm_gflops, time_level};
    use lockin::model::Activation;
    use lockin::train::TrainSpec;
    let peak = peak_and_products(reps);
    out!("{:<8} {}", COLUMNS[0], COLUMNS[1..].iter().map(|c| format!("{c:>8}")).collect::<Vec<_>>().join(" "));
    for &backend in backends {
        for &modulus in moduli {
            let base = TrainSpec { modulus, train_fraction, backend, ..TrainSpec::default() };
            let shape = [lockin::data::n_train(modulus, train_fraction), base.width, modulus];
            let gemm = [gemm_gflops(backend, shape, 1, 15), gemm_gflops(backend, shape, 2, 15)];
            let rho = time_level(&base, reps);
            for activation in [Activation::Sqr, Activation::Relu] {
                let spec = TrainSpec { activation, ..base.clone() };
                out!("{}", row(&spec, reps, epochs, gemm, rho, peak));
            }
            out!(
                "{:<8} M = {modulus}: GEMM {shape:?} {:.1} GFLOP/s on one lane ({:.0} % of one core's FMA \
                 peak), {:.1} aggregate on two ({:.0} % of two cores'); one epoch = {:.2} GFLOP \
                 (docs/methods.md, \"Cost\")",
                backend.name(),
                gemm[0],
                100.0 * gemm[0] / peak.one,
                gemm[1],
                100.0 * gemm[1] / peak.two,
                epoch_flops(&base) / 1e9
            );
        }
    }
    out!("(ms per epoch, medians over {reps} runs of {epochs} epochs at K = 2048, n = round(p·M²).");
    out!(" The phases run one after another; \"1 lane\" is their sum, \"epoch\" the two-lane epoch that");
    out!(
        " training runs, \"worst\" its slowest epoch in any run; \"2 runs\" two runs side by side, one lane each:\n \
         wall time ÷ epochs of both. floor = the"
    );
    out!(" epoch's FLOPs at the one-lane GEMM rate; floor2 at the two-lane rate; %peak = the two-lane epoch's");
    out!(" FLOP rate as a percentage of two cores' FMA peak; %peak2 the same for \"2 runs\";");
    out!(" ρ = one level-metric evaluation on the training pairs, ms.)");
    peak
}

/// The physical limit: the paper tier's planned FLOP (epochs, and ρ at
/// most) at two cores' FMA peak, beside its wall time projected by this
/// machine's calibration (docs/methods.md, "Cost").
fn limit(peak: Peak) -> anyhow::Result<()> {
    use lockin::estimate::{Calibration, fastest, rho_evaluations, rho_flop};
    let opts = VerifyOptions {
        claims_dir: lockin::claims::default_dir(),
        tier: Tier::Paper,
        backend: Backend::Flex,
        select: Vec::new(),
        cache: Cache::new(std::env::temp_dir().join(format!("lockin-bench-empty-{}", std::process::id()))),
        fresh: false,
        quiet: true,
        jobs: None,
    };
    let runs = lockin::claims::verify::missing_runs(&opts)?.runs;
    let epochs: f64 = runs.iter().map(|t| lockin::train::limits::run_flop(&t.spec)).sum();
    let rho: f64 = runs.iter().map(|t| rho_evaluations(&t.spec).1 as f64 * rho_flop(&t.spec)).sum();
    let at_peak = |flop: f64| flop / (peak.two * 1e9) / 60.0;
    out!(
        "paper tier: {} trajectories, {epochs:.2e} FLOP of epochs (ρ at most {rho:.2e} more); at two cores' FMA \
         peak ({:.1} GFLOP/s) the epochs take {:.1} min, with all of ρ {:.1} min",
        runs.len(),
        peak.two,
        at_peak(epochs),
        at_peak(epochs + rho)
    );
    let runs: Vec<_> = runs.iter().collect();
    let projections = Calibration::of_this_checkout(false, false).projections(&runs, lockin::jobs::cores());
    let chosen = fastest(&projections);
    for projection in &projections {
        let (least, most) = (projection.least_s / 60.0, projection.most_s / 60.0);
        out!(
            "paper tier projected here (--jobs {}, {}; calibration): {least:.1}-{most:.1} min of training, \
             {:.1}-{:.1}× the epochs at peak{}",
            projection.jobs,
            projection.sharing.lanes(),
            least / at_peak(epochs),
            most / at_peak(epochs),
            if projection == chosen { " (verify-claims' choice)" } else { "" }
        );
    }
    Ok(())
}

/// One row of the table: `spec` timed `reps` times over `epochs` epochs,
/// against the GEMM rates (one lane, two) and the FMA peak.
fn row(spec: &lockin::train::TrainSpec, reps: usize, epochs: usize, gemm: [f64; 2], rho: f64, peak: Peak) -> String {
    use lockin::bench::{PhaseTimes, epoch_flops, time_phases, time_side_by_side};
    use lockin::probes::stats::median;
    let runs: Vec<PhaseTimes> = (0..reps).map(|_| time_phases(spec, 3, epochs)).collect();
    let med = |f: &dyn Fn(&PhaseTimes) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let flops = epoch_flops(spec);
    let (floor, floor_two) = (flops / (gemm[0] * 1e9) * 1e3, flops / (gemm[1] * 1e9) * 1e3);
    let epoch = med(&|p| p.epoch);
    let side_by_side = median(&(0..reps).map(|_| time_side_by_side(spec, 2, 3, epochs)).collect::<Vec<_>>());
    let figures = [
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
        rho,
        100.0 * flops / (epoch * 1e6) / peak.two,
        100.0 * flops / (side_by_side * 1e6) / peak.two,
    ];
    let n = lockin::data::n_train(spec.modulus, spec.train_fraction);
    let head = format!("{:<8} {:>8} {:>8} {:>8}", spec.backend.name(), spec.modulus, n, spec.activation.name());
    let tail: Vec<String> = figures.iter().map(|v| format!("{v:>8.1}")).collect();
    format!("{head} {}", tail.join(" "))
}

/// Wall time of the quick tier (all claims) and of one paper-tier claim set,
/// each verified from an empty cache in a scratch directory.
fn tiers(backend: Backend, paper_claim: &str) -> anyhow::Result<()> {
    // The calibration that chooses the jobs, measured (where not cached) outside the timings.
    lockin::estimate::Calibration::of_this_checkout(false, false);
    for (tier, select) in [(Tier::Quick, Vec::new()), (Tier::Paper, vec![paper_claim.to_string()])] {
        let scratch = std::env::temp_dir().join(format!("lockin-bench-{}", std::process::id()));
        let opts = VerifyOptions {
            claims_dir: lockin::claims::default_dir(),
            tier,
            backend,
            select,
            cache: Cache::new(scratch.clone()),
            fresh: false,
            quiet: true,
            jobs: None,
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
        out!(
            "{} tier, {what}: {:.0} s ({:.1} min) from an empty cache; {}",
            tier.name(),
            wall,
            wall / 60.0,
            summary_line(&outcome)
        );
    }
    Ok(())
}
