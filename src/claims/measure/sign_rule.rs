//! `kind: sign-rule`: Theorem 6's sign rule at checkpoints of one condition
//! (docs/methods.md, "Theorem 6"): per checkpoint epoch the median,
//! quartiles and minimum over seeds of each fraction the analysis reports,
//! what they say over all checkpoints, and optionally the checkpoint at
//! which the published sign-match first reaches a level. Quantities:
//! docs/claims.md, "Measure kinds and their quantities".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Inputs, Kind, Measurement, STATS, seeds_of};
use crate::claims::Problem;
use crate::claims::experiment::Experiment;
use crate::claims::value::{Value, by_seed, quantile, values_of};
use crate::probes::theorem6;
use crate::runs::Run;

fn pairs() -> usize {
    200
}

/// Theorem 6's quantities at checkpoints (docs/methods.md, "Theorem 6").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRule {
    /// Prefix of this measure's quantity names ([`super::MeasureSpec::label`]).
    #[serde(default)]
    pub label: Option<String>,
    /// Experiment name (η > 0).
    pub condition: String,
    /// Checkpoint epochs, ascending.
    pub epochs: Vec<usize>,
    /// Number of top pairs (default 200).
    #[serde(default = "pairs")]
    pub pairs: usize,
    /// A published sign-match level whose first crossing (by the median
    /// over seeds, at the checkpoints) to report.
    #[serde(default)]
    pub crossing: Option<f64>,
}

/// A named per-checkpoint value of a [`theorem6::SignRule`].
type Field = (&'static str, fn(&theorem6::SignRule) -> f64);

/// The per-checkpoint values of a [`theorem6::SignRule`], by quantity prefix.
const FIELDS: [Field; 8] = [
    ("published", |r| r.published_sign_match),
    ("published_identity", |r| r.published_sign_match_identity),
    ("exact", |r| r.exact_sign_match),
    ("full_projector", |r| r.full_projector_sign_match),
    ("projector_agreement", |r| r.projector_sign_agreement),
    ("repulsion", |r| r.repulsion_fraction),
    ("abs_similarity", |r| r.median_abs_similarity),
    ("negative_b", |r| r.negative_b_fraction),
];

impl Kind for SignRule {
    one_condition!();

    fn checkpoints(&self, condition: &str) -> Vec<usize> {
        if self.condition == condition { self.epochs.clone() } else { Vec::new() }
    }

    fn sign_rules(&self, condition: &str) -> Vec<(usize, usize)> {
        self.checkpoints(condition).into_iter().map(|epoch| (epoch, self.pairs)).collect()
    }

    fn validate(&self, experiments: &BTreeMap<String, Experiment>) -> Result<(), Problem> {
        let (condition, e) = (&self.condition, &experiments[&self.condition]);
        if e.eta <= 0.0 {
            return Err(Problem::new(
                "eta".into(),
                format!("sign-rule needs η > 0 in `{condition}` (B is singular at η = 0)"),
            ));
        }
        let epochs = &self.epochs;
        if epochs.is_empty() || !epochs.windows(2).all(|w| w[0] < w[1]) || epochs.iter().any(|&x| x > e.epochs) {
            return Err(Problem::new(
                "epochs".into(),
                format!("need ascending checkpoint epochs within 0..={}", e.epochs),
            ));
        }
        let unit_pairs = e.width * e.width.saturating_sub(1) / 2;
        if self.pairs == 0 || self.pairs > unit_pairs {
            return Err(Problem::new(
                "pairs".into(),
                format!("must be in 1..={unit_pairs}: the pairs of `{condition}`'s {} hidden units", e.width),
            ));
        }
        if !self.crossing.is_none_or(f64::is_finite) {
            return Err(Problem::new("crossing".into(), "must be a finite number".into()));
        }
        Ok(())
    }

    fn needs(&self) -> Vec<String> {
        vec!["checkpoints".into()]
    }

    fn quantity_names(&self) -> Vec<String> {
        let mut names: Vec<String> = [
            "exact_min",
            "full_projector_min",
            "published_rise",
            "published_repulsion_max_gap",
            "published_iqr_width_max",
        ]
        .map(String::from)
        .to_vec();
        if self.crossing.is_some() {
            names.extend(["published_crossing_epoch", "published_crossing_after"].map(String::from));
        }
        names.extend(self.epochs.iter().map(|e| format!("published_iqr_width_e{e}")));
        for (field, _) in FIELDS {
            for e in &self.epochs {
                names.extend(STATS.iter().chain(&["min"]).map(|s| format!("{field}_{s}_e{e}")));
            }
        }
        names
    }

    fn measure(&self, inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        self.at_checkpoints(&(inputs.runs)(&self.condition)?, inputs, out)?;
        if let Some(level) = self.crossing {
            let medians: Vec<Value> =
                self.epochs.iter().map(|e| out.value(&format!("published_median_e{e}"))).collect();
            let (at, after) = crossing_of(&self.epochs, &medians, level);
            out.set_value("published_crossing_epoch", at);
            out.set_value("published_crossing_after", after);
        }
        Ok(())
    }
}

impl SignRule {
    /// Each field's statistics over seeds at each checkpoint, and what they
    /// say over all checkpoints.
    fn at_checkpoints(&self, runs: &[Run], inputs: &Inputs, out: &mut Measurement) -> anyhow::Result<()> {
        let epochs = &self.epochs;
        let mut all = Vec::new(); // all[epoch index][seed]
        for &e in epochs {
            all.push(runs.iter().map(|r| (inputs.sign_rule)(r, e, self.pairs)).collect::<anyhow::Result<Vec<_>>>()?);
        }
        let seeds = seeds_of(runs);
        for (field, get) in FIELDS {
            for (i, &e) in epochs.iter().enumerate() {
                let values = by_seed(&seeds, &all[i].iter().map(get).collect::<Vec<f64>>());
                out.summary(&values_of(&values), |s| format!("{field}_{s}_e{e}"));
                out.set_value(format!("{field}_min_e{e}"), quantile(&values_of(&values), 0.0));
                out.per_seed.insert(format!("{field}_e{e}"), values);
            }
        }
        let q = |name: String| out.value(&name);
        let min_over =
            |field: &str| quantile(&epochs.iter().map(|e| q(format!("{field}_min_e{e}"))).collect::<Vec<_>>(), 0.0);
        let published = |e: &usize| q(format!("published_median_e{e}"));
        let width = |e: &usize| q(format!("published_q75_e{e}")).minus(q(format!("published_q25_e{e}")));
        let max_over = |values: Vec<Value>| quantile(&values, 1.0);
        let mut derived = vec![
            ("exact_min".to_string(), min_over("exact")),
            ("full_projector_min".into(), min_over("full_projector")),
            ("published_rise".into(), published(epochs.last().expect("validated")).minus(published(&epochs[0]))),
            ("published_iqr_width_max".into(), max_over(epochs.iter().map(width).collect())),
            (
                "published_repulsion_max_gap".into(),
                max_over(
                    epochs.iter().map(|e| magnitude(published(e).minus(q(format!("repulsion_median_e{e}"))))).collect(),
                ),
            ),
        ];
        derived.extend(epochs.iter().map(|e| (format!("published_iqr_width_e{e}"), width(e))));
        for (name, value) in derived {
            out.set_value(name, value);
        }
        Ok(())
    }
}

/// |v|: its bounds' magnitudes (0 inside when they straddle 0).
fn magnitude(v: Value) -> Value {
    match (v.lo >= 0.0, v.hi <= 0.0) {
        (true, _) => v,
        (_, true) => Value::between(-v.hi, -v.lo),
        _ => Value::between(0.0, (-v.lo).max(v.hi)),
    }
}

/// The first checkpoint whose value reaches `level`, and the checkpoint
/// before it: the crossing is bracketed to (after, at]. Undefined where it
/// never does, or where a value before the first that surely reaches it
/// may reach it too (its bounds straddle `level`).
fn crossing_of(epochs: &[usize], values: &[Value], level: f64) -> (Value, Value) {
    let undefined = (Value::undefined(), Value::undefined());
    let Some(i) = values.iter().position(|v| v.hi >= level) else { return undefined };
    if values[i].lo < level {
        return undefined;
    }
    let after = if i == 0 { Value::undefined() } else { Value::exact(epochs[i - 1] as f64) };
    (Value::exact(epochs[i] as f64), after)
}

#[cfg(test)]
mod tests {
    use super::super::MeasureSpec;
    use super::super::tests::{assert_names, run, sign_rule};
    use super::*;

    #[test]
    fn crossing_is_bracketed_by_checkpoints() {
        let epochs = [50, 100, 175, 250, 300];
        let exact = |v: &[f64]| v.iter().copied().map(Value::exact).collect::<Vec<_>>();
        let (at, after) = crossing_of(&epochs, &exact(&[0.865, 0.895, 0.955, 0.97, 0.985]), 0.95);
        assert_eq!((at, after), (Value::exact(175.0), Value::exact(100.0)));
        assert!(crossing_of(&epochs, &exact(&[0.9; 5]), 0.95).0.is_undefined());
        let open =
            [Value::exact(0.9), Value::between(0.9, 0.96), Value::exact(0.97), Value::exact(0.98), Value::exact(0.99)];
        assert!(crossing_of(&epochs, &open, 0.95).0.is_undefined(), "the second checkpoint may have crossed");
        let (at, after) = crossing_of(&epochs, &exact(&[0.99; 5]), 0.95);
        assert_eq!(at, Value::exact(50.0));
        assert!(after.is_undefined());
    }

    /// Three seeds whose published sign-match is 0.80, 0.82 and 0.84 plus
    /// 1e-4 per epoch: the statistics per checkpoint, the rise between the
    /// first and last, and the crossing of 0.828 by the median.
    #[test]
    fn statistics_over_seeds_at_each_checkpoint() {
        let spec = MeasureSpec::SignRule(SignRule {
            label: None,
            condition: "grok".into(),
            epochs: vec![50, 100, 300],
            pairs: 10,
            crossing: Some(0.828),
        });
        let runs: Vec<Run> = (0..3).map(|seed| run(300, 20, 50, 200 + seed)).collect();
        // Each run's jump epoch tells the seeds apart.
        let by_seed = |r: &Run, e: usize, p: usize| {
            assert_eq!(p, 10);
            let seed = r.metrics.w_gap23().iter().position(|&g| g > 2.0).unwrap() - 200;
            Ok(sign_rule(0.80 + 0.02 * seed as f64, e, p))
        };
        let m = spec.measure(&|_| Ok(runs.clone()), &by_seed).unwrap();
        let close = |name: &str, value: f64| assert!((m.number(name) - value).abs() < 1e-12, "{name}");
        close("published_median_e50", 0.825);
        close("published_min_e50", 0.805);
        close("published_iqr_width_e100", 0.02);
        close("published_rise", 0.025);
        close("published_repulsion_max_gap", 0.01);
        assert_eq!((m.number("exact_min"), m.number("full_projector_min")), (1.0, 1.0));
        assert_eq!((m.number("published_crossing_epoch"), m.number("published_crossing_after")), (100.0, 50.0));
        assert_eq!(m.per_seed_numbers("repulsion_e300").len(), 3);
        assert_names(&spec, &m);
    }

    #[test]
    fn needs_eta_and_ascending_checkpoints() {
        let experiments: BTreeMap<String, Experiment> = serde_yaml::from_str(
            "{grok: {activation: sqr, eta: 2.0e-4, epochs: 400, seeds: {paper: 1, quick: 1}},
              zero: {activation: sqr, eta: 0.0, epochs: 400, seeds: {paper: 1, quick: 1}}}",
        )
        .unwrap();
        let field = |condition: &str, epochs: Vec<usize>| {
            let spec = SignRule { label: None, condition: condition.into(), epochs, pairs: pairs(), crossing: None };
            MeasureSpec::SignRule(spec).validate(&experiments).err().map(|e| e.field)
        };
        assert_eq!(field("grok", vec![50, 400]), None);
        assert_eq!(field("zero", vec![50]).as_deref(), Some("eta"));
        assert_eq!(field("grok", vec![100, 50]).as_deref(), Some("epochs"));
        assert_eq!(field("grok", vec![401]).as_deref(), Some("epochs"));
    }
}
