#!/usr/bin/env bash
# bench_import.sh — time `rbctl import` of the six real RouterBench CSVs: min/median wall, peak RSS.
#
#   bench/bench_import.sh [BUILD_DIR]   (default: build in the source tree; set up and built if needed)
#
# RUNS (default 5) sets the number of timed runs. Needs ../shared/data/routerbench-routerdc
# beside the source tree (or RB_REAL_DATA_DIR); skips with a message when it is absent.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
data=${RB_REAL_DATA_DIR:-$src/../shared/data/routerbench-routerdc}
runs=${RUNS:-5}

if [[ ! -d $data ]]; then
	echo "bench_import: skipped: the real RouterBench data folder is absent: $data"
	exit 0
fi
shopt -s nullglob
files=("$data"/*.csv)
if (( ${#files[@]} == 0 )); then
	echo "bench_import: skipped: no CSV files in $data"
	exit 0
fi

if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" "$src" >/dev/null
fi
meson compile -C "$build" rbctl >/dev/null
rbctl=$build/rbctl

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/bench.rbds
bytes=$(cat "${files[@]}" | wc -c)

# Peak RSS from GNU time -v when present, else from python3's getrusage of the child.
gnu_time=""
if command -v /usr/bin/time >/dev/null && /usr/bin/time -v true >/dev/null 2>&1; then
	gnu_time=/usr/bin/time
fi
have_python=""
if command -v python3 >/dev/null; then
	have_python=1
fi

now_ns() { date +%s%N; }

# Wall time of plain runs; the peak RSS from one more run under a meter, so metering costs no
# time in the figures.
walls=()
for ((i = 1; i <= runs; i++)); do
	rm -f "$out"
	t0=$(now_ns)
	"$rbctl" import --quiet "${files[@]}" -o "$out"
	t1=$(now_ns)
	walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")
done
peak_kb=""
rm -f "$out"
if [[ -n $gnu_time ]]; then
	"$gnu_time" -v -o "$tmp/time.txt" "$rbctl" import --quiet "${files[@]}" -o "$out"
	peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
elif [[ -n $have_python ]]; then
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$rbctl" import --quiet "${files[@]}" -o "$out" >"$tmp/rss.txt"
	peak_kb=$(cat "$tmp/rss.txt")
fi

sorted=($(printf '%s\n' "${walls[@]}" | sort -g))
min=${sorted[0]}
median=${sorted[$(( ${#sorted[@]} / 2 ))]}
echo "bench_import: ${#files[@]} files, $bytes bytes, $runs runs of rbctl import (write included)"
echo "  wall seconds: min $min, median $median (all: ${walls[*]})"
if [[ -n $peak_kb ]]; then
	echo "  peak RSS: $(( peak_kb / 1024 )) MiB ($peak_kb KiB)"
else
	echo "  peak RSS: not measured (neither /usr/bin/time -v nor python3 is available)"
fi
"$rbctl" import "${files[@]}" -o "$out"
