//! `kind: effective-rank`: the effective rank of the late W-update
//! spectrum per seed (docs/methods.md, "Effective rank"): the fraction of
//! seeds with each rank and the median over seeds of each ratio
//! σ_k/σ_{k+1}. Quantities: docs/claims.md, "Measure kinds and their
//! quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Inputs, Kind, Measurement, late, seeds_of, share, window_inside, window_not_empty, window_suffix};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::{by_seed, values_of};
use crate::probes::rank::{EpochWindow, RankParams, effective_rank};

fn tau() -> f64 {
    10.0
}

fn k_max() -> usize {
    2
}

/// Effective rank of the late W-update spectrum per seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectiveRank {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name.
    pub condition: String,
    /// Gap threshold τ (default 10).
    #[serde(default = "tau")]
    pub tau: f64,
    /// Largest rank reported (default 2).
    #[serde(default = "k_max")]
    pub k_max: usize,
    /// Epoch window (default [200, 400]).
    #[serde(default = "late")]
    pub window: EpochWindow,
}

impl Kind for EffectiveRank {
    one_condition!();

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        window_inside(&self.window, experiments[&self.condition].epochs)?;
        if !(self.tau.is_finite() && self.tau > 1.0) {
            return Err(Problem::new("tau".into(), format!("must be a finite number > 1, got {}", self.tau)));
        }
        if !(1..=4).contains(&self.k_max) {
            return Err(Problem::new(
                "k_max".into(),
                format!("must be in 1..=4 (σ1..σ5 are logged), got {}", self.k_max),
            ));
        }
        window_not_empty(&self.window)
    }

    fn needs(&self) -> Vec<String> {
        (1..=5).map(|k| format!("w_sigma{k}")).collect()
    }

    fn quantity_names(&self) -> Vec<String> {
        let w = window_suffix(&self.window);
        let mut names: Vec<String> = (0..=self.k_max).map(|k| format!("rank_fraction_{k}{w}")).collect();
        names.extend((1..=4).map(|k| format!("q{k}_median{w}")));
        names
    }

    fn seed_counts(&self) -> Vec<String> {
        let w = window_suffix(&self.window);
        (0..=self.k_max).map(|k| format!("rank_fraction_{k}{w}")).collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let w = window_suffix(&self.window);
        let params = RankParams { tau: self.tau, k_max: self.k_max, window: self.window };
        let runs = (inputs.runs)(&self.condition)?;
        let seeds = seeds_of(&runs);
        let ranks: Vec<_> = runs.iter().map(|r| effective_rank(&r.metrics.w_sigma(), &params)).collect();
        // A seed's rank is defined only when every q_k it compares (k ≤
        // k_max) is: an undefined q cannot stand for "no gap".
        let rank_of = |r: &crate::probes::rank::EffectiveRank| {
            if r.ratio_medians[..self.k_max].iter().any(|q| q.is_nan()) { f64::NAN } else { r.rank as f64 }
        };
        let per_seed = by_seed(&seeds, &ranks.iter().map(rank_of).collect::<Vec<_>>());
        for k in 0..=self.k_max {
            out.set_value(format!("rank_fraction_{k}{w}"), share(&values_of(&per_seed), |r| r == k as f64));
        }
        for k in 0..4 {
            let q: Vec<f64> = ranks.iter().map(|r| r.ratio_medians[k]).collect();
            out.median_over_seeds(&format!("q{}_median{w}", k + 1), &format!("q{}{w}", k + 1), &seeds, &q);
        }
        out.per_seed.insert(format!("rank{w}"), per_seed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, measure, run};
    use super::*;

    /// The hand-made spectrum is (t, 1, 1/gap23): q1 = t, q2 = gap23, so a
    /// run whose gap23 jumped before the window has rank 2, one whose did
    /// not rank 1; σ_4 is undefined, and so are q3 and q4.
    #[test]
    fn rank_fractions_and_ratio_medians_over_seeds() {
        let spec = MeasureSpec::EffectiveRank(EffectiveRank {
            label: None,
            condition: "grok".into(),
            tau: tau(),
            k_max: k_max(),
            window: late(),
        });
        let m = measure(&spec, vec![run(400, 20, 50, 150), run(400, 20, 50, 180), run(400, 20, 50, 500)]);
        assert_eq!(m.number("rank_fraction_0"), 0.0);
        assert_eq!((m.number("rank_fraction_1"), m.number("rank_fraction_2")), (1.0 / 3.0, 2.0 / 3.0));
        assert_eq!(m.per_seed_numbers("rank"), vec![2.0, 2.0, 1.0]);
        assert_eq!((m.number("q1_median"), m.number("q2_median")), (300.0, 1000.0));
        assert!(m.number("q3_median").is_nan() && m.number("q4_median").is_nan());
        assert_names(&spec, &m);
    }
}
