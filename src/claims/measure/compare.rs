//! `kind: compare`: one value per seed in two conditions, their shift and
//! its exact confidence interval, and the probability that A is below B
//! (docs/claims.md, "Comparisons with statistics"; [`super::shift`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::shift::{NoInterval, Shift, null};
use super::{Event, Inputs, Kind, Measurement, check_detector, event_at, past_the_end, unknown_series};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::tier::Tier;
use crate::claims::value::{SeedValue, Value, values_of};
use crate::probes::detector::{DetectorParams, detect};
use crate::runs::{Run, series_names};
use crate::train::LevelLog;

/// The value each seed contributes (YAML: a one-key map).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PerSeed {
    /// `{event: {series: test_acc, threshold: 0.99}}`: the first epoch the
    /// series reaches the level; censored where it never does.
    Event(Event),
    /// `{detector: {}}` (or with parameters): the slope detector's fire
    /// epoch; censored where it never fires.
    Detector(DetectorParams),
    /// `{at: {series: test_loss, epoch: 200}}`: the series' value there.
    At(SeriesAt),
}

/// A series at one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesAt {
    /// Series name.
    pub series: String,
    /// The epoch.
    pub epoch: usize,
}

impl PerSeed {
    /// The value of `run`.
    pub fn of(&self, run: &Run) -> Value {
        match self {
            PerSeed::Event(e) => {
                let values = run.series(&e.series).expect("validated");
                let at = e.epoch_in(&values);
                event_at((!at.is_nan()).then_some(at as usize), values.len())
            }
            PerSeed::Detector(params) => {
                let gap23 = run.metrics.w_gap23();
                super::detector::fire_value(&detect(&gap23, params), gap23.len())
            }
            PerSeed::At(at) => {
                Value::exact(run.series(&at.series).expect("validated").get(at.epoch).copied().unwrap_or(f64::NAN))
            }
        }
    }

    /// The values of the runs of `condition`, each with its seed.
    pub(super) fn per_seed(&self, inputs: &Inputs, condition: &str) -> anyhow::Result<Vec<SeedValue>> {
        Ok((inputs.runs)(condition)?.iter().map(|r| SeedValue { seed: r.spec.seed, value: self.of(r) }).collect())
    }

    /// The first epoch at which the event can be seen, for an event (a
    /// value there says nothing about training): 0, or the detector's
    /// `min_epoch`.
    pub fn first_epoch(&self) -> Option<usize> {
        match self {
            PerSeed::Event(e) => Some(e.from),
            PerSeed::Detector(params) => Some(params.min_epoch),
            PerSeed::At(_) => None,
        }
    }

    /// The threshold of ρ this value reads, if it reads one.
    pub fn rho_threshold(&self) -> Option<f64> {
        match self {
            PerSeed::Event(e) => e.rho_threshold(),
            PerSeed::Detector(_) | PerSeed::At(_) => None,
        }
    }

    /// The series a run must have logged.
    pub fn needs(&self) -> Vec<String> {
        match self {
            PerSeed::Event(e) => vec![e.series.clone()],
            PerSeed::Detector(_) => vec!["w_gap23".into()],
            PerSeed::At(at) => vec![at.series.clone()],
        }
    }

    /// The level-metric log the runs of `e` need.
    pub fn level_log(&self, e: &Experiment) -> Option<LevelLog> {
        match self {
            PerSeed::Event(event) => event.level_log(e),
            PerSeed::At(at) if crate::runs::is_level_series(&at.series) => {
                Some(LevelLog { until: e.epochs, stop_above: None, every: 1 })
            }
            _ => None,
        }
    }

    /// Its series exist and its epochs lie inside runs of `last` epochs.
    pub fn validate(&self, last: usize) -> Result<(), Problem> {
        if let Some(s) = self.needs().iter().find(|s| !series_names().contains(&s.as_str())) {
            return Err(unknown_series(s));
        }
        match self {
            PerSeed::Event(e) => e.check(last),
            PerSeed::Detector(params) => check_detector(params, last),
            PerSeed::At(at) if at.epoch > last => past_the_end("value", format!("epoch {}", at.epoch), last),
            _ => Ok(()),
        }
    }
}

/// The names a [`Shift`] is reported under, after `prefix`.
pub const SHIFT_NAMES: [&str; 6] = ["pairs", "median_difference", "ci_low", "ci_high", "confidence", "p_a_below_b"];

/// The names an unpaired [`Shift`] adds: the Brunner–Munzel interval for
/// P(A < B).
pub const UNPAIRED_NAMES: [&str; 2] = ["p_a_below_b_ci_low", "p_a_below_b_ci_high"];

/// The names a shift is reported under, after `prefix`.
pub fn shift_names(prefix: &str, paired: bool) -> Vec<String> {
    let unpaired: &[&str] = if paired { &[] } else { &UNPAIRED_NAMES };
    SHIFT_NAMES.iter().chain(unpaired).map(|n| format!("{prefix}{n}")).collect()
}

/// Report `shift` under `prefix` + [`shift_names`], with a warning where
/// too few seeds leave its interval undefined, where seeds could not be
/// paired, or where the Brunner–Munzel interval cannot be had; each
/// warning bears on the quantities it concerns, and on `also` (quantities
/// the caller computes from this shift).
pub fn report_shift(
    out: &mut Measurement,
    prefix: &str,
    shift: &Shift,
    (sides, also): ([usize; 2], &[String]),
    level: f64,
) {
    let mut interval: Vec<String> = interval_names(prefix).to_vec();
    interval.extend_from_slice(also);
    if shift.confidence.is_nan() && shift.pairs > 0 {
        out.warn(too_few_seeds(prefix, shift.p_interval.is_none(), sides, level), interval.clone());
    }
    let unmatched = &shift.unmatched;
    if !unmatched.only_a.is_empty() || !unmatched.only_b.is_empty() {
        let message = format!(
            "`{prefix}pairs`: seeds {} of `a` have no value in `b`, and seeds {} of `b` none in `a`: the pairing \
             uses the {} seeds both have",
            seed_list(&unmatched.only_a),
            seed_list(&unmatched.only_b),
            shift.pairs
        );
        out.warn(message, shift_names(prefix, true).into_iter().chain(also.iter().cloned()).collect());
    }
    let values = [
        Value::exact(shift.pairs as f64),
        shift.median_difference,
        shift.ci_low,
        shift.ci_high,
        Value::exact(shift.confidence),
        shift.p_a_below_b,
    ];
    for (name, value) in SHIFT_NAMES.iter().zip(values) {
        out.set_value(format!("{prefix}{name}"), value);
    }
    if let Some(p) = shift.p_interval {
        report_brunner_munzel(out, prefix, p);
    }
}

/// The Brunner–Munzel interval for P(A < B) under `prefix`, or a warning
/// saying why there is none.
fn report_brunner_munzel(out: &mut Measurement, prefix: &str, p: Result<(f64, f64), NoInterval>) {
    let names: Vec<String> = UNPAIRED_NAMES.iter().map(|n| format!("{prefix}{n}")).collect();
    let (low, high) = match p {
        Ok((low, high)) => (Value::exact(low), Value::exact(high)),
        Err(why) => {
            let reason = match why {
                NoInterval::TooFewSeeds => "it needs 2 seeds a side at least",
                NoInterval::Undecided => "the bounds of a censored seed leave a comparison of a with b open",
                NoInterval::Separated => {
                    "every a lies on one side of every b, so its variance estimate is 0; the exact \
                     Mann–Whitney interval of the shift still speaks"
                }
            };
            out.warn(format!("`{}` has no Brunner–Munzel interval: {reason}", names[0]), names.clone());
            (Value::undefined(), Value::undefined())
        }
    };
    out.set_value(&names[0], low);
    out.set_value(&names[1], high);
}

/// "3, 7" ("none" for no seeds).
fn seed_list(seeds: &[u64]) -> String {
    if seeds.is_empty() { "none".into() } else { seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ") }
}

/// Why an interval of `sides` seeds (paired: the pairs and the pairs) is
/// undefined at `level`, and how many seeds would reach it.
fn too_few_seeds(prefix: &str, paired: bool, [a, b]: [usize; 2], level: f64) -> String {
    let percent = crate::format::num(100.0 * level);
    let advice = if paired {
        format!("{} paired seeds reach {percent} %", null::paired_seeds_needed(level))
    } else {
        match (null::unpaired_seeds_needed(a, level), null::unpaired_seeds_needed(b, level)) {
            (Some(for_a), Some(for_b)) => {
                format!("with {a} seeds in `a`, `b` needs {for_a}; with {b} in `b`, `a` needs {for_b}")
            }
            _ => "one seed on a side never reaches it".into(),
        }
    };
    let seeds = if paired { format!("{a} paired seeds") } else { format!("{a} and {b} seeds") };
    format!(
        "`{prefix}ci_low` and `{prefix}ci_high` are undefined: {seeds} cannot give a {percent} % interval ({advice}): \
         add seeds or lower `confidence:`"
    )
}

/// The shift of a per-seed value between conditions `a` and `b`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// The condition compared.
    pub a: String,
    /// The condition it is compared against.
    pub b: String,
    /// What each seed contributes.
    #[serde(with = "serde_yaml::with::singleton_map")]
    pub value: PerSeed,
    /// Paired over the same seeds (default), or unpaired over two seed sets.
    #[serde(default = "paired")]
    pub paired: bool,
    /// The interval's level (default 0.95).
    #[serde(default = "level")]
    pub confidence: f64,
}

fn paired() -> bool {
    true
}

/// The default level of an interval.
pub fn level() -> f64 {
    0.95
}

/// The level must be a probability strictly between 0 and 1.
pub fn check_level(confidence: f64) -> Result<(), Problem> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(Problem::new("confidence".into(), format!("a level strictly between 0 and 1, got {confidence}")))
    }
}

/// Pairing needs the same seeds in every condition compared, at each tier
/// where they run (a grid point left out of the quick tier runs none there).
pub fn check_pairing(conditions: &[&str], experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
    for tier in [Tier::Quick, Tier::Paper] {
        let running: Vec<(&str, BTreeSet<u64>)> = conditions
            .iter()
            .map(|c| (*c, experiments[*c].seeds.at(tier).iter().copied().collect::<BTreeSet<u64>>()))
            .filter(|(_, s)| !s.is_empty())
            .collect();
        if let Some((other, _)) = running.iter().find(|(_, s)| *s != running[0].1) {
            // The same seeds in another order pair as well: pairs join on the seed.
            return Err(Problem::new(
                "paired".into(),
                format!(
                    "`{other}` and `{}` run different seeds at the {} tier: pairing needs the same seeds; say \
                     `paired: false` for two seed sets",
                    running[0].0,
                    tier.name()
                ),
            ));
        }
    }
    Ok(())
}

/// The interval quantities of a shift under `prefix` that need enough seeds.
pub fn interval_names(prefix: &str) -> [String; 3] {
    ["ci_low", "ci_high", "confidence"].map(|n| format!("{prefix}{n}"))
}

/// Whether a shift's interval, read by a check (`read`, unlabelled names;
/// `names` the interval's), can be had from `a` and `b` (seed counts) at
/// `level`; the error says how many seeds would reach it (docs/claims.md,
/// "Comparisons with statistics").
pub fn check_interval_seeds(
    names: &[String],
    read: &[&str],
    [a, b]: [usize; 2],
    paired: bool,
    level: f64,
    tier: Tier,
) -> Result<(), Problem> {
    let Some(checked) = read.iter().find(|q| names.iter().any(|n| n == *q)) else { return Ok(()) };
    let reaches = if paired { null::paired(a, level).is_some() } else { null::unpaired(a, b, &[], level).is_some() };
    if reaches || a == 0 || b == 0 {
        return Ok(());
    }
    let advice = too_few_seeds("", paired, [a, b], level);
    let why = advice.split_once(": ").map_or(advice.as_str(), |(_, why)| why);
    Err(Problem::new("confidence".into(), format!("`{checked}` at the {} tier: {why}", tier.name())))
}

/// How many seeds `condition` runs at `tier` (0 where it does not run).
pub fn seed_count(experiments: &BTreeMap<String, Experiment>, condition: &str, tier: Tier) -> usize {
    experiments.get(condition).map_or(0, |e| e.seeds.at(tier).len())
}

/// Each condition once: listed twice it would be compared with itself.
pub fn check_distinct(conditions: &[&str]) -> Result<(), Problem> {
    match conditions.iter().enumerate().find(|(i, c)| conditions[..*i].contains(c)) {
        Some((_, c)) => {
            Err(Problem::new("conditions".into(), format!("`{c}` is listed twice: it would be compared with itself")))
        }
        None => Ok(()),
    }
}

impl Kind for Compare {
    labelled!();

    fn conditions(&self) -> Vec<&str> {
        vec![&self.a, &self.b]
    }

    fn conditions_mut(&mut self) -> Vec<&mut String> {
        vec![&mut self.a, &mut self.b]
    }

    fn level_needs(&self, e: &Experiment) -> Option<LevelLog> {
        self.value.level_log(e)
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        if self.a == self.b {
            return Err(Problem::new("b".into(), format!("`{}` compared with itself", self.a)));
        }
        check_level(self.confidence)?;
        if self.paired {
            check_pairing(&[&self.a, &self.b], experiments)?;
        }
        let last = experiments[&self.a].epochs.min(experiments[&self.b].epochs);
        self.value.validate(last)
    }

    fn needs(&self) -> Vec<String> {
        self.value.needs()
    }

    fn quantity_names(&self) -> Vec<String> {
        shift_names("", self.paired)
    }

    fn seed_counts(&self) -> Vec<String> {
        ["pairs", "p_a_below_b"].map(String::from).to_vec()
    }

    fn check_seeds(
        &self,
        experiments: &BTreeMap<String, Experiment>,
        read: &[&str],
        tier: Tier,
    ) -> Result<(), Problem> {
        let sides = [seed_count(experiments, &self.a, tier), seed_count(experiments, &self.b, tier)];
        check_interval_seeds(&interval_names(""), read, sides, self.paired, self.confidence, tier)
    }

    fn rho_thresholds(&self) -> Vec<f64> {
        self.value.rho_threshold().into_iter().collect()
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let (a, b) = (self.value.per_seed(inputs, &self.a)?, self.value.per_seed(inputs, &self.b)?);
        if let Some(first) = self.value.first_epoch() {
            out.warn_if_at_start("a", &values_of(&a), first, self.quantity_names());
            out.warn_if_at_start("b", &values_of(&b), first, self.quantity_names());
        }
        let shift = if self.paired {
            Shift::paired(&a, &b, self.confidence)?
        } else {
            Shift::unpaired(&values_of(&a), &values_of(&b), self.confidence)
        };
        let sides = if self.paired { [shift.pairs; 2] } else { [a.len(), b.len()] };
        report_shift(out, "", &shift, (sides, &[]), self.confidence);
        out.per_seed.insert("a".into(), a);
        out.per_seed.insert("b".into(), b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, run, sign_rule, with_seeds};
    use super::*;

    /// Six seeds a condition: `fast` reaches test accuracy 0.99 at 149-154,
    /// `base` at 399-400 or never within its 401 epochs.
    #[test]
    fn a_paired_comparison_reports_its_shift_and_interval() {
        let spec: MeasureSpec = serde_yaml::from_str(
            "{kind: compare, label: lr, a: fast, b: base, value: {event: {series: test_acc, threshold: 0.99}}}",
        )
        .unwrap();
        let fast: Vec<Run> = with_seeds((0..6).map(|s| run(400, 20, 50 + s, 200)).collect());
        let base: Vec<Run> =
            with_seeds((0..6).map(|s| run(400, 20, if s < 2 { 500 } else { 300 + s % 2 }, 200)).collect());
        let runs = |c: &str| Ok(if c == "fast" { fast.clone() } else { base.clone() });
        let m = spec.measure(&runs, &|_, e, p| Ok(sign_rule(0.8, e, p))).unwrap();
        assert_eq!(m.number("lr.pairs"), 6.0);
        assert!((m.number("lr.confidence") - 0.96875).abs() < 1e-12);
        // Differences: two "≤ 149 − 401" or lower, four of −248 or −246:
        // the interval [d₍₁₎, d₍₆₎] is "≤ −252" to −246, all below 0.
        assert_eq!(m.value("lr.ci_high"), Value::exact(-246.0));
        assert_eq!(m.value("lr.ci_low").describe(), "≤ -252");
        assert_eq!(m.value("lr.p_a_below_b"), Value::exact(1.0));
        assert_names(&spec, &m);
    }

    /// An event already there at epoch 0 compares nothing, and three
    /// pairs give no 95 % interval: both are said, not left silent.
    #[test]
    fn an_event_at_the_start_and_too_few_seeds_are_warned_of() {
        let spec: MeasureSpec = serde_yaml::from_str(
            "{kind: compare, label: c, a: x, b: y, value: {event: {series: train_acc, threshold: 0.0}}}",
        )
        .unwrap();
        let runs: Vec<Run> = with_seeds((0..3).map(|_| run(100, 20, 10, 50)).collect());
        let m = spec.measure(&|_| Ok(runs.clone()), &|_, e, p| Ok(sign_rule(0.8, e, p))).unwrap();
        assert!(
            m.warning("c.a").contains("is epoch 0, the first epoch looked at, in 3 of 3 seeds"),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warning("c.ci_low").contains("3 paired seeds cannot give a 95 % interval (6 paired seeds reach 95 %)"),
            "{:?}",
            m.warnings
        );
        assert!(m.value("c.ci_high").is_undefined());
    }

    /// The same seeds in another order pair (on the seed), and an
    /// interval a check reads is refused at load when the seeds at a tier
    /// cannot reach its level, saying how many would.
    #[test]
    fn seeds_are_checked_at_load_as_sets_and_for_the_level() {
        let experiments: BTreeMap<String, Experiment> = serde_yaml::from_str(
            "a: {activation: sqr, eta: 0, epochs: 400, seeds: [0, 1, 2, 3, 4]}\n\
             b: {activation: sqr, eta: 0, epochs: 400, seeds: [4, 3, 2, 1, 0]}",
        )
        .unwrap();
        let spec: MeasureSpec =
            serde_yaml::from_str("{kind: compare, label: lr, a: a, b: b, value: {detector: {}}}").unwrap();
        assert!(spec.validate(&experiments).is_ok(), "reversed lists pair");
        let read = |q: &str| vec![q.to_string()];
        let error = spec.check_seeds(&experiments, &read("lr.ci_high"), Tier::Quick).unwrap_err();
        assert_eq!(error.field, "confidence");
        assert!(
            error.message.contains(
                "`ci_high` at the quick tier: 5 paired seeds cannot give a 95 % interval (6 paired seeds reach 95 %)"
            ),
            "{}",
            error.message
        );
        assert!(spec.check_seeds(&experiments, &read("lr.p_a_below_b"), Tier::Quick).is_ok(), "no interval read");
        let unpaired: MeasureSpec = serde_yaml::from_str(
            "{kind: compare, label: lr, a: a, b: b, value: {detector: {}}, paired: false, confidence: 0.995}",
        )
        .unwrap();
        let error = unpaired.check_seeds(&experiments, &read("lr.ci_low"), Tier::Paper).unwrap_err();
        assert!(
            error.message.contains("5 and 5 seeds cannot give a 99.5 % interval (with 5 seeds in `a`, `b` needs 6"),
            "{}",
            error.message
        );
    }

    #[test]
    fn pairing_needs_the_same_seeds() {
        let experiments: BTreeMap<String, Experiment> = serde_yaml::from_str(
            "a: {activation: sqr, eta: 0, epochs: 400, seeds: {paper: 6, quick: 6}}\n\
             b: {activation: sqr, eta: 0, epochs: 400, seeds: {paper: 6, quick: 6, from: 100}}",
        )
        .unwrap();
        let spec: MeasureSpec = serde_yaml::from_str("{kind: compare, a: a, b: b, value: {detector: {}}}").unwrap();
        assert!(spec.validate(&experiments).unwrap_err().message.contains("say `paired: false`"));
        let unpaired: MeasureSpec =
            serde_yaml::from_str("{kind: compare, a: a, b: b, value: {detector: {}}, paired: false}").unwrap();
        assert!(unpaired.validate(&experiments).is_ok());
        let bad: MeasureSpec = serde_yaml::from_str(
            "{kind: compare, a: a, b: b, value: {at: {series: test_los, epoch: 9}}, paired: false}",
        )
        .unwrap();
        assert!(bad.validate(&experiments).unwrap_err().message.contains("not a logged series"));
    }
}
