//! What a measure produced (docs/claims.md, "Measure kinds and their
//! quantities"): its quantities and per-seed values, each a [`Value`]
//! (docs/claims.md, "Censored events"), and its warnings, each naming the
//! quantities it bears on; and the helpers kinds share to fill it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EventCount, STATS, WithoutEvent};
use crate::claims::value::{self as censored, SeedValue, Value, by_seed};
use crate::runs::Run;

/// The values a measure produced: named quantities, the per-seed values
/// behind them, and its warnings. Every value is a [`Value`] (a number,
/// bounds, or undefined; docs/claims.md, "Censored events"), stored once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Named scalar quantities.
    pub quantities: BTreeMap<String, Value>,
    /// Per-seed values behind them, each with its seed, in the order the
    /// runs were read (seed order of the experiment).
    pub per_seed: BTreeMap<String, Vec<SeedValue>>,
    /// Warnings, each naming the quantities it bears on (an event at the
    /// first epoch looked at, too few seeds for an interval, a seed one side
    /// of a pairing lacks; docs/claims.md, "Preconditions").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// A warning of a measure and the quantities it bears on: a claim shows it
/// when one of its checks or preconditions reads one of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// What is wrong, in the reader's words.
    pub message: String,
    /// The quantity names (labelled) it bears on.
    pub bears_on: Vec<String>,
}

impl Measurement {
    pub(super) fn set(&mut self, name: impl Into<String>, value: f64) {
        self.set_value(name, Value::exact(value));
    }

    /// Set a quantity that may be known only by bounds.
    pub(super) fn set_value(&mut self, name: impl Into<String>, value: Value) {
        self.quantities.insert(name.into(), value);
    }

    /// Quantity `name`: its number, its bounds, or undefined when the
    /// measures did not produce it.
    pub fn value(&self, name: &str) -> Value {
        self.quantities.get(name).copied().unwrap_or_else(Value::undefined)
    }

    /// Add `other`'s quantities, per-seed values and warnings.
    pub(super) fn extend(&mut self, other: Measurement) {
        self.quantities.extend(other.quantities);
        self.per_seed.extend(other.per_seed);
        self.warnings.extend(other.warnings);
    }

    /// Per-seed values of the runs of `seeds`, in that order.
    pub(super) fn set_per_seed(&mut self, name: &str, seeds: &[u64], values: &[Value]) {
        let per_seed = seeds.iter().zip(values).map(|(&seed, &value)| SeedValue { seed, value }).collect();
        self.per_seed.insert(name.to_string(), per_seed);
    }

    /// Per-seed numbers of the runs of `seeds` (NaN: undefined).
    pub(super) fn set_per_seed_numbers(&mut self, name: &str, seeds: &[u64], values: &[f64]) {
        self.per_seed.insert(name.to_string(), by_seed(seeds, values));
    }

    /// The per-seed numbers `values` of the runs of `seeds` under
    /// `per_seed`, and their median over seeds under `median`.
    pub(super) fn median_over_seeds(&mut self, median: &str, per_seed: &str, seeds: &[u64], values: &[f64]) {
        let values = by_seed(seeds, values);
        self.set_value(median, censored::quantile(&censored::values_of(&values), 0.5));
        self.per_seed.insert(per_seed.to_string(), values);
    }

    /// Warn of `message`, bearing on the quantities `bears_on`.
    pub(super) fn warn(&mut self, message: String, bears_on: Vec<String>) {
        self.warnings.push(Warning { message, bears_on });
    }

    /// Warn when event `name` happens at `first`, the first epoch looked
    /// at, in some seed: it was there before anything was seen to change.
    /// The warning bears on `bears_on`, the quantities computed from it.
    pub(super) fn warn_if_at_start(&mut self, name: &str, at: &[Value], first: usize, bears_on: Vec<String>) {
        let seeds = at.iter().filter(|v| v.number() == Some(first as f64)).count();
        if seeds > 0 {
            let bears_on = std::iter::once(name.to_string()).chain(bears_on).collect();
            let message = format!(
                "`{name}` is epoch {first}, the first epoch looked at, in {seeds} of {} seeds: the event was \
                 already there, so its epoch says nothing about training (a `requires:` precondition can rule this out)",
                at.len()
            );
            self.warn(message, bears_on);
        }
    }

    /// Median and quartiles over seeds of `values`, named by
    /// `name("median")` etc. (see [`summary_names`]).
    pub(super) fn summary(&mut self, values: &[Value], name: impl Fn(&str) -> String) {
        for (stat, q) in STATS.into_iter().zip([0.5, 0.25, 0.75]) {
            self.set_value(name(stat), censored::quantile(values, q));
        }
    }

    /// The statistics of an event's per-seed epochs (see
    /// [`event_summary_names`]): its median, quartiles, minimum and
    /// maximum over every seed, a seed without the event taking part as
    /// censored; or, with [`WithoutEvent::Dropped`], the median and
    /// quartiles over the seeds that had it (numpy's `nanmedian`) and a
    /// minimum and maximum that are undefined when a seed lacks it
    /// (docs/claims.md, "Censored events").
    pub(super) fn event_summary(&mut self, values: &[Value], without: WithoutEvent, name: impl Fn(&str) -> String) {
        if without == WithoutEvent::Censored {
            for (stat, q) in STATS.into_iter().zip([0.5, 0.25, 0.75]).chain([("min", 0.0), ("max", 1.0)]) {
                self.set_value(name(stat), censored::quantile(values, q));
            }
            return;
        }
        let happened: Vec<Value> = values.iter().copied().filter(|v| v.number().is_some()).collect();
        self.summary(&happened, &name);
        let every = !values.is_empty() && happened.len() == values.len();
        for (stat, q) in [("min", 0.0), ("max", 1.0)] {
            self.set_value(name(stat), if every { censored::quantile(values, q) } else { Value::undefined() });
        }
    }

    /// An event per seed of the runs of `seeds` (its epoch, censored where
    /// it did not happen, undefined where it could not be looked for): how
    /// many seeds had it, of how many, the fraction and its epochs'
    /// statistics, under the names of `names`. A seed where the event could
    /// not be looked for may or may not have had it: the count is then the
    /// bounds both answers give.
    pub(super) fn count(&mut self, names: &EventCount, seeds: &[u64], at: Vec<Value>, without: WithoutEvent) {
        let had = reached(&at);
        self.set_value(names.count, had);
        self.set("seeds", at.len() as f64);
        self.set_value(format!("{}_fraction", names.count), fraction(had, at.len()));
        self.event_summary(&at, without, |s| format!("{}_{s}", names.epoch));
        self.set_per_seed(names.epoch, seeds, &at);
    }
}

/// The share of `values` for which `holds` is true: exactly those whose
/// number it holds for, plus, as an upper bound, the undefined ones (a seed
/// with no value may or may not count). Undefined of no values.
pub(super) fn share(values: &[Value], holds: impl Fn(f64) -> bool) -> Value {
    let yes = values.iter().filter(|v| v.number().is_some_and(&holds)).count();
    let unknown = values.iter().filter(|v| v.number().is_none()).count();
    fraction(count_of(yes, unknown, values.len()), values.len())
}

/// `numerator / denominator`: exact for exact values, bounds where both
/// are bounded and positive, undefined otherwise.
pub(super) fn ratio(numerator: Value, denominator: Value) -> Value {
    match (numerator.number(), denominator.number()) {
        (Some(a), Some(b)) => Value::exact(a / b),
        _ if numerator.lo > 0.0 && denominator.lo > 0.0 => {
            Value::between(numerator.lo / denominator.hi, numerator.hi / denominator.lo)
        }
        _ => Value::undefined(),
    }
}

/// How many of `at` had their event: exactly those with an epoch, plus, as
/// an upper bound, those where it could not be looked for (undefined).
pub(super) fn reached(at: &[Value]) -> Value {
    let had = at.iter().filter(|e| e.number().is_some()).count();
    count_of(had, at.iter().filter(|e| e.is_undefined()).count(), at.len())
}

/// A count of `known` seeds and up to `unknown` more, of `n`: undefined
/// when no seed could be looked at (nothing was measured).
pub(super) fn count_of(known: usize, unknown: usize, n: usize) -> Value {
    if n > 0 && unknown == n { Value::undefined() } else { Value::between(known as f64, (known + unknown) as f64) }
}

/// `count` of `n` as a fraction, bounds divided through (undefined of none).
pub(super) fn fraction(count: Value, n: usize) -> Value {
    if n == 0 || count.is_undefined() {
        Value::undefined()
    } else {
        Value::between(count.lo / n as f64, count.hi / n as f64)
    }
}

/// The seeds of `runs`, in order.
pub(super) fn seeds_of(runs: &[Run]) -> Vec<u64> {
    runs.iter().map(|r| r.spec.seed).collect()
}
