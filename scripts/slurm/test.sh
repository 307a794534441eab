#!/usr/bin/env bash
# The Slurm scripts against a real Slurm: starts a one-node cluster on this
# machine (scripts/slurm/local-cluster.sh; installs Debian's slurm-wlm and
# munge where missing), submits the small claims of scripts/slurm/test-claims
# through scripts/slurm/submit.sh, and checks that
#   1. the verdicts and every measured quantity equal a local verify-claims;
#   2. each planned trajectory was trained by exactly one array task;
#   3. two tasks training the same run at once leave one consistent cached run.
# Ends with "N passed, N failed". Needs root (the daemons run as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/scripts/slurm
work=$(mktemp -d /tmp/lockin-slurm-test.XXXXXX)
export LOCKIN_SLURM_DIR=$work/cluster SLURM_CONF=$work/cluster/slurm.conf
trap '"$here/local-cluster.sh" stop >/dev/null 2>&1 || true' EXIT
passed=0 failed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then echo "ok: $1"; passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}

"$here/local-cluster.sh" start
# All targets, as `cargo test` and submit.sh build them (submit.sh says why).
(cd "$root" && cargo build --quiet --all-targets)
xtask=$root/target/debug/xtask
claims=(--claims-dir "$here/test-claims" --tier quick)

echo "== local verification (reference)"
"$xtask" verify-claims "${claims[@]}" --cache "$work/local-cache" --results "$work/local.json" \
  --report "$work/local-report" > "$work/local.out" 2> "$work/local.err"
tail -n 1 "$work/local.out"

echo "== the same claims on Slurm"
start=$(date +%s)
LOCKIN_CACHE=$work/shared-cache LOCKIN_OUT=$work/slurm LOCKIN_WAIT=1 "$here/submit.sh" "${claims[@]}"
echo "slurm: $(( $(date +%s) - start )) s from submission to report"
planned=$(grep -c . "$work/slurm/plan.jsonl")
trained=$(cat "$work/slurm"/train-*.out | grep -c '^trained ' || true)
keys_trained=$(cat "$work/slurm"/train-*.out | awk '/^trained /{print $2}' | sort | uniq -d | wc -l)
echo "slurm: $planned trajectories planned, $trained trained, $keys_trained trained twice; $(tail -n 1 "$work/slurm/report.out")"

same_results() {
  python3 - "$work/local.json" "$work/slurm/results.json" <<'PY'
import json, sys
def load(p):
    return {c["id"]: (c["verdict"], c["measurement"]["quantities"]) for c in json.load(open(p))["claims"]}
local, slurm = load(sys.argv[1]), load(sys.argv[2])
for cid in sorted(set(local) | set(slurm)):
    print(f"  {cid}: local {local.get(cid, ('missing',))[0]}, slurm {slurm.get(cid, ('missing',))[0]}")
sys.exit(0 if local == slurm else 1)
PY
}
check "verdicts and quantities equal the local run" same_results
check "every planned trajectory trained exactly once ($trained of $planned)" test "$trained" -eq "$planned" -a "$keys_trained" -eq 0
check "all claims pass on Slurm" grep -q '^[0-9]* passed, 0 failed$' "$work/slurm/report.out"

echo "== two tasks train one run at once"
first=$(head -n 1 "$work/slurm/plan.jsonl")
printf '%s\n%s\n' "$first" "${first/\"index\":0/\"index\":1}" > "$work/twice.jsonl"
LOCKIN_XTASK=$xtask LOCKIN_PLAN=$work/twice.jsonl LOCKIN_CACHE=$work/race-cache \
  sbatch --wait --quiet --array=0-1 --output="$work/twice-%a.out" "$here/train.sbatch"
cat "$work"/twice-*.out | sed 's/^/  /'
runs=$(find "$work/race-cache/runs" -mindepth 1 -maxdepth 1 | wc -l)
windows=$(python3 -c 'import json, sys; print(1 + len(json.loads(sys.argv[1]).get("other_windows", [])))' "$first")
leftovers=$(find "$work/race-cache/staging" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
check "one cached run per window, no staging left ($runs runs of $windows windows, $leftovers staging)" \
  test "$runs" -eq "$windows" -a "$leftovers" -eq 0
recheck() { "$xtask" train-planned "$work/twice.jsonl" --index 0 --cache "$work/race-cache" | grep -q '^cached '; }
check "the cached run loads, its file hashes verify, nothing is retrained" recheck
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
