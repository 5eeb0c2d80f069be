#!/usr/bin/env bash
# bench_gen.sh — wall time, peak RSS and file size of `rbctl gen`: the calibrated routerbench demo
# and a 1,000,000 × 64 synthetic dataset (7 tasks).
# Usage: bench/bench_gen.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, a fresh temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rbctl=$build/rbctl
[ -x "$rbctl" ] || { [ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null; meson compile -C "$build" >/dev/null; }
if [ -n "${2:-}" ]; then
  work=$2
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/rb-bench-gen.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

# Runs one command and prints "<wall seconds> <peak RSS KiB>"; python3's rusage serves when the
# `time` package is not installed.
measure() {
  if [ -x /usr/bin/time ]; then
    local t0 t1 rssfile
    rssfile=$(mktemp)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$rssfile" "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v r="$(tail -n1 "$rssfile")" 'BEGIN { printf "%.3f %d\n", b - a, r }'
    rm -f "$rssfile"
  else
    python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("%.3f %d" % (time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
  fi
}

run() { # label, output file, rbctl gen arguments...
  local label=$1 out=$2; shift 2
  read -r wall rss < <(measure "$rbctl" gen "$@" -q -o "$out")
  local size
  size=$(stat -c %s "$out")
  printf '%-44s %8.2f s  %8.1f MiB peak RSS  %10.1f MiB file\n' "$label" "$wall" \
    "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')"
  rm -f "$out"
}

echo "rbctl gen on $(nproc) cores, build dir $build"
run "routerbench demo (34,778 x 11)" "$work/demo.rbds" --preset routerbench --seed 1
run "routerbench demo with --responses" "$work/demo-r.rbds" --preset routerbench --seed 1 --responses
run "synthetic 1,000,000 x 64 x 7" "$work/big.rbds" --prompts 1000000 --models 64 --tasks 7 --seed 1
