//! `kind: detector`: the slope detector (docs/methods.md, "Slope detector")
//! on each seed of one condition: how many seeds it fires in, when, and the
//! largest slope it saw (the margin of "never fired"). Quantities:
//! docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FIRED, Inputs, Kind, Measurement, check_detector, epoch};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::probes::detector::{DetectorParams, detect};
use crate::probes::stats::Summary;

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

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let detections: Vec<_> =
            (inputs.runs)(&self.condition)?.iter().map(|r| detect(&r.metrics.w_gap23(), &self.detector)).collect();
        let fire: Vec<f64> = detections.iter().map(|d| epoch(d.fire_epoch)).collect();
        out.set("fire_epoch_iqr_width", Summary::of(&fire).iqr_width());
        let max_slopes: Vec<f64> = detections.iter().map(|d| d.max_slope).collect();
        out.set("max_slope_max", max_slopes.iter().copied().fold(f64::NAN, f64::max));
        out.count(&FIRED, fire);
        if max_slopes.iter().any(|s| s.is_nan()) {
            // A seed on which s(t) is never defined (a window too short for
            // gap23, or a lag reaching past the run) cannot say "never
            // fired": the counts are undefined, not 0.
            out.undefine_counts(&FIRED);
        }
        out.per_seed.insert("max_slope".into(), max_slopes);
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
        });
        let m = measure(&spec, vec![run(400, 20, 50, 200), run(400, 20, 50, 250), run(400, 20, 50, 500)]);
        assert_eq!((m.quantities["grok.fired"], m.quantities["grok.seeds"]), (2.0, 3.0));
        assert_eq!(m.quantities["grok.fired_fraction"], 2.0 / 3.0);
        assert_eq!(m.per_seed["grok.fire_epoch"][..2], [200.0, 250.0]);
        assert!(m.per_seed["grok.fire_epoch"][2].is_nan());
        assert_eq!(m.quantities["grok.fire_epoch_median"], 225.0);
        assert_eq!(m.quantities["grok.fire_epoch_iqr_width"], 25.0);
        assert!((m.quantities["grok.max_slope_max"] - 500f64.ln() / 25.0).abs() < 1e-12);
        assert_names(&spec, &m);
    }
}
