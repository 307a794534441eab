//! A training condition of a claim file (docs/claims.md, "Experiments"):
//! the fields, their defaults (the paper's setup) and the names conditions may have.

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::model::Activation;
use crate::seeding::RngScheme;
use crate::train::TrainSpec;
use crate::train::loss::Loss;
use crate::train::optimizer::Optimizer;

/// Most seeds an experiment may ask for at one tier.
pub const MAX_SEEDS: usize = 1000;

/// The seeds an experiment runs at each tier (docs/claims.md, "Seed
/// sets"). YAML: counts per tier, `{quick: 3, paper: 15}` (seeds 0, 1, ...),
/// optionally shifted, `{quick: 3, paper: 5, from: 100}` (seeds 100, 101,
/// ...); one list for both tiers, `[100, 104, 107]`; or a list per tier,
/// `{quick: [100], paper: [100, 101, 102]}` (a count and a list may mix;
/// `from` shifts counts only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierSeeds {
    /// The paper tier's seeds (the paper's 15 per condition, 5 for
    /// checkpoint claims, unless the file says otherwise).
    pub paper: Vec<u64>,
    /// `cargo test`'s seeds.
    pub quick: Vec<u64>,
}

impl TierSeeds {
    /// The seeds at `tier`.
    pub fn at(&self, tier: super::tier::Tier) -> &[u64] {
        match tier {
            super::tier::Tier::Quick => &self.quick,
            super::tier::Tier::Paper => &self.paper,
        }
    }

    /// "seeds 0..4", "seed 7" or "seeds 100, 104, 107".
    pub fn describe(seeds: &[u64]) -> String {
        let run = seeds.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]));
        match seeds {
            [] => "no seeds".into(),
            [one] => format!("seed {one}"),
            [first, .., last] if run => format!("seeds {first}..{last}"),
            _ => format!("seeds {}", seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        }
    }

    /// The seeds of one tier as written: a count (shifted by `from`) or a list.
    fn tier(value: &serde_yaml::Value, from: u64, tier: &str) -> Result<Vec<u64>, String> {
        use serde_yaml::Value;
        match value {
            Value::Number(n) => match n.as_u64() {
                Some(count) if count as usize <= MAX_SEEDS => from
                    .checked_add(count)
                    .map(|end| (from..end).collect())
                    .ok_or_else(|| format!("{tier}: from + count overflows")),
                _ => Err(format!("{tier}: a count is 0..={MAX_SEEDS}, got {n}")),
            },
            Value::Sequence(list) => list
                .iter()
                .map(|s| {
                    s.as_u64().ok_or_else(|| format!("{tier}: a seed is a whole number ≥ 0, got {}", yaml_text(s)))
                })
                .collect(),
            other => Err(format!("{tier}: a count or a list of seeds, got {}", yaml_text(other))),
        }
    }
}

/// A YAML value as one line of text, for messages.
fn yaml_text(value: &serde_yaml::Value) -> String {
    serde_yaml::to_string(value).unwrap_or_default().trim().replace('\n', " ")
}

impl<'de> Deserialize<'de> for TierSeeds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        use serde_yaml::Value;
        let value = Value::deserialize(deserializer)?;
        let parsed = match &value {
            Value::Sequence(_) => {
                TierSeeds::tier(&value, 0, "seeds").map(|list| TierSeeds { paper: list.clone(), quick: list })
            }
            Value::Mapping(fields) => {
                if let Some(other) = fields.keys().find(|k| !matches!(k.as_str(), Some("quick" | "paper" | "from"))) {
                    return Err(D::Error::custom(format!(
                        "unknown field `{}`, expected `quick`, `paper` or `from`",
                        yaml_text(other)
                    )));
                }
                let from = match fields.get("from") {
                    None => Ok(0),
                    Some(v) => v
                        .as_u64()
                        .ok_or_else(|| format!("from: the first seed is a whole number ≥ 0, got {}", yaml_text(v))),
                };
                let tier = |name: &str| match fields.get(name) {
                    Some(v) => TierSeeds::tier(v, from.clone()?, name),
                    None => Err(format!(
                        "the {name} tier's seeds are missing: give both tiers, e.g. {{quick: 3, paper: 15}}"
                    )),
                };
                let lists =
                    ["quick", "paper"].iter().all(|t| fields.get(*t).is_some_and(serde_yaml::Value::is_sequence));
                if fields.contains_key("from") && lists {
                    return Err(D::Error::custom(
                        "from: shifts counts, but both tiers list their seeds: drop `from` or give counts",
                    ));
                }
                from.clone().and_then(|_| Ok(TierSeeds { quick: tier("quick")?, paper: tier("paper")? }))
            }
            other => Err(format!(
                "a map of counts per tier ({{quick: 3, paper: 15}}, optionally with from: 100) or a list of seeds, got {}",
                yaml_text(other)
            )),
        };
        parsed.map_err(D::Error::custom)
    }
}

/// A training condition; unset fields take the paper's values (docs/methods.md, "Setup").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// σ.
    pub activation: Activation,
    /// Weight decay η.
    pub eta: f64,
    /// The optimiser (docs/methods.md, "Optimisers"; default `adam`, the
    /// paper's): `adam`, `adamw` or `sgd`.
    #[serde(default, skip_serializing_if = "Optimizer::is_adam")]
    pub optimizer: Optimizer,
    /// SGD's momentum μ (default 0, PyTorch's); only with `optimizer: sgd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// The loss (docs/methods.md, "Losses"; default `mse`, the paper's
    /// centred MSE): `mse` or `cross_entropy`.
    #[serde(default, skip_serializing_if = "Loss::is_mse")]
    pub loss: Loss,
    /// Fraction of the training labels replaced by another class
    /// (docs/methods.md, "Label noise"; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_noise: Option<f64>,
    /// E.
    pub epochs: usize,
    /// Seeds per tier (docs/claims.md, "Seed sets").
    pub seeds: TierSeeds,
    /// Wn (default 20).
    #[serde(default = "defaults::window")]
    pub window: usize,
    /// The optimiser's learning rate (default 1e-3).
    #[serde(default = "defaults::lr")]
    pub lr: f64,
    /// M (default 71).
    #[serde(default = "defaults::modulus")]
    pub modulus: usize,
    /// The task (docs/methods.md, "Tasks"; default `add`, Tian's modular
    /// addition): `add`, `sub`, `mul`, `div` (M prime), `poly:EXPR` or
    /// `table:FILE` (relative to the claim file, [`tables_beside`]; M is
    /// the table's order unless `modulus` says otherwise, which is refused).
    #[serde(default, skip_serializing_if = "crate::task::Task::is_add")]
    pub task: crate::task::Task,
    /// K (default 2048).
    #[serde(default = "defaults::width")]
    pub width: usize,
    /// Training fraction of the M² pairs (default 0.4).
    #[serde(default = "defaults::train_fraction")]
    pub train_fraction: f64,
    /// Seeding scheme (default `torch`: seed s is the paper's seed s).
    #[serde(default)]
    pub rng: RngScheme,
    /// Whether a run that diverges (non-finite loss) is an outcome the
    /// measures count rather than an error (default false).
    #[serde(default)]
    pub may_diverge: bool,
    /// Whether a run whose network collapses to zero output (docs/methods.md,
    /// "Collapse") is an outcome the measures count rather than an error
    /// (default false).
    #[serde(default)]
    pub may_collapse: bool,
    /// The window Gram in `f64` (default) or `f32`, as the paper's code
    /// computes it (docs/methods.md, "Update spectrum").
    #[serde(default)]
    pub gram: crate::probes::spectrum::GramPrecision,
    /// Log ρ at every epoch of the run, not only up to the crossings the
    /// measures read (default false; docs/methods.md, "Level metric ρ").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rho_throughout: bool,
}

/// Unset experiment fields take the paper's values, from [`TrainSpec::default`].
mod defaults {
    use crate::train::TrainSpec;

    pub fn window() -> usize {
        TrainSpec::default().window
    }
    pub fn lr() -> f64 {
        TrainSpec::default().lr
    }
    pub fn modulus() -> usize {
        TrainSpec::default().modulus
    }
    pub fn width() -> usize {
        TrainSpec::default().width
    }
    pub fn train_fraction() -> f64 {
        TrainSpec::default().train_fraction
    }
}

impl Experiment {
    /// The ρ log `rho_throughout` asks for: every epoch, no stop.
    pub fn level_log(&self) -> Option<crate::train::LevelLog> {
        self.rho_throughout.then_some(crate::train::LevelLog { until: self.epochs, stop_above: None, every: 1 })
    }

    /// The train spec of seed `seed` of this experiment.
    pub fn train_spec(&self, seed: u64, checkpoints: Vec<usize>, backend: Backend) -> TrainSpec {
        TrainSpec {
            modulus: self.modulus,
            task: self.task.clone(),
            width: self.width,
            train_fraction: self.train_fraction,
            activation: self.activation,
            lr: self.lr,
            eta: self.eta,
            optimizer: self.optimizer,
            momentum: self.momentum.unwrap_or(0.0),
            loss: self.loss,
            label_noise: self.label_noise.unwrap_or(0.0),
            epochs: self.epochs,
            window: self.window,
            seed,
            rng: self.rng,
            checkpoints,
            level: None,
            backend,
            // Claims judge the canonical scheme and stop at a collapse.
            ieee_subnormals: false,
            through_collapse: false,
            gram: self.gram,
            perturb: None,
        }
    }
}

/// The experiments of a claim file in `dir` with each `task: table:FILE`
/// (a grid point's too) made relative to `dir` (docs/methods.md, "Tasks").
pub fn tables_beside(
    experiments: &std::collections::BTreeMap<String, serde_yaml::Mapping>,
    dir: &std::path::Path,
) -> std::collections::BTreeMap<String, serde_yaml::Mapping> {
    use serde_yaml::Value;
    fn resolve(fields: &mut serde_yaml::Mapping, dir: &std::path::Path) {
        if let Some(Value::String(task)) = fields.get_mut("task")
            && let Some((kind, file)) = task.split_once(':')
            && kind.trim().eq_ignore_ascii_case("table")
        {
            *task = format!("table:{}", dir.join(file.trim()).display());
        }
        if let Some(Value::Mapping(points)) = fields.get_mut("grid") {
            for point in points.values_mut().filter_map(Value::as_mapping_mut) {
                resolve(point, dir);
            }
        }
    }
    let mut experiments = experiments.clone();
    experiments.values_mut().for_each(|fields| resolve(fields, dir));
    experiments
}

/// Longest experiment, grid, point or label name: names reach file names
/// (figures), so they are bounded once here.
pub const MAX_NAME: usize = 48;

/// Whether `name` is a valid experiment, grid, point or measure-label name:
/// 1 to [`MAX_NAME`] letters, digits and `_ . + -` (so `1e-5`, `M41_p0.1`),
/// and so never the `grid[point]` shape of a grid condition.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok =
        (1..=MAX_NAME).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{what} `{name}` must be 1-{MAX_NAME} letters, digits, _ . + - (no brackets, spaces or slashes)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(yaml: &str) -> Result<TierSeeds, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn seed_sets_are_counts_shifted_counts_or_lists() {
        assert_eq!(seeds("{quick: 2, paper: 3}").unwrap(), TierSeeds { quick: vec![0, 1], paper: vec![0, 1, 2] });
        assert_eq!(seeds("{quick: 2, paper: 3, from: 100}").unwrap().paper, [100, 101, 102]);
        assert_eq!(
            seeds("[100, 104, 107]").unwrap(),
            TierSeeds { quick: vec![100, 104, 107], paper: vec![100, 104, 107] }
        );
        let mixed = seeds("{quick: [7], paper: 2, from: 50}").unwrap();
        assert_eq!((mixed.quick, mixed.paper), (vec![7], vec![50, 51]), "from shifts counts, not lists");
        assert_eq!(TierSeeds::describe(&[0, 1, 2, 3, 4]), "seeds 0..4");
        assert_eq!(TierSeeds::describe(&[100, 104]), "seeds 100, 104");
        assert_eq!(TierSeeds::describe(&[7]), "seed 7");
        // B8: `rng: chacha` takes 64-bit seeds; the last one panicked the report.
        assert_eq!(TierSeeds::describe(&[u64::MAX, 0]), "seeds 18446744073709551615, 0");
        assert_eq!(TierSeeds::describe(&[u64::MAX - 1, u64::MAX]), "seeds 18446744073709551614..18446744073709551615");
    }

    #[test]
    fn malformed_seed_sets_say_what_is_accepted() {
        assert!(seeds("{quick: 3}").unwrap_err().contains("the paper tier's seeds are missing"));
        assert!(seeds("{quick: 3, paper: 5, form: 100}").unwrap_err().contains("unknown field `form`"));
        assert!(
            seeds("{quick: 3, paper: 5, from: -1}").unwrap_err().contains("from: the first seed is a whole number")
        );
        assert!(seeds("[1, -2]").unwrap_err().contains("a seed is a whole number ≥ 0, got -2"));
        assert!(seeds("five").unwrap_err().contains("a map of counts per tier"));
        assert!(seeds("{quick: 3, paper: 1.5}").unwrap_err().contains("paper: a count is"));
    }

    /// `rho_throughout` asks for ρ at every epoch, without a stop, and is
    /// written only when set.
    #[test]
    fn rho_throughout_logs_the_whole_run() {
        let e = |extra: &str| -> Experiment {
            serde_yaml::from_str(&format!("{{activation: sqr, eta: 0, epochs: 300, seeds: [1]{extra}}}")).unwrap()
        };
        let whole = crate::train::LevelLog { until: 300, stop_above: None, every: 1 };
        assert_eq!(e(", rho_throughout: true").level_log(), Some(whole));
        assert_eq!(e("").level_log(), None);
        assert!(!serde_json::to_string(&e("")).unwrap().contains("rho_throughout"));
        // Merged with a measure's stop at a crossing, the whole log wins.
        let stop = crate::train::LevelLog { stop_above: Some(0.075), ..whole };
        assert_eq!(crate::train::LevelLog::union(e(", rho_throughout: true").level_log(), Some(stop)), Some(whole));
    }
}
