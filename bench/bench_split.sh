#!/usr/bin/env bash
# bench_split.sh — what running each job's router in a process of its own costs: every built-in
# router over the demo dataset through `rbd-worker --job` (as rbd runs it), with the worker of
# BEFORE (a build of the tree before the split) and of AFTER, plus `rbctl run` (one process in
# both) for reference. Each figure is the best of REPEATS wall-clock runs. It also checks that
# AFTER's worker results equal its `rbctl run` results byte for byte, "timing" aside.
#
# usage: bench/bench_split.sh BEFORE_BUILD [AFTER_BUILD (default: build)] [REPEATS (default: 3)]
#   e.g. git archive HEAD | tar -x -C /tmp/before && meson setup /tmp/before/build /tmp/before
#        && ninja -C /tmp/before/build && bench/bench_split.sh /tmp/before/build build-split10
set -euo pipefail
BEFORE=${1:?usage: bench_split.sh BEFORE_BUILD [AFTER_BUILD] [REPEATS]}
AFTER=${2:-build}
REPEATS=${3:-3}
WORK=$(mktemp -d /tmp/bench_split.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DATA=${RB_BENCH_DATA:-/tmp/bench_split/demo.rbds}  # named demo: the worker names it so
mkdir -p "$(dirname "$DATA")"
[ -f "$DATA" ] || "$AFTER/rbctl" gen --preset routerbench --seed 1 -o "$DATA" --quiet

routers=(single random knn linear mlp cascade)
settings() { [ "$1" = single ] && echo '"model=gpt-4-1106-preview"' || true; }

# The job message rbd would send for router $2 of build $1.
job() {
	printf '{"dataset_name":"demo","plugin":"%s/plugins/%s.so","job":{"dataset":"demo","router":"%s","settings":[%s]}}' \
		"$(realpath "$1")" "$2" "$2" "$(settings "$2")"
}

now() { date +%s.%N; }

# Seconds of the best of REPEATS runs of "$@" (output to $WORK/out).
best_of() {
	local best=""
	for _ in $(seq "$REPEATS"); do
		local t0 t1
		t0=$(now)
		"$@" > "$WORK/out"
		t1=$(now)
		best=$(python3 -c "import sys; a=float(sys.argv[1]); b=sys.argv[2]; print(a if not b else min(a, float(b)))" \
			"$(echo "$t1 - $t0" | bc)" "$best")
	done
	echo "$best"
}

worker_run() { job "$1" "$2" | "$1/rbd-worker" --job 3<"$DATA"; }
rbctl_run() {
	local args=()
	[ "$2" = single ] && args=(--set model=gpt-4-1106-preview)
	"$1/rbctl" run --dataset "$DATA" --router "$2" "${args[@]}" --json
}

# The last message of a worker's output, its "result" (or the whole message), minus timing.
worker_result() {
	python3 -c '
import json, sys
msgs = [m for m in open(sys.argv[1], "rb").read().split(b"\0") if m]
last = json.loads(msgs[-1])
r = last.get("result", last); r.pop("timing", None)
print(json.dumps(r, sort_keys=True))' "$1"
}
run_result() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("timing",None); print(json.dumps(r, sort_keys=True))' "$1"; }

printf '%-8s %12s %12s %8s %12s %s\n' router "worker before" "worker after" ratio "rbctl run" "worker = rbctl run"
tb=0; ta=0; tr=0
for r in "${routers[@]}"; do
	b=$(best_of worker_run "$BEFORE" "$r")
	a=$(best_of worker_run "$AFTER" "$r")
	worker_result "$WORK/out" > "$WORK/worker.json"
	c=$(best_of rbctl_run "$AFTER" "$r")
	run_result "$WORK/out" > "$WORK/run.json"
	same=$(cmp -s "$WORK/worker.json" "$WORK/run.json" && echo identical || echo DIFFERENT)
	printf '%-8s %11.3fs %11.3fs %7.2fx %11.3fs %s\n' "$r" "$b" "$a" "$(echo "$a / $b" | bc -l)" "$c" "$same"
	tb=$(echo "$tb + $b" | bc); ta=$(echo "$ta + $a" | bc); tr=$(echo "$tr + $c" | bc)
done
printf '%-8s %11.3fs %11.3fs %7.2fx %11.3fs\n' total "$tb" "$ta" "$(echo "$ta / $tb" | bc -l)" "$tr"
