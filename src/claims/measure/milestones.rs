//! `kind: milestones`: accuracy milestones per seed (docs/methods.md,
//! "Milestones"): the first epoch with train accuracy 1, with test accuracy
//! ≥ 0.5 and ≥ 0.99, the epochs from the one to the other, and the slope
//! detector's fire epoch minus the test-≥-0.99 epoch, each summarised over
//! every seed, censored where it did not happen.
//! Quantities: docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::detector::fire_value;
use super::{
    Inputs, Kind, Measurement, WithoutEvent, check_detector, count_of, event_at, event_summary_names, fraction,
    seeds_of,
};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::{Value, quantile};
use crate::probes::detector::{DetectorParams, detect};

/// The per-seed events, by quantity prefix.
const MILESTONES: [&str; 7] = [
    "fire",
    "train_acc_1",
    "test_acc_half",
    "test_acc_99",
    "fire_after_test_acc_99",
    "test_acc_half_relative",
    "test_acc_rise",
];

/// The milestones that are differences of two epochs, not epochs: an event
/// "at the start" means nothing for them.
const DIFFERENCES: [&str; 2] = ["fire_after_test_acc_99", "test_acc_rise"];

/// The quantities computed from milestone `name`, which a warning about
/// it bears on: its statistics and those of the milestones and lag derived
/// from it.
fn bearing_on(name: &str) -> Vec<String> {
    let derived: &[&str] = match name {
        "fire" => &["fire_after_test_acc_99", LAG_OF_MEDIANS],
        "test_acc_half" => &["test_acc_rise", LAG_OF_MEDIANS, "test_acc_half_median_curve"],
        "test_acc_99" => &["fire_after_test_acc_99", "test_acc_rise", "test_acc_99_median_curve"],
        _ => &[],
    };
    let mut names = vec![name.to_string()];
    for m in std::iter::once(&name).chain(derived) {
        names.extend(event_summary_names(|s| format!("{m}_{s}")));
        names.push(format!("{m}_reached_fraction"));
        names.push(m.to_string());
    }
    names
}

/// Whether an event at `epoch` happened: 1 (an epoch), 0 (censored: not
/// by the run's end), or [0, 1] (undefined: it could not be looked for).
fn did_happen(epoch: Value) -> Value {
    match (epoch.number(), epoch.is_undefined()) {
        (Some(_), _) => Value::exact(1.0),
        (None, true) => Value::between(0.0, 1.0),
        (None, false) => Value::exact(0.0),
    }
}

/// Both of two events happened (each 1, 0 or [0, 1]).
fn both(a: Value, b: Value) -> Value {
    Value::between(a.lo.min(b.lo), a.hi.min(b.hi))
}

/// The first epoch at which `test_acc` reaches halfway from its baseline
/// (the median over epochs 0-4) to its peak over the run: the relative
/// threshold of the notes' `analysis.py` (docs/methods.md, "Milestones"),
/// `relative_to: start_to_peak` of an event. None when the log is empty.
fn relative_half_crossing(test_acc: &[f64]) -> Option<usize> {
    let level = super::relative::RelativeTo::StartToPeak.level(0.5, test_acc);
    test_acc.iter().position(|v| *v >= level)
}

/// The median fire epoch minus the median test-≥-0.5 epoch: the η table's
/// lock-in "lag" (a difference of two medians, as `analyze_eta_sweep.py`
/// computes it; docs/methods.md, "Milestones").
const LAG_OF_MEDIANS: &str = "lockin_lag_of_medians";

/// The test-accuracy thresholds read on the median curve as well, by prefix.
const CURVE: [(&str, f64); 2] = [("test_acc_half", 0.5), ("test_acc_99", 0.99)];

/// The first epoch at which the median over runs of the test accuracy
/// reaches `threshold` (the crossing of the median curve, as the notes plot
/// it; docs/methods.md, "Milestones"), over the epochs every run logged.
/// Censored (≥ the epochs looked at) when it never does; bounds where an
/// undefined value leaves a median open: from the first epoch whose median
/// may reach it to the first whose median surely does.
fn median_curve_crossing(curves: &[Vec<f64>], threshold: f64) -> Value {
    let epochs = curves.iter().map(Vec::len).min().unwrap_or(0);
    let medians: Vec<Value> =
        (0..epochs).map(|t| quantile(&curves.iter().map(|c| Value::exact(c[t])).collect::<Vec<_>>(), 0.5)).collect();
    let earliest = medians.iter().position(|m| m.hi >= threshold);
    let surely = medians.iter().position(|m| m.lo >= threshold);
    match (earliest, surely) {
        (Some(a), Some(b)) => Value::between(a as f64, b as f64),
        (Some(a), None) => Value::at_least(a as f64),
        (None, _) => Value::at_least(epochs as f64),
    }
}

/// Accuracy milestones per seed (first epoch with train accuracy 1, test
/// accuracy ≥ 0.5, ≥ 0.99), the rise from test accuracy 0.5 to 0.99, and
/// the slope detector's fire epoch minus the test-≥-0.99 epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestones {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// Lag, floor, min_epoch, threshold of the detector (default: the paper's).
    #[serde(default)]
    pub detector: DetectorParams,
    /// What the event's statistics do with a seed without it (default
    /// `censored`; `dropped`: numpy's `nanmedian`, as the paper's scripts).
    #[serde(default, skip_serializing_if = "WithoutEvent::is_default")]
    pub without_event: WithoutEvent,
}

impl Kind for Milestones {
    one_condition!();

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        check_detector(&self.detector, experiments[&self.condition].epochs)
    }

    fn needs(&self) -> Vec<String> {
        ["train_acc", "test_acc", "w_gap23"].map(String::from).to_vec()
    }

    fn quantity_names(&self) -> Vec<String> {
        MILESTONES
            .iter()
            .flat_map(|m| {
                let mut names = event_summary_names(|s| format!("{m}_{s}"));
                names.push(format!("{m}_reached_fraction"));
                names
            })
            .chain(CURVE.iter().map(|(m, _)| format!("{m}_median_curve")))
            .chain([LAG_OF_MEDIANS.to_string()])
            .collect()
    }

    fn seed_counts(&self) -> Vec<String> {
        MILESTONES.iter().map(|m| format!("{m}_reached_fraction")).collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        let mut events: [Vec<Value>; 7] = Default::default();
        let mut happened: [Vec<Value>; 7] = Default::default();
        for run in &runs {
            let looked_at = run.metrics.rows.len();
            let at = |e: Option<usize>| event_at(e, looked_at);
            let m = crate::summary::Milestones::of(&run.metrics);
            let fire = fire_value(&detect(&run.metrics.w_gap23(), &self.detector), looked_at);
            let (test_half, test_99) = (at(m.test_acc_half), at(m.test_acc_99));
            let relative = at(relative_half_crossing(&run.metrics.test_acc()));
            let row =
                [fire, at(m.train_acc_1), test_half, test_99, fire.minus(test_99), relative, test_99.minus(test_half)];
            // Whether each milestone happened (1, 0, or [0, 1] where it could
            // not be looked for); a difference happened when both its events did.
            let did = row.map(did_happen);
            let reached = [did[0], did[1], did[2], did[3], both(did[0], did[3]), did[5], both(did[3], did[2])];
            for ((series, value), (seen, did)) in events.iter_mut().zip(row).zip(happened.iter_mut().zip(reached)) {
                series.push(value);
                seen.push(did);
            }
        }
        let seeds = seeds_of(&runs);
        for ((name, values), did) in MILESTONES.iter().zip(events).zip(happened) {
            if !DIFFERENCES.contains(name) {
                // The detector looks from its minimum epoch on.
                let start = if *name == "fire" { self.detector.min_epoch } else { 0 };
                out.warn_if_at_start(name, &values, start, bearing_on(name));
            }
            out.event_summary(&values, self.without_event, |s| format!("{name}_{s}"));
            let (yes, unknown) =
                (did.iter().filter(|d| d.lo == 1.0).count(), did.iter().filter(|d| d.lo != d.hi).count());
            out.set_value(format!("{name}_reached_fraction"), fraction(count_of(yes, unknown, did.len()), did.len()));
            out.set_per_seed(name, &seeds, &values);
        }
        let lag = out.value("fire_median").minus(out.value("test_acc_half_median"));
        out.set_value(LAG_OF_MEDIANS, lag);
        let curves: Vec<Vec<f64>> = runs.iter().map(|r| r.metrics.test_acc()).collect();
        for (name, threshold) in CURVE {
            let crossing = median_curve_crossing(&curves, threshold);
            match self.without_event {
                WithoutEvent::Censored => out.set_value(format!("{name}_median_curve"), crossing),
                WithoutEvent::Dropped => out.set(format!("{name}_median_curve"), crossing.as_f64()),
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
    fn milestones_per_seed_and_fire_lag() {
        let spec = MeasureSpec::Milestones(Milestones {
            label: Some("g".into()),
            condition: "grok".into(),
            detector: DetectorParams::default(),
            without_event: WithoutEvent::Censored,
        });
        // test acc ≥ 0.5 at start + 50, ≥ 0.99 at start + 99; the detector
        // fires at the gap23 jump (200), so the lag is 200 − (start + 99).
        let m = measure(&spec, vec![run(400, 24, 50, 200), run(400, 26, 60, 200), run(400, 25, 500, 200)]);
        assert_eq!(m.per_seed_numbers("g.train_acc_1"), vec![24.0, 26.0, 25.0]);
        assert_eq!(m.number("g.train_acc_1_median"), 25.0);
        // Seed 3 never reaches test accuracy 0.5 within its 401 epochs: it
        // takes part censored (≥ 401), so the median is 110 (of 100, 110).
        assert_eq!(m.number("g.test_acc_half_median"), 110.0);
        assert!((m.number("g.test_acc_half_reached_fraction") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.per_seed_numbers("g.fire_after_test_acc_99")[..2], [51.0, 41.0]);
        assert!(m.per_seed_numbers("g.fire_after_test_acc_99")[2].is_nan());
        // Its detector fired at 200, before a test-≥-0.99 epoch of 401 or
        // later: its lag is ≤ −201, so the median lag is known (41) and the
        // minimum only bounded.
        assert_eq!(m.number("g.fire_after_test_acc_99_median"), 41.0);
        assert_eq!(m.value("g.fire_after_test_acc_99_min").describe(), "≤ -201");
        // The rise from 0.5 to 0.99 takes 49 epochs in each seed that rose
        // (start + 50 to start + 99); seed 3 never started it, so its rise is
        // undefined, and the median of 49, 49 and any value is 49.
        assert_eq!(m.per_seed_numbers("g.test_acc_rise")[..2], [49.0, 49.0]);
        assert_eq!(m.number("g.test_acc_rise_median"), 49.0);
        assert_names(&spec, &m);
    }

    /// A detector whose s(t) is never defined (its lag past the run) says
    /// nothing of when it fires: the fire epoch and the lag are undefined,
    /// not "never fired" (≥ 401).
    #[test]
    fn an_undefined_detector_gives_an_undefined_fire_epoch() {
        let spec = MeasureSpec::Milestones(Milestones {
            label: Some("g".into()),
            condition: "grok".into(),
            detector: DetectorParams { lag: 500, ..DetectorParams::default() },
            without_event: WithoutEvent::Censored,
        });
        let m = measure(&spec, vec![run(400, 24, 50, 200), run(400, 26, 60, 200)]);
        assert!(m.value("g.fire_median").is_undefined(), "{:?}", m.value("g.fire_median"));
        assert!(m.value("g.lockin_lag_of_medians").is_undefined());
        assert_eq!(m.number("g.test_acc_rise_median"), 49.0, "the accuracy milestones stand");
    }

    /// The median curve's crossing differs from the median of crossings.
    #[test]
    fn the_median_curve_crosses_where_the_middle_run_does_per_epoch() {
        let curves = vec![vec![0.0, 0.6, 0.6, 1.0], vec![0.0, 0.0, 0.6, 1.0], vec![0.6, 0.6, 0.0, 1.0]];
        assert_eq!(median_curve_crossing(&curves, 0.5), Value::exact(1.0));
        assert_eq!(median_curve_crossing(&curves, 0.99), Value::exact(3.0));
        assert_eq!(median_curve_crossing(&curves, 2.0), Value::at_least(4.0));
        let open = vec![vec![0.0, 0.6, 1.0], vec![0.0, f64::NAN, 1.0], vec![0.0, 0.0, 1.0]];
        assert_eq!(median_curve_crossing(&open, 0.5), Value::between(1.0, 2.0), "an undefined seed at epoch 1");
    }

    /// D16: halfway from the baseline (median of epochs 0-4) to the peak.
    #[test]
    fn the_relative_threshold_is_halfway_from_baseline_to_peak() {
        let acc = [0.02, 0.02, 0.03, 0.01, 0.02, 0.2, 0.45, 0.52, 0.9, 1.0];
        // baseline 0.02, peak 1.0: threshold 0.51, first reached at epoch 7.
        assert_eq!(relative_half_crossing(&acc), Some(7));
        assert_eq!(relative_half_crossing(&[]), None);
    }
}
