#!/usr/bin/env bash
# bench_run.sh — wall time and peak memory of `rbctl run` on the demo dataset (every built-in
# router) and of `random` on a 1,000,000 × 64 synthetic dataset.
# Usage: bench/bench_run.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, /tmp/rb-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/rb-bench}
rbctl=$build/rbctl
mkdir -p "$work"
[ -x "$rbctl" ] || { meson setup "$build" >/dev/null && meson compile -C "$build" >/dev/null; }

runs=3
measure() { # label, command...: best of $runs wall seconds and peak RSS of the last run
  local label=$1; shift
  local best=999999 rss=0
  for _ in $(seq "$runs"); do
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$( { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -n1 )
    t1=$(date +%s.%N)
    best=$(echo "$t1 - $t0" | bc -l | awk -v b="$best" '{print ($1 < b) ? $1 : b}')
    rss=$out
  done
  printf '%-48s %8.3f s  %8.1f MiB peak RSS\n' "$label" "$best" "$(echo "$rss / 1024" | bc -l)"
}

command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }
command -v bc >/dev/null || { echo "bench: bc missing (apt-get install bc)"; exit 1; }

[ -f "$work/demo.rbds" ] || "$rbctl" gen --preset routerbench --seed 1 -o "$work/demo.rbds" --quiet
echo "demo dataset: $(stat -c %s "$work/demo.rbds") bytes"
for so in "$build"/plugins/*.so; do
  r=$(basename "$so" .so)
  args=()
  [ "$r" = single ] && args=(--set model=gpt-4-1106-preview)
  measure "run $r on demo (~35k x 11)" "$rbctl" run --dataset "$work/demo.rbds" --router "$r" "${args[@]}" --json
  "$rbctl" run --dataset "$work/demo.rbds" --router "$r" "${args[@]}" --json |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["timing"]; print("    engine: fit %.4f s, route %.4f s, total %.4f s" % (t["fit_seconds"], t["route_seconds"], t["total_seconds"]))'
done

if [ "${RB_BENCH_BIG:-1}" = 1 ]; then
  [ -f "$work/big.rbds" ] || runs=1 measure "gen 1,000,000 x 64" "$rbctl" gen --prompts 1000000 --models 64 --tasks 8 --seed 1 -o "$work/big.rbds" --quiet
  echo "big dataset: $(stat -c %s "$work/big.rbds") bytes"
  measure "run random on 1,000,000 x 64" "$rbctl" run --dataset "$work/big.rbds" --router random --json
fi
