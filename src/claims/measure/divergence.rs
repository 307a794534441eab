//! `kind: divergence`: the runs of one condition whose training loss
//! became non-finite, and when (docs/methods.md, "Log alignment": such a
//! run stops at that row). The experiment must say `may_diverge: true`, or
//! a diverged run is an error. Quantities: docs/claims.md, "Measure kinds
//! and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EventCount, Inputs, Kind, Measurement, WithoutEvent, event_at, seeds_of};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;

/// How the diverged runs are counted.
const DIVERGED: EventCount = EventCount { count: "diverged", epoch: "diverged_epoch" };

/// Runs whose training loss became non-finite, per seed (the experiment
/// must say `may_diverge: true`, or a diverged run is an error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// What the event's statistics do with a seed without it (default
    /// `censored`; `dropped`: numpy's `nanmedian`, as the paper's scripts).
    #[serde(default, skip_serializing_if = "WithoutEvent::is_default")]
    pub without_event: WithoutEvent,
}

impl Kind for Divergence {
    one_condition!();

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        if !experiments[&self.condition].may_diverge {
            let condition = &self.condition;
            return Err(Problem::new(
                "may_diverge".into(),
                format!("`{condition}` must say `may_diverge: true` for its divergences to be counted"),
            ));
        }
        Ok(())
    }

    fn needs(&self) -> Vec<String> {
        vec!["train_loss".into()]
    }

    fn quantity_names(&self) -> Vec<String> {
        DIVERGED.names()
    }

    fn seed_counts(&self) -> Vec<String> {
        DIVERGED.counts()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        out.count(
            &DIVERGED,
            &seeds_of(&runs),
            runs.iter().map(|r| event_at(r.summary.diverged_at, r.metrics.rows.len())).collect(),
            self.without_event,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::detector::Detector;
    use super::super::milestones::Milestones;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    /// A diverged run is counted, and the other measures see only the
    /// epochs it has: it never reaches test accuracy 0.99, and the detector
    /// cannot fire after it stopped.
    #[test]
    fn divergence_is_counted_and_truncates_the_events() {
        let mut diverged = run(400, 20, 50, 300);
        diverged.metrics.rows.truncate(121);
        diverged.summary.diverged_at = Some(120);
        let runs = vec![run(400, 20, 50, 200), diverged];
        let spec = MeasureSpec::Divergence(Divergence {
            label: None,
            condition: "sweep".into(),
            without_event: WithoutEvent::Censored,
        });
        let m = measure(&spec, runs.clone());
        assert_eq!((m.number("diverged"), m.number("seeds"), m.number("diverged_fraction")), (1.0, 2.0, 0.5));
        // Of two seeds, one diverged at 120 and one never did within 401
        // epochs: the median lies between.
        assert_eq!(m.value("diverged_epoch_median").describe(), "≥ 260.5");
        assert_eq!(m.value("diverged_epoch_min").number(), Some(120.0));
        assert!(m.per_seed_numbers("diverged_epoch")[0].is_nan());
        assert_names(&spec, &m);
        let milestones = MeasureSpec::Milestones(Milestones {
            label: None,
            condition: "sweep".into(),
            detector: Default::default(),
            without_event: WithoutEvent::Censored,
        });
        let m = measure(&milestones, runs.clone());
        assert_eq!(m.per_seed_numbers("test_acc_99")[..1], [149.0]);
        assert!(m.per_seed_numbers("test_acc_99")[1].is_nan(), "the diverged run stopped before test accuracy 0.99");
        let detector = MeasureSpec::Detector(Detector {
            label: None,
            condition: "sweep".into(),
            detector: Default::default(),
            without_event: WithoutEvent::Censored,
        });
        assert_eq!(measure(&detector, runs).number("fired"), 1.0);
    }

    #[test]
    fn the_experiment_must_allow_divergence() {
        let experiments: BTreeMap<String, Experiment> =
            serde_yaml::from_str("grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}")
                .unwrap();
        let spec = MeasureSpec::Divergence(Divergence {
            label: None,
            condition: "grok".into(),
            without_event: WithoutEvent::Censored,
        });
        assert_eq!(spec.validate(&experiments).unwrap_err().field, "may_diverge");
    }
}
