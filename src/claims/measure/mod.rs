//! Measure kinds: what a claim computes from its runs, as named quantities
//! (docs/claims.md, "Measure kinds and their quantities"; definitions in
//! docs/methods.md). Each kind has its own file: its parameters, their
//! checks, its quantity names and its computation, as an implementation of
//! the private trait `Kind`. [`MeasureSpec`] is the YAML form; its methods
//! dispatch to the kind, and it adds what all kinds share (the label, the
//! check that every condition exists). Adding a kind: its file, its `pub
//! mod`, and one line in the `measure_kinds!` list. `shift` holds the
//! statistics `compare` and `order` share.

#[macro_use]
mod accessors;

pub mod collapse;
pub mod compare;
pub mod detector;
pub mod divergence;
pub mod effective_rank;
pub mod late_separation;
pub mod lead;
pub mod milestones;
pub mod order;
pub mod relative;
pub mod series_at;
pub mod shift;
pub mod sign_rule;
pub mod threshold;

mod measurement;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::experiment::{Experiment, MAX_NAME};
use super::problem::Problem;
use super::tier::Tier;
use super::value::Value;
use crate::probes::detector::DetectorParams;
use crate::probes::rank::EpochWindow;
use crate::probes::theorem6;
use crate::runs::{Run, is_level_series, series_names};
use crate::train::LevelLog;
pub use lead::linear_fit;
pub use measurement::{Measurement, Warning};
use measurement::{count_of, fraction, ratio, seeds_of, share};

/// The measure kinds, from one list: each line gives a kind's variant, its
/// module and struct, and its YAML name, and generates the variant of
/// [`MeasureSpec`], its dispatch to the kind and its entry in
/// [`MeasureSpec::KINDS`].
macro_rules! measure_kinds {
    ($($(#[doc = $doc:literal])* $variant:ident($module:ident::$kind:ident) = $name:literal,)*) => {
        /// One measurement on the runs of one or more conditions (YAML:
        /// `kind: ...`, then the fields of the kind's struct).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum MeasureSpec {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant($module::$kind),)*
        }

        impl MeasureSpec {
            /// Every kind's YAML name, in the list's order.
            pub const KINDS: &[&str] = &[$($name),*];

            /// The kind behind the variant.
            fn kind(&self) -> &dyn Kind {
                match self {
                    $(MeasureSpec::$variant(k) => k,)*
                }
            }

            /// The kind behind the variant, to change.
            fn kind_mut(&mut self) -> &mut dyn Kind {
                match self {
                    $(MeasureSpec::$variant(k) => k,)*
                }
            }
        }
    };
}

measure_kinds! {
    /// The slope detector on each seed of a condition.
    Detector(detector::Detector) = "detector",
    /// Late-stage gap23 medians of two conditions and their ratio.
    LateSeparation(late_separation::LateSeparation) = "late-separation",
    /// Effective rank of the late W-update spectrum per seed.
    EffectiveRank(effective_rank::EffectiveRank) = "effective-rank",
    /// Logged series at given epochs, median over seeds.
    SeriesAt(series_at::SeriesAt) = "series-at",
    /// Accuracy milestones per seed and the detector's lag behind them.
    Milestones(milestones::Milestones) = "milestones",
    /// First epoch at which a series reaches a threshold, per seed.
    Threshold(threshold::Threshold) = "threshold",
    /// The lead between two threshold events, pooled over conditions.
    Lead(lead::Lead) = "lead",
    /// Runs whose training loss became non-finite, per seed.
    Divergence(divergence::Divergence) = "divergence",
    /// Runs whose network collapsed to zero output, per seed.
    Collapse(collapse::Collapse) = "collapse",
    /// Theorem 6's quantities at checkpoints.
    SignRule(sign_rule::SignRule) = "sign-rule",
    /// A per-seed value in two conditions: shift, interval, P(A < B).
    Compare(compare::Compare) = "compare",
    /// A per-seed value along conditions in a stated order, step by step.
    Order(order::Order) = "order",
}

/// What each measure kind provides. Its quantity names are unlabelled:
/// [`MeasureSpec`] adds the label.
trait Kind {
    /// The label, if any: the prefix of the quantity names (`label.name`).
    fn label(&self) -> Option<&str>;

    /// The label, to set (grid expansion).
    fn label_mut(&mut self) -> &mut Option<String>;

    /// The experiments this measure reads.
    fn conditions(&self) -> Vec<&str>;

    /// The experiment names this measure reads, to rewrite (grid expansion).
    fn conditions_mut(&mut self) -> Vec<&mut String>;

    /// The list of conditions, for a kind that reads a list in which
    /// `grid[*]` stands for every point of a grid (docs/claims.md, "Grids").
    fn pooled_conditions_mut(&mut self) -> Option<&mut Vec<String>> {
        None
    }

    /// Keep the list of conditions as written, grid points this tier does
    /// not run included (a kind that names quantities by them).
    fn keep_written(&mut self, _written: Vec<String>) {}

    /// Checkpoint epochs the runs of `condition` must save for this measure.
    fn checkpoints(&self, _condition: &str) -> Vec<usize> {
        Vec::new()
    }

    /// The Theorem-6 analyses (checkpoint epoch, pairs) this measure reads
    /// of each run of `condition`: computed on the training pool as soon as
    /// the run is trained (docs/performance.md, "Judging on the training
    /// pool").
    fn sign_rules(&self, _condition: &str) -> Vec<(usize, usize)> {
        Vec::new()
    }

    /// The level-metric log the runs of `e`, an experiment this measure
    /// reads, need.
    fn level_needs(&self, _e: &Experiment) -> Option<LevelLog> {
        None
    }

    /// Check the parameters against the claim's experiments, which hold
    /// every condition this measure reads.
    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem>;

    /// What a run must have logged for this measure: `metrics.csv`
    /// columns, `rho`/`rho_paper` (the level log), `checkpoints`, or
    /// `outputs` (the collapse test). A run made elsewhere that lacks one
    /// cannot serve the measure (docs/methods.md, "Runs made elsewhere").
    fn needs(&self) -> Vec<String>;

    /// Every quantity name [`Kind::measure`] produces, in a fixed order
    /// (validation reports the first name two measures share).
    fn quantity_names(&self) -> Vec<String>;

    /// Whether the seeds `experiments` run at `tier` can give what the
    /// checks read (`read`, unlabelled): an interval at its level.
    fn check_seeds(
        &self,
        _experiments: &BTreeMap<String, Experiment>,
        _read: &[&str],
        _tier: Tier,
    ) -> Result<(), Problem> {
        Ok(())
    }

    /// The thresholds of ρ (`series: rho`) this measure reads, for the
    /// lines the report's ρ figures draw.
    fn rho_thresholds(&self) -> Vec<f64> {
        Vec::new()
    }

    /// The quantities that are counts or fractions of seeds (or of pairs
    /// of seeds): a difference in one is never near (docs/claims.md,
    /// "Grades").
    fn seed_counts(&self) -> Vec<String> {
        Vec::new()
    }

    /// Compute the quantities into `out`.
    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()>;
}

/// What a measure reads.
struct Inputs<'a> {
    /// An experiment's runs, in seed order.
    runs: &'a dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
    /// Theorem 6's analysis of a run at (epoch, pairs) (docs/methods.md, "Theorem 6").
    sign_rule: &'a dyn Fn(&Run, usize, usize) -> anyhow::Result<theorem6::SignRule>,
}

impl MeasureSpec {
    /// The experiments this measure reads.
    pub fn conditions(&self) -> Vec<&str> {
        self.kind().conditions()
    }

    /// The experiment names this measure reads, to rewrite (grid expansion).
    pub fn conditions_mut(&mut self) -> Vec<&mut String> {
        self.kind_mut().conditions_mut()
    }

    /// The list of conditions where `grid[*]` may stand for a grid's
    /// points (`Kind::pooled_conditions_mut`).
    pub fn pooled_conditions_mut(&mut self) -> Option<&mut Vec<String>> {
        self.kind_mut().pooled_conditions_mut()
    }

    /// Keep the conditions list as written, before the points a tier does
    /// not run were dropped (`Kind::keep_written`).
    pub fn keep_written(&mut self, written: Vec<String>) {
        self.kind_mut().keep_written(written);
    }

    /// Set the label (grid expansion: `LABEL[point]`).
    pub fn set_label(&mut self, new: String) {
        *self.kind_mut().label_mut() = Some(new);
    }

    /// Checkpoint epochs the runs of `condition` must save for this measure.
    pub fn checkpoints(&self, condition: &str) -> Vec<usize> {
        self.kind().checkpoints(condition)
    }

    /// The Theorem-6 analyses (epoch, pairs) this measure reads of each run
    /// of `condition` (`Kind::sign_rules`).
    pub fn sign_rules(&self, condition: &str) -> Vec<(usize, usize)> {
        self.kind().sign_rules(condition)
    }

    /// What a run must have logged for this measure (`Kind::needs`).
    pub fn needs(&self) -> Vec<String> {
        self.kind().needs()
    }

    /// The measure's label, if any: the prefix of its quantity names
    /// (`label.name`), so two measures of one claim can use the same kind
    /// on different conditions.
    pub fn label(&self) -> Option<&str> {
        self.kind().label()
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
        self.kind().level_needs(e)
    }

    /// Whether the seeds at `tier` can give every interval a check reads
    /// (`read`: the claim's checked quantities; `Kind::check_seeds`).
    pub fn check_seeds(
        &self,
        experiments: &BTreeMap<String, Experiment>,
        read: &[String],
        tier: Tier,
    ) -> Result<(), Problem> {
        let own: Vec<&str> = read
            .iter()
            .filter_map(|q| match self.label() {
                Some(label) => q.strip_prefix(label).and_then(|q| q.strip_prefix('.')),
                None => Some(q.as_str()),
            })
            .collect();
        self.kind().check_seeds(experiments, &own, tier)
    }

    /// The thresholds of ρ this measure reads (`Kind::rho_thresholds`).
    pub fn rho_thresholds(&self) -> Vec<f64> {
        self.kind().rho_thresholds()
    }

    /// The quantity names of this measure that count seeds (`Kind::seed_counts`).
    pub fn seed_counts(&self) -> Vec<String> {
        self.kind().seed_counts().iter().map(|n| self.labelled(n)).collect()
    }

    /// Every quantity name this measure produces.
    pub fn quantity_names(&self) -> Vec<String> {
        self.kind().quantity_names().iter().map(|n| self.labelled(n)).collect()
    }

    /// A written label is letters, digits and `_` (grid expansion adds `[point]`).
    pub fn check_label(&self) -> Result<(), Problem> {
        match self.label() {
            Some(l)
                if l.is_empty() || l.len() > MAX_NAME || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Err(Problem::new("label".into(), format!("`{l}` must be 1-{} letters, digits and _", MAX_NAME)))
            }
            _ => Ok(()),
        }
    }

    /// Check references and parameters against the claim's experiments;
    /// the error names the field.
    pub fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        for c in self.conditions() {
            if !experiments.contains_key(c) {
                let known: Vec<&str> = experiments.keys().map(String::as_str).collect();
                return Err(Problem::new(
                    c.to_string(),
                    format!("measure refers to experiment `{c}`, which is not in experiments ({})", known.join(", ")),
                ));
            }
        }
        self.kind().validate(experiments)
    }

    /// Compute the quantities. `runs(condition)` gives that experiment's runs
    /// in seed order; `sign_rule(run, epoch, pairs)` the Theorem-6 analysis
    /// (docs/methods.md, "Theorem 6").
    /// Every measure of a claim on the runs `runs` gives per condition,
    /// their quantities and per-seed values merged.
    pub fn measure_all(
        measures: &[MeasureSpec],
        runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<theorem6::SignRule>,
    ) -> anyhow::Result<Measurement> {
        let mut total = Measurement::default();
        for m in measures {
            total.extend(m.measure(runs, sign_rule)?);
        }
        Ok(total)
    }

    /// This measure on the runs `runs` gives per condition.
    pub fn measure(
        &self,
        runs: &dyn Fn(&str) -> anyhow::Result<Vec<Run>>,
        sign_rule: &dyn Fn(&Run, usize, usize) -> anyhow::Result<theorem6::SignRule>,
    ) -> anyhow::Result<Measurement> {
        let mut out = Measurement::default();
        self.kind().measure(&Inputs { runs, sign_rule }, &mut out)?;
        let labelled_message = |w: Warning| {
            let message = w
                .bears_on
                .iter()
                .fold(w.message, |m, q| m.replace(&format!("`{q}`"), &format!("`{}`", self.labelled(q))));
            Warning { message, bears_on: w.bears_on.iter().map(|q| self.labelled(q)).collect() }
        };
        Ok(Measurement {
            quantities: out.quantities.into_iter().map(|(k, v)| (self.labelled(&k), v)).collect(),
            per_seed: out.per_seed.into_iter().map(|(k, v)| (self.labelled(&k), v)).collect(),
            warnings: out.warnings.into_iter().map(labelled_message).collect(),
        })
    }
}

/// What an event's statistics do with a seed in which the event did not
/// happen (YAML `without_event:`; docs/claims.md, "Censored events").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WithoutEvent {
    /// It takes part, censored: the event happens after the last epoch
    /// looked at, if ever.
    #[default]
    Censored,
    /// It is left out of the median and quartiles, as numpy's `nanmedian`
    /// in the paper's scripts does.
    Dropped,
}

impl WithoutEvent {
    /// Whether this is the default (left out of serialized specs).
    pub fn is_default(&self) -> bool {
        *self == WithoutEvent::Censored
    }
}

/// The statistics of [`Measurement::summary`], in its order.
const STATS: [&str; 3] = ["median", "q25", "q75"];

/// The quantity names of [`Measurement::summary`] with `name`.
fn summary_names(name: impl Fn(&str) -> String) -> Vec<String> {
    STATS.iter().map(|s| name(s)).collect()
}

/// The quantity names of [`Measurement::event_summary`] with `name`.
fn event_summary_names(name: impl Fn(&str) -> String) -> Vec<String> {
    let mut names = summary_names(&name);
    names.extend(["min", "max"].map(&name));
    names
}

/// The names [`Measurement::count`] reports an event per seed under:
/// `count` (seeds that had it), `seeds`, `{count}_fraction`,
/// `{epoch}_median`, `_q25`, `_q75`, `_min`, `_max`, and per seed `epoch`.
struct EventCount {
    count: &'static str,
    epoch: &'static str,
}

impl EventCount {
    /// The names that count seeds: the count, `seeds` and the fraction.
    fn counts(&self) -> Vec<String> {
        vec![self.count.to_string(), "seeds".into(), format!("{}_fraction", self.count)]
    }

    /// The quantity names [`Measurement::count`] produces.
    fn names(&self) -> Vec<String> {
        let mut names = vec![self.count.to_string(), "seeds".into(), format!("{}_fraction", self.count)];
        names.extend(event_summary_names(|s| format!("{}_{s}", self.epoch)));
        names
    }
}

/// A detector or threshold firing.
const FIRED: EventCount = EventCount { count: "fired", epoch: "fire_epoch" };

/// An event's epoch in a run that looked for it over epochs
/// `0..looked_at`: exact where it happened, else censored at `looked_at`.
fn event_at(e: Option<usize>, looked_at: usize) -> Value {
    e.map_or(Value::at_least(looked_at as f64), |e| Value::exact(e as f64))
}

/// A series first reaching a level (docs/methods.md, "Threshold events and leads").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Series name.
    pub series: String,
    /// The level (reached when the value is ≥ it); with `relative_to`, a
    /// factor or fraction ([`relative::RelativeTo`]).
    pub threshold: f64,
    /// What `threshold` is relative to (default: nothing, it is the level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_to: Option<relative::RelativeTo>,
    /// The first epoch looked at (default 0): the first crossing at an epoch ≥ it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub from: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Event {
    /// An absolute level reached from epoch 0 on.
    pub fn new(series: &str, threshold: f64) -> Event {
        Event { series: series.into(), threshold, relative_to: None, from: 0 }
    }

    /// Its threshold, where its series is ρ and the threshold absolute
    /// (the level drawn in the report's ρ figures).
    fn rho_threshold(&self) -> Option<f64> {
        (self.series == "rho" && self.relative_to.is_none()).then_some(self.threshold)
    }

    /// The absolute level over a run's series `values` (from epoch 0).
    fn level(&self, values: &[f64]) -> f64 {
        self.relative_to.map_or(self.threshold, |r| r.level(self.threshold, values))
    }

    /// `threshold` finite, and `from` inside runs of `last` epochs.
    fn check(&self, last: usize) -> Result<(), Problem> {
        if !self.threshold.is_finite() {
            return Err(Problem::new("threshold".into(), "must be a finite number".into()));
        }
        if self.from > last {
            return past_the_end("from", format!("epoch {}", self.from), last);
        }
        Ok(())
    }

    /// The first epoch of `run` at which the event happens, or NaN.
    fn epoch(&self, run: &Run) -> f64 {
        self.epoch_in(&run.series(&self.series).expect("validated"))
    }

    /// The first epoch ≥ `from` at which the event happens in `values`
    /// (a run's series from epoch 0), or NaN.
    fn epoch_in(&self, values: &[f64]) -> f64 {
        let level = self.level(values);
        let after = values.get(self.from..).unwrap_or(&[]);
        self.from as f64 + first_at_least(after, level)
    }

    /// The level-metric log the runs of `e` need to see the event, if its
    /// series is a level metric. `rho` at an absolute level from epoch 0
    /// stops the log at its crossing; relative to the run, or from a later
    /// epoch, and `rho_paper`, are logged throughout (docs/methods.md,
    /// "Level metric ρ").
    fn level_log(&self, e: &Experiment) -> Option<LevelLog> {
        let stop_above = (self.from == 0).then(|| self.rho_threshold()).flatten();
        is_level_series(&self.series).then_some(LevelLog { until: e.epochs, stop_above, every: 1 })
    }
}

/// The first index whose value is ≥ `level` (NaN never is), or NaN.
fn first_at_least(series: &[f64], level: f64) -> f64 {
    series.iter().position(|&v| v >= level).map_or(f64::NAN, |e| e as f64)
}

/// The paper's late window, the default of the windowed kinds.
fn late() -> EpochWindow {
    EpochWindow::LATE
}

/// Quantity-name suffix of a non-default window: `""` for [200, 400],
/// `_w400_800` for [400, 800], so one claim can measure two windows.
fn window_suffix(window: &EpochWindow) -> String {
    if *window == EpochWindow::LATE { String::new() } else { format!("_w{}_{}", window.first, window.last) }
}

/// The error for a series name nothing logs.
fn unknown_series(name: &str) -> Problem {
    Problem::new("series".into(), format!("`{name}` is not a logged series ({})", series_names().join(", ")))
}

// Every epoch window and detector epoch must lie inside each run it reads,
// or the measure would pass on no data ("never fires", rank 0). These
// checks come before a kind's others.

/// The error for `what` past `last`, the last epoch of the runs read.
fn past_the_end(field: &str, what: String, last: usize) -> Result<(), Problem> {
    Err(Problem::new(field.to_string(), format!("{what} is past the end of the runs it reads (last epoch {last})")))
}

/// `window` must end by `last`, the last epoch of the runs it reads.
fn window_inside(window: &EpochWindow, last: usize) -> Result<(), Problem> {
    if window.last > last {
        return past_the_end("window", format!("window {window}"), last);
    }
    Ok(())
}

/// `window` must not be empty.
fn window_not_empty(window: &EpochWindow) -> Result<(), Problem> {
    if window.first > window.last {
        return Err(Problem::new("window".into(), format!("{window} is empty")));
    }
    Ok(())
}

/// The detector's epochs must lie inside the runs it reads (`last`: their
/// last epoch), and its parameters be usable.
fn check_detector(detector: &DetectorParams, last: usize) -> Result<(), Problem> {
    if detector.min_epoch > last || detector.lag >= last {
        return past_the_end("detector", format!("min_epoch {} or lag {}", detector.min_epoch, detector.lag), last);
    }
    if !(detector.lag > 0 && detector.floor > 0.0 && detector.threshold.is_finite()) {
        return Err(Problem::new("detector".into(), "needs lag > 0, floor > 0 and a finite threshold".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
