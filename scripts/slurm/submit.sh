#!/usr/bin/env bash
# Verify claims on a Slurm cluster: one array task per run the claims need
# and the cache lacks, then a dependent job that judges every claim from the
# cache and writes the results and the report.
#
#   scripts/slurm/submit.sh [selection options]      e.g. --tier paper --claim 'C3*'
#
# Environment:
#   LOCKIN_CACHE        run cache on a file system every node sees (default target/lockin/cache)
#   LOCKIN_OUT          plan, logs, results.json and report/ (default target/lockin/slurm/DATE)
#   LOCKIN_SBATCH_ARGS  extra sbatch options for every job, e.g. "--partition=gpu --gres=gpu:1"
#   LOCKIN_FEATURES     cargo features of the build, e.g. "wgpu" (with --backend wgpu)
#   LOCKIN_WAIT=1       wait for the report job and exit with its status
#
# The build happens here, on the submitting node, into target/ (which the
# nodes must see too).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/scripts/slurm
cache=$(realpath -m "${LOCKIN_CACHE:-$root/target/lockin/cache}")
out=$(realpath -m "${LOCKIN_OUT:-$root/target/lockin/slurm/$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$out" "$cache"
# shellcheck disable=SC2206 # word splitting of the extra options is intended
extra=(${LOCKIN_SBATCH_ARGS:-})

# All targets, as `cargo test` builds them: one build serves the tests and
# the cluster (a build of xtask alone resolves the crates' features without
# the dev-dependencies, and so builds every crate again).
(cd "$root" && cargo build --quiet --all-targets ${LOCKIN_FEATURES:+--features "$LOCKIN_FEATURES"})
export LOCKIN_XTASK=$root/target/debug/xtask LOCKIN_PLAN=$out/plan.jsonl LOCKIN_CACHE=$cache

"$LOCKIN_XTASK" plan "$LOCKIN_PLAN" --cache "$cache" "$@"
runs=$(grep -c . "$LOCKIN_PLAN" || true)
dependency=()
if [ "$runs" -gt 0 ]; then
  train=$(sbatch --parsable "${extra[@]}" --array="0-$((runs - 1))" --output="$out/train-%a.out" "$here/train.sbatch")
  echo "submitted training array $train: $runs runs"
  dependency=(--dependency="afterany:${train%%;*}")
fi
wait=()
[ "${LOCKIN_WAIT:-0}" = 1 ] && wait=(--wait)
echo "report job: results $out/results.json, report $out/report/REPORT.md"
sbatch --parsable "${extra[@]}" "${dependency[@]}" "${wait[@]}" --output="$out/report.out" "$here/report.sbatch" \
  --results "$out/results.json" --report "$out/report" "$@"
