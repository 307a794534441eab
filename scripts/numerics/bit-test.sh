#!/usr/bin/env bash
# The same bits on every CPU (docs/methods.md, "Numerics scheme"): small runs
# of both activations (M = 23, K = 256, 50 epochs, ρ every epoch, Theorem 6
# at epochs 25 and 50), and one whose weights decay into the subnormal range
# (M = 11, K = 32, x², η = 0.05, lr = 0.1, 600 epochs through its collapse at
# epoch 104: flushing them to zero changes its log from epoch 498, which the
# script checks; at K = 256 and M = 23 it took 226 of the bit test's seconds
# under qemu's Haswell alone), and one tiny run (M = 11,
# K = 64, 30 epochs) each of AdamW, SGD with momentum, cross-entropy and
# label noise, made natively and then
#   - on each kernel path this CPU runs (LOCKIN_KERNELS=avx512/avx2/scalar),
#   - under Debian's qemu-user as a CPU without AVX-512 (-cpu Haswell) and
#     one without AVX/FMA (-cpu Nehalem, where FMA is done in software),
#   - on one CPU (taskset -c 0),
#   - with other cache sizes in /sys (a private mount namespace, where root),
# and every output file compared byte for byte with the native run.
# Usage: scripts/numerics/bit-test.sh [LOCKIN_BINARY]   (default: builds target/debug/lockin
# with every target, as `cargo test` builds it, so that after `cargo test` nothing is built again)
# Installs qemu-user where missing (Debian). Exits 1 if any file differs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-}
if [[ -z $bin ]]; then
  # All targets: `cargo test` resolves the crates' features with the
  # dev-dependencies, and a `cargo build --bin lockin` without them would
  # build every crate again (about 6 minutes of CI on 2 cores).
  cargo build --quiet --all-targets
  bin=target/debug/lockin
fi
bin=$(realpath "$bin")
if ! command -v qemu-x86_64 >/dev/null 2>&1 && [[ $(uname -m) == x86_64 ]]; then
  echo "bit-test: installing qemu-user" >&2
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq qemu-user >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq qemu-user >/dev/null; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# qemu's notes on CPU features its emulator leaves out.
quiet_qemu() { grep -v "TCG doesn't support requested feature" || true; }

# One variant: run both activations with `prefix` (a command line prefix, may
# be empty) and extra environment; normalise away the wall time.
variant() {
  local name=$1; shift
  local out=$work/$name
  mkdir -p "$out"
  for act in sqr relu; do
    env "$@" "$bin" run --activation "$act" --modulus 23 --width 256 --epochs 50 --window 10 \
      --checkpoints 25,50 --level-until 50 --quiet --out "$out/$act" >"$out/$act.stdout" 2> >(quiet_qemu >&2)
    env "$@" "$bin" theorem6 --run "$out/$act" --epochs 25,50 --pairs 20 >"$out/$act.theorem6" 2> >(quiet_qemu >&2)
    # Every figure but the wall times (the run's and its epochs').
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); [s.pop(k, None) for k in ("wall_seconds", "epoch_times")]; print(json.dumps(s, indent=1))' \
      "$out/$act/summary.json" >"$out/$act/summary.figures"
    rm "$out/$act/summary.json" "$out/$act/DONE"
    printf '%-12s %-5s %s\n' "$name" "$act" "$(grep '^numerics' "$out/$act.stdout")"
    rm "$out/$act.stdout"
  done
  env "$@" "$bin" run --modulus 11 --width 32 --epochs 600 --window 10 --eta 0.05 --lr 0.1 --through-collapse \
    --quiet --out "$out/decay" >/dev/null 2>&1 || true
  rm "$out/decay/summary.json" "$out/decay/DONE"
  # One tiny run of each other optimiser, of cross-entropy and of label noise
  # (docs/methods.md, "Optimisers", "Losses", "Label noise").
  local training run
  for training in "adamw:--optimizer adamw --eta 0.5" "sgd:--optimizer sgd --momentum 0.9 --lr 0.05" \
    "cross-entropy:--loss cross_entropy" "label-noise:--label-noise 0.2"; do
    run=$out/${training%%:*}
    # shellcheck disable=SC2086  # the flags split into words
    env "$@" "$bin" run --modulus 11 --width 64 --epochs 30 --window 5 ${training#*:} --quiet --out "$run" \
      >/dev/null 2> >(quiet_qemu >&2)
    rm "$run/summary.json" "$run/DONE"
  done
}

variant native
status=0
"$bin" run --modulus 11 --width 32 --epochs 600 --window 10 --eta 0.05 --lr 0.1 --through-collapse \
  --ieee-subnormals --quiet --out "$work/ieee" >/dev/null 2>&1 || true
if cmp -s "$work/native/decay/metrics.csv" "$work/ieee/metrics.csv"; then
  echo "decay: flushing subnormals changed nothing, so the runs do not exercise it"; status=1
else
  echo "decay: its log with IEEE subnormals differs from the canonical (flushed) one, as it must"
fi
rm -rf "$work/ieee"
compare() {
  if diff -r -q "$work/native" "$work/$1" >/dev/null; then
    echo "$1: every file identical to the native run"
  else
    echo "$1: DIFFERS from the native run:"
    diff -r -q "$work/native" "$work/$1" | sed 's/^/  /' || true
    status=1
  fi
}
for path in avx512 avx2 scalar; do
  variant "path-$path" LOCKIN_KERNELS=$path
  ran=$(LOCKIN_KERNELS=$path "$bin" run --modulus 5 --width 4 --epochs 1 --window 1 --quiet \
    --out "$work/probe-$path" | grep -o 'kernels: [a-z0-9]*')
  if [[ $ran != "kernels: $path" ]]; then
    echo "path-$path: this CPU cannot run $path; the runs above used the best path it has ($ran)"
  fi
  rm -rf "$work/probe-$path"
  compare "path-$path"
done
if command -v qemu-x86_64 >/dev/null 2>&1; then
  for cpu in Haswell Nehalem; do
    variant "qemu-$cpu" QEMU_CPU=$cpu qemu-x86_64
    compare "qemu-$cpu"
  done
else
  echo "qemu-x86_64 missing: emulated CPUs not tested"; status=1
fi
variant one-cpu taskset -c 0
compare one-cpu
if [[ $(id -u) == 0 ]] && unshare -m true 2>/dev/null; then
  # Other cache sizes, in a private namespace: L1 16K, L2 256K, L3 4096K
  # (this machine's are larger).
  mounts=""
  for f in /sys/devices/system/cpu/cpu*/cache/index*/size; do
    case $f in */index0/*|*/index1/*) size=16K ;; */index2/*) size=256K ;; *) size=4096K ;; esac
    echo "$size" >"$work/size-$size"
    mounts+="mount --bind $work/size-$size $f; "
  done
  mkdir -p "$work/caches"
  unshare -m bash -c "$mounts $(declare -f quiet_qemu); cat /sys/devices/system/cpu/cpu0/cache/index2/size >$work/caches/seen; \
    $(declare -f variant); work=$work bin=$bin; variant small-caches"
  echo "small-caches: /sys reported L2 = $(cat "$work/caches/seen")"
  rm -r "$work/caches"
  compare small-caches
else
  echo "not root or no unshare: cache sizes not varied"
fi
exit $status
