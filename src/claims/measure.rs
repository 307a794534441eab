//! Measure kinds: what a claim computes from its runs, as named quantities.
//! Each kind's quantity names are listed in `docs/claims.md` and by
//! [`MeasureSpec::quantity_names`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::Experiment;
use crate::measure::detector::{DetectorParams, detect};
use crate::measure::rank::{EpochWindow, RankParams, effective_rank, window_median};
use crate::measure::stats::{Summary, median};
use crate::measure::theorem6::SignRule;
use crate::runs::Run;

fn late() -> EpochWindow {
    EpochWindow::LATE
}
fn tau() -> f64 {
    10.0
}
fn k_max() -> usize {
    2
}
fn pairs() -> usize {
    200
}

/// One measurement on the runs of one or two conditions (YAML: `kind: ...`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MeasureSpec {
    /// The slope detector (SPEC §3.2) on each seed of `condition`.
    Detector {
        /// Experiment name.
        condition: String,
        /// Lag, floor, min_epoch, threshold (default: the paper's).
        #[serde(default)]
        detector: DetectorParams,
    },
    /// Late-stage gap23 medians of two conditions and their ratio (SPEC §3.3).
    LateSeparation {
        /// The grokking condition.
        numerator: String,
        /// The control condition.
        denominator: String,
        /// Epoch window (default [200, 400]).
        #[serde(default = "late")]
        window: EpochWindow,
    },
    /// Effective rank of the late W-update spectrum per seed (SPEC §3.4).
    EffectiveRank {
        /// Experiment name.
        condition: String,
        /// Gap threshold τ (default 10).
        #[serde(default = "tau")]
        tau: f64,
        /// Largest rank reported (default 2).
        #[serde(default = "k_max")]
        k_max: usize,
        /// Epoch window (default [200, 400]).
        #[serde(default = "late")]
        window: EpochWindow,
    },
    /// Theorem 6's three quantities at checkpoints (SPEC §3.5).
    SignRule {
        /// Experiment name (η > 0).
        condition: String,
        /// Checkpoint epochs, ascending.
        epochs: Vec<usize>,
        /// Number of top pairs (default 200).
        #[serde(default = "pairs")]
        pairs: usize,
    },
}

/// Quantity-name suffix of a non-default window: `""` for [200, 400],
/// `_w400_800` for [400, 800], so one claim can measure two windows.
fn window_suffix(window: &EpochWindow) -> String {
    if *window == EpochWindow::LATE { String::new() } else { format!("_w{}_{}", window.first, window.last) }
}

/// A named per-checkpoint value of a [`SignRule`].
type SignRuleField = (&'static str, fn(&SignRule) -> f64);

/// The per-checkpoint values of a [`SignRule`], by quantity prefix.
const SIGN_RULE_FIELDS: [SignRuleField; 7] = [
    ("published", |r| r.published_sign_match),
    ("published_identity", |r| r.published_sign_match_identity),
    ("exact", |r| r.exact_sign_match),
    ("full_projector", |r| r.full_projector_sign_match),
    ("repulsion", |r| r.repulsion_fraction),
    ("abs_similarity", |r| r.median_abs_similarity),
    ("negative_b", |r| r.negative_b_fraction),
];

/// The values a measure produced: named quantities and per-seed series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Named scalar quantities (NaN = undefined).
    pub quantities: BTreeMap<String, f64>,
    /// Per-seed values behind them, in seed order (for reports).
    pub per_seed: BTreeMap<String, Vec<f64>>,
}

impl Measurement {
    fn set(&mut self, name: impl Into<String>, value: f64) {
        self.quantities.insert(name.into(), value);
    }

    /// Median and quartiles of `values`, named by `name("median")` etc.
    fn summary(&mut self, values: &[f64], name: impl Fn(&str) -> String) {
        let s = Summary::of(values);
        for (stat, v) in [("median", s.median), ("q25", s.q25), ("q75", s.q75)] {
            self.set(name(stat), v);
        }
    }
}

impl MeasureSpec {
    /// The experiments this measure reads.
    pub fn conditions(&self) -> Vec<&str> {
        match self {
            MeasureSpec::Detector { condition, .. }
            | MeasureSpec::EffectiveRank { condition, .. }
            | MeasureSpec::SignRule { condition, .. } => vec![condition],
            MeasureSpec::LateSeparation { numerator, denominator, .. } => vec![numerator, denominator],
        }
    }

    /// Checkpoint epochs the runs of `condition` must save for this measure.
    pub fn checkpoints(&self, condition: &str) -> Vec<usize> {
        match self {
            MeasureSpec::SignRule { condition: c, epochs, .. } if c == condition => epochs.clone(),
            _ => Vec::new(),
        }
    }

    /// Every quantity name this measure produces.
    pub fn quantity_names(&self) -> Vec<String> {
        let summary = |p: &str| ["median", "q25", "q75"].map(|s| format!("{p}_{s}")).to_vec();
        match self {
            MeasureSpec::Detector { .. } => {
                let mut names: Vec<String> =
                    ["fired", "seeds", "fired_fraction", "fire_epoch_iqr_width", "max_slope_max"]
                        .map(String::from)
                        .to_vec();
                names.extend(summary("fire_epoch"));
                names
            }
            MeasureSpec::LateSeparation { window, .. } => {
                let mut names = vec!["separation".to_string()];
                names.extend(summary("numerator"));
                names.extend(summary("denominator"));
                names.into_iter().map(|n| n + &window_suffix(window)).collect()
            }
            MeasureSpec::EffectiveRank { k_max, window, .. } => {
                let mut names: Vec<String> = (0..=*k_max).map(|k| format!("rank_fraction_{k}")).collect();
                names.extend((1..=4).map(|k| format!("q{k}_median")));
                names.into_iter().map(|n| n + &window_suffix(window)).collect()
            }
            MeasureSpec::SignRule { epochs, .. } => {
                let mut names: Vec<String> =
                    ["exact_min", "full_projector_min", "published_rise", "published_repulsion_max_gap"]
                        .map(String::from)
                        .to_vec();
                for (field, _) in SIGN_RULE_FIELDS {
                    for e in epochs {
                        names.extend(["median", "q25", "q75", "min"].map(|s| format!("{field}_{s}_e{e}")));
                    }
                }
                names
            }
        }
    }

    /// Check references and parameters against the claim's experiments;
    /// the error is (field, message).
    pub fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), (String, String)> {
        for c in self.conditions() {
            if !experiments.contains_key(c) {
                let known: Vec<&str> = experiments.keys().map(String::as_str).collect();
                return Err((
                    c.to_string(),
                    format!("measure refers to experiment `{c}`, which is not in experiments ({})", known.join(", ")),
                ));
            }
        }
        match self {
            MeasureSpec::Detector { detector, .. }
                if !(detector.lag > 0 && detector.floor > 0.0 && detector.threshold.is_finite()) =>
            {
                Err(("detector".into(), "needs lag > 0, floor > 0 and a finite threshold".into()))
            }
            MeasureSpec::EffectiveRank { tau, k_max, .. } if !(*tau > 1.0 && (1..=4).contains(k_max)) => {
                Err(("k_max".into(), "needs tau > 1 and 1 ≤ k_max ≤ 4".into()))
            }
            MeasureSpec::LateSeparation { window, .. } | MeasureSpec::EffectiveRank { window, .. }
                if window.first > window.last =>
            {
                Err(("window".into(), format!("{window} is empty")))
            }
            MeasureSpec::SignRule { condition, epochs, pairs } => {
                let e = &experiments[condition];
                if e.eta <= 0.0 {
                    return Err((
                        "eta".into(),
                        format!("sign-rule needs η > 0 in `{condition}` (B is singular at η = 0)"),
                    ));
                }
                if epochs.is_empty() || !epochs.windows(2).all(|w| w[0] < w[1]) || epochs.iter().any(|&x| x > e.epochs)
                {
                    return Err(("epochs".into(), format!("need ascending checkpoint epochs within 0..={}", e.epochs)));
                }
                if *pairs == 0 {
                    return Err(("pairs".into(), "must be ≥ 1".into()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Compute the quantities. `runs(condition)` gives that experiment's runs
    /// in seed order; `sign_rule(run, epoch, pairs)` the SPEC §3.5 analysis.
    pub fn measure(
        &self,
        runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<SignRule>,
    ) -> anyhow::Result<Measurement> {
        let mut out = Measurement::default();
        match self {
            MeasureSpec::Detector { condition, detector } => {
                let detections: Vec<_> =
                    runs(condition)?.iter().map(|r| detect(&r.metrics.w_gap23(), detector)).collect();
                let fire: Vec<f64> = detections.iter().map(|d| d.fire_epoch.map_or(f64::NAN, |e| e as f64)).collect();
                let fired = fire.iter().filter(|e| !e.is_nan()).count();
                out.set("fired", fired as f64);
                out.set("seeds", detections.len() as f64);
                out.set("fired_fraction", fired as f64 / detections.len() as f64);
                out.summary(&fire, |s| format!("fire_epoch_{s}"));
                out.set("fire_epoch_iqr_width", Summary::of(&fire).iqr_width());
                let max_slopes: Vec<f64> = detections.iter().map(|d| d.max_slope).collect();
                out.set("max_slope_max", max_slopes.iter().copied().fold(f64::NAN, f64::max));
                out.per_seed.insert("fire_epoch".into(), fire);
                out.per_seed.insert("max_slope".into(), max_slopes);
            }
            MeasureSpec::LateSeparation { numerator, denominator, window } => {
                let w = window_suffix(window);
                let mut medians_of = |role: &str, condition: &str| -> anyhow::Result<f64> {
                    let medians: Vec<f64> =
                        runs(condition)?.iter().map(|r| window_median(&r.metrics.w_gap23(), *window)).collect();
                    out.summary(&medians, |s| format!("{role}_{s}{w}"));
                    out.per_seed.insert(format!("{role}_late_gap23{w}"), medians.clone());
                    Ok(median(&medians))
                };
                let separation = medians_of("numerator", numerator)? / medians_of("denominator", denominator)?;
                out.set(format!("separation{w}"), separation);
            }
            MeasureSpec::EffectiveRank { condition, tau, k_max, window } => {
                let w = window_suffix(window);
                let params = RankParams { tau: *tau, k_max: *k_max, window: *window };
                let ranks: Vec<_> =
                    runs(condition)?.iter().map(|r| effective_rank(&r.metrics.w_sigma(), &params)).collect();
                for k in 0..=*k_max {
                    out.set(
                        format!("rank_fraction_{k}{w}"),
                        ranks.iter().filter(|r| r.rank == k).count() as f64 / ranks.len() as f64,
                    );
                }
                for k in 0..4 {
                    let q: Vec<f64> = ranks.iter().map(|r| r.ratio_medians[k]).collect();
                    out.set(format!("q{}_median{w}", k + 1), median(&q));
                    out.per_seed.insert(format!("q{}{w}", k + 1), q);
                }
                out.per_seed.insert(format!("rank{w}"), ranks.iter().map(|r| r.rank as f64).collect());
            }
            MeasureSpec::SignRule { condition, epochs, pairs } => {
                self.measure_sign_rule(&runs(condition)?, epochs, *pairs, sign_rule, &mut out)?
            }
        }
        Ok(out)
    }

    fn measure_sign_rule(
        &self,
        runs: &[Run],
        epochs: &[usize],
        pairs: usize,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<SignRule>,
        out: &mut Measurement,
    ) -> anyhow::Result<()> {
        let mut all = Vec::new(); // all[epoch index][seed]
        for &e in epochs {
            all.push(runs.iter().map(|r| sign_rule(r, e, pairs)).collect::<anyhow::Result<Vec<_>>>()?);
        }
        for (field, get) in SIGN_RULE_FIELDS {
            for (i, &e) in epochs.iter().enumerate() {
                let values: Vec<f64> = all[i].iter().map(get).collect();
                out.summary(&values, |s| format!("{field}_{s}_e{e}"));
                out.set(format!("{field}_min_e{e}"), values.iter().copied().fold(f64::NAN, f64::min));
                out.per_seed.insert(format!("{field}_e{e}"), values);
            }
        }
        let q = &out.quantities;
        let min_over = |field: &str| epochs.iter().map(|e| q[&format!("{field}_min_e{e}")]).fold(f64::NAN, f64::min);
        let published = |e: &usize| q[&format!("published_median_e{e}")];
        let derived = [
            ("exact_min", min_over("exact")),
            ("full_projector_min", min_over("full_projector")),
            ("published_rise", published(epochs.last().expect("validated")) - published(&epochs[0])),
            (
                "published_repulsion_max_gap",
                epochs
                    .iter()
                    .map(|e| (published(e) - q[&format!("repulsion_median_e{e}")]).abs())
                    .fold(f64::NAN, f64::max),
            ),
        ];
        for (name, value) in derived {
            out.set(name, value);
        }
        Ok(())
    }
}
