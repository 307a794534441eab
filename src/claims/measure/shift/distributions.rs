//! The reference distributions the intervals read (docs/methods.md,
//! "Comparisons over seeds"): the standard normal and Student's t, by
//! their cumulative distribution functions and quantiles. libm's erfc and
//! lgamma give the same bits on every platform.

/// Φ(z): the standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Student's t CDF with `df` > 0 degrees of freedom (not necessarily a
/// whole number): 1 − ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0, by symmetry
/// below 0.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The p-quantile of a continuous, increasing `cdf` on the real line, by
/// bisection to f64 resolution (monotone, so the same bits everywhere).
pub fn quantile_of(cdf: impl Fn(f64) -> f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (-1e3, 1e3);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if cdf(mid) < p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (modified Lentz), on the side where it converges fast.
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        log_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - log_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of I_x(a, b): 1 / (1 + d₁ / (1 + d₂ / ...)),
/// with d₂ₘ₊₁ = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)) and
/// d₂ₘ = m(b − m)x / ((a + 2m − 1)(a + 2m)).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (mut c, mut d) = (1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0)));
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        for coefficient in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 / guard(1.0 + coefficient * d);
            c = guard(1.0 + coefficient / c);
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Values from the standard tables (scipy.stats.norm / t).
    #[test]
    fn the_tables_values() {
        assert_abs_diff_eq!(normal_cdf(1.959_963_985), 0.975, epsilon = 1e-9);
        assert_abs_diff_eq!(quantile_of(normal_cdf, 0.975), 1.959_963_985, epsilon = 1e-8);
        // t.ppf(0.975, 3) = 3.182446305; t.ppf(0.975, 10) = 2.228138852;
        // t.cdf(1, 1) = 0.75 (Cauchy); I_0.3(2, 3) = P(Bin(4, 0.3) ≥ 2) = 0.3483.
        assert_abs_diff_eq!(quantile_of(|t| t_cdf(t, 3.0), 0.975), 3.182_446_305, epsilon = 1e-7);
        assert_abs_diff_eq!(quantile_of(|t| t_cdf(t, 10.0), 0.975), 2.228_138_852, epsilon = 1e-7);
        assert_abs_diff_eq!(t_cdf(1.0, 1.0), 0.75, epsilon = 1e-12);
        assert_abs_diff_eq!(t_cdf(-1.0, 1.0), 0.25, epsilon = 1e-12);
        assert_abs_diff_eq!(incomplete_beta(0.3, 2.0, 3.0), 0.3483, epsilon = 1e-12);
    }
}
