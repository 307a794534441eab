//! The speed benchmark behind `cargo xtask bench` (README, "Speed"):
//! per-phase ms per epoch at paper scale and the machine's GEMM rate, from
//! which the arithmetic floor (docs/methods.md, "Cost") follows. Not a test: timings are
//! reported, never asserted.

use std::time::Instant;

use burn::tensor::{Tensor, TensorData};

use crate::backend::Backend;
use crate::probes::stats::median;
use crate::train::{TrainSpec, Trainer};

/// Median milliseconds per epoch of each phase of the training loop, run in
/// sequence, and of the epoch as [`crate::train::train`] runs it (two lanes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseTimes {
    /// Training forward pass and its loss/accuracy (θ_t's train metrics).
    pub forward: f64,
    /// Test-set forward pass and metrics.
    pub evaluation: f64,
    /// Backward pass and the Adam step.
    pub backward_optimizer: f64,
    /// Reading θ back and updating both rolling Grams.
    pub spectrum: f64,
    /// One [`Trainer::epoch`]: the phases above in two concurrent lanes, and the spectra.
    pub epoch: f64,
    /// The slowest of those two-lane epochs (a slowdown such as subnormal
    /// arithmetic late in a run shows here, not in the median).
    pub worst_epoch: f64,
}

impl PhaseTimes {
    /// Sum of the phases: the epoch run in one lane.
    pub fn sequential(&self) -> f64 {
        self.forward + self.evaluation + self.backward_optimizer + self.spectrum
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Train `epochs` epochs of `spec` phase by phase, then `epochs` more as
/// [`Trainer::epoch`]s, and return the median times. The first `warmup`
/// epochs of each are not counted, and of the first at least the window's
/// Wn ([`full_window_warmup`]), which the second then finds full.
pub fn time_phases(spec: &TrainSpec, warmup: usize, epochs: usize) -> PhaseTimes {
    let _flushing = crate::numerics::FlushSubnormals::on(); // as training computes
    let filling = full_window_warmup(spec, warmup);
    let mut trainer = Trainer::new(spec, &spec.seeded_start());
    let mut samples: [Vec<f64>; 5] = Default::default();
    for epoch in 0..filling + epochs {
        let t = Instant::now();
        let forward = trainer.forward_train();
        let t_forward = ms_since(t);
        let t = Instant::now();
        let _test = trainer.evaluate_test();
        let t_eval = ms_since(t);
        let t = Instant::now();
        trainer.step(forward);
        let t_step = ms_since(t);
        let t = Instant::now();
        trainer.record_updates();
        let t_spectrum = ms_since(t);
        if epoch >= filling {
            for (s, v) in samples.iter_mut().zip([t_forward, t_eval, t_step, t_spectrum]) {
                s.push(v);
            }
        }
    }
    for epoch in 0..warmup + epochs {
        let t = Instant::now();
        let _row = trainer.epoch(false);
        if epoch >= warmup {
            samples[4].push(ms_since(t));
        }
    }
    PhaseTimes {
        forward: median(&samples[0]),
        evaluation: median(&samples[1]),
        backward_optimizer: median(&samples[2]),
        spectrum: median(&samples[3]),
        epoch: median(&samples[4]),
        worst_epoch: samples[4].iter().copied().fold(0.0, f64::max),
    }
}

/// `warmup`, or the window's Wn epochs if more: every epoch timed then
/// updates a full window, as a run's epochs do after its first Wn (a
/// window filled to half costs half its update).
fn full_window_warmup(spec: &TrainSpec, warmup: usize) -> usize {
    warmup.max(spec.window)
}

/// `runs` runs of `spec` side by side, each in one lane
/// ([`Trainer::epoch_in_one_lane`], as training runs them when every core
/// is taken; one thread per run): the wall time of `epochs` epochs of all,
/// after `warmup`, divided by the `runs`·`epochs` epochs trained, i.e. the
/// cost of one epoch when runs share the machine this way (after at least
/// Wn epochs, [`full_window_warmup`]). The
/// alternative to two lanes per run (docs/performance.md, "Lanes by
/// measurement").
pub fn time_side_by_side(spec: &TrainSpec, runs: usize, warmup: usize, epochs: usize) -> f64 {
    let _flushing = crate::numerics::FlushSubnormals::on(); // inherited by the runs' threads
    let start = spec.seeded_start();
    let mut trainers: Vec<Trainer> = (0..runs.max(1)).map(|_| Trainer::new(spec, &start)).collect();
    let mut train_all = |count: usize| {
        std::thread::scope(|scope| {
            for trainer in trainers.iter_mut() {
                scope.spawn(move || {
                    for _ in 0..count {
                        std::hint::black_box(trainer.epoch_in_one_lane(false));
                    }
                });
            }
        })
    };
    train_all(full_window_warmup(spec, warmup));
    let t = Instant::now();
    train_all(epochs);
    ms_since(t) / (runs.max(1) * epochs) as f64
}

/// Median milliseconds of one level-metric evaluation (docs/methods.md,
/// "Level metric ρ": features of the training pairs, their Gram, both ρ) at
/// the initial weights of `spec`, over `reps` evaluations after one warm-up.
pub fn time_level(spec: &TrainSpec, reps: usize) -> f64 {
    let start = spec.seeded_start();
    let shape = spec.shape();
    let w_t = start.weights.w_transposed(&shape);
    let times: Vec<f64> = (0..=reps)
        .map(|_| {
            let t = Instant::now();
            let features = shape.features(&w_t, &start.split.train);
            std::hint::black_box(crate::probes::level::level(&features, shape.width));
            ms_since(t)
        })
        .collect();
    median(&times[1..])
}

/// The FLOP count of one epoch (docs/methods.md, "Cost"): the output layer's forward and two
/// backward products on the n training pairs, and the forward on the test pairs.
pub fn epoch_flops(spec: &TrainSpec) -> f64 {
    let total = spec.pair_count() as f64;
    let n = spec.n_train() as f64;
    2.0 * spec.width as f64 * spec.modulus as f64 * (3.0 * n + (total - n))
}

/// The f32 GEMM rate (GFLOP/s) on the [n, K] × [K, M] product of the
/// forward pass as training computes it (the canonical kernels on the CPU
/// backends, burn's on wgpu), with `lanes` products running concurrently
/// (one thread each): the aggregate rate over the median wall time of `reps` rounds.
pub fn gemm_gflops(backend: Backend, [n, k, m]: [usize; 3], lanes: usize, reps: usize) -> f64 {
    if backend != Backend::Wgpu {
        let a: Vec<f32> = (0..n * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * m).map(|i| (i % 5) as f32 * 0.1).collect();
        let times: Vec<f64> = (0..reps)
            .map(|_| {
                let t = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..lanes {
                        scope.spawn(|| std::hint::black_box(crate::numerics::matmul(&a, &b, n, k, m)));
                    }
                });
                t.elapsed().as_secs_f64()
            })
            .collect();
        return lanes as f64 * 2.0 * (n * k * m) as f64 / median(&times) / 1e9;
    }
    let device = backend.device();
    let a = Tensor::<2>::from_data(
        TensorData::new((0..n * k).map(|i| (i % 7) as f32 * 0.1).collect::<Vec<f32>>(), [n, k]),
        &device,
    );
    let b = Tensor::<2>::from_data(
        TensorData::new((0..k * m).map(|i| (i % 5) as f32 * 0.1).collect::<Vec<f32>>(), [k, m]),
        &device,
    );
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..lanes {
                    // `into_data` forces completion on asynchronous backends.
                    scope.spawn(|| a.clone().matmul(b.clone()).into_data());
                }
            });
            t.elapsed().as_secs_f64()
        })
        .collect();
    lanes as f64 * 2.0 * (n * k * m) as f64 / median(&times) / 1e9
}

/// One product of a paper-scale epoch (M = 71, K = 2048, n = 2016), in
/// the form training computes it.
pub struct EpochProduct {
    /// What it computes, in the paper's terms.
    pub name: &'static str,
    /// (rows, inner, columns) of C = A·B.
    pub shape: (usize, usize, usize),
    /// How training calls it, and so how it is timed.
    pub form: ProductForm,
    /// How many of it one epoch computes, in FLOP: the pairs it covers over
    /// its own rows for the blocked ones (the 3025 test pairs over the test
    /// pass's 288 make 10.5: ten blocks and one of 145; the 2016 training
    /// pairs over ∂L/∂F's 96 make 21), 0 for ρ's Gram, which is the level
    /// metric's, not the epoch's.
    pub per_epoch: f64,
}

impl EpochProduct {
    /// Its FLOP in one epoch: `per_epoch` products of its shape.
    fn flops_per_epoch(&self) -> f64 {
        self.per_epoch * product_flops(self.shape)
    }
}

/// How training computes a product, and so how the bench times it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductForm {
    /// `matmul`, which packs its own B.
    Alone,
    /// `matmul_tn`, A given as Aᵀ, as for ∂L/∂V.
    TransposedA,
    /// `matmul_shared`: one block of a product whose blocks share a B packed
    /// once per epoch (the test pass's and ∂L/∂F's), into a reused C.
    SharedB,
}

impl ProductForm {
    /// The form as the bench prints it.
    pub fn name(self) -> &'static str {
        match self {
            ProductForm::Alone => "A·B",
            ProductForm::TransposedA => "AᵀB",
            ProductForm::SharedB => "A·B, B packed once",
        }
    }
}

/// The paper's modulus M and width K (docs/methods.md, "Setup").
const PAPER_MODULUS: usize = 71;
const PAPER_WIDTH: usize = 2048;
/// Training pairs (n = round(0.4 · M²)) and test pairs of a paper-scale epoch.
const PAPER_PAIRS: (usize, usize) = (2016, PAPER_MODULUS * PAPER_MODULUS - 2016);

/// The products of a paper-scale epoch, each in the blocks training uses:
/// the forward output, a test block of the shared test pass, ∂L/∂V (as
/// (∂L/∂V)ᵀ = Fᵀ·∂L/∂o), a block of ∂L/∂F = ∂L/∂o·V, and ρ's n × n Gram.
pub const EPOCH_PRODUCTS: [EpochProduct; 5] = {
    use crate::train::{BACKWARD_BLOCK_ROWS, TEST_BLOCK_ROWS};
    let ((n, test), m, k) = (PAPER_PAIRS, PAPER_MODULUS, PAPER_WIDTH);
    [
        EpochProduct { name: "forward F·Vᵀ", shape: (n, k, m), form: ProductForm::Alone, per_epoch: 1.0 },
        EpochProduct {
            name: "test block",
            shape: (TEST_BLOCK_ROWS, k, m),
            form: ProductForm::SharedB,
            per_epoch: test as f64 / TEST_BLOCK_ROWS as f64,
        },
        EpochProduct {
            name: "∂L/∂V (Fᵀ given)", shape: (k, n, m), form: ProductForm::TransposedA, per_epoch: 1.0
        },
        EpochProduct {
            name: "∂L/∂F block",
            shape: (BACKWARD_BLOCK_ROWS, m, k),
            form: ProductForm::SharedB,
            per_epoch: n as f64 / BACKWARD_BLOCK_ROWS as f64,
        },
        // Timed whole; the probe computes its lower triangle, about half of it.
        EpochProduct { name: "ρ's Gram (whole)", shape: (n, k, n), form: ProductForm::Alone, per_epoch: 0.0 },
    ]
};

/// FLOP of one C = A·B of `shape` (rows, inner, columns).
fn product_flops((m, k, n): (usize, usize, usize)) -> f64 {
    2.0 * (m * k * n) as f64
}

/// The fraction of the FMA peak a paper-scale epoch reaches were its
/// products the only work, each at its measured one-core rate (`rates`,
/// GFLOP/s, in [`EPOCH_PRODUCTS`]' order) against one core's peak
/// `peak_one`: the epoch's FLOP over the sum of each product's FLOP at its
/// own fraction of the peak. The ceiling an epoch reaches by fusing every
/// element-wise pass into the products, were each product to keep its
/// one-core fraction with every core busy (docs/performance.md, "The
/// products' ceiling").
pub fn products_ceiling(rates: &[f64], peak_one: f64) -> f64 {
    assert_eq!(rates.len(), EPOCH_PRODUCTS.len(), "one rate per epoch product");
    let at_peak: f64 = EPOCH_PRODUCTS.iter().map(EpochProduct::flops_per_epoch).sum();
    let at_rates: f64 = EPOCH_PRODUCTS.iter().zip(rates).map(|(p, rate)| p.flops_per_epoch() * peak_one / rate).sum();
    at_peak / at_rates
}

/// The canonical product's rate (GFLOP/s, best of `reps`, one thread) on
/// `product`'s shape, called as training calls it: a block of a shared B
/// after B's panels were packed (by the epoch's first block, in training)
/// and into the C the blocks reuse.
pub fn product_gflops(product: &EpochProduct, reps: usize) -> f64 {
    use crate::numerics::{SharedB, matmul, matmul_shared, matmul_tn};
    let (m, k, n) = product.shape;
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let fastest = |run: &mut dyn FnMut()| {
        let seconds = |_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        };
        (0..reps).map(seconds).fold(f64::MAX, f64::min)
    };
    let seconds = match product.form {
        ProductForm::Alone => fastest(&mut || drop(std::hint::black_box(matmul(&a, &b, m, k, n)))),
        ProductForm::TransposedA => fastest(&mut || drop(std::hint::black_box(matmul_tn(&a, &b, m, k, n)))),
        ProductForm::SharedB => {
            let (shared, mut c) = (SharedB::new(&b, k, n), Vec::new());
            matmul_shared(&a, &shared, m, &mut c);
            fastest(&mut || {
                matmul_shared(&a, &shared, m, &mut c);
                std::hint::black_box(&c);
            })
        }
    };
    product_flops(product.shape) / seconds / 1e9
}

/// The machine's f32 FMA peak (GFLOP/s) on the widest instruction set it
/// has, with `threads` threads busy: per thread, 12 independent FMA chains
/// held in registers (no memory operand, no dependence between chains, so
/// both FMA ports stay full), compiled for that instruction set whatever the
/// build's target CPU. The physical limit the kernels are measured against.
pub fn fma_peak_gflops(threads: usize) -> (crate::numerics::KernelPath, f64) {
    const ITERATIONS: u64 = 20_000_000;
    let path = crate::numerics::KernelPath::current();
    let lanes = match path {
        crate::numerics::KernelPath::Avx512 => 16.0,
        crate::numerics::KernelPath::Avx2 => 8.0,
        // The portable loop below: 12 scalar chains.
        crate::numerics::KernelPath::Neon | crate::numerics::KernelPath::Scalar => 1.0,
    };
    let run = || fma_chains(path, ITERATIONS);
    run(); // warm-up: clocks up, pages in
    let t = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| std::hint::black_box(run()));
        }
    });
    let flop = threads as f64 * ITERATIONS as f64 * 12.0 * lanes * 2.0;
    (path, flop / t.elapsed().as_secs_f64() / 1e9)
}

/// `iterations` rounds of 12 FMA chains on `path`'s widest vectors.
fn fma_chains(path: crate::numerics::KernelPath, iterations: u64) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::numerics::KernelPath;
        // SAFETY: each is called only where `path` says the CPU has its features.
        match path {
            KernelPath::Avx512 => return unsafe { peak::avx512(iterations) },
            KernelPath::Avx2 => return unsafe { peak::avx2(iterations) },
            _ => {}
        }
    }
    let (a, b) = (std::hint::black_box(0.999_999f32), std::hint::black_box(1e-7f32));
    let mut chains = [0.0f32; 12];
    for _ in 0..iterations {
        for x in chains.iter_mut() {
            *x = x.mul_add(a, b);
        }
    }
    chains.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod peak {
    use std::arch::x86_64::*;

    /// 12 chains of 16-lane FMAs.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(iterations: u64) -> f32 {
        let (a, b) = (_mm512_set1_ps(std::hint::black_box(0.999_999)), _mm512_set1_ps(std::hint::black_box(1e-7)));
        let mut chains = [_mm512_setzero_ps(); 12];
        for _ in 0..iterations {
            for x in chains.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        chains.iter().map(|&x| _mm512_reduce_add_ps(x)).sum()
    }

    /// 12 chains of 8-lane FMAs.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(iterations: u64) -> f32 {
        let (a, b) = (_mm256_set1_ps(std::hint::black_box(0.999_999)), _mm256_set1_ps(std::hint::black_box(1e-7)));
        let mut chains = [_mm256_setzero_ps(); 12];
        for _ in 0..iterations {
            for x in chains.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        let sum = chains.iter().fold(_mm256_setzero_ps(), |s, &x| _mm256_add_ps(s, x));
        // SAFETY: `lanes` holds 8 f32.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The epoch products, counted `per_epoch` times, are the epoch's FLOP
    /// (docs/methods.md, "Cost"); at one fraction of the peak they make
    /// that fraction; a slower product lowers it by its own share of the
    /// FLOP alone, and ρ's Gram not at all.
    #[test]
    fn the_products_ceiling_weighs_each_product_by_its_flop() {
        let counted: f64 = EPOCH_PRODUCTS.iter().map(EpochProduct::flops_per_epoch).sum();
        let paper = TrainSpec::default();
        assert_relative_eq!(counted, epoch_flops(&paper), max_relative = 1e-12);
        assert_eq!((paper.modulus, paper.width), (PAPER_MODULUS, PAPER_WIDTH));
        assert_eq!((paper.n_train(), paper.pair_count() - paper.n_train()), PAPER_PAIRS);
        let ceiling = |rates: [f64; 5]| products_ceiling(&rates, 200.0);
        assert_relative_eq!(ceiling([100.0; 5]), 0.5, max_relative = 1e-12);
        let test_share = product_flops((PAPER_PAIRS.1, PAPER_WIDTH, PAPER_MODULUS)) / counted;
        let slower_test = ceiling([100.0, 50.0, 100.0, 100.0, 100.0]);
        assert_relative_eq!(1.0 / slower_test, 2.0 * (1.0 - test_share) + 4.0 * test_share, max_relative = 1e-9);
        assert_eq!(ceiling([100.0, 100.0, 100.0, 100.0, 1.0]), ceiling([100.0; 5]));
    }
}
