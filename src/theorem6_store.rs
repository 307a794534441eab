//! Theorem-6 results stored beside the checkpoint they were computed from
//! (docs/methods.md, "The cache"): computed once per checkpoint, pairs and
//! code version, and trusted only while all three match.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::files::{read_text, write_atomic};
use crate::probes::theorem6::{self, SignRule};
use crate::runs::{Run, checkpoint_name, hash_hex};

/// A Theorem-6 result as stored beside its checkpoint: which code computed
/// it from which checkpoint bytes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredSignRule {
    version: u32,
    checkpoint_hash: String,
    /// Hash of `result`'s JSON: an edited or damaged result is recomputed.
    result_hash: String,
    result: SignRule,
}

/// The hash a stored result must carry.
fn result_hash(result: &SignRule) -> String {
    hash_hex(&serde_json::to_vec(result).expect("a SignRule serialises"))
}

/// Theorem 6 (docs/methods.md) on a run's checkpoint, cached in the run
/// directory as `theorem6-vV-eNNNN-pP.json`. A result is reused only if
/// [`theorem6::VERSION`] and the checkpoint's hash match; it is written
/// atomically, and not at all where the directory is read-only.
pub fn sign_rule(run: &Run, epoch: usize, pairs: usize) -> anyhow::Result<SignRule> {
    let name = format!("theorem6-v{}-e{epoch:04}-p{pairs}.json", theorem6::VERSION);
    let path = run.dir.join(name);
    let manifest = Run::manifest(&run.dir)?;
    let checkpoint_hash = manifest.files.get(&checkpoint_name(epoch)).cloned().unwrap_or_default();
    let stored = read_text(&path).ok().and_then(|t| serde_json::from_str::<StoredSignRule>(&t).ok());
    let trusted = |s: &StoredSignRule| {
        s.version == theorem6::VERSION
            && s.checkpoint_hash == checkpoint_hash
            && s.result_hash == result_hash(&s.result)
    };
    if let Some(s) = stored.filter(trusted) {
        return Ok(s.result);
    }
    let result = sign_rule_of_checkpoint(run, epoch, pairs)?;
    let stored =
        StoredSignRule { version: theorem6::VERSION, checkpoint_hash, result_hash: result_hash(&result), result };
    let _ = write_atomic(&path, &serde_json::to_vec_pretty(&stored)?); // a read-only cache still answers
    Ok(stored.result)
}

/// Theorem 6 on the checkpoint at `epoch` of `run` (no cache).
pub fn sign_rule_of_checkpoint(run: &Run, epoch: usize, pairs: usize) -> anyhow::Result<SignRule> {
    let file = run.checkpoint(epoch)?;
    let split = file.split.unwrap_or_else(|| run.spec.seeded_start().split);
    let features = run.spec.shape().features_f64(&file.weights.w, &split.train);
    theorem6::sign_rule(&features, run.spec.eta, pairs)
        .with_context(|| format!("{}: Theorem 6 is undefined at epoch {epoch}", run.dir.display()))
}
