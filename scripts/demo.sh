#!/usr/bin/env bash
# demo.sh — install what is missing, build, generate the calibrated demo dataset and evaluate
# every built-in router on it, printing a per-task table for each.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
mkdir -p demo
[ -f demo/demo.rbds ] || ./build/rbctl gen --preset routerbench --seed 1 -o demo/demo.rbds
./build/rbctl info demo/demo.rbds
for so in build/plugins/*.so; do
  router=$(basename "$so" .so)
  args=()
  [ "$router" = single ] && args=(--set model=gpt-4-1106-preview)
  echo
  ./build/rbctl run --dataset demo/demo.rbds --router "$router" "${args[@]}"
done
