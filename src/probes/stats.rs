//! Statistics as numpy computes them (docs/methods.md, "Statistics").

/// The q-quantile (q ∈ [0, 1]) of values within one run (the epochs of a
/// window, the pairs of a checkpoint) with numpy's default linear
/// interpolation. NaNs are ignored (`nanpercentile`: an epoch or pair with
/// no defined value); NaN when nothing is left. Statistics over seeds are
/// never taken here: they use `claims::value::quantile`, where an
/// undefined seed is any number (docs/methods.md, "Statistics").
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    interpolate(&sorted, q)
}

/// numpy's linear interpolation, the one implementation both quantiles
/// share: the value at position q·(n − 1) of `sorted` (ascending, not
/// empty), between the two order statistics around it.
pub fn interpolate(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    let frac = position - lo as f64;
    // Equal neighbours (two infinities too) need no interpolation.
    if frac == 0.0 || sorted[lo] == sorted[hi] { sorted[lo] } else { sorted[lo] + (sorted[hi] - sorted[lo]) * frac }
}

/// NaN-ignoring median (numpy `nanmedian`).
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// Median and interquartile range of a sample, the paper's "m [q25, q75]".
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Median.
    pub median: f64,
    /// 25th percentile.
    pub q25: f64,
    /// 75th percentile.
    pub q75: f64,
}

impl Summary {
    /// Median and quartiles of the non-NaN values.
    pub fn of(values: &[f64]) -> Self {
        Self { median: median(values), q25: quantile(values, 0.25), q75: quantile(values, 0.75) }
    }

    /// q75 − q25.
    pub fn iqr_width(&self) -> f64 {
        self.q75 - self.q25
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_interpolation() {
        // numpy: np.percentile([1, 2, 3, 4], [25, 50, 75]) = [1.75, 2.5, 3.25]
        let x = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(Summary::of(&x), Summary { median: 2.5, q25: 1.75, q75: 3.25 });
        // np.percentile([173, 174, 174, 175, 180], 25) = 174.0
        assert_eq!(quantile(&[173.0, 174.0, 174.0, 175.0, 180.0], 0.25), 174.0);
        assert_eq!(median(&[5.0]), 5.0);
    }

    #[test]
    fn ignores_nan_and_handles_empty() {
        assert_eq!(median(&[f64::NAN, 1.0, 3.0]), 2.0);
        assert!(median(&[]).is_nan());
        assert!(median(&[f64::NAN]).is_nan());
    }
}
