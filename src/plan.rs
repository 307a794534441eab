//! Plan files: the runs a verification needs and the cache lacks, one JSON
//! object per line, so that a batch system trains them one task each
//! (README, "On a Slurm cluster"; `scripts/slurm/`).
//!
//! A line is `{"index": I, "key": KEY, "flop": F, "spec": TrainSpec}`: line
//! I (0-based) trains the run whose cache key is KEY. The key is recomputed
//! on reading, so a plan from another version of lockin is refused rather
//! than trained under the wrong name.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, Trajectory, cache_key};
use crate::say;
use crate::train::TrainSpec;
use crate::train::limits::run_flop;

/// One planned run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// Its line, from 0 (a Slurm array task id).
    pub index: usize,
    /// The cache key it is trained under.
    pub key: String,
    /// Its cost by the FLOP model of docs/methods.md, "Limits".
    pub flop: f64,
    /// What to train (checkpoints and level log included).
    pub spec: TrainSpec,
    /// The windows logged besides `spec.window` in the same pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_windows: Vec<usize>,
}

impl PlanEntry {
    /// The trajectory it trains.
    pub fn trajectory(&self) -> Trajectory {
        let mut windows = vec![self.spec.window];
        windows.extend(&self.other_windows);
        Trajectory { spec: self.spec.clone(), windows }
    }
}

/// Write `trajectories` as a plan file at `path` (atomically: a reader never sees half a plan).
pub fn write(path: &Path, trajectories: &[Trajectory]) -> anyhow::Result<Vec<PlanEntry>> {
    let entries: Vec<PlanEntry> = trajectories
        .iter()
        .enumerate()
        .map(|(index, t)| PlanEntry {
            index,
            key: cache_key(&t.spec),
            flop: run_flop(&t.spec),
            spec: t.spec.clone(),
            other_windows: t.windows[1..].to_vec(),
        })
        .collect();
    let mut text = Vec::new();
    for e in &entries {
        serde_json::to_writer(&mut text, e)?;
        writeln!(text)?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::files::write_atomic(path, &text).with_context(|| format!("writing {}", path.display()))?;
    Ok(entries)
}

/// Entry `index` of the plan at `path`, checked: its line parses, says its
/// own index, and its key is the one this build computes for its spec.
pub fn entry(path: &Path, index: usize) -> anyhow::Result<PlanEntry> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading plan {}", path.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some(line) = lines.get(index) else {
        bail!(
            "{}: --index {index} is past the plan's {} runs (indices 0..{})",
            path.display(),
            lines.len(),
            lines.len()
        );
    };
    let at = format!("{}:{}", path.display(), index + 1);
    let entry: PlanEntry = serde_json::from_str(line).with_context(|| format!("{at}: not a plan entry"))?;
    if entry.index != index {
        bail!("{at}: index: the line says {}, expected {index} (was the plan edited?)", entry.index);
    }
    if let Err(problem) = entry.spec.validate() {
        bail!("{at}: spec.{}: {}", problem.field, problem.message);
    }
    check_other_windows(&entry).map_err(|why| anyhow::anyhow!("{at}: other_windows: {why}"))?;
    let key = cache_key(&entry.spec);
    if key != entry.key {
        bail!("{at}: key: the plan says {}, this build computes {key} (written by another version?)", entry.key);
    }
    Ok(entry)
}

/// Most windows one planned run logs besides its own.
pub const MAX_OTHER_WINDOWS: usize = 64;

/// The other windows of a plan line, which its key does not cover: each a
/// window the spec could have (1..=epochs), none twice nor the spec's own,
/// at most [`MAX_OTHER_WINDOWS`], and all of them within the memory limit.
fn check_other_windows(entry: &PlanEntry) -> Result<(), String> {
    let others = &entry.other_windows;
    if others.len() > MAX_OTHER_WINDOWS {
        return Err(format!("{} windows; at most {MAX_OTHER_WINDOWS}", others.len()));
    }
    for (i, &window) in others.iter().enumerate() {
        let spec = TrainSpec { window, ..entry.spec.clone() };
        spec.validate().map_err(|p| format!("{window}: {}", p.message))?;
        if window == entry.spec.window || others[..i].contains(&window) {
            return Err(format!("{window} is asked for twice"));
        }
    }
    let mut windows = vec![entry.spec.window];
    windows.extend(others);
    let bytes = crate::train::limits::peak_bytes(&entry.spec, &windows);
    if bytes > 2.0 * crate::train::limits::MAX_ACTIVATION_BYTES {
        return Err(format!("the windows would hold ~{:.0} GiB", bytes / (1u64 << 30) as f64));
    }
    Ok(())
}

/// What [`train_entry`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trained {
    /// Trained and published by this process.
    Published,
    /// Already complete in the cache (or published first by another task
    /// while this one trained; its copy was then discarded).
    AlreadyCached,
}

/// Train one plan entry into `cache` (nothing if it is already there).
pub fn train_entry(cache: &Cache, entry: &PlanEntry) -> anyhow::Result<Trained> {
    entry.spec.backend.check_built()?;
    let trained = cache.get_or_train(&entry.trajectory(), &mut |_| {})?;
    let run = cache.check(&entry.spec)?;
    if let Some(epoch) = run.summary.diverged_at {
        say!("{}: diverged at epoch {epoch} (a recorded outcome, not an error)", entry.key);
    }
    if let Some(epoch) = run.summary.collapsed_at {
        say!("{}: collapsed to zero output at epoch {epoch} (a recorded outcome, not an error)", entry.key);
    }
    Ok(if trained { Trained::Published } else { Trained::AlreadyCached })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> TrainSpec {
        TrainSpec { modulus: 7, width: 8, epochs: 6, window: 3, seed, ..TrainSpec::default() }
    }

    #[test]
    fn a_plan_round_trips_and_refuses_what_it_cannot_trust() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.jsonl");
        let written = write(&path, &[Trajectory::of(&spec(0)), Trajectory::of(&spec(1))]).unwrap();
        assert_eq!(entry(&path, 1).unwrap(), written[1]);
        assert!(entry(&path, 2).unwrap_err().to_string().contains("past the plan's 2 runs"));

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen(&written[0].key, "sqr-flex-other", 1)).unwrap();
        assert!(format!("{:#}", entry(&path, 0).unwrap_err()).contains(":1: key:"));
        std::fs::write(&path, text.replacen("\"modulus\":7", "\"modulus\":1", 1)).unwrap();
        assert!(format!("{:#}", entry(&path, 0).unwrap_err()).contains("spec.modulus"));
        std::fs::write(&path, "{not json\n").unwrap();
        assert!(format!("{:#}", entry(&path, 0).unwrap_err()).contains(":1: not a plan entry"));
    }

    /// B15: `"other_windows":[0]` panicked the trainer and `[4000000000]`
    /// asked for 96 GB: the key does not cover the field, so it is checked.
    #[test]
    fn other_windows_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.jsonl");
        write(&path, &[Trajectory { spec: spec(0), windows: vec![3, 2] }]).unwrap();
        assert_eq!(entry(&path, 0).unwrap().other_windows, [2]);
        let text = std::fs::read_to_string(&path).unwrap();
        for (bad, why) in [("[0]", "0: "), ("[4000000000]", "4000000000: "), ("[3]", "twice"), ("[2,2]", "twice")] {
            std::fs::write(&path, text.replacen("\"other_windows\":[2]", &format!("\"other_windows\":{bad}"), 1))
                .unwrap();
            let err = format!("{:#}", entry(&path, 0).unwrap_err());
            assert!(err.contains(":1: other_windows: ") && err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn an_entry_is_trained_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let plan = write(&dir.path().join("plan.jsonl"), &[Trajectory::of(&spec(3))]).unwrap();
        assert_eq!(train_entry(&cache, &plan[0]).unwrap(), Trained::Published);
        assert_eq!(train_entry(&cache, &plan[0]).unwrap(), Trained::AlreadyCached);
        assert!(cache.lookup(&plan[0].spec).is_some());
    }
}
