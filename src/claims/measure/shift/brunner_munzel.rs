//! The Brunner–Munzel interval for P(A < B) + ½·P(A = B), the unpaired
//! form that does not assume the two seed distributions have one shape
//! (Brunner & Munzel 2000, *The nonparametric Behrens–Fisher problem*,
//! Biometrical Journal 42; Neubert & Brunner 2007, Computational
//! Statistics & Data Analysis 51; docs/methods.md, "Comparisons over
//! seeds"). It reads only which of aᵢ and bⱼ is smaller, so censored values
//! take part wherever their bounds decide every comparison.

use std::cmp::Ordering;

use super::distributions::{quantile_of, t_cdf};
use crate::claims::value::Value;

/// The interval [low, high] of p = P(A < B) + ½·P(A = B) at a level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// The estimate p̂.
    pub estimate: f64,
    /// Lower end (≥ 0).
    pub low: f64,
    /// Upper end (≤ 1).
    pub high: f64,
}

/// Why there is no interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoInterval {
    /// A side has fewer than 2 seeds: no spread to estimate.
    TooFewSeeds,
    /// A comparison of aᵢ with bⱼ that their bounds leave open.
    Undecided,
    /// Every a lies on one side of every b (or all are tied): the
    /// variance estimate is 0, and the t interval says nothing.
    Separated,
}

/// Which of `a` and `b` is smaller, where their bounds decide it.
fn compare(a: Value, b: Value) -> Option<Ordering> {
    if a.hi < b.lo {
        Some(Ordering::Less)
    } else if a.lo > b.hi {
        Some(Ordering::Greater)
    } else {
        (a.number().is_some() && a.number() == b.number()).then_some(Ordering::Equal)
    }
}

/// The Brunner–Munzel interval at `level` for samples `a` and `b`: with
/// placements P_ai = #{b below aᵢ} + ½#{b = aᵢ} and P_bj = #{a below bⱼ} +
/// ½#{a = bⱼ}, p̂ = mean(P_b)/n_a, σ̂² = S_a²/(n_a·n_b²) + S_b²/(n_b·n_a²)
/// (S² the placements' sample variances), and p̂ ± t_{df}·σ̂ with
/// Satterthwaite's df, clipped to [0, 1].
pub fn interval(a: &[Value], b: &[Value], level: f64) -> Result<Interval, NoInterval> {
    let (na, nb) = (a.len(), b.len());
    if na < 2 || nb < 2 {
        return Err(NoInterval::TooFewSeeds);
    }
    let mut placement_a = vec![0.0; na];
    let mut placement_b = vec![0.0; nb];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            let (to_a, to_b) = match compare(*x, *y).ok_or(NoInterval::Undecided)? {
                Ordering::Less => (0.0, 1.0),
                Ordering::Equal => (0.5, 0.5),
                Ordering::Greater => (1.0, 0.0),
            };
            placement_a[i] += to_a;
            placement_b[j] += to_b;
        }
    }
    let (na, nb) = (na as f64, nb as f64);
    let estimate = mean(&placement_b) / na;
    let va = variance(&placement_a) / (na * nb * nb);
    let vb = variance(&placement_b) / (nb * na * na);
    if va + vb == 0.0 {
        return Err(NoInterval::Separated);
    }
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let t = quantile_of(|t| t_cdf(t, df), 0.5 + level / 2.0);
    let half = t * (va + vb).sqrt();
    Ok(Interval { estimate, low: (estimate - half).max(0.0), high: (estimate + half).min(1.0) })
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// The sample variance (n − 1 in the denominator).
fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(values: &[f64]) -> Vec<Value> {
        values.iter().copied().map(Value::exact).collect()
    }

    /// Brunner & Munzel's own worked example (pain scores after two
    /// surgical methods, their Table 1; R's `lawstat::brunner.munzel.test`
    /// gives p̂ = 0.788961, df = 17.683, 95 % interval [0.5952, 0.9827]).
    #[test]
    fn the_papers_worked_example() {
        let y = exact(&[1., 2., 1., 1., 1., 1., 1., 1., 1., 1., 2., 4., 1., 1.]);
        let n = exact(&[3., 3., 4., 3., 1., 2., 3., 1., 1., 5., 4.]);
        let i = interval(&y, &n, 0.95).unwrap();
        assert!((i.estimate - 0.788_961).abs() < 1e-6, "{i:?}");
        assert!((i.low - 0.5952).abs() < 1e-3 && (i.high - 0.9827).abs() < 1e-3, "{i:?}");
    }

    #[test]
    fn separation_and_open_comparisons_give_no_interval() {
        let low = exact(&[1.0, 2.0, 3.0]);
        let high = exact(&[10.0, 11.0, 12.0]);
        assert_eq!(interval(&low, &high, 0.95), Err(NoInterval::Separated));
        let censored = vec![Value::at_least(5.0); 3];
        assert_eq!(interval(&low, &censored, 0.95), Err(NoInterval::Separated), "decided by the bounds");
        assert_eq!(interval(&high, &censored, 0.95), Err(NoInterval::Undecided));
        assert_eq!(interval(&low[..1], &high, 0.95), Err(NoInterval::TooFewSeeds));
    }
}
