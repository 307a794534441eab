//! A training condition as the report names it (docs/claims.md,
//! "Experiments"): σ, η, the epochs and the seeds, then every field that
//! differs from the paper's setup, the training fraction first, so that
//! the points of a grid never read as one condition.

use serde_json::Value;

use crate::claims::Tier;
use crate::claims::experiment::{Experiment, TierSeeds};

/// The fields every description names, whatever their value.
const ALWAYS: [&str; 4] = ["activation", "eta", "epochs", "seeds"];

/// The order of the fields that differ: the paper's symbols first (p, M,
/// K), then the rest as serialised.
const FIRST: [&str; 6] = ["train_fraction", "modulus", "width", "task", "lr", "window"];

/// A field's name in the paper's terms.
fn symbol(field: &str) -> String {
    match field {
        "train_fraction" => "p".into(),
        "modulus" => "M".into(),
        "width" => "K".into(),
        "window" => "Wn".into(),
        other => other.replace('_', " "),
    }
}

/// A field's value as written in a claim file.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// The experiment's fields as serialised (a field at its default may be
/// left out: it then reads as the default's).
fn fields(e: &Experiment) -> serde_json::Map<String, Value> {
    match serde_json::to_value(e) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// The experiment with `e`'s required fields and every other at its
/// default, as serialised.
fn defaults(e: &Experiment) -> serde_json::Map<String, Value> {
    let given = fields(e);
    let mut required: serde_json::Map<String, Value> =
        ALWAYS.iter().filter_map(|k| Some((k.to_string(), given.get(*k)?.clone()))).collect();
    // Any valid seed set: seeds are always named, never compared.
    required.insert("seeds".into(), Value::Array(vec![Value::from(0)]));
    serde_json::from_value::<Experiment>(Value::Object(required)).map(|d| fields(&d)).unwrap_or_default()
}

/// Every field of `e` that differs from the paper's setup, as (symbol,
/// value), the training fraction first.
pub fn differing(e: &Experiment) -> Vec<(String, String)> {
    let (given, default) = (fields(e), defaults(e));
    let differs = |k: &String| !ALWAYS.contains(&k.as_str()) && given.get(k) != default.get(k);
    let mut keys: Vec<&String> = given.keys().filter(|k| differs(k)).collect();
    let rank = |k: &String| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len());
    keys.sort_by_key(|k| rank(k));
    keys.into_iter().map(|k| (symbol(k), shown(&given[k]))).collect()
}

/// "σ = sqr, η = 0.0002, 250 epochs, seeds 100–102, p = 0.3, M = 23, K = 256".
pub fn describe(e: &Experiment, tier: Tier) -> String {
    let mut parts = vec![
        format!("σ = {}", e.activation.name()),
        format!("η = {}", e.eta),
        format!("{} epochs", e.epochs),
        TierSeeds::describe(e.seeds.at(tier)),
    ];
    parts.extend(differing(e).into_iter().map(|(k, v)| format!("{k} = {v}")));
    parts.join(", ")
}

/// What every one of `experiments` shares, for a figure's title: σ and η
/// where they agree, and each differing field all of them give alike
/// ("σ = sqr, η = 0.0002, M = 23, K = 256"); empty when none.
pub fn shared(experiments: &[&Experiment]) -> String {
    let Some(first) = experiments.first() else { return String::new() };
    let mut parts = Vec::new();
    if experiments.iter().all(|e| e.activation == first.activation) {
        parts.push(format!("σ = {}", first.activation.name()));
    }
    if experiments.iter().all(|e| e.eta == first.eta) {
        parts.push(format!("η = {}", first.eta));
    }
    let all: Vec<Vec<(String, String)>> = experiments.iter().map(|e| differing(e)).collect();
    for field in &all[0] {
        if all.iter().all(|d| d.contains(field)) {
            parts.push(format!("{} = {}", field.0, field.1));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(yaml: &str) -> Experiment {
        serde_yaml::from_str(yaml).unwrap()
    }

    /// A p-grid's points read alike when only σ, η, M, K and lr are named.
    #[test]
    fn every_field_that_differs_is_named_the_training_fraction_first() {
        let e = experiment(
            "{activation: sqr, eta: 2.0e-4, epochs: 250, seeds: [100, 101], width: 256, modulus: 23, train_fraction: 0.3}",
        );
        assert_eq!(
            differing(&e),
            [("p", "0.3"), ("M", "23"), ("K", "256")].map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
        );
        assert!(describe(&e, Tier::Quick).ends_with("p = 0.3, M = 23, K = 256"), "{}", describe(&e, Tier::Quick));
        let paper = experiment("{activation: sqr, eta: 2.0e-4, epochs: 400, seeds: [0], modulus: 71, lr: 1.0e-3}");
        assert!(differing(&paper).is_empty(), "the paper's values are not named: {:?}", differing(&paper));
        let diverging = experiment("{activation: relu, eta: 0.0, epochs: 10, seeds: [0], may_diverge: true}");
        assert_eq!(differing(&diverging), vec![("may diverge".to_string(), "yes".to_string())]);
    }

    #[test]
    fn a_figure_names_what_its_conditions_share() {
        let a = experiment("{activation: sqr, eta: 2.0e-4, epochs: 250, seeds: [1], width: 256, train_fraction: 0.3}");
        let b = experiment("{activation: sqr, eta: 2.0e-4, epochs: 250, seeds: [1], width: 256, train_fraction: 0.5}");
        assert_eq!(shared(&[&a, &b]), "σ = sqr, η = 0.0002, K = 256");
        assert_eq!(shared(&[]), "");
    }
}
