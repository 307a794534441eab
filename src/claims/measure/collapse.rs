//! `kind: collapse`: the runs of one condition whose network collapsed to
//! zero output, and when (docs/methods.md, "Collapse"). The experiment must
//! say `may_collapse: true`, or a collapsed run is an error. Quantities:
//! docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EventCount, Inputs, Kind, Measurement, WithoutEvent, event_at, seeds_of};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;

/// How the collapsed runs are counted.
const COLLAPSED: EventCount = EventCount { count: "collapsed", epoch: "collapsed_epoch" };

/// Runs whose network collapsed to zero output (docs/methods.md,
/// "Collapse"), per seed (the experiment must say `may_collapse: true`,
/// or a collapsed run is an error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collapse {
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

impl Kind for Collapse {
    one_condition!();

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        if !experiments[&self.condition].may_collapse {
            let condition = &self.condition;
            return Err(Problem::new(
                "may_collapse".into(),
                format!("`{condition}` must say `may_collapse: true` for its collapses to be counted"),
            ));
        }
        Ok(())
    }

    fn needs(&self) -> Vec<String> {
        vec!["outputs".into()]
    }

    fn quantity_names(&self) -> Vec<String> {
        COLLAPSED.names()
    }

    fn seed_counts(&self) -> Vec<String> {
        COLLAPSED.counts()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let runs = (inputs.runs)(&self.condition)?;
        out.count(
            &COLLAPSED,
            &seeds_of(&runs),
            runs.iter().map(|r| event_at(r.summary.collapsed_at, r.metrics.rows.len())).collect(),
            self.without_event,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    fn collapsed_run() -> crate::runs::Run {
        let mut collapsed = run(400, 20, 50, 200);
        collapsed.summary.collapsed_at = Some(154);
        collapsed
    }

    fn collapse_of(spec: &MeasureSpec) -> Collapse {
        match spec {
            MeasureSpec::Collapse(c) => c.clone(),
            _ => unreachable!("a collapse measure"),
        }
    }

    #[test]
    fn collapsed_runs_are_counted_with_their_epochs() {
        let collapsed = collapsed_run();
        let spec = MeasureSpec::Collapse(Collapse {
            label: Some("wide".into()),
            condition: "sweep".into(),
            without_event: WithoutEvent::Censored,
        });
        let m = measure(&spec, vec![run(400, 20, 50, 200), collapsed, run(400, 20, 50, 200)]);
        assert_eq!((m.number("wide.collapsed"), m.number("wide.seeds")), (1.0, 3.0));
        assert_eq!(m.number("wide.collapsed_fraction"), 1.0 / 3.0);
        // Two of three never collapsed within their 401 epochs: the median
        // and maximum are "≥ 401", the minimum is known.
        assert_eq!(m.value("wide.collapsed_epoch_median").describe(), "≥ 401");
        assert_eq!(m.value("wide.collapsed_epoch_min").number(), Some(154.0));
        assert!(m.per_seed_numbers("wide.collapsed_epoch")[0].is_nan());
        assert_names(&spec, &m);
        let dropped = MeasureSpec::Collapse(Collapse { without_event: WithoutEvent::Dropped, ..collapse_of(&spec) });
        let m = measure(&dropped, vec![run(400, 20, 50, 200), collapsed_run(), run(400, 20, 50, 200)]);
        assert_eq!(m.number("wide.collapsed_epoch_median"), 154.0, "over the seeds that collapsed");
        assert!(m.number("wide.collapsed_epoch_min").is_nan());
    }

    #[test]
    fn the_experiment_must_allow_collapse() {
        let experiments: BTreeMap<String, Experiment> =
            serde_yaml::from_str("grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}")
                .unwrap();
        let spec = MeasureSpec::Collapse(Collapse {
            label: None,
            condition: "grok".into(),
            without_event: WithoutEvent::Censored,
        });
        assert_eq!(spec.validate(&experiments).unwrap_err().field, "may_collapse");
    }
}
