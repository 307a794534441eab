//! Tian's Theorem 6 sign rule at a checkpoint (docs/methods.md, "Theorem 6"), all in f64.
//!
//! F = σ(H) on the n training inputs, F̃ = F − column means, S the cosine
//! similarities of F̃'s K columns and the top pairs by |S|. With
//! A = F̃F̃ᵀ (n×n) and G = (A + ηI)⁻¹ (Cholesky), B = (F̃ᵀF̃ + ηI)⁻¹ has
//! B_jl = −(1/η) f̃_jᵀ G f̃_l off the diagonal; no K×K inverse is formed.
//! Only the ≤ 2·pairs columns U of F̃ that the top pairs touch enter the
//! pair algebra, through the small Grams UᵀGU and (AU)ᵀG(AU).
//!
//! Three quantities: the **published** sign-match (the paper's B_pub with
//! 1/η² and its "projector" P_pub), the **exact** rule with the leave-pair-out
//! projector P_{η,−jl} (an identity: 1 up to rounding), and the **repulsion
//! fraction** (pairs with S > 0 whose B_jl < 0).

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::numerics::cholesky::Cholesky;

/// Clamp for column norms in the cosine similarity (docs/methods.md, "Theorem 6").
const NORM_FLOOR: f64 = 1e-30;

/// Version of this module's results: bump when a change alters any number
/// it computes, so results cached beside checkpoints are recomputed.
/// 3: canonical products and Cholesky (docs/methods.md, "Numerics scheme").
pub const VERSION: u32 = 3;

/// What one checkpoint says about the sign rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignRule {
    /// Number of top pairs analysed.
    pub pairs: usize,
    /// Fraction of top pairs with sgn(B_pub,jl) = −sgn(r_pub,jl): the paper's number.
    pub published_sign_match: f64,
    /// The published sign-match with r_pub computed by the second route
    /// ([`PairAlgebra::r_published_identity`]): evidence that the published
    /// figure does not hinge on how the harness evaluates the procedure.
    pub published_sign_match_identity: f64,
    /// Fraction with sgn(B_jl) = −sgn(r_jl), r from P_{η,−jl}: 1 by Schur complement.
    pub exact_sign_match: f64,
    /// The same with the full projector ηG: also an identity.
    pub full_projector_sign_match: f64,
    /// Fraction of top pairs whose residual has the same sign under the
    /// full projector P_η = ηG as under the leave-pair-out P_{η,−jl}: how
    /// well the paper's P_η approximation keeps the sign (its "10/10 at
    /// epoch 175", `verify_proj_approx.py`).
    pub projector_sign_agreement: f64,
    /// Among top pairs with S_jl > 0, the fraction with B_jl < 0 (NaN if none).
    pub repulsion_fraction: f64,
    /// Number of top pairs with S_jl > 0.
    pub positive_pairs: usize,
    /// Median |S_jl| over the top pairs.
    pub median_abs_similarity: f64,
    /// Fraction of the top pairs with B_jl < 0.
    pub negative_b_fraction: f64,
}

/// The per-pair values behind [`SignRule`], for tests and plots.
#[derive(Clone, Debug, PartialEq)]
pub struct PairAlgebra {
    /// The top pairs (j < l), by descending |S|, ties by index order.
    pub pairs: Vec<(usize, usize)>,
    /// S_jl.
    pub similarity: Vec<f64>,
    /// B_jl = −(1/η) f̃_jᵀ G f̃_l.
    pub b: Vec<f64>,
    /// The paper's B_pub,jl = −(1/η²) f̃_jᵀ G f̃_l.
    pub b_published: Vec<f64>,
    /// r_pub,jl = f̃_jᵀ (I − A/η + AGA/η²) f̃_l, as the paper's code computes it.
    pub r_published: Vec<f64>,
    /// The same r_pub by a second route without the A G A product:
    /// AGA = A − ηI + η²G gives f̃_jᵀ((1 − 1/η) I + (1/η² − 1/η) A + G) f̃_l.
    pub r_published_identity: Vec<f64>,
    /// r_jl = f̃_jᵀ P_{η,−jl} f̃_l.
    pub r_exact: Vec<f64>,
    /// f̃_jᵀ (ηG) f̃_l.
    pub r_full_projector: Vec<f64>,
}

/// F̃ = F − column means.
pub fn centre_columns(f: &Mat<f64>) -> Mat<f64> {
    let n = f.nrows() as f64;
    let means: Vec<f64> = (0..f.ncols()).map(|j| f.col(j).iter().sum::<f64>() / n).collect();
    Mat::from_fn(f.nrows(), f.ncols(), |i, j| f[(i, j)] - means[j])
}

/// A matrix's entries, row-major.
fn row_major(x: MatRef<'_, f64>) -> Vec<f64> {
    (0..x.nrows()).flat_map(|i| (0..x.ncols()).map(move |j| x[(i, j)])).collect()
}

/// lhs · rhs by the canonical product ([`crate::numerics::matmul`]).
fn product(lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>) -> Mat<f64> {
    let (m, k, n) = (lhs.nrows(), lhs.ncols(), rhs.ncols());
    let c = crate::numerics::matmul(&row_major(lhs), &row_major(rhs), m, k, n);
    Mat::from_fn(m, n, |i, j| c[i * n + j])
}

/// X Xᵀ for X (r×c): the lower triangle by the canonical product, mirrored.
fn gram_of_rows(x: MatRef<'_, f64>) -> Mat<f64> {
    let (r, c) = (x.nrows(), x.ncols());
    let lower = crate::numerics::lower_gram_rows(&row_major(x), (r, c), crate::numerics::Gram::OfRows, 0..r);
    Mat::from_fn(r, r, |i, j| if j <= i { lower[i * r + j] } else { lower[j * r + i] })
}

/// Cosine similarities S (K×K) of the columns of F̃.
pub fn cosine_similarity(ft: &Mat<f64>) -> Mat<f64> {
    let gram = gram_of_rows(ft.transpose());
    let norms: Vec<f64> = (0..gram.ncols()).map(|j| gram[(j, j)].max(0.0).sqrt().max(NORM_FLOOR)).collect();
    Mat::from_fn(gram.nrows(), gram.ncols(), |j, l| gram[(j, l)] / (norms[j] * norms[l]))
}

/// The `count` unordered pairs j < l with the largest |S_jl|, ties by index order.
pub fn top_pairs(similarity: &Mat<f64>, count: usize) -> Vec<(usize, usize)> {
    let k = similarity.ncols();
    let mut all: Vec<(f64, usize, usize)> =
        (0..k).flat_map(|j| (j + 1..k).map(move |l| (j, l))).map(|(j, l)| (similarity[(j, l)].abs(), j, l)).collect();
    let order =
        |x: &(f64, usize, usize), y: &(f64, usize, usize)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2));
    let count = count.min(all.len());
    if count < all.len() && count > 0 {
        all.select_nth_unstable_by(count - 1, order);
        all.truncate(count);
    }
    all.sort_by(order);
    all.into_iter().take(count).map(|(_, j, l)| (j, l)).collect()
}

/// sgn with sgn(0) = 0.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Why the pair algebra cannot be computed at a checkpoint.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Undefined {
    /// η ≤ 0 (or not a number): B is singular at η = 0 when K > n.
    #[error("Theorem 6 needs η > 0 (B is singular at η = 0 when K > n); η = {0}")]
    Eta(f64),
    /// A + ηI has no Cholesky factor in f64 (a diverged or collapsed
    /// network, or η below A's rounding).
    #[error("A + ηI has no Cholesky factor in f64")]
    Factor(#[source] crate::numerics::cholesky::NotPositiveDefinite),
}

/// The pair algebra (docs/methods.md, "Theorem 6") on centred features F̃ (n×K).
pub fn pair_algebra(ft: &Mat<f64>, eta: f64, pair_count: usize) -> Result<PairAlgebra, Undefined> {
    if eta.is_nan() || eta <= 0.0 {
        return Err(Undefined::Eta(eta));
    }
    let similarity = cosine_similarity(ft);
    let pairs = top_pairs(&similarity, pair_count);
    let mut columns: Vec<usize> = pairs.iter().flat_map(|&(j, l)| [j, l]).collect();
    columns.sort_unstable();
    columns.dedup();
    let slot = |c: usize| columns.binary_search(&c).expect("pair column");
    let n = ft.nrows();
    let u = Mat::from_fn(n, columns.len(), |i, c| ft[(i, columns[c])]);

    let a = gram_of_rows(ft.as_ref());
    let a_eta: Vec<f64> = (0..n * n).map(|x| a[(x / n, x % n)] + if x / n == x % n { eta } else { 0.0 }).collect();
    let llt = Cholesky::factor(&a_eta, n).map_err(Undefined::Factor)?;
    let solve = |rhs: &Mat<f64>| {
        let c = rhs.ncols();
        let x = llt.solve(&row_major(rhs.as_ref()), c);
        Mat::from_fn(n, c, |i, j| x[i * c + j])
    };
    let g_u = solve(&u); // G U
    let a_u = product(a.as_ref(), u.as_ref()); // A U
    let g_a_u = solve(&a_u); // G A U
    let ugu = product(u.transpose(), g_u.as_ref()); // Uᵀ G U
    let uu = product(u.transpose(), u.as_ref()); // Uᵀ U
    let uau = product(u.transpose(), a_u.as_ref()); // Uᵀ A U
    let uagau = product(a_u.transpose(), g_a_u.as_ref()); // Uᵀ A G A U

    let mut out = PairAlgebra {
        pairs: pairs.clone(),
        similarity: Vec::new(),
        b: Vec::new(),
        b_published: Vec::new(),
        r_published: Vec::new(),
        r_published_identity: Vec::new(),
        r_exact: Vec::new(),
        r_full_projector: Vec::new(),
    };
    for &(j, l) in &pairs {
        let (sj, sl) = (slot(j), slot(l));
        let (g_jj, g_jl, g_ll) = (ugu[(sj, sj)], ugu[(sj, sl)], ugu[(sl, sl)]);
        out.similarity.push(similarity[(j, l)]);
        out.b.push(-g_jl / eta);
        out.b_published.push(-g_jl / (eta * eta));
        out.r_published.push(uu[(sj, sl)] - uau[(sj, sl)] / eta + uagau[(sj, sl)] / (eta * eta));
        out.r_published_identity
            .push((1.0 - 1.0 / eta) * uu[(sj, sl)] + (1.0 / (eta * eta) - 1.0 / eta) * uau[(sj, sl)] + g_jl);
        out.r_exact.push(eta * leave_pair_out(g_jj, g_jl, g_ll));
        out.r_full_projector.push(eta * g_jl);
    }
    Ok(out)
}

/// f̃_jᵀ (A − f̃_j f̃_jᵀ − f̃_l f̃_lᵀ + ηI)⁻¹ f̃_l from the entries of UᵀGU on
/// {j, l}, by the rank-2 Woodbury downdate
/// (G⁻¹ − U₂U₂ᵀ)⁻¹ = G + GU₂(I − U₂ᵀGU₂)⁻¹U₂ᵀG.
fn leave_pair_out(g_jj: f64, g_jl: f64, g_ll: f64) -> f64 {
    // (I − Q) = [[1 − g_jj, −g_jl], [−g_jl, 1 − g_ll]], inverted explicitly.
    let (p, q, s) = (1.0 - g_jj, -g_jl, 1.0 - g_ll);
    let det = p * s - q * q;
    let inv = [[s / det, -q / det], [-q / det, p / det]];
    let left = [g_jj, g_jl]; // f̃_jᵀ G U₂
    let right = [g_jl, g_ll]; // U₂ᵀ G f̃_l
    let correction: f64 = (0..2).map(|r| (0..2).map(|c| left[r] * inv[r][c] * right[c]).sum::<f64>()).sum();
    g_jl + correction
}

impl PairAlgebra {
    /// Fraction of pairs where sgn(b) = −sgn(r).
    fn sign_match(b: &[f64], r: &[f64]) -> f64 {
        let hits = b.iter().zip(r).filter(|(b, r)| sign(**b) == -sign(**r)).count();
        hits as f64 / b.len().max(1) as f64
    }

    /// Fraction of pairs where `x` and `y` have the same sign.
    fn sign_agreement(x: &[f64], y: &[f64]) -> f64 {
        let hits = x.iter().zip(y).filter(|(a, b)| a.signum() == b.signum()).count();
        hits as f64 / x.len().max(1) as f64
    }

    /// The per-checkpoint quantities (docs/methods.md, "Theorem 6").
    pub fn summary(&self) -> SignRule {
        let positive: Vec<f64> =
            self.similarity.iter().zip(&self.b).filter(|(s, _)| **s > 0.0).map(|(_, b)| *b).collect();
        let repulsive = positive.iter().filter(|b| **b < 0.0).count();
        let abs_similarity: Vec<f64> = self.similarity.iter().map(|s| s.abs()).collect();
        SignRule {
            pairs: self.pairs.len(),
            published_sign_match: Self::sign_match(&self.b_published, &self.r_published),
            published_sign_match_identity: Self::sign_match(&self.b_published, &self.r_published_identity),
            exact_sign_match: Self::sign_match(&self.b, &self.r_exact),
            full_projector_sign_match: Self::sign_match(&self.b, &self.r_full_projector),
            projector_sign_agreement: Self::sign_agreement(&self.r_full_projector, &self.r_exact),
            repulsion_fraction: if positive.is_empty() { f64::NAN } else { repulsive as f64 / positive.len() as f64 },
            positive_pairs: positive.len(),
            median_abs_similarity: crate::probes::stats::median(&abs_similarity),
            negative_b_fraction: self.b.iter().filter(|b| **b < 0.0).count() as f64 / self.b.len().max(1) as f64,
        }
    }
}

/// The Theorem-6 analysis (docs/methods.md, "Theorem 6") of a checkpoint's
/// features F on the training pairs (n×K, f64).
pub fn sign_rule(features: &Mat<f64>, eta: f64, pair_count: usize) -> Result<SignRule, Undefined> {
    Ok(pair_algebra(&centre_columns(features), eta, pair_count)?.summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Side;
    use faer::linalg::solvers::DenseSolveCore;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, k: usize, seed: u64) -> Mat<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Correlated columns (a shared low-rank part) so that |S| varies.
        let basis: Vec<f64> = (0..n * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mix: Vec<f64> = (0..k * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
        let f = Mat::from_fn(n, k, |i, j| {
            (0..3).map(|r| basis[i * 3 + r] * mix[j * 3 + r]).sum::<f64>() + 0.3 * rng.random_range(-1.0..1.0)
        });
        centre_columns(&f)
    }

    const SHAPES: [(usize, usize); 4] = [(12, 30), (30, 12), (25, 25), (40, 64)];
    const ETAS: [f64; 4] = [1e-6, 1e-4, 1e-2, 1.0];

    /// B from the Cholesky path equals a direct K×K inverse; B_pub does not.
    #[test]
    fn b_matches_direct_inverse_and_published_does_not() {
        for (case, &(n, k)) in SHAPES.iter().enumerate() {
            for &eta in &ETAS {
                let ft = random(n, k, case as u64);
                let alg = pair_algebra(&ft, eta, 20).unwrap();
                let c = product(ft.transpose(), ft.as_ref());
                let c_eta = Mat::from_fn(k, k, |i, j| c[(i, j)] + if i == j { eta } else { 0.0 });
                let direct = c_eta.llt(Side::Lower).unwrap().inverse();
                let scale = (0..k).map(|i| direct[(i, i)].abs()).fold(0.0, f64::max);
                for (p, &(j, l)) in alg.pairs.iter().enumerate() {
                    let err = (alg.b[p] - direct[(j, l)]).abs() / scale;
                    assert!(err <= 1e-8, "n={n} k={k} eta={eta}: B_{j}{l} rel. error {err:e}");
                    if eta != 1.0 && direct[(j, l)].abs() > 1e-6 * scale {
                        assert!((alg.b_published[p] - direct[(j, l)]).abs() > 0.5 * direct[(j, l)].abs());
                    }
                }
            }
        }
    }

    /// Exact sign-match is 1 on every pair, with P_{η,−jl} and with ηG.
    #[test]
    fn exact_rule_is_an_identity() {
        for (case, &(n, k)) in SHAPES.iter().enumerate() {
            for &eta in &ETAS {
                let rule = pair_algebra(&random(n, k, 10 + case as u64), eta, 50).unwrap().summary();
                assert_eq!(rule.exact_sign_match, 1.0, "n={n} k={k} eta={eta}");
                assert_eq!(rule.full_projector_sign_match, 1.0, "n={n} k={k} eta={eta}");
            }
        }
    }

    /// The leave-pair-out r equals a fresh inverse without columns j, l.
    #[test]
    fn leave_pair_out_matches_fresh_inverse() {
        let (n, k, eta) = (15, 9, 0.05);
        let ft = random(n, k, 3);
        let alg = pair_algebra(&ft, eta, 10).unwrap();
        for (p, &(j, l)) in alg.pairs.iter().enumerate() {
            let rest: Vec<usize> = (0..k).filter(|&c| c != j && c != l).collect();
            let m = Mat::from_fn(n, n, |r, s| {
                rest.iter().map(|&c| ft[(r, c)] * ft[(s, c)]).sum::<f64>() + if r == s { eta } else { 0.0 }
            });
            let inv = m.llt(Side::Lower).unwrap().inverse();
            let r: f64 = (0..n)
                .flat_map(|x| (0..n).map(move |y| (x, y)))
                .map(|(x, y)| ft[(x, j)] * inv[(x, y)] * ft[(y, l)])
                .sum::<f64>()
                * eta;
            assert!((r - alg.r_exact[p]).abs() <= 1e-8 * r.abs().max(1e-12), "pair {j},{l}: {r} vs {}", alg.r_exact[p]);
        }
    }

    /// The two routes to r_pub agree (relative to the size of their terms).
    #[test]
    fn published_r_routes_agree() {
        for (case, &(n, k)) in SHAPES.iter().enumerate() {
            for &eta in &ETAS {
                let alg = pair_algebra(&random(n, k, 40 + case as u64), eta, 30).unwrap();
                for (a, b) in alg.r_published.iter().zip(&alg.r_published_identity) {
                    let scale = a.abs().max(b.abs()).max(1.0 / (eta * eta) * 1e-6);
                    assert!((a - b).abs() <= 1e-6 * scale, "n={n} k={k} eta={eta}: {a} vs {b}");
                }
            }
        }
    }

    /// The published procedure is not an identity: some case misses.
    #[test]
    fn published_sign_match_is_not_identically_one() {
        let misses = SHAPES
            .iter()
            .enumerate()
            .flat_map(|(case, &(n, k))| {
                ETAS.map(|eta| {
                    pair_algebra(&random(n, k, 20 + case as u64), eta, 50).unwrap().summary().published_sign_match
                })
            })
            .filter(|&m| m < 1.0)
            .count();
        assert!(misses > 0, "published sign-match was 1 in every case");
    }

    /// A zero network (every feature 0) at a tiny η, and η = 0: undefined, with the reason.
    #[test]
    fn undefined_cases_are_errors_not_panics() {
        let zero = Mat::<f64>::zeros(6, 4);
        assert!(matches!(pair_algebra(&zero, 0.0, 3), Err(Undefined::Eta(_))));
        let nan = Mat::<f64>::from_fn(6, 4, |_, _| f64::NAN);
        let err = pair_algebra(&nan, 1e-4, 3).unwrap_err();
        assert!(format!("{:#}", anyhow::Error::new(err.clone())).contains("not positive definite"), "{err}");
    }

    #[test]
    fn top_pairs_equal_brute_force_sort() {
        for (case, &(n, k)) in SHAPES.iter().enumerate() {
            let s = cosine_similarity(&random(n, k, 30 + case as u64));
            let mut brute: Vec<(usize, usize)> = (0..k).flat_map(|j| (j + 1..k).map(move |l| (j, l))).collect();
            brute.sort_by(|x, y| s[(y.0, y.1)].abs().total_cmp(&s[(x.0, x.1)].abs()).then(x.cmp(y)));
            for count in [1, 7, 40, k * (k - 1) / 2] {
                assert_eq!(top_pairs(&s, count), brute[..count.min(brute.len())].to_vec());
            }
        }
        // Ties go by index order.
        let tied = Mat::from_fn(3, 3, |i, j| if i == j { 1.0 } else { 0.5 });
        assert_eq!(top_pairs(&tied, 2), vec![(0, 1), (0, 2)]);
    }
}
