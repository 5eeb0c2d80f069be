#!/usr/bin/env bash
# test.sh — install what is missing, build with warnings as errors (also as a release build and
# with clang, compiled only: their optimisers and warnings differ), run the whole Criterion suite;
# then the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

# Sum Criterion's per-suite synthesis lines of a meson test log.
tally() {
  grep -ho 'Synthesis: Tested: [0-9]* | Passing: [0-9]* | Failing: [0-9]* | Crashing: [0-9]*' "$1" |
    awk '{p += $6; f += $9 + $12} END {printf "%d %d\n", p, f}'
}

[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build
# Only compiled, not tested again: they are here so a warning GCC -O3 or clang finds cannot come back.
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release --werror >/dev/null
meson compile -C build-release
[ -f build-clang/build.ninja ] || CC=clang meson setup build-clang --werror >/dev/null
meson compile -C build-clang
meson test -C build --print-errorlogs --num-processes 2
read -r passed failed < <(tally build/meson-logs/testlog.txt)
if [ "${RB_SKIP_SANITIZERS:-0}" != 1 ]; then
  [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  meson compile -C build-asan
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4
  read -r p2 f2 < <(tally build-asan/meson-logs/testlog.txt)
  passed=$((passed + p2))
  failed=$((failed + f2))
fi
echo "criterion: $passed passed, $failed failed"
