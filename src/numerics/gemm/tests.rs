//! The canonical product against its definition, on every kernel path
//! this CPU runs.

use super::*;
use rand::{Rng, SeedableRng};

fn random<T: From<f32>>(len: usize, seed: u64) -> Vec<T> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| T::from(rng.random_range(-1.0f32..1.0))).collect()
}

/// The definition, one entry at a time with `mul_add`.
fn reference<T: Element>(a: &[T], b: &[T], m: usize, k: usize, n: usize) -> Vec<T> {
    let mut c = vec![T::default(); m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).fold(T::default(), |acc, q| a[i * k + q].fma(b[q * n + j], acc));
        }
    }
    c
}

/// The product on `path` equals the reference, C given full of NaN: the
/// kernels write every entry in the first k-block without reading it (a
/// reused C is not cleared, `product_into`).
fn bits_equal<T: Element + From<f32>>(path: KernelPath, m: usize, k: usize, n: usize, seed: u64) {
    let (a, b) = (random::<T>(m * k, seed), random::<T>(k * n, seed + 1));
    let mut c = vec![T::from(f32::NAN); m * n];
    T::product(
        path,
        &Problem {
            a: &a,
            a_strides: (k, 1),
            b: &b,
            b_transposed: false,
            k,
            n,
            rows: 0..m,
            lower: false,
            shared_b: None,
        },
        &mut c,
    );
    assert_eq!(c, reference(&a, &b, m, k, n), "{path:?} {m}×{k}×{n}");
    let a_t = super::super::transpose(&a, m, k);
    let mut c_tn = vec![T::from(f32::NAN); m * n];
    let tn = Problem {
        a: &a_t,
        a_strides: (1, m),
        b: &b,
        b_transposed: false,
        k,
        n,
        rows: 0..m,
        lower: false,
        shared_b: None,
    };
    T::product(path, &tn, &mut c_tn);
    assert_eq!(c_tn, c, "{path:?} {m}×{k}×{n}, Aᵀ given");
}

/// Every path this CPU runs, on shapes with row, column and k remainders
/// (k > KC, and k > KC_IN_PLACE with A read in place, continue the
/// chain across blocks), gives the reference bits.
#[test]
fn every_path_gives_the_reference_bits() {
    // k = 1; m > MC (a second row group); wide, narrow and padded tails;
    // A read in place (n ≤ IN_PLACE_BLOCKS column blocks) and packed
    // (300 columns); AVX-512 f32's 64-wide blocks with a padded (300)
    // and a 32-wide (288) tail; A packed on every path (640 columns: ten
    // 64-wide blocks) over two k-blocks and two row groups, the second of
    // 7 rows (4, 2, 1), so that the reused panel buffer is packed again
    // smaller and larger.
    let shapes = [
        (103, 200, 640),
        (29, 200, 300),
        (103, 200, 300),
        (1, 1, 1),
        (7, 3, 5),
        (7, 1, 5),
        (19, 1, 71),
        (19, 300, 71),
        (19, 1100, 71),
        (13, 600, 33),
        (9, 257, 16),
        (101, 70, 45),
        (101, 200, 12),
        (13, 200, 288),
    ];
    for path in KernelPath::ALL.into_iter().filter(|p| p.supported()) {
        for (s, &(m, k, n)) in shapes.iter().enumerate() {
            bits_equal::<f32>(path, m, k, n, s as u64);
            bits_equal::<f64>(path, m, k, n, s as u64);
        }
    }
}

/// The reference is the product: within f32 rounding of an f64 sum.
#[test]
fn the_product_is_a_product() {
    let (m, k, n) = (5, 40, 6);
    let (a, b) = (random::<f32>(m * k, 3), random::<f32>(k * n, 4));
    let c = matmul(&a, &b, m, k, n);
    for i in 0..m {
        for j in 0..n {
            let exact: f64 = (0..k).map(|q| a[i * k + q] as f64 * b[q * n + j] as f64).sum();
            approx::assert_abs_diff_eq!(c[i * n + j] as f64, exact, epsilon = 1e-5);
        }
    }
}

/// The lower triangle on every path, f32 and f64, against the
/// reference: rows split off at 3 and crossing row groups (MC), to the
/// last row or to two thirds of them (B packed only as far as they read), n with
/// narrow or padded tails, X read in place (n ≤ 110 in f32; 45 in f64
/// on AVX2) and packed (300 on every path).
#[test]
fn every_path_gives_the_reference_lower_triangle() {
    fn lower<T: Element + From<f32>>(path: KernelPath, n: usize, k: usize, rows: Range<usize>) {
        let x = random::<T>(n * k, n as u64);
        let xt = super::super::transpose(&x, n, k);
        let full = reference(&x, &xt, n, k, n);
        // X Xᵀ with Xᵀ given, and read from X; the same Gram as XᵀX of Xᵀ.
        let given = Problem {
            a: &x,
            a_strides: (k, 1),
            b: &xt,
            b_transposed: false,
            k,
            n,
            rows: rows.clone(),
            lower: true,
            shared_b: None,
        };
        let read = Problem {
            a: &x,
            a_strides: (k, 1),
            b: &x,
            b_transposed: true,
            k,
            n,
            rows: rows.clone(),
            lower: true,
            shared_b: None,
        };
        let columns = Problem {
            a: &xt,
            a_strides: (1, n),
            b: &xt,
            b_transposed: false,
            k,
            n,
            rows: rows.clone(),
            lower: true,
            shared_b: None,
        };
        for p in [given, read, columns] {
            let mut c = vec![T::default(); rows.len() * n];
            T::product(path, &p, &mut c);
            for i in rows.clone() {
                let how = (p.b_transposed, p.a_strides);
                assert_eq!(&c[(i - rows.start) * n..][..=i], &full[i * n..][..=i], "{path:?} n {n}, row {i}, {how:?}");
            }
        }
    }
    for path in KernelPath::ALL.into_iter().filter(|p| p.supported()) {
        for (n, end) in [45, 71, 110, 288, 300].into_iter().flat_map(|n| [(n, n), (n, n * 2 / 3)]) {
            lower::<f32>(path, n, 50, 3..end);
            lower::<f64>(path, n, 50, 3..end);
        }
    }
}

/// A product with no B, for the tests of A's packing and prefetch.
fn packing_only(a: &[f32], a_strides: (usize, usize), k: usize, rows: Range<usize>) -> Problem<'_, f32> {
    Problem { a, a_strides, b: &[], b_transposed: false, k, n: 0, rows, lower: false, shared_b: None }
}

/// Packing A given as Aᵀ (k by k) lays out the panels exactly as
/// packing the row-major A does, for every register-block height, group
/// length (remainders included), k-block length and first row.
#[test]
fn transposed_packing_matches_row_major_packing() {
    fn check<const R: usize>() {
        for (len, kc, start) in
            (1..=2 * R + 3).flat_map(|l| [1, 3, 8].map(|kc| (l, kc))).flat_map(|(l, kc)| [(l, kc, 0), (l, kc, 5)])
        {
            let (m, k) = (start + len + 2, 2 * kc + 1);
            let a = random::<f32>(m * k, (len * kc) as u64);
            let a_t = super::super::transpose(&a, m, k);
            let (block, rows) = (Block { k0: 1, kc, ldc: 0, first: false }, start..start + len);
            let row_major = packing_only(&a, (k, 1), k, rows.clone());
            let given_t = packing_only(&a_t, (1, m), k, rows.clone());
            let (mut from_rows, mut from_t) = (Vec::new(), Vec::new());
            pack::pack_rows::<f32, R>(&row_major, &block, rows.clone(), &mut from_rows);
            pack::pack_rows::<f32, R>(&given_t, &block, rows, &mut from_t);
            assert_eq!(from_t, from_rows, "R {R}, {len} rows from {start}, kc {kc}");
        }
    }
    check::<4>();
    check::<6>();
    check::<8>();
    check::<12>();
}

/// The group the prefetch reads ahead is the one `drive` packs next:
/// across row groups, across k-blocks, and none after the last.
#[test]
fn the_next_group_is_the_one_drive_packs_next() {
    let (k, rows) = (400, 3..200);
    let a = vec![0.0f32; rows.end * k];
    let p = packing_only(&a, (k, 1), k, rows.clone());
    let order: Vec<(usize, Range<usize>)> =
        (0..k).step_by(KC).flat_map(|k0| rows.clone().step_by(MC).map(move |g| (k0, g..(g + MC).min(200)))).collect();
    for pair in order.windows(2) {
        assert_eq!(pack::next_group(&p, pair[0].0, pair[0].1.start), Some(pair[1].clone()));
    }
    let (k0, last) = order.last().expect("groups").clone();
    assert_eq!(pack::next_group(&p, k0, last.start), None);
}

/// Split rows and the lower-triangle variant give the same entries.
#[test]
fn row_splits_and_lower_triangle_agree() {
    let (n, k) = (45, 300);
    let x = random::<f32>(n * k, 8);
    let xt = super::super::transpose(&x, n, k);
    let full = matmul(&x, &xt, n, k, n);
    for (x, shape, of) in [(&x, (n, k), Gram::OfRows), (&xt, (k, n), Gram::OfColumns)] {
        let top = lower_gram_rows(x, shape, of, 0..20);
        let bottom = lower_gram_rows(x, shape, of, 20..45);
        for i in 0..n {
            let row = if i < 20 { &top[i * n..][..n] } else { &bottom[(i - 20) * n..][..n] };
            assert_eq!(&row[..=i], &full[i * n..][..=i], "row {i}, {of:?}");
        }
    }
}

/// `matmul_shared` into a reused C gives a fresh product's bits: a buffer
/// left full of NaN by an earlier product, larger or smaller, is resized
/// and overwritten whole; with k = 0 (no kernel runs) it is zeros. (That
/// the kernels never read C in the first k-block, on every path and with
/// A in place or packed, is `every_path_gives_the_reference_bits`'.)
#[test]
fn a_reused_buffer_gives_a_fresh_products_bits() {
    let (k, n) = (300, 71);
    let b = random::<f32>(k * n, 7);
    let shared = SharedB::new(&b, k, n);
    let mut c = Vec::new();
    for (m, seed) in [(50, 1), (257, 2), (13, 3)] {
        let a = random::<f32>(m * k, seed);
        c.fill(f32::NAN);
        c.resize(c.len().max(m * n + 5), f32::NAN);
        matmul_shared(&a, &shared, m, &mut c);
        assert_eq!(c, reference(&a, &b, m, k, n), "{m} rows into a reused buffer");
    }
    let empty = SharedB::new(&[], 0, n);
    c.fill(f32::NAN);
    matmul_shared(&[], &empty, 4, &mut c);
    assert_eq!(c, vec![0.0; 4 * n], "k = 0: C = 0");
}
