//! How numbers are printed for people: tables, messages, snapshots. Never
//! used for a verdict (those compare the f64 values themselves).

/// A number rounded to 4 significant digits for tables (never for verdicts).
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if (1e-3..1e5).contains(&x.abs()) { significant(x, 4) } else { format!("{x:.3e}") }
}

/// `x` in fixed notation to `n` significant digits, trailing zeros dropped:
/// `significant(0.3811, 2)` is "0.38", `significant(1.0, 2)` is "1" (at
/// most 6 decimals).
pub fn significant(x: f64, n: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return num(x);
    }
    let digits = (n - 1 - libm::log10(x.abs()).floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_drop_trailing_zeros() {
        assert_eq!(significant(1.1, 2), "1.1");
        assert_eq!(significant(0.3811, 2), "0.38");
        assert_eq!(significant(1.0, 2), "1");
        assert_eq!(significant(1.4999, 2), "1.5");
        assert_eq!(significant(0.0, 2), "0", "log10(0) overflowed the digit count");
    }

    #[test]
    fn numbers_round_for_display() {
        assert_eq!(num(174.0), "174");
        assert_eq!(num(0.98533), "0.9853");
        assert_eq!(num(229.4567), "229.5");
        assert_eq!(num(8.4e-6), "8.400e-6");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1.0), "1");
    }
}
