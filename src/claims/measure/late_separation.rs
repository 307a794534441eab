//! `kind: late-separation`: the late-stage gap23 of two conditions and
//! their ratio (docs/methods.md, "Late separation"): per run the median of
//! gap23 over an epoch window, per condition the median and quartiles over
//! seeds, and the separation, numerator median / denominator median.
//! Quantities: docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    Inputs, Kind, Measurement, late, ratio, seeds_of, summary_names, window_inside, window_not_empty, window_suffix,
};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::{Value, by_seed, values_of};
use crate::probes::rank::{EpochWindow, window_median};

/// The two conditions' roles, the prefixes of their quantities.
const ROLES: [&str; 2] = ["numerator", "denominator"];

/// Late-stage gap23 medians of two conditions and their ratio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateSeparation {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// The grokking condition.
    pub numerator: String,
    /// The control condition.
    pub denominator: String,
    /// Epoch window (default [200, 400]).
    #[serde(default = "late")]
    pub window: EpochWindow,
}

impl Kind for LateSeparation {
    labelled!();

    fn conditions(&self) -> Vec<&str> {
        vec![&self.numerator, &self.denominator]
    }

    fn conditions_mut(&mut self) -> Vec<&mut String> {
        vec![&mut self.numerator, &mut self.denominator]
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        window_inside(&self.window, experiments[&self.numerator].epochs.min(experiments[&self.denominator].epochs))?;
        window_not_empty(&self.window)
    }

    fn needs(&self) -> Vec<String> {
        vec!["w_gap23".into()]
    }

    fn quantity_names(&self) -> Vec<String> {
        let w = window_suffix(&self.window);
        let mut names = vec![format!("separation{w}")];
        for role in ROLES {
            names.extend(summary_names(|s| format!("{role}_{s}{w}")));
        }
        names
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let w = window_suffix(&self.window);
        let mut median_of = |role: &str, condition: &str| -> anyhow::Result<Value> {
            let runs = (inputs.runs)(condition)?;
            let medians: Vec<f64> = runs.iter().map(|r| window_median(&r.metrics.w_gap23(), self.window)).collect();
            let per_seed = by_seed(&seeds_of(&runs), &medians);
            out.summary(&values_of(&per_seed), |s| format!("{role}_{s}{w}"));
            out.per_seed.insert(format!("{role}_late_gap23{w}"), per_seed);
            Ok(out.value(&format!("{role}_median{w}")))
        };
        let [numerator, denominator] = ROLES;
        let separation = ratio(median_of(numerator, &self.numerator)?, median_of(denominator, &self.denominator)?);
        out.set_value(format!("separation{w}"), separation);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, run};
    use super::*;

    /// gap23 is 1000 after the jump and 2 before: a condition that jumped
    /// before the window over one that never did separates by 500.
    #[test]
    fn separation_is_the_ratio_of_the_medians_over_seeds() {
        let spec = |window: [usize; 2]| {
            MeasureSpec::LateSeparation(LateSeparation {
                label: None,
                numerator: "grok".into(),
                denominator: "control".into(),
                window: window.into(),
            })
        };
        let runs = |condition: &str| {
            let jump = if condition == "grok" { 150 } else { 500 };
            Ok(vec![run(400, 20, 50, jump), run(400, 20, 50, jump)])
        };
        let late = spec([200, 400]);
        let m = late.measure(&runs, &|_, _, _| unreachable!()).unwrap();
        assert_eq!((m.number("numerator_median"), m.number("denominator_q75")), (1000.0, 2.0));
        assert_eq!(m.number("separation"), 500.0);
        assert_eq!(m.per_seed_numbers("numerator_late_gap23"), vec![1000.0, 1000.0]);
        assert_names(&late, &m);
        // Before the jump nothing separates; the window names the quantities.
        let early = spec([0, 100]);
        let m = early.measure(&runs, &|_, _, _| unreachable!()).unwrap();
        assert_eq!(m.number("separation_w0_100"), 1.0);
        assert_names(&early, &m);
    }
}
