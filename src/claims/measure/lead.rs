//! `kind: lead`: per seed of the listed conditions (pooled), the epochs of
//! two events, each a series first reaching a level, the lead between them
//! and the least-squares line through them (docs/methods.md, "Threshold
//! events and leads"). Quantities: docs/claims.md, "Measure kinds and
//! their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Event, Inputs, Kind, Measurement, seeds_of, summary_names, unknown_series};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::Value;
use crate::claims::value::quantile;
use crate::runs::series_names;
use crate::train::LevelLog;

/// Per seed, the epochs of two events (a series first reaching a level)
/// and the lead t_to − t_from, pooled over conditions; with the linear
/// fit t_from = slope · t_to + intercept (numpy's polyfit) and its R².
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lead {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment names whose seeds are pooled.
    pub conditions: Vec<String>,
    /// The earlier event, e.g. `{series: rho, threshold: 0.075}`.
    pub from: Event,
    /// The later event, e.g. `{series: test_acc, threshold: 0.5}`.
    pub to: Event,
}

impl Kind for Lead {
    condition_list!();

    fn level_needs(&self, e: &Experiment) -> Option<LevelLog> {
        LevelLog::union(self.from.level_log(e), self.to.level_log(e))
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        let (from, to) = (&self.from, &self.to);
        let last =
            self.conditions.iter().filter_map(|c| experiments.get(c)).map(|e| e.epochs).min().unwrap_or(usize::MAX);
        if self.conditions.is_empty() {
            return Err(Problem::new("conditions".into(), "at least one experiment is needed".into()));
        }
        if let Some(c) =
            self.conditions.iter().enumerate().find_map(|(i, c)| self.conditions[..i].contains(c).then_some(c))
        {
            return Err(Problem::new(
                "conditions".into(),
                format!(
                    "`{c}` is listed twice (a grid's `[*]` already includes each of its points): its seeds would count twice"
                ),
            ));
        }
        match [from, to].into_iter().find(|e| !series_names().contains(&e.series.as_str())) {
            Some(e) => Err(unknown_series(&e.series)),
            None if from == to => Err(Problem::new(
                "to".into(),
                format!("is `from` again ({} ≥ {}): the lead of an event over itself is 0", to.series, to.threshold),
            )),
            None => from.check(last).and(to.check(last)),
        }
    }

    fn needs(&self) -> Vec<String> {
        vec![self.from.series.clone(), self.to.series.clone()]
    }

    fn quantity_names(&self) -> Vec<String> {
        let mut names: Vec<String> = [
            "pairs",
            "positive_fraction",
            "lead_min",
            "lead_max",
            "lead_of_medians",
            "fit_slope",
            "fit_intercept",
            "fit_r2",
        ]
        .map(String::from)
        .to_vec();
        names.extend(summary_names(|s| format!("lead_{s}")));
        names
    }

    fn seed_counts(&self) -> Vec<String> {
        ["pairs", "positive_fraction"].map(String::from).to_vec()
    }

    fn rho_thresholds(&self) -> Vec<f64> {
        [&self.from, &self.to].into_iter().filter_map(Event::rho_threshold).collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let (mut events, mut seeds): (Vec<(f64, f64)>, Vec<u64>) = (Vec::new(), Vec::new());
        for condition in &self.conditions {
            let runs = (inputs.runs)(condition)?;
            events.extend(runs.iter().map(|r| (self.from.epoch(r), self.to.epoch(r))));
            seeds.extend(seeds_of(&runs));
        }
        let both: Vec<(f64, f64)> = events.iter().copied().filter(|(a, b)| !a.is_nan() && !b.is_nan()).collect();
        let leads: Vec<f64> = both.iter().map(|(a, b)| b - a).collect();
        out.set("pairs", both.len() as f64);
        out.set("positive_fraction", leads.iter().filter(|l| **l > 0.0).count() as f64 / leads.len() as f64);
        out.set("lead_min", leads.iter().copied().fold(f64::NAN, f64::min));
        out.set("lead_max", leads.iter().copied().fold(f64::NAN, f64::max));
        out.summary(&exact(&leads), |s| format!("lead_{s}"));
        let (firsts, seconds): (Vec<f64>, Vec<f64>) = events.iter().copied().unzip();
        for (name, at) in [("from_epoch", &firsts), ("to_epoch", &seconds)] {
            out.warn_if_at_start(name, &exact(at), 0, self.quantity_names());
        }
        // Each median over the seeds that had its event, as the paper's
        // scripts take them (docs/methods.md, "Threshold events and leads").
        let median_of_events =
            |at: &[f64]| quantile(&exact(&at.iter().copied().filter(|e| !e.is_nan()).collect::<Vec<_>>()), 0.5);
        out.set_value("lead_of_medians", median_of_events(&seconds).minus(median_of_events(&firsts)));
        let (x, y): (Vec<f64>, Vec<f64>) = both.iter().map(|(a, b)| (*b, *a)).unzip();
        let (slope, intercept, r2) = if both.len() >= 2 { linear_fit(&x, &y) } else { (f64::NAN, f64::NAN, f64::NAN) };
        out.set("fit_slope", slope);
        out.set("fit_intercept", intercept);
        out.set("fit_r2", r2);
        out.set_per_seed_numbers("from_epoch", &seeds, &firsts);
        out.set_per_seed_numbers("to_epoch", &seeds, &seconds);
        Ok(())
    }
}

/// Numbers as exact values (NaN: undefined).
fn exact(numbers: &[f64]) -> Vec<Value> {
    numbers.iter().copied().map(Value::exact).collect()
}

/// Least-squares line y = slope · x + intercept and its R² (numpy's
/// `polyfit(x, y, 1)`; R² = 1 − SS_res / SS_tot).
pub fn linear_fit(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = x.iter().zip(y).map(|(a, b)| (b - slope * a - intercept).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (slope, intercept, 1.0 - ss_res / ss_tot)
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    #[test]
    fn linear_fit_matches_numpy_polyfit() {
        // np.polyfit([1, 2, 3, 4], [2.1, 3.9, 6.2, 7.8], 1) = [1.94, 0.15];
        let (slope, intercept, r2) = linear_fit(&[1.0, 2.0, 3.0, 4.0], &[2.1, 3.9, 6.2, 7.8]);
        assert!((slope - 1.94).abs() < 1e-12 && (intercept - 0.15).abs() < 1e-12, "{slope} {intercept}");
        assert!((r2 - (1.0 - 0.082 / 18.9)).abs() < 1e-12, "{r2}"); // SS_res 0.082, SS_tot 18.9
    }

    #[test]
    fn lead_on_hand_made_series() {
        // w_sigma1 = t, so "w_sigma1 ≥ 30" happens at epoch 30; test acc ≥ 0.5
        // at start + 50.
        let runs = vec![run(200, 20, 10, 150), run(200, 20, 40, 150), run(200, 20, 500, 150)];
        let spec = MeasureSpec::Lead(Lead {
            label: None,
            conditions: vec!["grok".into()],
            from: Event::new("w_sigma1", 30.0),
            to: Event::new("test_acc", 0.5),
        });
        let m = measure(&spec, runs);
        assert_eq!(m.number("pairs"), 2.0); // seed 3 never reaches 0.5
        assert_eq!(m.number("lead_median"), 45.0); // 30 and 60
        assert_eq!(m.number("positive_fraction"), 1.0);
        assert_eq!(m.number("lead_of_medians"), 75.0 - 30.0);
        assert_eq!(m.number("fit_slope"), 0.0); // t_from is 30 whatever t_to
        assert_names(&spec, &m);
    }
}
