//! The two-layer network (docs/methods.md, "Setup"; its initial weights:
//! "Seeds").
//!
//! h = W x, f = σ(h), o = V f, with W ∈ R^{K×2M}, V ∈ R^{M×K}, no biases.
//! Because x = [onehot(a); onehot(b)], W x = W[:, a] + W[:, M+b]: the module
//! keeps the first layer **transposed**, `w_t = Wᵀ ∈ R^{2M×K}`, so that the
//! product is a gather of two rows (and its gradient a scatter-add of rows).
//! Files (checkpoints, `--init-from`) use the paper's `W` [K, 2M] layout.

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::PairSet;
use crate::seeding::RngScheme;

/// The activation σ (docs/methods.md, "Setup"): the paper's "sqr" (x²) or
/// ReLU, and the other choices of the paper's training script (GELU, SiLU,
/// ReLU²) for questions of one's own.
/// Names are read without regard to case everywhere (claim files, flags,
/// imported configs): `GELU`, `ReLU` and `relu` are one activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// σ(x) = x², "sqr" in the paper's code.
    Sqr,
    /// σ(x) = max(x, 0).
    Relu,
    /// σ(x) = x Φ(x), Φ the standard normal CDF (PyTorch's exact `GELU`).
    Gelu,
    /// σ(x) = x / (1 + e^−x) (`SiLU`, swish).
    Silu,
    /// σ(x) = max(x, 0)², "relusqr" in the paper's code.
    Relusqr,
}

impl<'de> Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        <Activation as clap::ValueEnum>::from_str(&name, true).map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown activation `{name}`, expected one of sqr, relu, gelu, silu, relusqr"
            ))
        })
    }
}

/// 1/√2 and 1/√(2π), for Φ and its density.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

impl Activation {
    /// σ(h), element-wise.
    pub fn apply(self, h: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Sqr => h.square(),
            Activation::Relu => h.clamp_min(0.0),
            Activation::Gelu => h.clone() * ((h * FRAC_1_SQRT_2).erf() + 1.0) * 0.5,
            Activation::Silu => h.clone() * burn::tensor::activation::sigmoid(h),
            Activation::Relusqr => h.clamp_min(0.0).square(),
        }
    }

    /// `upstream ⊙ σ'(h)`: 2h for x²; for ReLU the indicator h > 0
    /// (PyTorch's convention σ'(0) = 0) as a float (on flex 14 ms/epoch
    /// cheaper than `sign` or a `mask_fill`); Φ(h) + h φ(h) for GELU;
    /// s(h)(1 + h(1 − s(h))) for SiLU (s the logistic); 2 max(h, 0) for ReLU².
    pub fn backward(self, h: Tensor<2>, upstream: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Sqr => upstream * h * 2.0,
            Activation::Relu => upstream * h.greater_elem(0.0).float(),
            Activation::Gelu => {
                let cdf = ((h.clone() * FRAC_1_SQRT_2).erf() + 1.0) * 0.5;
                let density = (h.clone().square() * -0.5).exp() * FRAC_1_SQRT_2PI;
                upstream * (cdf + h * density)
            }
            Activation::Silu => {
                let s = burn::tensor::activation::sigmoid(h.clone());
                upstream * s.clone() * ((s.neg() + 1.0) * h + 1.0)
            }
            Activation::Relusqr => upstream * h.clamp_min(0.0) * 2.0,
        }
    }

    /// [`Activation::backward`] of one element in f32 (x² and ReLU with the
    /// same f32 operations as burn; the others with `libm`'s erf and exp).
    pub fn backward_f32(self, h: f32, upstream: f32) -> f32 {
        match self {
            Activation::Sqr => upstream * h * 2.0,
            Activation::Relu => upstream * if h > 0.0 { 1.0 } else { 0.0 },
            Activation::Gelu => {
                let cdf = (libm::erff(h * FRAC_1_SQRT_2 as f32) + 1.0) * 0.5;
                let density = libm::expf(h * h * -0.5) * FRAC_1_SQRT_2PI as f32;
                upstream * (cdf + h * density)
            }
            Activation::Silu => {
                let s = 1.0 / (1.0 + libm::expf(-h));
                upstream * s * ((1.0 - s) * h + 1.0)
            }
            Activation::Relusqr => upstream * h.max(0.0) * 2.0,
        }
    }

    /// σ(x) in f64, for the checkpoint algebra (docs/methods.md, "Theorem 6").
    pub fn apply_f64(self, x: f64) -> f64 {
        match self {
            Activation::Sqr => x * x,
            Activation::Relu => x.max(0.0),
            Activation::Gelu => x * (libm::erf(x * FRAC_1_SQRT_2) + 1.0) * 0.5,
            Activation::Silu => x / (1.0 + libm::exp(-x)),
            Activation::Relusqr => x.max(0.0) * x.max(0.0),
        }
    }

    /// σ(x) in f32, for x² and ReLU bit for bit as burn's
    /// [`Activation::apply`] (ReLU maps −0 to +0 and keeps NaN, as
    /// `clamp_min` does); the others with `libm`'s erf and exp, the same
    /// bits on every CPU.
    pub fn apply_f32(self, x: f32) -> f32 {
        let relu = |x: f32| if x.is_nan() || x > 0.0 { x } else { 0.0 };
        match self {
            Activation::Sqr => x * x,
            Activation::Relu => relu(x),
            Activation::Gelu => x * (libm::erff(x * FRAC_1_SQRT_2 as f32) + 1.0) * 0.5,
            Activation::Silu => x / (1.0 + libm::expf(-x)),
            Activation::Relusqr => relu(x) * relu(x),
        }
    }

    /// The paper's name for it, as used in file names and tables.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sqr => "sqr",
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
            Activation::Relusqr => "relusqr",
        }
    }
}

/// Shape of the network: modulus M, hidden width K and σ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    /// M, the number of classes (71 in the paper).
    pub modulus: usize,
    /// K, the hidden width (2048 in the paper).
    pub width: usize,
    /// σ.
    pub activation: Activation,
}

impl ModelShape {
    /// Hidden features F = σ(W x) on `pairs`, as the training forward pass
    /// computes them, row-major [n, K] from Wᵀ [2M, K]: row i is
    /// σ(Wᵀ\[a_i\] + Wᵀ\[M + b_i\]), the gather, the add and σ in one pass
    /// (`train::gradient::tests::host_passes_match_burn` checks the bits
    /// agree with burn's ops). The probes (ρ, Theorem 6) take F and know
    /// nothing of the model (docs/methods.md, "Level metric ρ", "Theorem 6").
    pub fn features(&self, w_t: &[f32], pairs: &PairSet) -> Vec<f32> {
        self.features_of(w_t, &pairs.a, &pairs.b)
    }

    /// [`ModelShape::features`] of the pairs (a_i, b_i).
    pub fn features_of(&self, w_t: &[f32], a: &[usize], b: &[usize]) -> Vec<f32> {
        let shape = (self.modulus, self.width);
        // σ fixed per loop, so that the compiler vectorises x² and ReLU, for
        // the widest vectors the CPU has.
        crate::numerics::on_widest(
            #[inline(always)]
            || match self.activation {
                Activation::Sqr => features_with(w_t, shape, (a, b), &|h| Activation::Sqr.apply_f32(h)),
                Activation::Relu => features_with(w_t, shape, (a, b), &|h| Activation::Relu.apply_f32(h)),
                other => features_with(w_t, shape, (a, b), &|h| other.apply_f32(h)),
            },
        )
    }

    /// F on `pairs`, n×K in f64, from f32 weights in the paper's layout (W
    /// [K, 2M] row-major), the pre-activation summed in f64 (Theorem 6).
    pub fn features_f64(&self, w: &[f32], pairs: &PairSet) -> faer::Mat<f64> {
        let (m, cols) = (self.modulus, 2 * self.modulus);
        faer::Mat::from_fn(pairs.len(), self.width, |i, j| {
            let h = w[j * cols + pairs.a[i]] as f64 + w[j * cols + m + pairs.b[i]] as f64;
            self.activation.apply_f64(h)
        })
    }
}

/// [`ModelShape::features_of`] for the (M, K) shape and σ given, written
/// row by row without first zeroing the buffer.
#[inline(always)]
fn features_with(
    w_t: &[f32],
    (m, k): (usize, usize),
    (a, b): (&[usize], &[usize]),
    sigma: &impl Fn(f32) -> f32,
) -> Vec<f32> {
    let mut f = Vec::with_capacity(a.len() * k);
    for (&a, &b) in a.iter().zip(b) {
        let (row_a, row_b) = (&w_t[a * k..][..k], &w_t[(m + b) * k..][..k]);
        f.extend(row_a.iter().zip(row_b).map(|(&x, &y)| sigma(x + y)));
    }
    f
}

/// Weights on the CPU in the paper's layouts: `w` is W [K, 2M] and `v` is
/// V [M, K], both row-major f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// W, [K, 2M] row-major.
    pub w: Vec<f32>,
    /// V, [M, K] row-major.
    pub v: Vec<f32>,
}

impl Weights {
    /// PyTorch's `nn.Linear` default init (docs/methods.md, "Setup"):
    /// W ~ U(±1/√(2M)), V ~ U(±1/√K), W drawn first, from `scheme` with `seed`.
    pub fn seeded(shape: &ModelShape, seed: u64, scheme: RngScheme) -> Self {
        let (w, v) = scheme.linear_weights(shape.modulus, shape.width, seed);
        Self { w, v }
    }

    /// Wᵀ [2M, K] row-major, the module's layout.
    pub fn w_transposed(&self, shape: &ModelShape) -> Vec<f32> {
        crate::numerics::transpose(&self.w, shape.width, 2 * shape.modulus)
    }
}

/// How the element-wise passes over the [n, K] activations run (README,
/// "Speed"): the gathers, σ, σ′ and the scatter-adds around the products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Passes {
    /// burn's tensor ops, one pass over [n, K] each: every backend, autodiff too.
    #[default]
    Burn,
    /// Everything on the host in canonical arithmetic (docs/methods.md,
    /// "Numerics scheme"): one hand-written pass each way over the data
    /// ([`ModelShape::features`], `train::gradient`) and the canonical
    /// products, so the same bits on every CPU: for the CPU backends.
    Host,
}

impl Passes {
    /// The passes for `backend`: host passes (canonical numerics) on the CPU backends.
    pub fn for_backend(backend: crate::backend::Backend) -> Self {
        match backend {
            crate::backend::Backend::Flex | crate::backend::Backend::Ndarray => Passes::Host,
            crate::backend::Backend::Wgpu => Passes::Burn,
        }
    }
}

/// A float tensor's values on the host, row-major (no copy when `t` is the
/// only handle to a contiguous CPU buffer).
pub fn host_floats(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 tensor")
}

/// The network as a burn module.
#[derive(Module, Debug)]
pub struct TwoLayer {
    /// Wᵀ, [2M, K]: row `a` is W[:, a], row `M + b` is W[:, M + b].
    pub w_t: Param<Tensor<2>>,
    /// V, [M, K].
    pub v: Param<Tensor<2>>,
    /// σ.
    #[module(skip)]
    pub activation: Activation,
    /// How the element-wise passes run.
    #[module(skip)]
    pub passes: Passes,
}

/// A set of pairs on the device: gather indices, labels and Tian's targets.
#[derive(Clone, Debug)]
pub struct DeviceBatch {
    /// Row of Wᵀ for the first one-hot: `a`.
    pub rows_a: Tensor<1, Int>,
    /// Row of Wᵀ for the second one-hot: `M + b`.
    pub rows_b: Tensor<1, Int>,
    /// Labels `(a + b) mod M`, `[n]`.
    pub labels: Tensor<1, Int>,
    /// Centred targets y = onehot(label) − 1/M, [n, M].
    pub targets: Tensor<2>,
    /// Number of pairs.
    pub len: usize,
    /// The pairs on the host, for [`Passes::Host`].
    pub pairs: PairSet,
}

impl DeviceBatch {
    /// Upload a pair set to `device`.
    pub fn new(set: &PairSet, modulus: usize, device: &Device) -> Self {
        let n = set.len();
        let ints = |values: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(values, [n]), device);
        let mut targets = vec![-1.0 / modulus as f32; n * modulus];
        for (i, &label) in set.labels.iter().enumerate() {
            targets[i * modulus + label] += 1.0;
        }
        Self {
            rows_a: ints(set.a.iter().map(|&a| a as i64).collect()),
            rows_b: ints(set.b.iter().map(|&b| (modulus + b) as i64).collect()),
            labels: ints(set.labels.iter().map(|&l| l as i64).collect()),
            targets: Tensor::from_data(TensorData::new(targets, [n, modulus]), device),
            len: n,
            pairs: set.clone(),
        }
    }
}

/// Intermediate values of one forward pass, kept for the backward pass
/// (which recomputes h = W x from W where it needs it: h is one add of two
/// rows, cheaper to redo than to keep).
#[derive(Clone, Debug)]
pub struct Forward {
    /// f = σ(h), [n, K].
    pub features: Tensor<2>,
    /// o = V f, [n, M].
    pub output: Tensor<2>,
}

impl TwoLayer {
    /// Build the module on `device` from CPU weights in the paper's layout.
    pub fn from_weights(shape: &ModelShape, weights: &Weights, device: &Device) -> Self {
        let (m, k) = (shape.modulus, shape.width);
        let w_t = TensorData::new(weights.w_transposed(shape), [2 * m, k]);
        let v = TensorData::new(weights.v.clone(), [m, k]);
        Self {
            w_t: Param::from_tensor(Tensor::from_data(w_t, device)),
            v: Param::from_tensor(Tensor::from_data(v, device)),
            activation: shape.activation,
            passes: Passes::default(),
        }
    }

    /// M, K and σ.
    pub fn shape(&self) -> ModelShape {
        let [rows, width] = self.w_t.val().dims();
        ModelShape { modulus: rows / 2, width, activation: self.activation }
    }

    /// h = W x on a batch, [n, K], by burn's gathers.
    pub fn hidden(&self, batch: &DeviceBatch) -> Tensor<2> {
        let w_t = self.w_t.val();
        w_t.clone().select(0, batch.rows_a.clone()) + w_t.select(0, batch.rows_b.clone())
    }

    /// Forward pass on a batch. Shapes: features [n, K], output [n, M].
    pub fn forward(&self, batch: &DeviceBatch) -> Forward {
        match self.passes {
            Passes::Burn => {
                let features = self.activation.apply(self.hidden(batch));
                let output = features.clone().matmul(self.v.val().transpose());
                Forward { features, output }
            }
            Passes::Host => {
                let (features, output) = self.forward_host(&self.host_theta(), batch);
                let device = self.v.val().device();
                let (n, k, m) = (batch.len, features.len() / batch.len.max(1), output.len() / batch.len.max(1));
                Forward {
                    features: Tensor::from_data(TensorData::new(features, [n, k]), &device),
                    output: Tensor::from_data(TensorData::new(output, [n, m]), &device),
                }
            }
        }
    }

    /// θ read back to the host ([`HostTheta`]).
    pub fn host_theta(&self) -> HostTheta {
        let shape = self.shape();
        HostTheta {
            w_t: host_floats(self.w_t.val()),
            v: host_floats(self.v.val()),
            v_t: std::sync::OnceLock::new(),
            shape: (shape.modulus, shape.width),
        }
    }

    /// [`Passes::Host`]'s forward pass on the host at θ = `theta`: F [n, K]
    /// (gather, add and σ in one pass) and o = F Vᵀ [n, M] by the canonical
    /// product (docs/methods.md, "Numerics scheme").
    pub fn forward_host(&self, theta: &HostTheta, batch: &DeviceBatch) -> (Vec<f32>, Vec<f32>) {
        let shape = self.shape();
        let (m, k) = (shape.modulus, shape.width);
        let features = shape.features(&theta.w_t, &batch.pairs);
        let output = crate::numerics::matmul(&features, theta.v_t(), batch.len, k, m);
        (features, output)
    }
}

/// θ on the host, row-major f32, read back once per epoch and shared by
/// what the epoch does with it (docs/methods.md, "Cost"): the training
/// forward pass, the test pass, the backward pass and the window update.
#[derive(Debug)]
pub struct HostTheta {
    /// Wᵀ, [2M, K].
    pub w_t: Vec<f32>,
    /// V, [M, K].
    pub v: Vec<f32>,
    /// Vᵀ, [K, M]: made on first use (host passes only).
    v_t: std::sync::OnceLock<Vec<f32>>,
    /// (M, K).
    shape: (usize, usize),
}

impl HostTheta {
    /// Vᵀ [K, M], the second operand of the forward product.
    pub fn v_t(&self) -> &[f32] {
        let (m, k) = self.shape;
        self.v_t.get_or_init(|| crate::numerics::transpose(&self.v, m, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> ModelShape {
        ModelShape { modulus: 5, width: 7, activation: Activation::Sqr }
    }

    #[test]
    fn init_bounds_follow_pytorch_linear() {
        let s = ModelShape { modulus: 71, width: 2048, activation: Activation::Sqr };
        let weights = Weights::seeded(&s, 0, RngScheme::Chacha);
        let w_bound = 1.0 / (142f32).sqrt();
        let v_bound = 1.0 / (2048f32).sqrt();
        assert!(weights.w.iter().all(|x| x.abs() <= w_bound));
        assert!(weights.v.iter().all(|x| x.abs() <= v_bound));
        // A uniform sample fills its range: the extremes come within 1%.
        let w_max = weights.w.iter().fold(0f32, |a, x| a.max(x.abs()));
        assert!(w_max > 0.99 * w_bound);
        assert_eq!(weights, Weights::seeded(&s, 0, RngScheme::Chacha));
        assert_ne!(weights, Weights::seeded(&s, 1, RngScheme::Chacha));
        assert_ne!(weights, Weights::seeded(&s, 0, RngScheme::Torch));
    }

    #[test]
    fn relu_derivative_is_zero_at_zero() {
        let device = crate::backend::Backend::default().device();
        let h = Tensor::<2>::from_data(TensorData::new(vec![-1.0f32, 0.0, 2.0], [1, 3]), &device);
        let ones = h.ones_like();
        let grad = Activation::Relu.backward(h, ones).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(grad, vec![0.0, 0.0, 1.0]);
    }

    /// Every σ's f32 and f64 forms agree, and σ' is the derivative of σ
    /// (central differences in f64).
    #[test]
    fn activations_and_their_derivatives_agree() {
        for activation in [Activation::Sqr, Activation::Relu, Activation::Gelu, Activation::Silu, Activation::Relusqr] {
            for x in [-3.0f64, -1.2, -0.3, 0.2, 0.7, 2.5] {
                let f32_value = activation.apply_f32(x as f32) as f64;
                approx::assert_relative_eq!(f32_value, activation.apply_f64(x), epsilon = 1e-6, max_relative = 1e-5);
                let step = 1e-6;
                let slope = (activation.apply_f64(x + step) - activation.apply_f64(x - step)) / (2.0 * step);
                let analytic = activation.backward_f32(x as f32, 1.0) as f64;
                approx::assert_relative_eq!(analytic, slope, epsilon = 1e-5, max_relative = 1e-4);
            }
        }
    }

    /// The gather W[:, a] + W[:, M+b] equals W times the dense two-hot input.
    #[test]
    fn gather_equals_two_hot_product() {
        let s = shape();
        let weights = Weights::seeded(&s, 3, RngScheme::Torch);
        let split = crate::data::Split::seeded(5, 12, 1, RngScheme::Torch);
        let device = crate::backend::Backend::default().device();
        let model = TwoLayer::from_weights(&s, &weights, &device);
        let batch = DeviceBatch::new(&split.train, 5, &device);
        let hidden = model.hidden(&batch).into_data().try_to_vec::<f32>().unwrap();
        for (row, (&a, &b)) in split.train.a.iter().zip(&split.train.b).enumerate() {
            let mut x = [0f32; 10];
            x[a] = 1.0;
            x[5 + b] = 1.0;
            for j in 0..7 {
                let dense: f32 = (0..10).map(|c| weights.w[j * 10 + c] * x[c]).sum();
                approx::assert_relative_eq!(hidden[row * 7 + j], dense, epsilon = 1e-7);
            }
        }
    }

    #[test]
    fn features_follow_the_gather() {
        // M = 2, K = 2: W = [[1, 2, 3, 4], [-1, 0, 0.5, 2]]; pair (1, 0) is index 2: h = (2 + 3, 0 + 0.5).
        let pairs = crate::data::Split::from_indices(2, vec![2], vec![0, 1, 3]).train;
        let sqr = ModelShape { modulus: 2, width: 2, activation: Activation::Sqr };
        let f = sqr.features_f64(&[1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 0.5, 2.0], &pairs);
        assert_eq!((f[(0, 0)], f[(0, 1)]), (25.0, 0.25));
        let relu = ModelShape { modulus: 2, width: 1, activation: Activation::Relu };
        assert_eq!(relu.features_f64(&[0.0, -1.0, -1.0, 0.0], &pairs)[(0, 0)], 0.0);
    }

    #[test]
    fn both_layouts_give_the_same_features() {
        let shape = ModelShape { modulus: 7, width: 24, activation: Activation::Sqr };
        let weights = Weights::seeded(&shape, 3, RngScheme::Torch);
        let split = crate::data::Split::seeded(7, 29, 3, RngScheme::Torch);
        let f32s = shape.features(&weights.w_transposed(&shape), &split.train);
        let f64s = shape.features_f64(&weights.w, &split.train);
        for i in 0..f64s.nrows() {
            for j in 0..f64s.ncols() {
                let x = f32s[i * shape.width + j] as f64;
                assert!((x - f64s[(i, j)]).abs() <= 1e-6 * f64s[(i, j)].abs().max(1e-6));
            }
        }
    }
}
