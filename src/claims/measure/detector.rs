//! `kind: detector`: the slope detector (docs/methods.md, "Slope detector")
//! on each seed of one condition: how many seeds it fires in, when, and the
//! largest slope it saw (the margin of "never fired"). Quantities:
//! docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FIRED, Inputs, Kind, Measurement, WithoutEvent, check_detector, event_at, seeds_of};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::Value;
use crate::probes::detector::{Detection, DetectorParams, detect};

/// The slope detector on each seed of `condition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detector {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// Lag, floor, min_epoch, threshold (default: the paper's).
    #[serde(default)]
    pub detector: DetectorParams,
    /// What the event's statistics do with a seed without it (default
    /// `censored`; `dropped`: numpy's `nanmedian`, as the paper's scripts).
    #[serde(default, skip_serializing_if = "WithoutEvent::is_default")]
    pub without_event: WithoutEvent,
}

/// A seed's fire epoch over `looked_at` epochs: the epoch, censored where
/// it never fired, unknown where s(t) is never defined (a window too short
/// for gap23, or a lag reaching past the run), which cannot say "never
/// fired".
pub(super) fn fire_value(d: &Detection, looked_at: usize) -> Value {
    if d.max_slope.is_nan() { Value::undefined() } else { event_at(d.fire_epoch, looked_at) }
}

impl Kind for Detector {
    one_condition!();

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        check_detector(&self.detector, experiments[&self.condition].epochs)
    }

    fn needs(&self) -> Vec<String> {
        vec!["w_gap23".into()]
    }

    fn quantity_names(&self) -> Vec<String> {
        let mut names = FIRED.names();
        names.extend(["fire_epoch_iqr_width", "max_slope_max"].map(String::from));
        names
    }

    fn seed_counts(&self) -> Vec<String> {
        FIRED.counts()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        let detections: Vec<_> = runs.iter().map(|r| detect(&r.metrics.w_gap23(), &self.detector)).collect();
        let fire: Vec<Value> = runs.iter().zip(&detections).map(|(r, d)| fire_value(d, r.metrics.rows.len())).collect();
        let max_slopes: Vec<f64> = detections.iter().map(|d| d.max_slope).collect();
        let seeds = seeds_of(&runs);
        out.set("max_slope_max", max_slopes.iter().copied().fold(f64::NAN, f64::max));
        let mut bears_on = FIRED.names();
        bears_on.push("fire_epoch_iqr_width".into());
        out.warn_if_at_start("fire_epoch", &fire, self.detector.min_epoch, bears_on);
        out.count(&FIRED, &seeds, fire, self.without_event);
        out.set_value("fire_epoch_iqr_width", out.value("fire_epoch_q75").minus(out.value("fire_epoch_q25")));
        out.set_per_seed_numbers("max_slope", &seeds, &max_slopes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    /// gap23 jumps ×500 at the jump: the detector fires there, with slope
    /// ln(500) / lag; a run whose jump comes after its end never fires.
    #[test]
    fn fires_at_the_jump_in_the_seeds_that_jump() {
        let spec = MeasureSpec::Detector(Detector {
            label: Some("grok".into()),
            condition: "grok".into(),
            detector: DetectorParams::default(),
            without_event: WithoutEvent::Censored,
        });
        let m = measure(&spec, vec![run(400, 20, 50, 200), run(400, 20, 50, 250), run(400, 20, 50, 500)]);
        assert_eq!((m.number("grok.fired"), m.number("grok.seeds")), (2.0, 3.0));
        assert_eq!(m.number("grok.fired_fraction"), 2.0 / 3.0);
        assert_eq!(m.per_seed_numbers("grok.fire_epoch")[..2], [200.0, 250.0]);
        assert!(m.per_seed_numbers("grok.fire_epoch")[2].is_nan());
        // The third seed never fired within its 401 epochs: it takes part
        // censored, so the median is the second seed's epoch.
        assert_eq!(m.number("grok.fire_epoch_median"), 250.0);
        assert_eq!(m.value("grok.fire_epoch_iqr_width").describe(), "≥ 100.5");
        assert_eq!(m.value("grok.fire_epoch_max").describe(), "≥ 401");
        assert!((m.number("grok.max_slope_max") - 500f64.ln() / 25.0).abs() < 1e-12);
        assert_names(&spec, &m);
        let MeasureSpec::Detector(censored) = spec else { unreachable!() };
        let dropped = MeasureSpec::Detector(Detector { without_event: WithoutEvent::Dropped, ..censored });
        let m = measure(&dropped, vec![run(400, 20, 50, 200), run(400, 20, 50, 250), run(400, 20, 50, 500)]);
        assert_eq!(m.number("grok.fire_epoch_median"), 225.0, "numpy's nanmedian of 200 and 250");
        assert_eq!(m.number("grok.fire_epoch_iqr_width"), 25.0);
        assert!(m.number("grok.fire_epoch_max").is_nan());
    }
}
