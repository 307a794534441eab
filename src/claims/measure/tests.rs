//! The measures on hand-made runs.

use super::*;
use crate::metrics::{EpochRow, Evaluation, Metrics};
use crate::probes::spectrum::SpectrumRow;
use crate::summary::RunSummary;
use crate::train::{TrainOutput, TrainSpec};

/// A hand-made run of `epochs + 1` rows: train accuracy reaches 1 at
/// `train_1`, test accuracy climbs by 0.01 per epoch from `test_start`,
/// gap23 jumps (×e³ within the lag) at `jump`.
pub(super) fn run(epochs: usize, train_1: usize, test_start: usize, jump: usize) -> Run {
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
    let output = TrainOutput::of_log(Metrics { rows }, None, None);
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

/// A made-up Theorem-6 analysis: each fraction is `base` + a small
/// amount that grows with the epoch.
pub(super) fn sign_rule(base: f64, epoch: usize, pairs: usize) -> theorem6::SignRule {
    let x = base + epoch as f64 * 1e-4;
    theorem6::SignRule {
        pairs,
        published_sign_match: x,
        published_sign_match_identity: x,
        exact_sign_match: 1.0,
        full_projector_sign_match: 1.0,
        projector_sign_agreement: x + 0.05,
        repulsion_fraction: x - 0.01,
        positive_pairs: pairs / 2,
        median_abs_similarity: 0.2,
        negative_b_fraction: 0.5,
    }
}

/// `spec` measured on `runs` (every condition), with [`sign_rule`] at
/// base 0.8 for every run.
pub(super) fn measure(spec: &MeasureSpec, runs: Vec<Run>) -> Measurement {
    spec.measure(&|_| Ok(with_seeds(runs.clone())), &|_, e, p| Ok(sign_rule(0.8, e, p))).unwrap()
}

/// `spec`'s quantity names are exactly those in `m`.
pub(super) fn assert_names(spec: &MeasureSpec, m: &Measurement) {
    let mut names = spec.quantity_names();
    names.sort();
    assert_eq!(names, m.quantities.keys().cloned().collect::<Vec<_>>(), "{spec:?}");
}

/// Every kind's name, as the list makes it; serde reads each of them.
fn all_kinds() -> Vec<String> {
    let error = serde_yaml::from_str::<MeasureSpec>("kind: ''").unwrap_err().to_string();
    for kind in MeasureSpec::KINDS {
        assert!(error.contains(&format!("`{kind}`")), "serde knows `{kind}`: {error}");
    }
    MeasureSpec::KINDS.iter().map(|k| k.to_string()).collect()
}

/// The quantity names of every kind, labelled or not and with its
/// optional parameters, are what its measurement produces, on three
/// runs and on none.
#[test]
fn quantity_names_are_what_every_kind_produces() {
    let specs = [
        "{kind: detector, condition: a}",
        "{kind: detector, label: g, condition: a, detector: {lag: 5, floor: 0.5, min_epoch: 10, threshold: 0.1}}",
        "{kind: late-separation, numerator: a, denominator: b}",
        "{kind: late-separation, label: s, numerator: a, denominator: b, window: [100, 300]}",
        "{kind: effective-rank, condition: a}",
        "{kind: effective-rank, condition: a, tau: 3, k_max: 4, window: [50, 300]}",
        "{kind: series-at, condition: a, series: [w_sigma1, test_acc], epochs: [10, 300], ratios: [[300, 10]]}",
        "{kind: series-at, label: s, condition: a, series: [w_sigma2], epochs: [1, 2]}",
        "{kind: milestones, condition: a}",
        "{kind: milestones, label: m, condition: a, detector: {lag: 7, floor: 1.0, min_epoch: 5, threshold: 0.2}}",
        "{kind: threshold, condition: a, series: test_acc, threshold: 0.5}",
        "{kind: lead, conditions: [a, b], from: {series: w_sigma1, threshold: 30}, to: {series: test_acc, threshold: 0.5}}",
        "{kind: lead, label: l, conditions: [a], from: {series: w_sigma1, threshold: 1e9}, to: {series: test_acc, threshold: 0.5}}",
        "{kind: divergence, condition: a}",
        "{kind: collapse, label: c, condition: a}",
        "{kind: sign-rule, condition: a, epochs: [50, 100, 175]}",
        "{kind: sign-rule, label: t, condition: a, epochs: [50, 300], pairs: 10, crossing: 0.82}",
        "{kind: compare, a: a, b: b, value: {event: {series: test_acc, threshold: 0.5}}}",
        "{kind: compare, label: c, a: a, b: b, value: {at: {series: test_loss, epoch: 10}}, paired: false, confidence: 0.9}",
        "{kind: order, conditions: [a, b, c], value: {detector: {}}, order: decreasing}",
        "{kind: order, label: o, conditions: [a, b], value: {event: {series: test_acc, threshold: 0.9}}, order: increasing, strict: false}",
    ];
    let runs = vec![run(400, 24, 50, 200), run(400, 26, 60, 250), run(400, 25, 500, 500)];
    let mut covered = Vec::new();
    for text in specs {
        let spec: MeasureSpec = serde_yaml::from_str(text).unwrap();
        assert_names(&spec, &measure(&spec, runs.clone()));
        assert_names(&spec, &measure(&spec, Vec::new()));
        covered.push(serde_json::to_value(&spec).unwrap()["kind"].as_str().unwrap().to_string());
    }
    let mut kinds = all_kinds();
    kinds.sort();
    covered.sort();
    covered.dedup();
    assert_eq!(covered, kinds, "every kind needs a case here");
}

/// Claim files keep their format: the kind's fields beside `kind`,
/// defaults filled in, and an unknown field rejected by name.
#[test]
fn yaml_format_is_the_kinds_fields_beside_kind() {
    let spec: MeasureSpec = serde_yaml::from_str("{kind: effective-rank, condition: grok}").unwrap();
    assert_eq!(
        serde_json::to_string(&spec).unwrap(),
        r#"{"kind":"effective-rank","label":null,"condition":"grok","tau":10.0,"k_max":2,"window":[200,400]}"#
    );
    let error = serde_yaml::from_str::<MeasureSpec>("{kind: collapse, condition: a, window: [1, 2]}").unwrap_err();
    assert_eq!(error.to_string(), "unknown field `window`, expected one of `label`, `condition`, `without_event`");
    let error = serde_yaml::from_str::<MeasureSpec>(
        "{kind: lead, conditions: [a], from: {series: rho, threshold: 0.1, x: 1}, to: {series: rho, threshold: 0.2}}",
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "unknown field `x`, expected one of `series`, `threshold`, `relative_to`, `from`");
}

/// Every kind's checks start with the shared one: each condition exists.
#[test]
fn a_measure_of_an_unknown_experiment_is_rejected() {
    let experiments: BTreeMap<String, Experiment> =
        serde_yaml::from_str("grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}}").unwrap();
    let spec: MeasureSpec = serde_yaml::from_str("{kind: late-separation, numerator: grok, denominator: ctl}").unwrap();
    let Problem { field, message } = spec.validate(&experiments).unwrap_err();
    assert_eq!(field, "ctl");
    assert!(message.contains("not in experiments (grok)"), "{message}");
}

/// `runs` with seeds 0, 1, 2, ... in order (hand-made runs all have seed 0).
pub(super) fn with_seeds(mut runs: Vec<Run>) -> Vec<Run> {
    for (seed, r) in runs.iter_mut().enumerate() {
        r.spec.seed = seed as u64;
    }
    runs
}

impl Measurement {
    /// Quantity `name` as one number (NaN: bounds or undefined).
    pub(crate) fn number(&self, name: &str) -> f64 {
        self.value(name).as_f64()
    }

    /// The per-seed values of `name` as numbers, in order (NaN: bounds or
    /// undefined).
    pub(crate) fn per_seed_numbers(&self, name: &str) -> Vec<f64> {
        self.per_seed[name].iter().map(|s| s.value.as_f64()).collect()
    }

    /// The messages of the warnings that bear on `quantity`, one a line.
    pub(crate) fn warning(&self, quantity: &str) -> String {
        let bearing = self.warnings.iter().filter(|w| w.bears_on.iter().any(|q| q == quantity));
        bearing.map(|w| w.message.as_str()).collect::<Vec<_>>().join("\n")
    }
}
