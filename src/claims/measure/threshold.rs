//! `kind: threshold`: the first epoch (from 0, or from `from`) at which a series reaches a
//! level (absolute, or relative to the run: `relative_to`), per seed of one condition, and the series' largest value
//! (docs/methods.md, "Threshold events and leads"): with `rho` and 0.075,
//! the paper's level-metric detector. Quantities: docs/claims.md, "Measure
//! kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::relative::RelativeTo;
use super::{Event, FIRED, Inputs, Kind, Measurement, WithoutEvent, event_at, seeds_of, unknown_series};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::Value;
use crate::runs::series_names;
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
    /// The level; with `relative_to`, a factor or fraction.
    pub threshold: f64,
    /// What `threshold` is relative to (default: nothing, it is the level):
    /// `start` or `start_to_peak` ([`RelativeTo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_to: Option<RelativeTo>,
    /// The first epoch looked at (default 0), for both the crossing and the
    /// peak: `from: 100` leaves out an initial transient, as the slope
    /// detector's own start does (docs/methods.md, "Slope detector"). On
    /// `rho`, `from` (or `relative_to`) logs ρ over the whole run.
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
        Event { series: self.series.clone(), threshold: self.threshold, relative_to: self.relative_to, from: self.from }
    }

    /// The event's epoch in `values` (a run's series), exact or censored,
    /// and the series' peak from `from` on: up to the crossing for `rho`,
    /// whose log may stop there, so that every cache gives the same peak.
    fn fire_and_peak(&self, values: &[f64]) -> (Value, f64) {
        let crossing = self.event().epoch_in(values);
        let crossing = (!crossing.is_nan()).then_some(crossing as usize);
        let end = crossing.filter(|_| self.series == "rho").map_or(values.len(), |i| i + 1);
        let peak = values.get(self.from..end).unwrap_or(&[]).iter().copied().fold(f64::NAN, f64::max);
        (event_at(crossing, values.len().max(self.from)), peak)
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
        self.event().check(experiments.get(&self.condition).map_or(usize::MAX, |e| e.epochs))
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
        // ρ's log may end just after its first crossing (docs/methods.md, "Level
        // metric ρ"), so its peak is taken up to that crossing, whatever a cached
        // run logged beyond it: the same value from any cache.
        let (fires, peaks): (Vec<Value>, Vec<f64>) =
            runs.iter().map(|r| self.fire_and_peak(&r.series(&self.series).expect("validated"))).unzip();
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
            relative_to: None,
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
        let with_log = rho_run;
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

    /// A ρ log from epoch 0, for the relative-threshold tests.
    fn rho_run(values: &[f64]) -> crate::runs::Run {
        use crate::probes::level::Level;
        use crate::train::LevelRow;
        let mut r = run(20, 5, 0, 15);
        r.levels = values
            .iter()
            .enumerate()
            .map(|(epoch, &v)| LevelRow { epoch, level: Level { rho_code: v, rho_paper: v } })
            .collect();
        r
    }

    /// ρ at K = 512: 0.108 at epoch 0, an early bump, then the rise. A
    /// threshold of 1.2 × ρ(0) = 0.1296 catches the bump at epoch 2;
    /// `from: 4` the rise at 6; an absolute 0.075 fires at epoch 0.
    #[test]
    fn relative_and_from_thresholds_on_rho() {
        let rho = [0.108, 0.12, 0.135, 0.11, 0.105, 0.12, 0.14, 0.2];
        let spec = |threshold: f64, relative_to, from| {
            let MeasureSpec::Threshold(t) = self::threshold("rho", threshold) else { unreachable!() };
            MeasureSpec::Threshold(Threshold { relative_to, from, ..t })
        };
        let fire = |s: &MeasureSpec, runs: Vec<crate::runs::Run>| measure(s, runs).per_seed_numbers("fire_epoch");
        assert_eq!(fire(&spec(0.075, None, 0), vec![rho_run(&rho)]), [0.0]);
        assert_eq!(fire(&spec(1.2, Some(RelativeTo::Start), 0), vec![rho_run(&rho)]), [2.0]);
        assert_eq!(fire(&spec(1.2, Some(RelativeTo::Start), 4), vec![rho_run(&rho)]), [6.0]);
        // Each run's own start: a run starting at 0.05 reaches 1.2 × 0.05 at once.
        assert_eq!(fire(&spec(1.2, Some(RelativeTo::Start), 0), vec![rho_run(&[0.05, 0.061])]), [1.0]);
        // Never: censored after the log; the peak is the whole log's, from `from`.
        let never = measure(&spec(3.0, Some(RelativeTo::Start), 3), vec![rho_run(&rho)]);
        assert_eq!((never.number("fired"), never.number("max_value")), (0.0, 0.2));
        // Relative or from a later epoch, ρ is logged through the run, not to a crossing.
        let e: Experiment =
            serde_yaml::from_str("{activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}").unwrap();
        let whole = Some(LevelLog { until: 400, stop_above: None, every: 1 });
        assert_eq!(spec(1.2, Some(RelativeTo::Start), 0).level_needs("grok", &e), whole);
        assert_eq!(spec(0.13, None, 20).level_needs("grok", &e), whole);
        assert_eq!(spec(1.2, Some(RelativeTo::Start), 0).rho_thresholds(), Vec::<f64>::new());
    }

    /// D16's relative "test accuracy ≥ 0.5": halfway from the baseline to the peak.
    #[test]
    fn start_to_peak_is_the_notes_relative_test_threshold() {
        let MeasureSpec::Threshold(t) = threshold("test_acc", 0.5) else { unreachable!() };
        let spec = MeasureSpec::Threshold(Threshold { relative_to: Some(RelativeTo::StartToPeak), ..t });
        // run(200, 20, 0, 150): test accuracy 0.01·t, so the baseline (epochs 0-4) is 0.02,
        // the peak 1, and the level 0.51: reached at 51, where 0.5 is at 50.
        let absolute = measure(&threshold("test_acc", 0.5), vec![run(200, 20, 0, 150)]);
        let relative = measure(&spec, vec![run(200, 20, 0, 150)]);
        assert_eq!(absolute.per_seed_numbers("fire_epoch"), [50.0]);
        assert_eq!(relative.per_seed_numbers("fire_epoch"), [51.0]);
        let parsed: MeasureSpec = serde_yaml::from_str(
            "{kind: threshold, condition: grok, series: test_acc, threshold: 0.5, relative_to: start_to_peak}",
        )
        .unwrap();
        assert_eq!(parsed, spec);
        let bad = "{kind: threshold, condition: grok, series: rho, threshold: 1.2, relative_to: end}";
        assert!(serde_yaml::from_str::<MeasureSpec>(bad).unwrap_err().to_string().contains("start_to_peak"));
    }
}
