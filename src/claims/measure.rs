//! Measure kinds: what a claim computes from its runs, as named quantities.
//! Each kind's quantity names are listed in `docs/claims.md` and by
//! [`MeasureSpec::quantity_names`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::experiment::{Experiment, MAX_NAME};
use crate::measure::detector::{DetectorParams, detect};
use crate::measure::rank::{EpochWindow, RankParams, effective_rank, window_median};
use crate::measure::stats::{Summary, median};
use crate::measure::theorem6::SignRule;
use crate::runs::{Milestones, Run, is_level_series, series_names};
use crate::train::LevelLog;

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
    /// The slope detector (docs/methods.md, "Slope detector") on each seed of `condition`.
    Detector {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
        /// Lag, floor, min_epoch, threshold (default: the paper's).
        #[serde(default)]
        detector: DetectorParams,
    },
    /// Late-stage gap23 medians of two conditions and their ratio (docs/methods.md, "Late separation").
    LateSeparation {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// The grokking condition.
        numerator: String,
        /// The control condition.
        denominator: String,
        /// Epoch window (default [200, 400]).
        #[serde(default = "late")]
        window: EpochWindow,
    },
    /// Effective rank of the late W-update spectrum per seed (docs/methods.md, "Effective rank").
    EffectiveRank {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
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
    /// Logged series (`metrics.csv` columns) at given epochs, median over seeds.
    SeriesAt {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
        /// Column names, e.g. `w_sigma2`.
        series: Vec<String>,
        /// Epochs, ascending.
        epochs: Vec<usize>,
        /// Pairs of epochs [a, b] whose per-seed ratio series(a) / series(b) to report.
        #[serde(default)]
        ratios: Vec<[usize; 2]>,
    },
    /// Accuracy milestones per seed (first epoch with train accuracy 1, test
    /// accuracy ≥ 0.5, ≥ 0.99) and the slope detector's fire epoch minus the
    /// test-≥-0.99 epoch.
    Milestones {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
        /// Lag, floor, min_epoch, threshold of the detector (default: the paper's).
        #[serde(default)]
        detector: DetectorParams,
    },
    /// First epoch (from 0) at which a series reaches a threshold, per seed:
    /// the level-metric detector "ρ ≥ 0.075"
    /// (docs/methods.md, "Threshold events and leads").
    Threshold {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
        /// Series name (a `metrics.csv` column, `rho` or `rho_paper`).
        series: String,
        /// The level.
        threshold: f64,
    },
    /// Per seed, the epochs of two events (a series first reaching a level)
    /// and the lead t_to − t_from, pooled over conditions; with the linear
    /// fit t_from = slope · t_to + intercept (numpy's polyfit) and its R².
    Lead {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment names whose seeds are pooled.
        conditions: Vec<String>,
        /// The earlier event, e.g. `{series: rho, threshold: 0.075}`.
        from: Event,
        /// The later event, e.g. `{series: test_acc, threshold: 0.5}`.
        to: Event,
    },
    /// Runs whose training loss became non-finite, per seed (the experiment
    /// must say `may_diverge: true`, or a diverged run is an error).
    Divergence {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
    },
    /// Runs whose network collapsed to zero output (docs/methods.md,
    /// "Collapse"), per seed (the experiment must say `may_collapse: true`,
    /// or a collapsed run is an error).
    Collapse {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name.
        condition: String,
    },
    /// Theorem 6's quantities at checkpoints (docs/methods.md, "Theorem 6").
    SignRule {
        /// Prefix of this measure's quantity names (`label.name`), so two
        /// measures of one claim can use the same kind on different conditions.
        #[serde(default)]
        label: Option<String>,
        /// Experiment name (η > 0).
        condition: String,
        /// Checkpoint epochs, ascending.
        epochs: Vec<usize>,
        /// Number of top pairs (default 200).
        #[serde(default = "pairs")]
        pairs: usize,
        /// A published sign-match level whose first crossing (by the median
        /// over seeds, at the checkpoints) to report.
        #[serde(default)]
        crossing: Option<f64>,
    },
}

/// The error for a series name nothing logs.
fn unknown_series(name: &str) -> (String, String) {
    ("series".into(), format!("`{name}` is not a logged series ({})", series_names().join(", ")))
}

/// Quantity-name suffix of a non-default window: `""` for [200, 400],
/// `_w400_800` for [400, 800], so one claim can measure two windows.
fn window_suffix(window: &EpochWindow) -> String {
    if *window == EpochWindow::LATE { String::new() } else { format!("_w{}_{}", window.first, window.last) }
}

/// A named per-checkpoint value of a [`SignRule`].
type SignRuleField = (&'static str, fn(&SignRule) -> f64);

/// The per-checkpoint values of a [`SignRule`], by quantity prefix.
const SIGN_RULE_FIELDS: [SignRuleField; 8] = [
    ("published", |r| r.published_sign_match),
    ("published_identity", |r| r.published_sign_match_identity),
    ("exact", |r| r.exact_sign_match),
    ("full_projector", |r| r.full_projector_sign_match),
    ("projector_agreement", |r| r.projector_sign_agreement),
    ("repulsion", |r| r.repulsion_fraction),
    ("abs_similarity", |r| r.median_abs_similarity),
    ("negative_b", |r| r.negative_b_fraction),
];

/// A series first reaching a level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Series name.
    pub series: String,
    /// The level (reached when the value is ≥ it).
    pub threshold: f64,
}

impl Event {
    /// The first epoch of `run` at which the event happens, or NaN.
    fn epoch(&self, run: &Run) -> f64 {
        first_at_least(&run.series(&self.series).expect("validated"), self.threshold)
    }
}

/// The first index whose value is ≥ `level` (NaN never is), or NaN.
fn first_at_least(series: &[f64], level: f64) -> f64 {
    series.iter().position(|&v| v >= level).map_or(f64::NAN, |e| e as f64)
}

/// Least-squares line y = slope · x + intercept and its R² (numpy's
/// `polyfit(x, y, 1)`; R² = 1 − SS_res / SS_tot).
pub fn linear_fit(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = x.iter().zip(y).map(|(a, b)| (b - slope * a - intercept).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (slope, intercept, 1.0 - ss_res / ss_tot)
}

/// The per-seed events of a [`MeasureSpec::Milestones`], by quantity prefix.
const MILESTONES: [&str; 4] = ["train_acc_1", "test_acc_half", "test_acc_99", "fire_after_test_acc_99"];

/// The values a measure produced: named quantities and per-seed series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Named scalar quantities (NaN = undefined, `null` in JSON).
    #[serde(with = "crate::nullable::map")]
    pub quantities: BTreeMap<String, f64>,
    /// Per-seed values behind them, in seed order (for reports).
    #[serde(with = "crate::nullable::map_of_series")]
    pub per_seed: BTreeMap<String, Vec<f64>>,
}

impl Measurement {
    fn set(&mut self, name: impl Into<String>, value: f64) {
        self.quantities.insert(name.into(), value);
    }

    /// A run-ending event per seed (`word` = diverged, collapsed): how many
    /// runs it ended, of how many, the fraction and its epochs.
    fn stops(&mut self, word: &str, at: Vec<Option<usize>>) {
        let at: Vec<f64> = at.iter().map(|e| e.map_or(f64::NAN, |e| e as f64)).collect();
        let stopped = at.iter().filter(|e| !e.is_nan()).count();
        self.set(word, stopped as f64);
        self.set("seeds", at.len() as f64);
        self.set(format!("{word}_fraction"), stopped as f64 / at.len() as f64);
        self.summary(&at, |s| format!("{word}_epoch_{s}"));
        self.per_seed.insert(format!("{word}_epoch"), at);
    }

    /// Median and quartiles of `values`, named by `name("median")` etc.
    fn summary(&mut self, values: &[f64], name: impl Fn(&str) -> String) {
        let s = Summary::of(values);
        for (stat, v) in [("median", s.median), ("q25", s.q25), ("q75", s.q75)] {
            self.set(name(stat), v);
        }
    }
}

/// The quantity names of [`Measurement::stops`] for `word`.
fn stop_names(word: &str) -> Vec<String> {
    let mut names = vec![word.to_string(), "seeds".into(), format!("{word}_fraction")];
    names.extend(["median", "q25", "q75"].map(|s| format!("{word}_epoch_{s}")));
    names
}

impl MeasureSpec {
    /// The experiments this measure reads.
    pub fn conditions(&self) -> Vec<&str> {
        match self {
            MeasureSpec::Detector { condition, .. }
            | MeasureSpec::EffectiveRank { condition, .. }
            | MeasureSpec::SeriesAt { condition, .. }
            | MeasureSpec::Milestones { condition, .. }
            | MeasureSpec::Threshold { condition, .. }
            | MeasureSpec::Divergence { condition, .. }
            | MeasureSpec::Collapse { condition, .. }
            | MeasureSpec::SignRule { condition, .. } => vec![condition],
            MeasureSpec::Lead { conditions, .. } => conditions.iter().map(String::as_str).collect(),
            MeasureSpec::LateSeparation { numerator, denominator, .. } => vec![numerator, denominator],
        }
    }

    /// The experiment names this measure reads, to rewrite (grid expansion).
    pub fn conditions_mut(&mut self) -> Vec<&mut String> {
        match self {
            MeasureSpec::Detector { condition, .. }
            | MeasureSpec::EffectiveRank { condition, .. }
            | MeasureSpec::SeriesAt { condition, .. }
            | MeasureSpec::Milestones { condition, .. }
            | MeasureSpec::Threshold { condition, .. }
            | MeasureSpec::Divergence { condition, .. }
            | MeasureSpec::Collapse { condition, .. }
            | MeasureSpec::SignRule { condition, .. } => vec![condition],
            MeasureSpec::Lead { conditions, .. } => conditions.iter_mut().collect(),
            MeasureSpec::LateSeparation { numerator, denominator, .. } => vec![numerator, denominator],
        }
    }

    /// Set the label (grid expansion: `LABEL[point]`).
    pub fn set_label(&mut self, new: String) {
        match self {
            MeasureSpec::Detector { label, .. }
            | MeasureSpec::LateSeparation { label, .. }
            | MeasureSpec::EffectiveRank { label, .. }
            | MeasureSpec::SeriesAt { label, .. }
            | MeasureSpec::Milestones { label, .. }
            | MeasureSpec::Threshold { label, .. }
            | MeasureSpec::Lead { label, .. }
            | MeasureSpec::Divergence { label, .. }
            | MeasureSpec::Collapse { label, .. }
            | MeasureSpec::SignRule { label, .. } => *label = Some(new),
        }
    }

    /// Checkpoint epochs the runs of `condition` must save for this measure.
    pub fn checkpoints(&self, condition: &str) -> Vec<usize> {
        match self {
            MeasureSpec::SignRule { condition: c, epochs, .. } if c == condition => epochs.clone(),
            _ => Vec::new(),
        }
    }

    /// The measure's label, if any.
    pub fn label(&self) -> Option<&str> {
        match self {
            MeasureSpec::Detector { label, .. }
            | MeasureSpec::LateSeparation { label, .. }
            | MeasureSpec::EffectiveRank { label, .. }
            | MeasureSpec::SeriesAt { label, .. }
            | MeasureSpec::Milestones { label, .. }
            | MeasureSpec::Threshold { label, .. }
            | MeasureSpec::Lead { label, .. }
            | MeasureSpec::Divergence { label, .. }
            | MeasureSpec::Collapse { label, .. }
            | MeasureSpec::SignRule { label, .. } => label.as_deref(),
        }
    }

    /// `name`, prefixed with the label if there is one.
    fn labelled(&self, name: &str) -> String {
        match self.label() {
            Some(label) => format!("{label}.{name}"),
            None => name.to_string(),
        }
    }

    /// The level-metric log the runs of `condition` (experiment `e`) need.
    pub fn level_needs(&self, condition: &str, e: &Experiment) -> Option<LevelLog> {
        if !self.conditions().contains(&condition) {
            return None;
        }
        // Only `rho` stops the log early; `rho_paper` is then logged throughout.
        let event = |series: &str, threshold: f64| {
            let stop_above = (series == "rho").then_some(threshold);
            is_level_series(series).then_some(LevelLog { until: e.epochs, stop_above, every: 1 })
        };
        match self {
            MeasureSpec::SeriesAt { series, epochs, ratios, .. } if series.iter().any(|s| is_level_series(s)) => {
                let last = epochs.iter().chain(ratios.iter().flatten()).max().copied().unwrap_or(0);
                Some(LevelLog { until: last, stop_above: None, every: 1 })
            }
            MeasureSpec::Threshold { series, threshold, .. } => event(series, *threshold),
            MeasureSpec::Lead { from, to, .. } => {
                LevelLog::union(event(&from.series, from.threshold), event(&to.series, to.threshold))
            }
            _ => None,
        }
    }

    /// Every quantity name this measure produces.
    pub fn quantity_names(&self) -> Vec<String> {
        self.unlabelled_names().iter().map(|n| self.labelled(n)).collect()
    }

    fn unlabelled_names(&self) -> Vec<String> {
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
            MeasureSpec::SeriesAt { series, epochs, ratios, .. } => series
                .iter()
                .flat_map(|s| {
                    let at = epochs.iter().map(move |e| format!("{s}_median_e{e}"));
                    at.chain(ratios.iter().map(move |[a, b]| format!("{s}_ratio_e{a}_e{b}")))
                })
                .collect(),
            MeasureSpec::Milestones { .. } => MILESTONES
                .iter()
                .flat_map(|m| {
                    let mut names = summary(m);
                    names.push(format!("{m}_reached_fraction"));
                    names
                })
                .collect(),
            MeasureSpec::Threshold { .. } => {
                let mut names: Vec<String> =
                    ["fired", "seeds", "fired_fraction", "max_value"].map(String::from).to_vec();
                names.extend(summary("fire_epoch"));
                names
            }
            MeasureSpec::Lead { .. } => {
                let mut names: Vec<String> = [
                    "pairs",
                    "positive_fraction",
                    "lead_min",
                    "lead_max",
                    "lead_of_medians",
                    "fit_slope",
                    "fit_intercept",
                    "fit_r2",
                ]
                .map(String::from)
                .to_vec();
                names.extend(summary("lead"));
                names
            }
            MeasureSpec::Divergence { .. } => stop_names("diverged"),
            MeasureSpec::Collapse { .. } => stop_names("collapsed"),
            MeasureSpec::SignRule { epochs, crossing, .. } => {
                let mut names: Vec<String> = [
                    "exact_min",
                    "full_projector_min",
                    "published_rise",
                    "published_repulsion_max_gap",
                    "published_iqr_width_max",
                ]
                .map(String::from)
                .to_vec();
                if crossing.is_some() {
                    names.extend(["published_crossing_epoch", "published_crossing_after"].map(String::from));
                }
                names.extend(epochs.iter().map(|e| format!("published_iqr_width_e{e}")));
                for (field, _) in SIGN_RULE_FIELDS {
                    for e in epochs {
                        names.extend(["median", "q25", "q75", "min"].map(|s| format!("{field}_{s}_e{e}")));
                    }
                }
                names
            }
        }
    }

    /// A written label is letters, digits and `_` (grid expansion adds `[point]`).
    pub fn check_label(&self) -> Result<(), (String, String)> {
        match self.label() {
            Some(l)
                if l.is_empty() || l.len() > MAX_NAME || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Err(("label".into(), format!("`{l}` must be 1-{} letters, digits and _", MAX_NAME)))
            }
            _ => Ok(()),
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
        self.check_reachable(experiments)?;
        match self {
            MeasureSpec::Detector { detector, .. } | MeasureSpec::Milestones { detector, .. }
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
            MeasureSpec::SeriesAt { condition, series, epochs, ratios, .. } => {
                let last = experiments[condition].epochs;
                if let Some(e) = ratios.iter().flatten().find(|&&e| e > last) {
                    return Err(("ratios".into(), format!("epoch {e} is past the end of `{condition}` ({last})")));
                }
                if let Some(bad) = series.iter().find(|s| !series_names().contains(&s.as_str())) {
                    return Err(unknown_series(bad));
                }
                if series.is_empty() || epochs.is_empty() || !epochs.windows(2).all(|w| w[0] < w[1]) {
                    return Err(("epochs".into(), "need at least one series and ascending epochs".into()));
                }
                match epochs.iter().find(|&&e| e > last) {
                    Some(e) => Err(("epochs".into(), format!("epoch {e} is past the end of `{condition}` ({last})"))),
                    None => Ok(()),
                }
            }
            MeasureSpec::Threshold { series, threshold, .. } => {
                if !series_names().contains(&series.as_str()) {
                    return Err(unknown_series(series));
                }
                if !threshold.is_finite() {
                    return Err(("threshold".into(), "must be a finite number".into()));
                }
                Ok(())
            }
            MeasureSpec::Lead { conditions, from, to, .. } => {
                if conditions.is_empty() {
                    return Err(("conditions".into(), "at least one experiment is needed".into()));
                }
                match [from, to].into_iter().find(|e| !series_names().contains(&e.series.as_str())) {
                    Some(e) => Err(unknown_series(&e.series)),
                    None if !(from.threshold.is_finite() && to.threshold.is_finite()) => {
                        Err(("threshold".into(), "must be a finite number".into()))
                    }
                    None => Ok(()),
                }
            }
            MeasureSpec::Divergence { condition, .. } if !experiments[condition].may_diverge => Err((
                "may_diverge".into(),
                format!("`{condition}` must say `may_diverge: true` for its divergences to be counted"),
            )),
            MeasureSpec::Collapse { condition, .. } if !experiments[condition].may_collapse => Err((
                "may_collapse".into(),
                format!("`{condition}` must say `may_collapse: true` for its collapses to be counted"),
            )),
            MeasureSpec::SignRule { condition, epochs, pairs, .. } => {
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

    /// Every epoch window and detector epoch must lie inside each run it
    /// reads, or the measure would pass on no data ("never fires", rank 0).
    fn check_reachable(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), (String, String)> {
        let last = self.conditions().iter().map(|c| experiments[*c].epochs).min().unwrap_or(0);
        let outside = |field: &str, what: String| {
            Err((field.to_string(), format!("{what} is past the end of the runs it reads (last epoch {last})")))
        };
        match self {
            MeasureSpec::LateSeparation { window, .. } | MeasureSpec::EffectiveRank { window, .. }
                if window.last > last =>
            {
                outside("window", format!("window {window}"))
            }
            MeasureSpec::Detector { detector, .. } | MeasureSpec::Milestones { detector, .. }
                if detector.min_epoch > last || detector.lag >= last =>
            {
                outside("detector", format!("min_epoch {} or lag {}", detector.min_epoch, detector.lag))
            }
            _ => Ok(()),
        }
    }

    /// Compute the quantities. `runs(condition)` gives that experiment's runs
    /// in seed order; `sign_rule(run, epoch, pairs)` the Theorem-6 analysis
    /// (docs/methods.md, "Theorem 6").
    pub fn measure(
        &self,
        runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<SignRule>,
    ) -> anyhow::Result<Measurement> {
        let out = self.measure_unlabelled(runs, sign_rule)?;
        Ok(Measurement {
            quantities: out.quantities.into_iter().map(|(k, v)| (self.labelled(&k), v)).collect(),
            per_seed: out.per_seed.into_iter().map(|(k, v)| (self.labelled(&k), v)).collect(),
        })
    }

    fn measure_unlabelled(
        &self,
        runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<SignRule>,
    ) -> anyhow::Result<Measurement> {
        let mut out = Measurement::default();
        match self {
            MeasureSpec::Detector { condition, detector, .. } => {
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
            MeasureSpec::LateSeparation { numerator, denominator, window, .. } => {
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
            MeasureSpec::EffectiveRank { condition, tau, k_max, window, .. } => {
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
            MeasureSpec::SeriesAt { condition, series, epochs, ratios, .. } => {
                let runs = runs(condition)?;
                for name in series {
                    let columns: Vec<Vec<f64>> = runs.iter().map(|r| r.series(name).expect("validated")).collect();
                    let at = |e: usize| -> Vec<f64> {
                        columns.iter().map(|c| c.get(e).copied().unwrap_or(f64::NAN)).collect()
                    };
                    for &e in epochs {
                        let values = at(e);
                        out.set(format!("{name}_median_e{e}"), median(&values));
                        out.per_seed.insert(format!("{name}_e{e}"), values);
                    }
                    for &[a, b] in ratios {
                        let values: Vec<f64> = at(a).iter().zip(at(b)).map(|(x, y)| x / y).collect();
                        out.set(format!("{name}_ratio_e{a}_e{b}"), median(&values));
                        out.per_seed.insert(format!("{name}_ratio_e{a}_e{b}"), values);
                    }
                }
            }
            MeasureSpec::Milestones { condition, detector, .. } => {
                let runs = runs(condition)?;
                let epoch = |e: Option<usize>| e.map_or(f64::NAN, |e| e as f64);
                let mut events: [Vec<f64>; 4] = Default::default();
                for run in &runs {
                    let m = Milestones::of(&run.metrics);
                    let fire = epoch(detect(&run.metrics.w_gap23(), detector).fire_epoch);
                    let test_99 = epoch(m.test_acc_99);
                    let row = [epoch(m.train_acc_1), epoch(m.test_acc_half), test_99, fire - test_99];
                    for (series, value) in events.iter_mut().zip(row) {
                        series.push(value);
                    }
                }
                for (name, values) in MILESTONES.iter().zip(events) {
                    out.summary(&values, |s| format!("{name}_{s}"));
                    let reached = values.iter().filter(|v| !v.is_nan()).count();
                    out.set(format!("{name}_reached_fraction"), reached as f64 / values.len() as f64);
                    out.per_seed.insert(name.to_string(), values);
                }
            }
            MeasureSpec::Threshold { condition, series, threshold, .. } => {
                let runs = runs(condition)?;
                let event = Event { series: series.clone(), threshold: *threshold };
                let fire: Vec<f64> = runs.iter().map(|r| event.epoch(r)).collect();
                let fired = fire.iter().filter(|e| !e.is_nan()).count();
                out.set("fired", fired as f64);
                out.set("seeds", fire.len() as f64);
                out.set("fired_fraction", fired as f64 / fire.len() as f64);
                out.summary(&fire, |s| format!("fire_epoch_{s}"));
                // ρ's log may end just after its first crossing (docs/methods.md, "Level
                // metric ρ"), so its peak is taken up to that crossing, whatever a cached
                // run logged beyond it: the same value from any cache.
                let peak = |r: &Run| {
                    let values = r.series(series).expect("validated");
                    let crossing = values.iter().position(|&v| v >= *threshold);
                    let end = crossing.filter(|_| series == "rho").map_or(values.len(), |i| i + 1);
                    values[..end].iter().copied().fold(f64::NAN, f64::max)
                };
                out.set("max_value", runs.iter().map(peak).fold(f64::NAN, f64::max));
                out.per_seed.insert("fire_epoch".into(), fire);
            }
            MeasureSpec::Lead { conditions, from, to, .. } => {
                let mut events: Vec<(f64, f64)> = Vec::new();
                for condition in conditions {
                    events.extend(runs(condition)?.iter().map(|r| (from.epoch(r), to.epoch(r))));
                }
                let both: Vec<(f64, f64)> =
                    events.iter().copied().filter(|(a, b)| !a.is_nan() && !b.is_nan()).collect();
                let leads: Vec<f64> = both.iter().map(|(a, b)| b - a).collect();
                out.set("pairs", both.len() as f64);
                out.set("positive_fraction", leads.iter().filter(|l| **l > 0.0).count() as f64 / leads.len() as f64);
                out.set("lead_min", leads.iter().copied().fold(f64::NAN, f64::min));
                out.set("lead_max", leads.iter().copied().fold(f64::NAN, f64::max));
                out.summary(&leads, |s| format!("lead_{s}"));
                let (firsts, seconds): (Vec<f64>, Vec<f64>) = events.iter().copied().unzip();
                out.set("lead_of_medians", median(&seconds) - median(&firsts));
                let (x, y): (Vec<f64>, Vec<f64>) = both.iter().map(|(a, b)| (*b, *a)).unzip();
                let (slope, intercept, r2) =
                    if both.len() >= 2 { linear_fit(&x, &y) } else { (f64::NAN, f64::NAN, f64::NAN) };
                out.set("fit_slope", slope);
                out.set("fit_intercept", intercept);
                out.set("fit_r2", r2);
                out.per_seed.insert("from_epoch".into(), firsts);
                out.per_seed.insert("to_epoch".into(), seconds);
            }
            MeasureSpec::Divergence { condition, .. } => {
                out.stops("diverged", runs(condition)?.iter().map(|r| r.summary.diverged_at).collect());
            }
            MeasureSpec::Collapse { condition, .. } => {
                out.stops("collapsed", runs(condition)?.iter().map(|r| r.summary.collapsed_at).collect());
            }
            MeasureSpec::SignRule { condition, epochs, pairs, crossing, .. } => {
                self.measure_sign_rule(&runs(condition)?, epochs, *pairs, sign_rule, &mut out)?;
                if let Some(level) = crossing {
                    let medians: Vec<f64> =
                        epochs.iter().map(|e| out.quantities[&format!("published_median_e{e}")]).collect();
                    let (at, after) = crossing_of(epochs, &medians, *level);
                    out.set("published_crossing_epoch", at);
                    out.set("published_crossing_after", after);
                }
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
                "published_iqr_width_max",
                epochs
                    .iter()
                    .map(|e| q[&format!("published_q75_e{e}")] - q[&format!("published_q25_e{e}")])
                    .fold(f64::NAN, f64::max),
            ),
            (
                "published_repulsion_max_gap",
                epochs
                    .iter()
                    .map(|e| (published(e) - q[&format!("repulsion_median_e{e}")]).abs())
                    .fold(f64::NAN, f64::max),
            ),
        ];
        let widths: Vec<(String, f64)> = epochs
            .iter()
            .map(|e| {
                (
                    format!("published_iqr_width_e{e}"),
                    q[&format!("published_q75_e{e}")] - q[&format!("published_q25_e{e}")],
                )
            })
            .collect();
        for (name, value) in derived {
            out.set(name, value);
        }
        for (name, value) in widths {
            out.set(name, value);
        }
        Ok(())
    }
}

/// The first checkpoint whose value reaches `level`, and the checkpoint
/// before it: the crossing is bracketed to (after, at]. NaN where undefined.
fn crossing_of(epochs: &[usize], values: &[f64], level: f64) -> (f64, f64) {
    match values.iter().position(|&v| v >= level) {
        Some(i) => (epochs[i] as f64, if i == 0 { f64::NAN } else { epochs[i - 1] as f64 }),
        None => (f64::NAN, f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::spectrum::SpectrumRow;
    use crate::metrics::Evaluation;
    use crate::metrics::{EpochRow, Metrics};
    use crate::runs::RunSummary;
    use crate::train::{TrainOutput, TrainSpec};

    /// A hand-made run of `epochs + 1` rows: train accuracy reaches 1 at
    /// `train_1`, test accuracy climbs by 0.01 per epoch from `test_start`,
    /// gap23 jumps (×e³ within the lag) at `jump`.
    fn run(epochs: usize, train_1: usize, test_start: usize, jump: usize) -> Run {
        let rows = (0..=epochs)
            .map(|t| {
                let gap: f64 = if t >= jump { 1000.0 } else { 2.0 };
                EpochRow {
                    epoch: t,
                    train: Evaluation { loss: 0.1, accuracy: if t >= train_1 { 1.0 } else { 0.5 } },
                    test: Evaluation { loss: 0.1, accuracy: (t.saturating_sub(test_start) as f64 * 0.01).min(1.0) },
                    w: SpectrumRow { sigma: [t as f64, 1.0, 1.0 / gap, f64::NAN, f64::NAN], gap23: gap },
                    v: SpectrumRow::undefined(),
                }
            })
            .collect();
        let output = TrainOutput {
            metrics: Metrics { rows },
            checkpoints: vec![],
            diverged_at: None,
            collapsed_at: None,
            levels: vec![],
        };
        let summary = RunSummary::of(&output, 0.0);
        Run {
            dir: "hand-made".into(),
            spec: TrainSpec::default(),
            metrics: output.metrics,
            summary,
            levels: vec![],
            from_file: false,
        }
    }

    fn measure(spec: &MeasureSpec, runs: Vec<Run>) -> Measurement {
        spec.measure(&|_| Ok(runs.clone()), &|_, _, _| unreachable!()).unwrap()
    }

    #[test]
    fn series_at_reads_columns_at_epochs() {
        let spec = MeasureSpec::SeriesAt {
            label: None,
            condition: "grok".into(),
            series: vec!["w_sigma1".into(), "test_acc".into()],
            epochs: vec![10, 300],
            ratios: vec![[300, 10]],
        };
        let m = measure(&spec, vec![run(300, 20, 100, 200), run(300, 20, 150, 200), run(300, 20, 0, 200)]);
        assert_eq!(m.quantities["w_sigma1_median_e10"], 10.0);
        assert_eq!(m.per_seed["test_acc_e300"], vec![1.0, 1.0, 1.0]);
        assert_eq!(m.quantities["test_acc_median_e10"], 0.0); // seeds: 0, 0, 0.1
        assert_eq!(m.quantities["w_sigma1_ratio_e300_e10"], 30.0);
        let mut names = spec.quantity_names();
        names.sort();
        assert_eq!(names, m.quantities.keys().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn milestones_per_seed_and_fire_lag() {
        let spec = MeasureSpec::Milestones {
            label: Some("g".into()),
            condition: "grok".into(),
            detector: DetectorParams::default(),
        };
        // test acc ≥ 0.5 at start + 50, ≥ 0.99 at start + 99; the detector
        // fires at the gap23 jump (200), so the lag is 200 − (start + 99).
        let m = measure(&spec, vec![run(400, 24, 50, 200), run(400, 26, 60, 200), run(400, 25, 500, 200)]);
        assert_eq!(m.per_seed["g.train_acc_1"], vec![24.0, 26.0, 25.0]);
        assert_eq!(m.quantities["g.train_acc_1_median"], 25.0);
        assert_eq!(m.quantities["g.test_acc_half_median"], 105.0); // 100 and 110; seed 3 never
        assert!((m.quantities["g.test_acc_half_reached_fraction"] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.per_seed["g.fire_after_test_acc_99"][..2], [51.0, 41.0]);
        assert!(m.per_seed["g.fire_after_test_acc_99"][2].is_nan());
        let mut names = spec.quantity_names();
        names.sort();
        assert_eq!(names, m.quantities.keys().cloned().collect::<Vec<_>>());
    }

    /// A diverged run is counted, and the other measures see only the
    /// epochs it has: it never reaches test accuracy 0.99, and the detector
    /// cannot fire after it stopped.
    #[test]
    fn divergence_is_counted_and_truncates_the_events() {
        let mut diverged = run(400, 20, 50, 300);
        diverged.metrics.rows.truncate(121);
        diverged.summary.diverged_at = Some(120);
        let runs = vec![run(400, 20, 50, 200), diverged];
        let spec = MeasureSpec::Divergence { label: None, condition: "sweep".into() };
        let m = measure(&spec, runs.clone());
        assert_eq!(
            (m.quantities["diverged"], m.quantities["seeds"], m.quantities["diverged_fraction"]),
            (1.0, 2.0, 0.5)
        );
        assert_eq!(m.quantities["diverged_epoch_median"], 120.0);
        assert!(m.per_seed["diverged_epoch"][0].is_nan());
        let mut names = spec.quantity_names();
        names.sort();
        assert_eq!(names, m.quantities.keys().cloned().collect::<Vec<_>>());
        let milestones =
            MeasureSpec::Milestones { label: None, condition: "sweep".into(), detector: Default::default() };
        let m = measure(&milestones, runs.clone());
        assert_eq!(m.per_seed["test_acc_99"][..1], [149.0]);
        assert!(m.per_seed["test_acc_99"][1].is_nan(), "the diverged run stopped before test accuracy 0.99");
        let detector = MeasureSpec::Detector { label: None, condition: "sweep".into(), detector: Default::default() };
        assert_eq!(measure(&detector, runs).quantities["fired"], 1.0);
    }

    #[test]
    fn linear_fit_matches_numpy_polyfit() {
        // np.polyfit([1, 2, 3, 4], [2.1, 3.9, 6.2, 7.8], 1) = [1.94, 0.15];
        let (slope, intercept, r2) = linear_fit(&[1.0, 2.0, 3.0, 4.0], &[2.1, 3.9, 6.2, 7.8]);
        assert!((slope - 1.94).abs() < 1e-12 && (intercept - 0.15).abs() < 1e-12, "{slope} {intercept}");
        assert!((r2 - (1.0 - 0.082 / 18.9)).abs() < 1e-12, "{r2}"); // SS_res 0.082, SS_tot 18.9
    }

    #[test]
    fn threshold_and_lead_on_hand_made_series() {
        // w_sigma1 = t, so "w_sigma1 ≥ 30" happens at epoch 30; test acc ≥ 0.5
        // at start + 50.
        let runs = vec![run(200, 20, 10, 150), run(200, 20, 40, 150), run(200, 20, 500, 150)];
        let threshold =
            MeasureSpec::Threshold { label: None, condition: "grok".into(), series: "test_acc".into(), threshold: 0.5 };
        let m = measure(&threshold, runs.clone());
        assert_eq!(m.per_seed["fire_epoch"][..2], [60.0, 90.0]);
        assert_eq!((m.quantities["fired"], m.quantities["fired_fraction"]), (2.0, 2.0 / 3.0));
        assert_eq!(m.quantities["max_value"], 1.0);
        let lead = MeasureSpec::Lead {
            label: None,
            conditions: vec!["grok".into()],
            from: Event { series: "w_sigma1".into(), threshold: 30.0 },
            to: Event { series: "test_acc".into(), threshold: 0.5 },
        };
        let m = measure(&lead, runs);
        assert_eq!(m.quantities["pairs"], 2.0); // seed 3 never reaches 0.5
        assert_eq!(m.quantities["lead_median"], 45.0); // 30 and 60
        assert_eq!(m.quantities["positive_fraction"], 1.0);
        assert_eq!(m.quantities["lead_of_medians"], 75.0 - 30.0);
        assert_eq!(m.quantities["fit_slope"], 0.0); // t_from is 30 whatever t_to
        let mut names = lead.quantity_names();
        names.sort();
        assert_eq!(names, m.quantities.keys().cloned().collect::<Vec<_>>());
    }

    /// ρ's peak is read up to its first crossing, so a run whose cached log
    /// goes on past it gives the same `max_value` as one whose log stopped there.
    #[test]
    fn rho_peak_does_not_depend_on_how_far_the_log_goes() {
        use crate::measure::level::Level;
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
        let spec =
            MeasureSpec::Threshold { label: None, condition: "grok".into(), series: "rho".into(), threshold: 0.075 };
        let stopped = measure(&spec, vec![with_log(&[0.06, 0.07, 0.076])]);
        let longer = measure(&spec, vec![with_log(&[0.06, 0.07, 0.076, 0.09, 0.08])]);
        assert_eq!(stopped.quantities["max_value"], 0.076);
        assert_eq!(longer.quantities, stopped.quantities);
        // A series that never crosses: its whole log.
        let never = measure(&spec, vec![with_log(&[0.06, 0.07, 0.065])]);
        assert_eq!(never.quantities["max_value"], 0.07);
    }

    #[test]
    fn crossing_is_bracketed_by_checkpoints() {
        let epochs = [50, 100, 175, 250, 300];
        let (at, after) = crossing_of(&epochs, &[0.865, 0.895, 0.955, 0.97, 0.985], 0.95);
        assert_eq!((at, after), (175.0, 100.0));
        assert!(crossing_of(&epochs, &[0.9; 5], 0.95).0.is_nan());
        let (at, after) = crossing_of(&epochs, &[0.99; 5], 0.95);
        assert_eq!(at, 50.0);
        assert!(after.is_nan());
    }

    #[test]
    fn series_at_rejects_unknown_columns_and_unreachable_epochs() {
        let experiments: BTreeMap<String, Experiment> =
            serde_yaml::from_str("grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}")
                .unwrap();
        let at = |series: &str, epochs: Vec<usize>| {
            MeasureSpec::SeriesAt {
                label: None,
                condition: "grok".into(),
                series: vec![series.into()],
                epochs,
                ratios: vec![],
            }
            .validate(&experiments)
        };
        assert!(at("w_sigma2", vec![400]).is_ok());
        assert!(at("w_sigma9", vec![100]).unwrap_err().1.contains("not a logged series"));
        assert!(at("w_sigma2", vec![401]).unwrap_err().1.contains("past the end"));
    }
}
