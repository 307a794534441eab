//! `kind: threshold`: the first epoch (from 0, or from `from`) at which a series reaches a
//! level, per seed of one condition, and the series' largest value
//! (docs/methods.md, "Threshold events and leads"): with `rho` and 0.075,
//! the paper's level-metric detector. Quantities: docs/claims.md, "Measure
//! kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Event, FIRED, Inputs, Kind, Measurement, WithoutEvent, event_at, seeds_of, unknown_series};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::runs::{Run, is_level_series, series_names};
use crate::train::LevelLog;

/// First epoch (from 0) at which a series reaches a threshold, per seed:
/// the level-metric detector "ρ ≥ 0.075"
/// (docs/methods.md, "Threshold events and leads").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// Series name (a `metrics.csv` column, `rho` or `rho_paper`).
    pub series: String,
    /// The level.
    pub threshold: f64,
    /// The first epoch looked at (default 0), for both the crossing and the
    /// peak: `from: 100` leaves out an initial transient, as the slope
    /// detector's own start does (docs/methods.md, "Slope detector").
    /// Only for `metrics.csv` series (ρ's log may stop at its crossing).
    #[serde(default)]
    pub from: usize,
    /// What the event's statistics do with a seed without it (default
    /// `censored`; `dropped`: numpy's `nanmedian`, as the paper's scripts).
    #[serde(default, skip_serializing_if = "WithoutEvent::is_default")]
    pub without_event: WithoutEvent,
}

impl Threshold {
    /// The series reaching the level.
    fn event(&self) -> Event {
        Event { series: self.series.clone(), threshold: self.threshold }
    }

    /// The series of `run` from epoch `from` on.
    fn looked_at(&self, run: &Run) -> Vec<f64> {
        let mut values = run.series(&self.series).expect("validated");
        values.drain(..self.from.min(values.len()));
        values
    }
}

impl Kind for Threshold {
    one_condition!();

    fn level_needs(&self, e: &Experiment) -> Option<LevelLog> {
        self.event().level_log(e)
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        if !series_names().contains(&self.series.as_str()) {
            return Err(unknown_series(&self.series));
        }
        if !self.threshold.is_finite() {
            return Err(Problem::new("threshold".into(), "must be a finite number".into()));
        }
        if self.from > 0 && is_level_series(&self.series) {
            return Err(Problem::new(
                "from".into(),
                format!("applies to `metrics.csv` series; the log of `{}` may stop at its crossing", self.series),
            ));
        }
        if let Some(e) = experiments.get(&self.condition)
            && self.from > e.epochs
        {
            return Err(Problem::new(
                "from".into(),
                format!("{} is past the run's last epoch, {}", self.from, e.epochs),
            ));
        }
        Ok(())
    }

    fn needs(&self) -> Vec<String> {
        vec![self.series.clone()]
    }

    fn quantity_names(&self) -> Vec<String> {
        let mut names = FIRED.names();
        names.push("max_value".into());
        names
    }

    fn seed_counts(&self) -> Vec<String> {
        FIRED.counts()
    }

    fn rho_thresholds(&self) -> Vec<f64> {
        self.event().rho_threshold().into_iter().collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        let event = self.event();
        // ρ's log may end just after its first crossing (docs/methods.md, "Level
        // metric ρ"), so its peak is taken up to that crossing, whatever a cached
        // run logged beyond it: the same value from any cache.
        let (mut peaks, mut fires) = (Vec::new(), Vec::new());
        for r in runs.iter() {
            let values = self.looked_at(r);
            let crossing = values.iter().position(|&v| v >= self.threshold);
            let end = crossing.filter(|_| self.series == "rho").map_or(values.len(), |i| i + 1);
            peaks.push(values[..end].iter().copied().fold(f64::NAN, f64::max));
            let crossing = event.epoch_in(&values);
            fires.push(event_at(
                (!crossing.is_nan()).then_some(self.from + crossing as usize),
                self.from + values.len(),
            ));
        }
        out.set("max_value", peaks.into_iter().fold(f64::NAN, f64::max));
        out.warn_if_at_start("fire_epoch", &fires, self.from, FIRED.names());
        out.count(&FIRED, &seeds_of(&runs), fires, self.without_event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    fn threshold(series: &str, threshold: f64) -> MeasureSpec {
        MeasureSpec::Threshold(Threshold {
            label: None,
            condition: "grok".into(),
            series: series.into(),
            threshold,
            from: 0,
            without_event: WithoutEvent::Censored,
        })
    }

    #[test]
    fn threshold_on_hand_made_series() {
        // Test accuracy ≥ 0.5 at start + 50.
        let spec = threshold("test_acc", 0.5);
        let m = measure(&spec, vec![run(200, 20, 10, 150), run(200, 20, 40, 150), run(200, 20, 500, 150)]);
        assert_eq!(m.per_seed_numbers("fire_epoch")[..2], [60.0, 90.0]);
        assert_eq!((m.number("fired"), m.number("fired_fraction")), (2.0, 2.0 / 3.0));
        assert_eq!(m.number("max_value"), 1.0);
        assert_names(&spec, &m);
    }

    /// `from` leaves out the epochs before it, for the peak and the crossing.
    #[test]
    fn from_leaves_out_an_initial_transient() {
        let MeasureSpec::Threshold(mut spec) = threshold("test_acc", 0.5) else { unreachable!() };
        spec.from = 70;
        let m = measure(&MeasureSpec::Threshold(spec), vec![run(200, 20, 10, 150), run(200, 20, 40, 150)]);
        assert_eq!(m.per_seed_numbers("fire_epoch"), [70.0, 90.0], "seed 0 crossed at 60, before `from`");
    }

    /// ρ's peak is read up to its first crossing, so a run whose cached log
    /// goes on past it gives the same `max_value` as one whose log stopped there.
    #[test]
    fn rho_peak_does_not_depend_on_how_far_the_log_goes() {
        use crate::probes::level::Level;
        use crate::train::LevelRow;
        let with_log = |values: &[f64]| {
            let mut r = run(20, 5, 0, 15);
            r.levels = values
                .iter()
                .enumerate()
                .map(|(epoch, &v)| LevelRow { epoch, level: Level { rho_code: v, rho_paper: v } })
                .collect();
            r
        };
        let spec = threshold("rho", 0.075);
        let stopped = measure(&spec, vec![with_log(&[0.06, 0.07, 0.076])]);
        let longer = measure(&spec, vec![with_log(&[0.06, 0.07, 0.076, 0.09, 0.08])]);
        assert_eq!(stopped.number("max_value"), 0.076);
        assert_eq!(longer.quantities, stopped.quantities);
        // A series that never crosses: its whole log.
        let never = measure(&spec, vec![with_log(&[0.06, 0.07, 0.065])]);
        assert_eq!(never.number("max_value"), 0.07);
    }

    /// `rho` logs until the level is reached, `rho_paper` throughout, a
    /// `metrics.csv` column not at all.
    #[test]
    fn a_level_series_is_logged_until_its_event() {
        let e: Experiment =
            serde_yaml::from_str("{activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}").unwrap();
        let needs = |series: &str| threshold(series, 0.075).level_needs("grok", &e);
        assert_eq!(needs("rho"), Some(LevelLog { until: 400, stop_above: Some(0.075), every: 1 }));
        assert_eq!(needs("rho_paper"), Some(LevelLog { until: 400, stop_above: None, every: 1 }));
        assert_eq!(needs("test_acc"), None);
        assert_eq!(threshold("rho", 0.075).level_needs("control", &e), None);
    }
}
