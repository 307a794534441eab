//! `kind: series-at`: logged series (the `metrics.csv` columns and the
//! level metrics `rho`, `rho_paper`; docs/methods.md, "Log alignment" and
//! "Level metric ρ") at given epochs, median over seeds, and per-seed
//! ratios between two epochs. Quantities: docs/claims.md, "Measure kinds
//! and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Inputs, Kind, Measurement, seeds_of, unknown_series};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::runs::{is_level_series, series_names};
use crate::train::LevelLog;

/// Logged series (`metrics.csv` columns) at given epochs, median over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesAt {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// Column names, e.g. `w_sigma2`.
    pub series: Vec<String>,
    /// Epochs, ascending.
    pub epochs: Vec<usize>,
    /// Pairs of epochs [a, b] whose per-seed ratio series(a) / series(b) to report.
    #[serde(default)]
    pub ratios: Vec<[usize; 2]>,
}

/// The quantity of `series` at epoch `e`.
fn at(series: &str, e: usize) -> String {
    format!("{series}_median_e{e}")
}

/// The quantity (and per-seed values) of `series`(a) / `series`(b).
fn ratio(series: &str, [a, b]: [usize; 2]) -> String {
    format!("{series}_ratio_e{a}_e{b}")
}

impl Kind for SeriesAt {
    one_condition!();

    fn level_needs(&self, _e: &Experiment) -> Option<LevelLog> {
        if !self.series.iter().any(|s| is_level_series(s)) {
            return None;
        }
        let last = self.epochs.iter().chain(self.ratios.iter().flatten()).max().copied().unwrap_or(0);
        Some(LevelLog { until: last, stop_above: None, every: 1 })
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        let (condition, last) = (&self.condition, experiments[&self.condition].epochs);
        if let Some(e) = self.ratios.iter().flatten().find(|&&e| e > last) {
            return Err(Problem::new("ratios".into(), format!("epoch {e} is past the end of `{condition}` ({last})")));
        }
        if let Some(bad) = self.series.iter().find(|s| !series_names().contains(&s.as_str())) {
            return Err(unknown_series(bad));
        }
        if self.series.is_empty() || self.epochs.is_empty() || !self.epochs.windows(2).all(|w| w[0] < w[1]) {
            return Err(Problem::new("epochs".into(), "need at least one series and ascending epochs".into()));
        }
        match self.epochs.iter().find(|&&e| e > last) {
            Some(e) => {
                Err(Problem::new("epochs".into(), format!("epoch {e} is past the end of `{condition}` ({last})")))
            }
            None => Ok(()),
        }
    }

    fn needs(&self) -> Vec<String> {
        self.series.clone()
    }

    fn quantity_names(&self) -> Vec<String> {
        self.series
            .iter()
            .flat_map(|s| {
                let at_epochs = self.epochs.iter().map(move |&e| at(s, e));
                at_epochs.chain(self.ratios.iter().map(move |&pair| ratio(s, pair)))
            })
            .collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        let seeds = seeds_of(&runs);
        for name in &self.series {
            let columns: Vec<Vec<f64>> = runs.iter().map(|r| r.series(name).expect("validated")).collect();
            let values_at =
                |e: usize| -> Vec<f64> { columns.iter().map(|c| c.get(e).copied().unwrap_or(f64::NAN)).collect() };
            for &e in &self.epochs {
                out.median_over_seeds(&at(name, e), &format!("{name}_e{e}"), &seeds, &values_at(e));
            }
            for &[a, b] in &self.ratios {
                let values: Vec<f64> = values_at(a).iter().zip(values_at(b)).map(|(x, y)| x / y).collect();
                out.median_over_seeds(&ratio(name, [a, b]), &ratio(name, [a, b]), &seeds, &values);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    #[test]
    fn series_at_reads_columns_at_epochs() {
        let spec = MeasureSpec::SeriesAt(SeriesAt {
            label: None,
            condition: "grok".into(),
            series: vec!["w_sigma1".into(), "test_acc".into()],
            epochs: vec![10, 300],
            ratios: vec![[300, 10]],
        });
        let m = measure(&spec, vec![run(300, 20, 100, 200), run(300, 20, 150, 200), run(300, 20, 0, 200)]);
        assert_eq!(m.number("w_sigma1_median_e10"), 10.0);
        assert_eq!(m.per_seed_numbers("test_acc_e300"), vec![1.0, 1.0, 1.0]);
        assert_eq!(m.number("test_acc_median_e10"), 0.0); // seeds: 0, 0, 0.1
        assert_eq!(m.number("w_sigma1_ratio_e300_e10"), 30.0);
        assert_names(&spec, &m);
    }

    #[test]
    fn series_at_rejects_unknown_columns_and_unreachable_epochs() {
        let experiments: BTreeMap<String, Experiment> =
            serde_yaml::from_str("grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}")
                .unwrap();
        let at = |series: &str, epochs: Vec<usize>| {
            MeasureSpec::SeriesAt(SeriesAt {
                label: None,
                condition: "grok".into(),
                series: vec![series.into()],
                epochs,
                ratios: vec![],
            })
            .validate(&experiments)
        };
        assert!(at("w_sigma2", vec![400]).is_ok());
        assert!(at("w_sigma9", vec![100]).unwrap_err().message.contains("not a logged series"));
        assert!(at("w_sigma2", vec![401]).unwrap_err().message.contains("past the end"));
    }

    /// A level series makes the runs log ρ up to the last epoch read.
    #[test]
    fn a_level_series_is_logged_up_to_the_last_epoch_read() {
        let experiment: Experiment =
            serde_yaml::from_str("{activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}").unwrap();
        let spec = |series: &str| SeriesAt {
            label: None,
            condition: "grok".into(),
            series: vec!["test_acc".into(), series.into()],
            epochs: vec![10, 100],
            ratios: vec![[150, 10]],
        };
        assert_eq!(spec("rho").level_needs(&experiment), Some(LevelLog { until: 150, stop_above: None, every: 1 }));
        assert_eq!(spec("w_sigma2").level_needs(&experiment), None);
    }
}
